//! Appending to the journal (see [`super::journal`] for the format).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::StoreError;
use super::journal::{Journal, PartFile, SegmentIdentity, key_of};
use super::record::{done_payload, part_payload, push_record, range_payload, stream_payload};

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

    /// Records that bytes `start..end` of the part file of `path` are written (after its
    /// `part` record). Written at once: a kill then loses only the bytes not yet recorded.
    pub fn range(&self, path: &str, start: u64, end: u64) -> Result<(), StoreError> {
        let payload = range_payload(key_of(path), start, end);
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
