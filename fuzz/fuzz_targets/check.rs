//! `mp4dump --check` over arbitrary media: the fuzz input is cut into an init segment and two
//! media segments (at the bytes `\xff\x00\xff\x00`), written beside one of a few manifests
//! that promise everything the checks compare (sizes, frame rate, sampling rate, channels,
//! protection, alignment across two Representations, Periods sharing files), and the whole
//! checker runs on them: no panic, no hang, a finding per file at most as many as it has bytes.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use dashget::check::{CheckEvents, CheckOptions, Finding, check_folder};
use libfuzzer_sys::fuzz_target;

const COMMON: &str = r#"frameRate="24/1" width="320" height="240" sar="1:1" audioSamplingRate="44100""#;

fn manifests() -> [String; 3] {
    let protection = r#"<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="00010203-0405-0607-0809-0a0b0c0d0e0f"/><ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"><cenc:pssh>AAAAJHBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAAARhYmNk</cenc:pssh></ContentProtection><AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>"#;
    let head = r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" type="static" minBufferTime="PT1S" maxSegmentDuration="PT1S" mediaPresentationDuration="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">"#;
    [
        format!(
            r#"{head}<Period><AdaptationSet segmentAlignment="true" startWithSAP="1" {COMMON}>{protection}<SegmentTemplate timescale="1000" duration="1000" initialization="init.mp4" media="seg-$Number$.m4s"/><Representation id="a" codecs="avc1.42c00d" bandwidth="100000"/><Representation id="b" codecs="mp4a.40.2" bandwidth="1000"/></AdaptationSet></Period></MPD>"#
        ),
        format!(
            r#"{head}<Period duration="PT1S"><AdaptationSet {COMMON}><SegmentTemplate timescale="90000" initialization="init.mp4" media="seg-$Number$.m4s"><SegmentTimeline><S t="0" d="90000" r="1"/></SegmentTimeline></SegmentTemplate><Representation id="a" bandwidth="1"/></AdaptationSet></Period><Period><AdaptationSet {COMMON}><SegmentTemplate timescale="1000" presentationTimeOffset="500" initialization="init.mp4" media="seg-$Number$.m4s"><SegmentTimeline><S t="500" d="1000" r="1"/></SegmentTimeline></SegmentTemplate><Representation id="a" bandwidth="1"/></AdaptationSet></Period></MPD>"#
        ),
        format!(
            r#"{head}<Period><AdaptationSet {COMMON}><Representation id="a" bandwidth="1"><BaseURL>seg-1.m4s</BaseURL><SegmentBase indexRange="0-99"><Initialization sourceURL="init.mp4"/></SegmentBase></Representation></AdaptationSet></Period></MPD>"#
        ),
    ]
}

fn folders() -> &'static Vec<PathBuf> {
    static FOLDERS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    FOLDERS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("dashget-fuzz-check-{}", std::process::id()));
        manifests()
            .iter()
            .enumerate()
            .map(|(i, mpd)| {
                let dir = root.join(i.to_string());
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("manifest.mpd"), mpd).unwrap();
                dir
            })
            .collect()
    })
}

struct Count(usize);

impl CheckEvents for Count {
    fn finding(&mut self, finding: &Finding) {
        assert!(!finding.message.is_empty());
        self.0 += 1;
    }
    fn progress(&mut self, _: u64, _: u64) {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let dir = &folders()[usize::from(which) % 3];
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    for i in 0..rest.len() {
        if i >= start && rest[i..].starts_with(b"\xff\x00\xff\x00") && parts.len() < 2 {
            parts.push(&rest[start..i]);
            start = i + 4;
        }
    }
    parts.push(&rest[start.min(rest.len())..]);
    // The box structure `dashget --check` keeps of a download reads back at the file's length,
    // whatever the chunking.
    for part in &parts {
        let mut skeleton = dashget::isobmff::Skeleton::new();
        for chunk in part.chunks(usize::from(which % 13) + 1) {
            skeleton.push(chunk);
        }
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut skeleton.reader(), &mut back).unwrap();
        assert_eq!(back.len(), part.len());
        assert!(skeleton.kept() <= part.len());
    }
    let names = ["init.mp4", "seg-1.m4s", "seg-2.m4s"];
    for (k, name) in names.iter().enumerate() {
        match parts.get(k) {
            Some(bytes) => std::fs::write(dir.join(name), bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(dir.join(name));
            }
        }
    }
    let mut count = Count(0);
    let options = CheckOptions {
        folder: dir.clone(),
        mpd: Some("manifest.mpd".into()),
        reps: Vec::new(),
    };
    if check_folder(&options, &mut count).is_ok() {
        // Findings are bounded by what there is to find (per file, per check).
        assert!(count.0 <= 64 + 4 * data.len(), "{} findings", count.0);
    }
});
