use std::io::Cursor as IoCursor;

use super::*;

fn src(bytes: &[u8]) -> Source<IoCursor<Vec<u8>>> {
    Source::new(IoCursor::new(bytes.to_vec()))
}

fn header(bytes: &[u8], available: u64) -> Result<BoxHeader, Stop> {
    let mut s = src(bytes);
    read_header(&mut s, 0, available, bytes.len() as u64, true).expect("in-memory read")
}

#[test]
fn plain_header() {
    let h = header(b"\0\0\0\x10free01234567", 16).expect("header");
    assert_eq!(h.typ, FourCC::new(b"free"));
    assert_eq!((h.size, h.header_len(), h.large), (16, 8, false));
}

#[test]
fn largesize_header_counts_eight_more_bytes() {
    let mut b = b"\0\0\0\x01free".to_vec();
    b.extend_from_slice(&20u64.to_be_bytes());
    b.extend_from_slice(b"abcd");
    let h = header(&b, 20).expect("header");
    assert_eq!((h.size, h.header_len(), h.large), (20, 16, true));
}

#[test]
fn size_zero_runs_to_the_end_of_the_file() {
    let h = header(b"\0\0\0\0mdatxxxxxx", 14).expect("header");
    assert_eq!(h.size, 14);
}

#[test]
fn list_ending_headers() {
    let cases: &[(&[u8], u64, &str)] = &[
        (b"\0\0\0", 3, "fewer than 8 bytes"),
        (b"\0\0\0\x03abcd", 8, "size below a header"),
        (b"\0\0\0\x64mdatxxxxx", 13, "size past the bytes left"),
        (b"\0\0\0\x10free01234567", 12, "size past the parent"),
    ];
    for (bytes, available, what) in cases {
        assert!(header(bytes, *available).is_err(), "{what}");
    }
}

#[test]
fn largesize_of_all_ones_and_below_sixteen_end_the_list() {
    for size in [u64::MAX, 15, 0] {
        let mut b = b"\0\0\0\x01free".to_vec();
        b.extend_from_slice(&size.to_be_bytes());
        b.extend_from_slice(&[0; 8]);
        assert!(header(&b, b.len() as u64).is_err(), "largesize {size}");
    }
}

#[test]
fn uuid_reads_its_extended_type_unless_told_not_to() {
    let mut b = b"\0\0\0\x1auuid".to_vec();
    b.extend_from_slice(&[7; 16]);
    b.extend_from_slice(b"ab");
    let h = header(&b, 26).expect("header");
    assert_eq!((h.uuid, h.header_len()), (Some([7; 16]), 24));
    let mut s = src(&b);
    let h = read_header(&mut s, 0, 26, 26, false)
        .expect("read")
        .expect("header");
    assert_eq!((h.uuid, h.header_len()), (None, 8));
    // Too small to hold the extended type.
    assert!(header(b"\0\0\0\x0cuuidabcd", 12).is_err());
}

#[test]
fn stop_reasons_name_the_problem() {
    let stop = header(b"\0\0\0\x64mdatxxxxx", 13).expect_err("truncated");
    assert_eq!(
        stop.describe().as_deref(),
        Some("[mdat] box claims 100 bytes, 13 left")
    );
    assert_eq!(Stop::End { left: 0 }.describe(), None);
}

#[test]
fn fourcc_printable_replaces_control_and_high_bytes() {
    assert_eq!(&FourCC(*b"\xa9too").printable(), b".too");
    assert_eq!(&FourCC(*b"url ").printable(), b"url ");
    assert_eq!(FourCC(*b"a\x01\x7fz").to_string(), "a..z");
}

#[test]
fn cursor_never_reads_past_the_end() {
    let mut c = Cursor::new(&[1, 2, 3]);
    assert_eq!(c.u16(), Ok(0x0102));
    assert_eq!(c.u16(), Err(Short));
    assert_eq!(c.u8(), Ok(3));
    assert_eq!(c.u8(), Err(Short));
    assert_eq!(c.bytes(usize::MAX), Err(Short));
    let mut c = Cursor::new(b"ab\0cd");
    assert_eq!(c.cstring(), b"ab");
    assert_eq!(c.cstring(), b"cd");
    assert_eq!(c.remaining(), 0);
    let mut c = Cursor::new(&[0, 1, 2]);
    assert_eq!(c.uint_n(3), Ok(0x000102));
}

#[test]
fn source_reads_across_window_refills_and_reports_eof() {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut s = Source::new(IoCursor::new(data.clone()));
    let mut b = [0u8; 8];
    for off in [0u64, 65_530, 131_000, 7, 199_992] {
        assert!(s.read_at(off, &mut b).expect("read"));
        assert_eq!(&b[..], &data[off as usize..off as usize + 8]);
    }
    assert!(!s.read_at(199_995, &mut b).expect("read"));
    let mut v = Vec::new();
    assert!(s.read_vec_at(10, 100_000, &mut v).expect("read"));
    assert_eq!(&v[..], &data[10..100_010]);
    let mut v = Vec::new();
    // A length far beyond the file never allocates it: the read stops at the end.
    assert!(!s.read_vec_at(100, u64::MAX / 2, &mut v).expect("read"));
    let mut v = Vec::new();
    assert!(!s.read_vec_at(199_000, 5_000_000, &mut v).expect("read"));
    assert_eq!(v.len(), 1_000);
}
