#!/bin/sh
# An ingest that keeps the index snapshot current, against the alternative it replaces (ingest,
# then `kinship index build` again), in one run on copies of one store:
#   1. a store of every file of FEED but the last HOLD (by name), with KB, and its snapshot;
#   2. the HOLD files ingested into a copy without a snapshot (the baseline ingest), then
#      `kinship index build` on it (what keeping the snapshot current otherwise costs);
#   3. the HOLD files ingested into the store with its current snapshot (kept current);
#   4. the kept snapshot compared byte for byte with the one built on the baseline copy (the same
#      incidents in the same order: the files must be equal), and a `similar` of a held-out
#      incident from each.
# Usage: bench/macro/snapshot_ingest.sh KINSHIP_BINARY FEED HOLD WORKDIR [KB_FILE]
# FEED: e.g. bench/gen/gen_misp_feed.py --events 100000 --indicators 10000000 --seed 1 --out FEED.
# WORKDIR gets two stores of FEED's size; it is left behind for inspection.
set -eu
bin=$1
feed=$2
hold=$3
work=$4
kb=${5:-}
mkdir -p "$work/first" "$work/held"
rm -f "$work"/*.db* "$work"/first/* "$work"/held/*
# The events (not the feed's manifest, which names them all).
events() { ls "$feed" | grep '\.json$' | grep -v '^manifest\.json$' | sort; }
n=$(events | wc -l)
events | head -n $((n - hold)) | while read -r f; do ln -s "$feed/$f" "$work/first/$f"; done
events | tail -n "$hold" | while read -r f; do ln -s "$feed/$f" "$work/held/$f"; done
# Seconds and peak RSS (MB) of one command on store $1; its stdout into $work/$2.
run() {
  db=$1
  out=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --quiet --db "$db" --json "$@" > "$work/$out"
  awk '{printf "%s s, %.0f MB", $1, $2 / 1024}' "$work/time"
}
if [ -n "$kb" ]; then
  echo "kb import: $(run "$work/a.db" kb.json kb import "$kb")"
fi
echo "ingest of $((n - hold)) files: $(run "$work/a.db" ingest-first.json ingest "$work/first")"
echo "index build: $(run "$work/a.db" build-first.json index build)"
cp "$work/a.db" "$work/b.db"
echo "baseline: ingest of $hold files, no snapshot: $(run "$work/b.db" ingest-b.json ingest "$work/held")"
echo "baseline: index build after it: $(run "$work/b.db" build-b.json index build)"
echo "ingest of $hold files keeping the snapshot current: $(run "$work/a.db" ingest-a.json ingest "$work/held")"
python3 - "$work/ingest-a.json" <<'EOF'
import json, sys
s = json.loads(open(sys.argv[1]).readline())["index_snapshot"]
print(f"  snapshot {s['state']}: {s['added']} incidents added in {s['seconds']:.2f} s {s['why']}")
EOF
cmp -s "$work/a.db.kindex" "$work/b.db.kindex" && echo "kept snapshot == rebuilt snapshot, byte for byte" ||
  echo "KEPT SNAPSHOT DIFFERS FROM THE REBUILT ONE"
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["incident_ids"][0])' "$work/ingest-a.json")
echo "similar $id from the kept snapshot: $(run "$work/a.db" similar-a.json similar "$id" --top 10)"
echo "similar $id from the rebuilt one: $(run "$work/b.db" similar-b.json similar "$id" --top 10)"
cmp -s "$work/similar-a.json" "$work/similar-b.json" && echo "  same answer" || echo "  DIFFERENT ANSWER"
