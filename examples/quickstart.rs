//! Quickstart: a real download of a bundled sample, without internet.
//!
//! Serves the DASH presentation committed under `tests/fixtures/dash/` on 127.0.0.1 with a small
//! HTTP server (hyper), then downloads it with the real engine, exactly as
//! `dashget http://127.0.0.1:PORT/manifest.mpd -o DIR` would, prints what it did, and dumps
//! every fMP4 representation of the mirror into `{rep_id}.dump`, as `mp4dump -d DIR` would, and
//! writes its `report.html`, as `mp4dump --report -d DIR` would.
//!
//! ```text
//! cargo run --release --example quickstart [OUTPUT_DIR] [PRESENTATION]
//! ```
//! OUTPUT_DIR defaults to `./quickstart-out`; PRESENTATION (a folder of `tests/fixtures/dash/`)
//! to `template-number`. Run it twice: the second run finds everything complete and sends no
//! request for the segments.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use dashget::dump::DumpOptions;
use dashget::dump_folder::{FolderOptions, RepresentationOutcome, dump_folder};
use dashget::fetch::{self, Event, FileStatus, MirrorOptions, ProgressSink};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Prints one line per finished file.
struct Printer;

impl ProgressSink for Printer {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::FileDone {
                path, size, status, ..
            } => {
                let how = match status {
                    FileStatus::Downloaded => "downloaded",
                    FileStatus::AlreadyComplete => "already complete",
                    FileStatus::Verified => "verified",
                };
                println!("  {how:>16}  {:>7} bytes  {}", size, path.display());
            }
            Event::Failed { url, reason, .. } => println!("  failed {url}: {reason}"),
            Event::Retrying { url, reason, .. } => println!("  retrying {url}: {reason}"),
            _ => {}
        }
    }
}

/// Answers GET and HEAD with the files of `root` (no `..`), 404 otherwise; counts requests.
async fn serve(
    root: Arc<PathBuf>,
    hits: Arc<AtomicUsize>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    hits.fetch_add(1, Ordering::Relaxed);
    let relative = request.uri().path().trim_start_matches('/').to_string();
    let safe = !relative.is_empty() && relative.split('/').all(|c| !c.is_empty() && c != "..");
    let file = if safe {
        tokio::fs::read(root.join(&relative)).await.ok()
    } else {
        None
    };
    let response = match file {
        Some(bytes) => {
            let len = bytes.len();
            let body = if request.method() == hyper::Method::HEAD {
                Bytes::new()
            } else {
                Bytes::from(bytes)
            };
            Response::builder()
                .header("content-length", len)
                .body(Full::new(body))
        }
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(b"not found\n"))),
    };
    Ok(response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let output = PathBuf::from(args.next().unwrap_or_else(|| "quickstart-out".into()));
    let presentation = args.next().unwrap_or_else(|| "template-number".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("dash")
        .join(&presentation);
    if !root.join("manifest.mpd").is_file() {
        return Err(format!("no presentation {presentation:?} in tests/fixtures/dash").into());
    }

    // The origin: a real HTTP/1.1 server on a free port of 127.0.0.1.
    // A fixed port when free, so that a second run sees the same URLs as the journal.
    let listener = match TcpListener::bind("127.0.0.1:18080").await {
        Ok(listener) => listener,
        Err(_) => TcpListener::bind("127.0.0.1:0").await?,
    };
    let addr = listener.local_addr()?;
    let root = Arc::new(root);
    let hits = Arc::new(AtomicUsize::new(0));
    let (server_root, server_hits) = (root.clone(), hits.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (root, hits) = (server_root.clone(), server_hits.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| serve(root.clone(), hits.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    let url = format!("http://{addr}/manifest.mpd");
    println!("serving {} at http://{addr}/", root.display());
    println!("downloading {url} into {}", output.display());

    // The download: what `dashget URL -o OUTPUT` does.
    let options = MirrorOptions {
        source: url,
        base_url: None,
        output: output.clone(),
        reps: Vec::new(),
        fetch: fetch::FetchOptions::default(),
    };
    let summary = fetch::mirror(&options, Arc::new(Printer), &fetch::Cancel::new()).await?;
    println!(
        "{} segments in {} files: {} downloaded, {} already complete, {} failed; {} bytes in {:.3} s; {} requests at the server",
        summary.segments,
        summary.files,
        summary.downloaded_files,
        summary.complete_files,
        summary.failed_files,
        summary.bytes,
        summary.elapsed_seconds,
        hits.load(Ordering::Relaxed)
    );
    println!(
        "the mirror is in {} (journal: {})",
        output.display(),
        dashget::store::Journal::path(&output).display()
    );
    if !summary.is_complete() {
        return Err("some files failed".into());
    }
    // Then dump every fMP4 representation of the mirror, as `mp4dump -d OUTPUT_DIR` does.
    let report = dump_folder(&FolderOptions {
        folder: output.clone(),
        mpd: None,
        reps: Vec::new(),
        dump: DumpOptions::default(),
        concat: false,
    })?;
    for outcome in &report.outcomes {
        match outcome {
            RepresentationOutcome::Dumped {
                id, output, stats, ..
            } => println!(
                "dumped representation {id}: {} segments, {} boxes -> {}",
                stats.segments,
                stats.boxes,
                output.display()
            ),
            RepresentationOutcome::Skipped { id, reason } => {
                println!("skipped representation {id}: {reason}")
            }
            RepresentationOutcome::Failed { id, reason } => {
                println!("failed to dump representation {id}: {reason}")
            }
        }
    }
    if !report.is_clean() {
        return Err("some representations could not be dumped completely".into());
    }
    // And its report, as `mp4dump --report -d OUTPUT_DIR` writes it.
    let page = dashget::report::write_report(&dashget::report::ReportOptions {
        folder: output.clone(),
        mpd: None,
        reps: Vec::new(),
        generator: format!("mp4dump {}", env!("CARGO_PKG_VERSION")),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128),
    })?;
    println!(
        "report: {} ({} errors, {} warnings; open it in a browser)",
        page.path.display(),
        page.summary.error_count(),
        page.summary.warning_count()
    );
    Ok(())
}
