//! A hybrid client's merged view (DESIGN §5): it applies events from its WebSocket and from its
//! `GET /events?since=` polls idempotently, each seq once, from whichever source brings it
//! first, and checks that both sources agree: a polled page continues its `since` without a
//! gap, is of the socket's epoch, and a seq that both sources bring carries the same event
//! (compared on the publisher's `sent_us`). The socket's own continuity is still checked by the
//! client's [`Cursor`](crate::verify::Cursor); this is only about the two sources together.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Applied events remembered to compare with the other source's copy.
const RECENT: usize = 256;

/// What the merge of one process's hybrid clients saw.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MergeCounts {
    /// Events applied first from the socket.
    pub via_socket: u64,
    /// Events applied first from a poll.
    pub via_poll: u64,
    /// Events the socket brought after a poll had applied them (not applied again).
    pub socket_after_poll: u64,
    /// Polled events the socket had already brought (not applied again).
    pub poll_after_socket: u64,
    /// Pages of another epoch, pages that skip a seq after `since`, `next` behind a page's
    /// events, and seqs whose two copies differ: must be 0.
    pub disagreements: u64,
}

impl MergeCounts {
    pub fn add(&mut self, o: &MergeCounts) {
        self.via_socket += o.via_socket;
        self.via_poll += o.via_poll;
        self.socket_after_poll += o.socket_after_poll;
        self.poll_after_socket += o.poll_after_socket;
        self.disagreements += o.disagreements;
    }

    /// Events applied once, whichever source brought them first.
    pub fn delivered_once(&self) -> u64 {
        self.via_socket + self.via_poll
    }
}

/// Where an event came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Socket,
    Poll,
}

/// One hybrid client's merged position.
#[derive(Default)]
pub struct Merge {
    epoch: Option<Box<str>>,
    /// Highest seq applied (by the snapshot, the socket or a poll).
    applied: u64,
    /// `(seq, sent_us)` of the last [`RECENT`] applied events.
    recent: VecDeque<(u64, u64)>,
}

impl Merge {
    /// The cursor to poll with, once a snapshot has based the client.
    pub fn cursor(&self) -> Option<(&str, u64)> {
        self.epoch.as_deref().map(|e| (e, self.applied))
    }

    /// Takes a server text frame of the socket into the merged view.
    pub fn on_socket_text(&mut self, text: &str, c: &mut MergeCounts) {
        let Ok(frame) = serde_json::from_str::<SocketFrame<'_>>(text) else {
            return; // counted as unparsable by the socket's cursor
        };
        match frame.kind.as_ref() {
            "snapshot" if frame.part == 0 => self.rebase(&frame.epoch, frame.seq),
            "reset" => self.rebase(&frame.epoch, frame.seq),
            "events" if self.epoch.is_some() => {
                for ev in &frame.events {
                    self.take(ev.seq, ev.sent_us(), Source::Socket, c);
                }
            }
            _ => {}
        }
    }

    /// Takes the body of a `200` answer to `GET /events?since=<since>` into the merged view.
    pub fn on_page(&mut self, since: u64, body: &[u8], c: &mut MergeCounts) {
        let page = match serde_json::from_slice::<Page<'_>>(body) {
            Ok(page) if self.epoch.as_deref() == Some(page.epoch.as_ref()) => page,
            _ => {
                c.disagreements += 1;
                return;
            }
        };
        let mut expect = since + 1;
        for ev in &page.events {
            if ev.seq != expect {
                c.disagreements += 1;
            }
            expect = ev.seq + 1;
            self.take(ev.seq, ev.sent_us(), Source::Poll, c);
        }
        if page.next + 1 < expect {
            c.disagreements += 1;
        }
    }

    fn rebase(&mut self, epoch: &str, seq: u64) {
        self.epoch = Some(epoch.into());
        self.applied = seq;
        self.recent.clear();
    }

    /// Applies a seq once; a seq already applied is compared with the copy applied first.
    fn take(&mut self, seq: u64, sent_us: u64, from: Source, c: &mut MergeCounts) {
        if seq > self.applied {
            self.applied = seq;
            if self.recent.len() == RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back((seq, sent_us));
            match from {
                Source::Socket => c.via_socket += 1,
                Source::Poll => c.via_poll += 1,
            }
            return;
        }
        let first = self.recent.iter().find(|(s, _)| *s == seq);
        if first.is_some_and(|&(_, sent)| sent != sent_us) {
            c.disagreements += 1;
        }
        match from {
            Source::Socket => c.socket_after_poll += 1,
            Source::Poll => c.poll_after_socket += 1,
        }
    }
}

/// The fields of a socket frame the merge reads.
#[derive(Deserialize)]
struct SocketFrame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    epoch: Cow<'a, str>,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    part: u64,
    #[serde(default)]
    events: Vec<Item>,
}

/// A `GET /events` page.
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    epoch: Cow<'a, str>,
    events: Vec<Item>,
    next: u64,
}

/// One event, as far as the merge compares it.
#[derive(Deserialize)]
struct Item {
    seq: u64,
    #[serde(default)]
    obj: Option<Sent>,
}

#[derive(Deserialize)]
struct Sent {
    #[serde(default)]
    sent_us: u64,
}

impl Item {
    fn sent_us(&self) -> u64 {
        self.obj.as_ref().map_or(0, |o| o.sent_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64) -> String {
        format!(
            r#"{{"seq":{seq},"epoch":"e1","obj":{{"sent_us":{}}}}}"#,
            seq * 10
        )
    }

    fn socket(seqs: &[u64]) -> String {
        let evs: Vec<String> = seqs.iter().map(|s| ev(*s)).collect();
        format!(
            r#"{{"type":"events","epoch":"e1","events":[{}]}}"#,
            evs.join(",")
        )
    }

    fn page(epoch: &str, seqs: &[u64], next: u64) -> Vec<u8> {
        let evs: Vec<String> = seqs.iter().map(|s| ev(*s)).collect();
        format!(
            r#"{{"epoch":"{epoch}","events":[{}],"next":{next},"head":{next}}}"#,
            evs.join(",")
        )
        .into_bytes()
    }

    fn based() -> Merge {
        let mut m = Merge::default();
        let snapshot = r#"{"type":"snapshot","epoch":"e1","seq":5,"part":0,"last":true}"#;
        m.on_socket_text(snapshot, &mut MergeCounts::default());
        m
    }

    #[test]
    fn an_event_polled_before_the_socket_brings_it_is_delivered_once() {
        let (mut m, mut c) = (based(), MergeCounts::default());
        m.on_socket_text(&socket(&[6]), &mut c);
        m.on_page(6, &page("e1", &[7, 8], 8), &mut c);
        m.on_socket_text(&socket(&[7, 8, 9]), &mut c);
        assert_eq!((c.via_socket, c.via_poll, c.socket_after_poll), (2, 2, 2));
        assert_eq!(c.delivered_once(), 4);
        assert_eq!(c.disagreements, 0);
        assert_eq!(m.cursor(), Some(("e1", 9)));
    }

    #[test]
    fn a_poll_answered_after_the_socket_moved_on_agrees() {
        let (mut m, mut c) = (based(), MergeCounts::default());
        m.on_socket_text(&socket(&[6, 7]), &mut c);
        m.on_page(5, &page("e1", &[6, 7], 7), &mut c);
        assert_eq!((c.poll_after_socket, c.disagreements), (2, 0));
    }

    #[test]
    fn disagreements_are_counted() {
        let (mut m, mut c) = (based(), MergeCounts::default());
        m.on_page(5, &page("e2", &[6], 6), &mut c); // another epoch
        m.on_page(5, &page("e1", &[7], 7), &mut c); // skips 6
        m.on_page(7, &page("e1", &[8], 3), &mut c); // next behind its events
        let other = r#"{"type":"events","epoch":"e1","events":[{"seq":8,"epoch":"e1","obj":{"sent_us":1}}]}"#;
        m.on_socket_text(other, &mut c); // seq 8 with another payload
        m.on_page(8, b"not json", &mut c);
        assert_eq!(c.disagreements, 5);
    }

    #[test]
    fn nothing_is_polled_before_a_snapshot() {
        let mut m = Merge::default();
        m.on_socket_text(&socket(&[1]), &mut MergeCounts::default());
        assert_eq!(m.cursor(), None);
    }
}
