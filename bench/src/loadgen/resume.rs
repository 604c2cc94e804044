//! A Kubecast client that reconnects (`--reconnect`): it reads like [`super::client`], and when
//! the connection ends it backs off, reconnects with `since`/`epoch` and goes on with the same
//! [`Session`], so its cursor checks continuity across connections. See `reconnect.rs` for when a
//! recovery starts and ends.

use super::client::{connect_to, read_until_end};
use super::reconnect::{Backoff, Jitter, resume_url};
use super::session::{Next, Session};
use super::{GenState, Ws};
use crate::publisher::now_us;
use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use tokio::time::Instant;

/// A recovery under way: since when, and what the new connection must deliver.
struct Recovery {
    lost_at: Instant,
    /// The head announced by the current connection's `hello` (None until it arrives).
    target: Option<u64>,
    /// Resets seen before this connection (a larger count at catch-up means it was reset).
    resets_before: u64,
}

/// One connection's reading, for the recovery bookkeeping.
struct Conn<'a> {
    state: &'a GenState,
    slot: &'a Cell<u64>,
    recovery: Option<Recovery>,
    /// The next text frame is the connection's first (`hello`).
    first_frame: bool,
}

pub async fn client(
    i: usize,
    state: Rc<GenState>,
    src: IpAddr,
    dial: Rc<super::client::Dial>,
    backoff: Backoff,
) {
    let slot = &state.slots[i];
    let Some(mut ws) = first_connection(&state, slot, src, &dial).await else {
        return;
    };
    let mut session = Session::kubecast();
    let mut rng = Jitter::seeded(i as u64 ^ now_us());
    let mut conn = Conn {
        state: &state,
        slot,
        recovery: None,
        first_frame: true,
    };
    loop {
        let end = conn.read(&mut ws, &mut session).await;
        GenState::bump(&state.closes, end);
        state.open.set(state.open.get() - 1);
        conn.lost();
        ws = reconnect(&state, src, &dial, &session, backoff, &mut rng).await;
        state.open.set(state.open.get() + 1);
        conn.first_frame = true;
    }
}

async fn first_connection(
    state: &GenState,
    slot: &Cell<u64>,
    src: IpAddr,
    dial: &super::client::Dial,
) -> Option<Ws> {
    let cause =
        match tokio::time::timeout(dial.timeout, connect_to(src, dial, &dial.url, false)).await {
            Ok(Ok(ws)) => {
                state.connected.set(state.connected.get() + 1);
                state.open.set(state.open.get() + 1);
                return Some(ws);
            }
            Ok(Err(cause)) => cause,
            Err(_) => "timeout".into(),
        };
    state.failed.set(state.failed.get() + 1);
    GenState::bump(&state.failures, cause);
    slot.set(u64::MAX);
    None
}

/// Backs off and reconnects until a WebSocket is open, resuming from the session's cursor.
async fn reconnect(
    state: &GenState,
    src: IpAddr,
    dial: &super::client::Dial,
    session: &Session,
    backoff: Backoff,
    rng: &mut Jitter,
) -> Ws {
    let url = match session.epoch() {
        Some(epoch) => resume_url(&dial.url, session.last(), epoch),
        None => dial.url.to_string(),
    };
    let mut attempt = 0;
    loop {
        tokio::time::sleep(backoff.delay(attempt, rng)).await;
        attempt = attempt.saturating_add(1);
        state.reconnect.borrow_mut().stats.attempts += 1;
        match tokio::time::timeout(dial.timeout, connect_to(src, dial, &url, false)).await {
            Ok(Ok(ws)) => return ws,
            Ok(Err(cause)) => state.reconnect.borrow_mut().attempt_failed(cause),
            Err(_) => state
                .reconnect
                .borrow_mut()
                .attempt_failed("timeout".into()),
        }
    }
}

impl Conn<'_> {
    /// Reads one connection until it ends; returns the close cause.
    async fn read(&mut self, ws: &mut Ws, session: &mut Session) -> String {
        read_until_end(ws, |text| self.on_text(text, session)).await
    }

    fn on_text(&mut self, text: &str, session: &mut Session) -> Next {
        if std::mem::take(&mut self.first_frame)
            && let Some(r) = &mut self.recovery
        {
            r.target = hello_seq(text);
        }
        let next = {
            let mut tally = self.state.tally.borrow_mut();
            session.on_text(text, self.state.mode, &mut tally)
        };
        self.slot.set(session.last());
        self.check_caught_up(session);
        next
    }

    /// Ends the recovery once the cursor has the head the new connection announced.
    fn check_caught_up(&mut self, session: &Session) {
        let Some(r) = &self.recovery else { return };
        let Some(target) = r.target else { return };
        if session.epoch().is_none() || session.last() < target {
            return;
        }
        let reset = self.state.tally.borrow().counts.resets > r.resets_before;
        let took = r.lost_at.elapsed();
        self.state
            .reconnect
            .borrow_mut()
            .caught_up(took, reset, now_us());
        self.recovery = None;
    }

    /// The connection ended: a recovery starts unless one is already under way.
    fn lost(&mut self) {
        let new_recovery = self.recovery.is_none();
        if new_recovery {
            self.recovery = Some(Recovery {
                lost_at: Instant::now(),
                target: None,
                resets_before: self.state.tally.borrow().counts.resets,
            });
        } else if let Some(r) = &mut self.recovery {
            r.target = None;
        }
        self.state
            .reconnect
            .borrow_mut()
            .lost(new_recovery, now_us());
    }
}

/// The head a `hello` frame announces.
fn hello_seq(text: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Hello<'a> {
        #[serde(rename = "type", borrow)]
        kind: &'a str,
        seq: u64,
    }
    serde_json::from_str::<Hello<'_>>(text)
        .ok()
        .filter(|h| h.kind == "hello")
        .map(|h| h.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::Mode;

    fn state() -> GenState {
        GenState::one_open_client(Mode::Receive)
    }

    /// The client's connection bookkeeping before its first connection.
    fn fresh(state: &GenState) -> Conn<'_> {
        Conn {
            state,
            slot: &state.slots[0],
            recovery: None,
            first_frame: true,
        }
    }

    fn hello(seq: u64) -> String {
        format!(
            r#"{{"type":"hello","epoch":"e1","seq":{seq},"server":"a","heartbeat_ms":2000,"protocol":1}}"#
        )
    }

    fn snapshot(seq: u64) -> String {
        format!(
            r#"{{"type":"snapshot","epoch":"e1","seq":{seq},"part":0,"last":true,"objects":[]}}"#
        )
    }

    fn events(seqs: &[u64]) -> String {
        let evs: Vec<String> = seqs
            .iter()
            .map(|s| format!(r#"{{"seq":{s},"epoch":"e1","obj":{{"sent_us":1}}}}"#))
            .collect();
        format!(
            r#"{{"type":"events","epoch":"e1","events":[{}]}}"#,
            evs.join(",")
        )
    }

    /// Feeds one connection's frames, as its first frames.
    fn connection(conn: &mut Conn<'_>, session: &mut Session, frames: &[String]) {
        conn.first_frame = true;
        for f in frames {
            assert_eq!(conn.on_text(f, session), Next::Read);
        }
    }

    #[test]
    fn a_resume_is_caught_up_at_the_head_its_hello_announced() {
        let st = state();
        let (mut session, slot) = (Session::kubecast(), &st.slots[0]);
        let mut conn = fresh(&st);
        connection(
            &mut conn,
            &mut session,
            &[hello(2), snapshot(2), events(&[3, 4])],
        );
        conn.lost();
        connection(&mut conn, &mut session, &[hello(6), events(&[5])]);
        assert!(conn.recovery.is_some(), "not caught up before seq 6");
        conn.on_text(&events(&[6, 7]), &mut session);
        assert!(conn.recovery.is_none());
        let stats = st.reconnect.borrow().result();
        assert_eq!((stats.recoveries, stats.resumes, stats.resets), (1, 1, 0));
        assert_eq!(stats.recovering_at_end, 0);
        assert_eq!(st.tally.borrow().counts.violations(), 0);
        assert_eq!(slot.get(), 7);
    }

    #[test]
    fn continuity_is_checked_across_connections() {
        let st = state();
        let mut session = Session::kubecast();
        let mut conn = fresh(&st);
        connection(
            &mut conn,
            &mut session,
            &[hello(2), snapshot(2), events(&[3, 4])],
        );
        conn.lost();
        // The new connection replays 4 again and skips 5.
        connection(&mut conn, &mut session, &[hello(6), events(&[4, 6])]);
        let counts = st.tally.borrow().counts.clone();
        assert_eq!((counts.duplicates, counts.gaps, counts.missing), (1, 1, 1));
    }

    #[test]
    fn a_reset_and_snapshot_count_as_a_reset_not_a_gap() {
        let st = state();
        let mut session = Session::kubecast();
        let mut conn = fresh(&st);
        connection(&mut conn, &mut session, &[hello(2), snapshot(2)]);
        conn.lost();
        // Lost again before catching up: still one recovery.
        connection(&mut conn, &mut session, &[hello(50)]);
        conn.lost();
        let reset = r#"{"type":"reset","epoch":"e1","seq":90,"reason":"trimmed"}"#.to_string();
        connection(
            &mut conn,
            &mut session,
            &[hello(90), reset, snapshot(90), events(&[91])],
        );
        let stats = st.reconnect.borrow().result();
        assert_eq!((stats.lost, stats.recoveries), (2, 1));
        assert_eq!((stats.resumes, stats.resets), (0, 1));
        assert_eq!(st.tally.borrow().counts.violations(), 0);
    }

    #[test]
    fn only_a_hello_announces_the_head() {
        assert_eq!(hello_seq(&hello(42)), Some(42));
        assert_eq!(
            hello_seq(r#"{"type":"position","epoch":"e1","seq":42}"#),
            None
        );
        assert_eq!(hello_seq("not json"), None);
    }
}
