//! When each segment of a live presentation exists (ISO/IEC 23009-1 §5.3.9.5, DASH-IF timing
//! model), in exact integers: for a synchronised UTC instant, the segments in the time-shift
//! buffer of each Representation with their stable identity, the live edge, the oldest segment
//! still due, and whether the presentation has ended.
//!
//! For a segment whose end in MPD time is `E` (Period-relative, clipped to the Period's end):
//! - available from `AST + PeriodStart + E − ATO`; with `availabilityTimeComplete="false"`
//!   (low latency, chunked CMAF) a segment asked for then arrives as it is written, its last
//!   chunk at `E` (unless [`LivePresentation::low_latency`] is off: then ATO is not used);
//! - due by `AST + PeriodStart + E + TSBD` (IOP: its end leaves the buffer then);
//! - available until one segment duration later (ISO's end, slack only);
//! - never after `availabilityEndTime`. No `timeShiftBufferDepth`: never leaves.
//!
//! Instants are rounded so that a segment is never thought available before it is: starts up,
//! presentation starts down.

use url::Url;

use super::LiveError;
use super::time::UnixNanos;
use super::window::{E9, Frame, Run, partition};
use crate::mpd::live::{AvailabilityOffset, LiveAttributes};
use crate::mpd::{Mpd, PresentationType, parse_mpd};
use crate::plan::addressing::{self, AddressingError, Context, Resolved};
use crate::plan::positions::{OpenRun, Positions};
use crate::plan::template::{Identifier, Template, Values};
use crate::plan::{ByteRange, SegmentKind, period_timings};

/// What identifies a segment across manifest refreshes (DASH-IF: `$Time$`, `$Number$` and
/// SegmentList entries are stable while a segment is listed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentKey {
    /// A template with `$Time$`: its media time.
    Time(i64),
    /// A template with `$Number$` (and no `$Time$`): its number.
    Number(u64),
    /// A SegmentList entry: its resource and byte range.
    Resource {
        /// Absolute URL.
        url: String,
        /// `@mediaRange`, if any.
        range: Option<(u64, u64)>,
    },
}

/// A segment's identity: where it is in the presentation, and its key there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentId {
    /// `Period@id`, or the Period's index when it has none.
    pub period: String,
    /// `AdaptationSet@id`, or its index in the Period when it has none.
    pub adaptation_set: String,
    /// `Representation@id`.
    pub representation: String,
    /// The key within the Representation.
    pub key: SegmentKey,
}

impl std::fmt::Display for SegmentId {
    /// A one-line, unambiguous form for journals and messages:
    /// `PERIOD/ADAPTATION-SET/REPRESENTATION/t=TIME` (or `n=NUMBER`, or `u=URL` with
    /// `@RANGE`), each part percent-encoded so that `/` and spaces cannot blur it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
        const PART: &AsciiSet = &CONTROLS.add(b' ').add(b'/').add(b'%').add(b'@').add(b'=');
        let part = |text: &str| utf8_percent_encode(text, PART).to_string();
        write!(
            f,
            "{}/{}/{}/",
            part(&self.period),
            part(&self.adaptation_set),
            part(&self.representation)
        )?;
        match &self.key {
            SegmentKey::Time(t) => write!(f, "t={t}"),
            SegmentKey::Number(n) => write!(f, "n={n}"),
            SegmentKey::Resource { url, range } => {
                write!(f, "u={}", part(url))?;
                match range {
                    Some((first, last)) => write!(f, "@{first}-{last}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// One media segment of a live Representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSegment {
    /// Stable identity.
    pub id: SegmentId,
    /// Absolute URL.
    pub url: Url,
    /// Byte range of the resource, when the segment is part of one.
    pub range: Option<ByteRange>,
    /// `$Number$`.
    pub number: u64,
    /// Media time in the timescale (`presentationTimeOffset` included; rounded down for a
    /// fractional `@duration`).
    pub time: i64,
    /// Duration in the timescale (rounded down for a fractional `@duration`).
    pub duration: u64,
    /// Start on the presentation timeline, nanoseconds after AST (rounded down).
    pub start: i128,
    /// End on the presentation timeline, clipped to the Period's end (rounded up).
    pub end: i128,
    /// The first instant it may be requested.
    pub available_from: UnixNanos,
    /// The instant its end leaves the time-shift buffer: it must be had by then.
    pub due_by: UnixNanos,
    /// The last instant ISO/IEC 23009-1 keeps it available (one duration after `due_by`).
    pub available_until: UnixNanos,
}

/// A Period on the presentation timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivePeriod {
    /// Index in the manifest.
    pub index: usize,
    /// `@id`, or the index.
    pub label: String,
    /// Start, nanoseconds after AST.
    pub start: u64,
    /// Duration, when known.
    pub duration: Option<u64>,
}

/// A Representation of a live presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRepresentation {
    /// Index of its Period in [`LivePresentation::periods`].
    pub period: usize,
    /// Index of its AdaptationSet in the Period.
    pub adaptation_set_index: usize,
    /// `AdaptationSet@id`, or its index.
    pub adaptation_set: String,
    /// `Representation@id` (or `AS.REP` indices when it has none).
    pub id: String,
    /// `@mimeType` (Representation, else AdaptationSet).
    pub mime_type: Option<String>,
    /// `@codecs` (Representation, else AdaptationSet).
    pub codecs: Option<String>,
    /// `AdaptationSet@contentType`.
    pub content_type: Option<String>,
    /// `@bandwidth`.
    pub bandwidth: Option<u64>,
    /// Media timescale.
    pub timescale: u64,
    /// `@presentationTimeOffset`, in the timescale.
    pub presentation_time_offset: u64,
    /// `@availabilityTimeOffset` as it applies.
    pub availability_time_offset: AvailabilityOffset,
    /// The init segment, when there is one: URL and range. Available from AST + Period start.
    pub init: Option<(Url, Option<ByteRange>)>,
    media: Media,
    runs: Vec<Run>,
    /// The Annex I query its segment URLs carry, if any.
    pub query: Option<String>,
    /// What follows it across Periods (see [`LivePresentation::representations`]): the same
    /// key in two Periods is one track of the recording.
    pub track: String,
    /// Its AdaptationSet's descriptive attributes and elements, as written.
    pub set_source: crate::mpd::SourceXml,
    /// Its own, as written.
    pub source: crate::mpd::SourceXml,
    /// Its BaseURLs in failover order (the first names its segments): a segment that fails on
    /// one is fetched from the next.
    pub bases: Vec<Url>,
}

/// How the presentation ends, as far as this manifest says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresentationEnd {
    /// Nothing says: more segments may come.
    Open,
    /// `type="static"`: everything is described.
    Static,
    /// The media ends at this presentation time (nanoseconds after AST).
    At {
        /// The end.
        end: u64,
        /// Which attribute says so.
        reason: EndReason,
    },
}

/// What fixes the end of the media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// `MPD@mediaPresentationDuration`.
    MediaPresentationDuration,
    /// The last Period's `@duration`.
    LastPeriodDuration,
}

/// A parsed live manifest with its timing.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePresentation {
    /// `type="dynamic"`.
    pub dynamic: bool,
    /// The manifest's live attributes (AST, publishTime, MUP, TSBD, UTCTiming, ...).
    pub attributes: LiveAttributes,
    /// `availabilityStartTime` (0 when a static manifest has none).
    pub availability_start_time: UnixNanos,
    /// `mediaPresentationDuration`.
    pub media_presentation_duration: Option<u64>,
    /// The Periods on the timeline (early-available Periods, not yet placed, left out).
    pub periods: Vec<LivePeriod>,
    /// Every Representation, Periods in order, document order within each.
    pub representations: Vec<LiveRepresentation>,
    /// What the manifest does that a reader should hear about (a time without a zone, an
    /// unplaced Period).
    pub warnings: Vec<String>,
    /// Representations that cannot be followed live, each with the reason (left out of
    /// [`LivePresentation::representations`]).
    pub skipped: Vec<Skipped>,
    /// Whether a segment sent as it is written (`availabilityTimeComplete="false"`) is asked
    /// for early, at its availability less `availabilityTimeOffset` (the default), or only
    /// once complete.
    pub low_latency: bool,
}

/// A Representation left out of a live presentation's recording, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its `@id` (or `AS.REP` indices when it has none).
    pub id: String,
    /// What is wrong, where: `period P, representation "ID": REASON`.
    pub message: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl LivePresentation {
    /// Parses a manifest; relative URLs resolve against `manifest_url`.
    pub fn parse(bytes: &[u8], manifest_url: &Url) -> Result<LivePresentation, LiveError> {
        let mpd = parse_mpd(bytes)?;
        let attributes = mpd.live.clone();
        LivePresentation::new(&mpd, attributes, manifest_url)
    }

    /// Builds the timing of an already parsed manifest.
    pub fn new(
        mpd: &Mpd,
        attributes: LiveAttributes,
        manifest_url: &Url,
    ) -> Result<LivePresentation, LiveError> {
        let dynamic = mpd.presentation_type == PresentationType::Dynamic;
        let mut warnings = Vec::new();
        let ast = match attributes.availability_start_time {
            Some(t) => {
                if !t.has_zone {
                    warnings.push(
                        "MPD@availabilityStartTime has no time zone; read as UTC".to_string(),
                    );
                }
                t.instant
            }
            None if dynamic => return Err(LiveError::NoAvailabilityStartTime),
            None => 0,
        };
        let timings = period_timings(mpd);
        // Checked once for the whole manifest (each Representation resolves its own below).
        resolve_base(manifest_url, &mpd.base_urls).map_err(LiveError::Manifest)?;
        let mut periods = Vec::new();
        let mut representations = Vec::new();
        let mut skipped = Vec::new();
        for (p, (period, timing)) in mpd.periods.iter().zip(&timings).enumerate() {
            let label = period.id.clone().unwrap_or_else(|| p.to_string());
            let start = match (timing.start, p) {
                (Some(s), _) => s,
                (None, 0) => {
                    warnings.push(format!("Period {label} has no @start; placed at 0"));
                    0
                }
                (None, _) => {
                    warnings.push(format!(
                        "Period {label} is not yet on the timeline (no @start, and the previous Period has no @duration); left out"
                    ));
                    continue;
                }
            };
            let place = periods.len();
            periods.push(LivePeriod {
                index: p,
                label: label.clone(),
                start,
                duration: timing.duration,
            });
            for (a, set) in period.adaptation_sets.iter().enumerate() {
                for (r, rep) in set.representations.iter().enumerate() {
                    let id = rep.id.clone().unwrap_or_else(|| format!("{a}.{r}"));
                    let fail = |message: String| LiveError::Representation {
                        period: label.clone(),
                        message: format!("representation \"{id}\": {message}"),
                    };
                    // Several BaseURLs: the first choice names the segments, the others are
                    // where the engine fails over to (the plan's rule).
                    let bases = crate::plan::representation_bases(
                        manifest_url,
                        [
                            &mpd.base_urls,
                            &period.base_urls,
                            &set.base_urls,
                            &rep.base_urls,
                        ],
                    );
                    let resolved = bases
                        .clone()
                        .and_then(|bases| {
                            bases
                                .first()
                                .cloned()
                                .ok_or_else(|| "no BaseURL".to_string())
                        })
                        .and_then(|base| {
                            let ctx = Context {
                                base: &base,
                                has_own_base_url: false,
                                representation_id: &id,
                                bandwidth: rep.bandwidth,
                                period_duration: timing.duration,
                                dynamic,
                                planned_before: 0,
                                open_end: true,
                            };
                            follow(
                                [&period.segment_info, &set.segment_info, &rep.segment_info],
                                &ctx,
                            )
                        })
                        .and_then(|resolved| {
                            // Annex I: the query of this scope goes onto every segment URL.
                            crate::plan::segment_query(
                                [
                                    mpd.url_query.as_ref(),
                                    period.url_query.as_ref(),
                                    set.url_query.as_ref(),
                                    rep.url_query.as_ref(),
                                ],
                                manifest_url,
                            )
                            .map(|query| (resolved, query))
                        });
                    let (mut resolved, query) = match resolved {
                        Ok(found) => found,
                        Err(message) => {
                            // One representation that cannot be followed does not stop the
                            // others: it is skipped, by name.
                            skipped.push(Skipped {
                                message: fail(message).to_string(),
                                id,
                            });
                            continue;
                        }
                    };
                    if let Some(query) = &query
                        && let Some((init, _)) = &mut resolved.init
                    {
                        crate::plan::append_query(init, query);
                    }
                    let offset = attributes
                        .offsets
                        .get(p)
                        .and_then(|s| s.get(a))
                        .and_then(|reps| reps.get(r))
                        .copied()
                        .unwrap_or(AvailabilityOffset {
                            nanos: Some(0),
                            complete: true,
                        });
                    for what in &resolved.left_out {
                        warnings.push(format!(
                            "period {label}, representation \"{id}\": {what} not recorded (a live recording fetches init and media segments)"
                        ));
                    }
                    let track = track_key(set, a, rep.id.as_deref(), &id);
                    representations.push(LiveRepresentation {
                        period: place,
                        adaptation_set_index: a,
                        adaptation_set: set.id.clone().unwrap_or_else(|| a.to_string()),
                        id,
                        mime_type: rep.mime_type.clone().or_else(|| set.mime_type.clone()),
                        codecs: rep.codecs.clone().or_else(|| set.codecs.clone()),
                        content_type: set.content_type.clone(),
                        bandwidth: rep.bandwidth,
                        timescale: resolved.timescale,
                        presentation_time_offset: resolved.presentation_time_offset,
                        availability_time_offset: offset,
                        init: resolved.init,
                        media: resolved.media,
                        runs: resolved.runs,
                        query,
                        track,
                        set_source: set.source.clone(),
                        source: rep.source.clone(),
                        bases: bases.unwrap_or_default(),
                    });
                }
            }
        }
        Ok(LivePresentation {
            dynamic,
            attributes,
            availability_start_time: ast,
            media_presentation_duration: mpd.media_presentation_duration,
            periods,
            representations,
            warnings,
            skipped,
            low_latency: true,
        })
    }
}

/// Where the media segments' URLs come from.
#[derive(Debug, Clone, PartialEq)]
enum Media {
    /// A template; `by_time`: it uses `$Time$` (which then identifies a segment), and
    /// `duration_addressed`: `$Time$` is (Number − startNumber) × `@duration`, as in the plan.
    Template {
        template: Template,
        base: Url,
        by_time: bool,
        duration_addressed: bool,
    },
    /// A SegmentList's resources, in order.
    List(Vec<(Url, Option<ByteRange>)>),
}

/// A Representation's addressing as the recorder follows it.
struct Followed {
    timescale: u64,
    presentation_time_offset: u64,
    init: Option<(Url, Option<ByteRange>)>,
    media: Media,
    runs: Vec<Run>,
    /// Files the manifest names beside init and media, which a recording does not fetch.
    left_out: Vec<&'static str>,
}

/// Resolves the first non-empty BaseURL of a level against `parent`, by the plan's rule.
fn resolve_base(parent: &Url, base_urls: &[crate::mpd::BaseUrl]) -> Result<Url, String> {
    crate::plan::resolve_base(parent, base_urls, "BaseURL")
        .map(|(url, _)| url)
        .map_err(|e| e.to_string())
}

/// A Representation's addressing, resolved by the plan with open ends (a timeline or
/// `@duration` that only the clock ends), as runs of equal segments; errors name the
/// attribute at fault.
fn follow(levels: [&crate::mpd::SegmentInfo; 3], ctx: &Context) -> Result<Followed, String> {
    let addressing = addressing::merge(levels);
    let what = match &addressing {
        addressing::Addressing::Template(_) | addressing::Addressing::List(_) => None,
        addressing::Addressing::Base(_) => Some("SegmentBase"),
        addressing::Addressing::BaseUrlOnly => Some("a bare BaseURL"),
    };
    if let Some(what) = what {
        return Err(format!(
            "{what} in a live presentation (its one resource grows as it is written) is not supported"
        ));
    }
    let resolved = addressing::resolve(&addressing, ctx).map_err(|e| match e {
        AddressingError::Invalid(message)
        | AddressingError::Live(message)
        | AddressingError::NoPeriodEnd(message) => message,
        AddressingError::TooMany => "too many segments".to_string(),
    })?;
    let Resolved {
        timescale,
        presentation_time_offset,
        listed,
        generated,
        list_positions,
        open,
        index_range: _,
    } = resolved;
    let pto_e9 = i128::from(presentation_time_offset) * E9;
    let mut left_out = Vec::new();
    if generated.as_ref().is_some_and(|g| g.index.is_some()) {
        left_out.push("its Index Segments (SegmentTemplate@index, one per media segment)");
    }
    if listed.iter().any(|a| a.kind == SegmentKind::Index) {
        left_out.push("its Index Segments (RepresentationIndex or @index)");
    }
    if listed
        .iter()
        .any(|a| a.kind == SegmentKind::BitstreamSwitching)
    {
        left_out.push("its Bitstream Switching Segment");
    }
    let init = listed
        .iter()
        .find(|a| a.kind == SegmentKind::Init)
        .map(|a| (a.url.clone(), a.range));
    let (media, runs) = match generated {
        Some(generated) => {
            if let Positions::Single(_) = generated.positions {
                return Err(
                    "SegmentTemplate@media has neither @duration nor a SegmentTimeline: its one segment has no place on the live timeline".into(),
                );
            }
            let duration_addressed = matches!(generated.positions, Positions::Uniform { .. });
            let runs = runs_of(&generated.positions, open, pto_e9, None);
            let media = Media::Template {
                by_time: generated.template.uses(Identifier::Time),
                template: generated.template,
                base: ctx.base.clone(),
                duration_addressed,
            };
            (media, runs)
        }
        None => {
            let resources: Vec<_> = listed
                .into_iter()
                .filter(|a| a.kind == SegmentKind::Media)
                .map(|a| (a.url, a.range))
                .collect();
            let Some(positions) = list_positions else {
                return Err(if resources.len() <= 1 {
                    "SegmentList without @duration or SegmentTimeline: its segment has no place on the live timeline".into()
                } else {
                    "SegmentList of several segments needs @duration or a SegmentTimeline".into()
                });
            };
            let runs = runs_of(&positions, open, pto_e9, Some(resources.len() as u64));
            (Media::List(resources), runs)
        }
    };
    Ok(Followed {
        timescale,
        presentation_time_offset,
        init,
        media,
        runs,
        left_out,
    })
}

/// The plan's positions (and open run) as runs on the media timeline. `@duration` positions
/// count from the Period's start, so `presentationTimeOffset` is added to them; a timeline's
/// times already include it. `listed`: a SegmentList's length, which no run reaches past.
fn runs_of(
    positions: &Positions,
    open: Option<OpenRun>,
    pto_e9: i128,
    listed: Option<u64>,
) -> Vec<Run> {
    let origin_e9 = match positions {
        Positions::Uniform { .. } => pto_e9,
        _ => 0,
    };
    let mut runs = match positions {
        Positions::Timeline(runs) => {
            let mut index = 0usize;
            runs.iter()
                .map(|r| {
                    let run = Run {
                        start_e9: i128::from(r.time) * E9,
                        d_e9: i128::from(r.duration) * E9,
                        count: Some(r.count),
                        first_number: r.number,
                        first_list_index: index,
                    };
                    index = index.saturating_add(usize::try_from(r.count).unwrap_or(usize::MAX));
                    run
                })
                .collect()
        }
        Positions::Uniform {
            start_number,
            count,
            duration_e9,
        } => vec![Run {
            start_e9: origin_e9,
            d_e9: i128::try_from(*duration_e9).unwrap_or(i128::MAX),
            count: Some(*count),
            first_number: *start_number,
            first_list_index: 0,
        }],
        Positions::Single(_) => Vec::new(),
    };
    if let Some(open) = open {
        let first_list_index = runs.last().map_or(0, |r: &Run| {
            r.first_list_index
                .saturating_add(usize::try_from(r.count.unwrap_or(0)).unwrap_or(usize::MAX))
        });
        runs.push(Run {
            start_e9: origin_e9.saturating_add(i128::from(open.time) * E9),
            d_e9: i128::try_from(open.duration_e9).unwrap_or(i128::MAX),
            count: None,
            first_number: open.number,
            first_list_index,
        });
    }
    if let Some(listed) = listed {
        // A list names exactly its segments.
        for run in &mut runs {
            let left = listed.saturating_sub(run.first_list_index as u64);
            run.count = Some(run.count.map_or(left, |c| c.min(left)));
        }
    }
    runs.retain(|r| r.count != Some(0));
    runs
}

/// The key a Representation is followed by from Period to Period: its AdaptationSet's `@id`
/// (what the period-continuity and period-connectivity descriptors of ISO/IEC 23009-1 §5.3.2.4
/// and DASH-IF IOP §4.3.3.3 link) with the Representation's `@id`; without an AdaptationSet
/// `@id`, the Representation's `@id`; without either, content type, language and role.
fn track_key(
    set: &crate::mpd::AdaptationSet,
    set_index: usize,
    rep_id: Option<&str>,
    label: &str,
) -> String {
    match (&set.id, rep_id) {
        (Some(set_id), _) => format!("{set_id}/{label}"),
        (None, Some(id)) => format!("-/{id}"),
        (None, None) => {
            let kind = set
                .content_type
                .clone()
                .or_else(|| {
                    set.mime_type
                        .as_deref()
                        .and_then(|m| m.split('/').next())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| set_index.to_string());
            format!(
                "{kind}:{}:{}/{label}",
                set.lang.as_deref().unwrap_or(""),
                set.role.as_deref().unwrap_or("")
            )
        }
    }
}

impl LivePresentation {
    /// The Period of a Representation.
    pub fn period(&self, rep: &LiveRepresentation) -> &LivePeriod {
        &self.periods[rep.period]
    }

    fn frame(&self, rep: &LiveRepresentation) -> Frame {
        let period = &self.periods[rep.period];
        let complete = rep.availability_time_offset.complete;
        Frame {
            dynamic: self.dynamic,
            ast: self.availability_start_time,
            period_start: i128::from(period.start),
            period_len_e9: period
                .duration
                .map(|d| i128::from(d).saturating_mul(i128::from(rep.timescale))),
            ts: i128::from(rep.timescale),
            pto_e9: i128::from(rep.presentation_time_offset) * E9,
            ato: match rep.availability_time_offset.nanos {
                _ if !complete && !self.low_latency => Some(0),
                Some(n) => Some(i128::from(n)),
                None => None,
            },
            tsbd: self.attributes.time_shift_buffer_depth.map(i128::from),
            aet: self.attributes.availability_end_time.map(|t| t.instant),
        }
    }

    /// Whether `rep`'s segments are asked for before they are complete, and arrive as they are
    /// written (low latency: `availabilityTimeComplete="false"` with an offset).
    pub fn chunked(&self, rep: &LiveRepresentation) -> bool {
        let offset = rep.availability_time_offset;
        self.low_latency && !offset.complete && offset.nanos != Some(0)
    }

    /// Whether `rep`'s segments are addressed by `@duration` (nominal times), not a timeline.
    pub fn duration_addressed(&self, rep: &LiveRepresentation) -> bool {
        match &rep.media {
            Media::Template {
                duration_addressed, ..
            } => *duration_addressed,
            Media::List(_) => rep.runs.iter().any(|r| r.count.is_none()),
        }
    }

    /// The shortest duration of `rep`'s media segments as the manifest gives them, nanoseconds
    /// (none for a Representation without segments).
    pub fn shortest_segment(&self, rep: &LiveRepresentation) -> Option<i128> {
        let ts = i128::from(rep.timescale.max(1));
        rep.runs.iter().map(|run| (run.d_e9 / ts).max(1)).min()
    }

    /// The end of `rep`'s Period, nanoseconds after AST, when the manifest gives it.
    pub fn period_end(&self, rep: &LiveRepresentation) -> Option<i128> {
        let period = &self.periods[rep.period];
        period
            .duration
            .map(|d| i128::from(period.start).saturating_add(i128::from(d)))
    }

    /// When a Representation's init segment may be requested: AST + Period start.
    pub fn init_available_from(&self, rep: &LiveRepresentation) -> UnixNanos {
        self.availability_start_time
            .saturating_add(i128::from(self.periods[rep.period].start))
    }

    /// The segments of `rep` that can be requested at `now` and are not yet due, oldest first:
    /// those ending after `since` (presentation time, nanoseconds after AST) when
    /// given, at most `max`.
    pub fn available_segments(
        &self,
        rep: &LiveRepresentation,
        now: UnixNanos,
        since: Option<i128>,
        max: usize,
    ) -> Vec<LiveSegment> {
        self.collect(rep, now, since, max, false)
    }

    /// The segments of `rep` the manifest still describes whose due time has passed at `now`
    /// (ending after `since` when given, at most `max`, oldest first): what a recorder
    /// that has not got them must report as lost.
    pub fn expired_segments(
        &self,
        rep: &LiveRepresentation,
        now: UnixNanos,
        since: Option<i128>,
        max: usize,
    ) -> Vec<LiveSegment> {
        self.collect(rep, now, since, max, true)
    }

    /// Segments from `since` on: the expired ones, or those available and not yet due.
    fn collect(
        &self,
        rep: &LiveRepresentation,
        now: UnixNanos,
        since: Option<i128>,
        max: usize,
        expired: bool,
    ) -> Vec<LiveSegment> {
        self.segments(rep, now, since, expired).take(max).collect()
    }

    /// The segments of `rep` available at `now` and not yet due (`expired`: those whose due
    /// time has passed), ending after `since` when given, in manifest order, one at a time:
    /// however deep the buffer, nothing is collected.
    pub fn segments<'a>(
        &'a self,
        rep: &'a LiveRepresentation,
        now: UnixNanos,
        since: Option<i128>,
        expired: bool,
    ) -> LiveSegments<'a> {
        LiveSegments {
            presentation: self,
            rep,
            frame: self.frame(rep),
            now,
            since,
            expired,
            run: 0,
            range: None,
        }
    }

    /// How many segments of `rep` can be requested at `now` and are not yet due (counted, not
    /// listed: a buffer without a depth can hold hundreds of millions).
    pub fn available_count(&self, rep: &LiveRepresentation, now: UnixNanos) -> u128 {
        let frame = self.frame(rep);
        rep.runs
            .iter()
            .map(|run| {
                let n = frame.run_len(run, now);
                let w = |j: u64| frame.window(run, j);
                let due = partition(n, |j| w(j).is_some_and(|w| w.3 < now));
                let available = partition(n, |j| w(j).is_some_and(|w| w.2 <= now));
                u128::from(available.saturating_sub(due))
            })
            .sum()
    }

    /// The newest segment of `rep` available at `now`.
    pub fn live_edge(&self, rep: &LiveRepresentation, now: UnixNanos) -> Option<LiveSegment> {
        let frame = self.frame(rep);
        rep.runs.iter().rev().find_map(|run| {
            let n = frame.run_len(run, now);
            let hi = partition(n, |j| frame.window(run, j).is_some_and(|w| w.2 <= now));
            hi.checked_sub(1)
                .and_then(|j| self.segment(rep, &frame, run, j))
        })
    }

    /// The oldest segment of `rep` that is available at `now` and not yet due.
    pub fn oldest_available(
        &self,
        rep: &LiveRepresentation,
        now: UnixNanos,
    ) -> Option<LiveSegment> {
        self.available_segments(rep, now, None, 1)
            .into_iter()
            .next()
    }

    /// When the next segment of `rep` after `now` becomes available, if the manifest describes
    /// one (an open timeline or `@duration` always does; a closed timeline needs a refresh).
    pub fn next_availability(&self, rep: &LiveRepresentation, now: UnixNanos) -> Option<UnixNanos> {
        let frame = self.frame(rep);
        rep.runs.iter().find_map(|run| {
            let n = frame.run_len(run, now);
            let hi = partition(n, |j| frame.window(run, j).is_some_and(|w| w.2 <= now));
            (hi < n)
                .then(|| frame.window(run, hi))
                .flatten()
                .map(|w| w.2)
        })
    }

    /// What the manifest says about the end of the media.
    pub fn end(&self) -> PresentationEnd {
        if !self.dynamic {
            return PresentationEnd::Static;
        }
        if let Some(end) = self.media_presentation_duration {
            return PresentationEnd::At {
                end,
                reason: EndReason::MediaPresentationDuration,
            };
        }
        match self.periods.last() {
            Some(LivePeriod {
                start,
                duration: Some(d),
                ..
            }) => PresentationEnd::At {
                end: start.saturating_add(*d),
                reason: EndReason::LastPeriodDuration,
            },
            _ => PresentationEnd::Open,
        }
    }

    /// Whether no segment can appear any more at `now`: the manifest is static, its
    /// `availabilityEndTime` has passed, or its media has an end and every segment up to it is
    /// available (what is still in the buffer can still be fetched).
    pub fn has_ended(&self, now: UnixNanos) -> bool {
        if self
            .attributes
            .availability_end_time
            .is_some_and(|t| t.instant <= now)
        {
            return true;
        }
        match self.end() {
            PresentationEnd::Static => true,
            PresentationEnd::At { end, .. } => {
                now >= self.availability_start_time.saturating_add(i128::from(end))
            }
            PresentationEnd::Open => false,
        }
    }

    fn segment(
        &self,
        rep: &LiveRepresentation,
        frame: &Frame,
        run: &Run,
        j: u64,
    ) -> Option<LiveSegment> {
        let (start, end, from, due, until) = frame.window(run, j)?;
        let number = run.first_number.saturating_add(j);
        let media_e9 = run
            .start_e9
            .saturating_add(i128::from(j).saturating_mul(run.d_e9));
        let time = i64::try_from(media_e9.div_euclid(E9)).ok()?;
        let duration = u64::try_from(run.d_e9 / E9).ok()?;
        let period = &self.periods[rep.period];
        let (url, range, key) = match &rep.media {
            Media::Template {
                template,
                base,
                by_time,
                duration_addressed,
            } => {
                // With @duration, $Time$ is (Number − startNumber) × @duration, as in the plan.
                let template_time = if *duration_addressed {
                    i64::try_from(media_e9.saturating_sub(frame.pto_e9).div_euclid(E9)).ok()?
                } else {
                    time
                };
                let values = Values {
                    representation_id: &rep.id,
                    bandwidth: rep.bandwidth,
                    number: Some(number),
                    time: Some(template_time),
                    sub_number: Some(1),
                };
                let text = template.expand(&values).ok()?;
                let mut url = base.join(&text).ok()?;
                if let Some(query) = &rep.query {
                    crate::plan::append_query(&mut url, query);
                }
                let key = if *by_time {
                    SegmentKey::Time(template_time)
                } else {
                    SegmentKey::Number(number)
                };
                (url, None, key)
            }
            Media::List(resources) => {
                let index = run.first_list_index.checked_add(usize::try_from(j).ok()?)?;
                let (mut url, range) = resources.get(index)?.clone();
                let key = SegmentKey::Resource {
                    url: url.to_string(),
                    range: range.map(|r| (r.first, r.last)),
                };
                if let Some(query) = &rep.query {
                    crate::plan::append_query(&mut url, query);
                }
                (url, range, key)
            }
        };
        Some(LiveSegment {
            id: SegmentId {
                period: period.label.clone(),
                adaptation_set: rep.adaptation_set.clone(),
                representation: rep.id.clone(),
                key,
            },
            url,
            range,
            number,
            time,
            duration,
            start,
            end,
            available_from: from,
            due_by: due,
            available_until: until,
        })
    }
}

/// The segments of one Representation in a window of time, one at a time (see
/// [`LivePresentation::segments`]).
pub struct LiveSegments<'a> {
    presentation: &'a LivePresentation,
    rep: &'a LiveRepresentation,
    frame: Frame,
    now: UnixNanos,
    since: Option<i128>,
    expired: bool,
    /// The run being walked, and the indices left in it.
    run: usize,
    range: Option<(u64, u64)>,
}

impl Iterator for LiveSegments<'_> {
    type Item = LiveSegment;

    fn next(&mut self) -> Option<LiveSegment> {
        loop {
            let run = self.rep.runs.get(self.run)?;
            let (j, hi) = match self.range {
                Some(range) => range,
                None => {
                    let (frame, now) = (&self.frame, self.now);
                    let n = frame.run_len(run, now);
                    let w = |j: u64| frame.window(run, j);
                    let due = partition(n, |j| w(j).is_some_and(|w| w.3 < now));
                    let (mut lo, hi) = if self.expired {
                        (0, due)
                    } else {
                        (due, partition(n, |j| w(j).is_some_and(|w| w.2 <= now)))
                    };
                    if let Some(since) = self.since {
                        lo = lo.max(partition(n, |j| w(j).is_some_and(|w| w.1 <= since)));
                    }
                    (lo, hi)
                }
            };
            if j < hi {
                // No segment here (past a list's end, a time beyond 64 bits): none further in
                // this run.
                if let Some(segment) = self.presentation.segment(self.rep, &self.frame, run, j) {
                    self.range = Some((j + 1, hi));
                    return Some(segment);
                }
            }
            self.run += 1;
            self.range = None;
        }
    }
}

#[cfg(test)]
#[path = "availability_tests.rs"]
mod tests;
