//! Progress events: what the engine tells the outside world while it works. The engine never
//! prints; a binary (or a test) implements [`ProgressSink`] and decides what to show.

use std::path::Path;
use std::time::Duration;

use url::Url;

/// How a file came to be complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Fetched (or finished from a part file) in this run.
    Downloaded,
    /// Recorded in the journal with its size on disk matching: no request made.
    AlreadyComplete,
    /// Found on disk and confirmed by the server's size (no journal entry, or `--verify`).
    Verified,
}

/// One thing that happened during a download.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// The manifest is saved and planned; its files are about to be made complete.
    Manifest {
        /// The plan (after `-r`).
        plan: &'a crate::plan::Plan,
        /// The manifest's bytes, as saved.
        bytes: &'a [u8],
        /// Its file name in the output folder.
        name: &'a str,
    },
    /// The work ahead: distinct files (download units) and the plan's segments.
    Planned {
        /// Files to make complete.
        files: usize,
        /// Segments of the plan they hold.
        segments: usize,
    },
    /// The size of a file became known: `bytes` more are expected in total.
    Expected {
        /// Bytes added to the expected total.
        bytes: u64,
    },
    /// Bytes received and written (to a part file).
    Received {
        /// Bytes in this chunk.
        bytes: u64,
    },
    /// A file is complete under its final name.
    FileDone {
        /// Local path, relative to the output folder.
        path: &'a Path,
        /// Where it comes from.
        url: &'a Url,
        /// The plan's segments it holds.
        segments: usize,
        /// Its size.
        size: u64,
        /// How it became complete.
        status: FileStatus,
        /// Its box structure, when it was received whole in this run and
        /// [`FetchOptions::keep_boxes`](super::FetchOptions::keep_boxes) allows.
        body: Option<&'a crate::isobmff::Skeleton>,
    },
    /// An attempt failed and will be retried after `delay`.
    Retrying {
        /// Local path, relative to the output folder.
        path: &'a Path,
        /// The URL.
        url: &'a Url,
        /// Number of the next attempt (2 = first retry).
        attempt: u32,
        /// Wait before it.
        delay: Duration,
        /// What went wrong.
        reason: &'a str,
    },
    /// A file that was complete on disk is not what the server has now (`--verify`, or a file
    /// without journal entry): it is downloaded again.
    Mismatch {
        /// Local path, relative to the output folder.
        path: &'a Path,
        /// The URL.
        url: &'a Url,
        /// What differs.
        reason: &'a str,
    },
    /// Something the user should know that stops nothing (a plan warning: a part of the
    /// manifest that gives nothing to download, and why).
    Warning {
        /// What, in one line.
        message: &'a str,
    },
    /// A file failed for good in this run.
    Failed {
        /// Local path, relative to the output folder.
        path: &'a Path,
        /// The URL.
        url: &'a Url,
        /// The plan's segments it holds.
        segments: usize,
        /// Why.
        reason: &'a str,
    },
}

/// Receives the engine's events. Called from several tasks at once: implementations must be
/// cheap and must not block.
pub trait ProgressSink: Send + Sync {
    /// One event.
    fn event(&self, event: &Event<'_>);
}

/// A sink that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn event(&self, _event: &Event<'_>) {}
}
