//! `gen --intended`: only flows the security groups allow. Replayed, such a capture has no
//! security-group drop at all; without the flag the same seed has some.

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
