#!/usr/bin/env bash
# The property tests of every parser that takes a caller's input
# (server/tests/fuzz.rs), with many more cases than the test command runs:
# PROPTEST_CASES per property (default 20000), release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cases="${PROPTEST_CASES:-20000}"
echo "[fuzz] $cases cases per property"
PROPTEST_CASES="$cases" cargo test --release -p meshdeck --test fuzz -- --test-threads=2
