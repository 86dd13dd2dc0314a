//! The live test origin behaves as it claims: availability exact to the nanosecond in every
//! addressing mode, looped segments that are valid fMP4 with the right `mfhd`/`tfdt`, manifests
//! the crate parses and plans, clock schemes that follow its skewed clock, every end signal,
//! and its faults.
use dashget_testkit as common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::live_origin::client::*;
use common::live_origin::*;
use dashget::dump::{DumpOptions, dump_file};
use dashget::mpd::{PresentationType, parse_mpd};

#[test]
fn availability_is_exact_in_every_mode() {
    for mode in MODES {
        let (origin, ast) = origin_with_buffer(mode, 100, 10);
        // (track, index, available from, until) computed by hand: video 0.4 s segments,
        // audio 0.384 s; a segment is available once it has ended, for 10 s more.
        let rows: &[(&str, u64, i128, i128)] = &[
            ("v", 0, 400_000_000, 10_400_000_000),
            ("v", 10, 4_400_000_000, 14_400_000_000),
            ("a", 10, 4_224_000_000, 14_224_000_000),
            ("a", 260, 100_224_000_000, 110_224_000_000),
        ];
        for &(track, index, from, until) in rows {
            let (from, until) = (ast + from, ast + until);
            assert_eq!(origin.availability("p0", track, index), Some((from, until)));
            let path = origin.segment_path("p0", track, index);
            for (at, status) in [(from - 1, 404), (from, 200), (until, 200), (until + 1, 404)] {
                origin.freeze(Some(at));
                assert_eq!(
                    get(&origin, &path).status,
                    status,
                    "{mode:?} {path} at {}",
                    at - ast
                );
            }
        }
        origin.freeze(Some(ast - 1));
        assert_eq!(get(&origin, "live/p0/v/init.m4s").status, 404);
        origin.freeze(Some(ast));
        assert_eq!(get(&origin, "live/p0/v/init.m4s").status, 200);
        // The log holds the server time of each request, and which were early.
        let early = origin.early_requests();
        assert_eq!(early.len(), 4, "{mode:?}: one early request per row");
        assert!(
            early
                .iter()
                .all(|r| r.status == 404 && r.at + 1 == r.segment.as_ref().unwrap().available_from)
        );
        // A name the mode does not use is not a segment.
        let wrong = match mode {
            Addressing::TimelineTime | Addressing::TimelineOpen => "live/p0/v/n11.m4s",
            _ => "live/p0/v/t5120.m4s",
        };
        origin.freeze(Some(ast + 50 * S));
        assert_eq!(get(&origin, wrong).status, 404);
    }
}

/// (mfhd sequence, tfdt, sidx earliest presentation time) of a segment, from the crate's dump.
fn segment_fields(bytes: &[u8]) -> (u64, u64, u64) {
    let mut text = Vec::new();
    let stats = dump_file(
        &mut std::io::Cursor::new(bytes),
        bytes.len() as u64,
        &mut text,
        &DumpOptions::default(),
    )
    .unwrap();
    assert_eq!(stats.malformed, 0, "a malformed box");
    let text = String::from_utf8(text).unwrap();
    let value = |key: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("no {key} in\n{text}"));
        line.rsplit("= ").next().unwrap().trim().parse().unwrap()
    };
    (
        value("sequence number"),
        value("base media decode time"),
        value("earliest_presentation_time"),
    )
}

#[test]
fn looped_segments_are_valid_fmp4_with_moved_times() {
    let ast = whole_seconds_ago(100);
    let origin = LiveOrigin::start(LiveConfig::new(Addressing::Number, ast));
    let tracks = origin.tracks();
    for track in tracks.iter() {
        let d = track.segment_duration;
        for k in [0u64, 4, 5, 7, 12, 200] {
            origin.freeze(origin.availability("p0", track.id, k).map(|w| w.0));
            let reply = get(&origin, &origin.segment_path("p0", track.id, k));
            assert_eq!(reply.status, 200);
            let source = track.segment(k % 5, 0);
            assert_eq!(reply.body.len(), source.len());
            assert_eq!(
                segment_fields(&reply.body),
                (k + 1, k * d, k * d),
                "{} {k}",
                track.id
            );
            // Only the rewritten fields differ from the source segment.
            let differing = reply
                .body
                .iter()
                .zip(&source)
                .filter(|(a, b)| a != b)
                .count();
            assert!(differing <= 3 * 8, "{differing} bytes differ");
            assert_eq!(reply.body, origin.expected_segment("p0", track.id, k));
        }
        let init = get(&origin, &format!("live/p0/{}/init.m4s", track.id));
        assert_eq!(init.body, track.init);
    }
}

#[test]
fn manifests_parse_and_list_exactly_the_buffer() {
    for mode in MODES {
        let (origin, ast) = origin_with_buffer(mode, 200, 10);
        origin.freeze(Some(ast + 100 * S));
        let reply = get(&origin, "live/manifest.mpd");
        assert_eq!(reply.status, 200);
        let mpd =
            parse_mpd(&reply.body).unwrap_or_else(|e| panic!("{mode:?}: {e}\n{}", reply.text()));
        assert_eq!(mpd.presentation_type, PresentationType::Dynamic);
        assert_eq!(mpd.periods.len(), 1);
        let sets = &mpd.periods[0].adaptation_sets;
        assert_eq!(sets.len(), 2);
        // At AST + 100 s with a 10 s buffer, by hand: video 224..=249, audio 234..=259.
        for (set, (first, last, d)) in sets
            .iter()
            .zip([(224u64, 249u64, 5120u64), (234, 259, 18432)])
        {
            let info = &set.representations[0].segment_info;
            match mode {
                Addressing::Number => {
                    let t = info.template.as_ref().unwrap();
                    assert_eq!(t.common.duration_e9, Some(u128::from(d) * 1_000_000_000));
                    assert_eq!(t.common.start_number, Some(1));
                }
                Addressing::List => {
                    let l = info.list.as_ref().unwrap();
                    assert_eq!(l.segment_urls.len() as u64, last - first + 1);
                    assert_eq!(l.common.start_number, Some(1 + first));
                }
                _ => {
                    let t = info.template.as_ref().unwrap();
                    let s = t.common.timeline.as_ref().unwrap();
                    assert_eq!(s.len(), 1);
                    assert_eq!(s[0].t, Some((first * d) as i64));
                    assert_eq!(s[0].d, d);
                    let r = if mode == Addressing::TimelineOpen {
                        -1
                    } else {
                        (last - first) as i64
                    };
                    assert_eq!(s[0].r, r, "{mode:?}");
                    if mode == Addressing::TimelineNumber {
                        assert_eq!(t.common.start_number, Some(1 + first));
                    }
                }
            }
        }
        // Explicit lists plan with the crate's planner, and every planned segment is served
        // now; the next one is not yet.
        if matches!(
            mode,
            Addressing::TimelineTime | Addressing::TimelineNumber | Addressing::List
        ) {
            let url = url::Url::parse(&origin.manifest_url()).unwrap();
            let plan = dashget::plan::plan(&reply.body, &url).unwrap();
            assert_eq!(plan.representations.len(), 2);
            for rep in &plan.representations {
                assert_eq!(rep.segments().count(), 1 + 26, "{mode:?} {}", rep.id);
                for segment in rep.segments() {
                    assert_eq!(
                        get(&origin, segment.url.path()).status,
                        200,
                        "{}",
                        segment.url
                    );
                }
            }
            for (track, next) in [("v", 250), ("a", 260)] {
                assert_eq!(
                    get(&origin, &origin.segment_path("p0", track, next)).status,
                    404
                );
            }
        }
    }
}

#[test]
fn clock_schemes_follow_the_skewed_server_clock() {
    let ast = whole_seconds_ago(100);
    let mut config = LiveConfig::new(Addressing::Number, ast);
    config.utc_timing = vec![
        UtcScheme::HttpXsdate,
        UtcScheme::HttpIso,
        UtcScheme::HttpHead,
        UtcScheme::HttpNtp,
        UtcScheme::Direct,
    ];
    let origin = LiveOrigin::start(config);
    origin.set_skew(30 * S);
    let skewed = origin.now();
    assert!((skewed - unix_now() - 30 * S).abs() < S);
    // 2026-11-28T22:00:00.123456789Z
    let t: i128 = 1_795_903_200_123_456_789;
    origin.freeze(Some(t));
    assert_eq!(
        get(&origin, "time/xsdate").text(),
        "2026-11-28T22:00:00.123Z"
    );
    assert_eq!(
        get(&origin, "time/iso").text(),
        "2026-11-28T22:00:00.123456+00:00"
    );
    let head = request(&origin, "HEAD", "time/head", "").unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("date"), Some("Sat, 28 Nov 2026 22:00:00 GMT"));
    let dates = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("date"));
    assert_eq!(dates.count(), 1, "one Date header, the origin's own");
    let ntp = get(&origin, "time/ntp").body;
    let value = u64::from_be_bytes(ntp.try_into().unwrap());
    assert_eq!(value >> 32, 1_795_903_200 + 2_208_988_800);
    assert_eq!(((value & 0xffff_ffff) * 1_000_000_000) >> 32, 123_456_788);
    let mpd = get(&origin, "live/manifest.mpd");
    assert_eq!(mpd.header("date"), Some("Sat, 28 Nov 2026 22:00:00 GMT"));
    let text = mpd.text();
    let schemes: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("urn:mpeg:dash:utc:").nth(1))
        .map(|rest| rest.split(':').next().unwrap())
        .collect();
    assert_eq!(
        schemes,
        ["http-xsdate", "http-iso", "http-head", "http-ntp", "direct"]
    );
    assert!(
        text.contains("value=\"2026-11-28T22:00:00.123Z\""),
        "{text}"
    );
    assert!(text.contains(&format!("value=\"{}\"", origin.url("time/xsdate"))));
}

#[test]
fn every_end_signal() {
    let cases = [
        EndSignal::Static,
        EndSignal::MediaPresentationDuration,
        EndSignal::PeriodDuration,
        EndSignal::AvailabilityEndTime(5 * SEC),
        EndSignal::ManifestGone(410),
    ];
    for signal in cases {
        let ast = whole_seconds_ago(100);
        let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
        config.tsbd = 10 * SEC;
        // 19.2 s: 48 video and 50 audio segments.
        config.end = Some(StreamEnd {
            at: 19_200_000_000,
            signal,
        });
        let origin = LiveOrigin::start(config);
        origin.freeze(Some(ast + 19 * S));
        let before = get(&origin, "live/manifest.mpd").text();
        assert!(before.contains("type=\"dynamic\"") && before.contains("minimumUpdatePeriod"));
        assert!(!before.contains("mediaPresentationDuration") && !before.contains("duration=\"PT"));
        assert_eq!(
            before.contains("availabilityEndTime"),
            matches!(signal, EndSignal::AvailabilityEndTime(_))
        );
        origin.freeze(Some(ast + 20 * S));
        let after = get(&origin, "live/manifest.mpd");
        let text = after.text();
        match signal {
            EndSignal::Static => {
                assert!(
                    text.contains("type=\"static\"")
                        && text.contains("mediaPresentationDuration=\"PT19.2S\"")
                );
                assert!(
                    !text.contains("minimumUpdatePeriod") && !text.contains("timeShiftBufferDepth")
                );
            }
            EndSignal::MediaPresentationDuration => {
                assert!(
                    text.contains("type=\"dynamic\"")
                        && text.contains("mediaPresentationDuration=\"PT19.2S\"")
                );
                assert!(!text.contains("minimumUpdatePeriod"));
            }
            EndSignal::PeriodDuration => {
                assert!(
                    text.contains("duration=\"PT19.2S\"") && !text.contains("minimumUpdatePeriod")
                );
            }
            EndSignal::AvailabilityEndTime(_) => {
                assert!(text.contains(&format!(
                    "availabilityEndTime=\"{}\"",
                    xs_datetime(ast + 24_200_000_000, 3)
                )));
            }
            EndSignal::ManifestGone(code) => assert_eq!(after.status, code),
            EndSignal::Silent => assert!(text.contains("minimumUpdatePeriod")),
        }
        if after.status == 200 {
            let mpd = parse_mpd(&after.body).unwrap();
            let timeline = mpd.periods[0].adaptation_sets[0].representations[0]
                .segment_info
                .template
                .as_ref()
                .and_then(|t| t.common.timeline.clone())
                .unwrap();
            // The last listed video segment is the 48th: 47 × 5120.
            let last = timeline.last().unwrap();
            assert_eq!(last.t.unwrap() as u64 + last.r as u64 * 5120, 47 * 5120);
        }
        // Nothing starts at or after the end.
        assert_eq!(origin.availability("p0", "v", 48), None);
        assert_eq!(origin.availability("p0", "a", 50), None);
        assert_eq!(
            get(&origin, &origin.segment_path("p0", "v", 48)).status,
            404
        );
        assert_eq!(
            get(&origin, &origin.segment_path("p0", "v", 47)).status,
            200
        );
        if let EndSignal::AvailabilityEndTime(_) = signal {
            origin.freeze(Some(ast + 24_200_000_001));
            assert_eq!(
                get(&origin, &origin.segment_path("p0", "v", 47)).status,
                404
            );
        }
    }
}

#[test]
fn new_period_encoder_gap_and_stale_manifest() {
    let ast = whole_seconds_ago(100);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.tsbd = 30 * SEC;
    // Video 12..=14 overlap [5 s, 6 s); audio 13..=15.
    config.encoder_gaps = vec![(5 * SEC, 6 * SEC)];
    let origin = LiveOrigin::start(config);
    origin.freeze(Some(ast + 10 * S));
    let mpd = parse_mpd(&get(&origin, "live/manifest.mpd").body).unwrap();
    let video = mpd.periods[0].adaptation_sets[0].representations[0]
        .segment_info
        .template
        .as_ref()
        .and_then(|t| t.common.timeline.clone())
        .unwrap();
    let runs: Vec<(i64, i64)> = video.iter().map(|s| (s.t.unwrap(), s.r)).collect();
    assert_eq!(runs, [(0, 11), (15 * 5120, 24 - 15 - 1 + 1)]);
    assert_eq!(origin.availability("p0", "v", 13), None);
    assert_eq!(
        get(&origin, &origin.segment_path("p0", "v", 13)).status,
        404
    );
    assert_eq!(
        origin.availability("p0", "a", 12).map(|w| w.0),
        Some(ast + 4_992_000_000)
    );
    assert_eq!(origin.availability("p0", "a", 13), None);

    // A new Period at 19.2 s whose media time starts at 19.2 s (PTO 245760 video ticks).
    origin.update(|c| {
        c.periods.push(PeriodSpec {
            id: "p1".into(),
            start: 19_200_000_000,
            media_offset: 19_200_000_000,
        })
    });
    origin.freeze(Some(ast + 19 * S));
    let one = parse_mpd(&get(&origin, "live/manifest.mpd").body).unwrap();
    assert_eq!(one.periods.len(), 1);
    origin.freeze(Some(ast + 21 * S));
    let two = parse_mpd(&get(&origin, "live/manifest.mpd").body).unwrap();
    assert_eq!(two.periods.len(), 2);
    assert_eq!(two.periods[1].start, Some(19_200_000_000));
    // p0's last segments end exactly at the boundary; p1 numbers from 0 again.
    assert_eq!(
        origin.availability("p0", "v", 47).map(|w| w.0),
        Some(ast + 19_200_000_000)
    );
    assert_eq!(origin.availability("p0", "v", 48), None);
    assert_eq!(
        origin.availability("p1", "v", 0).map(|w| w.0),
        Some(ast + 19_600_000_000)
    );
    let first = get(&origin, &origin.segment_path("p1", "v", 0));
    assert_eq!(origin.segment_path("p1", "v", 0), "live/p1/v/t245760.m4s");
    assert_eq!(segment_fields(&first.body), (1, 245_760, 245_760));

    // A stale manifest (a CDN 5 s behind) lists less and says it is older.
    let fresh = get(&origin, "live/manifest.mpd").text();
    origin.update(|c| c.manifest_lag = 5 * SEC);
    let stale = get(&origin, "live/manifest.mpd").text();
    let publish = |text: &str| text.split("publishTime=\"").nth(1).unwrap()[..24].to_string();
    assert!(
        publish(&stale) < publish(&fresh),
        "{} {}",
        publish(&stale),
        publish(&fresh)
    );
    assert_eq!(parse_mpd(stale.as_bytes()).unwrap().periods.len(), 1);
}

#[test]
fn faults_fail_late_stall_restart_and_conditional_get() {
    let ast = whole_seconds_ago(100);
    let origin = LiveOrigin::start(LiveConfig::new(Addressing::Number, ast));
    let path = origin.segment_path("p0", "v", 200);
    origin.fail("/v/", 503, 2);
    assert_eq!(get(&origin, &path).status, 503);
    assert_eq!(get(&origin, &path).status, 503);
    assert_eq!(get(&origin, &path).status, 200);

    // Late: 404 from its availability until the publishing delay has passed, then 200.
    let (from, _) = origin.availability("p0", "a", 100).unwrap();
    origin.publish_late("p0", "a", 100, 2 * SEC);
    let late_path = origin.segment_path("p0", "a", 100);
    origin.freeze(Some(from));
    assert_eq!(get(&origin, &late_path).status, 404);
    origin.freeze(Some(from + 2 * S - 1));
    assert_eq!(get(&origin, &late_path).status, 404);
    origin.freeze(Some(from + 2 * S));
    assert_eq!(get(&origin, &late_path).status, 200);
    origin.freeze(None);

    // Stalled: no answer at all; afterwards answers again.
    origin.stall(true);
    let mut stream = TcpStream::connect(origin.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    write!(stream, "GET /{path} HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let mut byte = [0u8; 1];
    let read = stream.read(&mut byte);
    assert!(read.is_err(), "an answer during a stall: {read:?}");
    origin.stall(false);
    assert_eq!(get(&origin, &path).status, 200);

    // Stopped: connections refused; restarted on the same port.
    origin.stop();
    assert!(request(&origin, "GET", &path, "").is_err());
    origin.restart();
    assert_eq!(get(&origin, &path).status, 200);

    // Conditional GET of the manifest.
    origin.freeze(Some(ast + 50 * S));
    let first = get(&origin, "live/manifest.mpd");
    let etag = first.header("etag").unwrap().to_string();
    let again = request(
        &origin,
        "GET",
        "live/manifest.mpd",
        &format!("if-none-match: {etag}\r\n"),
    )
    .unwrap();
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    // Every request is in the log, with the server time it arrived.
    let log = origin.requests();
    assert!(log.iter().any(|r| r.status == 503));
    assert_eq!(log.last().unwrap().at, ast + 50 * S);
}

#[test]
fn availability_time_offset_location_and_redirect() {
    let ast = whole_seconds_ago(100);
    let mut config = LiveConfig::new(Addressing::TimelineTime, ast);
    config.tsbd = 10 * SEC;
    config.ato = 1_500_000_000;
    config.location = Some("live/elsewhere.mpd".into());
    let origin = LiveOrigin::start(config);
    // Video 10 ends at 4.4 s: available 1.5 s earlier, leaves the buffer 10 s after its end.
    let (from, until) = origin.availability("p0", "v", 10).unwrap();
    assert_eq!((from - ast, until - ast), (2_900_000_000, 14_400_000_000));
    let path = origin.segment_path("p0", "v", 10);
    origin.freeze(Some(from - 1));
    assert_eq!(get(&origin, &path).status, 404);
    origin.freeze(Some(from));
    assert_eq!(get(&origin, &path).status, 200);
    let text = get(&origin, "live/manifest.mpd").text();
    assert!(text.contains("availabilityTimeOffset=\"1.5\""), "{text}");
    let location = format!("<Location>{}</Location>", origin.url("live/elsewhere.mpd"));
    assert!(text.contains(&location), "{text}");
    assert_eq!(get(&origin, "live/elsewhere.mpd").text(), text);
    // The library reads the offset off the manifest.
    let url = url::Url::parse(&origin.manifest_url()).unwrap();
    let live = dashget::live::LivePresentation::parse(text.as_bytes(), &url).unwrap();
    assert_eq!(
        live.representations[0].availability_time_offset.nanos,
        Some(1_500_000_000)
    );
    assert_eq!(
        live.attributes.location.as_deref(),
        Some(origin.url("live/elsewhere.mpd").as_str())
    );
    // A redirect of the manifest.
    origin.redirect("/live/manifest.mpd", "/live/moved.mpd");
    let moved = get(&origin, "live/manifest.mpd");
    assert_eq!(moved.status, 302);
    assert_eq!(
        moved.header("location"),
        Some(origin.url("live/moved.mpd").as_str())
    );
    assert_eq!(get(&origin, "live/moved.mpd").status, 200);
}
