//! AWS Network Firewall from `aws network-firewall` output, one file per call as the CLI prints
//! it: `describe-firewall` (`Firewall` and its `FirewallStatus`, whose `SyncStates` give each
//! Availability Zone's endpoint), `describe-firewall-policy` (`FirewallPolicyResponse` and
//! `FirewallPolicy`), `describe-rule-group` (`RuleGroupResponse` and `RuleGroup`) and
//! `describe-logging-configuration`. An endpoint's address comes from its interface in
//! describe-network-interfaces (`gateway_load_balancer_endpoint`, described with its `vpce-` id).

use super::{list, s, Item, Items, Reader, Ref};
use crate::model::*;
use crate::network_firewall_rules as rules;
use crate::props::{Problem, R};
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::net::Ipv4Addr;

const FIREWALL: &str = "AWS::NetworkFirewall::Firewall";
const POLICY: &str = "AWS::NetworkFirewall::FirewallPolicy";
const RULE_GROUP: &str = "AWS::NetworkFirewall::RuleGroup";
const ENDPOINT: &str = "AWS::NetworkFirewall::FirewallEndpoint";

/// A file whose top-level keys are one `aws network-firewall` call's output (several keys that
/// belong together) goes whole into its list; any other map is given back.
pub(super) fn take_call(
    file: usize,
    map: Map<String, Value>,
    items: &mut Items,
) -> Result<(), Map<String, Value>> {
    let target = if map.contains_key("Firewall") {
        &mut items.firewalls
    } else if map.contains_key("FirewallPolicyResponse") {
        &mut items.firewall_policies
    } else if map.contains_key("RuleGroupResponse") {
        &mut items.firewall_rule_groups
    } else if map.contains_key("LoggingConfiguration") && map.contains_key("FirewallArn") {
        &mut items.firewall_logging
    } else {
        return Err(map);
    };
    target.push(Item {
        file,
        v: Value::Object(map),
    });
    Ok(())
}

/// The part of a call's output that describes the resource itself (`Firewall`,
/// `RuleGroupResponse`, ...), as an item of its file, so ids and tags read as elsewhere.
fn part(it: &Item, key: &str) -> Item {
    Item {
        file: it.file,
        v: it.v.get(key).cloned().unwrap_or(Value::Null),
    }
}

impl Reader {
    /// Leave out resource `id` for `p`: a dangling reference is a warning, as everywhere in a
    /// partial export; anything AWS itself would refuse is an error.
    pub(super) fn refuse(&mut self, it: &Item, id: &str, p: Problem) {
        if p.quiet {
        } else if p.code == "UnresolvedReference" {
            self.warn(it.file, id, p.code, p.message);
        } else {
            self.error(it.file, id, p.code, p.message);
        }
        self.skip(id);
    }

    fn add_firewall_rule_group(&mut self, it: &Item) {
        let resp = part(it, "RuleGroupResponse");
        let arn = s(&resp.v, "RuleGroupArn").unwrap_or_default().to_string();
        let Some(origin) = self.origin(&resp, Some(&arn), RULE_GROUP, "RuleGroupArn") else {
            return;
        };
        let stateless = match s(&resp.v, "Type") {
            Some("STATELESS") => true,
            Some("STATEFUL") => false,
            other => {
                let p = Problem::new(
                    "InvalidSnapshot.MissingField",
                    format!("RuleGroupResponse.Type {other:?}: STATELESS or STATEFUL"),
                );
                return self.refuse(it, &arn, p);
            }
        };
        match rules::rule_group(origin, stateless, it.v.get("RuleGroup"), None) {
            Err(p) => self.refuse(it, &arn, p),
            Ok((group, warnings)) => {
                for w in warnings {
                    self.warn(it.file, &arn, "UnsupportedRuleKeyword", w);
                }
                let i = self.model.firewall_rule_groups.len();
                self.model.firewall_rule_groups.push(group);
                self.by_id.insert(arn, Ref::FirewallRuleGroup(i));
            }
        }
    }

    fn add_firewall_policy(&mut self, it: &Item) {
        let resp = part(it, "FirewallPolicyResponse");
        let arn = s(&resp.v, "FirewallPolicyArn")
            .unwrap_or_default()
            .to_string();
        let Some(origin) = self.origin(&resp, Some(&arn), POLICY, "FirewallPolicyArn") else {
            return;
        };
        let Some(fp) = it.v.get("FirewallPolicy") else {
            let p = Problem::new(
                "InvalidSnapshot.MissingField",
                "describe-firewall-policy output without FirewallPolicy",
            );
            return self.refuse(it, &arn, p);
        };
        // A policy without one of its groups would let through what the group drops: it is
        // left out, and so is every firewall that uses it.
        let find = |group: &str| -> R<usize> {
            match self.by_id.get(group) {
                Some(Ref::FirewallRuleGroup(g)) => Ok(*g),
                _ if self.skipped.contains(group) => Err(Problem::quiet()),
                _ => Err(Problem::new(
                    "UnresolvedReference",
                    format!("rule group {group} is not in the snapshot (describe-rule-group): the policy is left out, and the firewalls that use it"),
                )),
            }
        };
        match rules::policy(origin, fp, &self.model.firewall_rule_groups, &find) {
            Err(p) => self.refuse(it, &arn, p),
            Ok(policy) => {
                let i = self.model.firewall_policies.len();
                self.model.firewall_policies.push(policy);
                self.by_id.insert(arn, Ref::FirewallPolicy(i));
            }
        }
    }

    fn add_network_firewall(&mut self, it: &Item) {
        let fw = part(it, "Firewall");
        let arn = s(&fw.v, "FirewallArn").unwrap_or_default().to_string();
        let Some(origin) = self.origin(&fw, Some(&arn), FIREWALL, "FirewallArn") else {
            return;
        };
        let Some(vpc) = self.vpc_of(&fw, &arn) else {
            return;
        };
        let policy_arn = s(&fw.v, "FirewallPolicyArn").unwrap_or_default();
        let policy = match self.by_id.get(policy_arn).copied() {
            Some(Ref::FirewallPolicy(p)) => Some(p),
            _ => {
                // Routes to its endpoints are follow-ons of this one warning.
                let sync =
                    it.v.get("FirewallStatus")
                        .and_then(|st| st.get("SyncStates"));
                for st in sync
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    if let Some(e) = st.get("Attachment").and_then(|a| s(a, "EndpointId")) {
                        self.skip(e);
                    }
                }
                if !self.skipped.contains(policy_arn) {
                    self.warn(
                        it.file,
                        &arn,
                        "UnresolvedReference.Parent",
                        format!("FirewallPolicyArn {policy_arn:?} is not in the snapshot (describe-firewall-policy): {arn} is skipped and routes to its endpoints are blackholes"),
                    );
                }
                self.skip(&arn);
                return;
            }
        };
        let f = self.model.network_firewalls.len();
        let sync =
            it.v.get("FirewallStatus")
                .and_then(|st| st.get("SyncStates"))
                .and_then(Value::as_object);
        let mut endpoints = Vec::new();
        for m in list(&fw.v, "SubnetMappings") {
            let Some(sub_id) = s(m, "SubnetId") else {
                continue;
            };
            let Some(Ref::Subnet(subnet)) = self.resolve(&fw, &arn, "SubnetMappings", sub_id)
            else {
                continue;
            };
            let attachment = sync
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(|st| st.get("Attachment"))
                .find(|a| s(a, "SubnetId") == Some(sub_id));
            let Some(endpoint_id) = attachment.and_then(|a| s(a, "EndpointId")) else {
                self.warn(
                    it.file,
                    &arn,
                    "InvalidSnapshot.MissingField",
                    format!("FirewallStatus.SyncStates has no attachment with an EndpointId for {sub_id}: the firewall has no endpoint there"),
                );
                continue;
            };
            if let Some(e) = self.add_firewall_endpoint(&fw, &arn, endpoint_id, f, subnet) {
                endpoints.push(e);
            }
        }
        self.model.network_firewalls.push(NetworkFirewall {
            origin,
            name: s(&fw.v, "FirewallName").unwrap_or_default().to_string(),
            vpc,
            policy,
            endpoints,
            alert_logs: false,
            flow_logs: false,
        });
        self.by_id.insert(arn, Ref::NetworkFirewall(f));
    }

    fn add_firewall_endpoint(
        &mut self,
        it: &Item,
        owner: &str,
        id: &str,
        firewall: usize,
        subnet: usize,
    ) -> Option<usize> {
        let sub_id = self.model.subnets[subnet].origin.id.clone();
        let eni = self
            .firewall_enis
            .iter()
            .find(|(_, e)| {
                s(&e.v, "SubnetId") == Some(sub_id.as_str())
                    && s(&e.v, "Description").is_some_and(|d| d.ends_with(id))
            })
            .map(|(k, _)| k.clone())
            .and_then(|k| self.firewall_enis.remove(&k));
        let address = match eni
            .as_ref()
            .and_then(|e| s(&e.v, "PrivateIpAddress"))
            .and_then(|a| a.parse::<Ipv4Addr>().ok())
        {
            Some(a) => {
                if !self.check_v4(eni.as_ref().unwrap_or(it), id, subnet, a) {
                    return None;
                }
                a
            }
            None => {
                let a = self.lowest_free_v4(subnet)?;
                self.warn(
                    it.file,
                    owner,
                    "UnresolvedReference",
                    format!("no interface of endpoint {id} in describe-network-interfaces: it is given {a}, the lowest free address of {sub_id}"),
                );
                self.check_v4(it, id, subnet, a);
                a
            }
        };
        let o = Origin {
            template: it.file,
            logical_id: id.to_string(),
            id: id.to_string(),
            name: None,
            kind: ENDPOINT.into(),
        };
        let e = self.model.firewall_endpoints.len();
        self.model.firewall_endpoints.push(FirewallEndpoint {
            origin: o,
            firewall,
            subnet,
            availability_zone: self.model.subnets[subnet].availability_zone.clone(),
            address,
        });
        self.by_id.insert(id.to_string(), Ref::FirewallEndpoint(e));
        Some(e)
    }

    /// The lowest address of a subnet that AWS does not reserve (the first four and the last)
    /// and no interface of the VPC holds.
    fn lowest_free_v4(&self, subnet: usize) -> Option<Ipv4Addr> {
        let sn = &self.model.subnets[subnet];
        let net = sn.cidr_v4?;
        let first = u32::from(net.network()) + 4;
        let last = u32::from(net.broadcast()).checked_sub(1)?;
        (first..=last)
            .map(Ipv4Addr::from)
            .find(|a| !self.used_v4.contains_key(&(sn.vpc, *a)))
    }

    fn add_firewall_logging(&mut self, it: &Item) {
        let arn = s(&it.v, "FirewallArn").unwrap_or_default();
        let f = match self.resolve(it, arn, "FirewallArn", arn) {
            Some(Ref::NetworkFirewall(f)) => f,
            _ => return,
        };
        let cfg = it.v.get("LoggingConfiguration").unwrap_or(&Value::Null);
        for d in list(cfg, "LogDestinationConfigs") {
            match s(d, "LogType") {
                Some("ALERT") => self.model.network_firewalls[f].alert_logs = true,
                Some("FLOW") => self.model.network_firewalls[f].flow_logs = true,
                // TLS logs exist only with TLS inspection, which vpcsim does not model.
                _ => {}
            }
        }
    }

    /// Interfaces of firewall (or Gateway Load Balancer) endpoints no firewall claimed.
    fn orphan_firewall_enis(&mut self) {
        let mut left: Vec<(String, Item)> = self.firewall_enis.drain().collect();
        left.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, it) in left {
            self.by_id.insert(id.clone(), Ref::Unsupported);
            self.model.unsupported.push(Unsupported {
                origin: Origin {
                    template: it.file,
                    logical_id: id.clone(),
                    id,
                    name: super::tag(&it.v, "Name").map(str::to_string),
                    kind: "AWS::EC2::VPCEndpoint".into(),
                },
            });
        }
    }

    /// A route of table `rt` whose `VpcEndpointId` is firewall endpoint `endpoint`.
    pub(super) fn add_firewall_route(
        &mut self,
        it: &Item,
        rt_id: &str,
        origin: Origin,
        rt: usize,
        dest_text: &str,
        endpoint: usize,
    ) {
        let Ok(destination) = dest_text.parse::<IpNet>() else {
            self.error(
                it.file,
                rt_id,
                "InvalidParameterValue",
                format!("route {dest_text:?} to firewall endpoint {}: the destination must be a CIDR block; the route is left out", self.model.firewall_endpoints[endpoint].origin.id),
            );
            return;
        };
        let fw = &self.model.network_firewalls[self.model.firewall_endpoints[endpoint].firewall];
        if fw.vpc != self.model.route_tables[rt].vpc {
            let msg = format!(
                "route {dest_text} -> {}: the firewall endpoint is in another VPC than the route table; the route is left out",
                self.model.firewall_endpoints[endpoint].origin.id
            );
            self.error(it.file, rt_id, "InvalidParameterValue", msg);
            return;
        }
        self.model.firewall_routes.push(FirewallRoute {
            origin,
            route_table: rt,
            destination: destination.trunc(),
            endpoint,
        });
    }

    /// Rule groups, then policies, then firewalls with their endpoints and logging.
    pub(super) fn add_network_firewalls(&mut self, items: &Items) {
        for it in &items.firewall_rule_groups {
            self.add_firewall_rule_group(it);
        }
        for it in &items.firewall_policies {
            self.add_firewall_policy(it);
        }
        for it in &items.firewalls {
            self.add_network_firewall(it);
        }
        self.orphan_firewall_enis();
        for it in &items.firewall_logging {
            self.add_firewall_logging(it);
        }
    }
}
