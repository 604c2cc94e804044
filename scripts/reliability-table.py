#!/usr/bin/env python3
"""Writes the fault-scenario and soak tables of docs/reliability.md from what the tests wrote.

Usage: scripts/reliability-table.py [ROWS_DIR] [DOC]
       (defaults: target/reliability, docs/reliability.md)

Each row is a JSON file written by kubecast_tests::report::ScenarioRow::record; rows are sorted
by their id. The table replaces what is between the faults markers; the rest of the file stays.
"""
import json
import sys
from pathlib import Path

BEGIN, END = "<!-- faults:begin -->", "<!-- faults:end -->"
SOAK_BEGIN, SOAK_END = "<!-- soak:begin -->", "<!-- soak:end -->"
# The suite's own soak runs 45 s: too short for a drift figure, so only a run of at least this
# long (scripts/soak.sh) replaces the soak section.
LONG_SOAK_SECS = 600
COLUMNS = ["scenario", "injected", "clients", "events checked",
           "lost / dup / misordered", "resets", "time to converge", "notes"]


def load_rows(rows_dir: Path) -> list[dict]:
    rows = [json.loads(p.read_text()) for p in sorted(rows_dir.glob("*.json"))]
    return sorted(rows, key=lambda r: r["id"])


def seconds(ms: int) -> str:
    return f"{ms / 1000:.2f} s"


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        broken = f"{r['lost']} / {r['duplicated']} / {r['misordered']}"
        cells = [r["scenario"], r["injected"], str(r["clients"]),
                 f"{r['events_checked']:,}", broken, str(r["resets"]),
                 seconds(r["converge_ms"]), r.get("notes", "")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_between(text: str, body: str, begin: str = BEGIN, end_marker: str = END) -> str:
    start, end = text.find(begin), text.find(end_marker)
    if start < 0 or end < start:
        raise SystemExit(f"the document has no {begin} … {end_marker} section")
    return text[: start + len(begin)] + "\n" + body + "\n" + text[end:]


def soak_table(report: dict) -> str:
    """The soak run's totals and one line per long-lived process."""
    head = (f"Last run: {report['seconds']:,} s, {report['restarts']} replica restarts, "
            f"{report['clients']} clients, {report['events_checked']:,} events checked, "
            f"lost / duplicated / misordered: {report['lost']} / {report['duplicated']} / "
            f"{report['misordered']}.\n\n")
    lines = ["| process | RSS start → end | RSS slope after warm-up | open files start → end (max) |",
             "|---|---|---|---|"]
    for p in report["processes"]:
        lines.append(f"| {p['name']} | {p['rss_start_mib']:.1f} → {p['rss_end_mib']:.1f} MiB | "
                     f"{p['rss_slope_mib_per_hour']:+.1f} MiB/h | "
                     f"{p['fds_start']} → {p['fds_end']} ({p['fds_max']}) |")
    return head + "\n".join(lines)


def main() -> None:
    rows_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "target/reliability")
    doc = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/reliability.md")
    rows = load_rows(rows_dir)
    soak = rows_dir / "soak" / "summary.json"
    if not rows and not soak.exists():
        raise SystemExit(f"nothing in {rows_dir}: run the fault scenarios first")
    text = doc.read_text()
    if rows:
        text = replace_between(text, table(rows))
    soak_note = ""
    if soak.exists():
        report = json.loads(soak.read_text())
        if report["seconds"] >= LONG_SOAK_SECS:
            text = replace_between(text, soak_table(report), SOAK_BEGIN, SOAK_END)
            soak_note = ", soak"
        else:
            soak_note = f", soak section kept (the last soak ran {report['seconds']} s)"
    doc.write_text(text)
    print(f"{doc}: {len(rows)} scenarios{soak_note}")


if __name__ == "__main__":
    main()
