//! `mp4dump FILE` against Bento4's own output on real files: text at verbosity 0..=3 and JSON
//! at verbosity 3 must equal Bento4's once our offsets are taken out, and every offset must
//! point at the box it names.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every media file that has reference dumps beside it.
fn reference_files() -> Vec<PathBuf> {
    fn visit(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                visit(&p, out);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("mp4") | Some("m4s")
            ) && with_suffix(&p, ".v0.txt").exists()
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    visit(&fixtures().join("bento4"), &mut out);
    visit(&fixtures().join("generated"), &mut out);
    out.sort();
    out
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn mp4dump(args: &[&str], file: &Path) -> Vec<u8> {
    let out = Command::cargo_bin("mp4dump")
        .expect("binary built")
        .args(args)
        .arg(file)
        .output()
        .expect("mp4dump runs");
    assert!(
        out.status.success(),
        "mp4dump {args:?} {} failed",
        file.display()
    );
    out.stdout
}

/// Removes `, offset=N (0xHEX)` from the end of each line.
fn strip_text_offsets(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|b| *b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        match find_offset_suffix(body) {
            Some(at) => out.extend_from_slice(&body[..at]),
            None => out.extend_from_slice(body),
        }
        if line.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    out
}

/// Where `, offset=N (0xHEX)` starts at the end of a line, and N.
fn find_offset_suffix(line: &[u8]) -> Option<usize> {
    parse_offset_suffix(line).map(|(at, _)| at)
}

fn parse_offset_suffix(line: &[u8]) -> Option<(usize, u64)> {
    let s = std::str::from_utf8(line).ok()?;
    let at = s.rfind(", offset=")?;
    let rest = &s[at + ", offset=".len()..];
    let (dec, hex) = rest.split_once(" (0x")?;
    let hex = hex.strip_suffix(')')?;
    let n: u64 = dec.parse().ok()?;
    (u64::from_str_radix(hex, 16).ok()? == n).then_some((at, n))
}

/// Removes the `"offset": N` member that follows each `"size"` member.
fn strip_json_offsets(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut lines = json.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let is_size = line.trim_start().starts_with("\"size\": ");
        let next_is_offset = lines
            .peek()
            .is_some_and(|n| n.trim_start().starts_with("\"offset\": "));
        if is_size && next_is_offset {
            let offset_line = lines.next().unwrap_or_default();
            // `"size": N,\n` + `"offset": M[,]\n`: keep the offset line's ending.
            let size_body = line.trim_end_matches('\n').trim_end_matches(',');
            out.push_str(size_body);
            if offset_line.trim_end().ends_with(',') {
                out.push(',');
            }
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    out
}

fn show_diff(expected: &[u8], actual: &[u8]) -> String {
    let e = String::from_utf8_lossy(expected);
    let a = String::from_utf8_lossy(actual);
    for (i, (x, y)) in e.lines().zip(a.lines()).enumerate() {
        if x != y {
            return format!(
                "first difference at line {}:\n  expected: {x}\n  actual:   {y}",
                i + 1
            );
        }
    }
    format!(
        "one output is a prefix of the other ({} vs {} lines)",
        e.lines().count(),
        a.lines().count()
    )
}

#[test]
fn reference_files_exist() {
    assert!(reference_files().len() >= 20, "fixtures missing");
}

#[test]
fn text_matches_bento4_at_every_verbosity() {
    for file in reference_files() {
        for v in 0..=3 {
            let expected = fs::read(with_suffix(&file, &format!(".v{v}.txt"))).expect("reference");
            let ours = mp4dump(&["--verbosity", &v.to_string()], &file);
            let stripped = strip_text_offsets(&ours);
            assert!(
                stripped == expected,
                "{} v{v}: {}",
                file.display(),
                show_diff(&expected, &stripped)
            );
        }
    }
}

#[test]
fn json_matches_bento4_and_parses() {
    for file in reference_files() {
        let expected = fs::read_to_string(with_suffix(&file, ".v3.json")).expect("reference");
        let ours = mp4dump(&["--verbosity", "3", "--format", "json"], &file);
        let ours = String::from_utf8(ours).expect("our JSON is UTF-8 for these files");
        serde_json::from_str::<serde_json::Value>(&ours).expect("valid JSON");
        let stripped = strip_json_offsets(&ours);
        assert!(
            stripped == expected,
            "{}: {}",
            file.display(),
            show_diff(expected.as_bytes(), stripped.as_bytes())
        );
    }
}

#[test]
fn every_offset_points_at_its_box() {
    for file in reference_files() {
        let bytes = fs::read(&file).expect("fixture");
        let text = mp4dump(&["--verbosity", "3"], &file);
        let mut checked = 0;
        for line in text.split(|b| *b == b'\n') {
            let Some((_, offset)) = parse_offset_suffix(line) else {
                continue;
            };
            let s = String::from_utf8_lossy(line);
            let name = s.trim_start();
            let name = &name[1..name.find(']').expect("box name")];
            let at = offset as usize;
            match name {
                "ESDescriptor" => assert_eq!(bytes[at], 3, "{s}"),
                "DecoderConfig" => assert_eq!(bytes[at], 4, "{s}"),
                "InitialObjectDescriptor" => assert!(matches!(bytes[at], 0x02 | 0x10), "{s}"),
                "ObjectDescriptor" => assert!(matches!(bytes[at], 0x01 | 0x11), "{s}"),
                "ES_ID_Inc" => assert_eq!(bytes[at], 0x0e, "{s}"),
                "ES_ID_Ref" => assert_eq!(bytes[at], 0x0f, "{s}"),
                _ if name.starts_with("Descriptor:") => {
                    let tag = u8::from_str_radix(&name[11..], 16).expect("tag");
                    assert_eq!(bytes[at], tag, "{s}");
                }
                _ if name.len() == 36 => assert_eq!(&bytes[at + 4..at + 8], b"uuid", "{s}"),
                _ => {
                    let printable: Vec<u8> = bytes[at + 4..at + 8]
                        .iter()
                        .map(|&b| if (0x20..0x7f).contains(&b) { b } else { b'.' })
                        .collect();
                    assert_eq!(printable, name.as_bytes(), "{} {s}", file.display());
                }
            }
            checked += 1;
        }
        assert!(checked > 0, "{}: no offsets", file.display());
    }
}
