//! Why a manifest cannot be planned, and what of it contributes nothing (warnings).

use super::MAX_SEGMENTS;
use crate::mpd::ParseError;

/// Why a manifest cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The manifest could not be parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A live manifest whose segments depend on the wall clock.
    #[error(
        "a live manifest whose segments depend on the clock is recorded from its URL, not planned from a file: period {period}, adaptation set {adaptation_set}, representation \"{representation}\": {reason}"
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
    /// A Period that starts after the end of the presentation, whose segments need its end.
    #[error(
        "period {period} starts at {start}, after the end of the presentation (MPD@mediaPresentationDuration {end}): its segments need the Period's end"
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
pub(super) fn seconds(ns: u64) -> String {
    let (s, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{}s", format!("{frac:09}").trim_end_matches('0'))
    }
}

/// Something of the manifest that contributes nothing to the plan: never silent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanWarning {
    /// A Period that starts after the end of the presentation (planned as far as its segment
    /// information names its segments).
    #[error(
        "period {period} starts at {start}, after the end of the presentation (MPD@mediaPresentationDuration {end}); planned as its segment information names it"
    )]
    PeriodAfterEnd {
        /// The Period (id or index).
        period: String,
        /// Its start, as seconds.
        start: String,
        /// The presentation's duration, as seconds.
        end: String,
    },
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
