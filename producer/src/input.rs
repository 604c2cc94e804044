//! What the watchers send to the index task: kube's `watcher::Event`s with the object already
//! projected, so everything after this point is kind-independent.

use crate::project::Projection;

/// One watch event of one kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A (re)list of a scope (see [`scope`]: a kind, or one namespace of a kind) starts;
    /// `InitApply`s follow until `InitDone`.
    Init(String),
    /// An object listed during a (re)list.
    InitApply(Projection),
    /// The (re)list of a scope is complete: objects of the scope it did not list are gone.
    InitDone(String),
    /// An object was added or modified.
    Apply(Projection),
    /// An object was deleted.
    Delete(Projection),
}

impl Input {
    /// The kind this input is about (for `Init`/`InitDone`: the scope).
    pub fn kind(&self) -> &str {
        match self {
            Input::Init(kind) | Input::InitDone(kind) => kind,
            Input::InitApply(p) | Input::Apply(p) | Input::Delete(p) => &p.kind,
        }
    }
}

/// The relist scope of a watcher: `Kind` for a cluster-wide watch, `Kind@namespace` for a watch
/// of one namespace.
pub fn scope(kind: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("{kind}@{ns}"),
        None => kind.to_string(),
    }
}

/// The kind and namespace of a relist scope (inverse of [`scope`]).
pub fn split_scope(scope: &str) -> (&str, Option<&str>) {
    match scope.split_once('@') {
        Some((kind, ns)) => (kind, Some(ns)),
        None => (scope, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        assert_eq!(
            split_scope(&scope("Pod", Some("shop"))),
            ("Pod", Some("shop"))
        );
        assert_eq!(split_scope(&scope("Node", None)), ("Node", None));
    }
}
