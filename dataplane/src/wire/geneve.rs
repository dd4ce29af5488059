//! GENEVE encapsulation as a Gateway Load Balancer sends packets to its appliances (SPEC §11.4,
//! RFC 8926).
//!
//! The pipeline only records an [`Encapsulation`] in the verdict (no bytes, no allocation);
//! whoever writes output captures builds the header with [`write_headers`] in its own buffer.
//!
//! AWS puts three mandatory options of class 0x0108 in every packet: the GWLB endpoint id (type
//! 1, 8 bytes), the attachment id (type 2, 8 bytes) and the flow cookie (type 3, 4 bytes). With
//! the outer IPv4 (20) and UDP (8) headers and the 8-byte GENEVE base header that is 68 bytes in
//! front of the client's packet, the number AWS documents (SPEC.md says 64; see [`OVERHEAD`]).

use crate::topology::EniIdx;
use crate::wire::Header;
use std::net::Ipv4Addr;

/// UDP port GWLB and appliances exchange GENEVE on.
pub const PORT: u16 = 6081;
/// AWS's GENEVE option class.
pub const AWS_OPTION_CLASS: u16 = 0x0108;
/// Option types of class 0x0108.
pub const OPTION_ENDPOINT_ID: u8 = 1;
/// Option type of the attachment id.
pub const OPTION_ATTACHMENT_ID: u8 = 2;
/// Option type of the flow cookie.
pub const OPTION_FLOW_COOKIE: u8 = 3;
/// Length of the three options with their 4-byte option headers: (4 + 8) + (4 + 8) + (4 + 4).
pub const OPTIONS_LEN: usize = 32;
/// GENEVE base header plus options.
pub const GENEVE_LEN: usize = 8 + OPTIONS_LEN;
/// Bytes added in front of the client's IP packet: outer IPv4, UDP, GENEVE with options.
/// AWS documents 68 (appliance MTU ≥ 8568); SPEC.md's 64/8564 leaves out the type 3 option.
pub const OVERHEAD: usize = 20 + 8 + GENEVE_LEN;
/// Largest client packet a Gateway Load Balancer carries (its interface MTU): larger ones are
/// dropped, never fragmented, and no ICMP "fragmentation needed" is sent (SPEC §15).
pub const GWLB_MTU: u32 = 8500;

/// How a packet was wrapped for an appliance: enough to rebuild the bytes the appliance received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encapsulation {
    /// The appliance's interface (the target).
    pub appliance: EniIdx,
    /// The load balancer node's private address.
    pub outer_src: Ipv4Addr,
    /// The appliance's private address.
    pub outer_dst: Ipv4Addr,
    /// Outer UDP source port: from the flow hash, so one flow keeps one outer 5-tuple.
    pub src_port: u16,
    /// Option type 1: the GWLB endpoint id.
    pub endpoint_id: u64,
    /// Option type 2: the attachment id.
    pub attachment_id: u64,
    /// Option type 3: the flow cookie (from the flow hash).
    pub flow_cookie: u32,
    /// The client's packet as it was wrapped.
    pub inner: Header,
}

impl Encapsulation {
    /// The outer header of the GENEVE datagram (node → appliance), as filters see it.
    pub fn outer_header(&self) -> Header {
        Header {
            src: self.outer_src.into(),
            dst: self.outer_dst.into(),
            proto: crate::wire::IpProtocol::UDP,
            src_port: self.src_port,
            dst_port: PORT,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 0,
            ttl: 64,
            len: (self.inner.len as usize + OVERHEAD).min(u16::MAX as usize) as u16,
        }
    }
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in bytes.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += w as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Append the outer IPv4, UDP and GENEVE headers for a client packet of `inner_len` bytes (IPv6
/// when `inner_v6`) to `out`; the caller appends the client packet itself. The UDP checksum is 0
/// (allowed over IPv4).
pub fn write_headers(e: &Encapsulation, inner_len: usize, inner_v6: bool, out: &mut Vec<u8>) {
    let start = out.len();
    let total = (OVERHEAD + inner_len).min(u16::MAX as usize) as u16;
    let udp_len = total - 20;
    // Outer IPv4: DF set (GWLB never fragments), TTL 64, protocol UDP.
    out.extend_from_slice(&[0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0]);
    out[start + 2..start + 4].copy_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&e.outer_src.octets());
    out.extend_from_slice(&e.outer_dst.octets());
    let c = checksum(&out[start..start + 20]);
    out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
    // UDP.
    out.extend_from_slice(&e.src_port.to_be_bytes());
    out.extend_from_slice(&PORT.to_be_bytes());
    out.extend_from_slice(&udp_len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    // GENEVE base header: version 0, option length in 4-byte words, no O/C flags, protocol
    // type of the inner packet, VNI 0.
    let proto: u16 = if inner_v6 { 0x86dd } else { 0x0800 };
    out.push((OPTIONS_LEN / 4) as u8);
    out.push(0);
    out.extend_from_slice(&proto.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    // Options: class, type, length of the data in 4-byte words.
    let option = |out: &mut Vec<u8>, kind: u8, data: &[u8]| {
        out.extend_from_slice(&AWS_OPTION_CLASS.to_be_bytes());
        out.push(kind);
        out.push((data.len() / 4) as u8);
        out.extend_from_slice(data);
    };
    option(out, OPTION_ENDPOINT_ID, &e.endpoint_id.to_be_bytes());
    option(out, OPTION_ATTACHMENT_ID, &e.attachment_id.to_be_bytes());
    option(out, OPTION_FLOW_COOKIE, &e.flow_cookie.to_be_bytes());
    debug_assert_eq!(out.len() - start, OVERHEAD);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc() -> Encapsulation {
        Encapsulation {
            appliance: EniIdx(3),
            outer_src: Ipv4Addr::new(10, 9, 0, 4),
            outer_dst: Ipv4Addr::new(10, 9, 1, 10),
            src_port: 51234,
            endpoint_id: 0x0123_4567_89ab_cdef,
            attachment_id: 42,
            flow_cookie: 0xdead_beef,
            inner: Header {
                src: "10.0.1.10".parse().unwrap(),
                dst: "198.51.100.7".parse().unwrap(),
                proto: crate::wire::IpProtocol::TCP,
                src_port: 40000,
                dst_port: 443,
                icmp_type: 0,
                icmp_code: 0,
                tcp_flags: 2,
                ttl: 64,
                len: 60,
            },
        }
    }

    #[test]
    fn header_layout() {
        let mut b = Vec::new();
        write_headers(&enc(), 60, false, &mut b);
        assert_eq!(b.len(), OVERHEAD);
        assert_eq!(OVERHEAD, 68);
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), 128);
        assert_eq!(checksum(&b[..20]), 0, "IPv4 header checksum verifies");
        assert_eq!(u16::from_be_bytes([b[22], b[23]]), 6081);
        assert_eq!(u16::from_be_bytes([b[24], b[25]]), 108);
        let g = &b[28..];
        assert_eq!(g[0] >> 6, 0, "version 0");
        assert_eq!((g[0] & 0x3f) as usize * 4, OPTIONS_LEN);
        assert_eq!(u16::from_be_bytes([g[2], g[3]]), 0x0800);
        let o = &g[8..];
        assert_eq!(u16::from_be_bytes([o[0], o[1]]), 0x0108);
        assert_eq!((o[2], o[3]), (1, 2));
        assert_eq!(&o[4..12], &0x0123_4567_89ab_cdefu64.to_be_bytes());
        assert_eq!((o[14], o[15]), (2, 2));
        assert_eq!((o[26], o[27]), (3, 1));
        assert_eq!(&o[28..32], &0xdead_beefu32.to_be_bytes());
    }

    #[test]
    fn outer_header_is_udp_6081() {
        let h = enc().outer_header();
        assert_eq!(h.proto, crate::wire::IpProtocol::UDP);
        assert_eq!(h.dst_port, PORT);
        assert_eq!(h.len, 60 + 68);
    }
}
