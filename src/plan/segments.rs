//! A Representation's segments, held compactly and expanded one at a time: the segments named
//! one by one are kept as they are (their number is bounded by the manifest's size), those of a
//! template as the template and its [`Positions`], so that a plan of millions of segments costs
//! the memory of its manifest, and going through it one segment's worth at a time.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use super::positions::{Positions, SlotIter};
use super::query;
use super::template::{Template, Values};
use super::{Segment, SegmentKind};
use crate::layout;

/// A 128-bit key of a local path, for the sets and tables of the plan that must not hold
/// every path (two different paths sharing a key is beyond any real chance).
pub(crate) fn path_key(path: &Path) -> u128 {
    key(path)
}

/// A 128-bit key of a text (a URL), byte for byte.
pub(crate) fn text_key(text: &str) -> u128 {
    key(text)
}

fn key<T: Hash + ?Sized>(value: &T) -> u128 {
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        value.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// Local paths that other resources share (different URLs, one path): they get the URL's
/// query in their names, and, where that is not enough, a hash of the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Renames {
    /// Keys of paths that get the query suffix.
    pub query: HashSet<u128>,
    /// Keys of query-suffixed paths that get a hash suffix too.
    pub hash: HashSet<u128>,
}

impl Renames {
    /// The final path of a segment whose path before renaming is `path`.
    pub fn apply(&self, path: PathBuf, url: &Url) -> PathBuf {
        if self.query.is_empty() || !self.query.contains(&path_key(&path)) {
            return path;
        }
        let renamed = layout::with_query_suffix(&path, url);
        if self.hash.contains(&path_key(&renamed)) {
            layout::with_url_hash_suffix(&renamed, url)
        } else {
            renamed
        }
    }
}

/// The segment of a template's `slot`: its number, time and duration.
fn slot_segment(
    kind: SegmentKind,
    url: Url,
    path: PathBuf,
    slot: super::positions::Slot,
) -> Segment {
    Segment {
        kind,
        url,
        range: None,
        path,
        number: Some(slot.number),
        time: Some(slot.time),
        duration: slot.duration,
    }
}

/// Media segments generated from a SegmentTemplate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Generated {
    /// The compiled `@media`.
    pub template: Template,
    /// Where each segment is.
    pub positions: Positions,
    /// The Representation's BaseURL.
    pub base: Url,
    /// The URL the plan resolves against (for local paths).
    pub manifest_url: Url,
    /// `Representation@id`.
    pub representation_id: String,
    /// `Representation@bandwidth`.
    pub bandwidth: Option<u64>,
    /// The query of URL query parameters (Annex I), added to every URL.
    pub query: Option<String>,
    /// The identifiers that vary are in the query only: every path gets the query as suffix.
    pub query_in_name: bool,
    /// The paths may meet other segments' paths: they go through the plan's renames.
    pub checked: bool,
    /// The local path as a template, where the analysis of paths showed that the layout
    /// treats every URL of the family alike: filling it in is the layout's result, cheaper.
    pub path_template: Option<Template>,
    /// `@index` with `$Number$`/`$Time$`: an Index Segment after each media segment (its
    /// paths always checked exactly).
    pub index: Option<Template>,
}

impl Generated {
    fn values(&self) -> Values<'_> {
        Values {
            representation_id: &self.representation_id,
            bandwidth: self.bandwidth,
            ..Values::default()
        }
    }

    /// The Index Segment of the media segment at `slot` (with an `@index` template), its path
    /// before renames.
    fn index_segment(
        &self,
        template: &Template,
        slot: super::positions::Slot,
        buffer: &mut String,
    ) -> Segment {
        let values = Values {
            number: Some(slot.number),
            time: Some(slot.time),
            sub_number: Some(slot.sub_number.unwrap_or(1)),
            ..self.values()
        };
        // Planning checked the first and last index URLs as it checks the media's.
        let _ = template.expand_into(&values, buffer);
        let mut url = self.base.join(buffer).unwrap_or_else(|_| self.base.clone());
        if let Some(q) = &self.query {
            query::append(&mut url, q);
        }
        let path = layout::local_path(&self.manifest_url, &url);
        slot_segment(SegmentKind::Index, url, path, slot)
    }

    /// The segment at `slot`, its path before renames; `fast`: from the path template when
    /// there is one. The buffers are reused across segments.
    fn segment(
        &self,
        slot: super::positions::Slot,
        buffers: &mut (String, String),
        fast: bool,
    ) -> Segment {
        let (buffer, path_buffer) = buffers;
        let values = Values {
            number: Some(slot.number),
            time: Some(slot.time),
            sub_number: Some(slot.sub_number.unwrap_or(1)),
            ..self.values()
        };
        // Both cannot fail: planning expanded and resolved the first and last segments, and
        // the identifiers that vary are only in the path or the query.
        let _ = self.template.expand_into(&values, buffer);
        let mut url = self.base.join(buffer).unwrap_or_else(|_| self.base.clone());
        if let Some(q) = &self.query {
            query::append(&mut url, q);
        }
        let path = match &self.path_template {
            Some(template) if fast && template.expand_into(&values, path_buffer).is_ok() => {
                PathBuf::from(path_buffer.as_str())
            }
            _ => {
                let path = layout::local_path(&self.manifest_url, &url);
                if self.query_in_name {
                    layout::with_query_suffix(&path, &url)
                } else {
                    path
                }
            }
        };
        slot_segment(SegmentKind::Media, url, path, slot)
    }

    /// The template with the varying identifiers as markers, resolved like a segment URL.
    pub fn pattern_url(&self) -> Option<Url> {
        let mut url = self
            .base
            .join(&self.template.pattern(&self.values()))
            .ok()?;
        if let Some(q) = &self.query {
            query::append(&mut url, q);
        }
        Some(url)
    }

    /// Every segment (media, and its index segment with an `@index` template), paths before
    /// renames and computed by the layout itself.
    pub fn raw_segments(&self) -> impl Iterator<Item = Segment> + '_ {
        let mut buffers = (String::new(), String::new());
        self.positions.iter().flat_map(move |slot| {
            let media = self.segment(slot, &mut buffers, false);
            let index = self
                .index
                .as_ref()
                .map(|t| self.index_segment(t, slot, &mut buffers.0));
            std::iter::once(media).chain(index)
        })
    }
}

/// Where a Representation's segments come from.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct SegmentSource {
    /// Segments named one by one (init, index, bitstream switching, listed media), paths
    /// before renames.
    pub listed: Vec<Segment>,
    /// Media segments of a template, after the listed ones.
    pub generated: Option<Generated>,
    /// The plan's renames.
    pub renames: Arc<Renames>,
}

impl SegmentSource {
    /// How many segments.
    pub fn count(&self) -> usize {
        let generated = self.generated.as_ref().map_or(0, |g| {
            let per_slot = if g.index.is_some() { 2 } else { 1 };
            usize::try_from(g.positions.count().saturating_mul(per_slot)).unwrap_or(usize::MAX)
        });
        self.listed.len() + generated
    }

    /// Every segment, in order, computed one at a time.
    pub fn iter(&self) -> Segments<'_> {
        Segments {
            listed: self.listed.iter(),
            generated: self.generated.as_ref().map(|g| (g, g.positions.iter())),
            buffers: (String::new(), String::new()),
            renames: &self.renames,
            index: None,
        }
    }
}

/// The segments of a Representation, in plan order, computed one at a time: see
/// [`super::RepresentationPlan::segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    listed: std::slice::Iter<'a, Segment>,
    generated: Option<(&'a Generated, SlotIter<'a>)>,
    buffers: (String, String),
    renames: &'a Renames,
    /// The index segment of the media segment just given, next.
    index: Option<Segment>,
}

impl Iterator for Segments<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        if let Some(segment) = self.listed.next() {
            let mut segment = segment.clone();
            segment.path = self.renames.apply(segment.path, &segment.url);
            return Some(segment);
        }
        if let Some(index) = self.index.take() {
            return Some(index);
        }
        let (generated, slots) = self.generated.as_mut()?;
        let slot = slots.next()?;
        let mut segment = generated.segment(slot, &mut self.buffers, true);
        if generated.checked {
            segment.path = self.renames.apply(segment.path, &segment.url);
        }
        if let Some(template) = &generated.index {
            let mut index = generated.index_segment(template, slot, &mut self.buffers.0);
            index.path = self.renames.apply(index.path, &index.url);
            self.index = Some(index);
        }
        Some(segment)
    }
}
