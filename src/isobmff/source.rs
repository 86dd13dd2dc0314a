//! A positioned reader over `Read + Seek` with one window of buffered bytes.

use std::io::{self, Read, Seek, SeekFrom};

/// Size of the read window: large enough that a run of small boxes (a `moof` and its children)
/// costs one read, small enough to stay flat in memory.
const WINDOW: usize = 64 * 1024;

/// Random-access reads at absolute offsets, served from a buffered window when possible.
/// Reads that miss the window refill it from the requested offset, so walking forward over
/// headers and skipping payloads (`mdat`) reads only the bytes that are looked at.
pub struct Source<R> {
    inner: R,
    window: Vec<u8>,
    window_start: u64,
    /// Bytes read from the underlying reader so far (for statistics).
    bytes_read: u64,
}

impl<R: Read + Seek> Source<R> {
    /// Wraps a reader; nothing is read until asked.
    pub fn new(inner: R) -> Self {
        Source {
            inner,
            window: Vec::with_capacity(WINDOW),
            window_start: 0,
            bytes_read: 0,
        }
    }

    /// Bytes read from the underlying reader so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Fills `buf` with the bytes at `offset`. Returns `Ok(false)` if the file ends first.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<bool> {
        let want = buf.len();
        if want == 0 {
            return Ok(true);
        }
        if let Some(slice) = self.window_slice(offset, want) {
            buf.copy_from_slice(slice);
            return Ok(true);
        }
        if want >= WINDOW / 2 {
            // Large payloads go straight into the caller's buffer.
            self.inner.seek(SeekFrom::Start(offset))?;
            let n = read_full(&mut self.inner, buf)?;
            self.bytes_read += n as u64;
            return Ok(n == want);
        }
        self.fill(offset)?;
        match self.window_slice(offset, want) {
            Some(slice) => {
                buf.copy_from_slice(slice);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Appends the `len` bytes at `offset` to `out`. Returns `Ok(false)` if the file ends first
    /// (then `out` holds what could be read).
    pub fn read_vec_at(&mut self, offset: u64, len: u64, out: &mut Vec<u8>) -> io::Result<bool> {
        let start = out.len();
        let Ok(len_usize) = usize::try_from(len) else {
            return Ok(false);
        };
        if let Some(slice) = self.window_slice(offset, len_usize) {
            out.extend_from_slice(slice);
            return Ok(true);
        }
        if len_usize < WINDOW / 2 {
            self.fill(offset)?;
            if let Some(slice) = self.window_slice(offset, len_usize) {
                out.extend_from_slice(slice);
                return Ok(true);
            }
            return Ok(false);
        }
        self.inner.seek(SeekFrom::Start(offset))?;
        // Grow in steps so a lying size never allocates more than the file holds.
        let mut got = 0usize;
        while got < len_usize {
            let step = (len_usize - got).min(1 << 20);
            out.resize(start + got + step, 0);
            let n = read_full(&mut self.inner, &mut out[start + got..start + got + step])?;
            self.bytes_read += n as u64;
            got += n;
            if n < step {
                out.truncate(start + got);
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn window_slice(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let rel = offset.checked_sub(self.window_start)?;
        let rel = usize::try_from(rel).ok()?;
        let end = rel.checked_add(len)?;
        self.window.get(rel..end)
    }

    fn fill(&mut self, offset: u64) -> io::Result<()> {
        self.inner.seek(SeekFrom::Start(offset))?;
        self.window.resize(WINDOW, 0);
        let n = read_full(&mut self.inner, &mut self.window)?;
        self.bytes_read += n as u64;
        self.window.truncate(n);
        self.window_start = offset;
        Ok(())
    }
}

/// Reads until `buf` is full or the reader ends; returns the count read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
