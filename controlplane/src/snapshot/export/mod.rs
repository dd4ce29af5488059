//! Writing a model as describe-* output, one file per call, in the shapes the AWS CLI prints.

mod alb;
mod autoscaling;
mod edges;
mod elastic_ips;
mod endpoints;
mod gateways;
mod instances;
mod network_acls;
mod network_firewall;
mod nlb;
mod peering;
mod prefix_lists;
mod route53;
mod route_tables;
mod security_groups;
mod vpc;
mod waf;

use super::read::LOGICAL_ID_TAG;
use crate::load::PREFIXES_TAG;
use crate::model::*;
use ipnet::IpNet;
use serde_json::{json, Value};

/// One file of an export: `Vpcs.json` and the JSON `aws ec2 describe-vpcs` would print.
#[derive(Clone, Debug)]
pub struct ExportFile {
    /// The file name: the describe-* output's top-level key and `.json`.
    pub name: String,
    /// The describe-* output.
    pub json: Value,
}

/// The describe-* files for a model, and the resources they leave out (kind, logical id): kinds
/// the snapshot loader does not read back yet.
pub fn export(model: &Model) -> (Vec<ExportFile>, Vec<(&str, String)>) {
    let e = Exporter { m: model };
    let mut files = Vec::new();
    let mut add = |key: &str, items: Vec<Value>| {
        files.push(ExportFile {
            name: format!("{key}.json"),
            json: json!({ key: items }),
        })
    };
    add("Vpcs", model.vpcs.iter().map(|v| e.vpc(v)).collect());
    add(
        "Subnets",
        model.subnets.iter().map(|s| e.subnet(s)).collect(),
    );
    add(
        "RouteTables",
        (0..model.route_tables.len())
            .map(|i| e.route_table(i))
            .collect(),
    );
    add(
        "NetworkAcls",
        (0..model.network_acls.len()).map(|i| e.nacl(i)).collect(),
    );
    add(
        "SecurityGroups",
        model.security_groups.iter().map(|g| e.sg(g)).collect(),
    );
    add(
        "Reservations",
        model.instances.iter().map(|i| e.reservation(i)).collect(),
    );
    add(
        "NetworkInterfaces",
        (0..model.enis.len())
            .map(|i| e.eni(i, false))
            .chain(e.firewall_endpoint_enis())
            .collect(),
    );
    add(
        "InternetGateways",
        model
            .internet_gateways
            .iter()
            .map(|g| e.internet_gateway(g))
            .collect(),
    );
    add(
        "EgressOnlyInternetGateways",
        model
            .egress_only_igws
            .iter()
            .map(|g| e.egress_only_internet_gateway(g))
            .collect(),
    );
    add(
        "NatGateways",
        model.nat_gateways.iter().map(|n| e.nat(n)).collect(),
    );
    add(
        "Addresses",
        model.eips.iter().map(|a| e.address(a)).collect(),
    );
    add(
        "VpcPeeringConnections",
        model.peerings.iter().map(|p| e.peering(p)).collect(),
    );
    add(
        "PrefixLists",
        model
            .prefix_lists
            .iter()
            .map(|p| e.prefix_list(p))
            .collect(),
    );
    e.edges(&mut add);
    add(
        "VpcEndpoints",
        model.vpc_endpoints.iter().map(|v| e.endpoint(v)).collect(),
    );
    e.nlb(&mut add);
    e.route53(&mut add);
    add(
        "AutoScalingGroups",
        model
            .auto_scaling_groups
            .iter()
            .map(|g| e.auto_scaling_group(g))
            .collect(),
    );
    e.resolver(&mut add);
    e.dns_firewall(&mut add);
    files.extend(e.network_firewall_files());
    files.extend(e.hosted_zone_files());
    files.extend(e.waf_files());
    // Kinds snapshots do not carry yet are named rather than lost silently.
    let not_carried = model
        .unsupported
        .iter()
        .map(|r| &r.origin)
        .chain(model.gateway_load_balancers.iter().map(|r| &r.origin))
        .chain(model.gwlb_target_groups.iter().map(|r| &r.origin))
        .chain(model.endpoint_services.iter().map(|r| &r.origin))
        .chain(model.gwlb_endpoints.iter().map(|r| &r.origin))
        .chain(model.gwlb_routes.iter().map(|r| &r.origin))
        .chain(model.launch_templates.iter().map(|r| &r.origin))
        .chain(model.launch_configurations.iter().map(|r| &r.origin))
        .chain(model.waf.regex_sets.iter().map(|r| &r.origin))
        .chain(model.waf.rule_groups.iter().map(|r| &r.origin));
    let mut skipped: Vec<(&str, String)> = Vec::new();
    for o in not_carried.filter(|o| !o.is_implicit()) {
        let entry = (&*o.kind, o.logical_id.clone());
        if !skipped.contains(&entry) {
            skipped.push(entry);
        }
    }
    (files, skipped)
}

/// Writes the describe-* entries of one model; each resource family's are in its module.
struct Exporter<'m> {
    m: &'m Model,
}

/// A stable id of another kind derived from a resource id (`eipalloc-…` → `eipassoc-…`).
fn derived(prefix: &str, id: &str) -> String {
    let tail = id.rsplit('-').next().unwrap_or(id);
    format!("{prefix}-{tail}")
}

impl Exporter<'_> {
    fn account(&self, o: &Origin) -> String {
        self.m
            .templates
            .get(o.template)
            .map(|t| t.account_id.clone())
            .unwrap_or_default()
    }

    /// `Tags`/`TagSet` with the Name tag and, for names that are not the AWS id, the
    /// CloudFormation logical-id tag AWS puts on stack resources (the loader names them by it).
    fn tags(&self, v: &mut Value, o: &Origin, key: &str) {
        self.tags_with(v, o, key, &[]);
    }

    fn tags_with(&self, v: &mut Value, o: &Origin, key: &str, prefixes: &[IpNet]) {
        let mut tags = Vec::new();
        if !prefixes.is_empty() {
            let list: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
            tags.push(json!({"Key": PREFIXES_TAG, "Value": list.join(",")}));
        }
        if let Some(n) = &o.name {
            tags.push(json!({"Key": "Name", "Value": n}));
        }
        if o.logical_id != o.id {
            tags.push(json!({"Key": LOGICAL_ID_TAG, "Value": o.logical_id}));
        }
        v[key] = Value::Array(tags);
    }
}
