//! AWS Network Firewall (SPEC §20): the compiled firewalls, their endpoints, and the rules of
//! both engines with their concrete match and their header boxes.
//!
//! Every address or port condition is compiled to sorted, disjoint ranges (variables, groups
//! and negations resolved by the control plane), so a rule matches a header by range search and
//! gives the symbolic driver its boxes from the same ranges. What a header cannot tell (TCP
//! flags for the symbolic driver, the flow's state, the application layer) is asked of the
//! driver by the `network-firewall` node.

use crate::pipeline::driver::Rules;
use crate::space::{domain, HBox, DPORT, DST, PROTO, SPORT, SRC};
pub use crate::topology::ids::{FirewallEndpointIdx, FirewallIdx};
use crate::topology::{ResId, SubnetIdx, Table, VpcIdx};
use crate::wire::{Family, Header, IpProtocol};
use std::net::{IpAddr, Ipv4Addr};

/// Sorted, disjoint inclusive address ranges of both families.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrSet {
    /// IPv4 ranges (addresses as `u128` below 2³²).
    pub v4: Vec<(u128, u128)>,
    /// IPv6 ranges.
    pub v6: Vec<(u128, u128)>,
}

impl AddrSet {
    /// Every address of both families.
    pub fn any() -> AddrSet {
        AddrSet {
            v4: vec![(0, Family::V4.addr_max())],
            v6: vec![(0, u128::MAX)],
        }
    }

    /// The ranges of one family.
    pub fn of(&self, fam: Family) -> &[(u128, u128)] {
        match fam {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// Whether the set holds `a`.
    #[inline]
    pub fn contains(&self, a: IpAddr) -> bool {
        let (ranges, x) = match a {
            IpAddr::V4(a) => (&self.v4, a.to_bits() as u128),
            IpAddr::V6(a) => (&self.v6, a.to_bits()),
        };
        in_ranges(ranges, x)
    }
}

/// Sorted, disjoint inclusive port ranges; `[(0, 65535)]` is any port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSet(pub Vec<(u16, u16)>);

impl PortSet {
    /// Every port.
    pub fn any() -> PortSet {
        PortSet(vec![(0, u16::MAX)])
    }

    /// Whether every port is in the set.
    pub fn is_any(&self) -> bool {
        self.0 == [(0, u16::MAX)]
    }

    /// Whether the set holds `p`.
    #[inline]
    pub fn contains(&self, p: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= p && p <= hi)
    }
}

#[inline]
fn in_ranges(ranges: &[(u128, u128)], x: u128) -> bool {
    let i = ranges.partition_point(|&(lo, _)| lo <= x);
    i > 0 && ranges[i - 1].1 >= x
}

/// The five-tuple part of a rule: addresses, ports and protocols, each a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiveTuple {
    /// Source addresses.
    pub src: AddrSet,
    /// Source ports (only TCP and UDP packets have them).
    pub src_ports: PortSet,
    /// Destination addresses.
    pub dst: AddrSet,
    /// Destination ports.
    pub dst_ports: PortSet,
    /// IP protocol numbers, sorted disjoint inclusive ranges (`[(0, 255)]`: any).
    pub protocols: Vec<(u8, u8)>,
}

impl FiveTuple {
    /// Whether the header's addresses, ports and protocol are in the sets.
    #[inline]
    pub fn matches(&self, h: &Header) -> bool {
        let p = h.proto.0;
        if !self.protocols.iter().any(|&(lo, hi)| lo <= p && p <= hi) {
            return false;
        }
        if !self.src.contains(h.src) || !self.dst.contains(h.dst) {
            return false;
        }
        let ports = h.proto == IpProtocol::TCP || h.proto == IpProtocol::UDP;
        if !ports {
            return self.src_ports.is_any() && self.dst_ports.is_any();
        }
        self.src_ports.contains(h.src_port) && self.dst_ports.contains(h.dst_port)
    }

    /// The same tuple with source and destination swapped (Suricata's `<>`).
    pub fn reversed(&self) -> FiveTuple {
        FiveTuple {
            src: self.dst.clone(),
            src_ports: self.dst_ports.clone(),
            dst: self.src.clone(),
            dst_ports: self.src_ports.clone(),
            protocols: self.protocols.clone(),
        }
    }

    /// The header boxes the tuple matches in family `fam`.
    pub fn boxes(&self, fam: Family, f: &mut dyn FnMut(HBox)) {
        let ports_any = self.src_ports.is_any() && self.dst_ports.is_any();
        for &(s_lo, s_hi) in self.src.of(fam) {
            for &(d_lo, d_hi) in self.dst.of(fam) {
                let Some(base) = domain(fam)
                    .with(SRC, s_lo, s_hi)
                    .and_then(|b| b.with(DST, d_lo, d_hi))
                else {
                    continue;
                };
                for &(p_lo, p_hi) in &self.protocols {
                    for (lo, hi) in split_port_protocols(p_lo, p_hi) {
                        let Some(b) = base.with(PROTO, lo as u128, hi as u128) else {
                            continue;
                        };
                        let has_ports = lo == 6 || lo == 17;
                        if !has_ports {
                            if ports_any {
                                f(b);
                            }
                            continue;
                        }
                        for &(sp_lo, sp_hi) in &self.src_ports.0 {
                            for &(dp_lo, dp_hi) in &self.dst_ports.0 {
                                if let Some(b) = b
                                    .with(SPORT, sp_lo as u128, sp_hi as u128)
                                    .and_then(|b| b.with(DPORT, dp_lo as u128, dp_hi as u128))
                                {
                                    f(b);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Protocol range `[lo, hi]` cut so that TCP (6) and UDP (17), which have ports, stand alone.
fn split_port_protocols(lo: u8, hi: u8) -> impl Iterator<Item = (u8, u8)> {
    let mut cuts: Vec<(u8, u8)> = Vec::with_capacity(5);
    let (mut start, hi) = (lo as u16, hi as u16);
    for p in [6u16, 17] {
        if p < start || p > hi {
            continue;
        }
        if start < p {
            cuts.push((start as u8, (p - 1) as u8));
        }
        cuts.push((p as u8, p as u8));
        start = p + 1;
    }
    if start <= hi {
        cuts.push((start as u8, hi as u8));
    }
    cuts.into_iter()
}

/// A stateless standard action (SPEC §20.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatelessAction {
    /// `aws:pass`: stop inspecting, forward.
    Pass,
    /// `aws:drop`: stop, discard silently.
    Drop,
    /// `aws:forward_to_sfe`: to the stateful engine.
    ForwardToSfe,
}

impl StatelessAction {
    /// The name AWS gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            StatelessAction::Pass => "aws:pass",
            StatelessAction::Drop => "aws:drop",
            StatelessAction::ForwardToSfe => "aws:forward_to_sfe",
        }
    }
}

/// The rule number custom-action counts use for `StatelessFragmentDefaultActions`.
pub const FRAGMENT_DEFAULT: u32 = u32::MAX - 1;

/// A standard action with its custom actions (metrics the rule publishes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatelessActions {
    /// The standard action.
    pub action: StatelessAction,
    /// Custom actions (`PublishMetricAction` names), counted when they run.
    pub custom: Vec<String>,
}

/// A TCP flag condition: the bits of `masks` are looked at; those of `flags` must be set and the
/// others clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFlagMatch {
    /// Bits that must be set.
    pub flags: u8,
    /// Bits looked at.
    pub masks: u8,
}

/// One stateless rule, its group and priority resolved.
#[derive(Clone, Debug)]
pub struct StatelessRule {
    /// The rule group.
    pub group: ResId,
    /// The group's priority in the policy.
    pub group_priority: u32,
    /// The rule's priority in its group.
    pub priority: u32,
    /// What it matches.
    pub tuple: FiveTuple,
    /// TCP flag conditions (any one matches; none: no condition). TCP only.
    pub tcp_flags: Vec<TcpFlagMatch>,
    /// What it does.
    pub actions: StatelessActions,
}

impl StatelessRule {
    /// Whether the rule matches the header (TCP flags included).
    #[inline]
    pub fn matches(&self, h: &Header) -> bool {
        self.tuple.matches(h)
            && (self.tcp_flags.is_empty()
                || (h.proto == IpProtocol::TCP
                    && self
                        .tcp_flags
                        .iter()
                        .any(|m| h.tcp_flags & m.masks == m.flags & m.masks)))
    }
}

/// A stateful rule's action (SPEC §20.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatefulAction {
    /// Forward; stop inspecting the flow.
    Pass,
    /// Discard and log an alert.
    Drop,
    /// Discard, send a TCP RST to the sender, log an alert.
    Reject,
    /// Log an alert; the packet continues.
    Alert,
}

impl StatefulAction {
    /// The Suricata keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            StatefulAction::Pass => "pass",
            StatefulAction::Drop => "drop",
            StatefulAction::Reject => "reject",
            StatefulAction::Alert => "alert",
        }
    }
}

/// The protocol keyword of a stateful rule: a layer-4 one matches by header, an application
/// one by what the flow carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleProtocol {
    /// Any IP packet.
    Ip,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// An application protocol, identified from the payload.
    App(AppProtocol),
}

/// Application protocols the stateful engine identifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppProtocol {
    /// HTTP (a request line and headers).
    Http,
    /// TLS (a ClientHello).
    Tls,
    /// DNS.
    Dns,
}

impl AppProtocol {
    /// The Suricata keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            AppProtocol::Http => "http",
            AppProtocol::Tls => "tls",
            AppProtocol::Dns => "dns",
        }
    }
}

/// Where a `content` match looks (Suricata sticky buffers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffer {
    /// `tls.sni`: the server name of the ClientHello.
    TlsSni,
    /// `http.host`: the Host header.
    HttpHost,
    /// `dns.query`: the queried name.
    DnsQuery,
    /// No sticky buffer: the payload.
    Payload,
}

impl Buffer {
    /// The Suricata keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Buffer::TlsSni => "tls.sni",
            Buffer::HttpHost => "http.host",
            Buffer::DnsQuery => "dns.query",
            Buffer::Payload => "payload",
        }
    }
}

/// A `content` condition with its modifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    /// The buffer it looks in.
    pub buffer: Buffer,
    /// The bytes (as text; `|hex|` already decoded).
    pub text: String,
    /// `nocase`.
    pub nocase: bool,
    /// `startswith`.
    pub startswith: bool,
    /// `endswith`.
    pub endswith: bool,
    /// `dotprefix`: `.example.com` also matches `example.com`.
    pub dotprefix: bool,
}

impl Content {
    /// Whether the buffer's value matches (no allocation: it runs per packet).
    pub fn matches(&self, value: &str) -> bool {
        let (v, t) = (value.as_bytes(), self.text.as_bytes());
        let eq = |a: &[u8], b: &[u8]| {
            if self.nocase {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let starts = |x: &[u8], y: &[u8]| x.len() >= y.len() && eq(&x[..y.len()], y);
        let ends = |x: &[u8], y: &[u8]| x.len() >= y.len() && eq(&x[x.len() - y.len()..], y);
        let contains =
            |x: &[u8], y: &[u8]| x.len() >= y.len() && x.windows(y.len().max(1)).any(|w| eq(w, y));
        if self.dotprefix {
            // Suricata's dotprefix matches against the buffer with a dot prepended, so
            // `.example.com` with `endswith` matches `example.com` and every subdomain.
            let rest = t.strip_prefix(b".");
            return match (self.startswith, self.endswith) {
                (true, true) => rest.is_some_and(|r| eq(v, r)),
                (false, true) => ends(v, t) || rest.is_some_and(|r| eq(v, r)),
                (true, false) => rest.is_some_and(|r| starts(v, r)),
                (false, false) => contains(v, t) || rest.is_some_and(|r| starts(v, r)),
            };
        }
        match (self.startswith, self.endswith) {
            (true, true) => v.len() == t.len() && eq(v, t),
            (true, false) => starts(v, t),
            (false, true) => ends(v, t),
            (false, false) => t.is_empty() || contains(v, t),
        }
    }
}

/// A `flow:` condition (`None`: not asked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCondition {
    /// `established` (`Some(true)`) or `not_established` (`Some(false)`).
    pub established: Option<bool>,
    /// `to_server`/`from_client` (`Some(true)`) or `to_client`/`from_server` (`Some(false)`).
    pub to_server: Option<bool>,
    /// `stateless`: matches midstream packets too.
    pub stateless: bool,
}

/// One stateful rule, as Suricata would evaluate it.
#[derive(Clone, Debug)]
pub struct StatefulRule {
    /// The rule group.
    pub group: ResId,
    /// What it does.
    pub action: StatefulAction,
    /// The protocol keyword.
    pub protocol: RuleProtocol,
    /// Addresses, ports, protocols (the `->` direction).
    pub tuple: FiveTuple,
    /// `<>`: also the other direction.
    pub bidirectional: bool,
    /// The `flow:` condition.
    pub flow: FlowCondition,
    /// `content` conditions, all of which must match.
    pub contents: Vec<Content>,
    /// `sid`.
    pub sid: u64,
    /// `msg`.
    pub msg: String,
    /// `priority` (default order only; 255 when absent).
    pub priority: u8,
    /// A keyword (or protocol) outside what vpcsim evaluates: the rule's match is unknown.
    pub unsupported: Option<String>,
}

impl StatefulRule {
    /// Whether the header's addresses, ports and protocol match (in either direction for `<>`).
    #[inline]
    pub fn header_matches(&self, h: &Header) -> bool {
        self.tuple.matches(h) || (self.bidirectional && self.tuple.reversed_matches(h))
    }

    /// Whether the rule needs the application layer (protocol or content).
    pub fn needs_payload(&self) -> bool {
        matches!(self.protocol, RuleProtocol::App(_)) || !self.contents.is_empty()
    }
}

impl FiveTuple {
    /// Whether the header matches with source and destination swapped.
    #[inline]
    pub fn reversed_matches(&self, h: &Header) -> bool {
        let mut r = *h;
        std::mem::swap(&mut r.src, &mut r.dst);
        std::mem::swap(&mut r.src_port, &mut r.dst_port);
        self.matches(&r)
    }
}

/// The stateful engine's rule order (`StatefulEngineOptions.RuleOrder`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleOrder {
    /// Pass, then drop, then reject, then alert rules; no default drop.
    DefaultActionOrder,
    /// Groups by priority, rules as written; default actions for what no rule matched.
    StrictOrder,
}

/// What happens to a packet of a flow the endpoint never saw start
/// (`StatefulEngineOptions.StreamExceptionPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamExceptionPolicy {
    /// Drop it (the default).
    Drop,
    /// Evaluate it without prior context.
    Continue,
    /// Drop it and reset the connection.
    Reject,
}

/// The stateful default actions (strict order only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatefulDefaults {
    /// `aws:drop_strict`.
    pub drop_strict: bool,
    /// `aws:drop_established`.
    pub drop_established: bool,
    /// `aws:alert_strict`.
    pub alert_strict: bool,
    /// `aws:alert_established`.
    pub alert_established: bool,
}

/// A firewall endpoint: one per mapped subnet.
#[derive(Clone, Debug)]
pub struct FirewallEndpoint {
    /// The endpoint (named `<Firewall>.<az>`, with its `vpce-` id).
    pub res: ResId,
    /// Its firewall.
    pub firewall: FirewallIdx,
    /// Its subnet.
    pub subnet: SubnetIdx,
    /// Its private address in the subnet.
    pub addr: Ipv4Addr,
}

/// A firewall and its policy, compiled.
#[derive(Clone, Debug)]
pub struct NetworkFirewall {
    /// The `AWS::NetworkFirewall::Firewall`.
    pub res: ResId,
    /// `FirewallName`.
    pub name: String,
    /// Its VPC.
    pub vpc: VpcIdx,
    /// The policy, when one is attached.
    pub policy: Option<ResId>,
    /// Stateless rules of every group, in evaluation order.
    pub stateless: Vec<StatelessRule>,
    /// `StatelessDefaultActions`.
    pub stateless_default: StatelessActions,
    /// `StatelessFragmentDefaultActions`.
    pub fragment_default: StatelessActions,
    /// Stateful rules of every group, in evaluation order.
    pub stateful: Vec<StatefulRule>,
    /// The rule order.
    pub order: RuleOrder,
    /// Default actions (strict order).
    pub defaults: StatefulDefaults,
    /// Midstream packets.
    pub stream_exception: StreamExceptionPolicy,
    /// TCP flows idle longer than this are forgotten (`FlowTimeouts.TcpIdleTimeoutSeconds`).
    pub tcp_idle_timeout_s: u32,
    /// A `LoggingConfiguration` sends alert logs.
    pub alert_logs: bool,
    /// A `LoggingConfiguration` sends flow logs.
    pub flow_logs: bool,
}

/// Every firewall and endpoint of the topology.
#[derive(Clone, Debug, Default)]
pub struct NetworkFirewalls {
    /// The firewalls.
    pub firewalls: Table<FirewallIdx, NetworkFirewall>,
    /// Their endpoints.
    pub endpoints: Table<FirewallEndpointIdx, FirewallEndpoint>,
}

/// The stateless rules of a firewall as a rule list (first match by priority).
pub struct StatelessRules<'a>(pub &'a [StatelessRule]);

impl<'a> Rules for StatelessRules<'a> {
    type Key = u32;
    const ANY_MATCH: bool = false;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<u32> {
        self.0.iter().position(|r| r.matches(h)).map(|i| i as u32)
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, u32)) {
        for (i, r) in self.0.iter().enumerate() {
            // TCP flags are not a dimension of header space: a rule with flags gets the boxes
            // of its tuple's TCP part, and the node reports that part as depending on them.
            r.tuple.boxes(fam, &mut |b| {
                if r.tcp_flags.is_empty() {
                    f(b, i as u32)
                } else if let Some(b) = b.with(PROTO, 6, 6) {
                    f(b, i as u32)
                }
            });
        }
    }
    fn passes(_: Option<u32>) -> bool {
        true
    }
}

/// One stateful rule's header condition as a rule list: `Some(())` for what it matches.
pub struct StatefulHeader<'a>(pub &'a StatefulRule);

impl Rules for StatefulHeader<'_> {
    type Key = ();
    const ANY_MATCH: bool = true;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<()> {
        self.0.header_matches(h).then_some(())
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, ())) {
        self.0.tuple.boxes(fam, &mut |b| f(b, ()));
        if self.0.bidirectional {
            self.0.tuple.reversed().boxes(fam, &mut |b| f(b, ()));
        }
    }
    fn passes(decided: Option<()>) -> bool {
        decided.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &str, dotprefix: bool) -> Content {
        Content {
            buffer: Buffer::TlsSni,
            text: text.into(),
            nocase: true,
            startswith: !dotprefix,
            endswith: true,
            dotprefix,
        }
    }

    #[test]
    fn exact_and_wildcard_domains() {
        assert!(content("www.example.com", false).matches("WWW.example.com"));
        assert!(!content("www.example.com", false).matches("a.www.example.com"));
        let wild = content(".example.com", true);
        assert!(wild.matches("example.com"));
        assert!(wild.matches("a.b.example.com"));
        assert!(!wild.matches("badexample.com"));
        let plain = |text: &str, nocase, startswith, endswith| Content {
            buffer: Buffer::HttpHost,
            text: text.into(),
            nocase,
            startswith,
            endswith,
            dotprefix: false,
        };
        assert!(plain("bad", false, false, false).matches("very-bad.test"));
        assert!(!plain("bad", false, false, false).matches("VERY-BAD.test"));
        assert!(plain("bad", true, false, false).matches("VERY-BAD.test"));
        assert!(plain("ssm.", true, true, false).matches("SSM.us-east-1.amazonaws.com"));
        assert!(!plain("ssm.", true, true, false).matches("xssm.amazonaws.com"));
        assert!(plain(".amazonaws.com", true, false, true).matches("ssm.amazonaws.com"));
        assert!(!plain("a.b", false, true, true).matches("a.b.c"));
    }

    #[test]
    fn protocol_ranges_keep_tcp_and_udp_apart() {
        let cuts: Vec<_> = split_port_protocols(0, 255).collect();
        assert_eq!(cuts, [(0, 5), (6, 6), (7, 16), (17, 17), (18, 255)]);
        let cuts: Vec<_> = split_port_protocols(6, 6).collect();
        assert_eq!(cuts, [(6, 6)]);
        let cuts: Vec<_> = split_port_protocols(1, 1).collect();
        assert_eq!(cuts, [(1, 1)]);
    }
}
