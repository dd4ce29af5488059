//! AWS Network Firewall from a Terraform plan, through the binary: an inspection VPC whose
//! firewall drops telnet, a domain, a port and a UDP port and passes the rest gives the same
//! verdicts as the equivalent CloudFormation template (`aws_networkfirewall_*` resources, and
//! routes whose `vpc_endpoint_id` is the firewall's endpoint through `firewall_status`).

mod common;

use common::*;
use std::path::PathBuf;

fn plan() -> PathBuf {
    fixture("terraform_network_firewall/inspection.plan.json")
}

fn template() -> PathBuf {
    fixture("terraform_network_firewall/inspection.yaml")
}

/// The template's rule groups and the plan's.
const GROUPS: &[(&str, &str)] = &[
    ("NoTelnet", "aws_networkfirewall_rule_group.stateless"),
    ("DenyDomains", "aws_networkfirewall_rule_group.domains"),
    ("No8080", "aws_networkfirewall_rule_group.five_tuple"),
    ("NoUdp5000", "aws_networkfirewall_rule_group.suricata"),
];

const FLOWS: &[(&str, &[&str], &str, Option<&str>)] = &[
    (
        "tcp 10.0.1.10:40000 -> 198.51.100.7:443",
        &[],
        "EXITED",
        None,
    ),
    (
        "tcp 10.0.1.10:40000 -> 198.51.100.7:443",
        &["--sni", "www.allowed.example"],
        "EXITED",
        None,
    ),
    (
        "tcp 10.0.1.10:40000 -> 198.51.100.7:443",
        &["--sni", "www.blocked.example"],
        "DROPPED",
        Some("NETWORK_FIREWALL_DROPPED"),
    ),
    (
        "tcp 10.0.1.10:40000 -> 198.51.100.7:8080",
        &[],
        "DROPPED",
        Some("NETWORK_FIREWALL_DROPPED"),
    ),
    (
        "tcp 10.0.1.10:40000 -> 198.51.100.7:23",
        &[],
        "DROPPED",
        Some("NETWORK_FIREWALL_DROPPED"),
    ),
    (
        "udp 10.0.1.10:40000 -> 198.51.100.7:5000",
        &[],
        "DROPPED",
        Some("NETWORK_FIREWALL_DROPPED"),
    ),
    (
        "udp 10.0.1.10:40000 -> 198.51.100.7:5001",
        &[],
        "EXITED",
        None,
    ),
];

#[test]
fn network_firewall_plan_loads_every_resource() {
    let v = vpcsim(["validate", "-t", plan().to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    for line in [
        "1  AWS::NetworkFirewall::Firewall",
        "1  AWS::NetworkFirewall::FirewallPolicy",
        "4  AWS::NetworkFirewall::RuleGroup",
        "1  AWS::NetworkFirewall::LoggingConfiguration",
    ] {
        assert!(v.stdout.contains(line), "{line}\n{}", v.stdout);
    }
    assert!(!v.stdout.contains("not simulated"), "{}", v.stdout);
}

#[test]
fn network_firewall_plan_gives_the_template_verdicts() {
    for (flow, extra, disposition, reason) in FLOWS {
        let mut args = extra.to_vec();
        args.push("--return");
        let a = trace(&template(), flow, &args);
        let b = trace(&plan(), flow, &args);
        assert_eq!(a["disposition"], *disposition, "{flow} {extra:?}: {a:#}");
        assert_eq!(a["reason"].as_str(), *reason, "{flow} {extra:?}: {a:#}");
        assert_eq!(
            b["disposition"], a["disposition"],
            "{flow} {extra:?}: {b:#}"
        );
        assert_eq!(b["reason"], a["reason"], "{flow} {extra:?}: {b:#}");
        // The firewall decides in both, with the same engine, group, rule and action (a group
        // is named by its logical id in one and its Terraform address in the other).
        let fw = |v: &serde_json::Value| -> Vec<serde_json::Value> {
            v["hops"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|h| h["stage"] == "network-firewall")
                .map(|h| {
                    let mut rule = h["rule"].as_str().unwrap_or("").to_string();
                    for (lid, address) in GROUPS {
                        rule = rule.replace(lid, address);
                    }
                    serde_json::json!([h["action"], rule])
                })
                .collect()
        };
        assert!(!fw(&a).is_empty(), "{flow}: no firewall hop: {a:#}");
        assert_eq!(fw(&a), fw(&b), "{flow} {extra:?}");
    }
}
