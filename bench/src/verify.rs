//! Per-client verification of the WebSocket guarantee (DESIGN §3): events arrive in seq order with
//! no gap relative to the cursor. `snapshot` (part 0) and `reset` re-base the cursor, `position`
//! advances it, `events` must continue it exactly.
//!
//! The per-client state is a few words ([`Cursor`]); the counters and the latency histogram are
//! shared by all clients of a load-generator process ([`Tally`]).

use crate::publisher::now_us;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Counters summed over the clients of one process (and then over processes).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Server frames received (all types).
    pub frames: u64,
    /// Events received (each event of each `events` frame).
    pub events: u64,
    /// Snapshots received (counted once, at part 0).
    pub snapshots: u64,
    pub resets: u64,
    pub positions: u64,
    /// `events` whose first new seq was not `last + 1` (one per jump).
    pub gaps: u64,
    /// Seqs jumped over by those gaps.
    pub missing: u64,
    /// Seqs received twice (recognised within the 64 seqs below the cursor).
    pub duplicates: u64,
    /// Seqs below the cursor that were not received before (or too far below to tell).
    pub out_of_order: u64,
    /// `position` frames ahead of the cursor. For an unfiltered client every event matches, so
    /// such a jump means events were skipped without a gap being visible in `events` frames.
    pub position_jumps: u64,
    /// Events of another epoch than the cursor's without a `reset`/`snapshot` first.
    pub epoch_mismatches: u64,
    /// Events before any snapshot or reset gave the client a cursor.
    pub unbased: u64,
    /// `error` frames.
    pub error_frames: u64,
    /// Text frames that did not parse as a server frame.
    pub unparsable: u64,
    /// Socket.IO events without a recovery offset as their last argument (with connection
    /// state recovery on, every broadcast carries one). Always 0 for Kubecast.
    #[serde(default)]
    pub without_offset: u64,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.frames += o.frames;
        self.events += o.events;
        self.snapshots += o.snapshots;
        self.resets += o.resets;
        self.positions += o.positions;
        self.gaps += o.gaps;
        self.missing += o.missing;
        self.duplicates += o.duplicates;
        self.out_of_order += o.out_of_order;
        self.position_jumps += o.position_jumps;
        self.epoch_mismatches += o.epoch_mismatches;
        self.unbased += o.unbased;
        self.error_frames += o.error_frames;
        self.unparsable += o.unparsable;
        self.without_offset += o.without_offset;
    }

    /// Violations of the delivery guarantee (all must be 0).
    pub fn violations(&self) -> u64 {
        self.gaps
            + self.duplicates
            + self.out_of_order
            + self.position_jumps
            + self.epoch_mismatches
            + self.unbased
    }
}

/// What all clients of a process observed.
pub struct Tally {
    pub counts: Counters,
    /// Publisher append (µs timestamp in the event) → receipt of its frame, in µs.
    pub latency_us: hdrhistogram::Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            counts: Counters::default(),
            latency_us: latency_histogram(),
        }
    }
}

/// A histogram for latencies from 1 µs to 10 minutes at 3 significant digits.
pub fn latency_histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// One client's position: epoch and the highest seq it has (events, snapshot or position).
#[derive(Default)]
pub struct Cursor {
    epoch: Option<Box<str>>,
    last: u64,
    /// Bit i set: seq `last - i` was received (or covered by a snapshot/position).
    seen: u64,
}

impl Cursor {
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The epoch of the cursor, once a snapshot, reset or event has based it.
    pub fn epoch(&self) -> Option<&str> {
        self.epoch.as_deref()
    }

    fn rebase(&mut self, epoch: &str, seq: u64) {
        if self.epoch.as_deref() != Some(epoch) {
            self.epoch = Some(epoch.into());
        }
        self.last = seq;
        self.seen = u64::MAX;
    }

    fn advance_to(&mut self, seq: u64, received: bool) {
        let d = seq - self.last;
        self.seen = if d >= 64 { 0 } else { self.seen << d };
        if received {
            self.seen |= 1;
        } else {
            self.seen = u64::MAX;
        }
        self.last = seq;
    }

    /// Checks one server text frame against the cursor and records what it saw.
    pub fn on_text(&mut self, text: &str, tally: &mut Tally) {
        tally.counts.frames += 1;
        let Ok(frame) = serde_json::from_str::<Frame<'_>>(text) else {
            tally.counts.unparsable += 1;
            return;
        };
        let c = &mut tally.counts;
        match frame.kind.as_ref() {
            // Later parts carry the same seq.
            "snapshot" if frame.part == 0 => {
                c.snapshots += 1;
                self.rebase(&frame.epoch, frame.seq);
            }
            "reset" => {
                c.resets += 1;
                self.rebase(&frame.epoch, frame.seq);
            }
            "position" => {
                c.positions += 1;
                if self.epoch.is_some() && frame.seq > self.last {
                    c.position_jumps += 1;
                    self.advance_to(frame.seq, false);
                }
            }
            "error" => c.error_frames += 1,
            "events" => self.on_events(&frame.events, tally),
            _ => {}
        }
    }

    fn on_events(&mut self, events: &[Ev<'_>], tally: &mut Tally) {
        let now = now_us();
        for ev in events {
            self.on_event(ev, now, tally);
        }
    }

    /// Starts the cursor at `seq` of `epoch` without a snapshot: a client of a system without
    /// snapshots (Socket.IO) that joined before the event after `seq` was published.
    pub fn start_at(&mut self, epoch: &str, seq: u64) {
        self.rebase(epoch, seq);
    }

    /// Checks one event, received at `now` (µs), against the cursor and records what it saw.
    pub fn on_event(&mut self, ev: &Ev<'_>, now: u64, tally: &mut Tally) {
        let c = &mut tally.counts;
        c.events += 1;
        if let Some(sent) = ev.obj.as_ref().and_then(|o| o.sent_us) {
            tally
                .latency_us
                .saturating_record(now.saturating_sub(sent).max(1));
        }
        let Some(epoch) = self.epoch.as_deref() else {
            c.unbased += 1;
            self.rebase(&ev.epoch, ev.seq);
            return;
        };
        if epoch != ev.epoch.as_ref() {
            c.epoch_mismatches += 1;
            self.rebase(&ev.epoch, ev.seq);
            return;
        }
        if ev.seq > self.last {
            if ev.seq != self.last + 1 {
                c.gaps += 1;
                c.missing += ev.seq - self.last - 1;
            }
            self.advance_to(ev.seq, true);
            return;
        }
        let below = self.last - ev.seq;
        if below < 64 && self.seen & (1 << below) != 0 {
            c.duplicates += 1;
        } else {
            c.out_of_order += 1;
            if below < 64 {
                self.seen |= 1 << below;
            }
        }
    }
}

/// The fields a benchmark client reads; everything else is skipped by the parser.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    epoch: Cow<'a, str>,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    part: u64,
    #[serde(default, borrow)]
    events: Vec<Ev<'a>>,
}

/// One event as a client reads it (a Kubecast `events` frame item or a Socket.IO event's data).
#[derive(Deserialize)]
pub struct Ev<'a> {
    seq: u64,
    #[serde(borrow)]
    epoch: Cow<'a, str>,
    #[serde(default)]
    obj: Option<Obj>,
}

#[derive(Deserialize)]
struct Obj {
    sent_us: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64) -> String {
        format!(r#"{{"seq":{seq},"epoch":"e1","op":"updated","obj":{{"sent_us":1}}}}"#)
    }

    fn events(seqs: &[u64]) -> String {
        let evs: Vec<String> = seqs.iter().map(|s| ev(*s)).collect();
        format!(
            r#"{{"type":"events","epoch":"e1","events":[{}]}}"#,
            evs.join(",")
        )
    }

    #[test]
    fn continuous_events_after_a_snapshot_are_clean() {
        let (mut c, mut t) = (Cursor::default(), Tally::default());
        c.on_text(r#"{"type":"hello","epoch":"e1","seq":5}"#, &mut t);
        c.on_text(
            r#"{"type":"snapshot","epoch":"e1","seq":5,"part":0,"last":true,"objects":[]}"#,
            &mut t,
        );
        c.on_text(&events(&[6, 7, 8]), &mut t);
        c.on_text(r#"{"type":"position","epoch":"e1","seq":8}"#, &mut t);
        assert_eq!(t.counts.events, 3);
        assert_eq!(t.counts.violations(), 0);
        assert_eq!(c.last(), 8);
    }

    #[test]
    fn gaps_duplicates_and_out_of_order_are_told_apart() {
        let (mut c, mut t) = (Cursor::default(), Tally::default());
        c.on_text(
            r#"{"type":"snapshot","epoch":"e1","seq":0,"part":0,"last":true}"#,
            &mut t,
        );
        c.on_text(&events(&[1, 2, 4, 4, 3, 2]), &mut t);
        assert_eq!(t.counts.gaps, 1);
        assert_eq!(t.counts.missing, 1);
        assert_eq!(t.counts.duplicates, 2);
        assert_eq!(t.counts.out_of_order, 1);
    }

    #[test]
    fn reset_rebases_and_position_jumps_are_counted() {
        let (mut c, mut t) = (Cursor::default(), Tally::default());
        c.on_text(&events(&[3]), &mut t);
        assert_eq!(t.counts.unbased, 1);
        c.on_text(
            r#"{"type":"reset","epoch":"e2","seq":10,"reason":"epoch"}"#,
            &mut t,
        );
        c.on_text(r#"{"type":"position","epoch":"e2","seq":12}"#, &mut t);
        assert_eq!(t.counts.position_jumps, 1);
        c.on_text(&events(&[13]), &mut t);
        assert_eq!(t.counts.epoch_mismatches, 1);
        assert_eq!(t.counts.gaps, 0);
    }
}
