//! Fuzz `wire::parse`, and on success `rewrite` and `to_ethernet`, checking invariants.
//!
//! Input: the first byte picks the link type (low nibble) and which fields the rewrite
//! changes (high nibble); the rest is the frame.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vpcsim_dataplane::wire::{parse, rewrite, to_ethernet, Frag, LinkType, Meta, Rewrite};

const LINKS: [LinkType; 9] = [
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Null,
    LinkType::Loop,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Unsupported(147),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(selector & 0x0f) % LINKS.len()];
    let result = parse(link, frame);
    assert_eq!(result, parse(link, frame), "parse is deterministic");
    let Ok(meta) = result else {
        return;
    };
    check_meta(frame, &meta);
    check_rewrite(link, frame, &meta, selector >> 4);
    check_to_ethernet(frame, &meta);
});

fn l4_header_len(meta: &Meta) -> usize {
    match (meta.header.proto.0, meta.header.src.is_ipv6()) {
        (6, _) => 20,
        (17, _) | (1, false) | (58, true) => 8,
        _ => 0,
    }
}

fn is_echo(meta: &Meta) -> bool {
    matches!(
        (meta.header.proto.0, meta.header.icmp_type),
        (1, 0 | 8) | (58, 128 | 129)
    )
}

fn check_meta(frame: &[u8], m: &Meta) {
    assert_eq!(
        m.header.src.is_ipv4(),
        m.header.dst.is_ipv4(),
        "one family per packet"
    );
    let l3 = usize::from(m.l3_offset);
    let l4 = usize::from(m.l4_offset);
    let ip_header = if m.header.src.is_ipv4() { 20 } else { 40 };
    assert!(l3 + ip_header <= frame.len(), "IP header is captured");
    assert!(
        l3 + ip_header <= l4 && l4 <= frame.len(),
        "l4 offset {l4} out of range"
    );
    assert_eq!(frame[l3] >> 4, if m.header.src.is_ipv4() { 4 } else { 6 });
    if m.header.src.is_ipv4() {
        let ihl = usize::from(frame[l3] & 0x0f) * 4;
        assert_eq!(l4, l3 + ihl);
        assert!(usize::from(m.header.len) >= ihl);
    }
    if m.l4 {
        assert!(l4_header_len(m) > 0, "l4 only for TCP/UDP/ICMP");
        assert!(l4 + l4_header_len(m) <= frame.len(), "l4 header captured");
        assert!(
            !matches!(m.frag, Frag::Later { .. }),
            "later fragments have no L4"
        );
        if is_echo(m) {
            assert_eq!(m.header.src_port, m.header.dst_port);
        }
    } else {
        assert_eq!(
            (
                m.header.src_port,
                m.header.dst_port,
                m.header.icmp_type,
                m.header.icmp_code,
                m.header.tcp_flags
            ),
            (0, 0, 0, 0, 0),
            "no L4 fields without L4"
        );
    }
}

/// One's-complement sum of `bytes` (odd length padded with a zero byte).
fn sum(mut acc: u64, bytes: &[u8]) -> u64 {
    for chunk in bytes.chunks(2) {
        let hi = u64::from(chunk[0]) << 8;
        acc += hi | chunk.get(1).map_or(0, |&b| u64::from(b));
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Receiver-side checksum checks: (IPv4 header ok, L4 ok) where checkable.
fn checksums_ok(frame: &[u8], m: &Meta) -> (Option<bool>, Option<bool>) {
    let l3 = usize::from(m.l3_offset);
    let l4 = usize::from(m.l4_offset);
    let v4 = m.header.src.is_ipv4();
    let ip_ok = v4.then(|| fold(sum(0, &frame[l3..l4])) == 0xffff);

    let ip_end = l3 + usize::from(m.header.len);
    let whole = ip_end <= frame.len() && m.frag == Frag::None;
    let v6_jumbo = !v4 && m.header.len == 40;
    if !m.l4 || !whole || v6_jumbo {
        return (ip_ok, None);
    }
    let segment = &frame[l4..ip_end];
    let mut acc = 0;
    let pseudo = m.header.proto.0 != 1;
    if pseudo {
        acc = match (m.header.src, m.header.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => sum(sum(acc, &s.octets()), &d.octets()),
            (IpAddr::V6(s), IpAddr::V6(d)) => sum(sum(acc, &s.octets()), &d.octets()),
            _ => unreachable!(),
        };
        acc += u64::from(m.header.proto.0) + segment.len() as u64;
    }
    if m.header.proto.0 == 17 && segment[6] == 0 && segment[7] == 0 {
        return (ip_ok, None);
    }
    (ip_ok, Some(fold(sum(acc, segment)) == 0xffff))
}

fn changed_addr(a: IpAddr, salt: u8) -> IpAddr {
    match a {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(
            u32::from(a) ^ (0x0a0b_0c0d ^ u32::from(salt)),
        )),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(
            u128::from(a).rotate_left(17) ^ u128::from(salt),
        )),
    }
}

fn check_rewrite(link: LinkType, frame: &[u8], m: &Meta, mask: u8) {
    let new = Rewrite {
        src: if mask & 1 != 0 {
            changed_addr(m.header.src, mask)
        } else {
            m.header.src
        },
        dst: if mask & 2 != 0 {
            changed_addr(m.header.dst, !mask)
        } else {
            m.header.dst
        },
        src_port: if mask & 4 != 0 {
            m.header.src_port ^ 0x5a5a
        } else {
            m.header.src_port
        },
        dst_port: if mask & 8 != 0 {
            m.header.dst_port.wrapping_add(4321)
        } else {
            m.header.dst_port
        },
        ttl: m.header.ttl.wrapping_sub(1),
    };
    let mut out = frame.to_vec();
    rewrite(&mut out, m, &new);
    assert_eq!(out.len(), frame.len());

    let l3 = usize::from(m.l3_offset);
    let l4 = usize::from(m.l4_offset);
    // Only IP header bytes up to the addresses, and the first 18 L4 bytes, may change.
    let ip_fixed = if m.header.src.is_ipv4() { 20 } else { 40 };
    for i in 0..frame.len() {
        let in_ip = (l3..l3 + ip_fixed).contains(&i);
        let in_l4 = m.l4 && (l4..l4 + 18).contains(&i);
        if !in_ip && !in_l4 {
            assert_eq!(
                out[i], frame[i],
                "byte {i} outside the rewritten headers changed"
            );
        }
    }

    let m2 = parse(link, &out).expect("a rewritten frame still parses");
    assert_eq!(
        (m2.header.src, m2.header.dst, m2.header.ttl),
        (new.src, new.dst, new.ttl)
    );
    if m.l4 && matches!(m.header.proto.0, 6 | 17) {
        assert_eq!(
            (m2.header.src_port, m2.header.dst_port),
            (new.src_port, new.dst_port)
        );
    } else if m.l4 && is_echo(m) {
        let id = if new.src_port != m.header.src_port {
            new.src_port
        } else {
            new.dst_port
        };
        assert_eq!((m2.header.src_port, m2.header.dst_port), (id, id));
    } else {
        assert_eq!(
            (m2.header.src_port, m2.header.dst_port),
            (m.header.src_port, m.header.dst_port)
        );
    }
    assert_eq!(
        (
            m2.header.proto,
            m2.frag,
            m2.l4,
            m2.l3_offset,
            m2.l4_offset,
            m2.header.len,
            m2.header.tcp_flags
        ),
        (
            m.header.proto,
            m.frag,
            m.l4,
            m.l3_offset,
            m.l4_offset,
            m.header.len,
            m.header.tcp_flags
        )
    );

    // Correct checksums stay correct.
    let (ip_before, l4_before) = checksums_ok(frame, m);
    let (ip_after, l4_after) = checksums_ok(&out, &m2);
    if ip_before == Some(true) {
        assert_eq!(
            ip_after,
            Some(true),
            "IPv4 header checksum broken by rewrite"
        );
    }
    if l4_before == Some(true) {
        assert_eq!(l4_after, Some(true), "L4 checksum broken by rewrite");
    }

    // Rewriting to the same values is a no-op.
    let same = Rewrite {
        src: m.header.src,
        dst: m.header.dst,
        src_port: m.header.src_port,
        dst_port: m.header.dst_port,
        ttl: m.header.ttl,
    };
    let mut copy = frame.to_vec();
    rewrite(&mut copy, m, &same);
    assert_eq!(copy, frame, "no-op rewrite changed bytes");

    // A family change leaves the frame alone.
    let other = if m.header.src.is_ipv4() {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let mut copy = frame.to_vec();
    rewrite(&mut copy, m, &Rewrite { src: other, ..new });
    assert_eq!(copy, frame, "cross-family rewrite changed bytes");
}

fn check_to_ethernet(frame: &[u8], m: &Meta) {
    let mut out = vec![0xee];
    to_ethernet(frame, m, [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], &mut out);
    let l3 = usize::from(m.l3_offset);
    assert_eq!(out.len(), 1 + 14 + frame.len() - l3);
    let out = &out[1..];
    assert_eq!(&out[14..], &frame[l3..]);
    let shift = |o: u16| usize::from(o) - l3 + 14;
    if shift(m.l4_offset) > usize::from(u16::MAX) {
        return;
    }
    let m2 = parse(LinkType::Ethernet, out).expect("re-framed packet parses as Ethernet");
    assert_eq!(usize::from(m2.l3_offset), 14);
    assert_eq!(usize::from(m2.l4_offset), shift(m.l4_offset));
    let strip = |x: &Meta| Meta {
        l3_offset: 0,
        l4_offset: 0,
        ..*x
    };
    assert_eq!(strip(&m2), strip(m));
}
