//! Messages from the client: `ping`, `get_snapshot`, `subscribe` (checked against the grant)
//! and `auth` (a token refresh).

use super::{CLOSE_FORBIDDEN, CLOSE_POLICY, End, Session, Step, expiry};
use crate::limits::Admission;
use crate::ws::socket::{Incoming, Io, WsSocket, frame};
use kubecast_shared::Filter;
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::{ClientFrame, frames};

impl<L: EventLog> Session<L> {
    pub(super) async fn on_client<T: Io>(&mut self, msg: Incoming, ws: &mut WsSocket<T>) -> Step {
        if !self.admission.as_mut().is_none_or(Admission::allow_message) {
            return Err(End::Close(CLOSE_POLICY, "message rate"));
        }
        let text = match msg {
            Incoming::Text(text) => text,
            Incoming::Binary => {
                return self
                    .send(
                        ws,
                        frames::error("bad_message", "binary messages are not supported"),
                    )
                    .await;
            }
            Incoming::Close(_) => return Err(End::ClientGone),
            Incoming::Ping(payload) => {
                return self
                    .send_frames(ws, &[frame::encode(frame::OP_PONG, &payload)])
                    .await;
            }
            Incoming::Pong => return Ok(()),
        };
        match ClientFrame::parse(&text) {
            Ok(ClientFrame::Ping) => self.send(ws, frames::pong()).await,
            Ok(ClientFrame::GetSnapshot) => self.send_snapshot(ws).await,
            Ok(ClientFrame::Subscribe { ns, kinds }) => match Filter::from_vecs(ns, kinds) {
                Ok(requested) => match self.grant.restrict(&requested) {
                    Ok(filter) => {
                        self.requested = requested;
                        self.filter = filter;
                        self.send_snapshot(ws).await
                    }
                    Err(e) => {
                        self.send(ws, frames::error("forbidden", &e.to_string()))
                            .await
                    }
                },
                Err(message) => self.send(ws, frames::error("bad_filter", &message)).await,
            },
            Ok(ClientFrame::Auth { token }) => self.reauthenticate(&token, ws).await,
            Err(message) => self.send(ws, frames::error("bad_message", &message)).await,
        }
    }

    /// Replaces the grant with `token`'s. A bad token leaves the current grant (and its expiry)
    /// in place; a grant that no longer covers the requested filter closes with 4403; a grant
    /// that changes what the client sees is followed by a snapshot.
    pub(super) async fn reauthenticate<T: Io>(
        &mut self,
        token: &str,
        ws: &mut WsSocket<T>,
    ) -> Step {
        let grant = match self.app.config.auth.authenticate(Some(token)) {
            Ok(grant) => grant,
            Err(e) => {
                return self
                    .send(ws, frames::error(e.reason(), &e.to_string()))
                    .await;
            }
        };
        let filter = grant.restrict(&self.requested).map_err(|_| {
            End::Close(
                CLOSE_FORBIDDEN,
                "the new token does not grant the subscription",
            )
        })?;
        self.expires = expiry(&grant);
        self.grant = grant;
        if filter != self.filter {
            self.filter = filter;
            return self.send_snapshot(ws).await;
        }
        Ok(())
    }
}
