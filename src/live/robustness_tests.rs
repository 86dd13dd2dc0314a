//! Arbitrary bytes and extreme values: every reader answers, none panics or loops.

use url::Url;

use super::LivePresentation;
use super::clock::{TimingScheme, read_time};
use super::recording::Recording;
use super::time::parse_datetime;

const SCHEMES: [TimingScheme; 5] = [
    TimingScheme::HttpXsdate,
    TimingScheme::HttpIso,
    TimingScheme::HttpHead,
    TimingScheme::HttpNtp,
    TimingScheme::Direct,
];

#[test]
fn random_bytes() {
    let mut rng = fastrand::Rng::with_seed(10);
    let url = Url::parse("http://origin.test/m.mpd").unwrap();
    let alphabet = b"0123456789-+:.,TZ PSMHDY<>=\"/ \xc3\xa9";
    for _ in 0..20_000 {
        let len = rng.usize(0..40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.usize(0..alphabet.len())])
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_datetime(&text);
        for scheme in SCHEMES {
            let _ = read_time(scheme, &bytes, Some(&text));
        }
        let _ = crate::mpd::parse_mpd(&bytes);
        let _ = LivePresentation::parse(&bytes, &url);
    }
}

/// A manifest with every number a placeholder.
const SHAPE: &str = r#"<MPD type="dynamic" availabilityStartTime="{date}" timeShiftBufferDepth="{dur}" availabilityEndTime="{date}" mediaPresentationDuration="{dur}"><Period start="{dur}" duration="{dur}"><AdaptationSet><SegmentTemplate timescale="{u}" presentationTimeOffset="{u}" duration="{u}" startNumber="{u}" endNumber="{u}" availabilityTimeOffset="{ato}" media="$Number$-$Time$"><SegmentTimeline><S t="{i}" d="{u}" r="{r}"/><S d="{u}" r="-1"/></SegmentTimeline></SegmentTemplate><Representation id="a"/><Representation id="b"><SegmentList timescale="{u}" duration="{u}"><SegmentURL media="x"/><SegmentURL media="y"/></SegmentList></Representation></AdaptationSet></Period></MPD>"#;

#[test]
fn extreme_values_in_every_query() {
    let mut rng = fastrand::Rng::with_seed(23);
    let url = Url::parse("http://origin.test/m.mpd").unwrap();
    let pick = |rng: &mut fastrand::Rng, options: &[&str]| {
        options[rng.usize(0..options.len())].to_string()
    };
    let unsigned = [
        "0",
        "1",
        "3",
        "1000",
        "4294967295",
        "9223372036854775807",
        "18446744073709551615",
    ];
    let signed = [
        "0",
        "-1",
        "7",
        "-9223372036854775808",
        "9223372036854775807",
    ];
    let dates = [
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "2026-11-28T22:00:00Z",
    ];
    let durations = [
        "PT0S",
        "PT0.000000001S",
        "PT2S",
        "P99999Y",
        "PT18446744073.709551615S",
    ];
    let atos = ["0", "1.5", "INF", "18446744073"];
    let repeats = ["0", "-1", "5", "9223372036854775807"];
    let nows = [
        i128::MIN / 2,
        -1,
        0,
        1_795_903_200_000_000_000,
        i128::MAX / 2,
    ];
    for _ in 0..3_000 {
        let mut text = SHAPE.to_string();
        for (slot, options) in [
            ("{date}", &dates[..]),
            ("{dur}", &durations[..]),
            ("{u}", &unsigned[..]),
            ("{i}", &signed[..]),
            ("{ato}", &atos[..]),
            ("{r}", &repeats[..]),
        ] {
            while let Some(at) = text.find(slot) {
                text.replace_range(at..at + slot.len(), &pick(&mut rng, options));
            }
        }
        let Ok(live) = LivePresentation::parse(text.as_bytes(), &url) else {
            continue;
        };
        let mut recording = Recording::new();
        for rep in &live.representations {
            for &now in &nows {
                let segments = live.available_segments(rep, now, None, 8);
                let _ = live.available_segments(rep, now, Some(now), 8);
                let _ = live.expired_segments(rep, now, None, 8);
                let _ = live.live_edge(rep, now);
                let _ = live.oldest_available(rep, now);
                let _ = live.next_availability(rep, now);
                let _ = live.has_ended(now);
                for segment in &segments {
                    recording.add_segment(&live, rep, segment, "s.m4s");
                }
            }
        }
        let _ = live.end();
        let _ = recording.render();
    }
}
