//! The typed resource model: what was loaded, with AWS ids, addresses and references resolved.
//!
//! Resources refer to each other by index into the `Model`'s vectors. Every resource keeps where
//! it came from ([`Origin`]) so errors and outputs can name the file and logical id.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
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
    /// The CloudFormation type.
    pub kind: &'static str,
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
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: std::collections::BTreeMap<&'static str, usize> = Default::default();
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
            .chain(self.links.iter());
        for o in origins.filter(|o| !implicit(o)) {
            *counts.entry(o.kind).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}
