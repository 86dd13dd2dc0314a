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

use crate::boxes::{WalkStats, walk_file};
use crate::isobmff::Source;
use crate::render::{Inspector, JsonInspector, TextInspector, put_hex, put_u64};

/// Output layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Bento4's `mp4dump` text layout, plus `, offset=N (0xHEX)` on each box header line.
    #[default]
    Text,
    /// Bento4's `mp4dump --format json` layout, plus an `"offset"` member in each box object.
    Json,
}

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
    let walk = match opts.format {
        Format::Text => walk_into(
            &mut src,
            len,
            TextInspector::new(buffered, verbosity),
            |i| i.finish().map(drop),
        )?,
        Format::Json => walk_into(
            &mut src,
            len,
            JsonInspector::new(buffered, verbosity),
            |i| i.finish().map(drop),
        )?,
    };
    Ok(DumpStats {
        boxes: walk.boxes,
        bytes: len,
        malformed: walk.malformed,
    })
}

/// Walks the file into one inspector, then lets `finish` close its output. A write error wins
/// over a read error: once the output is gone, nothing else matters.
fn walk_into<R: Read + Seek, I: Inspector>(
    src: &mut Source<R>,
    len: u64,
    mut ins: I,
    finish: impl FnOnce(I) -> io::Result<()>,
) -> Result<WalkStats, DumpError> {
    let walk = walk_file(src, len, &mut ins);
    if let Some(e) = ins.io_error() {
        return Err(DumpError::Write(e));
    }
    let walk = walk.map_err(|source| DumpError::Read {
        path: "<input>".into(),
        source,
    })?;
    finish(ins).map_err(DumpError::Write)?;
    Ok(walk)
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

/// One segment of a representation, in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    /// The path printed in the dump (relative to the manifest's folder).
    pub display_path: String,
    /// Where the file is on disk.
    pub fs_path: PathBuf,
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
    segments: &[SegmentFile],
    opts: &DumpOptions,
) -> io::Result<RepresentationStats> {
    let verbosity = opts.verbosity.min(4);
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let mut stats = RepresentationStats::default();
    let mut offset = 0u64;
    let mut first = true;
    if opts.format == Format::Json {
        write!(
            out,
            "{{\n  \"representation\": {},\n  \"segments\": [",
            json_string(rep_id)
        )?;
    }
    for seg in segments {
        let comma = if first { "" } else { "," };
        first = false;
        let opened = File::open(&seg.fs_path).and_then(|f| {
            let len = f.metadata()?.len();
            Ok((f, len))
        });
        let (mut file, len) = match opened {
            Ok(x) => x,
            Err(e) => {
                let reason = e.to_string();
                match opts.format {
                    Format::Text => {
                        writeln!(out, "# {} MISSING: {}", seg.display_path, reason)?;
                    }
                    Format::Json => {
                        write!(
                            out,
                            "{comma}\n    {{\n      \"path\": {},\n      \"error\": {}\n    }}",
                            json_string(&seg.display_path),
                            json_string(&reason)
                        )?;
                    }
                }
                stats.missing.push(MissingSegment {
                    path: seg.display_path.clone(),
                    reason,
                });
                continue;
            }
        };
        let mut src = Source::new(&mut file);
        let walk = match opts.format {
            Format::Text => {
                out.write_all(b"# ")?;
                out.write_all(seg.display_path.as_bytes())?;
                out.write_all(b" size=")?;
                put_u64(&mut out, len)?;
                out.write_all(b" offset=")?;
                put_u64(&mut out, offset)?;
                out.write_all(b" (0x")?;
                put_hex(&mut out, offset)?;
                out.write_all(b")\n")?;
                let mut ins = TextInspector::new(&mut out, verbosity);
                let walk = walk_file(&mut src, len, &mut ins);
                if let Some(e) = ins.io_error() {
                    return Err(e);
                }
                walk
            }
            Format::Json => {
                write!(
                    out,
                    "{comma}\n    {{\n      \"path\": {},\n      \"size\": {},\n      \"offset\": {},\n      \"boxes\": [\n",
                    json_string(&seg.display_path),
                    len,
                    offset
                )?;
                let mut ins = JsonInspector::fragment(&mut out, verbosity, 4);
                let walk = walk_file(&mut src, len, &mut ins);
                if let Some(e) = ins.io_error() {
                    return Err(e);
                }
                out.write_all(b"\n      ]\n    }")?;
                walk
            }
        };
        match walk {
            Ok(w) => {
                stats.segments += 1;
                stats.boxes += w.boxes;
                stats.bytes += len;
                if w.malformed > 0 {
                    stats.malformed_segments += 1;
                }
            }
            Err(e) => {
                // The file failed mid-read: what was printed stays, the segment counts as
                // missing.
                let reason = format!("read error: {e}");
                if opts.format == Format::Text {
                    writeln!(out, "# {} MISSING: {}", seg.display_path, reason)?;
                }
                stats.missing.push(MissingSegment {
                    path: seg.display_path.clone(),
                    reason,
                });
            }
        }
        offset += len;
    }
    if opts.format == Format::Json {
        out.write_all(b"\n  ]\n}\n")?;
    }
    out.flush()?;
    Ok(stats)
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Dumps several files one after the other: in text, each introduced by a line
/// `# {path} size={size}`; in JSON, an array of `{"path", "size", "boxes": [...]}` objects.
/// A file that cannot be read is reported on standard error and skipped; returns whether every
/// file was dumped.
pub fn dump_paths<W: Write>(
    paths: &[PathBuf],
    out: &mut W,
    opts: &DumpOptions,
) -> Result<bool, DumpError> {
    let verbosity = opts.verbosity.min(4);
    let mut all = true;
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let mut first = true;
    if opts.format == Format::Json {
        out.write_all(b"[").map_err(DumpError::Write)?;
    }
    for path in paths {
        let opened = File::open(path).and_then(|f| {
            let len = f.metadata()?.len();
            Ok((f, len))
        });
        let (mut file, len) = match opened {
            Ok(x) => x,
            Err(e) => {
                out.flush().map_err(DumpError::Write)?;
                eprintln!("mp4dump: cannot read {}: {e}", path.display());
                all = false;
                continue;
            }
        };
        let mut src = Source::new(&mut file);
        let shown = path.display().to_string();
        let walk = match opts.format {
            Format::Text => {
                writeln!(out, "# {shown} size={len}").map_err(DumpError::Write)?;
                let mut ins = TextInspector::new(&mut out, verbosity);
                let walk = walk_file(&mut src, len, &mut ins);
                if let Some(e) = ins.io_error() {
                    return Err(DumpError::Write(e));
                }
                walk
            }
            Format::Json => {
                write!(
                    out,
                    "{}\n  {{\n    \"path\": {},\n    \"size\": {},\n    \"boxes\": [\n",
                    if first { "" } else { "," },
                    json_string(&shown),
                    len
                )
                .map_err(DumpError::Write)?;
                let mut ins = JsonInspector::fragment(&mut out, verbosity, 3);
                let walk = walk_file(&mut src, len, &mut ins);
                if let Some(e) = ins.io_error() {
                    return Err(DumpError::Write(e));
                }
                out.write_all(b"\n    ]\n  }").map_err(DumpError::Write)?;
                walk
            }
        };
        first = false;
        if let Err(e) = walk {
            out.flush().map_err(DumpError::Write)?;
            eprintln!("mp4dump: cannot read {}: {e}", path.display());
            all = false;
        }
    }
    if opts.format == Format::Json {
        out.write_all(b"\n]\n").map_err(DumpError::Write)?;
    }
    out.flush().map_err(DumpError::Write)?;
    Ok(all)
}
