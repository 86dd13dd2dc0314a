//! `mp4dump --report`: one self-contained HTML page of a presentation — what it is, what each
//! representation measures against what the manifest says, charts of bit rates, segment
//! durations, the `bandwidth` check's buffer and a recording's holes, the findings, and the
//! box trees of the files that matter.
//!
//! It owns no parsing: the checker reads every file once ([`crate::check::check_presentation`])
//! and tells a [`collect::Collector`] what it measured; the box trees are the dump's
//! ([`crate::dump::dump_path`]). The page is rendered by askama, which escapes every text and
//! number it writes; the SVG marks are laid out by [`chart`].

mod chart;
mod collect;
mod series;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use askama::Template;

use crate::check::{CheckSummary, ManifestFacts, Severity, check_presentation};
use crate::discover::{DiscoverError, Presentation, Verdict, discover, display_path};
use crate::dump::{DumpOptions, dump_path};
use crate::live::recorder::RecorderState;
use crate::mpd::time::{format_datetime, parse_datetime};
use crate::plan::{RepresentationPlan, SegmentKind};
use chart::{LineSpec, SeriesData, TimelineRow, clock, line_chart, rate, timeline, trim};
use collect::{Collector, Measures};

/// The report's file name, beside the manifest.
pub const REPORT_NAME: &str = "report.html";
/// A box tree longer than this is cut (at a line end), with a note.
const TREE_BYTES: usize = 64 * 1024;
/// Colours of the charts' series (CSS classes `c0`…).
const COLOURS: usize = 8;

/// What `mp4dump --report` is asked to do.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The presentation folder.
    pub folder: PathBuf,
    /// Which manifest, when the folder holds several.
    pub mpd: Option<String>,
    /// Only these representation ids (all when empty).
    pub reps: Vec<String>,
    /// The tool and version named in the page.
    pub generator: String,
    /// When the page is made (Unix nanoseconds).
    pub now: i128,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    /// The page.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The check's summary (the findings' counts).
    pub summary: CheckSummary,
}

/// Why no report was written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The folder has no usable manifest.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// The page could not be rendered.
    #[error("cannot render the report: {0}")]
    Render(#[from] askama::Error),
    /// The page could not be written.
    #[error("{}: cannot write the report: {source}", path.display())]
    Write {
        /// The page's path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Checks the presentation in `options.folder` and writes `report.html` beside its manifest,
/// atomically (a failed write leaves no page, nor a partial one).
pub fn write_report(options: &ReportOptions) -> Result<ReportOutcome, ReportError> {
    let presentation = discover(&options.folder, options.mpd.as_deref(), &options.reps)?;
    let bytes = std::fs::read(&presentation.manifest)
        .map_err(|e| DiscoverError::Read(presentation.manifest.clone(), e))?;
    let manifest = ManifestFacts::read(&bytes);
    let mut collector = Collector {
        period_starts: manifest
            .periods
            .iter()
            .map(|p| p.start.unwrap_or(0) as f64 / 1e9)
            .collect(),
        ..Collector::default()
    };
    let summary = check_presentation(&presentation, &manifest, &mut collector);
    let recording = RecorderState::read(&presentation.folder);
    let page = page(
        options,
        &presentation,
        &manifest,
        &summary,
        &collector,
        recording,
    );
    let path = presentation.folder.join(REPORT_NAME);
    let written = crate::dump_folder::write_atomically(&path, |out| {
        page.write_into(out).map_err(io::Error::other)?;
        Ok(())
    });
    written.map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(ReportOutcome {
        path,
        bytes,
        summary,
    })
}

/// A row of the presentation's Periods.
struct PeriodRow {
    index: usize,
    id: String,
    start: String,
    start_value: String,
    duration: String,
    duration_value: String,
}

/// A row of the representations' table.
struct RepRow {
    anchor: String,
    id: String,
    set: String,
    codec: String,
    media: String,
    bandwidth: String,
    bandwidth_value: String,
    average: String,
    average_value: String,
    peak: String,
    peak_value: String,
    segments: u64,
    duration: String,
    duration_value: String,
    bytes: u64,
    bytes_text: String,
    errors: u64,
    warnings: u64,
}

/// The charts of one AdaptationSet.
struct Group {
    heading: String,
    charts: Vec<chart::Chart>,
}

/// A row of the findings' table.
struct FindingRow {
    severity: &'static str,
    check: &'static str,
    representation: String,
    rep_anchor: String,
    segment: String,
    anchor: String,
    message: String,
}

/// A file's box tree, collapsible.
struct Tree {
    anchor: String,
    title: String,
    open: bool,
    /// (severity, check, message) of the findings on this file.
    findings: Vec<(&'static str, &'static str, String)>,
    text: Option<String>,
    note: Option<String>,
}

/// One representation's box trees.
struct Section {
    anchor: String,
    id: String,
    trees: Vec<Tree>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    title: String,
    generator: String,
    made: String,
    manifest: String,
    errors: u64,
    warnings: u64,
    facts: Vec<(String, String)>,
    periods: Vec<PeriodRow>,
    reps: Vec<RepRow>,
    skipped: Vec<(String, String)>,
    groups: Vec<Group>,
    extra_charts: Vec<chart::Chart>,
    findings: Vec<FindingRow>,
    more_findings: u64,
    sections: Vec<Section>,
}

fn seconds(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Bytes in words: `12.3 MB (12,345,678 bytes)` style, short.
fn byte_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{} GB", trim(b as f64 / 1e9, 2)),
        b if b >= 1_000_000 => format!("{} MB", trim(b as f64 / 1e6, 2)),
        b if b >= 1_000 => format!("{} kB", trim(b as f64 / 1e3, 1)),
        b => format!("{b} B"),
    }
}

/// The presentation's facts, in rows.
fn presentation_facts(
    presentation: &Presentation,
    manifest: &ManifestFacts,
    summary: &CheckSummary,
    recording: Option<&RecorderState>,
) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let kind = match (manifest.dynamic, recording) {
        (_, Some(_)) => "live recording (a static manifest of what was recorded)",
        (true, None) => "dynamic (live)",
        (false, None) => "static (on demand)",
    };
    rows.push(("Type".into(), kind.into()));
    if let Some(state) = recording {
        rows.push(("Recorded from".into(), state.manifest_url.clone()));
        let start = state
            .availability_start_time
            .as_deref()
            .and_then(|t| parse_datetime(t).ok())
            .zip(state.origin)
            .map(|(ast, origin)| ast.instant + origin);
        if let Some(start) = start {
            let end = manifest.duration.map(|d| start + i128::from(d));
            rows.push((
                "Recording span".into(),
                match end {
                    Some(end) => format!(
                        "{} to {} (wall clock, UTC)",
                        format_datetime(start),
                        format_datetime(end)
                    ),
                    None => format!("from {} (wall clock, UTC)", format_datetime(start)),
                },
            ));
        }
        if let Some(clock) = &state.clock {
            rows.push(("Clock".into(), clock.clone()));
        }
    }
    rows.push((
        "Duration".into(),
        manifest
            .duration
            .map(|d| format!("{} ({} s)", clock(seconds(d)), trim(seconds(d), 3)))
            .unwrap_or_else(|| "not given".into()),
    ));
    rows.push(("Periods".into(), manifest.periods.len().to_string()));
    rows.push((
        "Profiles".into(),
        if manifest.profiles.is_empty() {
            "none given".into()
        } else {
            manifest.profiles.join(", ")
        },
    ));
    if let Some(b) = manifest.min_buffer_time {
        rows.push(("minBufferTime".into(), format!("{} s", trim(seconds(b), 3))));
    }
    rows.push((
        "Representations".into(),
        format!(
            "{} read, {} not ISO-BMFF",
            summary.representations,
            summary.skipped.len()
        ),
    ));
    rows.push(("Files read".into(), summary.segments.to_string()));
    for warning in &presentation.plan.warnings {
        rows.push(("Manifest warning".into(), warning.to_string()));
    }
    rows
}

/// What the table says of a representation's media.
fn media_text(m: &Measures) -> String {
    let Some(d) = &m.described else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some((w, h)) = d.picture {
        parts.push(format!("{w}×{h}"));
        if m.duration > 0.0 && m.samples > 0 {
            parts.push(format!("{} fps", trim(m.samples as f64 / m.duration, 3)));
        }
    }
    if let Some(r) = d.sample_rate {
        parts.push(format!("{} kHz", trim(r as f64 / 1000.0, 3)));
    }
    if let Some(c) = d.channels {
        parts.push(format!("{c} channel{}", if c == 1 { "" } else { "s" }));
    }
    parts.join(", ")
}

/// The representation's plan parts (one per Period it is in).
fn parts_of<'a>(presentation: &'a Presentation, id: &'a str) -> Vec<&'a RepresentationPlan> {
    presentation.parts(id).collect()
}

fn page(
    options: &ReportOptions,
    presentation: &Presentation,
    manifest: &ManifestFacts,
    summary: &CheckSummary,
    collector: &Collector,
    recording: Option<RecorderState>,
) -> Page {
    let manifest_name = presentation
        .manifest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let empty = Measures::default();
    let measures = |id: &str| collector.representations.get(id).unwrap_or(&empty);
    let read: Vec<(usize, &str)> = presentation
        .representations
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match &r.verdict {
            Verdict::Dump(_) => Some((i, r.id.as_str())),
            Verdict::Skip(_) => None,
        })
        .collect();
    let rep_anchor: HashMap<&str, String> = read
        .iter()
        .map(|(i, id)| (*id, format!("rep-{i}")))
        .collect();

    let periods = manifest
        .periods
        .iter()
        .enumerate()
        .map(|(index, p)| PeriodRow {
            index,
            id: p.id.clone().unwrap_or_default(),
            start: p.start.map(|s| clock(seconds(s))).unwrap_or_default(),
            start_value: p.start.map(|s| seconds(s).to_string()).unwrap_or_default(),
            duration: p.duration.map(|s| clock(seconds(s))).unwrap_or_default(),
            duration_value: p
                .duration
                .map(|s| seconds(s).to_string())
                .unwrap_or_default(),
        })
        .collect();

    let reps = read
        .iter()
        .map(|(i, id)| {
            let m = measures(id);
            let parts = parts_of(presentation, id);
            let first = parts.first();
            let bandwidth = first.and_then(|p| p.bandwidth);
            let average = m.average_rate();
            let peak = m.peak.as_ref().map(|p| p.0);
            let codec = {
                let declared = first.and_then(|p| p.codecs.clone()).unwrap_or_default();
                match &m.described {
                    Some(d) => {
                        let format = if d.protected {
                            format!("{}, encrypted", d.format)
                        } else {
                            d.format.clone()
                        };
                        if declared.is_empty() {
                            format
                        } else {
                            format!("{declared} ({format})")
                        }
                    }
                    None => declared,
                }
            };
            let set = first
                .map(|p| {
                    let what = p
                        .content_type
                        .clone()
                        .or_else(|| p.mime_type.clone())
                        .unwrap_or_default();
                    format!("{} {what}", p.adaptation_set_index)
                })
                .unwrap_or_default();
            let value = |v: Option<f64>| v.map(|v| v.round().to_string()).unwrap_or_default();
            RepRow {
                anchor: format!("rep-{i}"),
                id: id.to_string(),
                set,
                codec,
                media: media_text(m),
                bandwidth: bandwidth.map(|b| rate(b as f64)).unwrap_or_default(),
                bandwidth_value: bandwidth.map(|b| b.to_string()).unwrap_or_default(),
                average: average.map(rate).unwrap_or_default(),
                average_value: value(average),
                peak: peak.map(rate).unwrap_or_default(),
                peak_value: value(peak),
                segments: m.segments,
                duration: clock(m.duration),
                duration_value: trim(m.duration, 6),
                bytes: m.bytes,
                bytes_text: byte_text(m.bytes),
                errors: m.errors,
                warnings: m.warnings,
            }
        })
        .collect();

    // Charts, one group per AdaptationSet (a representation in several Periods is drawn
    // where it first appears, across all of them).
    let mut group_keys: Vec<(usize, usize)> = Vec::new();
    let mut members: HashMap<(usize, usize), Vec<&str>> = HashMap::new();
    for (_, id) in &read {
        if measures(id).segments == 0 {
            continue;
        }
        let Some(first) = parts_of(presentation, id).first().copied() else {
            continue;
        };
        let key = (first.period_index, first.adaptation_set_index);
        if !members.contains_key(&key) {
            group_keys.push(key);
        }
        members.entry(key).or_default().push(id);
    }
    let groups = group_keys
        .iter()
        .enumerate()
        .map(|(g, key)| {
            let ids = &members[key];
            let plan = parts_of(presentation, ids[0])[0];
            let what = plan
                .content_type
                .clone()
                .or_else(|| plan.mime_type.clone())
                .unwrap_or_else(|| "media".into());
            let period = manifest
                .periods
                .get(key.0)
                .and_then(|p| p.id.clone())
                .unwrap_or_else(|| key.0.to_string());
            let heading = format!("AdaptationSet {} of Period {period} ({what})", key.1);
            group_charts(g, heading, ids, presentation, collector)
        })
        .collect();

    let mut extra_charts = Vec::new();
    if let Some(c) = buffer_chart(&read, presentation, manifest, collector) {
        extra_charts.push(c);
    }
    let holes: u64 = read
        .iter()
        .map(|(_, id)| measures(id).holes.len() as u64 + measures(id).more_holes)
        .sum();
    if recording.is_some() || holes > 0 {
        extra_charts.push(timeline_chart(&read, collector, holes));
    }

    // Sections: the trees of each representation's init, first and last media segments, and
    // of each segment with findings (up to the cap), by path.
    let mut segment_anchor: HashMap<(&str, &str), String> = HashMap::new();
    for (n, (rep, segment)) in collector.finding_segments.iter().enumerate() {
        if *segment != manifest_name {
            segment_anchor.insert((rep.as_str(), segment.as_str()), format!("seg-{n}"));
        }
    }
    let sections = read
        .iter()
        .map(|(i, id)| section(*i, id, presentation, collector, &segment_anchor))
        .collect();

    let findings = collector
        .findings
        .iter()
        .map(|f| {
            let rep = rep_anchor
                .get(f.representation.as_str())
                .cloned()
                .unwrap_or_else(|| "representations".into());
            let anchor = if f.segment == manifest_name {
                "presentation".to_string()
            } else {
                segment_anchor
                    .get(&(f.representation.as_str(), f.segment.as_str()))
                    .cloned()
                    .unwrap_or_else(|| rep.clone())
            };
            FindingRow {
                severity: severity_name(f.severity),
                check: f.check.name(),
                representation: f.representation.clone(),
                rep_anchor: rep,
                segment: f.segment.clone(),
                anchor,
                message: f.message.clone(),
            }
        })
        .collect();

    Page {
        title: manifest_name.clone(),
        generator: options.generator.clone(),
        made: format_datetime(options.now - options.now.rem_euclid(1_000_000_000)),
        manifest: manifest_name.clone(),
        errors: summary.error_count(),
        warnings: summary.warning_count(),
        facts: presentation_facts(presentation, manifest, summary, recording.as_ref()),
        periods,
        reps,
        skipped: summary.skipped.clone(),
        groups,
        extra_charts,
        findings,
        more_findings: collector.more_findings,
        sections,
    }
}

/// The bit rate and the segment durations of an AdaptationSet's representations.
fn group_charts(
    g: usize,
    heading: String,
    ids: &[&str],
    presentation: &Presentation,
    collector: &Collector,
) -> Group {
    let measures = |id: &str| &collector.representations[id];
    let bandwidth = |id: &str| parts_of(presentation, id).first().and_then(|p| p.bandwidth);
    let x_end = ids
        .iter()
        .filter_map(|id| measures(id).span.map(|s| s.1))
        .reduce(f64::max);
    // One series per representation, in its colour.
    let series = |which: fn(&Measures) -> &series::Series| -> Vec<SeriesData> {
        ids.iter()
            .enumerate()
            .map(|(k, id)| SeriesData {
                name: id,
                colour: k % COLOURS,
                points: which(measures(id)).points(),
                per_point: which(measures(id)).width(),
            })
            .collect()
    };
    let rates = series(|m| &m.rates);
    let rate_summary = ids
        .iter()
        .map(|id| {
            let m = measures(id);
            format!(
                "{id}: @bandwidth {}, average {}, peak {} over {} segments",
                bandwidth(id)
                    .map(|b| rate(b as f64))
                    .unwrap_or_else(|| "not given".into()),
                m.average_rate().map(rate).unwrap_or_default(),
                m.peak.as_ref().map(|p| rate(p.0)).unwrap_or_default(),
                m.segments
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let thinned = |width: u64, what: &str| {
        if width > 1 {
            format!(" Each point is the {what} of {width} consecutive segments.")
        } else {
            String::new()
        }
    };
    let width = ids
        .iter()
        .map(|id| measures(id).rates.width())
        .max()
        .unwrap_or(1);
    let format_rate = |v: f64| rate(v);
    let bitrate = line_chart(LineSpec {
        id: format!("bitrate-{g}"),
        kind: "bitrate",
        title: format!("Bit rate per segment, {heading}"),
        summary: format!("{rate_summary}.{}", thinned(width, "highest bit rate")),
        y_label: "bit rate",
        format: &format_rate,
        from_zero: true,
        rules: ids
            .iter()
            .enumerate()
            .filter_map(|(k, id)| {
                bandwidth(id).map(|b| (b as f64, k % COLOURS, format!("{id} @bandwidth")))
            })
            .collect(),
        series: rates,
        nominal: false,
        x_end,
    });
    let durations = series(|m| &m.durations);
    let duration_summary = ids
        .iter()
        .map(|id| {
            let points = measures(id).durations.points();
            let low = points.iter().map(|p| p.y).fold(f64::INFINITY, f64::min);
            let high = points.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max);
            let nominal = points.iter().find_map(|p| p.nominal);
            format!(
                "{id}: segments from {} s to {} s{}",
                trim(low, 3),
                trim(high, 3),
                nominal
                    .map(|n| format!(", nominal {} s", trim(n, 3)))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let width = ids
        .iter()
        .map(|id| measures(id).durations.width())
        .max()
        .unwrap_or(1);
    let format_seconds = |v: f64| format!("{} s", trim(v, 3));
    let duration = line_chart(LineSpec {
        id: format!("durations-{g}"),
        kind: "durations",
        title: format!("Segment duration, {heading}"),
        summary: format!(
            "{duration_summary}. Dashed: the manifest's duration.{}",
            thinned(width, "duration farthest from the nominal one")
        ),
        y_label: "duration",
        format: &format_seconds,
        from_zero: false,
        series: durations,
        rules: Vec::new(),
        nominal: true,
        x_end,
    });
    Group {
        heading,
        charts: vec![bitrate, duration],
    }
}

/// The `bandwidth` check's channel for the representation closest to failing it.
fn buffer_chart(
    read: &[(usize, &str)],
    presentation: &Presentation,
    manifest: &ManifestFacts,
    collector: &Collector,
) -> Option<chart::Chart> {
    let (id, m, (worst, segment)) = read
        .iter()
        .filter_map(|(_, id)| {
            let m = collector.representations.get(*id)?;
            Some((*id, m, m.worst_margin.clone()?))
        })
        .min_by(|a, b| a.2.0.total_cmp(&b.2.0))?;
    let bandwidth = parts_of(presentation, id)
        .first()
        .and_then(|p| p.bandwidth)
        .unwrap_or(0);
    let buffer = manifest.min_buffer_time.map(seconds).unwrap_or(0.0);
    let verdict = if worst < 0.0 {
        format!(
            "its segment {segment} is complete {} s after its playout ends: late",
            trim(-worst, 3)
        )
    } else {
        format!(
            "its tightest segment, {segment}, is complete {} s before its playout ends",
            trim(worst, 3)
        )
    };
    let format_seconds = |v: f64| format!("{} s", trim(v, 3));
    Some(line_chart(LineSpec {
        id: "buffer".into(),
        kind: "buffer",
        title: format!("Buffer model of the bandwidth check, representation {id}"),
        summary: format!(
            "Delivered at @bandwidth {} with playout starting @minBufferTime {} s later, from any segment: how long before its playout ends each segment is complete (below zero: late). {id} comes closest to failing: {verdict}.",
            rate(bandwidth as f64),
            trim(buffer, 3)
        ),
        y_label: "margin",
        format: &format_seconds,
        from_zero: true,
        series: vec![SeriesData {
            name: id,
            colour: 0,
            points: m.margins.points(),
            per_point: m.margins.width(),
        }],
        rules: vec![(0.0, 5, "late below this line".into())],
        nominal: false,
        x_end: m.span.map(|s| s.1),
    }))
}

/// Each representation's media on the presentation timeline, with its holes.
fn timeline_chart(read: &[(usize, &str)], collector: &Collector, holes: u64) -> chart::Chart {
    let rows: Vec<TimelineRow> = read
        .iter()
        .filter_map(|(_, id)| {
            let m = collector.representations.get(*id)?;
            Some(TimelineRow {
                name: id,
                span: m.span?,
                holes: &m.holes,
            })
        })
        .collect();
    let listed: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r.holes.iter().map(move |(a, b)| {
                format!(
                    "{} from {} to {} ({})",
                    r.name,
                    clock(*a),
                    clock(*b),
                    clock(b - a)
                )
            })
        })
        .take(20)
        .collect();
    let summary = if holes == 0 {
        "No holes: every representation's media is continuous.".to_string()
    } else {
        format!(
            "{holes} holes in the media: {}{}.",
            listed.join("; "),
            if holes > listed.len() as u64 {
                "; …"
            } else {
                ""
            }
        )
    };
    timeline(
        "timeline".into(),
        "Timeline of the media, with its holes".into(),
        summary,
        &rows,
    )
}

/// A writer that takes at most `cap` bytes, then fails: a dump written into it stops early.
struct Capped {
    bytes: Vec<u8>,
    cap: usize,
    full: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.cap - self.bytes.len();
        if room == 0 {
            self.full = true;
            return Err(io::Error::other("the tree is cut"));
        }
        let n = buf.len().min(room);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A file's box tree as `mp4dump FILE` prints it, cut at [`TREE_BYTES`]: (text, note).
fn tree_of(path: &Path, rep: &str) -> (Option<String>, Option<String>) {
    let mut out = Capped {
        bytes: Vec::new(),
        cap: TREE_BYTES,
        full: false,
    };
    let result = dump_path(path, &mut out, &DumpOptions::default());
    let mut text = String::from_utf8_lossy(&out.bytes).into_owned();
    if out.full {
        if let Some(end) = text.rfind('\n') {
            text.truncate(end + 1);
        }
        let note = format!(
            "Cut at {} kB; `mp4dump -r {rep}` writes every box of it.",
            TREE_BYTES / 1024
        );
        return (Some(text), Some(note));
    }
    match result {
        Ok(_) => (Some(text), None),
        Err(e) => ((!text.is_empty()).then_some(text), Some(e.to_string())),
    }
}

/// A representation's box trees.
fn section(
    index: usize,
    id: &str,
    presentation: &Presentation,
    collector: &Collector,
    segment_anchor: &HashMap<(&str, &str), String>,
) -> Section {
    let parts = parts_of(presentation, id);
    let segments = || parts.iter().flat_map(|p| p.segments());
    let init = segments()
        .find(|s| s.kind == SegmentKind::Init)
        .map(|s| display_path(&s.path));
    let first = segments()
        .find(|s| s.kind == SegmentKind::Media)
        .map(|s| display_path(&s.path));
    let last = segments()
        .filter(|s| s.kind == SegmentKind::Media)
        .last()
        .map(|s| display_path(&s.path));
    // The files to show, in order, with what each is.
    let mut shown: Vec<(String, Vec<&str>)> = Vec::new();
    let mut add =
        |path: String, role: &'static str| match shown.iter_mut().find(|(p, _)| *p == path) {
            Some((_, roles)) => {
                if !roles.contains(&role) {
                    roles.push(role)
                }
            }
            None => shown.push((path, vec![role])),
        };
    for (path, role) in [
        (init, "init segment"),
        (first, "first media segment"),
        (last, "last media segment"),
    ] {
        if let Some(path) = path {
            add(path, role);
        }
    }
    for (rep, segment) in &collector.finding_segments {
        if rep == id && segment_anchor.contains_key(&(rep.as_str(), segment.as_str())) {
            add(segment.clone(), "segment with findings");
        }
    }
    let trees = shown
        .into_iter()
        .enumerate()
        .map(|(k, (path, roles))| {
            let findings: Vec<(&'static str, &'static str, String)> = collector
                .findings
                .iter()
                .filter(|f| f.representation == id && f.segment == path)
                .map(|f| (severity_name(f.severity), f.check.name(), f.message.clone()))
                .collect();
            let anchor = segment_anchor
                .get(&(id, path.as_str()))
                .cloned()
                .unwrap_or_else(|| format!("rep-{index}-file-{k}"));
            let (text, note) = tree_of(&presentation.folder.join(&path), id);
            Tree {
                anchor,
                title: format!("{}: {path}", roles.join(", ")),
                // What a finding points at is shown; the rest is a click away.
                open: !findings.is_empty(),
                findings,
                text,
                note,
            }
        })
        .collect();
    Section {
        anchor: format!("rep-{index}"),
        id: id.to_string(),
        trees,
    }
}
