#!/bin/sh
# What `kinship kb import` costs on a store filled before the knowledge base: every stored MISP
# event whose galaxy tags name an actor or a technique is re-linked to the KB and written back,
# in the same transaction as the KB (kb_store.cc, Import). Baseline in the same run: the same
# import again on the result, which re-links nothing, so that the difference is what the
# re-linking itself costs in time and peak memory.
#   1. a generated feed (bench/gen/gen_misp_feed.py, seed 7) ingested without the KB;
#   2. `kb import` of the ATT&CK bundle and the threat-actor galaxy (re-links ~20 % of events);
#   3. the same import again (re-links 0).
# Usage: bench/macro/kb_relink.sh KINSHIP_BINARY WORKDIR [EVENTS=20000] [INDICATORS=2000000]
# Needs $KINSHIP_DATA (default ../shared/data beside the project). WORKDIR is emptied first and
# left behind for inspection.
set -eu
bin=$(realpath "$1")
work=$2
events=${3:-20000}
indicators=${4:-2000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${KINSHIP_DATA:-$root/../shared/data}
attack="$data/mitre-attack/enterprise-attack-18.1.json"
actors="$data/misp-galaxy/clusters/threat-actor.json"
if [ ! -f "$attack" ] || [ ! -f "$actors" ]; then
  echo "kb_relink.sh: ATT&CK bundle or threat-actor galaxy not found under $data (set KINSHIP_DATA)" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"
python3 "$root/bench/gen/gen_misp_feed.py" --events "$events" --indicators "$indicators" \
  --seed 7 --out "$work/feed" >/dev/null
db="$work/relink.db"
t() { /usr/bin/time -f "  %e s, peak RSS %M KB" "$@"; }
echo "ingest $events events without the KB:"
t "$bin" --db "$db" -q ingest "$work/feed"
for pass in first again; do
  echo "kb import ($pass):"
  t "$bin" --db "$db" -q kb import "$attack" "$actors"
done
