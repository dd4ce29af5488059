//! `vpcsim validate`: what was loaded and everything wrong with it.

use super::args::TopologyArgs;
use super::stdio::{errln, outln};
use clap::Args;
use serde_json::json;
use vpcsim_controlplane::compile::cidr_summary;
use vpcsim_controlplane::load::{DEFAULT_VPC_STACK, SUPPORTED_TYPES};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim validate -t examples/two-tier.yaml
  vpcsim validate -t network.yaml -t peer.yaml --param VpcCidr=10.9.0.0/16 --json
  vpcsim validate -t net=network.yaml -t app.yaml --param VpcId=net.Vpc --param SubnetId=net.PublicSubnet
  vpcsim validate -t snapshot-dir/ -t change.yaml --param VpcId=vpc-0abc1234def567890

Exit codes: 0 no errors (warnings allowed), 2 errors or unreadable input.")]
pub struct ValidateArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub hosts: super::hosts::HostsArgs,
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
    let target_health = target_health(args, &loaded);
    if target_health.is_none() {
        return 2;
    }
    let target_health = target_health.unwrap_or_default();
    let auto_scaling = super::autoscaling::groups_json(m);
    let albs = super::alb::load_balancers_json(m);
    if args.json {
        let out = json!({
            "templates": m.templates.iter().map(|t| json!({"file": t.path, "stack": t.stack_name, "region": t.region, "account_id": t.account_id})).collect::<Vec<_>>(),
            "resources": counts.iter().map(|(k, n)| (k.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "vpcs": vpcs.iter().map(|(name, v4, v6, subnets)| json!({
                "vpc": name,
                "cidrs": v4.iter().map(|c| c.to_string()).chain(v6.iter().map(|c| c.to_string())).collect::<Vec<_>>(),
                "subnets": subnets.iter().map(|(s, c4, c6, az)| json!({"subnet": s, "cidr": c4.map(|c| c.to_string()), "ipv6_cidr": c6.map(|c| c.to_string()), "availability_zone": az})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "default_vpc": default_vpc(m),
            "web_acls": web_acls(m),
            "unsupported": unsupported.iter().map(|(k, id)| json!({"type": k, "logical_id": id})).collect::<Vec<_>>(),
            "auto_scaling_groups": auto_scaling,
            "target_health": target_health,
            "load_balancers": albs,
            "errors": loaded.errors().map(diag_json).collect::<Vec<_>>(),
            "warnings": loaded.warnings().map(diag_json).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        for t in m
            .templates
            .iter()
            .filter(|t| t.stack_name != DEFAULT_VPC_STACK)
        {
            outln!(
                "template {} (stack {}, {}, account {})",
                t.path.display(),
                t.stack_name,
                t.region,
                t.account_id
            );
        }
        outln!("\nresources:");
        for (k, n) in &counts {
            outln!("  {n:>4}  {k}");
        }
        for (name, v4, v6, subnets) in &vpcs {
            let cidrs: Vec<String> = v4
                .iter()
                .map(|c| c.to_string())
                .chain(v6.iter().map(|c| c.to_string()))
                .collect();
            outln!("\nVPC {name}: {}", cidrs.join(", "));
            for (s, c4, c6, az) in subnets {
                let mut c: Vec<String> = c4.iter().map(|c| c.to_string()).collect();
                c.extend(c6.iter().map(|c| c.to_string()));
                outln!("  subnet {s} ({az}): {}", c.join(", "));
            }
        }
        if let Some(d) = default_vpc(m).as_object() {
            outln!(
                "\ndefault VPC {} ({}): created by AWS with the account; default subnets:",
                d["vpc_id"].as_str().unwrap_or(""),
                d["cidr"].as_str().unwrap_or("")
            );
            for s in d["subnets"].as_array().into_iter().flatten() {
                outln!(
                    "  {} {} ({}), public IPs on launch",
                    s["subnet_id"].as_str().unwrap_or(""),
                    s["cidr"].as_str().unwrap_or(""),
                    s["availability_zone"].as_str().unwrap_or("")
                );
            }
        }
        if !auto_scaling.is_empty() {
            outln!(
                "{}",
                super::autoscaling::groups_text(&auto_scaling).trim_end()
            );
        }
        super::alb::print_load_balancers(&albs);
        print_target_health(&target_health);
        print_web_acls(m);
        if !unsupported.is_empty() {
            outln!(
                "\nnot simulated ({}; kept in the model, never fail the load):",
                unsupported.len()
            );
            for (k, id) in &unsupported {
                outln!("  {id} ({k})");
            }
            outln!("  supported types: {}", SUPPORTED_TYPES.len());
        }
        let warnings: Vec<_> = loaded.warnings().collect();
        if !warnings.is_empty() {
            outln!("\nwarnings ({}):", warnings.len());
            for w in warnings {
                outln!("  {w}");
            }
        }
        let errors: Vec<_> = loaded.errors().collect();
        if errors.is_empty() {
            outln!("\nOK: no errors");
        } else {
            outln!("\nerrors ({}):", errors.len());
            for e in errors {
                outln!("  {e}");
            }
        }
    }
    if loaded.has_errors() {
        2
    } else {
        0
    }
}

/// `--target-health` as read, one target group after another.
fn print_target_health(groups: &[serde_json::Value]) {
    for g in groups {
        outln!(
            "\ntarget group {} ({}):",
            g["target_group"].as_str().unwrap_or(""),
            g["protocol"].as_str().unwrap_or("")
        );
        for t in g["targets"].as_array().into_iter().flatten() {
            outln!(
                "  {} port {} ({}): {}{} — {}",
                t["id"].as_str().unwrap_or(""),
                t["port"],
                t["name"].as_str().unwrap_or(""),
                t["state"].as_str().unwrap_or(""),
                t["reason"]
                    .as_str()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default(),
                t["description"].as_str().unwrap_or("")
            );
        }
    }
}

/// Every web ACL: its rules, default action and what it protects.
fn print_web_acls(m: &vpcsim_controlplane::Model) {
    for w in web_acls(m) {
        outln!(
            "\nweb ACL {} ({}): {} rules, default action {}, associated with {}",
            w["logical_id"].as_str().unwrap_or(""),
            w["name"].as_str().unwrap_or(""),
            w["rules"].as_array().map_or(0, Vec::len),
            w["default_action"].as_str().unwrap_or(""),
            w["associated_with"]
                .as_array()
                .filter(|a| !a.is_empty())
                .map_or("nothing".to_string(), |a| {
                    a.iter()
                        .filter_map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
        );
    }
}

/// The web ACLs: name, ARN, rules in evaluation order, default action and the resources
/// (logical id when loaded, else the id as written) each one is associated with.
fn web_acls(m: &vpcsim_controlplane::Model) -> Vec<serde_json::Value> {
    use vpcsim_dataplane::waf::{RuleAction, RuleKind};
    m.waf
        .web_acls
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let rules: Vec<serde_json::Value> = w
                .acl
                .rules
                .iter()
                .map(|r| {
                    let kind = match &r.kind {
                        RuleKind::Match(..) => "statement",
                        RuleKind::RateBased(..) => "rate-based",
                        RuleKind::Group(_) => "rule-group",
                        RuleKind::Managed(..) => "managed-rule-group (not evaluated)",
                    };
                    json!({"name": r.name, "priority": r.priority, "kind": kind})
                })
                .collect();
            json!({
                "logical_id": w.origin.logical_id,
                "name": w.acl.name,
                "arn": w.origin.id,
                "default_action": if matches!(w.acl.default_action, RuleAction::Block(_)) { "Block" } else { "Allow" },
                "rules": rules,
                "associated_with": m.waf.associations.iter().filter(|a| a.web_acl == i).map(|a| a.resource_logical_id.clone().unwrap_or_else(|| a.resource_id.clone())).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The default VPC with its ids, or `null` when nothing needed it.
fn default_vpc(m: &vpcsim_controlplane::Model) -> serde_json::Value {
    let Some((i, v)) = m.vpcs.iter().enumerate().find(|(_, v)| v.is_default) else {
        return serde_json::Value::Null;
    };
    json!({
        "vpc_id": v.origin.id,
        "cidr": v.cidrs_v4.first().map(|c| c.to_string()),
        "internet_gateway_id": v.internet_gateway.map(|g| m.internet_gateways[g].origin.id.clone()),
        "main_route_table_id": m.route_tables[v.main_route_table].origin.id,
        "default_security_group_id": m.security_groups[v.default_security_group].origin.id,
        "default_network_acl_id": m.network_acls[v.default_network_acl].origin.id,
        "subnets": m.subnets.iter().filter(|s| s.vpc == i).map(|s| json!({
            "subnet_id": s.origin.id,
            "logical_id": s.origin.logical_id,
            "cidr": s.cidr_v4.map(|c| c.to_string()),
            "availability_zone": s.availability_zone,
            "map_public_ip_on_launch": s.map_public_ip_on_launch,
        })).collect::<Vec<_>>(),
    })
}

fn diag_json(d: &vpcsim_controlplane::Diagnostic) -> serde_json::Value {
    json!({"file": d.file, "logical_id": d.logical_id, "code": d.code, "message": d.message})
}

/// Target health of every Network Load Balancer target group (computed with the pipeline at
/// compile time, or from `--target-health`), in `describe-target-health` terms. `None`: the
/// `--target-health` file is unusable (the error is printed).
fn target_health(
    args: &ValidateArgs,
    loaded: &vpcsim_controlplane::Loaded,
) -> Option<Vec<serde_json::Value>> {
    if loaded.has_errors()
        || (loaded.model.target_groups.is_empty() && loaded.model.alb.target_groups.is_empty())
    {
        return Some(vec![]);
    }
    let mut topo = vpcsim_controlplane::compile(&loaded.model);
    if let Some(path) = &args.topology.target_health {
        if let Err(e) = super::args::apply_target_health(&mut topo, path) {
            errln!("error: --target-health {}: {e}", path.display());
            return None;
        }
    }
    match args.hosts.load(&topo) {
        Ok(hosts) => vpcsim_dataplane::alb::health::check(&mut topo, &hosts),
        Err(e) => {
            errln!("error: {e}");
            return None;
        }
    }
    let nlb = topo.nlb.target_groups.iter().map(|g| {
        let protocol = format!("{} {}", g.protocol.as_str(), g.target_type.as_str());
        target_group_json(&topo, g.res, protocol, &g.targets)
    });
    let alb = topo.alb.target_groups.iter().map(|g| {
        let protocol = format!("{} {}", g.protocol.as_str(), g.target_type.as_str());
        target_group_json(&topo, g.res, protocol, &g.targets)
    });
    Some(nlb.chain(alb).collect())
}

/// One target group's targets with their health (NLB and ALB groups share the target type).
fn target_group_json(
    topo: &vpcsim_dataplane::topology::Topology,
    res: vpcsim_dataplane::topology::ResId,
    protocol: String,
    targets: &[vpcsim_dataplane::topology::nlb::Target],
) -> serde_json::Value {
    json!({
        "target_group": topo.name(res),
        "arn": topo.resource(res).aws_id,
        "protocol": protocol,
        "targets": targets.iter().map(|t| json!({
            "id": t.id,
            "port": t.port,
            "name": topo.name(t.res),
            "state": t.health.state.as_str(),
            "reason": t.health.reason.map(|r| r.as_str()),
            "description": t.health.description,
            "overridden": t.health.overridden,
        })).collect::<Vec<_>>(),
    })
}
