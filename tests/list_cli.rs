//! `dashget --list`: the plan from a file or over HTTP, and one-line errors with exit code 2.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use assert_cmd::Command;

fn dashget() -> Command {
    let mut cmd = Command::cargo_bin("dashget").expect("binary");
    // A manifest that cannot be fetched is retried like a segment: keep the waits short.
    cmd.env("DASHGET_BACKOFF_MS", "10");
    cmd
}

const MPD: &str = r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S">
<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate timescale="1000" duration="2000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number%03d$.m4s"/>
<Representation id="v1" bandwidth="1"/><Representation id="v2" bandwidth="2"/></AdaptationSet></Period></MPD>"#;

/// Serves `body` with `status` for every request, on a free port of 127.0.0.1.
fn serve(status: &'static str, body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn lists_over_http_with_absolute_urls_and_paths() {
    let port = serve("200 OK", MPD);
    let url = format!("http://127.0.0.1:{port}/show/manifest.mpd");
    let out = dashget()
        .args(["--list", "--json", &url])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines[0],
        serde_json::json!({"period": "0", "representation": "v1", "kind": "init",
            "url": format!("http://127.0.0.1:{port}/show/v1/init.mp4"), "range": null, "path": "v1/init.mp4"})
    );
    assert_eq!(
        lines[2],
        serde_json::json!({"period": "0", "representation": "v1", "kind": "media",
            "url": format!("http://127.0.0.1:{port}/show/v1/002.m4s"), "range": null, "path": "v1/002.m4s",
            "number": 2, "time": 2000, "duration": 2000})
    );
    // -r keeps only the named representations; plain text has one line per segment.
    let out = dashget()
        .args(["--list", "-r", "v2", &url])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3);
    assert!(text.lines().all(|l| l.contains(" v2 ")), "{text}");
}

#[test]
fn base_url_applies_to_a_local_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("m.mpd");
    std::fs::write(&file, MPD).expect("write");
    let out = dashget()
        .args([
            "--list",
            "--json",
            "--base-url",
            "https://cdn.example/a/b.mpd",
        ])
        .arg(&file)
        .output()
        .expect("run");
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .expect("line"),
    )
    .expect("json");
    assert_eq!(first["url"], "https://cdn.example/a/v1/init.mp4");
    assert_eq!(first["path"], "v1/init.mp4");
}

fn fails_with(args: &[&str], file: Option<&Path>, expected: &[&str]) {
    let mut cmd = dashget();
    cmd.args(args);
    if let Some(f) = file {
        cmd.arg(f);
    }
    let out = cmd.output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for e in expected {
        assert!(stderr.contains(e), "expected {e:?} in {stderr}");
    }
}

#[test]
fn errors_are_one_line_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("tmp");
    fails_with(
        &["--list", "/nonexistent/dir/m.mpd"],
        None,
        &["/nonexistent/dir/m.mpd", "cannot read"],
    );
    let not_xml = dir.path().join("notxml.mpd");
    std::fs::write(&not_xml, "hello {").expect("write");
    fails_with(
        &["--list"],
        Some(&not_xml),
        &["notxml.mpd", "not valid XML"],
    );
    let html = dir.path().join("page.mpd");
    std::fs::write(&html, "<html><body/></html>").expect("write");
    fails_with(
        &["--list"],
        Some(&html),
        &["page.mpd", "it is an HTML page"],
    );
    let bad = dir.path().join("bad.mpd");
    std::fs::write(&bad, MPD.replace("$Number%03d$", "$Numbr$")).expect("write");
    fails_with(
        &["--list"],
        Some(&bad),
        &[
            "bad.mpd",
            "representation \"v1\"",
            "unknown identifier $Numbr$",
        ],
    );
    let good = dir.path().join("good.mpd");
    std::fs::write(&good, MPD).expect("write");
    fails_with(
        &["--list", "-r", "nope"],
        Some(&good),
        &["no representation with id nope"],
    );
    let port = serve("404 Not Found", "gone");
    let url = format!("http://127.0.0.1:{port}/m.mpd");
    fails_with(&["--list", &url], None, &[&url, "HTTP 404"]);
    // Nothing listens on port 9 of 127.0.0.1.
    fails_with(
        &["--list", "http://127.0.0.1:9/m.mpd"],
        None,
        &["127.0.0.1:9/m.mpd", "cannot fetch"],
    );
}

/// Lines of `dashget --list --json ARGS` (asserting success).
fn list_json(args: &[&str]) -> Vec<serde_json::Value> {
    let out = dashget()
        .args(["--list", "--json"])
        .args(args)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

const QUERY_MPD: &str = r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:up="urn:mpeg:dash:schema:urlparam:2014" type="static" mediaPresentationDuration="PT2S">
<Period><AdaptationSet><EssentialProperty schemeIdUri="urn:mpeg:dash:urlparam:2014"><up:UrlQueryInfo queryTemplate="$querypart$" useMPDUrlQuery="true"/></EssentialProperty>
<SegmentTemplate timescale="1" duration="2" initialization="i.mp4" media="$Number$.m4s"/><Representation id="v"/></AdaptationSet></Period></MPD>"#;

#[test]
fn the_manifest_query_reaches_the_segments_that_ask_for_it() {
    let port = serve("200 OK", QUERY_MPD);
    let url = format!("http://127.0.0.1:{port}/show/manifest.mpd?token=abc");
    let lines = list_json(&[&url]);
    let urls: Vec<&str> = lines.iter().filter_map(|l| l["url"].as_str()).collect();
    assert_eq!(
        urls,
        vec![
            format!("http://127.0.0.1:{port}/show/i.mp4?token=abc"),
            format!("http://127.0.0.1:{port}/show/1.m4s?token=abc"),
        ]
    );
    assert_eq!(lines[1]["path"], "1.m4s");
}

#[test]
fn index_and_bitstream_switching_segments_are_listed() {
    let lines = list_file(
        r#"<MPD type="static" mediaPresentationDuration="PT1S"><Period><AdaptationSet><Representation id="a"><SegmentTemplate duration="1" initialization="i.mp4" index="a.sidx" bitstreamSwitching="bs.mp4" media="$Number$.m4s"/></Representation></AdaptationSet></Period></MPD>"#,
    );
    let kinds: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap_or(""),
                l["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("init", "i.mp4"),
            ("index", "a.sidx"),
            ("bitstream-switching", "bs.mp4"),
            ("media", "1.m4s")
        ]
    );
}

/// Writes `body` as `m.mpd` in a new folder and lists it against a fixed base URL.
fn list_file(body: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("m.mpd");
    std::fs::write(&file, body).expect("write");
    let path = file.to_string_lossy().into_owned();
    list_json(&["--base-url", "https://cdn.example/m.mpd", &path])
}

#[test]
fn a_segment_list_entry_past_the_period_is_not_listed() {
    // As ffmpeg writes audio: three 1 s entries listed for a 2 s presentation.
    let lines = list_file(
        r#"<MPD type="static" mediaPresentationDuration="PT2.0S"><Period start="PT0.0S"><AdaptationSet><Representation id="2"><SegmentList timescale="1000000" duration="1000000"><Initialization sourceURL="init-stream2.m4s"/><SegmentURL media="chunk-stream2-00001.m4s"/><SegmentURL media="chunk-stream2-00002.m4s"/><SegmentURL media="chunk-stream2-00003.m4s"/></SegmentList></Representation></AdaptationSet></Period></MPD>"#,
    );
    let paths: Vec<&str> = lines.iter().filter_map(|l| l["path"].as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "init-stream2.m4s",
            "chunk-stream2-00001.m4s",
            "chunk-stream2-00002.m4s"
        ]
    );
}

#[test]
fn a_template_without_duration_or_timeline_lists_one_media_segment() {
    let lines = list_file(
        r#"<MPD type="static" mediaPresentationDuration="PT8S"><Period><AdaptationSet><Representation id="a"><SegmentTemplate startNumber="5" initialization="i.mp4" media="$RepresentationID$_$Number$.mp4"/></Representation></AdaptationSet></Period></MPD>"#,
    );
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1],
        serde_json::json!({"period": "0", "representation": "a", "kind": "media",
            "url": "https://cdn.example/a_5.mp4", "range": null, "path": "a_5.mp4",
            "number": 5, "time": 0, "duration": 8})
    );
}

#[test]
fn refusals_and_empty_plans_say_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let rows: &[(&str, &str)] = &[
        (
            r#"<MPD type="static" mediaPresentationDuration="PT10S"><Period start="PT20S"><AdaptationSet><Representation id="a"><SegmentTemplate duration="1" media="$Number$"/></Representation></AdaptationSet></Period></MPD>"#,
            "period 0 starts at 20s, after the end of the presentation",
        ),
        (r#"<MPD type="list"/>"#, "list MPDs"),
        (
            r#"<MPD type="static"><Period><AdaptationSet><Representation id="a"><BaseURL>a.mp4</BaseURL><SegmentList><SegmentURL mediaRange="0-18446744073709551615"/></SegmentList></Representation></AdaptationSet></Period></MPD>"#,
            "@mediaRange \"0-18446744073709551615\" ends past the largest possible file",
        ),
        (
            r#"<MPD type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet><SegmentTemplate media="$Time$"><SegmentTimeline><Pattern><S d="2"/></Pattern></SegmentTimeline></SegmentTemplate><Representation id="a"/></AdaptationSet></Period></MPD>"#,
            "SegmentTimeline patterns (<Pattern>) are not supported",
        ),
        (
            r#"<MPD type="static"><Period><Representation id="a"><BaseURL>a.mp4</BaseURL></Representation></Period></MPD>"#,
            "nothing to download: period 0: 1 Representation element(s) directly under the Period",
        ),
    ];
    for (i, (body, message)) in rows.iter().enumerate() {
        let file = dir.path().join(format!("m{i}.mpd"));
        std::fs::write(&file, body).expect("write");
        fails_with(&["--list"], Some(&file), &[&format!("m{i}.mpd"), message]);
    }
}

#[test]
fn a_partly_empty_plan_lists_what_it_has_and_warns() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("m.mpd");
    std::fs::write(
        &file,
        r#"<MPD type="static"><Period><AdaptationSet/><AdaptationSet><Representation id="a"><BaseURL>a.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>"#,
    )
    .expect("write");
    let out = dashget().arg("--list").arg(&file).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "dashget: warning: period 0, adaptation set 0: no Representation\n"
    );
}

#[test]
fn a_long_timeline_is_listed_in_full_and_too_many_segments_are_refused_by_count() {
    let timeline = |r: u64| {
        format!(
            r#"<MPD type="static" mediaPresentationDuration="PT100000S"><Period><AdaptationSet><SegmentTemplate timescale="1000" initialization="$RepresentationID$/i.mp4" media="$RepresentationID$/$Time$.m4s"><SegmentTimeline><S t="0" d="1000" r="{r}"/></SegmentTimeline></SegmentTemplate><Representation id="a"/><Representation id="b"/></AdaptationSet></Period></MPD>"#
        )
    };
    // 2 × (1 + 5,000) segments; the last is b's segment number 5,000, at 4,999,000.
    let lines = list_file(&timeline(4_999));
    assert_eq!(lines.len(), 10_002);
    assert_eq!(lines[5_001]["path"], "b/i.mp4");
    assert_eq!(lines[10_001]["path"], "b/4999000.m4s");
    assert_eq!(lines[10_001]["number"], 5_000);
    // 2 × 6,000,000 media segments: over the cap of 10 million, refused without expanding.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("huge.mpd");
    std::fs::write(&file, timeline(5_999_999)).expect("write");
    fails_with(
        &["--list"],
        Some(&file),
        &["huge.mpd", "more than 10000000 segments"],
    );
}

/// `dashget --list --json --expand-index` of the manifest at `path` under `root`, served by the
/// test server: the server (for its log) and the lines.
fn expanded(root: &Path, path: &str) -> (dashget_testkit::TestServer, Vec<serde_json::Value>) {
    let server = dashget_testkit::TestServer::start(root);
    let lines = expanded_from(&server, path);
    (server, lines)
}

/// `dashget --list --json --expand-index` of the manifest at `path` on `server`: the lines.
fn expanded_from(server: &dashget_testkit::TestServer, path: &str) -> Vec<serde_json::Value> {
    let url = server.url(path);
    let output = dashget()
        .args(["--list", "--json", "--expand-index", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `--expand-index`: the SegmentBase of the on-demand fixture (ffmpeg's dash muxer,
/// `indexRange="828-879"`) is read through its `sidx` boxes with ranged requests; each
/// subsegment is a media entry whose range starts with a box of a fragment, the ranges follow
/// each other to the file's end, times follow durations; the representation without an index
/// keeps its one entry.
#[test]
fn expand_index_lists_the_subsegments_of_a_segment_base() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dash");
    let (server, lines) = expanded(&fixtures, "segment-base/manifest.mpd");
    let video: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["representation"] == "video" && l["kind"] == "media")
        .collect();
    assert!(video.len() >= 2, "{lines:?}");
    let file = std::fs::read(fixtures.join("segment-base/video.mp4")).unwrap();
    let mut next = 880;
    let mut time = video[0]["time"].as_i64().unwrap();
    for entry in &video {
        let (first, last) = entry["range"]
            .as_str()
            .unwrap()
            .split_once('-')
            .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
            .unwrap();
        if first != next {
            // A chained index: the next sidx box stands between two subsegments.
            let size = u32::from_be_bytes(file[next..next + 4].try_into().unwrap()) as usize;
            assert_eq!(&file[next + 4..next + 8], b"sidx", "{entry}");
            assert_eq!(next + size, first, "{entry}");
        }
        let kind = &file[first + 4..first + 8];
        assert!(kind == b"moof" || kind == b"styp", "{entry}: {kind:?}");
        assert_eq!(entry["time"].as_i64().unwrap(), time);
        time += entry["duration"].as_i64().unwrap();
        assert_eq!(entry["path"], "video.mp4");
        next = last + 1;
    }
    assert_eq!(next, file.len());
    // One request for the index; this file chains its index (a sidx before each fragment, as
    // ffmpeg writes it): one small request per further link, and nothing else of the file.
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("video.mp4"))
        .collect();
    assert_eq!(gets.len(), video.len());
    assert_eq!(
        gets[0].headers.get("range").map(String::as_str),
        Some("bytes=828-879")
    );
    let audio: Vec<_> = lines
        .iter()
        .filter(|l| l["representation"] == "audio")
        .collect();
    assert_eq!(audio.len(), 1);
    assert_eq!(audio[0]["range"], serde_json::Value::Null);
    // Without a server for the index: the entry stays whole, the error is said, exit 1.
    let output = dashget()
        .args([
            "--list",
            "--expand-index",
            fixtures.join("segment-base/manifest.mpd").to_str().unwrap(),
            "--base-url",
            "http://127.0.0.1:9/segment-base/manifest.mpd",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot expand its index"), "{stderr}");
}

/// The ranged requests of `--expand-index` are retried like any other: a 503 and a connection
/// dropped in the middle of the index cost one more request each, and the listing is the same.
#[test]
fn expand_index_retries_a_failing_index_request() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dash");
    let server = dashget_testkit::TestServer::start(&fixtures);
    server.faults_in_turn(
        "/segment-base/video.mp4",
        vec![
            dashget_testkit::Fault::Unavailable("0".into()),
            dashget_testkit::Fault::DropMidBody,
        ],
    );
    let video_media = |lines: &[serde_json::Value]| {
        lines
            .iter()
            .filter(|l| l["representation"] == "video" && l["kind"] == "media")
            .count()
    };
    let media = video_media(&expanded_from(&server, "segment-base/manifest.mpd"));
    let want = video_media(&expanded(&fixtures, "segment-base/manifest.mpd").1);
    assert_eq!(media, want);
    let gets = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("video.mp4"))
        .count();
    assert_eq!(gets, want + 2, "one more request per failure");
}

/// `--expand-index` on Bento4's on-demand output: one `sidx` with every reference, and
/// subsegments that follow each other up to the `mfra` that ends the file.
#[test]
fn expand_index_follows_one_sidx_up_to_the_mfra() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bento4-dash");
    let (server, lines) = expanded(&fixtures, "on-demand/stream.mpd");
    for (rep, file, index_end) in [
        ("video-avc1", "media-video-avc1.mp4", 873),
        ("audio-und-mp4a.40.2", "media-audio-und-mp4a.40.2.mp4", 695),
    ] {
        let media: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["representation"] == rep && l["kind"] == "media")
            .collect();
        assert!(media.len() >= 2, "{rep}: {media:?}");
        let size = std::fs::metadata(fixtures.join("on-demand").join(file))
            .unwrap()
            .len();
        let mut next = index_end;
        for entry in &media {
            let (first, last) = entry["range"]
                .as_str()
                .unwrap()
                .split_once('-')
                .map(|(a, b)| (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()))
                .unwrap();
            assert_eq!(first, next, "{entry}");
            next = last + 1;
        }
        // Bento4 ends the file with an `mfra`, which no subsegment holds.
        let bytes = std::fs::read(fixtures.join("on-demand").join(file)).unwrap();
        assert_eq!(
            &bytes[next as usize + 4..next as usize + 8],
            b"mfra",
            "{rep}"
        );
        let mfra = u32::from_be_bytes(bytes[next as usize..next as usize + 4].try_into().unwrap());
        assert_eq!(next + u64::from(mfra), size, "{rep}");
        let gets = server
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with(file))
            .count();
        // The index, and a look at what follows the last subsegment.
        assert_eq!(gets, 2, "{rep}");
    }
}
