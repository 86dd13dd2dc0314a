//! `mp4dump --check`: what is wrong with a presentation, found in one pass over each segment's
//! boxes.
//!
//! The checker is a [`WalkSink`](crate::render::WalkSink) like the text and JSON dumps: the
//! same driver ([`crate::dump::walk_segments`]) reads the same files that
//! [`crate::discover`] lists, once each; an inspector (`facts.rs`) keeps what the checks
//! compare, and the rules (`rules.rs`) compare it with the init segment, the previous
//! segments and the manifest as each file ends. Findings go to a [`CheckEvents`] as they are found; the summary
//! is returned.

mod aac;
mod codecs;
mod facts;
mod manifest;
mod rules;
mod stream;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::discover::{DiscoverError, Presentation, Verdict, discover};
use crate::dump::{RepresentationStats, walk_segment};
use crate::plan::RepresentationPlan;

pub use facts::{FileFacts, Sidx, facts_of_bytes};
pub use manifest::{ManifestFacts, PeriodFacts, Promises, RepresentationTiming};
use rules::PlannedFiles;
pub use rules::{Boundaries, RepresentationChecker};
pub use stream::{LiveCheck, LiveRepresentationInfo, MirrorCheck};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The presentation would play wrong or not at all.
    Error,
    /// Unusual but legal.
    Warning,
}

/// The checks, by their stable names (scripts match them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// A segment the manifest names is not there.
    MissingSegment,
    /// A box that does not parse, sizes that overrun.
    MalformedBox,
    /// A media segment without `moof`.
    NotFragmented,
    /// `mfhd` not increasing across the representation.
    SequenceNumber,
    /// A gap or an overlap in the media's decode times.
    DecodeTime,
    /// A segment's start differs from the manifest's.
    MpdTime,
    /// A segment's duration differs from the manifest's.
    MpdDuration,
    /// A `traf` whose track is not in the init segment.
    TrackId,
    /// A sample description index beyond the init's `stsd`.
    SampleDescription,
    /// `trun` sample data outside the segment's `mdat`.
    DataRange,
    /// The manifest's `@timescale` is not the media's.
    Timescale,
    /// `@codecs` does not match the init's sample entry.
    Codecs,
    /// A segment that does not start with a sync sample where `@startWithSAP` says it does.
    Sap,
    /// Sample encryption boxes that do not describe the samples.
    Encryption,
    /// A `sidx` whose references do not match what follows.
    Sidx,
    /// `@bandwidth` too low for the segments' sizes.
    Bandwidth,
    /// One `@id` for Representations of a Period that are not functionally identical.
    DuplicateId,
    /// `@width`/`@height` against the sample entry and the SPS's cropped size.
    Resolution,
    /// `@frameRate` against the sample durations.
    FrameRate,
    /// `@audioSamplingRate` against the sample entry and the decoder configuration.
    SamplingRate,
    /// `AudioChannelConfiguration` against the decoder configuration.
    Channels,
    /// `@sar` against `pasp`.
    Sar,
    /// `ContentProtection@cenc:default_KID` against `tenc`.
    DefaultKid,
    /// `cenc:pssh` against the init's `pssh` boxes.
    Pssh,
    /// `@maxSegmentDuration` against the longest segment.
    MaxSegmentDuration,
    /// Segment boundaries that differ across an AdaptationSet that says they are aligned.
    Alignment,
}

impl Check {
    /// Every check, in the order DESIGN.md names them.
    pub const ALL: [Check; 26] = [
        Check::MissingSegment,
        Check::MalformedBox,
        Check::NotFragmented,
        Check::SequenceNumber,
        Check::DecodeTime,
        Check::MpdTime,
        Check::MpdDuration,
        Check::TrackId,
        Check::SampleDescription,
        Check::DataRange,
        Check::Timescale,
        Check::Codecs,
        Check::Sap,
        Check::Encryption,
        Check::Sidx,
        Check::Bandwidth,
        Check::DuplicateId,
        Check::Resolution,
        Check::FrameRate,
        Check::SamplingRate,
        Check::Channels,
        Check::Sar,
        Check::DefaultKid,
        Check::Pssh,
        Check::MaxSegmentDuration,
        Check::Alignment,
    ];

    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            Check::MissingSegment => "missing-segment",
            Check::MalformedBox => "malformed-box",
            Check::NotFragmented => "not-fragmented",
            Check::SequenceNumber => "sequence-number",
            Check::DecodeTime => "decode-time",
            Check::MpdTime => "mpd-time",
            Check::MpdDuration => "mpd-duration",
            Check::TrackId => "track-id",
            Check::SampleDescription => "sample-description",
            Check::DataRange => "data-range",
            Check::Timescale => "timescale",
            Check::Codecs => "codecs",
            Check::Sap => "sap",
            Check::Encryption => "encryption",
            Check::Sidx => "sidx",
            Check::Bandwidth => "bandwidth",
            Check::DuplicateId => "duplicate-id",
            Check::Resolution => "resolution",
            Check::FrameRate => "frame-rate",
            Check::SamplingRate => "sampling-rate",
            Check::Channels => "channels",
            Check::Sar => "sar",
            Check::DefaultKid => "default-kid",
            Check::Pssh => "pssh",
            Check::MaxSegmentDuration => "max-segment-duration",
            Check::Alignment => "alignment",
        }
    }
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// `Representation@id`.
    pub representation: String,
    /// The segment's path, relative to the manifest's folder.
    pub segment: String,
    /// Which check.
    pub check: Check,
    /// What is wrong, in words.
    pub message: String,
    /// What was expected (`null` where nothing is compared).
    pub expected: Option<serde_json::Value>,
    /// What was found (`null` where nothing is compared).
    pub found: Option<serde_json::Value>,
}

impl Finding {
    /// The text line: `error|warning REP SEGMENT-PATH: CHECK: message`.
    pub fn text_line(&self) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{severity} {} {}: {}: {}",
            self.representation,
            self.segment,
            self.check.name(),
            self.message
        )
    }
}

/// What the checker measured of one media segment (or `sidx` subsegment) of the main track,
/// once its checks ran: what the report draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured<'a> {
    /// `Representation@id`.
    pub representation: &'a str,
    /// The Period's index in the manifest.
    pub period_index: usize,
    /// The AdaptationSet's index in its Period.
    pub adaptation_set_index: usize,
    /// The segment's path, relative to the manifest's folder.
    pub segment: &'a str,
    /// Its bytes (a byte range's length, for a segment that is one).
    pub bytes: u64,
    /// Its earliest presentation time, seconds from its Period's start (the edit list's shift
    /// and `presentationTimeOffset` applied), when its `tfdt` says.
    pub start: Option<f64>,
    /// Its media duration, seconds (the main track's samples).
    pub duration: f64,
    /// The duration the manifest gives it, seconds.
    pub nominal: Option<f64>,
    /// Samples of the main track.
    pub samples: u64,
    /// The `bandwidth` check's channel: how long before its playout ends this segment is
    /// complete, seconds, at `@bandwidth` with `@minBufferTime` (negative: late), when both
    /// are known.
    pub margin: Option<f64>,
}

/// What an init segment says of the representation's main track (the first sample entry),
/// as the promise checks read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    /// `hdlr` handler type (`vide`, `soun`, …).
    pub handler: String,
    /// The sample entry's format, before encryption (`avc1`, `mp4a`, …).
    pub format: String,
    /// Whether the sample entry is encrypted.
    pub protected: bool,
    /// `mdhd` timescale.
    pub timescale: u64,
    /// The picture a decoder outputs (the SPS's cropped size, else the sample entry's).
    pub picture: Option<(u64, u64)>,
    /// The audio sampling rate (an AAC AudioSpecificConfig's core rate, else the entry's).
    pub sample_rate: Option<u64>,
    /// Audio channels (AAC's channel configuration, AC-3's modes, else the entry's count).
    pub channels: Option<u64>,
}

/// Receives what the checker finds, as it finds it. Only findings and progress must be
/// handled; what was measured and described is there for whoever draws it (the report).
pub trait CheckEvents: Send {
    /// A finding.
    fn finding(&mut self, finding: &Finding);
    /// Files read so far, of how many.
    fn progress(&mut self, done: u64, total: u64);
    /// A media segment (or subsegment) was read and checked.
    fn measured(&mut self, _measured: &Measured<'_>) {}
    /// An init segment of `representation` was read.
    fn described(&mut self, _representation: &str, _segment: &str, _described: &Described) {}
}

/// What `mp4dump --check` is asked to do.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The presentation folder.
    pub folder: PathBuf,
    /// Which manifest, when the folder holds several.
    pub mpd: Option<String>,
    /// Only these representation ids (all when empty).
    pub reps: Vec<String>,
}

/// What a check saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    /// The manifest.
    pub manifest: PathBuf,
    /// Representations checked.
    pub representations: u64,
    /// Representations not checked (not ISO-BMFF), with the reason.
    pub skipped: Vec<(String, String)>,
    /// Segment files read.
    pub segments: u64,
    /// Errors, by check name.
    pub errors: BTreeMap<&'static str, u64>,
    /// Warnings, by check name.
    pub warnings: BTreeMap<&'static str, u64>,
}

impl CheckSummary {
    /// Errors of every check together.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Warnings of every check together.
    pub fn warning_count(&self) -> u64 {
        self.warnings.values().sum()
    }

    /// The text summary: what was not checked and why, the counts, one line per check that
    /// found something.
    pub fn text_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .skipped
            .iter()
            .map(|(id, reason)| format!("skipped {id}: {reason}"))
            .collect();
        lines.push(format!(
            "checked {} representations, {} segments: {} errors, {} warnings",
            self.representations,
            self.segments,
            self.error_count(),
            self.warning_count()
        ));
        lines.extend(
            self.errors
                .iter()
                .map(|(name, n)| format!("  error   {name}: {n}")),
        );
        lines.extend(
            self.warnings
                .iter()
                .map(|(name, n)| format!("  warning {name}: {n}")),
        );
        lines
    }

    fn count(&mut self, finding: &Finding) {
        let map = match finding.severity {
            Severity::Error => &mut self.errors,
            Severity::Warning => &mut self.warnings,
        };
        *map.entry(finding.check.name()).or_default() += 1;
    }
}

/// Counts findings on their way to the caller's events.
struct Counting<'a> {
    events: &'a mut dyn CheckEvents,
    summary: &'a mut CheckSummary,
    done: u64,
    total: u64,
}

impl<T: CheckEvents + ?Sized> CheckEvents for &mut T {
    fn finding(&mut self, finding: &Finding) {
        (**self).finding(finding);
    }
    fn progress(&mut self, done: u64, total: u64) {
        (**self).progress(done, total);
    }
    fn measured(&mut self, measured: &Measured<'_>) {
        (**self).measured(measured);
    }
    fn described(&mut self, representation: &str, segment: &str, described: &Described) {
        (**self).described(representation, segment, described);
    }
}

impl CheckEvents for Counting<'_> {
    fn finding(&mut self, finding: &Finding) {
        self.summary.count(finding);
        self.events.finding(finding);
    }
    fn progress(&mut self, _: u64, _: u64) {
        self.done += 1;
        self.events.progress(self.done, self.total);
    }
    fn measured(&mut self, measured: &Measured<'_>) {
        self.events.measured(measured);
    }
    fn described(&mut self, representation: &str, segment: &str, described: &Described) {
        self.events.described(representation, segment, described);
    }
}

/// Where the segments of each representation start, by (Period, AdaptationSet): what the
/// `alignment` check compares once every representation is read.
#[derive(Default)]
struct SegmentStarts(BTreeMap<(usize, usize), Vec<(String, Boundaries)>>);

impl SegmentStarts {
    /// A representation's starts, per Period, as its checker concluded them.
    fn add(&mut self, id: &str, parts: &[Arc<RepresentationPlan>], concluded: Vec<Boundaries>) {
        for b in concluded {
            if let Some(plan) = parts.get(b.part) {
                self.0
                    .entry((plan.period_index, plan.adaptation_set_index))
                    .or_default()
                    .push((id.to_string(), b));
            }
        }
    }

    /// The `alignment` findings of the AdaptationSets that say they are aligned; `path_of`
    /// names a representation's file by its number.
    fn findings(
        &self,
        manifest: &ManifestFacts,
        path_of: &dyn Fn(&str, u32) -> String,
    ) -> Vec<Finding> {
        self.0
            .iter()
            .filter(|((period, set), reps)| {
                reps.first().is_some_and(|(id, _)| {
                    manifest.representation(*period, *set, id).promises.aligned
                })
            })
            .flat_map(|(_, reps)| misalignments(reps, path_of))
            .collect()
    }
}

/// Boundaries closer than this are one (rounding between timescales).
const ALIGNMENT_TOLERANCE_NS: i64 = 1_000_000;

/// ISO/IEC 23009-1 §5.3.3.2 (`@segmentAlignment`): the segments of the Representations of an
/// AdaptationSet do not overlap, so that a player switches at any boundary. Each
/// Representation's segment starts are compared with the first one's, over the span both
/// cover; one finding per Representation, on its first segment that starts where the first
/// Representation has no boundary (or that lacks one the first has). Representations with a
/// missing or damaged segment are not compared (their holes are reported as such).
fn misalignments(
    reps: &[(String, Boundaries)],
    path_of: &dyn Fn(&str, u32) -> String,
) -> Vec<Finding> {
    let complete: Vec<&(String, Boundaries)> = reps
        .iter()
        .filter(|(_, b)| b.complete && !b.starts.is_empty())
        .collect();
    let Some((reference_id, reference)) = complete.first().map(|(i, b)| (i, b)) else {
        return Vec::new();
    };
    let near = |list: &[(u32, i64)], t: i64| {
        let at = list.partition_point(|(_, s)| *s < t - ALIGNMENT_TOLERANCE_NS);
        list.get(at)
            .is_some_and(|(_, s)| (*s - t).abs() <= ALIGNMENT_TOLERANCE_NS)
    };
    let mut out = Vec::new();
    for (id, other) in complete.iter().skip(1) {
        let (Some(first), last) = (
            reference
                .starts
                .first()
                .map(|s| s.1)
                .max(other.starts.first().map(|s| s.1)),
            reference.end.min(other.end),
        ) else {
            continue;
        };
        // Boundaries inside the span both cover (an end is no boundary to match).
        let within = |t: i64| t >= first && t < last - ALIGNMENT_TOLERANCE_NS;
        let unmatched = other
            .starts
            .iter()
            .find(|(_, t)| within(*t) && !near(&reference.starts, *t))
            .map(|(file, t)| (*file, *t, None))
            .or_else(|| {
                reference
                    .starts
                    .iter()
                    .find(|(_, t)| within(*t) && !near(&other.starts, *t))
                    .map(|(_, t)| {
                        // The other's segment that spans the reference's boundary.
                        let at = other.starts.partition_point(|(_, s)| *s <= *t);
                        let file = other.starts[at.saturating_sub(1)].0;
                        (file, *t, Some(()))
                    })
            });
        if let Some((file, t, spans)) = unmatched {
            let segment = path_of(id, file);
            let seconds = t as f64 / 1e9;
            let message = match spans {
                None => format!(
                    "a segment starts at {seconds:.3} s, where representation {reference_id} has no segment boundary (segmentAlignment)"
                ),
                Some(()) => format!(
                    "runs over {seconds:.3} s, where representation {reference_id} starts a segment (segmentAlignment)"
                ),
            };
            out.push(Finding {
                severity: Severity::Error,
                representation: id.clone(),
                segment,
                check: Check::Alignment,
                message,
                expected: Some(serde_json::json!(
                    "a boundary of representation ".to_string() + reference_id
                )),
                found: Some(serde_json::json!(seconds)),
            });
        }
    }
    out
}

/// ISO/IEC 23009-1 §5.3.5.2: `Representation@id` is unique within a Period unless the
/// Representations are functionally identical. One finding per Period and `@id` whose
/// Representations differ in what they are (type, codecs, bandwidth) or in their segments.
fn duplicate_ids(reps: &[RepresentationPlan], manifest: &str) -> Vec<Finding> {
    let mut groups: BTreeMap<(usize, &str), Vec<&RepresentationPlan>> = BTreeMap::new();
    for rep in reps {
        groups
            .entry((rep.period_index, rep.id.as_str()))
            .or_default()
            .push(rep);
    }
    let mut out = Vec::new();
    for ((_, id), group) in groups {
        let Some((first, rest)) = group.split_first() else {
            continue;
        };
        let describe = |r: &RepresentationPlan| {
            format!(
                "AdaptationSet {} ({}, {}, {} b/s)",
                r.adaptation_set_index,
                r.mime_type.as_deref().unwrap_or("no mimeType"),
                r.codecs.as_deref().unwrap_or("no codecs"),
                r.bandwidth.unwrap_or(0)
            )
        };
        let same = |r: &RepresentationPlan| {
            r.mime_type == first.mime_type
                && r.codecs == first.codecs
                && r.bandwidth == first.bandwidth
                && r.segments()
                    .map(|s| s.path)
                    .eq(first.segments().map(|s| s.path))
        };
        if rest.is_empty() || rest.iter().all(|r| same(r)) {
            continue;
        }
        out.push(Finding {
            severity: Severity::Error,
            representation: id.to_string(),
            segment: manifest.to_string(),
            check: Check::DuplicateId,
            message: format!(
                "Period {}: {} Representations share @id \"{id}\" but are not functionally identical: {}",
                first.period,
                group.len(),
                group
                    .iter()
                    .map(|r| describe(r))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            expected: Some(serde_json::json!("a unique @id")),
            found: Some(serde_json::json!(group.len())),
        });
    }
    out
}

/// Checks every fMP4 representation of the presentation in `options.folder` (the ones a dump
/// would write), reporting findings to `events` as they are found.
pub fn check_folder(
    options: &CheckOptions,
    events: &mut dyn CheckEvents,
) -> Result<CheckSummary, DiscoverError> {
    let presentation = discover(&options.folder, options.mpd.as_deref(), &options.reps)?;
    let bytes = std::fs::read(&presentation.manifest)
        .map_err(|e| DiscoverError::Read(presentation.manifest.clone(), e))?;
    let manifest = ManifestFacts::read(&bytes);
    Ok(check_presentation(&presentation, &manifest, events))
}

/// Checks the fMP4 representations of a discovered presentation, whose manifest's facts are
/// `manifest`, reporting findings (and what was measured) to `events` as they are found.
pub fn check_presentation(
    presentation: &Presentation,
    manifest: &ManifestFacts,
    events: &mut dyn CheckEvents,
) -> CheckSummary {
    let mut summary = CheckSummary {
        manifest: presentation.manifest.clone(),
        ..CheckSummary::default()
    };
    let total = presentation
        .representations
        .iter()
        .map(|r| match &r.verdict {
            Verdict::Dump(files) => *files,
            Verdict::Skip(_) => 0,
        })
        .sum();
    let mut counting = Counting {
        events,
        summary: &mut summary,
        done: 0,
        total,
    };
    let manifest_name = presentation
        .manifest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for finding in duplicate_ids(&presentation.plan.representations, &manifest_name) {
        counting.finding(&finding);
    }
    let mut representations = 0;
    let mut segments = 0;
    let mut skipped = Vec::new();
    let mut starts = SegmentStarts::default();
    for rep in &presentation.representations {
        if let Verdict::Skip(reason) = &rep.verdict {
            skipped.push((rep.id.clone(), reason.clone()));
            continue;
        }
        let parts: Vec<Arc<RepresentationPlan>> = presentation
            .parts(&rep.id)
            .map(|r| Arc::new(r.clone()))
            .collect();
        let mut checker =
            RepresentationChecker::new(&rep.id, &parts, manifest, Box::new(&mut counting));
        // Each file with its planned segments, taken from the plan as it is read (nothing is
        // kept per segment); the checker writes nothing, so the walk cannot fail.
        let timed = rules::timed_parts(&rep.id, &parts, manifest);
        let mut stats = RepresentationStats::default();
        let mut offset = 0;
        for (file, entries) in PlannedFiles::new(&presentation.plan, &timed, &presentation.folder) {
            checker.expect_file(file.display_path.clone(), entries);
            offset += walk_segment(&file, offset, &mut checker, &mut stats).unwrap_or(0);
            checker.forget_file(&file.display_path);
        }
        starts.add(&rep.id, &parts, checker.conclude());
        representations += 1;
        segments += stats.segments;
    }
    let path_of = |id: &str, file: u32| {
        presentation
            .files(id)
            .nth(file as usize)
            .map(|f| f.display_path)
            .unwrap_or_default()
    };
    for finding in starts.findings(manifest, &path_of) {
        counting.finding(&finding);
    }
    summary.representations = representations;
    summary.segments = segments;
    summary.skipped = skipped;
    summary
}
