//! `@codecs` (RFC 6381, ISO/IEC 14496-15 Annex E, ETSI TS 102 366, AV1 and VP9 codec
//! ISOBMFF bindings) against an init segment's sample entry.

use super::facts::{CodecConfig, SampleEntry};

fn c_if<T>(applies: bool, value: Option<T>) -> Option<T> {
    if applies { value } else { None }
}

/// The codec string the sample entry announces, for messages: `avc1.64001f`, `mp4a.40.2`, …
pub fn describe(entry: &SampleEntry) -> String {
    let format = format_of(entry);
    let c = &entry.codec;
    if let Some((p, compat, l)) = c.avc {
        return format!("{format}.{p:02x}{compat:02x}{l:02x}");
    }
    if let Some((space, p, tier, l)) = c.hevc {
        let space = ["", "A", "B", "C"][usize::from(space & 3)];
        let tier = if tier == 1 { 'H' } else { 'L' };
        return format!("{format}.{space}{p}.{tier}{l}");
    }
    if let Some((oti, aot)) = c.mp4a {
        return match aot {
            Some(a) => format!("{format}.{oti:x}.{a}"),
            None => format!("{format}.{oti:x}"),
        };
    }
    if let Some((p, l, tier)) = c.av1 {
        let tier = if tier == 1 { 'H' } else { 'M' };
        return format!("{format}.{p}.{l:02}{tier}");
    }
    if let Some((p, l, depth)) = c.vp9 {
        return format!("{format}.{p:02}.{l:02}.{depth:02}");
    }
    format
}

/// The entry's format, the original one for an encrypted entry.
fn format_of(entry: &SampleEntry) -> String {
    let four = entry.original.unwrap_or(entry.format);
    String::from_utf8_lossy(&four).into_owned()
}

/// Whether one codec of a comma-separated `@codecs` matches the sample entry.
pub fn matches(codecs: &str, entry: &SampleEntry) -> bool {
    codecs
        .split(',')
        .map(str::trim)
        .any(|one| matches_one(one, entry))
}

fn matches_one(codec: &str, entry: &SampleEntry) -> bool {
    let mut parts = codec.split('.');
    let four = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    let format = format_of(entry);
    if !four.eq_ignore_ascii_case(&format) {
        return false;
    }
    // The configuration is compared for the codec families whose strings encode it; other
    // entries (Dolby Vision over an hvcC, say) by their four-character code alone.
    let family = format.to_ascii_lowercase();
    let c = &CodecConfig {
        avc: c_if(family.starts_with("avc"), entry.codec.avc),
        hevc: c_if(family == "hev1" || family == "hvc1", entry.codec.hevc),
        mp4a: c_if(family == "mp4a", entry.codec.mp4a),
        av1: c_if(family == "av01", entry.codec.av1),
        vp9: c_if(family == "vp09", entry.codec.vp9),
    };
    if let Some((profile, _, level)) = c.avc {
        // avc1.PPCCLL: profile_idc, constraint flags, level_idc.
        let Some(hex) = rest.first().filter(|h| h.len() == 6) else {
            return rest.is_empty();
        };
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        return byte(0) == Some(profile) && byte(4) == Some(level);
    }
    if let Some((_, profile, tier, level)) = c.hevc {
        // hvc1.[A|B|C]profile.compat.[L|H]level.constraints
        let Some(p) = rest.first() else {
            return true;
        };
        let p = p.trim_start_matches(['A', 'B', 'C', 'a', 'b', 'c']);
        if p.parse::<u8>().ok() != Some(profile) {
            return false;
        }
        return match rest.get(2) {
            Some(tl) if tl.len() > 1 => {
                let t = if tl.starts_with(['H', 'h']) { 1 } else { 0 };
                t == tier && tl[1..].parse::<u8>().ok() == Some(level)
            }
            _ => true,
        };
    }
    if let Some((oti, aot)) = c.mp4a {
        // mp4a.OO[.A]: object type indication (hex), audio object type (decimal).
        let Some(o) = rest.first() else {
            return true;
        };
        if u8::from_str_radix(o, 16).ok() != Some(oti) {
            return false;
        }
        return match (rest.get(1).and_then(|a| a.parse::<u8>().ok()), aot) {
            (Some(declared), Some(found)) => {
                // HE-AAC (5) and HE-AACv2 (29) may be signalled implicitly over an AAC-LC
                // configuration (ISO/IEC 14496-3 §1.6.5.2).
                declared == found || (found == 2 && matches!(declared, 5 | 29))
            }
            _ => true,
        };
    }
    if let Some((profile, level, tier)) = c.av1 {
        // av01.P.LLT.DD…
        let (Some(p), Some(lt)) = (rest.first(), rest.get(1)) else {
            return true;
        };
        let t = if lt.ends_with(['H', 'h']) { 1 } else { 0 };
        return p.parse::<u8>().ok() == Some(profile)
            && lt.len() > 1
            && lt[..lt.len() - 1].parse::<u8>().ok() == Some(level)
            && t == tier;
    }
    if let Some((profile, level, depth)) = c.vp9 {
        // vp09.PP.LL.DD…
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u8>().ok());
        return rest.is_empty()
            || (field(0) == Some(profile)
                && rest.get(1).is_none_or(|_| field(1) == Some(level))
                && rest.get(2).is_none_or(|_| field(2) == Some(depth)));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(format: &[u8; 4], codec: CodecConfig) -> SampleEntry {
        SampleEntry {
            format: *format,
            codec,
            ..SampleEntry::default()
        }
    }

    #[test]
    fn codec_strings() {
        let avc = entry(
            b"avc1",
            CodecConfig {
                avc: Some((0x64, 0, 0x1f)),
                ..CodecConfig::default()
            },
        );
        let aac = entry(
            b"mp4a",
            CodecConfig {
                mp4a: Some((0x40, Some(2))),
                ..CodecConfig::default()
            },
        );
        let hevc = entry(
            b"hvc1",
            CodecConfig {
                hevc: Some((0, 1, 0, 93)),
                ..CodecConfig::default()
            },
        );
        let dolby = entry(
            b"dvh1",
            CodecConfig {
                hevc: Some((0, 1, 0, 93)),
                ..CodecConfig::default()
            },
        );
        let rows: [(&str, &SampleEntry, bool); 13] = [
            ("dvh1.05.06", &dolby, true),
            ("hvc1.1.6.L93.B0", &dolby, false),
            ("avc1.64001F", &avc, true),
            ("avc1.64001f,mp4a.40.2", &avc, true),
            ("avc1.4d001f", &avc, false),
            ("avc1.640020", &avc, false),
            ("avc3.64001f", &avc, false),
            ("mp4a.40.2", &aac, true),
            ("mp4a.40.5", &aac, true),
            ("mp4a.40.34", &aac, false),
            ("mp4a.6b", &aac, false),
            ("hvc1.1.6.L93.B0", &hevc, true),
            ("hvc1.2.4.L93.B0", &hevc, false),
        ];
        for (codecs, e, want) in rows {
            assert_eq!(matches(codecs, e), want, "{codecs}");
        }
        assert_eq!(describe(&avc), "avc1.64001f");
        assert_eq!(describe(&aac), "mp4a.40.2");
    }
}
