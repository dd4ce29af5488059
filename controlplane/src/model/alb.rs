//! Application Load Balancers, their listeners, rules and target groups (SPEC §11.2).

use super::{HealthCheck, Origin, Target};
use vpcsim_dataplane::topology::alb::{
    AlbAction, AlbProtocol, AlbTargetType, Algorithm, Condition,
};
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;

/// Everything Application Load Balancer.
#[derive(Clone, Debug, Default)]
pub struct Albs {
    /// `AWS::ElasticLoadBalancingV2::LoadBalancer` of type `application`.
    pub load_balancers: Vec<AppLoadBalancer>,
    /// Their listeners.
    pub listeners: Vec<AlbListener>,
    /// `AWS::ElasticLoadBalancingV2::ListenerRule`s.
    pub rules: Vec<AlbRule>,
    /// Target groups of protocol HTTP/HTTPS, and Lambda target groups.
    pub target_groups: Vec<AlbTargetGroup>,
}

/// An `AWS::ElasticLoadBalancingV2::LoadBalancer` of type `application`.
#[derive(Clone, Debug)]
pub struct AppLoadBalancer {
    /// `id` is the load balancer's ARN.
    pub origin: Origin,
    /// `Name` (generated when absent, as AWS does).
    pub name: String,
    /// The DNS name clients resolve.
    pub dns_name: String,
    /// `Scheme: internet-facing`; otherwise internal.
    pub internet_facing: bool,
    /// Enabled subnets, one per Availability Zone (index into [`Model::subnets`]).
    pub subnets: Vec<usize>,
    /// The node interface in each subnet (same order, index into [`Model::enis`]).
    pub nodes: Vec<usize>,
    /// Indices into [`Model::security_groups`].
    pub security_groups: Vec<usize>,
}

/// An `AWS::ElasticLoadBalancingV2::Listener` of an Application Load Balancer.
#[derive(Clone, Debug)]
pub struct AlbListener {
    /// `id` is its ARN.
    pub origin: Origin,
    /// Index into [`Albs::load_balancers`].
    pub load_balancer: usize,
    /// `HTTP` or `HTTPS`.
    pub protocol: AlbProtocol,
    /// `Port`.
    pub port: u16,
    /// Certificate ARNs: `Certificates`, then `ListenerCertificate` resources.
    pub certificates: Vec<String>,
    /// `DefaultActions`' deciding action.
    pub default_action: AlbAction,
    /// `authenticate-*` default actions, loaded but not simulated.
    pub authenticate: Vec<String>,
}

/// An `AWS::ElasticLoadBalancingV2::ListenerRule`.
#[derive(Clone, Debug)]
pub struct AlbRule {
    /// `id` is its ARN.
    pub origin: Origin,
    /// Index into [`Albs::listeners`].
    pub listener: usize,
    /// `Priority`.
    pub priority: u32,
    /// `Conditions`.
    pub conditions: Vec<Condition>,
    /// The deciding action.
    pub action: AlbAction,
    /// `authenticate-*` actions, loaded but not simulated.
    pub authenticate: Vec<String>,
}

/// An `AWS::ElasticLoadBalancingV2::TargetGroup` of an Application Load Balancer.
#[derive(Clone, Debug)]
pub struct AlbTargetGroup {
    /// `id` is its ARN.
    pub origin: Origin,
    /// `Name`.
    pub name: String,
    /// Index into [`Model::vpcs`] (none for Lambda groups).
    pub vpc: Option<usize>,
    /// `TargetType`.
    pub target_type: AlbTargetType,
    /// `Protocol` (HTTP when absent, for Lambda groups).
    pub protocol: AlbProtocol,
    /// `Port`.
    pub port: u16,
    /// Health-check settings (ALB defaults).
    pub health_check: HealthCheck,
    /// `Matcher.HttpCode`.
    pub matcher: String,
    /// `load_balancing.algorithm.type`.
    pub algorithm: Algorithm,
    /// Registered instance and ip targets; Lambda functions are kept as ids only.
    pub targets: Vec<Target>,
    /// Lambda function ARNs registered (not simulated).
    pub lambda_functions: Vec<String>,
}
