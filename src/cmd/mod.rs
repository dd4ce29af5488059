//! The commands, one module each, and what they share: the topology and state arguments
//! (`args`) and the flow spec (`flowspec`).

pub mod alb;
pub mod app_layer;
pub mod args;
pub mod autoscaling;
pub mod check;
pub mod completions;
pub mod diff;
pub mod dns;
pub mod export;
pub mod firewall_logs;
pub mod flowspec;
pub mod gen;
pub mod gen_dns;
pub mod gen_http;
pub mod graph;
pub mod health;
pub mod hosts;
pub mod hostsim;
pub mod lint;
pub mod names;
pub mod outdir;
pub mod reach;
pub mod replay;
pub mod replay_dns;
pub mod replay_sim;
pub mod report;
pub mod serve;
pub mod stdio;
pub mod trace;
pub mod validate;
