# Shared by test.sh and cluster.sh: install and start what PgAutoFailover needs on a Debian
# machine (RabbitMQ from Debian, PostgreSQL 15), idempotently. Source it; needs root for apt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

pgaf_t0=$SECONDS
say() { echo "[pgaf +$((SECONDS - pgaf_t0))s] $*" >&2; }

# ensure_packages [COMMAND...]: RabbitMQ, PostgreSQL 15 and the .NET SDK, plus the Debian packages of the same
# name as the extra commands when missing (test.sh: docker-compose, which validates docker-compose.yml without an
# engine; always --no-install-recommends, below: its recommends pull in dockerd, containerd and needrestart).
ensure_packages() {
  local missing=() c
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
  # COMMAND:PACKAGE when the package is named otherwise (nft:nftables).
  for c in "$@"; do command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}"); done
  command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK is not installed (dotnet not on PATH)" >&2; exit 1; }
  if ((${#missing[@]})); then
    say "installing ${missing[*]} with apt-get"
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

amqp_open() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

# Starts the machine's RabbitMQ (with the management API, used for per-test virtual hosts) unless it
# already answers. apt does not start services here (no systemd, policy-rc.d), so we do.
# Sets PGAF_STARTED_RABBITMQ=1 when this call started it.
ensure_rabbitmq() {
  PGAF_STARTED_RABBITMQ=0
  if amqp_open; then return 0; fi
  say "starting rabbitmq-server"
  rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  service rabbitmq-server start >/dev/null
  PGAF_STARTED_RABBITMQ=1
  # ping succeeds before the AMQP listener is up: wait for the port itself.
  for _ in $(seq 1 300); do amqp_open && break; sleep 0.2; done
  amqp_open || { echo "error: RabbitMQ did not open port 5672; see /var/log/rabbitmq" >&2; exit 1; }
  say "rabbitmq ready on 127.0.0.1:5672"
}

# rabbit_api METHOD PATH [CURL ARGS...]: the local broker's management API as guest; fails when it does not answer.
rabbit_api() { curl -fsS -o /dev/null --max-time 5 -u guest:guest -X "$1" "http://127.0.0.1:15672/api$2" "${@:3}"; }

# broker_users VHOST SECRETS_DIR: one broker user per service in VHOST of the local broker, named VHOST-<service>
# (scripts/broker/definitions.sh; docs/operations.md#broker-users), each with SECRETS_DIR/<service>.url to connect
# with. Through the management API (milliseconds), else rabbitmqctl (about two seconds).
# broker_users VHOST SECRETS_DIR URL_BASE NODE: the same on another broker (a local cluster, scripts/broker/local-cluster.sh):
# the URLs on URL_BASE (amqp://HOST:PORT,HOST:PORT...), the definitions imported with rabbitmqctl on NODE.
broker_users() {
  local defs="$2/definitions.json" url_base=${3:-amqp://127.0.0.1:5672} node=${4:-}
  mkdir -p -m 700 "$2"
  bash "$(dirname "${BASH_SOURCE[0]}")/broker/definitions.sh" --vhost "$1" --user-prefix "$1-" --secrets "$2" \
    --url-base "$url_base" >"$defs"
  if [ -n "$node" ]; then
    # rabbitmqctl reads the file as the rabbitmq user, which may not enter SECRETS_DIR.
    local shared
    shared=$(mktemp /tmp/pgaf-definitions.XXXXXX)
    cp "$defs" "$shared"; chgrp rabbitmq "$shared"; chmod 640 "$shared"
    rabbitmqctl -q -n "$node" import_definitions "$shared" >/dev/null
    rm -f "$shared"
  else
    rabbit_api POST /definitions -H 'content-type: application/json' --data-binary @"$defs" 2>/dev/null ||
      rabbitmqctl -q import_definitions "$defs" >/dev/null
  fi
  rm -f "$defs"
}

# drop_broker_users VHOST: the users broker_users made (those already gone are no error).
drop_broker_users() {
  local s api=0
  rabbit_api GET /overview 2>/dev/null && api=1
  for s in monitor health-checker uri-service keeper operator events; do
    if ((api)); then curl -sS -o /dev/null --max-time 5 -u guest:guest -X DELETE "http://127.0.0.1:15672/api/users/$1-$s" || true
    else rabbitmqctl -q delete_user "$1-$s" >/dev/null 2>&1 || true; fi
  done
}
