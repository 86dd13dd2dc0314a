//! The test servers of dashget's integration tests, in one crate compiled once for all of them:
//! [`TestServer`] (below), the TLS server ([`tls`]) and the live origin ([`live_origin`]).
//!
//! A real HTTP/1.1 server for the download tests, on 127.0.0.1 and a free port, serving a
//! fixture folder (plus files put in memory), counting requests per path, with fault modes per
//! file: drop the connection mid-body, stall, answer an error status, ignore `Range`, lie about
//! `Content-Length`, refuse `HEAD`, send slowly.
//!
//! Hand-written on tokio sockets rather than hyper so that every byte on the wire is under the
//! test's control (a hyper server would refuse to send a body shorter than its Content-Length).

pub mod browser;
pub mod live_origin;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A way to misbehave.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Headers with the full Content-Length, half the body, then the connection is closed.
    DropMidBody,
    /// Headers and half the body, then silence for this long (then close).
    StallBody(Duration),
    /// Nothing at all for this long (then close).
    StallHeaders(Duration),
    /// This status, with a short body.
    Status(u16),
    /// 429 with this `Retry-After` value.
    TooManyRequests(String),
    /// 503 with this `Retry-After` value.
    Unavailable(String),
    /// Answer every GET with 200 and the whole file, whatever `Range` says.
    IgnoreRange,
    /// Announce this many bytes more than the file has, send the file, close.
    LongContentLength(u64),
    /// Announce this many bytes fewer than the file has, send the file, close.
    ShortContentLength(u64),
    /// HEAD answers 405.
    RefuseHead,
    /// HEAD answers 200 without Content-Length.
    HeadWithoutLength,
    /// Send the body at about this many bytes per second.
    Slow(u64),
    /// Close the connection without answering.
    Drop,
    /// Answer 206 with this `Content-Range` value (however absurd) and the whole file.
    ContentRange(String),
    /// Answer 302 with this `Location`.
    Redirect(String),
}

/// When a fault applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// The first GET of each file.
    FirstGet,
    /// Every request.
    Always,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
}

#[derive(Default)]
struct State {
    root: PathBuf,
    memory: HashMap<String, Vec<u8>>,
    any: Option<Vec<u8>>,
    faults: HashMap<String, (Fault, When)>,
    /// Faults of the first GETs of a path, in turn (then it is served normally).
    in_turn: HashMap<String, Vec<Fault>>,
    default_fault: Option<(Fault, When)>,
    ignore_range: bool,
    /// Paths exempt from the default fault (the manifest).
    exempt_suffix: Vec<String>,
    gets: HashMap<String, usize>,
    log: Vec<Request>,
    /// Body bytes written to the socket, per path.
    sent: HashMap<String, u64>,
    /// Stopped: connections still open are closed at their next request.
    dead: bool,
}

/// The running server. It stops with the test process (or [`TestServer::stop`]).
#[derive(Clone)]
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accepting: Arc<Mutex<Option<tokio::task::AbortHandle>>>,
}

/// A runtime of its own for a test server (two workers, on a thread that lives as long as the
/// test binary), so that a server answers whatever the test's own threads do.
pub fn server_runtime() -> tokio::runtime::Handle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        tx.send(runtime.handle().clone()).unwrap();
        runtime.block_on(std::future::pending::<()>());
    });
    rx.recv().unwrap()
}

impl TestServer {
    /// Serves `root` (a folder) on 127.0.0.1.
    pub fn start(root: impl AsRef<Path>) -> TestServer {
        let state = Arc::new(Mutex::new(State {
            root: root.as_ref().to_path_buf(),
            exempt_suffix: vec![".mpd".into()],
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = TestServer {
            addr,
            state,
            accepting: Arc::new(Mutex::new(None)),
        };
        server.accept(listener);
        server
    }

    fn accept(&self, listener: std::net::TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let shared = self.state.clone();
        let task = server_runtime().spawn(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve_connection(socket, state).await;
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task.abort_handle());
    }

    /// Stops serving: the port refuses connections, and open ones are closed at their next
    /// request.
    pub fn stop(&self) {
        self.state.lock().unwrap().dead = true;
        if let Some(task) = self.accepting.lock().unwrap().take() {
            task.abort();
        }
        // The listener is dropped with its task: wait until the port refuses.
        while std::net::TcpStream::connect(self.addr).is_ok() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Serves again on the same port, after [`TestServer::stop`].
    pub fn restart(&self) {
        let listener = std::net::TcpListener::bind(self.addr).unwrap();
        self.state.lock().unwrap().dead = false;
        self.accept(listener);
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Serves `bytes` at `path` (as sent on the wire, without the query).
    pub fn put(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        self.state
            .lock()
            .unwrap()
            .memory
            .insert(path.to_string(), bytes.into());
    }

    /// Serves `bytes` at every path that has no file.
    pub fn serve_any(&self, bytes: impl Into<Vec<u8>>) {
        self.state.lock().unwrap().any = Some(bytes.into());
    }

    /// A fault for one path.
    pub fn fault(&self, path: &str, fault: Fault, when: When) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert(path.to_string(), (fault, when));
    }

    /// The first GETs of `path` meet these faults, one each, in order; later GETs are served.
    pub fn faults_in_turn(&self, path: &str, faults: Vec<Fault>) {
        self.state
            .lock()
            .unwrap()
            .in_turn
            .insert(path.to_string(), faults);
    }

    /// GETs of a path (as sent on the wire, without the query) so far.
    pub fn gets_of(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|r| r.method == "GET" && r.path == path)
            .count()
    }

    /// Body bytes of `path` written to clients so far (all requests together).
    pub fn bytes_sent(&self, path: &str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .sent
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// A fault for every path without its own (manifests, `*.mpd`, exempt).
    pub fn fault_all(&self, fault: Fault, when: When) {
        self.state.lock().unwrap().default_fault = Some((fault, when));
    }

    /// Whether every GET ignores `Range` (200 with the whole file).
    pub fn ignore_range(&self, on: bool) {
        self.state.lock().unwrap().ignore_range = on;
    }

    /// No faults any more.
    pub fn clear_faults(&self) {
        let mut state = self.state.lock().unwrap();
        state.faults.clear();
        state.default_fault = None;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    /// Requests (any method) whose path does not end with `.mpd`.
    pub fn segment_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| !r.path.ends_with(".mpd"))
            .collect()
    }

    /// Forgets the request log and counts (faults "on first GET" apply again).
    pub fn reset(&self) {
        let mut state = self.state.lock().unwrap();
        state.log.clear();
        state.gets.clear();
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

async fn serve_connection(mut socket: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let _ = socket.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = find_head_end(&buf) {
                break end;
            }
            let mut chunk = [0u8; 4096];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > 64 * 1024 {
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        buf.drain(..head_end);
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let target = first.next().unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let path = target.split('?').next().unwrap_or("/").to_string();
        let request = Request {
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
        };
        let keep_alive = !headers
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if state.lock().unwrap().dead {
            return Ok(());
        }
        let done = respond(&mut socket, &state, request).await?;
        if !done || !keep_alive {
            socket.shutdown().await.ok();
            return Ok(());
        }
    }
}

/// Stable validators for a body.
fn etag_of(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf29ce484222325;
    for &b in bytes {
        hash = (hash ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("\"{:x}-{:x}\"", bytes.len(), hash)
}

const LAST_MODIFIED: &str = "Tue, 03 Nov 2026 10:00:00 GMT";

fn lookup(state: &State, path: &str) -> Option<Vec<u8>> {
    if let Some(bytes) = state.memory.get(path) {
        return Some(bytes.clone());
    }
    let decoded = percent_decode(path);
    let relative = decoded.trim_start_matches('/');
    let safe = !relative.is_empty()
        && relative
            .split('/')
            .all(|c| !c.is_empty() && c != ".." && c != ".");
    if safe && let Ok(bytes) = std::fs::read(state.root.join(relative)) {
        return Some(bytes);
    }
    state.any.clone()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// `Range: bytes=a-b | a- | -n` against a length: Some((first, last)) or Err(()) when not
/// satisfiable; None when absent or not understood.
fn count_sent(state: &Arc<Mutex<State>>, path: &str, bytes: usize) {
    *state
        .lock()
        .unwrap()
        .sent
        .entry(path.to_string())
        .or_insert(0) += bytes as u64;
}

fn parse_range(value: Option<&String>, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value?.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let first: u64 = a.parse().ok()?;
        let last: u64 = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse().ok()?
        };
        if first >= len || last < first {
            return Some(Err(()));
        }
        (first, last.min(len - 1))
    };
    Some(Ok(range))
}

/// Answers one request. Returns false when the connection must be closed.
async fn respond(
    socket: &mut TcpStream,
    state: &Arc<Mutex<State>>,
    request: Request,
) -> std::io::Result<bool> {
    let (body, fault, ignore_range) = {
        let mut s = state.lock().unwrap();
        s.log.push(request.clone());
        let is_get = request.method == "GET";
        let nth_get = if is_get {
            let n = s.gets.entry(request.path.clone()).or_insert(0);
            *n += 1;
            *n
        } else {
            0
        };
        let rule = s.faults.get(&request.path).cloned().or_else(|| {
            let exempt = s
                .exempt_suffix
                .iter()
                .any(|suffix| request.path.ends_with(suffix.as_str()));
            if exempt {
                None
            } else {
                s.default_fault.clone()
            }
        });
        let in_turn = s
            .in_turn
            .get(&request.path)
            .and_then(|faults| faults.get(nth_get.wrapping_sub(1)))
            .cloned();
        let fault = match rule {
            _ if is_get && in_turn.is_some() => in_turn,
            Some((fault, When::Always)) => Some(fault),
            Some((fault, When::FirstGet)) if nth_get == 1 => Some(fault),
            _ => None,
        };
        (lookup(&s, &request.path), fault, s.ignore_range)
    };
    let is_head = request.method == "HEAD";
    if request.method != "GET" && !is_head {
        socket
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Ok(true);
    }
    match &fault {
        Some(Fault::Status(code)) => {
            let text = format!("error {code}\n");
            let head = format!(
                "HTTP/1.1 {code} Fault\r\ncontent-length: {}\r\n\r\n",
                text.len()
            );
            socket.write_all(head.as_bytes()).await?;
            if !is_head {
                socket.write_all(text.as_bytes()).await?;
            }
            return Ok(true);
        }
        Some(Fault::TooManyRequests(after)) | Some(Fault::Unavailable(after)) => {
            let code = if matches!(fault, Some(Fault::TooManyRequests(_))) {
                "429 Too Many Requests"
            } else {
                "503 Service Unavailable"
            };
            let head =
                format!("HTTP/1.1 {code}\r\nretry-after: {after}\r\ncontent-length: 0\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            return Ok(true);
        }
        Some(Fault::Drop) => return Ok(false),
        Some(Fault::Redirect(location)) => {
            let head =
                format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            return Ok(true);
        }
        Some(Fault::StallHeaders(d)) => {
            tokio::time::sleep(*d).await;
            return Ok(false);
        }
        Some(Fault::RefuseHead) if is_head => {
            socket
                .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                .await?;
            return Ok(true);
        }
        Some(Fault::HeadWithoutLength) if is_head => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            return Ok(true);
        }
        _ => {}
    }
    let Some(body) = body else {
        socket
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 10\r\n\r\nnot found\n")
            .await?;
        return Ok(true);
    };
    let len = body.len() as u64;
    let etag = etag_of(&body);
    // A conditional GET of an unchanged file.
    let unchanged = request.headers.get("if-none-match") == Some(&etag)
        || (!request.headers.contains_key("if-none-match")
            && request.headers.get("if-modified-since").map(String::as_str) == Some(LAST_MODIFIED));
    if unchanged && !is_head {
        let head = format!(
            "HTTP/1.1 304 Not Modified\r\netag: {etag}\r\nlast-modified: {LAST_MODIFIED}\r\ndate: {}\r\n\r\n",
            httpdate::fmt_http_date(SystemTime::now())
        );
        socket.write_all(head.as_bytes()).await?;
        return Ok(true);
    }
    let mut range = parse_range(request.headers.get("range"), len);
    if let Some(validator) = request.headers.get("if-range")
        && validator != &etag
        && validator != LAST_MODIFIED
    {
        range = None;
    }
    if ignore_range || fault == Some(Fault::IgnoreRange) {
        range = None;
    }
    if let Some(Fault::ContentRange(value)) = &fault
        && !is_head
    {
        let head = format!(
            "HTTP/1.1 206 Partial Content\r\ncontent-length: {len}\r\ncontent-range: {value}\r\netag: {etag}\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await?;
        socket.write_all(&body).await?;
        return Ok(true);
    }
    let (status, first, last) = match range {
        Some(Err(())) => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\ncontent-range: bytes */{len}\r\ncontent-length: 0\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await?;
            return Ok(true);
        }
        Some(Ok((first, last))) => ("206 Partial Content", first, last),
        None => ("200 OK", 0, len.saturating_sub(1)),
    };
    let slice: &[u8] = if len == 0 {
        &[]
    } else {
        &body[first as usize..=last as usize]
    };
    let mut announced = slice.len() as u64;
    match &fault {
        Some(Fault::LongContentLength(extra)) => announced += extra,
        Some(Fault::ShortContentLength(less)) => announced = announced.saturating_sub(*less),
        _ => {}
    }
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {announced}\r\netag: {etag}\r\nlast-modified: {LAST_MODIFIED}\r\naccept-ranges: bytes\r\ncontent-type: application/octet-stream\r\ndate: {}\r\n",
        httpdate::fmt_http_date(SystemTime::now())
    );
    if status.starts_with("206") {
        head.push_str(&format!("content-range: bytes {first}-{last}/{len}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    if is_head {
        return Ok(true);
    }
    match fault {
        Some(Fault::DropMidBody) => {
            socket.write_all(&slice[..slice.len() / 2]).await?;
            socket.flush().await?;
            Ok(false)
        }
        Some(Fault::StallBody(d)) => {
            socket.write_all(&slice[..slice.len() / 2]).await?;
            socket.flush().await?;
            tokio::time::sleep(d).await;
            Ok(false)
        }
        Some(Fault::LongContentLength(_)) | Some(Fault::ShortContentLength(_)) => {
            socket.write_all(slice).await?;
            socket.flush().await?;
            Ok(false)
        }
        Some(Fault::Slow(rate)) => {
            let step = (rate / 20).max(1) as usize;
            for chunk in slice.chunks(step) {
                socket.write_all(chunk).await?;
                socket.flush().await?;
                count_sent(state, &request.path, chunk.len());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(true)
        }
        _ => {
            for chunk in slice.chunks(64 * 1024) {
                socket.write_all(chunk).await?;
                count_sent(state, &request.path, chunk.len());
            }
            Ok(true)
        }
    }
}

/// The crate's fixture folder.
pub fn fixtures() -> PathBuf {
    // This crate is a folder of the project's: the fixtures are the project's.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("fixtures")
}

/// The media segments of a recording or mirror in `dir` (`.m4s` files under their final names,
/// init segments and `.dashget/` aside): `/`-separated relative paths and sizes, sorted.
pub fn media_files(dir: &Path) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if name != ".dashget" {
                    stack.push(path);
                }
            } else if name.ends_with(".m4s") && !name.starts_with("init") {
                let Ok(relative) = path.strip_prefix(dir) else {
                    continue;
                };
                let size = entry.metadata().map_or(0, |m| m.len());
                found.push((relative.to_string_lossy().replace('\\', "/"), size));
            }
        }
    }
    found.sort();
    found
}

/// Every regular file under `dir`, as `/`-separated relative paths, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap();
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().to_string())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Asserts that `out` holds exactly the files of `origin`, byte for byte, besides the journal.
pub fn assert_same_tree(origin: &Path, out: &Path) {
    let expected = tree(origin);
    let got: Vec<String> = tree(out)
        .into_iter()
        .filter(|p| !p.starts_with(".dashget/"))
        .collect();
    assert_eq!(
        got,
        expected,
        "files of {} differ from {}",
        out.display(),
        origin.display()
    );
    for rel in &expected {
        let a = std::fs::read(origin.join(rel)).unwrap();
        let b = std::fs::read(out.join(rel)).unwrap();
        assert!(
            a == b,
            "{rel}: {} bytes downloaded, {} at the origin, or different bytes",
            b.len(),
            a.len()
        );
    }
}

/// Seconds since the epoch (for unique names).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
