//! Movie fragments and indexes: `mehd`, `trex`, `mfhd`, `tfhd`, `tfdt`, `trun`, `sidx`,
//! `tfra`, `mfro`.

use super::fields::{mfhd, sidx, tfdt, tfhd, trex, trun};
use super::{Decoded, Full, Reject};
use crate::isobmff::Cursor;
use crate::render::{Inspector, Value};

/// `mehd`: fragment duration.
pub fn mehd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    let duration = match f.version {
        0 => u64::from(c.u32()?),
        1 => c.u64()?,
        _ => return Err(Reject),
    };
    ins.uint("duration", duration);
    Ok(())
}

/// `trex`: track defaults for fragments.
pub fn trex(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let v = [c.u32()?, c.u32()?, c.u32()?, c.u32()?, c.u32()?];
    ins.uint(trex::TRACK_ID, u64::from(v[0]));
    ins.uint(trex::DESCRIPTION, u64::from(v[1]));
    ins.uint(trex::DURATION, u64::from(v[2]));
    ins.uint(trex::SIZE, u64::from(v[3]));
    ins.hex(trex::FLAGS, u64::from(v[4]));
    Ok(())
}

/// `mfhd`: sequence number.
pub fn mfhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    ins.uint(mfhd::SEQUENCE_NUMBER, u64::from(c.u32()?));
    Ok(())
}

/// `tfhd`: track fragment header, fields present per flags.
pub fn tfhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let track = c.u32()?;
    let base = if f.flags & 0x01 != 0 {
        Some(c.u64()?)
    } else {
        None
    };
    let desc = if f.flags & 0x02 != 0 {
        Some(c.u32()?)
    } else {
        None
    };
    let dur = if f.flags & 0x08 != 0 {
        Some(c.u32()?)
    } else {
        None
    };
    let size = if f.flags & 0x10 != 0 {
        Some(c.u32()?)
    } else {
        None
    };
    let flags = if f.flags & 0x20 != 0 {
        Some(c.u32()?)
    } else {
        None
    };
    ins.uint(tfhd::TRACK_ID, u64::from(track));
    if let Some(v) = base {
        ins.uint(tfhd::BASE_DATA_OFFSET, v);
    }
    if let Some(v) = desc {
        ins.uint(tfhd::DESCRIPTION, u64::from(v));
    }
    if let Some(v) = dur {
        ins.uint(tfhd::DURATION, u64::from(v));
    }
    if let Some(v) = size {
        ins.uint(tfhd::SIZE, u64::from(v));
    }
    if let Some(v) = flags {
        ins.hex(tfhd::FLAGS, u64::from(v));
    }
    Ok(())
}

/// `tfdt`: base media decode time.
pub fn tfdt(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    let t = match f.version {
        0 => u64::from(c.u32()?),
        1 => c.u64()?,
        _ => return Err(Reject),
    };
    ins.uint(tfdt::DECODE_TIME, t);
    Ok(())
}

/// Bento4 refuses a `trun` without per-sample fields claiming more samples than this.
const TRUN_MAX_SAMPLE_COUNT: u32 = 0xff_ffff;

/// `trun`: track run and its samples.
///
/// Follows Bento4's reading exactly, quirks included: every bit of the low flags byte counts
/// as a 4-byte optional field and every bit of the second byte as a 4-byte per-sample field
/// (unknown ones are skipped); a run whose samples do not fit shows no samples; and the
/// per-sample field counter is not reset between samples, so unknown per-sample fields are
/// skipped for the first sample only.
pub fn trun(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let flags = f.flags;
    let mut data_offset = 0i32;
    let mut first_flags = 0u32;
    let mut count = 0u32;
    let mut record_fields = (flags >> 8 & 0xff).count_ones() as i64;
    if c.remaining() >= 4 {
        let declared = c.u32()?;
        let mut optional = (flags & 0xff).count_ones();
        let mut ok = true;
        if flags & 0x1 != 0 {
            match c.u32() {
                Ok(v) => data_offset = v as i32,
                Err(_) => ok = false,
            }
            optional = optional.saturating_sub(1);
        }
        if ok && flags & 0x4 != 0 {
            match c.u32() {
                Ok(v) => first_flags = v,
                Err(_) => ok = false,
            }
            optional = optional.saturating_sub(1);
        }
        for _ in 0..optional {
            if ok && c.skip(4).is_err() {
                ok = false;
            }
        }
        if ok {
            let fits = if record_fields > 0 {
                (c.remaining() as u64 / (record_fields as u64 * 4)) >= u64::from(declared)
            } else {
                declared <= TRUN_MAX_SAMPLE_COUNT
            };
            if fits {
                count = declared;
            }
        }
    }
    ins.uint(trun::SAMPLE_COUNT, u64::from(count));
    if flags & 0x1 != 0 {
        ins.field(Some(trun::DATA_OFFSET), Value::Int(i64::from(data_offset)));
    }
    if flags & 0x4 != 0 {
        ins.hex(trun::FIRST_SAMPLE_FLAGS, u64::from(first_flags));
    }
    let verbosity = ins.verbosity();
    let long = verbosity >= 2;
    if verbosity > 0 {
        ins.start_table("entries");
    }
    // Once a read fails Bento4 stops reading; the remaining samples print as zeros.
    let mut dead = false;
    let read = |c: &mut Cursor<'_>, dead: &mut bool| -> u32 {
        if *dead {
            return 0;
        }
        c.u32().unwrap_or_else(|_| {
            *dead = true;
            0
        })
    };
    for _ in 0..if verbosity > 0 { count } else { 0 } {
        if !ins.wants_rows() {
            break;
        }
        let mut values = [None; 4];
        for (i, bit) in [0x100, 0x200, 0x400, 0x800].into_iter().enumerate() {
            if flags & bit != 0 {
                values[i] = Some(read(c, &mut dead));
                record_fields -= 1;
            }
        }
        for _ in 0..record_fields.max(0) {
            read(c, &mut dead);
        }
        if verbosity == 0 {
            continue;
        }
        ins.start_object(true);
        if let Some(v) = values[0] {
            ins.uint(if long { trun::SAMPLE_DURATION } else { "d" }, u64::from(v));
        }
        if let Some(v) = values[1] {
            ins.uint(if long { trun::SAMPLE_SIZE } else { "s" }, u64::from(v));
        }
        if let Some(v) = values[2] {
            ins.uint(if long { trun::SAMPLE_FLAGS } else { "f" }, u64::from(v));
        }
        if let Some(v) = values[3] {
            let name = if long { trun::SAMPLE_CTO } else { "c" };
            if f.version == 0 {
                ins.uint(name, u64::from(v));
            } else {
                ins.int(name, i64::from(v as i32));
            }
        }
        ins.end_object();
    }
    if verbosity > 0 {
        ins.end_table();
    }
    Ok(())
}

/// `sidx`: segment index.
pub fn sidx(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let reference_id = c.u32()?;
    let timescale = c.u32()?;
    let (earliest, first_offset) = if f.version == 0 {
        (u64::from(c.u32()?), u64::from(c.u32()?))
    } else {
        (c.u64()?, c.u64()?)
    };
    c.skip(2)?;
    let declared = c.u16()?;
    // Bento4 shows no references when they do not all fit.
    let count = if c.remaining() / 12 >= usize::from(declared) {
        declared
    } else {
        0
    };
    ins.uint("reference_ID", u64::from(reference_id));
    ins.uint(sidx::TIMESCALE, u64::from(timescale));
    ins.uint(sidx::EARLIEST, earliest);
    ins.uint(sidx::FIRST_OFFSET, first_offset);
    if ins.verbosity() >= 1 {
        ins.start_table("entries");
        for _ in 0..count {
            let a = c.u32()?;
            let duration = c.u32()?;
            let b = c.u32()?;
            ins.start_object(true);
            ins.uint(sidx::REFERENCE_TYPE, u64::from(a >> 31));
            ins.uint(sidx::REFERENCED_SIZE, u64::from(a & 0x7fff_ffff));
            ins.uint(sidx::SUBSEGMENT_DURATION, u64::from(duration));
            ins.uint(sidx::STARTS_WITH_SAP, u64::from(b >> 31));
            ins.uint("SAP_type", u64::from((b >> 28) & 7));
            ins.uint("SAP_delta_time", u64::from(b & 0x0fff_ffff));
            ins.end_object();
        }
        ins.end_table();
    }
    Ok(())
}

/// `tfra`: random access points of one track.
pub fn tfra(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let track = c.u32()?;
    let fields = c.u32()?;
    let traf_len = ((fields >> 4) & 3) as usize + 1;
    let trun_len = ((fields >> 2) & 3) as usize + 1;
    let sample_len = (fields & 3) as usize + 1;
    let declared = c.u32()?;
    let entry_size = if f.version == 1 { 16 } else { 8 } + traf_len + trun_len + sample_len;
    let count = if declared > 0 && c.remaining() / declared as usize >= entry_size {
        declared
    } else {
        0
    };
    ins.uint("track_ID", u64::from(track));
    ins.uint("length_size_of_traf_num", traf_len as u64 - 1);
    ins.uint("length_size_of_trun_num", trun_len as u64 - 1);
    ins.uint("length_size_of_sample_num", sample_len as u64 - 1);
    if ins.verbosity() >= 1 {
        ins.start_table("entries");
        for _ in 0..count {
            let (time, moof) = if f.version == 1 {
                (c.u64()?, c.u64()?)
            } else {
                (u64::from(c.u32()?), u64::from(c.u32()?))
            };
            let traf = c.uint_n(traf_len)?;
            let trun = c.uint_n(trun_len)?;
            let sample = c.uint_n(sample_len)?;
            ins.start_object(true);
            ins.uint("time", time);
            ins.uint("moof_offset", moof);
            ins.uint("traf_number", traf);
            ins.uint("trun_number", trun);
            ins.uint("sample_number", sample);
            ins.end_object();
        }
        ins.end_table();
    }
    Ok(())
}

/// `mfro`: size of the enclosing `mfra`.
pub fn mfro(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    ins.uint("mfra_size", u64::from(c.u32()?));
    Ok(())
}
