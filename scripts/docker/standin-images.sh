#!/usr/bin/env bash
# Builds local stand-ins for the five public base images docker-compose.yml and the Dockerfile use, for a
# machine that can reach Debian's mirror but no image registry (with a registry, you need none of this:
# docker-compose pulls the official images). Each stand-in is tagged with the official name, so compose and
# the Dockerfile find it present and pull nothing:
#   local/debian:bookworm               debootstrap --variant=minbase from the machine's apt mirror
#   mcr.microsoft.com/dotnet/sdk:10.0    that base + this machine's own .NET SDK (/usr/share/dotnet)
#   mcr.microsoft.com/dotnet/aspnet:10.0 that base + the SDK's shared runtimes (no SDK), user "app" (APP_UID)
#   postgres:15                          that base + Debian's postgresql-15 and an entrypoint that honours
#                                        POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB as the official one does
#   rabbitmq:3.13-management             that base + Debian's rabbitmq-server (3.10) with the management plugin,
#                                        RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS honoured
#   prom/prometheus:v2.42.0              that base + Debian's prometheus (the compose file's "monitoring" profile)
# An image already present is kept when built from the same stand-in files; --rebuild builds every one again.
# Needs root and a running engine (scripts/docker/engine.sh starts one). About 3 minutes on a fresh machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"

rebuild=0
case "${1:-}" in
  --rebuild) rebuild=1 ;;
  "") ;;
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "standin-images.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

export DOCKER_BUILDKIT=0   # the legacy builder: no buildx here, and BuildKit would fetch its frontend
# Present and built from the same stand-in files (their hash is the image's pgaf.standin label): an image made from an
# older entrypoint is built again.
present() {
  [ "$rebuild" = 0 ] || return 1
  local label
  label=$(docker image inspect -f '{{with .Config}}{{index .Labels "pgaf.standin"}}{{end}}' "$1" 2>/dev/null) || return 1
  [ "${label//<no value>/}" = "${2:-}" ]
}

base=local/debian:bookworm
if ! present "$base"; then
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  security=${mirror%/debian}/debian-security
  rootfs=$(mktemp -d /tmp/pgaf-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  say "debootstrap bookworm from $mirror (about a minute)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
    { tail -5 "$rootfs.log" >&2; echo "error: debootstrap failed (log: $rootfs.log)" >&2; exit 1; }
  rm -f "$rootfs.log"
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  # The certificate authorities this machine adds to Debian's (a TLS-inspecting proxy's, a company's): images that
  # install ca-certificates trust them too, so NuGet restores inside a build the way it does on this machine.
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$rootfs/usr/local/share/ca-certificates/" \;
  tar --numeric-owner -C "$rootfs" -c . |
    docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$base" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  say "built $base"
fi

# build TAG DOCKERFILE_DIR [CONTEXT]: the stand-in's Dockerfile lives in standins/, its context defaults to it.
build() {
  local tag=$1 dir=$2 context=${3:-$2} hash
  hash=$(cat "$dir"/* | sha256sum | cut -c1-16)
  if present "$tag" "$hash"; then return 0; fi
  say "building $tag"
  local log
  log=$(mktemp /tmp/pgaf-build.XXXXXX)
  if ! docker build -q --label "pgaf.standin=$hash" --build-arg "BASE_IMAGE=$base" -f "$dir/Dockerfile" -t "$tag" "$context" >/dev/null 2>"$log"; then
    grep -v -e '^DEPRECATED: The legacy builder' -e '^ *BuildKit is currently disabled' -e '^ *environment-variable\.$' -e '^$' "$log" | tail -20 >&2
    rm -f "$log"
    echo "error: building $tag failed" >&2
    exit 1
  fi
  rm -f "$log"
}

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
build mcr.microsoft.com/dotnet/sdk:10.0 "$here/standins/dotnet-sdk" "$dotnet_root"
build mcr.microsoft.com/dotnet/aspnet:10.0 "$here/standins/dotnet-runtime" "$dotnet_root"
build postgres:15 "$here/standins/postgres"
build rabbitmq:3.13-management "$here/standins/rabbitmq"
build prom/prometheus:v2.42.0 "$here/standins/prometheus"
say "stand-in base images ready"
