//! EC2 Auto Scaling groups through the real `vpcsim` binary (SPEC §18): launch templates and
//! launch configurations, `DesiredCapacity` instances balanced over the group's zones, their
//! names `<Group>/<n>` wherever an instance is named, registration in target groups, the load
//! errors AWS gives, and `validate`/`export` listing the instances (export → reload keeps them).
//!
//! Fixtures: `tests/fixtures/asg/zones.yaml` (parameters `Zones` 2 or 3 and `Capacity`; an
//! internal NLB at 10.0.1.100 forwards port 80 to the group on 8080) and
//! `tests/fixtures/asg/sources.yaml` (one group per launch source).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn zones() -> PathBuf {
    fixture("asg/zones.yaml")
}

fn sources() -> PathBuf {
    fixture("asg/sources.yaml")
}

/// `validate --json` of a topology (it must load without errors).
fn validate(topology: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "validate".to_string(),
        "-t".into(),
        topology.display().to_string(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = vpcsim(&args);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// The listed instances of group `group` in `validate --json` output.
fn instances(v: &Value, group: &str) -> Vec<Value> {
    v["auto_scaling_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group)
        .unwrap_or_else(|| panic!("no group {group}: {v:#}"))["instances"]
        .as_array()
        .unwrap()
        .clone()
}

fn field(list: &[Value], key: &str) -> Vec<String> {
    list.iter()
        .map(|i| i[key].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn launches_are_balanced_over_zones_as_aws_does() {
    // Each launch goes to the zone with the fewest instances, ties to the zone listed first.
    let cases: [(&str, u32, &[&str]); 8] = [
        ("2", 1, &["a"]),
        ("2", 2, &["a", "b"]),
        ("2", 3, &["a", "b", "a"]),
        ("2", 5, &["a", "b", "a", "b", "a"]),
        ("3", 1, &["a"]),
        ("3", 2, &["a", "b"]),
        ("3", 3, &["a", "b", "c"]),
        ("3", 5, &["a", "b", "c", "a", "b"]),
    ];
    for (zones_param, capacity, want) in cases {
        let v = validate(
            &zones(),
            &[
                "--param",
                &format!("Zones={zones_param}"),
                "--param",
                &format!("Capacity={capacity}"),
            ],
        );
        let list = instances(&v, "App");
        let got: Vec<String> = field(&list, "availability_zone")
            .iter()
            .map(|z| z.trim_start_matches("us-east-1").to_string())
            .collect();
        assert_eq!(got, want, "{zones_param} zones, {capacity} instances");
        // Zone a has two subnets in the three-zone list: its launches go to the first listed.
        for i in &list {
            assert_ne!(i["subnet"], "SubnetA2", "{i:#}");
        }
        let names = field(&list, "name");
        let expected: Vec<String> = (0..capacity).map(|n| format!("App/{n}")).collect();
        assert_eq!(names, expected);
    }
}

#[test]
fn ids_and_addresses_are_deterministic() {
    let args = ["--param", "Zones=3", "--param", "Capacity=5"];
    let a = instances(&validate(&zones(), &args), "App");
    let b = instances(&validate(&zones(), &args), "App");
    assert_eq!(a, b);
    let ids = field(&a, "instance_id");
    assert!(ids.iter().all(|i| i.starts_with("i-")), "{ids:?}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{ids:?}");
    // The lowest free addresses of each subnet, in launch order.
    assert_eq!(
        field(&a, "private_ip"),
        ["10.0.1.4", "10.0.2.4", "10.0.3.4", "10.0.1.5", "10.0.2.5"]
    );
    // Growing the group keeps the first instances as they were.
    let three = instances(
        &validate(&zones(), &["--param", "Zones=3", "--param", "Capacity=3"]),
        "App",
    );
    assert_eq!(three[..], a[..3]);
}

#[test]
fn launch_templates_and_launch_configurations() {
    let v = validate(&sources(), &[]);
    let one = |g: &str| instances(&v, g).remove(0);
    // Launch template by name, $Default: its interface asks for a public address in a subnet
    // that gives none by default.
    let t = one("Templated");
    assert_eq!(t["public_ip"], "198.18.0.1", "{t:#}");
    assert_eq!(t["security_groups"], serde_json::json!(["WebSg"]));
    let groups = v["auto_scaling_groups"].as_array().unwrap();
    let templated = groups.iter().find(|g| g["group"] == "Templated").unwrap();
    assert_eq!(templated["launch_source"]["launch_template"], "WebTemplate");
    assert_eq!(templated["launch_source"]["version"], "$Default");
    // DesiredCapacity defaults to MinSize.
    assert_eq!(templated["desired_capacity"], 1);
    // A launch configuration refusing a public address in a subnet that maps them; its
    // security group named by GroupName.
    let c = one("Configured");
    assert_eq!(c["public_ip"], Value::Null, "{c:#}");
    assert_eq!(c["security_groups"], serde_json::json!(["WebSg"]));
    let configured = groups.iter().find(|g| g["group"] == "Configured").unwrap();
    assert_eq!(
        configured["launch_source"]["launch_configuration"],
        "NoPublicConfig"
    );
    // Without AssociatePublicIpAddress the subnet decides.
    assert!(one("Legacy")["public_ip"].is_string(), "{v:#}");
    // MixedInstancesPolicy's template, by Fn::GetAtt DefaultVersionNumber; no security group
    // in the template: the VPC's default group.
    let mixed = instances(&v, "Mixed");
    assert_eq!(field(&mixed, "subnet"), ["Public", "AutoPublic"]);
    assert_eq!(
        mixed[0]["security_groups"],
        serde_json::json!(["Vpc.DefaultSecurityGroup"])
    );
    assert_eq!(mixed[0]["public_ip"], Value::Null);
    assert!(mixed[1]["public_ip"].is_string());
    // Counted as the template's resources; the instances are the groups'.
    assert_eq!(v["resources"]["AWS::AutoScaling::AutoScalingGroup"], 5);
    assert_eq!(v["resources"]["AWS::AutoScaling::LaunchConfiguration"], 2);
    assert_eq!(v["resources"]["AWS::EC2::LaunchTemplate"], 2);
    assert_eq!(v["resources"].get("AWS::EC2::Instance"), None);
}

#[test]
fn scaling_policies_and_hooks_load_with_a_note() {
    let v = validate(&sources(), &[]);
    let warnings = v["warnings"].as_array().unwrap();
    let code_of = |id: &str| {
        warnings
            .iter()
            .find(|w| w["logical_id"] == id)
            .map(|w| w["code"].as_str().unwrap().to_string())
    };
    assert_eq!(code_of("Hook").as_deref(), Some("NotSimulated"), "{v:#}");
    // An application load balancer's target group takes the group's instances like any
    // other: no warning about the registration.
    assert_eq!(code_of("Balanced"), None, "{v:#}");
    let a = vpcsim([
        "validate",
        "-t",
        root().join("examples/asg.yaml").to_str().unwrap(),
    ]);
    assert_eq!(a.code, 0, "{}", a.stdout);
    assert!(
        a.stdout.contains("WebScaleOut: NotSimulated"),
        "{}",
        a.stdout
    );
}

/// Load `resources` (YAML lines under `Resources:`) after a VPC with two subnets, a security
/// group and a launch template; returns (exit code, validate --json).
fn load_group(resources: &str) -> (i32, Value) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("t.yaml");
    let text = format!(
        r#"Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {{ CidrBlock: 10.9.0.0/16 }}
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties: {{ VpcId: !Ref Vpc, CidrBlock: 10.9.1.0/24, AvailabilityZone: us-east-1a }}
  OtherVpc:
    Type: AWS::EC2::VPC
    Properties: {{ CidrBlock: 10.8.0.0/16 }}
  OtherSubnet:
    Type: AWS::EC2::Subnet
    Properties: {{ VpcId: !Ref OtherVpc, CidrBlock: 10.8.1.0/24, AvailabilityZone: us-east-1b }}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties: {{ GroupDescription: g, VpcId: !Ref Vpc }}
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData: {{ SecurityGroupIds: [!Ref Sg] }}
  Config:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties: {{ ImageId: ami-1, InstanceType: t3.micro }}
{resources}"#
    );
    std::fs::write(&path, text).unwrap();
    let out = vpcsim(["validate", "-t", path.to_str().unwrap(), "--json"]);
    (out.code, serde_json::from_str(&out.stdout).unwrap())
}

fn first_error(v: &Value) -> (String, String) {
    let e = &v["errors"][0];
    (
        e["code"].as_str().unwrap_or("").to_string(),
        e["message"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn invalid_groups_are_refused_with_aws_codes() {
    let group = |props: &str| {
        format!(
            "  G:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n      VPCZoneIdentifier: [!Ref SubnetA]\n{props}"
        )
    };
    let lt = "      LaunchTemplate: { LaunchTemplateId: !Ref Template, Version: $Latest }\n";
    let cases: Vec<(String, &str, &str)> = vec![
        (
            group(&format!("      MinSize: 3\n      MaxSize: 2\n{lt}")),
            "ValidationError",
            "Max bound, 2, must be greater than or equal to min bound, 3",
        ),
        (
            group(&format!(
                "      MinSize: 1\n      MaxSize: 2\n      DesiredCapacity: 5\n{lt}"
            )),
            "ValidationError",
            "Desired capacity:5 must be between the specified min size:1 and max size:2",
        ),
        (
            group("      MinSize: 1\n      MaxSize: 2\n"),
            "ValidationError",
            "Valid requests must contain either LaunchTemplate",
        ),
        (
            group(&format!(
                "      MinSize: 1\n      MaxSize: 2\n      LaunchConfigurationName: !Ref Config\n{lt}"
            )),
            "ValidationError",
            "Valid requests must contain either LaunchTemplate",
        ),
        (
            group("      MinSize: 1\n      MaxSize: 2\n      LaunchTemplate: { LaunchTemplateId: !Ref Template, Version: \"3\" }\n"),
            "InvalidLaunchTemplateId.VersionNotFound",
            "version 3 of launch template Template does not exist",
        ),
        (
            group("      MinSize: 1\n      MaxSize: 2\n      LaunchTemplate: { LaunchTemplateName: nope, Version: \"1\" }\n"),
            "InvalidLaunchTemplateName.NotFoundException",
            "no launch template named \"nope\"",
        ),
        (
            group("      MinSize: 1\n      MaxSize: 2\n      LaunchConfigurationName: nope\n"),
            "ValidationError",
            "Launch configuration name not found - nope",
        ),
        (
            group(&format!("      MaxSize: 2\n{lt}")),
            "MissingParameter",
            "MinSize",
        ),
        (
            format!(
                "  G:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n      MinSize: 1\n      MaxSize: 1\n      VPCZoneIdentifier: [!Ref SubnetA, !Ref OtherSubnet]\n{lt}"
            ),
            "ValidationError",
            "must all be in the same VPC",
        ),
        (
            "  Nics:\n    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        SecurityGroupIds: [!Ref Sg]\n        NetworkInterfaces: [{ DeviceIndex: 0, Groups: [!Ref Sg] }]\n".to_string(),
            "InvalidParameterCombination",
            "may not be specified on the same request",
        ),
        (
            "  Nics:\n    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true }, { DeviceIndex: 1 }]\n".to_string(),
            "InvalidParameterCombination",
            "multiple network interfaces",
        ),
        (
            format!(
                "  Ips:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n    Properties: {{ TargetType: ip, Protocol: TCP, Port: 80, VpcId: !Ref Vpc }}\n{}      TargetGroupARNs: [!Ref Ips]\n",
                group(&format!("      MinSize: 1\n      MaxSize: 1\n{lt}"))
            ),
            "ValidationError",
            "target group Ips has target type ip",
        ),
    ];
    for (resources, code, message) in cases {
        let (exit, v) = load_group(&resources);
        assert_eq!(exit, 2, "{resources}\n{v:#}");
        let (got_code, got_message) = first_error(&v);
        assert_eq!(got_code, code, "{resources}\n{v:#}");
        assert!(got_message.contains(message), "{got_message}\n{resources}");
    }
    // MinSize 0 and no DesiredCapacity: a group without instances loads.
    let (exit, v) = load_group(&group(&format!("      MinSize: 0\n      MaxSize: 2\n{lt}")));
    assert_eq!(exit, 0, "{v:#}");
    assert_eq!(instances(&v, "G").len(), 0);
}

#[test]
fn group_instances_are_named_group_slash_index() {
    let t = zones();
    let t = t.to_str().unwrap();
    let caps = ["--param", "Capacity=2"];
    // --from and the flow spec: App/1 (10.0.2.4) to App/0 (10.0.1.4).
    let mut extra = vec!["--from", "App/1"];
    extra.extend(caps);
    let v = trace(&zones(), "tcp 10.0.2.4:40000 -> 10.0.1.4:8080", &extra);
    assert_verdict(&v, "DELIVERED", None, "App/0");
    assert_eq!(v["delivered_to"], "App/0", "{v:#}");
    assert_eq!(v["hops"][0]["resource"], "App/1", "{v:#}");
    // reach --from/--to.
    let out = vpcsim([
        "reach",
        "-t",
        t,
        "--from",
        "App/0",
        "--to",
        "App/1",
        "--json",
        "--param",
        "Capacity=2",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("8080"), "{}", out.stdout);
    // A typo gets the group's instances as suggestions.
    let out = vpcsim([
        "trace",
        "-t",
        t,
        "--from",
        "App/7",
        "tcp 10.0.2.4:40000 -> 10.0.1.4:8080",
        "--param",
        "Capacity=2",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no instance or interface named \"App/7\"")
            && out.stderr.contains("did you mean App/0 or App/1"),
        "{}",
        out.stderr
    );
}

#[test]
fn group_instances_are_registered_in_its_target_groups() {
    let v = validate(&zones(), &["--param", "Zones=3", "--param", "Capacity=3"]);
    let tg = &v["target_health"][0];
    assert_eq!(tg["target_group"], "AppTargets");
    let names: Vec<&str> = tg["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["App/0", "App/1", "App/2"]);
    let ids = field(&instances(&v, "App"), "instance_id");
    for (t, id) in tg["targets"].as_array().unwrap().iter().zip(&ids) {
        // Registered by instance id on the group's port.
        assert_eq!(&t["id"], id);
        assert_eq!(t["port"], 8080);
        assert_eq!(t["state"], "healthy", "{t:#}");
    }
    // A client of the load balancer reaches one of the group's instances on the group's port.
    let v = trace(
        &zones(),
        "tcp 10.0.1.4:40000 -> 10.0.1.100:80",
        &[
            "--from",
            "App/0",
            "--param",
            "Zones=3",
            "--param",
            "Capacity=3",
        ],
    );
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    let to = v["delivered_to"].as_str().unwrap();
    assert!(to.starts_with("App/"), "{v:#}");
    let stages: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap())
        .collect();
    assert!(stages.contains(&"nlb-target"), "{stages:?}");
}

#[test]
fn export_tags_group_instances_and_a_reload_keeps_them() {
    let dir = TempDir::new().unwrap();
    let asg = root().join("examples/asg.yaml");
    let out = vpcsim([
        "export",
        "-t",
        asg.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.stderr
            .contains("WebGroup (AWS::AutoScaling::AutoScalingGroup)"),
        "{}",
        out.stderr
    );
    let region = dir.path().join("aws_configs/123456789012/us-east-1");
    let groups: Value = serde_json::from_str(
        &std::fs::read_to_string(region.join("AutoScalingGroups.json")).unwrap(),
    )
    .unwrap();
    let group = &groups["AutoScalingGroups"][0];
    assert_eq!(group["AutoScalingGroupName"], "web", "{groups:#}");
    assert_eq!(
        group["Instances"].as_array().unwrap().len(),
        3,
        "{groups:#}"
    );
    let text = std::fs::read_to_string(region.join("Reservations.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let tagged = doc["Reservations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Instances"].as_array().unwrap())
        .filter(|i| {
            i["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["Key"] == "aws:autoscaling:groupName" && t["Value"] == "web")
        })
        .count();
    assert_eq!(tagged, 3, "{doc:#}");

    let before = validate(&asg, &[]);
    let after = validate(dir.path(), &[]);
    for (group, name) in [("WebGroup", "web"), ("LegacyGroup", "")] {
        let a = instances(&before, group);
        // A snapshot knows a group by its name only.
        let b_group = if name.is_empty() {
            a_name(&before, group)
        } else {
            name.to_string()
        };
        let b = instances(&after, &b_group);
        assert_eq!(field(&a, "instance_id"), field(&b, "instance_id"));
        assert_eq!(field(&a, "private_ip"), field(&b, "private_ip"));
        assert_eq!(
            field(&a, "availability_zone"),
            field(&b, "availability_zone")
        );
        let indexes: Vec<u64> = b.iter().map(|i| i["index"].as_u64().unwrap()).collect();
        assert_eq!(indexes, (0..a.len() as u64).collect::<Vec<_>>());
    }
    // The reloaded targets are the same instances, with the same health.
    let states = |v: &Value| -> Vec<(String, String)> {
        v["target_health"][0]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["id"].to_string(), t["state"].to_string()))
            .collect()
    };
    assert_eq!(states(&before), states(&after));
}

/// The `AutoScalingGroupName` of a group listed by its logical id.
fn a_name(v: &Value, group: &str) -> String {
    v["auto_scaling_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group)
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn validate_text_lists_each_instance_with_its_addresses() {
    let out = vpcsim(["validate", "-t", sources().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("Auto Scaling group Templated ("))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        lines[head]
            .ends_with("1 instance (min 1, max 2), launch template WebTemplate version $Default:"),
        "{}",
        lines[head]
    );
    let row = lines[head + 1];
    assert!(
        row.starts_with("  Templated/0  i-")
            && row.contains("Public (us-east-1a)  10.5.1.4  public 198.18.0.1"),
        "{row}"
    );
}

#[test]
fn without_subnets_a_group_uses_the_default_subnets_of_its_zones() {
    let (exit, v) = load_group(
        "  Bare:\n    Type: AWS::EC2::LaunchTemplate\n    Properties: { LaunchTemplateData: { ImageId: ami-1 } }\n  G:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n      MinSize: 2\n      MaxSize: 2\n      AvailabilityZones: [us-east-1a, us-east-1b]\n      LaunchTemplate: { LaunchTemplateId: !Ref Bare, Version: $Latest }\n",
    );
    assert_eq!(exit, 0, "{v:#}");
    let list = instances(&v, "G");
    assert_eq!(field(&list, "subnet"), ["DefaultSubnetA", "DefaultSubnetB"]);
    // Default subnets map public addresses on launch.
    assert!(list.iter().all(|i| i["public_ip"].is_string()), "{list:#?}");
    // A security group of another VPC than the default one is refused, as RunInstances does.
    let (exit, v) = load_group(
        "  G:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n      MinSize: 1\n      MaxSize: 1\n      AvailabilityZones: [us-east-1a]\n      LaunchTemplate: { LaunchTemplateId: !Ref Template, Version: $Latest }\n",
    );
    assert_eq!(exit, 2);
    assert_eq!(first_error(&v).0, "InvalidParameter", "{v:#}");
}

#[test]
fn a_group_in_another_stack_registers_in_a_gateway_load_balancer_target_group() {
    let out = vpcsim([
        "health",
        "-t",
        root().join("examples/gwlb.yaml").to_str().unwrap(),
        "-t",
        fixture("asg/appliances.yaml").to_str().unwrap(),
        "--param",
        "Subnet=gwlb.ApplianceSubnet",
        "--param",
        "Sg=gwlb.ApplianceSg",
        "--param",
        "TargetGroup=gwlb.ApplianceTargets",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let g = &v[0];
    assert_eq!(g["TargetGroup"], "ApplianceTargets");
    let registered: Vec<(&str, &str)> = g["TargetHealthDescriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["Resource"].as_str().unwrap(),
                d["TargetHealth"]["State"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        registered,
        [
            ("Appliance1", "healthy"),
            ("Appliance2", "healthy"),
            ("Appliances/0", "healthy"),
            ("Appliances/1", "healthy")
        ]
    );
}

#[test]
fn a_launch_configuration_derived_from_an_instance_takes_its_security_groups() {
    let base = "  Model:\n    Type: AWS::EC2::Instance\n    Properties: { SubnetId: !Ref SubnetA, SecurityGroupIds: [!Ref Sg] }\n";
    // A group naming InstanceId, and a launch configuration derived from the instance.
    let (exit, v) = load_group(&format!(
        "{base}  G:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n      MinSize: 1\n      MaxSize: 1\n      VPCZoneIdentifier: [!Ref SubnetA]\n      InstanceId: !Ref Model\n  Derived:\n    Type: AWS::AutoScaling::LaunchConfiguration\n    Properties: {{ InstanceId: !Ref Model }}\n  H:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n      MinSize: 1\n      MaxSize: 1\n      VPCZoneIdentifier: [!Ref SubnetA]\n      LaunchConfigurationName: !Ref Derived\n"
    ));
    assert_eq!(exit, 0, "{v:#}");
    for g in ["G", "H"] {
        assert_eq!(
            instances(&v, g)[0]["security_groups"],
            serde_json::json!(["Sg"]),
            "{g}"
        );
    }
    let g = &v["auto_scaling_groups"][0];
    assert_eq!(g["launch_source"]["instance"], "Model", "{g:#}");
    // An instance that does not exist.
    let (exit, v) = load_group(
        "  G:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n      MinSize: 1\n      MaxSize: 1\n      VPCZoneIdentifier: [!Ref SubnetA]\n      InstanceId: i-0123456789abcdef0\n",
    );
    assert_eq!(exit, 2);
    assert_eq!(first_error(&v).0, "InvalidInstanceID.NotFound", "{v:#}");
}
