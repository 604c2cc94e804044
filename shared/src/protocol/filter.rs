//! Subscription filters: which namespaces and kinds a client wants (DESIGN §3 `ns=`, `kinds=`).

use std::collections::BTreeSet;

/// A namespace/kind filter. `None` means "all".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub namespaces: Option<BTreeSet<String>>,
    pub kinds: Option<BTreeSet<String>>,
}

impl Filter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Builds a filter from the comma-separated `ns` and `kinds` query values. Empty items are
    /// ignored; an empty or absent list means "all".
    pub fn from_lists(ns: Option<&str>, kinds: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            namespaces: parse_list("ns", ns)?,
            kinds: parse_list("kinds", kinds)?,
        })
    }

    /// Builds a filter from JSON arrays (the `subscribe` message).
    pub fn from_vecs(ns: Option<Vec<String>>, kinds: Option<Vec<String>>) -> Result<Self, String> {
        Ok(Self {
            namespaces: set_from("ns", ns)?,
            kinds: set_from("kinds", kinds)?,
        })
    }

    pub fn matches(&self, ns: &str, kind: &str) -> bool {
        self.namespaces.as_ref().is_none_or(|set| set.contains(ns))
            && self.kinds.as_ref().is_none_or(|set| set.contains(kind))
    }

    pub fn is_all(&self) -> bool {
        self.namespaces.is_none() && self.kinds.is_none()
    }
}

const MAX_ITEMS: usize = 256;
const MAX_ITEM_LEN: usize = 253;

fn parse_list(what: &str, raw: Option<&str>) -> Result<Option<BTreeSet<String>>, String> {
    let items = raw.map(|r| {
        r.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    });
    set_from(what, items)
}

fn set_from(what: &str, items: Option<Vec<String>>) -> Result<Option<BTreeSet<String>>, String> {
    let Some(items) = items else { return Ok(None) };
    if items.len() > MAX_ITEMS {
        return Err(format!("{what}: at most {MAX_ITEMS} items"));
    }
    if let Some(bad) = items.iter().find(|s| !valid_item(s)) {
        let shown: String = bad.chars().take(40).collect();
        return Err(format!("{what}: invalid item {shown:?}"));
    }
    let set: BTreeSet<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
    Ok(if set.is_empty() { None } else { Some(set) })
}

/// Namespaces are DNS labels and kinds are identifiers; allow that alphabet (plus `.` for
/// group-qualified kinds) and nothing else.
fn valid_item(s: &str) -> bool {
    s.len() <= MAX_ITEM_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_or_empty_lists_mean_everything() {
        let f = Filter::from_lists(None, Some("")).expect("valid");
        assert!(f.is_all());
        assert!(f.matches("any", "Pod"));
    }

    #[test]
    fn lists_restrict_namespaces_and_kinds() {
        let f = Filter::from_lists(Some("shop, web"), Some("Pod")).expect("valid");
        assert!(f.matches("shop", "Pod"));
        assert!(!f.matches("shop", "Service"));
        assert!(!f.matches("kube-system", "Pod"));
    }

    #[test]
    fn hostile_items_are_refused() {
        assert!(Filter::from_lists(Some("a b"), None).is_err());
        assert!(Filter::from_lists(None, Some("Pod\"}")).is_err());
        assert!(Filter::from_vecs(Some(vec!["x".repeat(300)]), None).is_err());
    }
}
