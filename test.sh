#!/usr/bin/env bash
# Runs every test against real components: installs RabbitMQ and PostgreSQL 15 when missing,
# starts the broker, builds in Release and runs the whole suite. Tests create their own
# PostgreSQL clusters on loopback ports. Ends with one line: "N passed, N failed, N skipped".
# Usage: ./test.sh [--fast] [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Skeleton]
#   --fast: only the fast layer (pure cores, client package, consumers on the in-memory harness): under a minute once built.
cd "$(dirname "$0")"
if [ "${1:-}" = "--fast" ]; then
  shift
  set -- --filter "FullyQualifiedName~Monitor.Core.Tests|FullyQualifiedName~Client.Tests|FullyQualifiedName~.Tests.Unit." "$@"
fi
source scripts/common.sh

ensure_packages docker-compose haproxy pgbouncer prometheus nft:nftables faketime
ensure_rabbitmq
source scripts/docker/engine.sh
cleanup() {
  docker_engine_stop   # only an engine started below; restores ip_forward and the FORWARD policy
  if [ "${CI:-}" = "true" ] && [ "$PGAF_STARTED_RABBITMQ" = 1 ]; then rabbitmqctl -q shutdown >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
export RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}

# The docker-compose test (tests/PgAutoFailover.Cli.Tests/Compose) needs an engine and five minutes of image builds:
# for a whole run, start the engine now and build the images in the background while the other tests run. A run with
# arguments (a filter) leaves that to the test itself, if it is selected.
if [ $# -eq 0 ]; then
  export PGAF_COMPOSE_IMAGES_LOG=/tmp/pgaf-compose-images.log PGAF_COMPOSE_IMAGES_RC=/tmp/pgaf-compose-images.rc
  rm -f "$PGAF_COMPOSE_IMAGES_RC"
  if [ "$(id -u)" != 0 ]; then
    export PGAF_DOCKER_UNAVAILABLE="test.sh runs as $(id -un), and dockerd needs root"
  elif ! engine_error=$(docker_engine_start 2>&1); then
    export PGAF_DOCKER_UNAVAILABLE="scripts/docker/engine.sh start failed: $(tail -1 <<<"$engine_error")"
    say "no Docker engine ($PGAF_DOCKER_UNAVAILABLE): the compose test will be skipped"
  else
    say "building the compose images in the background (log: $PGAF_COMPOSE_IMAGES_LOG)"
    (rc=0; nice -n 10 scripts/docker/build-images.sh >"$PGAF_COMPOSE_IMAGES_LOG" 2>&1 || rc=$?; echo "$rc" >"$PGAF_COMPOSE_IMAGES_RC") &
  fi
fi

say "restore and build"
dotnet build PgAutoFailover.sln -c Release -v q -nologo -clp:ErrorsOnly
results=$(mktemp -d)
say "test"
# run_tests TRX_NAME PROJECT|SOLUTION [dotnet test arguments]: results in TRX_NAME.trx (lanes running at once must not
# share a name); with an empty TRX_NAME, under the runner's own timestamped names (one per project of a solution).
run_tests() {
  local logger=trx
  if [ -n "$1" ]; then logger="trx;LogFileName=$1.trx"; fi
  dotnet test "$2" --no-build -c Release --logger "$logger" --results-directory "$results" --blame-hang-timeout 10m "${@:3}" 2>&1 |
    tee -a "$results/console.log"
  return "${PIPESTATUS[0]}"
}
set +e
if [ $# -eq 0 ]; then
  # A whole run, in two lanes for two cores: most of the end-to-end project (one test at a time) from the start, and
  # beside it every other project in turn, then the end-to-end classes of second_part. `dotnet test` on the solution
  # ran two projects at a time in the solution's order and started the end-to-end one ten minutes in, last to finish.
  # The end-to-end tests mostly wait (for leases, probes, restarts): alone they keep the two cores under half busy, so
  # the second lane takes a share of them once its projects are done, and both lanes end together (CONTRIBUTING.md,
  # "Where the suite's time goes"). Two end-to-end tests at once share nothing: each has its own processes, ports,
  # data folders, virtual host and network namespaces.
  # The compose deployment test goes last, on its own. Run beside the process-cluster tests, a loaded host
  # starves its containers (a single node took over five minutes to serve in CI), which tests the host, not the product.
  not_compose="FullyQualifiedName!~Compose.ComposeDeploymentTests"
  second_part=(AllowDataLossTests ThreeNodeTests AdoptRunningTests EventDeliveryTests MaintenanceTests)
  first_filter=$(printf '&FullyQualifiedName!~EndToEndTests.%s' "${second_part[@]}")
  second_filter=$(printf '|FullyQualifiedName~EndToEndTests.%s' "${second_part[@]}")
  run_tests end-to-end tests/PgAutoFailover.EndToEndTests --filter "${first_filter:1}" &
  end_to_end=$!
  rc=0
  for project in tests/*Tests*/; do
    [ "$project" = tests/PgAutoFailover.EndToEndTests/ ] && continue
    run_tests "$(basename "$project")" "$project" --filter "$not_compose" || rc=$?
  done
  run_tests end-to-end-second-part tests/PgAutoFailover.EndToEndTests --filter "${second_filter:1}" || rc=$?
  wait "$end_to_end" || rc=$?
  say "the compose deployment test, alone"
  run_tests compose tests/PgAutoFailover.Cli.Tests --filter "FullyQualifiedName~Compose.ComposeDeploymentTests"
  compose_rc=$?
  if [ "$rc" -eq 0 ]; then rc=$compose_rc; fi
else
  run_tests "" PgAutoFailover.sln "$@"
  rc=$?
fi
set -e
say "tests finished (exit $rc)"
# Repeat each failure's name and first message lines here: a report that keeps only the end of this
# output (CI's does) would otherwise lose them behind the failing test's log tails.
if grep -qE '^\s+Failed [A-Za-z]' "$results/console.log"; then
  say "failed tests:"
  grep -A3 -E '^\s+Failed [A-Za-z]' "$results/console.log" | cut -c1-300 | head -60
fi

# CI reads this plain line, not the runner's own summary.
counters=$(cat "$results"/*.trx 2>/dev/null | grep -h '<Counters' || true)
count() { grep -o " $1=\"[0-9]*\"" <<<"$counters" | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}'; }
passed=$(count passed)
failed=$(( $(count failed) + $(count error) + $(count timeout) + $(count aborted) ))
skipped=$(( $(count total) - $(count executed) ))   # the trx format counts a skipped test in total, not in executed (its notExecuted stays 0)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a crash or build failure leaves no counters
rm -rf "$results"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
