//! Loading AWS Network Firewall (SPEC §20): `AWS::NetworkFirewall::Firewall` (one endpoint per
//! subnet mapping, each with a `vpce-` id and an address in its subnet), `FirewallPolicy`,
//! `RuleGroup` and `LoggingConfiguration`, and routes whose `VpcEndpointId` is a firewall
//! endpoint. Rule group and policy bodies are read by [`crate::network_firewall_rules`], which
//! snapshots share.

use super::*;
use crate::network_firewall_rules as rules;

pub(super) const FIREWALL: &str = "AWS::NetworkFirewall::Firewall";
pub(super) const POLICY: &str = "AWS::NetworkFirewall::FirewallPolicy";
pub(super) const RULE_GROUP: &str = "AWS::NetworkFirewall::RuleGroup";
pub(super) const LOGGING: &str = "AWS::NetworkFirewall::LoggingConfiguration";

/// `arn:aws:network-firewall:<region>:<account>:<kind>/<name>`.
fn arn(m: &Model, o: &Origin, kind: &str, name: &str) -> String {
    let t = &m.templates[o.template];
    format!(
        "arn:aws:network-firewall:{}:{}:{kind}/{name}",
        t.region, t.account_id
    )
}

fn bad(message: impl Into<String>) -> Problem {
    Problem::new("InvalidRequestException", message)
}

impl Builder {
    pub(super) fn add_firewall_rule_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let stateless = match req_str(p, "Type")?.as_str() {
            "STATELESS" => true,
            "STATEFUL" => false,
            other => return Err(bad(format!("Type {other:?}: STATELESS or STATEFUL"))),
        };
        let mut origin = self.origin(t, lid, RULE_GROUP, props::name_tag(p));
        let name = opt_str(p, "RuleGroupName")?.unwrap_or_else(|| lid.to_string());
        let kind = if stateless {
            "stateless-rulegroup"
        } else {
            "stateful-rulegroup"
        };
        origin.id = arn(&self.model, &origin, kind, &name);
        let (group, warnings) =
            rules::rule_group(origin, stateless, get(p, "RuleGroup"), opt_str(p, "Rules")?)?;
        for w in warnings {
            self.warn_at(&group.origin, "UnsupportedRuleKeyword", w);
        }
        let id = group.origin.id.clone();
        self.model.firewall_rule_groups.push(group);
        let i = self.model.firewall_rule_groups.len() - 1;
        self.register(t, lid, &id, Ref::FirewallRuleGroup(i));
        Ok(())
    }

    pub(super) fn add_firewall_policy(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let mut origin = self.origin(t, lid, POLICY, props::name_tag(p));
        let name = opt_str(p, "FirewallPolicyName")?.unwrap_or_else(|| lid.to_string());
        origin.id = arn(&self.model, &origin, "firewall-policy", &name);
        let fp = get(p, "FirewallPolicy").ok_or_else(|| missing("FirewallPolicy"))?;
        let find = |arn: &str| {
            self.find(
                "ResourceArn",
                arn,
                |r| match r {
                    Ref::FirewallRuleGroup(i) => Some(i),
                    _ => None,
                },
                "ResourceNotFoundException",
            )
        };
        let policy = rules::policy(origin, fp, &self.model.firewall_rule_groups, &find)?;
        let id = policy.origin.id.clone();
        self.model.firewall_policies.push(policy);
        let i = self.model.firewall_policies.len() - 1;
        self.register(t, lid, &id, Ref::FirewallPolicy(i));
        Ok(())
    }

    pub(super) fn add_network_firewall(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let mut origin = self.origin(t, lid, FIREWALL, props::name_tag(p));
        let name = req_str(p, "FirewallName")?;
        origin.id = arn(&self.model, &origin, "firewall", &name);
        let policy_arn = req_str(p, "FirewallPolicyArn")?;
        let policy = match self.lookup(&policy_arn) {
            Some(Ref::FirewallPolicy(i)) => Some(i),
            Some(Ref::Failed) => return Err(Problem::quiet()),
            _ => {
                self.warn_at(
                    &origin,
                    "ResourceNotFoundException",
                    format!("FirewallPolicyArn {policy_arn} is not in the topology: the firewall passes everything"),
                );
                None
            }
        };
        let mappings = opt_list(p, "SubnetMappings")?;
        if mappings.is_empty() {
            return Err(bad("a firewall needs SubnetMappings"));
        }
        let f = self.model.network_firewalls.len();
        let mut endpoints = Vec::new();
        let mut zones: Vec<String> = Vec::new();
        for m in mappings {
            let s = self.subnet_ref(m, "SubnetId")?;
            let sub = &self.model.subnets[s];
            if sub.vpc != vpc {
                return Err(bad(format!(
                    "subnet {} is not in the firewall's VPC",
                    sub.origin.logical_id
                )));
            }
            let az = sub.availability_zone.clone();
            if zones.contains(&az) {
                return Err(bad(format!(
                    "two subnet mappings in {az}: one per Availability Zone"
                )));
            }
            zones.push(az.clone());
            let holder = format!("{lid}.{az}");
            let address = self.claim_v4(s, None, &holder)?;
            let mut eo = self.origin(t, &holder, "AWS::EC2::VPCEndpoint", None);
            eo.kind = Cow::Borrowed("AWS::NetworkFirewall::FirewallEndpoint");
            let id = eo.id.clone();
            self.model.firewall_endpoints.push(FirewallEndpoint {
                origin: eo,
                firewall: f,
                subnet: s,
                availability_zone: az,
                address,
            });
            let e = self.model.firewall_endpoints.len() - 1;
            self.by_id.insert(id, Ref::FirewallEndpoint(e));
            endpoints.push(e);
        }
        let id = origin.id.clone();
        self.model.network_firewalls.push(NetworkFirewall {
            origin,
            name,
            vpc,
            policy,
            endpoints,
            alert_logs: false,
            flow_logs: false,
        });
        self.register(t, lid, &id, Ref::NetworkFirewall(f));
        Ok(())
    }

    pub(super) fn add_firewall_logging(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let arn = req_str(p, "FirewallArn")?;
        let f = self.find(
            "FirewallArn",
            &arn,
            |r| match r {
                Ref::NetworkFirewall(i) => Some(i),
                _ => None,
            },
            "ResourceNotFoundException",
        )?;
        let cfg = get(p, "LoggingConfiguration").ok_or_else(|| missing("LoggingConfiguration"))?;
        for d in opt_list(cfg, "LogDestinationConfigs")? {
            match req_str(d, "LogType")?.as_str() {
                "ALERT" => self.model.network_firewalls[f].alert_logs = true,
                "FLOW" => self.model.network_firewalls[f].flow_logs = true,
                // TLS logs exist only with TLS inspection, which vpcsim does not model.
                _ => {}
            }
        }
        self.link(t, lid, LOGGING, p);
        Ok(())
    }

    /// A route whose `VpcEndpointId` is firewall endpoint `endpoint`.
    pub(super) fn add_firewall_route(
        &mut self,
        origin: Origin,
        rt: usize,
        destination: Option<IpNet>,
        endpoint: usize,
    ) -> R<()> {
        let Some(destination) = destination else {
            return Err(bad(
                "a route to a firewall endpoint cannot have a prefix-list destination here",
            ));
        };
        let table = &self.model.route_tables[rt];
        let fw = &self.model.network_firewalls[self.model.firewall_endpoints[endpoint].firewall];
        self.route_destination_free(rt, destination)?;
        if fw.vpc != table.vpc {
            return Err(Problem::new(
                "InvalidParameterValue",
                "the firewall endpoint is in another VPC than the route table",
            ));
        }
        self.model.firewall_routes.push(FirewallRoute {
            origin,
            route_table: rt,
            destination,
            endpoint,
        });
        Ok(())
    }

    /// `Ref` of the resources loaded here.
    pub(super) fn firewall_ref(&self, r: Ref) -> Option<String> {
        let m = &self.model;
        Some(match r {
            Ref::NetworkFirewall(i) => m.network_firewalls[i].origin.id.clone(),
            Ref::FirewallEndpoint(i) => m.firewall_endpoints[i].origin.id.clone(),
            Ref::FirewallPolicy(i) => m.firewall_policies[i].origin.id.clone(),
            Ref::FirewallRuleGroup(i) => m.firewall_rule_groups[i].origin.id.clone(),
            _ => return None,
        })
    }

    /// `Fn::GetAtt` of the resources loaded here.
    pub(super) fn firewall_attribute(&self, r: Ref, attr: &str) -> Option<Value> {
        let m = &self.model;
        Some(match (r, attr) {
            (Ref::NetworkFirewall(i), "EndpointIds") => {
                let f = &m.network_firewalls[i];
                json!(f
                    .endpoints
                    .iter()
                    .map(|&e| {
                        let e = &m.firewall_endpoints[e];
                        format!("{}:{}", e.availability_zone, e.origin.id)
                    })
                    .collect::<Vec<_>>())
            }
            (Ref::NetworkFirewall(i), "FirewallArn") => json!(m.network_firewalls[i].origin.id),
            (Ref::NetworkFirewall(i), "FirewallId") => {
                json!(short_id(&m.network_firewalls[i].origin.id))
            }
            (Ref::FirewallPolicy(i), "FirewallPolicyArn") => {
                json!(m.firewall_policies[i].origin.id)
            }
            (Ref::FirewallPolicy(i), "FirewallPolicyId") => {
                json!(short_id(&m.firewall_policies[i].origin.id))
            }
            (Ref::FirewallRuleGroup(i), "RuleGroupArn") => {
                json!(m.firewall_rule_groups[i].origin.id)
            }
            (Ref::FirewallRuleGroup(i), "RuleGroupId") => {
                json!(short_id(&m.firewall_rule_groups[i].origin.id))
            }
            _ => return None,
        })
    }
}

/// A stable resource id from an ARN (AWS returns a UUID; vpcsim derives one from the ARN).
pub(crate) fn short_id(arn: &str) -> String {
    let h = fnv1a(&[arn], 0xcbf2_9ce4_8422_2325);
    let g = fnv1a(&[arn, "id"], 0x8422_2325_cbf2_9ce4);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xffff,
        g >> 48,
        g & 0xffff_ffff_ffff
    )
}
