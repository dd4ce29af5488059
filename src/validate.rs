//! `vpcsim validate`: what was loaded and everything wrong with it.

use crate::topo::TopologyArgs;
use clap::Args;
use serde_json::json;
use vpcsim_controlplane::compile::cidr_summary;
use vpcsim_controlplane::load::SUPPORTED_TYPES;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim validate -t examples/two-tier.yaml
  vpcsim validate -t network.yaml -t peer.yaml --param VpcCidr=10.9.0.0/16 --json

Exit codes: 0 no errors (warnings allowed), 2 errors or unreadable input.")]
pub struct ValidateArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ValidateArgs) -> i32 {
    let loaded = args.topology.load();
    let m = &loaded.model;
    let counts = m.counts();
    let vpcs = cidr_summary(m);
    let mut unsupported: Vec<(String, String)> = m
        .unsupported
        .iter()
        .map(|u| (u.origin.kind.to_string(), u.origin.logical_id.clone()))
        .collect();
    unsupported.sort();
    if args.json {
        let out = json!({
            "templates": m.templates.iter().map(|t| json!({"file": t.path, "stack": t.stack_name, "region": t.region, "account_id": t.account_id})).collect::<Vec<_>>(),
            "resources": counts.iter().map(|(k, n)| (k.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "vpcs": vpcs.iter().map(|(name, v4, v6, subnets)| json!({
                "vpc": name,
                "cidrs": v4.iter().map(|c| c.to_string()).chain(v6.iter().map(|c| c.to_string())).collect::<Vec<_>>(),
                "subnets": subnets.iter().map(|(s, c4, c6, az)| json!({"subnet": s, "cidr": c4.map(|c| c.to_string()), "ipv6_cidr": c6.map(|c| c.to_string()), "availability_zone": az})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "unsupported": unsupported.iter().map(|(k, id)| json!({"type": k, "logical_id": id})).collect::<Vec<_>>(),
            "errors": loaded.errors().map(diag_json).collect::<Vec<_>>(),
            "warnings": loaded.warnings().map(diag_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        for t in &m.templates {
            println!(
                "template {} (stack {}, {}, account {})",
                t.path.display(),
                t.stack_name,
                t.region,
                t.account_id
            );
        }
        println!("\nresources:");
        for (k, n) in &counts {
            println!("  {n:>4}  {k}");
        }
        for (name, v4, v6, subnets) in &vpcs {
            let cidrs: Vec<String> = v4
                .iter()
                .map(|c| c.to_string())
                .chain(v6.iter().map(|c| c.to_string()))
                .collect();
            println!("\nVPC {name}: {}", cidrs.join(", "));
            for (s, c4, c6, az) in subnets {
                let mut c: Vec<String> = c4.iter().map(|c| c.to_string()).collect();
                c.extend(c6.iter().map(|c| c.to_string()));
                println!("  subnet {s} ({az}): {}", c.join(", "));
            }
        }
        if !unsupported.is_empty() {
            println!(
                "\nnot simulated ({}; kept in the model, never fail the load):",
                unsupported.len()
            );
            for (k, id) in &unsupported {
                println!("  {id} ({k})");
            }
            println!("  supported types: {}", SUPPORTED_TYPES.len());
        }
        let warnings: Vec<_> = loaded.warnings().collect();
        if !warnings.is_empty() {
            println!("\nwarnings ({}):", warnings.len());
            for w in warnings {
                println!("  {w}");
            }
        }
        let errors: Vec<_> = loaded.errors().collect();
        if errors.is_empty() {
            println!("\nOK: no errors");
        } else {
            println!("\nerrors ({}):", errors.len());
            for e in errors {
                println!("  {e}");
            }
        }
    }
    if loaded.has_errors() {
        2
    } else {
        0
    }
}

fn diag_json(d: &vpcsim_controlplane::Diagnostic) -> serde_json::Value {
    json!({"file": d.file, "logical_id": d.logical_id, "code": d.code, "message": d.message})
}
