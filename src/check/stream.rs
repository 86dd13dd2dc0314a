//! `dashget --check`: the checks of `mp4dump --check` on each file of a mirror as it lands,
//! from the bytes the download had at hand (a file already complete, or resumed from a part,
//! is read from disk once). Downloads finish in any order; each representation's rules see
//! its files in plan order, the facts of a file that came early kept (not its bytes) until
//! the files before it are in.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::facts::{FileFacts, facts_of_file, facts_of_skeleton};
use super::{
    CheckEvents, CheckSummary, Finding, ManifestFacts, RepresentationChecker, SegmentStarts,
    duplicate_ids,
};
use crate::discover::{declared_non_mp4, display_path, local_files};
use crate::isobmff::Skeleton;
use crate::plan::{Plan, RepresentationPlan};
use crate::render::WalkSink;

/// The caller's events and the counts, shared by the representations' checkers.
struct Shared {
    events: Box<dyn CheckEvents>,
    summary: CheckSummary,
}

/// What each representation's checker reports to.
struct Forward(Arc<Mutex<Shared>>);

impl CheckEvents for Forward {
    fn finding(&mut self, finding: &Finding) {
        let mut shared = lock(&self.0);
        shared.summary.count(finding);
        shared.events.finding(finding);
    }
    fn progress(&mut self, _: u64, _: u64) {}
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A file of a representation, arrived before its turn.
enum Arrival {
    Read(u64, FileFacts),
    Missing(String),
}

impl Arrival {
    fn duplicate(&self) -> Arrival {
        match self {
            Arrival::Read(size, facts) => Arrival::Read(*size, facts.clone()),
            Arrival::Missing(reason) => Arrival::Missing(reason.clone()),
        }
    }
}

/// One representation: its checker, its files in plan order, and those arrived early.
struct Stream {
    id: String,
    parts: Vec<Arc<RepresentationPlan>>,
    checker: RepresentationChecker<'static>,
    order: Vec<String>,
    next: usize,
    early: HashMap<String, Arrival>,
}

impl Stream {
    /// Feeds the files whose turn has come.
    fn drain(&mut self) {
        while let Some(path) = self.order.get(self.next) {
            let Some(arrival) = self.early.remove(path) else {
                return;
            };
            match arrival {
                Arrival::Read(size, facts) => self.checker.feed(path, size, facts),
                Arrival::Missing(reason) => {
                    let _ = self.checker.missing_segment(path, &reason);
                }
            }
            self.next += 1;
        }
    }
}

struct State {
    streams: Vec<Stream>,
    manifest: ManifestFacts,
}

/// The checks of a mirror, fed as its files complete. A file's facts are gathered outside any
/// lock; only feeding the rules is serialised.
pub struct MirrorCheck {
    root: PathBuf,
    /// Which streams each file (display path) belongs to.
    by_path: HashMap<String, Vec<usize>>,
    state: Mutex<State>,
    shared: Arc<Mutex<Shared>>,
}

impl MirrorCheck {
    /// Checks for the fMP4 representations of `plan` (WebM, TS and text are not checked), whose
    /// files are under `root` at their plan paths; `manifest` is the manifest's bytes.
    /// Manifest-level findings (`duplicate-id`) are reported at once.
    pub fn new(
        plan: &Plan,
        manifest: &[u8],
        manifest_name: &str,
        root: &Path,
        events: Box<dyn CheckEvents>,
    ) -> MirrorCheck {
        let facts = ManifestFacts::read(manifest);
        let shared = Arc::new(Mutex::new(Shared {
            events,
            summary: CheckSummary {
                manifest: root.join(manifest_name),
                ..CheckSummary::default()
            },
        }));
        {
            let mut forward = Forward(shared.clone());
            for finding in duplicate_ids(&plan.representations, manifest_name) {
                forward.finding(&finding);
            }
        }
        let mut ids: Vec<&str> = Vec::new();
        for rep in &plan.representations {
            if !ids.contains(&rep.id.as_str()) {
                ids.push(&rep.id);
            }
        }
        let mut streams = Vec::new();
        let mut by_path: HashMap<String, Vec<usize>> = HashMap::new();
        let mut skipped = Vec::new();
        for id in ids {
            let parts: Vec<Arc<RepresentationPlan>> = plan
                .representations
                .iter()
                .filter(|r| r.id == id)
                .map(|r| Arc::new(r.clone()))
                .collect();
            if let Some(reason) = declared_non_mp4(&parts[0]) {
                skipped.push((id.to_string(), reason));
                continue;
            }
            // The files in the order `mp4dump --check` reads them.
            let order: Vec<String> = local_files(plan, parts.iter().map(|p| p.as_ref()), root)
                .map(|f| f.display_path)
                .collect();
            for path in &order {
                by_path.entry(path.clone()).or_default().push(streams.len());
            }
            let mut checker =
                RepresentationChecker::new(id, &parts, &facts, Box::new(Forward(shared.clone())));
            checker.expect_all(plan);
            streams.push(Stream {
                id: id.to_string(),
                parts,
                checker,
                order,
                next: 0,
                early: HashMap::new(),
            });
        }
        {
            let mut s = lock(&shared);
            s.summary.representations = streams.len() as u64;
            s.summary.skipped = skipped;
        }
        MirrorCheck {
            root: root.to_path_buf(),
            by_path,
            state: Mutex::new(State {
                streams,
                manifest: facts,
            }),
            shared,
        }
    }

    /// A file is complete at `path` (relative to the root); `body` its bytes when the download
    /// held them (else it is read from disk, once).
    pub fn file_done(&self, path: &Path, body: Option<&Skeleton>) {
        let key = display_path(path);
        let Some(streams) = self.by_path.get(&key) else {
            return;
        };
        let arrival = match body {
            Some(skeleton) => Arrival::Read(skeleton.len(), facts_of_skeleton(skeleton)),
            None => match facts_of_file(&self.root.join(path)) {
                Ok((size, facts)) => Arrival::Read(size, facts),
                Err(e) => Arrival::Missing(e.to_string()),
            },
        };
        lock(&self.shared).summary.segments += 1;
        let mut state = lock(&self.state);
        self.arrive(&mut state, &key, streams, arrival);
    }

    /// A file failed for good: for the checks, a missing segment.
    pub fn file_failed(&self, path: &Path, reason: &str) {
        let key = display_path(path);
        let Some(streams) = self.by_path.get(&key) else {
            return;
        };
        let mut state = lock(&self.state);
        self.arrive(
            &mut state,
            &key,
            streams,
            Arrival::Missing(format!("not downloaded: {reason}")),
        );
    }

    fn arrive(&self, state: &mut State, key: &str, streams: &[usize], arrival: Arrival) {
        let mut arrival = Some(arrival);
        for (k, &s) in streams.iter().enumerate() {
            let this = if k + 1 == streams.len() {
                arrival.take()
            } else {
                arrival.as_ref().map(Arrival::duplicate)
            };
            if let Some(this) = this {
                let stream = &mut state.streams[s];
                stream.early.insert(key.to_string(), this);
                stream.drain();
            }
        }
    }

    /// After the last file: the checks over whole representations and across them. Files that
    /// neither arrived nor failed (an interrupted run) are not reported.
    pub fn finish(self) -> CheckSummary {
        let state = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut starts = SegmentStarts::default();
        let mut orders: HashMap<String, Vec<String>> = HashMap::new();
        for stream in state.streams {
            starts.add(&stream.id, &stream.parts, stream.checker.conclude());
            orders.insert(stream.id, stream.order);
        }
        let path_of = |id: &str, file: u32| {
            orders
                .get(id)
                .and_then(|order| order.get(file as usize))
                .cloned()
                .unwrap_or_default()
        };
        let mut forward = Forward(self.shared.clone());
        for finding in starts.findings(&state.manifest, &path_of) {
            forward.finding(&finding);
        }
        drop(forward);
        let shared = Arc::try_unwrap(self.shared)
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .map(|s| s.summary);
        match shared {
            Ok(summary) => summary,
            Err(arc) => lock(&arc).summary.clone(),
        }
    }
}

/// What a live recording's checker needs to know of a Representation (per Period).
#[derive(Debug, Clone)]
pub struct LiveRepresentationInfo<'a> {
    /// The track it belongs to (one checker per track, across Periods).
    pub track: &'a str,
    /// `Period@id` (or index) and the Period's index.
    pub period: &'a str,
    /// `AdaptationSet` index in the Period.
    pub adaptation_set_index: usize,
    /// `Representation@id`.
    pub id: &'a str,
    /// `@codecs`.
    pub codecs: Option<&'a str>,
    /// `@bandwidth`.
    pub bandwidth: Option<u64>,
    /// The manifest's timescale.
    pub timescale: u64,
    /// `@presentationTimeOffset`.
    pub presentation_time_offset: u64,
    /// `@duration` addressing (times nominal, half a duration of tolerance), else a timeline.
    pub duration_addressed: bool,
    /// The Period's duration, nanoseconds, when known.
    pub period_duration: Option<u64>,
}

/// Findings of a live check, queued for the recorder to report (its sink is not `'static`).
#[derive(Clone, Default)]
struct Queue(Arc<Mutex<Vec<Finding>>>);

impl CheckEvents for Queue {
    fn finding(&mut self, finding: &Finding) {
        lock(&self.0).push(finding.clone());
    }
    fn progress(&mut self, _: u64, _: u64) {}
}

struct LiveTrack {
    checker: RepresentationChecker<'static>,
    /// Part of each Period met.
    parts: HashMap<String, usize>,
    /// The nominal end of the last segment checked, per part (media time).
    previous_end: HashMap<usize, i128>,
    /// What the recorder asked for and has not settled, in presentation order: (part, media
    /// time; `i128::MIN` for the init segment).
    expected: std::collections::BTreeSet<(usize, i128)>,
    /// Segments landed before those expected ahead of them.
    held: BTreeMap<(usize, i128), Held>,
}

/// A landed segment waiting for its turn: its facts, not its bytes.
struct Held {
    path: String,
    duration: Option<u64>,
    arrival: std::io::Result<(u64, FileFacts)>,
}

impl LiveTrack {
    fn part(&mut self, info: &LiveRepresentationInfo) -> usize {
        if let Some(&part) = self.parts.get(info.period) {
            return part;
        }
        let mut plan = RepresentationPlan::from_segments(info.period, info.id, Vec::new());
        plan.adaptation_set_index = info.adaptation_set_index;
        plan.codecs = info.codecs.map(str::to_string);
        plan.bandwidth = info.bandwidth;
        plan.timescale = info.timescale.max(1);
        let timing = super::RepresentationTiming {
            presentation_time_offset: info.presentation_time_offset,
            explicit_timescale: !info.duration_addressed,
            timeline: !info.duration_addressed,
            simple: info.duration_addressed,
            period_duration: info.period_duration,
            ..super::RepresentationTiming::default()
        };
        let part = self.checker.add_part(Arc::new(plan), timing);
        self.parts.insert(info.period.to_string(), part);
        part
    }

    /// Checks the held segments whose turn has come (all of them at the end).
    fn drain(&mut self, all: bool) {
        loop {
            let Some(&(part, time)) = self.held.keys().next() else {
                return;
            };
            if !all && self.expected.first().is_some_and(|e| *e < (part, time)) {
                return;
            }
            let Some(held) = self.held.remove(&(part, time)) else {
                return;
            };
            self.expected.remove(&(part, time));
            let (kind, media_time, jump) = if time == i128::MIN {
                (crate::plan::SegmentKind::Init, None, false)
            } else {
                let jump = self.previous_end.get(&part) != Some(&time);
                if let Some(d) = held.duration {
                    self.previous_end.insert(part, time + i128::from(d));
                }
                (crate::plan::SegmentKind::Media, Some(time), jump)
            };
            self.checker
                .plan_file(&held.path, part, kind, media_time, held.duration, jump);
            match held.arrival {
                Ok((size, facts)) => self.checker.feed(&held.path, size, facts),
                Err(e) => {
                    let _ = self.checker.missing_segment(&held.path, &e.to_string());
                }
            }
            self.checker.forget_file(&held.path);
        }
    }
}

/// The checks of a live recording, each segment as it lands: decode-time continuity (an
/// encoder gap or a `tfdt` jump is found in the segment it happens in), boxes, tracks,
/// encryption, the segment against the live manifest's time. Segments are checked in the
/// order they land; two that land out of order are not compared with each other.
pub struct LiveCheck {
    tracks: HashMap<String, LiveTrack>,
    queue: Queue,
    summary: CheckSummary,
}

impl Default for LiveCheck {
    fn default() -> Self {
        LiveCheck::new()
    }
}

impl LiveCheck {
    /// A check with nothing recorded yet.
    pub fn new() -> LiveCheck {
        LiveCheck {
            tracks: HashMap::new(),
            queue: Queue::default(),
            summary: CheckSummary::default(),
        }
    }

    fn track(&mut self, info: &LiveRepresentationInfo) -> &mut LiveTrack {
        let queue = self.queue.clone();
        self.tracks
            .entry(info.track.to_string())
            .or_insert_with(|| LiveTrack {
                checker: RepresentationChecker::live(info.id, Box::new(queue)),
                parts: HashMap::new(),
                previous_end: HashMap::new(),
                expected: std::collections::BTreeSet::new(),
                held: BTreeMap::new(),
            })
    }

    /// The recorder asks for a segment (`media`: its media time, none for the init segment):
    /// segments are checked in the order of the presentation, not as their downloads end.
    pub fn expect(&mut self, info: &LiveRepresentationInfo, media: Option<i64>) {
        let track = self.track(info);
        let part = track.part(info);
        track
            .expected
            .insert((part, media.map_or(i128::MIN, i128::from)));
    }

    /// A segment the recorder gave up (a gap): the next one is checked without it.
    pub fn gap(&mut self, info: &LiveRepresentationInfo, time: i64) {
        let track = self.track(info);
        let part = track.part(info);
        track.expected.remove(&(part, i128::from(time)));
        track.drain(false);
    }

    /// A segment landed at `path` (relative to the output folder, `/`-separated): an init
    /// segment (`media` none), or a media segment at media time `time` lasting `duration`
    /// (the manifest's timescale). `body` is its bytes, else it is read from `root`. It is
    /// checked once those expected before it are settled.
    pub fn segment(
        &mut self,
        info: &LiveRepresentationInfo,
        media: Option<(i64, u64)>,
        path: &str,
        body: Option<&Skeleton>,
        root: &Path,
    ) {
        let arrival = match body {
            Some(skeleton) => Ok((skeleton.len(), facts_of_skeleton(skeleton))),
            None => facts_of_file(&root.join(path)),
        };
        if arrival.is_ok() {
            self.summary.segments += 1;
        }
        let track = self.track(info);
        let part = track.part(info);
        let key = (part, media.map_or(i128::MIN, |(t, _)| i128::from(t)));
        track.held.insert(
            key,
            Held {
                path: path.to_string(),
                duration: media.map(|(_, d)| d),
                arrival,
            },
        );
        track.drain(false);
    }

    /// The findings made since the last call, in order.
    pub fn findings(&mut self) -> Vec<Finding> {
        let found = std::mem::take(&mut *lock(&self.queue.0));
        for finding in &found {
            self.summary.count(finding);
        }
        found
    }

    /// The checks over whole tracks (a measure chosen for the starts); the last findings and
    /// the summary.
    pub fn finish(mut self) -> (Vec<Finding>, CheckSummary) {
        self.summary.representations = self.tracks.len() as u64;
        let mut tracks: Vec<(String, LiveTrack)> = self.tracks.drain().collect();
        tracks.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, mut track) in tracks {
            track.drain(true);
            track.checker.conclude();
        }
        let found = self.findings();
        (found, self.summary)
    }
}
