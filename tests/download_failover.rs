//! Several `BaseURL`s: two test servers hold the same presentation; the manifest names both
//! (DVB priorities: A first). A dies in the middle of the download (its port refuses
//! connections, then it comes back answering 503): the files it cannot serve are fetched from
//! B, later files go to B directly, and the mirror ends complete and byte-identical, exit 0,
//! with the summary saying which server served how many.

use dashget_testkit as common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::{Fault, TestServer, When, fixtures};

fn manifest(a: &TestServer, b: &TestServer) -> String {
    let source =
        std::fs::read_to_string(fixtures().join("dash/template-number/manifest.mpd")).unwrap();
    let bases = format!(
        "\n\t<BaseURL serviceLocation=\"a\" dvb:priority=\"1\" dvb:weight=\"1\">http://{}/template-number/</BaseURL>\n\t<BaseURL serviceLocation=\"b\" dvb:priority=\"2\" dvb:weight=\"1\">http://{}/template-number/</BaseURL>",
        a.addr, b.addr
    );
    source
        .replacen(
            "xmlns=\"urn:mpeg:dash:schema:mpd:2011\"",
            "xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:dvb=\"urn:dvb:dash:dash-extensions:2014-1\"",
            1,
        )
        .replacen("<Period", &format!("{bases}\n\t<Period"), 1)
}

#[test]
fn a_server_that_dies_mid_download_is_replaced_by_the_next_base_url() {
    let a = TestServer::start(fixtures().join("dash"));
    let b = TestServer::start(fixtures().join("dash"));
    b.put("/show/manifest.mpd", manifest(&a, &b));
    // A is slow, so that it dies with files in flight.
    a.fault_all(Fault::Slow(40_000), When::Always);
    let out = tempfile::tempdir().unwrap();
    let child = std::process::Command::cargo_bin("dashget")
        .unwrap()
        .env("DASHGET_BACKOFF_MS", "10")
        .arg(b.url("show/manifest.mpd"))
        .arg("-o")
        .arg(out.path())
        .args(["-t", "2", "--json", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A has served a file or two.
    let deadline = Instant::now() + Duration::from_secs(60);
    while a.gets_of("/template-number/init-stream0.m4s") == 0 || a.requests().len() < 3 {
        assert!(Instant::now() < deadline, "A was never asked");
        std::thread::sleep(Duration::from_millis(10));
    }
    a.stop();
    std::thread::sleep(Duration::from_millis(300));
    // Back, but only to say it is unavailable.
    a.fault_all(Fault::Status(503), When::Always);
    a.reset();
    a.restart();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // Every file byte for byte, under A's paths (the first choice names them).
    let tree = out
        .path()
        .join(format!("127.0.0.1_{}", a.addr.port()))
        .join("template-number");
    let source = fixtures().join("dash/template-number");
    for entry in std::fs::read_dir(&source).unwrap() {
        let name = entry.unwrap().file_name();
        if Path::new(&name).extension().is_some_and(|e| e == "mpd") {
            continue;
        }
        assert!(
            std::fs::read(tree.join(&name)).ok() == std::fs::read(source.join(&name)).ok(),
            "{name:?}"
        );
    }
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let servers = summary["servers"].as_object().unwrap();
    let a_files = servers
        .get(&format!("http://{}", a.addr))
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let b_files = servers
        .get(&format!("http://{}", b.addr))
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    assert!(b_files >= 1, "{servers:?}");
    assert_eq!(a_files + b_files, 9, "{servers:?}");
    // Once B served, later files went to B: A, back with 503s, was asked again only for the
    // files that started on it before the first failover told the engine it was gone (each
    // through its retries): those in flight when it died, and a file started in a slot freed
    // just then (a file's commit releases its slot). At most two a slot, of nine files.
    let asked_again: std::collections::BTreeSet<String> =
        a.requests().into_iter().map(|r| r.path).collect();
    assert!(asked_again.len() <= 4, "{asked_again:?}");
}
