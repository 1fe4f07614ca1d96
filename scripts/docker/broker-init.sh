#!/usr/bin/env bash
# Entry point of docker-compose.yml's broker containers, run before the image's own.
#
# The first node (`rabbitmq`): one broker user per service (scripts/broker/definitions.sh, mounted at
# /pgaf/definitions.sh; docs/operations.md#broker-users) plus the administrator RABBITMQ_USER with RABBITMQ_PASSWORD for
# people (management UI, pgaf), loaded by RabbitMQ at boot. Each service's AMQP URL goes into the volume mounted at
# /pgaf-broker/<service>, which only that service also mounts (as its RABBITMQ_URL_FILE). The services' passwords are
# made once and kept in the broker's data volume.
#
# With COMPOSE_PROFILES holding "broker-cluster" (passed in as PGAF_COMPOSE_PROFILES), three nodes form one RabbitMQ
# cluster (docs/operations.md#a-broker-cluster): the URLs list all three hosts, every node shares an Erlang cookie made
# from RABBITMQ_PASSWORD, and `rabbitmq-2` and `rabbitmq-3` (PGAF_BROKER_JOIN=rabbit@rabbitmq) join the first node at
# their first start. Quorum queues take their members when first declared, so the first node reports healthy (and the
# services, which wait for that, start) only once all three nodes run.
#
#   broker-init.sh rabbitmq-server   the container's command
#   broker-init.sh health            the container's health check
set -euo pipefail

state=/var/lib/rabbitmq/pgaf
cluster_nodes=3
cluster=0
case ",${PGAF_COMPOSE_PROFILES:-}," in *,broker-cluster,*) cluster=1 ;; esac

running_nodes() { rabbitmqctl -q eval 'length(rabbit_nodes:all_running()).' 2>/dev/null || echo 0; }

if [ "${1:-}" = health ]; then
  rabbitmq-diagnostics -q check_port_connectivity >/dev/null || exit 1
  # Once whole, the first node stays healthy with a peer down: the services' start does not wait for it again.
  if [ "$cluster" = 1 ] && [ -z "${PGAF_BROKER_JOIN:-}" ] && [ ! -f "$state/cluster-formed" ]; then
    [ "$(running_nodes)" = "$cluster_nodes" ] || { echo "waiting for $cluster_nodes broker nodes"; exit 1; }
    touch "$state/cluster-formed"
  fi
  exit 0
fi

if [ -n "${PGAF_BROKER_JOIN:-}" ] && [ "$cluster" = 0 ]; then
  # Started with `--profile broker-cluster` alone: the first node and the services would not know of this one.
  echo "error: start the broker cluster with COMPOSE_PROFILES=broker-cluster (docs/operations.md#a-broker-cluster), not --profile" >&2
  exit 2
fi

mkdir -p /etc/rabbitmq/conf.d
hosts=rabbitmq:5672
if [ "$cluster" = 1 ]; then
  hosts=rabbitmq:5672,rabbitmq-2:5672,rabbitmq-3:5672
  # The nodes of one cluster must share a cookie: one derived from the administrator's password needs no new secret.
  cookie=/var/lib/rabbitmq/.erlang.cookie
  (umask 077; printf 'pgaf%s' "$(printf 'pgaf-erlang-cookie:%s' "${RABBITMQ_DEFAULT_PASS:?}" | sha256sum | cut -c1-40)" >"$cookie")
  chown rabbitmq:rabbitmq "$cookie"
  chmod 0400 "$cookie"
  {
    # A node cut off from the majority stops serving instead of diverging (RabbitMQ's advice for 3+ nodes).
    echo "cluster_partition_handling = pause_minority"
    if [ -n "${PGAF_BROKER_JOIN:-}" ]; then
      echo "cluster_formation.peer_discovery_backend = classic_config"
      echo "cluster_formation.classic_config.nodes.1 = $PGAF_BROKER_JOIN"
    fi
  } >/etc/rabbitmq/conf.d/80-pgaf-cluster.conf
  if [ -n "${PGAF_BROKER_JOIN:-}" ] && [ ! -d "/var/lib/rabbitmq/mnesia/${RABBITMQ_NODENAME:-rabbit@$(hostname)}" ]; then
    # A new node joins a running first node; one that has been a member already finds its peers by itself (waiting
    # here for the first node would deadlock a restart where the first node waits for the last one to stop). The
    # node's own folder tells, not mnesia/: an image may ship that empty, and a node that did not wait formed a
    # cluster of its own (seen: rabbitmq-2 booted 6 s before the first node, and the first never became healthy).
    first=${PGAF_BROKER_JOIN#*@}
    echo "waiting for $first to accept connections before joining its cluster"
    until (exec 3<>"/dev/tcp/$first/5672") 2>/dev/null; do sleep 1; done
  fi
fi

if [ -z "${PGAF_BROKER_JOIN:-}" ]; then
  mkdir -p "$state"
  chmod 700 "$state"
  admin=${RABBITMQ_DEFAULT_USER:?RABBITMQ_DEFAULT_USER must be set (the administrator)}
  admin_password=$state/.admin.password
  (umask 077; printf '%s' "${RABBITMQ_DEFAULT_PASS:?RABBITMQ_DEFAULT_PASS must be set}" >"$admin_password")
  bash /pgaf/definitions.sh --vhost / --secrets "$state" --url-base "amqp://$hosts" \
    --admin "$admin" --admin-password-file "$admin_password" >"$state/definitions.json.new"
  mv "$state/definitions.json.new" "$state/definitions.json"
  rm -f "$admin_password"
  chown -R rabbitmq:rabbitmq "$state"

  for service in monitor health-checker uri-service keeper operator events; do
    # Readable inside the one container that mounts the volume, whichever user its service runs as.
    if [ -d "/pgaf-broker/$service" ]; then install -m 0444 "$state/$service.url" "/pgaf-broker/$service/url"; fi
  done
  echo "load_definitions = $state/definitions.json" >/etc/rabbitmq/conf.d/90-pgaf-definitions.conf
fi
exec docker-entrypoint.sh "$@"
