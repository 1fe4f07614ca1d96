#!/usr/bin/env bash
# A local PgAutoFailover HA cluster on loopback, from a fresh machine:
#   ./cluster.sh up      install what is missing (RabbitMQ, PostgreSQL 15), build once, start the broker,
#                        the monitor store, monitor, health-checker, uri-service and two PostgreSQL nodes
#                        with their keepers; print the state table and the connection string
#   ./cluster.sh status  the state table, the connection string and the processes
#   ./cluster.sh down    stop everything this script started and remove its data
#   ./cluster.sh add-node          one more PostgreSQL node with its keeper (node3 ... node9), waits until it is
#                                  a streaming secondary
#   ./cluster.sh start-keeper nodeN   start that node's keeper again (after a crash or a stop), same settings
# Settings: PGAF_CLUSTER_DIR (default /tmp/pgaf-cluster), PGAF_BASE_PORT (default 5500: store 5500,
# nodes 5501, 5502, ...), PGAF_APP_USER and PGAF_DBNAME (default app and app: the application role and database
# the keepers create; its password is generated into $PGAF_CLUSTER_DIR/app.password, and $PGAF_CLUSTER_DIR/pgpass
# lets `PGPASSFILE=$PGAF_CLUSTER_DIR/pgpass psql "<the URI>"` log in), PGAF_MONITORS (default 1: how many monitor
# processes share the store and the work; the first on HTTP 7101, monitorN on 712N), PGAF_BROKER_NODES (default 1:
# the machine's RabbitMQ; 3 to 9: a RabbitMQ cluster of that many nodes on 127.0.0.1:5701..., every process given all
# of them, docs/operations.md#a-broker-cluster). Logs: $PGAF_CLUSTER_DIR/*.log.
# Broker: the virtual host pgaf-cluster with one user per service (pgaf-cluster-monitor, -keeper, ...; each service
# gets its URL file $PGAF_CLUSTER_DIR/broker/<service>.url; `pgaf` as the operator: RABBITMQ_URL_FILE=
# $PGAF_CLUSTER_DIR/broker/operator.url), unless RABBITMQ_URL names another broker or virtual host, which all use.
cd "$(dirname "$0")"
source scripts/common.sh
root=$PWD
dir=${PGAF_CLUSTER_DIR:-/tmp/pgaf-cluster}
base=${PGAF_BASE_PORT:-5500}
bin=/usr/lib/postgresql/15/bin
cfg=Release
monitor_bin=$root/services/monitor/PgAutoFailover.Monitor/bin/$cfg/net10.0/PgAutoFailover.Monitor
checker_bin=$root/services/health-checker/PgAutoFailover.HealthChecker/bin/$cfg/net10.0/PgAutoFailover.HealthChecker
uri_bin=$root/services/uri-service/PgAutoFailover.UriService/bin/$cfg/net10.0/PgAutoFailover.UriService
keeper_bin=$root/services/keeper/PgAutoFailover.Keeper/bin/$cfg/net10.0/PgAutoFailover.Keeper
pgaf_bin=$root/cli/PgAutoFailover.Cli/bin/$cfg/net10.0/pgaf
# A virtual host of its own: queues left by an earlier cluster (a keeper's goal queue keeps its node id)
# must never reach this one's keepers.
vhost=pgaf-cluster
app_user=${PGAF_APP_USER:-app}
app_db=${PGAF_DBNAME:-app}
monitors=${PGAF_MONITORS:-1}
# PGAF_BROKER_NODES=3: a RabbitMQ cluster of this machine's own on 5701-5703 instead of the machine's broker
# (docs/operations.md#a-broker-cluster), its data beside the cluster's folder.
broker_nodes=${PGAF_BROKER_NODES:-1}
broker_dir=$dir-broker
broker_port=5701
broker_hosts=$(for ((i = 0; i < broker_nodes; i++)); do printf '%s127.0.0.1:%s' "$( ((i)) && echo ,)" $((broker_port + i)); done)
if [ "$broker_nodes" = 1 ]; then
  export RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/$vhost}
else
  export RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@$broker_hosts/$vhost}
fi

# alive PID: the process runs (kill -0 also succeeds on a zombie, and a keeper killed here stays one until PID 1
# reaps it, which made start-keeper refuse for seconds after a kill -9).
alive() { [ -r "/proc/$1/stat" ] && ! grep -q ') [ZX] ' "/proc/$1/stat" 2>/dev/null; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# bus_env SERVICE: sets `bus` to the environment SERVICE connects to the broker with: its own broker user's URL file
# when this script made the users (in its own virtual host; docs/operations.md#broker-users), else RABBITMQ_URL.
bus_env() {
  local f="$dir/broker/$1.url"
  if [ -f "$f" ]; then bus=(env -u RABBITMQ_URL "RABBITMQ_URL_FILE=$f"); else bus=(env "RABBITMQ_URL=$RABBITMQ_URL"); fi
}
pgaf() { local bus; bus_env operator; "${bus[@]}" "$pgaf_bin" "$@"; }

# The formation's state from the monitor's read API: what `pgaf show state` reads, without a .NET process start
# (0.2 CPU-seconds) ten times a second while the nodes converge.
monitor_state() { curl -fsS --max-time 2 http://127.0.0.1:7101/formations/default/state 2>/dev/null || true; }

# The Mth monitor's name and HTTP port: monitor on 7101, then monitor2 on 7122, monitor3 on 7123, ...
monitor_name() { if [ "$1" = 1 ]; then echo monitor; else echo "monitor$1"; fi; }
monitor_port() { if [ "$1" = 1 ]; then echo 7101; else echo $((7120 + $1)); fi; }

# start NAME COMMAND...: a background service with its log and pid file.
start() {
  local name=$1; shift
  nohup "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

# create_node N REPLICATION_PASSWORD HEALTH_CHECK_PASSWORD: nodeN's keeper (keeper create --run) in the background;
# PostgreSQL on base+N, the keeper's HTTP endpoints on 711N.
create_node() {
  local n=$1
  say "node$n: PostgreSQL on 127.0.0.1:$((base + n)) with its keeper"
  mkdir -p "$dir/node$n"; chown postgres:postgres "$dir/node$n"
  local bus; bus_env keeper
  Keeper__ReplicationPassword="$2" Keeper__HealthCheckPassword="$3" Urls="http://127.0.0.1:711$n" \
    start "node$n" "${bus[@]}" "$keeper_bin" create --pgdata "$dir/node$n/data" --port $((base + n)) --hostname 127.0.0.1 \
      --name "node$n" --formation default --pg-bindir "$bin" \
      --username "$app_user" --dbname "$app_db" --password-file "$dir/app.password" --run
}

wait_http() {   # wait_http NAME URL: until the service says it is healthy
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/"${2##*:}") 2>/dev/null && curl -fs "$2/health" >/dev/null 2>&1 && return 0
    alive "$(cat "$dir/$1.pid")" || { echo "error: $1 exited; last lines of $dir/$1.log:" >&2; tail -5 "$dir/$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "error: $1 not healthy after 30 s; see $dir/$1.log" >&2; exit 1
}

# A fresh virtual host for the cluster: through the management API when it answers (milliseconds), else with
# rabbitmqctl (about a second a call).
fresh_vhost() {
  local api=http://127.0.0.1:15672/api
  if curl -fsS -o /dev/null -u guest:guest "$api/overview" 2>/dev/null; then
    curl -sS -o /dev/null -u guest:guest -X DELETE "$api/vhosts/$vhost" || true
    curl -fsS -o /dev/null -u guest:guest -X PUT "$api/vhosts/$vhost" &&
      curl -fsS -o /dev/null -u guest:guest -X PUT -H 'content-type: application/json' \
        -d '{"configure":".*","write":".*","read":".*"}' "$api/permissions/$vhost/guest" && return 0
  fi
  rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
  rabbitmqctl -q add_vhost "$vhost" >/dev/null
  rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
}

# start_broker_cluster: the local RabbitMQ cluster (scripts/broker/local-cluster.sh) with the cluster's virtual host.
start_broker_cluster() {
  [[ $broker_nodes =~ ^[3-9]$ ]] || { echo "PGAF_BROKER_NODES must be 1 (the machine's broker) or 3 to 9, got \"$broker_nodes\"" >&2; exit 2; }
  say "a $broker_nodes-node RabbitMQ cluster on $broker_hosts (data: $broker_dir)"
  scripts/broker/local-cluster.sh stop "$broker_dir" >/dev/null 2>&1 || true
  rm -rf "$broker_dir"
  scripts/broker/local-cluster.sh start "$broker_dir" --nodes "$broker_nodes" --port "$broker_port" >/dev/null
  rabbitmqctl -q -n "pgaf$broker_port@localhost" add_vhost "$vhost" >/dev/null
  rabbitmqctl -q -n "pgaf$broker_port@localhost" set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
}

build_if_needed() {
  if [ ! -x "$monitor_bin" ] || [ ! -x "$checker_bin" ] || [ ! -x "$uri_bin" ] || [ ! -x "$keeper_bin" ] || [ ! -x "$pgaf_bin" ] || [ "${PGAF_REBUILD:-}" = 1 ]; then
    say "building ($cfg; once)"
    dotnet build PgAutoFailover.sln -c $cfg -v q -nologo -clp:ErrorsOnly
  fi
}

up() {
  [[ $monitors =~ ^[1-9]$ ]] || { echo "PGAF_MONITORS must be a number from 1 to 9, got \"$monitors\"" >&2; exit 2; }
  if [ -f "$dir/monitor.pid" ] && alive "$(cat "$dir/monitor.pid")"; then
    echo "a cluster is already running in $dir: ./cluster.sh status, or ./cluster.sh down first" >&2; exit 1
  fi
  ensure_packages
  command -v curl >/dev/null || apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends curl >/dev/null
  build_if_needed
  if [ "$broker_nodes" = 1 ]; then
    ensure_rabbitmq
    [ "$PGAF_STARTED_RABBITMQ" = 1 ] && started_rabbit=1 || started_rabbit=0
    if [[ $RABBITMQ_URL == */$vhost ]]; then fresh_vhost; fi
  else
    start_broker_cluster
    started_rabbit=0
  fi
  t_start=$SECONDS
  rm -rf "$dir"; mkdir -p "$dir"; chown postgres:postgres "$dir"; chmod 700 "$dir"
  echo "$started_rabbit" >"$dir/started-rabbitmq"
  # One password per role for the whole formation, readable by root and postgres only.
  umask 077
  printf 'replication=%s\nhealth_check=%s\n' "$(head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9)" \
    "$(head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9)" >"$dir/secrets"
  chown postgres:postgres "$dir/secrets"
  # The application role's password: in a file the keepers read, and in a .pgpass for psql and libpq.
  head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9 >"$dir/app.password"
  printf '*:*:%s:%s:%s\n' "$app_db" "$app_user" "$(cat "$dir/app.password")" >"$dir/pgpass"
  umask 022
  repl_pw=$(sed -n 's/^replication=//p' "$dir/secrets"); hc_pw=$(sed -n 's/^health_check=//p' "$dir/secrets")
  if [[ $RABBITMQ_URL == */$vhost ]]; then
    if [ "$broker_nodes" = 1 ]; then broker_users "$vhost" "$dir/broker"
    else broker_users "$vhost" "$dir/broker" "amqp://$broker_hosts" "pgaf$broker_port@localhost"; fi
  fi

  say "monitor store on 127.0.0.1:$base"
  as_postgres "$bin/initdb" -D "$dir/store" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/store-initdb.log"
  as_postgres "$bin/pg_ctl" -D "$dir/store" -l "$dir/store.log" -w -o "-p $base -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  as_postgres "$bin/createdb" -h 127.0.0.1 -p "$base" -U postgres pg_auto_failover
  # The monitor's own role: it may connect and owns its schema, nothing more (docs/operations.md#least-privilege).
  as_postgres "$bin/psql" -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$base" -U postgres -d pg_auto_failover -c "
    CREATE ROLE pgaf_monitor_store LOGIN;
    REVOKE ALL ON DATABASE pg_auto_failover FROM PUBLIC; GRANT CONNECT ON DATABASE pg_auto_failover TO pgaf_monitor_store;
    REVOKE ALL ON SCHEMA public FROM PUBLIC; CREATE SCHEMA pgaf_monitor AUTHORIZATION pgaf_monitor_store;" >/dev/null

  say "monitor (×$monitors), health-checker, uri-service"
  local bus m
  bus_env monitor
  # Several monitors share one store and the same queues; each group's stream takes one decision per version
  # (docs/architecture.md#safety-rules), so any of them may die at any moment.
  for m in $(seq 1 "$monitors"); do
    ConnectionStrings__MonitorStore="Host=127.0.0.1;Port=$base;Database=pg_auto_failover;Username=pgaf_monitor_store" \
      Urls="http://127.0.0.1:$(monitor_port "$m")" start "$(monitor_name "$m")" "${bus[@]}" "$monitor_bin"
  done
  bus_env health-checker
  HealthChecker__Password="$hc_pw" start health-checker "${bus[@]}" "$checker_bin"
  bus_env uri-service
  UriService__User="$app_user" start uri-service "${bus[@]}" "$uri_bin"
  for m in $(seq 1 "$monitors"); do wait_http "$(monitor_name "$m")" "http://127.0.0.1:$(monitor_port "$m")"; done
  wait_http health-checker http://127.0.0.1:7102
  wait_http uri-service http://127.0.0.1:7103
  say "services healthy"

  for n in 1 2; do
    create_node "$n" "$repl_pw" "$hc_pw"
    # node2 must register after node1, or it would become the primary.
    for _ in $(seq 1 300); do
      monitor_state | grep -q "\"nodeName\":\"node$n\"" && break
      alive "$(cat "$dir/node$n.pid")" || { echo "error: keeper node$n exited:" >&2; tail -5 "$dir/node$n.log" >&2; exit 1; }
      sleep 0.1
    done
  done

  say "waiting for primary + synchronous secondary"
  local converged=0
  for _ in $(seq 1 1200); do
    state=$(monitor_state)
    if grep -q '"reportedState":"primary"' <<<"$state" && grep -q '"reportedState":"secondary"' <<<"$state" \
       && ! grep -qE '"goalState":"(wait_primary|catchingup|apply_settings)"' <<<"$state"; then
      converged=1
      break
    fi
    sleep 0.1
  done
  if ((converged)); then
    say "cluster up in $((SECONDS - t_start)) s (after install and build)"
    status
  else
    say "error: no primary with a synchronous secondary after $((SECONDS - t_start)) s; the state and the logs in $dir tell why"
    status
    exit 1
  fi
}

status() {
  pgaf show state || true
  echo
  pgaf show uri || true
  echo "  password of the role $app_user: export PGPASSFILE=$dir/pgpass, then psql \"<uri>\""
  echo
  for p in "$dir"/*.pid; do
    [ -e "$p" ] || continue
    name=$(basename "$p" .pid)
    if alive "$(cat "$p")"; then echo "  $name: running (pid $(cat "$p"), log $dir/$name.log)"; else echo "  $name: stopped"; fi
  done
}

down() {
  # Keepers first: they stop their PostgreSQL on the way out.
  local names
  # "|| true": with no cluster folder the substitution fails, and set -e would end `down` there with status 1.
  names="$( { cd "$dir" 2>/dev/null && ls -r node*.pid 2>/dev/null | sed 's/\.pid$//' | tr '\n' ' '; } || true) uri-service health-checker"
  names="$names $( { cd "$dir" 2>/dev/null && ls monitor*.pid 2>/dev/null | sed 's/\.pid$//' | tr '\n' ' '; } || true)"
  for name in $names; do
    p="$dir/$name.pid"
    [ -f "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null || true
  done
  for name in $names; do
    p="$dir/$name.pid"
    [ -f "$p" ] || continue
    for _ in $(seq 1 100); do alive "$(cat "$p")" || break; sleep 0.1; done
    kill -KILL "$(cat "$p")" 2>/dev/null || true
  done
  for d in "$dir"/node*/data "$dir/store"; do
    [ -f "$d/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
  done
  if [ -f "$broker_dir/nodes" ]; then
    say "stopping the RabbitMQ cluster this script started"
    scripts/broker/local-cluster.sh stop "$broker_dir" >/dev/null 2>&1 || true
    rm -rf "$broker_dir"
  elif [[ $RABBITMQ_URL == */$vhost ]]; then
    rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
    drop_broker_users "$vhost"
  fi
  if [ "$(cat "$dir/started-rabbitmq" 2>/dev/null)" = 1 ]; then
    say "stopping the RabbitMQ this script started"
    rabbitmqctl -q shutdown >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  say "cluster down"
}

add_node() {   # add_node: the next nodeN (3..9) of the running cluster, as a standby of its primary
  if ! { [ -f "$dir/monitor.pid" ] && alive "$(cat "$dir/monitor.pid")"; }; then
    echo "no running cluster in $dir: ./cluster.sh up first" >&2; exit 1
  fi
  local n=3 repl_pw hc_pw t0=$SECONDS
  while [ -e "$dir/node$n" ]; do n=$((n + 1)); done
  ((n <= 9)) || { echo "this script runs at most 9 nodes (HTTP ports 7111-7119)" >&2; exit 1; }
  repl_pw=$(sed -n 's/^replication=//p' "$dir/secrets"); hc_pw=$(sed -n 's/^health_check=//p' "$dir/secrets")
  create_node "$n" "$repl_pw" "$hc_pw"
  for _ in $(seq 1 1200); do
    if monitor_state | grep -q "\"nodeName\":\"node$n\",[^}]*},\"reportedState\":\"secondary\",\"goalState\":\"secondary\""; then
      say "node$n: secondary in $((SECONDS - t0)) s"
      return 0
    fi
    alive "$(cat "$dir/node$n.pid")" || { echo "error: keeper node$n exited:" >&2; tail -5 "$dir/node$n.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "error: node$n is not a secondary after 120 s; see $dir/node$n.log" >&2; exit 1
}

start_keeper() {   # start_keeper NAME: the keeper of an existing node, with the settings up gave it
  local n=$1
  [[ $n =~ ^node[1-9]$ ]] || { echo "usage: ./cluster.sh start-keeper node1|node2|...|node9" >&2; exit 1; }
  [ -d "$dir/$n/data" ] || { echo "no $n in $dir: ./cluster.sh up first" >&2; exit 1; }
  if [ -f "$dir/$n.pid" ] && alive "$(cat "$dir/$n.pid")"; then echo "the keeper of $n is running" >&2; exit 1; fi
  local repl_pw hc_pw bus
  repl_pw=$(sed -n 's/^replication=//p' "$dir/secrets"); hc_pw=$(sed -n 's/^health_check=//p' "$dir/secrets")
  bus_env keeper
  Keeper__ReplicationPassword="$repl_pw" Keeper__HealthCheckPassword="$hc_pw" Urls="http://127.0.0.1:711${n#node}" \
    nohup "${bus[@]}" "$keeper_bin" run --pgdata "$dir/$n/data" >>"$dir/$n.log" 2>&1 </dev/null &
  echo $! >"$dir/$n.pid"
  say "$n: keeper started (pid $!, log $dir/$n.log)"
}

case "${1:-up}" in
  up) up ;;
  add-node) add_node ;;
  start-keeper) start_keeper "${2:-}" ;;
  status) status ;;
  down) down ;;
  *) echo "usage: ./cluster.sh [up|status|down|add-node|start-keeper nodeN]" >&2; exit 1 ;;
esac
