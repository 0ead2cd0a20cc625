#!/bin/sh
# Index snapshot against indexing the store (DESIGN.md: "Indexes are rebuilt from the store or
# loaded from a snapshot; measure which starts faster at 10 M indicators"), in one run: the same
# `kinship similar` calls without a snapshot, then with one, answers compared byte for byte.
# Usage: bench/macro/snapshot.sh KINSHIP_BINARY STORE [queries] [similar|attribute]
# (attribute: `kinship --json attribute ID`, which loads the similarity index and the naming-style
# index and classifier from their snapshots and reads no incident from the store; it is then run
# a third time with the naming-style snapshot moved away, reading the store's names and
# attributions and training the classifier as the fourteenth session's build did)
# STORE: e.g. the generated feed (bench/gen/gen_misp_feed.py --events 100000 --indicators
# 10000000 --seed 1, then `kinship --db STORE ingest`). Moves STORE.kindex and STORE.kstyle away
# while it runs without them and leaves current snapshots behind.
set -eu
bin=$1
db=$2
queries=${3:-3}
what=${4:-similar}
case "$what" in
  similar) args="--top 10" ;;
  attribute) args="" ;;
  *) echo "unknown command $what" >&2; exit 2 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -e "$db.kindex" ] && mv "$db.kindex" "$tmp/old.kindex"
[ -e "$db.kstyle" ] && mv "$db.kstyle" "$tmp/old.kstyle"
ids=$("$bin" --db "$db" --json incidents 2>/dev/null | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
step = max(1, len(rows) // '"$queries"')
print(" ".join(r["id"] for r in rows[::step][:'"$queries"']))')
# Seconds and peak RSS (MB) of one command; its stdout into $tmp/$2.
run() {
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" --quiet --db "$db" --json $1 > "$tmp/$2"
  awk '{printf "%s s, %.0f MB", $1, $2 / 1024}' "$tmp/time"
}
# Each query once, "$1" saying how, stdout into $tmp/$2.N; after the first round, each answer
# compared with the one of the store indexed whole.
queries() {
  i=0
  for id in $ids; do
    i=$((i + 1))
    echo "$what $i ($id): $1: $(run "$what $id $args" "$2.$i")"
    [ "$2" = rebuilt ] || { cmp -s "$tmp/rebuilt.$i" "$tmp/$2.$i" && echo "  same answer" ||
      echo "  DIFFERENT ANSWER"; }
  done
}
queries "indexing the store" rebuilt
echo "kinship index build: $(run "index build" build.json)"
ls -l "$db.kindex" | awk '{printf "snapshot: %.1f MB\n", $5 / 1e6}'
ls -l "$db.kstyle" | awk '{printf "naming-style snapshot: %.1f MB\n", $5 / 1e6}'
queries "from the snapshot" loaded
[ "$what" = attribute ] || exit 0
mv "$db.kstyle" "$tmp/kept.kstyle"
queries "from the index snapshot alone" half
mv "$tmp/kept.kstyle" "$db.kstyle"
