//! A large resource fetched as pieces over several connections (`--split-size`).
//!
//! A fresh download whose answer says the resource is at least `split_size` bytes, that the
//! server serves byte ranges (`Accept-Ranges: bytes`) and how to tell it has not changed
//! (`ETag` or `Last-Modified`, sent back as `If-Range`) goes on in pieces of at most
//! [`PIECE`] bytes: the first answer keeps streaming its bytes while the next piece is still
//! free, and more connections take the free pieces, each one ranged request, as request slots
//! (`--threads`) come free. Every piece is written into the one part file at its offset; once
//! written, a `range` record in the journal says so, so that a killed run loses at most the
//! pieces in flight, and the next run fetches only what no record covers. The part file is
//! renamed into place once every byte is in. A server that answers a ranged request with the
//! whole resource (200) gets one whole download, as any other resource.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use reqwest::StatusCode;
use reqwest::header;

use super::Context;
use super::attempt::Job;
use super::events::Event;
use super::http::{Failure, error_chain, header_str, parse_content_range};
use super::retry::Stop;
use crate::store::add_range;

/// The largest piece: a kill loses at most this much per connection.
pub(crate) const PIECE: u64 = 4 * 1024 * 1024;
/// Bytes a connection gathers before writing them at their offset.
const WRITE_BUFFER: usize = 256 * 1024;
/// How often the pieces' controller looks for free request slots.
const LOOK_FOR_SLOTS: Duration = Duration::from_millis(50);

/// What a split download of a resource has: its total size, the validator the pieces are
/// asked with, and the byte ranges already in the part file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pieces {
    pub total: u64,
    pub validator: String,
    pub have: Vec<(u64, u64)>,
}

/// The pieces still to fetch: the gaps of `have`, cut at the `cuts` given (where the file's
/// subsegments start, from its index) into pieces of at most [`PIECE`] bytes: consecutive
/// subsegments share a piece while they fit in one, a longer one is cut into equal parts.
fn aligned(total: u64, have: &[(u64, u64)], cuts: &[u64]) -> VecDeque<(u64, u64)> {
    let mut out = VecDeque::new();
    let mut gaps = Vec::new();
    let mut at = 0;
    for &(start, end) in have {
        if start > at {
            gaps.push((at, start.min(total)));
        }
        at = at.max(end);
    }
    if at < total {
        gaps.push((at, total));
    }
    for (from, to) in gaps {
        // The boundaries inside this gap, then its end.
        let inner = cuts.iter().copied().filter(|&c| c > from && c < to);
        let mut start = from;
        let mut last_cut = from;
        for cut in inner.chain(std::iter::once(to)) {
            if cut - start > PIECE {
                if last_cut > start {
                    // What fits so far is one piece; the rest starts at the last boundary.
                    out.push_back((start, last_cut));
                    start = last_cut;
                }
                // A subsegment longer than a piece: equal parts.
                let length = cut - start;
                let parts = length.div_ceil(PIECE);
                let step = length.div_ceil(parts);
                while cut - start > PIECE {
                    out.push_back((start, start + step));
                    start += step;
                }
            }
            last_cut = cut;
        }
        if start < to {
            out.push_back((start, to));
        }
    }
    out
}

/// The shared state of the connections of one split download.
struct Work {
    queue: VecDeque<(u64, u64)>,
    have: Vec<(u64, u64)>,
    /// A connection found the server does not serve ranges after all.
    no_ranges: bool,
}

struct Split<'a> {
    ctx: &'a Context,
    job_key: &'a str,
    url: &'a url::Url,
    file: Arc<File>,
    total: u64,
    validator: String,
    work: Mutex<Work>,
}

impl Split<'_> {
    fn work(&self) -> MutexGuard<'_, Work> {
        self.work.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next free piece.
    fn take(&self) -> Option<(u64, u64)> {
        let mut work = self.work();
        if work.no_ranges {
            return None;
        }
        work.queue.pop_front()
    }

    /// The free piece that starts at `at`, if the next one does (the stream goes on).
    fn take_at(&self, at: u64) -> Option<(u64, u64)> {
        let mut work = self.work();
        match work.queue.front() {
            Some(&(start, end)) if start == at => {
                work.queue.pop_front();
                Some((start, end))
            }
            _ => None,
        }
    }

    /// Gives back what a connection did not fetch of its piece.
    fn give_back(&self, start: u64, end: u64) {
        if start < end {
            self.work().queue.push_front((start, end));
        }
    }

    /// Records bytes `start..end` as written (journal first, then in memory).
    fn written(&self, start: u64, end: u64) -> Result<(), Failure> {
        if start >= end {
            return Ok(());
        }
        self.ctx
            .writer
            .range(self.job_key, start, end)
            .map_err(|e| Failure::fatal(e.to_string()))?;
        add_range(&mut self.work().have, (start, end));
        Ok(())
    }

    fn complete(&self) -> bool {
        self.work().have.as_slice() == [(0, self.total)]
    }

    /// Writes `bytes` at `offset` of the part file (on the blocking pool).
    async fn write_at(&self, bytes: Vec<u8>, offset: u64) -> Result<Vec<u8>, Failure> {
        let file = self.file.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let result = file.write_all_at(&bytes, offset);
            (bytes, result)
        })
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
        let (mut bytes, result) = joined;
        result.map_err(|e| Failure::fatal(format!("writing the part file: {e}")))?;
        bytes.clear();
        Ok(bytes)
    }

    /// Writes what `buffer` holds (the bytes before `pos`) at its offset and records it.
    async fn flush(&self, buffer: &mut Vec<u8>, pos: u64) -> Result<(), Failure> {
        if buffer.is_empty() {
            return Ok(());
        }
        let at = pos - buffer.len() as u64;
        *buffer = self.write_at(std::mem::take(buffer), at).await?;
        self.written(at, pos)
    }

    /// Streams `body` into the part file through `piece` (the bytes still missing of it, kept
    /// up to date: what is left when the stream stops) and, when `continue_on`, on into the next
    /// free pieces while they follow. Every buffer written is recorded at once, so a kill loses
    /// at most a buffer per connection.
    async fn stream(
        &self,
        response: reqwest::Response,
        piece: &mut (u64, u64),
        continue_on: bool,
    ) -> Result<(), Stop> {
        let mut body = response.bytes_stream();
        let mut buffer = Vec::with_capacity(WRITE_BUFFER);
        let (mut pos, mut end) = *piece;
        loop {
            let next = tokio::select! {
                biased;
                _ = self.ctx.cancel.cancelled() => None,
                next = body.next() => Some(next),
            };
            let chunk = match next {
                Some(Some(Ok(chunk))) => chunk,
                stopped => {
                    self.flush(&mut buffer, pos).await?;
                    *piece = (pos, end);
                    return match stopped {
                        None => Err(Stop::Interrupted),
                        Some(Some(Err(e))) => Err(Failure::retry(format!(
                            "connection lost at byte {pos} of {}: {}",
                            self.total,
                            error_chain(&e)
                        ))
                        .into()),
                        _ if pos < end => Err(Failure::retry(format!(
                            "the body ended at byte {pos}, before {end}"
                        ))
                        .into()),
                        _ => Ok(()),
                    };
                }
            };
            let mut rest: &[u8] = &chunk;
            while !rest.is_empty() {
                let take = rest
                    .len()
                    .min(usize::try_from(end - pos).unwrap_or(usize::MAX));
                buffer.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                pos += take as u64;
                self.ctx.received.fetch_add(take as u64, Ordering::Relaxed);
                self.ctx.sink.event(&Event::Received { bytes: take as u64 });
                if buffer.len() >= WRITE_BUFFER || pos == end {
                    self.flush(&mut buffer, pos).await?;
                    *piece = (pos, end);
                }
                if pos == end {
                    let follow = if continue_on { self.take_at(end) } else { None };
                    match follow {
                        Some((_, next_end)) => {
                            end = next_end;
                            *piece = (pos, end);
                        }
                        // The next piece is another connection's (or there is none): this
                        // answer has given what was asked of it.
                        None => return Ok(()),
                    }
                }
            }
        }
    }

    /// Fetches what is missing of `piece` with one ranged request (`piece` keeps what is still
    /// missing when it stops). An answer that is not the range asked for ends the split: the
    /// server does not serve pieces (or the resource changed), so it is not asked again.
    async fn piece(&self, piece: &mut (u64, u64)) -> Result<(), Stop> {
        let (start, end) = *piece;
        let request = self
            .ctx
            .client
            .get(self.url.clone())
            .header(header::RANGE, format!("bytes={start}-{}", end - 1))
            .header(header::IF_RANGE, &self.validator);
        let sent = tokio::select! {
            biased;
            _ = self.ctx.cancel.cancelled() => return Err(Stop::Interrupted),
            sent = request.send() => sent,
        };
        let response = sent.map_err(|e| Failure::transport(&e))?;
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {}
            // The server ignores ranges, or the resource changed (If-Range).
            StatusCode::OK => return Err(self.no_ranges("a piece with the whole resource")),
            _ => return Err(Failure::status(&response, self.ctx.options.retry_after_cap).into()),
        }
        let range = header_str(response.headers(), header::CONTENT_RANGE)
            .and_then(|v| parse_content_range(&v));
        let expected =
            range.is_some_and(|r| r.range == Some((start, end - 1)) && r.total == Some(self.total));
        if !expected {
            return Err(self.no_ranges(&format!("bytes {start}-{} with another range", end - 1)));
        }
        self.stream(response, piece, false).await
    }

    /// The split ends: the server answered `what`.
    fn no_ranges(&self, what: &str) -> Stop {
        self.work().no_ranges = true;
        Failure::fatal(format!("the server answered {what}: downloading it whole")).into()
    }

    /// One connection: pieces until none is free, each through the engine's retry loop; a
    /// piece given up on is given back.
    async fn connection(
        &self,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<(), Stop> {
        let retries = super::resource::retries(self.ctx);
        while let Some(piece) = self.take() {
            let mut state = (self, piece);
            let fetched = retries
                .run(
                    &mut state,
                    |_, _, _| {},
                    |(split, piece)| Box::pin(split.piece(piece)),
                )
                .await;
            if let Err(stop) = fetched {
                let (start, end) = state.1;
                self.give_back(start, end);
                return Err(stop);
            }
        }
        drop(permit);
        Ok(())
    }
}

type Connection<'a> = Pin<Box<dyn Future<Output = Result<(), Stop>> + Send + 'a>>;

/// Runs a split download of `job`'s resource: `first` is the answer to a fresh request (its
/// bytes from 0 on, the first piece), or `None` to resume from the journal's ranges. Returns
/// the final size once the part file is complete and renamed.
pub(crate) async fn run(job: &mut Job<'_>, first: Option<reqwest::Response>) -> Result<u64, Stop> {
    let Some(pieces) = job.pieces.clone() else {
        return Err(Failure::fatal("no pieces to fetch").into());
    };
    let ctx = job.ctx;
    let file = job
        .slot
        .open_part_positional()
        .map_err(|e| Failure::fatal(e.to_string()))?;
    file.set_len(pieces.total)
        .map_err(|e| Failure::fatal(format!("{}: {e}", job.slot.part_path().display())))?;
    // A fresh download of a resource with an index: pieces cut where its subsegments start
    // (one small ranged request for the index; without it, equal pieces).
    let cuts = match (&first, job.res.index) {
        (Some(_), Some(index)) => {
            let retries = super::resource::retries(ctx);
            super::index::subsegment_starts(&ctx.client, &job.url, index, retries)
                .await
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let mut queue = aligned(pieces.total, &pieces.have, &cuts);
    let first_piece = match first {
        Some(_) => queue.pop_front(),
        None => None,
    };
    let split = Split {
        ctx,
        job_key: job.key,
        url: &job.url,
        file: Arc::new(file),
        total: pieces.total,
        validator: pieces.validator.clone(),
        work: Mutex::new(Work {
            queue,
            have: pieces.have.clone(),
            no_ranges: false,
        }),
    };
    let mut connections: FuturesUnordered<Connection<'_>> = FuturesUnordered::new();
    match (first, first_piece) {
        (Some(response), Some((start, end))) => {
            let split = &split;
            connections.push(Box::pin(async move {
                let mut piece = (start, end);
                if let Err(stop) = split.stream(response, &mut piece, true).await {
                    split.give_back(piece.0, piece.1);
                    return Err(stop);
                }
                // Then pieces like any other connection (on the resource's own slot).
                split.connection(None).await
            }));
        }
        _ => connections.push(Box::pin(split.connection(None))),
    }
    let mut failure: Option<Stop> = None;
    loop {
        // More connections while request slots are free and pieces wait for one.
        loop {
            let waiting = {
                let work = split.work();
                !work.no_ranges && work.queue.len() > connections.len().saturating_sub(1)
            };
            if !waiting || failure.is_some() {
                break;
            }
            let Ok(permit) = ctx.permits.clone().try_acquire_owned() else {
                break;
            };
            connections.push(Box::pin(split.connection(Some(permit))));
        }
        tokio::select! {
            done = connections.next() => match done {
                None => break,
                Some(Ok(())) => {}
                Some(Err(stop)) => {
                    // The first failure decides; the others stop as they come.
                    if failure.is_none() {
                        failure = Some(stop);
                    }
                }
            },
            _ = tokio::time::sleep(LOOK_FOR_SLOTS) => {}
        }
        if failure.is_some() && connections.is_empty() {
            break;
        }
    }
    let have = split.work().have.clone();
    let complete = split.complete();
    let no_ranges = split.work().no_ranges;
    drop(connections);
    drop(split);
    if no_ranges {
        // A whole download from the start, at the next attempt.
        job.slot.remove_part();
        job.pieces = None;
        job.no_split = true;
        job.state.forget();
        let reason = match failure {
            Some(Stop::Failure(f)) => f.reason,
            _ => "the server does not serve pieces: downloading it whole".into(),
        };
        return Err(Failure::retry(reason).into());
    } else if let Some(p) = job.pieces.as_mut() {
        p.have = have;
    }
    if let Some(stop) = failure.filter(|_| !complete) {
        return Err(stop);
    }
    if !complete {
        return Err(Failure::retry("pieces are missing: continuing").into());
    }
    let size = pieces.total;
    super::attempt::commit_whole(job, size).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_follow_the_subsegments() {
        let m = PIECE;
        // Subsegments of 1.5 MiB: two to a piece.
        let cuts: Vec<u64> = (1..8).map(|k| k * 3 * m / 8).collect();
        let total = 8 * 3 * m / 8;
        let pieces = aligned(total, &[], &cuts);
        assert_eq!(pieces.front(), Some(&(0, 6 * m / 8)));
        for (start, end) in &pieces {
            assert!(end - start <= m);
            assert!(*start == 0 || cuts.contains(start), "{start}");
        }
        assert_eq!(pieces.back().map(|p| p.1), Some(total));
        // A 10 MiB subsegment: three equal parts; what was had is left out.
        let mib: u64 = 1024 * 1024;
        let step = (10 * mib).div_ceil(3);
        let pieces = aligned(15 * mib, &[(0, mib)], &[4 * mib, 14 * mib]);
        assert_eq!(
            pieces,
            VecDeque::from(vec![
                (mib, 4 * mib),
                (4 * mib, 4 * mib + step),
                (4 * mib + step, 4 * mib + 2 * step),
                (4 * mib + 2 * step, 14 * mib),
                (14 * mib, 15 * mib)
            ])
        );
    }

    #[test]
    fn the_missing_bytes_in_pieces() {
        let m = PIECE;
        // Equal pieces of at most PIECE bytes.
        let step = (2 * m + 10).div_ceil(3);
        assert_eq!(
            aligned(2 * m + 10, &[], &[]),
            VecDeque::from(vec![(0, step), (step, 2 * step), (2 * step, 2 * m + 10)])
        );
        // The gap after a had range: 2 PIECE - 5 bytes in two equal halves.
        let half = (2 * m - 5).div_ceil(2);
        assert_eq!(
            aligned(3 * m, &[(0, 100), (m, m + 5)], &[]),
            VecDeque::from(vec![(100, m), (m + 5, m + 5 + half), (m + 5 + half, 3 * m)])
        );
        assert!(aligned(10, &[(0, 10)], &[]).is_empty());
    }
}
