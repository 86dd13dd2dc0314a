//! An append-only log of JSON lines under `.dashget/`: what a live recording keeps besides its
//! media and the journal (where each representation's recording began, the segments in the
//! recording's manifest, the gaps). Each record is one line appended once and never rewritten,
//! so what a recording writes besides its media is constant per segment, whatever its length.
//!
//! A line cut short by a kill (no final newline, or text that does not parse) ends the log:
//! it and anything after it are cut off at the next open, as the journal does.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::META_DIR;

/// An open append-only log.
pub struct EventLog {
    path: PathBuf,
    file: File,
}

impl EventLog {
    /// Opens (or creates) `.dashget/NAME` under `root`, returning the log and the records it
    /// holds, in order. A torn or unreadable tail is cut off.
    pub fn open<T: DeserializeOwned>(root: &Path, name: &str) -> io::Result<(EventLog, Vec<T>)> {
        let dir = root.join(META_DIR);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let (records, valid) = parse(&bytes);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if valid < bytes.len() as u64 {
            file.set_len(valid)?;
        }
        Ok((EventLog { path, file }, records))
    }

    /// Appends one record as a line (one `write` call, so a kill leaves a whole line or a torn
    /// one that the next open cuts off).
    pub fn append<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }

    /// Empties the log (a new recording in the same folder).
    pub fn clear(&mut self) -> io::Result<()> {
        self.file.set_len(0)
    }

    /// The log's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forces what was appended to disk.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// The records of a log's bytes, and the length of the valid prefix.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> (Vec<T>, u64) {
    let mut records = Vec::new();
    let mut at = 0usize;
    while let Some(end) = bytes[at..].iter().position(|&b| b == b'\n') {
        let line = &bytes[at..at + end];
        match serde_json::from_slice::<T>(line) {
            Ok(record) => records.push(record),
            Err(_) => break,
        }
        at += end + 1;
    }
    (records, at as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Entry {
        n: u32,
    }

    #[test]
    fn records_come_back_in_order_and_a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, none) = EventLog::open::<Entry>(dir.path(), "log.jsonl").unwrap();
        assert!(none.is_empty());
        log.append(&Entry { n: 1 }).unwrap();
        log.append(&Entry { n: 2 }).unwrap();
        drop(log);
        let path = dir.path().join(META_DIR).join("log.jsonl");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"n\":3");
        std::fs::write(&path, &bytes).unwrap();
        let (mut log, records) = EventLog::open::<Entry>(dir.path(), "log.jsonl").unwrap();
        assert_eq!(records, vec![Entry { n: 1 }, Entry { n: 2 }]);
        log.append(&Entry { n: 4 }).unwrap();
        drop(log);
        let (_, records) = EventLog::open::<Entry>(dir.path(), "log.jsonl").unwrap();
        assert_eq!(
            records,
            vec![Entry { n: 1 }, Entry { n: 2 }, Entry { n: 4 }]
        );
    }

    #[test]
    fn a_line_of_garbage_ends_the_log() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(META_DIR)).unwrap();
        std::fs::write(
            dir.path().join(META_DIR).join("l"),
            b"{\"n\":1}\n\xff\xfe\n{\"n\":2}\n",
        )
        .unwrap();
        let (_, records) = EventLog::open::<Entry>(dir.path(), "l").unwrap();
        assert_eq!(records, vec![Entry { n: 1 }]);
    }
}
