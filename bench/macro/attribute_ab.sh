#!/bin/sh
# `kinship --json attribute --unattributed` by two builds on one store, alternated (A, B, A, B,
# ...), in one run: wall and CPU time and peak RSS of each call, then how many of the answers
# differ and how many of those name another first actor or abstain otherwise. A is the
# baseline (an earlier build), B the build under test.
# Usage: bench/macro/attribute_ab.sh BINARY_A BINARY_B STORE [runs]
# STORE: e.g. bench/gen/gen_misp_feed.py --events 10000 --indicators 1000000 --seed 7, ingested
# with the ATT&CK KB. Snapshots beside the store are used by both builds when current.
set -eu
a=$1
b=$2
db=$3
runs=${4:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ "$i" -lt "$runs" ]; do
  for side in A B; do
    if [ "$side" = A ]; then bin=$a; else bin=$b; fi
    /usr/bin/time -f "$side run $i: %e s wall, %U s user, %M KB peak" -o "$tmp/time" \
      "$bin" -q --db "$db" --json attribute --unattributed >"$tmp/$side.jsonl"
    cat "$tmp/time"
  done
  i=$((i + 1))
done
python3 - "$tmp/A.jsonl" "$tmp/B.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
first = lambda r: r["candidates"][0]["actor"] if r["candidates"] else None
diff = sum(x != y for x, y in zip(a, b))
top = sum(first(x) != first(y) for x, y in zip(a, b))
abst = sum(x["abstained"] != y["abstained"] for x, y in zip(a, b))
print(f"{len(a)} / {len(b)} answers; differ {diff}, first actor differs {top}, abstention differs {abst}")
PY
