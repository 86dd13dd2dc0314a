//! The tree walk: reads box headers level by level, dispatches each box to its handling, and
//! drives the inspector. Payloads are read only for boxes whose fields are decoded.

use std::io::{self, Read, Seek};

use super::{
    BoxKind, EntryKind, Full, Gate, Handling, Leaf, lookup, lookup_sample_entry, sample_entry,
    uuid_name,
};
use crate::isobmff::{BoxHeader, Cursor, FourCC, Source, read_header};
use crate::render::{BoxStart, Inspector, Probe};

/// Boxes nested deeper than this are printed as a header only. No real file comes close (ten
/// levels is a lot); the cap keeps hostile input from exhausting the stack, and keeps our JSON
/// within the 128 levels common JSON parsers accept.
pub const MAX_DEPTH: usize = 48;

/// At most this many samples are counted in one `traf` (Bento4's own cap on one `trun`).
const FRAGMENT_SAMPLES_MAX: u32 = 0xff_ffff;

/// What a walk saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Boxes printed (descriptors not counted).
    pub boxes: u64,
    /// Places where a box list ended early or a box could not be decoded.
    pub malformed: u64,
}

/// Walks every top-level box of a file of `file_len` bytes and describes it to `ins`.
pub fn walk_file<R: Read + Seek>(
    src: &mut Source<R>,
    file_len: u64,
    ins: &mut dyn Inspector,
) -> io::Result<WalkStats> {
    let verbosity = ins.verbosity();
    let mut w = Walker {
        src,
        ins,
        file_len,
        scratch: Vec::new(),
        stats: WalkStats::default(),
        verbosity,
        fragment_samples: 0,
    };
    w.list(0, file_len, FourCC::default(), 0, false, None)?;
    Ok(w.stats)
}

struct Walker<'a, 'i, R> {
    src: &'a mut Source<R>,
    ins: &'i mut dyn Inspector,
    file_len: u64,
    scratch: Vec<u8>,
    stats: WalkStats,
    verbosity: u8,
    /// Samples of the `traf` being walked (0 outside one), for [`Full::fragment_samples`].
    fragment_samples: u64,
}

impl<R: Read + Seek> Walker<'_, '_, R> {
    fn note(&mut self, offset: u64, text: &str) {
        self.stats.malformed += 1;
        if self.verbosity >= 4 {
            self.ins.note(offset, text);
        }
    }

    /// The boxes from `start` to `end`, children of a box of type `parent`.
    fn list(
        &mut self,
        start: u64,
        end: u64,
        parent: FourCC,
        depth: usize,
        in_stsd: bool,
        max: Option<u64>,
    ) -> io::Result<()> {
        let mut off = start;
        let mut count = 0u64;
        loop {
            if max.is_some_and(|m| count >= m) || self.ins.failed() {
                break;
            }
            let available = end.saturating_sub(off);
            let h = match read_header(self.src, off, available, self.file_len, !in_stsd)? {
                Ok(h) => h,
                Err(stop) => {
                    if let Some(reason) = stop.describe() {
                        self.note(off, &reason);
                    }
                    break;
                }
            };
            // Every child of `stsd` is a sample entry, which Bento4 never reads in 64-bit form.
            let kind = (!in_stsd).then(|| lookup(h.typ, h.uuid.as_ref(), parent));
            if h.large && kind.is_none_or(|k| k.refuses_largesize) {
                let reason = format!("[{}] 64-bit size not accepted for this box", h.typ);
                self.note(off, &reason);
                break;
            }
            self.one(&h, kind, parent, depth)?;
            off = h.end();
            count += 1;
        }
        Ok(())
    }

    fn start(&mut self, h: &BoxHeader, header: u64, version: u8, flags: u32) {
        self.stats.boxes += 1;
        let uuid;
        let printable;
        let name: &[u8] = match &h.uuid {
            Some(u) => {
                uuid = uuid_name(u);
                &uuid
            }
            None => {
                printable = h.typ.printable();
                &printable
            }
        };
        self.ins.start_box(&BoxStart {
            name,
            header_size: header,
            size: h.size,
            version,
            flags,
            offset: h.offset,
            descriptor: false,
        });
    }

    fn header_only(&mut self, h: &BoxHeader) {
        self.start(h, h.header_len(), 0, 0);
        self.ins.end_box();
    }

    fn too_deep(&mut self, h: &BoxHeader, depth: usize) -> bool {
        if depth + 1 >= MAX_DEPTH {
            self.start(h, h.header_len(), 0, 0);
            let text = format!("nesting deeper than {MAX_DEPTH} boxes, children not shown");
            self.note(h.payload_offset(), &text);
            self.ins.end_box();
            return true;
        }
        false
    }

    /// One box: `kind` is its registry row, `None` for a sample entry (a child of `stsd`).
    fn one(
        &mut self,
        h: &BoxHeader,
        kind: Option<BoxKind>,
        parent: FourCC,
        depth: usize,
    ) -> io::Result<()> {
        let Some(kind) = kind else {
            return self.sample_entry(h, lookup_sample_entry(h.typ), depth);
        };
        match kind.handling {
            Handling::HeaderOnly => self.header_only(h),
            Handling::Container => {
                if !self.too_deep(h, depth) {
                    self.start(h, h.header_len(), 0, 0);
                    let outer = self.fragment_samples;
                    if &h.typ.0 == b"traf" {
                        self.fragment_samples = self.count_fragment_samples(h)?;
                    }
                    self.list(h.payload_offset(), h.end(), h.typ, depth + 1, false, None)?;
                    self.fragment_samples = outer;
                    self.ins.end_box();
                }
            }
            Handling::FullContainer => self.full_container(h, depth)?,
            Handling::Leaf(leaf) => self.leaf(h, leaf)?,
            Handling::SampleDescriptions => self.stsd(h, depth)?,
            Handling::DataReferences => self.dref(h, parent, depth)?,
            Handling::SampleEntry(kind) => self.sample_entry(h, kind, depth)?,
        }
        Ok(())
    }

    /// The samples the `trun` boxes of a `traf` declare, read before the `traf`'s children are
    /// walked (a `senc` may come before its `trun`). Bounded like a `trun`'s own count.
    fn count_fragment_samples(&mut self, traf: &BoxHeader) -> io::Result<u64> {
        let mut total = 0u64;
        let mut off = traf.payload_offset();
        while off < traf.end() {
            let available = traf.end() - off;
            let Ok(h) = read_header(self.src, off, available, self.file_len, true)? else {
                break;
            };
            if &h.typ.0 == b"trun"
                && Self::payload_len(&h) >= 8
                && let (Some(flags), Some(n)) = (
                    self.read_u32(h.payload_offset())?,
                    self.read_u32(h.payload_offset() + 4)?,
                )
            {
                // Only a count the `trun` itself can show: within Bento4's cap, and with its
                // per-sample fields inside the box.
                let per_sample = 4 * u64::from((flags >> 8 & 0xff).count_ones());
                if n <= FRAGMENT_SAMPLES_MAX && u64::from(n) * per_sample <= Self::payload_len(&h) {
                    total = (total + u64::from(n)).min(u64::from(FRAGMENT_SAMPLES_MAX));
                }
            }
            off = h.end();
        }
        Ok(total)
    }

    fn payload_len(h: &BoxHeader) -> u64 {
        h.size.saturating_sub(h.header_len())
    }

    /// Reads the payload into the scratch buffer (bounded: the size was checked against the
    /// bytes present in the parent). Returns false if the file ended early.
    fn load_payload(&mut self, h: &BoxHeader, buf: &mut Vec<u8>) -> io::Result<bool> {
        buf.clear();
        self.src
            .read_vec_at(h.payload_offset(), Self::payload_len(h), buf)
    }

    fn leaf(&mut self, h: &BoxHeader, leaf: Leaf) -> io::Result<()> {
        if leaf.gate == Gate::Extended && self.verbosity < 4 {
            self.header_only(h);
            return Ok(());
        }
        let mut buf = std::mem::take(&mut self.scratch);
        let complete = self.load_payload(h, &mut buf)?;
        let mut full = Full {
            version: 0,
            flags: 0,
            header: h.header_len(),
            size: h.size,
            body_offset: h.payload_offset(),
            fragment_samples: self.fragment_samples,
        };
        let mut body: &[u8] = &buf;
        let mut ok = complete;
        if leaf.full {
            if buf.len() < 4 {
                ok = false;
            } else {
                full.version = buf[0];
                full.flags = u32::from_be_bytes([0, buf[1], buf[2], buf[3]]);
                full.header += 4;
                full.body_offset += 4;
                body = &buf[4..];
            }
        }
        if ok {
            let mut probe = Probe {
                verbosity: self.verbosity,
            };
            ok = (leaf.decode)(&mut Cursor::new(body), &full, &mut probe).is_ok();
        }
        if ok {
            self.start(h, full.header, full.version, full.flags);
            // The probe accepted the same bytes: this run cannot reject.
            let _ = (leaf.decode)(&mut Cursor::new(body), &full, self.ins);
            self.ins.end_box();
        } else {
            self.start(h, h.header_len(), 0, 0);
            let text = format!("[{}] payload could not be decoded", h.typ);
            self.note(h.payload_offset(), &text);
            self.ins.end_box();
        }
        self.scratch = buf;
        Ok(())
    }

    /// The version/flags word of a full box, or `None` when the payload is too short to hold
    /// it or cannot be read (the box is then printed as a header only, as Bento4 does).
    fn version_and_flags(&mut self, h: &BoxHeader) -> io::Result<Option<u32>> {
        if Self::payload_len(h) < 4 {
            return Ok(None);
        }
        self.read_u32(h.payload_offset())
    }

    fn read_u32(&mut self, offset: u64) -> io::Result<Option<u32>> {
        let mut b = [0u8; 4];
        Ok(self
            .src
            .read_at(offset, &mut b)?
            .then(|| u32::from_be_bytes(b)))
    }

    fn full_container(&mut self, h: &BoxHeader, depth: usize) -> io::Result<()> {
        let Some(vf) = self.version_and_flags(h)? else {
            self.header_only(h);
            return Ok(());
        };
        if self.too_deep(h, depth) {
            return Ok(());
        }
        // Bento4: a `meta` written as a plain box (QuickTime style) is recognised by a `hdlr`
        // where the full-box header would be followed by the first child's type.
        if &h.typ.0 == b"meta" && vf >= 8 && h.size >= 16 {
            match self.read_u32(h.payload_offset() + 4)? {
                Some(t) if t.to_be_bytes() == *b"hdlr" => {
                    self.start(h, h.header_len(), 0, 0);
                    self.list(h.payload_offset(), h.end(), h.typ, depth + 1, false, None)?;
                    self.ins.end_box();
                    return Ok(());
                }
                Some(_) => {}
                None => {
                    self.header_only(h);
                    return Ok(());
                }
            }
        }
        let version = (vf >> 24) as u8;
        let flags = vf & 0x00ff_ffff;
        self.start(h, h.header_len() + 4, version, flags);
        self.list(
            h.payload_offset() + 4,
            h.end(),
            h.typ,
            depth + 1,
            false,
            None,
        )?;
        self.ins.end_box();
        Ok(())
    }

    fn stsd(&mut self, h: &BoxHeader, depth: usize) -> io::Result<()> {
        let Some(vf) = self.version_and_flags(h)? else {
            self.header_only(h);
            return Ok(());
        };
        let version = (vf >> 24) as u8;
        let flags = vf & 0x00ff_ffff;
        if version > 1 {
            self.header_only(h);
            return Ok(());
        }
        if self.too_deep(h, depth) {
            return Ok(());
        }
        let start = h.payload_offset() + 8;
        let declared = if Self::payload_len(h) >= 8 {
            self.read_u32(h.payload_offset() + 4)?.unwrap_or(0)
        } else {
            0
        };
        // Bento4 prints the number of entries it could read, which it needs before printing them.
        let mut count = 0u64;
        let mut off = start;
        while count < u64::from(declared) {
            match read_header(
                self.src,
                off,
                h.end().saturating_sub(off),
                self.file_len,
                false,
            )? {
                Ok(e) if !e.large => {
                    count += 1;
                    off = e.end();
                }
                _ => break,
            }
        }
        self.start(h, h.header_len() + 4, version, flags);
        self.ins.uint("entry_count", count);
        if declared > 0 {
            self.list(
                start,
                h.end(),
                h.typ,
                depth + 1,
                true,
                Some(u64::from(declared)),
            )?;
        }
        self.ins.end_box();
        Ok(())
    }

    fn dref(&mut self, h: &BoxHeader, parent: FourCC, depth: usize) -> io::Result<()> {
        let Some(vf) = self.version_and_flags(h)? else {
            self.header_only(h);
            return Ok(());
        };
        let version = (vf >> 24) as u8;
        if version != 0 {
            self.header_only(h);
            return Ok(());
        }
        if self.too_deep(h, depth) {
            return Ok(());
        }
        self.start(h, h.header_len() + 4, version, vf & 0x00ff_ffff);
        if h.size > 16 {
            let entries = self.read_u32(h.payload_offset() + 4)?.unwrap_or(0);
            if entries > 0 {
                // Bento4 reads the entries in the context of dref's parent.
                self.list(
                    h.payload_offset() + 8,
                    h.end(),
                    parent,
                    depth + 1,
                    false,
                    None,
                )?;
            }
        }
        self.ins.end_box();
        Ok(())
    }

    fn sample_entry(&mut self, h: &BoxHeader, kind: EntryKind, depth: usize) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.scratch);
        let complete = self.load_payload(h, &mut buf)?;
        let mut probe = Probe {
            verbosity: self.verbosity,
        };
        let fields = if complete {
            sample_entry::fields(kind, &mut Cursor::new(&buf), &mut probe).ok()
        } else {
            None
        };
        let Some(fields_len) = fields else {
            self.scratch = buf;
            self.start(h, h.header_len(), 0, 0);
            let text = format!("[{}] sample entry too short for its fields", h.typ);
            self.note(h.payload_offset(), &text);
            self.ins.end_box();
            return Ok(());
        };
        if self.too_deep(h, depth) {
            self.scratch = buf;
            return Ok(());
        }
        self.start(h, h.header_len(), 0, 0);
        let _ = sample_entry::fields(kind, &mut Cursor::new(&buf), self.ins);
        self.scratch = buf;
        if kind != EntryKind::Other && (fields_len as u64) < Self::payload_len(h) {
            let start = h.payload_offset() + fields_len as u64;
            self.list(start, h.end(), h.typ, depth + 1, false, None)?;
        }
        self.ins.end_box();
        Ok(())
    }
}
