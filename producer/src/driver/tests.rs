use super::*;
use crate::fixtures;
use crate::project::{Project, Projection};
use kubecast_shared::log::MemoryLog;
use kubecast_shared::{Event, Op, Seq};
use std::time::Duration;

fn pod(name: &str, running: bool) -> Projection {
    let b = fixtures::pod("shop", name);
    let b = if running { b.running() } else { b };
    b.build().project().expect("pod")
}

struct Harness {
    log: MemoryLog,
    tx: mpsc::Sender<Input>,
    cancel: CancellationToken,
    stats: ProducerStats,
    task: tokio::task::JoinHandle<Result<()>>,
}

/// No pod hold and no summaries: the tests below count object events exactly.
fn plain() -> ProducerConfig {
    ProducerConfig {
        min_pod_lifetime: Duration::ZERO,
        summary_interval: Duration::ZERO,
        ..ProducerConfig::default()
    }
}

fn spawn(kinds: &[&str]) -> Harness {
    spawn_with(kinds, plain())
}

fn spawn_with(kinds: &[&str], config: ProducerConfig) -> Harness {
    let log = MemoryLog::new(1000);
    let (tx, rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    let stats = ProducerStats::default();
    let kinds = kinds.iter().map(|k| k.to_string()).collect();
    let task = tokio::spawn(run_inputs(
        log.clone(),
        config,
        stats.clone(),
        kinds,
        rx,
        cancel.clone(),
    ));
    Harness {
        log,
        tx,
        cancel,
        stats,
        task,
    }
}

impl Harness {
    async fn send(&self, input: Input) {
        self.tx.send(input).await.expect("driver alive");
    }

    async fn list(&self, kind: &str, objects: Vec<Projection>) {
        self.send(Input::Init(kind.into())).await;
        for p in objects {
            self.send(Input::InitApply(p)).await;
        }
        self.send(Input::InitDone(kind.into())).await;
    }

    async fn events(&self) -> Vec<(u64, Op, String)> {
        let read = self
            .log
            .read_range(Seq::ZERO, 1000)
            .await
            .expect("log exists");
        read.events
            .iter()
            .map(|e| serde_json::from_slice::<Event>(&e.raw).expect("event"))
            .map(|e| (e.seq.0, e.op, e.name))
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn nothing_is_published_until_every_kind_has_listed() {
    let h = spawn(&["Pod", "Service"]);
    h.list("Pod", vec![pod("a", true)]).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(h.events().await.is_empty());
    assert_eq!(h.stats.unlisted.get(), 1, "Service has not listed");
    h.list("Service", vec![]).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(h.events().await, [(1, Op::Added, "a".into())]);
    assert_eq!(h.stats.unlisted.get(), 0);
    h.cancel.cancel();
    assert!(h.task.await.expect("joins").is_ok());
}

#[tokio::test(start_paused = true)]
async fn changes_inside_the_window_coalesce_into_one_event() {
    let h = spawn(&["Pod"]);
    h.list("Pod", vec![pod("a", true)]).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    for running in [false, true, false] {
        h.send(Input::Apply(pod("a", running))).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(h.events().await.len(), 1, "still inside the window");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        h.events().await,
        [(1, Op::Added, "a".into()), (2, Op::Updated, "a".into())]
    );
    assert_eq!(h.stats.events_published.get(), 2);
    assert_eq!(h.stats.watch_events.get(), 6);
}

#[tokio::test(start_paused = true)]
async fn an_object_added_and_deleted_inside_the_window_publishes_nothing() {
    let h = spawn(&["Pod"]);
    h.list("Pod", vec![]).await;
    h.send(Input::Apply(pod("b", true))).await;
    h.send(Input::Delete(pod("b", true))).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(h.events().await.is_empty());
    assert_eq!(h.stats.suppressed.get(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_driver_stops_when_every_watcher_is_gone() {
    let h = spawn(&["Pod"]);
    drop(h.tx);
    let result = h.task.await.expect("joins");
    assert!(matches!(result, Err(ProducerError::WatchersStopped)));
}

#[tokio::test(start_paused = true)]
async fn a_superseded_producer_returns_an_error() {
    let h = spawn(&["Pod"]);
    h.list("Pod", vec![pod("a", true)]).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let meta = h.log.meta().await.expect("meta").expect("exists");
    h.log
        .create_epoch(&meta.epoch, u64::MAX)
        .await
        .expect("newer writer");
    h.send(Input::Apply(pod("a", false))).await;
    let result = h.task.await.expect("joins");
    assert!(result.is_err_and(|e| e.is_superseded()));
}

#[tokio::test(start_paused = true)]
async fn short_lived_pods_are_never_shown_and_summaries_follow_the_pods() {
    let config = ProducerConfig {
        min_pod_lifetime: Duration::from_secs(2),
        summary_interval: Duration::from_secs(2),
        ..ProducerConfig::default()
    };
    let h = spawn_with(&["Pod"], config);
    h.list("Pod", vec![]).await;
    h.send(Input::Apply(pod("blip", true))).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.send(Input::Delete(pod("blip", true))).await;
    h.send(Input::Apply(pod("stays", true))).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let names: Vec<_> = h
        .events()
        .await
        .into_iter()
        .map(|(_, op, n)| (op, n))
        .collect();
    assert!(!names.iter().any(|(_, n)| n == "blip"), "{names:?}");
    assert!(
        !names.iter().any(|(_, n)| n == "stays"),
        "still held: {names:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let names: Vec<_> = h
        .events()
        .await
        .into_iter()
        .map(|(_, op, n)| (op, n))
        .collect();
    assert!(names.contains(&(Op::Added, "stays".into())), "{names:?}");
    assert!(
        names.contains(&(Op::Summary, "_namespace".into())),
        "{names:?}"
    );
    assert!(!names.iter().any(|(_, n)| n == "blip"), "{names:?}");
}

#[tokio::test(start_paused = true)]
async fn watch_input_is_applied_while_a_batch_is_in_the_air() {
    let pause = crate::lease::Pause::default();
    let config = ProducerConfig {
        pause: Some(pause.clone()),
        batch_max: 1,
        ..plain()
    };
    let h = spawn_with(&["Pod"], config);
    h.list("Pod", vec![pod("a", true), pod("b", true)]).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(h.events().await.len(), 2);
    // Hold the next append in the air, and keep the watch busy meanwhile: far more input than
    // the channel holds goes through, so the driver is taking input while the flight waits.
    pause.pause();
    h.send(Input::Apply(pod("a", false))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..=100 {
        h.send(Input::Apply(pod("b", i % 2 == 0))).await;
    }
    h.send(Input::Apply(pod("c", true))).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(h.stats.watch_events.get(), 4 + 1 + 101 + 1);
    assert_eq!(h.events().await.len(), 2, "the flight is still held");
    pause.resume();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // `a` lands as one update; `b` went back to its published state (no event); `c` is new.
    assert_eq!(
        h.events().await,
        [
            (1, Op::Added, "a".into()),
            (2, Op::Added, "b".into()),
            (3, Op::Updated, "a".into()),
            (4, Op::Added, "c".into()),
        ]
    );
}
