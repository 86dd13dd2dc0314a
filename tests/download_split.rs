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

/// Mirrors the server's presentation with `extra` options: the run must end complete, with
/// the big file byte for byte. Returns the output folder and the run.
fn mirror(server: &TestServer, bytes: &[u8], extra: &[&str]) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().unwrap();
    let url = server.url("show/manifest.mpd");
    let run = dashget(&url, out.path(), extra).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(std::fs::read(out.path().join("big.mp4")).unwrap() == bytes);
    (out, run)
}

#[test]
fn a_large_file_arrives_in_pieces_over_several_connections() {
    let (server, bytes) = server();
    let (out, run) = mirror(&server, &bytes, &["-t", "4"]);
    let url = server.url("show/manifest.mpd");
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
    // It says `Accept-Ranges: bytes`, and answers every ranged request with 200.
    server.ignore_range(true);
    mirror(&server, &bytes, &["-t", "4"]);
    // The last GET was whole, and nothing was asked after it.
    assert_eq!(asked(&server).last(), Some(&None));
}

#[test]
fn split_size_zero_never_splits() {
    let (server, bytes) = server();
    let (out, _) = mirror(&server, &bytes, &["-t", "4", "--split-size", "0"]);
    let url = server.url("show/manifest.mpd");
    assert_eq!(asked(&server), vec![None]);
    let bad = dashget(&url, out.path(), &["--split-size", "8X"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// A `sidx` (version 0) indexing `sizes` bytes after it, each subsegment 1 s at 1000 Hz.
fn sidx(sizes: &[u32]) -> Vec<u8> {
    let mut b = Vec::new();
    let size = 32 + 12 * sizes.len() as u32;
    b.extend_from_slice(&size.to_be_bytes());
    b.extend_from_slice(b"sidx");
    b.extend_from_slice(&[0, 0, 0, 0]); // version 0, flags
    b.extend_from_slice(&1u32.to_be_bytes()); // reference_ID
    b.extend_from_slice(&1000u32.to_be_bytes()); // timescale
    b.extend_from_slice(&0u32.to_be_bytes()); // earliest_presentation_time
    b.extend_from_slice(&0u32.to_be_bytes()); // first_offset
    b.extend_from_slice(&0u16.to_be_bytes()); // reserved
    b.extend_from_slice(&(sizes.len() as u16).to_be_bytes());
    for s in sizes {
        b.extend_from_slice(&s.to_be_bytes()); // reference_type 0, referenced_size
        b.extend_from_slice(&1000u32.to_be_bytes()); // subsegment_duration
        b.extend_from_slice(&0x9000_0000u32.to_be_bytes()); // starts_with_SAP, SAP type 1
    }
    b
}

#[test]
fn pieces_of_an_indexed_file_start_where_its_subsegments_do() {
    let sizes = [1_400_000u32; 14];
    let index = sidx(&sizes);
    let mut bytes = index.clone();
    bytes.extend_from_slice(&content()[..sizes.iter().map(|s| *s as usize).sum::<usize>()]);
    let mut starts = vec![index.len() as u64];
    for s in sizes {
        starts.push(starts.last().unwrap() + u64::from(s));
    }
    let empty = tempfile::tempdir().unwrap();
    let server = TestServer::start(empty.path());
    server.put(BIG, bytes.clone());
    server.put(
        "/show/manifest.mpd",
        format!(
            r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT14S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="3000000"><BaseURL>big.mp4</BaseURL><SegmentBase indexRange="0-{}"/></Representation></AdaptationSet></Period>
</MPD>"#,
            index.len() - 1
        ),
    );
    mirror(&server, &bytes, &["-t", "4"]);
    let gets = asked(&server);
    // The index, then pieces: each starts where a subsegment does (two of 1.4 MB to a piece).
    assert!(
        gets.contains(&Some((0, index.len() as u64 - 1))),
        "{gets:?}"
    );
    let pieces: Vec<(u64, u64)> = gets
        .iter()
        .flatten()
        .copied()
        .filter(|&(first, _)| first > 0)
        .collect();
    assert!(pieces.len() >= 3, "{gets:?}");
    for (first, last) in pieces {
        assert!(
            starts.contains(&first),
            "{first} is no subsegment start: {starts:?}"
        );
        assert!(starts.contains(&(last + 1)), "{last} ends no subsegment");
        assert!(last + 1 - first <= PIECE);
    }
}
