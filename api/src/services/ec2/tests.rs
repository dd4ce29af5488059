//! Handler tests through `dispatch`, on an in-memory store.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::SystemTime;

use crate::call::{Call, Caller, CallerKind, Reply};
use crate::error::ApiError;
use crate::params::Params;
use crate::server::AllowAll;
use crate::service::Service;
use crate::store::Store;

/// An EC2 call in us-east-1 with these parameters, from the root user, everything allowed.
pub fn call_with(action: &str, params: Params) -> Call {
    let mut c = Call::new(
        Service::Ec2,
        action.to_string(),
        "us-east-1".into(),
        "123456789012".into(),
        "req-1".into(),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        SystemTime::now(),
        Caller {
            arn: "arn:aws:iam::123456789012:root".into(),
            principal_id: "123456789012".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            kind: CallerKind::Anonymous,
            tags: vec![],
        },
        Arc::new(AllowAll),
    );
    c.params = params;
    c
}

fn run(store: &Store, action: &str, pairs: &[(&str, &str)]) -> Result<String, ApiError> {
    let call = call_with(action, Params::from_pairs(pairs.iter().copied()));
    match super::handle(store, &call)? {
        Reply::Xml(x) => {
            assert!(call.was_authorized(), "{action} never authorised");
            Ok(x)
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn between<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    &xml[start..end]
}

#[test]
fn vpc_lifecycle_with_dependencies() {
    let store = Store::open(None).unwrap();
    let vpc = run(&store, "CreateVpc", &[("CidrBlock", "10.0.0.0/16")]).unwrap();
    let vpc_id = between(&vpc, "vpcId").to_string();
    let subnet = run(
        &store,
        "CreateSubnet",
        &[("VpcId", &vpc_id), ("CidrBlock", "10.0.1.0/24")],
    )
    .unwrap();
    let subnet_id = between(&subnet, "subnetId").to_string();
    let e = run(
        &store,
        "CreateSubnet",
        &[("VpcId", &vpc_id), ("CidrBlock", "10.0.1.128/25")],
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidSubnet.Conflict");
    let e = run(
        &store,
        "CreateSubnet",
        &[("VpcId", &vpc_id), ("CidrBlock", "10.1.0.0/24")],
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidSubnet.Range");
    let e = run(&store, "DeleteVpc", &[("VpcId", &vpc_id)]).unwrap_err();
    assert_eq!(e.code, "DependencyViolation");
    assert_eq!(
        e.message,
        format!("The vpc '{vpc_id}' has dependencies and cannot be deleted.")
    );
    run(&store, "DeleteSubnet", &[("SubnetId", &subnet_id)]).unwrap();
    run(&store, "DeleteVpc", &[("VpcId", &vpc_id)]).unwrap();
    let e = run(&store, "DescribeVpcs", &[("VpcId.1", &vpc_id)]).unwrap_err();
    assert_eq!(e.code, "InvalidVpcID.NotFound");
}

#[test]
fn dry_run_and_client_token() {
    let store = Store::open(None).unwrap();
    let e = run(
        &store,
        "CreateVpc",
        &[("CidrBlock", "10.0.0.0/16"), ("DryRun", "true")],
    )
    .unwrap_err();
    assert_eq!(e.code, "DryRunOperation");
    assert!(!run(&store, "DescribeVpcs", &[])
        .unwrap()
        .contains("<vpcId>"));
    let a = run(
        &store,
        "CreateVpc",
        &[("CidrBlock", "10.0.0.0/16"), ("ClientToken", "t1")],
    )
    .unwrap();
    let b = run(
        &store,
        "CreateVpc",
        &[("CidrBlock", "10.0.0.0/16"), ("ClientToken", "t1")],
    )
    .unwrap();
    assert_eq!(between(&a, "vpcId"), between(&b, "vpcId"));
    let e = run(
        &store,
        "CreateVpc",
        &[("CidrBlock", "10.9.0.0/16"), ("ClientToken", "t1")],
    )
    .unwrap_err();
    assert_eq!(e.code, "IdempotentParameterMismatch");
    assert_eq!(
        run(&store, "DescribeVpcs", &[])
            .unwrap()
            .matches("<vpcId>")
            .count(),
        1
    );
}

#[test]
fn security_group_rules_and_duplicates() {
    let store = Store::open(None).unwrap();
    let vpc = run(&store, "CreateVpc", &[("CidrBlock", "10.0.0.0/16")]).unwrap();
    let vpc_id = between(&vpc, "vpcId").to_string();
    let sg = run(
        &store,
        "CreateSecurityGroup",
        &[
            ("GroupName", "web"),
            ("GroupDescription", "web"),
            ("VpcId", &vpc_id),
        ],
    )
    .unwrap();
    let sg_id = between(&sg, "groupId").to_string();
    let rule = [
        ("GroupId", sg_id.as_str()),
        ("IpPermissions.1.IpProtocol", "tcp"),
        ("IpPermissions.1.FromPort", "443"),
        ("IpPermissions.1.ToPort", "443"),
        ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
    ];
    let ok = run(&store, "AuthorizeSecurityGroupIngress", &rule).unwrap();
    assert!(between(&ok, "securityGroupRuleId").starts_with("sgr-"));
    let e = run(&store, "AuthorizeSecurityGroupIngress", &rule).unwrap_err();
    assert_eq!(e.code, "InvalidPermission.Duplicate");
    assert_eq!(e.message, "the specified rule \"peer: 0.0.0.0/0, TCP, from port: 443, to port: 443, ALLOW\" already exists");
    let described = run(&store, "DescribeSecurityGroups", &[("GroupId.1", &sg_id)]).unwrap();
    assert!(described.contains("<fromPort>443</fromPort>"));
    let rules = run(
        &store,
        "DescribeSecurityGroupRules",
        &[("Filter.1.Name", "group-id"), ("Filter.1.Value.1", &sg_id)],
    )
    .unwrap();
    assert_eq!(rules.matches("<securityGroupRuleId>").count(), 2, "{rules}");
    run(&store, "RevokeSecurityGroupIngress", &rule).unwrap();
    let e = run(&store, "RevokeSecurityGroupIngress", &rule).unwrap_err();
    assert_eq!(e.code, "InvalidPermission.NotFound");
    let e = run(
        &store,
        "CreateSecurityGroup",
        &[
            ("GroupName", "web"),
            ("GroupDescription", "again"),
            ("VpcId", &vpc_id),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidGroup.Duplicate");
}

#[test]
fn pagination_walks_every_item_once() {
    let store = Store::open(None).unwrap();
    let vpc = run(&store, "CreateVpc", &[("CidrBlock", "10.0.0.0/16")]).unwrap();
    let vpc_id = between(&vpc, "vpcId").to_string();
    for i in 0..7 {
        let name = format!("g{i}");
        run(
            &store,
            "CreateSecurityGroup",
            &[
                ("GroupName", &name),
                ("GroupDescription", "d"),
                ("VpcId", &vpc_id),
            ],
        )
        .unwrap();
    }
    let mut seen = 0;
    let mut token: Option<String> = None;
    loop {
        let mut p = vec![
            ("MaxResults", "5".to_string()),
            ("Filter.1.Name", "vpc-id".into()),
            ("Filter.1.Value.1", vpc_id.clone()),
        ];
        if let Some(t) = &token {
            p.push(("NextToken", t.clone()));
        }
        let pairs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = run(&store, "DescribeSecurityGroups", &pairs).unwrap();
        seen += page.matches("<groupName>").count();
        match page.find("<nextToken>") {
            Some(_) => token = Some(between(&page, "nextToken").to_string()),
            None => break,
        }
    }
    assert_eq!(seen, 8, "7 groups and the VPC's default");
    let e = run(&store, "DescribeSecurityGroups", &[("NextToken", "bogus")]).unwrap_err();
    assert_eq!(e.code, "InvalidPaginationToken");
}
