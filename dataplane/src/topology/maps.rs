//! Every address table of the topology as an [`AddressMap`]: the lookup the concrete driver
//! makes for one address and the segments the symbolic driver cuts a set of addresses by, side
//! by side, the segments derived from the lookup so that the two agree by construction.

use super::{NetworkInterface, PublicMapping, RouteTable, Subnet, Topology, Vpc};
use crate::aws;
use crate::pipeline::driver::AddressMap;
use crate::space::Segments;
use crate::space::{first_match_segs, point_segs, union_segs};
use crate::topology::tgw::{PrefixMap, TgwRouteTable};
use crate::topology::{EniIdx, ResId, VpcIdx};
use crate::wire::Family;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

type Segs = Vec<(u128, u128, usize)>;

/// The per-VPC segments of the address maps, derived by [`Topology::finish`]: leave them at
/// their default when building a [`Vpc`].
#[derive(Clone, Debug, Default)]
pub struct VpcMaps {
    /// Per family: interface addresses, keyed by position in `iface_keys`.
    ifaces: [Segs; 2],
    iface_keys: Vec<EniIdx>,
    /// Private IPv4 addresses that have a public IP or Elastic IP, keyed by position in
    /// `public_keys` (the public address).
    public: Segs,
    public_keys: Vec<Ipv4Addr>,
}

/// The topology-wide segments, derived by [`Topology::finish`].
#[derive(Clone, Debug, Default)]
pub(crate) struct TopologyMaps {
    /// Public IPv4 addresses, keyed by position in `public_keys`.
    public: Segs,
    public_keys: Vec<PublicMapping>,
    /// IPv6 addresses by the first VPC whose ranges hold them.
    v6_vpcs: Segs,
    /// Per family: every interface address, keyed by the interface that owns it.
    owners: [Segs; 2],
}

impl Topology {
    /// Derive the segments of every address map; part of [`Topology::finish`].
    pub(super) fn derive_maps(&mut self) {
        for v in self.vpcs.iter_mut() {
            let mut maps = VpcMaps::default();
            // One key numbering for both families: IPv4 interfaces first.
            let mut addrs: Vec<(u128, EniIdx)> =
                v.enis_v4.iter().map(|(&a, &e)| (a as u128, e)).collect();
            addrs.sort_unstable();
            let mut v6: Vec<(u128, EniIdx)> = v.enis_v6.iter().map(|(&a, &e)| (a, e)).collect();
            v6.sort_unstable();
            maps.ifaces[0] = addrs
                .iter()
                .enumerate()
                .map(|(n, &(a, _))| (a, a, n))
                .collect();
            let base = addrs.len();
            maps.ifaces[1] = v6
                .iter()
                .enumerate()
                .map(|(n, &(a, _))| (a, a, base + n))
                .collect();
            maps.iface_keys = addrs.iter().chain(&v6).map(|&(_, e)| e).collect();
            let mut public: Vec<(u128, Ipv4Addr)> = v
                .enis_v4
                .iter()
                .filter_map(|(&a, &e)| {
                    let p = self.enis[e].public_for(Ipv4Addr::from_bits(a))?;
                    Some((a as u128, p))
                })
                .collect();
            public.sort_unstable();
            maps.public_keys = public.iter().map(|&(_, p)| p).collect();
            maps.public = public
                .iter()
                .enumerate()
                .map(|(n, &(a, _))| (a, a, n))
                .collect();
            v.maps = maps;
        }
        let mut public: Vec<(u128, PublicMapping)> = self
            .public_v4
            .iter()
            .map(|(&p, &m)| (p as u128, m))
            .collect();
        public.sort_unstable_by_key(|x| x.0);
        let v6_ranges: Vec<(u128, u128)> = self
            .vpcs
            .iter()
            .flat_map(|v| v.cidrs_v6.iter())
            .map(|c| Family::prefix_range(&ipnet::IpNet::V6(*c)))
            .collect();
        let v6_vpcs = first_match_segs(&v6_ranges, |a| {
            let a = std::net::Ipv6Addr::from_bits(a);
            self.vpcs
                .iter()
                .position(|v| v.cidrs_v6.iter().any(|c| c.contains(&a)))
        });
        let owners = [Family::V4, Family::V6].map(|fam| {
            let mut pts: Vec<(u128, usize)> = Vec::new();
            for e in &self.enis {
                let addrs: Vec<IpAddr> = match fam {
                    Family::V4 => e.private_v4.iter().map(|a| (*a).into()).collect(),
                    Family::V6 => e.ipv6.iter().map(|a| (*a).into()).collect(),
                };
                for a in addrs {
                    if let Some(o) = self.owner_of(a) {
                        pts.push((Family::bits(a), o.index()));
                    }
                }
            }
            point_segs(pts)
        });
        self.maps = TopologyMaps {
            public: public
                .iter()
                .enumerate()
                .map(|(n, x)| (x.0, x.0, n))
                .collect(),
            public_keys: public.iter().map(|x| x.1).collect(),
            v6_vpcs,
            owners,
        };
    }
}

/// Segments of one key (`()`) over some ranges.
fn unit(ranges: &[(u128, u128)]) -> Segments<'static> {
    (Cow::Owned(union_segs(ranges)), 1)
}

impl AddressMap for RouteTable {
    type Key = u32;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<u32> {
        self.lookup_index(a)
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        (Cow::Borrowed(&self.segs[fam as usize]), self.routes.len())
    }
    fn key(&self, n: usize) -> u32 {
        n as u32
    }
}

impl<K: Copy + From<u32> + Into<u32>> AddressMap for PrefixMap<K> {
    type Key = K;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<K> {
        PrefixMap::lookup(self, a)
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let segs = self.segments_of(fam);
        let keys = segs.iter().map(|s| s.2 + 1).max().unwrap_or(0);
        (Cow::Borrowed(segs), keys)
    }
    fn key(&self, n: usize) -> K {
        K::from(n as u32)
    }
}

impl AddressMap for TgwRouteTable {
    type Key = u32;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<u32> {
        self.lookup_index(a)
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        (
            Cow::Borrowed(self.prefixes().segments_of(fam)),
            self.routes.len(),
        )
    }
    fn key(&self, n: usize) -> u32 {
        n as u32
    }
}

/// The interfaces of a VPC by private (or IPv6) address.
pub struct VpcInterfaces<'a>(pub &'a Vpc);

impl AddressMap for VpcInterfaces<'_> {
    type Key = EniIdx;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<EniIdx> {
        self.0.eni_for(a)
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let m = &self.0.maps;
        (Cow::Borrowed(&m.ifaces[fam as usize]), m.iface_keys.len())
    }
    fn key(&self, n: usize) -> EniIdx {
        self.0.maps.iface_keys[n]
    }
}

/// A VPC's private IPv4 addresses that have a public IP or Elastic IP, keyed by that public
/// address (what its internet gateway translates a source to).
pub struct VpcPublicAddresses<'a> {
    /// The topology (the interfaces' address pairs).
    pub topo: &'a Topology,
    /// The VPC.
    pub vpc: VpcIdx,
}

impl AddressMap for VpcPublicAddresses<'_> {
    type Key = Ipv4Addr;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<Ipv4Addr> {
        let IpAddr::V4(a4) = a else { return None };
        let e = self.topo.vpcs[self.vpc].eni_for(a)?;
        self.topo.enis[e].public_for(a4)
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let m = &self.topo.vpcs[self.vpc].maps;
        match fam {
            Family::V4 => (Cow::Borrowed(&m.public), m.public_keys.len()),
            Family::V6 => (Cow::Borrowed(&[]), 0),
        }
    }
    fn key(&self, n: usize) -> Ipv4Addr {
        self.topo.vpcs[self.vpc].maps.public_keys[n]
    }
}

/// Public IPv4 addresses (public IPs, Elastic IPs) and the interface address each maps to.
pub struct PublicAddresses<'a>(pub &'a Topology);

impl AddressMap for PublicAddresses<'_> {
    type Key = PublicMapping;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<PublicMapping> {
        match a {
            IpAddr::V4(a) => self.0.public_v4.get(&a.to_bits()).copied(),
            IpAddr::V6(_) => None,
        }
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let m = &self.0.maps;
        match fam {
            Family::V4 => (Cow::Borrowed(&m.public), m.public_keys.len()),
            Family::V6 => (Cow::Borrowed(&[]), 0),
        }
    }
    fn key(&self, n: usize) -> PublicMapping {
        self.0.maps.public_keys[n]
    }
}

/// IPv6 addresses by the first VPC whose ranges hold them (the VPC whose internet or
/// egress-only gateway takes them in).
pub struct Ipv6Vpcs<'a>(pub &'a Topology);

impl AddressMap for Ipv6Vpcs<'_> {
    type Key = VpcIdx;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<VpcIdx> {
        let IpAddr::V6(a) = a else { return None };
        self.0
            .vpcs
            .position(|v| v.cidrs_v6.iter().any(|c| c.contains(&a)))
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        match fam {
            Family::V4 => (Cow::Borrowed(&[]), 0),
            Family::V6 => (Cow::Borrowed(&self.0.maps.v6_vpcs), self.0.vpcs.len()),
        }
    }
    fn key(&self, n: usize) -> VpcIdx {
        VpcIdx::from(n)
    }
}

/// Every interface address of the topology, by the interface that owns it (the first one
/// loaded, when VPCs overlap).
pub struct Owners<'a>(pub &'a Topology);

impl AddressMap for Owners<'_> {
    type Key = EniIdx;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<EniIdx> {
        self.0.owner_of(a)
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        (
            Cow::Borrowed(&self.0.maps.owners[fam as usize]),
            self.0.enis.len(),
        )
    }
    fn key(&self, n: usize) -> EniIdx {
        EniIdx::from(n)
    }
}

/// Addresses the topology itself owns on the internet: public IPv4 addresses and the IPv6
/// ranges of its VPCs. A packet to one of them that leaves through a gateway comes back in.
pub struct OwnedOnInternet<'a>(pub &'a Topology);

impl AddressMap for OwnedOnInternet<'_> {
    type Key = ();
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<()> {
        let owned = match a {
            IpAddr::V4(a) => self.0.public_v4.contains_key(&a.to_bits()),
            IpAddr::V6(a) => self
                .0
                .vpcs
                .iter()
                .any(|v| v.cidrs_v6.iter().any(|c| c.contains(&a))),
        };
        owned.then_some(())
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let segs = match fam {
            Family::V4 => &self.0.maps.public,
            Family::V6 => &self.0.maps.v6_vpcs,
        };
        let ranges: Vec<(u128, u128)> = segs.iter().map(|s| (s.0, s.1)).collect();
        unit(&ranges)
    }
    fn key(&self, _: usize) {}
}

impl AddressMap for Subnet {
    type Key = ();
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<()> {
        self.contains(a).then_some(())
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let r = match fam {
            Family::V4 => self.cidr_v4.map(|n| Family::prefix_range(&n.into())),
            Family::V6 => self.cidr_v6.map(|n| Family::prefix_range(&n.into())),
        };
        unit(&r.into_iter().collect::<Vec<_>>())
    }
    fn key(&self, _: usize) {}
}

/// Whether an address lies in one of a VPC's subnets: a packet to an address of the VPC that
/// no subnet holds is dropped at the VPC itself, not at the hop that brought it there.
pub struct VpcSubnetRanges<'a> {
    /// The topology (its subnets).
    pub topo: &'a Topology,
    /// The VPC.
    pub vpc: VpcIdx,
}

impl AddressMap for VpcSubnetRanges<'_> {
    type Key = ();
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<()> {
        self.topo
            .subnets
            .iter()
            .any(|s| s.vpc == self.vpc && s.contains(a))
            .then_some(())
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let ranges: Vec<(u128, u128)> = self
            .topo
            .subnets
            .iter()
            .filter(|s| s.vpc == self.vpc)
            .filter_map(|s| match fam {
                Family::V4 => s.cidr_v4.map(|n| Family::prefix_range(&n.into())),
                Family::V6 => s.cidr_v6.map(|n| Family::prefix_range(&n.into())),
            })
            .collect();
        unit(&ranges)
    }
    fn key(&self, _: usize) {}
}

/// The address ranges (CIDR blocks) of a VPC.
pub struct VpcRanges<'a>(pub &'a Vpc);

impl AddressMap for VpcRanges<'_> {
    type Key = ();
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<()> {
        self.0.contains(a).then_some(())
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let ranges: Vec<(u128, u128)> = match fam {
            Family::V4 => self
                .0
                .cidrs_v4
                .iter()
                .map(|n| Family::prefix_range(&(*n).into()))
                .collect(),
            Family::V6 => self
                .0
                .cidrs_v6
                .iter()
                .map(|n| Family::prefix_range(&(*n).into()))
                .collect(),
        };
        unit(&ranges)
    }
    fn key(&self, _: usize) {}
}

/// The addresses of one interface.
pub struct OwnAddresses<'a>(pub &'a NetworkInterface);

impl AddressMap for OwnAddresses<'_> {
    type Key = ();
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<()> {
        self.0.owns(a).then_some(())
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let pts: Vec<(u128, usize)> = match fam {
            Family::V4 => self
                .0
                .private_v4
                .iter()
                .map(|a| (a.to_bits() as u128, 0))
                .collect(),
            Family::V6 => self.0.ipv6.iter().map(|a| (a.to_bits(), 0)).collect(),
        };
        (Cow::Owned(point_segs(pts)), 1)
    }
    fn key(&self, _: usize) {}
}

/// Address ranges AWS reserves, as one table each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Link-local destinations ([`aws::is_link_local`]): never routed.
    LinkLocal,
    /// RFC 1918 and RFC 6598 ([`aws::is_not_routed_by_igw`]): internet gateways drop them.
    NotRoutedByIgw,
}

impl AddressMap for Reserved {
    type Key = ();
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<()> {
        match self {
            Reserved::LinkLocal => aws::is_link_local(a),
            Reserved::NotRoutedByIgw => aws::is_not_routed_by_igw(a),
        }
        .then_some(())
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let ranges = match (self, fam) {
            (Reserved::LinkLocal, Family::V4) => aws::ranges_v4(&aws::LINK_LOCAL_V4),
            (Reserved::LinkLocal, Family::V6) => aws::ranges_v6(&aws::LINK_LOCAL_V6),
            (Reserved::NotRoutedByIgw, Family::V4) => aws::ranges_v4(&aws::NOT_ROUTED_BY_IGW_V4),
            (Reserved::NotRoutedByIgw, Family::V6) => Vec::new(),
        };
        unit(&ranges)
    }
    fn key(&self, _: usize) {}
}

/// The link-local services instances of a VPC reach ([`aws::service_at`]).
pub struct Services<'a> {
    /// The topology.
    pub topo: &'a Topology,
    /// The sender's VPC (its resolver at base + 2).
    pub vpc: VpcIdx,
}

impl AddressMap for Services<'_> {
    type Key = ResId;
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<ResId> {
        aws::service_at(self.topo, self.vpc, a)
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let pts = aws::service_addresses(self.topo, self.vpc, fam)
            .into_iter()
            .map(|(a, r)| (a, r.index()));
        (Cow::Owned(point_segs(pts)), 4)
    }
    fn key(&self, n: usize) -> ResId {
        ResId::from(n)
    }
}
