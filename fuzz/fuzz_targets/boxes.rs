//! The box walker, every decoder and both renderers, at every verbosity, over arbitrary bytes.
//! The JSON output is checked to be well formed as it streams (nothing is kept in memory: a
//! hostile `trun` may legitimately print millions of rows).
#![no_main]

use std::io::{self, Cursor, Write};

use dashget::dump::{DumpError, DumpOptions, Format, dump_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for verbosity in 0..=4u8 {
        for format in [Format::Text, Format::Json] {
            let opts = DumpOptions { verbosity, format };
            let mut input = Cursor::new(data);
            let mut out = JsonShape {
                check: format == Format::Json,
                ..JsonShape::default()
            };
            match dump_file(&mut input, data.len() as u64, &mut out, &opts) {
                Ok(stats) => {
                    assert_eq!(stats.bytes, data.len() as u64);
                    if format == Format::Json {
                        out.finish();
                    }
                }
                // The output cap was reached (a hostile `trun` can print 16 million rows, as
                // Bento4 does): the dump must stop with a write error, nothing else.
                Err(DumpError::Write(_)) => assert!(out.written >= OUTPUT_CAP),
                Err(e) => panic!("in-memory dump failed: {e}"),
            }
        }
    }
});

/// Output beyond this fails with a write error (keeps each run short under instrumentation).
const OUTPUT_CAP: usize = 4 << 20;

/// Counts output and, for JSON, checks bracket balance outside strings, byte by byte.
#[derive(Default)]
struct JsonShape {
    check: bool,
    written: usize,
    depth: i64,
    in_string: bool,
    escaped: bool,
}

impl JsonShape {
    fn finish(&self) {
        assert_eq!(self.depth, 0, "unbalanced JSON");
        assert!(!self.in_string, "unterminated string");
    }
}

impl Write for JsonShape {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written >= OUTPUT_CAP {
            return Err(io::Error::other("output cap reached"));
        }
        self.written += buf.len();
        if !self.check {
            return Ok(buf.len());
        }
        for &c in buf {
            if self.in_string {
                match (self.escaped, c) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                b'"' => self.in_string = true,
                b'[' | b'{' => self.depth += 1,
                b']' | b'}' => {
                    self.depth -= 1;
                    assert!(self.depth >= 0, "unbalanced JSON");
                }
                _ => {}
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
