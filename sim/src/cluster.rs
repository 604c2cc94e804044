//! `SimCluster`: the shared, cheaply cloneable handle to the simulated cluster (store, pagination
//! snapshots, churn model and the token that ends open watches). Test controls live here.
//!
//! Lock order: churn before store; the store lock is never held across an await.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::SimConfig;
use crate::churn::{Change, Churn};
use crate::endpoints;
use crate::paging::Pager;
use crate::store::Store;

/// One current object, as returned by [`SimCluster::objects`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimObject {
    /// Kubernetes kind, e.g. `Pod`.
    pub kind: String,
    /// Namespace; a Namespace object's own name; "" for other cluster-scoped kinds.
    pub ns: String,
    pub name: String,
    /// The object exactly as served (apiVersion, kind, metadata.resourceVersion set).
    pub value: Value,
}

/// Store and pager, guarded together so a list's first page snapshots one consistent state.
pub(crate) struct State {
    pub store: Store,
    pub pager: Pager,
}

struct Shared {
    state: Mutex<State>,
    churn: Mutex<Churn>,
    cut: Mutex<CancellationToken>,
    /// While set, new watch requests get 503 (see [`SimCluster::refuse_watches`]).
    refuse_watches: std::sync::atomic::AtomicBool,
    /// Kinds whose get/list/watch answer 403 (see [`SimCluster::forbid`]).
    forbidden: Mutex<BTreeSet<String>>,
    bookmark_interval: Duration,
}

/// The simulated cluster's shared state.
#[derive(Clone)]
pub struct SimCluster {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimCluster {
    /// Builds the initial state (namespaces, deployments, replica sets, pods, services) from the seed.
    pub fn new(config: &SimConfig) -> Self {
        let (churn, initial) = Churn::new(config);
        let cluster = Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    store: Store::new(config.history),
                    pager: Pager::default(),
                }),
                churn: Mutex::new(churn),
                cut: Mutex::new(CancellationToken::new()),
                refuse_watches: std::sync::atomic::AtomicBool::new(false),
                forbidden: Mutex::new(BTreeSet::new()),
                bookmark_interval: config.bookmark_interval,
            }),
        };
        cluster.apply(initial);
        cluster
    }

    fn apply(&self, changes: Vec<Change>) {
        let mut state = lock(&self.shared.state);
        let mut dirty = BTreeSet::new();
        for change in changes {
            let event = match change {
                Change::Upsert { kind, value } => {
                    state.store.upsert(kind, value).map(|e| (kind, e))
                }
                Change::Delete { kind, ns, name } => {
                    state.store.delete(kind, &ns, &name).map(|e| (kind, e))
                }
            };
            dirty.extend(event.and_then(|(kind, e)| endpoints::dirty(kind, &e)));
        }
        for ns in dirty {
            endpoints::sync(&mut state.store, &ns);
        }
    }

    /// Runs one churn step synchronously.
    pub fn step(&self) {
        let mut churn = lock(&self.shared.churn);
        let changes = churn.step();
        self.apply(changes);
    }

    /// Every current object of every kind, in kind-table then (namespace, name) order.
    pub fn objects(&self) -> Vec<SimObject> {
        lock(&self.shared.state)
            .store
            .all()
            .into_iter()
            .map(|(kind, ns, name, value)| SimObject {
                kind: kind.to_owned(),
                ns,
                name,
                value: (*value).clone(),
            })
            .collect()
    }

    /// Drops all watch history: the next watch from an older resourceVersion gets 410 Expired.
    pub fn compact_history(&self) {
        lock(&self.shared.state).store.compact_history();
    }

    /// Ends every open watch stream now (clients reconnect from their last resourceVersion).
    pub fn cut_watches(&self) {
        let mut cut = lock(&self.shared.cut);
        cut.cancel();
        *cut = CancellationToken::new();
    }

    /// While `refuse` holds, new watch requests are answered `503 ServiceUnavailable` (open ones
    /// are unaffected; combine with [`cut_watches`](Self::cut_watches)). Tests use it to change the
    /// cluster while a client cannot watch, e.g. to force a relist after `410 Gone`.
    pub fn refuse_watches(&self, refuse: bool) {
        self.shared
            .refuse_watches
            .store(refuse, std::sync::atomic::Ordering::SeqCst);
    }

    /// From now on, reading `kind` (get, list, watch) answers `403 Forbidden`, as the real API
    /// server does for a service account whose RBAC lacks the kind.
    pub fn forbid(&self, kind: &str) {
        lock(&self.shared.forbidden).insert(kind.to_string());
    }

    /// Whether reading `kind` is forbidden.
    pub fn is_forbidden(&self, kind: &str) -> bool {
        lock(&self.shared.forbidden).contains(kind)
    }

    /// Whether new watches are refused.
    pub fn watches_refused(&self) -> bool {
        self.shared
            .refuse_watches
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.state).store.rv()
    }

    /// Creates or replaces an object of `kind` (e.g. "Pod"); apiVersion, kind and resourceVersion
    /// are set by the store. Unknown kinds and nameless objects are ignored (logged). Direct writes
    /// bypass the churn model, which may later overwrite objects it owns.
    pub fn upsert(&self, kind: &str, obj: Value) {
        let mut state = lock(&self.shared.state);
        let Some(event) = state.store.upsert(kind, obj) else {
            tracing::warn!(
                kind,
                "upsert ignored: unknown kind or object without metadata.name"
            );
            return;
        };
        if let Some(ns) = endpoints::dirty(kind, &event) {
            endpoints::sync(&mut state.store, &ns);
        }
    }

    /// Deletes an object (no-op if absent). Use the object's own name as `ns` for a Namespace.
    pub fn delete(&self, kind: &str, ns: &str, name: &str) {
        let mut state = lock(&self.shared.state);
        let dirty = state
            .store
            .delete(kind, ns, name)
            .and_then(|e| endpoints::dirty(kind, &e));
        if let Some(ns) = dirty {
            endpoints::sync(&mut state.store, &ns);
        }
    }

    /// Applies `n` pod status changes as fast as possible (a benchmark load: each one is a real
    /// MODIFIED event of a pod, readiness unchanged) and returns how many were applied (0 if the
    /// cluster has no pods).
    pub fn storm(&self, n: usize) -> usize {
        const BATCH: usize = 1024;
        let mut churn = lock(&self.shared.churn);
        let mut applied = 0;
        while applied < n {
            let changes = churn.storm(BATCH.min(n - applied));
            if changes.is_empty() {
                break;
            }
            applied += changes.len();
            self.apply(changes);
        }
        applied
    }

    /// Runs `f` with the store and pager locked.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut lock(&self.shared.state))
    }

    /// The token the current generation of watches ends on.
    pub(crate) fn cut_token(&self) -> CancellationToken {
        lock(&self.shared.cut).clone()
    }

    pub(crate) fn bookmark_interval(&self) -> Duration {
        self.shared.bookmark_interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            churn_interval: None,
            ..SimConfig::default()
        }
    }

    #[test]
    fn the_same_seed_yields_the_same_objects_after_the_same_steps() {
        let (a, b, c) = (
            SimCluster::new(&config(42)),
            SimCluster::new(&config(42)),
            SimCluster::new(&config(43)),
        );
        for _ in 0..200 {
            a.step();
            b.step();
            c.step();
        }
        assert_eq!(a.objects(), b.objects());
        assert_eq!(a.resource_version(), b.resource_version());
        assert_ne!(a.objects(), c.objects());
    }

    #[test]
    fn direct_upserts_and_deletes_show_in_objects() {
        let cluster = SimCluster::new(&config(1));
        let pod = serde_json::json!({"metadata": {"namespace": "shop", "name": "manual"}});
        cluster.upsert("Pod", pod);
        let found = cluster
            .objects()
            .into_iter()
            .find(|o| o.name == "manual")
            .expect("upserted");
        assert_eq!((found.kind.as_str(), found.ns.as_str()), ("Pod", "shop"));
        assert_eq!(
            found.value["metadata"]["resourceVersion"],
            cluster.resource_version().to_string()
        );
        cluster.delete("Pod", "shop", "manual");
        assert!(cluster.objects().iter().all(|o| o.name != "manual"));
    }
}
