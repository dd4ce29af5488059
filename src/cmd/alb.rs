//! What commands print of Application Load Balancers: their nodes' addresses (`validate`), so
//! users and tests can address them.

use super::stdio::outln;
use serde_json::{json, Value};
use vpcsim_controlplane::Model;

/// Every Application Load Balancer with its nodes: subnet, zone, private and public address.
pub fn load_balancers_json(m: &Model) -> Vec<Value> {
    m.alb
        .load_balancers
        .iter()
        .map(|lb| {
            json!({
                "load_balancer": lb.origin.logical_id,
                "arn": lb.origin.id,
                "type": "application",
                "scheme": if lb.internet_facing { "internet-facing" } else { "internal" },
                "dns_name": lb.dns_name,
                "security_groups": lb.security_groups.iter().map(|&g| m.security_groups[g].origin.logical_id.clone()).collect::<Vec<_>>(),
                "nodes": lb.nodes.iter().map(|&e| {
                    let eni = &m.enis[e];
                    let private = eni.private_v4.first().copied();
                    json!({
                        "interface": eni.origin.logical_id,
                        "interface_id": eni.origin.id,
                        "subnet": m.subnets[eni.subnet].origin.logical_id,
                        "availability_zone": m.subnets[eni.subnet].availability_zone,
                        "private_ip": private.map(|a| a.to_string()),
                        "public_ip": private.and_then(|a| m.public_ip_of(e, a)).map(|a| a.to_string()),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The text form of [`load_balancers_json`].
pub fn print_load_balancers(lbs: &[Value]) {
    for lb in lbs {
        outln!(
            "\napplication load balancer {} ({}, {}):",
            lb["load_balancer"].as_str().unwrap_or(""),
            lb["scheme"].as_str().unwrap_or(""),
            lb["dns_name"].as_str().unwrap_or("")
        );
        for n in lb["nodes"].as_array().into_iter().flatten() {
            let public = n["public_ip"]
                .as_str()
                .map(|p| format!(", public {p}"))
                .unwrap_or_default();
            outln!(
                "  node {} ({}): private {}{public}",
                n["interface"].as_str().unwrap_or(""),
                n["availability_zone"].as_str().unwrap_or(""),
                n["private_ip"].as_str().unwrap_or("")
            );
        }
    }
}
