//! Everything that changes while packets flow. Bounded, keyed direction-free, expired by packet time.

pub mod conntrack;
pub(crate) mod flow_index;
pub mod nat;
pub mod nlb_flows;
mod prefetch;

use crate::state::conntrack::{Conntrack, Timeouts};
use crate::state::nat::{NatTable, IDLE_TIMEOUT_S, MAX_PER_DESTINATION};
use crate::wire::{AddrKey, Header, IpProtocol, Timestamp};
use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

/// Tunables of the state tables. Defaults are AWS's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateConfig {
    /// Tracked connections across all interfaces before new ones are refused (`CONNTRACK_FULL`).
    pub conntrack_capacity: usize,
    /// Connection-tracking idle timeouts.
    pub timeouts: Timeouts,
    /// Seconds a NAT gateway session may idle (AWS: 350).
    pub nat_idle_timeout_s: u64,
    /// Sessions one NAT gateway address may hold to one destination (IP, port, protocol) (AWS:
    /// 55,000).
    pub nat_max_per_destination: u32,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            conntrack_capacity: 4_000_000,
            timeouts: Timeouts::default(),
            nat_idle_timeout_s: IDLE_TIMEOUT_S,
            nat_max_per_destination: MAX_PER_DESTINATION,
        }
    }
}

/// Ports of the first fragment of a datagram, so later fragments (which carry no L4 header) are
/// judged and translated like it. Model: AWS does not document fragment handling by SGs/NACLs
/// (SPEC §15): the first fragment is evaluated, the rest follow it.
#[derive(Clone, Debug)]
pub struct Fragments {
    map: HashMap<(AddrKey, AddrKey, IpProtocol, u32), FirstFragment, FxBuildHasher>,
    capacity: usize,
}

/// What later fragments inherit from the first one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstFragment {
    /// The first fragment's source port.
    pub src_port: u16,
    /// The first fragment's destination port.
    pub dst_port: u16,
    /// The first fragment's ICMP type.
    pub icmp_type: u8,
    /// The first fragment's ICMP code.
    pub icmp_code: u8,
    seen: Timestamp,
}

/// Reassembly timeout: fragments arriving later than this after the first are orphans.
const FRAGMENT_TIMEOUT_NS: u64 = 30 * 1_000_000_000;

impl Fragments {
    fn new(capacity: usize) -> Fragments {
        Fragments {
            map: HashMap::with_hasher(FxBuildHasher),
            capacity,
        }
    }

    /// Remember the first fragment of datagram `id` (its IP identification). When the table is
    /// still full after dropping timed-out entries it is not remembered, and its later fragments
    /// are orphans.
    pub fn remember(&mut self, h: &Header, id: u32, now: Timestamp) {
        if self.map.len() >= self.capacity {
            self.sweep(now);
            if self.map.len() >= self.capacity {
                return;
            }
        }
        let first = FirstFragment {
            src_port: h.src_port,
            dst_port: h.dst_port,
            icmp_type: h.icmp_type,
            icmp_code: h.icmp_code,
            seen: now,
        };
        self.map
            .insert((h.src.into(), h.dst.into(), h.proto, id), first);
    }

    /// The datagram's first fragment, if it was seen recently.
    pub fn ports(&self, h: &Header, id: u32, now: Timestamp) -> Option<FirstFragment> {
        let first = self.map.get(&(h.src.into(), h.dst.into(), h.proto, id))?;
        (now.elapsed_ns(first.seen) <= FRAGMENT_TIMEOUT_NS).then_some(*first)
    }

    fn sweep(&mut self, now: Timestamp) {
        self.map
            .retain(|_, v| now.elapsed_ns(v.seen) <= FRAGMENT_TIMEOUT_NS);
    }
}

/// The mutable half of the simulation.
#[derive(Clone, Debug)]
pub struct State {
    /// Security-group and egress-only gateway connection tracking.
    pub conntrack: Conntrack,
    /// NAT gateway sessions.
    pub nat: NatTable,
    /// First fragments, for the later fragments of their datagrams.
    pub fragments: Fragments,
    /// Network Load Balancer flow stickiness.
    pub nlb: nlb_flows::NlbFlows,
    /// Packets and drops per node of the stage graph.
    pub nodes: crate::pipeline::NodeCounters,
    last_maintenance: Timestamp,
}

impl Default for State {
    fn default() -> Self {
        State::new(StateConfig::default())
    }
}

/// Idle entries are swept every this many nanoseconds of packet time.
const MAINTENANCE_INTERVAL_NS: u64 = 10 * 1_000_000_000;

impl State {
    /// Empty tables with `config`'s capacities and timeouts.
    pub fn new(config: StateConfig) -> State {
        State {
            conntrack: Conntrack::new(config.conntrack_capacity, config.timeouts),
            nat: NatTable::new(config.nat_idle_timeout_s, config.nat_max_per_destination),
            fragments: Fragments::new(65_536),
            nlb: nlb_flows::NlbFlows::new(config.conntrack_capacity),
            nodes: crate::pipeline::NodeCounters::default(),
            last_maintenance: Timestamp(0),
        }
    }

    /// Sweep idle entries now and then, so memory follows the live flows rather than all flows
    /// ever seen. Cheap to call per packet.
    #[inline]
    pub fn maintain(&mut self, now: Timestamp) {
        if now.elapsed_ns(self.last_maintenance) >= MAINTENANCE_INTERVAL_NS {
            if self.last_maintenance != Timestamp(0) {
                self.conntrack.sweep(now);
                self.nat.sweep(now);
                self.fragments.sweep(now);
                self.nlb.sweep(now);
            }
            self.last_maintenance = now;
        }
    }
}
