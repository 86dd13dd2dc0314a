//! One Representation's segments, from its merged segment information (ISO/IEC 23009-1 §5.3.9).

use url::Url;

use super::template::{Identifier, Template, Values};
use super::{ByteRange, SegmentKind};
use crate::mpd::{
    CommonSegmentAttributes, SegmentInfo, SegmentList, SegmentTemplate, TimelineEntry, UrlWithRange,
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
}

/// Resolves a Representation's segments, init first. Returns the timescale too.
pub fn resolve(
    addressing: &Addressing,
    ctx: &Context,
) -> Result<(u64, Vec<Addressed>), AddressingError> {
    match addressing {
        Addressing::Template(t) => resolve_template(t, ctx),
        Addressing::List(l) => resolve_list(l, ctx),
        Addressing::Base(b) => {
            // @indexRange is recorded, not expanded (DESIGN.md), but must be a range.
            if let Some(range) = &b.index_range {
                parse_range(range, || "SegmentBase@indexRange".into())?;
            }
            let mut out = head_segments(b, ctx, "SegmentBase")?;
            out.push(whole(ctx.base.clone()));
            Ok((timescale(b)?, out))
        }
        Addressing::BaseUrlOnly => {
            if !ctx.has_own_base_url || ctx.base.path().ends_with('/') {
                return Err(AddressingError::Invalid(
                    "no SegmentTemplate, SegmentList or SegmentBase, and no BaseURL naming a media file".into(),
                ));
            }
            Ok((1, vec![whole(ctx.base.clone())]))
        }
    }
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

fn whole(url: Url) -> Addressed {
    Addressed {
        kind: SegmentKind::Media,
        url,
        range: None,
        number: None,
        time: None,
        duration: None,
    }
}

fn timescale(common: &CommonSegmentAttributes) -> Result<u64, AddressingError> {
    match common.timescale {
        Some(0) => Err(AddressingError::Invalid("@timescale is 0".into())),
        Some(t) => Ok(t),
        None => Ok(1),
    }
}

/// Resolves a URL reference; `attribute` names it in the error (built only on error).
fn join(
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
fn resource(
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
fn head_segments(
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

/// One media segment's position: number, time, duration, sub-number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub number: u64,
    pub time: i64,
    pub duration: Option<u64>,
    pub sub_number: Option<u64>,
}

fn check_cap(ctx: &Context, planned: usize, more: u128) -> Result<(), AddressingError> {
    if (ctx.planned_before as u128) + (planned as u128) + more > MAX_SEGMENTS as u128 {
        return Err(AddressingError::TooMany);
    }
    Ok(())
}

/// The media timeline's end of the Period (`presentationTimeOffset` + duration × timescale),
/// in timescale units.
fn period_end_media_time(common: &CommonSegmentAttributes, ts: u64, ctx: &Context) -> Option<i128> {
    let duration = ctx.period_duration?;
    let pto = i128::from(common.presentation_time_offset.unwrap_or(0));
    Some(pto + ceil_div(i128::from(duration) * i128::from(ts), 1_000_000_000))
}

fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a > 0) == (b > 0)) {
        q + 1
    } else {
        q
    }
}

/// Expands a SegmentTimeline into slots. `$Number$` counts entries from `startNumber`
/// (an `S@n` restarts the count); `S@t` may be negative and may jump forward (a gap).
pub fn timeline_slots(
    entries: &[TimelineEntry],
    common: &CommonSegmentAttributes,
    ts: u64,
    ctx: &Context,
) -> Result<Vec<Slot>, AddressingError> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut number = common.start_number.unwrap_or(1);
    let mut time: i128 = 0;
    for (i, s) in entries.iter().enumerate() {
        if s.d == 0 {
            return Err(AddressingError::Invalid(format!(
                "SegmentTimeline/S[{i}]@d is 0"
            )));
        }
        if let Some(t) = s.t {
            time = i128::from(t);
        }
        if let Some(n) = s.n {
            number = n;
        }
        let d = i128::from(s.d);
        let count: i128 = if s.r >= 0 {
            i128::from(s.r) + 1
        } else {
            // 23009-1 §5.3.9.6: r = -1 repeats up to the next S@t, or to the end of the Period.
            let end = match entries.get(i + 1).and_then(|next| next.t) {
                Some(next_t) => i128::from(next_t),
                None => match period_end_media_time(common, ts, ctx) {
                    Some(end) => end,
                    None if ctx.dynamic => {
                        return Err(AddressingError::Live(
                            "its SegmentTimeline repeats (r=-1) up to the live edge".into(),
                        ));
                    }
                    None => {
                        return Err(AddressingError::Invalid(format!(
                            "SegmentTimeline/S[{i}]@r=-1 repeats to the end of a Period whose duration is unknown"
                        )));
                    }
                },
            };
            ceil_div(end - time, d).max(0)
        };
        let k = s.k.unwrap_or(1).max(1);
        check_cap(ctx, slots.len(), count.unsigned_abs() * u128::from(k))?;
        for _ in 0..count {
            let start = i64::try_from(time)
                .map_err(|_| AddressingError::Invalid("SegmentTimeline times overflow".into()))?;
            for sub in 1..=k {
                slots.push(Slot {
                    number,
                    time: start,
                    duration: Some(s.d),
                    sub_number: s.k.map(|_| sub),
                });
            }
            number = number.saturating_add(1);
            time += d;
        }
    }
    Ok(slots)
}

/// Slots of a `@duration`-addressed representation: ceil(Period duration × timescale / duration)
/// segments numbered from `startNumber`, bounded by `endNumber`.
fn duration_slots(
    duration_e9: u128,
    common: &CommonSegmentAttributes,
    ts: u64,
    ctx: &Context,
) -> Result<Vec<Slot>, AddressingError> {
    if duration_e9 == 0 {
        return Err(AddressingError::Invalid("@duration is 0".into()));
    }
    let start_number = common.start_number.unwrap_or(1);
    let by_end_number = common
        .end_number
        .map(|end| u128::from(end.saturating_add(1).saturating_sub(start_number)));
    let count: u128 = match (ctx.period_duration, by_end_number) {
        (_, _) if ctx.dynamic => {
            return Err(AddressingError::Live(
                "its segments are numbered by @duration from the live edge".into(),
            ));
        }
        (Some(period), end) => {
            // period[ns] × ts / (duration × 10^9 / 10^9): both sides are scaled by 10^9.
            let num = u128::from(period) * u128::from(ts);
            let by_duration = num.div_ceil(duration_e9);
            end.map_or(by_duration, |e| by_duration.min(e))
        }
        (None, Some(end)) => end,
        (None, None) => {
            return Err(AddressingError::Invalid(
                "@duration addressing needs the Period's duration (no Period@duration, next Period@start or MPD@mediaPresentationDuration)".into(),
            ));
        }
    };
    check_cap(ctx, 0, count)?;
    // Fractional @duration values are rounded down in `duration`/`time`.
    let segment_duration = u64::try_from(duration_e9 / 1_000_000_000).unwrap_or(u64::MAX);
    let mut slots = Vec::with_capacity(count as usize);
    for i in 0..count {
        // $Time$ of the i-th segment: i × @duration.
        let time = i64::try_from(i * duration_e9 / 1_000_000_000).unwrap_or(i64::MAX);
        slots.push(Slot {
            number: start_number.saturating_add(i as u64),
            time,
            duration: Some(segment_duration),
            sub_number: None,
        });
    }
    Ok(slots)
}

fn compile(text: &str, attribute: &str) -> Result<Template, AddressingError> {
    Template::compile(text).map_err(|e| {
        AddressingError::Invalid(format!("SegmentTemplate@{attribute} \"{text}\": {e}"))
    })
}

fn resolve_template(
    t: &SegmentTemplate,
    ctx: &Context,
) -> Result<(u64, Vec<Addressed>), AddressingError> {
    let ts = timescale(&t.common)?;
    let values = Values {
        representation_id: ctx.representation_id,
        bandwidth: ctx.bandwidth,
        ..Values::default()
    };
    // Each of init, index and bitstream switching: the attribute (a template) when present,
    // else the element; the element's @range applies to the attribute's URL too.
    let mut out = head_segments(&t.common, ctx, "SegmentTemplate")?;
    let attributes = [
        (
            SegmentKind::Init,
            &t.initialization,
            "initialization",
            &t.common.initialization,
            "Initialization",
        ),
        (
            SegmentKind::Index,
            &t.index,
            "index",
            &t.common.representation_index,
            "RepresentationIndex",
        ),
        (
            SegmentKind::BitstreamSwitching,
            &t.bitstream_switching,
            "bitstreamSwitching",
            &t.common.bitstream_switching,
            "BitstreamSwitching",
        ),
    ];
    for (kind, text, attribute, element, element_name) in attributes {
        let Some(text) = text else { continue };
        let template = compile(text, attribute)?;
        if template.uses(Identifier::Number) || template.uses(Identifier::Time) {
            return Err(AddressingError::Invalid(format!(
                "SegmentTemplate@{attribute} \"{text}\": one {} segment per media segment ($Number$/$Time$) is not supported",
                kind.as_str()
            )));
        }
        let expanded = template.expand(&values).map_err(|e| {
            AddressingError::Invalid(format!("SegmentTemplate@{attribute} \"{text}\": {e}"))
        })?;
        let url = join(ctx.base, &expanded, || {
            format!("SegmentTemplate@{attribute}")
        })?;
        let range = element
            .as_ref()
            .and_then(|i| i.range.as_deref())
            .map(|r| parse_range(r, || format!("SegmentTemplate/{element_name}@range")))
            .transpose()?;
        let segment = Addressed {
            kind,
            url,
            range,
            number: None,
            time: None,
            duration: None,
        };
        match out.iter().position(|a| a.kind == kind) {
            Some(i) => out[i] = segment,
            None => {
                let at = out.iter().take_while(|a| a.kind < kind).count();
                out.insert(at, segment);
            }
        }
    }
    let media_text = t
        .media
        .as_deref()
        .ok_or_else(|| AddressingError::Invalid("SegmentTemplate has no @media".into()))?;
    let media = compile(media_text, "media")?;
    let slots = match (&t.common.timeline, t.common.duration_e9) {
        (Some(entries), _) => {
            let mut slots = timeline_slots(entries, &t.common, ts, ctx)?;
            // @endNumber: the number of the last segment of the Period.
            if let Some(end) = t.common.end_number {
                slots.retain(|s| s.number <= end);
            }
            slots
        }
        (None, Some(d)) => duration_slots(d, &t.common, ts, ctx)?,
        // 23009-1 §5.3.9.5.3: neither @duration nor a SegmentTimeline: the Period is one media
        // segment, numbered startNumber, starting at the Period's start (presentationTimeOffset).
        (None, None) => vec![Slot {
            number: t.common.start_number.unwrap_or(1),
            time: i64::try_from(t.common.presentation_time_offset.unwrap_or(0)).map_err(|_| {
                AddressingError::Invalid("@presentationTimeOffset is too large".into())
            })?,
            // The Period's duration, when it is a whole number of ticks.
            duration: ctx
                .period_duration
                .map(|ns| u128::from(ns) * u128::from(ts))
                .filter(|ticks| ticks % 1_000_000_000 == 0)
                .and_then(|ticks| u64::try_from(ticks / 1_000_000_000).ok()),
            sub_number: None,
        }],
    };
    out.reserve(slots.len());
    for slot in slots {
        let v = Values {
            number: Some(slot.number),
            time: Some(slot.time),
            sub_number: Some(slot.sub_number.unwrap_or(1)),
            ..values
        };
        let expanded = media.expand(&v).map_err(|e| {
            AddressingError::Invalid(format!("SegmentTemplate@media \"{media_text}\": {e}"))
        })?;
        let url = join(ctx.base, &expanded, || "SegmentTemplate@media".into())?;
        out.push(Addressed {
            kind: SegmentKind::Media,
            url,
            range: None,
            number: Some(slot.number),
            time: Some(slot.time),
            duration: slot.duration,
        });
    }
    Ok((ts, out))
}

fn resolve_list(l: &SegmentList, ctx: &Context) -> Result<(u64, Vec<Addressed>), AddressingError> {
    let ts = timescale(&l.common)?;
    let mut out = head_segments(&l.common, ctx, "SegmentList")?;
    out.reserve(l.segment_urls.len());
    check_cap(ctx, 0, l.segment_urls.len() as u128)?;
    // Times: from the timeline when there is one, else from @duration.
    let slots = match (&l.common.timeline, l.common.duration_e9) {
        (Some(entries), _) => Some(timeline_slots(entries, &l.common, ts, ctx)?),
        _ => None,
    };
    let start_number = l.common.start_number.unwrap_or(1);
    // DESIGN.md: a listed segment belongs to its Period only when it starts before the Period's
    // end (on the media timeline with a SegmentTimeline, from the Period's start with @duration).
    let period_end = period_end_media_time(&l.common, ts, ctx);
    let period_ticks_e9 = ctx
        .period_duration
        .map(|ns| u128::from(ns) * u128::from(ts));
    for (i, segment_url) in l.segment_urls.iter().enumerate() {
        let after_the_end = match (slots.as_ref().and_then(|s| s.get(i)), l.common.duration_e9) {
            (Some(slot), _) => period_end.is_some_and(|end| i128::from(slot.time) >= end),
            (None, Some(d)) if slots.is_none() => {
                period_ticks_e9.is_some_and(|p| (i as u128).saturating_mul(d) >= p)
            }
            _ => false,
        };
        if after_the_end {
            break;
        }
        let (url, range) = resource(
            ctx,
            ("media", segment_url.media.as_deref()),
            ("mediaRange", segment_url.media_range.as_deref()),
            |attribute| format!("SegmentList/SegmentURL[{i}]@{attribute}"),
        )?;
        let (number, time, duration) = match slots.as_ref().and_then(|s| s.get(i)) {
            Some(slot) => (slot.number, Some(slot.time), slot.duration),
            None => {
                let n = start_number.saturating_add(i as u64);
                match l
                    .common
                    .duration_e9
                    .filter(|d| d.is_multiple_of(1_000_000_000))
                    .map(|d| (d / 1_000_000_000) as u64)
                {
                    Some(d) => (n, i64::try_from(u128::from(d) * i as u128).ok(), Some(d)),
                    None => (n, None, None),
                }
            }
        };
        out.push(Addressed {
            kind: SegmentKind::Media,
            url,
            range,
            number: Some(number),
            time,
            duration,
        });
    }
    Ok((ts, out))
}
