//! iTunes-style metadata inside `udta`/`meta`/`ilst`: item containers, `data`, `mean`, `name`.

use super::{Decoded, Full};
use crate::isobmff::{Cursor, FourCC};
use crate::render::{Inspector, Value};

/// The `ilst` item types Bento4 opens as containers (others print as a header only).
const ILST_ITEMS: &[&[u8; 4]] = &[
    b"----", b"\xa9nam", b"\xa9ART", b"\xa9com", b"\xa9wrt", b"\xa9alb", b"\xa9gen", b"\xa9grp",
    b"\xa9day", b"\xa9too", b"\xa9cmt", b"cprt", b"trkn", b"disk", b"covr", b"desc", b"gnre",
    b"cpil", b"tmpo", b"rtng", b"apID", b"cnID", b"cmID", b"atID", b"plID", b"geID", b"sfID",
    b"akID", b"aART", b"tvnn", b"tvsh", b"tven", b"tvsn", b"tves", b"stik", b"pgap", b"pcst",
    b"purd", b"purl", b"egid", b"sonm", b"soal", b"soar", b"soaa", b"soco", b"sosn",
];

/// Whether `typ` is an `ilst` item Bento4 knows.
pub fn is_ilst_item(typ: FourCC) -> bool {
    ILST_ITEMS.iter().any(|t| **t == typ.0)
}

/// `data` inside an item: type, language and, for UTF-8 text and big-endian integers, the value.
pub fn data(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let (mut kind, mut lang) = (0, 0);
    let mut value: &[u8] = &[];
    if c.remaining() >= 8 {
        kind = c.u32()?;
        lang = c.u32()?;
        value = c.rest();
    }
    ins.uint("type", u64::from(kind));
    ins.uint("lang", u64::from(lang));
    match kind {
        1 => ins.string("value", value),
        21 => {
            let v = match value.len() {
                1 => Some(i64::from(value[0])),
                2 => Some(i64::from(i16::from_be_bytes([value[0], value[1]]))),
                4 => Some(i64::from(i32::from_be_bytes([
                    value[0], value[1], value[2], value[3],
                ]))),
                _ => None,
            };
            if let Some(v) = v {
                ins.field(Some("value"), Value::Int(v));
            }
        }
        _ => {}
    }
    Ok(())
}

/// `mean` and `name` inside a `----` item: a string after four reserved bytes.
pub fn mean_name(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    c.skip(4)?;
    ins.string("value", c.rest());
    Ok(())
}

/// 3GPP strings directly in `udta` (`titl`, `dscp`, `cprt`, `perf`, `auth`, `gnre`): packed
/// language and text.
pub fn udta_string(c: &mut Cursor<'_>, f: &Full, ins: &mut dyn Inspector) -> Decoded {
    if f.version != 0 {
        return Err(super::Reject);
    }
    let packed = c.u16()?;
    let lang = [
        0x60 + ((packed >> 10) & 0x1f) as u8,
        0x60 + ((packed >> 5) & 0x1f) as u8,
        0x60 + (packed & 0x1f) as u8,
    ];
    ins.string("language", &lang);
    ins.string("value", c.rest());
    Ok(())
}
