//! Times against the manifest: a segment's start and duration (`mpd-time`, `mpd-duration`),
//! the measure of the start chosen per representation, and a last segment counted but not
//! written.

use serde_json::json;

use super::{Expect, Misplaced, RepresentationChecker, Run, Track, convert_time, convert_up};
use crate::check::Check;
use crate::plan::SegmentKind;

impl RepresentationChecker<'_> {
    /// Whether a missing file is only the last segment of its Period under `@duration`
    /// addressing, and the media before it already reaches the Period's end (within a sample):
    /// a packager that writes an average segment duration as `@duration` (Bento4) makes the
    /// manifest count one segment more than it wrote. A player asks for it at the very end; a
    /// warning. Returns the nominal start and the media's end.
    pub(super) fn covered_last_segment(&self, path: &str) -> Option<(i128, i128)> {
        let planned = self.planned.get(path)?;
        let [p] = planned.as_slice() else {
            return None;
        };
        let (plan, timing) = &self.parts[p.part];
        if p.kind != SegmentKind::Media || !p.last_in_part || timing.timeline || !timing.simple {
            return None;
        }
        let track = self.main()?;
        let end = convert_time(
            i128::from(self.decode_end?),
            track.timescale,
            plan.timescale,
        );
        let start = p.time?;
        let period_end = i128::from(timing.presentation_time_offset)
            + i128::from(timing.period_duration?) * i128::from(plan.timescale) / 1_000_000_000;
        let sample = i128::from(convert_up(
            self.last_sample.max(1),
            track.timescale,
            plan.timescale,
        ));
        (end >= start && end + sample >= period_end).then_some((start, end))
    }

    /// After the last file: the checks over the whole representation. Returns where its
    /// segments start, per Period (for the checks across representations).
    pub fn conclude(mut self) -> Vec<super::Boundaries> {
        self.close_channel();
        let mut saved: Vec<_> = std::mem::take(&mut self.saved).into_iter().collect();
        saved.sort_by_key(|(part, _)| *part);
        for (_, continuity) in saved {
            self.channel = continuity.channel;
            self.close_channel();
        }
        // One measure for the whole representation, never half of each: the one that fits
        // more segments (tfdt on a tie).
        let measure = usize::from(self.misfits[1] < self.misfits[0]);
        let what = ["tfdt", "earliest presentation time"][measure];
        for m in std::mem::take(&mut self.misplaced) {
            if m.off[measure] {
                let found = m.found[measure];
                self.report(
                    Check::MpdTime,
                    &m.segment,
                    format!(
                        "starts at {found} ({what}, timescale {}), the manifest says {}",
                        m.timescale, m.expected
                    ),
                    Some(json!(m.expected as i64)),
                    Some(json!(found as i64)),
                );
            }
        }
        std::mem::take(&mut self.boundaries)
    }

    /// The boundaries of a Period, created on first use.
    pub(super) fn boundary(&mut self, part: usize) -> &mut super::Boundaries {
        match self.boundaries.iter().position(|b| b.part == part) {
            Some(i) => &mut self.boundaries[i],
            None => {
                self.boundaries.push(super::Boundaries {
                    part,
                    starts: Vec::new(),
                    end: 0,
                    complete: true,
                });
                self.boundaries.last_mut().expect("just pushed")
            }
        }
    }

    /// A segment's earliest presentation time, on the media timeline: `tfdt` plus the first
    /// sample's composition offset, less the edit list's shift (media before it is not
    /// presented: AAC priming, the first B-frame delay, so a segment's presented span starts
    /// at it at the earliest).
    fn earliest(unit: &Run, track: &Track) -> Option<i128> {
        let shift = i128::from(track.edit_shift.unwrap_or(0));
        unit.decode_time
            .map(|tfdt| (i128::from(tfdt) + i128::from(unit.first_cto)).max(shift) - shift)
    }

    /// Where a segment's presentation starts and ends, nanoseconds from its Period's start
    /// (`presentationTimeOffset` applied).
    pub(super) fn presented(&self, unit: &Run, part: usize) -> Option<(i128, i128)> {
        let track = self.main()?;
        let media_ts = track.timescale;
        let earliest = Self::earliest(unit, track)?;
        if media_ts == 0 {
            return None;
        }
        let (plan, timing) = &self.parts[part];
        let pto = convert_time(
            i128::from(timing.presentation_time_offset),
            plan.timescale,
            media_ts,
        );
        let ns = |t: i128| (t - pto) * 1_000_000_000 / i128::from(media_ts);
        Some((ns(earliest), ns(earliest + i128::from(unit.duration))))
    }

    pub(super) fn check_against_manifest(&mut self, path: &str, unit: &Run, expect: &Expect) {
        let Some(track) = self.main().cloned() else {
            return;
        };
        let media_ts = track.timescale;
        if media_ts == 0 || expect.timescale == 0 {
            return;
        }
        let sample = convert_up(unit.max_sample.max(1), media_ts, expect.timescale);
        let tolerance = match (expect.simple, expect.duration) {
            (true, Some(d)) => sample.max(d / 2),
            _ => sample,
        };
        let tolerance = i128::from(tolerance);
        let shift = i128::from(track.edit_shift.unwrap_or(0));
        let earliest = Self::earliest(unit, &track);
        if self.keep_boundaries
            && let Some((start, end)) = self.presented(unit, expect.part)
        {
            let file = self.file_index;
            let boundaries = self.boundary(expect.part);
            boundaries
                .starts
                .push((file, i64::try_from(start).unwrap_or(i64::MAX)));
            boundaries.end = i64::try_from(end).unwrap_or(i64::MAX);
        }
        if let (Some(expected), Some(tfdt), Some(earliest)) =
            (expect.time, unit.decode_time, earliest)
        {
            let decode = convert_time(i128::from(tfdt), media_ts, expect.timescale);
            let earliest = convert_time(earliest, media_ts, expect.timescale);
            let off = [
                (decode - expected).abs() > tolerance,
                (earliest - expected).abs() > tolerance,
            ];
            if off[0] || off[1] {
                self.misfits[0] += u64::from(off[0]);
                self.misfits[1] += u64::from(off[1]);
                self.misplaced.push(Misplaced {
                    segment: path.to_string(),
                    expected,
                    found: [decode, earliest],
                    off,
                    timescale: expect.timescale,
                });
            }
        }
        if let Some(expected) = expect.duration {
            let found = convert_up(unit.duration, media_ts, expect.timescale);
            // A Period's last segment may be shorter than the manifest says, but only down to
            // the Period's end: its media must reach it (when the Period's end is known).
            let shorter_by = if expect.last_in_part {
                let timing = &self.parts[expect.part].1;
                match (expect.time, timing.period_duration) {
                    (Some(start), Some(period)) => {
                        let period_end = i128::from(timing.presentation_time_offset)
                            + i128::from(period) * i128::from(expect.timescale) / 1_000_000_000;
                        Some((start + i128::from(expected) - period_end).max(0))
                    }
                    _ => None,
                }
            } else {
                Some(0)
            };
            let wrong = |found: u64| {
                let delta = i128::from(found) - i128::from(expected);
                delta > tolerance || shorter_by.is_some_and(|s| -delta > tolerance + s)
            };
            // A segment the edit list starts inside presents only what follows the shift.
            let presented = unit.decode_time.and_then(|tfdt| {
                let start = i128::from(tfdt);
                let end = start + i128::from(unit.duration);
                (start < shift && end > shift).then(|| {
                    convert_up(
                        u64::try_from(end - shift).unwrap_or(0),
                        media_ts,
                        expect.timescale,
                    )
                })
            });
            // The segment before a hole the recording names is stretched over it.
            let stretched = expect.time.is_some_and(|start| {
                let found = i128::from(found);
                found < i128::from(expected)
                    && self.parts[expect.part].1.holes.iter().any(|&(t, d)| {
                        let tolerance = tolerance.max(i128::from(expect.timescale / 1000));
                        (i128::from(t) - (start + found)).abs() <= tolerance
                            && (i128::from(expected) - found - i128::from(d)).abs() <= tolerance
                    })
            });
            if stretched {
                self.report_as(
                    crate::check::Severity::Warning,
                    Check::MpdDuration,
                    path,
                    format!(
                        "lasts {found} (timescale {}), the manifest says {expected}: stretched over a hole the recording names",
                        expect.timescale
                    ),
                    Some(json!(expected)),
                    Some(json!(found)),
                );
            } else if wrong(found) && presented.is_none_or(wrong) {
                self.report(
                    Check::MpdDuration,
                    path,
                    format!(
                        "lasts {found} (timescale {}), the manifest says {expected}",
                        expect.timescale
                    ),
                    Some(json!(expected)),
                    Some(json!(found)),
                );
            }
        }
    }
}
