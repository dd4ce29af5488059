//! Managed prefix lists and the routes whose destination is one.

use super::{Origin, RouteTarget};
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;
use ipnet::IpNet;

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
