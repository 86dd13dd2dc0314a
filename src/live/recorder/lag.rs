//! The recording's lag behind the live edge, kept in constant memory: a histogram of
//! milliseconds (exact up to a minute), whatever the length of the recording.

use super::LagSummary;

const BUCKETS: usize = 60_001;

/// Lags seen, by the millisecond.
#[derive(Debug, Clone)]
pub(super) struct LagHistogram {
    counts: Vec<u32>,
    over: u64,
    max_ns: i128,
    total: u64,
}

impl LagHistogram {
    pub(super) fn new() -> LagHistogram {
        LagHistogram {
            counts: Vec::new(),
            over: 0,
            max_ns: 0,
            total: 0,
        }
    }

    /// One segment's lag, nanoseconds (a segment in place before its end counts as 0).
    pub(super) fn add(&mut self, lag_ns: i128) {
        let lag_ns = lag_ns.max(0);
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        let ms = (lag_ns / 1_000_000) as usize;
        match self.counts.get_mut(ms) {
            Some(c) => *c = c.saturating_add(1),
            None => self.over += 1,
        }
        self.max_ns = self.max_ns.max(lag_ns);
        self.total += 1;
    }

    /// The lag below which `q` of the segments landed, seconds (rounded up to the ms).
    fn quantile(&self, q: f64) -> f64 {
        let rank = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (ms, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return (ms + 1) as f64 / 1000.0;
            }
        }
        self.max_ns as f64 / 1e9
    }

    /// The summary, when anything was measured.
    pub(super) fn summary(&self) -> Option<LagSummary> {
        (self.total > 0).then(|| LagSummary {
            segments: self.total,
            median_seconds: self.quantile(0.5),
            p95_seconds: self.quantile(0.95),
            max_seconds: (self.max_ns as f64 / 1e6).ceil() / 1000.0,
            ..LagSummary::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_the_millisecond() {
        let mut h = LagHistogram::new();
        assert!(h.summary().is_none());
        for ms in 1..=100 {
            h.add(ms * 1_000_000 - 1);
        }
        h.add(-5);
        h.add(120_000_000_000);
        let s = h.summary().unwrap();
        assert_eq!(s.segments, 102);
        assert_eq!(s.median_seconds, 0.05);
        assert_eq!(s.p95_seconds, 0.096);
        assert_eq!(s.max_seconds, 120.0);
    }
}
