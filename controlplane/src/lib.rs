//! The vpcsim control plane: load VPC descriptions into a typed model, validate them the
//! way AWS would, and compile them into data-plane tables.
//!
//! ```text
//! template ──► cfn (parse, intrinsics) ──► load (typed Model, ids, addresses, validation)
//!                                                   │
//!                                                   ▼
//!                                         compile ──► vpcsim_dataplane::Topology
//! ```

pub mod cfn;
pub mod compile;
pub mod fix;
pub mod load;
pub mod model;
mod network_firewall_rules;
pub mod props;
pub mod quotas;
mod route53_records;
pub mod service_ranges;
pub mod snapshot;
pub mod suricata;
pub mod terraform;

pub use compile::compile;
pub use load::{load, load_files, Diagnostic, LoadOptions, Loaded, Severity, Source};
pub use model::Model;
