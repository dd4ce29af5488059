//! Route tables, their routes and their subnet associations.

use ipnet::{IpNet, Ipv4Net};
use serde_json::{json, Value};

use super::common::{self, authorize, id_param, not_found, require, Listing};
use super::render;
use super::vpcs::require_vpc;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

const FILTERS: &[(&str, &str)] = &[
    ("route-table-id", "RouteTableId"),
    ("vpc-id", "VpcId"),
    ("owner-id", "OwnerId"),
    ("association.main", "Associations.Main"),
    ("association.subnet-id", "Associations.SubnetId"),
    (
        "association.route-table-association-id",
        "Associations.RouteTableAssociationId",
    ),
    ("association.route-table-id", "Associations.RouteTableId"),
    ("association.gateway-id", "Associations.GatewayId"),
    (
        "route.destination-cidr-block",
        "Routes.DestinationCidrBlock",
    ),
    ("route.gateway-id", "Routes.GatewayId"),
    ("route.nat-gateway-id", "Routes.NatGatewayId"),
    ("route.instance-id", "Routes.InstanceId"),
    (
        "route.vpc-peering-connection-id",
        "Routes.VpcPeeringConnectionId",
    ),
    ("route.transit-gateway-id", "Routes.TransitGatewayId"),
    ("route.state", "Routes.State"),
    (
        "route.destination-prefix-list-id",
        "Routes.DestinationPrefixListId",
    ),
    ("route.origin", "Routes.Origin"),
];

/// The route-target parameters of `CreateRoute`/`ReplaceRoute` and their route fields.
const TARGETS: &[&str] = &[
    "GatewayId",
    "NatGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "EgressOnlyInternetGatewayId",
];

/// A new route table of a VPC with its local routes; `main`: the VPC's main table.
pub fn new_table(call: &Call, vpc_id: &str, cidrs: &[Ipv4Net], main: bool) -> Value {
    let id = resource_id("rtb");
    let routes: Vec<Value> = cidrs
        .iter()
        .map(|c| {
            json!({"DestinationCidrBlock": c.to_string(), "GatewayId": "local",
                   "Origin": "CreateRouteTable", "State": "active"})
        })
        .collect();
    let associations = if main {
        vec![json!({"Main": true, "RouteTableId": id,
            "RouteTableAssociationId": resource_id("rtbassoc"),
            "AssociationState": {"State": "associated"}})]
    } else {
        vec![]
    };
    json!({
        "RouteTableId": id,
        "VpcId": vpc_id,
        "OwnerId": call.account,
        "Associations": associations,
        "PropagatingVgws": [],
        "Routes": routes,
    })
}

/// Whether a route table is its VPC's main table.
pub fn is_main(table: &Value) -> bool {
    table["Associations"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["Main"] == true)
}

fn require_table(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "rtb", "InvalidRouteTableID.Malformed")?;
    require(
        tx,
        call,
        "RouteTables",
        id,
        "InvalidRouteTableID.NotFound",
        "routeTable",
    )
}

fn put(tx: &Tx<'_>, call: &Call, table: &Value) -> Result<(), ApiError> {
    let id = table["RouteTableId"].as_str().unwrap_or_default();
    tx.put(&call.region, "RouteTables", id, table)?;
    call.changed(&call.region);
    Ok(())
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let vpc_id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    authorize(call, &[call.ec2_arn("vpc", vpc_id)])?;
    let vpc = require_vpc(tx, call, vpc_id)?;
    let tags = common::tags_for(call, "route-table")?;
    let mut table = new_table(call, vpc_id, &super::vpcs::cidrs(&vpc), false);
    if !tags.is_empty() {
        table["Tags"] = json!(tags);
    }
    put(tx, call, &table)?;
    Ok(render::single("RouteTable", render::Shape::Plain, &table))
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "RouteTableId", "rtb", "InvalidRouteTableID.Malformed")?;
    authorize(call, &[call.ec2_arn("route-table", id)])?;
    let table = require_table(tx, call, id)?;
    if table["Associations"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("The routeTable '{id}' has dependencies and cannot be deleted."),
        ));
    }
    tx.delete(&call.region, "RouteTables", id)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    if let Some(m) = call.params.int("MaxResults")? {
        if !(5..=100).contains(&m) {
            return Err(ApiError::invalid_value(
                "MaxResults",
                &m.to_string(),
                "Expecting a value greater than 5 and less than 100.",
            ));
        }
    }
    common::describe(
        tx,
        call,
        &Listing {
            kind: "RouteTables",
            ids: ("RouteTableId", "RouteTableId"),
            not_found: ("InvalidRouteTableID.NotFound", "routeTable"),
            filters: FILTERS,
        },
    )
}

/// The route's destination (`DestinationCidrBlock`, `DestinationIpv6CidrBlock` or
/// `DestinationPrefixListId`) and its key.
fn destination(tx: &Tx<'_>, call: &Call) -> Result<(&'static str, String), ApiError> {
    if let Some(pl) = call.params.get("DestinationPrefixListId") {
        super::prefix_lists::require_list(tx, call, pl)?;
        return Ok(("DestinationPrefixListId", pl.to_string()));
    }
    for (param, field) in [
        ("DestinationCidrBlock", "DestinationCidrBlock"),
        ("DestinationIpv6CidrBlock", "DestinationIpv6CidrBlock"),
    ] {
        if let Some(v) = call.params.get(param) {
            let net: IpNet = v.parse().map_err(|_| {
                ApiError::invalid_value(param, v, "This is not a valid CIDR block.")
            })?;
            return Ok((field, net.trunc().to_string()));
        }
    }
    Err(ApiError::missing_parameter("destinationCidrBlock"))
}

/// The route's target, checked to exist in the table's VPC.
fn target(tx: &Tx<'_>, call: &Call, table: &Value) -> Result<Value, ApiError> {
    let given: Vec<(&str, &str)> = TARGETS
        .iter()
        .filter_map(|t| call.params.get(t).map(|v| (*t, v)))
        .collect();
    let [(field, id)] = given.as_slice() else {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, instanceId, vpcPeeringConnectionId, transitGatewayId or egressOnlyInternetGatewayId",
        ));
    };
    let vpc = table["VpcId"].as_str().unwrap_or_default();
    let r = &call.region;
    let mut route = json!({ *field: id });
    let other_network = || {
        ApiError::client(
            "InvalidParameterValue",
            format!(
                "route table {} and network gateway {id} belong to different networks",
                table["RouteTableId"].as_str().unwrap_or_default()
            ),
        )
    };
    match *field {
        "GatewayId" => {
            let g = tx.get(r, "InternetGateways", id)?.ok_or_else(|| {
                not_found("InvalidInternetGatewayID.NotFound", "internetGateway", id)
            })?;
            if !g["Attachments"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a["VpcId"] == vpc)
            {
                return Err(other_network());
            }
        }
        "NatGatewayId" => {
            let n = tx
                .get(r, "NatGateways", id)?
                .filter(|n| n["State"] != "deleted")
                .ok_or_else(|| {
                    ApiError::client(
                        "InvalidNatGatewayID.NotFound",
                        format!("The natGateway ID '{id}' does not exist"),
                    )
                })?;
            if n["VpcId"] != vpc {
                return Err(other_network());
            }
        }
        "NetworkInterfaceId" => {
            let e = tx.get(r, "NetworkInterfaces", id)?.ok_or_else(|| {
                not_found("InvalidNetworkInterfaceID.NotFound", "networkInterface", id)
            })?;
            if e["VpcId"] != vpc {
                return Err(other_network());
            }
        }
        "InstanceId" => {
            let eni = super::instances::primary_interface(tx, call, id)?;
            if eni["VpcId"] != vpc {
                return Err(other_network());
            }
            route["NetworkInterfaceId"] = eni["NetworkInterfaceId"].clone();
            route["InstanceOwnerId"] = json!(call.account);
        }
        "VpcPeeringConnectionId" => {
            let pcx = super::peering::require_peering(tx, call, id)?;
            if !super::peering::routable_from(&pcx, vpc) {
                return Err(ApiError::client(
                    "InvalidParameterValue",
                    format!("route table {} and peering connection {id} are not connected (the peering is {} or not of this VPC)",
                        table["RouteTableId"].as_str().unwrap_or_default(), super::peering::status(&pcx)),
                ));
            }
        }
        "TransitGatewayId" => {
            super::transit_gateways::require_tgw(tx, call, id)?;
        }
        _ => {}
    }
    route["Origin"] = json!("CreateRoute");
    route["State"] = json!("active");
    Ok(route)
}

fn routes_mut(table: &mut Value) -> &mut Vec<Value> {
    if !table["Routes"].is_array() {
        table["Routes"] = json!([]);
    }
    match table["Routes"].as_array_mut() {
        Some(r) => r,
        None => unreachable!("just made an array"),
    }
}

pub fn create_route(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "RouteTableId", "rtb", "InvalidRouteTableID.Malformed")?;
    authorize(call, &[call.ec2_arn("route-table", id)])?;
    let mut table = require_table(tx, call, id)?;
    let (field, dest) = destination(tx, call)?;
    let mut route = target(tx, call, &table)?;
    if routes_mut(&mut table)
        .iter()
        .any(|r| r[field] == dest.as_str())
    {
        return Err(ApiError::client(
            "RouteAlreadyExists",
            format!("The route identified by {dest} already exists."),
        ));
    }
    route[field] = json!(dest);
    routes_mut(&mut table).push(route);
    put(tx, call, &table)?;
    Ok(common::ok_return())
}

pub fn replace_route(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "RouteTableId", "rtb", "InvalidRouteTableID.Malformed")?;
    authorize(call, &[call.ec2_arn("route-table", id)])?;
    let mut table = require_table(tx, call, id)?;
    let (field, dest) = destination(tx, call)?;
    let mut route = target(tx, call, &table)?;
    route[field] = json!(dest);
    let routes = routes_mut(&mut table);
    let Some(slot) = routes.iter_mut().find(|r| r[field] == dest.as_str()) else {
        return Err(ApiError::client(
            "InvalidRoute.NotFound",
            format!("There is no route defined for '{dest}' in the route table. Use CreateRoute instead."),
        ));
    };
    if slot["GatewayId"] == "local" {
        return Err(ApiError::invalid_value(
            field,
            &dest,
            "The local route cannot be replaced.",
        ));
    }
    route["Origin"] = json!("ReplaceRoute");
    *slot = route;
    put(tx, call, &table)?;
    Ok(common::ok_return())
}

pub fn delete_route(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "RouteTableId", "rtb", "InvalidRouteTableID.Malformed")?;
    authorize(call, &[call.ec2_arn("route-table", id)])?;
    let mut table = require_table(tx, call, id)?;
    let (field, dest) = destination(tx, call)?;
    let routes = routes_mut(&mut table);
    let Some(at) = routes.iter().position(|r| r[field] == dest.as_str()) else {
        return Err(ApiError::client(
            "InvalidRoute.NotFound",
            format!("no route with destination-cidr-block {dest} in route table {id}"),
        ));
    };
    if routes[at]["GatewayId"] == "local" {
        return Err(ApiError::client(
            "InvalidParameterValue",
            format!("cannot remove local route {dest} in route table {id}"),
        ));
    }
    routes.remove(at);
    put(tx, call, &table)?;
    Ok(common::ok_return())
}

pub fn associate(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "RouteTableId", "rtb", "InvalidRouteTableID.Malformed")?;
    let subnet_id = id_param(call, "SubnetId", "subnet", "InvalidSubnetID.Malformed")?;
    authorize(
        call,
        &[
            call.ec2_arn("route-table", id),
            call.ec2_arn("subnet", subnet_id),
        ],
    )?;
    let mut table = require_table(tx, call, id)?;
    let subnet = super::subnets::require_subnet(tx, call, subnet_id)?;
    if subnet["VpcId"] != table["VpcId"] {
        return Err(ApiError::client(
            "InvalidParameterValue",
            format!("Route table {id} and subnet {subnet_id} belong to different networks"),
        ));
    }
    for other in tx.list(&call.region, "RouteTables")? {
        let explicit = other["Associations"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["SubnetId"] == subnet_id);
        if explicit {
            return Err(ApiError::client(
                "Resource.AlreadyAssociated",
                format!("the specified association for route table {id} conflicts with an existing association"),
            ));
        }
    }
    let assoc_id = resource_id("rtbassoc");
    let assoc = json!({"Main": false, "RouteTableId": id, "SubnetId": subnet_id,
        "RouteTableAssociationId": assoc_id, "AssociationState": {"State": "associated"}});
    if let Some(list) = table["Associations"].as_array_mut() {
        list.push(assoc);
    }
    put(tx, call, &table)?;
    Ok(format!(
        "<associationId>{assoc_id}</associationId><associationState><state>associated</state></associationState>"
    ))
}

pub fn disassociate(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let assoc_id = call.params.require("AssociationId")?;
    authorize(call, &["*".to_string()])?;
    for mut table in tx.list(&call.region, "RouteTables")? {
        let Some(list) = table["Associations"].as_array_mut() else {
            continue;
        };
        let Some(at) = list
            .iter()
            .position(|a| a["RouteTableAssociationId"] == assoc_id)
        else {
            continue;
        };
        if list[at]["Main"] == true {
            return Err(ApiError::client(
                "InvalidParameterValue",
                format!("cannot disassociate the main route table association {assoc_id}"),
            ));
        }
        list.remove(at);
        put(tx, call, &table)?;
        return Ok(common::ok_return());
    }
    Err(ApiError::client(
        "InvalidAssociationID.NotFound",
        format!("The association ID '{assoc_id}' does not exist"),
    ))
}
