#!/usr/bin/env bash
# Kubecast against Socket.IO (+ @socket.io/redis-streams-adapter) in one run on this machine:
# builds what it needs, runs `kubecast-bench fanout --systems kubecast,kubecast-batched,socketio` (S1 idle
# connections, S2/S3 deliveries, CPU and latency at fixed rates; S4 /events for Kubecast alone;
# S6 1% slow readers; hybrid clients polling /events, Kubecast alone; S-storm; S5 failover,
# Kubecast alone), draws the plots and writes the side-by-side section of BENCHMARKS.md.
#
#   bench/compare.sh [smoke|ci|full|scale|soak|sweep]
#     smoke  seconds, debug build, nothing written but target/bench/ (CI runs it: both systems
#            must complete and Kubecast must have no gap, duplicate or reordering)
#     ci     the default: about 10-15 minutes; updates BENCHMARKS.md and bench/results/*.png
#     full   longer windows and 19k clients delivering
#     scale  19k clients only: S2 at 19000x10 (all three) and S5 failover at 19000x20 (Kubecast);
#            writes its own BENCHMARKS.md section, its plots in bench/results/scale/
#     soak   S7, Kubecast alone, on demand (not in CI): SOAK (10000x10) for SOAK_DURATION (30m),
#            RSS and fds sampled every SOAK_SAMPLE (10s); writes its own BENCHMARKS.md section
#     sweep  Kubecast alone at each --batch-interval of SWEEP_INTERVALS (0ms 25ms 50ms 100ms 200ms)
#            and each size of SWEEP_DELIVER (1000x100,10000x20); writes its own BENCHMARKS.md section
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-ci}"
scenarios=idle,deliver,events,slow,hybrid,storm,failover
case "$size" in
  smoke) profile=debug; args=(--idle 200 --deliver 200x20 --deliver-duration 5s --events-duration 2s --settle 1s
    --slow-deliver 200x20 --hybrid 100x20 --storm 100x20 --failover 150x20 --warmup 2s --recover-window 4s) ;;
  ci) profile=release; args=(--idle 1000,10000,19000 --deliver 1000x100,10000x20 --deliver-duration 20s
    --slow-deliver 1000x100 --hybrid 1000x20 --storm 5000x20 --failover 3000x20 --recover-window 30s) ;;
  full) profile=release; args=(--idle 1000,10000,19000 --deliver 1000x100,10000x20,19000x10 --deliver-duration 60s
    --slow-deliver 1000x100,10000x20 --hybrid 1000x20,10000x10 --storm 19000x20 --failover 19000x20 --recover-window 30s) ;;
  scale) profile=release; scenarios=deliver,failover
    args=(--deliver 19000x10 --deliver-duration 20s --failover 19000x20 --recover-window 30s) ;;
  soak) profile=release; args=(--soak "${SOAK:-10000x10}" --soak-duration "${SOAK_DURATION:-30m}"
    --soak-sample "${SOAK_SAMPLE:-10s}") ;;
  sweep) profile=release; args=(--deliver "${SWEEP_DELIVER:-1000x100,10000x20}" --deliver-duration 20s) ;;
  *) echo "compare.sh: size is smoke, ci, full, scale, soak or sweep (got $size)" >&2; exit 2 ;;
esac
log() { printf '\n==> %s\n' "$*" >&2; }
out=target/bench
mkdir -p "$out"

log "building kubecast-bench and kubecast-fanout ($profile)"
if [ "$profile" = release ]; then cargo build --release --locked -p kubecast-bench -p kubecast-fanout
else cargo build --locked -p kubecast-bench -p kubecast-fanout; fi

venv=target/bench-venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s bench/report/requirements.txt "$venv/requirements.txt"; then
  log "creating $venv (matplotlib for the plots)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r bench/report/requirements.txt
  cp bench/report/requirements.txt "$venv/requirements.txt"
fi

log "unit tests of the report's integrity check"
"$venv/bin/python" -m unittest discover -s bench/report

# Replaces the section between <!-- NAME:start --> and <!-- NAME:end --> of BENCHMARKS.md
# (appends it when missing) with the file given.
write_section() {
  "$venv/bin/python" - "$1" "$2" <<'PY'
import sys
from pathlib import Path
section, name = Path(sys.argv[1]).read_text(), sys.argv[2]
bench = Path("BENCHMARKS.md")
text = bench.read_text()
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
block = f"{start}\n{section}{end}"
if start in text and end in text:
    text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
bench.write_text(text)
print(f"{name}: BENCHMARKS.md updated", file=sys.stderr)
PY
}
machine_line="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"

if [ "$size" = sweep ]; then
  runs=()
  for interval in ${SWEEP_INTERVALS:-0ms 25ms 50ms 100ms 200ms}; do
    log "batch-interval sweep, Kubecast alone: $interval, ${args[*]}"
    if [ "$interval" = 0ms ]; then systems=(--systems kubecast)
    else systems=(--systems kubecast-batched --batch-interval "$interval"); fi
    target/release/kubecast-bench fanout "${systems[@]}" --scenarios deliver "${args[@]}" \
      --json "$out/sweep-$interval.json" >/dev/null
    runs+=("$out/sweep-$interval.json")
  done
  "$venv/bin/python" bench/report/sweep.py "${runs[@]}" --markdown "$out/sweep.md" --check \
    --machine "date=$(date -u +%Y-%m-%d)" --machine "machine=$machine_line" \
    --machine "versions=$(rustc --version | cut -d' ' -f1-2), kubecast $(git rev-parse --short HEAD), $(redis-server --version | cut -d' ' -f1-3)" \
    --machine "size=${args[*]}"
  write_section "$out/sweep.md" sweep
  exit 0
fi

if [ "$size" = soak ]; then
  log "S7 soak, Kubecast alone: ${args[*]}"
  target/release/kubecast-bench fanout --systems kubecast --scenarios soak "${args[@]}" \
    --json "$out/soak.json" | tee "$out/soak-tables.md"
  "$venv/bin/python" bench/report/report.py "$out/soak.json" --soak --plots bench/results \
    --markdown "$out/soak.md" --machine "date=$(date -u +%Y-%m-%d)" --machine "machine=$machine_line" \
    --machine "versions=$(rustc --version | cut -d' ' -f1-2), kubecast $(git rev-parse --short HEAD), $(redis-server --version | cut -d' ' -f1-3)" \
    --machine "size=${args[*]}" --check
  write_section "$out/soak.md" soak
  exit 0
fi

log "running both systems ($size)"
"target/$profile/kubecast-bench" fanout --systems kubecast,kubecast-batched,socketio --scenarios "$scenarios" \
  "${args[@]}" --json "$out/$size.json" | tee "$out/$size-tables.md"

plots="$out/plots-$size"
case "$size" in ci|full) plots=bench/results ;; esac
title="Kubecast vs Socket.IO, same run, same machine (issue 7)"
if [ "$size" = scale ]; then title="At 19,000 clients: S2 and S5 (bench/compare.sh scale)"; plots=bench/results/scale; fi
sio_version="$(node -p "require('./bench/socketio/node_modules/socket.io/package.json').version")"
adapter_version="$(node -p "require('./bench/socketio/node_modules/@socket.io/redis-streams-adapter/package.json').version")"
log "plots and the BENCHMARKS.md section"
"$venv/bin/python" bench/report/report.py "$out/$size.json" --plots "$plots" --markdown "$out/$size-compare.md" --title "$title" \
  --machine "date=$(date -u +%Y-%m-%d)" \
  --machine "machine=$machine_line" \
  --machine "versions=$(rustc --version | cut -d' ' -f1-2), kubecast $(git rev-parse --short HEAD), node $(node --version), socket.io $sio_version, @socket.io/redis-streams-adapter $adapter_version, $(redis-server --version | cut -d' ' -f1-3)" \
  --machine "size=$size ($profile build): ${args[*]}" \
  --check

case "$size" in
  ci|full) write_section "$out/$size-compare.md" compare ;;
  scale) write_section "$out/$size-compare.md" scale ;;
esac
