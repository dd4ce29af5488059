//! `vpcsim serve` driven by the real aws CLI and boto3 (their own parsers read every answer).
//! Skipped unless `VPCSIM_AWS_PYTHON` names a Python whose environment has `awscli` and `boto3`
//! (`.ci/run` sets one up).

mod serve_common;

use serde_json::Value;
use serve_common::Serve;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python of the environment with awscli and boto3, or `None` (the test is skipped).
fn python() -> Option<PathBuf> {
    match std::env::var_os("VPCSIM_AWS_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            eprintln!("skipped: VPCSIM_AWS_PYTHON is not set (a Python with awscli and boto3)");
            None
        }
    }
}

fn client_env(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
}

/// `aws --output json ARGS`: the parsed answer (`null` for commands that print nothing).
fn aws(python: &Path, s: &Serve, args: &[&str]) -> Result<Value, String> {
    let bin = python.parent().expect("python's bin directory").join("aws");
    let out = client_env(&mut Command::new(bin))
        .args(["--endpoint-url", &s.url, "--output", "json"])
        .args(args)
        .output()
        .expect("run aws");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))
}

fn ok(python: &Path, s: &Serve, args: &[&str]) -> Value {
    aws(python, s, args).unwrap_or_else(|e| panic!("aws {}: {e}", args.join(" ")))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {v}"))
}

fn server() -> (tempfile::TempDir, Serve) {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("state.db"), &[]);
    (dir, s)
}

#[test]
fn two_tier_from_nothing_with_the_aws_cli() {
    let Some(py) = python() else { return };
    let (_d, s) = server();
    let vpc = ok(
        &py,
        &s,
        &[
            "ec2",
            "create-vpc",
            "--cidr-block",
            "10.0.0.0/16",
            "--tag-specifications",
            "ResourceType=vpc,Tags=[{Key=Name,Value=two-tier}]",
        ],
    );
    let vpc = str_at(&vpc, "/Vpc/VpcId").to_string();
    let public = ok(
        &py,
        &s,
        &[
            "ec2",
            "create-subnet",
            "--vpc-id",
            &vpc,
            "--cidr-block",
            "10.0.1.0/24",
            "--availability-zone",
            "us-east-1a",
        ],
    );
    let public = str_at(&public, "/Subnet/SubnetId").to_string();
    let private = ok(
        &py,
        &s,
        &[
            "ec2",
            "create-subnet",
            "--vpc-id",
            &vpc,
            "--cidr-block",
            "10.0.2.0/24",
            "--availability-zone",
            "us-east-1b",
        ],
    );
    let private = str_at(&private, "/Subnet/SubnetId").to_string();
    let igw = ok(&py, &s, &["ec2", "create-internet-gateway"]);
    let igw = str_at(&igw, "/InternetGateway/InternetGatewayId").to_string();
    ok(
        &py,
        &s,
        &[
            "ec2",
            "attach-internet-gateway",
            "--internet-gateway-id",
            &igw,
            "--vpc-id",
            &vpc,
        ],
    );
    let rt = ok(&py, &s, &["ec2", "create-route-table", "--vpc-id", &vpc]);
    let rt = str_at(&rt, "/RouteTable/RouteTableId").to_string();
    ok(
        &py,
        &s,
        &[
            "ec2",
            "create-route",
            "--route-table-id",
            &rt,
            "--destination-cidr-block",
            "0.0.0.0/0",
            "--gateway-id",
            &igw,
        ],
    );
    ok(
        &py,
        &s,
        &[
            "ec2",
            "associate-route-table",
            "--route-table-id",
            &rt,
            "--subnet-id",
            &public,
        ],
    );
    ok(
        &py,
        &s,
        &[
            "ec2",
            "modify-subnet-attribute",
            "--subnet-id",
            &public,
            "--map-public-ip-on-launch",
        ],
    );
    let web = ok(
        &py,
        &s,
        &[
            "ec2",
            "create-security-group",
            "--group-name",
            "web",
            "--description",
            "web tier",
            "--vpc-id",
            &vpc,
        ],
    );
    let web = str_at(&web, "/GroupId").to_string();
    let db = ok(
        &py,
        &s,
        &[
            "ec2",
            "create-security-group",
            "--group-name",
            "db",
            "--description",
            "db tier",
            "--vpc-id",
            &vpc,
        ],
    );
    let db = str_at(&db, "/GroupId").to_string();
    ok(
        &py,
        &s,
        &[
            "ec2",
            "authorize-security-group-ingress",
            "--group-id",
            &web,
            "--protocol",
            "tcp",
            "--port",
            "443",
            "--cidr",
            "0.0.0.0/0",
        ],
    );
    let run = |subnet: &str, sg: &str, ip: &str| {
        let r = ok(
            &py,
            &s,
            &[
                "ec2",
                "run-instances",
                "--image-id",
                "ami-0abcdef1234567890",
                "--instance-type",
                "t3.micro",
                "--subnet-id",
                subnet,
                "--security-group-ids",
                sg,
                "--private-ip-address",
                ip,
            ],
        );
        str_at(&r, "/Instances/0/InstanceId").to_string()
    };
    let web_instance = run(&public, &web, "10.0.1.10");
    let db_instance = run(&private, &db, "10.0.2.20");
    ok(
        &py,
        &s,
        &[
            "ec2",
            "wait",
            "instance-running",
            "--instance-ids",
            &web_instance,
            &db_instance,
        ],
    );
    let described = ok(
        &py,
        &s,
        &["ec2", "describe-instances", "--instance-ids", &web_instance],
    );
    let inst = &described["Reservations"][0]["Instances"][0];
    assert_eq!(inst["State"]["Name"], "running");
    assert!(
        inst["PublicIpAddress"].is_string(),
        "map-public-ip-on-launch gave it a public address: {inst}"
    );
    assert_eq!(inst["PrivateDnsName"], "ip-10-0-1-10.ec2.internal");

    let flow = "tcp 10.0.1.10:40000 -> 10.0.2.20:5432";
    assert_eq!(s.trace(flow)["reason"], "SG_INGRESS_DENIED");
    ok(
        &py,
        &s,
        &[
            "ec2",
            "authorize-security-group-ingress",
            "--group-id",
            &db,
            "--protocol",
            "tcp",
            "--port",
            "5432",
            "--source-group",
            &web,
        ],
    );
    assert_eq!(s.trace(flow)["disposition"], "DELIVERED");
    let inbound = s.trace(&format!(
        "tcp 198.51.100.7:50000 -> {}:443",
        inst["PublicIpAddress"].as_str().unwrap()
    ));
    assert_eq!(inbound["disposition"], "DELIVERED", "{inbound}");

    let rules = ok(
        &py,
        &s,
        &[
            "ec2",
            "describe-security-group-rules",
            "--filters",
            &format!("Name=group-id,Values={db}"),
        ],
    );
    let ingress: Vec<&Value> = rules["SecurityGroupRules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["IsEgress"] == false)
        .collect();
    assert_eq!(ingress.len(), 1);
    assert_eq!(ingress[0]["ReferencedGroupInfo"]["GroupId"], web.as_str());
    let err = aws(&py, &s, &["ec2", "delete-vpc", "--vpc-id", &vpc]).unwrap_err();
    assert!(err.contains("(DependencyViolation)"), "{err}");
}

#[test]
fn cloudformation_stack_then_a_trace() {
    let Some(py) = python() else { return };
    let (_d, s) = server();
    let template = format!(
        "file://{}/examples/two-tier.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let created = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "create-stack",
            "--stack-name",
            "shop",
            "--template-body",
            &template,
        ],
    );
    let stack_id = str_at(&created, "/StackId").to_string();
    assert!(stack_id.starts_with("arn:aws:cloudformation:us-east-1:123456789012:stack/shop/"));
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-create-complete",
            "--stack-name",
            "shop",
        ],
    );
    let stacks = ok(
        &py,
        &s,
        &["cloudformation", "describe-stacks", "--stack-name", "shop"],
    );
    assert_eq!(stacks["Stacks"][0]["StackStatus"], "CREATE_COMPLETE");
    let resources = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "describe-stack-resources",
            "--stack-name",
            "shop",
        ],
    );
    let vpc = resources["StackResources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ResourceType"] == "AWS::EC2::VPC")
        .expect("the stack's VPC");
    let vpc_id = vpc["PhysicalResourceId"].as_str().unwrap();
    let vpcs = ok(&py, &s, &["ec2", "describe-vpcs", "--vpc-ids", vpc_id]);
    let tags = vpcs["Vpcs"][0]["Tags"].as_array().unwrap();
    assert!(tags
        .iter()
        .any(|t| t["Key"] == "aws:cloudformation:stack-name" && t["Value"] == "shop"));
    assert_eq!(
        s.trace("tcp 10.0.1.20:40000 -> 198.51.100.7:443")["disposition"],
        "EXITED"
    );
    let err = aws(
        &py,
        &s,
        &[
            "cloudformation",
            "create-stack",
            "--stack-name",
            "shop",
            "--template-body",
            &template,
        ],
    )
    .unwrap_err();
    assert!(err.contains("AlreadyExistsException"), "{err}");
    ok(
        &py,
        &s,
        &["cloudformation", "delete-stack", "--stack-name", "shop"],
    );
    let err = aws(&py, &s, &["ec2", "describe-vpcs", "--vpc-ids", vpc_id]).unwrap_err();
    assert!(err.contains("InvalidVpcID.NotFound"), "{err}");
    let listed = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "list-stacks",
            "--stack-status-filter",
            "DELETE_COMPLETE",
        ],
    );
    assert_eq!(listed["StackSummaries"][0]["StackName"], "shop");
}

#[test]
fn boto3_paginators_waiters_and_errors() {
    let Some(py) = python() else { return };
    let (_d, s) = server();
    let script = r#"
import json, sys, boto3, botocore
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="eu-west-1")
out = {}
for i in range(7):
    ec2.create_security_group(GroupName=f"g{i}", Description="paged")
pages = ec2.get_paginator("describe_security_groups").paginate(
    Filters=[{"Name": "description", "Values": ["paged"]}], PaginationConfig={"PageSize": 5})
sizes = [len(p["SecurityGroups"]) for p in pages]
out["pages"] = sizes
try:
    ec2.create_vpc(CidrBlock="10.0.0.0/16", DryRun=True)
except botocore.exceptions.ClientError as e:
    out["dry_run"] = e.response["Error"]["Code"]
try:
    ec2.describe_vpcs(VpcIds=["vpc-0123456789abcdef0"])
except botocore.exceptions.ClientError as e:
    out["not_found"] = [e.response["Error"]["Code"], e.response["Error"]["Message"]]
subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
eip = ec2.allocate_address(Domain="vpc")
nat = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], AllocationId=eip["AllocationId"])["NatGateway"]
ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[nat["NatGatewayId"]], WaiterConfig={"Delay": 1})
out["nat"] = ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"]
out["zones"] = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
print(json.dumps(out))
"#;
    let out = client_env(&mut Command::new(&py))
        .args(["-c", script, &s.url])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pages"], serde_json::json!([5, 2]));
    assert_eq!(v["dry_run"], "DryRunOperation");
    assert_eq!(v["not_found"][0], "InvalidVpcID.NotFound");
    assert_eq!(
        v["not_found"][1],
        "The vpc ID 'vpc-0123456789abcdef0' does not exist"
    );
    assert_eq!(v["nat"], "available");
    assert_eq!(
        v["zones"],
        serde_json::json!(["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    );
}
