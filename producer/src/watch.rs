//! Watchers: one kube-rs `watcher` per watched kind and scope (cluster-wide, or one per included
//! namespace), bookmarks on, default backoff, each mapping `watcher::Event`s to [`Input`]s on the
//! shared channel. A watch error is logged and the stream backs off and relists by itself; a
//! closed channel (the index task is gone) or the cancel token ends the loop.
//!
//! Relists are announced with the watcher's *scope* ([`WatchTarget::scope`]: the kind, or
//! `Kind@namespace` for a per-namespace watch), so a relist of one namespace only deletes what
//! that namespace no longer has. Objects the [`NamespaceFilter`] refuses never leave the watcher.

use crate::input::Input;
use crate::project::{Project, Projection, project_dynamic_object};
use crate::stats::ProducerStats;
use futures::StreamExt;
use futures::future::BoxFuture;
use kube::Api;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::BTreeSet;
use std::fmt::Debug;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Which namespaces are published. Cluster-scoped objects (empty namespace, e.g. nodes) always
/// pass; a `Namespace` object passes when its own name does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceFilter {
    /// If set, only these namespaces.
    pub include: Option<BTreeSet<String>>,
    /// Never these namespaces (applied after `include`).
    pub exclude: BTreeSet<String>,
}

impl NamespaceFilter {
    /// Whether objects of namespace `ns` (`""` = cluster-scoped) are published.
    pub fn allows(&self, ns: &str) -> bool {
        ns.is_empty()
            || (self.include.as_ref().is_none_or(|i| i.contains(ns)) && !self.exclude.contains(ns))
    }
}

/// What one watcher watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchTarget {
    /// The relist scope announced in `Init`/`InitDone` (see [`crate::input::scope`]).
    pub scope: String,
    /// Watch only this namespace (`Api::namespaced`); `None` = every namespace.
    pub namespace: Option<String>,
    /// Label selector passed to the API server.
    pub label_selector: Option<String>,
    /// Applied to every object before it is sent.
    pub filter: NamespaceFilter,
}

impl WatchTarget {
    fn config(&self) -> watcher::Config {
        let config = watcher::Config::default();
        match &self.label_selector {
            Some(selector) => config.labels(selector),
            None => config,
        }
    }
}

/// Watch loop of a namespaced kind (per-namespace when the target names one), the shape stored
/// in the kind table.
pub(crate) fn boxed_namespaced<K>(
    client: kube::Client,
    target: WatchTarget,
    tx: mpsc::Sender<Input>,
    stats: ProducerStats,
    cancel: CancellationToken,
) -> BoxFuture<'static, ()>
where
    K: Project + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
{
    let api = match &target.namespace {
        Some(ns) => Api::<K>::namespaced(client, ns),
        None => Api::<K>::all(client),
    };
    Box::pin(watch(api, target, tx, stats, cancel))
}

/// The read check of a namespaced kind's target (see [`probe`]).
pub(crate) fn probe_namespaced<K>(
    client: kube::Client,
    target: &WatchTarget,
) -> BoxFuture<'static, kube::Result<()>>
where
    K: Project + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
{
    let api = match &target.namespace {
        Some(ns) => Api::<K>::namespaced(client, ns),
        None => Api::<K>::all(client),
    };
    Box::pin(probe(api))
}

/// The read check of a cluster-scoped kind (see [`probe`]).
pub(crate) fn probe_cluster<K: Project>(
    client: kube::Client,
    _target: &WatchTarget,
) -> BoxFuture<'static, kube::Result<()>> {
    Box::pin(probe(Api::<K>::all(client)))
}

/// Lists at most one object: fails as the watcher's list would (403 without RBAC, 404 for a kind
/// the cluster does not serve) without waiting for the watcher's backoff.
pub async fn probe<K>(api: Api<K>) -> kube::Result<()>
where
    K: Clone + serde::de::DeserializeOwned + Debug,
{
    api.list(&kube::api::ListParams::default().limit(1))
        .await
        .map(|_| ())
}

/// Watch loop of a cluster-scoped kind (the target's namespace is ignored).
pub(crate) fn boxed_cluster<K: Project>(
    client: kube::Client,
    target: WatchTarget,
    tx: mpsc::Sender<Input>,
    stats: ProducerStats,
    cancel: CancellationToken,
) -> BoxFuture<'static, ()> {
    Box::pin(watch(Api::<K>::all(client), target, tx, stats, cancel))
}

/// Watches the `K`s of `api` until cancelled or the receiver is dropped.
pub async fn watch<K: Project>(
    api: Api<K>,
    target: WatchTarget,
    tx: mpsc::Sender<Input>,
    stats: ProducerStats,
    cancel: CancellationToken,
) {
    let stream = watcher(api, target.config()).default_backoff();
    run(
        stream,
        K::KIND,
        &target,
        |o: &K| o.project(),
        tx,
        stats,
        cancel,
    )
    .await;
}

/// The API of a dynamic resource's target (one namespace, or all).
pub(crate) fn dynamic_api(
    client: &kube::Client,
    resource: &ApiResource,
    target: &WatchTarget,
) -> Api<DynamicObject> {
    match &target.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// Watches dynamic objects of `kind` (resolved by discovery to `resource`).
pub async fn watch_dynamic(
    client: kube::Client,
    kind: String,
    resource: ApiResource,
    target: WatchTarget,
    tx: mpsc::Sender<Input>,
    stats: ProducerStats,
    cancel: CancellationToken,
) {
    let api = dynamic_api(&client, &resource, &target);
    let stream = watcher(api, target.config()).default_backoff();
    let project = |o: &DynamicObject| project_dynamic_object(&kind, o);
    run(stream, &kind, &target, project, tx, stats, cancel).await;
}

async fn run<K: Debug>(
    stream: impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
    kind: &str,
    target: &WatchTarget,
    project: impl Fn(&K) -> Option<Projection>,
    tx: mpsc::Sender<Input>,
    stats: ProducerStats,
    cancel: CancellationToken,
) {
    let mut stream = std::pin::pin!(stream);
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return,
            next = stream.next() => next,
        };
        let event = match next {
            None => return,
            Some(Ok(event)) => event,
            Some(Err(error)) => {
                stats.watch_errors.inc();
                tracing::warn!(kind, scope = %target.scope, %error, "watch failed; backing off");
                continue;
            }
        };
        let Some(input) = to_input(event, target, &project) else {
            continue;
        };
        if tx.send(input).await.is_err() {
            return;
        }
    }
}

/// Maps one watcher event; objects that cannot be projected (no name) or that the namespace
/// filter refuses are skipped.
fn to_input<K>(
    event: watcher::Event<K>,
    target: &WatchTarget,
    project: impl Fn(&K) -> Option<Projection>,
) -> Option<Input> {
    let project = |obj: &K| {
        let projected = project(obj);
        if projected.is_none() {
            tracing::warn!(scope = %target.scope, "object without a name skipped");
        }
        projected.filter(|p| target.filter.allows(&p.ns))
    };
    match event {
        watcher::Event::Init => Some(Input::Init(target.scope.clone())),
        watcher::Event::InitDone => Some(Input::InitDone(target.scope.clone())),
        watcher::Event::InitApply(obj) => project(&obj).map(Input::InitApply),
        watcher::Event::Apply(obj) => project(&obj).map(Input::Apply),
        watcher::Event::Delete(obj) => project(&obj).map(Input::Delete),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use k8s_openapi::api::core::v1::{Namespace, Pod};

    fn target(scope: &str, filter: NamespaceFilter) -> WatchTarget {
        WatchTarget {
            scope: scope.into(),
            namespace: None,
            label_selector: None,
            filter,
        }
    }

    fn to_input_of<K: Project>(event: watcher::Event<K>, t: &WatchTarget) -> Option<Input> {
        to_input(event, t, |o: &K| o.project())
    }

    #[test]
    fn watcher_events_map_to_inputs_of_their_scope() {
        let t = target("Pod@shop", NamespaceFilter::default());
        let pod = fixtures::pod("shop", "web-1").build();
        assert_eq!(
            to_input_of::<Pod>(watcher::Event::Init, &t),
            Some(Input::Init("Pod@shop".into()))
        );
        assert_eq!(
            to_input_of::<Pod>(watcher::Event::InitDone, &t),
            Some(Input::InitDone("Pod@shop".into()))
        );
        let Some(Input::Apply(p)) = to_input_of(watcher::Event::Apply(pod.clone()), &t) else {
            panic!("apply maps to apply");
        };
        assert_eq!(p.key(), "Pod/shop/web-1");
        assert!(matches!(
            to_input_of(watcher::Event::Delete(pod), &t),
            Some(Input::Delete(_))
        ));
    }

    #[test]
    fn objects_without_a_name_are_skipped() {
        let t = target("Pod", NamespaceFilter::default());
        assert_eq!(to_input_of(watcher::Event::Apply(Pod::default()), &t), None);
    }

    #[test]
    fn excluded_namespaces_and_their_objects_are_skipped() {
        let filter = NamespaceFilter {
            include: None,
            exclude: BTreeSet::from(["kube-system".to_string()]),
        };
        let t = target("Pod", filter.clone());
        let sys = fixtures::pod("kube-system", "dns").build();
        assert_eq!(to_input_of(watcher::Event::Apply(sys), &t), None);
        let shop = fixtures::pod("shop", "web").build();
        assert!(to_input_of(watcher::Event::Apply(shop), &t).is_some());
        let t = target("Namespace", filter);
        let ns = fixtures::namespace("kube-system");
        assert_eq!(
            to_input_of::<Namespace>(watcher::Event::Apply(ns), &t),
            None
        );
    }

    #[test]
    fn an_include_list_admits_only_its_namespaces_and_cluster_scoped_objects() {
        let filter = NamespaceFilter {
            include: Some(BTreeSet::from(["shop".to_string()])),
            exclude: BTreeSet::new(),
        };
        assert!(filter.allows("shop"));
        assert!(!filter.allows("other"));
        assert!(filter.allows(""), "nodes are cluster-scoped");
    }
}
