//! The compiled topology: immutable, index-linked tables the pipeline reads.
//!
//! Everything refers to everything else by index, one index type per table ([`ids`]); names
//! (logical ids, AWS ids) live only in [`Topology::resources`] and are looked at when a verdict or
//! trace is printed.

use crate::tables::nacl::NetworkAcl;
use crate::tables::sg::{CompiledSgRule, SecurityGroup, SgPeer};
use crate::topology::endpoint::VpcEndpoint;
use crate::topology::tgw::{
    AttachmentKind, PrefixMap, TgwAttachment, TgwRouteTable, TransitGateway,
};
use crate::topology::vpn::{VpnConnection, VpnEdge, VpnGateway};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub mod alb;
pub mod endpoint;
pub mod gwlb;
pub mod ids;
pub mod maps;
pub mod network_firewall;
pub mod nlb;
mod route_table;
pub mod target_health;
pub mod tgw;
pub mod vpn;

pub use ids::{
    AlbIdx, EigwIdx, EniIdx, GwlbEndpointIdx, GwlbIdx, GwlbTargetGroupIdx, IgwIdx, NaclIdx, NatIdx,
    NlbIdx, PeeringIdx, ResId, RouteTableIdx, SgIdx, SubnetIdx, Table, TableIdx, TargetGroupIdx,
    TgwAttachmentIdx, TgwIdx, TgwRouteTableIdx, VgwIdx, VpcEndpointIdx, VpcIdx, VpnConnIdx,
};
pub use route_table::{Route, RouteTable, RouteTarget};

/// The link-local services every VPC has, present in every topology at fixed ids.
const BUILTIN_RESOURCES: [(&str, &str); 4] = [
    ("internet", "Internet"),
    ("AmazonProvidedDNS", "AWS::Route53::Resolver"),
    (
        "InstanceMetadataService",
        "AWS::EC2::InstanceMetadataService",
    ),
    ("AmazonTimeSyncService", "AWS::EC2::TimeSyncService"),
];

/// A named resource, for output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The CloudFormation logical id (or AWS id for snapshots).
    pub logical_id: String,
    /// The AWS id (`vpc-…`, `eni-…`).
    pub aws_id: String,
    /// The CloudFormation type (`AWS::EC2::NetworkAcl`).
    pub kind: String,
    /// The `Name` tag, when there is one.
    pub name: Option<String>,
}

/// A VPC: its CIDR blocks, the gateways attached to it and the addresses of its interfaces.
#[derive(Clone, Debug, Default)]
pub struct Vpc {
    /// The `AWS::EC2::VPC` resource, which names it in output.
    pub res: ResId,
    /// IPv4 CIDR blocks, primary first.
    pub cidrs_v4: Vec<Ipv4Net>,
    /// IPv6 CIDR blocks.
    pub cidrs_v6: Vec<Ipv6Net>,
    /// The attached internet gateway.
    pub internet_gateway: Option<IgwIdx>,
    /// The attached egress-only internet gateway (IPv6 only).
    pub egress_only_igw: Option<EigwIdx>,
    /// The attached virtual private gateway (one per VPC).
    pub vpn_gateway: Option<VgwIdx>,
    /// Transit gateway VPC attachments of this VPC (at most one per transit gateway).
    pub tgw_attachments: Vec<TgwAttachmentIdx>,
    /// The Amazon DNS resolver at the primary CIDR's base + 2; `None` when the VPC turns DNS
    /// support off.
    pub resolver_v4: Option<Ipv4Addr>,
    /// Private addresses of the interfaces in this VPC.
    pub enis_v4: FxHashMap<u32, EniIdx>,
    /// IPv6 addresses of the interfaces in this VPC.
    pub enis_v6: FxHashMap<u128, EniIdx>,
    /// The symbolic side of the address maps above ([`maps::VpcInterfaces`],
    /// [`maps::VpcPublicAddresses`]), derived by [`Topology::finish`].
    pub maps: maps::VpcMaps,
}

impl Vpc {
    /// Whether one of the VPC's CIDR blocks holds `a`.
    pub fn contains(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => self.cidrs_v4.iter().any(|c| c.contains(&a)),
            IpAddr::V6(a) => self.cidrs_v6.iter().any(|c| c.contains(&a)),
        }
    }

    /// The interface of this VPC that owns `a` (the first one loaded, when several do).
    #[inline]
    pub fn eni_for(&self, a: IpAddr) -> Option<EniIdx> {
        match a {
            IpAddr::V4(a) => self.enis_v4.get(&a.to_bits()).copied(),
            IpAddr::V6(a) => self.enis_v6.get(&a.to_bits()).copied(),
        }
    }
}

/// A subnet: its CIDR blocks, its Availability Zone, and the route table and network ACL that
/// apply to its traffic.
#[derive(Clone, Debug, Default)]
pub struct Subnet {
    /// The `AWS::EC2::Subnet` resource, which names it in output.
    pub res: ResId,
    /// The VPC it belongs to.
    pub vpc: VpcIdx,
    /// The Availability Zone's name (`us-east-1a`).
    pub availability_zone: String,
    /// The Availability Zone as a number (assigned by [`Topology::finish`]), so the transit
    /// gateway's zone affinity compares integers, not names.
    pub az: u32,
    /// The IPv4 CIDR block (`None`: an IPv6-only subnet).
    pub cidr_v4: Option<Ipv4Net>,
    /// The IPv6 CIDR block, if it has one.
    pub cidr_v6: Option<Ipv6Net>,
    /// The route table associated with the subnet (the VPC's main table when none is).
    pub route_table: RouteTableIdx,
    /// The network ACL associated with the subnet (the VPC's default ACL when none is).
    pub network_acl: NaclIdx,
}

impl Subnet {
    /// Whether one of the subnet's CIDR blocks holds `a`.
    pub fn contains(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => self.cidr_v4.is_some_and(|c| c.contains(&a)),
            IpAddr::V6(a) => self.cidr_v6.is_some_and(|c| c.contains(&a)),
        }
    }
}

/// What kind of thing owns an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EniKind {
    /// An instance's interface or a standalone `AWS::EC2::NetworkInterface`.
    Host,
    /// The requester-managed interface of a NAT gateway.
    NatGateway(NatIdx),
    /// An interface endpoint's interface: index into [`Topology::vpc_endpoints`].
    VpcEndpoint(VpcEndpointIdx),
    /// A node of a Network Load Balancer (index into [`crate::topology::nlb::Nlbs::load_balancers`]).
    NetworkLoadBalancer(NlbIdx),
    /// A node of a Gateway Load Balancer (index into
    /// [`crate::topology::gwlb::Gwlbs::load_balancers`]): it sends health checks and takes their replies;
    /// GENEVE to and from its appliances is the GWLB stage's own.
    GatewayLoadBalancer(GwlbIdx),
    /// A node of an Application Load Balancer (index into
    /// [`crate::topology::alb::Albs::load_balancers`]): it terminates its clients' connections
    /// and opens its own to targets.
    ApplicationLoadBalancer(AlbIdx),
}

/// An elastic network interface: what owns it, its addresses, and its security groups compiled
/// into one rule list per direction.
#[derive(Clone, Debug)]
pub struct NetworkInterface {
    /// The `AWS::EC2::NetworkInterface` resource of the interface itself.
    pub res: ResId,
    /// Name used for delivered_to, output pcaps and flow-log files: the instance for its primary
    /// interface, otherwise the interface itself.
    pub owner: ResId,
    /// What kind of thing owns it.
    pub kind: EniKind,
    /// The subnet it is in.
    pub subnet: SubnetIdx,
    /// The VPC of that subnet.
    pub vpc: VpcIdx,
    /// Primary first.
    pub private_v4: Vec<Ipv4Addr>,
    /// IPv6 addresses.
    pub ipv6: Vec<Ipv6Addr>,
    /// Private → public (auto-assigned public IP or Elastic IP) pairs.
    pub public_v4: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Its security groups.
    pub security_groups: Vec<SgIdx>,
    /// The source/destination check: when on, the interface sends only from and receives only for
    /// its own addresses (appliances turn it off).
    pub source_dest_check: bool,
    /// A locally administered MAC address derived from the interface id, stable across runs, for
    /// the frames written out.
    pub mac: [u8; 6],
    /// Union of the inbound rules of every group, peers flattened.
    pub sg_ingress: Vec<CompiledSgRule>,
    /// Union of the outbound rules of every group, peers flattened.
    pub sg_egress: Vec<CompiledSgRule>,
}

impl NetworkInterface {
    /// Whether `a` is one of its private IPv4 or IPv6 addresses.
    #[inline]
    pub fn owns(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => self.private_v4.contains(&a),
            IpAddr::V6(a) => self.ipv6.contains(&a),
        }
    }

    /// The public address mapped to one of its private addresses.
    pub fn public_for(&self, private: Ipv4Addr) -> Option<Ipv4Addr> {
        self.public_v4
            .iter()
            .find(|(p, _)| *p == private)
            .map(|&(_, public)| public)
    }

    /// Its primary private IPv4 address.
    pub fn primary_v4(&self) -> Option<Ipv4Addr> {
        self.private_v4.first().copied()
    }
}

/// An internet gateway: one-to-one NAT between public IPv4 addresses and the private addresses
/// of its VPC's interfaces; IPv6 passes through untranslated.
#[derive(Clone, Debug, Default)]
pub struct InternetGateway {
    /// The `AWS::EC2::InternetGateway` resource, which names it in output.
    pub res: ResId,
    /// The VPC it is attached to (`None`: detached).
    pub vpc: Option<VpcIdx>,
    /// The gateway route table (edge association) that routes traffic entering the VPC here.
    pub route_table: Option<RouteTableIdx>,
}

/// An egress-only internet gateway: IPv6 out to the internet, and only replies back in
/// (connection tracking).
#[derive(Clone, Debug, Default)]
pub struct EgressOnlyInternetGateway {
    /// The `AWS::EC2::EgressOnlyInternetGateway` resource, which names it in output.
    pub res: ResId,
    /// The VPC it is attached to.
    pub vpc: VpcIdx,
}

/// A NAT gateway: port address translation of IPv4 connections to its own addresses.
#[derive(Clone, Debug)]
pub struct NatGateway {
    /// The `AWS::EC2::NatGateway` resource, which names it in output.
    pub res: ResId,
    /// The subnet it is in, whose route table and network ACL its translated packets go through.
    pub subnet: SubnetIdx,
    /// Its requester-managed interface.
    pub eni: EniIdx,
    /// Public gateways translate to addresses with Elastic IPs; private ones to private addresses.
    pub public: bool,
    /// The private addresses it translates to, primary first (each secondary one carries a
    /// secondary Elastic IP on a public gateway).
    pub addresses: Vec<Ipv4Addr>,
}

/// A VPC peering connection. It is not transitive: each side reaches the other VPC only.
#[derive(Clone, Debug, Default)]
pub struct PeeringConnection {
    /// The `AWS::EC2::VPCPeeringConnection` resource, which names it in output.
    pub res: ResId,
    /// The VPC that requested the connection.
    pub requester: VpcIdx,
    /// The VPC that accepted it.
    pub accepter: VpcIdx,
}

impl PeeringConnection {
    /// The VPC on the other side from `vpc`, if `vpc` is one of the two.
    pub fn peer_of(&self, vpc: VpcIdx) -> Option<VpcIdx> {
        if vpc == self.requester {
            Some(self.accepter)
        } else if vpc == self.accepter {
            Some(self.requester)
        } else {
            None
        }
    }
}

/// A public IPv4 address and the interface address it maps to at the internet gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicMapping {
    /// The interface that holds the address.
    pub eni: EniIdx,
    /// The private address the public one maps to.
    pub private: Ipv4Addr,
}

/// Everything the pipeline reads. Build it by filling the tables, then call [`Topology::finish`].
#[derive(Clone, Debug)]
pub struct Topology {
    /// Every named resource, indexed by [`ResId`]; the first four are the built-in ones.
    pub resources: Table<ResId, Resource>,
    /// VPCs.
    pub vpcs: Table<VpcIdx, Vpc>,
    /// Subnets.
    pub subnets: Table<SubnetIdx, Subnet>,
    /// Route tables, of subnets and of gateways.
    pub route_tables: Table<RouteTableIdx, RouteTable>,
    /// Network ACLs.
    pub network_acls: Table<NaclIdx, NetworkAcl>,
    /// Security groups, with their rules as written (interfaces hold them compiled).
    pub security_groups: Table<SgIdx, SecurityGroup>,
    /// Elastic network interfaces: of instances, NAT gateways, interface endpoints, load balancer
    /// nodes, and standalone ones.
    pub enis: Table<EniIdx, NetworkInterface>,
    /// Internet gateways.
    pub internet_gateways: Table<IgwIdx, InternetGateway>,
    /// Egress-only internet gateways.
    pub egress_only_igws: Table<EigwIdx, EgressOnlyInternetGateway>,
    /// NAT gateways.
    pub nat_gateways: Table<NatIdx, NatGateway>,
    /// VPC peering connections.
    pub peerings: Table<PeeringIdx, PeeringConnection>,
    /// Transit gateways.
    pub transit_gateways: Table<TgwIdx, TransitGateway>,
    /// Transit gateway attachments (VPC and VPN).
    pub tgw_attachments: Table<TgwAttachmentIdx, TgwAttachment>,
    /// Transit gateway route tables.
    pub tgw_route_tables: Table<TgwRouteTableIdx, TgwRouteTable>,
    /// Virtual private gateways.
    pub vpn_gateways: Table<VgwIdx, VpnGateway>,
    /// Site-to-Site VPN connections.
    pub vpn_connections: Table<VpnConnIdx, VpnConnection>,
    /// VPC endpoints, gateway and interface.
    pub vpc_endpoints: Table<VpcEndpointIdx, VpcEndpoint>,
    /// Public IPv4 (EIPs, auto-assigned public IPs) → interface.
    pub public_v4: FxHashMap<u32, PublicMapping>,
    /// On-premises prefixes → the VPN connection that reaches them (origin of packets from
    /// addresses no interface owns).
    onprem: PrefixMap<VpnConnIdx>,
    /// Any address → the first interface that owns it (origin of packets by source address).
    owners: FxHashMap<IpAddr, EniIdx>,
    /// Addresses owned by more than one interface (in VPCs that overlap), for warnings.
    pub ambiguous: Vec<IpAddr>,
    /// Network Load Balancers and their target groups.
    pub nlb: crate::topology::nlb::Nlbs,
    /// Gateway Load Balancers, their target groups and endpoints.
    pub gwlb: crate::topology::gwlb::Gwlbs,
    /// AWS WAF web ACLs and the resources they are associated with.
    pub waf: crate::waf::Wafs,
    /// Application Load Balancers and their target groups.
    pub alb: crate::topology::alb::Albs,
    /// AWS Network Firewalls and their endpoints.
    pub network_firewalls: network_firewall::NetworkFirewalls,
    /// Route 53 and the VPC resolvers: zones, rules, DNS Firewall, the names AWS answers.
    pub dns: crate::dns::DnsView,
    /// The symbolic side of the topology-wide address maps, derived by [`Topology::finish`].
    pub(crate) maps: maps::TopologyMaps,
    /// Each distinct set of security groups' rules as header boxes, and each interface's
    /// entry, derived by [`Topology::finish`] (the symbolic side of the interfaces' rules).
    sg_boxes: Vec<crate::tables::sg::SgBoxes>,
    eni_sg_boxes: Table<EniIdx, u32>,
}

impl Default for Topology {
    fn default() -> Self {
        Topology::new()
    }
}

impl Topology {
    /// The Route 53 Resolver (169.254.169.253, fd00:ec2::253, VPC base + 2).
    pub const AMAZON_DNS: ResId = ResId(1);
    /// Instance metadata (169.254.169.254, fd00:ec2::254).
    pub const IMDS: ResId = ResId(2);
    /// Amazon Time Sync (169.254.169.123, fd00:ec2::123).
    pub const TIME_SYNC: ResId = ResId(3);

    /// A topology holding only the built-in resources: the internet and the link-local services.
    pub fn new() -> Topology {
        Topology {
            resources: BUILTIN_RESOURCES
                .iter()
                .map(|(id, kind)| Resource {
                    logical_id: id.to_string(),
                    aws_id: id.to_string(),
                    kind: kind.to_string(),
                    name: None,
                })
                .collect(),
            vpcs: Table::new(),
            subnets: Table::new(),
            route_tables: Table::new(),
            network_acls: Table::new(),
            security_groups: Table::new(),
            enis: Table::new(),
            internet_gateways: Table::new(),
            egress_only_igws: Table::new(),
            nat_gateways: Table::new(),
            peerings: Table::new(),
            transit_gateways: Table::new(),
            tgw_attachments: Table::new(),
            tgw_route_tables: Table::new(),
            vpn_gateways: Table::new(),
            vpn_connections: Table::new(),
            vpc_endpoints: Table::new(),
            public_v4: FxHashMap::default(),
            onprem: PrefixMap::default(),
            owners: FxHashMap::default(),
            ambiguous: vec![],
            nlb: crate::topology::nlb::Nlbs::default(),
            gwlb: crate::topology::gwlb::Gwlbs::default(),
            waf: crate::waf::Wafs::default(),
            alb: crate::topology::alb::Albs::default(),
            network_firewalls: Default::default(),
            dns: crate::dns::DnsView::default(),
            maps: maps::TopologyMaps::default(),
            sg_boxes: Vec::new(),
            eni_sg_boxes: Table::default(),
        }
    }

    /// Name a new resource for output and return its id.
    pub fn add_resource(
        &mut self,
        logical_id: &str,
        aws_id: &str,
        kind: &str,
        name: Option<String>,
    ) -> ResId {
        self.resources.push(Resource {
            logical_id: logical_id.to_string(),
            aws_id: aws_id.to_string(),
            kind: kind.to_string(),
            name,
        })
    }

    /// A resource's names and type.
    pub fn resource(&self, id: ResId) -> &Resource {
        &self.resources[id]
    }

    /// A resource's logical id (the AWS id, for snapshots): the name output uses.
    pub fn name(&self, id: ResId) -> &str {
        &self.resources[id].logical_id
    }

    /// Find a resource by logical id or AWS id, else by its `Name` tag when exactly one resource
    /// carries that name (tags are not unique in AWS; an ambiguous name finds nothing).
    pub fn find_resource(&self, name: &str) -> Option<ResId> {
        let by_id = self
            .resources
            .position(|r| r.logical_id == name || r.aws_id == name);
        let by_tag = || {
            let mut named = self
                .resources
                .iter_enumerated()
                .filter(|(_, r)| r.name.as_deref() == Some(name));
            match (named.next(), named.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        };
        by_id.or_else(by_tag)
    }

    /// The interface whose `res` or `owner` is `id` (an instance names its primary interface).
    pub fn eni_by_resource(&self, id: ResId) -> Option<EniIdx> {
        self.enis
            .position(|e| e.res == id)
            .or_else(|| self.enis.position(|e| e.owner == id))
    }

    /// The interface that owns an address (first one loaded, when VPCs overlap).
    #[inline]
    pub fn owner_of(&self, a: IpAddr) -> Option<EniIdx> {
        self.owners.get(&a).copied()
    }

    /// The VPN connection whose on-premises prefixes hold an address (longest match).
    #[inline]
    pub fn onprem_of(&self, a: IpAddr) -> Option<VpnConnIdx> {
        self.onprem.lookup(a)
    }

    /// The VPN connection a resource names: the connection itself, its customer gateway, its
    /// transit gateway attachment, or the virtual private gateway it ends on (first one).
    pub fn vpn_connection_by_resource(&self, id: ResId) -> Option<VpnConnIdx> {
        let pos = |f: &dyn Fn(&VpnConnection) -> bool| self.vpn_connections.position(f);
        pos(&|c| c.res == id)
            .or_else(|| pos(&|c| c.customer_gateway == id))
            .or_else(|| {
                pos(&|c| match c.edge {
                    VpnEdge::TransitGateway { attachment } => {
                        self.tgw_attachments[attachment].res == id
                    }
                    VpnEdge::VpnGateway(g) => self.vpn_gateways[g].res == id,
                })
            })
    }

    /// The transit gateway attachment a resource names.
    pub fn tgw_attachment_by_resource(&self, id: ResId) -> Option<TgwAttachmentIdx> {
        self.tgw_attachments.position(|a| a.res == id)
    }

    /// Derive lookup maps (addresses → interfaces, expanded security group rules). Call after
    /// filling the tables; calling it again recomputes everything.
    pub fn finish(&mut self) {
        self.owners.clear();
        self.ambiguous.clear();
        self.public_v4.clear();
        for v in &mut self.vpcs {
            v.enis_v4.clear();
            v.enis_v6.clear();
        }
        for (i, e) in self.enis.iter_enumerated() {
            let vpc = &mut self.vpcs[e.vpc];
            for a in &e.private_v4 {
                vpc.enis_v4.entry(a.to_bits()).or_insert(i);
            }
            for a in &e.ipv6 {
                vpc.enis_v6.entry(a.to_bits()).or_insert(i);
            }
            let addrs = e
                .private_v4
                .iter()
                .map(|a| IpAddr::V4(*a))
                .chain(e.ipv6.iter().map(|a| IpAddr::V6(*a)));
            for a in addrs {
                if self.owners.insert(a, i).is_some() {
                    self.ambiguous.push(a);
                }
            }
            for &(private, public) in &e.public_v4 {
                self.public_v4
                    .entry(public.to_bits())
                    .or_insert(PublicMapping { eni: i, private });
            }
        }
        // First loaded wins for overlapping addresses.
        for (i, e) in self.enis.iter_enumerated().rev() {
            for a in e
                .private_v4
                .iter()
                .map(|a| IpAddr::V4(*a))
                .chain(e.ipv6.iter().map(|a| IpAddr::V6(*a)))
            {
                self.owners.insert(a, i);
            }
        }
        self.ambiguous.sort();
        self.ambiguous.dedup();
        // Availability Zones as numbers, in name order.
        let mut zones: Vec<String> = self
            .subnets
            .iter()
            .map(|s| s.availability_zone.clone())
            .collect();
        zones.sort();
        zones.dedup();
        for s in &mut self.subnets {
            s.az = zones
                .binary_search(&s.availability_zone)
                .unwrap_or_default() as u32;
        }
        for v in &mut self.vpcs {
            v.tgw_attachments.clear();
        }
        for (i, a) in self.tgw_attachments.iter_enumerated() {
            if let AttachmentKind::Vpc(vpc) = a.kind {
                if let Some(v) = self.vpcs.get_mut(vpc) {
                    v.tgw_attachments.push(i);
                }
            }
        }
        // Two connections reaching the same prefix: the first one loaded is the origin.
        self.onprem = PrefixMap::new(
            self.vpn_connections
                .iter_enumerated()
                .flat_map(|(i, c)| c.prefixes.iter().map(move |p| (*p, i))),
        );
        for acl in &mut self.network_acls {
            acl.finish();
        }
        self.nlb.finish(self.enis.len());
        self.compile_security_groups();
        self.derive_maps();
    }

    /// Flatten each interface's groups into one rule list per direction, expanding group
    /// references into the private addresses of the referenced group's members.
    fn compile_security_groups(&mut self) {
        let mut members: Table<SgIdx, Vec<IpNet>> =
            Table::from(vec![Vec::new(); self.security_groups.len()]);
        for e in &self.enis {
            for &g in &e.security_groups {
                if let Some(m) = members.get_mut(g) {
                    m.extend(e.private_v4.iter().map(|a| IpNet::V4(Ipv4Net::from(*a))));
                    m.extend(e.ipv6.iter().map(|a| IpNet::V6(Ipv6Net::from(*a))));
                }
            }
        }
        let expand =
            |g: SgIdx, rules: &[crate::tables::sg::SgRule], out: &mut Vec<CompiledSgRule>| {
                for (ri, r) in rules.iter().enumerate() {
                    let by_reference = matches!(r.peer, SgPeer::Group(_));
                    let peers: &[IpNet] = match &r.peer {
                        SgPeer::Cidr(c) => std::slice::from_ref(c),
                        SgPeer::PrefixList { entries, .. } => entries.as_slice(),
                        SgPeer::Group(ref_g) => members.get(*ref_g).map_or(&[], |m| m.as_slice()),
                    };
                    for &peer in peers {
                        out.push(CompiledSgRule {
                            protocol: r.protocol,
                            from_port: r.from_port,
                            to_port: r.to_port,
                            peer,
                            group: g,
                            rule: ri as u32,
                            by_reference,
                        });
                    }
                }
            };
        for e in &mut self.enis {
            e.sg_ingress.clear();
            e.sg_egress.clear();
            for &g in &e.security_groups {
                if let Some(sg) = self.security_groups.get(g) {
                    expand(g, &sg.ingress, &mut e.sg_ingress);
                    expand(g, &sg.egress, &mut e.sg_egress);
                }
            }
        }
        // Interfaces with the same groups have the same rules: one set of boxes for them all.
        let mut sets: std::collections::HashMap<&[SgIdx], u32> = std::collections::HashMap::new();
        self.sg_boxes.clear();
        let mut eni_sets = Vec::with_capacity(self.enis.len());
        for e in self.enis.iter() {
            let k = *sets.entry(&e.security_groups).or_insert_with(|| {
                self.sg_boxes
                    .push(crate::tables::sg::SgBoxes::new(&e.sg_ingress, &e.sg_egress));
                self.sg_boxes.len() as u32 - 1
            });
            eni_sets.push(k);
        }
        self.eni_sg_boxes = Table::from(eni_sets);
    }

    /// The rules of one direction of an interface's security groups (`ingress`: inbound), with
    /// group references matching only when `references` (not after an appliance or a transit
    /// gateway forwarded the packet).
    pub fn sg_rules(
        &self,
        eni: EniIdx,
        ingress: bool,
        references: bool,
    ) -> crate::tables::sg::SgRules<'_> {
        let e = &self.enis[eni];
        let (rules, peer) = if ingress {
            (&e.sg_ingress, crate::pipeline::driver::Field::Src)
        } else {
            (&e.sg_egress, crate::pipeline::driver::Field::Dst)
        };
        crate::tables::sg::SgRules {
            rules,
            peer,
            references,
            boxes: &self.sg_boxes[self.eni_sg_boxes[eni] as usize],
        }
    }

    /// The subnet that holds an interface.
    #[inline]
    pub fn subnet_of(&self, eni: EniIdx) -> &Subnet {
        &self.subnets[self.enis[eni].subnet]
    }

    /// Human-readable text of the security group rule a compiled rule came from.
    pub fn sg_rule_text(&self, r: &CompiledSgRule, ingress: bool) -> String {
        let g = &self.security_groups[r.group];
        let list = if ingress { &g.ingress } else { &g.egress };
        let text = list.get(r.rule as usize).map_or("", |x| x.text.as_str());
        format!(
            "{} {} {}: {}",
            self.name(g.res),
            if ingress { "ingress" } else { "egress" },
            r.rule,
            text
        )
    }
}
