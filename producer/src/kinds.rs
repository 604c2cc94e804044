//! The table of watched kinds. Adding a kind is one `Project` impl in `project/` plus one line in
//! [`KINDS`]; the watchers, `project_value` and the start-up gate ("every watched scope has listed
//! once") all read this table. [`plan`] turns the table and the watch options into the watchers
//! to start.

use crate::config::WatchConfig;
use crate::input::{Input, scope};
use crate::project::{Project, ProjectError, Projection, project_json};
use crate::stats::ProducerStats;
use crate::watch::{NamespaceFilter, WatchTarget};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Spawnable watch loop of one kind.
pub type WatchFn = fn(
    kube::Client,
    WatchTarget,
    mpsc::Sender<Input>,
    ProducerStats,
    CancellationToken,
) -> BoxFuture<'static, ()>;

/// Read check of one target (see [`crate::watch::probe`]).
pub type ProbeFn = fn(kube::Client, &WatchTarget) -> BoxFuture<'static, kube::Result<()>>;

/// One watched kind.
pub struct KindSpec {
    /// The kind as published (`Pod`, …).
    pub kind: &'static str,
    /// Watches the objects of a [`WatchTarget`] and sends [`Input`]s until cancelled.
    pub watch: WatchFn,
    /// Checks once, before watching, that the target can be listed.
    pub probe: ProbeFn,
    /// Deserializes a JSON object of this kind and projects it.
    pub project_value: fn(&Value) -> Result<Projection, ProjectError>,
    /// Namespaced (`false`: cluster-scoped, never filtered by namespace).
    pub namespaced: bool,
    /// `--label-selector` applies to this kind (pods and workloads).
    pub selectable: bool,
    /// Never published itself; only feeds other objects' rendering (endpoints → services).
    pub internal: bool,
    /// Watched when `--kinds` is not given.
    pub default: bool,
}

type NsScope = k8s_openapi::NamespaceResourceScope;

const fn namespaced<K: Project + kube::Resource<Scope = NsScope>>(selectable: bool) -> KindSpec {
    KindSpec {
        kind: K::KIND,
        watch: crate::watch::boxed_namespaced::<K>,
        probe: crate::watch::probe_namespaced::<K>,
        project_value: project_json::<K>,
        namespaced: true,
        selectable,
        internal: false,
        default: true,
    }
}

const fn cluster<K: Project>() -> KindSpec {
    KindSpec {
        kind: K::KIND,
        watch: crate::watch::boxed_cluster::<K>,
        probe: crate::watch::probe_cluster::<K>,
        project_value: project_json::<K>,
        namespaced: false,
        selectable: false,
        internal: false,
        default: true,
    }
}

const fn internal(mut spec: KindSpec, default: bool) -> KindSpec {
    spec.internal = true;
    spec.default = default;
    spec
}

/// Every kind the producer can watch. Owners come before what they own, so a full republish
/// emits a Deployment before its ReplicaSets and pods where batch order allows. `Endpoints` is
/// the legacy fallback of `EndpointSlice` and only watched when listed in `--kinds`.
pub static KINDS: &[KindSpec] = &[
    cluster::<Namespace>(),
    cluster::<Node>(),
    namespaced::<Deployment>(true),
    namespaced::<StatefulSet>(true),
    namespaced::<DaemonSet>(true),
    namespaced::<CronJob>(true),
    namespaced::<Job>(true),
    namespaced::<ReplicaSet>(true),
    namespaced::<Pod>(true),
    namespaced::<Service>(false),
    internal(namespaced::<EndpointSlice>(false), true),
    internal(namespaced::<Endpoints>(false), false),
];

/// The table entry of `kind`.
pub fn find(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|s| s.kind == kind)
}

/// Whether objects of `kind` are kept unpublished (they only feed other objects' rendering).
pub fn is_internal(kind: &str) -> bool {
    find(kind).is_some_and(|s| s.internal)
}

/// The names of every kind in the table.
pub fn names() -> Vec<String> {
    KINDS.iter().map(|s| s.kind.to_string()).collect()
}

/// The names of the kinds watched by default.
pub fn default_names() -> Vec<String> {
    KINDS
        .iter()
        .filter(|s| s.default)
        .map(|s| s.kind.to_string())
        .collect()
}

/// A `--kinds` entry that is not in the table.
#[derive(Debug, thiserror::Error)]
#[error("unknown kind {0:?} in --kinds (known: {known})", known = names().join(","))]
pub struct UnknownKind(pub String);

/// The watchers to start for `config`: one per selected kind, or for a namespaced kind one per
/// included namespace when `--namespaces` is given.
pub fn plan(config: &WatchConfig) -> Result<Vec<(&'static KindSpec, WatchTarget)>, UnknownKind> {
    let specs: Vec<&'static KindSpec> = match &config.kinds {
        None => KINDS.iter().filter(|s| s.default).collect(),
        Some(kinds) => {
            for k in kinds {
                find(k).ok_or_else(|| UnknownKind(k.clone()))?;
            }
            KINDS
                .iter()
                .filter(|s| kinds.iter().any(|k| k == s.kind))
                .collect()
        }
    };
    let filter = config.filter();
    let mut out = Vec::new();
    for spec in specs {
        let label_selector = config.label_selector.clone().filter(|_| spec.selectable);
        let target = |namespace: Option<&str>| WatchTarget {
            scope: scope(spec.kind, namespace),
            namespace: namespace.map(Into::into),
            label_selector: label_selector.clone(),
            filter: filter.clone(),
        };
        match (&filter.include, spec.namespaced) {
            (Some(include), true) => out.extend(include.iter().map(|ns| (spec, target(Some(ns))))),
            _ => out.push((spec, target(None))),
        }
    }
    Ok(out)
}

/// Scope of each dynamic watch of `kind` (per included namespace when namespaced).
pub fn dynamic_targets(kind: &str, namespaced: bool, config: &WatchConfig) -> Vec<WatchTarget> {
    let filter: NamespaceFilter = config.filter();
    let target = |namespace: Option<&str>| WatchTarget {
        scope: scope(kind, namespace),
        namespace: namespace.map(Into::into),
        label_selector: None,
        filter: filter.clone(),
    };
    match (&filter.include, namespaced) {
        (Some(include), true) => include.iter().map(|ns| target(Some(ns))).collect(),
        _ => vec![target(None)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_the_issue_is_in_the_table() {
        assert_eq!(
            default_names(),
            [
                "Namespace",
                "Node",
                "Deployment",
                "StatefulSet",
                "DaemonSet",
                "CronJob",
                "Job",
                "ReplicaSet",
                "Pod",
                "Service",
                "EndpointSlice"
            ]
        );
        assert!(find("Endpoints").is_some_and(|s| s.internal && !s.default));
        assert!(is_internal("EndpointSlice"));
        assert!(!is_internal("Pod"));
        assert!(find("Gizmo").is_none());
    }

    #[test]
    fn the_default_plan_watches_every_default_kind_cluster_wide() {
        let plan = plan(&WatchConfig::default()).expect("plans");
        let scopes: Vec<_> = plan.iter().map(|(_, t)| t.scope.as_str()).collect();
        assert_eq!(scopes, default_names());
        assert!(plan.iter().all(|(_, t)| t.namespace.is_none()));
    }

    #[test]
    fn an_include_list_watches_namespaced_kinds_per_namespace() {
        let config = WatchConfig {
            kinds: Some(vec!["Namespace".into(), "Pod".into(), "Node".into()]),
            namespaces: vec!["a".into(), "b".into()],
            label_selector: Some("app=web".into()),
            ..WatchConfig::default()
        };
        let plan = plan(&config).expect("plans");
        let got: Vec<_> = plan
            .iter()
            .map(|(_, t)| (t.scope.as_str(), t.label_selector.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("Namespace", None),
                ("Node", None),
                ("Pod@a", Some("app=web")),
                ("Pod@b", Some("app=web"))
            ]
        );
    }

    #[test]
    fn unknown_kinds_are_refused() {
        let config = WatchConfig {
            kinds: Some(vec!["Gizmo".into()]),
            ..WatchConfig::default()
        };
        assert!(plan(&config).is_err());
    }
}
