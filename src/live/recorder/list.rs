//! `dashget --list` on a live manifest: the segments available now (inside the time-shift
//! buffer, by the synchronised clock), in the `--list` format of a static plan.

use std::io::{self, Write};

use serde::Serialize;

use super::net::EngineTime;
use super::{LiveEvent, LiveSink, RecordError, RecordOptions};
use crate::fetch::Cancel;
use crate::live::LivePresentation;
use crate::live::clock::{LocalClock, synchronise};

/// One line of the live `--list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListedSegment {
    /// `Period@id` (or index).
    pub period: String,
    /// `Representation@id`.
    pub representation: String,
    /// `init` or `media`.
    pub kind: &'static str,
    /// Absolute URL.
    pub url: String,
    /// `first-last`, or null.
    pub range: Option<String>,
    /// Local path, relative to the output folder.
    pub path: String,
    /// `$Number$` (media segments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Media time in the timescale (media segments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// Duration in the timescale (media segments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

/// The segments of the selected representations available now: per representation its init
/// segment (once available), then its media segments in the buffer, oldest first.
pub async fn available_now(
    client: &reqwest::Client,
    options: &RecordOptions,
    first: Option<crate::fetch::FetchedManifest>,
    sink: &dyn LiveSink,
    cancel: &Cancel,
) -> Result<Vec<ListedSegment>, RecordError> {
    let url = &options.manifest_url;
    let fetched = match first {
        Some(fetched) if fetched.bytes.is_some() => fetched,
        _ => super::first_manifest(client, options, cancel).await?,
    };
    let bytes = fetched.bytes.clone().unwrap_or_default();
    let live =
        LivePresentation::parse(&bytes, &fetched.final_url).map_err(|error| RecordError::Live {
            url: url.to_string(),
            error,
        })?;
    let exchange = super::session::exchange_of(&fetched);
    let sync = synchronise(
        &live.attributes.utc_timing,
        &exchange,
        &mut EngineTime(client.clone()),
    )
    .await?;
    for warning in &sync.warnings {
        sink.event(&LiveEvent::Warning(warning));
    }
    let t = sync.server_time(LocalClock::new().now()) - i128::from(sync.uncertainty);
    let layout = &fetched.final_url;
    let path = |u: &url::Url| crate::store::journal_key(&crate::layout::local_path(layout, u));
    let mut out = Vec::new();
    for rep in &live.representations {
        if !options.reps.is_empty() && !options.reps.contains(&rep.id) {
            continue;
        }
        let period = live.period(rep).label.clone();
        if let Some((init, range)) = &rep.init
            && t >= live.init_available_from(rep)
        {
            out.push(ListedSegment {
                period: period.clone(),
                representation: rep.id.clone(),
                kind: "init",
                url: init.to_string(),
                range: range.map(|r| r.to_string()),
                path: path(init),
                number: None,
                time: None,
                duration: None,
            });
        }
        for segment in live.available_segments(rep, t, None, usize::MAX) {
            out.push(ListedSegment {
                period: period.clone(),
                representation: rep.id.clone(),
                kind: "media",
                range: segment.range.map(|r| r.to_string()),
                path: path(&segment.url),
                url: segment.url.to_string(),
                number: Some(segment.number),
                time: Some(segment.time),
                duration: Some(segment.duration),
            });
        }
    }
    Ok(out)
}

/// Writes the list as `--list` does: one JSON object per line with `json`, else one line of
/// text per segment.
pub fn write_list(list: &[ListedSegment], json: bool, out: &mut impl Write) -> io::Result<()> {
    for s in list {
        if json {
            serde_json::to_writer(&mut *out, s).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
        } else {
            write!(
                out,
                "{:<6} {:<12} {:<5}",
                s.period, s.representation, s.kind
            )?;
            if let Some(n) = s.number {
                write!(out, " #{n}")?;
            }
            if let (Some(t), Some(d)) = (s.time, s.duration) {
                write!(out, " t={t} d={d}")?;
            }
            write!(out, " {}", s.url)?;
            if let Some(r) = &s.range {
                write!(out, " bytes={r}")?;
            }
            writeln!(out, " -> {}", s.path)?;
        }
    }
    out.flush()
}
