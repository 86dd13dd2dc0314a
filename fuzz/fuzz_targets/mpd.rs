//! Arbitrary bytes as a manifest: parse and plan must return (Ok or Err), never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://cdn.example/show/manifest.mpd").expect("static URL");
    if let Ok(plan) = dashget::plan::plan(data, &base) {
        // Bounded: a plan may hold up to 10 million segments.
        for (_, segment) in plan.segments().take(100_000) {
            assert!(segment.path.components().all(|c| matches!(c, std::path::Component::Normal(_))));
        }
        let (files, segments) = dashget::fetch::resource_totals(&plan);
        assert!(files <= segments);
        for resource in dashget::fetch::resources(&plan).take(100_000) {
            assert!(resource.segments >= 1);
        }
    }
});
