//! The inspector side of [`FactsInspector`]: each field the decoders describe, kept where a
//! check needs it.

use std::io;

use super::{
    FactsInspector, Moof, SampleEntry, Sidx, TopBox, Track, Traf, Trun, as_i64, as_u64,
    audio_object_type, avc_profile, four, hevc_profile,
};
use crate::render::{BoxStart, Inspector, Value};

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
                size: b.size,
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
                                r.durations.1 = r.durations.1.saturating_add(v);
                                r.durations.2 = r.durations.2.max(v);
                            }
                            "sample_size" => {
                                r.sizes.0 += 1;
                                r.sizes.1 = r.sizes.1.saturating_add(as_u64(value).unwrap_or(0));
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
