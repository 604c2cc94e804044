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
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  log "installing nginx (Debian package): the load balancer of deploy/local/run.sh"
  apt_install nginx
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  log "installing python3-venv (Debian package) for schemathesis"
  apt_install python3-venv
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
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
log "deployment: lint and validate the Helm chart offline (deploy/check.sh)"; deploy/check.sh

log "running the test suite (unit, route, WebSocket and integration tests)"
# Tests spawn their own redis-server processes on free ports; two test threads keep the
# 2-core machine responsive for the multi-process integration tests.
out="$(mktemp)"
web_out="$(mktemp)"
browser_out="$(mktemp)"
trap 'rm -f "$out" "$web_out" "$browser_out"' EXIT
cargo test --workspace --all-targets --locked -- --test-threads=2 2>&1 | tee "$out"

rust_totals="$(awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "%d passed, %d failed, %d skipped", p, f, s }' "$out")"

# The two node suites run to the end even when one fails, so every total is printed; the exit
# status is kept.
log "HTTP API fuzzing: schemathesis against a live replica with docs/openapi.yaml (~2 minutes)"
scripts/schemathesis.sh

log "browser client (web/): npm ci, type check (tsc), unit tests (node --test)"
printf 'node %s, npm %s\n' "$(node --version)" "$(npm --version)"
web_status=0
(cd web && npm ci --no-audit --no-fund && npm run typecheck && npm test) 2>&1 | tee "$web_out" || web_status=$?

log "browser tests: the dashboard in headless chromium (playwright-core; screenshots in target/browser-artifacts)"
browser_status=0
(cd tests/browser && npm ci --no-audit --no-fund && npm test) 2>&1 | tee "$browser_out" || browser_status=$?

log "benchmark smoke: Kubecast and the Socket.IO peer side by side, seconds-long (bench/compare.sh smoke)"
bench_status=0
bench/compare.sh smoke || bench_status=$?

# node's TAP summary lines: "# pass N", "# fail N", "# skipped N".
node_totals() {
  awk '/^# (pass|fail|skipped) [0-9]+$/ { n[$2] = $3 } END { printf "%d passed, %d failed, %d skipped", n["pass"], n["fail"], n["skipped"] }' "$1"
}
bench_result="passed"
[ "$bench_status" -eq 0 ] || bench_result="FAILED (exit $bench_status)"
printf '\ntests: %s (Rust)\nweb tests: %s (browser client)\nbrowser tests: %s (dashboard in chromium)\nbenchmark smoke: %s\n' \
  "$rust_totals" "$(node_totals "$web_out")" "$(node_totals "$browser_out")" "$bench_result"
if [ "$web_status" -ne 0 ] || [ "$browser_status" -ne 0 ] || [ "$bench_status" -ne 0 ]; then
  echo "suites failed (web: exit $web_status, browser: exit $browser_status, benchmark smoke: exit $bench_status)" >&2
  exit 1
fi
