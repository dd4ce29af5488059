//! An Application Load Balancer built with the real aws CLI against `vpcsim serve` is part of
//! the region's data plane: `describe-target-health` answers from the health checks the
//! pipeline ran, and `vpcsim trace --endpoint` reaches the listener (and is refused on a port
//! without one). Skipped unless `VPCSIM_AWS_PYTHON` names a Python whose environment has
//! `awscli` (`.ci/run` sets one up).

mod common;
mod serve_common;

use serde_json::Value;
use serve_common::Serve;
use std::path::PathBuf;
use std::process::Command;

fn python() -> Option<PathBuf> {
    match std::env::var_os("VPCSIM_AWS_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            // A venv directory or its python.
            Some(if p.is_dir() { p.join("bin/python") } else { p })
        }
        None => {
            eprintln!("skipped: VPCSIM_AWS_PYTHON is not set (a Python with awscli and boto3)");
            None
        }
    }
}

struct Cli {
    aws: PathBuf,
    url: String,
}

impl Cli {
    /// `aws --output json ARGS`, which must succeed: the parsed answer.
    fn ok(&self, args: &[&str]) -> Value {
        let out = Command::new(&self.aws)
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_PAGER", "")
            .args(["--endpoint-url", &self.url, "--output", "json"])
            .args(args)
            .output()
            .expect("run aws");
        assert!(
            out.status.success(),
            "aws {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// The string at `pointer` of the answer to `args`.
    fn id(&self, args: &[&str], pointer: &str) -> String {
        let v = self.ok(args);
        v.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no {pointer} in {v}"))
            .to_string()
    }
}

fn remote_trace(url: &str, flow: &str) -> Value {
    let out = common::vpcsim(["trace", "--endpoint", url, flow, "--json"]);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn alb_built_with_the_aws_cli_checks_health_and_takes_connections() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("state.db"), &[]);
    let cli = Cli {
        aws: py.parent().expect("python's bin directory").join("aws"),
        url: s.url.clone(),
    };
    let vpc = cli.id(
        &["ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"],
        "/Vpc/VpcId",
    );
    let subnet = |cidr: &str, az: &str| {
        cli.id(
            &[
                "ec2",
                "create-subnet",
                "--vpc-id",
                &vpc,
                "--cidr-block",
                cidr,
                "--availability-zone",
                az,
            ],
            "/Subnet/SubnetId",
        )
    };
    let public_a = subnet("10.0.0.0/24", "us-east-1a");
    let public_b = subnet("10.0.1.0/24", "us-east-1b");
    let igw = cli.id(
        &["ec2", "create-internet-gateway"],
        "/InternetGateway/InternetGatewayId",
    );
    cli.ok(&[
        "ec2",
        "attach-internet-gateway",
        "--internet-gateway-id",
        &igw,
        "--vpc-id",
        &vpc,
    ]);
    let rt = cli.id(
        &["ec2", "create-route-table", "--vpc-id", &vpc],
        "/RouteTable/RouteTableId",
    );
    cli.ok(&[
        "ec2",
        "create-route",
        "--route-table-id",
        &rt,
        "--destination-cidr-block",
        "0.0.0.0/0",
        "--gateway-id",
        &igw,
    ]);
    for sn in [&public_a, &public_b] {
        cli.ok(&[
            "ec2",
            "associate-route-table",
            "--route-table-id",
            &rt,
            "--subnet-id",
            sn,
        ]);
    }
    let group = |name: &str| {
        cli.id(
            &[
                "ec2",
                "create-security-group",
                "--group-name",
                name,
                "--description",
                name,
                "--vpc-id",
                &vpc,
            ],
            "/GroupId",
        )
    };
    let alb_sg = group("alb");
    let web_sg = group("web");
    cli.ok(&[
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        &alb_sg,
        "--protocol",
        "tcp",
        "--port",
        "80-81",
        "--cidr",
        "0.0.0.0/0",
    ]);
    cli.ok(&[
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        &web_sg,
        "--protocol",
        "tcp",
        "--port",
        "80",
        "--source-group",
        &alb_sg,
    ]);
    let web = cli.id(
        &[
            "ec2",
            "run-instances",
            "--image-id",
            "ami-0abcdef1234567890",
            "--instance-type",
            "t3.micro",
            "--subnet-id",
            &public_a,
            "--security-group-ids",
            &web_sg,
            "--private-ip-address",
            "10.0.0.10",
        ],
        "/Instances/0/InstanceId",
    );
    // run-instances answers while the instance is pending; it joins the VPC once running.
    for _ in 0..100 {
        let d = cli.ok(&["ec2", "describe-instances", "--instance-ids", &web]);
        if d.pointer("/Reservations/0/Instances/0/State/Name") == Some(&Value::from("running")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let lb = cli.ok(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        "web",
        "--type",
        "application",
        "--subnets",
        &public_a,
        &public_b,
        "--security-groups",
        &alb_sg,
    ]);
    let lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_string();
    let tg = cli.id(
        &[
            "elbv2",
            "create-target-group",
            "--name",
            "web",
            "--protocol",
            "HTTP",
            "--port",
            "80",
            "--vpc-id",
            &vpc,
            "--health-check-path",
            "/health",
        ],
        "/TargetGroups/0/TargetGroupArn",
    );
    cli.ok(&[
        "elbv2",
        "register-targets",
        "--target-group-arn",
        &tg,
        "--targets",
        &format!("Id={web}"),
    ]);
    let listener = cli.id(
        &[
            "elbv2",
            "create-listener",
            "--load-balancer-arn",
            &lb_arn,
            "--protocol",
            "HTTP",
            "--port",
            "80",
            "--default-actions",
            &format!("Type=forward,TargetGroupArn={tg}"),
        ],
        "/Listeners/0/ListenerArn",
    );
    cli.ok(&[
        "elbv2",
        "create-rule",
        "--listener-arn",
        &listener,
        "--priority",
        "10",
        "--conditions",
        "Field=path-pattern,Values=/old/*",
        "--actions",
        "Type=fixed-response,FixedResponseConfig={StatusCode=410,ContentType=text/plain}",
    ]);

    let health = cli.ok(&["elbv2", "describe-target-health", "--target-group-arn", &tg]);
    let d = &health["TargetHealthDescriptions"][0];
    assert_eq!(d["Target"]["Id"], web.as_str(), "{health:#}");
    assert_eq!(d["TargetHealth"]["State"], "healthy", "{health:#}");

    // The first node's private address, from its requester-managed interface.
    let tail = lb_arn.split_once(":loadbalancer/").unwrap().1;
    let enis = cli.ok(&[
        "ec2",
        "describe-network-interfaces",
        "--filters",
        &format!("Name=description,Values=ELB {tail}"),
    ]);
    let node = enis["NetworkInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["SubnetId"] == public_a.as_str())
        .unwrap_or_else(|| panic!("no node in {public_a}: {enis:#}"));
    let node_ip = node["PrivateIpAddress"].as_str().unwrap();

    let to_listener = remote_trace(&s.url, &format!("tcp 10.0.0.10:40000 -> {node_ip}:80"));
    let stages: Vec<&str> = to_listener["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["stage"].as_str())
        .collect();
    assert!(stages.contains(&"alb-listener"), "{to_listener:#}");
    assert_ne!(to_listener["disposition"], "DROPPED", "{to_listener:#}");
    let no_listener = remote_trace(&s.url, &format!("tcp 10.0.0.10:40000 -> {node_ip}:81"));
    assert_eq!(no_listener["reason"], "ALB_NO_LISTENER", "{no_listener:#}");
}
