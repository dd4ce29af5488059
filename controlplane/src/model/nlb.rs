//! Network Load Balancers, their listeners and target groups.

use super::{HealthCheck, Origin};
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;

/// An `AWS::ElasticLoadBalancingV2::LoadBalancer` of type `network`.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    /// `id` is the load balancer's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// The DNS name clients resolve.
    pub dns_name: String,
    /// `Scheme: internet-facing`; otherwise internal.
    pub internet_facing: bool,
    /// Enabled subnets, one per Availability Zone.
    pub subnets: Vec<usize>,
    /// The node interface in each subnet (same order).
    pub nodes: Vec<usize>,
    /// Indices into [`Model::security_groups`].
    pub security_groups: Vec<usize>,
    /// `load_balancing.cross_zone.enabled`.
    pub cross_zone: bool,
}

/// An `AWS::ElasticLoadBalancingV2::Listener` whose default action forwards to a target group.
#[derive(Clone, Debug)]
pub struct Listener {
    /// The listener; `id` is its ARN.
    pub origin: Origin,
    /// Index into [`Model::load_balancers`].
    pub load_balancer: usize,
    /// `Protocol` (TCP, UDP, TCP_UDP or TLS).
    pub protocol: vpcsim_dataplane::topology::nlb::LbProtocol,
    /// `Port`.
    pub port: u16,
    /// The target group it forwards to (index into [`Model::target_groups`]).
    pub target_group: usize,
}

/// What a registered target names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetRef {
    /// An instance (its primary interface's address).
    Instance(usize),
    /// An IP address (a target group of type `ip`).
    Ip(std::net::IpAddr),
}

/// A registered target of a target group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The id as registered (instance id or address).
    pub id: String,
    /// What the id names.
    pub target: TargetRef,
    /// Overrides the target group's port.
    pub port: Option<u16>,
}

/// An `AWS::ElasticLoadBalancingV2::TargetGroup` (instance or ip targets).
#[derive(Clone, Debug)]
pub struct TargetGroup {
    /// `id` is the target group's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// Index into [`Model::vpcs`].
    pub vpc: Option<usize>,
    /// `TargetType` (instance or ip).
    pub target_type: vpcsim_dataplane::topology::nlb::TargetType,
    /// `Protocol`.
    pub protocol: vpcsim_dataplane::topology::nlb::LbProtocol,
    /// `Port`: where targets receive traffic unless a target says otherwise.
    pub port: u16,
    /// Health check settings.
    pub health_check: HealthCheck,
    /// `preserve_client_ip.enabled`; `None`: the AWS default for the target type and protocol.
    pub preserve_client_ip: Option<bool>,
    /// `load_balancing.cross_zone.enabled`; `None`: `use_load_balancer_configuration`.
    pub cross_zone: Option<bool>,
    /// Registered targets.
    pub targets: Vec<Target>,
}

impl TargetGroup {
    /// Client IP preservation in effect: on for instance targets and for UDP/TCP_UDP, off for
    /// ip targets over TCP/TLS, unless the attribute says otherwise (SPEC §11.3).
    pub fn preserves_client_ip(&self) -> bool {
        use vpcsim_dataplane::topology::nlb::TargetType;
        self.protocol.carries_udp()
            || self
                .preserve_client_ip
                .unwrap_or(self.target_type == TargetType::Instance)
    }
}
