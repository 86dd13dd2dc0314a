//! `dashget` records live presentations from the live test origin (127.0.0.1): every
//! addressing mode, both starts, skewed clocks, growing timelines, new Periods, every end
//! signal, late segments, outages, a kill and a resume, `--duration`. Each recording is
//! checked the same way: nothing was asked before it existed, every file is what the origin
//! served, each representation is contiguous, and the static MPD of the recording plans back
//! to exactly the recorded files, dumps cleanly with `mp4dump -d` and checks clean with
//! `mp4dump --check`.
use dashget_testkit as common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::live_origin::client::*;
use common::live_origin::*;

/// `dashget` with short retry delays and a short grace for a vanished manifest.
fn dashget() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dashget"));
    cmd.env("DASHGET_BACKOFF_MS", "10")
        .env("DASHGET_LIVE_GRACE_MS", "1500");
    cmd
}

/// Starts a recording of `origin` into `dir`.
fn start(origin: &LiveOrigin, dir: &Path, args: &[&str]) -> std::process::Child {
    dashget()
        .arg(origin.manifest_url())
        .arg("-o")
        .arg(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a recording (killed after a minute: a recorder that never stops is a failure).
fn finish(mut child: std::process::Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the recording did not stop: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn record(origin: &LiveOrigin, dir: &Path, args: &[&str]) -> Output {
    finish(start(origin, dir, args))
}

/// The origin's (period, track, index) of a recorded file, by its path.
fn origin_segment(origin: &LiveOrigin, path: &str) -> Option<(String, String, u64)> {
    let parts: Vec<&str> = path.split('/').collect();
    let [period, track, _] = parts.as_slice() else {
        return None;
    };
    let wanted = format!("live/{path}");
    (0..3000)
        .find(|&k| origin.segment_path(period, track, k) == wanted)
        .map(|k| (period.to_string(), track.to_string(), k))
}

/// One recorded representation, as the static MPD of the recording plans it.
struct Recorded {
    id: String,
    /// (media time, duration, path) in order.
    segments: Vec<(i64, u64, String)>,
}

/// Checks a finished recording in `dir` (see the module documentation) and returns what each
/// representation holds.
fn check_recording(origin: &LiveOrigin, dir: &Path) -> Vec<Recorded> {
    let early = origin.early_requests();
    assert!(early.is_empty(), "asked before available: {early:?}");
    let manifest = dir.join("manifest.mpd");
    let text = std::fs::read(&manifest).expect("the recording's manifest");
    let local = url::Url::from_file_path(&manifest).unwrap();
    let plan = dashget::plan::plan(&text, &local).expect("the recording's manifest plans");
    let mut recorded: Vec<Recorded> = Vec::new();
    for (rep, segment) in plan.segments() {
        let path = segment.path.to_string_lossy().to_string();
        let bytes = std::fs::read(dir.join(&path)).unwrap_or_else(|_| panic!("{path} missing"));
        if segment.kind.as_str() == "init" {
            continue;
        }
        let (period, track, k) =
            origin_segment(origin, &path).unwrap_or_else(|| panic!("{path}: not the origin's"));
        assert!(
            bytes == origin.expected_segment(&period, &track, k),
            "{path} differs from what the origin served"
        );
        if recorded.last().is_none_or(|r| r.id != rep.id) {
            recorded.push(Recorded {
                id: rep.id.clone(),
                segments: Vec::new(),
            });
        }
        let r = recorded.last_mut().unwrap();
        r.segments
            .push((segment.time.unwrap(), segment.duration.unwrap(), path));
    }
    // Exactly those: no media file on disk that the recording's MPD does not name.
    let named: std::collections::HashSet<String> = recorded
        .iter()
        .flat_map(|r| r.segments.iter().map(|s| s.2.clone()))
        .collect();
    for period in std::fs::read_dir(dir).unwrap().flatten() {
        if !period.path().is_dir() || period.file_name() == ".dashget" {
            continue;
        }
        for track in std::fs::read_dir(period.path()).unwrap().flatten() {
            for file in std::fs::read_dir(track.path()).unwrap().flatten() {
                let name = file.file_name().to_string_lossy().to_string();
                if name == "init.m4s" || name.ends_with(".part") {
                    continue;
                }
                let path = format!(
                    "{}/{}/{name}",
                    period.file_name().to_string_lossy(),
                    track.file_name().to_string_lossy()
                );
                assert!(
                    named.contains(&path),
                    "{path} is not in the recording's MPD"
                );
            }
        }
    }
    let dump = Command::new(env!("CARGO_BIN_EXE_mp4dump"))
        .arg("-d")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "mp4dump -d: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let check = Command::new(env!("CARGO_BIN_EXE_mp4dump"))
        .args(["--check", "-d"])
        .arg(dir)
        .output()
        .unwrap();
    // Our own checker finds nothing wrong with a recording of clean media (warnings allowed:
    // the test media's @bandwidth is tight). Where the recording names a hole, the checker sees
    // it, and only it: the media's decode times jump there, and the segment before it is
    // stretched over it in the timeline.
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let manifest_text = String::from_utf8_lossy(&text);
    if manifest_text.contains(dashget::live::recording::GAP_SCHEME) {
        for line in report.lines().filter(|l| l.starts_with("error ")) {
            assert!(
                line.contains(": decode-time: ") || line.contains(": mpd-duration: "),
                "mp4dump --check on a recording with a hole: {line}"
            );
        }
    } else {
        assert_eq!(check.status.code(), Some(0), "mp4dump --check: {report}");
    }
    match Command::new("ffprobe")
        .args(["-v", "error", "-show_streams"])
        .arg(&manifest)
        .output()
    {
        Ok(probe) => assert!(
            probe.status.success(),
            "ffprobe: {}",
            String::from_utf8_lossy(&probe.stderr)
        ),
        Err(_) => eprintln!("ffprobe is not installed: the recording's MPD is not probed"),
    }
    recorded
}

/// Whether every representation's segments follow each other without a hole.
fn contiguous(recorded: &[Recorded]) -> bool {
    recorded.iter().all(|r| {
        r.segments
            .windows(2)
            .all(|w| w[1].0 == w[0].0 + w[0].1 as i64)
    })
}

fn summary(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("a JSON summary")
}

#[test]
fn each_addressing_mode_records_from_the_edge_for_a_duration() {
    for mode in MODES {
        let (origin, _) = origin_with_buffer(mode, 60, 10);
        let dir = tempfile::tempdir().unwrap();
        let out = record(&origin, dir.path(), &["--duration", "2", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{mode:?}");
        let recorded = check_recording(&origin, dir.path());
        assert_eq!(recorded.len(), 2, "{mode:?}");
        assert!(contiguous(&recorded), "{mode:?}");
        // 2 s from one instant for both tracks (where the earlier edge segment starts): six
        // 0.384 s audio segments (five make 1.92 s), and the 0.4 s video segments that cover
        // the same span (five, or six when the instant is not on a video boundary).
        for r in &recorded {
            let expected = if r.id == "v" { 5..=6 } else { 6..=6 };
            assert!(
                expected.contains(&r.segments.len()),
                "{mode:?} {}: {}",
                r.id,
                r.segments.len()
            );
        }
        let s = summary(&out);
        assert_eq!(s["stopped"], "duration", "{mode:?}");
        assert!(s["gaps"].as_array().unwrap().is_empty());
    }
}

/// Server time now, seconds after AST, rounded down.
fn elapsed(origin: &LiveOrigin) -> u64 {
    ((origin.now() - origin.config().ast) / S) as u64
}

#[test]
fn from_start_records_the_whole_buffer_and_the_default_starts_at_the_edge() {
    for (args, oldest) in [(&["--from-start"][..], true), (&[][..], false)] {
        let (origin, _) = origin_with_buffer(Addressing::TimelineTime, 60, 6);
        let dir = tempfile::tempdir().unwrap();
        let mut all = vec!["--duration", "7", "--json"];
        all.extend_from_slice(args);
        let out = record(&origin, dir.path(), &all);
        assert_eq!(out.status.code(), Some(0));
        let recorded = check_recording(&origin, dir.path());
        assert!(contiguous(&recorded));
        let s = summary(&out);
        for rep in s["representations"].as_array().unwrap() {
            let start = rep["start_seconds"].as_f64().unwrap();
            if oldest {
                // The oldest segment still in a 6 s buffer, 60 s after AST, less those that
                // leave it within a quarter of the buffer.
                assert!((53.0..57.0).contains(&start), "{rep}");
            } else {
                assert!(start >= 59.0, "{rep}");
            }
            assert!(rep["end_seconds"].as_f64().unwrap() >= start + 7.0, "{rep}");
        }
    }
}

#[test]
fn a_clock_30_s_off_either_way_asks_for_nothing_early_with_every_scheme_and_without() {
    let schemes: &[&[UtcScheme]] = &[
        &[UtcScheme::HttpXsdate],
        &[UtcScheme::HttpIso],
        &[UtcScheme::HttpHead],
        &[UtcScheme::HttpNtp],
        &[UtcScheme::Direct],
        &[],
    ];
    for skew in [30 * S, -30 * S] {
        for &offered in schemes {
            let ast = ((unix_now() + skew) / S - 40) * S;
            let mut config = LiveConfig::new(Addressing::Number, ast);
            config.tsbd = 8 * SEC;
            config.utc_timing = offered.to_vec();
            let origin = LiveOrigin::start(config);
            origin.set_skew(skew);
            let dir = tempfile::tempdir().unwrap();
            let out = record(&origin, dir.path(), &["--duration", "1.2", "--json"]);
            assert_eq!(out.status.code(), Some(0), "{offered:?} {skew}");
            let recorded = check_recording(&origin, dir.path());
            assert!(contiguous(&recorded));
            let s = summary(&out);
            let offset = s["clock_offset_seconds"].as_f64().unwrap();
            let uncertainty = s["clock_uncertainty_seconds"].as_f64().unwrap();
            assert!(
                (offset - (skew / S) as f64).abs() <= uncertainty + 0.001,
                "{offered:?}: {offset} ± {uncertainty}"
            );
            if offered.is_empty() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(stderr.contains("Date header"), "{stderr}");
            }
        }
    }
}

#[test]
fn a_timeline_that_grows_and_drops_old_entries_is_followed_without_a_hole() {
    for mode in [
        Addressing::TimelineNumber,
        Addressing::TimelineOpen,
        Addressing::List,
    ] {
        // A 4 s buffer: every entry listed at the start has left the manifest by the end (the
        // recorder starts from the oldest segment that is not about to leave it, so a loaded
        // machine meets it).
        let (origin, _) = origin_with_buffer(mode, 30, 4);
        let dir = tempfile::tempdir().unwrap();
        let out = record(&origin, dir.path(), &["--from-start", "--duration", "7"]);
        assert_eq!(out.status.code(), Some(0), "{mode:?}");
        let recorded = check_recording(&origin, dir.path());
        assert!(contiguous(&recorded), "{mode:?}");
        for r in &recorded {
            assert!(
                r.segments.len() >= 10,
                "{mode:?} {}: {}",
                r.id,
                r.segments.len()
            );
        }
        // Every distinct snapshot is kept.
        let snapshots = std::fs::read_dir(dir.path().join(".dashget/manifests"))
            .unwrap()
            .count();
        assert!(snapshots >= 3, "{snapshots} snapshots");
    }
}

#[test]
fn a_new_period_is_followed() {
    let (origin, ast) = origin_with_buffer(Addressing::TimelineTime, 30, 10);
    let at = elapsed(&origin) + 2;
    origin.update(|c| {
        c.periods.push(PeriodSpec {
            id: "p1".into(),
            start: at * SEC,
            media_offset: 0,
        })
    });
    let until = xs_datetime(ast + i128::from(at + 2) * S, 3);
    let dir = tempfile::tempdir().unwrap();
    let out = record(&origin, dir.path(), &["--until", &until, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out)["stopped"], "until");
    let recorded = check_recording(&origin, dir.path());
    let text = std::fs::read_to_string(dir.path().join("manifest.mpd")).unwrap();
    assert_eq!(text.matches("<Period ").count(), 2, "{text}");
    assert!(recorded.iter().any(|r| r.segments[0].2.starts_with("p1/")));
}

#[test]
fn the_stream_end_is_found_by_each_signal() {
    for (mode, signal, reason) in [
        (Addressing::TimelineTime, EndSignal::Static, "static"),
        (
            Addressing::Number,
            EndSignal::MediaPresentationDuration,
            "media-end",
        ),
        (
            Addressing::TimelineOpen,
            EndSignal::PeriodDuration,
            "media-end",
        ),
        (
            Addressing::TimelineTime,
            EndSignal::AvailabilityEndTime(SEC),
            "availability-end",
        ),
        (
            Addressing::Number,
            EndSignal::ManifestGone(404),
            "manifest-gone",
        ),
        (
            Addressing::TimelineNumber,
            EndSignal::ManifestGone(410),
            "manifest-gone",
        ),
    ] {
        let (origin, _) = origin_with_buffer(mode, 30, 10);
        let end = elapsed(&origin) + 2;
        origin.update(|c| {
            c.end = Some(StreamEnd {
                at: end * SEC,
                signal,
            })
        });
        let dir = tempfile::tempdir().unwrap();
        eprintln!("end signal {signal:?} in {mode:?}");
        let out = record(&origin, dir.path(), &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{signal:?}");
        let s = summary(&out);
        assert_eq!(s["stopped"], reason, "{signal:?}");
        let recorded = check_recording(&origin, dir.path());
        assert!(contiguous(&recorded));
        // Recorded up to the end, in every representation. (A manifest that vanishes at the
        // end leaves a timeline's last second unlisted: no snapshot could name it.)
        let slack = match (signal, mode) {
            (EndSignal::ManifestGone(_), m) if m != Addressing::Number => 1.5,
            _ => 0.001,
        };
        for rep in s["representations"].as_array().unwrap() {
            assert!(
                rep["end_seconds"].as_f64().unwrap() >= (end as f64) - slack,
                "{signal:?}: {rep}"
            );
        }
    }
}

#[test]
fn a_late_segment_is_asked_again_until_it_comes() {
    let (origin, _) = origin_with_buffer(Addressing::Number, 30, 10);
    // A video segment two seconds ahead is published 1.2 s late.
    let k = (elapsed(&origin) * SEC / 400_000_000) + 5;
    origin.publish_late("p0", "v", k, 1_200_000_000);
    let dir = tempfile::tempdir().unwrap();
    let out = record(&origin, dir.path(), &["--duration", "4", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    // The only requests before availability are those of the late segment, answered 404.
    let late = origin.segment_path("p0", "v", k);
    for r in origin.early_requests() {
        assert_eq!(
            (r.path.trim_start_matches('/'), r.status),
            (late.as_str(), 404)
        );
    }
    assert!(
        origin
            .requests()
            .iter()
            .any(|r| r.path.trim_start_matches('/') == late && r.status == 200)
    );
    assert!(dir.path().join(late.trim_start_matches("live/")).is_file());
}

#[test]
fn an_outage_shorter_than_the_buffer_loses_nothing() {
    let (origin, _) = origin_with_buffer(Addressing::TimelineTime, 30, 8);
    let dir = tempfile::tempdir().unwrap();
    let child = start(&origin, dir.path(), &["--duration", "5", "--json"]);
    std::thread::sleep(Duration::from_millis(1200));
    origin.stop();
    std::thread::sleep(Duration::from_millis(2500));
    origin.restart();
    let out = finish(child);
    assert_eq!(out.status.code(), Some(0));
    let recorded = check_recording(&origin, dir.path());
    assert!(contiguous(&recorded));
    assert!(summary(&out)["gaps"].as_array().unwrap().is_empty());
}

#[test]
fn an_outage_longer_than_the_buffer_reports_the_gaps_and_exits_1() {
    for mode in [Addressing::Number, Addressing::TimelineTime] {
        let (origin, _) = origin_with_buffer(mode, 30, 1);
        let dir = tempfile::tempdir().unwrap();
        let child = start(&origin, dir.path(), &["--duration", "5", "--json"]);
        std::thread::sleep(Duration::from_millis(1000));
        origin.stop();
        std::thread::sleep(Duration::from_millis(3000));
        origin.restart();
        let out = finish(child);
        assert_eq!(out.status.code(), Some(1), "{mode:?}");
        let s = summary(&out);
        let gaps = s["gaps"].as_array().unwrap();
        assert!(!gaps.is_empty(), "{mode:?}");
        for gap in gaps {
            assert!(gap["reason"].as_str().unwrap().contains("buffer"), "{gap}");
        }
        // What was recorded is still right; the MPD names the hole (and stretches the segment
        // before it over it, so that players go on past it).
        check_recording(&origin, dir.path());
        let text = std::fs::read_to_string(dir.path().join("manifest.mpd")).unwrap();
        assert!(
            text.contains(dashget::live::recording::GAP_SCHEME),
            "{mode:?}: {text}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("segments missing"), "{stderr}");
    }
}

#[test]
fn a_killed_recording_resumes_without_asking_again_for_what_it_has() {
    let (origin, _) = origin_with_buffer(Addressing::TimelineNumber, 30, 10);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--duration", "5", "--json"];
    let mut child = start(&origin, dir.path(), &args);
    std::thread::sleep(Duration::from_millis(2000));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // What the recording's MPD held at the kill is journalled: never asked for again.
    let text = std::fs::read(dir.path().join("manifest.mpd")).unwrap();
    let local = url::Url::from_file_path(dir.path().join("manifest.mpd")).unwrap();
    let plan = dashget::plan::plan(&text, &local).unwrap();
    let had: Vec<String> = plan
        .segments()
        .map(|(_, s)| format!("/live/{}", s.path.to_string_lossy()))
        .collect();
    assert!(had.len() >= 4, "{had:?}");
    let before = origin.requests().len();
    let out = record(&origin, dir.path(), &args);
    assert_eq!(out.status.code(), Some(0));
    let again: Vec<String> = origin.requests()[before..]
        .iter()
        .filter(|r| had.contains(&r.path))
        .map(|r| r.path.clone())
        .collect();
    assert!(again.is_empty(), "asked again: {again:?}");
    let recorded = check_recording(&origin, dir.path());
    assert!(contiguous(&recorded));
    // The resumed recording began where the first did and covers the duration from there.
    let s = summary(&out);
    assert!(s["complete_segments"].as_u64().unwrap() >= 4);
    for rep in s["representations"].as_array().unwrap() {
        let start = rep["start_seconds"].as_f64().unwrap();
        assert!(rep["end_seconds"].as_f64().unwrap() >= start + 5.0, "{rep}");
    }
}

#[test]
fn ctrl_c_writes_the_recording_and_exits_130() {
    let (origin, _) = origin_with_buffer(Addressing::Number, 30, 10);
    let dir = tempfile::tempdir().unwrap();
    let child = start(&origin, dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = finish(child);
    assert_eq!(out.status.code(), Some(130));
    let recorded = check_recording(&origin, dir.path());
    assert!(contiguous(&recorded));
    assert!(recorded.iter().all(|r| !r.segments.is_empty()));
}

#[test]
fn list_prints_the_segments_available_now() {
    let (origin, _) = origin_with_buffer(Addressing::TimelineTime, 60, 4);
    let out = dashget()
        .arg(origin.manifest_url())
        .args(["--list", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for track in ["v", "a"] {
        let media: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["representation"] == track && l["kind"] == "media")
            .collect();
        // A 4 s buffer holds about ten of them; each is served. Asked for newest first: on a
        // loaded machine the oldest may have left the buffer since the listing, and only they
        // (a run at the old end) may be gone.
        assert!((8..=12).contains(&media.len()), "{track}: {}", media.len());
        let statuses: Vec<u16> = media
            .iter()
            .rev()
            .map(|l| {
                let path = l["url"].as_str().unwrap().split("/live/").nth(1).unwrap();
                get(&origin, &format!("live/{path}")).status
            })
            .collect();
        let served = statuses.iter().take_while(|&&s| s == 200).count();
        assert!(served > 0, "{track}: {statuses:?}");
        assert!(
            statuses[served..].iter().all(|&s| s == 404),
            "{track}: {statuses:?}"
        );
    }
    assert!(origin.early_requests().is_empty());
}

#[test]
fn refreshes_go_to_location_and_a_stale_snapshot_is_not_applied() {
    let (origin, _) = origin_with_buffer(Addressing::TimelineTime, 30, 10);
    origin.update(|c| c.location = Some("live/other.mpd".into()));
    let dir = tempfile::tempdir().unwrap();
    let child = start(&origin, dir.path(), &["--duration", "5", "--json"]);
    std::thread::sleep(Duration::from_millis(1500));
    // A CDN serves an old copy for a while.
    origin.update(|c| c.manifest_lag = 3 * SEC);
    std::thread::sleep(Duration::from_millis(1500));
    origin.update(|c| c.manifest_lag = 0);
    let out = finish(child);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("older publishTime"), "{stderr}");
    let recorded = check_recording(&origin, dir.path());
    assert!(contiguous(&recorded));
    let manifests: Vec<LoggedRequest> = origin
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(".mpd"))
        .collect();
    // The first fetch (one: the command finds the manifest live and records from that very
    // fetch) asks for the URL given; every refresh for the Location.
    let first = manifests
        .iter()
        .take_while(|r| r.path == "/live/manifest.mpd")
        .count();
    assert_eq!(first, 1, "{manifests:?}");
    assert!(manifests.len() > first + 3, "{manifests:?}");
    assert!(
        manifests[first..]
            .iter()
            .all(|r| r.path == "/live/other.mpd"),
        "{manifests:?}"
    );
    // The stale copies are archived with the rest.
    let snapshots = std::fs::read_dir(dir.path().join(".dashget/manifests"))
        .unwrap()
        .count();
    assert!(snapshots >= 4, "{snapshots}");
}

#[test]
fn an_encoder_gap_in_a_timeline_is_a_hole_not_a_missing_segment() {
    let (origin, _) = origin_with_buffer(Addressing::TimelineTime, 30, 10);
    let at = elapsed(&origin) + 1;
    origin.update(|c| c.encoder_gaps = vec![(at * SEC, (at + 1) * SEC)]);
    let dir = tempfile::tempdir().unwrap();
    let out = record(&origin, dir.path(), &["--duration", "4", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(summary(&out)["gaps"].as_array().unwrap().is_empty());
    check_recording(&origin, dir.path());
    // The manifest never listed the segments of the outage: the recording names the hole (and
    // stretches the segment before it over it, so that players go on past it).
    let text = std::fs::read_to_string(dir.path().join("manifest.mpd")).unwrap();
    assert!(
        text.contains(dashget::live::recording::GAP_SCHEME),
        "{text}"
    );
}

/// Every file of a recording outside `.dashget/`, with its bytes.
fn recorded_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_name() == ".dashget" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// An origin that offers MPD Patch on a timeline that began a second or two ago: two recorders
/// started together from the start record the same span.
fn patching_origin() -> LiveOrigin {
    let mut config = LiveConfig::new(Addressing::TimelineTime, whole_seconds_ago(1));
    config.patch_ttl = Some(60);
    LiveOrigin::start(config)
}

#[test]
fn a_recording_refreshed_by_mpd_patch_equals_one_refreshed_whole() {
    let origin = patching_origin();
    let (with, without) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["--from-start", "--duration", "4", "--json"];
    let a = start(&origin, with.path(), &args);
    let b = start(
        &origin,
        without.path(),
        &[&args[..], &["--no-mpd-patch"]].concat(),
    );
    let (a, b) = (finish(a), finish(b));
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(b.status.code(), Some(0));
    let (sa, sb) = (summary(&a), summary(&b));
    let traffic = &sa["manifest_traffic"];
    assert!(traffic["patches"].as_u64().unwrap() >= 3, "{sa}");
    assert_eq!(traffic["patch_fallbacks"], 0, "{sa}");
    assert_eq!(sb["manifest_traffic"]["patches"], 0, "{sb}");
    assert!(
        sb["manifest_traffic"]["full"].as_u64().unwrap() >= 3,
        "{sb}"
    );
    let patched = origin
        .requests()
        .iter()
        .filter(|r| r.path == "/live/patch.mpp" && r.status == 200)
        .count();
    assert!(patched >= 3, "{patched}");
    // File for file, byte for byte (the recording's manifest included).
    let (fa, fb) = (recorded_files(with.path()), recorded_files(without.path()));
    assert!(fa.len() > 10, "{:?}", fa.keys());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs with and without patches"
        );
    }
    let recorded = check_recording(&origin, with.path());
    assert!(contiguous(&recorded));
    // The snapshots archive the patched manifests: each is a whole manifest.
    for snapshot in std::fs::read_dir(with.path().join(".dashget/manifests")).unwrap() {
        let bytes = std::fs::read(snapshot.unwrap().path()).unwrap();
        dashget::mpd::parse_mpd(&bytes).expect("a snapshot is a whole manifest");
    }
}

#[test]
fn a_patch_that_fails_falls_back_to_the_full_manifest_said_once() {
    let origin = patching_origin();
    // A wrong originalPublishTime, then a 404, then patches that apply.
    origin.misdate_patches(1);
    let dir = tempfile::tempdir().unwrap();
    let child = start(
        &origin,
        dir.path(),
        &["--from-start", "--duration", "5", "--json"],
    );
    std::thread::sleep(Duration::from_millis(2500));
    origin.fail("patch.mpp", 404, 1);
    let out = finish(child);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("MPD Patch:").count(), 1, "{stderr}");
    assert!(stderr.contains("is for publishTime"), "{stderr}");
    let s = summary(&out);
    let traffic = &s["manifest_traffic"];
    assert!(traffic["patch_fallbacks"].as_u64().unwrap() >= 2, "{s}");
    assert!(traffic["patches"].as_u64().unwrap() >= 1, "{s}");
    let recorded = check_recording(&origin, dir.path());
    assert!(contiguous(&recorded));
}

/// A low-latency origin: segments of five CMAF chunks (video 2 s of 0.4-s chunks, audio
/// 1.92 s of 0.384-s chunks), `availabilityTimeOffset` 1.5 s with
/// `availabilityTimeComplete="false"`, each chunk sent when it exists.
fn low_latency_origin(mode: Addressing) -> LiveOrigin {
    let mut config = LiveConfig::new(mode, whole_seconds_ago(10));
    config.chunks = 5;
    config.ato = 1_500_000_000;
    config.low_latency = true;
    config.mup = Some(2 * SEC);
    LiveOrigin::start(config)
}

/// The part files under `dir` that hold bytes.
fn part_files(dir: &Path) -> usize {
    common::tree(dir)
        .iter()
        .filter(|name| name.ends_with(".m4s.part"))
        .filter(|name| std::fs::metadata(dir.join(name)).is_ok_and(|m| m.len() > 0))
        .count()
}

/// The segment requests that were answered 200, with the instant each segment ended.
fn segment_requests(origin: &LiveOrigin) -> Vec<(LoggedRequest, i128)> {
    let ato = i128::from(origin.config().ato);
    origin
        .requests()
        .into_iter()
        .filter(|r| r.status == 200)
        .filter_map(|r| {
            let end = r.segment.as_ref()?.available_from + ato;
            Some((r, end))
        })
        .collect()
}

#[test]
fn low_latency_segments_are_asked_for_early_and_taken_in_as_they_are_written() {
    for mode in [Addressing::Number, Addressing::TimelineTime] {
        let origin = low_latency_origin(mode);
        // One answer loses its connection in the middle of a chunk.
        origin.cut_mid_chunk(1);
        let dir = tempfile::tempdir().unwrap();
        let mut child = start(&origin, dir.path(), &["--duration", "5", "--json"]);
        // While a segment arrives, its part file holds the chunks received so far.
        let mut partial = 0;
        while child.try_wait().unwrap().is_none() {
            partial += part_files(dir.path());
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = finish(child);
        assert_eq!(out.status.code(), Some(0), "{mode:?}");
        assert!(partial > 0, "{mode:?}: no part file seen holding chunks");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("low latency: segments are asked for 1.500 s before they end"),
            "{stderr}"
        );
        assert!(stderr.contains("target 3 s (2 s to 6 s)"), "{stderr}");
        // Every file is what the origin served (the cut one too), none asked for too early.
        let recorded = check_recording(&origin, dir.path());
        assert!(contiguous(&recorded), "{mode:?}");
        let requests = segment_requests(&origin);
        let early = requests.iter().filter(|(r, end)| r.at < *end).count();
        // Recording from the edge, every segment after the first of each track is asked for
        // as soon as it may be: before its end.
        assert!(
            early >= requests.len() - 4,
            "{mode:?}: {early} of {}",
            requests.len()
        );
        assert!(!origin.chunks_sent().is_empty());
        // The cut segment was asked for again, and is whole.
        let mut paths: Vec<&str> = requests.iter().map(|(r, _)| r.path.as_str()).collect();
        let all = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(
            paths.len() + 1,
            all,
            "{mode:?}: one segment asked for twice"
        );
        let s = summary(&out);
        assert!(s["gaps"].as_array().unwrap().is_empty(), "{s}");
        let lag = &s["lag"];
        assert_eq!(lag["low_latency"], true, "{s}");
        assert_eq!(lag["availability_time_offset_seconds"], 1.5, "{s}");
        assert!(lag["segments"].as_u64().unwrap() >= 4, "{s}");
        assert_eq!(lag["service_latency"], "target 3 s (2 s to 6 s)", "{s}");
    }
}

#[test]
fn without_low_latency_segments_are_asked_for_once_complete() {
    let origin = low_latency_origin(Addressing::Number);
    let dir = tempfile::tempdir().unwrap();
    let out = record(
        &origin,
        dir.path(),
        &["--duration", "3", "--json", "--no-low-latency"],
    );
    assert_eq!(out.status.code(), Some(0));
    check_recording(&origin, dir.path());
    let requests = segment_requests(&origin);
    assert!(requests.len() >= 4);
    assert!(
        requests.iter().all(|(r, end)| r.at >= *end),
        "a segment asked for before its end"
    );
    assert!(origin.chunks_sent().is_empty());
    assert_eq!(summary(&out)["lag"]["low_latency"], false);
}
