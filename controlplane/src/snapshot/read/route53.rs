//! Route 53 from `aws route53` output: hosted zones (`list-hosted-zones`, and `get-hosted-zone`
//! whose `VPCs` say which VPCs a private zone answers), record sets (`list-resource-record-sets`,
//! per zone, wrapped with its `HostedZoneId`), health checks (`list-health-checks`), and the VPC
//! DNS attributes private zones depend on (`aws ec2 describe-vpc-attribute`, per VPC and
//! attribute).

use super::{list, s, Item, Items, Reader, Ref};
use crate::model::dns::{HealthCheck, HostedZone};
use crate::model::*;
use crate::props::{Problem, R};
use serde_json::{Map, Value};
use vpcsim_dataplane::dns::normalize;

const HOSTED_ZONE: &str = "AWS::Route53::HostedZone";
const RECORD_SET: &str = "AWS::Route53::RecordSet";
const HEALTH_CHECK: &str = "AWS::Route53::HealthCheck";

/// A file holding one call's output about one resource: `get-hosted-zone`, one zone's
/// `list-resource-record-sets` wrapped with its `HostedZoneId`, one endpoint's
/// `list-resolver-endpoint-ip-addresses` wrapped with its `ResolverEndpointId`, one
/// `describe-vpc-attribute`.
/// Any other map is given back.
pub(super) fn take_call(
    file: usize,
    map: Map<String, Value>,
    items: &mut Items,
) -> Result<(), Map<String, Value>> {
    let target = if map.contains_key("HostedZone") {
        &mut items.hosted_zones
    } else if map.contains_key("ResourceRecordSets") && map.contains_key("HostedZoneId") {
        &mut items.record_sets
    } else if map.contains_key("IpAddresses") && map.contains_key("ResolverEndpointId") {
        &mut items.resolver_ip_addresses
    } else if map.contains_key("Domains") && map.contains_key("FirewallDomainListId") {
        &mut items.firewall_domains
    } else if map.contains_key("VpcId")
        && (map.contains_key("EnableDnsSupport") || map.contains_key("EnableDnsHostnames"))
    {
        &mut items.vpc_attributes
    } else {
        return Err(map);
    };
    target.push(Item {
        file,
        v: Value::Object(map),
    });
    Ok(())
}

/// `Z123` from `/hostedzone/Z123` (the API prints the path form, templates the bare id).
fn zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// A name as the API prints it (`\052` for a leading `*`, other octal escapes) made plain.
fn unescape(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

impl Reader {
    /// Zones from `list-hosted-zones` entries and `get-hosted-zone` files; a zone described by
    /// both takes its VPCs from `get-hosted-zone`.
    fn add_hosted_zones(&mut self, items: &Items) {
        let mut zones: Vec<(Item, Option<Vec<String>>)> = Vec::new();
        for it in &items.hosted_zones {
            let (zone, vpcs) = match it.v.get("HostedZone") {
                Some(z) => {
                    let vpcs = list(&it.v, "VPCs")
                        .iter()
                        .filter_map(|v| s(v, "VPCId").map(str::to_string))
                        .collect();
                    (z.clone(), Some(vpcs))
                }
                None => (it.v.clone(), None),
            };
            let id = s(&zone, "Id").map(zone_id).unwrap_or_default().to_string();
            match zones
                .iter_mut()
                .find(|(z, _)| s(&z.v, "Id").map(zone_id) == Some(id.as_str()))
            {
                Some(known) if known.1.is_none() => known.1 = vpcs,
                Some(_) if vpcs.is_none() => {}
                _ => zones.push((
                    Item {
                        file: it.file,
                        v: zone,
                    },
                    vpcs,
                )),
            }
        }
        for (it, vpcs) in zones {
            self.add_hosted_zone(&it, vpcs);
        }
    }

    fn add_hosted_zone(&mut self, it: &Item, vpc_ids: Option<Vec<String>>) {
        let id = s(&it.v, "Id").map(zone_id).map(str::to_string);
        let Some(origin) = self.origin(it, id.as_deref(), HOSTED_ZONE, "Id") else {
            return;
        };
        let id = origin.id.clone();
        let name = normalize(s(&it.v, "Name").unwrap_or_default());
        let private =
            it.v.get("Config")
                .and_then(|c| c.get("PrivateZone"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let mut vpcs = Vec::new();
        if private && vpc_ids.is_none() {
            self.warn(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                format!("private zone {name} without its VPCs (list-hosted-zones does not print them; add `aws route53 get-hosted-zone --id {id}` output): no VPC's resolver answers from it"),
            );
        }
        for v in vpc_ids.unwrap_or_default() {
            if let Some(Ref::Vpc(x)) = self.resolve(it, &id, "VPCs.VPCId", &v) {
                vpcs.push(x);
            }
        }
        let z = self.model.dns.zones.len();
        self.model.dns.zones.push(HostedZone {
            origin,
            name,
            vpcs,
            private,
        });
        self.by_id.insert(id, Ref::HostedZone(z));
    }

    fn add_health_check(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, HEALTH_CHECK, "Id") else {
            return;
        };
        let config = it.v.get("HealthCheckConfig").unwrap_or(&Value::Null);
        let inverted = config.get("Inverted").and_then(Value::as_bool) == Some(true);
        let id = origin.id.clone();
        let h = self.model.dns.health_checks.len();
        self.model.dns.health_checks.push(HealthCheck {
            origin,
            check_type: s(config, "Type").unwrap_or("HTTP").to_string(),
            healthy: !inverted,
        });
        self.by_id.insert(id, Ref::HealthCheck(h));
    }

    /// One zone's `list-resource-record-sets`, wrapped with its `HostedZoneId`.
    fn add_record_sets(&mut self, it: &Item) {
        let zid = zone_id(s(&it.v, "HostedZoneId").unwrap_or_default()).to_string();
        let Some(Ref::HostedZone(zone)) = self.resolve(it, &zid, "HostedZoneId", &zid) else {
            return;
        };
        let zone_name = self.model.dns.zones[zone].name.clone();
        for r in list(&it.v, "ResourceRecordSets") {
            let rtype = s(r, "Type").unwrap_or_default();
            let name = normalize(&unescape(s(r, "Name").unwrap_or_default()));
            // Route 53 creates the apex SOA and NS records; the resolver answers them itself.
            if rtype == "SOA" || (rtype == "NS" && name == zone_name) {
                continue;
            }
            let mut entry = r.clone();
            entry["Name"] = Value::String(name.clone());
            let id = match s(r, "SetIdentifier") {
                Some(set) => format!("{zid}/{name}/{rtype}/{set}"),
                None => format!("{zid}/{name}/{rtype}"),
            };
            let origin = Origin {
                template: it.file,
                logical_id: id.clone(),
                id: id.clone(),
                name: None,
                kind: RECORD_SET.into(),
            };
            let by_id = &self.by_id;
            let skipped = &self.skipped;
            let health_check = |h: &str| -> R<usize> {
                match by_id.get(h) {
                    Some(Ref::HealthCheck(i)) => Ok(*i),
                    _ if skipped.contains(h) => Err(Problem::quiet()),
                    _ => Err(Problem::new(
                        "UnresolvedReference",
                        format!("HealthCheckId {h} is not in the snapshot (list-health-checks): the record set is left out"),
                    )),
                }
            };
            match crate::route53_records::record_set(
                origin,
                zone,
                &zone_name,
                &entry,
                &health_check,
            ) {
                Ok(rs) => self.model.dns.records.push(rs),
                Err(p) if p.quiet => {}
                Err(p) if p.code == "UnresolvedReference" => {
                    self.warn(it.file, &id, p.code, p.message)
                }
                Err(p) => self.error(it.file, &id, p.code, p.message),
            }
        }
    }

    /// `describe-vpc-attribute` outputs: `EnableDnsSupport` / `EnableDnsHostnames` `{Value}`.
    fn add_vpc_attributes(&mut self, it: &Item) {
        let id = s(&it.v, "VpcId").unwrap_or_default();
        let Some(Ref::Vpc(v)) = self.resolve(it, id, "VpcId", id) else {
            return;
        };
        let value = |key: &str| {
            it.v.get(key)
                .and_then(|a| a.get("Value"))
                .and_then(Value::as_bool)
        };
        if let Some(on) = value("EnableDnsSupport") {
            self.model.vpcs[v].enable_dns_support = on;
        }
        if let Some(on) = value("EnableDnsHostnames") {
            self.model.vpcs[v].enable_dns_hostnames = on;
        }
    }

    /// VPC attributes, health checks, zones, then their record sets.
    pub(super) fn add_route53(&mut self, items: &Items) {
        for it in &items.vpc_attributes {
            self.add_vpc_attributes(it);
        }
        for it in &items.health_checks {
            self.add_health_check(it);
        }
        self.add_hosted_zones(items);
        for it in &items.record_sets {
            self.add_record_sets(it);
        }
    }
}
