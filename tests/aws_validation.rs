//! Inputs loaded as AWS would take them: the account's default VPC, and the refusals of EC2 and
//! CloudFormation (`tests/fixtures/validation/`), through the real binary.

mod common;

use common::{assert_verdict, corpus, example, fixture, root, trace, vpcsim};
use serde_json::Value;
use std::path::Path;

/// `vpcsim validate --json`: the exit code and the answer.
fn validate(topology: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["validate".to_string(), "--json".into()];
    for t in topology {
        args.push("-t".into());
        args.push(t.display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = vpcsim(&args);
    assert!(out.code == 0 || out.code == 2, "{}", out.stderr);
    let json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", out.stdout));
    (out.code, json)
}

fn errors(v: &Value) -> Vec<(String, String, String)> {
    v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["logical_id"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap_or("").to_string(),
                e["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The one error about `logical_id`, with its code; panics with the whole list otherwise.
fn error_of<'a>(errs: &'a [(String, String, String)], logical_id: &str) -> (&'a str, &'a str) {
    let found: Vec<_> = errs.iter().filter(|e| e.0 == logical_id).collect();
    assert_eq!(found.len(), 1, "errors about {logical_id}: {errs:#?}");
    (found[0].1.as_str(), found[0].2.as_str())
}

fn fx(name: &str) -> std::path::PathBuf {
    fixture(&format!("validation/{name}"))
}

#[test]
fn default_vpc_holds_groups_and_instances_without_a_vpc() {
    let t = fx("default-vpc.yaml");
    let (code, v) = validate(&[&t], &[]);
    assert_eq!(code, 0, "{v:#}");
    let d = &v["default_vpc"];
    assert_eq!(d["cidr"], "172.31.0.0/16", "{d:#}");
    assert!(d["vpc_id"].as_str().is_some_and(|s| s.starts_with("vpc-")));
    assert!(d["internet_gateway_id"]
        .as_str()
        .is_some_and(|s| s.starts_with("igw-")));
    let subnets = d["subnets"].as_array().unwrap();
    // One /20 per zone of us-east-1 (a-f), in zone order, all with public IPs on launch.
    let cidrs: Vec<&str> = subnets
        .iter()
        .map(|s| s["cidr"].as_str().unwrap())
        .collect();
    assert_eq!(
        cidrs,
        [
            "172.31.0.0/20",
            "172.31.16.0/20",
            "172.31.32.0/20",
            "172.31.48.0/20",
            "172.31.64.0/20",
            "172.31.80.0/20"
        ]
    );
    assert!(subnets.iter().all(|s| s["map_public_ip_on_launch"] == true));
    assert_eq!(subnets[1]["availability_zone"], "us-east-1b");
    // The default VPC comes with the account: the template's resource counts leave it out.
    assert_eq!(v["resources"]["AWS::EC2::VPC"], Value::Null, "{v:#}");
    assert_eq!(v["resources"]["AWS::EC2::SecurityGroup"], 1);

    // The instance is in us-east-1b's default subnet, with a public address through the
    // default VPC's internet gateway and main route table.
    let inbound = trace(&t, "tcp 203.0.113.9:40000 -> 198.18.0.1:80", &[]);
    assert_verdict(&inbound, "DELIVERED", None, "Web");
    assert_eq!(inbound["packet"]["dst"], "172.31.16.4", "{inbound:#}");
    let ssh = trace(&t, "tcp 203.0.113.9:40000 -> 198.18.0.1:22", &[]);
    assert_verdict(&ssh, "DROPPED", Some("SG_INGRESS_DENIED"), "WebGroup");
    let outbound = trace(&t, "tcp 172.31.16.4:40000 -> 8.8.8.8:443", &[]);
    assert_eq!(outbound["disposition"], "EXITED", "{outbound:#}");
    assert_eq!(outbound["at"], "DefaultInternetGateway", "{outbound:#}");
}

#[test]
fn default_vpc_only_when_needed_or_asked_for() {
    let (_, v) = validate(&[&example()], &[]);
    assert_eq!(v["default_vpc"], Value::Null);
    let (code, v) = validate(&[&example()], &["--default-vpc"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["default_vpc"]["cidr"], "172.31.0.0/16");
    let out = vpcsim([
        "validate",
        "-t",
        &example().display().to_string(),
        "--default-vpc",
    ]);
    assert!(out.stdout.contains("default VPC vpc-"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("172.31.80.0/20 (us-east-1f), public IPs on launch"),
        "{}",
        out.stdout
    );
}

#[test]
fn default_vpc_follows_the_region_and_zones() {
    let t = fx("default-vpc.yaml");
    let (code, v) = validate(&[&t], &["--zones", "us-east-1=us-east-1a,us-east-1b"]);
    assert_eq!(code, 0, "{v:#}");
    let zones: Vec<&str> = v["default_vpc"]["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["availability_zone"].as_str().unwrap())
        .collect();
    assert_eq!(zones, ["us-east-1a", "us-east-1b"]);
    // The instance asks for us-east-1b, which eu-west-1 does not have.
    let (code, v) = validate(&[&t], &["--region", "eu-west-1"]);
    assert_eq!(code, 2, "{v:#}");
    let errs = errors(&v);
    let (code, msg) = error_of(&errs, "Web");
    assert_eq!(code, "InvalidParameterValue");
    assert!(msg.contains("no default subnet in us-east-1b"), "{msg}");
}

#[test]
fn subnet_with_host_bits_is_refused_not_truncated() {
    let (code, v) = validate(&[&fx("subnet-host-bits.yaml")], &[]);
    assert_eq!(code, 2);
    let errs = errors(&v);
    let (c, msg) = error_of(&errs, "Sloppy");
    assert_eq!(c, "InvalidSubnet.Range");
    assert!(
        msg.contains("The CIDR '10.100.119.0/21' is invalid"),
        "{msg}"
    );
    let (c, msg) = error_of(&errs, "SloppyVpc");
    assert_eq!(c, "InvalidVpc.Range");
    assert!(msg.contains("10.7.0.1/16"), "{msg}");
    assert_eq!(errs.len(), 2, "{errs:#?}");
    // Nothing was truncated into the model.
    let subnets = v["vpcs"][0]["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 1, "{subnets:#?}");
    assert_eq!(subnets[0]["cidr"], "10.100.0.0/24");
}

#[test]
fn zones_outside_the_region_are_refused() {
    let t = fx("zones.yaml");
    let (code, v) = validate(&[&t], &[]);
    assert_eq!(code, 2);
    let errs = errors(&v);
    let (c, msg) = error_of(&errs, "Elsewhere");
    assert_eq!(c, "InvalidParameterValue");
    assert!(
        msg.contains("eu-west-1a") && msg.contains("is not in Region us-east-1"),
        "{msg}"
    );
    let (c, msg) = error_of(&errs, "NoSuchZone");
    assert_eq!(c, "InvalidParameterValue");
    assert!(msg.contains("does not exist in Region us-east-1"), "{msg}");
    assert_eq!(errs.len(), 2, "{errs:#?}");

    // --zones replaces the list: us-east-1z now exists, us-east-1f no longer does.
    let (_, v) = validate(&[&t], &["--zones", "us-east-1=us-east-1a,us-east-1z"]);
    let errs = errors(&v);
    assert_eq!(error_of(&errs, "Fine").0, "InvalidParameterValue");
    assert!(errs.iter().all(|e| e.0 != "NoSuchZone"), "{errs:#?}");
    // A malformed --zones is a usage error.
    let out = vpcsim([
        "validate",
        "-t",
        &t.display().to_string(),
        "--zones",
        "us-east-1",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

/// The corpus templates that rely on the default VPC load (and trace) once it exists. Their
/// subnet and VPC parameters take the default VPC's ids, as they would in a real account.
#[test]
fn corpus_templates_that_need_the_default_vpc() {
    let Some(cfn) = corpus("cfn") else {
        eprintln!("note: ../shared/corpus is absent; skipped");
        return;
    };
    let ids = |t: &Path| {
        let (_, v) = validate(&[t], &[]);
        let d = v["default_vpc"].clone();
        assert!(d.is_object(), "{}: no default VPC: {v:#}", t.display());
        let subnet = |i: usize| d["subnets"][i]["subnet_id"].as_str().unwrap().to_string();
        (d.clone(), subnet(0), subnet(1))
    };

    // The application load balancer is simulated: its subnets and its target groups' VPC take
    // the default VPC's ids.
    let alb = cfn.join("troposphere/ApplicationELB.template");
    let (d, a, b) = ids(&alb);
    let params = [
        format!("subnetA={a}"),
        format!("subnetB={b}"),
        format!("VpcId={}", d["vpc_id"].as_str().unwrap()),
    ];
    let p: Vec<&str> = params
        .iter()
        .flat_map(|x| ["--param", x.as_str()])
        .collect();
    let (code, v) = validate(&[&alb], &p);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        v["load_balancers"][0]["load_balancer"], "ApplicationElasticLB",
        "{v:#}"
    );
    let out = trace(&alb, "tcp 172.31.0.4:40000 -> 8.8.8.8:443", &p);
    assert_eq!(out["disposition"], "EXITED", "{out:#}");

    let sample = cfn.join("aws-cfn-templates/EC2InstanceWithSecurityGroupSample.yaml");
    let (_, a, _) = ids(&sample);
    let params = [
        "--param".to_string(),
        format!("Subnets={a}"),
        "--param".into(),
        "KeyName=my-key".into(),
    ];
    let p: Vec<&str> = params.iter().map(String::as_str).collect();
    let (code, v) = validate(&[&sample], &p);
    assert_eq!(code, 0, "{v:#}");
    // SSH is open to the template's SSHLocation default (0.0.0.0/0).
    let out = trace(&sample, "tcp 203.0.113.9:40000 -> 198.18.0.1:22", &p);
    assert_verdict(&out, "DELIVERED", None, "EC2Instance");

    let asg = cfn.join("aws-cfn-templates/AutoScalingMultiAZWithNotifications.yaml");
    let (d, a, b) = ids(&asg);
    let params = [
        format!("Subnets={a},{b}"),
        "AZs=us-east-1a,us-east-1b".into(),
        format!("VPC={}", d["vpc_id"].as_str().unwrap()),
        format!(
            "SecurityGroups={}",
            d["default_security_group_id"].as_str().unwrap()
        ),
        "KeyName=my-key".into(),
        "OperatorEMail=ops@example.com".into(),
        "KmsKeyArn=arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            .into(),
        "CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
    ];
    let mut p = Vec::new();
    for x in &params {
        p.push("--param");
        p.push(x.as_str());
    }
    let (code, v) = validate(&[&asg], &p);
    assert_eq!(code, 0, "{v:#}");

    // The network load balancer listens with HTTP, which AWS refuses on a network load
    // balancer as well; everything else loads into the default VPC.
    // Its target group (protocol HTTP) is an Application Load Balancer group: it takes the
    // default VPC's id.
    let nlb = cfn.join("troposphere/NetworkLB.template");
    let (d, a, b) = ids(&nlb);
    let (a, b) = (format!("subnetA={a}"), format!("subnetB={b}"));
    let vpc = format!("VpcId={}", d["vpc_id"].as_str().unwrap());
    let (code, v) = validate(&[&nlb], &["--param", &a, "--param", &b, "--param", &vpc]);
    assert_eq!(code, 2, "{v:#}");
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(error_of(&errs, "Listener").0, "UnsupportedProtocol");
}

#[test]
fn groups_and_targets_of_other_networks_are_refused() {
    let (code, v) = validate(&[&fx("cross-vpc.yaml")], &[]);
    assert_eq!(code, 2);
    let errs = errors(&v);
    for id in ["Mixed", "MixedEni"] {
        let (c, msg) = error_of(&errs, id);
        assert_eq!(c, "InvalidParameter", "{id}");
        assert!(msg.contains("belong to different networks"), "{msg}");
    }
    let (c, msg) = error_of(&errs, "GroupA");
    assert_eq!(c, "InvalidGroup.NotFound");
    assert!(msg.contains("GroupB of VpcB"), "{msg}");
    let (c, msg) = error_of(&errs, "ToGoneInstance");
    assert_eq!(c, "InvalidInstanceID.NotFound");
    assert!(
        msg.contains("'i-0123456789abcdef0' does not exist"),
        "{msg}"
    );
    let (c, msg) = error_of(&errs, "ToGoneEni");
    assert_eq!(c, "InvalidNetworkInterfaceID.NotFound");
    assert!(
        msg.contains("'eni-0123456789abcdef0' does not exist"),
        "{msg}"
    );
    assert_eq!(errs.len(), 5, "{errs:#?}");
}

#[test]
fn errors_of_every_phase_are_reported_at_once() {
    let (code, v) = validate(&[&fx("all-errors.yaml")], &[]);
    assert_eq!(code, 2);
    let errs = errors(&v);
    assert_eq!(error_of(&errs, "Association").0, "UnresolvedReference");
    assert_eq!(error_of(&errs, "Outside").0, "InvalidSubnet.Range");
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

/// `--param` values for parameters.yaml that name the default VPC's resources.
fn existing(v: &Value) -> Vec<String> {
    let d = &v["default_vpc"];
    let subnet = |i: usize| d["subnets"][i]["subnet_id"].as_str().unwrap().to_string();
    vec![
        format!("VpcId={}", d["vpc_id"].as_str().unwrap()),
        format!("Subnets={},{}", subnet(0), subnet(1)),
        format!(
            "Groups={}",
            d["default_security_group_id"].as_str().unwrap()
        ),
    ]
}

fn with_params(base: &[String], extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--default-vpc".to_string()];
    for p in base.iter().map(String::as_str).chain(extra.iter().copied()) {
        args.push("--param".into());
        args.push(p.into());
    }
    args
}

#[test]
fn parameters_are_checked_as_cloudformation_checks_them() {
    let t = fx("parameters.yaml");
    // The AWS-specific types default to "", which names nothing.
    let (code, v) = validate(&[&t], &["--default-vpc"]);
    assert_eq!(code, 2);
    let errs = errors(&v);
    for id in ["VpcId", "Subnets", "Groups"] {
        let (c, msg) = error_of(&errs, id);
        assert_eq!(c, "InvalidParameterValue");
        assert!(
            msg.starts_with(&format!("Parameter validation failed: parameter value  for parameter name {id} does not exist")),
            "{msg}"
        );
    }
    let base = existing(&v);
    let run = |extra: &[&str]| {
        let args = with_params(&base, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        validate(&[&t], &args)
    };
    let (code, v) = run(&[]);
    assert_eq!(code, 0, "{v:#}");

    let cases: [(&str, &str, &str); 12] = [
        (
            "Env=test",
            "Env",
            "Parameter 'Env' must be one of AllowedValues (prod, dev)",
        ),
        (
            "Name=Web01",
            "Name",
            "Parameter 'Name' must match pattern [a-z]+[0-9]*",
        ),
        // Java's matches(): the whole value, not a part of it.
        (
            "Name=web01-x",
            "Name",
            "Parameter 'Name' must match pattern",
        ),
        (
            "Name=ab",
            "Name",
            "Parameter 'Name' must contain at least 3 characters",
        ),
        (
            "Name=abcdefghi",
            "Name",
            "Parameter 'Name' must contain at most 8 characters",
        ),
        (
            "Code=ab12",
            "Code",
            "Parameter 'Code' failed to satisfy constraint: two capital letters, then two digits",
        ),
        (
            "Count=0",
            "Count",
            "Parameter 'Count' must be a number not less than 1",
        ),
        (
            "Count=5",
            "Count",
            "Parameter 'Count' must be a number not greater than 4",
        ),
        ("Count=two", "Count", "Parameter 'Count' must be a number"),
        (
            "Ports=80,8080",
            "Ports",
            "Parameter 'Ports' must be a number not greater than 1024",
        ),
        (
            "Cidrs=10.0.0.0/16,ten",
            "Cidrs",
            "Parameter 'Cidrs' must match pattern",
        ),
        (
            "Zone=us-west-2a",
            "Zone",
            "parameter value us-west-2a for parameter name Zone does not exist",
        ),
    ];
    for (param, id, expected) in cases {
        let (code, v) = run(&[param]);
        assert_eq!(code, 2, "{param}: {v:#}");
        let errs = errors(&v);
        let (c, msg) = error_of(&errs, id);
        assert_eq!(c, "InvalidParameterValue", "{param}");
        assert!(msg.contains(expected), "{param}: {msg}");
    }
    let (code, v) = run(&["Subnets=subnet-0123456789abcdef0"]);
    assert_eq!(code, 2);
    let errs = errors(&v);
    assert!(error_of(&errs, "Subnets").1.contains(
        "parameter value subnet-0123456789abcdef0 for parameter name Subnets does not exist"
    ));
    // Key pairs are not modelled: any name is taken.
    assert_eq!(run(&["KeyName=other"]).0, 0);
}

/// A VPC address that no subnet holds is dropped at the VPC, by trace and reach alike; an
/// address of a subnet that no interface holds is still dropped at the subnet.
#[test]
fn address_outside_every_subnet_is_dropped_at_the_vpc() {
    let f = fixture("spec/fixture-f.yaml").display().to_string();
    let peering = fixture("spec/v18-peering.yaml").display().to_string();
    let run = |args: &[&str]| {
        let mut all = vec![args[0], "-t", &f, "-t", &peering, "--json"];
        all.extend(&args[1..]);
        let out = vpcsim(&all);
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        serde_json::from_str::<Value>(&out.stdout).unwrap()
    };
    let v = run(&["trace", "tcp 10.0.1.20:40000 -> 10.0.9.9:443"]);
    assert_verdict(&v, "DROPPED", Some("NO_DESTINATION"), "VpcA");
    let v = run(&["trace", "tcp 10.0.1.20:40000 -> 10.0.1.200:443"]);
    assert_verdict(&v, "DROPPED", Some("NO_DESTINATION"), "Pub");

    let out = vpcsim([
        "reach",
        "-t",
        &f,
        "-t",
        &peering,
        "--from",
        "Web",
        "--to",
        "10.0.9.0/24",
        "--protocol",
        "tcp",
    ]);
    assert!(
        out.stdout.contains("NO_DESTINATION at VpcA"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn get_azs_answers_the_zones_given() {
    let t = fx("getazs.yaml");
    let zone = |extra: &[&str]| {
        let (code, v) = validate(&[&t], extra);
        assert_eq!(code, 0, "{v:#}");
        v["vpcs"][0]["subnets"][0]["availability_zone"].clone()
    };
    assert_eq!(zone(&[]), "us-east-1b");
    assert_eq!(
        zone(&["--zones", "us-east-1=us-east-1c,us-east-1d"]),
        "us-east-1d"
    );
}

/// A template that relies on the default VPC, deployed into an account whose snapshot holds its
/// default VPC (`IsDefault`), uses that VPC instead of creating a second 172.31.0.0/16.
#[test]
fn templates_deployed_into_an_account_use_its_default_vpc() {
    let dir = tempfile::tempdir().unwrap();
    let template = fixture("stacks/default-vpc.yaml");
    let out = vpcsim([
        "export",
        "-t",
        &template.display().to_string(),
        "--out",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (_, account) = validate(&[dir.path()], &[]);
    let default_id = account["default_vpc"]["vpc_id"].clone();
    assert!(
        default_id.is_string(),
        "the export keeps IsDefault: {account:#}"
    );

    let (code, v) = validate(&[dir.path(), &template], &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["default_vpc"]["vpc_id"], default_id, "{v:#}");
    let default_vpcs = v["vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["cidrs"][0] == "172.31.0.0/16")
        .count();
    assert_eq!(default_vpcs, 1, "{v:#}");
}

/// One destination per route table, whatever the target: a second route for 10.0.1.0/24 in
/// the ingress route table is refused whether the first one goes to a Gateway Load Balancer
/// endpoint (kept apart from ordinary routes) or the second one does.
#[test]
fn a_route_table_holds_one_route_per_destination_across_target_kinds() {
    let example = std::fs::read_to_string(root().join("examples/gwlb.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extra = "
  SecondRouteToWebSubnet:
    Type: AWS::EC2::Route
    Properties: { RouteTableId: !Ref IngressRouteTable, DestinationCidrBlock: 10.0.1.0/24, GatewayId: !Ref InternetGateway }
";
    let at = example
        .find("\n  WebSubnetViaEndpoint:")
        .expect("the example's ingress route");
    let t = dir.path().join("dup.yaml");
    // After the endpoint's route, then before it: either order is refused.
    for (name, text) in [
        (
            "after",
            format!("{}{extra}{}", &example[..at], &example[at..]),
        ),
        (
            "before",
            example.replacen("Resources:\n", &format!("Resources:{extra}"), 1),
        ),
    ] {
        std::fs::write(&t, text).unwrap();
        let (code, v) = validate(&[&t], &[]);
        assert_eq!(code, 2, "{name}: {v:#}");
        let errs = errors(&v);
        let dup: Vec<_> = errs
            .iter()
            .filter(|e| e.1 == "RouteAlreadyExists")
            .collect();
        assert_eq!(dup.len(), 1, "{name}: {errs:#?}");
        assert!(
            dup[0].2.contains("already has a route for 10.0.1.0/24"),
            "{dup:?}"
        );
    }
}
