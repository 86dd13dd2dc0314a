//! A manifest's bytes as read, and where they are resolved against. Reading a local file is
//! here; fetching a URL is the engine's (`fetch::fetch_manifest`, with the retries, timeouts
//! and error reporting of every request): this module knows no network.

use std::path::Path;

use url::Url;

/// A manifest as read: its bytes, the URL it is resolved against, and its own file name.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The bytes, exactly as served or stored (saved byte-identical by dashget).
    pub bytes: Vec<u8>,
    /// The URL relative references resolve against: `--base-url` if given, else the final URL
    /// after redirects, else the file's `file://` URL.
    pub url: Url,
    /// The manifest's own file name (last path segment; `manifest.mpd` when the URL has none).
    pub file_name: String,
}

/// Why a manifest could not be read (from a file) or located.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A local file that could not be read.
    #[error("{path}: cannot read the manifest: {source}")]
    File {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `--base-url` or a URL argument that is not a valid URL.
    #[error("invalid URL \"{0}\": {1}")]
    BadUrl(String, url::ParseError),
}

/// Largest manifest accepted (real ones are at most a few MB).
pub const MAX_MANIFEST_BYTES: usize = 256 * 1024 * 1024;

/// Whether a command-line manifest argument names a URL rather than a file.
pub fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Reads a manifest file: its bytes and its `file://` URL.
pub fn read_file(source: &str) -> Result<(Vec<u8>, Url), LoadError> {
    let file_err = |error: std::io::Error| LoadError::File {
        path: source.to_string(),
        source: error,
    };
    let path = Path::new(source);
    let bytes = std::fs::read(path).map_err(file_err)?;
    let absolute = std::path::absolute(path).map_err(file_err)?;
    let url = Url::from_file_path(&absolute).map_err(|()| LoadError::File {
        path: source.to_string(),
        source: std::io::Error::other("not an absolute path"),
    })?;
    Ok((bytes, url))
}

/// A manifest's own file name: the last path segment of its URL, decoded, when it is a usable
/// file name, else `manifest.mpd`.
pub fn file_name_of(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|s| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\']))
        .unwrap_or_else(|| "manifest.mpd".to_string())
}

impl LoadedManifest {
    /// A manifest read from `own_url` (the final URL after redirects, or the file's URL),
    /// resolved against `base_url` when given.
    pub fn new(
        bytes: Vec<u8>,
        own_url: Url,
        base_url: Option<&str>,
    ) -> Result<LoadedManifest, LoadError> {
        let file_name = file_name_of(&own_url);
        let url = match base_url {
            Some(b) => Url::parse(b).map_err(|e| LoadError::BadUrl(b.to_string(), e))?,
            None => own_url,
        };
        Ok(LoadedManifest {
            bytes,
            url,
            file_name,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let cases = [
            ("http://h/a/b/live.mpd?x=1", "live.mpd"),
            ("http://h/a/b/", "manifest.mpd"),
            ("http://h/a/b/m%20x.mpd", "m x.mpd"),
            ("http://h/a/%2e%2e", "manifest.mpd"),
            ("http://h/a/x%2Fy.mpd", "manifest.mpd"),
        ];
        for (url, name) in cases {
            assert_eq!(file_name_of(&Url::parse(url).unwrap()), name, "{url}");
        }
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let error = read_file("no/such/manifest.mpd").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("no/such/manifest.mpd: cannot read the manifest")
        );
    }
}
