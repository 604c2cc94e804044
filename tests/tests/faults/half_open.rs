//! Half-open connections: packets between some clients and a replica are dropped without any
//! close. The replica finds them by ping timeout and frees them; the clients, patient like the
//! browser client (30 s of silence), learn of the close once the network is back, reconnect
//! and resume.

use crate::support::closes;
use kubecast_shared::testing::TcpProxy;
use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::scenario::Scenario;
use kubecast_tests::procs::sockets::established;
use std::time::{Duration, Instant};

const CUT_OFF: usize = 5;
/// The browser client's default: longer than the replica's keep-alive deadline, so it is the
/// replica that must find the half-open sockets (a client giving up first would free them too).
const CLIENT_SILENCE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_sockets_are_detected_and_their_clients_resume() {
    let mut s = Scenario::start("14-half-open", Options::default(), 8, 2).await;
    let replica = s.deployment.fanouts[0].addr.clone();
    let port: u16 = replica
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let link = TcpProxy::start(port).await;
    let through_link = link
        .url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_string();
    s.fleet
        .add_ws_with_silence(&through_link, CUT_OFF, CLIENT_SILENCE);
    // The churn goes on: wait until the new clients hold a snapshot, not for a still picture.
    let added = s.fleet.ws.len() - CUT_OFF..;
    kubecast_tests::eventually!(30, "the cut-off clients joined", async {
        s.fleet.ws[added.clone()]
            .iter()
            .all(|c| c.state().snapshots > 0)
    });
    // The replica's side of each proxied connection, found in the kernel's table: other
    // clients come and go on this replica, so its own gauges cannot tell these sockets apart.
    let sockets = link.upstream_ports();
    assert_eq!(
        sockets.len(),
        CUT_OFF,
        "one link connection per cut-off client"
    );
    assert_eq!(established(port, &sockets), CUT_OFF);
    let (pings_before, slow_before) = (
        closes(&replica, "ping_timeout").await,
        closes(&replica, "too_slow").await,
    );

    link.partition();
    let cut_at = Instant::now();
    let freed = loop {
        let held = established(port, &sockets);
        if held == 0 {
            break cut_at.elapsed();
        }
        assert!(
            cut_at.elapsed() < CLIENT_SILENCE - Duration::from_secs(5),
            "the replica still holds {held} of {CUT_OFF} half-open sockets"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // A close is counted before its socket is dropped. Found by the keep-alive, not by the
    // send timeout (10 s, which closes as too slow); other clients' ping timeouts, if any,
    // only add to the count.
    let by_ping = closes(&replica, "ping_timeout").await - pings_before;
    let as_slow = closes(&replica, "too_slow").await - slow_before;
    assert!(
        by_ping >= CUT_OFF as f64,
        "the keep-alive found the half-open sockets ({by_ping} ping timeouts, {as_slow} too slow)"
    );
    s.churn_for(Duration::from_secs(10).saturating_sub(cut_at.elapsed()))
        .await;
    link.restore();
    s.end_fault().await;
    let resumed = s.fleet.ws.iter().filter(|c| c.connections() > 1).count();
    assert!(resumed >= CUT_OFF, "the cut-off clients reconnected");
    for state in s.fleet.states() {
        assert_eq!(state.resets, 0, "clients resume from their position");
    }
    s.finish_noted(
        "Half-open TCP connections",
        "5 clients' packets to and from a replica dropped for 10 s, nothing closed",
        format!(
            "the replica freed all 5 sockets (gone from the kernel's table) within {:.1} s: {by_ping} ping-timeout and {as_slow} too-slow closes (ping every 2 s, timeout 2 s); the clients, silent-timeout 30 s, reconnected once the link was back",
            freed.as_secs_f64()
        ),
    )
    .await;
}
