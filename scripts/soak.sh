#!/usr/bin/env bash
# The mixed-load soak for as long as you like (the test suite runs it for 45 s):
#   scripts/soak.sh [SECONDS]        (default 3600)
# Builds the workspace, runs the soak scenario on real processes, then writes its figures into
# the soak section of docs/reliability.md (scripts/reliability-table.py).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-3600}"
case "$secs" in (*[!0-9]*|'') echo "usage: scripts/soak.sh [SECONDS]" >&2; exit 2;; esac
cargo build --workspace --locked
KUBECAST_SOAK_SECS="$secs" cargo test -p kubecast-tests --test faults --locked -- \
  --exact soak::a_mixed_load_soak_with_replica_restarts_loses_nothing_and_reports_drift --nocapture
scripts/reliability-table.py
