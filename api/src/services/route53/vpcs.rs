//! `AssociateVPCWithHostedZone` and `DisassociateVPCFromHostedZone`: the VPCs a private zone
//! answers in.

use serde_json::{json, Value};

use super::{document, get_zone, invalid_input, new_change, write_change, xml_in, zone_arn, ZONES};
use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::services::query_form::{list_of, str_of};
use crate::store::{Store, GLOBAL};

/// `(region, VPC id)` of the request's `VPC`, the region defaulting to the call's.
fn requested_vpc(call: &Call) -> Result<(String, String, Option<String>), ApiError> {
    let input = xml_in::parse(&call.body)?;
    let vpc = input
        .get("VPC")
        .filter(|v| v.is_object())
        .ok_or_else(|| invalid_input("Invalid request: Missing field 'VPC'"))?;
    let id = str_of(vpc, "VPCId")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid_input("Invalid request: Missing field 'VPCId'"))?;
    let region = str_of(vpc, "VPCRegion").unwrap_or(&call.region);
    Ok((
        region.to_string(),
        id.to_string(),
        str_of(&input, "Comment").map(str::to_string),
    ))
}

fn same(v: &Value, region: &str, id: &str) -> bool {
    str_of(v, "VPCId") == Some(id) && str_of(v, "VPCRegion") == Some(region)
}

/// Associates (`associate`) or disassociates a VPC with a private zone.
pub(super) fn change_association(
    store: &Store,
    call: &Call,
    zone: &str,
    associate: bool,
) -> Result<Reply, ApiError> {
    call.authorize(&[zone_arn(zone)], &[])?;
    let (region, vpc_id, comment) = requested_vpc(call)?;
    let change = store.write(|tx| {
        let mut z = get_zone(tx, zone)?;
        if z["Config"]["PrivateZone"] != json!(true) {
            return Err(ApiError::client("PublicZoneVPCAssociation", "Public hosted zones can't be associated with VPCs"));
        }
        if tx.get(&region, "Vpcs", &vpc_id)?.is_none() {
            return Err(ApiError::client("InvalidVPCId", format!("The VPC ID '{vpc_id}' is not valid in region {region}")));
        }
        let mut vpcs = list_of(&z, "VPCs").to_vec();
        let name = str_of(&z, "Name").unwrap_or_default().to_string();
        if associate {
            if vpcs.iter().any(|v| same(v, &region, &vpc_id)) {
                return Err(invalid_input(format!("The VPC {vpc_id} in {region} is already associated with the hosted zone {zone}")));
            }
            let clash = tx.list(GLOBAL, ZONES)?.iter().any(|o| {
                str_of(o, "Name") == Some(name.as_str()) && list_of(o, "VPCs").iter().any(|v| same(v, &region, &vpc_id))
            });
            if clash {
                return Err(ApiError::client("ConflictingDomainExists", format!("A private hosted zone for {name} is already associated with VPC {vpc_id}")));
            }
            vpcs.push(json!({"VPCRegion": region, "VPCId": vpc_id}));
        } else {
            let before = vpcs.len();
            vpcs.retain(|v| !same(v, &region, &vpc_id));
            if vpcs.len() == before {
                return Err(ApiError::with_status("VPCAssociationNotFound", format!("The specified VPC {vpc_id} is not associated with the hosted zone {zone}"), 404));
            }
            if vpcs.is_empty() {
                return Err(ApiError::client("LastVPCAssociation", "The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone."));
            }
        }
        z["VPCs"] = Value::Array(vpcs);
        tx.put(GLOBAL, ZONES, zone, &z)?;
        new_change(tx, call.now, comment.as_deref())
    })?;
    call.changed(&region);
    let root = if associate {
        "AssociateVPCWithHostedZoneResponse"
    } else {
        "DisassociateVPCFromHostedZoneResponse"
    };
    Ok(Reply::Xml(document(root, |w| write_change(w, &change))))
}
