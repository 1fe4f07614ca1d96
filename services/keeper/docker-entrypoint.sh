#!/usr/bin/env bash
# Data node entrypoint: PostgreSQL 15 driven by the PgAutoFailover keeper, in one container.
#
# It runs `pgaf-keeper create --run`: initdb as the first primary, pg_basebackup as a standby, or, after a
# container restart, the existing PGDATA again; then the keeper loop. Everything else is configuration, passed as
# environment variables Keeper__<Setting> (Keeper__ReplicationPassword, Keeper__ApplicationUser, ...; see
# services/keeper/README.md), and PGAF_* below for the command line.
set -euo pipefail

if [ -z "${RABBITMQ_URL:-}" ] && [ -z "${RABBITMQ_URL_FILE:-}" ]; then
  echo "error: RABBITMQ_URL (amqp://user:password@rabbitmq:5672/) or RABBITMQ_URL_FILE must be set" >&2
  exit 78
fi
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
