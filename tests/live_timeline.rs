//! `dashget` on what real live origins do, from the live test origin (127.0.0.1): a stream that
//! starts a new Period every two seconds (video and audio of unequal segment durations, the
//! audio's last segment of each Period clipped), a kill in the middle of a catch-up, refreshes
//! with `minimumUpdatePeriod` 0 and 2 s, and Annex I access tokens.
use dashget_testkit as common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::live_origin::client::*;
use common::live_origin::*;

fn dashget(url: &str, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dashget"));
    cmd.env("DASHGET_BACKOFF_MS", "10")
        .env("DASHGET_LIVE_GRACE_MS", "1500")
        .arg(url)
        .arg("-o")
        .arg(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a recording to its end (killed after two minutes: one that never stops fails).
fn record(url: &str, dir: &Path, args: &[&str]) -> Output {
    let mut child = dashget(url, dir, args).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the recording did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn summary(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("a JSON summary")
}

/// The media files of a recording on disk (final names), relative to `dir`.
fn media_files(dir: &Path) -> Vec<String> {
    common::media_files(dir)
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

/// An origin whose stream starts a new Period every 2 s (`p0` at AST, `p1` at 2 s, ...).
fn periodic_origin(age: i128, tsbd: u64) -> LiveOrigin {
    let ast = whole_seconds_ago(age);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.tsbd = tsbd * SEC;
    config.periods = (0..200)
        .map(|k| PeriodSpec {
            id: format!("p{k}"),
            start: k * 2 * SEC,
            media_offset: 0,
        })
        .collect();
    LiveOrigin::start(config)
}

#[test]
fn a_stream_of_many_periods_is_one_timeline_from_the_edge() {
    // 30 s in, a 10 s buffer: five older Periods are still listed.
    let origin = periodic_origin(30, 10);
    let dir = tempfile::tempdir().unwrap();
    let out = record(
        &origin.manifest_url(),
        dir.path(),
        &["--duration", "5", "--json"],
    );
    assert_eq!(out.status.code(), Some(0));
    let s = summary(&out);
    assert_eq!(s["stopped"], "duration");
    assert!(s["gaps"].as_array().unwrap().is_empty(), "{s}");
    let reps = s["representations"].as_array().unwrap();
    assert_eq!(reps.len(), 2, "one line per track, not per Period: {s}");
    let start = reps[0]["start_seconds"].as_f64().unwrap();
    for rep in reps {
        assert_eq!(rep["start_seconds"].as_f64().unwrap(), start, "{rep}");
        assert!(rep["end_seconds"].as_f64().unwrap() >= start + 5.0, "{rep}");
    }
    // Nothing of a Period that ended before the recording began; every Period from the one
    // holding the start on, up to the end, and every segment of those in the span.
    let files = media_files(dir.path());
    let period_of = |path: &str| -> u64 { path[1..path.find('/').unwrap()].parse().unwrap() };
    let first = (start / 2.0).floor() as u64;
    let last = ((start + 5.0) / 2.0).floor() as u64;
    for path in &files {
        let k = period_of(path);
        assert!((first..=last).contains(&k), "{path}: start {start}");
    }
    for k in first + 1..last {
        // A Period wholly inside the span: all of it (5 video, 6 audio segments).
        let n = |track: &str| {
            files
                .iter()
                .filter(|p| p.starts_with(&format!("p{k}/{track}/")))
                .count()
        };
        assert_eq!((n("v"), n("a")), (5, 6), "p{k}: {files:?}");
    }
    // The recording's MPD: the source's Period boundaries, 2 s apart, back to back.
    let text = std::fs::read_to_string(dir.path().join("manifest.mpd")).unwrap();
    let periods = text.matches("<Period ").count();
    assert_eq!(periods as u64, last - first + 1, "{text}");
    assert!(
        text.matches("duration=\"PT2S\"").count() >= periods - 2,
        "{text}"
    );
    let dump = Command::new(env!("CARGO_BIN_EXE_mp4dump"))
        .arg("-d")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert!(origin.early_requests().is_empty());
}

#[test]
fn a_kill_during_a_catch_up_keeps_every_segment_that_landed() {
    let (origin, _) = origin_with_buffer(Addressing::Number, 60, 40);
    let dir = tempfile::tempdir().unwrap();
    let url = origin.manifest_url();
    let args = ["--from-start", "--duration", "20", "-t", "1", "--json"];
    let mut child = dashget(&url, dir.path(), &args).spawn().unwrap();
    // Once a few segments are in, the origin stops answering (the catch-up is one long batch
    // in flight), and the recorder is killed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while media_files(dir.path()).len() < 6 {
        assert!(Instant::now() < deadline, "nothing recorded");
        std::thread::sleep(Duration::from_millis(5));
    }
    origin.stall(true);
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    origin.stall(false);
    let landed = media_files(dir.path());
    assert!(landed.len() >= 6);
    let before = origin.requests().len();
    let out = record(&url, dir.path(), &args);
    assert_eq!(out.status.code(), Some(0));
    let again: Vec<String> = origin.requests()[before..]
        .iter()
        .map(|r| r.path.trim_start_matches("/live/").to_string())
        .filter(|p| landed.contains(p))
        .collect();
    assert!(again.is_empty(), "asked again after the kill: {again:?}");
    // ...and they are in the recording.
    let text = std::fs::read(dir.path().join("manifest.mpd")).unwrap();
    let local = url::Url::from_file_path(dir.path().join("manifest.mpd")).unwrap();
    let plan = dashget::plan::plan(&text, &local).unwrap();
    let planned: Vec<String> = plan
        .segments()
        .map(|(_, s)| s.path.to_string_lossy().replace('\\', "/"))
        .collect();
    for path in &landed {
        assert!(planned.contains(path), "{path} is not in the recording");
    }
}

/// Manifest requests the origin saw.
fn manifest_requests(origin: &LiveOrigin) -> usize {
    origin
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(".mpd"))
        .count()
}

#[test]
fn refreshes_are_paced() {
    // minimumUpdatePeriod 0: at most once per shortest segment (0.384 s), not in a loop.
    let ast = whole_seconds_ago(30);
    let mut config = LiveConfig::new(Addressing::Number, ast);
    config.mup = Some(0);
    let origin = LiveOrigin::start(config);
    let dir = tempfile::tempdir().unwrap();
    let begun = Instant::now();
    let out = record(&origin.manifest_url(), dir.path(), &["--duration", "4"]);
    assert_eq!(out.status.code(), Some(0));
    let allowed = (begun.elapsed().as_secs_f64() / 0.384).ceil() as usize + 1;
    let asked = manifest_requests(&origin);
    assert!(
        asked <= allowed,
        "{asked} manifest requests, at most {allowed}"
    );
    // A timeline that lists only what exists and a 2 s minimumUpdatePeriod: every 2 s, not
    // whenever the timeline has run out.
    let ast = whole_seconds_ago(30);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.mup = Some(2 * SEC);
    let origin = LiveOrigin::start(config);
    let dir = tempfile::tempdir().unwrap();
    let begun = Instant::now();
    let out = record(&origin.manifest_url(), dir.path(), &["--duration", "6"]);
    assert_eq!(out.status.code(), Some(0));
    let allowed = (begun.elapsed().as_secs_f64() / 2.0).ceil() as usize + 1;
    let asked = manifest_requests(&origin);
    assert!(
        asked <= allowed,
        "{asked} manifest requests, at most {allowed}"
    );
}

#[test]
fn an_access_token_in_the_manifest_url_reaches_every_segment_request() {
    let ast = whole_seconds_ago(30);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.token = Some("abc".into());
    let origin = LiveOrigin::start(config);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}?token=abc", origin.manifest_url());
    let out = record(&url, dir.path(), &["--duration", "2", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(origin.requests().iter().all(|r| r.status != 403));
    assert!(media_files(dir.path()).len() >= 10);
    // The files are where they would be without a query.
    assert!(media_files(dir.path()).iter().all(|p| p.starts_with("p0/")));
    // Without it: each refused segment is a gap at once, said once, not asked in a loop.
    let dir = tempfile::tempdir().unwrap();
    let before = origin.requests().len();
    let out = record(
        &origin.manifest_url(),
        dir.path(),
        &["--duration", "2", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let refused = origin.requests()[before..]
        .iter()
        .filter(|r| r.status == 403)
        .count();
    assert!((1..=6).contains(&refused), "{refused} refused requests");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("is not recorded further").count(),
        2,
        "{stderr}"
    );
}

/// A live manifest served as a file: `extra` on the MPD element, `inner` in its one Period's
/// AdaptationSet (a video Representation `v`).
fn served_manifest(extra: &str, inner: &str) -> (common::TestServer, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let server = common::TestServer::start(root.path());
    let mpd = format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011" {extra}>
  <Period id="p0" start="PT0S"><AdaptationSet id="1" contentType="video" mimeType="video/mp4">
    <Representation id="v" codecs="avc1.42c00d" bandwidth="100000">{inner}</Representation>
  </AdaptationSet></Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-head:2014" value="{}"/>
</MPD>"#,
        server.url("time")
    );
    server.put("/live.mpd", mpd);
    server.put("/time", "");
    (server, root)
}

#[test]
fn a_deep_buffer_is_counted_not_listed() {
    // No timeShiftBufferDepth, 26 years of 2 s segments: about 410 million in the buffer.
    let (server, _root) = served_manifest(
        r#"availabilityStartTime="2000-01-01T00:00:00Z""#,
        r#"<SegmentTemplate timescale="1" duration="2" media="v/$Number$.m4s" initialization="v/init.mp4"/>"#,
    );
    let begun = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_dashget"))
        .args(["--list", &server.url("live.mpd")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("segments are in the time-shift buffer now, more than the 10000000"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    // Counted, not collected: no need to wait for it (a loaded machine takes well under this).
    assert!(begun.elapsed() < Duration::from_secs(30));
    // With a buffer, the same manifest lists what is in it.
    let (server, _root) = served_manifest(
        r#"availabilityStartTime="2000-01-01T00:00:00Z" timeShiftBufferDepth="PT20S""#,
        r#"<SegmentTemplate timescale="1" duration="2" media="v/$Number$.m4s" initialization="v/init.mp4"/>"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dashget"))
        .args(["--list", "--json", &server.url("live.mpd")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!((10..=13).contains(&lines), "{lines} lines");
}

#[test]
fn a_captured_manifest_whose_buffer_is_empty_says_so() {
    let (server, _root) = served_manifest(
        r#"availabilityStartTime="2020-01-01T00:00:00Z" timeShiftBufferDepth="PT30S" minimumUpdatePeriod="PT2S""#,
        r#"<SegmentTemplate timescale="1000" media="v/$Time$.m4s" initialization="v/init.mp4"><SegmentTimeline><S t="0" d="2000" r="9"/></SegmentTimeline></SegmentTemplate>"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dashget"))
        .args(["--list", &server.url("live.mpd")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nothing to list: no segment is in the time-shift buffer"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = record(&server.url("live.mpd"), dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nothing to record: no segment is in the time-shift buffer"),
        "{stderr}"
    );
}

#[test]
fn an_mpd_event_in_a_segment_fetches_the_manifest_at_once() {
    // minimumUpdatePeriod 60 s: without the event, the new Period would not be seen in time.
    let ast = whole_seconds_ago(30);
    let mut config = LiveConfig::new(Addressing::Number, ast);
    config.mup = Some(60 * SEC);
    let origin = LiveOrigin::start(config);
    let dir = tempfile::tempdir().unwrap();
    let child = dashget(
        &origin.manifest_url(),
        dir.path(),
        &["--duration", "6", "--json"],
    )
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // A Period is announced 2 s ahead of its start, and the segments of the second before the
    // announcement's effect carry the MPD validity event.
    let now = (origin.now() - ast) as u64;
    let at = (now / SEC + 2) * SEC;
    origin.update(|c| {
        c.announce_ahead = 3 * SEC;
        c.periods.push(PeriodSpec {
            id: "p1".into(),
            start: at,
            media_offset: 0,
        });
        c.validity_emsg = Some((now + 400_000_000, at));
    });
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    let s = summary(&out);
    assert_eq!(s["stopped"], "duration", "{s}");
    assert!(s["gaps"].as_array().unwrap().is_empty(), "{s}");
    let files = media_files(dir.path());
    assert!(files.iter().any(|p| p.starts_with("p1/")), "{files:?}");
    assert!(manifest_requests(&origin) >= 2);
}

#[test]
fn the_lmsg_brand_ends_a_representation() {
    // The stream ends 4 s from now, saying so only with lmsg (the manifest never changes).
    let ast = whole_seconds_ago(30);
    let mut config = LiveConfig::new(Addressing::Number, ast);
    config.mup = Some(60 * SEC);
    config.lmsg = true;
    let origin = LiveOrigin::start(config);
    let end = ((origin.now() - ast) as u64 / SEC + 4) * SEC;
    origin.update(|c| {
        c.end = Some(StreamEnd {
            at: end,
            signal: EndSignal::Silent,
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let begun = Instant::now();
    let out = record(&origin.manifest_url(), dir.path(), &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let s = summary(&out);
    assert_eq!(s["stopped"], "last-segment", "{s}");
    assert!(begun.elapsed() < Duration::from_secs(30));
    // Nothing asked for past the last segment.
    assert!(
        origin
            .requests()
            .iter()
            .all(|r| r.status != 404 || r.path.ends_with(".mpd")),
        "{:?}",
        origin
            .requests()
            .iter()
            .filter(|r| r.status == 404)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_location_move_to_another_folder_keeps_one_tree_and_a_template_manifest() {
    let ast = whole_seconds_ago(30);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.aliases = vec!["edge/7/live".into()];
    config.location = Some("edge/7/live/manifest.mpd".into());
    let origin = LiveOrigin::start(config);
    let dir = tempfile::tempdir().unwrap();
    let out = record(
        &origin.manifest_url(),
        dir.path(),
        &["--duration", "4", "--json"],
    );
    assert_eq!(out.status.code(), Some(0));
    // The manifest was fetched once at the URL given, then at its Location, whose segments
    // were fetched from the new folder...
    let manifests: Vec<String> = origin
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(".mpd"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(manifests[0], "/live/manifest.mpd");
    assert!(
        manifests[1..]
            .iter()
            .all(|p| p == "/edge/7/live/manifest.mpd"),
        "{manifests:?}"
    );
    assert!(
        origin
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/edge/7/live/p0/")),
        "no segment from the new folder"
    );
    // ...into the one tree of the first manifest URL, named by a template.
    let files = media_files(dir.path());
    assert!(files.len() >= 10);
    assert!(files.iter().all(|p| p.starts_with("p0/")), "{files:?}");
    let text = std::fs::read_to_string(dir.path().join("manifest.mpd")).unwrap();
    assert!(
        text.contains("<SegmentTemplate") && !text.contains("<SegmentURL"),
        "{text}"
    );
}

#[test]
fn asking_for_a_representation_that_cannot_be_recorded_live_says_why() {
    let (server, _root) = served_manifest(
        r#"availabilityStartTime="2020-01-01T00:00:00Z" timeShiftBufferDepth="PT30S" minimumUpdatePeriod="PT2S""#,
        r#"<BaseURL>v.mp4</BaseURL><SegmentBase indexRange="0-99"/>"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = record(&server.url("live.mpd"), dir.path(), &["-r", "v"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("-r v: cannot be recorded live: period p0, representation \"v\": SegmentBase in a live presentation"),
        "{stderr}"
    );
    assert!(!stderr.contains("no representation with id"), "{stderr}");
}

#[test]
fn check_finds_an_encoder_clock_jump_where_it_happens() {
    // The buffer's old media (60 s of it), so that the jump falls inside the recording however
    // late a loaded machine starts it.
    let ast = whole_seconds_ago(60);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.tsbd = 60 * SEC;
    let clean = LiveOrigin::start(config.clone());
    // From 20 s on, the video's tfdt runs half a second (6400 ticks of 12800) ahead.
    config.tfdt_jump = Some((20 * SEC, 6400));
    let jumped = LiveOrigin::start(config);
    let args = ["--check", "--from-start", "--duration", "30", "--json"];
    let dir = tempfile::tempdir().unwrap();
    let out = record(&clean.manifest_url(), dir.path(), &args);
    assert_eq!(out.status.code(), Some(0));
    let s = summary(&out);
    assert_eq!(s["check"]["errors"], serde_json::json!({}), "{s}");
    assert!(s["check"]["segments"].as_u64().unwrap() >= 100, "{s}");
    let dir = tempfile::tempdir().unwrap();
    let out = record(&jumped.manifest_url(), dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&out);
    assert_eq!(s["check"]["errors"]["decode-time"], 1, "{s}");
    assert!(s["gaps"].as_array().unwrap().is_empty(), "{s}");
    // Named on the segment it happens in: the video's first segment from 20 s (t = 256000).
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains(": decode-time: "))
        .expect("a decode-time finding");
    assert!(
        line.starts_with("dashget: check: error v ") && line.contains("/v/t256000.m4s"),
        "{line}"
    );
}
