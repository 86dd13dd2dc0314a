//! File and movie structure: `ftyp`/`styp`, movie and track headers, media headers, handler,
//! data references, edit lists, track references.

use super::fields::{elst, hdlr, mdhd, tkhd};
use super::{Decoded, Full, Reject};
use crate::isobmff::Cursor;
use crate::render::{Inspector, Value};

/// `ftyp` (and, at verbosity 4, `styp`): brands.
pub fn ftyp(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    // Bento4 leaves the brands at zero when the box is too short to hold them.
    let (major, minor) = if c.remaining() >= 8 {
        (c.u32()?, c.u32()?)
    } else {
        (0, 0)
    };
    ins.fourcc("major_brand", major);
    ins.hex("minor_version", u64::from(minor));
    while c.remaining() >= 4 {
        ins.fourcc("compatible_brand", c.u32()?);
    }
    Ok(())
}

/// Reads the v0 (32-bit) or v1 (64-bit) creation/modification times, the 32-bit field after
/// them (timescale, or track id followed by a reserved word when `with_track_id`) and the
/// duration.
fn times(c: &mut Cursor<'_>, version: u8, with_track_id: bool) -> Result<Times, Reject> {
    if version > 1 {
        return Err(Reject);
    }
    let wide = version == 1;
    let mut time =
        || -> Result<u64, Reject> { Ok(if wide { c.u64()? } else { u64::from(c.u32()?) }) };
    let creation = time()?;
    let modification = time()?;
    let middle = c.u32()?; // timescale, or track id
    if with_track_id {
        c.skip(4)?; // reserved
    }
    let duration = if wide { c.u64()? } else { u64::from(c.u32()?) };
    Ok(Times {
        creation,
        modification,
        middle,
        duration,
    })
}

struct Times {
    creation: u64,
    modification: u64,
    middle: u32,
    duration: u64,
}

/// Verbosity 4: the creation and modification times Bento4 leaves out.
fn extra_times(t: &Times, ins: &mut dyn Inspector) {
    if ins.verbosity() >= 4 {
        ins.uint("creation_time", t.creation);
        ins.uint("modification_time", t.modification);
    }
}

/// How [`milliseconds`] rounds.
#[derive(Clone, Copy)]
enum Rounding {
    /// To the nearest, halves up (`mvhd`, as Bento4).
    HalfUp,
    /// Towards zero (`mdhd`, as Bento4).
    Down,
}

/// `duration` ticks of `timescale` in milliseconds, exactly: every 64-bit duration (all ones,
/// "unknown" in ISO/IEC 14496-12, included) has its own value, which may need more than 64
/// bits (2^64 − 1 ticks of 1 Hz). 0 when the timescale is 0, as Bento4.
fn milliseconds(duration: u64, timescale: u32, rounding: Rounding) -> u128 {
    if timescale == 0 {
        return 0;
    }
    let (ticks, scale) = (u128::from(duration) * 1000, u128::from(timescale));
    match rounding {
        Rounding::HalfUp => (2 * ticks + scale) / (2 * scale),
        Rounding::Down => ticks / scale,
    }
}

/// `mvhd`: timescale and duration.
pub fn mvhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    let t = times(c, f.version, false)?;
    let (duration, timescale) = (t.duration, t.middle);
    let rate = c.u32()?;
    let volume = c.u16()?;
    c.skip(10 + 36 + 24)?;
    let next_track = c.u32()?;
    ins.uint("timescale", u64::from(timescale));
    ins.uint("duration", duration);
    // Bento4 rounds half up in double precision, then truncates to 32 bits.
    ins.field(
        Some("duration(ms)"),
        Value::Wide(milliseconds(duration, timescale, Rounding::HalfUp)),
    );
    if ins.verbosity() >= 4 {
        extra_times(&t, ins);
        ins.float("rate", (rate as i32) as f32 / 65536.0);
        ins.float("volume", f32::from(volume as i16) / 256.0);
        ins.uint("next_track_ID", u64::from(next_track));
    }
    Ok(())
}

/// `tkhd`: track id, duration, layout.
pub fn tkhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    let t = times(c, f.version, true)?;
    let (duration, id) = (t.duration, t.middle);
    c.skip(8)?;
    let layer = c.u16()?;
    let alternate_group = c.u16()?;
    let volume = c.u16()?;
    c.skip(2)?;
    let mut matrix = [0i32; 9];
    for m in &mut matrix {
        *m = c.u32()? as i32;
    }
    let width = c.u32()?;
    let height = c.u32()?;
    ins.uint("enabled", u64::from(f.flags & 1));
    ins.uint(tkhd::ID, u64::from(id));
    ins.uint("duration", duration);
    if ins.verbosity() > 0 {
        ins.uint("volume", u64::from(volume));
        ins.uint("layer", u64::from(layer));
        ins.uint("alternate_group", u64::from(alternate_group));
        const NAMES: [&str; 9] = [
            "matrix_0", "matrix_1", "matrix_2", "matrix_3", "matrix_4", "matrix_5", "matrix_6",
            "matrix_7", "matrix_8",
        ];
        for (name, m) in NAMES.iter().zip(matrix) {
            ins.float(name, m as f32 / 65536.0);
        }
    }
    ins.float("width", width as f32 / 65536.0);
    ins.float("height", height as f32 / 65536.0);
    extra_times(&t, ins);
    Ok(())
}

/// `mdhd`: timescale, duration, language.
pub fn mdhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    let t = times(c, f.version, false)?;
    let (duration, timescale) = (t.duration, t.middle);
    let lang = c.array::<2>()?;
    c.skip(2)?;
    ins.uint(mdhd::TIMESCALE, u64::from(timescale));
    ins.uint("duration", duration);
    // Bento4 truncates (no rounding) in double precision, then to 32 bits.
    ins.field(
        Some("duration(ms)"),
        Value::Wide(milliseconds(duration, timescale, Rounding::Down)),
    );
    let l0 = (lang[0] >> 2) & 0x1f;
    let l1 = ((lang[0] & 3) << 3) | (lang[1] >> 5);
    let l2 = lang[1] & 0x1f;
    let language: [u8; 3] = if lang == [0x7f, 0xff] {
        *b"und"
    } else if l0 != 0 && l1 != 0 && l2 != 0 {
        [l0 + 0x60, l1 + 0x60, l2 + 0x60]
    } else {
        *b"```"
    };
    ins.string("language", &language);
    extra_times(&t, ins);
    Ok(())
}

/// `hdlr`: handler type and name.
pub fn hdlr(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    c.skip(4)?;
    let handler = c.u32()?;
    c.skip(12)?;
    let name = c.rest();
    // QuickTime writes a Pascal string here; Bento4 recognises it by its length byte.
    let name: &[u8] = match name.first() {
        Some(&n) if usize::from(n) + 1 == name.len() => &name[1..],
        _ => name,
    };
    ins.fourcc(hdlr::HANDLER_TYPE, handler);
    ins.string("handler_name", name);
    Ok(())
}

/// `vmhd`: graphics mode and colour.
pub fn vmhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let mode = c.u16()?;
    let (r, g, b) = (c.u16()?, c.u16()?, c.u16()?);
    ins.uint("graphics_mode", u64::from(mode));
    let text = format!("{r:04x},{g:04x},{b:04x}");
    ins.string("op_color", text.as_bytes());
    Ok(())
}

/// `smhd`: balance.
pub fn smhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let balance = c.u16()?;
    c.skip(2)?;
    ins.uint("balance", u64::from(balance));
    Ok(())
}

/// `nmhd`, `sthd`: no fields (version 0 only).
pub fn no_fields_v0(_: &mut Cursor<'_>, f: &Full, _: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    Ok(())
}

/// `hmhd`: hint media header.
pub fn hmhd(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let max_pdu = c.u16()?;
    let avg_pdu = c.u16()?;
    let max_bitrate = c.u32()?;
    let avg_bitrate = c.u32()?;
    c.skip(4)?;
    ins.uint("max_pdu_size", u64::from(max_pdu));
    ins.uint("avg_pdu_size", u64::from(avg_pdu));
    ins.uint("max_bitrate", u64::from(max_bitrate));
    ins.uint("avg_bitrate", u64::from(avg_bitrate));
    Ok(())
}

/// `url `: data location.
pub fn url(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    if f.flags & 1 != 0 {
        ins.string("location", b"[local to file]");
    } else {
        // Bento4 drops the last byte (it forces a terminating NUL there).
        let rest = c.rest();
        let text = &rest[..rest.len().saturating_sub(1)];
        ins.string("location", text);
    }
    Ok(())
}

/// `elst`: edit list entries, as repeated flat fields.
pub fn elst(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let declared = c.u32()?;
    let entry_size = if f.version == 1 { 20 } else { 12 };
    let count = (declared as usize).min(c.remaining() / entry_size);
    ins.uint("entry_count", count as u64);
    for _ in 0..count {
        if f.version == 1 {
            let duration = c.u64()?;
            let time = c.u64()? as i64;
            ins.uint("entry/segment duration", duration);
            ins.int(elst::MEDIA_TIME, time);
        } else {
            let duration = c.u32()?;
            let time = c.u32()? as i32;
            ins.uint("entry/segment duration", u64::from(duration));
            ins.int(elst::MEDIA_TIME, i64::from(time));
        }
        let rate = c.u16()?;
        c.skip(2)?;
        ins.uint("entry/media rate", u64::from(rate));
    }
    Ok(())
}

/// Track reference types inside `tref` (`hint`, `cdsc`, …): the referenced track ids.
pub fn tref_type(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let n = c.remaining() / 4;
    ins.uint("track_id_count", n as u64);
    for _ in 0..n {
        ins.uint("track id ", u64::from(c.u32()?));
    }
    Ok(())
}
