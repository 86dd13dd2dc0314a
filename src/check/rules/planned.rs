//! Which planned segments each file of a representation holds, computed in plan order as the
//! files are read: the checker keeps the entries of the file it is reading, not an index of the
//! whole presentation, so its memory does not grow with the number of segments. Only files that
//! several segments share out of order (several Periods naming them) have their entries
//! gathered ahead, in one extra pass over the plan.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Planned;
use crate::check::manifest::RepresentationTiming;
use crate::discover::{FileStarts, Place, SegmentFile, display_path};
use crate::plan::{Plan, RepresentationPlan, Segment, SegmentKind, Segments};

/// What `Planned` needs of the segments before it in its Period.
struct PartWalk {
    part: usize,
    timeline: bool,
    presentation_time_offset: i128,
    media_count: usize,
    seen: usize,
    previous_end: Option<i128>,
}

impl PartWalk {
    fn new(part: usize, plan: &RepresentationPlan, timing: &RepresentationTiming) -> PartWalk {
        PartWalk {
            part,
            timeline: timing.timeline,
            presentation_time_offset: i128::from(timing.presentation_time_offset),
            media_count: plan
                .segments()
                .filter(|s| s.kind == SegmentKind::Media)
                .count(),
            seen: 0,
            previous_end: None,
        }
    }

    /// The next segment of the Period, as the checks expect it.
    fn planned(&mut self, segment: &Segment) -> Planned {
        let media = segment.kind == SegmentKind::Media;
        let time = segment.time.map(|t| {
            let t = i128::from(t);
            if self.timeline {
                t
            } else {
                t + self.presentation_time_offset
            }
        });
        // Only a timeline can signal a gap; `@duration` segments follow each other.
        let jump = match (self.previous_end, time) {
            (Some(end), Some(t)) => self.timeline && end != t,
            _ => true,
        };
        if media {
            self.seen += 1;
            self.previous_end = time.zip(segment.duration).map(|(t, d)| t + i128::from(d));
        }
        Planned {
            part: self.part,
            kind: segment.kind,
            range: segment.range,
            time,
            duration: segment.duration,
            last_in_part: media && self.seen == self.media_count,
            jump,
        }
    }
}

/// The files of a representation, each once and in plan order (by the rule
/// [`crate::discover::local_files`] lists them by, [`FileStarts`]), with the planned segments
/// each holds.
pub(crate) struct PlannedFiles<'a> {
    parts: &'a [(Arc<RepresentationPlan>, RepresentationTiming)],
    folder: &'a Path,
    /// Entries of the files the plan says several segments share, gathered ahead.
    shared: HashMap<u128, Vec<Planned>>,
    starts: FileStarts<'a>,
    part: usize,
    segments: Option<Segments<'a>>,
    walk: Option<PartWalk>,
    /// The file being gathered (a run of segments in one file), and whether its entries were
    /// all gathered ahead.
    pending: Option<(PathBuf, Vec<Planned>, bool)>,
}

impl<'a> PlannedFiles<'a> {
    /// The files of the representation whose Periods are `parts` (with their timings), under
    /// `folder`.
    pub(crate) fn new(
        plan: &'a Plan,
        parts: &'a [(Arc<RepresentationPlan>, RepresentationTiming)],
        folder: &'a Path,
    ) -> PlannedFiles<'a> {
        let mut shared: HashMap<u128, Vec<Planned>> = HashMap::new();
        for (index, (rep, timing)) in parts.iter().enumerate() {
            let mut walk = PartWalk::new(index, rep, timing);
            for segment in rep.segments() {
                let planned = walk.planned(&segment);
                if let Some((key, _)) = plan.shared_file(&segment.path) {
                    shared.entry(key).or_default().push(planned);
                }
            }
        }
        PlannedFiles {
            parts,
            folder,
            shared,
            starts: FileStarts::new(plan),
            part: 0,
            segments: None,
            walk: None,
            pending: None,
        }
    }

    fn file(&self, path: &Path, entries: Vec<Planned>) -> (SegmentFile, Vec<Planned>) {
        (
            SegmentFile {
                display_path: display_path(path),
                fs_path: self.folder.join(path),
            },
            entries,
        )
    }

    /// The next segment of the plan, with its entry (moving on to the next Period as needed).
    fn next_segment(&mut self) -> Option<(Segment, Planned)> {
        loop {
            if let (Some(segments), Some(walk)) = (self.segments.as_mut(), self.walk.as_mut())
                && let Some(segment) = segments.next()
            {
                let planned = walk.planned(&segment);
                return Some((segment, planned));
            }
            let (rep, timing) = self.parts.get(self.part)?;
            self.segments = Some(rep.segments());
            self.walk = Some(PartWalk::new(self.part, rep, timing));
            self.part += 1;
        }
    }
}

impl Iterator for PlannedFiles<'_> {
    type Item = (SegmentFile, Vec<Planned>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some((segment, planned)) = self.next_segment() else {
                let (path, entries, _) = self.pending.take()?;
                return Some(self.file(&path, entries));
            };
            let place = self.starts.place(&segment.path);
            if place == Place::Continues {
                // A run of segments in one file (byte ranges).
                if let Some((_, entries, false)) = self.pending.as_mut() {
                    entries.push(planned);
                }
                continue;
            }
            let ready = self.pending.take();
            match place {
                // Read once, where it first appears, with every segment of it.
                Place::Begins(Some(key)) => {
                    let entries = self.shared.remove(&key).unwrap_or_default();
                    self.pending = Some((segment.path, entries, true));
                }
                Place::Begins(None) => self.pending = Some((segment.path, vec![planned], false)),
                Place::Seen | Place::Continues => {}
            }
            if let Some((path, entries, _)) = ready {
                return Some(self.file(&path, entries));
            }
        }
    }
}
