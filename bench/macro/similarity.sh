#!/bin/sh
# Similarity macro benchmark (kinship vs the MISP-style SQLite self-join, same run).
# Usage: bench/macro/similarity.sh [build-dir] [incidents] [indicators-per-incident] [max_candidate_df]
# Needs a build configured with -DKINSHIP_BENCH=ON (target similarity_macro).
set -eu
build=${1:-build/bench}
n=${2:-100000}
per=${3:-100}
df=${4:-0}
ninja -C "$build" -j2 similarity_macro
# args: incidents, indicators/incident, similar queries, sqlite queries, campaigns (0/1), max_candidate_df
"$build/similarity_macro" "$n" "$per" 1000 200 "$([ "$n" -le 20000 ] && echo 1 || echo 0)" "$df"
