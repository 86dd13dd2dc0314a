//! Segment indexes (`sidx`), byte-range representations checked through them, the
//! `@bandwidth` channel, and the checker's side of the walk.

use std::io;

use serde_json::{Value, json};

use super::{Channel, Expect, RepresentationChecker, convert_time, convert_up};
use crate::check::facts::{FileFacts, Moof};
use crate::check::{Check, Severity};
use crate::render::{Inspector, SegmentHeader, WalkSink};

/// A `sidx` reference to media, with what its fragments say.
struct Subsegment {
    index: usize,
    declared: u64,
    /// Its samples' durations, in the `sidx` timescale.
    decoded: u64,
    /// One sample.
    tolerance: u64,
    /// Its first fragment's earliest presentation time, in the `sidx` timescale.
    earliest: Option<i128>,
    /// The same of the fragment after it, where there is one in the file.
    next_earliest: Option<i128>,
}

impl RepresentationChecker<'_> {
    /// Whether a top-level box (well formed or not) starts at `pos`.
    fn box_starts_at(facts: &FileFacts, pos: u64) -> bool {
        facts.top.iter().any(|b| b.offset == pos) || facts.malformed.iter().any(|m| m.0 == pos)
    }

    /// The moofs whose first byte is in `start..end`.
    /// Whether every reference of every `sidx` starts at a box.
    pub(super) fn sidx_consistent(facts: &FileFacts) -> bool {
        facts.sidx.iter().all(|sidx| {
            let mut pos = sidx.references_start();
            sidx.references.iter().all(|r| {
                let ok = Self::box_starts_at(facts, pos);
                pos = pos.saturating_add(r.1);
                ok
            })
        })
    }

    /// (Moofs are in file order: two binary searches.)
    pub(super) fn moofs_in(facts: &FileFacts, start: u64, end: u64) -> Vec<&Moof> {
        let from = facts.moofs.partition_point(|m| m.offset < start);
        let to = facts.moofs.partition_point(|m| m.offset < end);
        facts.moofs[from..to.max(from)].iter().collect()
    }

    /// ISO/IEC 14496-12 §8.16.3: each reference starts where the previous one ended (the first
    /// `first_offset` bytes after the `sidx`), covers whole boxes and lasts
    /// `subsegment_duration`; the first starts at `earliest_presentation_time`.
    pub(super) fn check_sidx(&mut self, path: &str, size: u64, facts: &FileFacts, index: usize) {
        let sidx = facts.sidx[index].clone();
        let track = self.main().cloned();
        let anchor = sidx.references_start();
        let mut pos = anchor;
        let mut subsegments: Vec<Subsegment> = Vec::new();
        for (k, &(kind, bytes, duration, _)) in sidx.references.iter().enumerate() {
            if pos < size && !Self::box_starts_at(facts, pos) {
                self.report(
                    Check::Sidx,
                    path,
                    format!(
                        "sidx at byte {}: reference {k} starts at byte {pos}, where no box starts",
                        sidx.offset
                    ),
                    Some(json!("a box boundary")),
                    Some(json!(pos)),
                );
                return;
            }
            if kind == 0
                && let Some(track) = &track
                && track.timescale > 0
                && sidx.timescale > 0
            {
                let mut total = 0;
                let mut max_sample = 1;
                let mut first = None;
                let moofs = Self::moofs_in(facts, pos, pos.saturating_add(bytes));
                let damaged = moofs.iter().any(|m| m.damaged);
                for moof in moofs {
                    if let Some(run) = self.run(moof, track.id) {
                        total = run.duration.saturating_add(total);
                        max_sample = max_sample.max(run.max_sample);
                        first.get_or_insert(run);
                    }
                }
                // No fragment of the track there: the segment's own checks say why.
                if let Some(first) = first.filter(|_| !damaged) {
                    let earliest = first.decode_time.map(|t| {
                        convert_time(
                            i128::from(t) + i128::from(first.first_cto)
                                - i128::from(track.edit_shift.unwrap_or(0)),
                            track.timescale,
                            sidx.timescale,
                        )
                    });
                    // The next subsegment: the first fragment of the track after this one.
                    let next = Self::moofs_in(facts, pos.saturating_add(bytes), u64::MAX)
                        .into_iter()
                        .find_map(|m| self.run(m, track.id));
                    let next_earliest = next.and_then(|n| {
                        n.decode_time.map(|t| {
                            convert_time(
                                i128::from(t) + i128::from(n.first_cto)
                                    - i128::from(track.edit_shift.unwrap_or(0)),
                                track.timescale,
                                sidx.timescale,
                            )
                        })
                    });
                    subsegments.push(Subsegment {
                        index: k,
                        declared: duration,
                        decoded: convert_up(total, track.timescale, sidx.timescale),
                        tolerance: convert_up(max_sample, track.timescale, sidx.timescale),
                        earliest,
                        next_earliest,
                    });
                }
            }
            pos = pos.saturating_add(bytes);
        }
        // 14496-12 §8.16.3.3: a subsegment lasts from its earliest presentation time to the
        // next one's; without reordering across fragments that is its samples' durations.
        for sub in &subsegments {
            let by_samples = sub.decoded.abs_diff(sub.declared) <= sub.tolerance;
            let by_times = match (sub.earliest, sub.next_earliest) {
                (Some(this), Some(next)) => {
                    (next - this - i128::from(sub.declared)).abs() <= i128::from(sub.tolerance)
                }
                _ => false,
            };
            if !by_samples && !by_times {
                self.report(
                    Check::Sidx,
                    path,
                    format!(
                        "sidx at byte {}: reference {} lasts {} (timescale {}), its fragments last {}",
                        sidx.offset, sub.index, sub.declared, sidx.timescale, sub.decoded
                    ),
                    Some(json!(sub.declared)),
                    Some(json!(sub.decoded)),
                );
            }
        }
        if !facts.malformed.is_empty() {
            // A damaged file, reported: its extent says nothing more.
        } else if pos < size && !Self::box_starts_at(facts, pos) {
            self.report(
                Check::Sidx,
                path,
                format!(
                    "sidx at byte {}: its references end at byte {pos}, where no box starts",
                    sidx.offset
                ),
                Some(json!("a box boundary")),
                Some(json!(pos)),
            );
        } else if pos > size {
            self.report(
                Check::Sidx,
                path,
                format!(
                    "sidx at byte {}: its references end at byte {pos}, past the end of the file ({size} bytes)",
                    sidx.offset
                ),
                Some(json!(size)),
                Some(json!(pos)),
            );
        }
        let Some(track) = track.filter(|t| t.timescale > 0 && sidx.timescale > 0) else {
            return;
        };
        let first = Self::moofs_in(facts, anchor, u64::MAX)
            .into_iter()
            .find_map(|m| self.run(m, track.id));
        if let Some(run) = first
            && let Some(tfdt) = run.decode_time
        {
            let to_sidx = |t: i128| convert_time(t, track.timescale, sidx.timescale);
            let decode = to_sidx(i128::from(tfdt));
            let earliest = to_sidx(
                i128::from(tfdt) + i128::from(run.first_cto)
                    - i128::from(track.edit_shift.unwrap_or(0)),
            );
            let tolerance = i128::from(convert_up(
                run.max_sample.max(1),
                track.timescale,
                sidx.timescale,
            ));
            let expected = i128::from(sidx.earliest);
            if (decode - expected).abs() > tolerance && (earliest - expected).abs() > tolerance {
                self.report(
                    Check::Sidx,
                    path,
                    format!(
                        "sidx at byte {}: earliest_presentation_time is {expected}, the first fragment starts at {earliest} (tfdt {decode}, timescale {})",
                        sidx.offset, sidx.timescale
                    ),
                    Some(json!(sidx.earliest)),
                    Some(json!(earliest as i64)),
                );
            }
        }
    }

    /// A representation addressed as one resource (`SegmentBase`): its subsegments are the
    /// `sidx` references, each checked like a segment.
    pub(super) fn units_from_sidx(&mut self, path: &str, facts: &FileFacts, part: usize) {
        let mut first = true;
        for sidx in &facts.sidx {
            let mut pos = sidx.references_start();
            for &(kind, bytes, _, _) in &sidx.references {
                let end = pos.saturating_add(bytes);
                if kind == 0 {
                    let moofs = Self::moofs_in(facts, pos, end);
                    let expect = Expect {
                        part,
                        time: None,
                        duration: None,
                        timescale: sidx.timescale,
                        simple: false,
                        last_in_part: false,
                        jump: first,
                    };
                    first = false;
                    self.check_unit(path, bytes, &moofs, &expect);
                }
                pos = end;
            }
        }
    }

    /// ISO/IEC 23009-1 §5.3.5.2: over a channel of `@bandwidth` bits per second, starting at
    /// any segment, with playout `@minBufferTime` after the first bit, playout never waits for
    /// data. At the granularity of segments (sample sizes are summed, not kept): every segment
    /// is complete before its playout ends. Streaming: the worst lateness over every start.
    /// Returns the segment's margin: how long before its playout ends it is complete (the
    /// lateness, negated), when `@bandwidth` and `@minBufferTime` are known.
    pub(super) fn feed_channel(
        &mut self,
        part: usize,
        path: &str,
        bytes: u64,
        seconds: f64,
    ) -> Option<f64> {
        if self.channel.part != Some(part) {
            self.close_channel();
            self.channel = Channel {
                part: Some(part),
                min_term: f64::INFINITY,
                ..Channel::default()
            };
        }
        let (Some(bandwidth), Some(buffer)) = (
            self.parts[part].0.bandwidth.filter(|b| *b > 0),
            self.min_buffer_time,
        ) else {
            return None;
        };
        let c = &mut self.channel;
        c.min_term = c.min_term.min(c.delivered - c.played);
        c.delivered += bytes as f64 * 8.0 / bandwidth as f64;
        c.played += seconds;
        let late = (c.delivered - c.played) - c.min_term - buffer as f64 / 1e9;
        if late > c.worst {
            c.worst = late;
            c.worst_segment = path.to_string();
        }
        Some(-late)
    }

    /// Reports the worst lateness of the channel, if any.
    pub(super) fn close_channel(&mut self) {
        let channel = std::mem::take(&mut self.channel);
        let Some(part) = channel.part else {
            return;
        };
        // Below a millisecond is rounding.
        if channel.worst > 0.001 {
            let bandwidth = self.parts[part].0.bandwidth.unwrap_or(0);
            let buffer = self.min_buffer_time.unwrap_or(0) as f64 / 1e9;
            let late = (channel.worst * 1000.0).round() / 1000.0;
            self.report(
                Check::Bandwidth,
                &channel.worst_segment,
                format!(
                    "at @bandwidth {bandwidth} bit/s with @minBufferTime {buffer}s this segment is complete {late}s after its playout ends"
                ),
                Some(json!(0.0)),
                Some(json!(late)),
            );
        }
    }
}

impl WalkSink for RepresentationChecker<'_> {
    fn start_segment(&mut self, segment: &SegmentHeader<'_>) -> io::Result<()> {
        self.current = (segment.path.to_string(), segment.size);
        Ok(())
    }

    fn boxes(&mut self) -> &mut dyn Inspector {
        &mut self.inspector
    }

    fn end_segment(&mut self, read_error: Option<&str>) -> io::Result<()> {
        let facts = self.inspector.take();
        let (path, size) = std::mem::take(&mut self.current);
        self.events.progress(0, 0);
        match read_error {
            Some(reason) => {
                self.report(
                    Check::MissingSegment,
                    &path,
                    format!("cannot be read: {reason}"),
                    Some(json!(size)),
                    Some(Value::Null),
                );
                self.decode_end = None;
            }
            None => self.evaluate(&path, size, facts),
        }
        self.next_file();
        Ok(())
    }

    fn missing_segment(&mut self, path: &str, reason: &str) -> io::Result<()> {
        self.events.progress(0, 0);
        let parts: Vec<usize> = self
            .planned
            .get(path)
            .map(|p| p.iter().map(|p| p.part).collect())
            .unwrap_or_default();
        for part in parts {
            self.boundary(part).complete = false;
        }
        if let Some((start, end)) = self.covered_last_segment(path) {
            self.report_as(
                Severity::Warning,
                Check::MissingSegment,
                path,
                format!(
                    "cannot be read: {reason}; it is the last segment the manifest counts, nominally from {start}, and the media before it already runs to the Period's end ({end})"
                ),
                Some(json!("a file")),
                Some(json!(reason)),
            );
            self.decode_end = None;
            self.next_file();
            return Ok(());
        }
        self.report(
            Check::MissingSegment,
            path,
            format!("cannot be read: {reason}"),
            Some(json!("a file")),
            Some(json!(reason)),
        );
        self.decode_end = None;
        // The bandwidth channel does not run over a missing file as if the next one followed:
        // what was read so far is concluded, and the next file starts a new stretch.
        self.close_channel();
        self.next_file();
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}
