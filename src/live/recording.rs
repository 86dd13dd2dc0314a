//! The static manifest of a recording: what was recorded of a live presentation, as an
//! on-demand presentation that any DASH player, `ffprobe`, the plan and `mp4dump -d` read from
//! disk.
//!
//! - `type="static"`, Periods back to back from 0 with their durations, and
//!   `mediaPresentationDuration`;
//! - per Representation a `SegmentTimeline` of exactly the recorded segments (a segment that
//!   could not be had is an `S@t` jump, visible as a gap), and the files, relative to the
//!   manifest's folder: by a `SegmentTemplate` when one `$Time$` template (or a `$Number$` one,
//!   numbers without a gap) names every recorded file, as the mirror's layout of a templated
//!   live presentation does; else a `SegmentList` naming each file (readers such as ffmpeg
//!   5.1's read templates fully, lists only in part);
//! - each Period starts at its earliest recorded segment, and `presentationTimeOffset` keeps the
//!   Representations of a Period aligned as they were live;
//! - written atomically by the recorder through the output folder (`store`), so a killed
//!   recorder always leaves a whole manifest.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::availability::{LivePresentation, LiveRepresentation, LiveSegment};
use super::time::format_duration;
use super::window::ceil_div;
use crate::mpd::SourceXml;
use crate::plan::template::{Identifier, Template, Values};

/// One recorded media segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedSegment {
    /// Media time in the Representation's timescale (`presentationTimeOffset` included), as in
    /// the live manifest.
    pub time: i64,
    /// Duration in the timescale.
    pub duration: u64,
    /// `$Number$` in the live presentation.
    pub number: u64,
    /// The file, relative to the manifest's folder, `/`-separated.
    pub path: String,
    /// Its start on the live presentation timeline, nanoseconds after AST (rounded down).
    #[serde(default)]
    pub start: i128,
    /// Its end there, clipped to its Period's end (rounded up).
    #[serde(default)]
    pub end: i128,
}

impl RecordedSegment {
    /// A live segment recorded at `path` (relative to the manifest's folder).
    pub fn of(segment: &LiveSegment, path: &str) -> RecordedSegment {
        RecordedSegment {
            time: segment.time,
            duration: segment.duration,
            number: segment.number,
            path: path.to_string(),
            start: segment.start,
            end: segment.end,
        }
    }
}

/// What the recording's manifest says of a Representation, besides its segments: where it
/// stands in the live presentation (Period, AdaptationSet) and its attributes. Taken from the
/// live manifest when the Representation is first recorded, and kept with the recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepresentationInfo {
    /// `Period@id` (or its index).
    pub period: String,
    /// The Period's live start, nanoseconds after AST.
    pub period_start: u64,
    /// `AdaptationSet@id` (or its index).
    pub adaptation_set: String,
    /// The AdaptationSet's index in its Period (the recording keeps the source's order).
    #[serde(default)]
    pub adaptation_set_index: usize,
    /// `AdaptationSet@contentType`.
    pub content_type: Option<String>,
    /// `Representation@id`.
    pub id: String,
    /// `@mimeType`.
    pub mime_type: Option<String>,
    /// `@codecs`.
    pub codecs: Option<String>,
    /// `@bandwidth`.
    pub bandwidth: Option<u64>,
    /// Media timescale.
    pub timescale: u64,
    /// The live `@presentationTimeOffset`, in the timescale.
    pub presentation_time_offset: u64,
    /// The AdaptationSet's descriptive attributes and elements, as the live manifest wrote them.
    #[serde(default)]
    pub set_source: SourceXml,
    /// The Representation's.
    #[serde(default)]
    pub source: SourceXml,
}

impl RepresentationInfo {
    /// The description of a live Representation.
    pub fn of(presentation: &LivePresentation, rep: &LiveRepresentation) -> RepresentationInfo {
        let period = presentation.period(rep);
        RepresentationInfo {
            period: period.label.clone(),
            period_start: period.start,
            adaptation_set: rep.adaptation_set.clone(),
            adaptation_set_index: rep.adaptation_set_index,
            content_type: rep.content_type.clone(),
            id: rep.id.clone(),
            mime_type: rep.mime_type.clone(),
            codecs: rep.codecs.clone(),
            bandwidth: rep.bandwidth,
            timescale: rep.timescale,
            presentation_time_offset: rep.presentation_time_offset,
            set_source: rep.set_source.clone(),
            source: rep.source.clone(),
        }
    }
}

/// One recorded Representation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRepresentation {
    /// `Representation@id`.
    pub id: String,
    /// `@mimeType`.
    pub mime_type: Option<String>,
    /// `@codecs`.
    pub codecs: Option<String>,
    /// `@bandwidth`.
    pub bandwidth: Option<u64>,
    /// Media timescale.
    pub timescale: u64,
    /// The live `@presentationTimeOffset`, in the timescale.
    pub presentation_time_offset: u64,
    /// The init segment's file, relative to the manifest's folder.
    pub init: Option<String>,
    /// The recorded segments, in time order, one per time.
    pub segments: Vec<RecordedSegment>,
    /// Its descriptive attributes and elements, as the live manifest wrote them.
    #[serde(default)]
    pub source: SourceXml,
    /// The init segment's `mdhd` timescale, when known.
    #[serde(default)]
    pub media_timescale: Option<u64>,
}

/// One recorded AdaptationSet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedAdaptationSet {
    /// `@id` (or its index in the live Period).
    pub id: String,
    /// `@contentType`.
    pub content_type: Option<String>,
    /// Its index in the live Period (AdaptationSets keep the source's order: dash.js follows
    /// tracks from Period to Period less surely when the order changes).
    #[serde(default)]
    pub index: usize,
    /// Its descriptive attributes and elements, as the live manifest wrote them.
    #[serde(default)]
    pub source: SourceXml,
    /// The Representations, in the order they were first recorded.
    pub representations: Vec<RecordedRepresentation>,
}

/// One recorded Period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedPeriod {
    /// `Period@id` (or its index).
    pub id: String,
    /// Its live start, nanoseconds after AST (orders the Periods).
    pub live_start: u64,
    /// The AdaptationSets.
    pub adaptation_sets: Vec<RecordedAdaptationSet>,
}

/// What has been recorded so far. Serialisable, so that a journal can keep it and a resumed
/// recording rewrite the same manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recording {
    /// The Periods, in live order.
    pub periods: Vec<RecordedPeriod>,
}

impl Recording {
    /// An empty recording.
    pub fn new() -> Recording {
        Recording::default()
    }

    /// The entry of a Representation, created on first use.
    fn entry(&mut self, info: &RepresentationInfo) -> &mut RecordedRepresentation {
        let p = match self.periods.iter().position(|p| p.id == info.period) {
            Some(p) => p,
            None => {
                let at = self
                    .periods
                    .partition_point(|p| p.live_start <= info.period_start);
                self.periods.insert(
                    at,
                    RecordedPeriod {
                        id: info.period.clone(),
                        live_start: info.period_start,
                        adaptation_sets: Vec::new(),
                    },
                );
                at
            }
        };
        let sets = &mut self.periods[p].adaptation_sets;
        let a = match sets.iter().position(|a| a.id == info.adaptation_set) {
            Some(a) => a,
            None => {
                let at = sets.partition_point(|a| a.index <= info.adaptation_set_index);
                sets.insert(
                    at,
                    RecordedAdaptationSet {
                        id: info.adaptation_set.clone(),
                        content_type: info.content_type.clone(),
                        index: info.adaptation_set_index,
                        source: info.set_source.clone(),
                        representations: Vec::new(),
                    },
                );
                at
            }
        };
        let reps = &mut sets[a].representations;
        let r = match reps.iter().position(|r| r.id == info.id) {
            Some(r) => r,
            None => {
                reps.push(RecordedRepresentation {
                    id: info.id.clone(),
                    mime_type: info.mime_type.clone(),
                    codecs: info.codecs.clone(),
                    bandwidth: info.bandwidth,
                    timescale: info.timescale,
                    presentation_time_offset: info.presentation_time_offset,
                    init: None,
                    segments: Vec::new(),
                    source: info.source.clone(),
                    media_timescale: None,
                });
                reps.len() - 1
            }
        };
        &mut reps[r]
    }

    /// Records a Representation's init segment, stored at `path` (relative to the manifest's
    /// folder).
    pub fn add_init(
        &mut self,
        presentation: &LivePresentation,
        rep: &LiveRepresentation,
        path: &str,
    ) {
        self.add_init_of(&RepresentationInfo::of(presentation, rep), path);
    }

    /// [`Recording::add_init`] for a described Representation.
    pub fn add_init_of(&mut self, info: &RepresentationInfo, path: &str) {
        self.entry(info).init = Some(path.to_string());
    }

    /// Records the timescale of a Representation's media (its init segment's `mdhd`): the
    /// recording's manifest states its times in it where it can.
    pub fn set_media_timescale(&mut self, info: &RepresentationInfo, timescale: Option<u64>) {
        self.entry(info).media_timescale = timescale;
    }

    /// Records a media segment, stored at `path` (relative to the manifest's folder). Recording
    /// the same time again replaces the entry.
    pub fn add_segment(
        &mut self,
        presentation: &LivePresentation,
        rep: &LiveRepresentation,
        segment: &LiveSegment,
        path: &str,
    ) {
        self.add_segment_of(
            &RepresentationInfo::of(presentation, rep),
            RecordedSegment::of(segment, path),
        );
    }

    /// [`Recording::add_segment`] for a described Representation.
    pub fn add_segment_of(&mut self, info: &RepresentationInfo, recorded: RecordedSegment) {
        let entry = self.entry(info);
        match entry
            .segments
            .binary_search_by_key(&recorded.time, |s| s.time)
        {
            Ok(at) => entry.segments[at] = recorded,
            Err(at) => entry.segments.insert(at, recorded),
        }
    }

    /// Media segments recorded, in all Representations.
    pub fn segment_count(&self) -> usize {
        self.periods
            .iter()
            .flat_map(|p| &p.adaptation_sets)
            .flat_map(|a| &a.representations)
            .map(|r| r.segments.len())
            .sum()
    }

    /// The static manifest's text.
    pub fn render(&self) -> String {
        let pieces = pieces(self);
        let mut periods = String::new();
        let mut start: u64 = 0;
        for (k, piece) in pieces.iter().enumerate() {
            // Back to back; a Period lasts as its source did up to the next one, unless a hole
            // every Representation shares lies between them (media missing at a boundary): then
            // it ends with its media and the next starts at once, saying so.
            let duration = match pieces.get(k + 1) {
                Some(next) if next.gap_before.is_none() => next.anchor - piece.anchor,
                _ => piece.end - piece.anchor,
            };
            let duration = u64::try_from(duration.max(0)).unwrap_or(0);
            let period = piece.period;
            let id = period.id.clone();
            let _ = writeln!(
                periods,
                "  <Period id=\"{}\" start=\"{}\" duration=\"{}\">",
                escape(&id),
                format_duration(start),
                format_duration(duration)
            );
            if let Some((from, to)) = piece.gap_before {
                let _ = writeln!(
                    periods,
                    "    <!-- a hole in the recorded media before this Period: {}, from {:.3} s to {:.3} s after the live availabilityStartTime -->",
                    format_duration(u64::try_from(to - from).unwrap_or(0)),
                    from as f64 / 1e9,
                    to as f64 / 1e9
                );
                let _ = writeln!(
                    periods,
                    "    <SupplementalProperty schemeIdUri=\"{GAP_SCHEME}\" value=\"{}\"/>",
                    format_duration(u64::try_from(to - from).unwrap_or(0))
                );
            }
            let anchor = piece.anchor - i128::from(period.live_start);
            for set in &period.adaptation_sets {
                let reps: Vec<(&RecordedRepresentation, &[RecordedSegment])> = set
                    .representations
                    .iter()
                    .map(|r| (r, piece.segments_of(r)))
                    .filter(|(_, segments)| !segments.is_empty())
                    .collect();
                if reps.is_empty() {
                    continue;
                }
                let _ = write!(periods, "    <AdaptationSet id=\"{}\"", escape(&set.id));
                if let Some(c) = &set.content_type {
                    let _ = write!(periods, " contentType=\"{}\"", escape(c));
                }
                write_attributes(&mut periods, &set.source);
                periods.push_str(">\n");
                write_children(&mut periods, &set.source, "      ");
                for (rep, segments) in reps {
                    write_representation(&mut periods, rep, segments, anchor);
                }
                periods.push_str("    </AdaptationSet>\n");
            }
            periods.push_str("  </Period>\n");
            start = start.saturating_add(duration);
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\"{} profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" mediaPresentationDuration=\"{}\" minBufferTime=\"PT2S\">\n{periods}</MPD>\n",
            namespaces(self),
            format_duration(start)
        )
    }
}

/// The `SupplementalProperty` scheme that names a hole in a recording: on a Representation,
/// `t=TIME,d=DURATION` in its timescale (a hole inside its timeline); on a Period, the duration
/// of the hole before it (media missing at a Period boundary).
pub const GAP_SCHEME: &str = "urn:dashget:recording-gap:2026";

/// A hole shorter than this between two recorded Periods is not one (rounding).
const HOLE_TOLERANCE: i128 = 1_000_000;

/// One Period of the recording's manifest: a recorded source Period, where it starts and ends.
/// (A hole inside a Period stays in its timelines, see `timeline_duration`.)
struct Piece<'a> {
    period: &'a RecordedPeriod,
    /// The segments it holds start in `[from, to)` (nanoseconds after AST).
    from: i128,
    to: i128,
    /// Its earliest segment start and latest (clipped) segment end.
    anchor: i128,
    end: i128,
    /// The hole cut out just before it, if any.
    gap_before: Option<(i128, i128)>,
}

impl Piece<'_> {
    fn segments_of<'r>(&self, rep: &'r RecordedRepresentation) -> &'r [RecordedSegment] {
        let first = rep
            .segments
            .partition_point(|s| segment_start(rep, s, self) < self.from);
        let last = rep
            .segments
            .partition_point(|s| segment_start(rep, s, self) < self.to);
        &rep.segments[first..last]
    }
}

/// A segment's start after AST: as recorded, or from its media time for a recording that did not
/// keep it.
fn segment_start(rep: &RecordedRepresentation, s: &RecordedSegment, piece: &Piece) -> i128 {
    if s.end > 0 {
        s.start
    } else {
        i128::from(piece.period.live_start) + presentation_ns(rep, s.time)
    }
}

fn segment_end(rep: &RecordedRepresentation, s: &RecordedSegment, live_start: u64) -> i128 {
    if s.end > 0 {
        return s.end;
    }
    let ticks =
        i128::from(s.time) + i128::from(s.duration) - i128::from(rep.presentation_time_offset);
    i128::from(live_start)
        + ceil_div(
            ticks.saturating_mul(1_000_000_000),
            i128::from(rep.timescale.max(1)),
        )
}

/// The Periods of the recording's manifest, in order (see [`Piece`]).
fn pieces(recording: &Recording) -> Vec<Piece<'_>> {
    let mut out: Vec<Piece> = Vec::new();
    for period in &recording.periods {
        let probe = Piece {
            period,
            from: i128::MIN,
            to: i128::MAX,
            anchor: 0,
            end: 0,
            gap_before: None,
        };
        let spans: Vec<(i128, i128)> = period
            .adaptation_sets
            .iter()
            .flat_map(|a| &a.representations)
            .flat_map(|r| r.segments.iter().map(move |s| (r, s)))
            .map(|(r, s)| {
                (
                    segment_start(r, s, &probe),
                    segment_end(r, s, period.live_start),
                )
            })
            .collect();
        if spans.is_empty() {
            continue;
        }
        let anchor = spans.iter().map(|s| s.0).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.1).max().unwrap_or(anchor);
        let gap_before = out
            .last()
            .filter(|previous| anchor - previous.end > HOLE_TOLERANCE)
            .map(|previous| (previous.end, anchor));
        let mut piece = Piece {
            period,
            from: anchor,
            to: i128::MAX,
            anchor,
            end,
            gap_before,
        };
        piece.anchor = aligned_start(&piece);
        out.push(piece);
    }
    out
}

/// Where a Period of the recording starts: where every Representation of it has media (the
/// latest of their first segments), so that a player starts each track at once. dash.js seeks
/// to the first media at startup and, when the next Period starts with a hole in one track,
/// applies that hole to the playback position while its startup seek runs, skipping a whole
/// Period. A Representation that starts more than one segment after the others (one added
/// later) does not hold the others back: then the earliest first segment.
fn aligned_start(piece: &Piece) -> i128 {
    let mut firsts = Vec::new();
    let mut longest = 0i128;
    for rep in piece
        .period
        .adaptation_sets
        .iter()
        .flat_map(|a| &a.representations)
    {
        let segments = piece.segments_of(rep);
        if let Some(first) = segments.first() {
            firsts.push(segment_start(rep, first, piece));
        }
        for s in segments.iter().take(2) {
            let span = segment_end(rep, s, piece.period.live_start) - segment_start(rep, s, piece);
            longest = longest.max(span);
        }
    }
    let (Some(&earliest), Some(&latest)) = (firsts.iter().min(), firsts.iter().max()) else {
        return piece.anchor;
    };
    if latest - earliest <= longest {
        latest
    } else {
        earliest
    }
}

/// Period-relative nanoseconds of a media time, rounded down.
fn presentation_ns(rep: &RecordedRepresentation, time: i64) -> i128 {
    let ticks = i128::from(time) - i128::from(rep.presentation_time_offset);
    ticks
        .saturating_mul(1_000_000_000)
        .div_euclid(i128::from(rep.timescale.max(1)))
}

/// The new `presentationTimeOffset`: the Representation's media time at the anchor.
fn offset_at(rep: &RecordedRepresentation, anchor: i128) -> i128 {
    i128::from(rep.presentation_time_offset).saturating_add(
        anchor
            .saturating_mul(i128::from(rep.timescale))
            .div_euclid(1_000_000_000),
    )
}

fn write_representation(
    out: &mut String,
    rep: &RecordedRepresentation,
    segments: &[RecordedSegment],
    anchor: i128,
) {
    let _ = write!(out, "      <Representation id=\"{}\"", escape(&rep.id));
    if let Some(m) = &rep.mime_type {
        let _ = write!(out, " mimeType=\"{}\"", escape(m));
    }
    if let Some(c) = &rep.codecs {
        let _ = write!(out, " codecs=\"{}\"", escape(c));
    }
    let _ = write!(out, " bandwidth=\"{}\"", rep.bandwidth.unwrap_or(0));
    write_attributes(out, &rep.source);
    out.push_str(">\n");
    write_children(out, &rep.source, "        ");
    let template = media_template(segments);
    // Times in the media's own timescale when the manifest's differs (an `@duration` source with
    // `@timescale="1"`, say) and every time converts exactly, unless file names carry `$Time$`
    // values of the manifest's timescale: the recording then says what the media says.
    let by_time = matches!(template, Some((_, false)));
    let media = rep
        .media_timescale
        .filter(|&m| m != rep.timescale && m > 0 && !by_time)
        .filter(|&m| {
            let exact = |v: i128| (v * i128::from(m)) % i128::from(rep.timescale.max(1)) == 0;
            segments
                .iter()
                .all(|s| exact(i128::from(s.time)) && exact(i128::from(s.duration)))
        });
    let (timescale, offset, converted);
    let timeline: &[RecordedSegment] = match media {
        Some(m) => {
            let scale = |v: i128| v * i128::from(m) / i128::from(rep.timescale.max(1));
            converted = segments
                .iter()
                .map(|s| RecordedSegment {
                    time: i64::try_from(scale(i128::from(s.time))).unwrap_or(s.time),
                    duration: u64::try_from(scale(i128::from(s.duration))).unwrap_or(s.duration),
                    ..s.clone()
                })
                .collect::<Vec<_>>();
            timescale = m;
            offset = scale(offset_at(rep, anchor));
            &converted
        }
        None => {
            timescale = rep.timescale;
            offset = offset_at(rep, anchor);
            segments
        }
    };
    // Each hole of the timeline, named: where the media stops and for how long, in the
    // timescale below (the segment before it is stretched over it, see `timeline_duration`).
    for (from, to) in holes(timeline) {
        let _ = writeln!(
            out,
            "        <SupplementalProperty schemeIdUri=\"{GAP_SCHEME}\" value=\"t={from},d={}\"/>",
            to - from
        );
    }
    let common = format!(
        "timescale=\"{timescale}\" presentationTimeOffset=\"{}\"",
        offset.max(0)
    );
    match &template {
        Some((media, by_number)) => {
            let _ = write!(out, "        <SegmentTemplate {common}");
            if *by_number {
                let _ = write!(out, " startNumber=\"{}\"", segments[0].number);
            }
            if let Some(init) = &rep.init {
                let _ = write!(out, " initialization=\"{}\"", escape(&url_path(init)));
            }
            let _ = writeln!(out, " media=\"{}\">", escape(media));
        }
        None => {
            let _ = writeln!(out, "        <SegmentList {common}>");
            if let Some(init) = &rep.init {
                let _ = writeln!(
                    out,
                    "          <Initialization sourceURL=\"{}\"/>",
                    escape(&url_path(init))
                );
            }
        }
    }
    // dash.js (5.2) asks for the first SegmentURL for every repetition of an `S@r` in a
    // SegmentList: a list gets one `S` per segment.
    write_timeline(out, timeline, template.is_some());
    match template {
        Some(_) => out.push_str("        </SegmentTemplate>\n"),
        None => {
            for segment in segments {
                let _ = writeln!(
                    out,
                    "          <SegmentURL media=\"{}\"/>",
                    escape(&url_path(&segment.path))
                );
            }
            out.push_str("        </SegmentList>\n");
        }
    }
    out.push_str("      </Representation>\n");
}

/// The attributes of a live element the recording keeps (`@lang`, `@width`, `@frameRate`,
/// `@audioSamplingRate`, …), but for those only a live manifest has.
fn write_attributes(out: &mut String, source: &SourceXml) {
    for (name, value) in &source.attributes {
        if LIVE_ONLY_ATTRIBUTES.contains(&name.as_str()) {
            continue;
        }
        let _ = write!(out, " {name}=\"{}\"", escape(value));
    }
}

/// Attributes that describe a live presentation only.
const LIVE_ONLY_ATTRIBUTES: &[&str] = &["availabilityTimeOffset", "availabilityTimeComplete"];

/// The child elements of a live element the recording keeps (`Role`, `Accessibility`,
/// `AudioChannelConfiguration`, `ContentProtection`, `InbandEventStream`, …), as written.
fn write_children(out: &mut String, source: &SourceXml, indent: &str) {
    for child in &source.children {
        out.push_str(indent);
        out.push_str(child);
        out.push('\n');
    }
}

/// The namespace declarations the kept attributes and elements need, for the MPD element.
fn namespaces(recording: &Recording) -> String {
    let mut declared: Vec<&(String, String)> = Vec::new();
    let sources = recording
        .periods
        .iter()
        .flat_map(|p| &p.adaptation_sets)
        .flat_map(|a| {
            std::iter::once(&a.source).chain(a.representations.iter().map(|r| &r.source))
        });
    for source in sources {
        for ns in &source.namespaces {
            if !declared.iter().any(|(p, _)| *p == ns.0) {
                declared.push(ns);
            }
        }
    }
    declared
        .iter()
        .map(|(prefix, uri)| format!(" xmlns:{prefix}=\"{}\"", escape(uri)))
        .collect()
}

/// The holes of a Representation's recorded timeline: (media time where the media stops,
/// the time the next segment starts), in its timescale.
fn holes(segments: &[RecordedSegment]) -> Vec<(i128, i128)> {
    segments
        .windows(2)
        .filter_map(|w| {
            let end = i128::from(w[0].time) + i128::from(w[0].duration);
            let next = i128::from(w[1].time);
            (next > end).then_some((end, next))
        })
        .collect()
}

/// The duration the timeline gives segment `i`: its own, or, before a hole, up to the next
/// segment's start. A hole is thus no `S@t` jump: dash.js stops at such a jump (and ffmpeg reads
/// only one Period of several, so a hole cannot be cut out with a new Period either); with the
/// segment before a hole stretched over it, dash.js jumps the gap in its buffer and ffprobe reads
/// on, and the hole is named by a `SupplementalProperty` of the Representation.
fn timeline_duration(segments: &[RecordedSegment], i: usize) -> i128 {
    let own = i128::from(segments[i].duration);
    match segments.get(i + 1) {
        Some(next) => own.max(i128::from(next.time) - i128::from(segments[i].time)),
        None => own,
    }
}

/// One `S` per run of back-to-back segments of one duration (one per segment unless
/// `repeat_runs`), a segment before a hole stretched over it ([`timeline_duration`]); a jump
/// back (an overlap) starts a new `S` with `@t`.
fn write_timeline(out: &mut String, segments: &[RecordedSegment], repeat_runs: bool) {
    out.push_str("          <SegmentTimeline>\n");
    let mut next_time: Option<i128> = None;
    let mut i = 0;
    while i < segments.len() {
        let first = &segments[i];
        let duration = timeline_duration(segments, i);
        let mut repeat = 0;
        while let Some(next) = segments.get(i + 1 + repeat).filter(|_| repeat_runs) {
            let at = i + repeat;
            if timeline_duration(segments, at + 1) != duration
                || i128::from(next.time) != i128::from(segments[at].time) + duration
            {
                break;
            }
            repeat += 1;
        }
        out.push_str("            <S");
        if next_time != Some(i128::from(first.time)) {
            let _ = write!(out, " t=\"{}\"", first.time);
        }
        let _ = write!(out, " d=\"{duration}\"");
        if repeat > 0 {
            let _ = write!(out, " r=\"{repeat}\"");
        }
        out.push_str("/>\n");
        let last = &segments[i + repeat];
        next_time = Some(i128::from(last.time) + timeline_duration(segments, i + repeat));
        i += repeat + 1;
    }
    out.push_str("          </SegmentTimeline>\n");
}

/// A `@media` template that names every recorded file from its time (or its number, when the
/// numbers have no gap: a timeline numbers its segments one after another), if there is one.
/// Returns the template (URL-encoded) and whether it uses `$Number$`.
fn media_template(segments: &[RecordedSegment]) -> Option<(String, bool)> {
    let first = segments.first()?;
    let encoded: Vec<String> = segments.iter().map(|s| url_path(&s.path)).collect();
    let consecutive = segments
        .windows(2)
        .all(|w| w[0].number.checked_add(1) == Some(w[1].number));
    let candidates = [
        (Identifier::Time, first.time.to_string(), false),
        (Identifier::Number, first.number.to_string(), true),
    ];
    for (identifier, value, by_number) in candidates {
        if by_number && !consecutive {
            continue;
        }
        let Some(text) = template_around(&encoded[0], &value, identifier) else {
            continue;
        };
        let Ok(template) = Template::compile(&text) else {
            continue;
        };
        let names_all = segments.iter().zip(&encoded).all(|(s, path)| {
            let values = Values {
                number: Some(s.number),
                time: Some(s.time),
                ..Values::default()
            };
            template.expand(&values).is_ok_and(|e| &e == path)
        });
        if names_all {
            return Some((text, by_number));
        }
    }
    None
}

/// `path` with the last whole run of digits that reads `value` replaced by the identifier
/// (`$Number%05d$` when the run is zero-padded).
fn template_around(path: &str, value: &str, identifier: Identifier) -> Option<String> {
    let bytes = path.as_bytes();
    let mut end = path.len();
    while let Some(at) = path[..end].rfind(value) {
        let stop = at + value.len();
        let mut start = at;
        while start > 0 && bytes[start - 1] == b'0' {
            start -= 1;
        }
        let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        let whole = (start == 0 || !digit(start - 1)) && !digit(stop);
        if whole && !value.starts_with('-') {
            let name = match identifier {
                Identifier::Time => "Time",
                _ => "Number",
            };
            let tag = if start < at {
                format!("${name}%0{}d$", stop - start)
            } else {
                format!("${name}$")
            };
            return Some(format!("{}{tag}{}", &path[..start], &path[stop..]));
        }
        if at == 0 {
            return None;
        }
        end = at + value.len() - 1;
    }
    None
}

/// Characters a relative URL path component cannot hold as they are (RFC 3986), plus `%`.
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b':')
    .add(b'$');

/// A `/`-separated relative file path as a relative URL (`$` escaped too, so that the URL is
/// also a template without identifiers).
fn url_path(path: &str) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .map(|c| utf8_percent_encode(c, COMPONENT).to_string())
        .collect();
    encoded.join("/")
}

/// Escapes text for an XML attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "recording_tests.rs"]
mod tests;
