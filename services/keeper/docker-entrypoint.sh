#!/usr/bin/env bash
# Data node entrypoint: PostgreSQL 15 driven by the PgAutoFailover keeper, in one container.
#
# ASSUMPTION (the keeper is written in parallel; adjust here and only here): the keeper's command line is
#   pgaf-keeper create --pgdata DIR --port N --hostname HOST --formation F --name NAME
#                      [--candidate-priority 0..100] [--replication-quorum true|false] [--auth METHOD]
#                      --pg-bindir DIR --run
# which creates PGDATA (initdb as a first primary, or pg_basebackup as a standby) or adopts an existing one
# after a container restart, registers with the monitor over RabbitMQ (RABBITMQ_URL) and stays in the keeper
# loop. Every other setting is configuration, passed as environment variables Keeper__<Setting>
# (Keeper__ReplicationPassword, Keeper__GroupHosts__0, Keeper__HealthCheckHosts__0, ...).
set -euo pipefail

: "${RABBITMQ_URL:?RABBITMQ_URL must be set (amqp://user:password@rabbitmq:5672/)}"
export PGDATA=${PGDATA:-/var/lib/postgresql/data/pgdata}
node_name=${PGAF_NODE_NAME:-$(hostname)}
hostname=${PGAF_HOSTNAME:-$node_name}
formation=${PGAF_FORMATION:-default}
pgport=${PGAF_PGPORT:-5432}
bindir=${PGAF_PG_BINDIR:-/usr/lib/postgresql/15/bin}
keeper=${PGAF_KEEPER_BIN:-/opt/pgaf/pgaf-keeper}

args=(create --pgdata "$PGDATA" --port "$pgport" --hostname "$hostname" --formation "$formation" --name "$node_name"
      --pg-bindir "$bindir" --run)
if [ -n "${PGAF_CANDIDATE_PRIORITY:-}" ]; then args+=(--candidate-priority "$PGAF_CANDIDATE_PRIORITY"); fi
if [ -n "${PGAF_REPLICATION_QUORUM:-}" ]; then args+=(--replication-quorum "$PGAF_REPLICATION_QUORUM"); fi
if [ -n "${PGAF_AUTH:-}" ]; then args+=(--auth "$PGAF_AUTH"); fi

# The volume is mounted at PGDATA's parent; PostgreSQL (and so the keeper) runs as the postgres user.
parent=$(dirname "$PGDATA")
mkdir -p "$parent"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$parent"
  chmod 0700 "$parent"
  exec gosu postgres "$keeper" "${args[@]}" "$@"
fi
exec "$keeper" "${args[@]}" "$@"
