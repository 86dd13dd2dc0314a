//! Bento4's `mp4dump` text layout, with `, offset=N (0xHEX)` on every box header line.

use std::io::{self, Write};

use super::{
    BoxStart, Inspector, SPACES, Value, c_str, put_byte_string, put_float, put_hex, put_i64,
    put_u64,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    TopLevel,
    Box,
    Table,
    Object,
    CompactObject,
}

#[derive(Debug, Clone, Copy)]
struct Context {
    kind: Kind,
    index: u32,
}

/// Writes the text layout into `W` as the description arrives. Wrap `W` in a `BufWriter`.
pub struct TextInspector<W: Write> {
    out: W,
    verbosity: u8,
    stack: Vec<Context>,
    error: Option<io::Error>,
    offsets: bool,
}

impl<W: Write> TextInspector<W> {
    /// A text inspector at `verbosity`, printing box offsets.
    pub fn new(out: W, verbosity: u8) -> Self {
        TextInspector {
            out,
            verbosity,
            stack: vec![Context {
                kind: Kind::TopLevel,
                index: 0,
            }],
            error: None,
            offsets: true,
        }
    }

    /// Leaves out the offset suffix (exactly Bento4's text).
    pub fn without_offsets(mut self) -> Self {
        self.offsets = false;
        self
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// Starts again at the top level, whatever a walk cut short left open.
    pub(crate) fn restart(&mut self) {
        self.stack.truncate(1);
        if let Some(top) = self.stack.first_mut() {
            top.index = 0;
        }
    }

    /// Direct access to the writer (for lines outside the box tree, such as segment headers).
    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    fn last(&mut self) -> &mut Context {
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    fn prefix(&mut self) -> io::Result<()> {
        let depth = self.stack.len();
        let last = self.last();
        if last.kind == Kind::CompactObject {
            let i = last.index;
            last.index += 1;
            if i > 0 {
                self.out.write_all(b", ")?;
            }
            return Ok(());
        }
        let indent = ((depth - 1) * 2).min(255);
        let is_table = last.kind == Kind::Table;
        let index = last.index;
        if is_table {
            last.index += 1;
        }
        self.out.write_all(&SPACES[..indent])?;
        if is_table {
            if index < 100_000_000 {
                // "(%8d) " without formatting machinery.
                let mut buf = *b"(        ) ";
                let mut n = index;
                let mut i = 8;
                loop {
                    buf[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                    i -= 1;
                }
                self.out.write_all(&buf)?;
            } else {
                write!(self.out, "({index:8}) ")?;
            }
        }
        Ok(())
    }

    fn suffix(&mut self) -> io::Result<()> {
        if self.last().kind != Kind::CompactObject {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn push(&mut self, kind: Kind) {
        self.stack.push(Context { kind, index: 0 });
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

    fn try_start_box(&mut self, b: &BoxStart<'_>) -> io::Result<()> {
        self.prefix()?;
        self.push(Kind::Box);
        self.out.write_all(b"[")?;
        self.out.write_all(b.name)?;
        self.out.write_all(b"] size=")?;
        put_u64(&mut self.out, b.header_size)?;
        self.out.write_all(b"+")?;
        put_i64(&mut self.out, b.size.wrapping_sub(b.header_size) as i64)?;
        if !b.descriptor && matches!(b.header_size, 12 | 20 | 28) {
            if b.version != 0 {
                self.out.write_all(b", version=")?;
                put_u64(&mut self.out, u64::from(b.version))?;
            }
            if b.flags != 0 {
                self.out.write_all(b", flags=")?;
                put_hex(&mut self.out, u64::from(b.flags))?;
            }
        }
        if self.offsets {
            self.out.write_all(b", offset=")?;
            put_u64(&mut self.out, b.offset)?;
            self.out.write_all(b" (0x")?;
            put_hex(&mut self.out, b.offset)?;
            self.out.write_all(b")")?;
        }
        self.suffix()
    }

    fn try_field(&mut self, name: Option<&str>, value: Value<'_>) -> io::Result<()> {
        self.prefix()?;
        if let Some(name) = name {
            self.out.write_all(name.as_bytes())?;
            self.out.write_all(b" = ")?;
        }
        match value {
            Value::Uint(v) => put_i64(&mut self.out, v as i64)?,
            Value::Int(v) => put_i64(&mut self.out, v)?,
            Value::Wide(v) => write!(self.out, "{v}")?,
            Value::Hex(v) => put_hex(&mut self.out, v)?,
            Value::Float(v) => put_float(&mut self.out, v)?,
            Value::Str(s) => self.out.write_all(c_str(s))?,
            Value::Bytes(b) => put_byte_string(&mut self.out, b)?,
        }
        self.suffix()
    }

    fn try_start_table(&mut self, name: &str) -> io::Result<()> {
        self.prefix()?;
        self.push(Kind::Table);
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(b":")?;
        self.suffix()
    }

    fn try_start_object(&mut self, compact: bool) -> io::Result<()> {
        self.prefix()?;
        self.push(if compact {
            Kind::CompactObject
        } else {
            Kind::Object
        });
        self.suffix()
    }

    fn try_end_object(&mut self) -> io::Result<()> {
        if self.last().kind == Kind::CompactObject {
            self.out.write_all(b"\n")?;
        }
        self.pop();
        Ok(())
    }

    fn try_note(&mut self, offset: u64, text: &str) -> io::Result<()> {
        self.prefix()?;
        self.out.write_all(b"[malformed: ")?;
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(b"]")?;
        if self.offsets {
            self.out.write_all(b", offset=")?;
            put_u64(&mut self.out, offset)?;
            self.out.write_all(b" (0x")?;
            put_hex(&mut self.out, offset)?;
            self.out.write_all(b")")?;
        }
        self.suffix()
    }
}

impl<W: Write> Inspector for TextInspector<W> {
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
        self.pop();
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
        self.pop();
    }
    fn start_object(&mut self, compact: bool) {
        let r = self.try_start_object(compact);
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
