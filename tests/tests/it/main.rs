//! Integration tests: real redis-server processes, the simulated cluster, producers and fanout
//! replicas on loopback sockets, and clients that verify every promise as they go.

mod embedded;
mod fanout_outage;
mod path;
mod producer_restart;
mod redis_cluster;
mod redis_restart;
mod relist;
mod resets;
mod resume;
mod sentinel_failover;
mod support;
mod wipe;
