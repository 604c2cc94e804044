#!/usr/bin/env bash
# The production topology on one machine, without Docker: Redis, the simulated cluster
# (kubecast-sim), one producer, N fanout replicas and nginx (Debian's package) as the load
# balancer, all on loopback. Prints the URL; Ctrl-C (or SIGTERM) stops everything.
#
#   deploy/local/run.sh [options]
#     --replicas N     fanout replicas (default 3)
#     --port P         nginx listens on P; replicas on P+1…P+N, the simulated cluster on P+N+1,
#                      Redis on P+N+2 (default 8080)
#     --bin DIR        where the binaries are (default target/release, built when missing)
#     --churn D        interval of simulated churn steps (default 300ms; 0s: none)
#     --seed S         seed of the simulated cluster (default 1)
#     --drain D        fanout drain window on SIGTERM (default 10s)
#     --state DIR      logs, nginx config and stack.env go here (default: a new temp directory)
#   REDIS_URL set: use that Redis instead of starting one.
#
# When everything is ready it writes DIR/stack.env (URL, ports and pids, shell syntax) and prints
# "Kubecast ready: <url>". The browser failover test drives the stack through these.
set -euo pipefail
cd "$(dirname "$0")/../.."

REPLICAS=3 PORT=8080 BIN=target/release CHURN=300ms SEED=1 DRAIN=10s STATE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) REPLICAS="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --churn) CHURN="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --drain) DRAIN="$2"; shift 2 ;;
    --state) STATE="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$REPLICAS$PORT" in *[!0-9]*) echo "run.sh: --replicas and --port take numbers" >&2; exit 2 ;; esac
[ "$REPLICAS" -ge 1 ] || { echo "run.sh: --replicas must be at least 1" >&2; exit 2; }
for tool in nginx; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "run.sh: $tool is missing (Debian: apt-get install $tool)" >&2; exit 2; }
done
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
STATE="${STATE:-$(mktemp -d -t kubecast-local.XXXXXX)}"
mkdir -p "$STATE"
SIM_PORT=$((PORT + REPLICAS + 1))
REDIS_PORT=$((PORT + REPLICAS + 2))
export KUBECAST_CLUSTER="${KUBECAST_CLUSTER:-local}"

if [ "$BIN" = target/release ] && [ ! -x "$BIN/kubecast-fanout" ]; then
  cargo build --release --workspace --bins
fi
for b in kubecast-sim kubecast-producer kubecast-fanout kubecast-healthcheck; do
  [ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b is missing (cargo build --workspace --bins)" >&2; exit 2; }
done

pids=()
stop_all() {
  trap - EXIT INT TERM
  [ -f "$STATE/nginx.pid" ] && kill -QUIT "$(cat "$STATE/nginx.pid")" 2>/dev/null || true
  # Replicas first (they drain their sockets), then the producer, the cluster and Redis.
  # (CONT: a process paused with SIGSTOP, as tests pause the cluster, must run to stop.)
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Kubecast stopped (logs in $STATE)"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

# Waits until `url` answers 2xx (kubecast-healthcheck), or fails naming `what` and its log.
wait_ready() {
  local what="$1" url="$2" log="$3"
  for _ in $(seq 1 300); do
    "$BIN/kubecast-healthcheck" "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run.sh: $what did not become ready at $url; last log lines:" >&2
  tail -n 20 "$log" >&2
  exit 1
}

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return; fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$STATE" >"$STATE/redis.log" 2>&1 & pids+=($!)
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"
  for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "run.sh: redis-server did not start" >&2; exit 1
}

start_cluster_and_producer() {
  "$BIN/kubecast-sim" --listen "127.0.0.1:$SIM_PORT" --seed "$SEED" --churn-interval "$CHURN" \
    --log warn >"$STATE/sim.log" 2>&1 & pids+=($!)
  SIM_PID=$!
  wait_ready "kubecast-sim" "http://127.0.0.1:$SIM_PORT/version" "$STATE/sim.log"
  "$BIN/kubecast-producer" --kube-url "http://127.0.0.1:$SIM_PORT" --redis-url "$REDIS_URL" \
    --metrics-listen '' --log warn >"$STATE/producer.log" 2>&1 & pids+=($!)
}

FANOUT_PIDS=()
start_fanouts() {
  local i port
  for i in $(seq 1 "$REPLICAS"); do
    port=$((PORT + i))
    KUBECAST_DRAIN_WINDOW="$DRAIN" "$BIN/kubecast-fanout" --listen "127.0.0.1:$port" \
      --redis-url "$REDIS_URL" --server-name "fanout-$i" --trusted-proxies 127.0.0.1 --log warn \
      >"$STATE/fanout-$i.log" 2>&1 & pids+=($!)
    FANOUT_PIDS+=($!)
  done
  for i in $(seq 1 "$REPLICAS"); do
    wait_ready "fanout-$i" "http://127.0.0.1:$((PORT + i))/readyz" "$STATE/fanout-$i.log"
  done
}

start_nginx() {
  local upstreams="" i
  for i in $(seq 1 "$REPLICAS"); do
    upstreams+="server 127.0.0.1:$((PORT + i)) max_fails=1 fail_timeout=5s; "
  done
  sed -e "s|\${KUBECAST_UPSTREAMS}|$upstreams|" -e "s|\${KUBECAST_LISTEN}|127.0.0.1:$PORT|" \
    deploy/nginx/kubecast.conf.template >"$STATE/kubecast.conf"
  cat >"$STATE/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $STATE/nginx.pid;
error_log $STATE/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $STATE/nginx-body;
    proxy_temp_path $STATE/nginx-proxy;
    fastcgi_temp_path $STATE/nginx-fastcgi;
    uwsgi_temp_path $STATE/nginx-uwsgi;
    scgi_temp_path $STATE/nginx-scgi;
    include $STATE/kubecast.conf;
}
EOF
  "$NGINX" -p "$STATE" -c "$STATE/nginx.conf" -e "$STATE/nginx-error.log" >"$STATE/nginx.log" 2>&1 & pids+=($!)
  wait_ready "nginx" "http://127.0.0.1:$PORT/readyz" "$STATE/nginx-error.log"
}

write_env() {
  {
    echo "KUBECAST_URL=http://127.0.0.1:$PORT"
    echo "REDIS_URL=$REDIS_URL"
    echo "SIM_URL=http://127.0.0.1:$SIM_PORT"
    echo "SIM_PID=$SIM_PID"
    echo "REPLICAS=$REPLICAS"
    local i
    for i in $(seq 1 "$REPLICAS"); do
      echo "FANOUT_${i}_URL=http://127.0.0.1:$((PORT + i))"
      echo "FANOUT_${i}_PID=${FANOUT_PIDS[$((i - 1))]}"
    done
  } >"$STATE/stack.env.tmp"
  mv "$STATE/stack.env.tmp" "$STATE/stack.env"
}

start_redis
start_cluster_and_producer
start_fanouts
start_nginx
write_env
echo "Kubecast ready: http://127.0.0.1:$PORT ($REPLICAS fanout replicas behind nginx; state in $STATE; Ctrl-C stops)"
# Runs until stopped; a replica killed on purpose (tests do) does not end the stack.
while true; do sleep 1; done
