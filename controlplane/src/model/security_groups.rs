//! Security groups and their rules.

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;
use ipnet::IpNet;
use vpcsim_dataplane::wire::IpProtocol;

/// An `AWS::EC2::SecurityGroup` (or a VPC's default security group).
#[derive(Clone, Debug)]
pub struct SecurityGroup {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`]; `None` when the template gives no `VpcId`.
    pub vpc: Option<usize>,
    /// `GroupName`.
    pub group_name: String,
    /// `GroupDescription` (describe-*: `Description`); AWS requires one and gives default
    /// groups `default VPC security group`.
    pub description: String,
    /// Inbound rules.
    pub ingress: Vec<SgRule>,
    /// Outbound rules.
    pub egress: Vec<SgRule>,
}

/// A security group rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SgRule {
    /// `None` = all protocols.
    pub protocol: Option<IpProtocol>,
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
