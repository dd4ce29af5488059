//! The vpcsim data plane: a model of the AWS VPC packet path.
//!
//! Layers, each depending only on the ones above it in this list (smoltcp's split):
//! - [`wire`]: frames in, [`wire::Meta`] and the pipeline's [`wire::Header`] out; NAT rewrites
//!   with incremental checksums; frames out; GENEVE. [`aws`]: AWS's fixed addresses and numbers.
//!   [`space`]: sets of headers (the symbolic side's values).
//! - [`tables`]: rule types with their concrete match and their symbolic side (longest-prefix
//!   match, network ACLs, security groups).
//! - [`topology`]: the compiled, immutable tables of every resource (VPCs, subnets, route tables,
//!   interfaces, gateways; [`topology::tgw`], [`topology::vpn`], [`topology::endpoint`],
//!   [`topology::nlb`], [`topology::gwlb`]), each address table as a [`pipeline::driver::AddressMap`].
//! - [`state`]: what changes while packets flow (connection tracking, NAT sessions, load
//!   balancer flows, fragments, per-node counters).
//! - [`pipeline`]: the stage graph, its nodes written once, the concrete driver ([`process`])
//!   that pushes one packet and produces a [`verdict::Verdict`], optionally traced
//!   ([`trace`]); [`reach`]: the symbolic driver over sets of headers.
//!
//! The pipeline does no I/O, never reads the clock (time is passed in) and does not
//! allocate per packet when tracing is off.

pub mod alb;
pub mod aws;
pub mod dns;
pub mod pipeline;
pub mod reach;
pub mod space;
pub mod state;
pub mod tables;
pub mod topology;
pub mod trace;
pub mod verdict;
pub mod waf;
pub mod wire;

pub use pipeline::{process, process_header, Origin};
pub use state::{State, StateConfig};
pub use topology::{ResId, Topology};
pub use trace::{NoTrace, Trace, Tracer};
pub use verdict::{Disposition, DropReason, Verdict};
pub use wire::{Header, Timestamp};
