//! What the report keeps while the checker reads the presentation: per representation, sums,
//! peaks and thinned series; the findings, up to a cap. Nothing grows with the number of
//! segments past the caps.

use std::collections::{BTreeMap, HashMap};

use super::series::{Keep, Series};
use crate::check::{CheckEvents, Described, Finding, Measured, Severity};

/// Points drawn per series at most (past it, neighbouring segments share a point).
pub const POINTS: usize = 1024;
/// Findings listed in the page at most (the counts cover all).
pub const FINDINGS: usize = 2000;
/// Segments with findings given a section (and a box tree) at most.
pub const FINDING_SEGMENTS: usize = 100;
/// Holes of a timeline listed at most.
pub const HOLES: usize = 1000;
/// Media closer than this is continuous (rounding between timescales).
const HOLE_TOLERANCE: f64 = 0.001;

/// What was measured of one representation.
#[derive(Debug, Clone)]
pub struct Measures {
    /// The init segment's description of the main track.
    pub described: Option<Described>,
    /// Its init segment's path, as read.
    pub init: Option<String>,
    /// Media segments (or subsegments) measured.
    pub segments: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Their media duration, seconds.
    pub duration: f64,
    /// Samples of the main track.
    pub samples: u64,
    /// The highest segment bit rate, bits per second, and its segment.
    pub peak: Option<(f64, String)>,
    /// The worst margin of the `bandwidth` channel, seconds, and its segment.
    pub worst_margin: Option<(f64, String)>,
    /// Bit rate per segment.
    pub rates: Series,
    /// Duration per segment (with the nominal one).
    pub durations: Series,
    /// The `bandwidth` channel's margin per segment.
    pub margins: Series,
    /// Where presented media was found: the first start, the last end, and the holes between
    /// (seconds on the presentation timeline), at most [`HOLES`].
    pub span: Option<(f64, f64)>,
    /// Holes in the presented media: (from, to).
    pub holes: Vec<(f64, f64)>,
    /// Holes past [`HOLES`].
    pub more_holes: u64,
    /// Findings by severity.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Where the last segment ended (a segment without `tfdt` follows it).
    cursor: f64,
}

impl Default for Measures {
    fn default() -> Self {
        Measures {
            described: None,
            init: None,
            segments: 0,
            bytes: 0,
            duration: 0.0,
            samples: 0,
            peak: None,
            worst_margin: None,
            rates: Series::new(Keep::Max, POINTS),
            durations: Series::new(Keep::Extreme, POINTS),
            margins: Series::new(Keep::Min, POINTS),
            span: None,
            holes: Vec::new(),
            more_holes: 0,
            errors: 0,
            warnings: 0,
            cursor: 0.0,
        }
    }
}

impl Measures {
    /// Average bit rate over the media, bits per second.
    pub fn average_rate(&self) -> Option<f64> {
        (self.duration > 0.0).then(|| self.bytes as f64 * 8.0 / self.duration)
    }

    fn add(&mut self, m: &Measured<'_>, period_start: f64) {
        let start = m.start.map_or(self.cursor, |s| period_start + s);
        let end = start + m.duration;
        self.cursor = end;
        self.segments += 1;
        self.bytes += m.bytes;
        self.duration += m.duration;
        self.samples += m.samples;
        if m.duration > 0.0 {
            let rate = m.bytes as f64 * 8.0 / m.duration;
            if self.peak.as_ref().is_none_or(|(p, _)| rate > *p) {
                self.peak = Some((rate, m.segment.to_string()));
            }
            self.rates.push(start, rate, None);
        }
        self.durations.push(start, m.duration, m.nominal);
        if let Some(margin) = m.margin {
            if self.worst_margin.as_ref().is_none_or(|(w, _)| margin < *w) {
                self.worst_margin = Some((margin, m.segment.to_string()));
            }
            self.margins.push(start, margin, None);
        }
        self.span = Some(match self.span {
            None => (start, end),
            Some((first, last)) => {
                if start > last + HOLE_TOLERANCE {
                    if self.holes.len() < HOLES {
                        self.holes.push((last, start));
                    } else {
                        self.more_holes += 1;
                    }
                }
                (first.min(start), last.max(end))
            }
        });
    }
}

/// Receives the checker's events for the report.
#[derive(Debug, Default)]
pub struct Collector {
    /// Each Period's start, seconds (0 where unknown).
    pub period_starts: Vec<f64>,
    /// By representation id.
    pub representations: HashMap<String, Measures>,
    /// The first [`FINDINGS`] findings.
    pub findings: Vec<Finding>,
    /// Findings past them.
    pub more_findings: u64,
    /// Segments with findings, in the order first found: (representation, segment).
    pub finding_segments: Vec<(String, String)>,
    /// Findings per segment (counted for every finding).
    pub per_segment: BTreeMap<(String, String), (u64, u64)>,
    /// Where the checker got to.
    pub progress: (u64, u64),
}

impl CheckEvents for Collector {
    fn finding(&mut self, finding: &Finding) {
        let rep = self
            .representations
            .entry(finding.representation.clone())
            .or_default();
        match finding.severity {
            Severity::Error => rep.errors += 1,
            Severity::Warning => rep.warnings += 1,
        }
        let key = (finding.representation.clone(), finding.segment.clone());
        if !self.per_segment.contains_key(&key) && self.finding_segments.len() < FINDING_SEGMENTS {
            self.finding_segments.push(key.clone());
        }
        if self.per_segment.contains_key(&key) || self.per_segment.len() < FINDINGS {
            let counts = self.per_segment.entry(key).or_default();
            match finding.severity {
                Severity::Error => counts.0 += 1,
                Severity::Warning => counts.1 += 1,
            }
        }
        if self.findings.len() < FINDINGS {
            self.findings.push(finding.clone());
        } else {
            self.more_findings += 1;
        }
    }

    fn progress(&mut self, done: u64, total: u64) {
        self.progress = (done, total);
    }

    fn measured(&mut self, m: &Measured<'_>) {
        let period_start = self
            .period_starts
            .get(m.period_index)
            .copied()
            .unwrap_or(0.0);
        self.representations
            .entry(m.representation.to_string())
            .or_default()
            .add(m, period_start);
    }

    fn described(&mut self, representation: &str, segment: &str, described: &Described) {
        let rep = self
            .representations
            .entry(representation.to_string())
            .or_default();
        if rep.described.is_none() {
            rep.described = Some(described.clone());
            rep.init = Some(segment.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured<'a>(segment: &'a str, start: Option<f64>, bytes: u64) -> Measured<'a> {
        Measured {
            representation: "v",
            period_index: 1,
            adaptation_set_index: 0,
            segment,
            bytes,
            start,
            duration: 2.0,
            nominal: Some(2.0),
            samples: 48,
            margin: Some(1.0),
        }
    }

    #[test]
    fn sums_peaks_and_holes_on_the_presentation_timeline() {
        let mut c = Collector {
            period_starts: vec![0.0, 100.0],
            ..Collector::default()
        };
        c.measured(&measured("a", Some(0.0), 1000));
        c.measured(&measured("b", Some(2.0), 3000));
        // Four seconds missing, then a segment without tfdt: it follows the one before.
        c.measured(&measured("c", Some(8.0), 2000));
        c.measured(&measured("d", None, 2000));
        let m = &c.representations["v"];
        assert_eq!((m.segments, m.bytes, m.samples), (4, 8000, 192));
        assert_eq!(m.average_rate(), Some(8000.0));
        assert_eq!(m.peak, Some((12000.0, "b".to_string())));
        assert_eq!(m.span, Some((100.0, 112.0)));
        assert_eq!(m.holes, vec![(104.0, 108.0)]);
        let xs: Vec<f64> = m.rates.points().iter().map(|p| p.x).collect();
        assert_eq!(xs, vec![100.0, 102.0, 108.0, 110.0]);
    }
}
