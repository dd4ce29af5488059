//! Route 53 Resolver from `aws route53resolver` output: endpoints (`list-resolver-endpoints`)
//! with their addresses (`list-resolver-endpoint-ip-addresses`, per endpoint, wrapped with its
//! `ResolverEndpointId`), rules (`list-resolver-rules`) and rule associations
//! (`list-resolver-rule-associations`). An endpoint's interfaces are those of
//! describe-network-interfaces that hold its addresses.

use super::{int, list, s, Item, Items, Reader, Ref};
use crate::model::dns::{ResolverEndpoint, ResolverRule, ResolverRuleKind};
use crate::model::*;
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use vpcsim_dataplane::dns::normalize;

const ENDPOINT: &str = "AWS::Route53Resolver::ResolverEndpoint";
const RULE: &str = "AWS::Route53Resolver::ResolverRule";

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

    /// Endpoints with their addresses, rules, then associations.
    pub(super) fn add_resolver(&mut self, items: &Items) {
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
