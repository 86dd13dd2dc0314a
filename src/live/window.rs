//! One Representation's segment windows in exact integers: the arithmetic behind
//! [`super::availability`].

use super::time::UnixNanos;

/// 10^9 as the wide integer the arithmetic is done in.
pub(crate) const E9: i128 = 1_000_000_000;

/// `a / b` rounded up, for `b > 0`.
pub(crate) fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 { q } else { q + 1 }
}

/// Consecutive segments of one duration, as the plan's positions give them: segment `j` starts
/// at media time `(start_e9 + j × d_e9) / 10^9` ticks (both scaled by 10^9, so that fractional
/// `@duration` values stay exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    /// Media time of the first segment, in ticks × 10^9 (`presentationTimeOffset` included).
    pub start_e9: i128,
    /// Duration of each, in ticks × 10^9.
    pub d_e9: i128,
    /// How many; `None`: as many as the clock allows (the plan's open run).
    pub count: Option<u64>,
    /// `$Number$` of the first.
    pub first_number: u64,
    /// Index of the first in the SegmentList (lists only).
    pub first_list_index: usize,
}

/// The values every window of one Representation is computed from (nanoseconds, or ticks ×
/// 10^9 where named `_e9`).
pub(crate) struct Frame {
    pub dynamic: bool,
    pub ast: i128,
    pub period_start: i128,
    /// The Period's length in ticks × 10^9, when known.
    pub period_len_e9: Option<i128>,
    pub ts: i128,
    pub pto_e9: i128,
    /// `None`: `availabilityTimeOffset="INF"`.
    pub ato: Option<i128>,
    pub tsbd: Option<i128>,
    pub aet: Option<i128>,
}

/// A segment's place in time: (start, end, available from, due by, available until).
pub(crate) type Window = (i128, i128, i128, i128, i128);

impl Frame {
    pub fn window(&self, run: &Run, j: u64) -> Option<Window> {
        // Saturating: absurd manifests (huge timescales, counts) give absurd times, not panics.
        let s_e9 = run
            .start_e9
            .saturating_add(i128::from(j).saturating_mul(run.d_e9))
            .saturating_sub(self.pto_e9);
        let mut e_e9 = s_e9.saturating_add(run.d_e9);
        if let Some(len) = self.period_len_e9 {
            if s_e9 >= len {
                return None;
            }
            e_e9 = e_e9.min(len);
        }
        let start = self.period_start.saturating_add(s_e9.div_euclid(self.ts));
        let end = self.period_start.saturating_add(ceil_div(e_e9, self.ts));
        if !self.dynamic {
            let until = self.aet.unwrap_or(i128::MAX);
            return Some((start, end, i128::MIN, until, until));
        }
        let base = self.ast.saturating_add(end);
        let from = match self.ato {
            Some(ato) => base.saturating_sub(ato),
            None => self.ast.saturating_add(self.period_start),
        };
        let aet = self.aet.unwrap_or(i128::MAX);
        let (due, until) = match self.tsbd {
            Some(tsbd) => (
                base.saturating_add(tsbd),
                base.saturating_add(ceil_div(e_e9.saturating_sub(s_e9), self.ts))
                    .saturating_add(tsbd),
            ),
            None => (i128::MAX, i128::MAX),
        };
        Some((start, end, from, due.min(aet), until.min(aet)))
    }

    /// How many segments of `run` to consider at `now`: its count, or for an open run enough
    /// that the last one is not yet available.
    pub fn run_len(&self, run: &Run, now: UnixNanos) -> u64 {
        if let Some(count) = run.count {
            return count;
        }
        let reach = now
            .saturating_sub(self.ast)
            .saturating_sub(self.period_start)
            .saturating_add(self.ato.unwrap_or(0))
            .max(0);
        let limit_e9 = reach
            .saturating_mul(self.ts)
            .saturating_add(self.pto_e9)
            .saturating_sub(run.start_e9);
        u64::try_from((limit_e9 / run.d_e9).max(0).saturating_add(2)).unwrap_or(u64::MAX)
    }
}

/// The first `j` in `0..n` for which `pred` is false (`pred` holds on a prefix).
pub(crate) fn partition(n: u64, pred: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
