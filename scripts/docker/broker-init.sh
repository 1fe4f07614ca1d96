#!/usr/bin/env bash
# Entry point of docker-compose.yml's broker container, run before the image's own: one broker user per service
# (scripts/broker/definitions.sh, mounted at /pgaf/definitions.sh; docs/operations.md#broker-users) plus the
# administrator RABBITMQ_USER with RABBITMQ_PASSWORD for people (management UI, pgaf), loaded by RabbitMQ at boot.
# Each service's AMQP URL goes into the volume mounted at /pgaf-broker/<service>, which only that service also
# mounts (as its RABBITMQ_URL_FILE). The services' passwords are made once and kept in the broker's data volume.
set -euo pipefail

state=/var/lib/rabbitmq/pgaf
mkdir -p "$state"
chmod 700 "$state"
admin=${RABBITMQ_DEFAULT_USER:?RABBITMQ_DEFAULT_USER must be set (the administrator)}
admin_password=$state/.admin.password
(umask 077; printf '%s' "${RABBITMQ_DEFAULT_PASS:?RABBITMQ_DEFAULT_PASS must be set}" >"$admin_password")
bash /pgaf/definitions.sh --vhost / --secrets "$state" --url-base "amqp://${PGAF_BROKER_HOST:-rabbitmq}:5672" \
  --admin "$admin" --admin-password-file "$admin_password" >"$state/definitions.json.new"
mv "$state/definitions.json.new" "$state/definitions.json"
rm -f "$admin_password"
chown -R rabbitmq:rabbitmq "$state"

for service in monitor health-checker uri-service keeper operator events; do
  # Readable inside the one container that mounts the volume, whichever user its service runs as.
  if [ -d "/pgaf-broker/$service" ]; then install -m 0444 "$state/$service.url" "/pgaf-broker/$service/url"; fi
done

mkdir -p /etc/rabbitmq/conf.d
echo "load_definitions = $state/definitions.json" >/etc/rabbitmq/conf.d/90-pgaf-definitions.conf
exec docker-entrypoint.sh "$@"
