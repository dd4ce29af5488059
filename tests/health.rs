//! `vpcsim health` through the real binary: every target group's targets in the shape of
//! `aws elbv2 describe-target-health`, with AWS's states and reason codes; health computed by
//! pushing checks through the pipeline, or set by `--target-health` (whose format the JSON
//! output is).
//!
//! Topologies: `examples/asg.yaml` (NLB target group `WebTargets`: WebGroup/0..2 healthy,
//! LegacyGroup/0 blocked by its security group), `examples/gwlb.yaml`, and
//! `tests/fixtures/nlb/internal.yaml` (an ip target group `OnlyB`).

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn asg() -> PathBuf {
    root().join("examples/asg.yaml")
}

fn health_json(topology: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "health".to_string(),
        "-t".into(),
        topology.display().to_string(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = vpcsim(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn group<'v>(v: &'v Value, name: &str) -> &'v Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|g| g["TargetGroup"] == name)
        .unwrap_or_else(|| panic!("no group {name}: {v:#}"))
}

/// The description of the target vpcsim names `resource`.
fn target<'v>(g: &'v Value, resource: &str) -> &'v Value {
    g["TargetHealthDescriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["Resource"] == resource)
        .unwrap_or_else(|| panic!("no target {resource}: {g:#}"))
}

#[test]
fn json_has_the_shape_of_describe_target_health() {
    let v = health_json(&asg(), &[]);
    let g = group(&v, "WebTargets");
    assert_eq!(g["TargetGroupName"], "web");
    assert!(
        g["TargetGroupArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/"),
        "{g:#}"
    );
    assert_eq!(g["LoadBalancerType"], "network");
    let list = g["TargetHealthDescriptions"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    let healthy = target(g, "WebGroup/0");
    assert!(healthy["Target"]["Id"].as_str().unwrap().starts_with("i-"));
    assert_eq!(healthy["Target"]["Port"], 80);
    // Instance targets carry no AvailabilityZone; HealthCheckPort is a string, as in AWS.
    assert_eq!(healthy["Target"].get("AvailabilityZone"), None);
    assert_eq!(healthy["HealthCheckPort"], "80");
    assert_eq!(healthy["TargetHealth"]["State"], "healthy");
    assert_eq!(healthy["TargetHealth"].get("Reason"), None);
    // The security group drops the check: no answer, Target.Timeout.
    let blocked = target(g, "LegacyGroup/0");
    assert_eq!(blocked["TargetHealth"]["State"], "unhealthy", "{blocked:#}");
    assert_eq!(blocked["TargetHealth"]["Reason"], "Target.Timeout");
    let why = blocked["TargetHealth"]["Description"].as_str().unwrap();
    assert!(
        why.starts_with("Request timed out")
            && why.contains("LegacySg")
            && why.contains("SG_INGRESS_DENIED"),
        "{why}"
    );
}

#[test]
fn text_is_a_table_per_target_group() {
    let out = vpcsim(["health", "-t", asg().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("target group WebTargets (network load balancer) arn:aws:"),
        "{}",
        out.stdout
    );
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "TARGET",
            "RESOURCE",
            "PORT",
            "HC",
            "PORT",
            "STATE",
            "REASON",
            "DESCRIPTION"
        ]
    );
    let legacy = lines
        .iter()
        .find(|l| l.contains("LegacyGroup/0"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let cells: Vec<&str> = legacy.split_whitespace().collect();
    assert_eq!(
        &cells[1..6],
        ["LegacyGroup/0", "80", "80", "unhealthy", "Target.Timeout"]
    );
}

#[test]
fn a_target_group_no_listener_uses_is_unused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("unused.yaml");
    std::fs::write(
        &path,
        r#"Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: { CidrBlock: 10.3.0.0/16 }
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: { VpcId: !Ref Vpc, CidrBlock: 10.3.1.0/24, AvailabilityZone: us-east-1a }
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties: { LaunchTemplateData: { ImageId: ami-1 } }
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: 1
      MaxSize: 1
      VPCZoneIdentifier: [!Ref Subnet]
      LaunchTemplate: { LaunchTemplateId: !Ref Template, Version: $Latest }
      TargetGroupARNs: [!Ref Idle]
  Idle:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: { Protocol: TCP, Port: 443, VpcId: !Ref Vpc }
"#,
    )
    .unwrap();
    let v = health_json(&path, &[]);
    let t = target(group(&v, "Idle"), "Group/0");
    assert_eq!(t["TargetHealth"]["State"], "unused", "{t:#}");
    assert_eq!(t["TargetHealth"]["Reason"], "Target.NotInUse");
    assert_eq!(t["Target"]["Port"], 443);
}

#[test]
fn ip_targets_carry_their_zone_and_gateway_groups_are_listed() {
    let v = health_json(&fixture("nlb/internal.yaml"), &[]);
    let far = target(group(&v, "OnlyB"), "FarB");
    assert_eq!(far["Target"]["Id"], "10.1.11.10");
    assert_eq!(far["Target"]["AvailabilityZone"], "us-east-1b", "{far:#}");

    let v = health_json(&root().join("examples/gwlb.yaml"), &[]);
    let g = group(&v, "ApplianceTargets");
    assert_eq!(g["LoadBalancerType"], "gateway");
    let a = target(g, "Appliance1");
    // Traffic comes GENEVE-encapsulated on 6081; the check goes to the group's port.
    assert_eq!(a["Target"]["Port"], 6081);
    assert_eq!(a["HealthCheckPort"], "80");
    assert_eq!(a["TargetHealth"]["State"], "healthy");
}

/// Write `doc` as a --target-health file in `dir`.
fn health_file(dir: &TempDir, doc: &Value) -> String {
    let path = dir.path().join("health.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn overrides_set_every_aws_state_and_reason() {
    let dir = TempDir::new().unwrap();
    let file = health_file(
        &dir,
        &json!([{"TargetGroup": "WebTargets", "TargetHealthDescriptions": [
            {"Target": {"Id": "WebGroup/0"}, "TargetHealth": {"State": "initial", "Reason": "Elb.InitialHealthChecking"}},
            {"Target": {"Id": "WebGroup/1"}, "TargetHealth": {"State": "draining"}},
            {"Target": {"Id": "WebGroup/2"}, "TargetHealth": {"State": "unavailable", "Description": "Health checks disabled"}},
            {"Target": {"Id": "LegacyGroup/0"}, "TargetHealth": {"State": "unused", "Reason": "Target.InvalidState"}},
        ]}]),
    );
    let v = health_json(&asg(), &["--target-health", &file]);
    let g = group(&v, "WebTargets");
    let state = |r: &str| {
        let h = &target(g, r)["TargetHealth"];
        (
            h["State"].as_str().unwrap().to_string(),
            h["Reason"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(
        state("WebGroup/0"),
        ("initial".into(), "Elb.InitialHealthChecking".into())
    );
    // Without a Reason, the state's usual one.
    assert_eq!(
        state("WebGroup/1"),
        ("draining".into(), "Target.DeregistrationInProgress".into())
    );
    assert_eq!(
        state("WebGroup/2"),
        ("unavailable".into(), "Target.HealthCheckDisabled".into())
    );
    assert_eq!(
        target(g, "WebGroup/2")["TargetHealth"]["Description"],
        "Health checks disabled"
    );
    assert_eq!(
        state("LegacyGroup/0"),
        ("unused".into(), "Target.InvalidState".into())
    );

    // An unknown reason is refused with the list of AWS's.
    let bad = health_file(
        &dir,
        &json!([{"TargetGroup": "WebTargets", "Target": "WebGroup/0",
                 "TargetHealth": {"State": "unhealthy", "Reason": "Target.Sleepy"}}]),
    );
    let out = vpcsim([
        "health",
        "-t",
        asg().to_str().unwrap(),
        "--target-health",
        &bad,
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("reason \"Target.Sleepy\": expected one of")
            && out.stderr.contains("Target.ResponseCodeMismatch"),
        "{}",
        out.stderr
    );
}

#[test]
fn draining_targets_get_no_new_flows() {
    // From node A's zone (us-east-1a) the flow hashes to WebGroup/2; draining, it is skipped.
    let flow = "tcp 192.0.2.9:50000 -> 198.18.0.1:80";
    let v = trace(&asg(), flow, &[]);
    assert_eq!(v["delivered_to"], "WebGroup/2", "{v:#}");
    let dir = TempDir::new().unwrap();
    let file = health_file(
        &dir,
        &json!([{"TargetGroup": "WebTargets", "Target": "WebGroup/2", "TargetHealth": {"State": "draining"}}]),
    );
    let v = trace(&asg(), flow, &["--target-health", &file]);
    assert_eq!(v["delivered_to"], "WebGroup/0", "{v:#}");
}

#[test]
fn json_output_is_a_target_health_file() {
    let dir = TempDir::new().unwrap();
    let first = health_json(&asg(), &[]);
    let file = health_file(&dir, &first);
    let again = health_json(&asg(), &["--target-health", &file]);
    let states = |v: &Value| -> Vec<(String, String, String)> {
        group(v, "WebTargets")["TargetHealthDescriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let h = &d["TargetHealth"];
                (
                    d["Resource"].to_string(),
                    h["State"].to_string(),
                    h["Reason"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(states(&first), states(&again));
}

#[test]
fn gateway_target_groups_take_overrides_too() {
    let gwlb = root().join("examples/gwlb.yaml");
    let dir = TempDir::new().unwrap();
    let file = health_file(
        &dir,
        &json!([{"TargetGroup": "ApplianceTargets", "Target": {"Id": "Appliance1", "Port": 6081},
                 "TargetHealth": {"State": "unhealthy"}}]),
    );
    let v = health_json(&gwlb, &["--target-health", &file]);
    let h = &target(group(&v, "ApplianceTargets"), "Appliance1")["TargetHealth"];
    assert_eq!(h["State"], "unhealthy", "{h:#}");
    assert_eq!(h["Reason"], "Target.FailedHealthChecks");
    // The whole output reads back as it was.
    let file = health_file(&dir, &v);
    assert_eq!(health_json(&gwlb, &["--target-health", &file]), v);
    // Appliances take GENEVE on 6081 only.
    let file = health_file(
        &dir,
        &json!([{"TargetGroup": "ApplianceTargets", "Target": {"Id": "Appliance1", "Port": 80},
                 "TargetHealth": {"State": "unhealthy"}}]),
    );
    let out = vpcsim([
        "health",
        "-t",
        gwlb.to_str().unwrap(),
        "--target-health",
        &file,
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("appliances take port 6081"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_topology_without_target_groups_says_so() {
    let out = vpcsim(["health", "-t", example().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "no target groups");
    assert_eq!(health_json(&example(), &[]), json!([]));
    // A topology with errors exits 2, as every command that loads one.
    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties: { CidrBlock: 10.0.0.0/33 }\n",
    )
    .unwrap();
    let out = vpcsim(["health", "-t", bad.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stdout);
}

#[test]
fn an_http_check_whose_matcher_refuses_200_is_a_response_code_mismatch() {
    let t = fixture("asg/zones.yaml");
    let check = |codes: &str| {
        let v = health_json(
            &t,
            &[
                "--param",
                "CheckProtocol=HTTP",
                "--param",
                &format!("SuccessCodes={codes}"),
            ],
        );
        target(group(&v, "AppTargets"), "App/0")["TargetHealth"].clone()
    };
    // The application is assumed to answer 200.
    let h = check("301-302");
    assert_eq!(h["State"], "unhealthy", "{h:#}");
    assert_eq!(h["Reason"], "Target.ResponseCodeMismatch");
    assert_eq!(
        h["Description"],
        "Health checks failed with these codes: [200] (the matcher accepts 301-302)"
    );
    assert_eq!(check("200,204")["State"], "healthy");
    // Without a Matcher, AWS's default for NLBs (200-399) accepts it.
    let v = health_json(&t, &["--param", "CheckProtocol=HTTP"]);
    let h = &target(group(&v, "AppTargets"), "App/0")["TargetHealth"];
    assert_eq!(h["State"], "healthy", "{h:#}");
    // Codes outside 200-599, or codes for a TCP check, are refused.
    for params in [
        ["CheckProtocol=HTTP", "SuccessCodes=100"],
        ["CheckProtocol=TCP", "SuccessCodes=200"],
    ] {
        let out = vpcsim([
            "validate",
            "-t",
            t.to_str().unwrap(),
            "--param",
            params[0],
            "--param",
            params[1],
            "--json",
        ]);
        assert_eq!(out.code, 2, "{params:?}");
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["errors"][0]["code"], "ValidationError", "{v:#}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Matcher:"),
            "{v:#}"
        );
    }
}
