//! Helpers shared by the fault scenarios.

use kubecast_shared::keys::ClusterKeys;

/// Sum of the values of every sample of `metric` (any labels) on a replica's `/metrics`.
pub async fn metric(addr: &str, metric: &str) -> f64 {
    let Ok(resp) = reqwest::get(format!("http://{addr}/metrics")).await else {
        return 0.0;
    };
    let text = resp.text().await.unwrap_or_default();
    text.lines()
        .filter(|line| {
            line.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with([' ', '{']))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn connect(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis")
}

/// A copy of one cluster's keys (`DUMP`), to be put back later as a rolled-back Redis would.
pub struct KeysCopy(Vec<(String, Vec<u8>)>);

impl KeysCopy {
    pub async fn take(url: &str, cluster: &str) -> Self {
        let keys = ClusterKeys::new(cluster);
        let mut conn = connect(url).await;
        let mut copies = Vec::new();
        for key in [keys.log, keys.objects, keys.meta] {
            let dump: Option<Vec<u8>> = redis::cmd("DUMP")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("DUMP");
            copies.push((key, dump.expect("the key exists")));
        }
        Self(copies)
    }

    /// Writes the copy back (`RESTORE … REPLACE`).
    pub async fn restore(&self, url: &str) {
        let mut conn = connect(url).await;
        for (key, dump) in &self.0 {
            let _: () = redis::cmd("RESTORE")
                .arg(key)
                .arg(0)
                .arg(dump.as_slice())
                .arg("REPLACE")
                .query_async(&mut conn)
                .await
                .expect("RESTORE");
        }
    }
}

/// The epoch in the log's meta.
pub async fn log_epoch(url: &str, cluster: &str) -> String {
    let mut conn = connect(url).await;
    let epoch: Option<String> = redis::cmd("HGET")
        .arg(ClusterKeys::new(cluster).meta)
        .arg("epoch")
        .query_async(&mut conn)
        .await
        .expect("HGET epoch");
    epoch.expect("the log has an epoch")
}

/// How many sessions the replica at `addr` has closed for `reason` (`ping_timeout`, `too_slow`…).
pub async fn closes(addr: &str, reason: &str) -> f64 {
    metric(
        addr,
        &format!("kubecast_fanout_closes_total{{reason=\"{reason}\"}}"),
    )
    .await
}

/// The scenario's log epoch now.
pub async fn scenario_epoch(s: &kubecast_tests::procs::scenario::Scenario) -> String {
    log_epoch(&s.deployment.redis.url, &s.deployment.cluster).await
}

/// The head seq in the log's meta.
pub async fn log_head(url: &str, cluster: &str) -> u64 {
    let mut conn = connect(url).await;
    let head: Option<u64> = redis::cmd("HGET")
        .arg(ClusterKeys::new(cluster).meta)
        .arg("seq")
        .query_async(&mut conn)
        .await
        .expect("HGET seq");
    head.unwrap_or(0)
}

/// The head seq a replica serves (`head` of an `/events` page), 0 while it cannot answer.
pub async fn replica_head(addr: &str) -> u64 {
    let Ok(resp) = reqwest::get(format!("http://{addr}/events?since=0&limit=1")).await else {
        return 0;
    };
    let page: serde_json::Value = resp.json().await.unwrap_or_default();
    page["head"].as_u64().unwrap_or(0)
}

/// How long until `reached` holds, polled every 20 ms (60 s at most).
pub async fn time_until<F, Fut>(mut reached: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !reached().await && started.elapsed() < std::time::Duration::from_secs(60) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    started.elapsed()
}
