//! When a recording is over, and what it reports: status lines, the summary, the files that
//! describe it.

use std::time::Instant;

use super::super::{
    LiveEvent, RecordError, RecordSummary, RecordingStatus, RepresentationSummary, StopReason,
    TrackStatus,
};
use super::{MANIFEST_EVERY, Session, seconds};
use crate::live::time::{UnixNanos, format_datetime};
use crate::live::{EndReason, LiveRepresentation, PresentationEnd};

impl Session<'_> {
    /// The selected tracks in presentation order (the Period they are first met in, then
    /// document order), each with the Representation of the latest Period that has it.
    fn tracks(&self) -> Vec<(String, &LiveRepresentation)> {
        let mut order: Vec<(String, &LiveRepresentation)> = Vec::new();
        for rep in self.selected_reps() {
            match order.iter_mut().find(|(track, _)| *track == rep.track) {
                Some(entry) => entry.1 = rep,
                None => order.push((rep.track.clone(), rep)),
            }
        }
        order
    }

    pub(super) fn status(&self, t: UnixNanos) {
        let ast = self.live.availability_start_time;
        let tracks = self
            .tracks()
            .into_iter()
            .map(|(track, rep)| {
                let edge = self
                    .selected_reps()
                    .filter(|r| r.track == track)
                    .filter_map(|r| self.live.live_edge(r, t).map(|s| s.end))
                    .max()
                    .unwrap_or(0);
                TrackStatus {
                    representation: rep.id.clone(),
                    edge: ast.saturating_add(edge),
                    recorded_to: self.ends.get(&track).map(|&e| ast.saturating_add(e)),
                    segments: self.counts.get(&track).copied().unwrap_or(0),
                    gaps: self
                        .gaps
                        .iter()
                        .filter(|g| g.representation == rep.id)
                        .count(),
                }
            })
            .collect();
        let by_duration = self
            .state
            .origin
            .filter(|_| self.options.duration.is_some())
            .map(|origin| ast.saturating_add(self.limit(origin)));
        let target = match (by_duration, self.options.until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.sink.event(&LiveEvent::Status(&RecordingStatus {
            now: t,
            tracks,
            target,
        }));
    }

    /// Why the recording is over at server time `t`, if it is.
    pub(super) fn finished(&self, t: UnixNanos) -> Option<StopReason> {
        let reps: Vec<&LiveRepresentation> = self
            .live
            .representations
            .iter()
            .filter(|r| self.selected(r))
            .collect();
        if self.options.duration.is_some()
            && let Some(origin) = self.state.origin
        {
            // Every track present in the span holds it, up to its Period's end where that comes
            // first (a track that does not go on into the next Period is complete there).
            let limit = self.limit(origin);
            let reached = reps
                .iter()
                .filter(|rep| self.in_span(rep, origin, limit))
                .filter(|rep| !self.refused.contains(&rep.track))
                .filter(|rep| !self.ended.contains_key(&super::stream_of(&self.live, rep)))
                .all(|rep| {
                    let needed = self.live.period_end(rep).map_or(limit, |e| e.min(limit));
                    self.ends.get(&rep.track).is_some_and(|&end| end >= needed)
                });
            // A segment of the span that failed and is still due is asked again first.
            let waiting = self.pending.values().any(|p| p.start < limit);
            if reached && !waiting && !reps.is_empty() {
                return Some(StopReason::Duration);
            }
        }
        if !reps.is_empty() && reps.iter().all(|r| self.refused.contains(&r.track)) {
            return Some(StopReason::Refused);
        }
        // Every track recorded its last segment (lmsg), and nothing before it is waited for.
        let in_span: Vec<&&LiveRepresentation> = match self.state.origin {
            Some(origin) => reps
                .iter()
                .filter(|r| self.in_span(r, origin, self.limit(origin)))
                .collect(),
            None => Vec::new(),
        };
        if !in_span.is_empty()
            && in_span.iter().all(|r| {
                self.ended.contains_key(&super::stream_of(&self.live, r))
                    || self.refused.contains(&r.track)
            })
            && self.pending.is_empty()
        {
            return Some(StopReason::LastSegment);
        }
        if !self.live.has_ended(t) || self.pending.values().any(|p| self.before_the_end(p.start)) {
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
            .filter(|(_, p)| self.before_the_end(p.start))
            .collect();
    }

    /// Writes the recording's static MPD (when it changed, at most about once a second unless
    /// `now`) and the state (when it changed), each atomically.
    pub(super) fn save(&mut self, now: bool) -> Result<(), RecordError> {
        let due = self
            .recording_written
            .is_none_or(|at| at.elapsed() >= MANIFEST_EVERY);
        if self.recording_dirty && (now || due) {
            // Atomically, through the output folder (a killed run leaves a whole manifest).
            self.out.write_atomic(
                std::path::Path::new(&self.manifest_name),
                self.recording.render().as_bytes(),
            )?;
            self.recording_dirty = false;
            self.recording_written = Some(Instant::now());
        }
        self.save_state()
    }

    /// Writes the state when it changed, atomically.
    pub(super) fn save_state(&mut self) -> Result<(), RecordError> {
        if self.saved_state.as_ref() != Some(&self.state) {
            self.state.save(&self.out)?;
            self.saved_state = Some(self.state.clone());
        }
        Ok(())
    }

    pub(super) fn summary(&self, stopped: StopReason) -> RecordSummary {
        let origin = self.state.origin.unwrap_or(0);
        let mut representations: Vec<RepresentationSummary> = Vec::new();
        // What the recording holds (tracks of Periods the manifest no longer lists included),
        // then the selected tracks of the manifest that hold nothing yet.
        let mut tracks = self.recorded_tracks.clone();
        for (track, rep) in self.tracks() {
            if !tracks.iter().any(|(t, _)| *t == track) {
                tracks.push((track, rep.id.clone()));
            }
        }
        for (track, id) in tracks {
            let end = self.ends.get(&track).copied().unwrap_or(origin).max(origin);
            let ast = self.live.availability_start_time;
            representations.push(RepresentationSummary {
                stream: id,
                segments: self.counts.get(&track).copied().unwrap_or(0),
                start_seconds: seconds(origin),
                end_seconds: seconds(end),
                start_time: format_datetime(ast.saturating_add(origin)),
                end_time: format_datetime(ast.saturating_add(end)),
            });
        }
        RecordSummary {
            manifest: self.manifest_name.clone(),
            downloaded_segments: self.downloaded,
            complete_segments: self.complete,
            bytes: self.bytes,
            gaps: self.gaps.clone(),
            representations,
            clock_offset_seconds: seconds(self.sync.offset),
            clock_uncertainty_seconds: seconds(i128::from(self.sync.uncertainty)),
            clock: self.sync.describe(),
            manifest_snapshots: self.archive.count(),
            manifest_traffic: self.traffic.clone(),
            lag: self.lag.summary().map(|mut lag| {
                lag.low_latency = self.selected_reps().any(|r| self.live.chunked(r));
                lag.availability_time_offset_seconds = self
                    .low_latency_offset()
                    .map_or(0.0, |n| seconds(i128::from(n)));
                lag.service_latency = self.live.attributes.latency.map(|l| l.describe());
                lag
            }),
            stopped,
            elapsed_seconds: self.started.elapsed().as_secs_f64(),
            check: None,
        }
    }
}
