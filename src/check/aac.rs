//! The AAC AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), as far as the checks read it: the
//! audio object type (`codecs`), the sampling rates and the channel configuration
//! (`sampling-rate`, `channels`).

use crate::isobmff::Bits;

/// AAC's sampling frequencies by index (ISO/IEC 14496-3 §1.6.3.4).
const RATES: [u64; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// What an AudioSpecificConfig says; each field as far as its bytes reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AudioSpecificConfig {
    /// The audio object type (2: AAC-LC, 5: SBR, 29: PS, …).
    pub object_type: u8,
    /// The (core) sampling rate.
    pub rate: Option<u64>,
    /// The rate SBR doubles it to, when signalled explicitly (HE-AAC).
    pub sbr_rate: Option<u64>,
    /// The channel configuration (0: given by a program config element).
    pub channel_configuration: Option<u64>,
}

/// `n` bits, if the bytes hold them.
fn field(bits: &mut Bits, n: u32) -> Option<u64> {
    let v = bits.read(n);
    (!bits.past_end()).then_some(v)
}

/// A sampling frequency index, and the explicit frequency of index 15.
fn rate(bits: &mut Bits) -> Option<u64> {
    match field(bits, 4)? {
        15 => field(bits, 24),
        i => RATES.get(usize::try_from(i).ok()?).copied(),
    }
}

/// Reads an AudioSpecificConfig; `None` when not even its object type is there.
pub(crate) fn parse(bytes: &[u8]) -> Option<AudioSpecificConfig> {
    let mut bits = Bits::new(bytes);
    let mut object_type = field(&mut bits, 5)?;
    if object_type == 31 {
        object_type = 32 + field(&mut bits, 6)?;
    }
    let core = rate(&mut bits);
    let channel_configuration = core.and_then(|_| field(&mut bits, 4));
    // Explicit hierarchical signalling: the extension's rate follows.
    let sbr_rate = match object_type {
        5 | 29 if channel_configuration.is_some() => rate(&mut bits),
        _ => None,
    };
    Some(AudioSpecificConfig {
        object_type: u8::try_from(object_type).ok()?,
        rate: core,
        sbr_rate,
        channel_configuration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_specific_configs() {
        // AAC-LC 44.1 kHz mono; HE-AAC (explicit SBR) 22.05 → 44.1 kHz; too short for anything.
        let lc = parse(&[0x12, 0x08]).unwrap();
        assert_eq!(
            (lc.rate, lc.sbr_rate, lc.channel_configuration),
            (Some(44100), None, Some(1))
        );
        let he = parse(&[0x2b, 0x92, 0x08, 0x00]).unwrap();
        assert_eq!((he.rate, he.sbr_rate), (Some(22050), Some(44100)));
        assert_eq!(parse(&[]), None);
    }
}
