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

/// GPAC's order: `mvex` moved before the `trak`s of the init's `moov` (right after `mvhd`;
/// ISO/IEC 14496-12 §6.2.3 only recommends putting it last).
pub fn mvex_first(b: &mut Vec<u8>) {
    let (moov, moov_size) = find(b, &[b"moov"]);
    let (mvex, mvex_size) = find(b, &[b"moov", b"mvex"]);
    let (mvhd, mvhd_size) = find(b, &[b"moov", b"mvhd"]);
    assert!(mvex > mvhd && mvex + mvex_size <= moov + moov_size);
    let block: Vec<u8> = b.drain(mvex..mvex + mvex_size).collect();
    let at = mvhd + mvhd_size;
    b.splice(at..at, block);
}

/// Removes the default sample duration from every `tfhd` of a segment (the `trex` of the init
/// must then supply it): the field's 4 bytes go, and the sizes and offsets that span them
/// (`tfhd`, `traf`, `moof`, `trun`'s data offset, the `sidx` reference) shrink by 4. Returns
/// the duration removed.
pub fn drop_tfhd_duration(b: &mut Vec<u8>) -> u32 {
    let (moof, _) = find(b, &[b"moof"]);
    let (traf, _) = find(b, &[b"moof", b"traf"]);
    let (tfhd, _) = find(b, &[b"moof", b"traf", b"tfhd"]);
    let flags = read_u32(b, tfhd + 8) & 0x00ff_ffff;
    assert!(flags & 0x8 != 0, "tfhd with a default sample duration");
    let mut at = tfhd + 16;
    for (bit, len) in [(0x1, 8), (0x2, 4)] {
        if flags & bit != 0 {
            at += len;
        }
    }
    let duration = read_u32(b, at);
    b.drain(at..at + 4);
    let version = read_u32(b, tfhd + 8) & 0xff00_0000;
    write_u32(b, tfhd + 8, version | (flags & !0x8));
    for start in [tfhd, traf, moof] {
        let size = read_u32(b, start);
        write_u32(b, start, size - 4);
    }
    let (trun, _) = find(b, &[b"moof", b"traf", b"trun"]);
    if read_u32(b, trun + 8) & 0x1 != 0 {
        let offset = read_u32(b, trun + 16);
        write_u32(b, trun + 16, offset - 4);
    }
    if b.windows(4).any(|w| w == b"sidx") {
        let (sidx, _) = find(b, &[b"sidx"]);
        let first_reference = sidx + if b[sidx + 8] == 1 { 40 } else { 32 };
        let reference = read_u32(b, first_reference);
        write_u32(b, first_reference, reference - 4);
    }
    duration
}

/// Sets the default sample duration of the init's (one) `trex`.
pub fn set_trex_duration(b: &mut [u8], duration: u32) {
    let (trex, _) = find(b, &[b"moov", b"mvex", b"trex"]);
    write_u32(b, trex + 20, duration);
}

/// Asserts that the presentation checks without an error (exit 0), and returns its findings.
pub fn assert_clean(dir: &Path) -> Vec<Value> {
    let (code, findings, _) = check(dir);
    assert!(
        findings.iter().all(|f| f["severity"] == "warning"),
        "{findings:#?}"
    );
    assert_eq!(code, 0, "{findings:#?}");
    findings
}

/// What ffprobe reads of a presentation: frames per stream (`None` when ffprobe is not
/// installed; `.ci/run` installs it).
pub fn ffprobe_frames(dir: &Path, manifest: &str) -> Option<Vec<String>> {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(dir.join(manifest))
        .output()
        .ok()?;
    // (ffprobe's DASH reader prints "Error when loading first fragment" on clean fixtures
    // too: its exit status and what it read are compared, not its chatter.)
    assert!(
        out.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// A variant reads in ffprobe without an error, with as many streams as the presentation it
/// was made from, each with frames (their counts may differ: an edit list that hides more
/// priming hides a frame).
pub fn assert_reads_like(dir: &Path, original: &str) {
    let want = ffprobe_frames(&fixtures().join(original), "manifest.mpd");
    let got = ffprobe_frames(dir, "manifest.mpd");
    let shape = |frames: &Option<Vec<String>>| {
        frames.as_ref().map(|f| {
            f.iter()
                .map(|n| n.parse::<u64>().is_ok_and(|n| n > 0))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        shape(&got),
        shape(&want),
        "ffprobe: {got:?}, {original}: {want:?}"
    );
}
