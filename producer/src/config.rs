//! Producer configuration: the plain [`ProducerConfig`] the library takes, and the clap group
//! [`ProducerArgs`] the binaries flatten into their arguments.

use crate::lease::{LeaseConfig, Pause};
use crate::watch::NamespaceFilter;
use clap::Args;
use std::time::Duration;

/// How the producer debounces and publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerConfig {
    /// Per-object coalescing window, restarted by each change.
    pub debounce: Duration,
    /// Upper bound on how long a changing object waits from its first pending change.
    pub max_wait: Duration,
    /// Most events appended in one batch.
    pub batch_max: usize,
    /// Fencing token; `None` = milliseconds since the Unix epoch at start, so a newer producer
    /// takes over from an older one.
    pub fence: Option<u64>,
    /// What to watch.
    pub watch: WatchConfig,
    /// Pods younger than this are not published (`0` disables); see `index` "min pod lifetime".
    pub min_pod_lifetime: Duration,
    /// Summary and churn events are computed (and published when changed) at most this often;
    /// zero disables them.
    pub summary_interval: Duration,
    /// Pod adds+deletes per minute of one workload above which a churn warning is published.
    pub churn_threshold: u32,
    /// Leader election; `None` = always publish with `fence` (the embedded/dev mode).
    pub lease: Option<LeaseConfig>,
    /// Test hook: freezes the renew loop and the publish path while paused.
    pub pause: Option<Pause>,
}

/// Which kinds, namespaces and objects are watched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchConfig {
    /// Kinds to watch (names of the kind table); `None` = every default kind.
    pub kinds: Option<Vec<String>>,
    /// Only these namespaces (empty = all).
    pub namespaces: Vec<String>,
    /// Never these namespaces.
    pub exclude_namespaces: Vec<String>,
    /// Label selector for pods and workloads (Deployment, StatefulSet, DaemonSet, CronJob, Job,
    /// ReplicaSet, Pod).
    pub label_selector: Option<String>,
    /// Dynamic resources (CRDs) to watch.
    pub resources: Vec<WatchResource>,
}

impl WatchConfig {
    /// The namespace filter of these options.
    pub fn filter(&self) -> NamespaceFilter {
        NamespaceFilter {
            include: (!self.namespaces.is_empty())
                .then(|| self.namespaces.iter().cloned().collect()),
            exclude: self.exclude_namespaces.iter().cloned().collect(),
        }
    }
}

/// A dynamic resource to watch: `group/version/kind` (`version/kind` for the core group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchResource {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl std::str::FromStr for WatchResource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        let (group, version, kind) = match parts.as_slice() {
            [g, v, k] => (*g, *v, *k),
            [v, k] => ("", *v, *k),
            _ => return Err(format!("{s:?} is not group/version/kind")),
        };
        if version.is_empty() || kind.is_empty() {
            return Err(format!("{s:?} is not group/version/kind"));
        }
        Ok(Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        })
    }
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(250),
            max_wait: Duration::from_secs(1),
            batch_max: 100,
            fence: None,
            watch: WatchConfig::default(),
            min_pod_lifetime: Duration::from_secs(2),
            summary_interval: Duration::from_secs(2),
            churn_threshold: 30,
            lease: None,
            pause: None,
        }
    }
}

/// Producer options.
#[derive(Args, Clone, Debug)]
pub struct ProducerArgs {
    /// Per-object debounce window (changes inside it coalesce into one event).
    #[arg(long, env = "KUBECAST_DEBOUNCE", default_value = "250ms", value_parser = humantime::parse_duration)]
    pub debounce: Duration,

    /// Longest an object that keeps changing waits before its event is published.
    #[arg(long, env = "KUBECAST_MAX_WAIT", default_value = "1s", value_parser = humantime::parse_duration)]
    pub max_wait: Duration,

    /// Most events appended to the log in one batch.
    #[arg(long, env = "KUBECAST_BATCH_MAX", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_max: u64,

    /// Fencing token of this producer (default: the start time in ms, so the newest producer wins).
    #[arg(long, env = "KUBECAST_FENCE")]
    pub fence: Option<u64>,

    /// Kinds to watch, comma-separated (default: every kind but the legacy `Endpoints`; list
    /// `Endpoints` instead of `EndpointSlice` on clusters without discovery.k8s.io/v1).
    #[arg(long, env = "KUBECAST_KINDS", value_delimiter = ',')]
    pub kinds: Option<Vec<String>>,

    /// Only publish these namespaces (comma-separated; namespaced kinds are then watched per
    /// namespace, so RBAC can be namespace-scoped).
    #[arg(long, env = "KUBECAST_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,

    /// Never publish these namespaces (comma-separated).
    #[arg(long, env = "KUBECAST_EXCLUDE_NAMESPACES", value_delimiter = ',')]
    pub exclude_namespaces: Vec<String>,

    /// Label selector for pods and workloads (Deployment, StatefulSet, DaemonSet, CronJob, Job,
    /// ReplicaSet, Pod); other kinds are not filtered.
    #[arg(long, env = "KUBECAST_LABEL_SELECTOR")]
    pub label_selector: Option<String>,

    /// Also watch a custom resource, as group/version/kind (repeatable; env comma-separated).
    #[arg(
        long = "watch-resource",
        env = "KUBECAST_WATCH_RESOURCES",
        value_delimiter = ','
    )]
    pub watch_resources: Vec<WatchResource>,

    /// Pods that live shorter than this are never published (0 disables).
    #[arg(long, env = "KUBECAST_MIN_POD_LIFETIME", default_value = "2s", value_parser = humantime::parse_duration)]
    pub min_pod_lifetime: Duration,

    /// Most often summary and churn events are published (0 disables them).
    #[arg(long, env = "KUBECAST_SUMMARY_INTERVAL", default_value = "2s", value_parser = humantime::parse_duration)]
    pub summary_interval: Duration,

    /// Pod adds+deletes per minute of one workload that trigger a churn warning.
    #[arg(long, env = "KUBECAST_CHURN_THRESHOLD", default_value_t = 30)]
    pub churn_threshold: u32,
    /// Elect a leader on a Kubernetes Lease so several replicas can run; only the leader
    /// publishes, with the lease generation as its fence (overrides --fence).
    #[arg(long, env = "KUBECAST_LEADER_ELECT")]
    pub leader_elect: bool,

    /// Namespace of the leader-election Lease.
    #[arg(long, env = "KUBECAST_LEASE_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,

    /// Name of the leader-election Lease.
    #[arg(long, env = "KUBECAST_LEASE_NAME", default_value = "kubecast-producer")]
    pub lease_name: String,

    /// How long the lease stays valid after a renewal.
    #[arg(long, env = "KUBECAST_LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,

    /// How often the leader renews the lease (must be well below --lease-duration).
    #[arg(long, env = "KUBECAST_RENEW_EVERY", default_value = "5s", value_parser = humantime::parse_duration)]
    pub renew_every: Duration,

    /// Holder identity in the lease (default: hostname-pid).
    #[arg(long, env = "KUBECAST_IDENTITY")]
    pub identity: Option<String>,

    /// Address of the /metrics and /healthz server (empty: off).
    #[arg(
        long,
        env = "KUBECAST_METRICS_LISTEN",
        default_value = "127.0.0.1:9090"
    )]
    pub metrics_listen: String,
}

impl ProducerArgs {
    pub fn config(&self) -> ProducerConfig {
        ProducerConfig {
            debounce: self.debounce,
            max_wait: self.max_wait,
            batch_max: usize::try_from(self.batch_max).unwrap_or(usize::MAX),
            fence: self.fence,
            watch: WatchConfig {
                kinds: self.kinds.clone(),
                namespaces: self.namespaces.clone(),
                exclude_namespaces: self.exclude_namespaces.clone(),
                label_selector: self.label_selector.clone(),
                resources: self.watch_resources.clone(),
            },
            min_pod_lifetime: self.min_pod_lifetime,
            summary_interval: self.summary_interval,
            churn_threshold: self.churn_threshold,
            lease: self.leader_elect.then(|| LeaseConfig {
                namespace: self.lease_namespace.clone(),
                name: self.lease_name.clone(),
                identity: self
                    .identity
                    .clone()
                    .unwrap_or_else(LeaseConfig::default_identity),
                duration: self.lease_duration,
                renew_every: self.renew_every,
            }),
            pause: None,
        }
    }

    /// Where to serve metrics, if anywhere.
    pub fn metrics_addr(&self) -> Option<&str> {
        Some(self.metrics_listen.trim()).filter(|a| !a.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        producer: ProducerArgs,
    }

    #[test]
    fn defaults_match_the_default_config() {
        let cli = Cli::try_parse_from(["p"]).expect("parses");
        assert_eq!(cli.producer.config(), ProducerConfig::default());
    }

    #[test]
    fn durations_are_humantime() {
        let cli = Cli::try_parse_from([
            "p",
            "--debounce",
            "100ms",
            "--max-wait",
            "2s",
            "--fence",
            "7",
        ])
        .expect("parses");
        let config = cli.producer.config();
        assert_eq!(config.debounce, Duration::from_millis(100));
        assert_eq!(config.max_wait, Duration::from_secs(2));
        assert_eq!(config.fence, Some(7));
    }

    #[test]
    fn watch_options_parse_into_the_watch_config() {
        let cli = Cli::try_parse_from([
            "p",
            "--kinds",
            "Pod,Service",
            "--namespaces",
            "a,b",
            "--exclude-namespaces",
            "kube-system",
            "--label-selector",
            "app=web",
            "--watch-resource",
            "argoproj.io/v1alpha1/Workflow",
            "--watch-resource",
            "v1/ConfigMap",
            "--min-pod-lifetime",
            "0s",
        ])
        .expect("parses");
        let config = cli.producer.config();
        assert_eq!(
            config.watch.kinds,
            Some(vec!["Pod".into(), "Service".into()])
        );
        assert_eq!(config.watch.namespaces, ["a", "b"]);
        assert!(!config.watch.filter().allows("kube-system"));
        assert_eq!(config.watch.label_selector.as_deref(), Some("app=web"));
        assert_eq!(config.watch.resources[0].group, "argoproj.io");
        assert_eq!(config.watch.resources[1].group, "");
        assert_eq!(config.min_pod_lifetime, Duration::ZERO);
    }

    #[test]
    fn malformed_resources_are_refused() {
        assert!(Cli::try_parse_from(["p", "--watch-resource", "Workflow"]).is_err());
    }

    #[test]
    fn leader_election_is_off_by_default_and_configurable() {
        let cli = Cli::try_parse_from(["p"]).expect("parses");
        assert!(cli.producer.config().lease.is_none());
        assert_eq!(cli.producer.metrics_addr(), Some("127.0.0.1:9090"));
        let cli = Cli::try_parse_from([
            "p",
            "--leader-elect",
            "--lease-namespace",
            "ops",
            "--lease-duration",
            "3s",
            "--renew-every",
            "1s",
            "--identity",
            "p-1",
            "--metrics-listen",
            "",
        ])
        .expect("parses");
        let lease = cli.producer.config().lease.expect("elected");
        assert_eq!(
            (
                lease.namespace.as_str(),
                lease.name.as_str(),
                lease.identity.as_str()
            ),
            ("ops", "kubecast-producer", "p-1")
        );
        assert_eq!(
            (lease.duration, lease.renew_every),
            (Duration::from_secs(3), Duration::from_secs(1))
        );
        assert_eq!(cli.producer.metrics_addr(), None);
    }

    #[test]
    fn a_zero_batch_size_is_refused() {
        assert!(Cli::try_parse_from(["p", "--batch-max", "0"]).is_err());
    }
}
