//! AWS Network Firewall (SPEC §20): firewalls with one endpoint per mapped subnet, their
//! policies, rule groups (stateless, stateful 5-tuple, domain lists, Suricata strings) and
//! routes whose target is a firewall endpoint. Rule groups are kept as parsed, with their
//! variables unresolved: `HOME_NET` depends on the firewall that uses the policy.

use super::Origin;
use ipnet::IpNet;
use std::net::Ipv4Addr;

/// An `AWS::NetworkFirewall::Firewall`.
#[derive(Clone, Debug)]
pub struct NetworkFirewall {
    /// `id` is the firewall's ARN.
    pub origin: Origin,
    /// `FirewallName`.
    pub name: String,
    /// Index into [`super::Model::vpcs`].
    pub vpc: usize,
    /// The policy (index into [`super::Model::firewall_policies`]), when it is in the model.
    pub policy: Option<usize>,
    /// Its endpoints (indices into [`super::Model::firewall_endpoints`]), one per subnet mapping.
    pub endpoints: Vec<usize>,
    /// A `LoggingConfiguration` sends alert logs.
    pub alert_logs: bool,
    /// A `LoggingConfiguration` sends flow logs.
    pub flow_logs: bool,
}

/// A firewall endpoint: Network Firewall's interface in one mapped subnet.
#[derive(Clone, Debug)]
pub struct FirewallEndpoint {
    /// `logical_id` is `<Firewall>.<az>`, `id` the `vpce-` id.
    pub origin: Origin,
    /// Index into [`super::Model::network_firewalls`].
    pub firewall: usize,
    /// Index into [`super::Model::subnets`].
    pub subnet: usize,
    /// The Availability Zone name.
    pub availability_zone: String,
    /// Its private address in the subnet.
    pub address: Ipv4Addr,
}

/// A stateless or stateful action list as written (`aws:pass`, ... and custom action names).
pub type ActionNames = Vec<String>;

/// An `AWS::NetworkFirewall::FirewallPolicy`.
#[derive(Clone, Debug)]
pub struct FirewallPolicy {
    /// `id` is the policy's ARN.
    pub origin: Origin,
    /// Stateless groups: (priority, index into [`super::Model::firewall_rule_groups`]).
    pub stateless_groups: Vec<(u32, usize)>,
    /// Stateful groups: (priority, index); priority 0 when none is given (default order).
    pub stateful_groups: Vec<(u32, usize)>,
    /// `StatelessDefaultActions`.
    pub stateless_default: ActionNames,
    /// `StatelessFragmentDefaultActions`.
    pub fragment_default: ActionNames,
    /// `StatefulDefaultActions`.
    pub stateful_default: ActionNames,
    /// `StatefulEngineOptions.RuleOrder` is `STRICT_ORDER`.
    pub strict_order: bool,
    /// `StatefulEngineOptions.StreamExceptionPolicy` (`DROP` when absent).
    pub stream_exception: String,
    /// `StatefulEngineOptions.FlowTimeouts.TcpIdleTimeoutSeconds` (350 when absent).
    pub tcp_idle_timeout_s: u32,
    /// `PolicyVariables.RuleVariables.HOME_NET`, when set.
    pub home_net: Option<Vec<IpNet>>,
}

/// An `AWS::NetworkFirewall::RuleGroup`.
#[derive(Clone, Debug)]
pub struct FirewallRuleGroup {
    /// `id` is the group's ARN.
    pub origin: Origin,
    /// `Type: STATELESS`.
    pub stateless: bool,
    /// `StatefulRuleOptions.RuleOrder` is `STRICT_ORDER`.
    pub strict_order: bool,
    /// `RuleVariables.IPSets`: name to definitions (CIDRs, or other variables as `$NAME`).
    pub ip_sets: Vec<(String, Vec<String>)>,
    /// `RuleVariables.PortSets`.
    pub port_sets: Vec<(String, Vec<String>)>,
    /// Stateless rules.
    pub stateless_rules: Vec<StatelessRuleDef>,
    /// Custom actions: name to whether it publishes a metric.
    pub custom_actions: Vec<String>,
    /// Stateful rules as Suricata text (5-tuple rules and domain lists are written out the way
    /// AWS generates them).
    pub suricata: Vec<String>,
}

/// A stateless rule as written.
#[derive(Clone, Debug)]
pub struct StatelessRuleDef {
    /// `Priority`.
    pub priority: u32,
    /// `MatchAttributes.Sources`.
    pub sources: Vec<IpNet>,
    /// `MatchAttributes.Destinations`.
    pub destinations: Vec<IpNet>,
    /// `MatchAttributes.SourcePorts`.
    pub source_ports: Vec<(u16, u16)>,
    /// `MatchAttributes.DestinationPorts`.
    pub destination_ports: Vec<(u16, u16)>,
    /// `MatchAttributes.Protocols`.
    pub protocols: Vec<u8>,
    /// `MatchAttributes.TCPFlags`: (flags, masks) as bits.
    pub tcp_flags: Vec<(u8, u8)>,
    /// `Actions`.
    pub actions: ActionNames,
}

/// A route whose target is a firewall endpoint.
#[derive(Clone, Debug)]
pub struct FirewallRoute {
    /// Where it was loaded from.
    pub origin: Origin,
    /// Index into [`super::Model::route_tables`].
    pub route_table: usize,
    /// The destination.
    pub destination: IpNet,
    /// Index into [`super::Model::firewall_endpoints`].
    pub endpoint: usize,
}
