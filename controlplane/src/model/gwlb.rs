//! Gateway Load Balancers, their target groups, endpoint services and endpoints.

use super::{HealthCheck, Origin};
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;
use ipnet::IpNet;

/// An `AWS::ElasticLoadBalancingV2::LoadBalancer` of type `gateway` (SPEC §11.4).
#[derive(Clone, Debug)]
pub struct GatewayLoadBalancer {
    /// `id` is the load balancer's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// Index into [`Model::vpcs`].
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
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// How flows are kept on one target (`stickiness.type`).
    pub stickiness: vpcsim_dataplane::topology::gwlb::Stickiness,
    /// Health check settings.
    pub health_check: HealthCheck,
    /// Registered instances: (id as written, instance).
    pub targets: Vec<(String, usize)>,
}

/// An `AWS::EC2::VPCEndpointService` backed by Gateway Load Balancers.
#[derive(Clone, Debug)]
pub struct EndpointService {
    /// `id` is the service id (`vpce-svc-…`).
    pub origin: Origin,
    /// The Gateway Load Balancers behind it (indices into [`Model::gateway_load_balancers`]).
    pub load_balancers: Vec<usize>,
    /// `com.amazonaws.vpce.<region>.<service id>`.
    pub service_name: String,
}

/// An `AWS::EC2::VPCEndpoint` of type `GatewayLoadBalancer`.
#[derive(Clone, Debug)]
pub struct GwlbEndpoint {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// Its one subnet (index into [`Model::subnets`]).
    pub subnet: usize,
    /// The endpoint service it connects to (index into [`Model::endpoint_services`]).
    pub service: usize,
}

/// A route whose target is a GWLB endpoint.
#[derive(Clone, Debug)]
pub struct GwlbRoute {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::route_tables`].
    pub route_table: usize,
    /// The destination CIDR.
    pub destination: IpNet,
    /// Index into [`Model::gwlb_endpoints`].
    pub endpoint: usize,
}
