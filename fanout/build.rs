//! Embeds the browser files (`web/index.html`, `web/client/*.js`, `web/dashboard/*.{js,css}`) in
//! the fanout binary: writes `$OUT_DIR/web_assets.rs`, a table of `Asset`s with their bytes
//! (`include_str!`), content type and an ETag computed from the content.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

/// (directory under `web/`, URL prefix) of the served folders; only their top-level files are
/// served (tests and test fakes live in subfolders).
const SERVED_DIRS: &[(&str, &str)] = &[("client", "/client/"), ("dashboard", "/dashboard/")];

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    let mut assets = vec![("/".to_string(), web.join("index.html"))];
    println!(
        "cargo:rerun-if-changed={}",
        web.join("index.html").display()
    );
    for (dir, prefix) in SERVED_DIRS {
        let dir = web.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        assets.extend(
            served_files(&dir)
                .into_iter()
                .map(|(name, path)| (format!("{prefix}{name}"), path)),
        );
    }
    assets.sort();
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web_assets.rs");
    fs::write(out, table(&assets)).expect("write web_assets.rs");
}

/// The `.js`, `.css` and `.html` files directly in `dir` (none when it does not exist).
fn served_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("read web directory").path())
        .filter(|p| p.is_file() && content_type(p).is_some())
        .map(|p| {
            (
                p.file_name()
                    .expect("a file has a name")
                    .to_string_lossy()
                    .into_owned(),
                p,
            )
        })
        .collect()
}

fn content_type(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()? {
        "js" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "html" => Some("text/html; charset=utf-8"),
        _ => None,
    }
}

fn table(assets: &[(String, PathBuf)]) -> String {
    let mut out = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (url, path) in assets {
        println!("cargo:rerun-if-changed={}", path.display());
        let body = fs::read(path).expect("read web asset");
        let path = path.canonicalize().expect("canonical asset path");
        writeln!(
            out,
            "    Asset {{ path: {url:?}, content_type: {:?}, etag: \"\\\"{:016x}\\\"\", body: include_str!({:?}) }},",
            content_type(&path).expect("filtered by extension"),
            fnv1a(&body),
            path.display().to_string(),
        )
        .expect("write to a String");
    }
    out.push_str("];\n");
    out
}

/// 64-bit FNV-1a: a stable content hash for the ETag (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
