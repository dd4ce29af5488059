//! VPCs: create (with the main route table, default network ACL and default security group AWS
//! creates alongside), delete with the dependency check, describe, CIDR associations, the DNS
//! attributes.

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::common::{self, authorize, id_param, require, Listing};
use super::{network_acls, render, route_tables, security_groups};
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

/// AWS's default quota of VPCs per region.
const VPCS_PER_REGION: usize = 5;

const FILTERS: &[(&str, &str)] = &[
    ("vpc-id", "VpcId"),
    ("cidr", "CidrBlock"),
    (
        "cidr-block-association.cidr-block",
        "CidrBlockAssociationSet.CidrBlock",
    ),
    (
        "cidr-block-association.association-id",
        "CidrBlockAssociationSet.AssociationId",
    ),
    (
        "cidr-block-association.state",
        "CidrBlockAssociationSet.CidrBlockState.State",
    ),
    ("dhcp-options-id", "DhcpOptionsId"),
    ("is-default", "IsDefault"),
    ("owner-id", "OwnerId"),
    ("state", "State"),
];

/// A VPC (or subnet) IPv4 CIDR as AWS accepts it: a network address, /16 to /28.
pub fn parse_cidr(value: &str, param: &str, range_code: &str) -> Result<Ipv4Net, ApiError> {
    let net: Ipv4Net = value
        .parse()
        .map_err(|_| ApiError::invalid_value(param, value, "This is not a valid CIDR block."))?;
    if net.trunc() != net {
        return Err(ApiError::invalid_value(
            param,
            value,
            "This is not a valid CIDR block.",
        ));
    }
    if !(16..=28).contains(&net.prefix_len()) {
        return Err(ApiError::client(
            range_code,
            format!("The CIDR '{value}' is invalid."),
        ));
    }
    Ok(net)
}

/// The IPv4 CIDRs of a VPC document.
pub fn cidrs(vpc: &Value) -> Vec<Ipv4Net> {
    vpc["CidrBlockAssociationSet"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["CidrBlockState"]["State"] != "disassociated")
        .filter_map(|a| a["CidrBlock"].as_str()?.parse().ok())
        .collect()
}

/// The documents of `kind` in a VPC.
pub fn in_vpc(tx: &Tx<'_>, region: &str, kind: &str, vpc_id: &str) -> Result<Vec<Value>, ApiError> {
    Ok(tx
        .list(region, kind)?
        .into_iter()
        .filter(|d| d["VpcId"].as_str() == Some(vpc_id))
        .collect())
}

/// A VPC that must exist.
pub fn require_vpc(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "vpc", "InvalidVpcID.Malformed")?;
    require(tx, call, "Vpcs", id, "InvalidVpcID.NotFound", "vpc")
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = resource_id("vpc");
    authorize(call, &[call.ec2_arn("vpc", &id)])?;
    let cidr = parse_cidr(
        call.params.require("CidrBlock")?,
        "cidrBlock",
        "InvalidVpc.Range",
    )?;
    let tags = common::tags_for(call, "vpc")?;
    if tx.list(&call.region, "Vpcs")?.len() >= VPCS_PER_REGION {
        return Err(ApiError::client(
            "VpcLimitExceeded",
            "The maximum number of VPCs has been reached.",
        ));
    }
    let tenancy = call.params.get("InstanceTenancy").unwrap_or("default");
    let mut vpc = json!({
        "VpcId": id,
        "OwnerId": call.account,
        "InstanceTenancy": tenancy,
        "State": "available",
        "CidrBlock": cidr.to_string(),
        "CidrBlockAssociationSet": [{
            "AssociationId": resource_id("vpc-cidr-assoc"),
            "CidrBlock": cidr.to_string(),
            "CidrBlockState": {"State": "associated"},
        }],
        "DhcpOptionsId": "default",
        "IsDefault": false,
        "VpcsimDnsSupport": true,
        "VpcsimDnsHostnames": false,
    });
    if !tags.is_empty() {
        vpc["Tags"] = json!(tags);
    }
    tx.put(&call.region, "Vpcs", &id, &vpc)?;
    let rtb = route_tables::new_table(call, &id, &[cidr], true);
    tx.put(
        &call.region,
        "RouteTables",
        rtb["RouteTableId"].as_str().unwrap_or_default(),
        &rtb,
    )?;
    let acl = network_acls::default_acl(call, &id);
    tx.put(
        &call.region,
        "NetworkAcls",
        acl["NetworkAclId"].as_str().unwrap_or_default(),
        &acl,
    )?;
    security_groups::create_default(tx, call, &id)?;
    call.changed(&call.region);
    // The answer shows the VPC as it is the moment it is created.
    vpc["State"] = json!("pending");
    Ok(render::single("Vpc", render::Shape::Plain, &vpc))
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    authorize(call, &[call.ec2_arn("vpc", id)])?;
    require_vpc(tx, call, id)?;
    let r = &call.region;
    let blocking = !in_vpc(tx, r, "Subnets", id)?.is_empty()
        || !in_vpc(tx, r, "NetworkInterfaces", id)?.is_empty()
        || in_vpc(tx, r, "SecurityGroups", id)?
            .iter()
            .any(|g| g["GroupName"] != "default")
        || in_vpc(tx, r, "RouteTables", id)?
            .iter()
            .any(|t| !route_tables::is_main(t))
        || in_vpc(tx, r, "NetworkAcls", id)?
            .iter()
            .any(|a| a["IsDefault"] != true)
        || in_vpc(tx, r, "NatGateways", id)?
            .iter()
            .any(|n| n["State"] != "deleted")
        || tx.list(r, "InternetGateways")?.iter().any(|g| {
            g["Attachments"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a["VpcId"] == id)
        });
    if blocking {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("The vpc '{id}' has dependencies and cannot be deleted."),
        ));
    }
    for (kind, field) in [
        ("RouteTables", "RouteTableId"),
        ("NetworkAcls", "NetworkAclId"),
        ("SecurityGroups", "GroupId"),
        ("NatGateways", "NatGatewayId"),
    ] {
        for d in in_vpc(tx, r, kind, id)? {
            let did = d[field].as_str().unwrap_or_default();
            tx.delete(r, kind, did)?;
            if kind == "SecurityGroups" {
                security_groups::delete_rules(tx, r, did)?;
            }
        }
    }
    tx.delete(r, "Vpcs", id)?;
    call.changed(r);
    Ok(common::ok_return())
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: "Vpcs",
            ids: ("VpcId", "VpcId"),
            not_found: ("InvalidVpcID.NotFound", "vpc"),
            filters: FILTERS,
        },
    )
}

pub fn associate_cidr(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    authorize(call, &[call.ec2_arn("vpc", id)])?;
    let mut vpc = require_vpc(tx, call, id)?;
    let value = call.params.require("CidrBlock")?;
    let cidr = parse_cidr(value, "cidrBlock", "InvalidVpc.Range")?;
    if cidrs(&vpc)
        .iter()
        .any(|c| c.contains(&cidr.network()) || cidr.contains(&c.network()))
    {
        return Err(ApiError::client(
            "InvalidVpc.Range",
            format!("The CIDR '{cidr}' overlaps with the CIDRs of {id}."),
        ));
    }
    if cidrs(&vpc).len() >= 5 {
        return Err(ApiError::client(
            "CidrLimitExceeded",
            format!("This network '{id}' has met its maximum number of allowed CIDRs: 5"),
        ));
    }
    let assoc = json!({
        "AssociationId": resource_id("vpc-cidr-assoc"),
        "CidrBlock": cidr.to_string(),
        "CidrBlockState": {"State": "associated"},
    });
    if let Some(set) = vpc["CidrBlockAssociationSet"].as_array_mut() {
        set.push(assoc.clone());
    }
    tx.put(&call.region, "Vpcs", id, &vpc)?;
    call.changed(&call.region);
    let mut shown = assoc;
    shown["CidrBlockState"]["State"] = json!("associating");
    Ok(
        render::single("CidrBlockAssociation", render::Shape::Plain, &shown)
            + &format!("<vpcId>{id}</vpcId>"),
    )
}

pub fn modify_attribute(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    authorize(call, &[call.ec2_arn("vpc", id)])?;
    let mut vpc = require_vpc(tx, call, id)?;
    let support = call.params.bool("EnableDnsSupport.Value")?;
    let hostnames = call.params.bool("EnableDnsHostnames.Value")?;
    if support.is_some() == hostnames.is_some() {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            "Exactly one of EnableDnsSupport and EnableDnsHostnames can be modified per call.",
        ));
    }
    if let Some(v) = support {
        vpc["VpcsimDnsSupport"] = json!(v);
    }
    if let Some(v) = hostnames {
        vpc["VpcsimDnsHostnames"] = json!(v);
    }
    tx.put(&call.region, "Vpcs", id, &vpc)?;
    Ok(common::ok_return())
}
