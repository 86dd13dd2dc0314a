//! The signals a live segment carries in its leading boxes (ISO/IEC 23009-1 §5.10.3.3 and
//! §6.3.4.2): an `emsg` of the MPD validity scheme (`urn:mpeg:dash:event:2012`: the manifest
//! changed, fetch it now) and the `lmsg` brand in `styp` (the Representation's last segment).
//! Only the top-level boxes before the first `moof`/`mdat` are read, with the crate's box reader
//! ([`crate::isobmff`]).

use crate::isobmff;

/// The MPD events scheme (values 1: validity expiration, 2: patch, 3: a whole MPD inband).
pub const MPD_EVENTS_SCHEME: &str = "urn:mpeg:dash:event:2012";

/// What a segment's leading boxes say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InbandSignals {
    /// `styp` lists the `lmsg` brand: no segment follows in this Representation.
    pub last_segment: bool,
    /// An `emsg` of [`MPD_EVENTS_SCHEME`]: the manifest is to be fetched again.
    pub mpd_event: bool,
}

/// Reads the signals of the segment whose first bytes are `head` (any prefix of it: what does
/// not fit is not looked at). Never fails: malformed boxes end the reading.
pub fn inband_signals(head: &[u8]) -> InbandSignals {
    let mut signals = InbandSignals::default();
    for (header, body) in isobmff::boxes(head) {
        match &header.typ.0 {
            b"moof" | b"mdat" => break,
            b"styp" | b"ftyp" => {
                // major brand, minor version, then compatible brands.
                let major = body.get(0..4);
                let compatible = body.get(8..).unwrap_or(&[]);
                if major == Some(b"lmsg") || compatible.chunks_exact(4).any(|b| b == b"lmsg") {
                    signals.last_segment = true;
                }
            }
            b"emsg" if emsg_scheme(body) == Some(MPD_EVENTS_SCHEME.as_bytes()) => {
                signals.mpd_event = true;
            }
            _ => {}
        }
    }
    signals
}

/// The `scheme_id_uri` of an `emsg` body (version 0 puts it first; version 1 after its times).
fn emsg_scheme(body: &[u8]) -> Option<&[u8]> {
    let mut cursor = isobmff::Cursor::new(body);
    let version = cursor.u8().ok()?;
    cursor.skip(3).ok()?;
    match version {
        0 => {}
        // timescale, presentation_time (64 bits), event_duration, id.
        1 => cursor.skip(4 + 8 + 4 + 4).ok()?,
        _ => return None,
    }
    let rest = cursor.rest();
    // The string must end inside the box.
    rest.contains(&0).then(|| cursor.cstring())
}

/// The `mdhd` timescale of the first track of an init segment (`moov/trak/mdia/mdhd`), if its
/// bytes hold one: what a recording's manifest may state its times in.
pub fn media_timescale(init: &[u8]) -> Option<u64> {
    let child = |bytes, kind: &[u8; 4]| {
        isobmff::boxes(bytes)
            .find(|(header, _)| &header.typ.0 == kind)
            .map(|(_, payload)| payload)
    };
    let mdhd = child(
        child(child(child(init, b"moov")?, b"trak")?, b"mdia")?,
        b"mdhd",
    )?;
    let mut cursor = isobmff::Cursor::new(mdhd);
    let version = cursor.u8().ok()?;
    cursor.skip(3).ok()?;
    // creation and modification times: 32 bits each in version 0, 64 in version 1.
    match version {
        0 => cursor.skip(8).ok()?,
        1 => cursor.skip(16).ok()?,
        _ => return None,
    }
    let timescale = cursor.u32().ok()?;
    (timescale > 0).then_some(u64::from(timescale))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn styp(brands: &[&[u8; 4]]) -> Vec<u8> {
        let mut body = b"msdh\0\0\0\0".to_vec();
        for brand in brands {
            body.extend_from_slice(*brand);
        }
        mp4_box(b"styp", &body)
    }

    fn emsg_v0(scheme: &str) -> Vec<u8> {
        let mut body = vec![0u8; 4];
        body.extend_from_slice(scheme.as_bytes());
        body.extend_from_slice(b"\x001\x00");
        body.extend_from_slice(&[0u8; 16]);
        mp4_box(b"emsg", &body)
    }

    fn emsg_v1(scheme: &str) -> Vec<u8> {
        let mut body = vec![1u8, 0, 0, 0];
        body.extend_from_slice(&[0u8; 20]);
        body.extend_from_slice(scheme.as_bytes());
        body.extend_from_slice(b"\0\0");
        mp4_box(b"emsg", &body)
    }

    #[test]
    fn signals_before_the_first_moof() {
        let moof = mp4_box(b"moof", &[0u8; 16]);
        let rows: Vec<(Vec<u8>, InbandSignals)> = vec![
            (
                [styp(&[b"msdh", b"msix"]), moof.clone()].concat(),
                InbandSignals::default(),
            ),
            (
                [styp(&[b"msdh", b"lmsg"]), moof.clone()].concat(),
                InbandSignals {
                    last_segment: true,
                    mpd_event: false,
                },
            ),
            (
                [styp(&[b"msdh"]), emsg_v0(MPD_EVENTS_SCHEME), moof.clone()].concat(),
                InbandSignals {
                    last_segment: false,
                    mpd_event: true,
                },
            ),
            (
                [styp(&[b"msdh"]), emsg_v1(MPD_EVENTS_SCHEME), moof.clone()].concat(),
                InbandSignals {
                    last_segment: false,
                    mpd_event: true,
                },
            ),
            (
                [
                    styp(&[b"msdh"]),
                    emsg_v0("urn:scte:scte35:2013:bin"),
                    moof.clone(),
                ]
                .concat(),
                InbandSignals::default(),
            ),
            // After the moof: not a leading box.
            (
                [styp(&[b"msdh"]), moof.clone(), emsg_v0(MPD_EVENTS_SCHEME)].concat(),
                InbandSignals::default(),
            ),
        ];
        for (bytes, expected) in rows {
            assert_eq!(inband_signals(&bytes), expected);
        }
    }

    #[test]
    fn arbitrary_bytes_do_not_panic() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 7) as u8 // small values make plausible sizes
                })
                .collect();
            let _ = inband_signals(&bytes);
            let cut = [styp(&[b"lmsg"]), emsg_v0(MPD_EVENTS_SCHEME)].concat();
            let _ = inband_signals(&cut[..len.min(cut.len())]);
        }
        // Sizes that lie: 1 (64-bit, cut short), 0 (to the end), under 8.
        for bytes in [
            b"\0\0\0\x01styp\0\0".to_vec(),
            b"\0\0\0\0stypmsdh\0\0\0\0lmsg".to_vec(),
            b"\0\0\0\x03styp".to_vec(),
        ] {
            let _ = inband_signals(&bytes);
        }
        assert!(inband_signals(b"\0\0\0\0stypmsdh\0\0\0\0lmsg").last_segment);
    }
}

#[cfg(test)]
mod timescale_tests {
    use super::*;

    #[test]
    fn the_init_fixtures_timescales() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live");
        let video = std::fs::read(dir.join("v-init.m4s")).unwrap();
        let audio = std::fs::read(dir.join("a-init.m4s")).unwrap();
        assert_eq!(media_timescale(&video), Some(12800));
        assert_eq!(media_timescale(&audio), Some(48000));
        for cut in 0..video.len() {
            let _ = media_timescale(&video[..cut]);
        }
        assert_eq!(media_timescale(b"\0\0\0\x08moov"), None);
    }
}
