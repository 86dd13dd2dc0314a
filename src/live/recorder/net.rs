//! The recorder's own requests: the clock's time requests, over the engine's client (segments
//! go through the engine's entry point for single resources, [`crate::fetch::ResourceFetcher`]).

use crate::fetch::http::error_chain;
use crate::live::clock::{Exchange, TimeFetcher, TimeRequest};
use crate::live::time::UnixNanos;

/// The local system clock, Unix nanoseconds.
pub(crate) fn system_now() -> UnixNanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// The clock's requests over the engine's client (headers, user agent, timeouts included).
pub(crate) struct EngineTime(pub reqwest::Client);

impl TimeFetcher for EngineTime {
    async fn fetch(&mut self, request: &TimeRequest) -> Result<Exchange, String> {
        let (method, url) = match request {
            TimeRequest::Get(u) => (reqwest::Method::GET, u),
            TimeRequest::Head(u) => (reqwest::Method::HEAD, u),
        };
        let sent = system_now();
        let response = self
            .0
            .request(method, url.as_str())
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .bytes()
            .await
            .map_err(|e| error_chain(&e))?
            .to_vec();
        Ok(Exchange {
            sent,
            received: system_now(),
            body,
            date,
        })
    }
}

/// Why a segment could not be had in one try of the recorder.
#[derive(Debug)]
pub(crate) enum SegmentFailure {
    /// 404 or 410: not (or no longer) there; worth asking again until it is due.
    Missing(String),
    /// 401 or 403: the server refuses it; asking again will not help.
    Refused(String),
    /// Anything else, after the engine's retries.
    Failed(String),
    /// The run was cancelled.
    Interrupted,
}

impl SegmentFailure {
    /// Classifies a failure of the engine by the HTTP status that made it.
    pub(crate) fn of(reason: String, status: Option<u16>) -> SegmentFailure {
        match status {
            Some(404 | 410) => SegmentFailure::Missing(reason),
            Some(401 | 403) => SegmentFailure::Refused(reason),
            _ => SegmentFailure::Failed(reason),
        }
    }
}
