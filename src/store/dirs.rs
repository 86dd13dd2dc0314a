//! Folder handles of the output tree: each folder is opened (and created) once, by `openat`
//! from its parent with `O_NOFOLLOW`, and files are then opened, measured and renamed relative
//! to its handle. So a file costs no path walk, no canonicalisation and no `mkdir` check, and a
//! symlink planted anywhere inside the tree can never lead a write outside it.

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Folders kept open at once (beyond that the cache starts over: a manifest with many folders
/// costs reopenings, never the process's file descriptor limit).
const MAX_OPEN: usize = 256;

/// One open folder of the tree.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    /// Created by this process: it held nothing before, so a file not written through this
    /// handle is not there, and looking for it costs no system call.
    created: bool,
}

/// The open folders, by path relative to the output folder (`""` is the output folder).
#[derive(Debug)]
pub(crate) struct DirCache {
    root: PathBuf,
    open: Mutex<HashMap<PathBuf, Arc<Dir>>>,
}

fn cstr(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

impl Dir {
    fn open_at(parent: libc::c_int, name: &CStr) -> io::Result<Dir> {
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: `name` is NUL-terminated; the returned descriptor is owned below.
        let fd = check(unsafe { libc::openat(parent, name.as_ptr(), flags) })?;
        // SAFETY: a descriptor just returned by openat, owned by nobody else.
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            created: false,
        })
    }

    /// The size of the regular file `name` in this folder (`None`: absent, or not a file).
    /// With `unwritten` (the caller has not written `name` in this run), a folder this process
    /// created answers at once: it held nothing before.
    pub fn size(&self, name: &CStr, unwritten: bool) -> Option<u64> {
        if unwritten && self.created {
            return None;
        }
        // SAFETY: an all-zero `stat` is a valid value to be overwritten.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: valid descriptor, NUL-terminated name, `st` writable.
        let ret = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                name.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        (ret == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG).then_some(st.st_size as u64)
    }

    /// Opens `name` for writing, creating it: appending, or emptied. Symlinks are not followed.
    pub fn open_write(&self, name: &CStr, append: bool) -> io::Result<File> {
        let mode = if append {
            libc::O_APPEND
        } else {
            libc::O_TRUNC
        };
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC | mode;
        // SAFETY: NUL-terminated name; the descriptor is owned by the File.
        let fd = check(unsafe { libc::openat(self.fd.as_raw_fd(), name.as_ptr(), flags, 0o644) })?;
        // SAFETY: a descriptor just returned by openat, owned by nobody else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Opens `name` for writing at any offset, creating it and keeping what it holds (neither
    /// appending nor emptied). Symlinks are not followed.
    pub fn open_positional(&self, name: &CStr) -> io::Result<File> {
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: NUL-terminated name; the descriptor is owned by the File.
        let fd = check(unsafe { libc::openat(self.fd.as_raw_fd(), name.as_ptr(), flags, 0o644) })?;
        // SAFETY: a descriptor just returned by openat, owned by nobody else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Writes `bytes` as the new file `name` in one step: an unnamed file in this folder
    /// (`O_TMPFILE`), written (and flushed to disk when `sync`), then linked under `name`, so
    /// the name appears only once the file is whole, at the cost of one directory entry (a part
    /// file and its rename cost three). `Ok(false)` when that cannot be done here (a file
    /// system or kernel without `O_TMPFILE`, `name` taken, no way to link): the caller writes a
    /// part file and renames it instead.
    #[cfg(target_os = "linux")]
    pub fn write_new(&self, name: &CStr, bytes: &[u8], sync: bool) -> io::Result<bool> {
        use std::io::Write as _;
        use std::sync::atomic::{AtomicBool, Ordering};
        // Whether `linkat(AT_EMPTY_PATH)` is allowed (older kernels want a capability for it);
        // the `/proc/self/fd` link is the way otherwise.
        static EMPTY_PATH_REFUSED: AtomicBool = AtomicBool::new(false);
        static UNSUPPORTED: AtomicBool = AtomicBool::new(false);
        if UNSUPPORTED.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let dir = self.fd.as_raw_fd();
        let flags = libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC;
        // SAFETY: a valid folder descriptor and a NUL-terminated name.
        let fd = unsafe { libc::openat(dir, c".".as_ptr(), flags, 0o644) };
        if fd < 0 {
            let error = io::Error::last_os_error();
            return match error.raw_os_error() {
                Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOENT) => {
                    UNSUPPORTED.store(true, Ordering::Relaxed);
                    Ok(false)
                }
                _ => Err(error),
            };
        }
        // SAFETY: a descriptor just returned by openat, owned by nobody else.
        let mut file = unsafe { File::from_raw_fd(fd) };
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        if !EMPTY_PATH_REFUSED.load(Ordering::Relaxed) {
            // SAFETY: valid descriptors; an empty, NUL-terminated path with AT_EMPTY_PATH names
            // the open file itself.
            let ret =
                unsafe { libc::linkat(fd, c"".as_ptr(), dir, name.as_ptr(), libc::AT_EMPTY_PATH) };
            if ret == 0 {
                return Ok(true);
            }
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EPERM | libc::ENOENT | libc::EINVAL) => {
                    EMPTY_PATH_REFUSED.store(true, Ordering::Relaxed);
                }
                _ => return Ok(false),
            }
        }
        let proc = CString::new(format!("/proc/self/fd/{fd}")).map_err(io::Error::other)?;
        // SAFETY: NUL-terminated paths and a valid folder descriptor.
        let ret = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                proc.as_ptr(),
                dir,
                name.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if ret != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) {
            // No /proc: never again.
            UNSUPPORTED.store(true, Ordering::Relaxed);
        }
        Ok(ret == 0)
    }

    /// Elsewhere than Linux: always a part file and a rename.
    #[cfg(not(target_os = "linux"))]
    pub fn write_new(&self, _name: &CStr, _bytes: &[u8], _sync: bool) -> io::Result<bool> {
        Ok(false)
    }

    /// Renames `from` to `to`, both in this folder.
    pub fn rename(&self, from: &CStr, to: &CStr) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        // SAFETY: valid descriptor and NUL-terminated names.
        check(unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) }).map(|_| ())
    }

    /// Removes the file `name` of this folder.
    pub fn remove(&self, name: &CStr) -> io::Result<()> {
        // SAFETY: valid descriptor and NUL-terminated name.
        check(unsafe { libc::unlinkat(self.fd.as_raw_fd(), name.as_ptr(), 0) }).map(|_| ())
    }
}

impl DirCache {
    /// The cache of the output folder `root` (already created and canonical).
    pub fn new(root: PathBuf) -> DirCache {
        DirCache {
            root,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The folder `relative` (made of normal components only, checked by the caller), opened
    /// from the output folder component by component without following symlinks; created when
    /// missing if `create`, else `Ok(None)` when missing.
    pub fn get(&self, relative: &Path, create: bool) -> io::Result<Option<Arc<Dir>>> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = open.get(relative) {
            return Ok(Some(dir.clone()));
        }
        if open.len() >= MAX_OPEN {
            open.clear();
        }
        let root_c = cstr(self.root.as_os_str())?;
        let mut dir = match open.get(Path::new("")) {
            Some(root) => root.clone(),
            None => {
                let root = Arc::new(Dir::open_at(libc::AT_FDCWD, &root_c)?);
                open.insert(PathBuf::new(), root.clone());
                root
            }
        };
        let mut walked = PathBuf::new();
        for component in relative.components() {
            walked.push(component);
            if let Some(known) = open.get(&walked) {
                dir = known.clone();
                continue;
            }
            let name = cstr(component.as_os_str())?;
            let next = match Dir::open_at(dir.fd.as_raw_fd(), &name) {
                Ok(next) => next,
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                    // SAFETY: valid descriptor and NUL-terminated name.
                    let made = unsafe { libc::mkdirat(dir.fd.as_raw_fd(), name.as_ptr(), 0o755) };
                    if made < 0 {
                        let e = io::Error::last_os_error();
                        // Another download created it meanwhile.
                        if e.kind() != io::ErrorKind::AlreadyExists {
                            return Err(e);
                        }
                    }
                    let mut opened = Dir::open_at(dir.fd.as_raw_fd(), &name)?;
                    opened.created = made == 0;
                    opened
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            dir = Arc::new(next);
            open.insert(walked.clone(), dir.clone());
        }
        Ok(Some(dir))
    }
}

/// The names of a file and of its part file, ready for the `*at` calls.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub file: CString,
    pub part: CString,
}

impl Names {
    pub fn new(file_name: &OsStr) -> io::Result<Names> {
        let mut part = file_name.to_os_string();
        part.push(".part");
        Ok(Names {
            file: cstr(file_name)?,
            part: cstr(&part)?,
        })
    }
}
