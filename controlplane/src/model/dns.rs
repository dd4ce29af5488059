//! Route 53 hosted zones and records, health checks, and Route 53 Resolver endpoints, rules and
//! DNS Firewall (SPEC §21).

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;
use std::net::IpAddr;
pub use vpcsim_dataplane::dns::{BlockResponse, FirewallAction, RData, RecordType, Routing};

/// An `AWS::Route53::HostedZone`.
#[derive(Clone, Debug)]
pub struct HostedZone {
    /// Where it was loaded from; `id` is the zone id (`Z…`).
    pub origin: Origin,
    /// `Name`, normalized (lower case, no trailing dot).
    pub name: String,
    /// A private zone (`VPCs` given): indices into [`Model::vpcs`].
    pub vpcs: Vec<usize>,
    /// Whether the zone is private.
    pub private: bool,
}

/// An alias target of a record set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasTarget {
    /// `DNSName`, normalized.
    pub dns_name: String,
    /// `HostedZoneId` as given.
    pub hosted_zone_id: String,
    /// `EvaluateTargetHealth`.
    pub evaluate_target_health: bool,
}

/// One record set: an `AWS::Route53::RecordSet` or an entry of a `RecordSetGroup`.
#[derive(Clone, Debug)]
pub struct RecordSet {
    /// The resource that defined it (the group, for group entries).
    pub origin: Origin,
    /// Index into [`Dns::zones`].
    pub zone: usize,
    /// `Name`, normalized.
    pub name: String,
    /// `Type`.
    pub rtype: RecordType,
    /// `SetIdentifier`.
    pub set_identifier: Option<String>,
    /// The routing policy.
    pub routing: Routing,
    /// `TTL` (none for aliases).
    pub ttl: Option<u32>,
    /// `ResourceRecords`, parsed.
    pub values: Vec<RData>,
    /// `AliasTarget`.
    pub alias: Option<AliasTarget>,
    /// Index into [`Dns::health_checks`].
    pub health_check: Option<usize>,
}

/// An `AWS::Route53::HealthCheck`.
#[derive(Clone, Debug)]
pub struct HealthCheck {
    /// Where it was loaded from; `id` is the health check id.
    pub origin: Origin,
    /// `HealthCheckConfig.Type`.
    pub check_type: String,
    /// The status Route 53 would report: healthy unless `Inverted` (vpcsim does not probe
    /// endpoints outside the model) or named by `--unhealthy`.
    pub healthy: bool,
}

/// An `AWS::Route53Resolver::ResolverEndpoint`.
#[derive(Clone, Debug)]
pub struct ResolverEndpoint {
    /// Where it was loaded from; `id` is `rslvr-in-…` or `rslvr-out-…`.
    pub origin: Origin,
    /// `Direction: OUTBOUND`.
    pub outbound: bool,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// One interface per `IpAddresses` entry (indices into [`Model::enis`]).
    pub enis: Vec<usize>,
}

/// What a resolver rule does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolverRuleKind {
    /// `FORWARD` to `TargetIps` through an outbound endpoint (index into
    /// [`Dns::endpoints`]).
    Forward {
        /// `TargetIps`: address and port.
        targets: Vec<(IpAddr, u16)>,
        /// `ResolverEndpointId`.
        endpoint: Option<usize>,
    },
    /// `SYSTEM`.
    System,
}

/// An `AWS::Route53Resolver::ResolverRule`.
#[derive(Clone, Debug)]
pub struct ResolverRule {
    /// Where it was loaded from; `id` is `rslvr-rr-…`.
    pub origin: Origin,
    /// `DomainName`, normalized (`""` for `.`).
    pub domain: String,
    /// Forward or system.
    pub kind: ResolverRuleKind,
    /// VPCs associated by `ResolverRuleAssociation` (indices into [`Model::vpcs`]).
    pub vpcs: Vec<usize>,
}

/// An `AWS::Route53Resolver::FirewallDomainList`.
#[derive(Clone, Debug)]
pub struct FirewallDomainList {
    /// Where it was loaded from; `id` is `rslvr-fdl-…`.
    pub origin: Origin,
    /// `Domains`, normalized.
    pub domains: Vec<String>,
}

/// One rule of a DNS Firewall rule group.
#[derive(Clone, Debug)]
pub struct FirewallRule {
    /// `Priority`.
    pub priority: u32,
    /// `FirewallDomainListId` (index into [`Dns::domain_lists`]).
    pub domain_list: usize,
    /// `Action` with its block response.
    pub action: FirewallAction,
}

/// An `AWS::Route53Resolver::FirewallRuleGroup`.
#[derive(Clone, Debug)]
pub struct FirewallRuleGroup {
    /// Where it was loaded from; `id` is `rslvr-frg-…`.
    pub origin: Origin,
    /// `FirewallRules`, by ascending priority.
    pub rules: Vec<FirewallRule>,
    /// Associations: (index into [`Model::vpcs`], priority).
    pub vpcs: Vec<(usize, u32)>,
}

/// Everything Route 53 and Route 53 Resolver.
#[derive(Clone, Debug, Default)]
pub struct Dns {
    /// Hosted zones.
    pub zones: Vec<HostedZone>,
    /// Record sets of every zone.
    pub records: Vec<RecordSet>,
    /// Health checks.
    pub health_checks: Vec<HealthCheck>,
    /// Resolver endpoints.
    pub endpoints: Vec<ResolverEndpoint>,
    /// Resolver rules.
    pub rules: Vec<ResolverRule>,
    /// DNS Firewall domain lists.
    pub domain_lists: Vec<FirewallDomainList>,
    /// DNS Firewall rule groups.
    pub firewall_groups: Vec<FirewallRuleGroup>,
}

impl Dns {
    /// The origins of every resource, for counting.
    pub fn origins(&self) -> impl Iterator<Item = &Origin> {
        // The entries of one RecordSetGroup share its origin.
        let records = self
            .records
            .iter()
            .enumerate()
            .filter(|(i, r)| *i == 0 || self.records[i - 1].origin.id != r.origin.id)
            .map(|(_, r)| &r.origin);
        self.zones
            .iter()
            .map(|z| &z.origin)
            .chain(records)
            .chain(self.health_checks.iter().map(|h| &h.origin))
            .chain(self.endpoints.iter().map(|e| &e.origin))
            .chain(self.rules.iter().map(|r| &r.origin))
            .chain(self.domain_lists.iter().map(|l| &l.origin))
            .chain(self.firewall_groups.iter().map(|g| &g.origin))
    }
}
