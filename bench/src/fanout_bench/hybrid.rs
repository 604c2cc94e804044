//! Hybrid clients (Kubecast only): an S-deliver run whose clients also poll
//! `GET /events?since=<last seq seen>` every `--poll-interval` (jittered) over their own
//! keep-alive connection, as the browser client does when its socket is quiet (DESIGN §5). Every
//! polled page must agree with the socket's stream, and every event counts once, whichever source
//! brought it first.

use super::extra_sum::{PollSum, poll_sum};
use super::fleet::Load;
use super::scenarios::{DeliverRow, deliver_load};
use super::system::System;
use super::{Bench, DeliverSpec};
use serde::Serialize;

/// Hybrid figures at one size.
#[derive(Debug, Serialize)]
pub struct HybridRow {
    pub clients: usize,
    pub rate: u64,
    pub poll_interval_ms: u64,
    /// The socket side, verified as in S-deliver.
    pub deliver: DeliverRow,
    pub poll: PollSum,
    /// Events applied once per client, from the socket or a poll, whichever came first.
    pub delivered_once: u64,
    /// published × connected.
    pub expected_once: u64,
}

pub async fn hybrid(b: &Bench, spec: DeliverSpec) -> anyhow::Result<HybridRow> {
    let interval = b.args.extra.poll_interval;
    let load = Load {
        mode: "hybrid",
        extra: vec![
            "--poll-interval".into(),
            format!("{}ms", interval.as_millis()),
        ],
        server_max_backlog: None,
    };
    let (deliver, results) =
        deliver_load(b, System::Kubecast, spec.clients, spec.rate, &load).await?;
    let poll = poll_sum(&results);
    Ok(HybridRow {
        clients: spec.clients,
        rate: spec.rate,
        poll_interval_ms: interval.as_millis() as u64,
        delivered_once: poll.merge.delivered_once(),
        expected_once: deliver.expected_deliveries,
        deliver,
        poll,
    })
}

/// Runs every hybrid size (Kubecast only: Socket.IO has no `/events`); failures are recorded.
pub async fn run_all(b: &Bench, report: &mut super::Report) {
    if !b.args.systems.contains(&System::Kubecast) {
        return;
    }
    for spec in b.args.extra.hybrid.clone() {
        let name = format!("Kubecast hybrid {}x{}", spec.clients, spec.rate);
        eprintln!("S-hybrid: {name} …");
        match hybrid(b, spec).await {
            Ok(row) => report.hybrid.push(row),
            Err(e) => report.failed.push((name, format!("{e:#}"))),
        }
    }
}
