//! Period timing: when each Period starts and how long it lasts (ISO/IEC 23009-1 §5.3.2.1).

use crate::mpd::{Mpd, PresentationType};

/// A Period's place on the presentation timeline, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodTiming {
    /// Start, when known.
    pub start: Option<u64>,
    /// Duration, when known.
    pub duration: Option<u64>,
}

/// Start and duration of every Period.
///
/// A Period starts at its `@start`, else where the previous one ends (the first at 0 in a
/// static presentation). It lasts its `@duration`, else until the next Period's start, else
/// until the end of the presentation (`@mediaPresentationDuration`).
pub fn period_timings(mpd: &Mpd) -> Vec<PeriodTiming> {
    let mut starts: Vec<Option<u64>> = Vec::with_capacity(mpd.periods.len());
    for (i, period) in mpd.periods.iter().enumerate() {
        let start = period.start.or_else(|| {
            if i == 0 {
                (mpd.presentation_type == PresentationType::Static).then_some(0)
            } else {
                let previous = &mpd.periods[i - 1];
                starts[i - 1]
                    .zip(previous.duration)
                    .and_then(|(s, d)| s.checked_add(d))
            }
        });
        starts.push(start);
    }
    let last = mpd.periods.len().saturating_sub(1);
    mpd.periods
        .iter()
        .enumerate()
        .map(|(i, period)| {
            let start = starts[i];
            let duration = period.duration.or_else(|| {
                let end = if i < last {
                    starts[i + 1]
                } else {
                    mpd.media_presentation_duration
                };
                end.zip(start).and_then(|(e, s)| e.checked_sub(s))
            });
            PeriodTiming { start, duration }
        })
        .collect()
}
