#!/usr/bin/env bash
# Writes the default user from RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS into rabbitmq.conf (used only when
# the node's database is new, as in the official image) and runs the node as the rabbitmq user, logging to stdout.
set -euo pipefail
if [ "${1:-}" != rabbitmq-server ]; then exec "$@"; fi
conf=/etc/rabbitmq/rabbitmq.conf
{
  echo "loopback_users = none"
  echo "log.console = true"
  echo "log.console.level = info"
  echo "log.file = false"
  if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then echo "default_user = $RABBITMQ_DEFAULT_USER"; fi
  if [ -n "${RABBITMQ_DEFAULT_PASS:-}" ]; then echo "default_pass = $RABBITMQ_DEFAULT_PASS"; fi
} >"$conf"
chown rabbitmq:rabbitmq "$conf"
chmod 0600 "$conf"
export HOME=/var/lib/rabbitmq
exec runuser -u rabbitmq -- /usr/lib/rabbitmq/bin/rabbitmq-server
