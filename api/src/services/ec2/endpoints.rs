//! VPC endpoints. A gateway endpoint (S3, DynamoDB) puts `service prefix list → vpce-` into
//! each of its route tables, as AWS does; an interface endpoint gets one requester-managed
//! interface per subnet. Interface endpoints are `pending` until `--async-delay` has passed.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use vpcsim_controlplane::service_ranges::gateway_service;

use super::common::{self, authorize, id_param, Listing, SINCE};
use super::prefix_lists::{aws_list_id, ensure_aws_lists};
use super::render;
use super::vpcs::require_vpc;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

const KIND: &str = "VpcEndpoints";
const NOT_FOUND: &str = "InvalidVpcEndpointId.NotFound";
const MALFORMED: &str = "InvalidVpcEndpointId.Malformed";

const FILTERS: &[(&str, &str)] = &[
    ("vpc-endpoint-id", "VpcEndpointId"),
    ("vpc-endpoint-state", "State"),
    ("vpc-endpoint-type", "VpcEndpointType"),
    ("vpc-id", "VpcId"),
    ("service-name", "ServiceName"),
    ("ip-address-type", "IpAddressType"),
];

const FULL_ACCESS: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

fn str_of<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc[key].as_str().unwrap_or_default()
}

fn policy(call: &Call) -> Result<String, ApiError> {
    match call.params.get("PolicyDocument") {
        None => Ok(FULL_ACCESS.to_string()),
        Some(p) => {
            serde_json::from_str::<Value>(p).map_err(|_| {
                ApiError::client(
                    "MalformedPolicyDocument",
                    "The policy document is not valid JSON.",
                )
            })?;
            if p.chars().count() > 20_480 {
                return Err(ApiError::client(
                    "InvalidParameterValue",
                    "An endpoint policy is at most 20,480 characters.",
                ));
            }
            Ok(p.to_string())
        }
    }
}

/// The prefix-list route of a gateway endpoint in a route table.
fn route_to(list: &str, endpoint: &str) -> Value {
    json!({"DestinationPrefixListId": list, "GatewayId": endpoint,
           "Origin": "CreateRoute", "State": "active"})
}

/// Adds (or removes) the endpoint's route in each table, checking the tables are the VPC's.
fn set_routes(
    tx: &Tx<'_>,
    call: &Call,
    ep: &Value,
    tables: &[&str],
    add: bool,
) -> Result<(), ApiError> {
    let id = str_of(ep, "VpcEndpointId");
    let list = str_of(ep, "VpcsimPrefixListId");
    for t in tables {
        common::check_prefix(t, "rtb", "InvalidRouteTableID.Malformed")?;
        // A table deleted since keeps nothing to remove.
        if !add && tx.get(&call.region, "RouteTables", t)?.is_none() {
            continue;
        }
        let mut table = common::require(
            tx,
            call,
            "RouteTables",
            t,
            "InvalidRouteTableID.NotFound",
            "routeTable",
        )?;
        if table["VpcId"] != ep["VpcId"] {
            return Err(ApiError::client(
                "InvalidParameter",
                format!("Route table {t} is not in {}", str_of(ep, "VpcId")),
            ));
        }
        let routes = table["Routes"].as_array().cloned().unwrap_or_default();
        let mut kept: Vec<Value> = routes
            .iter()
            .filter(|r| !(r["DestinationPrefixListId"] == list && r["GatewayId"] == id))
            .cloned()
            .collect();
        if add {
            if kept.iter().any(|r| r["DestinationPrefixListId"] == list) {
                return Err(ApiError::client(
                    "RouteAlreadyExists",
                    format!("route table {t} already has a route with destination-prefix-list-id {list}"),
                ));
            }
            kept.push(route_to(list, id));
        }
        table["Routes"] = json!(kept);
        tx.put(&call.region, "RouteTables", t, &table)?;
    }
    call.changed(&call.region);
    Ok(())
}

/// The interfaces of an interface endpoint: one per subnet, one subnet per zone.
fn add_interfaces(
    tx: &Tx<'_>,
    call: &Call,
    ep: &mut Value,
    subnets: &[&str],
    groups: &[Value],
) -> Result<(), ApiError> {
    let mut zones: BTreeSet<String> = BTreeSet::new();
    for id in ep["SubnetIds"].as_array().into_iter().flatten() {
        if let Some(s) = tx.get(&call.region, "Subnets", id.as_str().unwrap_or_default())? {
            zones.insert(str_of(&s, "AvailabilityZone").to_string());
        }
    }
    let ep_id = str_of(ep, "VpcEndpointId").to_string();
    for sn in subnets {
        let subnet = super::subnets::require_subnet(tx, call, sn)?;
        if subnet["VpcId"] != ep["VpcId"] {
            return Err(ApiError::client(
                "InvalidParameter",
                format!("Subnet {sn} is not in {}", str_of(ep, "VpcId")),
            ));
        }
        if !zones.insert(str_of(&subnet, "AvailabilityZone").to_string()) {
            return Err(ApiError::client(
                "DuplicateSubnetsInSameZone",
                format!("Found another VPC endpoint subnet in the availability zone of {sn}."),
            ));
        }
        let ip = super::interfaces::free_address(tx, &call.region, &subnet)?;
        let desc = format!("VPC Endpoint Interface {ep_id}");
        let mut eni = super::interfaces::new_interface(call, &subnet, ip, groups.to_vec(), &desc);
        eni["InterfaceType"] = json!("vpc_endpoint");
        eni["RequesterManaged"] = json!(true);
        eni["RequesterId"] = json!("727180483921");
        let eni_id = str_of(&eni, "NetworkInterfaceId").to_string();
        tx.put(&call.region, "NetworkInterfaces", &eni_id, &eni)?;
        push(ep, "SubnetIds", json!(sn));
        push(ep, "NetworkInterfaceIds", json!(eni_id));
    }
    call.changed(&call.region);
    Ok(())
}

fn push(doc: &mut Value, key: &str, v: Value) {
    if !doc[key].is_array() {
        doc[key] = json!([]);
    }
    if let Some(a) = doc[key].as_array_mut() {
        a.push(v);
    }
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let vpc_id = id_param(call, "VpcId", "vpc", "InvalidVpcID.Malformed")?;
    let id = resource_id("vpce");
    authorize(
        call,
        &[
            call.ec2_arn("vpc-endpoint", &id),
            call.ec2_arn("vpc", vpc_id),
        ],
    )?;
    require_vpc(tx, call, vpc_id)?;
    let service = call.params.require("ServiceName")?;
    let kind = call.params.get("VpcEndpointType").unwrap_or("Gateway");
    let gateway = gateway_service(service).filter(|(r, _, _)| *r == call.region);
    let known_interface = service
        .strip_prefix(&format!("com.amazonaws.{}.", call.region))
        .is_some_and(|s| !s.is_empty());
    match kind {
        "Gateway" if gateway.is_some() => {}
        "Interface" if known_interface => {}
        "Gateway" | "Interface" => {
            return Err(ApiError::client(
                "InvalidServiceName",
                format!("The Vpc Endpoint Service '{service}' does not exist"),
            ))
        }
        other => {
            return Err(ApiError::invalid_value(
                "VpcEndpointType",
                other,
                "vpcsim serve creates Gateway and Interface endpoints.",
            ))
        }
    }
    let tags = common::tags_for(call, "vpc-endpoint")?;
    let mut ep = json!({
        "VpcEndpointId": id,
        "VpcEndpointType": kind,
        "VpcId": vpc_id,
        "ServiceName": service,
        "State": if kind == "Gateway" { "available" } else { "pending" },
        "PolicyDocument": policy(call)?,
        "RouteTableIds": [],
        "SubnetIds": [],
        "Groups": [],
        "PrivateDnsEnabled": false,
        "RequesterManaged": false,
        "NetworkInterfaceIds": [],
        "DnsEntries": [],
        "CreationTimestamp": common::iso8601(call.now),
        "OwnerId": call.account,
        SINCE: common::epoch_ms(call.now),
    });
    if let Some((region, svc, _)) = gateway.filter(|_| kind == "Gateway") {
        ensure_aws_lists(tx, call)?;
        ep["VpcsimPrefixListId"] = json!(aws_list_id(region, svc));
        let tables = call.params.ec2_list("RouteTableId");
        set_routes(tx, call, &ep, &tables, true)?;
        ep["RouteTableIds"] = json!(tables);
    } else {
        let subnets = call.params.ec2_list("SubnetId");
        let groups = super::interfaces::groups_for(
            tx,
            call,
            &call.params.ec2_list("SecurityGroupId"),
            vpc_id,
        )?;
        ep["Groups"] = json!(groups);
        ep["PrivateDnsEnabled"] = json!(call.params.bool("PrivateDnsEnabled")?.unwrap_or(true));
        add_interfaces(tx, call, &mut ep, &subnets, &groups)?;
    }
    if !tags.is_empty() {
        ep["Tags"] = json!(tags);
    }
    tx.put(&call.region, KIND, &id, &ep)?;
    call.changed(&call.region);
    Ok(render::single(
        "VpcEndpoint",
        render::Shape::VpcEndpoint,
        &ep,
    ))
}

fn require_endpoint(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "vpce", MALFORMED)?;
    tx.get(&call.region, KIND, id)?
        .filter(|e| e["State"] != "deleted")
        .ok_or_else(|| common::not_found(NOT_FOUND, "vpcEndpoint", id))
}

fn remove_all(list: &mut Value, gone: &[&str]) {
    if let Some(a) = list.as_array_mut() {
        a.retain(|x| !gone.iter().any(|g| x == g));
    }
}

pub fn modify(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "VpcEndpointId", "vpce", MALFORMED)?;
    authorize(call, &[call.ec2_arn("vpc-endpoint", id)])?;
    let mut ep = require_endpoint(tx, call, id)?;
    let p = &call.params;
    if p.bool("ResetPolicy")? == Some(true) {
        ep["PolicyDocument"] = json!(FULL_ACCESS);
    } else if p.get("PolicyDocument").is_some() {
        ep["PolicyDocument"] = json!(policy(call)?);
    }
    let gateway = ep["VpcEndpointType"] == "Gateway";
    let (add_rt, remove_rt) = (
        p.ec2_list("AddRouteTableId"),
        p.ec2_list("RemoveRouteTableId"),
    );
    let (add_sn, remove_sn) = (p.ec2_list("AddSubnetId"), p.ec2_list("RemoveSubnetId"));
    let subnets_given = !(add_sn.is_empty() && remove_sn.is_empty());
    let tables_given = !(add_rt.is_empty() && remove_rt.is_empty());
    if (gateway && subnets_given) || (!gateway && tables_given) {
        return Err(ApiError::client(
            "InvalidParameter",
            "Route tables are for gateway endpoints, subnets for interface endpoints.",
        ));
    }
    if gateway {
        set_routes(tx, call, &ep, &remove_rt, false)?;
        remove_all(&mut ep["RouteTableIds"], &remove_rt);
        set_routes(tx, call, &ep, &add_rt, true)?;
        for t in add_rt {
            push(&mut ep, "RouteTableIds", json!(t));
        }
    } else {
        for eni in tx.list(&call.region, "NetworkInterfaces")? {
            let in_removed = remove_sn.iter().any(|s| eni["SubnetId"] == *s);
            if in_removed && eni["Description"] == format!("VPC Endpoint Interface {id}").as_str() {
                let eni_id = str_of(&eni, "NetworkInterfaceId");
                tx.delete(&call.region, "NetworkInterfaces", eni_id)?;
                remove_all(&mut ep["NetworkInterfaceIds"], &[eni_id]);
            }
        }
        remove_all(&mut ep["SubnetIds"], &remove_sn);
        let groups = ep["Groups"].as_array().cloned().unwrap_or_default();
        add_interfaces(tx, call, &mut ep, &add_sn, &groups)?;
        if let Some(b) = p.bool("PrivateDnsEnabled")? {
            ep["PrivateDnsEnabled"] = json!(b);
        }
    }
    tx.put(&call.region, KIND, id, &ep)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

/// Deletes one endpoint: its routes and interfaces go with it.
fn delete_one(tx: &Tx<'_>, call: &Call, id: &str) -> Result<(), ApiError> {
    let mut ep = require_endpoint(tx, call, id)?;
    let tables: Vec<String> = ep["RouteTableIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    let tables: Vec<&str> = tables.iter().map(String::as_str).collect();
    set_routes(tx, call, &ep, &tables, false)?;
    for eni in ep["NetworkInterfaceIds"].as_array().into_iter().flatten() {
        tx.delete(
            &call.region,
            "NetworkInterfaces",
            eni.as_str().unwrap_or_default(),
        )?;
    }
    ep["State"] = json!("deleted");
    ep["NetworkInterfaceIds"] = json!([]);
    tx.put(&call.region, KIND, id, &ep)?;
    call.changed(&call.region);
    Ok(())
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let ids = call.params.ec2_list("VpcEndpointId");
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("VpcEndpointId"));
    }
    let arns: Vec<String> = ids
        .iter()
        .map(|i| call.ec2_arn("vpc-endpoint", i))
        .collect();
    authorize(call, &arns)?;
    // AWS answers per endpoint: the ones it could not delete are listed, the call succeeds.
    let mut failed = Vec::new();
    for id in ids {
        if let Err(e) = delete_one(tx, call, id) {
            failed.push(json!({"Error": {"Code": e.code, "Message": e.message}, "ResourceId": id}));
        }
    }
    Ok(render::list("Unsuccessful", &failed))
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: KIND,
            ids: ("VpcEndpointId", "VpcEndpointId"),
            not_found: (NOT_FOUND, "vpcEndpoint"),
            filters: FILTERS,
        },
    )
}

/// Interface endpoints become `available` once the delay is over.
pub fn settle(tx: &Tx<'_>, call: &Call, now: i64, delay: i64) -> Result<bool, ApiError> {
    let mut changed = false;
    for mut ep in tx.list(&call.region, KIND)? {
        if ep["State"] == "pending" && ep[SINCE].as_i64().is_some_and(|t| now - t >= delay) {
            ep["State"] = json!("available");
            let id = str_of(&ep, "VpcEndpointId").to_string();
            tx.put(&call.region, KIND, &id, &ep)?;
            changed = true;
        }
    }
    Ok(changed)
}
