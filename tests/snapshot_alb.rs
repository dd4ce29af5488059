//! Application Load Balancers, AWS WAF and Auto Scaling groups in describe-* snapshots, through
//! the binary: `examples/web-app.yaml` is exported (`LoadBalancers` of type application,
//! `TargetGroups`, `LoadBalancerListeners`, `ListenerRules`, `LoadBalancerTargetHealth`,
//! `AutoScalingGroups`, `IPSet-*`/`WebACL-*`) and read back, and the template and its export
//! give the same verdicts, hops and HTTP answers, in trace and in replay.

mod common;
mod replay_support;

use common::*;
use replay_support::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const REGION_DIR: &str = "aws_configs/123456789012/us-east-1";

fn web_app() -> PathBuf {
    root().join("examples/web-app.yaml")
}

fn export_to(template: &Path, out: &Path) {
    let o = vpcsim([
        "export",
        "-t",
        &template.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        !o.stderr.contains("AWS::ElasticLoadBalancingV2")
            && !o.stderr.contains("AWS::WAFv2")
            && !o.stderr.contains("AutoScalingGroup"),
        "{}",
        o.stderr
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The verdict, every hop's resource (by AWS id), stage and action, and the HTTP answer.
fn signature(v: &Value) -> Value {
    let hops: Vec<Value> = v["hops"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|h| json!([h["id"], h["stage"], h["action"], h["packet"]]))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "disposition": v["disposition"], "reason": v["reason"], "hops": hops,
        "status": v["http"]["response"]["status"], "location": v["http"]["response"]["location"],
    })
}

/// The load balancer's first node's public address, from the export.
fn alb_public_address(region: &Path) -> String {
    let lbs = read_json(&region.join("LoadBalancers.json"));
    let lb = lbs["LoadBalancers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["Type"] == "application")
        .expect("the ALB is exported");
    let enis = read_json(&region.join("NetworkInterfaces.json"));
    let arn = lb["LoadBalancerArn"].as_str().unwrap();
    let description = format!("ELB {}", arn.split_once(":loadbalancer/").unwrap().1);
    let node = enis["NetworkInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["Description"] == description.as_str())
        .unwrap_or_else(|| panic!("no node interface {description}: {enis:#}"));
    node["Association"]["PublicIp"]
        .as_str()
        .expect("an internet-facing node has a public address")
        .to_string()
}

fn http_flows(alb: &str) -> Vec<(String, Vec<&'static str>)> {
    let client = format!("tcp 203.0.113.9:40000 -> {alb}:80");
    let blocked = format!("tcp 198.51.100.7:40000 -> {alb}:80");
    vec![
        (client.clone(), vec!["--http", "GET /"]),
        (client.clone(), vec!["--http", "GET /api/users"]),
        (client.clone(), vec!["--http", "GET /old/page"]),
        (
            client.clone(),
            vec![
                "--http",
                "GET /",
                "--header",
                "Host: maintenance.example.com",
            ],
        ),
        (blocked, vec!["--http", "GET /"]),
        (format!("tcp 203.0.113.9:40000 -> {alb}:8080"), vec![]),
        (client, vec![]),
    ]
}

#[test]
fn web_app_exports_alb_waf_and_auto_scaling_in_aws_shapes() {
    let dir = tempfile::TempDir::new().unwrap();
    export_to(&web_app(), dir.path());
    let region = dir.path().join(REGION_DIR);
    let groups = read_json(&region.join("TargetGroups.json"));
    let api = groups["TargetGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["TargetGroupName"] == "api")
        .unwrap();
    assert_eq!(api["Protocol"], "HTTP");
    assert_eq!(api["HealthCheckPath"], "/health");
    assert_eq!(api["Matcher"]["HttpCode"], "200-299");
    let rules = read_json(&region.join("ListenerRules.json"));
    let listed = rules["ListenerRules"][0]["Rules"].as_array().unwrap();
    let priorities: Vec<&str> = listed
        .iter()
        .map(|r| r["Priority"].as_str().unwrap())
        .collect();
    assert_eq!(priorities, ["5", "10", "20", "default"], "{rules:#}");
    assert_eq!(
        listed[0]["Actions"][0]["RedirectConfig"]["StatusCode"],
        "HTTP_301"
    );
    assert_eq!(
        listed[2]["Conditions"][0]["HostHeaderConfig"]["Values"],
        json!(["maintenance.*"])
    );
    let acl = read_json(&region.join("WebACL-web-app.json"));
    assert_eq!(acl["WebACL"]["Name"], "web-app");
    assert_eq!(acl["ResourceArns"].as_array().unwrap().len(), 1, "{acl:#}");
    let set = read_json(&region.join("IPSet-block-list.json"));
    assert_eq!(set["IPSet"]["Addresses"], json!(["198.51.100.0/24"]));
    let asg = read_json(&region.join("AutoScalingGroups.json"));
    let group = &asg["AutoScalingGroups"][0];
    assert_eq!(group["Instances"].as_array().unwrap().len(), 2, "{asg:#}");
    assert_eq!(group["TargetGroupARNs"].as_array().unwrap().len(), 1);

    let out = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("application load balancer arn:aws:elasticloadbalancing"),
        "{}",
        out.stdout
    );
}

#[test]
fn web_app_and_its_export_trace_http_alike() {
    let dir = tempfile::TempDir::new().unwrap();
    export_to(&web_app(), dir.path());
    let alb = alb_public_address(&dir.path().join(REGION_DIR));
    let mut seen = Vec::new();
    for (flow, extra) in http_flows(&alb) {
        let a = trace(&web_app(), &flow, &extra);
        let b = trace(dir.path(), &flow, &extra);
        assert_eq!(
            signature(&a),
            signature(&b),
            "{flow} {extra:?}\ntemplate: {a:#}\nsnapshot: {b:#}"
        );
        seen.push((
            b["disposition"].clone(),
            b["reason"].clone(),
            b["http"]["response"]["status"].clone(),
        ));
    }
    // The flows cover a forward per rule, a redirect, a fixed response, a WAF block and a port
    // the load balancer's security group refuses.
    let statuses: Vec<&Value> = seen.iter().map(|s| &s.2).collect();
    for want in [json!(200), json!(301), json!(503), json!(403)] {
        assert!(statuses.contains(&&want), "{seen:?}");
    }
    assert!(seen.iter().any(|s| s.1 == "WAF_BLOCKED"), "{seen:?}");
}

#[test]
fn web_app_and_its_export_replay_alike() {
    let dir = tempfile::TempDir::new().unwrap();
    export_to(&web_app(), dir.path());
    let alb = alb_public_address(&dir.path().join(REGION_DIR));
    let request = b"GET /api/users HTTP/1.1\r\nHost: shop.example.com\r\n\r\n";
    let mut data = client_exchange(("203.0.113.9", 40000), (&alb, 80), request);
    data.extend(client_exchange(
        ("198.51.100.7", 40001),
        (&alb, 80),
        request,
    ));
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, 1, &close_frames(data));
    let key = |v: &Vec<Value>| -> Vec<Value> {
        v.iter()
            .map(|x| {
                json!([
                    x["disposition"],
                    x["reason"],
                    x["http"]["response"]["status"]
                ])
            })
            .collect()
    };
    let a = replay(&web_app(), &pcap, &dir.path().join("out-a"), &[]);
    let b = replay(dir.path(), &pcap, &dir.path().join("out-b"), &[]);
    assert_eq!(key(&a), key(&b), "template: {a:#?}\nsnapshot: {b:#?}");
    let statuses: Vec<Value> = b
        .iter()
        .map(|x| x["http"]["response"]["status"].clone())
        .collect();
    assert!(statuses.contains(&json!(200)), "{b:#?}");
    assert!(statuses.contains(&json!(403)), "{b:#?}");
}
