//! The journal: `.dashget/journal.jsonl` in the output folder, one JSON object per line, only
//! ever appended to.
//!
//! Two kinds of lines:
//! - `{"state":"done","path":"video/seg-1.m4s","url":"https://…","size":40213,"etag":"\"5f…\"","last_modified":"Tue, 24 Nov 2026 08:00:00 GMT"}`:
//!   the file at `path` (relative to the output folder, `/`-separated) is complete and `size`
//!   bytes long; written after the file was renamed to its final name.
//! - `{"state":"part","path":…,"url":…,"size":TOTAL_OR_NULL,"etag":…,"last_modified":…}`: a
//!   download of `path` began, with these validators; a later run resumes `path.part` with them
//!   (`If-Range`).
//!
//! For each path the last line wins. A line that does not parse (the torn end of a write cut by
//! SIGKILL) is ignored; the writer first completes such a line with a newline so that the next
//! entry stands on a line of its own.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{StoreError, file_size};

/// The journal's folder, relative to the output folder.
pub const JOURNAL_DIR: &str = ".dashget";
/// The journal's file name within [`JOURNAL_DIR`].
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// `state` of a line recording a finished file.
pub const ENTRY_DONE: &str = "done";
/// `state` of a line recording a download in progress (`NAME.part`) and its validators.
pub const ENTRY_PART: &str = "part";

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// [`ENTRY_DONE`] or [`ENTRY_PART`].
    pub state: String,
    /// Path relative to the output folder, components joined by `/`.
    pub path: String,
    /// The URL the file was fetched from.
    pub url: String,
    /// Size in bytes: the file's size for `done`, the resource's total (when known) for `part`.
    pub size: Option<u64>,
    /// The server's `ETag`, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The server's `Last-Modified`, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// The journal as read from disk: the latest `done` and `part` line of each path.
#[derive(Debug, Default, Clone)]
pub struct Journal {
    done: HashMap<String, JournalEntry>,
    part: HashMap<String, JournalEntry>,
}

impl Journal {
    /// The journal's path for an output folder.
    pub fn path(output_dir: &Path) -> PathBuf {
        output_dir.join(JOURNAL_DIR).join(JOURNAL_FILE)
    }

    /// Reads the journal of an output folder. A folder without a journal gives an empty one;
    /// lines that do not parse are skipped.
    pub fn load(output_dir: &Path) -> Result<Journal, StoreError> {
        let path = Self::path(output_dir);
        let text = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Journal::default()),
            Err(source) => return Err(StoreError::Journal { path, source }),
        };
        let mut journal = Journal::default();
        for line in text.split(|&b| b == b'\n') {
            let Ok(entry) = serde_json::from_slice::<JournalEntry>(line) else {
                continue;
            };
            journal.record(entry);
        }
        Ok(journal)
    }

    /// Takes a line into account, as if read from the file.
    pub fn record(&mut self, entry: JournalEntry) {
        match entry.state.as_str() {
            ENTRY_DONE => {
                self.part.remove(&entry.path);
                self.done.insert(entry.path.clone(), entry);
            }
            ENTRY_PART => {
                self.part.insert(entry.path.clone(), entry);
            }
            _ => {}
        }
    }

    /// The `done` entry of a path (relative, `/`-separated), if any.
    pub fn done(&self, path: &str) -> Option<&JournalEntry> {
        self.done.get(path)
    }

    /// The `part` entry of a path: the validators of an unfinished download, if any.
    pub fn part(&self, path: &str) -> Option<&JournalEntry> {
        self.part.get(path)
    }

    /// Every `done` entry (in no particular order).
    pub fn finished(&self) -> impl Iterator<Item = &JournalEntry> {
        self.done.values()
    }

    /// Whether `path` is recorded as finished and the file under `output_dir` still has the
    /// recorded size: the test for "this file is complete" that readers of a tree should use.
    pub fn is_complete(&self, output_dir: &Path, path: &str) -> bool {
        match self.done.get(path) {
            Some(entry) => entry.size.is_some() && file_size(&output_dir.join(path)) == entry.size,
            None => false,
        }
    }
}

/// Appends lines to a journal; shared by the concurrent downloads.
///
/// `part` lines are written at once; `done` lines are gathered in memory and written in batches: when 64 KiB are waiting, when the
/// oldest waiting line is older than [`JournalWriter::MAX_DELAY`] (checked at each append and by
/// [`JournalWriter::flush_if_due`]), and at [`JournalWriter::flush`]. A kill loses at most the
/// lines of that last moment, which only costs the next run a size check (HEAD) of those files.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    inner: Mutex<Pending>,
}

#[derive(Debug)]
struct Pending {
    file: File,
    lines: Vec<u8>,
    since: Option<Instant>,
}

impl JournalWriter {
    /// Longest time a line waits in memory (while appends or `flush_if_due` calls go on).
    pub const MAX_DELAY: Duration = Duration::from_millis(200);
    const MAX_PENDING: usize = 64 * 1024;

    /// Opens (creating it and its folder if needed) the journal of an output folder for
    /// appending. If the last line was torn by a crash, it is ended with a newline first.
    pub fn open(output_dir: &Path) -> Result<JournalWriter, StoreError> {
        let path = Journal::path(output_dir);
        let wrap = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Journal { path, source }
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(wrap(&path))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(wrap(&path))?;
        let len = file.metadata().map_err(wrap(&path))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1)).map_err(wrap(&path))?;
            file.read_exact(&mut last).map_err(wrap(&path))?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(wrap(&path))?;
            }
        }
        Ok(JournalWriter {
            path,
            inner: Mutex::new(Pending {
                file,
                lines: Vec::new(),
                since: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_out(&self, pending: &mut Pending) -> Result<(), StoreError> {
        if pending.lines.is_empty() {
            return Ok(());
        }
        let result = pending.file.write_all(&pending.lines);
        pending.lines.clear();
        pending.since = None;
        result.map_err(|source| StoreError::Journal {
            path: self.path.clone(),
            source,
        })
    }

    /// Appends one entry as one line (whole lines only ever reach the file).
    pub fn append(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        let line = serde_json::to_vec(entry).map_err(|e| StoreError::Journal {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        let mut pending = self.lock();
        pending.lines.extend_from_slice(&line);
        pending.lines.push(b'\n');
        let since = *pending.since.get_or_insert_with(Instant::now);
        // A `part` line goes out at once: the bytes about to reach the part file can only be
        // resumed with its validators.
        let urgent = entry.state == ENTRY_PART;
        if urgent || pending.lines.len() >= Self::MAX_PENDING || since.elapsed() >= Self::MAX_DELAY
        {
            self.write_out(&mut pending)?;
        }
        Ok(())
    }

    /// Writes the waiting lines if the oldest has waited [`JournalWriter::MAX_DELAY`].
    pub fn flush_if_due(&self) -> Result<(), StoreError> {
        let mut pending = self.lock();
        match pending.since {
            Some(since) if since.elapsed() >= Self::MAX_DELAY => self.write_out(&mut pending),
            _ => Ok(()),
        }
    }

    /// Writes every waiting line to the file.
    pub fn flush(&self) -> Result<(), StoreError> {
        let mut pending = self.lock();
        self.write_out(&mut pending)
    }

    /// Writes every waiting line and flushes the journal to disk.
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

    fn entry(state: &str, path: &str, size: u64) -> JournalEntry {
        JournalEntry {
            state: state.into(),
            path: path.into(),
            url: format!("http://h/{path}"),
            size: Some(size),
            etag: Some("\"e\"".into()),
            last_modified: None,
        }
    }

    #[test]
    fn last_line_wins_and_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let writer = JournalWriter::open(dir.path()).unwrap();
        writer.append(&entry(ENTRY_PART, "a.m4s", 10)).unwrap();
        writer.append(&entry(ENTRY_DONE, "a.m4s", 10)).unwrap();
        writer.append(&entry(ENTRY_PART, "b.m4s", 7)).unwrap();
        drop(writer);
        // A write cut short by a kill.
        let path = Journal::path(dir.path());
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"state":"done","path":"b.m"#).unwrap();
        drop(f);
        let journal = Journal::load(dir.path()).unwrap();
        assert_eq!(journal.done("a.m4s").unwrap().size, Some(10));
        assert!(journal.part("a.m4s").is_none());
        assert!(journal.done("b.m4s").is_none());
        assert_eq!(journal.part("b.m4s").unwrap().size, Some(7));
        // The next writer ends the torn line before appending.
        let writer = JournalWriter::open(dir.path()).unwrap();
        writer.append(&entry(ENTRY_DONE, "b.m4s", 7)).unwrap();
        // `done` lines wait in memory until a flush.
        assert!(Journal::load(dir.path()).unwrap().done("b.m4s").is_none());
        writer.flush().unwrap();
        let journal = Journal::load(dir.path()).unwrap();
        assert_eq!(journal.done("b.m4s").unwrap().size, Some(7));
    }

    #[test]
    fn is_complete_checks_the_size_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::default();
        journal.record(entry(ENTRY_DONE, "x/a.m4s", 3));
        assert!(!journal.is_complete(dir.path(), "x/a.m4s"));
        fs::create_dir_all(dir.path().join("x")).unwrap();
        fs::write(dir.path().join("x/a.m4s"), b"abc").unwrap();
        assert!(journal.is_complete(dir.path(), "x/a.m4s"));
        fs::write(dir.path().join("x/a.m4s"), b"ab").unwrap();
        assert!(!journal.is_complete(dir.path(), "x/a.m4s"));
    }
}
