#!/bin/sh
# An ingest that keeps the index snapshot current, against the alternative it replaces (ingest,
# then `kinship index build` again), in one run on copies of one store:
#   1. a store of every file of FEED but the last HOLD (by name), with KB, and its snapshot;
#   2. the HOLD files ingested into a copy without a snapshot (the baseline ingest), then
#      `kinship index build` on it (what keeping the snapshot current otherwise costs);
#   3. the HOLD files ingested into the store with its current snapshot (kept current);
#   4. the kept snapshots compared byte for byte with those built on the baseline copy (the same
#      incidents in the same order: the files must be equal), and a `similar` and an `attribute`
#      of a held-out incident from each.
# With HELD `unattributed`, the HOLD files held out are the last ones that state no actor (no
# threat-actor tag): an ingest of them also keeps the naming-style snapshot (<db>.kstyle)
# current; with `all` (the default) the last HOLD files, some of which state actors (it is then
# left stale, and the first `attribute` trains it and saves it: a second `attribute` is timed and
# the saved file compared with the rebuilt one).
# Usage: bench/macro/snapshot_ingest.sh KINSHIP_BINARY FEED HOLD WORKDIR [KB_FILE [all|unattributed]]
# FEED: e.g. bench/gen/gen_misp_feed.py --events 100000 --indicators 10000000 --seed 1 --out FEED.
# WORKDIR gets two stores of FEED's size; it is left behind for inspection.
set -eu
bin=$1
feed=$(cd "$2" && pwd)  # absolute: the links made below point to it
hold=$3
work=$4
kb=${5:-}
held=${6:-all}
mkdir -p "$work/first" "$work/held"
rm -f "$work"/*.db* "$work"/first/* "$work"/held/*
# The events (not the feed's manifest, which names them all).
events() { ls "$feed" | grep '\.json$' | grep -v '^manifest\.json$' | sort; }
n=$(events | wc -l)
case "$held" in
  all) events | tail -n "$hold" > "$work/held.list" ;;
  unattributed)
    events | (cd "$feed" && xargs grep -L 'misp-galaxy:threat-actor') | sort | tail -n "$hold" \
      > "$work/held.list" ;;
  *) echo "HELD: all or unattributed" >&2; exit 2 ;;
esac
# (feed file names hold no spaces: UUIDs)
events | grep -vxF -f "$work/held.list" | sed "s|^|$feed/|" | xargs ln -s -t "$work/first"
sed "s|^|$feed/|" "$work/held.list" | xargs ln -s -t "$work/held"
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
out = json.loads(open(sys.argv[1]).readline())
s = out["index_snapshot"]
print(f"  snapshot {s['state']}: {s['added']} incidents added in {s['seconds']:.2f} s {s['why']}")
st = out.get("style_snapshot", {"state": "none", "why": ""})
print(f"  naming-style snapshot {st['state']} {st['why']}")
EOF
# The two stores' keys differ (each write sets a random generation), and each snapshot holds its
# store's key: compare the files with the kept one's key read as the rebuilt one's.
"$bin" --quiet --db "$work/a.db" --json index status > "$work/status-a.json"
"$bin" --quiet --db "$work/b.db" --json index status > "$work/status-b.json"
same() {
  python3 - "$work/status-a.json" "$work/status-b.json" "$1" "$2" "$3" <<'EOF'
import json, struct, sys
a, b = (json.loads(open(f).readline()) for f in sys.argv[1:3])
field, x, y = sys.argv[3], open(sys.argv[4], "rb").read(), open(sys.argv[5], "rb").read()
# A key is stored as its length (u64, host order) and its bytes.
ka, kb = (struct.pack("=Q", len(k.encode())) + k.encode() for k in (a[field], b[field]))
sys.exit(0 if a[field] == a["store_key"] and b[field] == b["store_key"] and
         x.replace(ka, kb, 1) == y else 1)
EOF
}
same snapshot_key "$work/a.db.kindex" "$work/b.db.kindex" &&
  echo "kept snapshot == rebuilt snapshot, byte for byte but the store key" ||
  echo "KEPT SNAPSHOT DIFFERS FROM THE REBUILT ONE"
if [ "$held" = unattributed ]; then
  same style_snapshot_key "$work/a.db.kstyle" "$work/b.db.kstyle" &&
    echo "kept naming-style snapshot == rebuilt one, byte for byte but the store key" ||
    echo "KEPT NAMING-STYLE SNAPSHOT DIFFERS FROM THE REBUILT ONE"
fi
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["incident_ids"][0])' "$work/ingest-a.json")
echo "similar $id from the kept snapshot: $(run "$work/a.db" similar-a.json similar "$id" --top 10)"
echo "similar $id from the rebuilt one: $(run "$work/b.db" similar-b.json similar "$id" --top 10)"
cmp -s "$work/similar-a.json" "$work/similar-b.json" && echo "  same answer" || echo "  DIFFERENT ANSWER"
echo "attribute $id on the kept store: $(run "$work/a.db" attribute-a.json attribute "$id")"
echo "attribute $id on the rebuilt one: $(run "$work/b.db" attribute-b.json attribute "$id")"
cmp -s "$work/attribute-a.json" "$work/attribute-b.json" && echo "  same answer" || echo "  DIFFERENT ANSWER"
if [ "$held" = all ]; then
  # The ingest left the naming-style snapshot stale; the first `attribute` above trained it from
  # the store's names and saved it: the second loads both snapshots.
  echo "attribute $id again on the kept store: $(run "$work/a.db" attribute-a2.json attribute "$id")"
  cmp -s "$work/attribute-a2.json" "$work/attribute-b.json" && echo "  same answer" ||
    echo "  DIFFERENT ANSWER"
  "$bin" --quiet --db "$work/a.db" --json index status > "$work/status-a.json"
  same style_snapshot_key "$work/a.db.kstyle" "$work/b.db.kstyle" &&
    echo "naming-style snapshot saved by attribute == rebuilt one, byte for byte but the store key" ||
    echo "NAMING-STYLE SNAPSHOT SAVED BY ATTRIBUTE DIFFERS FROM THE REBUILT ONE"
fi
