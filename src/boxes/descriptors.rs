//! `esds` and the MPEG-4 descriptors inside it (ISO/IEC 14496-1).
//!
//! Descriptors print like boxes (`[ESDescriptor] size=5+37`), with an offset too: the position
//! of the descriptor's tag byte in the file.

use super::fields::esds;
use super::{Decoded, Full, Reject};
use crate::isobmff::Cursor;
use crate::render::{BoxStart, Inspector};

/// `esds`: the ES descriptor and its sub-descriptors.
pub fn esds(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let base = f.body_offset;
    let mut d = Cursor::new(c.rest());
    // Bento4 prints the first descriptor only if it is an ES descriptor.
    if let Some(desc) = read_descriptor(&mut d)?
        && desc.tag == 3
    {
        es_descriptor(&desc, base, 0, ins)?;
    }
    Ok(())
}

/// Descriptors nested deeper than this are not shown (real files nest three levels).
const MAX_DESCRIPTOR_DEPTH: usize = 16;

/// `iods`: the initial object descriptor.
pub fn iods(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(Reject);
    }
    let mut d = Cursor::new(c.rest());
    // Bento4 prints the first descriptor only if it is an object descriptor.
    if let Some(desc) = read_descriptor(&mut d)?
        && matches!(desc.tag, 0x01 | 0x11 | 0x02 | 0x10)
    {
        object_descriptor(&desc, f.body_offset, 0, ins)?;
    }
    Ok(())
}

struct Descriptor<'a> {
    tag: u8,
    /// Offset of the tag byte within the buffer the descriptor was read from.
    start: usize,
    header: usize,
    /// The payload present (shorter than `claimed` when the descriptor runs past its parent).
    payload: &'a [u8],
    /// The payload length the descriptor declares.
    claimed: usize,
    /// Offset of the buffer in the file.
    buf_offset: u64,
}

impl Descriptor<'_> {
    fn start_box(&self, name: &[u8], base: u64, ins: &mut dyn Inspector) {
        ins.start_box(&BoxStart {
            name,
            header_size: self.header as u64,
            size: (self.header + self.claimed) as u64,
            version: 0,
            flags: 0,
            offset: base + self.buf_offset + self.start as u64,
            descriptor: true,
        });
    }
}

/// Reads one descriptor header and its payload. `Ok(None)` ends a descriptor list (no bytes
/// left, an empty descriptor, or a malformed SL config). A descriptor longer than the bytes
/// left is returned with what is present, as Bento4 does (and ends the list after it).
fn read_descriptor<'a>(c: &mut Cursor<'a>) -> Result<Option<Descriptor<'a>>, Reject> {
    let start = c.position();
    let Ok(tag) = c.u8() else {
        return Ok(None);
    };
    let mut len: usize = 0;
    let mut header = 1;
    for _ in 0..4 {
        let Ok(b) = c.u8() else {
            return Ok(None);
        };
        header += 1;
        len = (len << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    if len == 0 || (tag == 6 && len != 1) {
        return Ok(None);
    }
    let payload = match c.bytes(len) {
        Ok(p) => p,
        Err(_) => {
            let rest = c.rest();
            c.skip(rest.len())?;
            rest
        }
    };
    Ok(Some(Descriptor {
        tag,
        start,
        header,
        payload,
        claimed: len,
        buf_offset: 0,
    }))
}

/// Reads the sub-descriptors in `bytes` (located at `offset` relative to `base`) and prints them.
fn sub_descriptors(
    bytes: &[u8],
    offset: u64,
    base: u64,
    depth: usize,
    ins: &mut dyn Inspector,
) -> Decoded {
    if depth > MAX_DESCRIPTOR_DEPTH {
        return Ok(());
    }
    let mut c = Cursor::new(bytes);
    while let Some(mut d) = read_descriptor(&mut c)? {
        d.buf_offset = offset;
        match d.tag {
            3 => es_descriptor(&d, base, depth + 1, ins)?,
            0x01 | 0x11 | 0x02 | 0x10 => object_descriptor(&d, base, depth + 1, ins)?,
            0x0e => {
                d.start_box(b"ES_ID_Inc", base, ins);
                let id = Cursor::new(d.payload).u32().unwrap_or(0);
                ins.uint("track_id", u64::from(id));
                ins.end_box();
            }
            0x0f => {
                d.start_box(b"ES_ID_Ref", base, ins);
                let index = Cursor::new(d.payload).u16().unwrap_or(0);
                ins.uint("ref_index", u64::from(index));
                ins.end_box();
            }
            4 => decoder_config(&d, base, depth + 1, ins)?,
            5 => {
                // DecoderSpecificInfo: a field of its parent, each byte as "%02x ".
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut text = Vec::with_capacity(d.payload.len() * 3);
                for b in d.payload {
                    text.extend_from_slice(&[
                        HEX[usize::from(b >> 4)],
                        HEX[usize::from(b & 15)],
                        b' ',
                    ]);
                }
                ins.string(esds::DECODER_SPECIFIC_INFO, &text);
            }
            _ => {
                let name = descriptor_name(d.tag);
                d.start_box(name.as_bytes(), base, ins);
                ins.end_box();
            }
        }
    }
    Ok(())
}

fn descriptor_name(tag: u8) -> String {
    match tag {
        0x01 | 0x11 => "ObjectDescriptor".into(),
        0x02 | 0x10 => "InitialObjectDescriptor".into(),
        0x0e => "ES_ID_Inc".into(),
        0x0f => "ES_ID_Ref".into(),
        0x0a => "IPMP_DescriptorPointer".into(),
        0x0b => "IPMP_Descriptor".into(),
        _ => format!("Descriptor:{tag:02x}"),
    }
}

fn es_descriptor(d: &Descriptor<'_>, base: u64, depth: usize, ins: &mut dyn Inspector) -> Decoded {
    d.start_box(b"ESDescriptor", base, ins);
    let mut c = Cursor::new(d.payload);
    let mut es_id = 0;
    let mut priority = 0;
    let mut subs: Option<usize> = None;
    if c.remaining() >= 3 {
        es_id = c.u16()?;
        let bits = c.u8()?;
        priority = bits & 0x1f;
        let flags = bits >> 5;
        let mut ok = true;
        if flags & 4 != 0 {
            ok = c.skip(2).is_ok();
        }
        if ok && flags & 2 != 0 {
            ok = match c.u8() {
                Ok(n) => c.skip(usize::from(n)).is_ok(),
                Err(_) => false,
            };
        }
        if ok && flags & 1 != 0 {
            ok = c.skip(2).is_ok();
        }
        if ok {
            subs = Some(c.position());
        }
    }
    ins.uint("es_id", u64::from(es_id));
    ins.uint("stream_priority", u64::from(priority));
    if let Some(at) = subs {
        let offset = d.buf_offset + (d.start + d.header + at) as u64;
        sub_descriptors(&d.payload[at..], offset, base, depth, ins)?;
    }
    ins.end_box();
    Ok(())
}

fn decoder_config(d: &Descriptor<'_>, base: u64, depth: usize, ins: &mut dyn Inspector) -> Decoded {
    d.start_box(b"DecoderConfig", base, ins);
    let p = d.payload;
    let (mut oti, mut stream_type, mut up, mut buffer, mut max, mut avg) = (0, 0, 0, 0, 0, 0);
    if p.len() >= 13 {
        let mut c = Cursor::new(p);
        oti = c.u8()?;
        let bits = c.u8()?;
        stream_type = (bits >> 2) & 0x3f;
        up = (bits >> 1) & 1;
        buffer = c.u24()?;
        max = c.u32()?;
        avg = c.u32()?;
    }
    ins.uint("stream_type", u64::from(stream_type));
    ins.uint(esds::OBJECT_TYPE, u64::from(oti));
    ins.uint("up_stream", u64::from(up));
    ins.uint("buffer_size", u64::from(buffer));
    ins.uint("max_bitrate", u64::from(max));
    ins.uint("avg_bitrate", u64::from(avg));
    if p.len() >= 13 {
        let offset = d.buf_offset + (d.start + d.header + 13) as u64;
        sub_descriptors(&p[13..], offset, base, depth, ins)?;
    }
    ins.end_box();
    Ok(())
}

/// Object descriptors (tags 0x01/0x11) and initial object descriptors (0x02/0x10).
fn object_descriptor(
    d: &Descriptor<'_>,
    base: u64,
    depth: usize,
    ins: &mut dyn Inspector,
) -> Decoded {
    let initial = matches!(d.tag, 0x02 | 0x10);
    let name: &[u8] = if initial {
        b"InitialObjectDescriptor"
    } else {
        b"ObjectDescriptor"
    };
    d.start_box(name, base, ins);
    let mut c = Cursor::new(d.payload);
    let (mut id, mut url_flag, mut inline) = (0u16, false, false);
    let mut url: &[u8] = &[];
    let mut levels = [0u8; 5];
    let mut subs = None;
    if let Ok(bits) = c.u16() {
        id = bits >> 6;
        url_flag = bits & (1 << 5) != 0;
        inline = bits & (1 << 4) != 0;
        if url_flag {
            if let Ok(n) = c.u8()
                && let Ok(u) = c.bytes(usize::from(n))
            {
                url = u;
                subs = Some(c.position());
            }
        } else if !initial {
            subs = Some(c.position());
        } else if let Ok(l) = c.array::<5>() {
            levels = l;
            subs = Some(c.position());
        }
    }
    ins.uint("id", u64::from(id));
    if url_flag {
        ins.string("url", url);
    } else if initial {
        ins.uint("include inline profile level flag", u64::from(inline));
        ins.hex("OD profile level", u64::from(levels[0]));
        ins.hex("scene profile level", u64::from(levels[1]));
        ins.hex("audio profile level", u64::from(levels[2]));
        ins.hex("visual profile level", u64::from(levels[3]));
        ins.hex("graphics profile level", u64::from(levels[4]));
    }
    if let Some(at) = subs {
        let offset = d.buf_offset + (d.start + d.header + at) as u64;
        sub_descriptors(&d.payload[at..], offset, base, depth, ins)?;
    }
    ins.end_box();
    Ok(())
}
