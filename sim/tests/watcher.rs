//! End-to-end: a real `kube::runtime::watcher` (and raw `Api::watch`) against the simulated API
//! server over loopback HTTP.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, WatchEvent, WatchParams};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config, ResourceExt};
use kubecast_sim::{SimCluster, SimConfig, SimServer};
use tokio_util::sync::CancellationToken;

const PATIENCE: Duration = Duration::from_secs(10);

struct Harness {
    server: SimServer,
    client: Client,
    cancel: CancellationToken,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn start(bookmark_interval: Duration) -> Harness {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = SimConfig {
        churn_interval: None,
        bookmark_interval,
        ..SimConfig::default()
    };
    let cancel = CancellationToken::new();
    let server = kubecast_sim::serve(listener, config, cancel.clone())
        .await
        .expect("serve");
    let url = server.url.parse().expect("url");
    let client = Client::try_from(Config::new(url)).expect("client");
    Harness {
        server,
        client,
        cancel,
    }
}

/// (namespace/name → resourceVersion) of the cluster's pods.
fn cluster_pods(cluster: &SimCluster) -> BTreeMap<String, String> {
    cluster
        .objects()
        .into_iter()
        .filter(|o| o.kind == "Pod")
        .map(|o| {
            (
                format!("{}/{}", o.ns, o.name),
                o.value["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

/// A reflector-like client view built from watcher events.
#[derive(Default)]
struct View {
    pods: BTreeMap<String, String>,
    buffer: BTreeMap<String, String>,
    inits: usize,
    applies: usize,
    deletes: usize,
}

impl View {
    fn apply(&mut self, event: Event<Pod>) {
        let key = |p: &Pod| format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any());
        let rv = |p: &Pod| p.resource_version().unwrap_or_default();
        match event {
            Event::Init => {
                self.inits += 1;
                self.buffer.clear();
            }
            Event::InitApply(p) => {
                self.buffer.insert(key(&p), rv(&p));
            }
            Event::InitDone => self.pods = std::mem::take(&mut self.buffer),
            Event::Apply(p) => {
                self.applies += 1;
                self.pods.insert(key(&p), rv(&p));
            }
            Event::Delete(p) => {
                self.deletes += 1;
                self.pods.remove(&key(&p));
            }
        }
    }

    /// Feeds events until `done` holds (errors, e.g. the 410 before a relist, are skipped).
    async fn until(
        &mut self,
        stream: &mut (impl Stream<Item = watcher::Result<Event<Pod>>> + Unpin),
        done: impl Fn(&Self) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(self) {
            let next = tokio::time::timeout_at(deadline, stream.next())
                .await
                .expect("watcher made progress in time");
            if let Ok(event) = next.expect("watcher stream never ends") {
                self.apply(event);
            }
        }
    }
}

#[tokio::test]
async fn watcher_gets_the_initial_list_then_each_steps_changes() {
    let h = start(Duration::from_secs(1)).await;
    let cluster = h.server.cluster.clone();
    let mut stream = watcher::watcher(
        Api::<Pod>::all(h.client.clone()),
        watcher::Config::default(),
    )
    .boxed();
    let mut view = View::default();
    view.until(&mut stream, |v| v.inits == 1 && !v.pods.is_empty())
        .await;
    assert_eq!(
        view.pods,
        cluster_pods(&cluster),
        "initial list matches the cluster"
    );
    for _ in 0..30 {
        cluster.step();
        let expected = cluster_pods(&cluster);
        view.until(&mut stream, |v| v.pods == expected).await;
    }
    assert!(
        view.applies > 0 && view.deletes > 0,
        "applies {} deletes {}",
        view.applies,
        view.deletes
    );
    assert_eq!(view.inits, 1, "no relist without a reason");
}

#[tokio::test]
async fn watcher_relists_after_history_compaction_and_a_cut_and_ends_consistent() {
    let h = start(Duration::from_secs(1)).await;
    let cluster = h.server.cluster.clone();
    let mut stream = watcher::watcher(
        Api::<Pod>::all(h.client.clone()),
        watcher::Config::default(),
    )
    .boxed();
    let mut view = View::default();
    view.until(&mut stream, |v| v.inits == 1 && !v.pods.is_empty())
        .await;
    cluster.step();
    let expected = cluster_pods(&cluster);
    view.until(&mut stream, |v| v.pods == expected).await;
    cluster.cut_watches();
    for _ in 0..5 {
        cluster.step();
    }
    cluster.compact_history();
    view.until(&mut stream, |v| v.inits == 2).await;
    for _ in 0..5 {
        cluster.step();
    }
    let expected = cluster_pods(&cluster);
    view.until(&mut stream, |v| v.pods == expected).await;
    assert_eq!(view.inits, 2);
}

#[tokio::test]
async fn a_paging_watcher_sees_one_consistent_list_across_pages() {
    let h = start(Duration::from_secs(1)).await;
    let cluster = h.server.cluster.clone();
    let config = watcher::Config::default().page_size(4);
    let mut stream = watcher::watcher(Api::<Pod>::all(h.client.clone()), config).boxed();
    let mut view = View::default();
    let first = stream.next().await.expect("an event").expect("init");
    assert!(matches!(first, Event::Init));
    let expected = cluster_pods(&cluster);
    // Churn between pages must not leak into the initial list.
    let mut initial = BTreeMap::new();
    loop {
        match tokio::time::timeout(PATIENCE, stream.next())
            .await
            .expect("in time")
            .expect("event")
            .expect("ok")
        {
            Event::InitApply(p) => {
                initial.insert(
                    format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any()),
                    p.resource_version().unwrap_or_default(),
                );
                cluster.step();
            }
            Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(initial, expected);
    view.pods = initial;
    let now = cluster_pods(&cluster);
    view.until(&mut stream, |v| v.pods == now).await;
}

#[tokio::test]
async fn streaming_list_watchers_get_initial_events_and_the_end_bookmark() {
    let h = start(Duration::from_secs(1)).await;
    let cluster = h.server.cluster.clone();
    let config = watcher::Config::default().streaming_lists();
    let mut stream = watcher::watcher(Api::<Pod>::all(h.client.clone()), config).boxed();
    let mut view = View::default();
    view.until(&mut stream, |v| v.inits == 1 && !v.pods.is_empty())
        .await;
    assert_eq!(view.pods, cluster_pods(&cluster));
    cluster.step();
    let expected = cluster_pods(&cluster);
    view.until(&mut stream, |v| v.pods == expected).await;
}

#[tokio::test]
async fn a_watch_from_an_expired_version_yields_a_410_error_event() {
    let h = start(Duration::from_secs(1)).await;
    let cluster = h.server.cluster.clone();
    let old = cluster.resource_version();
    cluster.step();
    cluster.compact_history();
    let api = Api::<Pod>::all(h.client.clone());
    let mut events = api
        .watch(&WatchParams::default(), &old.to_string())
        .await
        .expect("watch")
        .boxed();
    let first = tokio::time::timeout(PATIENCE, events.next())
        .await
        .expect("in time")
        .expect("an event");
    match first.expect("a decoded event") {
        WatchEvent::Error(status) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            assert!(
                status
                    .message
                    .starts_with(&format!("too old resource version: {old} ("))
            );
        }
        other => panic!("expected a 410 error event, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(PATIENCE, events.next())
            .await
            .expect("stream ends")
            .is_none()
    );
}

#[tokio::test]
async fn watches_with_bookmarks_get_bookmarks_at_the_current_version() {
    let h = start(Duration::from_millis(100)).await;
    let cluster = h.server.cluster.clone();
    let api = Api::<Pod>::namespaced(h.client.clone(), "shop");
    let rv = cluster.resource_version().to_string();
    let mut events = api
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    cluster.step();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("bookmark in time");
        if let Some(Ok(WatchEvent::Bookmark(bm))) = event {
            assert_eq!(bm.types.kind, "Pod");
            if bm.metadata.resource_version == cluster.resource_version().to_string() {
                break;
            }
        }
    }
}

#[tokio::test]
async fn cancelling_the_server_ends_open_watches() {
    let h = start(Duration::from_secs(1)).await;
    let api = Api::<Pod>::all(h.client.clone());
    let rv = h.server.cluster.resource_version().to_string();
    let mut events = api
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    h.cancel.cancel();
    let end = tokio::time::timeout(PATIENCE, events.next())
        .await
        .expect("watch ended in time");
    assert!(end.is_none_or(|e| e.is_err()));
}
