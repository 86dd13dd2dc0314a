//! The checker's inspector: from the description of one file's boxes (the same walk the dumps
//! use), the facts the checks compare. Nothing is formatted; per-sample rows are summed as
//! they arrive.

use crate::render::Value;

/// The codec configuration of a sample entry, as far as `@codecs` can say something about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodecConfig {
    /// `avcC`: profile, compatibility, level.
    pub avc: Option<(u8, u8, u8)>,
    /// `hvcC`: profile space, profile, tier, level.
    pub hevc: Option<(u8, u8, u8, u8)>,
    /// `esds`: object type indication, and the audio object type of its DecoderSpecificInfo.
    pub mp4a: Option<(u8, Option<u8>)>,
    /// `av1C`: profile, level, tier.
    pub av1: Option<(u8, u8, u8)>,
    /// `vpcC`: profile, level, bit depth.
    pub vp9: Option<(u8, u8, u8)>,
}

/// A sample entry of a track's `stsd`.
#[derive(Debug, Clone, Default)]
pub struct SampleEntry {
    /// Its four-character code (`avc1`, `encv`, …).
    pub format: [u8; 4],
    /// `frma`: the format before encryption.
    pub original: Option<[u8; 4]>,
    /// Whether it holds a `sinf`.
    pub protected: bool,
    /// Whether its `sinf` holds a `tenc` (or PIFF's track encryption box).
    pub tenc: bool,
    /// Its configuration.
    pub codec: CodecConfig,
    /// A visual entry's width and height, in pixels.
    pub size: Option<(u64, u64)>,
    /// `avcC`'s first sequence parameter set (NAL header included).
    pub sps: Option<Vec<u8>>,
    /// `pasp`: horizontal and vertical spacing.
    pub pasp: Option<(u64, u64)>,
    /// An audio entry's `channelcount` and `samplerate`.
    pub channel_count: Option<u64>,
    /// In Hz.
    pub sample_rate: Option<u64>,
    /// `esds`'s DecoderSpecificInfo (an AAC AudioSpecificConfig).
    pub decoder_specific_info: Option<Vec<u8>>,
    /// `dac3`: `acmod` and `lfeon`.
    pub ac3: Option<(u64, u64)>,
    /// `tenc`'s `default_KID`.
    pub default_kid: Option<Vec<u8>>,
}

/// Defaults for a track's fragments (`trex`, or `tfhd` overriding them).
#[derive(Debug, Clone, Copy, Default)]
pub struct Defaults {
    /// Sample description index.
    pub description: Option<u64>,
    /// Sample duration.
    pub duration: Option<u64>,
    /// Sample size.
    pub size: Option<u64>,
    /// Sample flags.
    pub flags: Option<u64>,
}

/// A track of the init segment.
#[derive(Debug, Clone, Default)]
pub struct Track {
    /// `tkhd` track id.
    pub id: u64,
    /// `mdhd` timescale.
    pub timescale: u64,
    /// `hdlr` handler type.
    pub handler: [u8; 4],
    /// `stsd` entries.
    pub entries: Vec<SampleEntry>,
    /// Media time of the first edit that is not empty (`elst`), the shift of the presentation
    /// timeline against the media timeline.
    pub edit_shift: Option<i64>,
    /// `trex`.
    pub defaults: Defaults,
}

/// A `trun`, its rows summed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trun {
    /// `sample count`.
    pub count: u64,
    /// `data offset`.
    pub data_offset: Option<i64>,
    /// `first sample flags`.
    pub first_flags: Option<u64>,
    /// Rows that carry a duration, and their sum and maximum.
    pub durations: (u64, u64, u64),
    /// Rows that carry a size, and their sum.
    pub sizes: (u64, u64),
    /// The first row's flags and composition offset, when given.
    pub first_row_flags: Option<u64>,
    /// The first row's composition offset.
    pub first_cto: Option<i64>,
    /// Rows seen.
    pub rows: u64,
}

/// A `traf`.
#[derive(Debug, Clone, Default)]
pub struct Traf {
    /// `tfhd` track id.
    pub track_id: u64,
    /// `tfhd` flags.
    pub flags: u32,
    /// `tfhd` base data offset.
    pub base_data_offset: Option<u64>,
    /// `tfhd` defaults.
    pub defaults: Defaults,
    /// `tfdt`.
    pub decode_time: Option<u64>,
    /// The runs.
    pub truns: Vec<Trun>,
    /// `senc` sample count.
    pub senc: Option<u64>,
    /// `saiz` sample count.
    pub saiz: Option<u64>,
}

/// A `moof`.
#[derive(Debug, Clone, Default)]
pub struct Moof {
    /// Offset in its file.
    pub offset: u64,
    /// Size.
    pub size: u64,
    /// Whether the walk found something malformed inside it: its facts are incomplete.
    pub damaged: bool,
    /// `mfhd` sequence number.
    pub sequence: Option<u64>,
    /// Track fragments.
    pub trafs: Vec<Traf>,
}

/// A `sidx`.
#[derive(Debug, Clone, Default)]
pub struct Sidx {
    /// Offset in its file.
    pub offset: u64,
    /// Size.
    pub size: u64,
    /// Timescale.
    pub timescale: u64,
    /// Earliest presentation time.
    pub earliest: u64,
    /// Bytes from the end of the `sidx` to the first referenced byte.
    pub first_offset: u64,
    /// References: (type, size, duration, starts with SAP).
    pub references: Vec<(u64, u64, u64, bool)>,
}

impl Sidx {
    /// Where its first referenced byte is, in the bytes it was read from (ISO/IEC 14496-12
    /// §8.16.3: `first_offset` bytes after the end of the box).
    pub fn references_start(&self) -> u64 {
        self.offset
            .saturating_add(self.size)
            .saturating_add(self.first_offset)
    }
}

/// A top-level box.
#[derive(Debug, Clone, Copy)]
pub struct TopBox {
    /// Type.
    pub typ: [u8; 4],
    /// Offset.
    pub offset: u64,
    /// Size.
    pub size: u64,
    /// Header size.
    pub header: u64,
}

/// Everything the checks need from one file.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// Tracks of a `moov`.
    pub tracks: Vec<Track>,
    /// Whether the file holds a `moov`.
    pub has_moov: bool,
    /// Movie fragments, in order.
    pub moofs: Vec<Moof>,
    /// Segment indexes, in order.
    pub sidx: Vec<Sidx>,
    /// Top-level boxes, in order.
    pub top: Vec<TopBox>,
    /// What the walk found malformed: offset and reason.
    pub malformed: Vec<(u64, String)>,
    /// `pssh` boxes: system id and data.
    pub pssh: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Collects [`FileFacts`] from a walk. Runs at verbosity 4, where the walk says what is
/// malformed and why.
#[derive(Debug, Default)]
pub struct FactsInspector {
    facts: FileFacts,
    /// Open boxes (descriptors as `desc`).
    stack: Vec<[u8; 4]>,
    /// Whether a table row is open.
    in_row: bool,
    /// Rows of the current table.
    row_index: u64,
    /// The `trex` boxes read, by track: applied to the tracks when the file ends, since
    /// `mvex` may come before the `trak`s (ISO/IEC 14496-12 §6.2.3 only recommends an order).
    trex: Vec<(u64, Defaults)>,
}

fn four(name: &[u8]) -> [u8; 4] {
    if name.len() == 36 {
        return *b"uuid";
    }
    let mut out = [b' '; 4];
    for (o, b) in out.iter_mut().zip(name) {
        *o = *b;
    }
    out
}

fn as_u64(v: Value<'_>) -> Option<u64> {
    match v {
        Value::Uint(n) | Value::Hex(n) => Some(n),
        Value::Int(n) => u64::try_from(n).ok(),
        _ => None,
    }
}

fn as_i64(v: Value<'_>) -> Option<i64> {
    match v {
        Value::Uint(n) | Value::Hex(n) => i64::try_from(n).ok(),
        Value::Int(n) => Some(n),
        _ => None,
    }
}

/// `avcC` profile names back to `profile_idc`.
fn avc_profile(v: Value<'_>) -> Option<u8> {
    match v {
        Value::Str(b"Baseline") => Some(66),
        Value::Str(b"Main") => Some(77),
        Value::Str(b"Extended") => Some(88),
        Value::Str(b"High") => Some(100),
        Value::Str(b"High 10") => Some(110),
        Value::Str(b"High 4:2:2") => Some(122),
        Value::Str(b"High 4:4:4") => Some(144),
        other => as_u64(other).and_then(|n| u8::try_from(n).ok()),
    }
}

/// `hvcC` profile names back to `general_profile_idc`.
fn hevc_profile(v: Value<'_>) -> Option<u8> {
    match v {
        Value::Str(b"Main") => Some(1),
        Value::Str(b"Main 10") => Some(2),
        Value::Str(b"Main Still Picture") => Some(3),
        Value::Str(b"Rext") => Some(4),
        other => as_u64(other).and_then(|n| u8::try_from(n).ok()),
    }
}

/// The bytes of a field printed as `"hh hh "`.
fn hex_bytes(text: &[u8]) -> Vec<u8> {
    text.split(|b| *b == b' ')
        .filter(|s| !s.is_empty())
        .filter_map(|s| u8::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok())
        .collect()
}

/// The audio object type from DecoderSpecificInfo printed as `"hh hh "`.
fn audio_object_type(text: &[u8]) -> Option<u8> {
    super::aac::parse(&hex_bytes(text)).map(|c| c.object_type)
}

impl FactsInspector {
    /// Takes the facts gathered so far and starts afresh for the next file.
    pub fn take(&mut self) -> FileFacts {
        self.stack.clear();
        self.in_row = false;
        for (id, defaults) in self.trex.drain(..) {
            if let Some(t) = self.facts.tracks.iter_mut().find(|t| t.id == id) {
                t.defaults = defaults;
            }
        }
        std::mem::take(&mut self.facts)
    }

    fn parent(&self, up: usize) -> [u8; 4] {
        let n = self.stack.len();
        if n > up {
            self.stack[n - 1 - up]
        } else {
            [0; 4]
        }
    }

    fn in_box(&self, typ: &[u8; 4]) -> bool {
        self.stack.iter().any(|t| t == typ)
    }

    fn track(&mut self) -> Option<&mut Track> {
        self.facts.tracks.last_mut()
    }

    fn entry(&mut self) -> Option<&mut SampleEntry> {
        if !self.in_box(b"stsd") {
            return None;
        }
        self.facts.tracks.last_mut()?.entries.last_mut()
    }

    fn traf(&mut self) -> Option<&mut Traf> {
        self.facts.moofs.last_mut()?.trafs.last_mut()
    }

    fn trun(&mut self) -> Option<&mut Trun> {
        self.traf()?.truns.last_mut()
    }

    fn trex_field(&mut self, name: &str, v: u64) {
        use crate::boxes::fields::trex;
        if name == trex::TRACK_ID {
            self.trex.push((v, Defaults::default()));
            return;
        }
        let Some((_, d)) = self.trex.last_mut() else {
            return;
        };
        match name {
            trex::DESCRIPTION => d.description = Some(v),
            trex::DURATION => d.duration = Some(v),
            trex::SIZE => d.size = Some(v),
            trex::FLAGS => d.flags = Some(v),
            _ => {}
        }
    }
}

/// The facts of one file's box structure (its bytes but its media payloads).
pub fn facts_of_skeleton(skeleton: &crate::isobmff::Skeleton) -> FileFacts {
    let mut inspector = FactsInspector::default();
    // In memory nothing fails to read; what does not parse is among the facts.
    let _ = crate::boxes::walk_file(
        &mut crate::isobmff::Source::new(skeleton.reader()),
        skeleton.len(),
        &mut inspector,
    );
    inspector.take()
}

/// The facts of bytes in memory.
pub fn facts_of_bytes(bytes: &[u8]) -> FileFacts {
    let mut skeleton = crate::isobmff::Skeleton::new();
    skeleton.push(bytes);
    facts_of_skeleton(&skeleton)
}

/// The facts of one file on disk (a file the download did not hold in memory).
pub fn facts_of_file(path: &std::path::Path) -> std::io::Result<(u64, FileFacts)> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut inspector = FactsInspector::default();
    crate::boxes::walk_file(
        &mut crate::isobmff::Source::new(&mut file),
        len,
        &mut inspector,
    )?;
    Ok((len, inspector.take()))
}

mod inspect;

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts of a committed fixture file.
    fn facts_of(relative: &str) -> FileFacts {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(relative);
        let mut file = std::fs::File::open(&path).expect(relative);
        let len = file.metadata().unwrap().len();
        let mut inspector = FactsInspector::default();
        crate::boxes::walk_file(
            &mut crate::isobmff::Source::new(&mut file),
            len,
            &mut inspector,
        )
        .expect("walks");
        let facts = inspector.take();
        assert!(
            facts.malformed.is_empty(),
            "{relative}: {:?}",
            facts.malformed
        );
        facts
    }

    /// Every fact a check reads arrives from the decoders, on real files of several
    /// packagers: a label renamed on one side only would leave one of these empty.
    #[test]
    fn every_fact_the_checks_need_is_delivered() {
        // Init segments: track, timescale, handler, trex defaults, edit list, configurations.
        let video = facts_of("dash/template-number/init-stream0.m4s");
        let t = &video.tracks[0];
        assert!(video.has_moov && t.id > 0 && t.timescale > 0, "{t:?}");
        assert_eq!(&t.handler, b"vide");
        assert!(t.defaults.description.is_some() && t.defaults.duration.is_some());
        assert!(t.defaults.size.is_some() && t.defaults.flags.is_some());
        assert_eq!(t.entries[0].codec.avc, Some((66, 0xc0, 13)), "{t:?}");
        let audio = facts_of("dash/template-number/init-stream2.m4s");
        let a = &audio.tracks[0];
        assert_eq!(&a.handler, b"soun");
        assert_eq!(a.entries[0].codec.mp4a, Some((0x40, Some(2))));
        assert!(a.edit_shift.is_some(), "ffmpeg's AAC priming edit: {a:?}");
        let hevc = facts_of("generated/hevc-frag.mp4");
        assert!(
            hevc.tracks[0].entries[0]
                .codec
                .hevc
                .is_some_and(|c| c.1 > 0 && c.3 > 0)
        );
        let av1 = facts_of("generated/av1.mp4");
        assert!(av1.tracks[0].entries[0].codec.av1.is_some());
        let vp9 = facts_of("generated/vp9.mp4");
        assert!(vp9.tracks[0].entries[0].codec.vp9.is_some_and(|c| c.2 > 0));
        // Media segments: sequence, track, decode time, every trun field and row.
        let media = facts_of("dash/template-number/chunk-stream0-00002.m4s");
        let moof = &media.moofs[0];
        assert!(moof.sequence.is_some_and(|s| s > 0));
        let traf = &moof.trafs[0];
        assert!(traf.track_id > 0 && traf.decode_time.is_some_and(|t| t > 0));
        let run = &traf.truns[0];
        assert!(run.count > 0 && run.rows == run.count && run.data_offset.is_some());
        assert!(run.sizes.0 == run.count && run.sizes.1 > 0);
        assert!(run.first_flags.is_some() || run.first_row_flags.is_some());
        assert!(run.durations.0 == run.count || traf.defaults.duration.is_some());
        // Encryption: protection, original format, tenc, senc and saiz counts.
        let init = facts_of("bento4-dash/cenc/video/avc1/init.mp4");
        let entry = &init.tracks[0].entries[0];
        assert!(entry.protected && entry.tenc && entry.original == Some(*b"avc1"));
        let encrypted = facts_of("bento4-dash/cenc/video/avc1/seg-2.m4s");
        let traf = &encrypted.moofs[0].trafs[0];
        let samples: u64 = traf.truns.iter().map(|r| r.count).sum();
        assert_eq!((traf.senc, traf.saiz), (Some(samples), Some(samples)));
        assert!(traf.defaults.duration.is_some() || traf.truns[0].durations.0 > 0);
        // Segment index: its header and every reference.
        let indexed = facts_of("dash/single-file/manifest-stream0.mp4");
        let sidx = &indexed.sidx[0];
        assert!(sidx.timescale > 0 && !sidx.references.is_empty());
        assert!(
            sidx.references
                .iter()
                .all(|r| r.0 == 0 && r.1 > 0 && r.2 > 0 && r.3),
            "{sidx:?}"
        );
    }

    #[test]
    fn audio_object_types() {
        let rows: [(&[u8], Option<u8>); 5] = [
            (b"12 10 ", Some(2)),
            (b"13 08 56 e5 00 ", Some(2)),
            (b"2b 92 08 00 ", Some(5)),
            (b"f8 e0 ", Some(39)),
            (b"", None),
        ];
        for (text, want) in rows {
            assert_eq!(
                audio_object_type(text),
                want,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
