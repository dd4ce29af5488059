//! Listener rules of Application Load Balancers (SPEC.md §11.2.2): conditions, priorities, the
//! default rule.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::listeners::{self, check_actions};
use super::{err, hex_id, request_tags, validation, without_tags, Cx, LISTENERS, RULES};
use crate::error::ApiError;
use crate::services::query_form::{list_of, str_of, strings_of};
use crate::store::{Store, Tx};

/// Rules per load balancer, not counting default rules.
const MAX_RULES: usize = 100;

/// Condition fields and the member holding their configuration.
const FIELDS: &[(&str, &str)] = &[
    ("host-header", "HostHeaderConfig"),
    ("path-pattern", "PathPatternConfig"),
    ("http-header", "HttpHeaderConfig"),
    ("http-request-method", "HttpRequestMethodConfig"),
    ("query-string", "QueryStringConfig"),
    ("source-ip", "SourceIpConfig"),
];

/// Fields a rule may hold at most once.
const ONCE: &[&str] = &[
    "host-header",
    "http-request-method",
    "path-pattern",
    "source-ip",
];

/// Checks and normalises a rule's conditions: `Values` and the field's configuration say the
/// same, as AWS prints them.
fn check_conditions(conditions: &[Value]) -> Result<Vec<Value>, ApiError> {
    if conditions.is_empty() {
        return Err(validation("A rule must have at least one condition".into()));
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for c in conditions {
        let field = str_of(c, "Field").unwrap_or_default();
        let Some((_, config_key)) = FIELDS.iter().find(|(f, _)| *f == field) else {
            return Err(validation(format!(
                "Condition field '{field}' is not valid"
            )));
        };
        if ONCE.contains(&field) && seen.contains(&field) {
            return Err(validation(format!(
                "A rule can only have one '{field}' condition"
            )));
        }
        seen.push(field);
        let config = c.get(*config_key).cloned().unwrap_or(Value::Null);
        let mut n = json!({"Field": field});
        match field {
            "http-header" => {
                let name = str_of(&config, "HttpHeaderName").unwrap_or_default();
                let values = strings_of(&config, "Values");
                if name.is_empty() || values.is_empty() {
                    return Err(validation(
                        "An 'http-header' condition needs a header name and at least one value"
                            .into(),
                    ));
                }
                if name.eq_ignore_ascii_case("host") {
                    return Err(validation(
                        "Use a 'host-header' condition to match the Host header".into(),
                    ));
                }
                n[config_key] = json!({"HttpHeaderName": name, "Values": values});
            }
            "query-string" => {
                let values: Vec<Value> = list_of(&config, "Values")
                    .iter()
                    .map(|kv| {
                        let mut x = json!({"Value": str_of(kv, "Value").unwrap_or_default()});
                        if let Some(k) = str_of(kv, "Key") {
                            x["Key"] = json!(k);
                        }
                        x
                    })
                    .collect();
                if values.is_empty() {
                    return Err(validation(
                        "A 'query-string' condition needs at least one value".into(),
                    ));
                }
                n[config_key] = json!({"Values": values});
            }
            _ => {
                let mut values = strings_of(&config, "Values");
                if values.is_empty() {
                    values = strings_of(c, "Values");
                }
                if values.is_empty() {
                    return Err(validation(format!(
                        "A '{field}' condition needs at least one value"
                    )));
                }
                if field == "source-ip"
                    && values
                        .iter()
                        .any(|v| v.parse::<ipnet::IpNet>().is_err() || v == "255.255.255.255/32")
                {
                    return Err(validation(
                        "Source IP condition values must be valid CIDR blocks".into(),
                    ));
                }
                // AWS echoes plain `Values` only for the two fields that had them first.
                if field == "host-header" || field == "path-pattern" {
                    n["Values"] = json!(values);
                }
                n[config_key] = json!({"Values": values});
            }
        }
        out.push(n);
    }
    Ok(out)
}

fn priority(value: &str) -> Result<u32, ApiError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|p| (1..=50_000).contains(p))
        .ok_or_else(|| validation(format!("Priority '{value}' must be between 1 and 50000")))
}

fn get(tx: &Tx<'_>, region: &str, arn: &str) -> Result<Value, ApiError> {
    tx.get(region, RULES, arn)?
        .ok_or_else(|| err("RuleNotFound", format!("Rule '{arn}' not found")))
}

fn render(rule: &Value) -> Value {
    let mut v = without_tags(rule);
    if let Some(m) = v.as_object_mut() {
        m.remove("ListenerArn");
    }
    v
}

/// The listener's load balancer, which must be an Application Load Balancer.
fn alb_of(tx: &Tx<'_>, region: &str, listener: &Value) -> Result<Value, ApiError> {
    let lb = super::load_balancers::get(
        tx,
        region,
        str_of(listener, "LoadBalancerArn").unwrap_or_default(),
    )?;
    if str_of(&lb, "Type") != Some("application") {
        return Err(err(
            "InvalidConfigurationRequest",
            "Rules can be added only to listeners of Application Load Balancers",
        ));
    }
    Ok(lb)
}

pub(super) fn create(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let listener_arn = cx.require("ListenerArn")?.to_string();
    let arn = listener_arn.replacen(":listener/", ":listener-rule/", 1) + "/" + &hex_id();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let prio = priority(cx.require("Priority")?)?;
    let conditions = check_conditions(list_of(cx.input, "Conditions"))?;
    let tags = request_tags(cx.input)?;
    let doc = store.write(|tx| {
        let listener = listeners::get(tx, cx.region(), &listener_arn)?;
        let lb = alb_of(tx, cx.region(), &listener)?;
        let protocol = str_of(&listener, "Protocol").unwrap_or("HTTP");
        let actions = check_actions(tx, cx, &lb, protocol, list_of(cx.input, "Actions"))?;
        let rules = tx.list(cx.region(), RULES)?;
        if rules.iter().any(|r| str_of(r, "ListenerArn") == Some(listener_arn.as_str()) && str_of(r, "Priority") == Some(prio.to_string().as_str())) {
            return Err(err("PriorityInUse", format!("Priority '{prio}' is currently in use")));
        }
        let lb_arn = str_of(&lb, "LoadBalancerArn").unwrap_or_default();
        let listeners_of_lb: Vec<String> = tx
            .list(cx.region(), LISTENERS)?
            .iter()
            .filter(|l| str_of(l, "LoadBalancerArn") == Some(lb_arn))
            .filter_map(|l| str_of(l, "ListenerArn").map(str::to_string))
            .collect();
        let count = rules
            .iter()
            .filter(|r| r["IsDefault"] != json!(true) && str_of(r, "ListenerArn").is_some_and(|l| listeners_of_lb.iter().any(|x| x == l)))
            .count();
        if count >= MAX_RULES {
            return Err(err("TooManyRules", format!("The load balancer '{lb_arn}' has reached the limit of {MAX_RULES} rules")));
        }
        let rule = json!({"RuleArn": arn, "Priority": prio.to_string(), "Conditions": conditions, "Actions": actions,
            "IsDefault": false, "ListenerArn": listener_arn, "Tags": tags});
        tx.put(cx.region(), RULES, &arn, &rule)?;
        Ok(rule)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"Rules": [render(&doc)]})))
}

/// Rules in AWS's order: by priority, the default rule last.
fn sort_rules(rules: &mut [Value]) {
    rules.sort_by_key(|r| {
        str_of(r, "Priority")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    });
}

pub(super) fn describe(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    cx.call.authorize(&["*".to_string()], &[])?;
    let arns = cx.strings("RuleArns");
    let listener = cx.str("ListenerArn").map(str::to_string);
    if arns.is_empty() && listener.is_none() {
        return Err(validation(
            "You must specify either listener ARN or rule ARNs".into(),
        ));
    }
    let mut rules = store.read(|tx| {
        if let Some(l) = &listener {
            listeners::get(tx, cx.region(), l)?;
            return Ok(tx
                .list(cx.region(), RULES)?
                .into_iter()
                .filter(|r| str_of(r, "ListenerArn") == Some(l.as_str()))
                .collect());
        }
        arns.iter()
            .map(|a| get(tx, cx.region(), a))
            .collect::<Result<Vec<_>, _>>()
    })?;
    sort_rules(&mut rules);
    let (items, next) = super::page(cx, rules)?;
    let mut out = json!({"Rules": items.iter().map(render).collect::<Vec<_>>()});
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(Some(out))
}

pub(super) fn modify(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("RuleArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let doc = store.write(|tx| {
        let mut rule = get(tx, cx.region(), &arn)?;
        let listener = listeners::get(
            tx,
            cx.region(),
            str_of(&rule, "ListenerArn").unwrap_or_default(),
        )?;
        let is_default = rule["IsDefault"] == json!(true);
        let conditions = list_of(cx.input, "Conditions");
        if !conditions.is_empty() {
            if is_default {
                return Err(err(
                    "OperationNotPermitted",
                    format!("The conditions of default rule '{arn}' cannot be modified"),
                ));
            }
            rule["Conditions"] = json!(check_conditions(conditions)?);
        }
        let actions = list_of(cx.input, "Actions");
        if !actions.is_empty() {
            let lb = super::load_balancers::get(
                tx,
                cx.region(),
                str_of(&listener, "LoadBalancerArn").unwrap_or_default(),
            )?;
            let protocol = str_of(&listener, "Protocol").unwrap_or("HTTP");
            let actions = check_actions(tx, cx, &lb, protocol, actions)?;
            rule["Actions"] = json!(actions);
            if is_default {
                // The default rule's actions are the listener's default actions.
                let mut l = listener.clone();
                l["DefaultActions"] = json!(actions);
                tx.put(
                    cx.region(),
                    LISTENERS,
                    str_of(&listener, "ListenerArn").unwrap_or_default(),
                    &l,
                )?;
            }
        }
        tx.put(cx.region(), RULES, &arn, &rule)?;
        Ok(rule)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"Rules": [render(&doc)]})))
}

pub(super) fn delete(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("RuleArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    store.write(|tx| {
        let rule = get(tx, cx.region(), &arn)?;
        if rule["IsDefault"] == json!(true) {
            return Err(err(
                "OperationNotPermitted",
                format!("Default rule '{arn}' cannot be deleted"),
            ));
        }
        tx.delete(cx.region(), RULES, &arn)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}

pub(super) fn set_priorities(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let pairs = list_of(cx.input, "RulePriorities");
    let arns: Vec<String> = pairs
        .iter()
        .filter_map(|p| str_of(p, "RuleArn").map(str::to_string))
        .collect();
    cx.call.authorize(&arns, &[])?;
    if pairs.is_empty() {
        return Err(ApiError::missing_parameter("RulePriorities"));
    }
    let changed = store.write(|tx| {
        let mut wanted: BTreeMap<String, u32> = BTreeMap::new();
        let mut rules = Vec::new();
        for p in pairs {
            let arn = str_of(p, "RuleArn").unwrap_or_default();
            let rule = get(tx, cx.region(), arn)?;
            if rule["IsDefault"] == json!(true) {
                return Err(err(
                    "OperationNotPermitted",
                    format!("The priority of default rule '{arn}' cannot be changed"),
                ));
            }
            let prio = priority(
                &super::query_form::int_of(p, "Priority")?
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
            )?;
            wanted.insert(arn.to_string(), prio);
            rules.push(rule);
        }
        // Every rule of each listener touched, with the new priorities, must stay unique.
        let all = tx.list(cx.region(), RULES)?;
        for r in &rules {
            let listener = str_of(r, "ListenerArn");
            let mut used: BTreeMap<u32, &str> = BTreeMap::new();
            for x in all
                .iter()
                .filter(|x| str_of(x, "ListenerArn") == listener && x["IsDefault"] != json!(true))
            {
                let arn = str_of(x, "RuleArn").unwrap_or_default();
                let p = wanted
                    .get(arn)
                    .copied()
                    .or_else(|| str_of(x, "Priority").and_then(|p| p.parse().ok()))
                    .unwrap_or(0);
                if used.insert(p, arn).is_some_and(|other| other != arn) {
                    return Err(err(
                        "PriorityInUse",
                        format!("Priority '{p}' is currently in use"),
                    ));
                }
            }
        }
        let mut out = Vec::new();
        for mut r in rules {
            let arn = str_of(&r, "RuleArn").unwrap_or_default().to_string();
            r["Priority"] = json!(wanted[&arn].to_string());
            tx.put(cx.region(), RULES, &arn, &r)?;
            out.push(r);
        }
        Ok(out)
    })?;
    cx.call.changed(cx.region());
    let mut changed = changed;
    sort_rules(&mut changed);
    Ok(Some(
        json!({"Rules": changed.iter().map(render).collect::<Vec<_>>()}),
    ))
}
