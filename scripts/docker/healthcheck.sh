#!/usr/bin/env bash
# Container healthcheck for the .NET services: GET http://127.0.0.1:<port><path> and succeed on HTTP 200.
# The aspnet images have neither curl nor wget; bash's /dev/tcp is enough for a plain HTTP/1.0 request.
# Usage: pgaf-healthcheck <port> [path, default /health]
set -euo pipefail
port=${1:?usage: pgaf-healthcheck <port> [path]}
# pgaf-run parked the service: it cannot start with these settings.
failed=${PGAF_RUN_FAILED_FILE:-/tmp/pgaf-run.failed}
if [ -s "$failed" ]; then echo "unhealthy: $(cat "$failed")" >&2; exit 1; fi
path=${2:-/health}
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 5 status_line <&3
exec 3<&- 3>&-
case "$status_line" in
  HTTP/*" 200"*) exit 0 ;;
  *) echo "unhealthy: ${status_line:-no answer}" >&2; exit 1 ;;
esac
