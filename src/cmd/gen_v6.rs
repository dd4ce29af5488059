//! IPv6 flows in `gen` for dual-stack topologies.
//!
//! `gen` draws its flows over IPv4; where both ends of a flow also have IPv6 (an interface with
//! an IPv6 address, or the internet), half of them are sent over IPv6 instead: the interface's
//! first IPv6 address, for an Elastic IP or public IPv4 address the interface's IPv6 address
//! (IPv6 addresses are public themselves), and for an internet host an address of
//! 2001:db8:100::/64 (the documentation prefix, RFC 3849) holding its IPv4 address in the low 32
//! bits. ICMP echo becomes ICMPv6 echo.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vpcsim_dataplane::wire::{Header, IpProtocol};
use vpcsim_dataplane::Topology;

/// ICMPv6 echo request.
const ICMPV6_ECHO_REQUEST: u8 = 128;

/// Whether any interface of the topology has an IPv6 address (only then are flows moved).
pub fn dual_stack(topo: &Topology) -> bool {
    topo.enis.iter().any(|e| !e.ipv6.is_empty())
}

/// The flow `h` over IPv6, when both its ends have IPv6; otherwise unchanged.
pub fn to_ipv6(topo: &Topology, h: &mut Header) {
    let (Some(src), Some(dst)) = (ipv6_of(topo, h.src), ipv6_of(topo, h.dst)) else {
        return;
    };
    h.src = IpAddr::V6(src);
    h.dst = IpAddr::V6(dst);
    if h.proto == IpProtocol::ICMP {
        h.proto = IpProtocol::ICMPV6;
        h.icmp_type = ICMPV6_ECHO_REQUEST;
    }
}

/// The IPv6 address standing for an IPv4 one: the owning interface's, or for an address of the
/// internet one of 2001:db8:100::/64. `None` for an interface without IPv6.
fn ipv6_of(topo: &Topology, a: IpAddr) -> Option<Ipv6Addr> {
    let IpAddr::V4(v4) = a else {
        return None;
    };
    let owner = topo.owner_of(a).or_else(|| {
        topo.enis
            .iter_enumerated()
            .find(|(_, e)| e.public_v4.iter().any(|&(_, public)| public == v4))
            .map(|(i, _)| i)
    });
    match owner {
        Some(eni) => topo.enis[eni].ipv6.first().copied(),
        None if is_internet(v4) => Some(Ipv6Addr::from(
            (0x2001_0db8_0100_0000u128 << 64) | u128::from(u32::from(v4)),
        )),
        None => None,
    }
}

/// Addresses `gen` uses for internet hosts (the IPv4 documentation ranges, RFC 5737).
fn is_internet(a: Ipv4Addr) -> bool {
    matches!(
        a.octets(),
        [198, 51, 100, _] | [203, 0, 113, _] | [192, 0, 2, _]
    )
}
