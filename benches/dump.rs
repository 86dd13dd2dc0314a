//! Throughput of `dump_file` (text and JSON, verbosity 3) over the test fixtures, written to a
//! sink. Run with `cargo bench --bench dump`.

use std::fs;
use std::hint::black_box;
use std::io::{self, Cursor};
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dashget::dump::{DumpOptions, Format, dump_file};

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("mp4") | Some("m4s")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn bench(c: &mut Criterion) {
    let files: Vec<Vec<u8>> = fixture_files()
        .iter()
        .filter_map(|p| fs::read(p).ok())
        .collect();
    let total: u64 = files.iter().map(|f| f.len() as u64).sum();
    let mut group = c.benchmark_group("dump_file");
    group.throughput(Throughput::Bytes(total));
    for (name, format) in [("text", Format::Text), ("json", Format::Json)] {
        let opts = DumpOptions {
            verbosity: 3,
            format,
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                for f in &files {
                    let mut input = Cursor::new(f.as_slice());
                    let stats = dump_file(&mut input, f.len() as u64, &mut io::sink(), &opts);
                    black_box(stats.ok());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
