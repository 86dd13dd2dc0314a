//! The origin's own availability arithmetic (written apart from the library's on purpose: it
//! is the oracle), and the time formats it writes.

use super::{EndSignal, LiveConfig, PeriodSpec, SEC, StreamEnd, Track};

/// `presentationTimeOffset` of a track in a Period, in ticks.
pub(super) fn pto(period: &PeriodSpec, track: &Track) -> u64 {
    (u128::from(period.media_offset) * u128::from(track.timescale) / u128::from(SEC)) as u64
}

/// The end of Period `p`, nanoseconds after AST, when known to the origin.
pub(super) fn period_end(config: &LiveConfig, p: usize) -> Option<u64> {
    config
        .periods
        .get(p + 1)
        .map(|next| next.start)
        .or(config.end.map(|e| e.at))
}

/// Ticks → nanoseconds, rounded up (availability is never earlier than exact).
pub(super) fn ticks_to_ns_ceil(ticks: u64, timescale: u64) -> u64 {
    (u128::from(ticks) * u128::from(SEC)).div_ceil(u128::from(timescale)) as u64
}

/// Whether segment `k` of track `t` in Period `p` is ever produced.
pub(super) fn exists(config: &LiveConfig, p: usize, t: &Track, k: u64) -> bool {
    let period = &config.periods[p];
    let start = period.start
        + (u128::from(k * t.segment_duration) * u128::from(SEC) / u128::from(t.timescale)) as u64;
    let end = period.start + ticks_to_ns_ceil((k + 1) * t.segment_duration, t.timescale);
    if period_end(config, p).is_some_and(|e| start >= e) {
        return false;
    }
    !config
        .encoder_gaps
        .iter()
        .any(|(g0, g1)| start < *g1 && end > *g0)
}

/// The instant segment `k` ends on the wall clock: AST + Period start + its end, clipped to its
/// Period's end.
pub(super) fn end_instant(config: &LiveConfig, p: usize, t: &Track, k: u64) -> i128 {
    let period = &config.periods[p];
    let mut end = ticks_to_ns_ceil((k + 1) * t.segment_duration, t.timescale);
    if let Some(pe) = period_end(config, p) {
        end = end.min(pe - period.start);
    }
    config.ast + i128::from(period.start) + i128::from(end)
}

/// When segment `k` becomes available: its end, less `availabilityTimeOffset`.
pub(super) fn available_from(config: &LiveConfig, p: usize, t: &Track, k: u64) -> i128 {
    end_instant(config, p, t, k) - i128::from(config.ato)
}

/// The last instant a segment ending at `end` is served: its end leaves the buffer then
/// (`availabilityTimeOffset` does not move it), and never after `availabilityEndTime`.
pub(super) fn available_until(config: &LiveConfig, end: i128) -> i128 {
    let mut until = end + i128::from(config.tsbd);
    if let Some(StreamEnd {
        at,
        signal: EndSignal::AvailabilityEndTime(after),
    }) = config.end
    {
        until = until.min(config.ast + i128::from(at) + i128::from(after));
    }
    until
}

/// The availability window (Unix ns, inclusive) of segment `k`, if it is ever produced.
pub(super) fn window(config: &LiveConfig, p: usize, t: &Track, k: u64) -> Option<(i128, i128)> {
    if !exists(config, p, t, k) {
        return None;
    }
    let from = available_from(config, p, t, k);
    Some((from, available_until(config, end_instant(config, p, t, k))))
}

/// The indices of track `t` in Period `p` inside the buffer at `now`: (first, last), encoder
/// gaps included.
pub(super) fn available_range(
    config: &LiveConfig,
    p: usize,
    t: &Track,
    now: i128,
) -> Option<(u64, u64)> {
    let period = &config.periods[p];
    let rel = now - config.ast - i128::from(period.start);
    if rel <= 0 {
        return None;
    }
    let seg_ns = i128::from(ticks_to_ns_ceil(t.segment_duration, t.timescale).max(1));
    // A guess from the nominal duration, then exact by each index's window.
    let mut last = (rel / seg_ns) as u64 + 1;
    if let Some(e) = period_end(config, p) {
        let len = u128::from(e - period.start) * u128::from(t.timescale);
        let count = len.div_ceil(u128::from(t.segment_duration) * u128::from(SEC)) as u64;
        last = last.min(count.checked_sub(1)?);
    }
    while last > 0 && available_from(config, p, t, last) > now {
        last -= 1;
    }
    if available_from(config, p, t, last) > now {
        return None;
    }
    let mut first = ((rel - i128::from(config.tsbd)) / seg_ns).max(1) as u64 - 1;
    first = first.min(last);
    while first > 0 && available_until(config, end_instant(config, p, t, first - 1)) >= now {
        first -= 1;
    }
    while first <= last && available_until(config, end_instant(config, p, t, first)) < now {
        first += 1;
    }
    (first <= last).then_some((first, last))
}

/// A 64-bit NTP timestamp (seconds since 1900, 32.32 fixed point).
pub fn ntp_timestamp(unix_ns: i128) -> [u8; 8] {
    let ns = unix_ns + 2_208_988_800 * i128::from(SEC);
    let secs = (ns / i128::from(SEC)) as u64;
    let frac = ((ns % i128::from(SEC)) << 32) / i128::from(SEC);
    ((secs << 32) | frac as u64).to_be_bytes()
}

/// `YYYY-MM-DDThh:mm:ss[.fff]Z` with `digits` fractional digits (0..=9), from Unix ns.
pub fn xs_datetime(unix_ns: i128, digits: usize) -> String {
    let secs = unix_ns.div_euclid(i128::from(SEC));
    let nanos = unix_ns.rem_euclid(i128::from(SEC)) as u64;
    let days = secs.div_euclid(86_400) as i64;
    let tod = secs.rem_euclid(86_400) as u64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    );
    if digits > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(&frac[..digits.min(9)]);
    }
    out.push('Z');
    out
}

/// `PTnS` with up to nine decimals.
pub fn xs_duration(ns: u64) -> String {
    let frac = ns % SEC;
    if frac == 0 {
        format!("PT{}S", ns / SEC)
    } else {
        format!(
            "PT{}.{}S",
            ns / SEC,
            format!("{frac:09}").trim_end_matches('0')
        )
    }
}
