//! Fetching a manifest over HTTP with the engine's own client code: the same retries, backoff,
//! `Retry-After`, timeouts, cancellation and error reporting as a segment. Made to be called
//! again and again (a live manifest is fetched every few seconds): it returns the bytes, the
//! final URL after redirects and the headers a refresh needs (`Date` for the clock, `ETag` and
//! `Last-Modified` for the next conditional GET). Following an MPD `Location` is the caller's.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header;
use url::Url;

use super::events::{Event, ProgressSink};
use super::http::{Failure, error_chain, header_str};
use super::retry::{Retries, Stop};
use super::{Cancel, FetchOptions};
use crate::mpd::{MAX_MANIFEST_BYTES, file_name_of};

/// The validators of an earlier answer, for a conditional GET (`If-None-Match`,
/// `If-Modified-Since`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestValidators {
    /// The `ETag` of the earlier answer.
    pub etag: Option<String>,
    /// The `Last-Modified` of the earlier answer.
    pub last_modified: Option<String>,
}

impl ManifestValidators {
    /// Whether there is anything to make a request conditional on.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// One successful fetch of a manifest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The bytes as served; `None` when a conditional GET was answered `304 Not Modified`.
    pub bytes: Option<Vec<u8>>,
    /// The URL after redirects (relative references in the manifest resolve against it).
    pub final_url: Url,
    /// The server's `Date` header, for a clock without `UTCTiming`.
    pub date: Option<SystemTime>,
    /// The `Age` header (seconds a cache has held the response), to tell a stale manifest.
    pub age: Option<u64>,
    /// The answer's validators, for the next conditional GET (those of the request when the
    /// answer is 304 and names none).
    pub validators: ManifestValidators,
    /// When the successful request was sent (`minimumUpdatePeriod` counts from the start of the
    /// fetch), on the local clock.
    pub requested_at: SystemTime,
    /// Time from sending the request to receiving the headers: the uncertainty of `date`.
    pub round_trip: Duration,
}

/// Why a manifest could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Every attempt failed, or the failure is not worth retrying (404, 403, too large…).
    #[error("{url}: cannot fetch the manifest: {reason}")]
    Fetch {
        /// The URL asked for.
        url: String,
        /// What went wrong (with the number of attempts when retried).
        reason: String,
    },
    /// The run was cancelled meanwhile.
    #[error("{url}: interrupted while fetching the manifest")]
    Interrupted {
        /// The URL asked for.
        url: String,
    },
}

/// GETs the manifest at `url` (conditionally when `previous` holds validators), retrying
/// transport failures, 408, 429 and 5xx like a segment, and reporting retries to `sink`.
pub async fn fetch_manifest(
    client: &reqwest::Client,
    url: &Url,
    previous: Option<&ManifestValidators>,
    options: &FetchOptions,
    sink: &dyn ProgressSink,
    cancel: &Cancel,
) -> Result<FetchedManifest, ManifestError> {
    let name = file_name_of(url);
    let retries = Retries::of(options, cancel);
    let announce = |attempt, delay, reason: &str| {
        sink.event(&Event::Retrying {
            path: Path::new(&name),
            url,
            attempt,
            delay,
            reason,
        })
    };
    let mut request = (client, url, previous, options, cancel);
    let result = retries
        .run(
            &mut request,
            announce,
            |&mut (client, url, previous, options, cancel)| {
                Box::pin(once(client, url, previous, options, cancel))
            },
        )
        .await;
    result.map_err(|stop| match stop {
        Stop::Interrupted => ManifestError::Interrupted {
            url: url.to_string(),
        },
        Stop::Failure(f) => ManifestError::Fetch {
            url: url.to_string(),
            reason: f.reason,
        },
    })
}

/// One attempt.
async fn once(
    client: &reqwest::Client,
    url: &Url,
    previous: Option<&ManifestValidators>,
    options: &FetchOptions,
    cancel: &Cancel,
) -> Result<FetchedManifest, Stop> {
    let mut request = client.get(url.clone());
    if let Some(previous) = previous {
        if let Some(etag) = &previous.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = &previous.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, date);
        }
    }
    let requested_at = SystemTime::now();
    let sent = Instant::now();
    let response = tokio::select! {
        response = request.send() => response.map_err(|e| Failure::transport(&e))?,
        _ = cancel.cancelled() => return Err(Stop::Interrupted),
    };
    let round_trip = sent.elapsed();
    let status = response.status();
    let headers = response.headers();
    let date = header_str(headers, header::DATE).and_then(|d| httpdate::parse_http_date(&d).ok());
    let age = header_str(headers, header::AGE).and_then(|a| a.trim().parse().ok());
    let mut validators = ManifestValidators {
        etag: header_str(headers, header::ETAG),
        last_modified: header_str(headers, header::LAST_MODIFIED),
    };
    let final_url = response.url().clone();
    let not_modified =
        status == StatusCode::NOT_MODIFIED && previous.is_some_and(|p| !p.is_empty());
    if not_modified {
        if validators.is_empty()
            && let Some(previous) = previous
        {
            validators = previous.clone();
        }
        return Ok(FetchedManifest {
            bytes: None,
            final_url,
            date,
            age,
            validators,
            requested_at,
            round_trip,
        });
    }
    if status != StatusCode::OK {
        return Err(if status.is_success() || status.is_redirection() {
            Failure::fatal(format!(
                "unexpected answer HTTP {}",
                super::http::status_text(status)
            ))
        } else {
            Failure::status(&response, options.retry_after_cap)
        }
        .into());
    }
    let too_large = || Failure::fatal(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|n| n > MAX_MANIFEST_BYTES as u64)
    {
        return Err(too_large().into());
    }
    let mut bytes = Vec::new();
    let mut body = response.bytes_stream();
    loop {
        let next = tokio::select! {
            next = body.next() => next,
            _ = cancel.cancelled() => return Err(Stop::Interrupted),
        };
        match next {
            Some(Ok(chunk)) => {
                if bytes.len() + chunk.len() > MAX_MANIFEST_BYTES {
                    return Err(too_large().into());
                }
                bytes.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                return Err(Failure::retry(format!(
                    "connection lost after {} bytes: {}",
                    bytes.len(),
                    error_chain(&e)
                ))
                .into());
            }
            None => break,
        }
    }
    Ok(FetchedManifest {
        bytes: Some(bytes),
        final_url,
        date,
        age,
        validators,
        requested_at,
        round_trip,
    })
}
