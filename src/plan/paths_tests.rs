//! Shared files and renamed paths, checked against a reference that holds every path: for
//! each manifest, `fetch::resources` (which streams) equals the grouping of all segments by
//! path, and the families that reasoning sets apart are the expected ones.

use std::collections::HashMap;
use std::path::PathBuf;

use url::Url;

use crate::fetch::{Resource, resource_totals, resources};
use crate::plan::{Plan, plan};

/// Every segment grouped by local path, in order of first appearance (the engine's units).
fn reference(plan: &Plan) -> Vec<Resource> {
    let mut index: HashMap<PathBuf, usize> = HashMap::new();
    let mut out: Vec<Resource> = Vec::new();
    for (_, s) in plan.segments() {
        let end = s.range.map_or(0, |r| r.last + 1);
        match index.get(&s.path) {
            Some(&i) => {
                let (mut a, mut b) = (out[i].url.clone(), s.url.clone());
                a.set_fragment(None);
                b.set_fragment(None);
                assert_eq!(a, b, "two URLs for {:?}", s.path);
                out[i].segments += 1;
                out[i].min_size = out[i].min_size.max(end);
            }
            None => {
                index.insert(s.path.clone(), out.len());
                out.push(Resource {
                    url: s.url,
                    path: s.path,
                    segments: 1,
                    min_size: end,
                    identity: None,
                    alternates: Vec::new(),
                    index: None,
                    whole_boxes: false,
                });
            }
        }
    }
    out
}

/// The local paths as the plan named them when it held every segment: raw paths, then the
/// query in the names of every path that different URLs (fragments aside) share.
fn paths_holding_everything(plan: &Plan) -> Vec<PathBuf> {
    let raw: Vec<(Url, PathBuf)> = plan
        .representations
        .iter()
        .flat_map(|r| {
            let generated = r.source.generated.iter().flat_map(|g| g.raw_segments());
            r.source.listed.iter().cloned().chain(generated)
        })
        .map(|s| (s.url, s.path))
        .collect();
    let mut owner: HashMap<&PathBuf, &str> = HashMap::new();
    let mut colliding = std::collections::HashSet::new();
    for (url, path) in &raw {
        let resource = url.as_str().split('#').next().unwrap_or_default();
        if *owner.entry(path).or_insert(resource) != resource {
            colliding.insert(path.clone());
        }
    }
    raw.iter()
        .map(|(url, path)| {
            if colliding.contains(path) {
                crate::layout::with_query_suffix(path, url)
            } else {
                path.clone()
            }
        })
        .collect()
}

/// Plans `xml` at `manifest`, checks resources against the reference, returns the plan.
pub(crate) fn checked_plan(xml: &str, manifest: &str) -> Plan {
    let plan = plan(xml.as_bytes(), &Url::parse(manifest).expect("url"))
        .unwrap_or_else(|e| panic!("plan: {e}"));
    // The same paths as a plan that held every segment (where that gave distinct files).
    let before = paths_holding_everything(&plan);
    let now: Vec<PathBuf> = plan.segments().map(|(_, s)| s.path).collect();
    let mut url_of: HashMap<&PathBuf, Url> = HashMap::new();
    let before_was_sound = plan.segments().zip(&before).all(|((_, s), p)| {
        let mut url = s.url;
        url.set_fragment(None);
        url_of.entry(p).or_insert_with(|| url.clone()) == &url
    });
    if before_was_sound {
        assert_eq!(now, before);
    }
    let want = reference(&plan);
    let got: Vec<Resource> = resources(&plan).collect();
    assert_eq!(got, want);
    assert_eq!(
        resource_totals(&plan),
        (want.len(), want.iter().map(|r| r.segments).sum())
    );
    plan
}

fn checked_families(plan: &Plan) -> Vec<bool> {
    plan.representations
        .iter()
        .filter_map(|r| r.source.generated.as_ref().map(|g| g.checked))
        .collect()
}

const M: &str = "https://cdn.example/show/manifest.mpd";

fn one_period(body: &str) -> String {
    format!(
        r#"<MPD type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet>{body}</AdaptationSet></Period></MPD>"#
    )
}

#[test]
fn families_and_files() {
    let two_reps = |template: &str| {
        one_period(&format!(
            r#"<SegmentTemplate duration="1" {template}/><Representation id="a"/><Representation id="b"/>"#
        ))
    };
    // (manifest, files, segments, checked families, paths of the first representation)
    type Row = (String, usize, usize, Vec<bool>, Vec<&'static str>);
    let rows: Vec<Row> = vec![
        (
            two_reps(
                r#"initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s""#,
            ),
            10,
            10,
            vec![false, false],
            vec!["a/init.mp4", "a/1.m4s", "a/2.m4s", "a/3.m4s", "a/4.m4s"],
        ),
        (
            // No $RepresentationID$: both representations name the same files.
            two_reps(r#"initialization="init.mp4" media="seg-$Number$.m4s""#),
            5,
            10,
            vec![true, true],
            vec![
                "init.mp4",
                "seg-1.m4s",
                "seg-2.m4s",
                "seg-3.m4s",
                "seg-4.m4s",
            ],
        ),
        (
            // The number only in the query: the query goes into the names.
            two_reps(r#"media="get?r=$RepresentationID$&amp;n=$Number$""#),
            8,
            8,
            vec![false, false],
            vec!["get_r=a&n=1", "get_r=a&n=2", "get_r=a&n=3", "get_r=a&n=4"],
        ),
        (
            // No identifier that varies: one file of four segments.
            one_period(
                r#"<Representation id="a"><SegmentTemplate duration="1" media="whole.mp4"/></Representation>"#,
            ),
            1,
            4,
            vec![false],
            vec!["whole.mp4"; 4],
        ),
        (
            // The init segment is media segment 0's file.
            one_period(
                r#"<Representation id="a"><SegmentTemplate duration="1" startNumber="0" initialization="0.m4s" media="$Number$.m4s"/></Representation>"#,
            ),
            4,
            5,
            vec![true],
            vec!["0.m4s", "0.m4s", "1.m4s", "2.m4s", "3.m4s"],
        ),
        (
            // Sub-segments without $SubNumber$ follow each other in one file.
            one_period(
                r#"<Representation id="a"><SegmentTemplate media="$Time$.m4s"><SegmentTimeline><S t="0" d="2" k="2" r="1"/></SegmentTimeline></SegmentTemplate></Representation>"#,
            ),
            2,
            4,
            vec![false],
            vec!["0.m4s", "0.m4s", "2.m4s", "2.m4s"],
        ),
        (
            // Numbers that repeat (S@n restarts them): checked exactly.
            one_period(
                r#"<Representation id="a"><SegmentTemplate media="$Number$.m4s"><SegmentTimeline><S t="0" d="1" r="1"/><S n="1" d="1"/></SegmentTimeline></SegmentTemplate></Representation>"#,
            ),
            2,
            3,
            vec![true],
            vec!["1.m4s", "2.m4s", "1.m4s"],
        ),
        (
            // Byte ranges of one file, and a SegmentBase file with its init range.
            one_period(
                r#"<Representation id="a"><BaseURL>a.mp4</BaseURL><SegmentList duration="1"><Initialization range="0-9"/><SegmentURL mediaRange="10-19"/><SegmentURL mediaRange="20-29"/></SegmentList></Representation><Representation id="b"><BaseURL>a.mp4</BaseURL><SegmentBase><Initialization range="0-9"/></SegmentBase></Representation>"#,
            ),
            1,
            5,
            vec![],
            vec!["a.mp4"; 3],
        ),
    ];
    for (xml, files, segments, checked, paths) in rows {
        let plan = checked_plan(&xml, M);
        assert_eq!(resource_totals(&plan), (files, segments), "{xml}");
        assert_eq!(checked_families(&plan), checked, "{xml}");
        let got: Vec<String> = plan.representations[0]
            .segments()
            .map(|s| s.path.to_string_lossy().into_owned())
            .collect();
        assert_eq!(got, paths, "{xml}");
    }
}

#[test]
fn periods_with_one_template_are_apart_when_their_numbers_are() {
    let periods = |second_start: u64| {
        format!(
            r#"<MPD type="static" mediaPresentationDuration="PT8S"><Period duration="PT4S"><AdaptationSet><SegmentTemplate duration="1" media="$RepresentationID$/$Number$.m4s"/><Representation id="a"/></AdaptationSet></Period><Period><AdaptationSet><SegmentTemplate duration="1" startNumber="{second_start}" media="$RepresentationID$/$Number$.m4s"/><Representation id="a"/></AdaptationSet></Period></MPD>"#
        )
    };
    // Numbers 1-4 then 5-8: apart. 1-4 twice: the same files.
    let plan = checked_plan(&periods(5), M);
    assert_eq!(checked_families(&plan), vec![false, false]);
    assert_eq!(resource_totals(&plan), (8, 8));
    let plan = checked_plan(&periods(1), M);
    assert_eq!(checked_families(&plan), vec![true, true]);
    assert_eq!(resource_totals(&plan), (4, 8));
}

#[test]
fn patterns_the_layout_could_treat_unevenly_are_checked() {
    // The manifest's folder is /s1/: /s1/x.m4s is below it, /s12/x.m4s is not.
    let xml = one_period(
        r#"<Representation id="a"><SegmentTemplate duration="1" startNumber="1" media="/s$Number$/x.m4s"/></Representation><Representation id="b"><SegmentTemplate duration="1" media="/s1/$Number$.m4s"/></Representation>"#,
    );
    let plan = checked_plan(&xml, "https://cdn.example/s1/m.mpd");
    assert_eq!(checked_families(&plan), vec![true, true]);
    let first: Vec<String> = plan
        .segments()
        .map(|(_, s)| s.path.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        first,
        vec![
            "x.m4s",
            "cdn.example/s2/x.m4s",
            "cdn.example/s3/x.m4s",
            "cdn.example/s4/x.m4s",
            "1.m4s",
            "2.m4s",
            "3.m4s",
            "4.m4s"
        ]
    );
    // Two identifiers side by side (1-23 and 12-3 read alike), a literal '%': checked.
    for media in ["$Number$$Time$.m4s", "a%2$Number$.m4s"] {
        let xml = one_period(&format!(
            r#"<Representation id="a"><SegmentTemplate duration="1" media="{media}"/></Representation>"#
        ));
        assert_eq!(
            checked_families(&checked_plan(&xml, M)),
            vec![true],
            "{media}"
        );
    }
}

#[test]
fn different_urls_for_one_path_are_renamed() {
    // Listed URLs that differ in their query, and two templates that do.
    let xml = one_period(
        r#"<Representation id="a"><SegmentList><SegmentURL media="get?seg=1"/><SegmentURL media="get?seg=2"/><SegmentURL media="get?seg=2"/></SegmentList></Representation><Representation id="b"><SegmentTemplate duration="1" media="t/$Number$.m4s?v=1"/></Representation><Representation id="c"><SegmentTemplate duration="1" media="t/$Number$.m4s?v=2"/></Representation>"#,
    );
    let plan = checked_plan(&xml, M);
    let paths: Vec<Vec<String>> = plan
        .representations
        .iter()
        .map(|r| {
            r.segments()
                .take(2)
                .map(|s| s.path.to_string_lossy().into_owned())
                .collect()
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            vec!["get_seg=1", "get_seg=2"],
            vec!["t/1.m4s_v=1", "t/2.m4s_v=1"],
            vec!["t/1.m4s_v=2", "t/2.m4s_v=2"]
        ]
    );
}

#[test]
fn the_cap_is_checked_on_counts() {
    // One year of 4 s segments in two representations: 7,884,000 each, 15,768,000 in all.
    let xml = r#"<MPD type="static" mediaPresentationDuration="P365D"><Period><AdaptationSet><SegmentTemplate duration="4" media="$RepresentationID$/$Number$.m4s"/><Representation id="a"/><Representation id="b"/></AdaptationSet></Period></MPD>"#;
    assert_eq!(
        plan(xml.as_bytes(), &Url::parse(M).expect("url")),
        Err(crate::plan::PlanError::TooManySegments)
    );
    // One of them is under the cap: planned, counted, nothing expanded.
    let one = xml.replace(r#"<Representation id="b"/>"#, "");
    let plan = plan(one.as_bytes(), &Url::parse(M).expect("url")).expect("plan");
    assert_eq!(plan.segment_count(), 7_884_000);
    assert_eq!(plan.file_count(), 7_884_000);
}

#[test]
fn extreme_values_give_errors_never_overflows() {
    let max = u64::MAX;
    let imax = i64::MAX;
    let timeline = |attrs: &str, s: &str| {
        format!(
            r#"<MPD type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet><Representation id="a"><SegmentTemplate {attrs} media="$Number$-$Time$"><SegmentTimeline>{s}</SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>"#
        )
    };
    let duration = |mpd: &str, attrs: &str| {
        format!(
            r#"<MPD type="static" {mpd}><Period><AdaptationSet><Representation id="a"><SegmentTemplate {attrs} media="$Number$-$Time$"/></Representation></AdaptationSet></Period></MPD>"#
        )
    };
    // (manifest, expected error text, or the number of segments)
    let rows: Vec<(String, Result<usize, &str>)> = vec![
        (
            timeline("", &format!(r#"<S t="{imax}" d="{max}" r="1"/>"#)),
            Err("$Number$ or $Time$ of its last segment overflows"),
        ),
        (
            timeline("", r#"<S t="-9223372036854775808" d="1" r="-1"/>"#),
            Err("more than 10000000 segments"),
        ),
        (
            timeline(
                &format!(r#"startNumber="{max}""#),
                r#"<S t="0" d="1" r="1"/>"#,
            ),
            Err("$Number$ or $Time$ of its last segment overflows"),
        ),
        (
            timeline(&format!(r#"startNumber="{max}""#), r#"<S t="0" d="1"/>"#),
            Ok(1),
        ),
        (
            timeline(
                &format!(r#"presentationTimeOffset="{max}" timescale="{max}""#),
                r#"<S t="0" d="1" r="-1"/>"#,
            ),
            Err("more than 10000000 segments"),
        ),
        (
            duration(
                r#"mediaPresentationDuration="PT1S""#,
                &format!(r#"timescale="{max}" duration="1""#),
            ),
            Err("more than 10000000 segments"),
        ),
        (
            duration(
                r#"mediaPresentationDuration="PT2S""#,
                &format!(r#"startNumber="{max}" duration="1""#),
            ),
            Err("$Number$ or $Time$ of the last segment overflows"),
        ),
        (
            duration(
                r#"mediaPresentationDuration="PT2S""#,
                &format!(r#"startNumber="{max}" endNumber="{max}" duration="1""#),
            ),
            Ok(1),
        ),
        (
            duration(
                r#"mediaPresentationDuration="PT2S""#,
                &format!(r#"presentationTimeOffset="{max}""#),
            ),
            Err("@presentationTimeOffset is too large"),
        ),
        (
            // Segment 9 starts at 9 × (2^64 - 1): past $Time$'s range.
            duration(
                r#"mediaPresentationDuration="PT10S""#,
                &format!(r#"duration="{max}" timescale="{max}""#),
            ),
            Err("$Number$ or $Time$ of the last segment overflows"),
        ),
    ];
    let base = Url::parse(M).expect("url");
    for (xml, want) in rows {
        match (plan(xml.as_bytes(), &base), want) {
            (Ok(p), Ok(n)) => {
                assert_eq!(p.segments().count(), n, "{xml}");
                assert_eq!(resources(&p).map(|r| r.segments).sum::<usize>(), n);
            }
            (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{xml}: {e}"),
            (got, want) => panic!(
                "{xml}: {:?} against {want:?}",
                got.map(|p| p.segment_count())
            ),
        }
    }
}

/// A template of 1 to 4 pieces that meet in tricky ways: identifiers side by side, in the
/// query or the fragment, after a '%'.
fn random_template(rng: &mut fastrand::Rng) -> String {
    const PIECES: [&str; 16] = [
        "a",
        "/",
        "-",
        "s1/",
        "%2",
        ".m4s",
        "?q=",
        "#f",
        "1",
        "_",
        "$Number$",
        "$Time$",
        "$Number%03d$",
        "$SubNumber$",
        "$RepresentationID$",
        "$Time%x$",
    ];
    (0..rng.usize(1..5))
        .map(|_| PIECES[rng.usize(..PIECES.len())])
        .collect()
}

/// A SegmentTemplate with `@duration` or a short timeline (repeated or falling numbers and
/// times, sub-segments).
fn random_segment_template(rng: &mut fastrand::Rng) -> String {
    let media = random_template(rng);
    // An init segment may name the file of a media segment ("1.m4s").
    const INIT: [&str; 6] = ["init", "$RepresentationID$", "/", "1", ".m4s", "0"];
    let init = if rng.bool() {
        let name: String = (0..rng.usize(1..4))
            .map(|_| INIT[rng.usize(..INIT.len())])
            .collect();
        format!(r#" initialization="{name}""#)
    } else {
        String::new()
    };
    if rng.bool() {
        return format!(
            r#"<SegmentTemplate media="{media}"{init} duration="{}" startNumber="{}"/>"#,
            rng.u32(1..3),
            rng.u32(0..3)
        );
    }
    let mut entries = String::new();
    for _ in 0..rng.usize(1..3) {
        let t = if rng.bool() {
            format!(r#" t="{}""#, rng.i32(-2..6))
        } else {
            String::new()
        };
        let n = if rng.u8(..4) == 0 { r#" n="1""# } else { "" };
        let k = if rng.u8(..4) == 0 { r#" k="2""# } else { "" };
        entries.push_str(&format!(
            r#"<S{t}{n}{k} d="{}" r="{}"/>"#,
            rng.u32(1..3),
            rng.u32(0..3)
        ));
    }
    format!(
        r#"<SegmentTemplate media="{media}"{init}><SegmentTimeline>{entries}</SegmentTimeline></SegmentTemplate>"#
    )
}

#[test]
fn random_templates_agree_with_the_full_grouping() {
    // A fixed seed: the same manifests on every run (seeds 1 to 8, 3,000 manifests each, agreed
    // too).
    let mut rng = fastrand::Rng::with_seed(23009);
    let bases = ["", "sub/", "/s1/", "/s", "https://other.example/x/"];
    let manifest = "https://cdn.example/s1/m.mpd";
    let mut planned = 0;
    for _ in 0..600 {
        let mut periods = String::new();
        for _ in 0..rng.usize(1..3) {
            let mut reps = String::new();
            for r in 0..rng.usize(1..4) {
                let base = bases[rng.usize(..bases.len())];
                let template = random_segment_template(&mut rng);
                reps.push_str(&format!(
                    r#"<Representation id="r{r}"><BaseURL>{base}</BaseURL>{template}</Representation>"#
                ));
            }
            periods.push_str(&format!(
                r#"<Period duration="PT4S"><AdaptationSet>{reps}</AdaptationSet></Period>"#
            ));
        }
        let xml = format!(r#"<MPD type="static">{periods}</MPD>"#).replace('&', "&amp;");
        if plan(xml.as_bytes(), &Url::parse(manifest).expect("url")).is_ok() {
            checked_plan(&xml, manifest);
            planned += 1;
        }
    }
    assert!(planned > 300, "{planned}");
}
