//! Dumping MP4 files and whole representations: each file's box tree in Bento4's text or JSON
//! layout, with offsets, streamed into a writer.
//!
//! [`dump_file`] prints one file exactly as Bento4's `mp4dump` does (plus offsets).
//! [`write_representation`] prints the segments of a representation one after the other, each
//! introduced by a `#` line naming the segment, its size and its offset in the representation
//! as if the segments were one file; missing segments are recorded, not fatal.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::boxes::walk_file;
use crate::discover::SegmentFile;
use crate::isobmff::Source;
pub use crate::render::Format;
use crate::render::{Document, SegmentHeader, WalkSink, document};

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpOptions {
    /// 0..=3 print what Bento4 prints at that verbosity; 4 adds our decoders for the boxes
    /// Bento4 prints as a header only, and says where and why a box list ended early.
    pub verbosity: u8,
    /// Text or JSON.
    pub format: Format,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            verbosity: 3,
            format: Format::Text,
        }
    }
}

/// What dumping one file saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DumpStats {
    /// Boxes printed.
    pub boxes: u64,
    /// Size of the file.
    pub bytes: u64,
    /// Places where a box list ended early or a box could not be decoded (the walk went on
    /// where it safely could, as Bento4 does).
    pub malformed: u64,
}

/// Why a dump failed.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The input could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file (or `<input>` for a reader).
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The output could not be written.
    #[error("cannot write the dump: {0}")]
    Write(#[source] io::Error),
}

/// Dumps the box tree of one file of `len` bytes read from `input` into `out`: Bento4's whole
/// output (in JSON, with its `[`…`]` wrapper), plus offsets.
pub fn dump_file<R: Read + Seek, W: Write>(
    input: &mut R,
    len: u64,
    out: &mut W,
    opts: &DumpOptions,
) -> Result<DumpStats, DumpError> {
    let verbosity = opts.verbosity.min(4);
    let mut src = Source::new(input);
    let buffered = BufWriter::with_capacity(64 * 1024, out);
    let mut sink = document(opts.format, Document::File, buffered, verbosity);
    let header = SegmentHeader {
        path: "<input>",
        size: len,
        offset: 0,
    };
    sink.start_segment(&header).map_err(DumpError::Write)?;
    let walk = walk_file(&mut src, len, sink.boxes());
    // A write error wins over a read error: once the output is gone, nothing else matters.
    if let Some(e) = sink.boxes().io_error() {
        return Err(DumpError::Write(e));
    }
    let walk = walk.map_err(|source| DumpError::Read {
        path: "<input>".into(),
        source,
    })?;
    sink.end_segment(None).map_err(DumpError::Write)?;
    sink.finish().map_err(DumpError::Write)?;
    Ok(DumpStats {
        boxes: walk.boxes,
        bytes: len,
        malformed: walk.malformed,
    })
}

/// Dumps the file at `path` (see [`dump_file`]); errors name the file.
pub fn dump_path<W: Write>(
    path: &Path,
    out: &mut W,
    opts: &DumpOptions,
) -> Result<DumpStats, DumpError> {
    let named = |source| DumpError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(named)?;
    let len = file.metadata().map_err(named)?.len();
    dump_file(&mut file, len, out, opts).map_err(|e| match e {
        DumpError::Read { source, .. } => named(source),
        other => other,
    })
}

/// A segment that could not be dumped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSegment {
    /// The segment's display path.
    pub path: String,
    /// Why (the I/O error, in words).
    pub reason: String,
}

/// What dumping a representation saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepresentationStats {
    /// Segments whose box tree was written.
    pub segments: u64,
    /// Segments that were missing or unreadable, with reasons.
    pub missing: Vec<MissingSegment>,
    /// Boxes printed, all segments together.
    pub boxes: u64,
    /// Bytes of the segments dumped.
    pub bytes: u64,
    /// Segments in which a box list ended early or a box could not be decoded.
    pub malformed_segments: u64,
}

/// Writes the box trees of a representation's segments, in order, into `out`.
///
/// Text: for each segment a line `# {display_path} size={size} offset={off} (0x{OFFHEX})`
/// (`off` = the sum of the sizes of the segments before it, hex in lowercase), then its boxes
/// in Bento4's text layout with offsets within the segment's own file. A segment that cannot
/// be read gives `# {display_path} MISSING: {reason}` and the dump goes on.
///
/// JSON: `{"representation": ID, "segments": [{"path", "size", "offset", "boxes": [...]}]}`,
/// where `boxes` holds Bento4's box objects (with their duplicate keys); a segment that cannot
/// be read is `{"path", "error"}`.
///
/// Only errors writing `out` are returned; the rest is in the statistics.
pub fn write_representation<W: Write>(
    out: &mut W,
    rep_id: &str,
    segments: impl IntoIterator<Item = impl std::borrow::Borrow<SegmentFile>>,
    opts: &DumpOptions,
) -> io::Result<RepresentationStats> {
    let out = BufWriter::with_capacity(64 * 1024, out);
    let mut sink = document(
        opts.format,
        Document::Representation(rep_id),
        out,
        opts.verbosity.min(4),
    );
    walk_segments(segments, sink.as_mut())
}

/// Walks the files of `segments` in order into `sink`: each file is opened once and its boxes
/// read once. A file that cannot be opened is a missing segment; one that fails midway keeps
/// what was walked and counts as missing. Returns what the walk saw; errors are the sink's
/// (writing its output).
pub fn walk_segments(
    segments: impl IntoIterator<Item = impl std::borrow::Borrow<SegmentFile>>,
    sink: &mut dyn WalkSink,
) -> io::Result<RepresentationStats> {
    let mut stats = RepresentationStats::default();
    let mut offset = 0u64;
    for seg in segments {
        offset += walk_segment(seg.borrow(), offset, sink, &mut stats)?;
    }
    sink.finish()?;
    Ok(stats)
}

/// Walks one file of a representation into `sink` (see [`walk_segments`]), at `offset` in the
/// representation; adds what it saw to `stats`. Returns the file's size (0 when missing).
pub fn walk_segment(
    seg: &SegmentFile,
    offset: u64,
    sink: &mut dyn WalkSink,
    stats: &mut RepresentationStats,
) -> io::Result<u64> {
    let opened = File::open(&seg.fs_path).and_then(|f| {
        let len = f.metadata()?.len();
        Ok((f, len))
    });
    let (mut file, len) = match opened {
        Ok(x) => x,
        Err(e) => {
            let reason = e.to_string();
            sink.missing_segment(&seg.display_path, &reason)?;
            stats.missing.push(MissingSegment {
                path: seg.display_path.clone(),
                reason,
            });
            return Ok(0);
        }
    };
    let header = SegmentHeader {
        path: &seg.display_path,
        size: len,
        offset,
    };
    sink.start_segment(&header)?;
    let walk = walk_file(&mut Source::new(&mut file), len, sink.boxes());
    if let Some(e) = sink.boxes().io_error() {
        return Err(e);
    }
    match walk {
        Ok(w) => {
            sink.end_segment(None)?;
            stats.segments += 1;
            stats.boxes += w.boxes;
            stats.bytes += len;
            if w.malformed > 0 {
                stats.malformed_segments += 1;
            }
        }
        Err(e) => {
            // The file failed mid-read: what was walked stays, the segment counts as
            // missing.
            let reason = format!("read error: {e}");
            sink.end_segment(Some(&reason))?;
            stats.missing.push(MissingSegment {
                path: seg.display_path.clone(),
                reason,
            });
        }
    }
    Ok(len)
}

/// Dumps several files one after the other: in text, each introduced by a line
/// `# {path} size={size}`; in JSON, an array of `{"path", "size", "boxes": [...]}` objects.
/// A file that cannot be read is skipped; returns those, with the reason, for the caller to
/// report.
pub fn dump_paths<W: Write>(
    paths: &[PathBuf],
    out: &mut W,
    opts: &DumpOptions,
) -> Result<Vec<MissingSegment>, DumpError> {
    let files: Vec<SegmentFile> = paths
        .iter()
        .map(|p| SegmentFile {
            display_path: p.display().to_string(),
            fs_path: p.clone(),
        })
        .collect();
    let out = BufWriter::with_capacity(64 * 1024, out);
    let mut sink = document(opts.format, Document::Files, out, opts.verbosity.min(4));
    let stats = walk_segments(&files, sink.as_mut()).map_err(DumpError::Write)?;
    Ok(stats.missing)
}
