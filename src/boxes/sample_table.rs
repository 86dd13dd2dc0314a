//! Sample tables: `stts`, `ctts`, `stss`, `stsc`, `stsz`, `stz2`, `stco`, `co64`, sample
//! groups (`sgpd`, `sbgp`) and auxiliary information (`saiz`, `saio`).
//!
//! Every table is bounded by the bytes present: a count larger than the payload can hold is
//! cut (or the table dropped) the way Bento4 does, never trusted for a loop or an allocation.

use super::fields::saiz;
use super::{Decoded, Full, Reject};
use crate::isobmff::Cursor;
use crate::render::{Inspector, Value};

fn v0_only(f: &Full) -> Decoded {
    if f.version != 0 { Err(Reject) } else { Ok(()) }
}

/// `stts`: decoding time to sample.
pub fn stts(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    v0_only(f)?;
    let declared = c.u32()?;
    let count = (declared as usize).min(c.remaining() / 8);
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 1 {
        ins.start_table("entries");
        for _ in 0..count {
            let n = c.u32()?;
            let d = c.u32()?;
            ins.start_object(true);
            ins.uint("sample_count", u64::from(n));
            ins.uint("sample_duration", u64::from(d));
            ins.end_object();
        }
        ins.end_table();
    }
    Ok(())
}

/// `ctts`: composition time offsets (signed in version 1: printed with their sign, where
/// Bento4 prints them as unsigned 32-bit numbers).
pub fn ctts(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let mut count = 0;
    if c.remaining() >= 4 {
        let declared = c.u32()? as usize;
        if c.remaining() / 8 >= declared {
            count = declared;
        }
    }
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 2 {
        ins.start_table("entries");
        for _ in 0..count {
            let n = c.u32()?;
            let o = c.u32()?;
            ins.start_object(true);
            ins.uint("count", u64::from(n));
            if f.version == 1 {
                ins.int("offset", i64::from(o as i32));
            } else {
                ins.uint("offset", u64::from(o));
            }
            ins.end_object();
        }
        ins.end_table();
    }
    Ok(())
}

/// `stss`: sync samples (Bento4 prints only the count).
pub fn stss(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    v0_only(f)?;
    let mut count = 0;
    if c.remaining() >= 4 {
        let declared = c.u32()? as usize;
        if c.remaining() / 4 >= declared {
            count = declared;
        }
    }
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 4 {
        ins.start_table("entries");
        for _ in 0..count {
            ins.field(None, Value::Uint(u64::from(c.u32()?)));
        }
        ins.end_table();
    }
    Ok(())
}

/// `stsc`: sample to chunk, with Bento4's computed first sample and chunk count.
pub fn stsc(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    v0_only(f)?;
    let mut count = 0;
    if c.remaining() >= 4 {
        let declared = c.u32()? as usize;
        if c.remaining() / 12 >= declared {
            count = declared;
        }
    }
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 1 {
        ins.start_table("entries");
        let table = c.bytes(count * 12)?;
        let entry = |i: usize| -> [u32; 3] {
            let b = &table[i * 12..i * 12 + 12];
            [
                u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            ]
        };
        let mut first_sample: u32 = 1;
        for i in 0..count {
            let [first_chunk, per_chunk, desc] = entry(i);
            // The chunk count is known from the next entry; 0 for the last one.
            let chunk_count = if i + 1 < count {
                entry(i + 1)[0].wrapping_sub(first_chunk)
            } else {
                0
            };
            ins.start_object(true);
            ins.uint("first_chunk", u64::from(first_chunk));
            ins.uint("first_sample", u64::from(first_sample));
            ins.uint("chunk_count", u64::from(chunk_count));
            ins.uint("samples_per_chunk", u64::from(per_chunk));
            ins.uint("sample_desc_index", u64::from(desc));
            ins.end_object();
            first_sample = first_sample.wrapping_add(chunk_count.wrapping_mul(per_chunk));
        }
        ins.end_table();
    }
    Ok(())
}

/// `stsz`: sample sizes.
pub fn stsz(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    v0_only(f)?;
    let (mut size, mut count, mut entries) = (0u32, 0u32, 0usize);
    if c.remaining() >= 8 {
        let s = c.u32()?;
        let n = c.u32()?;
        size = s;
        if s == 0 {
            if (n as usize) <= c.remaining() / 4 {
                count = n;
                entries = n as usize;
            }
        } else {
            count = n;
        }
    }
    ins.uint("sample_size", u64::from(size));
    ins.uint("sample_count", u64::from(count));
    if ins.verbosity() >= 2 {
        ins.start_table("entries");
        for _ in 0..entries {
            ins.field(None, Value::Uint(u64::from(c.u32()?)));
        }
        ins.end_table();
    }
    Ok(())
}

/// `stz2`: compact sample sizes.
pub fn stz2(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    v0_only(f)?;
    let (mut field_size, mut count) = (0u8, 0usize);
    let mut table: &[u8] = &[];
    if c.remaining() >= 8 {
        c.skip(3)?;
        let fs = c.u8()?;
        if matches!(fs, 4 | 8 | 16) {
            let n = c.u32()? as usize;
            let bytes = (n as u64 * u64::from(fs)).div_ceil(8);
            if bytes <= c.remaining() as u64 {
                field_size = fs;
                count = n;
                table = c.bytes(bytes as usize)?;
            }
        }
    }
    ins.uint("field_size", u64::from(field_size));
    ins.uint("sample_count", count as u64);
    if ins.verbosity() >= 2 {
        ins.start_table("entries");
        for i in 0..count {
            let v = match field_size {
                4 => {
                    let b = table[i / 2];
                    if i % 2 == 0 { b >> 4 } else { b & 15 }.into()
                }
                8 => u64::from(table[i]),
                _ => u64::from(u16::from_be_bytes([table[i * 2], table[i * 2 + 1]])),
            };
            ins.field(None, Value::Uint(v));
        }
        ins.end_table();
    }
    Ok(())
}

/// `stco`: 32-bit chunk offsets.
pub fn stco(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    v0_only(f)?;
    let count = if c.remaining() >= 4 {
        (c.u32()? as usize).min(c.remaining() / 4)
    } else {
        0
    };
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 1 {
        ins.start_table("entries");
        for _ in 0..count {
            ins.field(None, Value::Uint(u64::from(c.u32()?)));
        }
        ins.end_table();
    }
    Ok(())
}

/// `co64`: 64-bit chunk offsets.
pub fn co64(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    v0_only(f)?;
    let count = (c.u32()? as usize).min(c.remaining() / 8);
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 1 {
        ins.start_table("entries");
        for _ in 0..count {
            ins.field(None, Value::Uint(c.u64()?));
        }
        ins.end_table();
    }
    Ok(())
}

/// Version-0 `sgpd` entries of no bytes printed at most (Bento4 prints as many as declared).
const SGPD_EMPTY_ENTRIES_MAX: usize = 1 << 16;

/// `sgpd`: sample group descriptions, each entry as bytes.
///
/// Version 1 with `default_length` 0 stores a length before each entry; Bento4 reads that
/// length into the wrong variable and prints every entry empty. We print the entries.
pub fn sgpd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let grouping = c.u32()?;
    let default_length = if f.version >= 1 { c.u32()? } else { 0 };
    let declared = c.u32()?;
    // Entries are read as long as they fit in the payload.
    let mut entries: Vec<&[u8]> = Vec::new();
    for _ in 0..declared {
        let len = if f.version == 0 {
            // The size of a version-0 entry is not in the box: Bento4 gives each entry the
            // whole rest (reading the first from the box, the next ones from beyond it). We
            // print the entries that lie inside the box: the first, and further ones only
            // while the rest is empty (then each is empty too, up to a bound no real box needs).
            if let Some(first) = entries.first()
                && (!first.is_empty() || entries.len() >= SGPD_EMPTY_ENTRIES_MAX)
            {
                break;
            }
            c.remaining()
        } else if default_length == 0 {
            match c.u32() {
                Ok(n) => n as usize,
                Err(_) => break,
            }
        } else {
            default_length as usize
        };
        match c.bytes(len) {
            Ok(b) => entries.push(b),
            Err(_) => break,
        }
    }
    ins.fourcc("grouping_type", grouping);
    if f.version >= 1 {
        ins.uint("default_length", u64::from(default_length));
    }
    ins.uint("entry_count", entries.len() as u64);
    ins.start_table("entries");
    for e in entries {
        ins.field(None, Value::Bytes(e));
    }
    ins.end_table();
    Ok(())
}

/// `sbgp`: sample to group.
pub fn sbgp(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let mut grouping = 0;
    let mut parameter = 0;
    let mut count = 0usize;
    if c.remaining() >= 4 {
        grouping = c.u32()?;
        let mut ok = true;
        if f.version >= 1 {
            match c.u32() {
                Ok(p) => parameter = p,
                Err(_) => ok = false,
            }
        }
        if ok && c.remaining() >= 4 {
            let declared = c.u32()? as usize;
            if c.remaining() as u64 >= declared as u64 * 8 {
                count = declared;
            }
        }
    }
    ins.fourcc("grouping_type", grouping);
    if f.version >= 1 {
        ins.uint("grouping_type_parameter", u64::from(parameter));
    }
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 2 {
        ins.start_table("entries");
        for _ in 0..count {
            let n = c.u32()?;
            let g = c.u32()?;
            ins.start_object(true);
            ins.uint("sample_count", u64::from(n));
            ins.uint("group_description_index", u64::from(g));
            ins.end_object();
        }
        ins.end_table();
    }
    Ok(())
}

/// `saiz`: auxiliary information sizes.
pub fn saiz(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 0 {
        return Err(Reject);
    }
    let (mut aux_type, mut aux_param) = (0, 0);
    if f.flags & 1 != 0 {
        aux_type = c.u32()?;
        aux_param = c.u32()?;
    }
    let default_size = c.u8()?;
    let declared = c.u32()?;
    let mut count = u64::from(declared);
    let mut entries: &[u8] = &[];
    if default_size == 0 {
        count = count.min(c.remaining() as u64);
        entries = c.bytes(count as usize)?;
    }
    if f.flags & 1 != 0 {
        ins.hex("aux info type", u64::from(aux_type));
        ins.hex("aux info type parameter", u64::from(aux_param));
    }
    ins.uint("default sample info size", u64::from(default_size));
    ins.uint(saiz::SAMPLE_COUNT, count);
    if ins.verbosity() >= 2 {
        ins.start_table("entries");
        for e in entries {
            ins.field(None, Value::Uint(u64::from(*e)));
        }
        ins.end_table();
    }
    Ok(())
}

/// `saio`: auxiliary information offsets.
pub fn saio(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let (mut aux_type, mut aux_param) = (0, 0);
    let mut count = 0usize;
    let mut ok = true;
    if f.flags & 1 != 0 {
        if c.remaining() >= 8 {
            aux_type = c.u32()?;
            aux_param = c.u32()?;
        } else {
            ok = false;
        }
    }
    let width = if f.version == 0 { 4 } else { 8 };
    if ok && c.remaining() >= 4 {
        let declared = c.u32()? as usize;
        if c.remaining() as u64 >= declared as u64 * width as u64 {
            count = declared;
        }
    }
    if f.flags & 1 != 0 {
        ins.hex("aux info type", u64::from(aux_type));
        ins.hex("aux info type parameter", u64::from(aux_param));
    }
    ins.uint("entry_count", count as u64);
    if ins.verbosity() >= 2 {
        ins.start_table("entries");
        for _ in 0..count {
            let v = c.uint_n(width)?;
            ins.field(None, Value::Uint(v));
        }
        ins.end_table();
    }
    Ok(())
}
