//! Availability, table-driven, with every expected instant computed by hand in the comments.

use url::Url;

use super::*;

/// AST of every manifest below: 2026-11-28T22:00:00Z.
const AST: i128 = 1_795_903_200 * S;
const S: i128 = 1_000_000_000;
const MS: i128 = 1_000_000;

fn live(mpd: &str) -> LivePresentation {
    let url = Url::parse("http://origin.test/live/manifest.mpd").unwrap();
    LivePresentation::parse(mpd.as_bytes(), &url).unwrap_or_else(|e| panic!("{e}\n{mpd}"))
}

/// A dynamic manifest around one Period's content.
fn dynamic(mpd_attributes: &str, period: &str) -> String {
    format!(
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-11-28T22:00:00Z" {mpd_attributes}>{period}</MPD>"#
    )
}

/// (key, number, start, end, available_from) of segments, relative to AST, in ms.
fn summary(segments: &[LiveSegment]) -> Vec<(SegmentKey, u64, i128, i128, i128)> {
    segments
        .iter()
        .map(|s| {
            (
                s.id.key.clone(),
                s.number,
                s.start / MS,
                s.end / MS,
                (s.available_from - AST) / MS,
            )
        })
        .collect()
}

const NUMBER_2S: &str = r#"<Period id="p" start="PT0S"><AdaptationSet id="v"><SegmentTemplate timescale="90000" duration="180000" startNumber="5" media="$RepresentationID$/$Number$.m4s" initialization="$RepresentationID$/init.m4s"/><Representation id="r" bandwidth="1"/></AdaptationSet></Period>"#;

#[test]
fn number_template_edge_oldest_and_window() {
    let p = live(&dynamic(r#"timeShiftBufferDepth="PT60S""#, NUMBER_2S));
    let rep = &p.representations[0];
    let now = AST + 100_500 * MS;
    // Edge: floor(100.5 / 2) − 1 = 49 → number 5 + 49 = 54, ending at 100 s.
    let edge = p.live_edge(rep, now).unwrap();
    assert_eq!(edge.number, 54);
    assert_eq!(edge.available_from, AST + 100 * S);
    assert_eq!(edge.due_by, AST + 160 * S);
    assert_eq!(edge.available_until, AST + 162 * S);
    assert_eq!(edge.url.as_str(), "http://origin.test/live/r/54.m4s");
    assert_eq!(
        edge.id,
        SegmentId {
            period: "p".into(),
            adaptation_set: "v".into(),
            representation: "r".into(),
            key: SegmentKey::Number(54),
        }
    );
    // Oldest: its end + 60 s must not be before 100.5 s: end ≥ 40.5 → k = 20 (40..42 s).
    let oldest = p.oldest_available(rep, now).unwrap();
    assert_eq!(
        (oldest.number, oldest.start, oldest.end),
        (25, 40 * S, 42 * S)
    );
    let all = p.available_segments(rep, now, None, usize::MAX);
    assert_eq!(all.len(), 30);
    assert!(all.windows(2).all(|w| w[1].number == w[0].number + 1));
    // Exactly at an availability instant the segment is in; a nanosecond before it is not.
    assert_eq!(p.live_edge(rep, AST + 100 * S).unwrap().number, 54);
    assert_eq!(p.live_edge(rep, AST + 100 * S - 1).unwrap().number, 53);
    assert_eq!(p.next_availability(rep, now), Some(AST + 102 * S));
    // Nothing before the first segment has ended.
    assert_eq!(p.live_edge(rep, AST + 2 * S - 1), None);
    assert_eq!(p.init_available_from(rep), AST);
    // `since`: from the edge on.
    let from_edge = p.available_segments(rep, now, Some(edge.start), usize::MAX);
    assert_eq!(
        summary(&from_edge),
        [(SegmentKey::Number(54), 54, 98_000, 100_000, 100_000)]
    );
    assert_eq!(p.end(), PresentationEnd::Open);
    assert!(!p.has_ended(now));
}

#[test]
fn number_template_offsets_that_do_and_do_not_move_numbers() {
    // (MPD attributes, Period start, template extras, now after AST in ms, edge number,
    //  its availability in ms after AST).
    let rows: &[(&str, &str, &str, i128, u64, i128)] = &[
        // presentationTimeOffset maps media time only: same numbers as without it.
        (
            "",
            "PT0S",
            r#"presentationTimeOffset="900000""#,
            100_500,
            54,
            100_000,
        ),
        // Period start 1000 s: the first segment ends at 1002 s.
        ("", "PT1000S", "", 1_002_000, 5, 1_002_000),
        ("", "PT1000S", "", 1_001_999, 0, 0),
        // ATO 1.5 s: (k + 1) × 2 − 1.5 ≤ 100.5 → k = 50, available at 100.5 s.
        (
            "",
            "PT0S",
            r#"availabilityTimeOffset="1.5""#,
            100_500,
            55,
            100_500,
        ),
        // The same when the segment is sent as it is written (chunked, low latency): it is
        // asked for once its first chunks exist.
        (
            "",
            "PT0S",
            r#"availabilityTimeOffset="1.5" availabilityTimeComplete="false""#,
            100_500,
            55,
            100_500,
        ),
    ];
    for &(attributes, start, extra, now, number, from) in rows {
        let period = NUMBER_2S
            .replace("PT0S", start)
            .replace("startNumber=\"5\"", &format!("startNumber=\"5\" {extra}"));
        let p = live(&dynamic(attributes, &period));
        let rep = &p.representations[0];
        let edge = p.live_edge(rep, AST + now * MS);
        assert_eq!(
            edge.as_ref()
                .map(|e| (e.number, (e.available_from - AST) / MS)),
            (number != 0).then_some((number, from)),
            "{extra} {start} at {now} ms"
        );
        if extra.contains("900000") {
            // $Time$ would be (Number − startNumber) × @duration; the media time has PTO in it.
            assert_eq!(edge.map(|e| e.time), Some(900_000 + 49 * 180_000));
        }
    }
}

#[test]
fn timeline_with_gap_and_open_end() {
    // 0-2, 2-4, 4-6 s; a gap; 10-12 s; then 3 s segments from 12 s, open-ended.
    let period = r#"<Period id="p" start="PT0S"><AdaptationSet><SegmentTemplate timescale="1000" startNumber="100" media="t$Time$-n$Number$.m4s"><SegmentTimeline><S t="0" d="2000" r="2"/><S t="10000" d="2000"/><S d="3000" r="-1"/></SegmentTimeline></SegmentTemplate><Representation id="a"/></AdaptationSet></Period>"#;
    let p = live(&dynamic("", period));
    let rep = &p.representations[0];
    let now = AST + 20_500 * MS;
    let all = p.available_segments(rep, now, None, usize::MAX);
    assert_eq!(
        summary(&all),
        [
            (SegmentKey::Time(0), 100, 0, 2_000, 2_000),
            (SegmentKey::Time(2000), 101, 2_000, 4_000, 4_000),
            (SegmentKey::Time(4000), 102, 4_000, 6_000, 6_000),
            (SegmentKey::Time(10000), 103, 10_000, 12_000, 12_000),
            (SegmentKey::Time(12000), 104, 12_000, 15_000, 15_000),
            (SegmentKey::Time(15000), 105, 15_000, 18_000, 18_000),
        ]
    );
    assert_eq!(
        all[5].url.as_str(),
        "http://origin.test/live/t15000-n105.m4s"
    );
    // No buffer depth: nothing is ever due.
    assert_eq!(all[0].due_by, i128::MAX);
    assert_eq!(p.next_availability(rep, now), Some(AST + 21 * S));
    // A 10 s buffer at 20.5 s keeps segments ending at 10.5 s or later.
    let p = live(&dynamic(r#"timeShiftBufferDepth="PT10S""#, period));
    let kept = p.available_segments(&p.representations[0], now, None, usize::MAX);
    assert_eq!(
        kept.iter().map(|s| s.time).collect::<Vec<_>>(),
        [10_000, 12_000, 15_000]
    );
    assert_eq!(kept[0].due_by, AST + 22 * S);
    // What passed its due time and is still described: the first three.
    let lost = p.expired_segments(&p.representations[0], now, None, usize::MAX);
    assert_eq!(
        lost.iter().map(|s| s.time).collect::<Vec<_>>(),
        [0, 2000, 4000]
    );
    // `since`: those that end after it.
    let lost = p.expired_segments(&p.representations[0], now, Some(3 * S), usize::MAX);
    assert_eq!(
        lost.iter().map(|s| s.time).collect::<Vec<_>>(),
        [2000, 4000]
    );
    let lost = p.expired_segments(&p.representations[0], now, Some(4 * S), usize::MAX);
    assert_eq!(lost.iter().map(|s| s.time).collect::<Vec<_>>(), [4000]);
    // At most `max`, oldest first.
    assert_eq!(
        p.available_segments(&p.representations[0], now, None, 2)
            .len(),
        2
    );
}

#[test]
fn closed_timeline_and_number_keys() {
    // $Number$ only: the key is the number; after the last S there is nothing until a refresh.
    let period = r#"<Period start="PT0S"><AdaptationSet><SegmentTemplate timescale="48000" startNumber="7" presentationTimeOffset="96000" media="$Number%05d$.m4s"><SegmentTimeline><S t="96000" d="18432" r="3"/></SegmentTimeline></SegmentTemplate><Representation id="a"/></AdaptationSet></Period>"#;
    let p = live(&dynamic("", period));
    let rep = &p.representations[0];
    // Segment 3 (number 10) ends at PTO + 4 × 18432 → 1.536 s after the Period start.
    let edge = p.live_edge(rep, AST + 1_536 * MS).unwrap();
    assert_eq!(
        (edge.id.key.clone(), edge.time),
        (SegmentKey::Number(10), 96_000 + 3 * 18_432)
    );
    assert_eq!(edge.url.as_str(), "http://origin.test/live/00010.m4s");
    assert_eq!(p.next_availability(rep, AST + 1_536 * MS), None);
    assert_eq!(
        p.next_availability(rep, AST + 1_535 * MS),
        Some(AST + 1_536 * MS)
    );
    // The Period has no id: its index labels it.
    assert_eq!(edge.id.period, "0");
    assert_eq!(edge.id.adaptation_set, "0");
}

#[test]
fn period_end_clips_the_last_segment_and_new_periods_number_afresh() {
    // p0 lasts 5 s: 2 s segments 0-2, 2-4, 4-5 (the last clipped, available at 5 s).
    // p1 from 5 s, numbers from 1 again.
    let periods = r#"<Period id="p0" start="PT0S" duration="PT5S"><AdaptationSet><SegmentTemplate timescale="1" duration="2" media="p0-$Number$"/><Representation id="v"/></AdaptationSet></Period><Period id="p1"><AdaptationSet><SegmentTemplate timescale="1" duration="2" media="p1-$Number$"/><Representation id="v"/></AdaptationSet></Period>"#;
    let p = live(&dynamic("", periods));
    assert_eq!(p.periods.len(), 2);
    assert_eq!(p.periods[1].start, 5_000_000_000);
    let (r0, r1) = (&p.representations[0], &p.representations[1]);
    let now = AST + 100 * S;
    assert_eq!(
        summary(&p.available_segments(r0, now, None, usize::MAX)),
        [
            (SegmentKey::Number(1), 1, 0, 2_000, 2_000),
            (SegmentKey::Number(2), 2, 2_000, 4_000, 4_000),
            (SegmentKey::Number(3), 3, 4_000, 5_000, 5_000),
        ]
    );
    assert_eq!(p.next_availability(r0, now), None);
    let first = p.available_segments(r1, AST + 7 * S, None, usize::MAX);
    assert_eq!(
        summary(&first),
        [(SegmentKey::Number(1), 1, 5_000, 7_000, 7_000)]
    );
    assert_eq!(first[0].id.period, "p1");
    assert_eq!(p.init_available_from(r1), AST + 5 * S);
    // The last Period has no duration: the presentation is open.
    assert_eq!(p.end(), PresentationEnd::Open);
}

#[test]
fn fractional_duration_is_exact() {
    // @duration 2002.5 ticks of 1 ms: segment k ends at (k + 1) × 2.0025 s exactly.
    let period = NUMBER_2S.replace(
        r#"timescale="90000" duration="180000""#,
        r#"timescale="1000" duration="2002.5""#,
    );
    let p = live(&dynamic("", &period));
    let rep = &p.representations[0];
    let edge = p.live_edge(rep, AST + 4_005 * MS).unwrap();
    assert_eq!((edge.number, edge.available_from), (6, AST + 4_005 * MS));
    assert_eq!(p.live_edge(rep, AST + 4_005 * MS - 1).unwrap().number, 5);
    // Segment 6 starts at 2002.5 ticks: time rounds down, the start too.
    assert_eq!((edge.time, edge.start), (2002, 2_002_500_000));
}

#[test]
fn segment_list_entries_are_their_own_identity() {
    let period = r#"<Period id="p" start="PT0S"><AdaptationSet><Representation id="s"><SegmentList timescale="10" duration="20" startNumber="7"><Initialization sourceURL="init.mp4"/><SegmentURL media="a.mp4"/><SegmentURL media="b.mp4"/><SegmentURL media="all.mp4" mediaRange="100-199"/></SegmentList></Representation></AdaptationSet></Period>"#;
    let p = live(&dynamic(r#"timeShiftBufferDepth="PT3S""#, period));
    let rep = &p.representations[0];
    assert_eq!(
        rep.init.as_ref().map(|i| i.0.as_str()),
        Some("http://origin.test/live/init.mp4")
    );
    let now = AST + 6 * S;
    let segments = p.available_segments(rep, now, None, usize::MAX);
    // a.mp4 ended at 2 s, due at 5 s: gone; b.mp4 (2-4 s) and the range (4-6 s) are in.
    assert_eq!(
        summary(&segments),
        [
            (
                SegmentKey::Resource {
                    url: "http://origin.test/live/b.mp4".into(),
                    range: None
                },
                8,
                2_000,
                4_000,
                4_000
            ),
            (
                SegmentKey::Resource {
                    url: "http://origin.test/live/all.mp4".into(),
                    range: Some((100, 199))
                },
                9,
                4_000,
                6_000,
                6_000
            ),
        ]
    );
    assert_eq!(
        segments[1].range,
        Some(crate::plan::ByteRange {
            first: 100,
            last: 199
        })
    );
    // Nothing past the list until a refresh lists more.
    assert_eq!(p.next_availability(rep, now), None);
}

#[test]
fn every_end_of_the_presentation() {
    // (MPD attributes, last Period's duration, expected end, ended at AST + 10 s?, at + 30 s?)
    let rows: &[(&str, &str, PresentationEnd, bool, bool)] = &[
        ("", "", PresentationEnd::Open, false, false),
        (
            r#"mediaPresentationDuration="PT20S""#,
            "",
            PresentationEnd::At {
                end: 20_000_000_000,
                reason: EndReason::MediaPresentationDuration,
            },
            false,
            true,
        ),
        (
            "",
            r#"duration="PT20S""#,
            PresentationEnd::At {
                end: 20_000_000_000,
                reason: EndReason::LastPeriodDuration,
            },
            false,
            true,
        ),
        (
            r#"availabilityEndTime="2026-11-28T22:00:25Z""#,
            "",
            PresentationEnd::Open,
            false,
            true,
        ),
    ];
    for (attributes, duration, end, at_10, at_30) in rows {
        let period = NUMBER_2S.replace(r#"start="PT0S""#, &format!(r#"start="PT0S" {duration}"#));
        let p = live(&dynamic(attributes, &period));
        assert_eq!(p.end(), *end, "{attributes} {duration}");
        assert_eq!(p.has_ended(AST + 10 * S), *at_10, "{attributes} {duration}");
        assert_eq!(p.has_ended(AST + 30 * S), *at_30, "{attributes} {duration}");
    }
    // availabilityEndTime bounds every window.
    let p = live(&dynamic(
        r#"availabilityEndTime="2026-11-28T22:00:25Z" timeShiftBufferDepth="PT60S""#,
        NUMBER_2S,
    ));
    let edge = p.live_edge(&p.representations[0], AST + 24 * S).unwrap();
    assert_eq!(
        (edge.due_by, edge.available_until),
        (AST + 25 * S, AST + 25 * S)
    );
    // A static manifest: everything is there, nothing expires.
    let url = Url::parse("http://origin.test/live/manifest.mpd").unwrap();
    let static_mpd = NUMBER_2S.replace(r#"start="PT0S""#, r#"start="PT0S" duration="PT6S""#);
    let p = LivePresentation::parse(format!("<MPD>{static_mpd}</MPD>").as_bytes(), &url).unwrap();
    assert_eq!(p.end(), PresentationEnd::Static);
    assert!(p.has_ended(0));
    assert_eq!(
        p.available_segments(&p.representations[0], 0, None, 10)
            .len(),
        3
    );
}

#[test]
fn what_cannot_be_followed_is_refused_clearly() {
    let url = Url::parse("http://origin.test/m.mpd").unwrap();
    let no_ast = r#"<MPD type="dynamic"><Period/></MPD>"#;
    assert_eq!(
        LivePresentation::parse(no_ast.as_bytes(), &url)
            .unwrap_err()
            .to_string(),
        "MPD@type is dynamic but MPD@availabilityStartTime is missing"
    );
    let base = dynamic(
        "",
        r#"<Period id="x" start="PT0S"><AdaptationSet><Representation id="r"><BaseURL>r.mp4</BaseURL><SegmentBase indexRange="0-99"/></Representation></AdaptationSet></Period>"#,
    );
    // A Representation that cannot be followed is left out, with the reason; the others stay.
    let skipped = LivePresentation::parse(base.as_bytes(), &url).unwrap();
    assert!(skipped.representations.is_empty());
    assert_eq!(skipped.skipped[0].id, "r");
    assert_eq!(
        skipped
            .skipped
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        [
            "period x, representation \"r\": SegmentBase in a live presentation (its one resource grows as it is written) is not supported"
        ]
    );
    let zero = dynamic(
        "",
        &NUMBER_2S.replace(r#"duration="180000""#, r#"duration="0""#),
    );
    let zero = LivePresentation::parse(zero.as_bytes(), &url).unwrap();
    assert!(
        zero.skipped[0].message.ends_with("@duration is 0"),
        "{:?}",
        zero.skipped
    );
    // A bare time is read as UTC, with a warning.
    let bare = NUMBER_2S.to_string();
    let p = live(&format!(
        r#"<MPD type="dynamic" availabilityStartTime="2026-11-28T22:00:00">{bare}</MPD>"#
    ));
    assert_eq!(p.availability_start_time, AST);
    assert_eq!(p.warnings.len(), 1);
}

#[test]
fn identity_is_stable_across_refreshes() {
    // Two snapshots of a `$Number$` timeline: the later one dropped two expired entries and
    // bumped startNumber by two (DASH-IF: the only legal renumbering). The same segment has the
    // same identity in both.
    let snapshot = |start_number: u64, t: u64| {
        dynamic(
            r#"timeShiftBufferDepth="PT60S""#,
            &format!(
                r#"<Period id="p" start="PT0S"><AdaptationSet id="a"><SegmentTemplate timescale="1000" startNumber="{start_number}" media="$Number$.m4s"><SegmentTimeline><S t="{t}" d="2000" r="4"/></SegmentTimeline></SegmentTemplate><Representation id="r"/></AdaptationSet></Period>"#
            ),
        )
    };
    let now = AST + 20 * S;
    let early = live(&snapshot(100, 0));
    let late = live(&snapshot(102, 4000));
    let ids = |p: &LivePresentation| -> Vec<(SegmentId, i64)> {
        p.available_segments(&p.representations[0], now, None, usize::MAX)
            .into_iter()
            .map(|s| (s.id, s.time))
            .collect()
    };
    let (a, b) = (ids(&early), ids(&late));
    assert_eq!(a.len(), 5);
    assert_eq!(b.len(), 5);
    // Segments 102..=104 are in both, with the same identity and time.
    assert_eq!(a[2..], b[..3]);
    assert_eq!(b[0].0.key, SegmentKey::Number(102));
    assert_eq!(b[0].1, 4000);
}

#[test]
fn an_early_available_period_is_left_out_until_placed() {
    // The second Period has no @start and the first no @duration: not yet on the timeline.
    let periods = format!(
        "{}{}",
        NUMBER_2S,
        NUMBER_2S.replace(r#"id="p" start="PT0S""#, r#"id="q""#)
    );
    let p = live(&dynamic("", &periods));
    assert_eq!(p.periods.len(), 1);
    assert_eq!(p.representations.len(), 1);
    assert!(
        p.warnings[0].contains("Period q is not yet on the timeline"),
        "{:?}",
        p.warnings
    );
}

#[test]
fn identities_print_unambiguously() {
    let id = |key| SegmentId {
        period: "p 1".into(),
        adaptation_set: "a/v".into(),
        representation: "v%1".into(),
        key,
    };
    let rows = [
        (SegmentKey::Time(-5), "p%201/a%2Fv/v%251/t=-5"),
        (SegmentKey::Number(7), "p%201/a%2Fv/v%251/n=7"),
        (
            SegmentKey::Resource {
                url: "http://h/a b.mp4".into(),
                range: Some((0, 99)),
            },
            "p%201/a%2Fv/v%251/u=http:%2F%2Fh%2Fa%20b.mp4@0-99",
        ),
    ];
    for (key, text) in rows {
        assert_eq!(id(key).to_string(), text);
    }
}

#[test]
fn several_base_urls_give_the_recorder_its_failover_order() {
    let period = NUMBER_2S.replace(
        "<Period id=\"p\" start=\"PT0S\">",
        "<Period id=\"p\" start=\"PT0S\"><BaseURL dvb:priority=\"2\">https://b.test/x/</BaseURL><BaseURL dvb:priority=\"1\">https://a.test/x/</BaseURL>",
    );
    let live = live(&dynamic(
        "xmlns:dvb=\"urn:dvb:dash:dash-extensions:2014-1\"",
        &period,
    ));
    let rep = &live.representations[0];
    assert_eq!(
        rep.bases.iter().map(Url::as_str).collect::<Vec<_>>(),
        vec!["https://a.test/x/", "https://b.test/x/"]
    );
    // The first choice names the segments; the other serves them when it fails.
    let init = &rep.init.as_ref().unwrap().0;
    assert_eq!(init.as_str(), "https://a.test/x/r/init.m4s");
    assert_eq!(
        crate::plan::alternates_of(&rep.bases, init),
        vec![Url::parse("https://b.test/x/r/init.m4s").unwrap()]
    );
}

#[test]
fn files_beside_init_and_media_are_named_as_not_recorded() {
    // Index Segments, one per media segment (ISO/IEC 23009-1 §5.3.9.4.2), and a Bitstream
    // Switching Segment: the media is still recorded, and what is not is said by name.
    let with_index = NUMBER_2S.replace(
        r#"initialization="$RepresentationID$/init.m4s""#,
        r#"initialization="$RepresentationID$/init.m4s" index="$RepresentationID$/$Number$.sidx""#,
    );
    let p = live(&dynamic("", &with_index));
    assert_eq!(p.representations.len(), 1);
    assert!(p.skipped.is_empty());
    assert_eq!(
        p.warnings,
        [
            "period p, representation \"r\": its Index Segments (SegmentTemplate@index, one per media segment) not recorded (a live recording fetches init and media segments)"
        ]
    );
    let with_switching = NUMBER_2S.replace(
        r#"initialization="$RepresentationID$/init.m4s""#,
        r#"initialization="$RepresentationID$/init.m4s" bitstreamSwitching="$RepresentationID$/bss.m4s""#,
    );
    let p = live(&dynamic("", &with_switching));
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].contains("its Bitstream Switching Segment not recorded"));
    // Without them, no warning.
    assert!(live(&dynamic("", NUMBER_2S)).warnings.is_empty());
}
