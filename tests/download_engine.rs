//! The engine (`fetch::download`) against the test server: faults, resume, journal, size
//! checks, cancellation. Plans are built here from a fixture folder (one segment per file), so
//! these tests exercise transport and storage alone.

use dashget_testkit as common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Fault, TestServer, When, assert_same_tree, fixtures};
use dashget::fetch::{self, Cancel, Event, FetchOptions, ProgressSink, Summary};
use dashget::plan::{ByteRange, Plan, RepresentationPlan, Segment, SegmentKind};
use dashget::store::{Journal, JournalWriter, OutputDir, PartFile};
use url::Url;

fn origin() -> PathBuf {
    fixtures().join("dash").join("template-number")
}

fn segment(url: &str, path: &str, range: Option<ByteRange>) -> Segment {
    Segment {
        kind: SegmentKind::Media,
        url: Url::parse(url).unwrap(),
        range,
        path: PathBuf::from(path),
        number: None,
        time: None,
        duration: None,
    }
}

fn plan_of(segments: Vec<Segment>, manifest_url: &str) -> Plan {
    Plan::new(
        Url::parse(manifest_url).unwrap(),
        vec![RepresentationPlan::from_segments("0", "all", segments)],
        Vec::new(),
    )
}

/// Every file of the fixture folder, as one segment each, served under `/`.
fn folder_plan(server: &TestServer, folder: &Path) -> Plan {
    let segments = common::tree(folder)
        .iter()
        .map(|rel| segment(&server.url(rel), rel, None))
        .collect();
    plan_of(segments, &server.url("manifest.mpd"))
}

fn options() -> FetchOptions {
    FetchOptions {
        threads: 4,
        retries: 3,
        timeout: Duration::from_millis(800),
        backoff_base: Duration::from_millis(10),
        ..FetchOptions::default()
    }
}

/// Records events, for assertions on retries.
#[derive(Default)]
struct Recorder {
    retries: Mutex<Vec<String>>,
}

impl ProgressSink for Recorder {
    fn event(&self, event: &Event<'_>) {
        if let Event::Retrying { reason, .. } = event {
            self.retries.lock().unwrap().push(reason.to_string());
        }
    }
}

fn run_with(
    plan: &Plan,
    out: &Path,
    options: &FetchOptions,
    sink: Arc<dyn ProgressSink>,
    cancel: &Cancel,
) -> Summary {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = fetch::build_client(options).unwrap();
        let out = OutputDir::create(out).unwrap();
        fetch::download(&client, plan, &out, options, sink, cancel)
            .await
            .unwrap()
    })
}

fn run(plan: &Plan, out: &Path, options: &FetchOptions) -> Summary {
    run_with(
        plan,
        out,
        options,
        Arc::new(fetch::NoProgress),
        &Cancel::new(),
    )
}

fn gets(server: &TestServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count()
}

#[test]
fn downloads_byte_identical_and_rerun_makes_no_request() {
    let server = TestServer::start(origin());
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    assert_eq!(
        summary.downloaded_files,
        plan.representations[0].segment_count()
    );
    assert_same_tree(&origin(), out.path());
    assert_eq!(gets(&server), summary.files);

    server.reset();
    let again = run(&plan, out.path(), &options());
    assert!(again.is_complete());
    assert_eq!(again.complete_files, summary.files);
    assert_eq!(again.downloaded_files, 0);
    assert!(
        server.requests().is_empty(),
        "re-run sent {:?}",
        server.requests()
    );

    let journal = Journal::load(out.path()).unwrap();
    for rel in common::tree(&origin()) {
        assert!(
            journal.is_complete(out.path(), &rel),
            "{rel} not journalled"
        );
    }
}

/// Each file's first GET fails in the given way; the run must still end byte-identical.
fn survives_first_request_fault(fault: Fault) {
    let server = TestServer::start(origin());
    server.fault_all(fault.clone(), When::FirstGet);
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let summary = run_with(
        &plan,
        out.path(),
        &options(),
        recorder.clone(),
        &Cancel::new(),
    );
    assert!(summary.is_complete(), "{fault:?}: {summary:?}");
    assert_same_tree(&origin(), out.path());
    // Every file (the manifest is exempt from the fault) was retried once.
    let retried = recorder.retries.lock().unwrap().len();
    assert_eq!(
        retried,
        summary.files - 1,
        "{fault:?}: retries {:?}",
        recorder.retries.lock().unwrap()
    );
}

#[test]
fn connection_dropped_mid_body() {
    survives_first_request_fault(Fault::DropMidBody);
}

#[test]
fn server_stalls_beyond_the_timeout() {
    survives_first_request_fault(Fault::StallBody(Duration::from_secs(5)));
    survives_first_request_fault(Fault::StallHeaders(Duration::from_secs(5)));
}

#[test]
fn error_statuses_are_retried() {
    survives_first_request_fault(Fault::Status(500));
    survives_first_request_fault(Fault::Status(408));
    survives_first_request_fault(Fault::Unavailable("0".into()));
}

#[test]
fn too_many_requests_honours_retry_after() {
    let server = TestServer::start(origin());
    server.fault(
        "/chunk-stream0-00001.m4s",
        Fault::TooManyRequests("1".into()),
        When::FirstGet,
    );
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    // The backoff alone would be ~10 ms; Retry-After says 1 s.
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_same_tree(&origin(), out.path());
}

#[test]
fn content_length_longer_than_the_body() {
    survives_first_request_fault(Fault::LongContentLength(1000));
}

#[test]
fn resume_sends_range_and_if_range() {
    let server = TestServer::start(origin());
    server.fault_all(Fault::DropMidBody, When::FirstGet);
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    assert_same_tree(&origin(), out.path());
    let resumed: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.headers.contains_key("range"))
        .collect();
    assert_eq!(resumed.len(), summary.files - 1);
    for r in resumed {
        let size = std::fs::metadata(origin().join(r.path.trim_start_matches('/')))
            .unwrap()
            .len();
        assert_eq!(
            r.headers["range"],
            format!("bytes={}-", size / 2),
            "{}",
            r.path
        );
        assert!(
            r.headers["if-range"].starts_with('"'),
            "If-Range should carry the ETag"
        );
    }
    // Half the bytes were fetched twice, not the whole file.
    let total: u64 = common::tree(&origin())
        .iter()
        .map(|p| std::fs::metadata(origin().join(p)).unwrap().len())
        .sum();
    assert!(
        summary.bytes < total * 3 / 2 + 1000,
        "{} bytes for {total}",
        summary.bytes
    );
}

#[test]
fn fsync_mode_resumes_and_mirrors_the_same() {
    let server = TestServer::start(origin());
    server.fault_all(Fault::DropMidBody, When::FirstGet);
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let durable = FetchOptions {
        sync: true,
        ..options()
    };
    let summary = run(&plan, out.path(), &durable);
    assert!(summary.is_complete(), "{summary:?}");
    assert_same_tree(&origin(), out.path());
}

#[test]
fn server_ignoring_range_restarts_from_zero() {
    let server = TestServer::start(origin());
    server.fault_all(Fault::DropMidBody, When::FirstGet);
    server.ignore_range(true);
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    assert_same_tree(&origin(), out.path());
    // The resumes asked for a range, got the whole file (200) and started over.
    let resumed = server
        .requests()
        .into_iter()
        .filter(|r| r.headers.contains_key("range"))
        .count();
    assert_eq!(resumed, summary.files - 1);
}

#[test]
fn changed_resource_restarts_from_zero() {
    // A part whose validator no longer matches: the server answers 200 to If-Range.
    let server = TestServer::start(origin());
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let full = std::fs::read(origin().join("init-stream1.m4s")).unwrap();
    std::fs::write(
        out.path().join("init-stream1.m4s.part"),
        b"stale bytes of an older version",
    )
    .unwrap();
    let (_, writer) = JournalWriter::open(out.path()).unwrap();
    let part = PartFile {
        url: 0,
        total: Some(full.len() as u64 + 5),
        etag: Some("\"old\"".into()),
        last_modified: None,
    };
    writer
        .part("init-stream1.m4s", &server.url("init-stream1.m4s"), &part)
        .unwrap();
    drop(writer);
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    assert_same_tree(&origin(), out.path());
    let asked: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/init-stream1.m4s")
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].headers["if-range"], "\"old\"");
}

#[test]
fn not_found_fails_at_once_without_a_file() {
    let server = TestServer::start(origin());
    let mut segments: Vec<Segment> = folder_plan(&server, &origin())
        .segments()
        .map(|(_, s)| s)
        .collect();
    segments.push(segment(&server.url("missing.m4s"), "missing.m4s", None));
    let plan = plan_of(segments, &server.url("manifest.mpd"));
    for (path, code) in [
        ("/chunk-stream1-00002.m4s", 403),
        ("/chunk-stream2-00001.m4s", 410),
    ] {
        server.fault(path, Fault::Status(code), When::Always);
    }
    let out = tempfile::tempdir().unwrap();
    let summary = run(&plan, out.path(), &options());
    assert_eq!(summary.failed_files, 3, "{summary:?}");
    assert!(!summary.is_complete());
    let reasons: Vec<_> = summary
        .failures
        .iter()
        .map(|f| (f.path.as_str(), f.reason.as_str()))
        .collect();
    assert!(
        reasons.contains(&("missing.m4s", "HTTP 404 Not Found")),
        "{reasons:?}"
    );
    assert!(
        summary
            .failures
            .iter()
            .any(|f| f.reason.starts_with("HTTP 403"))
    );
    assert!(
        summary
            .failures
            .iter()
            .any(|f| f.reason.starts_with("HTTP 410"))
    );
    for f in &summary.failures {
        assert!(f.url.starts_with("http://127.0.0.1:"));
        let count = server
            .requests()
            .iter()
            .filter(|r| f.url.ends_with(&r.path))
            .count();
        assert_eq!(count, 1, "{} asked {count} times", f.path);
        assert!(!out.path().join(&f.path).exists());
        assert!(!out.path().join(format!("{}.part", f.path)).exists());
    }
    assert_eq!(summary.downloaded_files, summary.files - 3);
}

#[test]
fn persistent_errors_give_up_after_the_retries() {
    let server = TestServer::start(origin());
    server.fault("/init-stream2.m4s", Fault::Status(503), When::Always);
    server.fault("/init-stream1.m4s", Fault::DropMidBody, When::Always);
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let summary = run(&plan, out.path(), &options());
    assert_eq!(summary.failed_files, 2, "{summary:?}");
    let count = |p: &str| server.requests().iter().filter(|r| r.path == p).count();
    assert_eq!(count("/init-stream2.m4s"), 4, "1 attempt + 3 retries");
    assert_eq!(count("/init-stream1.m4s"), 4);
    for name in ["init-stream1.m4s", "init-stream2.m4s"] {
        assert!(
            !out.path().join(name).exists(),
            "{name} exists under its final name"
        );
    }
    let reason = &summary
        .failures
        .iter()
        .find(|f| f.path == "init-stream2.m4s")
        .unwrap()
        .reason;
    assert!(
        reason.contains("503") && reason.contains("4 attempts"),
        "{reason}"
    );
}

#[test]
fn files_without_journal_are_checked_with_head() {
    let server = TestServer::start(origin());
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    // Another tool left complete files, and one of the wrong size.
    for rel in common::tree(&origin()) {
        std::fs::copy(origin().join(&rel), out.path().join(&rel)).unwrap();
    }
    std::fs::write(out.path().join("chunk-stream0-00002.m4s"), b"short").unwrap();
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    assert_same_tree(&origin(), out.path());
    assert_eq!(summary.downloaded_files, 1);
    assert_eq!(summary.verified_files, summary.files - 1);
    let requests = server.requests();
    assert_eq!(
        requests.iter().filter(|r| r.method == "HEAD").count(),
        summary.files
    );
    let got: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(got, ["/chunk-stream0-00002.m4s"]);
    // They are journalled now: nothing more to ask.
    server.reset();
    run(&plan, out.path(), &options());
    assert!(server.requests().is_empty());
}

#[test]
fn refused_head_falls_back_to_a_one_byte_range() {
    for fault in [Fault::RefuseHead, Fault::HeadWithoutLength] {
        let server = TestServer::start(origin());
        server.fault_all(fault.clone(), When::Always);
        let plan = folder_plan(&server, &origin());
        let out = tempfile::tempdir().unwrap();
        for rel in common::tree(&origin()) {
            std::fs::copy(origin().join(&rel), out.path().join(&rel)).unwrap();
        }
        let summary = run(&plan, out.path(), &options());
        assert!(summary.is_complete(), "{fault:?}: {summary:?}");
        assert_eq!(summary.verified_files, summary.files, "{fault:?}");
        let ranged: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET")
            .collect();
        assert_eq!(ranged.len(), summary.files - 1, "{fault:?}: {ranged:?}");
        assert!(ranged.iter().all(|r| r.headers["range"] == "bytes=0-0"));
    }
}

#[test]
fn verify_rechecks_against_the_server() {
    let dir = tempfile::tempdir().unwrap();
    for rel in common::tree(&origin()) {
        std::fs::copy(origin().join(&rel), dir.path().join(&rel)).unwrap();
    }
    let server = TestServer::start(dir.path());
    let plan = folder_plan(&server, dir.path());
    let out = tempfile::tempdir().unwrap();
    assert!(run(&plan, out.path(), &options()).is_complete());
    // The origin changes one file; a plain re-run trusts the journal, --verify does not.
    std::fs::write(
        dir.path().join("chunk-stream2-00002.m4s"),
        b"a new version, longer than before? no",
    )
    .unwrap();
    server.reset();
    let plain = run(&plan, out.path(), &options());
    assert_eq!(plain.complete_files, plain.files);
    assert!(server.requests().is_empty());
    let verify = FetchOptions {
        verify: true,
        ..options()
    };
    let checked = run(&plan, out.path(), &verify);
    assert!(checked.is_complete(), "{checked:?}");
    assert_eq!(checked.downloaded_files, 1);
    assert_eq!(checked.verified_files, checked.files - 1);
    assert_same_tree(dir.path(), out.path());
}

#[test]
fn byte_ranges_of_one_resource_make_one_identical_file() {
    let folder = fixtures().join("dash").join("single-file");
    let server = TestServer::start(&folder);
    let name = "manifest-stream0.mp4";
    let size = std::fs::metadata(folder.join(name)).unwrap().len();
    let url = server.url(name);
    // Init range, then media ranges that leave a gap and a tail unaddressed.
    let ranges = [(0, 99), (100, 499), (600, size / 2)];
    let segments = ranges
        .iter()
        .map(|&(first, last)| segment(&url, name, Some(ByteRange { first, last })))
        .collect();
    let plan = plan_of(segments, &server.url("manifest.mpd"));
    let out = tempfile::tempdir().unwrap();
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    assert_eq!(
        (summary.files, summary.segments, summary.downloaded_segments),
        (1, 3, 3)
    );
    assert_eq!(
        std::fs::read(out.path().join(name)).unwrap(),
        std::fs::read(folder.join(name)).unwrap()
    );
    assert_eq!(server.requests().len(), 1);

    // A manifest addressing bytes past the resource's end is an error, not a short file.
    let bad = plan_of(
        vec![segment(
            &url,
            "b.mp4",
            Some(ByteRange {
                first: 0,
                last: size + 10,
            }),
        )],
        &url,
    );
    let summary = run(&bad, out.path(), &options());
    assert_eq!(summary.failed_files, 1);
    assert!(
        summary.failures[0].reason.contains("addresses bytes up to"),
        "{:?}",
        summary.failures
    );
    assert!(!out.path().join("b.mp4").exists());
}

#[test]
fn cancel_keeps_parts_and_resumes_later() {
    let server = TestServer::start(origin());
    server.fault_all(Fault::Slow(20_000), When::Always);
    let plan = folder_plan(&server, &origin());
    let out = tempfile::tempdir().unwrap();
    let cancel = Cancel::new();
    let trigger = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        trigger.cancel();
    });
    let summary = run_with(
        &plan,
        out.path(),
        &options(),
        Arc::new(fetch::NoProgress),
        &cancel,
    );
    assert!(summary.interrupted);
    assert!(!summary.is_complete());
    assert!(summary.pending_files > 0);
    let parts: Vec<_> = common::tree(out.path())
        .into_iter()
        .filter(|p| p.ends_with(".part"))
        .collect();
    assert!(!parts.is_empty(), "no part kept");
    // A part the cancel left empty (its response had begun, no byte had come: a loaded
    // machine) has nothing to resume; every other one must be resumed with a range.
    let resumable = parts
        .iter()
        .filter(|p| std::fs::metadata(out.path().join(p)).is_ok_and(|m| m.len() > 0))
        .count();
    // Every file under a final name is whole.
    for rel in common::tree(out.path()) {
        if !rel.ends_with(".part") && !rel.starts_with(".dashget/") {
            assert_eq!(
                std::fs::read(out.path().join(&rel)).unwrap(),
                std::fs::read(origin().join(&rel)).unwrap()
            );
        }
    }
    server.clear_faults();
    server.reset();
    let summary = run(&plan, out.path(), &options());
    assert!(summary.is_complete(), "{summary:?}");
    assert_same_tree(&origin(), out.path());
    let ranged = server
        .requests()
        .iter()
        .filter(|r| r.headers.contains_key("range"))
        .count();
    assert!(
        ranged >= resumable,
        "{resumable} parts with bytes, {ranged} ranged requests"
    );
}

#[test]
fn two_urls_for_one_path_do_not_overwrite() {
    let server = TestServer::start(origin());
    let plan = plan_of(
        vec![
            segment(&server.url("init-stream0.m4s"), "x.m4s", None),
            segment(&server.url("init-stream1.m4s"), "x.m4s", None),
        ],
        &server.url("manifest.mpd"),
    );
    // The plan gives them distinct paths; each file holds its own URL's bytes.
    let paths: Vec<PathBuf> = plan.segments().map(|(_, s)| s.path).collect();
    assert_ne!(paths[0], paths[1]);
    let out = tempfile::tempdir().unwrap();
    let summary = run(&plan, out.path(), &options());
    assert_eq!((summary.downloaded_files, summary.failed_files), (2, 0));
    for (path, origin_name) in paths.iter().zip(["init-stream0.m4s", "init-stream1.m4s"]) {
        assert_eq!(
            std::fs::read(out.path().join(path)).unwrap(),
            std::fs::read(origin().join(origin_name)).unwrap()
        );
    }
}

#[test]
fn manifest_fetch_gives_final_url_headers_and_supports_conditional_get() {
    let server = TestServer::start(fixtures().join("dash"));
    let manifest = "/template-number/manifest.mpd";
    server.fault(
        "/moved.mpd",
        Fault::Redirect(server.url(manifest)),
        When::Always,
    );
    server.faults_in_turn(manifest, vec![Fault::Unavailable("0".into())]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = options();
    let client = fetch::build_client(&options).unwrap();
    let recorder = Recorder::default();
    let cancel = Cancel::new();
    let moved = Url::parse(&server.url("moved.mpd")).unwrap();
    let first = runtime
        .block_on(fetch::fetch_manifest(
            &client, &moved, None, &options, &recorder, &cancel,
        ))
        .unwrap();
    let origin =
        std::fs::read(fixtures().join("dash").join("template-number/manifest.mpd")).unwrap();
    assert_eq!(first.bytes.as_deref(), Some(origin.as_slice()));
    assert_eq!(first.final_url.as_str(), server.url(manifest));
    assert!(first.date.is_some());
    assert!(first.validators.etag.is_some());
    assert_eq!(
        recorder.retries.lock().unwrap().len(),
        1,
        "the 503 was retried"
    );

    // A refresh with the validators: 304, no bytes, the validators kept.
    let again = runtime
        .block_on(fetch::fetch_manifest(
            &client,
            &first.final_url,
            Some(&first.validators),
            &options,
            &recorder,
            &cancel,
        ))
        .unwrap();
    assert_eq!(again.bytes, None);
    assert_eq!(again.validators, first.validators);
    let asked = server.requests();
    let last = asked.last().unwrap();
    assert_eq!(
        last.headers.get("if-none-match"),
        first.validators.etag.as_ref()
    );
    assert_eq!(server.gets_of(manifest), 3);

    // 404 is not retried; the error names the URL.
    let missing = Url::parse(&server.url("nope.mpd")).unwrap();
    let error = runtime
        .block_on(fetch::fetch_manifest(
            &client, &missing, None, &options, &recorder, &cancel,
        ))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{missing}: cannot fetch the manifest: HTTP 404 Not Found")
    );
    assert_eq!(server.gets_of("/nope.mpd"), 1);
}

#[test]
fn https_over_http2_with_an_extra_root_of_trust() {
    let server = common::tls::TlsServer::start(origin());
    let segments = common::tree(&origin())
        .iter()
        .map(|rel| segment(&server.url(rel), rel, None))
        .collect();
    let plan = plan_of(segments, &server.url("manifest.mpd"));
    let keys = tempfile::tempdir().unwrap();

    // The server's CA is nobody's root: every file fails, saying why.
    let out = tempfile::tempdir().unwrap();
    let refused = run(&plan, out.path(), &options());
    assert_eq!(refused.failed_files, refused.files, "{refused:?}");
    assert!(
        refused.failures[0].reason.contains("certificate"),
        "{}",
        refused.failures[0].reason
    );
    assert!(server.requests().is_empty());

    // Trusted with --ca-cert: mirrored, every request over HTTP/2 (ALPN).
    let trusted = FetchOptions {
        ca_certs: vec![server.write_ca(keys.path())],
        ..options()
    };
    let summary = run(&plan, out.path(), &trusted);
    assert!(summary.is_complete(), "{summary:?}");
    assert_same_tree(&origin(), out.path());
    let requests = server.requests();
    assert_eq!(requests.len(), summary.files);
    assert!(
        requests.iter().all(|(v, _)| *v == hyper::Version::HTTP_2),
        "{requests:?}"
    );

    // --insecure: no verification at all.
    let out = tempfile::tempdir().unwrap();
    let insecure = FetchOptions {
        insecure: true,
        ..options()
    };
    assert!(run(&plan, out.path(), &insecure).is_complete());
    assert_same_tree(&origin(), out.path());

    // A CA file that is not one: the client is not built.
    let junk = keys.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let error = fetch::build_client(&FetchOptions {
        ca_certs: vec![junk.clone()],
        ..options()
    })
    .unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "{}: cannot use the CA certificate",
            junk.display()
        )),
        "{error}"
    );
}
