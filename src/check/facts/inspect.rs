//! The inspector side of [`FactsInspector`]: each field the decoders describe, kept where a
//! check needs it.

use std::io;

use super::{
    FactsInspector, Moof, SampleEntry, Sidx, TopBox, Track, Traf, Trun, as_i64, as_u64,
    audio_object_type, avc_profile, four, hevc_profile, hex_bytes,
};
use crate::boxes::fields::{
    audio, av1c, avc_parameter_sets, avcc, dac3, elst, esds, frma, hdlr, mdhd, mfhd, pasp, pssh,
    saiz, senc, sidx, tenc, tfdt, tfhd, tkhd, trun, visual, vpcc,
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
        if self.parent(1) == *b"stsd" {
            // The sample entry's own fields.
            let v = as_u64(value);
            if let Some(e) = self.entry() {
                match name {
                    visual::WIDTH => e.size = Some((v.unwrap_or(0), e.size.map_or(0, |s| s.1))),
                    visual::HEIGHT => e.size = Some((e.size.map_or(0, |s| s.0), v.unwrap_or(0))),
                    audio::CHANNEL_COUNT => e.channel_count = v,
                    audio::SAMPLE_RATE => e.sample_rate = v,
                    _ => {}
                }
            }
            return;
        }
        match &current {
            b"pasp" => {
                let v = as_u64(value).unwrap_or(0);
                if let Some(e) = self.entry() {
                    let (h, s) = e.pasp.unwrap_or((0, 0));
                    match name {
                        pasp::H_SPACING => e.pasp = Some((v, s)),
                        pasp::V_SPACING => e.pasp = Some((h, v)),
                        _ => {}
                    }
                }
            }
            b"dac3" => {
                let v = as_u64(value).unwrap_or(0);
                if let Some(e) = self.entry() {
                    let (m, l) = e.ac3.unwrap_or((0, 0));
                    match name {
                        dac3::ACMOD => e.ac3 = Some((v, l)),
                        dac3::LFEON => e.ac3 = Some((m, v)),
                        _ => {}
                    }
                }
            }
            b"tenc" | b"uuid" if name == tenc::DEFAULT_KID => {
                if let (Some(e), Value::Bytes(kid)) = (self.entry(), value) {
                    e.default_kid = Some(kid.to_vec());
                }
            }
            b"pssh" => match (name, value) {
                (pssh::SYSTEM_ID, Value::Bytes(system)) => {
                    self.facts.pssh.push((system.to_vec(), Vec::new()));
                }
                (pssh::DATA, Value::Bytes(data)) => {
                    if let Some(last) = self.facts.pssh.last_mut() {
                        last.1 = data.to_vec();
                    }
                }
                _ => {}
            },
            b"tkhd" if name == tkhd::ID => {
                if let (Some(t), Some(v)) = (self.facts.tracks.last_mut(), as_u64(value)) {
                    t.id = v;
                }
            }
            b"mdhd" if name == mdhd::TIMESCALE => {
                if let (Some(t), Some(v)) = (self.facts.tracks.last_mut(), as_u64(value)) {
                    t.timescale = v;
                }
            }
            b"hdlr" if name == hdlr::HANDLER_TYPE && self.in_box(b"mdia") => {
                if let (Some(t), Value::Str(s)) = (self.facts.tracks.last_mut(), value) {
                    t.handler = four(s);
                }
            }
            b"elst" if name == elst::MEDIA_TIME => {
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
            b"frma" if name == frma::ORIGINAL_FORMAT => {
                if let (Some(e), Value::Str(s)) = (self.entry(), value) {
                    e.original = Some(four(s));
                }
            }
            b"avcC" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.avc.unwrap_or_default();
                    match name {
                        avcc::PROFILE => c.0 = avc_profile(value).unwrap_or(0),
                        avcc::COMPATIBILITY => c.1 = as_u64(value).unwrap_or(0) as u8,
                        avcc::LEVEL => c.2 = as_u64(value).unwrap_or(0) as u8,
                        avc_parameter_sets::SPS => {
                            if let (None, Value::Bytes(sps)) = (&e.sps, value) {
                                e.sps = Some(sps.to_vec());
                            }
                        }
                        _ => {}
                    }
                    e.codec.avc = Some(c);
                }
            }
            b"hvcC" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.hevc.unwrap_or_default();
                    match name {
                        avcc::PROFILE_SPACE => c.0 = as_u64(value).unwrap_or(0) as u8,
                        avcc::PROFILE => c.1 = hevc_profile(value).unwrap_or(0),
                        avcc::TIER => c.2 = as_u64(value).unwrap_or(0) as u8,
                        avcc::LEVEL => c.3 = as_u64(value).unwrap_or(0) as u8,
                        _ => {}
                    }
                    e.codec.hevc = Some(c);
                }
            }
            b"av1C" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.av1.unwrap_or_default();
                    match name {
                        av1c::PROFILE => c.0 = as_u64(value).unwrap_or(0) as u8,
                        av1c::LEVEL => c.1 = as_u64(value).unwrap_or(0) as u8,
                        av1c::TIER => c.2 = as_u64(value).unwrap_or(0) as u8,
                        _ => {}
                    }
                    e.codec.av1 = Some(c);
                }
            }
            b"vpcC" => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.vp9.unwrap_or_default();
                    match name {
                        vpcc::PROFILE => c.0 = as_u64(value).unwrap_or(0) as u8,
                        vpcc::LEVEL => c.1 = as_u64(value).unwrap_or(0) as u8,
                        vpcc::BIT_DEPTH => c.2 = as_u64(value).unwrap_or(0) as u8,
                        _ => {}
                    }
                    e.codec.vp9 = Some(c);
                }
            }
            b"desc" if self.in_box(b"esds") => {
                if let Some(e) = self.entry() {
                    let mut c = e.codec.mp4a.unwrap_or_default();
                    match (name, value) {
                        (esds::OBJECT_TYPE, v) => c.0 = as_u64(v).unwrap_or(0) as u8,
                        (esds::DECODER_SPECIFIC_INFO, Value::Str(s)) => {
                            c.1 = audio_object_type(s);
                            e.decoder_specific_info = Some(hex_bytes(s));
                        }
                        _ => {}
                    }
                    e.codec.mp4a = Some(c);
                }
            }
            b"mfhd" if name == mfhd::SEQUENCE_NUMBER => {
                if let Some(m) = self.facts.moofs.last_mut() {
                    m.sequence = as_u64(value);
                }
            }
            b"tfhd" => {
                let v = as_u64(value);
                if let Some(t) = self.traf() {
                    match name {
                        tfhd::TRACK_ID => t.track_id = v.unwrap_or(0),
                        tfhd::BASE_DATA_OFFSET => t.base_data_offset = v,
                        tfhd::DESCRIPTION => t.defaults.description = v,
                        tfhd::DURATION => t.defaults.duration = v,
                        tfhd::SIZE => t.defaults.size = v,
                        tfhd::FLAGS => t.defaults.flags = v,
                        _ => {}
                    }
                }
            }
            b"tfdt" if name == tfdt::DECODE_TIME => {
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
                            trun::SAMPLE_DURATION => {
                                let v = as_u64(value).unwrap_or(0);
                                r.durations.0 += 1;
                                r.durations.1 = r.durations.1.saturating_add(v);
                                r.durations.2 = r.durations.2.max(v);
                            }
                            trun::SAMPLE_SIZE => {
                                r.sizes.0 += 1;
                                r.sizes.1 = r.sizes.1.saturating_add(as_u64(value).unwrap_or(0));
                            }
                            trun::SAMPLE_FLAGS if first_row => r.first_row_flags = as_u64(value),
                            trun::SAMPLE_CTO if first_row => {
                                r.first_cto = as_i64(value);
                            }
                            _ => {}
                        }
                    } else {
                        match name {
                            trun::SAMPLE_COUNT => r.count = as_u64(value).unwrap_or(0),
                            trun::DATA_OFFSET => r.data_offset = as_i64(value),
                            trun::FIRST_SAMPLE_FLAGS => r.first_flags = as_u64(value),
                            _ => {}
                        }
                    }
                }
            }
            b"senc" | b"uuid" if name == senc::SAMPLE_COUNT && self.in_box(b"traf") => {
                if let Some(t) = self.traf() {
                    t.senc = as_u64(value);
                }
            }
            b"saiz" if name == saiz::SAMPLE_COUNT && self.in_box(b"traf") => {
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
                                sidx::REFERENCE_TYPE => r.0 = v,
                                sidx::REFERENCED_SIZE => r.1 = v,
                                sidx::SUBSEGMENT_DURATION => r.2 = v,
                                sidx::STARTS_WITH_SAP => r.3 = v != 0,
                                _ => {}
                            }
                        }
                    } else {
                        match name {
                            sidx::TIMESCALE => s.timescale = v,
                            sidx::EARLIEST => s.earliest = v,
                            sidx::FIRST_OFFSET => s.first_offset = v,
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
