//! `dashget --check`: the checks of `mp4dump --check` on each file as it lands (a
//! [`ProgressSink`] in front of the progress display), findings on standard error as they come.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use dashget::check::{CheckEvents, CheckSummary, Finding, MirrorCheck};
use dashget::fetch::{Event, ProgressSink};

use crate::progress::BarSink;

/// Most bytes of a file's box structure (media payloads aside) the engine keeps for the check
/// (a file with more is read back).
pub const KEEP_BOXES: u64 = 16 << 20;

/// How a finding is printed as it is found (mirror and recording alike).
pub fn line(finding: &Finding) -> String {
    format!("dashget: check: {}", finding.text_line())
}

/// Prints each finding as it is found, through the progress bar when there is one.
struct Lines {
    bar: Option<Arc<BarSink>>,
}

impl CheckEvents for Lines {
    fn finding(&mut self, finding: &Finding) {
        let line = line(finding);
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
    fn progress(&mut self, _: u64, _: u64) {}
}

/// Checks the files of a mirror as the engine completes them, and passes every event on.
pub struct CheckingSink {
    inner: Arc<dyn ProgressSink>,
    root: PathBuf,
    bar: Option<Arc<BarSink>>,
    check: Mutex<Option<Arc<MirrorCheck>>>,
}

impl CheckingSink {
    pub fn new(
        inner: Arc<dyn ProgressSink>,
        root: &Path,
        bar: Option<Arc<BarSink>>,
    ) -> CheckingSink {
        CheckingSink {
            inner,
            root: root.to_path_buf(),
            bar,
            check: Mutex::new(None),
        }
    }

    /// The checks over whole representations, once every file is in; the summary.
    pub fn finish(&self) -> Option<CheckSummary> {
        let check = self
            .check
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()?;
        // Every event has been handled: this is the last reference.
        Arc::try_unwrap(check).ok().map(MirrorCheck::finish)
    }
}

impl ProgressSink for CheckingSink {
    fn event(&self, event: &Event<'_>) {
        // The lock only hands out the check: files are checked in parallel.
        let current = || self.check.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match event {
            Event::Manifest { plan, bytes, name } => {
                let check = MirrorCheck::new(
                    plan,
                    bytes,
                    name,
                    &self.root,
                    Box::new(Lines {
                        bar: self.bar.clone(),
                    }),
                );
                *self.check.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(check));
            }
            Event::FileDone { path, body, .. } => {
                if let Some(check) = current() {
                    check.file_done(path, *body);
                }
            }
            Event::Failed { path, reason, .. } => {
                if let Some(check) = current() {
                    check.file_failed(path, reason);
                }
            }
            _ => {}
        }
        self.inner.event(event);
    }
}

/// The check's summary lines.
pub fn print_summary(summary: &CheckSummary) {
    for line in summary.text_lines() {
        eprintln!("dashget: check: {line}");
    }
}
