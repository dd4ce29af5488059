//! Explanations and fixes (`trace --fixes`): every drop gets an explanation with its
//! Reachability Analyzer code; where a change to the topology can let the packet through, applying
//! the suggested changes and tracing again delivers it (the property the fixes must have).

mod common;

use common::{example, fixture, trace};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn drops(name: &str) -> PathBuf {
    fixture(&format!("drops/{name}"))
}

fn tgw(name: &str) -> PathBuf {
    fixture(&format!("tgw/{name}"))
}

fn example_named(name: &str) -> PathBuf {
    common::root().join("examples").join(name)
}

/// Scenarios that drop, from the drop-reason fixtures: topology, flow, extra arguments.
fn scenarios() -> Vec<(PathBuf, &'static str, Vec<&'static str>)> {
    let ex = example();
    vec![
        (ex.clone(), "tcp 10.0.2.30:40000 -> 10.0.3.4:22", vec![]),
        (ex.clone(), "tcp 10.0.1.20:40000 -> 10.0.2.30:9000", vec![]),
        (
            ex.clone(),
            "tcp 198.51.100.7:40000 -> 198.18.0.3:8443",
            vec![],
        ),
        (ex.clone(), "udp 10.0.2.30:40000 -> 10.0.1.20:5000", vec![]),
        (
            drops("security-groups.yaml"),
            "tcp 10.0.1.10:40000 -> 10.0.1.20:22",
            vec![],
        ),
        (
            drops("security-groups.yaml"),
            "tcp 10.0.1.30:40000 -> 10.0.1.20:22",
            vec![],
        ),
        (
            drops("nacl.yaml"),
            "tcp 10.0.1.10:40000 -> 10.0.3.40:22",
            vec![],
        ),
        (
            drops("nacl.yaml"),
            "tcp 10.0.3.40:40000 -> 10.0.2.30:8080",
            vec![],
        ),
        (
            drops("nacl.yaml"),
            "tcp 10.0.1.10:40000 -> 10.0.3.40:8080",
            vec!["--return", "--param", "ReplyPortFrom=49152"],
        ),
        (
            drops("routes.yaml"),
            "udp 10.0.5.10:40000 -> 8.8.8.8:53",
            vec![],
        ),
        (
            drops("routes.yaml"),
            "udp 10.0.1.20:40000 -> 8.8.8.8:53",
            vec![],
        ),
        (
            drops("routes.yaml"),
            "tcp 10.0.1.30:40000 -> 198.51.100.7:443",
            vec![],
        ),
        (
            drops("appliance.yaml"),
            "tcp 10.0.1.10:40000 -> 10.0.3.40:443",
            vec![],
        ),
        // Transit gateways, VPN edges and gateway route tables.
        (
            tgw("spokes.yaml"),
            "tcp 10.1.2.10:40000 -> 10.2.1.10:443",
            vec![],
        ),
        (
            tgw("spokes.yaml"),
            "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
            vec!["--return", "--param", "DefaultAssociation=disable"],
        ),
        (
            tgw("spokes.yaml"),
            "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
            vec!["--return", "--param", "DefaultPropagation=disable"],
        ),
        (
            tgw("route-priority.yaml"),
            "tcp 10.0.1.10:40000 -> 10.9.1.5:443",
            vec!["--param", "BlackholeOnW=true"],
        ),
        (
            example_named("hub-and-spoke.yaml"),
            "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
            vec!["--return", "--param", "ApplianceMode=disable"],
        ),
        (
            example_named("ingress-inspection.yaml"),
            "tcp 192.0.2.9:50000 -> 203.0.113.20:443",
            vec!["--return", "--param", "WebReturn=direct"],
        ),
        (
            example_named("ingress-inspection.yaml"),
            "tcp 192.0.2.9:50000 -> 203.0.113.20:443",
            vec!["--return", "--param", "FirewallPublicIp=false"],
        ),
        (
            example_named("vpn.yaml"),
            "tcp 10.0.1.10:40000 -> 192.168.5.5:443",
            vec!["--return", "--param", "RoutePropagation=disable"],
        ),
        // No change to the topology can help these.
        (
            tgw("route-priority.yaml"),
            "tcp 10.0.1.10:40000 -> 10.9.2.5:443",
            vec![],
        ),
        (
            tgw("vpn-edges.yaml"),
            "tcp 10.0.2.30:40000 -> 10.30.0.1:443",
            vec![],
        ),
        (
            tgw("vpn-edges.yaml"),
            "tcp 10.1.1.10:40000 -> 10.20.1.1:443",
            vec![],
        ),
        (
            ex.clone(),
            "tcp 192.0.2.9:50000 -> 203.0.113.99:443",
            vec![],
        ),
        (ex.clone(), "tcp 192.0.2.9:50000 -> 198.18.0.1:443", vec![]),
        (ex.clone(), "tcp 10.0.1.20:40000 -> 10.1.2.3:443", vec![]),
        (ex.clone(), "tcp 10.0.2.30:40000 -> 10.0.3.99:443", vec![]),
        (
            drops("peering.yaml"),
            "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
            vec![],
        ),
        (
            common::fixture("alb/rules.yaml"),
            "tcp 203.0.113.9:40000 -> 198.18.0.1:8081",
            vec![],
        ),
        (
            common::fixture("alb/rules.yaml"),
            "tcp 10.0.10.50:40000 -> 10.0.10.60:80",
            // Integration tests run in the package's root.
            vec!["--hosts", "tests/fixtures/alb/web-down.hosts.yaml"],
        ),
        (
            common::fixture("alb-waf/web.yaml"),
            "tcp 203.0.113.9:40000 -> 198.18.0.1:80",
            vec!["--http", "GET /"],
        ),
    ]
}

/// The first drop of a trace JSON: the request's, else its reply's.
fn first_drop(v: &Value) -> Option<&Value> {
    if v["disposition"] == "DROPPED" {
        Some(v)
    } else if v["return"]["disposition"] == "DROPPED" {
        Some(&v["return"])
    } else {
        None
    }
}

#[test]
fn every_drop_is_explained_and_every_fix_delivers() {
    let mut fixed = BTreeSet::new();
    let mut unfixable = BTreeSet::new();
    for (topology, flow, extra) in scenarios() {
        let mut args = extra.clone();
        args.push("--fixes");
        let v = trace(&topology, flow, &args);
        let drop = first_drop(&v).unwrap_or_else(|| panic!("{flow}: expected a drop: {v:#}"));
        let e = &drop["explanation"];
        let reason = drop["reason"].as_str().unwrap().to_string();
        assert_eq!(e["reason"], reason.as_str(), "{flow}: {v:#}");
        assert!(
            e["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{flow}: {v:#}"
        );
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{flow}: {v:#}"
        );
        match e["fix"].as_str() {
            Some(_) => {
                let fixes = &v["fixes"];
                let then = fixes["then"].as_str().unwrap_or_default();
                assert!(
                    then == "DELIVERED" || then == "EXITED",
                    "{flow}: the suggested changes do not let it through: {fixes:#}"
                );
                if v["return"].is_object() {
                    let back = fixes["then_return"].as_str().unwrap_or_default();
                    assert!(
                        back == "DELIVERED" || back == "EXITED",
                        "{flow}: the reply still fails: {fixes:#}"
                    );
                }
                assert!(
                    !fixes["changes"].as_array().unwrap().is_empty(),
                    "{fixes:#}"
                );
                fixed.insert(reason);
            }
            None => {
                assert!(
                    e["no_fix"].as_str().is_some_and(|s| !s.is_empty()),
                    "{flow}: neither fix nor why not: {v:#}"
                );
                unfixable.insert(reason);
            }
        }
    }
    for r in [
        "SG_EGRESS_DENIED",
        "SG_INGRESS_DENIED",
        "NACL_EGRESS_DENIED",
        "NACL_INGRESS_DENIED",
        "NO_ROUTE",
        "BLACKHOLE_ROUTE",
        "SOURCE_DEST_CHECK",
        "NO_PUBLIC_IP",
        "TGW_NO_ATTACHMENT_IN_AZ",
        "TGW_NO_ASSOCIATION",
        "TGW_NO_ROUTE",
        "TGW_BLACKHOLE_ROUTE",
        "APPLIANCE_BYPASSED",
        "INGRESS_APPLIANCE_NO_PUBLIC_IP",
        "ALB_NO_LISTENER",
    ] {
        assert!(fixed.contains(r), "no scenario fixed {r}: fixed {fixed:?}");
    }
    for r in [
        "NOT_MAPPED",
        "NAT_NO_SESSION",
        "IGW_PRIVATE_ADDRESS",
        "NO_DESTINATION",
        "PEERING_NOT_TRANSITIVE",
        "TGW_BLACKHOLE_ROUTE",
        "VGW_NO_ROUTE",
        "VGW_SOURCE_NOT_IN_VPC",
        "HOST_PORT_CLOSED",
        "WAF_BLOCKED",
    ] {
        assert!(
            unfixable.contains(r),
            "{r} should be explained without a fix: {unfixable:?}"
        );
    }
}

/// The fix names the group of the other side when it can (SG references), as in
/// "add an inbound rule to AppSg: tcp 8080 from WebSg".
#[test]
fn security_group_fix_references_the_peer_group() {
    let v = trace(
        &example(),
        "tcp 10.0.1.20:40000 -> 10.0.2.30:9000",
        &["--fixes"],
    );
    let changes: Vec<&str> = v["fixes"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        changes
            .iter()
            .any(|c| c.contains("inbound rule to AppSg: tcp 9000 from WebSg")),
        "{changes:?}"
    );
}

/// A stateless NACL that lets requests in but not the replies out: the explanation says so and
/// the fix opens the ephemeral ports.
#[test]
fn nacl_reply_explanation_mentions_ephemeral_ports() {
    let v = trace(
        &drops("nacl.yaml"),
        "tcp 10.0.1.10:40000 -> 10.0.3.40:8080",
        &["--return", "--param", "ReplyPortFrom=49152"],
    );
    let e = &v["return"]["explanation"];
    assert!(
        e["message"].as_str().unwrap().contains("1024-65535"),
        "{e:#}"
    );
    assert!(e["fix"].as_str().unwrap().contains("1024-65535"), "{e:#}");
}

/// The text output carries the explanation under the trace.
#[test]
fn text_output_has_why_and_fix() {
    let out = common::vpcsim([
        "trace",
        "-t",
        example().to_str().unwrap(),
        "tcp 10.0.2.30:40000 -> 10.0.3.4:22",
    ]);
    assert!(out.stdout.contains("  why: "), "{}", out.stdout);
    assert!(
        out.stdout.contains("  fix: add an outbound rule to AppSg"),
        "{}",
        out.stdout
    );
}

/// `--return` reports a reply that leaves through other gateways than the request came in by,
/// and from another address than the client used.
#[test]
fn asymmetric_return_path_is_reported() {
    let t = fixture("explain/asymmetric.yaml");
    let v = trace(
        &t,
        "tcp 192.0.2.9:50000 -> 198.18.100.10:443",
        &["--return"],
    );
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    let a = &v["asymmetric"];
    assert_eq!(a["forward"], serde_json::json!(["Igw"]), "{a:#}");
    assert_eq!(a["return"], serde_json::json!(["Nat", "Igw"]), "{a:#}");
    let notes: Vec<&str> = a["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("will not match the connection")),
        "{notes:?}"
    );

    // A symmetric path (the example's web server behind its Elastic IP) reports nothing.
    let ok = trace(
        &example(),
        "tcp 192.0.2.9:50000 -> 198.18.0.3:443",
        &["--return"],
    );
    assert!(ok["asymmetric"].is_null(), "{ok:#}");
}
