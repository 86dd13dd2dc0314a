//! What a recording keeps on disk besides its segments and the journal, so that the same
//! command run again continues it:
//! - `.dashget/live.json` ([`RecorderState`]): the manifest URL, where the recording began and
//!   the newest `publishTime` applied; a few hundred bytes, rewritten only when they change;
//! - `.dashget/recording.jsonl` ([`Entry`]): one line appended per recorded Representation, init
//!   segment, media segment and gap, never rewritten (through [`crate::store::EventLog`]), from
//!   which a re-run rebuilds the recording's manifest;
//! - the archive of every distinct manifest snapshot (`.dashget/manifests/`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::live::recording::{RecordedSegment, RepresentationInfo};
use crate::live::{SegmentId, SegmentKey};
use crate::store::{META_DIR, OutputDir, SegmentIdentity, StoreError, key_of};

/// A segment of the recording's span that could not be had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// The segment's identity, in its printed form.
    pub segment: String,
    /// `Representation@id`.
    pub representation: String,
    /// Its start, seconds after `availabilityStartTime`.
    pub start_seconds: f64,
    /// Its start as a wall-clock time (RFC 3339, UTC).
    #[serde(default)]
    pub start_time: String,
    /// Its duration, seconds.
    pub duration_seconds: f64,
    /// Why it is missing.
    pub reason: String,
}

/// The few facts of a recording that are not per segment (`.dashget/live.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecorderState {
    /// The manifest URL the recording follows (a different one starts a new recording).
    pub manifest_url: String,
    /// Where the recording began, the same instant for every track: presentation time,
    /// nanoseconds after AST.
    #[serde(default)]
    pub origin: Option<i128>,
    /// The newest `publishTime` applied (Unix ns), to refuse an older snapshot.
    pub publish_time: Option<i128>,
    /// The live presentation's `availabilityStartTime` (RFC 3339, UTC): with
    /// [`RecorderState::origin`], where the recording is in wall-clock time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_start_time: Option<String>,
    /// The clock the recording kept to, as last synchronised (its source, offset and
    /// uncertainty, in words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
}

/// One line of `.dashget/recording.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Entry {
    /// A Representation of the recording, numbered for the lines that follow.
    Representation {
        /// Its number in this log.
        n: u32,
        /// The track it belongs to across Periods.
        track: String,
        /// What the recording's manifest says of it.
        info: Box<RepresentationInfo>,
    },
    /// Its init segment.
    Init {
        /// The Representation's number.
        n: u32,
        /// The file, relative to the output folder.
        path: String,
        /// Its `mdhd` timescale, when it has one.
        #[serde(default)]
        media_timescale: Option<u64>,
    },
    /// A recorded media segment.
    Segment {
        /// The Representation's number.
        n: u32,
        /// The segment.
        segment: RecordedSegment,
    },
    /// A gap of a track.
    Gap {
        /// The track.
        track: String,
        /// The end of what it covers, nanoseconds after AST.
        end: i128,
        /// The gap.
        gap: Gap,
    },
}

/// The name of the recording's log under `.dashget/`.
pub(crate) const LOG_NAME: &str = "recording.jsonl";

/// `.dashget/live.json` under the output folder.
pub(crate) fn state_path(root: &Path) -> PathBuf {
    root.join(META_DIR).join("live.json")
}

impl RecorderState {
    /// Reads the state a recording left in the output folder `root`, whatever it followed:
    /// `None` where no recording was made there (or its state cannot be read).
    pub fn read(root: &Path) -> Option<RecorderState> {
        let bytes = std::fs::read(state_path(root)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Reads the state of an earlier run, if it followed `manifest_url`.
    pub(crate) fn load(root: &Path, manifest_url: &str) -> Option<RecorderState> {
        Self::read(root).filter(|state| state.manifest_url == manifest_url)
    }

    /// Writes the state atomically, through the output folder.
    pub(crate) fn save(&self, out: &OutputDir) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(self).map_err(|e| StoreError::Io {
            path: state_path(out.root()),
            source: std::io::Error::other(e),
        })?;
        out.write_meta(Path::new("live.json"), &bytes)?;
        Ok(())
    }
}

/// The key of a representation in [`RecorderState::starts`].
pub(crate) fn stream_key(id: &SegmentId) -> String {
    let mut printed = id.to_string();
    // The printed form ends with `/KEY`: the stream is what precedes it.
    if let Some(cut) = printed.rfind('/') {
        printed.truncate(cut);
    }
    printed
}

/// The journal's identity of a segment.
pub(crate) fn journal_identity(id: &SegmentId) -> SegmentIdentity {
    use crate::store::SegmentKey as Journalled;
    let key = match &id.key {
        SegmentKey::Time(t) => Journalled::Time(*t),
        SegmentKey::Number(n) => Journalled::Number(*n),
        SegmentKey::Resource { url, range } => {
            let (first, last) = range.unwrap_or((0, u64::MAX));
            Journalled::Range(key_of(url), first, last)
        }
    };
    SegmentIdentity {
        period: id.period.clone(),
        adaptation_set: id.adaptation_set.clone(),
        representation: id.representation.clone(),
        key,
    }
}

/// The archive of manifest snapshots: `.dashget/manifests/NNNNNN-PUBLISHTIME.mpd`, one file per
/// distinct snapshot, numbered in the order received.
pub(crate) struct SnapshotArchive {
    out: OutputDir,
    next: usize,
    last: Option<Vec<u8>>,
}

impl SnapshotArchive {
    /// Opens the archive of the output folder, continuing its numbering.
    pub(crate) fn open(out: &OutputDir) -> SnapshotArchive {
        let dir = out.root().join(META_DIR).join("manifests");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "mpd"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let last = names.last().and_then(|p| std::fs::read(p).ok());
        SnapshotArchive {
            next: names.len(),
            out: out.clone(),
            last,
        }
    }

    /// Keeps `bytes` unless they equal the last snapshot kept; returns the file written.
    pub(crate) fn keep(
        &mut self,
        bytes: &[u8],
        publish_time: Option<&str>,
    ) -> Result<Option<PathBuf>, StoreError> {
        if self.last.as_deref() == Some(bytes) {
            return Ok(None);
        }
        let stamp: String = publish_time
            .unwrap_or("no-publish-time")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = Path::new("manifests").join(format!("{:06}-{stamp}.mpd", self.next));
        let path = self.out.write_meta(&name, bytes)?;
        self.next += 1;
        self.last = Some(bytes.to_vec());
        Ok(Some(path))
    }

    /// How many snapshots the archive holds.
    pub(crate) fn count(&self) -> usize {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(key: SegmentKey) -> SegmentId {
        SegmentId {
            period: "p 0".into(),
            adaptation_set: "1".into(),
            representation: "video/avc1".into(),
            key,
        }
    }

    #[test]
    fn a_stream_key_is_the_identity_without_its_segment() {
        for key in [
            SegmentKey::Time(-5),
            SegmentKey::Number(7),
            SegmentKey::Resource {
                url: "http://h/a/b.m4s".into(),
                range: Some((0, 9)),
            },
        ] {
            assert_eq!(stream_key(&id(key)), "p%200/1/video%2Favc1");
        }
    }

    #[test]
    fn journal_identities_keep_the_key() {
        use crate::store::SegmentKey as J;
        assert_eq!(journal_identity(&id(SegmentKey::Time(-5))).key, J::Time(-5));
        assert_eq!(
            journal_identity(&id(SegmentKey::Number(7))).key,
            J::Number(7)
        );
        let whole = SegmentKey::Resource {
            url: "http://h/x".into(),
            range: None,
        };
        assert_eq!(
            journal_identity(&id(whole)).key,
            J::Range(key_of("http://h/x"), 0, u64::MAX)
        );
    }

    #[test]
    fn the_archive_keeps_each_distinct_snapshot_once_and_continues_its_numbering() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        let mut archive = SnapshotArchive::open(&out);
        let first = archive
            .keep(b"<MPD/>", Some("2026-01-01T00:00:00Z"))
            .unwrap();
        assert!(first.unwrap().ends_with("000000-2026-01-01T00_00_00Z.mpd"));
        assert!(archive.keep(b"<MPD/>", None).unwrap().is_none());
        assert!(archive.keep(b"<MPD a=''/>", None).unwrap().is_some());
        let mut again = SnapshotArchive::open(&out);
        assert_eq!(again.count(), 2);
        assert!(again.keep(b"<MPD a=''/>", None).unwrap().is_none());
        let third = again.keep(b"<MPD b=''/>", Some("x/y")).unwrap().unwrap();
        assert!(third.ends_with("000002-x_y.mpd"), "{}", third.display());
    }

    #[test]
    fn the_state_of_another_manifest_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let state = RecorderState {
            manifest_url: "http://a/m.mpd".into(),
            origin: Some(-3),
            ..RecorderState::default()
        };
        state.save(&OutputDir::create(dir.path()).unwrap()).unwrap();
        assert_eq!(
            RecorderState::load(dir.path(), "http://a/m.mpd"),
            Some(state)
        );
        assert!(RecorderState::load(dir.path(), "http://b/m.mpd").is_none());
    }

    #[test]
    fn log_entries_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let entries = vec![
            Entry::Segment {
                n: 3,
                segment: RecordedSegment {
                    time: -1,
                    duration: 5120,
                    number: 7,
                    path: "p/v/7.m4s".into(),
                    start: 1 << 70,
                    end: (1 << 70) + 1,
                },
            },
            Entry::Gap {
                track: "0/v".into(),
                end: -5,
                gap: Gap {
                    segment: "p/0/v/n=8".into(),
                    representation: "v".into(),
                    start_seconds: 1.5,
                    start_time: "2026-12-07T00:00:01.5Z".into(),
                    duration_seconds: 0.4,
                    reason: "HTTP 403".into(),
                },
            },
        ];
        let (mut log, none) = crate::store::EventLog::open::<Entry>(dir.path(), LOG_NAME).unwrap();
        assert!(none.is_empty());
        for e in &entries {
            log.append(e).unwrap();
        }
        let (_, back) = crate::store::EventLog::open::<Entry>(dir.path(), LOG_NAME).unwrap();
        assert_eq!(back, entries);
    }
}
