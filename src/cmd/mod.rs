//! The commands, one module each, and what they share: the topology and state arguments
//! (`args`) and the flow spec (`flowspec`).

pub mod alb;
pub mod annotate;
pub mod app_layer;
pub mod args;
pub mod autoscaling;
pub mod check;
pub mod completions;
pub mod dash;
pub mod diff;
pub mod dns;
pub mod export;
pub mod firewall_logs;
pub mod flowlog_s3;
pub mod flowspec;
pub mod gen;
pub mod gen_dns;
pub mod gen_intent;
pub mod gen_v6;
pub mod graph;
pub mod health;
pub mod hosts;
pub mod lint;
pub mod names;
pub mod outdir;
pub mod reach;
pub mod replay;
pub mod replay_dns;
pub mod replay_input;
pub mod report;
pub mod stdio;
pub mod trace;
pub mod validate;
