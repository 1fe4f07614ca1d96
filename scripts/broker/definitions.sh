#!/usr/bin/env bash
# The broker users of one PgAutoFailover deployment, as a RabbitMQ definitions file (docs/operations.md#broker-users):
# one user per service, each allowed to declare, publish to and read from only the exchanges and queues its service
# uses. None is an administrator; the operator's user publishes the operator commands and queries (pgaf).
#
#   scripts/broker/definitions.sh --vhost VHOST --secrets DIR [--user-prefix PREFIX] [--url-base amqp://HOST:PORT]
#                                 [--admin USER --admin-password-file FILE]
#
# For each of monitor, health-checker, uri-service, keeper, operator (pgaf) and events (an alerting consumer of
# docs/events.md, with queues of its own named ops-*): DIR/<service>.password is read, or made
# (32 random letters and digits, mode 600) when missing; the user is PREFIX<service> (PREFIX default "pgaf-").
# With --url-base, DIR/<service>.url gets the AMQP URL that service connects with (a RABBITMQ_URL_FILE).
# With --admin, that user is added as the broker's administrator (management UI, rabbitmqctl-free operations); no
# service connects as it. Prints the definitions (JSON) on standard output, for `rabbitmqctl import_definitions`,
# the management API's POST /api/definitions, or `load_definitions` at the broker's start. The passwords are in it
# in clear text: keep the file where the secrets are.
set -euo pipefail

vhost="" secrets="" prefix="pgaf-" url_base="" admin="" admin_password_file=""
while (($#)); do
  case "$1" in
    --vhost) vhost=${2?}; shift 2 ;;
    --secrets) secrets=${2?}; shift 2 ;;
    --user-prefix) prefix=${2?}; shift 2 ;;
    --url-base) url_base=${2%/}; shift 2 ;;
    --admin) admin=${2?}; shift 2 ;;
    --admin-password-file) admin_password_file=${2?}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$vhost" ] || { echo "error: --vhost is required (\"/\" for the default virtual host)" >&2; exit 2; }
[ -n "$secrets" ] || { echo "error: --secrets DIR is required" >&2; exit 2; }
[[ $prefix =~ ^[A-Za-z0-9._-]*$ ]] || { echo "error: --user-prefix may hold letters, digits, '.', '_' and '-' only" >&2; exit 2; }
[[ $vhost =~ ^[A-Za-z0-9./_-]+$ ]] || { echo "error: --vhost may hold letters, digits, '.', '/', '_' and '-' only" >&2; exit 2; }
if [ -n "$admin" ] && [ -z "$admin_password_file" ]; then echo "error: --admin needs --admin-password-file" >&2; exit 2; fi
mkdir -p "$secrets"

# Names the services use (contracts/BrokerNames.cs and the consumers' endpoints), as PCRE patterns.
c='PgAutoFailover\.Contracts:'                       # a message type's exchange: PgAutoFailover.Contracts:<Type>
faults='MassTransit:Fault(--.+--)?'                   # where a consumer that fails publishes the Fault<T>
bus() { echo "pgaf-$1-bus-[0-9a-f]{32}"; }            # a process's reply queue and exchange
# The monitor's endpoints: report-node-state and node-probed are the names before partitions, which it deletes.
monitor_endpoints='(register-node|report-node-state|node-probed|operator-commands|operator-queries|monitor-partition-[0-9]+)(_error|_skipped)?|pgaf-monitor-partitions'
goal='keeper-node-[0-9]+'                             # a keeper's goal queue (the monitor alone writes to it)
operator_messages='CreateFormation|DropFormation|DropNode|EnableMaintenance|DisableMaintenance|PerformFailover|PerformPromotion|PerformSwitchover|SetAutomaticFailover|SetCandidatePriority|SetNumberSyncStandbys|SetReplicationQuorum|UpdateNodeMetadata|GetEvents|GetFormationState|GetSettings|GetTopology'
any() { local IFS='|'; echo "^($*)\$"; }

# configure (declare, delete) | write (publish; be bound to) | read (consume; be bound from)
perm_monitor=(
  "$(any "$monitor_endpoints" "$goal" "$c[A-Za-z]+" "$faults" "pgaf-[a-z-]+-bus-[0-9a-f]{32}")"
  "$(any "$monitor_endpoints" "$goal" "$c[A-Za-z]+" "$faults" "pgaf-[a-z-]+-bus-[0-9a-f]{32}")"
  "$(any "$monitor_endpoints" "$goal" "$c[A-Za-z]+" "$faults" "$(bus monitor)")")
keeper_requests="${c}(RegisterNode|ReportNodeState|SetCandidatePriority|SetReplicationQuorum|UpdateNodeMetadata)"
perm_keeper=(
  "$(any "$keeper_requests" "$goal" "${goal}_(error|skipped)" "$faults" "$(bus keeper)")"
  "$(any "$keeper_requests" "${goal}_(error|skipped)" "$faults" "$(bus keeper)")"
  "$(any "$goal" "${goal}_(error|skipped)" "$faults" "$(bus keeper)")")
checker_queue='health-checker-topology-[A-Za-z0-9._-]+'
perm_checker=(
  "$(any "${c}(NodeProbed|GetTopology|FormationTopologyChanged)" "$checker_queue" "$faults" "$(bus health-checker)")"
  "$(any "${c}(NodeProbed|GetTopology)" "$checker_queue" "$faults" "$(bus health-checker)")"
  "$(any "${c}FormationTopologyChanged" "$checker_queue" "$faults" "$(bus health-checker)")")
uri_queue='uri-service-topology-[A-Za-z0-9._-]+'
perm_uri=(
  "$(any "${c}(ConnectionStringChanged|GetTopology|FormationTopologyChanged|PrimaryChanged)" "$uri_queue" "$faults" "$(bus uri-service)")"
  "$(any "${c}(ConnectionStringChanged|GetTopology)" "$uri_queue" "$faults" "$(bus uri-service)")"
  "$(any "${c}(FormationTopologyChanged|PrimaryChanged)" "$uri_queue" "$faults" "$(bus uri-service)")")
# An alerting consumer (docs/events.md): queues of its own named ops-*, bound to the event exchanges.
events='NodeStateChanged|NodeHealthChanged|GoalStateAssigned|PrimaryChanged|FailoverStarted|FailoverCompleted|FailoverBlocked|FormationTopologyChanged|ConnectionStringChanged|NodeProbed'
ops_queue='ops-[A-Za-z0-9._-]+'
perm_events=(
  "$(any "${c}($events)" "$ops_queue")"
  "$(any "$ops_queue")"
  "$(any "${c}($events)" "$ops_queue")")
# pgaf events tail reads queues of its own, pgaf-events-*, bound to the event exchanges.
tail_queue='pgaf-events-[A-Za-z0-9._-]+(_error|_skipped)?'
perm_operator=(
  "$(any "${c}($operator_messages)" "$(bus cli)" "${c}($events)" "$tail_queue")"
  "$(any "${c}($operator_messages)" "$(bus cli)" "$tail_queue")"
  "$(any "$(bus cli)" "${c}($events)" "$tail_queue")")

password() {   # password SERVICE: the service's password, made once
  local file="$secrets/$1.password"
  if [ ! -s "$file" ]; then
    (umask 077; LC_ALL=C tr -dc A-Za-z0-9 </dev/urandom | head -c 32 >"$file")
  fi
  cat "$file"
}

json_string() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

users=() permissions=()
add() {   # add SERVICE CONFIGURE WRITE READ
  local user="$prefix$1" pw
  pw=$(password "$1")
  users+=("{\"name\":$(json_string "$user"),\"password\":$(json_string "$pw"),\"tags\":[]}")
  permissions+=("{\"user\":$(json_string "$user"),\"vhost\":$(json_string "$vhost"),\"configure\":$(json_string "$2"),\"write\":$(json_string "$3"),\"read\":$(json_string "$4")}")
  if [ -n "$url_base" ]; then
    local path=/ ; [ "$vhost" = / ] || path=/${vhost//\//%2F}
    (umask 077; printf '%s\n' "${url_base/:\/\//://$user:$pw@}$path" >"$secrets/$1.url")
  fi
}
add monitor "${perm_monitor[@]}"
add health-checker "${perm_checker[@]}"
add uri-service "${perm_uri[@]}"
add keeper "${perm_keeper[@]}"
add operator "${perm_operator[@]}"
add events "${perm_events[@]}"
if [ -n "$admin" ]; then
  admin_pw=$(tr -d '\r\n' <"$admin_password_file")
  users+=("{\"name\":$(json_string "$admin"),\"password\":$(json_string "$admin_pw"),\"tags\":[\"administrator\"]}")
  permissions+=("{\"user\":$(json_string "$admin"),\"vhost\":$(json_string "$vhost"),\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}")
fi

join() { local IFS=,; echo "$*"; }
printf '{"vhosts":[{"name":%s}],"users":[%s],"permissions":[%s]}\n' "$(json_string "$vhost")" "$(join "${users[@]}")" "$(join "${permissions[@]}")"
