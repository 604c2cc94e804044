//! Pure decisions of the publisher: what a failed log operation means, how to settle an append
//! whose outcome is unknown, and the retry backoff. Kept apart from the I/O so every branch is
//! unit-tested without a failing Redis.
//!
//! The rule behind all of them: never emit a duplicate and never skip or reuse a seq. When the
//! log's state cannot be reconciled with what this producer wrote, it starts a new epoch.

use kubecast_shared::log::{Fence, LogError, LogMeta};
use kubecast_shared::{Epoch, Seq};
use std::time::Duration;

/// What a failed log operation calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The connection failed: the append may or may not have landed. Re-read meta, then retry.
    Ambiguous,
    /// The log refused the append (head/epoch mismatch, missing): re-read meta to see why.
    Refused,
    /// A writer with a newer fence holds the log: stop publishing.
    Superseded { current: Fence },
    /// A bug or corrupt data; retrying will not help.
    Fatal,
}

/// Classifies a log error.
pub fn classify(error: &LogError) -> ErrorClass {
    match error {
        e if e.is_transient() => ErrorClass::Ambiguous,
        LogError::StaleFence { current, .. } => ErrorClass::Superseded { current: *current },
        LogError::HeadMismatch { .. } | LogError::EpochMismatch { .. } | LogError::Missing => {
            ErrorClass::Refused
        }
        _ => ErrorClass::Fatal,
    }
}

/// An append as the producer attempted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub epoch: Epoch,
    pub fence: Fence,
    /// The head the append expected.
    pub expected: Seq,
    /// How many entries it carried (at least 1).
    pub len: u64,
}

/// What the log's meta says about an attempted append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The head moved by exactly our batch, in our epoch, under our fence: it landed.
    Landed,
    /// The head is where we left it: it did not land; retry.
    NotLanded,
    /// The log is gone, in another epoch, rolled back or diverged: start a new epoch.
    Lost,
    /// A newer writer holds the log.
    Superseded { current: Fence },
}

/// Settles `attempt` against the meta read after it failed.
pub fn resolve(meta: Option<&LogMeta>, attempt: &Attempt) -> Resolution {
    let Some(meta) = meta else {
        return Resolution::Lost;
    };
    if meta.fence > attempt.fence {
        return Resolution::Superseded {
            current: meta.fence,
        };
    }
    if meta.epoch != attempt.epoch {
        return Resolution::Lost;
    }
    if meta.seq.0 == attempt.expected.0 + attempt.len && meta.fence == attempt.fence {
        Resolution::Landed
    } else if meta.seq == attempt.expected {
        Resolution::NotLanded
    } else {
        Resolution::Lost
    }
}

/// Exponential retry delay (doubling from `min` up to `max`).
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Default for Backoff {
    /// 100 ms → 1 s: a retry a second costs Redis nothing, and a longer cap only delays the
    /// recovery after an outage (the fault suite measured 9 s at a 5 s cap).
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(1))
    }
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            next: min,
        }
    }

    /// The delay before the next retry.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// After a success, start again from `min`.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(epoch: &str, seq: u64, fence: Fence) -> LogMeta {
        LogMeta {
            epoch: Epoch(epoch.into()),
            seq: Seq(seq),
            fence,
            created: 0,
        }
    }

    fn attempt() -> Attempt {
        Attempt {
            epoch: Epoch("e1".into()),
            fence: 10,
            expected: Seq(5),
            len: 3,
        }
    }

    #[test]
    fn connection_errors_are_ambiguous_and_refusals_need_a_meta_read() {
        let io = redis::RedisError::from(std::io::Error::other("reset"));
        assert_eq!(classify(&LogError::Redis(io)), ErrorClass::Ambiguous);
        let head = LogError::HeadMismatch {
            expected: Seq(5),
            actual: Seq(3),
        };
        assert_eq!(classify(&head), ErrorClass::Refused);
        let wiped = LogError::EpochMismatch {
            ours: Epoch("e1".into()),
            current: None,
        };
        assert_eq!(classify(&wiped), ErrorClass::Refused);
        assert_eq!(
            classify(&LogError::StaleFence {
                ours: 1,
                current: 2
            }),
            ErrorClass::Superseded { current: 2 }
        );
        assert_eq!(classify(&LogError::NonContiguous), ErrorClass::Fatal);
    }

    #[test]
    fn an_append_that_moved_the_head_by_our_batch_landed() {
        assert_eq!(
            resolve(Some(&meta("e1", 8, 10)), &attempt()),
            Resolution::Landed
        );
    }

    #[test]
    fn an_append_that_left_the_head_alone_did_not_land() {
        assert_eq!(
            resolve(Some(&meta("e1", 5, 10)), &attempt()),
            Resolution::NotLanded
        );
        assert_eq!(
            resolve(Some(&meta("e1", 5, 9)), &attempt()),
            Resolution::NotLanded
        );
    }

    #[test]
    fn a_wiped_rolled_back_or_replaced_log_is_lost() {
        assert_eq!(resolve(None, &attempt()), Resolution::Lost);
        assert_eq!(
            resolve(Some(&meta("e1", 4, 10)), &attempt()),
            Resolution::Lost
        );
        assert_eq!(
            resolve(Some(&meta("e2", 8, 10)), &attempt()),
            Resolution::Lost
        );
        assert_eq!(
            resolve(Some(&meta("e1", 9, 10)), &attempt()),
            Resolution::Lost
        );
    }

    #[test]
    fn a_head_moved_by_an_older_writer_is_not_ours() {
        assert_eq!(
            resolve(Some(&meta("e1", 8, 9)), &attempt()),
            Resolution::Lost
        );
    }

    #[test]
    fn a_newer_fence_means_another_producer_took_over() {
        assert_eq!(
            resolve(Some(&meta("e1", 8, 11)), &attempt()),
            Resolution::Superseded { current: 11 }
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::default();
        let delays: Vec<u128> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_delay().as_millis(), 100);
    }
}
