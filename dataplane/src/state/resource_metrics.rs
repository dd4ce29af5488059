//! Per-resource traffic counters behind the CloudWatch metrics AWS publishes for NAT gateways
//! (`AWS/NATGateway`) and Network Load Balancers (`AWS/NetworkELB`), SPEC.md §24.3.
//!
//! The counters only grow; whoever publishes takes [`ResourceMetrics::clone`] snapshots at
//! minute boundaries and publishes the differences, so a replay or a live loop shares one state
//! without resetting anything. The tables are indexed by the topology's indices and grow the
//! first time a resource is seen (a resize per new resource, never an allocation per packet).

use crate::topology::{NatIdx, NlbIdx};

/// One NAT gateway's counters, named after its CloudWatch metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NatGatewayCounters {
    /// `ConnectionAttemptCount`: packets that tried to open a connection.
    pub connection_attempt_count: u64,
    /// `ConnectionEstablishedCount`: connections the gateway opened (a session allocated).
    pub connection_established_count: u64,
    /// `ErrorPortAllocation`: connections refused because no source port was free.
    pub error_port_allocation: u64,
    /// `PacketsDropCount`: packets the gateway dropped (no session for them, table full).
    pub packets_drop_count: u64,
    /// `PacketsInFromSource` / `BytesInFromSource`: from clients in the VPC.
    pub packets_in_from_source: u64,
    /// See `packets_in_from_source`.
    pub bytes_in_from_source: u64,
    /// `PacketsOutToDestination` / `BytesOutToDestination`: translated towards the destination.
    pub packets_out_to_destination: u64,
    /// See `packets_out_to_destination`.
    pub bytes_out_to_destination: u64,
    /// `PacketsInFromDestination` / `BytesInFromDestination`: replies from the destination.
    pub packets_in_from_destination: u64,
    /// See `packets_in_from_destination`.
    pub bytes_in_from_destination: u64,
    /// `PacketsOutToSource` / `BytesOutToSource`: replies translated back to the client.
    pub packets_out_to_source: u64,
    /// See `packets_out_to_source`.
    pub bytes_out_to_source: u64,
}

impl NatGatewayCounters {
    /// What happened between `earlier` and `self` (counters never decrease).
    pub fn since(&self, earlier: &NatGatewayCounters) -> NatGatewayCounters {
        NatGatewayCounters {
            connection_attempt_count: self.connection_attempt_count
                - earlier.connection_attempt_count,
            connection_established_count: self.connection_established_count
                - earlier.connection_established_count,
            error_port_allocation: self.error_port_allocation - earlier.error_port_allocation,
            packets_drop_count: self.packets_drop_count - earlier.packets_drop_count,
            packets_in_from_source: self.packets_in_from_source - earlier.packets_in_from_source,
            bytes_in_from_source: self.bytes_in_from_source - earlier.bytes_in_from_source,
            packets_out_to_destination: self.packets_out_to_destination
                - earlier.packets_out_to_destination,
            bytes_out_to_destination: self.bytes_out_to_destination
                - earlier.bytes_out_to_destination,
            packets_in_from_destination: self.packets_in_from_destination
                - earlier.packets_in_from_destination,
            bytes_in_from_destination: self.bytes_in_from_destination
                - earlier.bytes_in_from_destination,
            packets_out_to_source: self.packets_out_to_source - earlier.packets_out_to_source,
            bytes_out_to_source: self.bytes_out_to_source - earlier.bytes_out_to_source,
        }
    }
}

/// One Network Load Balancer's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NlbCounters {
    /// `NewFlowCount`: flows opened to a target.
    pub new_flow_count: u64,
    /// `ProcessedBytes`: bytes of the packets the load balancer forwarded, both directions.
    pub processed_bytes: u64,
}

impl NlbCounters {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &NlbCounters) -> NlbCounters {
        NlbCounters {
            new_flow_count: self.new_flow_count - earlier.new_flow_count,
            processed_bytes: self.processed_bytes - earlier.processed_bytes,
        }
    }
}

/// Every NAT gateway's and Network Load Balancer's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceMetrics {
    nat: Vec<NatGatewayCounters>,
    nlb: Vec<NlbCounters>,
}

fn slot<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if i >= v.len() {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

impl ResourceMetrics {
    /// NAT gateway `n`'s counters, for counting.
    #[inline]
    pub fn nat_mut(&mut self, n: NatIdx) -> &mut NatGatewayCounters {
        slot(&mut self.nat, n.index())
    }

    /// NAT gateway `n`'s counters (zero when it has seen nothing).
    pub fn nat(&self, n: NatIdx) -> NatGatewayCounters {
        self.nat.get(n.index()).copied().unwrap_or_default()
    }

    /// Network Load Balancer `lb`'s counters, for counting.
    #[inline]
    pub fn nlb_mut(&mut self, lb: NlbIdx) -> &mut NlbCounters {
        slot(&mut self.nlb, lb.index())
    }

    /// Network Load Balancer `lb`'s counters (zero when it has seen nothing).
    pub fn nlb(&self, lb: NlbIdx) -> NlbCounters {
        self.nlb.get(lb.index()).copied().unwrap_or_default()
    }
}

impl ResourceMetrics {
    /// What every resource counted between `earlier` and `self`.
    pub fn since(&self, earlier: &ResourceMetrics) -> ResourceMetrics {
        let zero_nat = NatGatewayCounters::default();
        let zero_nlb = NlbCounters::default();
        ResourceMetrics {
            nat: (self.nat.iter().enumerate())
                .map(|(i, c)| c.since(earlier.nat.get(i).unwrap_or(&zero_nat)))
                .collect(),
            nlb: (self.nlb.iter().enumerate())
                .map(|(i, c)| c.since(earlier.nlb.get(i).unwrap_or(&zero_nlb)))
                .collect(),
        }
    }
}
