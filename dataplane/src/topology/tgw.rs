//! Transit gateways (SPEC §9): attachments, their association with a transit gateway route
//! table, and the route tables themselves (static routes beat propagated ones for the same
//! prefix; longest prefix otherwise).
//!
//! Also [`PrefixMap`], the small IPv4 + IPv6 longest-prefix table that transit gateway route
//! tables, virtual private gateways and the on-premises origin lookup share.

use crate::space::first_match_segs;
use crate::tables::lpm::{Lpm, LpmBuilder};
use crate::topology::{
    ResId, SubnetIdx, TgwAttachmentIdx, TgwIdx, TgwRouteTableIdx, Topology, VpcIdx, VpnConnIdx,
};
use crate::wire::{Family, FlowKey, Header};
use ipnet::IpNet;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::net::IpAddr;

/// Longest-prefix match over IPv4 and IPv6 prefixes, each mapped to a `K`: an index into
/// whatever table the caller keeps, stored as the `u32` it is. For two entries with the same
/// prefix the first one wins.
#[derive(Clone, Debug, Default)]
pub struct PrefixMap<K> {
    v4: Lpm<u32>,
    v6: Lpm<u128>,
    /// Per family, the segments on which one value wins (the symbolic side of
    /// [`PrefixMap::lookup`], computed from it).
    segs: [Vec<(u128, u128, usize)>; 2],
    key: PhantomData<K>,
}

impl<K: Copy + From<u32> + Into<u32>> PrefixMap<K> {
    /// The map of `entries`; for two with the same prefix the first is kept.
    pub fn new(entries: impl IntoIterator<Item = (IpNet, K)>) -> PrefixMap<K> {
        let entries: Vec<(IpNet, u32)> = entries.into_iter().map(|(n, k)| (n, k.into())).collect();
        let mut v4 = LpmBuilder::<u32>::new();
        let mut v6 = LpmBuilder::<u128>::new();
        // A later insert of the same prefix replaces the value: insert in reverse so the first
        // entry of the caller's list is the one kept.
        for (net, value) in entries.iter().rev() {
            match net {
                IpNet::V4(n) => v4.insert(n.network().to_bits(), n.prefix_len(), *value),
                IpNet::V6(n) => v6.insert(n.network().to_bits(), n.prefix_len(), *value),
            }
        }
        let mut m = PrefixMap {
            v4: v4.build(),
            v6: v6.build(),
            segs: [Vec::new(), Vec::new()],
            key: PhantomData,
        };
        m.segs = [Family::V4, Family::V6].map(|fam| {
            let ranges: Vec<(u128, u128)> = entries
                .iter()
                .filter(|(n, _)| Family::of_net(n) == fam)
                .map(|(n, _)| Family::prefix_range(n))
                .collect();
            first_match_segs(&ranges, |a| m.stored(fam.addr(a)).map(|v| v as usize))
        });
        m
    }

    /// The segments of one family: sorted, disjoint `(lo, hi, value)`.
    pub fn segments_of(&self, fam: Family) -> &[(u128, u128, usize)] {
        &self.segs[fam as usize]
    }

    /// The value of the longest prefix that holds `a`.
    #[inline]
    pub fn lookup(&self, a: IpAddr) -> Option<K> {
        self.stored(a).map(K::from)
    }

    /// The value [`PrefixMap::lookup`] finds, as stored.
    #[inline]
    fn stored(&self, a: IpAddr) -> Option<u32> {
        match a {
            IpAddr::V4(a) => self.v4.lookup(a.to_bits()),
            IpAddr::V6(a) => self.v6.lookup(a.to_bits()),
        }
    }

    /// Whether the map holds no prefix.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// A transit gateway; its attachments and route tables point at it.
#[derive(Clone, Debug, Default)]
pub struct TransitGateway {
    /// The `AWS::EC2::TransitGateway` resource, which names it in output.
    pub res: ResId,
}

/// What a transit gateway attachment connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachmentKind {
    /// A VPC: the gateway has an interface in one subnet per enabled Availability Zone.
    Vpc(VpcIdx),
    /// A Site-to-Site VPN connection (index into [`Topology::vpn_connections`]).
    Vpn(VpnConnIdx),
    /// One side of a transit gateway peering attachment: what leaves through it arrives at
    /// the peer transit gateway from `peer`, the other side, and that side's route table
    /// decides (SPEC §9.1).
    Peering {
        /// The other side: an attachment of the peer transit gateway with the same resource.
        peer: TgwAttachmentIdx,
        /// The peer is in another Region (Availability Zones do not carry over).
        cross_region: bool,
    },
}

/// A transit gateway attachment: the VPC or VPN connection it connects to the gateway.
#[derive(Clone, Debug)]
pub struct TgwAttachment {
    /// The attachment's resource, which names it in output.
    pub res: ResId,
    /// The transit gateway.
    pub tgw: TgwIdx,
    /// What it connects.
    pub kind: AttachmentKind,
    /// VPC attachments: one subnet per Availability Zone, ordered by zone name.
    pub subnets: Vec<SubnetIdx>,
    /// Appliance mode (`Options.ApplianceModeSupport: enable`): traffic sent to this attachment
    /// uses one zone per flow, chosen by a flow hash, in both directions (SPEC §9.3).
    pub appliance_mode: bool,
    /// The transit gateway route table that decides for packets arriving from this attachment.
    pub route_table: Option<TgwRouteTableIdx>,
}

impl TgwAttachment {
    /// The attachment's subnet in an Availability Zone (by [`crate::topology::Subnet::az`]).
    #[inline]
    pub fn subnet_in(&self, topo: &Topology, az: u32) -> Option<SubnetIdx> {
        self.subnets
            .iter()
            .copied()
            .find(|&s| topo.subnets[s].az == az)
    }

    /// The subnet a packet of this flow leaves the transit gateway through. Without appliance
    /// mode the flow stays in the zone it entered when the attachment has a subnet there; with
    /// appliance mode (or when the zone is not enabled) a symmetric flow hash picks one, so a
    /// request and its reply use the same zone.
    #[inline]
    pub fn egress_subnet(&self, topo: &Topology, entry_az: Option<u32>, h: &Header) -> SubnetIdx {
        if !self.appliance_mode {
            if let Some(s) = entry_az.and_then(|az| self.subnet_in(topo, az)) {
                return s;
            }
        }
        let n = self.subnets.len().max(1) as u64;
        self.subnets
            .get((flow_hash(h) % n) as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// A hash of the flow that is the same for both directions (and for every run).
#[inline]
pub fn flow_hash(h: &Header) -> u64 {
    let (key, _) = FlowKey::of(h);
    let mut s = rustc_hash::FxHasher::default();
    key.hash(&mut s);
    s.finish()
}

/// Where a transit gateway route sends packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TgwRouteTarget {
    /// Out through an attachment.
    Attachment(TgwAttachmentIdx),
    /// A static blackhole route: matching packets are dropped.
    Blackhole,
}

/// How a route got into a transit gateway route table; for equal prefixes the earlier kind
/// wins (SPEC §9.2: static > VPC-propagated > VPN-propagated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TgwRouteOrigin {
    /// A static route (`AWS::EC2::TransitGatewayRoute`).
    Static,
    /// Propagated from a VPC attachment (its CIDR blocks).
    VpcPropagated,
    /// Propagated from a VPN attachment (its on-premises prefixes).
    VpnPropagated,
}

/// One route of a transit gateway route table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TgwRoute {
    /// The `AWS::EC2::TransitGatewayRoute` of a static route.
    pub res: Option<ResId>,
    /// The destination CIDR block.
    pub destination: IpNet,
    /// Where packets for the destination go.
    pub target: TgwRouteTarget,
    /// How the route got into the table.
    pub origin: TgwRouteOrigin,
}

/// A transit gateway route table: only the preferred route of each prefix is installed.
#[derive(Clone, Debug, Default)]
pub struct TgwRouteTable {
    /// The `AWS::EC2::TransitGatewayRouteTable` resource, which names it in output.
    pub res: ResId,
    /// The transit gateway it belongs to.
    pub tgw: TgwIdx,
    /// The installed routes: one per prefix, the preferred one.
    pub routes: Vec<TgwRoute>,
    /// Prefix → position of its route in `routes`.
    lpm: PrefixMap<u32>,
}

impl TgwRouteTable {
    /// Keep the preferred route per prefix (by origin, then by the order given) and build the
    /// lookup structure.
    pub fn new(res: ResId, tgw: TgwIdx, mut routes: Vec<TgwRoute>) -> TgwRouteTable {
        routes.sort_by_key(|r| r.origin);
        let mut seen = std::collections::HashSet::new();
        routes.retain(|r| seen.insert(r.destination));
        let lpm = PrefixMap::new(
            routes
                .iter()
                .enumerate()
                .map(|(i, r)| (r.destination, i as u32)),
        );
        TgwRouteTable {
            res,
            tgw,
            routes,
            lpm,
        }
    }

    /// The installed route with the longest prefix that holds `dst`.
    #[inline]
    pub fn lookup(&self, dst: IpAddr) -> Option<&TgwRoute> {
        self.routes.get(self.lpm.lookup(dst)? as usize)
    }

    /// The index of the route that wins for `dst`.
    #[inline]
    pub fn lookup_index(&self, dst: IpAddr) -> Option<u32> {
        self.lpm.lookup(dst)
    }

    /// The longest-prefix structure over the installed routes (values: route indices).
    pub fn prefixes(&self) -> &PrefixMap<u32> {
        &self.lpm
    }
}

/// `10.1.0.0/16 → SpokeB (propagated)`, `0.0.0.0/0 → Inspection (DefaultToInspection)`.
pub fn describe_tgw_route(topo: &Topology, r: &TgwRoute) -> String {
    let target = match r.target {
        TgwRouteTarget::Attachment(a) => topo.name(topo.tgw_attachments[a].res),
        TgwRouteTarget::Blackhole => "blackhole",
    };
    match (r.res, r.origin) {
        (Some(res), _) => format!("{} → {target} ({})", r.destination, topo.name(res)),
        (None, TgwRouteOrigin::Static) => format!("{} → {target}", r.destination),
        (None, TgwRouteOrigin::VpcPropagated) => {
            format!("{} → {target} (propagated from the VPC)", r.destination)
        }
        (None, TgwRouteOrigin::VpnPropagated) => {
            format!("{} → {target} (propagated over BGP)", r.destination)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(dst: &str, target: TgwRouteTarget, origin: TgwRouteOrigin) -> TgwRoute {
        TgwRoute {
            res: None,
            destination: dst.parse().unwrap(),
            target,
            origin,
        }
    }

    #[test]
    fn static_beats_propagated_for_the_same_prefix_and_lpm_otherwise() {
        let t = TgwRouteTable::new(
            ResId(0),
            TgwIdx(0),
            vec![
                r(
                    "10.8.0.0/16",
                    TgwRouteTarget::Attachment(TgwAttachmentIdx(2)),
                    TgwRouteOrigin::VpcPropagated,
                ),
                r(
                    "10.8.0.0/16",
                    TgwRouteTarget::Attachment(TgwAttachmentIdx(1)),
                    TgwRouteOrigin::Static,
                ),
                r(
                    "10.9.0.0/16",
                    TgwRouteTarget::Blackhole,
                    TgwRouteOrigin::Static,
                ),
                r(
                    "10.9.1.0/24",
                    TgwRouteTarget::Attachment(TgwAttachmentIdx(2)),
                    TgwRouteOrigin::VpcPropagated,
                ),
                r(
                    "10.9.1.0/24",
                    TgwRouteTarget::Attachment(TgwAttachmentIdx(3)),
                    TgwRouteOrigin::VpnPropagated,
                ),
            ],
        );
        let at = |a: &str| t.lookup(a.parse().unwrap()).map(|r| r.target);
        assert_eq!(
            at("10.8.1.1"),
            Some(TgwRouteTarget::Attachment(TgwAttachmentIdx(1)))
        );
        assert_eq!(
            at("10.9.1.5"),
            Some(TgwRouteTarget::Attachment(TgwAttachmentIdx(2)))
        );
        assert_eq!(at("10.9.2.5"), Some(TgwRouteTarget::Blackhole));
        assert_eq!(at("10.10.0.1"), None);
        assert_eq!(
            t.routes.len(),
            3,
            "only the preferred route per prefix is installed"
        );
    }

    #[test]
    fn prefix_map_first_entry_wins() {
        let m = PrefixMap::<u32>::new([
            ("172.16.0.0/12".parse().unwrap(), 1),
            ("172.16.0.0/12".parse().unwrap(), 2),
            ("172.16.5.0/24".parse().unwrap(), 3),
            ("2001:db8::/32".parse().unwrap(), 4),
        ]);
        assert_eq!(m.lookup("172.16.1.1".parse().unwrap()), Some(1));
        assert_eq!(m.lookup("172.16.5.1".parse().unwrap()), Some(3));
        assert_eq!(m.lookup("2001:db8::1".parse().unwrap()), Some(4));
        assert_eq!(m.lookup("10.0.0.1".parse().unwrap()), None);
    }
}
