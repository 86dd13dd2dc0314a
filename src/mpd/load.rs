//! Reading a manifest's bytes from an http(s) URL or a local file.

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

/// Why a manifest could not be read.
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
    /// A transport failure.
    #[error("{url}: cannot fetch the manifest: {message}")]
    Http {
        /// The URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// A non-success HTTP status.
    #[error("{url}: the server answered HTTP {status} for the manifest")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
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

/// Reads the manifest named by `source` (an http(s) URL or a file path). `base_url`, when given,
/// replaces the manifest's own location for resolving relative URLs.
pub async fn load(
    source: &str,
    base_url: Option<&str>,
    client: &reqwest::Client,
) -> Result<LoadedManifest, LoadError> {
    let (bytes, own_url) = if is_url(source) {
        let url = Url::parse(source).map_err(|e| LoadError::BadUrl(source.to_string(), e))?;
        let http = |message: String| LoadError::Http {
            url: source.to_string(),
            message,
        };
        let response = client
            .get(url)
            .send()
            .await
            .map_err(|e| http(error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(LoadError::Status {
                url: source.to_string(),
                status: status.as_u16(),
            });
        }
        let final_url = response.url().clone();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_MANIFEST_BYTES as u64)
        {
            return Err(http(format!("larger than {MAX_MANIFEST_BYTES} bytes")));
        }
        let bytes = response.bytes().await.map_err(|e| http(error_chain(&e)))?;
        (bytes.to_vec(), final_url)
    } else {
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
        (bytes, url)
    };
    let file_name = own_url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|s| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\']))
        .unwrap_or_else(|| "manifest.mpd".to_string());
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

/// An error and its causes on one line (`error sending request: connection refused`).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
