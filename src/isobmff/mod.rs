//! Reading ISO-BMFF box headers and walking the box tree from any `Read + Seek`, within bounds.
//!
//! The reader never loads a payload it is not asked for: [`Source`] keeps a small window of the
//! file and seeks over everything else, so an `mdat` of gigabytes costs one seek. Header parsing
//! follows the rules Bento4's `mp4dump` applies (so that damaged files print the same boxes):
//! a box list ends at the first header that cannot be read, whose size is 2..7, whose 64-bit
//! size is below 16, or whose size is larger than the bytes left in its parent.

mod bits;
mod cursor;
mod skeleton;
mod source;
mod tiling;

pub(crate) use bits::Bits;
pub use cursor::{Cursor, Short};
pub use skeleton::{Skeleton, SkeletonReader};
pub use source::Source;
pub use tiling::BoxTiling;

use std::fmt;
use std::io::{self, Read, Seek};

/// A four-character box type, as stored in the file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FourCC(pub [u8; 4]);

impl FourCC {
    /// Builds a type from its four bytes (`FourCC::new(b"moov")`).
    pub const fn new(b: &[u8; 4]) -> Self {
        FourCC(*b)
    }

    /// The type as Bento4 prints a box name: bytes below 0x20 or from 0x7F up become `.`.
    pub fn printable(&self) -> [u8; 4] {
        let mut out = self.0;
        for b in &mut out {
            if *b < 0x20 || *b >= 0x7f {
                *b = b'.';
            }
        }
        out
    }
}

impl fmt::Debug for FourCC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCC({})", String::from_utf8_lossy(&self.printable()))
    }
}

impl fmt::Display for FourCC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.printable()))
    }
}

/// Where a box is and how its header is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    /// Position of the box's first byte in its file.
    pub offset: u64,
    /// Total size of the box, header included (a size of 0 is already resolved to the end).
    pub size: u64,
    /// The box type.
    pub typ: FourCC,
    /// The extended type of a `uuid` box.
    pub uuid: Option<[u8; 16]>,
    /// Whether the header used the 64-bit `largesize` form (a declared size of 1).
    pub large: bool,
}

impl BoxHeader {
    /// Bytes of the plain header: 8, +8 with a largesize, +16 for a `uuid` type.
    pub fn header_len(&self) -> u64 {
        8 + if self.large { 8 } else { 0 } + if self.uuid.is_some() { 16 } else { 0 }
    }

    /// Position of the first byte after the plain header.
    pub fn payload_offset(&self) -> u64 {
        self.offset + self.header_len()
    }

    /// Position of the first byte after the box.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.size)
    }
}

/// Why a box list ended before its parent's end. Bento4 stops silently at these; we can say why
/// at verbosity 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Fewer than 8 bytes left: the normal end of a list (or a few trailing bytes).
    End {
        /// How many bytes were left over (0 at a clean end).
        left: u64,
    },
    /// A header that cannot describe a box here.
    Malformed {
        /// Where the bad header starts.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
}

impl Stop {
    /// The reason as a short phrase, `None` for a clean end.
    pub fn describe(&self) -> Option<String> {
        match self {
            Stop::End { left: 0 } => None,
            Stop::End { left } => Some(format!("{left} trailing bytes, too few for a box header")),
            Stop::Malformed { reason, .. } => Some(reason.clone()),
        }
    }
}

/// Reads the header of the box starting at `offset`, where `available` bytes are left in the
/// parent (or the file) and `file_len` is the length of the whole file (for `size = 0`).
///
/// `uuid_ext` says whether a `uuid` type carries its 16-byte extended type here (everywhere but
/// among sample entries, where Bento4 reads it as a plain type).
///
/// Returns `Ok(Err(stop))` when the list of boxes ends here (Bento4's rules), and `Err` only for
/// I/O errors.
pub fn read_header<R: Read + Seek>(
    src: &mut Source<R>,
    offset: u64,
    available: u64,
    file_len: u64,
    uuid_ext: bool,
) -> io::Result<Result<BoxHeader, Stop>> {
    if available < 8 {
        return Ok(Err(Stop::End { left: available }));
    }
    let mut head = [0u8; 8];
    if !src.read_at(offset, &mut head)? {
        return Ok(Err(Stop::Malformed {
            offset,
            reason: "box header past the end of the file".into(),
        }));
    }
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let typ = FourCC([head[4], head[5], head[6], head[7]]);
    let mut size = u64::from(size32);
    let mut large = false;
    let mut next = offset + 8;
    if size32 == 0 {
        size = file_len.saturating_sub(offset);
    } else if size32 == 1 {
        large = true;
        if available < 16 {
            return Ok(Err(Stop::Malformed {
                offset,
                reason: format!("[{typ}] 64-bit size needs 16 header bytes, {available} left"),
            }));
        }
        let mut ls = [0u8; 8];
        if !src.read_at(next, &mut ls)? {
            return Ok(Err(Stop::Malformed {
                offset,
                reason: "box header past the end of the file".into(),
            }));
        }
        size = u64::from_be_bytes(ls);
        next += 8;
        if size < 16 {
            return Ok(Err(Stop::Malformed {
                offset,
                reason: format!("[{typ}] 64-bit size {size} is smaller than its header"),
            }));
        }
    }
    if (size > 0 && size < 8) || size > available {
        let reason = if size > available {
            format!("[{typ}] box claims {size} bytes, {available} left")
        } else {
            format!("[{typ}] size {size} is smaller than a box header")
        };
        return Ok(Err(Stop::Malformed { offset, reason }));
    }
    let mut uuid = None;
    if uuid_ext && &typ.0 == b"uuid" {
        let mut ext = [0u8; 16];
        if size < (next - offset) + 16 || !src.read_at(next, &mut ext)? {
            return Ok(Err(Stop::Malformed {
                offset,
                reason: "[uuid] box too small for its extended type".into(),
            }));
        }
        uuid = Some(ext);
    }
    Ok(Ok(BoxHeader {
        offset,
        size,
        typ,
        uuid,
        large,
    }))
}

/// The boxes of an in-memory list (a segment's first bytes, a container's payload), in order,
/// each with its payload: the list ends where [`read_header`] ends it, and at a box that runs
/// past the bytes given.
pub fn boxes(bytes: &[u8]) -> impl Iterator<Item = (BoxHeader, &[u8])> + '_ {
    let mut src = Source::new(io::Cursor::new(bytes));
    let len = bytes.len() as u64;
    let mut at = 0u64;
    std::iter::from_fn(move || {
        let header = read_header(&mut src, at, len - at, len, true).ok()?.ok()?;
        let payload = bytes.get(usize::try_from(header.payload_offset()).ok()?..)?;
        let payload = payload.get(..usize::try_from(header.size - header.header_len()).ok()?)?;
        at = header.end();
        Some((header, payload))
    })
}

#[cfg(test)]
mod tests;
