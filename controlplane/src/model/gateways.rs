//! Internet gateways, egress-only internet gateways and NAT gateways.

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;

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
