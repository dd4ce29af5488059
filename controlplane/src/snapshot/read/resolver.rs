//! Route 53 Resolver from `aws route53resolver` output: endpoints (`list-resolver-endpoints`)
//! with their addresses (`list-resolver-endpoint-ip-addresses`, per endpoint, wrapped with its
//! `ResolverEndpointId`), rules (`list-resolver-rules`) and rule associations
//! (`list-resolver-rule-associations`), and DNS Firewall: domain lists
//! (`list-firewall-domain-lists`) with their domains (`list-firewall-domains`, per list, wrapped
//! with its `FirewallDomainListId`), rule groups (`list-firewall-rule-groups`) with their rules
//! (`list-firewall-rules`, whose entries name their group) and associations
//! (`list-firewall-rule-group-associations`). An endpoint's interfaces are those of
//! describe-network-interfaces that hold its addresses.

use super::{int, list, s, Item, Items, Reader, Ref};
use crate::model::dns::{
    FirewallDomainList, FirewallRule, FirewallRuleGroup, ResolverEndpoint, ResolverRule,
    ResolverRuleKind,
};
use crate::model::*;
use crate::props::{Problem, R};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use vpcsim_dataplane::dns::normalize;

const ENDPOINT: &str = "AWS::Route53Resolver::ResolverEndpoint";
const RULE: &str = "AWS::Route53Resolver::ResolverRule";
const DOMAIN_LIST: &str = "AWS::Route53Resolver::FirewallDomainList";
const FIREWALL_GROUP: &str = "AWS::Route53Resolver::FirewallRuleGroup";

impl Reader {
    fn add_resolver_endpoint(&mut self, it: &Item, addresses: &HashMap<String, Vec<Value>>) {
        let Some(mut origin) = self.origin_of(it, ENDPOINT, "Id") else {
            return;
        };
        let id = origin.id.clone();
        if origin.name.is_none() {
            origin.name = s(&it.v, "Name")
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        let outbound = s(&it.v, "Direction") == Some("OUTBOUND");
        let Some(vpc_id) = s(&it.v, "HostVPCId") else {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "no HostVPCId".into(),
            );
            return;
        };
        let Some(Ref::Vpc(vpc)) = self.parent(it, &id, "HostVPCId", vpc_id) else {
            return;
        };
        let mut groups = Vec::new();
        for g in list(&it.v, "SecurityGroupIds")
            .iter()
            .filter_map(Value::as_str)
        {
            if let Some(Ref::Sg(g)) = self.resolve(it, &id, "SecurityGroupIds", g) {
                groups.push(g);
            }
        }
        let e = self.model.dns.endpoints.len();
        let ips = addresses.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        if ips.is_empty() {
            self.warn(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                format!("no addresses (add `aws route53resolver list-resolver-endpoint-ip-addresses --resolver-endpoint-id {id}` output): the endpoint sends and receives nothing"),
            );
        }
        let mut enis = Vec::new();
        for a in ips {
            let (Some(sub_id), Some(ip)) = (
                s(a, "SubnetId"),
                s(a, "Ip").and_then(|i| i.parse::<Ipv4Addr>().ok()),
            ) else {
                continue;
            };
            let Some(Ref::Subnet(subnet)) = self.resolve(it, &id, "IpAddresses.SubnetId", sub_id)
            else {
                continue;
            };
            if let Some(x) = self.endpoint_interface(it, &id, e, subnet, ip, &groups) {
                enis.push(x);
            }
        }
        self.model.dns.endpoints.push(ResolverEndpoint {
            origin,
            outbound,
            vpc,
            enis,
        });
        self.by_id.insert(id, Ref::ResolverEndpoint(e));
    }

    /// The interface holding `ip` (from describe-network-interfaces), made the endpoint's; one
    /// is created when the snapshot has none.
    fn endpoint_interface(
        &mut self,
        it: &Item,
        id: &str,
        e: usize,
        subnet: usize,
        ip: Ipv4Addr,
        groups: &[usize],
    ) -> Option<usize> {
        let vpc = self.model.subnets[subnet].vpc;
        let holder = self.used_v4.get(&(vpc, ip)).cloned();
        if let Some(Some(Ref::Eni(x))) = holder.as_ref().map(|h| self.by_id.get(h).copied()) {
            if self.model.enis[x].owner == EniOwner::Standalone {
                self.model.enis[x].owner = EniOwner::ResolverEndpoint(e);
                return Some(x);
            }
        }
        if !self.check_v4(it, id, subnet, ip) {
            return None;
        }
        let eni_id = format!("{id}.{ip}");
        self.model.enis.push(NetworkInterface {
            origin: Origin {
                template: it.file,
                logical_id: eni_id.clone(),
                id: eni_id,
                name: None,
                kind: "AWS::EC2::NetworkInterface".into(),
            },
            owner: EniOwner::ResolverEndpoint(e),
            subnet,
            private_v4: vec![ip],
            ipv6: vec![],
            security_groups: groups.to_vec(),
            source_dest_check: true,
            auto_public_ip: None,
        });
        Some(self.model.enis.len() - 1)
    }

    fn add_resolver_rule(&mut self, it: &Item) {
        let kind = match s(&it.v, "RuleType") {
            Some("FORWARD") => {
                let targets: Vec<(IpAddr, u16)> = list(&it.v, "TargetIps")
                    .iter()
                    .filter_map(|t| {
                        let ip = s(t, "Ip").or_else(|| s(t, "Ipv6"))?.parse().ok()?;
                        let port = int(t, "Port").and_then(|p| u16::try_from(p).ok());
                        Some((ip, port.unwrap_or(53)))
                    })
                    .collect();
                let endpoint_id = s(&it.v, "ResolverEndpointId").unwrap_or_default();
                let owner = s(&it.v, "Id").unwrap_or_default().to_string();
                let endpoint = match self.resolve(it, &owner, "ResolverEndpointId", endpoint_id) {
                    Some(Ref::ResolverEndpoint(e)) => Some(e),
                    // A rule that cannot leave forwards nothing: its queries get SERVFAIL.
                    _ => None,
                };
                ResolverRuleKind::Forward { targets, endpoint }
            }
            Some("SYSTEM") => ResolverRuleKind::System,
            // RECURSIVE is the Internet Resolver AWS defines in every account: the default.
            _ => return,
        };
        let Some(mut origin) = self.origin_of(it, RULE, "Id") else {
            return;
        };
        if origin.name.is_none() {
            origin.name = s(&it.v, "Name")
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        let id = origin.id.clone();
        let r = self.model.dns.rules.len();
        self.model.dns.rules.push(ResolverRule {
            origin,
            domain: normalize(s(&it.v, "DomainName").unwrap_or_default()),
            kind,
            vpcs: Vec::new(),
        });
        self.by_id.insert(id, Ref::ResolverRule(r));
    }

    fn add_resolver_rule_association(&mut self, it: &Item) {
        let id = s(&it.v, "Id").unwrap_or_default().to_string();
        let rule = s(&it.v, "ResolverRuleId").unwrap_or_default();
        if rule.starts_with("rslvr-autodefined-") {
            return;
        }
        let Some(Ref::ResolverRule(r)) = self.resolve(it, &id, "ResolverRuleId", rule) else {
            return;
        };
        let vpc_id = s(&it.v, "VPCId").unwrap_or_default();
        let Some(Ref::Vpc(v)) = self.resolve(it, &id, "VPCId", vpc_id) else {
            return;
        };
        if !self.model.dns.rules[r].vpcs.contains(&v) {
            self.model.dns.rules[r].vpcs.push(v);
        }
    }

    /// A DNS Firewall domain list with its domains (`list-firewall-domains`, wrapped with its
    /// `FirewallDomainListId`).
    fn add_domain_list(&mut self, it: &Item, domains: &HashMap<String, Vec<String>>) {
        let Some(mut origin) = self.origin_of(it, DOMAIN_LIST, "Id") else {
            return;
        };
        if origin.name.is_none() {
            origin.name = s(&it.v, "Name")
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        let id = origin.id.clone();
        let Some(listed) = domains.get(&id) else {
            // A rule over an unknown list cannot be evaluated: the rule groups that use it are
            // left out with it, and the warning says what that lets through.
            self.warn(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                format!("no domains (add `aws route53resolver list-firewall-domains --firewall-domain-list-id {id}` output): the list and the rule groups that use it are left out, so names they block or alert on resolve here"),
            );
            self.skip(&id);
            return;
        };
        match crate::route53_records::firewall_domains(listed) {
            Ok(domains) => {
                let l = self.model.dns.domain_lists.len();
                self.model
                    .dns
                    .domain_lists
                    .push(FirewallDomainList { origin, domains });
                self.by_id.insert(id, Ref::DomainList(l));
            }
            Err(p) => {
                self.error(it.file, &id, p.code, p.message);
                self.skip(&id);
            }
        }
    }

    /// A DNS Firewall rule group with its rules (`list-firewall-rules` entries name their
    /// group); a rule that cannot be read leaves the whole group out.
    fn add_dns_firewall_group(&mut self, it: &Item, rules: &[Item]) {
        let Some(mut origin) = self.origin_of(it, FIREWALL_GROUP, "Id") else {
            return;
        };
        if origin.name.is_none() {
            origin.name = s(&it.v, "Name")
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        let id = origin.id.clone();
        let mut group_rules: Vec<FirewallRule> = Vec::new();
        for r in rules
            .iter()
            .filter(|r| s(&r.v, "FirewallRuleGroupId") == Some(id.as_str()))
        {
            let by_id = &self.by_id;
            let skipped = &self.skipped;
            let domain_list = |l: &str| -> R<usize> {
                match by_id.get(l) {
                    Some(Ref::DomainList(i)) => Ok(*i),
                    _ if skipped.contains(l) => Err(Problem::quiet()),
                    _ => Err(Problem::new(
                        "UnresolvedReference",
                        format!("FirewallDomainListId {l} is not in the snapshot (list-firewall-domain-lists): the rule group is left out"),
                    )),
                }
            };
            match crate::route53_records::dns_firewall_rule(&r.v, &domain_list) {
                Ok(rule) => group_rules.push(rule),
                Err(p) => {
                    if p.code == "UnresolvedReference" {
                        self.warn(r.file, &id, p.code, p.message);
                    } else if !p.quiet {
                        self.error(r.file, &id, p.code, p.message);
                    }
                    self.skip(&id);
                    return;
                }
            }
        }
        group_rules.sort_by_key(|r| r.priority);
        let g = self.model.dns.firewall_groups.len();
        self.model.dns.firewall_groups.push(FirewallRuleGroup {
            origin,
            rules: group_rules,
            vpcs: Vec::new(),
        });
        self.by_id.insert(id, Ref::DnsFirewallGroup(g));
    }

    fn add_dns_firewall_association(&mut self, it: &Item) {
        let id = s(&it.v, "Id").unwrap_or_default().to_string();
        let group = s(&it.v, "FirewallRuleGroupId").unwrap_or_default();
        let Some(Ref::DnsFirewallGroup(g)) = self.resolve(it, &id, "FirewallRuleGroupId", group)
        else {
            return;
        };
        let vpc_id = s(&it.v, "VpcId").unwrap_or_default();
        let Some(Ref::Vpc(v)) = self.resolve(it, &id, "VpcId", vpc_id) else {
            return;
        };
        let priority = int(&it.v, "Priority")
            .unwrap_or(101)
            .clamp(0, u32::MAX as i64) as u32;
        self.model.dns.firewall_groups[g].vpcs.push((v, priority));
    }

    /// DNS Firewall: domain lists with their domains, rule groups with their rules, then
    /// associations.
    fn add_dns_firewall(&mut self, items: &Items) {
        let mut domains: HashMap<String, Vec<String>> = HashMap::new();
        for it in &items.firewall_domains {
            if let Some(l) = s(&it.v, "FirewallDomainListId") {
                domains.entry(l.to_string()).or_default().extend(
                    list(&it.v, "Domains")
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string),
                );
            }
        }
        for it in &items.firewall_domain_lists {
            self.add_domain_list(it, &domains);
        }
        for it in &items.dns_firewall_groups {
            self.add_dns_firewall_group(it, &items.dns_firewall_rules);
        }
        for it in &items.dns_firewall_associations {
            self.add_dns_firewall_association(it);
        }
    }

    /// Endpoints with their addresses, rules, then associations; then DNS Firewall.
    pub(super) fn add_resolver(&mut self, items: &Items) {
        self.add_dns_firewall(items);
        let mut addresses: HashMap<String, Vec<Value>> = HashMap::new();
        for it in &items.resolver_ip_addresses {
            if let Some(e) = s(&it.v, "ResolverEndpointId") {
                addresses
                    .entry(e.to_string())
                    .or_default()
                    .extend(list(&it.v, "IpAddresses").iter().cloned());
            }
        }
        for it in &items.resolver_endpoints {
            self.add_resolver_endpoint(it, &addresses);
        }
        for it in &items.resolver_rules {
            self.add_resolver_rule(it);
        }
        for it in &items.resolver_rule_associations {
            self.add_resolver_rule_association(it);
        }
    }
}
