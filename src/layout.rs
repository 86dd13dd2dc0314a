//! The one mapping from a segment URL to a path under the output folder.
//!
//! - Same origin as the manifest and below the manifest's folder: the same relative path.
//! - Anywhere else: `HOST[_PORT]/full/path`, a folder per host under the output folder.
//!
//! Every path component is percent-decoded and then made safe: it can never be `..`, `.`,
//! empty, absolute, or contain a separator or a control character, so that no manifest can
//! make a path that leaves the output folder (`..`, `%2e%2e`, `%2f`, `%5c`, absolute URLs).

use std::path::{Path, PathBuf};

use url::Url;

/// Longest file name component written (bytes); longer ones are cut and given a hash suffix.
const MAX_COMPONENT: usize = 200;

/// The path, relative to the output folder, of the resource at `resource`, for a manifest at
/// `manifest`. The URL's query and fragment do not take part (see [`with_query_suffix`]).
pub fn local_path(manifest: &Url, resource: &Url) -> PathBuf {
    let manifest_dir = manifest_folder(manifest);
    let same_origin = manifest.scheme() == resource.scheme()
        && manifest.host_str() == resource.host_str()
        && manifest.port_or_known_default() == resource.port_or_known_default();
    let path = resource.path();
    let mut out = PathBuf::new();
    let relative = match path.strip_prefix(manifest_dir) {
        Some(rest) if same_origin => rest,
        _ => {
            out.push(host_folder(resource));
            path
        }
    };
    let mut pushed = false;
    for raw in relative.split('/') {
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        if let Some(component) = safe_component(&decoded) {
            out.push(component);
            pushed = true;
        }
    }
    if !pushed || path.ends_with('/') {
        // A URL naming a folder (`https://host/` or `.../dir/`) still needs a file name.
        out.push("_index");
    }
    out
}

/// Appends a sanitised form of the URL's query (or, without one, a hash of the URL) to the
/// file name of `path`: used by the plan when different URLs would otherwise share a path.
pub fn with_query_suffix(path: &Path, resource: &Url) -> PathBuf {
    let suffix = match resource.query() {
        Some(q) if !q.is_empty() => {
            sanitize(&percent_encoding::percent_decode_str(q).decode_utf8_lossy())
        }
        _ => format!("{:016x}", fnv1a(resource.as_str().as_bytes())),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let combined = shorten(format!("{name}_{suffix}"));
    path.with_file_name(combined)
}

/// Appends a hash of the whole URL to the file name of `path`: for different URLs whose
/// names are still equal once their queries are in them.
pub fn with_url_hash_suffix(path: &Path, resource: &Url) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hash = fnv1a(resource.as_str().as_bytes());
    path.with_file_name(shorten(format!("{name}_{hash:016x}")))
}

/// Longest file name component written (bytes): names of segments are analysed against it.
pub const MAX_NAME: usize = MAX_COMPONENT;

/// The manifest's folder as a URL path prefix ending in `/`: a resource of the same origin
/// whose path starts with it keeps its path below it.
pub fn manifest_folder(manifest: &Url) -> &str {
    let path = manifest.path();
    match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    }
}

fn host_folder(resource: &Url) -> String {
    let host = resource.host_str().unwrap_or("local");
    let name = match resource.port() {
        Some(port) => format!("{host}_{port}"),
        None => host.to_string(),
    };
    safe_component(&name).unwrap_or_else(|| "_host".to_string())
}

/// A path component made safe, or `None` for one that adds nothing (empty, `.`).
fn safe_component(decoded: &str) -> Option<String> {
    if decoded.is_empty() || decoded == "." {
        return None;
    }
    let mut name = sanitize(decoded);
    if name.bytes().all(|b| b == b'.') {
        // `..` and friends, also when they came percent-encoded.
        name = name.replace('.', "_");
    }
    Some(shorten(name))
}

/// Replaces separators, control characters and characters that are unsafe in file names.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '\0'..='\u{1f}' | '\u{7f}' => {
                '_'
            }
            _ => c,
        })
        .collect()
}

/// Cuts an over-long name, keeping it unique with a hash of the whole.
fn shorten(name: String) -> String {
    if name.len() <= MAX_COMPONENT {
        return name;
    }
    let mut cut = MAX_COMPONENT - 17;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{:016x}", &name[..cut], fnv1a(name.as_bytes()))
}

/// FNV-1a, 64-bit: a stable hash for names (stable across runs and versions, unlike std's).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::path::Component;

    use super::*;

    fn path(manifest: &str, resource: &str) -> String {
        let m = Url::parse(manifest).expect("manifest URL");
        let r = Url::parse(resource).expect("resource URL");
        local_path(&m, &r).to_string_lossy().into_owned()
    }

    #[test]
    fn mirrors_the_manifest_layout() {
        let m = "https://cdn.example/show/manifest.mpd";
        let rows: &[(&str, &str)] = &[
            (
                "https://cdn.example/show/video/seg-1.m4s",
                "video/seg-1.m4s",
            ),
            ("https://cdn.example/show/init.mp4?token=abc", "init.mp4"),
            ("https://cdn.example/show/a%20b.m4s", "a b.m4s"),
            (
                "https://cdn.example/other/seg.m4s",
                "cdn.example/other/seg.m4s",
            ),
            (
                "https://cdn.example:8443/show/seg.m4s",
                "cdn.example_8443/show/seg.m4s",
            ),
            (
                "http://cdn.example/show/seg.m4s",
                "cdn.example/show/seg.m4s",
            ),
            ("https://other.example/x/y.m4s", "other.example/x/y.m4s"),
            ("https://cdn.example/show/dir/", "dir/_index"),
        ];
        for (resource, want) in rows {
            assert_eq!(path(m, resource), *want, "{resource}");
        }
    }

    #[test]
    fn never_escapes() {
        let m = "https://cdn.example/show/manifest.mpd";
        let hostile = [
            "https://cdn.example/show/%2e%2e/%2e%2e/etc/passwd",
            "https://cdn.example/show/..%2f..%2fetc%2fpasswd",
            "https://cdn.example/show/%2E%2E%5C%2E%2E%5Cwin",
            "https://cdn.example/show/a/%2e%2e%2f%2e%2e%2f%2e%2e%2fx",
            "https://cdn.example/show/%00nul",
            "https://cdn.example/",
            "https://evil.example/../../../../x",
            "file:///etc/passwd",
        ];
        for resource in hostile {
            let p = local_path(
                &Url::parse(m).expect("m"),
                &Url::parse(resource).expect("r"),
            );
            assert!(
                p.components().all(|c| matches!(c, Component::Normal(_))),
                "{resource} -> {p:?}"
            );
            assert!(!p.as_os_str().is_empty());
        }
        // The URL parser already resolves `%2e%2e` as `..` (WHATWG URL): outside the manifest's
        // folder, so under the host's folder.
        assert_eq!(
            path(m, "https://cdn.example/show/%2e%2e/x"),
            "cdn.example/x"
        );
        assert_eq!(path(m, "https://cdn.example/show/..%2fx"), ".._x");
    }

    #[test]
    fn query_suffix_and_long_names() {
        let r = Url::parse("https://h/seg.m4s?n=1&q=a/b").expect("url");
        assert_eq!(
            with_query_suffix(&PathBuf::from("d/seg.m4s"), &r),
            PathBuf::from("d/seg.m4s_n=1&q=a_b")
        );
        let long = format!("https://cdn.example/show/{}.m4s", "a".repeat(400));
        let p = path("https://cdn.example/show/m.mpd", &long);
        assert!(p.len() <= MAX_COMPONENT, "{}", p.len());
    }
}
