//! The Redis URL forms the log accepts, parsed into the topology they name:
//!
//! - one server: `redis://…`, `rediss://…`, `unix://…`, `redis+unix://…` (passed to redis-rs as is);
//! - Sentinel: `redis+sentinel://[user:pass@]host:port[,host:port…]/<master-name>[/<db>]`, or
//!   `rediss+sentinel://…` for TLS to the sentinels and the primary (`#insecure` skips
//!   verification); the credentials and the db are the primary's (sentinels without auth);
//! - Cluster: `redis+cluster://[user:pass@]host:port[,host:port…]` (or `rediss+cluster://…`);
//!   the nodes are seeds, the rest of the cluster is discovered. A cluster has only db 0.
//!
//! Parsing is pure and done at flag-parse time too, so a bad URL stops a binary at start-up
//! (clap's exit code 2) with a message naming the problem, instead of being retried forever.

/// What a Redis URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server, by the URL redis-rs understands.
    Single(String),
    /// A primary found through Redis Sentinel.
    Sentinel(SentinelTarget),
    /// A Redis Cluster, by its seed nodes (`redis://…` URLs, one per node).
    Cluster(ClusterTarget),
}

/// A `redis+sentinel://` URL, split into what redis-rs's Sentinel client needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentinelTarget {
    /// One `redis://host:port/` (or `rediss://…`) URL per sentinel.
    pub sentinels: Vec<String>,
    /// The name the sentinels monitor the primary under.
    pub master_name: String,
    /// A `redis://` URL carrying the primary's credentials and db (its host is a placeholder).
    pub node_settings: String,
    /// `None` for plain TCP; `Some(insecure)` for TLS.
    pub tls: Option<bool>,
}

/// A `redis+cluster://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterTarget {
    /// One `redis://[user:pass@]host:port/` (or `rediss://…`) URL per seed node.
    pub nodes: Vec<String>,
    /// `None` for plain TCP; `Some(insecure)` for TLS.
    pub tls: Option<bool>,
}

/// Why a Redis URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error(
        "unsupported Redis URL scheme {0:?}: use redis://, rediss://, unix://, \
         redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://"
    )]
    Scheme(String),
    #[error("the Redis URL has no `scheme://`")]
    NoScheme,
    #[error("the Redis URL names no host")]
    NoHost,
    #[error("{0:?} is not host:port (a port from 1 to 65535)")]
    HostPort(String),
    #[error("a redis+sentinel:// URL needs the master name as its path: …/<master-name>[/<db>]")]
    NoMasterName,
    #[error("the database {0:?} is not a number")]
    Db(String),
    #[error("unexpected path {0:?}: a Sentinel URL ends with /<master-name>[/<db>]")]
    SentinelPath(String),
    #[error("a Redis Cluster has only database 0; remove the path {0:?}")]
    ClusterPath(String),
    #[error("{0}")]
    Single(String),
}

const SENTINEL_PORT: u16 = 26379;
const REDIS_PORT: u16 = 6379;

impl RedisTarget {
    /// Parses a Redis URL of any supported form.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (scheme, _) = url.split_once("://").ok_or(UrlError::NoScheme)?;
        match scheme {
            "redis" | "rediss" | "unix" | "redis+unix" => single(url),
            "redis+sentinel" => sentinel(split(url)?, false),
            "rediss+sentinel" => sentinel(split(url)?, true),
            "redis+cluster" => cluster(split(url)?, false),
            "rediss+cluster" => cluster(split(url)?, true),
            other => Err(UrlError::Scheme(other.to_string())),
        }
    }
}

fn single(url: &str) -> Result<RedisTarget, UrlError> {
    redis::Client::open(url).map_err(|e| UrlError::Single(format!("invalid Redis URL: {e}")))?;
    Ok(RedisTarget::Single(url.to_string()))
}

/// A multi-host URL cut into its parts.
struct Parts<'a> {
    userinfo: Option<&'a str>,
    hosts: Vec<&'a str>,
    path: Vec<&'a str>,
    insecure: bool,
}

fn split(url: &str) -> Result<Parts<'_>, UrlError> {
    let (_, rest) = url.split_once("://").ok_or(UrlError::NoScheme)?;
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let hosts: Vec<&str> = hosts.split(',').filter(|h| !h.is_empty()).collect();
    if hosts.is_empty() {
        return Err(UrlError::NoHost);
    }
    Ok(Parts {
        userinfo,
        hosts,
        path: path.split('/').filter(|s| !s.is_empty()).collect(),
        insecure: fragment == "insecure",
    })
}

/// `host:port` (or `[v6]:port`, or a bare host with `default_port`) as `host:port`.
fn host_port(host: &str, default_port: u16) -> Result<String, UrlError> {
    let bad = || UrlError::HostPort(host.to_string());
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') => {
            (name, port.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (host, default_port),
    };
    if name.is_empty() || port == 0 || name.contains(['/', '@', '?']) {
        return Err(bad());
    }
    Ok(format!("{name}:{port}"))
}

fn node_url(tls: Option<bool>, userinfo: Option<&str>, host: &str, db: i64) -> String {
    let scheme = if tls.is_some() { "rediss" } else { "redis" };
    let auth = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let fragment = if tls == Some(true) { "#insecure" } else { "" };
    format!("{scheme}://{auth}{host}/{db}{fragment}")
}

fn sentinel(parts: Parts<'_>, tls: bool) -> Result<RedisTarget, UrlError> {
    let tls = tls.then_some(parts.insecure);
    let (master_name, db) = match parts.path.as_slice() {
        [] => return Err(UrlError::NoMasterName),
        [name] => (*name, 0),
        [name, db] => (*name, db.parse().map_err(|_| UrlError::Db(db.to_string()))?),
        [_, _, extra @ ..] => return Err(UrlError::SentinelPath(extra.join("/"))),
    };
    let sentinels = parts
        .hosts
        .iter()
        .map(|h| Ok(node_url(tls, None, &host_port(h, SENTINEL_PORT)?, 0)))
        .collect::<Result<Vec<_>, UrlError>>()?;
    let node_settings = node_url(None, parts.userinfo, "primary", db);
    redis::Client::open(node_settings.as_str())
        .map_err(|e| UrlError::Single(format!("invalid credentials in the Sentinel URL: {e}")))?;
    Ok(RedisTarget::Sentinel(SentinelTarget {
        sentinels,
        master_name: master_name.to_string(),
        node_settings,
        tls,
    }))
}

fn cluster(parts: Parts<'_>, tls: bool) -> Result<RedisTarget, UrlError> {
    let tls = tls.then_some(parts.insecure);
    if let [first, ..] = parts.path.as_slice()
        && *first != "0"
    {
        return Err(UrlError::ClusterPath(parts.path.join("/")));
    }
    let nodes = parts
        .hosts
        .iter()
        .map(|h| Ok(node_url(tls, parts.userinfo, &host_port(h, REDIS_PORT)?, 0)))
        .collect::<Result<Vec<_>, UrlError>>()?;
    Ok(RedisTarget::Cluster(ClusterTarget { nodes, tls }))
}

/// Checks a URL at flag-parse time (clap `value_parser`).
pub fn validate_redis_url(url: &str) -> Result<String, String> {
    RedisTarget::parse(url)
        .map(|_| url.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(url: &str) -> UrlError {
        RedisTarget::parse(url).expect_err(url)
    }

    #[test]
    fn single_server_urls_pass_through_unchanged() {
        for url in [
            "redis://127.0.0.1:6379/",
            "rediss://cache.example:6380/2#insecure",
            "redis://:secret@host/1",
            "unix:///run/redis.sock",
        ] {
            assert_eq!(RedisTarget::parse(url), Ok(RedisTarget::Single(url.into())));
        }
    }

    #[test]
    fn a_sentinel_url_lists_every_sentinel_and_keeps_the_primarys_credentials_and_db() {
        let RedisTarget::Sentinel(t) =
            RedisTarget::parse("redis+sentinel://u:p%40ss@s1:26380,s2,[::1]:26381/mymaster/3")
                .expect("parses")
        else {
            panic!("not a sentinel target");
        };
        assert_eq!(
            t.sentinels,
            vec![
                "redis://s1:26380/0",
                "redis://s2:26379/0",
                "redis://[::1]:26381/0"
            ]
        );
        assert_eq!(t.master_name, "mymaster");
        assert_eq!(t.node_settings, "redis://u:p%40ss@primary/3");
        assert_eq!(t.tls, None);
    }

    #[test]
    fn tls_variants_use_rediss_for_every_node_and_honour_insecure() {
        let RedisTarget::Sentinel(t) =
            RedisTarget::parse("rediss+sentinel://s1:1/m#insecure").expect("parses")
        else {
            panic!("not a sentinel target");
        };
        assert_eq!(t.sentinels, vec!["rediss://s1:1/0#insecure"]);
        assert_eq!(t.tls, Some(true));
        let RedisTarget::Cluster(c) =
            RedisTarget::parse("rediss+cluster://n1:7000").expect("parses")
        else {
            panic!("not a cluster target");
        };
        assert_eq!(
            (c.nodes, c.tls),
            (vec!["rediss://n1:7000/0".into()], Some(false))
        );
    }

    #[test]
    fn a_cluster_url_lists_its_seed_nodes() {
        let parsed = RedisTarget::parse("redis+cluster://:pw@n1:7000,n2:7001/");
        let expected = ClusterTarget {
            nodes: vec![
                "redis://:pw@n1:7000/0".into(),
                "redis://:pw@n2:7001/0".into(),
            ],
            tls: None,
        };
        assert_eq!(parsed, Ok(RedisTarget::Cluster(expected)));
    }

    #[test]
    fn every_malformed_url_is_refused_with_the_problem_named() {
        assert_eq!(err("localhost:6379"), UrlError::NoScheme);
        assert_eq!(err("http://h/"), UrlError::Scheme("http".into()));
        assert_eq!(err("redis+sentinel:///m"), UrlError::NoHost);
        assert_eq!(err("redis+sentinel://s1:26379"), UrlError::NoMasterName);
        assert_eq!(err("redis+sentinel://s1:26379/"), UrlError::NoMasterName);
        assert_eq!(err("redis+sentinel://s1/m/x"), UrlError::Db("x".into()));
        assert_eq!(
            err("redis+sentinel://s1/m/0/x"),
            UrlError::SentinelPath("x".into())
        );
        assert_eq!(
            err("redis+sentinel://s1:0/m"),
            UrlError::HostPort("s1:0".into())
        );
        assert_eq!(
            err("redis+cluster://n1:99999"),
            UrlError::HostPort("n1:99999".into())
        );
        assert_eq!(
            err("redis+cluster://n1:7000,:7001"),
            UrlError::HostPort(":7001".into())
        );
        assert_eq!(err("redis+cluster://,"), UrlError::NoHost);
        assert_eq!(
            err("redis+cluster://n1/2"),
            UrlError::ClusterPath("2".into())
        );
        assert!(matches!(err("redis://h:notaport/"), UrlError::Single(_)));
    }

    #[test]
    fn the_flag_parser_reports_the_problem_in_words() {
        let message = validate_redis_url("redis+sentinel://s1").expect_err("refused");
        assert!(message.contains("master name"), "{message}");
        assert!(validate_redis_url("redis+cluster://n1:7000").is_ok());
    }
}
