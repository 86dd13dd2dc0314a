//! Common encryption: `tenc`, `senc` (and the PIFF `uuid` forms of both), `schm`, `frma`,
//! `pssh`.

use super::fields::{frma, pssh, senc, tenc};
use super::{Decoded, Full, Reject};
use crate::isobmff::Cursor;
use crate::render::Inspector;

/// `tenc`: default encryption parameters of a track.
pub fn tenc(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    track_encryption(c, f.version, ins)
}

/// PIFF track encryption box (`uuid` 8974dbce-…): the same fields as `tenc` version 0.
pub fn piff_tenc(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    track_encryption(c, 0, ins)
}

fn track_encryption(c: &mut Cursor<'_>, version: u8, ins: &mut dyn Inspector) -> Decoded {
    c.skip(1)?;
    let blocks = c.u8()?;
    let protected = c.u8()?;
    let iv_size = c.u8()?;
    let kid = c.bytes(16)?;
    let mut constant: Option<&[u8]> = None;
    if iv_size == 0 {
        let n = c.u8()?;
        if n > 16 {
            return Err(Reject);
        }
        constant = Some(c.bytes(usize::from(n))?);
    }
    ins.uint("default_isProtected", u64::from(protected));
    ins.uint("default_Per_Sample_IV_Size", u64::from(iv_size));
    ins.bytes(tenc::DEFAULT_KID, kid);
    if version >= 1 {
        ins.uint("default_crypt_byte_block", u64::from(blocks >> 4));
        ins.uint("default_skip_byte_block", u64::from(blocks & 15));
    }
    if let Some(iv) = constant {
        ins.uint("default_constant_IV_size", iv.len() as u64);
        ins.bytes("default_constant_IV", iv);
    }
    Ok(())
}

/// `senc` and the PIFF sample encryption box: per-sample IVs and subsample maps. The IV size
/// is not in the box; like Bento4 we infer it (verbosity 2 and up).
pub fn senc(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let mut algorithm = None;
    if f.flags & 1 != 0 {
        let id = c.u24()?;
        let iv = c.u8()?;
        let kid = c.bytes(16)?;
        algorithm = Some((id, iv, kid));
    }
    let count = c.u32()?;
    let infos = c.rest();
    if let Some((id, iv, kid)) = algorithm {
        ins.uint("AlgorithmID", u64::from(id));
        ins.uint("IV_size", u64::from(iv));
        ins.bytes("KID", kid);
    }
    ins.uint(senc::SAMPLE_COUNT, u64::from(count));
    if ins.verbosity() < 2 {
        return Ok(());
    }
    let subsamples = f.flags & 2 != 0;
    let known = algorithm.map_or(0, |a| usize::from(a.1));
    let iv_size = if known != 0 {
        // Bento4 trusts the declared size without checking the data; we check it.
        if !infos_fit(infos, count, known, subsamples) {
            return Ok(());
        }
        known
    } else if subsamples {
        match [0, 8, 16]
            .into_iter()
            .find(|&s| infos_fit(infos, count, s, true))
        {
            Some(s) => s,
            None => return Ok(()),
        }
    } else {
        let size = if count > 0 {
            infos.len() / count as usize
        } else {
            0
        };
        if size * count as usize != infos.len() {
            return Ok(());
        }
        // Samples without any bytes (CBCS with a constant IV and no subsamples): one empty
        // row per sample, as Bento4 prints them, as long as the fragment's `trun` boxes hold
        // that many samples. Bento4 would print up to four billion rows from a 16-byte box.
        if size == 0 && u64::from(count) > f.fragment_samples {
            return Ok(());
        }
        size
    };
    ins.uint("IV Size (inferred)", iv_size as u64);
    ins.start_table("sample info entries");
    let mut r = Cursor::new(infos);
    for _ in 0..count {
        if !ins.wants_rows() {
            break;
        }
        ins.start_object(false);
        ins.bytes("info", r.bytes(iv_size)?);
        if subsamples {
            let n = r.u16()?;
            ins.start_table("sub entries");
            for _ in 0..n {
                let clear = r.u16()?;
                let encrypted = r.u32()?;
                ins.start_object(true);
                ins.uint("bytes_of_clear_data", u64::from(clear));
                ins.uint("bytes_of_encrypted_data", u64::from(encrypted));
                ins.end_object();
            }
            ins.end_table();
        }
        ins.end_object();
    }
    ins.end_table();
    Ok(())
}

/// Whether `count` sample infos with IVs of `iv_size` bytes fit in `infos`.
fn infos_fit(infos: &[u8], count: u32, iv_size: usize, subsamples: bool) -> bool {
    let mut c = Cursor::new(infos);
    for _ in 0..count {
        if c.skip(iv_size).is_err() {
            return false;
        }
        if subsamples {
            let Ok(n) = c.u16() else { return false };
            // Bento4 reads the count as signed: from 0x8000 up it never fits.
            if n >= 0x8000 || c.skip(usize::from(n) * 6).is_err() {
                return false;
            }
        }
    }
    true
}

/// `schm`: protection scheme.
pub fn schm(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 || c.remaining() < 6 {
        return Err(Reject);
    }
    let short = c.remaining() < 8;
    let scheme = c.u32()?;
    let version = if short { u32::from(c.u16()?) } else { c.u32()? };
    ins.fourcc("scheme_type", scheme);
    if short {
        ins.uint("scheme_version (short)", u64::from(version));
    } else {
        ins.uint("scheme_version", u64::from(version));
    }
    if f.flags & 1 != 0 {
        // Bento4 keeps all but the last byte (it forces a terminating NUL there).
        let rest = if short { &[][..] } else { c.rest() };
        ins.string("scheme_uri", &rest[..rest.len().saturating_sub(1)]);
    }
    Ok(())
}

/// `frma`: the original sample entry type.
pub fn frma(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    ins.fourcc(frma::ORIGINAL_FORMAT, c.u32()?);
    Ok(())
}

/// `pssh`: protection system specific header.
pub fn pssh(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version > 1 {
        return Err(Reject);
    }
    let mut system: &[u8] = &[0u8; 16];
    let mut kids: &[u8] = &[];
    let mut data: &[u8] = &[];
    // Bento4 leaves everything empty when the box cannot hold a system id and a data size.
    if c.remaining() >= 20 {
        system = c.bytes(16)?;
        let mut ok = true;
        if f.version > 0 {
            let n = c.u32()? as usize;
            if n > c.remaining() / 16 {
                ok = false;
            } else {
                kids = c.bytes(n * 16)?;
            }
        }
        if ok {
            let size = c.u32()? as usize;
            data = c.bytes(size)?;
        }
    }
    ins.bytes(pssh::SYSTEM_ID, system);
    ins.uint("data_size", data.len() as u64);
    for (i, kid) in kids.chunks_exact(16).enumerate() {
        ins.bytes(&format!("kid {i}"), kid);
    }
    if ins.verbosity() >= 1 {
        ins.bytes(pssh::DATA, data);
    }
    Ok(())
}
