//! `dashget --check`: the checks of `mp4dump --check` on each segment as it lands, from the
//! bytes the download holds: a clean presentation passes (exit 0), a defect is reported on
//! stderr as it is found, in `--json` and by the exit code (1), with the same findings as
//! `mp4dump --check` of the mirror; a re-run reads the files it already has, once.

mod check_support;

use std::path::Path;
use std::process::Output;

use assert_cmd::cargo::CommandCargoExt;
use check_support::*;
use dashget_testkit::TestServer;

fn dashget(args: &[&str]) -> Output {
    std::process::Command::cargo_bin("dashget")
        .unwrap()
        .env("DASHGET_BACKOFF_MS", "10")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (check, segment) of `mp4dump --check` on the mirror.
fn mp4dump_findings(dir: &Path) -> Vec<(String, String)> {
    let (_, findings, _) = check(dir);
    let mut out: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["segment"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_clean_presentation_checks_clean_as_it_downloads() {
    for name in [
        "dash/template-number",
        "bento4-dash/cenc",
        "dash/single-file",
    ] {
        let served = copy_of(name);
        let server = TestServer::start(served.path());
        let manifest = if name.contains("bento4") {
            "stream.mpd"
        } else {
            "manifest.mpd"
        };
        let out_dir = tempfile::tempdir().unwrap();
        let out = dashget(&[
            "--check",
            "--no-progress",
            &server.url(manifest),
            "-o",
            out_dir.path().to_str().unwrap(),
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert!(err.contains(" 0 errors"), "{name}: {err}");
        assert!(!err.contains("dashget: check: error"), "{name}: {err}");
    }
}

#[test]
fn a_defect_is_found_as_it_lands_and_fails_the_run() {
    let served = copy_of("dash/template-number");
    // A tfdt 0.5 s late: a gap in the media.
    edit(served.path(), "chunk-stream0-00002.m4s", |b| {
        set_decode_time(b, |t| t + 6144)
    });
    let server = TestServer::start(served.path());
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().to_str().unwrap();
    let url = server.url("manifest.mpd");
    let out = dashget(&["--check", "--no-progress", "-t", "4", &url, "-o", dir]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dashget: check: error 0 chunk-stream0-00002.m4s: decode-time:"),
        "{err}"
    );
    // Every file downloaded: the failure is the check's.
    assert!(!err.contains("failed"), "{err}");
    // The same findings as mp4dump --check of the mirror.
    let mirror = mp4dump_findings(out_dir.path());
    let mut found: Vec<(String, String)> = err
        .lines()
        .filter_map(|l| l.strip_prefix("dashget: check: "))
        .filter(|l| l.starts_with("error ") || l.starts_with("warning "))
        .map(|l| {
            let mut words = l.split_whitespace();
            let (_, _, segment) = (words.next(), words.next(), words.next().unwrap());
            let check = words.next().unwrap().trim_end_matches(':');
            (check.to_string(), segment.trim_end_matches(':').to_string())
        })
        .collect();
    found.sort();
    assert_eq!(found, mirror);
    // --json: the summary carries the check's.
    let out = dashget(&["--check", "--json", &url, "-o", dir]);
    assert_eq!(out.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["check"]["errors"]["decode-time"], 1, "{summary}");
    assert_eq!(summary["check"]["segments"], 9, "{summary}");
    // That re-run downloaded nothing: the files on disk were read for the check.
    assert_eq!(summary["downloaded_files"], 0, "{summary}");
    // Without --check, the same mirror is a success.
    let out = dashget(&["--no-progress", &url, "-o", dir]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_failed_download_is_a_missing_segment_for_the_check() {
    let served = copy_of("dash/template-number");
    std::fs::remove_file(served.path().join("chunk-stream1-00001.m4s")).unwrap();
    let server = TestServer::start(served.path());
    let out_dir = tempfile::tempdir().unwrap();
    let out = dashget(&[
        "--check",
        "--no-progress",
        "--retries",
        "0",
        &server.url("manifest.mpd"),
        "-o",
        out_dir.path().to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dashget: check: error 1 chunk-stream1-00001.m4s: missing-segment: cannot be read: not downloaded: HTTP 404"),
        "{err}"
    );
}
