//! One attempt at a resource: GET (resuming the part file when it has bytes and a validator),
//! the answer turned into an action by [`super::answer::decide`], the body streamed into the
//! part file, the size verified, the part renamed into place and journalled.

use crate::isobmff::Skeleton;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header;
use tokio::sync::OwnedSemaphorePermit;

use super::answer::{self, Action};
use super::events::Event;
use super::http::{Failure, content_length, error_chain, header_str, if_range_value, retry_after};
use super::resource::validators;
use super::retry::Stop;
use super::{Context, Resource};
use crate::store::{FileSlot, PartFile, PartWriter};

/// All write buffers together (one per request in flight) stay within this.
const MAX_BUFFERS: usize = 32 * 1024 * 1024;

/// Longest time received bytes wait in the buffer before being written to the part file.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// What is known about the part file of a resource: the validators and total size of the
/// response its bytes came from.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct PartState {
    etag: Option<String>,
    last_modified: Option<String>,
    total: Option<u64>,
}

impl PartState {
    /// The journal's record of an unfinished download of this resource (or nothing known).
    pub fn from_journal(ctx: &Context, key: &str, res: &Resource) -> PartState {
        match ctx.journal.part(key, res.url.as_str()) {
            Some(p) => PartState {
                etag: p.etag.clone(),
                last_modified: p.last_modified.clone(),
                total: p.total,
            },
            None => PartState::default(),
        }
    }

    pub fn if_range(&self) -> Option<String> {
        if_range_value(self.etag.as_deref(), self.last_modified.as_deref())
    }

    /// The resource's total size, as its answer said.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    pub fn forget(&mut self) {
        *self = PartState::default();
    }
}

/// Awaits a request unless the run is cancelled first.
pub(crate) async fn cancellable<T>(
    ctx: &Context,
    future: impl Future<Output = T>,
) -> Result<T, Stop> {
    tokio::select! {
        value = future => Ok(value),
        _ = ctx.cancel.cancelled() => Err(Stop::Interrupted),
    }
}

/// A resource being downloaded: what every attempt at it needs.
pub(crate) struct Job<'a> {
    pub ctx: &'a Context,
    pub res: &'a Resource,
    /// Where the resource is asked for now: its URL, or an alternate after a failover.
    pub url: url::Url,
    /// The journal's key of its path.
    pub key: &'a str,
    pub slot: &'a FileSlot,
    /// What the part file holds, carried from one attempt to the next.
    pub state: PartState,
    /// The request slot, released once the body is in (before the fsync).
    pub permit: Option<OwnedSemaphorePermit>,
    /// The body's box structure, when received whole and kept (`FetchOptions::keep_boxes`).
    pub body: Option<Skeleton>,
    /// A download in pieces under way (from the journal, or begun in this run): the attempts
    /// continue it.
    pub pieces: Option<super::split::Pieces>,
    /// The server turned out not to serve pieces: whole downloads only.
    pub no_split: bool,
    /// A part file of this path may be on disk (the journal records one, or an attempt of this
    /// run wrote one): a file written whole under its final name removes it.
    pub part_may_exist: bool,
}

/// One attempt; returns the final size.
pub(crate) async fn run(job: &mut Job<'_>) -> Result<u64, Stop> {
    if job.pieces.is_some() {
        return super::split::run(job, None).await;
    }
    let Job {
        ctx,
        res,
        url,
        key,
        slot,
        state,
        permit,
        body: kept,
        pieces,
        no_split,
        part_may_exist,
    } = job;
    let (ctx, res, key, slot) = (*ctx, *res, *key, *slot);
    // Only a part with a validator can be resumed; without one it is emptied by the open, and
    // needs no `stat`.
    let validator = state.if_range();
    let have = match validator {
        Some(_) => slot.part_size().unwrap_or(0),
        None => 0,
    };
    let resume = match (have, validator) {
        (0, _) | (_, None) => None,
        (n, Some(validator)) if state.total.is_none_or(|t| n <= t) => Some((n, validator)),
        _ => None,
    };
    let mut request = ctx.client.get(url.clone());
    if let Some((from, validator)) = &resume {
        request = request
            .header(header::RANGE, format!("bytes={from}-"))
            .header(header::IF_RANGE, validator);
    }
    let response = cancellable(ctx, request.send())
        .await?
        .map_err(|e| Failure::transport(&e))?;
    let content_range = header_str(response.headers(), header::CONTENT_RANGE);
    let action = answer::decide(
        answer::Response {
            status: response.status(),
            content_range: content_range.as_deref(),
            content_length: content_length(response.headers()),
            retry_after: retry_after(response.headers(), ctx.options.retry_after_cap),
        },
        answer::Request {
            resume_from: resume.as_ref().map(|(from, _)| *from),
            min_size: res.min_size,
        },
    );
    let (offset, end, total) = match action {
        Action::Body { offset, end, total } => (offset, end, total),
        Action::PartComplete { size } => {
            let file = slot
                .open_part(true)
                .map_err(|e| Failure::fatal(e.to_string()))?;
            let writer = PartWriter::new(file, size, Vec::new(), 0, ctx.options.sync);
            return finish(ctx, res, key, slot, writer, size, permit).await;
        }
        Action::StartOver(reason) => {
            slot.remove_part();
            state.forget();
            return Err(Failure::retry(reason).into());
        }
        Action::Fail(failure) => return Err(failure.into()),
    };
    let (etag, last_modified) = validators(response.headers());
    let fresh = offset == 0;
    // A large resource from a server that serves ranges, and says how to tell it unchanged:
    // in pieces over several connections.
    let split_size = ctx.options.split_size;
    let ranges = header_str(response.headers(), header::ACCEPT_RANGES)
        .is_some_and(|v| v.split(',').any(|u| u.trim().eq_ignore_ascii_case("bytes")));
    if fresh
        && !*no_split
        && split_size > 0
        && ranges
        && let Some(total) = total.filter(|&t| t >= split_size)
        && let Some(validator) = if_range_value(etag.as_deref(), last_modified.as_deref())
    {
        *state = PartState {
            etag,
            last_modified,
            total: Some(total),
        };
        let mut recorded = false;
        record_part(ctx, key, res, state, &mut recorded)?;
        *pieces = Some(super::split::Pieces {
            total,
            validator,
            have: Vec::new(),
        });
        ctx.sink.event(&Event::Expected { bytes: total });
        return super::split::run(job, Some(response)).await;
    }
    // The `part` record (validators for a later resume) is written only once bytes are about to
    // reach the part file before the body is complete: a small file that arrives in one buffer
    // never needs it.
    let mut recorded = true;
    let now = PartState {
        etag,
        last_modified,
        total,
    };
    if fresh || *state != now {
        *state = now;
        recorded = state.if_range().is_none();
    }
    if let Some(t) = total {
        ctx.sink.event(&Event::Expected {
            bytes: t.saturating_sub(offset),
        });
    }
    let capacity = write_buffer(ctx.options.threads);
    let mut writer = if fresh {
        // No part file until bytes must reach the disk before the body is whole.
        PartWriter::deferred(
            slot.clone(),
            ctx.take_buffer(capacity),
            capacity,
            ctx.options.sync,
            *part_may_exist,
        )
    } else {
        let file = slot
            .open_part(true)
            .map_err(|e| Failure::fatal(e.to_string()))?;
        PartWriter::new(
            file,
            offset,
            ctx.take_buffer(capacity),
            capacity,
            ctx.options.sync,
        )
    };
    let mut written = offset;
    // The box structure, for a reader of the whole file (`keep_boxes`): only a download from
    // its first byte, only up to the cap (media payloads are not kept).
    let cap = ctx.options.keep_boxes;
    let mut tap: Option<Skeleton> = (cap > 0 && offset == 0).then(Skeleton::new);
    // A body of unknown size (chunked transfer) of a segment: whole when its boxes are.
    let mut tiling =
        (res.whole_boxes && total.is_none() && offset == 0).then(crate::isobmff::BoxTiling::new);
    let mut body = response.bytes_stream();
    let mut last_flush = Instant::now();
    let part_path = slot.part_path();
    let io_failure = |e: std::io::Error| Failure::fatal(format!("{}: {e}", part_path.display()));
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
                if written
                    .checked_add(len)
                    .is_none_or(|after| end.is_some_and(|end| after > end))
                {
                    drop(writer);
                    slot.remove_part();
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
                // A low-latency segment: each chunk (its boxes whole) goes to the part file as
                // it arrives, not with the next one.
                let chunk_done = tiling.as_mut().is_some_and(|t| {
                    t.push(&chunk);
                    t.is_whole()
                });
                if let Some(t) = tap.as_mut() {
                    t.push(&chunk);
                    if t.kept() as u64 > cap {
                        tap = None;
                    }
                }
                if timed_flush || chunk_done {
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
                if writer.has_part() {
                    *part_may_exist = true;
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
    if let Some(end) = end
        && written != end
    {
        return Err(
            Failure::retry(format!("the body ended after {written} of {end} bytes")).into(),
        );
    }
    if let Some(t) = total
        && written != t
    {
        return Err(
            Failure::retry(format!("received bytes up to {written} of {t}: continuing")).into(),
        );
    }
    if tiling.as_ref().is_some_and(|t| !t.is_whole()) {
        drop(writer);
        slot.remove_part();
        state.forget();
        return Err(Failure::retry(format!(
            "the body (of no announced size) ended after {written} bytes, inside a box"
        ))
        .into());
    }
    if written < res.min_size {
        return Err(Failure::fatal(format!(
            "the resource is {written} bytes but the manifest addresses bytes up to {}",
            res.min_size
        ))
        .into());
    }
    let size = finish(ctx, res, key, slot, writer, written, permit).await?;
    *kept = tap;
    Ok(size)
}

/// Appends the `part` record for this download, once.
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
    let part = PartFile {
        url: 0,
        total: state.total,
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    ctx.writer
        .part(key, res.url.as_str(), &part)
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

/// A part file written at its offsets (a download in pieces) and complete: flushed to disk
/// when asked (`sync`), renamed into place, journalled. Returns its size.
pub(crate) async fn commit_whole(job: &mut Job<'_>, size: u64) -> Result<u64, Stop> {
    let (ctx, res, key, slot) = (job.ctx, job.res, job.key, job.slot);
    if slot.part_size() != Some(size) {
        slot.remove_part();
        job.pieces = None;
        job.state.forget();
        return Err(
            Failure::retry("the part file is not the resource's size: starting over").into(),
        );
    }
    let commit = ctx.commits.clone().acquire_owned().await.ok();
    drop(job.permit.take());
    let (sync, owned) = (ctx.options.sync, slot.clone());
    let part_path = slot.part_path();
    let joined = tokio::task::spawn_blocking(move || {
        if sync {
            std::fs::OpenOptions::new()
                .write(true)
                .open(owned.part_path())
                .and_then(|f| f.sync_all())
                .map_err(|e| Failure::fatal(format!("{}: {e}", owned.part_path().display())))?;
        }
        owned
            .rename_part()
            .map_err(|e| Failure::fatal(e.to_string()))
    })
    .await;
    drop(commit);
    joined.map_err(|e| Failure::fatal(format!("{}: {e}", part_path.display())))??;
    super::resource::journal_done(ctx, key, res, size)
        .map_err(|e| Failure::fatal(e.to_string()))?;
    job.pieces = None;
    Ok(size)
}

/// The verified part becomes final: fsync and rename (on the blocking pool), then the journal.
/// The download's permit is released before the fsync.
async fn finish(
    ctx: &Context,
    res: &Resource,
    key: &str,
    slot: &FileSlot,
    mut writer: PartWriter,
    size: u64,
    permit: &mut Option<OwnedSemaphorePermit>,
) -> Result<u64, Stop> {
    // The fsync waits for the disk, not the network: the next download may start meanwhile
    // (a bounded number of commits at once).
    let part_path = slot.part_path();
    let io_failure = |e: std::io::Error| Failure::fatal(format!("{}: {e}", part_path.display()));
    if let Some(buffer) = writer.release_buffer().await.map_err(io_failure)? {
        ctx.give_buffer(buffer);
    }
    let commit = ctx.commits.clone().acquire_owned().await.ok();
    drop(permit.take());
    let committed = writer.commit(slot, ctx.options.sync).await;
    drop(commit);
    ctx.give_buffer(committed.map_err(|e| Failure::fatal(e.to_string()))?);
    super::resource::journal_done(ctx, key, res, size)
        .map_err(|e| Failure::fatal(e.to_string()))?;
    Ok(size)
}
