//! Local paths across the whole plan, without holding them all: which segments share a file
//! (byte ranges of one resource, one init segment for several representations), and which
//! different URLs would share a path (they differ only in their query, say) and must be
//! renamed so that no file overwrites another.
//!
//! The segments named one by one are bounded by the manifest's size and are checked exactly.
//! The media segments of a template are checked by reasoning on its pattern (the URL with a
//! marker for each identifier that varies): a family whose numbers or times only grow, whose
//! pattern cannot produce the same string twice, and whose literal prefix or suffix sets it
//! apart from every other path, cannot share a path with anything, and costs nothing. Any
//! family that cannot be shown apart is checked exactly, like the named segments.

use std::collections::HashMap;
use std::sync::Arc;

use url::Url;

use super::RepresentationPlan;
use super::segments::{Generated, Renames, path_key, text_key};
use super::template::{MARKER_CLOSE, MARKER_OPEN, Template};
use crate::layout;

/// A local file several segments of the plan share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedFile {
    /// Segments it holds.
    pub segments: usize,
    /// One past the last byte a segment addresses (0 when none names a range).
    pub min_size: u64,
}

/// What the plan knows of its files.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Files {
    /// Files of more than one segment, by [`path_key`].
    pub shared: HashMap<u128, SharedFile>,
    /// How many files (distinct paths) the plan has.
    pub count: usize,
}

/// The percent-encoded form of [`MARKER_OPEN`] in a URL.
const ENCODED_OPEN: &str = "%EE%80%80";

/// What the pattern of a template family tells about its paths.
#[derive(Debug)]
struct Family {
    /// Index of the representation.
    rep: usize,
    /// The local path with markers.
    path: String,
    /// Byte offsets: end of the literal prefix, start of the literal suffix.
    prefix_end: usize,
    suffix_start: usize,
    /// Markers in the path.
    markers: usize,
    /// Values are decimal only.
    decimal: bool,
    /// `$Number$` used and only growing, with its bounds.
    numbers: Option<(u64, u64)>,
    /// `$Time$` used and only growing, with its bounds.
    times: Option<(i64, i64)>,
    /// Whether the reasoning holds (else: checked exactly).
    sound: bool,
    /// Files it makes (segments that share one URL in a row make one).
    files: usize,
}

impl Family {
    fn of(rep: usize, g: &Generated) -> Family {
        let mut family = Family {
            rep,
            path: String::new(),
            prefix_end: 0,
            suffix_start: 0,
            markers: 0,
            decimal: g.template.is_decimal(),
            numbers: None,
            times: None,
            sound: false,
            files: 0,
        };
        let Some(url) = g.pattern_url() else {
            return family;
        };
        let mut path = layout::local_path(&g.manifest_url, &url);
        if g.query_in_name {
            path = layout::with_query_suffix(&path, &url);
        }
        let path = path.to_string_lossy().into_owned();
        // The identifiers that vary in the URL (path and query) and in the local path.
        let mut in_url = url.path().to_string();
        if let Some(q) = url.query() {
            in_url.push_str(q);
        }
        let url_has = |initial: &str| in_url.contains(&format!("{ENCODED_OPEN}{initial}"));
        let path_has = |initial: &str| path.contains(&format!("{MARKER_OPEN}{initial}"));
        let (number, time, sub) = (url_has("N"), url_has("T"), url_has("S"));
        let count = g.positions.count();
        let bounds = g.positions.bounds();
        family.numbers = (number && path_has("N") && g.positions.numbers_increase())
            .then(|| bounds.map(|b| b.0))
            .flatten();
        family.times = (time && path_has("T") && g.positions.times_increase())
            .then(|| bounds.map(|b| b.1))
            .flatten();
        // Segments with one path have one URL: every identifier that varies in the URL is in
        // the path. Segments with one URL follow each other: no identifier varies, or the
        // numbers or the times grow, or a single position numbers its sub-segments.
        let url_in_path =
            (!number || path_has("N")) && (!time || path_has("T")) && (!sub || path_has("S"));
        let in_a_row = !(number || time || sub)
            || count <= 1
            || family.numbers.is_some()
            || family.times.is_some()
            || (!number && !time && g.positions.distinct_positions() <= 1);
        family.files = if !(number || time || sub) {
            usize::from(count > 0)
        } else if sub {
            usize::try_from(count).unwrap_or(usize::MAX)
        } else {
            usize::try_from(g.positions.distinct_positions()).unwrap_or(usize::MAX)
        };
        family.markers = path.matches(MARKER_OPEN).count();
        family.prefix_end = path.find(MARKER_OPEN).unwrap_or(path.len());
        family.suffix_start = path
            .rfind(MARKER_CLOSE)
            .map_or(path.len(), |i| i + MARKER_CLOSE.len_utf8());
        // A name longer than the layout's limit is cut and hashed: its pattern tells nothing.
        let longest = path
            .split('/')
            .map(|c| c.len() + c.matches(MARKER_OPEN).count() * 24)
            .max()
            .unwrap_or(0);
        family.sound = url_in_path
            && in_a_row
            && g.template.is_unambiguous()
            && url_is_sound(&url, &g.manifest_url)
            && longest <= layout::MAX_NAME;
        family.path = path;
        family
    }

    fn prefix(&self) -> &str {
        &self.path[..self.prefix_end]
    }

    fn suffix(&self) -> &str {
        &self.path[self.suffix_start.max(self.prefix_end)..]
    }

    /// Whether one of its paths can be `path`.
    fn could_be(&self, path: &str) -> bool {
        if self.markers == 0 {
            return self.path == path;
        }
        let (prefix, suffix) = (self.prefix(), self.suffix());
        if path.len() < prefix.len() + suffix.len()
            || !path.starts_with(prefix)
            || !path.ends_with(suffix)
        {
            return false;
        }
        if self.markers > 1 {
            return true;
        }
        let middle = &path[prefix.len()..path.len() - suffix.len()];
        !middle.is_empty()
            && middle
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || (!self.decimal && c.is_ascii_hexdigit()))
    }

    /// Whether no path of `self` can be a path of `other`.
    fn apart_from(&self, other: &Family) -> bool {
        if self.markers == 0 {
            return !other.could_be(&self.path);
        }
        if other.markers == 0 {
            return !self.could_be(&other.path);
        }
        if self.path == other.path {
            // One pattern: apart when their growing numbers or times do not overlap.
            let apart = |a: Option<(i128, i128)>, b: Option<(i128, i128)>| {
                a.zip(b).is_some_and(|(a, b)| a.1 < b.0 || b.1 < a.0)
            };
            let wide_n = |f: &Family| f.numbers.map(|(a, b)| (i128::from(a), i128::from(b)));
            let wide_t = |f: &Family| f.times.map(|(a, b)| (i128::from(a), i128::from(b)));
            return apart(wide_n(self), wide_n(other)) || apart(wide_t(self), wide_t(other));
        }
        let differ_at_start = |a: &str, b: &str| {
            let n = a.len().min(b.len());
            a.as_bytes()[..n] != b.as_bytes()[..n]
        };
        let differ_at_end = |a: &str, b: &str| {
            let n = a.len().min(b.len());
            a.as_bytes()[a.len() - n..] != b.as_bytes()[b.len() - n..]
        };
        differ_at_start(self.prefix(), other.prefix())
            || differ_at_end(self.suffix(), other.suffix())
    }
}

/// Whether the layout treats every URL of a pattern alike: no value can complete a
/// percent-escape, vary the fragment, or decide whether the path is below the manifest's folder.
fn url_is_sound(url: &Url, manifest: &Url) -> bool {
    let text = url.as_str();
    let escapes_before = text.match_indices(ENCODED_OPEN).any(|(i, _)| {
        let before = &text[i.saturating_sub(2)..i];
        before.contains('%')
    });
    if escapes_before
        || url
            .fragment()
            .is_some_and(|f| f.contains(ENCODED_OPEN) || f.contains(MARKER_OPEN))
    {
        return false;
    }
    let path = url.path();
    let Some(first) = path.find(ENCODED_OPEN) else {
        return true;
    };
    let prefix = &path[..first];
    let folder = layout::manifest_folder(manifest);
    // A prefix that is a proper start of the folder: some values would be below it, some not.
    !(folder.starts_with(prefix) && prefix.len() < folder.len())
}

/// Decides, for the representations of a plan, which template families need their paths
/// checked, which paths are renamed, and which files several segments share.
pub(crate) fn analyse(representations: &mut [RepresentationPlan]) -> Files {
    let mut families: Vec<Family> = Vec::new();
    for (i, rep) in representations.iter_mut().enumerate() {
        if let Some(g) = rep.source.generated.as_mut() {
            g.checked = false;
            g.query_in_name = false;
            g.path_template = None;
            if let Some(url) = g.pattern_url() {
                let in_path = url.path().contains(ENCODED_OPEN);
                let in_query = url.query().is_some_and(|q| q.contains(ENCODED_OPEN));
                g.query_in_name = !in_path && in_query && g.positions.count() > 1;
            }
            families.push(Family::of(i, g));
        }
    }
    // Families apart from each other and from every path named one by one.
    let mut checked = vec![false; families.len()];
    for (a, family) in families.iter().enumerate() {
        // A family with index segments beside its media is checked exactly (both paths).
        let indexed = representations[family.rep]
            .source
            .generated
            .as_ref()
            .is_some_and(|g| g.index.is_some());
        if !family.sound || indexed {
            checked[a] = true;
        }
        for (b, other) in families.iter().enumerate().skip(a + 1) {
            if !family.sound || !other.sound || !family.apart_from(other) {
                checked[a] = true;
                checked[b] = true;
            }
        }
    }
    for (a, family) in families.iter().enumerate() {
        if checked[a] {
            continue;
        }
        let meets_a_named_path = representations.iter().any(|rep| {
            rep.source
                .listed
                .iter()
                .any(|s| family.could_be(&s.path.to_string_lossy()))
        });
        checked[a] = meets_a_named_path;
    }
    let mut files_apart = 0;
    for (family, checked) in families.iter().zip(&checked) {
        if let Some(g) = representations[family.rep].source.generated.as_mut() {
            g.checked = *checked;
            // A sound family's pattern is its paths: filled in, it is the layout's result.
            g.path_template = (family.sound && !checked)
                .then(|| Template::from_pattern(&family.path))
                .flatten();
        }
        if !checked {
            files_apart += family.files;
        }
    }
    let (renames, shared, exact_count) = exact(representations);
    let renames = Arc::new(renames);
    for rep in representations.iter_mut() {
        rep.source.renames = renames.clone();
    }
    Files {
        shared,
        count: exact_count + files_apart,
    }
}

/// One path of the exact check.
struct Entry {
    url: u128,
    segments: usize,
    min_size: u64,
    collides: bool,
}

/// The exact check of the named segments and the checked families: renames (at most two
/// rounds: the query, then a hash of the URL), and the files of more than one segment.
fn exact(representations: &[RepresentationPlan]) -> (Renames, HashMap<u128, SharedFile>, usize) {
    let mut renames = Renames::default();
    loop {
        let entries = entries(representations, &renames);
        let colliding: Vec<u128> = entries
            .iter()
            .filter(|(_, e)| e.collides)
            .map(|(k, _)| *k)
            .collect();
        if colliding.is_empty() || !renames.hash.is_empty() {
            let shared = entries
                .iter()
                .filter(|(_, e)| e.segments > 1)
                .map(|(k, e)| {
                    let file = SharedFile {
                        segments: e.segments,
                        min_size: e.min_size,
                    };
                    (*k, file)
                })
                .collect();
            return (renames, shared, entries.len());
        }
        if renames.query.is_empty() {
            renames.query = colliding.into_iter().collect();
        } else {
            renames.hash = colliding.into_iter().collect();
        }
    }
}

fn entries(representations: &[RepresentationPlan], renames: &Renames) -> HashMap<u128, Entry> {
    let mut entries: HashMap<u128, Entry> = HashMap::new();
    for rep in representations {
        let generated = rep
            .source
            .generated
            .as_ref()
            .filter(|g| g.checked)
            .into_iter()
            .flat_map(Generated::raw_segments);
        for segment in rep.source.listed.iter().cloned().chain(generated) {
            let path = renames.apply(segment.path, &segment.url);
            let end = segment.range.map_or(0, |r| r.last.saturating_add(1));
            // Same resource: equal URLs apart from the fragment.
            let mut without_fragment = segment.url;
            without_fragment.set_fragment(None);
            let url = text_key(without_fragment.as_str());
            let entry = entries.entry(path_key(&path)).or_insert(Entry {
                url,
                segments: 0,
                min_size: 0,
                collides: false,
            });
            entry.segments += 1;
            entry.min_size = entry.min_size.max(end);
            entry.collides |= entry.url != url;
        }
    }
    entries
}

#[cfg(test)]
#[path = "paths_tests.rs"]
mod tests;
