//! From a parsed manifest to the exact, ordered list of every segment of every representation.
//! Pure functions, no I/O.

use std::path::PathBuf;

use serde::Serialize;
use url::Url;

/// Whether a segment is a representation's initialization segment or one of its media segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentKind {
    /// The initialization segment (`Initialization`, `@initialization`).
    Init,
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
    /// The segments, init first then media, in presentation order.
    pub segments: Vec<Segment>,
}

/// The plan of a whole presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The URL the manifest was resolved against (its own URL, or `--base-url`).
    pub manifest_url: Url,
    /// Representations: periods in order, representations in document order within each.
    pub representations: Vec<RepresentationPlan>,
}
