//! MPD Patch on patches another implementation made: livesim2's own test vectors (an old
//! manifest, the patch its origin serves for it, the new manifest it must give), copied into
//! `tests/fixtures/mpd-patch/` (see the README there). Each patch applied to the old manifest
//! must give the new one: the same elements, attributes and text, in the same order.

use std::path::PathBuf;

use dashget::mpd::patch::apply_patch;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mpd-patch")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A document reduced to what it means: element names (with namespaces), attributes (sorted,
/// `xmlns` declarations left out), non-blank text; one line per node, indented by depth.
fn canonical(text: &str) -> String {
    let doc = roxmltree::Document::parse(text).unwrap();
    let mut out = String::new();
    fn walk(node: roxmltree::Node, depth: usize, out: &mut String) {
        for child in node.children() {
            if child.is_element() {
                let mut attrs: Vec<String> = child
                    .attributes()
                    .map(|a| {
                        format!(
                            "{{{}}}{}={}",
                            a.namespace().unwrap_or(""),
                            a.name(),
                            a.value()
                        )
                    })
                    .collect();
                attrs.sort();
                out.push_str(&format!(
                    "{}{{{}}}{} {}\n",
                    "  ".repeat(depth),
                    child.tag_name().namespace().unwrap_or(""),
                    child.tag_name().name(),
                    attrs.join(" ")
                ));
                walk(child, depth + 1, out);
            } else if let Some(t) = child
                .text()
                .filter(|t| !t.trim().is_empty() && child.is_text())
            {
                out.push_str(&format!("{}\"{}\"\n", "  ".repeat(depth), t.trim()));
            }
        }
    }
    walk(doc.root(), 0, &mut out);
    out
}

fn check(old: &str, patch: &str, new: &str, operations: usize) {
    let patched = apply_patch(&fixture(old), &fixture(patch))
        .unwrap_or_else(|e| panic!("{patch} on {old}: {e}"));
    let want = String::from_utf8(fixture(new)).unwrap();
    let (got, want) = (canonical(&patched.text), canonical(&want));
    if got != want {
        let diff: Vec<String> = got
            .lines()
            .zip(want.lines())
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("got  {a}\nwant {b}"))
            .collect();
        panic!("{patch} on {old} does not give {new}:\n{}", diff.join("\n"));
    }
    assert_eq!(patched.operations, operations, "{patch}");
    // The result is a manifest like any other.
    let mpd = dashget::mpd::parse_mpd(patched.text.as_bytes()).unwrap();
    assert_eq!(
        mpd.live.publish_time.map(|p| p.instant),
        Some(patched.publish_time.instant)
    );
}

#[test]
fn a_sliding_timeline_with_time_addressing() {
    check(
        "testpic_2s_1.mpd",
        "testpic_2s_patch.mpp",
        "testpic_2s_2.mpd",
        6,
    );
}

#[test]
fn a_sliding_timeline_with_number_addressing_moves_start_number() {
    check(
        "testpic_2s_snr_1.mpd",
        "testpic_2s_snr_patch.mpp",
        "testpic_2s_snr_2.mpd",
        8,
    );
}

#[test]
fn a_period_leaves_and_another_comes() {
    check(
        "multiperiod_1.mpd",
        "multiperiod_patch.mpp",
        "multiperiod_2.mpd",
        10,
    );
}

#[test]
fn at_a_period_change() {
    check(
        "segtimeline_multiper_full_min.mpd",
        "segtimeline_multiper_patch_after_full_min.mpp",
        "segtimeline_multiper_after_full_min.mpd",
        7,
    );
}

#[test]
fn a_patch_for_another_version_is_refused() {
    // The new manifest's patch does not apply to the manifest after it.
    let err = apply_patch(
        &fixture("testpic_2s_2.mpd"),
        &fixture("testpic_2s_patch.mpp"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("is for publishTime 2024-03-28T15:43:10Z"),
        "{err}"
    );
}
