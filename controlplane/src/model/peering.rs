//! VPC peering connections.

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;

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
