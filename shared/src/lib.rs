//! Kubecast's shared contracts: the wire protocol (DESIGN §2–§3), the Redis key layout (§1), the
//! event-log port with its Redis and in-memory implementations, shared clap groups, telemetry and
//! shutdown. Producer, fanout and the embedded binary depend on this crate; nothing here knows about
//! Kubernetes. `kubecast-healthcheck` (a tiny HTTP probe for container images) lives here too.

pub mod config;
pub mod healthcheck;
pub mod keys;
pub mod log;
pub mod metrics;
pub mod protocol;
pub mod shutdown;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;

pub use protocol::{Epoch, Event, Filter, Op, PROTOCOL_VERSION, Seq, StoredEvent};
