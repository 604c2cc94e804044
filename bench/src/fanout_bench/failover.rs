//! S5 failover: `--replicas` `kubecast-fanout` processes on one Redis log behind nginx, N
//! `--reconnect` clients through nginx. After the warm-up, the replica holding the most clients
//! (its `kubecast_fanout_connections` gauge) is killed with SIGKILL; nginx closes its clients'
//! connections, they reconnect with jitter and `since` and land on the survivors, which still
//! hold the missed events in their rings.

use super::fleet::{Dial, Fleet};
use super::nginx::Nginx;
use super::procs::{FanoutOptions, ServerProc};
use super::recovery::{Cut, RecoveryRow, publish_during};
use super::scenarios::FreshLog;
use super::system::System;
use super::{Bench, DeliverSpec};
use crate::loadgen::Protocol;
use crate::publisher::now_us;
use anyhow::Context;

pub async fn failover(b: &Bench, spec: DeliverSpec) -> anyhow::Result<RecoveryRow> {
    let a = &b.args;
    let log = FreshLog::create(&b.redis_url).await?;
    let mut replicas = Vec::new();
    for _ in 0..a.recovery.replicas {
        replicas.push(
            ServerProc::start_fanout(
                &b.fanout_bin,
                &b.redis_url,
                &log.cluster,
                &FanoutOptions::default(),
            )
            .await?,
        );
    }
    let upstreams: Vec<String> = replicas.iter().map(|r| r.addr.clone()).collect();
    let nginx = Nginx::start(&a.recovery.nginx, &upstreams, spec.clients).await?;
    eprintln!(
        "  nginx on {}: {} workers × {} connections",
        nginx.addr, nginx.sizing.workers, nginx.sizing.worker_connections
    );
    let url = format!("ws://{}/ws", nginx.addr);
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
        kill_busiest(&mut replicas).await
    };
    let (published, cut) = publish_during(b, &log, spec.rate, cut).await?;
    fleet.until(published.events).await?;
    let sum = fleet.finish().await?;
    drop(nginx);
    for r in replicas {
        r.stop().await;
    }
    let (system, replicas) = (System::Kubecast, upstreams.len());
    Ok(RecoveryRow::new(
        system,
        spec,
        replicas,
        published.events,
        &cut,
        sum,
    ))
}

/// SIGKILLs the replica with the most open WebSockets and removes it from `replicas`.
async fn kill_busiest(replicas: &mut Vec<ServerProc>) -> anyhow::Result<Cut> {
    let mut held = Vec::with_capacity(replicas.len());
    for r in replicas.iter() {
        held.push(connections(&r.addr).await?);
    }
    eprintln!("  connections per replica: {held:?}; killing the busiest");
    let (busiest, &on_killed_replica) = held
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .context("no replica")?;
    let kill_us = now_us();
    replicas.swap_remove(busiest).stop().await;
    Ok(Cut {
        kill_us,
        on_killed_replica,
        restart_seconds: 0.0,
    })
}

/// The replica's `kubecast_fanout_connections` gauge.
async fn connections(addr: &str) -> anyhow::Result<u64> {
    super::procs::metric(addr, "kubecast_fanout_connections").await
}
