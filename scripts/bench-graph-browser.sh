#!/usr/bin/env bash
# Graph rendering in Chromium on synthetic meshes (default 500 and 1000
# services): draw time after the API answered, pan and zoom frame times.
# Prints figures; needs scripts/build.sh first (the release server and dist/).
#   scripts/bench-graph-browser.sh [SERVICES...]
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(500 1000)
for n in "${sizes[@]}"; do
  (cd end2end && MESHDECK_BIN="${MESHDECK_BIN:-$target_dir/release/meshdeck}" MESHDECK_BENCH_SERVICES="$n" \
    npx playwright test -c playwright.bench.config.ts) | grep -E '^\[bench\]|passed|failed|Error'
done
