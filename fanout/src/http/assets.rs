//! The browser files embedded at build time (see `fanout/build.rs`): the dashboard at `/`, its
//! modules under `/dashboard/`, and the JS client under `/client/` (also `/kubecast.js`).
//! Each answer carries an ETag from its content and `Cache-Control: no-cache`, so a browser
//! revalidates and gets `304 Not Modified` until a new build changes the file.

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
    pub body: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// `/kubecast.js` is the client's entry module re-exported, so `import … from '/kubecast.js'`
/// keeps working while the client's modules live under `/client/`.
static CLIENT_ALIAS: Asset = Asset {
    path: "/kubecast.js",
    content_type: "text/javascript; charset=utf-8",
    etag: "\"client-alias-1\"",
    body: "export * from './client/kubecast.js';\n",
};

/// The embedded file at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    if path == CLIENT_ALIAS.path {
        return Some(&CLIENT_ALIAS);
    }
    ASSETS.iter().find(|a| a.path == path)
}

/// `GET /`, `/kubecast.js`, `/client/{file}`, `/dashboard/{file}`.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let Some(asset) = find(uri.path()) else {
        return ApiError::NotFound(format!("no such file: {}", uri.path())).into_response();
    };
    let cache = [
        (header::ETAG, HeaderValue::from_static(asset.etag)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if matches_etag(&headers, asset.etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    )];
    (cache, content_type, asset.body).into_response()
}

/// `If-None-Match` names this ETag (or `*`).
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == etag || tag == "*" || tag.strip_prefix("W/") == Some(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `'./x.js'` / `'../dir/x.js'` specifiers a module imports (static and re-exports).
    fn relative_imports(body: &str) -> Vec<&str> {
        body.lines()
            .map(str::trim_start)
            .filter(|l| {
                l.starts_with("import ") || l.starts_with("export ") || l.starts_with("} from ")
            })
            .filter_map(|l| l.split(" from ").nth(1))
            .filter_map(|rest| rest.trim().trim_end_matches(';').strip_prefix('\''))
            .filter_map(|spec| spec.strip_suffix('\''))
            .filter(|spec| spec.starts_with("./") || spec.starts_with("../"))
            .collect()
    }

    /// `spec` resolved against the URL `base` the way a browser does for these simple paths.
    fn resolve(base: &str, spec: &str) -> String {
        let mut parts: Vec<&str> = base.split('/').collect();
        parts.pop();
        for segment in spec.split('/') {
            match segment {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/")
    }

    #[test]
    fn every_relative_import_of_a_served_module_is_served_too() {
        let modules = ASSETS
            .iter()
            .chain([&CLIENT_ALIAS])
            .filter(|a| a.content_type.starts_with("text/javascript"));
        let mut checked = 0;
        for asset in modules {
            for spec in relative_imports(asset.body) {
                let target = resolve(asset.path, spec);
                assert!(
                    find(&target).is_some(),
                    "{} imports {spec}, but {target} is not served",
                    asset.path
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "the alias at least imports the client");
    }

    #[test]
    fn the_page_and_the_client_are_embedded_but_not_tests_or_types() {
        for path in ["/", "/client/kubecast.js", "/kubecast.js"] {
            assert!(find(path).is_some(), "{path}");
        }
        assert!(
            ASSETS
                .iter()
                .all(|a| !a.path.contains("/test") && !a.path.ends_with(".ts"))
        );
        assert!(find("/client/testing/fakes.js").is_none());
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let tag = "\"abc\"";
        let with = |v: &'static str| {
            HeaderMap::from_iter([(header::IF_NONE_MATCH, HeaderValue::from_static(v))])
        };
        assert!(matches_etag(&with("\"abc\""), tag));
        assert!(matches_etag(&with("\"x\", W/\"abc\""), tag));
        assert!(matches_etag(&with("*"), tag));
        assert!(!matches_etag(&with("\"abd\""), tag));
        assert!(!matches_etag(&HeaderMap::new(), tag));
    }
}
