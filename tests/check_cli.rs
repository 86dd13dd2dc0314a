//! `mp4dump --check`: every clean fixture (ffmpeg, Bento4 in seven modes) checks clean; the
//! output and exit codes; the legal things real packagers do (tolerances); damaged input.

mod check_support;

use assert_cmd::Command;
use check_support::*;
use serde_json::Value;

#[test]
fn clean_presentations_check_clean() {
    for name in [
        "dash/template-number",
        "dash/template-time",
        "dash/segment-list",
        "dash/single-file",
        "dash/segment-base",
        "generated/dash",
        "ffmpeg-dash/cenc-timeline",
        "bento4-dash/template",
        "bento4-dash/timeline",
        "bento4-dash/list",
        "bento4-dash/no-split",
        "bento4-dash/on-demand",
        "bento4-dash/cenc",
        "bento4-dash/cbcs",
    ] {
        let (code, findings, summary) = check(&fixtures().join(name));
        assert_eq!(code, 0, "{name}: {findings:#?}");
        assert!(
            findings.iter().all(|f| f["severity"] == "warning"),
            "{name}: {findings:#?}"
        );
        assert!(
            summary["summary"]["segments"].as_u64().expect("count") >= 2,
            "{name}"
        );
        assert_eq!(
            summary["summary"]["errors"],
            serde_json::json!({}),
            "{name}"
        );
    }
}

#[test]
fn text_output_and_summary() {
    let dir = copy_of("dash/template-number");
    std::fs::remove_file(dir.path().join("chunk-stream1-00002.m4s")).expect("rm");
    let out = Command::cargo_bin("mp4dump")
        .expect("binary")
        .args(["--check", "-d"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("error 1 chunk-stream1-00002.m4s: missing-segment: cannot be read: "),
        "{text}"
    );
    assert!(
        text.contains("checked 3 representations, 8 segments: 1 errors, 0 warnings"),
        "{text}"
    );
    assert!(text.contains("  error   missing-segment: 1"), "{text}");
    // Not a terminal: no progress bar.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_manifest_that_cannot_be_found_exits_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, findings, _) = {
        let out = Command::cargo_bin("mp4dump")
            .expect("binary")
            .args(["--check", "-d"])
            .arg(dir.path())
            .output()
            .expect("runs");
        (out.status.code(), out.stdout, out.stderr)
    };
    assert_eq!(code, Some(2));
    assert!(findings.is_empty());
}
#[test]
fn presentation_time_offset_is_honoured() {
    // Every media time moved 2 s later: with @presentationTimeOffset saying so, clean;
    // without, each segment starts a whole @duration late.
    let dir = copy_of("dash/template-number");
    for (rep, ticks) in [(0, 2 * 12288), (1, 2 * 12288), (2, 2 * 44100)] {
        for n in 1..=2 {
            edit(dir.path(), &format!("chunk-stream{rep}-0000{n}.m4s"), |b| {
                shift_times(b, ticks);
            });
        }
    }
    let (code, findings, _) = check(dir.path());
    assert_eq!(code, 1);
    assert!(
        findings.iter().all(|f| f["check"] == "mpd-time"),
        "{findings:#?}"
    );
    assert_eq!(findings.len(), 6, "{findings:#?}");
    let manifest = dir.path().join("manifest.mpd");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let text = text.replace(
        r#"<SegmentTemplate timescale="1000000""#,
        r#"<SegmentTemplate presentationTimeOffset="2000000" timescale="1000000""#,
    );
    std::fs::write(&manifest, text).expect("write");
    let (code, findings, _) = check(dir.path());
    assert_eq!(code, 0, "{findings:#?}");
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn a_signalled_gap_is_not_an_error() {
    // The timeline jumps over one segment (S@t), and so does the media.
    let dir = copy_of("dash/template-time");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<S t="0" d="12288" r="1" />"#,
        r#"<S t="0" d="12288" /><S t="24576" d="12288" />"#,
    );
    edit(dir.path(), "chunk-0-12288.m4s", |b| shift_times(b, 12288));
    std::fs::rename(
        dir.path().join("chunk-0-12288.m4s"),
        dir.path().join("chunk-0-24576.m4s"),
    )
    .expect("rename");
    let (code, findings, _) = check(dir.path());
    assert_eq!(code, 0, "{findings:#?}");
    assert!(findings.is_empty(), "{findings:#?}");
    // The same media gap without the manifest's jump is a decode-time error.
    let dir = copy_of("dash/template-time");
    edit(dir.path(), "chunk-0-12288.m4s", |b| shift_times(b, 12288));
    assert_found(dir.path(), "decode-time", "chunk-0-12288.m4s");
}
#[test]
fn damaged_segments_never_stop_the_check() {
    // Random bytes changed, files cut short: findings, never a panic.
    let names = [
        "init-stream0.m4s",
        "chunk-stream0-00001.m4s",
        "chunk-stream0-00002.m4s",
        "init-stream2.m4s",
        "chunk-stream2-00001.m4s",
    ];
    let dir = copy_of("dash/template-number");
    let originals: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(dir.path().join(n)).expect("read"))
        .collect();
    let mut rng = fastrand::Rng::with_seed(11);
    for round in 0..120 {
        for (name, original) in names.iter().zip(&originals) {
            let mut bytes = original.clone();
            for _ in 0..rng.usize(1..8) {
                let at = rng.usize(0..bytes.len());
                bytes[at] = rng.u8(..);
            }
            if round % 5 == 0 {
                bytes.truncate(rng.usize(0..bytes.len()));
            }
            std::fs::write(dir.path().join(name), bytes).expect("write");
        }
        let options = dashget::check::CheckOptions {
            folder: dir.path().to_path_buf(),
            mpd: None,
            reps: Vec::new(),
        };
        let mut events = Collect::default();
        let summary = dashget::check::check_folder(&options, &mut events).expect("checked");
        assert_eq!(
            summary.error_count() as usize,
            events
                .0
                .iter()
                .filter(|f| f.severity == dashget::check::Severity::Error)
                .count()
        );
    }
}
#[test]
fn one_odd_segment_is_reported_on_itself_only() {
    // Bento4's audio track has three segments: the middle one's tfdt one frame late (or its
    // sequence number out of the run) is that segment's fault, not the next one's.
    let audio = "audio/und/mp4a.40.2";
    let dir = copy_of("bento4-dash/timeline");
    edit(dir.path(), &format!("{audio}/seg-2.m4s"), |b| {
        set_decode_time(b, |t| t + 1024);
    });
    let findings = assert_only(dir.path(), "decode-time", &format!("{audio}/seg-2.m4s"));
    assert_eq!(findings.len(), 1, "{findings:#?}");

    let dir = copy_of("bento4-dash/timeline");
    edit(dir.path(), &format!("{audio}/seg-2.m4s"), |b| {
        let (at, _) = find(b, &[b"moof", b"mfhd"]);
        write_u32(b, at + 12, 10);
    });
    let findings = assert_only(dir.path(), "sequence-number", &format!("{audio}/seg-2.m4s"));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["found"], 10);

    // A number repeated: the repetition is the fault.
    let dir = copy_of("bento4-dash/timeline");
    edit(dir.path(), &format!("{audio}/seg-3.m4s"), |b| {
        let (at, _) = find(b, &[b"moof", b"mfhd"]);
        write_u32(b, at + 12, 2);
    });
    let findings = assert_only(dir.path(), "sequence-number", &format!("{audio}/seg-3.m4s"));
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

#[test]
fn a_progressive_file_in_place_of_a_segment() {
    // A whole (not fragmented) MP4 where a media segment should be: only that segment is
    // wrong; its moov does not replace the init segment's tracks.
    let dir = copy_of("bento4-dash/timeline");
    let segment = "video/avc1/seg-1.m4s";
    std::fs::copy(
        fixtures().join("bento4/progressive.mp4"),
        dir.path().join(segment),
    )
    .expect("copy");
    let findings = assert_only(dir.path(), "not-fragmented", segment);
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

#[test]
fn a_segment_base_representation_is_checked_through_its_sidx() {
    // Bento4's on-demand profile: one file per representation; its sidx references are the
    // segments. The second fragment one frame late is found in that file.
    let dir = copy_of("bento4-dash/on-demand");
    let file = "media-video-avc1.mp4";
    edit(dir.path(), file, |b| {
        let (first, size) = find(b, &[b"moof"]);
        let rest = &b[first + size..];
        let second = rest.windows(4).position(|w| w == b"moof").expect("moof") + first + size - 4;
        set_decode_time(&mut b[second..], |t| t + 512);
    });
    assert_found(dir.path(), "decode-time", file);
}

#[test]
fn a_damaged_fragment_is_malformed_and_nothing_else() {
    // A trun that claims more bytes than its traf holds: the fragment is reported malformed,
    // and its incomplete facts are not compared (no duration, data range or sidx findings).
    let dir = copy_of("bento4-dash/timeline");
    let segment = "audio/und/mp4a.40.2/seg-2.m4s";
    edit(dir.path(), segment, |b| {
        let (trun, size) = find(b, &[b"moof", b"traf", b"trun"]);
        write_u32(b, trun, size as u32 + 1000);
    });
    let findings = assert_only(dir.path(), "malformed-box", segment);
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

#[test]
fn an_mdat_too_small_for_its_samples() {
    // The mdat says it ends 100 bytes early: the samples run past it (the bytes left over
    // do not parse as a box either).
    let dir = copy_of("dash/template-number");
    let segment = "chunk-stream0-00002.m4s";
    edit(dir.path(), segment, |b| {
        let (moof, moof_size) = find(b, &[b"moof"]);
        let mdat = moof + moof_size;
        assert_eq!(&b[mdat + 4..mdat + 8], b"mdat");
        let size = read_u32(b, mdat);
        write_u32(b, mdat, size - 100);
    });
    assert_found(dir.path(), "data-range", segment);
}

#[test]
fn only_the_representations_asked_for() {
    let dir = copy_of("dash/template-number");
    std::fs::remove_file(dir.path().join("chunk-stream1-00002.m4s")).expect("rm");
    let out = Command::cargo_bin("mp4dump")
        .expect("binary")
        .args(["--check", "--format", "json", "-r", "0", "2", "-d"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Value = serde_json::from_str(text.trim()).expect("only the summary");
    assert_eq!(summary["summary"]["representations"], 2);
    assert_eq!(summary["summary"]["segments"], 6);
}

#[test]
fn a_last_segment_counted_but_not_written_is_a_warning_when_the_media_reaches_the_end() {
    // Bento4 writes an average segment duration as @duration; where it rounds down, the
    // manifest counts one segment more than exists, after media that already reaches the
    // Period's end. Here @duration 900 (ms) over 2 s counts three 1-s video segments.
    let dir = copy_of("bento4-dash/template");
    edit_manifest(
        dir.path(),
        "stream.mpd",
        r#"duration="1000""#,
        r#"duration="900""#,
    );
    let (code, findings, _) = check(dir.path());
    assert_eq!(code, 0, "{findings:#?}");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["check"], "missing-segment");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["segment"], "video/avc1/seg-3.m4s");
    // A last segment that holds media is an error when missing.
    let dir = copy_of("dash/template-number");
    std::fs::remove_file(dir.path().join("chunk-stream0-00002.m4s")).expect("rm");
    assert_only(dir.path(), "missing-segment", "chunk-stream0-00002.m4s");
}

#[test]
fn two_periods_each_checked_against_their_own_timing() {
    // The two video segments of one representation, one per Period, the second with its
    // presentationTimeOffset: clean. With the second Period's timeline half a segment off the
    // media, that segment is misplaced, and nothing else is reported.
    let dir = tempfile::tempdir().expect("tmp");
    for name in ["init-stream0.m4s", "chunk-0-0.m4s", "chunk-0-12288.m4s"] {
        std::fs::copy(
            fixtures().join("dash/template-time").join(name),
            dir.path().join(name),
        )
        .expect("copy");
    }
    let period = |id: &str, start: u32, pto: &str, t: u32| {
        format!(
            r#"<Period id="{id}" start="PT{start}S" duration="PT1S"><AdaptationSet startWithSAP="1">
            <Representation id="0" mimeType="video/mp4" codecs="avc1.42c00d" bandwidth="200000">
            <SegmentTemplate timescale="12288" {pto} initialization="init-stream$RepresentationID$.m4s"
             media="chunk-$RepresentationID$-$Time$.m4s"><SegmentTimeline><S t="{t}" d="12288"/>
            </SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period>"#
        )
    };
    let manifest = |second: String| {
        format!(
            r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S" minBufferTime="PT2S">{}{second}</MPD>"#,
            period("a", 0, "", 0)
        )
    };
    let mpd = dir.path().join("manifest.mpd");
    std::fs::write(
        &mpd,
        manifest(period("b", 1, r#"presentationTimeOffset="12288""#, 12288)),
    )
    .expect("write");
    let (code, findings, summary) = check(dir.path());
    assert_eq!(code, 0, "{findings:#?}");
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(summary["summary"]["segments"], 3);
    // Period b's timeline says its segment starts 0.5 s later than the media does.
    std::fs::write(
        &mpd,
        manifest(period("b", 1, r#"presentationTimeOffset="12288""#, 18432)),
    )
    .expect("write");
    std::fs::rename(
        dir.path().join("chunk-0-12288.m4s"),
        dir.path().join("chunk-0-18432.m4s"),
    )
    .expect("rename");
    assert_only(dir.path(), "mpd-time", "chunk-0-18432.m4s");
}
