//! Whether a stream of bytes ends where its top-level boxes end, told as the bytes go by: a body
//! received over chunked transfer (a low-latency segment, sent as it is written) has no
//! `Content-Length` to check its size against, and a connection closed cleanly at the wrong
//! moment must not pass for a whole segment.

/// Follows the top-level box headers of a stream.
#[derive(Debug, Clone, Default)]
pub struct BoxTiling {
    /// Bytes seen.
    pos: u64,
    /// Where the next top-level box starts (`u64::MAX` after a box that runs to the end).
    next: u64,
    /// The bytes of the header being read (size, type, large size).
    header: [u8; 16],
    have: usize,
    /// A header that cannot be (a size smaller than its header).
    broken: bool,
}

impl BoxTiling {
    /// A stream at its first byte.
    pub fn new() -> BoxTiling {
        BoxTiling::default()
    }

    /// Takes the next bytes of the stream.
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.broken {
            if self.next == u64::MAX {
                self.pos += bytes.len() as u64;
                return;
            }
            if self.pos < self.next {
                let skip = (self.next - self.pos).min(bytes.len() as u64);
                self.pos += skip;
                bytes = &bytes[skip as usize..];
                continue;
            }
            // At a header: gather 8 bytes, 16 for a 64-bit size.
            let want = if self.have >= 8 && self.size32() == 1 {
                16
            } else {
                8
            };
            let take = (want - self.have).min(bytes.len());
            self.header[self.have..self.have + take].copy_from_slice(&bytes[..take]);
            self.have += take;
            self.pos += take as u64;
            bytes = &bytes[take..];
            if self.have == 8 && self.size32() == 1 {
                continue;
            }
            if self.have < want {
                continue;
            }
            let start = self.pos - self.have as u64;
            let (size, header) = match self.size32() {
                0 => (u64::MAX, 8),
                1 => (
                    u64::from_be_bytes(self.header[8..16].try_into().unwrap_or_default()),
                    16,
                ),
                n => (u64::from(n), 8),
            };
            self.have = 0;
            if size == u64::MAX {
                self.next = u64::MAX;
            } else if size < header {
                self.broken = true;
            } else {
                self.next = start.saturating_add(size);
            }
        }
    }

    fn size32(&self) -> u32 {
        u32::from_be_bytes([
            self.header[0],
            self.header[1],
            self.header[2],
            self.header[3],
        ])
    }

    /// Whether the bytes seen end exactly where a top-level box ends (at least one box).
    pub fn is_whole(&self) -> bool {
        !self.broken
            && self.have == 0
            && self.pos > 0
            && (self.next == u64::MAX || self.pos == self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes() -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&16u32.to_be_bytes());
        out.extend_from_slice(b"styp");
        out.extend_from_slice(b"msdhmsdh");
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(b"mdat");
        out.extend_from_slice(&20u64.to_be_bytes());
        out.extend_from_slice(b"abcd");
        out
    }

    #[test]
    fn whole_in_any_chunking_and_not_whole_when_cut() {
        let bytes = boxes();
        for step in 1..=bytes.len() {
            let mut t = BoxTiling::new();
            for chunk in bytes.chunks(step) {
                t.push(chunk);
            }
            assert!(t.is_whole(), "chunks of {step}");
        }
        for cut in 1..bytes.len() {
            let mut t = BoxTiling::new();
            t.push(&bytes[..cut]);
            // Between the two boxes is a whole (shorter) stream.
            assert_eq!(t.is_whole(), cut == 16, "cut at {cut}");
        }
        assert!(!BoxTiling::new().is_whole());
        let mut t = BoxTiling::new();
        t.push(&[0, 0, 0, 4, b'f', b'r', b'e', b'e']);
        assert!(!t.is_whole(), "a size smaller than its header");
        let mut t = BoxTiling::new();
        t.push(&[0, 0, 0, 0, b'm', b'd', b'a', b't', 1, 2, 3]);
        assert!(t.is_whole(), "a last box that runs to the end");
    }
}
