//! Starting the watchers of a [`WatchConfig`]: the typed kinds of the [`plan`](crate::kinds::plan)
//! and the dynamic resources resolved by discovery. Returns the relist scopes whose first list
//! gates the first publication.
//!
//! A dynamic resource the API server does not serve (CRD not installed, no RBAC for discovery)
//! is skipped with a warning rather than gating start-up forever. Every target is listed once
//! before its watcher starts: one the API server refuses (403 Forbidden, 404 Not Found) stops
//! start-up with an error naming it, since it would otherwise hold back the first publication
//! forever; an unreachable server is left to the watchers' retries.

use crate::config::{WatchConfig, WatchResource};
use crate::error::{ProducerError, Result};
use crate::input::Input;
use crate::kinds;
use crate::stats::ProducerStats;
use crate::watch::WatchTarget;
use crate::watch::{dynamic_api, probe};
use futures::future::BoxFuture;
use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Spawns every watcher of `config` on `tracker` once every target passed its read check;
/// returns their relist scopes.
pub async fn spawn_watchers(
    client: &kube::Client,
    config: &WatchConfig,
    tx: &mpsc::Sender<Input>,
    stats: &ProducerStats,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<Vec<String>> {
    let typed = kinds::plan(config).map_err(|e| ProducerError::Config(e.to_string()))?;
    let dynamic = discover(client, config).await;
    let mut probes: Vec<(String, BoxFuture<'static, kube::Result<()>>)> = typed
        .iter()
        .map(|(spec, target)| (target.scope.clone(), (spec.probe)(client.clone(), target)))
        .collect();
    probes.extend(dynamic.iter().map(|(_, resource, target)| {
        let api = dynamic_api(client, resource, target);
        let probe: BoxFuture<'static, kube::Result<()>> = Box::pin(probe(api));
        (target.scope.clone(), probe)
    }));
    check_readable(probes).await?;
    let mut scopes = Vec::new();
    for (spec, target) in typed {
        scopes.push(target.scope.clone());
        tracker.spawn((spec.watch)(
            client.clone(),
            target,
            tx.clone(),
            stats.clone(),
            cancel.clone(),
        ));
    }
    for (kind, resource, target) in dynamic {
        scopes.push(target.scope.clone());
        tracker.spawn(crate::watch::watch_dynamic(
            client.clone(),
            kind,
            resource,
            target,
            tx.clone(),
            stats.clone(),
            cancel.clone(),
        ));
    }
    Ok(scopes)
}

/// The watch targets of the `--watch-resource`s the API server serves, with their kind and
/// resolved resource.
async fn discover(
    client: &kube::Client,
    config: &WatchConfig,
) -> Vec<(String, ApiResource, WatchTarget)> {
    let mut out = Vec::new();
    for resource in &config.resources {
        let gvk = GroupVersionKind::gvk(&resource.group, &resource.version, &resource.kind);
        let (api_resource, caps) = match kube::discovery::pinned_kind(client, &gvk).await {
            Ok(found) => found,
            Err(error) => {
                warn_skipped(resource, &error);
                continue;
            }
        };
        let namespaced = matches!(caps.scope, Scope::Namespaced);
        for target in kinds::dynamic_targets(&resource.kind, namespaced, config) {
            out.push((resource.kind.clone(), api_resource.clone(), target));
        }
    }
    out
}

/// How long the read check of one target may take before it is left to the watcher.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the read checks of every scope concurrently; fails with one error naming each scope the
/// API server refuses.
async fn check_readable(probes: Vec<(String, BoxFuture<'static, kube::Result<()>>)>) -> Result<()> {
    let checks = probes.into_iter().map(|(scope, probe)| async move {
        let outcome = tokio::time::timeout(PROBE_TIMEOUT, probe).await;
        (scope, outcome)
    });
    let mut refused = Vec::new();
    for (scope, outcome) in futures::future::join_all(checks).await {
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(kube::Error::Api(status))) if matches!(status.code, 403 | 404) => {
                refused.push(format!("{scope}: {} {}", status.code, status.message));
            }
            Ok(Err(error)) => {
                tracing::warn!(%scope, %error, "cannot list yet; the watcher keeps retrying");
            }
            Err(_) => tracing::warn!(%scope, "listing timed out; the watcher keeps retrying"),
        }
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(ProducerError::Config(format!(
        "the API server refuses to list {}. Grant get/list/watch on these kinds to the producer's \
         service account, or leave them out with --kinds / --watch-resource",
        refused.join("; ")
    )))
}

fn warn_skipped(resource: &WatchResource, error: &kube::Error) {
    tracing::warn!(
        group = %resource.group,
        version = %resource.version,
        kind = %resource.kind,
        %error,
        "resource not served by the API server; not watching it"
    );
}
