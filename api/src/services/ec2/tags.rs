//! `CreateTags`, `DeleteTags` and `DescribeTags` over every taggable resource of the region.

use serde_json::{json, Value};

use super::common::{self, authorize, not_found};
use super::filters::wildcard;
use super::render;
use crate::call::Call;
use crate::error::ApiError;
use crate::store::Tx;

/// Per id prefix: the stored kind, the id field, the tag member, the not-found code and noun,
/// and the resource type `DescribeTags` names.
const TAGGABLE: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "vpc-",
        "Vpcs",
        "VpcId",
        "Tags",
        "InvalidVpcID.NotFound",
        "vpc",
        "vpc",
    ),
    (
        "subnet-",
        "Subnets",
        "SubnetId",
        "Tags",
        "InvalidSubnetID.NotFound",
        "subnet",
        "subnet",
    ),
    (
        "rtb-",
        "RouteTables",
        "RouteTableId",
        "Tags",
        "InvalidRouteTableID.NotFound",
        "routeTable",
        "route-table",
    ),
    (
        "acl-",
        "NetworkAcls",
        "NetworkAclId",
        "Tags",
        "InvalidNetworkAclID.NotFound",
        "network ACL",
        "network-acl",
    ),
    (
        "sgr-",
        "SecurityGroupRules",
        "SecurityGroupRuleId",
        "Tags",
        "InvalidSecurityGroupRuleId.NotFound",
        "security group rule",
        "security-group-rule",
    ),
    (
        "sg-",
        "SecurityGroups",
        "GroupId",
        "Tags",
        "InvalidGroup.NotFound",
        "security group",
        "security-group",
    ),
    (
        "igw-",
        "InternetGateways",
        "InternetGatewayId",
        "Tags",
        "InvalidInternetGatewayID.NotFound",
        "internetGateway",
        "internet-gateway",
    ),
    (
        "eni-",
        "NetworkInterfaces",
        "NetworkInterfaceId",
        "TagSet",
        "InvalidNetworkInterfaceID.NotFound",
        "network interface",
        "network-interface",
    ),
    (
        "nat-",
        "NatGateways",
        "NatGatewayId",
        "Tags",
        "InvalidNatGatewayID.NotFound",
        "natGateway",
        "natgateway",
    ),
    (
        "eipalloc-",
        "Addresses",
        "AllocationId",
        "Tags",
        "InvalidAllocationID.NotFound",
        "allocation",
        "elastic-ip",
    ),
    (
        "pcx-",
        "VpcPeeringConnections",
        "VpcPeeringConnectionId",
        "Tags",
        "InvalidVpcPeeringConnectionID.NotFound",
        "vpcPeeringConnection",
        "vpc-peering-connection",
    ),
    (
        "vpce-",
        "VpcEndpoints",
        "VpcEndpointId",
        "Tags",
        "InvalidVpcEndpointId.NotFound",
        "vpcEndpoint",
        "vpc-endpoint",
    ),
    (
        "pl-",
        "PrefixLists",
        "PrefixListId",
        "Tags",
        "InvalidPrefixListID.NotFound",
        "prefix list",
        "prefix-list",
    ),
    (
        "tgw-rtb-",
        "TransitGatewayRouteTables",
        "TransitGatewayRouteTableId",
        "Tags",
        "InvalidRouteTableID.NotFound",
        "transitGatewayRouteTable",
        "transit-gateway-route-table",
    ),
    (
        "tgw-attach-",
        "TransitGatewayVpcAttachments",
        "TransitGatewayAttachmentId",
        "Tags",
        "InvalidTransitGatewayAttachmentID.NotFound",
        "transitGatewayAttachment",
        "transit-gateway-attachment",
    ),
    (
        "tgw-",
        "TransitGateways",
        "TransitGatewayId",
        "Tags",
        "InvalidTransitGatewayID.NotFound",
        "transitGateway",
        "transit-gateway",
    ),
];

/// A resource's document, where its tags are, and a way to store it back.
enum Found {
    Doc {
        kind: &'static str,
        member: &'static str,
        doc: Value,
    },
    Instance {
        reservation: Value,
        at: usize,
    },
}

fn lookup(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Found, ApiError> {
    if id.starts_with("i-") {
        for r in tx.list(&call.region, "Reservations")? {
            if let Some(at) = r["Instances"]
                .as_array()
                .and_then(|l| l.iter().position(|i| i["InstanceId"] == id))
            {
                return Ok(Found::Instance { reservation: r, at });
            }
        }
        return Err(not_found("InvalidInstanceID.NotFound", "instance", id));
    }
    let Some((_, kind, _, member, code, noun, _)) = TAGGABLE.iter().find(|t| id.starts_with(t.0))
    else {
        return Err(ApiError::client(
            "InvalidID",
            format!("The ID '{id}' is not valid"),
        ));
    };
    let doc = tx
        .get(&call.region, kind, id)?
        .ok_or_else(|| not_found(code, noun, id))?;
    Ok(Found::Doc { kind, member, doc })
}

fn change(
    tx: &Tx<'_>,
    call: &Call,
    id: &str,
    edit: &dyn Fn(&mut Vec<Value>),
) -> Result<(), ApiError> {
    let apply = |v: &mut Value, member: &str| {
        let mut tags = v[member].as_array().cloned().unwrap_or_default();
        edit(&mut tags);
        v[member] = Value::Array(tags);
    };
    match lookup(tx, call, id)? {
        Found::Doc {
            kind,
            member,
            mut doc,
        } => {
            apply(&mut doc, member);
            tx.put(&call.region, kind, id, &doc)
        }
        Found::Instance {
            mut reservation,
            at,
        } => {
            apply(&mut reservation["Instances"][at], "Tags");
            let rid = reservation["ReservationId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            tx.put(&call.region, "Reservations", &rid, &reservation)
        }
    }
}

fn resources(call: &Call) -> Result<Vec<&str>, ApiError> {
    let ids = call.params.ec2_list("ResourceId");
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("ResourceId"));
    }
    Ok(ids)
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let ids = resources(call)?;
    authorize(
        call,
        &ids.iter().map(|i| call.ec2_arn("*", i)).collect::<Vec<_>>(),
    )?;
    let tags = call.params.ec2_tags("Tag")?;
    for (k, v) in &tags {
        common::check_tag(k, v)?;
    }
    for id in ids {
        change(tx, call, id, &|list| {
            for (k, v) in &tags {
                list.retain(|t| t["Key"] != k.as_str());
                list.push(json!({"Key": k, "Value": v}));
            }
        })?;
        if list_len(tx, call, id)? > 50 {
            return Err(ApiError::client(
                "TagLimitExceeded",
                "The maximum number of tags for a resource is 50.",
            ));
        }
    }
    call.changed(&call.region);
    Ok(common::ok_return())
}

fn list_len(tx: &Tx<'_>, call: &Call, id: &str) -> Result<usize, ApiError> {
    Ok(match lookup(tx, call, id)? {
        Found::Doc { member, doc, .. } => doc[member].as_array().map_or(0, Vec::len),
        Found::Instance { reservation, at } => reservation["Instances"][at]["Tags"]
            .as_array()
            .map_or(0, Vec::len),
    })
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let ids = resources(call)?;
    authorize(
        call,
        &ids.iter().map(|i| call.ec2_arn("*", i)).collect::<Vec<_>>(),
    )?;
    let named: Vec<(String, Option<String>)> = call
        .params
        .ec2_structs("Tag")
        .into_iter()
        .map(|t| {
            Ok((
                t.require("Key")?.to_string(),
                t.get("Value").map(str::to_string),
            ))
        })
        .collect::<Result<_, ApiError>>()?;
    for id in ids {
        change(tx, call, id, &|list| {
            if named.is_empty() {
                list.retain(|t| t["Key"].as_str().is_some_and(|k| k.starts_with("aws:")));
            }
            for (k, v) in &named {
                list.retain(|t| {
                    !(t["Key"] == k.as_str() && v.as_ref().is_none_or(|v| t["Value"] == v.as_str()))
                });
            }
        })?;
    }
    call.changed(&call.region);
    Ok(common::ok_return())
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    let mut all = Vec::new();
    let mut add = |id: &str, rtype: &str, tags: &Value| {
        for t in tags.as_array().into_iter().flatten() {
            all.push(json!({"ResourceId": id, "ResourceType": rtype, "Key": t["Key"], "Value": t["Value"]}));
        }
    };
    for (_, kind, field, member, _, _, rtype) in TAGGABLE {
        for d in tx.list(&call.region, kind)? {
            add(d[*field].as_str().unwrap_or_default(), rtype, &d[*member]);
        }
    }
    for r in tx.list(&call.region, "Reservations")? {
        for i in r["Instances"].as_array().into_iter().flatten() {
            add(
                i["InstanceId"].as_str().unwrap_or_default(),
                "instance",
                &i["Tags"],
            );
        }
    }
    let filters = call.params.filters()?;
    for f in &filters {
        if !matches!(
            f.name.as_str(),
            "key" | "value" | "resource-id" | "resource-type"
        ) {
            return Err(ApiError::client(
                "InvalidParameterValue",
                format!("The filter '{}' is invalid", f.name),
            ));
        }
    }
    all.retain(|t| {
        filters.iter().all(|f| {
            let field = match f.name.as_str() {
                "key" => "Key",
                "value" => "Value",
                "resource-id" => "ResourceId",
                _ => "ResourceType",
            };
            let v = t[field].as_str().unwrap_or_default();
            f.values.iter().any(|p| wildcard(p, v))
        })
    });
    let (items, next) = common::page(call, all, false)?;
    Ok(render::list("Tags", &items) + &common::next_token(next))
}
