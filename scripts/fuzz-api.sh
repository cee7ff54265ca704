#!/usr/bin/env bash
# Property-based fuzzing of the REST API with Schemathesis (PyPI), driven by
# the server's own /api/openapi.json, against the release server in demo
# mode: as the owner (admin), as a project member (alice) and signed out.
# Checks: no 5xx other than a documented one (500 is documented as a bug, so
# `not_a_server_error` fails on it regardless), every status code documented
# for its operation, JSON where JSON is documented, every body matching its
# schema. The test command runs it with FUZZ_SECONDS=60 per identity and a
# fixed seed; run it alone for longer or with other seeds:
#
#   FUZZ_SECONDS=600 FUZZ_SEED=random scripts/fuzz-api.sh
#
# Needs: python3 with venv, a built release binary (scripts/build.sh; or
# MESHDECK_BIN). Installs Schemathesis into MESHDECK_SCHEMATHESIS_VENV
# (default /var/tmp/meshdeck-schemathesis) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="${MESHDECK_SCHEMATHESIS_VENV:-/var/tmp/meshdeck-schemathesis}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
bin="${MESHDECK_BIN:-$target_dir/release/meshdeck}"
port="${MESHDECK_FUZZ_PORT:-18097}"
kube_port="${MESHDECK_FUZZ_KUBE_PORT:-18457}"
seconds="${FUZZ_SECONDS:-60}"
seed="${FUZZ_SEED:-20261207}"

say() { printf '[fuzz-api] %s\n' "$*"; }

if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  say "installing Schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
[ -x "$bin" ] || { say "no server binary at $bin: run scripts/build.sh"; exit 1; }

work=$(mktemp -d)
"$bin" demo --bind "127.0.0.1:$port" --kube-api-bind "127.0.0.1:$kube_port" --history-minutes 30 >"$work/demo.log" 2>&1 &
demo_pid=$!
trap 'kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 240); do
  curl -fsS "$base/api/ready" >/dev/null 2>&1 && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.log"; exit 1; }
  sleep 0.5
done
curl -fsS "$base/api/ready" >/dev/null || { say "the demo did not become ready"; cat "$work/demo.log"; exit 1; }

seed_args=()
[ "$seed" = random ] || seed_args=(--seed "$seed")

status=0
for who in admin alice signed-out; do
  auth=()
  [ "$who" = signed-out ] || auth=(-H "Authorization: Bearer demo-token-$who")
  say "$who: ${seconds}s"
  if ! "$venv/bin/schemathesis" run "$base/api/openapi.json" "${auth[@]}" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-time "$seconds" --workers 2 --request-timeout 30 "${seed_args[@]}" \
    --suppress-health-check too_slow,filter_too_much \
    --report json --report-dir "$work/$who" >"$work/$who.log" 2>&1; then
    status=1
    cat "$work/$who.log"
  fi
  report=$(ls "$work/$who"/*.json 2>/dev/null | head -1 || true)
  if [ -n "$report" ]; then
    python3 - "$report" "$who" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["test_cases"]
ops = d["operations"]
print(f"[fuzz-api] {sys.argv[2]}: {t['generated']} requests over {ops['tested']} operations, "
      f"{t['with_failures']} failing, {len(d['errors'])} errors, {d['running_time']:.0f} s")
EOF
  else
    say "$who: no report"; tail -20 "$work/$who.log"; status=1
  fi
done
exit "$status"
