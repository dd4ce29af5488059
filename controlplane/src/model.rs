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

#[derive(Clone, Debug)]
pub struct TemplateInfo {
    pub path: PathBuf,
    pub stack_name: String,
    pub region: String,
    pub account_id: String,
}

#[derive(Clone, Debug)]
pub struct Vpc {
    pub origin: Origin,
    pub cidrs_v4: Vec<Ipv4Net>,
    pub cidrs_v6: Vec<Ipv6Net>,
    pub enable_dns_support: bool,
    pub enable_dns_hostnames: bool,
    pub main_route_table: usize,
    pub default_network_acl: usize,
    pub default_security_group: usize,
    pub internet_gateway: Option<usize>,
    pub egress_only_igw: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Subnet {
    pub origin: Origin,
    pub vpc: usize,
    pub availability_zone: String,
    pub cidr_v4: Option<Ipv4Net>,
    pub cidr_v6: Option<Ipv6Net>,
    pub map_public_ip_on_launch: bool,
    /// Explicit association; `None` = the VPC's main route table.
    pub route_table: Option<usize>,
    /// Explicit association; `None` = the VPC's default network ACL.
    pub network_acl: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct RouteTable {
    pub origin: Origin,
    pub vpc: usize,
    pub main: bool,
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug)]
pub struct Route {
    /// The `AWS::EC2::Route` resource.
    pub origin: Origin,
    pub destination: IpNet,
    pub target: RouteTarget,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTarget {
    InternetGateway(usize),
    EgressOnlyInternetGateway(usize),
    NatGateway(usize),
    /// An interface (for `InstanceId`, the instance's primary interface).
    NetworkInterface(usize),
    Peering(usize),
    TransitGateway(usize),
    /// A virtual private gateway (`GatewayId: vgw-…`).
    VpnGateway(usize),
    /// The target id names nothing in the topology: the route is a blackhole.
    Missing(String),
}

#[derive(Clone, Debug)]
pub struct InternetGateway {
    pub origin: Origin,
    pub vpc: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct EgressOnlyInternetGateway {
    pub origin: Origin,
    pub vpc: usize,
}

#[derive(Clone, Debug)]
pub struct NatGateway {
    pub origin: Origin,
    pub subnet: usize,
    pub public: bool,
    /// Its requester-managed interface.
    pub eni: usize,
}

#[derive(Clone, Debug)]
pub struct Eip {
    pub origin: Origin,
    pub public_ip: Ipv4Addr,
    pub allocation_id: String,
    /// Interface and private address it is associated with.
    pub association: Option<(usize, Ipv4Addr)>,
}

#[derive(Clone, Debug)]
pub struct NetworkAcl {
    pub origin: Origin,
    pub vpc: usize,
    pub default: bool,
    pub entries: Vec<NaclEntry>,
}

#[derive(Clone, Debug)]
pub struct NaclEntry {
    /// The `AWS::EC2::NetworkAclEntry` resource, or the implicit default-ACL rule.
    pub origin: Option<Origin>,
    pub egress: bool,
    pub entry: vpcsim_dataplane::nacl::NaclEntry,
}

#[derive(Clone, Debug)]
pub struct SecurityGroup {
    pub origin: Origin,
    pub vpc: Option<usize>,
    pub group_name: String,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SgRule {
    /// `None` = all protocols.
    pub protocol: Option<u8>,
    pub from_port: i32,
    pub to_port: i32,
    pub peer: SgPeer,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SgPeer {
    Cidr(IpNet),
    Group(usize),
    /// A managed prefix list (index into [`Model::prefix_lists`]).
    PrefixList(usize),
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub origin: Origin,
    /// Primary interface first.
    pub enis: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EniOwner {
    /// The instance's interface at this device index (0 = primary).
    Instance(usize, u32),
    /// A standalone `AWS::EC2::NetworkInterface`, attached to an instance or not.
    Standalone,
    NatGateway(usize),
    /// The interface an interface endpoint has in one of its subnets.
    VpcEndpoint(usize),
    /// A Network Load Balancer's node in one of its subnets.
    LoadBalancer(usize),
}

#[derive(Clone, Debug)]
pub struct NetworkInterface {
    pub origin: Origin,
    pub owner: EniOwner,
    pub subnet: usize,
    /// Primary first.
    pub private_v4: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
    pub security_groups: Vec<usize>,
    pub source_dest_check: bool,
    /// An auto-assigned public IPv4 (MapPublicIpOnLaunch / AssociatePublicIpAddress), released
    /// when an Elastic IP is associated with the primary address.
    pub auto_public_ip: Option<Ipv4Addr>,
}

#[derive(Clone, Debug)]
pub struct Peering {
    pub origin: Origin,
    pub requester: usize,
    /// `None` when the peer VPC is not part of the loaded topology.
    pub accepter: Option<usize>,
    pub peer_vpc_id: String,
}

#[derive(Clone, Debug)]
pub struct TransitGateway {
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TgwAttachmentKind {
    /// A VPC attachment: one subnet per Availability Zone.
    Vpc { vpc: usize, subnets: Vec<usize> },
    /// The attachment a VPN connection with `TransitGatewayId` creates.
    Vpn(usize),
}

#[derive(Clone, Debug)]
pub struct TgwAttachment {
    pub origin: Origin,
    pub tgw: usize,
    pub kind: TgwAttachmentKind,
    pub appliance_mode: bool,
    /// The associated transit gateway route table.
    pub association: Option<usize>,
    /// Transit gateway route tables this attachment propagates its routes into.
    pub propagations: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct TgwRouteTable {
    pub origin: Origin,
    pub tgw: usize,
    /// Static routes (`AWS::EC2::TransitGatewayRoute`).
    pub routes: Vec<TgwRoute>,
}

#[derive(Clone, Debug)]
pub struct TgwRoute {
    pub origin: Origin,
    pub destination: IpNet,
    /// The attachment; `None` for a blackhole route.
    pub attachment: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct VpnGateway {
    pub origin: Origin,
    pub vpc: Option<usize>,
    /// Route tables with `AWS::EC2::VPNGatewayRoutePropagation` from this gateway, each with
    /// the propagation resource.
    pub propagations: Vec<(usize, Origin)>,
}

#[derive(Clone, Debug)]
pub struct CustomerGateway {
    pub origin: Origin,
    pub ip_address: Option<Ipv4Addr>,
    /// Prefixes it advertises over BGP, from the `vpcsim:prefixes` tag.
    pub bgp_prefixes: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VpnEdge {
    VpnGateway(usize),
    /// A transit gateway and the VPN attachment the connection created on it.
    TransitGateway {
        tgw: usize,
        attachment: usize,
    },
}

#[derive(Clone, Debug)]
pub struct VpnConnection {
    pub origin: Origin,
    pub customer_gateway: usize,
    pub edge: VpnEdge,
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
    InternetGateway(usize),
    VpnGateway(usize),
}

/// An `AWS::EC2::GatewayRouteTableAssociation`: a route table routing traffic that enters the
/// VPC through a gateway.
#[derive(Clone, Debug)]
pub struct GatewayRouteTable {
    pub origin: Origin,
    pub gateway: EdgeGateway,
    pub route_table: usize,
}

/// A managed prefix list: customer-managed (`AWS::EC2::PrefixList`) or the AWS-managed list of
/// a gateway endpoint's service.
#[derive(Clone, Debug)]
pub struct PrefixList {
    pub origin: Origin,
    /// `IPv4` or `IPv6`.
    pub ipv6: bool,
    /// What a reference counts against security-group rule quotas (SPEC §4.3): `MaxEntries` for
    /// a customer-managed list, the weight for an AWS-managed one.
    pub max_entries: u32,
    pub entries: Vec<IpNet>,
    /// `com.amazonaws.us-east-1.s3` for an AWS-managed list.
    pub aws_managed: Option<String>,
}

/// An `AWS::EC2::Route` with `DestinationPrefixListId`.
#[derive(Clone, Debug)]
pub struct PrefixListRoute {
    pub origin: Origin,
    pub route_table: usize,
    pub prefix_list: usize,
    pub target: RouteTarget,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VpcEndpointKind {
    /// S3 / DynamoDB: the route tables that receive `prefix list → endpoint`.
    Gateway {
        route_tables: Vec<usize>,
        prefix_list: usize,
    },
    /// PrivateLink: one interface per subnet (indices into [`Model::enis`]).
    Interface {
        subnets: Vec<usize>,
        enis: Vec<usize>,
        private_dns_enabled: bool,
        /// The names private DNS would answer with the endpoint's addresses (for DNS later).
        private_dns_names: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct VpcEndpoint {
    pub origin: Origin,
    pub vpc: usize,
    pub service_name: String,
    pub kind: VpcEndpointKind,
    /// `PolicyDocument` as given (JSON text); `None` = the default policy, which allows all.
    pub policy: Option<String>,
}

/// A resource of a type the simulator does not model (S3 buckets, IAM roles...). Kept so
/// references to it resolve and `validate` can list it.
#[derive(Clone, Debug)]
pub struct Unsupported {
    pub origin: Origin,
}

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub templates: Vec<TemplateInfo>,
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub internet_gateways: Vec<InternetGateway>,
    pub egress_only_igws: Vec<EgressOnlyInternetGateway>,
    pub nat_gateways: Vec<NatGateway>,
    pub eips: Vec<Eip>,
    pub network_acls: Vec<NetworkAcl>,
    pub security_groups: Vec<SecurityGroup>,
    pub instances: Vec<Instance>,
    pub enis: Vec<NetworkInterface>,
    pub peerings: Vec<Peering>,
    pub transit_gateways: Vec<TransitGateway>,
    pub tgw_attachments: Vec<TgwAttachment>,
    pub tgw_route_tables: Vec<TgwRouteTable>,
    pub vpn_gateways: Vec<VpnGateway>,
    pub customer_gateways: Vec<CustomerGateway>,
    pub vpn_connections: Vec<VpnConnection>,
    pub gateway_route_tables: Vec<GatewayRouteTable>,
    pub prefix_lists: Vec<PrefixList>,
    /// Routes whose destination is a prefix list (`DestinationPrefixListId`).
    pub prefix_list_routes: Vec<PrefixListRoute>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    pub load_balancers: Vec<LoadBalancer>,
    pub listeners: Vec<Listener>,
    pub target_groups: Vec<TargetGroup>,
    /// Gateway Load Balancers (`Type: gateway`) and what hangs off them.
    pub gateway_load_balancers: Vec<GatewayLoadBalancer>,
    pub gwlb_target_groups: Vec<GwlbTargetGroup>,
    pub endpoint_services: Vec<EndpointService>,
    pub gwlb_endpoints: Vec<GwlbEndpoint>,
    /// Routes whose target is a GWLB endpoint (`VpcEndpointId`), kept apart from
    /// [`RouteTable::routes`] like prefix-list routes.
    pub gwlb_routes: Vec<GwlbRoute>,
    /// Resources of supported types that only link others (associations, attachments, routes,
    /// rules, CIDR blocks): kept for counting and naming.
    pub links: Vec<Origin>,
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
    pub name: String,
    pub dns_name: String,
    pub internet_facing: bool,
    /// Enabled subnets, one per Availability Zone.
    pub subnets: Vec<usize>,
    /// The node interface in each subnet (same order).
    pub nodes: Vec<usize>,
    pub security_groups: Vec<usize>,
    /// `load_balancing.cross_zone.enabled`.
    pub cross_zone: bool,
}

/// An `AWS::ElasticLoadBalancingV2::Listener` whose default action forwards to a target group.
#[derive(Clone, Debug)]
pub struct Listener {
    pub origin: Origin,
    pub load_balancer: usize,
    pub protocol: vpcsim_dataplane::elb::LbProtocol,
    pub port: u16,
    pub target_group: usize,
}

/// Health-check settings of a target group (AWS defaults for NLBs when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    pub enabled: bool,
    /// `TCP`, `HTTP` or `HTTPS`.
    pub protocol: String,
    /// `None`: `traffic-port`.
    pub port: Option<u16>,
    pub path: Option<String>,
    pub interval_s: u32,
    pub timeout_s: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

/// What a registered target names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetRef {
    /// An instance (its primary interface's address).
    Instance(usize),
    Ip(std::net::IpAddr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The id as registered (instance id or address).
    pub id: String,
    pub target: TargetRef,
    /// Overrides the target group's port.
    pub port: Option<u16>,
}

/// An `AWS::ElasticLoadBalancingV2::TargetGroup` (instance or ip targets).
#[derive(Clone, Debug)]
pub struct TargetGroup {
    /// `id` is the target group's ARN.
    pub origin: Origin,
    pub name: String,
    pub vpc: Option<usize>,
    pub target_type: vpcsim_dataplane::elb::TargetType,
    pub protocol: vpcsim_dataplane::elb::LbProtocol,
    pub port: u16,
    pub health_check: HealthCheck,
    /// `preserve_client_ip.enabled`; `None`: the AWS default for the target type and protocol.
    pub preserve_client_ip: Option<bool>,
    /// `load_balancing.cross_zone.enabled`; `None`: `use_load_balancer_configuration`.
    pub cross_zone: Option<bool>,
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
    pub name: String,
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
    pub name: String,
    pub vpc: usize,
    pub stickiness: vpcsim_dataplane::gwlb::Stickiness,
    pub health_check: HealthCheck,
    /// Registered instances: (id as written, instance).
    pub targets: Vec<(String, usize)>,
}

/// An `AWS::EC2::VPCEndpointService` backed by Gateway Load Balancers.
#[derive(Clone, Debug)]
pub struct EndpointService {
    /// `id` is the service id (`vpce-svc-…`).
    pub origin: Origin,
    pub load_balancers: Vec<usize>,
    /// `com.amazonaws.vpce.<region>.<service id>`.
    pub service_name: String,
}

/// An `AWS::EC2::VPCEndpoint` of type `GatewayLoadBalancer`.
#[derive(Clone, Debug)]
pub struct GwlbEndpoint {
    pub origin: Origin,
    pub vpc: usize,
    pub subnet: usize,
    pub service: usize,
}

/// A route whose target is a GWLB endpoint.
#[derive(Clone, Debug)]
pub struct GwlbRoute {
    pub origin: Origin,
    pub route_table: usize,
    pub destination: IpNet,
    pub endpoint: usize,
}
