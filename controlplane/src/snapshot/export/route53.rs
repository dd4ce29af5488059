//! Route 53 (`aws route53 list-hosted-zones`, `get-hosted-zone` per zone, `list-resource-record-
//! sets` per zone wrapped with its `HostedZoneId`, `list-health-checks`) and the VPC DNS
//! attributes private zones and EC2 names depend on (`aws ec2 describe-vpc-attribute`); Route 53
//! Resolver endpoints, their addresses, rules and rule associations, and DNS Firewall domain
//! lists, rule groups, rules and associations (`aws route53resolver`).

use super::{ExportFile, Exporter};
use crate::model::dns::{
    BlockResponse, FirewallAction, HostedZone, RecordSet, ResolverRuleKind, Routing,
};
use crate::model::Origin;
use serde_json::{json, Value};

/// A name as Route 53 prints it: fully qualified, a leading `*` as `\052`.
fn fqdn(name: &str) -> String {
    match name.strip_prefix('*') {
        Some(rest) => format!("\\052{rest}."),
        None => format!("{name}."),
    }
}

/// A domain of a DNS Firewall list as the API prints it (`*` alone stays as it is).
fn fqdn_plain(name: &str) -> String {
    if name == "*" {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

impl Exporter<'_> {
    /// Every Route 53 file, in the order `export` writes them.
    pub(super) fn route53(&self, add: &mut impl FnMut(&str, Vec<Value>)) {
        let m = self.m;
        let d = &m.dns;
        add(
            "VpcAttributes",
            m.vpcs
                .iter()
                .flat_map(|v| {
                    [
                        json!({"VpcId": v.origin.id, "EnableDnsSupport": {"Value": v.enable_dns_support}}),
                        json!({"VpcId": v.origin.id, "EnableDnsHostnames": {"Value": v.enable_dns_hostnames}}),
                    ]
                })
                .collect(),
        );
        add(
            "HostedZones",
            d.zones
                .iter()
                .enumerate()
                .map(|(i, z)| self.hosted_zone(i, z))
                .collect(),
        );
        add(
            "HealthChecks",
            d.health_checks
                .iter()
                .map(|h| {
                    json!({"Id": h.origin.id, "CallerReference": h.origin.logical_id,
                        "HealthCheckConfig": {"Type": h.check_type, "Inverted": !h.healthy},
                        "HealthCheckVersion": 1})
                })
                .collect(),
        );
        add(
            "HostedZoneRecordSets",
            d.zones
                .iter()
                .enumerate()
                .map(|(i, z)| {
                    let sets: Vec<Value> = d
                        .records
                        .iter()
                        .filter(|r| r.zone == i)
                        .map(|r| self.record_set(r))
                        .collect();
                    json!({"HostedZoneId": z.origin.id, "ResourceRecordSets": sets})
                })
                .collect(),
        );
    }

    /// Route 53 Resolver: endpoints with their addresses, rules and rule associations.
    pub(super) fn resolver(&self, add: &mut impl FnMut(&str, Vec<Value>)) {
        let m = self.m;
        let d = &m.dns;
        let arn = |o: &Origin, kind: &str| self.resolver_arn(o, kind);
        add(
            "ResolverEndpoints",
            d.endpoints
                .iter()
                .map(|e| {
                    let groups: Vec<&str> = e
                        .enis
                        .first()
                        .map(|&x| m.enis[x].security_groups.as_slice())
                        .unwrap_or(&[])
                        .iter()
                        .map(|&g| m.security_groups[g].origin.id.as_str())
                        .collect();
                    json!({"Id": e.origin.id, "Arn": arn(&e.origin, "resolver-endpoint"),
                        "Name": e.origin.name.clone().unwrap_or_default(),
                        "CreatorRequestId": e.origin.logical_id,
                        "SecurityGroupIds": groups,
                        "Direction": if e.outbound { "OUTBOUND" } else { "INBOUND" },
                        "IpAddressCount": e.enis.len(), "HostVPCId": m.vpcs[e.vpc].origin.id,
                        "Status": "OPERATIONAL"})
                })
                .collect(),
        );
        add(
            "ResolverEndpointIpAddresses",
            d.endpoints
                .iter()
                .map(|e| {
                    let ips: Vec<Value> = e
                        .enis
                        .iter()
                        .map(|&x| {
                            let eni = &m.enis[x];
                            json!({"IpId": super::derived("rni", &eni.origin.id),
                                "SubnetId": m.subnets[eni.subnet].origin.id,
                                "Ip": eni.private_v4.first().map(|a| a.to_string()),
                                "Status": "ATTACHED"})
                        })
                        .collect();
                    json!({"ResolverEndpointId": e.origin.id, "IpAddresses": ips})
                })
                .collect(),
        );
        add(
            "ResolverRules",
            d.rules
                .iter()
                .map(|r| {
                    let mut out = json!({"Id": r.origin.id, "Arn": arn(&r.origin, "resolver-rule"),
                        "CreatorRequestId": r.origin.logical_id,
                        "DomainName": fqdn(&r.domain),
                        "Name": r.origin.name.clone().unwrap_or_default(),
                        "OwnerId": self.account(&r.origin), "ShareStatus": "NOT_SHARED",
                        "Status": "COMPLETE"});
                    match &r.kind {
                        ResolverRuleKind::System => out["RuleType"] = json!("SYSTEM"),
                        ResolverRuleKind::Forward { targets, endpoint } => {
                            out["RuleType"] = json!("FORWARD");
                            out["TargetIps"] = json!(targets
                                .iter()
                                .map(|(ip, port)| json!({"Ip": ip.to_string(), "Port": port}))
                                .collect::<Vec<_>>());
                            if let Some(e) = endpoint {
                                out["ResolverEndpointId"] = json!(d.endpoints[*e].origin.id);
                            }
                        }
                    }
                    out
                })
                .collect(),
        );
        add(
            "ResolverRuleAssociations",
            d.rules
                .iter()
                .flat_map(|r| {
                    r.vpcs.iter().map(move |&v| {
                        let vpc = &m.vpcs[v].origin.id;
                        json!({"Id": super::derived("rslvr-rrassoc", &format!("{}{vpc}", r.origin.id)),
                            "ResolverRuleId": r.origin.id, "VPCId": vpc, "Status": "COMPLETE",
                            "Name": ""})
                    })
                })
                .collect(),
        );
    }

    /// DNS Firewall: domain lists with their domains, rule groups, their rules and associations.
    pub(super) fn dns_firewall(&self, add: &mut impl FnMut(&str, Vec<Value>)) {
        let m = self.m;
        let d = &m.dns;
        add(
            "FirewallDomainLists",
            d.domain_lists
                .iter()
                .map(|l| {
                    json!({"Id": l.origin.id, "Arn": self.resolver_arn(&l.origin, "firewall-domain-list"),
                        "Name": l.origin.name.clone().unwrap_or_default(),
                        "CreatorRequestId": l.origin.logical_id})
                })
                .collect(),
        );
        add(
            "FirewallDomainListDomains",
            d.domain_lists
                .iter()
                .map(|l| {
                    let domains: Vec<String> = l.domains.iter().map(|n| fqdn_plain(n)).collect();
                    json!({"FirewallDomainListId": l.origin.id, "Domains": domains})
                })
                .collect(),
        );
        add(
            "FirewallRuleGroups",
            d.firewall_groups
                .iter()
                .map(|g| {
                    json!({"Id": g.origin.id, "Arn": self.resolver_arn(&g.origin, "firewall-rule-group"),
                        "Name": g.origin.name.clone().unwrap_or_default(),
                        "OwnerId": self.account(&g.origin), "CreatorRequestId": g.origin.logical_id,
                        "ShareStatus": "NOT_SHARED"})
                })
                .collect(),
        );
        add(
            "FirewallRules",
            d.firewall_groups
                .iter()
                .flat_map(|g| {
                    g.rules.iter().map(move |r| {
                        let mut out = json!({"FirewallRuleGroupId": g.origin.id,
                            "FirewallDomainListId": d.domain_lists[r.domain_list].origin.id,
                            "Name": format!("rule-{}", r.priority),
                            "Priority": r.priority, "Action": r.action.as_str()});
                        if let FirewallAction::Block(b) = &r.action {
                            match b {
                                BlockResponse::Nodata => out["BlockResponse"] = json!("NODATA"),
                                BlockResponse::Nxdomain => out["BlockResponse"] = json!("NXDOMAIN"),
                                BlockResponse::Override { domain, ttl } => {
                                    out["BlockResponse"] = json!("OVERRIDE");
                                    out["BlockOverrideDomain"] = json!(fqdn(domain));
                                    out["BlockOverrideDnsType"] = json!("CNAME");
                                    out["BlockOverrideTtl"] = json!(ttl);
                                }
                            }
                        }
                        out
                    })
                })
                .collect(),
        );
        add(
            "FirewallRuleGroupAssociations",
            d.firewall_groups
                .iter()
                .flat_map(|g| {
                    g.vpcs.iter().map(move |&(v, priority)| {
                        let vpc = &m.vpcs[v].origin.id;
                        json!({"Id": super::derived("rslvr-frgassoc", &format!("{}{vpc}", g.origin.id)),
                            "FirewallRuleGroupId": g.origin.id, "VpcId": vpc, "Priority": priority,
                            "MutationProtection": "DISABLED", "Status": "COMPLETE", "Name": ""})
                    })
                })
                .collect(),
        );
    }

    fn resolver_arn(&self, o: &Origin, kind: &str) -> String {
        let (region, account) = self
            .m
            .templates
            .get(o.template)
            .map(|t| (t.region.as_str(), t.account_id.as_str()))
            .unwrap_or_default();
        format!("arn:aws:route53resolver:{region}:{account}:{kind}/{}", o.id)
    }

    /// `get-hosted-zone` of each zone: the zone with the VPCs a private zone is associated with
    /// (`list-hosted-zones` does not print them).
    pub(super) fn hosted_zone_files(&self) -> Vec<ExportFile> {
        let m = self.m;
        m.dns
            .zones
            .iter()
            .enumerate()
            .map(|(i, z)| {
                let region = |v: usize| {
                    m.templates
                        .get(m.vpcs[v].origin.template)
                        .map(|t| t.region.clone())
                        .unwrap_or_default()
                };
                let vpcs: Vec<Value> = z
                    .vpcs
                    .iter()
                    .map(|&v| json!({"VPCRegion": region(v), "VPCId": m.vpcs[v].origin.id}))
                    .collect();
                let mut out = json!({"HostedZone": self.hosted_zone(i, z)});
                if z.private {
                    out["VPCs"] = json!(vpcs);
                }
                ExportFile {
                    name: format!("HostedZone-{}.json", z.origin.id),
                    json: out,
                }
            })
            .collect()
    }

    fn hosted_zone(&self, i: usize, z: &HostedZone) -> Value {
        let count = self.m.dns.records.iter().filter(|r| r.zone == i).count();
        json!({
            "Id": format!("/hostedzone/{}", z.origin.id),
            "Name": fqdn(&z.name),
            "CallerReference": z.origin.logical_id,
            "Config": {"PrivateZone": z.private},
            // The apex SOA and NS records Route 53 adds, and the zone's own.
            "ResourceRecordSetCount": count + 2,
        })
    }

    fn record_set(&self, r: &RecordSet) -> Value {
        let mut out = json!({"Name": fqdn(&r.name), "Type": r.rtype.as_str()});
        if let Some(ttl) = r.ttl {
            out["TTL"] = json!(ttl);
        }
        if !r.values.is_empty() {
            out["ResourceRecords"] = json!(r
                .values
                .iter()
                .map(|v| json!({"Value": v.to_text()}))
                .collect::<Vec<_>>());
        }
        if let Some(a) = &r.alias {
            out["AliasTarget"] = json!({"HostedZoneId": a.hosted_zone_id,
                "DNSName": fqdn(&a.dns_name), "EvaluateTargetHealth": a.evaluate_target_health});
        }
        if let Some(s) = &r.set_identifier {
            out["SetIdentifier"] = json!(s);
        }
        match r.routing {
            Routing::Simple => {}
            Routing::Weighted(w) => out["Weight"] = json!(w),
            Routing::Failover(primary) => {
                out["Failover"] = json!(if primary { "PRIMARY" } else { "SECONDARY" })
            }
            Routing::Multivalue => out["MultiValueAnswer"] = json!(true),
        }
        if let Some(h) = r.health_check {
            out["HealthCheckId"] = json!(self.m.dns.health_checks[h].origin.id);
        }
        out
    }
}
