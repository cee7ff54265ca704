#!/usr/bin/env bash
# Every check, as CI runs it: formatting, clippy, host tests, the release
# build of UI and server, and the Playwright suite against the release server
# (demo mode) in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "[test] cargo fmt --check"
cargo fmt --all -- --check

echo "[test] cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "[test] host tests (cargo test)"
cargo test 2>&1 | tee -a "$log"

scripts/build.sh

echo "[test] Playwright end-to-end suite"
(cd end2end && MESHDECK_BIN="$target_dir/release/meshdeck" npx playwright test) 2>&1 | tee -a "$log"

# One closing line over both runners.
cargo_passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
e2e_passed=$(grep -oE '^ +[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
echo "[test] cargo: $cargo_passed passed; playwright: $e2e_passed passed"
echo "meshdeck: $((cargo_passed + e2e_passed)) passed, 0 failed"
