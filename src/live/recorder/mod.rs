//! The live recorder: follows a dynamic manifest with a synchronised clock and records every
//! selected representation into the mirrored tree, with the guarantees of a static download
//! (`.part` + rename, a journal that makes a re-run resume without requests for finished
//! segments, nothing lost silently). See DESIGN.md, "Live presentations".
//!
//! One loop: fetch the manifest (conditional GET, `Location`, an older `publishTime` archived
//! but not applied), synchronise the clock (again every few minutes and after a 404 at the
//! edge), fetch what is available and not journalled (earliest due first, `--threads` at
//! once; a 404 asked again until the segment is due, then a gap), report what expired unfetched
//! as gaps, rewrite the static MPD of the recording, and sleep until the next segment or the
//! next refresh. It stops at `--duration`, `--until`, the end of the presentation, or Ctrl-C.

mod lag;
mod list;
mod net;
mod session;
mod state;

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

pub use list::{LiveListing, available_now};
pub use state::{Gap, RecorderState};

use crate::fetch::{Cancel, FetchOptions, FetchedManifest, ManifestError};
use crate::live::LiveError;
use crate::live::clock::ClockError;
use crate::live::time::UnixNanos;

/// What to record, and how.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The manifest's URL.
    pub manifest_url: Url,
    /// The output folder.
    pub output: PathBuf,
    /// Only these representations (all when empty).
    pub reps: Vec<String>,
    /// Start from the oldest segment in the time-shift buffer instead of the live edge.
    pub from_start: bool,
    /// Stop once every representation holds this much media from where it began.
    pub duration: Option<Duration>,
    /// Stop at this wall-clock instant (server time, Unix ns).
    pub until: Option<UnixNanos>,
    /// How long the manifest may stay 404/410 before the presentation counts as ended.
    pub gone_grace: Duration,
    /// How often the clock is synchronised again.
    pub resync_every: Duration,
    /// Run `mp4dump --check`'s checks on each segment as it lands (`dashget --check`).
    pub check: bool,
    /// Refresh with MPD Patch when the manifest offers a `PatchLocation`.
    pub mpd_patch: bool,
    /// Ask for low-latency segments (`availabilityTimeComplete="false"`) at their availability
    /// less `availabilityTimeOffset` and take them in as they are written; off: once complete.
    pub low_latency: bool,
    /// Engine settings (threads, retries, timeouts, headers).
    pub fetch: FetchOptions,
}

impl RecordOptions {
    /// Options with the defaults: live edge, no limit, 10 s grace, re-sync every 5 minutes.
    pub fn new(manifest_url: Url, output: PathBuf, fetch: FetchOptions) -> RecordOptions {
        RecordOptions {
            manifest_url,
            output,
            reps: Vec::new(),
            from_start: false,
            duration: None,
            until: None,
            gone_grace: Duration::from_secs(10),
            resync_every: Duration::from_secs(300),
            check: false,
            mpd_patch: true,
            low_latency: true,
            fetch,
        }
    }
}

/// Why the recording stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// `--duration` reached in every representation.
    Duration,
    /// `--until` passed.
    Until,
    /// The manifest turned static.
    Static,
    /// `mediaPresentationDuration` or the last Period's duration reached.
    MediaEnd,
    /// `availabilityEndTime` passed.
    AvailabilityEnd,
    /// The manifest stayed 404/410 past the grace period.
    ManifestGone,
    /// Ctrl-C.
    Interrupted,
    /// The server refused (401/403) every selected representation.
    Refused,
    /// Every selected representation's last segment (`lmsg`) was recorded.
    LastSegment,
}

impl StopReason {
    /// Why the recording stopped, in words.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::Duration => "the --duration was recorded",
            StopReason::Until => "the --until time came",
            StopReason::Static => "the presentation ended (the manifest turned static)",
            StopReason::MediaEnd => "the presentation ended (its media end was reached)",
            StopReason::AvailabilityEnd => "the presentation's availabilityEndTime passed",
            StopReason::ManifestGone => "the manifest is gone (404/410)",
            StopReason::Interrupted => "interrupted",
            StopReason::Refused => "the server refused every representation (401/403)",
            StopReason::LastSegment => "every representation's last segment (lmsg) was recorded",
        }
    }
}

/// Per representation, what the recording holds.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RepresentationSummary {
    /// `Representation@id` (one entry per track, however many Periods it crosses).
    pub stream: String,
    /// Segments recorded (this run and earlier ones).
    pub segments: usize,
    /// Where its recording began, seconds after AST.
    pub start_seconds: f64,
    /// The end of what is recorded or reported, seconds after AST.
    pub end_seconds: f64,
    /// Where its recording began, as a wall-clock time (RFC 3339, UTC).
    pub start_time: String,
    /// The end of what is recorded or reported, as a wall-clock time.
    pub end_time: String,
}

/// What a recording did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordSummary {
    /// The static manifest of the recording (relative to the output folder).
    pub manifest: String,
    /// Segments fetched in this run (init segments included).
    pub downloaded_segments: usize,
    /// Segments already journalled (no request made).
    pub complete_segments: usize,
    /// Bytes received in this run.
    pub bytes: u64,
    /// Every gap of the recording, with its time and reason.
    pub gaps: Vec<Gap>,
    /// Per representation.
    pub representations: Vec<RepresentationSummary>,
    /// Server time − local time, seconds.
    pub clock_offset_seconds: f64,
    /// How far the true offset may be from it, seconds.
    pub clock_uncertainty_seconds: f64,
    /// Where the time came from, in words.
    pub clock: String,
    /// Manifest snapshots kept under `.dashget/manifests/`.
    pub manifest_snapshots: usize,
    /// How the manifest was refreshed: full fetches, patches, bytes.
    pub manifest_traffic: ManifestTraffic,
    /// How far behind the live edge segments landed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag: Option<LagSummary>,
    /// Why it stopped.
    pub stopped: StopReason,
    /// Wall time, seconds.
    pub elapsed_seconds: f64,
    /// What `--check` found, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<crate::check::CheckSummary>,
}

impl RecordSummary {
    /// True when the recording holds every segment of its span and was not interrupted.
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty() && self.stopped != StopReason::Interrupted
    }
}

/// How a recording kept its manifest current.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ManifestTraffic {
    /// Full manifests received (the first one included; 304s not counted).
    pub full: usize,
    /// MPD Patches received and applied.
    pub patches: usize,
    /// Patches that could not be had or applied, replaced by a full manifest.
    pub patch_fallbacks: usize,
    /// Bytes of manifests and patches received.
    pub bytes: u64,
}

/// How far behind the live edge the recording ran: for each media segment asked for at the
/// edge (within one segment duration of its availability), the time from its end on the
/// origin's clock (when its last byte could exist) to its file being in place.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LagSummary {
    /// Segments measured.
    pub segments: u64,
    /// Median, seconds (to the millisecond).
    pub median_seconds: f64,
    /// 95th percentile, seconds.
    pub p95_seconds: f64,
    /// Largest, seconds.
    pub max_seconds: f64,
    /// Whether segments were taken in as they were written (low latency, chunked transfer).
    pub low_latency: bool,
    /// The largest `availabilityTimeOffset` used, seconds.
    pub availability_time_offset_seconds: f64,
    /// The service's latency (`ServiceDescription/Latency`), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_latency: Option<String>,
}

/// What the recorder reports as it goes; the binary prints it.
#[derive(Debug, Clone)]
pub enum LiveEvent<'a> {
    /// Something the user should hear about (a clock fallback, a stale snapshot).
    Warning(&'a str),
    /// The clock was synchronised.
    Clock(&'a str),
    /// Something worth knowing about the stream (low latency, the service's latency target).
    Info(&'a str),
    /// A segment was recorded.
    Segment {
        /// Its path, relative to the output folder.
        path: &'a str,
        /// Its size.
        size: u64,
    },
    /// A segment could not be had.
    Gap(&'a Gap),
    /// Where each track stands after a batch.
    Status(&'a RecordingStatus),
    /// A `--check` finding, as it is made.
    Finding(&'a crate::check::Finding),
}

/// Where a recording stands: one entry per track (a Representation followed across Periods),
/// in presentation order, positions as wall-clock instants (Unix ns: availabilityStartTime plus
/// the presentation time, so that a live position reads as the time it was broadcast).
#[derive(Debug, Clone, Default)]
pub struct RecordingStatus {
    /// The synchronised server time.
    pub now: UnixNanos,
    /// Per track.
    pub tracks: Vec<TrackStatus>,
    /// Where the recording stops, when `--duration` or `--until` says (the instant the live
    /// edge reaches it).
    pub target: Option<UnixNanos>,
}

/// One track of a [`RecordingStatus`].
#[derive(Debug, Clone)]
pub struct TrackStatus {
    /// `Representation@id`.
    pub representation: String,
    /// The end of the newest segment available.
    pub edge: UnixNanos,
    /// The end of what is recorded (or reported missing).
    pub recorded_to: Option<UnixNanos>,
    /// Segments recorded.
    pub segments: usize,
    /// Gaps.
    pub gaps: usize,
}

/// Receives [`LiveEvent`]s.
pub trait LiveSink: Send + Sync {
    /// Handles one event.
    fn event(&self, event: &LiveEvent<'_>);
}

/// A sink that drops every event.
pub struct Silent;

impl LiveSink for Silent {
    fn event(&self, _: &LiveEvent<'_>) {}
}

/// Why a recording could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The first manifest could not be fetched.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The manifest cannot be followed.
    #[error("{url}: {error}")]
    Live {
        /// The manifest URL.
        url: String,
        /// What is wrong.
        error: LiveError,
    },
    /// No clock.
    #[error(transparent)]
    Clock(#[from] ClockError),
    /// `-r` named representations the manifest does not have.
    #[error("{url}: no representation with id {ids} (the manifest has: {known})")]
    UnknownReps {
        /// The manifest URL.
        url: String,
        /// The unknown ids.
        ids: String,
        /// The known ids.
        known: String,
    },
    /// Something the recorder does not do.
    #[error("{url}: {what}")]
    Unsupported {
        /// The manifest URL.
        url: String,
        /// What.
        what: String,
    },
    /// There is nothing to record, and nothing says there will be (a captured manifest whose
    /// segments all left the time-shift buffer long ago).
    #[error("{url}: nothing to record: {why}")]
    NothingToRecord {
        /// The manifest URL.
        url: String,
        /// Why.
        why: String,
    },
    /// The output folder cannot be written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A file of the recording cannot be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Records the live presentation of `options` until it stops; see the module documentation.
/// `first` is the manifest as just fetched from `options.manifest_url`, when the caller has it
/// (the manifest is then not fetched again to start).
pub async fn record(
    client: &reqwest::Client,
    options: &RecordOptions,
    first: Option<FetchedManifest>,
    sink: &dyn LiveSink,
    cancel: &Cancel,
) -> Result<RecordSummary, RecordError> {
    let fetched = match first {
        Some(fetched) if fetched.bytes.is_some() => fetched,
        _ => first_manifest(client, options, cancel).await?,
    };
    session::Session::start(client, options, sink, cancel, fetched)
        .await?
        .run()
        .await
}

/// Fetches the manifest to start from.
pub(crate) async fn first_manifest(
    client: &reqwest::Client,
    options: &RecordOptions,
    cancel: &Cancel,
) -> Result<FetchedManifest, RecordError> {
    Ok(crate::fetch::fetch_manifest(
        client,
        &options.manifest_url,
        None,
        &options.fetch,
        &crate::fetch::NoProgress,
        cancel,
    )
    .await?)
}
