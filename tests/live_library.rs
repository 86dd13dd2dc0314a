//! The live library against the live test origin: its clock finds the origin's skew with
//! every scheme, its availability agrees with the origin on every segment in every mode, and
//! clock, availability and recording compose into a recorder that asks for nothing early.
use dashget_testkit as common;

use std::time::Duration;

use common::live_origin::client::*;
use common::live_origin::*;
use dashget::dump::DumpOptions;

/// GETs the manifest: its bytes, and the exchange the clock needs (local send and receive
/// instants, `Date`).
async fn fetch_manifest(
    client: &reqwest::Client,
    origin: &LiveOrigin,
) -> (bytes::Bytes, dashget::live::clock::ManifestExchange) {
    let sent = unix_now();
    let response = client.get(origin.manifest_url()).send().await.unwrap();
    let date = response
        .headers()
        .get("date")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.bytes().await.unwrap();
    let exchange = dashget::live::clock::ManifestExchange {
        sent,
        received: unix_now(),
        date,
        age: None,
    };
    (bytes, exchange)
}

/// The library's clock over a real HTTP client, as the engine will plug it in.
struct HttpTime(reqwest::Client);

impl dashget::live::clock::TimeFetcher for HttpTime {
    async fn fetch(
        &mut self,
        request: &dashget::live::clock::TimeRequest,
    ) -> Result<dashget::live::clock::Exchange, String> {
        use dashget::live::clock::TimeRequest;
        let (method, url) = match request {
            TimeRequest::Get(u) => (reqwest::Method::GET, u),
            TimeRequest::Head(u) => (reqwest::Method::HEAD, u),
        };
        let sent = unix_now();
        let response = self
            .0
            .request(method, url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let date = response
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok(dashget::live::clock::Exchange {
            sent,
            received: unix_now(),
            body,
            date,
        })
    }
}

#[tokio::test]
async fn the_library_clock_finds_the_origin_skew_with_every_scheme() {
    use dashget::live::clock::{ClockSource, synchronise};
    let schemes: &[&[UtcScheme]] = &[
        &[UtcScheme::HttpXsdate],
        &[UtcScheme::HttpIso],
        &[UtcScheme::HttpHead],
        &[UtcScheme::HttpNtp],
        &[UtcScheme::Direct],
        &[],
    ];
    let client = reqwest::Client::new();
    for skew in [30 * S, -30 * S] {
        for &offered in schemes {
            let mut config = LiveConfig::new(Addressing::Number, whole_seconds_ago(100));
            config.utc_timing = offered.to_vec();
            let origin = LiveOrigin::start(config);
            origin.set_skew(skew);
            let (bytes, manifest) = fetch_manifest(&client, &origin).await;
            let attributes = dashget::mpd::parse_mpd(&bytes).unwrap().live;
            let sync = synchronise(
                &attributes.utc_timing,
                &manifest,
                &mut HttpTime(client.clone()),
            )
            .await
            .unwrap();
            // Both clocks are this machine's: the true offset is the skew, exactly.
            let error = (sync.offset - skew).unsigned_abs();
            assert!(
                error <= u128::from(sync.uncertainty),
                "{offered:?} {skew}: {} misses by {error} ns",
                sync.describe()
            );
            assert_eq!(sync.is_fallback(), offered.is_empty(), "{offered:?}");
            if let ClockSource::Scheme { scheme, .. } = &sync.source {
                // A whole-second Date is only known to ±0.5 s; the others much better.
                let coarse = scheme.name() == "http-head";
                assert_eq!(
                    sync.uncertainty >= 500_000_000,
                    coarse,
                    "{}",
                    sync.describe()
                );
            }
        }
    }
}

#[test]
fn the_library_agrees_with_the_origin_on_every_segment() {
    use dashget::live::{LivePresentation, SegmentKey};
    for mode in MODES {
        let ast = whole_seconds_ago(300);
        let mut config = LiveConfig::new(mode, ast);
        config.tsbd = 8 * SEC;
        config.ato = 250_000_000;
        config.encoder_gaps = vec![(95 * SEC, 96 * SEC)];
        config.periods.push(PeriodSpec {
            id: "p1".into(),
            start: 96 * SEC,
            media_offset: 96 * SEC,
        });
        let origin = LiveOrigin::start(config);
        let url = url::Url::parse(&origin.manifest_url()).unwrap();
        // Instants around the Period boundary and the gap, each on and off a segment edge.
        for at in [
            90 * S,
            95 * S + 600_000_000,
            96 * S,
            96 * S + 384_000_000,
            97 * S + 1,
            103_999_999_999,
        ] {
            let now = ast + at;
            origin.freeze(Some(now));
            let live =
                LivePresentation::parse(get(&origin, "live/manifest.mpd").body.as_slice(), &url)
                    .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
            for rep in &live.representations {
                let period = &live.period(rep).label;
                let segments = live.available_segments(rep, now, None, usize::MAX);
                for segment in &segments {
                    let path = segment.url.path().trim_start_matches('/');
                    let index = origin_index(&origin, period, &rep.id, path);
                    let Some(index) = index else {
                        panic!(
                            "{mode:?} at {at}: the library lists {path}, which the origin does not make"
                        );
                    };
                    let Some((from, until)) = origin.availability(period, &rep.id, index) else {
                        // An encoder gap: a @duration template counts it; it never comes.
                        assert_eq!(mode, Addressing::Number, "{path}");
                        assert_eq!(get(&origin, path).status, 404);
                        continue;
                    };
                    assert_eq!(segment.available_from, from, "{mode:?} {path}");
                    assert_eq!(segment.due_by, until, "{mode:?} {path}");
                    assert_eq!(get(&origin, path).status, 200, "{mode:?} {path} at {at}");
                    if let SegmentKey::Time(t) = segment.id.key {
                        assert!(path.ends_with(&format!("/t{t}.m4s")));
                    }
                }
                // And nothing the origin has available is missing from the library's list
                // (in the modes that list; @duration counts from the clock, gaps included).
                let listed: Vec<u64> = segments
                    .iter()
                    .filter_map(|s| {
                        origin_index(
                            &origin,
                            period,
                            &rep.id,
                            s.url.path().trim_start_matches('/'),
                        )
                    })
                    .collect();
                let expected: Vec<u64> = (0..400)
                    .filter(|&k| {
                        origin
                            .availability(period, &rep.id, k)
                            .is_some_and(|(from, until)| from <= now && now <= until)
                    })
                    .collect();
                if mode == Addressing::Number {
                    // The gap's numbers are counted (they 404); the rest is the origin's.
                    let without_gap: Vec<u64> = listed
                        .iter()
                        .copied()
                        .filter(|&k| origin.availability(period, &rep.id, k).is_some())
                        .collect();
                    assert_eq!(
                        without_gap, expected,
                        "{mode:?} {period}/{} at {at}",
                        rep.id
                    );
                } else {
                    assert_eq!(listed, expected, "{mode:?} {period}/{} at {at}", rep.id);
                }
            }
        }
    }
}

/// The origin's index of the segment at `path`, by trying the indices it could be.
fn origin_index(origin: &LiveOrigin, period: &str, track: &str, path: &str) -> Option<u64> {
    (0..400).find(|&k| origin.segment_path(period, track, k) == path)
}

/// The pieces compose into a recorder: a skewed origin, the clock from its coarsest scheme,
/// availability from each refreshed manifest (waiting out the clock's uncertainty), fetches,
/// and the static manifest of what was recorded, which plans back to the files and dumps
/// cleanly. Nothing is asked before it exists. (A reference loop for the engine's recorder,
/// running a couple of seconds of real time per case; it asserts no durations.)
#[tokio::test]
async fn clock_availability_and_recording_compose_against_a_skewed_origin() {
    use dashget::live::clock::synchronise;
    use dashget::live::recording::Recording;
    use dashget::live::{LivePresentation, SegmentId};
    use std::collections::HashSet;
    let client = reqwest::Client::new();
    for (skew, mode) in [
        (30 * S, Addressing::TimelineTime),
        (-30 * S, Addressing::Number),
    ] {
        let ast = ((unix_now() + skew) / S - 20) * S;
        let mut config = LiveConfig::new(mode, ast);
        config.tsbd = 10 * SEC;
        config.utc_timing = vec![UtcScheme::HttpHead];
        let origin = LiveOrigin::start(config);
        origin.set_skew(skew);
        let manifest_url = url::Url::parse(&origin.manifest_url()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut recording = Recording::new();
        let mut done: HashSet<SegmentId> = HashSet::new();
        let mut inits: HashSet<String> = HashSet::new();
        let mut since: Option<Vec<i128>> = None;
        let mut sync = None;
        let stop = unix_now() + 2_500_000_000;
        loop {
            let (bytes, exchange) = fetch_manifest(&client, &origin).await;
            let live = LivePresentation::parse(&bytes, &manifest_url).unwrap();
            if sync.is_none() {
                let found = synchronise(
                    &live.attributes.utc_timing,
                    &exchange,
                    &mut HttpTime(client.clone()),
                )
                .await
                .unwrap();
                assert!((found.offset - skew).unsigned_abs() <= u128::from(found.uncertainty));
                sync = Some(found);
            }
            let clock = sync.as_ref().unwrap();
            // The earliest the server's clock can read now.
            let surely = clock.server_time(unix_now()) - i128::from(clock.uncertainty);
            // Default start: the live edge of each representation when the recording begins.
            let starts = since.get_or_insert_with(|| {
                live.representations
                    .iter()
                    .map(|rep| live.live_edge(rep, surely).map_or(0, |s| s.start))
                    .collect()
            });
            for (rep, start) in live.representations.iter().zip(starts.iter()) {
                if let Some((init, _)) = &rep.init
                    && inits.insert(init.to_string())
                {
                    let path = dashget::layout::local_path(&manifest_url, init);
                    let body = client
                        .get(init.clone())
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    std::fs::create_dir_all(dir.path().join(&path).parent().unwrap()).unwrap();
                    std::fs::write(dir.path().join(&path), &body).unwrap();
                    recording.add_init(&live, rep, &path.to_string_lossy());
                }
                for segment in live.available_segments(rep, surely, Some(*start), 64) {
                    if !done.insert(segment.id.clone()) {
                        continue;
                    }
                    let response = client.get(segment.url.clone()).send().await.unwrap();
                    assert_eq!(response.status(), 200, "{}", segment.url);
                    let body = response.bytes().await.unwrap();
                    let path = dashget::layout::local_path(&manifest_url, &segment.url);
                    std::fs::create_dir_all(dir.path().join(&path).parent().unwrap()).unwrap();
                    std::fs::write(dir.path().join(&path), &body).unwrap();
                    recording.add_segment(&live, rep, &segment, &path.to_string_lossy());
                }
            }
            std::fs::write(dir.path().join("manifest.mpd"), recording.render()).unwrap();
            if unix_now() > stop {
                break;
            }
            // Sleep until the next segment is surely available (at most 200 ms).
            let next = live
                .representations
                .iter()
                .filter_map(|rep| live.next_availability(rep, surely))
                .map(|at| clock.local_time_when_surely(at))
                .min()
                .unwrap_or(i128::MAX);
            let wait = (next - unix_now()).clamp(1_000_000, 200_000_000);
            tokio::time::sleep(Duration::from_nanos(wait as u64)).await;
        }
        assert!(
            origin.early_requests().is_empty(),
            "{:?}",
            origin.early_requests()
        );
        assert!(
            origin.requests().iter().all(|r| r.status == 200),
            "{:?}",
            origin
                .requests()
                .iter()
                .filter(|r| r.status != 200)
                .collect::<Vec<_>>()
        );
        // Every representation recorded back to back from its start.
        assert!(
            recording.segment_count() >= 4,
            "{}",
            recording.segment_count()
        );
        for rep in recording
            .periods
            .iter()
            .flat_map(|p| &p.adaptation_sets)
            .flat_map(|a| &a.representations)
        {
            let segments: Vec<_> = rep.segments.iter(&rep.clock).collect();
            assert!(
                segments
                    .windows(2)
                    .all(|w| w[1].time == w[0].time + w[0].duration as i64)
            );
            // Back to back and named by one template: held as one span, however long.
            assert_eq!(rep.segments.spans(), 1, "{}", rep.info.id);
        }
        // The static manifest plans back to exactly the files, and dumps cleanly.
        let text = std::fs::read(dir.path().join("manifest.mpd")).unwrap();
        let local = url::Url::from_file_path(dir.path().join("manifest.mpd")).unwrap();
        let plan = dashget::plan::plan(&text, &local).unwrap();
        for (_, segment) in plan.segments() {
            assert!(
                dir.path().join(&segment.path).is_file(),
                "{}",
                segment.path.display()
            );
        }
        let report = dashget::dump_folder::dump_folder(&dashget::dump_folder::FolderOptions {
            folder: dir.path().to_path_buf(),
            mpd: Some("manifest.mpd".into()),
            reps: Vec::new(),
            dump: DumpOptions::default(),
            concat: false,
        })
        .unwrap();
        assert!(report.is_clean(), "{report:?}");
    }
}
