#!/usr/bin/env bash
# Container entrypoint wrapper, installed as pgaf-run (docs/operations.md#when-a-service-cannot-start). Runs the
# service as its child and passes SIGTERM and SIGINT on. When the service ends with an exit code after which starting
# again can only fail the same way (77 refused credentials, 78 bad settings, 121 node dropped), it does not exit:
# under `restart: unless-stopped` Docker would start the service again at once, for ever. It keeps the container up
# and unhealthy instead, the reason (the service's last line on stderr) in $PGAF_RUN_FAILED_FILE for pgaf-healthcheck,
# until the container is stopped (it then exits with that code) or recreated with other settings.
# Usage: pgaf-run <command> [args...]
set -u
failed_file=${PGAF_RUN_FAILED_FILE:-/tmp/pgaf-run.failed}
stderr_file=${failed_file}.stderr
rm -f "$failed_file" "$stderr_file"
child=0
forward() { if [ "$child" -gt 0 ]; then kill -"$1" "$child" 2>/dev/null; fi; }
trap 'forward TERM' TERM
trap 'forward INT' INT
# The service's stderr goes on to the container's log, and its last lines are kept for the reason.
"$@" 2> >(tee "$stderr_file" >&2) &
child=$!
# A trapped signal ends wait early (status > 128) while the service still runs: wait again until it has ended, then
# take its own status (bash keeps it for a second wait), not the interrupted wait's.
while kill -0 "$child" 2>/dev/null; do wait "$child"; done
wait "$child"
rc=$?
case "$rc" in
  77|78|121) ;;
  *) exit "$rc" ;;
esac
sleep 0.2 # tee's last line
reason=$(grep -v '^[[:space:]]*$' "$stderr_file" 2>/dev/null | tail -1)
echo "exit $rc: ${reason:-see the container log}" > "$failed_file"
echo "pgaf-run: $1 ended with exit code $rc, which starting again cannot mend: not restarting it; the container stays up and unhealthy until it is stopped or recreated with other settings" >&2
sleeper=0
trap 'kill "$sleeper" 2>/dev/null; exit "$rc"' TERM INT
while :; do
  sleep 3600 &
  sleeper=$!
  wait "$sleeper"
done
