//! Security groups and their rules.
//!
//! Each rule is its own record (`SecurityGroupRules`, with its `sgr-` id, as
//! `DescribeSecurityGroupRules` lists them); a group's `IpPermissions` and
//! `IpPermissionsEgress` are rebuilt from its rules after every change, so the two views never
//! disagree.

use ipnet::IpNet;
use serde_json::{json, Map, Value};

use super::common::{self, Listing};
use super::render;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::params::Params;
use crate::store::Tx;

const RULES: &str = "SecurityGroupRules";
/// AWS's default quota of rules per group and direction.
const RULES_PER_GROUP: usize = 60;
/// AWS's default quota of security groups per region.
const GROUPS_PER_REGION: usize = 2500;

const FILTERS: &[(&str, &str)] = &[
    ("group-id", "GroupId"),
    ("group-name", "GroupName"),
    ("vpc-id", "VpcId"),
    ("description", "Description"),
    ("owner-id", "OwnerId"),
    ("ip-permission.cidr", "IpPermissions.IpRanges.CidrIp"),
    (
        "ip-permission.ipv6-cidr",
        "IpPermissions.Ipv6Ranges.CidrIpv6",
    ),
    ("ip-permission.from-port", "IpPermissions.FromPort"),
    ("ip-permission.to-port", "IpPermissions.ToPort"),
    ("ip-permission.protocol", "IpPermissions.IpProtocol"),
    (
        "ip-permission.group-id",
        "IpPermissions.UserIdGroupPairs.GroupId",
    ),
    (
        "ip-permission.prefix-list-id",
        "IpPermissions.PrefixListIds.PrefixListId",
    ),
    (
        "egress.ip-permission.cidr",
        "IpPermissionsEgress.IpRanges.CidrIp",
    ),
    (
        "egress.ip-permission.from-port",
        "IpPermissionsEgress.FromPort",
    ),
    ("egress.ip-permission.to-port", "IpPermissionsEgress.ToPort"),
    (
        "egress.ip-permission.protocol",
        "IpPermissionsEgress.IpProtocol",
    ),
    (
        "egress.ip-permission.group-id",
        "IpPermissionsEgress.UserIdGroupPairs.GroupId",
    ),
];

const RULE_FILTERS: &[(&str, &str)] = &[
    ("group-id", "GroupId"),
    ("security-group-rule-id", "SecurityGroupRuleId"),
];

fn not_found(id: &str) -> ApiError {
    ApiError::client(
        "InvalidGroup.NotFound",
        format!("The security group '{id}' does not exist"),
    )
}

/// A group named by `GroupId`, or by `GroupName` (in the default VPC).
fn named_group(tx: &Tx<'_>, call: &Call) -> Result<Value, ApiError> {
    if let Some(id) = call.params.get("GroupId") {
        common::check_prefix(id, "sg", "InvalidGroupId.Malformed")?;
        return tx
            .get(&call.region, "SecurityGroups", id)?
            .ok_or_else(|| not_found(id));
    }
    let name = call
        .params
        .get("GroupName")
        .ok_or_else(|| ApiError::missing_parameter("GroupId"))?;
    let default_vpc = default_vpc_id(tx, call)?;
    tx.list(&call.region, "SecurityGroups")?
        .into_iter()
        .find(|g| g["GroupName"] == name && g["VpcId"].as_str() == default_vpc.as_deref())
        .ok_or_else(|| not_found(name))
}

fn default_vpc_id(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    Ok(tx
        .list(&call.region, "Vpcs")?
        .into_iter()
        .find(|v| v["IsDefault"] == true)
        .and_then(|v| v["VpcId"].as_str().map(str::to_string)))
}

fn group_id(g: &Value) -> &str {
    g["GroupId"].as_str().unwrap_or_default()
}

/// The protocol as the API prints it: `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or a number.
fn protocol(value: &str) -> Result<String, ApiError> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "-1" | "all" => "-1".into(),
        "tcp" | "6" => "tcp".into(),
        "udp" | "17" => "udp".into(),
        "icmp" | "1" => "icmp".into(),
        "icmpv6" | "58" => "icmpv6".into(),
        n => n.parse::<u8>().map(|p| p.to_string()).map_err(|_| {
            ApiError::invalid_value(
                "IpProtocol",
                value,
                "The protocol must be a name, a number from 0 to 255, or -1.",
            )
        })?,
    })
}

/// A rule's peer: the rule record's field (`CidrIpv4`, `ReferencedGroupInfo`, ...) and value.
type Peer = (&'static str, Value);

/// One rule record of a group, without its id.
struct Rule {
    egress: bool,
    protocol: String,
    ports: Option<(i64, i64)>,
    peer: (&'static str, Value),
    description: Option<String>,
}

impl Rule {
    fn same(&self, doc: &Value) -> bool {
        let ports = self.ports.unwrap_or((-1, -1));
        doc["IsEgress"] == self.egress
            && doc["IpProtocol"] == self.protocol.as_str()
            && doc["FromPort"] == ports.0
            && doc["ToPort"] == ports.1
            && doc[self.peer.0] == self.peer.1
    }

    fn doc(&self, call_account: &str, region: &str, group: &str) -> Value {
        let id = resource_id("sgr");
        let ports = self.ports.unwrap_or((-1, -1));
        let mut d = json!({
            "SecurityGroupRuleId": id,
            "GroupId": group,
            "GroupOwnerId": call_account,
            "IsEgress": self.egress,
            "IpProtocol": self.protocol,
            "FromPort": ports.0,
            "ToPort": ports.1,
            "SecurityGroupRuleArn": format!("arn:aws:ec2:{region}:{call_account}:security-group-rule/{id}"),
            self.peer.0: self.peer.1,
        });
        if let Some(desc) = &self.description {
            d["Description"] = json!(desc);
        }
        d
    }

    fn describe(&self) -> String {
        let peer = match &self.peer.1 {
            Value::String(s) => s.clone(),
            other => other["GroupId"].as_str().unwrap_or_default().to_string(),
        };
        let (from, to) = self.ports.unwrap_or((-1, -1));
        let proto = if self.protocol == "-1" {
            "ALL".to_string()
        } else {
            self.protocol.to_uppercase()
        };
        format!("peer: {peer}, {proto}, from port: {from}, to port: {to}, ALLOW")
    }
}

/// The rules a request's `IpPermissions` (or the older flat `IpProtocol`/`CidrIp` form) name.
fn requested_rules(call: &Call, egress: bool) -> Result<Vec<Rule>, ApiError> {
    let mut perms = call.params.ec2_structs("IpPermissions");
    if perms.is_empty() && call.params.get("IpProtocol").is_some() {
        perms.push(call.params.clone());
    }
    let mut out = Vec::new();
    for p in perms {
        let proto = protocol(p.require("IpProtocol")?)?;
        let ports = match proto.as_str() {
            "-1" => None,
            _ => {
                let from = p.int("FromPort")?.unwrap_or(-1);
                let to = p.int("ToPort")?.unwrap_or(-1);
                if (proto == "tcp" || proto == "udp")
                    && (!(0..=65535).contains(&from) || !(from..=65535).contains(&to))
                {
                    return Err(ApiError::invalid_value(
                        "FromPort",
                        &format!("{from}-{to}"),
                        "Ports go from 0 to 65535, from before to.",
                    ));
                }
                Some((from, to))
            }
        };
        let peers = peers(call, &p)?;
        if peers.is_empty() {
            return Err(ApiError::missing_parameter("IpPermissions.IpRanges"));
        }
        for (peer, description) in peers {
            out.push(Rule {
                egress,
                protocol: proto.clone(),
                ports,
                peer,
                description,
            });
        }
    }
    if out.is_empty() {
        return Err(ApiError::missing_parameter("IpPermissions"));
    }
    Ok(out)
}

fn peers(call: &Call, p: &Params) -> Result<Vec<(Peer, Option<String>)>, ApiError> {
    let mut out = Vec::new();
    let desc = |r: &Params| r.get("Description").map(str::to_string);
    let mut ranges = p.ec2_structs("IpRanges");
    if let Some(c) = p.get("CidrIp") {
        ranges.push(Params::from_pairs([("CidrIp", c)]));
    }
    for r in ranges {
        let c = r.require("CidrIp")?;
        let net: IpNet = c
            .parse()
            .map_err(|_| ApiError::invalid_value("CidrIp", c, "This is not a valid CIDR block."))?;
        out.push((("CidrIpv4", json!(net.trunc().to_string())), desc(&r)));
    }
    for r in p.ec2_structs("Ipv6Ranges") {
        let c = r.require("CidrIpv6")?;
        let net: IpNet = c.parse().map_err(|_| {
            ApiError::invalid_value("CidrIpv6", c, "This is not a valid CIDR block.")
        })?;
        out.push((("CidrIpv6", json!(net.trunc().to_string())), desc(&r)));
    }
    for r in p.ec2_structs("PrefixListIds") {
        out.push((
            ("PrefixListId", json!(r.require("PrefixListId")?)),
            desc(&r),
        ));
    }
    // The wire name of `UserIdGroupPairs` is `Groups`.
    let mut pairs = p.ec2_structs("Groups");
    pairs.extend(p.ec2_structs("UserIdGroupPairs"));
    for r in pairs {
        let id = r.require("GroupId")?;
        common::check_prefix(id, "sg", "InvalidGroupId.Malformed")?;
        out.push((
            (
                "ReferencedGroupInfo",
                json!({"GroupId": id, "UserId": call.account}),
            ),
            desc(&r),
        ));
    }
    Ok(out)
}

/// Rebuilds a group's `IpPermissions`/`IpPermissionsEgress` from its rule records.
fn sync(tx: &Tx<'_>, region: &str, group: &mut Value) -> Result<(), ApiError> {
    let id = group_id(group).to_string();
    let rules: Vec<Value> = tx
        .list(region, RULES)?
        .into_iter()
        .filter(|r| r["GroupId"] == id.as_str())
        .collect();
    for (egress, key) in [(false, "IpPermissions"), (true, "IpPermissionsEgress")] {
        let mut perms: Vec<Value> = Vec::new();
        for r in rules.iter().filter(|r| r["IsEgress"] == egress) {
            let proto = r["IpProtocol"].clone();
            let (from, to) = (r["FromPort"].clone(), r["ToPort"].clone());
            let at = match perms.iter().position(|p| {
                p["IpProtocol"] == proto && p["VpcsimFrom"] == from && p["VpcsimTo"] == to
            }) {
                Some(at) => at,
                None => {
                    let mut p = json!({"IpProtocol": proto, "IpRanges": [], "Ipv6Ranges": [],
                        "UserIdGroupPairs": [], "PrefixListIds": [], "VpcsimFrom": from, "VpcsimTo": to});
                    if proto != "-1" {
                        p["FromPort"] = from.clone();
                        p["ToPort"] = to.clone();
                    }
                    perms.push(p);
                    perms.len() - 1
                }
            };
            let (list, mut item) = if let Some(c) = r["CidrIpv4"].as_str() {
                ("IpRanges", json!({"CidrIp": c}))
            } else if let Some(c) = r["CidrIpv6"].as_str() {
                ("Ipv6Ranges", json!({"CidrIpv6": c}))
            } else if let Some(c) = r["PrefixListId"].as_str() {
                ("PrefixListIds", json!({"PrefixListId": c}))
            } else {
                ("UserIdGroupPairs", r["ReferencedGroupInfo"].clone())
            };
            if let Some(d) = r["Description"].as_str() {
                item["Description"] = json!(d);
            }
            if let Some(l) = perms[at][list].as_array_mut() {
                l.push(item);
            }
        }
        for p in &mut perms {
            if let Some(m) = p.as_object_mut() {
                m.remove("VpcsimFrom");
                m.remove("VpcsimTo");
            }
        }
        group[key] = Value::Array(perms);
    }
    tx.put(region, "SecurityGroups", &id, group)
}

/// Creates the rule records of a stored group from its `IpPermissions` (seeded templates and
/// stacks, the default VPC's group).
pub fn import_rules(
    tx: &Tx<'_>,
    region: &str,
    account: &str,
    group: &Value,
) -> Result<(), ApiError> {
    let id = group_id(group).to_string();
    delete_rules(tx, region, &id)?;
    for (egress, key) in [(false, "IpPermissions"), (true, "IpPermissionsEgress")] {
        for p in group[key].as_array().into_iter().flatten() {
            let proto = p["IpProtocol"]
                .as_str()
                .map(protocol)
                .transpose()?
                .unwrap_or_else(|| "-1".into());
            let ports = (proto != "-1").then(|| {
                (
                    p["FromPort"].as_i64().unwrap_or(-1),
                    p["ToPort"].as_i64().unwrap_or(-1),
                )
            });
            let add = |peer: (&'static str, Value), d: &Value| -> Result<(), ApiError> {
                let rule = Rule {
                    egress,
                    protocol: proto.clone(),
                    ports,
                    peer,
                    description: d["Description"].as_str().map(str::to_string),
                };
                let doc = rule.doc(account, region, &id);
                tx.put(
                    region,
                    RULES,
                    doc["SecurityGroupRuleId"].as_str().unwrap_or_default(),
                    &doc,
                )
            };
            for r in p["IpRanges"].as_array().into_iter().flatten() {
                add(("CidrIpv4", r["CidrIp"].clone()), r)?;
            }
            for r in p["Ipv6Ranges"].as_array().into_iter().flatten() {
                add(("CidrIpv6", r["CidrIpv6"].clone()), r)?;
            }
            for r in p["PrefixListIds"].as_array().into_iter().flatten() {
                add(("PrefixListId", r["PrefixListId"].clone()), r)?;
            }
            for r in p["UserIdGroupPairs"].as_array().into_iter().flatten() {
                add(
                    (
                        "ReferencedGroupInfo",
                        json!({"GroupId": r["GroupId"], "UserId": account}),
                    ),
                    r,
                )?;
            }
        }
    }
    Ok(())
}

/// Removes a deleted group's rule records.
pub fn delete_rules(tx: &Tx<'_>, region: &str, group: &str) -> Result<(), ApiError> {
    for r in tx.list(region, RULES)? {
        if r["GroupId"] == group {
            tx.delete(
                region,
                RULES,
                r["SecurityGroupRuleId"].as_str().unwrap_or_default(),
            )?;
        }
    }
    Ok(())
}

fn new_group(
    tx: &Tx<'_>,
    call: &Call,
    id: &str,
    name: &str,
    description: &str,
    vpc: &str,
    tags: Vec<Value>,
) -> Result<Value, ApiError> {
    let mut g = json!({
        "GroupId": id,
        "GroupName": name,
        "Description": description,
        "VpcId": vpc,
        "OwnerId": call.account,
        "SecurityGroupArn": call.ec2_arn("security-group", id),
        "IpPermissions": [],
        "IpPermissionsEgress": [],
    });
    if !tags.is_empty() {
        g["Tags"] = json!(tags);
    }
    let all_out = Rule {
        egress: true,
        protocol: "-1".into(),
        ports: None,
        peer: ("CidrIpv4", json!("0.0.0.0/0")),
        description: None,
    };
    let doc = all_out.doc(&call.account, &call.region, id);
    tx.put(
        &call.region,
        RULES,
        doc["SecurityGroupRuleId"].as_str().unwrap_or_default(),
        &doc,
    )?;
    Ok(g)
}

/// The default group AWS creates with a VPC: traffic from its own members in, everything out.
pub fn create_default(tx: &Tx<'_>, call: &Call, vpc: &str) -> Result<(), ApiError> {
    let id = resource_id("sg");
    let mut g = new_group(
        tx,
        call,
        &id,
        "default",
        "default VPC security group",
        vpc,
        vec![],
    )?;
    let own = Rule {
        egress: false,
        protocol: "-1".into(),
        ports: None,
        peer: (
            "ReferencedGroupInfo",
            json!({"GroupId": id, "UserId": call.account}),
        ),
        description: None,
    };
    let doc = own.doc(&call.account, &call.region, &id);
    tx.put(
        &call.region,
        RULES,
        doc["SecurityGroupRuleId"].as_str().unwrap_or_default(),
        &doc,
    )?;
    sync(tx, &call.region, &mut g)
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = resource_id("sg");
    common::authorize(call, &[call.ec2_arn("security-group", &id)])?;
    let name = call.params.require("GroupName")?;
    let description = call.params.require("GroupDescription")?;
    if name.eq_ignore_ascii_case("default") {
        return Err(ApiError::client(
            "InvalidParameterValue",
            "Cannot use reserved security group name: default",
        ));
    }
    if name.starts_with("sg-") || name.len() > 255 {
        return Err(ApiError::invalid_value(
            "GroupName",
            name,
            "Group names may not be longer than 255 characters nor start with sg-.",
        ));
    }
    let vpc = match call.params.get("VpcId") {
        Some(v) => {
            super::vpcs::require_vpc(tx, call, v)?;
            v.to_string()
        }
        None => default_vpc_id(tx, call)?
            .ok_or_else(|| ApiError::client("VPCIdNotSpecified", "No default VPC for this user"))?,
    };
    let tags = common::tags_for(call, "security-group")?;
    let groups = tx.list(&call.region, "SecurityGroups")?;
    if groups
        .iter()
        .any(|g| g["GroupName"] == name && g["VpcId"] == vpc.as_str())
    {
        return Err(ApiError::client(
            "InvalidGroup.Duplicate",
            format!("The security group '{name}' already exists for VPC '{vpc}'"),
        ));
    }
    if groups.len() >= GROUPS_PER_REGION {
        return Err(ApiError::client(
            "SecurityGroupLimitExceeded",
            "The maximum number of security groups has been reached.",
        ));
    }
    let mut g = new_group(tx, call, &id, name, description, &vpc, tags.clone())?;
    sync(tx, &call.region, &mut g)?;
    call.changed(&call.region);
    let mut out = format!(
        "<groupId>{id}</groupId><securityGroupArn>{}</securityGroupArn>",
        call.ec2_arn("security-group", &id)
    );
    if !tags.is_empty() {
        out += &render::list("Tags", &tags);
    }
    Ok(out)
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let arn = call
        .params
        .get("GroupId")
        .map_or_else(|| "*".to_string(), |id| call.ec2_arn("security-group", id));
    common::authorize(call, &[arn])?;
    let g = named_group(tx, call)?;
    let id = group_id(&g).to_string();
    if g["GroupName"] == "default" {
        return Err(ApiError::client(
            "CannotDelete",
            format!("the specified group: \"{id}\" name: \"default\" cannot be deleted by a user"),
        ));
    }
    let r = &call.region;
    let in_use = tx.list(r, "NetworkInterfaces")?.iter().any(|e| {
        e["Groups"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["GroupId"] == id.as_str())
    });
    let referenced = tx
        .list(r, RULES)?
        .iter()
        .any(|x| x["GroupId"] != id.as_str() && x["ReferencedGroupInfo"]["GroupId"] == id.as_str());
    if in_use || referenced {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("resource {id} has a dependent object"),
        ));
    }
    delete_rules(tx, r, &id)?;
    tx.delete(r, "SecurityGroups", &id)?;
    call.changed(r);
    Ok(common::ok_return())
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    let mut docs = tx.list(&call.region, "SecurityGroups")?;
    let names = call.params.ec2_list("GroupName");
    for n in &names {
        if !docs.iter().any(|g| g["GroupName"] == *n) {
            return Err(not_found(n));
        }
    }
    if !names.is_empty() {
        docs.retain(|g| names.iter().any(|n| g["GroupName"] == *n));
    }
    for id in call.params.ec2_list("GroupId") {
        common::check_prefix(id, "sg", "InvalidGroupId.Malformed")?;
        if !docs.iter().any(|g| g["GroupId"] == id) {
            return Err(not_found(id));
        }
    }
    let listing = Listing {
        kind: "SecurityGroups",
        ids: ("GroupId", "GroupId"),
        not_found: ("InvalidGroup.NotFound", "security group"),
        filters: FILTERS,
    };
    let (items, next) = common::select(call, docs, &listing)?;
    Ok(render::list("SecurityGroups", &items) + &common::next_token(next))
}

pub fn describe_rules(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    let docs = tx.list(&call.region, RULES)?;
    let listing = Listing {
        kind: RULES,
        ids: ("SecurityGroupRuleId", "SecurityGroupRuleId"),
        not_found: ("InvalidSecurityGroupRuleId.NotFound", "security group rule"),
        filters: RULE_FILTERS,
    };
    let (items, next) = common::select(call, docs, &listing)?;
    Ok(render::list(RULES, &items) + &common::next_token(next))
}

fn egress(call: &Call) -> bool {
    call.action.ends_with("Egress")
}

pub fn authorize(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let arn = call
        .params
        .get("GroupId")
        .map_or_else(|| "*".to_string(), |id| call.ec2_arn("security-group", id));
    common::authorize(call, &[arn])?;
    let mut g = named_group(tx, call)?;
    let id = group_id(&g).to_string();
    let wanted = requested_rules(call, egress(call))?;
    let existing: Vec<Value> = tx
        .list(&call.region, RULES)?
        .into_iter()
        .filter(|r| r["GroupId"] == id.as_str())
        .collect();
    for (i, rule) in wanted.iter().enumerate() {
        if existing.iter().any(|d| rule.same(d))
            || wanted[..i].iter().any(|w| w.describe() == rule.describe())
        {
            return Err(ApiError::client(
                "InvalidPermission.Duplicate",
                format!("the specified rule \"{}\" already exists", rule.describe()),
            ));
        }
        if let ("ReferencedGroupInfo", peer) = &rule.peer {
            let pid = peer["GroupId"].as_str().unwrap_or_default();
            if tx.get(&call.region, "SecurityGroups", pid)?.is_none() {
                return Err(not_found(pid));
            }
        }
    }
    let same_direction = existing
        .iter()
        .filter(|d| d["IsEgress"] == egress(call))
        .count();
    if same_direction + wanted.len() > RULES_PER_GROUP {
        return Err(ApiError::client(
            "RulesPerSecurityGroupLimitExceeded",
            "The maximum number of rules per security group has been reached.",
        ));
    }
    let tags = common::tags_for(call, "security-group-rule")?;
    let mut created = Vec::new();
    for rule in &wanted {
        let mut doc = rule.doc(&call.account, &call.region, &id);
        if !tags.is_empty() {
            doc["Tags"] = json!(tags);
        }
        tx.put(
            &call.region,
            RULES,
            doc["SecurityGroupRuleId"].as_str().unwrap_or_default(),
            &doc,
        )?;
        created.push(doc);
    }
    sync(tx, &call.region, &mut g)?;
    call.changed(&call.region);
    Ok(common::ok_return() + &render::list(RULES, &created))
}

pub fn revoke(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let arn = call
        .params
        .get("GroupId")
        .map_or_else(|| "*".to_string(), |id| call.ec2_arn("security-group", id));
    common::authorize(call, &[arn])?;
    let mut g = named_group(tx, call)?;
    let id = group_id(&g).to_string();
    let existing: Vec<Value> = tx
        .list(&call.region, RULES)?
        .into_iter()
        .filter(|r| r["GroupId"] == id.as_str() && r["IsEgress"] == egress(call))
        .collect();
    let ids = call.params.ec2_list("SecurityGroupRuleId");
    let mut gone: Vec<Value> = Vec::new();
    if !ids.is_empty() {
        for rid in ids {
            let doc = existing
                .iter()
                .find(|d| d["SecurityGroupRuleId"] == rid)
                .ok_or_else(|| {
                    ApiError::client(
                        "InvalidSecurityGroupRuleId.NotFound",
                        format!("The security group rule ID '{rid}' does not exist"),
                    )
                })?;
            gone.push(doc.clone());
        }
    } else {
        for rule in requested_rules(call, egress(call))? {
            let doc = existing.iter().find(|d| rule.same(d)).ok_or_else(|| {
                ApiError::client(
                    "InvalidPermission.NotFound",
                    "The specified rule does not exist in this security group.",
                )
            })?;
            gone.push(doc.clone());
        }
    }
    for doc in &gone {
        tx.delete(
            &call.region,
            RULES,
            doc["SecurityGroupRuleId"].as_str().unwrap_or_default(),
        )?;
    }
    sync(tx, &call.region, &mut g)?;
    call.changed(&call.region);
    let revoked: Vec<Value> = gone
        .iter()
        .map(|d| {
            let mut m = Map::new();
            for k in [
                "SecurityGroupRuleId",
                "GroupId",
                "IsEgress",
                "IpProtocol",
                "FromPort",
                "ToPort",
                "CidrIpv4",
                "CidrIpv6",
                "PrefixListId",
                "Description",
            ] {
                if !d[k].is_null() {
                    m.insert(k.into(), d[k].clone());
                }
            }
            if let Some(r) = d["ReferencedGroupInfo"]["GroupId"].as_str() {
                m.insert("ReferencedSecurityGroupId".into(), json!(r));
            }
            Value::Object(m)
        })
        .collect();
    Ok(common::ok_return() + &render::list("RevokedSecurityGroupRules", &revoked))
}
