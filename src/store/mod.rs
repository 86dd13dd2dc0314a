//! The output tree: part files renamed into place once verified, and the journal of finished files.
//!
//! Every file the engine writes goes through [`OutputDir`]: a relative path is checked (no root,
//! no `..`) and becomes a [`FileSlot`], reached through the handle of its folder, opened once
//! from the output folder without following symlinks (a symlink inside the tree cannot lead a
//! write outside it). Data is written to `NAME.part` and renamed to `NAME` only once complete,
//! so that a final name never stands for a truncated file, whatever moment the process dies at;
//! with an fsync before the rename (`FetchOptions::sync`) this holds for power cuts too.

mod dirs;
mod event_log;
mod journal;
mod journal_writer;
mod part;
mod record;
mod sources;

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use dirs::{DirCache, Names};
pub use event_log::EventLog;
pub use journal::{
    DoneFile, JOURNAL_DIR, JOURNAL_FILE, Journal, PartFile, SegmentIdentity, SegmentKey, add_range,
    key_of,
};
pub use journal_writer::JournalWriter;
pub use part::PartWriter;
pub use sources::{META_DIR, record_manifest_url, recorded_manifest_url};

/// Errors of the output tree.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The output folder could not be created or resolved.
    #[error("output folder {path}: {source}")]
    OutputDir {
        /// The folder as given.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A relative path that would leave the output folder (absolute, `..`, a symlink).
    #[error("refusing path {path:?}: {reason}")]
    UnsafePath {
        /// The path as given.
        path: PathBuf,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An I/O error on a file of the tree.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A journal record could not be written.
    #[error("journal {path}: {source}")]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// Attaches the path to an I/O error.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The output folder, canonicalized once; the only way the engine turns a relative path into a
/// file to write.
#[derive(Debug, Clone)]
pub struct OutputDir {
    root: PathBuf,
    dirs: Arc<DirCache>,
}

impl OutputDir {
    /// Creates the folder (and its parents) if needed and resolves it to its canonical path.
    pub fn create(path: &Path) -> Result<OutputDir, StoreError> {
        let wrap = |source| StoreError::OutputDir {
            path: path.to_path_buf(),
            source,
        };
        fs::create_dir_all(path).map_err(wrap)?;
        let root = fs::canonicalize(path).map_err(wrap)?;
        Ok(OutputDir {
            dirs: Arc::new(DirCache::new(root.clone())),
            root,
        })
    }

    /// The canonical path of the output folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks a relative path: only normal components (no root, no drive prefix, no `..`; `.`
    /// components are dropped), at least one, not inside the journal folder. Returns it
    /// normalized.
    fn check(relative: &Path) -> Result<PathBuf, StoreError> {
        let unsafe_path = |reason| StoreError::UnsafePath {
            path: relative.to_path_buf(),
            reason,
        };
        let mut out = PathBuf::new();
        for component in relative.components() {
            match component {
                Component::Normal(part) => out.push(part),
                Component::CurDir => {}
                Component::ParentDir => return Err(unsafe_path("it contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(unsafe_path("it is absolute"));
                }
            }
        }
        if out.as_os_str().is_empty() {
            return Err(unsafe_path("it names no file"));
        }
        if out.starts_with(JOURNAL_DIR) {
            return Err(unsafe_path("it is inside the journal folder"));
        }
        Ok(out)
    }

    /// Joins a checked relative path (see [`OutputDir::slot`]) to the output folder.
    pub fn resolve(&self, relative: &Path) -> Result<PathBuf, StoreError> {
        Ok(self.root.join(Self::check(relative)?))
    }

    /// The place of a file of the tree, checked (no syscall): its folder is opened (and
    /// created) only when the file is measured or written.
    pub fn slot(&self, relative: &Path) -> Result<FileSlot, StoreError> {
        let checked = Self::check(relative)?;
        let parent = checked.parent().map(Path::to_path_buf).unwrap_or_default();
        let unsafe_name = || StoreError::UnsafePath {
            path: relative.to_path_buf(),
            reason: "its name holds a NUL byte",
        };
        let file_name = checked.file_name().ok_or_else(unsafe_name)?;
        let names = Names::new(file_name).map_err(|_| unsafe_name())?;
        Ok(FileSlot {
            dirs: self.dirs.clone(),
            path: self.root.join(&checked),
            relative: checked,
            parent,
            names,
        })
    }

    /// A measurer of the final files of the tree, for many in a row (a re-run's check of what
    /// the journal records): it keeps the folder handle of the last file it measured, since
    /// the files of a folder come together in a plan.
    pub fn sizes(&self) -> SizeProbe<'_> {
        SizeProbe {
            out: self,
            last: None,
        }
    }

    /// Writes a whole file of the tool's own under `.dashget/` (a recording's state, its
    /// manifest snapshots) atomically: `NAME.part`, fsync, rename to `NAME`. `relative` is
    /// taken inside `.dashget/`.
    pub fn write_meta(&self, relative: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(StoreError::UnsafePath {
                path: relative.to_path_buf(),
                reason: "not a plain relative path",
            });
        }
        let path = self.root.join(META_DIR).join(relative);
        let mut part = path.clone().into_os_string();
        part.push(".part");
        let part = PathBuf::from(part);
        let result = (|| {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut file = File::create(&part)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&part, &path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&part);
        }
        result.map_err(io_err(&path))?;
        Ok(path)
    }

    /// Writes a whole file atomically: `NAME.part`, fsync, rename to `NAME`.
    pub fn write_atomic(&self, relative: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let slot = self.slot(relative)?;
        let mut file = slot.open_part(false)?;
        file.write_all(bytes).map_err(io_err(&slot.part_path()))?;
        file.sync_all().map_err(io_err(&slot.part_path()))?;
        drop(file);
        slot.rename_part()?;
        Ok(slot.path)
    }
}

/// A file of the output tree and its part file, reached through the handle of its folder.
#[derive(Debug, Clone)]
pub struct FileSlot {
    dirs: Arc<DirCache>,
    relative: PathBuf,
    parent: PathBuf,
    path: PathBuf,
    names: Names,
}

impl FileSlot {
    /// The file's full path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The part file's full path (for messages).
    pub fn part_path(&self) -> PathBuf {
        part_path(&self.path)
    }

    fn dir(&self, create: bool) -> Result<Option<Arc<dirs::Dir>>, StoreError> {
        self.dirs.get(&self.parent, create).map_err(|source| {
            if source.raw_os_error() == Some(libc::ELOOP)
                || source.raw_os_error() == Some(libc::ENOTDIR)
            {
                StoreError::UnsafePath {
                    path: self.relative.clone(),
                    reason: "one of its folders is a symlink or not a folder",
                }
            } else {
                StoreError::Io {
                    path: self.path.parent().unwrap_or(&self.path).to_path_buf(),
                    source,
                }
            }
        })
    }

    /// The size of the (final) file, `None` when there is no regular file. Asked before this
    /// run writes it (each path is written once a run): in a folder this run created, there is
    /// nothing yet, and that costs no system call.
    pub fn size(&self) -> Option<u64> {
        self.dir(false).ok()??.size(&self.names.file, true)
    }

    /// The size of the part file, `None` when there is no regular file.
    pub fn part_size(&self) -> Option<u64> {
        self.dir(false).ok()??.size(&self.names.part, false)
    }

    /// Opens the part file for writing (its folders created if needed): appending to what it
    /// holds (`append`), or emptied. Symlinks are not followed.
    pub fn open_part(&self, append: bool) -> Result<File, StoreError> {
        let dir = self.dir(true)?.ok_or_else(|| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        })?;
        dir.open_write(&self.names.part, append)
            .map_err(io_err(&self.part_path()))
    }

    /// Opens the part file for writes at their offsets (a download in pieces), keeping what it
    /// holds (its folders created if needed). Symlinks are not followed.
    pub fn open_part_positional(&self) -> Result<File, StoreError> {
        let dir = self.dir(true)?.ok_or_else(|| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        })?;
        dir.open_positional(&self.names.part)
            .map_err(io_err(&self.part_path()))
    }

    /// Writes a whole file that is all in memory under its final name, which appears only once
    /// the file is whole (an unnamed file linked into place; else a part file renamed). Its
    /// folders are created if needed.
    pub fn write_whole(&self, bytes: &[u8], sync: bool) -> Result<(), StoreError> {
        let dir = self.dir(true)?.ok_or_else(|| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        })?;
        if dir
            .write_new(&self.names.file, bytes, sync)
            .map_err(io_err(&self.path))?
        {
            return Ok(());
        }
        let mut file = self.open_part(false)?;
        io::Write::write_all(&mut file, bytes).map_err(io_err(&self.part_path()))?;
        if sync {
            file.sync_all().map_err(io_err(&self.part_path()))?;
        }
        drop(file);
        self.rename_part()
    }

    /// Renames the part file to the final name.
    pub fn rename_part(&self) -> Result<(), StoreError> {
        let Some(dir) = self.dir(false)? else {
            return Err(io_err(&self.path)(io::Error::from(io::ErrorKind::NotFound)));
        };
        dir.rename(&self.names.part, &self.names.file)
            .map_err(io_err(&self.path))
    }

    /// Removes the part file (a missing one is fine: nothing to remove).
    pub fn remove_part(&self) {
        // A part that cannot be removed is truncated by the next attempt's open anyway.
        if let Ok(Some(dir)) = self.dir(false) {
            let _ = dir.remove(&self.names.part);
        }
    }
}

/// Sizes of final files of the tree, one after the other ([`OutputDir::sizes`]).
pub struct SizeProbe<'a> {
    out: &'a OutputDir,
    /// The folder of the last file measured, and its handle (`None`: no such folder).
    last: Option<(PathBuf, Option<Arc<dirs::Dir>>)>,
}

impl SizeProbe<'_> {
    /// What [`FileSlot::size`] says of the file at `relative`: its size, `None` when there is
    /// no regular file (or in a folder this run created), or when the path is not a safe one.
    pub fn size(&mut self, relative: &Path) -> Option<u64> {
        let checked = OutputDir::check(relative).ok()?;
        let parent = checked.parent().unwrap_or(Path::new(""));
        let name = CString::new(checked.file_name()?.as_bytes()).ok()?;
        if self.last.as_ref().is_none_or(|(p, _)| p != parent) {
            let dir = self.out.dirs.get(parent, false).ok()?;
            self.last = Some((parent.to_path_buf(), dir));
        }
        self.last.as_ref()?.1.as_ref()?.size(&name, true)
    }
}

/// `NAME.part` for a final path `NAME`.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".part");
    PathBuf::from(name)
}

/// The size of a regular file, or `None` when there is no regular file at `path`.
pub fn file_size(path: &Path) -> Option<u64> {
    fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// The journal's way of writing a relative path: its components joined by `/`.
pub fn journal_key(relative: &Path) -> String {
    let mut key = String::new();
    for component in relative.components() {
        if let Component::Normal(part) = component {
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(&part.to_string_lossy());
        }
    }
    key
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn resolve_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "",
            ".",
            ".dashget/journal.bin",
        ] {
            assert!(out.resolve(Path::new(bad)).is_err(), "{bad} accepted");
        }
        let ok = out.resolve(Path::new("./a/b.m4s")).unwrap();
        assert_eq!(ok, out.root().join("a").join("b.m4s"));
    }

    #[test]
    fn a_symlinked_folder_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let through = out.slot(Path::new("link/deeper/x.m4s")).unwrap();
        assert!(matches!(
            through.open_part(false),
            Err(StoreError::UnsafePath { .. })
        ));
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
        let real = out.slot(Path::new("real/x.m4s")).unwrap();
        assert_eq!(real.size(), None);
        real.open_part(false).unwrap().write_all(b"abc").unwrap();
        assert_eq!(real.part_size(), Some(3));
        real.rename_part().unwrap();
        // A folder of this run: the final name is known to be new, no `stat`.
        assert_eq!(real.size(), None);
        let again = OutputDir::create(dir.path()).unwrap();
        assert_eq!(again.slot(Path::new("real/x.m4s")).unwrap().size(), Some(3));
        assert_eq!(fs::read(dir.path().join("real/x.m4s")).unwrap(), b"abc");
    }

    #[test]
    fn a_whole_file_appears_at_once_and_replaces_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        let slot = out.slot(Path::new("a/b/x.m4s")).unwrap();
        slot.write_whole(b"first", false).unwrap();
        assert_eq!(fs::read(dir.path().join("a/b/x.m4s")).unwrap(), b"first");
        assert!(!dir.path().join("a/b/x.m4s.part").exists());
        // A file already under the name (a mismatch downloaded again) is replaced, through a
        // part file and a rename: linking cannot replace.
        slot.write_whole(b"second, longer", true).unwrap();
        assert_eq!(
            fs::read(dir.path().join("a/b/x.m4s")).unwrap(),
            b"second, longer"
        );
        let names: Vec<_> = fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.m4s"], "nothing else in the folder");
        // Through a symlinked folder: refused, nothing written outside.
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let through = out.slot(Path::new("link/x.m4s")).unwrap();
        assert!(through.write_whole(b"x", false).is_err());
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_size_probe_measures_files_folder_after_folder() {
        let dir = tempfile::tempdir().unwrap();
        for (path, bytes) in [("a/1", "x"), ("a/2", "yy"), ("b/1", "zzz")] {
            fs::create_dir_all(dir.path().join(path).parent().unwrap()).unwrap();
            fs::write(dir.path().join(path), bytes).unwrap();
        }
        fs::create_dir(dir.path().join("a/sub")).unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        let mut sizes = out.sizes();
        let size = |sizes: &mut SizeProbe, p: &str| sizes.size(Path::new(p));
        assert_eq!(size(&mut sizes, "a/1"), Some(1));
        assert_eq!(size(&mut sizes, "a/2"), Some(2));
        assert_eq!(size(&mut sizes, "a/3"), None);
        assert_eq!(size(&mut sizes, "a/sub"), None, "a folder is not a file");
        assert_eq!(size(&mut sizes, "b/1"), Some(3));
        assert_eq!(size(&mut sizes, "c/1"), None, "no such folder");
        assert_eq!(
            size(&mut sizes, "a/1"),
            Some(1),
            "back to a folder met before"
        );
        assert_eq!(size(&mut sizes, "../a/1"), None, "not a path of the tree");
        // The same answers as a slot's.
        assert_eq!(out.slot(Path::new("b/1")).unwrap().size(), Some(3));
    }

    #[test]
    fn write_atomic_leaves_no_part() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        let path = out
            .write_atomic(Path::new("a/manifest.mpd"), b"<MPD/>")
            .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"<MPD/>");
        assert!(!part_path(&path).exists());
    }

    #[test]
    fn journal_keys_use_slashes() {
        assert_eq!(journal_key(Path::new("./a/b/c.m4s")), "a/b/c.m4s");
    }
}
