//! `dashget --list` on a live manifest: the segments available now (inside the time-shift
//! buffer, by the synchronised clock), written by the static plan's list writer
//! ([`crate::plan::list::write_segment`]).

use std::io::{self, Write};
use std::path::PathBuf;

use super::net::EngineTime;
use super::{LiveEvent, LiveSink, RecordError, RecordOptions};
use crate::fetch::Cancel;
use crate::live::LivePresentation;
use crate::live::clock::{LocalClock, synchronise};

/// What is available of a live manifest at one instant, ready to be listed.
pub struct LiveListing {
    live: LivePresentation,
    /// The synchronised server time of the listing.
    now: crate::live::time::UnixNanos,
    layout: url::Url,
    reps: Vec<String>,
}

/// Fetches the manifest (unless `first` is it), synchronises the clock, and returns what can be
/// listed now. Representations that cannot be followed live are named in warnings.
pub async fn available_now(
    client: &reqwest::Client,
    options: &RecordOptions,
    first: Option<crate::fetch::FetchedManifest>,
    sink: &dyn LiveSink,
    cancel: &Cancel,
) -> Result<LiveListing, RecordError> {
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
    for skipped in &live.skipped {
        sink.event(&LiveEvent::Warning(&format!(
            "skipped (cannot be recorded live): {skipped}"
        )));
    }
    let exchange = super::session::exchange_of(&fetched);
    let sync = synchronise(
        &live.attributes.utc_timing,
        &exchange,
        &mut EngineTime(client.clone()),
    )
    .await?;
    for warning in sync.warnings.iter().chain(&live.warnings) {
        sink.event(&LiveEvent::Warning(warning));
    }
    let now = sync.server_time(LocalClock::new().now()) - i128::from(sync.uncertainty);
    Ok(LiveListing::new(
        live,
        now,
        fetched.final_url,
        options.reps.clone(),
    ))
}

impl LiveListing {
    /// What is available of `live` at server time `now` (the synchronised clock), for the
    /// representations `reps` (all when empty); local paths relative to `layout`, the URL the
    /// manifest came from.
    pub fn new(
        live: LivePresentation,
        now: crate::live::time::UnixNanos,
        layout: url::Url,
        reps: Vec<String>,
    ) -> LiveListing {
        LiveListing {
            live,
            now,
            layout,
            reps,
        }
    }

    fn selected(&self) -> impl Iterator<Item = &crate::live::LiveRepresentation> {
        self.live
            .representations
            .iter()
            .filter(|r| self.reps.is_empty() || self.reps.contains(&r.id))
    }

    /// How many media segments are available now, over the selected representations.
    pub fn count(&self) -> u128 {
        self.selected()
            .map(|rep| self.live.available_count(rep, self.now))
            .sum()
    }

    /// Why there is nothing to list, when there is nothing (no representation can be
    /// followed, or every segment the manifest describes has left the time-shift buffer).
    pub fn nothing_because(&self) -> Option<String> {
        if self.count() > 0 {
            return None;
        }
        if self.selected().next().is_none() {
            return Some(if self.live.skipped.is_empty() {
                "the manifest has no representation to list".into()
            } else {
                format!(
                    "no representation can be followed live ({})",
                    self.live
                        .skipped
                        .iter()
                        .map(|s| s.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            });
        }
        let newest = self
            .selected()
            .filter_map(|rep| self.live.live_edge(rep, self.now))
            .max_by_key(|s| s.due_by);
        Some(match newest {
            Some(segment) => format!(
                "no segment is in the time-shift buffer now: the newest one the manifest describes left it {:.0} s ago (a captured manifest?)",
                (self.now - segment.due_by) as f64 / 1e9
            ),
            None => "no segment is available yet".into(),
        })
    }

    /// Writes the listing as `--list` does (see [`write_list`]), one representation after the
    /// other, its init segment first, streaming (memory stays flat however deep the buffer).
    /// Returns the number of lines.
    pub fn write(&self, json: bool, out: &mut impl Write) -> io::Result<u64> {
        use crate::plan::{Segment, SegmentKind, list::write_segment};
        let path = |u: &url::Url| {
            PathBuf::from(crate::store::journal_key(&crate::layout::local_path(
                &self.layout,
                u,
            )))
        };
        let mut lines = 0u64;
        for rep in self.selected() {
            let period = &self.live.period(rep).label;
            if let Some((init, range)) = &rep.init
                && self.now >= self.live.init_available_from(rep)
            {
                let init = Segment {
                    kind: SegmentKind::Init,
                    url: init.clone(),
                    range: *range,
                    path: path(init),
                    number: None,
                    time: None,
                    duration: None,
                };
                write_segment(period, &rep.id, &init, json, out)?;
                lines += 1;
            }
            for segment in self.live.segments(rep, self.now, None, false) {
                let media = Segment {
                    kind: SegmentKind::Media,
                    path: path(&segment.url),
                    url: segment.url,
                    range: segment.range,
                    number: Some(segment.number),
                    time: Some(segment.time),
                    duration: Some(segment.duration),
                };
                write_segment(period, &rep.id, &media, json, out)?;
                lines += 1;
            }
        }
        out.flush()?;
        Ok(lines)
    }
}
