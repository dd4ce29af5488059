//! Frames out: re-framing parsed packets as Ethernet, and building synthetic packets.

use std::net::IpAddr;

use etherparse::{IpNumber, PacketBuilder, TcpHeader};

use super::parse::Meta;
use super::IpProtocol;

const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xDD];

/// Append to `out` an Ethernet II frame (dst MAC, src MAC, ethertype 0x0800/0x86DD)
/// followed by the IP packet of `frame` (from `meta.l3_offset` to the end of the captured
/// bytes).
///
/// Output pcaps are always `LINKTYPE_ETHERNET` whatever the input framing, so that one
/// file can hold packets from captures of different link types and the MACs can show
/// which hop (ENI, gateway) emitted each packet. VLAN tags are thereby dropped, as they
/// are when AWS hands a packet to an ENI.
pub fn to_ethernet(
    frame: &[u8],
    meta: &Meta,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    out: &mut Vec<u8>,
) {
    let ip = frame.get(usize::from(meta.l3_offset)..).unwrap_or_default();
    out.reserve(14 + ip.len());
    out.extend_from_slice(&dst_mac);
    out.extend_from_slice(&src_mac);
    out.extend_from_slice(match meta.header.src {
        IpAddr::V4(_) => &ETHERTYPE_IPV4,
        IpAddr::V6(_) => &ETHERTYPE_IPV6,
    });
    out.extend_from_slice(ip);
}

/// A synthetic packet for `vpcsim gen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketSpec {
    /// Source address; must be of the same family as `dst`.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Ethernet source MAC.
    pub src_mac: [u8; 6],
    /// Ethernet destination MAC.
    pub dst_mac: [u8; 6],
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The transport header.
    pub l4: L4Spec,
    /// Bytes of payload after the L4 header (clamped to what fits in one IP packet).
    pub payload_len: usize,
}

/// The transport header of a [`PacketSpec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4Spec {
    /// TCP with no options; `flags` uses the bits of [`super::tcp_flags`]. `ack` is
    /// written as given even without the ACK flag.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Flags byte (FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128).
        flags: u8,
        /// Window size.
        window: u16,
    },
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// ICMPv4 echo (types 8/0) or ICMPv6 echo (128/129), by address family.
    IcmpEcho {
        /// Request (true) or reply (false).
        request: bool,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Any other protocol: the payload directly follows the IP header.
    Other {
        /// Protocol written in the IP header.
        proto: IpProtocol,
    },
}

/// Payload filler: printable, so synthetic packets are recognisable in a hex dump, and
/// the same for every run, so generated pcaps are reproducible.
static FILLER: [u8; 65535] = {
    const PATTERN: &[u8] = b"vpcsim synthetic payload 0123456789 ";
    let mut buf = [0u8; 65535];
    let mut i = 0;
    while i < buf.len() {
        buf[i] = PATTERN[i % PATTERN.len()];
        i += 1;
    }
    buf
};

/// Build a complete Ethernet frame for synthetic traffic, with correct checksums, and
/// append it to `out`.
///
/// `payload_len` is clamped so that the IP packet fits its 16-bit length field. If `src`
/// and `dst` are of different address families nothing is appended (no such packet
/// exists; the caller can notice `out` did not grow).
pub fn build(spec: &PacketSpec, out: &mut Vec<u8>) {
    let eth = PacketBuilder::ethernet2(spec.src_mac, spec.dst_mac);
    let (ip, v6) = match (spec.src, spec.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (eth.ipv4(s.octets(), d.octets(), spec.ttl), false),
        (IpAddr::V6(s), IpAddr::V6(d)) => (eth.ipv6(s.octets(), d.octets(), spec.ttl), true),
        _ => return,
    };
    let l4_len = match spec.l4 {
        L4Spec::Tcp { .. } => 20,
        L4Spec::Udp { .. } | L4Spec::IcmpEcho { .. } => 8,
        L4Spec::Other { .. } => 0,
    };
    // IPv4 counts its own header in the total length; IPv6 only the payload.
    let max_payload = usize::from(u16::MAX) - l4_len - if v6 { 0 } else { 20 };
    let payload = &FILLER[..spec.payload_len.min(max_payload)];

    let start = out.len();
    let written = match spec.l4 {
        L4Spec::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
        } => {
            let mut tcp = TcpHeader::new(src_port, dst_port, seq, window);
            tcp.acknowledgment_number = ack;
            tcp.fin = flags & 0x01 != 0;
            tcp.syn = flags & 0x02 != 0;
            tcp.rst = flags & 0x04 != 0;
            tcp.psh = flags & 0x08 != 0;
            tcp.ack = flags & 0x10 != 0;
            tcp.urg = flags & 0x20 != 0;
            tcp.ece = flags & 0x40 != 0;
            tcp.cwr = flags & 0x80 != 0;
            ip.tcp_header(tcp).write(out, payload)
        }
        L4Spec::Udp { src_port, dst_port } => ip.udp(src_port, dst_port).write(out, payload),
        L4Spec::IcmpEcho { request, id, seq } => match (v6, request) {
            (false, true) => ip.icmpv4_echo_request(id, seq).write(out, payload),
            (false, false) => ip.icmpv4_echo_reply(id, seq).write(out, payload),
            (true, true) => ip.icmpv6_echo_request(id, seq).write(out, payload),
            (true, false) => ip.icmpv6_echo_reply(id, seq).write(out, payload),
        },
        L4Spec::Other { proto } => ip.write(out, IpNumber(proto.0), payload),
    };
    // Cannot fail given the clamp above; if it ever did, leave no half-written frame.
    if written.is_err() {
        out.truncate(start);
    }
}
