//! Codec configuration boxes inside sample entries: `avcC`, `hvcC`, `av1C`, `vpcC`, `colr`,
//! `dvcC`/`dvvC`, `dac3`, `dec3`, `dmlp` (and `dac4` in its own file).

use super::fields::{av1c, avc_parameter_sets, avcc, dac3, vpcc};
use super::{Decoded, Full, Reject};
use crate::isobmff::Cursor;
use crate::render::Inspector;

/// `avcC`: H.264 decoder configuration.
pub fn avcc(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let p = c.rest();
    // Bento4's checks: version 1, and every parameter set inside the payload.
    if p.first() != Some(&1) || p.len() < 6 {
        return Err(Reject);
    }
    let mut sps = Vec::new();
    let mut pps = Vec::new();
    let mut cur = Cursor::new(&p[6..]);
    for _ in 0..(p[5] & 31) {
        let len = cur.u16()?;
        if len >= 0x8000 {
            return Err(Reject);
        }
        sps.push(cur.bytes(usize::from(len))?);
    }
    let n = cur.u8()?;
    for _ in 0..n {
        let len = cur.u16()?;
        if len >= 0x8000 {
            return Err(Reject);
        }
        pps.push(cur.bytes(usize::from(len))?);
    }
    ins.uint("Configuration Version", u64::from(p[0]));
    let profile = match p[1] {
        66 => Some("Baseline"),
        77 => Some("Main"),
        88 => Some("Extended"),
        100 => Some("High"),
        110 => Some("High 10"),
        122 => Some("High 4:2:2"),
        144 => Some("High 4:4:4"),
        _ => None,
    };
    match profile {
        Some(name) => ins.string(avcc::PROFILE, name.as_bytes()),
        None => ins.uint(avcc::PROFILE, u64::from(p[1])),
    }
    ins.hex(avcc::COMPATIBILITY, u64::from(p[2]));
    ins.uint(avcc::LEVEL, u64::from(p[3]));
    ins.uint("NALU Length Size", u64::from(1 + (p[4] & 3)));
    for s in sps {
        ins.bytes(avc_parameter_sets::SPS, s);
    }
    for s in pps {
        ins.bytes("Picture Parameter", s);
    }
    Ok(())
}

/// `hvcC`: H.265 decoder configuration (Bento4 prints no parameter-set arrays).
pub fn hvcc(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let p = c.bytes(23)?;
    let be16 = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]);
    let space = (p[1] >> 6) & 3;
    let profile = p[1] & 0x1f;
    ins.uint("Configuration Version", u64::from(p[0]));
    ins.uint(avcc::PROFILE_SPACE, u64::from(space));
    let name = if space == 0 {
        match profile {
            1 => Some("Main"),
            2 => Some("Main 10"),
            3 => Some("Main Still Picture"),
            4 => Some("Rext"),
            _ => None,
        }
    } else {
        None
    };
    match name {
        Some(n) => ins.string(avcc::PROFILE, n.as_bytes()),
        None => ins.uint(avcc::PROFILE, u64::from(profile)),
    }
    ins.uint(avcc::TIER, u64::from((p[1] >> 5) & 1));
    ins.hex(avcc::COMPATIBILITY, u64::from(be32(2)));
    ins.hex(
        "Constraint",
        (u64::from(be32(6)) << 16) | u64::from(be16(10)),
    );
    ins.uint(avcc::LEVEL, u64::from(p[12]));
    ins.uint("Min Spatial Segmentation", u64::from(be16(13) & 0x0fff));
    ins.uint("Parallelism Type", u64::from(p[15] & 3));
    ins.uint("Chroma Format", u64::from(p[16] & 3));
    ins.uint("Chroma Depth", u64::from(8 + (p[18] & 7)));
    ins.uint("Luma Depth", u64::from(8 + (p[17] & 7)));
    ins.uint("Average Frame Rate", u64::from(be16(19)));
    ins.uint("Constant Frame Rate", u64::from((p[21] >> 6) & 3));
    ins.uint("Number Of Temporal Layers", u64::from((p[21] >> 3) & 7));
    ins.uint("Temporal Id Nested", u64::from((p[21] >> 2) & 1));
    ins.uint("NALU Length Size", u64::from(1 + (p[21] & 3)));
    if ins.verbosity() >= 4 {
        // The parameter-set arrays Bento4 leaves out.
        ins.start_table("arrays");
        for _ in 0..p[22] {
            let head = c.u8()?;
            let count = c.u16()?;
            ins.start_object(false);
            ins.uint("array_completeness", u64::from(head >> 7));
            ins.uint("NAL_unit_type", u64::from(head & 0x3f));
            ins.start_table("nalus");
            for _ in 0..count {
                let len = c.u16()?;
                ins.field(
                    None,
                    crate::render::Value::Bytes(c.bytes(usize::from(len))?),
                );
            }
            ins.end_table();
            ins.end_object();
        }
        ins.end_table();
    }
    Ok(())
}

/// `av1C`: AV1 codec configuration.
///
/// `initial_presentation_delay` is `initial_presentation_delay_minus_one + 1` from the low four
/// bits of the fourth byte; Bento4 takes the high four bits (where the presence flag is).
pub fn av1c(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let b = c.array::<4>()?;
    ins.uint("version", u64::from(b[0] & 0x7f));
    ins.uint(av1c::PROFILE, u64::from(b[1] >> 5));
    ins.uint(av1c::LEVEL, u64::from(b[1] & 0x1f));
    ins.uint(av1c::TIER, u64::from((b[2] >> 7) & 1));
    ins.uint("high_bitdepth", u64::from((b[2] >> 6) & 1));
    ins.uint("twelve_bit", u64::from((b[2] >> 5) & 1));
    ins.uint("monochrome", u64::from((b[2] >> 4) & 1));
    ins.uint("chroma_subsampling_x", u64::from((b[2] >> 3) & 1));
    ins.uint("chroma_subsampling_y", u64::from((b[2] >> 2) & 1));
    ins.uint("chroma_sample_position", u64::from(b[2] & 3));
    let present = (b[3] >> 4) & 1 != 0;
    let delay = if present {
        u64::from(b[3] & 0x0f) + 1
    } else {
        0
    };
    ins.uint("initial_presentation_delay", delay);
    Ok(())
}

/// `vpcC`: VP8/VP9 codec configuration.
///
/// Bento4 never reads the codec initialization data (it prints a buffer of the right size
/// that it did not fill); we print the bytes.
pub fn vpcc(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let profile = c.u8()?;
    let level = c.u8()?;
    let bits = c.u8()?;
    let primaries = c.u8()?;
    let _transfer = c.u8()?;
    let matrix = c.u8()?;
    let init_len = c.u16()?;
    let init = c.bytes(usize::from(init_len))?;
    ins.uint(vpcc::PROFILE, u64::from(profile));
    ins.uint(vpcc::LEVEL, u64::from(level));
    ins.uint(vpcc::BIT_DEPTH, u64::from(bits >> 4));
    ins.uint("chroma subsampling", u64::from((bits >> 1) & 7));
    ins.uint("video full range flag", u64::from(bits & 1));
    ins.uint("colour primaries", u64::from(primaries));
    ins.uint("matrix coefficients", u64::from(matrix));
    ins.bytes("codec initialization data", init);
    Ok(())
}

/// `colr`: colour information (`nclx`/`nclc`).
pub fn colr(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let len = c.remaining();
    // Bento4 parses only the 10- and 11-byte forms (others print unset fields).
    if len != 10 && len != 11 {
        return Err(Reject);
    }
    let kind = c.u32()?;
    let primaries = c.u16()?;
    let transfer = c.u16()?;
    let matrix = c.u16()?;
    ins.uint("Colour Parameter Type:", u64::from(kind));
    ins.uint("Primaries Index:", u64::from(primaries));
    ins.uint("Transfer Funcion Index:", u64::from(transfer));
    ins.uint("Matrix Index:", u64::from(matrix));
    if len == 11 {
        ins.uint("Video Full Range Flag:", u64::from(c.u8()? >> 7));
    }
    Ok(())
}

/// `dac3`: AC-3 specific box.
pub fn dac3(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let p = c.rest();
    let (mut rate, mut fscod, mut bsid, mut bsmod, mut acmod, mut lfeon) = (0u32, 0, 0, 0, 0, 0);
    if p.len() >= 3 {
        rate = (u32::from(p[0]) << 5) | u32::from(p[1] >> 3);
        fscod = (p[0] >> 6) & 3;
        bsid = (p[0] >> 1) & 0x1f;
        bsmod = ((p[0] << 2) | (p[1] >> 6)) & 7;
        acmod = (p[1] >> 3) & 7;
        lfeon = (p[1] >> 2) & 1;
        let code = ((p[1] << 3) | (p[2] >> 5)) & 0x1f;
        const KBPS: [u32; 19] = [
            32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640,
        ];
        if let Some(k) = KBPS.get(usize::from(code)) {
            rate = *k;
        }
    }
    ins.uint("data_rate", u64::from(rate));
    ins.uint("fscod", u64::from(fscod));
    ins.uint("bsid", u64::from(bsid));
    ins.uint("bsmod", u64::from(bsmod));
    ins.uint(dac3::ACMOD, u64::from(acmod));
    ins.uint(dac3::LFEON, u64::from(lfeon));
    Ok(())
}

/// `dec3`: E-AC-3 specific box, decoded per ETSI TS 102 366 Annex F (Bento4 misreads it:
/// see the README).
pub fn dec3(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let p = c.rest();
    if p.len() < 2 {
        ins.uint("data_rate", 0);
        ins.uint("complexity_index_type_a", 0);
        return Ok(());
    }
    let rate = (u32::from(p[0]) << 5) | u32::from(p[1] >> 3);
    let substreams = 1 + usize::from(p[1] & 7);
    let mut rest = &p[2..];
    let mut lines = Vec::with_capacity(substreams);
    for _ in 0..substreams {
        // fscod(2) bsid(5) reserved(1) | asvc(1) bsmod(3) acmod(3) lfeon(1) |
        // reserved(3) num_dep_sub(4) then chan_loc(9) or reserved(1)
        let mut s = [0u32; 7];
        if rest.len() >= 3 {
            let dep = u32::from((rest[2] >> 1) & 0xf);
            let need = if dep > 0 { 4 } else { 3 };
            if rest.len() >= need {
                s = [
                    u32::from((rest[0] >> 6) & 3),
                    u32::from((rest[0] >> 1) & 0x1f),
                    u32::from((rest[1] >> 4) & 7),
                    u32::from((rest[1] >> 1) & 7),
                    u32::from(rest[1] & 1),
                    dep,
                    if dep > 0 {
                        (u32::from(rest[2] & 1) << 8) | u32::from(rest[3])
                    } else {
                        0
                    },
                ];
                rest = &rest[need..];
            } else {
                rest = &[];
            }
        } else {
            rest = &[];
        }
        lines.push(s);
    }
    // reserved(7) flag_ec3_extension_type_a(1), then complexity_index_type_a(8) if set.
    let complexity = if rest.len() >= 2 && rest[0] & 1 != 0 {
        rest[1]
    } else {
        0
    };
    ins.uint("data_rate", u64::from(rate));
    ins.uint("complexity_index_type_a", u64::from(complexity));
    for (i, s) in lines.iter().enumerate() {
        let name = format!("[{i:02}]");
        let value = format!(
            "fscod={}, bsid={}, bsmod={}, acmod={}, lfeon={}, num_dep_sub={}, chan_loc={}",
            s[0], s[1], s[2], s[3], s[4], s[5], s[6]
        );
        ins.string(&name, value.as_bytes());
    }
    Ok(())
}

/// `dvcC`/`dvvC`: Dolby Vision configuration. Bento4 needs the whole 24-byte record.
pub fn dvcc(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let p = c.array::<24>()?;
    let profile = p[2] >> 1;
    ins.uint("dv_version_major", u64::from(p[0]));
    ins.uint("dv_version_minor", u64::from(p[1]));
    ins.uint("dv_profile", u64::from(profile));
    // Bento4's names, typos included (profile 7 is `dvhe.dtb`, 9 is `dvav.se`).
    let name: &[u8] = match profile {
        0 => b"dvav.per",
        1 => b"dvav.pen",
        2 => b"dvhe.der",
        3 => b"dvhe.den",
        4 => b"dvhe.dtr",
        5 => b"dvhe.stn",
        6 => b"dvhe.dth",
        7 => b"dvhr.dtb",
        8 => b"dvhe.st",
        9 => b"dvav.se",
        _ => b"unknown",
    };
    ins.string("dv_profile_name", name);
    ins.uint("dv_level", u64::from(((p[2] & 1) << 5) | (p[3] >> 3)));
    ins.uint("rpu_present_flag", u64::from((p[3] >> 2) & 1));
    ins.uint("el_present_flag", u64::from((p[3] >> 1) & 1));
    ins.uint("bl_present_flag", u64::from(p[3] & 1));
    ins.uint("dv_bl_signal_compatibility_id", u64::from(p[4] >> 4));
    Ok(())
}

/// `dmlp`: Dolby TrueHD (MLP) specific box.
///
/// `peak_data_rate` is the 15 bits before a reserved bit; Bento4 prints the whole 16-bit word
/// (twice the value). We print the field.
pub fn dmlp(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    if c.remaining() < 10 {
        return Err(Reject);
    }
    let format_info = c.u32()?;
    let peak = c.u16()?;
    ins.uint("format_info", u64::from(format_info));
    ins.uint("peak_data_rate", u64::from(peak >> 1));
    Ok(())
}
