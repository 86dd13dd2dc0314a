//! What the manifest promises of the media, against the media: `resolution`, `frame-rate`,
//! `sampling-rate`, `channels`, `sar`, `default-kid`, `pssh`, `max-segment-duration`.

use base64::Engine as _;
use serde_json::json;

use super::{Expect, RepresentationChecker, Run};
use crate::check::Check;
use crate::check::facts::SampleEntry;

/// `AudioChannelConfiguration` schemes: the channel count (ISO/IEC 23009-1 §5.8.5.4), and
/// the MPEG CICP index (ISO/IEC 23091-3; indices 1 to 7 are the AAC channel configurations).
const COUNT_SCHEME: &str = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
const CICP_SCHEME: &str = "urn:mpeg:mpegB:cicp:ChannelConfiguration";

/// AAC's sampling frequencies by index (ISO/IEC 14496-3 §1.6.3.4).
const AAC_RATES: [u64; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Channels of the CICP layouts 1 to 7, 9 to 14 (ISO/IEC 23091-3 Table 8).
fn cicp_channels(index: u64) -> Option<u64> {
    Some(match index {
        1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        5 => 5,
        6 => 6,
        7 => 8,
        9 => 3,
        10 => 4,
        11 => 7,
        12 => 8,
        13 => 24,
        14 => 8,
        _ => return None,
    })
}

/// What an AAC AudioSpecificConfig says: sampling rate, the rate SBR doubles it to (HE-AAC,
/// signalled explicitly), and the channel configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AacConfig {
    rate: u64,
    sbr_rate: Option<u64>,
    channel_configuration: u64,
}

/// Reads an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), as far as the rates and channels.
fn aac_config(bytes: &[u8]) -> Option<AacConfig> {
    let mut bits = Bits { bytes, at: 0 };
    let rate = |bits: &mut Bits| -> Option<u64> {
        match bits.take(4)? {
            15 => bits.take(24),
            i => AAC_RATES.get(i as usize).copied(),
        }
    };
    let mut object_type = bits.take(5)?;
    if object_type == 31 {
        object_type = 32 + bits.take(6)?;
    }
    let core = rate(&mut bits)?;
    let channel_configuration = bits.take(4)?;
    let mut sbr_rate = None;
    if object_type == 5 || object_type == 29 {
        // Explicit hierarchical signalling: the extension's rate follows.
        sbr_rate = rate(&mut bits);
    }
    Some(AacConfig {
        rate: core,
        sbr_rate,
        channel_configuration,
    })
}

struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn take(&mut self, n: usize) -> Option<u64> {
        let mut v = 0u64;
        for _ in 0..n {
            let byte = self.bytes.get(self.at / 8)?;
            v = (v << 1) | u64::from((byte >> (7 - self.at % 8)) & 1);
            self.at += 1;
        }
        Some(v)
    }
}

/// Channels of an AC-3 `acmod` (ATSC A/52 Table 5.8), LFE not counted.
fn ac3_channels(acmod: u64) -> u64 {
    [2, 1, 2, 3, 3, 4, 4, 5][(acmod & 7) as usize]
}

/// The cropped picture size an AVC sequence parameter set gives.
fn avc_size(sps: &[u8]) -> Option<(u64, u64)> {
    // A NAL header, profile, constraints and level at least (h264-reader's `decode_nal`
    // underflows on fewer than two bytes).
    if sps.len() < 4 {
        return None;
    }
    let rbsp = h264_reader::rbsp::decode_nal(sps).ok()?;
    let sps = h264_reader::nal::sps::SeqParameterSet::from_bits(h264_reader::rbsp::BitReader::new(
        &*rbsp,
    ))
    .ok()?;
    let (w, h) = sps.pixel_dimensions().ok()?;
    Some((u64::from(w), u64::from(h)))
}

/// A KID as 32 lowercase hex digits (a UUID's dashes and braces dropped).
fn kid_hex(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl RepresentationChecker<'_> {
    /// The promises an init segment can be held to.
    pub(super) fn check_promises(&mut self, path: &str, part: usize, pssh: &[(Vec<u8>, Vec<u8>)]) {
        let promises = self.parts[part].1.promises.clone();
        let entries: Vec<SampleEntry> = self
            .tracks
            .iter()
            .flat_map(|t| t.entries.iter().cloned())
            .collect();
        for entry in &entries {
            if let (Some(w), Some(h), Some(size)) = (promises.width, promises.height, entry.size) {
                // The picture the decoder outputs: the SPS's cropped size where it is known.
                let picture = entry.sps.as_deref().and_then(avc_size).unwrap_or(size);
                if (w, h) != picture {
                    self.report(
                        Check::Resolution,
                        path,
                        format!(
                            "@width/@height say {w}x{h}, the media's picture is {}x{}",
                            picture.0, picture.1
                        ),
                        Some(json!([w, h])),
                        Some(json!([picture.0, picture.1])),
                    );
                }
            }
            if let (Some((h, v)), Some(_)) = (promises.sar, entry.size) {
                let (ph, pv) = entry.pasp.unwrap_or((1, 1));
                if u128::from(h) * u128::from(pv) != u128::from(v) * u128::from(ph) {
                    self.report(
                        Check::Sar,
                        path,
                        format!(
                            "@sar is {h}:{v}, the media's pixel aspect ratio (pasp) is {ph}:{pv}"
                        ),
                        Some(json!(format!("{h}:{v}"))),
                        Some(json!(format!("{ph}:{pv}"))),
                    );
                }
            }
            let aac = entry.decoder_specific_info.as_deref().and_then(aac_config);
            if let Some(rate) = promises.audio_sampling_rate
                && let Some(entry_rate) = entry.sample_rate
            {
                // HE-AAC may be announced at its core or its output rate.
                let mut accepted = vec![entry_rate];
                if let Some(aac) = aac {
                    accepted.push(aac.rate);
                    accepted.push(aac.sbr_rate.unwrap_or(aac.rate * 2));
                }
                if !accepted.contains(&rate) {
                    let found = aac.map_or(entry_rate, |a| a.rate);
                    self.report(
                        Check::SamplingRate,
                        path,
                        format!(
                            "@audioSamplingRate is {rate}, the media's sampling rate is {found}"
                        ),
                        Some(json!(rate)),
                        Some(json!(found)),
                    );
                }
            }
            if let Some((scheme, value)) = &promises.channels {
                let found = match (aac, entry.ac3) {
                    (Some(a), _) if a.channel_configuration > 0 => {
                        cicp_channels(a.channel_configuration)
                    }
                    (_, Some((acmod, lfe))) => Some(ac3_channels(acmod) + lfe),
                    _ => None,
                };
                let promised = match scheme.as_str() {
                    COUNT_SCHEME => value.trim().parse::<u64>().ok(),
                    CICP_SCHEME => value.trim().parse::<u64>().ok().and_then(cicp_channels),
                    // Other schemes (Dolby's channel masks) are not compared.
                    _ => None,
                };
                if let (Some(promised), Some(found)) = (promised, found)
                    && promised != found
                {
                    self.report(
                        Check::Channels,
                        path,
                        format!(
                            "AudioChannelConfiguration ({scheme}) \"{value}\" means {promised} channels, the media has {found}"
                        ),
                        Some(json!(promised)),
                        Some(json!(found)),
                    );
                }
            }
            if let Some(kid) = &entry.default_kid {
                let found = hex(kid);
                for promised in &promises.default_kids {
                    if kid_hex(promised) != found {
                        self.report(
                            Check::DefaultKid,
                            path,
                            format!(
                                "ContentProtection@cenc:default_KID is {promised}, the init's tenc says {found}"
                            ),
                            Some(json!(promised)),
                            Some(json!(found)),
                        );
                    }
                }
            }
        }
        for (scheme, text) in &promises.pssh {
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) else {
                self.report(
                    Check::Pssh,
                    path,
                    format!("cenc:pssh of {scheme} is not base64"),
                    Some(json!("a base64 pssh box")),
                    Some(json!(text)),
                );
                continue;
            };
            let parsed = (bytes.len() >= 32 && &bytes[4..8] == b"pssh").then(|| {
                let system = bytes[12..28].to_vec();
                let mut at = 28;
                if bytes[8] > 0 {
                    let kids = bytes
                        .get(28..32)
                        .map_or(0, |n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]));
                    at += 4 + kids as usize * 16;
                }
                let data = bytes
                    .get(at..at + 4)
                    .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
                    .and_then(|n| bytes.get(at + 4..at + 4 + n))
                    .map(<[u8]>::to_vec);
                (system, data)
            });
            let Some((system, data)) = parsed else {
                self.report(
                    Check::Pssh,
                    path,
                    format!("cenc:pssh of {scheme} is not a pssh box"),
                    Some(json!("a pssh box")),
                    Some(json!(text)),
                );
                continue;
            };
            let system_hex = hex(&system);
            if let Some(uuid) = scheme.strip_prefix("urn:uuid:")
                && kid_hex(uuid) != system_hex
            {
                self.report(
                    Check::Pssh,
                    path,
                    format!(
                        "cenc:pssh in the ContentProtection of {scheme} is for system {system_hex}"
                    ),
                    Some(json!(kid_hex(uuid))),
                    Some(json!(system_hex)),
                );
            }
            // A manifest may carry the pssh the init lacks; where both have one for the same
            // system, they must agree.
            let in_init: Vec<&Vec<u8>> = pssh
                .iter()
                .filter(|(s, _)| *s == system)
                .map(|(_, d)| d)
                .collect();
            if let Some(data) = data
                && !in_init.is_empty()
                && !in_init.contains(&&data)
            {
                self.report(
                    Check::Pssh,
                    path,
                    format!(
                        "cenc:pssh for system {system_hex} differs from the init segment's pssh for it"
                    ),
                    Some(json!(hex(in_init[0]))),
                    Some(json!(hex(&data))),
                );
            }
        }
    }

    /// The promises each segment is held to: its frame rate, its duration.
    pub(super) fn check_unit_promises(&mut self, path: &str, unit: &Run, expect: &Expect) {
        let Some(track) = self.main().cloned() else {
            return;
        };
        let ts = track.timescale;
        if ts == 0 || unit.duration == 0 || unit.samples == 0 {
            return;
        }
        if let Some(max) = self.max_segment_duration {
            // Within one sample: durations in a timescale round.
            let limit = u128::from(max) * u128::from(ts) / 1_000_000_000
                + u128::from(unit.max_sample.max(1));
            if u128::from(unit.duration) > limit {
                let seconds = unit.duration as f64 / ts as f64;
                self.report(
                    Check::MaxSegmentDuration,
                    path,
                    format!(
                        "lasts {seconds:.3} s, longer than MPD@maxSegmentDuration ({:.3} s)",
                        max as f64 / 1e9
                    ),
                    Some(json!(max as f64 / 1e9)),
                    Some(json!(seconds)),
                );
            }
        }
        let promises = &self.parts[expect.part].1.promises;
        if let Some((num, den)) = promises.frame_rate
            && &track.handler == b"vide"
            && num > 0
            && den > 0
            && !self.frame_rate_reported
        {
            // The segment's frames per second against the promise, within 1 % (a last
            // frame of another length, rounding of the timescale).
            let found = unit.samples as f64 * ts as f64 / unit.duration as f64;
            let promised = num as f64 / den as f64;
            if (found - promised).abs() > promised * 0.01 {
                self.frame_rate_reported = true;
                let text = if den == 1 {
                    num.to_string()
                } else {
                    format!("{num}/{den}")
                };
                self.report(
                    Check::FrameRate,
                    path,
                    format!(
                        "@frameRate is {text}, the segment's samples run at {found:.3} frames per second"
                    ),
                    Some(json!(text)),
                    Some(json!((found * 1000.0).round() / 1000.0)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_specific_configs() {
        // AAC-LC 44.1 kHz mono; HE-AAC (explicit SBR) 24 → 48 kHz stereo; an escape rate.
        assert_eq!(
            aac_config(&[0x12, 0x08]),
            Some(AacConfig {
                rate: 44100,
                sbr_rate: None,
                channel_configuration: 1
            })
        );
        assert_eq!(
            aac_config(&[0x2b, 0x92, 0x08, 0x00]).map(|c| (c.rate, c.sbr_rate)),
            Some((22050, Some(44100)))
        );
        assert_eq!(aac_config(&[]), None);
        assert_eq!(ac3_channels(7) + 1, 6);
        assert_eq!(kid_hex("{0001-0203}"), "00010203");
        // Parameter sets too short to be one are no size (and no panic in the reader).
        for short in [&[][..], &[0x67], &[0x67, 0x42], &[0x67, 0x42, 0xc0]] {
            assert_eq!(avc_size(short), None);
        }
    }
}
