//! Finding the manifest in a folder, re-planning it exactly as dashget did, telling fMP4
//! representations from others, and listing the local files of each.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use url::Url;

use crate::plan::{Plan, PlanError, RepresentationPlan, plan};

/// One local file of a representation, in plan order: what `dump` and the checker read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    /// The path shown (relative to the manifest's folder).
    pub display_path: String,
    /// Where the file is on disk.
    pub fs_path: PathBuf,
}

/// Why a presentation folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The folder cannot be listed.
    #[error("{0}: cannot read the folder: {1}")]
    Folder(PathBuf, std::io::Error),
    /// No `.mpd` in the folder.
    #[error("{0}: no manifest (.mpd) in this folder")]
    NoManifest(PathBuf),
    /// Several `.mpd` files and no `--mpd` to choose.
    #[error("{folder}: several manifests ({}); choose one with --mpd NAME", names.join(", "))]
    SeveralManifests {
        /// The folder.
        folder: PathBuf,
        /// Their file names.
        names: Vec<String>,
    },
    /// `--mpd NAME` names no file.
    #[error("{0}: no such manifest")]
    MissingManifest(PathBuf),
    /// The manifest cannot be read.
    #[error("{0}: cannot read the manifest: {1}")]
    Read(PathBuf, std::io::Error),
    /// The manifest cannot be planned.
    #[error("{0}: {1}")]
    Plan(PathBuf, PlanError),
    /// `-r` ids that match no representation.
    #[error("{0}: no representation with id {1}")]
    UnknownRepresentations(PathBuf, String),
}

/// What mp4dump does with a representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// ISO-BMFF: dump its files ([`Presentation::files`]), this many.
    Dump(u64),
    /// Not ISO-BMFF: skipped, for this reason.
    Skip(String),
}

/// A representation id (segments of every Period with that id, in plan order) and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// `Representation@id`.
    pub id: String,
    /// Dump or skip.
    pub verdict: Verdict,
}

/// A presentation folder, planned.
#[derive(Debug, Clone)]
pub struct Presentation {
    /// The manifest file.
    pub manifest: PathBuf,
    /// The folder it is in (where dumps are written).
    pub folder: PathBuf,
    /// Its plan.
    pub plan: Plan,
    /// Representations in plan order (an id that recurs in several Periods appears once).
    pub representations: Vec<Discovered>,
}

impl Presentation {
    /// The plans of the representation `id`, one per Period it is in, in order.
    pub fn parts<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a RepresentationPlan> + 'a {
        self.plan.representations.iter().filter(move |r| r.id == id)
    }

    /// The local files of the representation `id` (all its Periods), each once, in plan order
    /// (a byte-range representation is one file), computed as they are taken: a presentation
    /// of millions of segments holds no list of them.
    pub fn files<'a>(&'a self, id: &'a str) -> impl Iterator<Item = SegmentFile> + 'a {
        local_files(&self.plan, self.parts(id), &self.folder)
    }
}

/// Finds the manifest in `folder`: the one `.mpd` there, or the one named `mpd_name`.
pub fn find_manifest(folder: &Path, mpd_name: Option<&str>) -> Result<PathBuf, DiscoverError> {
    if let Some(name) = mpd_name {
        let path = folder.join(name);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(DiscoverError::MissingManifest(path))
        };
    }
    let entries =
        std::fs::read_dir(folder).map_err(|e| DiscoverError::Folder(folder.to_path_buf(), e))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.to_ascii_lowercase().ends_with(".mpd"))
        .collect();
    names.sort();
    match names.len() {
        0 => Err(DiscoverError::NoManifest(folder.to_path_buf())),
        1 => Ok(folder.join(&names[0])),
        _ => Err(DiscoverError::SeveralManifests {
            folder: folder.to_path_buf(),
            names,
        }),
    }
}

/// The URL the manifest was downloaded from, as dashget recorded it beside the manifest
/// (`.dashget/sources.json`), so that the plan, hence the local paths, are exactly dashget's.
/// Falls back to the manifest's own `file://` URL, which gives the same paths for every
/// segment below the manifest's folder.
pub fn manifest_url(manifest: &Path) -> Result<Url, DiscoverError> {
    let absolute = std::path::absolute(manifest)
        .map_err(|e| DiscoverError::Read(manifest.to_path_buf(), e))?;
    if let (Some(folder), Some(name)) = (
        absolute.parent(),
        absolute.file_name().and_then(|n| n.to_str()),
    ) && let Some(url) = crate::store::recorded_manifest_url(folder, name)
    {
        return Ok(url);
    }
    Url::from_file_path(&absolute).map_err(|()| {
        DiscoverError::Read(
            manifest.to_path_buf(),
            std::io::Error::other("not an absolute path"),
        )
    })
}

/// Plans the manifest of `folder` and sorts its representations into dump and skip.
pub fn discover(
    folder: &Path,
    mpd_name: Option<&str>,
    reps: &[String],
) -> Result<Presentation, DiscoverError> {
    let manifest = find_manifest(folder, mpd_name)?;
    let bytes = std::fs::read(&manifest).map_err(|e| DiscoverError::Read(manifest.clone(), e))?;
    let url = manifest_url(&manifest)?;
    let mut plan = plan(&bytes, &url).map_err(|e| DiscoverError::Plan(manifest.clone(), e))?;
    let unknown = plan.retain_representations(reps);
    if !unknown.is_empty() {
        return Err(DiscoverError::UnknownRepresentations(
            manifest,
            unknown.join(", "),
        ));
    }
    let folder = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut ids: Vec<&str> = Vec::new();
    for rep in &plan.representations {
        if !ids.contains(&rep.id.as_str()) {
            ids.push(&rep.id);
        }
    }
    let representations = ids
        .iter()
        .map(|id| {
            let parts: Vec<&RepresentationPlan> = plan
                .representations
                .iter()
                .filter(|r| r.id == *id)
                .collect();
            Discovered {
                id: (*id).to_string(),
                verdict: verdict(&plan, &parts, &folder),
            }
        })
        .collect();
    Ok(Presentation {
        manifest,
        folder,
        plan,
        representations,
    })
}

/// The local files of a representation whose Periods' plans are `parts`, each once, in plan
/// order (see [`FileStarts`]). Lazy: only the shared files seen so far are remembered.
pub fn local_files<'a>(
    plan: &'a Plan,
    parts: impl Iterator<Item = &'a RepresentationPlan> + 'a,
    folder: &'a Path,
) -> impl Iterator<Item = SegmentFile> + 'a {
    let mut starts = FileStarts::new(plan);
    parts.flat_map(|r| r.segments()).filter_map(move |segment| {
        matches!(starts.place(&segment.path), Place::Begins(_)).then(|| SegmentFile {
            display_path: display_path(&segment.path),
            fs_path: folder.join(&segment.path),
        })
    })
}

/// Where each segment of a representation, in plan order, falls among its local files: the
/// one rule by which the files are listed (`local_files`) and their planned segments gathered
/// (the checker's `PlannedFiles`). A run of segments in one file (byte ranges) is that file
/// once; so is a file the plan says several segments share (several Periods naming it), where
/// it first appears.
pub(crate) struct FileStarts<'a> {
    plan: &'a Plan,
    /// The file begun last.
    last: Option<PathBuf>,
    /// The shared files begun so far (only those: memory does not grow with the segments).
    shared_seen: HashSet<u128>,
}

/// Where a segment falls (see [`FileStarts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the file begun last (a run of byte ranges).
    Continues,
    /// In a shared file begun earlier.
    Seen,
    /// It begins a file; with the plan's key of that file when several segments share it.
    Begins(Option<u128>),
}

impl<'a> FileStarts<'a> {
    pub(crate) fn new(plan: &'a Plan) -> FileStarts<'a> {
        FileStarts {
            plan,
            last: None,
            shared_seen: HashSet::new(),
        }
    }

    /// Where the next segment, at `path`, falls.
    pub(crate) fn place(&mut self, path: &Path) -> Place {
        if self.last.as_deref() == Some(path) {
            return Place::Continues;
        }
        let shared = self.plan.shared_file(path).map(|(key, _)| key);
        if let Some(key) = shared
            && !self.shared_seen.insert(key)
        {
            return Place::Seen;
        }
        self.last = Some(path.to_path_buf());
        Place::Begins(shared)
    }
}

/// How a segment's local path (relative to the manifest's folder) is shown: its components
/// joined by `/`.
pub fn display_path(path: &Path) -> String {
    path.iter()
        .map(|c| c.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn verdict(plan: &Plan, parts: &[&RepresentationPlan], folder: &Path) -> Verdict {
    let first = parts[0];
    if let Some(reason) = declared_non_mp4(first) {
        return Verdict::Skip(reason);
    }
    let mut count = 0;
    let mut sniffed = false;
    for file in local_files(plan, parts.iter().copied(), folder) {
        count += 1;
        // The bytes have the last word: the first file that exists must start with an
        // ISO-BMFF box.
        if !sniffed && file.fs_path.is_file() {
            sniffed = true;
            if let Some(reason) = non_mp4_bytes(&file.fs_path) {
                return Verdict::Skip(format!("{}: {reason}", file.display_path));
            }
        }
    }
    Verdict::Dump(count)
}

/// A reason to skip, from mimeType, codecs or file extensions.
pub(crate) fn declared_non_mp4(rep: &RepresentationPlan) -> Option<String> {
    let mime = rep.mime_type.as_deref().unwrap_or("").to_ascii_lowercase();
    if mime.contains("webm") {
        return Some(format!("WebM ({mime})"));
    }
    if mime.contains("mp2t") {
        return Some(format!("MPEG-TS ({mime})"));
    }
    if mime.starts_with("text/") || mime.contains("ttml") || mime.contains("vtt") {
        return Some(format!("text ({mime})"));
    }
    if mime.starts_with("image/") {
        return Some(format!("images ({mime})"));
    }
    if mime.ends_with("/mp4") {
        return None;
    }
    let extension = rep
        .segments()
        .find_map(|s| {
            s.path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
        })
        .unwrap_or_default();
    match extension.as_str() {
        "webm" | "weba" | "mkv" => Some(format!("WebM (.{extension} files)")),
        "ts" | "m2ts" => Some(format!("MPEG-TS (.{extension} files)")),
        "vtt" | "webvtt" | "ttml" | "xml" | "srt" | "dfxp" => {
            Some(format!("text (.{extension} files)"))
        }
        "jpg" | "jpeg" | "png" => Some(format!("images (.{extension} files)")),
        _ => None,
    }
}

/// Whether a file's first bytes are not an ISO-BMFF box a DASH segment starts with.
fn non_mp4_bytes(path: &Path) -> Option<String> {
    let mut head = [0u8; 8];
    let mut file = File::open(path).ok()?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(_) => return None,
        }
    }
    if filled < 8 {
        return Some(format!("only {filled} bytes, not an ISO-BMFF file"));
    }
    let kind = &head[4..8];
    const STARTS: [&[u8; 4]; 8] = [
        b"ftyp", b"styp", b"moof", b"sidx", b"moov", b"free", b"emsg", b"prft",
    ];
    if STARTS.iter().any(|s| kind == *s) {
        return None;
    }
    if head[..4] == [0x1a, 0x45, 0xdf, 0xa3] {
        return Some("WebM/Matroska content".into());
    }
    if head[0] == 0x47 {
        return Some("MPEG-TS content".into());
    }
    Some(format!(
        "content is not ISO-BMFF (starts with {:02x?})",
        &head
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_choice() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(matches!(
            find_manifest(dir.path(), None),
            Err(DiscoverError::NoManifest(_))
        ));
        std::fs::write(dir.path().join("a.mpd"), "x").expect("w");
        assert_eq!(
            find_manifest(dir.path(), None).expect("one"),
            dir.path().join("a.mpd")
        );
        std::fs::write(dir.path().join("b.MPD"), "x").expect("w");
        let err = find_manifest(dir.path(), None)
            .expect_err("two")
            .to_string();
        assert!(
            err.contains("several manifests (a.mpd, b.MPD); choose one with --mpd NAME"),
            "{err}"
        );
        assert_eq!(
            find_manifest(dir.path(), Some("b.MPD")).expect("named"),
            dir.path().join("b.MPD")
        );
        assert!(matches!(
            find_manifest(dir.path(), Some("c.mpd")),
            Err(DiscoverError::MissingManifest(_))
        ));
    }
}
