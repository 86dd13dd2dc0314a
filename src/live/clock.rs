//! Synchronising with the server's clock (ISO/IEC 23009-1 §5.8.4.11, DASH-IF timing model):
//! the manifest's `UTCTiming` schemes in document order, else the `Date` header of the
//! manifest's own response, flagged as a fallback. The local clock is never trusted alone.
//!
//! Each reading gives an offset (server − local) and its uncertainty: half the round trip
//! (the server read its clock somewhere between send and receive) plus half the resolution of
//! what it wrote (a `Date` header is whole seconds: ±0.5 s). The network call is the caller's:
//! [`synchronise`] asks a [`TimeFetcher`] for each request, so the engine's one HTTP path does
//! the transport, and tests can script it.

use std::future::Future;

use super::time::{SECOND, UnixNanos, parse_datetime};
use crate::mpd::live::UtcTiming;

/// A `UTCTiming` scheme this module can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingScheme {
    /// `urn:mpeg:dash:utc:http-xsdate:2014`: GET `@value`, the body is an `xs:dateTime`.
    HttpXsdate,
    /// `urn:mpeg:dash:utc:http-iso:2014`: GET `@value`, the body is an ISO 8601 time.
    HttpIso,
    /// `urn:mpeg:dash:utc:http-head:2014`: HEAD `@value`, its `Date` header.
    HttpHead,
    /// `urn:mpeg:dash:utc:http-ntp:2014`: GET `@value`, the body is a 64-bit NTP timestamp
    /// (8 bytes, big-endian, or the same as decimal seconds since 1900).
    HttpNtp,
    /// `urn:mpeg:dash:utc:direct:2014`: `@value` itself is an `xs:dateTime`, as fresh as the
    /// manifest that carries it.
    Direct,
}

impl TimingScheme {
    /// The scheme of a `@schemeIdUri` (the 2014 names, and the 2012 ones of early drafts).
    pub fn from_uri(uri: &str) -> Option<TimingScheme> {
        let name = uri
            .strip_prefix("urn:mpeg:dash:utc:")?
            .strip_suffix(":2014")
            .or_else(|| {
                uri.strip_prefix("urn:mpeg:dash:utc:")?
                    .strip_suffix(":2012")
            })?;
        Some(match name {
            "http-xsdate" => TimingScheme::HttpXsdate,
            "http-iso" => TimingScheme::HttpIso,
            "http-head" => TimingScheme::HttpHead,
            "http-ntp" => TimingScheme::HttpNtp,
            "direct" => TimingScheme::Direct,
            _ => return None,
        })
    }

    /// The scheme's short name (`http-xsdate`), for messages and summaries.
    pub fn name(self) -> &'static str {
        match self {
            TimingScheme::HttpXsdate => "http-xsdate",
            TimingScheme::HttpIso => "http-iso",
            TimingScheme::HttpHead => "http-head",
            TimingScheme::HttpNtp => "http-ntp",
            TimingScheme::Direct => "direct",
        }
    }
}

/// A request the synchronisation needs made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeRequest {
    /// GET this URL; the body is wanted.
    Get(String),
    /// HEAD this URL; the `Date` header is wanted.
    Head(String),
}

/// A response, with the local clock read just before sending and just after the end of the
/// response (Unix nanoseconds, the local system clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The local clock when the request was sent.
    pub sent: UnixNanos,
    /// The local clock when the response was complete.
    pub received: UnixNanos,
    /// The body (empty for HEAD).
    pub body: Vec<u8>,
    /// The `Date` header, if any.
    pub date: Option<String>,
}

/// The transport: performs one request for the synchronisation. A successful status is the
/// fetcher's to check; any failure is a message (the next scheme is then tried).
pub trait TimeFetcher {
    /// Performs `request`.
    fn fetch(
        &mut self,
        request: &TimeRequest,
    ) -> impl Future<Output = Result<Exchange, String>> + Send;
}

/// The local clock for a recorder: the system clock read once, then advanced by the monotonic
/// clock, so that a step of the system clock (NTP, a user) after synchronisation does not move
/// the instants a [`ClockSync`] is applied to. Re-synchronising takes a new one.
#[derive(Debug, Clone, Copy)]
pub struct LocalClock {
    wall: UnixNanos,
    at: std::time::Instant,
}

impl LocalClock {
    /// Anchors to the system clock now.
    pub fn new() -> LocalClock {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        LocalClock {
            wall,
            at: std::time::Instant::now(),
        }
    }

    /// Local Unix nanoseconds now.
    pub fn now(&self) -> UnixNanos {
        self.at_instant(std::time::Instant::now())
    }

    /// Local Unix nanoseconds at a monotonic instant (one before the anchor reads as the anchor).
    pub fn at_instant(&self, instant: std::time::Instant) -> UnixNanos {
        self.wall + instant.saturating_duration_since(self.at).as_nanos() as i128
    }

    /// The monotonic instant at which local time reads `local` (the anchor, for an earlier one):
    /// what to sleep until.
    pub fn instant_at(&self, local: UnixNanos) -> std::time::Instant {
        let ahead = u64::try_from(local.saturating_sub(self.wall).max(0)).unwrap_or(u64::MAX);
        self.at + std::time::Duration::from_nanos(ahead)
    }
}

impl Default for LocalClock {
    fn default() -> Self {
        LocalClock::new()
    }
}

/// A clock reading: the server's time lies in `[instant, instant + resolution)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The time the server wrote.
    pub instant: UnixNanos,
    /// The step of its last digit, in nanoseconds.
    pub resolution: u64,
}

/// Where the time came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockSource {
    /// A `UTCTiming` element.
    Scheme {
        /// Its scheme.
        scheme: TimingScheme,
        /// Its `@value`.
        value: String,
    },
    /// The `Date` header of the manifest's response (no usable `UTCTiming`).
    ManifestDate,
}

/// The result of a synchronisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockSync {
    /// Where the time came from.
    pub source: ClockSource,
    /// Server time − local time, nanoseconds.
    pub offset: i128,
    /// How far the true offset may be from `offset`, either way, nanoseconds.
    pub uncertainty: u64,
    /// What went wrong before this source was found (one line each), and the fallback warning.
    pub warnings: Vec<String>,
}

/// Why no clock could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// A response that does not hold a time.
    #[error("{scheme}: {message}")]
    BadResponse {
        /// The scheme's name.
        scheme: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No `UTCTiming` worked and the manifest's response had no usable `Date`.
    #[error("no clock to synchronise with: {0}")]
    NoTimeSource(String),
}

impl ClockSync {
    /// Whether the time came from the manifest's `Date` header rather than `UTCTiming`.
    pub fn is_fallback(&self) -> bool {
        self.source == ClockSource::ManifestDate
    }

    /// The server's time at local time `local`.
    pub fn server_time(&self, local: UnixNanos) -> UnixNanos {
        local + self.offset
    }

    /// The local time from which the server's clock has surely reached `instant`: what to wait
    /// for before requesting a segment available from `instant`.
    pub fn local_time_when_surely(&self, instant: UnixNanos) -> UnixNanos {
        instant - self.offset + i128::from(self.uncertainty)
    }

    /// A one-line description: `offset +30.002s ±0.501s (http-head)`.
    pub fn describe(&self) -> String {
        let source = match &self.source {
            ClockSource::Scheme { scheme, .. } => scheme.name(),
            ClockSource::ManifestDate => "manifest Date header",
        };
        format!(
            "offset {}s ±{}s ({source})",
            signed_seconds(self.offset),
            signed_seconds(i128::from(self.uncertainty)).trim_start_matches('+')
        )
    }
}

/// `+1.5` / `-0.25` seconds, to the millisecond.
fn signed_seconds(nanos: i128) -> String {
    let sign = if nanos < 0 { '-' } else { '+' };
    let ms = nanos.unsigned_abs().div_ceil(1_000_000);
    format!("{sign}{}.{:03}", ms / 1000, ms % 1000)
}

/// Reads the time out of a response of `scheme` (for `direct`, `body` is the `@value`).
pub fn read_time(
    scheme: TimingScheme,
    body: &[u8],
    date: Option<&str>,
) -> Result<Reading, ClockError> {
    let bad = |message: String| ClockError::BadResponse {
        scheme: scheme.name(),
        message,
    };
    match scheme {
        TimingScheme::HttpHead => {
            let value = date.ok_or_else(|| bad("the response has no Date header".into()))?;
            http_date(value)
                .ok_or_else(|| bad(format!("Date header \"{value}\" is not an HTTP date")))
        }
        TimingScheme::HttpNtp => ntp(body).ok_or_else(|| {
            bad(format!(
                "the body ({} bytes) is not a 64-bit NTP timestamp",
                body.len()
            ))
        }),
        TimingScheme::HttpXsdate | TimingScheme::HttpIso | TimingScheme::Direct => {
            if body.len() > 256 {
                return Err(bad(format!("a {}-byte body is not a time", body.len())));
            }
            let text = std::str::from_utf8(body).map_err(|_| bad("the body is not text".into()))?;
            let text = text.trim().trim_matches('"');
            let parsed = parse_datetime(text).map_err(|e| bad(e.to_string()))?;
            Ok(Reading {
                instant: parsed.instant,
                resolution: parsed.resolution,
            })
        }
    }
}

/// An HTTP `Date` (RFC 9110 IMF-fixdate and the obsolete forms): whole seconds.
pub fn http_date(value: &str) -> Option<Reading> {
    let time = httpdate::parse_http_date(value.trim()).ok()?;
    let instant = match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    Some(Reading {
        instant,
        resolution: 1_000_000_000,
    })
}

/// Seconds between the NTP epoch (1900) and the Unix epoch.
const NTP_UNIX_DELTA: i128 = 2_208_988_800;

/// A 64-bit NTP timestamp: 8 bytes (32.32 fixed point, big-endian), or decimal seconds.
fn ntp(body: &[u8]) -> Option<Reading> {
    if body.len() == 8 {
        let raw = u64::from_be_bytes(body.try_into().ok()?);
        let seconds = i128::from(raw >> 32);
        let fraction = i128::from(raw & 0xffff_ffff);
        return Some(Reading {
            instant: (seconds - NTP_UNIX_DELTA) * SECOND + ((fraction * SECOND) >> 32),
            resolution: 1,
        });
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 12
    {
        return None;
    }
    let seconds: i128 = whole.parse().ok()?;
    let mut nanos: i128 = 0;
    for i in 0..9 {
        nanos = nanos * 10
            + fraction
                .as_bytes()
                .get(i)
                .map_or(0, |b| i128::from(b - b'0'));
    }
    Some(Reading {
        instant: (seconds - NTP_UNIX_DELTA) * SECOND + nanos,
        resolution: 10u64.pow(9 - fraction.len().min(9) as u32),
    })
}

/// Offset and uncertainty of one reading taken between local instants `sent` and `received`:
/// the server's clock was read at some instant of that interval, and the reading stands for
/// any time in `[instant, instant + resolution)`. Centring both gives the offset; half of each
/// width is the uncertainty.
pub fn measure(reading: Reading, sent: UnixNanos, received: UnixNanos) -> Option<(i128, u64)> {
    if received < sent {
        return None;
    }
    let round_trip = received - sent;
    let resolution = i128::from(reading.resolution);
    // 2 × offset = (2 × instant + resolution) − (sent + received), halved exactly below.
    let twice = 2 * reading.instant + resolution - (sent + received);
    let offset = twice.div_euclid(2);
    let uncertainty = (round_trip + resolution + 1) / 2 + (twice.rem_euclid(2));
    Some((offset, u64::try_from(uncertainty).ok()?))
}

/// The manifest's own fetch: for `direct` (its value is as fresh as this response) and the
/// `Date` fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestExchange {
    /// The local clock when the manifest request was sent.
    pub sent: UnixNanos,
    /// The local clock when its response was complete.
    pub received: UnixNanos,
    /// Its `Date` header.
    pub date: Option<String>,
    /// Its `Age` header, seconds.
    pub age: Option<u64>,
}

/// How long a time source may take to answer before the next one is tried.
pub const TIME_SOURCE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// How much older than its response a `direct` value may be (the `Date` header's resolution
/// and the time to make and send the manifest) before it is taken as stale.
const DIRECT_STALE_AFTER_NS: i128 = 3_000_000_000;

/// A `direct` value older than the manifest's response (its `Date` plus its `Age`) by more than
/// the resolution allows is the time a cached copy was made, not now: refused.
fn fresh_direct(reading: Reading, manifest: &ManifestExchange) -> Result<Reading, ClockError> {
    let Some(served) = manifest.date.as_deref().and_then(http_date) else {
        return Ok(reading);
    };
    let age = i128::from(manifest.age.unwrap_or(0)) * 1_000_000_000;
    let behind = served.instant + age - reading.instant;
    if behind > DIRECT_STALE_AFTER_NS {
        return Err(ClockError::BadResponse {
            scheme: TimingScheme::Direct.name(),
            message: format!(
                "the value is {:.1} s older than the manifest's response (Date{}): a cached manifest; skipped",
                behind as f64 / 1e9,
                if age > 0 { " + Age" } else { "" }
            ),
        });
    }
    Ok(reading)
}

/// Synchronises: each `UTCTiming` in document order until one gives a time, else the `Date` of
/// the manifest's response (with a warning). Unsupported schemes and failures are skipped, each
/// with a warning naming it.
pub async fn synchronise<F: TimeFetcher>(
    timings: &[UtcTiming],
    manifest: &ManifestExchange,
    fetcher: &mut F,
) -> Result<ClockSync, ClockError> {
    let mut warnings = Vec::new();
    if timings.is_empty() {
        warnings.push("the manifest has no UTCTiming".to_string());
    }
    for timing in timings {
        let Some(scheme) = TimingScheme::from_uri(&timing.scheme_id_uri) else {
            warnings.push(format!(
                "UTCTiming scheme \"{}\" is not supported; skipped",
                timing.scheme_id_uri
            ));
            continue;
        };
        let attempt = match scheme {
            TimingScheme::Direct => read_time(scheme, timing.value.as_bytes(), None)
                .and_then(|r| fresh_direct(r, manifest))
                .map(|r| (r, manifest.sent, manifest.received)),
            _ => {
                let request = match scheme {
                    TimingScheme::HttpHead => TimeRequest::Head(timing.value.clone()),
                    _ => TimeRequest::Get(timing.value.clone()),
                };
                match tokio::time::timeout(TIME_SOURCE_TIMEOUT, fetcher.fetch(&request)).await {
                    Ok(Ok(exchange)) => read_time(scheme, &exchange.body, exchange.date.as_deref())
                        .map(|r| (r, exchange.sent, exchange.received)),
                    Ok(Err(message)) => Err(ClockError::BadResponse {
                        scheme: scheme.name(),
                        message: format!("{}: {message}", timing.value),
                    }),
                    Err(_) => Err(ClockError::BadResponse {
                        scheme: scheme.name(),
                        message: format!(
                            "{}: no answer within {} s",
                            timing.value,
                            TIME_SOURCE_TIMEOUT.as_secs()
                        ),
                    }),
                }
            }
        };
        match attempt.and_then(|(reading, sent, received)| {
            measure(reading, sent, received).ok_or(ClockError::BadResponse {
                scheme: scheme.name(),
                message: "the response was received before it was sent (local clock stepped)"
                    .into(),
            })
        }) {
            Ok((offset, uncertainty)) => {
                return Ok(ClockSync {
                    source: ClockSource::Scheme {
                        scheme,
                        value: timing.value.clone(),
                    },
                    offset,
                    uncertainty,
                    warnings,
                });
            }
            Err(e) => warnings.push(format!("UTCTiming {e}")),
        }
    }
    let fallback = manifest
        .date
        .as_deref()
        .and_then(http_date)
        .and_then(|r| measure(r, manifest.sent, manifest.received));
    match fallback {
        Some((offset, uncertainty)) => {
            warnings.push(
                "no usable UTCTiming: the clock comes from the manifest response's Date header (±0.5 s)"
                    .to_string(),
            );
            Ok(ClockSync {
                source: ClockSource::ManifestDate,
                offset,
                uncertainty,
                warnings,
            })
        }
        None => {
            warnings.push("the manifest's response has no usable Date header".to_string());
            Err(ClockError::NoTimeSource(warnings.join("; ")))
        }
    }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
