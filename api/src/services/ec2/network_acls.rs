//! Network ACLs, their numbered entries, and which one each subnet uses.

use ipnet::IpNet;
use serde_json::{json, Value};

use super::common::{self, authorize, id_param, require, Listing};
use super::render;
use super::vpcs::{in_vpc, require_vpc};
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

const FILTERS: &[(&str, &str)] = &[
    ("network-acl-id", "NetworkAclId"),
    ("vpc-id", "VpcId"),
    ("default", "IsDefault"),
    ("owner-id", "OwnerId"),
    ("association.subnet-id", "Associations.SubnetId"),
    (
        "association.association-id",
        "Associations.NetworkAclAssociationId",
    ),
    ("association.network-acl-id", "Associations.NetworkAclId"),
    ("entry.rule-number", "Entries.RuleNumber"),
    ("entry.protocol", "Entries.Protocol"),
    ("entry.rule-action", "Entries.RuleAction"),
    ("entry.egress", "Entries.Egress"),
    ("entry.cidr", "Entries.CidrBlock"),
];

fn all_traffic(number: u32, allow: bool, egress: bool) -> Value {
    json!({"RuleNumber": number, "Protocol": "-1", "RuleAction": if allow { "allow" } else { "deny" },
           "Egress": egress, "CidrBlock": "0.0.0.0/0"})
}

fn new_acl(call: &Call, vpc_id: &str, default: bool) -> Value {
    let mut entries = Vec::new();
    if default {
        entries.push(all_traffic(100, true, false));
        entries.push(all_traffic(100, true, true));
    }
    entries.push(all_traffic(32767, false, false));
    entries.push(all_traffic(32767, false, true));
    json!({
        "NetworkAclId": resource_id("acl"),
        "VpcId": vpc_id,
        "OwnerId": call.account,
        "IsDefault": default,
        "Entries": entries,
        "Associations": [],
    })
}

/// The default network ACL AWS creates with a VPC: everything allowed both ways.
pub fn default_acl(call: &Call, vpc_id: &str) -> Value {
    new_acl(call, vpc_id, true)
}

fn put(tx: &Tx<'_>, call: &Call, acl: &Value) -> Result<(), ApiError> {
    tx.put(
        &call.region,
        "NetworkAcls",
        acl["NetworkAclId"].as_str().unwrap_or_default(),
        acl,
    )?;
    call.changed(&call.region);
    Ok(())
}

fn require_acl(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "acl", "InvalidNetworkAclID.Malformed")?;
    require(
        tx,
        call,
        "NetworkAcls",
        id,
        "InvalidNetworkAclID.NotFound",
        "network ACL",
    )
}

/// Associates a new subnet with its VPC's default network ACL, as AWS does.
pub fn associate_default(
    tx: &Tx<'_>,
    call: &Call,
    vpc_id: &str,
    subnet_id: &str,
) -> Result<(), ApiError> {
    for mut acl in in_vpc(tx, &call.region, "NetworkAcls", vpc_id)? {
        if acl["IsDefault"] == true {
            let id = acl["NetworkAclId"].clone();
            if let Some(list) = acl["Associations"].as_array_mut() {
                list.push(json!({"NetworkAclAssociationId": resource_id("aclassoc"),
                    "NetworkAclId": id, "SubnetId": subnet_id}));
            }
            put(tx, call, &acl)?;
        }
    }
    Ok(())
}

/// Drops a deleted subnet's association.
pub fn forget_subnet(tx: &Tx<'_>, region: &str, subnet_id: &str) -> Result<(), ApiError> {
    for mut acl in tx.list(region, "NetworkAcls")? {
        if let Some(list) = acl["Associations"].as_array_mut() {
            let before = list.len();
            list.retain(|a| a["SubnetId"] != subnet_id);
            if list.len() != before {
                let id = acl["NetworkAclId"].as_str().unwrap_or_default().to_string();
                tx.put(region, "NetworkAcls", &id, &acl)?;
            }
        }
    }
    Ok(())
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let vpc_id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    authorize(call, &[call.ec2_arn("vpc", vpc_id)])?;
    require_vpc(tx, call, vpc_id)?;
    let tags = common::tags_for(call, "network-acl")?;
    let mut acl = new_acl(call, vpc_id, false);
    if !tags.is_empty() {
        acl["Tags"] = json!(tags);
    }
    put(tx, call, &acl)?;
    Ok(render::single(
        "NetworkAcl",
        render::Shape::NetworkAcl,
        &acl,
    ))
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "NetworkAclId", "acl", "InvalidNetworkAclID.Malformed")?;
    authorize(call, &[call.ec2_arn("network-acl", id)])?;
    let acl = require_acl(tx, call, id)?;
    if acl["IsDefault"] == true {
        return Err(ApiError::client(
            "InvalidParameterValue",
            format!("cannot delete default network ACL {id}"),
        ));
    }
    if acl["Associations"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("The networkAcl '{id}' has dependencies and cannot be deleted."),
        ));
    }
    tx.delete(&call.region, "NetworkAcls", id)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: "NetworkAcls",
            ids: ("NetworkAclId", "NetworkAclId"),
            not_found: ("InvalidNetworkAclID.NotFound", "network ACL"),
            filters: FILTERS,
        },
    )
}

/// The protocol as describe-network-acls prints it: a number, `-1` for all.
fn protocol(value: &str) -> Result<String, ApiError> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "-1" | "all" => "-1".into(),
        "tcp" => "6".into(),
        "udp" => "17".into(),
        "icmp" => "1".into(),
        "icmpv6" => "58".into(),
        n => n.parse::<u8>().map(|p| p.to_string()).map_err(|_| {
            ApiError::invalid_value(
                "protocol",
                value,
                "The protocol must be a number from 0 to 255, or -1.",
            )
        })?,
    })
}

fn entry(call: &Call) -> Result<(u32, bool, Value), ApiError> {
    let number = call
        .params
        .int("RuleNumber")?
        .ok_or_else(|| ApiError::missing_parameter("ruleNumber"))?;
    if !(1..=32766).contains(&number) {
        return Err(ApiError::invalid_value(
            "ruleNumber",
            &number.to_string(),
            "Rule numbers go from 1 to 32766.",
        ));
    }
    let egress = call
        .params
        .bool("Egress")?
        .ok_or_else(|| ApiError::missing_parameter("egress"))?;
    let action = call.params.require("RuleAction")?;
    if action != "allow" && action != "deny" {
        return Err(ApiError::invalid_value(
            "ruleAction",
            action,
            "Expected allow or deny.",
        ));
    }
    let proto = protocol(call.params.require("Protocol")?)?;
    let mut e =
        json!({"RuleNumber": number, "Protocol": proto, "RuleAction": action, "Egress": egress});
    match (
        call.params.get("CidrBlock"),
        call.params.get("Ipv6CidrBlock"),
    ) {
        (Some(c), None) => {
            let net: IpNet = c.parse().map_err(|_| {
                ApiError::invalid_value("cidrBlock", c, "This is not a valid CIDR block.")
            })?;
            e["CidrBlock"] = json!(net.trunc().to_string());
        }
        (None, Some(c)) => {
            let net: IpNet = c.parse().map_err(|_| {
                ApiError::invalid_value("ipv6CidrBlock", c, "This is not a valid CIDR block.")
            })?;
            e["Ipv6CidrBlock"] = json!(net.trunc().to_string());
        }
        _ => {
            return Err(ApiError::client(
                "InvalidParameterCombination",
                "Exactly one of cidrBlock and ipv6CidrBlock must be given.",
            ))
        }
    }
    if proto == "6" || proto == "17" {
        let from = call.params.int("PortRange.From")?;
        let to = call.params.int("PortRange.To")?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(ApiError::missing_parameter("portRange"));
        };
        if !(0..=65535).contains(&from) || !(from..=65535).contains(&to) {
            return Err(ApiError::invalid_value(
                "portRange",
                &format!("{from}-{to}"),
                "Ports go from 0 to 65535, from before to.",
            ));
        }
        e["PortRange"] = json!({"From": from, "To": to});
    }
    if proto == "1" || proto == "58" {
        let t = call.params.int("Icmp.Type")?.unwrap_or(-1);
        let c = call.params.int("Icmp.Code")?.unwrap_or(-1);
        e["IcmpTypeCode"] = json!({"Type": t, "Code": c});
    }
    Ok((number as u32, egress, e))
}

fn entries_mut(acl: &mut Value) -> &mut Vec<Value> {
    if !acl["Entries"].is_array() {
        acl["Entries"] = json!([]);
    }
    match acl["Entries"].as_array_mut() {
        Some(e) => e,
        None => unreachable!("just made an array"),
    }
}

fn position(acl: &mut Value, number: u32, egress: bool) -> Option<usize> {
    entries_mut(acl)
        .iter()
        .position(|e| e["RuleNumber"] == number && e["Egress"] == egress)
}

pub fn create_entry(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "NetworkAclId", "acl", "InvalidNetworkAclID.Malformed")?;
    authorize(call, &[call.ec2_arn("network-acl", id)])?;
    let mut acl = require_acl(tx, call, id)?;
    let (number, egress, e) = entry(call)?;
    if position(&mut acl, number, egress).is_some() {
        return Err(ApiError::client(
            "NetworkAclEntryAlreadyExists",
            format!("The network acl entry identified by {number} already exists."),
        ));
    }
    let entries = entries_mut(&mut acl);
    let numbered = |x: &&Value| x["Egress"] == egress && x["RuleNumber"].as_u64() < Some(32767);
    if entries.iter().filter(numbered).count() >= 20 {
        return Err(ApiError::client(
            "NetworkAclEntryLimitExceeded",
            "The maximum number of network ACL entries (20 per direction) has been reached.",
        ));
    }
    entries.push(e);
    entries.sort_by_key(|x| (x["Egress"] == true, x["RuleNumber"].as_u64().unwrap_or(0)));
    put(tx, call, &acl)?;
    Ok(String::new())
}

pub fn replace_entry(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "NetworkAclId", "acl", "InvalidNetworkAclID.Malformed")?;
    authorize(call, &[call.ec2_arn("network-acl", id)])?;
    let mut acl = require_acl(tx, call, id)?;
    let (number, egress, e) = entry(call)?;
    let Some(at) = position(&mut acl, number, egress) else {
        return Err(ApiError::client(
            "InvalidNetworkAclEntry.NotFound",
            format!("The network acl entry identified by {number} does not exist."),
        ));
    };
    entries_mut(&mut acl)[at] = e;
    put(tx, call, &acl)?;
    Ok(String::new())
}

pub fn delete_entry(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "NetworkAclId", "acl", "InvalidNetworkAclID.Malformed")?;
    authorize(call, &[call.ec2_arn("network-acl", id)])?;
    let mut acl = require_acl(tx, call, id)?;
    let number = call
        .params
        .int("RuleNumber")?
        .ok_or_else(|| ApiError::missing_parameter("ruleNumber"))?;
    let egress = call
        .params
        .bool("Egress")?
        .ok_or_else(|| ApiError::missing_parameter("egress"))?;
    let at = u32::try_from(number)
        .ok()
        .filter(|n| *n < 32767)
        .and_then(|n| position(&mut acl, n, egress))
        .ok_or_else(|| {
            ApiError::client(
                "InvalidNetworkAclEntry.NotFound",
                format!("The network acl entry identified by {number} does not exist."),
            )
        })?;
    entries_mut(&mut acl).remove(at);
    put(tx, call, &acl)?;
    Ok(String::new())
}

pub fn replace_association(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let assoc_id = call.params.require("AssociationId")?;
    let id = id_param(call, "NetworkAclId", "acl", "InvalidNetworkAclID.Malformed")?;
    authorize(call, &[call.ec2_arn("network-acl", id)])?;
    let mut target = require_acl(tx, call, id)?;
    let acls = tx.list(&call.region, "NetworkAcls")?;
    let Some(mut current) = acls.into_iter().find(|a| {
        a["Associations"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["NetworkAclAssociationId"] == assoc_id)
    }) else {
        return Err(ApiError::client(
            "InvalidAssociationID.NotFound",
            format!("The association ID '{assoc_id}' does not exist"),
        ));
    };
    if current["VpcId"] != target["VpcId"] {
        return Err(ApiError::client(
            "InvalidParameterValue",
            format!("Network ACL {id} and association {assoc_id} belong to different networks"),
        ));
    }
    let mut subnet = Value::Null;
    if let Some(list) = current["Associations"].as_array_mut() {
        if let Some(at) = list
            .iter()
            .position(|x| x["NetworkAclAssociationId"] == assoc_id)
        {
            subnet = list.remove(at)["SubnetId"].clone();
        }
    }
    let new_id = resource_id("aclassoc");
    if current["NetworkAclId"] == target["NetworkAclId"] {
        target = current;
    } else {
        put(tx, call, &current)?;
    }
    if let Some(list) = target["Associations"].as_array_mut() {
        list.push(
            json!({"NetworkAclAssociationId": new_id, "NetworkAclId": id, "SubnetId": subnet}),
        );
    }
    put(tx, call, &target)?;
    Ok(format!("<newAssociationId>{new_id}</newAssociationId>"))
}
