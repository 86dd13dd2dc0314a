//! Headless Chromium for the tests that look at pages in a real browser (recordings played in
//! dash.js, the HTML report): finding it, and running it once on a URL with a time limit.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Chromium's flags for a headless, reproducible, local-only run.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
    "--enable-logging=stderr",
];

/// The Chromium on the PATH, if any.
pub fn find_chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(PathBuf::from)
}

/// What one run of Chromium gave.
pub struct ChromiumRun {
    /// How it ended (`None`: killed at the time limit).
    pub status: Option<ExitStatus>,
    /// Its standard output (the DOM, with `--dump-dom`).
    pub stdout: String,
    /// Its log (standard error, with `--enable-logging=stderr`).
    pub log: String,
}

impl ChromiumRun {
    /// The page's console messages and Chromium's own errors (D-Bus noise of a machine without
    /// a session bus left out), at most `max` lines.
    pub fn console(&self, max: usize) -> Vec<&str> {
        self.log
            .lines()
            .filter(|l| l.contains("CONSOLE") || (l.contains(":ERROR:") && !l.contains("dbus")))
            .take(max)
            .collect()
    }
}

/// Runs a fresh headless Chromium (its own profile) on `url` with `args` besides
/// [`CHROMIUM_FLAGS`]; kills it after `limit`.
pub fn run_chromium(
    chromium: &Path,
    args: &[String],
    url: &str,
    limit: Duration,
) -> Result<ChromiumRun, String> {
    let work = tempfile_dir();
    let profile = work.join("profile");
    let out_path = work.join("stdout");
    let log_path = work.join("chromium.log");
    let result = (|| {
        let mut child = Command::new(chromium)
            .args(CHROMIUM_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(File::create(&out_path).map_err(|e| e.to_string())?)
            .stderr(File::create(&log_path).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        Ok(ChromiumRun {
            status,
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            log: std::fs::read_to_string(&log_path).unwrap_or_default(),
        })
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A fresh folder for one run's profile and output.
fn tempfile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dashget-chromium-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}
