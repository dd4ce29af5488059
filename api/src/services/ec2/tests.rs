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

/// Runs a call that must fail with `code`.
fn fails(store: &Store, action: &str, pairs: &[(&str, &str)], code: &str) {
    match run(store, action, pairs) {
        Ok(x) => panic!("{action} {pairs:?} succeeded, expected {code}: {x}"),
        Err(e) => assert_eq!(e.code, code, "{action} {pairs:?}: {}", e.message),
    }
}

/// The resources the error-code tests start from.
struct World {
    s: Store,
    vpc: String,
    other_vpc: String,
    subnet: String,
    sg: String,
    rt: String,
    igw: String,
    acl: String,
}

fn world() -> World {
    let s = Store::open(None).unwrap();
    s.write(|tx| crate::plane::ensure_default_vpc(tx, "123456789012", "us-east-1"))
        .unwrap();
    let vpc = between(
        &run(&s, "CreateVpc", &[("CidrBlock", "10.0.0.0/16")]).unwrap(),
        "vpcId",
    )
    .to_string();
    let other_vpc = between(
        &run(&s, "CreateVpc", &[("CidrBlock", "10.1.0.0/16")]).unwrap(),
        "vpcId",
    )
    .to_string();
    let subnet = between(
        &run(
            &s,
            "CreateSubnet",
            &[("VpcId", &vpc), ("CidrBlock", "10.0.1.0/28")],
        )
        .unwrap(),
        "subnetId",
    )
    .to_string();
    let sg = between(
        &run(
            &s,
            "CreateSecurityGroup",
            &[
                ("GroupName", "a"),
                ("GroupDescription", "a"),
                ("VpcId", &vpc),
            ],
        )
        .unwrap(),
        "groupId",
    )
    .to_string();
    let rt = between(
        &run(&s, "CreateRouteTable", &[("VpcId", &vpc)]).unwrap(),
        "routeTableId",
    )
    .to_string();
    let igw = between(
        &run(&s, "CreateInternetGateway", &[]).unwrap(),
        "internetGatewayId",
    )
    .to_string();
    let acl = between(
        &run(&s, "CreateNetworkAcl", &[("VpcId", &vpc)]).unwrap(),
        "networkAclId",
    )
    .to_string();

    World {
        s,
        vpc,
        other_vpc,
        subnet,
        sg,
        rt,
        igw,
        acl,
    }
}

#[test]
fn error_codes_of_vpcs_and_subnets() {
    let World { s, vpc, .. } = world();
    // VPCs, ids and parameters.
    fails(
        &s,
        "CreateVpc",
        &[("CidrBlock", "10.0.0.0/8")],
        "InvalidVpc.Range",
    );
    fails(
        &s,
        "CreateVpc",
        &[("CidrBlock", "10.0.0.1/16")],
        "InvalidParameterValue",
    );
    fails(&s, "CreateVpc", &[], "MissingParameter");
    fails(
        &s,
        "CreateVpc",
        &[("CidrBlock", "10.2.0.0/16"), ("DryRun", "true")],
        "DryRunOperation",
    );
    fails(
        &s,
        "DescribeVpcs",
        &[("VpcId.1", "vpc-00000000000000000")],
        "InvalidVpcID.NotFound",
    );
    fails(
        &s,
        "DeleteVpc",
        &[("VpcId", "subnet-1")],
        "InvalidVpcID.Malformed",
    );
    fails(&s, "DeleteVpc", &[("VpcId", &vpc)], "DependencyViolation");
    fails(
        &s,
        "ModifyVpcAttribute",
        &[("VpcId", &vpc)],
        "InvalidParameterCombination",
    );
    fails(
        &s,
        "DescribeVpcs",
        &[("Filter.1.Name", "colour"), ("Filter.1.Value.1", "x")],
        "InvalidParameterValue",
    );
    fails(
        &s,
        "DescribeVpcs",
        &[("NextToken", "zz")],
        "InvalidPaginationToken",
    );
    fails(
        &s,
        "DescribeVpcs",
        &[("ClientToken", &"x".repeat(65))],
        "InvalidParameterValue",
    );
    for c in [
        "10.9.0.0/20",
        "10.9.16.0/20",
        "10.9.32.0/20",
        "10.9.48.0/20",
    ] {
        run(
            &s,
            "AssociateVpcCidrBlock",
            &[("VpcId", &vpc), ("CidrBlock", c)],
        )
        .unwrap();
    }
    fails(
        &s,
        "AssociateVpcCidrBlock",
        &[("VpcId", &vpc), ("CidrBlock", "10.9.0.0/24")],
        "InvalidVpc.Range",
    );
    fails(
        &s,
        "AssociateVpcCidrBlock",
        &[("VpcId", &vpc), ("CidrBlock", "10.3.0.0/16")],
        "CidrLimitExceeded",
    );
    for cidr in ["10.4.0.0/16", "10.5.0.0/16"] {
        run(&s, "CreateVpc", &[("CidrBlock", cidr)]).unwrap();
    }
    fails(
        &s,
        "CreateVpc",
        &[("CidrBlock", "10.6.0.0/16")],
        "VpcLimitExceeded",
    );
    fails(
        &s,
        "CreateVpc",
        &[("CidrBlock", "10.6.0.0/16"), ("ClientToken", "t")],
        "VpcLimitExceeded",
    );

    // Subnets.
    fails(
        &s,
        "CreateSubnet",
        &[("VpcId", &vpc), ("CidrBlock", "10.0.1.0/24")],
        "InvalidSubnet.Conflict",
    );
    fails(
        &s,
        "CreateSubnet",
        &[("VpcId", &vpc), ("CidrBlock", "192.168.0.0/24")],
        "InvalidSubnet.Range",
    );
    fails(
        &s,
        "CreateSubnet",
        &[
            ("VpcId", &vpc),
            ("CidrBlock", "10.0.9.0/24"),
            ("AvailabilityZone", "us-east-1f"),
        ],
        "InvalidParameterValue",
    );
    fails(
        &s,
        "DeleteSubnet",
        &[("SubnetId", "subnet-00000000000000000")],
        "InvalidSubnetID.NotFound",
    );
    fails(
        &s,
        "DeleteSubnet",
        &[("SubnetId", "sub-1")],
        "InvalidSubnetID.Malformed",
    );
}

#[test]
fn error_codes_of_routes_and_gateways() {
    let World {
        s,
        vpc,
        other_vpc,
        subnet,
        rt,
        igw,
        ..
    } = world();
    // Route tables and routes.
    fails(
        &s,
        "DescribeRouteTables",
        &[("RouteTableId.1", "rtb-00000000000000000")],
        "InvalidRouteTableID.NotFound",
    );
    fails(
        &s,
        "DeleteRouteTable",
        &[("RouteTableId", "rt-1")],
        "InvalidRouteTableID.Malformed",
    );
    fails(
        &s,
        "DescribeRouteTables",
        &[("MaxResults", "500")],
        "InvalidParameterValue",
    );
    fails(
        &s,
        "CreateRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("GatewayId", &igw),
        ],
        "InvalidParameterValue",
    );
    fails(
        &s,
        "CreateRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("GatewayId", "igw-00000000000000000"),
        ],
        "InvalidInternetGatewayID.NotFound",
    );
    fails(
        &s,
        "CreateRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("NatGatewayId", "nat-00000000000000000"),
        ],
        "InvalidNatGatewayID.NotFound",
    );
    fails(
        &s,
        "CreateRoute",
        &[("RouteTableId", &rt), ("DestinationCidrBlock", "0.0.0.0/0")],
        "InvalidParameterCombination",
    );
    fails(
        &s,
        "CreateRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("InstanceId", "i-00000000000000000"),
        ],
        "InvalidInstanceID.NotFound",
    );
    fails(
        &s,
        "CreateRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("InstanceId", "x-1"),
        ],
        "InvalidInstanceID.Malformed",
    );
    run(
        &s,
        "AttachInternetGateway",
        &[("InternetGatewayId", &igw), ("VpcId", &vpc)],
    )
    .unwrap();
    run(
        &s,
        "CreateRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("GatewayId", &igw),
        ],
    )
    .unwrap();
    fails(
        &s,
        "CreateRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("GatewayId", &igw),
        ],
        "RouteAlreadyExists",
    );
    fails(
        &s,
        "DeleteRoute",
        &[("RouteTableId", &rt), ("DestinationCidrBlock", "1.0.0.0/8")],
        "InvalidRoute.NotFound",
    );
    fails(
        &s,
        "DeleteRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "10.0.0.0/16"),
        ],
        "InvalidParameterValue",
    );
    fails(
        &s,
        "ReplaceRoute",
        &[
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "1.0.0.0/8"),
            ("GatewayId", &igw),
        ],
        "InvalidRoute.NotFound",
    );
    run(
        &s,
        "AssociateRouteTable",
        &[("RouteTableId", &rt), ("SubnetId", &subnet)],
    )
    .unwrap();
    fails(
        &s,
        "AssociateRouteTable",
        &[("RouteTableId", &rt), ("SubnetId", &subnet)],
        "Resource.AlreadyAssociated",
    );
    fails(
        &s,
        "DeleteRouteTable",
        &[("RouteTableId", &rt)],
        "DependencyViolation",
    );
    fails(
        &s,
        "DisassociateRouteTable",
        &[("AssociationId", "rtbassoc-0")],
        "InvalidAssociationID.NotFound",
    );

    // Internet gateways.
    fails(
        &s,
        "AttachInternetGateway",
        &[("InternetGatewayId", &igw), ("VpcId", &other_vpc)],
        "Resource.AlreadyAssociated",
    );
    fails(
        &s,
        "DetachInternetGateway",
        &[("InternetGatewayId", &igw), ("VpcId", &other_vpc)],
        "Gateway.NotAttached",
    );
    fails(
        &s,
        "DeleteInternetGateway",
        &[("InternetGatewayId", &igw)],
        "DependencyViolation",
    );
    fails(
        &s,
        "DeleteInternetGateway",
        &[("InternetGatewayId", "igw-00000000000000000")],
        "InvalidInternetGatewayID.NotFound",
    );
    fails(
        &s,
        "DeleteInternetGateway",
        &[("InternetGatewayId", "gw-1")],
        "InvalidInternetGatewayID.Malformed",
    );
}

#[test]
fn error_codes_of_security_groups_and_acls() {
    let World {
        s, vpc, sg, acl, ..
    } = world();
    // Security groups.
    fails(
        &s,
        "CreateSecurityGroup",
        &[
            ("GroupName", "a"),
            ("GroupDescription", "a"),
            ("VpcId", &vpc),
        ],
        "InvalidGroup.Duplicate",
    );
    fails(
        &s,
        "CreateSecurityGroup",
        &[
            ("GroupName", "default"),
            ("GroupDescription", "a"),
            ("VpcId", &vpc),
        ],
        "InvalidParameterValue",
    );
    fails(
        &s,
        "DescribeSecurityGroups",
        &[("GroupId.1", "sg-00000000000000000")],
        "InvalidGroup.NotFound",
    );
    fails(
        &s,
        "DescribeSecurityGroups",
        &[("GroupId.1", "group-1")],
        "InvalidGroupId.Malformed",
    );
    fails(
        &s,
        "DescribeSecurityGroupRules",
        &[("SecurityGroupRuleId.1", "sgr-00000000000000000")],
        "InvalidSecurityGroupRuleId.NotFound",
    );
    let default_sg = run(
        &s,
        "DescribeSecurityGroups",
        &[
            ("Filter.1.Name", "vpc-id"),
            ("Filter.1.Value.1", &vpc),
            ("Filter.2.Name", "group-name"),
            ("Filter.2.Value.1", "default"),
        ],
    )
    .unwrap();
    fails(
        &s,
        "DeleteSecurityGroup",
        &[("GroupId", between(&default_sg, "groupId"))],
        "CannotDelete",
    );
    let rule = |port: &str| {
        vec![
            ("GroupId", sg.clone()),
            ("IpPermissions.1.IpProtocol", "tcp".into()),
            ("IpPermissions.1.FromPort", port.to_string()),
            ("IpPermissions.1.ToPort", port.to_string()),
            ("IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8".into()),
        ]
    };
    let as_pairs = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    fails(
        &s,
        "RevokeSecurityGroupIngress",
        &as_pairs(&rule("1"))
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
        "InvalidPermission.NotFound",
    );
    for p in 1..=60 {
        let r = as_pairs(&rule(&p.to_string()));
        run(
            &s,
            "AuthorizeSecurityGroupIngress",
            &r.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
        )
        .unwrap();
    }
    let r = as_pairs(&rule("1"));
    fails(
        &s,
        "AuthorizeSecurityGroupIngress",
        &r.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
        "InvalidPermission.Duplicate",
    );
    let r = as_pairs(&rule("61"));
    fails(
        &s,
        "AuthorizeSecurityGroupIngress",
        &r.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
        "RulesPerSecurityGroupLimitExceeded",
    );
    fails(
        &s,
        "RevokeSecurityGroupIngress",
        &[
            ("GroupId", &sg),
            ("SecurityGroupRuleId.1", "sgr-00000000000000000"),
        ],
        "InvalidSecurityGroupRuleId.NotFound",
    );

    // Network ACLs.
    let entry = [
        ("NetworkAclId", acl.as_str()),
        ("RuleNumber", "100"),
        ("Protocol", "tcp"),
        ("RuleAction", "allow"),
        ("Egress", "false"),
        ("CidrBlock", "0.0.0.0/0"),
        ("PortRange.From", "443"),
        ("PortRange.To", "443"),
    ];
    run(&s, "CreateNetworkAclEntry", &entry).unwrap();
    fails(
        &s,
        "CreateNetworkAclEntry",
        &entry,
        "NetworkAclEntryAlreadyExists",
    );
    for n in 101..120 {
        let n = n.to_string();
        let mut e = entry.to_vec();
        e[1] = ("RuleNumber", &n);
        run(&s, "CreateNetworkAclEntry", &e).unwrap();
    }
    let mut e = entry.to_vec();
    e[1] = ("RuleNumber", "200");
    fails(
        &s,
        "CreateNetworkAclEntry",
        &e,
        "NetworkAclEntryLimitExceeded",
    );
    e[1] = ("RuleNumber", "40000");
    fails(&s, "CreateNetworkAclEntry", &e, "InvalidParameterValue");
    e[1] = ("RuleNumber", "300");
    fails(
        &s,
        "ReplaceNetworkAclEntry",
        &e,
        "InvalidNetworkAclEntry.NotFound",
    );
    fails(
        &s,
        "DeleteNetworkAclEntry",
        &[
            ("NetworkAclId", &acl),
            ("RuleNumber", "300"),
            ("Egress", "false"),
        ],
        "InvalidNetworkAclEntry.NotFound",
    );
    fails(
        &s,
        "DeleteNetworkAcl",
        &[("NetworkAclId", "acl-00000000000000000")],
        "InvalidNetworkAclID.NotFound",
    );
    fails(
        &s,
        "DeleteNetworkAcl",
        &[("NetworkAclId", "nacl-1")],
        "InvalidNetworkAclID.Malformed",
    );
}

#[test]
fn error_codes_of_instances_addresses_tags_and_quotas() {
    let World {
        s,
        vpc,
        other_vpc,
        subnet,
        sg,
        igw,
        ..
    } = world();
    run(
        &s,
        "AttachInternetGateway",
        &[("InternetGatewayId", &igw), ("VpcId", &vpc)],
    )
    .unwrap();
    // Interfaces, instances and addresses.
    fails(
        &s,
        "RunInstances",
        &[
            ("ImageId", "img-1"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("SubnetId", &subnet),
        ],
        "InvalidAMIID.Malformed",
    );
    fails(
        &s,
        "RunInstances",
        &[
            ("ImageId", "ami-1"),
            ("MinCount", "1"),
            ("MaxCount", "2"),
            ("SubnetId", &subnet),
            ("PrivateIpAddress", "10.0.1.5"),
        ],
        "InvalidParameterCombination",
    );
    fails(
        &s,
        "RunInstances",
        &[
            ("ImageId", "ami-1"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("SubnetId", &subnet),
            ("SecurityGroupId.1", "sg-00000000000000000"),
        ],
        "InvalidGroup.NotFound",
    );
    fails(
        &s,
        "RunInstances",
        &[
            ("ImageId", "ami-1"),
            ("MinCount", "1"),
            ("MaxCount", "12"),
            ("SubnetId", &subnet),
        ],
        "InsufficientFreeAddressesInSubnet",
    );
    let launched = run(
        &s,
        "RunInstances",
        &[
            ("ImageId", "ami-1"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("SubnetId", &subnet),
            ("PrivateIpAddress", "10.0.1.5"),
            ("SecurityGroupId.1", &sg),
        ],
    )
    .unwrap();
    let instance = between(&launched, "instanceId").to_string();
    let eni = between(&launched, "networkInterfaceId").to_string();
    fails(
        &s,
        "RunInstances",
        &[
            ("ImageId", "ami-1"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("SubnetId", &subnet),
            ("PrivateIpAddress", "10.0.1.5"),
        ],
        "InvalidIPAddress.InUse",
    );
    run(&s, "StopInstances", &[("InstanceId.1", &instance)]).unwrap();
    fails(
        &s,
        "StartInstances",
        &[("InstanceId.1", &instance)],
        "IncorrectInstanceState",
    );
    fails(
        &s,
        "DescribeInstances",
        &[("InstanceId.1", &instance), ("MaxResults", "5")],
        "InvalidParameterCombination",
    );
    fails(
        &s,
        "DescribeInstances",
        &[("InstanceId.1", "i-00000000000000000")],
        "InvalidInstanceID.NotFound",
    );
    fails(
        &s,
        "DeleteNetworkInterface",
        &[("NetworkInterfaceId", &eni)],
        "InvalidNetworkInterface.InUse",
    );
    fails(
        &s,
        "DeleteNetworkInterface",
        &[("NetworkInterfaceId", "eni-00000000000000000")],
        "InvalidNetworkInterfaceID.NotFound",
    );
    fails(
        &s,
        "DeleteNetworkInterface",
        &[("NetworkInterfaceId", "if-1")],
        "InvalidNetworkInterfaceID.Malformed",
    );
    fails(
        &s,
        "DeleteSecurityGroup",
        &[("GroupId", &sg)],
        "DependencyViolation",
    );
    let eip = between(&run(&s, "AllocateAddress", &[]).unwrap(), "allocationId").to_string();
    let other_subnet = between(
        &run(
            &s,
            "CreateSubnet",
            &[("VpcId", &other_vpc), ("CidrBlock", "10.1.1.0/24")],
        )
        .unwrap(),
        "subnetId",
    )
    .to_string();
    let lonely = between(
        &run(&s, "CreateNetworkInterface", &[("SubnetId", &other_subnet)]).unwrap(),
        "networkInterfaceId",
    )
    .to_string();
    fails(
        &s,
        "AssociateAddress",
        &[("AllocationId", &eip), ("NetworkInterfaceId", &lonely)],
        "Gateway.NotAttached",
    );
    run(
        &s,
        "AssociateAddress",
        &[("AllocationId", &eip), ("InstanceId", &instance)],
    )
    .unwrap();
    fails(
        &s,
        "AssociateAddress",
        &[("AllocationId", &eip), ("InstanceId", &instance)],
        "Resource.AlreadyAssociated",
    );
    fails(
        &s,
        "ReleaseAddress",
        &[("AllocationId", &eip)],
        "InvalidIPAddress.InUse",
    );
    fails(
        &s,
        "DetachInternetGateway",
        &[("InternetGatewayId", &igw), ("VpcId", &vpc)],
        "DependencyViolation",
    );
    fails(
        &s,
        "DisassociateAddress",
        &[("AssociationId", "eipassoc-0")],
        "InvalidAssociationID.NotFound",
    );
    fails(
        &s,
        "ReleaseAddress",
        &[("AllocationId", "eipalloc-00000000000000000")],
        "InvalidAllocationID.NotFound",
    );
    fails(
        &s,
        "ReleaseAddress",
        &[("AllocationId", "alloc-1")],
        "InvalidAllocationID.Malformed",
    );
    fails(
        &s,
        "DescribeAddresses",
        &[("PublicIp.1", "192.0.2.1")],
        "InvalidAddress.NotFound",
    );
    for _ in 0..4 {
        run(&s, "AllocateAddress", &[]).unwrap();
    }
    fails(&s, "AllocateAddress", &[], "AddressLimitExceeded");
    fails(
        &s,
        "DeleteNatGateway",
        &[("NatGatewayId", "nat-00000000000000000")],
        "NatGatewayNotFound",
    );
    fails(
        &s,
        "DeleteNatGateway",
        &[("NatGatewayId", "gw-1")],
        "InvalidNatGatewayID.Malformed",
    );
    fails(
        &s,
        "CreateNatGateway",
        &[("SubnetId", &subnet), ("AllocationId", &eip)],
        "Resource.AlreadyAssociated",
    );

    // Tags.
    fails(
        &s,
        "CreateTags",
        &[("ResourceId.1", "thing-1"), ("Tag.1.Key", "k")],
        "InvalidID",
    );
    fails(
        &s,
        "CreateTags",
        &[("ResourceId.1", &vpc), ("Tag.1.Key", "aws:x")],
        "InvalidParameterValue",
    );
    let many: Vec<(String, String)> = (0..51)
        .flat_map(|i| {
            [
                (format!("Tag.{i}.Key"), format!("k{i}")),
                (format!("Tag.{i}.Value"), "v".into()),
            ]
        })
        .collect();
    let mut pairs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.push(("ResourceId.1", &vpc));
    fails(&s, "CreateTags", &pairs, "TagLimitExceeded");
    fails(
        &s,
        "DescribeTags",
        &[("Filter.1.Name", "colour"), ("Filter.1.Value.1", "x")],
        "InvalidParameterValue",
    );
    fails(&s, "DescribeUnicorns", &[], "InvalidAction");

    // Quotas and accounts without a default VPC.
    s.write(|tx| {
        for i in 0..2500 {
            let id = format!("sg-quota{i}");
            tx.put(
                "us-east-1",
                "SecurityGroups",
                &id,
                &serde_json::json!({"GroupId": id, "GroupName": id, "VpcId": "vpc-x"}),
            )?;
        }
        Ok(())
    })
    .unwrap();
    fails(
        &s,
        "CreateSecurityGroup",
        &[
            ("GroupName", "b"),
            ("GroupDescription", "b"),
            ("VpcId", &vpc),
        ],
        "SecurityGroupLimitExceeded",
    );
    let bare = Store::open(None).unwrap();
    fails(
        &bare,
        "CreateSecurityGroup",
        &[("GroupName", "b"), ("GroupDescription", "b")],
        "VPCIdNotSpecified",
    );
}
