//! Every real-world manifest loads: planned, refused as live (exit 2), or rejected as broken.

use std::path::Path;

use assert_cmd::Command;

fn corpus() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests/realworld");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Manifests that hold nothing to download (a Period of events only): refused with the reason.
const EMPTY: &[&str] = &["telestream-binary.xml", "telestream-elements.xml"];

/// Manifests that need the wall clock (dynamic, `@duration` numbering from the live edge).
const LIVE: &[&str] = &[
    "dashif-live-atoinf.mpd",
    "dashif-low-latency.mpd",
    "f64-inf.mpd",
];

#[test]
fn every_real_world_manifest_is_handled() {
    let files = corpus();
    assert_eq!(files.len(), 27);
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let out = Command::cargo_bin("dashget")
            .expect("binary")
            .args([
                "--list",
                "--json",
                "--base-url",
                "https://cdn.example/show/manifest.mpd",
            ])
            .arg(&file)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if name == "incomplete.mpd" {
            assert_eq!(out.status.code(), Some(2), "{name}");
            assert!(
                stderr.contains("incomplete.mpd") && stderr.contains("not valid XML"),
                "{name}: {stderr}"
            );
        } else if EMPTY.contains(&name.as_str()) {
            assert_eq!(out.status.code(), Some(2), "{name}");
            assert!(
                stderr.contains("nothing to download: period 0: no AdaptationSet"),
                "{name}: {stderr}"
            );
        } else if LIVE.contains(&name.as_str()) {
            assert_eq!(out.status.code(), Some(2), "{name}");
            assert!(
                stderr.contains(
                    "a live manifest whose segments depend on the clock is recorded from its URL"
                ),
                "{name}: {stderr}"
            );
        } else {
            assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("json line");
                assert!(
                    v["url"].as_str().is_some_and(|u| u.starts_with("http")),
                    "{name}: {line}"
                );
                let path = v["path"].as_str().expect("path");
                assert!(
                    !path.starts_with('/') && !path.split('/').any(|c| c == ".." || c.is_empty()),
                    "{name}: {path}"
                );
            }
        }
        assert_eq!(
            stderr.lines().count(),
            usize::from(!out.status.success()),
            "{name}: one line on error: {stderr}"
        );
    }
}

#[test]
fn known_counts_of_real_world_manifests() {
    // Counted independently of the planner: a2d-tv has three AdaptationSets whose timelines
    // (sums of r+1) list 644, 636 and 616 segments, with 1, 1 and 7 representations, each with
    // an init segment: 645 + 637 + 7 × 617 = 5,601. st-sl is a SegmentList of one
    // representation with an init and 3 media segments.
    let count = |name: &str| {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/manifests/realworld")
            .join(name);
        let out = Command::cargo_bin("dashget")
            .expect("binary")
            .args(["--list", "--json"])
            .arg(file)
            .output()
            .expect("run");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(count("a2d-tv.mpd"), 5601);
    assert_eq!(count("st-sl.mpd"), 4);
}

/// Every segment grouped by local path, in order of first appearance, with one URL per path.
fn reference(plan: &dashget::plan::Plan) -> Vec<dashget::fetch::Resource> {
    let mut index = std::collections::HashMap::new();
    let mut out: Vec<dashget::fetch::Resource> = Vec::new();
    for (rep, s) in plan.segments() {
        let end = s.range.map_or(0, |r| r.last + 1);
        match index.get(&s.path) {
            Some(&i) => {
                let r: &mut dashget::fetch::Resource = &mut out[i];
                assert_eq!(r.url, s.url, "two URLs for {:?}", s.path);
                r.segments += 1;
                r.min_size = r.min_size.max(end);
            }
            None => {
                index.insert(s.path.clone(), out.len());
                out.push(dashget::fetch::Resource {
                    alternates: rep.alternates(&s.url),
                    index: rep.index_range,
                    url: s.url,
                    path: s.path,
                    segments: 1,
                    min_size: end,
                    identity: None,
                    whole_boxes: false,
                });
            }
        }
    }
    out
}

#[test]
fn resources_of_real_world_manifests_match_a_full_grouping() {
    let base = url::Url::parse("https://cdn.example/show/manifest.mpd").expect("url");
    let mut planned = 0;
    for file in corpus() {
        let bytes = std::fs::read(&file).expect("read");
        let Ok(plan) = dashget::plan::plan(&bytes, &base) else {
            continue;
        };
        planned += 1;
        let want = reference(&plan);
        let got: Vec<_> = dashget::fetch::resources(&plan).collect();
        assert_eq!(got, want, "{}", file.display());
        assert_eq!(
            dashget::fetch::resource_totals(&plan),
            (want.len(), want.iter().map(|r| r.segments).sum()),
            "{}",
            file.display()
        );
    }
    assert_eq!(planned, 21);
}
