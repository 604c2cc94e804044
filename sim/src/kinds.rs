//! The kind table: every served resource is one `KindSpec` row (group path, plural, kinds, scope),
//! and request paths are resolved against it. Adding a kind (Nodes, StatefulSets, Jobs, Leases) is one
//! row here; the store, list, get and watch code is generic over it. `Workflow` (argoproj.io) stands
//! in for a custom resource, so clients can exercise their dynamic-API path.

/// One served resource type.
#[derive(Debug, PartialEq, Eq)]
pub struct KindSpec {
    /// The object `kind`, e.g. `Pod`; also the key tests use in `upsert` / `delete` / `objects`.
    pub kind: &'static str,
    /// The list `kind`, e.g. `PodList`.
    pub list_kind: &'static str,
    /// `apiVersion` of objects and lists, e.g. `v1` or `apps/v1`.
    pub api_version: &'static str,
    /// URL prefix of the group version, e.g. `/api/v1` or `/apis/apps/v1`.
    pub prefix: &'static str,
    /// URL plural, e.g. `pods`.
    pub plural: &'static str,
    /// Whether objects live in a namespace (`Namespace` itself is cluster-scoped).
    pub namespaced: bool,
}

/// Every kind the simulator serves.
pub static KINDS: &[KindSpec] = &[
    KindSpec {
        kind: "Namespace",
        list_kind: "NamespaceList",
        api_version: "v1",
        prefix: "/api/v1",
        plural: "namespaces",
        namespaced: false,
    },
    KindSpec {
        kind: "Pod",
        list_kind: "PodList",
        api_version: "v1",
        prefix: "/api/v1",
        plural: "pods",
        namespaced: true,
    },
    KindSpec {
        kind: "Service",
        list_kind: "ServiceList",
        api_version: "v1",
        prefix: "/api/v1",
        plural: "services",
        namespaced: true,
    },
    KindSpec {
        kind: "Deployment",
        list_kind: "DeploymentList",
        api_version: "apps/v1",
        prefix: "/apis/apps/v1",
        plural: "deployments",
        namespaced: true,
    },
    KindSpec {
        kind: "ReplicaSet",
        list_kind: "ReplicaSetList",
        api_version: "apps/v1",
        prefix: "/apis/apps/v1",
        plural: "replicasets",
        namespaced: true,
    },
    KindSpec {
        kind: "Node",
        list_kind: "NodeList",
        api_version: "v1",
        prefix: "/api/v1",
        plural: "nodes",
        namespaced: false,
    },
    KindSpec {
        kind: "Endpoints",
        list_kind: "EndpointsList",
        api_version: "v1",
        prefix: "/api/v1",
        plural: "endpoints",
        namespaced: true,
    },
    KindSpec {
        kind: "EndpointSlice",
        list_kind: "EndpointSliceList",
        api_version: "discovery.k8s.io/v1",
        prefix: "/apis/discovery.k8s.io/v1",
        plural: "endpointslices",
        namespaced: true,
    },
    KindSpec {
        kind: "StatefulSet",
        list_kind: "StatefulSetList",
        api_version: "apps/v1",
        prefix: "/apis/apps/v1",
        plural: "statefulsets",
        namespaced: true,
    },
    KindSpec {
        kind: "DaemonSet",
        list_kind: "DaemonSetList",
        api_version: "apps/v1",
        prefix: "/apis/apps/v1",
        plural: "daemonsets",
        namespaced: true,
    },
    KindSpec {
        kind: "Job",
        list_kind: "JobList",
        api_version: "batch/v1",
        prefix: "/apis/batch/v1",
        plural: "jobs",
        namespaced: true,
    },
    KindSpec {
        kind: "CronJob",
        list_kind: "CronJobList",
        api_version: "batch/v1",
        prefix: "/apis/batch/v1",
        plural: "cronjobs",
        namespaced: true,
    },
    KindSpec {
        kind: "Workflow",
        list_kind: "WorkflowList",
        api_version: "argoproj.io/v1alpha1",
        prefix: "/apis/argoproj.io/v1alpha1",
        plural: "workflows",
        namespaced: true,
    },
    KindSpec {
        kind: "Lease",
        list_kind: "LeaseList",
        api_version: "coordination.k8s.io/v1",
        prefix: "/apis/coordination.k8s.io/v1",
        plural: "leases",
        namespaced: true,
    },
];

/// Looks a kind up by its `kind` string.
pub fn by_kind(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// What a resource path addresses.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub spec: &'static KindSpec,
    /// `Some` for namespaced paths (`/namespaces/{ns}/...`); `None` means all namespaces.
    pub ns: Option<String>,
    /// `Some` for a single object (GET by name).
    pub name: Option<String>,
}

/// Resolves a request path such as `/api/v1/namespaces/shop/pods/web-1` against the table.
pub fn parse_path(path: &str) -> Option<Target> {
    KINDS.iter().find_map(|spec| {
        let rest = path.strip_prefix(spec.prefix)?.strip_prefix('/')?;
        let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let target = |ns: Option<&str>, name: Option<&str>| Target {
            spec,
            ns: ns.map(str::to_owned),
            name: name.map(str::to_owned),
        };
        match segs.as_slice() {
            [plural] if *plural == spec.plural => Some(target(None, None)),
            [plural, name] if *plural == spec.plural && !spec.namespaced => {
                Some(target(None, Some(name)))
            }
            ["namespaces", ns, plural] if *plural == spec.plural && spec.namespaced => {
                Some(target(Some(ns), None))
            }
            ["namespaces", ns, plural, name] if *plural == spec.plural && spec.namespaced => {
                Some(target(Some(ns), Some(name)))
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_namespaces_paths_resolve_to_their_kind() {
        let t = parse_path("/apis/apps/v1/deployments").expect("deployments");
        assert_eq!((t.spec.kind, t.ns, t.name), ("Deployment", None, None));
        assert_eq!(parse_path("/api/v1/pods").expect("pods").spec.kind, "Pod");
    }

    #[test]
    fn namespaced_and_named_paths_carry_namespace_and_name() {
        let t = parse_path("/api/v1/namespaces/shop/pods/web-1").expect("pod");
        assert_eq!(t.ns.as_deref(), Some("shop"));
        assert_eq!(t.name.as_deref(), Some("web-1"));
        let t = parse_path("/api/v1/namespaces/shop").expect("namespace");
        assert_eq!(
            (t.spec.kind, t.name.as_deref()),
            ("Namespace", Some("shop"))
        );
        let t = parse_path("/api/v1/namespaces/shop/services").expect("services");
        assert_eq!((t.spec.kind, t.ns.as_deref()), ("Service", Some("shop")));
    }

    #[test]
    fn unknown_paths_and_wrong_groups_do_not_resolve() {
        assert!(parse_path("/api/v1/widgets").is_none());
        assert!(parse_path("/apis/apps/v1/pods").is_none());
        assert!(parse_path("/api/v1/pods/x").is_none());
    }
}
