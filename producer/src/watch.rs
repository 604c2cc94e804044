//! Watchers: one kube-rs `watcher` per kind (cluster-wide, bookmarks on, default backoff), each
//! mapping `watcher::Event`s to [`Input`]s on the shared channel. A watch error is logged and
//! the stream backs off and relists by itself; a closed channel (the index task is gone) or the
//! cancel token ends the loop.

use crate::input::Input;
use crate::project::Project;
use crate::stats::ProducerStats;
use futures::StreamExt;
use futures::future::BoxFuture;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// [`watch`] as a boxed future, the shape stored in the kind table.
pub(crate) fn boxed<K: Project>(
    client: kube::Client,
    tx: mpsc::Sender<Input>,
    stats: ProducerStats,
    cancel: CancellationToken,
) -> BoxFuture<'static, ()> {
    Box::pin(watch::<K>(client, tx, stats, cancel))
}

/// Watches every `K` in the cluster until cancelled or the receiver is dropped.
pub async fn watch<K: Project>(
    client: kube::Client,
    tx: mpsc::Sender<Input>,
    stats: ProducerStats,
    cancel: CancellationToken,
) {
    let api = Api::<K>::all(client);
    let stream = watcher(api, watcher::Config::default()).default_backoff();
    let mut stream = std::pin::pin!(stream);
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return,
            next = stream.next() => next,
        };
        let event = match next {
            None => return,
            Some(Ok(event)) => event,
            Some(Err(error)) => {
                stats.watch_errors.inc();
                tracing::warn!(kind = K::KIND, %error, "watch failed; backing off");
                continue;
            }
        };
        let Some(input) = to_input::<K>(event) else {
            continue;
        };
        if tx.send(input).await.is_err() {
            return;
        }
    }
}

/// Maps one watcher event; objects that cannot be projected (no name) are skipped.
fn to_input<K: Project>(event: watcher::Event<K>) -> Option<Input> {
    let project = |obj: &K| {
        let projected = obj.project();
        if projected.is_none() {
            tracing::warn!(kind = K::KIND, "object without a name skipped");
        }
        projected
    };
    match event {
        watcher::Event::Init => Some(Input::Init(K::KIND.into())),
        watcher::Event::InitDone => Some(Input::InitDone(K::KIND.into())),
        watcher::Event::InitApply(obj) => project(&obj).map(Input::InitApply),
        watcher::Event::Apply(obj) => project(&obj).map(Input::Apply),
        watcher::Event::Delete(obj) => project(&obj).map(Input::Delete),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use k8s_openapi::api::core::v1::Pod;

    #[test]
    fn watcher_events_map_to_inputs_of_their_kind() {
        let pod = fixtures::pod("shop", "web-1").build();
        assert_eq!(
            to_input::<Pod>(watcher::Event::Init),
            Some(Input::Init("Pod".into()))
        );
        assert_eq!(
            to_input::<Pod>(watcher::Event::InitDone),
            Some(Input::InitDone("Pod".into()))
        );
        let Some(Input::Apply(p)) = to_input(watcher::Event::Apply(pod.clone())) else {
            panic!("apply maps to apply");
        };
        assert_eq!(p.key(), "Pod/shop/web-1");
        assert!(matches!(
            to_input(watcher::Event::Delete(pod)),
            Some(Input::Delete(_))
        ));
    }

    #[test]
    fn objects_without_a_name_are_skipped() {
        assert_eq!(to_input(watcher::Event::Apply(Pod::default())), None);
    }
}
