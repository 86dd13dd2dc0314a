//! Where a Representation's media segments are (number, time, duration, sub-number), in a
//! compact form that is counted without being expanded and expanded one segment at a time:
//! a SegmentTimeline is a list of runs (one per `S`), `@duration` addressing one formula.

/// One media segment's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// `$Number$`.
    pub number: u64,
    /// `$Time$`: the start in the timescale.
    pub time: i64,
    /// The duration in the timescale, where known.
    pub duration: Option<u64>,
    /// `$SubNumber$` (1..=k) when the timeline's `S@k` splits segments.
    pub sub_number: Option<u64>,
}

/// `count` consecutive segments of one duration (an `S` element and its repeats), each made of
/// `k` sub-segments that share number and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Number of the first segment.
    pub number: u64,
    /// Start of the first segment.
    pub time: i64,
    /// Duration of each (at least 1).
    pub duration: u64,
    /// Segments in the run (the last one's number and time fit their types).
    pub count: u64,
    /// `S@k`.
    pub k: Option<u64>,
}

impl Run {
    /// Sub-segments per segment.
    fn k(&self) -> u64 {
        self.k.unwrap_or(1).max(1)
    }

    /// Number and start of the last segment.
    pub fn last(&self) -> Option<(u64, i64)> {
        let steps = self.count.checked_sub(1)?;
        let time = i128::from(self.time) + i128::from(steps) * i128::from(self.duration);
        Some((self.number.checked_add(steps)?, i64::try_from(time).ok()?))
    }
}

/// Segments without an end, after the counted ones: a live stream's SegmentTimeline whose last
/// `S` repeats to the live edge (`@r="-1"`), or its `@duration` addressing with no Period end.
/// The clock, not the manifest, says how many exist. Segment `i` is number `number + i` at
/// `time + floor(i × duration_e9 / 10^9)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenRun {
    /// Number of the first.
    pub number: u64,
    /// Start of the first (for `@duration` addressing, 0: the Period's start).
    pub time: i64,
    /// Duration of each × 10^9 (a fractional `@duration` stays exact).
    pub duration_e9: u128,
}

impl OpenRun {
    /// The `i`-th segment (`None` past 64-bit numbers or times).
    pub fn slot(&self, i: u64) -> Option<Slot> {
        let offset = u128::from(i).checked_mul(self.duration_e9)? / 1_000_000_000;
        Some(Slot {
            number: self.number.checked_add(i)?,
            time: i64::try_from(i128::from(self.time).checked_add(i128::try_from(offset).ok()?)?)
                .ok()?,
            duration: u64::try_from(self.duration_e9 / 1_000_000_000).ok(),
            sub_number: None,
        })
    }

    /// Its segments in order, as far as 64 bits reach.
    pub fn iter(self) -> impl Iterator<Item = Slot> {
        (0..).map_while(move |i| self.slot(i))
    }
}

/// The positions of a Representation's media segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Positions {
    /// A SegmentTimeline: its runs, in order.
    Timeline(Vec<Run>),
    /// `@duration` addressing: segment i is number `start_number + i` at
    /// `floor(i × duration_e9 / 10^9)` (a fractional `@duration` scaled by 10^9).
    Uniform {
        /// `@startNumber`.
        start_number: u64,
        /// How many segments.
        count: u64,
        /// `@duration` × 10^9.
        duration_e9: u128,
    },
    /// One segment (a template with neither `@duration` nor a timeline).
    Single(Slot),
}

impl Positions {
    /// How many segments (sub-segments counted), without expanding anything.
    pub fn count(&self) -> u128 {
        match self {
            Positions::Timeline(runs) => runs.iter().fold(0u128, |sum, r| {
                sum.saturating_add(u128::from(r.count) * u128::from(r.k()))
            }),
            Positions::Uniform { count, .. } => u128::from(*count),
            Positions::Single(_) => 1,
        }
    }

    /// How many distinct (number, time) pairs: the segments, sub-segments not counted.
    pub fn distinct_positions(&self) -> u128 {
        match self {
            Positions::Timeline(runs) => runs
                .iter()
                .fold(0u128, |sum, r| sum.saturating_add(u128::from(r.count))),
            _ => self.count(),
        }
    }

    /// Whether `$Number$` only grows from one segment to the next (sub-segments aside).
    pub fn numbers_increase(&self) -> bool {
        match self {
            Positions::Timeline(runs) => {
                increasing(runs.iter().map(|r| (r.number, r.last().map(|(n, _)| n))))
            }
            _ => true,
        }
    }

    /// Whether `$Time$` only grows from one segment to the next (sub-segments aside).
    pub fn times_increase(&self) -> bool {
        match self {
            Positions::Timeline(runs) => {
                increasing(runs.iter().map(|r| (r.time, r.last().map(|(_, t)| t))))
            }
            Positions::Uniform {
                count, duration_e9, ..
            } => *count <= 1 || *duration_e9 >= 1_000_000_000,
            Positions::Single(_) => true,
        }
    }

    /// The smallest and largest `$Number$` and `$Time$`, when there is a segment.
    pub fn bounds(&self) -> Option<((u64, u64), (i64, i64))> {
        let mut iter = self.iter();
        let first = iter.next()?;
        let last = match self {
            Positions::Timeline(runs) => {
                let run = runs.iter().rev().find(|r| r.count > 0)?;
                let (number, time) = run.last()?;
                Slot {
                    number,
                    time,
                    duration: None,
                    sub_number: None,
                }
            }
            Positions::Uniform { count, .. } => self.slot(count.checked_sub(1)?)?,
            Positions::Single(slot) => *slot,
        };
        let (mut numbers, mut times) = ((first.number, last.number), (first.time, last.time));
        if let Positions::Timeline(runs) = self {
            for run in runs.iter().filter(|r| r.count > 0) {
                let (n, t) = run.last()?;
                numbers = (numbers.0.min(run.number), numbers.1.max(n));
                times = (times.0.min(run.time), times.1.max(t));
            }
        }
        Some((numbers, times))
    }

    /// The i-th segment of `Uniform` positions.
    fn slot(&self, i: u64) -> Option<Slot> {
        match self {
            Positions::Uniform {
                start_number,
                duration_e9,
                ..
            } => Some(Slot {
                number: start_number.checked_add(i)?,
                time: i64::try_from(u128::from(i).checked_mul(*duration_e9)? / 1_000_000_000)
                    .ok()?,
                duration: u64::try_from(duration_e9 / 1_000_000_000).ok(),
                sub_number: None,
            }),
            _ => None,
        }
    }

    /// Every segment's position, in order, computed one at a time.
    pub fn iter(&self) -> SlotIter<'_> {
        SlotIter {
            positions: self,
            run: 0,
            index: 0,
            sub: 1,
        }
    }
}

/// Whether runs, given as (first, last) values (no last: an empty run), increase strictly
/// from each to the next.
fn increasing<T: PartialOrd + Copy>(runs: impl Iterator<Item = (T, Option<T>)>) -> bool {
    let mut previous: Option<T> = None;
    for (first, last) in runs {
        let Some(last) = last else { continue };
        if previous.is_some_and(|p| first <= p) {
            return false;
        }
        previous = Some(last);
    }
    true
}

/// The iterator of [`Positions::iter`].
#[derive(Debug, Clone)]
pub struct SlotIter<'a> {
    positions: &'a Positions,
    run: usize,
    index: u64,
    sub: u64,
}

impl Iterator for SlotIter<'_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        match self.positions {
            Positions::Timeline(runs) => loop {
                let run = runs.get(self.run)?;
                if self.index >= run.count {
                    self.run += 1;
                    self.index = 0;
                    self.sub = 1;
                    continue;
                }
                // Within bounds: construction checked the run's last number and time.
                let slot = Slot {
                    number: run.number.saturating_add(self.index),
                    time: i64::try_from(
                        i128::from(run.time) + i128::from(self.index) * i128::from(run.duration),
                    )
                    .unwrap_or(i64::MAX),
                    duration: Some(run.duration),
                    sub_number: run.k.map(|_| self.sub),
                };
                if self.sub >= run.k() {
                    self.sub = 1;
                    self.index += 1;
                } else {
                    self.sub += 1;
                }
                return Some(slot);
            },
            Positions::Uniform { count, .. } => {
                if self.index >= *count {
                    return None;
                }
                let slot = self.positions.slot(self.index);
                self.index += 1;
                slot
            }
            Positions::Single(slot) => {
                if self.index > 0 {
                    return None;
                }
                self.index = 1;
                Some(*slot)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(number: u64, time: i64, duration: u64, count: u64, k: Option<u64>) -> Run {
        Run {
            number,
            time,
            duration,
            count,
            k,
        }
    }

    fn slots(p: &Positions) -> Vec<(u64, i64, Option<u64>, Option<u64>)> {
        p.iter()
            .map(|s| (s.number, s.time, s.duration, s.sub_number))
            .collect()
    }

    #[test]
    fn timeline_runs_expand_in_order() {
        let p = Positions::Timeline(vec![
            run(1, -10, 5, 2, None),
            run(3, 20, 3, 0, None),
            run(40, 20, 4, 1, Some(2)),
        ]);
        assert_eq!(
            slots(&p),
            vec![
                (1, -10, Some(5), None),
                (2, -5, Some(5), None),
                (40, 20, Some(4), Some(1)),
                (40, 20, Some(4), Some(2)),
            ]
        );
        assert_eq!((p.count(), p.distinct_positions()), (4, 3));
        assert!(p.numbers_increase() && p.times_increase());
        assert_eq!(p.bounds(), Some(((1, 40), (-10, 20))));
    }

    #[test]
    fn uniform_positions_are_exact() {
        // @duration 1.5: starts 0, 1.5, 3 floor to 0, 1, 3.
        let p = Positions::Uniform {
            start_number: 7,
            count: 3,
            duration_e9: 1_500_000_000,
        };
        assert_eq!(
            slots(&p),
            vec![
                (7, 0, Some(1), None),
                (8, 1, Some(1), None),
                (9, 3, Some(1), None)
            ]
        );
        assert!(p.times_increase());
        let half = Positions::Uniform {
            start_number: 1,
            count: 3,
            duration_e9: 500_000_000,
        };
        assert!(!half.times_increase() && half.numbers_increase());
        assert_eq!(half.bounds(), Some(((1, 3), (0, 1))));
    }

    #[test]
    fn open_runs_continue_exactly() {
        // @duration 1.5 from t=10: starts 10, 11 (10 + 1.5 floored), 13; numbers from 5.
        let open = OpenRun {
            number: 5,
            time: 10,
            duration_e9: 1_500_000_000,
        };
        let first: Vec<_> = open.iter().take(3).map(|s| (s.number, s.time)).collect();
        assert_eq!(first, vec![(5, 10), (6, 11), (7, 13)]);
        // It ends where 64 bits do, without a panic.
        let edge = OpenRun {
            number: u64::MAX - 1,
            time: 0,
            duration_e9: 1_000_000_000,
        };
        assert_eq!(edge.iter().count(), 2);
        assert_eq!(
            OpenRun {
                number: 1,
                time: i64::MAX - 1,
                duration_e9: 2_000_000_000,
            }
            .iter()
            .count(),
            1
        );
    }

    #[test]
    fn order_of_runs() {
        // (runs, numbers increase, times increase)
        let rows = [
            (
                vec![run(1, 0, 1, 2, None), run(3, 2, 1, 1, None)],
                true,
                true,
            ),
            (
                vec![run(1, 0, 1, 2, None), run(1, 2, 1, 1, None)],
                false,
                true,
            ),
            (
                vec![run(1, 0, 1, 2, None), run(9, 1, 1, 1, None)],
                true,
                false,
            ),
            (
                vec![run(5, 0, 1, 0, None), run(1, 0, 1, 1, None)],
                true,
                true,
            ),
        ];
        for (runs, numbers, times) in rows {
            let p = Positions::Timeline(runs.clone());
            assert_eq!(
                (p.numbers_increase(), p.times_increase()),
                (numbers, times),
                "{runs:?}"
            );
        }
        assert_eq!(Positions::Timeline(Vec::new()).bounds(), None);
    }
}
