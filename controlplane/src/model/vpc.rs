//! VPCs and subnets.

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;
use ipnet::{Ipv4Net, Ipv6Net};

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
    /// The account's default VPC in its Region (`IsDefault`): where templates deployed into the
    /// account put groups without `VpcId` and instances without a subnet.
    pub is_default: bool,
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
