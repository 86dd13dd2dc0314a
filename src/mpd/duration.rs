//! `xs:duration` (ISO 8601) and plain decimal seconds, as exact nanosecond counts.
//!
//! Exact integers (not floats) so that segment counts such as
//! `ceil(period duration × timescale / @duration)` never land one off on a boundary.

/// Nanoseconds in a second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration \"{0}\" (expected ISO 8601 like PT10.5S, or seconds)")]
pub struct DurationError(pub String);

/// Parses an `xs:duration` (`PT10.5S`, `PT1H2M3.25S`, `P0Y0M0DT0H3M30.000S`, `P1DT2H`, `P2W`)
/// or a plain decimal number of seconds (`10.5`, as some vendors write), into nanoseconds.
/// Years count 365 days and months 30 days (manifests do not use them for real durations).
/// Negative durations are refused: no MPD duration attribute may be negative.
pub fn parse_duration(text: &str) -> Result<u64, DurationError> {
    let s = text.trim();
    let err = || DurationError(text.to_string());
    if s.is_empty() {
        return Err(err());
    }
    if s.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return parse_seconds(s).ok_or_else(err);
    }
    let rest = s.strip_prefix('P').ok_or_else(err)?;
    let mut total: u64 = 0;
    let mut in_time = false;
    let mut seen_any = false;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
            'T' if !in_time && number.is_empty() => in_time = true,
            'Y' | 'M' | 'W' | 'D' | 'H' | 'S' => {
                if number.is_empty() {
                    return Err(err());
                }
                let unit_secs: u64 = match (c, in_time) {
                    ('Y', false) => 365 * 86_400,
                    ('M', false) => 30 * 86_400,
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return Err(err()),
                };
                let value = scaled(&number, unit_secs).ok_or_else(err)?;
                total = total.checked_add(value).ok_or_else(err)?;
                number.clear();
                seen_any = true;
            }
            _ => return Err(err()),
        }
    }
    if !number.is_empty() || !seen_any {
        return Err(err());
    }
    Ok(total)
}

/// Plain decimal seconds (`10`, `10.5`, `.5`) to nanoseconds.
fn parse_seconds(s: &str) -> Option<u64> {
    scaled(s, 1)
}

/// `decimal × unit_secs` seconds, in nanoseconds; digits past nanosecond precision are dropped.
fn scaled(decimal: &str, unit_secs: u64) -> Option<u64> {
    let (int_part, frac_part) = match decimal.split_once('.') {
        Some((i, f)) => (i, f),
        None => (decimal, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    // Fraction as nanoseconds of the unit: pad or cut to 9 digits.
    let mut frac_nanos: u128 = 0;
    for i in 0..9 {
        let digit = frac_part
            .as_bytes()
            .get(i)
            .map_or(0, |b| u128::from(b - b'0'));
        frac_nanos = frac_nanos * 10 + digit;
    }
    let unit = u128::from(unit_secs);
    let nanos = int
        .checked_mul(unit)?
        .checked_mul(u128::from(NANOS_PER_SEC))?
        .checked_add(frac_nanos * unit)?;
    u64::try_from(nanos).ok()
}

/// Formats nanoseconds as seconds for messages (`12.5s`).
pub fn format_seconds(nanos: u64) -> String {
    let secs = nanos / NANOS_PER_SEC;
    let frac = nanos % NANOS_PER_SEC;
    if frac == 0 {
        format!("{secs}s")
    } else {
        let digits = format!("{frac:09}");
        format!("{secs}.{}s", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS_PER_SEC;

    #[test]
    fn iso8601_forms() {
        let rows: &[(&str, u64)] = &[
            ("PT10.5S", 10 * S + S / 2),
            ("PT1H2M3.25S", 3723 * S + S / 4),
            ("P0Y0M0DT0H3M30.000S", 210 * S),
            ("P1DT2H", 26 * 3600 * S),
            ("PT0S", 0),
            ("PT2M", 120 * S),
            ("P2W", 14 * 86_400 * S),
            ("PT0.000000001S", 1),
            ("PT1.1234567891S", S + 123_456_789),
            ("  PT5S ", 5 * S),
            ("PT634.566S", 634 * S + 566_000_000),
            ("P1Y", 365 * 86_400 * S),
            ("P1M", 30 * 86_400 * S),
            ("PT1M", 60 * S),
        ];
        for (text, want) in rows {
            assert_eq!(parse_duration(text), Ok(*want), "{text}");
        }
    }

    #[test]
    fn plain_seconds() {
        assert_eq!(parse_duration("10.5"), Ok(10 * S + S / 2));
        assert_eq!(parse_duration("3600"), Ok(3600 * S));
        assert_eq!(parse_duration(".25"), Ok(S / 4));
    }

    #[test]
    fn malformed() {
        for text in [
            "",
            "P",
            "PT",
            "10S",
            "PT1H2",
            "-PT5S",
            "PTS",
            "P1H",
            "PT1D",
            "PT1.2.3S",
            "abc",
            "PT1e3S",
            "P99999999999999999999Y",
        ] {
            assert!(parse_duration(text).is_err(), "{text} should fail");
        }
    }

    #[test]
    fn formats_for_messages() {
        assert_eq!(format_seconds(12 * S + S / 2), "12.5s");
        assert_eq!(format_seconds(3 * S), "3s");
    }
}
