//! The typed resource model: what was loaded, with AWS ids, addresses and references resolved.
//!
//! Resources refer to each other by index into the `Model`'s vectors. Every resource keeps where
//! it came from ([`Origin`]) so errors and outputs can name the file and logical id.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// Where a resource came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`Model::templates`].
    pub template: usize,
    /// The CloudFormation logical id (implicit resources get `<Vpc>.MainRouteTable` and the like).
    pub logical_id: String,
    /// The AWS id the simulator assigned (`vpc-…`).
    pub id: String,
    /// The `Name` tag.
    pub name: Option<String>,
    /// The CloudFormation type (`AWS::EC2::VPC`); owned for types vpcsim does not model, which
    /// come from the template or snapshot being read.
    pub kind: Cow<'static, str>,
}

/// A template (or snapshot file) that was loaded: one CloudFormation stack.
#[derive(Clone, Debug)]
pub struct TemplateInfo {
    /// The file.
    pub path: PathBuf,
    /// The stack's name (`AWS::StackName`); for a snapshot file, its directory.
    pub stack_name: String,
    /// The Region the resources are in.
    pub region: String,
    /// The account the resources belong to.
    pub account_id: String,
}

/// An `AWS::EC2::VPC`.
#[derive(Clone, Debug)]
pub struct Vpc {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The primary IPv4 CIDR block, then the secondary ones.
    pub cidrs_v4: Vec<Ipv4Net>,
    /// IPv6 CIDR blocks (`/56`).
    pub cidrs_v6: Vec<Ipv6Net>,
    /// `EnableDnsSupport`: the Amazon DNS server answers at the VPC's base address + 2.
    pub enable_dns_support: bool,
    /// `EnableDnsHostnames`.
    pub enable_dns_hostnames: bool,
    /// The route table of subnets without an explicit association (index into
    /// [`Model::route_tables`]).
    pub main_route_table: usize,
    /// The network ACL of subnets without an explicit association (index into
    /// [`Model::network_acls`]).
    pub default_network_acl: usize,
    /// The `default` security group (index into [`Model::security_groups`]).
    pub default_security_group: usize,
    /// The attached internet gateway (index into [`Model::internet_gateways`]).
    pub internet_gateway: Option<usize>,
    /// The egress-only internet gateway (index into [`Model::egress_only_igws`]).
    pub egress_only_igw: Option<usize>,
}

/// An `AWS::EC2::Subnet`.
#[derive(Clone, Debug)]
pub struct Subnet {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// The Availability Zone's name (`us-east-1a`).
    pub availability_zone: String,
    /// The IPv4 CIDR block; `None` for an IPv6-only subnet.
    pub cidr_v4: Option<Ipv4Net>,
    /// The IPv6 `/64`.
    pub cidr_v6: Option<Ipv6Net>,
    /// `MapPublicIpOnLaunch`: instances launched here get a public IPv4 address.
    pub map_public_ip_on_launch: bool,
    /// Explicit association; `None` = the VPC's main route table.
    pub route_table: Option<usize>,
    /// Explicit association; `None` = the VPC's default network ACL.
    pub network_acl: Option<usize>,
}

/// An `AWS::EC2::RouteTable` (or a VPC's main route table).
#[derive(Clone, Debug)]
pub struct RouteTable {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// The VPC's main route table.
    pub main: bool,
    /// Static routes with a CIDR destination; local routes are implicit.
    pub routes: Vec<Route>,
}

/// A route with a CIDR destination.
#[derive(Clone, Debug)]
pub struct Route {
    /// The `AWS::EC2::Route` resource.
    pub origin: Origin,
    /// The destination CIDR, host bits cleared.
    pub destination: IpNet,
    /// Where matching packets go.
    pub target: RouteTarget,
}

/// Where a route sends packets (indices into the [`Model`]'s lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTarget {
    /// An internet gateway (`GatewayId: igw-…`).
    InternetGateway(usize),
    /// An egress-only internet gateway.
    EgressOnlyInternetGateway(usize),
    /// A NAT gateway.
    NatGateway(usize),
    /// An interface (for `InstanceId`, the instance's primary interface).
    NetworkInterface(usize),
    /// A VPC peering connection.
    Peering(usize),
    /// A transit gateway.
    TransitGateway(usize),
    /// A virtual private gateway (`GatewayId: vgw-…`).
    VpnGateway(usize),
    /// The target id names nothing in the topology: the route is a blackhole.
    Missing(String),
}

/// An `AWS::EC2::InternetGateway`.
#[derive(Clone, Debug)]
pub struct InternetGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The VPC it is attached to (`AWS::EC2::VPCGatewayAttachment`).
    pub vpc: Option<usize>,
}

/// An `AWS::EC2::EgressOnlyInternetGateway`: outbound-only IPv6 to the internet.
#[derive(Clone, Debug)]
pub struct EgressOnlyInternetGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
}

/// An `AWS::EC2::NatGateway`.
#[derive(Clone, Debug)]
pub struct NatGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The subnet it is in (index into [`Model::subnets`]).
    pub subnet: usize,
    /// `ConnectivityType: public` (translates to its Elastic IPs); otherwise private.
    pub public: bool,
    /// Its requester-managed interface.
    pub eni: usize,
}

/// An `AWS::EC2::EIP`: an Elastic IP address.
#[derive(Clone, Debug)]
pub struct Eip {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The public IPv4 address.
    pub public_ip: Ipv4Addr,
    /// The allocation id (`eipalloc-…`).
    pub allocation_id: String,
    /// Interface and private address it is associated with.
    pub association: Option<(usize, Ipv4Addr)>,
}

/// An `AWS::EC2::NetworkAcl` (or a VPC's default network ACL).
#[derive(Clone, Debug)]
pub struct NetworkAcl {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// The VPC's default network ACL.
    pub default: bool,
    /// Inbound and outbound entries, in load order (the data plane sorts them by rule number).
    pub entries: Vec<NaclEntry>,
}

/// An entry of a network ACL.
#[derive(Clone, Debug)]
pub struct NaclEntry {
    /// The `AWS::EC2::NetworkAclEntry` resource, or the implicit default-ACL rule.
    pub origin: Option<Origin>,
    /// An outbound entry; otherwise inbound.
    pub egress: bool,
    /// Rule number, protocol, ports, CIDR and action.
    pub entry: vpcsim_dataplane::nacl::NaclEntry,
}

/// An `AWS::EC2::SecurityGroup` (or a VPC's default security group).
#[derive(Clone, Debug)]
pub struct SecurityGroup {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`]; `None` when the template gives no `VpcId`.
    pub vpc: Option<usize>,
    /// `GroupName`.
    pub group_name: String,
    /// Inbound rules.
    pub ingress: Vec<SgRule>,
    /// Outbound rules.
    pub egress: Vec<SgRule>,
}

/// A security group rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SgRule {
    /// `None` = all protocols.
    pub protocol: Option<u8>,
    /// First port, or ICMP type; -1 for all.
    pub from_port: i32,
    /// Last port, or ICMP code; -1 for all.
    pub to_port: i32,
    /// The addresses the rule allows.
    pub peer: SgPeer,
    /// `Description`.
    pub description: Option<String>,
}

/// The other side of a security group rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SgPeer {
    /// A CIDR block.
    Cidr(IpNet),
    /// Members of a security group (index into [`Model::security_groups`]).
    Group(usize),
    /// A managed prefix list (index into [`Model::prefix_lists`]).
    PrefixList(usize),
}

/// An `AWS::EC2::Instance`.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Primary interface first.
    pub enis: Vec<usize>,
}

/// What an elastic network interface belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EniOwner {
    /// The instance's interface at this device index (0 = primary).
    Instance(usize, u32),
    /// A standalone `AWS::EC2::NetworkInterface`, attached to an instance or not.
    Standalone,
    /// A NAT gateway's interface (index into [`Model::nat_gateways`]).
    NatGateway(usize),
    /// The interface an interface endpoint has in one of its subnets.
    VpcEndpoint(usize),
    /// A Network Load Balancer's node in one of its subnets.
    LoadBalancer(usize),
}

/// An elastic network interface.
#[derive(Clone, Debug)]
pub struct NetworkInterface {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// What it belongs to.
    pub owner: EniOwner,
    /// The subnet it is in (index into [`Model::subnets`]).
    pub subnet: usize,
    /// Primary first.
    pub private_v4: Vec<Ipv4Addr>,
    /// IPv6 addresses.
    pub ipv6: Vec<Ipv6Addr>,
    /// Indices into [`Model::security_groups`].
    pub security_groups: Vec<usize>,
    /// `SourceDestCheck`: off for appliances that forward traffic not addressed to them.
    pub source_dest_check: bool,
    /// An auto-assigned public IPv4 (MapPublicIpOnLaunch / AssociatePublicIpAddress), released
    /// when an Elastic IP is associated with the primary address.
    pub auto_public_ip: Option<Ipv4Addr>,
}

/// An `AWS::EC2::VPCPeeringConnection`.
#[derive(Clone, Debug)]
pub struct Peering {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The requester VPC (index into [`Model::vpcs`]).
    pub requester: usize,
    /// `None` when the peer VPC is not part of the loaded topology.
    pub accepter: Option<usize>,
    /// `PeerVpcId` as given.
    pub peer_vpc_id: String,
}

/// An `AWS::EC2::TransitGateway`.
#[derive(Clone, Debug)]
pub struct TransitGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// `DefaultRouteTableAssociation: enable` (the default): new attachments associate with
    /// the default route table.
    pub default_association: bool,
    /// `DefaultRouteTablePropagation: enable` (the default): new attachments propagate into it.
    pub default_propagation: bool,
    /// The implicit default route table (index into [`Model::tgw_route_tables`]), when either
    /// default is enabled.
    pub default_route_table: Option<usize>,
}

/// What a transit gateway attachment connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TgwAttachmentKind {
    /// A VPC attachment: one subnet per Availability Zone.
    Vpc {
        /// Index into [`Model::vpcs`].
        vpc: usize,
        /// Indices into [`Model::subnets`], in Availability Zone order.
        subnets: Vec<usize>,
    },
    /// The attachment a VPN connection with `TransitGatewayId` creates.
    Vpn(usize),
}

/// A transit gateway attachment.
#[derive(Clone, Debug)]
pub struct TgwAttachment {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::transit_gateways`].
    pub tgw: usize,
    /// What it connects.
    pub kind: TgwAttachmentKind,
    /// `ApplianceModeSupport`: both directions of a flow use the same Availability Zone.
    pub appliance_mode: bool,
    /// The associated transit gateway route table.
    pub association: Option<usize>,
    /// Transit gateway route tables this attachment propagates its routes into.
    pub propagations: Vec<usize>,
}

/// An `AWS::EC2::TransitGatewayRouteTable` (or a transit gateway's default route table).
#[derive(Clone, Debug)]
pub struct TgwRouteTable {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::transit_gateways`].
    pub tgw: usize,
    /// Static routes (`AWS::EC2::TransitGatewayRoute`).
    pub routes: Vec<TgwRoute>,
}

/// A static transit gateway route.
#[derive(Clone, Debug)]
pub struct TgwRoute {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The destination CIDR.
    pub destination: IpNet,
    /// The attachment; `None` for a blackhole route.
    pub attachment: Option<usize>,
}

/// An `AWS::EC2::VPNGateway`: a virtual private gateway.
#[derive(Clone, Debug)]
pub struct VpnGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The VPC it is attached to.
    pub vpc: Option<usize>,
    /// Route tables with `AWS::EC2::VPNGatewayRoutePropagation` from this gateway, each with
    /// the propagation resource.
    pub propagations: Vec<(usize, Origin)>,
}

/// An `AWS::EC2::CustomerGateway`: the on-premises end of a Site-to-Site VPN.
#[derive(Clone, Debug)]
pub struct CustomerGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// `IpAddress`: its public address.
    pub ip_address: Option<Ipv4Addr>,
    /// Prefixes it advertises over BGP, from the `vpcsim:prefixes` tag.
    pub bgp_prefixes: Vec<IpNet>,
}

/// The AWS end of a Site-to-Site VPN connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VpnEdge {
    /// A virtual private gateway (index into [`Model::vpn_gateways`]).
    VpnGateway(usize),
    /// A transit gateway and the VPN attachment the connection created on it.
    TransitGateway {
        /// Index into [`Model::transit_gateways`].
        tgw: usize,
        /// Index into [`Model::tgw_attachments`].
        attachment: usize,
    },
}

/// An `AWS::EC2::VPNConnection`: a Site-to-Site VPN connection.
#[derive(Clone, Debug)]
pub struct VpnConnection {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::customer_gateways`].
    pub customer_gateway: usize,
    /// The gateway it ends on in AWS.
    pub edge: VpnEdge,
    /// `StaticRoutesOnly`: static routes instead of BGP.
    pub static_routes_only: bool,
    /// `AWS::EC2::VPNConnectionRoute`s.
    pub static_routes: Vec<(Origin, IpNet)>,
    /// Extra BGP prefixes declared on the connection itself (`vpcsim:prefixes` tag).
    pub bgp_prefixes: Vec<IpNet>,
}

impl VpnConnection {
    /// The on-premises prefixes behind the connection: static routes, or with BGP the prefixes
    /// the customer gateway (and the connection's own tag) declare.
    pub fn prefixes(&self, model: &Model) -> Vec<IpNet> {
        if self.static_routes_only {
            return self.static_routes.iter().map(|(_, p)| *p).collect();
        }
        let mut out: Vec<IpNet> = Vec::new();
        let declared = model.customer_gateways[self.customer_gateway]
            .bgp_prefixes
            .iter()
            .chain(&self.bgp_prefixes);
        for p in declared {
            if !out.contains(p) {
                out.push(*p);
            }
        }
        out
    }
}

/// Which gateway a gateway route table is associated with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeGateway {
    /// An internet gateway (index into [`Model::internet_gateways`]).
    InternetGateway(usize),
    /// A virtual private gateway (index into [`Model::vpn_gateways`]).
    VpnGateway(usize),
}

/// An `AWS::EC2::GatewayRouteTableAssociation`: a route table routing traffic that enters the
/// VPC through a gateway.
#[derive(Clone, Debug)]
pub struct GatewayRouteTable {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The gateway whose incoming traffic the table routes.
    pub gateway: EdgeGateway,
    /// Index into [`Model::route_tables`].
    pub route_table: usize,
}

/// A managed prefix list: customer-managed (`AWS::EC2::PrefixList`) or the AWS-managed list of
/// a gateway endpoint's service.
#[derive(Clone, Debug)]
pub struct PrefixList {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// `IPv4` or `IPv6`.
    pub ipv6: bool,
    /// What a reference counts against security-group rule quotas (SPEC §4.3): `MaxEntries` for
    /// a customer-managed list, the weight for an AWS-managed one.
    pub max_entries: u32,
    /// The CIDR blocks.
    pub entries: Vec<IpNet>,
    /// `com.amazonaws.us-east-1.s3` for an AWS-managed list.
    pub aws_managed: Option<String>,
}

/// An `AWS::EC2::Route` with `DestinationPrefixListId`.
#[derive(Clone, Debug)]
pub struct PrefixListRoute {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::route_tables`].
    pub route_table: usize,
    /// Index into [`Model::prefix_lists`].
    pub prefix_list: usize,
    /// Where matching packets go.
    pub target: RouteTarget,
}

/// What kind of VPC endpoint, with what that kind has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VpcEndpointKind {
    /// S3 / DynamoDB: the route tables that receive `prefix list → endpoint`.
    Gateway {
        /// Indices into [`Model::route_tables`].
        route_tables: Vec<usize>,
        /// The service's AWS-managed prefix list (index into [`Model::prefix_lists`]).
        prefix_list: usize,
    },
    /// PrivateLink: one interface per subnet (indices into [`Model::enis`]).
    Interface {
        /// Indices into [`Model::subnets`], one per Availability Zone.
        subnets: Vec<usize>,
        /// The endpoint's interface in each subnet (same order).
        enis: Vec<usize>,
        /// `PrivateDnsEnabled`.
        private_dns_enabled: bool,
        /// The names private DNS would answer with the endpoint's addresses (for DNS later).
        private_dns_names: Vec<String>,
    },
}

/// An `AWS::EC2::VPCEndpoint` of type Gateway or Interface.
#[derive(Clone, Debug)]
pub struct VpcEndpoint {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// `ServiceName` (`com.amazonaws.us-east-1.s3`).
    pub service_name: String,
    /// Gateway or Interface, with what that kind has.
    pub kind: VpcEndpointKind,
    /// `PolicyDocument` as given (JSON text); `None` = the default policy, which allows all.
    pub policy: Option<String>,
}

/// A resource of a type the simulator does not model (S3 buckets, IAM roles...). Kept so
/// references to it resolve and `validate` can list it.
#[derive(Clone, Debug)]
pub struct Unsupported {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
}

/// Everything loaded, as lists of typed resources that refer to each other by index.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The templates and snapshot files, in load order ([`Origin::template`] indexes them).
    pub templates: Vec<TemplateInfo>,
    /// VPCs.
    pub vpcs: Vec<Vpc>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// Route tables, main route tables included.
    pub route_tables: Vec<RouteTable>,
    /// Internet gateways.
    pub internet_gateways: Vec<InternetGateway>,
    /// Egress-only internet gateways.
    pub egress_only_igws: Vec<EgressOnlyInternetGateway>,
    /// NAT gateways.
    pub nat_gateways: Vec<NatGateway>,
    /// Elastic IPs.
    pub eips: Vec<Eip>,
    /// Network ACLs, default network ACLs included.
    pub network_acls: Vec<NetworkAcl>,
    /// Security groups, default security groups included.
    pub security_groups: Vec<SecurityGroup>,
    /// EC2 instances.
    pub instances: Vec<Instance>,
    /// Elastic network interfaces of every owner.
    pub enis: Vec<NetworkInterface>,
    /// VPC peering connections.
    pub peerings: Vec<Peering>,
    /// Transit gateways.
    pub transit_gateways: Vec<TransitGateway>,
    /// Transit gateway attachments (VPC and VPN).
    pub tgw_attachments: Vec<TgwAttachment>,
    /// Transit gateway route tables.
    pub tgw_route_tables: Vec<TgwRouteTable>,
    /// Virtual private gateways.
    pub vpn_gateways: Vec<VpnGateway>,
    /// Customer gateways.
    pub customer_gateways: Vec<CustomerGateway>,
    /// Site-to-Site VPN connections.
    pub vpn_connections: Vec<VpnConnection>,
    /// Gateway route table associations.
    pub gateway_route_tables: Vec<GatewayRouteTable>,
    /// Managed prefix lists, AWS-managed ones included once used.
    pub prefix_lists: Vec<PrefixList>,
    /// Routes whose destination is a prefix list (`DestinationPrefixListId`).
    pub prefix_list_routes: Vec<PrefixListRoute>,
    /// VPC endpoints of type Gateway and Interface.
    pub vpc_endpoints: Vec<VpcEndpoint>,
    /// Network Load Balancers.
    pub load_balancers: Vec<LoadBalancer>,
    /// Network Load Balancer listeners.
    pub listeners: Vec<Listener>,
    /// Network Load Balancer target groups.
    pub target_groups: Vec<TargetGroup>,
    /// Gateway Load Balancers (`Type: gateway`) and what hangs off them.
    pub gateway_load_balancers: Vec<GatewayLoadBalancer>,
    /// GENEVE target groups of Gateway Load Balancers.
    pub gwlb_target_groups: Vec<GwlbTargetGroup>,
    /// Endpoint services of Gateway Load Balancers.
    pub endpoint_services: Vec<EndpointService>,
    /// Gateway Load Balancer endpoints.
    pub gwlb_endpoints: Vec<GwlbEndpoint>,
    /// Routes whose target is a GWLB endpoint (`VpcEndpointId`), kept apart from
    /// [`RouteTable::routes`] like prefix-list routes.
    pub gwlb_routes: Vec<GwlbRoute>,
    /// Resources of supported types that only link others (associations, attachments, routes,
    /// rules, CIDR blocks): kept for counting and naming.
    pub links: Vec<Origin>,
    /// Resources of types vpcsim does not model.
    pub unsupported: Vec<Unsupported>,
}

impl Model {
    /// Public address of an interface's private address: an associated Elastic IP wins over
    /// an auto-assigned public IP.
    pub fn public_ip_of(&self, eni: usize, private: Ipv4Addr) -> Option<Ipv4Addr> {
        self.eips
            .iter()
            .find(|e| e.association == Some((eni, private)))
            .map(|e| e.public_ip)
            .or_else(|| {
                let e = &self.enis[eni];
                (e.private_v4.first() == Some(&private))
                    .then_some(e.auto_public_ip)
                    .flatten()
            })
    }

    /// Counts of loaded resources per CloudFormation type, implicit ones excluded.
    pub fn counts(&self) -> Vec<(&str, usize)> {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        let implicit = |o: &Origin| o.logical_id.contains('.');
        let origins = self
            .vpcs
            .iter()
            .map(|r| &r.origin)
            .chain(self.subnets.iter().map(|r| &r.origin))
            .chain(self.route_tables.iter().map(|r| &r.origin))
            .chain(self.internet_gateways.iter().map(|r| &r.origin))
            .chain(self.egress_only_igws.iter().map(|r| &r.origin))
            .chain(self.nat_gateways.iter().map(|r| &r.origin))
            .chain(self.eips.iter().map(|r| &r.origin))
            .chain(self.network_acls.iter().map(|r| &r.origin))
            .chain(self.security_groups.iter().map(|r| &r.origin))
            .chain(self.instances.iter().map(|r| &r.origin))
            .chain(
                self.enis
                    .iter()
                    .filter(|e| e.owner == EniOwner::Standalone)
                    .map(|r| &r.origin),
            )
            .chain(self.peerings.iter().map(|r| &r.origin))
            .chain(self.transit_gateways.iter().map(|r| &r.origin))
            .chain(self.tgw_attachments.iter().map(|r| &r.origin))
            .chain(self.tgw_route_tables.iter().map(|r| &r.origin))
            .chain(self.vpn_gateways.iter().map(|r| &r.origin))
            .chain(self.customer_gateways.iter().map(|r| &r.origin))
            .chain(self.vpn_connections.iter().map(|r| &r.origin))
            .chain(
                self.prefix_lists
                    .iter()
                    .filter(|p| p.aws_managed.is_none())
                    .map(|r| &r.origin),
            )
            .chain(self.vpc_endpoints.iter().map(|r| &r.origin))
            .chain(self.load_balancers.iter().map(|r| &r.origin))
            .chain(self.listeners.iter().map(|r| &r.origin))
            .chain(self.target_groups.iter().map(|r| &r.origin))
            .chain(self.gateway_load_balancers.iter().map(|r| &r.origin))
            .chain(self.gwlb_target_groups.iter().map(|r| &r.origin))
            .chain(self.endpoint_services.iter().map(|r| &r.origin))
            .chain(self.gwlb_endpoints.iter().map(|r| &r.origin))
            .chain(self.gwlb_routes.iter().map(|r| &r.origin))
            .chain(self.links.iter());
        for o in origins.filter(|o| !implicit(o)) {
            *counts.entry(&o.kind).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}

/// An `AWS::ElasticLoadBalancingV2::LoadBalancer` of type `network`.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    /// `id` is the load balancer's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// The DNS name clients resolve.
    pub dns_name: String,
    /// `Scheme: internet-facing`; otherwise internal.
    pub internet_facing: bool,
    /// Enabled subnets, one per Availability Zone.
    pub subnets: Vec<usize>,
    /// The node interface in each subnet (same order).
    pub nodes: Vec<usize>,
    /// Indices into [`Model::security_groups`].
    pub security_groups: Vec<usize>,
    /// `load_balancing.cross_zone.enabled`.
    pub cross_zone: bool,
}

/// An `AWS::ElasticLoadBalancingV2::Listener` whose default action forwards to a target group.
#[derive(Clone, Debug)]
pub struct Listener {
    /// The listener; `id` is its ARN.
    pub origin: Origin,
    /// Index into [`Model::load_balancers`].
    pub load_balancer: usize,
    /// `Protocol` (TCP, UDP, TCP_UDP or TLS).
    pub protocol: vpcsim_dataplane::elb::LbProtocol,
    /// `Port`.
    pub port: u16,
    /// The target group it forwards to (index into [`Model::target_groups`]).
    pub target_group: usize,
}

/// Health-check settings of a target group (AWS defaults for NLBs when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    /// `HealthCheckEnabled`.
    pub enabled: bool,
    /// `TCP`, `HTTP` or `HTTPS`.
    pub protocol: String,
    /// `None`: `traffic-port`.
    pub port: Option<u16>,
    /// `HealthCheckPath` of HTTP and HTTPS checks.
    pub path: Option<String>,
    /// `HealthCheckIntervalSeconds`.
    pub interval_s: u32,
    /// `HealthCheckTimeoutSeconds`.
    pub timeout_s: u32,
    /// `HealthyThresholdCount`.
    pub healthy_threshold: u32,
    /// `UnhealthyThresholdCount`.
    pub unhealthy_threshold: u32,
}

/// What a registered target names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetRef {
    /// An instance (its primary interface's address).
    Instance(usize),
    /// An IP address (a target group of type `ip`).
    Ip(std::net::IpAddr),
}

/// A registered target of a target group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The id as registered (instance id or address).
    pub id: String,
    /// What the id names.
    pub target: TargetRef,
    /// Overrides the target group's port.
    pub port: Option<u16>,
}

/// An `AWS::ElasticLoadBalancingV2::TargetGroup` (instance or ip targets).
#[derive(Clone, Debug)]
pub struct TargetGroup {
    /// `id` is the target group's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// Index into [`Model::vpcs`].
    pub vpc: Option<usize>,
    /// `TargetType` (instance or ip).
    pub target_type: vpcsim_dataplane::elb::TargetType,
    /// `Protocol`.
    pub protocol: vpcsim_dataplane::elb::LbProtocol,
    /// `Port`: where targets receive traffic unless a target says otherwise.
    pub port: u16,
    /// Health check settings.
    pub health_check: HealthCheck,
    /// `preserve_client_ip.enabled`; `None`: the AWS default for the target type and protocol.
    pub preserve_client_ip: Option<bool>,
    /// `load_balancing.cross_zone.enabled`; `None`: `use_load_balancer_configuration`.
    pub cross_zone: Option<bool>,
    /// Registered targets.
    pub targets: Vec<Target>,
}

impl TargetGroup {
    /// Client IP preservation in effect: on for instance targets and for UDP/TCP_UDP, off for
    /// ip targets over TCP/TLS, unless the attribute says otherwise (SPEC §11.3).
    pub fn preserves_client_ip(&self) -> bool {
        use vpcsim_dataplane::elb::TargetType;
        self.protocol.carries_udp()
            || self
                .preserve_client_ip
                .unwrap_or(self.target_type == TargetType::Instance)
    }
}

/// An `AWS::ElasticLoadBalancingV2::LoadBalancer` of type `gateway` (SPEC §11.4).
#[derive(Clone, Debug)]
pub struct GatewayLoadBalancer {
    /// `id` is the load balancer's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// Enabled subnets, one per Availability Zone.
    pub subnets: Vec<usize>,
    /// The node's private address in each subnet (same order).
    pub nodes: Vec<std::net::Ipv4Addr>,
    /// `load_balancing.cross_zone.enabled` (off by default).
    pub cross_zone: bool,
    /// The target group its listener forwards to.
    pub target_group: Option<usize>,
}

/// A `GENEVE` target group of appliance instances.
#[derive(Clone, Debug)]
pub struct GwlbTargetGroup {
    /// `id` is the target group's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// How flows are kept on one target (`stickiness.type`).
    pub stickiness: vpcsim_dataplane::gwlb::Stickiness,
    /// Health check settings.
    pub health_check: HealthCheck,
    /// Registered instances: (id as written, instance).
    pub targets: Vec<(String, usize)>,
}

/// An `AWS::EC2::VPCEndpointService` backed by Gateway Load Balancers.
#[derive(Clone, Debug)]
pub struct EndpointService {
    /// `id` is the service id (`vpce-svc-…`).
    pub origin: Origin,
    /// The Gateway Load Balancers behind it (indices into [`Model::gateway_load_balancers`]).
    pub load_balancers: Vec<usize>,
    /// `com.amazonaws.vpce.<region>.<service id>`.
    pub service_name: String,
}

/// An `AWS::EC2::VPCEndpoint` of type `GatewayLoadBalancer`.
#[derive(Clone, Debug)]
pub struct GwlbEndpoint {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// Its one subnet (index into [`Model::subnets`]).
    pub subnet: usize,
    /// The endpoint service it connects to (index into [`Model::endpoint_services`]).
    pub service: usize,
}

/// A route whose target is a GWLB endpoint.
#[derive(Clone, Debug)]
pub struct GwlbRoute {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::route_tables`].
    pub route_table: usize,
    /// The destination CIDR.
    pub destination: IpNet,
    /// Index into [`Model::gwlb_endpoints`].
    pub endpoint: usize,
}
