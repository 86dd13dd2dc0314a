//! The figures of low latency and MPD Patch, against the live test origin on 127.0.0.1. Run by
//! `benches/live_latency.sh` (ignored in the test suite: each measures a minute of real time);
//! it prints the figures for BENCHMARKS.md.
//!
//! - **Lag behind the live edge**, chunked CMAF (video segments of 2 s in chunks of 0.4 s,
//!   `availabilityTimeOffset` 1.6 s with `availabilityTimeComplete="false"`), recorded with
//!   low latency and with `--no-low-latency`: the recorder's own figure (segment end on the
//!   origin's clock to the file in place), and the age of each chunk when the origin handed it
//!   to the connection (its availability to the moment it went out).
//! - **Manifest bytes per minute** of a SegmentTimeline two hours long, written out one `S`
//!   per segment, with a `minimumUpdatePeriod` of 2 s: refreshed whole, and through MPD Patch.
use dashget_testkit as common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::live_origin::client::*;
use common::live_origin::*;

fn record(origin: &LiveOrigin, dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_dashget"))
        .arg(origin.manifest_url())
        .arg("-o")
        .arg(dir)
        .args(["--json", "-q"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "the recording failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn quantiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at =
        |q: f64| values[((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1];
    (at(0.5), at(0.95), values[values.len() - 1])
}

#[test]
#[ignore = "a benchmark: benches/live_latency.sh"]
fn lag_behind_the_edge_with_and_without_low_latency() {
    let start = || {
        let mut config = LiveConfig::new(Addressing::Number, whole_seconds_ago(10));
        config.chunks = 5;
        config.ato = 1_600_000_000;
        config.low_latency = true;
        config.mup = Some(2 * SEC);
        LiveOrigin::start(config)
    };
    let (with, without) = (start(), start());
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let seconds = 30;
    let duration = seconds.to_string();
    let (sa, sb) = std::thread::scope(|scope| {
        let ta = scope.spawn(|| record(&with, a.path(), &["--duration", &duration]));
        let tb = scope.spawn(|| {
            record(
                &without,
                b.path(),
                &["--duration", &duration, "--no-low-latency"],
            )
        });
        (ta.join().unwrap(), tb.join().unwrap())
    });
    // The age of the media when it went out: each chunk sent as written (low latency); without
    // it, each segment is sent whole when asked for, every chunk at the request's arrival.
    // Steady state: the first segment of each track, asked for when some of its chunks already
    // existed, is left out.
    let first = |sent: &[ChunkSent], track: &str| {
        sent.iter()
            .filter(|c| c.track == track)
            .map(|c| c.index)
            .min()
    };
    let sent = with.chunks_sent();
    let ages_with: Vec<f64> = sent
        .iter()
        .filter(|c| Some(c.index) != first(&sent, &c.track))
        .map(|c| (c.sent_at - c.available_at) as f64 / 1e9)
        .collect();
    let requests = without.requests();
    let first_asked = |track: &str| {
        requests
            .iter()
            .filter_map(|r| r.segment.as_ref())
            .filter(|s| s.track == track)
            .map(|s| s.index)
            .min()
    };
    let ages_without: Vec<f64> = requests
        .iter()
        .filter(|r| r.status == 200)
        .filter_map(|r| {
            let s = r.segment.as_ref()?;
            if Some(s.index) == first_asked(&s.track) {
                return None;
            }
            let chunk_ns: i128 = if s.track == "v" {
                400_000_000
            } else {
                384_000_000
            };
            let end = s.available_from + 1_600_000_000;
            Some(
                (0..5)
                    .map(move |j| (r.at - (end - chunk_ns * (4 - j))) as f64 / 1e9)
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    for (name, summary, ages) in [
        ("low latency", &sa, ages_with),
        ("--no-low-latency", &sb, ages_without),
    ] {
        let lag = &summary["lag"];
        let (m, p, x) = quantiles(ages);
        println!(
            "{name}: segment end to file in place: median {} s, 95% {} s, max {} s over {} segments; chunk availability to sent: median {m:.3} s, 95% {p:.3} s, max {x:.3} s",
            lag["median_seconds"], lag["p95_seconds"], lag["max_seconds"], lag["segments"]
        );
    }
}

#[test]
#[ignore = "a benchmark: benches/live_latency.sh"]
fn manifest_bytes_per_minute_with_and_without_mpd_patch() {
    let start = || {
        let mut config = LiveConfig::new(Addressing::TimelineTime, whole_seconds_ago(7_210));
        config.tsbd = 7_200 * SEC;
        config.mup = Some(2 * SEC);
        config.expanded_timeline = true;
        config.patch_ttl = Some(60);
        LiveOrigin::start(config)
    };
    let (with, without) = (start(), start());
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (sa, sb) = std::thread::scope(|scope| {
        let ta = scope.spawn(|| record(&with, a.path(), &["--duration", "60"]));
        let tb =
            scope.spawn(|| record(&without, b.path(), &["--duration", "60", "--no-mpd-patch"]));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let manifest = without.manifest_at(without.now()).len();
    println!("a full manifest: {manifest} bytes");
    for (name, s) in [("MPD Patch", &sa), ("full manifests", &sb)] {
        let t = &s["manifest_traffic"];
        let minutes = s["elapsed_seconds"].as_f64().unwrap() / 60.0;
        let bytes = t["bytes"].as_f64().unwrap();
        // The refreshes: everything after the first (full) manifest.
        let refreshes = bytes - manifest as f64;
        println!(
            "{name}: {} full, {} patches, {} fallbacks, {bytes} bytes in {:.1} s; refreshes: {:.0} bytes per minute",
            t["full"],
            t["patches"],
            t["patch_fallbacks"],
            minutes * 60.0,
            refreshes / minutes
        );
    }
    for (name, dir) in [("MPD Patch", &a), ("full manifests", &b)] {
        println!(
            "{name}: {} files recorded",
            common::media_files(dir.path()).len()
        );
    }
}
