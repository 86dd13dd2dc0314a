//! One Representation's segments, from its merged segment information (ISO/IEC 23009-1 §5.3.9).

use url::Url;

use super::media;
use super::positions::{OpenRun, Positions};
use super::template::Template;
use super::{ByteRange, SegmentKind};
use crate::mpd::{
    CommonSegmentAttributes, SegmentInfo, SegmentList, SegmentTemplate, UrlWithRange,
};

/// Most segments one plan may hold; a manifest asking for more is refused, not obeyed.
pub const MAX_SEGMENTS: usize = 10_000_000;

/// A segment before its local path is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Addressed {
    pub kind: SegmentKind,
    pub url: Url,
    pub range: Option<ByteRange>,
    pub number: Option<u64>,
    pub time: Option<i64>,
    pub duration: Option<u64>,
}

/// What went wrong with one Representation's addressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressingError {
    /// Cannot be resolved: the message names the attribute at fault.
    Invalid(String),
    /// Needs the wall clock (a live presentation's moving edge).
    Live(String),
    /// Over [`MAX_SEGMENTS`].
    TooMany,
    /// Needs the Period's end, which nothing gives (the message says what needed it).
    NoPeriodEnd(String),
}

/// The addressing mode of a Representation, its inherited elements merged attribute by attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Addressing {
    /// `SegmentTemplate`.
    Template(SegmentTemplate),
    /// `SegmentList`.
    List(SegmentList),
    /// `SegmentBase`.
    Base(CommonSegmentAttributes),
    /// Nothing but a BaseURL: the whole resource is the one segment.
    BaseUrlOnly,
}

/// Merges segment information from Period, AdaptationSet and Representation (lowest last).
/// The lowest level that has any of SegmentBase/SegmentList/SegmentTemplate decides the mode;
/// elements of that kind from the levels above supply the attributes it leaves out.
pub fn merge(levels: [&SegmentInfo; 3]) -> Addressing {
    let lowest = levels
        .iter()
        .rev()
        .find(|l| l.template.is_some() || l.list.is_some() || l.base.is_some());
    let Some(lowest) = lowest else {
        return Addressing::BaseUrlOnly;
    };
    if lowest.template.is_some() {
        let mut merged = SegmentTemplate::default();
        for t in levels.iter().filter_map(|l| l.template.as_ref()) {
            merged.common = merge_common(&merged.common, &t.common);
            merged.media = t.media.clone().or(merged.media);
            merged.initialization = t.initialization.clone().or(merged.initialization);
            merged.index = t.index.clone().or(merged.index);
            merged.bitstream_switching =
                t.bitstream_switching.clone().or(merged.bitstream_switching);
        }
        Addressing::Template(merged)
    } else if lowest.list.is_some() {
        let mut merged = SegmentList::default();
        for l in levels.iter().filter_map(|l| l.list.as_ref()) {
            merged.common = merge_common(&merged.common, &l.common);
            if !l.segment_urls.is_empty() {
                merged.segment_urls = l.segment_urls.clone();
            }
        }
        Addressing::List(merged)
    } else {
        let mut merged = CommonSegmentAttributes::default();
        for b in levels.iter().filter_map(|l| l.base.as_ref()) {
            merged = merge_common(&merged, &b.common);
        }
        Addressing::Base(merged)
    }
}

fn merge_common(
    upper: &CommonSegmentAttributes,
    lower: &CommonSegmentAttributes,
) -> CommonSegmentAttributes {
    CommonSegmentAttributes {
        timescale: lower.timescale.or(upper.timescale),
        presentation_time_offset: lower
            .presentation_time_offset
            .or(upper.presentation_time_offset),
        index_range: lower
            .index_range
            .clone()
            .or_else(|| upper.index_range.clone()),
        initialization: lower
            .initialization
            .clone()
            .or_else(|| upper.initialization.clone()),
        representation_index: lower
            .representation_index
            .clone()
            .or_else(|| upper.representation_index.clone()),
        bitstream_switching: lower
            .bitstream_switching
            .clone()
            .or_else(|| upper.bitstream_switching.clone()),
        duration_e9: lower.duration_e9.or(upper.duration_e9),
        start_number: lower.start_number.or(upper.start_number),
        end_number: lower.end_number.or(upper.end_number),
        // A SegmentTimeline at a lower level replaces the inherited one.
        timeline: lower.timeline.clone().or_else(|| upper.timeline.clone()),
    }
}

/// What a Representation's segments are resolved with.
pub struct Context<'a> {
    /// The Representation's resolved BaseURL.
    pub base: &'a Url,
    /// Whether a BaseURL was given at some level below the MPD's own location.
    pub has_own_base_url: bool,
    pub representation_id: &'a str,
    pub bandwidth: Option<u64>,
    /// The Period's duration in nanoseconds, when known.
    pub period_duration: Option<u64>,
    /// Whether the presentation is live (`type="dynamic"`).
    pub dynamic: bool,
    /// Segments already planned for other representations (for the global cap).
    pub planned_before: usize,
    /// For a live recording: segments the manifest gives no end to (a timeline repeating to
    /// the live edge, `@duration` without a Period end) are an [`OpenRun`] that the clock
    /// cuts, instead of an error; and nothing is capped, since nothing is expanded.
    pub open_end: bool,
}

/// A Representation's segments: those planned one by one (init, index, bitstream switching,
/// listed media), then those a template generates.
#[derive(Debug)]
pub struct Resolved {
    /// The timescale of the segments' times.
    pub timescale: u64,
    /// Segments named one by one, in plan order.
    pub listed: Vec<Addressed>,
    /// Media segments generated from a template, after the listed ones.
    pub generated: Option<GeneratedMedia>,
    /// `@presentationTimeOffset`, in the timescale.
    pub presentation_time_offset: u64,
    /// A SegmentList's media segments' positions (from its timeline or `@duration`), one per
    /// listed media segment in order, when it has either.
    pub list_positions: Option<Positions>,
    /// With [`Context::open_end`]: the segments after the counted ones that only the clock
    /// ends (after the generated positions, or the list's).
    pub open: Option<OpenRun>,
    /// `SegmentBase@indexRange`: where the resource's index (`sidx`) is.
    pub index_range: Option<ByteRange>,
}

/// Media segments of a template, not expanded.
#[derive(Debug)]
pub struct GeneratedMedia {
    /// The compiled `@media`.
    pub template: Template,
    /// Where each segment is.
    pub positions: Positions,
    /// `@index` with `$Number$` or `$Time$`: one Index Segment per Media Segment (ISO/IEC
    /// 23009-1 §5.3.9.4.2), planned after the media segment it indexes.
    pub index: Option<Template>,
}

impl Resolved {
    /// How many segments, without expanding any.
    pub fn count(&self) -> u128 {
        self.listed.len() as u128
            + self.generated.as_ref().map_or(0, |g| {
                g.positions.count() * if g.index.is_some() { 2 } else { 1 }
            })
    }

    /// Whether a media segment is among them.
    pub fn has_media(&self) -> bool {
        self.generated
            .as_ref()
            .is_some_and(|g| g.positions.count() > 0)
            || self.listed.iter().any(|a| a.kind == SegmentKind::Media)
    }

    fn listed(timescale: u64, listed: Vec<Addressed>) -> Resolved {
        Resolved {
            timescale,
            listed,
            generated: None,
            presentation_time_offset: 0,
            list_positions: None,
            open: None,
            index_range: None,
        }
    }
}

/// Resolves a Representation's segments, init first; none is expanded from a template yet.
pub fn resolve(addressing: &Addressing, ctx: &Context) -> Result<Resolved, AddressingError> {
    let resolved = match addressing {
        Addressing::Template(t) => media::resolve_template(t, ctx)?,
        Addressing::List(l) => media::resolve_list(l, ctx)?,
        Addressing::Base(b) => {
            // @indexRange is recorded (`dashget --list --expand-index` reads it), not expanded.
            let index_range = b
                .index_range
                .as_ref()
                .map(|range| parse_range(range, || "SegmentBase@indexRange".into()))
                .transpose()?;
            let mut out = head_segments(b, ctx, "SegmentBase")?;
            out.push(whole(ctx.base.clone()));
            Resolved {
                index_range,
                ..Resolved::listed(timescale(b)?, out)
            }
        }
        Addressing::BaseUrlOnly => {
            if !ctx.has_own_base_url || ctx.base.path().ends_with('/') {
                return Err(AddressingError::Invalid(
                    "no SegmentTemplate, SegmentList or SegmentBase, and no BaseURL naming a media file".into(),
                ));
            }
            Resolved::listed(1, vec![whole(ctx.base.clone())])
        }
    };
    // The cap is checked on counts, before anything is expanded.
    if !ctx.open_end
        && (ctx.planned_before as u128).saturating_add(resolved.count()) > MAX_SEGMENTS as u128
    {
        return Err(AddressingError::TooMany);
    }
    Ok(resolved)
}

/// Why a Representation resolved to no media segment, for the warning that says so.
pub fn why_no_media(addressing: &Addressing) -> &'static str {
    let (common, listed) = match addressing {
        Addressing::Template(t) => (&t.common, None),
        Addressing::List(l) => (&l.common, Some(l.segment_urls.len())),
        _ => return "no media resource",
    };
    if common.timeline.as_ref().is_some_and(|t| t.is_empty()) {
        "its SegmentTimeline has no S element"
    } else if listed == Some(0) {
        "its SegmentList has no SegmentURL"
    } else if common.end_number.is_some() {
        "@endNumber excludes every segment"
    } else {
        "no segment starts before the end of the Period"
    }
}

pub(super) fn whole(url: Url) -> Addressed {
    Addressed {
        kind: SegmentKind::Media,
        url,
        range: None,
        number: None,
        time: None,
        duration: None,
    }
}

pub(super) fn timescale(common: &CommonSegmentAttributes) -> Result<u64, AddressingError> {
    match common.timescale {
        Some(0) => Err(AddressingError::Invalid("@timescale is 0".into())),
        Some(t) => Ok(t),
        None => Ok(1),
    }
}

/// Resolves a URL reference; `attribute` names it in the error (built only on error).
pub(super) fn join(
    base: &Url,
    reference: &str,
    attribute: impl FnOnce() -> String,
) -> Result<Url, AddressingError> {
    base.join(reference).map_err(|e| {
        AddressingError::Invalid(format!(
            "{} \"{reference}\" is not a valid URL reference: {e}",
            attribute()
        ))
    })
}

/// Parses `first-last` (inclusive); `attribute` names it in the error. The byte after the
/// range must have an offset too (a file is at most 2^64 − 1 bytes), so `last` is below
/// `u64::MAX` and `last + 1` never overflows anywhere.
pub fn parse_range(
    text: &str,
    attribute: impl Fn() -> String,
) -> Result<ByteRange, AddressingError> {
    let bad = |why: &str| AddressingError::Invalid(format!("{} \"{text}\" {why}", attribute()));
    let not_a_range = || bad("is not a byte range first-last");
    let (first, last) = text.trim().split_once('-').ok_or_else(not_a_range)?;
    let first: u64 = first.trim().parse().map_err(|_| not_a_range())?;
    let last: u64 = last.trim().parse().map_err(|_| not_a_range())?;
    if last < first {
        return Err(bad("ends before it starts"));
    }
    if last == u64::MAX {
        return Err(bad("ends past the largest possible file (2^64 - 1 bytes)"));
    }
    Ok(ByteRange { first, last })
}

/// A resource named by an optional URL reference (absent: the BaseURL's resource, 23009-1
/// §5.3.9.2) and an optional byte range of it. `name(attribute)` locates them for errors.
pub(super) fn resource(
    ctx: &Context,
    (url_attribute, reference): (&str, Option<&str>),
    (range_attribute, range): (&str, Option<&str>),
    name: impl Fn(&str) -> String,
) -> Result<(Url, Option<ByteRange>), AddressingError> {
    let url = match reference {
        Some(r) => join(ctx.base, r, || name(url_attribute))?,
        None => ctx.base.clone(),
    };
    let range = range
        .map(|r| parse_range(r, || name(range_attribute)))
        .transpose()?;
    Ok((url, range))
}

/// A segment named by a `URLType` element (`Initialization`, `RepresentationIndex`,
/// `BitstreamSwitching`): its `@sourceURL` (absent: the BaseURL's resource) and `@range`.
fn named_segment(
    kind: SegmentKind,
    element: &UrlWithRange,
    ctx: &Context,
    name: &str,
) -> Result<Addressed, AddressingError> {
    let (url, range) = resource(
        ctx,
        ("sourceURL", element.source_url.as_deref()),
        ("range", element.range.as_deref()),
        |attribute| format!("{name}@{attribute}"),
    )?;
    Ok(Addressed {
        kind,
        url,
        range,
        number: None,
        time: None,
        duration: None,
    })
}

/// The segments before the media ones, from elements: `Initialization`,
/// `RepresentationIndex`, `BitstreamSwitching`, in that order (DESIGN.md).
pub(super) fn head_segments(
    common: &CommonSegmentAttributes,
    ctx: &Context,
    parent: &str,
) -> Result<Vec<Addressed>, AddressingError> {
    let elements = [
        (SegmentKind::Init, &common.initialization, "Initialization"),
        (
            SegmentKind::Index,
            &common.representation_index,
            "RepresentationIndex",
        ),
        (
            SegmentKind::BitstreamSwitching,
            &common.bitstream_switching,
            "BitstreamSwitching",
        ),
    ];
    let mut out = Vec::new();
    for (kind, element, name) in elements {
        if let Some(element) = element {
            out.push(named_segment(
                kind,
                element,
                ctx,
                &format!("{parent}/{name}"),
            )?);
        }
    }
    Ok(out)
}
