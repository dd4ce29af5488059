//! The `flows` count of a replay: distinct flows, both directions of a connection counting once.
//!
//! Exact while there are few (a set of 64-bit hashes of the flows: 1 MiB at most, and a
//! collision among 65,536 is a one-in-ten-billion event); past [`EXACT_LIMIT`] an estimate
//! (HyperLogLog++, a fixed 16 KiB whatever the number of flows, standard error about 0.8 %), so
//! a flood of distinct sources cannot grow memory without bound. The summary says which one it is.

use cardinality_estimator::CardinalityEstimator;
use rustc_hash::FxHashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use vpcsim_dataplane::wire::FlowKey;

/// Distinct flows counted exactly; past this the count is an estimate.
pub const EXACT_LIMIT: usize = 65_536;

/// Distinct flows seen so far.
pub struct FlowCount {
    /// The flows themselves while there are at most [`EXACT_LIMIT`]; `None` once estimating.
    exact: Option<FxHashSet<FlowKey>>,
    estimate: CardinalityEstimator<FlowKey, DefaultHasher, 14, 6>,
}

impl Default for FlowCount {
    fn default() -> Self {
        FlowCount {
            exact: Some(FxHashSet::default()),
            estimate: CardinalityEstimator::new(),
        }
    }
}

impl FlowCount {
    /// Count a packet of flow `key`.
    #[inline]
    pub fn add(&mut self, key: &FlowKey) {
        // While counting exactly, a flow seen before changes nothing: the estimator ignores
        // repeats, so it needs each flow once, and most packets skip its slower hash.
        if let Some(set) = &mut self.exact {
            if !set.insert(*key) {
                return;
            }
            if set.len() > EXACT_LIMIT {
                self.exact = None;
            }
        }
        // SipHash with fixed keys: well spread, as the estimator needs, and the same every run.
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        self.estimate.insert_hash(hash);
    }

    /// The number of distinct flows, and whether it is exact.
    pub fn count(&self) -> (usize, bool) {
        match &self.exact {
            Some(set) => (set.len(), true),
            None => (self.estimate.estimate(), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpcsim_dataplane::wire::{Header, IpProtocol};

    fn key(i: u32) -> FlowKey {
        let h = Header {
            src: std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)),
            dst: "192.0.2.1".parse().unwrap(),
            proto: IpProtocol::TCP,
            src_port: 40000,
            dst_port: 443,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 2,
            ttl: 64,
            len: 40,
        };
        FlowKey::of(&h).0
    }

    #[test]
    fn exact_then_estimated() {
        let mut c = FlowCount::default();
        for i in 0..1000 {
            c.add(&key(i));
            c.add(&key(i));
        }
        assert_eq!(c.count(), (1000, true));
        for i in 0..200_000 {
            c.add(&key(i));
        }
        let (n, exact) = c.count();
        assert!(!exact);
        assert!((196_000..204_000).contains(&n), "{n}");
    }
}
