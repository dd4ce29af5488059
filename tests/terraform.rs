//! Terraform `terraform show -json` input through the real binary: a state and a plan of the
//! two-tier example trace like the CloudFormation template, other `aws_` types are listed as
//! not simulated, and bad input gives coded errors that name the address and attribute.

mod common;

use common::{example, fixture, root, trace, vpcsim};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn state() -> PathBuf {
    fixture("terraform/two-tier.state.json")
}

fn plan() -> PathBuf {
    fixture("terraform/two-tier.plan.json")
}

/// Template logical id → Terraform address in the state fixture (root module, `for_each` apps).
fn state_names() -> HashMap<&'static str, String> {
    [
        ("Vpc", "aws_vpc.main"),
        ("InternetGateway", "aws_internet_gateway.main"),
        ("PublicSubnetA", "aws_subnet.public[0]"),
        ("PublicSubnetB", "aws_subnet.public[1]"),
        ("PrivateSubnetA", "aws_subnet.private[0]"),
        ("PrivateSubnetB", "aws_subnet.private[1]"),
        ("PublicRouteTable", "aws_route_table.public"),
        ("PrivateRouteTable", "aws_route_table.private"),
        ("PublicDefaultRoute", "aws_route_table.public.route[0]"),
        ("PrivateDefaultRoute", "aws_route.private_default"),
        ("NatEip", "aws_eip.nat"),
        ("NatGateway", "aws_nat_gateway.main"),
        ("PublicNacl", "aws_network_acl.public"),
        ("PrivateNacl", "aws_network_acl.private"),
        ("WebSg", "aws_security_group.web"),
        ("AppSg", "aws_security_group.app"),
        ("AppSg2", "aws_security_group.app_peers"),
        ("WebInstance", "aws_instance.web"),
        ("WebEip", "aws_eip.web"),
        ("AppInstanceA", "aws_instance.app[\"a\"]"),
        ("AppInstanceB", "aws_instance.app[\"b\"]"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// The plan fixture: the tiers in `module.network`, the VPC at the root, `count` apps.
fn plan_names() -> HashMap<&'static str, String> {
    state_names()
        .into_iter()
        .map(|(k, v)| {
            let v = v.replace("[\"a\"]", "[0]").replace("[\"b\"]", "[1]");
            let v = if k == "Vpc" {
                v
            } else {
                format!("module.network.{v}")
            };
            (k, v)
        })
        .collect()
}

/// A name of the template's trace in Terraform terms: `WebInstance.eth0` →
/// `aws_instance.web.eth0`; names that are not resources (`internet`) stay.
fn rename(name: &str, names: &HashMap<&str, String>) -> String {
    let (head, tail) = match name.split_once('.') {
        Some((h, t)) => (h, format!(".{t}")),
        None => (name, String::new()),
    };
    match names.get(head) {
        Some(n) => format!("{n}{tail}"),
        None => name.to_string(),
    }
}

/// What must agree between two traces: the verdict, and each hop's resource, stage and
/// action, with route and network ACL rules (security group rules are numbered per resource,
/// and Terraform's inline rules are split differently).
fn summary(v: &Value, names: Option<&HashMap<&str, String>>) -> Value {
    let name = |s: &Value| {
        let s = s.as_str().unwrap_or("");
        names.map(|n| rename(s, n)).unwrap_or_else(|| s.to_string())
    };
    let words = |s: &Value| {
        let s = s.as_str().unwrap_or("");
        let mapped: Vec<String> = s
            .split(' ')
            .map(|w| {
                // Routes name their resource in parentheses: `(PrivateDefaultRoute)`.
                let bare = w.trim_start_matches('(').trim_end_matches(')');
                let mapped = names
                    .map(|n| rename(bare, n))
                    .unwrap_or_else(|| bare.to_string());
                w.replace(bare, &mapped)
            })
            .collect();
        mapped.join(" ")
    };
    let hops: Vec<Value> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let stage = h["stage"].as_str().unwrap_or("");
            let rule = if stage.starts_with("sg-") {
                Value::Null
            } else {
                json!(words(&h["rule"]))
            };
            json!({"resource": name(&h["resource"]), "stage": stage, "action": h["action"], "rule": rule})
        })
        .collect();
    json!({
        "disposition": v["disposition"],
        "reason": v["reason"],
        "at": name(&v["at"]),
        "hops": hops,
        "reply": v.get("reply").map(|r| summary(r, names)),
    })
}

const FLOWS: &[(&str, &[&str])] = &[
    // Internet to the web server's Elastic IP: allowed ports, SSH from the admin range only.
    ("tcp 198.51.100.7:50000 -> 198.18.0.3:443", &["--return"]),
    ("tcp 203.0.113.9:50000 -> 198.18.0.3:22", &[]),
    ("tcp 198.51.100.7:50000 -> 198.18.0.3:22", &[]),
    ("tcp 198.51.100.7:50000 -> 198.18.0.3:8080", &[]),
    // Web to app tier by group reference; app to app through the peers group.
    ("tcp 10.0.1.20:40000 -> 10.0.2.30:8080", &["--return"]),
    ("tcp 10.0.1.20:40000 -> 10.0.3.4:8080", &[]),
    ("tcp 10.0.1.20:40000 -> 10.0.2.30:22", &[]),
    ("tcp 10.0.2.30:40000 -> 10.0.3.4:8080", &[]),
    ("icmp 10.0.3.4 -> 10.0.2.30", &[]),
    // App tier out through the NAT gateway, and what its groups and ACLs refuse.
    ("tcp 10.0.2.30:40000 -> 93.184.216.34:443", &["--return"]),
    ("udp 10.0.3.4:40000 -> 8.8.8.8:53", &[]),
    ("tcp 10.0.2.30:40000 -> 93.184.216.34:22", &[]),
    ("tcp 198.51.100.7:50000 -> 10.0.2.30:8080", &[]),
];

fn assert_traces_like_template(topology: &Path, names: &HashMap<&str, String>) {
    for (flow, extra) in FLOWS {
        let want = summary(&trace(&example(), flow, extra), Some(names));
        let got = summary(&trace(topology, flow, extra), None);
        assert_eq!(got, want, "{flow} on {}", topology.display());
    }
}

#[test]
fn terraform_state_traces_like_the_template() {
    assert_traces_like_template(&state(), &state_names());
}

#[test]
fn terraform_plan_traces_like_the_template() {
    assert_traces_like_template(&plan(), &plan_names());
}

#[test]
fn hops_are_named_by_terraform_address() {
    let v = trace(&plan(), "tcp 10.0.2.30:40000 -> 93.184.216.34:443", &[]);
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    let hops: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["resource"].as_str())
        .collect();
    assert!(
        hops.contains(&"module.network.aws_instance.app[0]"),
        "{hops:?}"
    );
    assert!(
        hops.contains(&"module.network.aws_nat_gateway.main"),
        "{hops:?}"
    );
    let v = trace(
        &state(),
        "tcp 10.0.1.20:40000 -> 10.0.2.30:8080",
        &["--from", "aws_instance.web"],
    );
    assert_eq!(v["at"], "aws_instance.app[\"a\"]", "{v:#}");
}

#[test]
fn unsupported_aws_types_are_listed_as_not_simulated() {
    let out = vpcsim(["validate", "-t", state().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("not simulated (1;"), "{}", out.stdout);
    assert!(
        out.stdout.contains("aws_s3_bucket.logs (aws_s3_bucket)"),
        "{}",
        out.stdout
    );
    let out = vpcsim(["validate", "-t", plan().to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["unsupported"],
        json!([{"type": "aws_s3_bucket", "logical_id": "aws_s3_bucket.logs"}])
    );
    assert_eq!(v["resources"]["AWS::EC2::Instance"], 3, "{v:#}");
    assert_eq!(v["resources"]["AWS::EC2::NatGateway"], 1, "{v:#}");
    assert_eq!(v["vpcs"][0]["vpc"], "aws_vpc.main", "{v:#}");
}

/// A state document holding `resources` in the root module.
fn state_doc(resources: Value) -> Value {
    json!({
        "format_version": "1.0",
        "terraform_version": "1.5.7",
        "values": {"root_module": {"resources": resources}}
    })
}

fn resource(type_: &str, name: &str, values: Value) -> Value {
    json!({
        "address": format!("{type_}.{name}"),
        "mode": "managed",
        "type": type_,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0,
        "values": values,
    })
}

fn vpc() -> Value {
    resource(
        "aws_vpc",
        "main",
        json!({"id": "vpc-0123", "cidr_block": "10.1.0.0/16"}),
    )
}

/// `validate --json` of a document written to a temporary file: (exit code, errors, warnings).
fn validate(doc: &Value) -> (i32, Vec<Value>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tf.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = vpcsim(["validate", "--json", "-t", path.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    (out.code, list("errors"), list("warnings"))
}

fn only_error(doc: &Value) -> Value {
    let (code, errors, _) = validate(doc);
    assert_eq!(code, 2, "{errors:?}");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors[0].clone()
}

#[test]
fn unknown_id_in_state_is_an_unresolved_reference() {
    let doc = state_doc(json!([
        vpc(),
        resource(
            "aws_subnet",
            "a",
            json!({"id": "subnet-1", "vpc_id": "vpc-elsewhere", "cidr_block": "10.1.1.0/24"})
        ),
        // Refers to the subnet that failed: left out without a second error.
        resource(
            "aws_route_table_association",
            "a",
            json!({"id": "rtbassoc-1", "subnet_id": "subnet-1", "route_table_id": "rtb-1"})
        ),
        resource(
            "aws_route_table",
            "a",
            json!({"id": "rtb-1", "vpc_id": "vpc-0123", "route": []})
        ),
    ]));
    let e = only_error(&doc);
    assert_eq!(e["code"], "UnresolvedReference");
    assert_eq!(e["logical_id"], "aws_subnet.a");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.starts_with("vpc_id = vpc-elsewhere:"), "{msg}");
}

#[test]
fn unsupported_format_version_is_invalid_terraform() {
    let doc = json!({"format_version": "2.0", "terraform_version": "9.0.0", "values": {}});
    let e = only_error(&doc);
    assert_eq!(e["code"], "InvalidTerraform");
    assert!(e["message"].as_str().unwrap().contains("2.0"), "{e}");
}

/// A plan creating `resources` (all in the root module) with `after_unknown` per address.
fn plan_doc(resources: Value, unknown: Value, config: Value) -> Value {
    let changes: Vec<Value> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = r["address"].as_str().unwrap();
            json!({"address": a, "mode": "managed", "type": r["type"], "name": r["name"],
                   "change": {"actions": ["create"], "before": null, "after": r["values"],
                              "after_unknown": unknown.get(a).cloned().unwrap_or(json!({}))}})
        })
        .collect();
    json!({
        "format_version": "1.2",
        "terraform_version": "1.5.7",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": config}},
    })
}

#[test]
fn unknown_cidr_in_plan_is_an_unknown_value() {
    let doc = plan_doc(
        json!([resource(
            "aws_vpc",
            "main",
            json!({"enable_dns_support": true})
        )]),
        json!({"aws_vpc.main": {"id": true, "cidr_block": true}}),
        json!([{"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc", "name": "main",
                "expressions": {"ipv4_ipam_pool_id": {"references": ["aws_vpc_ipam_pool.main.id"]}}}]),
    );
    let e = only_error(&doc);
    assert_eq!(e["code"], "InvalidTerraform.UnknownValue");
    assert_eq!(e["logical_id"], "aws_vpc.main");
    assert!(
        e["message"].as_str().unwrap().starts_with("cidr_block "),
        "{e}"
    );
}

#[test]
fn plan_reference_to_a_data_source_is_unresolved() {
    let doc = plan_doc(
        json!([resource(
            "aws_subnet",
            "a",
            json!({"cidr_block": "10.1.1.0/24"})
        )]),
        json!({"aws_subnet.a": {"id": true, "vpc_id": true}}),
        json!([{"address": "aws_subnet.a", "mode": "managed", "type": "aws_subnet", "name": "a",
                "expressions": {"vpc_id": {"references": ["data.aws_vpc.shared.id", "data.aws_vpc.shared"]}}}]),
    );
    let e = only_error(&doc);
    assert_eq!(e["code"], "UnresolvedReference");
    assert_eq!(e["logical_id"], "aws_subnet.a");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("vpc_id is known only after apply"),
        "{e}"
    );
}

#[test]
fn association_without_subnet_or_gateway_is_a_missing_attribute() {
    let doc = state_doc(json!([
        vpc(),
        resource(
            "aws_route_table",
            "a",
            json!({"id": "rtb-1", "vpc_id": "vpc-0123"})
        ),
        resource(
            "aws_route_table_association",
            "a",
            json!({"id": "rtbassoc-1", "route_table_id": "rtb-1", "subnet_id": ""})
        ),
    ]));
    let e = only_error(&doc);
    assert_eq!(e["code"], "InvalidTerraform.MissingAttribute");
    assert_eq!(e["logical_id"], "aws_route_table_association.a");
}

#[test]
fn rule_of_unknown_type_is_an_invalid_attribute() {
    let doc = state_doc(json!([
        vpc(),
        resource(
            "aws_security_group",
            "a",
            json!({"id": "sg-1", "vpc_id": "vpc-0123", "ingress": [], "egress": []})
        ),
        resource(
            "aws_security_group_rule",
            "a",
            json!({"type": "sideways", "security_group_id": "sg-1", "protocol": "tcp", "from_port": 1, "to_port": 2, "cidr_blocks": ["10.0.0.0/8"]})
        ),
    ]));
    let e = only_error(&doc);
    assert_eq!(e["code"], "InvalidTerraform.InvalidAttribute");
    assert_eq!(e["logical_id"], "aws_security_group_rule.a");
    assert!(e["message"].as_str().unwrap().starts_with("type "), "{e}");
}

#[test]
fn group_attached_to_an_instance_interface_is_unsupported() {
    let doc = state_doc(json!([
        vpc(),
        resource(
            "aws_security_group",
            "a",
            json!({"id": "sg-1", "vpc_id": "vpc-0123"})
        ),
        resource(
            "aws_subnet",
            "a",
            json!({"id": "subnet-1", "vpc_id": "vpc-0123", "cidr_block": "10.1.1.0/24"})
        ),
        resource(
            "aws_instance",
            "a",
            json!({"id": "i-1", "subnet_id": "subnet-1", "vpc_security_group_ids": []})
        ),
        resource(
            "aws_network_interface_sg_attachment",
            "a",
            json!({"security_group_id": "sg-1", "network_interface_id": "i-1"})
        ),
    ]));
    let e = only_error(&doc);
    assert_eq!(e["code"], "InvalidTerraform.UnsupportedAttachment");
    assert_eq!(e["logical_id"], "aws_network_interface_sg_attachment.a");
}

#[test]
fn duplicate_address_warns_and_keeps_the_first() {
    let doc = state_doc(json!([vpc(), vpc()]));
    let (code, errors, warnings) = validate(&doc);
    assert_eq!(code, 0, "{errors:?}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["code"], "InvalidTerraform.Duplicate");
    assert_eq!(warnings[0]["logical_id"], "aws_vpc.main");
}

#[test]
fn builder_errors_name_the_terraform_address() {
    // A subnet outside its VPC: the model builder's own check, named by address.
    let doc = state_doc(json!([
        vpc(),
        resource(
            "aws_subnet",
            "outside",
            json!({"id": "subnet-1", "vpc_id": "vpc-0123", "cidr_block": "10.9.1.0/24"})
        ),
    ]));
    let e = only_error(&doc);
    assert_eq!(e["logical_id"], "aws_subnet.outside");
    assert!(
        e["code"].as_str().unwrap().starts_with("InvalidSubnet"),
        "{e}"
    );
}

#[test]
fn sg_attachment_joins_the_interface_groups() {
    let doc = state_doc(json!([
        vpc(),
        resource(
            "aws_subnet",
            "a",
            json!({"id": "subnet-1", "vpc_id": "vpc-0123", "cidr_block": "10.1.1.0/24"})
        ),
        resource(
            "aws_security_group",
            "ssh",
            json!({"id": "sg-1", "vpc_id": "vpc-0123",
            "ingress": [{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.1.0.0/16"], "security_groups": [], "self": false}],
            "egress": []})
        ),
        resource(
            "aws_network_interface",
            "a",
            json!({"id": "eni-1", "subnet_id": "subnet-1", "private_ip": "10.1.1.10", "private_ips": ["10.1.1.10"], "security_groups": []})
        ),
        resource(
            "aws_network_interface_sg_attachment",
            "a",
            json!({"security_group_id": "sg-1", "network_interface_id": "eni-1"})
        ),
        resource(
            "aws_security_group",
            "out",
            json!({"id": "sg-2", "vpc_id": "vpc-0123", "ingress": [],
            "egress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"], "security_groups": [], "self": false}]})
        ),
        resource(
            "aws_network_interface",
            "b",
            json!({"id": "eni-2", "subnet_id": "subnet-1", "private_ip": "10.1.1.11", "private_ips": ["10.1.1.11"], "security_groups": ["sg-2"]})
        ),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eni.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    // Without the attachment the interface would have only the VPC's default group.
    let v = trace(&path, "tcp 10.1.1.11:40000 -> 10.1.1.10:22", &[]);
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    assert_eq!(v["at"], "aws_network_interface.a", "{v:#}");
    let v = trace(&path, "tcp 10.1.1.11:40000 -> 10.1.1.10:23", &[]);
    assert_eq!(v["disposition"], "DROPPED", "{v:#}");
    assert_eq!(
        v["hops"].as_array().unwrap().last().unwrap()["resource"],
        "aws_security_group.ssh",
        "{v:#}"
    );
}

#[test]
fn peering_transit_gateway_vpn_and_endpoint_from_state() {
    let f = fixture("terraform/peering-tgw-vpn.state.json");
    let cases = [
        // Peering, the transit gateway (default route table), none between b and c.
        (
            "tcp 10.1.1.10:40000 -> 10.2.1.10:22",
            "DELIVERED",
            "aws_instance.b",
        ),
        (
            "tcp 10.1.1.10:40000 -> 10.3.1.10:22",
            "DELIVERED",
            "aws_instance.c",
        ),
        (
            "tcp 10.2.1.10:40000 -> 10.3.1.10:22",
            "DROPPED",
            "aws_route_table.b",
        ),
        // From the office over the VPN; b's group admits it through the managed prefix list.
        (
            "tcp 192.168.1.5:40000 -> 10.2.1.10:22",
            "DELIVERED",
            "aws_instance.b",
        ),
        // S3 through the gateway endpoint of a's route table.
        (
            "tcp 10.1.1.10:40000 -> 52.216.1.1:443",
            "EXITED",
            "aws_vpc_endpoint.s3",
        ),
    ];
    for (flow, disposition, at) in cases {
        let v = trace(&f, flow, &[]);
        assert_eq!(v["disposition"], disposition, "{flow}: {v:#}");
        assert_eq!(v["at"], at, "{flow}: {v:#}");
    }
    let out = vpcsim(["validate", "-t", f.to_str().unwrap()]);
    assert!(
        out.stdout
            .contains("aws_default_security_group.a (aws_default_security_group)"),
        "{}",
        out.stdout
    );
    // Its rules would replace the default group's: a trace could differ from AWS, so it warns.
    assert!(
        out.stdout.contains("aws_default_security_group.a: UnsupportedResource: not simulated: the VPC's default security group keeps its default rules"),
        "{}",
        out.stdout
    );
}

#[test]
fn network_load_balancer_with_attachments_forwards_to_targets() {
    let sg_all = json!([{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["10.4.0.0/16"],
                         "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}]);
    let doc = state_doc(json!([
        resource(
            "aws_vpc",
            "main",
            json!({"id": "vpc-4", "cidr_block": "10.4.0.0/16"})
        ),
        resource(
            "aws_subnet",
            "a",
            json!({"id": "subnet-4", "vpc_id": "vpc-4", "cidr_block": "10.4.1.0/24", "availability_zone": "us-east-1a"})
        ),
        resource(
            "aws_security_group",
            "all",
            json!({"id": "sg-4", "vpc_id": "vpc-4", "ingress": sg_all, "egress": sg_all})
        ),
        resource(
            "aws_instance",
            "client",
            json!({"id": "i-c", "subnet_id": "subnet-4", "private_ip": "10.4.1.10", "vpc_security_group_ids": ["sg-4"]})
        ),
        resource(
            "aws_instance",
            "web",
            json!({"id": "i-w", "subnet_id": "subnet-4", "private_ip": "10.4.1.20", "vpc_security_group_ids": ["sg-4"]})
        ),
        resource(
            "aws_lb",
            "internal",
            json!({"id": "arn:lb/4", "arn": "arn:lb/4", "name": "internal", "load_balancer_type": "network", "internal": true,
            "subnets": ["subnet-4"], "subnet_mapping": [{"subnet_id": "subnet-4", "private_ipv4_address": "10.4.1.100", "allocation_id": ""}]})
        ),
        resource(
            "aws_lb_target_group",
            "web",
            json!({"id": "arn:tg/4", "arn": "arn:tg/4", "name": "web", "port": 80, "protocol": "TCP", "target_type": "instance", "vpc_id": "vpc-4"})
        ),
        resource(
            "aws_lb_target_group_attachment",
            "web",
            json!({"id": "att-1", "target_group_arn": "arn:tg/4", "target_id": "i-w", "port": 80})
        ),
        resource(
            "aws_lb_listener",
            "tcp80",
            json!({"id": "arn:listener/4", "arn": "arn:listener/4", "load_balancer_arn": "arn:lb/4", "port": 80, "protocol": "TCP",
            "default_action": [{"type": "forward", "target_group_arn": "arn:tg/4"}]})
        ),
    ]));
    let (code, errors, _) = validate(&doc);
    assert_eq!(code, 0, "{errors:#?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nlb.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let v = trace(&path, "tcp 10.4.1.10:40000 -> 10.4.1.100:80", &[]);
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    assert_eq!(v["at"], "aws_instance.web", "{v:#}");
    let hops: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["resource"].as_str())
        .collect();
    assert!(hops.contains(&"aws_lb_listener.tcp80"), "{hops:?}");
    assert!(hops.contains(&"aws_lb_target_group.web"), "{hops:?}");
}

#[test]
fn attachment_opting_out_of_default_tables_warns() {
    let doc = state_doc(json!([
        vpc(),
        resource(
            "aws_subnet",
            "a",
            json!({"id": "subnet-1", "vpc_id": "vpc-0123", "cidr_block": "10.1.1.0/24"})
        ),
        resource("aws_ec2_transit_gateway", "hub", json!({"id": "tgw-1"})),
        resource(
            "aws_ec2_transit_gateway_vpc_attachment",
            "a",
            json!({"id": "tgw-attach-1", "transit_gateway_id": "tgw-1",
            "vpc_id": "vpc-0123", "subnet_ids": ["subnet-1"], "transit_gateway_default_route_table_propagation": false})
        ),
    ]));
    let (code, errors, warnings) = validate(&doc);
    assert_eq!(code, 0, "{errors:?}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["code"], "UnsupportedAttribute");
    assert_eq!(
        warnings[0]["logical_id"],
        "aws_ec2_transit_gateway_vpc_attachment.a"
    );
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("transit_gateway_default_route_table_propagation = false"));
}

/// A VPC and an office behind a VPN on a transit gateway with its own route table, whose route
/// to the office names the VPN connection's `transit_gateway_attachment_id`.
fn tgw_vpn_resources(state: bool) -> Vec<Value> {
    let id = |s: &str| if state { json!(s) } else { Value::Null };
    let sg_all = json!([{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"],
                         "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}]);
    let route = json!([{"cidr_block": "192.168.0.0/16", "transit_gateway_id": id("tgw-1"), "gateway_id": ""}]);
    vec![
        resource(
            "aws_vpc",
            "main",
            json!({"id": id("vpc-1"), "cidr_block": "10.1.0.0/16"}),
        ),
        resource(
            "aws_subnet",
            "a",
            json!({"id": id("subnet-1"), "vpc_id": id("vpc-1"), "cidr_block": "10.1.1.0/24"}),
        ),
        resource(
            "aws_security_group",
            "all",
            json!({"id": id("sg-1"), "vpc_id": id("vpc-1"), "ingress": sg_all, "egress": sg_all}),
        ),
        resource(
            "aws_instance",
            "a",
            json!({"id": id("i-1"), "subnet_id": id("subnet-1"), "private_ip": "10.1.1.10", "vpc_security_group_ids": [id("sg-1")]}),
        ),
        resource(
            "aws_ec2_transit_gateway",
            "hub",
            json!({"id": id("tgw-1"), "default_route_table_association": "disable", "default_route_table_propagation": "disable"}),
        ),
        resource(
            "aws_ec2_transit_gateway_vpc_attachment",
            "main",
            json!({"id": id("tgw-attach-1"), "transit_gateway_id": id("tgw-1"), "vpc_id": id("vpc-1"), "subnet_ids": [id("subnet-1")]}),
        ),
        resource(
            "aws_route_table",
            "a",
            json!({"id": id("rtb-1"), "vpc_id": id("vpc-1"), "route": if state { route } else { Value::Null }}),
        ),
        resource(
            "aws_route_table_association",
            "a",
            json!({"id": id("rtbassoc-1"), "subnet_id": id("subnet-1"), "route_table_id": id("rtb-1")}),
        ),
        resource(
            "aws_customer_gateway",
            "office",
            json!({"id": id("cgw-1"), "ip_address": "203.0.113.10", "bgp_asn": "65000", "type": "ipsec.1",
            "tags": {"vpcsim:prefixes": "192.168.0.0/16"}}),
        ),
        resource(
            "aws_vpn_connection",
            "office",
            json!({"id": id("vpn-1"), "customer_gateway_id": id("cgw-1"), "transit_gateway_id": id("tgw-1"),
            "static_routes_only": true, "type": "ipsec.1", "transit_gateway_attachment_id": id("tgw-attach-vpn")}),
        ),
        resource(
            "aws_ec2_transit_gateway_route_table",
            "main",
            json!({"id": id("tgw-rtb-1"), "transit_gateway_id": id("tgw-1")}),
        ),
        resource(
            "aws_ec2_transit_gateway_route_table_association",
            "main",
            json!({"id": id("a1"), "transit_gateway_attachment_id": id("tgw-attach-1"), "transit_gateway_route_table_id": id("tgw-rtb-1")}),
        ),
        resource(
            "aws_ec2_transit_gateway_route",
            "office",
            json!({"id": id("r1"), "destination_cidr_block": "192.168.0.0/16",
            "transit_gateway_attachment_id": id("tgw-attach-vpn"), "transit_gateway_route_table_id": id("tgw-rtb-1")}),
        ),
    ]
}

fn assert_vpn_route_through_attachment_id(doc: &Value) {
    let (code, errors, _) = validate(doc);
    assert_eq!(code, 0, "{errors:#?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tgw.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let v = trace(&path, "tcp 10.1.1.10:40000 -> 192.168.1.5:22", &[]);
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    assert_eq!(v["at"], "aws_vpn_connection.office", "{v:#}");
}

#[test]
fn vpn_attachment_id_of_a_state_names_the_connection() {
    assert_vpn_route_through_attachment_id(&state_doc(json!(tgw_vpn_resources(true))));
}

#[test]
fn vpn_attachment_id_in_a_plan_follows_the_reference() {
    let resources = tgw_vpn_resources(false);
    let refs =
        |attr: &str, target: &str| json!({attr: {"references": [format!("{target}.id"), target]}});
    let mut config = Vec::new();
    let mut unknown = serde_json::Map::new();
    let links: &[(&str, &[(&str, &str)])] = &[
        ("aws_subnet.a", &[("vpc_id", "aws_vpc.main")]),
        ("aws_security_group.all", &[("vpc_id", "aws_vpc.main")]),
        (
            "aws_instance.a",
            &[
                ("subnet_id", "aws_subnet.a"),
                ("vpc_security_group_ids", "aws_security_group.all"),
            ],
        ),
        (
            "aws_ec2_transit_gateway_vpc_attachment.main",
            &[
                ("transit_gateway_id", "aws_ec2_transit_gateway.hub"),
                ("vpc_id", "aws_vpc.main"),
                ("subnet_ids", "aws_subnet.a"),
            ],
        ),
        ("aws_route_table.a", &[("vpc_id", "aws_vpc.main")]),
        (
            "aws_route_table_association.a",
            &[
                ("subnet_id", "aws_subnet.a"),
                ("route_table_id", "aws_route_table.a"),
            ],
        ),
        (
            "aws_vpn_connection.office",
            &[
                ("customer_gateway_id", "aws_customer_gateway.office"),
                ("transit_gateway_id", "aws_ec2_transit_gateway.hub"),
            ],
        ),
        (
            "aws_ec2_transit_gateway_route_table.main",
            &[("transit_gateway_id", "aws_ec2_transit_gateway.hub")],
        ),
        (
            "aws_ec2_transit_gateway_route_table_association.main",
            &[
                (
                    "transit_gateway_attachment_id",
                    "aws_ec2_transit_gateway_vpc_attachment.main",
                ),
                (
                    "transit_gateway_route_table_id",
                    "aws_ec2_transit_gateway_route_table.main",
                ),
            ],
        ),
        (
            "aws_ec2_transit_gateway_route.office",
            &[(
                "transit_gateway_route_table_id",
                "aws_ec2_transit_gateway_route_table.main",
            )],
        ),
    ];
    for r in &resources {
        let a = r["address"].as_str().unwrap();
        let mut exprs = serde_json::Map::new();
        let mut u = serde_json::Map::new();
        u.insert("id".into(), json!(true));
        for (attr, target) in links
            .iter()
            .find(|(x, _)| *x == a)
            .map(|(_, l)| *l)
            .unwrap_or(&[])
        {
            exprs.extend(refs(attr, target).as_object().unwrap().clone());
            u.insert(attr.to_string(), json!(true));
        }
        if a == "aws_ec2_transit_gateway_route.office" {
            exprs.insert("transit_gateway_attachment_id".into(), json!({"references": [
                "aws_vpn_connection.office.transit_gateway_attachment_id", "aws_vpn_connection.office"]}));
            u.insert("transit_gateway_attachment_id".into(), json!(true));
        }
        if a == "aws_route_table.a" {
            exprs.insert("route".into(), json!([{"cidr_block": {"constant_value": "192.168.0.0/16"},
                "transit_gateway_id": {"references": ["aws_ec2_transit_gateway.hub.id", "aws_ec2_transit_gateway.hub"]}}]));
            u.insert("route".into(), json!(true));
        }
        unknown.insert(a.to_string(), Value::Object(u));
        config.push(json!({"address": a, "mode": "managed", "type": r["type"], "name": r["name"], "expressions": exprs}));
    }
    // Unknown values are absent from planned values.
    let resources: Vec<Value> = resources
        .into_iter()
        .map(|mut r| {
            let v = r["values"].as_object_mut().unwrap();
            v.retain(|_, x| {
                !x.is_null() && !x.as_array().is_some_and(|a| a.iter().all(Value::is_null))
            });
            r
        })
        .collect();
    let doc = plan_doc(json!(resources), Value::Object(unknown), json!(config));
    assert_vpn_route_through_attachment_id(&doc);
}

#[test]
fn malformed_resources_are_skipped_or_reported_without_panicking() {
    let doc = json!({
        "format_version": "1.0",
        "terraform_version": "1.5.7",
        "values": {"root_module": {
            "resources": [1, "x", {"address": 5}, {"mode": "managed", "type": "aws_vpc"},
                          {"address": "aws_vpc.v", "mode": "managed", "type": "aws_vpc", "name": "v", "values": "nope"}],
            "child_modules": [{"address": "module.m", "resources": {"not": "a list"}}, 7]
        }}
    });
    let e = only_error(&doc);
    assert_eq!(e["logical_id"], "aws_vpc.v");
    assert_eq!(e["code"], "InvalidTerraform.MissingAttribute");
    let (code, errors, _) =
        validate(&json!({"format_version": "1.0", "terraform_version": "1.5.7"}));
    assert_eq!(code, 0, "{errors:?}");
}

#[test]
fn terraform_and_templates_load_together() {
    let out = vpcsim([
        "validate",
        "--json",
        "-t",
        state().to_str().unwrap(),
        "-t",
        root().join("examples/endpoints.yaml").to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["templates"].as_array().unwrap().len(), 2, "{v:#}");
    assert_eq!(v["templates"][0]["stack"], "two-tier.state", "{v:#}");
}

#[test]
fn ipv6_blocks_of_a_state_are_kept() {
    let sg = json!([{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"],
                     "ipv6_cidr_blocks": ["::/0"], "prefix_list_ids": [], "security_groups": [], "self": false}]);
    let doc = state_doc(json!([
        resource(
            "aws_vpc",
            "v",
            json!({"id": "vpc-6", "cidr_block": "10.6.0.0/16",
            "assign_generated_ipv6_cidr_block": true, "ipv6_cidr_block": "2600:1f18:abc:de00::/56"})
        ),
        resource(
            "aws_subnet",
            "a",
            json!({"id": "subnet-6", "vpc_id": "vpc-6", "cidr_block": "10.6.1.0/24",
            "ipv6_cidr_block": "2600:1f18:abc:de01::/64", "assign_ipv6_address_on_creation": true})
        ),
        resource(
            "aws_security_group",
            "all",
            json!({"id": "sg-6", "vpc_id": "vpc-6", "ingress": sg, "egress": sg})
        ),
        resource(
            "aws_instance",
            "a",
            json!({"id": "i-a", "subnet_id": "subnet-6", "private_ip": "10.6.1.10",
            "ipv6_addresses": ["2600:1f18:abc:de01::10"], "vpc_security_group_ids": ["sg-6"]})
        ),
        resource(
            "aws_egress_only_internet_gateway",
            "e",
            json!({"id": "eigw-6", "vpc_id": "vpc-6"})
        ),
        resource(
            "aws_route_table",
            "r",
            json!({"id": "rtb-6", "vpc_id": "vpc-6",
            "route": [{"ipv6_cidr_block": "::/0", "egress_only_gateway_id": "eigw-6", "cidr_block": ""}]})
        ),
        resource(
            "aws_route_table_association",
            "r",
            json!({"subnet_id": "subnet-6", "route_table_id": "rtb-6"})
        ),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let v = trace(
        &path,
        "tcp [2600:1f18:abc:de01::10]:40000 -> [2001:db8::1]:443",
        &[],
    );
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    assert_eq!(v["at"], "aws_egress_only_internet_gateway.e", "{v:#}");
}

/// Two peered VPCs with an instance each; a's route to b names the peering through its
/// accepter, which comes first in the file.
fn peered_vpcs(state: bool) -> (Vec<Value>, Value, Value) {
    let id = |s: &str| if state { json!(s) } else { Value::Null };
    let sg = json!([{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["10.0.0.0/8"],
                     "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}]);
    let mut resources = vec![resource(
        "aws_vpc_peering_connection_accepter",
        "b",
        json!({"id": id("pcx-1"), "vpc_peering_connection_id": id("pcx-1"), "auto_accept": true}),
    )];
    let mut config = vec![
        json!({"address": "aws_vpc_peering_connection_accepter.b", "mode": "managed",
        "type": "aws_vpc_peering_connection_accepter", "name": "b",
        "expressions": {"vpc_peering_connection_id": {"references": ["aws_vpc_peering_connection.a_b.id", "aws_vpc_peering_connection.a_b"]}}}),
    ];
    let mut unknown = serde_json::Map::new();
    unknown.insert(
        "aws_vpc_peering_connection_accepter.b".into(),
        json!({"id": true, "vpc_peering_connection_id": true}),
    );
    for (k, n, peer) in [("a", "7", "8"), ("b", "8", "7")] {
        let vpc = format!("aws_vpc.{k}");
        let list = [
            resource(
                "aws_vpc",
                k,
                json!({"id": id(&format!("vpc-{k}")), "cidr_block": format!("10.{n}.0.0/16")}),
            ),
            resource(
                "aws_subnet",
                k,
                json!({"id": id(&format!("subnet-{k}")), "vpc_id": id(&format!("vpc-{k}")), "cidr_block": format!("10.{n}.1.0/24")}),
            ),
            resource(
                "aws_security_group",
                k,
                json!({"id": id(&format!("sg-{k}")), "vpc_id": id(&format!("vpc-{k}")), "ingress": sg, "egress": sg}),
            ),
            resource(
                "aws_instance",
                k,
                json!({"id": id(&format!("i-{k}")), "subnet_id": id(&format!("subnet-{k}")), "private_ip": format!("10.{n}.1.10"),
                "vpc_security_group_ids": if state { json!([format!("sg-{k}")]) } else { Value::Null }}),
            ),
            resource(
                "aws_route_table",
                k,
                json!({"id": id(&format!("rtb-{k}")), "vpc_id": id(&format!("vpc-{k}")), "route": []}),
            ),
            resource(
                "aws_route",
                k,
                json!({"route_table_id": id(&format!("rtb-{k}")), "destination_cidr_block": format!("10.{peer}.0.0/16"),
                "vpc_peering_connection_id": id("pcx-1")}),
            ),
            resource(
                "aws_route_table_association",
                k,
                json!({"subnet_id": id(&format!("subnet-{k}")), "route_table_id": id(&format!("rtb-{k}"))}),
            ),
        ];
        let r = |a: &str, t: &str| json!({a: {"references": [format!("{t}.id"), t.to_string()]}});
        let links: [(&str, Vec<Value>); 7] = [
            ("aws_vpc", vec![]),
            ("aws_subnet", vec![r("vpc_id", &vpc)]),
            ("aws_security_group", vec![r("vpc_id", &vpc)]),
            (
                "aws_instance",
                vec![
                    r("subnet_id", &format!("aws_subnet.{k}")),
                    r("vpc_security_group_ids", &format!("aws_security_group.{k}")),
                ],
            ),
            ("aws_route_table", vec![r("vpc_id", &vpc)]),
            (
                "aws_route",
                vec![
                    r("route_table_id", &format!("aws_route_table.{k}")),
                    // a names the accepter, b the requester.
                    r(
                        "vpc_peering_connection_id",
                        if k == "a" {
                            "aws_vpc_peering_connection_accepter.b"
                        } else {
                            "aws_vpc_peering_connection.a_b"
                        },
                    ),
                ],
            ),
            (
                "aws_route_table_association",
                vec![
                    r("subnet_id", &format!("aws_subnet.{k}")),
                    r("route_table_id", &format!("aws_route_table.{k}")),
                ],
            ),
        ];
        for (res, (type_, exprs)) in list.into_iter().zip(links) {
            let mut e = serde_json::Map::new();
            let mut u = serde_json::Map::new();
            u.insert("id".into(), json!(true));
            for x in exprs {
                for (a, v) in x.as_object().unwrap() {
                    e.insert(a.clone(), v.clone());
                    u.insert(a.clone(), json!(true));
                }
            }
            let address = format!("{type_}.{k}");
            unknown.insert(address.clone(), Value::Object(u));
            config.push(json!({"address": address, "mode": "managed", "type": type_, "name": k, "expressions": e}));
            resources.push(res);
        }
    }
    resources.push(resource(
        "aws_vpc_peering_connection",
        "a_b",
        json!({"id": id("pcx-1"), "vpc_id": id("vpc-a"), "peer_vpc_id": id("vpc-b")}),
    ));
    unknown.insert(
        "aws_vpc_peering_connection.a_b".into(),
        json!({"id": true, "vpc_id": true, "peer_vpc_id": true}),
    );
    config.push(json!({"address": "aws_vpc_peering_connection.a_b", "mode": "managed", "type": "aws_vpc_peering_connection", "name": "a_b",
        "expressions": {"vpc_id": {"references": ["aws_vpc.a.id", "aws_vpc.a"]}, "peer_vpc_id": {"references": ["aws_vpc.b.id", "aws_vpc.b"]}}}));
    (resources, Value::Object(unknown), json!(config))
}

fn assert_peered(doc: &Value) {
    let (code, errors, _) = validate(doc);
    assert_eq!(code, 0, "{errors:#?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peered.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    for (flow, at) in [
        ("tcp 10.7.1.10:40000 -> 10.8.1.10:22", "aws_instance.b"),
        ("tcp 10.8.1.10:40000 -> 10.7.1.10:22", "aws_instance.a"),
    ] {
        let v = trace(&path, flow, &[]);
        assert_eq!(v["disposition"], "DELIVERED", "{flow}: {v:#}");
        assert_eq!(v["at"], at, "{flow}: {v:#}");
    }
}

#[test]
fn peering_accepter_names_the_connection_in_a_state() {
    let (resources, _, _) = peered_vpcs(true);
    assert_peered(&state_doc(json!(resources)));
}

#[test]
fn peering_accepter_names_the_connection_in_a_plan() {
    let (resources, unknown, config) = peered_vpcs(false);
    let resources: Vec<Value> = resources
        .into_iter()
        .map(|mut r| {
            r["values"]
                .as_object_mut()
                .unwrap()
                .retain(|_, x| !x.is_null());
            r
        })
        .collect();
    assert_peered(&plan_doc(json!(resources), unknown, config));
}

/// Two VPCs on two transit gateways peered by `aws_ec2_transit_gateway_peering_attachment`,
/// accepted by `aws_ec2_transit_gateway_peering_attachment_accepter` (same id), each side's
/// association and static route naming the attachment.
fn tgw_peering_state() -> Value {
    let sg_all = json!([{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"],
                         "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}]);
    let mut res = Vec::new();
    for (s, n) in [("a", 1), ("b", 2)] {
        let route = json!([{"cidr_block": "10.0.0.0/8", "transit_gateway_id": format!("tgw-{s}"), "gateway_id": ""}]);
        res.extend([
            resource("aws_vpc", s, json!({"id": format!("vpc-{s}"), "cidr_block": format!("10.{n}.0.0/16")})),
            resource("aws_subnet", s, json!({"id": format!("subnet-{s}"), "vpc_id": format!("vpc-{s}"), "cidr_block": format!("10.{n}.1.0/24")})),
            resource("aws_security_group", s, json!({"id": format!("sg-{s}"), "vpc_id": format!("vpc-{s}"), "ingress": sg_all, "egress": sg_all})),
            resource("aws_instance", s, json!({"id": format!("i-{s}"), "subnet_id": format!("subnet-{s}"), "private_ip": format!("10.{n}.1.10"), "vpc_security_group_ids": [format!("sg-{s}")]})),
            resource("aws_route_table", s, json!({"id": format!("rtb-{s}"), "vpc_id": format!("vpc-{s}"), "route": route})),
            resource("aws_route_table_association", s, json!({"id": format!("rtbassoc-{s}"), "subnet_id": format!("subnet-{s}"), "route_table_id": format!("rtb-{s}")})),
            resource("aws_ec2_transit_gateway", s, json!({"id": format!("tgw-{s}"), "default_route_table_association": "disable", "default_route_table_propagation": "disable"})),
            resource("aws_ec2_transit_gateway_vpc_attachment", s, json!({"id": format!("tgw-attach-{s}"), "transit_gateway_id": format!("tgw-{s}"), "vpc_id": format!("vpc-{s}"), "subnet_ids": [format!("subnet-{s}")]})),
            resource("aws_ec2_transit_gateway_route_table", s, json!({"id": format!("tgw-rtb-{s}"), "transit_gateway_id": format!("tgw-{s}")})),
            resource("aws_ec2_transit_gateway_route_table_association", s, json!({"id": format!("assoc-{s}"), "transit_gateway_attachment_id": format!("tgw-attach-{s}"), "transit_gateway_route_table_id": format!("tgw-rtb-{s}")})),
            resource("aws_ec2_transit_gateway_route_table_propagation", s, json!({"id": format!("prop-{s}"), "transit_gateway_attachment_id": format!("tgw-attach-{s}"), "transit_gateway_route_table_id": format!("tgw-rtb-{s}")})),
            resource("aws_ec2_transit_gateway_route_table_association", &format!("peering_{s}"), json!({"id": format!("passoc-{s}"), "transit_gateway_attachment_id": "tgw-attach-p", "transit_gateway_route_table_id": format!("tgw-rtb-{s}")})),
            resource("aws_ec2_transit_gateway_route", &format!("across_{s}"), json!({"id": format!("r-{s}"), "destination_cidr_block": format!("10.{}.0.0/16", 3 - n),
                "transit_gateway_attachment_id": "tgw-attach-p", "transit_gateway_route_table_id": format!("tgw-rtb-{s}")})),
        ]);
    }
    res.push(resource(
        "aws_ec2_transit_gateway_peering_attachment",
        "p",
        json!({"id": "tgw-attach-p", "transit_gateway_id": "tgw-a", "peer_transit_gateway_id": "tgw-b",
               "peer_region": "us-east-1", "peer_account_id": "123456789012"}),
    ));
    res.push(resource(
        "aws_ec2_transit_gateway_peering_attachment_accepter",
        "p",
        json!({"id": "tgw-attach-p", "transit_gateway_attachment_id": "tgw-attach-p"}),
    ));
    state_doc(Value::Array(res))
}

#[test]
fn tgw_peering_attachment_and_accepter_from_state() {
    let doc = tgw_peering_state();
    let (code, errors, warnings) = validate(&doc);
    assert_eq!(code, 0, "{errors:#?}");
    assert!(warnings.is_empty(), "{warnings:#?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tgw.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let v = trace(&path, "tcp 10.1.1.10:40000 -> 10.2.1.10:443", &["--return"]);
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    assert_eq!(v["at"], "aws_instance.b", "{v:#}");
    let crossed = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["resource"] == "aws_ec2_transit_gateway_peering_attachment.p");
    assert!(crossed, "{v:#}");
    assert_eq!(v["return"]["disposition"], "DELIVERED", "{v:#}");
}
