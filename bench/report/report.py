"""Turns a `kubecast-bench fanout --systems kubecast,socketio --json FILE` run into the side-by-side
section of BENCHMARKS.md and three PNG plots (memory per connection, deliveries per second and per
CPU-second against clients, latency quantiles).

    python bench/report/report.py RUN.json --plots DIR --markdown OUT.md [--machine K=V ...] [--check]
    python bench/report/report.py SOAK.json --soak --plots DIR --markdown OUT.md [--machine K=V ...] [--check]

Every figure comes from RUN.json; nothing here measures anything. Image links in OUT.md are
relative to the current directory (the repository root, where BENCHMARKS.md is). `--check` fails
(exit 1) when a run did not complete or any Kubecast client saw a gap, duplicate or reordering
(S-deliver, S6's normal clients, hybrid clients, the soak, and across reconnects in the storm and
failover scenarios), when hybrid polls disagreed with the socket, or when a storm or failover
ended with clients not back and caught up. With `--soak` the input is a `--scenarios soak` run
and the output its own section.
"""

import argparse
import json
import sys
from pathlib import Path



def pyplot():
    """matplotlib, imported on first use (the integrity check and its tests need only the stdlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt

SYSTEMS = {"kubecast": ("Kubecast", "#2563eb"), "kubecast-batched": ("Kubecast, batched", "#16a34a"),
           "socketio": ("Socket.IO + redis-streams-adapter", "#f97316")}
KUBECASTS = ("kubecast", "kubecast-batched")


def rows(report: dict, scenario: str, system: str) -> list[dict]:
    return [r for r in report.get(scenario, []) if r.get("system", "kubecast") == system]


def grouped_bars(ax, labels: list[str], series: dict[str, list[float]], ylabel: str, title: str) -> None:
    """One group of bars per scenario label, one bar per system, each bar labelled with its value."""
    width = 0.8 / max(1, len(series))
    for i, (system, values) in enumerate(series.items()):
        label, color = SYSTEMS[system]
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        bars = ax.bar(xs, values, width, label=label, color=color)
        ax.bar_label(bars, labels=[fmt(v) for v in values], fontsize=7, padding=2)
    ax.set_xticks(range(len(labels)), labels)
    ax.set(ylabel=ylabel, title=title)
    top = max((v for values in series.values() for v in values), default=0)
    ax.set_ylim(0, top * 1.35 or 1)  # room for the legend above the bars
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper left")


def paired(report: dict, scenario: str, key, value) -> tuple[list[str], dict[str, list[float]]]:
    """Runs every system of the scenario completed, by scenario key: labels and each system's values."""
    by_system = {s: {key(r): value(r) for r in rows(report, scenario, s) if r["connected"]} for s in SYSTEMS}
    by_system = {s: v for s, v in by_system.items() if v}
    keys = sorted(set.intersection(*(set(v) for v in by_system.values()))) if by_system else []
    return [k[1] for k in keys], {s: [by_system[s][k] for k in keys] for s in by_system}


def plot_memory(report: dict, out: Path) -> Path:
    fig, ax = pyplot().subplots(figsize=(7, 4))
    labels, series = paired(report, "idle", lambda r: (r["clients"], f"{r['clients']:,} idle"),
                            lambda r: r["bytes_per_connection"] / 1024)
    grouped_bars(ax, labels, series, "server memory per connection (KiB)", "S1: memory per idle connection (lower is better)")
    return save(fig, out / "memory-per-connection.png")


def plot_deliveries(report: dict, out: Path) -> Path:
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(11, 4))
    key = lambda r: (r["clients"], f"{r['clients']:,} × {r['rate']}/s")  # noqa: E731
    labels, series = paired(report, "deliver", key, lambda r: r["deliveries_per_s"])
    grouped_bars(left, labels, series, "deliveries / s", "S2: deliveries per second")
    labels, series = paired(report, "deliver", key, lambda r: r.get("deliveries_per_cpu_second", 0))
    grouped_bars(right, labels, series, "deliveries / CPU-second of the server", "S2: deliveries per CPU-second (higher is better)")
    return save(fig, out / "deliveries.png")


def cdf_points(q: dict) -> list[tuple[float, float]]:
    """(latency ms, percentile) from a run's kept CDF, or from its few quantiles in older runs."""
    if q.get("cdf"):
        return [(us / 1000, p) for p, us in q["cdf"]]
    return [(q[k] / 1000, p) for k, p in (("p50", 50), ("p99", 99), ("p999", 99.9), ("max", 100))]


def plot_latency(report: dict, out: Path) -> Path:
    """The latency CDF of every delivery run, from the percentiles the run kept."""
    fig, ax = pyplot().subplots(figsize=(7, 4))
    styles = ["-", "--", ":"]
    for system, (label, color) in SYSTEMS.items():
        for i, r in enumerate(sorted(rows(report, "deliver", system), key=lambda r: r["clients"])):
            q = r.get("latency_us") or {}
            if not q.get("count"):
                continue
            xs, ys = zip(*cdf_points(q))
            ax.plot(xs, ys, marker=".", linestyle=styles[i % len(styles)], color=color,
                    label=f"{label}, {r['clients']:,}×{r['rate']}/s")
    ax.set(xlabel="publish → receipt latency (ms, log)", ylabel="percentile",
           title="S3: latency distribution (left is better)", xscale="log")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save(fig, out / "latency.png")


def save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def comparison_table(report: dict) -> list[str]:
    lines = ["| scenario | figure | Kubecast | Socket.IO | ratio | target | met |",
             "|---|---|---:|---:|---|---:|:-:|"]
    for c in report.get("comparison", []):
        target = c.get("target")
        met = "" if target is None else ("✔" if c["ratio"] >= target else "✘")
        scenario = c["scenario"] + (f" ({batched_label(report)})" if c.get("system") == "kubecast-batched" else "")
        lines.append(f"| {scenario} | {c['figure']} | {fmt(c['kubecast'])} | {fmt(c['socketio'])} | "
                     f"**{c['ratio']:.1f}×** ({c['ratio_is']}) | {'' if target is None else f'{target:g}×'} | {met} |")
    return lines


def batched_label(report: dict) -> str:
    """How the batched Kubecast was configured, e.g. `--batch-interval 100ms`."""
    interval = report.get("batch_interval_ms")
    return "Kubecast, batched" if interval is None else f"Kubecast, --batch-interval {interval}ms"


def integrity_table(report: dict) -> list[str]:
    lines = ["| system | scenario | connected | deliveries | expected | gaps | duplicates | out of order | p50 / p99 / p99.9 ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in report.get("deliver", []):
        q = r.get("latency_us") or {}
        lat = " / ".join(f"{q.get(k, 0) / 1000:.1f}" for k in ("p50", "p99", "p999"))
        system = r.get("system", "kubecast")
        name = batched_label(report) if system == "kubecast-batched" else SYSTEMS.get(system, (system,))[0]
        lines.append(f"| {name} | {r['clients']}×{r['rate']}/s | "
                     f"{r['connected']} | {r['deliveries']:,} | {r['expected_deliveries']:,} | {r['gaps']} | "
                     f"{r['duplicates']} | {r['out_of_order']} | {lat} |")
    return lines


LOSSES = ("gaps", "duplicates", "out_of_order", "missing")


def losses(name: str, r: dict) -> list[str]:
    """A delivery row that lost, repeated or reordered an event, or had no client."""
    bad = {k: r[k] for k in LOSSES if r.get(k)}
    return [f"{name}: connected {r['connected']}, {bad}"] if bad or not r["connected"] else []


def integrity_problems(report: dict) -> list[str]:
    """What breaks the promise: incomplete runs, and any loss, duplicate or reordering in Kubecast
    (S-deliver, S6's normal clients with and without slow readers, hybrid clients, the soak), and
    hybrid polls that disagree with the socket or count an event twice."""
    problems = [f"{name}: {why}" for name, why in report.get("failed", [])]
    for r in (r for s in KUBECASTS for r in rows(report, "deliver", s)):
        problems += losses(f"Kubecast {r['clients']}x{r['rate']}", r)
    for r in rows(report, "slow", "kubecast"):
        for run in ("baseline", "with_slow"):
            problems += losses(f"Kubecast S6 {r['clients']}x{r['rate']} {run}", r[run])
    for r in report.get("hybrid", []):
        name = f"Kubecast hybrid {r['clients']}x{r['rate']}"
        problems += losses(name, r["deliver"])
        merge = r["poll"]["merge"]
        if merge.get("disagreements") or r["delivered_once"] > r["expected_once"]:
            problems.append(f"{name}: {merge.get('disagreements')} disagreements, "
                            f"delivered once {r['delivered_once']} of {r['expected_once']}")
    for r in report.get("soak", []):
        problems += losses(f"Kubecast soak {r['clients']}x{r['rate']}", r)
        if not r.get("fanout_alive", True):
            problems.append(f"Kubecast soak {r['clients']}x{r['rate']}: the fanout died")
    return problems + recovery_problems(report)


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def quantiles(q: dict, keys=("p50", "p99", "p999")) -> str:
    return " / ".join(ms(q.get(k, 0)) for k in keys)


def closes(m: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(m.items())) or "–"


def server_closed(row: dict) -> str:
    """The server's own count of 4008 closes, when it keeps one (Kubecast)."""
    n = row.get("fanout_too_slow_closes")
    return "" if n is None else f"; server closed {n} with 4008"


def slow_table(report: dict) -> list[str]:
    """S6: the normal clients' latency without and with slow readers, and the slow readers' fate."""
    if not report.get("slow"):
        return []
    first = report["slow"][0]
    bound = next((r["max_backlog"] for r in report["slow"] if r.get("max_backlog")), None)
    bound_text = f"; Kubecast's `--max-backlog` {bound // 1024} KiB" if bound else ""
    lines = [f"S6: {first['slow_share'] * 100:g}% of the clients read at {first['slow_read_rate']} B/s "
             f"(small receive buffer){bound_text}; the others' figures:", "",
             "| system | clients × events/s | normal p50 / p99 / p99.9 ms, without | with slow readers | "
             "p99 change (ms) | normal gaps / dups (without, with) | slow readers' closes | server RSS at the end, MiB (without → with) |",
             "|---|---|---|---|---:|---|---|---|"]
    for r in report["slow"]:
        b, w = r["baseline"], r["with_slow"]
        lines.append(f"| {SYSTEMS.get(r['system'], (r['system'],))[0]} | {r['clients']}×{r['rate']}/s | "
                     f"{quantiles(b['latency_us'])} | {quantiles(w['latency_us'])} | {r['p99_change_us'] / 1000:+.2f} | "
                     f"{b['gaps']} / {b['duplicates']}, {w['gaps']} / {w['duplicates']} | "
                     f"{closes(r['slow']['closes'])} (of {r['slow']['connected']}; {r['slow'].get('short_of_head', 0)} open and behind at the end)"
                     f"{server_closed(w)} | "
                     f"{b['fanout_rss_end_bytes'] / 2**20:.1f} → {w['fanout_rss_end_bytes'] / 2**20:.1f} |")
    return lines + [""]


def hybrid_table(report: dict) -> list[str]:
    """Hybrid clients: every polled event agrees with the socket and counts once."""
    if not report.get("hybrid"):
        return []
    lines = ["Hybrid clients (Kubecast): WebSocket plus `GET /events?since=` polls:", "",
             "| clients × events/s | poll every | delivered once (expected) | first via poll | poll requests | "
             "poll p50 / p99 / max ms | disagreements | socket gaps / dups |",
             "|---|---:|---:|---:|---:|---|---:|---|"]
    for r in report["hybrid"]:
        p, d = r["poll"], r["deliver"]
        lines.append(f"| {r['clients']}×{r['rate']}/s | {r['poll_interval_ms']} ms | {r['delivered_once']:,} "
                     f"({r['expected_once']:,}) | {p['merge']['via_poll']} | {p['requests']:,} | "
                     f"{quantiles(p['latency_us'], ('p50', 'p99', 'max'))} | {p['merge']['disagreements']} | "
                     f"{d['gaps']} / {d['duplicates']} |")
    return lines + [""]


RECOVERY = {"storm": "S-storm (server killed and restarted)", "failover": "S5 failover (busiest replica behind nginx killed)"}
RECOVERY_LOSS = ("gaps", "duplicates", "out_of_order", "missing", "position_jumps", "epoch_mismatches", "unbased")


def recovery_problems(report: dict) -> list[str]:
    """A Kubecast storm or failover run breaks the promise with any loss across reconnects, and is
    incomplete unless some client lost its connection and every client is back at the head."""
    problems = []
    for scenario in RECOVERY:
        for r in rows(report, scenario, "kubecast"):
            name = f"Kubecast {scenario} {r['clients']}x{r['rate']}"
            bad = {k: r[k] for k in RECOVERY_LOSS if r.get(k)}
            if bad:
                problems.append(f"{name}: {bad}")
            if not r.get("complete") or not r.get("lost"):
                problems.append(f"{name}: incomplete (connected {r['connected']} of {r['clients']}, lost {r.get('lost', 0)}, "
                                f"still recovering {r.get('recovering_at_end', 0)}, short of head {r.get('short_of_head', 0)})")
    return problems


def recovery_table(report: dict) -> list[str]:
    """One row per storm or failover run: how fast every client was back, and what it cost."""
    runs = [(s, r) for s in RECOVERY for system in SYSTEMS for r in rows(report, s, system)]
    if not runs:
        return []
    lines = ["Reconnects (Kubecast: `since`; Socket.IO: connection state recovery; continuity checked across connections; "
             "a reset is a client that could not resume: Kubecast sends a snapshot, Socket.IO replays nothing):", "",
             "| system | scenario | clients × events/s | clients cut | resumes / resets | all back and caught up | loss → caught up p50 / p99 / max ms | gaps | duplicates | complete |",
             "|---|---|---|---:|---:|---:|---|---:|---:|:-:|"]
    for scenario, r in runs:
        q = r.get("recovery_us") or {}
        rec = " / ".join(f"{q.get(k, 0) / 1000:.0f}" for k in ("p50", "p99", "max"))
        lines.append(f"| {SYSTEMS[r['system']][0]} | {RECOVERY[scenario]} | {r['clients']:,}×{r['rate']}/s | {r.get('lost', 0):,} | "
                     f"{r.get('resumes', 0):,} / {r.get('resets', 0):,} | {r.get('all_back_seconds', 0):.2f} s | {rec} | "
                     f"{r['gaps']} | {r['duplicates']} | {'✔' if r.get('complete') else '✘'} |")
    return lines + [""]


TITLE = "Kubecast vs Socket.IO, same run, same machine (issue 7)"


def markdown(report: dict, plots: list[Path], machine: dict, title: str = TITLE) -> str:
    out = [f"## {title}", ""]
    out += [f"- **{k}**: {v}" for k, v in machine.items()]
    out += ["", *comparison_table(report), "", "Every delivery checked (seq continuity per client):", "",
            *integrity_table(report), "", *slow_table(report), *hybrid_table(report), *recovery_table(report)]
    if report.get("failed"):
        out += ["Runs that did not complete:", ""] + [f"- {name}: {why}" for name, why in report["failed"]] + [""]
    out += [f"![{p.stem}]({p})" for p in plots]
    return "\n".join(out) + "\n"


def plot_soak(report: dict, out: Path) -> Path:
    """The fanout's RSS and open fds over the soak."""
    fig, rss_ax = pyplot().subplots(figsize=(7, 4))
    fds_ax = rss_ax.twinx()
    for r in report.get("soak", []):
        ts = [s["t_s"] / 60 for s in r["samples"]]
        rss_ax.plot(ts, [s["rss_bytes"] / 2**20 for s in r["samples"]], color="#2563eb", label="RSS (MiB)")
        fds_ax.plot(ts, [s["fds"] for s in r["samples"]], color="#f97316", linestyle="--", label="open fds")
    rss_ax.set(xlabel="minutes", ylabel="fanout RSS (MiB)", title="S7: soak, fanout memory and fds")
    rss_ax.set_ylim(bottom=0)
    fds_ax.set_ylim(bottom=0)
    fds_ax.set_ylabel("open fds")
    rss_ax.grid(alpha=0.3)
    fig.legend(fontsize=8, loc="lower right")
    return save(fig, out / "soak.png")


def soak_markdown(report: dict, plots: list[Path], machine: dict) -> str:
    out = ["## S7: soak (Kubecast, on demand)", ""]
    out += [f"- **{k}**: {v}" for k, v in machine.items()]
    out += ["", "| clients × events/s | minutes | RSS start / end / max (MiB) | drift (MiB/hour) | fds start → end | "
            "fds without clients before → after | deliveries (expected) | gaps / dups | p50 / p99 / p99.9 ms | closes |",
            "|---|---:|---|---:|---|---|---:|---|---|---|"]
    for r in report.get("soak", []):
        mib = [f"{r[k] / 2**20:.1f}" for k in ("rss_start_bytes", "rss_end_bytes", "rss_max_bytes")]
        out.append(f"| {r['clients']:,}×{r['rate']}/s | {r['duration_s'] / 60:.1f} | {' / '.join(mib)} | "
                   f"{r['rss_drift_mib_per_hour']:+.2f} | {r['fds_start']} → {r['fds_end']} | "
                   f"{r['fds_before_clients']} → {r['fds_after_clients']} | {r['deliveries']:,} "
                   f"({r['expected_deliveries']:,}) | {r['gaps']} / {r['duplicates']} | {quantiles(r['latency_us'])} | "
                   f"{closes(r['closes'])} |")
    if report.get("failed"):
        out += ["", "Runs that did not complete:", ""] + [f"- {name}: {why}" for name, why in report["failed"]]
    out += [""] + [f"![{p.stem}]({p})" for p in plots]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--plots", type=Path, required=True)
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--machine", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--check", action="store_true", help="fail on incomplete runs or any Kubecast gap")
    parser.add_argument("--title", default=TITLE)
    parser.add_argument("--soak", action="store_true", help="RUN.json is a soak run: write the soak section")
    args = parser.parse_args()
    report = json.loads(args.run.read_text())
    if args.soak:
        return write_soak(args, report)
    if not report.get("comparison"):
        print(f"report: {args.run} has no side-by-side figures (did both systems run?)", file=sys.stderr)
        return 1
    args.plots.mkdir(parents=True, exist_ok=True)
    plots = [plot_deliveries(report, args.plots), plot_latency(report, args.plots)]
    if report.get("idle"):  # a scale run has no idle connections to draw
        plots.insert(0, plot_memory(report, args.plots))
    machine = dict(kv.split("=", 1) for kv in args.machine)
    args.markdown.write_text(markdown(report, plots, machine, args.title))
    print(f"report: wrote {args.markdown} and {len(plots)} plots in {args.plots}")
    return checked(args, report)


def write_soak(args, report: dict) -> int:
    if not report.get("soak") and not report.get("failed"):
        print(f"report: {args.run} has no soak figures (--scenarios soak?)", file=sys.stderr)
        return 1
    args.plots.mkdir(parents=True, exist_ok=True)
    plots = [plot_soak(report, args.plots)] if report.get("soak") else []
    machine = dict(kv.split("=", 1) for kv in args.machine)
    args.markdown.write_text(soak_markdown(report, plots, machine))
    print(f"report: wrote {args.markdown}")
    return checked(args, report)


def checked(args, report: dict) -> int:
    problems = integrity_problems(report) if args.check else []
    for problem in problems:
        print(f"report: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
