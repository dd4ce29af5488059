//! AWS Network Firewall (SPEC §20): `aws_networkfirewall_firewall`, `_firewall_policy`,
//! `_rule_group` and `_logging_configuration` as their CloudFormation resources, and routes
//! whose `vpc_endpoint_id` is one of a firewall's endpoints. Terraform's nested blocks are lists
//! of one object where CloudFormation has an object; rule bodies then go through the same
//! reader as templates.

use super::refs::{Attr, Failed};
use super::*;

/// The Terraform types of this module.
pub(super) const TYPES: &[&str] = &[
    "aws_networkfirewall_firewall",
    "aws_networkfirewall_firewall_policy",
    "aws_networkfirewall_rule_group",
    "aws_networkfirewall_logging_configuration",
];

/// The only element of a Terraform block (`rule_group { ... }` is a list of one object).
fn block<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key)?.as_array()?.first()
}

/// The elements of a repeated Terraform block.
fn blocks<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Copy `key` of `v` to `prop` of `p` when set (empty strings and lists are unset).
fn set(p: &mut Map<String, Value>, v: &Value, key: &str, prop: &str) {
    match v.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(x) => {
            p.insert(prop.into(), x.clone());
        }
    }
}

/// `{key, ip_set {definition}}` blocks as CloudFormation's `{KEY: {Definition}}` map.
fn variable_sets(list: &[Value], inner: &str) -> Value {
    let mut m = Map::new();
    for s in list {
        let Some(key) = s.get("key").and_then(Value::as_str) else {
            continue;
        };
        let def = block(s, inner)
            .and_then(|b| b.get("definition"))
            .cloned()
            .unwrap_or(json!([]));
        m.insert(key.into(), json!({ "Definition": def }));
    }
    Value::Object(m)
}

fn port_ranges(list: &[Value]) -> Value {
    json!(list
        .iter()
        .map(|x| json!({"FromPort": x.get("from_port"), "ToPort": x.get("to_port").or(x.get("from_port"))}))
        .collect::<Vec<_>>())
}

fn addresses(list: &[Value]) -> Value {
    json!(list
        .iter()
        .map(|x| json!({"AddressDefinition": x.get("address_definition")}))
        .collect::<Vec<_>>())
}

/// One `stateless_rule` block as a CloudFormation `StatelessRule`.
fn stateless_rule(rule: &Value) -> Value {
    let def = block(rule, "rule_definition").unwrap_or(&Value::Null);
    let m = block(def, "match_attributes").unwrap_or(&Value::Null);
    let mut ma = Map::new();
    for (key, prop) in [("source", "Sources"), ("destination", "Destinations")] {
        if !blocks(m, key).is_empty() {
            ma.insert(prop.into(), addresses(blocks(m, key)));
        }
    }
    for (key, prop) in [
        ("source_port", "SourcePorts"),
        ("destination_port", "DestinationPorts"),
    ] {
        if !blocks(m, key).is_empty() {
            ma.insert(prop.into(), port_ranges(blocks(m, key)));
        }
    }
    set(&mut ma, m, "protocols", "Protocols");
    let flags: Vec<Value> = blocks(m, "tcp_flag")
        .iter()
        .map(|f| {
            let mut x = Map::new();
            set(&mut x, f, "flags", "Flags");
            set(&mut x, f, "masks", "Masks");
            Value::Object(x)
        })
        .collect();
    if !flags.is_empty() {
        ma.insert("TCPFlags".into(), json!(flags));
    }
    json!({
        "Priority": rule.get("priority"),
        "RuleDefinition": {"MatchAttributes": ma, "Actions": def.get("actions").cloned().unwrap_or(json!([]))},
    })
}

/// `custom_action` blocks as CloudFormation `CustomActions`.
fn custom_actions(list: &[Value]) -> Value {
    json!(list
        .iter()
        .map(|a| {
            let dims: Vec<Value> = block(a, "action_definition")
                .and_then(|d| block(d, "publish_metric_action"))
                .map(|p| blocks(p, "dimension"))
                .unwrap_or(&[])
                .iter()
                .map(|d| json!({"Value": d.get("value")}))
                .collect();
            json!({
                "ActionName": a.get("action_name"),
                "ActionDefinition": {"PublishMetricAction": {"Dimensions": dims}},
            })
        })
        .collect::<Vec<_>>())
}

/// One `stateful_rule` block (a 5-tuple rule) as a CloudFormation `StatefulRule`.
fn stateful_rule(rule: &Value) -> Value {
    let h = block(rule, "header").unwrap_or(&Value::Null);
    let mut header = Map::new();
    for (key, prop) in [
        ("protocol", "Protocol"),
        ("source", "Source"),
        ("source_port", "SourcePort"),
        ("direction", "Direction"),
        ("destination", "Destination"),
        ("destination_port", "DestinationPort"),
    ] {
        set(&mut header, h, key, prop);
    }
    let options: Vec<Value> = blocks(rule, "rule_option")
        .iter()
        .map(|o| {
            let mut x = Map::new();
            set(&mut x, o, "keyword", "Keyword");
            set(&mut x, o, "settings", "Settings");
            Value::Object(x)
        })
        .collect();
    json!({"Action": rule.get("action"), "Header": header, "RuleOptions": options})
}

/// A `rule_group` block as CloudFormation's `RuleGroup` property.
fn rule_group_body(g: &Value) -> Value {
    let mut out = Map::new();
    if let Some(src) = block(g, "rules_source") {
        let mut rs = Map::new();
        if let Some(sl) = block(src, "stateless_rules_and_custom_actions") {
            let rules: Vec<Value> = blocks(sl, "stateless_rule")
                .iter()
                .map(stateless_rule)
                .collect();
            let mut x = Map::new();
            x.insert("StatelessRules".into(), json!(rules));
            if !blocks(sl, "custom_action").is_empty() {
                x.insert(
                    "CustomActions".into(),
                    custom_actions(blocks(sl, "custom_action")),
                );
            }
            rs.insert("StatelessRulesAndCustomActions".into(), Value::Object(x));
        }
        if let Some(list) = block(src, "rules_source_list") {
            let mut x = Map::new();
            set(&mut x, list, "generated_rules_type", "GeneratedRulesType");
            set(&mut x, list, "target_types", "TargetTypes");
            set(&mut x, list, "targets", "Targets");
            rs.insert("RulesSourceList".into(), Value::Object(x));
        }
        let stateful: Vec<Value> = blocks(src, "stateful_rule")
            .iter()
            .map(stateful_rule)
            .collect();
        if !stateful.is_empty() {
            rs.insert("StatefulRules".into(), json!(stateful));
        }
        set(&mut rs, src, "rules_string", "RulesString");
        out.insert("RulesSource".into(), Value::Object(rs));
    }
    if let Some(vars) = block(g, "rule_variables") {
        let mut v = Map::new();
        if !blocks(vars, "ip_sets").is_empty() {
            v.insert(
                "IPSets".into(),
                variable_sets(blocks(vars, "ip_sets"), "ip_set"),
            );
        }
        if !blocks(vars, "port_sets").is_empty() {
            v.insert(
                "PortSets".into(),
                variable_sets(blocks(vars, "port_sets"), "port_set"),
            );
        }
        out.insert("RuleVariables".into(), Value::Object(v));
    }
    if let Some(o) = block(g, "stateful_rule_options") {
        let mut x = Map::new();
        set(&mut x, o, "rule_order", "RuleOrder");
        out.insert("StatefulRuleOptions".into(), Value::Object(x));
    }
    Value::Object(out)
}

/// The `Attr` of `key` inside nested blocks: `path` = [(block, index)], outermost first.
fn deep_attr<'r>(r: &'r Res, path: &[(&str, usize)], key: &str) -> Attr<'r> {
    let mut value = Some(&r.values);
    let mut unknown = Some(&r.unknown);
    let mut expr = r.config.as_ref().and_then(|c| c.get("expressions"));
    let mut name = String::new();
    for (b, i) in path {
        value = value.and_then(|v| v.get(*b)).and_then(|v| v.get(*i));
        unknown = unknown.and_then(|v| v.get(*b)).and_then(|v| v.get(*i));
        expr = expr.and_then(|e| e.get(*b)).and_then(|e| match e {
            Value::Array(items) => items.get(*i),
            other => Some(other),
        });
        name.push_str(&format!("{b}[{i}]."));
    }
    Attr {
        name: format!("{name}{key}"),
        value: value.and_then(|v| v.get(key)).filter(|v| !v.is_null()),
        unknown: unknown.and_then(|u| u.get(key)),
        expr: expr.and_then(|e| e.get(key)),
    }
}

impl Tx {
    pub(super) fn network_firewall(&mut self, r: &Res) -> Result<(), Failed> {
        match r.type_.as_str() {
            "aws_networkfirewall_firewall" => self.firewall(r),
            "aws_networkfirewall_firewall_policy" => self.firewall_policy(r),
            "aws_networkfirewall_rule_group" => self.firewall_rule_group(r),
            "aws_networkfirewall_logging_configuration" => self.firewall_logging(r),
            _ => Ok(()),
        }
    }

    fn firewall(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        let name = self.required(r, "name")?.clone();
        p.insert("FirewallName".into(), name);
        p.insert("VpcId".into(), self.required_reference(r, "vpc_id")?);
        let policy = self.required_reference(r, "firewall_policy_arn")?;
        p.insert("FirewallPolicyArn".into(), policy);
        let mut mappings = Vec::new();
        for (i, m) in blocks(&r.values, "subnet_mapping").iter().enumerate() {
            if let Some(s) = self.reference(r, &r.nested("subnet_mapping", i, m, "subnet_id"))? {
                mappings.push(json!({ "SubnetId": s }));
            }
        }
        p.insert("SubnetMappings".into(), json!(mappings));
        copy(&mut p, r, "delete_protection", "DeleteProtection");
        copy(&mut p, r, "description", "Description");
        self.emit(
            &r.address,
            "AWS::NetworkFirewall::Firewall",
            Some(Value::Object(p)),
        );
        Ok(())
    }

    fn firewall_policy(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        copy(&mut p, r, "name", "FirewallPolicyName");
        let fp = match r.get("firewall_policy").and_then(|v| v.as_array()?.first()) {
            Some(fp) => fp.clone(),
            None => {
                return Err(self.error(
                    r,
                    "InvalidTerraform.MissingAttribute",
                    "firewall_policy is missing",
                ))
            }
        };
        let mut body = Map::new();
        for (key, prop) in [
            ("stateless_default_actions", "StatelessDefaultActions"),
            (
                "stateless_fragment_default_actions",
                "StatelessFragmentDefaultActions",
            ),
            ("stateful_default_actions", "StatefulDefaultActions"),
        ] {
            set(&mut body, &fp, key, prop);
        }
        for (key, prop) in [
            (
                "stateless_rule_group_reference",
                "StatelessRuleGroupReferences",
            ),
            (
                "stateful_rule_group_reference",
                "StatefulRuleGroupReferences",
            ),
        ] {
            let mut list = Vec::new();
            for (i, g) in blocks(&fp, key).iter().enumerate() {
                let a = deep_attr(r, &[("firewall_policy", 0), (key, i)], "resource_arn");
                let Some(arn) = self.reference_or_managed(r, &a)? else {
                    continue;
                };
                let mut x = Map::new();
                x.insert("ResourceArn".into(), arn);
                set(&mut x, g, "priority", "Priority");
                list.push(Value::Object(x));
            }
            if !list.is_empty() {
                body.insert(prop.into(), json!(list));
            }
        }
        if let Some(o) = block(&fp, "stateful_engine_options") {
            let mut x = Map::new();
            set(&mut x, o, "rule_order", "RuleOrder");
            set(
                &mut x,
                o,
                "stream_exception_policy",
                "StreamExceptionPolicy",
            );
            if let Some(t) = block(o, "flow_timeouts") {
                let mut ft = Map::new();
                set(
                    &mut ft,
                    t,
                    "tcp_idle_timeout_seconds",
                    "TcpIdleTimeoutSeconds",
                );
                x.insert("FlowTimeouts".into(), Value::Object(ft));
            }
            body.insert("StatefulEngineOptions".into(), Value::Object(x));
        }
        if !blocks(&fp, "stateless_custom_action").is_empty() {
            body.insert(
                "StatelessCustomActions".into(),
                custom_actions(blocks(&fp, "stateless_custom_action")),
            );
        }
        if let Some(v) = block(&fp, "policy_variables") {
            let vars = variable_sets(blocks(v, "rule_variables"), "ip_set");
            body.insert("PolicyVariables".into(), json!({ "RuleVariables": vars }));
        }
        p.insert("FirewallPolicy".into(), Value::Object(body));
        let kind = "AWS::NetworkFirewall::FirewallPolicy";
        self.emit(&r.address, kind, Some(Value::Object(p)));
        Ok(())
    }

    /// A rule group reference: one of the file's groups, else an AWS managed group's ARN as
    /// written (the policy loader reports it as not in the topology).
    fn reference_or_managed(&mut self, r: &Res, a: &Attr) -> Result<Option<Value>, Failed> {
        match a.value.and_then(Value::as_str) {
            Some(arn) if self.target_of_id(arn).is_none() => Ok(Some(json!(arn))),
            _ => self.reference(r, a),
        }
    }

    fn firewall_rule_group(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        copy(&mut p, r, "name", "RuleGroupName");
        let kind = self.required(r, "type")?.clone();
        p.insert("Type".into(), kind);
        let capacity = r.get("capacity").cloned().unwrap_or(json!(100));
        p.insert("Capacity".into(), capacity);
        if let Some(g) = r.get("rule_group").and_then(|v| v.as_array()?.first()) {
            p.insert("RuleGroup".into(), rule_group_body(g));
        }
        // `rules`: Suricata text given beside the block rather than in it.
        copy(&mut p, r, "rules", "Rules");
        let kind = "AWS::NetworkFirewall::RuleGroup";
        self.emit(&r.address, kind, Some(Value::Object(p)));
        Ok(())
    }

    fn firewall_logging(&mut self, r: &Res) -> Result<(), Failed> {
        let firewall = self.required_reference(r, "firewall_arn")?;
        let cfg = r
            .get("logging_configuration")
            .and_then(|v| v.as_array()?.first())
            .cloned()
            .unwrap_or(Value::Null);
        let list: Vec<Value> = blocks(&cfg, "log_destination_config")
            .iter()
            .map(|d| {
                let mut x = Map::new();
                set(&mut x, d, "log_type", "LogType");
                set(&mut x, d, "log_destination_type", "LogDestinationType");
                set(&mut x, d, "log_destination", "LogDestination");
                Value::Object(x)
            })
            .collect();
        let p = json!({
            "FirewallArn": firewall,
            "LoggingConfiguration": {"LogDestinationConfigs": list},
        });
        let kind = "AWS::NetworkFirewall::LoggingConfiguration";
        self.emit(&r.address, kind, Some(p));
        Ok(())
    }

    /// A route's `vpc_endpoint_id` when it names a firewall endpoint, as CloudFormation writes
    /// it: `Fn::Select [1, Fn::Split [":", Fn::Select [N, Fn::GetAtt [Firewall, EndpointIds]]]]`.
    /// A state holds the `vpce-` id, found in a firewall's `firewall_status`; in a plan the
    /// configuration refers to the firewall (the idiom
    /// `tolist(aws_networkfirewall_firewall.x.firewall_status[0].sync_states)[0].attachment[0].endpoint_id`),
    /// and the endpoint is the one in the zone of the subnets the route table is associated
    /// with, else the first subnet mapping's.
    pub(super) fn firewall_endpoint_target(&mut self, r: &Res) -> Option<Value> {
        let a = r.attr("vpc_endpoint_id");
        let fw_types = |t: &str| t == "aws_networkfirewall_firewall";
        let (fw, mapping) = if let Some(id) = a.value.and_then(Value::as_str) {
            self.resources.iter().enumerate().find_map(|(i, f)| {
                if !fw_types(&f.type_) {
                    return None;
                }
                let states = block(&f.values, "firewall_status")
                    .map(|s| blocks(s, "sync_states"))
                    .unwrap_or(&[]);
                let s = states.iter().find(|s| {
                    block(s, "attachment")
                        .and_then(|x| x.get("endpoint_id"))
                        .and_then(Value::as_str)
                        == Some(id)
                })?;
                let subnet = block(s, "attachment")?.get("subnet_id")?.as_str()?;
                let k = blocks(&f.values, "subnet_mapping")
                    .iter()
                    .position(|m| m.get("subnet_id").and_then(Value::as_str) == Some(subnet))?;
                Some((i, k))
            })?
        } else {
            let refs = a.expr?.get("references")?.as_array()?;
            let fw = refs.iter().filter_map(Value::as_str).find_map(|s| {
                let base = s.split(".firewall_status").next()?;
                let i = *self.by_address.get(&qualify(&r.module, base))?;
                fw_types(&self.resources[i].type_).then_some(i)
            })?;
            (fw, self.mapping_in_zone_of(r, fw).unwrap_or(0))
        };
        let address = &self.resources[fw].address;
        Some(
            json!({"Fn::Select": [1, {"Fn::Split": [":", {"Fn::Select": [mapping, {"Fn::GetAtt": [address, "EndpointIds"]}]}]}]}),
        )
    }

    /// The index of firewall `fw`'s subnet mapping in the zone of the subnets associated with
    /// route `r`'s table, when the plan says so and they agree on one zone.
    fn mapping_in_zone_of(&self, r: &Res, fw: usize) -> Option<usize> {
        let table = referenced_address(r, "route_table_id")?;
        let mut zones = Vec::new();
        for a in &self.resources {
            if a.type_ != "aws_route_table_association"
                || referenced_address(a, "route_table_id").as_deref() != Some(&table)
            {
                continue;
            }
            let subnet = referenced_address(a, "subnet_id")?;
            let s = *self.by_address.get(&subnet)?;
            zones.push(self.resources[s].str("availability_zone")?.to_string());
        }
        zones.dedup();
        let [zone] = zones.as_slice() else {
            return None;
        };
        let f = &self.resources[fw];
        blocks(&f.values, "subnet_mapping")
            .iter()
            .enumerate()
            .position(|(i, _)| {
                referenced_address_nested(f, "subnet_mapping", i, "subnet_id")
                    .and_then(|s| self.by_address.get(&s))
                    .and_then(|&s| self.resources[s].str("availability_zone"))
                    == Some(zone.as_str())
            })
    }
}

/// `aws_vpc.main` of module `module.net` → `module.net.aws_vpc.main`.
fn qualify(module: &str, base: &str) -> String {
    if module.is_empty() {
        base.to_string()
    } else {
        format!("{module}.{base}")
    }
}

/// The address of the resource a plan's configuration expression for `key` names first.
fn referenced_address(r: &Res, key: &str) -> Option<String> {
    first_reference(r, r.attr(key).expr?)
}

fn referenced_address_nested(r: &Res, block_key: &str, i: usize, key: &str) -> Option<String> {
    first_reference(r, deep_attr(r, &[(block_key, i)], key).expr?)
}

fn first_reference(r: &Res, expr: &Value) -> Option<String> {
    let s = expr.get("references")?.as_array()?.first()?.as_str()?;
    let mut parts = s.splitn(3, '.');
    let (t, n) = (parts.next()?, parts.next()?);
    Some(qualify(&r.module, &format!("{t}.{n}")))
}
