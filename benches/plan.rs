//! Throughput of manifest parsing and planning, every segment computed (the plan streams: a
//! segment is computed when it is reached): a real 5,600-segment manifest and a synthetic
//! SegmentTimeline of 100,000 segments. Run with `cargo bench --bench plan`.
//! `benches/plan_scale.sh` measures `--list` of 2,000,002 segments (time and peak memory).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dashget::plan::plan;
use url::Url;

fn bench_plan(c: &mut Criterion) {
    let base = Url::parse("https://cdn.example/show/manifest.mpd").expect("URL");
    let real = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests/realworld/a2d-tv.mpd"),
    )
    .expect("fixture");
    let synthetic = format!(
        r#"<MPD type="static" mediaPresentationDuration="PT100000S"><Period><AdaptationSet>
        <SegmentTemplate timescale="1000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Time%012d$.m4s">
        <SegmentTimeline><S t="0" d="1000" r="{}"/></SegmentTimeline></SegmentTemplate>
        <Representation id="v1" bandwidth="1"/></AdaptationSet></Period></MPD>"#,
        100_000 - 1
    );
    let mut group = c.benchmark_group("plan");
    for (name, bytes) in [
        ("a2d-tv (5,601 segments)", real.as_slice()),
        ("timeline (100,001 segments)", synthetic.as_bytes()),
    ] {
        let segments = plan(bytes, &base).expect("plan").segments().count();
        group.throughput(Throughput::Elements(segments as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let plan = plan(black_box(bytes), &base).expect("plan");
                black_box(plan.segments().count())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_plan);
criterion_main!(benches);
