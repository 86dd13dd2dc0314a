//! Inspectors that render the box tree: text in Bento4's layout (plus offsets), and JSON.
//!
//! Decoders in [`crate::boxes`] describe each box's fields once, to an [`Inspector`]; the
//! [`TextInspector`] and [`JsonInspector`] turn that description into bytes on the fly, straight
//! into a buffered writer. [`Probe`] swallows everything: the walker runs a decoder through it
//! first to learn whether the box decodes (a rejected box prints as a header only, as in Bento4).
//!
//! A walk over several files (a representation's segments, or the files of one command line)
//! goes to a [`WalkSink`]: the start of a segment, a missing segment, the segment's boxes (an
//! [`Inspector`]), the end of the segment, the end of the walk. The text and JSON dumps are
//! sinks ([`document`]); so is the conformance checker (`crate::check`). The driver that reads
//! the files knows no output format.

mod document;
mod json;
mod text;

pub use document::document;
pub use json::JsonInspector;
pub use text::TextInspector;

use std::io::{self, Write};

/// Output layout of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Bento4's `mp4dump` text layout, plus `, offset=N (0xHEX)` on each box header line.
    #[default]
    Text,
    /// Bento4's `mp4dump --format json` layout, plus an `"offset"` member in each box object.
    Json,
}

/// The shape of a dump document: what surrounds the box trees of its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document<'a> {
    /// One file, exactly as Bento4 prints it (plus offsets): no segment line.
    File,
    /// Several files of a command line: text `# PATH size=N` before each; JSON an array of
    /// `{"path", "size", "boxes"}`. A file that cannot be read is left out (the caller says so).
    Files,
    /// The segments of the representation with this id: text `# PATH size=N offset=O (0xO)`
    /// before each and `# PATH MISSING: REASON` for one that cannot be read; JSON
    /// `{"representation", "segments": [{"path", "size", "offset", "boxes"} | {"path", "error"}]}`.
    Representation(&'a str),
}

/// A segment whose boxes are about to be walked.
#[derive(Debug, Clone, Copy)]
pub struct SegmentHeader<'a> {
    /// Its path as shown (relative to the manifest's folder, or as given).
    pub path: &'a str,
    /// Its size in bytes.
    pub size: u64,
    /// Its offset in the representation, as if all its segments were one file.
    pub offset: u64,
}

/// Receives a walk over several files, in order: for each, either [`WalkSink::start_segment`],
/// the boxes through [`WalkSink::boxes`], then [`WalkSink::end_segment`]; or
/// [`WalkSink::missing_segment`]. Then [`WalkSink::finish`] once.
///
/// Errors are errors writing the sink's output; the walk stops at the first.
pub trait WalkSink {
    /// A segment starts.
    fn start_segment(&mut self, segment: &SegmentHeader<'_>) -> io::Result<()>;
    /// The inspector that receives the current segment's boxes.
    fn boxes(&mut self) -> &mut dyn Inspector;
    /// The current segment ended; `read_error` says why, when its file failed midway.
    fn end_segment(&mut self, read_error: Option<&str>) -> io::Result<()>;
    /// A segment that cannot be read at all, and why.
    fn missing_segment(&mut self, path: &str, reason: &str) -> io::Result<()>;
    /// The walk is over: closes and flushes the output.
    fn finish(&mut self) -> io::Result<()>;
}

/// One field value, in the forms Bento4 prints.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// Unsigned integer; printed like C's `%lld` (values from 2^63 up print negative, as Bento4).
    Uint(u64),
    /// Signed integer.
    Int(i64),
    /// Unsigned integer of up to 128 bits, printed in full (a computed value that can exceed
    /// 64 bits, such as a 64-bit duration in milliseconds).
    Wide(u128),
    /// Unsigned integer with a hex hint: lowercase hex in text, decimal in JSON.
    Hex(u64),
    /// Single-precision float, printed with six decimals.
    Float(f32),
    /// String of raw bytes; ends at the first NUL, as a C string.
    Str(&'a [u8]),
    /// Byte string: `[01 02 03]`.
    Bytes(&'a [u8]),
}

/// The header of a box (or descriptor) being opened.
#[derive(Debug, Clone, Copy)]
pub struct BoxStart<'a> {
    /// Printable name: the four-character type, a UUID, or a descriptor name.
    pub name: &'a [u8],
    /// Header size as Bento4 counts it (plain header + 4 for a decoded full box).
    pub header_size: u64,
    /// Total size of the box.
    pub size: u64,
    /// Full-box version (0 otherwise).
    pub version: u8,
    /// Full-box flags (0 otherwise).
    pub flags: u32,
    /// Position of the box's first byte in its file.
    pub offset: u64,
    /// Whether this is an MPEG-4 descriptor (no version/flags in text).
    pub descriptor: bool,
}

/// Receives the description of a box tree, in document order.
///
/// Every method is infallible for the caller: an inspector that writes keeps the first I/O error
/// and reports it from [`Inspector::io_error`], so decoders stay free of error plumbing.
pub trait Inspector {
    /// The verbosity asked for: 0..=3 as Bento4, 4 adds what Bento4 does not decode.
    fn verbosity(&self) -> u8;
    /// Opens a box or descriptor.
    fn start_box(&mut self, b: &BoxStart<'_>);
    /// Closes the innermost open box or descriptor.
    fn end_box(&mut self);
    /// A named field (`name = value`), or a table cell when `name` is `None`.
    fn field(&mut self, name: Option<&str>, value: Value<'_>);
    /// Opens a table (`name:` then indexed rows).
    fn start_table(&mut self, name: &str);
    /// Closes the innermost table.
    fn end_table(&mut self);
    /// Opens a table row holding named fields; `compact` rows print on one line.
    fn start_object(&mut self, compact: bool);
    /// Closes the innermost row object.
    fn end_object(&mut self);
    /// Verbosity 4 only: says what is wrong with the bytes at `offset`.
    fn note(&mut self, offset: u64, text: &str);
    /// The first write error, if any (taken: a second call returns `None`).
    fn io_error(&mut self) -> Option<io::Error>;
    /// Whether writing has failed: the walk stops early, since nothing more can be written.
    fn failed(&self) -> bool {
        false
    }
    /// Whether table rows are wanted at all: not by the [`Probe`] (it prints nothing) nor
    /// after a write error. Decoders whose rows cannot make them reject the box skip their
    /// row loops when this is false (a `trun` may legitimately hold 16 million rows).
    fn wants_rows(&self) -> bool {
        !self.failed()
    }

    /// Shorthand: unsigned field.
    fn uint(&mut self, name: &str, v: u64) {
        self.field(Some(name), Value::Uint(v));
    }
    /// Shorthand: signed field.
    fn int(&mut self, name: &str, v: i64) {
        self.field(Some(name), Value::Int(v));
    }
    /// Shorthand: hex-hinted field.
    fn hex(&mut self, name: &str, v: u64) {
        self.field(Some(name), Value::Hex(v));
    }
    /// Shorthand: float field.
    fn float(&mut self, name: &str, v: f32) {
        self.field(Some(name), Value::Float(v));
    }
    /// Shorthand: string field.
    fn string(&mut self, name: &str, v: &[u8]) {
        self.field(Some(name), Value::Str(v));
    }
    /// Shorthand: byte-string field.
    fn bytes(&mut self, name: &str, v: &[u8]) {
        self.field(Some(name), Value::Bytes(v));
    }
    /// Shorthand: four-character code as a string field.
    fn fourcc(&mut self, name: &str, v: u32) {
        self.field(Some(name), Value::Str(&v.to_be_bytes()));
    }
}

/// An inspector that prints nothing: used to find out whether a decoder accepts a box before
/// its header is printed.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// The verbosity the real inspector will use (decoders may read more at higher verbosity).
    pub verbosity: u8,
}

impl Inspector for Probe {
    fn verbosity(&self) -> u8 {
        self.verbosity
    }
    fn start_box(&mut self, _: &BoxStart<'_>) {}
    fn end_box(&mut self) {}
    fn field(&mut self, _: Option<&str>, _: Value<'_>) {}
    fn start_table(&mut self, _: &str) {}
    fn end_table(&mut self) {}
    fn start_object(&mut self, _: bool) {}
    fn end_object(&mut self) {}
    fn note(&mut self, _: u64, _: &str) {}
    fn io_error(&mut self) -> Option<io::Error> {
        None
    }
    fn wants_rows(&self) -> bool {
        false
    }
}

/// Writes `n` in decimal without allocating.
pub(crate) fn put_u64<W: Write>(w: &mut W, mut n: u64) -> io::Result<()> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    w.write_all(&buf[i..])
}

/// Writes `n` in decimal (with `-` when negative) without allocating.
pub(crate) fn put_i64<W: Write>(w: &mut W, n: i64) -> io::Result<()> {
    if n < 0 {
        w.write_all(b"-")?;
    }
    put_u64(w, n.unsigned_abs())
}

/// Writes `n` in lowercase hex, no prefix, no padding.
pub(crate) fn put_hex<W: Write>(w: &mut W, mut n: u64) -> io::Result<()> {
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    w.write_all(&buf[i..])
}

/// Writes bytes as `[01 02 03]`.
pub(crate) fn put_byte_string<W: Write>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    w.write_all(b"[")?;
    for (i, b) in bytes.iter().enumerate() {
        let hex = [
            b' ',
            b"0123456789abcdef"[usize::from(b >> 4)],
            b"0123456789abcdef"[usize::from(b & 15)],
        ];
        w.write_all(if i == 0 { &hex[1..] } else { &hex[..] })?;
    }
    w.write_all(b"]")
}

/// Writes a float like C's `%f`.
pub(crate) fn put_float<W: Write>(w: &mut W, v: f32) -> io::Result<()> {
    write!(w, "{:.6}", f64::from(v))
}

/// A C string: the bytes before the first NUL.
pub(crate) fn c_str(v: &[u8]) -> &[u8] {
    match v.iter().position(|b| *b == 0) {
        Some(n) => &v[..n],
        None => v,
    }
}

/// Spaces for indentation (Bento4 caps indentation at 255).
pub(crate) const SPACES: &[u8; 255] = &[b' '; 255];

#[cfg(test)]
mod tests;
