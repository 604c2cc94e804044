//! S-storm: N `--reconnect` clients on ONE `kubecast-fanout`; after the warm-up the process is
//! killed with SIGKILL (every connection ends at once, without a close frame) and a new one is
//! started on the same port and log. Every client reconnects with jitter and `since`; the new
//! replica starts with an empty ring, so the missed events are read from Redis.

use super::fleet::{Dial, Fleet};
use super::procs::ServerProc;
use super::recovery::{Cut, RecoveryRow, publish_during};
use super::scenarios::FreshLog;
use super::{Bench, DeliverSpec};
use crate::loadgen::Protocol;
use crate::publisher::now_us;
use std::time::Instant;

pub async fn storm(b: &Bench, spec: DeliverSpec) -> anyhow::Result<RecoveryRow> {
    let a = &b.args;
    let log = FreshLog::create(&b.redis_url).await?;
    let server = ServerProc::start_fanout(&b.fanout_bin, &b.redis_url, &log.cluster, None).await?;
    let url = format!("ws://{}/ws", server.addr);
    let dial = Dial {
        url: &url,
        protocol: Protocol::Kubecast,
        epoch: "",
        reconnect: Some(a.recovery.backoff()),
    };
    let mut fleet = Fleet::start(
        b.source_ips(spec.clients),
        &dial,
        spec.clients,
        "receive",
        a.connect_rate,
        a.per_process,
        a.drain_timeout,
    )
    .await?;
    let cut = async {
        tokio::time::sleep(a.recovery.warmup).await;
        kill_and_restart(b, &log, server).await
    };
    let (published, (cut, server)) = publish_during(b, &log, spec.rate, cut).await?;
    fleet.until(published.events).await?;
    let sum = fleet.finish().await?;
    server.stop().await;
    let cut = Cut {
        on_killed_replica: sum.connected,
        ..cut
    };
    Ok(RecoveryRow::new(spec, 1, &published, &cut, sum))
}

/// SIGKILLs the replica and starts a new one on its address; returns when the new one is ready.
async fn kill_and_restart(
    b: &Bench,
    log: &FreshLog,
    server: ServerProc,
) -> anyhow::Result<(Cut, ServerProc)> {
    let addr = server.addr.clone();
    let kill_us = now_us();
    let t = Instant::now();
    server.stop().await;
    let restarted =
        ServerProc::start_fanout_at(&b.fanout_bin, addr, &b.redis_url, &log.cluster, None).await?;
    let cut = Cut {
        kill_us,
        on_killed_replica: 0,
        restart_seconds: t.elapsed().as_secs_f64(),
    };
    Ok((cut, restarted))
}
