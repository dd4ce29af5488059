//! The bodies of AWS Network Firewall rule groups and policies, read from the shape that
//! CloudFormation (`RuleGroup`, `FirewallPolicy` properties) and the API (`describe-rule-group`,
//! `describe-firewall-policy`) share, so templates, snapshots and Terraform plans load them the
//! same way. Stateful 5-tuple rules and domain lists are written out as the Suricata rules AWS
//! generates from them, so one parser and one engine handle every stateful rule.

use crate::model::{FirewallPolicy, FirewallRuleGroup, Origin, StatelessRuleDef};
use crate::props::{get, missing, opt_int, opt_list, opt_str, req_str, str_list, Problem, R};
use crate::suricata;
use ipnet::IpNet;
use serde_json::Value;

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
fn check_actions(actions: &[String], custom: &[String], what: &str) -> R<()> {
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

/// A rule group from its `RuleGroup` object (`g`) and, for CloudFormation, its `Rules` text;
/// with the warnings (code `UnsupportedRuleKeyword`) for rules outside the simulated subset.
pub(crate) fn rule_group(
    origin: Origin,
    stateless: bool,
    g: Option<&Value>,
    rules: Option<String>,
) -> R<(FirewallRuleGroup, Vec<String>)> {
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
    if let Some(text) = rules {
        group.suricata.extend(text.lines().map(str::to_string));
    }
    if let Some(src) = g.and_then(|g| get(g, "RulesSource")) {
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
            stateless_rules(sl, &mut group)?;
        }
    }
    if stateless && !group.suricata.is_empty() {
        return Err(bad("a STATELESS rule group has no stateful rules"));
    }
    let warnings = check_suricata(&group)?;
    Ok((group, warnings))
}

fn stateless_rules(sl: &Value, group: &mut FirewallRuleGroup) -> R<()> {
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

/// Parse every stateful rule once at load: syntax errors fail the group, as AWS refuses it;
/// keywords outside the subset only warn.
fn check_suricata(g: &FirewallRuleGroup) -> R<Vec<String>> {
    let text = g.suricata.join("\n");
    let mut warnings = Vec::new();
    for r in suricata::parse_rules(&text) {
        match r {
            Err(e) => return Err(bad(format!("Suricata rule: {e}"))),
            Ok(rule) if !rule.unsupported.is_empty() => warnings.push(format!(
                "rule sid {}: {} is not simulated: packets this rule may match are reported as not evaluable",
                rule.sid,
                rule.unsupported.join(", ")
            )),
            Ok(rule) if g.strict_order && rule.priority.is_some() => {
                return Err(bad(format!(
                    "rule sid {}: the priority keyword is not allowed with STRICT_ORDER",
                    rule.sid
                )))
            }
            Ok(_) => {}
        }
    }
    Ok(warnings)
}

/// A policy from its `FirewallPolicy` object; `find` resolves a rule group ARN to its index in
/// `groups`.
pub(crate) fn policy(
    origin: Origin,
    fp: &Value,
    groups: &[FirewallRuleGroup],
    find: &dyn Fn(&str) -> R<usize>,
) -> R<FirewallPolicy> {
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
    check_stateful_default(&stateful_default, strict_order)?;
    let refs = |key: &str, stateless: bool| -> R<Vec<(u32, usize)>> {
        let mut out = Vec::new();
        for r in opt_list(fp, key)? {
            let arn = req_str(r, "ResourceArn")?;
            let g = find(&arn)?;
            if groups[g].stateless != stateless {
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
        if groups[g].strict_order != strict_order {
            return Err(bad(format!(
                "rule group {} and the policy disagree on RuleOrder",
                groups[g].origin.logical_id
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
    Ok(FirewallPolicy {
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
    })
}

fn check_stateful_default(actions: &[String], strict_order: bool) -> R<()> {
    if !actions.is_empty() && !strict_order {
        return Err(bad(
            "StatefulDefaultActions are only valid with RuleOrder STRICT_ORDER",
        ));
    }
    for a in actions {
        if !a.starts_with("aws:drop_") && !a.starts_with("aws:alert_") {
            return Err(bad(format!("StatefulDefaultActions: {a:?}")));
        }
    }
    if actions
        .iter()
        .filter(|a| a.starts_with("aws:drop_"))
        .count()
        > 1
    {
        return Err(bad("StatefulDefaultActions: at most one drop action"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
