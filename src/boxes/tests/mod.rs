use std::io::Cursor as IoCursor;

use crate::dump::{DumpOptions, Format, dump_file};

fn bx(t: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(t);
    v.extend_from_slice(payload);
    v
}

fn full(t: &[u8; 4], version: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![version];
    p.extend_from_slice(&flags.to_be_bytes()[1..]);
    p.extend_from_slice(payload);
    bx(t, &p)
}

fn dump_as(bytes: &[u8], verbosity: u8, format: Format) -> String {
    let mut out = Vec::new();
    let opts = DumpOptions { verbosity, format };
    dump_file(
        &mut IoCursor::new(bytes),
        bytes.len() as u64,
        &mut out,
        &opts,
    )
    .expect("dump");
    String::from_utf8(out).expect("utf-8")
}

fn dump(bytes: &[u8], verbosity: u8) -> String {
    dump_as(bytes, verbosity, Format::Text)
}

/// Text without the offset suffixes.
fn plain(bytes: &[u8], verbosity: u8) -> String {
    dump(bytes, verbosity)
        .lines()
        .map(|l| match l.rfind(", offset=") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn deep_nesting_is_capped_without_recursion_trouble() {
    // 20,000 nested containers.
    let depth = 20_000;
    let mut bytes = Vec::with_capacity(depth * 8);
    for i in 0..depth {
        bytes.extend_from_slice(&(((depth - i) * 8) as u32).to_be_bytes());
        bytes.extend_from_slice(b"moov");
    }
    for v in [0, 3, 4] {
        let text = dump(&bytes, v);
        let lines = text.lines().count();
        assert!(lines <= super::walk::MAX_DEPTH + 1, "v{v}: {lines} lines");
        assert_eq!(text.contains("nesting deeper"), v == 4);
    }
    let json = dump_as(&bytes, 4, Format::Json);
    serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
}

#[test]
fn nested_sample_descriptions_are_capped_too() {
    // stsd > entry > stsd > entry ... built from the inside out.
    let mut inner = Vec::new();
    for _ in 0..2_000 {
        let mut entry = vec![0u8; 8];
        entry.extend_from_slice(&inner);
        let e = bx(b"mp4s", &entry);
        let mut p = 1u32.to_be_bytes().to_vec();
        p.extend_from_slice(&e);
        inner = full(b"stsd", 0, 0, &p);
    }
    let text = dump(&inner, 4);
    assert!(text.contains("nesting deeper"));
}

#[test]
fn trun_claiming_four_billion_samples_in_twenty_bytes() {
    let mut p = u32::MAX.to_be_bytes().to_vec();
    p.extend_from_slice(&[0; 8]);
    let bytes = full(b"trun", 0, 0x301, &p);
    let text = plain(&bytes, 3);
    assert_eq!(
        text,
        "[trun] size=12+12, flags=301\n  sample count = 0\n  data offset = 0\n  entries:\n"
    );
    // Without per-sample fields, Bento4 caps the count.
    let bytes = full(b"trun", 0, 0, &u32::MAX.to_be_bytes());
    assert!(plain(&bytes, 3).contains("sample count = 0"));
}

#[test]
fn trun_counts_every_flag_bit_as_a_field_like_bento4() {
    // Flags 0x241: data offset, an unknown optional field (0x40), sample sizes. 94 samples
    // claimed with room for 92 after the unknown field: Bento4 shows no samples.
    let mut p = 94u32.to_be_bytes().to_vec();
    p.extend_from_slice(&[0; 4 + 4 + 94 * 4 - 4]);
    let text = plain(&full(b"trun", 0, 0x241, &p), 3);
    assert!(text.contains("sample count = 0\n"), "{text}");
    // An unknown per-sample field (0x1000) is skipped for the first sample only.
    let mut p = 2u32.to_be_bytes().to_vec();
    for v in [10u32, 99, 20, 30] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    let text = plain(&full(b"trun", 0, 0x1200, &p), 2);
    assert!(text.contains("(       0) sample_size = 10\n"), "{text}");
    assert!(text.contains("(       1) sample_size = 20\n"), "{text}");
}

#[test]
fn tables_with_lying_counts_are_bounded_by_their_bytes() {
    let huge = u32::MAX.to_be_bytes();
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for t in [
        b"stts", b"ctts", b"stss", b"stsc", b"stco", b"co64", b"elst", b"senc",
    ] {
        let mut p = huge.to_vec();
        p.extend_from_slice(&[1; 12]);
        cases.push(full(t, 0, 2, &p));
    }
    let mut p = vec![0; 4];
    p.extend_from_slice(&huge);
    p.extend_from_slice(&[1; 12]);
    cases.push(full(b"stsz", 0, 0, &p));
    let mut p = vec![0, 0, 0, 8];
    p.extend_from_slice(&huge);
    cases.push(full(b"stz2", 0, 0, &p));
    let mut p = b"roll".to_vec();
    p.extend_from_slice(&huge);
    cases.push(full(b"sbgp", 0, 0, &p));
    cases.push(full(
        b"sgpd",
        1,
        0,
        &[b"roll".as_slice(), &[0; 4], &huge].concat(),
    ));
    cases.push(full(b"saio", 0, 0, &huge));
    cases.push(full(b"saiz", 0, 0, &[&[0][..], &huge].concat()));
    cases.push(full(
        b"sidx",
        0,
        0,
        &[&[0; 16][..], &[0, 0, 0xff, 0xff]].concat(),
    ));
    cases.push(full(b"tfra", 0, 0, &[&[0; 8][..], &huge].concat()));
    cases.push(full(b"pssh", 1, 0, &[&[0; 16][..], &huge, &huge].concat()));
    cases.push(full(b"subs", 0, 0, &huge));
    cases.push(full(b"ssix", 0, 0, &huge));
    cases.push(bx(b"sdtp", &[0; 4]));
    for bytes in cases {
        for v in 0..=4 {
            let text = dump(&bytes, v);
            assert!(text.len() < 4096, "{text}");
            let json = dump_as(&bytes, v, Format::Json);
            serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
        }
    }
}

#[test]
fn rejected_box_prints_a_plain_header_only() {
    // mvhd version 5 is not decodable: Bento4 prints it with an 8-byte header.
    let bytes = full(b"mvhd", 5, 0, &[0; 96]);
    assert_eq!(plain(&bytes, 3), "[mvhd] size=8+100\n");
    assert!(dump(&bytes, 4).contains("[malformed: [mvhd] payload could not be decoded]"));
}

#[test]
fn child_past_its_parent_ends_the_list_but_not_the_parent() {
    let mut moov = bx(b"free", b"");
    moov.extend_from_slice(&100u32.to_be_bytes());
    moov.extend_from_slice(b"trak");
    let bytes = [bx(b"moov", &moov), bx(b"free", b"")].concat();
    assert_eq!(
        plain(&bytes, 3),
        "[moov] size=8+16\n  [free] size=8+0\n[free] size=8+0\n"
    );
}

#[test]
fn size_zero_child_ends_its_list_unless_it_reaches_the_end() {
    let zero = |t: &[u8; 4]| [&[0u8, 0, 0, 0][..], t].concat();
    let bytes = [bx(b"moov", &zero(b"trak")), bx(b"free", b"")].concat();
    assert_eq!(plain(&bytes, 3), "[moov] size=8+8\n[free] size=8+0\n");
    let bytes = [bx(b"free", b""), zero(b"mdat"), b"abc".to_vec()].concat();
    assert_eq!(plain(&bytes, 3), "[free] size=8+0\n[mdat] size=8+3\n");
}

#[test]
fn durations_in_milliseconds_keep_all_their_bits() {
    // 6,000,000,500 ms at timescale 1000: Bento4 prints 1705033204.
    let mut p = vec![0; 16];
    p.extend_from_slice(&1000u32.to_be_bytes());
    p.extend_from_slice(&6_000_000_500u64.to_be_bytes());
    p.extend_from_slice(&[0; 80]);
    let text = plain(&full(b"mvhd", 1, 0, &p), 3);
    assert!(text.contains("duration(ms) = 6000000500"), "{text}");
    let mut p = vec![0; 16];
    p.extend_from_slice(&1000u32.to_be_bytes());
    p.extend_from_slice(&6_000_000_500u64.to_be_bytes());
    p.extend_from_slice(&[0x15, 0xc7, 0, 0]);
    let text = plain(&full(b"mdhd", 1, 0, &p), 3);
    assert!(
        text.contains("duration(ms) = 6000000500\n  language = eng"),
        "{text}"
    );
}

#[test]
fn ctts_version_1_offsets_are_signed() {
    let mut p = 1u32.to_be_bytes().to_vec();
    p.extend_from_slice(&1u32.to_be_bytes());
    p.extend_from_slice(&(-1024i32).to_be_bytes());
    let text = plain(&full(b"ctts", 1, 0, &p), 2);
    assert!(
        text.contains("(       0) count = 1, offset = -1024"),
        "{text}"
    );
    let text = plain(&full(b"ctts", 0, 0, &p), 2);
    assert!(text.contains("offset = 4294966272"), "{text}");
}

#[test]
fn dec3_decodes_the_independent_substream() {
    // data_rate 384, one substream: fscod 0, bsid 16, bsmod 0, acmod 7, lfeon 1, no dependents.
    let payload = [0x0c, 0x00, 0x20, 0x0f, 0x00];
    let entry = |child: Vec<u8>| {
        let mut p = vec![0u8; 8];
        p.extend_from_slice(&[0; 20]);
        p.extend_from_slice(&child);
        bx(b"ec-3", &p)
    };
    let stsd = full(
        b"stsd",
        0,
        0,
        &[&1u32.to_be_bytes()[..], &entry(bx(b"dec3", &payload))].concat(),
    );
    let text = plain(&stsd, 3);
    assert!(text.contains("data_rate = 384"), "{text}");
    assert!(text.contains("complexity_index_type_a = 0"), "{text}");
    assert!(
        text.contains(
            "[00] = fscod=0, bsid=16, bsmod=0, acmod=7, lfeon=1, num_dep_sub=0, chan_loc=0"
        ),
        "{text}"
    );
}

#[test]
fn av1c_presentation_delay_comes_from_the_low_bits() {
    let text = plain(&bx(b"av1C", &[0x81, 0x00, 0x0c, 0x13]), 3);
    assert!(text.contains("initial_presentation_delay = 4"), "{text}");
    let text = plain(&bx(b"av1C", &[0x81, 0x00, 0x0c, 0x03]), 3);
    assert!(text.contains("initial_presentation_delay = 0"), "{text}");
}

#[test]
fn stsd_counts_the_entries_it_can_read() {
    let entry = bx(b"mp4s", &[0, 0, 0, 0, 0, 0, 0, 1]);
    let mut large = b"\0\0\0\x01mp4s".to_vec();
    large.extend_from_slice(&24u64.to_be_bytes());
    large.extend_from_slice(&[0; 8]);
    let p = [&5u32.to_be_bytes()[..], &entry, &large].concat();
    let text = plain(&full(b"stsd", 0, 0, &p), 3);
    assert_eq!(
        text,
        "[stsd] size=12+44\n  entry_count = 1\n  [mp4s] size=8+8\n    data_reference_index = 1\n"
    );
}

#[test]
fn quicktime_meta_without_full_header_is_read_as_plain_container() {
    let hdlr = full(
        b"hdlr",
        0,
        0,
        &[&[0; 4][..], b"mdir", &[0; 12], b"\0"].concat(),
    );
    let qt = bx(b"meta", &hdlr);
    let text = plain(&qt, 3);
    assert!(
        text.starts_with("[meta] size=8+33\n  [hdlr] size=12+21\n"),
        "{text}"
    );
    let iso = full(b"meta", 0, 0, &hdlr);
    assert!(plain(&iso, 3).starts_with("[meta] size=12+33\n  [hdlr]"));
}

#[test]
fn uuid_boxes_are_named_by_their_extended_type() {
    let name = super::uuid_name(&[
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
        0x1f,
    ]);
    assert_eq!(&name[..], b"101112131415-1617-1819-1A1B-1C1D1E1F");
    let mut p = super::PIFF_SAMPLE_ENCRYPTION.to_vec();
    p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    let text = plain(&bx(b"uuid", &p), 3);
    assert_eq!(
        text,
        "[A2394F525A9B-4F14-A244-6C42-7C648DF4] size=28+4\n  sample info count = 0\n  IV Size (inferred) = 0\n  sample info entries:\n"
    );
}

#[test]
fn header_only_boxes_get_our_decoders_at_verbosity_4() {
    let pasp = bx(b"pasp", &[0, 0, 0, 1, 0, 0, 0, 1]);
    assert_eq!(plain(&pasp, 3), "[pasp] size=8+8\n");
    assert_eq!(
        plain(&pasp, 4),
        "[pasp] size=8+8\n  h_spacing = 1\n  v_spacing = 1\n"
    );
    let mut emsg = b"urn:a\0v\0".to_vec();
    emsg.extend_from_slice(&[0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xab]);
    let text = plain(&full(b"emsg", 0, 0, &emsg), 4);
    assert!(text.contains("scheme_id_uri = urn:a\n"), "{text}");
    assert!(text.contains("message_data = [ab]"), "{text}");
}

#[test]
fn descriptors_inside_esds_carry_offsets() {
    // ES descriptor (tag 3) holding a DecoderConfig (tag 4) with a DecoderSpecificInfo (tag 5)
    // and an SL config (tag 6).
    let dsi = [5u8, 2, 0x11, 0x90];
    let mut dc = vec![
        4u8,
        (13 + dsi.len()) as u8,
        0x40,
        0x15,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        1,
    ];
    dc.extend_from_slice(&dsi);
    let sl = [6u8, 1, 2];
    let mut es = vec![3u8, (3 + dc.len() + sl.len()) as u8, 0, 1, 0];
    es.extend_from_slice(&dc);
    es.extend_from_slice(&sl);
    let bytes = full(b"esds", 0, 0, &es);
    let text = dump(&bytes, 3);
    assert!(
        text.contains("[ESDescriptor] size=2+25, offset=12 (0xc)"),
        "{text}"
    );
    assert!(
        text.contains("[DecoderConfig] size=2+17, offset=17 (0x11)"),
        "{text}"
    );
    assert!(text.contains("DecoderSpecificInfo = 11 90 \n"), "{text}");
    assert!(
        text.contains("[Descriptor:06] size=2+1, offset=36 (0x24)"),
        "{text}"
    );
}

#[test]
fn json_box_objects_have_offset_after_size() {
    let bytes = [bx(b"free", b""), full(b"mfhd", 0, 0, &[0, 0, 0, 7])].concat();
    let json = dump_as(&bytes, 3, Format::Json);
    assert_eq!(
        json,
        "[\n  {\n    \"name\": \"free\",\n    \"header_size\": 8,\n    \"size\": 8,\n    \"offset\": 0\n  },\n  {\n    \"name\": \"mfhd\",\n    \"header_size\": 12,\n    \"size\": 16,\n    \"offset\": 8,\n    \"sequence number\": 7\n  }\n]\n"
    );
}

/// A writer that fails once `limit` bytes were written.
struct Capped {
    written: usize,
    limit: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written >= self.limit {
            return Err(std::io::Error::other("full"));
        }
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn hostile_trun_rows_stop_when_the_output_fails() {
    // Found by fuzzing: a 20-byte trun without per-sample fields claiming 12,046,153 samples.
    // Bento4 prints every (empty) row, and so do we; a failing writer stops the walk at once.
    let mut p = 12_046_153u32.to_be_bytes().to_vec();
    p.extend_from_slice(&[0xaf, 0x94, 0xaf, 0]);
    let bytes = full(b"trun", 0, 1, &p);
    for format in [Format::Text, Format::Json] {
        let mut out = Capped {
            written: 0,
            limit: 1 << 16,
        };
        let opts = DumpOptions {
            verbosity: 3,
            format,
        };
        let r = dump_file(
            &mut IoCursor::new(&bytes),
            bytes.len() as u64,
            &mut out,
            &opts,
        );
        assert!(matches!(r, Err(crate::dump::DumpError::Write(_))));
        assert!(out.written < 1 << 17);
    }
    // At verbosity 0 there are no rows: the count only.
    assert!(plain(&bytes, 0).contains("sample count = 12046153\n"));
}

#[test]
fn senc_claiming_samples_without_bytes_prints_no_rows() {
    // Found by fuzzing: 4 billion samples, no sample bytes (Bento4 prints 4 billion rows).
    let bytes = full(b"senc", 0, 0, &u32::MAX.to_be_bytes());
    assert_eq!(
        plain(&bytes, 3),
        "[senc] size=12+4\n  sample info count = 4294967295\n"
    );
}

mod codecs_and_rows;
