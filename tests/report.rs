//! `mp4dump --report`: the page written for real presentations, read back with an HTML parser
//! (scraper) and, where Chromium is installed, opened in it headless: the numbers of its tables
//! against the files on disk, one chart per AdaptationSet with a point per segment (or the
//! thinned count), findings linked to sections that exist, no console error, a screenshot that
//! is not blank. Errors: no manifest, an unwritable page, exit 2 and nothing half-written.
//!
//! `DASHGET_UPDATE_SCREENSHOT=1` also writes the screenshot of the bundled sample's report to
//! `docs/report.png` (the one the documentation shows).
use dashget_testkit as common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::browser::{find_chromium, run_chromium};
use common::live_origin::Addressing;
use common::live_origin::client::{origin_with_buffer, record_live};
use scraper::{Html, Selector};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dash")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The bundled sample (the quickstart's), copied.
fn sample(dir: &Path) -> PathBuf {
    let out = dir.join("sample");
    copy_dir(&fixture("template-number"), &out);
    out
}

/// The sample with defects: a media segment cut short, one missing, one `@bandwidth` far too low.
fn damaged(dir: &Path) -> PathBuf {
    let out = dir.join("damaged");
    copy_dir(&fixture("template-number"), &out);
    let cut = out.join("chunk-stream0-00002.m4s");
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 5000]).unwrap();
    std::fs::remove_file(out.join("chunk-stream1-00002.m4s")).unwrap();
    let mpd = out.join("manifest.mpd");
    let text = std::fs::read_to_string(&mpd).unwrap();
    std::fs::write(
        &mpd,
        text.replace("bandwidth=\"48000\"", "bandwidth=\"4000\""),
    )
    .unwrap();
    out
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn report(dir: &Path, extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_mp4dump"))
        .arg("--report")
        .arg("-d")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

fn attr<'a>(e: &scraper::ElementRef<'a>, name: &str) -> &'a str {
    e.value().attr(name).unwrap_or("")
}

/// The representations' table: (id, column → data-value or text).
fn table(html: &Html) -> Vec<(String, Vec<String>)> {
    select(html, "#representation-table tbody tr.rep")
        .iter()
        .map(|row| {
            let id = attr(row, "data-representation").to_string();
            let cells = select_in(row, "td")
                .iter()
                .map(|c| match c.value().attr("data-value") {
                    Some(v) => v.to_string(),
                    None => c.text().collect::<String>(),
                })
                .collect();
            (id, cells)
        })
        .collect()
}

fn select_in<'a>(e: &scraper::ElementRef<'a>, css: &str) -> Vec<scraper::ElementRef<'a>> {
    e.select(&Selector::parse(css).unwrap()).collect()
}

/// Column indices of the table's cells (after the `th` of the id).
const BANDWIDTH: usize = 3;
const AVERAGE: usize = 4;
const PEAK: usize = 5;
const SEGMENTS: usize = 6;
const DURATION: usize = 7;
const BYTES: usize = 8;

/// What every report must hold, whatever the presentation: checked on the written file and on
/// the DOM Chromium built from it.
fn check_structure(html: &Html, reps: usize, sets: usize) {
    assert_eq!(table(html).len(), reps, "one row per representation");
    let charts = select(html, "figure.bitrate");
    assert_eq!(charts.len(), sets, "one bit rate chart per AdaptationSet");
    let rows = table(html);
    for chart in &charts {
        assert!(!select_in(chart, "svg title").is_empty());
        assert!(
            !select_in(chart, "svg desc")[0]
                .text()
                .collect::<String>()
                .is_empty()
        );
        for series in select_in(chart, "g.series") {
            let name = attr(&series, "data-series");
            let points: usize = attr(&series, "data-points").parse().unwrap();
            let per: u64 = attr(&series, "data-segments-per-point").parse().unwrap();
            assert_eq!(select_in(&series, "circle").len(), points, "{name}");
            let (_, cells) = rows.iter().find(|(id, _)| id == name).unwrap();
            let segments: u64 = cells[SEGMENTS].parse().unwrap();
            assert_eq!(
                points as u64,
                segments.div_ceil(per),
                "{name}: {segments} segments"
            );
            // The points' exact values: the highest is the table's peak.
            let values = point_values(&series);
            let peak: f64 = cells[PEAK].parse().unwrap();
            let highest = values.iter().map(|p| p.1).fold(0.0, f64::max);
            assert!(
                (highest - peak).abs() <= 1.0,
                "{name}: {highest} against {peak}"
            );
        }
    }
    // Unthinned, the segment durations add up to the table's media duration.
    for series in select(html, "figure.durations g.series") {
        let name = attr(&series, "data-series");
        if attr(&series, "data-segments-per-point") != "1" {
            continue;
        }
        let (_, cells) = rows.iter().find(|(id, _)| id == name).unwrap();
        let total: f64 = point_values(&series).iter().map(|p| p.1).sum();
        let duration: f64 = cells[DURATION].parse().unwrap();
        assert!(
            (total - duration).abs() < 1e-3,
            "{name}: {total} against {duration}"
        );
    }
    // Every link inside the page goes to an element that exists.
    let ids: HashSet<&str> = select(html, "[id]").iter().map(|e| attr(e, "id")).collect();
    for link in select(html, "a[href^='#']") {
        let target = &attr(&link, "href")[1..];
        assert!(
            ids.contains(target),
            "a link to #{target}, which is not there"
        );
    }
    assert!(select(html, "script").is_empty(), "no script");
    assert!(select(html, "link").is_empty(), "no external style");
}

/// A series' points: (time, value), from their `data-t` and `data-v`.
fn point_values(series: &scraper::ElementRef<'_>) -> Vec<(f64, f64)> {
    select_in(series, "circle")
        .iter()
        .map(|c| {
            (
                attr(c, "data-t").parse().unwrap(),
                attr(c, "data-v").parse().unwrap(),
            )
        })
        .collect()
}

fn read_html(dir: &Path) -> Html {
    Html::parse_document(&std::fs::read_to_string(dir.join("report.html")).unwrap())
}

fn media_files(dir: &Path, rep: &str) -> Vec<u64> {
    let mut sizes: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("chunk-stream{rep}-"))
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    sizes.sort();
    sizes.into_iter().map(|(_, s)| s).collect()
}

#[test]
fn the_report_of_a_clean_presentation_holds_its_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample(tmp.path());
    let run = report(&dir, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let path = dir.join("report.html");
    assert!(
        run.stdout.contains(&format!("report {}", path.display())),
        "{}",
        run.stdout
    );
    let html = read_html(&dir);
    check_structure(&html, 3, 3);
    for (id, cells) in table(&html) {
        let sizes = media_files(&dir, &id);
        let bytes: u64 = sizes.iter().sum();
        assert_eq!(cells[BYTES], bytes.to_string(), "{id}");
        assert_eq!(cells[SEGMENTS], sizes.len().to_string(), "{id}");
        let duration: f64 = cells[DURATION].parse().unwrap();
        let average: f64 = cells[AVERAGE].parse().unwrap();
        assert!(
            (average - bytes as f64 * 8.0 / duration).abs() <= 1.0,
            "{id}"
        );
        let peak: f64 = cells[PEAK].parse().unwrap();
        assert!(peak >= average, "{id}");
        // Two segments of about a second each.
        assert!((duration - 2.0).abs() < 0.05, "{id}: {duration}");
    }
    let bandwidths: Vec<String> = table(&html)
        .into_iter()
        .map(|(_, c)| c[BANDWIDTH].clone())
        .collect();
    assert_eq!(bandwidths, ["200000", "100000", "48000"]);
    // The box trees: init, first and last segment of each representation, with offsets.
    let trees = select(&html, "section.representation details");
    assert_eq!(trees.len(), 9);
    let text: String = trees[0].text().collect();
    assert!(text.contains("[ftyp] size=8+"), "{text}");
    assert!(text.contains("offset=0 (0x0)"), "{text}");
    assert!(select(&html, "#finding-table").is_empty());
    // Nothing else written beside the manifest.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".m4s"))
        .collect();
    names.sort();
    assert_eq!(names, ["manifest.mpd", "report.html"]);
}

#[test]
fn findings_are_listed_and_linked_to_their_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = damaged(tmp.path());
    let run = report(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let html = read_html(&dir);
    // Representation 1 has one segment left.
    check_structure(&html, 3, 3);
    let findings = select(&html, "#finding-table tbody tr");
    let checks: HashSet<String> = findings
        .iter()
        .map(|r| select_in(r, "code")[0].text().collect())
        .collect();
    for expected in ["missing-segment", "bandwidth"] {
        assert!(checks.contains(expected), "{checks:?}");
    }
    // Each finding links to the section of its segment, which holds its box tree.
    for row in &findings {
        let segment_link = select_in(row, "a")[1];
        let target = &attr(&segment_link, "href")[1..];
        let segment: String = segment_link.text().collect();
        let section = select(&html, &format!("[id='{target}']"));
        let summary: String = select_in(&section[0], "summary")[0].text().collect();
        assert!(summary.ends_with(&segment), "{summary} for {segment}");
    }
    // The missing file is named in its section, without a tree.
    let missing = select(&html, "details")
        .into_iter()
        .find(|d| {
            select_in(d, "summary")[0]
                .text()
                .collect::<String>()
                .ends_with("chunk-stream1-00002.m4s")
        })
        .unwrap();
    assert!(select_in(&missing, "pre").is_empty());
    // The buffer model is drawn for the representation closest to failing: the audio.
    let buffer = select(&html, "figure.buffer");
    assert_eq!(buffer.len(), 1);
    let title: String = select_in(&buffer[0], "svg title")[0].text().collect();
    assert!(title.ends_with("representation 2"), "{title}");
    let rows = table(&html);
    assert!(rows[1].1[SEGMENTS] == "1", "{:?}", rows[1]);
}

#[test]
fn text_from_the_manifest_is_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample(tmp.path());
    let mpd = dir.join("manifest.mpd");
    let text = std::fs::read_to_string(&mpd).unwrap();
    std::fs::write(
        &mpd,
        text.replace(
            "<Period id=\"0\"",
            "<Period id=\"&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;\"",
        ),
    )
    .unwrap();
    let run = report(&dir, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let raw = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!raw.contains("<script"), "unescaped");
    assert!(raw.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#38;&#34;"));
    let html = Html::parse_document(&raw);
    assert!(select(&html, "script").is_empty());
    let headings: Vec<String> = select(&html, "#charts h3")
        .iter()
        .map(|h| h.text().collect())
        .collect();
    assert!(
        headings[0].contains("Period <script>alert(1)</script>&\""),
        "{headings:?}"
    );
}

#[test]
fn a_long_presentation_is_thinned_and_capped() {
    // 1,500 segments per representation: the sample's first segment under every number (the
    // same tfdt each time, so every segment after the first is a decode-time error).
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample(tmp.path());
    const N: u64 = 1500;
    for rep in 0..3 {
        for n in 3..=N {
            std::os::unix::fs::symlink(
                dir.join(format!("chunk-stream{rep}-00001.m4s")),
                dir.join(format!("chunk-stream{rep}-{n:05}.m4s")),
            )
            .unwrap();
        }
    }
    let mpd = dir.join("manifest.mpd");
    let text = std::fs::read_to_string(&mpd).unwrap();
    std::fs::write(&mpd, text.replace("PT2.0S\"\n", &format!("PT{N}.0S\"\n"))).unwrap();
    let run = report(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let html = read_html(&dir);
    check_structure(&html, 3, 3);
    // Past 1,024 points a series holds buckets of two segments.
    for series in select(&html, "figure.bitrate g.series") {
        assert_eq!(attr(&series, "data-segments-per-point"), "2");
        assert_eq!(attr(&series, "data-points"), "750");
    }
    // The findings' table and the segment sections are capped, and say so.
    assert_eq!(select(&html, "#finding-table tbody tr").len(), 2000);
    assert!(
        select(&html, "#findings p.note")[0]
            .text()
            .collect::<String>()
            .contains("more findings are not listed"),
    );
    let trees = select(&html, "section.representation details");
    assert!(trees.len() <= 100 + 9, "{}", trees.len());
    let size = std::fs::metadata(dir.join("report.html")).unwrap().len();
    assert!(size < 4_000_000, "{size} bytes");
}

#[test]
fn errors_exit_2_and_leave_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    // No manifest.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = report(&empty, &[]);
    assert_eq!(run.code, Some(2));
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("no manifest"), "{}", run.stderr);
    // The page cannot be written (a folder stands in its place; root ignores permissions).
    let dir = sample(tmp.path());
    std::fs::create_dir(dir.join("report.html")).unwrap();
    let run = report(&dir, &[]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("report.html: cannot write the report"),
        "{}",
        run.stderr
    );
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // --report with --check or FILE arguments is refused.
    let run = report(&dir, &["--check"]);
    assert_eq!(run.code, Some(2));
}

/// Records the live test origin into `folder` for 8 s, the origin stopping for 3 s (longer
/// than its 1-s buffer) 1.5 s in: a recording with a hole.
fn record_with_a_hole(folder: &Path) {
    let (origin, _) = origin_with_buffer(Addressing::TimelineTime, 30, 1);
    let (code, stderr) = record_live(
        Path::new(env!("CARGO_BIN_EXE_dashget")),
        &origin,
        folder,
        8,
        Some((Duration::from_millis(1500), Duration::from_millis(3000))),
    );
    assert_eq!(code, Some(1), "the recording has gaps: {stderr}");
}

/// A recording with a hole (the origin stops for 3 s, longer than its 1-s buffer): its hole is
/// named by the recording, so the check reports it as warnings (the media's gap, the segment
/// stretched over it), not errors, and the report draws it.
#[test]
fn a_recorded_hole_is_a_warning_and_is_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let recording = tmp.path().join("recording");
    record_with_a_hole(&recording);
    let run = report(&recording, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let html = read_html(&recording);
    let findings: Vec<String> = select(&html, "#finding-table tbody tr")
        .iter()
        .map(|r| r.text().collect())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.contains("a hole the recording names")),
        "{findings:?}"
    );
    assert!(
        findings.iter().all(|f| f.starts_with("warning")),
        "{findings:?}"
    );
    assert!(!select(&html, "figure.timeline rect.hole").is_empty());
}

/// Opens the page in headless Chromium: its DOM (parsed), and the console's lines.
fn open_in_chromium(chromium: &Path, page: &Path) -> (Html, Vec<String>) {
    let url = format!("file://{}", page.display());
    let run = run_chromium(
        chromium,
        &["--dump-dom".to_string()],
        &url,
        Duration::from_secs(120),
    )
    .unwrap();
    assert!(
        run.status.is_some_and(|s| s.success()),
        "Chromium failed on {url}: {}",
        run.log
    );
    let console = run
        .console(50)
        .into_iter()
        .filter(|l| l.contains("CONSOLE"))
        .map(str::to_string)
        .collect();
    (Html::parse_document(&run.stdout), console)
}

/// A screenshot of the page, `width`×`height`: checked to decode at that size and not to be
/// blank (more than one colour, and some dark text on the light scheme).
fn screenshot(chromium: &Path, page: &Path, to: &Path, width: u32, height: u32) {
    let run = run_chromium(
        chromium,
        &[
            format!("--screenshot={}", to.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".to_string(),
            "--force-device-scale-factor=1".to_string(),
        ],
        &format!("file://{}", page.display()),
        Duration::from_secs(120),
    )
    .unwrap();
    assert!(run.status.is_some_and(|s| s.success()), "{}", run.log);
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(to).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (width, height));
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = bytes.chunks(channels).collect();
    let distinct: HashSet<&[u8]> = pixels.iter().copied().take(2_000_000).collect();
    assert!(distinct.len() > 10, "{} colours", distinct.len());
    let dark = pixels
        .iter()
        .filter(|p| p.iter().take(3).all(|c| *c < 80))
        .count();
    assert!(dark > 1000, "{dark} dark pixels: no text?");
}

#[test]
fn reports_open_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "SKIPPED: no chromium on the PATH (.ci/run installs it): the reports are not opened in a browser"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // A live recording with a hole: the origin stops for 3 s, longer than its 1-s buffer.
    let recording = tmp.path().join("recording");
    record_with_a_hole(&recording);
    let cases = [
        ("sample", sample(tmp.path()), 0),
        ("damaged", damaged(tmp.path()), 1),
        ("recording", recording, 0),
    ];
    for (name, dir, code) in &cases {
        let run = report(dir, &[]);
        assert_eq!(
            run.code,
            Some(*code),
            "{name}: {}{}",
            run.stdout,
            run.stderr
        );
        let page = dir.join("report.html");
        let (dom, console) = open_in_chromium(&chromium, &page);
        assert!(console.is_empty(), "{name}: console: {console:?}");
        let written = read_html(dir);
        let reps = table(&written).len();
        let sets = select(&written, "figure.bitrate").len();
        // What Chromium built holds what was written.
        check_structure(&dom, reps, sets);
        assert_eq!(reps, table(&dom).len());
        if *name == "recording" {
            let facts: String = select(&dom, "#presentation")
                .iter()
                .map(|e| e.text().collect::<String>())
                .collect();
            assert!(facts.contains("live recording"), "{facts}");
            assert!(facts.contains("Recording span"), "{facts}");
            assert!(facts.contains("Clock"), "{facts}");
            let holes = select(&dom, "figure.timeline rect.hole");
            assert!(!holes.is_empty(), "the recording's hole is drawn");
            let desc: String = select(&dom, "figure.timeline desc")[0].text().collect();
            assert!(desc.contains("holes in the media"), "{desc}");
        }
        let shot = dir.join("report.png");
        screenshot(&chromium, &page, &shot, 1280, 2000);
        if *name == "sample" {
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
            std::fs::copy(&shot, &target).unwrap();
            if std::env::var_os("DASHGET_UPDATE_SCREENSHOT").is_some() {
                std::fs::copy(
                    &shot,
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.png"),
                )
                .unwrap();
            }
        }
    }
}
