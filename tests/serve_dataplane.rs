//! The data-plane endpoints of `vpcsim serve` (`/_vpcsim/replay`, `/_vpcsim/reach`), the thin
//! clients `vpcsim replay|reach --endpoint`, the CloudWatch metrics and the flow logs a remote
//! replay publishes. The tests that read them back with the aws CLI are skipped unless
//! `VPCSIM_AWS_PYTHON` names a Python whose environment has awscli.

mod common;
mod serve_common;

use serde_json::Value;
use serve_common::Serve;
use std::path::{Path, PathBuf};
use std::process::Command;

fn two_tier() -> (tempfile::TempDir, Serve) {
    let dir = tempfile::tempdir().unwrap();
    let template = common::example();
    let s = Serve::start(
        &dir.path().join("state.db"),
        &["-t", template.to_str().unwrap()],
    );
    (dir, s)
}

fn capture() -> PathBuf {
    common::root().join("captures/two-tier.pcap")
}

/// `vpcsim replay --endpoint` into `out`: its summary.json.
fn remote_replay(s: &Serve, out: &Path) -> Value {
    let o = common::vpcsim([
        "replay",
        "--endpoint",
        &s.url,
        "--in",
        capture().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_remote_replay_judges_every_frame_as_a_local_one() {
    let (dir, s) = two_tier();
    let local = dir.path().join("local");
    common::replay(&common::example(), &capture(), &local, &[]);
    let local_summary: Value =
        serde_json::from_str(&std::fs::read_to_string(local.join("summary.json")).unwrap())
            .unwrap();
    let remote = dir.path().join("remote");
    let summary = remote_replay(&s, &remote);
    for key in ["packets", "bytes", "dispositions", "reasons", "nat_gateway"] {
        assert_eq!(summary[key], local_summary[key], "{key}");
    }
    let local_lines = common::verdicts(&local);
    let remote_lines = common::verdicts(&remote);
    assert_eq!(remote_lines.len(), local_lines.len());
    for (l, r) in local_lines.iter().zip(&remote_lines) {
        assert_eq!(l["disposition"], r["disposition"], "frame {}", l["frame"]);
        assert_eq!(l["reason"], r["reason"], "frame {}", l["frame"]);
    }
}

fn post(url: &str, body: &[u8]) -> (u16, Value) {
    let r = ureq::post(url).send_bytes(body);
    let (status, text) = match r {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{url}: {e}"),
    };
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn a_body_that_is_no_capture_is_refused_and_the_state_stays() {
    let (_d, s) = two_tier();
    let (status, v) = post(&format!("{}/_vpcsim/replay", s.url), b"not a pcap");
    assert_eq!(status, 400);
    assert!(
        v["error"].as_str().unwrap().contains("not a capture"),
        "{v}"
    );
    let (status, v) = post(
        &format!("{}/_vpcsim/replay?at=NoSuchInstance", s.url),
        &std::fs::read(capture()).unwrap(),
    );
    assert_eq!(status, 400, "{v}");
    // The server still replays after both.
    let (status, v) = post(
        &format!("{}/_vpcsim/replay", s.url),
        &std::fs::read(capture()).unwrap(),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["summary"]["packets"], 848);
    assert_eq!(v["verdicts"].as_array().unwrap().len(), 848);
}

#[test]
fn a_remote_replay_sees_a_security_group_rule_added_a_moment_before() {
    let (dir, s) = two_tier();
    let before = remote_replay(&s, &dir.path().join("before"));
    assert_eq!(before["reasons"]["SG_INGRESS_DENIED"], 6);
    // The app instances refuse UDP 8080 from the web tier: open it on their groups.
    let denied: Vec<Value> = common::verdicts(&dir.path().join("before"))
        .into_iter()
        .filter(|v| v["reason"] == "SG_INGRESS_DENIED")
        .collect();
    let mut groups: Vec<String> = Vec::new();
    for v in &denied {
        let id = v["at"].as_str().unwrap();
        let x = s.ok("DescribeInstances", &[("InstanceId.1", id)]);
        groups.extend(x.all("groupId"));
    }
    groups.sort();
    groups.dedup();
    for g in &groups {
        s.ok(
            "AuthorizeSecurityGroupIngress",
            &[
                ("GroupId", g),
                ("IpPermissions.1.IpProtocol", "udp"),
                ("IpPermissions.1.FromPort", "8080"),
                ("IpPermissions.1.ToPort", "8080"),
                ("IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/16"),
            ],
        );
    }
    let after = remote_replay(&s, &dir.path().join("after"));
    assert_eq!(after["reasons"].get("SG_INGRESS_DENIED"), None, "{after}");
}

#[test]
fn reach_through_the_endpoint_answers_as_reach_json() {
    let (_d, s) = two_tier();
    let local = common::vpcsim([
        "reach",
        "-t",
        common::example().to_str().unwrap(),
        "--from",
        "internet",
        "--to",
        "10.0.1.20",
        "--protocol",
        "tcp",
        "--json",
    ]);
    let remote = common::vpcsim([
        "reach",
        "--endpoint",
        &s.url,
        "--from",
        "internet",
        "--to",
        "10.0.1.20",
        "--protocol",
        "tcp",
    ]);
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    let local: Value = serde_json::from_str(&local.stdout).unwrap();
    let remote: Value = serde_json::from_str(&remote.stdout).unwrap();
    let flows = |v: &Value, part: &str| -> Vec<Value> {
        v[part]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["flows"].as_array().unwrap().clone())
            .collect()
    };
    assert!(!flows(&local, "blocked").is_empty());
    for part in ["reachable", "reply_blocked", "blocked"] {
        assert_eq!(flows(&remote, part), flows(&local, part), "{part}");
    }
    let (status, v) = post(
        &format!("{}/_vpcsim/reach", s.url),
        b"{\"from\": \"nothing-here\"}",
    );
    assert_eq!(status, 400, "{v}");
}

fn default_free_vpc(s: &Serve) -> String {
    let x = s.ok(
        "DescribeVpcs",
        &[
            ("Filter.1.Name", "is-default"),
            ("Filter.1.Value.1", "false"),
        ],
    );
    x.text("vpcId").unwrap()
}

#[test]
fn create_flow_logs_checks_its_parameters_as_ec2_does() {
    let (_d, s) = two_tier();
    let vpc = default_free_vpc(&s);
    let role = "arn:aws:iam::123456789012:role/flow-logs";
    let base = [
        ("ResourceType", "VPC"),
        ("ResourceId.1", vpc.as_str()),
        ("LogGroupName", "flows"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut p: Vec<(&str, &str)> = base.to_vec();
        p.extend_from_slice(extra);
        p
    };
    s.fails(
        "CreateFlowLogs",
        &with(&[("TrafficType", "SOME"), ("DeliverLogsPermissionArn", role)]),
        "InvalidParameterValue",
    );
    s.fails(
        "CreateFlowLogs",
        &with(&[("TrafficType", "ALL")]),
        "InvalidParameter",
    );
    s.fails(
        "CreateFlowLogs",
        &with(&[
            ("TrafficType", "ALL"),
            ("DeliverLogsPermissionArn", role),
            ("LogDestinationType", "s3"),
        ]),
        "UnsupportedOperation",
    );
    s.fails(
        "CreateFlowLogs",
        &with(&[
            ("TrafficType", "ALL"),
            ("DeliverLogsPermissionArn", role),
            ("MaxAggregationInterval", "120"),
        ]),
        "InvalidParameterValue",
    );
    s.fails(
        "CreateFlowLogs",
        &[
            ("ResourceType", "VPC"),
            ("ResourceId.1", "vpc-0123456789abcdef0"),
            ("LogGroupName", "flows"),
            ("TrafficType", "ALL"),
            ("DeliverLogsPermissionArn", role),
        ],
        "InvalidVpcID.NotFound",
    );
    let x = s.ok(
        "CreateFlowLogs",
        &with(&[
            ("TrafficType", "REJECT"),
            ("DeliverLogsPermissionArn", role),
        ]),
    );
    let id = x.text("item").unwrap();
    assert!(id.starts_with("fl-"), "{id}");
    let x = s.ok("DescribeFlowLogs", &[("FlowLogId.1", &id)]);
    assert_eq!(x.text("trafficType").as_deref(), Some("REJECT"));
    assert_eq!(x.text("resourceId"), Some(vpc));
    s.ok("DeleteFlowLogs", &[("FlowLogId.1", &id)]);
    let x = s.ok("DeleteFlowLogs", &[("FlowLogId.1", &id)]);
    assert_eq!(x.text("code").as_deref(), Some("InvalidFlowLogId.NotFound"));
}

/// The Python of the environment with awscli, or `None` (the test is skipped).
fn python() -> Option<PathBuf> {
    match std::env::var_os("VPCSIM_AWS_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            eprintln!("skipped: VPCSIM_AWS_PYTHON is not set (a Python with awscli and boto3)");
            None
        }
    }
}

/// `aws --output json ARGS`, parsed.
fn aws(python: &Path, s: &Serve, args: &[&str]) -> Value {
    let bin = python.parent().expect("python's bin directory").join("aws");
    let out = Command::new(bin)
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
        .args(["--endpoint-url", &s.url, "--output", "json"])
        .args(args)
        .output()
        .expect("run aws");
    assert!(
        out.status.success(),
        "aws {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The whole day around now, for CloudWatch queries.
fn around_now() -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    ((now - 3600).to_string(), (now + 3600).to_string())
}

fn metric_sum(py: &Path, s: &Serve, namespace: &str, name: &str, dims: &str) -> f64 {
    let (start, end) = around_now();
    let v = aws(
        py,
        s,
        &[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            namespace,
            "--metric-name",
            name,
            "--dimensions",
            dims,
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--period",
            "7200",
            "--statistics",
            "Sum",
        ],
    );
    v["Datapoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Sum"].as_f64().unwrap())
        .sum()
}

#[test]
fn nat_gateway_metrics_after_a_replay_match_its_summary() {
    let Some(py) = python() else { return };
    let (dir, s) = two_tier();
    let summary = remote_replay(&s, &dir.path().join("out"));
    let nats = aws(&py, &s, &["ec2", "describe-nat-gateways"]);
    let nat = nats["NatGateways"][0]["NatGatewayId"].as_str().unwrap();
    let dims = format!("Name=NatGatewayId,Value={nat}");
    let ns = "AWS/NATGateway";
    assert_eq!(
        metric_sum(&py, &s, ns, "ConnectionAttemptCount", &dims),
        summary["nat_gateway"]["ConnectionAttemptCount"]
            .as_f64()
            .unwrap()
    );
    assert_eq!(
        metric_sum(&py, &s, ns, "ErrorPortAllocation", &dims),
        summary["nat_gateway"]["ErrorPortAllocation"]
            .as_f64()
            .unwrap()
    );
    // Every packet the NAT gateway stage received came from a client in the VPC.
    assert_eq!(
        metric_sum(&py, &s, ns, "PacketsInFromSource", &dims),
        summary["nodes"]["nat-gateway-out"]["packets"]
            .as_f64()
            .unwrap()
    );
    let listed = aws(&py, &s, &["cloudwatch", "list-metrics", "--namespace", ns]);
    let names: Vec<&str> = listed["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["MetricName"].as_str().unwrap())
        .collect();
    for n in [
        "ActiveConnectionCount",
        "ConnectionEstablishedCount",
        "PacketsDropCount",
        "BytesInFromSource",
        "BytesOutToDestination",
        "PacketsOutToDestination",
    ] {
        assert!(names.contains(&n), "{n} not in {names:?}");
    }
}

#[test]
fn flow_logs_created_with_the_cli_get_the_records_of_a_remote_replay() {
    let Some(py) = python() else { return };
    let (dir, s) = two_tier();
    let vpc = default_free_vpc(&s);
    let created = aws(
        &py,
        &s,
        &[
            "ec2",
            "create-flow-logs",
            "--resource-type",
            "VPC",
            "--resource-ids",
            &vpc,
            "--traffic-type",
            "REJECT",
            "--log-destination-type",
            "cloud-watch-logs",
            "--log-group-name",
            "vpc-flows",
            "--deliver-logs-permission-arn",
            "arn:aws:iam::123456789012:role/flow-logs",
            "--max-aggregation-interval",
            "60",
        ],
    );
    let id = created["FlowLogIds"][0].as_str().unwrap().to_string();
    let described = aws(&py, &s, &["ec2", "describe-flow-logs"]);
    assert_eq!(described["FlowLogs"][0]["FlowLogId"], id.as_str());
    assert_eq!(described["FlowLogs"][0]["MaxAggregationInterval"], 60);
    remote_replay(&s, &dir.path().join("out"));
    let events = aws(
        &py,
        &s,
        &["logs", "filter-log-events", "--log-group-name", "vpc-flows"],
    );
    let events = events["events"].as_array().unwrap();
    assert!(!events.is_empty());
    for e in events {
        let msg = e["message"].as_str().unwrap();
        let fields: Vec<&str> = msg.split(' ').collect();
        // AWS's default format: version 2, the interface third, the action thirteenth.
        assert_eq!(fields[0], "2", "{msg}");
        assert_eq!(fields[12], "REJECT", "{msg}");
        assert_eq!(
            e["logStreamName"].as_str().unwrap(),
            format!("{}-all", fields[2])
        );
    }
    aws(&py, &s, &["ec2", "delete-flow-logs", "--flow-log-ids", &id]);
    assert_eq!(
        aws(&py, &s, &["ec2", "describe-flow-logs"])["FlowLogs"],
        serde_json::json!([])
    );
}
