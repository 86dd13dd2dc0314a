//! Large files in pieces (`--split-size`): the `dashget` binary against the test server (which
//! serves byte ranges with an `ETag` and honours `If-Range`). A 20 MiB resource arrives byte
//! for byte over several connections in pieces of at most 4 MiB; a run killed part-way and run
//! again fetches at most 1.25× the file in all; a server that answers ranged requests with the
//! whole file gets one whole download; `--split-size 0` never splits.

use dashget_testkit as common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::{Fault, TestServer, When};

const SIZE: usize = 20 * 1024 * 1024 + 12_345;
const PIECE: u64 = 4 * 1024 * 1024;
const BIG: &str = "/show/big.mp4";

/// Bytes that no two offsets share by accident (xorshift).
fn content() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An on-demand presentation of one representation: one large file named by a BaseURL.
fn server() -> (TestServer, Vec<u8>) {
    let empty = tempfile::tempdir().unwrap();
    let server = TestServer::start(empty.path());
    let bytes = content();
    server.put(BIG, bytes.clone());
    server.put(
        "/show/manifest.mpd",
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT60S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="3000000"><BaseURL>big.mp4</BaseURL></Representation></AdaptationSet></Period>
</MPD>"#,
    );
    (server, bytes)
}

fn dashget(url: &str, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("dashget").unwrap();
    cmd.env("DASHGET_BACKOFF_MS", "10")
        .arg(url)
        .arg("-o")
        .arg(out)
        .args(["--json", "--no-progress"])
        .args(extra);
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn received(output: &Output) -> u64 {
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stdout)));
    summary["bytes"].as_u64().unwrap()
}

/// The ranges the GETs of the big file asked for: `None` for a GET without `Range`.
fn asked(server: &TestServer) -> Vec<Option<(u64, u64)>> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == BIG)
        .map(|r| {
            let range = r.headers.get("range")?;
            let (a, b) = range.strip_prefix("bytes=")?.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_large_file_arrives_in_pieces_over_several_connections() {
    let (server, bytes) = server();
    let out = tempfile::tempdir().unwrap();
    let url = server.url("show/manifest.mpd");
    let run = dashget(&url, out.path(), &["-t", "4"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(std::fs::read(out.path().join("big.mp4")).unwrap() == bytes);
    let gets = asked(&server);
    let ranged: Vec<(u64, u64)> = gets.iter().flatten().copied().collect();
    assert!(ranged.len() >= 3, "{gets:?}");
    for (first, last) in &ranged {
        assert!(last - first < PIECE, "{first}-{last}");
    }
    // Every ranged request carried the validator.
    for r in server
        .requests()
        .iter()
        .filter(|r| r.headers.contains_key("range"))
    {
        assert!(r.headers.contains_key("if-range"), "{:?}", r.headers);
    }
    assert!(received(&run) <= SIZE as u64, "each byte once");
    // No part file, no leftovers; a second run asks for nothing.
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    server.reset();
    let again = dashget(&url, out.path(), &["-t", "4"]).output().unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert!(asked(&server).is_empty());
}

#[test]
fn a_split_download_killed_part_way_resumes_its_pieces() {
    let (server, bytes) = server();
    let out = tempfile::tempdir().unwrap();
    let url = server.url("show/manifest.mpd");
    let big_url = server.url(BIG.trim_start_matches('/'));
    // About 1 MiB/s per connection: the kill comes while pieces are in flight.
    server.fault(BIG, Fault::Slow(1024 * 1024), When::Always);
    let mut child = dashget(&url, out.path(), &["-t", "4"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let journal = dashget::store::Journal::load(out.path()).unwrap();
        let have: u64 = journal
            .ranges("big.mp4", &big_url)
            .iter()
            .map(|(a, b)| b - a)
            .sum();
        if have >= 6 * 1024 * 1024 {
            break;
        }
        assert!(Instant::now() < deadline, "no pieces recorded");
        assert!(child.try_wait().unwrap().is_none(), "ended before the kill");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !out.path().join("big.mp4").exists(),
        "never a short final file"
    );
    let first_run = server.bytes_sent(BIG);
    server.clear_faults();
    server.reset();
    let run = dashget(&url, out.path(), &["-t", "4"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(std::fs::read(out.path().join("big.mp4")).unwrap() == bytes);
    // The second run asked only for what the first did not record.
    assert!(
        asked(&server).iter().all(Option::is_some),
        "{:?}",
        asked(&server)
    );
    let total = first_run + received(&run);
    eprintln!(
        "killed run: {first_run} bytes sent, resumed run: {} received, file {SIZE}: {:.3}x",
        received(&run),
        total as f64 / SIZE as f64
    );
    assert!(
        total as f64 <= 1.25 * SIZE as f64,
        "{first_run} + {} bytes for a file of {SIZE}",
        received(&run)
    );
}

#[test]
fn a_server_that_answers_pieces_with_the_whole_file_gets_one_whole_download() {
    let (server, bytes) = server();
    let out = tempfile::tempdir().unwrap();
    let url = server.url("show/manifest.mpd");
    // It says `Accept-Ranges: bytes`, and answers every ranged request with 200.
    server.ignore_range(true);
    let run = dashget(&url, out.path(), &["-t", "4"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(std::fs::read(out.path().join("big.mp4")).unwrap() == bytes);
    // The last GET was whole, and nothing was asked after it.
    assert_eq!(asked(&server).last(), Some(&None));
}

#[test]
fn split_size_zero_never_splits() {
    let (server, bytes) = server();
    let out = tempfile::tempdir().unwrap();
    let url = server.url("show/manifest.mpd");
    let run = dashget(&url, out.path(), &["-t", "4", "--split-size", "0"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(std::fs::read(out.path().join("big.mp4")).unwrap() == bytes);
    assert_eq!(asked(&server), vec![None]);
    let bad = dashget(&url, out.path(), &["--split-size", "8X"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
