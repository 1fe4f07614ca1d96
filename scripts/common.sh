# Shared by test.sh and cluster.sh: install and start what PgAutoFailover needs on a Debian
# machine (RabbitMQ from Debian, PostgreSQL 15), idempotently. Source it; needs root for apt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

pgaf_t0=$SECONDS
say() { echo "[pgaf +$((SECONDS - pgaf_t0))s] $*" >&2; }

# ensure_packages [COMMAND...]: RabbitMQ, PostgreSQL 15 and the .NET SDK, plus the Debian packages of the same
# name as the extra commands when missing (test.sh: docker-compose, which validates docker-compose.yml without an
# engine; always --no-install-recommends, below: its recommends pull in dockerd, containerd and needrestart).
ensure_packages() {
  local missing=() c
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
  for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
  command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK is not installed (dotnet not on PATH)" >&2; exit 1; }
  if ((${#missing[@]})); then
    say "installing ${missing[*]} with apt-get"
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

amqp_open() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

# Starts the machine's RabbitMQ (with the management API, used for per-test virtual hosts) unless it
# already answers. apt does not start services here (no systemd, policy-rc.d), so we do.
# Sets PGAF_STARTED_RABBITMQ=1 when this call started it.
ensure_rabbitmq() {
  PGAF_STARTED_RABBITMQ=0
  if amqp_open; then return 0; fi
  say "starting rabbitmq-server"
  rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  service rabbitmq-server start >/dev/null
  PGAF_STARTED_RABBITMQ=1
  # ping succeeds before the AMQP listener is up: wait for the port itself.
  for _ in $(seq 1 300); do amqp_open && break; sleep 0.2; done
  amqp_open || { echo "error: RabbitMQ did not open port 5672; see /var/log/rabbitmq" >&2; exit 1; }
  say "rabbitmq ready on 127.0.0.1:5672"
}
