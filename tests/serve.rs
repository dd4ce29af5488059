//! `vpcsim serve` as a process: start-up time, durability across `kill -9`, 50 concurrent
//! clients, `ClientToken` idempotency, dependency checks, `DryRun`, and the data plane following
//! every change.

mod serve_common;

use serve_common::Serve;
use std::sync::Arc;

fn db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    (dir, path)
}

#[test]
fn an_empty_server_starts_in_well_under_a_second() {
    let (_d, path) = db();
    let s = Serve::start(&path, &[]);
    let ms: u64 = s
        .banner
        .rsplit("ready in ")
        .next()
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no start-up time in {:?}", s.banner));
    assert!(ms < 1000, "started in {ms} ms");
    // A new account's region: a default VPC with a subnet per zone.
    let vpcs = s.ok(
        "DescribeVpcs",
        &[
            ("Filter.1.Name", "is-default"),
            ("Filter.1.Value.1", "true"),
        ],
    );
    assert_eq!(vpcs.all("vpcId").len(), 1);
    assert_eq!(vpcs.text("cidrBlock").as_deref(), Some("172.31.0.0/16"));
    let zones = s.ok("DescribeAvailabilityZones", &[]);
    assert_eq!(
        zones.all("zoneName"),
        vec!["us-east-1a", "us-east-1b", "us-east-1c"]
    );
    let (_, eu) = s.call(
        "ec2",
        "eu-west-1",
        &[("Action", "DescribeSubnets"), ("Version", "2016-11-15")],
    );
    let mut az = eu.all("availabilityZone");
    az.sort();
    assert_eq!(az, vec!["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
}

#[test]
fn acknowledged_calls_survive_kill_9() {
    let (_d, path) = db();
    let s = Serve::start(&path, &[]);
    let vpc = s
        .ok("CreateVpc", &[("CidrBlock", "10.7.0.0/16")])
        .text("vpcId")
        .unwrap();
    let subnet = s
        .ok(
            "CreateSubnet",
            &[("VpcId", &vpc), ("CidrBlock", "10.7.1.0/24")],
        )
        .text("subnetId")
        .unwrap();
    let sg = s
        .ok(
            "CreateSecurityGroup",
            &[
                ("GroupName", "app"),
                ("GroupDescription", "app"),
                ("VpcId", &vpc),
            ],
        )
        .text("groupId")
        .unwrap();
    s.ok(
        "AuthorizeSecurityGroupIngress",
        &[
            ("GroupId", &sg),
            ("IpPermissions.1.IpProtocol", "tcp"),
            ("IpPermissions.1.FromPort", "8080"),
            ("IpPermissions.1.ToPort", "8080"),
            ("IpPermissions.1.IpRanges.1.CidrIp", "10.7.0.0/16"),
        ],
    );
    let inst = s
        .ok(
            "RunInstances",
            &[
                ("ImageId", "ami-1"),
                ("MinCount", "1"),
                ("MaxCount", "1"),
                ("SubnetId", &subnet),
                ("SecurityGroupId.1", &sg),
                ("PrivateIpAddress", "10.7.1.10"),
            ],
        )
        .text("instanceId")
        .unwrap();
    s.kill();
    let s = Serve::start(&path, &[]);
    assert_eq!(
        s.ok("DescribeVpcs", &[("VpcId.1", &vpc)])
            .text("cidrBlock")
            .as_deref(),
        Some("10.7.0.0/16")
    );
    assert_eq!(
        s.ok("DescribeSubnets", &[("SubnetId.1", &subnet)])
            .all("subnetId"),
        vec![subnet.clone()]
    );
    let rules = s.ok(
        "DescribeSecurityGroupRules",
        &[("Filter.1.Name", "group-id"), ("Filter.1.Value.1", &sg)],
    );
    assert!(rules.all("fromPort").contains(&"8080".to_string()));
    assert_eq!(
        s.ok("DescribeInstances", &[("InstanceId.1", &inst)])
            .text("privateIpAddress")
            .as_deref(),
        Some("10.7.1.10")
    );
    // The restarted data plane was compiled from the same state: the rule lets the packet in.
    let t = s.trace("tcp 10.7.1.99:40000 -> 10.7.1.10:8080");
    assert_ne!(t["reason"], "SG_INGRESS_DENIED", "{t}");
    // The default VPC was created once, not again at the restart.
    let defaults = s.ok(
        "DescribeVpcs",
        &[
            ("Filter.1.Name", "is-default"),
            ("Filter.1.Value.1", "true"),
        ],
    );
    assert_eq!(defaults.all("vpcId").len(), 1);
}

#[test]
fn fifty_concurrent_clients_lose_and_duplicate_nothing() {
    let (_d, path) = db();
    let s = Arc::new(Serve::start(&path, &["--workers", "8"]));
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                let name = format!("client-{i}");
                let sg = s
                    .ok(
                        "CreateSecurityGroup",
                        &[("GroupName", &name), ("GroupDescription", "concurrent")],
                    )
                    .text("groupId")
                    .unwrap();
                let port = (1000 + i).to_string();
                s.ok(
                    "AuthorizeSecurityGroupIngress",
                    &[
                        ("GroupId", &sg),
                        ("IpPermissions.1.IpProtocol", "tcp"),
                        ("IpPermissions.1.FromPort", &port),
                        ("IpPermissions.1.ToPort", &port),
                        ("IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"),
                    ],
                );
                sg
            })
        })
        .collect();
    let mut ids: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    let groups = s.ok(
        "DescribeSecurityGroups",
        &[
            ("Filter.1.Name", "description"),
            ("Filter.1.Value.1", "concurrent"),
        ],
    );
    let mut described = groups.all("groupId");
    described.sort();
    described.dedup();
    assert_eq!(described, ids);
    let rules = s.ok("DescribeSecurityGroupRules", &[]);
    let ingress: Vec<String> = rules
        .all("fromPort")
        .into_iter()
        .filter(|p| p != "-1")
        .collect();
    let mut ports = ingress.clone();
    ports.sort();
    ports.dedup();
    assert_eq!(
        (ingress.len(), ports.len()),
        (50, 50),
        "one rule per client, none lost, none twice"
    );
}

#[test]
fn client_tokens_dependency_checks_and_dry_run() {
    let (_d, path) = db();
    let s = Serve::start(&path, &[]);
    let vpc = s
        .ok("CreateVpc", &[("CidrBlock", "10.8.0.0/16")])
        .text("vpcId")
        .unwrap();
    let subnet = s
        .ok(
            "CreateSubnet",
            &[("VpcId", &vpc), ("CidrBlock", "10.8.1.0/24")],
        )
        .text("subnetId")
        .unwrap();
    let run = [
        ("ImageId", "ami-1"),
        ("MinCount", "1"),
        ("MaxCount", "1"),
        ("SubnetId", subnet.as_str()),
        ("ClientToken", "launch-1"),
    ];
    let first = s.ok("RunInstances", &run).text("instanceId").unwrap();
    let again = s.ok("RunInstances", &run).text("instanceId").unwrap();
    assert_eq!(first, again);
    let mut other = run.to_vec();
    other[2] = ("MaxCount", "2");
    s.fails("RunInstances", &other, "IdempotentParameterMismatch");
    let mut launched = s
        .ok(
            "DescribeInstances",
            &[
                ("Filter.1.Name", "subnet-id"),
                ("Filter.1.Value.1", &subnet),
            ],
        )
        .all("instanceId");
    launched.dedup();
    assert_eq!(
        launched,
        vec![first.clone()],
        "one instance, however often the token is sent"
    );

    let dv = s.fails("DeleteVpc", &[("VpcId", &vpc)], "DependencyViolation");
    assert_eq!(
        dv.text("Message").unwrap(),
        format!("The vpc '{vpc}' has dependencies and cannot be deleted.")
    );
    s.fails(
        "DeleteSubnet",
        &[("SubnetId", &subnet)],
        "DependencyViolation",
    );
    s.fails(
        "DescribeVpcs",
        &[("VpcId.1", "vpc-0000000000000000f")],
        "InvalidVpcID.NotFound",
    );

    let (status, x) = s.ec2(
        "CreateVpc",
        &[("CidrBlock", "10.9.0.0/16"), ("DryRun", "true")],
    );
    assert_eq!(
        (status, x.text("Code").as_deref()),
        (412, Some("DryRunOperation"))
    );
    let cidrs = s.ok("DescribeVpcs", &[]).all("cidrBlock");
    assert!(!cidrs.contains(&"10.9.0.0/16".to_string()));

    s.ok("TerminateInstances", &[("InstanceId.1", &first)]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let state = s.ok("DescribeInstances", &[("InstanceId.1", &first)]);
    assert!(state.all("name").contains(&"terminated".to_string()));
    s.ok("DeleteSubnet", &[("SubnetId", &subnet)]);
    s.ok("DeleteVpc", &[("VpcId", &vpc)]);
}

#[test]
fn nat_gateways_become_available_after_the_delay() {
    let (_d, path) = db();
    let s = Serve::start(&path, &[]);
    let subnet = s
        .ok(
            "DescribeSubnets",
            &[
                ("Filter.1.Name", "default-for-az"),
                ("Filter.1.Value.1", "true"),
            ],
        )
        .text("subnetId")
        .unwrap();
    let eip = s
        .ok("AllocateAddress", &[("Domain", "vpc")])
        .text("allocationId")
        .unwrap();
    let nat = s.ok(
        "CreateNatGateway",
        &[("SubnetId", &subnet), ("AllocationId", &eip)],
    );
    assert_eq!(nat.text("state").as_deref(), Some("pending"));
    let id = nat.text("natGatewayId").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let later = s.ok("DescribeNatGateways", &[("NatGatewayId.1", &id)]);
    assert_eq!(later.text("state").as_deref(), Some("available"));
    // The stored NAT gateway and its Elastic IP load into the data plane without a complaint.
    let health: serde_json::Value = serde_json::from_str(
        &ureq::get(&format!("{}/_vpcsim/health", s.url))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        health["regions"]["us-east-1"]["errors"],
        serde_json::json!([]),
        "{health}"
    );
    s.fails(
        "AssociateAddress",
        &[
            ("AllocationId", &eip),
            ("NetworkInterfaceId", "eni-0000000000000000a"),
        ],
        "InvalidNetworkInterfaceID.NotFound",
    );
    s.fails(
        "ReleaseAddress",
        &[("AllocationId", &eip)],
        "InvalidIPAddress.InUse",
    );
}

#[test]
fn the_trace_follows_the_api() {
    let (_d, path) = db();
    let s = Serve::start(&path, &[]);
    let subnet = s
        .ok(
            "DescribeSubnets",
            &[
                ("Filter.1.Name", "availability-zone"),
                ("Filter.1.Value.1", "us-east-1a"),
            ],
        )
        .text("subnetId")
        .unwrap();
    let sg = s
        .ok(
            "CreateSecurityGroup",
            &[("GroupName", "db"), ("GroupDescription", "db")],
        )
        .text("groupId")
        .unwrap();
    s.ok(
        "RunInstances",
        &[
            ("ImageId", "ami-1"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("SubnetId", &subnet),
            ("SecurityGroupId.1", &sg),
            ("PrivateIpAddress", "172.31.0.50"),
        ],
    );
    s.ok(
        "RunInstances",
        &[
            ("ImageId", "ami-1"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("SubnetId", &subnet),
            ("PrivateIpAddress", "172.31.0.60"),
        ],
    );
    let flow = "tcp 172.31.0.60:40000 -> 172.31.0.50:5432";
    assert_eq!(s.trace(flow)["reason"], "SG_INGRESS_DENIED");
    let perm = [
        ("GroupId", sg.as_str()),
        ("IpPermissions.1.IpProtocol", "tcp"),
        ("IpPermissions.1.FromPort", "5432"),
        ("IpPermissions.1.ToPort", "5432"),
        ("IpPermissions.1.IpRanges.1.CidrIp", "172.31.0.0/16"),
    ];
    s.ok("AuthorizeSecurityGroupIngress", &perm);
    assert_eq!(s.trace(flow)["disposition"], "DELIVERED");
    s.ok("RevokeSecurityGroupIngress", &perm);
    assert_eq!(s.trace(flow)["reason"], "SG_INGRESS_DENIED");
    // The thin client asks the same server.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["trace", "--endpoint", &s.url, flow, "--expect", "dropped"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reason"], "SG_INGRESS_DENIED");
}

#[test]
fn seeded_templates_are_deployed_once() {
    let (_d, path) = db();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/two-tier.yaml");
    let s = Serve::start(&path, &["-t", example]);
    let t = s.trace("tcp 10.0.1.20:40000 -> 198.51.100.7:443");
    assert_eq!(t["disposition"], "EXITED", "{t}");
    let n = s.ok("DescribeVpcs", &[]).all("vpcId").len();
    assert_eq!(n, 2, "the default VPC and the template's");
    s.kill();
    let s = Serve::start(&path, &["-t", example]);
    assert_eq!(s.ok("DescribeVpcs", &[]).all("vpcId").len(), 2);
}
