//! Legal variants of clean presentations, as other packagers make them, must check clean; and
//! the defects the checker used to miss or misname are found under the right name. Each
//! variant is made from a committed presentation by byte surgery or a manifest edit, and the
//! clause that makes it legal is named.

mod check_support;

use std::path::Path;

use check_support::*;

fn rename(dir: &Path, from: &str, to: &str) {
    std::fs::rename(dir.join(from), dir.join(to)).expect("rename");
}

#[test]
fn mvex_before_the_traks_with_durations_from_trex_checks_clean() {
    // GPAC writes mvex first and leaves the sample duration to trex (ISO/IEC 14496-12
    // §6.2.3 recommends an order, §8.8.3 lets trex supply the default): before, every
    // fragment lasted 0 (false sidx, mpd-duration, decode-time and bandwidth findings).
    let dir = copy_of("dash/template-number");
    let mut duration = 0;
    for segment in ["chunk-stream0-00001.m4s", "chunk-stream0-00002.m4s"] {
        edit(dir.path(), segment, |b| duration = drop_tfhd_duration(b));
    }
    assert!(duration > 0);
    edit(dir.path(), "init-stream0.m4s", |b| {
        mvex_first(b);
        set_trex_duration(b, duration);
    });
    assert_clean(dir.path());
    assert_reads_like(dir.path(), "dash/template-number");
    // The surgery took: without trex's duration, the same files are wrong.
    edit(dir.path(), "init-stream0.m4s", |b| set_trex_duration(b, 0));
    assert_found(dir.path(), "mpd-duration", "chunk-stream0-00001.m4s");
}

#[test]
fn periods_that_name_the_same_files_check_clean() {
    // Each Period has its own sample timeline (ISO/IEC 23009-1 §5.3.9.2): a second Period over
    // the same files is no overlap (before: a decode-time error per representation).
    let dir = copy_of("dash/template-number");
    let path = dir.path().join("manifest.mpd");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("\t<Period").unwrap();
    let end = text.find("</Period>").unwrap() + "</Period>".len();
    let second = text[start..end].replace(
        r#"<Period id="0" start="PT0.0S">"#,
        r#"<Period id="1" start="PT2.0S">"#,
    );
    let text = format!("{}\n{second}{}", &text[..end], &text[end..]).replace(
        r#"mediaPresentationDuration="PT2.0S""#,
        r#"mediaPresentationDuration="PT4.0S""#,
    );
    std::fs::write(&path, text).unwrap();
    let findings = assert_clean(dir.path());
    assert!(findings.is_empty(), "{findings:#?}");
    // ffprobe reads it (its DASH reader takes the first Period).
    assert!(ffprobe_frames(dir.path(), "manifest.mpd").is_none_or(|f| !f.is_empty()));
}

#[test]
fn an_edit_list_hiding_two_priming_frames_checks_clean() {
    // CTA WAVE content: the edit list skips two AAC frames (2048 samples) and the timeline
    // gives presentation times, so the first segment presents exactly S@d (ISO/IEC 23009-1
    // §7.2.1: the presentation time is the media time after the edit list, less
    // presentationTimeOffset). Before: an mpd-duration and an mpd-time error.
    let dir = copy_of("dash/template-time");
    edit(dir.path(), "init-stream2.m4s", |b| {
        let (elst, _) = find(b, &[b"moov", b"trak", b"edts", b"elst"]);
        assert_eq!(b[elst + 8], 0, "version 0 elst");
        assert_eq!(read_u32(b, elst + 20), 1024, "ffmpeg's one priming frame");
        write_u32(b, elst + 20, 2048);
    });
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<S t="0" d="44032" />"#,
        r#"<S t="0" d="43008" />"#,
    );
    rename(dir.path(), "chunk-2-44032.m4s", "chunk-2-43008.m4s");
    let findings = assert_clean(dir.path());
    assert!(findings.is_empty(), "{findings:#?}");
    assert_reads_like(dir.path(), "dash/template-time");
}

#[test]
fn a_millisecond_timeline_over_a_media_timescale_checks_clean_with_a_warning() {
    // ISO/IEC 23009-1 §5.3.9.6: the timeline is in @timescale, whatever the media's; the
    // DASH-IF timing model recommends the media's, hence a warning. Before: an error, and no
    // time compared.
    let dir = copy_of("dash/template-time");
    let path = dir.path().join("manifest.mpd");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "<SegmentTemplate timescale=\"12288\" initialization=\"init-stream$RepresentationID$.m4s\" media=\"chunk-$RepresentationID$-$Time$.m4s\" startNumber=\"1\">\n\t\t\t\t\t<SegmentTimeline>\n\t\t\t\t\t\t<S t=\"0\" d=\"12288\" r=\"1\" />",
        "<SegmentTemplate timescale=\"1000\" initialization=\"init-stream$RepresentationID$.m4s\" media=\"chunk-$RepresentationID$-$Time$.m4s\" startNumber=\"1\">\n\t\t\t\t\t<SegmentTimeline>\n\t\t\t\t\t\t<S t=\"0\" d=\"1000\" r=\"1\" />",
    );
    assert_eq!(text.matches("timescale=\"1000\"").count(), 2);
    std::fs::write(&path, text).unwrap();
    for rep in ["0", "1"] {
        rename(
            dir.path(),
            &format!("chunk-{rep}-12288.m4s"),
            &format!("chunk-{rep}-1000.m4s"),
        );
    }
    let findings = assert_clean(dir.path());
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_reads_like(dir.path(), "dash/template-time");
    assert!(findings.iter().all(|f| f["check"] == "timescale"));
    // Times that disagree once converted are still errors.
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<S t="0" d="1000" r="1" />"#,
        r#"<S t="0" d="900" /><S d="1100" />"#,
    );
    rename(dir.path(), "chunk-0-1000.m4s", "chunk-0-900.m4s");
    assert_found(dir.path(), "mpd-time", "chunk-0-900.m4s");
}

#[test]
fn one_id_for_two_different_representations_is_one_duplicate_id() {
    // ISO/IEC 23009-1 §5.3.5.2: @id is unique within a Period unless the Representations are
    // functionally identical. Reported once, on the manifest; the media of each is checked
    // on its own (before: decode-time overlaps, once per segment).
    let dir = copy_of("dash/template-number");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<Representation id="1" mimeType="video/mp4" codecs="avc1.42c00c" bandwidth="100000" width="160" height="120" sar="1:1">
				<SegmentTemplate timescale="1000000" duration="1000000" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="1">"#,
        r#"<Representation id="0" mimeType="video/mp4" codecs="avc1.42c00c" bandwidth="100000" width="160" height="120" sar="1:1">
				<SegmentTemplate timescale="1000000" duration="1000000" initialization="init-stream1.m4s" media="chunk-stream1-$Number%05d$.m4s" startNumber="1">"#,
    );
    let findings = assert_only(dir.path(), "duplicate-id", "manifest.mpd");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("2 Representations share @id \"0\""),
        "{findings:#?}"
    );
}

#[test]
fn a_segment_cut_after_its_index_is_a_sidx_finding_not_an_unfragmented_one() {
    let dir = copy_of("dash/template-number");
    edit(dir.path(), "chunk-stream0-00002.m4s", |b| {
        let (sidx, size) = find(b, &[b"sidx"]);
        b.truncate(sidx + size);
    });
    let findings = assert_only(dir.path(), "sidx", "chunk-stream0-00002.m4s");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("past the end of the file"),
        "{findings:#?}"
    );
}

#[test]
fn a_last_segment_ending_before_its_period_is_an_mpd_duration_error() {
    // DESIGN.md: a Period's last segment may be shorter than the manifest says only down to
    // the Period's end. Here the last S says 2 s, the Period ends 2 s after its start, and
    // the media stops 1 s before.
    let dir = copy_of("dash/template-time");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"mediaPresentationDuration="PT2.0S""#,
        r#"mediaPresentationDuration="PT3.0S""#,
    );
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<S t="0" d="12288" r="1" />"#,
        r#"<S t="0" d="12288" /><S d="24576" />"#,
    );
    assert_only(dir.path(), "mpd-duration", "chunk-0-12288.m4s");
    // Down to the Period's end it is legal: a Period of 2 s clips the same last segment.
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"mediaPresentationDuration="PT3.0S""#,
        r#"mediaPresentationDuration="PT2.0S""#,
    );
    assert_clean(dir.path());
}
