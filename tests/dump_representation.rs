//! `write_representation`: the segments of a representation in one dump, each introduced by a
//! `#` line with its size and offset in the representation; missing segments recorded.

use std::fs;
use std::path::{Path, PathBuf};

use dashget::discover::SegmentFile;
use dashget::dump::{DumpOptions, Format, write_representation};

fn dash_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated/dash")
}

fn segments() -> Vec<SegmentFile> {
    [
        "init-stream1.m4s",
        "chunk-stream1-00001.m4s",
        "chunk-stream1-00404.m4s",
        "chunk-stream1-00002.m4s",
    ]
    .iter()
    .map(|name| SegmentFile {
        display_path: format!("dash/{name}"),
        fs_path: dash_dir().join(name),
    })
    .collect()
}

fn strip_offset(line: &str) -> &str {
    match line.rfind(", offset=") {
        Some(i) => &line[..i],
        None => line,
    }
}

#[test]
fn text_dump_of_a_representation() {
    let mut out = Vec::new();
    let opts = DumpOptions {
        verbosity: 3,
        format: Format::Text,
    };
    let stats = write_representation(&mut out, "1", segments(), &opts).expect("dump");
    let text = String::from_utf8(out).expect("utf-8");

    let size = |n: &str| fs::metadata(dash_dir().join(n)).expect("fixture").len();
    let (init, first) = (size("init-stream1.m4s"), size("chunk-stream1-00001.m4s"));
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(headers.len(), 4);
    assert_eq!(
        headers[0],
        format!("# dash/init-stream1.m4s size={init} offset=0 (0x0)")
    );
    assert_eq!(
        headers[1],
        format!("# dash/chunk-stream1-00001.m4s size={first} offset={init} (0x{init:x})")
    );
    assert!(headers[2].starts_with("# dash/chunk-stream1-00404.m4s MISSING: "));
    let third = init + first;
    assert!(headers[3].ends_with(&format!(" offset={third} (0x{third:x})")));

    // Without the `#` lines and offsets: Bento4's dumps of the segments, one after the other.
    let ours: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{}\n", strip_offset(l)))
        .collect();
    let mut expected = String::new();
    for name in [
        "init-stream1.m4s",
        "chunk-stream1-00001.m4s",
        "chunk-stream1-00002.m4s",
    ] {
        expected += &fs::read_to_string(dash_dir().join(format!("{name}.v3.txt"))).expect("ref");
    }
    assert_eq!(ours, expected);

    assert_eq!(stats.segments, 3);
    assert_eq!(stats.missing.len(), 1);
    assert_eq!(stats.missing[0].path, "dash/chunk-stream1-00404.m4s");
    assert!(stats.boxes > 10);
    assert_eq!(stats.bytes, third + size("chunk-stream1-00002.m4s"));
}

#[test]
fn json_dump_of_a_representation() {
    let mut out = Vec::new();
    let opts = DumpOptions {
        verbosity: 3,
        format: Format::Json,
    };
    write_representation(&mut out, "video/1", segments(), &opts).expect("dump");
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["representation"], "video/1");
    let segs = v["segments"].as_array().expect("segments");
    assert_eq!(segs.len(), 4);
    assert_eq!(segs[0]["offset"], 0);
    assert_eq!(segs[1]["offset"], segs[0]["size"]);
    assert!(segs[2]["error"].is_string());
    let boxes = segs[1]["boxes"].as_array().expect("boxes");
    assert_eq!(boxes[0]["name"], "styp");
    assert_eq!(boxes[0]["offset"], 0);
}

#[test]
fn empty_representation() {
    for format in [Format::Text, Format::Json] {
        let mut out = Vec::new();
        let opts = DumpOptions {
            verbosity: 0,
            format,
        };
        let stats =
            write_representation(&mut out, "a", &[] as &[SegmentFile], &opts).expect("dump");
        assert_eq!(stats.segments, 0);
        if format == Format::Json {
            serde_json::from_slice::<serde_json::Value>(&out).expect("valid JSON");
        } else {
            assert!(out.is_empty());
        }
    }
}
