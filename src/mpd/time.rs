//! Wall-clock instants as exact integers: nanoseconds since the Unix epoch (UTC), read from and
//! written as `xs:dateTime` (ISO 8601).

/// An instant: nanoseconds since 1970-01-01T00:00:00Z. Wide enough for any date a manifest can
/// write, and exact, so that availability never lands a nanosecond off.
pub type UnixNanos = i128;

/// Nanoseconds in a second, as the type instants are computed in.
pub const SECOND: i128 = 1_000_000_000;

/// An `xs:dateTime` as read: the instant, how precise the text was, and whether it named its
/// time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// The instant (UTC).
    pub instant: UnixNanos,
    /// The step of the last digit written, in nanoseconds: 1 s without a fraction, 1 ms with
    /// three decimals. The true time lies in `[instant, instant + resolution)`.
    pub resolution: u64,
    /// Whether the text carried `Z` or an offset. ISO/IEC 23009-1 wants UTC; a time without a
    /// zone is read as UTC, and callers warn about it.
    pub has_zone: bool,
}

/// Why a date-time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date-time \"{0}\" (expected ISO 8601 like 2026-11-28T22:00:00.5Z)")]
pub struct DateTimeError(pub String);

/// Parses `YYYY-MM-DDThh:mm:ss[.fff…][Z|±hh:mm]` (the extended ISO 8601 form that `xs:dateTime`,
/// `http-xsdate` and `http-iso` servers write; `,` is accepted as the decimal sign).
pub fn parse_datetime(text: &str) -> Result<DateTime, DateTimeError> {
    let err = || DateTimeError(text.to_string());
    let s = text.trim();
    let (date, time) = s.split_once(['T', 't', ' ']).ok_or_else(err)?;
    let mut date_parts = date.splitn(3, '-');
    let (year, month, day) = (
        date_parts.next().ok_or_else(err)?,
        date_parts.next().ok_or_else(err)?,
        date_parts.next().ok_or_else(err)?,
    );
    let year: i64 = digits(year, 4..=6).ok_or_else(err)?;
    let month: i64 = digits(month, 2..=2).ok_or_else(err)?;
    let day: i64 = digits(day, 2..=2).ok_or_else(err)?;
    // The zone: `Z`, `+hh:mm`, `-hh:mm`, `+hhmm`, or nothing.
    let (clock, zone_offset, has_zone) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0i64, true)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let zone = zone[1..].replace(':', "");
        if zone.len() != 4 || !zone.is_ascii() {
            return Err(err());
        }
        let hours: i64 = digits(&zone[..2], 2..=2).ok_or_else(err)?;
        let minutes: i64 = digits(&zone[2..], 2..=2).ok_or_else(err)?;
        if hours > 23 || minutes > 59 {
            return Err(err());
        }
        (clock, sign * (hours * 3600 + minutes * 60), true)
    } else {
        (time, 0, false)
    };
    let (whole, fraction) = match clock.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (clock, None),
    };
    let mut clock_parts = whole.splitn(3, ':');
    let hour: i64 = digits(clock_parts.next().ok_or_else(err)?, 2..=2).ok_or_else(err)?;
    let minute: i64 = digits(clock_parts.next().ok_or_else(err)?, 2..=2).ok_or_else(err)?;
    let second: i64 = digits(clock_parts.next().ok_or_else(err)?, 2..=2).ok_or_else(err)?;
    let leap_free = !(hour == 24 && (minute, second) != (0, 0));
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 24
        || minute > 59
        || second > 60
        || !leap_free
    {
        return Err(err());
    }
    let (nanos, resolution) = match fraction {
        None => (0i128, 1_000_000_000u64),
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let mut nanos: i128 = 0;
            for i in 0..9 {
                nanos = nanos * 10 + f.as_bytes().get(i).map_or(0, |b| i128::from(b - b'0'));
            }
            let shown = f.len().min(9) as u32;
            (nanos, 10u64.pow(9 - shown))
        }
        Some(_) => return Err(err()),
    };
    // A leap second (…:60) reads as the next minute's first second: Unix time counts none.
    let days = days_from_civil(year, month, day);
    let seconds = i128::from(days) * 86_400 + i128::from(hour * 3600 + minute * 60 + second)
        - i128::from(zone_offset);
    Ok(DateTime {
        instant: seconds * SECOND + nanos,
        resolution,
        has_zone,
    })
}

/// Writes an instant as `YYYY-MM-DDThh:mm:ss[.fraction]Z`, with as many decimals as it needs
/// (none for a whole second), so that reading it back gives the same instant.
pub fn format_datetime(instant: UnixNanos) -> String {
    let seconds = instant.div_euclid(SECOND);
    let nanos = instant.rem_euclid(SECOND);
    let days = seconds.div_euclid(86_400) as i64;
    let in_day = seconds.rem_euclid(86_400) as i64;
    let (year, month, day) = civil_from_days(days);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    );
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// An `xs:duration` of `nanos` nanoseconds: `PT12.5S`.
pub fn format_duration(nanos: u64) -> String {
    let whole = nanos / 1_000_000_000;
    let fraction = nanos % 1_000_000_000;
    if fraction == 0 {
        format!("PT{whole}S")
    } else {
        let digits = format!("{fraction:09}");
        format!("PT{whole}.{}S", digits.trim_end_matches('0'))
    }
}

fn digits(text: &str, len: std::ops::RangeInclusive<usize>) -> Option<i64> {
    if !len.contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i128 = 1_795_903_200; // 2026-11-28T22:00:00Z

    #[test]
    fn reads_the_forms_servers_write() {
        let rows: &[(&str, i128, u64, bool)] = &[
            ("2026-11-28T22:00:00Z", T0 * SECOND, 1_000_000_000, true),
            (
                "2026-11-28T22:00:00.123Z",
                T0 * SECOND + 123_000_000,
                1_000_000,
                true,
            ),
            (
                "2026-11-28T22:00:00.123456+00:00",
                T0 * SECOND + 123_456_000,
                1_000,
                true,
            ),
            (
                "2026-11-28T23:30:00+01:30",
                T0 * SECOND,
                1_000_000_000,
                true,
            ),
            ("2026-11-28T20:00:00-0200", T0 * SECOND, 1_000_000_000, true),
            ("2026-11-28T22:00:00", T0 * SECOND, 1_000_000_000, false),
            (
                "2026-11-28T22:00:00,5Z",
                T0 * SECOND + 500_000_000,
                100_000_000,
                true,
            ),
            (
                "  2026-11-28T22:00:00.1234567891Z\n",
                T0 * SECOND + 123_456_789,
                1,
                true,
            ),
            ("1970-01-01T00:00:00Z", 0, 1_000_000_000, true),
            ("1969-12-31T23:59:59.5Z", -SECOND / 2, 100_000_000, true),
            (
                "2024-02-29T00:00:00Z",
                1_709_164_800 * SECOND,
                1_000_000_000,
                true,
            ),
            (
                "2026-11-28T24:00:00Z",
                (T0 + 7200) * SECOND,
                1_000_000_000,
                true,
            ),
        ];
        for &(text, instant, resolution, has_zone) in rows {
            assert_eq!(
                parse_datetime(text),
                Ok(DateTime {
                    instant,
                    resolution,
                    has_zone
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_date_time() {
        for text in [
            "",
            "2026-11-28",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-28T22:61:00Z",
            "2026-11-28T22:00:00.Z",
            "2026-11-28T22:00Z",
            "2026-11-28T22:00:00+5",
            "tomorrow",
            "2026-11-28T22:00:00.12a3Z",
            "2026-11-28T24:00:01Z",
            "2026-11-28T22:00:00+aé1",
        ] {
            assert!(parse_datetime(text).is_err(), "{text}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        for instant in [
            0,
            T0 * SECOND,
            T0 * SECOND + 1,
            T0 * SECOND + 120_000_000,
            -SECOND / 2,
            253_402_300_799 * SECOND,
        ] {
            let text = format_datetime(instant);
            assert_eq!(
                parse_datetime(&text).map(|d| d.instant),
                Ok(instant),
                "{text}"
            );
        }
        assert_eq!(
            format_datetime(T0 * SECOND + 120_000_000),
            "2026-11-28T22:00:00.12Z"
        );
        assert_eq!(format_duration(19_200_000_000), "PT19.2S");
        assert_eq!(format_duration(3_000_000_000), "PT3S");
        assert_eq!(format_duration(1), "PT0.000000001S");
    }
}
