#!/usr/bin/env bash
# Graph rendering in Chromium: draw time after the API answered, pan and
# zoom frame times. Prints figures; needs scripts/build.sh first.
#
#   scripts/bench-graph-browser.sh [SERVICES...]
#       live demo meshes of that many services (default 500 1000)
#   MESHDECK_BENCH_GRAPH_JSON=FILE scripts/bench-graph-browser.sh SERVICES
#       a recorded /api/graph answer for a mesh of SERVICES services, e.g.
#       the 5,000-node one the server benchmark writes:
#       MESHDECK_BENCH_WRITE_GRAPH=/tmp cargo bench -p meshdeck --bench graph -- build
#       MESHDECK_BENCH_GRAPH_JSON=/tmp/graph-2280.json scripts/bench-graph-browser.sh 2280
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(500 1000)
for n in "${sizes[@]}"; do
  (cd end2end && MESHDECK_BIN="${MESHDECK_BIN:-$target_dir/release/meshdeck}" MESHDECK_BENCH_SERVICES="$n" \
    npx playwright test -c playwright.bench.config.ts 2>&1) | grep -E '^\[bench\]|passed|failed|Error|expect'
done
