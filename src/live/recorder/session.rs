//! One recording run: the state it carries and its loop (see the parent module).
//!
//! The presentation is one timeline. The recording begins at one instant for every track (the
//! live edge, or the oldest segment of the buffer, decided once and kept across runs), and a
//! track (a Representation followed from Period to Period, [`LiveRepresentation::track`]) is
//! recorded from there on, whichever Periods it crosses; nothing of a Period that ended before
//! that instant is recorded, `--duration` counts from it, and a hole between what a track holds
//! and its next listed segment, at a Period boundary or not, is a gap.
//!
//! Each segment is journalled, logged and added to the recording as soon as its file is in
//! place (a kill loses at most the downloads in flight), and what is written besides the media
//! is constant per segment (see [`super::state`]).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use url::Url;

mod refresh;
mod report;

use super::net::{EngineTime, SegmentFailure};
use super::state::{Entry, Gap, LOG_NAME, RecorderState, SnapshotArchive, journal_identity};
use super::{
    LiveEvent, LiveSink, ManifestTraffic, RecordError, RecordOptions, RecordSummary, StopReason,
};
use crate::fetch::{
    Cancel, FetchedManifest, ManifestValidators, Resource, ResourceFetcher, ResourceOutcome,
};
use crate::live::clock::{ClockSync, LocalClock, ManifestExchange, synchronise};
use crate::live::recording::{RecordedSegment, Recording, RepresentationInfo};
use crate::live::time::UnixNanos;
use crate::live::{LivePresentation, LiveRepresentation, LiveSegment, PresentationEnd, SegmentId};
use crate::store::{EventLog, OutputDir, SegmentIdentity, journal_key};
use refresh::{location, publish_text};

/// Most segments looked at per representation and batch.
const BATCH: usize = 10_000;
/// The longest sleep between two looks at the manifest.
const MAX_SLEEP_NS: i128 = 5_000_000_000;
/// The shortest time between two re-synchronisations prompted by a 404.
const RESYNC_AFTER_404: Duration = Duration::from_secs(10);
/// The first wait before a segment that failed is asked again (doubling, at most
/// [`RETRY_MAX`]): at most once a second, while it is due.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(8);
/// The least time the recording's manifest stays unwritten while segments come in (it is
/// always written when the recording stops).
const MANIFEST_EVERY: Duration = Duration::from_millis(900);

/// A download: an init segment or a media segment, and where it goes.
struct Job {
    rep: usize,
    segment: Option<LiveSegment>,
    url: Url,
    identity: SegmentIdentity,
    path: PathBuf,
    due_by: UnixNanos,
    /// Sent as it is written (low latency): whole only when its boxes are.
    chunked: bool,
    /// Server time when it was asked for.
    asked_at: UnixNanos,
}

/// A segment that failed and is still due.
struct Pending {
    reason: String,
    /// Its start (presentation time).
    start: i128,
    attempts: u32,
    next_try: Instant,
}

pub(super) struct Session<'a> {
    client: &'a reqwest::Client,
    options: &'a RecordOptions,
    sink: &'a dyn LiveSink,
    cancel: &'a Cancel,
    out: OutputDir,
    /// The engine's entry point for single resources (journal, `.part` files, resume, retries).
    fetcher: std::sync::Arc<ResourceFetcher>,
    state: RecorderState,
    /// The state as last written.
    saved_state: Option<RecorderState>,
    log: EventLog,
    archive: SnapshotArchive,
    /// The recording's manifest model, rebuilt from the log on a re-run.
    recording: Recording,
    /// Whether the recording changed since its manifest was last written, and when that was.
    recording_dirty: bool,
    recording_written: Option<Instant>,
    /// Per `period/adaptation-set/representation`: its number in the log.
    logged_reps: HashMap<String, u32>,
    /// Per number in the log: the Representation's description (taken once, not per segment).
    rep_infos: HashMap<u32, RepresentationInfo>,
    /// (Representation number, media time) of every segment in the log.
    /// (kept only ahead of the cursor, [`Session::done_until`]), with their ends.
    logged_segments: HashMap<(u32, i64), i128>,
    /// Per track: the end of what is recorded or reported as missing (presentation time). A
    /// snapshot whose first segment starts later shows a hole.
    ends: HashMap<String, i128>,
    /// Per track: segments recorded.
    counts: HashMap<String, usize>,
    /// The tracks the recording holds, in the order first met, with their `Representation@id`.
    recorded_tracks: Vec<(String, String)>,
    gaps: Vec<Gap>,
    /// The manifest's URL where the recording began: local paths are taken relative to the
    /// manifest URL each snapshot came from, so a `Location` move keeps the tree in one place.
    refresh_url: Url,
    /// The URL the snapshot in use came from (after redirects).
    snapshot_url: Url,
    validators: ManifestValidators,
    exchange: ManifestExchange,
    live: std::sync::Arc<LivePresentation>,
    /// Per Representation (`period/adaptation-set/representation`): every segment from the
    /// start of the recording up to here is had or reported.
    done_until: HashMap<String, i128>,
    /// Local time of the start of the fetch of the snapshot in use.
    fetched_at: UnixNanos,
    local: LocalClock,
    sync: ClockSync,
    synced_at: Instant,
    resync_wanted: bool,
    gone_since: Option<Instant>,
    /// When the manifest was last asked for (after the first fetch).
    last_attempt: Option<Instant>,
    /// Whether the last refresh failed (its warning is said once).
    failing: bool,
    fully_described: bool,
    manifest_name: String,
    /// Segments had in this run, or found journalled.
    /// (kept only ahead of the cursor: what lies behind it is never looked at again), with
    /// their ends.
    had: HashMap<SegmentIdentity, i128>,
    gapped: HashSet<String>,
    pending: HashMap<SegmentId, Pending>,
    /// Representations refused by the server (401/403), warned about once.
    refused: HashSet<String>,
    /// `--check`: the checks of each segment as it lands.
    check: Option<crate::check::LiveCheck>,
    /// Per Representation (`period/adaptation-set/representation`) whose last segment (`lmsg`)
    /// was recorded: that segment's end. (In a later Period its track may go on.)
    ended: HashMap<String, i128>,
    /// A segment carried an MPD event (`emsg`): the manifest is fetched again at once.
    refresh_now: bool,
    /// The text of the manifest in use (as fetched, or as patched): what a patch applies to.
    manifest_text: Vec<u8>,
    /// How the manifest was refreshed.
    traffic: ManifestTraffic,
    /// Whether a patch's failure was said (once per recording).
    patch_warned: bool,
    /// The lag behind the live edge of segments asked for at the edge.
    lag: super::lag::LagHistogram,
    /// Whether low latency was said (once).
    low_latency_said: bool,
    downloaded: usize,
    complete: usize,
    bytes: u64,
    started: Instant,
}

pub(super) fn exchange_of(fetched: &FetchedManifest) -> ManifestExchange {
    let sent = fetched
        .requested_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    ManifestExchange {
        sent,
        received: sent + fetched.round_trip.as_nanos() as i128,
        date: fetched.date.map(httpdate::fmt_http_date),
        age: fetched.age,
    }
}

fn seconds(nanos: i128) -> f64 {
    nanos as f64 / 1e9
}

/// The printed identity of a Representation: `period/adaptation-set/representation`.
fn stream_of(live: &LivePresentation, rep: &LiveRepresentation) -> String {
    super::state::stream_key(&SegmentId {
        period: live.period(rep).label.clone(),
        adaptation_set: rep.adaptation_set.clone(),
        representation: rep.id.clone(),
        key: crate::live::SegmentKey::Number(0),
    })
}

impl<'a> Session<'a> {
    pub(super) async fn start(
        client: &'a reqwest::Client,
        options: &'a RecordOptions,
        sink: &'a dyn LiveSink,
        cancel: &'a Cancel,
        fetched: FetchedManifest,
    ) -> Result<Session<'a>, RecordError> {
        let url = options.manifest_url.clone();
        let bytes = fetched.bytes.clone().unwrap_or_default();
        let mut live = LivePresentation::parse(&bytes, &fetched.final_url).map_err(|error| {
            RecordError::Live {
                url: url.to_string(),
                error,
            }
        })?;
        live.low_latency = options.low_latency;
        for skipped in &live.skipped {
            sink.event(&LiveEvent::Warning(&format!(
                "skipped (cannot be recorded live): {skipped}"
            )));
        }
        let known: Vec<&str> = live.representations.iter().map(|r| r.id.as_str()).collect();
        let unknown: Vec<&str> = options
            .reps
            .iter()
            .map(String::as_str)
            .filter(|id| !known.contains(id))
            .collect();
        // One that is there but cannot be recorded says why.
        if let Some(skipped) = live
            .skipped
            .iter()
            .find(|s| unknown.contains(&s.id.as_str()))
        {
            return Err(RecordError::Unsupported {
                url: url.to_string(),
                what: format!("-r {}: cannot be recorded live: {skipped}", skipped.id),
            });
        }
        if !unknown.is_empty() {
            return Err(RecordError::UnknownReps {
                url: url.to_string(),
                ids: unknown.join(", "),
                known: known.join(", "),
            });
        }
        if !live
            .representations
            .iter()
            .any(|r| options.reps.is_empty() || options.reps.contains(&r.id))
        {
            return Err(RecordError::Unsupported {
                url: url.to_string(),
                what: if live.skipped.is_empty() {
                    "the manifest has no representation to record".to_string()
                } else {
                    format!(
                        "no representation can be recorded ({})",
                        live.skipped
                            .iter()
                            .map(|s| s.message.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                },
            });
        }
        let out = OutputDir::create(&options.output)?;
        let fetcher =
            std::sync::Arc::new(ResourceFetcher::open(client, &out, &options.fetch, cancel)?);
        let io = |path: PathBuf| move |source| RecordError::Io { path, source };
        let earlier = RecorderState::load(out.root(), url.as_str());
        let (mut log, entries) = EventLog::open::<Entry>(out.root(), LOG_NAME)
            .map_err(io(out.root().join(crate::store::META_DIR).join(LOG_NAME)))?;
        let entries = match earlier {
            Some(_) => entries,
            None => {
                log.clear().map_err(io(log.path().to_path_buf()))?;
                Vec::new()
            }
        };
        let mut state = earlier.clone().unwrap_or_default();
        state.manifest_url = url.to_string();
        let mut archive = SnapshotArchive::open(&out);
        archive.keep(
            &bytes,
            live.attributes
                .publish_time
                .map(|_| publish_text(&bytes))
                .as_deref(),
        )?;
        let exchange = exchange_of(&fetched);
        let sync = synchronise(
            &live.attributes.utc_timing,
            &exchange,
            &mut EngineTime(client.clone()),
        )
        .await?;
        for warning in sync.warnings.iter().chain(&live.warnings) {
            sink.event(&LiveEvent::Warning(warning));
        }
        sink.event(&LiveEvent::Clock(&sync.describe()));
        state.clock = Some(sync.describe());
        state.availability_start_time = Some(crate::live::time::format_datetime(
            live.availability_start_time,
        ));
        let local = LocalClock::new();
        let fully_described =
            live.attributes.minimum_update_period.is_none() && live.end() != PresentationEnd::Open;
        let publish = live.attributes.publish_time.map(|p| p.instant);
        if state.publish_time < publish {
            state.publish_time = publish;
        }
        let refresh_url = location(&live, &fetched.final_url);
        let mut session = Session {
            client,
            options,
            sink,
            cancel,
            manifest_name: crate::mpd::file_name_of(&fetched.final_url),
            snapshot_url: fetched.final_url.clone(),
            refresh_url,
            validators: fetched.validators.clone(),
            fetched_at: exchange.sent,
            exchange,
            out,
            fetcher,
            state,
            saved_state: earlier,
            log,
            archive,
            recording: Recording::new(),
            recording_dirty: true,
            recording_written: None,
            logged_reps: HashMap::new(),
            rep_infos: HashMap::new(),
            logged_segments: HashMap::new(),
            ends: HashMap::new(),
            counts: HashMap::new(),
            recorded_tracks: Vec::new(),
            gaps: Vec::new(),
            live: std::sync::Arc::new(live),
            done_until: HashMap::new(),
            local,
            sync,
            synced_at: Instant::now(),
            resync_wanted: false,
            gone_since: None,
            last_attempt: None,
            failing: false,
            fully_described,
            had: HashMap::new(),
            gapped: HashSet::new(),
            pending: HashMap::new(),
            refused: HashSet::new(),
            check: options.check.then(crate::check::LiveCheck::new),
            ended: HashMap::new(),
            refresh_now: false,
            manifest_text: bytes.clone(),
            traffic: ManifestTraffic {
                full: 1,
                bytes: bytes.len() as u64,
                ..ManifestTraffic::default()
            },
            patch_warned: false,
            lag: super::lag::LagHistogram::new(),
            low_latency_said: false,
            downloaded: 0,
            complete: 0,
            bytes: 0,
            started: Instant::now(),
        };
        session.replay(entries);
        Ok(session)
    }

    /// Rebuilds the recording, the tracks' ends and the gaps from an earlier run's log.
    fn replay(&mut self, entries: Vec<Entry>) {
        let mut tracks: HashMap<u32, String> = HashMap::new();
        for entry in entries {
            match entry {
                Entry::Representation { n, track, info } => {
                    let stream = super::state::stream_key(&SegmentId {
                        period: info.period.clone(),
                        adaptation_set: info.adaptation_set.clone(),
                        representation: info.id.clone(),
                        key: crate::live::SegmentKey::Number(0),
                    });
                    self.logged_reps.insert(stream, n);
                    self.name_track(&track, &info.id);
                    tracks.insert(n, track);
                    self.rep_infos.insert(n, *info);
                }
                Entry::Init {
                    n,
                    path,
                    media_timescale,
                } => {
                    if let Some(info) = self.rep_infos.get(&n) {
                        self.recording.add_init_of(info, &path);
                        self.recording.set_media_timescale(info, media_timescale);
                    }
                }
                Entry::Segment { n, segment } => {
                    if let (Some(track), Some(info)) = (tracks.get(&n), self.rep_infos.get(&n)) {
                        let (track, end) = (track.clone(), segment.end);
                        self.logged_segments.insert((n, segment.time), end);
                        self.recording.add_segment_of(info, segment);
                        self.advance(&track, end);
                        *self.counts.entry(track).or_insert(0) += 1;
                    }
                }
                Entry::Gap { track, end, gap } => {
                    self.advance(&track, end);
                    self.gapped.insert(gap.segment.clone());
                    self.gaps.push(gap);
                }
            }
        }
    }

    fn advance(&mut self, track: &str, end: i128) {
        let entry = self.ends.entry(track.to_string()).or_insert(end);
        *entry = (*entry).max(end);
    }

    /// The number of `rep` in the log, written there on first use.
    fn log_number(&mut self, rep: &LiveRepresentation) -> Result<u32, RecordError> {
        let stream = stream_of(&self.live, rep);
        if let Some(&n) = self.logged_reps.get(&stream) {
            return Ok(n);
        }
        let n = u32::try_from(self.logged_reps.len()).unwrap_or(u32::MAX);
        let info = RepresentationInfo::of(&self.live, rep);
        self.append(&Entry::Representation {
            n,
            track: rep.track.clone(),
            info: Box::new(info.clone()),
        })?;
        self.logged_reps.insert(stream, n);
        self.rep_infos.insert(n, info);
        self.name_track(&rep.track, &rep.id);
        Ok(n)
    }

    /// Remembers a track of the recording (in the order first met) and what it is called.
    fn name_track(&mut self, track: &str, id: &str) {
        if !self.recorded_tracks.iter().any(|(t, _)| t == track) {
            self.recorded_tracks
                .push((track.to_string(), id.to_string()));
        }
    }

    fn append(&mut self, entry: &Entry) -> Result<(), RecordError> {
        self.log.append(entry).map_err(|source| RecordError::Io {
            path: self.log.path().to_path_buf(),
            source,
        })
    }

    /// The loop, until the recording stops.
    pub(super) async fn run(mut self) -> Result<RecordSummary, RecordError> {
        let stopped = loop {
            if self.cancel.is_cancelled() {
                break StopReason::Interrupted;
            }
            if self.resync_due() {
                self.resync().await;
            }
            let t = self.surely_now();
            if self.options.until.is_some_and(|u| t >= u) {
                break StopReason::Until;
            }
            self.batch(t).await?;
            self.save(false)?;
            if self.cancel.is_cancelled() {
                break StopReason::Interrupted;
            }
            if let Some(reason) = self.finished(self.surely_now()) {
                break reason;
            }
            self.sleep().await;
            if self.cancel.is_cancelled() {
                break StopReason::Interrupted;
            }
            if let Some(reason) = self.refresh_if_due().await? {
                break reason;
            }
        };
        // Whatever failed and is not had by now is missing from the span.
        if stopped != StopReason::Interrupted {
            self.forget_past_the_end();
            let pending: Vec<(SegmentId, Pending)> = self.pending.drain().collect();
            for (id, failed) in pending {
                if stopped == StopReason::ManifestGone && failed.reason.contains("HTTP 404") {
                    // The stream ended: a segment past its end never came to be.
                    continue;
                }
                if let Some(rep) = self.rep_of(&id)
                    && let Some(segment) = self.find_segment(&rep, &id, failed.start)
                {
                    self.add_gap(
                        &rep,
                        &segment,
                        format!("{} when the recording stopped", failed.reason),
                    )?;
                }
            }
        }
        let _ = self.fetcher.sync();
        let _ = self.log.sync();
        self.save(true)?;
        let mut summary = self.summary(stopped);
        if let Some(check) = self.check.take() {
            let (found, checked) = check.finish();
            for finding in &found {
                self.sink.event(&LiveEvent::Finding(finding));
            }
            summary.check = Some(checked);
        }
        Ok(summary)
    }

    /// The earliest the server's clock can read now.
    fn surely_now(&self) -> UnixNanos {
        self.sync.server_time(self.local.now()) - i128::from(self.sync.uncertainty)
    }

    /// Whether the snapshot describes no further segment to wait for at `t` (a closed timeline
    /// of a dynamic manifest): only a refresh can bring more.
    fn stuck(&self, t: UnixNanos) -> bool {
        self.live.dynamic
            && self
                .selected_reps()
                .all(|r| self.live.next_availability(r, t).is_none())
    }

    fn selected(&self, rep: &LiveRepresentation) -> bool {
        self.options.reps.is_empty() || self.options.reps.contains(&rep.id)
    }

    fn selected_reps(&self) -> impl Iterator<Item = &LiveRepresentation> {
        self.live
            .representations
            .iter()
            .filter(|r| self.selected(r))
    }

    /// Where the recording begins: decided once, at the first snapshot that has something
    /// available, and kept across runs. `None` while nothing is available.
    fn origin(&mut self, t: UnixNanos) -> Option<i128> {
        if let Some(origin) = self.state.origin {
            return Some(origin);
        }
        let origin = if self.options.from_start || self.fully_described {
            // The oldest segment still in the buffer, less those about to leave it: a segment
            // due within a quarter of the buffer (at most 2 s) could be lost to a slow start.
            let margin = self
                .live
                .attributes
                .time_shift_buffer_depth
                .map_or(0, |d| (i128::from(d) / 4).min(2_000_000_000));
            self.selected_reps()
                .filter_map(|rep| {
                    self.live
                        .available_segments(rep, t, None, 1)
                        .into_iter()
                        .next()
                        .map(|first| {
                            self.live
                                .available_segments(rep, t.saturating_add(margin), None, 1)
                                .into_iter()
                                .next()
                                .filter(|s| s.available_from <= t)
                                .unwrap_or(first)
                                .start
                        })
                })
                .min()
        } else {
            // The live edge: the newest segment available in any Period; every track starts
            // where the edge segments of that Period start.
            let edges: Vec<(usize, LiveSegment)> = self
                .selected_reps()
                .filter_map(|rep| self.live.live_edge(rep, t).map(|s| (rep.period, s)))
                .filter(|(_, s)| s.due_by >= t)
                .collect();
            let newest = edges.iter().max_by_key(|(_, s)| s.start)?;
            let period = newest.0;
            edges
                .iter()
                .filter(|(p, _)| *p == period)
                .map(|(_, s)| s.start)
                .min()
        }?;
        self.state.origin = Some(origin);
        Some(origin)
    }

    /// Refuses a manifest whose newest segment left the time-shift buffer more than a minute
    /// ago, when nothing has been recorded yet: a captured manifest, not a live stream.
    fn nothing_to_record(&self, t: UnixNanos) -> Result<(), RecordError> {
        const STALE_NS: i128 = 60_000_000_000;
        let newest = self
            .selected_reps()
            .filter_map(|rep| self.live.live_edge(rep, t))
            .map(|s| s.due_by)
            .max();
        match newest {
            Some(due) if due < t - STALE_NS => Err(RecordError::NothingToRecord {
                url: self.options.manifest_url.to_string(),
                why: format!(
                    "no segment is in the time-shift buffer: the newest one the manifest describes left it {:.0} s ago (a captured manifest?)",
                    seconds(t - due)
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The end of the span `--duration` asks for.
    fn limit(&self, origin: i128) -> i128 {
        self.options
            .duration
            .map_or(i128::MAX, |d| origin.saturating_add(d.as_nanos() as i128))
    }

    /// Whether `rep` has anything in the span `[origin, limit)`: its Period did not end before
    /// the origin and does not start after the limit.
    fn in_span(&self, rep: &LiveRepresentation, origin: i128, limit: i128) -> bool {
        let start = i128::from(self.live.period(rep).start);
        start < limit && self.live.period_end(rep).is_none_or(|end| end > origin)
    }

    /// One batch at server time `t`: gaps for what expired, downloads for what is available.
    async fn batch(&mut self, t: UnixNanos) -> Result<(), RecordError> {
        self.say_low_latency();
        let Some(jobs) = self.jobs(t)? else {
            self.status(t);
            return Ok(());
        };
        self.download(jobs).await?;
        self.forget_behind_the_cursor();
        self.status(t);
        Ok(())
    }

    /// What to fetch at server time `t`, earliest due first (gaps reported for what expired):
    /// `None` while the recording has not begun.
    fn jobs(&mut self, t: UnixNanos) -> Result<Option<Vec<Job>>, RecordError> {
        let Some(origin) = self.origin(t) else {
            self.nothing_to_record(t)?;
            return Ok(None);
        };
        // Where the recording begins is on disk before anything of it is.
        self.save_state()?;
        let limit = self.limit(origin);
        // What each track holds or is about to get in this batch: a hole is measured against
        // it, so a Period's segments queued here count before the next Period's.
        let mut covered = self.ends.clone();
        let now = Instant::now();
        let mut jobs = Vec::new();
        let reps: Vec<usize> = (0..self.live.representations.len())
            .filter(|&i| self.selected(&self.live.representations[i]))
            .collect();
        for ri in reps {
            let rep = self.live.representations[ri].clone();
            if !self.in_span(&rep, origin, limit) || self.refused.contains(&rep.track) {
                continue;
            }
            if let Some((url, range)) = &rep.init
                && t >= self.live.init_available_from(&rep)
            {
                if range.is_some() {
                    return Err(self.unsupported("an init segment given as a byte range"));
                }
                let identity = SegmentIdentity {
                    period: self.live.period(&rep).label.clone(),
                    adaptation_set: rep.adaptation_set.clone(),
                    representation: rep.id.clone(),
                    key: crate::store::SegmentKey::Init,
                };
                let path = self.local_path(url);
                if self.had.contains_key(&identity) {
                } else if self.fetcher.journal().segment(&identity).is_some() {
                    self.had.insert(identity, i128::MAX);
                    self.complete += 1;
                    self.recorded_init(&rep, &journal_key(&path))?;
                } else {
                    jobs.push(Job {
                        rep: ri,
                        segment: None,
                        url: url.clone(),
                        identity,
                        path,
                        due_by: i128::MIN,
                        chunked: false,
                        asked_at: t,
                    });
                }
            }
            self.unseen_hole(&rep, t, origin, limit, &mut covered)?;
            let ended = self
                .ended
                .get(&stream_of(&self.live, &rep))
                .copied()
                .unwrap_or(i128::MAX);
            // Every segment before the cursor is had or reported: each batch looks only at what
            // follows (its cost does not grow with the recording).
            let stream = stream_of(&self.live, &rep);
            let since = origin.max(self.done_until.get(&stream).copied().unwrap_or(origin));
            let live = self.live.clone();
            let mut prefix = true;
            for segment in live.segments(&rep, t, Some(since), true) {
                if segment.start >= limit || segment.start >= ended {
                    break;
                }
                let identity = journal_identity(&segment.id);
                if !self.is_had(&rep, &segment, &identity)?
                    && !self.gapped.contains(&segment.id.to_string())
                {
                    let reason = match self.pending.remove(&segment.id) {
                        Some(failed) => {
                            format!("{} until it left the time-shift buffer", failed.reason)
                        }
                        None => "left the time-shift buffer before it could be fetched".to_string(),
                    };
                    self.add_gap(&rep, &segment, reason)?;
                }
                if prefix {
                    self.done_until.insert(stream.clone(), segment.end);
                }
            }
            let mut queued = 0usize;
            for segment in live.segments(&rep, t, Some(since), false) {
                if segment.start >= limit || segment.start >= ended || queued >= BATCH {
                    break;
                }
                if segment.range.is_some() {
                    return Err(self.unsupported("SegmentList@mediaRange segments"));
                }
                let entry = covered.entry(rep.track.clone()).or_insert(segment.end);
                *entry = (*entry).max(segment.end);
                let identity = journal_identity(&segment.id);
                if self.is_had(&rep, &segment, &identity)?
                    || self.gapped.contains(&segment.id.to_string())
                {
                    if prefix {
                        self.done_until.insert(stream.clone(), segment.end);
                    }
                    continue;
                }
                prefix = false;
                if self
                    .pending
                    .get(&segment.id)
                    .is_some_and(|p| p.next_try > now)
                {
                    continue;
                }
                queued += 1;
                jobs.push(Job {
                    rep: ri,
                    path: self.local_path(&segment.url),
                    url: segment.url.clone(),
                    due_by: segment.due_by,
                    identity,
                    chunked: self.live.chunked(&rep),
                    asked_at: t,
                    segment: Some(segment),
                });
            }
        }
        jobs.sort_by_key(|j| j.due_by);
        Ok(Some(jobs))
    }

    /// Drops what is known of segments behind each Representation's cursor: nothing there is
    /// looked at again, so memory holds what is ahead (the buffer), not the whole recording.
    fn forget_behind_the_cursor(&mut self) {
        let done = &self.done_until;
        self.had.retain(|id, end| {
            let stream = super::state::stream_key(&SegmentId {
                period: id.period.clone(),
                adaptation_set: id.adaptation_set.clone(),
                representation: id.representation.clone(),
                key: crate::live::SegmentKey::Number(0),
            });
            done.get(&stream).is_none_or(|&cursor| *end > cursor)
        });
        let streams: HashMap<u32, &String> =
            self.logged_reps.iter().map(|(s, &n)| (n, s)).collect();
        self.logged_segments.retain(|(n, _), end| {
            streams
                .get(n)
                .and_then(|s| done.get(*s))
                .is_none_or(|&cursor| *end > cursor)
        });
    }

    /// The local path of a segment URL: relative to the manifest URL of the snapshot in use,
    /// as a static mirror would place it (the layout's one rule), so that a manifest moved by
    /// `Location` keeps its segments where the first snapshot put them.
    fn local_path(&self, url: &Url) -> PathBuf {
        crate::layout::local_path(&self.snapshot_url, url)
    }

    /// Whether a segment is already had (this run, or journalled by an earlier one; then it
    /// goes into the recording without a request).
    fn is_had(
        &mut self,
        rep: &LiveRepresentation,
        segment: &LiveSegment,
        identity: &SegmentIdentity,
    ) -> Result<bool, RecordError> {
        if self.had.contains_key(identity) {
            return Ok(true);
        }
        if self.fetcher.journal().segment(identity).is_none() {
            return Ok(false);
        }
        self.had.insert(identity.clone(), segment.end);
        self.complete += 1;
        let path = self.local_path(&segment.url);
        self.recorded_segment(rep, segment, &journal_key(&path))?;
        Ok(true)
    }

    /// Adds an init segment to the recording (and to its log, once).
    fn recorded_init(&mut self, rep: &LiveRepresentation, path: &str) -> Result<(), RecordError> {
        use std::io::Read as _;
        let n = self.log_number(rep)?;
        let mut head = Vec::new();
        let media_timescale = std::fs::File::open(self.out.root().join(path))
            .and_then(|f| f.take(1 << 20).read_to_end(&mut head))
            .ok()
            .and_then(|_| crate::live::inband::media_timescale(&head));
        if let Some(info) = self.rep_infos.get(&n) {
            self.recording.add_init_of(info, path);
            self.recording.set_media_timescale(info, media_timescale);
        }
        self.recording_dirty = true;
        self.append(&Entry::Init {
            n,
            path: path.to_string(),
            media_timescale,
        })
    }

    /// Adds a media segment to the recording (and to its log, once).
    fn recorded_segment(
        &mut self,
        rep: &LiveRepresentation,
        segment: &LiveSegment,
        path: &str,
    ) -> Result<(), RecordError> {
        let n = self.log_number(rep)?;
        let recorded = RecordedSegment::of(segment, path);
        if self
            .logged_segments
            .insert((n, segment.time), segment.end)
            .is_none()
        {
            self.append(&Entry::Segment {
                n,
                segment: recorded.clone(),
            })?;
            *self.counts.entry(rep.track.clone()).or_insert(0) += 1;
        }
        if let Some(info) = self.rep_infos.get(&n) {
            self.recording.add_segment_of(info, recorded);
        }
        self.recording_dirty = true;
        self.advance(&rep.track, segment.end);
        Ok(())
    }

    /// A hole between what a track holds (or is getting in this batch) and the first segment
    /// the manifest lists now for `rep`: segments that left the buffer while no snapshot listed
    /// them (a long outage of the manifest), or, at a Period boundary, media missing between
    /// the end of one Period and the first segment of the next. Reported as one gap. (A hole
    /// inside the listed timeline, an encoder outage, is media that never existed: the
    /// recording shows it and holds every segment there is.)
    fn unseen_hole(
        &mut self,
        rep: &LiveRepresentation,
        t: UnixNanos,
        origin: i128,
        limit: i128,
        covered: &mut HashMap<String, i128>,
    ) -> Result<(), RecordError> {
        let Some(&frontier) = covered.get(&rep.track) else {
            return Ok(());
        };
        if frontier < origin || frontier >= limit {
            return Ok(());
        }
        let first = self
            .live
            .expired_segments(rep, t, None, 1)
            .into_iter()
            .chain(self.live.available_segments(rep, t, None, 1))
            .min_by_key(|s| s.start);
        let Some(first) = first else {
            return Ok(());
        };
        if first.start <= frontier {
            return Ok(());
        }
        let end = first.start.min(limit);
        let stream = stream_of(&self.live, rep);
        let gap = Gap {
            segment: format!("{stream}/from={frontier}"),
            representation: rep.id.clone(),
            start_seconds: seconds(frontier),
            start_time: self.wall_clock(frontier),
            duration_seconds: seconds(end - frontier),
            reason: if i128::from(self.live.period(rep).start) >= frontier {
                format!(
                    "not in the manifest: Period {} starts at {:.3}s, its first segment at {:.3}s",
                    self.live.period(rep).label,
                    seconds(i128::from(self.live.period(rep).start)),
                    seconds(first.start)
                )
            } else {
                "left the time-shift buffer unseen: no manifest snapshot listed these segments while they were available".to_string()
            },
        };
        covered.insert(rep.track.clone(), end);
        self.record_gap(&rep.track, end, gap)
    }

    /// A presentation time (nanoseconds after AST) as a wall-clock time, RFC 3339.
    fn wall_clock(&self, presentation: i128) -> String {
        crate::live::time::format_datetime(
            self.live
                .availability_start_time
                .saturating_add(presentation),
        )
    }

    fn add_gap(
        &mut self,
        rep: &LiveRepresentation,
        segment: &LiveSegment,
        reason: String,
    ) -> Result<(), RecordError> {
        if let Some(check) = self.check.as_mut() {
            check.gap(&check_info(&self.live, rep), segment.time);
            for finding in check.findings() {
                self.sink.event(&LiveEvent::Finding(&finding));
            }
        }
        let gap = Gap {
            segment: segment.id.to_string(),
            representation: rep.id.clone(),
            start_seconds: seconds(segment.start),
            start_time: self.wall_clock(segment.start),
            duration_seconds: seconds(segment.end - segment.start),
            reason,
        };
        self.record_gap(&rep.track, segment.end, gap)
    }

    fn record_gap(&mut self, track: &str, end: i128, gap: Gap) -> Result<(), RecordError> {
        if !self.gapped.insert(gap.segment.clone()) {
            return Ok(());
        }
        self.sink.event(&LiveEvent::Gap(&gap));
        self.advance(track, end);
        self.append(&Entry::Gap {
            track: track.to_string(),
            end,
            gap: gap.clone(),
        })?;
        self.gaps.push(gap);
        Ok(())
    }

    /// Downloads the jobs, `--threads` at once, through the engine, and records each outcome
    /// as it comes: the journal, the log and the recording know of a segment as soon as its
    /// file is in place.
    async fn download(&mut self, jobs: Vec<Job>) -> Result<(), RecordError> {
        // Checked in the order asked for, whatever order the downloads end in.
        for job in &jobs {
            self.expect_checked(job);
        }
        let threads = self.options.fetch.threads.max(1);
        // Low latency: a segment being written takes until its end to arrive, so the batch
        // does not wait for it to ask for the segments that become available meanwhile.
        let chunked = self.selected_reps().any(|r| self.live.chunked(r));
        let mut asked: HashSet<SegmentIdentity> = jobs.iter().map(|j| j.identity.clone()).collect();
        let mut queue: std::collections::VecDeque<Job> = jobs.into();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < threads {
                let Some(job) = queue.pop_front() else { break };
                let fetcher = self.fetcher.clone();
                // The same segment at the manifest's other BaseURLs: where the engine fails
                // over to.
                let alternates =
                    crate::plan::alternates_of(&self.live.representations[job.rep].bases, &job.url);
                running.push(async move {
                    let resource = Resource {
                        url: job.url.clone(),
                        path: job.path.clone(),
                        segments: 1,
                        min_size: 0,
                        identity: Some(job.identity.clone()),
                        alternates,
                        index: None,
                        whole_boxes: job.chunked,
                    };
                    let result = match fetcher.fetch(&resource).await {
                        ResourceOutcome::Complete { size, body, .. } => Ok((size, body)),
                        ResourceOutcome::Failed { reason, status } => {
                            Err(SegmentFailure::of(reason, status))
                        }
                        ResourceOutcome::Interrupted => Err(SegmentFailure::Interrupted),
                    };
                    (job, result)
                });
            }
            if running.is_empty() {
                break;
            }
            let next_available = if chunked {
                let t = self.surely_now();
                self.selected_reps()
                    .filter_map(|rep| self.live.next_availability(rep, t))
                    .min()
                    .map(|at| self.sync.local_time_when_surely(at))
            } else {
                None
            };
            let wake = next_available.map(|at| self.local.instant_at(at.max(self.local.now())));
            tokio::select! {
                done = running.next() => {
                    if let Some((job, result)) = done {
                        self.outcome(job, result)?;
                    }
                }
                _ = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at.into()).await,
                        None => std::future::pending().await,
                    }
                } => {
                    let t = self.surely_now();
                    let more = self.jobs(t)?.unwrap_or_default();
                    for job in more {
                        if asked.insert(job.identity.clone()) {
                            self.expect_checked(&job);
                            queue.push_back(job);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// `--check`: tells the checker a download was asked for (it checks in that order).
    fn expect_checked(&mut self, job: &Job) {
        if let Some(check) = self.check.as_mut() {
            let rep = &self.live.representations[job.rep];
            check.expect(
                &check_info(&self.live, rep),
                job.segment.as_ref().map(|s| s.time),
            );
        }
    }

    /// `--check`: a segment (or init segment) that landed, checked; findings reported.
    fn check_segment(
        &mut self,
        rep: &LiveRepresentation,
        segment: Option<&LiveSegment>,
        path: &str,
        body: Option<&crate::isobmff::Skeleton>,
    ) {
        let Some(check) = self.check.as_mut() else {
            return;
        };
        let info = check_info(&self.live, rep);
        check.segment(
            &info,
            segment.map(|s| (s.time, s.duration)),
            path,
            body,
            self.out.root(),
        );
        for finding in check.findings() {
            self.sink.event(&LiveEvent::Finding(&finding));
        }
    }

    fn outcome(
        &mut self,
        job: Job,
        result: Result<(u64, Option<crate::isobmff::Skeleton>), SegmentFailure>,
    ) -> Result<(), RecordError> {
        let rep = self.live.representations[job.rep].clone();
        let key = journal_key(&job.path);
        match result {
            Ok((size, body)) => {
                // The engine journalled it; on disk now, so that a kill loses nothing landed.
                let _ = self.fetcher.flush();
                self.downloaded += 1;
                self.bytes += size;
                let end = job.segment.as_ref().map_or(i128::MAX, |s| s.end);
                self.had.insert(job.identity.clone(), end);
                match &job.segment {
                    Some(segment) => {
                        self.measure_lag(&job, segment);
                        self.pending.remove(&segment.id);
                        self.recorded_segment(&rep, segment, &key)?;
                        self.inband(&rep, segment, &job.path);
                    }
                    None => self.recorded_init(&rep, &key)?,
                }
                self.sink.event(&LiveEvent::Segment { path: &key, size });
                self.check_segment(&rep, job.segment.as_ref(), &key, body.as_ref());
            }
            Err(SegmentFailure::Interrupted) => {}
            Err(SegmentFailure::Refused(reason)) => {
                // Asking again will not help: the segment is a gap, and the representation is
                // not asked for more in this run.
                if self.refused.insert(rep.track.clone()) {
                    self.sink.event(&LiveEvent::Warning(&format!(
                        "{}: {reason} for {}; this representation is not recorded further",
                        rep.id, job.url
                    )));
                }
                if let Some(segment) = &job.segment {
                    self.add_gap(&rep, segment, reason)?;
                }
            }
            Err(SegmentFailure::Missing(reason) | SegmentFailure::Failed(reason)) => {
                // Asked again, with backoff, until it is due; reported then.
                if reason.contains("HTTP 404") && self.synced_at.elapsed() >= RESYNC_AFTER_404 {
                    self.resync_wanted = true;
                }
                if let Some(segment) = job.segment {
                    let attempts = self.pending.get(&segment.id).map_or(0, |p| p.attempts) + 1;
                    let wait = RETRY_FIRST
                        .saturating_mul(1 << (attempts - 1).min(8))
                        .min(RETRY_MAX);
                    self.pending.insert(
                        segment.id,
                        Pending {
                            reason,
                            start: segment.start,
                            attempts,
                            next_try: Instant::now() + wait,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// The lag of a segment that landed, when it was asked for at the live edge (within one
    /// segment duration of its availability): from its end on the origin's clock to now.
    fn measure_lag(&mut self, job: &Job, segment: &LiveSegment) {
        let length = segment.end - segment.start;
        if job.asked_at > segment.available_from.saturating_add(length) {
            return;
        }
        let now = self.sync.server_time(self.local.now());
        let end = self
            .live
            .availability_start_time
            .saturating_add(segment.end);
        self.lag.add(now - end);
    }

    /// The largest `availabilityTimeOffset` of the recorded Representations whose segments
    /// are asked for early (low latency); `None` when none is.
    pub(super) fn low_latency_offset(&self) -> Option<u64> {
        self.selected_reps()
            .filter(|r| self.live.chunked(r))
            .filter_map(|r| r.availability_time_offset.nanos)
            .max()
    }

    /// Says once how segments are asked for when some are sent as they are written, with the
    /// latency the service aims at.
    fn say_low_latency(&mut self) {
        if self.low_latency_said {
            return;
        }
        let Some(offset) = self.low_latency_offset() else {
            return;
        };
        self.low_latency_said = true;
        let mut text = format!(
            "low latency: segments are asked for {:.3} s before they end (availabilityTimeOffset) and taken in as they are written",
            seconds(i128::from(offset))
        );
        if let Some(latency) = self.live.attributes.latency {
            text.push_str(&format!(
                "; the service aims at a latency of {}",
                latency.describe()
            ));
        }
        self.sink.event(&LiveEvent::Info(&text));
    }

    /// Acts on what a recorded segment signals in its leading boxes: an MPD event fetches the
    /// manifest at once; the `lmsg` brand ends its track there.
    fn inband(&mut self, rep: &LiveRepresentation, segment: &LiveSegment, path: &std::path::Path) {
        use std::io::Read as _;
        let mut head = Vec::with_capacity(16 * 1024);
        let read = std::fs::File::open(self.out.root().join(path))
            .and_then(|f| f.take(16 * 1024).read_to_end(&mut head));
        if read.is_err() {
            return;
        }
        let signals = crate::live::inband::inband_signals(&head);
        if signals.mpd_event {
            self.refresh_now = true;
        }
        let stream = stream_of(&self.live, rep);
        if signals.last_segment && !self.ended.contains_key(&stream) {
            self.ended.insert(stream, segment.end);
            // A next Period may be in the manifest by now.
            self.refresh_now = true;
            self.sink.event(&LiveEvent::Warning(&format!(
                "{}: its last segment (lmsg) was recorded; it ends at {:.3}s",
                rep.id,
                seconds(segment.end)
            )));
        }
    }

    /// Sleeps until the next segment is surely available, the next refresh, or a retry.
    async fn sleep(&self) {
        let now = self.local.now();
        let t = self.surely_now();
        let mut wake = now + MAX_SLEEP_NS;
        for rep in self.selected_reps() {
            if let Some(at) = self.live.next_availability(rep, t) {
                wake = wake.min(self.sync.local_time_when_surely(at));
            }
        }
        if let Some(deadline) = self.refresh_deadline() {
            wake = wake.min(deadline);
        }
        if let Some(retry) = self.pending.values().map(|p| p.next_try).min() {
            let after = retry.saturating_duration_since(Instant::now());
            wake = wake.min(now + after.as_nanos() as i128);
        }
        if let Some(until) = self.options.until {
            wake = wake.min(until - self.sync.offset);
        }
        let wake = wake.max(now + 1_000_000);
        tokio::select! {
            _ = tokio::time::sleep_until(self.local.instant_at(wake).into()) => {}
            _ = self.cancel.cancelled() => {}
        }
    }

    fn rep_of(&self, id: &SegmentId) -> Option<LiveRepresentation> {
        self.live
            .representations
            .iter()
            .find(|r| {
                r.id == id.representation
                    && r.adaptation_set == id.adaptation_set
                    && self.live.period(r).label == id.period
            })
            .cloned()
    }

    /// The segment `id` of `rep`, which starts at `start`, if the snapshot describes it.
    fn find_segment(
        &self,
        rep: &LiveRepresentation,
        id: &SegmentId,
        start: i128,
    ) -> Option<LiveSegment> {
        let t = self.surely_now();
        let since = Some(start.saturating_sub(1));
        let near = |expired: bool| {
            self.live
                .segments(rep, t, since, expired)
                .take_while(|s| s.start <= start)
                .find(|s| &s.id == id)
        };
        near(false).or_else(|| near(true))
    }

    fn unsupported(&self, what: &str) -> RecordError {
        RecordError::Unsupported {
            url: self.options.manifest_url.to_string(),
            what: format!("the live recorder does not follow {what} yet"),
        }
    }
}

/// What `--check` needs to know of a Representation.
fn check_info<'a>(
    live: &'a LivePresentation,
    rep: &'a LiveRepresentation,
) -> crate::check::LiveRepresentationInfo<'a> {
    let period = live.period(rep);
    crate::check::LiveRepresentationInfo {
        track: &rep.track,
        period: &period.label,
        adaptation_set_index: rep.adaptation_set_index,
        id: &rep.id,
        codecs: rep.codecs.as_deref(),
        bandwidth: rep.bandwidth,
        timescale: rep.timescale,
        presentation_time_offset: rep.presentation_time_offset,
        duration_addressed: live.duration_addressed(rep),
        period_duration: period.duration,
    }
}
