//! `dashget`: download every segment of every representation of a DASH presentation.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Download every segment of every representation of an MPEG-DASH presentation, in parallel,
/// resumably, into a local tree that mirrors the manifest's layout.
#[derive(Debug, Parser)]
#[command(name = "dashget", version, about)]
struct Args {
    /// The manifest: an http(s) URL or a local file.
    #[arg(default_value = "", hide_default_value = true)]
    mpd: String,
    /// Requests in flight at once.
    #[arg(short = 't', long = "threads", visible_alias = "max-threads", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    threads: u32,
    /// Output folder.
    #[arg(short = 'o', long = "output", default_value = ".")]
    output: PathBuf,
    /// Only these representations (by id).
    #[arg(short = 'r', long = "reps", num_args = 1..)]
    reps: Vec<String>,
    /// Attempts after the first, per segment, for retryable failures.
    #[arg(long, default_value_t = 5)]
    retries: u32,
    /// Connect and idle-read timeout, in seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Extra request header, "Name: value" (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// User-Agent header.
    #[arg(long = "user-agent")]
    user_agent: Option<String>,
    /// Re-check the size of every finished file against the server; re-download mismatches.
    #[arg(long)]
    verify: bool,
    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
    /// Print more detail (one line per request).
    #[arg(short, long)]
    verbose: bool,
    /// No progress bar, even on a terminal.
    #[arg(long = "no-progress")]
    no_progress: bool,
    /// Print the plan (every segment) and download nothing.
    #[arg(long)]
    list: bool,
    /// Machine-readable output: with --list one JSON object per segment, else the summary as JSON.
    #[arg(long)]
    json: bool,
    /// The URL the manifest is resolved against (for a local file).
    #[arg(long = "base-url")]
    base_url: Option<String>,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    // `-r a b URL`: the repeatable -r swallows the manifest; it is the last value.
    if args.mpd.is_empty() {
        match args.reps.pop() {
            Some(last) => args.mpd = last,
            None => {
                eprintln!("dashget: missing the manifest (an MPD URL or file); see dashget --help");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dashget: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dashget: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs_f64(args.timeout))
        .build()?;
    let loaded = dashget::mpd::load(&args.mpd, args.base_url.as_deref(), &client).await?;
    let mut plan = dashget::plan::plan(&loaded.bytes, &loaded.url)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.mpd))?;
    let unknown = plan.retain_representations(&args.reps);
    if !unknown.is_empty() {
        anyhow::bail!(
            "{}: no representation with id {}",
            args.mpd,
            unknown.join(", ")
        );
    }
    if args.list {
        match print_plan(&plan, args.json) {
            // `dashget --list ... | head` is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("dashget: downloading is not available in this build");
    Ok(ExitCode::from(2))
}

/// `--list`: one line per segment, in plan order; with `--json`, one JSON object per line.
fn print_plan(plan: &dashget::plan::Plan, json: bool) -> std::io::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (rep, segment) in plan.segments() {
        let path = segment.path.to_string_lossy();
        if json {
            let mut object = serde_json::json!({
                "period": rep.period,
                "representation": rep.id,
                "kind": segment.kind.as_str(),
                "url": segment.url.as_str(),
                "range": segment.range.map(|r| r.to_string()),
                "path": path,
            });
            if let Some(map) = object.as_object_mut() {
                if let Some(n) = segment.number {
                    map.insert("number".into(), n.into());
                }
                if let Some(t) = segment.time {
                    map.insert("time".into(), t.into());
                }
                if let Some(d) = segment.duration {
                    map.insert("duration".into(), d.into());
                }
            }
            writeln!(out, "{object}")?;
        } else {
            write!(
                out,
                "{:<6} {:<12} {:<5}",
                rep.period,
                rep.id,
                segment.kind.as_str()
            )?;
            if let Some(n) = segment.number {
                write!(out, " #{n}")?;
            }
            if let (Some(t), Some(d)) = (segment.time, segment.duration) {
                write!(out, " t={t} d={d}")?;
            }
            write!(out, " {}", segment.url)?;
            if let Some(r) = segment.range {
                write!(out, " bytes={r}")?;
            }
            writeln!(out, " -> {path}")?;
        }
    }
    out.flush()
}
