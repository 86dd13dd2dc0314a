//! The box walker, every decoder and both renderers, at every verbosity, over arbitrary bytes.
//! The JSON output is checked to be well formed as it streams (nothing is kept in memory: a
//! hostile `trun` may legitimately print millions of rows).
#![no_main]

use std::io::{self, Cursor, Write};

use dashget::dump::{DumpOptions, Format, dump_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for verbosity in 0..=4u8 {
        for format in [Format::Text, Format::Json] {
            let opts = DumpOptions { verbosity, format };
            let mut input = Cursor::new(data);
            let stats = if format == Format::Json {
                let mut out = JsonShape::default();
                let stats = dump_file(&mut input, data.len() as u64, &mut out, &opts);
                out.finish();
                stats
            } else {
                dump_file(&mut input, data.len() as u64, &mut io::sink(), &opts)
            };
            let stats = stats.expect("in-memory dump cannot fail");
            assert_eq!(stats.bytes, data.len() as u64);
        }
    }
});

/// Checks bracket balance outside strings, byte by byte.
#[derive(Default)]
struct JsonShape {
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
