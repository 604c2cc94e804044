//! Every Redis key Kubecast uses, in one place (DESIGN §1). All keys of one cluster share the hash
//! tag `{<cluster>}` so they live on one Redis Cluster slot and one Lua script may touch them all.
//! No other module spells a key.

/// The keys of one cluster's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterKeys {
    /// Stream of events, entry ID `<seq>-0`, fields `e` (event JSON), `ns`, `kind`.
    pub log: String,
    /// Hash `Kind/namespace/name` → the event JSON that last changed the object (carries its `seq`).
    pub objects: String,
    /// Hash with `epoch`, `seq` (head), `fence` and `created` (ms).
    pub meta: String,
}

impl ClusterKeys {
    /// Keys for `cluster`. The name must not contain `{` or `}` (it would break the hash tag).
    pub fn new(cluster: &str) -> Self {
        Self {
            log: format!("kubecast:{{{cluster}}}:log"),
            objects: format!("kubecast:{{{cluster}}}:objects"),
            meta: format!("kubecast:{{{cluster}}}:meta"),
        }
    }
}

/// Checks that a cluster name is usable inside a hash tag.
pub fn validate_cluster_name(cluster: &str) -> Result<(), String> {
    if cluster.is_empty() || cluster.len() > 128 {
        return Err("cluster name must be 1..=128 characters".into());
    }
    if cluster
        .chars()
        .any(|c| c == '{' || c == '}' || c.is_whitespace())
    {
        return Err("cluster name must not contain braces or whitespace".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_one_hash_tag() {
        let k = ClusterKeys::new("prod");
        assert_eq!(k.log, "kubecast:{prod}:log");
        assert_eq!(k.objects, "kubecast:{prod}:objects");
        assert_eq!(k.meta, "kubecast:{prod}:meta");
    }

    #[test]
    fn cluster_names_with_braces_are_refused() {
        assert!(validate_cluster_name("a{b").is_err());
        assert!(validate_cluster_name("").is_err());
        assert!(validate_cluster_name("prod-eu1").is_ok());
    }
}
