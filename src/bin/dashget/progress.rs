//! The two progress sinks of `dashget`: an indicatif bar on a terminal, plain lines otherwise;
//! and the summary, as text or JSON.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dashget::fetch::{Event, FileStatus, ProgressSink, Summary};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// Retries, failures, mismatches, periodic progress.
    Normal,
    /// Also one line per finished file.
    Verbose,
}

/// Counters shared by both sinks.
struct Counters {
    started: Instant,
    segments: AtomicUsize,
    segments_done: AtomicUsize,
    received: AtomicU64,
    expected: AtomicU64,
    /// Milliseconds since `started` of the last periodic update.
    last_update: AtomicU64,
}

impl Counters {
    fn new() -> Counters {
        Counters {
            started: Instant::now(),
            segments: AtomicUsize::new(0),
            segments_done: AtomicUsize::new(0),
            received: AtomicU64::new(0),
            expected: AtomicU64::new(0),
            last_update: AtomicU64::new(0),
        }
    }

    /// True at most once per `period` (for throttled updates).
    fn due(&self, period: Duration) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_update.load(Ordering::Relaxed);
        now >= last + period.as_millis() as u64
            && self
                .last_update
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    fn rate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.received.load(Ordering::Relaxed) as f64 / secs
        } else {
            0.0
        }
    }

    fn bytes_text(&self) -> String {
        // Sizes become known file by file, so there is no meaningful byte total to show.
        format!(
            "{} ({}/s)",
            human_bytes(self.received.load(Ordering::Relaxed)),
            human_bytes(self.rate() as u64)
        )
    }

    /// Updates the counters; returns a log line for the events worth one.
    fn take(&self, event: &Event<'_>, verbosity: Verbosity) -> Option<String> {
        match event {
            Event::Manifest { .. } => None,
            Event::Planned { segments, .. } => {
                self.segments.store(*segments, Ordering::Relaxed);
                None
            }
            Event::Expected { bytes } => {
                self.expected.fetch_add(*bytes, Ordering::Relaxed);
                None
            }
            Event::Received { bytes } => {
                self.received.fetch_add(*bytes, Ordering::Relaxed);
                None
            }
            Event::FileDone {
                path,
                segments,
                size,
                status,
                ..
            } => {
                self.segments_done.fetch_add(*segments, Ordering::Relaxed);
                (verbosity >= Verbosity::Verbose).then(|| {
                    let how = match status {
                        FileStatus::Downloaded => "downloaded",
                        FileStatus::AlreadyComplete => "complete",
                        FileStatus::Verified => "verified",
                    };
                    format!("{how} {} ({})", path.display(), human_bytes(*size))
                })
            }
            Event::Retrying {
                url,
                attempt,
                delay,
                reason,
                ..
            } => (verbosity >= Verbosity::Normal).then(|| {
                format!(
                    "retry {attempt} of {url} in {:.1} s: {reason}",
                    delay.as_secs_f64()
                )
            }),
            Event::Mismatch { path, reason, .. } => {
                (verbosity >= Verbosity::Normal).then(|| format!("{}: {reason}", path.display()))
            }
            Event::Warning { message } => {
                (verbosity >= Verbosity::Normal).then(|| format!("warning: {message}"))
            }
            Event::Failed {
                path,
                url,
                segments,
                reason,
            } => {
                self.segments_done.fetch_add(*segments, Ordering::Relaxed);
                (verbosity >= Verbosity::Normal)
                    .then(|| format!("error: {} ({url}): {reason}", path.display()))
            }
        }
    }
}

/// Plain lines on standard error: events worth a line, and a progress line every few seconds.
pub struct LineSink {
    verbosity: Verbosity,
    counters: Counters,
    out: Mutex<std::io::Stderr>,
}

impl LineSink {
    pub fn new(verbosity: Verbosity) -> LineSink {
        LineSink {
            verbosity,
            counters: Counters::new(),
            out: Mutex::new(std::io::stderr()),
        }
    }

    fn line(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "dashget: {text}");
    }
}

impl ProgressSink for LineSink {
    fn event(&self, event: &Event<'_>) {
        if let Some(text) = self.counters.take(event, self.verbosity) {
            self.line(&text);
        }
        if self.verbosity >= Verbosity::Normal
            && matches!(event, Event::FileDone { .. } | Event::Received { .. })
            && self.counters.due(Duration::from_secs(5))
        {
            let c = &self.counters;
            self.line(&format!(
                "{}/{} segments, {}",
                c.segments_done.load(Ordering::Relaxed),
                c.segments.load(Ordering::Relaxed),
                c.bytes_text()
            ));
        }
    }
}

/// A progress bar on standard error (a terminal): segments done/total, bytes, rate, ETA. Log
/// lines go through the bar so that they never interleave with it.
pub struct BarSink {
    verbosity: Verbosity,
    counters: Counters,
    bar: ProgressBar,
}

impl BarSink {
    pub fn new(verbosity: Verbosity) -> BarSink {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(10));
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} segments  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        BarSink {
            verbosity,
            counters: Counters::new(),
            bar,
        }
    }

    /// A line above the bar.
    pub fn println(&self, text: String) {
        self.bar.println(text);
    }

    /// Removes the bar (before the summary is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ProgressSink for BarSink {
    fn event(&self, event: &Event<'_>) {
        if let Some(text) = self.counters.take(event, self.verbosity) {
            self.bar.println(format!("dashget: {text}"));
        }
        let c = &self.counters;
        match event {
            Event::Planned { segments, .. } => self.bar.set_length(*segments as u64),
            Event::FileDone { .. } | Event::Failed { .. } => {
                self.bar
                    .set_position(c.segments_done.load(Ordering::Relaxed) as u64);
                if c.due(Duration::from_millis(200)) {
                    self.bar.set_message(c.bytes_text());
                }
            }
            Event::Received { .. } if c.due(Duration::from_millis(200)) => {
                self.bar.set_message(c.bytes_text())
            }
            _ => {}
        }
    }
}

/// Bytes with a binary unit: `1.5 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The end-of-run summary as text: counts and bytes on standard output (unless quiet), the
/// failures on standard error.
pub fn print_summary(summary: &Summary, output: &std::path::Path, verbosity: Verbosity) {
    if verbosity >= Verbosity::Normal {
        let mut text = format!(
            "{} segments in {} files under {}: {} downloaded, {} already complete",
            summary.segments,
            summary.files,
            output.display(),
            summary.downloaded_files,
            summary.complete_files,
        );
        if summary.verified_files > 0 {
            text.push_str(&format!(
                " ({} checked against the server)",
                summary.verified_files
            ));
        }
        text.push_str(&format!(", {} failed", summary.failed_files));
        if summary.pending_files > 0 {
            text.push_str(&format!(", {} not finished", summary.pending_files));
        }
        println!("dashget: {text}");
        println!(
            "dashget: {} received in {:.2} s ({}/s)",
            human_bytes(summary.bytes),
            summary.elapsed_seconds,
            human_bytes(summary.bytes_per_second as u64)
        );
        // With several servers (BaseURL failover), which served what.
        if summary.servers.len() > 1 {
            let servers: Vec<String> = summary
                .servers
                .iter()
                .map(|(server, files)| format!("{server} {files}"))
                .collect();
            println!("dashget: files by server: {}", servers.join(", "));
        }
        if summary.interrupted {
            println!(
                "dashget: interrupted; run the same command again to resume (partial files are kept)"
            );
        }
    }
    if !summary.failures.is_empty() {
        eprintln!("dashget: {} files failed:", summary.failures.len());
        for failure in &summary.failures {
            eprintln!("  {} ({}): {}", failure.url, failure.path, failure.reason);
        }
    }
}
