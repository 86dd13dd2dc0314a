//! One recording run: the state it carries and its loop (see the parent module).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use futures_util::StreamExt;
use url::Url;

mod refresh;
mod report;

use super::net::{EngineTime, SegmentFailure, download_segment};
use super::state::{Gap, RecorderState, SnapshotArchive, journal_identity, stream_key};
use super::{LiveEvent, LiveSink, RecordError, RecordOptions, RecordSummary, StopReason};
use crate::fetch::{Cancel, ManifestValidators, NoProgress, fetch_manifest};
use crate::live::clock::{ClockSync, LocalClock, ManifestExchange, synchronise};
use crate::live::time::UnixNanos;
use crate::live::{
    LivePresentation, LiveRepresentation, LiveSegment, PresentationEnd, SegmentId, SegmentKey,
};
use crate::store::{Journal, JournalWriter, OutputDir, SegmentIdentity, journal_key};
use refresh::{location, publish_text};

/// Most segments looked at per representation and batch.
const BATCH: usize = 10_000;
/// How soon a segment that failed is asked again (it stays due until it leaves the buffer).
const RETRY_NS: i128 = 500_000_000;
/// The longest sleep between two looks at the manifest.
const MAX_SLEEP_NS: i128 = 5_000_000_000;
/// The shortest time between two re-synchronisations prompted by a 404.
const RESYNC_AFTER_404: std::time::Duration = std::time::Duration::from_secs(10);

/// A download of one batch: an init segment or a media segment, and where it goes.
struct Job {
    rep: usize,
    segment: Option<LiveSegment>,
    url: Url,
    identity: SegmentIdentity,
    path: PathBuf,
    due_by: UnixNanos,
}

pub(super) struct Session<'a> {
    client: &'a reqwest::Client,
    options: &'a RecordOptions,
    sink: &'a dyn LiveSink,
    cancel: &'a Cancel,
    out: OutputDir,
    journal: Journal,
    writer: JournalWriter,
    state: RecorderState,
    archive: SnapshotArchive,
    /// Local paths are taken relative to the first manifest URL, whatever later refreshes say.
    layout_url: Url,
    refresh_url: Url,
    validators: ManifestValidators,
    exchange: ManifestExchange,
    live: LivePresentation,
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
    had: HashSet<SegmentIdentity>,
    gapped: HashSet<String>,
    /// Segments that failed and are still due: the last reason, and the segment's start.
    pending: HashMap<SegmentId, (String, i128)>,
    /// Per stream: segments recorded.
    counts: HashMap<String, usize>,
    downloaded: usize,
    complete: usize,
    bytes: u64,
    started: Instant,
}

pub(super) fn exchange_of(fetched: &crate::fetch::FetchedManifest) -> ManifestExchange {
    let sent = fetched
        .requested_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    ManifestExchange {
        sent,
        received: sent + fetched.round_trip.as_nanos() as i128,
        date: fetched.date.map(httpdate::fmt_http_date),
    }
}

fn seconds(nanos: i128) -> f64 {
    nanos as f64 / 1e9
}

impl<'a> Session<'a> {
    pub(super) async fn start(
        client: &'a reqwest::Client,
        options: &'a RecordOptions,
        sink: &'a dyn LiveSink,
        cancel: &'a Cancel,
    ) -> Result<Session<'a>, RecordError> {
        let url = options.manifest_url.clone();
        let fetched =
            fetch_manifest(client, &url, None, &options.fetch, &NoProgress, cancel).await?;
        let bytes = fetched.bytes.clone().unwrap_or_default();
        let live = LivePresentation::parse(&bytes, &fetched.final_url).map_err(|error| {
            RecordError::Live {
                url: url.to_string(),
                error,
            }
        })?;
        let known: Vec<&str> = live.representations.iter().map(|r| r.id.as_str()).collect();
        let unknown: Vec<&str> = options
            .reps
            .iter()
            .map(String::as_str)
            .filter(|id| !known.contains(id))
            .collect();
        if !unknown.is_empty() {
            return Err(RecordError::UnknownReps {
                url: url.to_string(),
                ids: unknown.join(", "),
                known: known.join(", "),
            });
        }
        let out = OutputDir::create(&options.output)?;
        let (journal, writer) = JournalWriter::open(out.root())?;
        let mut state = RecorderState::load(out.root(), url.as_str()).unwrap_or_default();
        state.manifest_url = url.to_string();
        let mut archive = SnapshotArchive::open(out.root());
        let io = |path: PathBuf| move |source| RecordError::Io { path, source };
        archive
            .keep(
                &bytes,
                live.attributes
                    .publish_time
                    .map(|_| publish_text(&bytes))
                    .as_deref(),
            )
            .map_err(io(out.root().join(crate::store::META_DIR)))?;
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
        let local = LocalClock::new();
        let fully_described =
            live.attributes.minimum_update_period.is_none() && live.end() != PresentationEnd::Open;
        let publish = live.attributes.publish_time.map(|p| p.instant);
        if state.publish_time < publish {
            state.publish_time = publish;
        }
        let refresh_url = location(&live, &fetched.final_url);
        Ok(Session {
            client,
            options,
            sink,
            cancel,
            manifest_name: crate::mpd::file_name_of(&fetched.final_url),
            layout_url: fetched.final_url.clone(),
            refresh_url,
            validators: fetched.validators.clone(),
            fetched_at: exchange.sent,
            exchange,
            out,
            journal,
            writer,
            state,
            archive,
            live,
            local,
            sync,
            synced_at: Instant::now(),
            resync_wanted: false,
            gone_since: None,
            last_attempt: None,
            failing: false,
            fully_described,
            had: HashSet::new(),
            gapped: HashSet::new(),
            pending: HashMap::new(),
            counts: HashMap::new(),
            downloaded: 0,
            complete: 0,
            bytes: 0,
            started: Instant::now(),
        })
    }

    /// The loop, until the recording stops.
    pub(super) async fn run(mut self) -> Result<RecordSummary, RecordError> {
        for gap in &self.state.gaps {
            self.gapped.insert(gap.segment.clone());
        }
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
            self.save()?;
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
            let pending: Vec<(SegmentId, (String, i128))> = self.pending.drain().collect();
            for (id, (reason, _)) in pending {
                if stopped == StopReason::ManifestGone && reason.contains("HTTP 404") {
                    // The stream ended: a segment past its end never came to be.
                    continue;
                }
                if let Some(rep) = self.rep_of(&id)
                    && let Some(segment) = self.find_segment(rep.clone(), &id)
                {
                    self.add_gap(
                        &rep,
                        &segment,
                        format!("{reason} when the recording stopped"),
                    );
                }
            }
        }
        let _ = self.writer.sync();
        self.save()?;
        Ok(self.summary(stopped))
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
                .live
                .representations
                .iter()
                .filter(|r| self.selected(r))
                .all(|r| self.live.next_availability(r, t).is_none())
    }

    fn selected(&self, rep: &LiveRepresentation) -> bool {
        self.options.reps.is_empty() || self.options.reps.contains(&rep.id)
    }

    fn stream_of(&self, rep: &LiveRepresentation) -> String {
        stream_key(&SegmentId {
            period: self.live.period(rep).label.clone(),
            adaptation_set: rep.adaptation_set.clone(),
            representation: rep.id.clone(),
            key: SegmentKey::Number(0),
        })
    }

    /// Where the recording of `rep` begins (decided once, kept across runs).
    fn start_of(&mut self, rep: &LiveRepresentation, t: UnixNanos) -> i128 {
        let key = self.stream_of(rep);
        if let Some(&start) = self.state.starts.get(&key) {
            return start;
        }
        let first = if self.options.from_start || self.fully_described {
            self.live.oldest_available(rep, t)
        } else {
            self.live.live_edge(rep, t)
        };
        let start = first.map_or_else(|| i128::from(self.live.period(rep).start), |s| s.start);
        self.state.starts.insert(key, start);
        start
    }

    /// The end of the span `--duration` asks for, for a stream starting at `start`.
    fn limit(&self, start: i128) -> i128 {
        self.options
            .duration
            .map_or(i128::MAX, |d| start.saturating_add(d.as_nanos() as i128))
    }

    /// One batch at server time `t`: gaps for what expired, downloads for what is available.
    async fn batch(&mut self, t: UnixNanos) -> Result<(), RecordError> {
        let mut jobs = Vec::new();
        let reps: Vec<usize> = (0..self.live.representations.len())
            .filter(|&i| self.selected(&self.live.representations[i]))
            .collect();
        for ri in reps {
            let rep = self.live.representations[ri].clone();
            let start = self.start_of(&rep, t);
            let limit = self.limit(start);
            let stream = self.stream_of(&rep);
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
                let path = crate::layout::local_path(&self.layout_url, url);
                if self.had.contains(&identity) {
                } else if self.journal.segment(&identity).is_some() {
                    self.had.insert(identity);
                    self.complete += 1;
                    self.state
                        .recording
                        .add_init(&self.live, &rep, &journal_key(&path));
                } else {
                    jobs.push(Job {
                        rep: ri,
                        segment: None,
                        url: url.clone(),
                        identity,
                        path,
                        due_by: i128::MIN,
                    });
                }
            }
            self.unseen_hole(&rep, t, start, limit);
            for segment in self.live.expired_segments(&rep, t, Some(start), BATCH) {
                if segment.start >= limit {
                    break;
                }
                let identity = journal_identity(&segment.id);
                if self.is_had(&rep, &segment, &identity, &stream)
                    || self.gapped.contains(&segment.id.to_string())
                {
                    continue;
                }
                let reason = match self.pending.remove(&segment.id) {
                    Some((reason, _)) => format!("{reason} until it left the time-shift buffer"),
                    None => "left the time-shift buffer before it could be fetched".to_string(),
                };
                self.add_gap(&rep, &segment, reason);
            }
            for segment in self.live.available_segments(&rep, t, Some(start), BATCH) {
                if segment.start >= limit {
                    break;
                }
                if segment.range.is_some() {
                    return Err(self.unsupported("SegmentList@mediaRange segments"));
                }
                let identity = journal_identity(&segment.id);
                if self.is_had(&rep, &segment, &identity, &stream) {
                    continue;
                }
                jobs.push(Job {
                    rep: ri,
                    path: crate::layout::local_path(&self.layout_url, &segment.url),
                    url: segment.url.clone(),
                    due_by: segment.due_by,
                    identity,
                    segment: Some(segment),
                });
            }
        }
        jobs.sort_by_key(|j| j.due_by);
        self.download(jobs).await;
        self.status(t);
        Ok(())
    }

    /// Whether a segment is already had (this run, or journalled by an earlier one; then it
    /// goes into the recording without a request).
    fn is_had(
        &mut self,
        rep: &LiveRepresentation,
        segment: &LiveSegment,
        identity: &SegmentIdentity,
        stream: &str,
    ) -> bool {
        if self.had.contains(identity) {
            return true;
        }
        if self.journal.segment(identity).is_none() {
            return false;
        }
        self.had.insert(identity.clone());
        self.complete += 1;
        let path = crate::layout::local_path(&self.layout_url, &segment.url);
        self.state
            .recording
            .add_segment(&self.live, rep, segment, &journal_key(&path));
        self.handle(stream, segment.end, true);
        true
    }

    fn handle(&mut self, stream: &str, end: i128, recorded: bool) {
        let entry = self.state.ends.entry(stream.to_string()).or_insert(end);
        *entry = (*entry).max(end);
        if recorded {
            *self.counts.entry(stream.to_string()).or_insert(0) += 1;
        }
    }

    /// A hole between what the recording holds and the first segment the manifest lists now:
    /// segments that left the buffer while no snapshot listed them (a long outage of the
    /// manifest with a timeline). Reported as one gap.
    fn unseen_hole(&mut self, rep: &LiveRepresentation, t: UnixNanos, start: i128, limit: i128) {
        let stream = self.stream_of(rep);
        let Some(&frontier) = self.state.ends.get(&stream) else {
            return;
        };
        if frontier < start || frontier >= limit {
            return;
        }
        let first = self
            .live
            .expired_segments(rep, t, None, 1)
            .into_iter()
            .chain(self.live.available_segments(rep, t, None, 1))
            .next();
        let Some(first) = first else {
            return;
        };
        if first.start <= frontier {
            return;
        }
        let end = first.start.min(limit);
        let gap = Gap {
            segment: format!("{stream}/from={frontier}"),
            representation: rep.id.clone(),
            start_seconds: seconds(frontier),
            duration_seconds: seconds(end - frontier),
            reason: "left the time-shift buffer unseen: no manifest snapshot listed these segments while they were available".to_string(),
        };
        self.sink.event(&LiveEvent::Gap(&gap));
        self.gapped.insert(gap.segment.clone());
        self.state.gaps.push(gap);
        self.handle(&stream, end, false);
    }

    fn add_gap(&mut self, rep: &LiveRepresentation, segment: &LiveSegment, reason: String) {
        let gap = Gap {
            segment: segment.id.to_string(),
            representation: rep.id.clone(),
            start_seconds: seconds(segment.start),
            duration_seconds: seconds(segment.end - segment.start),
            reason,
        };
        self.sink.event(&LiveEvent::Gap(&gap));
        self.gapped.insert(gap.segment.clone());
        let stream = self.stream_of(rep);
        self.handle(&stream, segment.end, false);
        self.state.gaps.push(gap);
    }

    /// Downloads the jobs, `--threads` at once, and records each outcome.
    async fn download(&mut self, jobs: Vec<Job>) {
        let (client, out, fetch, cancel) =
            (self.client, &self.out, &self.options.fetch, self.cancel);
        let results: Vec<(Job, Result<u64, SegmentFailure>)> = futures_util::stream::iter(jobs)
            .map(|job| async move {
                let result =
                    download_segment(client, out, &job.url, &job.path, fetch, cancel).await;
                (job, result)
            })
            .buffer_unordered(fetch.threads.max(1))
            .collect()
            .await;
        for (job, result) in results {
            let rep = self.live.representations[job.rep].clone();
            let key = journal_key(&job.path);
            match result {
                Ok(size) => {
                    let _ = self
                        .writer
                        .done_segment(&key, job.url.as_str(), size, &job.identity);
                    self.downloaded += 1;
                    self.bytes += size;
                    self.had.insert(job.identity.clone());
                    match &job.segment {
                        Some(segment) => {
                            self.pending.remove(&segment.id);
                            self.state
                                .recording
                                .add_segment(&self.live, &rep, segment, &key);
                            let stream = self.stream_of(&rep);
                            self.handle(&stream, segment.end, true);
                        }
                        None => self.state.recording.add_init(&self.live, &rep, &key),
                    }
                    self.sink.event(&LiveEvent::Segment { path: &key, size });
                }
                Err(SegmentFailure::Interrupted) => {}
                Err(SegmentFailure::Missing(reason) | SegmentFailure::Failed(reason)) => {
                    // Asked again at the next batch until it is due; reported then.
                    if reason.contains("HTTP 404") && self.synced_at.elapsed() >= RESYNC_AFTER_404 {
                        self.resync_wanted = true;
                    }
                    if let Some(segment) = job.segment {
                        self.pending.insert(segment.id, (reason, segment.start));
                    }
                }
            }
        }
        let _ = self.writer.flush();
    }

    /// Sleeps until the next segment is surely available, the next refresh, or a retry.
    async fn sleep(&self) {
        let now = self.local.now();
        let t = self.surely_now();
        let mut wake = now + MAX_SLEEP_NS;
        for rep in self
            .live
            .representations
            .iter()
            .filter(|r| self.selected(r))
        {
            if let Some(at) = self.live.next_availability(rep, t) {
                wake = wake.min(self.sync.local_time_when_surely(at));
            }
        }
        if let Some(deadline) = self.refresh_deadline() {
            wake = wake.min(deadline);
        }
        if !self.pending.is_empty() || self.stuck(t) {
            wake = wake.min(now + RETRY_NS);
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

    fn find_segment(&self, rep: LiveRepresentation, id: &SegmentId) -> Option<LiveSegment> {
        let t = self.surely_now();
        self.live
            .available_segments(&rep, t, None, BATCH)
            .into_iter()
            .chain(self.live.expired_segments(&rep, t, None, BATCH))
            .find(|s| &s.id == id)
    }

    fn unsupported(&self, what: &str) -> RecordError {
        RecordError::Unsupported {
            url: self.options.manifest_url.to_string(),
            what: format!("the live recorder does not follow {what} yet"),
        }
    }
}
