//! Sample entries (the children of `stsd`): the fields before their child boxes.

use super::fields::{audio, visual};
use super::{EntryKind, Reject};
use crate::isobmff::Cursor;
use crate::render::Inspector;

/// Describes the fields of a sample entry of `kind` and returns how many payload bytes they
/// take (child boxes follow them).
pub fn fields(
    kind: EntryKind,
    c: &mut Cursor<'_>,
    ins: &mut dyn Inspector,
) -> Result<usize, Reject> {
    match kind {
        EntryKind::Other => {
            // Bento4 reads the common fields only when there is more than them.
            let index = if c.remaining() > 8 {
                c.skip(6)?;
                c.u16()?
            } else {
                1
            };
            ins.uint("data_reference_index", u64::from(index));
            return Ok(c.position());
        }
        _ => {
            c.skip(6)?;
            let index = c.u16()?;
            match kind {
                EntryKind::Visual => visual(c, index, ins)?,
                EntryKind::Audio => audio(c, index, false, ins)?,
                EntryKind::Mlp => audio(c, index, true, ins)?,
                EntryKind::RtpHint => rtp_hint(c, index, ins)?,
                EntryKind::Subtitle => subtitle(c, index, ins)?,
                EntryKind::System | EntryKind::Other => {
                    ins.uint("data_reference_index", u64::from(index));
                }
            }
        }
    }
    Ok(c.position())
}

fn visual(c: &mut Cursor<'_>, index: u16, ins: &mut dyn Inspector) -> Result<(), Reject> {
    c.skip(2 + 2 + 12)?; // pre_defined, reserved, pre_defined[3]
    let width = c.u16()?;
    let height = c.u16()?;
    let horizontal = c.u32()?;
    let vertical = c.u32()?;
    c.skip(4)?; // reserved
    let frames = c.u16()?;
    let name = c.bytes(32)?;
    let depth = c.u16()?;
    c.skip(2)?; // pre_defined
    // Pascal string: length byte, then text (Bento4 keeps it empty for a length over 31).
    let len = usize::from(name[0]);
    let compressor: &[u8] = if len < 32 { &name[1..=len] } else { &[] };
    ins.uint("data_reference_index", u64::from(index));
    ins.uint(visual::WIDTH, u64::from(width));
    ins.uint(visual::HEIGHT, u64::from(height));
    ins.string("compressor", compressor);
    if ins.verbosity() >= 4 {
        ins.float("horizresolution", horizontal as f32 / 65536.0);
        ins.float("vertresolution", vertical as f32 / 65536.0);
        ins.uint("frame_count", u64::from(frames));
        ins.uint("depth", u64::from(depth));
    }
    Ok(())
}

/// Audio sample entry fields. `mlp`: TrueHD's `mlpa` keeps its sample rate in the whole 32-bit
/// field (Bento4 prints it so, whatever the QuickTime version).
fn audio(c: &mut Cursor<'_>, index: u16, mlp: bool, ins: &mut dyn Inspector) -> Result<(), Reject> {
    let qt_version = c.u16()?;
    c.skip(2 + 4)?; // revision, vendor
    let mut channels = u64::from(c.u16()?);
    let sample_size = u64::from(c.u16()?);
    c.skip(2 + 2)?; // compression id, packet size
    let rate_field = c.u32()?;
    let mut rate = u64::from(rate_field >> 16);
    if qt_version == 1 {
        c.skip(16)?;
    } else if qt_version == 2 {
        let struct_size = c.u32()?;
        let rate64 = f64::from_bits(c.u64()?);
        let channels32 = c.u32()?;
        c.skip(4)?;
        c.skip(4)?; // bits per channel: Bento4 prints the v0 sample size field
        c.skip(12)?;
        if struct_size > 72 {
            c.skip((struct_size - 72) as usize)?;
        }
        // C's conversion of the double rate to an unsigned 32-bit integer.
        rate = if rate64.is_nan() || rate64 <= 0.0 {
            0
        } else {
            (rate64 as u64) & 0xffff_ffff
        };
        channels = u64::from(channels32 & 0xffff);
    }
    if mlp {
        rate = u64::from(rate_field);
    }
    ins.uint("data_reference_index", u64::from(index));
    ins.uint(audio::CHANNEL_COUNT, channels);
    ins.uint("sample_size", sample_size);
    ins.uint(audio::SAMPLE_RATE, rate);
    if qt_version != 0 {
        ins.uint("qt_version", u64::from(qt_version));
    }
    Ok(())
}

fn rtp_hint(c: &mut Cursor<'_>, index: u16, ins: &mut dyn Inspector) -> Result<(), Reject> {
    let hint_version = c.u16()?;
    let highest = c.u16()?;
    let max_packet = c.u32()?;
    ins.uint("data_reference_index", u64::from(index));
    ins.uint("hint_track_version", u64::from(hint_version));
    ins.uint("highest_compatible_version", u64::from(highest));
    ins.uint("max_packet_size", u64::from(max_packet));
    Ok(())
}

fn subtitle(c: &mut Cursor<'_>, index: u16, ins: &mut dyn Inspector) -> Result<(), Reject> {
    let namespace = c.cstring();
    let schema = c.cstring();
    let mime = c.cstring();
    ins.uint("data_reference_index", u64::from(index));
    ins.string("namespace", namespace);
    ins.string("schema_location", schema);
    ins.string("image_mime_type", mime);
    Ok(())
}
