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
use super::recorded::template_around;
pub use super::recorded::{Clock, RecordedSegment, RecordedSegments};
use super::time::format_duration;
use crate::mpd::SourceXml;
use crate::plan::template::{Identifier, Template, Values};

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
#[derive(Debug, Clone)]
pub struct RecordedRepresentation {
    /// What the live manifest said of it when it was first recorded.
    pub info: RepresentationInfo,
    /// The init segment's file, relative to the manifest's folder.
    pub init: Option<String>,
    /// Where its media times are on the live timeline.
    pub clock: Clock,
    /// The recorded segments, in time order, one per time.
    pub segments: RecordedSegments,
    /// The init segment's `mdhd` timescale, when known.
    pub media_timescale: Option<u64>,
}

/// One recorded AdaptationSet.
#[derive(Debug, Clone)]
pub struct RecordedAdaptationSet {
    /// `@id` (or its index in the live Period).
    pub id: String,
    /// `@contentType`.
    pub content_type: Option<String>,
    /// Its index in the live Period (AdaptationSets keep the source's order: dash.js follows
    /// tracks from Period to Period less surely when the order changes).
    pub index: usize,
    /// Its descriptive attributes and elements, as the live manifest wrote them.
    pub source: SourceXml,
    /// The Representations, in the order they were first recorded.
    pub representations: Vec<RecordedRepresentation>,
}

/// One recorded Period.
#[derive(Debug, Clone)]
pub struct RecordedPeriod {
    /// `Period@id` (or its index).
    pub id: String,
    /// Its live start, nanoseconds after AST (orders the Periods).
    pub live_start: u64,
    /// The AdaptationSets.
    pub adaptation_sets: Vec<RecordedAdaptationSet>,
}

/// What has been recorded so far (rebuilt from the recording's log when a recording resumes).
#[derive(Debug, Clone, Default)]
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
        let r = match reps.iter().position(|r| r.info.id == info.id) {
            Some(r) => r,
            None => {
                reps.push(RecordedRepresentation {
                    info: info.clone(),
                    init: None,
                    clock: Clock {
                        period_start: info.period_start,
                        timescale: info.timescale,
                        presentation_time_offset: info.presentation_time_offset,
                    },
                    segments: RecordedSegments::default(),
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
    pub fn add_segment_of(&mut self, info: &RepresentationInfo, mut recorded: RecordedSegment) {
        let entry = self.entry(info);
        recorded.path = url_path(&recorded.path);
        let clock = entry.clock;
        entry.segments.insert(recorded, &clock);
    }

    /// Media segments recorded, in all Representations.
    pub fn segment_count(&self) -> usize {
        self.periods
            .iter()
            .flat_map(|p| &p.adaptation_sets)
            .flat_map(|a| &a.representations)
            .map(|r| usize::try_from(r.segments.len()).unwrap_or(usize::MAX))
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
                let reps: Vec<&RecordedRepresentation> = set
                    .representations
                    .iter()
                    .filter(|r| !r.segments.is_empty())
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
                for rep in reps {
                    write_representation(&mut periods, rep, anchor);
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
    /// Where it starts (its earliest segment start, aligned: see [`aligned_start`]) and its
    /// latest (clipped) segment end, nanoseconds after AST.
    anchor: i128,
    end: i128,
    /// The hole cut out just before it, if any.
    gap_before: Option<(i128, i128)>,
}

/// The Periods of the recording's manifest, in order (see [`Piece`]).
fn pieces(recording: &Recording) -> Vec<Piece<'_>> {
    let mut out: Vec<Piece> = Vec::new();
    for period in &recording.periods {
        let reps = || {
            period
                .adaptation_sets
                .iter()
                .flat_map(|a| &a.representations)
        };
        let Some(anchor) = reps()
            .filter_map(|r| r.segments.first())
            .map(|s| s.start)
            .min()
        else {
            continue;
        };
        let end = reps()
            .filter_map(|r| r.segments.end())
            .max()
            .unwrap_or(anchor);
        let gap_before = out
            .last()
            .filter(|previous| anchor - previous.end > HOLE_TOLERANCE)
            .map(|previous| (previous.end, anchor));
        let mut piece = Piece {
            period,
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
        if let Some(first) = rep.segments.first() {
            firsts.push(first.start);
        }
        for s in rep.segments.iter(&rep.clock).take(2) {
            longest = longest.max(s.end - s.start);
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

/// The new `presentationTimeOffset`: the Representation's media time at the anchor.
fn offset_at(rep: &RecordedRepresentation, anchor: i128) -> i128 {
    i128::from(rep.info.presentation_time_offset).saturating_add(
        anchor
            .saturating_mul(i128::from(rep.info.timescale))
            .div_euclid(1_000_000_000),
    )
}

fn write_representation(out: &mut String, rep: &RecordedRepresentation, anchor: i128) {
    let _ = write!(out, "      <Representation id=\"{}\"", escape(&rep.info.id));
    if let Some(m) = &rep.info.mime_type {
        let _ = write!(out, " mimeType=\"{}\"", escape(m));
    }
    if let Some(c) = &rep.info.codecs {
        let _ = write!(out, " codecs=\"{}\"", escape(c));
    }
    let _ = write!(out, " bandwidth=\"{}\"", rep.info.bandwidth.unwrap_or(0));
    write_attributes(out, &rep.info.source);
    out.push_str(">\n");
    write_children(out, &rep.info.source, "        ");
    let segments = || rep.segments.iter(&rep.clock);
    let template = media_template(rep);
    // Times in the media's own timescale when the manifest's differs (an `@duration` source with
    // `@timescale="1"`, say) and every time converts exactly, unless file names carry `$Time$`
    // values of the manifest's timescale: the recording then says what the media says.
    let by_time = matches!(template, Some((_, false)));
    let live = rep.info.timescale.max(1);
    let media = rep
        .media_timescale
        .filter(|&m| m != rep.info.timescale && m > 0 && !by_time)
        .filter(|&m| {
            let exact = |v: i128| (v * i128::from(m)) % i128::from(live) == 0;
            segments().all(|s| exact(i128::from(s.time)) && exact(i128::from(s.duration)))
        });
    let (timescale, scale) = match media {
        Some(m) => (m, (i128::from(m), i128::from(live))),
        None => (rep.info.timescale, (1, 1)),
    };
    let scaled = |v: i128| v * scale.0 / scale.1;
    let offset = scaled(offset_at(rep, anchor));
    let timeline =
        || segments().map(move |s| (scaled(i128::from(s.time)), scaled(i128::from(s.duration))));
    // Each hole of the timeline, named: where the media stops and for how long, in the
    // timescale below (the segment before it is stretched over it, see `write_timeline`).
    for (from, to) in holes(timeline()) {
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
            if *by_number && let Some(first) = rep.segments.first() {
                let _ = write!(out, " startNumber=\"{}\"", first.number);
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
    write_timeline(out, timeline(), template.is_some());
    match template {
        Some(_) => out.push_str("        </SegmentTemplate>\n"),
        None => {
            for segment in segments() {
                let _ = writeln!(
                    out,
                    "          <SegmentURL media=\"{}\"/>",
                    escape(&segment.path)
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
            std::iter::once(&a.source).chain(a.representations.iter().map(|r| &r.info.source))
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

/// The holes of a Representation's recorded timeline, given as (time, duration) per segment:
/// (media time where the media stops, the time the next segment starts).
fn holes(timeline: impl Iterator<Item = (i128, i128)>) -> Vec<(i128, i128)> {
    let mut out = Vec::new();
    let mut end: Option<i128> = None;
    for (time, duration) in timeline {
        if let Some(end) = end.filter(|&e| time > e) {
            out.push((end, time));
        }
        end = Some(time + duration);
    }
    out
}

/// The `S` elements of a timeline given as (time, duration) per segment: one per run of
/// back-to-back segments of one duration (one per segment unless `repeat_runs`); a jump back (an
/// overlap) starts a new `S` with `@t`. A segment before a hole lasts up to the next one's
/// start: a hole is thus no `S@t` jump: dash.js stops at such a jump (and ffmpeg reads only one
/// Period of several, so a hole cannot be cut out with a new Period either); with the segment
/// before a hole stretched over it, dash.js jumps the gap in its buffer and ffprobe reads on,
/// and the hole is named by a `SupplementalProperty` of the Representation.
fn write_timeline(
    out: &mut String,
    timeline: impl Iterator<Item = (i128, i128)>,
    repeat_runs: bool,
) {
    out.push_str("          <SegmentTimeline>\n");
    let mut next_time: Option<i128> = None;
    let mut flush = |out: &mut String, (t, d, r): (i128, i128, u64)| {
        out.push_str("            <S");
        if next_time != Some(t) {
            let _ = write!(out, " t=\"{t}\"");
        }
        let _ = write!(out, " d=\"{d}\"");
        if r > 0 {
            let _ = write!(out, " r=\"{r}\"");
        }
        out.push_str("/>\n");
        next_time = Some(t + (i128::from(r) + 1) * d);
    };
    let mut timeline = timeline.peekable();
    let mut current: Option<(i128, i128, u64)> = None;
    while let Some((time, own)) = timeline.next() {
        let duration = match timeline.peek() {
            Some(&(next, _)) => own.max(next - time),
            None => own,
        };
        if let Some((t, d, r)) = &mut current
            && repeat_runs
            && duration == *d
            && time == *t + (i128::from(*r) + 1) * *d
        {
            *r += 1;
            continue;
        }
        if let Some(run) = current.take() {
            flush(out, run);
        }
        current = Some((time, duration, 0));
    }
    if let Some(run) = current {
        flush(out, run);
    }
    out.push_str("          </SegmentTimeline>\n");
}

/// A `@media` template that names every recorded file from its time (or its number, when the
/// numbers have no gap: a timeline numbers its segments one after another), if there is one.
/// Returns the template (URL-encoded) and whether it uses `$Number$`.
fn media_template(rep: &RecordedRepresentation) -> Option<(String, bool)> {
    let first = rep.segments.first()?;
    let segments = || rep.segments.iter(&rep.clock);
    let consecutive = {
        let mut numbers = segments().map(|s| s.number);
        let mut previous = numbers.next();
        numbers.all(|n| {
            let next = previous.and_then(|p| p.checked_add(1)) == Some(n);
            previous = Some(n);
            next
        })
    };
    let candidates = [
        (Identifier::Time, first.time.to_string(), false),
        (Identifier::Number, first.number.to_string(), true),
    ];
    for (identifier, value, by_number) in candidates {
        if by_number && !consecutive {
            continue;
        }
        let Some(text) = template_around(&first.path, &value, identifier) else {
            continue;
        };
        let Ok(template) = Template::compile(&text) else {
            continue;
        };
        let mut expanded = String::new();
        let names_all = segments().all(|s| {
            let values = Values {
                number: Some(s.number),
                time: Some(s.time),
                ..Values::default()
            };
            template.expand_into(&values, &mut expanded).is_ok() && expanded == s.path
        });
        if names_all {
            return Some((text, by_number));
        }
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
