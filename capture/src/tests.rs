//! The reader against hand-built files of every format variant, broken ones included.

use std::io::Write;
use std::path::Path;

use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::Timestamp;

use crate::pcap::{PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC};
use crate::pcapng::{
    NG_BYTE_ORDER_MAGIC, NG_EPB, NG_IDB, NG_OPT_ENDOFOPT, NG_OPT_IF_TSOFFSET, NG_OPT_IF_TSRESOL,
    NG_PB, NG_SHB, NG_SPB,
};
use crate::{CaptureError, CaptureReader, CaptureWriter, MAX_BLOCK_LEN, MAX_CAPLEN};

// ---- fixture builders ----

fn put16(v: &mut Vec<u8>, x: u16, big: bool) {
    v.extend_from_slice(&if big {
        x.to_be_bytes()
    } else {
        x.to_le_bytes()
    });
}

fn put32(v: &mut Vec<u8>, x: u32, big: bool) {
    v.extend_from_slice(&if big {
        x.to_be_bytes()
    } else {
        x.to_le_bytes()
    });
}

fn pcap_header(big: bool, magic: u32, link: u32) -> Vec<u8> {
    let mut v = Vec::new();
    put32(&mut v, magic, big);
    put16(&mut v, 2, big);
    put16(&mut v, 4, big);
    put32(&mut v, 0, big);
    put32(&mut v, 0, big);
    put32(&mut v, 65535, big);
    put32(&mut v, link, big);
    v
}

fn pcap_record(v: &mut Vec<u8>, big: bool, sec: u32, frac: u32, data: &[u8], orig: u32) {
    put32(v, sec, big);
    put32(v, frac, big);
    put32(v, data.len() as u32, big);
    put32(v, orig, big);
    v.extend_from_slice(data);
}

fn block(v: &mut Vec<u8>, big: bool, block_type: u32, body: &[u8]) {
    let padded = body.len().next_multiple_of(4);
    let len = (12 + padded) as u32;
    put32(v, block_type, big);
    put32(v, len, big);
    v.extend_from_slice(body);
    v.resize(v.len() + padded - body.len(), 0);
    put32(v, len, big);
}

fn shb(v: &mut Vec<u8>, big: bool) {
    let mut b = Vec::new();
    put32(&mut b, NG_BYTE_ORDER_MAGIC, big);
    put16(&mut b, 1, big);
    put16(&mut b, 0, big);
    b.extend_from_slice(&[0xFF; 8]);
    block(v, big, NG_SHB, &b);
}

fn option(b: &mut Vec<u8>, big: bool, code: u16, value: &[u8]) {
    put16(b, code, big);
    put16(b, value.len() as u16, big);
    b.extend_from_slice(value);
    b.resize(b.len().next_multiple_of(4), 0);
}

fn idb(v: &mut Vec<u8>, big: bool, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) {
    let mut b = Vec::new();
    put16(&mut b, link, big);
    put16(&mut b, 0, big);
    put32(&mut b, 0, big);
    if let Some(r) = tsresol {
        option(&mut b, big, NG_OPT_IF_TSRESOL, &[r]);
    }
    if let Some(o) = tsoffset {
        let bytes = if big {
            o.to_be_bytes()
        } else {
            o.to_le_bytes()
        };
        option(&mut b, big, NG_OPT_IF_TSOFFSET, &bytes);
    }
    if tsresol.is_some() || tsoffset.is_some() {
        option(&mut b, big, NG_OPT_ENDOFOPT, &[]);
    }
    block(v, big, NG_IDB, &b);
}

fn epb(v: &mut Vec<u8>, big: bool, iface: u32, t: u64, data: &[u8], orig: u32) {
    let mut b = Vec::new();
    put32(&mut b, iface, big);
    put32(&mut b, (t >> 32) as u32, big);
    put32(&mut b, t as u32, big);
    put32(&mut b, data.len() as u32, big);
    put32(&mut b, orig, big);
    b.extend_from_slice(data);
    b.resize(b.len().next_multiple_of(4), 0);
    option(&mut b, big, 1, b"a comment");
    option(&mut b, big, NG_OPT_ENDOFOPT, &[]);
    block(v, big, NG_EPB, &b);
}

fn write_tmp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

#[derive(Debug, PartialEq)]
struct Owned {
    ts: u64,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

/// Reads every frame; the error, if any, is last.
fn read_all(r: &mut CaptureReader) -> (Vec<Owned>, Option<CaptureError>) {
    let mut frames = Vec::new();
    let mut err = None;
    while let Some(f) = r.next_frame() {
        match f {
            Ok(f) => frames.push(Owned {
                ts: f.ts.0,
                link: f.link,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
            }),
            Err(e) => {
                assert!(err.is_none(), "a second error after {:?}", err);
                err = Some(e);
            }
        }
    }
    assert!(r.next_frame().is_none(), "frames after the end");
    (frames, err)
}

fn read_bytes(bytes: &[u8]) -> Result<(Vec<Owned>, Option<CaptureError>), CaptureError> {
    let f = write_tmp(bytes);
    let mut r = CaptureReader::open(f.path())?;
    Ok(read_all(&mut r))
}

fn frame(ts: u64, link: LinkType, data: &[u8], orig_len: u32) -> Owned {
    Owned {
        ts,
        link,
        data: data.to_vec(),
        orig_len,
    }
}

// ---- tests ----

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.pcap");
    let mut w = CaptureWriter::create(&path, LinkType::Ethernet).unwrap();
    let frames: Vec<(u64, Vec<u8>, u32)> = (0..1000u32)
        .map(|i| {
            let len = (i % 200) as usize;
            let data: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
            (
                1_700_000_000_123_456_789 + u64::from(i) * 1_001,
                data,
                len as u32 + i % 3,
            )
        })
        .collect();
    for (ts, data, orig) in &frames {
        w.write(Timestamp(*ts), data, *orig).unwrap();
    }
    w.finish().unwrap();

    let mut r = CaptureReader::open(&path).unwrap();
    assert_eq!(r.link_type(), Some(LinkType::Ethernet));
    assert_eq!(r.position(), 24);
    let (got, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    let want: Vec<Owned> = frames
        .iter()
        .map(|(ts, d, o)| frame(*ts, LinkType::Ethernet, d, *o))
        .collect();
    assert_eq!(got, want);
    assert_eq!(r.position(), r.len());
}

#[test]
fn round_trip_other_link_and_short_orig_len() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.pcap");
    let mut w = CaptureWriter::create(&path, LinkType::Unsupported(147)).unwrap();
    w.write(Timestamp(5), &[0x45; 20], 0).unwrap();
    assert!(w
        .write(Timestamp(6), &vec![0; MAX_CAPLEN as usize + 1], 0)
        .is_err());
    w.finish().unwrap();
    let mut r = CaptureReader::open(&path).unwrap();
    assert_eq!(r.link_type(), Some(LinkType::Unsupported(147)));
    let (got, err) = read_all(&mut r);
    assert!(err.is_none());
    assert_eq!(
        got,
        vec![frame(5, LinkType::Unsupported(147), &[0x45; 20], 20)]
    );
}

#[test]
fn big_endian_usec_pcap() {
    let mut v = pcap_header(true, PCAP_MAGIC_USEC, 101);
    pcap_record(&mut v, true, 1_000, 999_999, &[1, 2, 3], 60);
    pcap_record(&mut v, true, 1_001, 5, &[4; 70], 70);
    let (got, err) = read_bytes(&v).unwrap();
    assert!(err.is_none());
    assert_eq!(
        got,
        vec![
            frame(1_000_999_999_000, LinkType::Raw, &[1, 2, 3], 60),
            frame(1_001_000_005_000, LinkType::Raw, &[4; 70], 70),
        ]
    );
}

#[test]
fn nanosecond_pcap_both_orders() {
    for big in [false, true] {
        let mut v = pcap_header(big, PCAP_MAGIC_NSEC, 1);
        pcap_record(&mut v, big, 7, 123_456_789, &[9; 14], 14);
        let (got, err) = read_bytes(&v).unwrap();
        assert!(err.is_none());
        assert_eq!(
            got,
            vec![frame(7_123_456_789, LinkType::Ethernet, &[9; 14], 14)]
        );
    }
}

#[test]
fn old_pcap_versions_swap_lengths() {
    let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
    v[6] = 2; // version 2.2: lengths stored (orig, incl)
    put32(&mut v, 0, false);
    put32(&mut v, 0, false);
    put32(&mut v, 100, false);
    put32(&mut v, 4, false);
    v.extend_from_slice(&[1, 2, 3, 4]);
    let (got, err) = read_bytes(&v).unwrap();
    assert!(err.is_none());
    assert_eq!(got, vec![frame(0, LinkType::Ethernet, &[1, 2, 3, 4], 100)]);
}

#[test]
fn bad_pcap_headers() {
    let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
    v[4] = 1; // version 1.4
    assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
    let v = pcap_header(false, PCAP_MAGIC_USEC, 0x0030_0001);
    assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
    let v = pcap_header(false, PCAP_MAGIC_USEC, 1);
    assert!(matches!(
        read_bytes(&v[..20]),
        Err(CaptureError::Corrupt { .. })
    ));
    // A header alone is a valid, empty capture.
    let (got, err) = read_bytes(&v).unwrap();
    assert!(got.is_empty() && err.is_none());
}

#[test]
fn pcapng_two_interfaces() {
    for big in [false, true] {
        let mut v = Vec::new();
        shb(&mut v, big);
        idb(&mut v, big, 1, None, None); // Ethernet, microseconds
        block(&mut v, big, 0x0000_0BAD, &[0xEE; 10]); // unknown: skipped
        idb(&mut v, big, 113, Some(9), Some(10)); // Linux SLL, ns, +10 s
        idb(&mut v, big, 147, Some(0x80 | 20), None); // user 0, 2^-20 s
        block(&mut v, big, 5, &[0; 16]); // interface statistics: skipped
        epb(&mut v, big, 0, 1_500_000_000_000_001, &[1; 60], 60);
        epb(&mut v, big, 1, 1_500_000_000_000_000_007, &[2; 33], 1500);
        epb(&mut v, big, 2, 3 << 19, &[3; 1], 1);
        // An obsolete Packet Block on interface 1 and a Simple Packet Block (interface 0).
        let mut pb = Vec::new();
        put16(&mut pb, 1, big);
        put16(&mut pb, 0, big);
        put32(&mut pb, 0, big);
        put32(&mut pb, 42, big);
        put32(&mut pb, 2, big);
        put32(&mut pb, 2, big);
        pb.extend_from_slice(&[4, 4]);
        block(&mut v, big, NG_PB, &pb);
        let mut spb = Vec::new();
        put32(&mut spb, 5, big);
        spb.extend_from_slice(&[5; 5]);
        block(&mut v, big, NG_SPB, &spb);

        let f = write_tmp(&v);
        let mut r = CaptureReader::open(f.path()).unwrap();
        assert_eq!(r.link_type(), Some(LinkType::Ethernet));
        let (got, err) = read_all(&mut r);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            got,
            vec![
                frame(1_500_000_000_000_001_000, LinkType::Ethernet, &[1; 60], 60),
                frame(
                    1_500_000_010_000_000_007,
                    LinkType::LinuxSll,
                    &[2; 33],
                    1500
                ),
                frame(1_500_000_000, LinkType::Unsupported(147), &[3], 1),
                frame(10_000_000_042, LinkType::LinuxSll, &[4, 4], 2),
                frame(0, LinkType::Ethernet, &[5; 5], 5),
            ]
        );
    }
}

#[test]
fn pcapng_second_section_resets_interfaces() {
    let mut v = Vec::new();
    shb(&mut v, false);
    idb(&mut v, false, 1, None, None);
    epb(&mut v, false, 0, 1, &[1], 1);
    shb(&mut v, true);
    idb(&mut v, true, 101, Some(3), None);
    epb(&mut v, true, 0, 2, &[2], 1);
    epb(&mut v, true, 1, 3, &[3], 1); // interface 1 of the old section is gone
    let (got, err) = read_bytes(&v).unwrap();
    assert_eq!(
        got,
        vec![
            frame(1_000, LinkType::Ethernet, &[1], 1),
            frame(2_000_000, LinkType::Raw, &[2], 1)
        ]
    );
    assert!(matches!(err, Some(CaptureError::Corrupt { .. })));
}

#[test]
fn pcapng_bad_headers() {
    // Version 1.1 is not accepted.
    let mut v = Vec::new();
    shb(&mut v, false);
    v[14] = 1;
    assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
    // An SHB option longer than its block.
    let mut v = Vec::new();
    let mut b = Vec::new();
    put32(&mut b, NG_BYTE_ORDER_MAGIC, false);
    put32(&mut b, 1, false);
    b.extend_from_slice(&[0; 8]);
    put16(&mut b, 2, false);
    put16(&mut b, 400, false);
    block(&mut v, false, NG_SHB, &b);
    assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
    // Bad byte-order magic, trailer mismatch, truncated SHB.
    let mut v = Vec::new();
    shb(&mut v, false);
    v[8] = 0;
    assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
    let mut v = Vec::new();
    shb(&mut v, false);
    let n = v.len();
    v[n - 4] = 0;
    assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
    let mut v = Vec::new();
    shb(&mut v, false);
    assert!(matches!(
        read_bytes(&v[..20]),
        Err(CaptureError::Corrupt { .. })
    ));
    // A section with no interfaces and no packets is an empty capture.
    let mut v = Vec::new();
    shb(&mut v, false);
    let f = write_tmp(&v);
    let mut r = CaptureReader::open(f.path()).unwrap();
    assert_eq!(r.link_type(), None);
    assert!(r.next_frame().is_none());
}

#[test]
fn pcapng_bad_blocks() {
    let start = || {
        let mut v = Vec::new();
        shb(&mut v, false);
        idb(&mut v, false, 1, None, None);
        epb(&mut v, false, 0, 0, &[1; 4], 4);
        v
    };
    let expect_one_then_err = |v: &[u8]| {
        let (got, err) = read_bytes(v).unwrap();
        assert_eq!(got.len(), 1);
        assert!(matches!(err, Some(CaptureError::Corrupt { .. })), "{err:?}");
    };
    // Length not a multiple of 4, too small, too large.
    for len in [13u32, 8, MAX_BLOCK_LEN + 4, u32::MAX - 3] {
        let mut v = start();
        put32(&mut v, NG_EPB, false);
        put32(&mut v, len, false);
        v.extend_from_slice(&[0; 64]);
        expect_one_then_err(&v);
    }
    // Captured length beyond the block, and absurd.
    for caplen in [100u32, 0xFFFF_FFF0] {
        let mut v = start();
        let mut b = Vec::new();
        for x in [0, 0, 0, caplen, 4] {
            put32(&mut b, x, false);
        }
        b.extend_from_slice(&[0; 8]);
        block(&mut v, false, NG_EPB, &b);
        expect_one_then_err(&v);
    }
    // Unknown interface, truncated last block, bad if_tsresol.
    let mut v = start();
    epb(&mut v, false, 3, 0, &[1; 4], 4);
    expect_one_then_err(&v);
    let mut v = start();
    epb(&mut v, false, 0, 0, &[1; 40], 40);
    v.truncate(v.len() - 9);
    expect_one_then_err(&v);
    let mut v = start();
    idb(&mut v, false, 1, Some(20), None);
    expect_one_then_err(&v);
    // A packet block before any interface: open succeeds, the first frame is an error.
    let mut v = Vec::new();
    shb(&mut v, false);
    epb(&mut v, false, 0, 0, &[1; 4], 4);
    let (got, err) = read_bytes(&v).unwrap();
    assert!(got.is_empty() && err.is_some());
    // A broken block before the first interface: open succeeds, the error comes first.
    let mut v = Vec::new();
    shb(&mut v, false);
    put32(&mut v, 0x99, false);
    put32(&mut v, 7, false);
    put32(&mut v, 7, false);
    let (got, err) = read_bytes(&v).unwrap();
    assert!(got.is_empty() && err.is_some());
}

#[test]
fn pcapng_unknown_block_skipped() {
    let mut v = Vec::new();
    shb(&mut v, false);
    block(&mut v, false, 0x4000_0BAD, &[7; 21]); // before the first IDB
    idb(&mut v, false, 229, None, None);
    block(&mut v, false, 0x8000_0001, &[]); // empty custom block
    epb(&mut v, false, 0, 7, &[6; 40], 40);
    block(&mut v, false, 0x0000_0BAD, &[0xA5; 3000]);
    let f = write_tmp(&v);
    let mut r = CaptureReader::open(f.path()).unwrap();
    assert_eq!(r.link_type(), Some(LinkType::Ipv6));
    let (got, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, vec![frame(7_000, LinkType::Ipv6, &[6; 40], 40)]);
}

#[test]
fn truncated_last_record() {
    let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
    pcap_record(&mut v, false, 1, 0, &[1; 60], 60);
    pcap_record(&mut v, false, 2, 0, &[2; 60], 60);
    for cut in [1, 10, 59, 60 + 16 - 1] {
        let (got, err) = read_bytes(&v[..v.len() - cut]).unwrap();
        assert_eq!(
            got,
            vec![frame(1_000_000_000, LinkType::Ethernet, &[1; 60], 60)]
        );
        let err = err.expect("truncation is reported");
        assert!(matches!(err, CaptureError::Corrupt { .. }), "{err}");
    }
    let f = write_tmp(&v[..v.len() - 1]);
    let mut r = CaptureReader::open(f.path()).unwrap();
    assert!(matches!(r.next_frame(), Some(Ok(_))));
    assert!(matches!(r.next_frame(), Some(Err(_))));
    assert!(r.next_frame().is_none());
    assert!(r.next_frame().is_none());
}

#[test]
fn absurd_incl_len() {
    for incl in [MAX_CAPLEN + 1, 0xFFFF_FFFF] {
        let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
        pcap_record(&mut v, false, 1, 0, &[1; 8], 8);
        for x in [0, 0, incl, incl] {
            put32(&mut v, x, false);
        }
        v.extend_from_slice(&[0; 100]);
        let (got, err) = read_bytes(&v).unwrap();
        assert_eq!(got.len(), 1);
        let msg = err.expect("an error").to_string();
        assert!(msg.contains("captured bytes"), "{msg}");
    }
    // The cap itself is accepted.
    let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
    pcap_record(
        &mut v,
        false,
        1,
        0,
        &vec![3; MAX_CAPLEN as usize],
        MAX_CAPLEN,
    );
    let (got, err) = read_bytes(&v).unwrap();
    assert!(err.is_none());
    assert_eq!(got[0].data.len(), MAX_CAPLEN as usize);
}

#[test]
fn not_a_capture() {
    let err = read_bytes(b"GET / HTTP/1.1\r\n").expect_err("not a capture");
    match &err {
        CaptureError::NotACapture { magic, .. } => assert_eq!(magic, b"GET "),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("not a pcap or pcapng file"));
    assert!(matches!(
        read_bytes(b"ab"),
        Err(CaptureError::Corrupt { .. })
    ));
    let missing = Path::new("/nonexistent/dir/x.pcap");
    assert!(matches!(
        CaptureReader::open(missing),
        Err(CaptureError::Io { .. })
    ));
}

#[test]
fn empty_file() {
    let err = read_bytes(&[]).expect_err("an empty file is an error");
    assert!(matches!(err, CaptureError::Corrupt { .. }));
    assert!(err.to_string().contains("empty file"), "{err}");
}

#[test]
fn reads_across_buffer_refills() {
    // Records straddle the chunk boundaries of a small buffer, and one is bigger than it.
    let mut v = pcap_header(false, PCAP_MAGIC_NSEC, 1);
    let sizes: Vec<usize> = (0..300).map(|i| (i * 37) % 1500).chain([9000, 3]).collect();
    for (i, &n) in sizes.iter().enumerate() {
        pcap_record(&mut v, false, 0, i as u32, &vec![i as u8; n], n as u32);
    }
    let f = write_tmp(&v);
    let mut r = CaptureReader::open_with_buffer(f.path(), 1000).unwrap();
    assert_eq!(r.buf.data.len(), 1000);
    let (got, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got.len(), sizes.len());
    for (i, (g, &n)) in got.iter().zip(&sizes).enumerate() {
        assert_eq!((g.ts, g.data.len()), (i as u64, n));
        assert!(g.data.iter().all(|&b| b == i as u8));
    }
    assert_eq!(r.position(), v.len() as u64);
}

#[test]
fn hostile_inputs_never_panic() {
    // Every prefix of small valid files, and byte flips of them.
    let mut pcap = pcap_header(true, PCAP_MAGIC_USEC, 1);
    pcap_record(&mut pcap, true, 1, 2, &[1; 30], 30);
    pcap_record(&mut pcap, true, 3, 4, &[2; 7], 9);
    let mut ng = Vec::new();
    shb(&mut ng, false);
    idb(&mut ng, false, 1, Some(0x85), Some(-3));
    epb(&mut ng, false, 0, 99, &[1; 30], 30);
    block(&mut ng, false, NG_SPB, &[4, 0, 0, 0, 1, 2, 3, 4]);
    for base in [pcap, ng] {
        for cut in 0..=base.len() {
            let _ = read_bytes(&base[..cut]).map(|(frames, _)| frames.len());
        }
        for i in 0..base.len() {
            for x in [0x01u8, 0x80, 0xFF] {
                let mut v = base.clone();
                v[i] ^= x;
                let _ = read_bytes(&v);
            }
        }
    }
}

/// A source that hands out a few bytes per read, as a pipe or a socket may.
struct Trickle {
    data: Vec<u8>,
    at: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf
            .len()
            .min(self.data.len() - self.at)
            .min(1 + self.at % 7);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn from_reader_reads_what_open_reads() {
    let mut ng = Vec::new();
    shb(&mut ng, true);
    idb(&mut ng, true, 1, Some(6), None);
    for i in 0..50u8 {
        epb(
            &mut ng,
            true,
            0,
            u64::from(i) * 1000,
            &vec![i; usize::from(i) * 3],
            200,
        );
    }
    let (want, err) = read_bytes(&ng).unwrap();
    assert!(err.is_none(), "{err:?}");
    let source = Trickle {
        data: ng.clone(),
        at: 0,
    };
    let mut r = CaptureReader::from_reader("<trickle>", source, 0).unwrap();
    assert_eq!(r.link_type(), Some(LinkType::Ethernet));
    let (got, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, want);
    assert_eq!(r.position(), ng.len() as u64);

    let err = CaptureReader::from_reader("<short>", &b"\x0a\x0d"[..], 2)
        .err()
        .expect("two bytes are no capture");
    assert!(err.to_string().starts_with("<short>: "), "{err}");
}
