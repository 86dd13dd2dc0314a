//! The journal's records on disk: `[payload length, LEB128][payload][CRC-32 of the payload,
//! 4 bytes LE]`, and the encoding of each kind of payload (see [`super::journal`]).

use super::journal::{PartFile, SegmentKey};

pub(super) const TAG_DONE: u8 = 1;
pub(super) const TAG_PART: u8 = 2;
pub(super) const TAG_STREAM: u8 = 3;
pub(super) const TAG_RANGE: u8 = 4;
/// Largest payload accepted (a part record with two long validators).
pub(super) const MAX_PAYLOAD: u64 = 64 * 1024;

/// Splits the next whole, intact record off `bytes`: `(payload, rest)`.
pub(super) fn next_record(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut r = Reader(bytes);
    let len = r.varint()?;
    if len == 0 || len > MAX_PAYLOAD {
        return None;
    }
    let len = len as usize;
    let rest = r.0;
    if rest.len() < len + 4 {
        return None;
    }
    let (payload, rest) = rest.split_at(len);
    let (crc, rest) = rest.split_at(4);
    (crc32(payload).to_le_bytes() == crc).then_some((payload, rest))
}

pub(super) fn push_record(out: &mut Vec<u8>, payload: &[u8]) {
    push_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32(payload).to_le_bytes());
}

pub(super) fn done_payload(
    path: u64,
    url: u64,
    size: u64,
    identity: Option<(u32, SegmentKey)>,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(32);
    p.push(TAG_DONE);
    p.extend_from_slice(&path.to_le_bytes());
    p.extend_from_slice(&url.to_le_bytes());
    push_varint(&mut p, size);
    if let Some((stream, key)) = identity {
        push_varint(&mut p, u64::from(stream));
        match key {
            SegmentKey::Init => p.push(0),
            SegmentKey::Time(t) => {
                p.push(1);
                push_varint(&mut p, zigzag(t));
            }
            SegmentKey::Number(n) => {
                p.push(2);
                push_varint(&mut p, n);
            }
            SegmentKey::Range(url, first, last) => {
                p.push(3);
                p.extend_from_slice(&url.to_le_bytes());
                push_varint(&mut p, first);
                push_varint(&mut p, last);
            }
        }
    }
    p
}

pub(super) fn part_payload(path: u64, part: &PartFile) -> Vec<u8> {
    let mut p = Vec::with_capacity(64);
    p.push(TAG_PART);
    p.extend_from_slice(&path.to_le_bytes());
    p.extend_from_slice(&part.url.to_le_bytes());
    push_varint(&mut p, part.total.map_or(0, |t| t.saturating_add(1)));
    push_text(&mut p, part.etag.as_deref());
    push_text(&mut p, part.last_modified.as_deref());
    p
}

pub(super) fn range_payload(path: u64, start: u64, end: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(24);
    p.push(TAG_RANGE);
    p.extend_from_slice(&path.to_le_bytes());
    push_varint(&mut p, start);
    push_varint(&mut p, end);
    p
}

pub(super) fn stream_payload(
    id: u64,
    period: &str,
    adaptation_set: &str,
    representation: &str,
) -> Vec<u8> {
    let mut p = vec![TAG_STREAM];
    push_varint(&mut p, id);
    for text in [period, adaptation_set, representation] {
        push_text(&mut p, Some(text));
    }
    p
}

pub(super) fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Optional text: length + 1 (0 = absent), then the bytes (capped so a record stays small).
pub(super) fn push_text(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => push_varint(out, 0),
        Some(t) => {
            let mut end = t.len().min(4096);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            push_varint(out, end as u64 + 1);
            out.extend_from_slice(&t.as_bytes()[..end]);
        }
    }
}

pub(super) fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

pub(super) fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Reads the fields of a payload; `None` when it ends early or is malformed.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl Reader<'_> {
    pub(super) fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    pub(super) fn u64(&mut self) -> Option<u64> {
        let (bytes, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*bytes))
    }

    pub(super) fn varint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// Optional text: `Some(None)` when absent, `None` when malformed.
    pub(super) fn text(&mut self) -> Option<Option<String>> {
        let len = self.varint()?;
        let Some(len) = len.checked_sub(1) else {
            return Some(None);
        };
        let len = usize::try_from(len).ok()?;
        if self.0.len() < len {
            return None;
        }
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(Some(String::from_utf8(bytes.to_vec()).ok()?))
    }
}

/// CRC-32 (IEEE 802.3, as in zip and PNG).
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_varints() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            let mut out = Vec::new();
            push_varint(&mut out, n);
            assert_eq!(Reader(&out).varint(), Some(n));
        }
        for n in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(n)), n);
        }
        // An over-long varint is malformed, not an overflow.
        assert_eq!(Reader(&[0xff; 11]).varint(), None);
    }
}
