//! `kubecast-bench loopback`: the floor under any fanout on this machine. One thread writes a
//! message to each of N loopback TCP sockets in turn (plain blocking `write`, no WebSocket, no
//! runtime), R rounds per second, while a separate reader process (one thread, like the load
//! generators) reads them. It reports what one write costs the writer, what one read costs the
//! reader, and how long one round (one event to every socket) takes: a fanout that writes once
//! per delivery cannot do better.

use crate::procstat::cpu_seconds;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct LoopbackArgs {
    /// Sockets written in each round (one message each).
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// Rounds per second (events per second).
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// How long to write.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Bytes per message (about one event frame).
    #[arg(long, default_value_t = 400)]
    size: usize,
    /// Internal: run as the reader, connecting to this address.
    #[arg(long, hide = true)]
    reader_of: Option<SocketAddr>,
}

pub fn main(args: LoopbackArgs) -> anyhow::Result<()> {
    match args.reader_of {
        Some(addr) => read_all(addr, &args),
        None => write_rounds(&args),
    }
}

/// The writer: accepts the reader's sockets, then writes `rate` rounds per second.
fn write_rounds(args: &LoopbackArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let exe = std::env::current_exe()?;
    let rounds = (args.duration.as_secs_f64() * f64::from(args.rate)).ceil() as u64;
    let mut reader = Command::new(exe)
        .args(["loopback", "--reader-of", &addr.to_string()])
        .args([
            "--sockets",
            &args.sockets.to_string(),
            "--size",
            &args.size.to_string(),
        ])
        .args(["--rate", &args.rate.to_string()])
        .args(["--duration", &format!("{}ms", args.duration.as_millis())])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut sockets = Vec::with_capacity(args.sockets);
    for _ in 0..args.sockets {
        let (socket, _) = listener.accept()?;
        socket.set_nodelay(true)?;
        sockets.push(socket);
    }
    let message = vec![b'x'; args.size];
    let mut round_us = hdrhistogram::Histogram::<u64>::new(3)?;
    let period = Duration::from_secs(1) / args.rate;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    for round in 0..rounds {
        let due = start + period * round as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let began = Instant::now();
        for socket in &mut sockets {
            socket.write_all(&message)?;
        }
        round_us.record(began.elapsed().as_micros() as u64)?;
    }
    let writer_cpu = cpu_seconds() - cpu0;
    let wall = start.elapsed().as_secs_f64();
    drop(sockets);
    let mut out = String::new();
    reader
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no reader output"))?
        .read_to_string(&mut out)?;
    reader.wait()?;
    let reader_cpu: f64 = out.trim().parse()?;
    let writes = rounds as f64 * args.sockets as f64;
    println!(
        "| sockets × rounds/s | writes/s | writer µs per write | reader µs per read | writer cores | one round (all sockets) p50 / p99 / max (ms) |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| {} × {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} / {:.2} / {:.2} |",
        args.sockets,
        args.rate,
        writes / wall,
        writer_cpu * 1e6 / writes,
        reader_cpu * 1e6 / writes,
        writer_cpu / wall,
        round_us.value_at_quantile(0.5) as f64 / 1000.0,
        round_us.value_at_quantile(0.99) as f64 / 1000.0,
        round_us.max() as f64 / 1000.0,
    );
    Ok(())
}

/// The reader: one thread, every socket non-blocking, polled in turn; prints its CPU seconds.
fn read_all(addr: SocketAddr, args: &LoopbackArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cpu0 = cpu_seconds();
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..args.sockets {
            let socket = tokio::net::TcpStream::from_std(connect(addr)?)?;
            tasks.spawn(drain(socket));
        }
        while tasks.join_next().await.is_some() {}
        anyhow::Ok(())
    })?;
    println!("{}", cpu_seconds() - cpu0);
    Ok(())
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpStream::connect(addr)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Reads until the writer closes.
async fn drain(mut socket: tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
}
