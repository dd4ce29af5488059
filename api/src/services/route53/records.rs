//! Record sets: `ChangeResourceRecordSets` (an all-or-nothing batch) and
//! `ListResourceRecordSets` (Route 53's order: names with their labels reversed, then type).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{json, Value};

use super::{
    document, get_zone, invalid_input, new_change, normalize, write_change, xml_in, zone_arn,
    RECORDS, ZONES,
};
use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::services::query_form::{int_of, list_of, str_of};
use crate::store::{Store, Tx, GLOBAL};
use crate::xml::XmlWriter;

const TYPES: &[&str] = &[
    "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
    "SSHFP", "SVCB", "TLSA", "TXT",
];

/// The store id of a record set of zone `zone`.
pub(super) fn record_id(zone: &str, r: &Value) -> String {
    format!(
        "{zone}|{}|{}|{}",
        str_of(r, "Name").unwrap_or_default(),
        str_of(r, "Type").unwrap_or_default(),
        str_of(r, "SetIdentifier").unwrap_or_default()
    )
}

/// Every record set of a zone.
pub(super) fn zone_records(tx: &Tx<'_>, zone: &str) -> Result<Vec<Value>, ApiError> {
    Ok(tx
        .list(GLOBAL, RECORDS)?
        .into_iter()
        .filter(|r| str_of(r, "HostedZoneId") == Some(zone))
        .collect())
}

/// The SOA and NS record sets every zone starts with.
pub(super) fn put_default_records(
    tx: &Tx<'_>,
    zone: &str,
    name: &str,
    servers: &[String],
) -> Result<(), ApiError> {
    let soa = json!({"Name": name, "Type": "SOA", "TTL": 900, "HostedZoneId": zone, "ResourceRecords": [
        {"Value": format!("{} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400", servers[0])}]});
    let ns = json!({"Name": name, "Type": "NS", "TTL": 172800, "HostedZoneId": zone,
        "ResourceRecords": servers.iter().map(|s| json!({"Value": s})).collect::<Vec<_>>()});
    for r in [ns, soa] {
        tx.put(GLOBAL, RECORDS, &record_id(zone, &r), &r)?;
    }
    Ok(())
}

/// Route 53's listing order: labels reversed (`com.example.www.`), then type, then identifier.
fn order_key(r: &Value) -> (String, String, String) {
    let name = str_of(r, "Name").unwrap_or_default().trim_end_matches('.');
    let reversed: Vec<&str> = name.split('.').rev().collect();
    (
        reversed.join("."),
        str_of(r, "Type").unwrap_or_default().to_string(),
        str_of(r, "SetIdentifier").unwrap_or_default().to_string(),
    )
}

fn describe(r: &Value) -> String {
    format!(
        "[name='{}', type='{}'{}]",
        str_of(r, "Name").unwrap_or_default(),
        str_of(r, "Type").unwrap_or_default(),
        str_of(r, "SetIdentifier")
            .map(|s| format!(", set-identifier='{s}'"))
            .unwrap_or_default()
    )
}

/// One change's record set from the request, checked for shape (errors here are `InvalidInput`)
/// and normalised.
fn record_from(change: &Value, action: &str) -> Result<Value, ApiError> {
    let r = change
        .get("ResourceRecordSet")
        .ok_or_else(|| invalid_input("Invalid request: Missing field 'ResourceRecordSet'"))?;
    let name =
        str_of(r, "Name").ok_or_else(|| invalid_input("Invalid request: Missing field 'Name'"))?;
    let rtype = str_of(r, "Type").unwrap_or_default();
    if !TYPES.contains(&rtype) {
        return Err(invalid_input(format!(
            "Invalid request: Invalid value '{rtype}' for Type"
        )));
    }
    let mut out = json!({"Name": normalize(name), "Type": rtype});
    if let Some(s) = str_of(r, "SetIdentifier") {
        out["SetIdentifier"] = json!(s);
    }
    if let Some(w) = int_of(r, "Weight")? {
        out["Weight"] = json!(w);
    }
    let alias = r.get("AliasTarget").filter(|a| a.is_object());
    let ttl = int_of(r, "TTL")?;
    let values: Vec<Value> = list_of(r, "ResourceRecords")
        .iter()
        .map(|x| json!({"Value": str_of(x, "Value").unwrap_or_default()}))
        .collect();
    match (alias, ttl, values.is_empty()) {
        (Some(a), None, true) => {
            out["AliasTarget"] = json!({"HostedZoneId": str_of(a, "HostedZoneId").unwrap_or_default(),
                "DNSName": normalize(str_of(a, "DNSName").unwrap_or_default()),
                "EvaluateTargetHealth": str_of(a, "EvaluateTargetHealth") == Some("true")});
        }
        (None, Some(t), false) => {
            if !(0..=2_147_483_647).contains(&t) {
                return Err(invalid_input(format!("Invalid request: Invalid value '{t}' for TTL")));
            }
            out["TTL"] = json!(t);
            out["ResourceRecords"] = Value::Array(values);
        }
        _ => {
            return Err(invalid_input(format!(
                "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]], but found none in Change with [Action={action}, Name={}, Type={rtype}, SetIdentifier={}]",
                normalize(name),
                str_of(r, "SetIdentifier").unwrap_or("null")
            )))
        }
    }
    Ok(out)
}

/// Value checks Route 53 makes per type; the `InvalidChangeBatch` message when one fails.
fn check_values(r: &Value) -> Option<String> {
    let rtype = str_of(r, "Type").unwrap_or_default();
    let values: Vec<&str> = list_of(r, "ResourceRecords")
        .iter()
        .filter_map(|v| str_of(v, "Value"))
        .collect();
    for v in &values {
        match rtype {
            "A" if v.parse::<Ipv4Addr>().is_err() => return Some(format!("ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '{v}'")),
            "AAAA" if v.parse::<Ipv6Addr>().is_err() => return Some(format!("AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '{v}'")),
            _ => {}
        }
    }
    if rtype == "CNAME" && values.len() > 1 {
        return Some(format!(
            "RRSet of type CNAME with DNS name {} has more than one value",
            str_of(r, "Name").unwrap_or_default()
        ));
    }
    None
}

/// Applies one change to the zone's working set; the `InvalidChangeBatch` message if refused.
fn apply(set: &mut Vec<Value>, zone_name: &str, action: &str, r: Value) -> Option<String> {
    let name = str_of(&r, "Name").unwrap_or_default().to_string();
    let rtype = str_of(&r, "Type").unwrap_or_default().to_string();
    if name != zone_name && !name.ends_with(&format!(".{zone_name}")) {
        return Some(format!(
            "RRSet with DNS name {name} is not permitted in zone {zone_name}"
        ));
    }
    let same = |x: &Value| {
        str_of(x, "Name") == Some(name.as_str())
            && str_of(x, "Type") == Some(rtype.as_str())
            && x.get("SetIdentifier") == r.get("SetIdentifier")
    };
    let found = set.iter().position(same);
    if action == "DELETE" {
        let Some(i) = found else {
            return Some(format!(
                "Tried to delete resource record set {} but it was not found",
                describe(&r)
            ));
        };
        let mut current = set[i].clone();
        if let Some(m) = current.as_object_mut() {
            m.remove("HostedZoneId");
        }
        if current != r {
            return Some(format!("Tried to delete resource record set {} but the values provided do not match the current values", describe(&r)));
        }
        if name == zone_name && (rtype == "SOA" || rtype == "NS") {
            return Some(format!("A HostedZone must contain exactly one SOA record and at least one NS record for the zone itself; {rtype} record at the apex cannot be deleted."));
        }
        set.remove(i);
        return None;
    }
    if let Some(m) = check_values(&r) {
        return Some(m);
    }
    if rtype == "CNAME" && name == zone_name {
        return Some(format!(
            "RRSet of type CNAME with DNS name {name} is not permitted at apex in zone {zone_name}"
        ));
    }
    let conflict = set.iter().find(|x| {
        str_of(x, "Name") == Some(name.as_str())
            && !same(x)
            && (rtype == "CNAME" || str_of(x, "Type") == Some("CNAME"))
    });
    if let Some(c) = conflict {
        return Some(format!(
            "RRSet of type {rtype} with DNS name {name} is not permitted because a conflicting RRSet of type {} with the same DNS name already exists in zone {zone_name}",
            str_of(c, "Type").unwrap_or_default()
        ));
    }
    match (action, found) {
        ("CREATE", Some(_)) => Some(format!(
            "Tried to create resource record set {} but it already exists",
            describe(&r)
        )),
        (_, Some(i)) => {
            set[i] = r;
            None
        }
        (_, None) => {
            set.push(r);
            None
        }
    }
}

/// `ChangeResourceRecordSets`: every change applies, or none does.
pub(super) fn change(store: &Store, call: &Call, zone: &str) -> Result<Reply, ApiError> {
    call.authorize(&[zone_arn(zone)], &[])?;
    let input = xml_in::parse(&call.body)?;
    let batch = input
        .get("ChangeBatch")
        .ok_or_else(|| invalid_input("Invalid request: Missing field 'ChangeBatch'"))?;
    let changes = list_of(batch, "Changes");
    if changes.is_empty() {
        return Err(invalid_input(
            "Invalid request: ChangeBatch must contain at least one change",
        ));
    }
    let mut parsed = Vec::new();
    for c in changes {
        let action = str_of(c, "Action").unwrap_or_default();
        if !["CREATE", "DELETE", "UPSERT"].contains(&action) {
            return Err(invalid_input(format!(
                "Invalid request: Invalid value '{action}' for Action"
            )));
        }
        parsed.push((action.to_string(), record_from(c, action)?));
    }
    let (info, regions) = store.write(|tx| {
        let z = get_zone(tx, zone)?;
        let zone_name = str_of(&z, "Name").unwrap_or_default().to_string();
        let before = zone_records(tx, zone)?;
        let mut set: Vec<Value> = before
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if let Some(m) = r.as_object_mut() {
                    m.remove("HostedZoneId");
                }
                r
            })
            .collect();
        let messages: Vec<String> = parsed
            .iter()
            .filter_map(|(a, r)| apply(&mut set, &zone_name, a, r.clone()))
            .collect();
        if !messages.is_empty() {
            return Err(ApiError::client(
                "InvalidChangeBatch",
                format!("[{}]", messages.join(", ")),
            ));
        }
        for r in &before {
            tx.delete(GLOBAL, RECORDS, &record_id(zone, r))?;
        }
        for mut r in set.clone() {
            r["HostedZoneId"] = json!(zone);
            tx.put(GLOBAL, RECORDS, &record_id(zone, &r), &r)?;
        }
        let mut z = z;
        z["ResourceRecordSetCount"] = json!(set.len());
        tx.put(GLOBAL, ZONES, zone, &z)?;
        let regions: Vec<String> = list_of(&z, "VPCs")
            .iter()
            .filter_map(|v| str_of(v, "VPCRegion").map(str::to_string))
            .collect();
        Ok((new_change(tx, call.now, str_of(batch, "Comment"))?, regions))
    })?;
    for r in regions {
        call.changed(&r);
    }
    Ok(Reply::Xml(document(
        "ChangeResourceRecordSetsResponse",
        |w| write_change(w, &info),
    )))
}

fn write_record(w: &mut XmlWriter, r: &Value) {
    w.element("ResourceRecordSet", |w| {
        w.leaf_opt("Name", str_of(r, "Name"));
        w.leaf_opt("Type", str_of(r, "Type"));
        w.leaf_opt("SetIdentifier", str_of(r, "SetIdentifier"));
        w.leaf_opt("Weight", r.get("Weight").and_then(Value::as_i64));
        w.leaf_opt("TTL", r.get("TTL").and_then(Value::as_i64));
        if let Some(values) = r.get("ResourceRecords").and_then(Value::as_array) {
            w.element("ResourceRecords", |w| {
                for v in values {
                    w.element("ResourceRecord", |w| {
                        w.leaf_opt("Value", str_of(v, "Value"));
                    });
                }
            });
        }
        if let Some(a) = r.get("AliasTarget") {
            w.element("AliasTarget", |w| {
                w.leaf_opt("HostedZoneId", str_of(a, "HostedZoneId"));
                w.leaf_opt("DNSName", str_of(a, "DNSName"));
                w.leaf(
                    "EvaluateTargetHealth",
                    a["EvaluateTargetHealth"].as_bool().unwrap_or(false),
                );
            });
        }
    });
}

/// `ListResourceRecordSets`: from `name`/`type`/`identifier`, at most `maxitems` (≤ 300).
pub(super) fn list(store: &Store, call: &Call, zone: &str) -> Result<Reply, ApiError> {
    call.authorize(&[zone_arn(zone)], &[])?;
    let p = &call.params;
    let max = match p.get("maxitems") {
        None => 300,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=300).contains(m))
            .ok_or_else(|| invalid_input(format!("Invalid maxitems: {m}")))?,
    };
    let start_type = p.get("type");
    let start_name = p.get("name").map(normalize);
    if start_type.is_some() && start_name.is_none() {
        return Err(invalid_input(
            "The input is not valid: a StartRecordType requires a StartRecordName",
        ));
    }
    let mut sets = store.read(|tx| {
        get_zone(tx, zone)?;
        zone_records(tx, zone)
    })?;
    sets.sort_by_key(order_key);
    let from = match &start_name {
        None => 0,
        Some(n) => {
            let key = order_key(
                &json!({"Name": n, "Type": start_type.unwrap_or(""), "SetIdentifier": p.get("identifier").unwrap_or("")}),
            );
            sets.iter()
                .position(|r| order_key(r) >= key)
                .unwrap_or(sets.len())
        }
    };
    let page = &sets[from..(from + max).min(sets.len())];
    let next = sets.get(from + max);
    Ok(Reply::Xml(document(
        "ListResourceRecordSetsResponse",
        |w| {
            w.element("ResourceRecordSets", |w| {
                page.iter().for_each(|r| write_record(w, r))
            });
            w.leaf("IsTruncated", next.is_some());
            if let Some(n) = next {
                w.leaf_opt("NextRecordName", str_of(n, "Name"));
                w.leaf_opt("NextRecordType", str_of(n, "Type"));
                w.leaf_opt("NextRecordIdentifier", str_of(n, "SetIdentifier"));
            }
            w.leaf("MaxItems", max);
        },
    )))
}
