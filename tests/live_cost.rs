//! What a live recording writes besides its media, per segment, as it grows: a recording that
//! holds N seconds continues at the live edge, and the bytes its process writes (`wchar` in
//! `/proc/PID/io`) less the bytes of the segments it adds are divided by their number. Run by
//! `benches/live_cost.sh` (ignored in the test suite: the catch-up of a long buffer takes a
//! while in a debug build); it prints the figures and fails if the cost per segment grows with
//! the recording's length.
use dashget_testkit as common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::live_origin::client::*;
use common::live_origin::*;

fn media_bytes(dir: &Path) -> (usize, u64) {
    let files = common::media_files(dir);
    (files.len(), files.iter().map(|(_, size)| size).sum())
}

fn written(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Bytes written besides the media per new segment, once a recording holds `held` seconds.
fn cost_after(held: u64) -> f64 {
    let ast = whole_seconds_ago(held as i128 + 5);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.tsbd = (held + 10) * SEC;
    config.mup = Some(2 * SEC);
    let origin = LiveOrigin::start(config);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dashget"))
        .arg(origin.manifest_url())
        .arg("-o")
        .arg(dir.path())
        .args(["--from-start", "-q", "-t", "8"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the catch-up to end (the whole buffer recorded), then measure at the edge.
    let expected = (held as f64 / 0.4 + held as f64 / 0.384) as usize;
    let deadline = Instant::now() + Duration::from_secs(600);
    while media_bytes(dir.path()).0 < expected {
        assert!(Instant::now() < deadline, "the catch-up did not end");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let (count0, media0) = media_bytes(dir.path());
    let written0 = written(child.id());
    std::thread::sleep(Duration::from_secs(20));
    let (count1, media1) = media_bytes(dir.path());
    let written1 = written(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    let segments = (count1 - count0) as f64;
    let besides = (written1 - written0).saturating_sub(media1 - media0) as f64;
    println!(
        "held {held} s: {} new segments, {:.0} bytes written besides the media per segment",
        count1 - count0,
        besides / segments
    );
    besides / segments
}

#[test]
#[ignore = "a benchmark: benches/live_cost.sh"]
fn bytes_written_besides_media_per_segment_are_flat_in_the_recording_length() {
    let short = cost_after(300);
    let long = cost_after(1800);
    assert!(
        long <= short * 1.25 + 64.0,
        "{short:.0} bytes per segment after 300 s, {long:.0} after 1800 s"
    );
}

/// Manifest requests a minute-long recording makes.
fn manifest_requests_per_minute(addressing: Addressing, mup: u64) -> usize {
    let ast = whole_seconds_ago(30);
    let mut config = LiveConfig::new(addressing, ast);
    config.mup = Some(mup);
    let origin = LiveOrigin::start(config);
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_dashget"))
        .arg(origin.manifest_url())
        .arg("-o")
        .arg(dir.path())
        .args(["--duration", "60", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let asked = origin
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(".mpd"))
        .count();
    println!("{addressing:?}, minimumUpdatePeriod {mup} ns: {asked} manifest requests in a minute");
    asked
}

#[test]
#[ignore = "a benchmark: benches/live_cost.sh"]
fn manifest_requests_per_minute_with_minimum_update_periods_of_2_s_and_0() {
    // A timeline that lists only what exists, refreshed every 2 s: about 30 a minute.
    assert!(manifest_requests_per_minute(Addressing::TimelineTime, 2 * SEC) <= 32);
    // 0: at most once per shortest segment (0.384 s): at most about 157 a minute.
    assert!(manifest_requests_per_minute(Addressing::Number, 0) <= 160);
}
