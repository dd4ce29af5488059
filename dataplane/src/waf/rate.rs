//! Rate-based rules (SPEC §14.4, §19.5) counted in packet time.
//!
//! AWS counts each aggregation instance's requests over the evaluation window looking back from
//! now, and re-checks the rate about every 10 seconds, so limiting starts and stops with a lag.
//! The model: requests are counted in 10-second buckets; at the first request of each 10-second
//! tick the instance is limited when the requests of the window before that tick exceed the
//! limit, and every request until the next tick gets that decision. This reproduces AWS's lag
//! and its "approximate" limiting deterministically.

use super::statement::{ForwardedIpConfig, Statement};
use super::WebAcl;
use crate::wire::Timestamp;
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// How often WAF re-checks a rate (seconds).
pub const CHECK_INTERVAL_SECS: u64 = 10;
/// One bucket per tick of the longest window (600 s), plus the tick being counted.
const BUCKETS: usize = 64;

/// `AggregateKeyType` of a rate-based statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Aggregate {
    /// `IP`: the request's origin address.
    Ip,
    /// `FORWARDED_IP`: the first address of the configured header.
    ForwardedIp(ForwardedIpConfig),
    /// `CONSTANT`: every request that matches the scope-down statement, together.
    Constant,
}

/// A `RateBasedStatement`.
#[derive(Clone, Debug)]
pub struct RateBased {
    /// `Limit`: requests per window.
    pub limit: u64,
    /// `EvaluationWindowSec`: 60, 120, 300 or 600.
    pub window_secs: u64,
    /// `AggregateKeyType`.
    pub aggregate: Aggregate,
    /// `ScopeDownStatement`: only matching requests are counted and acted on.
    pub scope_down: Option<Statement>,
    /// This use's counter in [`WafState`] (each use of a rule counts on its own).
    pub(crate) slot: usize,
}

impl RateBased {
    /// A rate-based statement; [`WebAcl::new`] gives each use its own counter.
    pub fn new(
        limit: u64,
        window_secs: u64,
        aggregate: Aggregate,
        scope_down: Option<Statement>,
    ) -> RateBased {
        RateBased {
            limit,
            window_secs,
            aggregate,
            scope_down,
            slot: 0,
        }
    }
}

/// What one aggregation instance counted.
#[derive(Clone, Debug)]
struct Instance {
    buckets: [u32; BUCKETS],
    /// The latest tick counted.
    last_tick: u64,
    /// The tick whose decision `limited` is.
    decided_tick: u64,
    limited: bool,
}

/// The mutable side of a web ACL's evaluation, owned by the caller (the ALB keeps one per web
/// ACL): rate counters and scratch buffers, reused across requests.
#[derive(Debug, Default)]
pub struct WafState {
    rate: Vec<FxHashMap<Option<IpAddr>, Instance>>,
    pub(crate) a: Vec<u8>,
    pub(crate) b: Vec<u8>,
}

impl WafState {
    /// Empty counters for every rate-based rule of `acl`.
    pub fn new(acl: &WebAcl) -> WafState {
        WafState {
            rate: vec![FxHashMap::default(); acl.rate_slots],
            a: Vec::new(),
            b: Vec::new(),
        }
    }

    /// Count one request of instance `key` of rate rule `r` at `now`; returns whether the
    /// instance is being limited for this request.
    pub(crate) fn count(&mut self, r: &RateBased, key: Option<IpAddr>, now: Timestamp) -> bool {
        if self.rate.len() <= r.slot {
            self.rate.resize_with(r.slot + 1, FxHashMap::default);
        }
        let tick = now.secs() / CHECK_INTERVAL_SECS;
        let inst = self.rate[r.slot].entry(key).or_insert(Instance {
            buckets: [0; BUCKETS],
            last_tick: tick,
            decided_tick: u64::MAX,
            limited: false,
        });
        // Time that went backwards in a capture counts in the latest tick.
        let tick = tick.max(inst.last_tick);
        for t in (inst.last_tick + 1..=tick).take(BUCKETS) {
            inst.buckets[(t % BUCKETS as u64) as usize] = 0;
        }
        inst.last_tick = tick;
        if inst.decided_tick != tick {
            let ticks = r.window_secs / CHECK_INTERVAL_SECS;
            let counted: u64 = (1..=ticks.min(BUCKETS as u64 - 1))
                .filter_map(|back| tick.checked_sub(back))
                .map(|t| u64::from(inst.buckets[(t % BUCKETS as u64) as usize]))
                .sum();
            inst.limited = counted > r.limit;
            inst.decided_tick = tick;
        }
        let slot = &mut inst.buckets[(tick % BUCKETS as u64) as usize];
        *slot = slot.saturating_add(1);
        inst.limited
    }

    /// The aggregation instances of rate rule slot `slot` being limited now (for
    /// `GetRateBasedStatementManagedKeys`-like output); `None` is the `CONSTANT` instance.
    pub fn limited_keys(&self, slot: usize) -> impl Iterator<Item = Option<IpAddr>> + '_ {
        self.rate
            .get(slot)
            .into_iter()
            .flat_map(|m| m.iter().filter(|(_, i)| i.limited).map(|(k, _)| *k))
    }
}
