//! One download unit (a resource: one URL, one local file) from "maybe on disk" to "complete
//! under its final name": journal check, server size check, resume, retries, verification.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::sync::OwnedSemaphorePermit;

use super::Context;
use super::Resource;
use super::events::{Event, FileStatus};
use super::http::{
    Failure, content_length, error_chain, header_str, if_range_value, parse_content_range,
    status_text,
};
use crate::store::{self, ENTRY_DONE, ENTRY_PART, JournalEntry};

/// All write buffers together (one per request in flight) stay within this.
const MAX_BUFFERS: usize = 32 * 1024 * 1024;

/// Longest time received bytes wait in the buffer before being written to the part file.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// How a resource ended in this run.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Complete under its final name.
    Complete { status: FileStatus, size: u64 },
    /// Failed for good (reason).
    Failed(String),
    /// Stopped by cancellation; a part file may remain for the next run.
    Interrupted,
}

/// Why an attempt did not complete the file.
enum Stop {
    Failure(Failure),
    Interrupted,
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Stop {
        Stop::Failure(f)
    }
}

/// What the server says a resource is.
#[derive(Debug, Default)]
struct ServerInfo {
    size: Option<u64>,
    etag: Option<String>,
    last_modified: Option<String>,
}

fn validators(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    (
        header_str(headers, header::ETAG),
        header_str(headers, header::LAST_MODIFIED),
    )
}

/// Brings one resource to completion (or failure).
pub(crate) async fn complete(
    ctx: &Context,
    res: &Resource,
    mut permit: Option<OwnedSemaphorePermit>,
) -> Outcome {
    let key = store::journal_key(&res.path);
    // Checked now; its folders are created only when there is something to write.
    let final_path = match ctx.out.resolve(&res.path) {
        Ok(path) => path,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let local = store::file_size(&final_path).filter(|&size| size >= res.min_size);
    if let Some(size) = local {
        let journalled = ctx
            .journal
            .done(&key)
            .is_some_and(|e| e.url == res.url.as_str() && e.size == Some(size));
        if journalled && !ctx.options.verify {
            ctx.sink.event(&Event::Expected { bytes: size });
            return Outcome::Complete {
                status: FileStatus::AlreadyComplete,
                size,
            };
        }
        // Journalled and --verify, or on disk without a journal entry: the server's size decides.
        let mut retries = Retries::new(ctx, res);
        let probed = loop {
            match probe(ctx, res).await {
                Ok(info) => break Ok(info),
                Err(stop) => {
                    if let Err(stop) = retries.after(stop).await {
                        break Err(stop);
                    }
                }
            }
        };
        match probed {
            Ok(info) if info.size == Some(size) => {
                if !journalled {
                    let entry = done_entry(&key, res, size, info.etag, info.last_modified);
                    if let Err(e) = ctx.writer.append(&entry) {
                        return Outcome::Failed(e.to_string());
                    }
                }
                ctx.sink.event(&Event::Expected { bytes: size });
                return Outcome::Complete {
                    status: FileStatus::Verified,
                    size,
                };
            }
            Ok(info) => {
                let server = info
                    .size
                    .map_or("an unknown size".to_string(), |s| format!("{s} bytes"));
                let reason = format!(
                    "local file is {size} bytes, the server has {server}: downloading again"
                );
                ctx.sink.event(&Event::Mismatch {
                    path: &res.path,
                    url: &res.url,
                    reason: &reason,
                });
            }
            Err(Stop::Interrupted) => return Outcome::Interrupted,
            Err(Stop::Failure(f)) => return Outcome::Failed(f.reason),
        }
    }
    let part = store::part_path(&final_path);
    let mut state = PartState::from_journal(ctx, &key, res);
    let mut retries = Retries::new(ctx, res);
    let downloaded = loop {
        match download(ctx, res, &key, &part, &final_path, &mut state, &mut permit).await {
            Ok(size) => break Ok(size),
            Err(stop) => {
                if let Err(stop) = retries.after(stop).await {
                    break Err(stop);
                }
            }
        }
    };
    match downloaded {
        Ok(size) => Outcome::Complete {
            status: FileStatus::Downloaded,
            size,
        },
        Err(Stop::Interrupted) => Outcome::Interrupted,
        Err(Stop::Failure(f)) => Outcome::Failed(f.reason),
    }
}

/// Counts the attempts at one resource and waits before each retry.
struct Retries<'a> {
    ctx: &'a Context,
    res: &'a Resource,
    attempts: u32,
}

impl<'a> Retries<'a> {
    fn new(ctx: &'a Context, res: &'a Resource) -> Retries<'a> {
        Retries {
            ctx,
            res,
            attempts: 1,
        }
    }

    /// After a failed attempt: `Ok` once it is time for the next one, or the reason to stop
    /// (not retryable, out of retries, cancelled).
    async fn after(&mut self, stop: Stop) -> Result<(), Stop> {
        let ctx = self.ctx;
        let mut failure = match stop {
            Stop::Interrupted => return Err(Stop::Interrupted),
            Stop::Failure(f) => f,
        };
        if !failure.retryable || self.attempts > ctx.options.retries {
            if failure.retryable && self.attempts > 1 {
                failure.reason = format!("{} (after {} attempts)", failure.reason, self.attempts);
            }
            return Err(Stop::Failure(failure));
        }
        self.attempts += 1;
        let delay = failure
            .retry_after
            .unwrap_or_else(|| ctx.options.backoff(self.attempts - 1));
        ctx.sink.event(&Event::Retrying {
            path: &self.res.path,
            url: &self.res.url,
            attempt: self.attempts,
            delay,
            reason: &failure.reason,
        });
        tokio::select! {
            _ = tokio::time::sleep(delay) => Ok(()),
            _ = ctx.cancel.cancelled() => Err(Stop::Interrupted),
        }
    }
}

/// The server's size of a resource: `HEAD`, or when HEAD is refused or gives no length, a
/// one-byte range GET (`Content-Range` total, or `Content-Length` of a 200).
async fn probe(ctx: &Context, res: &Resource) -> Result<ServerInfo, Stop> {
    let head = cancellable(ctx, ctx.client.head(res.url.clone()).send()).await?;
    let head = head.map_err(|e| Failure::transport(&e))?;
    let status = head.status();
    if status.is_success() {
        if let Some(size) = content_length(head.headers()) {
            let (etag, last_modified) = validators(head.headers());
            return Ok(ServerInfo {
                size: Some(size),
                etag,
                last_modified,
            });
        }
    } else if super::http::retryable_status(status) && status != StatusCode::NOT_IMPLEMENTED {
        return Err(Failure::status(&head, ctx.options.retry_after_cap).into());
    }
    drop(head);
    let get = ctx
        .client
        .get(res.url.clone())
        .header(header::RANGE, "bytes=0-0")
        .send();
    let response = cancellable(ctx, get)
        .await?
        .map_err(|e| Failure::transport(&e))?;
    let (etag, last_modified) = validators(response.headers());
    let size = match response.status() {
        StatusCode::PARTIAL_CONTENT => header_str(response.headers(), header::CONTENT_RANGE)
            .and_then(|v| parse_content_range(&v)?.total),
        StatusCode::OK => content_length(response.headers()),
        _ => return Err(Failure::status(&response, ctx.options.retry_after_cap).into()),
    };
    Ok(ServerInfo {
        size,
        etag,
        last_modified,
    })
}

/// Awaits a request unless the run is cancelled first.
async fn cancellable<T>(ctx: &Context, future: impl Future<Output = T>) -> Result<T, Stop> {
    tokio::select! {
        value = future => Ok(value),
        _ = ctx.cancel.cancelled() => Err(Stop::Interrupted),
    }
}

/// What is known about the part file of a resource: the validators and total size of the
/// response its bytes came from.
struct PartState {
    etag: Option<String>,
    last_modified: Option<String>,
    total: Option<u64>,
}

impl PartState {
    fn from_journal(ctx: &Context, key: &str, res: &Resource) -> PartState {
        match ctx.journal.part(key).filter(|e| e.url == res.url.as_str()) {
            Some(e) => PartState {
                etag: e.etag.clone(),
                last_modified: e.last_modified.clone(),
                total: e.size,
            },
            None => PartState {
                etag: None,
                last_modified: None,
                total: None,
            },
        }
    }

    fn if_range(&self) -> Option<String> {
        if_range_value(self.etag.as_deref(), self.last_modified.as_deref())
    }

    fn forget(&mut self) {
        *self = PartState {
            etag: None,
            last_modified: None,
            total: None,
        };
    }
}

fn done_entry(
    key: &str,
    res: &Resource,
    size: u64,
    etag: Option<String>,
    last_modified: Option<String>,
) -> JournalEntry {
    JournalEntry {
        state: ENTRY_DONE.to_string(),
        path: key.to_string(),
        url: res.url.to_string(),
        size: Some(size),
        etag,
        last_modified,
    }
}

fn remove_part(part: &Path) {
    // A part that cannot be removed is truncated by the next attempt's open anyway.
    let _ = std::fs::remove_file(part);
}

/// One attempt: GET (resuming the part file when it has bytes and a validator), stream the body
/// into the part file, verify the size, fsync, rename, journal. Returns the final size.
async fn download(
    ctx: &Context,
    res: &Resource,
    key: &str,
    part: &Path,
    final_path: &Path,
    state: &mut PartState,
    permit: &mut Option<OwnedSemaphorePermit>,
) -> Result<u64, Stop> {
    let have = store::file_size(part).unwrap_or(0);
    let resume = match (have, state.if_range()) {
        (0, _) | (_, None) => None,
        (n, Some(validator)) if state.total.is_none_or(|t| n <= t) => Some((n, validator)),
        _ => None,
    };
    let mut request = ctx.client.get(res.url.clone());
    if let Some((from, validator)) = &resume {
        request = request
            .header(header::RANGE, format!("bytes={from}-"))
            .header(header::IF_RANGE, validator);
    }
    let response = cancellable(ctx, request.send())
        .await?
        .map_err(|e| Failure::transport(&e))?;
    let status = response.status();
    let content_range =
        header_str(response.headers(), header::CONTENT_RANGE).and_then(|v| parse_content_range(&v));
    // (offset the body starts at, end offset the body should reach, resource total).
    let (offset, end, total) = match status {
        StatusCode::PARTIAL_CONTENT => {
            let Some(ContentRangeParts { first, last, total }) =
                content_range.and_then(ContentRangeParts::new)
            else {
                remove_part(part);
                state.forget();
                return Err(Failure::retry("206 answer without a valid Content-Range").into());
            };
            let expected_first = resume.as_ref().map_or(0, |(from, _)| *from);
            if first != expected_first {
                remove_part(part);
                state.forget();
                return Err(Failure::retry(format!(
                    "asked for bytes from {expected_first}, the server sent {first}-{last}: starting over"
                ))
                .into());
            }
            (first, last + 1, total)
        }
        StatusCode::OK => {
            let length = content_length(response.headers());
            (0, length.unwrap_or(u64::MAX), length)
        }
        StatusCode::RANGE_NOT_SATISFIABLE if resume.is_some() => {
            let total = content_range.and_then(|c| c.total);
            if total == Some(have) {
                // The server evaluated the range, so If-Range matched: the part is the current
                // version and already holds every byte (a run killed before the rename, or a
                // body cut just after its last byte).
                let file =
                    store::open_part(part, true).map_err(|e| Failure::fatal(e.to_string()))?;
                let writer = store::PartWriter::new(file, have, Vec::new(), 0, ctx.options.sync);
                return finish(ctx, res, key, part, final_path, writer, have, state, permit).await;
            }
            remove_part(part);
            state.forget();
            return Err(Failure::retry("range not satisfiable: starting over").into());
        }
        _ if status.is_success() || status.is_redirection() => {
            return Err(
                Failure::fatal(format!("unexpected answer HTTP {}", status_text(status))).into(),
            );
        }
        _ => return Err(Failure::status(&response, ctx.options.retry_after_cap).into()),
    };
    if let Some(total) = total
        && total < res.min_size
    {
        return Err(Failure::fatal(format!(
            "the resource is {total} bytes but the manifest addresses bytes up to {}",
            res.min_size
        ))
        .into());
    }
    let (etag, last_modified) = validators(response.headers());
    let fresh = offset == 0;
    // The `part` journal line (validators for a later resume) is written only once bytes are
    // about to reach the part file before the body is complete: a small file that arrives in
    // one buffer never needs it.
    let mut recorded = true;
    if fresh || state.etag != etag || state.last_modified != last_modified || state.total != total {
        *state = PartState {
            etag,
            last_modified,
            total,
        };
        recorded = state.if_range().is_none();
    }
    if let Some(t) = total {
        ctx.sink.event(&Event::Expected {
            bytes: t.saturating_sub(offset),
        });
    }
    ctx.out
        .prepare(&res.path)
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let file = store::open_part(part, !fresh).map_err(|e| Failure::fatal(e.to_string()))?;
    let capacity = write_buffer(ctx.options.threads);
    let mut writer = store::PartWriter::new(
        file,
        offset,
        ctx.take_buffer(capacity),
        capacity,
        ctx.options.sync,
    );
    let mut written = offset;
    let mut body = response.bytes_stream();
    let mut last_flush = Instant::now();
    let io_failure = |e: std::io::Error| Failure::fatal(format!("{}: {e}", part.display()));
    loop {
        let next = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => {
                if record_part(ctx, key, res, state, &mut recorded).is_ok() {
                    let _ = writer.flush().await;
                }
                return Err(Stop::Interrupted);
            }
            next = body.next() => next,
        };
        match next {
            Some(Ok(chunk)) => {
                let len = chunk.len() as u64;
                if written + len > end {
                    drop(writer);
                    remove_part(part);
                    state.forget();
                    return Err(
                        Failure::retry("the server sent more bytes than it announced").into(),
                    );
                }
                // On a slow link, do not let a kill lose seconds of received bytes.
                let timed_flush = last_flush.elapsed() >= FLUSH_INTERVAL;
                if timed_flush || writer.would_flush(chunk.len()) {
                    record_part(ctx, key, res, state, &mut recorded)?;
                }
                writer.write(&chunk).await.map_err(io_failure)?;
                written += len;
                if timed_flush {
                    writer.flush().await.map_err(io_failure)?;
                    last_flush = Instant::now();
                }
                ctx.received.fetch_add(len, Ordering::Relaxed);
                ctx.sink.event(&Event::Received { bytes: len });
            }
            Some(Err(e)) => {
                if record_part(ctx, key, res, state, &mut recorded).is_ok() {
                    let _ = writer.flush().await;
                }
                let of = total.map_or(String::new(), |t| format!(" of {t}"));
                return Err(Failure::retry(format!(
                    "connection lost after {written}{of} bytes: {}",
                    error_chain(&e)
                ))
                .into());
            }
            None => break,
        }
    }
    if end != u64::MAX && written != end {
        return Err(
            Failure::retry(format!("the body ended after {written} of {end} bytes")).into(),
        );
    }
    match total {
        Some(t) if written != t => {
            return Err(Failure::retry(format!(
                "received bytes up to {written} of {t}: continuing"
            ))
            .into());
        }
        _ => {}
    }
    if written < res.min_size {
        return Err(Failure::fatal(format!(
            "the resource is {written} bytes but the manifest addresses bytes up to {}",
            res.min_size
        ))
        .into());
    }
    finish(
        ctx, res, key, part, final_path, writer, written, state, permit,
    )
    .await
}

/// Appends the `part` line for this download, once.
fn record_part(
    ctx: &Context,
    key: &str,
    res: &Resource,
    state: &PartState,
    recorded: &mut bool,
) -> Result<(), Failure> {
    if *recorded {
        return Ok(());
    }
    let entry = JournalEntry {
        state: ENTRY_PART.to_string(),
        path: key.to_string(),
        url: res.url.to_string(),
        size: state.total,
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    ctx.writer
        .append(&entry)
        .map_err(|e| Failure::fatal(e.to_string()))?;
    *recorded = true;
    Ok(())
}

/// The write buffer of each download: 128 KiB (measured: larger buffers leave the received
/// bytes to be copied twice out of cache, and made large downloads slower and erratic), less with
/// very many requests in flight, so that all buffers together stay within 32 MiB.
fn write_buffer(threads: usize) -> usize {
    (MAX_BUFFERS / threads.max(1)).clamp(16 * 1024, 128 * 1024)
}

/// The verified part becomes final: fsync and rename (on the blocking pool), then the journal.
/// The download's permit is released before the fsync.
#[allow(clippy::too_many_arguments)]
async fn finish(
    ctx: &Context,
    res: &Resource,
    key: &str,
    part: &Path,
    final_path: &Path,
    writer: store::PartWriter,
    size: u64,
    state: &PartState,
    permit: &mut Option<OwnedSemaphorePermit>,
) -> Result<u64, Stop> {
    // The fsync waits for the disk, not the network: the next download may start meanwhile
    // (a bounded number of commits at once).
    let mut writer = writer;
    let io_failure = |e: std::io::Error| Failure::fatal(format!("{}: {e}", part.display()));
    if let Some(buffer) = writer.release_buffer().await.map_err(io_failure)? {
        ctx.give_buffer(buffer);
    }
    let commit = ctx.commits.clone().acquire_owned().await.ok();
    drop(permit.take());
    let committed = writer.commit(part, final_path, ctx.options.sync).await;
    drop(commit);
    ctx.give_buffer(committed.map_err(|e| Failure::fatal(e.to_string()))?);
    let entry = done_entry(
        key,
        res,
        size,
        state.etag.clone(),
        state.last_modified.clone(),
    );
    ctx.writer
        .append(&entry)
        .map_err(|e| Failure::fatal(e.to_string()))?;
    Ok(size)
}

/// A `206` answer's `Content-Range` with the fields a body needs.
struct ContentRangeParts {
    first: u64,
    last: u64,
    total: Option<u64>,
}

impl ContentRangeParts {
    fn new(range: super::http::ContentRange) -> Option<ContentRangeParts> {
        let (first, last) = range.range?;
        Some(ContentRangeParts {
            first,
            last,
            total: range.total,
        })
    }
}

/// The delay before retry `n` (1 = first retry): `base · 2^(n-1)`, capped at 30 s, with jitter
/// (a uniformly random point in its upper half) so that parallel requests do not retry in step.
pub(crate) fn backoff_delay(base: Duration, retry: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    let capped = doubled.min(Duration::from_secs(30));
    let half = capped / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        for retry in 1..40 {
            let d = backoff_delay(base, retry);
            let full = base
                .saturating_mul(1 << (retry - 1).min(16))
                .min(Duration::from_secs(30));
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
    }
}
