//! The live side without a network: a dynamic manifest and a server time (the first 8 bytes,
//! an offset from availabilityStartTime) through the availability windows of every
//! Representation, the live `--list` (counted, then streamed when small), a recording of what
//! is available written as a static manifest and planned back, and the inband signals of the
//! bytes as a segment's head. Nothing may panic, hang or grow without bound.
#![no_main]

use dashget::live::LivePresentation;
use dashget::live::inband::inband_signals;
use dashget::live::recorder::LiveListing;
use dashget::live::recording::Recording;
use libfuzzer_sys::fuzz_target;
use url::Url;

/// Segments looked at per Representation (keeps each run short).
const MAX: usize = 64;

fuzz_target!(|data: &[u8]| {
    let _ = inband_signals(data);
    if data.len() < 8 {
        return;
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&data[..8]);
    // Any instant within about ±292 years of AST.
    let offset = i128::from(i64::from_le_bytes(offset));
    let manifest = &data[8..];
    let Ok(url) = Url::parse("http://origin.test/live/manifest.mpd") else {
        return;
    };
    let Ok(live) = LivePresentation::parse(manifest, &url) else {
        return;
    };
    let now = live.availability_start_time.saturating_add(offset);
    let mut recording = Recording::new();
    for rep in &live.representations {
        let _ = live.available_count(rep, now);
        let _ = live.live_edge(rep, now);
        let _ = live.next_availability(rep, now);
        let _ = live.shortest_segment(rep);
        let _ = live.period_end(rep);
        let expired = live.expired_segments(rep, now, None, MAX);
        let available = live.available_segments(rep, now, None, MAX);
        for s in expired.iter().chain(&available) {
            assert!(s.start <= s.end, "{s:?}");
        }
        if let Some((init, _)) = &rep.init {
            recording.add_init(&live, rep, init.path().trim_start_matches('/'));
        }
        for s in &available {
            let path = format!("{}/{}.m4s", rep.id.replace('/', "_"), s.number);
            recording.add_segment(&live, rep, s, &path);
        }
    }
    let text = recording.render();
    let local = Url::parse("file:///recording/manifest.mpd").expect("a file URL");
    if recording.segment_count() > 0 {
        // The recording's manifest is a manifest the crate reads back.
        if let Err(e) = dashget::mpd::parse_mpd(text.as_bytes()) {
            panic!("the recording's manifest does not parse: {e}\n{text}");
        }
        let _ = dashget::plan::plan(text.as_bytes(), &local);
    }
    let reps = live.representations.len() as u128;
    let listing = LiveListing::new(live, now, url, Vec::new());
    let _ = listing.nothing_because();
    if listing.count() <= 10_000 {
        let mut out = Vec::new();
        let lines = listing.write(true, &mut out).expect("writing to memory");
        assert!(lines as u128 <= listing.count() + reps, "{lines} lines");
    }
});
