//! The names under which the decoders describe the fields that `--check` reads. The decoders
//! print these and the checker's inspector matches these same constants: renaming a label in
//! the dump renames it for the checker too, so no check can go blind through a typo (a test
//! in `check` proves on fixtures that every fact each check needs arrives).

/// `tkhd`.
pub mod tkhd {
    /// The track id.
    pub const ID: &str = "id";
}

/// `mdhd` (and `mvhd`).
pub mod mdhd {
    /// The timescale.
    pub const TIMESCALE: &str = "timescale";
}

/// `hdlr`.
pub mod hdlr {
    /// The handler type.
    pub const HANDLER_TYPE: &str = "handler_type";
}

/// `elst`.
pub mod elst {
    /// An entry's media time.
    pub const MEDIA_TIME: &str = "entry/media time";
}

/// `trex`.
pub mod trex {
    /// The track it applies to.
    pub const TRACK_ID: &str = "track id";
    /// Default sample description index.
    pub const DESCRIPTION: &str = "default sample description index";
    /// Default sample duration.
    pub const DURATION: &str = "default sample duration";
    /// Default sample size.
    pub const SIZE: &str = "default sample size";
    /// Default sample flags.
    pub const FLAGS: &str = "default sample flags";
}

/// `frma`.
pub mod frma {
    /// The format before encryption.
    pub const ORIGINAL_FORMAT: &str = "original_format";
}

/// `avcC` and `hvcC`.
pub mod avcc {
    /// `profile_idc` (by name where it has one).
    pub const PROFILE: &str = "Profile";
    /// `profile_compatibility` (`avcC`) or the compatibility flags (`hvcC`).
    pub const COMPATIBILITY: &str = "Profile Compatibility";
    /// `level_idc`.
    pub const LEVEL: &str = "Level";
    /// `hvcC`: `general_profile_space`.
    pub const PROFILE_SPACE: &str = "Profile Space";
    /// `hvcC`: `general_tier_flag`.
    pub const TIER: &str = "Tier";
}

/// `av1C`.
pub mod av1c {
    /// `seq_profile`.
    pub const PROFILE: &str = "seq_profile";
    /// `seq_level_idx_0`.
    pub const LEVEL: &str = "seq_level_idx_0";
    /// `seq_tier_0`.
    pub const TIER: &str = "seq_tier_0";
}

/// `vpcC`.
pub mod vpcc {
    /// Profile.
    pub const PROFILE: &str = "profile";
    /// Level.
    pub const LEVEL: &str = "level";
    /// Bit depth.
    pub const BIT_DEPTH: &str = "bit depth";
}

/// The `esds` descriptors.
pub mod esds {
    /// DecoderConfigDescriptor's `objectTypeIndication`.
    pub const OBJECT_TYPE: &str = "object_type";
    /// DecoderSpecificInfo, as hex bytes.
    pub const DECODER_SPECIFIC_INFO: &str = "DecoderSpecificInfo";
}

/// `mfhd`.
pub mod mfhd {
    /// The sequence number.
    pub const SEQUENCE_NUMBER: &str = "sequence number";
}

/// `tfhd`.
pub mod tfhd {
    /// The track id.
    pub const TRACK_ID: &str = "track ID";
    /// `base_data_offset`.
    pub const BASE_DATA_OFFSET: &str = "base data offset";
    /// `sample_description_index`.
    pub const DESCRIPTION: &str = "sample description index";
    /// Default sample duration.
    pub const DURATION: &str = "default sample duration";
    /// Default sample size.
    pub const SIZE: &str = "default sample size";
    /// Default sample flags.
    pub const FLAGS: &str = "default sample flags";
}

/// `tfdt`.
pub mod tfdt {
    /// `baseMediaDecodeTime`.
    pub const DECODE_TIME: &str = "base media decode time";
}

/// `trun`.
pub mod trun {
    /// `sample_count`.
    pub const SAMPLE_COUNT: &str = "sample count";
    /// `data_offset`.
    pub const DATA_OFFSET: &str = "data offset";
    /// `first_sample_flags`.
    pub const FIRST_SAMPLE_FLAGS: &str = "first sample flags";
    /// A row's duration (verbosity 2 and up).
    pub const SAMPLE_DURATION: &str = "sample_duration";
    /// A row's size.
    pub const SAMPLE_SIZE: &str = "sample_size";
    /// A row's flags.
    pub const SAMPLE_FLAGS: &str = "sample_flags";
    /// A row's composition time offset.
    pub const SAMPLE_CTO: &str = "sample_composition_time_offset";
}

/// `senc` (and PIFF's sample encryption box).
pub mod senc {
    /// `sample_count`.
    pub const SAMPLE_COUNT: &str = "sample info count";
}

/// `saiz`.
pub mod saiz {
    /// `sample_count`.
    pub const SAMPLE_COUNT: &str = "sample count";
}

/// `sidx`.
pub mod sidx {
    /// Timescale.
    pub const TIMESCALE: &str = "timescale";
    /// `earliest_presentation_time`.
    pub const EARLIEST: &str = "earliest_presentation_time";
    /// `first_offset`.
    pub const FIRST_OFFSET: &str = "first_offset";
    /// A reference's type (1: another index).
    pub const REFERENCE_TYPE: &str = "reference_type";
    /// A reference's size.
    pub const REFERENCED_SIZE: &str = "referenced_size";
    /// A reference's duration.
    pub const SUBSEGMENT_DURATION: &str = "subsegment_duration";
    /// Whether a reference starts with a SAP.
    pub const STARTS_WITH_SAP: &str = "starts_with_SAP";
}

/// Visual sample entries.
pub mod visual {
    /// Width in pixels.
    pub const WIDTH: &str = "width";
    /// Height in pixels.
    pub const HEIGHT: &str = "height";
}

/// Audio sample entries.
pub mod audio {
    /// `channelcount`.
    pub const CHANNEL_COUNT: &str = "channel_count";
    /// `samplerate`, in Hz.
    pub const SAMPLE_RATE: &str = "sample_rate";
}

/// `avcC`'s parameter sets.
pub mod avc_parameter_sets {
    /// A sequence parameter set NAL unit.
    pub const SPS: &str = "Sequence Parameter";
}

/// `pasp`.
pub mod pasp {
    /// `hSpacing`.
    pub const H_SPACING: &str = "h_spacing";
    /// `vSpacing`.
    pub const V_SPACING: &str = "v_spacing";
}

/// `tenc` (and PIFF's track encryption box).
pub mod tenc {
    /// `default_KID`.
    pub const DEFAULT_KID: &str = "default_KID";
}

/// `pssh`.
pub mod pssh {
    /// `SystemID`.
    pub const SYSTEM_ID: &str = "system_id";
    /// `Data`.
    pub const DATA: &str = "data";
}

/// `dac3`.
pub mod dac3 {
    /// `acmod`: the channel mode.
    pub const ACMOD: &str = "acmod";
    /// `lfeon`: whether there is an LFE channel.
    pub const LFEON: &str = "lfeon";
}
