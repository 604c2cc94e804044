//! `GET /events?since=&epoch=&ns=&kinds=&limit=&wait=`: one page of the log after a cursor, with
//! long-polling. Answers 200 with the page, 410 with a `reset` body when the cursor is unusable.

use super::AppState;
use super::query::{Params, RawQuery};
use super::snapshot::push_joined;
use crate::cursor::{Page, PageRequest, read_page};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::frames;
use kubecast_shared::{Epoch, Seq};
use tokio::time::Instant;

pub async fn events<L: EventLog>(
    State(app): State<AppState<L>>,
    headers: HeaderMap,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> Response {
    let metrics = app.metrics.clone();
    let response = answer(app, headers, query).await.into_response();
    metrics.events_answer(response.status().as_u16());
    response
}

async fn answer<L: EventLog>(
    app: AppState<L>,
    headers: HeaderMap,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = Params::parse(query)?;
    let filter = super::admit(&app, &headers, &params)?;
    let deadline = Instant::now() + params.wait;
    let mut progress = app.shared.progress();
    let mut since = params.since.unwrap_or(Seq::ZERO);
    // Pinned after the first page, so a long-poll never continues a cursor into another epoch.
    let mut epoch_pin = params.epoch.clone();
    loop {
        // Mark the current progress as seen before reading, so a change during the read wakes us.
        progress.borrow_and_update();
        let req = PageRequest {
            epoch: epoch_pin.as_ref(),
            since,
            filter: &filter,
            limit: params.limit,
            catchup_wait: app.config.catchup_wait,
        };
        match read_page(&app.shared, &app.log, req).await? {
            Page::Reset { epoch, seq, reason } => {
                let body = frames::reset(&epoch, seq, reason);
                return Ok((
                    StatusCode::GONE,
                    [(header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response());
            }
            Page::Events {
                epoch,
                events,
                next,
                head,
                source,
            } => {
                let waiting =
                    events.is_empty() && Instant::now() < deadline && !app.cancel.is_cancelled();
                if !waiting {
                    app.metrics.catchup(source.as_str());
                    let raws: Vec<Bytes> = events.into_iter().map(|e| e.raw).collect();
                    return Ok(page_response(&epoch, &raws, next, head));
                }
                since = next;
                epoch_pin = Some(epoch.clone());
                let woke = tokio::select! {
                    changed = tokio::time::timeout_at(deadline, progress.changed()) => matches!(changed, Ok(Ok(()))),
                    () = app.cancel.cancelled() => false,
                };
                if !woke {
                    return Ok(page_response(&epoch, &[], next, head));
                }
            }
        }
    }
}

fn page_response(epoch: &Epoch, raws: &[Bytes], next: Seq, head: Seq) -> Response {
    let mut body = String::with_capacity(128);
    body.push_str(r#"{"epoch":"#);
    body.push_str(&serde_json::Value::from(epoch.as_str()).to_string());
    body.push_str(r#","events":["#);
    push_joined(&mut body, raws);
    body.push_str(&format!(r#"],"next":{next},"head":{head}}}"#));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
