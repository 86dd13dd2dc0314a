//! The typed model of a manifest: just what planning and discovery need, with every
//! attribute kept optional as written, so that inheritance can merge them level by level.

/// `MPD@type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresentationType {
    /// On-demand: every segment exists.
    Static,
    /// Live: segments appear over time.
    Dynamic,
}

/// The `MPD` element.
#[derive(Debug, Clone, PartialEq)]
pub struct Mpd {
    /// `@type` (default static).
    pub presentation_type: PresentationType,
    /// `@mediaPresentationDuration`, in nanoseconds.
    pub media_presentation_duration: Option<u64>,
    /// `BaseURL` children, in document order.
    pub base_urls: Vec<BaseUrl>,
    /// URL query information (ISO/IEC 23009-1 Annex I) at this level.
    pub url_query: Option<UrlQueryInfo>,
    /// The Periods, in document order.
    pub periods: Vec<Period>,
    /// The live attributes (availability, refresh, `UTCTiming`, per-Representation
    /// `@availabilityTimeOffset`). Strict in a dynamic manifest; in a static one, where nothing
    /// needs them, a malformed one leaves them all at their defaults.
    pub live: super::live::LiveAttributes,
}

/// A `BaseURL` element: the URL, and what tells several apart (ISO/IEC 23009-1 §5.6.4
/// `@serviceLocation`; DVB-DASH (ETSI TS 103 285 §10.8) `@dvb:priority`, `@dvb:weight`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BaseUrl {
    /// The URL, as written (trimmed).
    pub url: String,
    /// `@serviceLocation`.
    pub service_location: Option<String>,
    /// `@dvb:priority`: lower is preferred.
    pub priority: Option<u32>,
    /// `@dvb:weight`: share among BaseURLs of one priority.
    pub weight: Option<u32>,
}

/// `UrlQueryInfo` (or `ExtUrlQueryInfo`) of an `EssentialProperty`/`SupplementalProperty` with
/// `@schemeIdUri` `urn:mpeg:dash:urlparam:2014` or `:2016` (ISO/IEC 23009-1 Annex I): a query
/// added to the segment URLs of the element that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UrlQueryInfo {
    /// Whether it is the 2016 form (`ExtUrlQueryInfo` or scheme `:2016`), which applies from the
    /// MPD down to the Representation; the 2014 form applies from the Representation up.
    pub extended: bool,
    /// `@queryTemplate` (`$querypart$`, `$query:NAME$`, `$$`).
    pub query_template: Option<String>,
    /// `@useMPDUrlQuery`: the manifest URL's query is part of the initial query string.
    pub use_mpd_url_query: bool,
    /// `@queryString`: a fixed part of the initial query string.
    pub query_string: Option<String>,
    /// `@includeInRequests` (2016 form; default `segment`).
    pub include_in_requests: Option<String>,
}

/// A `Period`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Period {
    /// `@id`.
    pub id: Option<String>,
    /// `@start`, in nanoseconds.
    pub start: Option<u64>,
    /// `@duration`, in nanoseconds.
    pub duration: Option<u64>,
    /// `@xlink:href`, for remote Periods (not resolved).
    pub xlink_href: Option<String>,
    /// `BaseURL` children.
    pub base_urls: Vec<BaseUrl>,
    /// URL query information (Annex I) at this level.
    pub url_query: Option<UrlQueryInfo>,
    /// Segment information at this level.
    pub segment_info: SegmentInfo,
    /// `Representation` elements placed directly under the Period (not valid: not planned).
    pub stray_representations: usize,
    /// The AdaptationSets, in document order.
    pub adaptation_sets: Vec<AdaptationSet>,
}

/// An `AdaptationSet`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdaptationSet {
    /// `@id`.
    pub id: Option<String>,
    /// `@contentType`.
    pub content_type: Option<String>,
    /// `@mimeType`.
    pub mime_type: Option<String>,
    /// `@codecs`.
    pub codecs: Option<String>,
    /// `@lang`.
    pub lang: Option<String>,
    /// `Role@value` of the first `Role` child (what a live recorder follows a track by across
    /// Periods when the AdaptationSet has no `@id`).
    pub role: Option<String>,
    /// `BaseURL` children.
    pub base_urls: Vec<BaseUrl>,
    /// URL query information (Annex I) at this level.
    pub url_query: Option<UrlQueryInfo>,
    /// Segment information at this level.
    pub segment_info: SegmentInfo,
    /// Its descriptive attributes and elements as written (all but `@id`, `@contentType`,
    /// addressing and Representations), for a writer that keeps them.
    pub source: SourceXml,
    /// The Representations, in document order.
    pub representations: Vec<Representation>,
}

/// What an element of the manifest says besides what the model reads, as written: its
/// attributes (qualified names, unescaped values) and child elements (their XML text, with the
/// namespace prefixes they use), so that a manifest written from the model (a live recording's)
/// keeps `@lang`, `Role`, `AudioChannelConfiguration`, `ContentProtection` and the rest.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SourceXml {
    /// Attributes, in document order.
    pub attributes: Vec<(String, String)>,
    /// Child elements, in document order, as XML text.
    pub children: Vec<String>,
    /// Namespace prefixes the attributes and children use: (prefix, URI).
    pub namespaces: Vec<(String, String)>,
}

/// A `Representation`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Representation {
    /// `@id` (mandatory in the schema; `None` when a manifest leaves it out).
    pub id: Option<String>,
    /// `@bandwidth`.
    pub bandwidth: Option<u64>,
    /// `@mimeType`.
    pub mime_type: Option<String>,
    /// `@codecs`.
    pub codecs: Option<String>,
    /// `BaseURL` children.
    pub base_urls: Vec<BaseUrl>,
    /// URL query information (Annex I) at this level.
    pub url_query: Option<UrlQueryInfo>,
    /// Segment information at this level.
    pub segment_info: SegmentInfo,
    /// Its descriptive attributes and elements as written (all but `@id`, `@bandwidth`,
    /// `@mimeType`, `@codecs` and addressing).
    pub source: SourceXml,
}

/// The segment information elements of one level (at most one of each).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentInfo {
    /// `SegmentBase`.
    pub base: Option<SegmentBase>,
    /// `SegmentList`.
    pub list: Option<SegmentList>,
    /// `SegmentTemplate`.
    pub template: Option<SegmentTemplate>,
}

/// A URL with an optional byte range (`Initialization`, `RepresentationIndex`,
/// `BitstreamSwitching`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UrlWithRange {
    /// `@sourceURL`.
    pub source_url: Option<String>,
    /// `@range`, as written (`first-last`).
    pub range: Option<String>,
}

/// Attributes shared by SegmentBase, SegmentList and SegmentTemplate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommonSegmentAttributes {
    /// `@timescale`.
    pub timescale: Option<u64>,
    /// `@presentationTimeOffset`.
    pub presentation_time_offset: Option<u64>,
    /// `@indexRange`.
    pub index_range: Option<String>,
    /// `Initialization` child.
    pub initialization: Option<UrlWithRange>,
    /// `RepresentationIndex` child.
    pub representation_index: Option<UrlWithRange>,
    /// `BitstreamSwitching` child (SegmentList, SegmentTemplate).
    pub bitstream_switching: Option<UrlWithRange>,
    /// `@duration`, in timescale units, as a decimal scaled by 10^9 (vendors write fractions).
    pub duration_e9: Option<u128>,
    /// `@startNumber`.
    pub start_number: Option<u64>,
    /// `@endNumber`.
    pub end_number: Option<u64>,
    /// `SegmentTimeline` child.
    pub timeline: Option<Vec<TimelineEntry>>,
}

/// `SegmentBase`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentBase {
    /// Its attributes.
    pub common: CommonSegmentAttributes,
}

/// `SegmentList`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentList {
    /// Its attributes.
    pub common: CommonSegmentAttributes,
    /// `SegmentURL` children, in order.
    pub segment_urls: Vec<SegmentUrl>,
}

/// A `SegmentURL`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentUrl {
    /// `@media`.
    pub media: Option<String>,
    /// `@mediaRange`.
    pub media_range: Option<String>,
}

/// `SegmentTemplate`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentTemplate {
    /// Its attributes.
    pub common: CommonSegmentAttributes,
    /// `@media`.
    pub media: Option<String>,
    /// `@initialization`.
    pub initialization: Option<String>,
    /// `@index`: the Representation Index Segment (a template).
    pub index: Option<String>,
    /// `@bitstreamSwitching`: the Bitstream Switching Segment (a template).
    pub bitstream_switching: Option<String>,
}

/// An `S` element of a `SegmentTimeline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimelineEntry {
    /// `@t` (may be negative).
    pub t: Option<i64>,
    /// `@n`: the number of the first segment of this entry.
    pub n: Option<u64>,
    /// `@d`.
    pub d: u64,
    /// `@r` (`-1`: repeat to the next `@t` or the end of the Period).
    pub r: i64,
    /// `@k`: segments in the sequence that share `$Number$`/`$Time$` (`$SubNumber$` 1..k).
    pub k: Option<u64>,
}
