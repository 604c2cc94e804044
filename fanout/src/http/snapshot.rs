//! `GET /snapshot?ns=&kinds=`: the replica's filtered state at its head.

use super::AppState;
use super::query::{Params, RawQuery};
use crate::error::ApiError;
use crate::state::Shared;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use kubecast_shared::log::EventLog;
use kubecast_shared::{Epoch, Filter, Op, Seq};

/// A filtered copy of the view: objects and summaries (op `summary`) at `seq`.
pub(crate) struct FilteredSnapshot {
    pub epoch: Epoch,
    pub seq: Seq,
    pub generation: u64,
    pub objects: Vec<Bytes>,
    pub summaries: Vec<Bytes>,
}

/// Copies the matching objects out of the view (cheap: `Bytes` are reference-counted).
pub(crate) fn filtered_snapshot(shared: &Shared, filter: &Filter) -> Option<FilteredSnapshot> {
    let view = shared.read();
    let epoch = view.epoch()?.clone();
    let (mut objects, mut summaries) = (Vec::new(), Vec::new());
    for obj in view
        .objects()
        .filter(|o| filter.matches(&o.head.ns, &o.head.kind))
    {
        if obj.head.op == Op::Summary {
            summaries.push(obj.raw.clone());
        } else {
            objects.push(obj.raw.clone());
        }
    }
    Some(FilteredSnapshot {
        epoch,
        seq: view.head(),
        generation: view.generation(),
        objects,
        summaries,
    })
}

pub async fn snapshot<L: EventLog>(
    State(app): State<AppState<L>>,
    headers: HeaderMap,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = Params::parse(query)?;
    let filter = super::admit(&app, &headers, &params)?;
    let snap = filtered_snapshot(&app.shared, &filter).ok_or(ApiError::Unavailable(
        "the replica has not loaded the log yet",
    ))?;
    let mut body = String::with_capacity(256);
    body.push_str(r#"{"epoch":"#);
    body.push_str(&serde_json::Value::from(snap.epoch.as_str()).to_string());
    body.push_str(&format!(r#","seq":{},"objects":["#, snap.seq));
    push_joined(&mut body, &snap.objects);
    body.push_str(r#"],"summaries":["#);
    push_joined(&mut body, &snap.summaries);
    body.push_str("]}");
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Appends stored event bytes separated by commas (they are JSON written by our producer).
pub(crate) fn push_joined(out: &mut String, raws: &[Bytes]) {
    for (i, raw) in raws.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&String::from_utf8_lossy(raw));
    }
}
