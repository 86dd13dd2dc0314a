//! What the manifest promises of the media, against the media: each check finds its defect,
//! made by a manifest edit or byte surgery on a clean presentation, on the segment at fault and
//! with nothing else reported; the clean presentations stay clean (`check_cli.rs`).

mod check_support;

use base64::Engine as _;
use check_support::*;

/// `template-number` with one manifest edit, checked: exactly `check` on `segment`.
fn one_edit(from: &str, to: &str, check_name: &str, segment: &str) -> Vec<serde_json::Value> {
    let dir = copy_of("dash/template-number");
    edit_manifest(dir.path(), "manifest.mpd", from, to);
    assert_only(dir.path(), check_name, segment)
}

#[test]
fn resolution() {
    // The SPS's cropped picture (and the sample entry) is 320x240.
    let f = one_edit(
        r#"width="320" height="240""#,
        r#"width="320" height="180""#,
        "resolution",
        "init-stream0.m4s",
    );
    assert_eq!(f[0]["found"], serde_json::json!([320, 240]));
}

#[test]
fn frame_rate() {
    // 24 frames per second; a promise of 25 is 4 % off. Reported once, on the first segment.
    let f = one_edit(
        r#"frameRate="24/1" maxWidth="320""#,
        r#"frameRate="25/1" maxWidth="320""#,
        "frame-rate",
        "chunk-stream0-00001.m4s",
    );
    assert_eq!(f.len(), 1);
    // As a fraction that means the same: clean.
    let dir = copy_of("dash/template-number");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"frameRate="24/1" maxWidth="320""#,
        r#"frameRate="48/2" maxWidth="320""#,
    );
    assert_clean(dir.path());
}

#[test]
fn sampling_rate() {
    one_edit(
        r#"audioSamplingRate="44100""#,
        r#"audioSamplingRate="48000""#,
        "sampling-rate",
        "init-stream2.m4s",
    );
    // HE-AAC's output rate (twice the core's) is not a defect: announced as 88200, the
    // doubled rate of this AAC-LC stream is accepted as what SBR would give.
    let dir = copy_of("dash/template-number");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"audioSamplingRate="44100""#,
        r#"audioSamplingRate="88200""#,
    );
    assert_clean(dir.path());
}

#[test]
fn channels() {
    // The AudioSpecificConfig says one channel (the mp4a entry's channel_count says 2, as
    // ISO/IEC 14496-14 makes every MP4 AAC entry say: it is not compared).
    let f = one_edit(
        r#"audio_channel_configuration:2011" value="1""#,
        r#"audio_channel_configuration:2011" value="2""#,
        "channels",
        "init-stream2.m4s",
    );
    assert_eq!(
        (f[0]["expected"].clone(), f[0]["found"].clone()),
        (2.into(), 1.into())
    );
    // The CICP scheme's index 1 is mono: clean.
    let dir = copy_of("dash/template-number");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1""#,
        r#"urn:mpeg:mpegB:cicp:ChannelConfiguration" value="1""#,
    );
    assert_clean(dir.path());
}

#[test]
fn sar() {
    one_edit(
        r#"width="320" height="240" sar="1:1""#,
        r#"width="320" height="240" sar="4:3""#,
        "sar",
        "init-stream0.m4s",
    );
}

#[test]
fn default_kid() {
    let dir = copy_of("bento4-dash/cenc");
    edit_manifest(
        dir.path(),
        "stream.mpd",
        r#"cenc:default_KID="00010203-0405-0607-0809-0a0b0c0d0e0f""#,
        r#"cenc:default_KID="00010203-0405-0607-0809-0a0b0c0d0e1f""#,
    );
    assert_only(dir.path(), "default-kid", "video/avc1/init.mp4");
}

/// A version-0 `pssh` box.
fn pssh_box(system: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(32 + data.len() as u32).to_be_bytes());
    b.extend_from_slice(b"pssh");
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(system);
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
fn pssh() {
    const SYSTEM: [u8; 16] = *b"\xed\xef\x8b\xa9\x79\xd6\x4a\xce\xa3\xc8\x27\xdc\xd5\x1d\x21\xed";
    const URN: &str = "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed";
    let with = |manifest_data: &[u8], scheme: &str| {
        let dir = copy_of("bento4-dash/cenc");
        // The init carries a pssh for the system (at the end of its moov).
        edit(dir.path(), "video/avc1/init.mp4", |b| {
            let (moov, size) = find(b, &[b"moov"]);
            let pssh = pssh_box(&SYSTEM, b"licence-data");
            b.splice(moov + size..moov + size, pssh.iter().copied());
            write_u32(b, moov, (size + pssh.len()) as u32);
        });
        let text =
            base64::engine::general_purpose::STANDARD.encode(pssh_box(&SYSTEM, manifest_data));
        edit_manifest(
            dir.path(),
            "stream.mpd",
            r#"<Representation id="video/avc1""#,
            &format!(
                r#"<ContentProtection schemeIdUri="{scheme}"><cenc:pssh>{text}</cenc:pssh></ContentProtection>
      <Representation id="video/avc1""#
            ),
        );
        dir
    };
    // The same box in both: clean.
    assert_clean(with(b"licence-data", URN).path());
    // Different data for the same system.
    assert_only(
        with(b"other-data", URN).path(),
        "pssh",
        "video/avc1/init.mp4",
    );
    // A box for another system than its ContentProtection names.
    assert_only(
        with(
            b"licence-data",
            "urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95",
        )
        .path(),
        "pssh",
        "video/avc1/init.mp4",
    );
}

#[test]
fn max_segment_duration_is_a_warning() {
    let dir = copy_of("dash/template-number");
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"maxSegmentDuration="PT1.0S""#,
        r#"maxSegmentDuration="PT0.5S""#,
    );
    let (code, findings, _) = check(dir.path());
    assert_eq!(code, 0, "{findings:#?}");
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["check"] == "max-segment-duration" && f["severity"] == "warning"),
        "{findings:#?}"
    );
}

/// `template-time` with its two video Representations in one AdaptationSet (segmentAlignment
/// true): aligned, as ffmpeg cut them.
fn one_video_set() -> tempfile::TempDir {
    let dir = copy_of("dash/template-time");
    let path = dir.path().join("manifest.mpd");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut_from = text
        .find("\t\t</AdaptationSet>\n\t\t<AdaptationSet id=\"1\"")
        .unwrap();
    let rep = text[cut_from..]
        .find("\t\t\t<Representation id=\"1\"")
        .unwrap()
        + cut_from;
    std::fs::write(&path, format!("{}{}", &text[..cut_from], &text[rep..])).unwrap();
    dir
}

#[test]
fn alignment() {
    let dir = one_video_set();
    assert!(check(dir.path()).1.is_empty());
    // Representation 1 cut into one segment of 2 s (its two fragments in one file, the index
    // dropped, the manifest saying so): its segment runs over representation 0's boundary.
    let first = std::fs::read(dir.path().join("chunk-1-0.m4s")).unwrap();
    let second = std::fs::read(dir.path().join("chunk-1-12288.m4s")).unwrap();
    let (sidx, sidx_size) = find(&first, &[b"sidx"]);
    let (moof, _) = find(&second, &[b"moof"]);
    let mut joined = first[..sidx].to_vec();
    joined.extend_from_slice(&first[sidx + sidx_size..]);
    joined.extend_from_slice(&second[moof..]);
    std::fs::write(dir.path().join("chunk-1-0.m4s"), joined).unwrap();
    std::fs::remove_file(dir.path().join("chunk-1-12288.m4s")).unwrap();
    let path = dir.path().join("manifest.mpd");
    let text = std::fs::read_to_string(&path).unwrap();
    let rep = text.find("<Representation id=\"1\"").unwrap();
    let at = text[rep..].find(r#"<S t="0" d="12288" r="1" />"#).unwrap() + rep;
    let text = format!(
        "{}{}{}",
        &text[..at],
        r#"<S t="0" d="24576" />"#,
        &text[at + r#"<S t="0" d="12288" r="1" />"#.len()..]
    );
    std::fs::write(
        &path,
        text.replace(
            r#"maxSegmentDuration="PT1.0S""#,
            r#"maxSegmentDuration="PT2.0S""#,
        ),
    )
    .unwrap();
    let f = assert_only(dir.path(), "alignment", "chunk-1-0.m4s");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("runs over 1.000 s"),
        "{f:#?}"
    );
    // Without segmentAlignment, the same is legal.
    edit_manifest(
        dir.path(),
        "manifest.mpd",
        r#"<AdaptationSet id="0" contentType="video" startWithSAP="1" segmentAlignment="true""#,
        r#"<AdaptationSet id="0" contentType="video" startWithSAP="1" segmentAlignment="false""#,
    );
    assert_clean(dir.path());
}
