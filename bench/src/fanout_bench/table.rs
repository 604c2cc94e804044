//! Markdown tables of a fanout benchmark run.

use super::compare::Comparison;
use super::system::System;
use super::{Bench, Quantiles, Report};
use std::collections::BTreeMap;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn lat(q: &Quantiles) -> String {
    format!(
        "{:.2} / {:.2} / {:.2} / {:.2}",
        ms(q.p50),
        ms(q.p99),
        ms(q.p999),
        ms(q.max)
    )
}

pub fn map(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "–".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn print(b: &Bench, r: &Report) {
    let a = &b.args;
    println!(
        "kubecast-bench fanout: {}{} (connect rate {}/s, ≤ {} clients per generator, event pad {} B)",
        b.fanout_bin.display(),
        r.node_version.as_ref().map_or(String::new(), |v| format!(
            " vs Socket.IO peer {} on Node {v}",
            b.args.socketio_dir.display()
        )),
        a.connect_rate,
        a.per_process,
        a.pad
    );
    print_idle(r);
    print_deliver(r);
    print_events(r);
    super::extra_table::print(r);
    super::recovery_table::print(r);
    print_comparison(&r.comparison);
    if !r.failed.is_empty() {
        println!("\n### Scenarios that did not complete\n");
        for (name, why) in &r.failed {
            println!("- **{name}**: {why}");
        }
    }
}

fn died(alive: bool) -> &'static str {
    if alive { "" } else { " **server died**" }
}

fn print_idle(r: &Report) {
    if !r.idle.is_empty() {
        println!("\n### S-idle: idle WebSocket connections held by one server process\n");
        println!(
            "| system | clients | connected | failed | server RSS before (MiB) | RSS with N (MiB) | bytes / connection | server fds | connect time (s) | server CPU while connecting (s) | closes while held | failures |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for i in &r.idle {
            println!(
                "| {} | {} | {} | {} | {:.1} | {:.1} | {:.0} | {} | {:.1} | {:.2} | {} | {} |{}",
                i.system.label(),
                i.clients,
                i.connected,
                i.failed,
                mib(i.rss_before_bytes),
                mib(i.rss_connected_bytes),
                i.bytes_per_connection,
                i.fanout_open_fds,
                i.connect_seconds,
                i.fanout_cpu_seconds_connecting,
                map(&i.closes),
                map(&i.failures),
                died(i.fanout_alive)
            );
        }
    }
}

fn print_deliver(r: &Report) {
    if !r.deliver.is_empty() {
        println!("\n### S-deliver: live events to N verifying clients\n");
        println!(
            "| system | clients × events/s | connected | published | deliveries (expected) | deliveries/s | frames received | server CPU s / 1M deliveries | deliveries / CPU-second | server cores | latency p50 / p99 / p99.9 / max (ms) | **gaps / dups / out-of-order** | other violations | short of head | closes | connect failures |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for d in &r.deliver {
            let other = d.position_jumps + d.epoch_mismatches + d.unbased;
            println!(
                "| {} | {} × {} | {} | {} | {} ({}) | {:.0} | {} | {:.2} | {:.0} | {:.2} | {} | **{} / {} / {}** | {} | {} | {} | {} |{}",
                d.system.label(),
                d.clients,
                d.rate,
                d.connected,
                d.published,
                d.deliveries,
                d.expected_deliveries,
                d.deliveries_per_s,
                d.frames,
                d.fanout_cpu_s_per_million,
                d.deliveries_per_cpu_second,
                d.fanout_cores,
                lat(&d.latency_us),
                d.gaps,
                d.duplicates,
                d.out_of_order,
                other,
                d.short_of_head,
                map(&d.closes),
                map(&d.failures),
                died(d.fanout_alive)
            );
        }
        let violations: u64 = r.deliver.iter().map(|d| d.violations).sum();
        println!(
            "\n**Delivery violations (gaps + duplicates + out-of-order + position jumps + epoch mismatches + unbased), all runs: {violations}** (must be 0)"
        );
        println!(
            "\nLoad generators (share the same {} cores): {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            r.deliver
                .iter()
                .map(|d| format!(
                    "{} {}×{}: {:.1} CPU s, {:.0} MiB",
                    d.system.label(),
                    d.clients,
                    d.rate,
                    d.loadgen_cpu_seconds,
                    mib(d.loadgen_rss_bytes)
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
}

fn print_events(r: &Report) {
    if !r.events.is_empty() {
        println!(
            "\n### S-events: `GET /events?since=…&limit=…` over keep-alive HTTP/1.1 (Kubecast only: Socket.IO has no equivalent)\n"
        );
        println!(
            "| served from | since (head) | limit | connections | events in page | requests/s | latency p50 / p99 / p99.9 / max (ms) | fanout cores | errors |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for e in &r.events {
            println!(
                "| {} (ring {}) | {} ({}) | {} | {} | {} | {:.0} | {} | {:.2} | {} |",
                e.source,
                e.ring_capacity,
                e.since,
                e.head,
                e.limit,
                e.concurrency,
                e.first_page_events,
                e.requests_per_s,
                lat(&e.latency_us),
                e.fanout_cores,
                map(&e.errors)
            );
        }
    }
}

fn print_comparison(rows: &[Comparison]) {
    if rows.is_empty() {
        return;
    }
    println!("\n### Kubecast and Socket.IO side by side (same run, same machine)\n");
    println!("| scenario | figure | Kubecast | Socket.IO | ratio | target |");
    println!("|---|---|---|---|---|---|");
    for c in rows {
        let target = match (c.target, c.met()) {
            (Some(t), Some(true)) => format!("≥ {t}×: **met**"),
            (Some(t), _) => format!("≥ {t}×: **not met**"),
            (None, _) => "–".into(),
        };
        let scenario = match c.system {
            System::KubecastBatched => format!("{} (batched)", c.scenario),
            _ => c.scenario.clone(),
        };
        println!(
            "| {} | {} | {} | {} | {:.2}× ({}) | {} |",
            scenario,
            c.figure,
            figure(c.kubecast),
            figure(c.socketio),
            c.ratio,
            c.ratio_is,
            target
        );
    }
}

/// Large figures without decimals, small ones with two.
fn figure(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
