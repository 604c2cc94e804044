#!/usr/bin/env bash
# Runs the production topology on one machine without Docker: the simulated cluster, one producer
# and N fanout replicas against Redis. Ctrl-C stops everything.
#
#   deploy/local/run.sh [replicas]        (REDIS_URL defaults to redis://127.0.0.1:6379/)
#
# Fanout replicas listen on 127.0.0.1:8081, :8082, …; the simulated API server on :6443.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPLICAS="${1:-2}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/}"
export KUBECAST_CLUSTER="${KUBECAST_CLUSTER:-local}"

cargo build --release --workspace --bins
BIN=target/release
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$BIN/kubecast-sim" --listen 127.0.0.1:6443 & pids+=($!)
sleep 0.5
"$BIN/kubecast-producer" --kube-url http://127.0.0.1:6443 & pids+=($!)
for i in $(seq 1 "$REPLICAS"); do
  "$BIN/kubecast-fanout" --listen "127.0.0.1:$((8080 + i))" --server-name "fanout-$i" & pids+=($!)
done
echo "Kubecast: $REPLICAS fanout replicas at http://127.0.0.1:8081 … :$((8080 + REPLICAS)) (Ctrl-C stops)"
wait -n
