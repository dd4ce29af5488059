//! Internet gateways (attached to at most one VPC) and NAT gateways (`pending`, then
//! `available` after `--async-delay`).

use serde_json::{json, Value};

use super::common::{self, authorize, id_param, require, Listing, SINCE};
use super::render;
use super::vpcs::require_vpc;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

const IGW_FILTERS: &[(&str, &str)] = &[
    ("internet-gateway-id", "InternetGatewayId"),
    ("attachment.vpc-id", "Attachments.VpcId"),
    ("attachment.state", "Attachments.State"),
    ("owner-id", "OwnerId"),
];

const NAT_FILTERS: &[(&str, &str)] = &[
    ("nat-gateway-id", "NatGatewayId"),
    ("state", "State"),
    ("subnet-id", "SubnetId"),
    ("vpc-id", "VpcId"),
];

fn require_igw(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "igw", "InvalidInternetGatewayID.Malformed")?;
    require(
        tx,
        call,
        "InternetGateways",
        id,
        "InvalidInternetGatewayID.NotFound",
        "internetGateway",
    )
}

fn attached_vpc(igw: &Value) -> Option<&str> {
    igw["Attachments"].as_array()?.first()?["VpcId"].as_str()
}

pub fn create_igw(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = resource_id("igw");
    authorize(call, &[call.ec2_arn("internet-gateway", &id)])?;
    let tags = common::tags_for(call, "internet-gateway")?;
    let mut igw = json!({"InternetGatewayId": id, "OwnerId": call.account, "Attachments": []});
    if !tags.is_empty() {
        igw["Tags"] = json!(tags);
    }
    tx.put(&call.region, "InternetGateways", &id, &igw)?;
    Ok(render::single(
        "InternetGateway",
        render::Shape::Plain,
        &igw,
    ))
}

/// `InternetGatewayId` and `VpcId` of an attach or detach, once the caller may act on both.
fn igw_and_vpc(call: &Call) -> Result<(&str, &str), ApiError> {
    let id = id_param(
        call,
        "InternetGatewayId",
        "igw",
        "InvalidInternetGatewayID.Malformed",
    )?;
    let vpc = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    authorize(
        call,
        &[
            call.ec2_arn("internet-gateway", id),
            call.ec2_arn("vpc", vpc),
        ],
    )?;
    Ok((id, vpc))
}

pub fn attach_igw(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (id, vpc) = igw_and_vpc(call)?;
    let mut igw = require_igw(tx, call, id)?;
    require_vpc(tx, call, vpc)?;
    if let Some(other) = attached_vpc(&igw) {
        return Err(ApiError::client(
            "Resource.AlreadyAssociated",
            format!("resource {id} is already attached to network {other}"),
        ));
    }
    if let Some(g) = tx
        .list(&call.region, "InternetGateways")?
        .iter()
        .find(|g| attached_vpc(g) == Some(vpc))
    {
        return Err(ApiError::client(
            "Resource.AlreadyAssociated",
            format!(
                "network {vpc} already has an internet gateway attached ({})",
                g["InternetGatewayId"].as_str().unwrap_or_default()
            ),
        ));
    }
    igw["Attachments"] = json!([{"State": "available", "VpcId": vpc}]);
    tx.put(&call.region, "InternetGateways", id, &igw)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

pub fn detach_igw(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (id, vpc) = igw_and_vpc(call)?;
    let mut igw = require_igw(tx, call, id)?;
    if attached_vpc(&igw) != Some(vpc) {
        return Err(ApiError::client(
            "Gateway.NotAttached",
            format!("resource {id} is not attached to network {vpc}"),
        ));
    }
    let mapped = tx
        .list(&call.region, "NetworkInterfaces")?
        .iter()
        .any(|e| e["VpcId"] == vpc && e["Association"]["PublicIp"].is_string());
    if mapped {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("Network {vpc} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."),
        ));
    }
    igw["Attachments"] = json!([]);
    tx.put(&call.region, "InternetGateways", id, &igw)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

pub fn delete_igw(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(
        call,
        "InternetGatewayId",
        "igw",
        "InvalidInternetGatewayID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("internet-gateway", id)])?;
    let igw = require_igw(tx, call, id)?;
    if attached_vpc(&igw).is_some() {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("The internetGateway '{id}' has dependencies and cannot be deleted."),
        ));
    }
    tx.delete(&call.region, "InternetGateways", id)?;
    Ok(common::ok_return())
}

pub fn describe_igws(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: "InternetGateways",
            ids: ("InternetGatewayId", "InternetGatewayId"),
            not_found: ("InvalidInternetGatewayID.NotFound", "internetGateway"),
            filters: IGW_FILTERS,
        },
    )
}

pub fn create_nat(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let subnet_id = id_param(call, "SubnetId", "subnet", "InvalidSubnetID.Malformed")?;
    let id = resource_id("nat");
    authorize(
        call,
        &[
            call.ec2_arn("natgateway", &id),
            call.ec2_arn("subnet", subnet_id),
        ],
    )?;
    let subnet = super::subnets::require_subnet(tx, call, subnet_id)?;
    let connectivity = call.params.get("ConnectivityType").unwrap_or("public");
    if connectivity != "public" && connectivity != "private" {
        return Err(ApiError::invalid_value(
            "ConnectivityType",
            connectivity,
            "Expected public or private.",
        ));
    }
    let tags = common::tags_for(call, "natgateway")?;
    let eni_id = resource_id("eni");
    let private = super::interfaces::free_address(tx, &call.region, &subnet)?;
    let mut address = json!({"NetworkInterfaceId": eni_id, "PrivateIp": private.to_string(), "IsPrimary": true, "Status": "succeeded"});
    if connectivity == "public" {
        let alloc = call
            .params
            .get("AllocationId")
            .ok_or_else(|| ApiError::missing_parameter("AllocationId"))?;
        let mut eip = super::interfaces::require_address(tx, call, alloc)?;
        if eip["AssociationId"].is_string() {
            return Err(ApiError::client(
                "Resource.AlreadyAssociated",
                format!("Elastic IP address [{alloc}] is already associated"),
            ));
        }
        address["AllocationId"] = json!(alloc);
        address["PublicIp"] = eip["PublicIp"].clone();
        address["AssociationId"] = json!(resource_id("eipassoc"));
        eip["AssociationId"] = address["AssociationId"].clone();
        eip["NetworkInterfaceId"] = json!(eni_id);
        eip["PrivateIpAddress"] = json!(private.to_string());
        eip["NetworkInterfaceOwnerId"] = json!(call.account);
        tx.put(&call.region, "Addresses", alloc, &eip)?;
    }
    let mut nat = json!({
        "NatGatewayId": id,
        "SubnetId": subnet_id,
        "VpcId": subnet["VpcId"],
        "State": "pending",
        "ConnectivityType": connectivity,
        "CreateTime": common::iso8601(call.now),
        "NatGatewayAddresses": [address],
        SINCE: common::epoch_ms(call.now),
    });
    if !tags.is_empty() {
        nat["Tags"] = json!(tags);
    }
    tx.put(&call.region, "NatGateways", &id, &nat)?;
    call.changed(&call.region);
    Ok(render::single("NatGateway", render::Shape::Plain, &nat))
}

pub fn delete_nat(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "NatGatewayId", "nat", "InvalidNatGatewayID.Malformed")?;
    authorize(call, &[call.ec2_arn("natgateway", id)])?;
    let mut nat = tx
        .get(&call.region, "NatGateways", id)?
        .filter(|n| n["State"] != "deleted")
        .ok_or_else(|| {
            ApiError::client(
                "NatGatewayNotFound",
                format!("The Nat Gateway {id} was not found"),
            )
        })?;
    for a in nat["NatGatewayAddresses"].as_array().into_iter().flatten() {
        if let Some(alloc) = a["AllocationId"].as_str() {
            if let Some(mut eip) = tx.get(&call.region, "Addresses", alloc)? {
                for k in [
                    "AssociationId",
                    "NetworkInterfaceId",
                    "PrivateIpAddress",
                    "NetworkInterfaceOwnerId",
                ] {
                    if let Some(m) = eip.as_object_mut() {
                        m.remove(k);
                    }
                }
                tx.put(&call.region, "Addresses", alloc, &eip)?;
            }
        }
    }
    nat["State"] = json!("deleting");
    nat[SINCE] = json!(common::epoch_ms(call.now));
    nat["DeleteTime"] = json!(common::iso8601(call.now));
    tx.put(&call.region, "NatGateways", id, &nat)?;
    call.changed(&call.region);
    Ok(format!("<natGatewayId>{id}</natGatewayId>"))
}

pub fn describe_nats(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: "NatGateways",
            ids: ("NatGatewayId", "NatGatewayId"),
            not_found: ("NatGatewayNotFound", "natGateway"),
            filters: NAT_FILTERS,
        },
    )
}
