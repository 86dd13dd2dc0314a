//! When a recording is over, and what it reports: status lines, the summary, the files that
//! describe it.

use std::collections::HashMap;

use super::super::state::stream_key;
use super::super::{LiveEvent, RecordError, RecordSummary, RepresentationSummary, StopReason};
use super::{Session, seconds};
use crate::live::time::UnixNanos;
use crate::live::{EndReason, LiveRepresentation, PresentationEnd, SegmentId, SegmentKey};

impl Session<'_> {
    pub(super) fn status(&self, t: UnixNanos) {
        let lines: Vec<(String, f64, f64, usize, usize)> = self
            .live
            .representations
            .iter()
            .filter(|r| self.selected(r))
            .map(|rep| {
                let stream = self.stream_of(rep);
                let edge = self.live.live_edge(rep, t).map_or(0, |s| s.end);
                let end = self.state.ends.get(&stream).copied().unwrap_or(0);
                let count = self.counts.get(&stream).copied().unwrap_or(0);
                let gaps = self
                    .state
                    .gaps
                    .iter()
                    .filter(|g| g.segment.starts_with(&format!("{stream}/")))
                    .count();
                (stream, seconds(edge), seconds(end.max(0)), count, gaps)
            })
            .collect();
        self.sink.event(&LiveEvent::Status(&lines));
    }

    /// Why the recording is over at server time `t`, if it is.
    pub(super) fn finished(&self, t: UnixNanos) -> Option<StopReason> {
        let reps: Vec<&LiveRepresentation> = self
            .live
            .representations
            .iter()
            .filter(|r| self.selected(r))
            .collect();
        if let Some(duration) = self.options.duration {
            let reached = reps.iter().all(|rep| {
                let stream = self.stream_of(rep);
                let Some(&start) = self.state.starts.get(&stream) else {
                    return false;
                };
                self.state
                    .ends
                    .get(&stream)
                    .is_some_and(|&end| end >= start.saturating_add(duration.as_nanos() as i128))
            });
            if reached && !reps.is_empty() {
                return Some(StopReason::Duration);
            }
        }
        if !self.live.has_ended(t) || self.pending.values().any(|p| self.before_the_end(p.1)) {
            return None;
        }
        if self
            .live
            .attributes
            .availability_end_time
            .is_some_and(|a| a.instant <= t)
        {
            return Some(StopReason::AvailabilityEnd);
        }
        Some(match self.live.end() {
            PresentationEnd::Static => StopReason::Static,
            PresentationEnd::At {
                reason: EndReason::MediaPresentationDuration | EndReason::LastPeriodDuration,
                ..
            }
            | PresentationEnd::Open => StopReason::MediaEnd,
        })
    }

    /// Whether a segment starting at `start` lies before the end the manifest now gives (all
    /// do while it gives none).
    pub(super) fn before_the_end(&self, start: i128) -> bool {
        let end = match self.live.end() {
            PresentationEnd::At { end, .. } => Some(end),
            PresentationEnd::Static => self.live.media_presentation_duration.or_else(|| {
                let last = self.live.periods.last()?;
                last.duration.map(|d| last.start.saturating_add(d))
            }),
            PresentationEnd::Open => None,
        };
        end.is_none_or(|end| start < i128::from(end))
    }

    /// Drops the failed segments that start after the end the manifest now gives: counted from
    /// the clock before the end was known, they never existed.
    pub(super) fn forget_past_the_end(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.pending = pending
            .into_iter()
            .filter(|(_, p)| self.before_the_end(p.1))
            .collect();
    }

    /// Writes the recording's static MPD and the state, atomically.
    pub(super) fn save(&self) -> Result<(), RecordError> {
        let path = self.out.root().join(&self.manifest_name);
        self.state
            .recording
            .write(&path)
            .map_err(|e| RecordError::Io {
                path: e.path,
                source: e.source,
            })?;
        self.state
            .save(self.out.root())
            .map_err(|source| RecordError::Io {
                path: super::super::state::state_path(self.out.root()),
                source,
            })
    }

    pub(super) fn summary(&self, stopped: StopReason) -> RecordSummary {
        let mut recorded: HashMap<String, usize> = HashMap::new();
        for period in &self.state.recording.periods {
            for set in &period.adaptation_sets {
                for rep in &set.representations {
                    let stream = stream_key(&SegmentId {
                        period: period.id.clone(),
                        adaptation_set: set.id.clone(),
                        representation: rep.id.clone(),
                        key: SegmentKey::Number(0),
                    });
                    recorded.insert(stream, rep.segments.len());
                }
            }
        }
        let representations = self
            .state
            .starts
            .iter()
            .map(|(stream, &start)| {
                let end = self.state.ends.get(stream).copied().unwrap_or(start);
                let segments = recorded.get(stream).copied().unwrap_or(0);
                RepresentationSummary {
                    stream: stream.clone(),
                    segments,
                    start_seconds: seconds(start),
                    end_seconds: seconds(end.max(start)),
                }
            })
            .collect();
        RecordSummary {
            manifest: self.manifest_name.clone(),
            downloaded_segments: self.downloaded,
            complete_segments: self.complete,
            bytes: self.bytes,
            gaps: self.state.gaps.clone(),
            representations,
            clock_offset_seconds: seconds(self.sync.offset),
            clock_uncertainty_seconds: seconds(i128::from(self.sync.uncertainty)),
            clock: self.sync.describe(),
            manifest_snapshots: self.archive.count(),
            stopped,
            elapsed_seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}
