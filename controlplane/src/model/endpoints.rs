//! VPC endpoints of type Gateway and Interface.

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;

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
