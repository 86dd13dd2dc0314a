//! `mp4dump`: dump the ISO-BMFF box tree of DASH representations (or of MP4 files).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use dashget::check::{CheckEvents, CheckOptions, CheckSummary, Finding, check_folder};
use dashget::dump::{self, DumpError, DumpOptions};
use dashget::dump_folder::{FolderOptions, RepresentationOutcome, describe_missing, dump_folder};

/// Output format of the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Bento4's text layout, plus offsets.
    Text,
    /// Bento4's JSON tree, plus offsets.
    Json,
}

/// Dump the full ISO-BMFF box tree of every segment of a DASH presentation's fMP4
/// representations into `{rep_id}.dump`, or of MP4 files to standard output.
#[derive(Debug, Parser)]
#[command(name = "mp4dump", version, about)]
struct Args {
    /// MP4 files to dump to standard output (instead of a presentation folder).
    files: Vec<PathBuf>,
    /// The folder holding the manifest and its downloaded segments.
    #[arg(short = 'd', long = "directory", default_value = ".")]
    directory: PathBuf,
    /// Which manifest, when the folder holds several.
    #[arg(long)]
    mpd: Option<String>,
    /// Only these representations (by id).
    #[arg(short = 'r', long = "reps", num_args = 1..)]
    reps: Vec<String>,
    /// 0..3 as Bento4; 4 adds what Bento4 does not decode.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=4))]
    verbosity: u8,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write `{rep_id}.mp4`: the representation's segments concatenated in order.
    #[arg(long)]
    concat: bool,
    /// Check the presentation's conformance instead of dumping it: one line per finding
    /// (`--format json`: one JSON object per line), then a summary.
    #[arg(long, conflicts_with_all = ["files", "concat"])]
    check: bool,
    /// Check the presentation and write `report.html` beside its manifest: one self-contained
    /// page with the representations' measures, charts, findings and box trees.
    #[arg(long, conflicts_with_all = ["files", "concat", "check", "format"])]
    report: bool,
    /// Write a man page or shell completions (from these very options) to standard output,
    /// and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    generate: Option<dashget::cli::Generate>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(what) = args.generate {
        use clap::CommandFactory;
        return match dashget::cli::generate(what, Args::command(), &mut io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mp4dump: --generate: {e}");
                ExitCode::from(2)
            }
        };
    }
    let opts = DumpOptions {
        verbosity: args.verbosity,
        format: match args.format {
            Format::Text => dump::Format::Text,
            Format::Json => dump::Format::Json,
        },
    };
    if args.check {
        return run_check(&args);
    }
    if args.report {
        return run_report(&args);
    }
    if args.files.is_empty() {
        return run_folder(&args, opts);
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = if args.files.len() == 1 {
        dump::dump_path(&args.files[0], &mut out, &opts).map(|_| Vec::new())
    } else {
        dump::dump_paths(&args.files, &mut out, &opts)
    };
    match result {
        Ok(missing) if missing.is_empty() => ExitCode::SUCCESS,
        Ok(missing) => {
            let _ = out.flush();
            for m in missing {
                eprintln!("mp4dump: cannot read {}: {}", m.path, m.reason);
            }
            ExitCode::from(1)
        }
        Err(DumpError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("mp4dump: {e}");
            ExitCode::from(1)
        }
    }
}

/// `mp4dump [-d DIR]`: every fMP4 representation of the presentation into `{rep_id}.dump`.
fn run_folder(args: &Args, dump: DumpOptions) -> ExitCode {
    let options = FolderOptions {
        folder: args.directory.clone(),
        mpd: args.mpd.clone(),
        reps: args.reps.clone(),
        dump,
        concat: args.concat,
    };
    let report = match dump_folder(&options) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("mp4dump: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut dumped, mut skipped, mut segments, mut missing, mut boxes, mut bytes) =
        (0, 0, 0, 0, 0, 0);
    println!("manifest {}", report.manifest.display());
    for outcome in &report.outcomes {
        match outcome {
            RepresentationOutcome::Dumped {
                id,
                output,
                concat,
                stats,
            } => {
                dumped += 1;
                segments += stats.segments;
                missing += stats.missing.len();
                boxes += stats.boxes;
                bytes += stats.bytes;
                let name = output
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                print!(
                    "dumped   {id}: {} segments, {} boxes, {} bytes -> {name}",
                    stats.segments, stats.boxes, stats.bytes
                );
                if let Some(c) = concat.as_ref().and_then(|c| c.file_name()) {
                    print!(", {}", c.to_string_lossy());
                }
                if stats.malformed_segments > 0 {
                    print!(" ({} malformed segments)", stats.malformed_segments);
                }
                println!();
                for line in describe_missing(&stats.missing) {
                    eprintln!("mp4dump: {id}: missing {line}");
                }
            }
            RepresentationOutcome::Skipped { id, reason } => {
                skipped += 1;
                println!("skipped  {id}: {reason}");
            }
            RepresentationOutcome::Failed { id, reason } => {
                eprintln!("mp4dump: {id}: cannot write the dump: {reason}");
            }
        }
    }
    println!(
        "{dumped} representations dumped, {skipped} skipped; {segments} segments, {missing} missing, {boxes} boxes, {bytes} bytes"
    );
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Findings printed as they come, a progress bar on a terminal.
struct CheckPrinter {
    json: bool,
    bar: Option<indicatif::ProgressBar>,
}

impl CheckPrinter {
    fn line(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }
}

impl CheckEvents for CheckPrinter {
    fn finding(&mut self, finding: &Finding) {
        let line = if self.json {
            serde_json::to_string(finding).unwrap_or_default()
        } else {
            finding.text_line()
        };
        self.line(&line);
    }

    fn progress(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }
}

/// `mp4dump --check`: findings, then a summary; exit 1 when an error was found.
fn run_check(args: &Args) -> ExitCode {
    let options = CheckOptions {
        folder: args.directory.clone(),
        mpd: args.mpd.clone(),
        reps: args.reps.clone(),
    };
    let bar = io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr_with_hz(10),
        );
        let style = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} segments checked, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    let mut printer = CheckPrinter {
        json: args.format == Format::Json,
        bar,
    };
    let result = check_folder(&options, &mut printer);
    if let Some(bar) = &printer.bar {
        bar.finish_and_clear();
    }
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("mp4dump: {e}");
            return ExitCode::from(2);
        }
    };
    print_check_summary(&summary, printer.json);
    if summary.error_count() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `mp4dump --report`: the page, its path, the check's summary; exit 1 when an error was
/// found, 2 when no page could be written.
fn run_report(args: &Args) -> ExitCode {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let options = dashget::report::ReportOptions {
        folder: args.directory.clone(),
        mpd: args.mpd.clone(),
        reps: args.reps.clone(),
        generator: format!("mp4dump {}", env!("CARGO_PKG_VERSION")),
        now,
    };
    let outcome = match dashget::report::write_report(&options) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("mp4dump: {e}");
            return ExitCode::from(2);
        }
    };
    for line in outcome.summary.text_lines() {
        println!("{line}");
    }
    println!(
        "report {} ({} bytes)",
        outcome.path.display(),
        outcome.bytes
    );
    if outcome.summary.error_count() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_check_summary(summary: &CheckSummary, json: bool) {
    if json {
        let skipped: Vec<_> = summary
            .skipped
            .iter()
            .map(|(id, reason)| serde_json::json!({"representation": id, "reason": reason}))
            .collect();
        let line = serde_json::json!({"summary": {
            "manifest": summary.manifest.display().to_string(),
            "representations": summary.representations,
            "segments": summary.segments,
            "skipped": skipped,
            "errors": summary.errors,
            "warnings": summary.warnings,
        }});
        println!("{line}");
        return;
    }
    for line in summary.text_lines() {
        println!("{line}");
    }
}
