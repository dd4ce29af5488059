//! Unit tests for the packet module. Packets are built with etherparse's `PacketBuilder`
//! and checksums are verified against etherparse's full recomputation, so the code under
//! test is checked against an independent implementation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};

use super::*;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const V4_A: [u8; 4] = [10, 0, 1, 5];
const V4_B: [u8; 4] = [192, 0, 2, 80];
const V6_A: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,
];
const V6_B: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50,
];

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}
fn v6(a: [u8; 16]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(a))
}

/// Small deterministic PRNG (xorshift64*), so property loops are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn u8(&mut self) -> u8 {
        self.next() as u8
    }
    fn u16(&mut self) -> u16 {
        self.next() as u16
    }
    fn u32(&mut self) -> u32 {
        self.next() as u32
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        for x in &mut b {
            *x = self.u8();
        }
        b
    }
    fn payload(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.u8()).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Builders for test frames.

fn ip_v4_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(V4_A, V4_B, 64)
        .tcp(40000, 443, 1000, 8192)
        .syn()
        .ack(7)
        .write(&mut out, payload)
        .unwrap();
    out
}

fn ip_v4_udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(V4_A, V4_B, 64)
        .udp(5353, 53)
        .write(&mut out, payload)
        .unwrap();
    out
}

fn ip_v6_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(V6_A, V6_B, 33)
        .tcp(40000, 443, 1000, 8192)
        .syn()
        .write(&mut out, payload)
        .unwrap();
    out
}

fn ip_v6_udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(V6_A, V6_B, 33)
        .udp(5353, 53)
        .write(&mut out, payload)
        .unwrap();
    out
}

fn eth_frame(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAC_B);
    out.extend_from_slice(&MAC_A);
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn ethertype_of(ip: &[u8]) -> u16 {
    if ip[0] >> 4 == 6 {
        0x86DD
    } else {
        0x0800
    }
}

/// Ethernet with the given VLAN tag ethertypes (outermost first) in front of `ip`.
fn eth_vlan(tags: &[u16], ip: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAC_B);
    out.extend_from_slice(&MAC_A);
    for (i, tpid) in tags.iter().enumerate() {
        out.extend_from_slice(&tpid.to_be_bytes());
        out.extend_from_slice(&(100 + i as u16).to_be_bytes()); // TCI
    }
    // Each tag's "next ethertype" is the following tag's TPID; the last one is IP's.
    out.extend_from_slice(&ethertype_of(ip).to_be_bytes());
    out.extend_from_slice(ip);
    out
}

fn sll(protocol: u16, hatype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0u16.to_be_bytes()); // packet type: to us
    out.extend_from_slice(&hatype.to_be_bytes());
    out.extend_from_slice(&6u16.to_be_bytes());
    out.extend_from_slice(&[2, 0, 0, 0, 0, 0x0a, 0, 0]);
    out.extend_from_slice(&protocol.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn sll2(protocol: u16, hatype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&protocol.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&3u32.to_be_bytes()); // ifindex
    out.extend_from_slice(&hatype.to_be_bytes());
    out.push(0); // packet type
    out.push(6);
    out.extend_from_slice(&[2, 0, 0, 0, 0, 0x0a, 0, 0]);
    out.extend_from_slice(payload);
    out
}

fn with_prefix(prefix: &[u8], ip: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(ip);
    out
}

fn assert_malformed(link: LinkType, frame: &[u8]) {
    match parse(link, frame) {
        Err(ParseError::Malformed(_)) => {}
        other => panic!("expected Malformed for {link:?} {frame:02x?}, got {other:?}"),
    }
}

fn assert_unsupported(link: LinkType, frame: &[u8]) {
    match parse(link, frame) {
        Err(ParseError::Unsupported(_)) => {}
        other => panic!("expected Unsupported for {link:?} {frame:02x?}, got {other:?}"),
    }
}

/// Sets the IPv4 header checksum of the header at `at` to the correct value.
fn fix_ipv4_checksum(frame: &mut [u8], at: usize) {
    let ihl = usize::from(frame[at] & 0x0f) * 4;
    frame[at + 10] = 0;
    frame[at + 11] = 0;
    let mut sum = 0u32;
    for w in frame[at..at + ihl].chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[at + 10..at + 12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

// ---------------------------------------------------------------------------------------
// Link types.

#[test]
fn link_type_pcap_values() {
    let cases = [
        (0, LinkType::Null),
        (1, LinkType::Ethernet),
        (101, LinkType::Raw),
        (108, LinkType::Loop),
        (113, LinkType::LinuxSll),
        (228, LinkType::Ipv4),
        (229, LinkType::Ipv6),
        (276, LinkType::LinuxSll2),
    ];
    for (value, link) in cases {
        assert_eq!(LinkType::from_pcap(value), link);
        assert_eq!(link.pcap_value(), value);
    }
    assert_eq!(LinkType::from_pcap(12), LinkType::Raw);
    assert_eq!(LinkType::from_pcap(14), LinkType::Raw);
    assert_eq!(LinkType::from_pcap(105), LinkType::Unsupported(105));
    assert_eq!(LinkType::Unsupported(105).pcap_value(), 105);
}

#[test]
fn ethernet_ipv4_tcp_all_fields() {
    let frame = eth_frame(0x0800, &ip_v4_tcp(b"hello"));
    let m = parse(LinkType::Ethernet, &frame).unwrap();
    assert_eq!(
        m,
        Meta {
            header: Header {
                src: v4(V4_A),
                dst: v4(V4_B),
                proto: IpProtocol::TCP,
                src_port: 40000,
                dst_port: 443,
                icmp_type: 0,
                icmp_code: 0,
                tcp_flags: tcp_flags::SYN | tcp_flags::ACK,
                ttl: 64,
                len: 45,
            },
            frag: Frag::None,
            frag_span: Default::default(),
            l4: true,
            l3_offset: 14,
            l4_offset: 34,
        }
    );
}

#[test]
fn ethernet_ipv6_udp() {
    let frame = eth_frame(0x86DD, &ip_v6_udp(b"q"));
    let m = parse(LinkType::Ethernet, &frame).unwrap();
    assert_eq!((m.header.src, m.header.dst), (v6(V6_A), v6(V6_B)));
    assert_eq!(
        (
            m.header.proto,
            m.header.src_port,
            m.header.dst_port,
            m.header.ttl
        ),
        (IpProtocol::UDP, 5353, 53, 33)
    );
    assert_eq!((m.l3_offset, m.l4_offset, m.header.len), (14, 54, 49));
    assert!(m.l4);
}

#[test]
fn ethernet_padding_is_not_payload() {
    // A 40-byte IPv4/TCP packet is padded to the 60-byte Ethernet minimum.
    let mut frame = eth_frame(0x0800, &ip_v4_tcp(b""));
    frame.resize(60, 0);
    let m = parse(LinkType::Ethernet, &frame).unwrap();
    assert_eq!((m.header.len, m.l4, m.header.dst_port), (40, true, 443));
}

#[test]
fn vlan_single_qinq_and_deep_stacks() {
    let ip = ip_v4_tcp(b"x");
    for tags in [
        &[0x8100][..],
        &[0x88A8, 0x8100],
        &[0x9100, 0x8100],
        &[0x88A8, 0x88A8, 0x8100, 0x8100],
        &[0x8100; 9],
    ] {
        let frame = eth_vlan(tags, &ip);
        let m = parse(LinkType::Ethernet, &frame).unwrap();
        assert_eq!(usize::from(m.l3_offset), 14 + 4 * tags.len(), "{tags:x?}");
        assert_eq!(
            (m.header.src_port, m.header.dst_port, m.l4),
            (40000, 443, true)
        );
    }
    let frame = eth_vlan(&[0x8100, 0x8100], &ip_v6_tcp(b""));
    let m = parse(LinkType::Ethernet, &frame).unwrap();
    assert_eq!((m.l3_offset, m.header.src), (22, v6(V6_A)));

    // VLAN-tagged ARP is still ARP.
    let mut arp = eth_vlan(&[0x8100], &ip);
    arp[16..18].copy_from_slice(&0x0806u16.to_be_bytes());
    assert_eq!(
        parse(LinkType::Ethernet, &arp),
        Err(ParseError::Unsupported("arp"))
    );
    // Cut inside the tags.
    let frame = eth_vlan(&[0x8100, 0x8100], &ip);
    for cut in 14..22 {
        assert_malformed(LinkType::Ethernet, &frame[..cut]);
    }
}

#[test]
fn linux_sll_and_sll2() {
    let ip4 = ip_v4_udp(b"abc");
    let ip6 = ip_v6_tcp(b"");
    let m = parse(LinkType::LinuxSll, &sll(0x0800, 1, &ip4)).unwrap();
    assert_eq!((m.l3_offset, m.l4_offset, m.header.dst_port), (16, 36, 53));
    let m = parse(LinkType::LinuxSll, &sll(0x86DD, 1, &ip6)).unwrap();
    assert_eq!((m.l3_offset, m.header.proto), (16, IpProtocol::TCP));
    // Tunnel device (ARPHRD_NONE) still carries an ethertype.
    let m = parse(LinkType::LinuxSll, &sll(0x0800, 0xfffe, &ip4)).unwrap();
    assert_eq!(m.l3_offset, 16);
    // VLAN tag not stripped by the NIC.
    let mut tagged = vec![0x00, 0x64, 0x08, 0x00];
    tagged.extend_from_slice(&ip4);
    let m = parse(LinkType::LinuxSll, &sll(0x8100, 1, &tagged)).unwrap();
    assert_eq!(m.l3_offset, 20);

    let m = parse(LinkType::LinuxSll2, &sll2(0x0800, 1, &ip4)).unwrap();
    assert_eq!((m.l3_offset, m.l4_offset, m.header.dst_port), (20, 40, 53));
    let m = parse(LinkType::LinuxSll2, &sll2(0x86DD, 1, &ip6)).unwrap();
    assert_eq!((m.l3_offset, m.l4_offset), (20, 60));

    assert_eq!(
        parse(LinkType::LinuxSll, &sll(0x0806, 1, &[0; 28])),
        Err(ParseError::Unsupported("arp"))
    );
    assert_unsupported(LinkType::LinuxSll, &sll(0x0004, 1, &ip4)); // 802.2 LLC
    assert_unsupported(LinkType::LinuxSll, &sll(0x0800, 824, &ip4)); // netlink
    assert_unsupported(LinkType::LinuxSll2, &sll2(0x88CC, 1, &ip4));
    assert_malformed(LinkType::LinuxSll, &sll(0x0800, 1, &ip4)[..15]);
    assert_malformed(LinkType::LinuxSll2, &sll2(0x0800, 1, &ip4)[..19]);
    assert_malformed(LinkType::LinuxSll, &sll(0x0800, 1, &[]));
    assert_malformed(LinkType::LinuxSll, &sll(0x0800, 1, &ip6)); // version mismatch
}

#[test]
fn bsd_null_both_byte_orders_and_loop() {
    let ip4 = ip_v4_tcp(b"");
    let ip6 = ip_v6_udp(b"");
    for af in [2u32.to_le_bytes(), 2u32.to_be_bytes()] {
        let m = parse(LinkType::Null, &with_prefix(&af, &ip4)).unwrap();
        assert_eq!(
            (m.l3_offset, m.header.src, m.header.dst_port),
            (4, v4(V4_A), 443)
        );
    }
    for af in [24u32, 28, 30] {
        for bytes in [af.to_le_bytes(), af.to_be_bytes()] {
            let m = parse(LinkType::Null, &with_prefix(&bytes, &ip6)).unwrap();
            assert_eq!((m.l3_offset, m.header.src), (4, v6(V6_A)));
        }
    }
    assert_unsupported(LinkType::Null, &with_prefix(&7u32.to_le_bytes(), &ip4));
    assert_unsupported(LinkType::Null, &with_prefix(&23u32.to_be_bytes(), &ip4));
    assert_malformed(LinkType::Null, &[2, 0, 0]);
    assert_malformed(LinkType::Null, &2u32.to_le_bytes());
    // AF says IPv6, packet is IPv4.
    assert_malformed(LinkType::Null, &with_prefix(&30u32.to_le_bytes(), &ip4));

    let m = parse(LinkType::Loop, &with_prefix(&2u32.to_be_bytes(), &ip4)).unwrap();
    assert_eq!((m.l3_offset, m.header.proto), (4, IpProtocol::TCP));
    let m = parse(LinkType::Loop, &with_prefix(&24u32.to_be_bytes(), &ip6)).unwrap();
    assert_eq!((m.l3_offset, m.header.proto), (4, IpProtocol::UDP));
    // LOOP is always network order.
    assert_unsupported(LinkType::Loop, &with_prefix(&2u32.to_le_bytes(), &ip4));
    assert_malformed(LinkType::Loop, &[0, 0]);
}

#[test]
fn raw_ipv4_ipv6_link_types() {
    let ip4 = ip_v4_udp(b"");
    let ip6 = ip_v6_udp(b"");
    assert_eq!(parse(LinkType::Raw, &ip4).unwrap().header.src, v4(V4_A));
    assert_eq!(parse(LinkType::Raw, &ip6).unwrap().header.src, v6(V6_A));
    assert_eq!(parse(LinkType::Ipv4, &ip4).unwrap().l3_offset, 0);
    assert_eq!(parse(LinkType::Ipv6, &ip6).unwrap().l4_offset, 40);
    assert_malformed(LinkType::Ipv4, &ip6);
    assert_malformed(LinkType::Ipv6, &ip4);
    let mut bad = ip4.clone();
    bad[0] = 0x55;
    assert_malformed(LinkType::Raw, &bad);
    for link in [LinkType::Raw, LinkType::Ipv4, LinkType::Ipv6] {
        assert_malformed(link, &[]);
    }
}

#[test]
fn non_ip_is_unsupported() {
    let ip = ip_v4_tcp(b"");
    assert_eq!(
        parse(LinkType::Ethernet, &eth_frame(0x0806, &[0; 28])),
        Err(ParseError::Unsupported("arp"))
    );
    assert_eq!(
        parse(LinkType::Ethernet, &eth_frame(0x88CC, &[0; 40])),
        Err(ParseError::Unsupported("lldp"))
    );
    assert_unsupported(LinkType::Ethernet, &eth_frame(0x8137, &ip)); // IPX
    assert_unsupported(LinkType::Ethernet, &eth_frame(0x8847, &ip)); // MPLS
    assert_unsupported(LinkType::Ethernet, &eth_frame(0x0040, &ip)); // 802.3 length
    assert_eq!(
        parse(LinkType::Unsupported(147), &ip),
        Err(ParseError::Unsupported("link type"))
    );
}

// ---------------------------------------------------------------------------------------
// IP layer.

/// An IPv6 packet with the given raw extension-header chain between the fixed header and
/// an upper-layer header `l4` (of protocol `last_next`, set by the caller in the chain).
fn ipv6_with_chain(first_next: u8, chain: &[u8], l4: &[u8]) -> Vec<u8> {
    let mut out = vec![0x60, 0, 0, 0];
    out.extend_from_slice(&((chain.len() + l4.len()) as u16).to_be_bytes());
    out.push(first_next);
    out.push(64);
    out.extend_from_slice(&V6_A);
    out.extend_from_slice(&V6_B);
    out.extend_from_slice(chain);
    out.extend_from_slice(l4);
    out
}

fn udp_header(sp: u16, dp: u16) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[..2].copy_from_slice(&sp.to_be_bytes());
    h[2..4].copy_from_slice(&dp.to_be_bytes());
    h[4..6].copy_from_slice(&8u16.to_be_bytes());
    h
}

#[test]
fn ipv6_extension_headers_are_walked() {
    // hop-by-hop (8) -> destination options (16) -> routing (8) -> AH (12) -> UDP
    let mut chain = Vec::new();
    chain.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    chain.extend_from_slice(&[43, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    chain.extend_from_slice(&[51, 0, 4, 0, 0, 0, 0, 0]);
    chain.extend_from_slice(&[17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    let ip = ipv6_with_chain(0, &chain, &udp_header(1000, 2000));
    let m = parse(LinkType::Ipv6, &ip).unwrap();
    assert_eq!(
        (m.header.proto, m.header.src_port, m.header.dst_port, m.l4),
        (IpProtocol::UDP, 1000, 2000, true)
    );
    assert_eq!(usize::from(m.l4_offset), 40 + chain.len());
    assert_eq!(m.frag, Frag::None);
    assert_eq!(usize::from(m.header.len), ip.len());

    // ESP ends the walk: its payload is encrypted.
    let ip = ipv6_with_chain(60, &[50, 0, 1, 4, 0, 0, 0, 0], &[0xaa; 16]);
    let m = parse(LinkType::Ipv6, &ip).unwrap();
    assert_eq!(
        (m.header.proto, m.l4, m.header.src_port, m.l4_offset),
        (IpProtocol(50), false, 0, 48)
    );

    // Hop-by-hop anywhere but first is malformed.
    assert_malformed(
        LinkType::Ipv6,
        &ipv6_with_chain(
            60,
            &[0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0],
            &udp_header(1, 2),
        ),
    );
    // Extension header longer than the packet.
    assert_malformed(
        LinkType::Ipv6,
        &ipv6_with_chain(60, &[17, 3, 1, 4, 0, 0, 0, 0], &udp_header(1, 2)),
    );
    // Extension header cut by the capture.
    let ip = ipv6_with_chain(
        0,
        &[17, 1, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &udp_header(1, 2),
    );
    assert_malformed(LinkType::Ipv6, &ip[..50]);
    // AH with a zero length field.
    assert_malformed(
        LinkType::Ipv6,
        &ipv6_with_chain(
            51,
            &[17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &udp_header(1, 2),
        ),
    );
}

fn frag_header(next: u8, offset_units: u16, more: bool, id: u32) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[0] = next;
    h[2..4].copy_from_slice(&((offset_units << 3) | u16::from(more)).to_be_bytes());
    h[4..8].copy_from_slice(&id.to_be_bytes());
    h
}

#[test]
fn ipv6_fragment_header() {
    let first = ipv6_with_chain(
        44,
        &frag_header(17, 0, true, 0xdead_beef),
        &udp_header(7, 9),
    );
    let m = parse(LinkType::Ipv6, &first).unwrap();
    assert_eq!(m.frag, Frag::First { id: 0xdead_beef });
    // The fragment's data starts after the fragment header: the 8-byte UDP header.
    assert_eq!(
        m.frag_span,
        crate::wire::FragSpan {
            start: 0,
            end: 8,
            last: false
        }
    );
    assert_eq!(
        (
            m.header.proto,
            m.header.src_port,
            m.header.dst_port,
            m.l4,
            m.l4_offset
        ),
        (IpProtocol::UDP, 7, 9, true, 48)
    );

    let later = ipv6_with_chain(44, &frag_header(17, 185, false, 0xdead_beef), &[0x55; 24]);
    let m = parse(LinkType::Ipv6, &later).unwrap();
    assert_eq!(m.frag, Frag::Later { id: 0xdead_beef });
    assert_eq!(
        m.frag_span,
        crate::wire::FragSpan {
            start: 1480,
            end: 1504,
            last: true
        }
    );
    assert_eq!(
        (m.header.proto, m.header.src_port, m.header.dst_port, m.l4),
        (IpProtocol::UDP, 0, 0, false)
    );

    // A later fragment's data is not headers, even if the first fragment's next header
    // was an extension header: garbage that would be a malformed header must not matter.
    let later = ipv6_with_chain(44, &frag_header(60, 3, true, 5), &[0xff; 8]);
    let m = parse(LinkType::Ipv6, &later).unwrap();
    assert_eq!(
        (m.header.proto, m.frag, m.l4),
        (IpProtocol(60), Frag::Later { id: 5 }, false)
    );

    // Atomic fragment (offset 0, no M): processed as a whole packet.
    let atomic = ipv6_with_chain(44, &frag_header(6, 0, false, 1), &ip_v4_tcp(b"")[20..]);
    let m = parse(LinkType::Ipv6, &atomic).unwrap();
    assert_eq!(
        (m.frag, m.header.proto, m.header.dst_port, m.l4),
        (Frag::None, IpProtocol::TCP, 443, true)
    );

    // Tiny first fragment: L4 header split across fragments parses, without L4.
    let tiny = ipv6_with_chain(44, &frag_header(6, 0, true, 2), &[0x9c, 0x40, 0x01]);
    let m = parse(LinkType::Ipv6, &tiny).unwrap();
    assert_eq!(
        (m.frag, m.l4, m.header.src_port),
        (Frag::First { id: 2 }, false, 0)
    );

    // Fragment header cut.
    assert_malformed(LinkType::Ipv6, &ipv6_with_chain(44, &[17, 0, 0, 0], &[]));
}

/// Sets the IPv4 fragment fields (and fixes the header checksum).
fn set_v4_frag(ip: &mut [u8], id: u16, offset_units: u16, more: bool) {
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    let flags = offset_units | if more { 0x2000 } else { 0 };
    ip[6..8].copy_from_slice(&flags.to_be_bytes());
    fix_ipv4_checksum(ip, 0);
}

#[test]
fn ipv4_fragments() {
    let mut first = ip_v4_udp(&[1; 32]);
    set_v4_frag(&mut first, 4242, 0, true);
    let m = parse(LinkType::Raw, &first).unwrap();
    assert_eq!(m.frag, Frag::First { id: 4242 });
    assert_eq!(
        (m.header.src_port, m.header.dst_port, m.l4),
        (5353, 53, true)
    );

    let mut later = ip_v4_udp(&[1; 32]);
    set_v4_frag(&mut later, 4242, 5, false);
    let m = parse(LinkType::Raw, &later).unwrap();
    assert_eq!(m.frag, Frag::Later { id: 4242 });
    // 8 bytes of UDP header and 32 of data, 40 bytes into the datagram, the last fragment.
    assert_eq!(
        m.frag_span,
        crate::wire::FragSpan {
            start: 40,
            end: 80,
            last: true
        }
    );
    assert_eq!(
        (m.header.proto, m.header.src_port, m.header.dst_port, m.l4),
        (IpProtocol::UDP, 0, 0, false)
    );

    let mut middle = ip_v4_udp(&[1; 32]);
    set_v4_frag(&mut middle, 7, 5, true);
    assert_eq!(
        parse(LinkType::Raw, &middle).unwrap().frag,
        Frag::Later { id: 7 }
    );

    // DF alone is not fragmentation.
    let mut df = ip_v4_udp(b"");
    df[6] = 0x40;
    assert_eq!(parse(LinkType::Raw, &df).unwrap().frag, Frag::None);

    // Tiny first fragment: 4 bytes of TCP.
    let mut tiny = ip_v4_tcp(b"")[..24].to_vec();
    tiny[2..4].copy_from_slice(&24u16.to_be_bytes());
    set_v4_frag(&mut tiny, 9, 0, true);
    let m = parse(LinkType::Raw, &tiny).unwrap();
    assert_eq!(
        (m.frag, m.l4, m.header.src_port),
        (Frag::First { id: 9 }, false, 0)
    );
}

#[test]
fn truncated_l4_parses_without_ports() {
    for ip in [ip_v4_tcp(b"data"), ip_v6_tcp(b"data")] {
        let frame = eth_frame(ethertype_of(&ip), &ip);
        let l4 = parse(LinkType::Ethernet, &frame).unwrap().l4_offset as usize;
        for cut in l4..l4 + 20 {
            let m = parse(LinkType::Ethernet, &frame[..cut]).unwrap();
            assert!(!m.l4, "cut at {cut}");
            assert_eq!(
                (
                    m.header.src_port,
                    m.header.dst_port,
                    m.header.tcp_flags,
                    m.header.proto
                ),
                (0, 0, 0, IpProtocol::TCP)
            );
            assert_eq!(usize::from(m.header.len), ip.len());
        }
        let m = parse(LinkType::Ethernet, &frame[..l4 + 20]).unwrap();
        assert!(m.l4);
    }
    for ip in [ip_v4_udp(b""), ip_v6_udp(b"")] {
        let l4 = ip.len() - 8;
        for cut in l4..ip.len() {
            let m = parse(LinkType::Raw, &ip[..cut]).unwrap();
            assert_eq!(
                (m.l4, m.header.src_port, m.header.proto),
                (false, 0, IpProtocol::UDP)
            );
        }
    }
    let icmp = icmp_v4(true, 0x1234, b"ping");
    for cut in 20..28 {
        let m = parse(LinkType::Raw, &icmp[..cut]).unwrap();
        assert_eq!((m.l4, m.header.icmp_type, m.header.src_port), (false, 0, 0));
    }
}

#[test]
fn tcp_options_cut_by_snaplen_still_give_ports() {
    let mut ip = Vec::new();
    PacketBuilder::ipv4(V4_A, V4_B, 64)
        .tcp(1, 2, 3, 4)
        .syn()
        .options(&[etherparse::TcpOptionElement::MaximumSegmentSize(1460)])
        .unwrap()
        .write(&mut ip, b"")
        .unwrap();
    assert_eq!(ip.len(), 44);
    let m = parse(LinkType::Raw, &ip[..42]).unwrap();
    assert_eq!(
        (
            m.l4,
            m.header.src_port,
            m.header.dst_port,
            m.header.tcp_flags
        ),
        (true, 1, 2, tcp_flags::SYN)
    );
}

#[test]
fn malformed_ip_and_l4() {
    let tcp = ip_v4_tcp(b"payload");
    // Header cut at every length below 20.
    for cut in 0..20 {
        assert_malformed(LinkType::Raw, &tcp[..cut]);
        assert_malformed(LinkType::Ethernet, &eth_frame(0x0800, &tcp[..cut]));
    }
    // IHL below 5.
    let mut bad = tcp.clone();
    bad[0] = 0x44;
    assert_malformed(LinkType::Raw, &bad);
    // IHL beyond the captured bytes.
    let mut bad = tcp[..20].to_vec();
    bad[0] = 0x46;
    assert_malformed(LinkType::Raw, &bad);
    // Total length shorter than the header.
    let mut bad = tcp.clone();
    bad[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert_malformed(LinkType::Raw, &bad);
    // Whole packet whose length leaves no room for the TCP header.
    let mut bad = tcp.clone();
    bad[2..4].copy_from_slice(&30u16.to_be_bytes());
    assert_eq!(
        parse(LinkType::Raw, &bad),
        Err(ParseError::Malformed("l4 header truncated"))
    );
    // TCP data offset below 5, and beyond a whole packet.
    let mut bad = tcp.clone();
    bad[32] = 0x40;
    assert_eq!(
        parse(LinkType::Raw, &bad),
        Err(ParseError::Malformed("tcp data offset"))
    );
    let mut bad = tcp.clone();
    bad[32] = 0xf0;
    assert_eq!(
        parse(LinkType::Raw, &bad),
        Err(ParseError::Malformed("tcp header length"))
    );
    // IPv6 header cut; version mismatch behind an Ethernet IPv6 ethertype.
    let v6 = ip_v6_udp(b"");
    for cut in 0..40 {
        assert_malformed(LinkType::Ipv6, &v6[..cut]);
    }
    assert_malformed(LinkType::Ethernet, &eth_frame(0x86DD, &tcp));
    assert_malformed(LinkType::Ethernet, &eth_frame(0x0800, &v6));
    // Ethernet header cut.
    for cut in 0..14 {
        assert_malformed(LinkType::Ethernet, &eth_frame(0x0800, &tcp)[..cut]);
    }
}

#[test]
fn unknown_protocols_parse_without_ports() {
    for proto in [47u8, 50, 51, 132, 255] {
        let mut ip = Vec::new();
        PacketBuilder::ipv4(V4_A, V4_B, 9)
            .write(&mut ip, etherparse::IpNumber(proto), &[0xab; 40])
            .unwrap();
        let m = parse(LinkType::Raw, &ip).unwrap();
        assert_eq!(
            (
                m.header.proto,
                m.header.src_port,
                m.header.dst_port,
                m.l4,
                m.l4_offset
            ),
            (IpProtocol(proto), 0, 0, false, 20)
        );
    }
    // ICMPv6 inside IPv4 and ICMPv4 inside IPv6 are not ICMP.
    let mut ip = Vec::new();
    PacketBuilder::ipv4(V4_A, V4_B, 9)
        .write(
            &mut ip,
            etherparse::IpNumber(58),
            &[128, 0, 0, 0, 0, 1, 0, 1],
        )
        .unwrap();
    let m = parse(LinkType::Raw, &ip).unwrap();
    assert_eq!((m.header.icmp_type, m.header.src_port, m.l4), (0, 0, false));
}

fn icmp_v4(request: bool, id: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let b = PacketBuilder::ipv4(V4_A, V4_B, 64);
    if request {
        b.icmpv4_echo_request(id, 1)
            .write(&mut out, payload)
            .unwrap();
    } else {
        b.icmpv4_echo_reply(id, 1).write(&mut out, payload).unwrap();
    }
    out
}

fn icmp_v6(request: bool, id: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let b = PacketBuilder::ipv6(V6_A, V6_B, 64);
    if request {
        b.icmpv6_echo_request(id, 1)
            .write(&mut out, payload)
            .unwrap();
    } else {
        b.icmpv6_echo_reply(id, 1).write(&mut out, payload).unwrap();
    }
    out
}

#[test]
fn icmp_echo_identifier_in_both_ports() {
    for (ip, ty) in [
        (icmp_v4(true, 0xbeef, b"x"), 8),
        (icmp_v4(false, 0xbeef, b"x"), 0),
        (icmp_v6(true, 0xbeef, b"x"), 128),
        (icmp_v6(false, 0xbeef, b"x"), 129),
    ] {
        let m = parse(LinkType::Raw, &ip).unwrap();
        assert_eq!((m.header.icmp_type, m.header.icmp_code), (ty, 0));
        assert_eq!(
            (m.header.src_port, m.header.dst_port, m.l4),
            (0xbeef, 0xbeef, true)
        );
    }
    // Destination unreachable: type and code, no identifier.
    let mut ip = Vec::new();
    PacketBuilder::ipv4(V4_A, V4_B, 64)
        .icmpv4_raw(3, 1, [0; 4])
        .write(&mut ip, &[0x45; 28])
        .unwrap();
    let m = parse(LinkType::Raw, &ip).unwrap();
    assert_eq!(
        (
            m.header.proto,
            m.header.icmp_type,
            m.header.icmp_code,
            m.header.src_port,
            m.l4
        ),
        (IpProtocol::ICMP, 3, 1, 0, true)
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let links = [
        LinkType::Ethernet,
        LinkType::Raw,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::Null,
        LinkType::Loop,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
    ];
    let seed = eth_vlan(&[0x8100], &ip_v6_tcp(b"0123456789"));
    for i in 0..20_000 {
        let link = links[i % links.len()];
        // Mutations of a valid frame reach deeper than pure noise.
        let mut frame = if i % 2 == 0 {
            seed.clone()
        } else {
            rng.payload(120)
        };
        for _ in 0..rng.below(4) {
            if !frame.is_empty() {
                let at = rng.below(frame.len());
                frame[at] = rng.u8();
            }
        }
        frame.truncate(rng.below(frame.len() + 1));
        if let Ok(m) = parse(link, &frame) {
            assert!(usize::from(m.l4_offset) <= frame.len());
            let mut copy = frame.clone();
            let new = Rewrite {
                src: m.header.dst,
                dst: m.header.src,
                src_port: 1,
                dst_port: 2,
                ttl: 0,
            };
            rewrite(&mut copy, &m, &new);
            let mut out = Vec::new();
            to_ethernet(&frame, &m, MAC_A, MAC_B, &mut out);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rewrite.

/// Asserts every checksum in an Ethernet frame equals etherparse's full recomputation.
fn assert_checksums(frame: &[u8]) {
    let p = SlicedPacket::from_ethernet(frame).expect("frame slices");
    let (src, dst): (Vec<u8>, Vec<u8>) = match p.net.as_ref().expect("ip") {
        NetSlice::Ipv4(ip) => {
            let h = ip.header();
            assert_eq!(
                h.header_checksum(),
                h.to_header().calc_header_checksum(),
                "ipv4 header checksum"
            );
            (h.source().to_vec(), h.destination().to_vec())
        }
        NetSlice::Ipv6(ip) => (
            ip.header().source().to_vec(),
            ip.header().destination().to_vec(),
        ),
    };
    let v4 = src.len() == 4;
    let a4 = |b: &[u8]| <[u8; 4]>::try_from(b).unwrap();
    let a16 = |b: &[u8]| <[u8; 16]>::try_from(b).unwrap();
    match p.transport.expect("transport") {
        TransportSlice::Tcp(tcp) => {
            let expected = if v4 {
                tcp.calc_checksum_ipv4(a4(&src), a4(&dst)).unwrap()
            } else {
                tcp.calc_checksum_ipv6(a16(&src), a16(&dst)).unwrap()
            };
            assert_eq!(tcp.checksum(), expected, "tcp checksum");
        }
        TransportSlice::Udp(udp) => {
            if udp.checksum() == 0 {
                return;
            }
            let h = udp.to_header();
            let expected = if v4 {
                h.calc_checksum_ipv4_raw(a4(&src), a4(&dst), udp.payload())
                    .unwrap()
            } else {
                h.calc_checksum_ipv6_raw(a16(&src), a16(&dst), udp.payload())
                    .unwrap()
            };
            assert_eq!(udp.checksum(), expected, "udp checksum");
        }
        TransportSlice::Icmpv4(icmp) => {
            assert_eq!(
                icmp.checksum(),
                icmp.icmp_type().calc_checksum(icmp.payload()),
                "icmpv4 checksum"
            );
        }
        TransportSlice::Icmpv6(icmp) => {
            let expected = icmp
                .icmp_type()
                .calc_checksum(a16(&src), a16(&dst), icmp.payload())
                .unwrap();
            assert_eq!(icmp.checksum(), expected, "icmpv6 checksum");
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Tcp,
    Udp,
    Icmp,
}

fn random_addr(rng: &mut Rng, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(rng.bytes::<16>()))
    } else {
        IpAddr::V4(Ipv4Addr::from(rng.bytes::<4>()))
    }
}

/// A random Ethernet frame (0–2 VLAN tags) of the given family and kind.
fn random_frame(rng: &mut Rng, is_v6: bool, kind: Kind) -> Vec<u8> {
    let tags = rng.below(3);
    let eth = PacketBuilder::ethernet2(rng.bytes(), rng.bytes());
    let payload = rng.payload(300);
    let ttl = rng.u8();
    let mut out = Vec::new();
    macro_rules! finish {
        ($ip:expr) => {
            match kind {
                Kind::Tcp => {
                    let mut b = $ip.tcp(rng.u16(), rng.u16(), rng.u32(), rng.u16());
                    if rng.u8() & 1 == 1 {
                        b = b.ack(rng.u32());
                    }
                    b.write(&mut out, &payload).unwrap()
                }
                Kind::Udp => $ip
                    .udp(rng.u16(), rng.u16())
                    .write(&mut out, &payload)
                    .unwrap(),
                Kind::Icmp => {
                    let (id, seq) = (rng.u16(), rng.u16());
                    match (is_v6, rng.u8() & 1 == 1) {
                        (false, true) => $ip.icmpv4_echo_request(id, seq).write(&mut out, &payload),
                        (false, false) => $ip.icmpv4_echo_reply(id, seq).write(&mut out, &payload),
                        (true, true) => $ip.icmpv6_echo_request(id, seq).write(&mut out, &payload),
                        (true, false) => $ip.icmpv6_echo_reply(id, seq).write(&mut out, &payload),
                    }
                    .unwrap()
                }
            }
        };
    }
    macro_rules! with_ip {
        ($link:expr) => {
            if is_v6 {
                finish!($link.ipv6(rng.bytes(), rng.bytes(), ttl))
            } else {
                finish!($link.ipv4(rng.bytes(), rng.bytes(), ttl))
            }
        };
    }
    match tags {
        0 => with_ip!(eth),
        1 => with_ip!(eth.single_vlan(etherparse::VlanId::try_new(rng.u16() & 0xfff).unwrap())),
        _ => with_ip!(eth.double_vlan(
            etherparse::VlanId::try_new(rng.u16() & 0xfff).unwrap(),
            etherparse::VlanId::try_new(rng.u16() & 0xfff).unwrap()
        )),
    }
    out
}

/// Random rewrites of random packets: the result must have exactly the checksums a full
/// recomputation gives, and must parse back to the new values.
#[test]
fn rewrite_checksums_match_full_recomputation() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..6000 {
        let is_v6 = round % 2 == 1;
        let kind = [Kind::Tcp, Kind::Udp, Kind::Icmp][(round / 2) % 3];
        let frame = random_frame(&mut rng, is_v6, kind);
        assert_checksums(&frame);
        let meta = parse(LinkType::Ethernet, &frame).unwrap();
        assert!(meta.l4);

        // Change a random subset of the fields (sometimes none).
        let mask = rng.u8();
        let new = Rewrite {
            src: if mask & 1 != 0 {
                random_addr(&mut rng, is_v6)
            } else {
                meta.header.src
            },
            dst: if mask & 2 != 0 {
                random_addr(&mut rng, is_v6)
            } else {
                meta.header.dst
            },
            src_port: if mask & 4 != 0 {
                rng.u16()
            } else {
                meta.header.src_port
            },
            dst_port: if mask & 8 != 0 {
                rng.u16()
            } else {
                meta.header.dst_port
            },
            ttl: if mask & 16 != 0 {
                rng.u8()
            } else {
                meta.header.ttl
            },
        };
        let mut out = frame.clone();
        rewrite(&mut out, &meta, &new);
        assert_checksums(&out);

        let m2 = parse(LinkType::Ethernet, &out).unwrap();
        assert_eq!(
            (m2.header.src, m2.header.dst, m2.header.ttl),
            (new.src, new.dst, new.ttl),
            "{kind:?}"
        );
        match kind {
            Kind::Tcp | Kind::Udp => {
                assert_eq!(
                    (m2.header.src_port, m2.header.dst_port),
                    (new.src_port, new.dst_port)
                )
            }
            Kind::Icmp => {
                let id = if new.src_port != meta.header.src_port {
                    new.src_port
                } else {
                    new.dst_port
                };
                assert_eq!((m2.header.src_port, m2.header.dst_port), (id, id));
            }
        }
        assert_eq!(
            (
                m2.header.proto,
                m2.frag,
                m2.l3_offset,
                m2.l4_offset,
                m2.header.len,
                m2.header.tcp_flags,
                m2.header.icmp_type
            ),
            (
                meta.header.proto,
                meta.frag,
                meta.l3_offset,
                meta.l4_offset,
                meta.header.len,
                meta.header.tcp_flags,
                meta.header.icmp_type
            )
        );
        // Rewriting back restores the original bytes.
        let back = Rewrite {
            src: meta.header.src,
            dst: meta.header.dst,
            src_port: meta.header.src_port,
            dst_port: meta.header.dst_port,
            ttl: meta.header.ttl,
        };
        let mut restored = out.clone();
        rewrite(&mut restored, &m2, &back);
        if kind == Kind::Udp {
            // 0x0000 and 0xffff are the same one's-complement value; UDP may swap them.
            assert_checksums(&restored);
        } else {
            assert_eq!(restored, frame);
        }
    }
}

#[test]
fn rewrite_udp_every_port_including_zero_result() {
    // Every source port: one of them makes the new sum 0xffff, whose checksum must be
    // sent as 0xffff, not 0.
    for ip in [ip_v4_udp(b"odd"), ip_v6_udp(b"odd")] {
        let frame = eth_frame(ethertype_of(&ip), &ip);
        let meta = parse(LinkType::Ethernet, &frame).unwrap();
        let l4 = usize::from(meta.l4_offset);
        let mut saw_ffff = false;
        for port in 0..=u16::MAX {
            let mut out = frame.clone();
            let new = Rewrite {
                src: meta.header.src,
                dst: meta.header.dst,
                src_port: port,
                dst_port: meta.header.dst_port,
                ttl: meta.header.ttl,
            };
            rewrite(&mut out, &meta, &new);
            assert_ne!(&out[l4 + 6..l4 + 8], &[0, 0]);
            saw_ffff |= out[l4 + 6..l4 + 8] == [0xff, 0xff];
            if port % 97 == 0 || out[l4 + 6..l4 + 8] == [0xff, 0xff] {
                assert_checksums(&out);
            }
        }
        assert!(saw_ffff);
    }
}

#[test]
fn rewrite_udp_zero_checksum_stays_zero() {
    let mut ip = ip_v4_udp(b"no checksum");
    ip[26] = 0;
    ip[27] = 0;
    let frame = eth_frame(0x0800, &ip);
    let meta = parse(LinkType::Ethernet, &frame).unwrap();
    let mut out = frame.clone();
    rewrite(
        &mut out,
        &meta,
        &Rewrite {
            src: v4([100, 64, 0, 1]),
            dst: meta.header.dst,
            src_port: 61000,
            dst_port: 53,
            ttl: 63,
        },
    );
    assert_eq!(&out[14 + 26..14 + 28], &[0, 0]);
    let m2 = parse(LinkType::Ethernet, &out).unwrap();
    assert_eq!(
        (m2.header.src, m2.header.src_port, m2.header.ttl),
        (v4([100, 64, 0, 1]), 61000, 63)
    );
    assert_checksums(&out);
}

#[test]
fn rewrite_icmp_echo_identifier_rule() {
    for ip in [icmp_v4(true, 100, b"abc"), icmp_v6(false, 100, b"abc")] {
        let frame = eth_frame(ethertype_of(&ip), &ip);
        let meta = parse(LinkType::Ethernet, &frame).unwrap();
        let base = Rewrite {
            src: meta.header.src,
            dst: meta.header.dst,
            src_port: meta.header.src_port,
            dst_port: meta.header.dst_port,
            ttl: meta.header.ttl - 1,
        };
        // Source NAT: src_port changed.
        let mut out = frame.clone();
        rewrite(
            &mut out,
            &meta,
            &Rewrite {
                src_port: 2000,
                dst_port: 3000,
                ..base
            },
        );
        assert_eq!(
            parse(LinkType::Ethernet, &out).unwrap().header.src_port,
            2000
        );
        assert_checksums(&out);
        // Destination NAT: only dst_port changed.
        let mut out = frame.clone();
        rewrite(
            &mut out,
            &meta,
            &Rewrite {
                dst_port: 3000,
                ..base
            },
        );
        assert_eq!(
            parse(LinkType::Ethernet, &out).unwrap().header.dst_port,
            3000
        );
        assert_checksums(&out);
    }
}

#[test]
fn rewrite_icmpv6_non_echo_adjusts_for_addresses() {
    let mut ip = Vec::new();
    PacketBuilder::ipv6(V6_A, V6_B, 64)
        .icmpv6_raw(1, 4, [0; 4])
        .write(&mut ip, &[0x60; 48])
        .unwrap();
    let frame = eth_frame(0x86DD, &ip);
    let meta = parse(LinkType::Ethernet, &frame).unwrap();
    assert_eq!((meta.header.icmp_type, meta.header.src_port), (1, 0));
    let mut out = frame.clone();
    rewrite(
        &mut out,
        &meta,
        &Rewrite {
            src: v6([0xfd; 16]),
            dst: meta.header.dst,
            src_port: 9,
            dst_port: 9,
            ttl: 1,
        },
    );
    assert_checksums(&out);
    // No identifier to write in a non-echo message.
    assert_eq!(&out[14 + 44..14 + 48], &ip[44..48]);
}

#[test]
fn rewrite_non_first_fragment_touches_only_ip() {
    let mut ip = ip_v4_udp(&[7; 40]);
    set_v4_frag(&mut ip, 77, 2, false);
    let frame = eth_frame(0x0800, &ip);
    let meta = parse(LinkType::Ethernet, &frame).unwrap();
    let mut out = frame.clone();
    rewrite(
        &mut out,
        &meta,
        &Rewrite {
            src: v4([1, 2, 3, 4]),
            dst: meta.header.dst,
            src_port: 1,
            dst_port: 2,
            ttl: 5,
        },
    );
    assert_eq!(&out[34..], &frame[34..]);
    let m2 = parse(LinkType::Ethernet, &out).unwrap();
    assert_eq!(
        (m2.header.src, m2.header.ttl, m2.frag),
        (v4([1, 2, 3, 4]), 5, Frag::Later { id: 77 })
    );
    let hdr = etherparse::Ipv4HeaderSlice::from_slice(&out[14..]).unwrap();
    assert_eq!(
        hdr.header_checksum(),
        hdr.to_header().calc_header_checksum()
    );

    // IPv6 later fragment: addresses and hop limit only.
    let ip = ipv6_with_chain(44, &frag_header(6, 10, false, 3), &[0xee; 16]);
    let meta = parse(LinkType::Ipv6, &ip).unwrap();
    let mut out = ip.clone();
    rewrite(
        &mut out,
        &meta,
        &Rewrite {
            src: meta.header.src,
            dst: v6([9; 16]),
            src_port: 1,
            dst_port: 2,
            ttl: 1,
        },
    );
    assert_eq!(&out[40..], &ip[40..]);
    assert_eq!((out[7], &out[24..40]), (1, &[9u8; 16][..]));
}

#[test]
fn rewrite_first_fragment_keeps_reassembled_checksum_valid() {
    // The checksum of a first fragment covers the whole datagram; build the whole one,
    // rewrite its first fragment's bytes, and check the reassembled datagram.
    let whole = ip_v4_udp(&[3; 64]);
    let mut first = whole[..20 + 8 + 32].to_vec();
    first[2..4].copy_from_slice(&60u16.to_be_bytes());
    set_v4_frag(&mut first, 1, 0, true);
    let meta = parse(LinkType::Raw, &first).unwrap();
    assert_eq!((meta.frag, meta.l4), (Frag::First { id: 1 }, true));
    let new = Rewrite {
        src: v4([8, 8, 4, 4]),
        dst: meta.header.dst,
        src_port: 1,
        dst_port: 53,
        ttl: 1,
    };
    rewrite(&mut first, &meta, &new);
    let mut reassembled = whole.clone();
    rewrite(
        &mut reassembled,
        &parse(LinkType::Raw, &whole).unwrap(),
        &new,
    );
    assert_eq!(&first[20..], &reassembled[20..60]);
    assert_checksums(&eth_frame(0x0800, &reassembled));
}

#[test]
fn rewrite_truncated_frames_only_touches_existing_bytes() {
    let full = eth_frame(0x0800, &ip_v4_tcp(b"payload"));
    let new = Rewrite {
        src: v4([1, 1, 1, 1]),
        dst: v4([2, 2, 2, 2]),
        src_port: 3,
        dst_port: 4,
        ttl: 5,
    };
    for cut in 34..full.len() {
        let frame = &full[..cut];
        let meta = parse(LinkType::Ethernet, frame).unwrap();
        let mut out = frame.to_vec();
        rewrite(&mut out, &meta, &new);
        assert_eq!(out.len(), cut);
        let m2 = parse(LinkType::Ethernet, &out).unwrap();
        assert_eq!(
            (m2.header.src, m2.header.dst, m2.header.ttl),
            (new.src, new.dst, new.ttl)
        );
        if meta.l4 {
            assert_eq!((m2.header.src_port, m2.header.dst_port), (3, 4));
            // Same bytes as rewriting the whole frame, then cutting.
            let mut whole = full.clone();
            rewrite(&mut whole, &parse(LinkType::Ethernet, &full).unwrap(), &new);
            assert_eq!(&out[..], &whole[..cut]);
        } else {
            assert_eq!(&out[34..], &frame[34..]);
        }
    }
}

#[test]
fn rewrite_noop_and_family_mismatch_leave_frame_unchanged() {
    for ip in [
        ip_v4_tcp(b"a"),
        ip_v6_udp(b"b"),
        icmp_v4(true, 1, b""),
        icmp_v6(true, 1, b""),
    ] {
        let frame = eth_frame(ethertype_of(&ip), &ip);
        let meta = parse(LinkType::Ethernet, &frame).unwrap();
        let same = Rewrite {
            src: meta.header.src,
            dst: meta.header.dst,
            src_port: meta.header.src_port,
            dst_port: meta.header.dst_port,
            ttl: meta.header.ttl,
        };
        let mut out = frame.clone();
        rewrite(&mut out, &meta, &same);
        assert_eq!(out, frame);
        let other = if meta.header.src.is_ipv4() {
            v6(V6_A)
        } else {
            v4(V4_A)
        };
        for new in [
            Rewrite { src: other, ..same },
            Rewrite { dst: other, ..same },
        ] {
            let mut out = frame.clone();
            rewrite(
                &mut out,
                &meta,
                &Rewrite {
                    ttl: 1,
                    src_port: 9,
                    ..new
                },
            );
            assert_eq!(out, frame);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Output framing and building.

#[test]
fn to_ethernet_reframes_any_link_type() {
    let ip4 = ip_v4_tcp(b"abc");
    let ip6 = ip_v6_udp(b"abc");
    let inputs = [
        (LinkType::Ethernet, eth_vlan(&[0x88A8, 0x8100], &ip4)),
        (LinkType::LinuxSll, sll(0x86DD, 1, &ip6)),
        (LinkType::LinuxSll2, sll2(0x0800, 1, &ip4)),
        (LinkType::Null, with_prefix(&30u32.to_le_bytes(), &ip6)),
        (LinkType::Raw, ip4.clone()),
        (LinkType::Raw, ip6[..50].to_vec()),
    ];
    for (link, frame) in inputs {
        let meta = parse(link, &frame).unwrap();
        let mut out = vec![0xcc]; // appends, does not overwrite
        to_ethernet(&frame, &meta, MAC_A, MAC_B, &mut out);
        assert_eq!(out[0], 0xcc);
        let out = &out[1..];
        assert_eq!(&out[..6], &MAC_B);
        assert_eq!(&out[6..12], &MAC_A);
        let ip = &frame[usize::from(meta.l3_offset)..];
        assert_eq!(u16::from_be_bytes([out[12], out[13]]), ethertype_of(ip));
        assert_eq!(&out[14..], ip);
        let m2 = parse(LinkType::Ethernet, out).unwrap();
        assert_eq!(m2.l3_offset, 14);
        assert_eq!(
            (
                m2.header.src,
                m2.header.dst,
                m2.header.proto,
                m2.header.src_port,
                m2.header.dst_port,
                m2.l4,
                m2.header.len
            ),
            (
                meta.header.src,
                meta.header.dst,
                meta.header.proto,
                meta.header.src_port,
                meta.header.dst_port,
                meta.l4,
                meta.header.len
            )
        );
    }
}

#[test]
fn build_every_kind_both_families() {
    let specs = [
        L4Spec::Tcp {
            src_port: 1234,
            dst_port: 80,
            seq: 1,
            ack: 99,
            flags: tcp_flags::SYN | tcp_flags::ECE | tcp_flags::CWR,
            window: 65535,
        },
        L4Spec::Tcp {
            src_port: 1,
            dst_port: 2,
            seq: 3,
            ack: 4,
            flags: 0xff,
            window: 5,
        },
        L4Spec::Udp {
            src_port: 5000,
            dst_port: 53,
        },
        L4Spec::IcmpEcho {
            request: true,
            id: 77,
            seq: 1,
        },
        L4Spec::IcmpEcho {
            request: false,
            id: 77,
            seq: 1,
        },
        L4Spec::Other {
            proto: IpProtocol(47),
        },
    ];
    for (src, dst) in [(v4(V4_A), v4(V4_B)), (v6(V6_A), v6(V6_B))] {
        for l4 in specs {
            for payload_len in [0, 1, 100, 1500] {
                let spec = PacketSpec {
                    src,
                    dst,
                    src_mac: MAC_A,
                    dst_mac: MAC_B,
                    ttl: 42,
                    l4,
                    payload_len,
                };
                let mut out = Vec::new();
                build(&spec, &mut out);
                let m = parse(LinkType::Ethernet, &out).unwrap();
                assert_eq!(&out[..12], &[MAC_B, MAC_A].concat()[..]);
                assert_eq!((m.header.src, m.header.dst, m.header.ttl), (src, dst, 42));
                let header = if src.is_ipv4() { 20 } else { 40 };
                match l4 {
                    L4Spec::Tcp {
                        src_port,
                        dst_port,
                        flags,
                        seq,
                        ack,
                        ..
                    } => {
                        assert_eq!(
                            (
                                m.header.proto,
                                m.header.src_port,
                                m.header.dst_port,
                                m.header.tcp_flags
                            ),
                            (IpProtocol::TCP, src_port, dst_port, flags)
                        );
                        let t = &out[usize::from(m.l4_offset)..];
                        assert_eq!(u32::from_be_bytes(t[4..8].try_into().unwrap()), seq);
                        assert_eq!(u32::from_be_bytes(t[8..12].try_into().unwrap()), ack);
                        assert_eq!(out.len(), 14 + header + 20 + payload_len);
                        assert_checksums(&out);
                    }
                    L4Spec::Udp { src_port, dst_port } => {
                        assert_eq!(
                            (m.header.proto, m.header.src_port, m.header.dst_port),
                            (IpProtocol::UDP, src_port, dst_port)
                        );
                        assert_checksums(&out);
                    }
                    L4Spec::IcmpEcho { request, id, .. } => {
                        let ty = match (src.is_ipv4(), request) {
                            (true, true) => 8,
                            (true, false) => 0,
                            (false, true) => 128,
                            (false, false) => 129,
                        };
                        assert_eq!(
                            (m.header.icmp_type, m.header.src_port, m.header.dst_port),
                            (ty, id, id)
                        );
                        assert_checksums(&out);
                    }
                    L4Spec::Other { proto } => {
                        assert_eq!((m.header.proto, m.l4), (proto, false));
                        assert_eq!(out.len(), 14 + header + payload_len);
                    }
                }
                // Deterministic.
                let mut again = Vec::new();
                build(&spec, &mut again);
                assert_eq!(again, out);
            }
        }
    }
}

#[test]
fn build_clamps_payload_and_rejects_mixed_families() {
    let spec = PacketSpec {
        src: v4(V4_A),
        dst: v4(V4_B),
        src_mac: MAC_A,
        dst_mac: MAC_B,
        ttl: 1,
        l4: L4Spec::Udp {
            src_port: 1,
            dst_port: 2,
        },
        payload_len: 1 << 20,
    };
    let mut out = Vec::new();
    build(&spec, &mut out);
    assert_eq!(out.len(), 14 + 65535);
    assert_eq!(parse(LinkType::Ethernet, &out).unwrap().header.len, 65535);
    assert_checksums(&out);

    let mut out = Vec::new();
    build(
        &PacketSpec {
            src: v6(V6_A),
            dst: v6(V6_B),
            ..spec
        },
        &mut out,
    );
    assert_eq!(out.len(), 14 + 40 + 65535);
    assert_checksums(&out);

    let mut out = vec![1, 2, 3];
    build(
        &PacketSpec {
            dst: v6(V6_B),
            ..spec
        },
        &mut out,
    );
    assert_eq!(out, [1, 2, 3]);
}
