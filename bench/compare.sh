#!/usr/bin/env bash
# Kubecast against Socket.IO (+ @socket.io/redis-streams-adapter) in one run on this machine:
# builds what it needs, runs `kubecast-bench fanout --systems kubecast,socketio` (S1 idle
# connections, S2/S3 deliveries, CPU and latency at fixed rates; S4 /events, S-storm and S5
# failover for Kubecast alone), draws the plots and writes the side-by-side section of BENCHMARKS.md.
#
#   bench/compare.sh [smoke|ci|full]
#     smoke  seconds, debug build, nothing written but target/bench/ (CI runs it: both systems
#            must complete and Kubecast must have no gap, duplicate or reordering)
#     ci     the default: about 10-15 minutes; updates BENCHMARKS.md and bench/results/*.png
#     full   longer windows and 19k clients delivering
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-ci}"
case "$size" in
  smoke) profile=debug; args=(--idle 200 --deliver 200x20 --deliver-duration 5s --events-duration 2s --settle 1s
           --storm 100x20 --failover 150x20 --warmup 2s --recover-window 4s) ;;
  ci) profile=release; args=(--idle 1000,10000,19000 --deliver 1000x100,10000x20 --deliver-duration 20s
        --storm 5000x20 --failover 3000x20 --recover-window 30s) ;;
  full) profile=release; args=(--idle 1000,10000,19000 --deliver 1000x100,10000x20,19000x10 --deliver-duration 60s
          --storm 19000x20 --failover 19000x20 --recover-window 30s) ;;
  *) echo "compare.sh: size is smoke, ci or full (got $size)" >&2; exit 2 ;;
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

log "running both systems ($size)"
"target/$profile/kubecast-bench" fanout --systems kubecast,socketio --scenarios idle,deliver,events,storm,failover \
  "${args[@]}" --json "$out/$size.json" | tee "$out/$size-tables.md"

plots="$out/plots-$size"
[ "$size" = smoke ] || plots=bench/results
sio_version="$(node -p "require('./bench/socketio/node_modules/socket.io/package.json').version")"
adapter_version="$(node -p "require('./bench/socketio/node_modules/@socket.io/redis-streams-adapter/package.json').version")"
log "plots and the BENCHMARKS.md section"
"$venv/bin/python" bench/report/report.py "$out/$size.json" --plots "$plots" --markdown "$out/$size-compare.md" \
  --machine "date=$(date -u +%Y-%m-%d)" \
  --machine "machine=$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)" \
  --machine "versions=$(rustc --version | cut -d' ' -f1-2), kubecast $(git rev-parse --short HEAD), node $(node --version), socket.io $sio_version, @socket.io/redis-streams-adapter $adapter_version, $(redis-server --version | cut -d' ' -f1-3)" \
  --machine "size=$size ($profile build): ${args[*]}" \
  --check

if [ "$size" != smoke ]; then
  "$venv/bin/python" - "$out/$size-compare.md" <<'PY'
import sys
from pathlib import Path
section = Path(sys.argv[1]).read_text()
bench = Path("BENCHMARKS.md")
text = bench.read_text()
start, end = "<!-- compare:start -->", "<!-- compare:end -->"
block = f"{start}\n{section}{end}"
if start in text and end in text:
    text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
bench.write_text(text)
print("compare: BENCHMARKS.md updated", file=sys.stderr)
PY
fi
