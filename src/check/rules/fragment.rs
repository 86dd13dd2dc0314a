//! The checks of an init segment (codecs, timescale, protection) and of each movie fragment
//! (sequence numbers, track ids, sample descriptions, data ranges, sample encryption).

use serde_json::{Value, json};

use super::{BASE_IS_MOOF, RepresentationChecker};
use crate::check::facts::{FileFacts, Moof};
use crate::check::{Check, Severity, codecs};

impl RepresentationChecker<'_> {
    pub(super) fn check_init(&mut self, path: &str, part: usize) {
        let (plan, timing) = (self.parts[part].0.clone(), self.parts[part].1.clone());
        let entries: Vec<_> = self
            .tracks
            .iter()
            .flat_map(|t| t.entries.iter().cloned())
            .collect();
        if let Some(declared) = plan.codecs.as_deref() {
            for entry in &entries {
                if !codecs::matches(declared, entry) {
                    let found = codecs::describe(entry);
                    self.report(
                        Check::Codecs,
                        path,
                        format!(
                            "@codecs is \"{declared}\", the init segment's sample entry is {found}"
                        ),
                        Some(json!(declared)),
                        Some(json!(found)),
                    );
                }
            }
        }
        // A SegmentTimeline in another timescale than the media's is legal (ISO/IEC 23009-1
        // §5.3.9.6: times are in `@timescale`); the DASH-IF timing model recommends the
        // media's. A warning: the times are compared once converted, and `mpd-time` and
        // `mpd-duration` say where they do not agree.
        let gives_times = timing.timeline;
        if let Some(track) = self.tracks.first().filter(|_| self.tracks.len() == 1)
            && timing.explicit_timescale
            && gives_times
            && track.timescale != plan.timescale
        {
            let found = track.timescale;
            self.report_as(
                Severity::Warning,
                Check::Timescale,
                path,
                format!(
                    "the manifest's @timescale is {}, the init segment's mdhd timescale is {found}: times are compared once converted (the DASH-IF timing model recommends the media's timescale)",
                    plan.timescale
                ),
                Some(json!(plan.timescale)),
                Some(json!(found)),
            );
        }
        for entry in &entries {
            if entry.protected && !entry.tenc {
                let format = String::from_utf8_lossy(&entry.format).into_owned();
                self.report(
                    Check::Encryption,
                    path,
                    format!("encrypted sample entry {format} has no tenc"),
                    Some(json!("tenc")),
                    Some(Value::Null),
                );
            }
        }
    }

    /// The checks within one moof: track ids, sample descriptions, data ranges, encryption
    /// boxes, sequence numbers.
    pub(super) fn check_fragment(&mut self, path: &str, moof: &Moof, facts: &FileFacts) {
        if moof.damaged {
            // Reported as malformed: its fields are not compared.
            return;
        }
        if let Some(seq) = moof.sequence {
            match (self.sequence_before, self.last_sequence) {
                (Some(before), Some(previous)) if seq < previous && seq > before => {
                    // The previous number alone is out of the run: report it where it is.
                    let odd = std::mem::take(&mut self.sequence_path);
                    self.report(
                        Check::SequenceNumber,
                        &odd,
                        format!(
                            "sequence number {previous} is out of order: {before} before it, {seq} after it"
                        ),
                        Some(json!(before.saturating_add(1))),
                        Some(json!(previous)),
                    );
                    self.last_sequence = Some(seq);
                }
                (_, Some(previous)) if seq <= previous => {
                    self.report(
                        Check::SequenceNumber,
                        path,
                        format!(
                            "moof at byte {}: sequence number {seq} does not follow {previous}",
                            moof.offset
                        ),
                        Some(json!(previous.saturating_add(1))),
                        Some(json!(seq)),
                    );
                    self.sequence_before = self.last_sequence;
                    self.last_sequence = Some(seq);
                }
                _ => {
                    self.sequence_before = self.last_sequence;
                    self.last_sequence = Some(seq);
                }
            }
            self.sequence_path.clear();
            self.sequence_path.push_str(path);
        }
        let mut running = moof.offset;
        for traf in &moof.trafs {
            let track = self.tracks.iter().find(|t| t.id == traf.track_id).cloned();
            if track.is_none() && !self.tracks.is_empty() {
                let ids: Vec<u64> = self.tracks.iter().map(|t| t.id).collect();
                self.report(
                    Check::TrackId,
                    path,
                    format!(
                        "traf of track {} in the moof at byte {}; the init segment has tracks {ids:?}",
                        traf.track_id, moof.offset
                    ),
                    Some(json!(ids)),
                    Some(json!(traf.track_id)),
                );
            }
            let trex = track.as_ref().map(|t| t.defaults).unwrap_or_default();
            if let Some(track) = &track {
                let index = traf.defaults.description.or(trex.description).unwrap_or(1);
                let count = track.entries.len() as u64;
                if index == 0 || index > count {
                    self.report(
                        Check::SampleDescription,
                        path,
                        format!(
                            "sample description index {index} in track {}; stsd has {count} entries",
                            traf.track_id
                        ),
                        Some(json!(count)),
                        Some(json!(index)),
                    );
                }
            }
            // 14496-12 §8.8.7.1: the base is the tfhd's, else the moof (default-base-is-moof,
            // or the first traf), else where the previous traf's data ended.
            let base = traf.base_data_offset.unwrap_or(
                if traf.flags & BASE_IS_MOOF != 0 || std::ptr::eq(traf, &moof.trafs[0]) {
                    moof.offset
                } else {
                    running
                },
            );
            let default_size = traf.defaults.size.or(trex.size).unwrap_or(0);
            let mut next = base;
            let mut samples: u64 = 0;
            for trun in &traf.truns {
                let start = match trun.data_offset {
                    Some(d) => base.checked_add_signed(d).unwrap_or(0),
                    None => next,
                };
                let missing = trun.count.saturating_sub(trun.sizes.0);
                let bytes = trun
                    .sizes
                    .1
                    .saturating_add(missing.saturating_mul(default_size));
                let end = start.saturating_add(bytes);
                samples = samples.saturating_add(trun.count);
                next = end;
                // A file whose mdat is the damaged box (cut short, say) is reported as malformed.
                let no_mdat = !facts.top.iter().any(|b| &b.typ == b"mdat");
                if bytes == 0 || (no_mdat && !facts.malformed.is_empty()) {
                    continue;
                }
                let inside = facts.top.iter().any(|b| {
                    &b.typ == b"mdat"
                        && b.offset.saturating_add(b.header) <= start
                        && end <= b.offset.saturating_add(b.size)
                });
                if !inside {
                    let mdat = facts.top.iter().find(|b| &b.typ == b"mdat").map(|b| {
                        json!([
                            b.offset.saturating_add(b.header),
                            b.offset.saturating_add(b.size)
                        ])
                    });
                    self.report(
                        Check::DataRange,
                        path,
                        format!(
                            "trun of track {} in the moof at byte {}: sample data at bytes {start}..{end} is not inside an mdat",
                            traf.track_id, moof.offset
                        ),
                        Some(mdat.unwrap_or(Value::Null)),
                        Some(json!([start, end])),
                    );
                }
            }
            running = next;
            if let Some(n) = traf.senc
                && n != samples
            {
                self.report(
                    Check::Encryption,
                    path,
                    format!(
                        "senc of track {} describes {n} samples, trun has {samples}",
                        traf.track_id
                    ),
                    Some(json!(samples)),
                    Some(json!(n)),
                );
            }
            if let Some(n) = traf.saiz
                && n > 0
                && n != samples
            {
                self.report(
                    Check::Encryption,
                    path,
                    format!(
                        "saiz of track {} describes {n} samples, trun has {samples}",
                        traf.track_id
                    ),
                    Some(json!(samples)),
                    Some(json!(n)),
                );
            }
        }
    }
}
