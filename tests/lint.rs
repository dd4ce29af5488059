//! `vpcsim lint` through the real binary: each finding code from a fixture, clean examples
//! with none, exit codes 0/1/2.

mod common;

use common::{fixture, root, vpcsim};
use serde_json::Value;

fn lint_json(path: &std::path::Path) -> (i32, Value) {
    let out = vpcsim(["lint", "-t", path.to_str().unwrap(), "--json"]);
    let v = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    (out.code, v)
}

fn finding<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {v:#}"))
}

#[test]
fn every_finding_code_from_the_fixture() {
    let (code, v) = lint_json(&fixture("lint-findings.yaml"));
    assert_eq!(code, 1);
    assert_eq!(v["count"], 5, "{v:#}");

    let f = finding(&v, "NACL_ENTRY_SHADOWED");
    assert_eq!(f["resource"]["logical_id"], "NaclInDenySsh");
    assert_eq!(f["resource"]["type"], "AWS::EC2::NetworkAclEntry");
    assert_eq!(f["shadowed_by"][0], "100 allow tcp 0.0.0.0/0");
    assert!(f["fix"]
        .as_str()
        .unwrap()
        .contains("renumber entry 110 below 100"));

    let f = finding(&v, "SG_RULE_SUBSUMED");
    assert_eq!(f["resource"]["logical_id"], "WebSg");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("inbound rule 0 (tcp 443 from 0.0.0.0/0)"),
        "{f:#}"
    );
    assert_eq!(f["shadowed_by"][0], "tcp from 0.0.0.0/0");

    let f = finding(&v, "SG_UNUSED");
    assert_eq!(f["resource"]["logical_id"], "OrphanSg");
    assert!(f["resource"]["id"].as_str().unwrap().starts_with("sg-"));

    let f = finding(&v, "ROUTE_NEVER_CHOSEN");
    assert_eq!(f["resource"]["logical_id"], "PartnerRoute");
    assert_eq!(f["shadowed_by"].as_array().unwrap().len(), 2, "{f:#}");

    let f = finding(&v, "NACL_BLOCKS_RETURN_TRAFFIC");
    assert_eq!(f["resource"]["logical_id"], "Nacl");
    assert!(f["message"].as_str().unwrap().contains("udp"), "{f:#}");
    assert!(f["fix"].as_str().unwrap().contains("udp ports 1024-65535"));
}

#[test]
fn the_return_traffic_finding_is_what_trace_shows() {
    // The reply the finding names is dropped by the ACL for real.
    let (_, v) = lint_json(&fixture("lint-findings.yaml"));
    let msg = finding(&v, "NACL_BLOCKS_RETURN_TRAFFIC")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("udp 198.51.100.7:53 → 10.0.1.4:40000"),
        "{msg}"
    );
    let t = common::trace(
        &fixture("lint-findings.yaml"),
        "udp 10.0.1.10:40000 -> 198.51.100.7:53",
        &["--return"],
    );
    assert_eq!(t["disposition"], "EXITED", "{t:#}");
    assert_eq!(t["return"]["reason"], "NACL_INGRESS_DENIED", "{t:#}");
}

#[test]
fn no_route_finding_when_the_less_specific_route_still_carries_traffic() {
    // 0.0.0.0/0 is partly covered by 10.1.0.0/16 and the /17s: it is chosen for the rest.
    let (_, v) = lint_json(&fixture("lint-findings.yaml"));
    let routes: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "ROUTE_NEVER_CHOSEN")
        .collect();
    assert_eq!(routes.len(), 1, "{v:#}");
}

#[test]
fn examples_are_clean() {
    for name in [
        "two-tier.yaml",
        "hub-and-spoke.yaml",
        "vpn.yaml",
        "nlb.yaml",
    ] {
        let out = vpcsim([
            "lint",
            "-t",
            root().join("examples").join(name).to_str().unwrap(),
        ]);
        assert_eq!(out.code, 0, "{name}: {}{}", out.stdout, out.stderr);
        assert_eq!(out.stdout, "no findings\n");
    }
}

#[test]
fn text_output_names_resource_cause_and_fix() {
    let out = vpcsim([
        "lint",
        "-t",
        fixture("lint-findings.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("NACL_ENTRY_SHADOWED  NaclInDenySsh (aclentry-"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("  because of: 100 allow tcp 0.0.0.0/0\n"));
    assert!(out.stdout.contains("  fix: delete OrphanSg"));
    assert!(out.stdout.ends_with("5 finding(s)\n"));
}

#[test]
fn bad_topology_exits_2() {
    let out = vpcsim(["lint", "-t", "/nonexistent.yaml"]);
    assert_eq!(out.code, 2);
}

#[test]
fn an_ipv4_rule_and_an_ipv6_rule_never_subsume_each_other() {
    // WebSg's outbound `all to 0.0.0.0/0` and `all to ::/0`: different families.
    let (_, v) = lint_json(&fixture("lint-findings.yaml"));
    let subsumed: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SG_RULE_SUBSUMED")
        .collect();
    assert_eq!(subsumed.len(), 1, "{v:#}");
    assert!(subsumed[0]["message"].as_str().unwrap().contains("inbound"));
}

#[test]
fn a_snapshots_default_groups_are_not_unused() {
    // Each VPC's `default` group is on no interface here, but AWS does not let it be deleted.
    let Some(dir) = common::corpus("aws-snapshots/test-transit-gateway-asymmetric-paths") else {
        return;
    };
    let out = vpcsim(["lint", "-t", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "no findings\n");
}
