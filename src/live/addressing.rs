//! A live Representation's addressing as runs of equal segments, from the manifest's model:
//! inheritance of segment information (Period → AdaptationSet → Representation), BaseURL
//! resolution, and the expansion of a SegmentTimeline, `@duration` or SegmentList into
//! [`Run`]s whose length may be open (the live edge moves).

use url::Url;

use crate::mpd::{
    CommonSegmentAttributes, SegmentInfo, SegmentList, SegmentTemplate, TimelineEntry,
};
use crate::plan::template::{Identifier, Template};
use crate::plan::{ByteRange, InheritedAddressing};

/// 10^9 as the wide integer the arithmetic is done in.
pub(crate) const E9: i128 = 1_000_000_000;

/// `a / b` rounded up, for `b > 0`.
pub(crate) fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 { q } else { q + 1 }
}

/// Consecutive segments of one duration: segment `j` starts at media time
/// `(start_e9 + j × d_e9) / 10^9` ticks (both scaled by 10^9, so that fractional `@duration`
/// values stay exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    /// Media time of the first segment, in ticks × 10^9 (`presentationTimeOffset` included).
    pub start_e9: i128,
    /// Duration of each, in ticks × 10^9.
    pub d_e9: i128,
    /// How many; `None`: as many as the clock allows (`@duration`, `S@r="-1"` at the live end).
    pub count: Option<u64>,
    /// `$Number$` of the first.
    pub first_number: u64,
    /// Index of the first in the SegmentList (lists only).
    pub first_list_index: usize,
}

/// Where the media segments' URLs come from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Media {
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

/// A Representation's addressing, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Addressing {
    pub timescale: u64,
    pub presentation_time_offset: u64,
    pub init: Option<(Url, Option<ByteRange>)>,
    pub media: Media,
    pub runs: Vec<Run>,
}

/// Resolves the first non-empty BaseURL of a level against `parent`, by the plan's rule.
pub(crate) fn resolve_base(parent: &Url, base_urls: &[String]) -> Result<Url, String> {
    crate::plan::resolve_base(parent, base_urls, "BaseURL")
        .map(|(url, _)| url)
        .map_err(|e| e.to_string())
}

/// Parses `first-last` by the plan's rule; `what` names the attribute in the error.
fn parse_range(text: &str, what: &str) -> Result<ByteRange, String> {
    crate::plan::parse_range(text, || what.to_string()).map_err(|e| match e {
        crate::plan::AddressingError::Invalid(message) => message,
        other => format!("{what}: {other:?}"),
    })
}

fn join(base: &Url, reference: &str, what: &str) -> Result<Url, String> {
    base.join(reference)
        .map_err(|e| format!("{what} \"{reference}\" is not a valid URL reference: {e}"))
}

/// What one Representation is resolved with.
pub(crate) struct Context<'a> {
    pub base: &'a Url,
    pub representation_id: &'a str,
    pub bandwidth: Option<u64>,
    /// The Period's duration in nanoseconds, when known.
    pub period_duration: Option<u64>,
}

/// Resolves a Representation's addressing; errors name the attribute at fault.
pub(crate) fn resolve(levels: [&SegmentInfo; 3], ctx: &Context) -> Result<Addressing, String> {
    // The plan's inheritance rules (Period → AdaptationSet → Representation, attribute by
    // attribute; a lower SegmentTimeline replaces an inherited one).
    let what = match crate::plan::merge_segment_info(levels) {
        InheritedAddressing::Template(t) => return resolve_template(&t, ctx),
        InheritedAddressing::List(l) => return resolve_list(&l, ctx),
        InheritedAddressing::Base(_) => "SegmentBase",
        InheritedAddressing::BaseUrlOnly => "a bare BaseURL",
    };
    Err(format!(
        "{what} in a live presentation (its one resource grows as it is written) is not supported"
    ))
}

fn timescale(common: &CommonSegmentAttributes) -> Result<u64, String> {
    match common.timescale {
        Some(0) => Err("@timescale is 0".into()),
        Some(t) => Ok(t),
        None => Ok(1),
    }
}

/// The Period's length in ticks × 10^9, when known.
fn period_len_e9(ts: u64, ctx: &Context) -> Option<i128> {
    ctx.period_duration
        .map(|d| i128::from(d).saturating_mul(i128::from(ts)))
}

/// Runs of a SegmentTimeline (23009-1 §5.3.9.6): every `S@t` sets the time (a jump is a gap);
/// `S@r="-1"` repeats to the next `S@t`, else to the Period's end, else indefinitely (live).
fn timeline_runs(
    entries: &[TimelineEntry],
    common: &CommonSegmentAttributes,
    ts: u64,
    ctx: &Context,
) -> Result<Vec<Run>, String> {
    let pto_e9 = i128::from(common.presentation_time_offset.unwrap_or(0)) * E9;
    let mut runs = Vec::with_capacity(entries.len());
    let mut number = common.start_number.unwrap_or(1);
    let mut time_e9: i128 = 0;
    let mut list_index = 0usize;
    for (i, s) in entries.iter().enumerate() {
        if s.d == 0 {
            return Err(format!("SegmentTimeline/S[{i}]@d is 0"));
        }
        if let Some(t) = s.t {
            time_e9 = i128::from(t) * E9;
        }
        if let Some(n) = s.n {
            number = n;
        }
        let d_e9 = i128::from(s.d) * E9;
        let count = if s.r >= 0 {
            Some(s.r as u64 + 1)
        } else {
            let end_e9 = match entries.get(i + 1).and_then(|next| next.t) {
                Some(next_t) => Some(i128::from(next_t) * E9),
                None => period_len_e9(ts, ctx).map(|len| pto_e9.saturating_add(len)),
            };
            end_e9.map(|end| {
                let span = end.saturating_sub(time_e9).max(0);
                u64::try_from(ceil_div(span, d_e9)).unwrap_or(u64::MAX)
            })
        };
        runs.push(Run {
            start_e9: time_e9,
            d_e9,
            count,
            first_number: number,
            first_list_index: list_index,
        });
        match count {
            Some(c) => {
                number = number.saturating_add(c);
                list_index = list_index.saturating_add(c as usize);
                time_e9 = time_e9.saturating_add(d_e9.saturating_mul(i128::from(c)));
            }
            None if i + 1 < entries.len() => {
                return Err(format!(
                    "SegmentTimeline/S[{i}]@r=-1 is followed by an S without @t"
                ));
            }
            None => {}
        }
    }
    Ok(runs)
}

/// The one run of `@duration` addressing: numbered from `startNumber`, bounded by `@endNumber`
/// and the Period's end when known.
fn duration_run(
    duration_e9: u128,
    common: &CommonSegmentAttributes,
    ts: u64,
    ctx: &Context,
) -> Result<Run, String> {
    if duration_e9 == 0 {
        return Err("@duration is 0".into());
    }
    let d_e9 = i128::try_from(duration_e9).map_err(|_| "@duration is too large".to_string())?;
    let start_number = common.start_number.unwrap_or(1);
    let by_end_number = common
        .end_number
        .map(|end| end.saturating_add(1).saturating_sub(start_number));
    let by_period = period_len_e9(ts, ctx)
        .map(|len| u64::try_from(ceil_div(len.max(0), d_e9)).unwrap_or(u64::MAX));
    let count = match (by_end_number, by_period) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Run {
        start_e9: i128::from(common.presentation_time_offset.unwrap_or(0)) * E9,
        d_e9,
        count,
        first_number: start_number,
        first_list_index: 0,
    })
}

fn resolve_template(t: &SegmentTemplate, ctx: &Context) -> Result<Addressing, String> {
    let ts = timescale(&t.common)?;
    let values = crate::plan::template::Values {
        representation_id: ctx.representation_id,
        bandwidth: ctx.bandwidth,
        ..Default::default()
    };
    let init = if let Some(text) = &t.initialization {
        let template = Template::compile(text)
            .map_err(|e| format!("SegmentTemplate@initialization \"{text}\": {e}"))?;
        let expanded = template
            .expand(&values)
            .map_err(|e| format!("SegmentTemplate@initialization \"{text}\": {e}"))?;
        let range = t
            .common
            .initialization
            .as_ref()
            .and_then(|i| i.range.as_deref())
            .map(|r| parse_range(r, "SegmentTemplate/Initialization@range"))
            .transpose()?;
        Some((
            join(ctx.base, &expanded, "SegmentTemplate@initialization")?,
            range,
        ))
    } else {
        init_element(&t.common, ctx, "SegmentTemplate/Initialization")?
    };
    let text = t.media.as_deref().ok_or("SegmentTemplate has no @media")?;
    let template =
        Template::compile(text).map_err(|e| format!("SegmentTemplate@media \"{text}\": {e}"))?;
    let (runs, duration_addressed) = match (&t.common.timeline, t.common.duration_e9) {
        (Some(entries), _) => (timeline_runs(entries, &t.common, ts, ctx)?, false),
        (None, Some(d)) => (vec![duration_run(d, &t.common, ts, ctx)?], true),
        (None, None) => {
            return Err(format!(
                "SegmentTemplate@media \"{text}\" has neither @duration nor a SegmentTimeline: its one segment has no place on the live timeline"
            ));
        }
    };
    Ok(Addressing {
        timescale: ts,
        presentation_time_offset: t.common.presentation_time_offset.unwrap_or(0),
        init,
        media: Media::Template {
            by_time: template.uses(Identifier::Time),
            template,
            base: ctx.base.clone(),
            duration_addressed,
        },
        runs,
    })
}

fn init_element(
    common: &CommonSegmentAttributes,
    ctx: &Context,
    element: &str,
) -> Result<Option<(Url, Option<ByteRange>)>, String> {
    let Some(init) = &common.initialization else {
        return Ok(None);
    };
    let url = match &init.source_url {
        Some(r) => join(ctx.base, r, &format!("{element}@sourceURL"))?,
        None => ctx.base.clone(),
    };
    let range = init
        .range
        .as_deref()
        .map(|r| parse_range(r, &format!("{element}@range")))
        .transpose()?;
    Ok(Some((url, range)))
}

fn resolve_list(l: &SegmentList, ctx: &Context) -> Result<Addressing, String> {
    let ts = timescale(&l.common)?;
    let init = init_element(&l.common, ctx, "SegmentList/Initialization")?;
    let mut resources = Vec::with_capacity(l.segment_urls.len());
    for (i, u) in l.segment_urls.iter().enumerate() {
        let url = match &u.media {
            Some(r) => join(ctx.base, r, &format!("SegmentList/SegmentURL[{i}]@media"))?,
            None => ctx.base.clone(),
        };
        let range = u
            .media_range
            .as_deref()
            .map(|r| parse_range(r, &format!("SegmentList/SegmentURL[{i}]@mediaRange")))
            .transpose()?;
        resources.push((url, range));
    }
    let listed = resources.len() as u64;
    let mut runs = match (&l.common.timeline, l.common.duration_e9) {
        (Some(entries), _) => timeline_runs(entries, &l.common, ts, ctx)?,
        (None, Some(d)) => vec![duration_run(d, &l.common, ts, ctx)?],
        (None, None) if listed <= 1 => {
            return Err("SegmentList without @duration or SegmentTimeline: its segment has no place on the live timeline".into());
        }
        (None, None) => {
            return Err(
                "SegmentList of several segments needs @duration or a SegmentTimeline".into(),
            );
        }
    };
    // A list names exactly its segments: no run reaches past its last SegmentURL.
    for run in &mut runs {
        let left = listed.saturating_sub(run.first_list_index as u64);
        run.count = Some(run.count.map_or(left, |c| c.min(left)));
    }
    runs.retain(|r| r.count != Some(0));
    Ok(Addressing {
        timescale: ts,
        presentation_time_offset: l.common.presentation_time_offset.unwrap_or(0),
        init,
        media: Media::List(resources),
        runs,
    })
}
