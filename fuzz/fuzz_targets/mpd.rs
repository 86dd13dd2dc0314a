//! Arbitrary bytes as a manifest: parse and plan must return (Ok or Err), never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://cdn.example/show/manifest.mpd").expect("static URL");
    if let Ok(plan) = dashget::plan::plan(data, &base) {
        for (_, segment) in plan.segments() {
            assert!(segment.path.components().all(|c| matches!(c, std::path::Component::Normal(_))));
        }
    }
});
