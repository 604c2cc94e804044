//! Leader election on a Kubernetes `Lease` (`coordination.k8s.io/v1`), so two or more producer
//! replicas can run for HA while exactly one appends to the log (DESIGN §1, fencing).
//!
//! - [`machine`] is the pure state machine (what to write, which [`Role`] we hold); [`elector`]
//!   is the thin async loop that reads and writes the Lease through kube's `Api<Lease>`.
//! - The driver receives the role on a `watch` channel ([`Leadership`]): watchers and the index
//!   keep running on followers, so a takeover only has to read the log and publish differences.
//!
//! **Fences.** The fence of a leader is `2^52 + leaseTransitions` ([`fence_of`]), where
//! `leaseTransitions` grows on every acquisition by a new holder. Two reasons for the offset:
//! the dev mode (no election) fences with its start time in milliseconds since 1970, which is far
//! below 2^52 (year 142,000), so an elected leader always supersedes a dev-mode producer; and
//! every value stays below 2^53, so it is exact in the Redis Lua fence check, which compares
//! numbers as doubles. A leader never acts past `renewTime + leaseDuration` on its own monotonic
//! clock; one that was paused past that point and resumes mid-append is refused by the log
//! (`StaleFence`, the next leader has a higher fence) and steps down.

pub mod elector;
pub mod machine;

pub use elector::{LeaseConfig, elect};
pub use machine::{Action, Machine, Observed};

use kubecast_shared::log::Fence;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Base of elected fences: above every dev-mode (start-time) fence, exact in a double.
pub const FENCE_BASE: Fence = 1 << 52;

/// The fence of the leader holding the lease at generation `transitions`.
pub fn fence_of(transitions: u64) -> Fence {
    FENCE_BASE.saturating_add(transitions)
}

/// Whether we may publish, and with which fence until when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    /// Leader with `fence` until the monotonic instant `until`.
    Leader {
        fence: Fence,
        until: Instant,
    },
}

impl Role {
    /// A role that never expires (the dev mode: no election, a fixed fence).
    pub fn fixed(fence: Fence) -> Self {
        Role::Leader {
            fence,
            until: Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600),
        }
    }

    pub fn fence(&self) -> Option<Fence> {
        match self {
            Role::Leader { fence, .. } => Some(*fence),
            Role::Follower => None,
        }
    }

    /// Whether this role lets us publish at `now`.
    pub fn is_leader_at(&self, now: Instant) -> bool {
        matches!(self, Role::Leader { until, .. } if *until > now)
    }
}

/// The driver's side of the election: the current role, and a way to report the log's fence
/// when the log refused ours (so the next acquisition produces a higher one).
#[derive(Debug)]
pub struct Leadership {
    pub role: watch::Receiver<Role>,
    pub refused_by: watch::Sender<Fence>,
    /// `false` for the dev mode: a refused fence then stops the producer, as before.
    pub elected: bool,
}

impl Leadership {
    /// The dev mode: always leader with `fence`.
    pub fn fixed(fence: Fence) -> Self {
        Self {
            role: watch::channel(Role::fixed(fence)).1,
            refused_by: watch::channel(0).0,
            elected: false,
        }
    }
}

/// A test hook that freezes the renew loop and the publish path (as a long GC or VM pause
/// would), right before a lease write and right before an append.
#[derive(Clone, Debug, Default)]
pub struct Pause(Arc<watch::Sender<bool>>);

impl PartialEq for Pause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Pause {}

impl Pause {
    pub fn pause(&self) {
        self.0.send_replace(true);
    }

    pub fn resume(&self) {
        self.0.send_replace(false);
    }

    /// Waits while paused.
    pub async fn checkpoint(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|paused| !*paused).await;
    }
}

/// Waits at `pause` if there is one.
pub(crate) async fn checkpoint(pause: Option<&Pause>) {
    if let Some(pause) = pause {
        pause.checkpoint().await;
    }
}
