//! CloudFormation in `vpcsim serve` through the real aws CLI: `deploy` (change sets) creating,
//! updating and finding nothing to change, change set contents, events, and exports imported
//! across stacks. Skipped unless `VPCSIM_AWS_PYTHON` names a Python whose environment has
//! `awscli` (`.ci/run` sets one up).

mod serve_common;

use serde_json::Value;
use serve_common::Serve;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn python() -> Option<PathBuf> {
    match std::env::var_os("VPCSIM_AWS_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            eprintln!("skipped: VPCSIM_AWS_PYTHON is not set (a Python with awscli and boto3)");
            None
        }
    }
}

/// `aws ARGS` against the server, as run.
fn run(python: &Path, s: &Serve, args: &[&str]) -> Output {
    let bin = python.parent().expect("python's bin directory").join("aws");
    Command::new(bin)
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
        .args(["--endpoint-url", &s.url, "--output", "json"])
        .args(args)
        .output()
        .expect("run aws")
}

/// `aws ARGS`, which must succeed: its JSON answer (`null` when it prints nothing).
fn ok(python: &Path, s: &Serve, args: &[&str]) -> Value {
    let out = run(python, s, args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "aws {}: {}{text}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// `vpcsim trace --endpoint URL FLOW`: the JSON the server answers.
fn trace(s: &Serve, flow: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["trace", "--endpoint", &s.url, flow])
        .output()
        .expect("run vpcsim trace");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "trace is not JSON ({e}): {}{}",
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

fn two_tier() -> String {
    std::fs::read_to_string(format!(
        "{}/examples/two-tier.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn list<'v>(v: &'v Value, key: &str) -> &'v Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
}

#[test]
fn deploy_creates_updates_and_finds_nothing_to_change() {
    let Some(py) = python() else { return };
    let (dir, s) = server();
    let original = write(dir.path(), "two-tier.yaml", &two_tier());
    let deploy = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "cloudformation",
            "deploy",
            "--template-file",
            file,
            "--stack-name",
            "shop",
            "--parameter-overrides",
            "AppPort=8080",
        ];
        args.extend_from_slice(extra);
        run(&py, &s, &args)
    };
    let out = deploy(&original, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Successfully created/updated stack - shop"),
        "{stdout}"
    );
    let stacks = ok(
        &py,
        &s,
        &["cloudformation", "describe-stacks", "--stack-name", "shop"],
    );
    assert_eq!(stacks["Stacks"][0]["StackStatus"], "CREATE_COMPLETE");
    let flow = "tcp 10.0.2.30:40000 -> 10.0.1.20:8080";
    let before = trace(&s, flow);
    assert_ne!(before["disposition"], "DELIVERED", "{before}");
    let vpc_of = |s: &Serve| {
        let r = ok(
            &py,
            s,
            &[
                "cloudformation",
                "describe-stack-resource",
                "--stack-name",
                "shop",
                "--logical-resource-id",
                "Vpc",
            ],
        );
        r["StackResourceDetail"]["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let vpc = vpc_of(&s);

    // The web tier's group opens the app port to the VPC: an in-place update.
    let opened = two_tier().replace(
        "        - { IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: !Ref AdminCidr }\n",
        "        - { IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: !Ref AdminCidr }\n        - { IpProtocol: tcp, FromPort: !Ref AppPort, ToPort: !Ref AppPort, CidrIp: !Ref VpcCidr }\n",
    );
    assert_ne!(opened, two_tier());
    let changed = write(dir.path(), "opened.yaml", &opened);
    let out = deploy(&changed, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-update-complete",
            "--stack-name",
            "shop",
        ],
    );
    let stacks = ok(
        &py,
        &s,
        &["cloudformation", "describe-stacks", "--stack-name", "shop"],
    );
    assert_eq!(stacks["Stacks"][0]["StackStatus"], "UPDATE_COMPLETE");
    assert_eq!(vpc_of(&s), vpc, "an in-place update keeps the VPC");
    let after = trace(&s, flow);
    assert_eq!(after["disposition"], "DELIVERED", "{after}");

    // The same template again: nothing to deploy.
    let out = deploy(&changed, &["--no-fail-on-empty-changeset"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("No changes to deploy"), "{stdout}");
    // The CLI names its change sets by the second (`awscli-cloudformation-package-deploy-<epoch>`):
    // a second deploy within the same second would collide with the first one's FAILED set.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = deploy(&changed, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("No changes to deploy"), "{stderr}");

    let events = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "describe-stack-events",
            "--stack-name",
            "shop",
        ],
    );
    let events = list(&events, "StackEvents");
    assert_eq!(events[0]["ResourceStatus"], "UPDATE_COMPLETE");
    assert_eq!(events[0]["ResourceType"], "AWS::CloudFormation::Stack");
    assert!(events.iter().any(|e| e["LogicalResourceId"] == "WebSg"
        && e["ResourceStatus"] == "UPDATE_COMPLETE"
        && e["PhysicalResourceId"]
            .as_str()
            .is_some_and(|p| p.starts_with("sg-"))));
    assert!(events
        .iter()
        .any(|e| e["ResourceStatus"] == "CREATE_IN_PROGRESS"
            && e["ResourceStatusReason"] == "User Initiated"));
}

const NET: &str = "
Parameters:
  Cidr: {Type: String, Default: 10.50.0.0/16}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: !Ref Cidr}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.50.1.0/24, AvailabilityZone: us-east-1a}
  Gateway:
    Type: AWS::EC2::InternetGateway
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: {Name: net-vpc}
";

#[test]
fn change_set_lists_adds_modifications_and_removals() {
    let Some(py) = python() else { return };
    let (dir, s) = server();
    let net = write(dir.path(), "net.yaml", NET);
    let body = format!("file://{net}");
    let created = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "create-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "first",
            "--change-set-type",
            "CREATE",
            "--template-body",
            &body,
        ],
    );
    assert!(created["Id"]
        .as_str()
        .unwrap()
        .contains(":changeSet/first/"));
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "change-set-create-complete",
            "--stack-name",
            "net",
            "--change-set-name",
            "first",
        ],
    );
    let stacks = ok(
        &py,
        &s,
        &["cloudformation", "describe-stacks", "--stack-name", "net"],
    );
    assert_eq!(stacks["Stacks"][0]["StackStatus"], "REVIEW_IN_PROGRESS");
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "execute-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "first",
        ],
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-create-complete",
            "--stack-name",
            "net",
        ],
    );

    let subnet_moved = NET
        .replace("10.50.1.0/24", "10.50.2.0/24")
        .replace("  Gateway:\n    Type: AWS::EC2::InternetGateway\n", "  Routes:\n    Type: AWS::EC2::RouteTable\n    Properties: {VpcId: !Ref Vpc, Tags: [{Key: Name, Value: routes}]}\n");
    let second = write(dir.path(), "second.yaml", &subnet_moved);
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "create-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "second",
            "--template-body",
            &format!("file://{second}"),
        ],
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "change-set-create-complete",
            "--stack-name",
            "net",
            "--change-set-name",
            "second",
        ],
    );
    let cs = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "describe-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "second",
        ],
    );
    assert_eq!(cs["Status"], "CREATE_COMPLETE");
    assert_eq!(cs["ExecutionStatus"], "AVAILABLE");
    let changes: Vec<&Value> = list(&cs, "Changes")
        .iter()
        .map(|c| &c["ResourceChange"])
        .collect();
    let find = |l: &str| {
        *changes
            .iter()
            .find(|c| c["LogicalResourceId"] == l)
            .unwrap_or_else(|| panic!("{l} in {cs}"))
    };
    assert_eq!(find("Routes")["Action"], "Add");
    assert_eq!(find("Gateway")["Action"], "Remove");
    assert!(find("Gateway")["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .starts_with("igw-"));
    let subnet = find("Subnet");
    assert_eq!(subnet["Action"], "Modify");
    assert_eq!(subnet["Replacement"], "True");
    assert_eq!(subnet["Scope"][0], "Properties");
    assert_eq!(subnet["Details"][0]["Target"]["Name"], "CidrBlock");
    assert_eq!(
        subnet["Details"][0]["Target"]["RequiresRecreation"],
        "Always"
    );
    assert!(changes.iter().all(|c| c["LogicalResourceId"] != "Vpc"));
    let listed = ok(
        &py,
        &s,
        &["cloudformation", "list-change-sets", "--stack-name", "net"],
    );
    assert!(list(&listed, "Summaries")
        .iter()
        .any(|c| c["ChangeSetName"] == "second"));

    let old_subnet = find("Subnet")["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "execute-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "second",
        ],
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-update-complete",
            "--stack-name",
            "net",
        ],
    );
    let res = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "list-stack-resources",
            "--stack-name",
            "net",
        ],
    );
    let res = list(&res, "StackResourceSummaries");
    let subnet = res
        .iter()
        .find(|r| r["LogicalResourceId"] == "Subnet")
        .unwrap();
    let new_subnet = subnet["PhysicalResourceId"].as_str().unwrap();
    assert_ne!(new_subnet, old_subnet, "a new CIDR replaces the subnet");
    let described = ok(
        &py,
        &s,
        &["ec2", "describe-subnets", "--subnet-ids", new_subnet],
    );
    assert_eq!(described["Subnets"][0]["CidrBlock"], "10.50.2.0/24");
    assert!(
        run(
            &py,
            &s,
            &["ec2", "describe-subnets", "--subnet-ids", &old_subnet]
        )
        .status
        .code()
            != Some(0)
    );
    assert!(res.iter().all(|r| r["LogicalResourceId"] != "Gateway"));

    // Nothing new: the change set fails with AWS's reason, and can be deleted.
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "create-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "third",
            "--template-body",
            &format!("file://{second}"),
        ],
    );
    let waited = run(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "change-set-create-complete",
            "--stack-name",
            "net",
            "--change-set-name",
            "third",
        ],
    );
    assert!(!waited.status.success());
    let cs = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "describe-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "third",
        ],
    );
    assert_eq!(cs["Status"], "FAILED");
    assert!(cs["StatusReason"]
        .as_str()
        .unwrap()
        .starts_with("The submitted information didn't contain changes."));
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "delete-change-set",
            "--stack-name",
            "net",
            "--change-set-name",
            "third",
        ],
    );

    let template = ok(
        &py,
        &s,
        &["cloudformation", "get-template", "--stack-name", "net"],
    );
    assert!(template["TemplateBody"]
        .as_str()
        .unwrap()
        .contains("10.50.2.0/24"));
    let validated = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "validate-template",
            "--template-body",
            &body,
        ],
    );
    assert_eq!(validated["Parameters"][0]["ParameterKey"], "Cidr");
    assert_eq!(validated["Parameters"][0]["DefaultValue"], "10.50.0.0/16");
}

#[test]
fn exports_are_imported_across_stacks() {
    let Some(py) = python() else { return };
    let (dir, s) = server();
    let net = write(dir.path(), "net.yaml", NET);
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "create-stack",
            "--stack-name",
            "net",
            "--template-body",
            &format!("file://{net}"),
        ],
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-create-complete",
            "--stack-name",
            "net",
        ],
    );
    let app = "
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: app, VpcId: !ImportValue net-vpc}
";
    let app = write(dir.path(), "app.yaml", app);
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "create-stack",
            "--stack-name",
            "app",
            "--template-body",
            &format!("file://{app}"),
        ],
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-create-complete",
            "--stack-name",
            "app",
        ],
    );
    let exports = ok(&py, &s, &["cloudformation", "list-exports"]);
    let vpc = list(&exports, "Exports")[0]["Value"]
        .as_str()
        .unwrap()
        .to_string();
    let groups = ok(
        &py,
        &s,
        &[
            "ec2",
            "describe-security-groups",
            "--filters",
            &format!("Name=vpc-id,Values={vpc}"),
        ],
    );
    assert!(
        list(&groups, "SecurityGroups")
            .iter()
            .any(|g| g["Description"] == "app"),
        "{groups}"
    );
    let imports = ok(
        &py,
        &s,
        &["cloudformation", "list-imports", "--export-name", "net-vpc"],
    );
    assert_eq!(imports["Imports"][0], "app");

    // The exporting stack stays while the export is imported; the event says why.
    ok(
        &py,
        &s,
        &["cloudformation", "delete-stack", "--stack-name", "net"],
    );
    let stacks = ok(
        &py,
        &s,
        &["cloudformation", "describe-stacks", "--stack-name", "net"],
    );
    assert_eq!(stacks["Stacks"][0]["StackStatus"], "CREATE_COMPLETE");
    let events = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "describe-stack-events",
            "--stack-name",
            "net",
        ],
    );
    assert_eq!(
        list(&events, "StackEvents")[0]["ResourceStatusReason"],
        "Export net-vpc cannot be deleted as it is in use by app"
    );
    ok(
        &py,
        &s,
        &["cloudformation", "delete-stack", "--stack-name", "app"],
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-delete-complete",
            "--stack-name",
            "app",
        ],
    );
    ok(
        &py,
        &s,
        &["cloudformation", "delete-stack", "--stack-name", "net"],
    );
    ok(
        &py,
        &s,
        &[
            "cloudformation",
            "wait",
            "stack-delete-complete",
            "--stack-name",
            "net",
        ],
    );
    let all = ok(
        &py,
        &s,
        &[
            "cloudformation",
            "list-stacks",
            "--stack-status-filter",
            "DELETE_COMPLETE",
        ],
    );
    assert_eq!(list(&all, "StackSummaries").len(), 2);
    let vpcs = run(&py, &s, &["ec2", "describe-vpcs", "--vpc-ids", &vpc]);
    assert!(!vpcs.status.success(), "the stack's VPC is gone");
}
