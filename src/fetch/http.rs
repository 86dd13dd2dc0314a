//! HTTP details: the client, header parsing (`Content-Range`, `Retry-After`), and which failures
//! are worth retrying.

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Certificate, Client, Response, StatusCode};

use super::{FetchError, FetchOptions};

/// Builds the one client of a run: pooled keep-alive connections (as many idle per host as
/// requests in flight), HTTP/2 when the server offers it by ALPN, connect and idle-read timeouts
/// (no whole-request limit: a large file on a slow link is fine as long as bytes flow), no
/// content decoding (files must stay byte-identical); the system's roots of trust plus those of
/// `options.ca_certs`, or no certificate check at all with `options.insecure`.
pub fn build_client(options: &FetchOptions) -> Result<Client, FetchError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &options.headers {
        let bad = || FetchError::Header(format!("{name}: {value}"));
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value).map_err(|_| bad())?;
        headers.append(name, value);
    }
    let user_agent = options
        .user_agent
        .clone()
        .unwrap_or_else(|| concat!("dashget/", env!("CARGO_PKG_VERSION")).to_string());
    let mut builder = Client::builder()
        .user_agent(user_agent)
        .default_headers(headers)
        .connect_timeout(options.timeout)
        .read_timeout(options.timeout)
        .pool_max_idle_per_host(options.threads.max(1))
        .tcp_nodelay(true);
    for path in &options.ca_certs {
        let bad = |reason: String| FetchError::CaCert {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certs = Certificate::from_pem_bundle(&pem).map_err(|e| bad(error_chain(&e)))?;
        if certs.is_empty() {
            return Err(bad("no PEM certificate in it".into()));
        }
        builder = builder.tls_certs_merge(certs);
    }
    if options.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| FetchError::Client(error_chain(&e)))
}

/// Parses `-H "Name: value"`.
pub fn parse_header(text: &str) -> Option<(String, String)> {
    let (name, value) = text.split_once(':')?;
    let name = name.trim();
    if name.is_empty() || HeaderName::from_bytes(name.as_bytes()).is_err() {
        return None;
    }
    let value = value.trim();
    HeaderValue::from_str(value).ok()?;
    Some((name.to_string(), value.to_string()))
}

/// Why an attempt failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub reason: String,
    pub retryable: bool,
    pub retry_after: Option<Duration>,
    /// The HTTP status that made it, if one did.
    pub status: Option<u16>,
}

impl Failure {
    pub fn retry(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            retryable: true,
            retry_after: None,
            status: None,
        }
    }

    pub fn fatal(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            retryable: false,
            retry_after: None,
            status: None,
        }
    }

    /// A transport error (connect, reset, timeout, broken body): always worth another attempt.
    pub fn transport(error: &reqwest::Error) -> Failure {
        let what = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "connection failed"
        } else if error.is_body() || error.is_decode() {
            "connection lost mid-body"
        } else {
            "request failed"
        };
        Failure::retry(format!("{what}: {}", error_chain(error)))
    }

    /// An HTTP status that is not a success: 408, 429 and 5xx are retried (with the server's
    /// `Retry-After`, capped), the rest (404, 403, 410, …) fail at once.
    pub fn status(response: &Response, retry_after_cap: Duration) -> Failure {
        let retry_after = retry_after(response.headers(), retry_after_cap);
        Failure::of_status(response.status(), retry_after)
    }

    /// [`Failure::status`] from the status and the server's `Retry-After` (capped).
    pub fn of_status(status: StatusCode, retry_after: Option<Duration>) -> Failure {
        let retryable = retryable_status(status);
        Failure {
            reason: format!("HTTP {}", status_text(status)),
            retryable,
            retry_after: retry_after.filter(|_| retryable),
            status: Some(status.as_u16()),
        }
    }
}

/// The server's `Retry-After`, capped.
pub(crate) fn retry_after(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    header_str(headers, header::RETRY_AFTER)
        .and_then(|v| parse_retry_after(&v, SystemTime::now()))
        .map(|d| d.min(cap))
}

/// 408, 429 and every 5xx.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// "404 Not Found".
pub(crate) fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(text) => format!("{} {text}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// An error and its sources on one line, `: `-separated, each cause once: reqwest's own message
/// alone rarely says what broke, and an error that shows its source in its own message (an OS
/// error under a path) is not repeated. The binaries print every error this way.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// A header's value as text, if present and visible ASCII.
pub(crate) fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(|s| s.trim().to_string())
}

/// The `Content-Length` header (read from the headers: for HEAD the body is empty).
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    header_str(headers, header::CONTENT_LENGTH)?.parse().ok()
}

/// A parsed `Content-Range: bytes first-last/total` (or `bytes */total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContentRange {
    /// First and last byte sent, `None` for `*` (in a 416 answer).
    pub range: Option<(u64, u64)>,
    /// The resource's total size, `None` for `*`.
    pub total: Option<u64>,
}

/// RFC 9110 §14.4.
pub(crate) fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse::<u64>().ok()?),
    };
    let range = match range.trim() {
        "*" => None,
        r => {
            let (first, last) = r.split_once('-')?;
            let first: u64 = first.trim().parse().ok()?;
            let last: u64 = last.trim().parse().ok()?;
            if last < first || total.is_some_and(|t| last >= t) {
                return None;
            }
            Some((first, last))
        }
    };
    if range.is_none() && total.is_none() {
        return None;
    }
    Some(ContentRange { range, total })
}

/// RFC 9110 §10.2.3: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An `If-Range` validator: a strong ETag (weak ones are not allowed there), else Last-Modified.
pub(crate) fn if_range_value(etag: Option<&str>, last_modified: Option<&str>) -> Option<String> {
    match etag {
        Some(tag) if !tag.starts_with("W/") => Some(tag.to_string()),
        _ => last_modified.map(str::to_string),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        let cases = [
            (
                "bytes 0-0/1234",
                Some(ContentRange {
                    range: Some((0, 0)),
                    total: Some(1234),
                }),
            ),
            (
                "bytes 100-199/*",
                Some(ContentRange {
                    range: Some((100, 199)),
                    total: None,
                }),
            ),
            (
                "bytes */500",
                Some(ContentRange {
                    range: None,
                    total: Some(500),
                }),
            ),
            ("bytes 5-4/10", None),
            ("bytes 0-10/10", None),
            ("bytes */*", None),
            ("items 0-1/2", None),
            ("bytes x-1/2", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_content_range(text), expected, "{text}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn headers_from_the_command_line() {
        assert_eq!(
            parse_header("X-Token: a b"),
            Some(("X-Token".into(), "a b".into()))
        );
        assert_eq!(
            parse_header("Cookie:x=1"),
            Some(("Cookie".into(), "x=1".into()))
        );
        assert_eq!(parse_header("no colon"), None);
        assert_eq!(parse_header(": v"), None);
        assert_eq!(parse_header("Bad Name: v"), None);
    }

    #[test]
    fn if_range_prefers_strong_etag() {
        assert_eq!(
            if_range_value(Some("\"a\""), Some("d")),
            Some("\"a\"".into())
        );
        assert_eq!(if_range_value(Some("W/\"a\""), Some("d")), Some("d".into()));
        assert_eq!(if_range_value(Some("W/\"a\""), None), None);
        assert_eq!(if_range_value(None, None), None);
    }
}
