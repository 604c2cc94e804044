"""The batch-interval sweep (`bench/compare.sh sweep`): one `kubecast-bench fanout --json` run per
interval, S-deliver only, turned into one markdown table of what the interval trades: writes
(frames) and CPU per delivery against latency. `--check` fails (exit 1) on any gap, duplicate,
reordering, missing delivery or incomplete run."""

import argparse
import json
import sys
from pathlib import Path

from report import losses


def interval_ms(report: dict) -> int:
    """The run's batch interval: 0 for the plain Kubecast."""
    return report.get("batch_interval_ms") or 0


def row(interval: int, r: dict) -> str:
    q = r.get("latency_us") or {}
    lat = " / ".join(f"{q.get(k, 0) / 1000:.1f}" for k in ("p50", "p99", "p999"))
    per_frame = r["deliveries"] / r["frames"] if r.get("frames") else 0
    return (f"| {interval} | {r['clients']:,} × {r['rate']}/s | {r['deliveries_per_s']:,.0f} | "
            f"{per_frame:.1f} | {r['fanout_cpu_s_per_million']:.2f} | {r['deliveries_per_cpu_second']:,.0f} | "
            f"{lat} | {r['gaps']} / {r['duplicates']} / {r['out_of_order']} |")


def table(runs: list[dict]) -> list[str]:
    lines = ["| batch interval (ms) | clients × events/s | deliveries/s | deliveries per frame | "
             "CPU s / 1M deliveries | deliveries / CPU-second | latency p50 / p99 / p99.9 (ms) | gaps / dups / reordered |",
             "|---:|---|---:|---:|---:|---:|---|---|"]
    rows = sorted(((interval_ms(rep), r) for rep in runs for r in rep.get("deliver", [])),
                  key=lambda ir: (ir[1]["clients"], ir[0]))
    return lines + [row(i, r) for i, r in rows]


def problems(runs: list[dict]) -> list[str]:
    found = []
    for rep in runs:
        found += [f"{name}: {why}" for name, why in rep.get("failed", [])]
        for r in rep.get("deliver", []):
            found += losses(f"{interval_ms(rep)} ms {r['clients']}x{r['rate']}", r)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--machine", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    runs = [json.loads(p.read_text()) for p in args.runs]
    out = ["## The batch interval: writes and CPU against latency (Kubecast alone)", ""]
    out += [f"- **{kv.split('=', 1)[0]}**: {kv.split('=', 1)[1]}" for kv in args.machine]
    out += ["", *table(runs), ""]
    args.markdown.write_text("\n".join(out) + "\n")
    print(f"sweep: wrote {args.markdown}")
    found = problems(runs) if args.check else []
    for p in found:
        print(f"sweep: {p}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
