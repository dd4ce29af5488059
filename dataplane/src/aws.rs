//! AWS's reserved addresses and fixed numbers, in one place: every node of the stage graph and
//! both drivers (concrete and symbolic) read them here, so they cannot drift apart.

use crate::topology::{EigwIdx, EniIdx, ResId, Topology, VpcIdx};
use crate::wire::Family;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The Amazon DNS resolver's link-local IPv4 address (besides the VPC's base + 2; SPEC §1.7).
pub const AMAZON_DNS_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 253);
/// The instance metadata service.
pub const IMDS_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
/// The Amazon Time Sync Service.
pub const TIME_SYNC_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 123);
/// The Amazon DNS resolver on the Nitro IPv6 link-local range.
pub const AMAZON_DNS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x253);
/// The instance metadata service over IPv6.
pub const IMDS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
/// The Amazon Time Sync Service over IPv6.
pub const TIME_SYNC_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x123);

/// Link-local destinations, never forwarded by a route table: 169.254.0.0/16, fe80::/10 and
/// the Nitro services' fd00:ec2::/32.
pub const LINK_LOCAL_V4: [(u32, u8); 1] = [(0xa9fe_0000, 16)];
/// See [`LINK_LOCAL_V4`].
pub const LINK_LOCAL_V6: [(u128, u8); 2] = [(0xfe80 << 112, 10), (0xfd00_0ec2 << 96, 32)];

/// RFC 1918 private and RFC 6598 shared address space: an internet gateway carries neither.
pub const NOT_ROUTED_BY_IGW_V4: [(u32, u8); 4] = [
    (0x0a00_0000, 8),
    (0xac10_0000, 12),
    (0xc0a8_0000, 16),
    (0x6440_0000, 10),
];

/// IPv4 space that is not a public internet address: `0/8`, RFC 1918, RFC 6598, loopback,
/// link-local, multicast and reserved (`240/4`). What `--to internet` excludes.
pub const NOT_PUBLIC_V4: [(u32, u8); 9] = [
    (0x0000_0000, 8),
    (0x0a00_0000, 8),
    (0x6440_0000, 10),
    (0x7f00_0000, 8),
    (0xa9fe_0000, 16),
    (0xac10_0000, 12),
    (0xc0a8_0000, 16),
    (0xe000_0000, 4),
    (0xf000_0000, 4),
];
/// Global unicast IPv6 (`2000::/3`): the public IPv6 internet.
pub const PUBLIC_V6: (u128, u8) = (0x2000 << 112, 3);

/// Ports (and ICMP echo identifiers) a NAT gateway translates to (SPEC §6.2).
pub const NAT_PORTS: (u16, u16) = (1024, 65535);

/// Forwarding steps (appliances, transit gateways, hairpins through an internet gateway)
/// before a packet is declared looping. Not an AWS number: AWS has TTLs and loop protection;
/// this bounds the simulation the same way.
pub const MAX_FORWARDS: u8 = 16;

/// The largest packet a transit gateway carries through VPC, Direct Connect gateway and peering
/// attachments (SPEC §9.4); larger ones are dropped, with no ICMP back.
pub const TGW_MTU: u32 = 8500;

/// The TTL of the first packet of a flow as symbolic analysis assumes it (Linux's default).
pub const START_TTL: u8 = 64;

/// Whether a destination is link-local (never routed).
#[inline]
pub fn is_link_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => {
            (a.segments()[0] & 0xffc0) == 0xfe80 || a.segments()[0..2] == [0xfd00, 0x0ec2]
        }
    }
}

/// Whether an internet gateway drops this address (RFC 1918, RFC 6598).
#[inline]
pub fn is_not_routed_by_igw(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(_) => false,
    }
}

/// The link-local service answering at `dst` for instances of `vpc`, if any: the Amazon DNS
/// resolver (also at the VPC's base + 2), instance metadata, time sync. They answer on the
/// host: neither security groups nor network ACLs see these packets.
#[inline]
pub fn service_at(topo: &Topology, vpc: VpcIdx, dst: IpAddr) -> Option<ResId> {
    match dst {
        IpAddr::V4(a) if a == AMAZON_DNS_V4 => Some(Topology::AMAZON_DNS),
        IpAddr::V4(a) if Some(a) == topo.vpcs[vpc].resolver_v4 => Some(Topology::AMAZON_DNS),
        IpAddr::V4(a) if a == IMDS_V4 => Some(Topology::IMDS),
        IpAddr::V4(a) if a == TIME_SYNC_V4 => Some(Topology::TIME_SYNC),
        IpAddr::V6(a) if a == AMAZON_DNS_V6 => Some(Topology::AMAZON_DNS),
        IpAddr::V6(a) if a == IMDS_V6 => Some(Topology::IMDS),
        IpAddr::V6(a) if a == TIME_SYNC_V6 => Some(Topology::TIME_SYNC),
        _ => None,
    }
}

/// The service addresses of [`service_at`] for `vpc` in one family, each with its service.
pub fn service_addresses(topo: &Topology, vpc: VpcIdx, fam: Family) -> Vec<(u128, ResId)> {
    match fam {
        Family::V4 => {
            let mut v = vec![
                (AMAZON_DNS_V4.to_bits() as u128, Topology::AMAZON_DNS),
                (IMDS_V4.to_bits() as u128, Topology::IMDS),
                (TIME_SYNC_V4.to_bits() as u128, Topology::TIME_SYNC),
            ];
            if let Some(r) = topo.vpcs[vpc].resolver_v4 {
                v.push((r.to_bits() as u128, Topology::AMAZON_DNS));
            }
            v
        }
        Family::V6 => vec![
            (AMAZON_DNS_V6.to_bits(), Topology::AMAZON_DNS),
            (IMDS_V6.to_bits(), Topology::IMDS),
            (TIME_SYNC_V6.to_bits(), Topology::TIME_SYNC),
        ],
    }
}

/// A connection-tracking zone: whose table a connection is tracked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Zone {
    /// A network interface (its security groups).
    Interface(EniIdx),
    /// An egress-only internet gateway (stateful for IPv6).
    EgressOnlyGateway(EigwIdx),
}

impl Zone {
    /// Interfaces use their index; egress-only gateways this base plus theirs.
    const EGRESS_ONLY_BASE: u32 = 0x8000_0000;

    /// The zone as the tables key it.
    #[inline]
    pub fn id(self) -> u32 {
        match self {
            Zone::Interface(e) => e.0,
            Zone::EgressOnlyGateway(g) => Zone::EGRESS_ONLY_BASE | g.0,
        }
    }

    /// The interface whose zone has this [`Zone::id`], when it is an interface's.
    #[inline]
    pub(crate) fn interface_of(id: u32) -> Option<EniIdx> {
        (id < Zone::EGRESS_ONLY_BASE).then_some(EniIdx(id))
    }
}

/// Ranges of one family from `(network, prefix length)` pairs, as numbers.
pub fn ranges_v4(nets: &[(u32, u8)]) -> Vec<(u128, u128)> {
    nets.iter()
        .map(|&(n, l)| {
            Family::prefix_range(&ipnet::IpNet::V4(
                ipnet::Ipv4Net::new(Ipv4Addr::from_bits(n), l).unwrap_or_default(),
            ))
        })
        .collect()
}

/// See [`ranges_v4`].
pub fn ranges_v6(nets: &[(u128, u8)]) -> Vec<(u128, u128)> {
    nets.iter()
        .map(|&(n, l)| {
            Family::prefix_range(&ipnet::IpNet::V6(
                ipnet::Ipv6Net::new(Ipv6Addr::from_bits(n), l).unwrap_or_default(),
            ))
        })
        .collect()
}
