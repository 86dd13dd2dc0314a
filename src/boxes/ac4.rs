//! `dac4`: the AC-4 decoder specific information (ETSI TS 103 190-2 Annex E), printed as
//! Bento4 prints it: the DSI's own fields, then a few fields of each presentation named
//! `[NN].field`.

use super::{Decoded, Full};
use crate::isobmff::{Bits, Cursor};
use crate::render::Inspector;

/// The fields Bento4 prints for one presentation.
#[derive(Default)]
struct Presentation {
    version: u64,
    config: u64,
    mdcompat: u64,
    id: u64,
    frame_rate_multiply: u64,
    frame_rate_fraction: u64,
    emdf_version: u64,
    key_id: u64,
    channel_coded: u64,
    ch_mode: u64,
    back_channels: u64,
    top_pairs: u64,
    channel_mask: u64,
}

/// `dac4`: AC-4 specific box.
///
/// Bento4 reads the DSI only when the payload holds at least 11 bytes; a shorter one prints
/// version 0 with zero fields, as it does. Its reader runs on past the payload on damaged
/// boxes; ours reads zeros there.
pub fn dac4(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let p = c.rest();
    if p.len() < 11 {
        ins.uint("ac4_dsi_version", 0);
        for name in ["bitstream_version", "fs_index", "fs", "frame_rate_index"] {
            ins.uint(name, 0);
        }
        return Ok(());
    }
    let mut b = Bits::new(p);
    let dsi_version = b.read(3);
    ins.uint("ac4_dsi_version", dsi_version);
    if dsi_version > 1 {
        return Ok(());
    }
    let bitstream_version = b.read(7);
    let fs_index = b.read(1);
    let frame_rate_index = b.read(4);
    let n_presentations = b.read(9);
    ins.uint("bitstream_version", bitstream_version);
    ins.uint("fs_index", fs_index);
    ins.uint("fs", if fs_index == 0 { 44100 } else { 48000 });
    ins.uint("frame_rate_index", frame_rate_index);
    if dsi_version == 0 {
        return Ok(());
    }
    let mut short_program_id = 0;
    let mut program_uuid = [0u8; 16];
    if bitstream_version > 1 && b.flag() {
        short_program_id = b.read(16);
        if b.flag() {
            for byte in &mut program_uuid {
                *byte = b.read(8) as u8;
            }
        }
    }
    let bit_rate_mode = b.read(2);
    let bit_rate = b.read(32);
    let bit_rate_precision = b.read(32);
    b.align();
    if bitstream_version > 1 {
        ins.uint("short_program_id", short_program_id);
        ins.bytes("program_uuid", &program_uuid);
    }
    ins.uint("bit_rate_mode", bit_rate_mode);
    ins.uint("bit_rate", bit_rate);
    ins.uint("bit_rate_precision", bit_rate_precision);
    // Bento4 stops reading at a presentation longer than its pres_bytes, and prints the rest
    // as zeros (version 0).
    let mut reading = true;
    for i in 0..n_presentations {
        let mut pres = Presentation::default();
        if reading && !b.past_end() {
            reading = presentation(&mut b, &mut pres);
        }
        print_presentation(i, &pres, ins);
    }
    Ok(())
}

/// Reads one presentation; returns false when Bento4 would stop reading presentations.
fn presentation(b: &mut Bits<'_>, p: &mut Presentation) -> bool {
    p.version = b.read(8);
    let mut pres_bytes = b.read(8);
    if pres_bytes == 255 {
        pres_bytes += b.read(16);
    }
    let start = b.position();
    match p.version {
        0 => presentation_v0(b, p),
        1 | 2 => presentation_v1(b, p),
        _ => {}
    }
    let used = ((b.position() - start) / 8) as u64;
    if pres_bytes < used {
        return false;
    }
    b.skip((pres_bytes - used) * 8);
    true
}

fn presentation_v0(b: &mut Bits<'_>, p: &mut Presentation) {
    p.config = b.read(5);
    if p.config != 6 {
        p.mdcompat = b.read(3);
        if b.flag() {
            p.id = b.read(5);
        }
        p.frame_rate_multiply = b.read(2);
        p.emdf_version = b.read(5);
        p.key_id = b.read(10);
        p.channel_mask = b.read(24);
    }
    b.align();
}

fn presentation_v1(b: &mut Bits<'_>, p: &mut Presentation) {
    p.config = b.read(5);
    let mut add_emdf_substreams = p.config == 6;
    if p.config != 6 {
        p.mdcompat = b.read(3);
        if b.flag() {
            p.id = b.read(5);
        }
        p.frame_rate_multiply = b.read(2);
        p.frame_rate_fraction = b.read(2);
        p.emdf_version = b.read(5);
        p.key_id = b.read(10);
        p.channel_coded = b.read(1);
        if p.channel_coded != 0 {
            p.ch_mode = b.read(5);
            if (11..=14).contains(&p.ch_mode) {
                p.back_channels = b.read(1);
                p.top_pairs = b.read(2);
            }
            p.channel_mask = b.read(24);
        } else {
            p.channel_mask = 0x80_0000;
        }
        if b.flag() && b.flag() {
            b.read(2); // dsi_presentation_channel_mode_core
        }
        if b.flag() {
            b.read(1); // b_enable_presentation
            let n = b.read(8);
            b.skip(n * 8);
        }
        let groups = if p.config == 0x1f {
            Some(1)
        } else {
            b.read(1); // b_multi_pid
            match p.config {
                0..=2 => Some(2),
                3 | 4 => Some(3),
                5 => Some(b.read(3) + 2),
                _ => {
                    let n = b.read(7);
                    b.skip(n * 8);
                    None
                }
            }
        };
        for _ in 0..groups.unwrap_or(0) {
            substream_group(b);
        }
        b.read(1); // b_pre_virtualized
        add_emdf_substreams = b.flag();
    }
    if add_emdf_substreams {
        let n = b.read(7);
        b.skip(n * 15);
    }
    if b.flag() {
        b.skip(2 + 32 + 32); // ac4_bitrate_dsi
    }
    if b.flag() {
        b.align();
        let name_len = b.read(16);
        b.skip(name_len * 8);
        let targets = b.read(5);
        b.skip(targets * 11);
    }
    b.align();
    b.skip(1 + 1 + 4); // de_indicator, dolby_atmos_indicator, reserved
    if b.flag() {
        b.read(9); // extended_presentation_id
    } else {
        b.read(1);
    }
}

fn substream_group(b: &mut Bits<'_>) {
    b.read(2); // b_substreams_present, b_hsf_ext
    let channel_coded = b.flag();
    let n = b.read(8);
    for _ in 0..n {
        b.read(2); // dsi_sf_multiplier
        if b.flag() {
            b.read(5);
        }
        if channel_coded {
            b.read(24);
        } else {
            if b.flag() {
                if !b.flag() {
                    b.read(4); // n_dmx_objects_minus1
                }
                b.read(6); // n_umx_objects_minus1
            }
            b.read(4); // bed, dynamic, ISF objects, reserved
        }
    }
    if b.flag() {
        b.read(3); // content_classifier
        if b.flag() {
            let n = b.read(6);
            b.skip(n * 8);
        }
    }
}

fn print_presentation(i: u64, p: &Presentation, ins: &mut dyn Inspector) {
    let mut field = |name: &str, v: u64, hex: bool| {
        let name = format!("[{i:02}].{name}");
        if hex {
            ins.hex(&name, v);
        } else {
            ins.uint(&name, v);
        }
    };
    field("presentation_version", p.version, false);
    match p.version {
        0 => {
            field("presentation_config", p.config, false);
            field("mdcompat", p.mdcompat, false);
            field("presentation_id", p.id, false);
            field("dsi_frame_rate_multiply_info", p.frame_rate_multiply, false);
            field("presentation_emdf_version", p.emdf_version, false);
            field("presentation_key_id", p.key_id, false);
            field("presentation_channel_mask", p.channel_mask, true);
        }
        1 | 2 => {
            field("presentation_config_v1", p.config, false);
            field("mdcompat", p.mdcompat, false);
            field("presentation_id", p.id, false);
            field("dsi_frame_rate_multiply_info", p.frame_rate_multiply, false);
            field("dsi_frame_rate_fraction_info", p.frame_rate_fraction, false);
            field("presentation_emdf_version", p.emdf_version, false);
            field("presentation_key_id", p.key_id, false);
            field("b_presentation_channel_coded", p.channel_coded, false);
            field("dsi_presentation_ch_mode", p.ch_mode, false);
            field("pres_b_4_back_channels_present", p.back_channels, false);
            field("pres_top_channel_pairs", p.top_pairs, false);
            field("presentation_channel_mask_v1", p.channel_mask, true);
        }
        _ => {}
    }
}
