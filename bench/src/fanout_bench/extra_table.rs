//! Markdown tables of S6 (slow readers), hybrid clients and S7 (soak).

use super::Report;
use super::hybrid::HybridRow;
use super::slow_readers::SlowRow;
use super::soak::SoakRow;
use std::collections::BTreeMap;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn signed_ms(us: i64) -> String {
    format!("{:+.2}", us as f64 / 1000.0)
}

fn map(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "–".into();
    }
    let items: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    items.join(", ")
}

pub fn print(r: &Report) {
    print_slow(&r.slow);
    print_hybrid(&r.hybrid);
    print_soak(&r.soak);
}

fn print_slow(rows: &[SlowRow]) {
    let Some(first) = rows.first() else { return };
    println!(
        "\n### S6: {:.1}% slow readers ({} B/s, small receive buffer): the others' latency\n",
        first.slow_share * 100.0,
        first.slow_read_rate
    );
    println!(
        "| system | clients × events/s | normal p50 / p99 / p99.9 (ms) without → with slow readers | change p50 / p99 / p99.9 (ms) | **normal gaps / dups (without, with)** | normal short of head | slow readers (connected) | slow readers' closes | slow deliveries | slow p99 (ms) | server RSS at the end without → with (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for s in rows {
        let (b, w) = (&s.baseline, &s.with_slow);
        println!(
            "| {} | {} × {} | {:.2} / {:.2} / {:.2} → {:.2} / {:.2} / {:.2} | {} / {} / {} | **{} / {}, {} / {}** | {} | {} ({}) | {} | {} | {:.1} | {:.1} → {:.1} |",
            s.system.label(),
            s.clients,
            s.rate,
            ms(b.latency_us.p50),
            ms(b.latency_us.p99),
            ms(b.latency_us.p999),
            ms(w.latency_us.p50),
            ms(w.latency_us.p99),
            ms(w.latency_us.p999),
            signed_ms(s.p50_change_us),
            signed_ms(s.p99_change_us),
            signed_ms(s.p999_change_us),
            b.gaps,
            b.duplicates,
            w.gaps,
            w.duplicates,
            w.short_of_head,
            s.slow.clients,
            s.slow.connected,
            map(&s.slow.closes),
            s.slow.deliveries,
            ms(s.slow.latency_us.p99),
            mib(b.fanout_rss_end_bytes),
            mib(w.fanout_rss_end_bytes),
        );
    }
}

fn print_hybrid(rows: &[HybridRow]) {
    if rows.is_empty() {
        return;
    }
    println!("\n### Hybrid clients: WebSocket plus `GET /events?since=` polls (Kubecast)\n");
    println!(
        "| clients × events/s | poll every (ms, jittered) | delivered once (expected) | first via socket / via poll | socket gaps / dups | poll requests | poll latency p50 / p99 / max (ms) | **disagreements** | poll errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for h in rows {
        let m = &h.poll.merge;
        println!(
            "| {} × {} | {} | {} ({}) | {} / {} | {} / {} | {} | {:.2} / {:.2} / {:.2} | **{}** | {} |",
            h.clients,
            h.rate,
            h.poll_interval_ms,
            h.delivered_once,
            h.expected_once,
            m.via_socket,
            m.via_poll,
            h.deliver.gaps,
            h.deliver.duplicates,
            h.poll.requests,
            ms(h.poll.latency_us.p50),
            ms(h.poll.latency_us.p99),
            ms(h.poll.latency_us.max),
            m.disagreements,
            map(&h.poll.errors),
        );
    }
}

fn print_soak(rows: &[SoakRow]) {
    if rows.is_empty() {
        return;
    }
    println!("\n### S7: soak (Kubecast)\n");
    println!(
        "| clients × events/s | duration (s) | samples | RSS start / end / max (MiB) | RSS drift (MiB/hour) | fds start → end | fds without clients before → after | deliveries (expected) | **gaps / dups** | latency p50 / p99 / max (ms) | closes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for s in rows {
        println!(
            "| {} × {} | {:.0} | {} | {:.1} / {:.1} / {:.1} | {:+.2} | {} → {} | {} → {} | {} ({}) | **{} / {}** | {:.2} / {:.2} / {:.2} | {} |",
            s.clients,
            s.rate,
            s.duration_s,
            s.samples.len(),
            mib(s.rss_start_bytes),
            mib(s.rss_end_bytes),
            mib(s.rss_max_bytes),
            s.rss_drift_mib_per_hour,
            s.fds_start,
            s.fds_end,
            s.fds_before_clients,
            s.fds_after_clients,
            s.deliveries,
            s.expected_deliveries,
            s.gaps,
            s.duplicates,
            ms(s.latency_us.p50),
            ms(s.latency_us.p99),
            ms(s.latency_us.max),
            map(&s.closes),
        );
    }
}
