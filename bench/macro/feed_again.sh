#!/bin/sh
# A MISP feed pulled again, unchanged: `kinship ingest FEED` leaves the events stored from the same
# file bytes as they are (nothing written, the index snapshots stay current), against `ingest
# --again FEED`, which replaces every one (what every pull cost before; the snapshots are then
# brought up to date by taking every incident out and adding it again), in one run on one copy of
# STORE:
#   1. STORE copied, `kinship index build`;
#   2. `ingest FEED` (unchanged) twice, each followed by `index status`: a store written before
#      schema v7 lacks each incident's file count, so the first pull parses every file and keeps
#      the counts, and the second parses none;
#   3. `ingest --again FEED`, then `index status`.
# Usage: bench/macro/feed_again.sh KINSHIP_BINARY STORE FEED WORKDIR
# STORE: e.g. bench/gen/gen_misp_feed.py --events 100000 --indicators 10000000 --seed 1 --out FEED,
# ingested (with the ATT&CK KB). WORKDIR gets the copy; it is left behind for inspection.
set -eu
bin=$1
store=$2
feed=$3
work=$4
mkdir -p "$work"
rm -f "$work"/again.db*
cp "$store" "$work/again.db"
db="$work/again.db"
t() { /usr/bin/time -f "  %e s, peak RSS %M KB" "$@"; }
echo "index build:"
t "$bin" --db "$db" -q index build
for pull in first second; do
  echo "ingest the feed again, unchanged ($pull time):"
  t "$bin" --db "$db" ingest "$feed"
  "$bin" --db "$db" index status | head -1
done
echo "ingest --again (every event replaced):"
t "$bin" --db "$db" ingest --again "$feed"
"$bin" --db "$db" index status | head -1
