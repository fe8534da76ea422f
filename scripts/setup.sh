#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test keycloak-wasm. Idempotent: every step
# checks first, so a second run takes seconds. Stops with a clear message when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
step() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[31msetup failed:\033[0m %s\n' "$*" >&2; exit 1; }

# Installs Debian packages with apt-get, through sudo when not root.
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || fail "this user cannot run apt-get; install the Debian packages: $*"
    sudo=sudo
  fi
  $sudo apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null || fail "apt-get install $* failed"
}

# --- Debian packages: Chromium and its driver for the browser tests -------------------------
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  step "installing chromium and chromium-driver (apt)"
  apt_install chromium chromium-driver
fi

# --- Debian package: Redis, which the hub's scale-out tests start on a free loopback port ----
if ! command -v redis-server >/dev/null; then
  step "installing redis-server (apt)"
  apt_install redis-server
fi

# --- Debian packages: Firefox ESR, the second engine of the browser tests --------------------
if ! command -v firefox-esr >/dev/null; then
  step "installing firefox-esr (apt)"
  apt_install firefox-esr
fi

# --- Rust: the wasm target and the two CLIs wasm-pack needs ----------------------------------
command -v cargo >/dev/null || fail "cargo is missing: install Rust with rustup"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >/dev/null || fail "rustup target add wasm32-unknown-unknown failed"
fi

if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack $WASM_PACK_VERSION" ]; then
  step "installing wasm-pack $WASM_PACK_VERSION (about 2 minutes)"
  cargo install --locked --quiet wasm-pack --version "$WASM_PACK_VERSION" || fail "cargo install wasm-pack failed"
fi

# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock, byte for byte.
BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$BINDGEN_VERSION" ] || fail "cannot read the wasm-bindgen version from Cargo.lock"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $BINDGEN_VERSION (about 2 minutes)"
  # Not --locked: the CLI's own lock file pins a crate version the registry mirror lacks.
  cargo install --quiet --force wasm-bindgen-cli --version "$BINDGEN_VERSION" || fail "cargo install wasm-bindgen-cli failed"
fi

# geckodriver runs the wasm-bindgen browser tests in Firefox (the e2e tests speak BiDi directly).
if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 { print $2 }')" != "$GECKODRIVER_VERSION" ]; then
  step "installing geckodriver $GECKODRIVER_VERSION (cargo install, several minutes)"
  cargo install --locked --quiet geckodriver --version "$GECKODRIVER_VERSION" || fail "cargo install geckodriver failed"
fi

# --- npm: dependencies, including binaryen's wasm-opt (Debian's wasm-opt 108 miscompiles) ----
command -v node >/dev/null || fail "node is missing: install Node.js 20 or newer"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || fail "npm ci failed"
fi
node_modules/.bin/wasm-opt --version >/dev/null 2>&1 || fail "node_modules/.bin/wasm-opt (npm binaryen) does not run"

step "ready"
