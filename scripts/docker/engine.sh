#!/usr/bin/env bash
# A Docker engine for tests and local trials on a machine where nothing else runs one:
#   scripts/docker/engine.sh start   installs docker.io, docker-compose and debootstrap (Debian's) when missing and
#                                    starts /usr/sbin/dockerd (log /tmp/pgaf-dockerd.log) unless an engine answers
#   scripts/docker/engine.sh stop    stops the engine `start` started (nothing else) and restores the host's network
# or source it after scripts/common.sh and call docker_engine_start / docker_engine_stop. What `start` started is
# recorded in $PGAF_DOCKER_STATE, so any later process can stop it.
#
# Why the restore: starting dockerd turns on net.ipv4.ip_forward, sets the iptables FORWARD policy to DROP and
# adds DOCKER* chains and a docker0 bridge; stopping it undoes none of that, and tests that forward between
# network namespaces break under a DROP policy. docker_engine_stop puts back what was there before.

PGAF_DOCKER_LOG=${PGAF_DOCKER_LOG:-/tmp/pgaf-dockerd.log}
PGAF_DOCKER_STATE=${PGAF_DOCKER_STATE:-/tmp/pgaf-docker-engine.state}

docker_engine_answers() { docker info >/dev/null 2>&1; }

docker_engine_start() {
  ensure_packages
  local missing=()
  [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} with apt-get"
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if docker_engine_answers; then return 0; fi
  local ip_forward policy
  ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)
  policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }')
  say "starting dockerd (log: $PGAF_DOCKER_LOG)"
  # Its own session: it outlives the script (and the test process) that started it, until docker_engine_stop.
  setsid /usr/sbin/dockerd >"$PGAF_DOCKER_LOG" 2>&1 </dev/null &
  printf 'pid=%s\nip_forward=%s\nforward_policy=%s\n' "$!" "$ip_forward" "${policy:-ACCEPT}" >"$PGAF_DOCKER_STATE"
  local _
  for _ in $(seq 1 300); do docker_engine_answers && break; sleep 0.2; done
  if ! docker_engine_answers; then
    echo "error: dockerd did not answer within 60 s; its log ($PGAF_DOCKER_LOG) ends:" >&2
    tail -5 "$PGAF_DOCKER_LOG" >&2
    docker_engine_stop
    return 1
  fi
}

# Stops the engine docker_engine_start started (nothing otherwise) and restores the host's forwarding settings.
docker_engine_stop() {
  [ -f "$PGAF_DOCKER_STATE" ] || return 0
  local pid ip_forward policy
  pid=$(sed -n 's/^pid=//p' "$PGAF_DOCKER_STATE")
  ip_forward=$(sed -n 's/^ip_forward=//p' "$PGAF_DOCKER_STATE")
  policy=$(sed -n 's/^forward_policy=//p' "$PGAF_DOCKER_STATE")
  say "stopping dockerd (pid $pid) and restoring ip_forward=$ip_forward, FORWARD policy $policy"
  kill -TERM "$pid" 2>/dev/null || true
  local _
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  pkill -TERM -x containerd 2>/dev/null || true
  echo "${ip_forward:-0}" >/proc/sys/net/ipv4/ip_forward
  iptables -P FORWARD "${policy:-ACCEPT}" 2>/dev/null || true
  local table chain
  for table in filter nat; do
    iptables -t "$table" -S 2>/dev/null | grep -E '^-A .*(DOCKER|docker0|br-)' | sed 's/^-A/-D/' |
      while read -r rule; do eval "iptables -t $table $rule" 2>/dev/null || true; done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  local link
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^(docker0|br-)/ { sub(/@.*/, "", $2); print $2 }'); do
    ip link del "$link" 2>/dev/null || true
  done
  rm -f "$PGAF_DOCKER_STATE"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  source "$(dirname "$0")/../common.sh"
  case "${1:-}" in
    start) docker_engine_start ;;
    stop) docker_engine_stop ;;
    *) echo "usage: scripts/docker/engine.sh start|stop" >&2; exit 2 ;;
  esac
fi
