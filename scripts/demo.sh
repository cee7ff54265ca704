#!/usr/bin/env bash
# Quick start: set up, build, and run meshdeck on its built-in demo mesh.
# Extra arguments go to `meshdeck demo` (e.g. --bind 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
exec "$target_dir/release/meshdeck" demo "$@"
