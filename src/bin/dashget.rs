//! `dashget`: download every segment of every representation of a DASH presentation.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use dashget::fetch;

#[path = "dashget/check.rs"]
mod check;
#[path = "dashget/live.rs"]
mod live;
#[path = "dashget/progress.rs"]
mod progress;

use progress::Verbosity;

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
    /// Fetch a file at least this large in pieces over several connections (within
    /// --threads), when the server serves byte ranges: bytes, or K, M, G; 0 never.
    #[arg(long, value_name = "SIZE", default_value = "8M", value_parser = dashget::cli::parse_size)]
    split_size: u64,
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
    /// With --list: expand each SegmentBase through its index (one ranged request for its
    /// sidx): one media entry per subsegment, with its byte range, time and duration.
    #[arg(long, requires = "list")]
    expand_index: bool,
    /// Machine-readable output: with --list one JSON object per segment, else the summary as JSON.
    #[arg(long)]
    json: bool,
    /// The URL the manifest is resolved against (for a local file).
    #[arg(long = "base-url")]
    base_url: Option<String>,
    /// Trust this CA certificate (PEM) for HTTPS, besides the system's (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_certs: Vec<PathBuf>,
    /// Do not verify TLS certificates at all (anyone on the path can then alter the download).
    #[arg(long)]
    insecure: bool,
    /// Live: start from the oldest segment in the time-shift buffer, not the live edge.
    #[arg(long = "from-start")]
    from_start: bool,
    /// Live: stop once every representation holds this much media (seconds) from where it began.
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Live: stop at this wall-clock time (RFC 3339, e.g. 2026-11-28T21:00:00Z).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Live: refresh with the full manifest even where it offers MPD Patch (`PatchLocation`).
    #[arg(long = "no-mpd-patch")]
    no_mpd_patch: bool,
    /// Live: ask for low-latency segments (availabilityTimeComplete="false") only once they
    /// are complete, not early as they are written.
    #[arg(long = "no-low-latency")]
    no_low_latency: bool,
    /// Run mp4dump --check's checks on each segment as it lands; an error found makes the exit
    /// code 1.
    #[arg(long)]
    check: bool,
    /// Write a man page or shell completions (from these very options) to standard output,
    /// and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    generate: Option<dashget::cli::Generate>,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if let Some(what) = args.generate {
        use clap::CommandFactory;
        return match dashget::cli::generate(what, Args::command(), &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("dashget: --generate: {e}");
                ExitCode::from(2)
            }
        };
    }
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
    // One thread runs every request (as curl does): a download of small files is a chain of
    // short steps, and handing them between worker threads cost more than the steps themselves
    // (3 futex calls per file, half of the system time: BENCHMARKS.md). Disk writes of large
    // files and fsyncs still go to tokio's blocking pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
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
            // Each cause once: an error that shows its source is not followed by it again.
            eprintln!("dashget: {}", fetch::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        return list(args).await;
    }
    download(args).await
}

/// `--list`: plan the manifest (fetched with the same headers, user agent and timeout as a
/// download) and print it.
async fn list(args: Args) -> anyhow::Result<ExitCode> {
    let options = fetch_options(&args)?;
    let client = fetch::build_client(&options)?;
    // The manifest is retried like any request, silently: --list prints the plan, or one line
    // saying why there is none.
    let cancel = fetch::Cancel::new();
    let loaded = fetch::load_plan(
        &mirror_options(&args, options.clone()),
        &client,
        &fetch::NoProgress,
        &cancel,
    )
    .await;
    let plan = match loaded {
        Ok((_, plan)) => plan,
        Err(fetch::MirrorError::Live(first)) => {
            return list_live(&args, options, &client, *first).await;
        }
        Err(e) => return Err(e.into()),
    };
    for warning in &plan.warnings {
        eprintln!("dashget: warning: {warning}");
    }
    let mut expanded = std::collections::HashMap::new();
    let mut unexpanded = 0;
    if args.expand_index {
        for (i, rep) in plan.representations.iter().enumerate() {
            match fetch::expand_index(&client, rep, &options, &cancel).await {
                Ok(Some(media)) => {
                    expanded.insert(i, media);
                }
                Ok(None) => {}
                Err(e) => {
                    unexpanded += 1;
                    eprintln!(
                        "dashget: representation {} (period {}): cannot expand its index: {e}",
                        rep.id, rep.period
                    );
                }
            }
        }
    }
    let printed = {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
        dashget::plan::list::write_plan_expanded(&plan, &expanded, args.json, &mut out)
    };
    match printed {
        // `dashget --list ... | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    if unexpanded > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Environment settings: the first retry delay in milliseconds (tests shorten it), and an fsync
/// of every file before its rename (durability against power cuts; see `FetchOptions::sync`).
const ENV_BACKOFF_MS: &str = "DASHGET_BACKOFF_MS";
const ENV_FSYNC: &str = "DASHGET_FSYNC";

/// The download: mirror the presentation, print the summary, exit 0 / 1 (failures) / 130
/// (interrupted).
async fn download(args: Args) -> anyhow::Result<ExitCode> {
    let options = fetch_options(&args)?;
    let verbosity = if args.quiet {
        Verbosity::Quiet
    } else if args.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let use_bar =
        verbosity >= Verbosity::Normal && !args.no_progress && std::io::stderr().is_terminal();
    let bar = use_bar.then(|| Arc::new(progress::BarSink::new(verbosity)));
    let sink: Arc<dyn fetch::ProgressSink> = match &bar {
        Some(bar) => bar.clone(),
        None => Arc::new(progress::LineSink::new(verbosity)),
    };
    let checking = args.check.then(|| {
        Arc::new(check::CheckingSink::new(
            sink.clone(),
            &args.output,
            bar.clone(),
        ))
    });
    let sink: Arc<dyn fetch::ProgressSink> = match &checking {
        Some(checking) => checking.clone(),
        None => sink,
    };
    let cancel = fetch::Cancel::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
            // A second Ctrl-C does not wait for the writes in flight.
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let mut mirror = mirror_options(&args, options.clone());
    if args.check {
        mirror.fetch.keep_boxes = check::KEEP_BOXES;
    }
    let result = match fetch::mirror(&mirror, sink, &cancel).await {
        Err(fetch::MirrorError::Live(first)) => {
            if let Some(bar) = &bar {
                bar.finish();
            }
            return record(&args, options, *first, verbosity, use_bar, &cancel).await;
        }
        other => other,
    };
    if let Some(bar) = &bar {
        bar.finish();
    }
    let summary = result?;
    if (args.from_start || args.duration.is_some() || args.until.is_some())
        && verbosity >= Verbosity::Normal
    {
        eprintln!(
            "dashget: warning: --from-start, --duration and --until apply to live (dynamic) manifests; this one is static and was mirrored whole"
        );
    }
    let checked = checking.and_then(|c| c.finish());
    if args.json {
        let mut value = serde_json::to_value(&summary)?;
        if let (Some(checked), Some(object)) = (&checked, value.as_object_mut()) {
            object.insert("check".into(), serde_json::to_value(checked)?);
        }
        println!("{value}");
        if !summary.failures.is_empty() && verbosity >= Verbosity::Quiet {
            progress::print_summary(&summary, &args.output, Verbosity::Quiet);
        }
    } else {
        progress::print_summary(&summary, &args.output, verbosity);
        if let Some(checked) = &checked
            && verbosity >= Verbosity::Normal
        {
            check::print_summary(checked);
        }
    }
    let check_errors = checked.as_ref().is_some_and(|c| c.error_count() > 0);
    Ok(if summary.interrupted {
        ExitCode::from(130)
    } else if summary.failed_files > 0 || check_errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Exit code of a recording that stopped on Ctrl-C (after writing what was recorded).
const EXIT_INTERRUPTED: u8 = 130;

/// The recorder's options from the command line.
fn record_options(
    args: &Args,
    fetch: fetch::FetchOptions,
) -> anyhow::Result<dashget::live::recorder::RecordOptions> {
    let url = url::Url::parse(&args.mpd)?;
    let mut options = dashget::live::recorder::RecordOptions::new(url, args.output.clone(), fetch);
    options.reps = args.reps.clone();
    options.from_start = args.from_start;
    options.mpd_patch = !args.no_mpd_patch;
    options.low_latency = !args.no_low_latency;
    if let Some(d) = args.duration {
        if !(d.is_finite() && d > 0.0) {
            anyhow::bail!("--duration must be a positive number of seconds");
        }
        options.duration = Some(Duration::from_secs_f64(d));
    }
    if let Some(text) = &args.until {
        let at = dashget::live::time::parse_datetime(text)
            .ok()
            .filter(|t| t.has_zone)
            .ok_or_else(|| {
                anyhow::anyhow!("--until {text:?} is not an RFC 3339 time with a zone")
            })?;
        options.until = Some(at.instant);
    }
    if let Some(ms) = std::env::var(ENV_LIVE_GRACE_MS)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.gone_grace = Duration::from_millis(ms);
    }
    Ok(options)
}

/// How long a live manifest may stay 404/410 before the presentation counts as ended, in
/// milliseconds (tests shorten it).
const ENV_LIVE_GRACE_MS: &str = "DASHGET_LIVE_GRACE_MS";

/// Records a live presentation; exit 0 (ended or limit reached, nothing missing), 1 (gaps),
/// 130 (Ctrl-C).
async fn record(
    args: &Args,
    options: fetch::FetchOptions,
    first: fetch::FetchedManifest,
    verbosity: Verbosity,
    use_bar: bool,
    cancel: &fetch::Cancel,
) -> anyhow::Result<ExitCode> {
    let mut record = record_options(args, options)?;
    if args.check {
        record.check = true;
        record.fetch.keep_boxes = check::KEEP_BOXES;
    }
    let client = fetch::build_client(&record.fetch)?;
    let lines = live::LiveLines::new(verbosity, use_bar);
    let result =
        dashget::live::recorder::record(&client, &record, Some(first), &lines, cancel).await;
    lines.finish();
    let summary = result?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
        if !summary.gaps.is_empty() {
            live::print_summary(&summary, &args.output, Verbosity::Quiet);
        }
    } else {
        live::print_summary(&summary, &args.output, verbosity);
        if let Some(checked) = &summary.check
            && verbosity >= Verbosity::Normal
        {
            check::print_summary(checked);
        }
    }
    let check_errors = summary.check.as_ref().is_some_and(|c| c.error_count() > 0);
    Ok(
        if summary.stopped == dashget::live::recorder::StopReason::Interrupted {
            ExitCode::from(EXIT_INTERRUPTED)
        } else if summary.gaps.is_empty() && !check_errors {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// `--list` on a live manifest: the segments available now.
async fn list_live(
    args: &Args,
    options: fetch::FetchOptions,
    client: &reqwest::Client,
    first: fetch::FetchedManifest,
) -> anyhow::Result<ExitCode> {
    let record = record_options(args, options)?;
    let lines = live::LiveLines::new(
        if args.quiet {
            Verbosity::Quiet
        } else {
            Verbosity::Normal
        },
        false,
    );
    let listing = dashget::live::recorder::available_now(
        client,
        &record,
        Some(first),
        &lines,
        &fetch::Cancel::new(),
    )
    .await?;
    if let Some(why) = listing.nothing_because() {
        anyhow::bail!("{}: nothing to list: {why}", args.mpd);
    }
    let count = listing.count();
    if count > dashget::plan::MAX_SEGMENTS as u128 {
        anyhow::bail!(
            "{}: {count} segments are in the time-shift buffer now, more than the {} a listing holds (the manifest gives no timeShiftBufferDepth?)",
            args.mpd,
            dashget::plan::MAX_SEGMENTS
        );
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match listing.write(args.json, &mut out) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => {
            other?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The engine's options from the command line (and the environment settings above).
fn fetch_options(args: &Args) -> anyhow::Result<fetch::FetchOptions> {
    let mut headers = Vec::new();
    for text in &args.headers {
        match fetch::parse_header(text) {
            Some(header) => headers.push(header),
            None => anyhow::bail!("invalid header {text:?} (expected \"Name: value\")"),
        }
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let mut options = fetch::FetchOptions {
        threads: args.threads as usize,
        retries: args.retries,
        timeout: Duration::from_secs_f64(args.timeout),
        headers,
        user_agent: args.user_agent.clone(),
        verify: args.verify,
        ca_certs: args.ca_certs.clone(),
        insecure: args.insecure,
        split_size: args.split_size,
        ..fetch::FetchOptions::default()
    };
    if args.insecure && !args.quiet {
        eprintln!(
            "dashget: warning: --insecure: TLS certificates are not verified; \
             anyone on the path can alter what is downloaded"
        );
    }
    if let Some(ms) = std::env::var(ENV_BACKOFF_MS)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.backoff_base = Duration::from_millis(ms);
    }
    if std::env::var_os(ENV_FSYNC).is_some_and(|v| v == "1") {
        options.sync = true;
    }
    Ok(options)
}

/// What to mirror, from the command line.
fn mirror_options(args: &Args, fetch: fetch::FetchOptions) -> fetch::MirrorOptions {
    fetch::MirrorOptions {
        source: args.mpd.clone(),
        base_url: args.base_url.clone(),
        output: args.output.clone(),
        reps: args.reps.clone(),
        fetch,
    }
}
