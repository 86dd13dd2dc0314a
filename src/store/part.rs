//! Writing a download into its part file: received bytes are gathered into a buffer and written
//! on the blocking pool, and the kernel is asked to start writing them to disk at once, so that
//! the fsync before the rename finds little left to do.

use super::{FileSlot, StoreError, io_err};
use std::fs::File;
use std::io::{self, Write};

/// Largest buffer written in the same blocking call as the fsync and rename.
const COMMIT_INLINE: usize = 64 * 1024;

/// A part file being filled, from the async side.
#[derive(Debug)]
pub struct PartWriter {
    file: Option<File>,
    /// A fresh download whose part file is not created yet: it is created by the first write
    /// of the buffer; a file that is whole before that is written under its final name at
    /// once ([`FileSlot::write_whole`]), and no part file ever exists.
    deferred: Option<FileSlot>,
    /// A stale part file may be on disk (an earlier run's or attempt's): removed when the file
    /// is written whole.
    stale_part: bool,
    buffer: Vec<u8>,
    capacity: usize,
    /// Bytes of the file already written (the offset the buffer starts at).
    position: u64,
    /// Start disk writeback after each write (`sync_file_range`), for a cheap final fsync.
    early_writeback: bool,
}

impl PartWriter {
    /// Wraps an open part file whose current length is `position`. `buffer` (emptied; reused
    /// from an earlier download, so that its pages are not faulted in again) gathers up to
    /// `capacity` bytes between writes.
    pub fn new(
        file: File,
        position: u64,
        mut buffer: Vec<u8>,
        capacity: usize,
        early_writeback: bool,
    ) -> PartWriter {
        buffer.clear();
        PartWriter {
            file: Some(file),
            deferred: None,
            stale_part: false,
            buffer,
            capacity,
            position,
            early_writeback,
        }
    }

    /// A writer for a fresh download into `slot`, whose part file is created only when bytes
    /// must be written before the download is whole.
    pub fn deferred(
        slot: FileSlot,
        mut buffer: Vec<u8>,
        capacity: usize,
        early_writeback: bool,
        stale_part: bool,
    ) -> PartWriter {
        buffer.clear();
        PartWriter {
            file: None,
            deferred: Some(slot),
            stale_part,
            buffer,
            capacity,
            position: 0,
            early_writeback,
        }
    }

    /// Whether a part file was created (bytes were written out before the file was whole).
    pub fn has_part(&self) -> bool {
        self.deferred.is_none()
    }

    /// Whether buffering `more` bytes would write the buffer out.
    pub fn would_flush(&self, more: usize) -> bool {
        self.buffer.len() + more >= self.capacity
    }

    /// Bytes handed to the writer so far, written or buffered, including the starting length.
    pub fn len(&self) -> u64 {
        self.position + self.buffer.len() as u64
    }

    /// Whether nothing has been written or buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffers `bytes`; writes the buffer out once it is full.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= self.capacity {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the buffer to the file (on the blocking pool).
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        if let Some(slot) = self.deferred.take() {
            self.file = Some(slot.open_part(false).map_err(io::Error::other)?);
        }
        let Some(mut file) = self.file.take() else {
            return Err(io::Error::other(
                "part file lost by an earlier failed write",
            ));
        };
        let buffer = std::mem::take(&mut self.buffer);
        let (offset, early) = (self.position, self.early_writeback);
        let joined = tokio::task::spawn_blocking(move || {
            let result = file.write_all(&buffer);
            if result.is_ok() && early {
                start_writeback(&file, offset, buffer.len() as u64);
            }
            (file, buffer, result)
        })
        .await;
        let (file, mut buffer, result) = joined.map_err(io::Error::other)?;
        self.file = Some(file);
        result?;
        self.position += buffer.len() as u64;
        buffer.clear();
        self.buffer = buffer;
        Ok(())
    }

    /// Before a commit: writes out a large remainder and hands the emptied buffer back (for
    /// reuse, and so that files waiting for their fsync hold no big buffers). A small remainder
    /// stays, to go in the commit's single trip (write, fsync, rename).
    pub async fn release_buffer(&mut self) -> io::Result<Option<Vec<u8>>> {
        // A file whole in memory is written whole by the commit.
        if self.deferred.is_some() {
            return Ok(None);
        }
        if self.buffer.len() > COMMIT_INLINE {
            self.flush().await?;
        }
        if self.buffer.is_empty() {
            return Ok(Some(std::mem::take(&mut self.buffer)));
        }
        Ok(None)
    }

    /// Makes the part final, in one trip to the blocking pool: writes what is buffered, flushes
    /// the file to disk when `sync` (so that after a power cut the final name holds the whole
    /// file or is absent), renames it to its final name. Gives the buffer back, emptied.
    pub async fn commit(mut self, slot: &FileSlot, sync: bool) -> Result<Vec<u8>, StoreError> {
        if self.deferred.is_some() {
            // Never written out: the whole file is in the buffer.
            let mut buffer = std::mem::take(&mut self.buffer);
            let owned = slot.clone();
            let stale = self.stale_part;
            let finish = move || {
                owned.write_whole(&buffer, sync)?;
                if stale {
                    owned.remove_part();
                }
                buffer.clear();
                Ok(buffer)
            };
            // On the blocking pool even when small: creating a file on a journalled file
            // system (ext4) costs tens of microseconds, which the downloads then overlap
            // (20,002 files of 200 B on a fresh ext4: 2.65 s against 3.04 s in place, curl
            // 2.83 s; level on tmpfs; BENCHMARKS.md).
            let path = slot.part_path();
            let joined = tokio::task::spawn_blocking(finish).await;
            return joined.map_err(|e| StoreError::Io {
                path,
                source: io::Error::other(e),
            })?;
        }
        let Some(mut file) = self.file.take() else {
            return Err(StoreError::Io {
                path: slot.part_path(),
                source: io::Error::other("part file lost by an earlier failed write"),
            });
        };
        let small = self.buffer.len() <= COMMIT_INLINE;
        let mut buffer = std::mem::take(&mut self.buffer);
        let owned = slot.clone();
        let finish = move || {
            file.write_all(&buffer)
                .map_err(io_err(&owned.part_path()))?;
            if sync {
                file.sync_all().map_err(io_err(&owned.part_path()))?;
            }
            drop(file);
            owned.rename_part()?;
            buffer.clear();
            Ok(buffer)
        };
        // Without fsync, a small file's last write and rename take microseconds (page cache):
        // done in place, they spare two thread hand-offs per file, which dominated the time of
        // many small segments. The fsync, which waits for the disk, goes to the blocking pool.
        if !sync && small {
            return finish();
        }
        let part = slot.part_path();
        let joined = tokio::task::spawn_blocking(finish).await;
        joined.map_err(|e| StoreError::Io {
            path: part,
            source: io::Error::other(e),
        })?
    }
}

/// Asks the kernel to start writing a range of the file to disk, without waiting for it.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; the call only schedules writeback of that range.
    // A failure is harmless (the fsync before the rename does the work then).
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as i64,
            len as i64,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_written_through_the_buffer_reach_the_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.part");
        let file = File::create(&path).unwrap();
        let data: Vec<u8> = (0..1_000_003u32)
            .map(|i| (i as u8).wrapping_mul(31) ^ 7)
            .collect();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                let mut w = PartWriter::new(file, 0, Vec::new(), 64 * 1024, false);
                for piece in data.chunks(9_999) {
                    w.write(piece).await.unwrap();
                }
                assert_eq!(w.len(), data.len() as u64);
                w.flush().await.unwrap();
            });
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }
}
