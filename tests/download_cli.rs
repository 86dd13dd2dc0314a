//! The `dashget` binary against the test server: every addressing mode mirrored byte for byte,
//! re-runs without requests, faults, exit codes, a hostile manifest, SIGKILL and Ctrl-C.

use dashget_testkit as common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use common::{Fault, TestServer, When, assert_same_tree, fixtures};

const MODES: [&str; 6] = [
    "template-number",
    "template-time",
    "segment-list",
    "single-file",
    "webm",
    "segment-base",
];

fn dash() -> PathBuf {
    fixtures().join("dash")
}

fn dashget() -> Command {
    let mut cmd = Command::cargo_bin("dashget").unwrap();
    cmd.env("DASHGET_BACKOFF_MS", "10");
    cmd
}

fn run(args: &[&str]) -> Output {
    dashget().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn summary_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stdout)))
}

#[test]
fn every_addressing_mode_is_mirrored_byte_for_byte() {
    let server = TestServer::start(dash());
    for mode in MODES {
        let out = tempfile::tempdir().unwrap();
        let url = server.url(&format!("{mode}/manifest.mpd"));
        let o = out.path().to_str().unwrap();
        let first = run(&[&url, "-o", o, "--json", "-t", "3"]);
        assert_eq!(
            first.status.code(),
            Some(0),
            "{mode}: {}",
            text(&first.stderr)
        );
        assert_same_tree(&dash().join(mode), out.path());
        let summary = summary_json(&first);
        assert_eq!(summary["failed_files"], 0);
        assert!(summary["downloaded_files"].as_u64().unwrap() > 0);

        // Re-run: the manifest is read again, and nothing else.
        server.reset();
        let again = run(&[&url, "-o", o, "--json"]);
        assert_eq!(
            again.status.code(),
            Some(0),
            "{mode}: {}",
            text(&again.stderr)
        );
        let summary = summary_json(&again);
        assert_eq!(summary["downloaded_files"], 0, "{mode}");
        assert_eq!(summary["complete_files"], summary["files"], "{mode}");
        assert!(
            server.segment_requests().is_empty(),
            "{mode}: {:?}",
            server.segment_requests()
        );
        assert_same_tree(&dash().join(mode), out.path());
    }
}

#[test]
fn faults_on_each_first_request_still_mirror_byte_for_byte() {
    let faults = [
        Fault::DropMidBody,
        Fault::StallBody(Duration::from_secs(4)),
        Fault::Status(500),
        Fault::Unavailable("0".into()),
        Fault::TooManyRequests("0".into()),
        Fault::LongContentLength(500),
    ];
    for (mode, fault) in MODES.iter().zip(faults) {
        let server = TestServer::start(dash());
        server.fault_all(fault.clone(), When::FirstGet);
        let out = tempfile::tempdir().unwrap();
        let url = server.url(&format!("{mode}/manifest.mpd"));
        let output = run(&[&url, "-o", out.path().to_str().unwrap(), "--timeout", "1"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{mode} {fault:?}: {}",
            text(&output.stderr)
        );
        assert_same_tree(&dash().join(mode), out.path());
        assert!(
            text(&output.stderr).contains("retry 2 of"),
            "{mode} {fault:?}: retries not reported"
        );
    }
}

#[test]
fn missing_segment_exits_1_with_its_url_and_no_file() {
    let server = TestServer::start(dash());
    server.fault(
        "/segment-list/chunk-stream1-00002.m4s",
        Fault::Status(404),
        When::Always,
    );
    let out = tempfile::tempdir().unwrap();
    let url = server.url("segment-list/manifest.mpd");
    let output = run(&[&url, "-o", out.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&server.url("segment-list/chunk-stream1-00002.m4s")),
        "{stderr}"
    );
    assert!(stderr.contains("HTTP 404 Not Found"), "{stderr}");
    assert!(!out.path().join("chunk-stream1-00002.m4s").exists());
    assert!(!out.path().join("chunk-stream1-00002.m4s.part").exists());
    assert!(
        out.path().join("chunk-stream1-00001.m4s").exists(),
        "the others go on"
    );
    let requests = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("chunk-stream1-00002.m4s"))
        .count();
    assert_eq!(requests, 1, "404 is not retried");
}

#[test]
fn bad_arguments_and_unreadable_manifests_exit_2() {
    let server = TestServer::start(dash());
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let url = server.url("template-number/manifest.mpd");
    let cases: Vec<Vec<String>> = vec![
        vec![
            url.clone(),
            "-o".into(),
            o.into(),
            "-H".into(),
            "no colon".into(),
        ],
        vec![
            url.clone(),
            "-o".into(),
            o.into(),
            "-r".into(),
            "nope".into(),
        ],
        vec![server.url("missing/manifest.mpd"), "-o".into(), o.into()],
        vec!["/nonexistent/manifest.mpd".into(), "-o".into(), o.into()],
        vec![url.clone(), "-t".into(), "0".into()],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(!text(&output.stderr).is_empty());
    }
    assert!(server.segment_requests().is_empty());
}

#[test]
fn reps_headers_and_quiet() {
    let server = TestServer::start(dash());
    let out = tempfile::tempdir().unwrap();
    let url = server.url("template-number/manifest.mpd");
    let output = run(&[
        &url,
        "-o",
        out.path().to_str().unwrap(),
        "-r",
        "1",
        "-q",
        "-H",
        "X-Test: yes",
        "--user-agent",
        "ua/1",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        output.stdout.is_empty() && output.stderr.is_empty(),
        "-q printed something"
    );
    let mut files = common::tree(out.path());
    files.retain(|p| !p.starts_with(".dashget/"));
    assert_eq!(
        files,
        [
            "chunk-stream1-00001.m4s",
            "chunk-stream1-00002.m4s",
            "init-stream1.m4s",
            "manifest.mpd"
        ]
    );
    for r in server.segment_requests() {
        assert_eq!(r.headers["x-test"], "yes");
        assert_eq!(r.headers["user-agent"], "ua/1");
    }
}

#[test]
fn hostile_manifest_never_writes_outside_the_output_folder() {
    let server = TestServer::start(dash());
    server.serve_any(b"segment bytes".to_vec());
    let other = format!("http://{}", server.addr);
    let manifest = format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S">
  <Period id="0">
    <AdaptationSet mimeType="video/mp4">
      <Representation id="list" bandwidth="1">
        <SegmentList duration="1">
          <Initialization sourceURL="../../escape-init.m4s"/>
          <SegmentURL media="../../../escape1.m4s"/>
          <SegmentURL media="%2e%2e/%2e%2e/escape2.m4s"/>
          <SegmentURL media="..%2f..%2f..%2fescape3.m4s"/>
          <SegmentURL media="/abs/escape4.m4s"/>
          <SegmentURL media="{other}/../../escape5.m4s"/>
          <SegmentURL media="a/..%5c..%5c..%5cescape6.m4s"/>
          <SegmentURL media="%2fetc%2fescape7.m4s"/>
        </SegmentList>
      </Representation>
      <Representation id="../../../../escape-rep" bandwidth="2">
        <SegmentTemplate media="$RepresentationID$/seg-$Number$.m4s" duration="4" startNumber="1"/>
      </Representation>
      <Representation id="/abs-rep" bandwidth="3">
        <SegmentTemplate media="$RepresentationID$-$Number$.m4s" duration="4" startNumber="1"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>"#
    );
    server.put("/deep/er/manifest.mpd", manifest.into_bytes());
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("a").join("b").join("out");
    let output = run(&[
        &server.url("deep/er/manifest.mpd"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        matches!(output.status.code(), Some(0) | Some(1)),
        "{}",
        text(&output.stderr)
    );
    // Everything under the output folder, nothing beside it.
    let everything = common::tree(root.path());
    assert!(!everything.is_empty());
    for path in &everything {
        assert!(
            path.starts_with("a/b/out/"),
            "{path} written outside the output folder"
        );
    }
    let written = common::tree(&out);
    assert!(written.len() >= 10, "{written:?}");
    let leaked: Vec<_> = ["/abs-rep-1.m4s", "/abs/escape4.m4s", "/etc/escape7.m4s"]
        .iter()
        .filter(|p| Path::new(p).exists())
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
    assert!(server.requests().len() > 5);
}

/// Every file under its final name in `out` equals the origin's (parts and journal aside).
fn assert_no_torn_final_file(origin: &Path, out: &Path, moment: &str) {
    for rel in common::tree(out) {
        if rel.ends_with(".part") || rel.starts_with(".dashget/") {
            continue;
        }
        let got = std::fs::read(out.join(&rel)).unwrap();
        let want = std::fs::read(origin.join(&rel)).unwrap();
        assert!(
            got == want,
            "{moment}: {rel} is {} bytes under its final name, the origin {}",
            got.len(),
            want.len()
        );
    }
}

#[test]
fn sigkill_at_any_moment_then_rerun_gives_the_origin() {
    let mode = "template-number";
    let origin = dash().join(mode);
    let server = TestServer::start(dash());
    server.fault_all(Fault::Slow(20_000), When::Always);
    let out = tempfile::tempdir().unwrap();
    let url = server.url(&format!("{mode}/manifest.mpd"));
    let mut parts_seen = 0;
    for (i, wait) in [250u64, 500, 800, 300].into_iter().enumerate() {
        let mut child = dashget()
            .args([&url, "-o", out.path().to_str().unwrap(), "-t", "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let moment = format!("kill {i} after {wait} ms");
        assert_no_torn_final_file(&origin, out.path(), &moment);
        parts_seen += common::tree(out.path())
            .iter()
            .filter(|p| p.ends_with(".part"))
            .count();
    }
    assert!(
        parts_seen > 0,
        "the kills never caught a download in flight"
    );
    // Parts holding bytes are resumed (an empty one, from a kill before the first write, is not).
    let parts_left: Vec<_> = common::tree(out.path())
        .into_iter()
        .filter(|p| {
            p.ends_with(".part") && std::fs::metadata(out.path().join(p)).unwrap().len() > 0
        })
        .collect();
    server.clear_faults();
    server.reset();
    let output = run(&[&url, "-o", out.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_same_tree(&origin, out.path());
    let resumed = server
        .segment_requests()
        .iter()
        .filter(|r| r.headers.contains_key("range"))
        .count();
    assert_eq!(
        resumed,
        parts_left.len(),
        "parts {parts_left:?} not all resumed: {:?}",
        server.segment_requests()
    );
}

#[test]
fn ctrl_c_stops_cleanly_with_exit_130() {
    let mode = "segment-list";
    let origin = dash().join(mode);
    let server = TestServer::start(dash());
    server.fault_all(Fault::Slow(10_000), When::Always);
    let out = tempfile::tempdir().unwrap();
    let url = server.url(&format!("{mode}/manifest.mpd"));
    let child = dashget()
        .args([&url, "-o", out.path().to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let summary = summary_json(&output);
    assert_eq!(summary["interrupted"], true);
    assert!(
        common::tree(out.path())
            .iter()
            .any(|p| p.ends_with(".part")),
        "parts were not kept"
    );
    assert_no_torn_final_file(&origin, out.path(), "after Ctrl-C");
    server.clear_faults();
    let output = run(&[&url, "-o", out.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert_same_tree(&origin, out.path());
}

#[test]
fn the_manifest_is_retried_like_a_segment() {
    // 503, then a connection closed without an answer, then one closed mid-body: the engine's
    // retries carry the manifest through, and the presentation is mirrored.
    let server = TestServer::start(dash());
    let manifest = "/template-number/manifest.mpd";
    server.faults_in_turn(
        manifest,
        vec![
            Fault::Unavailable("0".into()),
            Fault::Drop,
            Fault::DropMidBody,
        ],
    );
    let out = tempfile::tempdir().unwrap();
    let url = server.url(manifest);
    let output = run(&[&url, "-o", out.path().to_str().unwrap(), "--json"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_same_tree(&dash().join("template-number"), out.path());
    assert_eq!(
        server.gets_of(manifest),
        4,
        "three failures, then the manifest"
    );
    for reason in ["HTTP 503", "connection", "retry 4 of"] {
        assert!(stderr.contains(reason), "{reason:?} not in {stderr}");
    }

    // A manifest that keeps failing: exit 2 after the retries, one line naming it.
    let server = TestServer::start(dash());
    server.fault(manifest, Fault::Status(503), When::Always);
    let output = run(&[
        &server.url(manifest),
        "-o",
        out.path().to_str().unwrap(),
        "--retries",
        "2",
        "-q",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(server.gets_of(manifest), 3);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr
            .contains("cannot fetch the manifest: HTTP 503 Service Unavailable (after 3 attempts)"),
        "{stderr}"
    );
}

#[test]
fn absurd_content_range_is_a_clear_failure() {
    let server = TestServer::start(dash());
    let segment = "/template-number/chunk-stream0-00002.m4s";
    server.fault(
        segment,
        Fault::ContentRange("bytes 0-18446744073709551615/*".into()),
        When::Always,
    );
    let out = tempfile::tempdir().unwrap();
    let url = server.url("template-number/manifest.mpd");
    let output = run(&[&url, "-o", out.path().to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let summary = summary_json(&output);
    assert_eq!(summary["failed_files"], 1);
    let reason = summary["failures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("Content-Range \"bytes 0-18446744073709551615/*\" is beyond any file size"),
        "{reason}"
    );
    assert!(!out.path().join("chunk-stream0-00002.m4s").exists());
    assert!(!out.path().join("chunk-stream0-00002.m4s.part").exists());
}

#[test]
fn an_os_error_is_printed_once() {
    let output = run(&["no/such/dir/manifest.mpd", "-o", "no/such/out"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no/such/dir/manifest.mpd: cannot read the manifest"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("(os error 2)").count(), 1, "{stderr}");
}

#[test]
fn https_manifest_and_segments_with_ca_cert_or_insecure() {
    let server = common::tls::TlsServer::start(dash());
    let url = server.url("template-number/manifest.mpd");
    let keys = tempfile::tempdir().unwrap();
    let ca = server.write_ca(keys.path());
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();

    let untrusted = run(&[&url, "-o", o, "--retries", "0"]);
    assert_eq!(untrusted.status.code(), Some(2));
    assert!(
        text(&untrusted.stderr).contains("certificate"),
        "{}",
        text(&untrusted.stderr)
    );

    let trusted = run(&[&url, "-o", o, "--ca-cert", ca.to_str().unwrap()]);
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted.stderr));
    assert_same_tree(&dash().join("template-number"), out.path());

    let out = tempfile::tempdir().unwrap();
    let insecure = run(&[&url, "-o", out.path().to_str().unwrap(), "--insecure"]);
    assert_eq!(
        insecure.status.code(),
        Some(0),
        "{}",
        text(&insecure.stderr)
    );
    assert!(text(&insecure.stderr).contains("warning: --insecure"));
    assert_same_tree(&dash().join("template-number"), out.path());
}

#[test]
fn plan_warnings_are_printed_and_a_selection_with_nothing_to_download_exits_2() {
    let server = TestServer::start(dash());
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.mpd");
    std::fs::write(
        &manifest,
        r#"<MPD type="static" mediaPresentationDuration="PT2S"><Period><AdaptationSet/><AdaptationSet><Representation id="whole"><BaseURL>manifest-stream0.mp4</BaseURL></Representation><Representation id="empty"><SegmentList/></Representation></AdaptationSet></Period></MPD>"#,
    )
    .unwrap();
    let base = server.url("/single-file/manifest.mpd");
    let out = dir.path().join("out");
    let output = run(&[
        manifest.to_str().unwrap(),
        "--base-url",
        &base,
        "-o",
        out.to_str().unwrap(),
        "--no-progress",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: period 0, adaptation set 0: no Representation"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "representation \"empty\": no media segments (its SegmentList has no SegmentURL)"
        ),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(out.join("manifest-stream0.mp4")).unwrap(),
        std::fs::read(dash().join("single-file/manifest-stream0.mp4")).unwrap()
    );

    // Only the empty representation: nothing at all to download, said with the reason.
    let output = run(&[
        manifest.to_str().unwrap(),
        "--base-url",
        &base,
        "-o",
        out.to_str().unwrap(),
        "-r",
        "empty",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing to download"), "{stderr}");
    assert!(
        stderr.contains("its SegmentList has no SegmentURL"),
        "{stderr}"
    );
}

#[test]
fn live_options_on_a_static_manifest_say_they_do_not_apply() {
    let server = TestServer::start(dash());
    let out = tempfile::tempdir().unwrap();
    let output = run(&[
        &server.url("/template-number/manifest.mpd"),
        "-o",
        out.path().to_str().unwrap(),
        "--no-progress",
        "--duration",
        "3",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("apply to live (dynamic) manifests; this one is static"),
        "{stderr}"
    );
}
