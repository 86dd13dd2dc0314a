//! `mp4dump -d DIR`: every fMP4 representation of a downloaded presentation into
//! `{rep_id}.dump` (or `.json`), and optionally `{rep_id}.mp4`, each written atomically.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::discover::{DiscoverError, SegmentFile, Verdict, discover};
use crate::dump::{DumpOptions, Format, MissingSegment, RepresentationStats, write_representation};

/// What `mp4dump -d` is asked to do.
#[derive(Debug, Clone)]
pub struct FolderOptions {
    /// The presentation folder.
    pub folder: PathBuf,
    /// Which manifest, when the folder holds several.
    pub mpd: Option<String>,
    /// Only these representation ids (all when empty).
    pub reps: Vec<String>,
    /// Verbosity and format.
    pub dump: DumpOptions,
    /// Also write `{rep_id}.mp4`, the segments concatenated.
    pub concat: bool,
}

/// One representation's outcome.
#[derive(Debug)]
pub enum RepresentationOutcome {
    /// Dumped into `output` (and concatenated into `concat` when asked).
    Dumped {
        /// The representation id.
        id: String,
        /// The dump file.
        output: PathBuf,
        /// The concatenation, when `--concat`.
        concat: Option<PathBuf>,
        /// What the dump saw.
        stats: RepresentationStats,
    },
    /// Not ISO-BMFF.
    Skipped {
        /// The representation id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The dump could not be written (the folder is read-only, the disk is full…).
    Failed {
        /// The representation id.
        id: String,
        /// Why.
        reason: String,
    },
}

/// What `mp4dump -d` did.
#[derive(Debug)]
pub struct FolderReport {
    /// The manifest used.
    pub manifest: PathBuf,
    /// Per representation, in plan order.
    pub outcomes: Vec<RepresentationOutcome>,
}

impl FolderReport {
    /// Whether every dumped representation was complete and well formed, and every write worked.
    pub fn is_clean(&self) -> bool {
        self.outcomes.iter().all(|o| match o {
            RepresentationOutcome::Dumped { stats, .. } => {
                stats.missing.is_empty() && stats.malformed_segments == 0
            }
            RepresentationOutcome::Skipped { .. } => true,
            RepresentationOutcome::Failed { .. } => false,
        })
    }
}

/// Dumps every fMP4 representation of the presentation in `options.folder`.
pub fn dump_folder(options: &FolderOptions) -> Result<FolderReport, DiscoverError> {
    let presentation = discover(&options.folder, options.mpd.as_deref(), &options.reps)?;
    let extension = match options.dump.format {
        Format::Text => "dump",
        Format::Json => "json",
    };
    let mut outcomes = Vec::new();
    for rep in &presentation.representations {
        let files = match &rep.verdict {
            Verdict::Skip(reason) => {
                outcomes.push(RepresentationOutcome::Skipped {
                    id: rep.id.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
            Verdict::Dump(_) => presentation.files(&rep.id),
        };
        let stem = file_stem(&rep.id);
        let output = presentation.folder.join(format!("{stem}.{extension}"));
        let written = write_atomically(&output, |out| {
            write_representation(out, &rep.id, files, &options.dump)
        });
        let stats = match written {
            Ok(stats) => stats,
            Err(e) => {
                outcomes.push(RepresentationOutcome::Failed {
                    id: rep.id.clone(),
                    reason: format!("{}: {e}", output.display()),
                });
                continue;
            }
        };
        let concat = if options.concat {
            let path = presentation.folder.join(format!("{stem}.mp4"));
            match write_atomically(&path, |out| concatenate(out, presentation.files(&rep.id))) {
                Ok(()) => Some(path),
                Err(e) => {
                    outcomes.push(RepresentationOutcome::Failed {
                        id: rep.id.clone(),
                        reason: format!("{}: {e}", path.display()),
                    });
                    continue;
                }
            }
        } else {
            None
        };
        outcomes.push(RepresentationOutcome::Dumped {
            id: rep.id.clone(),
            output,
            concat,
            stats,
        });
    }
    Ok(FolderReport {
        manifest: presentation.manifest,
        outcomes,
    })
}

/// Writes `path` through a temporary file beside it, renamed into place once complete: a dump
/// interrupted half way never stands under its final name.
pub(crate) fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<T>,
) -> io::Result<T> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut out = BufWriter::with_capacity(256 * 1024, File::create(&tmp)?);
        let value = write(&mut out)?;
        out.flush()?;
        std::fs::rename(&tmp, path)?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The segments, concatenated in order (missing ones are left out; the dump reports them).
fn concatenate(out: &mut impl Write, files: impl Iterator<Item = SegmentFile>) -> io::Result<()> {
    for file in files {
        if let Ok(mut input) = File::open(&file.fs_path) {
            io::copy(&mut input, out)?;
        }
    }
    Ok(())
}

/// A line for each missing segment, for the summary.
pub fn describe_missing(missing: &[MissingSegment]) -> impl Iterator<Item = String> + '_ {
    missing.iter().map(|m| format!("{}: {}", m.path, m.reason))
}

/// The file name a representation's dump or concatenation gets: every character that is not
/// safe in a file name (`/` and `\` included) becomes `_`.
pub fn file_stem(rep_id: &str) -> String {
    let stem: String = rep_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.=+,@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.bytes().all(|b| b == b'.') {
        format!("_{}", stem.replace('.', "_"))
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems() {
        let rows = [
            ("video/avc1/1", "video_avc1_1"),
            ("a\\b", "a_b"),
            ("audio=128000", "audio=128000"),
            ("..", "___"),
            ("", "_"),
            ("v 1:x", "v_1_x"),
        ];
        for (id, want) in rows {
            assert_eq!(file_stem(id), want, "{id}");
        }
    }
}
