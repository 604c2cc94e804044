#!/usr/bin/env bash
# Fuzzes the HTTP API of a live replica against docs/openapi.yaml with schemathesis, time-bounded.
# The replica is the embedded `kubecast` binary (simulated cluster + producer + fanout, loopback,
# no auth); schemathesis lives in a venv under target/.
# Usage: scripts/schemathesis.sh   (SCHEMATHESIS_MAX_TIME=<s> sets the fuzzing budget, default 90)
set -euo pipefail
cd "$(dirname "$0")/.."

max_time="${SCHEMATHESIS_MAX_TIME:-90}"
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis>=4,<5"
fi
"$venv/bin/schemathesis" --version

cargo build --locked -p kubecast --bin kubecast
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
mkdir -p target/schemathesis
target/debug/kubecast --listen "127.0.0.1:$port" --source sim >target/schemathesis/replica.log 2>&1 &
replica=$!
trap 'kill "$replica" 2>/dev/null || true; wait "$replica" 2>/dev/null || true' EXIT

python3 - "$base/readyz" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("the replica did not become ready")
PY

# Long-polls hold up to 30 s (`wait`), so requests get 35 s before counting as failures.
timeout $((max_time + 120)) "$venv/bin/schemathesis" run docs/openapi.yaml \
  --url "$base" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
  --max-time "$max_time" --workers 2 --request-timeout 35 --no-color \
  --report junit --report-dir target/schemathesis
