//! Live traffic (`vpcsim serve --live`): real programs in network namespaces talk through the
//! served region's data plane. Each attached instance gets a namespace `vpcsim-<name>` whose
//! `eth0` holds its interface's addresses, MAC, the subnet router as gateway and the VPC
//! resolver in its `resolv.conf`; internet hosts live in `vpcsim-internet`. vpcsim owns the
//! other end of every link (AF_PACKET through pnet) and judges every frame with replay's code.
//! `vpcsim live status` and `vpcsim live down` read the record the server writes.

mod arp;
mod frames;
pub mod netns;
mod setup;

use super::stdio::{errln, outln};
use clap::{Args, Subcommand};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// The flags `vpcsim serve` takes for live traffic.
#[derive(Args, Debug, Clone, Default)]
pub struct LiveServeArgs {
    /// Run real traffic through the served region: a network namespace `vpcsim-<name>` per
    /// attached instance (needs root or CAP_NET_ADMIN); `vpcsim live status` shows them.
    #[arg(long)]
    pub live: bool,
    /// The instances or interfaces that get a namespace (logical id, AWS id or Name tag;
    /// comma-separated or repeated). Default: every instance of the region.
    #[arg(
        long,
        value_delimiter = ',',
        requires = "live",
        value_name = "RESOURCE"
    )]
    pub attach: Vec<String>,
    /// An internet host: the address is added to the `vpcsim-internet` namespace (repeatable).
    #[arg(long = "internet-host", requires = "live", value_name = "ADDR")]
    pub internet_hosts: Vec<Ipv4Addr>,
    /// Where live traffic's verdicts.jsonl, flow logs (flowlogs/) and pcaps (out/) go, flushed
    /// every second. Default: /run/vpcsim/out.
    #[arg(long = "out", requires = "live", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The MTU of the instances' interfaces (SPEC: 9001 inside a VPC; the internet's is 1500).
    #[arg(long, default_value_t = 9001, requires = "live", value_name = "BYTES")]
    pub mtu: u32,
}

/// `vpcsim live`: what a running `serve --live` made.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim live status
  sudo vpcsim live down")]
pub struct LiveArgs {
    #[command(subcommand)]
    pub command: LiveCommand,
}

/// The `live` subcommands.
#[derive(Subcommand, Debug)]
pub enum LiveCommand {
    /// The namespaces of the running live network, their addresses and what to run in them.
    Status {
        /// The record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove every namespace and link the live network made, and those a crashed run left.
    Down,
}

pub use setup::start;

pub fn run(args: &LiveArgs) -> i32 {
    match &args.command {
        LiveCommand::Status { json } => status(*json),
        LiveCommand::Down => down(),
    }
}

fn status(json: bool) -> i32 {
    let Some(r) = netns::read_record() else {
        errln!(
            "no live network is up ({} does not exist)",
            netns::record_path().display()
        );
        return 1;
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        return 0;
    }
    outln!("{}", setup::describe(&r));
    if !netns::alive(r.pid) {
        outln!(
            "its server (pid {}) is gone: `vpcsim live down` removes what it left",
            r.pid
        );
    }
    0
}

fn down() -> i32 {
    if !netns::may_administer_network() {
        errln!(
            "error: vpcsim live down needs root (or CAP_NET_ADMIN) to remove network namespaces"
        );
        return 2;
    }
    match netns::tear_down(netns::read_record().as_ref()) {
        Ok(removed) if removed.is_empty() => {
            outln!("nothing to remove");
            0
        }
        Ok(removed) => {
            outln!("removed {}", removed.join(", "));
            0
        }
        Err(e) => {
            errln!("error: {e}");
            2
        }
    }
}
