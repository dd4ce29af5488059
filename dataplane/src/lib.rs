//! The vpcsim data plane: a model of the AWS VPC packet path.
//!
//! Layers, each depending only on the ones above it in this list:
//! - [`packet`]: parse frames into [`packet::Meta`], rewrite headers (NAT) with incremental checksums.
//! - [`lpm`]: longest-prefix-match tables for IPv4 and IPv6 route lookups.
//! - [`flow`], [`nacl`], [`sg`]: headers, flow keys and rule evaluation.
//! - [`topology`]: the compiled, immutable tables (route tables, NACLs, security groups, gateways),
//!   with [`tgw`] (transit gateways), [`vpn`] (VPN edges) and [`gwlb`] (Gateway Load Balancers;
//!   [`geneve`] describes their encapsulation).
//! - [`conntrack`], [`nat`], [`state`]: what changes while packets flow.
//! - [`pipeline`]: one packet through the stages, producing a [`verdict::Verdict`], optionally traced.
//!
//! The pipeline does no I/O, never reads the clock (time is passed in) and does not
//! allocate per packet when tracing is off.

pub mod aws;
pub mod conntrack;
pub mod elb;
pub mod endpoint;
pub mod exchange;
pub mod flow;
mod flow_index;
pub mod geneve;
pub mod gwlb;
pub mod health;
pub mod lpm;
pub mod nacl;
pub mod nat;
pub mod packet;
pub mod pipeline;
mod prefetch;
pub mod reach;
pub mod sg;
pub mod space;
pub mod state;
pub mod tgw;
pub mod topology;
pub mod trace;
pub mod verdict;
pub mod vpn;

pub use flow::{Header, Timestamp};
pub use pipeline::{process, process_header, Origin};
pub use state::{State, StateConfig};
pub use topology::{Idx, ResId, Topology};
pub use trace::{NoTrace, Trace, Tracer};
pub use verdict::{Disposition, DropReason, Verdict};
