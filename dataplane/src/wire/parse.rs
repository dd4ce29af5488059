//! Frame → [`Meta`]: the handful of header fields the data plane decides on, and where they
//! are in the frame.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{err, IpAuthHeaderSlice, Ipv4HeaderSlice, Ipv6HeaderSlice, Ipv6RawExtHeaderSlice};

use super::link::{locate_l3, L3Kind, LinkType};
use super::{Header, IpProtocol};

/// Fragmentation state, because only a first (or unfragmented) packet carries ports and
/// reassembly is keyed on the IP identification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Frag {
    /// Not a fragment (IPv6 "atomic fragments", offset 0 without M, count as this too:
    /// RFC 6946 says to process them as whole packets).
    None,
    /// Offset 0 with more fragments to come: carries the L4 header.
    First {
        /// IPv4 identification (zero-extended) or IPv6 fragment identification.
        id: u32,
    },
    /// Non-zero offset: no L4 header, so no ports.
    Later {
        /// IPv4 identification (zero-extended) or IPv6 fragment identification.
        id: u32,
    },
}

/// Which bytes of the original datagram a fragment carries, so the fragment table can tell
/// when every fragment of a datagram has passed and forget it (as reassembly frees its queue)
/// instead of holding it until the timeout. All zero for an unfragmented packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FragSpan {
    /// Offset of the fragment's data in the original datagram's fragmentable part, in bytes.
    pub start: u32,
    /// One past its last byte, as the IP length fields claim (not as captured).
    pub end: u32,
    /// The fragment has no "more fragments" flag: its end is the datagram's.
    pub last: bool,
}

/// The parsed view of one frame, small and `Copy` so that every pipeline stage can take
/// it by value without touching the frame again: the packet's [`Header`], which the
/// pipeline decides on, and what only the frame has: fragmentation, whether the L4 header
/// was captured, and where the headers are for [`super::rewrite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// The header fields. When `l4` is false every L4 field of it is zero.
    pub header: Header,
    /// Fragmentation state.
    pub frag: Frag,
    /// The bytes a fragment carries; zero when `frag` is [`Frag::None`].
    pub frag_span: FragSpan,
    /// True when the L4 fields were captured: the 20-byte fixed TCP header (options may
    /// be cut), the 8-byte UDP header, or the 8-byte ICMP/ICMPv6 header. Always false for
    /// non-first fragments and for protocols other than TCP, UDP, ICMP, ICMPv6.
    pub l4: bool,
    /// Byte offset of the IP header inside the frame.
    pub l3_offset: u16,
    /// Byte offset of the IP payload after all walked extension headers, i.e. of the
    /// TCP/UDP/ICMP header when `l4` is true.
    pub l4_offset: u16,
}

/// Why a frame yields no [`Meta`]. Reasons are static so that drop counters can be keyed
/// on them without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseError {
    /// Not IP at all (ARP, LLDP, unknown link type...): not the VPC's business.
    Unsupported(&'static str),
    /// Claims to be IP but is cut or self-contradictory: the VPC would drop it.
    Malformed(&'static str),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Unsupported(why) => write!(f, "unsupported: {why}"),
            ParseError::Malformed(why) => write!(f, "malformed: {why}"),
        }
    }
}

impl std::error::Error for ParseError {}

const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTE: u8 = 43;
const IPV6_FRAG: u8 = 44;
const IP_AUTH: u8 = 51;
const IPV6_DEST_OPTIONS: u8 = 60;

/// Parses one captured frame of the given link type.
///
/// Snap-length truncation is expected in captures, so a frame whose IP header is whole
/// but whose L4 header is cut (or absent, in a non-first fragment) still parses, with
/// `l4 = false`. A packet whose *own* length fields leave no room for its L4 header, by
/// contrast, is [`ParseError::Malformed`]: no capture setting explains it.
///
/// Header checksums are not verified: captures taken on the sending host routinely carry
/// offloaded (not yet computed) checksums.
pub fn parse(link: LinkType, frame: &[u8]) -> Result<Meta, ParseError> {
    let (l3, kind) = locate_l3(link, frame)?;
    let ip = frame
        .get(l3..)
        .ok_or(ParseError::Malformed("ip header truncated"))?;
    let version = match ip.first() {
        Some(b) => b >> 4,
        None => return Err(ParseError::Malformed("ip header truncated")),
    };
    match (kind, version) {
        (L3Kind::Ipv4 | L3Kind::ByVersion, 4) => parse_ipv4(frame, l3),
        (L3Kind::Ipv6 | L3Kind::ByVersion, 6) => parse_ipv6(frame, l3),
        (L3Kind::ByVersion, _) => Err(ParseError::Malformed("ip version")),
        _ => Err(ParseError::Malformed("ip version mismatch")),
    }
}

/// Where the IP packet's bytes end and whether the capture cut it short.
struct IpExtent {
    /// Offset one past the last byte of the IP packet that is in the frame.
    end: usize,
    /// The header claims more bytes than were captured (snap length).
    incomplete: bool,
}

impl IpExtent {
    fn new(frame_len: usize, claimed_end: usize) -> IpExtent {
        IpExtent {
            end: claimed_end.min(frame_len),
            incomplete: claimed_end > frame_len,
        }
    }
}

fn offset_u16(offset: usize) -> Result<u16, ParseError> {
    u16::try_from(offset).map_err(|_| ParseError::Malformed("headers beyond 64 KiB"))
}

fn parse_ipv4(frame: &[u8], l3: usize) -> Result<Meta, ParseError> {
    let ip = frame.get(l3..).unwrap_or_default();
    let hdr = Ipv4HeaderSlice::from_slice(ip).map_err(|e| match e {
        err::ipv4::HeaderSliceError::Len(_) => ParseError::Malformed("ipv4 header truncated"),
        err::ipv4::HeaderSliceError::Content(_) => ParseError::Malformed("ipv4 header length"),
    })?;
    let header_len = hdr.slice().len();
    let total_len = hdr.total_len();
    if usize::from(total_len) < header_len {
        return Err(ParseError::Malformed("ipv4 total length"));
    }
    let extent = IpExtent::new(frame.len(), l3 + usize::from(total_len));

    let id = u32::from(hdr.identification());
    let frag = if hdr.fragments_offset().value() != 0 {
        Frag::Later { id }
    } else if hdr.more_fragments() {
        Frag::First { id }
    } else {
        Frag::None
    };

    let frag_span = match frag {
        Frag::None => FragSpan::default(),
        _ => {
            let start = u32::from(hdr.fragments_offset().value()) * 8;
            FragSpan {
                start,
                end: start + u32::from(total_len) - header_len as u32,
                last: !hdr.more_fragments(),
            }
        }
    };
    let l4_offset = l3 + header_len;
    let mut meta = Meta {
        header: Header {
            src: IpAddr::V4(Ipv4Addr::from(hdr.source())),
            dst: IpAddr::V4(Ipv4Addr::from(hdr.destination())),
            proto: IpProtocol(hdr.protocol().0),
            src_port: 0,
            dst_port: 0,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 0,
            ttl: hdr.ttl(),
            len: total_len,
        },
        frag,
        frag_span,
        l4: false,
        l3_offset: offset_u16(l3)?,
        l4_offset: offset_u16(l4_offset)?,
    };
    parse_l4(frame, l4_offset, &extent, false, &mut meta)?;
    Ok(meta)
}

fn parse_ipv6(frame: &[u8], l3: usize) -> Result<Meta, ParseError> {
    let ip = frame.get(l3..).unwrap_or_default();
    let hdr = Ipv6HeaderSlice::from_slice(ip).map_err(|e| match e {
        err::ipv6::HeaderSliceError::Len(_) => ParseError::Malformed("ipv6 header truncated"),
        err::ipv6::HeaderSliceError::Content(_) => ParseError::Malformed("ipv6 header"),
    })?;
    let payload_len = usize::from(hdr.payload_length());
    // A zero payload length is a jumbogram or a segmentation-offloaded packet captured
    // before the stack filled the field in: the captured bytes are all we can go by.
    let claimed_end = if payload_len == 0 {
        frame.len().max(l3 + 40)
    } else {
        l3 + 40 + payload_len
    };
    let extent = IpExtent::new(frame.len(), claimed_end);
    let (proto, frag, l4_offset, fragment) =
        walk_ipv6_extensions(frame, l3 + 40, hdr.next_header().0, &extent)?;
    let frag_span = match (frag, fragment) {
        (Frag::None, _) | (_, None) => FragSpan::default(),
        (_, Some((offset_and_m, data_at))) => {
            let start = u32::from(offset_and_m >> 3) * 8;
            FragSpan {
                start,
                end: start + claimed_end.saturating_sub(data_at) as u32,
                last: offset_and_m & 1 == 0,
            }
        }
    };

    let mut meta = Meta {
        header: Header {
            src: IpAddr::V6(Ipv6Addr::from(hdr.source())),
            dst: IpAddr::V6(Ipv6Addr::from(hdr.destination())),
            proto: IpProtocol(proto),
            src_port: 0,
            dst_port: 0,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 0,
            ttl: hdr.hop_limit(),
            len: u16::try_from(40 + payload_len).unwrap_or(u16::MAX),
        },
        frag,
        frag_span,
        l4: false,
        l3_offset: offset_u16(l3)?,
        l4_offset: offset_u16(l4_offset)?,
    };
    parse_l4(frame, l4_offset, &extent, true, &mut meta)?;
    Ok(meta)
}

/// What [`walk_ipv6_extensions`] found: the transport protocol, the fragmentation state, the
/// transport header's offset, and for a fragment its header's offset-and-M field and where its
/// data starts.
type Ipv6Walk = (u8, Frag, usize, Option<(u16, usize)>);

/// Walks the IPv6 extension headers that can precede the transport header, returning the
/// transport protocol, the fragmentation state and the transport header's offset.
///
/// The walk stops at a non-first fragment's fragment header, because what follows it is
/// the middle of the original payload, not more headers. A cut extension header is
/// `Malformed` even under a snap length: without the transport protocol nothing about
/// the packet can be evaluated.
fn walk_ipv6_extensions(
    frame: &[u8],
    mut offset: usize,
    mut next: u8,
    extent: &IpExtent,
) -> Result<Ipv6Walk, ParseError> {
    const TRUNCATED: ParseError = ParseError::Malformed("ipv6 extension header truncated");
    let mut frag = Frag::None;
    let mut fragment = None;
    let mut first = true;
    loop {
        let rest = frame.get(offset..extent.end).unwrap_or_default();
        match next {
            IPV6_HOP_BY_HOP | IPV6_ROUTE | IPV6_DEST_OPTIONS => {
                if next == IPV6_HOP_BY_HOP && !first {
                    return Err(ParseError::Malformed("ipv6 hop-by-hop not first"));
                }
                let ext = Ipv6RawExtHeaderSlice::from_slice(rest).map_err(|_| TRUNCATED)?;
                next = ext.next_header().0;
                offset += ext.slice().len();
            }
            IPV6_FRAG => {
                // Decoded by hand: etherparse 0.16 reads the offset and M flag from the
                // wrong bits (etherparse issue #150, fixed only in 0.20).
                let Some(&[next_header, _, off_hi, off_lo, a, b, c, d]) = rest.get(..8) else {
                    return Err(TRUNCATED);
                };
                next = next_header;
                offset += 8;
                let offset_and_m = u16::from_be_bytes([off_hi, off_lo]);
                let id = u32::from_be_bytes([a, b, c, d]);
                fragment = Some((offset_and_m, offset));
                if offset_and_m >> 3 != 0 {
                    return Ok((next, Frag::Later { id }, offset, fragment));
                }
                if offset_and_m & 1 != 0 {
                    frag = Frag::First { id };
                }
            }
            IP_AUTH => {
                let ext = IpAuthHeaderSlice::from_slice(rest).map_err(|e| match e {
                    err::ip_auth::HeaderSliceError::Len(_) => TRUNCATED,
                    err::ip_auth::HeaderSliceError::Content(_) => {
                        ParseError::Malformed("ipv6 auth header length")
                    }
                })?;
                next = ext.next_header().0;
                offset += ext.slice().len();
            }
            _ => return Ok((next, frag, offset, fragment)),
        }
        first = false;
    }
}

/// Reads the L4 fields the data plane matches on into `meta` (which holds them zeroed).
fn parse_l4(
    frame: &[u8],
    l4_offset: usize,
    extent: &IpExtent,
    v6: bool,
    meta: &mut Meta,
) -> Result<(), ParseError> {
    // Header bytes needed before the fields below can be trusted.
    let needed = match (meta.header.proto, v6) {
        (IpProtocol::TCP, _) => 20,
        (IpProtocol::UDP, _) => 8,
        (IpProtocol::ICMP, false) | (IpProtocol::ICMPV6, true) => 8,
        _ => return Ok(()),
    };
    if matches!(meta.frag, Frag::Later { .. }) {
        return Ok(());
    }
    let l4 = frame.get(l4_offset..extent.end).unwrap_or_default();
    let Some(h) = l4.get(..needed) else {
        // A snap length or a tiny first fragment can cut the header; a whole packet cannot.
        if extent.incomplete || matches!(meta.frag, Frag::First { .. }) {
            return Ok(());
        }
        return Err(ParseError::Malformed("l4 header truncated"));
    };
    let be16 = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    let header = &mut meta.header;
    match header.proto {
        IpProtocol::TCP => {
            let header_len = usize::from(h[12] >> 4) * 4;
            if header_len < 20 {
                return Err(ParseError::Malformed("tcp data offset"));
            }
            if header_len > l4.len() && !extent.incomplete && meta.frag == Frag::None {
                return Err(ParseError::Malformed("tcp header length"));
            }
            header.src_port = be16(0);
            header.dst_port = be16(2);
            header.tcp_flags = h[13];
        }
        IpProtocol::UDP => {
            header.src_port = be16(0);
            header.dst_port = be16(2);
        }
        _ => {
            header.icmp_type = h[0];
            header.icmp_code = h[1];
            if is_echo(v6, h[0]) {
                let id = be16(4);
                header.src_port = id;
                header.dst_port = id;
            }
        }
    }
    meta.l4 = true;
    Ok(())
}

/// Echo request/reply are the ICMP messages whose identifier plays the role of a port
/// (connection tracking and NAT key on it).
pub(super) fn is_echo(v6: bool, icmp_type: u8) -> bool {
    if v6 {
        matches!(icmp_type, 128 | 129)
    } else {
        matches!(icmp_type, 0 | 8)
    }
}
