//! Markdown tables of the reconnect scenarios (S-storm, S5 failover).

use super::Report;
use super::recovery::RecoveryRow;
use super::table::{map, ms};

pub fn print(r: &Report) {
    print_rows(
        "S-storm: the one server process killed (SIGKILL) and restarted on its port; every client reconnects (Kubecast: `since`; Socket.IO: pid + offset)",
        &r.storm,
    );
    print_rows(
        "S5 failover: the busiest replica behind nginx killed (SIGKILL); its clients reconnect with `since`",
        &r.failover,
    );
}

fn print_rows(title: &str, rows: &[RecoveryRow]) {
    if rows.is_empty() {
        return;
    }
    println!("\n### {title}\n");
    println!(
        "| system | clients × events/s | replicas | connected | restart (s) | on killed replica | lost | resumes / resets | reconnect attempts (failed) | **all back and caught up (s)** | loss → caught up p50 / p99 / max (ms) | latency p50 / p99 / max (ms) | **gaps / dups / out-of-order** | other violations | still recovering / short of head | complete | closes | failed reconnect attempts |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for x in rows {
        let other = x.position_jumps + x.epoch_mismatches + x.unbased;
        println!(
            "| {} | {} × {} | {} | {} | {} | {} | {} | {} / {} | {} ({}) | **{:.2}** | {:.0} / {:.0} / {:.0} | {:.1} / {:.1} / {:.1} | **{} / {} / {}** | {} | {} / {} | {} | {} | {} |",
            x.system.label(),
            x.clients,
            x.rate,
            x.replicas,
            x.connected,
            restart(x.restart_seconds),
            x.on_killed_replica,
            x.lost,
            x.resumes,
            x.resets,
            x.attempts,
            x.attempt_failures,
            x.all_back_seconds,
            ms(x.recovery_us.p50),
            ms(x.recovery_us.p99),
            ms(x.recovery_us.max),
            ms(x.latency_us.p50),
            ms(x.latency_us.p99),
            ms(x.latency_us.max),
            x.gaps,
            x.duplicates,
            x.out_of_order,
            other,
            x.recovering_at_end,
            x.short_of_head,
            if x.complete { "yes" } else { "**no**" },
            map(&x.closes),
            map(&x.attempt_failure_causes),
        );
    }
}

/// The storm's restart time; "–" for a failover (nothing is restarted).
fn restart(seconds: f64) -> String {
    if seconds > 0.0 {
        format!("{seconds:.2}")
    } else {
        "–".into()
    }
}
