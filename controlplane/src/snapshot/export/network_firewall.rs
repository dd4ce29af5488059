//! AWS Network Firewall (`aws network-firewall describe-*`): one file per firewall, policy and
//! rule group, as each call prints one resource, and the interfaces of firewall endpoints in
//! describe-network-interfaces. A stateful group's 5-tuple rules and domain lists are written as
//! the Suricata rules they were loaded into (`RulesString`), which load back to the same rules.

use super::{ExportFile, Exporter};
use crate::load::network_firewall_id;
use crate::model::*;
use serde_json::{json, Map, Value};

/// The name at the end of a Network Firewall ARN (`…:firewall/NAME`).
fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

const TCP_FLAGS: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];

fn flag_names(bits: u8) -> Vec<&'static str> {
    (0..8)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| TCP_FLAGS[i])
        .collect()
}

fn addresses(nets: &[ipnet::IpNet]) -> Vec<Value> {
    nets.iter()
        .map(|n| json!({"AddressDefinition": n.to_string()}))
        .collect()
}

fn ports(ranges: &[(u16, u16)]) -> Vec<Value> {
    ranges
        .iter()
        .map(|(from, to)| json!({"FromPort": from, "ToPort": to}))
        .collect()
}

/// Custom actions as the API describes them: vpcsim keeps only their names, and a custom
/// action can only publish a metric.
fn custom_actions<'a>(names: impl Iterator<Item = &'a String>) -> Vec<Value> {
    names
        .map(|n| {
            json!({"ActionName": n, "ActionDefinition": {"PublishMetricAction": {"Dimensions": [{"Value": n}]}}})
        })
        .collect()
}

fn variables(sets: &[(String, Vec<String>)]) -> Value {
    let mut m = Map::new();
    for (name, defs) in sets {
        m.insert(name.clone(), json!({"Definition": defs}));
    }
    Value::Object(m)
}

impl Exporter<'_> {
    /// The files of every rule group, policy, firewall and logging configuration.
    pub(super) fn network_firewall_files(&self) -> Vec<ExportFile> {
        let m = self.m;
        let file = |kind: &str, arn: &str, json: Value| ExportFile {
            name: format!("{kind}-{}.json", arn_name(arn)),
            json,
        };
        let mut out = Vec::new();
        for g in &m.firewall_rule_groups {
            out.push(file("RuleGroup", &g.origin.id, self.rule_group(g)));
        }
        for p in &m.firewall_policies {
            out.push(file(
                "FirewallPolicy",
                &p.origin.id,
                self.firewall_policy(p),
            ));
        }
        for f in &m.network_firewalls {
            out.push(file("Firewall", &f.origin.id, self.firewall(f)));
            if f.alert_logs || f.flow_logs {
                out.push(file("LoggingConfiguration", &f.origin.id, logging(f)));
            }
        }
        out
    }

    fn rule_group(&self, g: &FirewallRuleGroup) -> Value {
        let mut source = Map::new();
        if g.stateless {
            let rules: Vec<Value> = g
                .stateless_rules
                .iter()
                .map(|r| {
                    let flags: Vec<Value> = r
                        .tcp_flags
                        .iter()
                        .map(|(f, mask)| json!({"Flags": flag_names(*f), "Masks": flag_names(*mask)}))
                        .collect();
                    json!({"Priority": r.priority, "RuleDefinition": {
                        "MatchAttributes": {
                            "Sources": addresses(&r.sources),
                            "Destinations": addresses(&r.destinations),
                            "SourcePorts": ports(&r.source_ports),
                            "DestinationPorts": ports(&r.destination_ports),
                            "Protocols": r.protocols,
                            "TCPFlags": flags,
                        },
                        "Actions": r.actions,
                    }})
                })
                .collect();
            source.insert(
                "StatelessRulesAndCustomActions".into(),
                json!({"StatelessRules": rules, "CustomActions": custom_actions(g.custom_actions.iter())}),
            );
        } else {
            source.insert("RulesString".into(), json!(g.suricata.join("\n")));
        }
        let mut body = json!({"RulesSource": source});
        if !g.ip_sets.is_empty() || !g.port_sets.is_empty() {
            body["RuleVariables"] =
                json!({"IPSets": variables(&g.ip_sets), "PortSets": variables(&g.port_sets)});
        }
        if !g.stateless {
            let order = if g.strict_order {
                "STRICT_ORDER"
            } else {
                "DEFAULT_ACTION_ORDER"
            };
            body["StatefulRuleOptions"] = json!({"RuleOrder": order});
        }
        let rules = if g.stateless {
            g.stateless_rules.len()
        } else {
            g.suricata.iter().filter(|l| !l.trim().is_empty()).count()
        };
        let mut resp = json!({
            "RuleGroupArn": g.origin.id,
            "RuleGroupName": arn_name(&g.origin.id),
            "RuleGroupId": network_firewall_id(&g.origin.id),
            "Type": if g.stateless { "STATELESS" } else { "STATEFUL" },
            // The capacity the group was created with is not in a template: its rule count.
            "Capacity": rules.max(1),
            "RuleGroupStatus": "ACTIVE",
        });
        self.tags(&mut resp, &g.origin, "Tags");
        json!({"RuleGroup": body, "RuleGroupResponse": resp})
    }

    fn firewall_policy(&self, p: &FirewallPolicy) -> Value {
        let m = self.m;
        let group_ref = |&(prio, g): &(u32, usize), with_priority: bool| {
            let mut r = json!({"ResourceArn": m.firewall_rule_groups[g].origin.id});
            if with_priority {
                r["Priority"] = json!(prio);
            }
            r
        };
        let custom = p
            .stateless_default
            .iter()
            .chain(&p.fragment_default)
            .filter(|a| !a.starts_with("aws:"))
            .fold(Vec::<&String>::new(), |mut v, a| {
                if !v.contains(&a) {
                    v.push(a);
                }
                v
            });
        let mut body = json!({
            "StatelessRuleGroupReferences": p.stateless_groups.iter().map(|r| group_ref(r, true)).collect::<Vec<_>>(),
            "StatelessDefaultActions": p.stateless_default,
            "StatelessFragmentDefaultActions": p.fragment_default,
            "StatefulRuleGroupReferences": p.stateful_groups.iter()
                .map(|r| group_ref(r, p.strict_order || r.0 != 0)).collect::<Vec<_>>(),
            "StatefulEngineOptions": {
                "RuleOrder": if p.strict_order { "STRICT_ORDER" } else { "DEFAULT_ACTION_ORDER" },
                "StreamExceptionPolicy": p.stream_exception,
                "FlowTimeouts": {"TcpIdleTimeoutSeconds": p.tcp_idle_timeout_s},
            },
        });
        if !custom.is_empty() {
            body["StatelessCustomActions"] = json!(custom_actions(custom.into_iter()));
        }
        if !p.stateful_default.is_empty() {
            body["StatefulDefaultActions"] = json!(p.stateful_default);
        }
        if let Some(h) = &p.home_net {
            let defs: Vec<String> = h.iter().map(|n| n.to_string()).collect();
            body["PolicyVariables"] = json!({"RuleVariables": {"HOME_NET": {"Definition": defs}}});
        }
        let mut resp = json!({
            "FirewallPolicyName": arn_name(&p.origin.id),
            "FirewallPolicyArn": p.origin.id,
            "FirewallPolicyId": network_firewall_id(&p.origin.id),
            "FirewallPolicyStatus": "ACTIVE",
        });
        self.tags(&mut resp, &p.origin, "Tags");
        json!({"FirewallPolicy": body, "FirewallPolicyResponse": resp})
    }

    fn firewall(&self, f: &NetworkFirewall) -> Value {
        let m = self.m;
        let mut sync = Map::new();
        let mut mappings = Vec::new();
        for &e in &f.endpoints {
            let e = &m.firewall_endpoints[e];
            let subnet = &m.subnets[e.subnet].origin.id;
            mappings.push(json!({"SubnetId": subnet, "IPAddressType": "IPV4"}));
            sync.insert(
                e.availability_zone.clone(),
                json!({"Attachment": {"SubnetId": subnet, "EndpointId": e.origin.id, "Status": "READY"}}),
            );
        }
        let mut fw = json!({
            "FirewallName": f.name,
            "FirewallArn": f.origin.id,
            "VpcId": m.vpcs[f.vpc].origin.id,
            "SubnetMappings": mappings,
            "DeleteProtection": false,
            "SubnetChangeProtection": false,
            "FirewallPolicyChangeProtection": false,
            "FirewallId": network_firewall_id(&f.origin.id),
        });
        if let Some(p) = f.policy {
            fw["FirewallPolicyArn"] = json!(m.firewall_policies[p].origin.id);
        }
        self.tags(&mut fw, &f.origin, "Tags");
        json!({"Firewall": fw, "FirewallStatus": {
            "Status": "READY",
            "ConfigurationSyncStateSummary": "IN_SYNC",
            "SyncStates": sync,
        }})
    }

    /// The interface of each firewall endpoint, as describe-network-interfaces lists it.
    pub(super) fn firewall_endpoint_enis(&self) -> Vec<Value> {
        let m = self.m;
        m.firewall_endpoints
            .iter()
            .map(|e| {
                let subnet = &m.subnets[e.subnet];
                json!({
                    "NetworkInterfaceId": super::derived("eni", &e.origin.id),
                    "SubnetId": subnet.origin.id,
                    "VpcId": m.vpcs[subnet.vpc].origin.id,
                    "AvailabilityZone": e.availability_zone,
                    "OwnerId": self.account(&e.origin),
                    "InterfaceType": "gateway_load_balancer_endpoint",
                    "Description": format!("VPC Endpoint Interface {}", e.origin.id),
                    "RequesterManaged": true,
                    "Status": "in-use",
                    "SourceDestCheck": true,
                    "Groups": [],
                    "PrivateIpAddress": e.address.to_string(),
                    "PrivateIpAddresses": [{"PrivateIpAddress": e.address.to_string(), "Primary": true}],
                })
            })
            .collect()
    }
}

/// `describe-logging-configuration`: vpcsim keeps which logs a firewall sends, not where to;
/// the destinations are CloudWatch log groups named after the firewall.
fn logging(f: &NetworkFirewall) -> Value {
    let mut dest = Vec::new();
    for (on, kind) in [(f.alert_logs, "ALERT"), (f.flow_logs, "FLOW")] {
        if on {
            dest.push(json!({"LogType": kind, "LogDestinationType": "CloudWatchLogs",
                "LogDestination": {"logGroup": format!("/aws/network-firewall/{}/{}", f.name, kind.to_ascii_lowercase())}}));
        }
    }
    json!({"FirewallArn": f.origin.id, "LoggingConfiguration": {"LogDestinationConfigs": dest}})
}
