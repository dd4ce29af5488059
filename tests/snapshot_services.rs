//! describe-* snapshots of the services added after the EC2 core, through the binary: AWS
//! Network Firewall (`aws network-firewall describe-firewall`, `describe-firewall-policy`,
//! `describe-rule-group`, `describe-logging-configuration`) is exported and read back, a
//! template and its export trace alike, every `RulesSource` form loads from AWS's own shape,
//! and partial snapshots fail closed with coded warnings.

mod common;

use common::*;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use vpcsim_controlplane::model::EniOwner;
use vpcsim_controlplane::{load_files, LoadOptions};

const REGION_DIR: &str = "aws_configs/123456789012/us-east-1";

fn inspection() -> PathBuf {
    root().join("examples/inspection.yaml")
}

/// The verdict and every hop's resource (by AWS id), stage, action and packet.
fn signature(v: &Value) -> Value {
    let hops: Vec<Value> = v["hops"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|h| serde_json::json!([h["id"], h["stage"], h["action"], h["packet"]]))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({"disposition": v["disposition"], "reason": v["reason"], "hops": hops})
}

/// Flows from every instance (and the internet) to every interface address, public address and
/// an internet host, over the ports the example's rules name.
fn flows(template: &Path) -> Vec<String> {
    let loaded = load_files(&[template.to_path_buf()], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let m = &loaded.model;
    let mut sources: Vec<IpAddr> = vec!["203.0.113.9".parse().unwrap()];
    let mut targets: Vec<IpAddr> = vec!["198.51.100.7".parse().unwrap()];
    for (i, e) in m.enis.iter().enumerate() {
        for a in &e.private_v4 {
            if matches!(e.owner, EniOwner::Instance(..)) {
                sources.push(IpAddr::V4(*a));
            }
            targets.push(IpAddr::V4(*a));
            if let Some(p) = m.public_ip_of(i, *a) {
                targets.push(IpAddr::V4(p));
            }
        }
    }
    let mut out = Vec::new();
    for src in &sources {
        for dst in targets.iter().filter(|d| *d != src) {
            for p in [22u16, 23, 80, 443, 587, 3389] {
                out.push(format!("tcp {src}:40000 -> {dst}:{p}"));
            }
            out.push(format!("udp {src}:40000 -> {dst}:53"));
            out.push(format!("icmp {src} -> {dst}"));
        }
    }
    out
}

fn export_to(template: &Path, out: &Path) -> Output {
    let o = vpcsim([
        "export",
        "-t",
        &template.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    o
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Trace `flows` (each with its extra arguments) through the template and the snapshot: the
/// same verdicts and hops. Returns how many were delivered or left for the internet.
fn assert_same(template: &Path, snapshot: &Path, flows: &[(String, Vec<&str>)]) -> usize {
    let mut passed = 0;
    for (f, extra) in flows {
        let a = trace(template, f, extra);
        let b = trace(snapshot, f, extra);
        assert_eq!(
            signature(&a),
            signature(&b),
            "{f} {extra:?}\ntemplate: {a:#}\nsnapshot: {b:#}"
        );
        passed += (a["disposition"] != "DROPPED") as usize;
    }
    passed
}

/// The domain-list flows of the example: allowed and other names, by TLS SNI and HTTP Host.
fn domain_flows() -> Vec<(String, Vec<&'static str>)> {
    let mut out = Vec::new();
    for (name, host) in [
        ("www.example.com", "Host: www.example.com"),
        ("checkip.amazonaws.com", "Host: checkip.amazonaws.com"),
        ("evil.example.net", "Host: evil.example.net"),
    ] {
        out.push((
            "tcp 10.1.1.10:40000 -> 198.51.100.7:443".to_string(),
            vec!["--sni", name],
        ));
        out.push((
            "tcp 10.2.1.10:40000 -> 198.51.100.7:80".to_string(),
            vec!["--http", "GET /", "--header", host],
        ));
    }
    out
}

#[test]
fn network_firewall_round_trip_traces_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let o = export_to(&inspection(), dir.path());
    // Everything of the example is exported: nothing is named as left out.
    assert!(!o.stderr.contains("is not exported"), "{}", o.stderr);
    for f in [
        "Firewall-egress-inspection.json (1)",
        "FirewallPolicy-egress-policy.json (1)",
        "RuleGroup-no-rdp.json (1)",
        "LoggingConfiguration-egress-inspection.json (1)",
    ] {
        assert!(o.stdout.contains(f), "{f}: {}", o.stdout);
    }
    let base = dir.path().join(REGION_DIR);
    let fw = read_json(&base.join("Firewall-egress-inspection.json"));
    let sync = fw["FirewallStatus"]["SyncStates"].as_object().unwrap();
    assert_eq!(sync.len(), 2, "{fw:#}");
    assert!(sync["us-east-1a"]["Attachment"]["EndpointId"]
        .as_str()
        .unwrap()
        .starts_with("vpce-"));
    let policy = read_json(&base.join("FirewallPolicy-egress-policy.json"));
    assert_eq!(
        policy["FirewallPolicy"]["StatefulEngineOptions"]["RuleOrder"],
        "STRICT_ORDER"
    );
    assert_eq!(
        policy["FirewallPolicyResponse"]["FirewallPolicyName"],
        "egress-policy"
    );
    let flows: Vec<(String, Vec<&str>)> = flows(&inspection())
        .into_iter()
        .map(|f| (f, vec![]))
        .chain(domain_flows())
        .collect();
    assert!(flows.len() > 100, "{} flows", flows.len());
    let passed = assert_same(&inspection(), dir.path(), &flows);
    assert!(passed > 0, "no flow passed the firewall");
}

/// Rule groups in the shapes AWS prints for domain lists (`RulesSourceList`) and 5-tuple rules
/// (`StatefulRules`), in place of the `RulesString` the export writes: the same verdicts.
#[test]
fn network_firewall_rule_sources_load_from_aws_shapes() {
    let dir = tempfile::tempdir().unwrap();
    export_to(&inspection(), dir.path());
    let base = dir.path().join(REGION_DIR);
    for name in [
        "RuleGroup-allowed-domains.json",
        "RuleGroup-egress-rules.json",
    ] {
        std::fs::copy(
            fixture("snapshot_services/firewall").join(name),
            base.join(name),
        )
        .unwrap();
    }
    let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(!v.stdout.contains("warnings ("), "{}", v.stdout);
    let flows: Vec<(String, Vec<&str>)> = [
        "tcp 10.1.1.10:40000 -> 198.51.100.7:23",
        "tcp 10.1.1.10:40000 -> 198.51.100.7:587",
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        "tcp 10.1.1.10:40000 -> 198.51.100.7:3389",
    ]
    .into_iter()
    .map(|f| (f.to_string(), vec![]))
    .chain(domain_flows())
    .collect();
    assert_same(&inspection(), dir.path(), &flows);
    let t = trace(dir.path(), "tcp 10.1.1.10:40000 -> 198.51.100.7:23", &[]);
    assert_eq!(t["reason"], "NETWORK_FIREWALL_REJECTED", "{t:#}");
    let t = trace(
        dir.path(),
        "tcp 10.1.1.10:40000 -> 198.51.100.7:443",
        &["--sni", "evil.example.net"],
    );
    assert_eq!(t["reason"], "NETWORK_FIREWALL_DROPPED", "{t:#}");
}

/// A policy whose rule group is missing from the snapshot is left out with the firewall that
/// uses it, and so is a firewall whose policy is missing: routes to their endpoints are
/// blackholes, never a firewall that passes everything.
#[test]
fn network_firewall_missing_rule_group_or_policy_fails_closed() {
    for (file, warning) in [
        (
            "RuleGroup-no-rdp.json",
            "UnresolvedReference: rule group arn:aws:network-firewall:us-east-1:123456789012:stateless-rulegroup/no-rdp is not in the snapshot (describe-rule-group): the policy is left out, and the firewalls that use it",
        ),
        (
            "FirewallPolicy-egress-policy.json",
            "UnresolvedReference.Parent: FirewallPolicyArn \"arn:aws:network-firewall:us-east-1:123456789012:firewall-policy/egress-policy\" is not in the snapshot (describe-firewall-policy): arn:aws:network-firewall:us-east-1:123456789012:firewall/egress-inspection is skipped and routes to its endpoints are blackholes",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        export_to(&inspection(), dir.path());
        std::fs::remove_file(dir.path().join(REGION_DIR).join(file)).unwrap();
        let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
        assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
        assert!(v.stdout.contains(warning), "{}", v.stdout);
        // The routes to the endpoints are follow-ons: not reported again.
        assert!(v.stdout.contains("warnings (1)"), "{}", v.stdout);
        let t = trace(dir.path(), "tcp 10.1.1.10:40000 -> 198.51.100.7:443", &[]);
        assert_eq!(t["disposition"], "DROPPED", "{t:#}");
        assert_eq!(t["reason"], "BLACKHOLE_ROUTE", "{t:#}");
    }
}

/// Without the endpoints' interfaces (describe-network-interfaces from before the firewall),
/// each endpoint gets the lowest free address of its subnet, with a warning.
#[test]
fn network_firewall_endpoint_without_interface_warns() {
    let dir = tempfile::tempdir().unwrap();
    export_to(&inspection(), dir.path());
    let file = dir.path().join(REGION_DIR).join("NetworkInterfaces.json");
    let mut enis = read_json(&file);
    enis["NetworkInterfaces"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["InterfaceType"] != "gateway_load_balancer_endpoint");
    std::fs::write(&file, enis.to_string()).unwrap();
    let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(
            "in describe-network-interfaces: it is given 10.100.1.4, the lowest free address of"
        ),
        "{}",
        v.stdout
    );
    let t = trace(
        dir.path(),
        "tcp 10.1.1.10:40000 -> 198.51.100.7:443",
        &["--sni", "www.example.com"],
    );
    assert_eq!(t["disposition"], "EXITED", "{t:#}");
}

/// Bad Network Firewall output: a rule group AWS would refuse is an error naming it, a rule
/// outside the simulated subset a warning, a firewall still provisioning a warning per subnet.
#[test]
fn network_firewall_bad_snapshot_files_are_coded() {
    let dir = tempfile::tempdir().unwrap();
    export_to(&inspection(), dir.path());
    let base = dir.path().join(REGION_DIR);
    let file = base.join("RuleGroup-egress-rules.json");
    let mut g = read_json(&file);
    g["RuleGroup"]["RulesSource"]["RulesString"] = Value::String(
        "drop tcp $HOME_NET any -> $EXTERNAL_NET 25 (msg:\"x\"; pcre:\"/x/\"; sid:7;)".into(),
    );
    std::fs::write(&file, g.to_string()).unwrap();
    let file = base.join("RuleGroup-allowed-domains.json");
    let mut g = read_json(&file);
    g["RuleGroup"]["RulesSource"] = serde_json::json!({"RulesSourceList": {
        "Targets": [".example.com"], "TargetTypes": ["DNS"], "GeneratedRulesType": "ALLOWLIST"}});
    std::fs::write(&file, g.to_string()).unwrap();
    let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("stateful-rulegroup/allowed-domains: InvalidRequestException: TargetTypes \"DNS\": TLS_SNI or HTTP_HOST"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("stateful-rulegroup/egress-rules: UnsupportedRuleKeyword: rule sid 7: pcre"),
        "{}",
        v.stdout
    );
}

/// A firewall whose status has no endpoint in one of its subnets yet (still provisioning):
/// a warning, and routes to the missing endpoint are blackholes.
#[test]
fn network_firewall_without_endpoint_in_a_zone_warns() {
    let dir = tempfile::tempdir().unwrap();
    export_to(&inspection(), dir.path());
    let file = dir
        .path()
        .join(REGION_DIR)
        .join("Firewall-egress-inspection.json");
    let mut f = read_json(&file);
    f["FirewallStatus"]["SyncStates"]
        .as_object_mut()
        .unwrap()
        .remove("us-east-1b");
    std::fs::write(&file, f.to_string()).unwrap();
    let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("InvalidSnapshot.MissingField: FirewallStatus.SyncStates has no attachment with an EndpointId for subnet-"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("UnresolvedReference.RouteTarget: route 0.0.0.0/0: VpcEndpointId vpce-"),
        "{}",
        v.stdout
    );
    // The spoke in us-east-1a still goes through its endpoint; the other one is blackholed.
    let t = trace(
        dir.path(),
        "tcp 10.1.1.10:40000 -> 198.51.100.7:443",
        &["--sni", "www.example.com"],
    );
    assert_eq!(t["disposition"], "EXITED", "{t:#}");
    let t = trace(
        dir.path(),
        "tcp 10.2.1.10:40000 -> 198.51.100.7:443",
        &["--sni", "www.example.com"],
    );
    assert_eq!(t["reason"], "BLACKHOLE_ROUTE", "{t:#}");
}

/// Kinds snapshots do not carry yet are named on stderr, never lost silently: the launch
/// template of `web-app.yaml` (its ALB and web ACL are exported, see tests/snapshot_alb.rs). The
/// DNS examples are exported whole.
#[test]
fn export_names_what_snapshots_do_not_carry_yet() {
    let dir = tempfile::tempdir().unwrap();
    let o = export_to(&root().join("examples/web-app.yaml"), dir.path());
    assert!(
        o.stderr.contains(
            "(AWS::EC2::LaunchTemplate) is not exported: snapshots do not carry this kind yet"
        ),
        "{}",
        o.stderr
    );
    for n in [
        "(AWS::ElasticLoadBalancingV2::LoadBalancer)",
        "(AWS::WAFv2::WebACL)",
    ] {
        assert!(!o.stderr.contains(n), "{n}: {}", o.stderr);
    }
    for example in ["private-dns.yaml", "hybrid-dns.yaml"] {
        let dir = tempfile::tempdir().unwrap();
        let o = export_to(&root().join("examples").join(example), dir.path());
        assert!(
            !o.stderr.contains("is not exported"),
            "{example}: {}",
            o.stderr
        );
    }
}

/// What must match between a template's and its export's DNS answer: status, records,
/// authority, and the kind of source that answered (zones and records are named by logical id
/// in one and by AWS id in the other).
fn dns_signature(v: &Value) -> Value {
    serde_json::json!({
        "status": v["status"],
        "answers": v["answers"],
        "authority": v["authority"],
        "kind": v["answered_by"]["kind"],
        "set": v["answered_by"]["set_identifier"],
    })
}

fn dns(topology: &Path, from: &str, name: &str, rtype: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "dns".to_string(),
        "-t".into(),
        topology.display().to_string(),
        "--from".into(),
        from.into(),
        name.into(),
        rtype.into(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = vpcsim(&args);
    assert!(o.code == 0 || o.code == 1, "{}: {}", name, o.stderr);
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", o.stdout))
}

/// Every record name and type of `template`, the EC2 names of its instances and a name nobody
/// has, asked from every instance of the template and of its export: the same answers.
/// Names in `skip` (answered by resources snapshots do not carry yet) are left out.
/// `params` are the template's parameters, `extra` the `dns` arguments, `names` more names to
/// ask.
fn assert_dns_round_trip(
    template: &Path,
    params: &[&str],
    extra: &[&str],
    skip: &[&str],
    names: &[&str],
) -> Vec<String> {
    let mut opts = LoadOptions::default();
    for p in params.iter().filter(|p| p.contains('=')) {
        let (k, v) = p.split_once('=').unwrap();
        opts.parameters.insert(k.to_string(), v.to_string());
    }
    let loaded = load_files(&[template.to_path_buf()], &opts);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let m = &loaded.model;
    let mut questions: Vec<(String, &str)> = m
        .dns
        .records
        .iter()
        .map(|r| (r.name.replace('*', "any"), r.rtype.as_str()))
        .filter(|(n, _)| !skip.iter().any(|s| n.ends_with(s)))
        .collect();
    for e in &m.enis {
        for a in &e.private_v4 {
            let dashed = a.to_string().replace('.', "-");
            questions.push((format!("ip-{dashed}.ec2.internal"), "A"));
        }
    }
    questions.push(("nobody-has-this.example".into(), "A"));
    questions.extend(names.iter().map(|n| (n.to_string(), "A")));
    questions.sort();
    questions.dedup();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "export".to_string(),
        "-t".into(),
        template.display().to_string(),
        "--out".into(),
        dir.path().display().to_string(),
    ];
    let mut template_extra: Vec<&str> = extra.to_vec();
    for p in params {
        args.extend(["--param".to_string(), p.to_string()]);
        template_extra.extend(["--param", p]);
    }
    let o = vpcsim(&args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let ids: Vec<String> = m.instances.iter().map(|i| i.origin.id.clone()).collect();
    let mut answered = 0;
    for from in &ids {
        for (name, rtype) in &questions {
            let a = dns(template, from, name, rtype, &template_extra);
            let b = dns(dir.path(), from, name, rtype, extra);
            assert_eq!(
                dns_signature(&a),
                dns_signature(&b),
                "{from} asks {name} {rtype}\ntemplate: {a:#}\nsnapshot: {b:#}"
            );
            answered += (a["status"] == "NOERROR" && a["answers"] != Value::Array(vec![])) as usize;
        }
    }
    assert!(answered > 0, "no question was answered");
    ids
}

#[test]
fn route53_round_trip_answers_the_same() {
    let template = root().join("examples/private-dns.yaml");
    // DNS Firewall is not in snapshots yet: its blocked names are left out.
    // The DNS Firewall's blocked names are asked too.
    let ids = assert_dns_round_trip(
        &template,
        &[],
        &[],
        &[],
        &["x.malware.example", "tracker.example", "malware.example"],
    );
    // The failover record's health check, named by logical id in the template and by id in
    // the export, fails over the same way.
    let dir = tempfile::tempdir().unwrap();
    export_to(&template, dir.path());
    let checks = read_json(&dir.path().join(REGION_DIR).join("HealthChecks.json"));
    let check = checks["HealthChecks"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = dns(
        &template,
        &ids[0],
        "status.internal.example",
        "A",
        &["--unhealthy-check", "BlueCheck"],
    );
    let b = dns(
        dir.path(),
        &ids[0],
        "status.internal.example",
        "A",
        &["--unhealthy-check", &check],
    );
    assert_eq!(a["answers"][0]["data"], "10.0.4.11", "{a:#}");
    assert_eq!(dns_signature(&a), dns_signature(&b), "{a:#}\n{b:#}");
    // get-hosted-zone carries the private zone's VPCs.
    let zones = read_json(&dir.path().join(REGION_DIR).join("HostedZones.json"));
    let private = zones["HostedZones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["Config"]["PrivateZone"] == true)
        .unwrap();
    let id = private["Id"]
        .as_str()
        .unwrap()
        .trim_start_matches("/hostedzone/");
    let zone = read_json(
        &dir.path()
            .join(REGION_DIR)
            .join(format!("HostedZone-{id}.json")),
    );
    assert!(
        zone["VPCs"][0]["VPCId"]
            .as_str()
            .unwrap()
            .starts_with("vpc-"),
        "{zone:#}"
    );
}

/// Forwarding through an outbound endpoint to the on-premises resolver over the VPN, and with
/// the endpoint's security group narrowed so nothing comes back: the same answers, the same
/// SERVFAIL.
#[test]
fn route53_resolver_round_trip_answers_the_same() {
    let template = root().join("examples/hybrid-dns.yaml");
    let zone = root().join("examples/onprem.zone");
    let extra = ["--dns-records", zone.to_str().unwrap()];
    let names = ["host.corp.example", "nope.corp.example"];
    assert_dns_round_trip(&template, &[], &extra, &[], &names);
    assert_dns_round_trip(
        &template,
        &["EndpointEgress=10.0.0.0/16"],
        &extra,
        &[],
        &names,
    );
}

/// Route 53 output as the CLI prints it, written by hand: `list-hosted-zones` alone (a private
/// zone without its VPCs warns), `get-hosted-zone` with `VPCs`, record sets with the apex SOA
/// and NS Route 53 adds and an escaped wildcard, a record whose health check is missing.
#[test]
fn route53_snapshot_reads_cli_output() {
    let dir = tempfile::tempdir().unwrap();
    export_to(&root().join("examples/private-dns.yaml"), dir.path());
    let base = dir.path().join(REGION_DIR);
    for f in std::fs::read_dir(&base).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name.starts_with("HostedZone") || name == "HealthChecks.json" {
            std::fs::remove_file(p).unwrap();
        }
    }
    let vpc = read_json(&base.join("Vpcs.json"))["Vpcs"][0]["VpcId"]
        .as_str()
        .unwrap()
        .to_string();
    let fixtures = fixture("snapshot_services/route53");
    for f in [
        "list-hosted-zones.json",
        "zone-lab.json",
        "records-lab.json",
        "records-other.json",
    ] {
        let text = std::fs::read_to_string(fixtures.join(f)).unwrap();
        std::fs::write(base.join(f), text.replace("VPC_ID", &vpc)).unwrap();
    }
    let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("Z0OTHER00000000000001: InvalidSnapshot.MissingField: private zone other.lab without its VPCs"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("UnresolvedReference: HealthCheckId 11111111-2222-3333-4444-555555555555 is not in the snapshot (list-health-checks): the record set is left out"),
        "{}",
        v.stdout
    );
    let reservations = read_json(&base.join("Reservations.json"));
    let app = reservations["Reservations"][0]["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_string();
    let a = dns(dir.path(), &app, "db.lab", "A", &[]);
    assert_eq!(a["answers"][0]["data"], "10.0.3.40", "{a:#}");
    // vpcsim's resolver answers a wildcard record for its own name only (not for the names
    // it would cover): the escaped name is read as `*.apps.lab`.
    let a = dns(dir.path(), &app, "*.apps.lab", "A", &[]);
    assert_eq!(a["answers"][0]["data"], "10.0.3.41", "{a:#}");
    let a = dns(dir.path(), &app, "mail.lab", "MX", &[]);
    assert_eq!(a["answers"][0]["data"], "10 mx.lab.", "{a:#}");
    // The zone whose VPCs are unknown answers nobody: the name is not found.
    let a = dns(dir.path(), &app, "host.other.lab", "A", &[]);
    assert_eq!(a["status"], "NXDOMAIN", "{a:#}");
}

/// A resolver endpoint without its addresses (no `list-resolver-endpoint-ip-addresses`) warns
/// and forwards nothing; a rule whose endpoint is missing warns: queries it matches get
/// SERVFAIL, never an answer from elsewhere.
#[test]
fn route53_resolver_partial_snapshot_warns() {
    let template = root().join("examples/hybrid-dns.yaml");
    let zone = root().join("examples/onprem.zone");
    for (file, warning) in [
        (
            "ResolverEndpointIpAddresses.json",
            "InvalidSnapshot.MissingField: no addresses (add `aws route53resolver list-resolver-endpoint-ip-addresses --resolver-endpoint-id rslvr-out-",
        ),
        (
            "ResolverEndpoints.json",
            "UnresolvedReference: ResolverEndpointId rslvr-out-",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        export_to(&template, dir.path());
        std::fs::remove_file(dir.path().join(REGION_DIR).join(file)).unwrap();
        let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
        assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
        assert!(v.stdout.contains(warning), "{file}: {}", v.stdout);
        let reservations = read_json(&dir.path().join(REGION_DIR).join("Reservations.json"));
        let app = reservations["Reservations"][0]["Instances"][0]["InstanceId"]
            .as_str()
            .unwrap()
            .to_string();
        let a = dns(
            dir.path(),
            &app,
            "host.corp.example",
            "A",
            &["--dns-records", zone.to_str().unwrap()],
        );
        assert_eq!(a["status"], "SERVFAIL", "{file}: {a:#}");
    }
}

/// A DNS Firewall domain list without its domains (no `list-firewall-domains`) leaves out the
/// list and its rule groups with a warning that says blocked names resolve; a rule group with
/// a rule AWS would refuse is an error.
#[test]
fn dns_firewall_partial_snapshot_is_coded() {
    let template = root().join("examples/private-dns.yaml");
    let dir = tempfile::tempdir().unwrap();
    export_to(&template, dir.path());
    let base = dir.path().join(REGION_DIR);
    std::fs::remove_file(base.join("FirewallDomainListDomains.json")).unwrap();
    let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("InvalidSnapshot.MissingField: no domains (add `aws route53resolver list-firewall-domains --firewall-domain-list-id rslvr-fdl-"),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains("warnings (1)"), "{}", v.stdout);
    let dir = tempfile::tempdir().unwrap();
    export_to(&template, dir.path());
    let file = dir.path().join(REGION_DIR).join("FirewallRules.json");
    let mut rules = read_json(&file);
    rules["FirewallRules"][0]["BlockResponse"] = Value::String("SILENCE".into());
    std::fs::write(&file, rules.to_string()).unwrap();
    let v = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(
            "ValidationException: BlockResponse \"SILENCE\" is not NODATA, NXDOMAIN or OVERRIDE"
        ),
        "{}",
        v.stdout
    );
}
