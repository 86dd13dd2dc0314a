//! A series of points that stays small however long the presentation: past a cap, neighbouring
//! points merge into buckets of twice as many segments, each keeping the value that matters
//! (the peak bit rate, the worst margin, the duration farthest from the nominal one).

/// Which value of a bucket is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The largest (bit rate: the peak).
    Max,
    /// The smallest (buffer margin: the worst).
    Min,
    /// The one farthest from the bucket's nominal value (segment durations).
    Extreme,
}

/// One drawn point: the first segment's time, the kept value, and the nominal value there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Seconds on the presentation timeline.
    pub x: f64,
    /// The kept value.
    pub y: f64,
    /// The nominal value (segment durations), where there is one.
    pub nominal: Option<f64>,
    /// Segments it stands for.
    pub count: u64,
}

/// Points of one series, at most `cap` (plus one bucket filling).
#[derive(Debug, Clone)]
pub struct Series {
    keep: Keep,
    cap: usize,
    /// Segments per full bucket.
    width: u64,
    points: Vec<Point>,
}

impl Series {
    /// An empty series drawing at most `cap` points (at least 2).
    pub fn new(keep: Keep, cap: usize) -> Series {
        Series {
            keep,
            cap: cap.max(2),
            width: 1,
            points: Vec::new(),
        }
    }

    /// Segments per point (1 while the series is not thinned).
    pub fn width(&self) -> u64 {
        self.width
    }

    /// The points, in order.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    fn pick(&self, a: Point, b: Point) -> Point {
        let off = |p: Point| (p.y - p.nominal.unwrap_or(p.y)).abs();
        let (y, nominal) = match self.keep {
            Keep::Max => (a.y.max(b.y), a.nominal.or(b.nominal)),
            Keep::Min => (a.y.min(b.y), a.nominal.or(b.nominal)),
            Keep::Extreme if off(b) > off(a) => (b.y, b.nominal),
            Keep::Extreme => (a.y, a.nominal),
        };
        Point {
            x: a.x,
            y,
            nominal,
            count: a.count + b.count,
        }
    }

    /// Adds a segment's value at time `x`.
    pub fn push(&mut self, x: f64, y: f64, nominal: Option<f64>) {
        let point = Point {
            x,
            y,
            nominal,
            count: 1,
        };
        if let Some(&last) = self.points.last()
            && last.count < self.width
        {
            let merged = self.pick(last, point);
            if let Some(slot) = self.points.last_mut() {
                *slot = merged;
            }
            return;
        }
        if self.points.len() == self.cap {
            // Full: every two neighbours become one, and buckets hold twice as many segments.
            let old = std::mem::take(&mut self.points);
            for pair in old.chunks(2) {
                let merged = match pair {
                    [a, b] => self.pick(*a, *b),
                    [a] => *a,
                    _ => continue,
                };
                self.points.push(merged);
            }
            self.width *= 2;
            return self.push(x, y, nominal);
        }
        self.points.push(point);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_segment_is_a_point_up_to_the_cap() {
        let mut s = Series::new(Keep::Max, 8);
        for i in 0..8 {
            s.push(f64::from(i), f64::from(i % 3), None);
        }
        assert_eq!(s.width(), 1);
        assert_eq!(s.points().len(), 8);
        assert_eq!(s.points()[4].y, 1.0);
    }

    #[test]
    fn past_the_cap_buckets_double_and_keep_what_matters() {
        let mut max = Series::new(Keep::Max, 8);
        let mut min = Series::new(Keep::Min, 8);
        let mut extreme = Series::new(Keep::Extreme, 8);
        for i in 0..100u32 {
            let y = if i == 37 { 50.0 } else { 2.0 };
            max.push(f64::from(i), y, None);
            min.push(f64::from(i), -y, None);
            extreme.push(f64::from(i), if i == 61 { 1.0 } else { 2.0 }, Some(2.0));
        }
        // 100 segments in buckets of 16: 7 points, the last one partly filled.
        assert_eq!(max.width(), 16);
        assert_eq!(max.points().len(), 7);
        assert_eq!(max.points().iter().map(|p| p.count).sum::<u64>(), 100);
        assert_eq!(max.points()[2].y, 50.0);
        assert_eq!(max.points()[2].x, 32.0);
        assert_eq!(min.points()[2].y, -50.0);
        assert_eq!(extreme.points()[3].y, 1.0);
        assert!(extreme.points().iter().filter(|p| p.y == 1.0).count() == 1);
    }
}
