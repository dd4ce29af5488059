//! Route 53 Resolver: endpoints, rules and their VPC associations, and DNS Firewall domain
//! lists, rule groups and their associations (SPEC §21.6, §21.8).

use super::dns::DnsRef;
use super::*;
use crate::model::dns::{
    FirewallDomainList, FirewallRule, FirewallRuleGroup, ResolverEndpoint, ResolverRule,
    ResolverRuleKind,
};
use vpcsim_dataplane::dns::normalize;

pub(super) const ENDPOINT: &str = "AWS::Route53Resolver::ResolverEndpoint";
pub(super) const RULE: &str = "AWS::Route53Resolver::ResolverRule";
pub(super) const RULE_ASSOCIATION: &str = "AWS::Route53Resolver::ResolverRuleAssociation";
pub(super) const DOMAIN_LIST: &str = "AWS::Route53Resolver::FirewallDomainList";
pub(super) const RULE_GROUP: &str = "AWS::Route53Resolver::FirewallRuleGroup";
pub(super) const RULE_GROUP_ASSOCIATION: &str =
    "AWS::Route53Resolver::FirewallRuleGroupAssociation";

/// Route 53 Resolver's error for a request it refuses.
fn invalid_request(message: impl Into<String>) -> Problem {
    Problem::new("InvalidRequestException", message)
}

impl Builder {
    pub(super) fn add_resolver_endpoint(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let direction = req_str(p, "Direction")?;
        let outbound = match direction.as_str() {
            "OUTBOUND" => true,
            "INBOUND" => false,
            other => {
                return Err(invalid_request(format!(
                    "Direction {other:?} is neither INBOUND nor OUTBOUND"
                )))
            }
        };
        let addresses = opt_list(p, "IpAddresses")?;
        if !(2..=6).contains(&addresses.len()) {
            return Err(invalid_request(format!(
                "IpAddresses has {} entries: a resolver endpoint has 2 to 6",
                addresses.len()
            )));
        }
        let origin = self.dns_origin(t, lid, ENDPOINT, p);
        let mut subnets = Vec::new();
        for (n, a) in addresses.iter().enumerate() {
            let s = self
                .subnet_ref(a, "SubnetId")
                .map_err(|e| prefix(e, &format!("IpAddresses[{n}]")))?;
            let ip = match opt_str(a, "Ip")? {
                Some(ip) => Some(
                    ip.parse::<Ipv4Addr>()
                        .map_err(|e| invalid(&format!("IpAddresses[{n}].Ip"), e))?,
                ),
                None => None,
            };
            subnets.push((s, ip));
        }
        let vpc = self.model.subnets[subnets[0].0].vpc;
        if subnets
            .iter()
            .any(|(s, _)| self.model.subnets[*s].vpc != vpc)
        {
            return Err(invalid_request(
                "the subnets of IpAddresses are in different VPCs",
            ));
        }
        let groups =
            self.security_groups(&str_list(p, "SecurityGroupIds")?, "SecurityGroupIds", vpc)?;
        let e = self.model.dns.endpoints.len();
        let mut enis = Vec::new();
        for (n, (s, ip)) in subnets.into_iter().enumerate() {
            let holder = format!("{lid}.ip{n}");
            let addr = self.claim_v4(s, ip, &holder)?;
            let eni_origin = Origin {
                id: {
                    let ti = &self.model.templates[t];
                    aws_id("eni", &ti.account_id, &ti.region, &ti.stack_name, &holder)
                },
                logical_id: holder,
                name: None,
                kind: "AWS::EC2::NetworkInterface".into(),
                template: t,
            };
            self.model.enis.push(NetworkInterface {
                origin: eni_origin,
                owner: EniOwner::ResolverEndpoint(e),
                subnet: s,
                private_v4: vec![addr],
                ipv6: vec![],
                security_groups: groups.clone(),
                source_dest_check: true,
                auto_public_ip: None,
            });
            enis.push(self.model.enis.len() - 1);
        }
        let id = origin.id.clone();
        self.model.dns.endpoints.push(ResolverEndpoint {
            origin,
            outbound,
            vpc,
            enis,
        });
        self.register(t, lid, &id, Ref::Dns(DnsRef::Endpoint(e)));
        Ok(())
    }

    pub(super) fn add_resolver_rule(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let domain = normalize(&req_str(p, "DomainName")?);
        let rule_type = req_str(p, "RuleType")?;
        let kind = match rule_type.as_str() {
            "FORWARD" => {
                let mut targets = Vec::new();
                for (n, tgt) in opt_list(p, "TargetIps")?.iter().enumerate() {
                    let at = format!("TargetIps[{n}]");
                    let ip: IpAddr = req_str(tgt, "Ip")
                        .or_else(|_| req_str(tgt, "Ipv6"))?
                        .parse()
                        .map_err(|e| invalid(&at, e))?;
                    let port = match opt_int(tgt, "Port")? {
                        None => 53,
                        Some(n) => u16::try_from(n)
                            .ok()
                            .filter(|p| *p > 0)
                            .ok_or_else(|| invalid(&format!("{at}.Port"), "not 1-65535"))?,
                    };
                    targets.push((ip, port));
                }
                if targets.is_empty() {
                    return Err(invalid_request("a FORWARD rule needs TargetIps"));
                }
                let id = req_str(p, "ResolverEndpointId")?;
                let e = self.dns_ref("ResolverEndpointId", &id, |r| match r {
                    DnsRef::Endpoint(e) => Some(e),
                    _ => None,
                })?;
                if !self.model.dns.endpoints[e].outbound {
                    return Err(invalid_request(format!(
                        "ResolverEndpointId {id} is an INBOUND endpoint: forwarding rules use an OUTBOUND one"
                    )));
                }
                ResolverRuleKind::Forward {
                    targets,
                    endpoint: Some(e),
                }
            }
            "SYSTEM" => ResolverRuleKind::System,
            other => {
                return Err(invalid_request(format!(
                    "RuleType {other:?}: rules you create are FORWARD or SYSTEM (RECURSIVE is AWS's own)"
                )))
            }
        };
        let origin = self.dns_origin(t, lid, RULE, p);
        let id = origin.id.clone();
        self.model.dns.rules.push(ResolverRule {
            origin,
            domain,
            kind,
            vpcs: Vec::new(),
        });
        let r = self.model.dns.rules.len() - 1;
        self.register(t, lid, &id, Ref::Dns(DnsRef::Rule(r)));
        Ok(())
    }

    pub(super) fn add_resolver_rule_association(
        &mut self,
        t: usize,
        lid: &str,
        p: &Value,
    ) -> R<()> {
        let id = req_str(p, "ResolverRuleId")?;
        let r = self.dns_ref("ResolverRuleId", &id, |r| match r {
            DnsRef::Rule(i) => Some(i),
            _ => None,
        })?;
        let vpc = self.vpc_ref(p, "VPCId")?;
        let rule = &self.model.dns.rules[r];
        if let ResolverRuleKind::Forward {
            endpoint: Some(e), ..
        } = rule.kind
        {
            let home = self.model.dns.endpoints[e].vpc;
            let (a, b) = (&self.model.vpcs[home], &self.model.vpcs[vpc]);
            if self.model.templates[a.origin.template].region
                != self.model.templates[b.origin.template].region
            {
                return Err(invalid_request(
                    "the rule's outbound endpoint and the VPC are in different Regions",
                ));
            }
        }
        if rule.vpcs.contains(&vpc) {
            return Err(Problem::new(
                "ResourceExistsException",
                format!(
                    "the rule is already associated with {}",
                    self.model.vpcs[vpc].origin.id
                ),
            ));
        }
        self.model.dns.rules[r].vpcs.push(vpc);
        self.link(t, lid, RULE_ASSOCIATION, p);
        Ok(())
    }

    pub(super) fn add_dns_firewall_domain_list(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let domains = crate::route53_records::firewall_domains(&str_list(p, "Domains")?)?;
        let origin = self.dns_origin(t, lid, DOMAIN_LIST, p);
        let id = origin.id.clone();
        self.model
            .dns
            .domain_lists
            .push(FirewallDomainList { origin, domains });
        let l = self.model.dns.domain_lists.len() - 1;
        self.register(t, lid, &id, Ref::Dns(DnsRef::DomainList(l)));
        Ok(())
    }

    pub(super) fn add_dns_firewall_rule_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let mut rules = Vec::new();
        for (n, r) in opt_list(p, "FirewallRules")?.iter().enumerate() {
            let rule = self
                .firewall_rule(r)
                .map_err(|e| prefix(e, &format!("FirewallRules[{n}]")))?;
            if rules
                .iter()
                .any(|x: &FirewallRule| x.priority == rule.priority)
            {
                return Err(Problem::new(
                    "ValidationException",
                    format!(
                        "FirewallRules[{n}]: two rules have priority {}",
                        rule.priority
                    ),
                ));
            }
            rules.push(rule);
        }
        rules.sort_by_key(|r| r.priority);
        let origin = self.dns_origin(t, lid, RULE_GROUP, p);
        let id = origin.id.clone();
        self.model.dns.firewall_groups.push(FirewallRuleGroup {
            origin,
            rules,
            vpcs: Vec::new(),
        });
        let g = self.model.dns.firewall_groups.len() - 1;
        self.register(t, lid, &id, Ref::Dns(DnsRef::FirewallGroup(g)));
        Ok(())
    }

    fn firewall_rule(&self, r: &Value) -> R<FirewallRule> {
        let domain_list = |id: &str| {
            self.dns_ref("FirewallDomainListId", id, |r| match r {
                DnsRef::DomainList(l) => Some(l),
                _ => None,
            })
        };
        crate::route53_records::dns_firewall_rule(r, &domain_list)
    }

    pub(super) fn add_dns_firewall_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let id = req_str(p, "FirewallRuleGroupId")?;
        let g = self.dns_ref("FirewallRuleGroupId", &id, |r| match r {
            DnsRef::FirewallGroup(g) => Some(g),
            _ => None,
        })?;
        let vpc = self.vpc_ref(p, "VpcId")?;
        let priority = opt_int(p, "Priority")?.ok_or_else(|| missing("Priority"))?;
        // AWS reserves 100 and below and 9900 and above for its own groups.
        if !(101..=9899).contains(&priority) {
            return Err(Problem::new(
                "ValidationException",
                format!("Priority {priority} is not 101-9899"),
            ));
        }
        let priority = priority as u32;
        let taken = self
            .model
            .dns
            .firewall_groups
            .iter()
            .any(|grp| grp.vpcs.iter().any(|(v, p)| *v == vpc && *p == priority));
        if taken {
            return Err(Problem::new(
                "ConflictException",
                format!(
                    "another rule group is associated with {} at priority {priority}",
                    self.model.vpcs[vpc].origin.id
                ),
            ));
        }
        self.model.dns.firewall_groups[g].vpcs.push((vpc, priority));
        self.link(t, lid, RULE_GROUP_ASSOCIATION, p);
        Ok(())
    }
}
