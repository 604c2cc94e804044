#!/usr/bin/env bash
# Runs Kubecast's whole test suite on a fresh machine, installing what it needs first.
# Usage: scripts/test.sh            (the README's test command; .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

apt_install() {
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}

if ! command -v redis-server >/dev/null 2>&1; then
  log "installing redis-server (Debian package)"
  apt_install redis-server
fi
if ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium (Debian package) for the browser tests"
  apt_install chromium
fi
if ! command -v npm >/dev/null 2>&1; then
  log "installing node and npm (Debian packages)"
  apt_install nodejs npm
fi

log "tool versions"
cargo --version
redis-server --version
node --version
chromium --version

log "checking formatting (cargo fmt --check)"
cargo fmt --all --check

log "building and linting (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --all-targets --locked

log "running the test suite (unit, route, WebSocket and integration tests)"
# Tests spawn their own redis-server processes on free ports; two test threads keep the
# 2-core machine responsive for the multi-process integration tests.
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
cargo test --workspace --all-targets --locked -- --test-threads=2 2>&1 | tee "$out"

# Totals over every test binary, printed at the end with the browser tests' totals.
rust_totals="$(awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "%d passed, %d failed, %d skipped", p, f, s }' "$out")"

log "browser tests: the dashboard in headless chromium (playwright-core; screenshots in target/browser-artifacts)"
(cd tests/browser && npm ci --no-audit --no-fund && npm test) 2>&1 | tee "$out"
browser_totals="$(awk '/^# pass/ { p = $3 } /^# fail/ { f = $3 } /^# skipped/ { s = $3 } END { printf "%d passed, %d failed, %d skipped", p, f, s }' "$out")"

printf '\ntests (Rust): %s\ntests (browser): %s\n' "$rust_totals" "$browser_totals"
