#!/usr/bin/env bash
# Release build: the UI with Trunk (WASM, wasm-opt) into dist/, precompressed
# copies for the server to send gzip'ed, and the `meshdeck` binary. Prints the
# bundle's size. Run scripts/setup.sh first (demo.sh and test.sh do).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "[build] UI (trunk build --release)"
trunk build --release

# The server sends these .gz files to browsers that accept gzip.
find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) \
  -exec gzip -9 -k -f {} \;

raw=0; gz=0
for f in dist/*.wasm dist/*.js; do
  raw=$((raw + $(stat -c %s "$f")))
  gz=$((gz + $(stat -c %s "$f.gz")))
done
printf '[build] bundle (WASM + JS): %d KiB raw, %d KiB gzip\n' $((raw / 1024)) $((gz / 1024))
for f in dist/*.wasm dist/*.js dist/*.css; do
  printf '[build]   %-48s %8d B raw %8d B gzip\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(stat -c %s "$f.gz")"
done

echo "[build] server (cargo build --release)"
# The UI goes into the binary too (server/build.rs), so it serves without
# --static-dir.
MESHDECK_EMBED_DIST="$PWD/dist" cargo build --release -p meshdeck
