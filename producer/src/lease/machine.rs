//! The pure leader-election state machine: given what the Lease looks like now, our monotonic
//! clock and the outcome of our last write, decide what to write and which [`Role`] we hold.
//! No I/O, so every rule is a plain unit test.
//!
//! Rules:
//! - acquire when the lease is absent, has no holder, or is expired: its `renewTime +
//!   leaseDuration` is in the (wall-clock) past, or it has not changed for a whole lease duration
//!   on our own monotonic clock (the client-go rule, immune to clock skew);
//! - a new holder increments `leaseTransitions`; a renewal by the holder keeps it;
//! - we are leader only until `sent + lease_duration`, where `sent` is our monotonic instant just
//!   before the write that acquired or renewed the lease, so we never act as leader after the
//!   lease could have expired in anyone's eyes; a conflict or another holder ends it at once.

use super::{Role, fence_of};
use std::time::Duration;
use tokio::time::Instant;

/// The parts of a Lease the election reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    pub holder: Option<String>,
    /// `renewTime` (or `acquireTime`) in milliseconds since the Unix epoch.
    pub renew_ms: Option<i64>,
    pub duration_s: Option<i64>,
    pub transitions: u64,
    pub resource_version: Option<String>,
}

/// What to write next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The lease does not exist: create it held by us.
    Create { transitions: u64 },
    /// Write the lease held by us, from `resource_version` (optimistic concurrency). `acquire`:
    /// we are a new holder (set `acquireTime`).
    Update {
        resource_version: Option<String>,
        transitions: u64,
        acquire: bool,
    },
    /// Someone else holds a live lease.
    Wait,
}

/// One participant's view of the election.
#[derive(Debug)]
pub struct Machine {
    identity: String,
    duration: Duration,
    role: Role,
    /// The last distinct observation and when (on our clock) we first saw it.
    seen: Option<(Observed, Instant)>,
    /// Lowest `leaseTransitions` we may hold (raised when the log shows a newer fence than ours,
    /// e.g. after the Lease object was deleted and recreated).
    floor: u64,
}

impl Machine {
    pub fn new(identity: impl Into<String>, duration: Duration) -> Self {
        Self {
            identity: identity.into(),
            duration,
            role: Role::Follower,
            seen: None,
            floor: 0,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Decides the next write from the current lease (`None`: it does not exist).
    pub fn decide(&mut self, observed: Option<&Observed>, now: Instant, wall_ms: i64) -> Action {
        self.tick(now);
        let Some(o) = observed else {
            self.seen = None;
            self.role = Role::Follower;
            return Action::Create {
                transitions: self.floor,
            };
        };
        if self.seen.as_ref().is_none_or(|(seen, _)| seen != o) {
            self.seen = Some((o.clone(), now));
        }
        if o.holder.as_deref() == Some(self.identity.as_str()) {
            let fence_too_low = o.transitions < self.floor;
            return Action::Update {
                resource_version: o.resource_version.clone(),
                transitions: o.transitions.max(self.floor),
                acquire: fence_too_low,
            };
        }
        self.role = Role::Follower;
        if self.expired(o, now, wall_ms) {
            Action::Update {
                resource_version: o.resource_version.clone(),
                transitions: (o.transitions + 1).max(self.floor),
                acquire: true,
            }
        } else {
            Action::Wait
        }
    }

    fn expired(&self, o: &Observed, now: Instant, wall_ms: i64) -> bool {
        if o.holder.as_deref().is_none_or(str::is_empty) {
            return true;
        }
        let wall = match (o.renew_ms, o.duration_s) {
            (Some(renew), Some(secs)) => renew.saturating_add(secs.saturating_mul(1000)) < wall_ms,
            _ => false,
        };
        let unchanged = self
            .seen
            .as_ref()
            .is_some_and(|(_, since)| now.saturating_duration_since(*since) >= self.duration);
        wall || unchanged
    }

    /// Our write (sent at `sent`) of a lease with `transitions` succeeded: we lead until
    /// `sent + duration`.
    pub fn on_written(&mut self, sent: Instant, transitions: u64) -> Role {
        self.role = Role::Leader {
            fence: fence_of(transitions),
            until: sent + self.duration,
        };
        self.role
    }

    /// A read or write failed. A conflict means someone else wrote the lease: step down now; any
    /// other failure keeps us leader until our deadline (retrying meanwhile).
    pub fn on_failed(&mut self, now: Instant, conflict: bool) -> Role {
        if conflict {
            self.role = Role::Follower;
        }
        self.tick(now)
    }

    /// Steps down once the deadline has passed without a successful renewal.
    pub fn tick(&mut self, now: Instant) -> Role {
        if let Role::Leader { until, .. } = self.role
            && until <= now
        {
            self.role = Role::Follower;
        }
        self.role
    }

    /// The log holds a fence at least `fence`: the next acquisition or renewal must produce a
    /// higher one (transitions above it).
    pub fn raise_floor(&mut self, fence: u64) {
        let needed = fence.saturating_sub(super::FENCE_BASE).saturating_add(1);
        self.floor = self.floor.max(needed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::FENCE_BASE;

    const D: Duration = Duration::from_secs(15);

    fn held_by(holder: &str, renew_ms: i64, transitions: u64, rv: &str) -> Observed {
        Observed {
            holder: Some(holder.into()),
            renew_ms: Some(renew_ms),
            duration_s: Some(15),
            transitions,
            resource_version: Some(rv.into()),
        }
    }

    #[test]
    fn an_absent_lease_is_created_and_then_held_until_the_deadline() {
        let mut m = Machine::new("a", D);
        let t0 = Instant::now();
        assert_eq!(m.decide(None, t0, 0), Action::Create { transitions: 0 });
        let role = m.on_written(t0, 0);
        assert_eq!(
            role,
            Role::Leader {
                fence: FENCE_BASE,
                until: t0 + D
            }
        );
        assert!(role.is_leader_at(t0 + D - Duration::from_millis(1)));
        assert_eq!(m.tick(t0 + D), Role::Follower, "never past the deadline");
    }

    #[test]
    fn the_holder_renews_without_a_new_transition() {
        let mut m = Machine::new("a", D);
        let t0 = Instant::now();
        let action = m.decide(Some(&held_by("a", 1_000, 4, "7")), t0, 2_000);
        assert_eq!(
            action,
            Action::Update {
                resource_version: Some("7".into()),
                transitions: 4,
                acquire: false
            }
        );
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(m.on_written(t1, 4).fence(), Some(FENCE_BASE + 4));
        assert!(m.role().is_leader_at(t1 + Duration::from_secs(14)));
    }

    #[test]
    fn a_live_lease_of_another_holder_is_left_alone() {
        let mut m = Machine::new("b", D);
        let t0 = Instant::now();
        let lease = held_by("a", 10_000, 2, "9");
        assert_eq!(m.decide(Some(&lease), t0, 11_000), Action::Wait);
        assert_eq!(m.role(), Role::Follower);
    }

    #[test]
    fn a_lease_past_its_renew_time_is_taken_over_with_the_next_generation() {
        let mut m = Machine::new("b", D);
        let lease = held_by("a", 10_000, 2, "9");
        let action = m.decide(Some(&lease), Instant::now(), 10_000 + 15_001);
        assert_eq!(
            action,
            Action::Update {
                resource_version: Some("9".into()),
                transitions: 3,
                acquire: true
            }
        );
    }

    #[test]
    fn a_lease_unchanged_for_a_whole_duration_on_our_clock_is_expired_despite_skew() {
        let mut m = Machine::new("b", D);
        let t0 = Instant::now();
        // The holder's wall clock is far ahead: by its renewTime the lease looks live forever.
        let lease = held_by("a", i64::MAX / 2, 2, "9");
        assert_eq!(m.decide(Some(&lease), t0, 0), Action::Wait);
        assert_eq!(
            m.decide(Some(&lease), t0 + D - Duration::from_millis(1), 0),
            Action::Wait
        );
        assert!(matches!(
            m.decide(Some(&lease), t0 + D, 0),
            Action::Update {
                acquire: true,
                transitions: 3,
                ..
            }
        ));
    }

    #[test]
    fn a_renewal_by_the_holder_restarts_our_expiry_clock() {
        let mut m = Machine::new("b", D);
        let t0 = Instant::now();
        let far = i64::MAX / 2;
        assert_eq!(
            m.decide(Some(&held_by("a", far, 2, "9")), t0, 0),
            Action::Wait
        );
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(
            m.decide(Some(&held_by("a", far, 2, "10")), t1, 0),
            Action::Wait
        );
        assert_eq!(
            m.decide(Some(&held_by("a", far, 2, "10")), t0 + D, 0),
            Action::Wait,
            "changed 5 s ago"
        );
    }

    #[test]
    fn a_conflict_steps_down_at_once_and_other_failures_at_the_deadline() {
        let mut m = Machine::new("a", D);
        let t0 = Instant::now();
        m.on_written(t0, 1);
        assert!(
            m.on_failed(t0 + Duration::from_secs(1), false)
                .fence()
                .is_some()
        );
        assert_eq!(m.on_failed(t0 + D, false), Role::Follower);
        m.on_written(t0, 1);
        assert_eq!(m.on_failed(t0, true), Role::Follower);
    }

    #[test]
    fn another_holder_seen_while_leading_ends_our_leadership() {
        let mut m = Machine::new("a", D);
        let t0 = Instant::now();
        m.on_written(t0, 1);
        m.decide(Some(&held_by("b", 0, 2, "3")), t0, 0);
        assert_eq!(m.role(), Role::Follower);
    }

    #[test]
    fn a_raised_floor_forces_a_higher_generation_even_for_the_holder() {
        let mut m = Machine::new("a", D);
        m.raise_floor(FENCE_BASE + 5);
        assert_eq!(
            m.decide(Some(&held_by("a", 0, 2, "3")), Instant::now(), 0),
            Action::Update {
                resource_version: Some("3".into()),
                transitions: 6,
                acquire: true
            }
        );
        assert_eq!(
            m.decide(None, Instant::now(), 0),
            Action::Create { transitions: 6 }
        );
    }
}
