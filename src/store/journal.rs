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
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{StoreError, file_size};

/// The journal's folder, relative to the output folder.
pub const JOURNAL_DIR: &str = ".dashget";
/// The journal's file name within [`JOURNAL_DIR`].
pub const JOURNAL_FILE: &str = "journal.bin";
/// The first bytes of a journal (format version 1).
pub const MAGIC: &[u8; 10] = b"DASHGETJ1\n";

const TAG_DONE: u8 = 1;
const TAG_PART: u8 = 2;
const TAG_STREAM: u8 = 3;
/// Largest payload accepted (a part record with two long validators).
const MAX_PAYLOAD: u64 = 64 * 1024;

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
    streams: Vec<(String, String, String)>,
    segments: HashMap<(u32, SegmentKey), u64>,
    /// Records read (live or superseded).
    records: usize,
    /// Bytes of whole, valid records (what follows is torn or corrupt).
    valid_len: u64,
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
    fn live_records(&self) -> usize {
        self.done.len() + self.part.len() + self.streams.len()
    }

    /// The live records, serialized as a fresh journal (for compaction).
    fn compacted(&self) -> Vec<u8> {
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
        }
        out
    }
}

/// Splits the next whole, intact record off `bytes`: `(payload, rest)`.
fn next_record(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut r = Reader(bytes);
    let len = r.varint()?;
    if len == 0 || len > MAX_PAYLOAD {
        return None;
    }
    let len = len as usize;
    let rest = r.0;
    if rest.len() < len + 4 {
        return None;
    }
    let (payload, rest) = rest.split_at(len);
    let (crc, rest) = rest.split_at(4);
    (crc32(payload).to_le_bytes() == crc).then_some((payload, rest))
}

fn push_record(out: &mut Vec<u8>, payload: &[u8]) {
    push_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32(payload).to_le_bytes());
}

fn done_payload(path: u64, url: u64, size: u64, identity: Option<(u32, SegmentKey)>) -> Vec<u8> {
    let mut p = Vec::with_capacity(32);
    p.push(TAG_DONE);
    p.extend_from_slice(&path.to_le_bytes());
    p.extend_from_slice(&url.to_le_bytes());
    push_varint(&mut p, size);
    if let Some((stream, key)) = identity {
        push_varint(&mut p, u64::from(stream));
        match key {
            SegmentKey::Init => p.push(0),
            SegmentKey::Time(t) => {
                p.push(1);
                push_varint(&mut p, zigzag(t));
            }
            SegmentKey::Number(n) => {
                p.push(2);
                push_varint(&mut p, n);
            }
            SegmentKey::Range(url, first, last) => {
                p.push(3);
                p.extend_from_slice(&url.to_le_bytes());
                push_varint(&mut p, first);
                push_varint(&mut p, last);
            }
        }
    }
    p
}

fn part_payload(path: u64, part: &PartFile) -> Vec<u8> {
    let mut p = Vec::with_capacity(64);
    p.push(TAG_PART);
    p.extend_from_slice(&path.to_le_bytes());
    p.extend_from_slice(&part.url.to_le_bytes());
    push_varint(&mut p, part.total.map_or(0, |t| t.saturating_add(1)));
    push_text(&mut p, part.etag.as_deref());
    push_text(&mut p, part.last_modified.as_deref());
    p
}

fn stream_payload(id: u64, period: &str, adaptation_set: &str, representation: &str) -> Vec<u8> {
    let mut p = vec![TAG_STREAM];
    push_varint(&mut p, id);
    for text in [period, adaptation_set, representation] {
        push_text(&mut p, Some(text));
    }
    p
}

fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Optional text: length + 1 (0 = absent), then the bytes (capped so a record stays small).
fn push_text(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => push_varint(out, 0),
        Some(t) => {
            let mut end = t.len().min(4096);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            push_varint(out, end as u64 + 1);
            out.extend_from_slice(&t.as_bytes()[..end]);
        }
    }
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Reads the fields of a payload; `None` when it ends early or is malformed.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u64(&mut self) -> Option<u64> {
        let (bytes, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*bytes))
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// Optional text: `Some(None)` when absent, `None` when malformed.
    fn text(&mut self) -> Option<Option<String>> {
        let len = self.varint()?;
        let Some(len) = len.checked_sub(1) else {
            return Some(None);
        };
        let len = usize::try_from(len).ok()?;
        if self.0.len() < len {
            return None;
        }
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(Some(String::from_utf8(bytes.to_vec()).ok()?))
    }
}

/// CRC-32 (IEEE 802.3, as in zip and PNG).
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// Appends records to a journal; shared by the concurrent downloads.
///
/// `part` records are written at once; `done` records are gathered in memory and written in
/// batches: when 64 KiB are waiting, when the oldest waiting record is older than
/// [`JournalWriter::MAX_DELAY`] (checked at each append and by [`JournalWriter::flush_if_due`]),
/// and at [`JournalWriter::flush`]. A kill loses at most the records of that last moment, which
/// only costs the next run a size check (HEAD) of those files.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    inner: Mutex<Pending>,
}

#[derive(Debug)]
struct Pending {
    file: File,
    bytes: Vec<u8>,
    since: Option<Instant>,
    streams: HashMap<(String, String, String), u32>,
}

impl JournalWriter {
    /// Longest time a record waits in memory (while appends or `flush_if_due` calls go on).
    pub const MAX_DELAY: Duration = Duration::from_millis(200);
    const MAX_PENDING: usize = 64 * 1024;

    /// Reads the journal of an output folder and opens it for appending (creating it and its
    /// folder if needed). A torn or corrupt tail is cut off; a journal mostly made of superseded
    /// records is first rewritten with the live ones (written aside, flushed, renamed over).
    pub fn open(output_dir: &Path) -> Result<(Journal, JournalWriter), StoreError> {
        let path = Journal::path(output_dir);
        let wrap = |source| StoreError::Journal {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(wrap)?;
        }
        let journal = Journal::load(output_dir)?;
        let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let superseded = journal.records.saturating_sub(journal.live_records());
        let file = if journal.valid_len == 0 || superseded > journal.live_records().max(4096) {
            // No journal yet, not a journal, or worth compacting: write the live records anew.
            let tmp = path.with_extension("bin.tmp");
            let mut file = File::create(&tmp).map_err(wrap)?;
            file.write_all(&journal.compacted()).map_err(wrap)?;
            file.sync_all().map_err(wrap)?;
            fs::rename(&tmp, &path).map_err(wrap)?;
            OpenOptions::new().append(true).open(&path).map_err(wrap)?
        } else {
            let file = OpenOptions::new().append(true).open(&path).map_err(wrap)?;
            if len > journal.valid_len {
                file.set_len(journal.valid_len).map_err(wrap)?;
            }
            file
        };
        let streams = journal
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
        let writer = JournalWriter {
            path,
            inner: Mutex::new(Pending {
                file,
                bytes: Vec::new(),
                since: None,
                streams,
            }),
        };
        Ok((journal, writer))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_out(&self, pending: &mut Pending) -> Result<(), StoreError> {
        if pending.bytes.is_empty() {
            return Ok(());
        }
        let result = pending.file.write_all(&pending.bytes);
        pending.bytes.clear();
        pending.since = None;
        result.map_err(|source| StoreError::Journal {
            path: self.path.clone(),
            source,
        })
    }

    fn push(&self, pending: &mut Pending, payload: &[u8], urgent: bool) -> Result<(), StoreError> {
        push_record(&mut pending.bytes, payload);
        let since = *pending.since.get_or_insert_with(Instant::now);
        if urgent || pending.bytes.len() >= Self::MAX_PENDING || since.elapsed() >= Self::MAX_DELAY
        {
            self.write_out(pending)?;
        }
        Ok(())
    }

    /// Records that `path` is complete: fetched from `url`, `size` bytes.
    pub fn done(&self, path: &str, url: &str, size: u64) -> Result<(), StoreError> {
        let payload = done_payload(key_of(path), key_of(url), size, None);
        self.push(&mut self.lock(), &payload, false)
    }

    /// Records that `path`, holding the segment `identity`, is complete.
    pub fn done_segment(
        &self,
        path: &str,
        url: &str,
        size: u64,
        identity: &SegmentIdentity,
    ) -> Result<(), StoreError> {
        let mut pending = self.lock();
        let name = (
            identity.period.clone(),
            identity.adaptation_set.clone(),
            identity.representation.clone(),
        );
        let stream = match pending.streams.get(&name) {
            Some(&id) => id,
            None => {
                let id = pending.streams.len() as u32;
                let payload = stream_payload(u64::from(id), &name.0, &name.1, &name.2);
                self.push(&mut pending, &payload, false)?;
                pending.streams.insert(name, id);
                id
            }
        };
        let payload = done_payload(
            key_of(path),
            key_of(url),
            size,
            Some((stream, identity.key)),
        );
        self.push(&mut pending, &payload, false)
    }

    /// Records that a download of `path` began with these validators (written at once: the
    /// bytes about to reach the part file can only be resumed with them).
    pub fn part(&self, path: &str, url: &str, part: &PartFile) -> Result<(), StoreError> {
        let part = PartFile {
            url: key_of(url),
            ..part.clone()
        };
        let payload = part_payload(key_of(path), &part);
        self.push(&mut self.lock(), &payload, true)
    }

    /// Writes the waiting records if the oldest has waited [`JournalWriter::MAX_DELAY`].
    pub fn flush_if_due(&self) -> Result<(), StoreError> {
        let mut pending = self.lock();
        match pending.since {
            Some(since) if since.elapsed() >= Self::MAX_DELAY => self.write_out(&mut pending),
            _ => Ok(()),
        }
    }

    /// Writes every waiting record to the file.
    pub fn flush(&self) -> Result<(), StoreError> {
        let mut pending = self.lock();
        self.write_out(&mut pending)
    }

    /// Writes every waiting record and flushes the journal to disk.
    pub fn sync(&self) -> Result<(), StoreError> {
        let mut pending = self.lock();
        self.write_out(&mut pending)?;
        pending
            .file
            .sync_data()
            .map_err(|source| StoreError::Journal {
                path: self.path.clone(),
                source,
            })
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn part(total: u64) -> PartFile {
        PartFile {
            url: 0,
            total: Some(total),
            etag: Some("\"e\"".into()),
            last_modified: None,
        }
    }

    #[test]
    fn crc_and_varints() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            let mut out = Vec::new();
            push_varint(&mut out, n);
            assert_eq!(Reader(&out).varint(), Some(n));
        }
        for n in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(n)), n);
        }
        // An over-long varint is malformed, not an overflow.
        assert_eq!(Reader(&[0xff; 11]).varint(), None);
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
}
