//! From a parsed manifest to the exact, ordered list of every segment of every representation.
//! Pure functions, no I/O. The plan streams: a representation keeps its segments in a compact
//! form (the segments named one by one, and a template with its timeline runs) and computes
//! them one at a time ([`RepresentationPlan::segments`]); counts, the segment cap and the files
//! that segments share are known without expanding anything.
//!
//! Conventions (DESIGN.md): periods in order, representations in document order within each,
//! the init segment first and then the media segments; URLs resolved by RFC 3986 §5.2.

pub(crate) mod addressing;
mod error;
pub mod list;
mod media;
mod paths;
pub(crate) mod positions;
mod query;
mod segments;
pub mod template;
mod timing;

use std::path::{Path, PathBuf};

use serde::Serialize;
use url::Url;

use addressing::AddressingError;
use addressing::Context;
pub use addressing::MAX_SEGMENTS;
use error::seconds;
pub use error::{PlanError, PlanWarning};
pub use paths::SharedFile;
pub(crate) use query::{append as append_query, segment_query};
pub use segments::Segments;
pub use timing::{PeriodTiming, period_timings};

use crate::layout;
use crate::mpd::{Mpd, PresentationType, parse_mpd};
use segments::{Generated, SegmentSource};

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

/// One Representation of the plan: what it is, and its segments in a compact form that
/// [`RepresentationPlan::segments`] expands one segment at a time.
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
    /// `SegmentBase@indexRange`: where the index (`sidx`) of its one resource is, to expand it
    /// into subsegments (`dashget --list --expand-index`).
    pub index_range: Option<ByteRange>,
    /// Its BaseURLs, resolved, in the order they are tried (several `BaseURL`s at any level):
    /// the first names the segments (and their local paths), the others serve them when it
    /// fails. One or none when the manifest offers no alternative.
    pub bases: Vec<Url>,
    /// Where the segments come from.
    source: SegmentSource,
}

/// The plan of a whole presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The URL the manifest was resolved against (its own URL, or `--base-url`).
    pub manifest_url: Url,
    /// Representations: periods in order, representations in document order within each.
    /// To keep some of them, use [`Plan::retain_representations`] (or build a new plan with
    /// [`Plan::new`]): the plan's files are computed from them.
    pub representations: Vec<RepresentationPlan>,
    /// What the manifest holds that gives nothing to download, for the user to see.
    pub warnings: Vec<PlanWarning>,
    /// The files of the plan.
    files: paths::Files,
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

impl RepresentationPlan {
    /// A representation whose segments are given one by one (for tools and tests); the other
    /// fields are empty and may be set.
    pub fn from_segments(period: &str, id: &str, segments: Vec<Segment>) -> RepresentationPlan {
        RepresentationPlan {
            period: period.to_string(),
            period_index: 0,
            adaptation_set_index: 0,
            id: id.to_string(),
            mime_type: None,
            codecs: None,
            content_type: None,
            bandwidth: None,
            timescale: 1,
            index_range: None,
            bases: Vec::new(),
            source: SegmentSource {
                listed: segments,
                ..SegmentSource::default()
            },
        }
    }

    /// The resource at `url` at each alternative BaseURL after the first, in failover order:
    /// empty when there is none, or when `url` is not below the first (an absolute media URL).
    pub fn alternates(&self, url: &Url) -> Vec<Url> {
        alternates_of(&self.bases, url)
    }

    /// Its segments in plan order: init, index, bitstream switching, then media in
    /// presentation order. Each is computed when it is reached: nothing is held for it.
    pub fn segments(&self) -> Segments<'_> {
        self.source.iter()
    }

    /// How many segments, without computing them.
    pub fn segment_count(&self) -> usize {
        self.source.count()
    }
}

impl Plan {
    /// A plan of these representations (for tools and tests; [`plan`] makes them from a
    /// manifest). Local paths that different URLs share are renamed here.
    pub fn new(
        manifest_url: Url,
        mut representations: Vec<RepresentationPlan>,
        warnings: Vec<PlanWarning>,
    ) -> Plan {
        let files = paths::analyse(&mut representations);
        Plan {
            manifest_url,
            representations,
            warnings,
            files,
        }
    }

    /// Every segment, in plan order, with the representation it belongs to; computed one at a
    /// time.
    pub fn segments(&self) -> impl Iterator<Item = (&RepresentationPlan, Segment)> + '_ {
        self.representations
            .iter()
            .flat_map(|r| r.segments().map(move |s| (r, s)))
    }

    /// How many segments, without computing them.
    pub fn segment_count(&self) -> usize {
        self.representations
            .iter()
            .map(RepresentationPlan::segment_count)
            .sum()
    }

    /// How many local files (distinct paths): segments that are byte ranges of one resource,
    /// or that several representations share, are one file.
    pub fn file_count(&self) -> usize {
        self.files.count
    }

    /// The file at `path` when several segments share it (`None`: one segment, or a run of
    /// segments that follow each other in the plan with one URL).
    pub fn shared_file(&self, path: &Path) -> Option<(u128, SharedFile)> {
        if self.files.shared.is_empty() {
            return None;
        }
        let key = segments::path_key(path);
        self.files.shared.get(&key).map(|f| (key, *f))
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
        self.files = paths::analyse(&mut self.representations);
        unknown
    }
}

/// Plans a manifest from its bytes; relative URLs resolve against `manifest_url`.
pub fn plan(manifest: &[u8], manifest_url: &Url) -> Result<Plan, PlanError> {
    let mpd = parse_mpd(manifest)?;
    plan_mpd(&mpd, manifest_url)
}

/// Resolves the first non-empty BaseURL of a level against `parent` (the live presentation
/// resolves its levels with it too); also says whether the level has one.
pub(crate) fn resolve_base(
    parent: &Url,
    base_urls: &[crate::mpd::BaseUrl],
    element: &str,
) -> Result<(Url, bool), PlanError> {
    // Several BaseURLs are alternatives: the first (in document order) is used here.
    match base_urls.iter().find(|b| !b.url.is_empty()) {
        None => Ok((parent.clone(), false)),
        Some(b) => parent
            .join(&b.url)
            .map(|u| (u, true))
            .map_err(|e| PlanError::BadBaseUrl {
                element: element.to_string(),
                value: b.url.clone(),
                message: e.to_string(),
            }),
    }
}

/// A Representation's BaseURLs, resolved level by level (MPD, Period, AdaptationSet,
/// Representation) from `manifest_url`, in the order they are tried (see
/// [`RepresentationPlan::bases`]): what the live recorder resolves its segments against.
pub(crate) fn representation_bases(
    manifest_url: &Url,
    levels: [&[crate::mpd::BaseUrl]; 4],
) -> Result<Vec<Url>, String> {
    let mut bases = vec![Base {
        url: manifest_url.clone(),
        priority: 1,
        weight: None,
    }];
    for level in levels {
        bases = resolve_bases(&bases, level, "BaseURL")
            .map_err(|e| e.to_string())?
            .0;
    }
    Ok(failover_order(
        &bases,
        segments::text_key(manifest_url.as_str()),
    ))
}

/// The resource at `url` at each BaseURL of `bases` after the first (see
/// [`RepresentationPlan::alternates`]).
pub(crate) fn alternates_of(bases: &[Url], url: &Url) -> Vec<Url> {
    let Some((first, others)) = bases.split_first() else {
        return Vec::new();
    };
    let Some(rest) = url.as_str().strip_prefix(first.as_str()) else {
        return Vec::new();
    };
    others
        .iter()
        .filter_map(|base| Url::parse(&format!("{}{rest}", base.as_str())).ok())
        .collect()
}

/// One place a Representation's segments may come from: a BaseURL resolved against one of
/// the level above's, with its DVB priority and weight (inherited from the level that set
/// them).
#[derive(Debug, Clone, PartialEq)]
struct Base {
    url: Url,
    priority: u32,
    /// `@dvb:weight`, when one was given.
    weight: Option<u32>,
}

/// The alternatives of a level: each of its BaseURLs resolved against each alternative of the
/// level above (an absolute one once), in document order; the level above's when it names
/// none. Also whether it names any.
fn resolve_bases(
    parents: &[Base],
    base_urls: &[crate::mpd::BaseUrl],
    element: &str,
) -> Result<(Vec<Base>, bool), PlanError> {
    let own: Vec<&crate::mpd::BaseUrl> = base_urls.iter().filter(|b| !b.url.is_empty()).collect();
    if own.is_empty() {
        return Ok((parents.to_vec(), false));
    }
    let mut out: Vec<Base> = Vec::new();
    for b in own {
        for parent in parents {
            let url = parent.url.join(&b.url).map_err(|e| PlanError::BadBaseUrl {
                element: element.to_string(),
                value: b.url.clone(),
                message: e.to_string(),
            })?;
            if out.iter().any(|o| o.url == url) {
                continue;
            }
            out.push(Base {
                url,
                priority: b.priority.unwrap_or(parent.priority),
                weight: b.weight.or(parent.weight),
            });
        }
    }
    Ok((out, true))
}

/// The alternatives in the order they are tried (DVB-DASH, ETSI TS 103 285 §10.8.2): the
/// lowest `@dvb:priority` first, chosen among equals by `@dvb:weight` where weights are given
/// (with a draw that `seed` makes the same on every run, so that local paths do not move),
/// then the others by priority, in document order. Without DVB attributes: document order.
fn failover_order(bases: &[Base], seed: u128) -> Vec<Url> {
    let mut order: Vec<&Base> = bases.iter().collect();
    order.sort_by_key(|b| b.priority);
    let Some(top) = order.first().map(|b| b.priority) else {
        return Vec::new();
    };
    let equals = order.iter().take_while(|b| b.priority == top).count();
    let weight = |b: &Base| u128::from(b.weight.unwrap_or(1));
    let weighted = order[..equals].iter().any(|b| b.weight.is_some());
    let total: u128 = order[..equals].iter().map(|b| weight(b)).sum();
    if equals > 1 && weighted && total > 0 {
        let mut draw = seed % total;
        let pick = order[..equals]
            .iter()
            .position(|b| {
                let w = weight(b);
                if draw < w {
                    true
                } else {
                    draw -= w;
                    false
                }
            })
            .unwrap_or(0);
        let chosen = order.remove(pick);
        order.insert(0, chosen);
    }
    order.into_iter().map(|b| b.url.clone()).collect()
}

/// Plans a parsed manifest.
pub fn plan_mpd(mpd: &Mpd, manifest_url: &Url) -> Result<Plan, PlanError> {
    let timings = period_timings(mpd);
    let dynamic = mpd.presentation_type == PresentationType::Dynamic;
    let root = [Base {
        url: manifest_url.clone(),
        priority: 1,
        weight: None,
    }];
    let (mpd_bases, mpd_has_base) = resolve_bases(&root, &mpd.base_urls, "MPD")?;
    let seed = segments::text_key(manifest_url.as_str());
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
        // A Period that starts after the presentation's end: what its segment information
        // names is planned (a SegmentTimeline names every segment), with a warning; what needs
        // its end to be planned is refused, naming this cause.
        let after_end = match (timing.start, mpd.media_presentation_duration) {
            (Some(start), Some(end)) if start > end => {
                warnings.push(PlanWarning::PeriodAfterEnd {
                    period: period_label.clone(),
                    start: seconds(start),
                    end: seconds(end),
                });
                Some((seconds(start), seconds(end)))
            }
            _ => None,
        };
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
        let (period_bases, period_has_base) = resolve_bases(&mpd_bases, &period.base_urls, &at)?;
        for (as_index, adaptation_set) in period.adaptation_sets.iter().enumerate() {
            let at = format!("{at}, AdaptationSet {as_index}");
            let (as_bases, as_has_base) =
                resolve_bases(&period_bases, &adaptation_set.base_urls, &at)?;
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
                let (rep_bases, rep_has_base) = resolve_bases(
                    &as_bases,
                    &rep.base_urls,
                    &format!("{at}, Representation {id}"),
                )?;
                // The first choice names the segments and their local paths; the others are
                // where they are tried when it fails.
                let bases = failover_order(&rep_bases, seed);
                let base = bases
                    .first()
                    .cloned()
                    .unwrap_or_else(|| manifest_url.clone());
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
                    open_end: false,
                };
                let resolved = addressing::resolve(&addressing, &ctx).map_err(|e| match e {
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
                    AddressingError::NoPeriodEnd(_) if after_end.is_some() => {
                        let (start, end) = after_end.clone().unwrap_or_default();
                        PlanError::PeriodAfterEnd {
                            period: period_label.clone(),
                            start,
                            end,
                        }
                    }
                    AddressingError::NoPeriodEnd(message) => PlanError::Representation {
                        period: period_label.clone(),
                        adaptation_set: as_index,
                        representation: id.clone(),
                        message,
                    },
                })?;
                // Below the cap: the count fits.
                planned =
                    planned.saturating_add(usize::try_from(resolved.count()).unwrap_or(usize::MAX));
                if !resolved.has_media() {
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
                let listed = resolved
                    .listed
                    .into_iter()
                    .map(|mut a| {
                        if let Some(q) = &query {
                            query::append(&mut a.url, q);
                        }
                        Segment {
                            kind: a.kind,
                            path: layout::local_path(manifest_url, &a.url),
                            url: a.url,
                            range: a.range,
                            number: a.number,
                            time: a.time,
                            duration: a.duration,
                        }
                    })
                    .collect();
                let generated = resolved.generated.map(|g| Generated {
                    template: g.template,
                    positions: g.positions,
                    base: base.clone(),
                    manifest_url: manifest_url.clone(),
                    representation_id: id.clone(),
                    bandwidth: rep.bandwidth,
                    query: query.clone(),
                    query_in_name: false,
                    checked: false,
                    path_template: None,
                    index: g.index,
                });
                let timescale = resolved.timescale;
                let index_range = resolved.index_range;
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
                    index_range,
                    bases,
                    source: SegmentSource {
                        listed,
                        generated,
                        ..SegmentSource::default()
                    },
                });
            }
        }
    }
    if planned == 0 {
        return Err(PlanError::NothingToDownload(warnings));
    }
    Ok(Plan::new(manifest_url.clone(), representations, warnings))
}

#[cfg(test)]
mod tests;
