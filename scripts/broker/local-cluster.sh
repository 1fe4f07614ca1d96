#!/usr/bin/env bash
# A RabbitMQ cluster on this machine's loopback, for cluster.sh (PGAF_BROKER_NODES=3) and the tests that kill a broker
# node (docs/operations.md#a-broker-cluster). Each node has its own name (pgaf<port>@localhost), AMQP port, data and
# log folders under DIR; they form one cluster at their first start (classic_config peer discovery) and the management
# plugin is off (the machine's own broker may hold port 15672). Run as root: the nodes run as the rabbitmq user, with
# the Erlang cookie of the machine's own broker.
#
#   scripts/broker/local-cluster.sh start DIR [--nodes N] [--port P]   N nodes (default 3) on ports P.. (default 5701);
#                                                                     prints the host list 127.0.0.1:P,127.0.0.1:P+1,...
#   scripts/broker/local-cluster.sh kill DIR I                        SIGKILL node I (1-based): a crashed broker node
#   scripts/broker/local-cluster.sh start-node DIR I                  start node I again (it rejoins the cluster)
#   scripts/broker/local-cluster.sh stop DIR                          stop every node (DIR is left for its logs)
#   scripts/broker/local-cluster.sh ctl DIR I ARGS...                 rabbitmqctl ARGS against node I (list_connections ...)
set -euo pipefail

cmd=${1:-} dir=${2:-}
case "$cmd" in
  -h|--help|"") sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
[ -n "$dir" ] || { echo "error: $cmd needs DIR (see --help)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "error: run as root: the nodes run as the rabbitmq user" >&2; exit 2; }
id rabbitmq >/dev/null 2>&1 || { echo "error: no rabbitmq user: install rabbitmq-server first" >&2; exit 2; }
bin=/usr/lib/rabbitmq/bin
as_rabbitmq() { runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq "$@"; }

node_name() { echo "pgaf$(port_of "$1")@localhost"; }
port_of() { echo $(( $(cat "$dir/base-port") + $1 - 1 )); }
count() { cat "$dir/nodes"; }

# node_env I: the environment of node I's rabbitmq-server and of the rabbitmqctl that talks to it.
node_env() {
  local d="$dir/n$1" port
  port=$(port_of "$1")
  echo RABBITMQ_NODENAME="$(node_name "$1")" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT=$((port + 20000)) RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" RABBITMQ_PID_FILE="$d/pid" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
}

amqp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_node() {
  local i=$1
  # shellcheck disable=SC2046 # node_env's words are the variables, one each
  setsid runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq $(node_env "$i") "$bin/rabbitmq-server" \
    >"$dir/n$i/log/console.log" 2>&1 </dev/null &
}

wait_node() {
  local i=$1 port
  port=$(port_of "$i")
  for _ in $(seq 1 600); do amqp_open "$port" && return 0; sleep 0.2; done
  echo "error: broker node $i ($(node_name "$i")) did not open port $port within 120 s; see $dir/n$i/log" >&2
  return 1
}

ctl() { # ctl I ARGS...: rabbitmqctl against node I
  local i=$1; shift
  # shellcheck disable=SC2046
  as_rabbitmq $(node_env "$i") "$bin/rabbitmqctl" -q -n "$(node_name "$i")" "$@"
}

case "$cmd" in
  start)
    shift 2
    nodes=3 port=5701
    while (($#)); do
      case "$1" in
        --nodes) nodes=${2?}; shift 2 ;;
        --port) port=${2?}; shift 2 ;;
        *) echo "error: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
      esac
    done
    [[ $nodes =~ ^[1-9]$ ]] || { echo "error: --nodes must be from 1 to 9, got \"$nodes\"" >&2; exit 2; }
    [[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port + nodes <= 45535)) ||
      { echo "error: --port must leave room for $nodes ports from 1024 to 45535, got \"$port\"" >&2; exit 2; }
    for ((i = 0; i < nodes; i++)); do
      if amqp_open $((port + i)); then echo "error: port $((port + i)) is already in use" >&2; exit 1; fi
    done
    mkdir -p "$dir"
    echo "$nodes" >"$dir/nodes"
    echo "$port" >"$dir/base-port"
    for ((i = 1; i <= nodes; i++)); do
      mkdir -p "$dir/n$i/log" "$dir/n$i/mnesia"
      echo '[].' >"$dir/n$i/enabled_plugins"
      : >"$dir/n$i/rabbitmq-env.conf"
      {
        echo "listeners.tcp.1 = 127.0.0.1:$(port_of "$i")"
        echo "cluster_formation.peer_discovery_backend = classic_config"
        for ((j = 1; j <= nodes; j++)); do echo "cluster_formation.classic_config.nodes.$j = $(node_name "$j")"; done
        # A node cut off from the majority stops serving instead of diverging (RabbitMQ's advice for 3+ nodes).
        ((nodes >= 3)) && echo "cluster_partition_handling = pause_minority"
        echo "log.file.level = info"
      } >"$dir/n$i/rabbitmq.conf"
    done
    chown -R rabbitmq:rabbitmq "$dir"
    # The first node forms the cluster alone; the others find it running and join it.
    start_node 1
    wait_node 1
    for ((i = 2; i <= nodes; i++)); do start_node "$i"; done
    for ((i = 2; i <= nodes; i++)); do wait_node "$i"; done
    for _ in $(seq 1 300); do
      running=$(ctl 1 eval 'length(rabbit_nodes:all_running()).' 2>/dev/null || echo 0)
      [ "$running" = "$nodes" ] && break
      sleep 0.2
    done
    [ "$running" = "$nodes" ] || { echo "error: the cluster has $running of $nodes nodes running; see $dir/n*/log" >&2; exit 1; }
    hosts=()
    for ((i = 1; i <= nodes; i++)); do hosts+=("127.0.0.1:$(port_of "$i")"); done
    (IFS=,; echo "${hosts[*]}")
    ;;
  kill)
    i=${3:?kill needs the node number}
    kill -KILL "$(cat "$dir/n$i/pid")"
    port=$(port_of "$i")
    # Gone when its port is closed and epmd has forgotten its name (a restart before that fails to register).
    for _ in $(seq 1 300); do
      if ! amqp_open "$port" && ! epmd -names 2>/dev/null | grep -q "^name pgaf$port "; then exit 0; fi
      sleep 0.1
    done
    echo "error: node $i still answers on port $port or is still known to epmd" >&2; exit 1
    ;;
  start-node)
    i=${3:?start-node needs the node number}
    start_node "$i"
    wait_node "$i"
    ;;
  ctl)
    i=${3:?ctl needs the node number}
    shift 3
    ctl "$i" "$@"
    ;;
  stop)
    [ -f "$dir/nodes" ] || exit 0
    for ((i = 1; i <= $(count); i++)); do
      if [ -f "$dir/n$i/pid" ] && kill -0 "$(cat "$dir/n$i/pid")" 2>/dev/null; then
        ctl "$i" stop >/dev/null 2>&1 || kill -KILL "$(cat "$dir/n$i/pid")" 2>/dev/null || true
      fi
    done
    ;;
  *) echo "error: unknown command \"$cmd\" (see --help)" >&2; exit 2 ;;
esac
