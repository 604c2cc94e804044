//! The consistent world over HTTP with the real kube client: endpoints follow readiness, one
//! DaemonSet pod per node, label-selector watches, Workflow CRD discovery, and the storm rate.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config, ResourceExt};
use kubecast_sim::{Scenario, SimCluster, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

async fn start(config: SimConfig) -> (kubecast_sim::SimServer, Client, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cancel = CancellationToken::new();
    let server = kubecast_sim::serve(listener, config, cancel.clone())
        .await
        .expect("serve");
    let client = Client::try_from(Config::new(server.url.parse().expect("url"))).expect("client");
    (server, client, cancel)
}

fn quiet() -> SimConfig {
    SimConfig {
        churn_interval: None,
        ..SimConfig::default()
    }
}

fn objects(c: &SimCluster, kind: &str) -> Vec<serde_json::Value> {
    c.objects()
        .into_iter()
        .filter(|o| o.kind == kind)
        .map(|o| o.value)
        .collect()
}

#[test]
fn endpoints_list_exactly_the_ready_pods_of_each_service_through_churn() {
    let c = SimCluster::new(&quiet());
    for _ in 0..60 {
        c.step();
        let pods = objects(&c, "Pod");
        for svc in objects(&c, "Service") {
            let (ns, name) = (&svc["metadata"]["namespace"], &svc["metadata"]["name"]);
            let mut want: Vec<String> = pods
                .iter()
                .filter(|p| {
                    p["metadata"]["namespace"] == *ns && p["metadata"]["labels"]["app"] == *name
                })
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .filter(|p| p["status"]["conditions"][0]["status"] == "True")
                .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_owned))
                .collect();
            want.sort();
            let ep = objects(&c, "Endpoints")
                .into_iter()
                .find(|e| e["metadata"]["namespace"] == *ns && e["metadata"]["name"] == *name)
                .expect("endpoints");
            let mut got: Vec<String> = ep["subsets"][0]["addresses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["ip"].as_str().map(str::to_owned))
                .collect();
            got.sort();
            assert_eq!(got, want, "endpoints of {ns}/{name}");
            let slice = objects(&c, "EndpointSlice")
                .into_iter()
                .find(|e| {
                    e["metadata"]["namespace"] == *ns
                        && e["metadata"]["labels"]["kubernetes.io/service-name"] == *name
                })
                .expect("slice");
            let ready = slice["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["conditions"]["ready"] == true)
                .count();
            assert_eq!(ready, want.len());
        }
    }
}

#[test]
fn every_pod_runs_on_a_node_and_daemon_sets_have_one_pod_per_node() {
    let c = SimCluster::new(&SimConfig {
        nodes: 4,
        ..quiet()
    });
    for _ in 0..30 {
        c.step();
    }
    let nodes: Vec<String> = c
        .objects()
        .into_iter()
        .filter(|o| o.kind == "Node")
        .map(|o| o.name)
        .collect();
    assert_eq!(nodes, ["node-1", "node-2", "node-3", "node-4"]);
    let pods = objects(&c, "Pod");
    assert!(
        pods.iter()
            .all(|p| nodes.iter().any(|n| p["spec"]["nodeName"] == n.as_str()))
    );
    let mut ds_nodes: Vec<&str> = pods
        .iter()
        .filter(|p| p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet")
        .filter_map(|p| p["spec"]["nodeName"].as_str())
        .collect();
    ds_nodes.sort_unstable();
    assert_eq!(ds_nodes, ["node-1", "node-2", "node-3", "node-4"]);
    let sts: Vec<&str> = pods
        .iter()
        .filter(|p| p["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet")
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    assert_eq!(sts, ["db-0", "db-1", "db-2"]);
}

#[test]
fn cron_jobs_spawn_jobs_whose_pods_run_to_completion() {
    let c = SimCluster::new(&SimConfig {
        scenarios: vec![],
        ..quiet()
    });
    for _ in 0..30 {
        c.step();
    }
    let jobs = objects(&c, "Job");
    assert!(!jobs.is_empty());
    assert!(
        jobs.iter()
            .all(|j| j["metadata"]["ownerReferences"][0]["kind"] == "CronJob")
    );
    let done = jobs
        .iter()
        .find(|j| j["status"]["succeeded"] == j["spec"]["completions"])
        .expect("a finished job");
    assert_eq!(done["status"]["conditions"][0]["type"], "Complete");
    let pods = objects(&c, "Pod");
    assert!(pods.iter().any(|p| p["status"]["phase"] == "Succeeded"
        && p["metadata"]["ownerReferences"][0]["kind"] == "Job"));
    assert!(!objects(&c, "CronJob")[0]["status"]["lastScheduleTime"].is_null());
}

#[tokio::test]
async fn a_selector_watch_sees_only_matching_pods_and_a_pod_leaving_is_deleted() {
    let (server, client, _cancel) = start(quiet()).await;
    let c = server.cluster.clone();
    let mut stream = watcher::watcher(
        Api::<Pod>::all(client),
        watcher::Config::default().labels("app=web"),
    )
    .boxed();
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("in time")
            .expect("event")
            .expect("ok")
        {
            Event::InitApply(p) => seen.push(p),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert!(
        !seen.is_empty()
            && seen
                .iter()
                .all(|p| p.labels().get("app").map(String::as_str) == Some("web"))
    );
    let mut pod = c
        .objects()
        .into_iter()
        .find(|o| o.kind == "Pod" && o.value["metadata"]["labels"]["app"] == "web")
        .expect("web pod")
        .value;
    let name = pod["metadata"]["name"].as_str().expect("name").to_owned();
    pod["metadata"]["labels"]["app"] = "elsewhere".into();
    c.upsert("Pod", pod);
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("in time")
            .expect("event")
            .expect("ok")
        {
            Event::Delete(p) if p.name_any() == name => break,
            Event::Apply(p) => assert_eq!(p.labels().get("app").map(String::as_str), Some("web")),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_bad_label_selector_is_a_400_bad_request() {
    let (_server, client, _cancel) = start(quiet()).await;
    let err = Api::<Pod>::all(client)
        .list(&kube::api::ListParams::default().labels("a>1"))
        .await
        .expect_err("rejected");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 400 && s.reason == "BadRequest"));
}

#[tokio::test]
async fn kube_discovery_finds_the_workflow_custom_resource() {
    let (_server, client, _cancel) = start(quiet()).await;
    let discovery = kube::discovery::Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let (ar, caps) = discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(ar, _)| ar.kind == "Workflow")
        .expect("Workflow discovered");
    assert_eq!(
        (ar.group.as_str(), ar.version.as_str(), ar.plural.as_str()),
        ("argoproj.io", "v1alpha1", "workflows")
    );
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    let api: Api<kube::api::DynamicObject> = Api::all_with(client, &ar);
    let list = api.list(&Default::default()).await.expect("workflows list");
    assert!(!list.items.is_empty());
    assert!(
        list.items[0].data["status"]["progress"]
            .as_str()
            .is_some_and(|p| p.contains('/'))
    );
}

/// Counts watch events a single raw HTTP watcher receives while `storm` runs (printed, not
/// asserted: it depends on the machine and the build profile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storm_throughput_to_one_watcher_is_printed() {
    let config = SimConfig {
        namespaces: 20,
        deployments_per_namespace: 10,
        max_replicas: 10,
        scenarios: vec![Scenario::Random],
        ..quiet()
    };
    let (server, _client, _cancel) = start(config).await;
    const N: usize = 100_000;
    let mut sock = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let rv = server.cluster.resource_version();
    let req =
        format!("GET /api/v1/pods?watch=1&resourceVersion={rv} HTTP/1.1\r\nHost: sim\r\n\r\n");
    sock.write_all(req.as_bytes()).await.expect("request");
    let reader = tokio::spawn(async move {
        let (mut buf, mut count, mut tail) = (vec![0u8; 1 << 16], 0usize, Vec::new());
        let needle = b"{\"type\":\"MODIFIED\"";
        let mut first: Option<Instant> = None;
        while count < N {
            // A watcher that lags the live channel is ended (as designed); stop counting then.
            let Ok(Ok(n @ 1..)) =
                tokio::time::timeout(Duration::from_secs(2), sock.read(&mut buf)).await
            else {
                break;
            };
            first.get_or_insert_with(Instant::now);
            tail.extend_from_slice(&buf[..n]);
            count += tail.windows(needle.len()).filter(|w| *w == needle).count();
            let keep = tail.len().saturating_sub(needle.len() - 1);
            tail.drain(..keep);
        }
        count
    });
    let cluster = server.cluster.clone();
    let start = Instant::now();
    let applied = tokio::task::spawn_blocking(move || cluster.storm(N))
        .await
        .expect("storm");
    let storm_secs = start.elapsed().as_secs_f64();
    let received = tokio::time::timeout(Duration::from_secs(120), reader)
        .await
        .expect("in time")
        .expect("reader");
    let total = start.elapsed().as_secs_f64() - if received < N { 2.0 } else { 0.0 };
    println!(
        "storm: {applied} pod changes applied in {storm_secs:.2}s ({:.0}/s); one watcher received {received} events in {total:.2}s ({:.0} events/s)",
        applied as f64 / storm_secs,
        received as f64 / total
    );
}
