//! Media segments of SegmentTemplate and SegmentList (ISO/IEC 23009-1 §5.3.9): their positions,
//! counted without being expanded.

use super::SegmentKind;
use super::addressing::{
    Addressed, AddressingError, Context, GeneratedMedia, Resolved, head_segments, join,
    parse_range, resource, timescale,
};
use super::positions::{OpenRun, Positions, Run, Slot};
use super::template::{Identifier, Template, Values};
use crate::mpd::{CommonSegmentAttributes, SegmentList, SegmentTemplate, TimelineEntry};

/// The media timeline's end of the Period (`presentationTimeOffset` + duration × timescale),
/// in timescale units.
fn period_end_media_time(common: &CommonSegmentAttributes, ts: u64, ctx: &Context) -> Option<i128> {
    let duration = ctx.period_duration?;
    let pto = i128::from(common.presentation_time_offset.unwrap_or(0));
    // u64 × u64 can pass i128::MAX: saturated, an absurd Period ends at the end of time.
    Some(pto.saturating_add(ceil_div(
        i128::from(duration).saturating_mul(i128::from(ts)),
        1_000_000_000,
    )))
}

fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a > 0) == (b > 0)) {
        q + 1
    } else {
        q
    }
}

/// How many numbers from `first` to `last` inclusive (`@endNumber`), saturated at u64::MAX.
fn numbers_up_to(first: u64, last: u64) -> u64 {
    last.checked_sub(first).map_or(0, |n| n.saturating_add(1))
}

fn invalid(message: impl Into<String>) -> AddressingError {
    AddressingError::Invalid(message.into())
}

/// A SegmentTimeline as runs. `$Number$` counts entries from `startNumber` (an `S@n` restarts
/// the count); `S@t` may be negative and may jump forward (a gap); `@endNumber` is the number
/// of the last segment. Nothing is expanded; every number and time is checked to fit. With
/// [`Context::open_end`], a last `S` that repeats to an end nothing gives is the open run.
pub fn timeline_runs(
    entries: &[TimelineEntry],
    common: &CommonSegmentAttributes,
    ts: u64,
    ctx: &Context,
) -> Result<(Vec<Run>, Option<OpenRun>), AddressingError> {
    let mut runs = Vec::with_capacity(entries.len());
    // None: past u64::MAX (an error only if a segment is numbered there).
    let mut next_number = Some(common.start_number.unwrap_or(1));
    let mut time: i128 = 0;
    let mut total: u128 = 0;
    for (i, s) in entries.iter().enumerate() {
        if s.d == 0 {
            return Err(invalid(format!("SegmentTimeline/S[{i}]@d is 0")));
        }
        if let Some(t) = s.t {
            time = i128::from(t);
        }
        if let Some(n) = s.n {
            next_number = Some(n);
        }
        let number = next_number
            .ok_or_else(|| invalid(format!("SegmentTimeline/S[{i}]: $Number$ overflows")))?;
        let d = i128::from(s.d);
        let count: i128 = if s.r >= 0 {
            i128::from(s.r) + 1
        } else {
            // 23009-1 §5.3.9.6: r = -1 repeats up to the next S@t, or to the end of the Period.
            let end = match entries.get(i + 1).and_then(|next| next.t) {
                Some(next_t) => i128::from(next_t),
                None => match period_end_media_time(common, ts, ctx) {
                    Some(end) => end,
                    None if ctx.open_end => {
                        if i + 1 < entries.len() {
                            return Err(invalid(format!(
                                "SegmentTimeline/S[{i}]@r=-1 is followed by an S without @t"
                            )));
                        }
                        let open = OpenRun {
                            number,
                            time: i64::try_from(time).map_err(|_| {
                                invalid(format!("SegmentTimeline/S[{i}]: times overflow"))
                            })?,
                            duration_e9: u128::from(s.d) * 1_000_000_000,
                        };
                        return Ok((runs, Some(open)));
                    }
                    None if ctx.dynamic => {
                        return Err(AddressingError::Live(
                            "its SegmentTimeline repeats (r=-1) up to the live edge".into(),
                        ));
                    }
                    None => {
                        return Err(AddressingError::NoPeriodEnd(format!(
                            "SegmentTimeline/S[{i}]@r=-1 repeats to the end of a Period whose duration is unknown"
                        )));
                    }
                },
            };
            ceil_div(end.saturating_sub(time), d).max(0)
        };
        let k = u128::from(s.k.unwrap_or(1).max(1));
        total = total.saturating_add(count.unsigned_abs().saturating_mul(k));
        if !ctx.open_end
            && (ctx.planned_before as u128).saturating_add(total) > super::MAX_SEGMENTS as u128
        {
            return Err(AddressingError::TooMany);
        }
        // Below the cap: count fits u64, and count × d fits i128.
        let mut kept = u64::try_from(count).map_err(|_| AddressingError::TooMany)?;
        if let Some(end) = common.end_number {
            // @endNumber: the number of the last segment of the Period.
            kept = kept.min(numbers_up_to(number, end));
        }
        let run = Run {
            number,
            time: i64::try_from(time)
                .map_err(|_| invalid(format!("SegmentTimeline/S[{i}]: times overflow")))?,
            duration: s.d,
            count: kept,
            k: s.k,
        };
        if kept > 0 && run.last().is_none() {
            return Err(invalid(format!(
                "SegmentTimeline/S[{i}]: $Number$ or $Time$ of its last segment overflows"
            )));
        }
        runs.push(run);
        let steps = u64::try_from(count).map_err(|_| AddressingError::TooMany)?;
        next_number = number.checked_add(steps);
        time = time.saturating_add(i128::from(steps).saturating_mul(d));
    }
    Ok((runs, None))
}

/// Positions of a `@duration`-addressed representation: ceil(Period duration × timescale /
/// duration) segments numbered from `startNumber`, bounded by `endNumber`; with
/// [`Context::open_end`] and neither bound, none counted and all of them open.
fn uniform_positions(
    duration_e9: u128,
    common: &CommonSegmentAttributes,
    ts: u64,
    ctx: &Context,
) -> Result<(Positions, Option<OpenRun>), AddressingError> {
    if duration_e9 == 0 {
        return Err(invalid("@duration is 0"));
    }
    let start_number = common.start_number.unwrap_or(1);
    let by_end_number = common
        .end_number
        .map(|end| u128::from(numbers_up_to(start_number, end)));
    let count: u128 = match (ctx.period_duration, by_end_number) {
        (None, None) if ctx.open_end => {
            let open = OpenRun {
                number: start_number,
                time: 0,
                duration_e9,
            };
            let none = Positions::Uniform {
                start_number,
                count: 0,
                duration_e9,
            };
            return Ok((none, Some(open)));
        }
        (_, _) if ctx.dynamic && !ctx.open_end => {
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
            return Err(AddressingError::NoPeriodEnd(
                "@duration addressing needs the Period's duration (no Period@duration, next Period@start or MPD@mediaPresentationDuration)".into(),
            ));
        }
    };
    if !ctx.open_end
        && (ctx.planned_before as u128).saturating_add(count) > super::MAX_SEGMENTS as u128
    {
        return Err(AddressingError::TooMany);
    }
    let count = u64::try_from(count).map_err(|_| AddressingError::TooMany)?;
    let positions = Positions::Uniform {
        start_number,
        count,
        duration_e9,
    };
    if count > 0 && positions.bounds().is_none() {
        return Err(invalid(
            "@duration: $Number$ or $Time$ of the last segment overflows",
        ));
    }
    Ok((positions, None))
}

fn compile(text: &str, attribute: &str) -> Result<Template, AddressingError> {
    Template::compile(text)
        .map_err(|e| invalid(format!("SegmentTemplate@{attribute} \"{text}\": {e}")))
}

/// A SegmentTemplate: init, index and bitstream switching segments, then the media segments'
/// positions (not expanded).
pub fn resolve_template(t: &SegmentTemplate, ctx: &Context) -> Result<Resolved, AddressingError> {
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
    let mut per_segment_index = None;
    for (kind, text, attribute, element, element_name) in attributes {
        let Some(text) = text else { continue };
        let template = compile(text, attribute)?;
        if kind == SegmentKind::Index
            && (template.uses(Identifier::Number) || template.uses(Identifier::Time))
        {
            // One Index Segment per Media Segment (§5.3.9.4.2): generated beside the media.
            per_segment_index = Some((template, text.clone()));
            continue;
        }
        if template.uses(Identifier::Number) || template.uses(Identifier::Time) {
            return Err(AddressingError::Invalid(if kind == SegmentKind::Init {
                // ISO/IEC 23009-1 Table 16: `@initialization` may hold $RepresentationID$ and
                // $Bandwidth$ only; there is one Initialization Segment, not one per segment.
                format!(
                    "SegmentTemplate@initialization \"{text}\": $Number$ and $Time$ are not allowed in @initialization (ISO/IEC 23009-1 §5.3.9.4.4, Table 16: only $RepresentationID$ and $Bandwidth$)"
                )
            } else {
                format!(
                    "SegmentTemplate@{attribute} \"{text}\": one {} segment per media segment ($Number$/$Time$) is not supported",
                    kind.as_str()
                )
            }));
        }
        let expanded = template
            .expand(&values)
            .map_err(|e| invalid(format!("SegmentTemplate@{attribute} \"{text}\": {e}")))?;
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
        .ok_or_else(|| invalid("SegmentTemplate has no @media"))?;
    let media = compile(media_text, "media")?;
    let (positions, open) = match (&t.common.timeline, t.common.duration_e9) {
        (Some(entries), _) => {
            let (runs, open) = timeline_runs(entries, &t.common, ts, ctx)?;
            (Positions::Timeline(runs), open)
        }
        (None, Some(d)) => uniform_positions(d, &t.common, ts, ctx)?,
        // 23009-1 §5.3.9.5.3: neither @duration nor a SegmentTimeline: the Period is one media
        // segment, numbered startNumber, starting at the Period's start (presentationTimeOffset).
        (None, None) => (
            Positions::Single(Slot {
                number: t.common.start_number.unwrap_or(1),
                time: i64::try_from(t.common.presentation_time_offset.unwrap_or(0))
                    .map_err(|_| invalid("@presentationTimeOffset is too large"))?,
                // The Period's duration, when it is a whole number of ticks.
                duration: ctx
                    .period_duration
                    .map(|ns| u128::from(ns) * u128::from(ts))
                    .filter(|ticks| ticks % 1_000_000_000 == 0)
                    .and_then(|ticks| u64::try_from(ticks / 1_000_000_000).ok()),
                sub_number: None,
            }),
            None,
        ),
    };
    check_media("media", &media, media_text, &values, &positions, open, ctx)?;
    let index = match per_segment_index {
        Some((template, text)) => {
            check_media("index", &template, &text, &values, &positions, open, ctx)?;
            Some(template)
        }
        None => None,
    };
    Ok(Resolved {
        timescale: ts,
        listed: out,
        generated: Some(GeneratedMedia {
            template: media,
            positions,
            index,
        }),
        presentation_time_offset: t.common.presentation_time_offset.unwrap_or(0),
        list_positions: None,
        open,
        index_range: None,
    })
}

/// Checks, before anything is expanded, that every media URL of the template can be built:
/// the first and the last segment resolve, and the identifiers that vary from segment to
/// segment are in the URL's path or query (in the host, a value could make an invalid URL).
fn check_media(
    attribute: &str,
    media: &Template,
    media_text: &str,
    values: &Values,
    positions: &Positions,
    open: Option<OpenRun>,
    ctx: &Context,
) -> Result<(), AddressingError> {
    let mut ends = Vec::with_capacity(3);
    if let Some(((first_number, last_number), (first_time, last_time))) = positions.bounds() {
        ends.extend([(first_number, first_time), (last_number, last_time)]);
    }
    ends.extend(open.and_then(|o| o.slot(0)).map(|s| (s.number, s.time)));
    if ends.is_empty() {
        return Ok(());
    }
    for (number, time) in ends {
        let v = Values {
            number: Some(number),
            time: Some(time),
            sub_number: Some(1),
            ..*values
        };
        let expanded = media
            .expand(&v)
            .map_err(|e| invalid(format!("SegmentTemplate@{attribute} \"{media_text}\": {e}")))?;
        join(ctx.base, &expanded, || {
            format!("SegmentTemplate@{attribute}")
        })?;
    }
    let pattern = join(ctx.base, &media.pattern(values), || {
        format!("SegmentTemplate@{attribute}")
    });
    let in_authority = match &pattern {
        Ok(url) => url
            .host_str()
            .is_some_and(|h| h.contains("%EE%80") || h.contains('\u{E000}')),
        Err(_) => true,
    };
    if in_authority {
        return Err(invalid(format!(
            "SegmentTemplate@{attribute} \"{media_text}\": $Number$, $Time$ and $SubNumber$ can only be used in the path or the query"
        )));
    }
    Ok(())
}

/// A SegmentList: init, index and bitstream switching segments, then each listed segment that
/// starts before the end of the Period.
pub fn resolve_list(l: &SegmentList, ctx: &Context) -> Result<Resolved, AddressingError> {
    let ts = timescale(&l.common)?;
    let mut out = head_segments(&l.common, ctx, "SegmentList")?;
    if !ctx.open_end
        && (ctx.planned_before as u128).saturating_add(l.segment_urls.len() as u128)
            > super::MAX_SEGMENTS as u128
    {
        return Err(AddressingError::TooMany);
    }
    out.reserve(l.segment_urls.len());
    // Times: from the timeline when there is one, else from @duration.
    let (timeline, open) = match &l.common.timeline {
        Some(entries) => {
            let (runs, open) = timeline_runs(entries, &l.common, ts, ctx)?;
            (Some(Positions::Timeline(runs)), open)
        }
        None => (None, None),
    };
    let mut slots = timeline
        .as_ref()
        .map(|t| t.iter().chain(open.into_iter().flat_map(OpenRun::iter)));
    let start_number = l.common.start_number.unwrap_or(1);
    // DESIGN.md: a listed segment belongs to its Period only when it starts before the Period's
    // end (on the media timeline with a SegmentTimeline, from the Period's start with @duration).
    let period_end = period_end_media_time(&l.common, ts, ctx);
    let period_ticks_e9 = ctx
        .period_duration
        .map(|ns| u128::from(ns) * u128::from(ts));
    for (i, segment_url) in l.segment_urls.iter().enumerate() {
        let slot = slots.as_mut().and_then(Iterator::next);
        let after_the_end = match (slot, l.common.duration_e9) {
            (Some(slot), _) => period_end.is_some_and(|end| i128::from(slot.time) >= end),
            (None, Some(d)) if timeline.is_none() => {
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
        let (number, time, duration) = match slot {
            Some(slot) => (slot.number, Some(slot.time), slot.duration),
            None => {
                let n = start_number.saturating_add(i as u64);
                match l
                    .common
                    .duration_e9
                    .filter(|d| d.is_multiple_of(1_000_000_000))
                    .and_then(|d| u64::try_from(d / 1_000_000_000).ok())
                {
                    Some(d) => (
                        n,
                        u128::from(d)
                            .checked_mul(i as u128)
                            .and_then(|t| i64::try_from(t).ok()),
                        Some(d),
                    ),
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
    // The listed media segments' positions: the timeline's, else one run of @duration.
    let media_count = out.iter().filter(|a| a.kind == SegmentKind::Media).count() as u64;
    let list_positions = timeline.or_else(|| {
        l.common.duration_e9.map(|duration_e9| Positions::Uniform {
            start_number,
            count: media_count,
            duration_e9,
        })
    });
    Ok(Resolved {
        timescale: ts,
        listed: out,
        generated: None,
        presentation_time_offset: l.common.presentation_time_offset.unwrap_or(0),
        list_positions,
        open,
        index_range: None,
    })
}
