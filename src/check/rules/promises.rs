//! What the manifest promises of the media, against the media: `resolution`, `frame-rate`,
//! `sampling-rate`, `channels`, `sar`, `default-kid`, `pssh`, `max-segment-duration`.

use base64::Engine as _;
use serde_json::json;

use super::{Expect, RepresentationChecker, Run};
use crate::check::Check;
use crate::check::facts::{SampleEntry, facts_of_bytes};

/// `AudioChannelConfiguration` schemes: the channel count (ISO/IEC 23009-1 §5.8.5.4), and
/// the MPEG CICP index (ISO/IEC 23091-3; indices 1 to 7 are the AAC channel configurations).
const COUNT_SCHEME: &str = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
const CICP_SCHEME: &str = "urn:mpeg:mpegB:cicp:ChannelConfiguration";

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

/// The picture a decoder outputs: the SPS's cropped size where it is known, else the sample
/// entry's.
fn picture(entry: &SampleEntry) -> Option<(u64, u64)> {
    entry.sps.as_deref().and_then(avc_size).or(entry.size)
}

/// The channels the codec configuration codes (an AAC channel configuration, AC-3's modes),
/// where it says.
fn coded_channels(entry: &SampleEntry) -> Option<u64> {
    let aac = entry
        .decoder_specific_info
        .as_deref()
        .and_then(crate::check::aac::parse);
    match (aac.and_then(|a| a.channel_configuration), entry.ac3) {
        (Some(configuration), _) if configuration > 0 => cicp_channels(configuration),
        (_, Some((acmod, lfe))) => Some(ac3_channels(acmod) + lfe),
        _ => None,
    }
}

/// What an init segment says of a track, from its first sample entry.
pub(super) fn describe(track: &crate::check::facts::Track) -> crate::check::Described {
    let text = |code: [u8; 4]| String::from_utf8_lossy(&code).into_owned();
    let entry = track.entries.first();
    let audio = track.handler == *b"soun";
    crate::check::Described {
        handler: text(track.handler),
        format: entry
            .map(|e| text(e.original.unwrap_or(e.format)))
            .unwrap_or_default(),
        protected: entry.is_some_and(|e| e.protected),
        timescale: track.timescale,
        picture: entry.filter(|_| !audio).and_then(picture),
        sample_rate: entry.filter(|_| audio).and_then(|e| {
            e.decoder_specific_info
                .as_deref()
                .and_then(crate::check::aac::parse)
                .and_then(|a| a.sbr_rate.or(a.rate))
                .or(e.sample_rate)
        }),
        channels: entry
            .filter(|_| audio)
            .and_then(|e| coded_channels(e).or(e.channel_count)),
    }
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
                let picture = picture(entry).unwrap_or(size);
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
            let aac = entry
                .decoder_specific_info
                .as_deref()
                .and_then(crate::check::aac::parse);
            if let Some(rate) = promises.audio_sampling_rate
                && let Some(entry_rate) = entry.sample_rate
            {
                // HE-AAC may be announced at its core or its output rate.
                let mut accepted = vec![entry_rate];
                if let Some(core) = aac.and_then(|a| a.rate) {
                    accepted.push(core);
                    accepted.push(aac.and_then(|a| a.sbr_rate).unwrap_or(core * 2));
                }
                if !accepted.contains(&rate) {
                    let found = aac.and_then(|a| a.rate).unwrap_or(entry_rate);
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
                let found = coded_channels(entry);
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
            // Read by the same `pssh` decoder as the init's boxes.
            let facts = facts_of_bytes(&bytes);
            let parsed = facts
                .pssh
                .first()
                .filter(|(system, _)| {
                    system.len() == 16
                        && facts.malformed.is_empty()
                        && facts.top.len() == 1
                        && facts.top[0].size == bytes.len() as u64
                })
                .cloned();
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
            if !in_init.is_empty() && !in_init.contains(&&data) {
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
    fn channel_counts_kids_and_short_parameter_sets() {
        assert_eq!(ac3_channels(7) + 1, 6);
        assert_eq!(kid_hex("{0001-0203}"), "00010203");
        // Parameter sets too short to be one are no size (and no panic in the reader).
        for short in [&[][..], &[0x67], &[0x67, 0x42], &[0x67, 0x42, 0xc0]] {
            assert_eq!(avc_size(short), None);
        }
    }
}
