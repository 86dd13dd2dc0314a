//! Refreshing the manifest and the clock during a recording.

use std::time::Instant;

use url::Url;

use super::super::net::EngineTime;
use super::super::{LiveEvent, RecordError, StopReason};
use super::{Session, exchange_of};
use crate::fetch::{NoProgress, fetch_manifest};
use crate::live::clock::{LocalClock, synchronise};
use crate::live::time::UnixNanos;
use crate::live::{LivePresentation, PresentationEnd};

impl Session<'_> {
    /// When the manifest is next fetched (local time): never sooner than `minimumUpdatePeriod`
    /// after the start of the last fetch (it cannot have changed before); with a
    /// `minimumUpdatePeriod` of 0, or a timeline that has run out, once per shortest segment
    /// duration (when the next segment is due by the representations' cadence). None when the
    /// manifest says it never changes.
    pub(super) fn refresh_deadline(&self) -> Option<UnixNanos> {
        if self.refresh_now {
            return Some(self.fetched_at);
        }
        let mup = self.live.attributes.minimum_update_period.map(i128::from);
        let cadence = self
            .selected_reps()
            .filter_map(|r| self.live.shortest_segment(r))
            .min()
            .unwrap_or(1_000_000_000);
        let stuck = self.stuck(self.surely_now());
        let wait = match mup {
            Some(0) => cadence,
            Some(m) if stuck => m.max(cadence),
            Some(m) => m,
            None if stuck => cadence,
            None => return None,
        };
        Some(self.fetched_at + wait)
    }

    /// Refreshes the manifest when its snapshot has run out (or when a closed timeline has no
    /// next segment to wait for). A 404/410 that lasts past the grace period ends the recording.
    pub(super) async fn refresh_if_due(&mut self) -> Result<Option<StopReason>, RecordError> {
        let now = self.local.now();
        if self.refresh_deadline().is_none_or(|d| now < d) {
            return Ok(None);
        }
        self.refresh_now = false;
        match self.refresh_by_patch().await? {
            ByPatch::Applied(bytes) => {
                let url = self.snapshot_url.clone();
                return self.use_snapshot(bytes, &url);
            }
            ByPatch::NothingNew => return Ok(None),
            ByPatch::NotUsed => {}
        }
        let fetched = fetch_manifest(
            self.client,
            &self.refresh_url,
            Some(&self.validators),
            &self.options.fetch,
            &NoProgress,
            self.cancel,
        )
        .await;
        let fetched = match fetched {
            Ok(f) => f,
            Err(crate::fetch::ManifestError::Interrupted { .. }) => return Ok(None),
            Err(e) => {
                // The next attempt waits as a refresh would (at least the retry delay).
                self.fetched_at = now;
                self.last_attempt = Some(Instant::now());
                let text = e.to_string();
                if text.contains("HTTP 404") || text.contains("HTTP 410") {
                    let since = *self.gone_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.options.gone_grace {
                        return Ok(Some(StopReason::ManifestGone));
                    }
                }
                if !self.failing {
                    self.failing = true;
                    self.sink.event(&LiveEvent::Warning(&format!(
                        "{text}; going on with the last manifest, asking again"
                    )));
                }
                return Ok(None);
            }
        };
        self.fetched(&fetched);
        self.validators = fetched.validators.clone();
        let Some(bytes) = fetched.bytes else {
            return Ok(None);
        };
        self.traffic.full += 1;
        self.traffic.bytes += bytes.len() as u64;
        self.use_snapshot(bytes, &fetched.final_url)
    }

    /// Notes a successful fetch (of the manifest or of a patch): the refresh clock restarts
    /// from it, and a failing manifest is said to be back.
    fn fetched(&mut self, fetched: &crate::fetch::FetchedManifest) {
        if self.failing {
            self.failing = false;
            self.sink
                .event(&LiveEvent::Warning("the manifest can be fetched again"));
        }
        self.last_attempt = Some(Instant::now());
        self.gone_since = None;
        self.exchange = exchange_of(fetched);
        self.fetched_at = self.exchange.sent;
    }

    /// Refreshes through the manifest's `PatchLocation` when it offers one that is still valid
    /// (`MPD@publishTime` + `@ttl` not passed): the patch is fetched (one attempt) and applied
    /// to the manifest in use. Any failure is said once and falls back to the full manifest.
    async fn refresh_by_patch(&mut self) -> Result<ByPatch, RecordError> {
        let attributes = &self.live.attributes;
        let Some(location) = attributes.patch_location.clone() else {
            return Ok(ByPatch::NotUsed);
        };
        if !self.options.mpd_patch {
            return Ok(ByPatch::NotUsed);
        }
        let publish = attributes.publish_time.map(|p| p.instant);
        let expired = match (publish, location.ttl) {
            (Some(p), Some(ttl)) => self.surely_now() > p.saturating_add(i128::from(ttl)),
            (None, _) => true,
            _ => false,
        };
        if expired || attributes.id.is_none() {
            // Nothing to say: a patch location past its ttl, or a manifest a patch cannot
            // name, is simply not used.
            return Ok(ByPatch::NotUsed);
        }
        let Ok(url) = self.snapshot_url.join(&location.url) else {
            return Ok(self.patch_failed(&format!(
                "the PatchLocation \"{}\" is not a URL",
                location.url
            )));
        };
        let mut once = self.options.fetch.clone();
        once.retries = 0;
        let fetched =
            fetch_manifest(self.client, &url, None, &once, &NoProgress, self.cancel).await;
        let fetched = match fetched {
            Ok(fetched) => fetched,
            Err(crate::fetch::ManifestError::Interrupted { .. }) => return Ok(ByPatch::NothingNew),
            Err(e) => {
                let text = e.to_string();
                // 425 Too Early (livesim2): no newer version than the one in use yet.
                if text.contains("HTTP 425") {
                    self.fetched_at = self.local.now();
                    self.last_attempt = Some(Instant::now());
                    return Ok(ByPatch::NothingNew);
                }
                return Ok(self.patch_failed(&text));
            }
        };
        let Some(patch) = fetched.bytes.as_deref() else {
            self.fetched(&fetched);
            return Ok(ByPatch::NothingNew);
        };
        self.traffic.bytes += patch.len() as u64;
        match crate::mpd::patch::apply_patch(&self.manifest_text, patch) {
            Ok(patched) => {
                self.fetched(&fetched);
                self.traffic.patches += 1;
                if patched.publish_time.instant == patched.original_publish_time.instant {
                    return Ok(ByPatch::NothingNew);
                }
                Ok(ByPatch::Applied(patched.text.into_bytes()))
            }
            Err(e) => Ok(self.patch_failed(&format!("{url}: {e}"))),
        }
    }

    /// A patch that could not be had or applied: said once, counted, and the full manifest
    /// fetched instead.
    fn patch_failed(&mut self, reason: &str) -> ByPatch {
        self.traffic.patch_fallbacks += 1;
        if !self.patch_warned {
            self.patch_warned = true;
            self.sink.event(&LiveEvent::Warning(&format!(
                "MPD Patch: {reason}; fetching the full manifest instead (said once; the summary counts every fallback)"
            )));
        }
        ByPatch::NotUsed
    }

    /// Takes a new snapshot of the manifest (fetched whole, or patched) into use, unless it is
    /// older than the one in use.
    fn use_snapshot(
        &mut self,
        bytes: Vec<u8>,
        final_url: &Url,
    ) -> Result<Option<StopReason>, RecordError> {
        self.archive.keep(&bytes, Some(&publish_text(&bytes)))?;
        let live = match LivePresentation::parse(&bytes, final_url) {
            Ok(mut live) => {
                live.low_latency = self.options.low_latency;
                live
            }
            Err(e) => {
                self.sink.event(&LiveEvent::Warning(&format!(
                    "{}: the refreshed manifest cannot be read ({e}); going on with the last one",
                    final_url
                )));
                return Ok(None);
            }
        };
        let publish = live.attributes.publish_time.map(|p| p.instant);
        // End signals are only ever added (a presentation never turns from static back to
        // dynamic, a duration once given stays): a snapshot that signals the end is newer than
        // any without, whatever its publishTime says (origins recompute it at the end).
        let signals_end =
            live.end() != PresentationEnd::Open || live.attributes.availability_end_time.is_some();
        let signalled = self.live.end() != PresentationEnd::Open
            || self.live.attributes.availability_end_time.is_some();
        let stale = publish.is_some() && publish < self.state.publish_time;
        if stale && (signalled || !signals_end) {
            self.sink.event(&LiveEvent::Warning(
                "a refresh returned an older publishTime: archived, not applied",
            ));
            return Ok(None);
        }
        self.state.publish_time = publish.max(self.state.publish_time);
        self.refresh_url = location(&live, final_url);
        self.snapshot_url = final_url.clone();
        for skipped in &live.skipped {
            if !self.live.skipped.contains(skipped) {
                self.sink.event(&LiveEvent::Warning(&format!(
                    "skipped (cannot be recorded live): {skipped}"
                )));
            }
        }
        self.live = std::sync::Arc::new(live);
        self.manifest_text = bytes;
        // A failed segment the new snapshot no longer describes (a Period that ended earlier
        // than the last snapshot let it run) is not waited for.
        let gone: Vec<crate::live::SegmentId> = self
            .pending
            .iter()
            .filter(|(id, failed)| {
                self.rep_of(id)
                    .is_none_or(|rep| self.find_segment(&rep, id, failed.start).is_none())
            })
            .map(|(id, _)| id)
            .cloned()
            .collect();
        for id in gone {
            self.pending.remove(&id);
        }
        Ok(None)
    }

    pub(super) fn resync_due(&self) -> bool {
        self.resync_wanted || self.synced_at.elapsed() >= self.options.resync_every
    }

    pub(super) async fn resync(&mut self) {
        self.resync_wanted = false;
        self.synced_at = Instant::now();
        let found = synchronise(
            &self.live.attributes.utc_timing,
            &self.exchange,
            &mut EngineTime(self.client.clone()),
        )
        .await;
        match found {
            Ok(sync) => {
                self.sink.event(&LiveEvent::Clock(&sync.describe()));
                self.state.clock = Some(sync.describe());
                self.sync = sync;
                self.local = LocalClock::new();
            }
            Err(e) => self.sink.event(&LiveEvent::Warning(&format!(
                "re-synchronising the clock failed ({e}); keeping {}",
                self.sync.describe()
            ))),
        }
    }
}

/// What a refresh through a patch came to.
enum ByPatch {
    /// The patched manifest.
    Applied(Vec<u8>),
    /// No newer version yet.
    NothingNew,
    /// No patch (none offered, or it failed): the full manifest is fetched.
    NotUsed,
}

/// The URL of the next refresh: the manifest's `Location` (resolved against where it came
/// from), else the URL it came from after redirects.
pub(crate) fn location(live: &LivePresentation, final_url: &Url) -> Url {
    live.attributes
        .location
        .as_deref()
        .and_then(|l| final_url.join(l.trim()).ok())
        .unwrap_or_else(|| final_url.clone())
}

/// `MPD@publishTime` as written (for the snapshot's file name).
pub(super) fn publish_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    text.split("publishTime=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("no-publish-time")
        .to_string()
}
