//! S-storm: N `--reconnect` clients on ONE server process; after the warm-up the process is
//! killed with SIGKILL (every connection ends at once, without a close frame) and a new one is
//! started on the same port, on the same log or stream. Every client reconnects with jitter:
//! a Kubecast client with `since`, a Socket.IO client with its `pid` and last offset.
//!
//! Kubecast's new replica starts with an empty ring, so the missed events are read from Redis.
//! Socket.IO restores a session only if the server stored it when the client disconnected; a
//! killed process stores nothing, so its clients get new sessions (resets, counted as such).

use super::fleet::{Dial, Fleet};
use super::peer::PublishSpec;
use super::procs::{FanoutOptions, ServerProc};
use super::recovery::{Cut, RecoveryRow, publish_during};
use super::scenarios::FreshLog;
use super::system::System;
use super::{Bench, DeliverSpec};
use crate::loadgen::Protocol;
use crate::publisher::now_us;
use crate::socketio::WEBSOCKET_PATH;
use anyhow::Context;
use kubecast_shared::Epoch;
use kubecast_shared::testing::unique_cluster;
use std::future::Future;
use std::time::{Duration, Instant};

pub async fn storm(b: &Bench, system: System, spec: DeliverSpec) -> anyhow::Result<RecoveryRow> {
    match system {
        System::Kubecast => kubecast(b, spec).await,
        System::KubecastBatched => {
            anyhow::bail!("the batched Kubecast is measured in S-deliver only")
        }
        System::SocketIo => socketio(b, spec).await,
    }
}

async fn kubecast(b: &Bench, spec: DeliverSpec) -> anyhow::Result<RecoveryRow> {
    let log = FreshLog::create(&b.redis_url).await?;
    let server = ServerProc::start_fanout(
        &b.fanout_bin,
        &b.redis_url,
        &log.cluster,
        &FanoutOptions::default(),
    )
    .await?;
    let url = format!("ws://{}/ws", server.addr);
    let mut fleet = fleet(b, &url, Protocol::Kubecast, "", spec.clients).await?;
    let options = FanoutOptions::default();
    let restart = |addr| {
        ServerProc::start_fanout_at(&b.fanout_bin, addr, &b.redis_url, &log.cluster, &options)
    };
    let cut = async {
        tokio::time::sleep(b.args.recovery.warmup).await;
        kill_and_restart(server, restart).await
    };
    let (published, (cut, server)) = publish_during(b, &log, spec.rate, cut).await?;
    fleet.until(published.events).await?;
    let sum = fleet.finish().await?;
    server.stop().await;
    let cut = Cut {
        on_killed_replica: sum.connected,
        ..cut
    };
    Ok(RecoveryRow::new(
        System::Kubecast,
        spec,
        1,
        published.events,
        &cut,
        sum,
    ))
}

async fn socketio(b: &Bench, spec: DeliverSpec) -> anyhow::Result<RecoveryRow> {
    let a = &b.args;
    let peer = b
        .peer
        .as_ref()
        .context("the Socket.IO peer is not prepared")?;
    let (stream, epoch) = (unique_cluster("kubecast-bench-sio"), Epoch::generate());
    let server = peer.start_server(&b.redis_url, &stream).await?;
    let url = format!("ws://{}{WEBSOCKET_PATH}", server.addr);
    let mut fleet = fleet(b, &url, Protocol::SocketIo, epoch.as_str(), spec.clients).await?;
    let publisher = peer
        .publisher(&PublishSpec {
            redis_url: &b.redis_url,
            stream: &stream,
            epoch: epoch.as_str(),
            rate: spec.rate,
            duration: a.recovery.warmup + a.recovery.recover_window,
            batch: a.batch,
            pad: a.pad,
        })
        .await?;
    let restart = |addr: String| async move {
        let port = addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
        let port = port.with_context(|| format!("no port in {addr}"))?;
        peer.start_server_on(&b.redis_url, &stream, port).await
    };
    let cut = async {
        tokio::time::sleep(a.recovery.warmup).await;
        kill_and_restart(server, restart).await
    };
    let (published, cut) = tokio::join!(publisher.run(), cut);
    let (published, (cut, server)) = (published?, cut?);
    fleet.until(published.last_seq).await?;
    let sum = fleet.finish().await?;
    server.stop().await;
    let cut = Cut {
        on_killed_replica: sum.connected,
        ..cut
    };
    Ok(RecoveryRow::new(
        System::SocketIo,
        spec,
        1,
        published.published,
        &cut,
        sum,
    ))
}

/// `clients` reconnecting receivers on `url`, all connected, plus a second for the last
/// snapshot or connect acknowledgement to arrive.
async fn fleet(
    b: &Bench,
    url: &str,
    protocol: Protocol,
    epoch: &str,
    clients: usize,
) -> anyhow::Result<Fleet> {
    let a = &b.args;
    let dial = Dial {
        url,
        protocol,
        epoch,
        reconnect: Some(a.recovery.backoff()),
    };
    let first_ip = b.source_ips(clients);
    let fleet = Fleet::start(
        first_ip,
        &dial,
        clients,
        "receive",
        a.connect_rate,
        a.per_process,
        a.drain_timeout,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(fleet)
}

/// SIGKILLs the server and starts a new one on its address; returns when the new one is ready.
async fn kill_and_restart<F, Fut>(
    server: ServerProc,
    restart: F,
) -> anyhow::Result<(Cut, ServerProc)>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<ServerProc>>,
{
    let addr = server.addr.clone();
    let kill_us = now_us();
    let t = Instant::now();
    server.stop().await;
    let restarted = restart(addr).await?;
    let cut = Cut {
        kill_us,
        on_killed_replica: 0,
        restart_seconds: t.elapsed().as_secs_f64(),
    };
    Ok((cut, restarted))
}
