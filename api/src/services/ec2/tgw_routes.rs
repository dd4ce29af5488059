//! Transit-gateway route tables' contents: which attachments are associated with a table,
//! which propagate into it, its static routes, and `SearchTransitGatewayRoutes` over static and
//! propagated routes together.
//!
//! Propagations and static routes are stored per table in the wrapped shapes the snapshot
//! loader reads (`get-transit-gateway-route-table-propagations` and
//! `search-transit-gateway-routes` output with their `TransitGatewayRouteTableId`).

use ipnet::IpNet;
use serde_json::{json, Value};

use super::common::{self, authorize, id_param};
use super::filters;
use super::render;
use super::transit_gateways::{
    over, require_attachment, require_table, ATTACHMENTS, VPC_ATTACHMENTS,
};
use crate::call::Call;
use crate::error::ApiError;
use crate::store::Tx;

pub(super) const PROPAGATIONS: &str = "TransitGatewayPropagations";
pub(super) const STATIC_ROUTES: &str = "TransitGatewayStaticRoutes";

const ROUTE_FILTERS: &[(&str, &str)] = &[
    ("type", "Type"),
    ("state", "State"),
    ("route-search.exact-match", "DestinationCidrBlock"),
    (
        "attachment.transit-gateway-attachment-id",
        "TransitGatewayAttachments.TransitGatewayAttachmentId",
    ),
    (
        "attachment.resource-id",
        "TransitGatewayAttachments.ResourceId",
    ),
    (
        "attachment.resource-type",
        "TransitGatewayAttachments.ResourceType",
    ),
];

const PROPAGATION_FILTERS: &[(&str, &str)] = &[
    ("resource-id", "ResourceId"),
    ("resource-type", "ResourceType"),
    ("state", "State"),
    (
        "transit-gateway-attachment-id",
        "TransitGatewayAttachmentId",
    ),
];

fn str_of<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc[key].as_str().unwrap_or_default()
}

/// A table's stored list (`member`) in the wrapped document of `kind`, empty when none.
fn table_list(
    tx: &Tx<'_>,
    call: &Call,
    kind: &str,
    table: &str,
    member: &str,
) -> Result<Vec<Value>, ApiError> {
    Ok(tx
        .get(&call.region, kind, table)?
        .and_then(|d| d[member].as_array().cloned())
        .unwrap_or_default())
}

fn put_table_list(
    tx: &Tx<'_>,
    call: &Call,
    kind: &str,
    table: &str,
    member: &str,
    items: Vec<Value>,
) -> Result<(), ApiError> {
    let doc = json!({"TransitGatewayRouteTableId": table, member: items});
    tx.put(&call.region, kind, table, &doc)?;
    call.changed(&call.region);
    Ok(())
}

/// The table and attachment of an association or propagation call, checked to belong to the
/// same transit gateway.
fn table_and_attachment(tx: &Tx<'_>, call: &Call) -> Result<(String, Value), ApiError> {
    let table_id = id_param(
        call,
        "TransitGatewayRouteTableId",
        "tgw-rtb",
        "InvalidRouteTableID.Malformed",
    )?;
    let attachment_id = id_param(
        call,
        "TransitGatewayAttachmentId",
        "tgw-attach",
        "InvalidTransitGatewayAttachmentID.Malformed",
    )?;
    authorize(
        call,
        &[
            call.ec2_arn("transit-gateway-route-table", table_id),
            call.ec2_arn("transit-gateway-attachment", attachment_id),
        ],
    )?;
    let table = require_table(tx, call, table_id)?;
    let attachment = require_attachment(tx, call, attachment_id)?;
    if table["TransitGatewayId"] != attachment["TransitGatewayId"] {
        return Err(ApiError::client(
            "InvalidParameterValue",
            format!("{attachment_id} and {table_id} belong to different transit gateways."),
        ));
    }
    Ok((table_id.to_string(), attachment))
}

fn attachment_ref(attachment: &Value) -> Value {
    json!({
        "TransitGatewayAttachmentId": attachment["TransitGatewayAttachmentId"],
        "ResourceId": attachment["ResourceId"],
        "ResourceType": attachment["ResourceType"],
    })
}

/// Makes `attachment` propagate into `table`.
pub(super) fn add_propagation(
    tx: &Tx<'_>,
    call: &Call,
    table: &str,
    attachment: &Value,
) -> Result<Value, ApiError> {
    let mut list = table_list(
        tx,
        call,
        PROPAGATIONS,
        table,
        "TransitGatewayRouteTablePropagations",
    )?;
    let id = attachment["TransitGatewayAttachmentId"].clone();
    if list.iter().any(|p| p["TransitGatewayAttachmentId"] == id) {
        return Err(ApiError::client(
            "TransitGatewayRouteTablePropagation.Duplicate",
            format!(
                "Propagation for {} already exists in {table}",
                id.as_str().unwrap_or_default()
            ),
        ));
    }
    let mut p = attachment_ref(attachment);
    p["State"] = json!("enabled");
    list.push(p.clone());
    put_table_list(
        tx,
        call,
        PROPAGATIONS,
        table,
        "TransitGatewayRouteTablePropagations",
        list,
    )?;
    p["TransitGatewayRouteTableId"] = json!(table);
    Ok(p)
}

/// Drops a deleted attachment's propagations and the static routes that named it.
pub(super) fn forget_attachment(tx: &Tx<'_>, call: &Call, id: &str) -> Result<(), ApiError> {
    for doc in tx.list(&call.region, PROPAGATIONS)? {
        let table = str_of(&doc, "TransitGatewayRouteTableId").to_string();
        let mut list = doc["TransitGatewayRouteTablePropagations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let before = list.len();
        list.retain(|p| p["TransitGatewayAttachmentId"] != id);
        if list.len() != before {
            put_table_list(
                tx,
                call,
                PROPAGATIONS,
                &table,
                "TransitGatewayRouteTablePropagations",
                list,
            )?;
        }
    }
    for doc in tx.list(&call.region, STATIC_ROUTES)? {
        let table = str_of(&doc, "TransitGatewayRouteTableId").to_string();
        let mut routes = doc["Routes"].as_array().cloned().unwrap_or_default();
        let before = routes.len();
        routes.retain(|r| r["TransitGatewayAttachments"][0]["TransitGatewayAttachmentId"] != id);
        if routes.len() != before {
            put_table_list(tx, call, STATIC_ROUTES, &table, "Routes", routes)?;
        }
    }
    Ok(())
}

fn put_attachment(tx: &Tx<'_>, call: &Call, attachment: &Value) -> Result<(), ApiError> {
    let id = str_of(attachment, "TransitGatewayAttachmentId");
    tx.put(&call.region, ATTACHMENTS, id, attachment)?;
    call.changed(&call.region);
    Ok(())
}

fn association_answer(table: &str, attachment: &Value, state: &str) -> String {
    let mut a = attachment_ref(attachment);
    a["TransitGatewayRouteTableId"] = json!(table);
    a["State"] = json!(state);
    render::single("Association", render::Shape::Plain, &a)
}

pub fn associate(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (table, mut attachment) = table_and_attachment(tx, call)?;
    if let Some(current) = attachment["Association"]["TransitGatewayRouteTableId"].as_str() {
        return Err(ApiError::client(
            "Resource.AlreadyAssociated",
            format!(
                "Transit Gateway Attachment {} is already associated to a route table ({current}).",
                str_of(&attachment, "TransitGatewayAttachmentId")
            ),
        ));
    }
    attachment["Association"] = json!({"TransitGatewayRouteTableId": table, "State": "associated"});
    put_attachment(tx, call, &attachment)?;
    Ok(association_answer(&table, &attachment, "associating"))
}

pub fn disassociate(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (table, mut attachment) = table_and_attachment(tx, call)?;
    if attachment["Association"]["TransitGatewayRouteTableId"] != table.as_str() {
        return Err(ApiError::client(
            "InvalidAssociation.NotFound",
            format!(
                "Transit Gateway Attachment {} is not associated with {table}.",
                str_of(&attachment, "TransitGatewayAttachmentId")
            ),
        ));
    }
    if let Some(m) = attachment.as_object_mut() {
        m.remove("Association");
    }
    put_attachment(tx, call, &attachment)?;
    Ok(association_answer(&table, &attachment, "disassociating"))
}

pub fn enable_propagation(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (table, attachment) = table_and_attachment(tx, call)?;
    let p = add_propagation(tx, call, &table, &attachment)?;
    Ok(render::single("Propagation", render::Shape::Plain, &p))
}

pub fn disable_propagation(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (table, attachment) = table_and_attachment(tx, call)?;
    let member = "TransitGatewayRouteTablePropagations";
    let mut list = table_list(tx, call, PROPAGATIONS, &table, member)?;
    let id = &attachment["TransitGatewayAttachmentId"];
    let Some(at) = list
        .iter()
        .position(|p| &p["TransitGatewayAttachmentId"] == id)
    else {
        return Err(ApiError::client(
            "TransitGatewayRouteTablePropagation.NotFound",
            format!(
                "{} does not propagate to {table}",
                id.as_str().unwrap_or_default()
            ),
        ));
    };
    let mut p = list.remove(at);
    put_table_list(tx, call, PROPAGATIONS, &table, member, list)?;
    p["TransitGatewayRouteTableId"] = json!(table);
    p["State"] = json!("disabled");
    Ok(render::single("Propagation", render::Shape::Plain, &p))
}

pub fn get_propagations(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let table = id_param(
        call,
        "TransitGatewayRouteTableId",
        "tgw-rtb",
        "InvalidRouteTableID.Malformed",
    )?;
    common::authorize_describe(call)?;
    require_table(tx, call, table)?;
    let member = "TransitGatewayRouteTablePropagations";
    let wanted = filters::parse(call, PROPAGATION_FILTERS)?;
    let items: Vec<Value> = table_list(tx, call, PROPAGATIONS, table, member)?
        .into_iter()
        .filter(|p| wanted.iter().all(|f| f.matches(p)))
        .collect();
    let (items, next) = common::page(call, items, false)?;
    Ok(render::list(member, &items) + &common::next_token(next))
}

fn destination(call: &Call) -> Result<String, ApiError> {
    let v = call.params.require("DestinationCidrBlock")?;
    let net: IpNet = v.parse().map_err(|_| {
        ApiError::invalid_value("DestinationCidrBlock", v, "This is not a valid CIDR block.")
    })?;
    Ok(net.trunc().to_string())
}

pub fn create_route(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let table = id_param(
        call,
        "TransitGatewayRouteTableId",
        "tgw-rtb",
        "InvalidRouteTableID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("transit-gateway-route-table", table)])?;
    let table_doc = require_table(tx, call, table)?;
    let dest = destination(call)?;
    let blackhole = call.params.bool("Blackhole")?.unwrap_or(false);
    let mut route = json!({"DestinationCidrBlock": dest, "Type": "static"});
    match (call.params.get("TransitGatewayAttachmentId"), blackhole) {
        (Some(_), true) | (None, false) => {
            return Err(ApiError::client(
                "InvalidParameterCombination",
                "Exactly one of TransitGatewayAttachmentId and Blackhole must be given.",
            ))
        }
        (None, true) => route["State"] = json!("blackhole"),
        (Some(a), false) => {
            let attachment = require_attachment(tx, call, a)?;
            if attachment["TransitGatewayId"] != table_doc["TransitGatewayId"] {
                return Err(ApiError::client(
                    "InvalidParameterValue",
                    format!("{a} and {table} belong to different transit gateways."),
                ));
            }
            route["TransitGatewayAttachments"] = json!([attachment_ref(&attachment)]);
            route["State"] = json!("active");
        }
    }
    let mut routes = table_list(tx, call, STATIC_ROUTES, table, "Routes")?;
    if routes
        .iter()
        .any(|r| r["DestinationCidrBlock"] == dest.as_str())
    {
        return Err(ApiError::client(
            "RouteAlreadyExists",
            format!("Route {dest} already exists in Transit Gateway Route Table {table}."),
        ));
    }
    routes.push(route.clone());
    put_table_list(tx, call, STATIC_ROUTES, table, "Routes", routes)?;
    Ok(render::single("Route", render::Shape::Plain, &route))
}

pub fn delete_route(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let table = id_param(
        call,
        "TransitGatewayRouteTableId",
        "tgw-rtb",
        "InvalidRouteTableID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("transit-gateway-route-table", table)])?;
    require_table(tx, call, table)?;
    let dest = destination(call)?;
    let mut routes = table_list(tx, call, STATIC_ROUTES, table, "Routes")?;
    let Some(at) = routes
        .iter()
        .position(|r| r["DestinationCidrBlock"] == dest.as_str())
    else {
        return Err(ApiError::client(
            "InvalidRoute.NotFound",
            format!("No route found for {dest} in Transit Gateway Route Table {table}."),
        ));
    };
    let mut route = routes.remove(at);
    put_table_list(tx, call, STATIC_ROUTES, table, "Routes", routes)?;
    route["State"] = json!("deleted");
    Ok(render::single("Route", render::Shape::Plain, &route))
}

/// The table's routes as AWS lists them: static routes, then the CIDRs of attachments that
/// propagate into it, a propagated route hidden where a static one has the same prefix.
fn routes_of(tx: &Tx<'_>, call: &Call, table: &str) -> Result<Vec<Value>, ApiError> {
    let mut routes = table_list(tx, call, STATIC_ROUTES, table, "Routes")?;
    for p in table_list(
        tx,
        call,
        PROPAGATIONS,
        table,
        "TransitGatewayRouteTablePropagations",
    )? {
        let id = str_of(&p, "TransitGatewayAttachmentId");
        let Some(attachment) = tx.get(&call.region, VPC_ATTACHMENTS, id)? else {
            continue;
        };
        if over(&attachment) {
            continue;
        }
        let Some(vpc) = tx.get(&call.region, "Vpcs", str_of(&attachment, "VpcId"))? else {
            continue;
        };
        for cidr in super::vpcs::cidrs(&vpc) {
            let dest = cidr.to_string();
            if routes
                .iter()
                .any(|r| r["DestinationCidrBlock"] == dest.as_str())
            {
                continue;
            }
            let mut target = attachment_ref(&attachment);
            target["ResourceId"] = attachment["VpcId"].clone();
            target["ResourceType"] = json!("vpc");
            routes.push(json!({
                "DestinationCidrBlock": dest,
                "TransitGatewayAttachments": [target],
                "Type": "propagated",
                "State": "active",
            }));
        }
    }
    Ok(routes)
}

pub fn search_routes(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let table = id_param(
        call,
        "TransitGatewayRouteTableId",
        "tgw-rtb",
        "InvalidRouteTableID.Malformed",
    )?;
    common::authorize_describe(call)?;
    require_table(tx, call, table)?;
    if call.params.filters()?.is_empty() {
        return Err(ApiError::missing_parameter("Filters"));
    }
    let wanted = filters::parse(call, ROUTE_FILTERS)?;
    let mut found: Vec<Value> = routes_of(tx, call, table)?
        .into_iter()
        .filter(|r| wanted.iter().all(|f| f.matches(r)))
        .collect();
    let max = call
        .params
        .int("MaxResults")?
        .unwrap_or(1000)
        .clamp(5, 1000) as usize;
    let more = found.len() > max;
    found.truncate(max);
    Ok(render::list("Routes", &found)
        + &format!("<additionalRoutesAvailable>{more}</additionalRoutesAvailable>"))
}
