//! The decoders and row bounds added to match Bento4 on more codecs: `dac4`, `dmlp`, `dvcC`,
//! hint boxes, exact `duration(ms)`, `senc` and `sgpd` rows without bytes.

use super::{Format, bx, dump_as, full, plain};

/// A `traf` holding a `trun` of `samples` samples (no per-sample fields) and then `more`.
fn traf_with(samples: u32, more: &[u8]) -> Vec<u8> {
    let trun = full(b"trun", 0, 0, &samples.to_be_bytes());
    bx(b"traf", &[trun.as_slice(), more].concat())
}

#[test]
fn senc_without_sample_bytes_prints_one_row_per_fragment_sample() {
    // CBCS audio: constant IV, no subsamples, so no bytes per sample; Bento4 prints a row each.
    let senc = full(b"senc", 0, 0, &3u32.to_be_bytes());
    let text = plain(&traf_with(3, &senc), 3);
    assert_eq!(text.matches("info = []").count(), 3, "{text}");
    assert!(text.contains("IV Size (inferred) = 0\n"), "{text}");
    // The `senc` before its `trun`: the same.
    let trun = full(b"trun", 0, 0, &3u32.to_be_bytes());
    let text = plain(&bx(b"traf", &[senc.as_slice(), &trun].concat()), 3);
    assert_eq!(text.matches("info = []").count(), 3, "{text}");
    // More samples than the fragment holds, or no fragment at all: no rows.
    let four = full(b"senc", 0, 0, &4u32.to_be_bytes());
    for bytes in [traf_with(3, &four), four.clone()] {
        let text = plain(&bytes, 3);
        assert!(!text.contains("info ="), "{text}");
        assert!(text.contains("sample info count = 4\n"), "{text}");
    }
    // A `trun` claiming more samples than it can show bounds nothing.
    let huge = full(b"senc", 0, 0, &u32::MAX.to_be_bytes());
    let text = plain(&traf_with(u32::MAX, &huge), 3);
    assert!(!text.contains("info ="), "{text}");
}

#[test]
fn sgpd_v0_prints_the_entries_inside_the_box() {
    let sgpd = |count: u32, rest: &[u8]| {
        full(
            b"sgpd",
            0,
            0,
            &[b"roll".as_slice(), &count.to_be_bytes(), rest].concat(),
        )
    };
    // Entries of unknown size and no bytes: one empty entry each, as Bento4.
    let text = plain(&sgpd(3, &[]), 3);
    assert!(text.contains("entry_count = 3\n"), "{text}");
    assert_eq!(text.matches(") []").count(), 3, "{text}");
    // With bytes, the first entry takes them all; Bento4 reads the next ones past the box.
    let text = plain(&sgpd(2, &[0xff, 0xfe]), 3);
    assert!(
        text.contains("entry_count = 1\n(       0) [ff fe]")
            || text.contains("(       0) [ff fe]\n")
    );
    assert!(text.contains("entry_count = 1\n"), "{text}");
    // Four billion empty entries: bounded.
    let text = plain(&sgpd(u32::MAX, &[]), 3);
    assert!(text.contains("entry_count = 65536\n"), "{}", &text[..200]);
}

#[test]
fn durations_in_milliseconds_are_exact_for_every_64_bit_value() {
    // (version 1 duration, timescale, mvhd's milliseconds rounded half up, mdhd's truncated)
    let cases: [(u64, u32, &str, &str); 5] = [
        (
            u64::MAX,
            1000,
            "18446744073709551615",
            "18446744073709551615",
        ),
        (
            u64::MAX,
            1,
            "18446744073709551615000",
            "18446744073709551615000",
        ),
        (
            1 << 63,
            1,
            "9223372036854775808000",
            "9223372036854775808000",
        ),
        (6_000_000_500, 1000, "6000000500", "6000000500"),
        (1001, 600, "1668", "1668"),
    ];
    for (duration, timescale, rounded, truncated) in cases {
        let times = [
            &[0; 16][..],
            &timescale.to_be_bytes(),
            &duration.to_be_bytes(),
        ]
        .concat();
        let mvhd = full(b"mvhd", 1, 0, &[&times[..], &[0; 80]].concat());
        let mdhd = full(b"mdhd", 1, 0, &[&times[..], &[0x55, 0xc4, 0, 0]].concat());
        let text = plain(&mvhd, 0);
        assert!(
            text.contains(&format!("duration(ms) = {rounded}\n")),
            "{text}"
        );
        let text = plain(&mdhd, 0);
        assert!(
            text.contains(&format!("duration(ms) = {truncated}\n")),
            "{text}"
        );
        let json = dump_as(&mdhd, 0, Format::Json);
        assert!(
            json.contains(&format!("\"duration(ms)\": {truncated}")),
            "{json}"
        );
        serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
    }
    // Half a millisecond rounds up in `mvhd`, down in `mdhd`.
    let times = [&[0; 16][..], &2000u32.to_be_bytes(), &3u64.to_be_bytes()].concat();
    let mvhd = full(b"mvhd", 1, 0, &[&times[..], &[0; 80]].concat());
    assert!(plain(&mvhd, 0).contains("duration(ms) = 2\n"));
    let mdhd = full(b"mdhd", 1, 0, &[&times[..], &[0x55, 0xc4, 0, 0]].concat());
    assert!(plain(&mdhd, 0).contains("duration(ms) = 1\n"));
}

/// A top-level `stsd` holding one sample entry of type `entry` with the child `child`.
fn audio_entry_with(entry: &[u8; 4], child: &[u8]) -> Vec<u8> {
    let mut p = vec![0; 6];
    p.extend_from_slice(&1u16.to_be_bytes());
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&[0, 2, 0, 16, 0, 0, 0, 0]);
    p.extend_from_slice(&(48000u32 << 16).to_be_bytes());
    p.extend_from_slice(child);
    full(
        b"stsd",
        0,
        0,
        &[&1u32.to_be_bytes()[..], &bx(entry, &p)].concat(),
    )
}

#[test]
fn dac4_survives_every_truncation_and_stays_in_its_box() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/generated/ac4.mp4"
    );
    let file = std::fs::read(path).expect("fixture");
    let at = file.windows(4).position(|w| w == b"dac4").expect("dac4") - 4;
    let len = u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]) as usize;
    let dsi = &file[at + 8..at + len];
    for n in 0..=dsi.len() {
        let bytes = audio_entry_with(b"ac-4", &bx(b"dac4", &dsi[..n]));
        for v in [0, 3, 4] {
            let text = plain(&bytes, v);
            assert!(text.contains("ac4_dsi_version = "), "{n}: {text}");
        }
    }
    // Every bit set: 511 presentations, all read as zeros past the end.
    let bytes = audio_entry_with(b"ac-4", &bx(b"dac4", &[0x3f; 11]));
    assert!(plain(&bytes, 3).contains("ac4_dsi_version = 1\n"));
    // Outside `ac-4`/`enca` Bento4 does not decode it, and refuses its 64-bit form.
    assert_eq!(
        plain(&bx(b"dac4", dsi), 3),
        format!("[dac4] size=8+{}\n", dsi.len())
    );
    let mut large = 1u32.to_be_bytes().to_vec();
    large.extend_from_slice(b"dac4");
    large.extend_from_slice(&16u64.to_be_bytes());
    assert_eq!(plain(&[large, bx(b"free", &[])].concat(), 3), "\n");
}

#[test]
fn mlpa_rate_dmlp_dvcc_and_hint_boxes() {
    let dmlp = bx(b"dmlp", &[0, 0, 0x80, 0x01, 0x18, 0xfe, 0, 0, 0, 0]);
    let mut entry = audio_entry_with(b"mlpa", &dmlp);
    // The 32-bit rate field holds 48000 itself (not 16.16).
    let rate = entry
        .windows(4)
        .position(|w| w == (48000u32 << 16).to_be_bytes())
        .expect("rate");
    entry[rate..rate + 4].copy_from_slice(&48000u32.to_be_bytes());
    let text = plain(&entry, 3);
    assert!(text.contains("sample_rate = 48000\n"), "{text}");
    assert!(text.contains("format_info = 32769\n  "), "{text}");
    assert!(text.contains("peak_data_rate = 3199\n"), "{text}");
    // Too short for its fields: a header only, as Bento4.
    let text = plain(&audio_entry_with(b"mlpa", &bx(b"dmlp", &[0; 9])), 3);
    assert!(text.contains("[dmlp] size=8+9\n"), "{text}");
    assert!(!text.contains("format_info"), "{text}");
    // profile 5 (7 bits), level 6 (6 bits), rpu, el, bl; compatibility id 1.
    let mut dv = vec![1, 0, 5 << 1, 6 << 3 | 0b101, 0x10];
    dv.resize(24, 0);
    let text = plain(&bx(b"dvcC", &dv), 3);
    assert!(
        text.contains("dv_profile_name = dvhe.stn\n  dv_level = 6\n"),
        "{text}"
    );
    assert!(
        text.contains("el_present_flag = 0\n  bl_present_flag = 1\n"),
        "{text}"
    );
    assert_eq!(plain(&bx(b"dvvC", &dv[..23]), 3), "[dvvC] size=8+23\n");
    let text = plain(&bx(b"tims", &90000u32.to_be_bytes()), 3);
    assert_eq!(text, "[tims] size=8+4\n  timescale = 90000\n");
    let text = plain(&bx(b"rtp ", b"sdp v=0\0junk"), 3);
    assert_eq!(
        text,
        "[rtp ] size=8+12\n  description_format = sdp \n  sdp_text = v=0\n"
    );
    assert_eq!(plain(&bx(b"rtp ", b"sdp"), 3), "[rtp ] size=8+3\n");
}
