#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each over a copy of its seed corpus and
# prints the executions each ran. Fails on the first crash. Usage: fuzz-smoke.sh BUILD_DIR SECONDS
set -euo pipefail
build="$1"
secs="${2:-20}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
shopt -s nullglob
for fuzzer in "$build"/*_fuzzer; do
  name="$(basename "$fuzzer" _fuzzer)"
  corpus="$work/$name"
  mkdir -p "$corpus"
  if [ -d "$root/fuzz/corpus/$name" ]; then cp -r "$root/fuzz/corpus/$name/." "$corpus/"; fi
  log="$work/$name.log"
  if ! "$fuzzer" -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 "$corpus" \
      >"$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz-smoke: $name FAILED" >&2
    exit 1
  fi
  execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')"
  if [ -z "$execs" ]; then
    execs="$(grep -Eo '#[0-9]+' "$log" | tail -1 | tr -d '#')"
  fi
  echo "fuzz-smoke: $name: ${execs:-?} executions in ${secs}s, 0 crashes"
done
