//! Rewritten history: a Redis restored from an older copy while no writer remembered the lost
//! seqs (the producer restarted too) takes the same epoch's seqs again with other events. A
//! replica is the only one left that remembers: its head went backwards, or, after a lost
//! connection, the log's event at its head is not the one it applied. It then retires the epoch
//! (`EventLog::retire_epoch`), so every client is told to reset and the producer starts a new
//! epoch, instead of clients silently mixing two histories.

use bytes::Bytes;
use kubecast_shared::{Epoch, Seq, StoredEvent};

/// What the log's event at our head says about the history we applied.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadCheck {
    /// The same event: the history we applied is still the log's.
    Same,
    /// Another event under our seq: the history was rewritten.
    Rewritten,
    /// Nothing to compare (we hold no event at our head, or the log no longer does).
    Unknown,
}

/// Compares the event we applied at `head` with the log's first event after `head - 1`.
pub fn check_head(head: Seq, ours: Option<&Bytes>, logs: Option<&StoredEvent>) -> HeadCheck {
    match (ours, logs) {
        (Some(ours), Some(theirs)) if theirs.seq() == head => {
            if *ours == theirs.raw {
                HeadCheck::Same
            } else {
                HeadCheck::Rewritten
            }
        }
        _ => HeadCheck::Unknown,
    }
}

/// The name a retired epoch takes (clients on the old name are told to reset).
pub fn retired(epoch: &Epoch) -> Epoch {
    Epoch(format!("{}-retired", epoch.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::stored;
    use kubecast_shared::Op;

    #[test]
    fn only_another_event_under_our_head_is_a_rewrite() {
        let ours = stored("e", 7, "a", Op::Added);
        let other = stored("e", 7, "b", Op::Added);
        let later = stored("e", 8, "a", Op::Updated);
        assert_eq!(
            check_head(Seq(7), Some(&ours.raw), Some(&ours)),
            HeadCheck::Same
        );
        assert_eq!(
            check_head(Seq(7), Some(&ours.raw), Some(&other)),
            HeadCheck::Rewritten
        );
        assert_eq!(
            check_head(Seq(7), Some(&ours.raw), Some(&later)),
            HeadCheck::Unknown
        );
        assert_eq!(check_head(Seq(7), None, Some(&other)), HeadCheck::Unknown);
        assert_eq!(
            check_head(Seq(7), Some(&ours.raw), None),
            HeadCheck::Unknown
        );
    }

    #[test]
    fn a_retired_epoch_has_another_name() {
        let epoch = Epoch("c3305a487a5f".into());
        assert_ne!(retired(&epoch), epoch);
        assert!(retired(&epoch).as_str().starts_with(epoch.as_str()));
    }
}
