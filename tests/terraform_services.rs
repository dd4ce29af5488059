//! `terraform show -json` plans with the services added after the EC2 core, through the
//! binary: Route 53 zones and records (`aws_route53_zone`, `aws_route53_record`) answer and
//! trace like their CloudFormation equivalent.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn plan() -> PathBuf {
    fixture("terraform_services/two-tier-dns.plan.json")
}

/// `examples/two-tier.yaml` with the plan's Route 53 resources.
fn template() -> PathBuf {
    fixture("terraform_services/two-tier-dns.yaml")
}

fn dns(topology: &Path, from: &str, name: &str, rtype: &str) -> Value {
    let o = vpcsim([
        "dns",
        "-t",
        topology.to_str().unwrap(),
        "--from",
        from,
        name,
        rtype,
        "--json",
    ]);
    assert!(o.code == 0 || o.code == 1, "{name}: {}", o.stderr);
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", o.stdout))
}

/// A trace without resource names (the plan names them by Terraform address): the verdict and
/// every hop's stage, action and packet.
fn unnamed(v: &Value) -> Value {
    let hops: Vec<Value> = v["hops"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|h| serde_json::json!([h["stage"], h["action"], h["packet"]]))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({"disposition": v["disposition"], "reason": v["reason"], "hops": hops})
}

#[test]
fn route53_plan_answers_like_the_template() {
    let v = vpcsim(["validate", "-t", plan().to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("1  AWS::Route53::HostedZone"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("6  AWS::Route53::RecordSet"),
        "{}",
        v.stdout
    );
    let mut answered = 0;
    for (from_template, from_plan) in [
        ("AppInstanceA", "module.network.aws_instance.app[0]"),
        ("WebInstance", "module.network.aws_instance.web"),
    ] {
        for (name, rtype) in [
            ("db.internal.example", "A"),
            ("www.internal.example", "A"),
            ("api.internal.example", "A"),
            ("internal.example", "MX"),
            ("nope.internal.example", "A"),
        ] {
            let a = dns(&template(), from_template, name, rtype);
            let b = dns(&plan(), from_plan, name, rtype);
            for key in ["status", "answers", "authority"] {
                assert_eq!(a[key], b[key], "{name} {rtype} {key}\n{a:#}\n{b:#}");
            }
            answered += (a["status"] == "NOERROR") as usize;
        }
    }
    assert_eq!(answered, 8);
}

#[test]
fn route53_plan_names_trace_like_the_template() {
    for flow in [
        "tcp 10.0.2.30:40000 -> db.internal.example:5432",
        "tcp 10.0.2.30:40000 -> www.internal.example:443",
        "tcp 10.0.1.20:40000 -> api.internal.example:8080",
    ] {
        let a = trace(&template(), flow, &[]);
        let b = trace(&plan(), flow, &[]);
        assert_eq!(unnamed(&a), unnamed(&b), "{flow}\n{a:#}\n{b:#}");
        assert_eq!(a["hops"][0]["stage"], "dns", "{a:#}");
    }
}

fn resource(type_: &str, name: &str, values: Value) -> Value {
    serde_json::json!({
        "address": format!("{type_}.{name}"), "mode": "managed", "type": type_, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
        "values": values,
    })
}

/// A state whose alias record names an internal load balancer by its DNS name (a literal in a
/// state): the alias follows the load balancer vpcsim builds, and answers its node address. An
/// alias block without a name is a missing attribute.
#[test]
fn route53_alias_in_state_follows_the_load_balancer() {
    let alias = |name: Value| {
        resource(
            "aws_route53_record",
            "api",
            serde_json::json!({"id": "Z1_api", "zone_id": "Z1", "name": "api.internal.example",
                "fqdn": "api.internal.example", "type": "A", "records": [],
                "alias": [{"name": name, "zone_id": "Z26RNL4JYFTOTI", "evaluate_target_health": false}]}),
        )
    };
    let doc = |record: Value| {
        serde_json::json!({"format_version": "1.0", "terraform_version": "1.5.7", "values": {"root_module": {"resources": [
            resource("aws_vpc", "main", serde_json::json!({"id": "vpc-4", "cidr_block": "10.4.0.0/16",
                "enable_dns_support": true, "enable_dns_hostnames": true})),
            resource("aws_subnet", "a", serde_json::json!({"id": "subnet-4", "vpc_id": "vpc-4",
                "cidr_block": "10.4.1.0/24", "availability_zone": "us-east-1a"})),
            resource("aws_instance", "client", serde_json::json!({"id": "i-c", "subnet_id": "subnet-4",
                "private_ip": "10.4.1.10"})),
            resource("aws_lb", "internal", serde_json::json!({"id": "arn:lb/4", "arn": "arn:lb/4",
                "name": "internal", "load_balancer_type": "network", "internal": true,
                "dns_name": "internal-0123.elb.us-east-1.amazonaws.com",
                "subnets": ["subnet-4"], "subnet_mapping": [{"subnet_id": "subnet-4",
                "private_ipv4_address": "10.4.1.100", "allocation_id": ""}]})),
            resource("aws_route53_zone", "internal", serde_json::json!({"id": "Z1", "zone_id": "Z1",
                "name": "internal.example", "vpc": [{"vpc_id": "vpc-4", "vpc_region": "us-east-1"}]})),
            record,
        ]}}})
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(
        &path,
        doc(alias(serde_json::json!(
            "internal-0123.elb.us-east-1.amazonaws.com"
        )))
        .to_string(),
    )
    .unwrap();
    let a = dns(&path, "aws_instance.client", "api.internal.example", "A");
    assert_eq!(a["status"], "NOERROR", "{a:#}");
    assert_eq!(a["answers"][0]["data"], "10.4.1.100", "{a:#}");
    std::fs::write(&path, doc(alias(Value::Null)).to_string()).unwrap();
    let v = vpcsim(["validate", "-t", path.to_str().unwrap()]);
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(
            "aws_route53_record.api: InvalidTerraform.MissingAttribute: alias[0].name is missing"
        ),
        "{}",
        v.stdout
    );
}

/// Failover records with an `aws_route53_health_check`: an inverted check (vpcsim does not probe
/// outside the model, so a check is healthy unless inverted) fails the primary over.
#[test]
fn route53_health_check_in_state_fails_over() {
    let failover = |name: &str, kind: &str, ip: &str, check: Value| {
        resource(
            "aws_route53_record",
            name,
            serde_json::json!({"id": format!("Z1_{name}"), "zone_id": "Z1", "name": "app.internal.example",
                "type": "A", "ttl": 30, "records": [ip], "set_identifier": name,
                "failover_routing_policy": [{"type": kind}], "health_check_id": check}),
        )
    };
    let doc = |inverted: bool| {
        serde_json::json!({"format_version": "1.0", "terraform_version": "1.5.7", "values": {"root_module": {"resources": [
            resource("aws_vpc", "main", serde_json::json!({"id": "vpc-4", "cidr_block": "10.4.0.0/16",
                "enable_dns_support": true, "enable_dns_hostnames": true})),
            resource("aws_subnet", "a", serde_json::json!({"id": "subnet-4", "vpc_id": "vpc-4",
                "cidr_block": "10.4.1.0/24", "availability_zone": "us-east-1a"})),
            resource("aws_instance", "client", serde_json::json!({"id": "i-c", "subnet_id": "subnet-4",
                "private_ip": "10.4.1.10"})),
            resource("aws_route53_zone", "internal", serde_json::json!({"id": "Z1", "zone_id": "Z1",
                "name": "internal.example", "vpc": [{"vpc_id": "vpc-4", "vpc_region": "us-east-1"}]})),
            resource("aws_route53_health_check", "primary", serde_json::json!({"id": "hc-1",
                "type": "TCP", "ip_address": "10.4.1.20", "port": 80, "invert_healthcheck": inverted})),
            failover("primary", "PRIMARY", "10.4.1.20", serde_json::json!("hc-1")),
            failover("secondary", "SECONDARY", "10.4.1.21", Value::Null),
        ]}}})
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    for (inverted, answer) in [(false, "10.4.1.20"), (true, "10.4.1.21")] {
        std::fs::write(&path, doc(inverted).to_string()).unwrap();
        let a = dns(&path, "aws_instance.client", "app.internal.example", "A");
        assert_eq!(
            a["answers"][0]["data"], answer,
            "inverted {inverted}: {a:#}"
        );
    }
}
