//! Subnets: CIDRs inside their VPC and overlapping no other subnet, one zone of the region.

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::common::{self, authorize, id_param, require, Listing};
use super::render;
use super::vpcs::{cidrs, in_vpc, parse_cidr, require_vpc};
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

const FILTERS: &[(&str, &str)] = &[
    ("subnet-id", "SubnetId"),
    ("vpc-id", "VpcId"),
    ("cidr-block", "CidrBlock"),
    ("cidr", "CidrBlock"),
    ("cidrBlock", "CidrBlock"),
    ("availability-zone", "AvailabilityZone"),
    ("availabilityZone", "AvailabilityZone"),
    ("default-for-az", "DefaultForAz"),
    ("defaultForAz", "DefaultForAz"),
    ("map-public-ip-on-launch", "MapPublicIpOnLaunch"),
    ("owner-id", "OwnerId"),
    ("state", "State"),
    ("subnet-arn", "SubnetArn"),
];

/// A subnet that must exist.
pub fn require_subnet(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "subnet", "InvalidSubnetID.Malformed")?;
    require(
        tx,
        call,
        "Subnets",
        id,
        "InvalidSubnetID.NotFound",
        "subnet",
    )
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The addresses of a subnet left for interfaces: AWS reserves five per subnet.
fn available(cidr: &Ipv4Net) -> u64 {
    (1u64 << (32 - cidr.prefix_len())).saturating_sub(5)
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let vpc_id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    let id = resource_id("subnet");
    authorize(
        call,
        &[call.ec2_arn("subnet", &id), call.ec2_arn("vpc", vpc_id)],
    )?;
    let vpc = require_vpc(tx, call, vpc_id)?;
    let value = call.params.require("CidrBlock")?;
    let cidr = parse_cidr(value, "cidrBlock", "InvalidSubnet.Range")?;
    if !cidrs(&vpc).iter().any(|c| c.contains(&cidr)) {
        return Err(ApiError::client(
            "InvalidSubnet.Range",
            format!("The CIDR '{cidr}' is invalid."),
        ));
    }
    for other in in_vpc(tx, &call.region, "Subnets", vpc_id)? {
        let theirs: Option<Ipv4Net> = other["CidrBlock"].as_str().and_then(|c| c.parse().ok());
        if theirs.is_some_and(|t| overlaps(&t, &cidr)) {
            return Err(ApiError::client(
                "InvalidSubnet.Conflict",
                format!("The CIDR '{cidr}' conflicts with another subnet"),
            ));
        }
    }
    let zones = crate::plane::zones(&call.region);
    let zone = call.params.get("AvailabilityZone").unwrap_or(&zones[0]);
    if !zones.iter().any(|z| z == zone) {
        return Err(ApiError::invalid_value(
            "availabilityZone",
            zone,
            &format!(
                "Subnets can currently only be created in the following availability zones: {}.",
                zones.join(", ")
            ),
        ));
    }
    let tags = common::tags_for(call, "subnet")?;
    let mut subnet = json!({
        "SubnetId": id,
        "SubnetArn": call.ec2_arn("subnet", &id),
        "VpcId": vpc_id,
        "OwnerId": call.account,
        "State": "available",
        "CidrBlock": cidr.to_string(),
        "AvailabilityZone": zone,
        "AvailableIpAddressCount": available(&cidr),
        "DefaultForAz": false,
        "MapPublicIpOnLaunch": false,
        "AssignIpv6AddressOnCreation": false,
        "Ipv6CidrBlockAssociationSet": [],
    });
    if !tags.is_empty() {
        subnet["Tags"] = json!(tags);
    }
    tx.put(&call.region, "Subnets", &id, &subnet)?;
    super::network_acls::associate_default(tx, call, vpc_id, &id)?;
    call.changed(&call.region);
    subnet["State"] = json!("pending");
    Ok(render::single("Subnet", render::Shape::Plain, &subnet))
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "SubnetId", "subnet", "InvalidSubnetID.Malformed")?;
    authorize(call, &[call.ec2_arn("subnet", id)])?;
    require_subnet(tx, call, id)?;
    let r = &call.region;
    let used = tx
        .list(r, "NetworkInterfaces")?
        .iter()
        .any(|e| e["SubnetId"] == id)
        || tx
            .list(r, "NatGateways")?
            .iter()
            .any(|n| n["SubnetId"] == id && n["State"] != "deleted");
    if used {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("The subnet '{id}' has dependencies and cannot be deleted."),
        ));
    }
    // Its route-table and network-ACL associations go with it.
    for mut t in tx.list(r, "RouteTables")? {
        if let Some(list) = t["Associations"].as_array_mut() {
            let before = list.len();
            list.retain(|a| a["SubnetId"] != id);
            if list.len() != before {
                let tid = t["RouteTableId"].as_str().unwrap_or_default().to_string();
                tx.put(r, "RouteTables", &tid, &t)?;
            }
        }
    }
    super::network_acls::forget_subnet(tx, r, id)?;
    tx.delete(r, "Subnets", id)?;
    call.changed(r);
    Ok(common::ok_return())
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: "Subnets",
            ids: ("SubnetId", "SubnetId"),
            not_found: ("InvalidSubnetID.NotFound", "subnet"),
            filters: FILTERS,
        },
    )
}

pub fn modify_attribute(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "SubnetId", "subnet", "InvalidSubnetID.Malformed")?;
    authorize(call, &[call.ec2_arn("subnet", id)])?;
    let mut subnet = require_subnet(tx, call, id)?;
    let mut any = false;
    for (param, field) in [
        ("MapPublicIpOnLaunch.Value", "MapPublicIpOnLaunch"),
        (
            "AssignIpv6AddressOnCreation.Value",
            "AssignIpv6AddressOnCreation",
        ),
    ] {
        if let Some(v) = call.params.bool(param)? {
            subnet[field] = json!(v);
            any = true;
        }
    }
    if !any {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            "One attribute must be modified: MapPublicIpOnLaunch or AssignIpv6AddressOnCreation.",
        ));
    }
    tx.put(&call.region, "Subnets", id, &subnet)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}
