//! EC2 instances and elastic network interfaces.

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An `AWS::EC2::Instance`.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Primary interface first.
    pub enis: Vec<usize>,
    /// The Auto Scaling group that launched it, if one did.
    pub auto_scaling: Option<super::AutoScalingMember>,
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
    /// An Application Load Balancer's node (index into [`super::Albs::load_balancers`]).
    AppLoadBalancer(usize),
    /// One address of a Route 53 Resolver endpoint (index into
    /// [`Model::dns`](super::Model::dns) `.endpoints`).
    ResolverEndpoint(usize),
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
