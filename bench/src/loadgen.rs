//! `kubecast-bench clients`: a standalone load generator holding many WebSocket clients.
//!
//! Clients connect at `--connect-rate` from the `--source-ips` in turn (so one process is not
//! limited by one address's ephemeral ports), then read until the process stops: after
//! `--duration`, on SIGTERM, when stdin closes, or (stdin line `until <seq>`) once every open
//! client has reached that seq. It then prints ONE JSON line ([`LoadgenResult`]) on stdout.
//! Progress goes to stderr as JSON lines (`{"ready":…}` once every client has connected or
//! failed), which the `fanout` orchestrator waits for.
//!
//! Runs on one thread (current-thread runtime + `LocalSet`): per client there is only the
//! socket, a small read buffer and a [`Cursor`]; counters and the latency histogram are shared.

mod client;
pub mod hybrid;
pub mod poll;
pub mod reconnect;
mod resume;
mod session;
mod sio_resume;
pub mod slow;

#[cfg(test)]
mod args_tests;

use crate::procstat::{cpu_seconds, rss_bytes};
use crate::verify::{Counters, Tally};
use client::Dial;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

/// What the clients do once connected.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read and count frames without parsing them (connection-holding cost).
    Idle,
    /// Parse every frame and verify seq continuity and latency.
    Receive,
    /// Kubecast only: `receive`, plus a poll of `GET /events?since=` per client (see `poll.rs`)
    /// whose pages must agree with the socket's stream.
    Hybrid,
}

/// What the server speaks.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Kubecast's WebSocket protocol (`/ws`): hello, snapshot, events, position frames.
    Kubecast,
    /// Engine.IO v4 / Socket.IO v5 over a plain WebSocket (`/socket.io/?EIO=4&transport=websocket`).
    #[value(name = "socketio")]
    SocketIo,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kubecast => "kubecast",
            Self::SocketIo => "socketio",
        }
    }
}

/// Load-generator options.
#[derive(clap::Args, Debug, Clone)]
pub struct ClientsArgs {
    /// WebSocket URL of the server, e.g. ws://127.0.0.1:8081/ws or, for Socket.IO,
    /// ws://127.0.0.1:8090/socket.io/?EIO=4&transport=websocket.
    #[arg(long)]
    pub url: String,
    #[arg(long, value_enum, default_value_t = Protocol::Kubecast)]
    pub protocol: Protocol,
    /// Socket.IO: the publisher's epoch. Socket.IO has no snapshot: clients join before the
    /// first event and start at seq 0 of this epoch.
    #[arg(long, default_value = "")]
    pub epoch: String,
    /// Clients to connect.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Source addresses to bind client sockets to, in turn (127.0.0.0/8 all reach loopback).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    pub source_ips: Vec<IpAddr>,
    #[arg(long, value_enum, default_value_t = Mode::Receive)]
    pub mode: Mode,
    /// New connections per second.
    #[arg(long, default_value_t = 1000.0)]
    pub connect_rate: f64,
    /// Stop after this long (default: run until SIGTERM, stdin closes or `until` is reached).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Connect + handshake timeout per client.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// After `until <seq>` arrives on stdin, stop at the latest this long after.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    #[command(flatten)]
    pub slow: slow::SlowArgs,
    #[command(flatten)]
    pub poll: poll::PollArgs,
    #[command(flatten)]
    pub reconnect: reconnect::ReconnectArgs,
}

/// Latency quantiles in µs, plus the recorded buckets so several processes can be merged.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    /// `[value_us, count]` of every non-empty histogram bucket.
    pub buckets: Vec<(u64, u64)>,
}

impl Latency {
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Self {
        Self {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            buckets: h
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        }
    }

    pub fn merge_into(&self, h: &mut hdrhistogram::Histogram<u64>) {
        for &(value, count) in &self.buckets {
            let _ = h.record_n(value, count);
        }
    }
}

/// The one JSON line a load generator prints.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LoadgenResult {
    pub requested: usize,
    pub connected: u64,
    pub failed: u64,
    /// Failed connection attempts by cause.
    pub failures: BTreeMap<String, u64>,
    /// Connections the server ended, by close code (`eof` = no close frame, `error:…` = I/O error).
    pub closes: BTreeMap<String, u64>,
    /// Connections still open when the generator stopped.
    pub open_at_end: u64,
    /// Open clients that had not reached the `until` seq when the generator stopped.
    pub short_of_until: u64,
    pub counts: Counters,
    pub latency_us: Latency,
    /// Seconds from the first connection attempt until every client had connected or failed.
    pub connect_seconds: f64,
    pub run_seconds: f64,
    pub rss_bytes: u64,
    pub cpu_seconds: f64,
    /// The slow readers' figures (`--slow-share`); every figure above is of the others.
    #[serde(default)]
    pub slow: slow::SlowFigures,
    /// `--mode hybrid`: the polls' figures.
    #[serde(default)]
    pub poll: poll::PollFigures,
    /// `--reconnect`: losses, resumes, resets and recovery times.
    #[serde(default)]
    pub reconnect: reconnect::ReconnectStats,
}

/// State shared by the clients of this process.
struct GenState {
    mode: Mode,
    tally: RefCell<Tally>,
    failures: RefCell<BTreeMap<String, u64>>,
    closes: RefCell<BTreeMap<String, u64>>,
    connected: Cell<u64>,
    failed: Cell<u64>,
    open: Cell<u64>,
    /// Each client's cursor seq; `u64::MAX` once it has ended (or failed).
    slots: Vec<Cell<u64>>,
    /// Which clients read slowly, and what they observed (apart from the others).
    slow_plan: slow::SlowPlan,
    slow: slow::SlowTally,
    /// `--mode hybrid`: mean interval between polls, and what the polls saw.
    poll_interval: Duration,
    poll: RefCell<poll::PollTally>,
    reconnect: RefCell<reconnect::ReconnectTally>,
}

#[cfg(test)]
impl GenState {
    /// A process with one open client at seq 0 in `mode`: nothing slow, no polls.
    fn one_open_client(mode: Mode) -> Self {
        let no_slow = slow::SlowArgs {
            slow_share: 0.0,
            slow_read_rate: 1,
        };
        Self {
            mode,
            tally: Default::default(),
            failures: Default::default(),
            closes: Default::default(),
            connected: Cell::new(1),
            failed: Cell::new(0),
            open: Cell::new(1),
            slots: vec![Cell::new(0)],
            slow_plan: slow::SlowPlan::new(&no_slow, 1),
            slow: Default::default(),
            poll_interval: Duration::from_secs(1),
            poll: Default::default(),
            reconnect: Default::default(),
        }
    }
}

impl GenState {
    /// Open clients short of `seq`: the normal ones, and the slow ones.
    fn short_of(&self, seq: u64) -> (u64, u64) {
        let short = |slow: bool| {
            let mine = |(i, _): &(usize, &Cell<u64>)| self.slow_plan.is_slow(*i) == slow;
            let open_short = self.slots.iter().enumerate().filter(mine);
            open_short.filter(|(_, s)| s.get() < seq).count() as u64
        };
        (short(false), short(true))
    }

    fn bump(map: &RefCell<BTreeMap<String, u64>>, key: String) {
        *map.borrow_mut().entry(key).or_default() += 1;
    }
}

/// Runs the load generator on a current-thread runtime and prints its result line.
pub fn main(args: ClientsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.source_ips.is_empty(), "--source-ips is empty");
    anyhow::ensure!(args.connect_rate > 0.0, "--connect-rate must be positive");
    anyhow::ensure!(
        args.protocol == Protocol::Kubecast || !args.epoch.is_empty(),
        "--protocol socketio needs --epoch (the publisher's)"
    );
    check_hybrid(&args)?;
    args.reconnect.validate().map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&rt, run(args));
    // The stdin reader is a blocking read that may never return: do not wait for it.
    drop(local);
    rt.shutdown_background();
    println!("{}", serde_json::to_string(&result?)?);
    Ok(())
}

/// `--mode hybrid` polls Kubecast's `/events`, which Socket.IO has no counterpart of.
fn check_hybrid(args: &ClientsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.mode != Mode::Hybrid || args.protocol == Protocol::Kubecast,
        "--mode hybrid needs --protocol kubecast (Socket.IO has no /events to poll)"
    );
    Ok(())
}

async fn run(args: ClientsArgs) -> anyhow::Result<LoadgenResult> {
    let start = Instant::now();
    let cpu0 = cpu_seconds();
    let target = resolve(&args.url).await?;
    let state = Rc::new(GenState {
        mode: args.mode,
        tally: RefCell::default(),
        failures: RefCell::default(),
        closes: RefCell::default(),
        connected: Cell::new(0),
        failed: Cell::new(0),
        open: Cell::new(0),
        slots: (0..args.count).map(|_| Cell::new(0)).collect(),
        slow_plan: slow::SlowPlan::new(&args.slow, args.count),
        slow: slow::SlowTally::default(),
        poll_interval: args.poll.poll_interval,
        poll: RefCell::default(),
        reconnect: RefCell::default(),
    });
    let stop = CancellationToken::new();
    let until = Rc::new(Cell::new(None::<(u64, tokio::time::Instant)>));
    tokio::task::spawn_local(control(stop.clone(), until.clone(), args.drain_timeout));
    if let Some(d) = args.duration {
        let stop = stop.clone();
        tokio::task::spawn_local(async move {
            tokio::time::sleep(d).await;
            stop.cancel();
        });
    }

    let dial = Rc::new(Dial {
        target,
        url: args.url.as_str().into(),
        protocol: args.protocol,
        epoch: args.epoch.as_str().into(),
        timeout: args.connect_timeout,
    });
    let t0 = tokio::time::Instant::now();
    for i in 0..args.count {
        let due = t0 + Duration::from_secs_f64(i as f64 / args.connect_rate);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep_until(due) => {}
        }
        let src = args.source_ips[i % args.source_ips.len()];
        let backoff = args.reconnect.backoff();
        if args.reconnect.reconnect && args.protocol == Protocol::SocketIo {
            tokio::task::spawn_local(sio_resume::client(
                i,
                state.clone(),
                src,
                dial.clone(),
                backoff,
            ));
        } else if args.reconnect.reconnect {
            tokio::task::spawn_local(resume::client(i, state.clone(), src, dial.clone(), backoff));
        } else {
            tokio::task::spawn_local(client::client(i, state.clone(), src, dial.clone()));
        }
    }
    let mut connect_seconds = None;
    let (mut short_of_until, mut slow_short_of_until) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        let settled = state.connected.get() + state.failed.get();
        if connect_seconds.is_none() && settled >= args.count as u64 {
            let secs = start.elapsed().as_secs_f64();
            connect_seconds = Some(secs);
            let ready = serde_json::json!({"ready": true, "connected": state.connected.get(),
                "failed": state.failed.get(), "connect_seconds": secs});
            eprintln!("{ready}");
        }
        if let Some((seq, deadline)) = until.get() {
            // Slow readers are measured apart and do not hold the generator up.
            (short_of_until, slow_short_of_until) = state.short_of(seq);
            if short_of_until == 0 || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
    }
    let tally = state.tally.borrow();
    Ok(LoadgenResult {
        requested: args.count,
        connected: state.connected.get() - state.slow.connected.get(),
        failed: state.failed.get(),
        failures: state.failures.borrow().clone(),
        closes: state.closes.borrow().clone(),
        open_at_end: state.open.get(),
        short_of_until,
        counts: tally.counts.clone(),
        latency_us: Latency::of(&tally.latency_us),
        connect_seconds: connect_seconds.unwrap_or(f64::NAN),
        run_seconds: start.elapsed().as_secs_f64(),
        rss_bytes: rss_bytes(),
        cpu_seconds: cpu_seconds() - cpu0,
        slow: slow::SlowFigures::of(&state.slow_plan, &state.slow, slow_short_of_until),
        poll: poll::PollFigures::of(&state.poll.borrow()),
        reconnect: state.reconnect.borrow().result(),
    })
}

/// Stops on SIGTERM/SIGINT or stdin EOF (e.g. the orchestrator died); `until <seq>` on stdin sets
/// the seq every client should reach before the generator stops.
async fn control(
    stop: CancellationToken,
    until: Rc<Cell<Option<(u64, tokio::time::Instant)>>>,
    drain_timeout: Duration,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("kubecast-bench clients: cannot install signal handlers");
        return;
    };
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    let seq = line.trim().strip_prefix("until ").and_then(|s| s.trim().parse().ok());
                    match seq {
                        Some(seq) => until.set(Some((seq, tokio::time::Instant::now() + drain_timeout))),
                        None if line.trim() == "stop" => break,
                        None => eprintln!("kubecast-bench clients: ignoring stdin line {line:?}"),
                    }
                }
                Ok(None) | Err(_) => break,
            },
        }
    }
    stop.cancel();
}

async fn resolve(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| anyhow::anyhow!("--url must start with ws:// (got {url})"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    tokio::net::lookup_host(authority)
        .await?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{authority} does not resolve"))
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;
