use super::json::write_escaped;
use super::*;

fn render(f: impl Fn(&mut dyn Inspector)) -> (String, String) {
    let mut t = TextInspector::new(Vec::new(), 3).without_offsets();
    f(&mut t);
    let text = String::from_utf8(t.finish().expect("text")).expect("utf-8");
    let mut j = JsonInspector::new(Vec::new(), 3).without_offsets();
    f(&mut j);
    let json = String::from_utf8(j.finish().expect("json")).expect("utf-8");
    (text, json)
}

fn start(name: &[u8], header: u64, size: u64, version: u8, flags: u32) -> BoxStart<'_> {
    BoxStart {
        name,
        header_size: header,
        size,
        version,
        flags,
        offset: 0,
        descriptor: false,
    }
}

#[test]
fn value_formats() {
    let (text, json) = render(|i| {
        i.start_box(&start(b"test", 12, 40, 1, 0x20038));
        i.uint("u", u64::MAX);
        i.int("i", -5);
        i.hex("h", 0x1010000);
        i.float("f", 16384.0);
        i.string("s", b"a\"b\\c\x01\0hidden");
        i.string("empty", b"");
        i.bytes("b", &[0x67, 0x0a]);
        i.bytes("none", &[]);
        i.end_box();
    });
    assert_eq!(
        text,
        "[test] size=12+28, version=1, flags=20038\n  u = -1\n  i = -5\n  h = 1010000\n  f = 16384.000000\n  s = a\"b\\c\x01\n  empty = \n  b = [67 0a]\n  none = []\n"
    );
    assert!(
        json.contains("\"version\": 1,\n    \"flags\": 131128,"),
        "{json}"
    );
    assert!(json.contains("\"h\": 16842752,"), "{json}");
    assert!(json.contains("\"s\": \"a\\\"b\\\\c\\u0001\","), "{json}");
    assert!(json.contains("\"b\": \"[67 0a]\""), "{json}");
}

#[test]
fn version_and_flags_show_only_for_full_header_sizes() {
    let (text, _) = render(|i| {
        i.start_box(&start(b"abcd", 8, 8, 1, 1));
        i.end_box();
        i.start_box(&start(b"abcd", 28, 28, 0, 2));
        i.end_box();
    });
    assert_eq!(text, "[abcd] size=8+0\n[abcd] size=28+0, flags=2\n");
}

#[test]
fn tables_compact_and_nested_objects() {
    let (text, json) = render(|i| {
        i.start_box(&start(b"senc", 12, 20, 0, 2));
        i.start_table("entries");
        for n in 0..2 {
            i.start_object(false);
            i.bytes("info", &[n]);
            i.start_table("sub entries");
            i.start_object(true);
            i.uint("a", 1);
            i.uint("b", 2);
            i.end_object();
            i.end_table();
            i.end_object();
        }
        i.end_table();
        i.start_table("empty");
        i.end_table();
        i.end_box();
    });
    assert_eq!(
        text,
        "[senc] size=12+8, flags=2\n  entries:\n    (       0) \n      info = [00]\n      sub entries:\n        (       0) a = 1, b = 2\n    (       1) \n      info = [01]\n      sub entries:\n        (       0) a = 1, b = 2\n  empty:\n"
    );
    assert!(json.contains("\"empty\": [\n\n    ]"), "{json}");
    serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
}

#[test]
fn table_index_is_right_aligned_in_eight_columns() {
    let (text, _) = render(|i| {
        i.start_table("t");
        for n in 0..12 {
            i.field(None, Value::Uint(n));
        }
        i.end_table();
    });
    assert!(text.contains("  (      11) 11\n"), "{text}");
}

#[test]
fn json_children_arrays_follow_bento4s_layout() {
    let (_, json) = render(|i| {
        i.start_box(&start(b"moov", 8, 24, 0, 0));
        i.start_box(&start(b"free", 8, 8, 0, 0));
        i.end_box();
        i.start_box(&start(b"skip", 8, 8, 0, 0));
        i.end_box();
        i.end_box();
    });
    assert_eq!(
        json,
        "[\n  {\n    \"name\": \"moov\",\n    \"header_size\": 8,\n    \"size\": 24,\n    \"children\":[ \n    {\n      \"name\": \"free\",\n      \"header_size\": 8,\n      \"size\": 8\n    },\n    {\n      \"name\": \"skip\",\n      \"header_size\": 8,\n      \"size\": 8\n    }]\n  }\n]\n"
    );
}

#[test]
fn json_strings_stop_at_invalid_utf8() {
    let mut out = Vec::new();
    write_escaped(&mut out, b"ok \xc3\xa9 \xff rest").expect("write");
    assert_eq!(out, b"ok \xc3\xa9 ");
}

#[test]
fn write_errors_are_kept_and_reported() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut t = TextInspector::new(Full, 3);
    t.uint("a", 1);
    t.uint("b", 2);
    assert!(t.io_error().is_some());
}
