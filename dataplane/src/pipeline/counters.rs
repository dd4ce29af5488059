//! Per-node counters, as VPP's `show errors`: how many packets each node of the stage graph
//! handled and why it dropped the ones it dropped.

use super::graph::NodeKind;
use crate::verdict::DropReason;

/// One node's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Packets that entered the node.
    pub packets: u64,
    /// Packets the node dropped, by reason (only reasons that occurred).
    pub drops: Vec<(DropReason, u64)>,
}

/// Packets and drops per node. Kept in [`crate::State`]; one increment per node a packet
/// passes, one per drop.
#[derive(Clone, Debug)]
pub struct NodeCounters {
    packets: [u64; NodeKind::COUNT],
    drops: Box<[[u64; DropReason::COUNT]; NodeKind::COUNT]>,
}

impl Default for NodeCounters {
    fn default() -> Self {
        NodeCounters {
            packets: [0; NodeKind::COUNT],
            drops: Box::new([[0; DropReason::COUNT]; NodeKind::COUNT]),
        }
    }
}

impl NodeCounters {
    /// A packet entered `node`.
    #[inline(always)]
    pub fn enter(&mut self, node: NodeKind) {
        self.packets[node as usize] += 1;
    }

    /// `node` dropped a packet for `reason`.
    #[inline(always)]
    pub fn drop(&mut self, node: NodeKind, reason: DropReason) {
        self.drops[node as usize][reason as usize] += 1;
    }

    /// The counts of every node that saw a packet, in graph order.
    pub fn nodes(&self) -> Vec<(NodeKind, NodeStats)> {
        NodeKind::ALL
            .iter()
            .filter(|&&k| self.packets[k as usize] > 0)
            .map(|&k| {
                let drops = DropReason::ALL
                    .iter()
                    .map(|&r| (r, self.drops[k as usize][r as usize]))
                    .filter(|&(_, n)| n > 0)
                    .collect();
                (
                    k,
                    NodeStats {
                        packets: self.packets[k as usize],
                        drops,
                    },
                )
            })
            .collect()
    }

    /// Add another table's counts (per-thread counters summed).
    pub fn absorb(&mut self, other: &NodeCounters) {
        for (a, b) in self.packets.iter_mut().zip(other.packets.iter()) {
            *a += b;
        }
        for (ra, rb) in self.drops.iter_mut().zip(other.drops.iter()) {
            for (a, b) in ra.iter_mut().zip(rb.iter()) {
                *a += b;
            }
        }
    }
}
