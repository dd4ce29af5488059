//! Route 53 and the VPC resolver (SPEC §21): the hosted zones, resolver rules and DNS Firewall
//! rule groups each VPC sees, compiled once, and the resolver that answers from them.
//!
//! The resolver is what answers at the VPC's base + 2 and at 169.254.169.253. A query is not a
//! forwarded packet: answering it builds names and records, so it allocates (the packet path
//! it sits beside does not).

mod records_file;
mod resolve;
pub mod wire;

pub use records_file::{parse_records_file, RecordsFileError};
pub use resolve::{ip_name, public_name, Answer, Query, Rcode, Resolution, Source};

use crate::topology::{EniIdx, ResId, VpcIdx};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TTL of the names AWS answers itself (EC2 host names, load balancers, endpoints): AWS does
/// not document it for host names; load balancers use 60 s (SPEC §21.3).
pub const AWS_NAME_TTL: u32 = 60;
/// The SOA record's own TTL in a Route 53 zone (SPEC §21.5).
pub const SOA_TTL: u32 = 900;
/// The SOA minimum, the negative-caching TTL, of a Route 53 zone (SPEC §21.5).
pub const SOA_MINIMUM: u32 = 86400;
/// At most this many records in one multivalue answer (SPEC §21.5).
pub const MULTIVALUE_MAX: usize = 8;

/// A DNS record type vpcsim answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name.
    Cname,
    /// Mail exchanger.
    Mx,
    /// Text.
    Txt,
    /// Service locator.
    Srv,
    /// Reverse pointer.
    Ptr,
    /// Name servers.
    Ns,
    /// Start of authority.
    Soa,
}

impl RecordType {
    /// The type's mnemonic (`AAAA`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Srv => "SRV",
            RecordType::Ptr => "PTR",
            RecordType::Ns => "NS",
            RecordType::Soa => "SOA",
        }
    }

    /// Parse a mnemonic, in any case.
    pub fn parse(s: &str) -> Option<RecordType> {
        Some(match s.to_ascii_uppercase().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            "CNAME" => RecordType::Cname,
            "MX" => RecordType::Mx,
            "TXT" => RecordType::Txt,
            "SRV" => RecordType::Srv,
            "PTR" => RecordType::Ptr,
            "NS" => RecordType::Ns,
            "SOA" => RecordType::Soa,
            _ => return None,
        })
    }
}

/// One value of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name.
    Cname(String),
    /// Preference and exchange host.
    Mx(u16, String),
    /// The text, one string (split into 255-byte strings on the wire).
    Txt(String),
    /// Priority, weight, port, target.
    Srv(u16, u16, u16, String),
    /// The name an address points back to.
    Ptr(String),
    /// A name server.
    Ns(String),
}

impl RData {
    /// The record type of this value.
    pub fn record_type(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::Aaaa,
            RData::Cname(_) => RecordType::Cname,
            RData::Mx(..) => RecordType::Mx,
            RData::Txt(_) => RecordType::Txt,
            RData::Srv(..) => RecordType::Srv,
            RData::Ptr(_) => RecordType::Ptr,
            RData::Ns(_) => RecordType::Ns,
        }
    }

    /// Parse the value of a record of type `t` as written in a zone file or in a Route 53
    /// `ResourceRecords` entry (`10 mail.example.com`, `"v=spf1 -all"`).
    pub fn parse(t: RecordType, s: &str) -> Result<RData, String> {
        let s = s.trim();
        let words: Vec<&str> = s.split_whitespace().collect();
        let num = |w: &str| {
            w.parse::<u16>()
                .map_err(|_| format!("{w:?} is not a number 0-65535 in {} {s:?}", t.as_str()))
        };
        let ok = match (t, words.as_slice()) {
            (RecordType::A, [a]) => a.parse().map(RData::A).ok(),
            (RecordType::Aaaa, [a]) => a.parse().map(RData::Aaaa).ok(),
            (RecordType::Cname, [n]) => Some(RData::Cname(normalize(n))),
            (RecordType::Ptr, [n]) => Some(RData::Ptr(normalize(n))),
            (RecordType::Ns, [n]) => Some(RData::Ns(normalize(n))),
            (RecordType::Mx, [p, n]) => Some(RData::Mx(num(p)?, normalize(n))),
            (RecordType::Srv, [p, w, port, n]) => {
                Some(RData::Srv(num(p)?, num(w)?, num(port)?, normalize(n)))
            }
            (RecordType::Txt, _) if !s.is_empty() => {
                Some(RData::Txt(s.trim_matches('"').replace("\" \"", "")))
            }
            _ => None,
        };
        ok.ok_or_else(|| format!("{s:?} is not a valid {} value", t.as_str()))
    }

    /// The value as `dig` prints it.
    pub fn to_text(&self) -> String {
        match self {
            RData::A(a) => a.to_string(),
            RData::Aaaa(a) => a.to_string(),
            RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) => format!("{n}."),
            RData::Mx(p, n) => format!("{p} {n}."),
            RData::Txt(t) => format!("{t:?}"),
            RData::Srv(p, w, port, n) => format!("{p} {w} {port} {n}."),
        }
    }
}

/// A DNS name as vpcsim stores it: lower case, without the trailing dot.
pub fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `name` is `domain` or one of its subdomains (both normalized). The root (`""`)
/// holds every name.
pub fn in_domain(name: &str, domain: &str) -> bool {
    domain.is_empty()
        || name == domain
        || (name.len() > domain.len()
            && name.ends_with(domain)
            && name.as_bytes()[name.len() - domain.len() - 1] == b'.')
}

/// How Route 53 chooses among the record sets of one name and type (SPEC §21.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// One record set, every value answered.
    Simple,
    /// Chosen with probability weight / sum of weights.
    Weighted(u8),
    /// `PRIMARY` (true) or `SECONDARY`.
    Failover(bool),
    /// Up to eight healthy records.
    Multivalue,
}

/// What a record set answers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordValue {
    /// `ResourceRecords`.
    Records(Vec<RData>),
    /// An alias to an AWS resource, resolved when compiled: its addresses and TTL.
    AliasResource {
        /// The load balancer or endpoint the alias names.
        target: ResId,
        /// Its DNS name, as the alias gave it.
        dns_name: String,
        /// Its current addresses.
        addresses: Vec<IpAddr>,
        /// `EvaluateTargetHealth` and the target's health (true when not evaluated).
        healthy: bool,
    },
    /// An alias to another record set of the same zone, answered with its values.
    AliasRecord(String),
}

/// One record set of a hosted zone (`AWS::Route53::RecordSet` or an entry of a
/// `RecordSetGroup`).
#[derive(Clone, Debug)]
pub struct RecordSet {
    /// The resource that defined it (the group, for group entries).
    pub res: ResId,
    /// The name, normalized.
    pub name: String,
    /// The type.
    pub rtype: RecordType,
    /// `SetIdentifier` of weighted, failover and multivalue records.
    pub set_identifier: Option<String>,
    /// The routing policy.
    pub routing: Routing,
    /// `TTL` (aliases: the target's).
    pub ttl: u32,
    /// What it answers with.
    pub value: RecordValue,
    /// The health check on it (index into [`DnsView::health_checks`]).
    pub health_check: Option<usize>,
}

/// An `AWS::Route53::HostedZone`.
#[derive(Clone, Debug)]
pub struct HostedZone {
    /// The zone resource.
    pub res: ResId,
    /// The zone's name, normalized.
    pub name: String,
    /// A private zone answers only VPCs associated with it.
    pub private: bool,
    /// The associated VPCs of a private zone.
    pub vpcs: Vec<VpcIdx>,
    /// Its record sets.
    pub records: Vec<RecordSet>,
}

/// An `AWS::Route53::HealthCheck`, with the status vpcsim gives it.
#[derive(Clone, Debug)]
pub struct HealthCheck {
    /// The health check resource.
    pub res: ResId,
    /// Whether Route 53 considers the endpoint healthy.
    pub healthy: bool,
}

/// What a resolver rule does with the names it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// `FORWARD`: send the query from an outbound endpoint to these resolvers.
    Forward {
        /// `TargetIps`: address and port.
        targets: Vec<(IpAddr, u16)>,
        /// The outbound endpoint (index into [`DnsView::endpoints`]).
        endpoint: Option<usize>,
    },
    /// `SYSTEM`: answer with the resolver's own view (overrides a forwarding rule of a parent
    /// domain).
    System,
}

/// An `AWS::Route53Resolver::ResolverRule` with its associations.
#[derive(Clone, Debug)]
pub struct ResolverRule {
    /// The rule resource.
    pub res: ResId,
    /// `DomainName`, normalized (`""` for `.`).
    pub domain: String,
    /// Forward or system.
    pub kind: RuleKind,
    /// VPCs associated with the rule.
    pub vpcs: Vec<VpcIdx>,
}

/// An `AWS::Route53Resolver::ResolverEndpoint`.
#[derive(Clone, Debug)]
pub struct ResolverEndpoint {
    /// The endpoint resource.
    pub res: ResId,
    /// `OUTBOUND` (true) or `INBOUND`.
    pub outbound: bool,
    /// Its interfaces, one per IP address.
    pub enis: Vec<EniIdx>,
}

/// What DNS Firewall answers with when a `BLOCK` rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockResponse {
    /// NOERROR with no answer.
    Nodata,
    /// NXDOMAIN.
    Nxdomain,
    /// A CNAME to `domain` with `ttl`.
    Override {
        /// `BlockOverrideDomain`, normalized.
        domain: String,
        /// `BlockOverrideTtl`.
        ttl: u32,
    },
}

/// A DNS Firewall rule's action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FirewallAction {
    /// Resolve normally, stop evaluating.
    Allow,
    /// Resolve normally and log.
    Alert,
    /// Answer with the block response.
    Block(BlockResponse),
}

impl FirewallAction {
    /// `ALLOW`, `ALERT` or `BLOCK`.
    pub fn as_str(&self) -> &'static str {
        match self {
            FirewallAction::Allow => "ALLOW",
            FirewallAction::Alert => "ALERT",
            FirewallAction::Block(_) => "BLOCK",
        }
    }
}

/// One rule of a DNS Firewall rule group.
#[derive(Clone, Debug)]
pub struct FirewallRule {
    /// `Priority`.
    pub priority: u32,
    /// The domain list resource.
    pub list: ResId,
    /// The list's domains, normalized (`*.example.com`, `*`).
    pub domains: Vec<String>,
    /// The action.
    pub action: FirewallAction,
}

impl FirewallRule {
    /// Whether the query name matches one of the list's domains (SPEC §21.8: `*.d` matches
    /// subdomains of `d` only, `*` everything).
    pub fn matches(&self, name: &str) -> bool {
        self.domains.iter().any(|d| match d.strip_prefix('*') {
            Some("") => true,
            Some(rest) => {
                let parent = rest.trim_start_matches('.');
                name != parent && in_domain(name, parent)
            }
            None => name == d,
        })
    }
}

/// An `AWS::Route53Resolver::FirewallRuleGroup` with its associations.
#[derive(Clone, Debug)]
pub struct FirewallRuleGroup {
    /// The group resource.
    pub res: ResId,
    /// Rules by ascending priority.
    pub rules: Vec<FirewallRule>,
    /// (VPC, association priority) pairs.
    pub vpcs: Vec<(VpcIdx, u32)>,
}

/// What the resolver of one VPC needs to know about the VPC itself.
#[derive(Clone, Debug, Default)]
pub struct VpcDns {
    /// `EnableDnsSupport`.
    pub support: bool,
    /// `EnableDnsHostnames`.
    pub hostnames: bool,
    /// The Region the VPC is in.
    pub region: String,
}

/// A name AWS answers itself: a load balancer, an instance's public name, an interface
/// endpoint's names.
#[derive(Clone, Debug)]
pub struct AwsName {
    /// The resource the name belongs to.
    pub res: ResId,
    /// The name, normalized.
    pub name: String,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
    /// Only these VPCs resolve it (interface endpoints' private DNS); empty: everyone.
    pub vpcs: Vec<VpcIdx>,
}

/// An instance's interface as EC2's host names know it.
#[derive(Clone, Debug)]
pub struct Host {
    /// The interface's owner (the instance).
    pub res: ResId,
    /// The VPC.
    pub vpc: VpcIdx,
    /// The primary private address.
    pub private: Ipv4Addr,
    /// The public address, if any.
    pub public: Option<Ipv4Addr>,
}

/// Every name the resolvers of the topology know, compiled from the model.
#[derive(Clone, Debug, Default)]
pub struct DnsView {
    /// Per VPC, by [`VpcIdx`].
    pub vpcs: Vec<VpcDns>,
    /// Hosted zones, public and private.
    pub zones: Vec<HostedZone>,
    /// Health checks.
    pub health_checks: Vec<HealthCheck>,
    /// Resolver rules.
    pub rules: Vec<ResolverRule>,
    /// Resolver endpoints.
    pub endpoints: Vec<ResolverEndpoint>,
    /// DNS Firewall rule groups.
    pub firewall: Vec<FirewallRuleGroup>,
    /// Names AWS answers itself.
    pub aws_names: Vec<AwsName>,
    /// Instances' primary interfaces, for EC2 host names.
    pub hosts: Vec<Host>,
    /// Internet names given with `--dns-records`.
    pub internet: Vec<RecordSet>,
}

/// A packet from the Amazon DNS server to an interface of its VPC (an answer in a capture):
/// delivered on the host, never filtered by security groups or network ACLs (SPEC §21.1).
pub fn resolver_answer(topo: &crate::Topology, h: &crate::wire::Header) -> Option<crate::Verdict> {
    use crate::wire::IpProtocol;
    if !matches!(h.proto, IpProtocol::UDP | IpProtocol::TCP) || h.src_port != 53 {
        return None;
    }
    let eni = topo.owner_of(h.dst)?;
    let e = &topo.enis[eni];
    (crate::aws::service_at(topo, e.vpc, h.src) == Some(crate::Topology::AMAZON_DNS)).then(|| {
        let mut v = crate::Verdict::new(*h);
        v.disposition = crate::Disposition::Delivered;
        v.at = e.owner;
        v.delivered_to = Some(e.owner);
        v.delivered_eni = Some(eni);
        v
    })
}

impl DnsView {
    /// Whether any zone, rule or firewall group exists (traffic generators then resolve names
    /// first).
    pub fn has_zones(&self) -> bool {
        !self.zones.is_empty() || !self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests;
