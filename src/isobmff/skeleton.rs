//! The box structure of a file as its bytes stream in, without the payloads of its `mdat`
//! boxes: what a reader of boxes needs (no box reader looks into media data), at a small
//! fraction of the size. Read back as the whole file, with zeros where payloads were.

use std::io::{self, Read, Seek, SeekFrom};

/// See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skeleton {
    /// Bytes seen.
    len: u64,
    /// Kept stretches: (offset, bytes), in order, not touching.
    pieces: Vec<(u64, Vec<u8>)>,
    /// The header of the top-level box being read, while incomplete.
    header: Vec<u8>,
    /// Where the current top-level box ends (`None`: a header is being read).
    box_end: Option<u64>,
    /// Whether the current box's payload is skipped (an `mdat`).
    skipping: bool,
}

impl Skeleton {
    /// Nothing seen yet.
    pub fn new() -> Skeleton {
        Skeleton::default()
    }

    /// Bytes seen.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes kept.
    pub fn kept(&self) -> usize {
        self.pieces.iter().map(|(_, b)| b.len()).sum()
    }

    /// The next bytes of the file.
    pub fn push(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match self.box_end {
                Some(end) if self.len < end => {
                    let n = usize::try_from(end - self.len)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    if !self.skipping {
                        self.keep(&data[..n]);
                    }
                    self.len += n as u64;
                    data = &data[n..];
                }
                _ => {
                    self.box_end = None;
                    let need = if self.header.len() >= 8 && self.header[..4] == [0, 0, 0, 1] {
                        16
                    } else {
                        8
                    };
                    let n = (need - self.header.len()).min(data.len());
                    self.header.extend_from_slice(&data[..n]);
                    self.keep(&data[..n]);
                    self.len += n as u64;
                    data = &data[n..];
                    if self.header.len() == 8 && self.header[..4] == [0, 0, 0, 1] {
                        continue;
                    }
                    if self.header.len() == need {
                        self.open_box();
                    }
                }
            }
        }
    }

    /// A complete header: where its box ends, and whether its payload is kept.
    fn open_box(&mut self) {
        let header_len = self.header.len() as u64;
        let start = self.len - header_len;
        let size32 = u32::from_be_bytes([
            self.header[0],
            self.header[1],
            self.header[2],
            self.header[3],
        ]);
        let size = match size32 {
            0 => None,
            1 => Some(u64::from_be_bytes(
                self.header[8..16].try_into().unwrap_or([0; 8]),
            )),
            n => Some(u64::from(n)),
        };
        let is_mdat = &self.header[4..8] == b"mdat";
        // A size shorter than its header: nothing after it is a box; all of it is kept.
        let (end, skipping) = match size {
            Some(size) if size >= header_len => (start.saturating_add(size), is_mdat),
            Some(_) => (u64::MAX, false),
            None => (u64::MAX, is_mdat),
        };
        self.box_end = Some(end);
        self.skipping = skipping;
        self.header.clear();
    }

    fn keep(&mut self, bytes: &[u8]) {
        match self.pieces.last_mut() {
            Some((at, piece)) if *at + piece.len() as u64 == self.len => {
                piece.extend_from_slice(bytes)
            }
            _ => self.pieces.push((self.len, bytes.to_vec())),
        }
    }

    /// The file as a reader: the kept bytes, zeros elsewhere.
    pub fn reader(&self) -> SkeletonReader<'_> {
        SkeletonReader {
            skeleton: self,
            position: 0,
        }
    }
}

/// [`Skeleton::reader`].
#[derive(Debug)]
pub struct SkeletonReader<'a> {
    skeleton: &'a Skeleton,
    position: u64,
}

impl Read for SkeletonReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = self.skeleton.len;
        if self.position >= len || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(len - self.position)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let pieces = &self.skeleton.pieces;
        // The piece holding the position, else the next one (the gap before it reads as zeros).
        let i = pieces.partition_point(|(at, b)| at + b.len() as u64 <= self.position);
        let n = match pieces.get(i) {
            Some((at, bytes)) if *at <= self.position => {
                let from = (self.position - at) as usize;
                let n = want.min(bytes.len() - from);
                buf[..n].copy_from_slice(&bytes[from..from + n]);
                n
            }
            Some((at, _)) => {
                let n = want.min(usize::try_from(at - self.position).unwrap_or(usize::MAX));
                buf[..n].fill(0);
                n
            }
            None => {
                buf[..want].fill(0);
                want
            }
        };
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for SkeletonReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.skeleton.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position =
            target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before 0"))?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes(list: &[(&[u8; 4], usize)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, (typ, payload)) in list.iter().enumerate() {
            out.extend_from_slice(&(8 + *payload as u32).to_be_bytes());
            out.extend_from_slice(*typ);
            out.extend((0..*payload).map(|i| (i + k) as u8 | 1));
        }
        out
    }

    /// Whatever the chunking, the skeleton reads back as the file with mdat payloads zeroed,
    /// and keeps only the rest.
    #[test]
    fn reads_back_as_the_file_without_media() {
        let mut file = boxes(&[
            (b"styp", 16),
            (b"moof", 100),
            (b"mdat", 5000),
            (b"emsg", 20),
        ]);
        // A 64-bit mdat to end the file.
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&(16u64 + 300).to_be_bytes());
        file.extend((0..300).map(|i| i as u8 | 1));
        let mut want = file.clone();
        for (start, len) in [(24 + 108 + 8, 5000), (24 + 108 + 5008 + 28 + 16, 300)] {
            want[start..start + len].fill(0);
        }
        for chunk in [1, 3, 7, 8, 16, 1000, file.len()] {
            let mut s = Skeleton::new();
            for part in file.chunks(chunk) {
                s.push(part);
            }
            assert_eq!(s.len(), file.len() as u64);
            assert_eq!(s.kept(), file.len() - 5300, "chunks of {chunk}");
            let mut back = Vec::new();
            s.reader().read_to_end(&mut back).unwrap();
            assert_eq!(back, want, "chunks of {chunk}");
            let mut r = s.reader();
            r.seek(SeekFrom::Start(24)).unwrap();
            let mut head = [0u8; 8];
            r.read_exact(&mut head).unwrap();
            assert_eq!(&head[4..], b"moof");
        }
        // A size shorter than its header: the rest is kept as it is.
        let mut s = Skeleton::new();
        s.push(&[0, 0, 0, 4, b'm', b'd', b'a', b't', 9, 9]);
        assert_eq!(s.kept(), 10);
    }
}
