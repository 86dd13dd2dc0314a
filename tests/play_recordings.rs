//! Live recordings made by `dashget` play from their start to their end in the DASH-IF reference
//! player, dash.js, in headless Chromium: a clean recording in `SegmentTimeline` (`$Time$`)
//! addressing, one in `$Number$` addressing, and one with an outage longer than the origin's
//! buffer, whose hole the recording's MPD names and stretches the segment before it over.
//!
//! Each recording is made from the live test origin (127.0.0.1), served with the player page
//! (`tests/browser/player.html`) and dash.js (`tests/browser/node_modules/`, from `npm ci
//! --prefix tests/browser`) by a small static server on 127.0.0.1, and played in real time, muted,
//! in a headless Chromium of its own; the three run side by side. The page writes what happened
//! into the DOM, which Chromium prints. "From its start": playback begins within 0.5 s of 0 (a
//! Period may begin with one track's media a segment later than another's), in the first Period.
//! "To its end": the final `currentTime` is within 0.15 s of the MPD's
//! `mediaPresentationDuration` (dash.js sometimes pauses on the last frame without `ended`). And
//! dash.js reports no error event.
//!
//! Without `chromium` or the dashjs package the test says so and passes (`.ci/run` installs
//! both). A failure tells what the page saw (seeks, waits, Period switches, where playback was
//! every half second), dash.js's console and the recording's MPD; a recorder that does not stop
//! is killed and the origin's log is shown. `DASHGET_KEEP_RECORDINGS=1` keeps the recordings'
//! folders and prints where they are; `DASHGET_PLAY_DIR=DIR[:DIR…] cargo test --test
//! play_recordings -- --ignored --nocapture` plays such folders (an MPD edited by hand, say).
use dashget_testkit as common;

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use common::browser::{find_chromium, run_chromium};
use common::live_origin::client::*;
use common::live_origin::*;

/// dash.js's UMD build, under `tests/browser/`.
const DASHJS: &str = "node_modules/dashjs/dist/modern/umd/dash.all.min.js";

/// How far from the presentation's end playback may stop and still have played to the end.
const END_TOLERANCE: f64 = 0.15;

/// The page gives up when the position has not moved for this long once playing (seconds).
const STUCK_AFTER: u64 = 15;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("browser")
}

// ---------------------------------------------------------------------------------------------
// The static server: the player page and dash.js (`/browser/…`), the recordings
// (`/rec/NAME/…`), and the page's hold (`/hold/ID`, answered once `/release/ID` was asked for).

struct Site {
    browser: PathBuf,
    recordings: Mutex<HashMap<String, PathBuf>>,
    released: Mutex<HashSet<String>>,
}

struct PageServer {
    addr: SocketAddr,
    site: Arc<Site>,
    _runtime: tokio::runtime::Runtime,
}

/// No hold lasts longer than this, whatever the page does.
const HOLD_LIMIT: Duration = Duration::from_secs(300);

impl PageServer {
    fn start() -> PageServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let site = Arc::new(Site {
            browser: browser_dir(),
            recordings: Mutex::new(HashMap::new()),
            released: Mutex::new(HashSet::new()),
        });
        let shared = site.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let site = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| serve(site.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        PageServer {
            addr,
            site,
            _runtime: runtime,
        }
    }

    /// Serves `dir` at `/rec/NAME/`.
    fn add_recording(&self, name: &str, dir: &Path) {
        self.site
            .recordings
            .lock()
            .unwrap()
            .insert(name.to_string(), dir.to_path_buf());
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }
}

/// `relative` (a URL path, `/`-separated) under `root`, when it stays there.
fn safe_join(root: &Path, relative: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = relative.split('/').collect();
    let safe = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\\'));
    safe.then(|| {
        parts
            .iter()
            .fold(root.to_path_buf(), |path, p| path.join(p))
    })
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "mpd" => "application/dash+xml",
        "mp4" | "m4s" | "m4v" => "video/mp4",
        "m4a" => "audio/mp4",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

fn reply(status: StatusCode, kind: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", kind)
        .header("cache-control", "no-store")
        .header("access-control-allow-origin", "*")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn serve(
    site: Arc<Site>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", vec![]));
    }
    let path = percent_encoding::percent_decode_str(req.uri().path())
        .decode_utf8_lossy()
        .to_string();
    if let Some(id) = path.strip_prefix("/hold/") {
        let deadline = Instant::now() + HOLD_LIMIT;
        while !site.released.lock().unwrap().contains(id) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        return Ok(reply(StatusCode::NO_CONTENT, "text/plain", vec![]));
    }
    if let Some(id) = path.strip_prefix("/release/") {
        site.released.lock().unwrap().insert(id.to_string());
        return Ok(reply(StatusCode::NO_CONTENT, "text/plain", vec![]));
    }
    let file = if let Some(rest) = path.strip_prefix("/browser/") {
        safe_join(&site.browser, rest)
    } else if let Some((name, rest)) = path
        .strip_prefix("/rec/")
        .and_then(|rest| rest.split_once('/'))
    {
        let root = site.recordings.lock().unwrap().get(name).cloned();
        root.and_then(|root| safe_join(&root, rest))
    } else {
        None
    };
    let found = match &file {
        Some(file) => tokio::fs::read(file).await.ok(),
        None => None,
    };
    Ok(match (file, found) {
        (Some(file), Some(bytes)) => {
            let body = if req.method() == Method::HEAD {
                Vec::new()
            } else {
                bytes
            };
            reply(StatusCode::OK, content_type(&file), body)
        }
        _ => reply(StatusCode::NOT_FOUND, "text/plain", b"not found\n".to_vec()),
    })
}

// ---------------------------------------------------------------------------------------------
// The recordings.

/// A recording to make and play.
struct Case {
    name: &'static str,
    addressing: Addressing,
    /// The origin's `timeShiftBufferDepth`, seconds.
    buffer: u64,
    /// `--duration`, seconds.
    duration: u64,
    /// The origin stops this long after the recording starts, for this long.
    outage: Option<(Duration, Duration)>,
    /// `dashget`'s exit code (1: the recording has gaps).
    exit_code: i32,
    /// Whether the recording's MPD must name a hole in its timeline.
    gap: bool,
}

const CASES: [Case; 3] = [
    Case {
        name: "timeline-time",
        addressing: Addressing::TimelineTime,
        buffer: 10,
        duration: 6,
        outage: None,
        exit_code: 0,
        gap: false,
    },
    Case {
        name: "number",
        addressing: Addressing::Number,
        buffer: 10,
        duration: 6,
        outage: None,
        exit_code: 0,
        gap: false,
    },
    Case {
        name: "outage-gap",
        addressing: Addressing::TimelineTime,
        buffer: 1,
        duration: 8,
        outage: Some((Duration::from_millis(1500), Duration::from_millis(3000))),
        exit_code: 1,
        gap: true,
    },
];

/// Records `case` from a fresh origin into `dir`: `dashget`'s exit code and stderr.
fn record(case: &Case, dir: &Path) -> (Option<i32>, String) {
    let (origin, _) = origin_with_buffer(case.addressing, 30, case.buffer);
    record_live(
        Path::new(env!("CARGO_BIN_EXE_dashget")),
        &origin,
        dir,
        case.duration,
        case.outage,
    )
}

/// `mediaPresentationDuration` of an MPD, seconds.
fn mpd_duration(text: &str) -> Option<f64> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let value = doc.root_element().attribute("mediaPresentationDuration")?;
    let nanos = dashget::mpd::duration::parse_duration(value).ok()?;
    Some(nanos as f64 / 1e9)
}

/// The Period of an MPD that `time` (seconds) falls in: its id, start and duration.
fn period_at(text: &str, time: f64) -> Option<(String, f64, f64)> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let seconds = |v: Option<&str>| {
        v.and_then(|v| dashget::mpd::duration::parse_duration(v).ok())
            .map(|n| n as f64 / 1e9)
    };
    let periods: Vec<(String, f64, f64)> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("Period"))
        .map(|p| {
            (
                p.attribute("id").unwrap_or("").to_string(),
                seconds(p.attribute("start")).unwrap_or(0.0),
                seconds(p.attribute("duration")).unwrap_or(f64::INFINITY),
            )
        })
        .collect();
    periods
        .iter()
        .rev()
        .find(|(_, start, _)| *start <= time)
        .or(periods.first())
        .cloned()
}

// ---------------------------------------------------------------------------------------------
// Playing.

/// Opens `url` in a fresh headless Chromium and returns the page's result, or what went wrong.
/// Chromium is killed after `limit`.
fn play(chromium: &Path, url: &str, limit: Duration) -> Result<(Value, String), String> {
    let run = run_chromium(chromium, &["--dump-dom".to_string()], url, limit)?;
    let (dom, status) = (&run.stdout, run.status);
    // The page's console, and Chromium's own errors.
    let console = run.console(60).join("\n");
    let Some(status) = status else {
        return Err(format!(
            "Chromium did not finish within {limit:?}; its log:\n{console}"
        ));
    };
    let result = dom
        .rsplit_once("<pre id=\"result\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(text, _)| {
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&nbsp;", "\u{a0}")
                .replace("&amp;", "&")
        });
    match result.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(value)) => Ok((value, console)),
        _ => Err(format!(
            "no result in the page (Chromium: {status}); the DOM:\n{}\nits log:\n{console}",
            dom.chars().take(4000).collect::<String>()
        )),
    }
}

/// What one recording did.
struct Report {
    name: &'static str,
    exit_code: Option<i32>,
    recorder_stderr: String,
    mpd: String,
    /// The MPD's `mediaPresentationDuration`, seconds.
    duration: Option<f64>,
    result: Result<(Value, String), String>,
    wall: Duration,
}

/// A presentation folder played in dash.js: its MPD's text and `mediaPresentationDuration`, and
/// the page's result.
struct Played {
    mpd: String,
    duration: Option<f64>,
    result: Result<(Value, String), String>,
}

/// Serves `dir` as `name` and plays its `manifest.mpd` in a fresh Chromium.
fn play_folder(server: &PageServer, chromium: &Path, name: &str, dir: &Path) -> Played {
    let mpd = std::fs::read_to_string(dir.join("manifest.mpd")).unwrap_or_default();
    let duration = mpd_duration(&mpd);
    server.add_recording(name, dir);
    // Real-time playback: generous room for a slow machine's start-up and stalls.
    let limit = duration.unwrap_or(0.0).ceil() as u64 + 60;
    let mut query =
        format!("mpd=/rec/{name}/manifest.mpd&id={name}&limit={limit}&stuck={STUCK_AFTER}");
    if let Some(d) = duration {
        query.push_str(&format!("&duration={d}"));
    }
    let url = server.url(&format!("/browser/player.html?{query}"));
    let result = play(chromium, &url, Duration::from_secs(limit + 60));
    Played {
        mpd,
        duration,
        result,
    }
}

fn run_case(case: &Case, server: &PageServer, chromium: &Path) -> Report {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix(&format!("play-{}-", case.name))
        .tempdir()
        .unwrap();
    let (exit_code, recorder_stderr) = record(case, dir.path());
    let played = play_folder(server, chromium, case.name, dir.path());
    if std::env::var_os("DASHGET_KEEP_RECORDINGS").is_some() {
        eprintln!("{}: kept in {}", case.name, dir.keep().display());
    }
    Report {
        name: case.name,
        exit_code,
        recorder_stderr,
        mpd: played.mpd,
        duration: played.duration,
        result: played.result,
        wall: started.elapsed(),
    }
}

fn num(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.3}"))
        .unwrap_or_else(|| "-".into())
}

/// One line of the results table.
fn summary_line(report: &Report) -> String {
    let duration = report
        .duration
        .map(|d| format!("{d:.3}"))
        .unwrap_or_else(|| "-".into());
    match &report.result {
        Ok((r, _)) => {
            let errors: Vec<String> = r["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    format!(
                        "{}{} {}",
                        e["kind"].as_str().unwrap_or(""),
                        e["code"]
                            .as_i64()
                            .map(|c| format!(" {c}"))
                            .unwrap_or_default(),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect();
            let periods: Vec<String> = r["periods"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| format!("{}@{}", p["id"].as_str().unwrap_or("?"), num(&p["at"])))
                .collect();
            format!(
                "{:<14} exit {:<4} duration {:>7} (video {:>7})  start {:>6}  final currentTime {:>7}  {:<5} ended {:<5} stalled {:<5} (longest freeze {} s, waits at [{}])  period switches [{}]  errors [{}]  {} s wall",
                report.name,
                report
                    .exit_code
                    .map(|c| c.to_string())
                    .unwrap_or("-".into()),
                duration,
                num(&r["videoDuration"]),
                num(&r["startTime"]),
                num(&r["currentTime"]),
                r["outcome"].as_str().unwrap_or("?"),
                r["ended"],
                r["stalled"],
                num(&r["longestFreeze"]),
                r["waits"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|w| num(&w["at"]))
                    .collect::<Vec<_>>()
                    .join(", "),
                periods.join(", "),
                errors.join("; "),
                report.wall.as_secs_f64().round()
            )
        }
        Err(e) => format!(
            "{:<14} exit {:?} duration {duration}: not played: {}",
            report.name,
            report.exit_code,
            e.lines().next().unwrap_or("")
        ),
    }
}

/// What is wrong with one recording's playback, if anything.
fn problems(case: &Case, report: &Report) -> Vec<String> {
    let mut wrong = Vec::new();
    if report.exit_code != Some(case.exit_code) {
        wrong.push(format!(
            "dashget exited with {:?}, not {}:\n{}",
            report.exit_code, case.exit_code, report.recorder_stderr
        ));
    }
    let has_gap = report.mpd.contains(dashget::live::recording::GAP_SCHEME);
    if has_gap != case.gap {
        wrong.push(format!(
            "the recording's MPD {} a named hole in its timeline",
            if has_gap { "has" } else { "does not have" }
        ));
    }
    let Some(duration) = report.duration else {
        wrong.push("the recording's MPD has no mediaPresentationDuration".into());
        return wrong;
    };
    let (r, console) = match &report.result {
        Ok(played) => played,
        Err(e) => {
            wrong.push(e.clone());
            return wrong;
        }
    };
    let mut played = Vec::new();
    let current = r["currentTime"].as_f64().unwrap_or(0.0);
    if current < duration - END_TOLERANCE {
        let place = period_at(&report.mpd, current)
            .map(|(id, start, length)| {
                format!(" in Period {id} (start {start:.3} s, duration {length:.3} s)")
            })
            .unwrap_or_default();
        played.push(format!(
            "playback stopped at {current:.3} s{place}, not at the end ({duration:.3} s): {}",
            r["outcome"]
        ));
    }
    if let Some(start) = r["startTime"].as_f64()
        && start > 0.5
    {
        let place = period_at(&report.mpd, start)
            .map(|(id, _, _)| format!(" (Period {id})"))
            .unwrap_or_default();
        played.push(format!(
            "playback started at {start:.3} s{place}, not at the start"
        ));
    }
    let errors = r["errors"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if !errors.is_empty() {
        played.push(format!("errors during playback: {}", Value::from(errors)));
    }
    if !r["mediaError"].is_null() {
        played.push(format!("the video element failed: {}", r["mediaError"]));
    }
    if !played.is_empty() {
        wrong.push(format!(
            "{}\nthe page's result: {r}\nthe console:\n{console}\nthe recording's MPD:\n{}",
            played.join("\n"),
            report.mpd
        ));
    }
    wrong
}

#[test]
fn recordings_play_to_their_end_in_dash_js() {
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "note: chromium is not installed: the recordings are not played in a browser (skipped; .ci/run installs it)"
        );
        return;
    };
    if !browser_dir().join(DASHJS).is_file() {
        eprintln!(
            "note: dash.js is not installed (npm ci --prefix tests/browser): the recordings are not played in a browser (skipped)"
        );
        return;
    }
    let started = Instant::now();
    let server = PageServer::start();
    let reports: Vec<Report> = std::thread::scope(|scope| {
        let runs: Vec<_> = CASES
            .iter()
            .map(|case| {
                let (server, chromium) = (&server, &chromium);
                scope.spawn(move || run_case(case, server, chromium))
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    println!("recordings played in dash.js:");
    for report in &reports {
        println!("  {}", summary_line(report));
    }
    println!("all in {:.1} s", started.elapsed().as_secs_f64());
    let wrong: Vec<String> = CASES
        .iter()
        .zip(&reports)
        .flat_map(|(case, report)| {
            problems(case, report)
                .into_iter()
                .map(move |p| format!("{}: {p}", case.name))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// Plays the presentation folder(s) named by `DASHGET_PLAY_DIR` (`:`-separated; each holds a
/// `manifest.mpd`, such as a kept recording) the same way, side by side, and prints what
/// happened: for trying out a recording's MPD by hand. Run with `-- --ignored --nocapture`.
#[test]
#[ignore = "plays the folders named by DASHGET_PLAY_DIR"]
fn play_folders_by_hand() {
    let Some(dirs) = std::env::var_os("DASHGET_PLAY_DIR") else {
        eprintln!("note: DASHGET_PLAY_DIR names no folder");
        return;
    };
    let chromium = find_chromium().expect("chromium");
    assert!(
        browser_dir().join(DASHJS).is_file(),
        "dash.js is not installed"
    );
    let server = PageServer::start();
    let dirs: Vec<PathBuf> = std::env::split_paths(&dirs).collect();
    std::thread::scope(|scope| {
        for (k, dir) in dirs.iter().enumerate() {
            let (server, chromium) = (&server, &chromium);
            scope.spawn(move || {
                let played = play_folder(server, chromium, &format!("folder{k}"), dir);
                match played.result {
                    Ok((r, console)) => println!(
                        "{}: duration {:?}\n{r:#}\n{console}",
                        dir.display(),
                        played.duration
                    ),
                    Err(e) => println!("{}: {e}", dir.display()),
                }
            });
        }
    });
}
