//! The planning rules of ISO/IEC 23009-1, each with hand-computed expectations.

use url::Url;

use super::*;

const BASE: &str = "https://cdn.example/show/manifest.mpd";

/// A manifest with one Period and one AdaptationSet holding `body`.
fn mpd(attrs: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" {attrs}><Period id="p0"><AdaptationSet mimeType="video/mp4">{body}</AdaptationSet></Period></MPD>"#
    )
}

fn plan_str(xml: &str) -> Result<Plan, PlanError> {
    plan(xml.as_bytes(), &Url::parse(BASE).expect("base"))
}

/// (kind, url, range, number, time, duration) rows of the first representation.
type Row = (
    &'static str,
    String,
    Option<String>,
    Option<u64>,
    Option<i64>,
    Option<u64>,
);

fn rows(xml: &str) -> Vec<Row> {
    let plan = plan_str(xml).unwrap_or_else(|e| panic!("plan failed: {e}"));
    plan.representations[0]
        .segments()
        .map(|s| {
            (
                s.kind.as_str(),
                s.url.to_string(),
                s.range.map(|r| r.to_string()),
                s.number,
                s.time,
                s.duration,
            )
        })
        .collect()
}

fn urls(xml: &str) -> Vec<String> {
    rows(xml).into_iter().map(|r| r.1).collect()
}

fn media_times(xml: &str) -> Vec<(u64, i64)> {
    rows(xml)
        .into_iter()
        .filter(|r| r.0 == "media")
        .map(|r| (r.3.unwrap_or(0), r.4.unwrap_or(0)))
        .collect()
}

fn u(path: &str) -> String {
    format!("https://cdn.example/show/{path}")
}

#[test]
fn duration_template_counts_and_numbers() {
    // ceil(10 s × 1000 / 3000) = 4 segments, numbered from 1.
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<Representation id="v1" bandwidth="1000"><SegmentTemplate timescale="1000" duration="3000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s"/></Representation>"#,
    );
    assert_eq!(
        urls(&xml),
        vec![
            u("v1/init.mp4"),
            u("v1/1.m4s"),
            u("v1/2.m4s"),
            u("v1/3.m4s"),
            u("v1/4.m4s")
        ]
    );
    let r = rows(&xml);
    assert_eq!(
        (r[0].0, r[1].0, r[4].3, r[4].4, r[4].5),
        ("init", "media", Some(4), Some(9000), Some(3000))
    );
}

#[test]
fn duration_template_exact_boundary_and_start_end_numbers() {
    // 4.8 s × 1000 / 1600 = 3 exactly (floating point would say 3.0000000000000004 → 4).
    let xml = mpd(
        r#"mediaPresentationDuration="PT4.8S""#,
        r#"<Representation id="a"><SegmentTemplate timescale="1000" duration="1600" media="s$Number$"/></Representation>"#,
    );
    assert_eq!(urls(&xml), vec![u("s1"), u("s2"), u("s3")]);
    // startNumber 5: 5..8; endNumber 6 bounds it to 5, 6.
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<Representation id="a"><SegmentTemplate duration="3" startNumber="5" media="s$Number$"/></Representation>"#,
    );
    assert_eq!(urls(&xml), vec![u("s5"), u("s6"), u("s7"), u("s8")]);
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<Representation id="a"><SegmentTemplate duration="3" startNumber="5" endNumber="6" media="s$Number$"/></Representation>"#,
    );
    assert_eq!(urls(&xml), vec![u("s5"), u("s6")]);
    // startNumber 0 is legal.
    let xml = mpd(
        r#"mediaPresentationDuration="PT2S""#,
        r#"<Representation id="a"><SegmentTemplate duration="1" startNumber="0" media="s$Number$"/></Representation>"#,
    );
    assert_eq!(urls(&xml), vec![u("s0"), u("s1")]);
}

#[test]
fn identifiers_widths_and_dollars() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT2S""#,
        r#"<Representation id="v 1" bandwidth="250000"><SegmentTemplate duration="1" initialization="i-$Bandwidth$.mp4" media="$$x$$-$RepresentationID$-$Number%05d$-$Bandwidth$.m4s"/></Representation>"#,
    );
    assert_eq!(
        urls(&xml),
        vec![
            u("i-250000.mp4"),
            u("$x$-v%201-00001-250000.m4s"),
            u("$x$-v%201-00002-250000.m4s")
        ]
    );
}

#[test]
fn unknown_identifier_is_named() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT2S""#,
        r#"<Representation id="v1"><SegmentTemplate duration="1" media="$Nummer$.m4s"/></Representation>"#,
    );
    let err = plan_str(&xml).expect_err("unknown identifier").to_string();
    assert_eq!(
        err,
        "period p0, adaptation set 0, representation \"v1\": SegmentTemplate@media \"$Nummer$.m4s\": unknown identifier $Nummer$"
    );
}

#[test]
fn number_in_initialization_is_refused_as_the_standard_forbids_it() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT2S""#,
        r#"<Representation id="v1"><SegmentTemplate duration="1" initialization="init-$Number$.mp4" media="$Number$.m4s"/></Representation>"#,
    );
    let err = plan_str(&xml).expect_err("refused").to_string();
    assert!(
        err.ends_with("SegmentTemplate@initialization \"init-$Number$.mp4\": $Number$ and $Time$ are not allowed in @initialization (ISO/IEC 23009-1 §5.3.9.4.4, Table 16: only $RepresentationID$ and $Bandwidth$)"),
        "{err}"
    );
}

#[test]
fn timeline_negative_t_gaps_and_implicit_t() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<Representation id="a"><SegmentTemplate timescale="10" media="t$Time$" startNumber="3"><SegmentTimeline>
             <S t="-100" d="50" r="2"/><S t="200" d="100"/><S d="25"/></SegmentTimeline></SegmentTemplate></Representation>"#,
    );
    // -100, -50, 0; a gap to 200; then 300 (the previous end).
    assert_eq!(
        media_times(&xml),
        vec![(3, -100), (4, -50), (5, 0), (6, 200), (7, 300)]
    );
    assert_eq!(urls(&xml)[0], u("t-100"));
}

#[test]
fn timeline_first_t_defaults_to_zero_and_n_restarts_numbering() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<Representation id="a"><SegmentTemplate media="n$Number$"><SegmentTimeline><S d="2" r="1"/><S n="40" d="3"/></SegmentTimeline></SegmentTemplate></Representation>"#,
    );
    assert_eq!(media_times(&xml), vec![(1, 0), (2, 2), (40, 4)]);
}

#[test]
fn end_number_bounds_a_timeline() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT100S""#,
        r#"<Representation id="a"><SegmentTemplate media="$Number$" startNumber="4" endNumber="5"><SegmentTimeline><S t="0" d="10" r="-1"/></SegmentTimeline></SegmentTemplate></Representation>"#,
    );
    assert_eq!(media_times(&xml), vec![(4, 0), (5, 10)]);
}

#[test]
fn timeline_r_minus_one_to_next_t() {
    // Up to the next S@t: ceil(35 / 10) = 4 segments, then the next entry.
    let xml = mpd(
        r#"mediaPresentationDuration="PT100S""#,
        r#"<Representation id="a"><SegmentTemplate media="$Time$"><SegmentTimeline><S t="0" d="10" r="-1"/><S t="35" d="10"/></SegmentTimeline></SegmentTemplate></Representation>"#,
    );
    assert_eq!(
        media_times(&xml),
        vec![(1, 0), (2, 10), (3, 20), (4, 30), (5, 35)]
    );
}

#[test]
fn timeline_r_minus_one_to_period_end_with_presentation_time_offset() {
    // Period: 10 s × 100 = 1000 ticks; on the media timeline it ends at PTO + 1000 = 2000.
    // From t = 1000 with d = 300: ceil(1000 / 300) = 4 segments (the last starts before the end).
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<Representation id="a"><SegmentTemplate timescale="100" presentationTimeOffset="1000" media="$Time$"><SegmentTimeline><S t="1000" d="300" r="-1"/></SegmentTimeline></SegmentTemplate></Representation>"#,
    );
    assert_eq!(
        media_times(&xml),
        vec![(1, 1000), (2, 1300), (3, 1600), (4, 1900)]
    );
}

#[test]
fn sub_numbers_from_k() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<Representation id="a"><SegmentTemplate media="$Number$_$SubNumber$"><SegmentTimeline><S t="0" d="4" k="2" r="1"/></SegmentTimeline></SegmentTemplate></Representation>"#,
    );
    assert_eq!(urls(&xml), vec![u("1_1"), u("1_2"), u("2_1"), u("2_2")]);
}

#[test]
fn template_inherited_attribute_by_attribute() {
    // The Representation's SegmentTemplate only changes startNumber: media, timescale and the
    // timeline come from the AdaptationSet.
    let xml = mpd(
        r#"mediaPresentationDuration="PT10S""#,
        r#"<SegmentTemplate timescale="1000" initialization="$RepresentationID$-init.mp4" media="$RepresentationID$-$Number$-$Time$.m4s" startNumber="7"><SegmentTimeline><S t="0" d="2000" r="1"/></SegmentTimeline></SegmentTemplate>
           <Representation id="a"><SegmentTemplate startNumber="1"/></Representation><Representation id="b"/>"#,
    );
    let plan = plan_str(&xml).expect("plan");
    let a: Vec<String> = plan.representations[0]
        .segments()
        .map(|s| s.url.to_string())
        .collect();
    let b: Vec<String> = plan.representations[1]
        .segments()
        .map(|s| s.url.to_string())
        .collect();
    assert_eq!(a, vec![u("a-init.mp4"), u("a-1-0.m4s"), u("a-2-2000.m4s")]);
    assert_eq!(b, vec![u("b-init.mp4"), u("b-7-0.m4s"), u("b-8-2000.m4s")]);
    assert_eq!(plan.representations[0].timescale, 1000);
}

#[test]
fn lower_timeline_replaces_inherited_one_and_period_level_template() {
    let xml = r#"<MPD type="static" mediaPresentationDuration="PT10S"><Period><SegmentTemplate media="$Time$.m4s"><SegmentTimeline><S t="0" d="5" r="1"/></SegmentTimeline></SegmentTemplate>
        <AdaptationSet><Representation id="a"/><Representation id="b"><SegmentTemplate><SegmentTimeline><S t="100" d="1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>"#;
    let plan = plan_str(xml).expect("plan");
    let times: Vec<Vec<i64>> = plan
        .representations
        .iter()
        .map(|r| r.segments().filter_map(|s| s.time).collect())
        .collect();
    assert_eq!(times, vec![vec![0, 5], vec![100]]);
    assert_eq!(plan.representations[0].period, "0");
}

#[test]
fn segment_list_with_ranges_and_initialization_without_source_url() {
    let xml = mpd(
        r#"mediaPresentationDuration="PT6S""#,
        r#"<Representation id="a"><BaseURL>media/a.mp4</BaseURL><SegmentList timescale="1000" duration="2000"><Initialization range="0-799"/>
            <SegmentURL mediaRange="800-1999"/><SegmentURL mediaRange="2000-2999"/><SegmentURL media="other.mp4" mediaRange="0-9"/></SegmentList></Representation>"#,
    );
    let r = rows(&xml);
    let ranges: Vec<_> = r.iter().map(|r| (r.0, r.1.clone(), r.2.clone())).collect();
    assert_eq!(
        ranges,
        vec![
            ("init", u("media/a.mp4"), Some("0-799".into())),
            ("media", u("media/a.mp4"), Some("800-1999".into())),
            ("media", u("media/a.mp4"), Some("2000-2999".into())),
            ("media", u("media/other.mp4"), Some("0-9".into())),
        ]
    );
    assert_eq!((r[2].3, r[2].4, r[2].5), (Some(2), Some(2000), Some(2000)));
    let plan = plan_str(&xml).expect("plan");
    // All ranges of one resource share its local path.
    assert_eq!(
        plan.representations[0]
            .segments()
            .next()
            .expect("segment")
            .path,
        plan.representations[0]
            .segments()
            .nth(2)
            .expect("segment")
            .path
    );
}

#[test]
fn segment_list_with_source_urls() {
    let xml = mpd(
        "",
        r#"<Representation id="a"><SegmentList duration="1"><Initialization sourceURL="init.mp4"/><SegmentURL media="s1.m4s"/><SegmentURL media="s2.m4s"/></SegmentList></Representation>"#,
    );
    assert_eq!(urls(&xml), vec![u("init.mp4"), u("s1.m4s"), u("s2.m4s")]);
}

#[test]
fn segment_base_and_bare_base_url() {
    let xml = mpd(
        "",
        r#"<Representation id="a"><BaseURL>a.mp4</BaseURL><SegmentBase indexRange="800-999"><Initialization range="0-799"/></SegmentBase></Representation>
           <Representation id="b"><BaseURL>b.mp4</BaseURL></Representation>
           <Representation id="c"><BaseURL>c.mp4</BaseURL><SegmentBase indexRange="10-20"/></Representation>"#,
    );
    let plan = plan_str(&xml).expect("plan");
    let got: Vec<Vec<(&str, String, Option<String>)>> = plan
        .representations
        .iter()
        .map(|r| {
            r.segments()
                .map(|s| {
                    (
                        s.kind.as_str(),
                        s.url.to_string(),
                        s.range.map(|r| r.to_string()),
                    )
                })
                .collect()
        })
        .collect();
    assert_eq!(
        got,
        vec![
            vec![
                ("init", u("a.mp4"), Some("0-799".into())),
                ("media", u("a.mp4"), None)
            ],
            vec![("media", u("b.mp4"), None)],
            vec![("media", u("c.mp4"), None)],
        ]
    );
}

#[test]
fn several_base_urls_are_alternatives_in_priority_order() {
    let xml = r#"<MPD type="static" mediaPresentationDuration="PT1S" xmlns:dvb="urn:dvb:dash:dash-extensions:2014-1">
        <BaseURL serviceLocation="b" dvb:priority="2">https://b.example/show/</BaseURL>
        <BaseURL serviceLocation="a" dvb:priority="1">https://a.example/show/</BaseURL>
        <BaseURL serviceLocation="c" dvb:priority="3">https://c.example/show/</BaseURL>
        <Period><AdaptationSet><BaseURL>video/</BaseURL>
          <Representation id="v"><SegmentTemplate duration="1" media="s$Number$.m4s"/></Representation>
          <Representation id="w"><BaseURL>https://only.example/w/</BaseURL><SegmentTemplate duration="1" media="s$Number$.m4s"/></Representation>
        </AdaptationSet></Period></MPD>"#;
    let plan = plan_str(xml).expect("plan");
    let v = &plan.representations[0];
    let first = v.segments().next().expect("segment");
    // The lowest priority names the segment and its path.
    assert_eq!(first.url.as_str(), "https://a.example/show/video/s1.m4s");
    assert_eq!(
        v.alternates(&first.url)
            .iter()
            .map(Url::as_str)
            .collect::<Vec<_>>(),
        vec![
            "https://b.example/show/video/s1.m4s",
            "https://c.example/show/video/s1.m4s"
        ]
    );
    // An absolute BaseURL at a lower level replaces the alternatives above it.
    let w = &plan.representations[1];
    let first = w.segments().next().expect("segment");
    assert_eq!(first.url.as_str(), "https://only.example/w/s1.m4s");
    assert!(w.alternates(&first.url).is_empty());
    // Equal priorities: the weights draw the first, the same on every run.
    let weighted = r#"<MPD type="static" mediaPresentationDuration="PT1S" xmlns:dvb="urn:dvb:dash:dash-extensions:2014-1">
        <BaseURL dvb:priority="1" dvb:weight="0">https://never.example/</BaseURL>
        <BaseURL dvb:priority="1" dvb:weight="5">https://x.example/</BaseURL>
        <Period><AdaptationSet><Representation id="v"><SegmentTemplate duration="1" media="s$Number$.m4s"/></Representation></AdaptationSet></Period></MPD>"#;
    let plan = plan_str(weighted).expect("plan");
    let rep = &plan.representations[0];
    assert_eq!(rep.bases[0].as_str(), "https://x.example/");
    assert_eq!(rep.bases[1].as_str(), "https://never.example/");
    assert_eq!(
        plan_str(weighted).expect("plan").representations[0].bases,
        rep.bases
    );
}

#[test]
fn base_urls_at_every_level() {
    let xml = r#"<MPD type="static" mediaPresentationDuration="PT1S"><BaseURL>https://origin.example/a/b/</BaseURL><BaseURL>https://backup.example/</BaseURL>
        <Period><BaseURL>../p/</BaseURL><AdaptationSet><BaseURL>as/</BaseURL>
          <Representation id="r1"><BaseURL>r1/</BaseURL><SegmentTemplate duration="1" media="s$Number$.m4s"/></Representation>
          <Representation id="r2"><BaseURL>https://other.example/x/?tok=1</BaseURL><SegmentTemplate duration="1" media="s$Number$.m4s?k=v"/></Representation>
          <Representation id="r3"><BaseURL>/root/</BaseURL><SegmentTemplate duration="1" media="../../s$Number$.m4s"/></Representation>
        </AdaptationSet></Period></MPD>"#;
    let plan = plan_str(xml).expect("plan");
    let first: Vec<String> = plan
        .representations
        .iter()
        .map(|r| r.segments().next().expect("segment").url.to_string())
        .collect();
    assert_eq!(
        first,
        vec![
            "https://origin.example/a/p/as/r1/s1.m4s".to_string(),
            // The base's query is not carried onto a relative reference (RFC 3986 §5.2).
            "https://other.example/x/s1.m4s?k=v".to_string(),
            "https://origin.example/s1.m4s".to_string(),
        ]
    );
    let paths: Vec<String> = plan
        .representations
        .iter()
        .map(|r| {
            r.segments()
                .next()
                .expect("segment")
                .path
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            "origin.example/a/p/as/r1/s1.m4s",
            "other.example/x/s1.m4s",
            "origin.example/s1.m4s"
        ]
    );
}

#[test]
fn multi_period_durations() {
    // P0: 0..10 s (next start); P1: 10..25 s (presentation end); P2 after P1's explicit duration.
    let xml = r#"<MPD type="static" mediaPresentationDuration="PT31S">
        <Period id="a"><AdaptationSet><Representation id="v"><SegmentTemplate duration="5" media="a$Number$"/></Representation></AdaptationSet></Period>
        <Period id="b" start="PT10S" duration="PT15S"><AdaptationSet><Representation id="v"><SegmentTemplate duration="5" media="b$Number$"/></Representation></AdaptationSet></Period>
        <Period id="c"><AdaptationSet><Representation id="v"><SegmentTemplate duration="4" media="c$Number$"/></Representation></AdaptationSet></Period></MPD>"#;
    let plan = plan_str(xml).expect("plan");
    let counts: Vec<(String, usize)> = plan
        .representations
        .iter()
        .map(|r| (r.period.clone(), r.segment_count()))
        .collect();
    // a: 10/5 = 2; b: 15/5 = 3; c: starts at 25, lasts 6 s: ceil(6/4) = 2.
    assert_eq!(
        counts,
        vec![("a".into(), 2), ("b".into(), 3), ("c".into(), 2)]
    );
    let mpd = crate::mpd::parse_mpd(xml.as_bytes()).expect("parse");
    let t = period_timings(&mpd);
    let s = crate::mpd::duration::NANOS_PER_SEC;
    assert_eq!(
        t[0],
        PeriodTiming {
            start: Some(0),
            duration: Some(10 * s)
        }
    );
    assert_eq!(
        t[2],
        PeriodTiming {
            start: Some(25 * s),
            duration: Some(6 * s)
        }
    );
}

#[test]
fn errors_name_what_is_wrong() {
    let no_duration = mpd(
        "",
        r#"<Representation id="v1"><SegmentTemplate duration="1" media="$Number$"/></Representation>"#,
    );
    assert!(
        plan_str(&no_duration)
            .expect_err("no duration")
            .to_string()
            .contains("needs the Period's duration")
    );
    let no_media = mpd(
        r#"mediaPresentationDuration="PT1S""#,
        r#"<Representation id="v1"><SegmentTemplate duration="1"/></Representation>"#,
    );
    assert_eq!(
        plan_str(&no_media).expect_err("no media").to_string(),
        "period p0, adaptation set 0, representation \"v1\": SegmentTemplate has no @media"
    );
    let nothing = mpd("", r#"<Representation id="v1"/>"#);
    assert!(
        plan_str(&nothing)
            .expect_err("nothing")
            .to_string()
            .contains("no SegmentTemplate, SegmentList or SegmentBase")
    );
    let bad_range = mpd(
        "",
        r#"<Representation id="v1"><BaseURL>a.mp4</BaseURL><SegmentList><SegmentURL mediaRange="9-3"/></SegmentList></Representation>"#,
    );
    assert!(
        plan_str(&bad_range)
            .expect_err("range")
            .to_string()
            .contains("SegmentList/SegmentURL[0]@mediaRange \"9-3\"")
    );
    let huge = mpd(
        r#"mediaPresentationDuration="PT100000000S""#,
        r#"<Representation id="v1"><SegmentTemplate duration="1" media="$Number$"/></Representation>"#,
    );
    assert_eq!(plan_str(&huge), Err(PlanError::TooManySegments));
    let huge_r = mpd(
        "",
        r#"<Representation id="v1"><SegmentTemplate media="$Time$"><SegmentTimeline><S d="1" r="9223372036854775807"/></SegmentTimeline></SegmentTemplate></Representation>"#,
    );
    assert_eq!(plan_str(&huge_r), Err(PlanError::TooManySegments));
}

#[test]
fn live_manifests_are_refused_when_they_need_the_clock() {
    let live = r#"<MPD type="dynamic" availabilityStartTime="2020-01-01T00:00:00Z"><Period start="PT0S"><AdaptationSet><Representation id="v"><SegmentTemplate duration="2" media="$Number$"/></Representation></AdaptationSet></Period></MPD>"#;
    let err = plan_str(live).expect_err("live");
    assert!(matches!(err, PlanError::Live { .. }));
    assert!(err.to_string().starts_with(
        "a live manifest whose segments depend on the clock is recorded from its URL"
    ));
    // A live timeline with explicit repeats describes its segments: it is planned.
    let window = r#"<MPD type="dynamic"><Period start="PT0S"><AdaptationSet><Representation id="v"><SegmentTemplate media="$Time$"><SegmentTimeline><S t="100" d="2" r="2"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>"#;
    assert_eq!(
        plan_str(window).map(|p| p.representations[0].segment_count()),
        Ok(3)
    );
}

#[test]
fn urls_differing_only_in_query_get_distinct_paths() {
    let xml = mpd(
        "",
        r#"<Representation id="a"><SegmentList><SegmentURL media="get?seg=1"/><SegmentURL media="get?seg=2"/><SegmentURL media="get?seg=2"/></SegmentList></Representation>"#,
    );
    let plan = plan_str(&xml).expect("plan");
    let paths: Vec<String> = plan.representations[0]
        .segments()
        .map(|s| s.path.to_string_lossy().into_owned())
        .collect();
    assert_eq!(paths, vec!["get_seg=1", "get_seg=2", "get_seg=2"]);
}

#[test]
fn retain_representations_reports_unknown_ids() {
    let xml = mpd(
        "",
        r#"<Representation id="a"><BaseURL>a.mp4</BaseURL></Representation><Representation id="b"><BaseURL>b.mp4</BaseURL></Representation>"#,
    );
    let mut plan = plan_str(&xml).expect("plan");
    assert_eq!(
        plan.retain_representations(&["b".into(), "zz".into()]),
        vec!["zz".to_string()]
    );
    assert_eq!(plan.representations.len(), 1);
}

#[test]
fn remote_periods_are_refused_unless_resolved_to_zero() {
    let xml = r#"<MPD type="static" mediaPresentationDuration="PT10S" xmlns:xlink="http://www.w3.org/1999/xlink"><Period id="ad" xlink:href="https://ads.example/p.xml" xlink:actuate="onLoad"/>
        <Period id="gone" xlink:href="urn:mpeg:dash:resolve-to-zero:2013"/></MPD>"#;
    assert_eq!(
        plan_str(xml).expect_err("remote").to_string(),
        "period ad: remote Periods (xlink:href=\"https://ads.example/p.xml\") are not supported"
    );
    let zero = xml.replace(
        r#"<Period id="ad" xlink:href="https://ads.example/p.xml" xlink:actuate="onLoad"/>"#,
        "",
    );
    assert_eq!(
        plan_str(&zero).expect_err("nothing left").to_string(),
        "nothing to download: period gone: removed by its xlink:href (resolve-to-zero)"
    );
}

mod more_of_the_plan;
