//! The recorder's requests, all through the engine's client and its retry loop: the clock's
//! time requests, and one segment into its final file (`.part`, size verified, rename).

use std::io::Write as _;
use std::path::Path;

use futures_util::StreamExt;
use reqwest::StatusCode;
use url::Url;

use crate::fetch::http::{Failure, content_length, error_chain};
use crate::fetch::retry::{Retries, Stop};
use crate::fetch::{Cancel, FetchOptions};
use crate::live::clock::{Exchange, TimeFetcher, TimeRequest};
use crate::live::time::UnixNanos;
use crate::store::OutputDir;

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

/// GETs `url` into `path` under `out`: written to `path.part`, its size checked against
/// `Content-Length`, renamed into place. Transport failures, 408, 429 and 5xx are retried by
/// the engine's loop; 404 and 410 come back at once as [`SegmentFailure::Missing`].
pub(crate) async fn download_segment(
    client: &reqwest::Client,
    out: &OutputDir,
    url: &Url,
    path: &Path,
    options: &FetchOptions,
    cancel: &Cancel,
) -> Result<u64, SegmentFailure> {
    let retries = Retries {
        retries: options.retries,
        backoff_base: options.backoff_base,
        cancel,
    };
    let cap = options.retry_after_cap;
    let mut state = (client, out, url, path, cancel);
    let result = retries
        .run(
            &mut state,
            |_, _, _| {},
            |&mut (client, out, url, path, cancel)| {
                Box::pin(once(client, out, url, path, cancel, cap))
            },
        )
        .await;
    match result {
        Ok(size) => Ok(size),
        Err(Stop::Interrupted) => Err(SegmentFailure::Interrupted),
        Err(Stop::Failure(f))
            if f.reason.starts_with("HTTP 404") || f.reason.starts_with("HTTP 410") =>
        {
            Err(SegmentFailure::Missing(f.reason))
        }
        Err(Stop::Failure(f))
            if f.reason.starts_with("HTTP 401") || f.reason.starts_with("HTTP 403") =>
        {
            Err(SegmentFailure::Refused(f.reason))
        }
        Err(Stop::Failure(f)) => Err(SegmentFailure::Failed(f.reason)),
    }
}

/// One attempt.
async fn once(
    client: &reqwest::Client,
    out: &OutputDir,
    url: &Url,
    path: &Path,
    cancel: &Cancel,
    retry_after_cap: std::time::Duration,
) -> Result<u64, Stop> {
    let response = tokio::select! {
        r = client.get(url.clone()).send() => r.map_err(|e| Failure::transport(&e))?,
        _ = cancel.cancelled() => return Err(Stop::Interrupted),
    };
    if response.status() != StatusCode::OK {
        return Err(Failure::status(&response, retry_after_cap).into());
    }
    let expected = content_length(response.headers());
    let store = |e: crate::store::StoreError| Stop::from(Failure::fatal(e.to_string()));
    let slot = out.slot(path).map_err(store)?;
    let mut file = slot.open_part(false).map_err(store)?;
    let mut written: u64 = 0;
    let mut body = response.bytes_stream();
    loop {
        let next = tokio::select! {
            next = body.next() => next,
            _ = cancel.cancelled() => {
                slot.remove_part();
                return Err(Stop::Interrupted);
            }
        };
        match next {
            Some(Ok(chunk)) => {
                file.write_all(&chunk).map_err(|e| {
                    Stop::from(Failure::fatal(format!(
                        "{}: {e}",
                        slot.part_path().display()
                    )))
                })?;
                written += chunk.len() as u64;
            }
            Some(Err(e)) => {
                slot.remove_part();
                return Err(Failure::retry(format!(
                    "connection lost after {written} bytes: {}",
                    error_chain(&e)
                ))
                .into());
            }
            None => break,
        }
    }
    if let Some(expected) = expected
        && expected != written
    {
        slot.remove_part();
        return Err(
            Failure::retry(format!("got {written} bytes of the {expected} announced")).into(),
        );
    }
    drop(file);
    slot.rename_part().map_err(store)?;
    Ok(written)
}
