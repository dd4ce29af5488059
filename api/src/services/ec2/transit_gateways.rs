//! Transit gateways, their route tables and their VPC attachments. A transit gateway, its
//! tables and its attachments are `pending` until `--async-delay` has passed, as AWS's are.
//!
//! Each VPC attachment is stored twice, as AWS describes it: in `TransitGatewayVpcAttachments`
//! (its subnets and options) and in `TransitGatewayAttachments` (its route-table association),
//! the two shapes the snapshot loader reads.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::common::{self, authorize, id_param, Listing, SINCE};
use super::render;
use super::tgw_routes;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

pub(super) const TGWS: &str = "TransitGateways";
pub(super) const TABLES: &str = "TransitGatewayRouteTables";
pub(super) const VPC_ATTACHMENTS: &str = "TransitGatewayVpcAttachments";
pub(super) const ATTACHMENTS: &str = "TransitGatewayAttachments";

const TGW_FILTERS: &[(&str, &str)] = &[
    ("transit-gateway-id", "TransitGatewayId"),
    ("state", "State"),
    ("owner-id", "OwnerId"),
    ("options.amazon-side-asn", "Options.AmazonSideAsn"),
    (
        "options.association-default-route-table-id",
        "Options.AssociationDefaultRouteTableId",
    ),
    (
        "options.propagation-default-route-table-id",
        "Options.PropagationDefaultRouteTableId",
    ),
    (
        "options.default-route-table-association",
        "Options.DefaultRouteTableAssociation",
    ),
    (
        "options.default-route-table-propagation",
        "Options.DefaultRouteTablePropagation",
    ),
];

const TABLE_FILTERS: &[(&str, &str)] = &[
    (
        "transit-gateway-route-table-id",
        "TransitGatewayRouteTableId",
    ),
    ("transit-gateway-id", "TransitGatewayId"),
    ("state", "State"),
    (
        "default-association-route-table",
        "DefaultAssociationRouteTable",
    ),
    (
        "default-propagation-route-table",
        "DefaultPropagationRouteTable",
    ),
];

const VPC_ATTACHMENT_FILTERS: &[(&str, &str)] = &[
    (
        "transit-gateway-attachment-id",
        "TransitGatewayAttachmentId",
    ),
    ("transit-gateway-id", "TransitGatewayId"),
    ("vpc-id", "VpcId"),
    ("state", "State"),
];

const ATTACHMENT_FILTERS: &[(&str, &str)] = &[
    (
        "transit-gateway-attachment-id",
        "TransitGatewayAttachmentId",
    ),
    ("transit-gateway-id", "TransitGatewayId"),
    ("transit-gateway-owner-id", "TransitGatewayOwnerId"),
    ("resource-id", "ResourceId"),
    ("resource-owner-id", "ResourceOwnerId"),
    ("resource-type", "ResourceType"),
    ("state", "State"),
    (
        "association.transit-gateway-route-table-id",
        "Association.TransitGatewayRouteTableId",
    ),
    ("association.state", "Association.State"),
];

/// States in which a transit-gateway resource is over (still described for a while).
pub(super) fn over(doc: &Value) -> bool {
    matches!(
        doc["State"].as_str(),
        Some("deleting" | "deleted" | "failed" | "rejected")
    )
}

/// A transit gateway that is not deleted.
pub fn require_tgw(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "tgw", "InvalidTransitGatewayID.Malformed")?;
    tx.get(&call.region, TGWS, id)?
        .filter(|t| !over(t))
        .ok_or_else(|| common::not_found("InvalidTransitGatewayID.NotFound", "transitGateway", id))
}

/// A transit-gateway route table that is not deleted.
pub(super) fn require_table(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "tgw-rtb", "InvalidRouteTableID.Malformed")?;
    tx.get(&call.region, TABLES, id)?
        .filter(|t| !over(t))
        .ok_or_else(|| {
            common::not_found(
                "InvalidRouteTableID.NotFound",
                "transitGatewayRouteTable",
                id,
            )
        })
}

/// A transit-gateway attachment (its generic `TransitGatewayAttachments` document) that is not
/// deleted.
pub(super) fn require_attachment(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(
        id,
        "tgw-attach",
        "InvalidTransitGatewayAttachmentID.Malformed",
    )?;
    tx.get(&call.region, ATTACHMENTS, id)?
        .filter(|a| !over(a))
        .ok_or_else(|| {
            common::not_found(
                "InvalidTransitGatewayAttachmentID.NotFound",
                "transitGatewayAttachment",
                id,
            )
        })
}

fn str_of<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc[key].as_str().unwrap_or_default()
}

/// `enable` or `disable`, as the option parameters take them.
fn toggle(options: &crate::params::Params, name: &str, default: &str) -> Result<String, ApiError> {
    match options.get(name).unwrap_or(default) {
        v @ ("enable" | "disable") => Ok(v.to_string()),
        other => Err(ApiError::invalid_value(
            &format!("Options.{name}"),
            other,
            "Expected enable or disable.",
        )),
    }
}

fn new_table(call: &Call, tgw_id: &str, default: bool, tags: Vec<Value>) -> Value {
    let mut table = json!({
        "TransitGatewayRouteTableId": resource_id("tgw-rtb"),
        "TransitGatewayId": tgw_id,
        "State": "pending",
        "DefaultAssociationRouteTable": default,
        "DefaultPropagationRouteTable": default,
        "CreationTime": common::iso8601(call.now),
        SINCE: common::epoch_ms(call.now),
    });
    if !tags.is_empty() {
        table["Tags"] = json!(tags);
    }
    table
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = resource_id("tgw");
    authorize(call, &[call.ec2_arn("transit-gateway", &id)])?;
    let o = call.params.nested("Options");
    let asn = match o.int("AmazonSideAsn")? {
        None => 64512,
        Some(a) if (64512..=65534).contains(&a) || (4_200_000_000..=4_294_967_294).contains(&a) => {
            a
        }
        Some(a) => {
            return Err(ApiError::invalid_value(
                "Options.AmazonSideAsn",
                &a.to_string(),
                "The ASN must be in 64512-65534 or 4200000000-4294967294.",
            ))
        }
    };
    let association = toggle(&o, "DefaultRouteTableAssociation", "enable")?;
    let propagation = toggle(&o, "DefaultRouteTablePropagation", "enable")?;
    let tags = common::tags_for(call, "transit-gateway")?;
    let mut options = json!({
        "AmazonSideAsn": asn,
        "AutoAcceptSharedAttachments": toggle(&o, "AutoAcceptSharedAttachments", "disable")?,
        "DefaultRouteTableAssociation": association,
        "DefaultRouteTablePropagation": propagation,
        "VpnEcmpSupport": toggle(&o, "VpnEcmpSupport", "enable")?,
        "DnsSupport": toggle(&o, "DnsSupport", "enable")?,
        "SecurityGroupReferencingSupport": toggle(&o, "SecurityGroupReferencingSupport", "disable")?,
        "MulticastSupport": toggle(&o, "MulticastSupport", "disable")?,
    });
    // With either default on, AWS creates the default route table with the gateway.
    if association == "enable" || propagation == "enable" {
        let table = new_table(call, &id, true, vec![]);
        let table_id = str_of(&table, "TransitGatewayRouteTableId").to_string();
        if association == "enable" {
            options["AssociationDefaultRouteTableId"] = json!(table_id);
        }
        if propagation == "enable" {
            options["PropagationDefaultRouteTableId"] = json!(table_id);
        }
        tx.put(&call.region, TABLES, &table_id, &table)?;
    }
    let mut tgw = json!({
        "TransitGatewayId": id,
        "TransitGatewayArn": call.ec2_arn("transit-gateway", &id),
        "State": "pending",
        "OwnerId": call.account,
        "Description": call.params.get("Description").unwrap_or_default(),
        "CreationTime": common::iso8601(call.now),
        "Options": options,
        SINCE: common::epoch_ms(call.now),
    });
    if !tags.is_empty() {
        tgw["Tags"] = json!(tags);
    }
    tx.put(&call.region, TGWS, &id, &tgw)?;
    call.changed(&call.region);
    Ok(render::single("TransitGateway", render::Shape::Plain, &tgw))
}

/// Marks a document `deleting` (it becomes `deleted` after the delay) and stores it.
fn start_deleting(
    tx: &Tx<'_>,
    call: &Call,
    kind: &str,
    id: &str,
    doc: &mut Value,
) -> Result<(), ApiError> {
    doc["State"] = json!("deleting");
    doc[SINCE] = json!(common::epoch_ms(call.now));
    tx.put(&call.region, kind, id, doc)
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(
        call,
        "TransitGatewayId",
        "tgw",
        "InvalidTransitGatewayID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("transit-gateway", id)])?;
    let mut tgw = require_tgw(tx, call, id)?;
    let attached: Vec<String> = tx
        .list(&call.region, ATTACHMENTS)?
        .iter()
        .filter(|a| a["TransitGatewayId"] == id && !over(a))
        .map(|a| str_of(a, "TransitGatewayAttachmentId").to_string())
        .collect();
    if !attached.is_empty() {
        return Err(ApiError::client(
            "IncorrectState",
            format!(
                "{id} has non-deleted Transit Gateway Attachments: {}",
                attached.join(", ")
            ),
        ));
    }
    for mut table in tx.list(&call.region, TABLES)? {
        if table["TransitGatewayId"] == id && !over(&table) {
            let tid = str_of(&table, "TransitGatewayRouteTableId").to_string();
            start_deleting(tx, call, TABLES, &tid, &mut table)?;
        }
    }
    start_deleting(tx, call, TGWS, id, &mut tgw)?;
    call.changed(&call.region);
    Ok(render::single("TransitGateway", render::Shape::Plain, &tgw))
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: TGWS,
            ids: ("TransitGatewayIds", "TransitGatewayId"),
            not_found: ("InvalidTransitGatewayID.NotFound", "transitGateway"),
            filters: TGW_FILTERS,
        },
    )
}

pub fn create_table(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let tgw_id = id_param(
        call,
        "TransitGatewayId",
        "tgw",
        "InvalidTransitGatewayID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("transit-gateway", tgw_id)])?;
    require_tgw(tx, call, tgw_id)?;
    let tags = common::tags_for(call, "transit-gateway-route-table")?;
    let table = new_table(call, tgw_id, false, tags);
    let id = str_of(&table, "TransitGatewayRouteTableId").to_string();
    tx.put(&call.region, TABLES, &id, &table)?;
    call.changed(&call.region);
    Ok(render::single(
        "TransitGatewayRouteTable",
        render::Shape::Plain,
        &table,
    ))
}

pub fn delete_table(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(
        call,
        "TransitGatewayRouteTableId",
        "tgw-rtb",
        "InvalidRouteTableID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("transit-gateway-route-table", id)])?;
    let mut table = require_table(tx, call, id)?;
    let associated = tx
        .list(&call.region, ATTACHMENTS)?
        .iter()
        .any(|a| !over(a) && a["Association"]["TransitGatewayRouteTableId"] == id);
    if associated {
        return Err(ApiError::client(
            "IncorrectState",
            format!("{id} has associations and cannot be deleted."),
        ));
    }
    tx.delete(&call.region, tgw_routes::PROPAGATIONS, id)?;
    tx.delete(&call.region, tgw_routes::STATIC_ROUTES, id)?;
    start_deleting(tx, call, TABLES, id, &mut table)?;
    call.changed(&call.region);
    Ok(render::single(
        "TransitGatewayRouteTable",
        render::Shape::Plain,
        &table,
    ))
}

pub fn describe_tables(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: TABLES,
            ids: ("TransitGatewayRouteTableIds", "TransitGatewayRouteTableId"),
            not_found: ("InvalidRouteTableID.NotFound", "transitGatewayRouteTable"),
            filters: TABLE_FILTERS,
        },
    )
}

/// The subnets of a new attachment: in the VPC, at most one per zone.
fn attachment_subnets(tx: &Tx<'_>, call: &Call, vpc_id: &str) -> Result<Vec<String>, ApiError> {
    let ids = call.params.ec2_list("SubnetIds");
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("SubnetIds"));
    }
    let mut zones = BTreeSet::new();
    for id in &ids {
        let subnet = super::subnets::require_subnet(tx, call, id)?;
        if subnet["VpcId"] != vpc_id {
            return Err(ApiError::client(
                "InvalidParameterValue",
                format!("Subnet {id} does not belong to {vpc_id}."),
            ));
        }
        if !zones.insert(str_of(&subnet, "AvailabilityZone").to_string()) {
            return Err(ApiError::client(
                "DuplicateSubnetsInSameZone",
                format!("Transit Gateway Attachment can have only one subnet per Availability Zone: {id}"),
            ));
        }
    }
    Ok(ids.into_iter().map(String::from).collect())
}

pub fn create_vpc_attachment(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let tgw_id = id_param(
        call,
        "TransitGatewayId",
        "tgw",
        "InvalidTransitGatewayID.Malformed",
    )?;
    let vpc_id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    let id = resource_id("tgw-attach");
    authorize(
        call,
        &[
            call.ec2_arn("transit-gateway-attachment", &id),
            call.ec2_arn("transit-gateway", tgw_id),
            call.ec2_arn("vpc", vpc_id),
        ],
    )?;
    let tgw = require_tgw(tx, call, tgw_id)?;
    if tgw["State"] != "available" {
        return Err(ApiError::client(
            "IncorrectState",
            format!("{tgw_id} is in invalid state"),
        ));
    }
    super::vpcs::require_vpc(tx, call, vpc_id)?;
    let subnets = attachment_subnets(tx, call, vpc_id)?;
    if let Some(a) = tx
        .list(&call.region, ATTACHMENTS)?
        .iter()
        .find(|a| !over(a) && a["TransitGatewayId"] == tgw_id && a["ResourceId"] == vpc_id)
    {
        return Err(ApiError::client(
            "DuplicateTransitGatewayAttachment",
            format!(
                "{tgw_id} has non-deleted Transit Gateway Attachments with same VPC ID: {}",
                str_of(a, "TransitGatewayAttachmentId")
            ),
        ));
    }
    let o = call.params.nested("Options");
    let tags = common::tags_for(call, "transit-gateway-attachment")?;
    let now = common::iso8601(call.now);
    let mut vpc_attachment = json!({
        "TransitGatewayAttachmentId": id,
        "TransitGatewayId": tgw_id,
        "VpcId": vpc_id,
        "VpcOwnerId": call.account,
        "State": "pending",
        "SubnetIds": subnets,
        "CreationTime": now,
        "Options": {
            "DnsSupport": toggle(&o, "DnsSupport", "enable")?,
            "SecurityGroupReferencingSupport": toggle(&o, "SecurityGroupReferencingSupport", "enable")?,
            "Ipv6Support": toggle(&o, "Ipv6Support", "disable")?,
            "ApplianceModeSupport": toggle(&o, "ApplianceModeSupport", "disable")?,
        },
        SINCE: common::epoch_ms(call.now),
    });
    let mut attachment = json!({
        "TransitGatewayAttachmentId": id,
        "TransitGatewayId": tgw_id,
        "TransitGatewayOwnerId": call.account,
        "ResourceOwnerId": call.account,
        "ResourceType": "vpc",
        "ResourceId": vpc_id,
        "State": "pending",
        "CreationTime": now,
        SINCE: common::epoch_ms(call.now),
    });
    if !tags.is_empty() {
        vpc_attachment["Tags"] = json!(tags);
        attachment["Tags"] = json!(tags);
    }
    let options = &tgw["Options"];
    if options["DefaultRouteTableAssociation"] == "enable" {
        if let Some(t) = options["AssociationDefaultRouteTableId"].as_str() {
            attachment["Association"] =
                json!({"TransitGatewayRouteTableId": t, "State": "associated"});
        }
    }
    tx.put(&call.region, VPC_ATTACHMENTS, &id, &vpc_attachment)?;
    tx.put(&call.region, ATTACHMENTS, &id, &attachment)?;
    if options["DefaultRouteTablePropagation"] == "enable" {
        if let Some(t) = options["PropagationDefaultRouteTableId"].as_str() {
            tgw_routes::add_propagation(tx, call, t, &attachment)?;
        }
    }
    call.changed(&call.region);
    Ok(render::single(
        "TransitGatewayVpcAttachment",
        render::Shape::Plain,
        &vpc_attachment,
    ))
}

pub fn delete_vpc_attachment(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(
        call,
        "TransitGatewayAttachmentId",
        "tgw-attach",
        "InvalidTransitGatewayAttachmentID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("transit-gateway-attachment", id)])?;
    let mut attachment = require_attachment(tx, call, id)?;
    let mut vpc_attachment = tx.get(&call.region, VPC_ATTACHMENTS, id)?.ok_or_else(|| {
        common::not_found(
            "InvalidTransitGatewayAttachmentID.NotFound",
            "transitGatewayAttachment",
            id,
        )
    })?;
    tgw_routes::forget_attachment(tx, call, id)?;
    if let Some(m) = attachment.as_object_mut() {
        m.remove("Association");
    }
    start_deleting(tx, call, ATTACHMENTS, id, &mut attachment)?;
    start_deleting(tx, call, VPC_ATTACHMENTS, id, &mut vpc_attachment)?;
    call.changed(&call.region);
    Ok(render::single(
        "TransitGatewayVpcAttachment",
        render::Shape::Plain,
        &vpc_attachment,
    ))
}

pub fn describe_vpc_attachments(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: VPC_ATTACHMENTS,
            ids: ("TransitGatewayAttachmentIds", "TransitGatewayAttachmentId"),
            not_found: (
                "InvalidTransitGatewayAttachmentID.NotFound",
                "transitGatewayAttachment",
            ),
            filters: VPC_ATTACHMENT_FILTERS,
        },
    )
}

pub fn describe_attachments(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    let r = &call.region;
    // Tags are kept on the VPC attachment (CreateTags' document); both describes show them.
    let mut docs = tx.list(r, ATTACHMENTS)?;
    for d in &mut docs {
        let id = str_of(d, "TransitGatewayAttachmentId").to_string();
        if let Some(v) = tx.get(r, VPC_ATTACHMENTS, &id)? {
            d["Tags"] = v["Tags"].clone();
        }
    }
    let l = Listing {
        kind: ATTACHMENTS,
        ids: ("TransitGatewayAttachmentIds", "TransitGatewayAttachmentId"),
        not_found: (
            "InvalidTransitGatewayAttachmentID.NotFound",
            "transitGatewayAttachment",
        ),
        filters: ATTACHMENT_FILTERS,
    };
    let (items, next) = common::select(call, docs, &l)?;
    Ok(render::list(ATTACHMENTS, &items) + &common::next_token(next))
}

/// Moves transit gateways, their tables and attachments `pending` → `available` and
/// `deleting` → `deleted` once the delay is over; `true` when anything changed.
pub fn settle(tx: &Tx<'_>, call: &Call, now: i64, delay: i64) -> Result<bool, ApiError> {
    let mut changed = false;
    for (kind, field) in [
        (TGWS, "TransitGatewayId"),
        (TABLES, "TransitGatewayRouteTableId"),
        (VPC_ATTACHMENTS, "TransitGatewayAttachmentId"),
        (ATTACHMENTS, "TransitGatewayAttachmentId"),
    ] {
        for mut doc in tx.list(&call.region, kind)? {
            if doc[SINCE].as_i64().is_none_or(|t| now - t < delay) {
                continue;
            }
            let next = match doc["State"].as_str() {
                Some("pending") => "available",
                Some("deleting") => "deleted",
                _ => continue,
            };
            doc["State"] = json!(next);
            doc[SINCE] = json!(now);
            let id = str_of(&doc, field).to_string();
            tx.put(&call.region, kind, &id, &doc)?;
            changed = true;
        }
    }
    Ok(changed)
}
