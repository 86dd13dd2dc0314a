//! The whole `dashget` download: read the manifest, plan it, save it byte-identical in the
//! output folder under its own file name, and make every planned file complete.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use super::manifest::{FetchedManifest, ManifestError, fetch_manifest};
use super::{
    Cancel, Event, FetchError, FetchOptions, ProgressSink, Summary, build_client, download,
};
use crate::mpd::{self, LoadError, LoadedManifest};
use crate::plan::{self, Plan, PlanError};
use crate::store::{OutputDir, StoreError};

/// What to mirror, and how.
#[derive(Debug, Clone)]
pub struct MirrorOptions {
    /// The manifest: an http(s) URL or a local file.
    pub source: String,
    /// The URL the manifest is resolved against instead of its own location.
    pub base_url: Option<String>,
    /// The output folder.
    pub output: PathBuf,
    /// Only these representations (all when empty).
    pub reps: Vec<String>,
    /// Engine settings.
    pub fetch: FetchOptions,
}

/// Why a mirror could not start (single files failing are in the [`Summary`] instead).
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// Bad settings (a header, the client).
    #[error(transparent)]
    Setup(#[from] FetchError),
    /// The manifest file could not be read, or a URL is invalid.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The manifest could not be fetched.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The manifest could not be planned.
    #[error("{source_name}: {error}")]
    Plan {
        /// The manifest as given.
        source_name: String,
        /// What is wrong with it.
        error: PlanError,
    },
    /// `-r` named representations the manifest does not have.
    #[error("{source_name}: no representation with id {ids} (the manifest has: {known})")]
    UnknownReps {
        /// The manifest as given.
        source_name: String,
        /// The unknown ids, comma-separated.
        ids: String,
        /// The ids the manifest has.
        known: String,
    },
    /// The manifest at this URL is live (`type="dynamic"`): it is recorded, not mirrored
    /// (`crate::live::recorder`).
    #[error("{}: the manifest is live (type=\"dynamic\"); it is recorded, not mirrored", .0.final_url)]
    Live(Box<FetchedManifest>),
    /// The output folder or the manifest's copy cannot be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the manifest named by `options.source`: an http(s) URL is fetched by the engine
/// ([`fetch_manifest`]: retries, timeouts, progress events), a path is read from disk.
pub async fn load_manifest(
    options: &MirrorOptions,
    client: &reqwest::Client,
    sink: &dyn ProgressSink,
    cancel: &Cancel,
) -> Result<LoadedManifest, MirrorError> {
    Ok(fetch_or_read(options, client, sink, cancel).await?.0)
}

/// [`load_manifest`], with the exchange of a fetched manifest (its `Date`, timing and
/// validators: what a live recording starts its clock and refreshes from).
async fn fetch_or_read(
    options: &MirrorOptions,
    client: &reqwest::Client,
    sink: &dyn ProgressSink,
    cancel: &Cancel,
) -> Result<(LoadedManifest, Option<FetchedManifest>), MirrorError> {
    let source = &options.source;
    let (bytes, own_url, exchange) = if mpd::is_url(source) {
        let url = Url::parse(source).map_err(|e| LoadError::BadUrl(source.clone(), e))?;
        let mut fetched = fetch_manifest(client, &url, None, &options.fetch, sink, cancel).await?;
        let bytes = fetched.bytes.take().unwrap_or_default();
        (bytes, fetched.final_url.clone(), Some(fetched))
    } else {
        let (bytes, url) = mpd::read_file(source)?;
        (bytes, url, None)
    };
    let loaded = LoadedManifest::new(bytes, own_url, options.base_url.as_deref())?;
    Ok((loaded, exchange))
}

/// Reads and plans the manifest of `options`, keeping the `-r` representations. A live
/// manifest at a URL is not planned: [`MirrorError::Live`] says to record it instead.
pub async fn load_plan(
    options: &MirrorOptions,
    client: &reqwest::Client,
    sink: &dyn ProgressSink,
    cancel: &Cancel,
) -> Result<(LoadedManifest, Plan), MirrorError> {
    let (loaded, exchange) = fetch_or_read(options, client, sink, cancel).await?;
    // A live manifest at a URL is for the recorder, which follows it over time, from this
    // very fetch.
    if let Some(mut fetched) = exchange
        && options.base_url.is_none()
        && mpd::parse_mpd(&loaded.bytes)
            .is_ok_and(|m| m.presentation_type == mpd::PresentationType::Dynamic)
    {
        fetched.bytes = Some(loaded.bytes);
        return Err(MirrorError::Live(Box::new(fetched)));
    }
    let mut plan = plan::plan(&loaded.bytes, &loaded.url).map_err(|error| MirrorError::Plan {
        source_name: options.source.clone(),
        error,
    })?;
    let known: Vec<String> = plan.representations.iter().map(|r| r.id.clone()).collect();
    let unknown = plan.retain_representations(&options.reps);
    if !unknown.is_empty() {
        return Err(MirrorError::UnknownReps {
            source_name: options.source.clone(),
            ids: unknown.join(", "),
            known: known.join(", "),
        });
    }
    // `-r` may keep only representations that give nothing: that is no download either.
    if plan.segment_count() == 0 {
        return Err(MirrorError::Plan {
            source_name: options.source.clone(),
            error: PlanError::NothingToDownload(plan.warnings),
        });
    }
    Ok((loaded, plan))
}

/// Mirrors a presentation: the manifest is saved as `OUTPUT/<its file name>` (atomically, and
/// only rewritten when its bytes changed), then every file of the plan is made complete.
pub async fn mirror(
    options: &MirrorOptions,
    sink: Arc<dyn ProgressSink>,
    cancel: &Cancel,
) -> Result<Summary, MirrorError> {
    let client = build_client(&options.fetch)?;
    let (loaded, plan) = load_plan(options, &client, sink.as_ref(), cancel).await?;
    for warning in &plan.warnings {
        sink.event(&Event::Warning {
            message: &warning.to_string(),
        });
    }
    let out = OutputDir::create(&options.output)?;
    let name = Path::new(&loaded.file_name);
    let current = out
        .resolve(name)
        .ok()
        .and_then(|path| std::fs::read(path).ok());
    if current.as_deref() != Some(loaded.bytes.as_slice()) {
        out.write_atomic(name, &loaded.bytes)?;
    }
    // mp4dump re-plans the saved manifest against the URL it was planned with here.
    if crate::store::recorded_manifest_url(out.root(), &loaded.file_name).as_ref()
        != Some(&loaded.url)
    {
        crate::store::record_manifest_url(out.root(), &loaded.file_name, &loaded.url).map_err(
            |source| crate::store::StoreError::Io {
                path: out.root().join(crate::store::META_DIR),
                source,
            },
        )?;
    }
    sink.event(&Event::Manifest {
        plan: &plan,
        bytes: &loaded.bytes,
        name: &loaded.file_name,
    });
    let summary = download(&client, &plan, &out, &options.fetch, sink, cancel).await?;
    Ok(summary)
}
