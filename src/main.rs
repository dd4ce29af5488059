//! vpcsim: a simulator of the AWS VPC data plane.
//!
//! The binary is thin: argument parsing, file I/O and output, one module per command in `cmd/`.
//! The pipeline lives in `vpcsim-dataplane`, the resource model and CloudFormation loader in
//! `vpcsim-controlplane`, capture files in `vpcsim-capture`, and everything rendered (JSON, text,
//! flow logs, explanations, HTML) in `vpcsim-report`.

mod cmd;

use clap::{CommandFactory, Parser, Subcommand};
use cmd::{
    check, completions, diff, dns, export, gen, graph, health, lint, live, reach, replay, report,
    serve, trace, validate,
};

#[derive(Parser, Debug)]
#[command(
    name = "vpcsim",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("VPCSIM_BUILD_COMMIT"), ")"),
    about = "Simulate the AWS VPC data plane: trace packets, replay captures, explain drops.",
    long_about = "Simulate the AWS VPC data plane: trace packets, replay captures, explain drops.\n\n\
vpcsim models route tables (with gateway route tables), network ACLs, security groups with \
connection tracking, internet, egress-only and NAT gateways, appliances, VPC peering, transit \
gateways (with peering), VPN, prefix lists, VPC endpoints, Network, Gateway and Application \
Load Balancers (with simulated hosts, health checks, Auto Scaling groups and AWS WAF), AWS \
Network Firewall, and Route 53 with the VPC resolver; it loads CloudFormation templates, \
Terraform plans and states (`terraform show -json`) and describe-* snapshots of a real account. \
Every drop names the resource that dropped the packet and why.\n\n\
`vpcsim serve` runs it as a service: the AWS APIs (EC2, ELBv2, CloudFormation, IAM/STS with \
SigV4, Route 53, CloudWatch, CloudWatch Logs, CloudTrail) on one port, each change applied to \
the data plane at once.",
    after_help = "Start with:
  vpcsim validate -t examples/two-tier.yaml
  vpcsim trace -t examples/two-tier.yaml 'tcp 10.0.2.30:40000 -> 198.51.100.7:443'

Exit codes:
  0  success
  1  a check's answer is negative (trace --expect, diff --fail-on-change, check, lint)
  2  bad input or usage, or an output that cannot be written (a full disk, > /dev/full)

A closed pipe (vpcsim ... | head -1) is not an error: the command ends quietly with its own code."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load templates, print what was loaded (counts, CIDRs, unsupported types) and every error.
    Validate(validate::ValidateArgs),
    /// Every target group's targets and their health, as `aws elbv2 describe-target-health`
    /// prints them (health checks pushed through the pipeline).
    Health(health::HealthArgs),
    /// Push one packet through the topology and print every hop.
    Trace(trace::TraceArgs),
    /// Ask the VPC resolver a question from an instance, answered like dig: the records, the
    /// status, and the zone, record or rule that answered.
    Dns(dns::DnsArgs),
    /// Replay a capture: per-frame verdicts, rewritten output pcaps, VPC flow logs, a summary.
    Replay(replay::ReplayArgs),
    /// Generate synthetic traffic for a topology into a pcap (TCP, UDP, ICMP; both directions).
    Gen(gen::GenArgs),
    /// Write a self-contained HTML report: topology map, reachability summary, resources, flows.
    Report(report::ReportArgs),
    /// Every packet at once: which protocols, ports and addresses get from one endpoint to
    /// another (and back), and why the rest does not; `--matrix` for every pair.
    Reach(reach::ReachArgs),
    /// The flows a change opens and closes: reachability before and after, pair by pair.
    Diff(diff::DiffArgs),
    /// Intent checks for CI: a policy of assertions (reach, isolated, passes-through,
    /// no-open-ingress, equivalent), each decided for every packet at once.
    Check(check::CheckArgs),
    /// Configuration that never takes effect: shadowed network ACL entries, subsumed and
    /// unused security groups' rules, routes never chosen, ACLs that deny their own replies.
    Lint(lint::LintArgs),
    /// Run the AWS API (EC2, CloudFormation) on one port with the data plane behind it: what
    /// the aws CLI or an SDK creates is traced at once (`/_vpcsim/trace`).
    Serve(serve::ServeArgs),
    /// What `serve --live` made: `status` lists its namespaces and what to run in them, `down`
    /// removes them (and what a crashed run left).
    Live(live::LiveArgs),
    /// Write the topology as a describe-* snapshot (the JSON `aws ec2 describe-*` prints, one
    /// file per call); `-t DIR` loads such a snapshot, from `export` or from a real account.
    Export(export::ExportArgs),
    /// The pipeline's stage graph: its nodes (one per AWS concept) and where a packet goes from
    /// each, drawn from the code (text, Graphviz or Mermaid).
    Graph(graph::GraphArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(completions::CompletionsArgs),
    /// Write man pages: vpcsim.1 and one per command (vpcsim-trace.1, ...).
    Man(completions::ManArgs),
}

fn main() {
    let code = match Cli::try_parse() {
        Ok(cli) => run(&cli),
        Err(e) => clap_message(&e),
    };
    std::process::exit(cmd::stdio::exit_code(code));
}

/// Help, version and usage errors, printed as clap would but through `stdio`: clap ignores a
/// failed write, so `--help > /dev/full` would exit 0.
fn clap_message(e: &clap::Error) -> i32 {
    use std::io::IsTerminal;
    let styled = e.render();
    let terminal = if e.use_stderr() {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let text = if terminal {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    if e.use_stderr() {
        cmd::stdio::errln!("{}", text.trim_end());
    } else {
        cmd::stdio::out!("{text}");
    }
    e.exit_code()
}

fn run(cli: &Cli) -> i32 {
    match &cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Health(a) => health::run(a),
        Command::Trace(a) => trace::run(a),
        Command::Dns(a) => dns::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Report(a) => report::run(a),
        Command::Reach(a) => reach::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Check(a) => check::run(a),
        Command::Lint(a) => lint::run(a),
        Command::Export(a) => export::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Live(a) => live::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Completions(a) => completions::completions(a, Cli::command()),
        Command::Man(a) => completions::man(a, Cli::command()),
    }
}
