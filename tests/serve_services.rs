//! ELBv2, Route 53, CloudWatch and CloudWatch Logs of `vpcsim serve`, driven over HTTP by boto3
//! and the aws CLI (their own parsers read every answer), with the data plane behind them.
//! Skipped unless `VPCSIM_AWS_PYTHON` names a Python whose environment has `awscli` and `boto3`
//! (`.ci/run` sets one up).

mod serve_common;

use serde_json::{json, Value};
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

/// `aws --output json ARGS`, which must succeed: the parsed answer (`null` when it prints nothing).
fn aws(python: &Path, s: &Serve, args: &[&str]) -> Value {
    let bin = python.parent().expect("python's bin directory").join("aws");
    let out = client_env(&mut Command::new(bin))
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
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Runs a boto3 script with the server's URL as `sys.argv[1]`; what it printed as JSON.
fn boto3(python: &Path, s: &Serve, script: &str) -> Value {
    let out = client_env(&mut Command::new(python))
        .args(["-c", script, &s.url])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// `vpcsim trace --endpoint URL --json FLOW`: the JSON the server's trace answered.
fn trace(s: &Serve, flow: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["trace", "--endpoint", &s.url, "--json", flow])
        .output()
        .expect("run vpcsim trace");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "trace {flow}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn two_tier() -> (tempfile::TempDir, Serve) {
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/examples/two-tier.yaml", env!("CARGO_MANIFEST_DIR"));
    let s = Serve::start(&dir.path().join("state.db"), &["-t", &template]);
    (dir, s)
}

/// The two-tier VPC's id, subnets by CIDR and instances by private address, for the scripts.
const TWO_TIER: &str = r#"
import json, sys, boto3, botocore
url = sys.argv[1]
ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1")
elb = boto3.client("elbv2", endpoint_url=url, region_name="us-east-1")
vpc = [v for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")][0]["VpcId"]
subnet = {s["CidrBlock"]: s["SubnetId"] for s in ec2.describe_subnets(
    Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
instance = {i["PrivateIpAddress"]: i["InstanceId"]
    for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
group = {g["GroupName"]: g["GroupId"] for g in ec2.describe_security_groups(
    Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]}
def nodes(lb):
    name = "/".join(lb["LoadBalancerArn"].split("/")[-3:])
    return [n for n in ec2.describe_network_interfaces()["NetworkInterfaces"]
        if n.get("Description") == "ELB " + name]
def health(tg):
    return sorted((d["Target"]["Id"], d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
        for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"])
out = {}
"#;

#[test]
fn network_load_balancer_health_and_trace_through_boto3() {
    let Some(py) = python() else { return };
    let (_d, s) = two_tier();
    let script = TWO_TIER.to_string()
        + r#"
lb = elb.create_load_balancer(Name="web-nlb", Type="network", Scheme="internet-facing",
    Subnets=[subnet["10.0.1.0/24"], subnet["10.0.4.0/24"]])["LoadBalancers"][0]
elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]],
    WaiterConfig={"Delay": 1})
web = elb.create_target_group(Name="web", Protocol="TCP", Port=80, VpcId=vpc,
    TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
app = elb.create_target_group(Name="app", Protocol="TCP", Port=8080, VpcId=vpc,
    TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
elb.register_targets(TargetGroupArn=web, Targets=[{"Id": instance["10.0.1.20"]}])
elb.register_targets(TargetGroupArn=app, Targets=[{"Id": instance["10.0.2.30"]}])
out["unused"] = health(web)
elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=80,
    DefaultActions=[{"Type": "forward", "TargetGroupArn": web}])
elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=8080,
    DefaultActions=[{"Type": "forward", "TargetGroupArn": app}])
out["web"] = health(web)
out["app"] = health(app)
out["instances"] = instance
out["state"] = elb.describe_load_balancers(Names=["web-nlb"])["LoadBalancers"][0]["State"]["Code"]
out["nodes"] = sorted(n["Association"]["PublicIp"] for n in nodes(lb))
out["listeners"] = sorted(l["Port"] for l in
    elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"])
print(json.dumps(out))
"#;
    let v = boto3(&py, &s, &script);
    eprintln!("{v}");
    let web = v["instances"]["10.0.1.20"].as_str().unwrap();
    let app = v["instances"]["10.0.2.30"].as_str().unwrap();
    assert_eq!(v["state"], "active");
    assert_eq!(v["listeners"], json!([80, 8080]));
    assert_eq!(
        v["unused"],
        json!([[web, "unused", "Target.NotInUse"]]),
        "a target group no listener uses"
    );
    assert_eq!(v["web"], json!([[web, "healthy", null]]));
    // The app tier's group admits 8080 from the web tier's group only: the NLB nodes' health
    // checks (from their own addresses) are dropped unanswered, as `vpcsim health` reports.
    assert_eq!(v["app"], json!([[app, "unhealthy", "Target.Timeout"]]));
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "one node per subnet");
    let node = nodes[0].as_str().unwrap();
    let t = trace(&s, &format!("tcp 203.0.113.9:40000 -> {node}:80"));
    assert_eq!(t["disposition"], "DELIVERED", "{t}");
}

#[test]
fn application_load_balancer_rule_and_trace_through_boto3() {
    let Some(py) = python() else { return };
    let (_d, s) = two_tier();
    let script = TWO_TIER.to_string()
        + r#"
lb = elb.create_load_balancer(Name="web-alb", Type="application", Scheme="internet-facing",
    Subnets=[subnet["10.0.1.0/24"], subnet["10.0.4.0/24"]],
    SecurityGroups=[group["two-tier-WebSg"]])["LoadBalancers"][0]
tg = elb.create_target_group(Name="web-http", Protocol="HTTP", Port=80, VpcId=vpc,
    HealthCheckPath="/health")["TargetGroups"][0]["TargetGroupArn"]
api = elb.create_target_group(Name="web-api", Protocol="HTTP", Port=80, VpcId=vpc,
    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": instance["10.0.1.20"]}])
elb.register_targets(TargetGroupArn=api, Targets=[{"Id": "10.0.1.20", "Port": 80}])
listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
rule = elb.create_rule(ListenerArn=listener, Priority=10,
    Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
    Actions=[{"Type": "forward", "TargetGroupArn": api}])["Rules"][0]
out["rules"] = sorted(r["Priority"] for r in elb.describe_rules(ListenerArn=listener)["Rules"])
out["rule_pattern"] = rule["Conditions"][0]["Values"]
out["nodes"] = sorted(n["Association"]["PublicIp"] for n in nodes(lb))
try:
    elb.create_rule(ListenerArn=listener, Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/x"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": api}])
except botocore.exceptions.ClientError as e:
    out["duplicate"] = e.response["Error"]["Code"]
print(json.dumps(out))
"#;
    let v = boto3(&py, &s, &script);
    eprintln!("{v}");
    assert_eq!(v["rules"], json!(["10", "default"]));
    assert_eq!(v["rule_pattern"], json!(["/api/*"]));
    assert_eq!(v["duplicate"], "PriorityInUse");
    let node = v["nodes"][0].as_str().unwrap();
    let t = trace(&s, &format!("tcp 203.0.113.9:40000 -> {node}:80"));
    assert_eq!(t["disposition"], "DELIVERED", "{t}");
    // The listener admits port 80 only.
    let t = trace(&s, &format!("tcp 203.0.113.9:40000 -> {node}:8443"));
    assert_eq!(t["disposition"], "DROPPED", "{t}");
}

#[test]
fn route53_private_zone_with_the_aws_cli() {
    let Some(py) = python() else { return };
    let (_d, s) = two_tier();
    let vpcs = aws(
        &py,
        &s,
        &[
            "ec2",
            "describe-vpcs",
            "--filters",
            "Name=is-default,Values=false",
        ],
    );
    let vpc = vpcs["Vpcs"][0]["VpcId"].as_str().unwrap().to_string();
    let zone = aws(
        &py,
        &s,
        &[
            "route53",
            "create-hosted-zone",
            "--name",
            "example.internal",
            "--caller-reference",
            "e2-zone",
            "--vpc",
            &format!("VPCRegion=us-east-1,VPCId={vpc}"),
            "--hosted-zone-config",
            "PrivateZone=true",
        ],
    );
    let zone_id = zone["HostedZone"]["Id"].as_str().unwrap().to_string();
    assert!(zone_id.starts_with("/hostedzone/Z"), "{zone}");
    assert_eq!(zone["HostedZone"]["Config"]["PrivateZone"], true);
    assert_eq!(zone["VPC"]["VPCId"], vpc.as_str());
    let batch = json!({"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "db.example.internal", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": "10.0.2.30"}]}}]});
    let change = aws(
        &py,
        &s,
        &[
            "route53",
            "change-resource-record-sets",
            "--hosted-zone-id",
            &zone_id,
            "--change-batch",
            &batch.to_string(),
        ],
    );
    let change_id = change["ChangeInfo"]["Id"].as_str().unwrap().to_string();
    aws(
        &py,
        &s,
        &[
            "route53",
            "wait",
            "resource-record-sets-changed",
            "--id",
            &change_id,
        ],
    );
    let got = aws(&py, &s, &["route53", "get-change", "--id", &change_id]);
    assert_eq!(got["ChangeInfo"]["Status"], "INSYNC");
    let records = aws(
        &py,
        &s,
        &[
            "route53",
            "list-resource-record-sets",
            "--hosted-zone-id",
            &zone_id,
        ],
    );
    let records = records["ResourceRecordSets"].as_array().unwrap();
    let types: Vec<&str> = records
        .iter()
        .map(|r| r["Type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["NS", "SOA", "A"], "{records:?}");
    let a = &records[2];
    assert_eq!(a["Name"], "db.example.internal.");
    assert_eq!(a["ResourceRecords"][0]["Value"], "10.0.2.30");
    let got = aws(&py, &s, &["route53", "get-hosted-zone", "--id", &zone_id]);
    assert_eq!(got["VPCs"][0]["VPCId"], vpc.as_str());
    assert_eq!(got["HostedZone"]["ResourceRecordSetCount"], 3);
    // The region's VPC resolver answers from the zone: a trace to the name reaches the app
    // instance (two-tier's app port is 8080).
    let t = trace(&s, "tcp 10.0.1.20:40000 -> db.example.internal:8080");
    assert_eq!(t["disposition"], "DELIVERED", "{t}");
    let first = t["hops"][0].to_string();
    assert!(
        first.contains("db.example.internal is 10.0.2.30"),
        "{first}"
    );
    // A name in no zone the VPC sees is an error of the trace, not a packet.
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["trace", "--endpoint", &s.url, "--json"])
        .arg("tcp 10.0.1.20:40000 -> cache.example.internal:6379")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cache.example.internal"), "{err}");
}

#[test]
fn cloudwatch_metrics_through_boto3_and_the_aws_cli() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("state.db"), &[]);
    let script = r#"
import json, sys, boto3, datetime
cw = boto3.client("cloudwatch", endpoint_url=sys.argv[1], region_name="us-east-1")
t = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)
for i, v in enumerate([1.0, 3.0, 5.0]):
    cw.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "Orders", "Value": v,
        "Unit": "Count", "Timestamp": t + datetime.timedelta(seconds=10 * i),
        "Dimensions": [{"Name": "Tier", "Value": "web"}]}])
out = {}
st = cw.get_metric_statistics(Namespace="Shop", MetricName="Orders",
    Dimensions=[{"Name": "Tier", "Value": "web"}], StartTime=t, EndTime=t + datetime.timedelta(hours=1),
    Period=300, Statistics=["Sum", "Maximum", "SampleCount", "Average"])
out["stats"] = [[d["Sum"], d["Maximum"], d["SampleCount"], d["Average"], d["Unit"],
    d["Timestamp"].isoformat()] for d in st["Datapoints"]]
md = cw.get_metric_data(MetricDataQueries=[{"Id": "orders", "MetricStat": {"Metric": {
    "Namespace": "Shop", "MetricName": "Orders", "Dimensions": [{"Name": "Tier", "Value": "web"}]},
    "Period": 60, "Stat": "Sum"}}], StartTime=t, EndTime=t + datetime.timedelta(minutes=5))
r = md["MetricDataResults"][0]
out["data"] = [r["Id"], r["StatusCode"], r["Values"]]
out["metrics"] = [[m["Namespace"], m["MetricName"], m["Dimensions"]] for m in
    cw.list_metrics(Namespace="Shop")["Metrics"]]
print(json.dumps(out))
"#;
    let v = boto3(&py, &s, script);
    assert_eq!(
        v["stats"],
        json!([[9.0, 5.0, 3.0, 3.0, "Count", "2026-12-07T12:00:00+00:00"]])
    );
    assert_eq!(v["data"], json!(["orders", "Complete", [9.0]]));
    assert_eq!(
        v["metrics"],
        json!([["Shop", "Orders", [{"Name": "Tier", "Value": "web"}]]])
    );
    // The aws CLI speaks the Query protocol to the same store.
    aws(
        &py,
        &s,
        &[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "Shop",
            "--metric-name",
            "Orders",
            "--dimensions",
            "Tier=web",
            "--value",
            "7",
            "--timestamp",
            "2026-12-07T12:01:00Z",
        ],
    );
    let st = aws(
        &py,
        &s,
        &[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "Shop",
            "--metric-name",
            "Orders",
            "--dimensions",
            "Name=Tier,Value=web",
            "--start-time",
            "2026-12-07T12:00:00Z",
            "--end-time",
            "2026-12-07T13:00:00Z",
            "--period",
            "3600",
            "--statistics",
            "Sum",
            "Minimum",
        ],
    );
    assert_eq!(st["Datapoints"][0]["Sum"], 16.0);
    assert_eq!(st["Datapoints"][0]["Minimum"], 1.0);
    let listed = aws(
        &py,
        &s,
        &["cloudwatch", "list-metrics", "--namespace", "Shop"],
    );
    assert_eq!(listed["Metrics"].as_array().unwrap().len(), 1);
}

#[test]
fn cloudwatch_logs_through_boto3() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("state.db"), &[]);
    let script = r#"
import json, sys, time, boto3, botocore
logs = boto3.client("logs", endpoint_url=sys.argv[1], region_name="us-east-1")
logs.create_log_group(logGroupName="/vpc/flow")
logs.create_log_stream(logGroupName="/vpc/flow", logStreamName="eni-1")
# CloudWatch Logs refuses events older than 14 days: a minute ago.
t = int(time.time()) * 1000 - 60000
out = {"t": t}
r = logs.put_log_events(logGroupName="/vpc/flow", logStreamName="eni-1", logEvents=[
    {"timestamp": t, "message": "2 123456789012 eni-1 10.0.1.20 10.0.2.30 40000 8080 6 1 60 ACCEPT OK"},
    {"timestamp": t + 1000, "message": "2 123456789012 eni-1 10.0.1.20 10.0.2.31 40001 22 6 1 60 REJECT OK"}])
out["rejected_info"] = r.get("rejectedLogEventsInfo")
out["groups"] = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
out["streams"] = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/vpc/flow")["logStreams"]]
ev = logs.get_log_events(logGroupName="/vpc/flow", logStreamName="eni-1", startFromHead=True)
out["events"] = [e["timestamp"] for e in ev["events"]]
f = logs.filter_log_events(logGroupName="/vpc/flow", filterPattern="REJECT")
out["rejected"] = [e["message"].split()[4] for e in f["events"]]
try:
    logs.create_log_group(logGroupName="/vpc/flow")
except botocore.exceptions.ClientError as e:
    out["again"] = e.response["Error"]["Code"]
print(json.dumps(out))
"#;
    let v = boto3(&py, &s, script);
    assert_eq!(v["groups"], json!(["/vpc/flow"]));
    assert_eq!(v["streams"], json!(["eni-1"]));
    let t = v["t"].as_u64().unwrap();
    assert_eq!(v["rejected_info"], Value::Null);
    assert_eq!(v["events"], json!([t, t + 1000]));
    assert_eq!(v["rejected"], json!(["10.0.2.31"]));
    assert_eq!(v["again"], "ResourceAlreadyExistsException");
}
