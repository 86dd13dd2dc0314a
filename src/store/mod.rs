//! The output tree: part files renamed into place once verified, and the journal of finished files.
//!
//! Every file the engine writes goes through [`OutputDir`]: a relative path is checked (no root,
//! no `..`), joined to the canonical output folder, and its parent folder is checked again after
//! it is created (a symlink inside the tree cannot lead a write outside it). Data is written to
//! `NAME.part` and renamed to `NAME` only once complete, so that a final name never stands for a
//! truncated file, whatever moment the process dies at; with an fsync before the rename
//! ([`commit_part`], `FetchOptions::sync`) this holds for power cuts too.

mod journal;
mod part;
mod sources;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

pub use journal::{
    ENTRY_DONE, ENTRY_PART, JOURNAL_DIR, JOURNAL_FILE, Journal, JournalEntry, JournalWriter,
};
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
    /// A relative path that would leave the output folder (absolute, `..`, a symlink outside).
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
    /// A journal line could not be written.
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
        Ok(OutputDir { root })
    }

    /// The canonical path of the output folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Joins a relative path to the output folder after checking that it is made only of normal
    /// components (no root, no drive prefix, no `..`; `.` components are dropped).
    pub fn resolve(&self, relative: &Path) -> Result<PathBuf, StoreError> {
        let unsafe_path = |reason| StoreError::UnsafePath {
            path: relative.to_path_buf(),
            reason,
        };
        let mut out = self.root.clone();
        let mut normal = 0usize;
        for component in relative.components() {
            match component {
                Component::Normal(part) => {
                    out.push(part);
                    normal += 1;
                }
                Component::CurDir => {}
                Component::ParentDir => return Err(unsafe_path("it contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(unsafe_path("it is absolute"));
                }
            }
        }
        if normal == 0 {
            return Err(unsafe_path("it names no file"));
        }
        if out.starts_with(self.root.join(JOURNAL_DIR)) {
            return Err(unsafe_path("it is inside the journal folder"));
        }
        Ok(out)
    }

    /// [`OutputDir::resolve`], then creates the parent folders and checks that the parent, with
    /// every symlink followed, is still inside the output folder.
    pub fn prepare(&self, relative: &Path) -> Result<PathBuf, StoreError> {
        let path = self.resolve(relative)?;
        if let Some(parent) = path.parent()
            && parent != self.root
        {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
            let real = fs::canonicalize(parent).map_err(io_err(parent))?;
            if !real.starts_with(&self.root) {
                return Err(StoreError::UnsafePath {
                    path: relative.to_path_buf(),
                    reason: "its folder is a symlink that leads outside the output folder",
                });
            }
        }
        Ok(path)
    }

    /// Writes a whole file atomically: `NAME.part`, fsync, rename to `NAME`.
    pub fn write_atomic(&self, relative: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let path = self.prepare(relative)?;
        let part = part_path(&path);
        let mut file = open_part(&part, false)?;
        file.write_all(bytes).map_err(io_err(&part))?;
        commit_part(file, &part, &path)?;
        Ok(path)
    }
}

/// `NAME.part` for a final path `NAME`.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".part");
    PathBuf::from(name)
}

/// Opens a part file for writing: appending to what it holds (`append`), or emptied. Symlinks
/// are not followed (`O_NOFOLLOW`): a link planted under a part name cannot redirect the write.
pub fn open_part(part: &Path, append: bool) -> Result<File, StoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create(true);
    if append {
        options.append(true);
    } else {
        options.truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(part).map_err(io_err(part))
}

/// Makes a verified part file final: flushes it to disk, then renames it over the final name.
/// The fsync comes first so that after a power cut the final name holds the whole file or is
/// absent, never an empty or short file.
pub fn commit_part(file: File, part: &Path, path: &Path) -> Result<(), StoreError> {
    file.sync_all().map_err(io_err(part))?;
    drop(file);
    fs::rename(part, path).map_err(io_err(path))
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
            ".dashget/journal.jsonl",
        ] {
            assert!(out.resolve(Path::new(bad)).is_err(), "{bad} accepted");
        }
        let ok = out.resolve(Path::new("./a/b.m4s")).unwrap();
        assert_eq!(ok, out.root().join("a").join("b.m4s"));
    }

    #[test]
    fn prepare_refuses_symlinked_folder_outside() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path()).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        assert!(out.prepare(Path::new("link/x.m4s")).is_err());
        assert!(out.prepare(Path::new("real/x.m4s")).is_ok());
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
