//! ffmpeg-made presentations plan to exactly the files of their folders.

use std::collections::BTreeSet;
use std::path::Path;

use dashget::plan::{SegmentKind, plan};

fn files_under(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name);
        }
    }
}

#[test]
fn every_addressing_mode_plans_to_its_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dash");
    for mode in [
        "template-number",
        "template-time",
        "segment-list",
        "single-file",
        "segment-base",
        "webm",
    ] {
        let dir = root.join(mode);
        let manifest = dir.join("manifest.mpd");
        let bytes = std::fs::read(&manifest).expect("manifest");
        let url = url::Url::from_file_path(&manifest).expect("file URL");
        let plan = plan(&bytes, &url).unwrap_or_else(|e| panic!("{mode}: {e}"));
        let planned: BTreeSet<String> = plan
            .segments()
            .map(|(_, s)| s.path.to_string_lossy().into_owned())
            .collect();
        let mut on_disk = BTreeSet::new();
        files_under(&dir, "", &mut on_disk);
        on_disk.remove("manifest.mpd");
        assert_eq!(planned, on_disk, "{mode}");
        // Every representation starts with its init segment, except a bare BaseURL.
        for rep in &plan.representations {
            let kinds: Vec<SegmentKind> = rep.segments().map(|s| s.kind).collect();
            assert!(
                kinds.iter().skip(1).all(|k| *k == SegmentKind::Media),
                "{mode} {}",
                rep.id
            );
        }
    }
}

#[test]
fn byte_ranges_tile_the_single_files() {
    // In `single-file`, the init range and the media ranges of a representation cover its
    // file from byte 0 to its last byte, without gap or overlap.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dash/single-file");
    let manifest = dir.join("manifest.mpd");
    let url = url::Url::from_file_path(&manifest).expect("file URL");
    let plan = plan(&std::fs::read(&manifest).expect("read"), &url).expect("plan");
    for rep in &plan.representations {
        let mut next = 0;
        for segment in rep.segments() {
            let range = segment.range.expect("ranged");
            assert_eq!(range.first, next, "{}", rep.id);
            next = range.last + 1;
        }
        let size = std::fs::metadata(dir.join(rep.segments().next().expect("segment").path))
            .expect("file")
            .len();
        assert_eq!(next, size, "{}", rep.id);
    }
}
