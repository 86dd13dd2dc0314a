//! The journal: `.dashget/journal.bin` in the output folder, a compact append-only log of what
//! is complete, read whole on a re-run so that finished files need no request.
//!
//! The file starts with [`MAGIC`]; then records, each `[payload length: varint][payload]
//! [CRC-32 of the payload: 4 bytes LE]`. The payload's first byte says what it is:
//! - `done`: a file is complete under its final name: 64-bit keys of its path and of its URL,
//!   its size, and optionally the stable identity of the segment it holds (live recording:
//!   Period, AdaptationSet, Representation and `$Time$`/`$Number$`/range, which survive
//!   manifest refreshes). About 24 bytes a file, where a JSON line took 183.
//! - `part`: a download of a path began with these validators (`ETag`, `Last-Modified`) and
//!   this total; a later run resumes `NAME.part` with `If-Range`. Only files that reach the
//!   disk before they are complete get one.
//! - `range`: bytes `start..end` of the part file of a path are written (a large file fetched
//!   in pieces, see `fetch::split`); they belong to the path's last `part` record, and a run
//!   that resumes it fetches only the bytes no `range` covers.
//! - `stream`: names a representation once (`period`, `adaptation set`, `representation`), so
//!   that `done` records refer to it by a small number.
//!
//! Paths and URLs are kept as FNV-1a 64-bit keys: the journal answers "is this file complete",
//! and a file counts as complete only when its key, its URL's key and its size on disk all
//! match. For each path the last record wins. A record cut short by a kill, or one whose CRC
//! does not match, ends the journal: what follows is not trusted and is cut off before the next
//! append. When superseded records outnumber live ones, the journal is rewritten (compacted)
//! atomically at open.

use std::collections::HashMap;
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use super::record::{
    Reader, TAG_DONE, TAG_PART, TAG_RANGE, TAG_STREAM, done_payload, next_record, part_payload,
    push_record, range_payload, stream_payload, unzigzag,
};
use super::{StoreError, file_size};

/// The journal's folder, relative to the output folder.
pub const JOURNAL_DIR: &str = ".dashget";
/// The journal's file name within [`JOURNAL_DIR`].
pub const JOURNAL_FILE: &str = "journal.bin";
/// The first bytes of a journal (format version 1).
pub const MAGIC: &[u8; 10] = b"DASHGETJ1\n";

/// The 64-bit key of a path (relative, `/`-separated) or a URL: FNV-1a, stable across runs.
pub fn key_of(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Keys are hashes already: the map uses them as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// A file recorded as complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoneFile {
    /// Key of the URL it was fetched from ([`key_of`]).
    pub url: u64,
    /// Its size.
    pub size: u64,
}

impl DoneFile {
    /// Whether it was fetched from `url`.
    pub fn is_from(&self, url: &str) -> bool {
        self.url == key_of(url)
    }
}

/// A download that began: what a later run resumes its part file with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartFile {
    /// Key of the URL.
    pub url: u64,
    /// The resource's total size, when the server said.
    pub total: Option<u64>,
    /// The server's `ETag`.
    pub etag: Option<String>,
    /// The server's `Last-Modified`.
    pub last_modified: Option<String>,
}

/// Where a segment sits in a presentation, independent of the manifest snapshot it was read
/// from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentIdentity {
    /// `Period@id` (or its index).
    pub period: String,
    /// `AdaptationSet@id` (or its index).
    pub adaptation_set: String,
    /// `Representation@id`.
    pub representation: String,
    /// Which segment of the representation.
    pub key: SegmentKey,
}

/// The segment within its representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKey {
    /// The initialization segment.
    Init,
    /// `$Time$` (in the representation's timescale).
    Time(i64),
    /// `$Number$`.
    Number(u64),
    /// A byte range of a resource (URL key, first, last).
    Range(u64, u64, u64),
}

/// The journal as read from disk.
#[derive(Debug, Default)]
pub struct Journal {
    done: KeyMap<DoneFile>,
    part: KeyMap<PartFile>,
    /// Byte ranges written of each part file (merged, in order).
    ranges: KeyMap<Vec<(u64, u64)>>,
    pub(super) streams: Vec<(String, String, String)>,
    segments: HashMap<(u32, SegmentKey), u64>,
    /// Records read (live or superseded).
    pub(super) records: usize,
    /// Bytes of whole, valid records (what follows is torn or corrupt).
    pub(super) valid_len: u64,
}

impl std::fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyHasher")
    }
}

impl Journal {
    /// The journal's path for an output folder.
    pub fn path(output_dir: &Path) -> PathBuf {
        output_dir.join(JOURNAL_DIR).join(JOURNAL_FILE)
    }

    /// Reads the journal of an output folder. A folder without a journal gives an empty one;
    /// a file that is not a journal, a torn or corrupt record and all after it are ignored.
    pub fn load(output_dir: &Path) -> Result<Journal, StoreError> {
        let path = Self::path(output_dir);
        match fs::read(&path) {
            Ok(bytes) => Ok(Journal::parse(&bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Journal::default()),
            Err(source) => Err(StoreError::Journal { path, source }),
        }
    }

    /// Reads journal bytes.
    pub fn parse(bytes: &[u8]) -> Journal {
        let mut journal = Journal::default();
        let Some(mut rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
            return journal;
        };
        journal.valid_len = MAGIC.len() as u64;
        while let Some((payload, after)) = next_record(rest) {
            if journal.apply(payload).is_none() {
                break;
            }
            journal.records += 1;
            journal.valid_len += (rest.len() - after.len()) as u64;
            rest = after;
        }
        journal
    }

    fn apply(&mut self, payload: &[u8]) -> Option<()> {
        let mut r = Reader(payload);
        match r.byte()? {
            TAG_DONE => {
                let path = r.u64()?;
                let url = r.u64()?;
                let size = r.varint()?;
                self.part.remove(&path);
                self.ranges.remove(&path);
                self.done.insert(path, DoneFile { url, size });
                if !r.0.is_empty() {
                    let stream = u32::try_from(r.varint()?).ok()?;
                    if stream as usize >= self.streams.len() {
                        return None;
                    }
                    let key = match r.byte()? {
                        0 => SegmentKey::Init,
                        1 => SegmentKey::Time(unzigzag(r.varint()?)),
                        2 => SegmentKey::Number(r.varint()?),
                        3 => SegmentKey::Range(r.u64()?, r.varint()?, r.varint()?),
                        _ => return None,
                    };
                    self.segments.insert((stream, key), path);
                }
            }
            TAG_PART => {
                let path = r.u64()?;
                let url = r.u64()?;
                let total = r.varint()?.checked_sub(1);
                let etag = r.text()?;
                let last_modified = r.text()?;
                self.ranges.remove(&path);
                self.part.insert(
                    path,
                    PartFile {
                        url,
                        total,
                        etag,
                        last_modified,
                    },
                );
            }
            TAG_RANGE => {
                let path = r.u64()?;
                let start = r.varint()?;
                let end = r.varint()?;
                if end <= start || !self.part.contains_key(&path) {
                    return None;
                }
                add_range(self.ranges.entry(path).or_default(), (start, end));
            }
            TAG_STREAM => {
                let id = r.varint()?;
                if id != self.streams.len() as u64 {
                    return None;
                }
                let period = r.text()??;
                let adaptation_set = r.text()??;
                let representation = r.text()??;
                self.streams.push((period, adaptation_set, representation));
            }
            _ => return None,
        }
        Some(())
    }

    /// The `done` record of a path (relative, `/`-separated), if any.
    pub fn done(&self, path: &str) -> Option<DoneFile> {
        self.done.get(&key_of(path)).copied()
    }

    /// Whether `path` is recorded as complete, fetched from `url`, `size` bytes long.
    pub fn is_done(&self, path: &str, url: &str, size: u64) -> bool {
        self.done(path)
            .is_some_and(|d| d.url == key_of(url) && d.size == size)
    }

    /// The `part` record of a path fetched from `url`: validators of an unfinished download.
    pub fn part(&self, path: &str, url: &str) -> Option<&PartFile> {
        self.part
            .get(&key_of(path))
            .filter(|p| p.url == key_of(url))
    }

    /// Whether an unfinished download of `path` is recorded (from any URL): its part file may
    /// be on disk.
    pub fn has_part(&self, path: &str) -> bool {
        self.part.contains_key(&key_of(path))
    }

    /// The byte ranges written of the part file of `path` fetched from `url` (merged, in
    /// order): what a download in pieces has; empty when none is recorded.
    pub fn ranges(&self, path: &str, url: &str) -> &[(u64, u64)] {
        match self.part(path, url) {
            Some(_) => self.ranges.get(&key_of(path)).map_or(&[], Vec::as_slice),
            None => &[],
        }
    }

    /// The path key of the file holding a segment, if that segment is recorded as complete.
    pub fn segment(&self, identity: &SegmentIdentity) -> Option<u64> {
        let stream = self.stream_id(identity)?;
        let path = *self.segments.get(&(stream, identity.key))?;
        self.done.contains_key(&path).then_some(path)
    }

    /// The recorded segments of one representation (in no particular order).
    pub fn segments_of<'a>(
        &'a self,
        period: &'a str,
        adaptation_set: &'a str,
        representation: &'a str,
    ) -> impl Iterator<Item = SegmentKey> + 'a {
        let stream = self
            .streams
            .iter()
            .position(|(p, a, r)| p == period && a == adaptation_set && r == representation);
        self.segments
            .keys()
            .filter(move |(s, _)| Some(*s as usize) == stream)
            .map(|(_, key)| *key)
    }

    fn stream_id(&self, identity: &SegmentIdentity) -> Option<u32> {
        let found = self.streams.iter().position(|(p, a, r)| {
            *p == identity.period && *a == identity.adaptation_set && *r == identity.representation
        })?;
        u32::try_from(found).ok()
    }

    /// Number of files recorded as complete.
    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    /// Whether `path` is recorded as finished and the file under `output_dir` still has the
    /// recorded size: the test for "this file is complete" that readers of a tree should use.
    pub fn is_complete(&self, output_dir: &Path, path: &str) -> bool {
        self.done(path)
            .is_some_and(|d| file_size(&output_dir.join(path)) == Some(d.size))
    }

    /// Records worth keeping: one per complete file, one per unfinished part, the streams.
    pub(super) fn live_records(&self) -> usize {
        self.done.len()
            + self.part.len()
            + self.ranges.values().map(Vec::len).sum::<usize>()
            + self.streams.len()
    }

    /// The live records, serialized as a fresh journal (for compaction).
    pub(super) fn compacted(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for (id, (p, a, r)) in self.streams.iter().enumerate() {
            push_record(&mut out, &stream_payload(id as u64, p, a, r));
        }
        let mut by_path: KeyMap<(u32, SegmentKey)> = KeyMap::default();
        for (&(stream, key), &path) in &self.segments {
            by_path.insert(path, (stream, key));
        }
        for (&path, done) in &self.done {
            let identity = by_path.get(&path).copied();
            push_record(&mut out, &done_payload(path, done.url, done.size, identity));
        }
        for (&path, part) in &self.part {
            push_record(&mut out, &part_payload(path, part));
            for &(start, end) in self.ranges.get(&path).map_or(&[][..], Vec::as_slice) {
                push_record(&mut out, &range_payload(path, start, end));
            }
        }
        out
    }
}

/// Adds `range` (start, end: end excluded) to a sorted list of disjoint ranges, merging what
/// touches it.
pub fn add_range(ranges: &mut Vec<(u64, u64)>, range: (u64, u64)) {
    let (mut start, mut end) = range;
    let first = ranges.partition_point(|r| r.1 < start);
    let mut last = first;
    while let Some(&(s, e)) = ranges.get(last)
        && s <= end
    {
        start = start.min(s);
        end = end.max(e);
        last += 1;
    }
    ranges.splice(first..last, [(start, end)]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::journal_writer::JournalWriter;
    use crate::store::record::push_record;
    use std::fs::OpenOptions;
    use std::io::Write;

    fn part(total: u64) -> PartFile {
        PartFile {
            url: 0,
            total: Some(total),
            etag: Some("\"e\"".into()),
            last_modified: None,
        }
    }

    #[test]
    fn last_record_wins_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (_, writer) = JournalWriter::open(dir.path()).unwrap();
        writer.part("a.m4s", "http://h/a.m4s", &part(10)).unwrap();
        writer.done("a.m4s", "http://h/a.m4s", 10).unwrap();
        writer.part("b.m4s", "http://h/b.m4s", &part(7)).unwrap();
        writer.flush().unwrap();
        drop(writer);
        // A record cut short by a kill.
        let path = Journal::path(dir.path());
        let whole = fs::read(&path).unwrap();
        let mut torn = Vec::new();
        push_record(
            &mut torn,
            &done_payload(key_of("b.m4s"), key_of("http://h/b.m4s"), 7, None),
        );
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&torn[..torn.len() - 2]).unwrap();
        drop(f);
        let journal = Journal::load(dir.path()).unwrap();
        assert!(journal.is_done("a.m4s", "http://h/a.m4s", 10));
        assert!(!journal.is_done("a.m4s", "http://other/a.m4s", 10));
        assert!(journal.part("a.m4s", "http://h/a.m4s").is_none());
        assert!(journal.done("b.m4s").is_none());
        assert_eq!(
            journal.part("b.m4s", "http://h/b.m4s").unwrap().total,
            Some(7)
        );
        assert!(journal.part("b.m4s", "http://h/other").is_none());
        // The next writer cuts the torn record off before appending.
        let (_, writer) = JournalWriter::open(dir.path()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), whole);
        writer.done("b.m4s", "http://h/b.m4s", 7).unwrap();
        // `done` records wait in memory until a flush.
        assert!(Journal::load(dir.path()).unwrap().done("b.m4s").is_none());
        writer.flush().unwrap();
        let journal = Journal::load(dir.path()).unwrap();
        assert!(journal.is_done("b.m4s", "http://h/b.m4s", 7));
        assert!(journal.part("b.m4s", "http://h/b.m4s").is_none());
    }

    #[test]
    fn a_corrupt_record_ends_the_journal() {
        let mut bytes = MAGIC.to_vec();
        push_record(&mut bytes, &done_payload(key_of("a"), key_of("u"), 1, None));
        let good = bytes.len();
        push_record(&mut bytes, &done_payload(key_of("b"), key_of("u"), 2, None));
        push_record(&mut bytes, &done_payload(key_of("c"), key_of("u"), 3, None));
        bytes[good + 3] ^= 0x40;
        let journal = Journal::parse(&bytes);
        assert!(journal.done("a").is_some());
        assert!(journal.done("b").is_none());
        assert!(
            journal.done("c").is_none(),
            "nothing after a bad record is trusted"
        );
        assert_eq!(journal.valid_len, good as u64);
        // Not a journal at all, and arbitrary bytes after the magic: empty, no panic.
        assert_eq!(Journal::parse(b"{\"state\":\"done\"}\n").done_count(), 0);
        for seed in 0..200u64 {
            let mut noise = MAGIC.to_vec();
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                noise.push(x as u8);
            }
            let _ = Journal::parse(&noise);
        }
    }

    #[test]
    fn segment_identities_survive_and_compaction_keeps_live_records() {
        let dir = tempfile::tempdir().unwrap();
        let id = |key| SegmentIdentity {
            period: "p0".into(),
            adaptation_set: "1".into(),
            representation: "video".into(),
            key,
        };
        let (_, writer) = JournalWriter::open(dir.path()).unwrap();
        writer
            .done_segment("v/i.mp4", "http://h/v/i.mp4", 5, &id(SegmentKey::Init))
            .unwrap();
        writer
            .done_segment(
                "v/9000.m4s",
                "http://h/v/9000.m4s",
                9,
                &id(SegmentKey::Time(-9000)),
            )
            .unwrap();
        // Superseded records: the same file done again and again.
        for i in 0..5000u64 {
            writer.done("x.m4s", "http://h/x.m4s", i).unwrap();
        }
        writer.part("y.m4s", "http://h/y.m4s", &part(3)).unwrap();
        drop(writer);
        let before = fs::metadata(Journal::path(dir.path())).unwrap().len();
        let (journal, _writer) = JournalWriter::open(dir.path()).unwrap();
        let after = fs::metadata(Journal::path(dir.path())).unwrap().len();
        assert!(after * 10 < before, "compacted {before} -> {after}");
        let journal_again = Journal::load(dir.path()).unwrap();
        for j in [&journal, &journal_again] {
            assert_eq!(
                j.segment(&id(SegmentKey::Time(-9000))),
                Some(key_of("v/9000.m4s"))
            );
            assert_eq!(j.segment(&id(SegmentKey::Init)), Some(key_of("v/i.mp4")));
            assert_eq!(j.segment(&id(SegmentKey::Number(1))), None);
            assert!(j.is_done("x.m4s", "http://h/x.m4s", 4999));
            assert_eq!(j.part("y.m4s", "http://h/y.m4s").unwrap().total, Some(3));
            let mut keys: Vec<_> = j.segments_of("p0", "1", "video").collect();
            keys.sort_by_key(|k| format!("{k:?}"));
            assert_eq!(keys, vec![SegmentKey::Init, SegmentKey::Time(-9000)]);
        }
    }

    #[test]
    fn ranges_of_a_part_merge_and_survive_compaction_until_done() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (_, writer) = JournalWriter::open(dir.path()).unwrap();
            writer
                .part("big.mp4", "http://h/big.mp4", &part(100))
                .unwrap();
            writer.range("big.mp4", 0, 10).unwrap();
            writer.range("big.mp4", 40, 50).unwrap();
            writer.range("big.mp4", 10, 20).unwrap();
            writer.range("big.mp4", 50, 60).unwrap();
            // A range of a path with no part record ends the journal there: not written.
        }
        let journal = Journal::load(dir.path()).unwrap();
        assert_eq!(
            journal.ranges("big.mp4", "http://h/big.mp4"),
            &[(0, 20), (40, 60)]
        );
        assert!(journal.ranges("big.mp4", "http://other/big.mp4").is_empty());
        let again = Journal::parse(&journal.compacted());
        assert_eq!(
            again.ranges("big.mp4", "http://h/big.mp4"),
            &[(0, 20), (40, 60)]
        );
        // A new part record starts afresh; done forgets them.
        {
            let (_, writer) = JournalWriter::open(dir.path()).unwrap();
            writer
                .part("big.mp4", "http://h/big.mp4", &part(100))
                .unwrap();
        }
        let journal = Journal::load(dir.path()).unwrap();
        assert!(journal.ranges("big.mp4", "http://h/big.mp4").is_empty());
        let mut merged = vec![(0, 5), (10, 15), (20, 25)];
        add_range(&mut merged, (4, 21));
        assert_eq!(merged, vec![(0, 25)]);
        add_range(&mut merged, (30, 31));
        add_range(&mut merged, (26, 27));
        assert_eq!(merged, vec![(0, 25), (26, 27), (30, 31)]);
    }
}
