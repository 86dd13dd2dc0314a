//! What the `--check` tests share: fixture copies, running the check, byte surgery.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A copy of a fixture presentation (`dash/template-number`, `bento4-dash/cenc`, …).
pub fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    copy_tree(&fixtures().join(name), dir.path());
    dir
}

/// Runs `mp4dump --check --format json` on `dir`: exit code, findings, summary.
pub fn check(dir: &Path) -> (i32, Vec<Value>, Value) {
    let out = Command::cargo_bin("mp4dump")
        .expect("binary")
        .args(["--check", "--format", "json", "-d"])
        .arg(dir)
        .output()
        .expect("runs");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let summary = lines.pop().expect("a summary line");
    assert!(summary.get("summary").is_some(), "{summary}");
    (out.status.code().expect("exit code"), lines, summary)
}

/// Asserts that the check found exactly `check`, on `segment`, as errors, with exit 1.
pub fn assert_only(dir: &Path, check_name: &str, segment: &str) -> Vec<Value> {
    let (code, findings, _) = check(dir);
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == check_name && f["segment"] == segment),
        "no {check_name} on {segment}: {findings:#?}"
    );
    for f in &findings {
        assert_eq!(f["check"], check_name, "another finding: {f}");
        assert_eq!(f["severity"], "error", "{f}");
        assert!(
            f.get("expected").is_some() && f.get("found").is_some(),
            "{f}"
        );
        assert!(f["representation"].is_string() && f["message"].is_string());
    }
    assert_eq!(code, 1, "{findings:#?}");
    findings
}

/// Asserts that the check found `check` on `segment` (among other findings) and exited 1.
pub fn assert_found(dir: &Path, check_name: &str, segment: &str) -> Vec<Value> {
    let (code, findings, _) = check(dir);
    assert_eq!(code, 1, "{findings:#?}");
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == check_name && f["segment"] == segment),
        "no {check_name} on {segment}: {findings:#?}"
    );
    findings
}

/// The (offset, size) of the first box at `path` (types from the top level down).
pub fn find(bytes: &[u8], path: &[&[u8; 4]]) -> (usize, usize) {
    let (mut start, mut end) = (0usize, bytes.len());
    let mut found = (0, 0);
    for (depth, typ) in path.iter().enumerate() {
        let mut at = start;
        loop {
            assert!(at + 8 <= end, "no {:?} at depth {depth}", typ);
            let size = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4")) as usize;
            if &bytes[at + 4..at + 8] == *typ {
                found = (at, size);
                break;
            }
            at += size;
        }
        // Children of a container start after its 8-byte header.
        start = found.0 + 8;
        end = found.0 + found.1;
    }
    found
}

pub fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4"))
}

pub fn write_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Edits a file of the presentation in place.
pub fn edit(dir: &Path, file: &str, change: impl FnOnce(&mut Vec<u8>)) {
    let path = dir.join(file);
    let mut bytes = std::fs::read(&path).expect("segment");
    change(&mut bytes);
    std::fs::write(&path, bytes).expect("write");
}

/// Replaces text in the presentation's manifest.
pub fn edit_manifest(dir: &Path, name: &str, from: &str, to: &str) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).expect("manifest");
    assert!(text.contains(from), "{from}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

/// Adds `ticks` to the `tfdt` of every fragment and to the `sidx` earliest presentation time.
pub fn shift_times(b: &mut [u8], ticks: u64) {
    let (tfdt, _) = find(b, &[b"moof", b"traf", b"tfdt"]);
    assert_eq!(b[tfdt + 8], 1, "version 1 tfdt");
    let t = u64::from_be_bytes(b[tfdt + 12..tfdt + 20].try_into().expect("8"));
    b[tfdt + 12..tfdt + 20].copy_from_slice(&(t + ticks).to_be_bytes());
    let (sidx, _) = find(b, &[b"sidx"]);
    assert_eq!(b[sidx + 8], 1, "version 1 sidx");
    let at = sidx + 20;
    let t = u64::from_be_bytes(b[at..at + 8].try_into().expect("8"));
    b[at..at + 8].copy_from_slice(&(t + ticks).to_be_bytes());
}

/// Collects what the library reports.
#[derive(Default)]
pub struct Collect(pub Vec<dashget::check::Finding>);

impl dashget::check::CheckEvents for Collect {
    fn finding(&mut self, finding: &dashget::check::Finding) {
        self.0.push(finding.clone());
    }
    fn progress(&mut self, _: u64, _: u64) {}
}

/// Sets the `tfdt` of the first fragment of a segment.
pub fn set_decode_time(b: &mut [u8], change: impl Fn(u64) -> u64) {
    let (tfdt, _) = find(b, &[b"moof", b"traf", b"tfdt"]);
    assert_eq!(b[tfdt + 8], 1, "version 1 tfdt");
    let t = u64::from_be_bytes(b[tfdt + 12..tfdt + 20].try_into().expect("8"));
    b[tfdt + 12..tfdt + 20].copy_from_slice(&change(t).to_be_bytes());
}
