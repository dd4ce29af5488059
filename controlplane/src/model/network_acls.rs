//! Network ACLs.

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;

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
    pub entry: vpcsim_dataplane::tables::nacl::NaclEntry,
}
