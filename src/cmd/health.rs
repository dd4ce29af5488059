//! `vpcsim health`: every target group's targets and their health, in the shape of
//! `aws elbv2 describe-target-health`. Health is computed with the pipeline when the topology
//! is compiled (`vpcsim_dataplane::pipeline::health`); `--target-health` overrides it.
//!
//! Each kind of target group is read into one [`GroupHealth`] by its own function, chained in
//! [`groups`]: a new kind of load balancer adds its function there.

use super::args::TopologyArgs;
use super::hosts::HostsArgs;
use super::stdio::{errln, outln};
use clap::Args;
use serde_json::{json, Value};
use vpcsim_dataplane::topology::nlb::TargetHealth;
use vpcsim_dataplane::{ResId, Topology};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim health -t examples/asg.yaml
  vpcsim health -t examples/nlb.yaml --json
  vpcsim health -t examples/nlb.yaml --target-health health.json
  vpcsim health -t examples/web-app.yaml --hosts examples/web-app.hosts.yaml

The JSON is a list of target groups, each with TargetGroup (logical id), TargetGroupName,
TargetGroupArn, LoadBalancerType and TargetHealthDescriptions as describe-target-health prints
them; it is also a valid --target-health file.

Exit codes: 0 printed, 2 the topology, the --target-health or the --hosts file has errors.")]
pub struct HealthArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Application Load Balancer health checks are answered by these simulated hosts.
    #[command(flatten)]
    pub hosts: HostsArgs,
}

/// One target as describe-target-health describes it.
struct TargetRow<'t> {
    id: &'t str,
    port: u16,
    /// Only for ip targets: their zone, or `all` outside the VPC.
    availability_zone: Option<String>,
    health_check_port: u16,
    health: &'t TargetHealth,
    /// The instance or interface it is, as vpcsim names it.
    resource: ResId,
}

/// A target group of any kind of load balancer.
struct GroupHealth<'t> {
    res: ResId,
    load_balancer_type: &'static str,
    targets: Vec<TargetRow<'t>>,
}

/// Every target group, Network Load Balancers' first, then Gateway Load Balancers', then
/// Application Load Balancers'.
fn groups(topo: &Topology) -> Vec<GroupHealth<'_>> {
    let mut out = network_groups(topo);
    out.extend(gateway_groups(topo));
    out.extend(application_groups(topo));
    out
}

fn zone_of(topo: &Topology, eni: vpcsim_dataplane::topology::EniIdx) -> String {
    topo.subnets[topo.enis[eni].subnet]
        .availability_zone
        .clone()
}

fn network_groups(topo: &Topology) -> Vec<GroupHealth<'_>> {
    use vpcsim_dataplane::topology::nlb::TargetType;
    topo.nlb
        .target_groups
        .iter()
        .map(|g| GroupHealth {
            res: g.res,
            load_balancer_type: "network",
            targets: g
                .targets
                .iter()
                .map(|t| TargetRow {
                    id: &t.id,
                    port: t.port,
                    availability_zone: (g.target_type == TargetType::Ip).then(|| {
                        t.eni
                            .map_or_else(|| "all".to_string(), |e| zone_of(topo, e))
                    }),
                    health_check_port: g.health_check_port.unwrap_or(t.port),
                    health: &t.health,
                    resource: t.res,
                })
                .collect(),
        })
        .collect()
}

fn gateway_groups(topo: &Topology) -> Vec<GroupHealth<'_>> {
    topo.gwlb
        .target_groups
        .iter()
        .map(|g| GroupHealth {
            res: g.res,
            load_balancer_type: "gateway",
            targets: g
                .targets
                .iter()
                .map(|t| TargetRow {
                    id: &t.id,
                    port: vpcsim_dataplane::wire::geneve::PORT,
                    availability_zone: None,
                    health_check_port: g.health_check_port,
                    health: &t.health,
                    resource: t.res,
                })
                .collect(),
        })
        .collect()
}

fn application_groups(topo: &Topology) -> Vec<GroupHealth<'_>> {
    use vpcsim_dataplane::topology::alb::AlbTargetType;
    topo.alb
        .target_groups
        .iter()
        .map(|g| GroupHealth {
            res: g.res,
            load_balancer_type: "application",
            targets: g
                .targets
                .iter()
                .map(|t| TargetRow {
                    id: &t.id,
                    port: t.port,
                    availability_zone: (g.target_type == AlbTargetType::Ip).then(|| {
                        t.eni
                            .map_or_else(|| "all".to_string(), |e| zone_of(topo, e))
                    }),
                    health_check_port: g.health_check.port.unwrap_or(t.port),
                    health: &t.health,
                    resource: t.res,
                })
                .collect(),
        })
        .collect()
}

/// The name in a target group ARN (`…:targetgroup/NAME/suffix`).
fn group_name(arn: &str) -> &str {
    arn.split_once(":targetgroup/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or(arn)
}

/// Every target group's health as `vpcsim health --json` prints it (also what `vpcsim serve`
/// answers `DescribeTargetHealth` from).
pub fn health_json(topo: &Topology) -> Vec<Value> {
    groups(topo).iter().map(|g| group_json(topo, g)).collect()
}

fn group_json(topo: &Topology, g: &GroupHealth) -> Value {
    let arn = &topo.resource(g.res).aws_id;
    json!({
        "TargetGroup": topo.name(g.res),
        "TargetGroupName": group_name(arn),
        "TargetGroupArn": arn,
        "LoadBalancerType": g.load_balancer_type,
        "TargetHealthDescriptions": g.targets.iter().map(|t| {
            let mut target = json!({"Id": t.id, "Port": t.port});
            if let Some(az) = &t.availability_zone {
                target["AvailabilityZone"] = json!(az);
            }
            let mut health = json!({"State": t.health.state.as_str()});
            if let Some(r) = t.health.reason {
                health["Reason"] = json!(r.as_str());
            }
            if !t.health.description.is_empty() {
                health["Description"] = json!(t.health.description);
            }
            json!({
                "Target": target,
                "HealthCheckPort": t.health_check_port.to_string(),
                "TargetHealth": health,
                "Resource": topo.name(t.resource),
            })
        }).collect::<Vec<_>>(),
    })
}

fn group_text(topo: &Topology, g: &GroupHealth) -> String {
    let arn = &topo.resource(g.res).aws_id;
    let mut rows = vec![[
        "TARGET",
        "RESOURCE",
        "PORT",
        "HC PORT",
        "STATE",
        "REASON",
        "DESCRIPTION",
    ]
    .map(String::from)];
    for t in &g.targets {
        rows.push([
            t.id.to_string(),
            topo.name(t.resource).to_string(),
            t.port.to_string(),
            t.health_check_port.to_string(),
            t.health.state.as_str().to_string(),
            t.health
                .reason
                .map(|r| r.as_str())
                .unwrap_or("-")
                .to_string(),
            t.health.description.clone(),
        ]);
    }
    let mut widths = [0usize; 7];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = format!(
        "target group {} ({} load balancer) {arn}\n",
        topo.name(g.res),
        g.load_balancer_type
    );
    if g.targets.is_empty() {
        out.push_str("  no registered targets\n");
        return out;
    }
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 6 {
                    c.clone()
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn run(args: &HealthArgs) -> i32 {
    let Ok((_, mut topo)) = args.topology.topology() else {
        return 2;
    };
    if args.hosts.hosts.is_some() {
        match args.hosts.load(&topo) {
            Ok(hosts) => vpcsim_dataplane::alb::health::check(&mut topo, &hosts),
            Err(e) => {
                errln!("error: {e}");
                return 2;
            }
        }
    }
    let groups = groups(&topo);
    if args.json {
        let list = health_json(&topo);
        outln!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else if groups.is_empty() {
        outln!("no target groups");
    } else {
        let text: Vec<String> = groups.iter().map(|g| group_text(&topo, g)).collect();
        outln!("{}", text.join("\n").trim_end());
    }
    0
}
