//! The checker's inspector: from the description of one file's boxes (the same walk the dumps
//! use), the facts the checks compare. Nothing is formatted; per-sample rows are summed as
//! they arrive.

use std::io;

use crate::render::{BoxStart, Inspector, Value};

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
    /// The track a `trex` being read names.
    pending_trex: Option<u64>,
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

/// The audio object type from DecoderSpecificInfo printed as `"hh hh "`.
fn audio_object_type(text: &[u8]) -> Option<u8> {
    let bytes: Vec<u8> = text
        .split(|b| *b == b' ')
        .filter(|s| !s.is_empty())
        .take(2)
        .filter_map(|s| u8::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok())
        .collect();
    let first = *bytes.first()?;
    let aot = first >> 3;
    if aot == 31 {
        let second = *bytes.get(1)?;
        return Some(32 + (((first & 7) << 3) | (second >> 5)));
    }
    Some(aot)
}

impl FactsInspector {
    /// Takes the facts gathered so far and starts afresh for the next file.
    pub fn take(&mut self) -> FileFacts {
        self.stack.clear();
        self.in_row = false;
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
        let Some(track_id) = (name == "track id").then_some(v) else {
            // trex arrives in mvex, after the traks: find the track it names.
            let Some(id) = self.pending_trex else {
                return;
            };
            if let Some(t) = self.facts.tracks.iter_mut().find(|t| t.id == id) {
                let d = &mut t.defaults;
                match name {
                    "default sample description index" => d.description = Some(v),
                    "default sample duration" => d.duration = Some(v),
                    "default sample size" => d.size = Some(v),
                    "default sample flags" => d.flags = Some(v),
                    _ => {}
                }
            }
            return;
        };
        self.pending_trex = Some(track_id);
    }
}

impl Inspector for FactsInspector {
    fn verbosity(&self) -> u8 {
        4
    }

    fn start_box(&mut self, b: &BoxStart<'_>) {
        let typ = if b.descriptor { *b"desc" } else { four(b.name) };
        let depth = self.stack.len();
        let parent = self.parent(0);
        if depth == 0 {
            self.facts.top.push(TopBox {
                typ,
                offset: b.offset,
                size: b.size,
                header: b.header_size,
            });
        }
        match &typ {
            b"moov" if depth == 0 => self.facts.has_moov = true,
            b"trak" if parent == *b"moov" => self.facts.tracks.push(Track::default()),
            _ if parent == *b"stsd" => {
                if let Some(t) = self.track() {
                    t.entries.push(SampleEntry {
                        format: typ,
                        ..SampleEntry::default()
                    });
                }
            }
            b"sinf" => {
                if let Some(e) = self.entry() {
                    e.protected = true;
                }
            }
            b"tenc" => {
                if let Some(e) = self.entry() {
                    e.tenc = true;
                }
            }
            b"uuid" if parent == *b"schi" => {
                // PIFF's track encryption box.
                if let Some(e) = self.entry() {
                    e.tenc = true;
                }
            }
            b"moof" if depth == 0 => self.facts.moofs.push(Moof {
                offset: b.offset,
                ..Moof::default()
            }),
            b"traf" if parent == *b"moof" => {
                if let Some(m) = self.facts.moofs.last_mut() {
                    m.trafs.push(Traf::default());
                }
            }
            b"tfhd" if parent == *b"traf" => {
                if let Some(t) = self.traf() {
                    t.flags = b.flags;
                }
            }
            b"trun" if parent == *b"traf" => {
                if let Some(t) = self.traf() {
                    t.truns.push(Trun::default());
                }
            }
            b"sidx" if depth == 0 => self.facts.sidx.push(Sidx {
                offset: b.offset,
                size: b.size,
                ..Sidx::default()
            }),
            _ => {}
        }
        self.stack.push(typ);
    }

    fn end_box(&mut self) {
        self.stack.pop();
    }

    fn field(&mut self, name: Option<&str>, value: Value<'_>) {
        let Some(name) = name else {
            return;
        };
        let current = self.parent(0);
        match &current {
            b"tkhd" if name == "id" => {
                if let (Some(t), Some(v)) = (self.facts.tracks.last_mut(), as_u64(value)) {
                    t.id = v;
                }
            }
            b"mdhd" if name == "timescale" => {
                if let (Some(t), Some(v)) = (self.facts.tracks.last_mut(), as_u64(value)) {
                    t.timescale = v;
                }
            }
            b"hdlr" if name == "handler_type" && self.in_box(b"mdia") => {
                if let (Some(t), Value::Str(s)) = (self.facts.tracks.last_mut(), value) {
                    t.handler = four(s);
                }
            }
            b"elst" if name == "entry/media time" => {
                if let (Some(t), Some(v)) = (self.facts.tracks.last_mut(), as_i64(value))
                    && t.edit_shift.is_none()
                    && v >= 0
                {
                    t.edit_shift = Some(v);
                }
            }
            b"trex" => {
                if let Some(v) = as_u64(value) {
                    self.trex_field(name, v);
                }
            }
            b"frma" if name == "original_format" => {
                if let (Some(e), Value::Str(s)) = (self.entry(), value) {
                    e.original = Some(four(s));
                }
            }
            b"avcC" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.avc.unwrap_or_default();
                    match name {
                        "Profile" => c.0 = avc_profile(value).unwrap_or(0),
                        "Profile Compatibility" => c.1 = as_u64(value).unwrap_or(0) as u8,
                        "Level" => c.2 = as_u64(value).unwrap_or(0) as u8,
                        _ => {}
                    }
                    e.codec.avc = Some(c);
                }
            }
            b"hvcC" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.hevc.unwrap_or_default();
                    match name {
                        "Profile Space" => c.0 = as_u64(value).unwrap_or(0) as u8,
                        "Profile" => c.1 = hevc_profile(value).unwrap_or(0),
                        "Tier" => c.2 = as_u64(value).unwrap_or(0) as u8,
                        "Level" => c.3 = as_u64(value).unwrap_or(0) as u8,
                        _ => {}
                    }
                    e.codec.hevc = Some(c);
                }
            }
            b"av1C" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.av1.unwrap_or_default();
                    match name {
                        "seq_profile" => c.0 = as_u64(value).unwrap_or(0) as u8,
                        "seq_level_idx_0" => c.1 = as_u64(value).unwrap_or(0) as u8,
                        "seq_tier_0" => c.2 = as_u64(value).unwrap_or(0) as u8,
                        _ => {}
                    }
                    e.codec.av1 = Some(c);
                }
            }
            b"vpcC" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.vp9.unwrap_or_default();
                    match name {
                        "profile" => c.0 = as_u64(value).unwrap_or(0) as u8,
                        "level" => c.1 = as_u64(value).unwrap_or(0) as u8,
                        "bit depth" => c.2 = as_u64(value).unwrap_or(0) as u8,
                        _ => {}
                    }
                    e.codec.vp9 = Some(c);
                }
            }
            b"desc" if self.in_box(b"esds") => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.mp4a.unwrap_or_default();
                    match (name, value) {
                        ("object_type", v) => c.0 = as_u64(v).unwrap_or(0) as u8,
                        ("DecoderSpecificInfo", Value::Str(s)) => c.1 = audio_object_type(s),
                        _ => {}
                    }
                    e.codec.mp4a = Some(c);
                }
            }
            b"mfhd" if name == "sequence number" => {
                if let Some(m) = self.facts.moofs.last_mut() {
                    m.sequence = as_u64(value);
                }
            }
            b"tfhd" => {
                let v = as_u64(value);
                if let Some(t) = self.traf() {
                    match name {
                        "track ID" => t.track_id = v.unwrap_or(0),
                        "base data offset" => t.base_data_offset = v,
                        "sample description index" => t.defaults.description = v,
                        "default sample duration" => t.defaults.duration = v,
                        "default sample size" => t.defaults.size = v,
                        "default sample flags" => t.defaults.flags = v,
                        _ => {}
                    }
                }
            }
            b"tfdt" if name == "base media decode time" => {
                if let Some(t) = self.traf() {
                    t.decode_time = as_u64(value);
                }
            }
            b"trun" => {
                let in_row = self.in_row;
                let first_row = self.row_index == 0;
                if let Some(r) = self.trun() {
                    if in_row {
                        match name {
                            "sample_duration" => {
                                let v = as_u64(value).unwrap_or(0);
                                r.durations.0 += 1;
                                r.durations.1 += v;
                                r.durations.2 = r.durations.2.max(v);
                            }
                            "sample_size" => {
                                r.sizes.0 += 1;
                                r.sizes.1 += as_u64(value).unwrap_or(0);
                            }
                            "sample_flags" if first_row => r.first_row_flags = as_u64(value),
                            "sample_composition_time_offset" if first_row => {
                                r.first_cto = as_i64(value);
                            }
                            _ => {}
                        }
                    } else {
                        match name {
                            "sample count" => r.count = as_u64(value).unwrap_or(0),
                            "data offset" => r.data_offset = as_i64(value),
                            "first sample flags" => r.first_flags = as_u64(value),
                            _ => {}
                        }
                    }
                }
            }
            b"senc" | b"uuid" if name == "sample info count" && self.in_box(b"traf") => {
                if let Some(t) = self.traf() {
                    t.senc = as_u64(value);
                }
            }
            b"saiz" if name == "sample_count" && self.in_box(b"traf") => {
                if let Some(t) = self.traf() {
                    t.saiz = as_u64(value);
                }
            }
            b"sidx" => {
                let v = as_u64(value).unwrap_or(0);
                let in_row = self.in_row;
                if let Some(s) = self.facts.sidx.last_mut() {
                    if in_row {
                        if let Some(r) = s.references.last_mut() {
                            match name {
                                "reference_type" => r.0 = v,
                                "referenced_size" => r.1 = v,
                                "subsegment_duration" => r.2 = v,
                                "starts_with_SAP" => r.3 = v != 0,
                                _ => {}
                            }
                        }
                    } else {
                        match name {
                            "timescale" => s.timescale = v,
                            "earliest_presentation_time" => s.earliest = v,
                            "first_offset" => s.first_offset = v,
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn start_table(&mut self, _name: &str) {
        self.row_index = 0;
    }

    fn end_table(&mut self) {}

    fn start_object(&mut self, _compact: bool) {
        self.in_row = true;
        if self.parent(0) == *b"sidx"
            && let Some(s) = self.facts.sidx.last_mut()
        {
            s.references.push((0, 0, 0, false));
        }
        if self.parent(0) == *b"trun"
            && let Some(r) = self.trun()
        {
            r.rows += 1;
        }
    }

    fn end_object(&mut self) {
        self.in_row = false;
        self.row_index += 1;
    }

    fn note(&mut self, offset: u64, text: &str) {
        self.facts.malformed.push((offset, text.to_string()));
    }

    fn io_error(&mut self) -> Option<io::Error> {
        None
    }
}
