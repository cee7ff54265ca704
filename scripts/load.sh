#!/usr/bin/env bash
# Load, a hung upstream and slow clients against `meshdeck demo` on
# loopback (server/benches/load.rs): builds the release binary, then prints
# latency percentiles, errors, meshdeck's memory and Prometheus' queries.
# Bounded: about two minutes (MESHDECK_LOAD_SECONDS per load phase, 10 by
# default), plus up to 90 s per slow-client probe.
# Extra arguments go to the bench, e.g. `--synthetic 500`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -p meshdeck
MESHDECK_BIN="$target/release/meshdeck" cargo bench -p meshdeck --bench load -- "$@"
