//! A live DASH origin for the tests, on 127.0.0.1 and a free port: it loops the short real
//! presentation of `tests/fixtures/live/` into an endless live stream by its own clock, the way
//! a packager behind a CDN would serve it, and it is strict about it.
//!
//! - **Clock.** Its time is the system clock plus a skew the test sets ([`LiveOrigin::set_skew`]),
//!   or a frozen instant ([`LiveOrigin::freeze`]) for exact boundary checks. Every response's
//!   `Date` header, the `UTCTiming` endpoints and the `direct` value follow it.
//! - **Content.** Segment *k* (0-based) of a Period is source segment *k* mod *n*, with `mfhd`
//!   = *k* + 1 and `tfdt` (and `sidx`'s earliest presentation time) = PTO + *k* × duration.
//! - **Availability** (ISO/IEC 23009-1 §5.3.9.5, the DASH-IF end): a segment ending at *e*
//!   (Period-relative, clipped to the Period's end) is served from AST + Period start + *e* −
//!   `availabilityTimeOffset` through AST + Period start + *e* + `timeShiftBufferDepth`, both
//!   ends included, and never after `availabilityEndTime`; 404 outside. The init segment from
//!   AST + Period start.
//! - **Manifest.** A dynamic MPD rendered for "now" in the configured [`Addressing`], with the
//!   configured `UTCTiming` schemes; timelines list exactly the segments in the buffer (they grow
//!   and drop old entries by themselves); Periods appear when they start; encoder gaps show as
//!   `S@t` jumps; the end of the stream is signalled as configured ([`EndSignal`]).
//! - **Faults:** failing requests, late segments, stalls, stop/restart on the same port, a lagging
//!   (stale) manifest, a redirected manifest; a `Location` element; ETags and 304s.
//! - **Log:** every request with the server time it arrived, its status and, for a segment, the
//!   availability window the origin applied, so tests can assert nothing was asked too early.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request as HttpRequest, Response};
use hyper_util::rt::TokioIo;

pub mod client;
mod manifest;
mod media;
mod patch;
mod timing;

use manifest::render_mpd;
pub use media::Track;
#[allow(unused_imports)]
pub use timing::{ntp_timestamp, xs_datetime, xs_duration};
use timing::{pto, window};

/// Nanoseconds in a second.
pub const SEC: u64 = 1_000_000_000;

/// How segments are addressed in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `SegmentTemplate@duration` with `$Number$`.
    Number,
    /// `SegmentTimeline` with `$Time$`.
    TimelineTime,
    /// `SegmentTimeline` with `$Number$` (`startNumber` moves as entries expire).
    TimelineNumber,
    /// `SegmentTimeline` with `$Time$`, the last `S` open-ended (`r="-1"`).
    TimelineOpen,
    /// `SegmentList` of the segments in the buffer, placed by a `SegmentTimeline`.
    List,
}

/// A `UTCTiming` scheme the manifest offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtcScheme {
    /// `http-xsdate`: GET returns an xs:dateTime with milliseconds.
    HttpXsdate,
    /// `http-iso`: GET returns an ISO 8601 time with microseconds and a `+00:00` offset.
    HttpIso,
    /// `http-head`: the `Date` header of a HEAD.
    HttpHead,
    /// `http-ntp`: GET returns a 64-bit NTP timestamp (8 bytes, big-endian).
    HttpNtp,
    /// `direct`: the value is the server's time when the manifest was made.
    Direct,
}

/// A Period of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodSpec {
    /// `Period@id` (also a folder in the segment URLs).
    pub id: String,
    /// `Period@start`, in nanoseconds after AST. Period boundaries should fall on segment
    /// boundaries of every track; otherwise the last segment is clipped to the Period's end.
    pub start: u64,
    /// The media time at the Period's start, in nanoseconds: the track's
    /// `presentationTimeOffset` is this times its timescale, rounded down (exact for both
    /// fixtures' timescales when it is a multiple of 5 ms).
    pub media_offset: u64,
}

/// How the end of the stream is signalled once the server time passes [`StreamEnd::at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndSignal {
    /// The manifest turns `type="static"` with `mediaPresentationDuration`.
    Static,
    /// Still dynamic, with `mediaPresentationDuration` and no `minimumUpdatePeriod`.
    MediaPresentationDuration,
    /// Still dynamic, the last Period gains `@duration`, no `minimumUpdatePeriod`.
    PeriodDuration,
    /// `availabilityEndTime` = AST + end + this many nanoseconds, announced from the start;
    /// nothing is served after it.
    AvailabilityEndTime(u64),
    /// The manifest answers this status (404 or 410).
    ManifestGone(u16),
    /// Nothing in the manifest: the segments simply stop (only an `lmsg` brand, when
    /// configured, tells).
    Silent,
}

/// The end of the stream: no segment starts at or after `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEnd {
    /// Nanoseconds after AST.
    pub at: u64,
    /// How it shows.
    pub signal: EndSignal,
}

/// What the origin serves.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConfig {
    /// Addressing mode.
    pub addressing: Addressing,
    /// `availabilityStartTime`, nanoseconds since the Unix epoch: a whole millisecond, since the
    /// manifest writes it with milliseconds.
    pub ast: i128,
    /// `timeShiftBufferDepth`, nanoseconds.
    pub tsbd: u64,
    /// `minimumUpdatePeriod`, nanoseconds (None: absent).
    pub mup: Option<u64>,
    /// `startNumber`.
    pub start_number: u64,
    /// `UTCTiming` elements, in document order.
    pub utc_timing: Vec<UtcScheme>,
    /// The Periods, in order of start.
    pub periods: Vec<PeriodSpec>,
    /// The end of the stream, if it ends.
    pub end: Option<StreamEnd>,
    /// Encoder outages, `[from, to)` in nanoseconds after AST: segments overlapping them are
    /// never produced (a timeline shows an `S@t` jump; a template's numbers 404).
    pub encoder_gaps: Vec<(u64, u64)>,
    /// The manifest is rendered for this many nanoseconds ago (a stale CDN cache).
    pub manifest_lag: u64,
    /// `@availabilityTimeOffset` of every segment, nanoseconds (0: absent).
    pub ato: u64,
    /// A `Location` element: this path on the origin (which serves the manifest at any
    /// `live/NAME.mpd`).
    pub location: Option<String>,
    /// An access token (ISO/IEC 23009-1 Annex I, as CDNs use it): the manifest carries a
    /// `UrlQueryInfo useMPDUrlQuery="true"`, and a segment asked for without `token=VALUE` in
    /// its query is answered 403.
    pub token: Option<String>,
    /// Segments that start in `[from, to)` (nanoseconds after AST) carry an MPD validity
    /// `emsg` (`urn:mpeg:dash:event:2012`, value 1) after their `styp`.
    pub validity_emsg: Option<(u64, u64)>,
    /// The last segment of each track before the stream's end carries the `lmsg` brand.
    pub lmsg: bool,
    /// Periods are listed this many nanoseconds before they start (0: once started).
    pub announce_ahead: u64,
    /// Other folders that serve the same stream as `live/` (a second CDN path a `Location`
    /// may move the manifest to): `ALIAS/NAME.mpd`, `ALIAS/PERIOD/TRACK/...`.
    pub aliases: Vec<String>,
    /// A clock jump in the encoder: from the segment of this presentation time (ns after AST)
    /// on, the video's `tfdt` runs this many ticks ahead of what the manifest says.
    pub tfdt_jump: Option<(u64, u64)>,
    /// MPD Patch: the manifest gets `MPD@id` and a `PatchLocation` with this `@ttl` (seconds),
    /// and `live/patch.mpp?publishTime=T` serves the patch from the version published at `T`
    /// to the current one (timeline addressing; 425 when nothing is newer, 410 past the ttl).
    pub patch_ttl: Option<u64>,
    /// Every `S` of a timeline is written out with its `@t` (no `@r`): the long manifests of
    /// packagers that do not compress their timelines.
    pub expanded_timeline: bool,
    /// Chunks per segment (1: none): each segment is this many source segments, each a CMAF
    /// chunk (fixed when the origin starts).
    pub chunks: u64,
    /// Low latency (chunked CMAF, the DASH-IF low-latency profile): the manifest says
    /// `availabilityTimeComplete="false"` beside [`LiveConfig::ato`] and has a
    /// `ServiceDescription`; a segment asked for before its end is sent over chunked transfer,
    /// each chunk when it exists (one chunk duration after the previous).
    pub low_latency: bool,
}

impl LiveConfig {
    /// One Period from AST, a 30 s buffer, `minimumUpdatePeriod` 1 s, `startNumber` 1,
    /// `http-xsdate` timing.
    pub fn new(addressing: Addressing, ast: i128) -> LiveConfig {
        LiveConfig {
            addressing,
            ast,
            tsbd: 30 * SEC,
            mup: Some(SEC),
            start_number: 1,
            utc_timing: vec![UtcScheme::HttpXsdate],
            periods: vec![PeriodSpec {
                id: "p0".into(),
                start: 0,
                media_offset: 0,
            }],
            end: None,
            encoder_gaps: Vec::new(),
            manifest_lag: 0,
            ato: 0,
            location: None,
            token: None,
            validity_emsg: None,
            lmsg: false,
            announce_ahead: 0,
            aliases: Vec::new(),
            tfdt_jump: None,
            patch_ttl: None,
            expanded_timeline: false,
            chunks: 1,
            low_latency: false,
        }
    }
}

/// A chunk of a segment sent as it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkSent {
    /// `Representation@id`.
    pub track: String,
    /// The segment's index in its Period.
    pub index: u64,
    /// The chunk's index in the segment.
    pub chunk: u64,
    /// When it came to exist (server clock, Unix ns).
    pub available_at: i128,
    /// When it was handed to the connection.
    pub sent_at: i128,
}

/// A segment the origin was asked for, with the window it applied.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRef {
    /// `Period@id`.
    pub period: String,
    /// `Representation@id`.
    pub track: String,
    /// Index in the Period (0-based; `$Number$` = startNumber + index).
    pub index: u64,
    /// First instant it is served (server clock, Unix ns), publishing delay included.
    pub available_from: i128,
    /// Last instant it is served.
    pub available_until: i128,
}

/// One request as the origin saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// Server time at arrival (Unix ns, skew included).
    pub at: i128,
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// The segment, when the path names one that exists.
    pub segment: Option<SegmentRef>,
}

struct Failure {
    pattern: String,
    status: u16,
    remaining: usize,
}

struct State {
    config: LiveConfig,
    tracks: Arc<Vec<Track>>,
    base: String,
    skew: i128,
    frozen: Option<i128>,
    failures: Vec<Failure>,
    late: HashMap<(String, String, u64), u64>,
    stalled: bool,
    redirects: HashMap<String, String>,
    log: Vec<LoggedRequest>,
    /// The next this many patches name a wrong `originalPublishTime`.
    wrong_patches: usize,
    /// The next this many segments sent as they are written are cut in the middle of a chunk.
    cuts: usize,
    /// Every chunk sent as it was written.
    chunk_log: Vec<ChunkSent>,
}

impl State {
    fn now(&self) -> i128 {
        self.frozen.unwrap_or_else(|| unix_now() + self.skew)
    }
}

/// The running origin. It stops with the test process.
pub struct LiveOrigin {
    /// Its address.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    runtime: tokio::runtime::Handle,
    accept: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// The system clock, Unix nanoseconds.
pub fn unix_now() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

impl LiveOrigin {
    /// Starts serving `config` with the fixtures' tracks.
    pub fn start(config: LiveConfig) -> LiveOrigin {
        let runtime = crate::server_runtime();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let chunks = config.chunks;
        let state = Arc::new(Mutex::new(State {
            config,
            tracks: Arc::new(
                Track::fixtures()
                    .iter()
                    .map(|t| t.chunked(chunks))
                    .collect(),
            ),
            base: format!("http://{addr}"),
            skew: 0,
            frozen: None,
            failures: Vec::new(),
            late: HashMap::new(),
            stalled: false,
            redirects: HashMap::new(),
            log: Vec::new(),
            wrong_patches: 0,
            cuts: 0,
            chunk_log: Vec::new(),
        }));
        let origin = LiveOrigin {
            addr,
            state,
            runtime,
            accept: Mutex::new(None),
        };
        origin.listen(listener);
        origin
    }

    fn listen(&self, listener: std::net::TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let state = self.state.clone();
        let _guard = self.runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let task = self.runtime.spawn(accept_loop(listener, state));
        *self.accept.lock().unwrap() = Some(task);
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The manifest's URL.
    pub fn manifest_url(&self) -> String {
        self.url("live/manifest.mpd")
    }

    /// The server's clock now (Unix ns).
    pub fn now(&self) -> i128 {
        self.state.lock().unwrap().now()
    }

    /// Server clock = system clock + `skew` nanoseconds.
    pub fn set_skew(&self, skew: i128) {
        self.state.lock().unwrap().skew = skew;
    }

    /// Stops the server clock at `at` (Unix ns), or lets it run again (None).
    pub fn freeze(&self, at: Option<i128>) {
        self.state.lock().unwrap().frozen = at;
    }

    /// Changes what is served from now on (a new Period, an end, a gap, a stale manifest).
    pub fn update(&self, change: impl FnOnce(&mut LiveConfig)) {
        change(&mut self.state.lock().unwrap().config);
    }

    /// The configuration served now.
    pub fn config(&self) -> LiveConfig {
        self.state.lock().unwrap().config.clone()
    }

    /// The looped tracks.
    pub fn tracks(&self) -> Arc<Vec<Track>> {
        self.state.lock().unwrap().tracks.clone()
    }

    /// The next `times` requests whose path contains `pattern` get `status`.
    pub fn fail(&self, pattern: &str, status: u16, times: usize) {
        self.state.lock().unwrap().failures.push(Failure {
            pattern: pattern.into(),
            status,
            remaining: times,
        });
    }

    /// Segment `index` of `track` in `period` is published `delay` nanoseconds late (404 until).
    pub fn publish_late(&self, period: &str, track: &str, index: u64, delay: u64) {
        self.state
            .lock()
            .unwrap()
            .late
            .insert((period.into(), track.into(), index), delay);
    }

    /// Requests for `from` (a path, `/live/manifest.mpd`) are redirected (302) to `to`.
    pub fn redirect(&self, from: &str, to: &str) {
        self.state
            .lock()
            .unwrap()
            .redirects
            .insert(from.into(), to.into());
    }

    /// The next `times` patches claim to apply to another version of the manifest (a wrong
    /// `originalPublishTime`, as a confused cache would serve).
    pub fn misdate_patches(&self, times: usize) {
        self.state.lock().unwrap().wrong_patches = times;
    }

    /// The next `times` segments sent as they are written lose their connection in the middle
    /// of a chunk.
    pub fn cut_mid_chunk(&self, times: usize) {
        self.state.lock().unwrap().cuts = times;
    }

    /// Every chunk sent as it was written, in order.
    pub fn chunks_sent(&self) -> Vec<ChunkSent> {
        self.state.lock().unwrap().chunk_log.clone()
    }

    /// While on, every request waits without an answer.
    pub fn stall(&self, on: bool) {
        self.state.lock().unwrap().stalled = on;
    }

    /// Closes the port and every connection (connections are refused until [`Self::restart`]).
    pub fn stop(&self) {
        if let Some(task) = self.accept.lock().unwrap().take() {
            task.abort();
        }
        // Wait until the port really refuses connections.
        for _ in 0..200 {
            if std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(50)).is_err()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Listens again on the same port.
    pub fn restart(&self) {
        let mut last = None;
        for _ in 0..200 {
            match std::net::TcpListener::bind(self.addr) {
                Ok(listener) => return self.listen(listener),
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("cannot listen on {} again: {last:?}", self.addr);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.lock().unwrap().log.clone()
    }

    /// Segment requests that arrived before the segment was available.
    pub fn early_requests(&self) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.segment.as_ref().is_some_and(|s| r.at < s.available_from))
            .collect()
    }

    /// The path (no leading `/`) of segment `index` of `track` in `period`, as the manifest
    /// addresses it.
    pub fn segment_path(&self, period: &str, track: &str, index: u64) -> String {
        let s = self.state.lock().unwrap();
        let p = s
            .config
            .periods
            .iter()
            .find(|p| p.id == period)
            .expect("period");
        let t = s.tracks.iter().find(|t| t.id == track).expect("track");
        let pto = pto(p, t);
        match s.config.addressing {
            Addressing::TimelineTime | Addressing::TimelineOpen => {
                format!(
                    "live/{period}/{track}/t{}.m4s",
                    pto + index * t.segment_duration
                )
            }
            _ => format!(
                "live/{period}/{track}/n{}.m4s",
                s.config.start_number + index
            ),
        }
    }

    /// The availability window of a segment, when it exists: (from, until), Unix ns.
    pub fn availability(&self, period: &str, track: &str, index: u64) -> Option<(i128, i128)> {
        let s = self.state.lock().unwrap();
        let (p, t) = find(&s, period, track)?;
        window(&s.config, p, t, index).map(|(from, until)| {
            let late = s
                .late
                .get(&(period.into(), track.into(), index))
                .copied()
                .unwrap_or(0);
            (from + late as i128, until)
        })
    }

    /// The bytes the origin serves for a segment.
    pub fn expected_segment(&self, period: &str, track: &str, index: u64) -> Vec<u8> {
        let s = self.state.lock().unwrap();
        let (p, t) = find(&s, period, track).expect("period and track");
        served(&s.config, p, t, index)
    }

    /// The manifest as it would be served at server time `at`.
    pub fn manifest_at(&self, at: i128) -> String {
        let s = self.state.lock().unwrap();
        render_mpd(&s.config, &s.tracks, &s.base, at)
    }
}

fn find<'a>(s: &'a State, period: &str, track: &str) -> Option<(usize, &'a Track)> {
    let p = s.config.periods.iter().position(|p| p.id == period)?;
    let t = s.tracks.iter().find(|t| t.id == track)?;
    Some((p, t))
}
async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<Mutex<State>>) {
    // Dropping this task (stop) drops the set, which aborts every connection.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// A body sent as it is written: each chunk with the instant it exists (server clock).
struct Trickle {
    track: String,
    index: u64,
    chunks: Vec<(i128, Vec<u8>)>,
    /// Cut the connection in the middle of this chunk.
    cut_at: Option<usize>,
}

struct Answer {
    status: u16,
    body: Vec<u8>,
    trickle: Option<Trickle>,
    content_type: &'static str,
    etag: Option<String>,
    location: Option<String>,
    segment: Option<SegmentRef>,
}

impl Answer {
    fn status(status: u16) -> Answer {
        Answer {
            status,
            body: format!("status {status}\n").into_bytes(),
            trickle: None,
            content_type: "text/plain",
            etag: None,
            location: None,
            segment: None,
        }
    }
    fn ok(body: Vec<u8>, content_type: &'static str) -> Answer {
        Answer {
            status: 200,
            body,
            trickle: None,
            content_type,
            etag: None,
            location: None,
            segment: None,
        }
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

async fn handle(state: Arc<Mutex<State>>, req: HttpRequest<Incoming>) -> Response<Body> {
    let arrived = state.lock().unwrap().now();
    while state.lock().unwrap().stalled {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let if_none_match = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (answer, now) = {
        let mut s = state.lock().unwrap();
        let now = s.now();
        let refused = s.config.token.as_ref().is_some_and(|token| {
            !is_manifest_path(&path)
                && !path.starts_with("/time/")
                && !query.split('&').any(|p| p == format!("token={token}"))
        });
        let mut answer = if refused {
            Answer::status(403)
        } else {
            answer(&mut s, req.method(), &path, &query, now)
        };
        if answer.status == 200 && answer.etag.is_some() && answer.etag == if_none_match {
            answer.status = 304;
            answer.body.clear();
        }
        s.log.push(LoggedRequest {
            at: arrived,
            method: req.method().to_string(),
            path: path.clone(),
            status: answer.status,
            segment: answer.segment.clone(),
        });
        (answer, now)
    };
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_nanos(now.max(0) as u64));
    let mut response = Response::builder()
        .status(answer.status)
        .header("date", date)
        .header("content-type", answer.content_type)
        .header("cache-control", "no-cache");
    if let Some(etag) = &answer.etag {
        response = response.header("etag", etag);
    }
    if let Some(location) = &answer.location {
        response = response.header("location", location);
    }
    match answer.trickle {
        Some(trickle) => response.body(trickled(state, trickle)).unwrap(),
        None => response
            .body(
                Full::new(Bytes::from(answer.body))
                    .map_err(|never| match never {})
                    .boxed(),
            )
            .unwrap(),
    }
}

/// A body that sends each chunk when it exists (chunked transfer), logging when it went.
fn trickled(state: Arc<Mutex<State>>, trickle: Trickle) -> Body {
    use futures_util::StreamExt as _;
    let Trickle {
        track,
        index,
        chunks,
        cut_at,
    } = trickle;
    let stream =
        futures_util::stream::iter(chunks.into_iter().enumerate()).then(move |(j, (at, bytes))| {
            let state = state.clone();
            let track = track.clone();
            async move {
                loop {
                    let now = state.lock().unwrap().now();
                    if now >= at {
                        break;
                    }
                    let wait = ((at - now) as u64).min(50_000_000);
                    tokio::time::sleep(Duration::from_nanos(wait)).await;
                }
                let mut s = state.lock().unwrap();
                let sent_at = s.now();
                s.chunk_log.push(ChunkSent {
                    track,
                    index,
                    chunk: j as u64,
                    available_at: at,
                    sent_at,
                });
                drop(s);
                if cut_at == Some(j) {
                    // Half the chunk, then the connection goes.
                    let half = bytes.len() / 2;
                    return vec![
                        Ok(hyper::body::Frame::data(Bytes::from(
                            bytes[..half].to_vec(),
                        ))),
                        Err(std::io::Error::other("cut in the middle of a chunk")),
                    ];
                }
                vec![Ok(hyper::body::Frame::data(Bytes::from(bytes)))]
            }
        });
    let frames = stream
        .flat_map(futures_util::stream::iter)
        .scan(false, |failed, item| {
            // Nothing after an error.
            if *failed {
                return std::future::ready(None);
            }
            *failed = item.is_err();
            std::future::ready(Some(item))
        });
    BodyExt::boxed(http_body_util::StreamBody::new(frames))
}

fn answer(s: &mut State, method: &Method, path: &str, query: &str, now: i128) -> Answer {
    let aliased = s.config.aliases.iter().find_map(|alias| {
        path.strip_prefix(&format!("/{}/", alias.trim_matches('/')))
            .map(|rest| format!("/live/{rest}"))
    });
    let path = aliased.as_deref().unwrap_or(path);
    if let Some(f) = s
        .failures
        .iter_mut()
        .find(|f| f.remaining > 0 && path.contains(f.pattern.as_str()))
    {
        f.remaining -= 1;
        return Answer::status(f.status);
    }
    if *method != Method::GET && *method != Method::HEAD {
        return Answer::status(405);
    }
    match path {
        "/time/xsdate" => return Answer::ok(xs_datetime(now, 3).into_bytes(), "text/plain"),
        "/time/iso" => {
            let text = xs_datetime(now, 6).replace('Z', "+00:00");
            return Answer::ok(text.into_bytes(), "text/plain");
        }
        "/time/head" => return Answer::ok(Vec::new(), "text/plain"),
        "/time/ntp" => return Answer::ok(ntp_timestamp(now).to_vec(), "application/octet-stream"),
        _ if s.redirects.contains_key(path) => {
            let mut answer = Answer::status(302);
            answer.location = s.redirects.get(path).map(|to| format!("{}{to}", s.base));
            return answer;
        }
        "/live/patch.mpp" if s.config.patch_ttl.is_some() => {
            return patch::answer(s, query, now);
        }
        _ if is_manifest_path(path) => {
            if let Some(StreamEnd {
                at,
                signal: EndSignal::ManifestGone(code),
            }) = s.config.end
                && now >= s.config.ast + i128::from(at)
            {
                return Answer::status(code);
            }
            let at = now - i128::from(s.config.manifest_lag);
            let body = manifest::current(&s.config, &s.tracks, &s.base, at).into_bytes();
            let etag = format!("\"{:x}\"", fnv(&body));
            let mut answer = Answer::ok(body, "application/dash+xml");
            answer.etag = Some(etag);
            return answer;
        }
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/live/") else {
        return Answer::status(404);
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let [period, track, name] = parts[..] else {
        return Answer::status(404);
    };
    let Some((p, t)) = find(s, period, track) else {
        return Answer::status(404);
    };
    let period_spec = &s.config.periods[p];
    if name == "init.m4s" {
        let from = s.config.ast + i128::from(period_spec.start);
        return if now >= from {
            Answer::ok(t.init.clone(), "video/mp4")
        } else {
            Answer::status(404)
        };
    }
    let pto = pto(period_spec, t);
    let index = name.strip_suffix(".m4s").and_then(|stem| {
        let (kind, value) = stem.split_at(1.min(stem.len()));
        let value: u64 = value.parse().ok()?;
        let time_addressed = matches!(
            s.config.addressing,
            Addressing::TimelineTime | Addressing::TimelineOpen
        );
        match (kind, time_addressed) {
            ("t", true) => {
                let rel = value.checked_sub(pto)?;
                (rel % t.segment_duration == 0).then_some(rel / t.segment_duration)
            }
            ("n", false) => value.checked_sub(s.config.start_number),
            _ => None,
        }
    });
    let Some(index) = index else {
        return Answer::status(404);
    };
    let Some((from, until)) = window(&s.config, p, t, index) else {
        return Answer::status(404);
    };
    let late = s
        .late
        .get(&(period.to_string(), track.to_string(), index))
        .copied()
        .unwrap_or(0);
    let from = from + i128::from(late);
    let segment = Some(SegmentRef {
        period: period.to_string(),
        track: track.to_string(),
        index,
        available_from: from,
        available_until: until,
    });
    let mut answer = if now >= from && now <= until {
        let bytes = served(&s.config, p, t, index);
        let end = timing::end_instant(&s.config, p, t, index);
        let mut answer = Answer::ok(Vec::new(), "video/mp4");
        if s.config.low_latency && t.chunks > 1 && now < end {
            // Chunk j exists one chunk duration after chunk j - 1; the last at the end.
            let parts = t.segment_chunks(index, pto);
            let chunk_ns = i128::from(timing::ticks_to_ns_ceil(t.chunk_duration, t.timescale));
            let n = parts.len();
            // What `served` put before the first chunk (inband signals) goes with it.
            let tail: usize = parts[1..].iter().map(Vec::len).sum();
            let mut chunks = Vec::with_capacity(n);
            let mut at = 0;
            for (j, part) in parts.iter().enumerate() {
                let len = if j == 0 {
                    bytes.len() - tail
                } else {
                    part.len()
                };
                let ready = end - chunk_ns * (n - 1 - j) as i128;
                chunks.push((ready, bytes[at..at + len].to_vec()));
                at += len;
            }
            let cut_at = (s.cuts > 0).then(|| {
                s.cuts -= 1;
                n / 2
            });
            answer.trickle = Some(Trickle {
                track: track.to_string(),
                index,
                chunks,
                cut_at,
            });
        } else {
            answer.body = bytes;
        }
        answer
    } else {
        Answer::status(404)
    };
    answer.segment = segment;
    answer
}

/// Segment `index` of Period `p` as served: the looped media, with the inband signals the
/// configuration asks for (an `emsg` after `styp`, the `lmsg` brand in `styp`: boxes before
/// `sidx` and `moof`, so no offset in the segment moves).
fn served(config: &LiveConfig, p: usize, t: &Track, index: u64) -> Vec<u8> {
    let period = &config.periods[p];
    let start = period.start
        + (u128::from(index) * u128::from(t.segment_duration) * u128::from(SEC)
            / u128::from(t.timescale)) as u64;
    let jump = match config.tfdt_jump {
        Some((from, ticks)) if t.id == "v" && start >= from => ticks,
        _ => 0,
    };
    let bytes = t.segment(index, pto(period, t) + jump);
    let end =
        start + (u128::from(t.segment_duration) * u128::from(SEC) / u128::from(t.timescale)) as u64;
    let styp_size = u32::from_be_bytes(bytes[0..4].try_into().unwrap()) as usize;
    assert_eq!(&bytes[4..8], b"styp");
    let mut styp = bytes[..styp_size].to_vec();
    let last = config.lmsg
        && (config.end.is_some_and(|e| end >= e.at)
            || timing::period_end(config, p).is_some_and(|e| end >= e));
    if last {
        styp.extend_from_slice(b"lmsg");
        let size = styp.len() as u32;
        styp[0..4].copy_from_slice(&size.to_be_bytes());
    }
    let mut out = styp;
    if config
        .validity_emsg
        .is_some_and(|(from, to)| start >= from && start < to)
    {
        let mut body = vec![0u8; 4]; // version 0, flags 0
        body.extend_from_slice(b"urn:mpeg:dash:event:2012\0");
        body.extend_from_slice(b"1\0");
        body.extend_from_slice(&t.timescale.to_be_bytes()[4..]); // timescale (32 bits)
        body.extend_from_slice(&0u32.to_be_bytes()); // presentation_time_delta
        body.extend_from_slice(&0u32.to_be_bytes()); // event_duration
        body.extend_from_slice(&(index as u32).to_be_bytes()); // id
        out.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
        out.extend_from_slice(b"emsg");
        out.extend_from_slice(&body);
    }
    out.extend_from_slice(&bytes[styp_size..]);
    out
}

/// `/live/NAME.mpd`.
fn is_manifest_path(path: &str) -> bool {
    path.strip_prefix("/live/")
        .is_some_and(|name| name.ends_with(".mpd") && !name.contains('/'))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}
