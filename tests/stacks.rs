//! Several templates as several stacks through the real binary: stack names, parameters scoped
//! to a stack or naming another stack's resources, templates deployed into a describe-*
//! snapshot, custom resources, endpoint services outside the templates, and template errors
//! that name their cause once.

mod common;

use common::{fixture, trace, vpcsim};
use serde_json::Value;
use std::path::Path;

fn stack(name: &str) -> String {
    fixture("stacks").join(name).display().to_string()
}

fn named(stack_name: &str, file: &str) -> String {
    format!("{stack_name}={}", stack(file))
}

fn snapshot() -> String {
    fixture("snapshot/small").display().to_string()
}

/// `vpcsim validate --json` with `args`: the exit code and the report.
fn validate(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["validate", "--json"];
    all.extend_from_slice(args);
    let o = vpcsim(&all);
    assert!(o.code == 0 || o.code == 2, "exit {}: {}", o.code, o.stderr);
    let v: Value = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", o.stdout, o.stderr));
    (o.code, v)
}

fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    list(v, key)
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The one diagnostic of `key` with `code`; fails when there are others.
fn only<'v>(v: &'v Value, key: &str, code: &str) -> &'v Value {
    let found = list(v, key);
    assert_eq!(codes(v, key), [code], "{key}: {found:#?}");
    &found[0]
}

fn stacks(v: &Value) -> Vec<String> {
    list(v, "templates")
        .iter()
        .map(|t| t["stack"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn stack_name_defaults_to_the_file_name_and_can_be_given() {
    let (code, v) = validate(&["-t", &stack("network.yaml")]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(stacks(&v), ["network"]);
    let (code, v) = validate(&["-t", &named("net", "network.yaml")]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(stacks(&v), ["net"]);
    let (code, v) = validate(&["--stack", &named("core", "network.yaml")]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(stacks(&v), ["core"]);
}

#[test]
fn invalid_stack_name_is_a_validation_error() {
    let (code, v) = validate(&["-t", &named("1net", "network.yaml")]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "ValidationError");
    assert!(e["message"].as_str().unwrap().contains("\"1net\""), "{e}");
    assert!(stacks(&v).is_empty());
}

#[test]
fn second_stack_of_one_name_already_exists() {
    let (code, v) = validate(&[
        "-t",
        &named("net", "network.yaml"),
        "-t",
        &named("net", "network.yaml"),
    ]);
    assert_eq!(code, 2);
    only(&v, "errors", "AlreadyExistsException");
    assert_eq!(stacks(&v), ["net"]);
}

#[test]
fn scoped_parameters_load_one_template_twice() {
    let (code, v) = validate(&[
        "-t",
        &named("blue", "network.yaml"),
        "-t",
        &named("green", "network.yaml"),
        "--param",
        "green:VpcCidr=10.1.0.0/16",
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(stacks(&v), ["blue", "green"]);
    let cidrs: Vec<&str> = list(&v, "vpcs")
        .iter()
        .map(|x| x["cidrs"][0].as_str().unwrap())
        .collect();
    assert_eq!(cidrs, ["10.0.0.0/16", "10.1.0.0/16"]);
}

#[test]
fn scoped_parameter_of_an_unknown_stack_or_name_is_unknown() {
    let (code, v) = validate(&[
        "-t",
        &named("blue", "network.yaml"),
        "--param",
        "red:VpcCidr=10.1.0.0/16",
        "--param",
        "blue:Cidr=10.1.0.0/16",
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        codes(&v, "errors"),
        ["UnknownParameter", "UnknownParameter"]
    );
    let text = v["errors"].to_string();
    assert!(text.contains("no stack named red"), "{text}");
    assert!(
        text.contains("stack blue declares no parameter named Cidr"),
        "{text}"
    );
}

/// `--param VpcId=net.Vpc` is Ref of Vpc of stack net, whichever order the stacks are given in.
#[test]
fn parameter_names_another_stacks_resource() {
    for order in [[0, 1], [1, 0]] {
        let files = [named("net", "network.yaml"), stack("app.yaml")];
        let (code, v) = validate(&[
            "-t",
            &files[order[0]],
            "-t",
            &files[order[1]],
            "--param",
            "VpcId=net.Vpc",
            "--param",
            "SubnetId=net.PublicSubnet",
        ]);
        assert_eq!(code, 0, "{v:#}");
        assert_eq!(stacks(&v), ["net", "app"]);
        assert_eq!(v["resources"]["AWS::EC2::Instance"], 1, "{v:#}");
    }
    // The instance is in net's subnet, behind net's internet gateway (and has no public IP).
    let t = trace(
        Path::new(&named("net", "network.yaml")),
        "tcp 10.0.0.4:40000 -> 198.51.100.7:443",
        &[
            "-t",
            &stack("app.yaml"),
            "--param",
            "VpcId=net.Vpc",
            "--param",
            "SubnetId=net.PublicSubnet",
            "--from",
            "Web",
        ],
    );
    common::assert_verdict(&t, "DROPPED", Some("NO_PUBLIC_IP"), "InternetGateway");
}

#[test]
fn parameter_naming_a_missing_resource_is_unresolved() {
    let (code, v) = validate(&[
        "-t",
        &named("net", "network.yaml"),
        "-t",
        &stack("app.yaml"),
        "--param",
        "VpcId=net.Vpcc",
        "--param",
        "SubnetId=net.PublicSubnet",
    ]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "UnresolvedReference");
    assert_eq!(e["logical_id"], "VpcId");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("stack net has no resource Vpcc"),
        "{e}"
    );
}

#[test]
fn stacks_naming_each_other_are_circular() {
    let (code, v) = validate(&[
        "-t",
        &named("a", "network.yaml"),
        "-t",
        &named("b", "network.yaml"),
        "--param",
        "a:VpcCidr=b.Vpc",
        "--param",
        "b:VpcCidr=a.Vpc",
    ]);
    assert_eq!(code, 2);
    assert_eq!(codes(&v, "errors")[0], "CircularDependency", "{v:#}");
}

/// "What happens if I deploy this template into my account?": the template's instance joins
/// the snapshot's subnet and meets the snapshot's security groups.
#[test]
fn template_deploys_into_a_snapshot() {
    let into = [
        "--param",
        "VpcId=vpc-0aaa000000000001",
        "--param",
        "SubnetId=subnet-0aaa000000000001",
    ];
    let snap = snapshot();
    let mut args = vec!["-t", &*snap];
    let app = stack("app.yaml");
    args.extend(["-t", &app]);
    args.extend(into);
    let (code, v) = validate(&args);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(stacks(&v).last().map(String::as_str), Some("app"));
    let mut extra = vec!["-t", &*app, "--from", "Web"];
    extra.extend(into);
    let t = trace(
        &fixture("snapshot/small"),
        "tcp 10.20.1.4:40000 -> 10.20.2.20:5432",
        &extra,
    );
    common::assert_verdict(
        &t,
        "DROPPED",
        Some("SG_INGRESS_DENIED"),
        "sg-0aaa000000000002",
    );
}

#[test]
fn snapshot_addresses_are_taken() {
    let (code, v) = validate(&[
        "-t",
        &snapshot(),
        "-t",
        &stack("app.yaml"),
        "--param",
        "VpcId=vpc-0aaa000000000001",
        "--param",
        "SubnetId=subnet-0aaa000000000001",
        "--param",
        "WebAddress=10.20.1.10",
    ]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "InvalidIPAddress.InUse");
    assert_eq!(e["logical_id"], "Web");
}

#[test]
fn snapshot_directory_takes_no_stack_name() {
    let (code, v) = validate(&["-t", &format!("acct={}", snapshot())]);
    assert_eq!(code, 2);
    only(&v, "errors", "ValidationError");
}

#[test]
fn custom_resource_attribute_is_named_not_leaked() {
    let (code, v) = validate(&[
        "-t",
        &named("net", "network.yaml"),
        "-t",
        &stack("custom.yaml"),
        "--param",
        "RouteTableId=net.PublicRoutes",
    ]);
    assert_eq!(code, 0, "{v:#}");
    let text = v["warnings"].to_string();
    assert!(!text.contains("res-"), "placeholder ids leak: {text}");
    assert!(
        text.contains("--custom-attr custom.Lookup.GatewayId=VALUE"),
        "{text}"
    );
    assert!(
        text.contains("Firewall is an AWS::GameLift::Fleet"),
        "{text}"
    );
    // The blackhole route a trace meets names the attribute too.
    let t = trace(
        Path::new(&named("net", "network.yaml")),
        "tcp 10.0.0.4:40000 -> 10.99.0.1:443",
        &[
            "-t",
            &stack("custom.yaml"),
            "-t",
            &stack("app.yaml"),
            "--param",
            "RouteTableId=net.PublicRoutes",
            "--param",
            "VpcId=net.Vpc",
            "--param",
            "SubnetId=net.PublicSubnet",
            "--from",
            "Web",
        ],
    );
    common::assert_verdict(&t, "DROPPED", Some("BLACKHOLE_ROUTE"), "PublicRoutes");
    assert!(!t.to_string().contains("res-"), "{t:#}");
    assert!(
        t.to_string().contains("Fn::GetAtt Lookup.GatewayId"),
        "{t:#}"
    );
}

#[test]
fn custom_resource_attribute_from_the_command_line() {
    let (code, v) = validate(&[
        "-t",
        &stack("custom.yaml"),
        "-t",
        &named("net", "network.yaml"),
        "--param",
        "RouteTableId=net.PublicRoutes",
        "--custom-attr",
        "custom.Lookup.GatewayId=net.InternetGateway",
    ]);
    assert_eq!(code, 0, "{v:#}");
    let text = v["warnings"].to_string();
    assert!(!text.contains("ToHub"), "{text}");
    assert_eq!(stacks(&v), ["net", "custom"]);
}

#[test]
fn custom_resource_attribute_of_a_non_custom_or_missing_resource() {
    let (code, v) = validate(&[
        "-t",
        &named("net", "network.yaml"),
        "-t",
        &stack("custom.yaml"),
        "--param",
        "RouteTableId=net.PublicRoutes",
        "--custom-attr",
        "custom.Firewall.EndpointIds=x",
        "--custom-attr",
        "custom.Lookupp.GatewayId=igw-1",
        "--custom-attr",
        "Lookup=igw-1",
    ]);
    assert_eq!(code, 2);
    let mut got = codes(&v, "errors");
    got.sort();
    assert_eq!(
        got,
        [
            "InvalidParameterValue",
            "InvalidParameterValue",
            "UnresolvedReference"
        ]
    );
}

/// A placeholder reaching a resource that cannot be built names what it came from.
#[test]
fn custom_resource_value_that_stops_a_resource() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lookup.yaml");
    std::fs::write(
        &path,
        "Resources:\n  Lookup:\n    Type: Custom::VpcLookup\n    Properties: {ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:f}\n  Group:\n    Type: AWS::EC2::SecurityGroup\n    Properties: {GroupDescription: g, VpcId: !GetAtt Lookup.VpcId}\n",
    )
    .unwrap();
    let (code, v) = validate(&["-t", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "MissingCustomAttribute");
    let m = e["message"].as_str().unwrap();
    assert!(!m.contains("res-"), "{m}");
    assert!(m.contains("--custom-attr lookup.Lookup.VpcId=VALUE"), "{m}");
}

#[test]
fn endpoint_service_outside_the_templates() {
    let base = [
        "-t".to_string(),
        named("net", "network.yaml"),
        "-t".to_string(),
        stack("external-service.yaml"),
        "--param".to_string(),
        "VpcId=net.Vpc".to_string(),
        "--param".to_string(),
        "SubnetId=net.PublicSubnet".to_string(),
    ];
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let (code, v) = validate(&base);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "InvalidServiceName");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("--endpoint-service"),
        "{e}"
    );
    let mut args = base.clone();
    args.extend([
        "--endpoint-service",
        "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
    ]);
    let (code, v) = validate(&args);
    assert_eq!(code, 0, "{v:#}");
    only(&v, "warnings", "InvalidServiceName.External");
}

/// An instance and a group without a VPC go to the default VPC (`tests/aws_validation.rs`
/// checks its layout); before the default VPC was modelled this was `MissingParameter`.
#[test]
fn default_vpc_is_not_a_missing_parameter() {
    let (code, v) = validate(&["-t", &stack("default-vpc.yaml")]);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["default_vpc"]["vpc_id"].is_string(), "{v:#}");
}

/// `VpcCidr=300.0.0.0/16` is one error at the VPC; the subnet built from `!GetAtt Vpc.CidrBlock`
/// says nothing about `failed-Vpc.CidrBlock`.
#[test]
fn bad_parameter_value_is_one_error() {
    let (code, v) = validate(&[
        "-t",
        &stack("network.yaml"),
        "--param",
        "VpcCidr=300.0.0.0/16",
    ]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "InvalidParameterValue");
    assert_eq!(e["logical_id"], "Vpc");
    assert!(e["message"].as_str().unwrap().contains("CidrBlock"), "{e}");
    assert!(!v.to_string().contains("failed-"), "{v:#}");
}

#[test]
fn id_parameter_naming_nothing_is_reported_once() {
    let (code, v) = validate(&["-t", &stack("two-groups.yaml"), "--param", "VpcId=vpc-0abc"]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "InvalidVpcID.NotFound");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("the value of parameter VpcId"),
        "{e}"
    );
}

#[test]
fn condition_cycle_is_only_a_cycle() {
    let (code, v) = validate(&["-t", &stack("condition-cycle.yaml")]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "CircularDependency");
    assert!(e["message"].as_str().unwrap().contains("C0"), "{e}");
}

#[test]
fn template_that_is_not_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.json");
    let mut bytes = br#"{"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16", "Tags": [{"Key": "Name", "Value": "caf"#.to_vec();
    let offset = bytes.len();
    bytes.push(0xe9);
    bytes.extend_from_slice(br#""}]}}}}"#);
    std::fs::write(&path, bytes).unwrap();
    let (code, v) = validate(&["-t", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    let e = only(&v, "errors", "InvalidTemplate.Encoding");
    assert!(e["file"].as_str().unwrap().ends_with("latin1.json"), "{e}");
    let m = e["message"].as_str().unwrap();
    assert!(m.contains(&format!("byte offset {offset}")), "{m}");
    assert!(m.contains("0xe9"), "{m}");
}
