//! Progress and summary of a live recording: an indicatif line per representation on a
//! terminal, plain lines otherwise (at most one status line per representation every few
//! seconds), and the summary as text or JSON.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dashget::live::recorder::{LiveEvent, LiveSink, RecordSummary, RecordingStatus, TrackStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::progress::Verbosity;

/// How often a plain status line is printed.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// Prints a recording's events on standard error.
pub struct LiveLines {
    verbosity: Verbosity,
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
    last_status: Mutex<Option<Instant>>,
}

impl LiveLines {
    /// Bars on a terminal (`bars`), plain lines otherwise.
    pub fn new(verbosity: Verbosity, bars: bool) -> LiveLines {
        LiveLines {
            verbosity,
            bars: bars.then(|| {
                (
                    MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                    Mutex::new(HashMap::new()),
                )
            }),
            last_status: Mutex::new(None),
        }
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// Removes the bars.
    pub fn finish(&self) {
        if let Some((_, bars)) = &self.bars {
            for bar in bars.lock().unwrap_or_else(|p| p.into_inner()).values() {
                bar.finish_and_clear();
            }
        }
    }
}

impl LiveSink for LiveLines {
    fn event(&self, event: &LiveEvent<'_>) {
        if let LiveEvent::Finding(finding) = event {
            // Findings go out even with --quiet, as errors do.
            self.line(&crate::check::line(finding));
            return;
        }
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        match event {
            LiveEvent::Finding(_) => {}
            LiveEvent::Warning(text) => self.line(&format!("dashget: warning: {text}")),
            LiveEvent::Clock(text) => self.line(&format!("dashget: clock: {text}")),
            LiveEvent::Info(text) => self.line(&format!("dashget: {text}")),
            LiveEvent::Segment { path, size } => {
                if self.verbosity == Verbosity::Verbose {
                    self.line(&format!("dashget: recorded {path} ({size} bytes)"));
                }
            }
            LiveEvent::Gap(gap) => self.line(&format!(
                "dashget: gap: {} at {} ({:.3} s): {}",
                gap.representation, gap.start_time, gap.duration_seconds, gap.reason
            )),
            LiveEvent::Status(status) => {
                let lines: Vec<(String, String)> = status
                    .tracks
                    .iter()
                    .map(|t| (t.representation.clone(), track_line(t, status)))
                    .collect();
                match &self.bars {
                    Some((multi, bars)) => {
                        let mut bars = bars.lock().unwrap_or_else(|p| p.into_inner());
                        for (track, text) in &lines {
                            let bar = bars.entry(track.clone()).or_insert_with(|| {
                                let bar = multi.add(ProgressBar::new_spinner());
                                if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                                    bar.set_style(style);
                                }
                                bar
                            });
                            bar.set_message(text.clone());
                            bar.tick();
                        }
                    }
                    None => {
                        let mut last = self.last_status.lock().unwrap_or_else(|p| p.into_inner());
                        if last.is_some_and(|l| l.elapsed() < STATUS_EVERY) {
                            return;
                        }
                        *last = Some(Instant::now());
                        for (_, text) in &lines {
                            eprintln!("dashget: {text}");
                        }
                    }
                }
            }
        }
    }
}

/// `v: recorded to 22:01:07.2 UTC, 0.4 s behind the edge, 120 segments, 0 gaps; stops at
/// 22:02:00 UTC (in 53 s)`.
fn track_line(track: &TrackStatus, status: &RecordingStatus) -> String {
    let mut text = format!("{}: ", track.representation);
    match track.recorded_to {
        Some(to) => {
            text.push_str(&format!(
                "recorded to {}, {:.1} s behind the edge",
                clock_time(to),
                (track.edge - to).max(0) as f64 / 1e9
            ));
        }
        None => text.push_str(&format!(
            "waiting; the edge is at {}",
            clock_time(track.edge)
        )),
    }
    text.push_str(&format!(
        ", {} segments, {} gaps",
        track.segments, track.gaps
    ));
    if let Some(target) = status.target {
        text.push_str(&format!(
            "; stops at {} (in {:.0} s)",
            clock_time(target),
            ((target - status.now).max(0) as f64 / 1e9).ceil()
        ));
    }
    text
}

/// `hh:mm:ss.s UTC` of an instant (Unix ns).
fn clock_time(instant: i128) -> String {
    let text = dashget::live::time::format_datetime(instant - instant.rem_euclid(100_000_000));
    let time = text
        .split('T')
        .nth(1)
        .unwrap_or(&text)
        .trim_end_matches('Z');
    format!("{time} UTC")
}

/// The summary of a recording, on standard error.
pub fn print_summary(summary: &RecordSummary, output: &Path, verbosity: Verbosity) {
    if verbosity == Verbosity::Quiet && summary.gaps.is_empty() {
        return;
    }
    if verbosity > Verbosity::Quiet {
        eprintln!(
            "dashget: recorded {} segments ({} bytes) in {:.1}s, {} already complete; stopped: {}",
            summary.downloaded_segments,
            summary.bytes,
            summary.elapsed_seconds,
            summary.complete_segments,
            summary.stopped.describe()
        );
        for rep in &summary.representations {
            eprintln!(
                "dashget:   {}: {} segments, {} to {} ({:.1} s)",
                rep.stream,
                rep.segments,
                rep.start_time,
                rep.end_time,
                rep.end_seconds - rep.start_seconds
            );
        }
        eprintln!("dashget: clock {}", summary.clock);
        if let Some(lag) = &summary.lag {
            let how = if lag.low_latency {
                format!(
                    "low latency, asked {:.3} s before their end",
                    lag.availability_time_offset_seconds
                )
            } else {
                "asked once complete".to_string()
            };
            eprintln!(
                "dashget: lag behind the live edge (segment end to file in place): median {:.3} s, 95% {:.3} s, max {:.3} s over {} segments ({how})",
                lag.median_seconds, lag.p95_seconds, lag.max_seconds, lag.segments
            );
        }
        let traffic = &summary.manifest_traffic;
        let fallbacks = match traffic.patch_fallbacks {
            0 => String::new(),
            n => format!(", {n} patches replaced by the full manifest"),
        };
        eprintln!(
            "dashget: manifest: {} full, {} patches applied{fallbacks}; {} bytes received",
            traffic.full, traffic.patches, traffic.bytes
        );
        eprintln!(
            "dashget: the recording: {} ({} manifest snapshots kept)",
            output.join(&summary.manifest).display(),
            summary.manifest_snapshots
        );
    }
    if !summary.gaps.is_empty() {
        eprintln!("dashget: {} segments missing:", summary.gaps.len());
        for gap in &summary.gaps {
            eprintln!(
                "dashget:   {} at {} ({:.3} s): {}",
                gap.representation, gap.start_time, gap.duration_seconds, gap.reason
            );
        }
    }
}
