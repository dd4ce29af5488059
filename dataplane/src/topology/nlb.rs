//! Network Load Balancers (SPEC §11.1, §11.3): the compiled listeners and target groups, the flow
//! table that keeps every flow on the target it was hashed to, target selection and target
//! health.
//!
//! A load balancer is present in the data plane as one interface per enabled subnet (its nodes,
//! [`crate::topology::EniKind::NetworkLoadBalancer`]). A packet that reaches a node's address is handed
//! to the load balancer stage in the pipeline; everything it needs to decide lives here.
//!
//! Target health is computed with the pipeline itself (a TCP handshake from every node to the
//! target's health-check port, through routes, network ACLs and security groups), once, when the
//! topology is built: no clock, no probes between packets.

use crate::pipeline::driver::Rules;
use crate::space::{protocol_box, HBox, DPORT};
use crate::state::flow_index::mix;
use crate::topology::{EniIdx, NlbIdx, ResId, Table, TargetGroupIdx, Topology};
use crate::wire::{AddrKey, Family, Header, IpProtocol};
use std::net::IpAddr;

pub use crate::state::nlb_flows::{NlbFlow, NlbFlows};
pub use crate::topology::target_health::HealthReason;

/// A listener's (or target group's) protocol. TLS is passed through as TCP: the simulator does
/// not terminate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbProtocol {
    /// `TCP`.
    Tcp,
    /// `UDP`.
    Udp,
    /// `TCP_UDP`: TCP and UDP on the same port.
    TcpUdp,
    /// `TLS`, passed through as TCP.
    Tls,
}

impl LbProtocol {
    /// The protocol of its AWS name (`TCP`, `UDP`, `TCP_UDP`, `TLS`).
    pub fn parse(s: &str) -> Option<LbProtocol> {
        match s {
            "TCP" => Some(LbProtocol::Tcp),
            "UDP" => Some(LbProtocol::Udp),
            "TCP_UDP" => Some(LbProtocol::TcpUdp),
            "TLS" => Some(LbProtocol::Tls),
            _ => None,
        }
    }

    /// The AWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            LbProtocol::Tcp => "TCP",
            LbProtocol::Udp => "UDP",
            LbProtocol::TcpUdp => "TCP_UDP",
            LbProtocol::Tls => "TLS",
        }
    }

    /// Whether a packet of IP protocol `proto` is for a listener of this protocol.
    #[inline]
    pub fn accepts(self, proto: IpProtocol) -> bool {
        match self {
            LbProtocol::Tcp | LbProtocol::Tls => proto == IpProtocol::TCP,
            LbProtocol::Udp => proto == IpProtocol::UDP,
            LbProtocol::TcpUdp => proto == IpProtocol::TCP || proto == IpProtocol::UDP,
        }
    }

    /// UDP carrying protocols: client IP preservation is always on for them (SPEC §11.3).
    pub fn carries_udp(self) -> bool {
        matches!(self, LbProtocol::Udp | LbProtocol::TcpUdp)
    }
}

/// A listener: a protocol and port on every node, forwarding to one target group.
#[derive(Clone, Debug)]
pub struct Listener {
    /// The `AWS::ElasticLoadBalancingV2::Listener` resource, which names it in output.
    pub res: ResId,
    /// The protocol it accepts.
    pub protocol: LbProtocol,
    /// The port it listens on, on every node's address.
    pub port: u16,
    /// The target group of the default forward action.
    pub target_group: TargetGroupIdx,
}

/// A load balancer's listeners as a rule list over protocol and destination port: the listener
/// that accepts a packet (index into the listeners).
#[derive(Clone, Copy, Debug)]
pub struct ListenerRules<'a>(pub &'a [Listener]);

impl Rules for ListenerRules<'_> {
    type Key = u32;
    const ANY_MATCH: bool = false;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<u32> {
        self.0
            .iter()
            .position(|l| l.port == h.dst_port && l.protocol.accepts(h.proto))
            .map(|i| i as u32)
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, u32)) {
        for (i, l) in self.0.iter().enumerate() {
            for p in [IpProtocol::TCP, IpProtocol::UDP] {
                if !l.protocol.accepts(p) {
                    continue;
                }
                if let Some(b) = protocol_box(fam, p, None)
                    .and_then(|b| b.with(DPORT, l.port as u128, l.port as u128))
                {
                    f(b, i as u32);
                }
            }
        }
    }
    #[inline]
    fn passes(decided: Option<u32>) -> bool {
        decided.is_some()
    }
}

/// A Network Load Balancer: its nodes and listeners.
#[derive(Clone, Debug)]
pub struct NetworkLoadBalancer {
    /// The `AWS::ElasticLoadBalancingV2::LoadBalancer` resource, which names it in output.
    pub res: ResId,
    /// One interface per enabled subnet, in the order the subnets were given.
    pub nodes: Vec<EniIdx>,
    /// Scheme `internet-facing` (its nodes have public addresses) rather than `internal`.
    pub internet_facing: bool,
    /// `load_balancing.cross_zone.enabled` (off by default for NLBs).
    pub cross_zone: bool,
    /// Its listeners; the first that accepts a packet's protocol and port takes it.
    pub listeners: Vec<Listener>,
}

/// How a target group's targets are registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetType {
    /// `instance`: by instance id, reached at the instance's primary interface.
    Instance,
    /// `ip`: by IP address.
    Ip,
}

impl TargetType {
    /// The AWS name (`instance`, `ip`).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Instance => "instance",
            TargetType::Ip => "ip",
        }
    }
}

/// `describe-target-health` states. The simulator computes `healthy`, `unhealthy` and `unused`;
/// the others come from `--target-health`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthState {
    /// Passes its health check from at least one node.
    Healthy,
    /// Fails its health check from every node.
    Unhealthy,
    /// The target group is not used by any listener: nothing checks it.
    Unused,
    /// Being deregistered: no new flows.
    Draining,
    /// Registered, its first health checks not yet passed: no new flows.
    Initial,
    /// Health checks are disabled: the target receives flows.
    Unavailable,
}

impl HealthState {
    /// Every state, for parsing and for listing them in errors.
    pub const ALL: [HealthState; 6] = [
        HealthState::Healthy,
        HealthState::Unhealthy,
        HealthState::Unused,
        HealthState::Draining,
        HealthState::Initial,
        HealthState::Unavailable,
    ];

    /// The AWS name (`healthy`, `unhealthy`, `unused`, `draining`, `initial`, `unavailable`).
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::Unused => "unused",
            HealthState::Draining => "draining",
            HealthState::Initial => "initial",
            HealthState::Unavailable => "unavailable",
        }
    }

    /// The state of its AWS name.
    pub fn parse(s: &str) -> Option<HealthState> {
        HealthState::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// The reason AWS gives for this state when nothing more precise is known.
    pub fn default_reason(self) -> Option<HealthReason> {
        match self {
            HealthState::Healthy => None,
            HealthState::Unhealthy => Some(HealthReason::TargetFailedHealthChecks),
            HealthState::Unused => Some(HealthReason::TargetNotInUse),
            HealthState::Draining => Some(HealthReason::TargetDeregistrationInProgress),
            HealthState::Initial => Some(HealthReason::ElbRegistrationInProgress),
            HealthState::Unavailable => Some(HealthReason::TargetHealthCheckDisabled),
        }
    }

    /// Whether a load balancer sends new flows to a target in this state while the group has
    /// one that is healthy: not to failing, draining or still-initial targets.
    pub fn receives_new_flows(self) -> bool {
        !matches!(
            self,
            HealthState::Unhealthy | HealthState::Draining | HealthState::Initial
        )
    }
}

/// A target's health as `describe-target-health` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetHealth {
    /// The state.
    pub state: HealthState,
    /// AWS reason code, none when healthy.
    pub reason: Option<HealthReason>,
    /// Why, in words: the check that passed or the first failure.
    pub description: String,
    /// Set by `--target-health` rather than computed.
    pub overridden: bool,
}

impl TargetHealth {
    /// A target checked from every node in `nodes`: healthy (described by `passed`) when one
    /// node's check passes, else unhealthy with the first failure (a check the network drops
    /// gets no answer: `Target.Timeout`); unused without nodes.
    pub fn from_checks<N>(
        nodes: &[N],
        check: impl Fn(&N) -> Result<(), String>,
        passed: impl FnOnce() -> String,
    ) -> TargetHealth {
        if nodes.is_empty() {
            return TargetHealth::default();
        }
        let mut failure = String::new();
        for n in nodes {
            match check(n) {
                Ok(()) => {
                    return TargetHealth {
                        state: HealthState::Healthy,
                        reason: None,
                        description: passed(),
                        overridden: false,
                    }
                }
                Err(why) if failure.is_empty() => failure = why,
                Err(_) => {}
            }
        }
        TargetHealth {
            state: HealthState::Unhealthy,
            reason: Some(HealthReason::TargetTimeout),
            description: format!("Request timed out: {failure}"),
            overridden: false,
        }
    }
}

impl Default for TargetHealth {
    fn default() -> Self {
        TargetHealth {
            state: HealthState::Unused,
            reason: Some(HealthReason::TargetNotInUse),
            description: "Target group is not configured to receive traffic from the load balancer"
                .into(),
            overridden: false,
        }
    }
}

/// A registered target of a Network Load Balancer target group.
#[derive(Clone, Debug)]
pub struct Target {
    /// The target id as registered: an instance id or an IP address.
    pub id: String,
    /// Resource named in traces: the instance, the interface that owns the address, or the
    /// target group itself for an address nothing in the topology owns.
    pub res: ResId,
    /// The address packets go to: an instance target's primary private IPv4 address, or the
    /// registered IP.
    pub addr: IpAddr,
    /// The interface that holds `addr`, when one in the topology does.
    pub eni: Option<EniIdx>,
    /// The port packets go to: the registered port, else the target group's.
    pub port: u16,
    /// Availability Zone number of the target's subnet (none: outside the topology).
    pub az: Option<u32>,
    /// Health, computed with the pipeline when the topology is built, or set by `--target-health`.
    pub health: TargetHealth,
}

impl Target {
    #[inline]
    fn routable(&self) -> bool {
        self.health.state.receives_new_flows()
    }
}

/// A Network Load Balancer target group: its targets and how they are reached and checked.
#[derive(Clone, Debug)]
pub struct TargetGroup {
    /// The `AWS::ElasticLoadBalancingV2::TargetGroup` resource, which names it in output.
    pub res: ResId,
    /// How its targets are registered.
    pub target_type: TargetType,
    /// The protocol it forwards with.
    pub protocol: LbProtocol,
    /// The default port of its targets.
    pub port: u16,
    /// `None`: the traffic port of each target.
    pub health_check_port: Option<u16>,
    /// `TCP`, `HTTP` or `HTTPS`: all start with a TCP handshake, which is what the model checks.
    pub health_check_protocol: String,
    /// The HTTP codes an HTTP(S) check accepts (`Matcher.HttpCode`); the application is assumed
    /// to answer [`super::target_health::ASSUMED_HTTP_STATUS`].
    pub health_check_matcher: Option<super::target_health::HttpCodes>,
    /// Whether targets see the client's address as the source, else the node's
    /// (`preserve_client_ip.enabled`: on by default for instance targets, always for UDP).
    pub preserve_client_ip: bool,
    /// The target group's `load_balancing.cross_zone.enabled`; `None` follows the load balancer.
    pub cross_zone: Option<bool>,
    /// The registered targets.
    pub targets: Vec<Target>,
}

/// Why no target could be chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTarget {
    /// The target group has no registered target.
    NoneRegistered,
    /// None in the node's zone and cross-zone load balancing is off.
    NoneInZone,
    /// Every target of the node's zone is unhealthy while others are healthy (with cross-zone
    /// off the node does not fail open; AWS takes it out of DNS).
    NoneHealthyInZone,
}

/// How a target was picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The chosen target: index into its group's [`TargetGroup::targets`].
    pub target: u32,
    /// Among how many candidates.
    pub among: u32,
    /// Every target is unhealthy: the load balancer routes to all of them (fail open).
    pub fail_open: bool,
}

/// Which targets a new flow may go to (shared by Network and Gateway Load Balancers): the
/// healthy targets `eligible` to the node (its zone, or every zone with cross-zone on), or
/// every eligible one when every target is unhealthy (fail open, SPEC §11.1). Neither depends
/// on the flow: only which of them a flow gets does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidates {
    /// How many targets are candidates.
    pub among: u32,
    /// Every target is unhealthy: all eligible ones are candidates.
    pub fail_open: bool,
}

/// The candidates for a new flow (see [`Candidates`]), or why there is none.
pub fn candidates<T>(
    targets: &[T],
    eligible: impl Fn(&T) -> bool,
    routable: impl Fn(&T) -> bool,
) -> Result<Candidates, NoTarget> {
    if targets.is_empty() {
        return Err(NoTarget::NoneRegistered);
    }
    let healthy = targets
        .iter()
        .filter(|t| eligible(t) && routable(t))
        .count();
    if healthy > 0 {
        return Ok(Candidates {
            among: healthy as u32,
            fail_open: false,
        });
    }
    if targets.iter().all(|t| !routable(t)) {
        let n = targets.iter().filter(|t| eligible(t)).count();
        if n > 0 {
            return Ok(Candidates {
                among: n as u32,
                fail_open: true,
            });
        }
    }
    if targets.iter().any(eligible) {
        Err(NoTarget::NoneHealthyInZone)
    } else {
        Err(NoTarget::NoneInZone)
    }
}

/// Every choice a new flow can get, one per candidate (what a flow hash may pick).
pub fn every_choice<T>(
    targets: &[T],
    eligible: impl Fn(&T) -> bool,
    routable: impl Fn(&T) -> bool,
) -> Result<Vec<Choice>, NoTarget> {
    let c = candidates(targets, &eligible, &routable)?;
    Ok(targets
        .iter()
        .enumerate()
        .filter(|(_, t)| eligible(t) && (c.fail_open || routable(t)))
        .map(|(i, _)| Choice {
            target: i as u32,
            among: c.among,
            fail_open: c.fail_open,
        })
        .collect())
}

/// The target a flow with `hash` gets among the candidates.
pub fn choose_target<T>(
    targets: &[T],
    eligible: impl Fn(&T) -> bool,
    routable: impl Fn(&T) -> bool,
    hash: u64,
) -> Result<Choice, NoTarget> {
    let c = candidates(targets, &eligible, &routable)?;
    let k = (hash % c.among as u64) as usize;
    let (i, _) = targets
        .iter()
        .enumerate()
        .filter(|(_, t)| eligible(t) && (c.fail_open || routable(t)))
        .nth(k)
        .ok_or(NoTarget::NoneRegistered)?;
    Ok(Choice {
        target: i as u32,
        among: c.among,
        fail_open: c.fail_open,
    })
}

/// Every load balancer and target group of the topology.
#[derive(Clone, Debug, Default)]
pub struct Nlbs {
    /// Network Load Balancers.
    pub load_balancers: Table<NlbIdx, NetworkLoadBalancer>,
    /// Their target groups.
    pub target_groups: Table<TargetGroupIdx, TargetGroup>,
    /// Per interface: registered as a target (its replies may belong to a load-balanced flow).
    target_enis: Table<EniIdx, bool>,
}

impl Nlbs {
    /// Derive lookup tables; call after filling the tables.
    pub fn finish(&mut self, n_enis: usize) {
        self.target_enis = Table::from(vec![
            false;
            if self.target_groups.is_empty() {
                0
            } else {
                n_enis
            }
        ]);
        for t in self.target_groups.iter().flat_map(|g| &g.targets) {
            if let Some(e) = t.eni.and_then(|e| self.target_enis.get_mut(e)) {
                *e = true;
            }
        }
    }

    /// Whether the interface is registered as a target, so its replies may belong to a
    /// load-balanced flow.
    #[inline]
    pub fn is_target(&self, eni: EniIdx) -> bool {
        self.target_enis.get(eni).copied().unwrap_or(false)
    }

    /// Whether a target group balances across zones behind load balancer `lb`.
    pub fn cross_zone(&self, lb: NlbIdx, tg: TargetGroupIdx) -> bool {
        self.target_groups[tg]
            .cross_zone
            .unwrap_or(self.load_balancers[lb].cross_zone)
    }

    /// Pick the target of a new flow: a healthy target (in the node's zone unless cross-zone),
    /// by `hash`; every target when all are unhealthy (fail open).
    pub fn choose(
        &self,
        tg: TargetGroupIdx,
        node_az: u32,
        cross_zone: bool,
        hash: u64,
    ) -> Result<Choice, NoTarget> {
        choose_target(
            &self.target_groups[tg].targets,
            |t| cross_zone || t.az == Some(node_az),
            Target::routable,
            hash,
        )
    }

    /// Every target a new flow of group `tg` at a node in zone `node_az` may get.
    pub fn every_choice(
        &self,
        tg: TargetGroupIdx,
        node_az: u32,
        cross_zone: bool,
    ) -> Result<Vec<Choice>, NoTarget> {
        every_choice(
            &self.target_groups[tg].targets,
            |t| cross_zone || t.az == Some(node_az),
            Target::routable,
        )
    }

    /// Override computed health (`--target-health`): `group` and `target` are names as the user
    /// writes them (logical id or ARN; target id). Returns false when nothing matched.
    pub fn set_health<'n>(
        &mut self,
        topo_names: impl Fn(ResId) -> (&'n str, &'n str),
        group: &str,
        target: &str,
        port: Option<u16>,
        health: &TargetHealth,
    ) -> bool {
        let mut hit = false;
        for g in &mut self.target_groups {
            let (lid, arn) = topo_names(g.res);
            if lid != group && arn != group {
                continue;
            }
            for t in &mut g.targets {
                let named = t.id == target || topo_names(t.res).0 == target;
                if named && port.is_none_or(|p| p == t.port) {
                    t.health = health.clone();
                    hit = true;
                }
            }
        }
        hit
    }
}

/// Deterministic hash of a flow's 5-tuple (no random seed: a replay picks the same targets
/// every time).
#[inline]
pub fn flow_hash(h: &Header) -> u64 {
    let s = AddrKey::from(h.src).bits;
    let d = AddrKey::from(h.dst).bits;
    let mut x = (s as u64) ^ ((s >> 64) as u64).rotate_left(17);
    x = mix(x ^ (d as u64).rotate_left(29) ^ ((d >> 64) as u64).rotate_left(41));
    mix(x ^ ((h.src_port as u64) << 24 | (h.dst_port as u64) << 8 | h.proto.0 as u64))
}

/// A new flow's target as [`NlbFlow`] fields: computed here so the pipeline stage stays short.
pub struct NewFlow {
    /// The flow to insert into the flow table.
    pub flow: NlbFlow,
    /// How its target was chosen.
    pub choice: Choice,
}

/// Build the flow for a client packet `h` that listener `li` of `lb` accepted at `node`.
pub fn new_flow(
    topo: &Topology,
    flows: &NlbFlows,
    lb: NlbIdx,
    li: u32,
    node: EniIdx,
    h: &Header,
) -> Result<NewFlow, NoTarget> {
    let l = &topo.nlb.load_balancers[lb].listeners[li as usize];
    let tg = l.target_group;
    let g = &topo.nlb.target_groups[tg];
    let node_eni = &topo.enis[node];
    let az = topo.subnets[node_eni.subnet].az;
    let hash = flow_hash(h);
    let choice = topo.nlb.choose(tg, az, topo.nlb.cross_zone(lb, tg), hash)?;
    let t = &g.targets[choice.target as usize];
    // Nodes have IPv4 addresses only, and so do targets (IPv6 targets need a dual-stack load
    // balancer, which the loaders refuse).
    let (IpAddr::V4(client_addr), IpAddr::V4(node_addr), IpAddr::V4(target_addr)) =
        (h.src, h.dst, t.addr)
    else {
        return Err(NoTarget::NoneRegistered);
    };
    let backend_dst = (target_addr, t.port);
    let client = (client_addr, h.src_port);
    let backend_src = if g.preserve_client_ip {
        client
    } else {
        // A port of the node's own, free towards this target: deterministic from the flow hash,
        // probing upwards on collision.
        let start = (hash >> 32) as u32 % 64_512;
        let port = (0..64_512u32)
            .map(|i| 1024 + ((start + i) % 64_512) as u16)
            .find(|&p| flows.backend_port_free(h.proto, node_addr, p, backend_dst))
            .unwrap_or(1024);
        (node_addr, port)
    };
    Ok(NewFlow {
        flow: NlbFlow {
            lb,
            node,
            listener: li,
            target_group: tg,
            target: choice.target,
            client,
            frontend: (node_addr, h.dst_port),
            backend_src,
            backend_dst,
            proto: h.proto,
        },
        choice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn h(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16) -> Header {
        Header::syn(src, sp, dst, dp)
    }

    fn group(healthy: &[(u32, bool)]) -> Nlbs {
        let targets = healthy
            .iter()
            .enumerate()
            .map(|(i, &(az, ok))| Target {
                id: format!("t{i}"),
                res: ResId(0),
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, i as u8)),
                eni: None,
                port: 80,
                az: Some(az),
                health: TargetHealth {
                    state: if ok {
                        HealthState::Healthy
                    } else {
                        HealthState::Unhealthy
                    },
                    reason: None,
                    description: String::new(),
                    overridden: false,
                },
            })
            .collect();
        Nlbs {
            load_balancers: Table::new(),
            target_groups: Table::from(vec![TargetGroup {
                res: ResId(0),
                target_type: TargetType::Ip,
                protocol: LbProtocol::Tcp,
                port: 80,
                health_check_port: None,
                health_check_protocol: "TCP".into(),
                health_check_matcher: None,
                preserve_client_ip: false,
                cross_zone: None,
                targets,
            }]),
            target_enis: Table::new(),
        }
    }

    #[test]
    fn choice_follows_zone_health_and_fails_open() {
        let e = group(&[(0, true), (0, false), (1, true)]);
        for hash in 0..50 {
            assert_eq!(
                e.choose(TargetGroupIdx(0), 0, false, hash).unwrap().target,
                0
            );
            assert_ne!(
                e.choose(TargetGroupIdx(0), 0, true, hash).unwrap().target,
                1
            );
        }
        let e = group(&[(0, false), (1, true)]);
        assert_eq!(
            e.choose(TargetGroupIdx(0), 0, false, 7),
            Err(NoTarget::NoneHealthyInZone)
        );
        assert_eq!(
            e.choose(TargetGroupIdx(0), 2, false, 7),
            Err(NoTarget::NoneInZone)
        );
        let e = group(&[(0, false), (0, false)]);
        let c = e.choose(TargetGroupIdx(0), 0, false, 3).unwrap();
        assert!(c.fail_open && c.among == 2);
        assert_eq!(
            group(&[]).choose(TargetGroupIdx(0), 0, true, 1),
            Err(NoTarget::NoneRegistered)
        );
    }

    #[test]
    fn the_flow_hash_is_stable_and_spreads() {
        let a = h([203, 0, 113, 9], 40000, [10, 0, 0, 100], 80);
        assert_eq!(flow_hash(&a), flow_hash(&a));
        let odd = (0..1000u16)
            .filter(|p| flow_hash(&h([203, 0, 113, 9], 20000 + p, [10, 0, 0, 100], 80)) % 2 == 1)
            .count();
        assert!((400..600).contains(&odd), "{odd}");
    }
}
