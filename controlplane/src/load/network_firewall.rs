//! Loading AWS Network Firewall (SPEC §20): `AWS::NetworkFirewall::Firewall` (one endpoint per
//! subnet mapping, each with a `vpce-` id and an address in its subnet), `FirewallPolicy`,
//! `RuleGroup` and `LoggingConfiguration`, and routes whose `VpcEndpointId` is a firewall
//! endpoint. Stateful 5-tuple rules and domain lists are written out as the Suricata rules AWS
//! generates from them, so one parser and one engine handle every stateful rule.

use super::*;
use crate::suricata;

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

/// A `{FromPort, ToPort}` list.
fn port_ranges(p: &Value, key: &str) -> R<Vec<(u16, u16)>> {
    let mut out = Vec::new();
    for r in opt_list(p, key)? {
        let from = opt_int(r, "FromPort")?.ok_or_else(|| missing("FromPort"))?;
        let to = opt_int(r, "ToPort")?.ok_or_else(|| missing("ToPort"))?;
        if !(0..=65535).contains(&from) || !(from..=65535).contains(&to) {
            return Err(bad(format!("{key}: {from}-{to} is not a port range")));
        }
        out.push((from as u16, to as u16));
    }
    Ok(out)
}

/// A `{AddressDefinition}` list.
fn addresses(p: &Value, key: &str) -> R<Vec<IpNet>> {
    let mut out = Vec::new();
    for a in opt_list(p, key)? {
        let s = req_str(a, "AddressDefinition")?;
        out.push(
            s.parse::<IpNet>()
                .map_err(|_| bad(format!("{key}: {s:?} is not a CIDR")))?
                .trunc(),
        );
    }
    Ok(out)
}

fn tcp_flag_bits(names: &[String]) -> R<u8> {
    let mut bits = 0u8;
    for n in names {
        bits |= match n.as_str() {
            "FIN" => 0x01,
            "SYN" => 0x02,
            "RST" => 0x04,
            "PSH" => 0x08,
            "ACK" => 0x10,
            "URG" => 0x20,
            "ECE" => 0x40,
            "CWR" => 0x80,
            other => return Err(bad(format!("TCP flag {other:?}"))),
        };
    }
    Ok(bits)
}

/// The stateless actions of a rule or default: exactly one standard action, plus custom ones
/// the group (or policy) defines.
pub(crate) fn check_actions(actions: &[String], custom: &[String], what: &str) -> R<()> {
    let standard = actions
        .iter()
        .filter(|a| matches!(a.as_str(), "aws:pass" | "aws:drop" | "aws:forward_to_sfe"))
        .count();
    if standard != 1 {
        return Err(bad(format!(
            "{what} needs exactly one of aws:pass, aws:drop, aws:forward_to_sfe (got {actions:?})"
        )));
    }
    if let Some(a) = actions
        .iter()
        .find(|a| !a.starts_with("aws:") && !custom.contains(a))
    {
        return Err(bad(format!("{what}: custom action {a:?} is not defined")));
    }
    Ok(())
}

/// A 5-tuple `StatefulRules` entry as the Suricata rule AWS generates from it.
fn five_tuple_rule(r: &Value) -> R<String> {
    let action = req_str(r, "Action")?.to_ascii_lowercase();
    let h = get(r, "Header").ok_or_else(|| missing("Header"))?;
    let any = |s: String| if s == "ANY" { "any".to_string() } else { s };
    let dir = match req_str(h, "Direction")?.as_str() {
        "FORWARD" => "->",
        "ANY" => "<>",
        other => return Err(bad(format!("Direction {other:?}: FORWARD or ANY"))),
    };
    let mut options = Vec::new();
    for o in opt_list(r, "RuleOptions")? {
        let k = req_str(o, "Keyword")?;
        let settings = str_list(o, "Settings")?;
        options.push(if settings.is_empty() {
            format!("{k};")
        } else {
            format!("{k}:{};", settings.join(","))
        });
    }
    Ok(format!(
        "{action} {} {} {} {dir} {} {} ({})",
        req_str(h, "Protocol")?.to_ascii_lowercase(),
        any(req_str(h, "Source")?),
        any(req_str(h, "SourcePort")?),
        any(req_str(h, "Destination")?),
        any(req_str(h, "DestinationPort")?),
        options.join(" ")
    ))
}

/// A domain list (`RulesSourceList`) as the Suricata rules AWS generates (SPEC §20.4).
fn domain_list_rules(l: &Value) -> R<Vec<String>> {
    let targets = str_list(l, "Targets")?;
    let types = str_list(l, "TargetTypes")?;
    let kind = req_str(l, "GeneratedRulesType")?;
    let action = match kind.as_str() {
        "ALLOWLIST" => "pass",
        "DENYLIST" => "drop",
        "REJECTLIST" => "reject",
        "ALERTLIST" => "alert",
        other => {
            return Err(bad(format!(
                "GeneratedRulesType {other:?}: ALLOWLIST, DENYLIST, REJECTLIST or ALERTLIST"
            )))
        }
    };
    let mut rules = Vec::new();
    let mut sid = 1;
    for t in &types {
        let (proto, buffer) = match t.as_str() {
            "TLS_SNI" => ("tls", "tls.sni"),
            "HTTP_HOST" => ("http", "http.host"),
            other => return Err(bad(format!("TargetTypes {other:?}: TLS_SNI or HTTP_HOST"))),
        };
        for d in &targets {
            let m = if d.starts_with('.') {
                format!("{buffer}; dotprefix; content:\"{d}\"; nocase; endswith;")
            } else {
                format!("{buffer}; content:\"{d}\"; startswith; nocase; endswith;")
            };
            rules.push(format!(
                "{action} {proto} $HOME_NET any -> $EXTERNAL_NET any ({m} msg:\"matching {kind} {t} {d}\"; flow:to_server, established; sid:{sid};)"
            ));
            sid += 1;
        }
    }
    if kind == "ALLOWLIST" {
        for t in &types {
            let proto = if t == "TLS_SNI" { "tls" } else { "http" };
            rules.push(format!(
                "drop {proto} $HOME_NET any -> $EXTERNAL_NET any (msg:\"not matching any {t} allowlisted FQDNs\"; flow:to_server, established; sid:{sid};)"
            ));
            sid += 1;
        }
    }
    Ok(rules)
}

fn variables(v: Option<&Value>, key: &str, inner: &str) -> R<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    if let Some(Value::Object(sets)) = v.and_then(|v| get(v, key)) {
        for (name, def) in sets {
            out.push((name.clone(), str_list(def, inner)?));
        }
    }
    Ok(out)
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
        let g = get(p, "RuleGroup");
        let vars = g.and_then(|g| get(g, "RuleVariables"));
        let mut group = FirewallRuleGroup {
            origin,
            stateless,
            strict_order: g
                .and_then(|g| get(g, "StatefulRuleOptions"))
                .map(|o| opt_str(o, "RuleOrder"))
                .transpose()?
                .flatten()
                .as_deref()
                == Some("STRICT_ORDER"),
            ip_sets: variables(vars, "IPSets", "Definition")?,
            port_sets: variables(vars, "PortSets", "Definition")?,
            stateless_rules: Vec::new(),
            custom_actions: Vec::new(),
            suricata: Vec::new(),
        };
        let source = g.and_then(|g| get(g, "RulesSource"));
        if let Some(text) = opt_str(p, "Rules")? {
            group.suricata.extend(text.lines().map(str::to_string));
        }
        if let Some(src) = source {
            if let Some(text) = opt_str(src, "RulesString")? {
                group.suricata.extend(text.lines().map(str::to_string));
            }
            if let Some(l) = get(src, "RulesSourceList") {
                group.suricata.extend(domain_list_rules(l)?);
            }
            for r in opt_list(src, "StatefulRules")? {
                group.suricata.push(five_tuple_rule(r)?);
            }
            if let Some(sl) = get(src, "StatelessRulesAndCustomActions") {
                self.stateless_rules(sl, &mut group)?;
            }
        }
        if stateless && !group.suricata.is_empty() {
            return Err(bad("a STATELESS rule group has no stateful rules"));
        }
        self.check_suricata(&group)?;
        let id = group.origin.id.clone();
        self.model.firewall_rule_groups.push(group);
        let i = self.model.firewall_rule_groups.len() - 1;
        self.register(t, lid, &id, Ref::FirewallRuleGroup(i));
        Ok(())
    }

    fn stateless_rules(&mut self, sl: &Value, group: &mut FirewallRuleGroup) -> R<()> {
        for c in opt_list(sl, "CustomActions")? {
            group.custom_actions.push(req_str(c, "ActionName")?);
        }
        for r in opt_list(sl, "StatelessRules")? {
            let priority = opt_int(r, "Priority")?.ok_or_else(|| missing("Priority"))?;
            if !(1..=65535).contains(&priority) {
                return Err(bad(format!("Priority {priority}: 1-65535")));
            }
            let def = get(r, "RuleDefinition").ok_or_else(|| missing("RuleDefinition"))?;
            let actions = str_list(def, "Actions")?;
            check_actions(&actions, &group.custom_actions, "a stateless rule")?;
            let m = get(def, "MatchAttributes").ok_or_else(|| missing("MatchAttributes"))?;
            let mut tcp_flags = Vec::new();
            for f in opt_list(m, "TCPFlags")? {
                let flags = tcp_flag_bits(&str_list(f, "Flags")?)?;
                let masks = match tcp_flag_bits(&str_list(f, "Masks")?)? {
                    0 => 0xff,
                    m => m,
                };
                tcp_flags.push((flags, masks));
            }
            let mut protocols = Vec::new();
            for v in opt_list(m, "Protocols")? {
                let n = v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .filter(|n| (0..=255).contains(n))
                    .ok_or_else(|| bad(format!("Protocols: {v} is not 0-255")))?;
                protocols.push(n as u8);
            }
            if group
                .stateless_rules
                .iter()
                .any(|x| x.priority == priority as u32)
            {
                return Err(bad(format!(
                    "two rules of the group have Priority {priority}"
                )));
            }
            group.stateless_rules.push(StatelessRuleDef {
                priority: priority as u32,
                sources: addresses(m, "Sources")?,
                destinations: addresses(m, "Destinations")?,
                source_ports: port_ranges(m, "SourcePorts")?,
                destination_ports: port_ranges(m, "DestinationPorts")?,
                protocols,
                tcp_flags,
                actions,
            });
        }
        Ok(())
    }

    /// Parse every stateful rule once at load: syntax errors fail the group, as AWS refuses
    /// it; keywords outside the subset only warn.
    fn check_suricata(&mut self, g: &FirewallRuleGroup) -> R<()> {
        let text = g.suricata.join("\n");
        for r in suricata::parse_rules(&text) {
            match r {
                Err(e) => return Err(bad(format!("Suricata rule: {e}"))),
                Ok(rule) if !rule.unsupported.is_empty() => self.warn_at(
                    &g.origin,
                    "UnsupportedRuleKeyword",
                    format!(
                        "rule sid {}: {} is not simulated: packets this rule may match are reported as not evaluable",
                        rule.sid,
                        rule.unsupported.join(", ")
                    ),
                ),
                Ok(rule) if g.strict_order && rule.priority.is_some() => {
                    return Err(bad(format!(
                        "rule sid {}: the priority keyword is not allowed with STRICT_ORDER",
                        rule.sid
                    )))
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }

    pub(super) fn add_firewall_policy(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let mut origin = self.origin(t, lid, POLICY, props::name_tag(p));
        let name = opt_str(p, "FirewallPolicyName")?.unwrap_or_else(|| lid.to_string());
        origin.id = arn(&self.model, &origin, "firewall-policy", &name);
        let fp = get(p, "FirewallPolicy").ok_or_else(|| missing("FirewallPolicy"))?;
        let mut custom = Vec::new();
        for c in opt_list(fp, "StatelessCustomActions")? {
            custom.push(req_str(c, "ActionName")?);
        }
        let stateless_default = str_list(fp, "StatelessDefaultActions")?;
        check_actions(&stateless_default, &custom, "StatelessDefaultActions")?;
        let fragment_default = str_list(fp, "StatelessFragmentDefaultActions")?;
        check_actions(
            &fragment_default,
            &custom,
            "StatelessFragmentDefaultActions",
        )?;
        let opts = get(fp, "StatefulEngineOptions");
        let order = opts.map(|o| opt_str(o, "RuleOrder")).transpose()?.flatten();
        let strict_order = order.as_deref() == Some("STRICT_ORDER");
        let stateful_default = str_list(fp, "StatefulDefaultActions")?;
        if !stateful_default.is_empty() && !strict_order {
            return Err(bad(
                "StatefulDefaultActions are only valid with RuleOrder STRICT_ORDER",
            ));
        }
        for a in &stateful_default {
            if !a.starts_with("aws:drop_") && !a.starts_with("aws:alert_") {
                return Err(bad(format!("StatefulDefaultActions: {a:?}")));
            }
        }
        if stateful_default
            .iter()
            .filter(|a| a.starts_with("aws:drop_"))
            .count()
            > 1
        {
            return Err(bad("StatefulDefaultActions: at most one drop action"));
        }
        let refs = |key: &str, stateless: bool| -> R<Vec<(u32, usize)>> {
            let mut out = Vec::new();
            for r in opt_list(fp, key)? {
                let arn = req_str(r, "ResourceArn")?;
                let g = self.find(
                    "ResourceArn",
                    &arn,
                    |r| match r {
                        Ref::FirewallRuleGroup(i) => Some(i),
                        _ => None,
                    },
                    "ResourceNotFoundException",
                )?;
                if self.model.firewall_rule_groups[g].stateless != stateless {
                    return Err(bad(format!(
                        "{key}: {arn} is not a matching rule group type"
                    )));
                }
                let prio = opt_int(r, "Priority")?.unwrap_or(0);
                out.push((prio.clamp(0, 65535) as u32, g));
            }
            Ok(out)
        };
        let stateless_groups = refs("StatelessRuleGroupReferences", true)?;
        let stateful_groups = refs("StatefulRuleGroupReferences", false)?;
        for &(_, g) in &stateful_groups {
            if self.model.firewall_rule_groups[g].strict_order != strict_order {
                return Err(bad(format!(
                    "rule group {} and the policy disagree on RuleOrder",
                    self.model.firewall_rule_groups[g].origin.logical_id
                )));
            }
        }
        let home_net = match fp
            .get("PolicyVariables")
            .and_then(|v| get(v, "RuleVariables"))
            .and_then(|v| get(v, "HOME_NET"))
        {
            None => None,
            Some(h) => Some(
                str_list(h, "Definition")?
                    .iter()
                    .map(|s| {
                        s.parse::<IpNet>()
                            .map(|n| n.trunc())
                            .map_err(|_| bad(format!("HOME_NET: {s:?} is not a CIDR")))
                    })
                    .collect::<R<Vec<_>>>()?,
            ),
        };
        let timeout = opts
            .and_then(|o| get(o, "FlowTimeouts"))
            .map(|f| opt_int(f, "TcpIdleTimeoutSeconds"))
            .transpose()?
            .flatten()
            .unwrap_or(350);
        if !(60..=6000).contains(&timeout) {
            return Err(bad(format!("TcpIdleTimeoutSeconds {timeout}: 60-6000")));
        }
        let id = origin.id.clone();
        self.model.firewall_policies.push(FirewallPolicy {
            origin,
            stateless_groups,
            stateful_groups,
            stateless_default,
            fragment_default,
            stateful_default,
            strict_order,
            stream_exception: opts
                .map(|o| opt_str(o, "StreamExceptionPolicy"))
                .transpose()?
                .flatten()
                .unwrap_or_else(|| "DROP".into()),
            tcp_idle_timeout_s: timeout as u32,
            home_net,
        });
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
fn short_id(arn: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_become_pass_rules_then_drops() {
        let l = json!({"Targets": [".example.com", "api.test.org"], "TargetTypes": ["TLS_SNI", "HTTP_HOST"], "GeneratedRulesType": "ALLOWLIST"});
        let rules = domain_list_rules(&l).unwrap();
        assert_eq!(rules.len(), 6);
        assert!(rules[0].starts_with("pass tls $HOME_NET any -> $EXTERNAL_NET any (tls.sni; dotprefix; content:\".example.com\""));
        assert!(rules[3].starts_with("pass http"));
        assert!(rules[4].starts_with("drop tls"));
        assert!(rules[5].starts_with("drop http"));
        for r in &rules {
            let parsed = suricata::parse_rule(r).unwrap();
            assert!(parsed.unsupported.is_empty(), "{r}");
        }
    }

    #[test]
    fn five_tuple_rules_are_written_as_suricata() {
        let r = json!({"Action": "DROP", "Header": {"Protocol": "TCP", "Source": "ANY", "SourcePort": "ANY", "Direction": "ANY", "Destination": "10.0.0.0/8", "DestinationPort": "22"}, "RuleOptions": [{"Keyword": "sid", "Settings": ["9"]}, {"Keyword": "msg", "Settings": ["\"no ssh\""]}]});
        assert_eq!(
            five_tuple_rule(&r).unwrap(),
            "drop tcp any any <> 10.0.0.0/8 22 (sid:9; msg:\"no ssh\";)"
        );
    }
}
