//! CloudFormation handler tests, against an in-memory store.

use super::*;
use crate::params::Params;
use crate::services::ec2::tests::call_with;

fn cfn(store: &Store, action: &str, pairs: &[(&str, &str)]) -> Result<String, ApiError> {
    let mut c = call_with(action, Params::from_pairs(pairs.iter().copied()));
    c.service = Service::CloudFormation;
    match handle(store, &c)? {
        Reply::Xml(x) => Ok(x),
        other => panic!("{other:?}"),
    }
}

const NETWORK: &str = "
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.20.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.20.1.0/24, AvailabilityZone: us-east-1a}
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: {Name: net-vpc}
";

#[test]
fn stacks_create_export_fail_and_delete() {
    let s = Store::open(None).unwrap();
    s.write(|tx| crate::plane::ensure_default_vpc(tx, "123456789012", "us-east-1"))
        .unwrap();
    cfn(
        &s,
        "CreateStack",
        &[("StackName", "net"), ("TemplateBody", NETWORK)],
    )
    .unwrap();
    assert_eq!(
        cfn(
            &s,
            "CreateStack",
            &[("StackName", "net"), ("TemplateBody", NETWORK)]
        )
        .unwrap_err()
        .code,
        "AlreadyExistsException"
    );
    assert_eq!(
        cfn(
            &s,
            "CreateStack",
            &[("StackName", "9bad"), ("TemplateBody", NETWORK)]
        )
        .unwrap_err()
        .code,
        "ValidationError"
    );
    assert_eq!(
        cfn(
            &s,
            "CreateStack",
            &[("StackName", "x"), ("TemplateBody", "Resources: [")]
        )
        .unwrap_err()
        .code,
        "ValidationError"
    );
    assert_eq!(
        cfn(&s, "CreateStack", &[("StackName", "x")])
            .unwrap_err()
            .code,
        "ValidationError"
    );
    let exports = cfn(&s, "ListExports", &[]).unwrap();
    assert!(exports.contains("<Name>net-vpc</Name>"));
    let vpc = s
        .read(|t| t.list("us-east-1", "Vpcs"))
        .unwrap()
        .into_iter()
        .find(|v| v["CidrBlock"] == "10.20.0.0/16")
        .unwrap();
    let vpc_id = vpc["VpcId"].as_str().unwrap().to_string();
    assert!(exports.contains(&format!("<Value>{vpc_id}</Value>")));

    // A second stack imports the export; the first cannot go while it does.
    let app = "
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: app, VpcId: !ImportValue net-vpc}
";
    cfn(
        &s,
        "CreateStack",
        &[("StackName", "app"), ("TemplateBody", app)],
    )
    .unwrap();
    let resources = cfn(&s, "DescribeStackResources", &[("StackName", "app")]).unwrap();
    assert!(resources.contains("<ResourceType>AWS::EC2::SecurityGroup</ResourceType>"));
    // As in AWS the call is accepted, the stack stays, and an event says why.
    cfn(&s, "DeleteStack", &[("StackName", "net")]).unwrap();
    let d = cfn(&s, "DescribeStacks", &[("StackName", "net")]).unwrap();
    assert!(
        d.contains("<StackStatus>CREATE_COMPLETE</StackStatus>"),
        "{d}"
    );
    assert!(
        d.contains(
            "<StackStatusReason>Export net-vpc cannot be deleted as it is in use by app</StackStatusReason>"
        ),
        "{d}"
    );
    let events = cfn(&s, "DescribeStackEvents", &[("StackName", "net")]).unwrap();
    assert!(
        events.contains("Export net-vpc cannot be deleted as it is in use by app"),
        "{events}"
    );
    let imports = cfn(&s, "ListImports", &[("ExportName", "net-vpc")]).unwrap();
    assert!(imports.contains("<member>app</member>"), "{imports}");
    cfn(&s, "DeleteStack", &[("StackName", "app")]).unwrap();
    assert_eq!(
        cfn(&s, "ListImports", &[("ExportName", "net-vpc")])
            .unwrap_err()
            .code,
        "ValidationError"
    );

    // A failing resource rolls the stack back: nothing of it is stored.
    let broken = "
Resources:
  Sub:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: vpc-0000000000000000e, CidrBlock: 10.30.1.0/24}
";
    cfn(
        &s,
        "CreateStack",
        &[("StackName", "broken"), ("TemplateBody", broken)],
    )
    .unwrap();
    let d = cfn(&s, "DescribeStacks", &[("StackName", "broken")]).unwrap();
    assert!(
        d.contains("<StackStatus>ROLLBACK_COMPLETE</StackStatus>"),
        "{d}"
    );

    cfn(&s, "DeleteStack", &[("StackName", "net")]).unwrap();
    assert!(s
        .read(|t| t.get("us-east-1", "Vpcs", &vpc_id))
        .unwrap()
        .is_none());
    let listed = cfn(
        &s,
        "ListStacks",
        &[("StackStatusFilter.member.1", "DELETE_COMPLETE")],
    )
    .unwrap();
    assert_eq!(listed.matches("<member>").count(), 2);
    assert_eq!(
        cfn(&s, "DescribeStacks", &[("StackName", "net")])
            .unwrap_err()
            .code,
        "ValidationError"
    );
    // Deleting a stack that is gone succeeds, as in AWS.
    cfn(&s, "DeleteStack", &[("StackName", "net")]).unwrap();
}

fn store() -> Store {
    let s = Store::open(None).unwrap();
    s.write(|tx| crate::plane::ensure_default_vpc(tx, "123456789012", "us-east-1"))
        .unwrap();
    s
}

fn stack_status(s: &Store, name: &str) -> String {
    let d = cfn(s, "DescribeStacks", &[("StackName", name)]).unwrap();
    let start = d.find("<StackStatus>").unwrap() + "<StackStatus>".len();
    d[start..start + d[start..].find('<').unwrap()].to_string()
}

fn subnet_ids(s: &Store) -> Vec<(String, String)> {
    s.read(|t| t.list("us-east-1", "Subnets"))
        .unwrap()
        .into_iter()
        .map(|v| {
            (
                v["CidrBlock"].as_str().unwrap().to_string(),
                v["SubnetId"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const WEB: &str = "
Parameters:
  Port: {Type: Number, Default: 22}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.40.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.40.1.0/24, AvailabilityZone: us-east-1a}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      VpcId: !Ref Vpc
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: !Ref Port, ToPort: !Ref Port, CidrIp: 0.0.0.0/0}]
";

#[test]
fn update_keeps_ids_in_place_and_replaces_on_a_new_cidr() {
    let s = store();
    cfn(
        &s,
        "CreateStack",
        &[("StackName", "web"), ("TemplateBody", WEB)],
    )
    .unwrap();
    let vpc_before = s.read(|t| t.list("us-east-1", "Vpcs")).unwrap();
    let group = |s: &Store| {
        s.read(|t| t.list("us-east-1", "SecurityGroups"))
            .unwrap()
            .into_iter()
            .find(|g| g["Description"] == "web")
            .unwrap()
    };
    let sg_before = group(&s);

    // Nothing changes: AWS's refusal.
    let same = cfn(
        &s,
        "UpdateStack",
        &[("StackName", "web"), ("UsePreviousTemplate", "true")],
    );
    assert_eq!(same.unwrap_err().message, "No updates are to be performed.");

    // A new port: the group is modified in place and keeps its id.
    cfn(
        &s,
        "UpdateStack",
        &[
            ("StackName", "web"),
            ("UsePreviousTemplate", "true"),
            ("Parameters.member.1.ParameterKey", "Port"),
            ("Parameters.member.1.ParameterValue", "443"),
        ],
    )
    .unwrap();
    assert_eq!(stack_status(&s, "web"), "UPDATE_COMPLETE");
    let sg_after = group(&s);
    assert_eq!(sg_after["GroupId"], sg_before["GroupId"]);
    assert_eq!(sg_after["IpPermissions"][0]["FromPort"], 443);
    assert_eq!(s.read(|t| t.list("us-east-1", "Vpcs")).unwrap(), vpc_before);

    // A new subnet CIDR replaces the subnet: a new physical id.
    let old_subnet = subnet_ids(&s)
        .into_iter()
        .find(|(c, _)| c == "10.40.1.0/24")
        .unwrap()
        .1;
    let moved = WEB.replace("10.40.1.0/24", "10.40.2.0/24");
    cfn(
        &s,
        "UpdateStack",
        &[("StackName", "web"), ("TemplateBody", &moved)],
    )
    .unwrap();
    let subnets = subnet_ids(&s);
    assert!(subnets.iter().all(|(c, _)| c != "10.40.1.0/24"));
    let new_subnet = &subnets.iter().find(|(c, _)| c == "10.40.2.0/24").unwrap().1;
    assert_ne!(*new_subnet, old_subnet);
    let res = cfn(
        &s,
        "DescribeStackResource",
        &[("StackName", "web"), ("LogicalResourceId", "Subnet")],
    )
    .unwrap();
    assert!(
        res.contains(&format!(
            "<PhysicalResourceId>{new_subnet}</PhysicalResourceId>"
        )),
        "{res}"
    );
    // Parameters left out take their defaults again, as in AWS (only `UsePreviousValue` keeps).
    assert_eq!(group(&s)["IpPermissions"][0]["FromPort"], 22);

    // A template whose resources fail rolls back and keeps what was there.
    let broken = WEB.replace("10.40.1.0/24", "10.99.1.0/24");
    cfn(
        &s,
        "UpdateStack",
        &[("StackName", "web"), ("TemplateBody", &broken)],
    )
    .unwrap();
    assert_eq!(stack_status(&s, "web"), "UPDATE_ROLLBACK_COMPLETE");
    assert!(subnet_ids(&s)
        .iter()
        .any(|(c, id)| c == "10.40.2.0/24" && id == new_subnet));

    // Events: newest first, the stack's own last state on top.
    let events = cfn(&s, "DescribeStackEvents", &[("StackName", "web")]).unwrap();
    let first = events.find("<ResourceStatus>").unwrap();
    assert!(events[first..].starts_with("<ResourceStatus>UPDATE_ROLLBACK_COMPLETE<"));
    assert!(events.contains("Requested update requires the creation of a new physical resource"));

    // Unknown parameters and unknown stacks.
    let unknown = cfn(
        &s,
        "UpdateStack",
        &[
            ("StackName", "web"),
            ("UsePreviousTemplate", "true"),
            ("Parameters.member.1.ParameterKey", "Nope"),
            ("Parameters.member.1.ParameterValue", "1"),
        ],
    );
    assert!(unknown
        .unwrap_err()
        .message
        .contains("do not exist in the template"));
    let missing = cfn(
        &s,
        "UpdateStack",
        &[("StackName", "nope"), ("TemplateBody", WEB)],
    );
    assert_eq!(
        missing.unwrap_err().message,
        "Stack with id nope does not exist"
    );
}

#[test]
fn change_sets_create_then_update_then_fail_empty() {
    let s = store();
    let created = cfn(
        &s,
        "CreateChangeSet",
        &[
            ("StackName", "cs"),
            ("ChangeSetName", "one"),
            ("ChangeSetType", "CREATE"),
            ("TemplateBody", WEB),
        ],
    )
    .unwrap();
    assert!(created.contains("<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/one/"));
    assert_eq!(stack_status(&s, "cs"), "REVIEW_IN_PROGRESS");
    let d = cfn(
        &s,
        "DescribeChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "one")],
    )
    .unwrap();
    assert!(d.contains("<Status>CREATE_COMPLETE</Status>"), "{d}");
    assert!(d.contains("<ExecutionStatus>AVAILABLE</ExecutionStatus>"));
    assert_eq!(d.matches("<Action>Add</Action>").count(), 3);
    cfn(
        &s,
        "ExecuteChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "one")],
    )
    .unwrap();
    assert_eq!(stack_status(&s, "cs"), "CREATE_COMPLETE");

    let changed = WEB.replace("10.40.1.0/24", "10.40.3.0/24").replace(
        "  Sg:\n",
        "  Rt:\n    Type: AWS::EC2::RouteTable\n    Properties: {VpcId: !Ref Vpc}\n  Sg:\n",
    );
    let changed = changed[..changed.find("  Sg:").unwrap()].to_string();
    cfn(
        &s,
        "CreateChangeSet",
        &[
            ("StackName", "cs"),
            ("ChangeSetName", "two"),
            ("TemplateBody", &changed),
        ],
    )
    .unwrap();
    let d = cfn(
        &s,
        "DescribeChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "two")],
    )
    .unwrap();
    assert!(
        d.contains("<Action>Add</Action><LogicalResourceId>Rt</LogicalResourceId>")
            || d.contains("<LogicalResourceId>Rt</LogicalResourceId>")
    );
    assert!(d.contains("<Action>Remove</Action>"), "{d}");
    assert!(d.contains("<Replacement>True</Replacement>"), "{d}");
    assert!(
        d.contains("<RequiresRecreation>Always</RequiresRecreation>"),
        "{d}"
    );
    let listed = cfn(&s, "ListChangeSets", &[("StackName", "cs")]).unwrap();
    assert!(listed.contains("<ChangeSetName>two</ChangeSetName>"));
    cfn(
        &s,
        "ExecuteChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "two")],
    )
    .unwrap();
    assert_eq!(stack_status(&s, "cs"), "UPDATE_COMPLETE");
    assert!(!s
        .read(|t| t.list("us-east-1", "SecurityGroups"))
        .unwrap()
        .iter()
        .any(|g| g["Description"] == "web"));

    cfn(
        &s,
        "CreateChangeSet",
        &[
            ("StackName", "cs"),
            ("ChangeSetName", "three"),
            ("TemplateBody", &changed),
        ],
    )
    .unwrap();
    let d = cfn(
        &s,
        "DescribeChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "three")],
    )
    .unwrap();
    assert!(d.contains("<Status>FAILED</Status>"));
    assert!(
        d.contains("The submitted information didn&apos;t contain changes.")
            || d.contains("didn't contain changes"),
        "{d}"
    );
    let err = cfn(
        &s,
        "ExecuteChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "three")],
    )
    .unwrap_err();
    assert_eq!(err.code, "InvalidChangeSetStatus");
    cfn(
        &s,
        "DeleteChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "three")],
    )
    .unwrap();
    let err = cfn(
        &s,
        "DescribeChangeSet",
        &[("StackName", "cs"), ("ChangeSetName", "three")],
    )
    .unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("ChangeSetNotFound", 404));
    let template = cfn(&s, "GetTemplate", &[("StackName", "cs")]).unwrap();
    assert!(template.contains("10.40.3.0/24"));
}

#[test]
fn validate_template_and_capabilities() {
    let s = store();
    let v = cfn(&s, "ValidateTemplate", &[("TemplateBody", WEB)]).unwrap();
    assert!(
        v.contains("<ParameterKey>Port</ParameterKey><DefaultValue>22</DefaultValue>"),
        "{v}"
    );
    let iam = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {RoleName: x}\n";
    let v = cfn(&s, "ValidateTemplate", &[("TemplateBody", iam)]).unwrap();
    assert!(v.contains("<member>CAPABILITY_NAMED_IAM</member>"), "{v}");
    let err = cfn(
        &s,
        "CreateStack",
        &[("StackName", "iam"), ("TemplateBody", iam)],
    )
    .unwrap_err();
    assert_eq!(err.code, "InsufficientCapabilitiesException");
    let err = cfn(&s, "ValidateTemplate", &[("TemplateBody", "Resources: [")]).unwrap_err();
    assert!(
        err.message.starts_with("Template format error"),
        "{}",
        err.message
    );
}
