//! Fault scenarios on real processes (redis-server, the producer binary, three fanout binaries
//! behind nginx) with verifying clients; each writes its row of `docs/reliability.md`.
//! See `kubecast_tests::procs` for the harness.

mod half_open;
mod producer_faults;
mod redis_faults;
mod replica_faults;
mod slow_consumers;
mod soak;
mod storm;
mod support;
mod watch_faults;
