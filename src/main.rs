//! vpcsim: a simulator of the AWS VPC data plane.
//!
//! The binary is thin: argument parsing, file I/O and output. The pipeline lives in
//! `vpcsim-dataplane`, the resource model and CloudFormation loader in `vpcsim-controlplane`.

mod capture;
mod explain;
mod fastfmt;
mod flowlog;
mod flowspec;
mod gen;
mod html;
mod replay;
mod report;
mod report_cmd;
mod topo;
mod trace;
mod validate;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "vpcsim",
    version,
    about = "Simulate the AWS VPC data plane: trace packets, replay captures, explain drops.",
    long_about = "vpcsim loads VPC descriptions (CloudFormation templates) and pushes packets through a model of \
the AWS data plane: route tables, network ACLs, security groups with connection tracking, internet gateways, \
egress-only gateways, NAT gateways, appliances and peering. Every drop names the resource that dropped the \
packet and why.",
    after_help = "Start with:\n  vpcsim validate -t examples/two-tier.yaml\n  vpcsim trace -t examples/two-tier.yaml 'tcp 10.0.2.30:40000 -> 198.51.100.7:443'\n\nExit codes: 0 success, 1 a check's answer is negative (trace --expect), 2 bad input or usage."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load templates, print what was loaded (counts, CIDRs, unsupported types) and every error.
    Validate(validate::ValidateArgs),
    /// Push one packet through the topology and print every hop.
    Trace(trace::TraceArgs),
    /// Replay a capture: per-frame verdicts, rewritten output pcaps, VPC flow logs, a summary.
    Replay(replay::ReplayArgs),
    /// Generate synthetic traffic for a topology into a pcap (TCP, UDP, ICMP; both directions).
    Gen(gen::GenArgs),
    /// Write a self-contained HTML report: topology map, reachability summary, resources, flows.
    Report(report_cmd::ReportArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Trace(a) => trace::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Report(a) => report_cmd::run(a),
    };
    std::process::exit(code);
}
