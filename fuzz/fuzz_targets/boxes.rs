//! The box walker, every decoder and both renderers, at every verbosity, over arbitrary bytes.
//! Also checks that the JSON is valid whenever the strings in it are.
#![no_main]

use std::io::Cursor;

use dashget::dump::{DumpOptions, Format, dump_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for verbosity in 0..=4u8 {
        for format in [Format::Text, Format::Json] {
            let mut out = Vec::new();
            let opts = DumpOptions { verbosity, format };
            let mut input = Cursor::new(data);
            let stats = dump_file(&mut input, data.len() as u64, &mut out, &opts)
                .expect("in-memory dump cannot fail");
            assert_eq!(stats.bytes, data.len() as u64);
            if format == Format::Json {
                if let Ok(text) = std::str::from_utf8(&out) {
                    serde_json_check(text);
                }
            }
        }
    }
});

/// Our JSON must always be well formed (brackets balanced outside strings).
fn serde_json_check(text: &str) {
    let mut depth: i64 = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                assert!(depth >= 0, "unbalanced JSON");
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced JSON");
    assert!(!in_string, "unterminated string");
}
