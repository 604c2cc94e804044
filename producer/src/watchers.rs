//! Starting the watchers of a [`WatchConfig`]: the typed kinds of the [`plan`](crate::kinds::plan)
//! and the dynamic resources resolved by discovery. Returns the relist scopes whose first list
//! gates the first publication.
//!
//! A dynamic resource the API server does not serve (CRD not installed, no RBAC for discovery)
//! is skipped with a warning rather than gating start-up forever.

use crate::config::{WatchConfig, WatchResource};
use crate::error::{ProducerError, Result};
use crate::input::Input;
use crate::kinds;
use crate::stats::ProducerStats;
use kube::api::GroupVersionKind;
use kube::discovery::Scope;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Spawns every watcher of `config` on `tracker`; returns their relist scopes.
pub async fn spawn_watchers(
    client: &kube::Client,
    config: &WatchConfig,
    tx: &mpsc::Sender<Input>,
    stats: &ProducerStats,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<Vec<String>> {
    let plan = kinds::plan(config).map_err(|e| ProducerError::Config(e.to_string()))?;
    let mut scopes = Vec::new();
    for (spec, target) in plan {
        scopes.push(target.scope.clone());
        tracker.spawn((spec.watch)(
            client.clone(),
            target,
            tx.clone(),
            stats.clone(),
            cancel.clone(),
        ));
    }
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
            scopes.push(target.scope.clone());
            tracker.spawn(crate::watch::watch_dynamic(
                client.clone(),
                resource.kind.clone(),
                api_resource.clone(),
                target,
                tx.clone(),
                stats.clone(),
                cancel.clone(),
            ));
        }
    }
    Ok(scopes)
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
