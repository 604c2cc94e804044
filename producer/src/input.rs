//! What the watchers send to the index task: kube's `watcher::Event`s with the object already
//! projected, so everything after this point is kind-independent.

use crate::project::Projection;

/// One watch event of one kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A (re)list of `kind` starts; `InitApply`s follow until `InitDone`.
    Init(String),
    /// An object listed during a (re)list.
    InitApply(Projection),
    /// The (re)list of `kind` is complete: objects of the kind it did not list are gone.
    InitDone(String),
    /// An object was added or modified.
    Apply(Projection),
    /// An object was deleted.
    Delete(Projection),
}

impl Input {
    /// The kind this input is about.
    pub fn kind(&self) -> &str {
        match self {
            Input::Init(kind) | Input::InitDone(kind) => kind,
            Input::InitApply(p) | Input::Apply(p) | Input::Delete(p) => &p.kind,
        }
    }
}
