//! Arbitrary bytes as an MPD Patch (and its manifest): applying must return Ok or Err, never
//! panic or hang, and a patched manifest must read back as XML. The input is the manifest and
//! the patch separated by a NUL byte (no NUL: the input is the patch, applied to a small
//! manifest).
#![no_main]

use libfuzzer_sys::fuzz_target;

const MPD: &[u8] = br#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" id="m" type="dynamic" publishTime="2026-01-01T00:00:00Z"><Period id="p"><AdaptationSet id="1"><SegmentTemplate><SegmentTimeline><S t="0" d="2"/><S d="2"/></SegmentTimeline></SegmentTemplate></AdaptationSet></Period></MPD>"#;

fuzz_target!(|data: &[u8]| {
    let (mpd, patch) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (MPD, data),
    };
    if let Ok(patched) = dashget::mpd::patch::apply_patch(mpd, patch) {
        roxmltree::Document::parse(&patched.text).expect("a patched manifest is XML");
    }
});
