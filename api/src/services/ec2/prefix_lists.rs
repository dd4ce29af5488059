//! Prefix lists: the customer-managed ones (`CreateManagedPrefixList` ...) and the AWS-managed
//! lists of the gateway-endpoint services (`com.amazonaws.<region>.s3`, `.dynamodb`).
//!
//! All are stored in `PrefixLists`, the kind the snapshot loader reads, each with its `Cidrs`
//! (what `describe-prefix-lists` prints) so that routes and security-group rules naming a `pl-`
//! id resolve; customer lists keep their entries' descriptions in a hidden field.

use ipnet::IpNet;
use serde_json::{json, Value};
use vpcsim_controlplane::service_ranges::{
    managed_prefix_list_id, ServiceRanges, GATEWAY_SERVICES,
};

use super::common::{self, authorize, id_param, Listing};
use super::render;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

pub(super) const KIND: &str = "PrefixLists";
const NOT_FOUND: &str = "InvalidPrefixListID.NotFound";
const MALFORMED: &str = "InvalidPrefixListID.Malformed";
const ENTRIES: &str = "VpcsimEntries";

const MANAGED_FILTERS: &[(&str, &str)] = &[
    ("owner-id", "OwnerId"),
    ("prefix-list-id", "PrefixListId"),
    ("prefix-list-name", "PrefixListName"),
];

const AWS_FILTERS: &[(&str, &str)] = &[
    ("prefix-list-id", "PrefixListId"),
    ("prefix-list-name", "PrefixListName"),
];

/// The id of the AWS-managed list of a gateway service in a region: AWS's published id where
/// vpcsim knows it, else the one the snapshot loader gives it.
pub fn aws_list_id(region: &str, service: &str) -> String {
    managed_prefix_list_id(region, service)
        .map(str::to_string)
        .unwrap_or_else(|| format!("pl-{service}-{region}"))
}

/// Stores the region's AWS-managed lists the first time anything needs them.
pub fn ensure_aws_lists(tx: &Tx<'_>, call: &Call) -> Result<(), ApiError> {
    let r = &call.region;
    let ranges = ServiceRanges::builtin();
    for (service, ranges_service) in GATEWAY_SERVICES {
        let id = aws_list_id(r, service);
        if tx.get(r, KIND, &id)?.is_some() {
            continue;
        }
        let cidrs: Vec<String> = ranges
            .prefixes(r, ranges_service)
            .iter()
            .map(ToString::to_string)
            .collect();
        let doc = json!({
            "PrefixListId": id,
            "PrefixListName": format!("com.amazonaws.{r}.{service}"),
            "AddressFamily": "IPv4",
            "State": "create-complete",
            "PrefixListArn": format!("arn:aws:ec2:{r}:aws:prefix-list/{id}"),
            "Version": 1,
            "OwnerId": "AWS",
            "Cidrs": cidrs,
        });
        tx.put(r, KIND, &id, &doc)?;
        call.changed(r);
    }
    Ok(())
}

/// A prefix list of the region (AWS-managed ones included).
pub fn require_list(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    common::check_prefix(id, "pl", MALFORMED)?;
    ensure_aws_lists(tx, call)?;
    common::require(tx, call, KIND, id, NOT_FOUND, "prefix list")
}

fn is_aws(list: &Value) -> bool {
    list["OwnerId"] == "AWS"
}

/// The `ManagedPrefixList` shape: the stored document without its entries.
fn managed_shape(list: &Value) -> Value {
    let mut v = list.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("Cidrs");
    }
    v
}

/// A list's entries as `{Cidr, Description}`.
fn entries(list: &Value) -> Vec<Value> {
    if let Some(e) = list[ENTRIES].as_array() {
        return e.clone();
    }
    list["Cidrs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({"Cidr": c}))
        .collect()
}

fn set_entries(list: &mut Value, items: Vec<Value>) {
    list["Cidrs"] = json!(items.iter().map(|e| e["Cidr"].clone()).collect::<Vec<_>>());
    list[ENTRIES] = json!(items);
}

/// One entry's CIDR, of the list's address family.
fn entry_cidr(cidr: &str, family: &str) -> Result<String, ApiError> {
    let net: IpNet = cidr.parse().map_err(|_| {
        ApiError::invalid_value("Entry.Cidr", cidr, "This is not a valid CIDR block.")
    })?;
    let v6 = matches!(net, IpNet::V6(_));
    if v6 != (family == "IPv6") {
        return Err(ApiError::invalid_value(
            "Entry.Cidr",
            cidr,
            &format!("The CIDR is not of the list's address family {family}."),
        ));
    }
    Ok(net.trunc().to_string())
}

fn max_entries(call: &Call, required: bool) -> Result<Option<i64>, ApiError> {
    let m = call.params.int("MaxEntries")?;
    if required && m.is_none() {
        return Err(ApiError::missing_parameter("MaxEntries"));
    }
    if let Some(m) = m {
        if !(1..=1000).contains(&m) {
            return Err(ApiError::invalid_value(
                "MaxEntries",
                &m.to_string(),
                "MaxEntries must be between 1 and 1000.",
            ));
        }
    }
    Ok(m)
}

fn check_size(items: &[Value], max: i64) -> Result<(), ApiError> {
    if items.len() as i64 > max {
        return Err(ApiError::client(
            "PrefixListMaxEntriesExceeded",
            format!("The prefix list can have at most {max} entries."),
        ));
    }
    Ok(())
}

fn add_entries(
    items: &mut Vec<Value>,
    added: Vec<crate::params::Params>,
    family: &str,
) -> Result<(), ApiError> {
    for e in added {
        let cidr = entry_cidr(e.require("Cidr")?, family)?;
        if items.iter().any(|x| x["Cidr"] == cidr.as_str()) {
            return Err(ApiError::client(
                "InvalidParameterValue",
                format!("The prefix list already has an entry for {cidr}."),
            ));
        }
        let mut entry = json!({"Cidr": cidr});
        if let Some(d) = e.get("Description") {
            entry["Description"] = json!(d);
        }
        items.push(entry);
    }
    Ok(())
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = resource_id("pl");
    authorize(call, &[call.ec2_arn("prefix-list", &id)])?;
    let name = call.params.require("PrefixListName")?;
    if name.to_ascii_lowercase().starts_with("com.amazonaws") {
        return Err(ApiError::invalid_value(
            "PrefixListName",
            name,
            "Names starting with com.amazonaws are reserved.",
        ));
    }
    let family = call.params.require("AddressFamily")?;
    if family != "IPv4" && family != "IPv6" {
        return Err(ApiError::invalid_value(
            "AddressFamily",
            family,
            "Expected IPv4 or IPv6.",
        ));
    }
    let max = max_entries(call, true)?.unwrap_or(1);
    let mut items = Vec::new();
    add_entries(&mut items, call.params.ec2_structs("Entry"), family)?;
    check_size(&items, max)?;
    let tags = common::tags_for(call, "prefix-list")?;
    let mut list = json!({
        "PrefixListId": id,
        "AddressFamily": family,
        "State": "create-complete",
        "PrefixListArn": call.ec2_arn("prefix-list", &id),
        "PrefixListName": name,
        "MaxEntries": max,
        "Version": 1,
        "OwnerId": call.account,
    });
    set_entries(&mut list, items);
    if !tags.is_empty() {
        list["Tags"] = json!(tags);
    }
    tx.put(&call.region, KIND, &id, &list)?;
    call.changed(&call.region);
    Ok(render::single(
        "PrefixList",
        render::Shape::Plain,
        &managed_shape(&list),
    ))
}

/// The customer-managed list a modify or delete names, once the caller may act on it.
fn own_list(tx: &Tx<'_>, call: &Call) -> Result<(String, Value), ApiError> {
    let id = id_param(call, "PrefixListId", "pl", MALFORMED)?;
    authorize(call, &[call.ec2_arn("prefix-list", id)])?;
    let list = require_list(tx, call, id)?;
    if is_aws(&list) {
        return Err(ApiError::client(
            "UnauthorizedOperation",
            format!("{id} is an AWS-managed prefix list and cannot be changed."),
        ));
    }
    Ok((id.to_string(), list))
}

pub fn modify(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (id, mut list) = own_list(tx, call)?;
    let version = list["Version"].as_i64().unwrap_or(1);
    let added = call.params.ec2_structs("AddEntry");
    let removed = call.params.ec2_structs("RemoveEntry");
    let family = list["AddressFamily"].as_str().unwrap_or("IPv4").to_string();
    let mut items = entries(&list);
    if !added.is_empty() || !removed.is_empty() {
        match call.params.int("CurrentVersion")? {
            Some(v) if v == version => {}
            Some(v) => {
                return Err(ApiError::client(
                    "PrefixListVersionMismatch",
                    format!("The prefix list {id} has version {version}, not {v}."),
                ))
            }
            None => return Err(ApiError::missing_parameter("CurrentVersion")),
        }
        for r in removed {
            let cidr = entry_cidr(r.require("Cidr")?, &family)?;
            let before = items.len();
            items.retain(|e| e["Cidr"] != cidr.as_str());
            if items.len() == before {
                return Err(ApiError::client(
                    "InvalidParameterValue",
                    format!("The prefix list {id} has no entry for {cidr}."),
                ));
            }
        }
        add_entries(&mut items, added, &family)?;
        list["Version"] = json!(version + 1);
    }
    if let Some(name) = call.params.get("PrefixListName") {
        list["PrefixListName"] = json!(name);
    }
    if let Some(m) = max_entries(call, false)? {
        list["MaxEntries"] = json!(m);
    }
    check_size(&items, list["MaxEntries"].as_i64().unwrap_or(1))?;
    set_entries(&mut list, items);
    list["State"] = json!("modify-complete");
    tx.put(&call.region, KIND, &id, &list)?;
    call.changed(&call.region);
    Ok(render::single(
        "PrefixList",
        render::Shape::Plain,
        &managed_shape(&list),
    ))
}

/// Whether a route or a security-group rule of the region names the list.
fn in_use(tx: &Tx<'_>, call: &Call, id: &str) -> Result<bool, ApiError> {
    let r = &call.region;
    let routed = tx.list(r, "RouteTables")?.iter().any(|t| {
        t["Routes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["DestinationPrefixListId"] == id)
    });
    let referenced = tx.list(r, "SecurityGroups")?.iter().any(|g| {
        ["IpPermissions", "IpPermissionsEgress"].iter().any(|k| {
            g[*k].as_array().into_iter().flatten().any(|p| {
                p["PrefixListIds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x["PrefixListId"] == id)
            })
        })
    });
    Ok(routed || referenced)
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let (id, mut list) = own_list(tx, call)?;
    if in_use(tx, call, &id)? {
        return Err(ApiError::client(
            "DependencyViolation",
            format!("The prefix list {id} is referenced by a route or a security group rule."),
        ));
    }
    tx.delete(&call.region, KIND, &id)?;
    call.changed(&call.region);
    list["State"] = json!("delete-complete");
    Ok(render::single(
        "PrefixList",
        render::Shape::Plain,
        &managed_shape(&list),
    ))
}

pub fn describe_managed(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    ensure_aws_lists(tx, call)?;
    let docs: Vec<Value> = tx
        .list(&call.region, KIND)?
        .iter()
        .map(managed_shape)
        .collect();
    let l = Listing {
        kind: KIND,
        ids: ("PrefixListId", "PrefixListId"),
        not_found: (NOT_FOUND, "prefix list"),
        filters: MANAGED_FILTERS,
    };
    let (items, next) = common::select(call, docs, &l)?;
    Ok(render::list(KIND, &items) + &common::next_token(next))
}

pub fn describe_aws(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    ensure_aws_lists(tx, call)?;
    let docs: Vec<Value> = tx
        .list(&call.region, KIND)?
        .into_iter()
        .filter(is_aws)
        .map(|l| json!({"PrefixListId": l["PrefixListId"], "PrefixListName": l["PrefixListName"], "Cidrs": l["Cidrs"]}))
        .collect();
    let l = Listing {
        kind: KIND,
        ids: ("PrefixListId", "PrefixListId"),
        not_found: (NOT_FOUND, "prefix list"),
        filters: AWS_FILTERS,
    };
    let (items, next) = common::select(call, docs, &l)?;
    Ok(render::list(KIND, &items) + &common::next_token(next))
}

pub fn get_entries(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(call, "PrefixListId", "pl", MALFORMED)?;
    common::authorize_describe(call)?;
    let list = require_list(tx, call, id)?;
    if let Some(v) = call.params.int("TargetVersion")? {
        if Some(v) != list["Version"].as_i64() {
            return Err(ApiError::client(
                "InvalidParameterValue",
                format!("vpcsim keeps only the current version of {id}."),
            ));
        }
    }
    let (items, next) = common::page(call, entries(&list), false)?;
    Ok(render::list("Entries", &items) + &common::next_token(next))
}
