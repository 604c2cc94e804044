//! A Socket.IO client that reconnects (`--reconnect --protocol socketio`) with connection state
//! recovery: it keeps the private session id (`pid`) of its connect acknowledgement and the
//! offset of the last event, and after a backoff sends `40{"pid":…,"offset":…}`. The server
//! answers with the same `pid` when it restored the session (then replays what was missed: a
//! **resume**) or with a new one (nothing is replayed: a **reset**, after which the cursor starts
//! again at the next event, like a Kubecast client after `reset` + snapshot).
//!
//! Caught up: a resumed client once it receives an event published after its connect
//! acknowledgement (everything before it came in order, or the cursor counted the gap); a reset
//! client at the acknowledgement, as a Kubecast client is at its snapshot.

use super::client::{Dial, connect_to, read_until_end};
use super::reconnect::{Backoff, Jitter};
use super::session::{Next, Session};
use super::{GenState, Ws};
use crate::publisher::now_us;
use crate::socketio::{self, Packet, Recovery};
use futures::{SinkExt, StreamExt};
use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The session a client asks the server to restore.
#[derive(Default)]
struct Credentials {
    pid: String,
    /// The recovery offset of the last event received.
    offset: String,
}

/// A recovery under way.
struct Pending {
    lost_at: Instant,
    /// Set once reconnected and restored: events published after this (µs) mean caught up.
    restored_at_us: Option<u64>,
}

/// One client's state across connections.
struct Client<'a> {
    state: &'a GenState,
    slot: &'a Cell<u64>,
    session: Session,
    creds: Credentials,
    pending: Option<Pending>,
    /// After a reset: the next event starts the cursor.
    rebase_next: bool,
}

pub async fn client(i: usize, state: Rc<GenState>, src: IpAddr, dial: Rc<Dial>, backoff: Backoff) {
    let slot = &state.slots[i];
    let first = tokio::time::timeout(dial.timeout, join(src, &dial, None)).await;
    let (mut ws, pid) = match first {
        Ok(Ok(joined)) => joined,
        Ok(Err(cause)) => return failed(&state, slot, cause),
        Err(_) => return failed(&state, slot, "timeout".into()),
    };
    state.connected.set(state.connected.get() + 1);
    state.open.set(state.open.get() + 1);
    let mut c = Client {
        state: &state,
        slot,
        session: Session::socketio(&dial.epoch),
        creds: Credentials {
            pid,
            offset: String::new(),
        },
        pending: None,
        rebase_next: false,
    };
    let mut rng = Jitter::seeded(i as u64 ^ now_us());
    loop {
        let end = c.read(&mut ws).await;
        GenState::bump(&state.closes, end);
        state.open.set(state.open.get() - 1);
        c.lost();
        ws = c.reconnect(src, &dial, backoff, &mut rng).await;
        state.open.set(state.open.get() + 1);
    }
}

fn failed(state: &GenState, slot: &Cell<u64>, cause: String) {
    state.failed.set(state.failed.get() + 1);
    GenState::bump(&state.failures, cause);
    slot.set(u64::MAX);
}

/// Opens a WebSocket and joins the default namespace, asking to restore a session when given
/// one; returns the `pid` of the acknowledgement.
async fn join(
    src: IpAddr,
    dial: &Dial,
    recover: Option<Recovery<'_>>,
) -> Result<(Ws, String), String> {
    let mut ws = connect_to(src, dial, &dial.url, false).await?;
    let open = next_text(&mut ws).await?;
    if !matches!(
        socketio::parse::<serde::de::IgnoredAny>(&open),
        Ok(Packet::Open(_))
    ) {
        return Err("socket.io: no open packet".into());
    }
    ws.send(Message::text(socketio::connect_packet(recover)))
        .await
        .map_err(|e| format!("socket.io: send: {e}"))?;
    let ack = next_text(&mut ws).await?;
    let pid = match socketio::parse::<serde::de::IgnoredAny>(&ack) {
        Ok(Packet::Connected(c)) => c.pid.map(|p| p.into_owned()),
        Ok(Packet::ConnectError(why)) => return Err(format!("socket.io: refused: {why}")),
        _ => return Err("socket.io: no connect ack".into()),
    };
    let pid = pid.ok_or("socket.io: no pid (connection state recovery off)")?;
    Ok((ws, pid))
}

async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None => return Err("socket.io: closed".into()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("socket.io: {e}")),
        }
    }
}

impl Client<'_> {
    async fn read(&mut self, ws: &mut Ws) -> String {
        read_until_end(ws, |text| self.on_text(text)).await
    }

    fn on_text(&mut self, text: &str) -> Next {
        let head = self.pending.is_some() || self.rebase_next;
        let event = if head { event_head(text) } else { None };
        if let Some((seq, _)) = event
            && std::mem::take(&mut self.rebase_next)
        {
            let epoch = self.session.epoch().unwrap_or_default().to_owned();
            self.session = Session::socketio_from(&epoch, seq.saturating_sub(1));
        }
        let next = {
            let mut tally = self.state.tally.borrow_mut();
            self.session.on_text(text, self.state.mode, &mut tally)
        };
        if let Some(offset) = offset_of(text) {
            self.creds.offset.clear();
            self.creds.offset.push_str(offset);
        }
        self.slot.set(self.session.last());
        if let (Some((_, sent_us)), Some(p)) = (event, &self.pending)
            && p.restored_at_us.is_some_and(|at| sent_us >= at)
        {
            self.caught_up(false);
        }
        next
    }

    fn caught_up(&mut self, reset: bool) {
        if let Some(p) = self.pending.take() {
            let took = p.lost_at.elapsed();
            self.state
                .reconnect
                .borrow_mut()
                .caught_up(took, reset, now_us());
        }
    }

    fn lost(&mut self) {
        let new_recovery = self.pending.is_none();
        if new_recovery {
            self.pending = Some(Pending {
                lost_at: Instant::now(),
                restored_at_us: None,
            });
        }
        self.state
            .reconnect
            .borrow_mut()
            .lost(new_recovery, now_us());
    }

    /// Backs off and rejoins until a connection is acknowledged; a new `pid` is a reset.
    async fn reconnect(
        &mut self,
        src: IpAddr,
        dial: &Dial,
        backoff: Backoff,
        rng: &mut Jitter,
    ) -> Ws {
        let mut attempt = 0;
        loop {
            tokio::time::sleep(backoff.delay(attempt, rng)).await;
            attempt = attempt.saturating_add(1);
            self.state.reconnect.borrow_mut().stats.attempts += 1;
            let recover = (!self.creds.offset.is_empty()).then_some(Recovery {
                pid: &self.creds.pid,
                offset: &self.creds.offset,
            });
            match tokio::time::timeout(dial.timeout, join(src, dial, recover)).await {
                Ok(Ok((ws, pid))) => {
                    self.rejoined(pid);
                    return ws;
                }
                Ok(Err(cause)) => self.state.reconnect.borrow_mut().attempt_failed(cause),
                Err(_) => self
                    .state
                    .reconnect
                    .borrow_mut()
                    .attempt_failed("timeout".into()),
            }
        }
    }

    fn rejoined(&mut self, pid: String) {
        if pid == self.creds.pid {
            if let Some(p) = &mut self.pending {
                p.restored_at_us = Some(now_us());
            }
            return;
        }
        self.state.tally.borrow_mut().counts.resets += 1;
        self.creds = Credentials {
            pid,
            offset: String::new(),
        };
        self.rebase_next = true;
        self.caught_up(true);
    }
}

/// The seq and send time of an event frame, read only while they matter.
fn event_head(text: &str) -> Option<(u64, u64)> {
    #[derive(serde::Deserialize)]
    struct Obj {
        sent_us: u64,
    }
    #[derive(serde::Deserialize)]
    struct Head {
        seq: u64,
        obj: Obj,
    }
    match socketio::parse::<Head>(text) {
        Ok(Packet::Event(ev)) => Some((ev.data.seq, ev.data.obj.sent_us)),
        _ => None,
    }
}

/// The recovery offset of an event frame (its last argument), without parsing the rest:
/// `42["event",{…},"1712345678901-0"]`.
fn offset_of(text: &str) -> Option<&str> {
    let body = text.strip_prefix("42")?.strip_suffix("\"]")?;
    let (_, offset) = body.rsplit_once(",\"")?;
    let (ms, n) = offset.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(ms) && digits(n)).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::Mode;

    fn state() -> GenState {
        GenState::one_open_client(Mode::Receive)
    }

    fn client(state: &GenState) -> Client<'_> {
        Client {
            state,
            slot: &state.slots[0],
            session: Session::socketio("e1"),
            creds: Credentials {
                pid: "p1".into(),
                offset: String::new(),
            },
            pending: None,
            rebase_next: false,
        }
    }

    fn event(seq: u64, sent_us: u64) -> String {
        format!(
            r#"42["event",{{"seq":{seq},"epoch":"e1","obj":{{"sent_us":{sent_us}}}}},"{seq}-0"]"#
        )
    }

    #[test]
    fn a_restored_session_is_caught_up_at_the_first_event_published_after_it() {
        let st = state();
        let mut c = client(&st);
        c.on_text(&event(1, 10));
        assert_eq!(c.creds.offset, "1-0");
        c.lost();
        c.rejoined("p1".into());
        let restored = c
            .pending
            .as_ref()
            .and_then(|p| p.restored_at_us)
            .expect("restored");
        c.on_text(&event(2, restored - 1)); // replayed
        assert!(c.pending.is_some());
        c.on_text(&event(3, restored + 1)); // live
        assert!(c.pending.is_none());
        let stats = st.reconnect.borrow().result();
        assert_eq!((stats.resumes, stats.resets), (1, 0));
        assert_eq!(st.tally.borrow().counts.violations(), 0);
    }

    #[test]
    fn a_new_session_is_a_reset_and_the_cursor_starts_at_the_next_event() {
        let st = state();
        let mut c = client(&st);
        c.on_text(&event(1, 10));
        c.lost();
        c.rejoined("p2".into());
        assert!(c.pending.is_none(), "a reset client is back at once");
        assert_eq!((c.creds.pid.as_str(), c.creds.offset.as_str()), ("p2", ""));
        c.on_text(&event(7, 20));
        c.on_text(&event(8, 21));
        let stats = st.reconnect.borrow().result();
        assert_eq!((stats.resumes, stats.resets), (0, 1));
        let counts = st.tally.borrow().counts.clone();
        assert_eq!((counts.resets, counts.gaps, counts.violations()), (1, 0, 0));
        assert_eq!(st.slots[0].get(), 8);
    }

    #[test]
    fn the_offset_is_the_last_argument_of_an_event() {
        let ev = r#"42["event",{"seq":1,"obj":{"pad":"a\",\"b","sent_us":5}},"1795502365211-0"]"#;
        assert_eq!(offset_of(ev), Some("1795502365211-0"));
        assert_eq!(event_head(ev), Some((1, 5)));
        assert_eq!(offset_of(r#"42["event",{"seq":1}]"#), None);
        assert_eq!(offset_of(r#"42["event",{"seq":1},"x-1"]"#), None);
        assert_eq!(offset_of("2"), None);
    }
}
