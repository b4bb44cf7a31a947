#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time on a copy of its seeds.
# Usage: run-fuzzer.sh FUZZER SEED_DIR [SECONDS]
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=${3:-${AIQ_FUZZ_SECONDS:-60}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp -r "$seeds"/. "$work/corpus/"
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" 2>&1 | tail -25
status=${PIPESTATUS[0]}
if ls "$work/artifacts"/* >/dev/null 2>&1; then
  echo "crashing inputs:" >&2
  for f in "$work/artifacts"/*; do echo "--- $f"; head -c 2000 "$f" | od -c | head -20; done >&2
  exit 1
fi
exit "$status"
