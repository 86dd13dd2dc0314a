//! The geometry of the report's charts: scales, ticks, and every mark in SVG user units, ready
//! for the template to draw (which escapes whatever text they carry).

use std::fmt::Write as _;

use super::series::Point;

/// Width and height of a chart, in SVG user units (the page scales it).
pub const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 45.0;
/// Height of one row of a timeline.
const ROW: f64 = 26.0;

/// A tick on an axis: where, and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Position in user units.
    pub at: f64,
    /// The label.
    pub label: String,
}

/// A point of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    /// Position.
    pub x: f64,
    /// Position.
    pub y: f64,
    /// What it stands for, in words (a tooltip, and what a screen reader says).
    pub label: String,
    /// Its time in seconds, to the microsecond (for scripts: `data-t`).
    pub t: String,
    /// Its value, to six decimals (for scripts: `data-v`).
    pub v: String,
}

/// One series: its line through its points, and a dashed line of its nominal values.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its name in the legend.
    pub name: String,
    /// Colour index (CSS class `c{n}`).
    pub colour: usize,
    /// The points.
    pub dots: Vec<Dot>,
    /// `points` of the polyline through them.
    pub path: String,
    /// `points` of the dashed polyline of nominal values, if any.
    pub nominal: Option<String>,
    /// Segments per point (1 when not thinned).
    pub per_point: u64,
}

/// A horizontal reference line (`@bandwidth`, zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Position.
    pub y: f64,
    /// Colour index.
    pub colour: usize,
    /// Its label.
    pub label: String,
}

/// A bar of a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Position and size.
    pub x: f64,
    /// Position.
    pub y: f64,
    /// Size.
    pub width: f64,
    /// Size.
    pub height: f64,
    /// Media (`true`) or a hole.
    pub media: bool,
    /// What it is, in words.
    pub label: String,
}

/// A chart, laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Its element id.
    pub id: String,
    /// What it shows (also its SVG `<title>`).
    pub title: String,
    /// Its key figures in words (its SVG `<desc>` and the caption).
    pub summary: String,
    /// Kind, as a CSS class (`bitrate`, `durations`, `buffer`, `timeline`).
    pub kind: &'static str,
    /// Size in user units.
    pub width: f64,
    /// Size in user units.
    pub height: f64,
    /// The plot area: left, top, right, bottom.
    pub left: f64,
    /// The plot area.
    pub top: f64,
    /// The plot area.
    pub right: f64,
    /// The plot area.
    pub bottom: f64,
    /// Ticks of the time axis.
    pub x_ticks: Vec<Tick>,
    /// Ticks of the value axis.
    pub y_ticks: Vec<Tick>,
    /// What the value axis measures.
    pub y_label: String,
    /// The series.
    pub lines: Vec<Line>,
    /// Reference lines.
    pub rules: Vec<Rule>,
    /// Timeline bars.
    pub bars: Vec<Bar>,
    /// Row labels of a timeline: (y, label).
    pub rows: Vec<(f64, String)>,
}

/// A linear scale from a domain onto a range of user units.
#[derive(Debug, Clone, Copy)]
struct Scale {
    from: (f64, f64),
    to: (f64, f64),
}

impl Scale {
    fn at(&self, v: f64) -> f64 {
        let span = self.from.1 - self.from.0;
        let t = if span > 0.0 {
            (v - self.from.0) / span
        } else {
            0.5
        };
        round(self.to.0 + t * (self.to.1 - self.to.0))
    }
}

/// A tenth of a user unit is finer than any screen shows, and keeps the page small.
fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// About `count` round tick values covering `[low, high]` (steps of 1, 2 or 5 × 10^k), and the
/// domain widened to the outer ticks.
fn ticks(low: f64, high: f64, count: usize) -> (Vec<f64>, (f64, f64)) {
    let (low, high) = if high > low {
        (low, high)
    } else {
        (low - 1.0, low + 1.0)
    };
    let rough = (high - low) / count.max(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).floor() * step;
    let last = (high / step).ceil() * step;
    let n = ((last - first) / step).round() as usize;
    let values = (0..=n).map(|i| first + i as f64 * step).collect();
    (values, (first, last))
}

/// The ticks of a time axis.
fn time_ticks(values: &[f64], scale: Scale) -> Vec<Tick> {
    values
        .iter()
        .map(|v| Tick {
            at: scale.at(*v),
            label: clock(*v),
        })
        .collect()
}

/// Seconds as `1:05:03`, `2:03` or `4.5 s`.
pub fn clock(seconds: f64) -> String {
    if seconds.abs() < 60.0 {
        return format!("{} s", trim(seconds, 1));
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let total = seconds.abs().round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{sign}{h}:{m:02}:{s:02}")
    } else {
        format!("{sign}{m}:{s:02}")
    }
}

/// A number with at most `decimals` decimals, trailing zeros dropped.
pub fn trim(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A bit rate in the unit that suits it: `2.35 Mb/s`, `128 kb/s`.
pub fn rate(bits: f64) -> String {
    if bits >= 1e6 {
        format!("{} Mb/s", trim(bits / 1e6, 2))
    } else {
        format!("{} kb/s", trim(bits / 1e3, 1))
    }
}

/// A series to draw: its name and points.
pub struct SeriesData<'a> {
    /// Its name.
    pub name: &'a str,
    /// Colour index.
    pub colour: usize,
    /// Its points (x in seconds).
    pub points: &'a [Point],
    /// Segments per point.
    pub per_point: u64,
}

/// A line chart over the presentation's time.
pub struct LineSpec<'a> {
    /// Element id.
    pub id: String,
    /// Kind (CSS class).
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// Key figures in words.
    pub summary: String,
    /// The value axis: its label, and how its values print.
    pub y_label: &'a str,
    /// Formats a value of the value axis.
    pub format: &'a dyn Fn(f64) -> String,
    /// Whether the value axis starts at zero.
    pub from_zero: bool,
    /// The series.
    pub series: Vec<SeriesData<'a>>,
    /// Reference lines: (value, colour, label).
    pub rules: Vec<(f64, usize, String)>,
    /// Draws each series' nominal values as a dashed line.
    pub nominal: bool,
    /// Where the time axis ends at the earliest (the end of the last segment: points stand
    /// at segment starts).
    pub x_end: Option<f64>,
}

/// Lays out a line chart.
pub fn line_chart(spec: LineSpec<'_>) -> Chart {
    let all = || spec.series.iter().flat_map(|s| s.points.iter());
    let xs = || all().map(|p| p.x);
    let ys = all()
        .map(|p| p.y)
        .chain(spec.rules.iter().map(|r| r.0))
        .chain(all().filter(|_| spec.nominal).filter_map(|p| p.nominal));
    let (mut y_low, mut y_high) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    if !y_low.is_finite() {
        (y_low, y_high) = (0.0, 1.0);
    }
    if spec.from_zero {
        y_low = y_low.min(0.0);
    }
    let x_low = xs().fold(f64::INFINITY, f64::min);
    // A point stands for its segment's start; the axis runs to the last one.
    let x_high = xs().fold(f64::NEG_INFINITY, f64::max);
    let x_high = spec.x_end.map_or(x_high, |end| x_high.max(end));
    let (x_low, x_high) = if x_low.is_finite() {
        (x_low, x_high)
    } else {
        (0.0, 1.0)
    };
    let (x_values, x_domain) = ticks(x_low, x_high, 8);
    let (y_values, y_domain) = ticks(y_low, y_high, 5);
    let (left, top, right, bottom) = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM);
    let x = Scale {
        from: x_domain,
        to: (left, right),
    };
    let y = Scale {
        from: y_domain,
        to: (bottom, top),
    };
    let lines = spec
        .series
        .iter()
        .map(|s| {
            let mut path = String::with_capacity(s.points.len() * 12);
            let mut nominal = String::new();
            let dots = s
                .points
                .iter()
                .map(|p| {
                    let (px, py) = (x.at(p.x), y.at(p.y));
                    let _ = write!(path, "{px},{py} ");
                    if let Some(n) = p.nominal.filter(|_| spec.nominal) {
                        let _ = write!(nominal, "{px},{} ", y.at(n));
                    }
                    let what = if p.count > 1 {
                        format!(" ({} segments from here)", p.count)
                    } else {
                        String::new()
                    };
                    Dot {
                        x: px,
                        y: py,
                        t: trim(p.x, 6),
                        v: trim(p.y, 6),
                        label: format!(
                            "{} at {}: {}{what}",
                            s.name,
                            clock(p.x),
                            (spec.format)(p.y)
                        ),
                    }
                })
                .collect();
            Line {
                name: s.name.to_string(),
                colour: s.colour,
                dots,
                path: path.trim_end().to_string(),
                nominal: (!nominal.is_empty()).then(|| nominal.trim_end().to_string()),
                per_point: s.per_point,
            }
        })
        .collect();
    Chart {
        id: spec.id,
        title: spec.title,
        summary: spec.summary,
        kind: spec.kind,
        width: WIDTH,
        height: HEIGHT,
        left,
        top,
        right,
        bottom,
        x_ticks: time_ticks(&x_values, x),
        y_ticks: y_values
            .iter()
            .map(|v| Tick {
                at: y.at(*v),
                label: (spec.format)(*v),
            })
            .collect(),
        y_label: spec.y_label.to_string(),
        lines,
        rules: spec
            .rules
            .into_iter()
            .map(|(v, colour, label)| Rule {
                y: y.at(v),
                colour,
                label,
            })
            .collect(),
        bars: Vec::new(),
        rows: Vec::new(),
    }
}

/// A row of a timeline: a representation's media span and its holes.
pub struct TimelineRow<'a> {
    /// The row's label.
    pub name: &'a str,
    /// First start, last end (seconds).
    pub span: (f64, f64),
    /// Holes (from, to).
    pub holes: &'a [(f64, f64)],
}

/// Lays out a timeline: one row per representation, its media as bars, its holes marked.
pub fn timeline(id: String, title: String, summary: String, rows: &[TimelineRow<'_>]) -> Chart {
    let low = rows.iter().map(|r| r.span.0).fold(f64::INFINITY, f64::min);
    let high = rows
        .iter()
        .map(|r| r.span.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = if low.is_finite() {
        (low, high)
    } else {
        (0.0, 1.0)
    };
    let (x_values, x_domain) = ticks(low, high, 8);
    let height = TOP + ROW * rows.len() as f64 + BOTTOM;
    let (left, right, bottom) = (LEFT + 60.0, WIDTH - RIGHT, height - BOTTOM);
    let x = Scale {
        from: x_domain,
        to: (left, right),
    };
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let top = TOP + ROW * i as f64 + 4.0;
        labels.push((round(top + (ROW - 8.0) / 2.0 + 4.0), row.name.to_string()));
        let mut from = row.span.0;
        let mut pieces: Vec<(f64, f64, bool)> = Vec::new();
        for &(a, b) in row.holes {
            pieces.push((from, a, true));
            pieces.push((a, b, false));
            from = b;
        }
        pieces.push((from, row.span.1, true));
        for (a, b, media) in pieces {
            let (x0, x1) = (x.at(a), x.at(b));
            bars.push(Bar {
                x: x0,
                y: round(top),
                // A hole of a frame is still seen.
                width: round((x1 - x0).max(if media { 0.0 } else { 2.0 })),
                height: ROW - 8.0,
                media,
                label: format!(
                    "{}: {} from {} to {} ({})",
                    row.name,
                    if media { "media" } else { "hole" },
                    clock(a),
                    clock(b),
                    clock(b - a)
                ),
            });
        }
    }
    Chart {
        id,
        title,
        summary,
        kind: "timeline",
        width: WIDTH,
        height,
        left,
        top: TOP,
        right,
        bottom,
        x_ticks: time_ticks(&x_values, x),
        y_ticks: Vec::new(),
        y_label: String::new(),
        lines: Vec::new(),
        rules: Vec::new(),
        bars,
        rows: labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_domain() {
        let (values, domain) = ticks(0.3, 9.6, 5);
        assert_eq!(values, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(domain, (0.0, 10.0));
        let (values, _) = ticks(1_200_000.0, 3_400_000.0, 5);
        assert_eq!(values.first(), Some(&1_000_000.0));
        assert_eq!(values.last(), Some(&3_500_000.0));
        // One value: a domain around it.
        let (_, domain) = ticks(5.0, 5.0, 5);
        assert!(domain.0 < 5.0 && domain.1 > 5.0);
    }

    #[test]
    fn words_for_times_and_rates() {
        assert_eq!(clock(4.5), "4.5 s");
        assert_eq!(clock(125.0), "2:05");
        assert_eq!(clock(3723.0), "1:02:03");
        assert_eq!(rate(2_345_678.0), "2.35 Mb/s");
        assert_eq!(rate(128_000.0), "128 kb/s");
        assert_eq!(trim(2.0, 3), "2");
    }

    #[test]
    fn a_line_chart_places_every_point_inside_the_plot() {
        let points: Vec<Point> = (0..10)
            .map(|i| Point {
                x: f64::from(i) * 2.0,
                y: 1e6 + f64::from(i) * 1e5,
                nominal: None,
                count: 1,
            })
            .collect();
        let format = |v: f64| rate(v);
        let chart = line_chart(LineSpec {
            id: "c".into(),
            kind: "bitrate",
            title: "t".into(),
            summary: "s".into(),
            y_label: "bit rate",
            format: &format,
            from_zero: true,
            series: vec![SeriesData {
                name: "v1",
                colour: 0,
                points: &points,
                per_point: 1,
            }],
            rules: vec![(2e6, 0, "@bandwidth".into())],
            nominal: false,
            x_end: Some(20.0),
        });
        let line = &chart.lines[0];
        assert_eq!(line.dots.len(), 10);
        for d in &line.dots {
            assert!(d.x >= chart.left && d.x <= chart.right, "{d:?}");
            assert!(d.y >= chart.top && d.y <= chart.bottom, "{d:?}");
        }
        // Higher values are drawn higher up.
        assert!(line.dots[9].y < line.dots[0].y);
        assert!(chart.rules[0].y < line.dots[9].y);
        assert_eq!(line.path.split(' ').count(), 10);
        assert_eq!(line.dots[3].label, "v1 at 6 s: 1.3 Mb/s");
    }

    #[test]
    fn a_timeline_marks_its_holes() {
        let holes = [(10.0, 14.0)];
        let chart = timeline(
            "t".into(),
            "t".into(),
            "s".into(),
            &[TimelineRow {
                name: "v",
                span: (0.0, 30.0),
                holes: &holes,
            }],
        );
        let kinds: Vec<bool> = chart.bars.iter().map(|b| b.media).collect();
        assert_eq!(kinds, vec![true, false, true]);
        assert!(chart.bars[1].label.contains("hole from 10 s to 14 s (4 s)"));
    }
}
