//! The NLB flow table: every load-balanced flow stays on the target it was hashed to until it
//! is idle for the NLB timeout (TCP 350 s, UDP 120 s; SPEC §11.3).
//!
//! A flow has two legs with different addresses: the client's (client → node) and the
//! target's reply (target → backend source). Flows live in a slab, one 64-byte,
//! cache-line-aligned entry each, holding both legs' keys, the target and one idle timer that
//! traffic in either direction refreshes. A `FlowIndex` maps each leg's key to its flow (its
//! bit says which leg), so a packet of either direction costs one cache miss, on its flow's
//! line, and that line can be requested early ([`NlbFlows::prefetch`]).

use crate::state::flow_index::{mix, FlowIndex, IndexEntry, MAX_SLOTS};
use crate::topology::{EniIdx, NlbIdx, TargetGroupIdx};
use crate::wire::{Header, IpProtocol, Timestamp};
use std::net::{IpAddr, Ipv4Addr};

/// NLB idle timeout for TCP flows (SPEC §11.3; configurable on AWS, 350 s by default).
pub const TCP_IDLE_TIMEOUT_S: u64 = 350;
/// NLB idle timeout for UDP flows.
pub const UDP_IDLE_TIMEOUT_S: u64 = 120;

/// A load-balanced flow: the client's leg (client → node) and the target's (backend source →
/// target). Nodes have IPv4 addresses only (dual-stack load balancers are not modelled), so
/// every address of a flow is IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlbFlow {
    /// The load balancer.
    pub lb: NlbIdx,
    /// The node (its interface) the client sent to.
    pub node: EniIdx,
    /// The listener that accepted the flow: index into
    /// [`NetworkLoadBalancer::listeners`](crate::topology::nlb::NetworkLoadBalancer::listeners).
    pub listener: u32,
    /// The listener's target group.
    pub target_group: TargetGroupIdx,
    /// The target: index into [`TargetGroup::targets`](crate::topology::nlb::TargetGroup::targets).
    pub target: u32,
    /// The client's address and port.
    pub client: (Ipv4Addr, u16),
    /// The node address and listener port the client sent to.
    pub frontend: (Ipv4Addr, u16),
    /// Source of the packets the target receives: the client, or the node's address and a port
    /// of its own when client IP preservation is off.
    pub backend_src: (Ipv4Addr, u16),
    /// The target's address and port.
    pub backend_dst: (Ipv4Addr, u16),
    /// The IP protocol (TCP or UDP).
    pub proto: IpProtocol,
}

impl NlbFlow {
    /// Whether the target sees the client's own address and port as the source.
    pub fn preserves_client_ip(&self) -> bool {
        self.backend_src == self.client
    }
}

/// The table is full: the new flow is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowTableFull;

/// What a packet is to the load balancer: a client's packet or a target's reply of a known
/// flow.
pub type Seen = crate::pipeline::driver::Seen<NlbFlow>;

/// One direction of a flow, exactly (not direction-free: the two legs have different
/// addresses). IPv4 only, as [`NlbFlow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Key {
    src: u32,
    dst: u32,
    src_port: u16,
    dst_port: u16,
    proto: u8,
}

impl Key {
    #[inline]
    fn of(h: &Header) -> Option<Key> {
        match (h.src, h.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                Some(Key::leg((s, h.src_port), (d, h.dst_port), h.proto.0))
            }
            _ => None,
        }
    }

    /// Deterministic (no random seed: a replay builds the same table every time).
    #[inline]
    fn hash(&self) -> u64 {
        let addrs = (self.src as u64) << 32 | self.dst as u64;
        let rest = (self.src_port as u64) << 24 | (self.dst_port as u64) << 8 | self.proto as u64;
        mix(addrs ^ mix(rest))
    }

    fn leg(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), proto: u8) -> Key {
        Key {
            src: src.0.to_bits(),
            dst: dst.0.to_bits(),
            src_port: src.1,
            dst_port: dst.1,
            proto,
        }
    }

    fn src(&self) -> (Ipv4Addr, u16) {
        (Ipv4Addr::from_bits(self.src), self.src_port)
    }

    fn dst(&self) -> (Ipv4Addr, u16) {
        (Ipv4Addr::from_bits(self.dst), self.dst_port)
    }
}

/// A flow in the slab: one cache line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Flow {
    /// The client leg's key (client → node).
    client: Key,
    /// The reply leg's key (target → backend source).
    reply: Key,
    lb: NlbIdx,
    node: EniIdx,
    listener: u32,
    target_group: TargetGroupIdx,
    target: u32,
    live: bool,
    last_seen: Timestamp,
}

impl Flow {
    fn flow(&self) -> NlbFlow {
        NlbFlow {
            lb: self.lb,
            node: self.node,
            listener: self.listener,
            target_group: self.target_group,
            target: self.target,
            client: self.client.src(),
            frontend: self.client.dst(),
            backend_src: self.reply.dst(),
            backend_dst: self.reply.src(),
            proto: IpProtocol(self.client.proto),
        }
    }

    fn key(&self, reply: bool) -> &Key {
        if reply {
            &self.reply
        } else {
            &self.client
        }
    }

    fn expired(&self, now: Timestamp) -> bool {
        let s = if self.client.proto == IpProtocol::UDP.0 {
            UDP_IDLE_TIMEOUT_S
        } else {
            TCP_IDLE_TIMEOUT_S
        };
        now.elapsed_ns(self.last_seen) > s * 1_000_000_000
    }
}

/// The key an index entry points to.
#[inline]
fn key_of(slab: &[Flow], e: IndexEntry) -> &Key {
    slab[e.slot() as usize].key(e.bit())
}

/// Where a key was found: its index position, its flow's slot, and which leg it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hit {
    at: usize,
    slot: u32,
    reply: bool,
}

/// Load-balancer flow stickiness (see the module documentation). The last hit is remembered,
/// since a target's reply is looked at twice (leaving the target, arriving at the node).
#[derive(Clone, Debug)]
pub struct NlbFlows {
    index: FlowIndex,
    slab: Vec<Flow>,
    free: Vec<u32>,
    flows: usize,
    capacity: usize,
    last: Option<(Key, Hit)>,
    last_sweep: Timestamp,
    peak: usize,
    refused: u64,
    expired: u64,
}

impl NlbFlows {
    /// Flows load balancer `lb` holds now (`ActiveFlowCount`; walks the table: for metrics once
    /// a minute, not per packet).
    pub fn flows_of(&self, lb: NlbIdx) -> usize {
        self.slab.iter().filter(|f| f.live && f.lb == lb).count()
    }

    /// An empty table that refuses new flows past `capacity` (at most 4,194,304, what the index
    /// addresses).
    pub fn new(capacity: usize) -> NlbFlows {
        NlbFlows {
            index: FlowIndex::new(),
            slab: Vec::new(),
            free: Vec::new(),
            flows: 0,
            // The index addresses this many slab entries (4,194,304 flows; the default state
            // capacity is 4,000,000).
            capacity: capacity.min(MAX_SLOTS),
            last: None,
            last_sweep: Timestamp(0),
            peak: 0,
            refused: 0,
            expired: 0,
        }
    }

    /// Capacity, peak and refusals, for the replay summary.
    pub fn table_use(&self) -> crate::state::TableUse {
        crate::state::TableUse {
            capacity: self.capacity,
            entries: self.flows,
            peak: self.peak,
            refused: self.refused,
            expired: self.expired,
        }
    }

    /// Flows held; an idle one counts until a sweep or a lookup removes it.
    pub fn len(&self) -> usize {
        self.flows
    }

    /// Whether no flow is held.
    pub fn is_empty(&self) -> bool {
        self.flows == 0
    }

    #[inline]
    fn lookup(&self, key: &Key) -> Option<Hit> {
        self.index
            .probe(key.hash(), |e| key_of(&self.slab, e) == key)
            .map(|(at, e)| Hit {
                at,
                slot: e.slot(),
                reply: e.bit(),
            })
    }

    /// Start loading the flow a later [`NlbFlows::find`] for `h` reads, from the index alone.
    #[inline]
    pub fn prefetch(&self, h: &Header) {
        if self.flows == 0 {
            return;
        }
        if let Some(slot) = Key::of(h).and_then(|k| self.index.prefetch_slot(k.hash())) {
            crate::state::prefetch::read(&self.slab[slot as usize]);
        }
    }

    /// The flow a packet belongs to, as a client's packet or a target's reply; refreshes its
    /// idle timer.
    #[inline]
    pub fn find(&mut self, h: &Header, now: Timestamp) -> Option<Seen> {
        if self.flows == 0 {
            return None;
        }
        let k = Key::of(h)?;
        let hit = match self.last {
            Some((lk, hit)) if lk == k => hit,
            _ => self.lookup(&k)?,
        };
        let f = &mut self.slab[hit.slot as usize];
        if f.expired(now) {
            self.remove_flow(hit.slot);
            self.expired += 1;
            return None;
        }
        f.last_seen = now;
        let flow = f.flow();
        self.last = Some((k, hit));
        Some(if hit.reply {
            Seen::Reply(flow)
        } else {
            Seen::Client(flow)
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
    pub fn backend_port_free(
        &self,
        proto: IpProtocol,
        src: Ipv4Addr,
        port: u16,
        dst: (Ipv4Addr, u16),
    ) -> bool {
        self.lookup(&Key::leg(dst, (src, port), proto.0)).is_none()
    }

    /// Remember a new flow, keyed by the client packet `h`.
    pub fn insert(
        &mut self,
        h: &Header,
        flow: NlbFlow,
        now: Timestamp,
    ) -> Result<(), FlowTableFull> {
        let Some(client) = Key::of(h) else {
            return Err(FlowTableFull);
        };
        let reply = Key::leg(flow.backend_dst, flow.backend_src, flow.proto.0);
        if let Some(hit) = self.lookup(&client) {
            self.remove_flow(hit.slot);
        }
        if self.flows >= self.capacity {
            // A sweep walks the whole slab: at most one a second of packet time, so a table
            // full of live flows does not cost a walk per refused packet.
            if self.last_sweep == Timestamp(0) || now.elapsed_ns(self.last_sweep) >= 1_000_000_000 {
                self.last_sweep = now;
                self.sweep(now);
            }
            if self.flows >= self.capacity {
                self.refused += 1;
                return Err(FlowTableFull);
            }
        }
        // A leg with the reply's addresses belongs to an older flow (a client that reached the
        // same target through two nodes, keeping its address): the newer flow takes it, as the
        // target cannot tell the two apart.
        if let Some(hit) = self.lookup(&reply) {
            self.unindex(hit.at);
        }
        let entry = Flow {
            client,
            reply,
            lb: flow.lb,
            node: flow.node,
            listener: flow.listener,
            target_group: flow.target_group,
            target: flow.target,
            last_seen: now,
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
        let slab = &self.slab;
        let hash_of = |e| key_of(slab, e).hash();
        self.index.insert(client.hash(), slot, false, hash_of);
        self.index.insert(reply.hash(), slot, true, hash_of);
        self.flows += 1;
        self.peak = self.peak.max(self.flows);
        self.last = None;
        Ok(())
    }

    /// Remove index entry `at` (one leg's key).
    fn unindex(&mut self, at: usize) {
        let slab = &self.slab;
        self.index.remove_at(at, |e| key_of(slab, e).hash());
        self.last = None;
    }

    /// Remove the flow in `slot` and whichever of its legs still point to it.
    fn remove_flow(&mut self, slot: u32) {
        let f = self.slab[slot as usize];
        for reply in [false, true] {
            let at = self
                .index
                .probe(f.key(reply).hash(), |e| {
                    e.slot() == slot && e.bit() == reply
                })
                .map(|(at, _)| at);
            if let Some(at) = at {
                self.unindex(at);
            }
        }
        self.slab[slot as usize].live = false;
        self.free.push(slot);
        self.flows -= 1;
        self.last = None;
    }

    /// Drop idle flows.
    pub fn sweep(&mut self, now: Timestamp) {
        if self.flows == 0 {
            return;
        }
        for slot in 0..self.slab.len() as u32 {
            let f = &self.slab[slot as usize];
            if f.live && f.expired(now) {
                self.remove_flow(slot);
                self.expired += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16) -> Header {
        Header::syn(src, sp, dst, dp)
    }

    fn a4(a: IpAddr) -> Ipv4Addr {
        match a {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => panic!("IPv4 only"),
        }
    }

    fn flow(c: &Header, backend_src: (IpAddr, u16)) -> NlbFlow {
        NlbFlow {
            lb: NlbIdx(0),
            node: EniIdx(0),
            listener: 0,
            target_group: TargetGroupIdx(0),
            target: 0,
            client: (a4(c.src), c.src_port),
            frontend: (a4(c.dst), c.dst_port),
            backend_src: (a4(backend_src.0), backend_src.1),
            backend_dst: (Ipv4Addr::new(10, 0, 10, 10), 8080),
            proto: c.proto,
        }
    }

    #[test]
    fn a_flow_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Flow>(), 64);
        assert_eq!(std::mem::align_of::<Flow>(), 64);
    }

    #[test]
    fn both_legs_find_the_flow_until_it_idles_out() {
        let mut t = NlbFlows::new(10);
        let c = h([203, 0, 113, 9], 40000, [10, 0, 0, 100], 80);
        let f = flow(&c, (c.dst, 50000));
        let t0 = Timestamp::from_secs(100);
        t.insert(&c, f, t0).unwrap();
        assert_eq!(t.find(&c, t0), Some(Seen::Client(f)));
        let reply = h([10, 0, 10, 10], 8080, [10, 0, 0, 100], 50000);
        assert_eq!(t.find(&reply, t0), Some(Seen::Reply(f)));
        assert!(!t.backend_port_free(IpProtocol::TCP, a4(c.dst), 50000, f.backend_dst));
        // UDP would have gone after 120 s; TCP lasts 350 s of idleness.
        let later = Timestamp::from_secs(100 + TCP_IDLE_TIMEOUT_S);
        assert!(t.find(&c, later).is_some());
        let gone = Timestamp::from_secs(100 + 2 * TCP_IDLE_TIMEOUT_S + 1);
        assert_eq!(t.find(&reply, gone), None);
        assert_eq!(t.find(&c, gone), None);
        assert!(t.is_empty());
        assert!(t.backend_port_free(IpProtocol::TCP, a4(c.dst), 50000, f.backend_dst));
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
    fn capacity_is_what_the_index_can_address() {
        assert_eq!(NlbFlows::new(usize::MAX).capacity, MAX_SLOTS);
        assert_eq!(NlbFlows::new(4_000_000).capacity, 4_000_000);
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

    /// A client keeping its address reaches the same target through two nodes: the target sees
    /// one connection, and its replies go to the newer flow; the older one keeps its client leg
    /// and no longer claims the reply leg.
    #[test]
    fn a_newer_flow_takes_a_shared_reply_leg() {
        let mut t = NlbFlows::new(10);
        let now = Timestamp::from_secs(1);
        let a = h([203, 0, 113, 9], 40000, [10, 0, 0, 100], 80);
        let b = h([203, 0, 113, 9], 40000, [10, 0, 1, 100], 80);
        let (fa, fb) = (flow(&a, (a.src, 40000)), flow(&b, (b.src, 40000)));
        t.insert(&a, fa, now).unwrap();
        t.insert(&b, fb, now).unwrap();
        assert_eq!(t.len(), 2);
        let reply = h([10, 0, 10, 10], 8080, [203, 0, 113, 9], 40000);
        assert_eq!(t.find(&reply, now), Some(Seen::Reply(fb)));
        assert_eq!(t.find(&a, now), Some(Seen::Client(fa)));
        // The older flow's client leg idles out on its own; the newer flow is untouched.
        let later = Timestamp::from_secs(1 + TCP_IDLE_TIMEOUT_S + 1);
        assert!(t
            .find(&reply, Timestamp::from_secs(TCP_IDLE_TIMEOUT_S + 1))
            .is_some());
        t.sweep(later);
        assert_eq!(t.len(), 1);
        assert!(t.find(&b, later).is_some());
    }

    /// Thousands of flows inserted and removed in a scrambled order: every remaining leg is
    /// still found after the backward shifts and the growth.
    #[test]
    fn removal_keeps_every_other_leg_reachable() {
        let mut t = NlbFlows::new(100_000);
        let now = Timestamp::from_secs(1);
        let client = |i: u32| {
            h(
                [198, 51, (i >> 8) as u8, i as u8],
                1024 + i as u16,
                [10, 0, 0, 100],
                80,
            )
        };
        for i in 0..5_000 {
            let c = client(i);
            t.insert(&c, flow(&c, (c.dst, 20_000 + i as u16)), now)
                .unwrap();
        }
        let gone = |i: u32| i.is_multiple_of(3);
        for i in (0..5_000).filter(|&i| gone(i)) {
            let k = Key::of(&client(i)).unwrap();
            let hit = t.lookup(&k).unwrap();
            t.remove_flow(hit.slot);
        }
        assert_eq!(t.len(), 5_000 - 1_667);
        assert_eq!(t.index.len(), 2 * t.len());
        assert_eq!(t.free.len(), 1_667);
        for i in 0..5_000 {
            let c = client(i);
            let reply = h([10, 0, 10, 10], 8080, [10, 0, 0, 100], 20_000 + i as u16);
            assert_eq!(t.find(&c, now).is_some(), !gone(i), "client leg {i}");
            assert_eq!(t.find(&reply, now).is_some(), !gone(i), "reply leg {i}");
        }
    }
}
