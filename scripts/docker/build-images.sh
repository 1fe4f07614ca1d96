#!/usr/bin/env bash
# Builds every image docker-compose.yml runs, on this machine: starts an engine when none answers
# (scripts/docker/engine.sh), builds the stand-in base images when they are missing (scripts/docker/standin-images.sh;
# skip that with PGAF_STANDIN_IMAGES=0 when a registry serves the official ones), then `docker-compose build`.
# The engine stays up afterwards: `scripts/docker/engine.sh stop` stops it and restores the host's network settings.
# Usage: scripts/docker/build-images.sh [--help]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "build-images.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
source "$here/../common.sh"
source "$here/engine.sh"
docker_engine_start
if [ "${PGAF_STANDIN_IMAGES:-1}" != 0 ]; then "$here/standin-images.sh"; fi
say "docker-compose build (the four service images)"
# Building needs no password, but docker-compose checks every variable the file requires.
cd "$here/../.."
RABBITMQ_PASSWORD=${RABBITMQ_PASSWORD:-unused} MONITOR_STORE_PASSWORD=${MONITOR_STORE_PASSWORD:-unused} \
MONITOR_STORE_ADMIN_PASSWORD=${MONITOR_STORE_ADMIN_PASSWORD:-unused} \
REPLICATION_PASSWORD=${REPLICATION_PASSWORD:-unused} HEALTHCHECK_PASSWORD=${HEALTHCHECK_PASSWORD:-unused} \
APP_PASSWORD=${APP_PASSWORD:-unused} DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0 \
  docker-compose build -q
say "images ready"
