//! The checks of one representation, applied as each of its files ends.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::facts::{FactsInspector, FileFacts, Moof, Track};
use super::manifest::{ManifestFacts, RepresentationTiming};
use super::{Check, CheckEvents, Finding, Severity};
use crate::plan::{ByteRange, RepresentationPlan, SegmentKind};

mod fragment;
mod index;
mod planned;
mod promises;
mod timing;

pub(crate) use planned::PlannedFiles;

/// `sample_is_non_sync_sample` in sample flags (ISO/IEC 14496-12 §8.8.3.1).
const NON_SYNC: u64 = 0x0001_0000;
/// `tfhd` flag: `default-base-is-moof` (ISO/IEC 14496-12 §8.8.7.1).
const BASE_IS_MOOF: u32 = 0x02_0000;
/// `malformed-box` findings reported per file at most (a damaged file can hold thousands).
const PER_FILE: usize = 10;

/// A segment the plan puts in a file.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    part: usize,
    kind: SegmentKind,
    range: Option<ByteRange>,
    /// Start in the manifest's timescale, on the media timeline (`presentationTimeOffset`
    /// included).
    time: Option<i128>,
    duration: Option<u64>,
    last_in_part: bool,
    /// The manifest signals a discontinuity before this segment (a jump of `S@t`, or a new
    /// Period).
    jump: bool,
}

/// What the manifest expects of a stretch of media (a segment, or a `sidx` subsegment).
#[derive(Debug, Clone, Copy)]
struct Expect {
    part: usize,
    time: Option<i128>,
    duration: Option<u64>,
    timescale: u64,
    /// Simple addressing: half a `@duration` of tolerance.
    simple: bool,
    last_in_part: bool,
    jump: bool,
}

/// The segment starts of one Representation in one Period, for the `alignment` check.
#[derive(Debug, Clone, Default)]
pub struct Boundaries {
    /// The Period's `RepresentationPlan` index among the checker's parts.
    pub part: usize,
    /// (file, start in nanoseconds from the Period's start), in order: the file by its number
    /// among the representation's files in the order they were read (0 first), which
    /// [`crate::check::SegmentStarts`] turns back into a path for a finding.
    pub starts: Vec<(u32, i64)>,
    /// Where the last segment ends.
    pub end: i64,
    /// Whether every segment of it was read whole (a missing or damaged one leaves holes
    /// that are not misalignments).
    pub complete: bool,
}

/// One track's share of a `moof`.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    decode_time: Option<u64>,
    duration: u64,
    max_sample: u64,
    samples: u64,
    first_flags: Option<u64>,
    first_cto: i64,
}

/// A segment whose start differs from the manifest's under one measure or both.
#[derive(Debug, Clone)]
struct Misplaced {
    segment: String,
    expected: i128,
    /// In the manifest's timescale: `tfdt`, earliest presentation time.
    found: [i128; 2],
    off: [bool; 2],
    timescale: u64,
}

/// Bandwidth bookkeeping (ISO/IEC 23009-1 §5.3.5.2), streaming over the segments.
#[derive(Debug, Clone, Default)]
struct Channel {
    part: Option<usize>,
    delivered: f64,
    played: f64,
    min_term: f64,
    worst: f64,
    worst_segment: String,
}

/// What runs on from one segment of a Period to the next: decode times, sequence numbers, the
/// bandwidth channel. Kept per Period, since each Period has its own sample timeline and
/// several Periods may name the same files (ISO/IEC 23009-1 §5.3.9.2).
#[derive(Debug, Clone, Default)]
struct Continuity {
    decode_end: Option<u64>,
    decode_alternative: Option<u64>,
    last_sequence: Option<u64>,
    sequence_before: Option<u64>,
    sequence_path: String,
    channel: Channel,
}

/// Checks one representation: a [`WalkSink`](crate::render::WalkSink) fed by the dump's driver.
pub struct RepresentationChecker<'a> {
    id: String,
    parts: Vec<(Arc<RepresentationPlan>, RepresentationTiming)>,
    planned: HashMap<String, Vec<Planned>>,
    events: Box<dyn CheckEvents + 'a>,
    min_buffer_time: Option<u64>,
    max_segment_duration: Option<u64>,
    inspector: FactsInspector,
    current: (String, u64),
    tracks: Vec<Track>,
    main_track: Option<u64>,
    part: Option<usize>,
    decode_end: Option<u64>,
    /// Where the previous fragment would have ended had its `tfdt` been the wrong one (set
    /// after a `decode-time` finding): a segment whose `tfdt` alone is wrong is reported once.
    decode_alternative: Option<u64>,
    last_sequence: Option<u64>,
    /// The sequence number before the last one, and the segment of the last one: a fragment
    /// whose number alone is out of the run is reported on its own segment.
    sequence_before: Option<u64>,
    sequence_path: String,
    /// The longest sample of the last segment checked.
    last_sample: u64,
    /// Whether segment starts are kept for `alignment` (not for a live recording, where they
    /// would grow with its length).
    keep_boundaries: bool,
    /// Where each segment starts on the presentation timeline (nanoseconds from its Period's
    /// start), per Period (`alignment` compares them across an AdaptationSet).
    boundaries: Vec<Boundaries>,
    /// Whether a `frame-rate` finding was made (one per representation: the first segment
    /// at fault).
    frame_rate_reported: bool,
    /// Whether the manifest's start is compared with the earliest presentation time (else
    /// with `tfdt`): chosen at the first comparison, kept for the representation.
    /// Segments whose start is off under either measure (`tfdt`, earliest presentation
    /// time), kept until the end of the representation, when the measure that fits more
    /// segments is chosen and the misfits under it are reported.
    misplaced: Vec<Misplaced>,
    /// Comparisons of starts that each measure failed.
    misfits: [u64; 2],
    channel: Channel,
    /// The continuity of the Periods not being read now.
    saved: HashMap<usize, Continuity>,
    /// Findings already reported (a file several Periods name is compared once per Period):
    /// each is printed once. Kept for the file being read, and for the findings made when a
    /// Period's or the representation's reading ends (`bandwidth`, `mpd-time`).
    reported: std::collections::HashSet<(Check, String, String)>,
    /// The number of the file being read, among the representation's files (0 first).
    file_index: u32,
}

/// Each Period's plan of the representation `id` with what the manifest says of its timing.
pub(crate) fn timed_parts(
    id: &str,
    parts: &[Arc<RepresentationPlan>],
    manifest: &ManifestFacts,
) -> Vec<(Arc<RepresentationPlan>, RepresentationTiming)> {
    parts
        .iter()
        .map(|p| {
            let timing = manifest.representation(p.period_index, p.adaptation_set_index, id);
            (p.clone(), timing)
        })
        .collect()
}

/// Adds a fragment's run to a segment's.
fn merge(unit: &mut Option<Run>, run: Run) {
    match unit {
        None => *unit = Some(run),
        Some(u) => {
            u.duration = u.duration.saturating_add(run.duration);
            u.max_sample = u.max_sample.max(run.max_sample);
            u.samples = u.samples.saturating_add(run.samples);
        }
    }
}

/// A time from one timescale to another (rounded towards zero).
fn convert_time(t: i128, from: u64, to: u64) -> i128 {
    if from == to || from == 0 {
        t
    } else {
        t * i128::from(to) / i128::from(from)
    }
}

/// A duration from one timescale to another, rounded up.
fn convert_up(t: u64, from: u64, to: u64) -> u64 {
    if from == to || from == 0 {
        t
    } else {
        (u128::from(t) * u128::from(to)).div_ceil(u128::from(from)) as u64
    }
}

impl<'a> RepresentationChecker<'a> {
    /// A checker for the representation `id`, whose Periods' plans are `parts`, reporting to
    /// `events`.
    pub fn new(
        id: &str,
        parts: &[Arc<RepresentationPlan>],
        manifest: &ManifestFacts,
        events: Box<dyn CheckEvents + 'a>,
    ) -> Self {
        let parts = timed_parts(id, parts, manifest);
        RepresentationChecker {
            id: id.to_string(),
            parts,
            planned: HashMap::new(),
            events,
            min_buffer_time: manifest.min_buffer_time,
            max_segment_duration: manifest.max_segment_duration,
            inspector: FactsInspector::default(),
            current: (String::new(), 0),
            tracks: Vec::new(),
            main_track: None,
            part: None,
            decode_end: None,
            decode_alternative: None,
            last_sequence: None,
            sequence_before: None,
            sequence_path: String::new(),
            last_sample: 0,
            frame_rate_reported: false,
            boundaries: Vec::new(),
            keep_boundaries: true,
            misplaced: Vec::new(),
            misfits: [0; 2],
            channel: Channel::default(),
            saved: HashMap::new(),
            reported: std::collections::HashSet::new(),
            file_index: 0,
        }
    }

    fn report(
        &mut self,
        check: Check,
        segment: &str,
        message: String,
        expected: Option<Value>,
        found: Option<Value>,
    ) {
        let severity = match check {
            // Both describe a budget more than the media: `@bandwidth` a channel, and
            // `@maxSegmentDuration` what live players plan their requests by (ffmpeg writes its
            // target duration there, which a longer GOP exceeds).
            Check::Bandwidth | Check::MaxSegmentDuration => Severity::Warning,
            _ => Severity::Error,
        };
        self.report_as(severity, check, segment, message, expected, found);
    }

    fn report_as(
        &mut self,
        severity: Severity,
        check: Check,
        segment: &str,
        message: String,
        expected: Option<Value>,
        found: Option<Value>,
    ) {
        if !self
            .reported
            .insert((check, segment.to_string(), message.clone()))
        {
            return;
        }
        self.events.finding(&Finding {
            severity,
            representation: self.id.clone(),
            segment: segment.to_string(),
            check,
            message,
            expected,
            found,
        });
    }

    /// Whether the recording names a hole from `from` to `to` (media time of the main track)
    /// in part `part`, within a sample (or a millisecond).
    fn named_hole(&self, part: usize, from: u64, to: u64, sample: u64) -> bool {
        let Some(media_ts) = self.main().map(|t| t.timescale).filter(|&t| t > 0) else {
            return false;
        };
        let (plan, timing) = &self.parts[part];
        let tolerance = i128::from((media_ts / 1000).max(sample).max(1));
        timing.holes.iter().any(|&(t, d)| {
            let start = convert_time(i128::from(t), plan.timescale, media_ts);
            let end = convert_time(i128::from(t.saturating_add(d)), plan.timescale, media_ts);
            (start - i128::from(from)).abs() <= tolerance
                && (end - i128::from(to)).abs() <= tolerance
        })
    }

    fn main(&self) -> Option<&Track> {
        let id = self.main_track?;
        self.tracks.iter().find(|t| t.id == id)
    }

    /// One track's share of a moof, defaults applied.
    fn run(&self, moof: &Moof, track_id: u64) -> Option<Run> {
        let trex = self
            .tracks
            .iter()
            .find(|t| t.id == track_id)
            .map(|t| t.defaults)
            .unwrap_or_default();
        let mut run: Option<Run> = None;
        for traf in moof.trafs.iter().filter(|t| t.track_id == track_id) {
            let r = run.get_or_insert(Run {
                decode_time: traf.decode_time,
                ..Run::default()
            });
            let default_duration = traf.defaults.duration.or(trex.duration).unwrap_or(0);
            let default_flags = traf.defaults.flags.or(trex.flags);
            for trun in &traf.truns {
                let missing = trun.count.saturating_sub(trun.durations.0);
                r.duration = r
                    .duration
                    .saturating_add(trun.durations.1)
                    .saturating_add(missing.saturating_mul(default_duration));
                let max = if missing > 0 {
                    trun.durations.2.max(default_duration)
                } else {
                    trun.durations.2
                };
                r.max_sample = r.max_sample.max(max);
                if r.samples == 0 && trun.count > 0 {
                    r.first_flags = trun.first_flags.or(trun.first_row_flags).or(default_flags);
                    r.first_cto = trun.first_cto.unwrap_or(0);
                }
                r.samples = r.samples.saturating_add(trun.count);
            }
        }
        run
    }

    /// A checker for a live recording: nothing planned yet (see [`Self::add_part`],
    /// [`Self::plan_file`]), and nothing kept per segment once it is checked.
    pub(crate) fn live(id: &str, events: Box<dyn CheckEvents + 'a>) -> Self {
        let mut checker = Self::new(id, &[], &ManifestFacts::default(), events);
        checker.keep_boundaries = false;
        checker
    }

    /// Forgets a checked file (the file's planned segments are needed only while it is read).
    pub(crate) fn forget_file(&mut self, path: &str) {
        self.planned.remove(path);
    }

    /// The planned segments of the next file to be read (see [`PlannedFiles`]).
    pub(crate) fn expect_file(&mut self, path: String, entries: Vec<Planned>) {
        self.planned.insert(path, entries);
    }

    /// Plans every file of the representation at once, for a caller that hands files over in
    /// plan order but cannot walk the plan beside them (`dashget --check`).
    pub(crate) fn expect_all(&mut self, plan: &crate::plan::Plan) {
        let files: Vec<(String, Vec<Planned>)> =
            PlannedFiles::new(plan, &self.parts, std::path::Path::new(""))
                .map(|(file, entries)| (file.display_path, entries))
                .collect();
        self.planned.extend(files);
    }

    /// Adds a Period's plan (a live recording meets its Periods as it goes); returns its part.
    pub(crate) fn add_part(
        &mut self,
        plan: Arc<RepresentationPlan>,
        timing: RepresentationTiming,
    ) -> usize {
        self.parts.push((plan, timing));
        self.parts.len() - 1
    }

    /// Adds a file to the plan (a live recording learns its segments as it goes): its kind,
    /// its start on the media timeline and duration (in the part's timescale), and whether
    /// the manifest's timeline jumps before it (no continuity is expected across).
    pub(crate) fn plan_file(
        &mut self,
        path: &str,
        part: usize,
        kind: SegmentKind,
        time: Option<i128>,
        duration: Option<u64>,
        jump: bool,
    ) {
        self.planned.insert(
            path.to_string(),
            vec![Planned {
                part,
                kind,
                range: None,
                time,
                duration,
                last_in_part: false,
                jump,
            }],
        );
    }

    /// One file of the representation whose facts were gathered elsewhere (from the bytes a
    /// download had at hand), in plan order: what `WalkSink::end_segment` does for a walk.
    pub(crate) fn feed(&mut self, path: &str, size: u64, facts: FileFacts) {
        self.events.progress(0, 0);
        self.evaluate(path, size, facts);
        self.next_file();
    }

    /// A file was read (or found missing): the next one gets the next number, and what was
    /// reported of this one is no longer needed to print each finding once.
    fn next_file(&mut self) {
        self.file_index = self.file_index.saturating_add(1);
        self.reported
            .retain(|(check, _, _)| matches!(check, Check::Bandwidth | Check::MpdTime));
    }

    fn evaluate(&mut self, path: &str, size: u64, mut facts: FileFacts) {
        for moof in &mut facts.moofs {
            let end = moof.offset.saturating_add(moof.size);
            moof.damaged = facts
                .malformed
                .iter()
                .any(|(at, _)| *at >= moof.offset && *at < end);
        }
        for (offset, reason) in facts.malformed.iter().take(PER_FILE) {
            self.report(
                Check::MalformedBox,
                path,
                format!("at byte {offset}: {reason}"),
                None,
                Some(json!(reason)),
            );
        }
        let planned = self.planned.get(path).cloned().unwrap_or_default();
        // A moov in a media segment (a file that is not fragmented) does not replace the init's.
        let init = planned.iter().any(|p| p.kind == SegmentKind::Init);
        if facts.has_moov && (init || self.tracks.is_empty()) {
            self.tracks = facts.tracks.clone();
            self.main_track = (self.tracks.len() == 1).then(|| self.tracks[0].id);
            let part = planned.first().map_or(0, |p| p.part);
            self.check_init(path, part);
            self.check_promises(path, part, &facts.pssh);
            if let Some(track) = self.main().or(self.tracks.first()) {
                let described = promises::describe(track);
                self.events.described(&self.id, path, &described);
            }
        }
        if self.main_track.is_none() {
            self.main_track = facts
                .moofs
                .first()
                .and_then(|m| m.trafs.first())
                .map(|t| t.track_id);
        }
        let media: Vec<&Planned> = planned
            .iter()
            .filter(|p| p.kind == SegmentKind::Media)
            .collect();
        if media.is_empty() {
            return;
        }
        self.enter_part(media[0].part);
        for moof in &facts.moofs {
            self.check_fragment(path, moof, &facts);
        }
        // Several Periods may name this file: each one's segments against its own timeline.
        let mut media = media;
        media.sort_by_key(|p| p.part);
        // A file its own index says is longer than it is: cut short (the `sidx` finding
        // says so), not unfragmented.
        let cut_short = facts.sidx.iter().any(|s| {
            let referenced: u64 = s.references.iter().map(|r| r.1).sum();
            s.references_start().saturating_add(referenced) > size
        });
        for sidx_index in 0..facts.sidx.len() {
            self.check_sidx(path, size, &facts, sidx_index);
        }
        let by_sidx = media.len() == 1
            && media[0].range.is_none()
            && media[0].time.is_none()
            && !facts.sidx.is_empty()
            && Self::sidx_consistent(&facts);
        if by_sidx {
            self.units_from_sidx(path, &facts, media[0].part);
            return;
        }
        for p in media {
            self.enter_part(p.part);
            let (start, end, bytes) = match p.range {
                Some(r) => (r.first, r.last.saturating_add(1), r.len()),
                None => (0, u64::MAX, size),
            };
            let moofs = Self::moofs_in(&facts, start, end);
            if moofs.is_empty() && cut_short {
                self.decode_end = None;
                continue;
            }
            let (timescale, simple) = (
                self.parts[p.part].0.timescale,
                self.parts[p.part].1.simple && !self.parts[p.part].1.timeline,
            );
            let expect = Expect {
                part: p.part,
                time: p.time,
                duration: p.duration,
                timescale,
                simple,
                last_in_part: p.last_in_part,
                jump: p.jump,
            };
            self.check_unit(path, bytes, &moofs, &expect);
        }
    }

    /// Moves to the segments of another Period: the continuity of decode times, sequence
    /// numbers and the bandwidth channel is that Period's own (new for a Period not met yet).
    fn enter_part(&mut self, part: usize) {
        if self.part == Some(part) {
            return;
        }
        let leaving = Continuity {
            decode_end: self.decode_end.take(),
            decode_alternative: self.decode_alternative.take(),
            last_sequence: self.last_sequence.take(),
            sequence_before: self.sequence_before.take(),
            sequence_path: std::mem::take(&mut self.sequence_path),
            channel: std::mem::take(&mut self.channel),
        };
        if let Some(old) = self.part {
            self.saved.insert(old, leaving);
        }
        let entering = self.saved.remove(&part).unwrap_or_default();
        self.decode_end = entering.decode_end;
        self.decode_alternative = entering.decode_alternative;
        self.last_sequence = entering.last_sequence;
        self.sequence_before = entering.sequence_before;
        self.sequence_path = entering.sequence_path;
        self.channel = entering.channel;
        self.part = Some(part);
    }

    /// The checks of one segment (or subsegment) against the previous one and the manifest.
    fn check_unit(&mut self, path: &str, bytes: u64, moofs: &[&Moof], expect: &Expect) {
        if moofs.is_empty() {
            self.report(
                Check::NotFragmented,
                path,
                "media segment without a moof".into(),
                Some(json!("moof")),
                Some(Value::Null),
            );
            self.decode_end = None;
            return;
        }
        let Some(track_id) = self.main_track else {
            return;
        };
        if moofs.iter().any(|m| m.damaged) {
            self.boundary(expect.part).complete = false;
            // Reported as malformed: what the damaged fragment says is not compared.
            self.decode_end = None;
            self.decode_alternative = None;
            return;
        }
        let mut unit: Option<Run> = None;
        for moof in moofs {
            let Some(run) = self.run(moof, track_id) else {
                // No fragment of the track here (the track-id finding says why): the next
                // fragment starts a new run.
                self.decode_end = None;
                self.decode_alternative = None;
                continue;
            };
            let alternative = self.decode_alternative.take();
            match (run.decode_time, self.decode_end) {
                (Some(t), Some(end)) if t != end && !(unit.is_none() && expect.jump) => {
                    self.decode_alternative = Some(end.saturating_add(run.duration));
                    if alternative == Some(t) {
                        // The previous fragment's tfdt was the odd one, and is reported.
                        self.decode_end = Some(t.saturating_add(run.duration));
                        self.decode_alternative = None;
                        merge(&mut unit, run);
                        continue;
                    }
                    let (what, delta) = if t > end {
                        ("a gap", t - end)
                    } else {
                        ("an overlap", end - t)
                    };
                    // A hole the recording names is known, not a defect of the media.
                    let named = t > end && self.named_hole(expect.part, end, t, run.max_sample);
                    let (severity, named_text) = if named {
                        (Severity::Warning, " (a hole the recording names)")
                    } else {
                        (Severity::Error, "")
                    };
                    self.report_as(
                        severity,
                        Check::DecodeTime,
                        path,
                        format!(
                            "tfdt {t} of track {track_id} in the moof at byte {}: {what} of {delta} after the previous fragment, which ends at {end}{named_text}",
                            moof.offset
                        ),
                        Some(json!(end)),
                        Some(json!(t)),
                    );
                }
                (None, _) => {
                    self.report(
                        Check::DecodeTime,
                        path,
                        format!(
                            "traf of track {track_id} in the moof at byte {} has no tfdt",
                            moof.offset
                        ),
                        Some(json!("tfdt")),
                        Some(Value::Null),
                    );
                }
                _ => {}
            }
            self.decode_end = run.decode_time.map(|t| t.saturating_add(run.duration));
            merge(&mut unit, run);
        }
        let Some(unit) = unit else {
            return;
        };
        self.last_sample = unit.max_sample;
        self.check_against_manifest(path, &unit, expect);
        self.check_unit_promises(path, &unit, expect);
        let timing = self.parts[expect.part].1.clone();
        if timing.start_with_sap >= 1
            && let Some(flags) = unit.first_flags
            && flags & NON_SYNC != 0
        {
            self.report(
                Check::Sap,
                path,
                format!(
                    "startWithSAP=\"{}\" but the first sample is not a sync sample (flags 0x{flags:08x})",
                    timing.start_with_sap
                ),
                Some(json!("sync sample")),
                Some(json!(format!("0x{flags:08x}"))),
            );
        }
        let media_timescale = self.main().map_or(0, |t| t.timescale);
        if media_timescale > 0 {
            let seconds = unit.duration as f64 / media_timescale as f64;
            let margin = self.feed_channel(expect.part, path, bytes, seconds);
            let plan = &self.parts[expect.part].0;
            let measured = super::Measured {
                representation: &self.id,
                period_index: plan.period_index,
                adaptation_set_index: plan.adaptation_set_index,
                segment: path,
                bytes,
                start: self
                    .presented(&unit, expect.part)
                    .map(|(start, _)| start as f64 / 1e9),
                duration: seconds,
                nominal: expect
                    .duration
                    .filter(|_| expect.timescale > 0)
                    .map(|d| d as f64 / expect.timescale as f64),
                samples: unit.samples,
                margin,
            };
            self.events.measured(&measured);
        }
    }
}
