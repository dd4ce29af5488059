//! What `gen` draws: with `--intended` only flows the security groups allow (replayed, such a
//! capture has no security-group drop at all; without the flag the same seed has some), and on
//! a dual-stack topology IPv6 flows as well as IPv4 ones.

mod common;

use common::{example, vpcsim};
use serde_json::Value;
use std::path::Path;

fn gen_and_replay(dir: &Path, name: &str, extra: &[&str]) -> Value {
    let cap = dir.join(format!("{name}.pcap"));
    let t = example().display().to_string();
    let c = cap.display().to_string();
    let mut args = vec![
        "gen", "-t", &t, "--flows", "300", "--seed", "7", "--out", &c,
    ];
    args.extend(extra);
    let o = vpcsim(&args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("of 300 flows"), "{}", o.stdout);
    let out = dir.join(name).display().to_string();
    let o = vpcsim(["replay", "-t", &t, "--in", &c, "--out", &out, "--quiet"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    serde_json::from_str(&std::fs::read_to_string(dir.join(name).join("summary.json")).unwrap())
        .unwrap()
}

fn sg_drops(summary: &Value) -> u64 {
    ["SG_INGRESS_DENIED", "SG_EGRESS_DENIED"]
        .iter()
        .filter_map(|r| summary["reasons"][r].as_u64())
        .sum()
}

#[test]
fn intended_flows_pass_the_security_groups() {
    let dir = tempfile::tempdir().unwrap();
    let all = gen_and_replay(dir.path(), "all", &[]);
    assert!(sg_drops(&all) > 0, "{:#}", all["reasons"]);
    let intended = gen_and_replay(dir.path(), "intended", &["--intended"]);
    assert_eq!(sg_drops(&intended), 0, "{:#}", intended["reasons"]);
    // Network ACLs still drop what they drop: the flag is about the groups only.
    assert!(intended["packets"].as_u64().unwrap() > 0);
}

/// A dual-stack VPC whose only way out for IPv6 is an egress-only internet gateway (and none
/// for IPv4): IPv6 flows to the internet leave through it and their replies come back; only
/// the IPv4 flows find no route.
#[test]
fn dual_stack_topologies_get_ipv6_flows() {
    let dir = tempfile::tempdir().unwrap();
    let topology = common::fixture("drops/egress-only-ipv6.yaml")
        .display()
        .to_string();
    let cap = dir.path().join("v6.pcap").display().to_string();
    let o = vpcsim(["gen", "-t", &topology, "--flows", "60", "--out", &cap]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = dir.path().join("out");
    let lines = common::replay(
        std::path::Path::new(&topology),
        std::path::Path::new(&cap),
        &out,
        &[],
    );
    let v6 = |l: &&Value| l["packet"]["src"].as_str().unwrap().contains(':');
    let (ipv6, ipv4): (Vec<&Value>, Vec<&Value>) = lines.iter().partition(v6);
    assert!(
        ipv6.len() > lines.len() / 4,
        "{} of {}",
        ipv6.len(),
        lines.len()
    );
    assert!(ipv6.iter().all(|l| l["reason"] != "NO_ROUTE"), "{ipv6:?}");
    assert!(ipv6
        .iter()
        .any(|l| l["disposition"] == "EXITED" && l["egress"] == "EgressOnlyGateway"));
    assert!(ipv6
        .iter()
        .any(|l| l["disposition"] == "DELIVERED" && l["delivered_to"] == "Server"));
    assert!(ipv4.iter().all(|l| l["reason"] == "NO_ROUTE"), "{ipv4:?}");
    // ICMP over IPv6 is ICMPv6 echo.
    for l in &ipv6 {
        assert_ne!(l["packet"]["protocol"], "icmp", "{l}");
    }
}

/// An IPv4-only topology draws exactly what it drew before IPv6 flows existed: the bundled
/// capture is `gen --flows 200` of the example, byte for byte.
#[test]
fn ipv4_only_topologies_keep_their_captures() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("g.pcap");
    let o = vpcsim([
        "gen",
        "-t",
        &example().display().to_string(),
        "--flows",
        "200",
        "--out",
        &cap.display().to_string(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        std::fs::read(&cap).unwrap(),
        std::fs::read(common::root().join("captures/two-tier.pcap")).unwrap()
    );
}
