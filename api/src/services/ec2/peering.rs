//! VPC peering connections between two VPCs of this account and region: requested
//! (`pending-acceptance`), then accepted (`active`, the only state that carries traffic),
//! rejected or deleted. VPCs with overlapping IPv4 CIDRs get a `failed` connection, as AWS
//! answers such a request.

use std::time::Duration;

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::common::{self, authorize, id_param, Listing};
use super::render;
use super::vpcs::{cidrs, require_vpc};
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

const KIND: &str = "VpcPeeringConnections";
const NOT_FOUND: &str = "InvalidVpcPeeringConnectionID.NotFound";
const MALFORMED: &str = "InvalidVpcPeeringConnectionId.Malformed";

const FILTERS: &[(&str, &str)] = &[
    ("vpc-peering-connection-id", "VpcPeeringConnectionId"),
    ("status-code", "Status.Code"),
    ("status-message", "Status.Message"),
    ("expiration-time", "ExpirationTime"),
    ("requester-vpc-info.vpc-id", "RequesterVpcInfo.VpcId"),
    ("requester-vpc-info.owner-id", "RequesterVpcInfo.OwnerId"),
    (
        "requester-vpc-info.cidr-block",
        "RequesterVpcInfo.CidrBlock",
    ),
    ("accepter-vpc-info.vpc-id", "AccepterVpcInfo.VpcId"),
    ("accepter-vpc-info.owner-id", "AccepterVpcInfo.OwnerId"),
    ("accepter-vpc-info.cidr-block", "AccepterVpcInfo.CidrBlock"),
];

/// A pending request expires after a week.
const EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// A peering connection of the region, whatever its state.
pub fn require_peering(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "pcx", MALFORMED)?;
    common::require(tx, call, KIND, id, NOT_FOUND, "vpcPeeringConnection")
}

/// The state code of a peering connection (`active`, `pending-acceptance`, ...).
pub fn status(pcx: &Value) -> &str {
    pcx["Status"]["Code"].as_str().unwrap_or_default()
}

/// Whether a route may name this peering connection from a table of `vpc`: the VPC is one
/// of its two sides and the connection is not over.
pub fn routable_from(pcx: &Value, vpc: &str) -> bool {
    let side = pcx["RequesterVpcInfo"]["VpcId"] == vpc || pcx["AccepterVpcInfo"]["VpcId"] == vpc;
    side && matches!(
        status(pcx),
        "active" | "pending-acceptance" | "provisioning"
    )
}

fn vpc_info(call: &Call, vpc: &Value, active: bool) -> Value {
    let blocks = cidrs(vpc);
    let mut info = json!({
        "CidrBlock": blocks.first().map(ToString::to_string),
        "CidrBlockSet": blocks.iter().map(|c| json!({"CidrBlock": c.to_string()})).collect::<Vec<_>>(),
        "OwnerId": call.account,
        "VpcId": vpc["VpcId"],
        "Region": call.region,
    });
    if active {
        info["PeeringOptions"] = json!({
            "AllowDnsResolutionFromRemoteVpc": false,
            "AllowEgressFromLocalClassicLinkToRemoteVpc": false,
            "AllowEgressFromLocalVpcToRemoteClassicLink": false,
        });
    }
    info
}

fn overlap(a: &[Ipv4Net], b: &[Ipv4Net]) -> bool {
    a.iter().any(|x| {
        b.iter()
            .any(|y| x.contains(&y.network()) || y.contains(&x.network()))
    })
}

fn set_status(pcx: &mut Value, code: &str, message: &str) {
    pcx["Status"] = json!({"Code": code, "Message": message});
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let vpc_id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    let peer_id = id_param(call, "PeerVpcId", "vpc", "InvalidVpcID.Malformed")?;
    let id = resource_id("pcx");
    authorize(
        call,
        &[
            call.ec2_arn("vpc-peering-connection", &id),
            call.ec2_arn("vpc", vpc_id),
            call.ec2_arn("vpc", peer_id),
        ],
    )?;
    let foreign_owner = call
        .params
        .get("PeerOwnerId")
        .is_some_and(|o| o != call.account);
    let foreign_region = call
        .params
        .get("PeerRegion")
        .is_some_and(|r| r != call.region);
    if foreign_owner || foreign_region {
        return Err(ApiError::client(
            "UnsupportedOperation",
            "vpcsim serve peers VPCs of the caller's own account and region only.",
        ));
    }
    if vpc_id == peer_id {
        return Err(ApiError::client(
            "InvalidParameterValue",
            format!("The requester VPC {vpc_id} and the peer VPC cannot be the same."),
        ));
    }
    let vpc = require_vpc(tx, call, vpc_id)?;
    let peer = require_vpc(tx, call, peer_id)?;
    let pair = |p: &Value| {
        let (r, a) = (
            &p["RequesterVpcInfo"]["VpcId"],
            &p["AccepterVpcInfo"]["VpcId"],
        );
        (r == vpc_id && a == peer_id) || (r == peer_id && a == vpc_id)
    };
    if let Some(p) = tx
        .list(&call.region, KIND)?
        .iter()
        .find(|p| pair(p) && matches!(status(p), "active" | "pending-acceptance" | "provisioning"))
    {
        return Err(ApiError::client(
            "VpcPeeringConnectionAlreadyExists",
            format!(
                "A VPC peering connection between {vpc_id} and {peer_id} already exists ({}).",
                p["VpcPeeringConnectionId"].as_str().unwrap_or_default()
            ),
        ));
    }
    let tags = common::tags_for(call, "vpc-peering-connection")?;
    let mut pcx = json!({
        "VpcPeeringConnectionId": id,
        "RequesterVpcInfo": vpc_info(call, &vpc, false),
        "AccepterVpcInfo": vpc_info(call, &peer, false),
        "ExpirationTime": common::iso8601(call.now + EXPIRY),
    });
    // AWS takes the request and fails it rather than refusing the call.
    if overlap(&cidrs(&vpc), &cidrs(&peer)) {
        set_status(&mut pcx, "failed", "Overlapping CIDR range");
    } else {
        let message = format!("Pending Acceptance by {}", call.account);
        set_status(&mut pcx, "pending-acceptance", &message);
    }
    if !tags.is_empty() {
        pcx["Tags"] = json!(tags);
    }
    tx.put(&call.region, KIND, &id, &pcx)?;
    Ok(render::single(
        "VpcPeeringConnection",
        render::Shape::Plain,
        &pcx,
    ))
}

/// The id of an accept, reject or delete, once the caller may act on the connection.
fn target(tx: &Tx<'_>, call: &Call) -> Result<(String, Value), ApiError> {
    let id = id_param(call, "VpcPeeringConnectionId", "pcx", MALFORMED)?;
    authorize(call, &[call.ec2_arn("vpc-peering-connection", id)])?;
    let pcx = require_peering(tx, call, id)?;
    Ok((id.to_string(), pcx))
}

fn transition_error(id: &str, from: &str, to: &str) -> ApiError {
    ApiError::client(
        "InvalidStateTransition",
        format!("Invalid state transition for {id}, attempted to transition from {from} to {to}"),
    )
}

pub fn accept(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (id, mut pcx) = target(tx, call)?;
    let from = status(&pcx).to_string();
    if from != "pending-acceptance" {
        return Err(transition_error(&id, &from, "active"));
    }
    // Both VPCs' CIDRs as they are now: one may have gained a block since the request.
    for side in ["RequesterVpcInfo", "AccepterVpcInfo"] {
        let vpc_id = pcx[side]["VpcId"].as_str().unwrap_or_default().to_string();
        let vpc = require_vpc(tx, call, &vpc_id)?;
        pcx[side] = vpc_info(call, &vpc, true);
    }
    if let Some(m) = pcx.as_object_mut() {
        m.remove("ExpirationTime");
    }
    set_status(&mut pcx, "active", "Active");
    tx.put(&call.region, KIND, &id, &pcx)?;
    call.changed(&call.region);
    Ok(render::single(
        "VpcPeeringConnection",
        render::Shape::Plain,
        &pcx,
    ))
}

pub fn reject(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (id, mut pcx) = target(tx, call)?;
    let from = status(&pcx).to_string();
    if from != "pending-acceptance" {
        return Err(transition_error(&id, &from, "rejected"));
    }
    set_status(
        &mut pcx,
        "rejected",
        &format!("Rejected by {}", call.account),
    );
    tx.put(&call.region, KIND, &id, &pcx)?;
    Ok(common::ok_return())
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (id, mut pcx) = target(tx, call)?;
    let from = status(&pcx).to_string();
    if !matches!(
        from.as_str(),
        "active" | "pending-acceptance" | "provisioning"
    ) {
        return Err(transition_error(&id, &from, "deleted"));
    }
    // A deleted connection stays described for a while; routes to it become blackholes.
    set_status(&mut pcx, "deleted", &format!("Deleted by {}", call.account));
    tx.put(&call.region, KIND, &id, &pcx)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: KIND,
            ids: ("VpcPeeringConnectionId", "VpcPeeringConnectionId"),
            not_found: (NOT_FOUND, "vpcPeeringConnection"),
            filters: FILTERS,
        },
    )
}
