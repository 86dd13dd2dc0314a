//! The dump documents: what surrounds the box trees of a walk's files, in text and in JSON.
//! Both are [`WalkSink`]s; the box trees themselves come from the text and JSON inspectors.

use std::io::{self, Write};

use super::json::write_escaped;
use super::{
    Document, Format, Inspector, JsonInspector, SegmentHeader, TextInspector, WalkSink, put_hex,
    put_u64,
};

/// The sink that writes a dump of `shape` in `format` at `verbosity` into `out` (wrap `out` in
/// a `BufWriter`).
pub fn document<'a, W: Write + 'a>(
    format: Format,
    shape: Document<'a>,
    out: W,
    verbosity: u8,
) -> Box<dyn WalkSink + 'a> {
    match format {
        Format::Text => Box::new(TextDocument {
            ins: TextInspector::new(out, verbosity),
            shape,
            current: String::new(),
        }),
        Format::Json => {
            let depth = match shape {
                Document::File => 1,
                Document::Files => 3,
                Document::Representation(_) => 4,
            };
            Box::new(JsonDocument {
                ins: JsonInspector::fragment(out, verbosity, depth),
                depth,
                shape,
                opened: false,
                first: true,
            })
        }
    }
}

/// Text: Bento4's layout, each segment introduced by a `#` line (except for a single file).
struct TextDocument<'a, W: Write> {
    ins: TextInspector<W>,
    shape: Document<'a>,
    /// The path of the segment being walked (for a `MISSING` line after a read error).
    current: String,
}

impl<W: Write> WalkSink for TextDocument<'_, W> {
    fn start_segment(&mut self, segment: &SegmentHeader<'_>) -> io::Result<()> {
        self.ins.restart();
        if self.shape == Document::File {
            return Ok(());
        }
        let out = self.ins.writer();
        out.write_all(b"# ")?;
        out.write_all(segment.path.as_bytes())?;
        out.write_all(b" size=")?;
        put_u64(out, segment.size)?;
        if let Document::Representation(_) = self.shape {
            out.write_all(b" offset=")?;
            put_u64(out, segment.offset)?;
            out.write_all(b" (0x")?;
            put_hex(out, segment.offset)?;
            out.write_all(b")")?;
            self.current.clear();
            self.current.push_str(segment.path);
        }
        out.write_all(b"\n")?;
        Ok(())
    }

    fn boxes(&mut self) -> &mut dyn Inspector {
        &mut self.ins
    }

    fn end_segment(&mut self, read_error: Option<&str>) -> io::Result<()> {
        match (self.shape, read_error) {
            (Document::Representation(_), Some(reason)) => {
                let path = std::mem::take(&mut self.current);
                let r = self.missing_segment(&path, reason);
                self.current = path;
                r
            }
            _ => Ok(()),
        }
    }

    fn missing_segment(&mut self, path: &str, reason: &str) -> io::Result<()> {
        if let Document::Representation(_) = self.shape {
            let out = self.ins.writer();
            out.write_all(b"# ")?;
            out.write_all(path.as_bytes())?;
            out.write_all(b" MISSING: ")?;
            out.write_all(reason.as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.ins.io_error() {
            return Err(e);
        }
        self.ins.writer().flush()
    }
}

/// JSON: Bento4's box objects inside the members that name each segment.
struct JsonDocument<'a, W: Write> {
    ins: JsonInspector<W>,
    /// Nesting of the top-level boxes.
    depth: usize,
    shape: Document<'a>,
    /// Whether the opening of the document is written.
    opened: bool,
    /// Whether no segment object is written yet (no comma before the next).
    first: bool,
}

/// Writes `"s"` with the JSON inspector's escaping.
fn put_string<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    write_escaped(out, s.as_bytes())?;
    out.write_all(b"\"")
}

impl<W: Write> JsonDocument<'_, W> {
    fn open(&mut self) -> io::Result<()> {
        if self.opened {
            return Ok(());
        }
        self.opened = true;
        let out = self.ins.writer();
        match self.shape {
            Document::File => out.write_all(b"[\n"),
            Document::Files => out.write_all(b"["),
            Document::Representation(id) => {
                out.write_all(b"{\n  \"representation\": ")?;
                put_string(out, id)?;
                out.write_all(b",\n  \"segments\": [")
            }
        }
    }

    /// The comma before a segment object, after the first.
    fn separator(&mut self) -> &'static [u8] {
        let first = std::mem::replace(&mut self.first, false);
        if first { b"" } else { b"," }
    }
}

impl<W: Write> WalkSink for JsonDocument<'_, W> {
    fn start_segment(&mut self, segment: &SegmentHeader<'_>) -> io::Result<()> {
        self.open()?;
        let comma = self.separator();
        self.ins.restart_fragment(self.depth);
        let out = self.ins.writer();
        match self.shape {
            Document::File => {}
            Document::Files => {
                out.write_all(comma)?;
                out.write_all(b"\n  {\n    \"path\": ")?;
                put_string(out, segment.path)?;
                out.write_all(b",\n    \"size\": ")?;
                put_u64(out, segment.size)?;
                out.write_all(b",\n    \"boxes\": [\n")?;
            }
            Document::Representation(_) => {
                out.write_all(comma)?;
                out.write_all(b"\n    {\n      \"path\": ")?;
                put_string(out, segment.path)?;
                out.write_all(b",\n      \"size\": ")?;
                put_u64(out, segment.size)?;
                out.write_all(b",\n      \"offset\": ")?;
                put_u64(out, segment.offset)?;
                out.write_all(b",\n      \"boxes\": [\n")?;
            }
        }
        Ok(())
    }

    fn boxes(&mut self) -> &mut dyn Inspector {
        &mut self.ins
    }

    fn end_segment(&mut self, _read_error: Option<&str>) -> io::Result<()> {
        let out = self.ins.writer();
        match self.shape {
            Document::File => Ok(()),
            Document::Files => out.write_all(b"\n    ]\n  }"),
            Document::Representation(_) => out.write_all(b"\n      ]\n    }"),
        }
    }

    fn missing_segment(&mut self, path: &str, reason: &str) -> io::Result<()> {
        self.open()?;
        if let Document::Representation(_) = self.shape {
            let comma = self.separator();
            let out = self.ins.writer();
            out.write_all(comma)?;
            out.write_all(b"\n    {\n      \"path\": ")?;
            put_string(out, path)?;
            out.write_all(b",\n      \"error\": ")?;
            put_string(out, reason)?;
            out.write_all(b"\n    }")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.open()?;
        if let Some(e) = self.ins.io_error() {
            return Err(e);
        }
        let out = self.ins.writer();
        match self.shape {
            Document::File | Document::Files => out.write_all(b"\n]\n")?,
            Document::Representation(_) => out.write_all(b"\n  ]\n}\n")?,
        }
        out.flush()
    }
}
