//! Route 53 record sets, read from the shape CloudFormation's `AWS::Route53::RecordSet` and the
//! API's `list-resource-record-sets` share, so templates and snapshots check them alike.

use crate::model::dns::{AliasTarget, RData, RecordSet, RecordType};
use crate::model::Origin;
use crate::props::{
    self, get, invalid, missing, opt_bool, opt_int, opt_list, opt_str, req_str, Problem, R,
};
use serde_json::Value;
use vpcsim_dataplane::dns::{normalize, Routing};

/// Route 53's error for a change it refuses.
fn change_batch(message: String) -> Problem {
    Problem::new("InvalidChangeBatch", message)
}

/// One record set, checked as Route 53 checks a change batch: CloudFormation's properties or an
/// entry of `list-resource-record-sets` (whose `ResourceRecords` are `{Value}` objects) in zone
/// `zone` named `zone_name`; `health_check` resolves a `HealthCheckId`.
pub(crate) fn record_set(
    origin: Origin,
    zone: usize,
    zone_name: &str,
    p: &Value,
    health_check: &dyn Fn(&str) -> R<usize>,
) -> R<RecordSet> {
    let name = normalize(&req_str(p, "Name")?);
    if !vpcsim_dataplane::dns::in_domain(&name, zone_name) {
        return Err(change_batch(format!(
            "RRSet with DNS name {name}. is not permitted in zone {}.",
            zone_name
        )));
    }
    let type_s = req_str(p, "Type")?;
    let rtype = RecordType::parse(&type_s)
        .filter(|t| !matches!(t, RecordType::Soa))
        .ok_or_else(|| {
            Problem::new(
                "UnsupportedRecordType",
                format!("Type {type_s}: vpcsim answers A, AAAA, CNAME, MX, TXT, SRV, PTR and NS records"),
            )
        })?;
    if rtype == RecordType::Cname && name == zone_name {
        return Err(change_batch(format!(
            "RRSet of type CNAME with DNS name {name}. is not permitted at apex in zone {}.",
            zone_name
        )));
    }
    let ttl = match opt_int(p, "TTL")? {
        Some(n) if (0..=2_147_483_647).contains(&n) => Some(n as u32),
        Some(n) => return Err(invalid("TTL", format!("{n} is not 0-2147483647"))),
        None => None,
    };
    let mut values = Vec::new();
    for (n, v) in opt_list(p, "ResourceRecords")?.iter().enumerate() {
        let s = props::scalar_string(v)
            .or_else(|| v.get("Value").and_then(props::scalar_string))
            .unwrap_or_default();
        values.push(
            RData::parse(rtype, &s)
                .map_err(|e| change_batch(format!("ResourceRecords[{n}]: {e}")))?,
        );
    }
    let alias = match get(p, "AliasTarget") {
        Some(a) => Some(AliasTarget {
            dns_name: normalize(&req_str(a, "DNSName")?),
            hosted_zone_id: req_str(a, "HostedZoneId")?,
            evaluate_target_health: opt_bool(a, "EvaluateTargetHealth")?.unwrap_or(false),
        }),
        None => None,
    };
    match (&alias, values.is_empty(), ttl) {
        (Some(_), true, None) => {}
        (Some(_), _, _) => {
            return Err(change_batch(
                "an alias record has neither ResourceRecords nor TTL".into(),
            ))
        }
        (None, false, Some(_)) => {}
        (None, true, _) => return Err(change_batch("ResourceRecords is empty".into())),
        (None, false, None) => return Err(missing("TTL")),
    }
    let routing = routing(p, &alias, values.len())?;
    let set_identifier = opt_str(p, "SetIdentifier")?;
    if routing != Routing::Simple && set_identifier.is_none() {
        return Err(change_batch(
            "weighted, failover and multivalue records need a SetIdentifier".into(),
        ));
    }
    let health_check = match opt_str(p, "HealthCheckId")? {
        Some(id) => Some(health_check(&id)?),
        None => None,
    };
    Ok(RecordSet {
        origin,
        zone,
        name,
        rtype,
        set_identifier,
        routing,
        ttl,
        values,
        alias,
        health_check,
    })
}

fn routing(p: &Value, alias: &Option<AliasTarget>, values: usize) -> R<Routing> {
    let weight = opt_int(p, "Weight")?;
    let failover = opt_str(p, "Failover")?;
    let multivalue = opt_bool(p, "MultiValueAnswer")?.unwrap_or(false);
    Ok(match (weight, failover.as_deref(), multivalue) {
        (None, None, false) => Routing::Simple,
        (Some(w), None, false) => {
            let w = u8::try_from(w).map_err(|_| invalid("Weight", format!("{w} is not 0-255")))?;
            if values > 1 {
                return Err(change_batch(
                    "a weighted record has one value; use one record set per value".into(),
                ));
            }
            Routing::Weighted(w)
        }
        (None, Some("PRIMARY"), false) => Routing::Failover(true),
        (None, Some("SECONDARY"), false) => Routing::Failover(false),
        (None, Some(other), false) => {
            return Err(invalid(
                "Failover",
                format!("{other:?} is neither PRIMARY nor SECONDARY"),
            ))
        }
        (None, None, true) if alias.is_some() => {
            return Err(change_batch(
                "a multivalue answer record cannot be an alias".into(),
            ))
        }
        (None, None, true) => Routing::Multivalue,
        _ => {
            return Err(change_batch(
                "Weight, Failover and MultiValueAnswer exclude each other".into(),
            ))
        }
    })
}
