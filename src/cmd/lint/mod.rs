//! `vpcsim lint`: configuration that does nothing or works against itself, what Batfish's
//! `filterLineReachability` and `unusedStructures` find. Each finding names the resource, what
//! makes it so, and a fix.

mod routes;
mod rules;

use super::args::TopologyArgs;
use super::stdio::out;
use clap::Args;
use serde_json::json;
use vpcsim_controlplane::Model;
use vpcsim_dataplane::{ResId, Topology};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim lint -t examples/two-tier.yaml
  vpcsim lint -t template.yaml --json

Findings:
  NACL_ENTRY_SHADOWED         a network ACL entry that lower-numbered entries always decide first
  SG_RULE_SUBSUMED            a security group rule a broader rule of the same group covers
  SG_UNUSED                   a security group on no interface and referenced by no group
  ROUTE_NEVER_CHOSEN          a route more specific routes cover whole (or a same-prefix loser)
  NACL_BLOCKS_RETURN_TRAFFIC  a subnet's ACL lets traffic out but denies its replies

Exit codes: 0 no findings, 1 findings, 2 bad input.")]
pub struct LintArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The resource a finding is about.
pub struct Subject {
    id: String,
    logical_id: String,
    kind: String,
}

impl Subject {
    fn of(topo: &Topology, r: ResId) -> Subject {
        let res = topo.resource(r);
        Subject {
            id: res.aws_id.clone(),
            logical_id: res.logical_id.clone(),
            kind: res.kind.clone(),
        }
    }
}

/// One finding.
pub struct Finding {
    code: &'static str,
    subject: Subject,
    message: String,
    /// What makes it so: the entries, rules or routes that shadow it.
    by: Vec<String>,
    fix: String,
}

/// Every finding of a topology, in a stable order.
fn findings(topo: &Topology, model: &Model) -> Vec<Finding> {
    // A snapshot's default groups are named `default` (a template's are implied by the VPC).
    let default_groups: Vec<String> = model
        .security_groups
        .iter()
        .filter(|g| g.group_name == "default")
        .map(|g| g.origin.id.clone())
        .collect();
    let mut out = Vec::new();
    rules::nacl_shadowed(topo, &mut out);
    rules::sg_subsumed(topo, &mut out);
    rules::sg_unused(topo, &default_groups, &mut out);
    routes::never_chosen(topo, &mut out);
    routes::return_traffic(topo, &mut out);
    out
}

pub fn run(args: &LintArgs) -> i32 {
    let Ok((loaded, topo)) = args.topology.topology() else {
        return 2;
    };
    let found = findings(&topo, &loaded.model);
    if args.json {
        let v = json!({
            "findings": found.iter().map(|f| json!({
                "code": f.code,
                "resource": {"id": f.subject.id, "logical_id": f.subject.logical_id, "type": f.subject.kind},
                "message": f.message,
                "shadowed_by": f.by,
                "fix": f.fix,
            })).collect::<Vec<_>>(),
            "count": found.len(),
        });
        out!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let mut s = String::new();
        for f in &found {
            s.push_str(&format!(
                "{}  {} ({}, {})\n  {}\n",
                f.code, f.subject.logical_id, f.subject.id, f.subject.kind, f.message
            ));
            if !f.by.is_empty() {
                s.push_str(&format!("  because of: {}\n", f.by.join("; ")));
            }
            s.push_str(&format!("  fix: {}\n\n", f.fix));
        }
        s.push_str(&match found.len() {
            0 => "no findings\n".to_string(),
            n => format!("{n} finding(s)\n"),
        });
        out!("{s}");
    }
    if found.is_empty() {
        0
    } else {
        1
    }
}
