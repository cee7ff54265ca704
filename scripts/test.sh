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

# The server without demo mode (no simulator in the binary) must build too.
echo "[test] cargo clippy -p meshdeck --no-default-features (serve only)"
cargo clippy -p meshdeck --no-default-features -- -D warnings

echo "[test] host tests (cargo test)"
cargo test 2>&1 | tee -a "$log"

scripts/build.sh

# The tests marked `#[ignore = "needs cluster"]`, against the demo's
# in-memory Kubernetes API over HTTP: a stand-in that checks they work from
# a kubeconfig; a real cluster (README, "Live-cluster tests") adds real RBAC.
echo "[test] live-cluster tests against the demo's Kubernetes API"
kube_dir=$(mktemp -d)
"$target_dir/release/meshdeck" demo --bind 127.0.0.1:0 --history-minutes 0 \
  --kube-api-bind 127.0.0.1:0 --write-kubeconfig "$kube_dir/kubeconfig" >"$kube_dir/demo.log" 2>&1 &
demo_pid=$!
trap 'kill "$demo_pid" 2>/dev/null || true; rm -rf "$log" "$kube_dir"' EXIT
for _ in $(seq 1 120); do
  [ -s "$kube_dir/kubeconfig" ] && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$kube_dir/demo.log"; exit 1; }
  sleep 0.5
done
[ -s "$kube_dir/kubeconfig" ] || { echo "the demo's Kubernetes API did not come up"; cat "$kube_dir/demo.log"; exit 1; }
KUBECONFIG="$kube_dir/kubeconfig" MESHDECK_TEST_TOKEN=demo-token-alice \
  cargo test -p meshdeck --test live_cluster --test live_enablement --test live_wizards --test live_rollouts -- --ignored --test-threads=1 2>&1 | tee -a "$log"
kill "$demo_pid"
wait "$demo_pid" || true

# Schemathesis against the demo with /api/openapi.json (its own ports).
echo "[test] API fuzzer (Schemathesis)"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" MESHDECK_BIN="$target_dir/release/meshdeck" scripts/fuzz-api.sh

echo "[test] Playwright end-to-end suite"
(cd end2end && MESHDECK_BIN="$target_dir/release/meshdeck" npx playwright test) 2>&1 | tee -a "$log"

# One closing line over both runners.
cargo_passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
e2e_passed=$(grep -oE '^ +[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
echo "[test] cargo: $cargo_passed passed; playwright: $e2e_passed passed"
echo "meshdeck: $((cargo_passed + e2e_passed)) passed, 0 failed"
