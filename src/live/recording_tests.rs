//! The static manifest of a recording, read back by the crate's own plan, by `mp4dump -d`, and
//! by `ffprobe` when it is installed.

use std::path::Path;

use url::Url;

use super::*;
use crate::live::time::SECOND;

/// A live manifest like the test origin's: video of 0.4 s segments (12800/s), audio of
/// 0.384 s (48000/s), `$Time$` names, and a second Period from 19.2 s.
const LIVE: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-11-28T22:00:00Z">
  <Period id="p0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4"><Representation id="v" codecs="avc1.42d00b" bandwidth="60000">
      <SegmentTemplate timescale="12800" duration="5120" startNumber="1" initialization="p0/v/init.m4s" media="p0/v/n$Number$.m4s"/>
    </Representation></AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4"><Representation id="a &amp; b" codecs="mp4a.40.2" bandwidth="32000">
      <SegmentTemplate timescale="48000" duration="18432" startNumber="1" initialization="p0/a/init.m4s" media="p0/a/n$Number$.m4s"/>
    </Representation></AdaptationSet>
  </Period>
  <Period id="p1" start="PT19.2S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4"><Representation id="v" codecs="avc1.42d00b" bandwidth="60000">
      <SegmentTemplate timescale="12800" presentationTimeOffset="245760" duration="5120" startNumber="1" initialization="p1/v/init.m4s" media="p1/v/n$Number$.m4s"/>
    </Representation></AdaptationSet>
  </Period>
</MPD>"#;

const AST: i128 = 1_795_903_200 * SECOND;

fn live() -> LivePresentation {
    let url = Url::parse("http://origin.test/live/manifest.mpd").unwrap();
    LivePresentation::parse(LIVE.as_bytes(), &url).unwrap()
}

/// The local path the mirror gives a live URL (relative to the manifest's folder).
fn local(segment_url: &Url) -> String {
    segment_url.path().trim_start_matches("/live/").to_string()
}

/// Records, in every Representation, the segments available at `now`, but for the video's
/// whose number is in `skip`, the way a recorder would.
fn record(live: &LivePresentation, now: i128, skip: &[u64]) -> Recording {
    let mut recording = Recording::new();
    for rep in &live.representations {
        let init = rep.init.as_ref().unwrap();
        recording.add_init(live, rep, &local(&init.0));
        for segment in live.available_segments(rep, now, None, usize::MAX) {
            if rep.id != "v" || !skip.contains(&segment.number) {
                recording.add_segment(live, rep, &segment, &local(&segment.url));
            }
        }
    }
    recording
}

#[test]
fn the_plan_reads_back_exactly_the_recorded_files_with_gaps() {
    let live = live();
    // At 21 s: p0 has video 1..=48 and audio 1..=50 (it ends at 19.2 s); p1 video 1..=4.
    // Video segments 7 and 8 could not be had.
    let recording = record(&live, AST + 21 * SECOND, &[7, 8]);
    assert_eq!(recording.segment_count(), 46 + 50 + 4);
    let text = recording.render();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.mpd");
    std::fs::write(&manifest, &text).unwrap();
    let url = Url::from_file_path(&manifest).unwrap();
    let plan = crate::plan::plan(text.as_bytes(), &url).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(plan.representations.len(), 3);
    let recorded: Vec<&RecordedRepresentation> = recording
        .periods
        .iter()
        .flat_map(|p| &p.adaptation_sets)
        .flat_map(|a| &a.representations)
        .collect();
    for (planned, recorded) in plan.representations.iter().zip(&recorded) {
        assert_eq!(planned.id, recorded.info.id);
        let paths: Vec<String> = planned
            .segments()
            .map(|s| s.path.to_string_lossy().replace('\\', "/"))
            .collect();
        let mut expected = vec![recorded.init.clone().unwrap()];
        expected.extend(recorded.segments.iter(&recorded.clock).map(|s| s.path));
        assert_eq!(paths, expected, "{}", planned.id);
        let times: Vec<Option<i64>> = planned.segments().skip(1).map(|s| s.time).collect();
        let expected: Vec<Option<i64>> = recorded
            .segments
            .iter(&recorded.clock)
            .map(|s| Some(s.time))
            .collect();
        assert_eq!(times, expected, "{}", planned.id);
    }
    // The gap (video 7 and 8, t = 30720 for 10240 ticks) is named on the Representation, and
    // the segment before it is stretched over it (no S@t jump: dash.js stops at one); numbers
    // with a gap make a SegmentList, one S per SegmentURL.
    assert!(
        text.contains(r#"<SupplementalProperty schemeIdUri="urn:dashget:recording-gap:2026" value="t=30720,d=10240"/>"#),
        "{text}"
    );
    assert!(
        text.contains("<S d=\"15360\"/>\n            <S d=\"5120\"/>"),
        "{text}"
    );
    // The second Period follows the first back to back, with its own duration.
    assert!(
        text.contains("<Period id=\"p0\" start=\"PT0S\" duration=\"PT19.2S\">"),
        "{text}"
    );
    assert!(
        text.contains("<Period id=\"p1\" start=\"PT19.2S\" duration=\"PT1.6S\">"),
        "{text}"
    );
    assert!(text.contains("mediaPresentationDuration=\"PT20.8S\""));
    assert!(text.contains("id=\"a &amp; b\""));
}

#[test]
fn a_recording_that_starts_late_starts_at_zero_where_every_track_has_media() {
    let live = live();
    // Recorded from 4 s of presentation time: video from 4.0 s, audio from 4.224 s.
    let mut recording = Recording::new();
    for rep in &live.representations[..2] {
        for segment in live.available_segments(rep, AST + 6 * SECOND, None, usize::MAX) {
            if segment.start >= 4 * SECOND {
                recording.add_segment(&live, rep, &segment, &local(&segment.url));
            }
        }
    }
    let text = recording.render();
    // The Period starts where every track has media (audio at 4.224 s): audio's PTO is its
    // first segment's time (202752), video's its time at 4.224 s (54067.2, down); the video's
    // first segment starts 0.224 s before the Period (its start is not presented).
    assert!(
        text.contains("timescale=\"12800\" presentationTimeOffset=\"54067\""),
        "{text}"
    );
    assert!(
        text.contains("timescale=\"48000\" presentationTimeOffset=\"202752\""),
        "{text}"
    );
    assert!(text.contains("<S t=\"202752\" d=\"18432\""), "{text}");
    assert!(
        text.contains("<S t=\"51200\" d=\"5120\" r=\"4\"/>"),
        "{text}"
    );
    // Up to the latest end: video ending at 6.0 s.
    assert!(text.contains("duration=\"PT1.776S\""), "{text}");
    // Recording a segment twice keeps one entry.
    let rep = &live.representations[0];
    let again = &live.available_segments(rep, AST + 6 * SECOND, Some(4 * SECOND), 1)[0];
    recording.add_segment(&live, rep, again, "elsewhere.m4s");
    assert_eq!(recording.segment_count(), 5 + 4);
}

/// The local paths the crate's plan gives a manifest, every Representation in turn.
fn planned_paths(text: &str) -> Vec<String> {
    let url = Url::parse("file:///mirror/manifest.mpd").unwrap();
    let plan = crate::plan::plan(text.as_bytes(), &url).unwrap_or_else(|e| panic!("{e}\n{text}"));
    plan.representations
        .iter()
        .flat_map(|r| r.segments())
        .map(|s| s.path.to_string_lossy().replace('\\', "/"))
        .collect()
}

#[test]
fn odd_file_names_round_trip_through_urls() {
    let live = live();
    let rep = &live.representations[0];
    let segments = live.available_segments(rep, AST + 2 * SECOND, None, usize::MAX);
    let mut recording = Recording::new();
    // Names the layout can give (it replaces separators, `?` and `:`), with what URLs escape.
    let names = ["a b/x#1%.m4s", "ü/[2] {x}.m4s", "host_8080/c=d;e&f.m4s"];
    for (segment, name) in segments.iter().zip(names) {
        recording.add_segment(&live, rep, segment, name);
    }
    assert_eq!(planned_paths(&recording.render()), names);
}

/// The live fixtures (real H.264 and AAC segments) as a recording of segments 1, 2, 4 and 5
/// (3 missing) in `dir`, with its static manifest.
fn real_recording(dir: &Path) -> Recording {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live");
    let live = live();
    let mut recording = Recording::new();
    for (rep, name) in live.representations[..2].iter().zip(["v", "a"]) {
        let folder = dir.join("p0").join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(
            fixtures.join(format!("{name}-init.m4s")),
            folder.join("init.m4s"),
        )
        .unwrap();
        recording.add_init(&live, rep, &format!("p0/{name}/init.m4s"));
        for segment in live.available_segments(rep, AST + 2 * SECOND, None, 5) {
            if segment.number == 3 {
                continue;
            }
            let file = format!("t{}.m4s", segment.time);
            std::fs::copy(
                fixtures.join(format!("{name}-{}.m4s", segment.number)),
                folder.join(&file),
            )
            .unwrap();
            recording.add_segment(&live, rep, &segment, &format!("p0/{name}/{file}"));
        }
    }
    std::fs::write(dir.join("manifest.mpd"), recording.render()).unwrap();
    recording
}

#[test]
fn real_segments_dump_cleanly_from_the_recorded_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let recording = real_recording(dir.path());
    assert_eq!(recording.segment_count(), 8);
    let report = crate::dump_folder::dump_folder(&crate::dump_folder::FolderOptions {
        folder: dir.path().to_path_buf(),
        mpd: None,
        reps: Vec::new(),
        dump: crate::dump::DumpOptions::default(),
        concat: false,
    })
    .unwrap();
    assert!(report.is_clean(), "{report:?}");
    let dumped = report
        .outcomes
        .iter()
        .filter(|o| matches!(o, crate::dump_folder::RepresentationOutcome::Dumped { .. }))
        .count();
    assert_eq!(dumped, 2);
}

#[test]
fn ffprobe_reads_the_recorded_manifest() {
    let Ok(version) = std::process::Command::new("ffprobe")
        .arg("-version")
        .output()
    else {
        eprintln!("ffprobe is not installed: skipping the ffprobe check of the recorded manifest");
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().unwrap();
    real_recording(dir.path());
    let output = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "stream=codec_name,nb_read_packets",
            "-of",
            "csv=p=0",
        ])
        .arg(dir.path().join("manifest.mpd"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Each stream is listed once, and again under the program that holds it.
    let codecs: std::collections::BTreeSet<&str> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let counts: Vec<(String, u64)> = codecs
        .into_iter()
        .filter_map(|l| l.split_once(','))
        .map(|(codec, n)| (codec.to_string(), n.parse().unwrap_or(0)))
        .collect();
    assert_eq!(
        counts.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["aac", "h264"]
    );
    // Read across the gap: more packets than the two segments before it hold (10 video
    // frames, 18 AAC frames each).
    assert!(counts[0].1 > 36 && counts[1].1 > 20, "{stdout}");
}

#[test]
fn a_template_where_one_names_every_file_else_a_list() {
    let live = live();
    let rep = &live.representations[0];
    let segments = live.available_segments(rep, AST + 4 * SECOND, None, usize::MAX);
    // (name of segment n at time t, numbers skipped, expected media attribute or a list).
    type Namer<'a> = &'a dyn Fn(&LiveSegment) -> String;
    let rows: &[(Namer, &[u64], Option<&str>)] = &[
        (
            &|s| format!("v/t{}.m4s", s.time),
            &[3],
            Some(r#"media="v/t$Time$.m4s""#),
        ),
        (
            &|s| format!("v/{:05}.m4s", s.number),
            &[],
            Some(r#"media="v/$Number%05d$.m4s""#),
        ),
        (
            &|s| format!("v 1/n{}.m4s", s.number),
            &[],
            Some(r#"media="v%201/n$Number$.m4s""#),
        ),
        // Numbers with a gap cannot be a timeline's numbering.
        (&|s| format!("v/n{}.m4s", s.number), &[3], None),
        (
            &|s| {
                format!(
                    "v/{}.m4s",
                    ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"][s.number as usize - 1]
                )
            },
            &[],
            None,
        ),
    ];
    // The audio is recorded whole, so that a hole in the video is the video's own (a hole
    // every track shares would start a new Period).
    let audio = &live.representations[1];
    let audio_segments = live.available_segments(audio, AST + 4 * SECOND, None, usize::MAX);
    for (name, skip, media) in rows {
        let mut recording = Recording::new();
        for segment in segments.iter().filter(|s| !skip.contains(&s.number)) {
            recording.add_segment(&live, rep, segment, &name(segment));
        }
        for segment in &audio_segments {
            recording.add_segment(&live, audio, segment, &local(&segment.url));
        }
        let whole = recording.render();
        let from = whole.find("<Representation id=\"v\"").unwrap();
        let to = from + whole[from..].find("</Representation>").unwrap();
        let text = whole[from..to].to_string();
        match media {
            Some(media) => assert!(
                text.contains(media) && !text.contains("SegmentURL"),
                "{text}"
            ),
            // One `S` per SegmentURL (dash.js misreads `S@r` in a list).
            None => assert!(
                text.contains("<SegmentURL")
                    && !text.contains("SegmentTemplate")
                    && !text.contains(" r=\""),
                "{text}"
            ),
        }
        if let Some(m) = media
            && m.contains("Number")
        {
            assert!(text.contains("startNumber=\"1\""), "{text}");
        }
        // Either way the plan names exactly the recorded files.
        let paths: Vec<String> = planned_paths(&whole)
            .into_iter()
            .filter(|p| !p.starts_with("p0/a/"))
            .collect();
        let expected: Vec<String> = segments
            .iter()
            .filter(|s| !skip.contains(&s.number))
            .map(name)
            .collect();
        assert_eq!(paths, expected);
    }
}

#[test]
fn descriptive_attributes_and_elements_are_kept() {
    let text = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" type="dynamic" availabilityStartTime="2026-11-28T22:00:00Z">
  <Period id="p0" start="PT0S">
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" lang="fr" segmentAlignment="true">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="10000000-1000-1000-1000-100000000001"/>
      <ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"><cenc:pssh>AAAAAA==</cenc:pssh></ContentProtection>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <SegmentTemplate timescale="48000" duration="96000" media="a/$Number$.m4s" initialization="a/init.m4s"/>
      <Representation id="a" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="video" mimeType="video/mp4" availabilityTimeOffset="1">
      <SegmentTemplate timescale="90000" duration="180000" media="v/$Number$.m4s" initialization="v/init.m4s"/>
      <Representation id="v" codecs="avc1.64001f" bandwidth="900000" width="1280" height="720" frameRate="30000/1001" sar="1:1"/>
    </AdaptationSet>
  </Period>
</MPD>"#;
    let url = Url::parse("http://origin.test/live/manifest.mpd").unwrap();
    let live = LivePresentation::parse(text.as_bytes(), &url).unwrap();
    let mut recording = Recording::new();
    for rep in &live.representations {
        recording.add_init(&live, rep, &local(&rep.init.as_ref().unwrap().0));
        for segment in live.available_segments(rep, AST + 10 * SECOND, None, usize::MAX) {
            recording.add_segment(&live, rep, &segment, &local(&segment.url));
        }
    }
    let out = recording.render();
    for kept in [
        r#"lang="fr""#,
        r#"segmentAlignment="true""#,
        r#"cenc:default_KID="10000000-1000-1000-1000-100000000001""#,
        "<cenc:pssh>AAAAAA==</cenc:pssh>",
        r#"<Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>"#,
        r#"audioSamplingRate="48000""#,
        r#"<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>"#,
        r#"width="1280" height="720" frameRate="30000/1001" sar="1:1""#,
        r#"xmlns:cenc="urn:mpeg:cenc:2013""#,
    ] {
        assert!(out.contains(kept), "{kept} missing:\n{out}");
    }
    // What only a live manifest has is dropped.
    assert!(!out.contains("availabilityTimeOffset"), "{out}");
    // The result is a manifest the plan reads, in the schema's order (descriptors before the
    // addressing).
    let mpd = crate::mpd::parse_mpd(out.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let set = &mpd.periods[0].adaptation_sets[0];
    assert_eq!(set.lang.as_deref(), Some("fr"));
    assert_eq!(set.role.as_deref(), Some("main"));
    let role = out.find("<Role").unwrap();
    assert!(role < out.find("<Representation").unwrap());
    let channels = out.find("<AudioChannelConfiguration").unwrap();
    assert!(channels < out.find("<SegmentTemplate").unwrap());
    crate::plan::plan(
        out.as_bytes(),
        &Url::parse("file:///m/manifest.mpd").unwrap(),
    )
    .unwrap();
}

#[test]
fn times_are_written_in_the_media_timescale_where_they_convert_exactly() {
    // `@duration` in whole seconds at `@timescale="1"`, media at 90 kHz: the recording states
    // 90 kHz times, as the media does (what `mp4dump --check` compares).
    let text = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-11-28T22:00:00Z">
  <Period id="p0" start="PT0S"><AdaptationSet id="0" contentType="video" mimeType="video/mp4">
    <SegmentTemplate timescale="1" duration="2" startNumber="1" media="v/$Number$.m4s" initialization="v/init.m4s"/>
    <Representation id="v" codecs="avc1.64001f" bandwidth="1"/>
  </AdaptationSet></Period>
</MPD>"#;
    let url = Url::parse("http://origin.test/live/manifest.mpd").unwrap();
    let live = LivePresentation::parse(text.as_bytes(), &url).unwrap();
    let rep = &live.representations[0];
    let info = RepresentationInfo::of(&live, rep);
    let mut recording = Recording::new();
    recording.add_init_of(&info, "v/init.m4s");
    for segment in live.available_segments(rep, AST + 11 * SECOND, None, usize::MAX) {
        recording.add_segment(&live, rep, &segment, &local(&segment.url));
    }
    let before = recording.render();
    assert!(before.contains(r#"timescale="1""#), "{before}");
    recording.set_media_timescale(&info, Some(90_000));
    let after = recording.render();
    assert!(
        after.contains(r#"timescale="90000" presentationTimeOffset="0""#),
        "{after}"
    );
    assert!(after.contains(r#"<S t="0" d="180000" r="4"/>"#), "{after}");
    assert_eq!(planned_paths(&before), planned_paths(&after));
}

#[test]
fn the_model_s_own_children_are_not_kept_whatever_their_namespace() {
    // Found by fuzzing: a manifest in an odd default namespace had its SegmentTemplate and
    // Representation kept as descriptions, and the recording's plan generated millions.
    let text = LIVE.replace(
        "urn:mpeg:dash:schema:mpd:2011",
        "urn:mpeg:dash:schema*:mpd:2011",
    );
    let url = Url::parse("http://origin.test/live/manifest.mpd").unwrap();
    let live = LivePresentation::parse(text.as_bytes(), &url).unwrap();
    let mut recording = Recording::new();
    let rep = &live.representations[0];
    for segment in live.available_segments(rep, AST + 3 * SECOND, None, usize::MAX) {
        recording.add_segment(&live, rep, &segment, &local(&segment.url));
    }
    let out = recording.render();
    assert_eq!(out.matches("<Representation").count(), 1, "{out}");
    assert_eq!(out.matches("<SegmentTemplate").count(), 1, "{out}");
    assert_eq!(planned_paths(&out).len(), 7);
}
