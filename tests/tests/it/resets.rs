//! Cursors that cannot be resumed (older than retention, another epoch, ahead of the head) get an
//! explicit reset on `/ws` and `410` on `/events`, never a silent partial answer.

use crate::support::wait_ready;
use kubecast_shared::log::{AppendBatch, AppendEntry, EventLog, SnapshotChange};
use kubecast_shared::{Epoch, Event, Op, Seq};
use kubecast_tests::client_state::ClientState;
use kubecast_tests::redis::TestRedis;
use kubecast_tests::stack::*;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging, unique_cluster};
use serde_json::Value;

/// Appends `n` updates of a few pods straight to the log, as a producer would.
async fn append_updates(log: &impl EventLog, epoch: &Epoch, from: u64, n: u64) {
    for seq in from..from + n {
        let ev = Event {
            seq: Seq(seq),
            epoch: epoch.clone(),
            ts: kubecast_shared::time::now_ms(),
            op: Op::Updated,
            kind: "Pod".into(),
            ns: "shop".into(),
            name: format!("web-{}", seq % 5),
            uid: format!("uid-{}", seq % 5),
            obj: Some(serde_json::json!({"phase": "Running", "n": seq})),
        };
        let entry = AppendEntry {
            seq: Seq(seq),
            raw: ev.encode(),
            ns: ev.ns.clone(),
            kind: ev.kind.clone(),
            snapshot: SnapshotChange::Put(ev.key()),
        };
        let batch = AppendBatch {
            fence: 1,
            epoch: epoch.clone(),
            expected_head: Seq(seq - 1),
            entries: vec![entry],
        };
        log.append(&batch).await.expect("append");
    }
}

async fn get(url: String) -> (u16, Value) {
    let resp = reqwest::get(url).await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_outside_the_log_get_a_reset_and_cursors_inside_get_the_events() {
    init_logging();
    let redis = TestRedis::start().await;
    let name = unique_cluster("resets");
    let writer = redis_log(redis.url(), &name, 50).await;
    let epoch = Epoch::generate();
    writer.create_epoch(&epoch, 1).await.expect("epoch");
    append_updates(&writer, &epoch, 1, 400).await;
    let oldest = writer
        .read_range(Seq(0), 1)
        .await
        .expect("range")
        .oldest
        .expect("retained")
        .0;
    assert!(oldest > 1, "retention trimmed the start of the log");

    let fanout = spawn_fanout(redis_log(redis.url(), &name, 50).await, fanout_config("r")).await;
    wait_ready(&fanout.addr).await;
    let base = format!("http://{}", fanout.addr);

    let (status, body) = get(format!("{base}/events?since=1&epoch={epoch}")).await;
    assert_eq!(status, 410, "a cursor older than retention: {body}");
    assert_eq!(body["type"], "reset");
    let (status, _) = get(format!("{base}/events?since=390&epoch=another")).await;
    assert_eq!(status, 410, "a cursor from another epoch");
    let (status, _) = get(format!("{base}/events?since=5000&epoch={epoch}")).await;
    assert_eq!(status, 410, "a cursor ahead of the log's head");

    let (status, body) = get(format!("{base}/events?since=395&epoch={epoch}")).await;
    assert_eq!(status, 200, "a cursor in range: {body}");
    let seqs: Vec<u64> = body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(seqs, vec![396, 397, 398, 399, 400]);
    assert_eq!(body["next"], 400);
    assert_eq!(body["head"], 400);

    for query in [
        format!("since=1&epoch={epoch}"),
        "since=390&epoch=another".to_string(),
        format!("since=5000&epoch={epoch}"),
    ] {
        let ws = WsClient::connect(&fanout.addr, &query, true)
            .await
            .expect("connect");
        eventually!(10, format!("reset then snapshot for {query}"), async {
            let types = ws.frame_types();
            let reset = types.iter().position(|t| t == "reset");
            let snap = types.iter().position(|t| t == "snapshot");
            matches!((reset, snap), (Some(r), Some(s)) if r < s)
        });
        let state = ws.state();
        assert_eq!(state.epoch.as_deref(), Some(epoch.as_str()));
        assert_eq!(state.last_seq, 400, "the snapshot is at the head");
        assert_eq!(
            state.objects.len(),
            5,
            "the snapshot holds every live object"
        );
    }

    let mut resume_from = ClientState::new(true);
    resume_from.epoch = Some(epoch.to_string());
    resume_from.last_seq = 398;
    let ws = WsClient::resume(&fanout.addr, resume_from, "")
        .await
        .expect("connect");
    append_updates(&writer, &epoch, 401, 3).await;
    eventually!(10, "replay then live", async { ws.state().last_seq == 403 });
    let state = ws.state();
    assert_eq!(state.seqs, vec![399, 400, 401, 402, 403]);
    assert!(
        !ws.frame_types()
            .iter()
            .any(|t| t == "snapshot" || t == "reset")
    );
    fanout.task.stop().await.expect("fanout stops");
}
