//! A reader of bit fields, most significant bit first (codec configurations).

/// Reads bits most significant first. Past the end of the payload it reads zeros: the bytes
/// after the box are never looked at.
pub(crate) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    /// Bits read (or skipped) so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// From the first bit of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Bits<'a> {
        Bits { data, pos: 0 }
    }

    pub(crate) fn read(&mut self, n: u32) -> u64 {
        let mut v = 0u64;
        for _ in 0..n {
            let byte = self.data.get(self.pos / 8).copied().unwrap_or(0);
            v = (v << 1) | u64::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos = self.pos.saturating_add(1);
        }
        v
    }

    pub(crate) fn flag(&mut self) -> bool {
        self.read(1) != 0
    }

    pub(crate) fn skip(&mut self, n: u64) {
        self.pos = self
            .pos
            .saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
    }

    pub(crate) fn align(&mut self) {
        if !self.pos.is_multiple_of(8) {
            self.pos = self.pos.saturating_add(8 - self.pos % 8);
        }
    }

    /// Whether every bit read so far was inside the payload.
    pub(crate) fn past_end(&self) -> bool {
        self.pos > self.data.len().saturating_mul(8)
    }
}
