//! A plain HTTP/1.1 client for the origin's own tests (every byte visible), and the set-ups
//! the live tests share.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use std::time::Instant;

use super::{Addressing, LiveConfig, LiveOrigin, SEC, unix_now};

/// A second, as the instants are computed in.
pub const S: i128 = SEC as i128;

/// A whole second, `secs` seconds before now.
pub fn whole_seconds_ago(secs: i128) -> i128 {
    (unix_now() / S - secs) * S
}

/// A response.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, as received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// One HTTP/1.1 request on a fresh connection (the origin always sends Content-Length).
pub fn request(
    origin: &LiveOrigin,
    method: &str,
    path: &str,
    extra: &str,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(origin.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let path = path.trim_start_matches('/');
    write!(
        stream,
        "{method} /{path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n{extra}\r\n",
        origin.addr
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[end..].to_vec(),
    })
}

pub fn get(origin: &LiveOrigin, path: &str) -> Reply {
    request(origin, "GET", path, "").unwrap()
}

/// An origin in `mode` whose AST was `age` seconds ago, with a buffer of `tsbd` seconds.
pub fn origin_with_buffer(mode: Addressing, age: i128, tsbd: u64) -> (LiveOrigin, i128) {
    let ast = whole_seconds_ago(age);
    let mut config = LiveConfig::new(mode, ast);
    config.tsbd = tsbd * SEC;
    (LiveOrigin::start(config), ast)
}

/// Every addressing mode.
pub const MODES: [Addressing; 5] = [
    Addressing::Number,
    Addressing::TimelineTime,
    Addressing::TimelineNumber,
    Addressing::TimelineOpen,
    Addressing::List,
];

/// Records `origin` with the `dashget` binary into `dir` for `duration` seconds (`--duration`),
/// stopping the origin `outage.0` after the start for `outage.1`: `dashget`'s exit code and
/// stderr. A recorder still running a minute after its end is killed, and the origin's log is
/// added to the stderr returned.
pub fn record_live(
    dashget: &Path,
    origin: &LiveOrigin,
    dir: &Path,
    duration: u64,
    outage: Option<(Duration, Duration)>,
) -> (Option<i32>, String) {
    let mut child = Command::new(dashget)
        .env("DASHGET_BACKOFF_MS", "10")
        .env("DASHGET_LIVE_GRACE_MS", "1500")
        .arg(origin.manifest_url())
        .arg("-o")
        .arg(dir)
        .args(["--duration", &duration.to_string(), "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some((after, length)) = outage {
        std::thread::sleep(after);
        origin.stop();
        std::thread::sleep(length);
        origin.restart();
    }
    let deadline = Instant::now() + Duration::from_secs(duration + 60);
    let mut killed = false;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let mut stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if killed {
        // What the origin was asked for (the manifest's polls aside), for the report.
        let requests = origin.requests();
        let first = requests.first().map(|r| r.at).unwrap_or(0);
        stderr.push_str(&format!(
            "(killed: no end {} s after its start) the origin's log, seconds after the first request:\n",
            duration + 60
        ));
        for r in requests
            .iter()
            .filter(|r| !r.path.ends_with(".mpd") || r.status != 200)
        {
            let secs = |at: i128| (at - first) as f64 / 1e9;
            let window = r
                .segment
                .as_ref()
                .map(|s| {
                    format!(
                        " (served from {:.3} to {:.3})",
                        secs(s.available_from),
                        secs(s.available_until)
                    )
                })
                .unwrap_or_default();
            stderr.push_str(&format!(
                "  {:.3} {} {} {}{window}\n",
                secs(r.at),
                r.method,
                r.path,
                r.status
            ));
        }
    }
    (out.status.code(), stderr)
}
