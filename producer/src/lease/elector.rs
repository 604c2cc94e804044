//! The async side of the election: every `renew_every` (sooner when our deadline is near) read
//! the Lease, let the [`Machine`] decide, write it with optimistic concurrency, and publish the
//! resulting [`Role`]. Every call is bounded by a timeout so a hung API server cannot keep us
//! "leader" in our own eyes; the driver checks the role's deadline itself anyway.

use super::machine::{Action, Machine, Observed};
use super::{Pause, Role, checkpoint};
use crate::stats::ProducerStats;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;
use kubecast_shared::log::Fence;
use kubecast_shared::time::now_ms;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Where the lease lives and how it is held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// This replica's holder identity (default: hostname + pid).
    pub identity: String,
    /// How long a lease stays valid after its last renewal.
    pub duration: Duration,
    /// How often the leader renews (and a follower checks for expiry).
    pub renew_every: Duration,
}

impl LeaseConfig {
    /// `hostname-pid`, unique per process on a host.
    pub fn default_identity() -> String {
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "producer".into());
        format!("{host}-{}", std::process::id())
    }
}

/// Runs the election until `cancel` fires, sending our role on `role`. `refused` carries the
/// log's fence whenever the log refused ours; the next acquisition then goes above it.
pub async fn elect(
    client: kube::Client,
    config: LeaseConfig,
    pause: Option<Pause>,
    role: watch::Sender<Role>,
    mut refused: watch::Receiver<Fence>,
    stats: ProducerStats,
    cancel: CancellationToken,
) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let mut machine = Machine::new(config.identity.clone(), config.duration);
    tracing::info!(identity = %config.identity, lease = %config.name, ns = %config.namespace, "leader election started");
    let mut last = Role::Follower;
    loop {
        checkpoint(pause.as_ref()).await;
        if refused.has_changed().unwrap_or(false) {
            machine.raise_floor(*refused.borrow_and_update());
        }
        let before = machine.role();
        let now = machine_round(&api, &config, &mut machine).await;
        let after = machine.role();
        report(&role, before, after, &stats);
        let mut wake = now + config.renew_every;
        if let Role::Leader { until, .. } = after {
            wake = wake.min(until);
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep_until(wake) => {}
            _ = refused.changed() => {}
        }
        last = machine.tick(Instant::now());
        report(&role, after, last, &stats);
    }
    role.send_replace(Role::Follower);
    stats.leader.set(0);
    if last.fence().is_some() {
        release(&api, &config).await;
    }
}

/// Hands the lease back (holder cleared, as client-go's `ReleaseOnCancel` does) so a follower
/// takes over at its next round instead of waiting for the lease to expire. Only a lease we
/// still hold is written, from the version we read. Call it once we have stopped publishing;
/// even if we had not, the next leader's higher fence makes the log refuse our appends.
async fn release(api: &Api<Lease>, config: &LeaseConfig) {
    let timeout = config.renew_every.max(Duration::from_millis(100));
    match tokio::time::timeout(timeout, release_held(api, config)).await {
        Ok(Ok(true)) => tracing::info!(lease = %config.name, "released the lease"),
        Ok(Ok(false)) => tracing::info!(lease = %config.name, "the lease is no longer ours"),
        Ok(Err(error)) => tracing::warn!(%error, "releasing the lease failed; it will expire"),
        Err(_) => tracing::warn!("releasing the lease timed out; it will expire"),
    }
}

async fn release_held(api: &Api<Lease>, config: &LeaseConfig) -> kube::Result<bool> {
    let Some(mut lease) = api.get_opt(&config.name).await? else {
        return Ok(false);
    };
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    if spec.holder_identity.as_deref() != Some(config.identity.as_str()) {
        return Ok(false);
    }
    spec.holder_identity = None;
    spec.lease_duration_seconds = Some(1);
    spec.renew_time = Some(micro_now());
    api.replace(&config.name, &PostParams::default(), &lease)
        .await?;
    Ok(true)
}

fn micro_now() -> MicroTime {
    MicroTime(Timestamp::from_millisecond(now_ms() as i64).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// One read-decide-write round; returns when it started.
async fn machine_round(api: &Api<Lease>, config: &LeaseConfig, machine: &mut Machine) -> Instant {
    let timeout = config.renew_every.max(Duration::from_millis(100));
    let now = Instant::now();
    let current = match tokio::time::timeout(timeout, api.get_opt(&config.name)).await {
        Ok(Ok(lease)) => lease,
        Ok(Err(error)) => {
            tracing::warn!(%error, "reading the lease failed");
            machine.on_failed(Instant::now(), false);
            return now;
        }
        Err(_) => {
            tracing::warn!("reading the lease timed out");
            machine.on_failed(Instant::now(), false);
            return now;
        }
    };
    let observed = current.as_ref().map(observe);
    let action = machine.decide(observed.as_ref(), Instant::now(), now_ms() as i64);
    let (transitions, acquire, rv) = match action {
        Action::Wait => return now,
        Action::Create { transitions } => (transitions, true, None),
        Action::Update {
            resource_version,
            transitions,
            acquire,
        } => (transitions, acquire, resource_version),
    };
    let sent = Instant::now();
    let lease = build(config, current.as_ref(), transitions, acquire, rv);
    let written = match &current {
        None => api.create(&PostParams::default(), &lease).await,
        Some(_) => {
            api.replace(&config.name, &PostParams::default(), &lease)
                .await
        }
    };
    match written {
        Ok(_) => {
            machine.on_written(sent, transitions);
        }
        Err(kube::Error::Api(status)) if status.code == 409 => {
            tracing::info!(reason = %status.reason, "lease taken by another replica");
            machine.on_failed(Instant::now(), true);
        }
        Err(error) => {
            tracing::warn!(%error, "writing the lease failed");
            machine.on_failed(Instant::now(), false);
        }
    }
    now
}

fn report(tx: &watch::Sender<Role>, before: Role, after: Role, stats: &ProducerStats) {
    if before == after {
        return;
    }
    match (before.fence(), after.fence()) {
        (old, Some(fence)) if old != Some(fence) => {
            stats.lease_transitions.inc();
            tracing::info!(fence, "became leader");
        }
        (Some(fence), None) => tracing::warn!(fence, "stepped down"),
        _ => {}
    }
    stats.leader.set(i64::from(after.fence().is_some()));
    tx.send_replace(after);
}

fn observe(lease: &Lease) -> Observed {
    let spec = lease.spec.clone().unwrap_or_default();
    let ms = |t: &MicroTime| t.0.as_millisecond();
    Observed {
        holder: spec.holder_identity,
        renew_ms: spec
            .renew_time
            .as_ref()
            .or(spec.acquire_time.as_ref())
            .map(ms),
        duration_s: spec.lease_duration_seconds.map(i64::from),
        transitions: spec
            .lease_transitions
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(0),
        resource_version: lease.metadata.resource_version.clone(),
    }
}

fn build(
    config: &LeaseConfig,
    current: Option<&Lease>,
    transitions: u64,
    acquire: bool,
    resource_version: Option<String>,
) -> Lease {
    let now = micro_now();
    let old = current.and_then(|l| l.spec.clone()).unwrap_or_default();
    let secs = config.duration.as_secs_f64().ceil().max(1.0) as i32;
    Lease {
        metadata: ObjectMeta {
            name: Some(config.name.clone()),
            namespace: Some(config.namespace.clone()),
            resource_version,
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(config.identity.clone()),
            lease_duration_seconds: Some(secs),
            acquire_time: if acquire {
                Some(now.clone())
            } else {
                old.acquire_time
            },
            renew_time: Some(now),
            lease_transitions: Some(i32::try_from(transitions).unwrap_or(i32::MAX)),
            ..LeaseSpec::default()
        }),
    }
}
