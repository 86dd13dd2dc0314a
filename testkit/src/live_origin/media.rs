//! The looped media: the fixtures' segments and their rewriting per loop.

use std::path::Path;

use dashget::isobmff::{Source, read_header};

/// One representation the origin loops.
#[derive(Debug, Clone)]
pub struct Track {
    /// `Representation@id`, also its folder in URLs.
    pub id: &'static str,
    /// `AdaptationSet@id`.
    pub adaptation_set: &'static str,
    /// `@contentType`.
    pub content_type: &'static str,
    /// `@mimeType`.
    pub mime_type: &'static str,
    /// `@codecs`.
    pub codecs: &'static str,
    /// `@bandwidth`.
    pub bandwidth: u64,
    /// Media timescale.
    pub timescale: u64,
    /// Every segment's duration, in ticks.
    pub segment_duration: u64,
    /// Chunks per segment: a segment is this many source segments, each a CMAF chunk
    /// (`moof` + `mdat`) of [`Track::chunk_duration`].
    pub chunks: u64,
    /// A chunk's duration, in ticks (a source segment's).
    pub chunk_duration: u64,
    /// The init segment.
    pub init: Vec<u8>,
    segments: Vec<SourceSegment>,
}

#[derive(Debug, Clone)]
struct SourceSegment {
    bytes: Vec<u8>,
    patches: Vec<Patch>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Sequence,
    Time,
}

#[derive(Debug, Clone, Copy)]
struct Patch {
    offset: usize,
    width: usize,
    field: Field,
}

impl Track {
    fn load(id: &'static str, dir: &Path) -> Track {
        let read = |name: String| {
            std::fs::read(dir.join(&name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
        };
        let segments = (1..=5)
            .map(|i| {
                let bytes = read(format!("{id}-{i}.m4s"));
                let patches = find_patches(&bytes);
                SourceSegment { bytes, patches }
            })
            .collect();
        let (adaptation_set, content_type, mime_type, codecs, bandwidth, timescale, duration) =
            match id {
                "v" => (
                    "0",
                    "video",
                    "video/mp4",
                    "avc1.42d00b",
                    60_000,
                    12_800,
                    5_120,
                ),
                _ => (
                    "1",
                    "audio",
                    "audio/mp4",
                    "mp4a.40.2",
                    32_000,
                    48_000,
                    18_432,
                ),
            };
        Track {
            id,
            adaptation_set,
            content_type,
            mime_type,
            codecs,
            bandwidth,
            timescale,
            segment_duration: duration,
            chunks: 1,
            chunk_duration: duration,
            init: read(format!("{id}-init.m4s")),
            segments,
        }
    }

    /// The fixtures' two tracks: video `v` and audio `a`.
    pub fn fixtures() -> Vec<Track> {
        let dir = super::super::fixtures().join("live");
        vec![Track::load("v", &dir), Track::load("a", &dir)]
    }

    /// The track with segments of `chunks` chunks: low-latency CMAF, a segment being one
    /// `styp` and the `moof` + `mdat` of each of `chunks` source segments.
    pub fn chunked(&self, chunks: u64) -> Track {
        let mut track = self.clone();
        track.chunks = chunks.max(1);
        track.segment_duration = self.chunk_duration * track.chunks;
        track
    }

    /// Segment `k` of a Period whose media time starts at `pto`.
    pub fn segment(&self, k: u64, pto: u64) -> Vec<u8> {
        self.segment_chunks(k, pto).concat()
    }

    /// Segment `k` as its chunks: one (the whole source segment) for an unchunked track; else
    /// the first with the `styp`, every `sidx` left out.
    pub fn segment_chunks(&self, k: u64, pto: u64) -> Vec<Vec<u8>> {
        if self.chunks == 1 {
            return vec![self.source_segment(k, pto)];
        }
        (0..self.chunks)
            .map(|j| {
                let bytes = self.source_segment(k * self.chunks + j, pto);
                let mut out = Vec::with_capacity(bytes.len());
                let mut at = 0;
                while at + 8 <= bytes.len() {
                    let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
                    let kind = &bytes[at + 4..at + 8];
                    let end = at + size.max(8);
                    let keep = match kind {
                        b"styp" => j == 0,
                        b"sidx" => false,
                        _ => true,
                    };
                    if keep {
                        out.extend_from_slice(&bytes[at..end.min(bytes.len())]);
                    }
                    at = end;
                }
                out
            })
            .collect()
    }

    /// Source segment `k` looped: `mfhd` = k + 1 and its times moved by PTO + whole loops.
    fn source_segment(&self, k: u64, pto: u64) -> Vec<u8> {
        let n = self.segments.len() as u64;
        let source = &self.segments[(k % n) as usize];
        let shift = pto + (k / n) * n * self.chunk_duration;
        let mut out = source.bytes.clone();
        for patch in &source.patches {
            let at = patch.offset;
            let old = match patch.width {
                8 => u64::from_be_bytes(out[at..at + 8].try_into().unwrap()),
                _ => u64::from(u32::from_be_bytes(out[at..at + 4].try_into().unwrap())),
            };
            let new = match patch.field {
                Field::Sequence => k + 1,
                Field::Time => old + shift,
            };
            match patch.width {
                8 => out[at..at + 8].copy_from_slice(&new.to_be_bytes()),
                _ => {
                    let v = u32::try_from(new).expect("a 32-bit field overflows in the loop");
                    out[at..at + 4].copy_from_slice(&v.to_be_bytes())
                }
            }
        }
        out
    }
}

/// Where `mfhd`'s sequence number, `tfdt`'s decode time and `sidx`'s earliest presentation
/// time are, found with the crate's own box reader.
fn find_patches(bytes: &[u8]) -> Vec<Patch> {
    fn walk(
        src: &mut Source<std::io::Cursor<&[u8]>>,
        bytes: &[u8],
        range: (u64, u64),
        out: &mut Vec<Patch>,
    ) {
        let (mut pos, end) = range;
        let file_len = bytes.len() as u64;
        while let Ok(Ok(h)) = read_header(src, pos, end - pos, file_len, true) {
            let body = h.payload_offset() as usize;
            let wide = bytes.get(body) == Some(&1);
            let width = if wide { 8 } else { 4 };
            match &h.typ.0 {
                b"moof" | b"traf" => walk(src, bytes, (h.payload_offset(), h.end()), out),
                b"mfhd" => out.push(Patch {
                    offset: body + 4,
                    width: 4,
                    field: Field::Sequence,
                }),
                b"tfdt" => out.push(Patch {
                    offset: body + 4,
                    width,
                    field: Field::Time,
                }),
                b"sidx" => out.push(Patch {
                    offset: body + 12,
                    width,
                    field: Field::Time,
                }),
                _ => {}
            }
            if h.end() <= pos {
                break;
            }
            pos = h.end();
        }
    }
    let mut src = Source::new(std::io::Cursor::new(bytes));
    let mut out = Vec::new();
    walk(&mut src, bytes, (0, bytes.len() as u64), &mut out);
    assert!(
        out.iter().filter(|p| p.field == Field::Time).count() >= 1,
        "a live fixture segment without tfdt"
    );
    out
}
