//! From a parsed manifest to the exact, ordered list of every segment of every representation.
//! Pure functions, no I/O.
//!
//! Conventions (DESIGN.md): periods in order, representations in document order within each,
//! the init segment first and then the media segments; URLs resolved by RFC 3986 §5.2.

mod addressing;
mod query;
pub mod template;
mod timing;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;
use url::Url;

pub use addressing::MAX_SEGMENTS;
use addressing::{AddressingError, Context};
pub use timing::{PeriodTiming, period_timings};

use crate::layout;
use crate::mpd::{Mpd, ParseError, PresentationType, parse_mpd};

/// What a segment is to its representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SegmentKind {
    /// The initialization segment (`Initialization`, `@initialization`).
    Init,
    /// The Representation Index Segment (`RepresentationIndex`, `SegmentTemplate@index`).
    Index,
    /// The Bitstream Switching Segment (`BitstreamSwitching`, `@bitstreamSwitching`).
    BitstreamSwitching,
    /// A media segment.
    Media,
}

/// An inclusive byte range `first-last`, as in an HTTP `Range` header and in `@mediaRange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub first: u64,
    /// Offset of the last byte (inclusive).
    pub last: u64,
}

/// One segment of the plan: what to fetch and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Init or media.
    pub kind: SegmentKind,
    /// Absolute URL of the resource holding the segment.
    pub url: Url,
    /// The byte range of the resource that is the segment, if it is not the whole resource.
    pub range: Option<ByteRange>,
    /// Local path, relative to the output folder (see [`crate::layout`]). Segments that are
    /// ranges of one resource share the resource's path.
    pub path: PathBuf,
    /// `$Number$` of the segment, where the addressing mode defines one.
    pub number: Option<u64>,
    /// Start time in the representation's timescale, where known.
    pub time: Option<i64>,
    /// Duration in the representation's timescale, where known.
    pub duration: Option<u64>,
}

/// Every segment of one Representation, in order (init first).
#[derive(Debug, Clone, PartialEq)]
pub struct RepresentationPlan {
    /// The Period's `@id`, or its index (0-based) when it has none.
    pub period: String,
    /// Index of the Period in the manifest (0-based).
    pub period_index: usize,
    /// Index of the AdaptationSet within its Period (0-based).
    pub adaptation_set_index: usize,
    /// `Representation@id`.
    pub id: String,
    /// `@mimeType` (Representation, else AdaptationSet), if any.
    pub mime_type: Option<String>,
    /// `@codecs` (Representation, else AdaptationSet), if any.
    pub codecs: Option<String>,
    /// `AdaptationSet@contentType`, if any.
    pub content_type: Option<String>,
    /// `@bandwidth`, if any.
    pub bandwidth: Option<u64>,
    /// The timescale that `time` and `duration` of the segments are expressed in.
    pub timescale: u64,
    /// The segments: init, index, bitstream switching, then media in presentation order.
    pub segments: Vec<Segment>,
}

/// The plan of a whole presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The URL the manifest was resolved against (its own URL, or `--base-url`).
    pub manifest_url: Url,
    /// Representations: periods in order, representations in document order within each.
    pub representations: Vec<RepresentationPlan>,
    /// What the manifest holds that gives nothing to download, for the user to see.
    pub warnings: Vec<PlanWarning>,
}

/// Something of the manifest that contributes nothing to the plan: never silent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanWarning {
    /// A Period without AdaptationSet.
    #[error("period {period}: no AdaptationSet")]
    NoAdaptationSet {
        /// The Period (id or index).
        period: String,
    },
    /// A Period removed by `xlink:href="urn:mpeg:dash:resolve-to-zero:2013"`.
    #[error("period {period}: removed by its xlink:href (resolve-to-zero)")]
    RemovedPeriod {
        /// The Period (id or index).
        period: String,
    },
    /// An AdaptationSet without Representation.
    #[error("period {period}, adaptation set {adaptation_set}: no Representation")]
    NoRepresentation {
        /// The Period (id or index).
        period: String,
        /// Index of the AdaptationSet in its Period.
        adaptation_set: usize,
    },
    /// `Representation` elements directly under a Period, where the schema has none.
    #[error(
        "period {period}: {count} Representation element(s) directly under the Period, not in an AdaptationSet, ignored"
    )]
    StrayRepresentations {
        /// The Period (id or index).
        period: String,
        /// How many.
        count: usize,
    },
    /// A Representation with no media segment.
    #[error(
        "period {period}, adaptation set {adaptation_set}, representation \"{representation}\": no media segments ({reason})"
    )]
    NoMediaSegments {
        /// The Period (id or index).
        period: String,
        /// Index of the AdaptationSet in its Period.
        adaptation_set: usize,
        /// The Representation's id.
        representation: String,
        /// Why.
        reason: &'static str,
    },
}

impl ByteRange {
    /// Number of bytes in the range (saturating: a planned range always fits).
    pub fn len(&self) -> u64 {
        self.last.saturating_sub(self.first).saturating_add(1)
    }

    /// Always false: a range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl std::fmt::Display for ByteRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl SegmentKind {
    /// `"init"`, `"index"`, `"bitstream-switching"` or `"media"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentKind::Init => "init",
            SegmentKind::Index => "index",
            SegmentKind::BitstreamSwitching => "bitstream-switching",
            SegmentKind::Media => "media",
        }
    }
}

impl Plan {
    /// Every segment, in plan order, with the representation it belongs to.
    pub fn segments(&self) -> impl Iterator<Item = (&RepresentationPlan, &Segment)> {
        self.representations
            .iter()
            .flat_map(|r| r.segments.iter().map(move |s| (r, s)))
    }

    /// Keeps only the representations whose id is in `ids` (all of them when `ids` is empty).
    /// Returns the ids that matched nothing.
    pub fn retain_representations(&mut self, ids: &[String]) -> Vec<String> {
        if ids.is_empty() {
            return Vec::new();
        }
        let unknown = ids
            .iter()
            .filter(|id| !self.representations.iter().any(|r| &r.id == *id))
            .cloned()
            .collect();
        self.representations.retain(|r| ids.contains(&r.id));
        self.warnings.retain(|w| match w {
            PlanWarning::NoMediaSegments { representation, .. } => ids.contains(representation),
            _ => true,
        });
        unknown
    }
}

/// Why a manifest cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The manifest could not be parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A live manifest whose segments depend on the wall clock.
    #[error(
        "live manifests are not supported yet: period {period}, adaptation set {adaptation_set}, representation \"{representation}\": {reason}"
    )]
    Live {
        /// The Period (id or index).
        period: String,
        /// Index of the AdaptationSet in its Period.
        adaptation_set: usize,
        /// The Representation's id.
        representation: String,
        /// Why the wall clock is needed.
        reason: String,
    },
    /// A Representation whose addressing cannot be resolved.
    #[error(
        "period {period}, adaptation set {adaptation_set}, representation \"{representation}\": {message}"
    )]
    Representation {
        /// The Period (id or index).
        period: String,
        /// Index of the AdaptationSet in its Period.
        adaptation_set: usize,
        /// The Representation's id.
        representation: String,
        /// What is wrong, naming the attribute at fault.
        message: String,
    },
    /// A Period to be fetched from elsewhere (`xlink:href`), which is not done.
    #[error("period {period}: remote Periods (xlink:href=\"{href}\") are not supported")]
    RemotePeriod {
        /// The Period (id or index).
        period: String,
        /// Where its content is.
        href: String,
    },
    /// A Period that starts after the end of the presentation.
    #[error(
        "period {period} starts at {start}, after the end of the presentation (MPD@mediaPresentationDuration {end})"
    )]
    PeriodAfterEnd {
        /// The Period (id or index).
        period: String,
        /// Its start, as seconds.
        start: String,
        /// The presentation's duration, as seconds.
        end: String,
    },
    /// A manifest that names nothing to download; the reasons are the plan's warnings.
    #[error("nothing to download: {}", reasons(.0))]
    NothingToDownload(Vec<PlanWarning>),
    /// More segments than [`MAX_SEGMENTS`].
    #[error("the manifest describes more than {MAX_SEGMENTS} segments; refusing to plan it")]
    TooManySegments,
    /// A BaseURL that cannot be resolved.
    #[error("{element}: BaseURL \"{value}\" is not a valid URL reference: {message}")]
    BadBaseUrl {
        /// Where it is.
        element: String,
        /// The BaseURL.
        value: String,
        /// Why.
        message: String,
    },
}

fn reasons(warnings: &[PlanWarning]) -> String {
    if warnings.is_empty() {
        return "the manifest has no Period".into();
    }
    warnings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Seconds, exactly, from nanoseconds (`12.5s`).
fn seconds(ns: u64) -> String {
    let (s, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{}s", format!("{frac:09}").trim_end_matches('0'))
    }
}

/// Plans a manifest from its bytes; relative URLs resolve against `manifest_url`.
pub fn plan(manifest: &[u8], manifest_url: &Url) -> Result<Plan, PlanError> {
    let mpd = parse_mpd(manifest)?;
    plan_mpd(&mpd, manifest_url)
}

/// Resolves the first non-empty BaseURL of a level against `parent`.
fn resolve_base(
    parent: &Url,
    base_urls: &[String],
    element: &str,
) -> Result<(Url, bool), PlanError> {
    // Several BaseURLs are alternatives (failover): the first is used.
    match base_urls.iter().find(|b| !b.is_empty()) {
        None => Ok((parent.clone(), false)),
        Some(b) => parent
            .join(b)
            .map(|u| (u, true))
            .map_err(|e| PlanError::BadBaseUrl {
                element: element.to_string(),
                value: b.clone(),
                message: e.to_string(),
            }),
    }
}

/// Plans a parsed manifest.
pub fn plan_mpd(mpd: &Mpd, manifest_url: &Url) -> Result<Plan, PlanError> {
    let timings = period_timings(mpd);
    let dynamic = mpd.presentation_type == PresentationType::Dynamic;
    let (mpd_base, mpd_has_base) = resolve_base(manifest_url, &mpd.base_urls, "MPD")?;
    let mut representations = Vec::new();
    let mut warnings = Vec::new();
    let mut planned = 0usize;
    for (period_index, (period, timing)) in mpd.periods.iter().zip(&timings).enumerate() {
        let period_label = period
            .id
            .clone()
            .unwrap_or_else(|| period_index.to_string());
        // 23009-1 §5.5: resolve-to-zero removes the Period; any other link holds content
        // that would be silently missing from the plan.
        if let Some(href) = &period.xlink_href
            && href != "urn:mpeg:dash:resolve-to-zero:2013"
            && period.adaptation_sets.is_empty()
        {
            return Err(PlanError::RemotePeriod {
                period: period_label,
                href: href.clone(),
            });
        }
        if period.xlink_href.as_deref() == Some("urn:mpeg:dash:resolve-to-zero:2013") {
            warnings.push(PlanWarning::RemovedPeriod {
                period: period_label.clone(),
            });
            continue;
        }
        if let (Some(start), Some(end)) = (timing.start, mpd.media_presentation_duration)
            && start > end
        {
            return Err(PlanError::PeriodAfterEnd {
                period: period_label,
                start: seconds(start),
                end: seconds(end),
            });
        }
        if period.stray_representations > 0 {
            warnings.push(PlanWarning::StrayRepresentations {
                period: period_label.clone(),
                count: period.stray_representations,
            });
        }
        if period.adaptation_sets.is_empty() {
            warnings.push(PlanWarning::NoAdaptationSet {
                period: period_label.clone(),
            });
        }
        let at = format!("Period {period_label}");
        let (period_base, period_has_base) = resolve_base(&mpd_base, &period.base_urls, &at)?;
        for (as_index, adaptation_set) in period.adaptation_sets.iter().enumerate() {
            let at = format!("{at}, AdaptationSet {as_index}");
            let (as_base, as_has_base) =
                resolve_base(&period_base, &adaptation_set.base_urls, &at)?;
            if adaptation_set.representations.is_empty() {
                warnings.push(PlanWarning::NoRepresentation {
                    period: period_label.clone(),
                    adaptation_set: as_index,
                });
            }
            for (rep_index, rep) in adaptation_set.representations.iter().enumerate() {
                let id = rep
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("{as_index}.{rep_index}"));
                let (base, rep_has_base) = resolve_base(
                    &as_base,
                    &rep.base_urls,
                    &format!("{at}, Representation {id}"),
                )?;
                let addressing = addressing::merge([
                    &period.segment_info,
                    &adaptation_set.segment_info,
                    &rep.segment_info,
                ]);
                let ctx = Context {
                    base: &base,
                    has_own_base_url: mpd_has_base
                        || period_has_base
                        || as_has_base
                        || rep_has_base,
                    representation_id: &id,
                    bandwidth: rep.bandwidth,
                    period_duration: timing.duration,
                    dynamic,
                    planned_before: planned,
                };
                let (timescale, addressed) =
                    addressing::resolve(&addressing, &ctx).map_err(|e| match e {
                        AddressingError::Invalid(message) => PlanError::Representation {
                            period: period_label.clone(),
                            adaptation_set: as_index,
                            representation: id.clone(),
                            message,
                        },
                        AddressingError::Live(reason) => PlanError::Live {
                            period: period_label.clone(),
                            adaptation_set: as_index,
                            representation: id.clone(),
                            reason,
                        },
                        AddressingError::TooMany => PlanError::TooManySegments,
                    })?;
                planned += addressed.len();
                if !addressed.iter().any(|a| a.kind == SegmentKind::Media) {
                    warnings.push(PlanWarning::NoMediaSegments {
                        period: period_label.clone(),
                        adaptation_set: as_index,
                        representation: id.clone(),
                        reason: addressing::why_no_media(&addressing),
                    });
                }
                let query = query::segment_query(
                    [
                        mpd.url_query.as_ref(),
                        period.url_query.as_ref(),
                        adaptation_set.url_query.as_ref(),
                        rep.url_query.as_ref(),
                    ],
                    manifest_url,
                )
                .map_err(|message| PlanError::Representation {
                    period: period_label.clone(),
                    adaptation_set: as_index,
                    representation: id.clone(),
                    message,
                })?;
                let segments = addressed
                    .into_iter()
                    .map(|mut a| {
                        if let Some(q) = &query {
                            query::append(&mut a.url, q);
                        }
                        a
                    })
                    .map(|a| Segment {
                        kind: a.kind,
                        path: layout::local_path(manifest_url, &a.url),
                        url: a.url,
                        range: a.range,
                        number: a.number,
                        time: a.time,
                        duration: a.duration,
                    })
                    .collect();
                representations.push(RepresentationPlan {
                    period: period_label.clone(),
                    period_index,
                    adaptation_set_index: as_index,
                    id,
                    mime_type: rep
                        .mime_type
                        .clone()
                        .or_else(|| adaptation_set.mime_type.clone()),
                    codecs: rep.codecs.clone().or_else(|| adaptation_set.codecs.clone()),
                    content_type: adaptation_set.content_type.clone(),
                    bandwidth: rep.bandwidth,
                    timescale,
                    segments,
                });
            }
        }
    }
    if planned == 0 {
        return Err(PlanError::NothingToDownload(warnings));
    }
    let mut plan = Plan {
        manifest_url: manifest_url.clone(),
        warnings,
        representations,
    };
    separate_colliding_paths(&mut plan);
    Ok(plan)
}

/// Different URLs that map to one local path (they differ only in their query, say) get the
/// query, or a hash, in their file names, so that no file overwrites another.
fn separate_colliding_paths(plan: &mut Plan) {
    let mut owner: HashMap<&PathBuf, &Url> = HashMap::new();
    let mut colliding: HashSet<PathBuf> = HashSet::new();
    for (_, segment) in plan.segments() {
        let first = owner.entry(&segment.path).or_insert(&segment.url);
        if !same_resource(first, &segment.url) {
            colliding.insert(segment.path.clone());
        }
    }
    if colliding.is_empty() {
        return;
    }
    for rep in &mut plan.representations {
        for segment in &mut rep.segments {
            if colliding.contains(&segment.path) {
                segment.path = layout::with_query_suffix(&segment.path, &segment.url);
            }
        }
    }
}

/// Same resource: equal URLs apart from the fragment.
fn same_resource(a: &Url, b: &Url) -> bool {
    a.as_str().split('#').next() == b.as_str().split('#').next()
}

#[cfg(test)]
mod tests;
