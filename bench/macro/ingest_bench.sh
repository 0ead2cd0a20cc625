#!/usr/bin/env bash
# End-to-end ingest benchmark: a generated MISP feed (bench/gen/gen_misp_feed.py, Zipf-like value
# reuse, generated at run time, never committed) ingested by `kinship ingest` into a fresh store.
# Baseline in the same run: sqlite3's own CSV import of the same (event, type, value) rows into one
# plain table (the floor cost of writing the rows with no parsing, normalisation or indexing).
# Usage: bench/macro/ingest_bench.sh KINSHIP_BINARY [INDICATORS...]   (default: 1000000)
set -euo pipefail
bin="$(realpath "$1")"; shift
sizes=("${@:-1000000}")
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/kinship-ingest-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

printf '%-12s %-8s %-10s %-12s %-14s %-10s %-12s %-8s\n' indicators events seconds events/s \
  indicators/s store_MB baseline_s ratio
for n in "${sizes[@]}"; do
  events=$(( n / 1000 > 0 ? n / 1000 : 1 ))
  feed="$work/feed-$n"
  python3 "$root/bench/gen/gen_misp_feed.py" --events "$events" --indicators "$n" --seed 7 \
    --out "$feed" >/dev/null
  db="$work/store-$n.db"
  sync  # the generator's files are written back now, not while kinship runs
  start=$(date +%s.%N)
  "$bin" --db "$db" --quiet --json ingest "$feed" >"$work/out-$n.json"
  end=$(date +%s.%N)
  secs=$(python3 -c "print(f'{$end-$start:.2f}')")
  rows=$(python3 -c "import json;d=json.load(open('$work/out-$n.json'));print(d['indicators'])")
  size=$(du -cm "$db"* | tail -1 | cut -f1)
  # Baseline: the same rows as CSV, imported by sqlite3 into one table in one transaction.
  python3 - "$feed" "$work/rows-$n.csv" <<'PY'
import json, os, sys, csv
feed, out = sys.argv[1], sys.argv[2]
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    for name in sorted(os.listdir(feed)):
        if name == "manifest.json" or not name.endswith(".json"):
            continue
        ev = json.load(open(os.path.join(feed, name)))["Event"]
        for a in ev.get("Attribute", []):
            w.writerow([ev["uuid"], a["type"], a["value"]])
        for o in ev.get("Object", []):
            for a in o.get("Attribute", []):
                w.writerow([ev["uuid"], a["type"], a["value"]])
PY
  bdb="$work/baseline-$n.db"
  sync
  bstart=$(date +%s.%N)
  sqlite3 "$bdb" "PRAGMA journal_mode=WAL;" "CREATE TABLE a(event TEXT, type TEXT, value TEXT);" \
    ".mode csv" ".import $work/rows-$n.csv a" >/dev/null
  bend=$(date +%s.%N)
  bsecs=$(python3 -c "print(f'{$bend-$bstart:.2f}')")
  python3 - "$n" "$events" "$secs" "$rows" "$size" "$bsecs" <<'PY'
import sys
n, events, secs, rows, size, bsecs = sys.argv[1:]
secs, bsecs = float(secs), float(bsecs)
print(f"{n:<12} {events:<8} {secs:<10.2f} {int(events)/secs:<12.0f} {int(n)/secs:<14.0f} "
      f"{size:<10} {bsecs:<12.2f} {secs/bsecs:<8.2f}")
PY
  echo "  (store rows written incl. derived indicators: $rows)"
  rm -rf "$feed" "$db"* "$bdb"* "$work/rows-$n.csv"
done
