//! The box decoders: one per box type, grouped by family, each describing its fields to an
//! [`Inspector`](crate::render::Inspector).
//!
//! [`lookup`] is the registry: it says how a box type is handled where it appears (a plain
//! container, a decoder for its fields, a sample entry, or a header only), following the
//! choices Bento4's `mp4dump` makes so that verbosity 0–3 print what Bento4 prints. Decoders
//! marked [`Gate::Extended`] are ours: boxes Bento4 prints as a header only, decoded at
//! verbosity 4. The tree walk itself is in [`walk`].

mod ac4;
mod codec;
mod descriptors;
mod encryption;
mod extended;
pub mod fields;
mod fragments;
mod hint;
mod metadata;
mod movie;
mod sample_entry;
mod sample_table;
mod walk;

pub use walk::{WalkStats, walk_file};

use crate::isobmff::{Cursor, FourCC, Short};
use crate::render::Inspector;

/// A decoder gave up on a box (too short, unsupported version): Bento4 then prints the box as a
/// header only, and so do we.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject;

impl From<Short> for Reject {
    fn from(_: Short) -> Self {
        Reject
    }
}

/// What a decoder returns.
pub type Decoded = Result<(), Reject>;

/// The full-box header fields and the box size, as a decoder sees them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Full {
    /// Version byte (0 for boxes that are not full boxes).
    pub version: u8,
    /// 24-bit flags (0 for boxes that are not full boxes).
    pub flags: u32,
    /// Header size as printed (plain header, +4 for a full box).
    pub header: u64,
    /// Total size of the box.
    pub size: u64,
    /// Position in the file of the first byte the decoder reads (after version and flags).
    pub body_offset: u64,
    /// Inside a `traf`: the samples its `trun` boxes declare (0 elsewhere). Bounds what a
    /// sample-indexed box without per-sample bytes (`senc` with a constant IV) may print.
    pub fragment_samples: u64,
}

/// A decoder: reads the payload after the (full-box) header and describes its fields.
pub type Decode = fn(&mut Cursor<'_>, &Full, &mut dyn Inspector) -> Decoded;

/// At which verbosities a decoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Always (Bento4 decodes this box).
    Always,
    /// Only at verbosity 4 (Bento4 prints this box as a header only).
    Extended,
}

/// A box whose fields a function decodes.
#[derive(Debug, Clone, Copy)]
pub struct Leaf {
    /// Whether the payload starts with version and flags.
    pub full: bool,
    /// The decoder.
    pub decode: Decode,
    /// When it runs.
    pub gate: Gate,
}

/// The kinds of sample entries Bento4 tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Video: width, height, compressor name; then child boxes.
    Visual,
    /// Audio: channel count, sample size, sample rate; then child boxes.
    Audio,
    /// `mlpa` (TrueHD): audio, but the sample rate is the whole 32-bit field.
    Mlp,
    /// `mp4s`: data reference index; then child boxes.
    System,
    /// `rtp `: hint track fields; then child boxes.
    RtpHint,
    /// `stpp`: XML namespace, schema location, MIME type; then child boxes.
    Subtitle,
    /// Any other entry in `stsd`: data reference index only (children not parsed).
    Other,
}

/// How a box is handled where it appears.
#[derive(Debug, Clone, Copy)]
pub enum Handling {
    /// Header line only.
    HeaderOnly,
    /// Children only.
    Container,
    /// Full-box container (`meta`): version/flags, then children.
    FullContainer,
    /// Fields decoded by a function.
    Leaf(Leaf),
    /// `stsd`: entry count, then sample entries.
    SampleDescriptions,
    /// `dref`: children only, read after an entry count.
    DataReferences,
    /// A sample entry (child of `stsd`).
    SampleEntry(EntryKind),
}

/// One row of the registry: everything the walker needs to know about a box type where it
/// appears. The handling says whether it is a full box and at which verbosity its decoder
/// runs; `refuses_largesize` is Bento4's refusal of the 64-bit size form for this box (the box
/// and the rest of its list are then dropped).
#[derive(Debug, Clone, Copy)]
pub struct BoxKind {
    /// How the box is printed.
    pub handling: Handling,
    /// Whether a 64-bit size ends the box list here, as in Bento4.
    pub refuses_largesize: bool,
}

/// A row: a handling and Bento4's largesize rule.
const fn row(handling: Handling, refuses_largesize: bool) -> BoxKind {
    BoxKind {
        handling,
        refuses_largesize,
    }
}

/// Bento4 decodes it: fields at every verbosity; no 64-bit size.
const fn leaf(full: bool, decode: Decode) -> BoxKind {
    row(
        Handling::Leaf(Leaf {
            full,
            decode,
            gate: Gate::Always,
        }),
        true,
    )
}

/// Bento4 decodes it and accepts a 64-bit size.
const fn leaf_any_size(full: bool, decode: Decode) -> BoxKind {
    let mut kind = leaf(full, decode);
    kind.refuses_largesize = false;
    kind
}

/// Ours, at verbosity 4 only: Bento4 prints a header only (and accepts a 64-bit size).
const fn extended(full: bool, decode: Decode) -> BoxKind {
    row(
        Handling::Leaf(Leaf {
            full,
            decode,
            gate: Gate::Extended,
        }),
        false,
    )
}

/// A plain container Bento4 knows: children only; no 64-bit size.
const CONTAINER: BoxKind = row(Handling::Container, true);
/// Header only, any size.
const HEADER_ONLY: BoxKind = row(Handling::HeaderOnly, false);
/// Header only (neither of us decodes it here), but Bento4 refuses it with a 64-bit size.
const HEADER_ONLY_32: BoxKind = row(Handling::HeaderOnly, true);

/// The PIFF track encryption box's extended type.
pub const PIFF_TRACK_ENCRYPTION: [u8; 16] = [
    0x89, 0x74, 0xdb, 0xce, 0x7b, 0xe7, 0x4c, 0x51, 0x84, 0xf9, 0x71, 0x48, 0xf9, 0x88, 0x25, 0x54,
];
/// The PIFF sample encryption box's extended type.
pub const PIFF_SAMPLE_ENCRYPTION: [u8; 16] = [
    0xa2, 0x39, 0x4f, 0x52, 0x5a, 0x9b, 0x4f, 0x14, 0xa2, 0x44, 0x6c, 0x42, 0x7c, 0x64, 0x8d, 0xf4,
];

/// The registry: how the box `typ` (with extended type `uuid`) is handled inside a box of type
/// `parent` (`FourCC::default()` at the top level; for the children of `stsd` the caller asks
/// [`lookup_sample_entry`] instead). Adding a box is one row here (and its decoder).
pub fn lookup(typ: FourCC, uuid: Option<&[u8; 16]>, parent: FourCC) -> BoxKind {
    let in_parent = |p: &[u8; 4]| parent == FourCC::new(p);
    match &typ.0 {
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"dinf" | b"edts" | b"mvex" | b"moof"
        | b"traf" | b"mfra" | b"tref" | b"udta" | b"ilst" | b"schi" | b"sinf" | b"hnti"
        | b"mdri" | b"wave" => CONTAINER,
        b"marl" if parent == FourCC::default() => row(Handling::Container, false),
        b"meta" | b"odrm" | b"odkm" => row(Handling::FullContainer, false),
        b"stsd" => row(Handling::SampleDescriptions, true),
        b"dref" => row(Handling::DataReferences, true),
        b"ftyp" => leaf(false, movie::ftyp),
        b"mvhd" => leaf(true, movie::mvhd),
        b"tkhd" => leaf(true, movie::tkhd),
        b"mdhd" => leaf(true, movie::mdhd),
        b"hdlr" => leaf(true, movie::hdlr),
        b"vmhd" => leaf(true, movie::vmhd),
        b"smhd" => leaf(true, movie::smhd),
        b"nmhd" | b"sthd" => leaf(true, movie::no_fields_v0),
        b"hmhd" => leaf(true, movie::hmhd),
        b"url " => leaf(true, movie::url),
        b"elst" => leaf(true, movie::elst),
        b"hint" | b"cdsc" | b"sync" | b"mpod" | b"dpnd" | b"ipir" | b"alis" | b"chap"
            if in_parent(b"tref") =>
        {
            leaf(false, movie::tref_type)
        }
        b"mehd" => leaf(true, fragments::mehd),
        b"trex" => leaf(true, fragments::trex),
        b"mfhd" => leaf(true, fragments::mfhd),
        b"tfhd" => leaf(true, fragments::tfhd),
        b"tfdt" => leaf(true, fragments::tfdt),
        b"trun" => leaf(true, fragments::trun),
        b"sidx" => leaf(true, fragments::sidx),
        b"tfra" => leaf(true, fragments::tfra),
        b"mfro" => leaf(true, fragments::mfro),
        b"stts" => leaf(true, sample_table::stts),
        b"ctts" => leaf(true, sample_table::ctts),
        b"stss" => leaf(true, sample_table::stss),
        b"stsc" => leaf(true, sample_table::stsc),
        b"stsz" => leaf(true, sample_table::stsz),
        b"stz2" => leaf(true, sample_table::stz2),
        b"stco" => leaf(true, sample_table::stco),
        b"co64" => leaf(true, sample_table::co64),
        b"sgpd" => leaf(true, sample_table::sgpd),
        b"sbgp" => leaf(true, sample_table::sbgp),
        b"saiz" => leaf(true, sample_table::saiz),
        b"saio" => leaf(true, sample_table::saio),
        b"avcC" | b"avcE" => leaf(false, codec::avcc),
        b"hvcC" | b"hvcE" => leaf(false, codec::hvcc),
        b"av1C" => leaf(false, codec::av1c),
        b"vpcC" => leaf(true, codec::vpcc),
        b"dvcC" | b"dvvC" => leaf(false, codec::dvcc),
        b"colr" => leaf(false, codec::colr),
        b"dac3" if in_parent(b"ac-3") || in_parent(b"enca") => leaf(false, codec::dac3),
        b"dec3" if in_parent(b"ec-3") || in_parent(b"enca") => leaf(false, codec::dec3),
        b"dac4" if in_parent(b"ac-4") || in_parent(b"enca") => leaf(false, ac4::dac4),
        b"dmlp" if in_parent(b"mlpa") || in_parent(b"enca") => leaf(false, codec::dmlp),
        // Elsewhere Bento4 prints them as a header only, but still refuses a 64-bit size.
        b"dac3" | b"dec3" | b"dac4" | b"dmlp" => HEADER_ONLY_32,
        b"tims" => leaf(false, hint::tims),
        b"sdp " => leaf(false, hint::sdp),
        b"rtp " => leaf(false, hint::rtp),
        b"esds" => leaf(true, descriptors::esds),
        b"iods" => leaf(true, descriptors::iods),
        b"tenc" => leaf(true, encryption::tenc),
        b"senc" => leaf(true, encryption::senc),
        b"schm" => leaf(true, encryption::schm),
        b"frma" => leaf(false, encryption::frma),
        b"pssh" => leaf(true, encryption::pssh),
        b"uuid" => match uuid {
            Some(u) if *u == PIFF_TRACK_ENCRYPTION => leaf_any_size(true, encryption::piff_tenc),
            Some(u) if *u == PIFF_SAMPLE_ENCRYPTION => leaf_any_size(true, encryption::senc),
            _ => HEADER_ONLY,
        },
        b"data" if metadata::is_ilst_item(parent) => leaf_any_size(false, metadata::data),
        b"titl" | b"dscp" | b"cprt" | b"perf" | b"auth" | b"gnre" if in_parent(b"udta") => {
            leaf_any_size(true, metadata::udta_string)
        }
        b"mean" | b"name" if in_parent(b"----") => leaf_any_size(false, metadata::mean_name),
        _ if in_parent(b"ilst") && metadata::is_ilst_item(typ) => row(Handling::Container, false),
        // Boxes Bento4 decodes and we print as a header only (DRM and rare ones).
        b"8bdl" | b"ikms" | b"isfm" | b"islt" | b"odhe" | b"ohdr" | b"odaf" | b"grpi" | b"ipro"
        | b"pdin" | b"bloc" | b"ainf" | b"mkid" => HEADER_ONLY_32,
        // Ours, at verbosity 4: boxes Bento4 prints as a header only.
        b"styp" => extended(false, movie::ftyp),
        b"urn " => extended(true, extended::urn),
        b"pasp" => extended(false, extended::pasp),
        b"btrt" => extended(false, extended::btrt),
        b"clap" => extended(false, extended::clap),
        b"fiel" => extended(false, extended::fiel),
        b"sdtp" => extended(true, extended::sdtp),
        b"subs" => extended(true, extended::subs),
        b"emsg" => extended(true, extended::emsg),
        b"prft" => extended(true, extended::prft),
        b"ssix" => extended(true, extended::ssix),
        b"dOps" => extended(false, extended::dops),
        b"dfLa" => extended(true, extended::dfla),
        b"kind" => extended(true, extended::kind),
        b"elng" => extended(true, extended::elng),
        _ => HEADER_ONLY,
    }
}

/// How a child of `stsd` is handled (Bento4 reads every child of `stsd` as a sample entry).
pub fn lookup_sample_entry(typ: FourCC) -> EntryKind {
    match &typ.0 {
        b"avc1" | b"avc2" | b"avc3" | b"avc4" | b"dvav" | b"dva1" | b"hev1" | b"hvc1" | b"dvhe"
        | b"dvh1" | b"av01" | b"vp08" | b"vp09" | b"vp10" | b"mp4v" | b"encv" | b"drmi" => {
            EntryKind::Visual
        }
        b"mp4a" | b"enca" | b"drms" | b"ac-3" | b"ec-3" | b"ac-4" | b"alac" | b"dtsc" | b"dtsh"
        | b"dtsl" | b"dtse" | b"fLaC" | b"Opus" => EntryKind::Audio,
        b"mlpa" => EntryKind::Mlp,
        b"mp4s" => EntryKind::System,
        b"rtp " => EntryKind::RtpHint,
        b"stpp" => EntryKind::Subtitle,
        _ => EntryKind::Other,
    }
}

/// Bento4's name for a `uuid` box: the extended type as uppercase hex in groups 12-4-4-4-8.
pub fn uuid_name(u: &[u8; 16]) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = [b'-'; 36];
    let mut o = 0;
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 6 | 8 | 10 | 12) {
            o += 1;
        }
        out[o] = HEX[usize::from(b >> 4)];
        out[o + 1] = HEX[usize::from(b & 15)];
        o += 2;
    }
    out
}

#[cfg(test)]
mod tests;
