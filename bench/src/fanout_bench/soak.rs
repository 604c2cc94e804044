//! S7, the soak (Kubecast only, on demand, not in CI): `--soak` clients receive `--soak` events a
//! second for `--soak-duration` (default: 10k × 10/s, half the S2 knee, for 30 minutes) while the
//! fanout's RSS and open fds are sampled every `--soak-sample`. A leak shows as a drift: the
//! slope of a least-squares line through the RSS samples (MiB per hour), and fds that do not
//! come back to where they started. Every delivery is verified as in S-deliver.

use super::fleet::Fleet;
use super::procs::ServerProc;
use super::system::{Publisher, System, Target};
use super::{Bench, Quantiles};
use crate::publisher;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One sample of the fanout process.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Sample {
    /// Seconds since publishing started.
    pub t_s: f64,
    pub rss_bytes: u64,
    pub fds: usize,
}

/// S7 figures.
#[derive(Debug, Serialize)]
pub struct SoakRow {
    pub clients: usize,
    pub rate: u64,
    pub duration_s: f64,
    pub sample_every_s: f64,
    pub connected: u64,
    pub published: u64,
    pub deliveries: u64,
    pub expected_deliveries: u64,
    /// Gaps + duplicates + out-of-order + position jumps + epoch mismatches + unbased.
    pub violations: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub short_of_head: u64,
    pub closes: BTreeMap<String, u64>,
    pub latency_us: Quantiles,
    pub rss_start_bytes: u64,
    pub rss_end_bytes: u64,
    pub rss_max_bytes: u64,
    /// Slope of the least-squares line through the RSS samples.
    pub rss_drift_mib_per_hour: f64,
    /// Open fds of the samples (all clients connected).
    pub fds_start: usize,
    pub fds_end: usize,
    /// Open fds of the fanout before any client connected, and once they had all gone
    /// (`--settle` after): a leak keeps the second above the first.
    pub fds_before_clients: usize,
    pub fds_after_clients: usize,
    pub rss_after_clients_bytes: u64,
    pub fanout_alive: bool,
    pub samples: Vec<Sample>,
}

pub async fn soak(b: &Bench) -> anyhow::Result<SoakRow> {
    let x = &b.args.extra;
    let (n, rate) = (x.soak.clients, x.soak.rate);
    let mut target = Target::start(b, System::Kubecast).await?;
    let fds_before_clients = target.server.fds();
    let mut fleet = Fleet::start(
        b.source_ips(n),
        &target.dial(),
        n,
        "receive",
        b.args.connect_rate,
        b.args.per_process,
        b.args.drain_timeout,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await; // every snapshot is delivered
    let Publisher::InProcess { log, .. } = target.publisher(b, rate).await? else {
        anyhow::bail!("the soak runs Kubecast's in-process publisher");
    };
    let publishing = publisher::run(
        &log.writer,
        &log.epoch,
        rate,
        b.args.batch,
        x.soak_duration,
        b.args.pad,
    );
    let (published, mut samples) = sampled(publishing, &target.server, x.soak_sample).await?;
    samples.push(sample(&target.server, published.elapsed.as_secs_f64()));
    fleet.until(published.events).await?;
    let sum = fleet.finish().await?;
    tokio::time::sleep(b.args.settle).await; // the fanout notices every client has gone
    let after = sample(&target.server, 0.0);
    let alive = target.server.alive();
    target.server.stop().await;
    let c = &sum.counts;
    let rss = |s: &Sample| s.rss_bytes;
    Ok(SoakRow {
        clients: n,
        rate,
        duration_s: published.elapsed.as_secs_f64(),
        sample_every_s: x.soak_sample.as_secs_f64(),
        connected: sum.connected,
        published: published.events,
        deliveries: c.events,
        expected_deliveries: published.events * sum.connected,
        violations: c.violations(),
        gaps: c.gaps,
        duplicates: c.duplicates,
        short_of_head: sum.short_of_until,
        closes: sum.closes.clone(),
        latency_us: Quantiles::of(sum.latency_us.as_ref()),
        rss_start_bytes: samples.first().map_or(0, rss),
        rss_end_bytes: samples.last().map_or(0, rss),
        rss_max_bytes: samples.iter().map(rss).max().unwrap_or(0),
        rss_drift_mib_per_hour: drift_mib_per_hour(&samples),
        fds_start: samples.first().map_or(0, |s| s.fds),
        fds_end: samples.last().map_or(0, |s| s.fds),
        fds_before_clients,
        fds_after_clients: after.fds,
        rss_after_clients_bytes: after.rss_bytes,
        fanout_alive: alive,
        samples,
    })
}

/// Drives the publisher to its end, sampling the server every `every` (first at once).
async fn sampled(
    publishing: impl Future<Output = anyhow::Result<publisher::Published>>,
    server: &ServerProc,
    every: Duration,
) -> anyhow::Result<(publisher::Published, Vec<Sample>)> {
    tokio::pin!(publishing);
    let (t0, mut samples) = (Instant::now(), Vec::new());
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            published = &mut publishing => return Ok((published?, samples)),
            _ = tick.tick() => samples.push(sample(server, t0.elapsed().as_secs_f64())),
        }
    }
}

fn sample(server: &ServerProc, t_s: f64) -> Sample {
    Sample {
        t_s,
        rss_bytes: server.rss(),
        fds: server.fds(),
    }
}

/// The least-squares slope of RSS (MiB) over time (hours); 0 with fewer than two samples.
pub fn drift_mib_per_hour(samples: &[Sample]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let xs = samples.iter().map(|s| s.t_s / 3600.0);
    let ys = samples
        .iter()
        .map(|s| s.rss_bytes as f64 / (1024.0 * 1024.0));
    let (mx, my) = (xs.clone().sum::<f64>() / n, ys.clone().sum::<f64>() / n);
    let sxy: f64 = xs.clone().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.map(|x| (x - mx).powi(2)).sum();
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

/// Runs the soak (Kubecast only); a failure is recorded.
pub async fn run(b: &Bench, report: &mut super::Report) {
    if !b.args.systems.contains(&System::Kubecast) {
        return;
    }
    let x = &b.args.extra;
    let name = format!("Kubecast soak {}x{}", x.soak.clients, x.soak.rate);
    eprintln!("S7: {name} for {:?} …", x.soak_duration);
    match soak(b).await {
        Ok(row) => report.soak.push(row),
        Err(e) => report.failed.push((name, format!("{e:#}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t_s: f64, mib: f64) -> Sample {
        Sample {
            t_s,
            rss_bytes: (mib * 1024.0 * 1024.0) as u64,
            fds: 0,
        }
    }

    #[test]
    fn drift_is_the_least_squares_slope_in_mib_per_hour() {
        // 1 MiB more every 10 minutes, with noise that cancels out: 6 MiB/hour.
        let samples: Vec<Sample> = (0..7)
            .map(|i| {
                at(
                    600.0 * i as f64,
                    100.0 + i as f64 + if i % 2 == 0 { 0.5 } else { -0.5 },
                )
            })
            .collect();
        let drift = drift_mib_per_hour(&samples);
        assert!((drift - 6.0).abs() < 0.5, "drift {drift}");
        assert_eq!(drift_mib_per_hour(&[at(0.0, 50.0), at(3600.0, 50.0)]), 0.0);
        assert_eq!(drift_mib_per_hour(&[at(0.0, 50.0)]), 0.0);
    }
}
