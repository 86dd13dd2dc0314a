//! The recorded media segments of one Representation, kept as spans of back-to-back segments
//! whose files one template names: a span holds its first segment, its durations as a cycle
//! (one duration, or the pattern AAC frames give ~2-s segments: 96256, 95232, …), and its
//! naming, so that what a recording keeps in memory does not grow with its length where its
//! durations follow a pattern (and otherwise grows as its manifest's `S` elements do). Every
//! other segment's time, number, file and place on the presentation timeline is derived, and a
//! segment joins a span only when what is derived equals what was recorded.

use serde::{Deserialize, Serialize};

use super::availability::LiveSegment;
use super::window::ceil_div;
use crate::plan::template::{Identifier, Template, Values};

/// One recorded media segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedSegment {
    /// Media time in the Representation's timescale (`presentationTimeOffset` included), as in
    /// the live manifest.
    pub time: i64,
    /// Duration in the timescale.
    pub duration: u64,
    /// `$Number$` in the live presentation.
    pub number: u64,
    /// The file, relative to the manifest's folder, `/`-separated (in [`RecordedSegments`]: as
    /// a relative URL).
    pub path: String,
    /// Its start on the live presentation timeline, nanoseconds after AST (rounded down).
    #[serde(default)]
    pub start: i128,
    /// Its end there, clipped to its Period's end (rounded up).
    #[serde(default)]
    pub end: i128,
}

impl RecordedSegment {
    /// A live segment recorded at `path` (relative to the manifest's folder).
    pub fn of(segment: &LiveSegment, path: &str) -> RecordedSegment {
        RecordedSegment {
            time: segment.time,
            duration: segment.duration,
            number: segment.number,
            path: path.to_string(),
            start: segment.start,
            end: segment.end,
        }
    }
}

/// Where a Representation's media times are on the live presentation timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The Period's live start, nanoseconds after AST.
    pub period_start: u64,
    /// The timescale.
    pub timescale: u64,
    /// `@presentationTimeOffset`.
    pub presentation_time_offset: u64,
}

impl Clock {
    /// The start of a segment at `time`, as the live timing computes it (rounded down).
    pub fn start(&self, time: i64) -> i128 {
        let ticks = i128::from(time) - i128::from(self.presentation_time_offset);
        i128::from(self.period_start)
            + ticks
                .saturating_mul(1_000_000_000)
                .div_euclid(i128::from(self.timescale.max(1)))
    }

    /// The end of a segment at `time` lasting `duration`, not clipped (rounded up).
    pub fn end(&self, time: i64, duration: u64) -> i128 {
        let ticks =
            i128::from(time) + i128::from(duration) - i128::from(self.presentation_time_offset);
        i128::from(self.period_start)
            + ceil_div(
                ticks.saturating_mul(1_000_000_000),
                i128::from(self.timescale.max(1)),
            )
    }
}

/// How the files of a span after its first are named.
#[derive(Debug, Clone)]
struct Naming {
    text: String,
    template: Template,
}

impl Naming {
    /// A template that names `first` by its time (else by its number), if its path has one.
    fn around(first: &RecordedSegment) -> Vec<Naming> {
        [
            (Identifier::Time, first.time.to_string()),
            (Identifier::Number, first.number.to_string()),
        ]
        .into_iter()
        .filter_map(|(identifier, value)| {
            let text = template_around(&first.path, &value, identifier)?;
            let template = Template::compile(&text).ok()?;
            Some(Naming { text, template })
        })
        .collect()
    }

    fn name(&self, number: u64, time: i64) -> Option<String> {
        let values = Values {
            number: Some(number),
            time: Some(time),
            ..Values::default()
        };
        self.template.expand(&values).ok()
    }

    fn names(&self, s: &RecordedSegment) -> bool {
        self.name(s.number, s.time).as_deref() == Some(s.path.as_str())
    }
}

/// The longest cycle of durations a span learns; a stream of irregular durations makes a span
/// per this many segments.
const MAX_CYCLE: usize = 64;

/// A span's durations: `cycle` repeated, `count` of them.
#[derive(Debug, Clone)]
struct Durations {
    cycle: Vec<u64>,
    count: u64,
}

impl Durations {
    fn at(&self, j: u64) -> u64 {
        self.cycle[(j % self.cycle.len() as u64) as usize]
    }

    /// Appends `d` if the cycle continues with it, or learns a longer cycle while short.
    fn push(&mut self, d: u64) -> bool {
        if self.at(self.count) != d {
            let Ok(n) = usize::try_from(self.count) else {
                return false;
            };
            if n >= MAX_CYCLE {
                return false;
            }
            let mut cycle: Vec<u64> = (0..self.count).map(|j| self.at(j)).collect();
            cycle.push(d);
            self.cycle = cycle;
        }
        self.count += 1;
        true
    }
}

/// Back-to-back segments (each starts where the one before ends, numbers one after another).
#[derive(Debug, Clone)]
struct Span {
    first: RecordedSegment,
    /// The durations in order.
    durations: Durations,
    count: u64,
    /// How `$Number$` grows from one segment to the next: 1, or 0 (an origin that numbers a
    /// `$Time$` timeline from its window's start on every refresh).
    number_step: u64,
    /// The last segment's start time and (clipped) end.
    last_time: i64,
    last_end: i128,
    naming: Option<Naming>,
}

impl Span {
    fn of(segment: RecordedSegment) -> Span {
        Span {
            durations: Durations {
                cycle: vec![segment.duration],
                count: 1,
            },
            count: 1,
            number_step: 1,
            last_time: segment.time,
            last_end: segment.end,
            first: segment,
            naming: None,
        }
    }

    fn number(&self, j: u64) -> u64 {
        self.first
            .number
            .saturating_add(j.saturating_mul(self.number_step))
    }

    fn last_duration(&self) -> u64 {
        self.durations.at(self.count - 1)
    }

    /// Where the next segment would start, in the timescale.
    fn end_time(&self) -> i128 {
        i128::from(self.last_time) + i128::from(self.last_duration())
    }

    /// Appends `next` when it continues this span exactly; gives it back otherwise.
    #[must_use]
    fn absorb(&mut self, next: Span, clock: &Clock) -> Option<Span> {
        let last_number = self.number(self.count - 1);
        let step = if self.count == 1 {
            next.first.number.wrapping_sub(last_number)
        } else {
            self.number_step
        };
        let continues = i128::from(next.first.time) == self.end_time()
            && (step == 0 || step == 1)
            && last_number.checked_add(step) == Some(next.first.number)
            && (next.count == 1 || next.number_step == step)
            && self.last_end == clock.end(self.last_time, self.last_duration())
            && next.first.start == clock.start(next.first.time);
        if !continues {
            return Some(next);
        }
        let candidates = match &self.naming {
            Some(naming) => vec![naming.clone()],
            None => Naming::around(&self.first),
        };
        let naming = candidates.into_iter().find(|n| {
            n.names(&self.first)
                && n.names(&next.first)
                && next.naming.as_ref().is_none_or(|m| m.text == n.text)
        });
        let Some(naming) = naming else {
            return Some(next);
        };
        let mut durations = self.durations.clone();
        if !(0..next.count).all(|j| durations.push(next.durations.at(j))) {
            return Some(next);
        }
        self.durations = durations;
        self.count += next.count;
        self.number_step = step;
        self.last_time = next.last_time;
        self.last_end = next.last_end;
        self.naming = Some(naming);
        None
    }

    /// Its segments, in order.
    fn segments<'a>(&'a self, clock: &'a Clock) -> impl Iterator<Item = RecordedSegment> + 'a {
        let mut time = i128::from(self.first.time);
        (0..self.count).map(move |j| {
            let duration = self.durations.at(j);
            let at = i64::try_from(time).unwrap_or(i64::MAX);
            time += i128::from(duration);
            if j == 0 {
                return self.first.clone();
            }
            let number = self.number(j);
            RecordedSegment {
                time: at,
                duration,
                number,
                path: self
                    .naming
                    .as_ref()
                    .and_then(|n| n.name(number, at))
                    .unwrap_or_default(),
                start: clock.start(at),
                end: if j + 1 == self.count {
                    self.last_end
                } else {
                    clock.end(at, duration)
                },
            }
        })
    }
}

/// A Representation's recorded segments, in time order, one per time.
#[derive(Debug, Clone, Default)]
pub struct RecordedSegments {
    spans: Vec<Span>,
    len: u64,
}

impl RecordedSegments {
    /// How many.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many spans hold them (what the memory they take grows with).
    pub fn spans(&self) -> usize {
        self.spans.len()
    }

    /// The first.
    pub fn first(&self) -> Option<&RecordedSegment> {
        self.spans.first().map(|s| &s.first)
    }

    /// The latest end of a segment.
    pub fn end(&self) -> Option<i128> {
        self.spans.iter().map(|s| s.last_end).max()
    }

    /// Every segment, in time order, one at a time.
    pub fn iter<'a>(&'a self, clock: &'a Clock) -> impl Iterator<Item = RecordedSegment> + 'a {
        self.spans.iter().flat_map(move |s| s.segments(clock))
    }

    /// Records a segment; one at a time already recorded is replaced.
    pub fn insert(&mut self, segment: RecordedSegment, clock: &Clock) {
        let time = i128::from(segment.time);
        let at = self
            .spans
            .partition_point(|s| i128::from(s.first.time) <= time);
        let inside = at.checked_sub(1).filter(|&i| {
            time < self.spans[i].end_time() || self.spans[i].first.time == segment.time
        });
        match inside {
            Some(i) => {
                // Within a span (a replacement, or an overlap): taken apart around it.
                let span = self.spans.remove(i);
                let mut pieces: Vec<RecordedSegment> = span.segments(clock).collect();
                self.len -= span.count;
                match pieces.binary_search_by_key(&segment.time, |s| s.time) {
                    Ok(k) => pieces[k] = segment,
                    Err(k) => pieces.insert(k, segment),
                }
                let mut rebuilt: Vec<Span> = Vec::new();
                for piece in pieces {
                    self.len += 1;
                    let single = Span::of(piece);
                    match rebuilt.last_mut() {
                        Some(last) => {
                            if let Some(single) = last.absorb(single, clock) {
                                rebuilt.push(single);
                            }
                        }
                        None => rebuilt.push(single),
                    }
                }
                let n = rebuilt.len();
                self.spans.splice(i..i, rebuilt);
                self.merge_at(i + n, clock);
                self.merge_at(i, clock);
            }
            None => {
                self.len += 1;
                self.spans.insert(at, Span::of(segment));
                self.merge_at(at + 1, clock);
                self.merge_at(at, clock);
            }
        }
    }

    /// Joins span `i` to span `i - 1` when it continues it.
    fn merge_at(&mut self, i: usize, clock: &Clock) {
        if i == 0 || i >= self.spans.len() {
            return;
        }
        let next = self.spans.remove(i);
        if let Some(next) = self.spans[i - 1].absorb(next, clock) {
            self.spans.insert(i, next);
        }
    }
}

/// `path` with the last whole run of digits that reads `value` replaced by the identifier
/// (`$Number%05d$` when the run is zero-padded).
pub(crate) fn template_around(path: &str, value: &str, identifier: Identifier) -> Option<String> {
    let bytes = path.as_bytes();
    let mut end = path.len();
    while let Some(at) = path[..end].rfind(value) {
        let stop = at + value.len();
        let mut start = at;
        while start > 0 && bytes[start - 1] == b'0' {
            start -= 1;
        }
        let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        let whole = (start == 0 || !digit(start - 1)) && !digit(stop);
        if whole && !value.starts_with('-') {
            let name = match identifier {
                Identifier::Time => "Time",
                _ => "Number",
            };
            let tag = if start < at {
                format!("${name}%0{}d$", stop - start)
            } else {
                format!("${name}$")
            };
            return Some(format!("{}{tag}{}", &path[..start], &path[stop..]));
        }
        if at == 0 {
            return None;
        }
        end = at + value.len() - 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOCK: Clock = Clock {
        period_start: 5_000_000_000,
        timescale: 48_000,
        presentation_time_offset: 96_000,
    };

    /// Segment `n` of a stream of AAC-like durations (1024-sample frames in 2-s segments:
    /// 96256, 95232, 96256, …), named by number, zero-padded.
    fn segment(n: u64) -> RecordedSegment {
        let duration = |k: u64| if k.is_multiple_of(2) { 96_256 } else { 95_232 };
        let time = 96_000 + (0..n).map(duration).sum::<u64>() as i64;
        RecordedSegment {
            time,
            duration: duration(n),
            number: n + 1,
            path: format!("audio/seg-{:05}.m4s", n + 1),
            start: CLOCK.start(time),
            end: CLOCK.end(time, duration(n)),
        }
    }

    /// The naive model: a sorted list, one entry per time.
    fn model(segments: &[RecordedSegment]) -> Vec<RecordedSegment> {
        let mut out: Vec<RecordedSegment> = Vec::new();
        for s in segments {
            match out.binary_search_by_key(&s.time, |m| m.time) {
                Ok(i) => out[i] = s.clone(),
                Err(i) => out.insert(i, s.clone()),
            }
        }
        out
    }

    #[test]
    fn back_to_back_segments_are_one_span_however_many() {
        let mut store = RecordedSegments::default();
        let all: Vec<_> = (0..10_000).map(segment).collect();
        for s in &all {
            store.insert(s.clone(), &CLOCK);
        }
        assert_eq!((store.len(), store.spans()), (10_000, 1));
        assert_eq!(store.iter(&CLOCK).collect::<Vec<_>>(), all);
    }

    #[test]
    fn a_timeline_numbered_from_its_window_on_each_refresh_is_one_span_too() {
        // `$Time$` names; the origin gave every segment the same `$Number$`.
        let mut store = RecordedSegments::default();
        let all: Vec<_> = (0..50)
            .map(|n| {
                let mut s = segment(n * 2);
                s.duration = 96_256;
                s.time = 96_000 + n as i64 * 96_256;
                s.number = 24;
                s.path = format!("v/t{}.m4s", s.time);
                s.start = CLOCK.start(s.time);
                s.end = CLOCK.end(s.time, s.duration);
                s
            })
            .collect();
        for s in all.iter().rev() {
            store.insert(s.clone(), &CLOCK);
        }
        assert_eq!(store.spans(), 1);
        assert_eq!(store.iter(&CLOCK).collect::<Vec<_>>(), all);
    }

    #[test]
    fn any_order_holes_replacements_and_odd_names_give_what_was_recorded() {
        // A pseudo-random order (a fixed LCG), every fifth segment missing (holes), some
        // recorded twice (the second under another name), one clipped by its Period's end, one
        // overlapping another.
        let mut order: Vec<u64> = (0..400).filter(|n| n % 5 != 3).collect();
        let mut state = 12345u64;
        for i in (1..order.len()).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut inserted = Vec::new();
        let mut store = RecordedSegments::default();
        for (k, n) in order.iter().enumerate() {
            let mut s = segment(*n);
            if n % 37 == 0 {
                s.path = format!("elsewhere/{n}.m4s");
            }
            if *n == 200 {
                s.end -= 1000;
            }
            if k % 50 == 0 {
                let mut overlap = s.clone();
                overlap.time += 10;
                overlap.start = CLOCK.start(overlap.time);
                overlap.path = "overlap.m4s".into();
                store.insert(overlap.clone(), &CLOCK);
                inserted.push(overlap);
            }
            store.insert(s.clone(), &CLOCK);
            inserted.push(s);
            if k % 7 == 0 {
                let mut again = segment(*n);
                again.path = format!("again/{n}.m4s");
                store.insert(again.clone(), &CLOCK);
                inserted.push(again);
            }
            let want = model(&inserted);
            assert_eq!(store.len() as usize, want.len(), "after {k} insertions");
        }
        let want = model(&inserted);
        assert_eq!(store.iter(&CLOCK).collect::<Vec<_>>(), want);
        // Spans break exactly where something does not continue: a hole, an overlap, a file
        // named otherwise, an end clipped short.
        let ordinary = |s: &RecordedSegment| s.path.starts_with("audio/seg-");
        let breaks = want
            .windows(2)
            .filter(|w| {
                let (a, b) = (&w[0], &w[1]);
                b.time != a.time + a.duration as i64
                    || b.number != a.number + 1
                    || a.end != CLOCK.end(a.time, a.duration)
                    || !ordinary(a)
                    || !ordinary(b)
            })
            .count();
        assert_eq!(store.spans(), breaks + 1);
    }
}
