#!/usr/bin/env bash
# Release artifacts, for hosts without the .NET SDK (docs/install.md): a self-contained linux-x64 tarball of each
# service and of pgaf (the .NET runtime inside, precompiled), pgaf as a .NET tool package, and SHA256SUMS over them.
# Usage: scripts/release.sh [--version X.Y.Z] [--out DIR] [--only NAME ...]
#   --version  the version stamped into every assembly and file name (default: <Version> in Directory.Build.props)
#   --out      a new or empty folder for the artifacts (default: artifacts/release/<version>, remade)
#   --only     just these, of: monitor health-checker uri-service keeper pgaf tool (default: all)
# Prints the artifacts' paths, one a line. Needs the .NET 10 SDK and NuGet (the linux-x64 runtime packs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
out=""
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --only) shift; while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do only+=("$1"); shift; done ;;
    -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "error: version '$version' is not X.Y.Z[-suffix]" >&2; exit 2; }
if [ -z "$out" ]; then
  out=artifacts/release/$version
  rm -rf "$out"   # this script's own folder: remade
elif [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "error: --out $out is not empty (give a new or empty folder)" >&2; exit 2
fi
declare -A projects=(
  [monitor]=services/monitor/PgAutoFailover.Monitor/PgAutoFailover.Monitor.csproj
  [health-checker]=services/health-checker/PgAutoFailover.HealthChecker/PgAutoFailover.HealthChecker.csproj
  [uri-service]=services/uri-service/PgAutoFailover.UriService/PgAutoFailover.UriService.csproj
  [keeper]=services/keeper/PgAutoFailover.Keeper/PgAutoFailover.Keeper.csproj
  [pgaf]=cli/PgAutoFailover.Cli/PgAutoFailover.Cli.csproj
)
all=(monitor health-checker uri-service keeper pgaf tool)
[ ${#only[@]} -gt 0 ] || only=("${all[@]}")
for name in "${only[@]}"; do
  [[ " ${all[*]} " == *" $name "* ]] || { echo "error: unknown artifact '$name' (one of: ${all[*]})" >&2; exit 2; }
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Built from a copy of the tree's files (tracked and new, not ignored): this tree's bin/ and obj/, which tests and
# cluster.sh run from, are left as they are. The commit goes into the informational version (pgaf --version).
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || revision="$revision-modified"
mkdir -p "$work/src"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | tar -C . --null -T - -cf - | tar -C "$work/src" -xf -
else
  tar -C . --exclude=./artifacts --exclude=bin --exclude=obj -cf - . | tar -C "$work/src" -xf -
fi
cd "$work/src"
for name in "${only[@]}"; do
  if [ "$name" = tool ]; then
    say "pgaf .NET tool package $version"
    dotnet pack "${projects[pgaf]}" -c Release -p:Version="$version" -p:SourceRevisionId="$revision" -o "$out" -v q -nologo >&2
    continue
  fi
  if [ "$name" = pgaf ]; then folder="pgaf-$version"; else folder="pgaf-$name-$version"; fi
  say "$folder (self-contained linux-x64)"
  dotnet publish "${projects[$name]}" -c Release -r linux-x64 --self-contained true -p:PublishReadyToRun=true \
    -p:Version="$version" -p:SourceRevisionId="$revision" -o "$work/$folder" -v q -nologo >&2
  # The broker users' definitions go with the operator's tools (docs/operations.md#broker-users).
  if [ "$name" = pgaf ]; then install -m 0755 scripts/broker/definitions.sh "$work/$folder/pgaf-broker-definitions"; fi
  tar -C "$work" --owner=0 --group=0 -czf "$out/$folder-linux-x64.tar.gz" "$folder"
done
(cd "$out" && sha256sum -- * > SHA256SUMS)
say "artifacts in $out (SHA256SUMS: cd $out && sha256sum -c SHA256SUMS)"
ls -1 "$out"/* 
