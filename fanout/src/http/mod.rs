//! The HTTP surface of a replica (DESIGN §4): `/events`, `/snapshot`, `/ws`, health probes and the
//! live page. Routes share one [`AppState`]; every error is JSON (see [`crate::error`]).

mod assets;
mod events;
#[cfg(test)]
mod openapi_tests;
mod pages;
pub(crate) mod query;
#[cfg(test)]
mod query_props;
mod snapshot;

use crate::auth::bearer_token;
use crate::config::FanoutConfig;
use crate::error::ApiError;
use crate::limits::Limits;
use crate::metrics::FanoutMetrics;
use crate::state::Shared;
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use kubecast_shared::Filter;
use kubecast_shared::log::EventLog;
use query::Params;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(crate) use snapshot::filtered_snapshot;

/// Everything a route needs; cloned into every request and session, so it is one shared
/// allocation (a session holds a pointer, not a copy of the log handle and the config).
pub struct AppState<L>(Arc<App<L>>);

impl<L> Clone for AppState<L> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<L> std::ops::Deref for AppState<L> {
    type Target = App<L>;

    fn deref(&self) -> &App<L> {
        &self.0
    }
}

/// The replica's shared state (see [`AppState`]).
pub struct App<L> {
    /// The replica's view, written by the tail.
    pub shared: Arc<Shared>,
    /// The log, for cursors older than the ring.
    pub log: L,
    pub config: Arc<FanoutConfig>,
    /// Cancelled on shutdown: sessions close with 1001 and `/readyz` turns 503.
    pub cancel: CancellationToken,
    /// WebSocket sessions, so shutdown can wait for their close frames.
    pub sessions: TaskTracker,
    pub metrics: FanoutMetrics,
    pub limits: Arc<Limits>,
}

impl<L: EventLog> AppState<L> {
    /// A state with an empty view; start [`crate::tail::run`] on `shared` to fill it.
    pub fn new(log: L, config: FanoutConfig, cancel: CancellationToken) -> Self {
        Self(Arc::new(App {
            shared: Shared::new(config.ring_capacity),
            limits: Limits::new(config.limits.clone()),
            log,
            config: Arc::new(config),
            cancel,
            sessions: TaskTracker::new(),
            metrics: FanoutMetrics::default(),
        }))
    }
}

/// The filter a request may be served: its token's grant applied to what it asked for.
pub(crate) fn admit<L>(
    app: &AppState<L>,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Filter, ApiError> {
    let admitted = bearer_token(headers, params.token.as_deref())
        .and_then(|token| {
            app.config
                .auth
                .authenticate(token.as_ref().map(|(t, _)| t.as_str()))
        })
        .and_then(|grant| grant.restrict(&params.filter));
    admitted.map_err(|refused| {
        app.metrics.refuse(refused.reason());
        refused.into()
    })
}

/// The replica's routes.
pub fn router<L: EventLog>(state: AppState<L>) -> Router {
    let registry = Arc::new(crate::metrics::registry(&state.metrics));
    Router::new()
        .route(
            "/metrics",
            get(crate::metrics::serve_metrics).with_state(registry),
        )
        .route("/events", get(events::events::<L>))
        .route("/snapshot", get(snapshot::snapshot::<L>))
        .route("/ws", get(crate::ws::upgrade::<L>))
        .route("/healthz", get(pages::healthz))
        .route("/readyz", get(pages::readyz::<L>))
        .route("/", get(assets::serve))
        .route("/kubecast.js", get(assets::serve))
        .route("/client/{file}", get(assets::serve))
        .route("/dashboard/{file}", get(assets::serve))
        .with_state(state)
}

#[cfg(test)]
mod tests;
