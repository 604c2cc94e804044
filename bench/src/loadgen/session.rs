//! What a load-generator client does with each server text frame, per protocol. Both verify
//! events with the same [`Cursor`] into the process's [`Tally`]; a Socket.IO client also answers
//! the server's pings (or the server drops it) and checks that every event carries a recovery
//! offset (connection state recovery is on).

use super::{Mode, Protocol, Ws};
use crate::publisher::now_us;
use crate::socketio::{self, Packet};
use crate::verify::{Cursor, Ev, Tally};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The Socket.IO event the peer's publisher broadcasts.
const EVENT_NAME: &str = "event";

/// What the client does after a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Read,
    /// Send this text frame, then read on.
    Reply(&'static str),
    /// The server ended the session; the close cause.
    End(&'static str),
}

/// One client's protocol and cursor.
pub struct Session {
    protocol: Protocol,
    cursor: Cursor,
}

impl Session {
    /// A Kubecast session: the snapshot will base the cursor.
    pub fn kubecast() -> Self {
        Self {
            protocol: Protocol::Kubecast,
            cursor: Cursor::default(),
        }
    }

    /// A Socket.IO session that joined before the publisher's first event of `epoch` (Socket.IO
    /// has no snapshot: the cursor starts at seq 0).
    pub fn socketio(epoch: &str) -> Self {
        let mut cursor = Cursor::default();
        cursor.start_at(epoch, 0);
        Self {
            protocol: Protocol::SocketIo,
            cursor,
        }
    }

    /// A Socket.IO session whose cursor starts at `seq` of `epoch`: the next event is `seq + 1`
    /// (a client whose session could not be restored starts again at the event it gets next).
    pub fn socketio_from(epoch: &str, seq: u64) -> Self {
        let mut session = Self::socketio(epoch);
        session.cursor.start_at(epoch, seq);
        session
    }

    /// The highest seq the client has.
    pub fn last(&self) -> u64 {
        self.cursor.last()
    }

    /// The epoch of the cursor, once based.
    pub fn epoch(&self) -> Option<&str> {
        self.cursor.epoch()
    }

    pub fn on_text(&mut self, text: &str, mode: Mode, tally: &mut Tally) -> Next {
        match (self.protocol, mode) {
            (Protocol::Kubecast, Mode::Receive | Mode::Hybrid) => self.cursor.on_text(text, tally),
            (Protocol::Kubecast, Mode::Idle) => tally.counts.frames += 1,
            (Protocol::SocketIo, Mode::Receive | Mode::Hybrid) => {
                return self.on_socketio(text, tally);
            }
            (Protocol::SocketIo, Mode::Idle) => return on_socketio_idle(text, tally),
        }
        Next::Read
    }

    /// Frames that do not parse, including events whose data is not a Kubecast event, are
    /// counted as unparsable.
    fn on_socketio(&mut self, text: &str, tally: &mut Tally) -> Next {
        tally.counts.frames += 1;
        match socketio::parse::<Ev<'_>>(text) {
            Ok(Packet::Event(ev)) if ev.name == EVENT_NAME => {
                self.cursor.on_event(&ev.data, now_us(), tally);
                if ev.offset.is_none() {
                    tally.counts.without_offset += 1;
                }
                Next::Read
            }
            Ok(Packet::Ping) => Next::Reply(socketio::PONG),
            Ok(Packet::Close) => Next::End("socket.io close"),
            Ok(Packet::Disconnected) => Next::End("socket.io disconnect"),
            Ok(Packet::ConnectError(_)) => {
                tally.counts.error_frames += 1;
                Next::End("socket.io connect error")
            }
            Ok(_) => Next::Read,
            Err(_) => {
                tally.counts.unparsable += 1;
                Next::Read
            }
        }
    }
}

/// An idle Socket.IO client parses nothing but still answers pings and notices closes.
fn on_socketio_idle(text: &str, tally: &mut Tally) -> Next {
    tally.counts.frames += 1;
    match text {
        _ if socketio::is_ping(text) => Next::Reply(socketio::PONG),
        "1" => Next::End("socket.io close"),
        "41" => Next::End("socket.io disconnect"),
        _ => Next::Read,
    }
}

/// Joins the default namespace over an open WebSocket: Engine.IO open → Socket.IO CONNECT →
/// connect acknowledgement, which must carry a `pid` (connection state recovery is on).
pub async fn socketio_handshake(ws: &mut Ws) -> Result<(), String> {
    let open = next_text(ws).await?;
    match socketio::parse::<serde::de::IgnoredAny>(&open) {
        Ok(Packet::Open(_)) => {}
        _ => return Err("socket.io: no open packet".into()),
    }
    ws.send(Message::text(socketio::connect_packet(None)))
        .await
        .map_err(|e| format!("socket.io: send: {e}"))?;
    let ack = next_text(ws).await?;
    match socketio::parse::<serde::de::IgnoredAny>(&ack) {
        Ok(Packet::Connected(c)) if c.pid.is_some() => Ok(()),
        Ok(Packet::Connected(_)) => Err("socket.io: no pid (connection state recovery off)".into()),
        Ok(Packet::ConnectError(why)) => Err(format!("socket.io: refused: {why}")),
        _ => Err("socket.io: no connect ack".into()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, offset: Option<&str>) -> String {
        let data = format!(r#"{{"seq":{seq},"epoch":"e1","obj":{{"sent_us":1}}}}"#);
        match offset {
            Some(o) => format!(r#"42["event",{data},"{o}"]"#),
            None => format!(r#"42["event",{data}]"#),
        }
    }

    #[test]
    fn socketio_events_are_verified_like_kubecast_events() {
        let (mut s, mut t) = (Session::socketio("e1"), Tally::default());
        for seq in [1, 2, 4, 4, 3] {
            assert_eq!(
                s.on_text(&event(seq, Some("1-0")), Mode::Receive, &mut t),
                Next::Read
            );
        }
        assert_eq!(t.counts.events, 5);
        assert_eq!((t.counts.gaps, t.counts.missing), (1, 1));
        assert_eq!((t.counts.duplicates, t.counts.out_of_order), (1, 1));
        assert_eq!(t.counts.without_offset, 0);
        assert_eq!(s.last(), 4);
    }

    #[test]
    fn a_missed_first_event_is_a_gap() {
        let (mut s, mut t) = (Session::socketio("e1"), Tally::default());
        s.on_text(&event(2, Some("1-0")), Mode::Receive, &mut t);
        assert_eq!(
            (t.counts.gaps, t.counts.missing, t.counts.unbased),
            (1, 1, 0)
        );
    }

    #[test]
    fn events_without_recovery_offset_and_bad_frames_are_counted() {
        let (mut s, mut t) = (Session::socketio("e1"), Tally::default());
        s.on_text(&event(1, None), Mode::Receive, &mut t);
        s.on_text(r#"42["event",{"seq":"#, Mode::Receive, &mut t);
        // Another event name is not the publisher's: read, not verified.
        s.on_text(
            r#"42["other",{"seq":9,"epoch":"e1"},"1-0"]"#,
            Mode::Receive,
            &mut t,
        );
        assert_eq!(t.counts.without_offset, 1);
        assert_eq!(t.counts.unparsable, 1);
        assert_eq!((t.counts.events, t.counts.frames), (1, 3));
        assert_eq!(s.last(), 1);
    }

    #[test]
    fn pings_are_answered_and_closes_end_the_session_in_both_modes() {
        for mode in [Mode::Receive, Mode::Idle] {
            let (mut s, mut t) = (Session::socketio("e1"), Tally::default());
            assert_eq!(s.on_text("2", mode, &mut t), Next::Reply("3"));
            assert_eq!(
                s.on_text("41", mode, &mut t),
                Next::End("socket.io disconnect")
            );
            assert_eq!(s.on_text("1", mode, &mut t), Next::End("socket.io close"));
        }
    }
}
