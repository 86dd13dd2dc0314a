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

    fn end_segment(&mut self, read_error: Option<&str>) -> io::Result<()> {
        if read_error.is_some() {
            self.ins.close_open_boxes(self.depth);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::BoxStart;

    fn header(path: &str) -> SegmentHeader<'_> {
        SegmentHeader {
            path,
            size: 16,
            offset: 0,
        }
    }

    fn open_box(ins: &mut dyn Inspector, name: &[u8]) {
        ins.start_box(&BoxStart {
            name,
            header_size: 8,
            size: 16,
            version: 0,
            flags: 0,
            offset: 0,
            descriptor: false,
        });
    }

    /// A walk cut short by a read error leaves boxes open; the next segment starts at the
    /// top level all the same.
    #[test]
    fn a_segment_after_a_cut_short_walk_starts_at_the_top() {
        for format in [Format::Text, Format::Json] {
            let mut out = Vec::new();
            {
                let mut doc = document(format, Document::Representation("r"), &mut out, 3);
                doc.start_segment(&header("a")).expect("a");
                open_box(doc.boxes(), b"moof");
                open_box(doc.boxes(), b"traf");
                doc.end_segment(Some("read error: cut")).expect("end a");
                doc.start_segment(&header("b")).expect("b");
                open_box(doc.boxes(), b"free");
                doc.boxes().end_box();
                doc.end_segment(None).expect("end b");
                doc.finish().expect("finish");
            }
            let text = String::from_utf8(out).expect("utf-8");
            match format {
                Format::Text => {
                    assert!(text.contains("# a MISSING: read error: cut\n"), "{text}");
                    assert!(
                        text.contains("# b size=16 offset=0 (0x0)\n[free] size=8+8"),
                        "{text}"
                    );
                }
                Format::Json => {
                    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                    assert_eq!(value["segments"][1]["path"], "b", "{text}");
                    let b = text.split("\"path\": \"b\"").nth(1).expect("segment b");
                    let free = b.lines().find(|l| l.contains("free"));
                    let indent = free.map(|l| l.len() - l.trim_start().len());
                    let first = text.split("\"path\": \"a\"").nth(1).expect("segment a");
                    let moof = first.lines().find(|l| l.contains("moof"));
                    let moof_indent = moof.map(|l| l.len() - l.trim_start().len());
                    assert_eq!(indent, moof_indent, "{text}");
                }
            }
        }
    }
}
