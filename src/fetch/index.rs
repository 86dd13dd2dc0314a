//! `dashget --list --expand-index`: a SegmentBase representation's one resource expanded
//! through its index: one ranged request for `SegmentBase@indexRange`, its `sidx` read by the
//! box decoders (through the checker's facts, which own reading them), one media segment per
//! subsegment with its byte range, time and duration.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header;

use super::http::Failure;
use super::retry::{Retries, Stop};
use super::{Cancel, FetchOptions};
use crate::plan::{ByteRange, RepresentationPlan, Segment, SegmentKind};

/// Links of a chained index followed at most (a `sidx` before each subsegment).
const MAX_LINKS: usize = 1_000_000;

/// The subsegments of `rep`'s resource, in order, when it has an `@indexRange` (`None`
/// otherwise); an error says why the index could not be read. One ranged request for the
/// index; a chained index (a `sidx` before each subsegment, as ffmpeg's dash muxer writes it)
/// costs one more small request per link. Each request is retried like any other
/// (`options.retries`, backoff, `Retry-After`).
pub async fn expand_index(
    client: &reqwest::Client,
    rep: &RepresentationPlan,
    options: &FetchOptions,
    cancel: &Cancel,
) -> Result<Option<Vec<Segment>>, String> {
    let retries = Retries::of(options, cancel);
    let Some(range) = rep.index_range else {
        return Ok(None);
    };
    let Some(resource) = rep
        .segments()
        .filter(|s| s.kind == SegmentKind::Media && s.range.is_none())
        .last()
    else {
        return Ok(None);
    };
    let (index, total) = fetch_range(client, &resource.url, range, retries).await?;
    let mut out = Vec::new();
    let mut next = subsegments(rep, &resource, range, &index, &mut out)?;
    let mut links = 0;
    // What follows the last subsegment: the resource's end, another sidx (a chained index),
    // or boxes that are not media (an `mfra`).
    while total.is_some_and(|t| next < t) && links < MAX_LINKS {
        links += 1;
        let probe = ByteRange {
            first: next,
            last: next.saturating_add(4095),
        };
        let (head, _) = fetch_range(client, &resource.url, probe, retries).await?;
        let size = head
            .get(0..4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
            .unwrap_or(0);
        if head.get(4..8) != Some(b"sidx".as_slice()) || size < 8 {
            // What follows the indexed media is no media (Bento4 ends its files with `mfra`).
            break;
        }
        let link = ByteRange {
            first: next,
            last: next + size - 1,
        };
        let bytes = if size as usize <= head.len() {
            head[..size as usize].to_vec()
        } else {
            fetch_range(client, &resource.url, link, retries).await?.0
        };
        next = subsegments(rep, &resource, link, &bytes, &mut out)?;
    }
    Ok(Some(out))
}

/// Where the subsegments of the resource at `url` start, from the `sidx` boxes of its index at
/// `range` (one ranged request; a chained index gives its first link only): where a download in
/// pieces cuts the file.
pub(crate) async fn subsegment_starts(
    client: &reqwest::Client,
    url: &url::Url,
    range: ByteRange,
    retries: Retries<'_>,
) -> Result<Vec<u64>, String> {
    let (bytes, _) = fetch_range(client, url, range, retries).await?;
    let facts = crate::check::facts_of_bytes(&bytes);
    let mut starts = Vec::new();
    for sidx in &facts.sidx {
        let mut at = range.first.saturating_add(sidx.references_start());
        for &(_, size, _, _) in &sidx.references {
            starts.push(at);
            at = at.saturating_add(size);
        }
        starts.push(at);
    }
    Ok(starts)
}

/// The bytes `range` of `url`, and the resource's total size when the answer says it: through
/// the engine's retry loop.
async fn fetch_range(
    client: &reqwest::Client,
    url: &url::Url,
    range: ByteRange,
    retries: Retries<'_>,
) -> Result<(Vec<u8>, Option<u64>), String> {
    let result = retries
        .run(
            &mut (client, url, range),
            |_, _, _| {},
            |&mut (client, url, range)| Box::pin(range_once(client, url, range)),
        )
        .await;
    result.map_err(|stop| match stop {
        Stop::Interrupted => format!("{url}: interrupted"),
        Stop::Failure(f) => format!("{url}: {} (bytes {range})", f.reason),
    })
}

/// One attempt of [`fetch_range`].
async fn range_once(
    client: &reqwest::Client,
    url: &url::Url,
    range: ByteRange,
) -> Result<(Vec<u8>, Option<u64>), Stop> {
    let response = client
        .get(url.clone())
        .header(header::RANGE, format!("bytes={range}"))
        .send()
        .await
        .map_err(|e| Failure::transport(&e))?;
    let (skip, total) = match response.status() {
        StatusCode::PARTIAL_CONTENT => (
            0,
            super::http::header_str(response.headers(), header::CONTENT_RANGE)
                .and_then(|v| super::http::parse_content_range(&v))
                .and_then(|r| r.total),
        ),
        // The whole resource: its bytes up to the range's end are enough.
        StatusCode::OK => (range.first, super::http::content_length(response.headers())),
        _ => return Err(Failure::status(&response, Duration::from_secs(60)).into()),
    };
    let wanted =
        usize::try_from(range.len()).map_err(|_| Failure::fatal("the index is too large"))?;
    let mut bytes: Vec<u8> = Vec::with_capacity(wanted.min(1 << 20));
    let mut skipped = 0u64;
    let mut body = response.bytes_stream();
    while bytes.len() < wanted {
        let Some(chunk) = body.next().await else {
            break;
        };
        let chunk = chunk.map_err(|e| Failure::transport(&e))?;
        let mut chunk: &[u8] = &chunk;
        if skipped < skip {
            let drop = usize::try_from((skip - skipped).min(chunk.len() as u64)).unwrap_or(0);
            skipped += drop as u64;
            chunk = &chunk[drop..];
        }
        let take = chunk.len().min(wanted - bytes.len());
        bytes.extend_from_slice(&chunk[..take]);
    }
    Ok((bytes, total))
}

/// Adds to `out` the subsegments the `sidx` boxes of `index` (the bytes of `range` of
/// `resource`) describe; returns where the last one ends.
fn subsegments(
    rep: &RepresentationPlan,
    resource: &Segment,
    range: ByteRange,
    index: &[u8],
    out: &mut Vec<Segment>,
) -> Result<u64, String> {
    let facts = crate::check::facts_of_bytes(index);
    if facts.sidx.is_empty() {
        return Err(format!(
            "{}: no sidx box in the index (bytes {range})",
            resource.url
        ));
    }
    let convert = |t: u64, from: u64| -> u64 {
        if from == 0 || from == rep.timescale {
            t
        } else {
            u64::try_from(u128::from(t) * u128::from(rep.timescale) / u128::from(from))
                .unwrap_or(u64::MAX)
        }
    };
    let mut end = range.last.saturating_add(1);
    for sidx in &facts.sidx {
        let mut at = range.first.saturating_add(sidx.references_start());
        let mut time = sidx.earliest;
        for &(kind, size, duration, _) in &sidx.references {
            if kind != 0 {
                return Err(format!(
                    "{}: the index refers to further sidx boxes (a hierarchical index), which is not expanded",
                    resource.url
                ));
            }
            if size == 0 {
                return Err(format!(
                    "{}: a subsegment of 0 bytes in the index",
                    resource.url
                ));
            }
            let last = at.saturating_add(size - 1);
            out.push(Segment {
                kind: SegmentKind::Media,
                url: resource.url.clone(),
                range: Some(ByteRange { first: at, last }),
                path: resource.path.clone(),
                number: Some(out.len() as u64 + 1),
                time: i64::try_from(convert(time, sidx.timescale)).ok(),
                duration: Some(convert(duration, sidx.timescale)),
            });
            at = last.saturating_add(1);
            time = time.saturating_add(duration);
        }
        end = end.max(at);
    }
    Ok(end)
}
