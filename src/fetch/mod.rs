//! The download engine: concurrency, connection reuse, retries, timeouts, resume, size
//! verification, progress events.
//!
//! The unit of work is a *resource*: one URL stored at one local path. Segments that are byte
//! ranges of one resource (SegmentList `@mediaRange`, SegmentBase) share it, and the resource is
//! fetched whole, so the local file is identical to the origin's, bytes between or after the
//! addressed ranges included. [`download`] runs `threads` resources at once over one pooled
//! [`reqwest::Client`], taking them from the plan one at a time; [`fetch_manifest`] fetches a
//! manifest through the same retry loop (and again, conditionally, for a live refresh);
//! [`mirror()`] is the whole `dashget` command (manifest, plan, download).
//!
//! Inside: `retry` is the one retry loop; `resource` takes a resource from "maybe on disk" to
//! complete (journal, probe, attempts); `attempt` is one GET into the part file; `answer` is the
//! pure decision on a response (status, `Content-Range`, resume offset).

mod answer;
mod attempt;
mod events;
pub(crate) mod http;
mod index;
mod manifest;
mod mirror;
mod resource;
pub(crate) mod retry;
mod single;
mod split;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Notify, Semaphore};
use tokio::task::{JoinError, JoinSet};
use url::Url;

pub use events::{Event, FileStatus, NoProgress, ProgressSink};
pub use http::{build_client, error_chain, parse_header};
pub use index::expand_index;
pub use manifest::{FetchedManifest, ManifestError, ManifestValidators, fetch_manifest};
pub use mirror::{MirrorError, MirrorOptions, load_manifest, load_plan, mirror};
pub use single::{ResourceFetcher, ResourceOutcome};

use crate::plan::Plan;
use crate::store::{Journal, JournalWriter, OutputDir, StoreError};
use resource::Outcome;

/// Errors that stop a whole download (a single file's failure does not: it is in the
/// [`Summary`]).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A `-H` header that is not `Name: value`.
    #[error("invalid header {0:?} (expected \"Name: value\")")]
    Header(String),
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// A `--ca-cert` file that cannot be used.
    #[error("{path}: cannot use the CA certificate: {reason}")]
    CaCert {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The output folder or the journal cannot be used.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Requests in flight at once (at least 1).
    pub threads: usize,
    /// Attempts after the first, per file, for retryable failures.
    pub retries: u32,
    /// Connect timeout, and idle-read timeout (longest wait for the next byte).
    pub timeout: Duration,
    /// Extra request headers (name, value).
    pub headers: Vec<(String, String)>,
    /// User-Agent (default `dashget/VERSION`).
    pub user_agent: Option<String>,
    /// Re-check the size of journalled files against the server; download mismatches again.
    pub verify: bool,
    /// First retry delay; doubles on each retry (capped at 30 s), with jitter.
    pub backoff_base: Duration,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
    /// Flush each file to disk (fsync) before renaming it to its final name, so that even a
    /// power cut never leaves a short file under a final name. Off by default: it makes large
    /// downloads disk-bound (about twice as slow on the benchmark), and without it a power cut
    /// can only leave short files that the next run detects by their size and fetches again.
    /// A kill never needs it: renames happen after the size check either way.
    pub sync: bool,
    /// Extra roots of trust for HTTPS (PEM files), besides the system's.
    pub ca_certs: Vec<PathBuf>,
    /// Accept any TLS certificate (no verification at all).
    pub insecure: bool,
    /// Keep the box structure of a file downloaded whole in this run (its bytes but the
    /// payloads of `mdat` boxes: [`crate::isobmff::Skeleton`]), up to this many bytes kept, and
    /// hand it to [`Event::FileDone`] (`dashget --check` reads the bytes at hand instead of the
    /// file again). 0: keep nothing.
    pub keep_boxes: u64,
    /// A resource at least this large, from a server that serves byte ranges, is fetched in
    /// pieces over several connections (within `threads`). 0: never.
    pub split_size: u64,
}

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions {
            threads: 4,
            retries: 5,
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
            user_agent: None,
            verify: false,
            backoff_base: Duration::from_millis(500),
            retry_after_cap: Duration::from_secs(60),
            sync: false,
            ca_certs: Vec::new(),
            insecure: false,
            keep_boxes: 0,
            split_size: 8 * 1024 * 1024,
        }
    }
}

impl FetchOptions {
    /// The delay before retry `n` (1 = first retry).
    pub fn backoff(&self, retry: u32) -> Duration {
        retry::backoff_delay(self.backoff_base, retry)
    }
}

/// A cancellation flag shared by the engine's tasks (Ctrl-C): in-flight writes are flushed to
/// their part files, nothing more is started, and [`download`] returns its summary.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    inner: Arc<CancelInner>,
}

#[derive(Debug, Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: Notify,
}

impl Cancel {
    /// A flag that is not raised.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Raises the flag and wakes every waiter.
    pub fn cancel(&self) {
        self.inner.flag.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether the flag is raised.
    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.load(Ordering::SeqCst)
    }

    /// Resolves once the flag is raised.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// One download unit: a resource (URL) and the local file it becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Absolute URL.
    pub url: Url,
    /// Path relative to the output folder.
    pub path: PathBuf,
    /// The plan's segments it holds.
    pub segments: usize,
    /// The smallest size consistent with the plan: one past the last byte a segment addresses
    /// (0 when no segment names a range).
    pub min_size: u64,
    /// The stable identity of the segment it holds, journalled with it (a live recording's
    /// segments, whose identity survives manifest refreshes).
    pub identity: Option<crate::store::SegmentIdentity>,
    /// The same resource at the manifest's other BaseURLs, in the order they are tried when
    /// `url` fails (its local path stays `url`'s).
    pub alternates: Vec<Url>,
    /// `SegmentBase@indexRange` of the representation whose resource it is: a download in
    /// pieces cuts it where its subsegments start.
    pub index: Option<crate::plan::ByteRange>,
    /// An ISO-BMFF segment that may come without a `Content-Length` (a low-latency segment,
    /// sent over chunked transfer as it is written): such a body is whole only when it ends
    /// where its last top-level box ends.
    pub whole_boxes: bool,
}

/// The plan's distinct resources, in plan order of first appearance, computed as the plan's
/// segments are: segments that share a file (byte ranges of one resource, one file for
/// several representations) make one resource, with their count and the smallest size they
/// allow. Only the files the plan found shared are remembered, so memory stays bounded.
pub fn resources(plan: &Plan) -> impl Iterator<Item = Resource> + '_ {
    let mut segments = plan.segments().peekable();
    let mut started = std::collections::HashSet::new();
    std::iter::from_fn(move || {
        loop {
            let (rep, first) = segments.next()?;
            let end = first.range.map_or(0, |r| r.last.saturating_add(1));
            let alternates = rep.alternates(&first.url);
            let index = rep.index_range;
            if let Some((key, file)) = plan.shared_file(&first.path) {
                if started.insert(key) {
                    return Some(Resource {
                        url: first.url,
                        path: first.path,
                        segments: file.segments,
                        min_size: file.min_size,
                        identity: None,
                        alternates,
                        index,
                        whole_boxes: false,
                    });
                }
                continue;
            }
            let mut resource = Resource {
                url: first.url,
                path: first.path,
                segments: 1,
                min_size: end,
                identity: None,
                alternates,
                index,
                whole_boxes: false,
            };
            while let Some((_, next)) =
                segments.next_if(|(_, s)| s.url == resource.url && s.path == resource.path)
            {
                resource.segments += 1;
                let end = next.range.map_or(0, |r| r.last.saturating_add(1));
                resource.min_size = resource.min_size.max(end);
            }
            return Some(resource);
        }
    })
}

/// How many files and segments [`resources`] yields, computed without going through them.
pub fn resource_totals(plan: &Plan) -> (usize, usize) {
    (plan.file_count(), plan.segment_count())
}

/// A file that failed, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct FailedFile {
    /// The URL.
    pub url: String,
    /// Local path, relative to the output folder.
    pub path: String,
    /// The plan's segments it holds.
    pub segments: usize,
    /// Why it failed.
    pub reason: String,
}

/// What a download did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Files (resources) in the plan.
    pub files: usize,
    /// Segments in the plan.
    pub segments: usize,
    /// Files fetched in this run.
    pub downloaded_files: usize,
    /// Segments held by the files fetched in this run.
    pub downloaded_segments: usize,
    /// Files already complete (journal, or size confirmed by the server).
    pub complete_files: usize,
    /// Segments held by those.
    pub complete_segments: usize,
    /// Of the complete files, those whose size was checked against the server in this run.
    pub verified_files: usize,
    /// Files that failed.
    pub failed_files: usize,
    /// Segments held by those.
    pub failed_segments: usize,
    /// Files neither complete nor failed (the run was interrupted).
    pub pending_files: usize,
    /// Each failure, with its URL and reason.
    pub failures: Vec<FailedFile>,
    /// Bytes received in this run.
    pub bytes: u64,
    /// Size of every complete file.
    pub complete_bytes: u64,
    /// Wall time of the download, in seconds.
    pub elapsed_seconds: f64,
    /// `bytes / elapsed_seconds`.
    pub bytes_per_second: f64,
    /// Whether the run was stopped by cancellation (Ctrl-C).
    pub interrupted: bool,
    /// Files downloaded in this run, by the server (scheme, host and port) that served them.
    pub servers: std::collections::BTreeMap<String, usize>,
}

impl Summary {
    /// True when every file is complete.
    pub fn is_complete(&self) -> bool {
        self.failed_files == 0 && self.pending_files == 0 && !self.interrupted
    }
}

/// What every task of a download shares.
pub(crate) struct Context {
    client: reqwest::Client,
    options: FetchOptions,
    out: OutputDir,
    /// The journal as it was when the run started.
    journal: Journal,
    writer: JournalWriter,
    sink: Arc<dyn ProgressSink>,
    cancel: Cancel,
    received: AtomicU64,
    /// Bounds the files being flushed and renamed at once (their downloads no longer count
    /// against `threads`).
    commits: Arc<Semaphore>,
    /// Write buffers of finished downloads, for the next ones.
    buffers: std::sync::Mutex<Vec<Vec<u8>>>,
    /// The request slots (`threads`): a download in pieces takes the free ones.
    permits: Arc<Semaphore>,
    /// Failover: for the server (origin) a resource was named on, the one that served the
    /// last resource it failed to serve: later resources start there.
    preferred: std::sync::Mutex<HashMap<String, String>>,
    /// Files downloaded in this run, by the server (origin) that served them.
    servers: std::sync::Mutex<std::collections::BTreeMap<String, usize>>,
}

impl Context {
    /// A write buffer: a spare one, or a new one of `capacity` bytes.
    pub(crate) fn take_buffer(&self, capacity: usize) -> Vec<u8> {
        let spare = self.buffers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        spare.unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    /// Keeps a buffer for a later download (at most one per request in flight).
    pub(crate) fn give_buffer(&self, buffer: Vec<u8>) {
        if buffer.capacity() == 0 {
            return;
        }
        let mut spare = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < self.options.threads.max(1) {
            spare.push(buffer);
        }
    }
}

/// Makes every resource of `plan` complete under `out`, `options.threads` at a time, and
/// returns what happened. Failures of single files are in the summary; only an unusable output
/// folder or journal is an error.
///
/// The plan's resources are taken one at a time as requests become free, so the work in memory
/// is a bounded window whatever the plan's size; what is kept for the whole plan is one pair of
/// 64-bit keys per file (two URLs must not share a local file) and the failures.
pub async fn download(
    client: &reqwest::Client,
    plan: &Plan,
    out: &OutputDir,
    options: &FetchOptions,
    sink: Arc<dyn ProgressSink>,
    cancel: &Cancel,
) -> Result<Summary, FetchError> {
    let started = Instant::now();
    let (journal, writer) = JournalWriter::open(out.root())?;
    let (files, segments) = resource_totals(plan);
    let mut summary = Summary {
        files,
        segments,
        ..Summary::default()
    };
    sink.event(&Event::Planned { files, segments });
    let ctx = Arc::new(Context {
        client: client.clone(),
        options: options.clone(),
        out: out.clone(),
        journal,
        writer,
        sink,
        cancel: cancel.clone(),
        received: AtomicU64::new(0),
        commits: Arc::new(Semaphore::new(options.threads.max(1) * 16)),
        buffers: std::sync::Mutex::new(Vec::new()),
        permits: Arc::new(Semaphore::new(options.threads.max(1))),
        preferred: std::sync::Mutex::new(HashMap::new()),
        servers: std::sync::Mutex::new(std::collections::BTreeMap::new()),
    });

    let permits = ctx.permits.clone();
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, Arc<Resource>> = HashMap::new();
    // Distinct URLs have distinct local paths (the plan renames collisions) and a file shared
    // by several segments is one resource: no two downloads ever write one file.
    let mut queue = LookAhead::new(resources(plan));
    let mut started_all = false;
    let mut tick = tokio::time::interval(JournalWriter::MAX_DELAY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !started_all || !tasks.is_empty() {
        tokio::select! {
            biased;
            _ = tick.tick() => {
                // A failed journal write shows again at the final sync; nothing to do here.
                let _ = ctx.writer.flush_if_due();
            }
            Some(result) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                if let Some((res, outcome)) = joined(&mut in_flight, result) {
                    record(&ctx, &mut summary, &res, outcome);
                }
            }
            permit = permits.clone().acquire_owned(), if !started_all => {
                let Ok(permit) = permit else { break };
                // Take resources until one needs a request; those the journal records as
                // complete are recorded here, without a task or a request slot.
                let mut permit = Some(permit);
                let mut skipped: u32 = 0;
                while permit.is_some() {
                    // Let the downloads in flight run now and then.
                    skipped = skipped.wrapping_add(1);
                    if skipped.is_multiple_of(4096) {
                        tokio::task::yield_now().await;
                    }
                    let Some((res, journalled)) = queue.next(&ctx) else {
                        started_all = true;
                        break;
                    };
                    if cancel.is_cancelled() {
                        record(&ctx, &mut summary, &res, Outcome::Interrupted);
                        while let Some((res, _)) = queue.next_unchecked() {
                            record(&ctx, &mut summary, &res, Outcome::Interrupted);
                        }
                        started_all = true;
                        break;
                    }
                    if let Some(size) = journalled {
                        let outcome = resource::already_complete(&ctx, size);
                        record(&ctx, &mut summary, &res, outcome);
                        continue;
                    }
                    let res = Arc::new(res);
                    let (task_ctx, task_res, task_permit) = (ctx.clone(), res.clone(), permit.take());
                    let handle = tasks.spawn(async move {
                        resource::complete(&task_ctx, &task_res, task_permit).await
                    });
                    in_flight.insert(handle.id(), res);
                }
            }
        }
    }
    // The journal is only a shortcut (a lost record costs one HEAD request), so one flush at
    // the end is enough.
    let _ = ctx.writer.sync();
    summary.interrupted = cancel.is_cancelled() || summary.pending_files > 0;
    summary.bytes = ctx.received.load(Ordering::Relaxed);
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    summary.servers = std::mem::take(&mut *ctx.servers.lock().unwrap_or_else(|p| p.into_inner()));
    summary.bytes_per_second = if summary.elapsed_seconds > 0.0 {
        summary.bytes as f64 / summary.elapsed_seconds
    } else {
        0.0
    };
    Ok(summary)
}

/// The plan's resources, taken a block at a time with the journal's verdict on each (complete
/// on disk, with its size, or not). The verdicts of a block are found on two threads when many
/// of its files need a `stat`: that `stat` is most of the time of a no-op re-run.
struct LookAhead<I> {
    source: I,
    ready: std::collections::VecDeque<(Resource, Option<u64>)>,
    threads: usize,
}

impl<I: Iterator<Item = Resource>> LookAhead<I> {
    /// Resources per block.
    const BLOCK: usize = 1024;

    fn new(source: I) -> LookAhead<I> {
        LookAhead {
            source,
            ready: std::collections::VecDeque::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        }
    }

    /// The next resource and the size it has complete on disk, if it has.
    fn next(&mut self, ctx: &Context) -> Option<(Resource, Option<u64>)> {
        if self.ready.is_empty() {
            self.fill(ctx);
        }
        self.ready.pop_front()
    }

    /// The next resource, unchecked (the run is being cancelled).
    fn next_unchecked(&mut self) -> Option<(Resource, Option<u64>)> {
        self.ready
            .pop_front()
            .or_else(|| self.source.next().map(|r| (r, None)))
    }

    fn fill(&mut self, ctx: &Context) {
        let block: Vec<Resource> = self.source.by_ref().take(Self::BLOCK).collect();
        // Only files the journal knows are measured: a fresh download measures nothing.
        let known = ctx.journal.done_count();
        let check = |part: &[Resource]| -> Vec<Option<u64>> {
            let mut sizes = ctx.out.sizes();
            part.iter()
                .map(|r| resource::journalled_size(ctx, r, &mut sizes))
                .collect()
        };
        let sizes = if self.threads > 1 && known >= 64 && block.len() >= 64 {
            let (a, b) = block.split_at(block.len() / 2);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| check(b));
                let mut sizes = check(a);
                // A panic there is a bug; the resources are then checked here.
                sizes.extend(other.join().unwrap_or_else(|_| check(b)));
                sizes
            })
        } else {
            check(&block)
        };
        self.ready.extend(block.into_iter().zip(sizes));
    }
}

/// The resource and outcome of a finished download task. A task that panicked (or was
/// aborted) is a failure of its resource, never dropped: the run cannot end "complete" with a
/// file missing.
fn joined<R>(
    in_flight: &mut HashMap<tokio::task::Id, R>,
    result: Result<(tokio::task::Id, Outcome), JoinError>,
) -> Option<(R, Outcome)> {
    let (id, outcome) = match result {
        Ok((id, outcome)) => (id, outcome),
        Err(error) => {
            let id = error.id();
            let reason = if error.is_panic() {
                let payload = error.into_panic();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_string());
                format!("internal error: the download stopped on a panic ({message})")
            } else {
                "internal error: the download task was cancelled".to_string()
            };
            (
                id,
                Outcome::Failed {
                    reason,
                    status: None,
                },
            )
        }
    };
    in_flight.remove(&id).map(|res| (res, outcome))
}

fn record(ctx: &Context, summary: &mut Summary, res: &Resource, outcome: Outcome) {
    match outcome {
        Outcome::Complete { status, size, body } => {
            match status {
                FileStatus::Downloaded => {
                    summary.downloaded_files += 1;
                    summary.downloaded_segments += res.segments;
                }
                FileStatus::AlreadyComplete | FileStatus::Verified => {
                    summary.complete_files += 1;
                    summary.complete_segments += res.segments;
                    if status == FileStatus::Verified {
                        summary.verified_files += 1;
                    }
                }
            }
            summary.complete_bytes += size;
            ctx.sink.event(&Event::FileDone {
                path: &res.path,
                url: &res.url,
                segments: res.segments,
                size,
                status,
                body: body.as_ref(),
            });
        }
        Outcome::Failed { reason, .. } => {
            summary.failed_files += 1;
            summary.failed_segments += res.segments;
            ctx.sink.event(&Event::Failed {
                path: &res.path,
                url: &res.url,
                segments: res.segments,
                reason: &reason,
            });
            summary.failures.push(FailedFile {
                url: res.url.to_string(),
                path: crate::store::journal_key(&res.path),
                segments: res.segments,
                reason,
            });
        }
        Outcome::Interrupted => summary.pending_files += 1,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_task_is_a_failure_of_its_resource() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut tasks: JoinSet<Outcome> = JoinSet::new();
            let mut in_flight = HashMap::new();
            let ok = tasks.spawn(async {
                Outcome::Complete {
                    status: FileStatus::Downloaded,
                    size: 1,
                    body: None,
                }
            });
            in_flight.insert(ok.id(), "good.m4s");
            let bad = tasks.spawn(async {
                let sizes: Vec<u64> = Vec::new();
                // A bug in a download: indexing past the end.
                Outcome::Complete {
                    status: FileStatus::Downloaded,
                    size: sizes[std::hint::black_box(3)],
                    body: None,
                }
            });
            in_flight.insert(bad.id(), "bad.m4s");
            let mut seen = Vec::new();
            while let Some(result) = tasks.join_next_with_id().await {
                let (name, outcome) = joined(&mut in_flight, result).unwrap();
                seen.push((name, format!("{outcome:?}")));
            }
            seen.sort();
            assert_eq!(seen.len(), 2);
            assert_eq!(seen[0].0, "bad.m4s");
            assert!(
                seen[0].1.contains("Failed") && seen[0].1.contains("panic"),
                "{}",
                seen[0].1
            );
            assert!(seen[1].1.contains("Complete"));
            assert!(in_flight.is_empty());
        });
    }
}
