//! The `mp4dump` command line in file mode: errors, several files, verbosity bounds.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn mp4dump() -> Command {
    Command::cargo_bin("mp4dump").expect("binary built")
}

#[test]
fn missing_file_is_a_one_line_error() {
    let out = mp4dump().arg("no-such-file.mp4").output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("mp4dump: cannot read no-such-file.mp4: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    assert!(out.stdout.is_empty());
}

#[test]
fn several_files_get_a_line_each() {
    let a = fixture("bento4/number/init-0.m4s");
    let b = fixture("bento4/number/chunk-0-00001.m4s");
    let out = mp4dump().arg(&a).arg(&b).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let heads: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(heads.len(), 2);
    assert!(heads[0].ends_with("init-0.m4s size=834"), "{}", heads[0]);

    let out = mp4dump()
        .args(["--format", "json"])
        .arg(&a)
        .arg("missing.mp4")
        .arg(&b)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
}

#[test]
fn verbosity_above_four_is_refused() {
    let out = mp4dump()
        .args(["--verbosity", "5"])
        .arg(fixture("generated/edge.mp4"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn verbosity_4_says_why_a_list_ended() {
    let out = mp4dump()
        .args(["--verbosity", "4"])
        .arg(fixture("generated/edge.mp4"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.ends_with("[malformed: [mdat] box claims 100 bytes, 13 left], offset=130 (0x82)\n"),
        "{text}"
    );
}

#[test]
fn no_files_means_directory_mode() {
    // Without FILE arguments mp4dump works on the folder `-d` (default `.`): here one
    // without a manifest.
    let dir = tempfile::tempdir().expect("tmp");
    let out = mp4dump().current_dir(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no manifest (.mpd) in this folder"));
}
