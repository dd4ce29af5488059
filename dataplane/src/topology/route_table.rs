//! Route tables: their routes and targets, and the longest-prefix-match structures built once
//! per table (the concrete lookup and, for `reach`, the address segments on which one route wins).

use super::ids::{
    EigwIdx, EniIdx, GwlbEndpointIdx, IgwIdx, NatIdx, PeeringIdx, ResId, TgwIdx, VgwIdx,
    VpcEndpointIdx, VpcIdx,
};
use super::network_firewall;
use crate::space::first_match_segs;
use crate::tables::lpm::{Lpm, LpmBuilder};
use crate::wire::Family;
use ipnet::IpNet;
use std::net::IpAddr;

/// Where a route sends packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTarget {
    /// `local`: the VPC's own CIDR blocks, delivered inside the VPC.
    Local,
    /// An internet gateway (`igw-…`).
    InternetGateway(IgwIdx),
    /// An egress-only internet gateway (`eigw-…`), IPv6 only.
    EgressOnlyInternetGateway(EigwIdx),
    /// A NAT gateway (`nat-…`).
    NatGateway(NatIdx),
    /// An appliance: a network interface (or an instance's primary interface).
    NetworkInterface(EniIdx),
    /// A VPC peering connection (`pcx-…`).
    Peering(PeeringIdx),
    /// A transit gateway (`tgw-…`).
    TransitGateway(TgwIdx),
    /// A virtual private gateway (VPN).
    VpnGateway(VgwIdx),
    /// A gateway endpoint (S3, DynamoDB): index into [`Topology::vpc_endpoints`](super::Topology::vpc_endpoints).
    GatewayEndpoint(VpcEndpointIdx),
    /// A Gateway Load Balancer endpoint: index into [`crate::topology::gwlb::Gwlbs::endpoints`].
    GatewayLoadBalancerEndpoint(GwlbEndpointIdx),
    /// An AWS Network Firewall endpoint: index into [`network_firewall::NetworkFirewalls::endpoints`].
    NetworkFirewallEndpoint(network_firewall::FirewallEndpointIdx),
    /// The target named by the route does not exist (AWS shows the route as `blackhole`).
    Blackhole {
        /// The target as the route named it.
        target: String,
    },
}

/// One route of a route table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The `AWS::EC2::Route` resource; `None` for local routes.
    pub res: Option<ResId>,
    /// The destination CIDR block (one entry of the prefix list, for a prefix-list route).
    pub destination: IpNet,
    /// Where packets for the destination go.
    pub target: RouteTarget,
    /// The target as the user named it (`igw-…`/logical id), for traces.
    pub target_name: String,
    /// Installed by route propagation from a virtual private gateway (SPEC §2.8).
    pub propagated: bool,
    /// The prefix list the route's destination came from: a prefix-list route is compiled into
    /// one route per entry (SPEC §2.4 step 1), each naming the list for traces.
    pub prefix_list: Option<ResId>,
}

/// A route table with one LPM structure per address family; LPM values index `routes`.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// The `AWS::EC2::RouteTable` resource, which names it in output.
    pub res: ResId,
    /// The VPC it belongs to.
    pub vpc: VpcIdx,
    /// The routes; of two with the same destination the earlier wins (the compiler puts static
    /// routes before propagated ones).
    pub routes: Vec<Route>,
    v4: Lpm<u32>,
    v6: Lpm<u128>,
    /// Per family, the address segments on which one route wins (the symbolic side of
    /// [`RouteTable::lookup`], computed from it).
    pub(super) segs: [Vec<(u128, u128, usize)>; 2],
}

impl RouteTable {
    /// A table of `routes`, with its longest-prefix-match structures built.
    pub fn new(res: ResId, vpc: VpcIdx, routes: Vec<Route>) -> RouteTable {
        let mut v4 = LpmBuilder::<u32>::new();
        let mut v6 = LpmBuilder::<u128>::new();
        // Insert in reverse so that, for two routes with the same destination, the earlier one
        // in `routes` wins (the compiler orders static before propagated).
        for (i, r) in routes.iter().enumerate().rev() {
            match r.destination {
                IpNet::V4(n) => v4.insert(n.network().to_bits(), n.prefix_len(), i as u32),
                IpNet::V6(n) => v6.insert(n.network().to_bits(), n.prefix_len(), i as u32),
            }
        }
        let mut t = RouteTable {
            res,
            vpc,
            routes,
            v4: v4.build(),
            v6: v6.build(),
            segs: [Vec::new(), Vec::new()],
        };
        t.segs = [Family::V4, Family::V6].map(|fam| {
            let ranges: Vec<(u128, u128)> = t
                .routes
                .iter()
                .filter(|r| Family::of_net(&r.destination) == fam)
                .map(|r| Family::prefix_range(&r.destination))
                .collect();
            first_match_segs(&ranges, |a| t.lookup_index(fam.addr(a)).map(|i| i as usize))
        });
        t
    }

    /// The index of the route that wins for `dst`.
    #[inline]
    pub fn lookup_index(&self, dst: IpAddr) -> Option<u32> {
        let i = match dst {
            IpAddr::V4(a) => self.v4.lookup(a.to_bits()),
            IpAddr::V6(a) => self.v6.lookup(a.to_bits()),
        }?;
        ((i as usize) < self.routes.len()).then_some(i)
    }

    /// Longest-prefix match.
    #[inline]
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        let i = match dst {
            IpAddr::V4(a) => self.v4.lookup(a.to_bits()),
            IpAddr::V6(a) => self.v6.lookup(a.to_bits()),
        }?;
        self.routes.get(i as usize)
    }
}
