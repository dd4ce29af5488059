//! Route 53: hosted zones, record sets (alone or in groups) and health checks (SPEC §21.5).

use super::*;
use crate::model::dns::{HealthCheck, HostedZone, RecordSet};
use vpcsim_dataplane::dns::normalize;

pub(super) const HOSTED_ZONE: &str = "AWS::Route53::HostedZone";
pub(super) const RECORD_SET: &str = "AWS::Route53::RecordSet";
pub(super) const RECORD_SET_GROUP: &str = "AWS::Route53::RecordSetGroup";
pub(super) const HEALTH_CHECK: &str = "AWS::Route53::HealthCheck";

/// What a Route 53 or Route 53 Resolver id names (index into the lists of [`Dns`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DnsRef {
    Zone(usize),
    Record(usize),
    HealthCheck(usize),
    Endpoint(usize),
    Rule(usize),
    DomainList(usize),
    FirewallGroup(usize),
}

impl Builder {
    /// An origin with an id in Route 53's or Route 53 Resolver's shape (`Z…`, `rslvr-rr-…`).
    pub(super) fn dns_origin(&self, t: usize, lid: &str, kind: &'static str, p: &Value) -> Origin {
        let mut o = self.origin(t, lid, kind, props::name_tag(p));
        let ti = &self.model.templates[t];
        let id = |prefix: &str| aws_id(prefix, &ti.account_id, &ti.region, &ti.stack_name, lid);
        o.id = match kind {
            HOSTED_ZONE => format!("Z{}", &id("z")[2..].to_ascii_uppercase()),
            HEALTH_CHECK => id("hc"),
            super::resolver::ENDPOINT => {
                let outbound =
                    opt_str(p, "Direction").ok().flatten().as_deref() == Some("OUTBOUND");
                id(if outbound { "rslvr-out" } else { "rslvr-in" })
            }
            super::resolver::RULE => id("rslvr-rr"),
            super::resolver::RULE_ASSOCIATION => id("rslvr-rrassoc"),
            super::resolver::DOMAIN_LIST => id("rslvr-fdl"),
            super::resolver::RULE_GROUP => id("rslvr-frg"),
            super::resolver::RULE_GROUP_ASSOCIATION => id("rslvr-frgassoc"),
            _ => o.id,
        };
        o
    }

    pub(super) fn dns_ref_value(&self, r: DnsRef) -> String {
        let d = &self.model.dns;
        match r {
            DnsRef::Zone(i) => d.zones[i].origin.id.clone(),
            // Ref of a record set is its name.
            DnsRef::Record(i) => d.records[i].name.clone(),
            DnsRef::HealthCheck(i) => d.health_checks[i].origin.id.clone(),
            DnsRef::Endpoint(i) => d.endpoints[i].origin.id.clone(),
            DnsRef::Rule(i) => d.rules[i].origin.id.clone(),
            DnsRef::DomainList(i) => d.domain_lists[i].origin.id.clone(),
            DnsRef::FirewallGroup(i) => d.firewall_groups[i].origin.id.clone(),
        }
    }

    pub(super) fn dns_attribute(&self, r: DnsRef, lid: &str, attr: &str) -> Result<Value, String> {
        let m = &self.model;
        let d = &m.dns;
        let v = match (r, attr) {
            (DnsRef::Zone(i), "Id") => json!(d.zones[i].origin.id),
            (DnsRef::Zone(i), "NameServers") => json!((0..4)
                .map(|n| format!("ns-{}.awsdns-{n:02}.com", 100 + i * 4 + n))
                .collect::<Vec<_>>()),
            (DnsRef::HealthCheck(i), "HealthCheckId") => json!(d.health_checks[i].origin.id),
            (DnsRef::Endpoint(i), "ResolverEndpointId" | "Arn") => json!(d.endpoints[i].origin.id),
            (DnsRef::Endpoint(i), "IpAddresses") => json!(d.endpoints[i]
                .enis
                .iter()
                .map(|&e| m.enis[e].private_v4.first().map(|a| a.to_string()))
                .collect::<Vec<_>>()),
            (DnsRef::Rule(i), "ResolverRuleId" | "Arn") => json!(d.rules[i].origin.id),
            (DnsRef::Rule(i), "DomainName") => json!(d.rules[i].domain),
            (DnsRef::DomainList(i), "Id" | "Arn") => json!(d.domain_lists[i].origin.id),
            (DnsRef::FirewallGroup(i), "Id" | "Arn") => json!(d.firewall_groups[i].origin.id),
            _ => return Err(format!("{lid} has no attribute {attr}")),
        };
        Ok(v)
    }

    fn dns_find(&self, key: &str, id: &str, pick: fn(DnsRef) -> Option<usize>) -> R<usize> {
        let code = "NoSuchHostedZone";
        match self.lookup(id) {
            Some(Ref::Failed) => Err(Problem::quiet()),
            Some(Ref::Dns(r)) => pick(r).ok_or_else(|| {
                Problem::new(
                    code,
                    format!("{key} {id} is not a resource of the expected type"),
                )
            }),
            _ => Err(Problem::new(
                code,
                format!("{key} {id} does not exist in the loaded topology"),
            )),
        }
    }

    pub(super) fn dns_ref(
        &self,
        key: &str,
        id: &str,
        pick: fn(DnsRef) -> Option<usize>,
    ) -> R<usize> {
        self.dns_find(key, id, pick)
    }

    pub(super) fn add_hosted_zone(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let name = normalize(&req_str(p, "Name")?);
        if name.is_empty() || name.split('.').any(str::is_empty) {
            return Err(Problem::new(
                "InvalidDomainName",
                format!("Name {name:?} is not a domain name"),
            ));
        }
        let mut vpcs = Vec::new();
        for (n, v) in opt_list(p, "VPCs")?.iter().enumerate() {
            let id = req_str(v, "VPCId").map_err(|e| prefix(e, &format!("VPCs[{n}]")))?;
            vpcs.push(self.vpc_id("VPCId", &id)?);
        }
        let origin = self.dns_origin(t, lid, HOSTED_ZONE, p);
        let id = origin.id.clone();
        let private = !vpcs.is_empty();
        self.model.dns.zones.push(HostedZone {
            origin,
            name,
            vpcs,
            private,
        });
        let z = self.model.dns.zones.len() - 1;
        self.register(t, lid, &id, Ref::Dns(DnsRef::Zone(z)));
        Ok(())
    }

    pub(super) fn add_health_check(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let config = get(p, "HealthCheckConfig").ok_or_else(|| missing("HealthCheckConfig"))?;
        let check_type = req_str(config, "Type")?;
        let inverted = opt_bool(config, "Inverted")?.unwrap_or(false);
        let origin = self.dns_origin(t, lid, HEALTH_CHECK, p);
        let id = origin.id.clone();
        self.model.dns.health_checks.push(HealthCheck {
            origin,
            check_type,
            healthy: !inverted,
        });
        let h = self.model.dns.health_checks.len() - 1;
        self.register(t, lid, &id, Ref::Dns(DnsRef::HealthCheck(h)));
        Ok(())
    }

    /// The zone a record set or group goes in: `HostedZoneId`, else `HostedZoneName`.
    fn record_zone(&self, p: &Value) -> R<usize> {
        if let Some(id) = opt_str(p, "HostedZoneId")? {
            return self.dns_ref("HostedZoneId", &id, |r| match r {
                DnsRef::Zone(z) => Some(z),
                _ => None,
            });
        }
        let name = normalize(&req_str(p, "HostedZoneName").map_err(|_| missing("HostedZoneId"))?);
        let zones = &self.model.dns.zones;
        match zones.iter().filter(|z| z.name == name).count() {
            1 => Ok(zones
                .iter()
                .position(|z| z.name == name)
                .unwrap_or_default()),
            0 => Err(Problem::new(
                "NoSuchHostedZone",
                format!("HostedZoneName {name:?}: no hosted zone of that name is loaded"),
            )),
            _ => Err(Problem::new(
                "InvalidInput",
                format!("HostedZoneName {name:?} names several zones: use HostedZoneId"),
            )),
        }
    }

    /// The zone of a record set or group; a zone the loaded templates do not define (one that
    /// exists in the account, given as a parameter) keeps the resource with a warning.
    fn loaded_zone(
        &mut self,
        t: usize,
        lid: &str,
        kind: &'static str,
        p: &Value,
    ) -> R<Option<usize>> {
        match self.record_zone(p) {
            Ok(z) => Ok(Some(z)),
            Err(e) if e.code == "NoSuchHostedZone" && !e.quiet => {
                self.diag(
                    Severity::Warning,
                    t,
                    lid,
                    "HostedZoneNotLoaded",
                    format!(
                        "{}: the records are kept but no resolver answers them",
                        e.message
                    ),
                );
                self.link(t, lid, kind, p);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub(super) fn add_record_set(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let Some(zone) = self.loaded_zone(t, lid, RECORD_SET, p)? else {
            return Ok(());
        };
        let origin = self.dns_origin(t, lid, RECORD_SET, p);
        let r = self.record_set(origin, zone, p)?;
        let id = r.origin.id.clone();
        self.model.dns.records.push(r);
        let i = self.model.dns.records.len() - 1;
        self.register(t, lid, &id, Ref::Dns(DnsRef::Record(i)));
        Ok(())
    }

    pub(super) fn add_record_set_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let Some(zone) = self.loaded_zone(t, lid, RECORD_SET_GROUP, p)? else {
            return Ok(());
        };
        let origin = self.dns_origin(t, lid, RECORD_SET_GROUP, p);
        let mut sets = Vec::new();
        for (n, entry) in opt_list(p, "RecordSets")?.iter().enumerate() {
            let r = self
                .record_set(origin.clone(), zone, entry)
                .map_err(|e| prefix(e, &format!("RecordSets[{n}]")))?;
            sets.push(r);
        }
        let id = origin.id.clone();
        let first = self.model.dns.records.len();
        self.model.dns.records.extend(sets);
        self.register(t, lid, &id, Ref::Dns(DnsRef::Record(first)));
        Ok(())
    }

    /// One record set's properties, checked as Route 53 checks a change batch.
    fn record_set(&self, origin: Origin, zone: usize, p: &Value) -> R<RecordSet> {
        let zone_name = &self.model.dns.zones[zone].name;
        let health_check = |id: &str| {
            self.dns_ref("HealthCheckId", id, |r| match r {
                DnsRef::HealthCheck(h) => Some(h),
                _ => None,
            })
        };
        crate::route53_records::record_set(origin, zone, zone_name, p, &health_check)
    }

    /// Private zones answer only VPCs with both DNS attributes on (SPEC §21.2).
    pub(super) fn validate_dns(&self, warnings: &mut Findings) {
        let m = &self.model;
        for z in &m.dns.zones {
            for &v in &z.vpcs {
                let vpc = &m.vpcs[v];
                if !(vpc.enable_dns_support && vpc.enable_dns_hostnames) {
                    warnings.push((
                        z.origin.clone(),
                        "PrivateZoneNeedsDnsAttributes",
                        format!(
                            "private zone {} is associated with {}, whose EnableDnsSupport or EnableDnsHostnames is false: its resolver does not answer from the zone",
                            z.name, vpc.origin.logical_id
                        ),
                    ));
                }
            }
        }
    }
}
