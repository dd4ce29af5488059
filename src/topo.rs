//! Loading topologies from the command line: `--topology`, `--param`, `--import`.

use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;
use vpcsim_controlplane::{compile, load_files, LoadOptions, Loaded};
use vpcsim_dataplane::conntrack::Timeouts;
use vpcsim_dataplane::{StateConfig, Topology};

#[derive(Args, Debug, Clone)]
pub struct TopologyArgs {
    /// CloudFormation template (YAML or JSON). Repeat to load several stacks into one topology;
    /// exports of earlier templates satisfy Fn::ImportValue in later ones.
    #[arg(long = "topology", short = 't', value_name = "FILE", required = true)]
    pub topology: Vec<PathBuf>,
    /// Template parameter value, overriding its Default (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
    /// Value for an Fn::ImportValue export the templates do not define themselves (repeatable).
    #[arg(long = "import", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub imports: Vec<(String, String)>,
    /// AWS::Region of the stacks.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// AWS::AccountId of the stacks (also the account in flow logs).
    #[arg(long, default_value = "123456789012")]
    pub account_id: String,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

impl TopologyArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            region: self.region.clone(),
            account_id: self.account_id.clone(),
            parameters: self.params.iter().cloned().collect::<BTreeMap<_, _>>(),
            imports: self.imports.iter().cloned().collect::<BTreeMap<_, _>>(),
        }
    }

    pub fn load(&self) -> Loaded {
        load_files(&self.topology, &self.options())
    }

    /// Load and compile, or print every error and return `Err` (exit code 2).
    pub fn topology(&self) -> Result<(Loaded, Topology), ()> {
        let loaded = self.load();
        for w in loaded.warnings() {
            eprintln!("warning: {w}");
        }
        if loaded.has_errors() {
            for e in loaded.errors() {
                eprintln!("error: {e}");
            }
            eprintln!(
                "error: the topology has {} error(s); `vpcsim validate` lists them",
                loaded.errors().count()
            );
            return Err(());
        }
        let topo = compile(&loaded.model);
        for a in &topo.ambiguous {
            eprintln!("warning: {a} belongs to interfaces in several VPCs; packets from it start at the first one loaded (use --from/--at)");
        }
        Ok((loaded, topo))
    }
}

/// State tunables shared by `trace`, `replay` and `gen`.
#[derive(Args, Debug, Clone)]
pub struct StateArgs {
    /// Tracked connections (all interfaces together) before new ones are refused with CONNTRACK_FULL.
    #[arg(long, default_value_t = 4_000_000, value_name = "N")]
    pub conntrack_capacity: usize,
    /// Security-group idle timeout for established TCP, seconds (AWS: 432000; 350 on Nitro v6 types).
    #[arg(long, default_value_t = 432_000, value_name = "SECONDS")]
    pub tcp_established_timeout: u64,
    /// Security-group idle timeout for UDP flows with a single exchange, seconds (AWS: 30).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub udp_timeout: u64,
    /// Security-group idle timeout for UDP streams, seconds (AWS: 180).
    #[arg(long, default_value_t = 180, value_name = "SECONDS")]
    pub udp_stream_timeout: u64,
}

impl StateArgs {
    pub fn config(&self) -> StateConfig {
        StateConfig {
            conntrack_capacity: self.conntrack_capacity,
            timeouts: Timeouts {
                tcp_established: self.tcp_established_timeout,
                udp: self.udp_timeout,
                udp_stream: self.udp_stream_timeout,
                ..Timeouts::default()
            },
            ..StateConfig::default()
        }
    }
}
