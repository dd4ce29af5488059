//! Network Load Balancers (SPEC §11.1, §11.3): the compiled listeners and target groups, the flow
//! table that keeps every flow on the target it was hashed to, target selection and target
//! health.
//!
//! A load balancer is present in the data plane as one interface per enabled subnet (its nodes,
//! [`crate::topology::EniKind::LoadBalancer`]). A packet that reaches a node's address is handed
//! to the load balancer stage in the pipeline; everything it needs to decide lives here.
//!
//! Target health is computed with the pipeline itself (a TCP handshake from every node to the
//! target's health-check port, through routes, network ACLs and security groups), once, when the
//! topology is built: no clock, no probes between packets.

use crate::flow::{AddrKey, Header, Timestamp, PROTO_TCP, PROTO_UDP, TCP_SYN};
use crate::packet::Frag;
use crate::pipeline::{process_header, Origin};
use crate::state::{State, StateConfig};
use crate::topology::{Idx, ResId, Topology};
use crate::trace::NoTrace;
use crate::verdict::Disposition;
use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;
use std::net::IpAddr;

/// NLB idle timeout for TCP flows (SPEC §11.3; configurable on AWS, 350 s by default).
pub const TCP_IDLE_TIMEOUT_S: u64 = 350;
/// NLB idle timeout for UDP flows.
pub const UDP_IDLE_TIMEOUT_S: u64 = 120;

/// Source port of the health checks a node sends (any ephemeral port: checks are separate
/// connections, this one makes the simulated handshake reproducible).
const HEALTH_CHECK_SOURCE_PORT: u16 = 43_210;

/// A listener's (or target group's) protocol. TLS is passed through as TCP: the simulator does
/// not terminate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbProtocol {
    Tcp,
    Udp,
    TcpUdp,
    Tls,
}

impl LbProtocol {
    pub fn parse(s: &str) -> Option<LbProtocol> {
        match s {
            "TCP" => Some(LbProtocol::Tcp),
            "UDP" => Some(LbProtocol::Udp),
            "TCP_UDP" => Some(LbProtocol::TcpUdp),
            "TLS" => Some(LbProtocol::Tls),
            _ => None,
        }
    }

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
    pub fn accepts(self, proto: u8) -> bool {
        match self {
            LbProtocol::Tcp | LbProtocol::Tls => proto == PROTO_TCP,
            LbProtocol::Udp => proto == PROTO_UDP,
            LbProtocol::TcpUdp => proto == PROTO_TCP || proto == PROTO_UDP,
        }
    }

    /// UDP carrying protocols: client IP preservation is always on for them (SPEC §11.3).
    pub fn carries_udp(self) -> bool {
        matches!(self, LbProtocol::Udp | LbProtocol::TcpUdp)
    }
}

#[derive(Clone, Debug)]
pub struct Listener {
    pub res: ResId,
    pub protocol: LbProtocol,
    pub port: u16,
    /// The target group of the default forward action.
    pub target_group: Idx,
}

#[derive(Clone, Debug)]
pub struct LoadBalancer {
    pub res: ResId,
    /// One interface per enabled subnet, in the order the subnets were given.
    pub nodes: Vec<Idx>,
    pub internet_facing: bool,
    /// `load_balancing.cross_zone.enabled` (off by default for NLBs).
    pub cross_zone: bool,
    pub listeners: Vec<Listener>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetType {
    Instance,
    Ip,
}

impl TargetType {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Instance => "instance",
            TargetType::Ip => "ip",
        }
    }
}

/// `describe-target-health` states the simulator produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthState {
    Healthy,
    Unhealthy,
    /// The target group is not used by any listener: nothing checks it.
    Unused,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::Unused => "unused",
        }
    }

    pub fn parse(s: &str) -> Option<HealthState> {
        match s {
            "healthy" => Some(HealthState::Healthy),
            "unhealthy" => Some(HealthState::Unhealthy),
            "unused" => Some(HealthState::Unused),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetHealth {
    pub state: HealthState,
    /// AWS reason code (`Target.FailedHealthChecks`, `Target.NotInUse`), none when healthy.
    pub reason: Option<&'static str>,
    pub description: String,
    /// Set by `--target-health` rather than computed.
    pub overridden: bool,
}

impl TargetHealth {
    /// A target checked from every node in `nodes`: healthy (described by `passed`) when one
    /// node's check passes, else unhealthy with the first failure; unused without nodes.
    pub fn from_checks<N>(
        nodes: &[N],
        check: impl Fn(&N) -> Result<(), String>,
        passed: impl FnOnce() -> String,
    ) -> TargetHealth {
        if nodes.is_empty() {
            return TargetHealth {
                state: HealthState::Unused,
                reason: Some("Target.NotInUse"),
                description: "the target group is not used by any listener".into(),
                overridden: false,
            };
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
            reason: Some("Target.FailedHealthChecks"),
            description: failure,
            overridden: false,
        }
    }
}

impl Default for TargetHealth {
    fn default() -> Self {
        TargetHealth {
            state: HealthState::Unused,
            reason: Some("Target.NotInUse"),
            description: "not checked yet".into(),
            overridden: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Target {
    /// The target id as registered: an instance id or an IP address.
    pub id: String,
    /// Resource named in traces: the instance, the interface that owns the address, or the
    /// target group itself for an address nothing in the topology owns.
    pub res: ResId,
    pub addr: IpAddr,
    pub eni: Option<Idx>,
    pub port: u16,
    /// Availability Zone number of the target's subnet (none: outside the topology).
    pub az: Option<u32>,
    pub health: TargetHealth,
}

impl Target {
    #[inline]
    fn routable(&self) -> bool {
        self.health.state != HealthState::Unhealthy
    }
}

#[derive(Clone, Debug)]
pub struct TargetGroup {
    pub res: ResId,
    pub target_type: TargetType,
    pub protocol: LbProtocol,
    pub port: u16,
    /// `None`: the traffic port of each target.
    pub health_check_port: Option<u16>,
    /// `TCP`, `HTTP` or `HTTPS`: all start with a TCP handshake, which is what the model checks.
    pub health_check_protocol: String,
    pub preserve_client_ip: bool,
    /// The target group's `load_balancing.cross_zone.enabled`; `None` follows the load balancer.
    pub cross_zone: Option<bool>,
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
    pub target: u32,
    /// Among how many candidates.
    pub among: u32,
    /// Every target is unhealthy: the load balancer routes to all of them (fail open).
    pub fail_open: bool,
}

/// The target choice shared by Network and Gateway Load Balancers: by `hash` among the healthy
/// targets `eligible` to the node (its zone, or every zone with cross-zone on); among all
/// eligible ones when every target is unhealthy (fail open).
pub fn choose_target<T>(
    targets: &[T],
    eligible: impl Fn(&T) -> bool,
    routable: impl Fn(&T) -> bool,
    hash: u64,
) -> Result<Choice, NoTarget> {
    if targets.is_empty() {
        return Err(NoTarget::NoneRegistered);
    }
    let pick = |ok: &dyn Fn(&T) -> bool| -> Option<Choice> {
        let n = targets.iter().filter(|t| ok(t)).count() as u64;
        if n == 0 {
            return None;
        }
        let k = (hash % n) as usize;
        let (i, _) = targets.iter().enumerate().filter(|(_, t)| ok(t)).nth(k)?;
        Some(Choice {
            target: i as u32,
            among: n as u32,
            fail_open: false,
        })
    };
    if let Some(c) = pick(&|t| eligible(t) && routable(t)) {
        return Ok(c);
    }
    if targets.iter().all(|t| !routable(t)) {
        if let Some(c) = pick(&eligible) {
            return Ok(Choice {
                fail_open: true,
                ..c
            });
        }
    }
    if targets.iter().any(eligible) {
        Err(NoTarget::NoneHealthyInZone)
    } else {
        Err(NoTarget::NoneInZone)
    }
}

/// Every load balancer and target group of the topology.
#[derive(Clone, Debug, Default)]
pub struct Elb {
    pub load_balancers: Vec<LoadBalancer>,
    pub target_groups: Vec<TargetGroup>,
    /// Per interface: registered as a target (its replies may belong to a load-balanced flow).
    target_enis: Vec<bool>,
}

impl Elb {
    /// Derive lookup tables; call after filling the tables.
    pub fn finish(&mut self, n_enis: usize) {
        self.target_enis = vec![
            false;
            if self.target_groups.is_empty() {
                0
            } else {
                n_enis
            }
        ];
        for t in self.target_groups.iter().flat_map(|g| &g.targets) {
            if let Some(e) = t.eni.and_then(|e| self.target_enis.get_mut(e as usize)) {
                *e = true;
            }
        }
    }

    #[inline]
    pub fn is_target(&self, eni: Idx) -> bool {
        self.target_enis.get(eni as usize).copied().unwrap_or(false)
    }

    /// Whether a target group balances across zones behind load balancer `lb`.
    pub fn cross_zone(&self, lb: Idx, tg: Idx) -> bool {
        self.target_groups[tg as usize]
            .cross_zone
            .unwrap_or(self.load_balancers[lb as usize].cross_zone)
    }

    /// Pick the target of a new flow: a healthy target (in the node's zone unless cross-zone),
    /// by `hash`; every target when all are unhealthy (fail open).
    pub fn choose(
        &self,
        tg: Idx,
        node_az: u32,
        cross_zone: bool,
        hash: u64,
    ) -> Result<Choice, NoTarget> {
        choose_target(
            &self.target_groups[tg as usize].targets,
            |t| cross_zone || t.az == Some(node_az),
            Target::routable,
            hash,
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
        state: HealthState,
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
                    t.health = TargetHealth {
                        state,
                        reason: match state {
                            HealthState::Healthy => None,
                            HealthState::Unhealthy => Some("Target.FailedHealthChecks"),
                            HealthState::Unused => Some("Target.NotInUse"),
                        },
                        description: "set by --target-health".into(),
                        overridden: true,
                    };
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
    mix(x ^ ((h.src_port as u64) << 24 | (h.dst_port as u64) << 8 | h.proto as u64))
}

#[inline]
fn mix(mut z: u64) -> u64 {
    // splitmix64's finalizer.
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One direction of a flow, exactly (not direction-free: the two legs of an NLB flow have
/// different addresses). IPv4 only: nodes have IPv4 addresses only (dual-stack load balancers
/// are not modelled), so no IPv6 packet belongs to a flow. 16 bytes, so the flow table stays
/// small enough for the caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    src: u32,
    dst: u32,
    ports: u32,
    proto: u8,
}

impl std::hash::Hash for Key {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64((self.src as u64) << 32 | self.dst as u64);
        state.write_u64((self.ports as u64) << 8 | self.proto as u64);
    }
}

impl Key {
    #[inline]
    fn new(src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16, proto: u8) -> Option<Key> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Some(Key {
                src: s.to_bits(),
                dst: d.to_bits(),
                ports: (src_port as u32) << 16 | dst_port as u32,
                proto,
            }),
            _ => None,
        }
    }

    #[inline]
    fn of(h: &Header) -> Option<Key> {
        Key::new(h.src, h.src_port, h.dst, h.dst_port, h.proto)
    }
}

/// A load-balanced flow: the client's leg (client → node) and the target's (backend source →
/// target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlbFlow {
    pub lb: Idx,
    pub node: Idx,
    pub listener: u32,
    pub target_group: Idx,
    pub target: u32,
    pub client: (IpAddr, u16),
    /// The node address and listener port the client sent to.
    pub frontend: (IpAddr, u16),
    /// Source of the packets the target receives: the client, or the node's address and a port
    /// of its own when client IP preservation is off.
    pub backend_src: (IpAddr, u16),
    pub backend_dst: (IpAddr, u16),
    pub proto: u8,
    last_seen: Timestamp,
}

impl NlbFlow {
    pub fn preserves_client_ip(&self) -> bool {
        self.backend_src == self.client
    }

    fn idle_timeout_ns(&self) -> u64 {
        let s = if self.proto == PROTO_UDP {
            UDP_IDLE_TIMEOUT_S
        } else {
            TCP_IDLE_TIMEOUT_S
        };
        s * 1_000_000_000
    }

    fn expired(&self, now: Timestamp) -> bool {
        now.elapsed_ns(self.last_seen) > self.idle_timeout_ns()
    }
}

/// The table is full: the new flow is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowTableFull;

/// What a packet is to the load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A client's packet (client → node) of a known flow.
    Client(NlbFlow),
    /// A target's reply (target → backend source) of a known flow.
    Reply(NlbFlow),
}

/// Where a key points: a flow in the slab, reached by its client leg or its reply leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    slot: u32,
    reply: bool,
}

#[derive(Clone, Debug)]
struct Slab {
    flow: NlbFlow,
    /// The client leg's key.
    key: Key,
    live: bool,
}

/// Load-balancer flow stickiness: every flow stays on its target until it is idle for the NLB
/// timeout (TCP 350 s, UDP 120 s). One map holds the keys of both legs and points into a slab
/// of flows, so a packet of either direction costs one lookup; the last hit is remembered,
/// since a target's reply is looked at twice (leaving the target, arriving at the node).
#[derive(Clone, Debug)]
pub struct NlbFlows {
    map: HashMap<Key, Entry, FxBuildHasher>,
    slab: Vec<Slab>,
    free: Vec<u32>,
    flows: usize,
    capacity: usize,
    last: Option<(Key, Entry)>,
}

impl NlbFlows {
    pub fn new(capacity: usize) -> NlbFlows {
        NlbFlows {
            map: HashMap::with_hasher(FxBuildHasher),
            slab: Vec::new(),
            free: Vec::new(),
            flows: 0,
            capacity,
            last: None,
        }
    }

    pub fn len(&self) -> usize {
        self.flows
    }

    pub fn is_empty(&self) -> bool {
        self.flows == 0
    }

    /// The flow a packet belongs to, as a client's packet or a target's reply; refreshes its
    /// idle timer.
    #[inline]
    pub fn find(&mut self, h: &Header, now: Timestamp) -> Option<Seen> {
        if self.flows == 0 {
            return None;
        }
        let k = Key::of(h)?;
        let e = match self.last {
            Some((lk, le)) if lk == k => le,
            _ => *self.map.get(&k)?,
        };
        let s = &mut self.slab[e.slot as usize];
        if s.flow.expired(now) {
            self.remove_slot(e.slot);
            return None;
        }
        s.flow.last_seen = now;
        let f = s.flow;
        self.last = Some((k, e));
        Some(if e.reply {
            Seen::Reply(f)
        } else {
            Seen::Client(f)
        })
    }

    /// The flow a target's reply (target → backend source) belongs to.
    #[inline]
    pub fn lookup_reply(&mut self, h: &Header, now: Timestamp) -> Option<NlbFlow> {
        match self.find(h, now)? {
            Seen::Reply(f) => Some(f),
            Seen::Client(_) => None,
        }
    }

    /// Whether `port` on the node's address is free for a new backend connection to `dst`.
    pub fn backend_port_free(&self, proto: u8, src: IpAddr, port: u16, dst: (IpAddr, u16)) -> bool {
        Key::new(dst.0, dst.1, src, port, proto).is_none_or(|k| !self.map.contains_key(&k))
    }

    /// Remember a new flow, keyed by the client packet `h`.
    pub fn insert(
        &mut self,
        h: &Header,
        mut flow: NlbFlow,
        now: Timestamp,
    ) -> Result<(), FlowTableFull> {
        // Nodes have IPv4 addresses only: an IPv6 flow never reaches one.
        let (Some(k), Some(r)) = (Key::of(h), reply_key(&flow)) else {
            return Err(FlowTableFull);
        };
        if let Some(e) = self.map.get(&k).copied() {
            self.remove_slot(e.slot);
        }
        if self.flows >= self.capacity {
            self.sweep(now);
            if self.flows >= self.capacity {
                return Err(FlowTableFull);
            }
        }
        flow.last_seen = now;
        let entry = Slab {
            flow,
            key: k,
            live: true,
        };
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = entry;
                i
            }
            None => {
                self.slab.push(entry);
                self.slab.len() as u32 - 1
            }
        };
        self.map.insert(k, Entry { slot, reply: false });
        self.map.insert(r, Entry { slot, reply: true });
        self.flows += 1;
        self.last = None;
        Ok(())
    }

    fn remove_slot(&mut self, slot: u32) {
        let s = &mut self.slab[slot as usize];
        if !s.live {
            return;
        }
        s.live = false;
        let (k, r) = (s.key, reply_key(&s.flow));
        for key in std::iter::once(k).chain(r) {
            if self.map.get(&key).is_some_and(|e| e.slot == slot) {
                self.map.remove(&key);
            }
        }
        self.free.push(slot);
        self.flows -= 1;
        self.last = None;
    }

    /// Drop idle flows.
    pub fn sweep(&mut self, now: Timestamp) {
        if self.flows == 0 {
            return;
        }
        let expired: Vec<u32> = self
            .slab
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live && s.flow.expired(now))
            .map(|(i, _)| i as u32)
            .collect();
        for slot in expired {
            self.remove_slot(slot);
        }
    }
}

/// The key of a flow's reply leg (target → backend source).
fn reply_key(f: &NlbFlow) -> Option<Key> {
    Key::new(
        f.backend_dst.0,
        f.backend_dst.1,
        f.backend_src.0,
        f.backend_src.1,
        f.proto,
    )
}

/// A new flow's target as [`NlbFlow`] fields: computed here so the pipeline stage stays short.
pub struct NewFlow {
    pub flow: NlbFlow,
    pub choice: Choice,
}

/// Build the flow for a client packet `h` that listener `li` of `lb` accepted at `node`.
pub fn new_flow(
    topo: &Topology,
    flows: &NlbFlows,
    lb: Idx,
    li: u32,
    node: Idx,
    h: &Header,
) -> Result<NewFlow, NoTarget> {
    let l = &topo.elb.load_balancers[lb as usize].listeners[li as usize];
    let tg = l.target_group;
    let g = &topo.elb.target_groups[tg as usize];
    let node_eni = &topo.enis[node as usize];
    let az = topo.subnets[node_eni.subnet as usize].az;
    let hash = flow_hash(h);
    let choice = topo.elb.choose(tg, az, topo.elb.cross_zone(lb, tg), hash)?;
    let t = &g.targets[choice.target as usize];
    let backend_dst = (t.addr, t.port);
    let client = (h.src, h.src_port);
    let backend_src = if g.preserve_client_ip {
        client
    } else {
        let node_addr = h.dst;
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
            frontend: (h.dst, h.dst_port),
            backend_src,
            backend_dst,
            proto: h.proto,
            last_seen: Timestamp(0),
        },
        choice,
    })
}

/// Compute every target's health with the pipeline: a target is healthy when a TCP handshake
/// from at least one node of a load balancer that forwards to its group reaches the target's
/// health-check port and the reply comes back (security groups, network ACLs and routes of the
/// model decide). Overrides set earlier are kept.
pub fn check_health(topo: &mut Topology) {
    let mut results = Vec::new();
    for (gi, g) in topo.elb.target_groups.iter().enumerate() {
        let nodes: Vec<Idx> = topo
            .elb
            .load_balancers
            .iter()
            .filter(|lb| lb.listeners.iter().any(|l| l.target_group == gi as Idx))
            .flat_map(|lb| lb.nodes.iter().copied())
            .collect();
        for (ti, t) in g.targets.iter().enumerate() {
            if t.health.overridden {
                continue;
            }
            let port = g.health_check_port.unwrap_or(t.port);
            let health = TargetHealth::from_checks(
                &nodes,
                |&n| handshake(topo, n, t, port),
                || {
                    if g.health_check_protocol == "TCP" {
                        format!("TCP health check on port {port} passes")
                    } else {
                        format!(
                            "{} health check on port {port}: the TCP handshake passes (the response itself is not modelled)",
                            g.health_check_protocol
                        )
                    }
                },
            );
            results.push((gi, ti, health));
        }
    }
    for (gi, ti, h) in results {
        topo.elb.target_groups[gi].targets[ti].health = h;
    }
}

/// One health check: SYN from the node to the target, SYN-ACK back.
fn handshake(topo: &Topology, node: Idx, t: &Target, port: u16) -> Result<(), String> {
    let Some(src) = topo.enis[node as usize].primary_v4().map(IpAddr::V4) else {
        return Err("the node has no IPv4 address".into());
    };
    let mut state = State::new(StateConfig {
        conntrack_capacity: 64,
        ..StateConfig::default()
    });
    let now = Timestamp(0);
    let syn = Header {
        src,
        dst: t.addr,
        proto: PROTO_TCP,
        src_port: HEALTH_CHECK_SOURCE_PORT,
        dst_port: port,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: TCP_SYN,
        ttl: 64,
        len: 60,
    };
    let describe = |leg: &str, v: &crate::verdict::Verdict| {
        let what = match (v.disposition, v.reason) {
            (Disposition::Dropped, Some(r)) => format!("DROPPED at {}: {r}", topo.name(v.at)),
            (d, _) => format!("{d} at {}", topo.name(v.at)),
        };
        format!("health check {leg} {src} -> {}:{port}: {what}", t.addr)
    };
    let v = process_header(
        topo,
        &mut state,
        syn,
        Frag::None,
        Origin::Eni(node),
        now,
        &mut NoTrace,
    );
    let reached = v.disposition == Disposition::Delivered
        && v.delivered_eni.is_some()
        && v.delivered_eni == t.eni;
    if !reached {
        return Err(describe("from", &v));
    }
    let Some(target_eni) = t.eni else {
        return Err(describe("from", &v));
    };
    let back = process_header(
        topo,
        &mut state,
        v.header.reply(),
        Frag::None,
        Origin::Eni(target_eni),
        now,
        &mut NoTrace,
    );
    if back.disposition == Disposition::Delivered && back.delivered_eni == Some(node) {
        Ok(())
    } else {
        Err(format!("reply of the {}", describe("from", &back)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn h(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16) -> Header {
        Header {
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            proto: PROTO_TCP,
            src_port: sp,
            dst_port: dp,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: TCP_SYN,
            ttl: 64,
            len: 60,
        }
    }

    fn flow(c: &Header, backend_src: (IpAddr, u16)) -> NlbFlow {
        NlbFlow {
            lb: 0,
            node: 0,
            listener: 0,
            target_group: 0,
            target: 0,
            client: (c.src, c.src_port),
            frontend: (c.dst, c.dst_port),
            backend_src,
            backend_dst: (IpAddr::V4(Ipv4Addr::new(10, 0, 10, 10)), 8080),
            proto: c.proto,
            last_seen: Timestamp(0),
        }
    }

    #[test]
    fn both_legs_find_the_flow_until_it_idles_out() {
        let mut t = NlbFlows::new(10);
        let c = h([203, 0, 113, 9], 40000, [10, 0, 0, 100], 80);
        let f = flow(&c, (c.dst, 50000));
        let t0 = Timestamp::from_secs(100);
        t.insert(&c, f, t0).unwrap();
        assert!(matches!(t.find(&c, t0), Some(Seen::Client(x)) if x.backend_src == f.backend_src));
        let reply = h([10, 0, 10, 10], 8080, [10, 0, 0, 100], 50000);
        assert!(matches!(t.find(&reply, t0), Some(Seen::Reply(_))));
        assert!(!t.backend_port_free(PROTO_TCP, c.dst, 50000, f.backend_dst));
        // UDP would have gone after 120 s; TCP lasts 350 s of idleness.
        let later = Timestamp::from_secs(100 + TCP_IDLE_TIMEOUT_S);
        assert!(t.find(&c, later).is_some());
        let gone = Timestamp::from_secs(100 + 2 * TCP_IDLE_TIMEOUT_S + 1);
        assert_eq!(t.find(&reply, gone), None);
        assert_eq!(t.find(&c, gone), None);
        assert!(t.is_empty());
        assert!(t.backend_port_free(PROTO_TCP, c.dst, 50000, f.backend_dst));
    }

    /// Traffic on one leg keeps the flow alive for the other; a sweep takes the flow only when
    /// both have idled.
    #[test]
    fn one_busy_leg_keeps_the_flow() {
        let mut t = NlbFlows::new(10);
        let c = h([203, 0, 113, 9], 40000, [10, 0, 0, 100], 80);
        let f = flow(&c, (c.dst, 50000));
        t.insert(&c, f, Timestamp::from_secs(0)).unwrap();
        let reply = h([10, 0, 10, 10], 8080, [10, 0, 0, 100], 50000);
        // Only the target talks, every 300 s, for 1,200 s.
        for i in 1..=4 {
            assert!(t.find(&reply, Timestamp::from_secs(300 * i)).is_some());
        }
        t.sweep(Timestamp::from_secs(1_300));
        assert_eq!(t.len(), 1);
        // The client leg was idle 1,310 s, but the flow was not: it is found and refreshed.
        assert!(matches!(
            t.find(&c, Timestamp::from_secs(1_310)),
            Some(Seen::Client(_))
        ));
        t.sweep(Timestamp::from_secs(1_310 + TCP_IDLE_TIMEOUT_S + 1));
        assert!(t.is_empty());
        assert_eq!(t.find(&reply, Timestamp::from_secs(2_000)), None);
    }

    #[test]
    fn a_full_table_refuses_new_flows() {
        let mut t = NlbFlows::new(1);
        let now = Timestamp::from_secs(1);
        let a = h([203, 0, 113, 9], 1, [10, 0, 0, 100], 80);
        let b = h([203, 0, 113, 9], 2, [10, 0, 0, 100], 80);
        t.insert(&a, flow(&a, (a.src, a.src_port)), now).unwrap();
        assert_eq!(
            t.insert(&b, flow(&b, (b.src, b.src_port)), now),
            Err(FlowTableFull)
        );
        t.sweep(Timestamp::from_secs(1000));
        assert!(t.insert(&b, flow(&b, (b.src, b.src_port)), now).is_ok());
    }

    fn group(healthy: &[(u32, bool)]) -> Elb {
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
        Elb {
            load_balancers: vec![],
            target_groups: vec![TargetGroup {
                res: ResId(0),
                target_type: TargetType::Ip,
                protocol: LbProtocol::Tcp,
                port: 80,
                health_check_port: None,
                health_check_protocol: "TCP".into(),
                preserve_client_ip: false,
                cross_zone: None,
                targets,
            }],
            target_enis: vec![],
        }
    }

    #[test]
    fn choice_follows_zone_health_and_fails_open() {
        let e = group(&[(0, true), (0, false), (1, true)]);
        for hash in 0..50 {
            assert_eq!(e.choose(0, 0, false, hash).unwrap().target, 0);
            assert_ne!(e.choose(0, 0, true, hash).unwrap().target, 1);
        }
        let e = group(&[(0, false), (1, true)]);
        assert_eq!(e.choose(0, 0, false, 7), Err(NoTarget::NoneHealthyInZone));
        assert_eq!(e.choose(0, 2, false, 7), Err(NoTarget::NoneInZone));
        let e = group(&[(0, false), (0, false)]);
        let c = e.choose(0, 0, false, 3).unwrap();
        assert!(c.fail_open && c.among == 2);
        assert_eq!(
            group(&[]).choose(0, 0, true, 1),
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
