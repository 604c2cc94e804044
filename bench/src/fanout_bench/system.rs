//! The systems compared in one run: Kubecast and its Socket.IO peer. A [`Target`] is one system's
//! server process for one scenario, with a fresh log (Kubecast: new cluster and epoch) or stream
//! (Socket.IO: new stream, channel prefix and epoch), and the publisher that feeds it: in process
//! through the Lua append for Kubecast, `node publisher.js` through the adapter for Socket.IO.

use super::Bench;
use super::fleet::Dial;
use super::peer::PublishSpec;
use super::procs::{FanoutOptions, ServerProc};
use super::scenarios::FreshLog;
use crate::loadgen::Protocol;
use crate::{publisher, socketio};
use anyhow::Context;
use kubecast_shared::Epoch;
use kubecast_shared::testing::unique_cluster;
use serde::Serialize;
use std::time::Duration;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// The release `kubecast-fanout`.
    #[default]
    Kubecast,
    /// The release `kubecast-fanout` with `--batch-interval` (the bench's `--batch-interval`):
    /// live events published at most once per interval. S-deliver only.
    #[value(name = "kubecast-batched")]
    #[serde(rename = "kubecast-batched")]
    KubecastBatched,
    /// Node + socket.io + @socket.io/redis-streams-adapter (`bench/socketio`).
    #[value(name = "socketio")]
    SocketIo,
}

impl System {
    pub fn label(self) -> &'static str {
        match self {
            Self::Kubecast => "Kubecast",
            Self::KubecastBatched => "Kubecast batched",
            Self::SocketIo => "Socket.IO",
        }
    }

    /// Measured in S-deliver only (its other figures are Kubecast's).
    pub fn deliver_only(self) -> bool {
        self == Self::KubecastBatched
    }

    /// A `kubecast-fanout` process (with or without batching).
    pub fn is_kubecast(self) -> bool {
        matches!(self, Self::Kubecast | Self::KubecastBatched)
    }

    fn protocol(self) -> Protocol {
        match self.is_kubecast() {
            true => Protocol::Kubecast,
            false => Protocol::SocketIo,
        }
    }

    /// The fanout's `--batch-interval` for this system.
    fn batch_interval(self, b: &Bench) -> Duration {
        match self {
            Self::KubecastBatched => b.args.batch_interval,
            _ => Duration::ZERO,
        }
    }
}

/// What feeds the server: a Kubecast log, or a Socket.IO stream with the epoch its events carry.
enum Feed {
    Kubecast(FreshLog),
    SocketIo { stream: String, epoch: Epoch },
}

/// One system's server for one scenario.
pub struct Target {
    pub system: System,
    pub server: ServerProc,
    feed: Feed,
    url: String,
}

impl Target {
    /// A fresh log or stream and a fresh server process on it.
    pub async fn start(b: &Bench, system: System) -> anyhow::Result<Self> {
        Self::start_bounded(b, system, None).await
    }

    /// [`start`](Self::start), with Kubecast's `--max-backlog` set when given (Socket.IO has no
    /// such bound).
    pub async fn start_bounded(
        b: &Bench,
        system: System,
        max_backlog: Option<u64>,
    ) -> anyhow::Result<Self> {
        let (server, feed) = match system {
            System::Kubecast | System::KubecastBatched => {
                let log = FreshLog::create(&b.redis_url).await?;
                let fanout = FanoutOptions {
                    batch_interval: system.batch_interval(b),
                    max_backlog,
                    ..FanoutOptions::default()
                };
                let server =
                    ServerProc::start_fanout(&b.fanout_bin, &b.redis_url, &log.cluster, &fanout)
                        .await?;
                (server, Feed::Kubecast(log))
            }
            System::SocketIo => {
                let stream = unique_cluster("kubecast-bench-sio");
                let peer = b
                    .peer
                    .as_ref()
                    .context("the Socket.IO peer is not prepared")?;
                let server = peer.start_server(&b.redis_url, &stream).await?;
                let epoch = Epoch::generate();
                (server, Feed::SocketIo { stream, epoch })
            }
        };
        let url = match system.is_kubecast() {
            true => format!("ws://{}/ws", server.addr),
            false => format!("ws://{}{}", server.addr, socketio::WEBSOCKET_PATH),
        };
        Ok(Self {
            system,
            server,
            feed,
            url,
        })
    }

    /// Where the load generators connect and what they speak.
    pub fn dial(&self) -> Dial<'_> {
        let epoch = match &self.feed {
            Feed::Kubecast(_) => "",
            Feed::SocketIo { epoch, .. } => epoch.as_str(),
        };
        Dial {
            url: &self.url,
            protocol: self.system.protocol(),
            epoch,
            reconnect: None,
        }
    }

    /// The publisher for an S-deliver run, ready to start (the Node one has connected).
    pub async fn publisher(&self, b: &Bench, rate: u64) -> anyhow::Result<Publisher<'_>> {
        let a = &b.args;
        Ok(match &self.feed {
            Feed::Kubecast(log) => Publisher::InProcess { log, rate },
            Feed::SocketIo { stream, epoch } => {
                let peer = b
                    .peer
                    .as_ref()
                    .context("the Socket.IO peer is not prepared")?;
                let spec = PublishSpec {
                    redis_url: &b.redis_url,
                    stream,
                    epoch: epoch.as_str(),
                    rate,
                    duration: a.deliver_duration,
                    batch: a.batch,
                    pad: a.pad,
                };
                Publisher::Node(Box::new(peer.publisher(&spec).await?))
            }
        })
    }
}

/// A fixed-rate publisher, ready to start.
pub enum Publisher<'a> {
    InProcess { log: &'a FreshLog, rate: u64 },
    Node(Box<super::peer::NodePublisher>),
}

/// What a publisher did.
pub struct Published {
    pub events: u64,
    /// The seq every client should reach.
    pub last_seq: u64,
    pub elapsed: Duration,
}

impl Publisher<'_> {
    /// Publishes for the duration at the rate, `batch` events per append at most.
    pub async fn run(self, b: &Bench) -> anyhow::Result<Published> {
        let a = &b.args;
        match self {
            Self::InProcess { log, rate } => {
                let p = publisher::run(
                    &log.writer,
                    &log.epoch,
                    rate,
                    a.batch,
                    a.deliver_duration,
                    a.pad,
                )
                .await?;
                Ok(Published {
                    events: p.events,
                    last_seq: p.events,
                    elapsed: p.elapsed,
                })
            }
            Self::Node(node) => {
                let p = node.run().await?;
                Ok(Published {
                    events: p.published,
                    last_seq: p.last_seq,
                    elapsed: Duration::from_secs_f64(p.elapsed_s),
                })
            }
        }
    }
}
