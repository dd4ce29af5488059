//! Everything that changes while packets flow. Bounded, keyed direction-free, expired by packet time.

pub mod conntrack;
pub mod firewall_flows;
pub(crate) mod flow_index;
pub mod fragments;
pub mod nat;
pub mod nlb_flows;
mod prefetch;
pub mod resource_metrics;

use crate::state::conntrack::{Conntrack, Timeouts};
use crate::state::nat::{NatTable, IDLE_TIMEOUT_S, MAX_PER_DESTINATION};
use crate::wire::Timestamp;

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
    /// Network Load Balancer flows held at once, before new ones are refused
    /// (`NLB_FLOW_TABLE_FULL`; at most 4,194,304).
    pub nlb_flow_capacity: usize,
    /// NAT gateway sessions held at once, every gateway together (`NAT_TABLE_FULL`).
    pub nat_capacity: usize,
    /// Datagrams whose fragments are still arriving, before first fragments are refused
    /// (`FRAGMENT_TABLE_FULL`).
    pub fragment_capacity: usize,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            conntrack_capacity: 4_000_000,
            timeouts: Timeouts::default(),
            nat_idle_timeout_s: IDLE_TIMEOUT_S,
            nat_max_per_destination: MAX_PER_DESTINATION,
            fragment_capacity: fragments::DEFAULT_CAPACITY,
            nlb_flow_capacity: 4_000_000,
            nat_capacity: nat::DEFAULT_CAPACITY,
        }
    }
}

pub use fragments::{FirstFragment, Fragments};

/// How a bounded table was used, for `replay --stats` and `summary.json`: hitting a cap is a
/// counted event, never a silent one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableUse {
    /// Entries the table may hold.
    pub capacity: usize,
    /// Entries held now.
    pub entries: usize,
    /// The most entries held at once.
    pub peak: usize,
    /// New entries refused because the table was full.
    pub refused: u64,
    /// Entries removed because they idled out (or, for fragments, timed out incomplete).
    pub expired: u64,
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
    /// AWS Network Firewall flows.
    pub firewall: firewall_flows::FirewallFlows,
    /// Packets and drops per node of the stage graph.
    pub nodes: crate::pipeline::NodeCounters,
    /// Per NAT gateway and Network Load Balancer counters for their CloudWatch metrics.
    pub resources: resource_metrics::ResourceMetrics,
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
            nat: NatTable::new(config.nat_idle_timeout_s, config.nat_max_per_destination)
                .with_capacity(config.nat_capacity),
            fragments: Fragments::new(config.fragment_capacity),
            nlb: nlb_flows::NlbFlows::new(config.nlb_flow_capacity),
            firewall: firewall_flows::FirewallFlows::new(firewall_flows::DEFAULT_CAPACITY),
            nodes: crate::pipeline::NodeCounters::default(),
            resources: resource_metrics::ResourceMetrics::default(),
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
                self.fragments.expire(now);
                self.nlb.sweep(now);
                // 6000 s is the longest idle timeout a policy may set; lookups apply each
                // firewall's own.
                self.firewall.sweep(now, 6000);
            }
            self.last_maintenance = now;
        }
    }
}
