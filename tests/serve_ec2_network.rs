//! `vpcsim serve`'s VPC peering and transit gateways driven by the real aws CLI (its own
//! parser reads every answer), then traced through the server with `vpcsim trace --endpoint`.
//! Skipped unless `VPCSIM_AWS_PYTHON` names a Python whose environment has `awscli` and `boto3`.

mod serve_common;

use serde_json::Value;
use serve_common::Serve;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn python() -> Option<PathBuf> {
    match std::env::var_os("VPCSIM_AWS_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            // The venv directory itself is accepted too.
            Some(if p.is_dir() { p.join("bin/python") } else { p })
        }
        None => {
            eprintln!("skipped: VPCSIM_AWS_PYTHON is not set (a Python with awscli and boto3)");
            None
        }
    }
}

struct Cli<'a> {
    python: PathBuf,
    serve: &'a Serve,
}

impl Cli<'_> {
    /// `aws --output json ARGS`: the parsed answer, or the CLI's error text.
    fn run(&self, args: &[&str]) -> Result<Value, String> {
        let bin = self
            .python
            .parent()
            .expect("python's bin directory")
            .join("aws");
        let out = Command::new(bin)
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_PAGER", "")
            .args(["--endpoint-url", &self.serve.url, "--output", "json", "ec2"])
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

    fn ok(&self, args: &[&str]) -> Value {
        self.run(args)
            .unwrap_or_else(|e| panic!("aws ec2 {}: {e}", args.join(" ")))
    }

    fn fails(&self, args: &[&str], code: &str) {
        let e = self.run(args).expect_err("the call should fail");
        assert!(e.contains(&format!("({code})")), "expected {code}: {e}");
    }

    fn id(&self, args: &[&str], pointer: &str) -> String {
        let v = self.ok(args);
        v.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no {pointer} in {v}"))
            .to_string()
    }

    /// A VPC with one subnet in us-east-1a and an instance at `ip` whose group admits TCP
    /// 5432 from 10.0.0.0/8; the VPC's main route table.
    fn vpc_with_instance(&self, cidr: &str, subnet: &str, ip: &str) -> (String, String) {
        let vpc = self.id(&["create-vpc", "--cidr-block", cidr], "/Vpc/VpcId");
        let sn = self.id(
            &[
                "create-subnet",
                "--vpc-id",
                &vpc,
                "--cidr-block",
                subnet,
                "--availability-zone",
                "us-east-1a",
            ],
            "/Subnet/SubnetId",
        );
        let sg = self.id(
            &[
                "create-security-group",
                "--group-name",
                "db",
                "--description",
                "db",
                "--vpc-id",
                &vpc,
            ],
            "/GroupId",
        );
        self.ok(&[
            "authorize-security-group-ingress",
            "--group-id",
            &sg,
            "--protocol",
            "tcp",
            "--port",
            "5432",
            "--cidr",
            "10.0.0.0/8",
        ]);
        let i = self.id(
            &[
                "run-instances",
                "--image-id",
                "ami-0abcdef1234567890",
                "--instance-type",
                "t3.micro",
                "--subnet-id",
                &sn,
                "--security-group-ids",
                &sg,
                "--private-ip-address",
                ip,
            ],
            "/Instances/0/InstanceId",
        );
        self.ok(&["wait", "instance-running", "--instance-ids", &i]);
        let main = self.id(
            &[
                "describe-route-tables",
                "--filters",
                &format!("Name=vpc-id,Values={vpc}"),
                "Name=association.main,Values=true",
            ],
            "/RouteTables/0/RouteTableId",
        );
        (vpc, main)
    }

    /// The region's network saved as a describe-* snapshot, one file per call, as README's
    /// "Loading a real account" does against AWS.
    fn snapshot(&self, dir: &Path) {
        for call in [
            "describe-vpcs",
            "describe-subnets",
            "describe-route-tables",
            "describe-network-acls",
            "describe-security-groups",
            "describe-instances",
            "describe-network-interfaces",
            "describe-vpc-peering-connections",
        ] {
            let v = self.ok(&[call]);
            std::fs::write(dir.join(format!("{call}.json")), v.to_string()).unwrap();
        }
    }
}

/// `vpcsim trace --endpoint URL FLOW`: the server's JSON answer.
fn trace_remote(s: &Serve, flow: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["trace", "--endpoint", &s.url, flow])
        .output()
        .expect("run vpcsim trace");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("trace JSON")
}

/// `vpcsim trace -t SNAPSHOT FLOW --json`: the same packet through the local loader.
fn trace_local(dir: &Path, flow: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["trace", "-t"])
        .arg(dir)
        .args([flow, "--json"])
        .output()
        .expect("run vpcsim trace");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "local trace JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn server() -> (tempfile::TempDir, Serve) {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("state.db"), &[]);
    (dir, s)
}

#[test]
fn two_vpcs_peered_and_routed_with_the_aws_cli() {
    let Some(python) = python() else { return };
    let (dir, s) = server();
    let cli = Cli { python, serve: &s };
    let (a, a_rtb) = cli.vpc_with_instance("10.10.0.0/16", "10.10.1.0/24", "10.10.1.10");
    let (b, b_rtb) = cli.vpc_with_instance("10.20.0.0/16", "10.20.1.0/24", "10.20.1.20");
    let created = cli.ok(&[
        "create-vpc-peering-connection",
        "--vpc-id",
        &a,
        "--peer-vpc-id",
        &b,
        "--tag-specifications",
        "ResourceType=vpc-peering-connection,Tags=[{Key=Name,Value=a-b}]",
    ]);
    let pcx = created["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        created["VpcPeeringConnection"]["Status"]["Code"],
        "pending-acceptance"
    );
    assert_eq!(
        created["VpcPeeringConnection"]["AccepterVpcInfo"]["VpcId"],
        b.as_str()
    );
    // Routes to a connection nobody accepted yet are refused nowhere, but carry nothing.
    cli.fails(
        &[
            "create-vpc-peering-connection",
            "--vpc-id",
            &b,
            "--peer-vpc-id",
            &a,
        ],
        "VpcPeeringConnectionAlreadyExists",
    );
    let accepted = cli.ok(&[
        "accept-vpc-peering-connection",
        "--vpc-peering-connection-id",
        &pcx,
    ]);
    assert_eq!(accepted["VpcPeeringConnection"]["Status"]["Code"], "active");
    cli.ok(&[
        "wait",
        "vpc-peering-connection-exists",
        "--vpc-peering-connection-ids",
        &pcx,
    ]);
    cli.fails(
        &[
            "accept-vpc-peering-connection",
            "--vpc-peering-connection-id",
            &pcx,
        ],
        "InvalidStateTransition",
    );

    let flow = "tcp 10.10.1.10:40000 -> 10.20.1.20:5432";
    let before = trace_remote(&s, flow);
    assert_eq!(before["disposition"], "DROPPED", "{before}");
    let snap = dir.path().join("snapshot");
    std::fs::create_dir(&snap).unwrap();
    cli.snapshot(&snap);
    let local = trace_local(&snap, flow);
    assert_eq!(
        before["reason"], local["reason"],
        "server {before}\nlocal {local}"
    );

    // A's route names B through a managed prefix list, B's names A's CIDR.
    let pl = cli.id(
        &[
            "create-managed-prefix-list",
            "--prefix-list-name",
            "vpc-b",
            "--address-family",
            "IPv4",
            "--max-entries",
            "2",
            "--entries",
            "Cidr=10.20.0.0/16,Description=vpc b",
        ],
        "/PrefixList/PrefixListId",
    );
    let entries = cli.ok(&["get-managed-prefix-list-entries", "--prefix-list-id", &pl]);
    assert_eq!(entries["Entries"][0]["Description"], "vpc b");
    cli.ok(&[
        "create-route",
        "--route-table-id",
        &a_rtb,
        "--destination-prefix-list-id",
        &pl,
        "--vpc-peering-connection-id",
        &pcx,
    ]);
    cli.ok(&[
        "create-route",
        "--route-table-id",
        &b_rtb,
        "--destination-cidr-block",
        "10.10.0.0/16",
        "--vpc-peering-connection-id",
        &pcx,
    ]);
    let after = trace_remote(&s, flow);
    assert_eq!(after["disposition"], "DELIVERED", "{after}");

    let listed = cli.ok(&[
        "describe-vpc-peering-connections",
        "--filters",
        "Name=status-code,Values=active",
        &format!("Name=requester-vpc-info.vpc-id,Values={a}"),
    ]);
    let list = listed["VpcPeeringConnections"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{listed}");
    assert_eq!(list[0]["Tags"][0]["Value"], "a-b");
    assert_eq!(list[0]["RequesterVpcInfo"]["CidrBlock"], "10.10.0.0/16");
    let tags = cli.ok(&[
        "describe-tags",
        "--filters",
        &format!("Name=resource-id,Values={pcx}"),
    ]);
    assert_eq!(tags["Tags"][0]["ResourceType"], "vpc-peering-connection");

    // Overlapping VPCs: AWS accepts the request and fails the connection.
    let c = cli.id(
        &["create-vpc", "--cidr-block", "10.10.0.0/16"],
        "/Vpc/VpcId",
    );
    let failed = cli.ok(&[
        "create-vpc-peering-connection",
        "--vpc-id",
        &a,
        "--peer-vpc-id",
        &c,
    ]);
    assert_eq!(failed["VpcPeeringConnection"]["Status"]["Code"], "failed");
    let failed_id = failed["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        .as_str()
        .unwrap();
    cli.fails(
        &[
            "accept-vpc-peering-connection",
            "--vpc-peering-connection-id",
            failed_id,
        ],
        "InvalidStateTransition",
    );
    cli.fails(
        &[
            "describe-vpc-peering-connections",
            "--vpc-peering-connection-ids",
            "pcx-0123456789abcdef0",
        ],
        "InvalidVpcPeeringConnectionID.NotFound",
    );

    cli.ok(&[
        "delete-vpc-peering-connection",
        "--vpc-peering-connection-id",
        &pcx,
    ]);
    let gone = trace_remote(&s, flow);
    assert_eq!(gone["disposition"], "DROPPED", "{gone}");
}

/// Polls `describe-transit-gateways` until the gateway is `available` (botocore has no
/// transit-gateway waiter).
fn wait_tgw(cli: &Cli<'_>, tgw: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = cli.ok(&["describe-transit-gateways", "--transit-gateway-ids", tgw]);
        if v["TransitGateways"][0]["State"] == "available" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{tgw} never became available: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_vpcs_through_a_transit_gateway() {
    let Some(python) = python() else { return };
    let (_dir, s) = server();
    let cli = Cli { python, serve: &s };
    let (a, a_rtb) = cli.vpc_with_instance("10.30.0.0/16", "10.30.1.0/24", "10.30.1.10");
    let (b, b_rtb) = cli.vpc_with_instance("10.40.0.0/16", "10.40.1.0/24", "10.40.1.20");
    let created = cli.ok(&[
        "create-transit-gateway",
        "--description",
        "hub",
        "--tag-specifications",
        "ResourceType=transit-gateway,Tags=[{Key=Name,Value=hub}]",
    ]);
    let tgw = created["TransitGateway"]["TransitGatewayId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(created["TransitGateway"]["State"], "pending");
    let default_table = created["TransitGateway"]["Options"]["AssociationDefaultRouteTableId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_tgw(&cli, &tgw);

    let subnet_of = |vpc: &str| {
        cli.id(
            &[
                "describe-subnets",
                "--filters",
                &format!("Name=vpc-id,Values={vpc}"),
            ],
            "/Subnets/0/SubnetId",
        )
    };
    let mut attachments = Vec::new();
    for vpc in [&a, &b] {
        let sn = subnet_of(vpc);
        let att = cli.id(
            &[
                "create-transit-gateway-vpc-attachment",
                "--transit-gateway-id",
                &tgw,
                "--vpc-id",
                vpc,
                "--subnet-ids",
                &sn,
                "--tag-specifications",
                "ResourceType=transit-gateway-attachment,Tags=[{Key=Name,Value=spoke}]",
            ],
            "/TransitGatewayVpcAttachment/TransitGatewayAttachmentId",
        );
        attachments.push(att);
    }
    cli.fails(
        &[
            "create-transit-gateway-vpc-attachment",
            "--transit-gateway-id",
            &tgw,
            "--vpc-id",
            &a,
            "--subnet-ids",
            &subnet_of(&a),
        ],
        "DuplicateTransitGatewayAttachment",
    );
    let described = cli.ok(&[
        "describe-transit-gateway-attachments",
        "--filters",
        &format!("Name=transit-gateway-id,Values={tgw}"),
    ]);
    for att in described["TransitGatewayAttachments"].as_array().unwrap() {
        assert_eq!(
            att["Association"]["TransitGatewayRouteTableId"],
            default_table.as_str()
        );
        assert_eq!(att["ResourceType"], "vpc");
        assert_eq!(att["Tags"][0]["Value"], "spoke");
    }
    let propagated = cli.ok(&[
        "search-transit-gateway-routes",
        "--transit-gateway-route-table-id",
        &default_table,
        "--filters",
        "Name=type,Values=propagated",
    ]);
    let mut dests: Vec<&str> = propagated["Routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["DestinationCidrBlock"].as_str().unwrap())
        .collect();
    dests.sort();
    assert_eq!(dests, ["10.30.0.0/16", "10.40.0.0/16"]);

    let flow = "tcp 10.30.1.10:40000 -> 10.40.1.20:5432";
    let before = trace_remote(&s, flow);
    assert_eq!(before["disposition"], "DROPPED", "{before}");
    assert_eq!(before["reason"], "NO_ROUTE", "{before}");
    for (rtb, dest) in [(&a_rtb, "10.40.0.0/16"), (&b_rtb, "10.30.0.0/16")] {
        cli.ok(&[
            "create-route",
            "--route-table-id",
            rtb,
            "--destination-cidr-block",
            dest,
            "--transit-gateway-id",
            &tgw,
        ]);
    }
    let through = trace_remote(&s, flow);
    assert_eq!(through["disposition"], "DELIVERED", "{through}");

    // A static blackhole beats the propagated route.
    let route = cli.ok(&[
        "create-transit-gateway-route",
        "--transit-gateway-route-table-id",
        &default_table,
        "--destination-cidr-block",
        "10.40.1.0/24",
        "--blackhole",
    ]);
    assert_eq!(route["Route"]["State"], "blackhole");
    let dropped = trace_remote(&s, flow);
    assert_eq!(dropped["reason"], "TGW_BLACKHOLE_ROUTE", "{dropped}");
    cli.ok(&[
        "delete-transit-gateway-route",
        "--transit-gateway-route-table-id",
        &default_table,
        "--destination-cidr-block",
        "10.40.1.0/24",
    ]);
    assert_eq!(trace_remote(&s, flow)["disposition"], "DELIVERED");

    // A table of its own for A, with no routes: A's packets have nowhere to go.
    let own = cli.id(
        &[
            "create-transit-gateway-route-table",
            "--transit-gateway-id",
            &tgw,
        ],
        "/TransitGatewayRouteTable/TransitGatewayRouteTableId",
    );
    cli.fails(
        &[
            "associate-transit-gateway-route-table",
            "--transit-gateway-route-table-id",
            &own,
            "--transit-gateway-attachment-id",
            &attachments[0],
        ],
        "Resource.AlreadyAssociated",
    );
    cli.ok(&[
        "disassociate-transit-gateway-route-table",
        "--transit-gateway-route-table-id",
        &default_table,
        "--transit-gateway-attachment-id",
        &attachments[0],
    ]);
    cli.ok(&[
        "associate-transit-gateway-route-table",
        "--transit-gateway-route-table-id",
        &own,
        "--transit-gateway-attachment-id",
        &attachments[0],
    ]);
    assert_eq!(trace_remote(&s, flow)["reason"], "TGW_NO_ROUTE");
    cli.ok(&[
        "enable-transit-gateway-route-table-propagation",
        "--transit-gateway-route-table-id",
        &own,
        "--transit-gateway-attachment-id",
        &attachments[1],
    ]);
    assert_eq!(trace_remote(&s, flow)["disposition"], "DELIVERED");

    cli.fails(
        &["delete-transit-gateway", "--transit-gateway-id", &tgw],
        "IncorrectState",
    );
}

#[test]
fn s3_through_a_gateway_endpoint_route() {
    let Some(python) = python() else { return };
    let (_dir, s) = server();
    let cli = Cli { python, serve: &s };
    let (vpc, rtb) = cli.vpc_with_instance("10.50.0.0/16", "10.50.1.0/24", "10.50.1.10");
    let flow = "tcp 10.50.1.10:40000 -> 52.216.10.20:443";
    assert_eq!(trace_remote(&s, flow)["reason"], "NO_ROUTE");
    let lists = cli.ok(&[
        "describe-prefix-lists",
        "--filters",
        "Name=prefix-list-name,Values=com.amazonaws.us-east-1.s3",
    ]);
    let s3 = lists["PrefixLists"][0]["PrefixListId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        lists["PrefixLists"][0]["Cidrs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "52.216.0.0/15"),
        "{lists}"
    );
    let created = cli.ok(&[
        "create-vpc-endpoint",
        "--vpc-id",
        &vpc,
        "--service-name",
        "com.amazonaws.us-east-1.s3",
        "--route-table-ids",
        &rtb,
        "--tag-specifications",
        "ResourceType=vpc-endpoint,Tags=[{Key=Name,Value=s3}]",
    ]);
    let vpce = created["VpcEndpoint"]["VpcEndpointId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(created["VpcEndpoint"]["VpcEndpointType"], "Gateway");
    assert_eq!(created["VpcEndpoint"]["RouteTableIds"][0], rtb.as_str());
    let tables = cli.ok(&["describe-route-tables", "--route-table-ids", &rtb]);
    let routes = tables["RouteTables"][0]["Routes"].as_array().unwrap();
    assert!(
        routes
            .iter()
            .any(|r| r["DestinationPrefixListId"] == s3.as_str() && r["GatewayId"] == vpce.as_str()),
        "{tables}"
    );
    let out = trace_remote(&s, flow);
    assert_eq!(out["disposition"], "EXITED", "{out}");
    assert_eq!(out["egress"], vpce.as_str(), "{out}");

    // Removing the table from the endpoint takes its route away.
    cli.ok(&[
        "modify-vpc-endpoint",
        "--vpc-endpoint-id",
        &vpce,
        "--remove-route-table-ids",
        &rtb,
    ]);
    assert_eq!(trace_remote(&s, flow)["reason"], "NO_ROUTE");
    let described = cli.ok(&[
        "describe-vpc-endpoints",
        "--filters",
        "Name=tag:Name,Values=s3",
    ]);
    assert_eq!(
        described["VpcEndpoints"][0]["RouteTableIds"],
        serde_json::json!([])
    );
    let deleted = cli.ok(&["delete-vpc-endpoints", "--vpc-endpoint-ids", &vpce]);
    assert_eq!(deleted["Unsuccessful"], serde_json::json!([]));
}
