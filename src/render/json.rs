//! Bento4's `mp4dump --format json` layout, with an `"offset"` member after `"size"` in every
//! box object. The layout is reproduced textually (Bento4's JSON repeats keys inside an object,
//! so it cannot be re-serialized from a map).

use std::io::{self, Write};

use super::{BoxStart, Inspector, SPACES, Value, c_str, put_byte_string, put_float, put_i64};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    TopLevel,
    Box,
    Array,
}

#[derive(Debug, Clone, Copy)]
struct Context {
    kind: Kind,
    fields: u32,
    children: u32,
}

/// Writes the JSON layout into `W` as the description arrives. Wrap `W` in a `BufWriter`.
pub struct JsonInspector<W: Write> {
    out: W,
    verbosity: u8,
    stack: Vec<Context>,
    error: Option<io::Error>,
    offsets: bool,
}

impl<W: Write> JsonInspector<W> {
    /// A JSON inspector for a whole file: writes the opening `[`.
    pub fn new(out: W, verbosity: u8) -> Self {
        let mut me = Self::fragment(out, verbosity, 1);
        let r = me.out.write_all(b"[\n");
        me.keep(r);
        me
    }

    /// A JSON inspector for a list of boxes inside a larger document: top-level boxes are
    /// indented by `base_depth` levels and nothing is written around them.
    pub fn fragment(out: W, verbosity: u8, base_depth: usize) -> Self {
        let mut stack = Vec::with_capacity(16);
        for _ in 0..base_depth.max(1) {
            stack.push(Context {
                kind: Kind::TopLevel,
                fields: 0,
                children: 0,
            });
        }
        JsonInspector {
            out,
            verbosity,
            stack,
            error: None,
            offsets: true,
        }
    }

    /// Leaves out the offset members (exactly Bento4's JSON).
    pub fn without_offsets(mut self) -> Self {
        self.offsets = false;
        self
    }

    /// Writes the closing `]` of a whole-file document, flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.write_all(b"\n]\n")?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Flushes and returns the writer without closing anything (see [`Self::fragment`]).
    pub fn finish_fragment(mut self) -> io::Result<(W, bool)> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let any = self.stack.last().is_some_and(|c| c.fields > 0);
        self.out.flush()?;
        Ok((self.out, any))
    }

    /// Direct access to the writer (for the members around a fragment's boxes).
    pub(crate) fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    /// Closes the boxes a walk cut short (by a read error, which comes between boxes) left
    /// open, down to `base_depth`, so that the document stays valid JSON.
    pub(crate) fn close_open_boxes(&mut self, base_depth: usize) {
        while self.stack.len() > base_depth.max(1)
            && self.stack.last().is_some_and(|c| c.kind == Kind::Box)
        {
            self.end_box();
        }
    }

    /// Starts a new list of top-level boxes at `base_depth` (see [`Self::fragment`]): the
    /// next one gets no leading comma, whatever a walk cut short left open.
    pub(crate) fn restart_fragment(&mut self, base_depth: usize) {
        self.stack.truncate(base_depth.max(1));
        for c in &mut self.stack {
            c.fields = 0;
            c.children = 0;
        }
    }

    fn last(&mut self) -> &mut Context {
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    fn prefix(&mut self) -> io::Result<()> {
        let n = (self.stack.len() * 2).min(255);
        self.out.write_all(&SPACES[..n])
    }

    fn field_added(&mut self) -> io::Result<()> {
        let last = self.last();
        let had = last.fields;
        last.fields += 1;
        if had > 0 {
            self.out.write_all(b",\n")?;
        }
        Ok(())
    }

    fn name(&mut self, name: &[u8]) -> io::Result<()> {
        self.out.write_all(b"\"")?;
        write_escaped(&mut self.out, name)?;
        self.out.write_all(b"\": ")
    }

    fn member_u64(&mut self, name: &[u8], v: u64) -> io::Result<()> {
        self.field_added()?;
        self.prefix()?;
        self.name(name)?;
        put_i64(&mut self.out, v as i64)
    }

    fn push(&mut self, kind: Kind) {
        self.stack.push(Context {
            kind,
            fields: 0,
            children: 0,
        });
    }

    fn pop(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(e);
        }
    }

    fn open_object_in_list(&mut self) -> io::Result<()> {
        self.field_added()?;
        let last = self.last();
        last.children += 1;
        if last.kind == Kind::Box && last.children == 1 {
            self.prefix()?;
            self.out.write_all(b"\"children\":[ \n")?;
        }
        self.prefix()?;
        self.out.write_all(b"{\n")?;
        self.push(Kind::Box);
        Ok(())
    }

    fn try_start_box(&mut self, b: &BoxStart<'_>) -> io::Result<()> {
        self.open_object_in_list()?;
        self.field_added()?;
        self.prefix()?;
        self.name(b"name")?;
        self.out.write_all(b"\"")?;
        write_escaped(&mut self.out, b.name)?;
        self.out.write_all(b"\"")?;
        self.member_u64(b"header_size", b.header_size)?;
        self.member_u64(b"size", b.size)?;
        if self.offsets {
            self.member_u64(b"offset", b.offset)?;
        }
        if !b.descriptor {
            if b.version != 0 {
                self.member_u64(b"version", u64::from(b.version))?;
            }
            if b.flags != 0 {
                self.member_u64(b"flags", u64::from(b.flags))?;
            }
        }
        Ok(())
    }

    fn try_end_box(&mut self) -> io::Result<()> {
        if self.last().children > 0 {
            self.out.write_all(b"]")?;
        }
        self.pop();
        self.out.write_all(b"\n")?;
        self.prefix()?;
        self.out.write_all(b"}")
    }

    fn try_field(&mut self, name: Option<&str>, value: Value<'_>) -> io::Result<()> {
        self.field_added()?;
        self.prefix()?;
        if let Some(name) = name {
            self.name(name.as_bytes())?;
        }
        match value {
            Value::Uint(v) | Value::Hex(v) => put_i64(&mut self.out, v as i64),
            Value::Int(v) => put_i64(&mut self.out, v),
            Value::Wide(v) => write!(self.out, "{v}"),
            Value::Float(v) => put_float(&mut self.out, v),
            Value::Str(s) => {
                self.out.write_all(b"\"")?;
                write_escaped(&mut self.out, s)?;
                self.out.write_all(b"\"")
            }
            Value::Bytes(b) => {
                self.out.write_all(b"\"")?;
                put_byte_string(&mut self.out, b)?;
                self.out.write_all(b"\"")
            }
        }
    }

    fn try_start_table(&mut self, name: &str) -> io::Result<()> {
        self.field_added()?;
        self.prefix()?;
        self.name(name.as_bytes())?;
        self.out.write_all(b"[\n")?;
        self.push(Kind::Array);
        Ok(())
    }

    fn try_end_table(&mut self) -> io::Result<()> {
        self.pop();
        self.out.write_all(b"\n")?;
        self.prefix()?;
        self.out.write_all(b"]")
    }

    fn try_start_object(&mut self) -> io::Result<()> {
        self.field_added()?;
        self.prefix()?;
        self.out.write_all(b"{\n")?;
        self.push(Kind::Array);
        Ok(())
    }

    fn try_end_object(&mut self) -> io::Result<()> {
        self.pop();
        self.out.write_all(b"\n")?;
        self.prefix()?;
        self.out.write_all(b"}")
    }

    fn try_note(&mut self, offset: u64, text: &str) -> io::Result<()> {
        self.open_object_in_list()?;
        self.field_added()?;
        self.prefix()?;
        self.name(b"malformed")?;
        self.out.write_all(b"\"")?;
        write_escaped(&mut self.out, text.as_bytes())?;
        self.out.write_all(b"\"")?;
        self.member_u64(b"offset", offset)?;
        self.try_end_box()
    }
}

impl<W: Write> Inspector for JsonInspector<W> {
    fn verbosity(&self) -> u8 {
        self.verbosity
    }
    fn start_box(&mut self, b: &BoxStart<'_>) {
        if self.error.is_some() {
            return;
        }
        let r = self.try_start_box(b);
        self.keep(r);
    }
    fn end_box(&mut self) {
        let r = self.try_end_box();
        self.keep(r);
    }
    fn field(&mut self, name: Option<&str>, value: Value<'_>) {
        if self.error.is_some() {
            return;
        }
        let r = self.try_field(name, value);
        self.keep(r);
    }
    fn start_table(&mut self, name: &str) {
        if self.error.is_some() {
            return;
        }
        let r = self.try_start_table(name);
        self.keep(r);
    }
    fn end_table(&mut self) {
        let r = self.try_end_table();
        self.keep(r);
    }
    fn start_object(&mut self, _compact: bool) {
        let r = self.try_start_object();
        self.keep(r);
    }
    fn end_object(&mut self) {
        let r = self.try_end_object();
        self.keep(r);
    }
    fn note(&mut self, offset: u64, text: &str) {
        if self.error.is_some() {
            return;
        }
        let r = self.try_note(offset, text);
        self.keep(r);
    }
    fn io_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
    fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Writes a string the way Bento4's JSON inspector escapes it: a C string (ends at NUL), read
/// as UTF-8 with Bento4's lenient decoder, stopping at the first invalid sequence; `"` and `\`
/// get a backslash, code points up to 0x1F become `\u00XX`.
pub(crate) fn write_escaped<W: Write>(w: &mut W, s: &[u8]) -> io::Result<()> {
    let s = c_str(s);
    // Fast path: plain printable ASCII.
    if s.iter()
        .all(|&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
    {
        return w.write_all(s);
    }
    let mut i = 0;
    while i < s.len() {
        let Some((len, cp)) = read_utf8(&s[i..]) else {
            break;
        };
        if cp == u32::from(b'"') || cp == u32::from(b'\\') {
            w.write_all(&[b'\\', cp as u8])?;
        } else if cp <= 0x1f {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            w.write_all(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(cp >> 4) as usize],
                HEX[(cp & 15) as usize],
            ])?;
        } else {
            w.write_all(&s[i..i + len])?;
        }
        i += len;
    }
    Ok(())
}

/// Bento4's UTF-8 reader: returns (length, code point) or `None` where it gives up.
fn read_utf8(u: &[u8]) -> Option<(usize, u32)> {
    let c = u32::from(*u.first()?);
    if c & 0x80 == 0 {
        return Some((1, c));
    }
    let b1 = u32::from(*u.get(1)?);
    if b1 & 0xc0 != 0x80 {
        return None;
    }
    if c & 0xe0 == 0xe0 {
        let b2 = u32::from(*u.get(2)?);
        if b2 & 0xc0 != 0x80 {
            return None;
        }
        if c & 0xf0 == 0xf0 {
            let b3 = u32::from(*u.get(3)?);
            if c & 0xf8 != 0xf0 || b3 & 0xc0 != 0x80 {
                return None;
            }
            let cp = ((c & 7) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
            return Some((4, cp));
        }
        let cp = ((c & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        return Some((3, cp));
    }
    Some((2, ((c & 0x1f) << 6) | (b1 & 0x3f)))
}
