#!/usr/bin/env bash
# The main job on the embedded store: a fresh store, the shared reference data (warninglists and,
# when this build has it, the knowledge base), the demo world, and what kinship makes of it.
# Usage: scripts/demo.sh PATH/TO/kinship
set -euo pipefail
bin="$(realpath "$1")"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${KINSHIP_DATA:-$root/../shared/data}"
out="$root/build/demo"
mkdir -p "$out"
db="$out/demo.db"
rm -f "$db" "$db-wal" "$db-shm"
k() { echo; echo "\$ kinship $*"; "$bin" --db "$db" "$@"; }
has() { "$bin" --help 2>/dev/null | grep -qE "^  $1( |$)"; }

if [ -d "$data" ]; then
  k warninglists load "$data/misp-warninglists"
  if has kb; then
    k kb import "$data/mitre-attack/enterprise-attack-18.1.json" "$data/misp-galaxy/clusters"
  fi
else
  echo "demo: shared data not found at $data (set KINSHIP_DATA); running without reference data" >&2
fi
k ingest "$root/examples/demo/world"
k incidents
k stats
