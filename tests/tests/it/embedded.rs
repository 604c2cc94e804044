//! The embedded default (`cargo run`): simulated cluster + producer + fanout on the in-memory log.

use clap::Parser;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_serves_the_page_and_live_events() {
    init_logging();
    let metrics = format!("127.0.0.1:{}", kubecast_tests::free_port());
    let args = kubecast::Args::parse_from([
        "kubecast",
        "--source",
        "sim",
        "--sim-churn",
        "50ms",
        "--metrics-listen",
        &metrics,
        "--drain-window",
        "500ms",
    ]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let cancel = CancellationToken::new();
    let server = tokio::spawn(kubecast::run(args, listener, cancel.clone()));

    let page = format!("http://{addr}/");
    eventually!(20, "the page is served", async {
        matches!(reqwest::get(&page).await, Ok(r) if r.status().is_success())
    });
    let html = reqwest::get(&page)
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(
        html.contains("dashboard/app.js"),
        "the page loads the dashboard"
    );
    for module in ["/dashboard/app.js", "/client/kubecast.js", "/kubecast.js"] {
        let js = reqwest::get(format!("http://{addr}{module}"))
            .await
            .expect("module");
        assert!(js.status().is_success(), "{module}");
    }

    let ws = WsClient::connect(&addr, "", true).await.expect("connect");
    eventually!(20, "a snapshot with objects and then live events", async {
        let st = ws.state();
        st.snapshots == 1 && !st.objects.is_empty() && st.applied >= 5
    });
    let st = ws.state();
    assert_eq!((st.duplicates, st.gaps), (0, 0));

    let scrape = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    let published = scrape
        .lines()
        .find_map(|l| l.strip_prefix("kubecast_producer_events_published_total "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    assert!(
        published.is_some_and(|n| n > 0.0),
        "the producer's metrics count published events:\n{scrape}"
    );

    cancel.cancel();
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    assert!(
        matches!(result, Ok(Ok(Ok(())))),
        "kubecast stops cleanly on cancel: {result:?}"
    );
}

/// The simulated cluster's size options are checked when parsed: no cluster with zero replicas.
#[test]
fn a_simulated_cluster_size_out_of_range_is_refused() {
    let refused = kubecast::Args::try_parse_from(["kubecast", "--sim-max-replicas", "0"])
        .expect_err("0 replicas is refused");
    assert!(
        refused.to_string().contains("--sim-max-replicas"),
        "{refused}"
    );
    let sized = kubecast::Args::try_parse_from([
        "kubecast",
        "--sim-namespaces",
        "20",
        "--sim-deployments",
        "10",
        "--sim-max-replicas",
        "100",
    ])
    .expect("a large cluster");
    assert_eq!(
        (
            sized.sim_namespaces,
            sized.sim_deployments,
            sized.sim_max_replicas
        ),
        (20, 10, 100)
    );
}
