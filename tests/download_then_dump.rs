//! The typical session: `dashget URL -o OUT`, then `mp4dump -d OUT`, over real HTTP on
//! 127.0.0.1 — including segments on another server, which dashget puts under a per-host
//! folder and mp4dump must find through the manifest's recorded source URL.

use dashget_testkit as common;

use assert_cmd::Command;
use common::TestServer;

fn run(bin: &str, args: &[&str]) -> std::process::Output {
    Command::cargo_bin(bin)
        .expect("binary")
        .args(args)
        .output()
        .expect("run")
}

fn dump_headers(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("dump")
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.split(" size=").next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn download_then_dump_same_server() {
    let server = TestServer::start(common::fixtures().join("dash"));
    let out = tempfile::tempdir().expect("tmp");
    let out_s = out.path().to_str().expect("utf-8");
    let url = server.url("template-number/manifest.mpd");
    let got = run("dashget", &[&url, "-o", out_s, "-q"]);
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let got = run("mp4dump", &["-d", out_s]);
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(
        dump_headers(&out.path().join("1.dump")),
        vec![
            "# init-stream1.m4s",
            "# chunk-stream1-00001.m4s",
            "# chunk-stream1-00002.m4s"
        ]
    );
}

#[test]
fn segments_on_another_server_are_found_through_the_recorded_url() {
    let media = TestServer::start(common::fixtures().join("dash"));
    let manifests = TestServer::start(common::fixtures().join("dash"));
    let original =
        std::fs::read_to_string(common::fixtures().join("dash/template-number/manifest.mpd"))
            .expect("mpd");
    // An absolute BaseURL on the other server: another origin, hence a per-host folder.
    let base = format!(
        "<BaseURL>{}</BaseURL>\n\t<Period",
        media.url("template-number/")
    );
    manifests.put("/show/manifest.mpd", original.replacen("<Period", &base, 1));
    let out = tempfile::tempdir().expect("tmp");
    let out_s = out.path().to_str().expect("utf-8");
    let got = run(
        "dashget",
        &[&manifests.url("show/manifest.mpd"), "-o", out_s, "-q"],
    );
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let host = format!("127.0.0.1_{}", media.addr.port());
    assert!(
        out.path()
            .join(&host)
            .join("template-number/init-stream0.m4s")
            .is_file()
    );
    let got = run("mp4dump", &["-d", out_s, "-r", "0"]);
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(
        dump_headers(&out.path().join("0.dump")),
        vec![
            format!("# {host}/template-number/init-stream0.m4s"),
            format!("# {host}/template-number/chunk-stream0-00001.m4s"),
            format!("# {host}/template-number/chunk-stream0-00002.m4s"),
        ]
    );
}
