//! `mp4dump --check`: each check finds its defect, made by byte surgery on real segments or
//! a manifest edit, on the right segment, and nothing else is reported.

mod check_support;

use check_support::*;

#[test]
fn missing_segment() {
    let dir = copy_of("dash/template-time");
    std::fs::remove_file(dir.path().join("chunk-1-12288.m4s")).expect("rm");
    assert_only(dir.path(), "missing-segment", "chunk-1-12288.m4s");
}

#[test]
fn malformed_box() {
    let dir = copy_of("dash/segment-list");
    // A box header at the end that claims 100 bytes where 8 are left.
    edit(dir.path(), "chunk-stream2-00001.m4s", |b| {
        b.extend_from_slice(&[0, 0, 0, 100, b'f', b'r', b'e', b'e']);
    });
    assert_only(dir.path(), "malformed-box", "chunk-stream2-00001.m4s");
}

#[test]
fn not_fragmented() {
    let dir = copy_of("dash/template-number");
    // The moof becomes a free box: the segment holds media data and no fragment.
    edit(dir.path(), "chunk-stream1-00002.m4s", |b| {
        let (at, _) = find(b, &[b"moof"]);
        b[at + 4..at + 8].copy_from_slice(b"free");
    });
    assert_only(dir.path(), "not-fragmented", "chunk-stream1-00002.m4s");
}

#[test]
fn sequence_number() {
    let dir = copy_of("dash/template-number");
    edit(dir.path(), "chunk-stream0-00002.m4s", |b| {
        let (at, _) = find(b, &[b"moof", b"mfhd"]);
        write_u32(b, at + 12, 1);
    });
    assert_only(dir.path(), "sequence-number", "chunk-stream0-00002.m4s");
}

#[test]
fn decode_time() {
    let dir = copy_of("dash/template-number");
    // 512 ticks (one frame) late: a gap inside the media, within the manifest's tolerance.
    edit(dir.path(), "chunk-stream0-00002.m4s", |b| {
        let (at, _) = find(b, &[b"moof", b"traf", b"tfdt"]);
        assert_eq!(b[at + 8], 1, "version 1 tfdt");
        let t = u64::from_be_bytes(b[at + 12..at + 20].try_into().expect("8"));
        b[at + 12..at + 20].copy_from_slice(&(t + 512).to_be_bytes());
    });
    let findings = assert_only(dir.path(), "decode-time", "chunk-stream0-00002.m4s");
    assert_eq!(findings[0]["expected"], 12288);
    assert_eq!(findings[0]["found"], 12800);
}

#[test]
fn mpd_time() {
    let dir = copy_of("dash/template-time");
    // The timeline puts the second video segment 1000 ticks later than the media (an S@t
    // jump, so the media's own continuity is not in question).
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<S t="0" d="12288" r="1" />"#,
        r#"<S t="0" d="12288" /><S t="13288" d="12288" />"#,
    );
    std::fs::rename(
        dir.path().join("chunk-0-12288.m4s"),
        dir.path().join("chunk-0-13288.m4s"),
    )
    .expect("rename");
    let findings = assert_only(dir.path(), "mpd-time", "chunk-0-13288.m4s");
    assert_eq!(findings[0]["expected"], 13288);
    assert_eq!(findings[0]["found"], 12288);
}

#[test]
fn mpd_duration() {
    let dir = copy_of("dash/template-time");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<S t="0" d="12288" r="1" />"#,
        r#"<S t="0" d="11000" /><S t="12288" d="12288" />"#,
    );
    let findings = assert_only(dir.path(), "mpd-duration", "chunk-0-0.m4s");
    assert_eq!(findings[0]["expected"], 11000);
    assert_eq!(findings[0]["found"], 12288);
}

#[test]
fn track_id() {
    let dir = copy_of("dash/segment-list");
    edit(dir.path(), "chunk-stream1-00002.m4s", |b| {
        let (at, _) = find(b, &[b"moof", b"traf", b"tfhd"]);
        write_u32(b, at + 12, 7);
    });
    let findings = assert_only(dir.path(), "track-id", "chunk-stream1-00002.m4s");
    assert_eq!(findings[0]["found"], 7);
}

#[test]
fn sample_description() {
    let dir = copy_of("dash/template-number");
    // tfhd gains a sample description index of 2 (stsd has one entry): 4 bytes inserted after
    // the track id, the sizes of tfhd, traf, moof and the sidx reference, and trun's data
    // offset, moved by 4.
    edit(dir.path(), "chunk-stream0-00002.m4s", |b| {
        let (tfhd, _) = find(b, &[b"moof", b"traf", b"tfhd"]);
        let (traf, _) = find(b, &[b"moof", b"traf"]);
        let (moof, _) = find(b, &[b"moof"]);
        let (sidx, _) = find(b, &[b"sidx"]);
        let (trun, _) = find(b, &[b"moof", b"traf", b"trun"]);
        b[tfhd + 11] |= 0x02;
        for at in [tfhd, traf, moof] {
            let size = read_u32(b, at);
            write_u32(b, at, size + 4);
        }
        // sidx v1: 12 header + 8 (id, timescale) + 16 (times) + 4 (reserved, count) = 40.
        let reference = sidx + 40;
        let r = read_u32(b, reference);
        write_u32(b, reference, r + 4);
        let flags = read_u32(b, trun + 8);
        assert!(flags & 1 != 0, "trun has a data offset");
        let offset = read_u32(b, trun + 16);
        write_u32(b, trun + 16, offset + 4);
        let at = tfhd + 16;
        b.splice(at..at, 2u32.to_be_bytes());
    });
    let findings = assert_only(dir.path(), "sample-description", "chunk-stream0-00002.m4s");
    assert_eq!(findings[0]["found"], 2);
    assert_eq!(findings[0]["expected"], 1);
}

#[test]
fn data_range() {
    let dir = copy_of("dash/template-number");
    edit(dir.path(), "chunk-stream2-00001.m4s", |b| {
        let (trun, _) = find(b, &[b"moof", b"traf", b"trun"]);
        let offset = read_u32(b, trun + 16);
        write_u32(b, trun + 16, offset + 100_000);
    });
    assert_only(dir.path(), "data-range", "chunk-stream2-00001.m4s");
}

#[test]
fn timescale() {
    let dir = copy_of("dash/template-time");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<SegmentTemplate timescale="12288" initialization="init-stream$RepresentationID$.m4s""#,
        r#"<SegmentTemplate timescale="24576" initialization="init-stream$RepresentationID$.m4s""#,
    );
    // Another timescale is legal; times that disagree once converted are not: the warning
    // says why, the times say where.
    let findings = assert_found(dir.path(), "mpd-time", "chunk-0-12288.m4s");
    let warning = findings
        .iter()
        .find(|f| f["check"] == "timescale")
        .expect("a timescale warning");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["segment"], "init-stream0.m4s");
    assert_eq!(
        (warning["expected"].clone(), warning["found"].clone()),
        (24576.into(), 12288.into())
    );
    assert!(
        findings
            .iter()
            .filter(|f| f["check"] == "timescale")
            .all(|f| f["severity"] == "warning"),
        "{findings:#?}"
    );
}

#[test]
fn codecs() {
    let dir = copy_of("dash/template-number");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"codecs="avc1.42c00c""#,
        r#"codecs="avc1.64001f""#,
    );
    let findings = assert_only(dir.path(), "codecs", "init-stream1.m4s");
    assert_eq!(findings[0]["expected"], "avc1.64001f");
    assert_eq!(findings[0]["found"], "avc1.42c00c");
}

#[test]
fn sap() {
    let dir = copy_of("dash/template-time");
    // The first sample of the second video segment is flagged as not a sync sample.
    edit(dir.path(), "chunk-1-12288.m4s", |b| {
        let (trun, _) = find(b, &[b"moof", b"traf", b"trun"]);
        let flags = read_u32(b, trun + 8);
        assert_eq!(flags & 0x5, 0x5, "data offset and first sample flags");
        write_u32(b, trun + 20, 0x0101_0000);
    });
    assert_only(dir.path(), "sap", "chunk-1-12288.m4s");
}

#[test]
fn encryption() {
    for mode in ["cenc", "cbcs"] {
        let dir = copy_of(&format!("bento4-dash/{mode}"));
        let segment = "video/avc1/seg-2.m4s";
        // senc claims one sample more than trun has.
        edit(dir.path(), segment, |b| {
            let (senc, _) = find(b, &[b"moof", b"traf", b"senc"]);
            let n = read_u32(b, senc + 12);
            write_u32(b, senc + 12, n + 1);
        });
        assert_only(dir.path(), "encryption", segment);
    }
    // An encrypted sample entry without its tenc.
    let dir = copy_of("bento4-dash/cenc");
    edit(dir.path(), "audio/und/mp4a.40.2/init.mp4", |b| {
        let (stsd, _) = find(b, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"]);
        let tenc = b[stsd..]
            .windows(4)
            .position(|w| w == b"tenc")
            .expect("tenc")
            + stsd;
        b[tenc..tenc + 4].copy_from_slice(b"xxxx");
    });
    assert_only(dir.path(), "encryption", "audio/und/mp4a.40.2/init.mp4");
}

#[test]
fn sidx() {
    let dir = copy_of("dash/single-file");
    // The first segment's index says its subsegment is one byte longer than it is.
    edit(dir.path(), "manifest-stream1.mp4", |b| {
        let (sidx, _) = find(b, &[b"sidx"]);
        let r = read_u32(b, sidx + 40);
        write_u32(b, sidx + 40, r + 1);
    });
    assert_only(dir.path(), "sidx", "manifest-stream1.mp4");
}

#[test]
fn bandwidth_is_a_warning() {
    let dir = copy_of("dash/template-number");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"bandwidth="200000""#,
        r#"bandwidth="20000""#,
    );
    let (code, findings, summary) = check(dir.path());
    assert_eq!(code, 0, "{findings:#?}");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["check"], "bandwidth");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["representation"], "0");
    assert_eq!(summary["summary"]["warnings"]["bandwidth"], 1);
}
