//! The engine's entry point for one resource at a time, for a caller that decides itself what
//! to fetch and when (the live recorder): the same path as a mirror's files (journal check,
//! `.part` file resumed with `Range`/`If-Range`, size verified, rename, journal record, retries
//! with backoff and the configured `Retry-After` cap, `--verify`), without a plan.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::sync::Semaphore;

use super::events::FileStatus;
use super::resource::{self, Outcome};
use super::{Cancel, Context, FetchOptions, NoProgress, Resource};
use crate::store::{Journal, JournalWriter, OutputDir, StoreError};

/// How one resource ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceOutcome {
    /// Complete under its final name: downloaded now (`fetched`), or found complete.
    Complete {
        /// Its size.
        size: u64,
        /// Whether this call downloaded it.
        fetched: bool,
        /// Its box structure, when downloaded whole and kept (`FetchOptions::keep_boxes`).
        body: Option<crate::isobmff::Skeleton>,
    },
    /// Failed after the engine's retries.
    Failed {
        /// Why, in words.
        reason: String,
        /// The HTTP status that made it, if one did.
        status: Option<u16>,
    },
    /// The run was cancelled; a part file may remain for the next run.
    Interrupted,
}

/// Fetches single resources into one output folder, with one journal.
pub struct ResourceFetcher {
    ctx: Context,
}

impl ResourceFetcher {
    /// Opens the output folder's journal.
    pub fn open(
        client: &reqwest::Client,
        out: &OutputDir,
        options: &FetchOptions,
        cancel: &Cancel,
    ) -> Result<ResourceFetcher, StoreError> {
        let (journal, writer) = JournalWriter::open(out.root())?;
        Ok(ResourceFetcher {
            ctx: Context {
                client: client.clone(),
                options: options.clone(),
                out: out.clone(),
                journal,
                writer,
                sink: Arc::new(NoProgress),
                cancel: cancel.clone(),
                received: AtomicU64::new(0),
                commits: Arc::new(Semaphore::new(options.threads.max(1) * 16)),
                buffers: std::sync::Mutex::new(Vec::new()),
                // One resource at a time, on its caller's connection: no spare slots.
                permits: Arc::new(Semaphore::new(0)),
                preferred: std::sync::Mutex::new(std::collections::HashMap::new()),
                servers: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            },
        })
    }

    /// The journal as it was when the fetcher was opened.
    pub fn journal(&self) -> &Journal {
        &self.ctx.journal
    }

    /// Brings `resource` to completion under its final name, or says why not.
    pub async fn fetch(&self, resource: &Resource) -> ResourceOutcome {
        let outcome = match resource::journalled(&self.ctx, resource) {
            Some(outcome) => outcome,
            None => resource::complete(&self.ctx, resource, None).await,
        };
        match outcome {
            Outcome::Complete { status, size, body } => ResourceOutcome::Complete {
                body,
                size,
                fetched: status == FileStatus::Downloaded,
            },
            Outcome::Failed { reason, status } => ResourceOutcome::Failed { reason, status },
            Outcome::Interrupted => ResourceOutcome::Interrupted,
        }
    }

    /// Writes the journal records waiting in memory (each resource is then known complete to
    /// a later run, whatever happens to this one).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.ctx.writer.flush()
    }

    /// Writes and syncs the journal.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.ctx.writer.sync()
    }
}
