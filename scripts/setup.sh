#!/usr/bin/env bash
# Installs what meshdeck's build, demo and tests need, and nothing that is
# already there. Safe to run again and again. Needs: Debian 12 (or newer),
# root (or sudo) for apt, and rustup's Rust toolchain.
#
#   wasm32 target (rustup), Trunk 0.21.14 and wasm-bindgen-cli (cargo install),
#   @playwright/test and binaryen's wasm-opt (npm, in end2end/),
#   chromium, chromium-driver, prometheus, python3-venv, curl (apt,
#   --no-install-recommends).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
APT_PACKAGES=(chromium chromium-driver prometheus)

say() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

export PATH="$HOME/.cargo/bin:$PATH"

# --- Rust -------------------------------------------------------------------
command -v cargo >/dev/null && command -v rustup >/dev/null ||
  fail "Rust (cargo + rustup) is required; install it with rustup (https://rustup.rs) and run again."

for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "adding the $component component"
    rustup component add "$component"
  fi
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
  say "installing Trunk $TRUNK_VERSION (about 11 minutes on 2 cores, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock exactly.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$WBG_VERSION" ] || fail "cannot find wasm-bindgen in Cargo.lock"
grep -q "wasm_bindgen = \"$WBG_VERSION\"" Trunk.toml ||
  fail "Trunk.toml's [tools] wasm_bindgen must be \"$WBG_VERSION\" (the version in Cargo.lock)"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WBG_VERSION" ]; then
  say "installing wasm-bindgen-cli $WBG_VERSION (about 2 minutes, once)"
  # Not --locked: its own lockfile pins a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --force
fi

# --- Debian packages ----------------------------------------------------------
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
{ command -v prometheus >/dev/null && command -v promtool >/dev/null; } || missing+=(prometheus)
command -v npm >/dev/null || missing+=(nodejs npm)
# The API fuzzer (scripts/fuzz-api.sh) installs Schemathesis into a venv.
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  [ -r /etc/debian_version ] ||
    fail "not a Debian system: install ${missing[*]} with your package manager (Chromium, ChromeDriver, Prometheus with promtool, Node.js with npm) and run again."
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null ||
      fail "installing ${missing[*]} needs root: run 'apt-get install --no-install-recommends ${missing[*]}' as root, then run again."
    sudo -n true 2>/dev/null ||
      fail "installing ${missing[*]} needs root, and sudo asks for a password: run 'sudo apt-get install --no-install-recommends ${missing[*]}', then run again."
    SUDO=sudo
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Playwright needs Node.js 20 or newer; Debian 12's own nodejs is 18. The
# npm registry carries Node.js builds (package `node`), so an older Node.js
# gets a newer one through npm, into /usr/local/bin (ahead of /usr/bin).
node_major() { { node --version 2>/dev/null || echo v0; } | sed -E 's/^v([0-9]+).*/\1/'; }
if [ "$(node_major)" -lt 20 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || { sudo -n true 2>/dev/null && SUDO=sudo; } ||
    fail "Node.js $(node --version 2>/dev/null || echo '(none)') is too old: Playwright needs Node.js 20 or newer. Run 'sudo npm install -g node@20' (or install Node.js 20+ another way), then run again."
  say "installing Node.js 20 from the npm registry (npm install -g node@20; Debian 12 ships 18)"
  $SUDO npm install -g --no-audit --no-fund node@20
  hash -r
  [ "$(node_major)" -ge 20 ] ||
    fail "Node.js is still $(node --version 2>/dev/null || echo '(none)') after 'npm install -g node@20': install Node.js 20+ (e.g. NodeSource's Debian package) and run again."
fi

# --- npm packages in end2end/ ------------------------------------------------------
# Playwright's own browser download is never used: the tests drive Debian's Chromium.
if [ ! -x end2end/node_modules/.bin/playwright ] || [ ! -x end2end/node_modules/.bin/wasm-opt ] ||
   [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing npm packages in end2end/"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

say "all tools present"
