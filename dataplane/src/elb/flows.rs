//! The NLB flow table: every load-balanced flow stays on the target it was hashed to until it
//! is idle for the NLB timeout (TCP 350 s, UDP 120 s; SPEC §11.3).
//!
//! A flow has two legs with different addresses: the client's (client → node) and the
//! target's reply (target → backend source). Each leg is one 64-byte, cache-line-aligned slot
//! of an open-addressing table (linear probing, backward-shift deletion) that holds the leg's
//! own key, its twin's key and the rest of the flow, so a packet of either direction costs one
//! cache miss. Each leg keeps its own idle timer; a leg that looks idle asks its twin, so
//! traffic in one direction keeps the flow alive for both, and the busy direction never touches
//! the other leg's line.
//!
//! The table is a hand-written one rather than a `HashMap` of legs pointing into a slab of
//! flows: the pointer cost a second miss per packet, and inline flows of `IpAddr`s did not fit
//! one line. This is the data plane's core and bound by memory latency (`benches/pipeline_paths.rs`).

use crate::flow::{Header, Timestamp, PROTO_UDP};
use crate::topology::Idx;
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
}

impl NlbFlow {
    pub fn preserves_client_ip(&self) -> bool {
        self.backend_src == self.client
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
    fn new(src: (IpAddr, u16), dst: (IpAddr, u16), proto: u8) -> Option<Key> {
        match (src.0, dst.0) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Some(Key {
                src: s.to_bits(),
                dst: d.to_bits(),
                src_port: src.1,
                dst_port: dst.1,
                proto,
            }),
            _ => None,
        }
    }

    #[inline]
    fn of(h: &Header) -> Option<Key> {
        Key::new((h.src, h.src_port), (h.dst, h.dst_port), h.proto)
    }

    /// Deterministic (no random seed: a replay builds the same table every time).
    #[inline]
    fn hash(&self) -> u64 {
        let addrs = (self.src as u64) << 32 | self.dst as u64;
        let rest = (self.src_port as u64) << 24 | (self.dst_port as u64) << 8 | self.proto as u64;
        mix(addrs ^ mix(rest))
    }

    fn src(&self) -> (IpAddr, u16) {
        (IpAddr::V4(Ipv4Addr::from_bits(self.src)), self.src_port)
    }

    fn dst(&self) -> (IpAddr, u16) {
        (IpAddr::V4(Ipv4Addr::from_bits(self.dst)), self.dst_port)
    }
}

#[inline]
fn mix(mut z: u64) -> u64 {
    // splitmix64's finalizer.
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    Empty,
    Client,
    Reply,
}

/// One slot of the table: a leg of a flow (56 bytes of it used), or empty.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Leg {
    key: Key,
    kind: Kind,
    /// The other leg's key, with the same protocol.
    twin: Key,
    lb: Idx,
    node: Idx,
    listener: u32,
    target_group: Idx,
    target: u32,
    last_seen: Timestamp,
}

impl Leg {
    fn flow(&self) -> NlbFlow {
        let (client, back) = match self.kind {
            Kind::Reply => (&self.twin, &self.key),
            _ => (&self.key, &self.twin),
        };
        NlbFlow {
            lb: self.lb,
            node: self.node,
            listener: self.listener,
            target_group: self.target_group,
            target: self.target,
            client: client.src(),
            frontend: client.dst(),
            // The reply leg runs target → backend source.
            backend_src: back.dst(),
            backend_dst: back.src(),
            proto: self.key.proto,
        }
    }

    fn idle(&self, now: Timestamp) -> bool {
        let s = if self.key.proto == PROTO_UDP {
            UDP_IDLE_TIMEOUT_S
        } else {
            TCP_IDLE_TIMEOUT_S
        };
        now.elapsed_ns(self.last_seen) > s * 1_000_000_000
    }
}

/// Load-balancer flow stickiness (see the module documentation). The last hit is remembered,
/// since a target's reply is looked at twice (leaving the target, arriving at the node).
#[derive(Clone, Debug)]
pub struct NlbFlows {
    /// A power of two long, at most three quarters full.
    slots: Vec<Leg>,
    legs: usize,
    /// Flows, counted by their client legs: the number the capacity limits.
    flows: usize,
    capacity: usize,
    last: Option<(Key, usize)>,
}

/// Slots a table starts with.
const INITIAL_SLOTS: usize = 64;

impl NlbFlows {
    pub fn new(capacity: usize) -> NlbFlows {
        NlbFlows {
            slots: vec![Leg::default(); INITIAL_SLOTS],
            legs: 0,
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

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding the leg with key `k`.
    #[inline]
    fn position(&self, k: &Key) -> Option<usize> {
        let mask = self.mask();
        let mut i = k.hash() as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.kind == Kind::Empty {
                return None;
            }
            if s.key == *k {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Start loading the slot a later [`NlbFlows::find`] for `h` will read first.
    #[inline]
    pub fn prefetch(&self, h: &Header) {
        if self.legs == 0 {
            return;
        }
        if let Some(k) = Key::of(h) {
            crate::prefetch::read(&self.slots[k.hash() as usize & self.mask()]);
        }
    }

    /// The flow a packet belongs to, as a client's packet or a target's reply; refreshes its
    /// idle timer.
    #[inline]
    pub fn find(&mut self, h: &Header, now: Timestamp) -> Option<Seen> {
        if self.legs == 0 {
            return None;
        }
        let k = Key::of(h)?;
        let i = match self.last {
            Some((lk, i)) if lk == k => i,
            _ => self.position(&k)?,
        };
        if self.slots[i].idle(now) && !self.twin_alive(i, now) {
            self.remove_flow(i);
            return None;
        }
        let leg = &mut self.slots[i];
        leg.last_seen = now;
        let flow = leg.flow();
        let kind = leg.kind;
        self.last = Some((k, i));
        Some(match kind {
            Kind::Reply => Seen::Reply(flow),
            _ => Seen::Client(flow),
        })
    }

    /// The slot of the other leg of the flow in slot `i`, if it is still there (a newer flow
    /// with the same reply addresses may have taken it).
    fn twin(&self, i: usize) -> Option<usize> {
        let leg = &self.slots[i];
        self.position(&leg.twin)
            .filter(|&j| self.slots[j].twin == leg.key)
    }

    fn twin_alive(&self, i: usize, now: Timestamp) -> bool {
        self.twin(i).is_some_and(|j| !self.slots[j].idle(now))
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
        Key::new(dst, (src, port), proto).is_none_or(|k| self.position(&k).is_none())
    }

    /// Remember a new flow, keyed by the client packet `h`.
    pub fn insert(
        &mut self,
        h: &Header,
        flow: NlbFlow,
        now: Timestamp,
    ) -> Result<(), FlowTableFull> {
        let (Some(client), Some(reply)) = (
            Key::of(h),
            Key::new(flow.backend_dst, flow.backend_src, flow.proto),
        ) else {
            return Err(FlowTableFull);
        };
        if let Some(i) = self.position(&client) {
            self.remove_flow(i);
        }
        if self.flows >= self.capacity {
            self.sweep(now);
            if self.flows >= self.capacity {
                return Err(FlowTableFull);
            }
        }
        // A reply leg with these addresses belongs to an older flow (a client that reached the
        // same target through two nodes, keeping its address): the newer flow takes it, as
        // the target cannot tell the two apart.
        if let Some(i) = self.position(&reply) {
            self.remove_leg(i);
        }
        let leg = |key, twin, kind| Leg {
            key,
            kind,
            twin,
            lb: flow.lb,
            node: flow.node,
            listener: flow.listener,
            target_group: flow.target_group,
            target: flow.target,
            last_seen: now,
        };
        self.put(leg(client, reply, Kind::Client));
        self.put(leg(reply, client, Kind::Reply));
        self.flows += 1;
        Ok(())
    }

    /// Place a leg whose key is not in the table.
    fn put(&mut self, leg: Leg) {
        if (self.legs + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.mask();
        let mut i = leg.key.hash() as usize & mask;
        while self.slots[i].kind != Kind::Empty {
            i = (i + 1) & mask;
        }
        self.slots[i] = leg;
        self.legs += 1;
        self.last = None;
    }

    fn grow(&mut self) {
        let doubled = vec![Leg::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.mask();
        for leg in old.into_iter().filter(|l| l.kind != Kind::Empty) {
            let mut i = leg.key.hash() as usize & mask;
            while self.slots[i].kind != Kind::Empty {
                i = (i + 1) & mask;
            }
            self.slots[i] = leg;
        }
        self.last = None;
    }

    /// Remove the flow of the leg in slot `i`: both legs.
    fn remove_flow(&mut self, i: usize) {
        let twin = self.slots[i].twin;
        let mine = self.slots[i].key;
        self.remove_leg(i);
        if let Some(j) = self.position(&twin).filter(|&j| self.slots[j].twin == mine) {
            self.remove_leg(j);
        }
    }

    /// Empty slot `i`, shifting back the legs of its probe run so every lookup still finds
    /// its key without tombstones.
    fn remove_leg(&mut self, mut i: usize) {
        if self.slots[i].kind == Kind::Client {
            self.flows -= 1;
        }
        let mask = self.mask();
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            if self.slots[j].kind == Kind::Empty {
                break;
            }
            let home = self.slots[j].key.hash() as usize & mask;
            // Move j back to i unless its home lies cyclically in (i, j].
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = self.slots[j];
                i = j;
            }
        }
        self.slots[i] = Leg::default();
        self.legs -= 1;
        self.last = None;
    }

    /// Drop idle flows: those whose legs have both idled out.
    pub fn sweep(&mut self, now: Timestamp) {
        if self.legs == 0 {
            return;
        }
        let idle: Vec<Key> = (0..self.slots.len())
            .filter(|&i| {
                let leg = &self.slots[i];
                leg.kind != Kind::Empty && leg.idle(now) && !self.twin_alive(i, now)
            })
            .map(|i| self.slots[i].key)
            .collect();
        for k in idle {
            if let Some(i) = self.position(&k) {
                self.remove_leg(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{PROTO_TCP, TCP_SYN};

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
        }
    }

    #[test]
    fn a_leg_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Leg>(), 64);
        assert_eq!(std::mem::align_of::<Leg>(), 64);
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
            let slot = t.position(&k).unwrap();
            t.remove_flow(slot);
        }
        assert_eq!(t.len(), 5_000 - 1_667);
        assert_eq!(t.legs, 2 * t.len());
        for i in 0..5_000 {
            let c = client(i);
            let reply = h([10, 0, 10, 10], 8080, [10, 0, 0, 100], 20_000 + i as u16);
            assert_eq!(t.find(&c, now).is_some(), !gone(i), "client leg {i}");
            assert_eq!(t.find(&reply, now).is_some(), !gone(i), "reply leg {i}");
        }
    }
}
