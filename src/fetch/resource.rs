//! One download unit (a resource: one URL, one local file) from "maybe on disk" to "complete
//! under its final name": the journal check, the server's size (probe) when a file is on disk
//! without a journal record, then attempts ([`super::attempt`]) until complete. Both the probe
//! and the attempts go through the one retry loop, [`Retries::run`].

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::sync::OwnedSemaphorePermit;

use super::Context;
use super::Resource;
use super::attempt::{self, PartState};
use super::events::{Event, FileStatus};
use super::http::{Failure, content_length, header_str, parse_content_range};
use super::retry::{Retries, Stop};
use crate::store;

/// How a resource ended in this run.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Complete under its final name; its box structure when kept (`FetchOptions::keep_boxes`).
    Complete {
        status: FileStatus,
        size: u64,
        body: Option<crate::isobmff::Skeleton>,
    },
    /// Failed for good: why, and the HTTP status that made it, if one did.
    Failed { reason: String, status: Option<u16> },
    /// Stopped by cancellation; a part file may remain for the next run.
    Interrupted,
}

impl From<Stop> for Outcome {
    fn from(stop: Stop) -> Outcome {
        match stop {
            Stop::Interrupted => Outcome::Interrupted,
            Stop::Failure(f) => Outcome::Failed {
                reason: f.reason,
                status: f.status,
            },
        }
    }
}

pub(crate) fn validators(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    (
        header_str(headers, header::ETAG),
        header_str(headers, header::LAST_MODIFIED),
    )
}

/// The retry loop of a resource: its retries announced as events.
pub(crate) fn retries(ctx: &Context) -> Retries<'_> {
    Retries::of(&ctx.options, &ctx.cancel)
}

fn announce<'a>(
    ctx: &'a Context,
    res: &'a Resource,
) -> impl FnMut(u32, std::time::Duration, &str) + 'a {
    move |attempt, delay, reason| {
        ctx.sink.event(&Event::Retrying {
            path: &res.path,
            url: &res.url,
            attempt,
            delay,
            reason,
        })
    }
}

/// Journals a resource as complete (with the identity of its segment when it has one).
pub(crate) fn journal_done(
    ctx: &Context,
    key: &str,
    res: &Resource,
    size: u64,
) -> Result<(), store::StoreError> {
    match &res.identity {
        Some(identity) => ctx
            .writer
            .done_segment(key, res.url.as_str(), size, identity),
        None => ctx.writer.done(key, res.url.as_str(), size),
    }
}

/// Brings one resource to completion (or failure).
pub(crate) async fn complete(
    ctx: &Context,
    res: &Resource,
    permit: Option<OwnedSemaphorePermit>,
) -> Outcome {
    let key = store::journal_key(&res.path);
    // Checked now; its folders are created only when there is something to write.
    let slot = match ctx.out.slot(&res.path) {
        Ok(slot) => slot,
        Err(e) => {
            return Outcome::Failed {
                reason: e.to_string(),
                status: None,
            };
        }
    };
    if let Some(size) = slot.size().filter(|&size| size >= res.min_size) {
        // `None`: not what the server has, downloaded again.
        if let Some(outcome) = on_disk(ctx, res, &key, size).await {
            return outcome;
        }
    }
    let state = PartState::from_journal(ctx, &key, res);
    // A download in pieces that an earlier run began: continued in pieces.
    let have = ctx.journal.ranges(&key, res.url.as_str());
    let pieces = match (state.total(), state.if_range()) {
        (Some(total), Some(validator)) if !have.is_empty() && ctx.options.split_size > 0 => {
            Some(super::split::Pieces {
                total,
                validator,
                have: have.to_vec(),
            })
        }
        _ => None,
    };
    if pieces.is_none() && !have.is_empty() {
        // Bytes at their offsets that cannot be continued: not a prefix to resume.
        slot.remove_part();
    }
    let mut job = attempt::Job {
        ctx,
        res,
        url: res.url.clone(),
        key: &key,
        slot: &slot,
        state,
        permit,
        body: None,
        pieces,
        no_split: false,
        part_may_exist: ctx.journal.has_part(&key),
    };
    // The resource's URL, then the same file at the manifest's other BaseURLs; the one that
    // served the last failover from this server first.
    let servers = failover_order(ctx, res);
    let mut last = None;
    for (i, url) in servers.iter().enumerate() {
        if i > 0 {
            let reason = last
                .as_ref()
                .map_or(String::new(), |f: &Failure| f.reason.clone());
            ctx.sink.event(&Event::Retrying {
                path: &res.path,
                url,
                attempt: 0,
                delay: std::time::Duration::ZERO,
                reason: &format!("{reason}; trying another BaseURL"),
            });
        }
        job.url = url.clone();
        let downloaded = retries(ctx)
            .run(&mut job, announce(ctx, res), |job| {
                Box::pin(attempt::run(job))
            })
            .await;
        match downloaded {
            Ok(size) => {
                served_by(ctx, res, url);
                return Outcome::Complete {
                    status: FileStatus::Downloaded,
                    size,
                    body: job.body.take(),
                };
            }
            Err(Stop::Interrupted) => return Outcome::Interrupted,
            Err(Stop::Failure(f)) => last = Some(f),
        }
    }
    match last {
        Some(f) => Outcome::Failed {
            reason: f.reason,
            status: f.status,
        },
        None => Outcome::Interrupted,
    }
}

/// The server (scheme, host, port) of a URL.
fn origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Where a resource is tried, in order: its URL and its alternates, the one on the server
/// that served the last failover from its own server first.
fn failover_order(ctx: &Context, res: &Resource) -> Vec<url::Url> {
    let mut order: Vec<url::Url> = std::iter::once(res.url.clone())
        .chain(res.alternates.iter().cloned())
        .collect();
    if order.len() > 1 {
        let preferred = ctx
            .preferred
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&origin(&res.url))
            .cloned();
        if let Some(server) = preferred
            && let Some(at) = order.iter().position(|u| origin(u) == server)
        {
            let chosen = order.remove(at);
            order.insert(0, chosen);
        }
    }
    order
}

/// Counts the file as served by `url`'s server; a server other than the resource's own is
/// where later resources of that server start.
fn served_by(ctx: &Context, res: &Resource, url: &url::Url) {
    let server = origin(url);
    *ctx.servers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(server.clone())
        .or_insert(0) += 1;
    if !res.alternates.is_empty() {
        ctx.preferred
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(origin(&res.url), server);
    }
}

/// `Some` when the journal records the resource as complete and its file still has the recorded
/// size: no request, no task (the no-op re-run of a large presentation is made of these).
pub(crate) fn journalled(ctx: &Context, res: &Resource) -> Option<Outcome> {
    let size = journalled_size(ctx, res, &mut ctx.out.sizes())?;
    Some(already_complete(ctx, size))
}

/// The size of a resource the journal records as complete whose file still has that size (one
/// `stat`, only for files the journal knows); no event, so that it may run on any thread.
pub(crate) fn journalled_size(
    ctx: &Context,
    res: &Resource,
    sizes: &mut store::SizeProbe<'_>,
) -> Option<u64> {
    if ctx.options.verify {
        return None;
    }
    let key = store::journal_key(&res.path);
    // A lookup in memory first: the `stat` only for files the journal knows.
    let done = ctx.journal.done(&key)?;
    if done.size < res.min_size || !done.is_from(res.url.as_str()) {
        return None;
    }
    let size = sizes.size(&res.path)?;
    (size == done.size).then_some(size)
}

/// The outcome of a file found complete without a request.
pub(crate) fn already_complete(ctx: &Context, size: u64) -> Outcome {
    ctx.sink.event(&Event::Expected { bytes: size });
    Outcome::Complete {
        status: FileStatus::AlreadyComplete,
        size,
        body: None,
    }
}

/// A file already under its final name: complete if the journal says so (no request), else
/// if the server's size matches (one probe). `None` when it must be downloaded again.
async fn on_disk(ctx: &Context, res: &Resource, key: &str, size: u64) -> Option<Outcome> {
    let journalled = ctx.journal.is_done(key, res.url.as_str(), size);
    if journalled && !ctx.options.verify {
        ctx.sink.event(&Event::Expected { bytes: size });
        return Some(Outcome::Complete {
            status: FileStatus::AlreadyComplete,
            size,
            body: None,
        });
    }
    // Journalled and --verify, or on disk without a journal record: the server's size decides.
    let probed = retries(ctx)
        .run(&mut (ctx, res), announce(ctx, res), |(ctx, res)| {
            Box::pin(probe(ctx, res))
        })
        .await;
    match probed {
        Ok(server) if server == Some(size) => {
            if !journalled && let Err(e) = journal_done(ctx, key, res, size) {
                return Some(Outcome::Failed {
                    reason: e.to_string(),
                    status: None,
                });
            }
            ctx.sink.event(&Event::Expected { bytes: size });
            Some(Outcome::Complete {
                status: FileStatus::Verified,
                size,
                body: None,
            })
        }
        Ok(server) => {
            let server = server.map_or("an unknown size".to_string(), |s| format!("{s} bytes"));
            let reason =
                format!("local file is {size} bytes, the server has {server}: downloading again");
            ctx.sink.event(&Event::Mismatch {
                path: &res.path,
                url: &res.url,
                reason: &reason,
            });
            None
        }
        Err(stop) => Some(stop.into()),
    }
}

/// The server's size of a resource: `HEAD`, or when HEAD is refused or gives no length, a
/// one-byte range GET (`Content-Range` total, or `Content-Length` of a 200).
async fn probe(ctx: &Context, res: &Resource) -> Result<Option<u64>, Stop> {
    let head = attempt::cancellable(ctx, ctx.client.head(res.url.clone()).send()).await?;
    let head = head.map_err(|e| Failure::transport(&e))?;
    let status = head.status();
    if status.is_success() {
        if let Some(size) = content_length(head.headers()) {
            return Ok(Some(size));
        }
    } else if super::http::retryable_status(status) && status != StatusCode::NOT_IMPLEMENTED {
        return Err(Failure::status(&head, ctx.options.retry_after_cap).into());
    }
    drop(head);
    let get = ctx
        .client
        .get(res.url.clone())
        .header(header::RANGE, "bytes=0-0")
        .send();
    let response = attempt::cancellable(ctx, get)
        .await?
        .map_err(|e| Failure::transport(&e))?;
    let size = match response.status() {
        StatusCode::PARTIAL_CONTENT => header_str(response.headers(), header::CONTENT_RANGE)
            .and_then(|v| parse_content_range(&v)?.total),
        StatusCode::OK => content_length(response.headers()),
        _ => return Err(Failure::status(&response, ctx.options.retry_after_cap).into()),
    };
    Ok(size)
}
