//! Clock synchronisation with a scripted transport: every instant is given, so every offset and
//! uncertainty below is computed by hand.

use std::collections::HashMap;

use super::*;

const S: i128 = 1_000_000_000;
const MS: i128 = 1_000_000;
/// 2026-11-28T22:00:00Z.
const T0: i128 = 1_795_903_200 * S;

/// Answers each URL with a fixed exchange, or fails; records what it was asked.
#[derive(Default)]
struct Scripted {
    answers: HashMap<String, Result<Exchange, String>>,
    asked: Vec<TimeRequest>,
}

impl TimeFetcher for Scripted {
    async fn fetch(&mut self, request: &TimeRequest) -> Result<Exchange, String> {
        self.asked.push(request.clone());
        let url = match request {
            TimeRequest::Get(u) | TimeRequest::Head(u) => u,
        };
        if url == "http://silent/" {
            std::future::pending::<()>().await;
        }
        self.answers
            .get(url)
            .cloned()
            .unwrap_or_else(|| Err("connection refused".into()))
    }
}

fn exchange(sent: i128, received: i128, body: &str, date: Option<&str>) -> Exchange {
    Exchange {
        sent,
        received,
        body: body.as_bytes().to_vec(),
        date: date.map(str::to_string),
    }
}

fn timing(scheme: &str, value: &str) -> UtcTiming {
    UtcTiming {
        scheme_id_uri: format!("urn:mpeg:dash:utc:{scheme}:2014"),
        value: value.to_string(),
    }
}

fn run(
    timings: &[UtcTiming],
    manifest: &ManifestExchange,
    fetcher: &mut Scripted,
) -> Result<ClockSync, ClockError> {
    // Paused time: a source that never answers times out at once, deterministically.
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(synchronise(timings, manifest, fetcher))
}

const NO_MANIFEST_DATE: ManifestExchange = ManifestExchange {
    sent: 0,
    received: 0,
    date: None,
    age: None,
};

#[test]
fn each_scheme_gives_offset_and_uncertainty() {
    // The local clock is 30 s behind the server. Requests take 40 ms (sent at T0 − 30 s,
    // received 40 ms later); the server's reading is the midpoint's server time, truncated to
    // its resolution.
    let sent = T0 - 30 * S;
    let received = sent + 40 * MS;
    // (scheme, body or value, Date, expected offset, expected uncertainty).
    // xsdate with ms: reading 22:00:00.020 stands for [.020, .021): centre .0205 − midpoint
    // (sent + 20 ms) → offset 30 s + 0.5 ms; uncertainty 20 ms + 0.5 ms.
    let rows: &[(&str, &str, Option<&str>, i128, u64)] = &[
        (
            "http-xsdate",
            "2026-11-28T22:00:00.020Z",
            None,
            30 * S + MS / 2,
            20_500_000,
        ),
        (
            "http-iso",
            "2026-11-28T22:00:00.020000+00:00",
            None,
            30 * S + 500,
            20_000_500,
        ),
        // Date: whole seconds: 22:00:00 stands for [0, 1) s → centre 0.5 s; ±(20 ms + 0.5 s).
        (
            "http-head",
            "",
            Some("Sat, 28 Nov 2026 22:00:00 GMT"),
            30 * S + 480 * MS,
            520_000_000,
        ),
        // NTP as decimal seconds since 1900, to the nanosecond: centre 0.5 ns past the reading,
        // rounded down; the half nanosecond goes to the uncertainty.
        ("http-ntp", "4004892000.020000000", None, 30 * S, 20_000_002),
    ];
    for &(scheme, body, date, offset, uncertainty) in rows {
        let url = format!("http://time.test/{scheme}");
        let mut fetcher = Scripted::default();
        fetcher
            .answers
            .insert(url.clone(), Ok(exchange(sent, received, body, date)));
        let sync = run(&[timing(scheme, &url)], &NO_MANIFEST_DATE, &mut fetcher).unwrap();
        assert_eq!(
            (sync.offset, sync.uncertainty),
            (offset, uncertainty),
            "{scheme}"
        );
        assert!(!sync.is_fallback());
        let expected = if scheme == "http-head" {
            TimeRequest::Head(url)
        } else {
            TimeRequest::Get(url)
        };
        assert_eq!(fetcher.asked, [expected]);
    }
}

#[test]
fn binary_ntp_and_direct() {
    // 8 bytes: seconds since 1900 in the high half, 2^31 (half a second) in the low half.
    let raw: u64 = ((1_795_903_200u64 + 2_208_988_800) << 32) | (1 << 31);
    let reading = read_time(TimingScheme::HttpNtp, &raw.to_be_bytes(), None).unwrap();
    assert_eq!(
        reading,
        Reading {
            instant: T0 + S / 2,
            resolution: 1
        }
    );
    // direct: the value is read against the manifest's own exchange (here 100 ms long).
    let manifest = ManifestExchange {
        sent: T0 - 10 * S,
        received: T0 - 10 * S + 100 * MS,
        date: None,
        age: None,
    };
    let sync = run(
        &[timing("direct", "2026-11-28T22:00:00.05Z")],
        &manifest,
        &mut Scripted::default(),
    )
    .unwrap();
    // [.05, .06) centred at .055 − midpoint (T0 − 10 s + 50 ms) = 10.005 s; ±(50 + 5) ms.
    assert_eq!(
        (sync.offset, sync.uncertainty),
        (10 * S + 5 * MS, 55_000_000)
    );
    assert_eq!(
        sync.source,
        ClockSource::Scheme {
            scheme: TimingScheme::Direct,
            value: "2026-11-28T22:00:00.05Z".into()
        }
    );
}

#[test]
fn document_order_failures_and_fallback() {
    let sent = T0 + 30 * S;
    let received = sent + 2 * MS;
    let mut fetcher = Scripted::default();
    fetcher
        .answers
        .insert("http://a/".into(), Err("HTTP 500".into()));
    fetcher.answers.insert(
        "http://b/".into(),
        Ok(exchange(sent, received, "yesterday", None)),
    );
    fetcher.answers.insert(
        "http://c/".into(),
        Ok(exchange(sent, received, "2026-11-28T22:00:00.001Z", None)),
    );
    let timings = [
        UtcTiming {
            scheme_id_uri: "urn:mpeg:dash:utc:ntp:2014".into(),
            value: "pool.ntp.org".into(),
        },
        timing("http-xsdate", "http://a/"),
        timing("http-iso", "http://b/"),
        timing("http-xsdate", "http://c/"),
        timing("http-head", "http://d/"),
    ];
    let sync = run(&timings, &NO_MANIFEST_DATE, &mut fetcher).unwrap();
    // The client is 30 s ahead: offset −30 s (to the ms reading's centre) ± (1 ms + 0.5 ms).
    assert_eq!(
        (sync.offset, sync.uncertainty),
        (-30 * S + MS / 2, 1_500_000)
    );
    assert_eq!(fetcher.asked.len(), 3, "stops at the first that works");
    assert_eq!(
        sync.warnings,
        [
            "UTCTiming scheme \"urn:mpeg:dash:utc:ntp:2014\" is not supported; skipped",
            "UTCTiming http-xsdate: http://a/: HTTP 500",
            "UTCTiming http-iso: invalid date-time \"yesterday\" (expected ISO 8601 like 2026-11-28T22:00:00.5Z)",
        ]
    );
    // Nothing usable: the manifest's Date, flagged.
    let manifest = ManifestExchange {
        sent: T0 - 30 * S - 10 * MS,
        received: T0 - 30 * S + 10 * MS,
        date: Some("Sat, 28 Nov 2026 22:00:00 GMT".into()),
        age: None,
    };
    let sync = run(&timings[..3], &manifest, &mut Scripted::default()).unwrap();
    assert!(sync.is_fallback());
    assert_eq!(
        (sync.offset, sync.uncertainty),
        (30 * S + S / 2, 510_000_000)
    );
    assert!(sync.warnings.last().unwrap().contains("Date header"));
    assert_eq!(
        sync.describe(),
        "offset +30.500s ±0.510s (manifest Date header)"
    );
    // And without a Date either: an error that says what was tried.
    let err = run(&timings[..2], &NO_MANIFEST_DATE, &mut Scripted::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no clock to synchronise with: UTCTiming scheme")
    );
    assert!(
        err.to_string()
            .ends_with("the manifest's response has no usable Date header")
    );
    let none = run(&[], &NO_MANIFEST_DATE, &mut Scripted::default()).unwrap_err();
    assert!(none.to_string().contains("the manifest has no UTCTiming"));
}

#[test]
fn waiting_out_the_uncertainty() {
    let sync = ClockSync {
        source: ClockSource::ManifestDate,
        offset: 30 * S,
        uncertainty: 500_000_000,
        warnings: Vec::new(),
    };
    // A segment available at server time T0 is surely available at local T0 − 30 s + 0.5 s.
    assert_eq!(sync.local_time_when_surely(T0), T0 - 30 * S + S / 2);
    assert_eq!(sync.server_time(T0 - 30 * S), T0);
}

#[test]
fn readings_refuse_what_is_not_a_time() {
    let rows: &[(TimingScheme, &[u8], Option<&str>)] = &[
        (TimingScheme::HttpHead, b"", None),
        (TimingScheme::HttpHead, b"", Some("yesterday")),
        (TimingScheme::HttpNtp, b"abcdefg", None),
        (TimingScheme::HttpNtp, b"12.3.4", None),
        (TimingScheme::HttpXsdate, &[0xff, 0xfe], None),
        (TimingScheme::HttpIso, &[b'1'; 300], None),
    ];
    for (scheme, body, date) in rows {
        assert!(
            read_time(*scheme, body, *date).is_err(),
            "{scheme:?} {body:?}"
        );
    }
    assert_eq!(
        measure(
            Reading {
                instant: 0,
                resolution: 1
            },
            10,
            9
        ),
        None
    );
    assert_eq!(
        TimingScheme::from_uri("urn:mpeg:dash:utc:http-xsdate:2012"),
        Some(TimingScheme::HttpXsdate)
    );
    assert_eq!(TimingScheme::from_uri("urn:mpeg:dash:utc:sntp:2014"), None);
}

#[test]
fn the_local_clock_maps_instants_both_ways() {
    let clock = LocalClock::new();
    let later = clock.instant_at(clock.now() + 5 * S);
    let back = clock.at_instant(later);
    // Round trip through the monotonic clock, exact to the nanosecond.
    assert_eq!(clock.instant_at(back), later);
    assert_eq!(
        clock.at_instant(clock.instant_at(i128::MIN)),
        clock.at_instant(clock.instant_at(0))
    );
}

#[test]
fn a_silent_source_costs_two_seconds_and_a_stale_direct_value_is_skipped() {
    let sent = T0 + 30 * S;
    let mut fetcher = Scripted::default();
    fetcher.answers.insert(
        "http://c/".into(),
        Ok(exchange(
            sent,
            sent + 2 * MS,
            "2026-11-28T22:00:00.001Z",
            None,
        )),
    );
    // The manifest was served at T0 + 40 s (its Date) after 20 s in a cache (its Age), but its
    // `direct` value says T0: made a minute before it was served.
    let manifest = ManifestExchange {
        sent,
        received: sent + 2 * MS,
        date: Some("Sat, 28 Nov 2026 22:00:40 GMT".into()),
        age: Some(20),
    };
    let timings = [
        timing("http-xsdate", "http://silent/"),
        timing("direct", "2026-11-28T22:00:00Z"),
        timing("http-xsdate", "http://c/"),
    ];
    let sync = run(&timings, &manifest, &mut fetcher).unwrap();
    assert_eq!(
        sync.source,
        ClockSource::Scheme {
            scheme: TimingScheme::HttpXsdate,
            value: "http://c/".into()
        }
    );
    assert_eq!(
        sync.warnings,
        [
            "UTCTiming http-xsdate: http://silent/: no answer within 2 s",
            "UTCTiming direct: the value is 60.0 s older than the manifest's response (Date + Age): a cached manifest; skipped",
        ]
    );
    // A fresh one (within the Date's resolution) is used.
    let fresh = [timing("direct", "2026-11-28T22:00:59.5Z")];
    let sync = run(&fresh, &manifest, &mut Scripted::default()).unwrap();
    assert!(sync.warnings.is_empty(), "{:?}", sync.warnings);
}
