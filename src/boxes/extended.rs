//! Our decoders for boxes Bento4 prints as a header only; they run at verbosity 4.

use super::fields::pasp;
use super::{Decoded, Full, Reject};
use crate::isobmff::Cursor;
use crate::render::{Inspector, Value};

/// `urn `: name and location.
pub fn urn(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.flags & 1 != 0 {
        ins.string("location", b"[local to file]");
        return Ok(());
    }
    let name = c.cstring();
    let location = c.cstring();
    ins.string("name", name);
    ins.string("location", location);
    Ok(())
}

/// `pasp`: pixel aspect ratio.
pub fn pasp(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let h = c.u32()?;
    let v = c.u32()?;
    ins.uint(pasp::H_SPACING, u64::from(h));
    ins.uint(pasp::V_SPACING, u64::from(v));
    Ok(())
}

/// `btrt`: bit rates.
pub fn btrt(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let buffer = c.u32()?;
    let max = c.u32()?;
    let avg = c.u32()?;
    ins.uint("buffer_size", u64::from(buffer));
    ins.uint("max_bitrate", u64::from(max));
    ins.uint("avg_bitrate", u64::from(avg));
    Ok(())
}

/// `clap`: clean aperture, as fractions.
pub fn clap(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    const NAMES: [(&str, &str); 4] = [
        ("clean_aperture_width_n", "clean_aperture_width_d"),
        ("clean_aperture_height_n", "clean_aperture_height_d"),
        ("horiz_off_n", "horiz_off_d"),
        ("vert_off_n", "vert_off_d"),
    ];
    let mut v = [0u32; 8];
    for x in &mut v {
        *x = c.u32()?;
    }
    for (i, (n, d)) in NAMES.iter().enumerate() {
        if i < 2 {
            ins.uint(n, u64::from(v[i * 2]));
        } else {
            ins.int(n, i64::from(v[i * 2] as i32));
        }
        ins.uint(d, u64::from(v[i * 2 + 1]));
    }
    Ok(())
}

/// `fiel`: field count and order.
pub fn fiel(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let count = c.u8()?;
    let order = c.u8()?;
    ins.uint("field_count", u64::from(count));
    ins.uint("field_ordering", u64::from(order));
    Ok(())
}

/// `sdtp`: sample dependency flags, one byte per sample.
pub fn sdtp(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let entries = c.rest();
    ins.uint("sample_count", entries.len() as u64);
    ins.start_table("entries");
    for b in entries {
        ins.start_object(true);
        ins.uint("is_leading", u64::from(b >> 6));
        ins.uint("depends_on", u64::from((b >> 4) & 3));
        ins.uint("is_depended_on", u64::from((b >> 2) & 3));
        ins.uint("has_redundancy", u64::from(b & 3));
        ins.end_object();
    }
    ins.end_table();
    Ok(())
}

/// `subs`: sub-sample information.
pub fn subs(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let count = c.u32()?;
    // Each entry takes at least 6 bytes: never loop past what is present.
    if u64::from(count) * 6 > c.remaining() as u64 {
        return Err(Reject);
    }
    ins.uint("entry_count", u64::from(count));
    ins.start_table("entries");
    for _ in 0..count {
        let delta = c.u32()?;
        let n = c.u16()?;
        ins.start_object(false);
        ins.uint("sample_delta", u64::from(delta));
        ins.uint("subsample_count", u64::from(n));
        ins.start_table("subsamples");
        for _ in 0..n {
            let size = if f.version == 1 {
                c.u32()?
            } else {
                u32::from(c.u16()?)
            };
            let priority = c.u8()?;
            let discardable = c.u8()?;
            let params = c.u32()?;
            ins.start_object(true);
            ins.uint("subsample_size", u64::from(size));
            ins.uint("subsample_priority", u64::from(priority));
            ins.uint("discardable", u64::from(discardable));
            ins.uint("codec_specific_parameters", u64::from(params));
            ins.end_object();
        }
        ins.end_table();
        ins.end_object();
    }
    ins.end_table();
    Ok(())
}

/// `emsg`: event message (versions 0 and 1).
pub fn emsg(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    match f.version {
        0 => {
            let scheme = c.cstring();
            let value = c.cstring();
            let timescale = c.u32()?;
            let delta = c.u32()?;
            let duration = c.u32()?;
            let id = c.u32()?;
            ins.string("scheme_id_uri", scheme);
            ins.string("value", value);
            ins.uint("timescale", u64::from(timescale));
            ins.uint("presentation_time_delta", u64::from(delta));
            ins.uint("event_duration", u64::from(duration));
            ins.uint("id", u64::from(id));
        }
        1 => {
            let timescale = c.u32()?;
            let time = c.u64()?;
            let duration = c.u32()?;
            let id = c.u32()?;
            let scheme = c.cstring();
            let value = c.cstring();
            ins.string("scheme_id_uri", scheme);
            ins.string("value", value);
            ins.uint("timescale", u64::from(timescale));
            ins.uint("presentation_time", time);
            ins.uint("event_duration", u64::from(duration));
            ins.uint("id", u64::from(id));
        }
        _ => return Err(Reject),
    }
    ins.bytes("message_data", c.rest());
    Ok(())
}

/// `prft`: producer reference time.
pub fn prft(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    let track = c.u32()?;
    let ntp = c.u64()?;
    let media = match f.version {
        0 => u64::from(c.u32()?),
        1 => c.u64()?,
        _ => return Err(Reject),
    };
    ins.uint("reference_track_ID", u64::from(track));
    ins.hex("ntp_timestamp", ntp);
    ins.uint("media_time", media);
    Ok(())
}

/// `ssix`: subsegment index.
pub fn ssix(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let count = c.u32()?;
    if u64::from(count) * 4 > c.remaining() as u64 {
        return Err(Reject);
    }
    ins.uint("subsegment_count", u64::from(count));
    ins.start_table("subsegments");
    for _ in 0..count {
        let ranges = c.u32()?;
        if u64::from(ranges) * 4 > c.remaining() as u64 {
            return Err(Reject);
        }
        ins.start_object(false);
        ins.uint("range_count", u64::from(ranges));
        ins.start_table("ranges");
        for _ in 0..ranges {
            let v = c.u32()?;
            ins.start_object(true);
            ins.uint("level", u64::from(v >> 24));
            ins.uint("range_size", u64::from(v & 0x00ff_ffff));
            ins.end_object();
        }
        ins.end_table();
        ins.end_object();
    }
    ins.end_table();
    Ok(())
}

/// `dOps`: Opus specific box.
pub fn dops(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let version = c.u8()?;
    let channels = c.u8()?;
    let pre_skip = c.u16()?;
    let rate = c.u32()?;
    let gain = c.u16()? as i16;
    let family = c.u8()?;
    ins.uint("version", u64::from(version));
    ins.uint("output_channel_count", u64::from(channels));
    ins.uint("pre_skip", u64::from(pre_skip));
    ins.uint("input_sample_rate", u64::from(rate));
    ins.int("output_gain", i64::from(gain));
    ins.uint("channel_mapping_family", u64::from(family));
    if family != 0 {
        let streams = c.u8()?;
        let coupled = c.u8()?;
        let mapping = c.bytes(usize::from(channels))?;
        ins.uint("stream_count", u64::from(streams));
        ins.uint("coupled_count", u64::from(coupled));
        ins.bytes("channel_mapping", mapping);
    }
    Ok(())
}

/// `dfLa`: FLAC specific box (metadata blocks; STREAMINFO decoded).
pub fn dfla(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    ins.start_table("metadata_blocks");
    while c.remaining() >= 4 {
        let head = c.u32()?;
        let last = head >> 31;
        let kind = (head >> 24) & 0x7f;
        let len = (head & 0x00ff_ffff) as usize;
        let body = c.bytes(len)?;
        ins.start_object(false);
        ins.uint("last", u64::from(last));
        ins.uint("block_type", u64::from(kind));
        ins.uint("length", len as u64);
        if kind == 0 && body.len() >= 34 {
            let b = body;
            let rate = (u32::from(b[10]) << 12) | (u32::from(b[11]) << 4) | u32::from(b[12] >> 4);
            let channels = ((b[12] >> 1) & 7) + 1;
            let bits = (((b[12] & 1) << 4) | (b[13] >> 4)) + 1;
            let samples = (u64::from(b[13] & 15) << 32)
                | u64::from(u32::from_be_bytes([b[14], b[15], b[16], b[17]]));
            ins.uint(
                "min_block_size",
                u64::from(u16::from_be_bytes([b[0], b[1]])),
            );
            ins.uint(
                "max_block_size",
                u64::from(u16::from_be_bytes([b[2], b[3]])),
            );
            ins.uint("sample_rate", u64::from(rate));
            ins.uint("channels", u64::from(channels));
            ins.uint("bits_per_sample", u64::from(bits));
            ins.uint("total_samples", samples);
            ins.bytes("md5", &b[18..34]);
        } else {
            ins.field(Some("data"), Value::Bytes(body));
        }
        ins.end_object();
        if last != 0 {
            break;
        }
    }
    ins.end_table();
    Ok(())
}

/// `kind`: role scheme and value.
pub fn kind(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let scheme = c.cstring();
    let value = c.cstring();
    ins.string("schemeURI", scheme);
    ins.string("value", value);
    Ok(())
}

/// `elng`: extended language tag.
pub fn elng(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    ins.string("extended_language", c.cstring());
    Ok(())
}
