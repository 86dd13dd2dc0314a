//! DESIGN.md "More of the plan": URL query parameters, index and bitstream-switching segments,
//! the Period's end for SegmentList, a template of one segment, clear refusals, warnings,
//! checked byte ranges.

use std::path::PathBuf;

use url::Url;

use super::*;

#[test]
fn url_query_parameters_reach_the_segments_of_their_scope() {
    const UP: &str = r#"xmlns:up="urn:mpeg:dash:schema:urlparam:2014""#;
    let manifest = Url::parse("https://cdn.example/show/manifest.mpd?token=abc").expect("url");
    let plan_with = |xml: &str| plan(xml.as_bytes(), &manifest).expect("plan");
    let property = |kind: &str, attrs: &str| {
        format!(
            r#"<{kind} schemeIdUri="urn:mpeg:dash:urlparam:2014"><up:UrlQueryInfo {attrs}/></{kind}>"#
        )
    };
    let rep = |id: &str, extra: &str| {
        format!(
            r#"<Representation id="{id}">{extra}<SegmentTemplate duration="1" initialization="{id}/i.mp4" media="{id}/$Number$.m4s"/></Representation>"#
        )
    };
    // (where the descriptor is, expected URLs of representation a (init, 1, 2) and b (init)).
    let as_level = property(
        "EssentialProperty",
        r#"queryTemplate="$querypart$" useMPDUrlQuery="true""#,
    );
    let rep_level = property(
        "SupplementalProperty",
        r#"queryTemplate="k=$query:token$" useMPDUrlQuery="true" queryString="x=1""#,
    );
    let rows: Vec<(String, Vec<&str>, &str)> = vec![
        (
            format!(
                "<AdaptationSet>{as_level}{}{}</AdaptationSet>",
                rep("a", ""),
                rep("b", "")
            ),
            vec![
                "a/i.mp4?token=abc",
                "a/1.m4s?token=abc",
                "a/2.m4s?token=abc",
            ],
            "b/i.mp4?token=abc",
        ),
        (
            format!(
                "<AdaptationSet>{}{}</AdaptationSet>",
                rep("a", &rep_level),
                rep("b", "")
            ),
            vec!["a/i.mp4?k=abc", "a/1.m4s?k=abc", "a/2.m4s?k=abc"],
            "b/i.mp4",
        ),
        (
            // Both levels: the Representation's string first (2014 form).
            format!(
                "<AdaptationSet>{as_level}{}{}</AdaptationSet>",
                rep("a", &rep_level),
                rep("b", "")
            ),
            vec![
                "a/i.mp4?k=abc&token=abc",
                "a/1.m4s?k=abc&token=abc",
                "a/2.m4s?k=abc&token=abc",
            ],
            "b/i.mp4?token=abc",
        ),
    ];
    for (body, want_a, want_b) in rows {
        let xml = format!(
            r#"<MPD {UP} type="static" mediaPresentationDuration="PT2S"><Period>{body}</Period></MPD>"#
        );
        let plan = plan_with(&xml);
        let a: Vec<String> = plan.representations[0]
            .segments()
            .map(|s| s.url.to_string())
            .collect();
        let want: Vec<String> = want_a.iter().map(|p| u(p)).collect();
        assert_eq!(a, want, "{body}");
        assert_eq!(
            plan.representations[1]
                .segments()
                .next()
                .expect("segment")
                .url
                .to_string(),
            u(want_b)
        );
        // The query takes no part in local paths.
        assert_eq!(
            plan.representations[0]
                .segments()
                .nth(1)
                .expect("segment")
                .path,
            PathBuf::from("a/1.m4s")
        );
    }
    // At MPD level, over a SegmentList with its own query.
    let xml = format!(
        r#"<MPD {UP} type="static"><SupplementalProperty schemeIdUri="urn:mpeg:dash:urlparam:2016"><up:ExtUrlQueryInfo useMPDUrlQuery="true" queryTemplate="$querypart$"/></SupplementalProperty><Period><AdaptationSet><Representation id="a"><SegmentList><SegmentURL media="s.m4s?n=1"/></SegmentList></Representation></AdaptationSet></Period></MPD>"#
    );
    assert_eq!(
        plan_with(&xml).representations[0]
            .segments()
            .next()
            .expect("segment")
            .url
            .to_string(),
        u("s.m4s?n=1&token=abc")
    );
}

#[test]
fn url_query_info_through_xlink_is_refused() {
    let xml = r#"<MPD xmlns:xlink="http://www.w3.org/1999/xlink" type="static"><Period><AdaptationSet><EssentialProperty schemeIdUri="urn:mpeg:dash:urlparam:2014"><UrlQueryInfo xlink:href="https://q.example/info.xml"/></EssentialProperty><Representation id="a"><BaseURL>a.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>"#;
    assert_eq!(
        plan_str(xml).expect_err("xlink").to_string(),
        "MPD/Period[0]/AdaptationSet[0]/EssentialProperty/UrlQueryInfo: URL query information delivered through xlink (xlink:href=\"https://q.example/info.xml\") is not supported"
    );
}

#[test]
fn index_and_bitstream_switching_segments_come_after_init_before_media() {
    type Kinds = Vec<(&'static str, String, Option<String>)>;
    let kinds = |xml: &str| -> Kinds { rows(xml).into_iter().map(|r| (r.0, r.1, r.2)).collect() };
    let rows: Vec<(&str, Kinds)> = vec![
        (
            r#"<Representation id="a"><SegmentTemplate duration="1" initialization="$RepresentationID$/i.mp4" index="$RepresentationID$/idx.sidx" bitstreamSwitching="$RepresentationID$/bs.mp4" media="$RepresentationID$/$Number$.m4s"/></Representation>"#,
            vec![
                ("init", u("a/i.mp4"), None),
                ("index", u("a/idx.sidx"), None),
                ("bitstream-switching", u("a/bs.mp4"), None),
                ("media", u("a/1.m4s"), None),
            ],
        ),
        (
            // Elements, inherited from the AdaptationSet's template; the attribute wins.
            r#"<Representation id="a"><SegmentTemplate duration="1" media="$Number$.m4s"><RepresentationIndex sourceURL="index.sidx" range="0-99"/><BitstreamSwitching sourceURL="bs.mp4"/></SegmentTemplate></Representation>"#,
            vec![
                ("index", u("index.sidx"), Some("0-99".into())),
                ("bitstream-switching", u("bs.mp4"), None),
                ("media", u("1.m4s"), None),
            ],
        ),
        (
            r#"<Representation id="a"><BaseURL>a.mp4</BaseURL><SegmentBase indexRange="800-999"><Initialization range="0-799"/><RepresentationIndex range="800-999"/></SegmentBase></Representation>"#,
            vec![
                ("init", u("a.mp4"), Some("0-799".into())),
                ("index", u("a.mp4"), Some("800-999".into())),
                ("media", u("a.mp4"), None),
            ],
        ),
        (
            r#"<Representation id="a"><SegmentList duration="1"><Initialization sourceURL="i.mp4"/><BitstreamSwitching sourceURL="bs.mp4"/><RepresentationIndex sourceURL="x.sidx"/><SegmentURL media="s1.m4s"/></SegmentList></Representation>"#,
            vec![
                ("init", u("i.mp4"), None),
                ("index", u("x.sidx"), None),
                ("bitstream-switching", u("bs.mp4"), None),
                ("media", u("s1.m4s"), None),
            ],
        ),
    ];
    for (body, want) in rows {
        let xml = mpd(r#"mediaPresentationDuration="PT1S""#, body);
        assert_eq!(kinds(&xml), want, "{body}");
    }
    // An inherited @index and an overriding one.
    let xml = mpd(
        r#"mediaPresentationDuration="PT1S""#,
        r#"<SegmentTemplate index="up.sidx" duration="1" media="$RepresentationID$-$Number$.m4s"/><Representation id="a"/><Representation id="b"><SegmentTemplate index="b.sidx"/></Representation>"#,
    );
    let plan = plan_str(&xml).expect("plan");
    let index_urls: Vec<String> = plan
        .segments()
        .filter(|(_, s)| s.kind == SegmentKind::Index)
        .map(|(_, s)| s.url.to_string())
        .collect();
    assert_eq!(index_urls, vec![u("up.sidx"), u("b.sidx")]);
    // One index segment per media segment (§5.3.9.4.2): each after the media segment it
    // indexes, with its number and time; the paths are checked exactly.
    let xml = mpd(
        r#"mediaPresentationDuration="PT3S""#,
        r#"<Representation id="a"><SegmentTemplate duration="1" initialization="init.mp4" index="idx/$Number$.sidx" media="$Number$.m4s"/></Representation>"#,
    );
    let plan = plan_str(&xml).expect("per-segment index");
    let listed: Vec<(SegmentKind, String, Option<u64>)> = plan
        .segments()
        .map(|(_, s)| (s.kind, s.path.to_string_lossy().into_owned(), s.number))
        .collect();
    assert_eq!(
        listed,
        vec![
            (SegmentKind::Init, "init.mp4".into(), None),
            (SegmentKind::Media, "1.m4s".into(), Some(1)),
            (SegmentKind::Index, "idx/1.sidx".into(), Some(1)),
            (SegmentKind::Media, "2.m4s".into(), Some(2)),
            (SegmentKind::Index, "idx/2.sidx".into(), Some(2)),
            (SegmentKind::Media, "3.m4s".into(), Some(3)),
            (SegmentKind::Index, "idx/3.sidx".into(), Some(3)),
        ]
    );
    assert_eq!(plan.segment_count(), 7);
    assert_eq!(plan.file_count(), 7);
    // An index template that names one file for every segment: one file, shared.
    let xml = mpd(
        r#"mediaPresentationDuration="PT3S""#,
        r#"<Representation id="a"><SegmentTemplate duration="1" index="all.sidx?n=$Number$" media="$Number$.m4s"/></Representation>"#,
    );
    let plan = plan_str(&xml).expect("plan");
    assert_eq!(plan.segment_count(), 6);
    // $Number$ only in the query: the paths get the query in their names.
    let paths: std::collections::BTreeSet<String> = plan
        .segments()
        .filter(|(_, s)| s.kind == SegmentKind::Index)
        .map(|(_, s)| s.path.to_string_lossy().into_owned())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
}

#[test]
fn segment_list_entries_from_the_period_end_on_are_not_planned() {
    let list = |timing: &str, n: usize| {
        let urls: String = (1..=n)
            .map(|i| format!(r#"<SegmentURL media="s{i}.m4s"/>"#))
            .collect();
        format!(
            r#"<Representation id="a"><SegmentList {timing}>{urls}</SegmentList></Representation>"#
        )
    };
    // (MPD attributes, SegmentList attributes and timeline, listed, expected media count)
    let rows: &[(&str, &str, usize, usize)] = &[
        // 2 s of 1 s segments: the third starts at the end.
        (
            r#"mediaPresentationDuration="PT2S""#,
            r#"timescale="1000" duration="1000""#,
            3,
            2,
        ),
        // 2.5 s: the third starts at 2 s, before the end; the fourth at 3 s.
        (
            r#"mediaPresentationDuration="PT2.5S""#,
            r#"timescale="1000" duration="1000""#,
            4,
            3,
        ),
        // Fractional @duration: 1.5 ticks of 1 s; 3 s hold starts 0, 1.5 (3 is the end).
        (
            r#"mediaPresentationDuration="PT3S""#,
            r#"duration="1.5""#,
            3,
            2,
        ),
        // Unknown Period duration: every listed segment.
        ("", r#"duration="1""#, 3, 3),
        // No timing at all: every listed segment.
        (r#"mediaPresentationDuration="PT1S""#, "", 3, 3),
    ];
    for (mpd_attrs, timing, listed, want) in rows {
        let xml = mpd(mpd_attrs, &list(timing, *listed));
        assert_eq!(urls(&xml).len(), *want, "{mpd_attrs} {timing}");
    }
    // With a timeline: on the media timeline, presentationTimeOffset included. The Period is
    // 2 s × 10 = 20 ticks, from PTO 100 to 120: starts 100, 110 belong; 120 does not.
    let xml = mpd(
        r#"mediaPresentationDuration="PT2S""#,
        r#"<Representation id="a"><SegmentList timescale="10" presentationTimeOffset="100"><SegmentTimeline><S t="100" d="10" r="2"/></SegmentTimeline><SegmentURL media="a.m4s"/><SegmentURL media="b.m4s"/><SegmentURL media="c.m4s"/></SegmentList></Representation>"#,
    );
    assert_eq!(media_times(&xml), vec![(1, 100), (2, 110)]);
}

#[test]
fn a_template_without_duration_or_timeline_is_one_media_segment() {
    // (MPD attributes, template attributes, expected media (url, number, time, duration)).
    type Expected = (&'static str, Option<u64>, Option<i64>, Option<u64>);
    let cases: &[(&str, &str, Expected)] = &[
        (
            r#"mediaPresentationDuration="PT10S""#,
            r#"timescale="1000" media="$RepresentationID$-$Number$.mp4""#,
            ("a-1.mp4", Some(1), Some(0), Some(10_000)),
        ),
        (
            "",
            r#"startNumber="7" presentationTimeOffset="90" media="n$Number%03d$-t$Time$.mp4""#,
            ("n007-t90.mp4", Some(7), Some(90), None),
        ),
        (
            r#"mediaPresentationDuration="PT1.5S""#,
            r#"initialization="i.mp4" media="whole.mp4""#,
            ("whole.mp4", Some(1), Some(0), None),
        ),
    ];
    for (mpd_attrs, template, (url, number, time, duration)) in cases {
        let xml = mpd(
            mpd_attrs,
            &format!(r#"<Representation id="a"><SegmentTemplate {template}/></Representation>"#),
        );
        let media: Vec<Row> = rows(&xml).into_iter().filter(|r| r.0 == "media").collect();
        assert_eq!(
            media,
            vec![("media", u(url), None, *number, *time, *duration)],
            "{template}"
        );
    }
}

#[test]
fn refusals_name_the_real_cause() {
    let rows: &[(&str, &str)] = &[
        (
            r#"<MPD type="static" mediaPresentationDuration="PT10S"><Period id="late" start="PT12.5S"><AdaptationSet><Representation id="a"><SegmentTemplate duration="1" media="$Number$"/></Representation></AdaptationSet></Period></MPD>"#,
            "period late starts at 12.5s, after the end of the presentation (MPD@mediaPresentationDuration 10s): its segments need the Period's end",
        ),
        (
            r#"<MPD type="list"><Period/></MPD>"#,
            "MPD@type=\"list\": list MPDs (a list of other MPDs, ISO/IEC 23009-1 §5.3.1.2) are not supported",
        ),
        (
            r#"<MPD type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet><SegmentTemplate media="$Time$"><SegmentTimeline><Pattern id="1"><S d="2" r="1"/></Pattern><S t="0" d="4"/></SegmentTimeline></SegmentTemplate><Representation id="a"/></AdaptationSet></Period></MPD>"#,
            "MPD/Period[0]/AdaptationSet[0]/SegmentTemplate/SegmentTimeline/Pattern: SegmentTimeline patterns (<Pattern>) are not supported",
        ),
        (
            r#"<MPD type="static"><Period id="p"><Representation id="a"><BaseURL>a.mp4</BaseURL></Representation></Period></MPD>"#,
            "nothing to download: period p: 1 Representation element(s) directly under the Period, not in an AdaptationSet, ignored; period p: no AdaptationSet",
        ),
        (
            r#"<MPD type="static"><Period><AdaptationSet/></Period></MPD>"#,
            "nothing to download: period 0, adaptation set 0: no Representation",
        ),
        (
            r#"<MPD type="static"/>"#,
            "nothing to download: the manifest has no Period",
        ),
        (
            r#"<MPD type="static"><Period><AdaptationSet><Representation id="a"><SegmentTemplate media="$Time$"><SegmentTimeline/></SegmentTemplate></Representation></AdaptationSet></Period></MPD>"#,
            "nothing to download: period 0, adaptation set 0, representation \"a\": no media segments (its SegmentTimeline has no S element)",
        ),
    ];
    for (xml, want) in rows {
        assert_eq!(plan_str(xml).expect_err(want).to_string(), *want);
    }
}

#[test]
fn a_period_after_the_end_is_planned_where_its_timeline_names_its_segments() {
    // streamlink's `static_no_publish_time`, inputstream.adaptive's `segtimeline_vod`: the
    // second Period starts after mediaPresentationDuration, and its timeline names each segment.
    let xml = r#"<MPD type="static" mediaPresentationDuration="PT4S"><Period id="one" duration="PT4S"><AdaptationSet><Representation id="a"><SegmentTemplate media="a-$Time$.m4s"><SegmentTimeline><S t="0" d="2" r="1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period><Period id="two" start="PT6S"><AdaptationSet><Representation id="a"><SegmentTemplate media="b-$Time$.m4s"><SegmentTimeline><S t="0" d="2" r="1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>"#;
    let plan = plan_str(xml).expect("planned");
    assert_eq!(plan.segments().count(), 4);
    let warnings: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "period two starts at 6s, after the end of the presentation (MPD@mediaPresentationDuration 4s); planned as its segment information names it"
        ]
    );
}

#[test]
fn partly_empty_plans_carry_their_warnings() {
    let xml = r#"<MPD type="static" mediaPresentationDuration="PT2S"><Period><AdaptationSet/><AdaptationSet><Representation id="a"><SegmentTemplate initialization="i.mp4" media="$Time$"><SegmentTimeline/></SegmentTemplate></Representation><Representation id="b"><BaseURL>b.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>"#;
    let mut plan = plan_str(xml).expect("plan");
    let warnings: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "period 0, adaptation set 0: no Representation",
            "period 0, adaptation set 1, representation \"a\": no media segments (its SegmentTimeline has no S element)",
        ]
    );
    // -r b: the warning about a goes with it.
    plan.retain_representations(&["b".into()]);
    assert_eq!(plan.warnings.len(), 1);
}

#[test]
fn byte_ranges_are_checked_never_overflowing() {
    let max = u64::MAX;
    let rep = |inner: &str| {
        mpd(
            "",
            &format!(r#"<Representation id="a"><BaseURL>a.mp4</BaseURL>{inner}</Representation>"#),
        )
    };
    // (segment information, expected error, or the planned ranges)
    let rows: Vec<(String, Result<Vec<&str>, String>)> = vec![
        (
            format!(r#"<SegmentList><SegmentURL mediaRange="0-{max}"/></SegmentList>"#),
            Err(format!("SegmentList/SegmentURL[0]@mediaRange \"0-{max}\" ends past the largest possible file (2^64 - 1 bytes)")),
        ),
        (
            format!(r#"<SegmentBase><Initialization range="0-{max}"/></SegmentBase>"#),
            Err(format!("SegmentBase/Initialization@range \"0-{max}\" ends past the largest possible file (2^64 - 1 bytes)")),
        ),
        (
            format!(r#"<SegmentBase indexRange="10-{max}"/>"#),
            Err(format!("SegmentBase@indexRange \"10-{max}\" ends past the largest possible file (2^64 - 1 bytes)")),
        ),
        (
            r#"<SegmentList><SegmentURL mediaRange="0-18446744073709551616"/></SegmentList>"#.into(),
            Err("SegmentList/SegmentURL[0]@mediaRange \"0-18446744073709551616\" is not a byte range first-last".into()),
        ),
        (
            r#"<SegmentList><SegmentURL mediaRange="9-3"/></SegmentList>"#.into(),
            Err("SegmentList/SegmentURL[0]@mediaRange \"9-3\" ends before it starts".into()),
        ),
        (
            format!(r#"<SegmentList><SegmentURL mediaRange="{}-{}"/></SegmentList>"#, max - 1, max - 1),
            Ok(vec!["18446744073709551614-18446744073709551614"]),
        ),
    ];
    for (inner, want) in rows {
        let got = plan_str(&rep(&inner)).map(|p| {
            p.segments()
                .filter_map(|(_, s)| s.range.map(|r| r.to_string()))
                .collect::<Vec<_>>()
        });
        let want = want
            .map(|v| v.into_iter().map(String::from).collect::<Vec<_>>())
            .map_err(|m| format!("period p0, adaptation set 0, representation \"a\": {m}"));
        assert_eq!(got.map_err(|e| e.to_string()), want, "{inner}");
    }
    assert_eq!(
        ByteRange {
            first: 0,
            last: max
        }
        .len(),
        max
    );
}
