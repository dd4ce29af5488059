//! Route 53 record sets and Route 53 Resolver DNS Firewall rules and domains, read from the
//! shapes CloudFormation and the API (`list-resource-record-sets`, `list-firewall-rules`,
//! `list-firewall-domains`) share, so templates and snapshots check them alike.

use crate::model::dns::{
    AliasTarget, BlockResponse, FirewallAction, FirewallRule, RData, RecordSet, RecordType,
};
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

/// A DNS Firewall rule: an entry of CloudFormation's `FirewallRules` or of the API's
/// `list-firewall-rules`; `domain_list` resolves a `FirewallDomainListId`.
pub(crate) fn dns_firewall_rule(
    r: &Value,
    domain_list: &dyn Fn(&str) -> R<usize>,
) -> R<FirewallRule> {
    let priority = u32::try_from(opt_int(r, "Priority")?.ok_or_else(|| missing("Priority"))?)
        .map_err(|_| invalid("Priority", "not a positive number"))?;
    let list_id = req_str(r, "FirewallDomainListId")?;
    let domain_list = domain_list(&list_id)?;
    let action = match req_str(r, "Action")?.as_str() {
        "ALLOW" => FirewallAction::Allow,
        "ALERT" => FirewallAction::Alert,
        "BLOCK" => FirewallAction::Block(match req_str(r, "BlockResponse")?.as_str() {
            "NODATA" => BlockResponse::Nodata,
            "NXDOMAIN" => BlockResponse::Nxdomain,
            "OVERRIDE" => {
                let ttl = opt_int(r, "BlockOverrideTtl")?.unwrap_or(0);
                BlockResponse::Override {
                    domain: normalize(&req_str(r, "BlockOverrideDomain")?),
                    ttl: u32::try_from(ttl)
                        .ok()
                        .filter(|t| *t <= 604_800)
                        .ok_or_else(|| invalid("BlockOverrideTtl", "not 0-604800"))?,
                }
            }
            other => {
                return Err(Problem::new(
                    "ValidationException",
                    format!("BlockResponse {other:?} is not NODATA, NXDOMAIN or OVERRIDE"),
                ))
            }
        }),
        other => {
            return Err(Problem::new(
                "ValidationException",
                format!("Action {other:?} is not ALLOW, ALERT or BLOCK"),
            ))
        }
    };
    Ok(FirewallRule {
        priority,
        domain_list,
        action,
    })
}

/// A DNS Firewall domain list's `Domains`, normalized, checked as Route 53 Resolver checks them.
pub(crate) fn firewall_domains(list: &[String]) -> R<Vec<String>> {
    let mut domains = Vec::new();
    for d in list {
        let n = normalize(d);
        let body = n.strip_prefix("*.").unwrap_or(&n);
        let ok = n == "*"
            || (!body.is_empty()
                && body.split('.').all(|l| {
                    !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }));
        if !ok {
            return Err(Problem::new(
                "ValidationException",
                format!("Domains: {d:?} is not a domain (labels of A-Z a-z 0-9 -, an optional leading *.)"),
            ));
        }
        domains.push(n);
    }
    Ok(domains)
}
