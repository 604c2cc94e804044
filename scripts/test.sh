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

log "tool versions"
cargo --version
redis-server --version

log "checking formatting (cargo fmt --check)"
cargo fmt --all --check

log "building and linting (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --all-targets --locked

log "running the test suite (unit, route, WebSocket and integration tests)"
# Tests spawn their own redis-server processes on free ports; two test threads keep the
# 2-core machine responsive for the multi-process integration tests.
out="$(mktemp)"
web_out="$(mktemp)"
trap 'rm -f "$out" "$web_out"' EXIT
cargo test --workspace --all-targets --locked -- --test-threads=2 2>&1 | tee "$out"

log "browser client (web/): npm ci, type check (tsc), unit tests (node --test)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing nodejs and npm (Debian packages)"
  apt_install nodejs npm
fi
printf 'node %s, npm %s\n' "$(node --version)" "$(npm --version)"
# Run to the end even when this fails, so the totals below are printed; the exit status is kept.
web_status=0
(cd web && npm ci --no-audit --no-fund && npm run typecheck && npm test) 2>&1 | tee "$web_out" || web_status=$?

# One closing line with the totals over every test binary.
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$out"
# And one for the browser client's tests (node's TAP summary).
awk '/^# (pass|fail|skipped) [0-9]+$/ { n[$2] = $3 } END { printf "web tests: %d passed, %d failed, %d skipped\n", n["pass"], n["fail"], n["skipped"] }' "$web_out"
if [ "$web_status" -ne 0 ]; then
  echo "browser client checks failed (exit $web_status)" >&2
  exit "$web_status"
fi
