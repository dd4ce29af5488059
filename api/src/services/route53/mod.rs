//! Amazon Route 53 hosted zones and record sets (REST-XML, global, SPEC.md §22.6).
//!
//! Zones are stored in the global partition as `HostedZones` documents in the shape
//! `aws route53 list-hosted-zones` prints, with the zone's `VPCs` (private zones) and
//! `DelegationSet` (public zones) added as `get-hosted-zone` prints them; record sets as
//! `ResourceRecordSets` documents in the shape `list-resource-record-sets` prints, each with
//! the bare `HostedZoneId` it belongs to; changes as `ChangeInfos`.
//!
//! Requests are routed on method and path ([`route`]); the server names the action with it.
//! A `CreateHostedZone` answer is a 201 whose `Location` header [`location`] gives.

mod records;
mod vpcs;
mod xml_in;

use std::time::{Duration, SystemTime};

use rand::Rng;
use serde_json::{json, Value};

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::service::Service;
use crate::services::query_form::{iso8601, list_of, parse_time, str_of};
use crate::store::{Store, Tx, GLOBAL};
use crate::xml::XmlWriter;

pub(crate) const ZONES: &str = "HostedZones";
pub(crate) const RECORDS: &str = "ResourceRecordSets";
const CHANGES: &str = "ChangeInfos";

/// How long a change stays `PENDING` before `GetChange` reports `INSYNC` (clients' waiters poll
/// for `INSYNC`).
pub const INSYNC_AFTER: Duration = Duration::from_secs(1);

const API: &str = "/2013-04-01";

/// The action a REST request names, and the resource id in its path (`Id` of the zone or the
/// change), from its method and path.
pub fn route(method: &str, path: &str) -> Option<(&'static str, Option<String>)> {
    let rest = path.strip_prefix(API)?;
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
    let id = |s: &str| Some(s.to_string());
    match (method, parts.as_slice()) {
        ("POST", ["hostedzone"]) => Some(("CreateHostedZone", None)),
        ("GET", ["hostedzone"]) => Some(("ListHostedZones", None)),
        ("GET", ["hostedzone", z]) => Some(("GetHostedZone", id(z))),
        ("DELETE", ["hostedzone", z]) => Some(("DeleteHostedZone", id(z))),
        ("POST", ["hostedzone", z, "rrset"]) => Some(("ChangeResourceRecordSets", id(z))),
        ("GET", ["hostedzone", z, "rrset"]) => Some(("ListResourceRecordSets", id(z))),
        ("POST", ["hostedzone", z, "associatevpc"]) => Some(("AssociateVPCWithHostedZone", id(z))),
        ("POST", ["hostedzone", z, "disassociatevpc"]) => {
            Some(("DisassociateVPCFromHostedZone", id(z)))
        }
        ("GET", ["change", c]) => Some(("GetChange", id(c))),
        _ => None,
    }
}

/// The `Location` header of a `CreateHostedZone` answer: the new zone's URL.
pub fn location(reply: &Reply) -> Option<String> {
    let Reply::XmlStatus(201, xml) = reply else {
        return None;
    };
    let start = xml.find("<Id>/hostedzone/")? + "<Id>/hostedzone/".len();
    let end = start + xml[start..].find('<')?;
    Some(format!(
        "https://route53.amazonaws.com{API}/hostedzone/{}",
        &xml[start..end]
    ))
}

/// Answers one Route 53 call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let (action, id) = route(&call.method, &call.path).ok_or_else(|| {
        ApiError::with_status(
            "UnknownOperationException",
            format!("No Route 53 operation at {} {}", call.method, call.path),
            404,
        )
    })?;
    let id = id.map(|i| bare_id(&i).to_string());
    match action {
        "CreateHostedZone" => create_hosted_zone(store, call),
        "ListHostedZones" => list_hosted_zones(store, call),
        "GetHostedZone" => get_hosted_zone(store, call, &id.unwrap_or_default()),
        "DeleteHostedZone" => delete_hosted_zone(store, call, &id.unwrap_or_default()),
        "ChangeResourceRecordSets" => records::change(store, call, &id.unwrap_or_default()),
        "ListResourceRecordSets" => records::list(store, call, &id.unwrap_or_default()),
        "AssociateVPCWithHostedZone" => {
            vpcs::change_association(store, call, &id.unwrap_or_default(), true)
        }
        "DisassociateVPCFromHostedZone" => {
            vpcs::change_association(store, call, &id.unwrap_or_default(), false)
        }
        _ => get_change(store, call, &id.unwrap_or_default()),
    }
}

/// `Z123` from `Z123` or `/hostedzone/Z123` (and `/change/C1` likewise).
fn bare_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

pub(crate) fn zone_arn(id: &str) -> String {
    format!("arn:aws:route53:::hostedzone/{id}")
}

pub(crate) fn invalid_input(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidInput", message)
}

pub(crate) fn no_such_zone(id: &str) -> ApiError {
    ApiError::with_status(
        "NoSuchHostedZone",
        format!("No hosted zone found with ID: {id}"),
        404,
    )
}

/// A stored zone, or `NoSuchHostedZone`.
pub(crate) fn get_zone(tx: &Tx<'_>, id: &str) -> Result<Value, ApiError> {
    tx.get(GLOBAL, ZONES, id)?.ok_or_else(|| no_such_zone(id))
}

/// A DNS name as Route 53 keeps it: lower case, absolute (trailing dot), `*` as `\052`.
pub(crate) fn normalize(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase().replace('*', "\\052");
    if !n.ends_with('.') {
        n.push('.');
    }
    n
}

fn check_domain(name: &str) -> Result<(), ApiError> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    let ok = name.len() <= 1024
        && !name.trim_end_matches('.').is_empty()
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !ok {
        return Err(ApiError::client(
            "InvalidDomainName",
            format!("{name} is not a valid domain name."),
        ));
    }
    Ok(())
}

/// A new change, stored; its `ChangeInfo`.
pub(crate) fn new_change(
    tx: &Tx<'_>,
    now: SystemTime,
    comment: Option<&str>,
) -> Result<Value, ApiError> {
    let id = format!("C{}", route53_id());
    let mut c =
        json!({"Id": format!("/change/{id}"), "Status": "PENDING", "SubmittedAt": iso8601(now)});
    if let Some(x) = comment {
        c["Comment"] = json!(x);
    }
    tx.put(GLOBAL, CHANGES, &id, &c)?;
    Ok(c)
}

/// An id in Route 53's alphabet (upper-case letters and digits), 20 characters.
fn route53_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn write_change(w: &mut XmlWriter, c: &Value) {
    w.element("ChangeInfo", |w| {
        w.leaf_opt("Id", str_of(c, "Id"));
        w.leaf_opt("Status", str_of(c, "Status"));
        w.leaf_opt("SubmittedAt", str_of(c, "SubmittedAt"));
        w.leaf_opt("Comment", str_of(c, "Comment"));
    });
}

fn write_zone(w: &mut XmlWriter, z: &Value) {
    w.element("HostedZone", |w| {
        w.leaf_opt("Id", str_of(z, "Id"));
        w.leaf_opt("Name", str_of(z, "Name"));
        w.leaf_opt("CallerReference", str_of(z, "CallerReference"));
        w.element("Config", |w| {
            w.leaf_opt("Comment", str_of(&z["Config"], "Comment"));
            w.leaf(
                "PrivateZone",
                z["Config"]["PrivateZone"].as_bool().unwrap_or(false),
            );
        });
        w.leaf(
            "ResourceRecordSetCount",
            z["ResourceRecordSetCount"].as_i64().unwrap_or(0),
        );
    });
}

fn write_delegation(w: &mut XmlWriter, z: &Value) {
    if let Some(d) = z.get("DelegationSet") {
        w.element("DelegationSet", |w| {
            w.element("NameServers", |w| {
                for ns in list_of(d, "NameServers").iter().filter_map(Value::as_str) {
                    w.leaf("NameServer", ns);
                }
            });
        });
    }
}

/// A REST-XML answer document.
pub(crate) fn document(root: &str, inner: impl FnOnce(&mut XmlWriter)) -> String {
    let mut w = XmlWriter::new();
    w.raw(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{}\">",
        Service::Route53.xmlns()
    ));
    inner(&mut w);
    w.close(root);
    w.finish()
}

/// The name servers of a new zone: four of Route 53's, one per top-level domain it uses.
fn name_servers(private: bool) -> Vec<String> {
    let mut rng = rand::rng();
    let n: u32 = if private { 0 } else { rng.random_range(0..512) };
    let d: u32 = if private { 0 } else { rng.random_range(0..64) };
    vec![
        format!("ns-{n}.awsdns-{d:02}.com."),
        format!("ns-{}.awsdns-{:02}.net.", n + 512, (d + 1) % 64),
        format!("ns-{}.awsdns-{:02}.org.", n + 1024, (d + 2) % 64),
        format!("ns-{}.awsdns-{:02}.co.uk.", n + 1536, (d + 3) % 64),
    ]
}

fn create_hosted_zone(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let id = format!("Z{}", route53_id());
    call.authorize(&[zone_arn(&id)], &[])?;
    let input = xml_in::parse(&call.body)?;
    let name = str_of(&input, "Name")
        .ok_or_else(|| invalid_input("Invalid request: Missing field 'Name'"))?;
    let caller_ref = str_of(&input, "CallerReference")
        .ok_or_else(|| invalid_input("Invalid request: Missing field 'CallerReference'"))?;
    check_domain(name)?;
    let name = normalize(name);
    let vpc = input.get("VPC").filter(|v| v.is_object());
    let config = input
        .get("HostedZoneConfig")
        .cloned()
        .unwrap_or(Value::Null);
    let private = vpc.is_some();
    if !private && str_of(&config, "PrivateZone") == Some("true") {
        return Err(invalid_input("A private hosted zone needs a VPC"));
    }
    let (zone, change) = store.write(|tx| {
        let zones = tx.list(GLOBAL, ZONES)?;
        if zones.iter().any(|z| str_of(z, "CallerReference") == Some(caller_ref)) {
            return Err(ApiError::with_status("HostedZoneAlreadyExists", format!("A hosted zone has already been created with the specified caller reference: {caller_ref}"), 409));
        }
        let mut z = json!({"Id": format!("/hostedzone/{id}"), "Name": name, "CallerReference": caller_ref,
            "Config": {"PrivateZone": private}, "ResourceRecordSetCount": 2});
        if let Some(c) = str_of(&config, "Comment") {
            z["Config"]["Comment"] = json!(c);
        }
        if let Some(v) = vpc {
            let region = str_of(v, "VPCRegion").unwrap_or(&call.region).to_string();
            let vpc_id = str_of(v, "VPCId").unwrap_or_default().to_string();
            if tx.get(&region, "Vpcs", &vpc_id)?.is_none() {
                return Err(ApiError::client("InvalidVPCId", format!("The VPC ID '{vpc_id}' is not valid in region {region}")));
            }
            let clash = zones.iter().any(|o| {
                str_of(o, "Name") == Some(name.as_str())
                    && list_of(o, "VPCs").iter().any(|x| str_of(x, "VPCId") == Some(vpc_id.as_str()))
            });
            if clash {
                return Err(ApiError::client("ConflictingDomainExists", format!("A private hosted zone for {name} is already associated with VPC {vpc_id}")));
            }
            z["VPCs"] = json!([{"VPCRegion": region, "VPCId": vpc_id}]);
        } else {
            z["DelegationSet"] = json!({"NameServers": name_servers(false)});
        }
        let servers = name_servers(private);
        records::put_default_records(tx, &id, &name, &servers)?;
        tx.put(GLOBAL, ZONES, &id, &z)?;
        let change = new_change(tx, call.now, None)?;
        Ok((z, change))
    })?;
    for v in list_of(&zone, "VPCs") {
        call.changed(str_of(v, "VPCRegion").unwrap_or(&call.region));
    }
    let body = document("CreateHostedZoneResponse", |w| {
        write_zone(w, &zone);
        write_change(w, &change);
        write_delegation(w, &zone);
        if let Some(v) = list_of(&zone, "VPCs").first() {
            w.element("VPC", |w| {
                w.leaf_opt("VPCRegion", str_of(v, "VPCRegion"));
                w.leaf_opt("VPCId", str_of(v, "VPCId"));
            });
        }
    });
    Ok(Reply::XmlStatus(201, body))
}

fn get_hosted_zone(store: &Store, call: &Call, id: &str) -> Result<Reply, ApiError> {
    call.authorize(&[zone_arn(id)], &[])?;
    let z = store.read(|tx| get_zone(tx, id))?;
    Ok(Reply::Xml(document("GetHostedZoneResponse", |w| {
        write_zone(w, &z);
        write_delegation(w, &z);
        if z.get("VPCs").is_some() {
            w.element("VPCs", |w| {
                for v in list_of(&z, "VPCs") {
                    w.element("VPC", |w| {
                        w.leaf_opt("VPCRegion", str_of(v, "VPCRegion"));
                        w.leaf_opt("VPCId", str_of(v, "VPCId"));
                    });
                }
            });
        }
    })))
}

fn list_hosted_zones(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let max = match call.params.get("maxitems") {
        None => 100,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=100).contains(m))
            .ok_or_else(|| invalid_input(format!("Invalid maxitems: {m}")))?,
    };
    let marker = call.params.get("marker");
    let zones = store.read(|tx| tx.list(GLOBAL, ZONES))?;
    let start = match marker {
        None => 0,
        Some(m) => zones
            .iter()
            .position(|z| str_of(z, "Id").map(bare_id) == Some(bare_id(m)))
            .ok_or_else(|| invalid_input(format!("Invalid marker: {m}")))?,
    };
    let page = &zones[start..(start + max).min(zones.len())];
    let next = zones
        .get(start + max)
        .and_then(|z| str_of(z, "Id"))
        .map(|i| bare_id(i).to_string());
    Ok(Reply::Xml(document("ListHostedZonesResponse", |w| {
        w.element("HostedZones", |w| {
            page.iter().for_each(|z| write_zone(w, z))
        });
        w.leaf("Marker", marker.unwrap_or_default());
        w.leaf("IsTruncated", next.is_some());
        w.leaf_opt("NextMarker", next.as_deref());
        w.leaf("MaxItems", max);
    })))
}

fn delete_hosted_zone(store: &Store, call: &Call, id: &str) -> Result<Reply, ApiError> {
    call.authorize(&[zone_arn(id)], &[])?;
    let (zone, change) = store.write(|tx| {
        let z = get_zone(tx, id)?;
        let name = str_of(&z, "Name").unwrap_or_default().to_string();
        let sets = records::zone_records(tx, id)?;
        let extra = sets.iter().any(|r| !(str_of(r, "Name") == Some(name.as_str()) && matches!(str_of(r, "Type"), Some("SOA" | "NS"))));
        if extra {
            return Err(ApiError::client("HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted."));
        }
        for r in &sets {
            tx.delete(GLOBAL, RECORDS, &records::record_id(id, r))?;
        }
        tx.delete(GLOBAL, ZONES, id)?;
        Ok((z, new_change(tx, call.now, None)?))
    })?;
    for v in list_of(&zone, "VPCs") {
        call.changed(str_of(v, "VPCRegion").unwrap_or(&call.region));
    }
    Ok(Reply::Xml(document("DeleteHostedZoneResponse", |w| {
        write_change(w, &change)
    })))
}

fn get_change(store: &Store, call: &Call, id: &str) -> Result<Reply, ApiError> {
    call.authorize(&[format!("arn:aws:route53:::change/{id}")], &[])?;
    let mut c = store
        .read(|tx| tx.get(GLOBAL, CHANGES, id))?
        .ok_or_else(|| {
            ApiError::with_status(
                "NoSuchChange",
                format!("A change with the specified change ID does not exist: {id}"),
                404,
            )
        })?;
    let submitted = str_of(&c, "SubmittedAt").and_then(parse_time);
    if submitted.is_some_and(|t| call.now >= t + INSYNC_AFTER) {
        c["Status"] = json!("INSYNC");
    }
    Ok(Reply::Xml(document("GetChangeResponse", |w| {
        write_change(w, &c)
    })))
}

#[cfg(test)]
mod tests;
