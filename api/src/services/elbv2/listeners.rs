//! Listeners, and the actions listeners and rules share (SPEC.md §11.2.3).

use serde_json::{json, Value};

use super::target_groups::{self, forwarded_groups, load_balancers_of};
use super::{err, hex_id, page, request_tags, validation, without_tags, Cx, LISTENERS, RULES};
use crate::error::ApiError;
use crate::services::query_form::{bool_of, int_of, list_of, str_of};
use crate::store::{Store, Tx};

/// Listener protocols per load balancer type.
fn listener_protocols(lb_type: &str) -> &'static [&'static str] {
    match lb_type {
        "application" => &["HTTP", "HTTPS"],
        "network" => &["TCP", "TLS", "UDP", "TCP_UDP"],
        _ => &[],
    }
}

/// Target-group protocols a listener protocol can forward to.
fn forwardable(listener: &str) -> &'static [&'static str] {
    match listener {
        "HTTP" | "HTTPS" => &["HTTP", "HTTPS"],
        "TCP" => &["TCP", "TCP_UDP"],
        "TLS" => &["TCP", "TLS"],
        "UDP" => &["UDP", "TCP_UDP"],
        "TCP_UDP" => &["TCP_UDP"],
        _ => &["GENEVE"],
    }
}

const TERMINAL: &[&str] = &["forward", "redirect", "fixed-response"];

fn invalid_action(message: String) -> ApiError {
    err("InvalidLoadBalancerAction", message)
}

/// The forward action's groups, checked: they exist, fit the listener's protocol and the load
/// balancer's VPC, and no other load balancer uses them. With `ForwardConfig` normalised.
fn check_forward(
    tx: &Tx<'_>,
    cx: &Cx<'_>,
    lb: &Value,
    protocol: &str,
    a: &mut Value,
) -> Result<(), ApiError> {
    let groups = forwarded_groups(a);
    if groups.is_empty() {
        return Err(validation(
            "A target group ARN must be specified for a forward action".into(),
        ));
    }
    if groups.len() > 5 {
        return Err(err(
            "TooManyTargetGroups",
            "A forward action can have at most 5 target groups",
        ));
    }
    let lb_arn = str_of(lb, "LoadBalancerArn").unwrap_or_default();
    for arn in &groups {
        let g = target_groups::get(tx, cx.region(), arn)?;
        let gp = str_of(&g, "Protocol");
        match gp {
            Some(gp) if !forwardable(protocol).contains(&gp) => {
                return Err(err(
                    "IncompatibleProtocols",
                    format!("Listener protocol '{protocol}' is not supported with a target group with the protocol '{gp}'"),
                ))
            }
            None if str_of(lb, "Type") != Some("application") => {
                return Err(err("IncompatibleProtocols", format!("Target group '{arn}' can be used only with Application Load Balancers")))
            }
            _ => {}
        }
        if let Some(v) = str_of(&g, "VpcId") {
            if Some(v) != str_of(lb, "VpcId") {
                return Err(err(
                    "InvalidConfigurationRequest",
                    format!(
                        "Target group '{arn}' and load balancer '{lb_arn}' are in different VPCs"
                    ),
                ));
            }
        }
        let others: Vec<String> = load_balancers_of(tx, cx.region(), arn)?
            .into_iter()
            .filter(|x| x != lb_arn)
            .collect();
        if !others.is_empty() {
            return Err(err("TargetGroupAssociationLimit", format!("The following target groups cannot be associated with more than one load balancer: {arn}")));
        }
    }
    let mut tuples = Vec::new();
    let config = a.get("ForwardConfig").cloned().unwrap_or(Value::Null);
    for arn in &groups {
        let given = list_of(&config, "TargetGroups")
            .iter()
            .find(|t| str_of(t, "TargetGroupArn") == Some(arn.as_str()));
        let weight = match given {
            Some(t) => int_of(t, "Weight")?.unwrap_or(1),
            None => 1,
        };
        if !(0..=999).contains(&weight) {
            return Err(validation(format!(
                "Target group weight '{weight}' must be between 0 and 999"
            )));
        }
        tuples.push(json!({"TargetGroupArn": arn, "Weight": weight}));
    }
    let sticky = config
        .get("TargetGroupStickinessConfig")
        .cloned()
        .unwrap_or(Value::Null);
    let enabled = bool_of(&sticky, "Enabled")?.unwrap_or(false);
    let mut stickiness = json!({"Enabled": enabled});
    if let Some(d) = int_of(&sticky, "DurationSeconds")? {
        if !(1..=604_800).contains(&d) {
            return Err(validation(format!(
                "Target group stickiness duration '{d}' must be between 1 and 604800 seconds"
            )));
        }
        stickiness["DurationSeconds"] = json!(d);
    } else if enabled {
        return Err(validation(
            "A duration must be specified when target group stickiness is enabled".into(),
        ));
    }
    if groups.len() == 1 {
        a["TargetGroupArn"] = json!(groups[0]);
    } else if let Some(m) = a.as_object_mut() {
        m.remove("TargetGroupArn");
    }
    a["ForwardConfig"] = json!({"TargetGroups": tuples, "TargetGroupStickinessConfig": stickiness});
    Ok(())
}

fn check_redirect(protocol: &str, a: &mut Value) -> Result<(), ApiError> {
    let c = a.get("RedirectConfig").cloned().unwrap_or(Value::Null);
    let status = str_of(&c, "StatusCode").unwrap_or_default();
    if status != "HTTP_301" && status != "HTTP_302" {
        return Err(validation(
            "A redirect action's status code must be 'HTTP_301' or 'HTTP_302'".into(),
        ));
    }
    let to = str_of(&c, "Protocol").unwrap_or("#{protocol}");
    if !["HTTP", "HTTPS", "#{protocol}"].contains(&to) {
        return Err(validation(format!(
            "Redirect protocol '{to}' must be 'HTTP', 'HTTPS' or '#{{protocol}}'"
        )));
    }
    if protocol == "HTTPS" && to == "HTTP" {
        return Err(invalid_action(
            "A redirect from HTTPS to HTTP is not allowed".into(),
        ));
    }
    if let Some(p) = str_of(&c, "Path") {
        if !p.starts_with('/') {
            return Err(validation(format!(
                "Redirect path '{p}' must start with '/'"
            )));
        }
    }
    // Unset components keep the request's own, which AWS prints as placeholders.
    a["RedirectConfig"] = json!({
        "Protocol": to,
        "Port": str_of(&c, "Port").unwrap_or("#{port}"),
        "Host": str_of(&c, "Host").unwrap_or("#{host}"),
        "Path": str_of(&c, "Path").unwrap_or("/#{path}"),
        "Query": str_of(&c, "Query").unwrap_or("#{query}"),
        "StatusCode": status,
    });
    Ok(())
}

fn check_fixed_response(a: &mut Value) -> Result<(), ApiError> {
    let c = a.get("FixedResponseConfig").cloned().unwrap_or(Value::Null);
    let status = str_of(&c, "StatusCode").unwrap_or_default();
    let ok = status.len() == 3
        && matches!(status.as_bytes()[0], b'2'..=b'5')
        && status.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(validation(format!(
            "Fixed response status code '{status}' must be between 200 and 599"
        )));
    }
    let mut out = json!({"StatusCode": status});
    if let Some(t) = str_of(&c, "ContentType") {
        if ![
            "text/plain",
            "text/css",
            "text/html",
            "application/javascript",
            "application/json",
        ]
        .contains(&t)
        {
            return Err(validation(format!(
                "Fixed response content type '{t}' is not valid"
            )));
        }
        out["ContentType"] = json!(t);
    }
    if let Some(b) = str_of(&c, "MessageBody") {
        if b.len() > 1024 {
            return Err(validation(
                "A fixed response message body can be at most 1024 characters".into(),
            ));
        }
        out["MessageBody"] = json!(b);
    }
    a["FixedResponseConfig"] = out;
    Ok(())
}

/// Checks and normalises the actions of a listener or rule on `lb` (whose listener speaks
/// `protocol`): ordered, exactly one terminal action and it last, each well formed.
pub(super) fn check_actions(
    tx: &Tx<'_>,
    cx: &Cx<'_>,
    lb: &Value,
    protocol: &str,
    actions: &[Value],
) -> Result<Vec<Value>, ApiError> {
    if actions.is_empty() {
        return Err(validation("At least one action must be specified".into()));
    }
    let lb_type = str_of(lb, "Type").unwrap_or("application");
    let mut out: Vec<(i64, Value)> = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        let t = str_of(a, "Type").unwrap_or_default().to_string();
        let order = int_of(a, "Order")?.unwrap_or(i as i64 + 1);
        if !(1..=50_000).contains(&order) {
            return Err(validation(format!(
                "Action order '{order}' must be between 1 and 50000"
            )));
        }
        let mut a = a.clone();
        a["Type"] = json!(t);
        a["Order"] = json!(order);
        match t.as_str() {
            "forward" => check_forward(tx, cx, lb, protocol, &mut a)?,
            "redirect" | "fixed-response" if lb_type != "application" => {
                return Err(invalid_action(format!(
                    "Action type '{t}' is not supported for load balancers of type '{lb_type}'"
                )))
            }
            "redirect" => check_redirect(protocol, &mut a)?,
            "fixed-response" => check_fixed_response(&mut a)?,
            "authenticate-oidc" | "authenticate-cognito" if protocol != "HTTPS" => {
                return Err(invalid_action(format!(
                    "Action type '{t}' can be used only with HTTPS listeners"
                )))
            }
            "authenticate-oidc" | "authenticate-cognito" => {}
            other => return Err(validation(format!("Action type '{other}' is not valid"))),
        }
        out.push((order, a));
    }
    out.sort_by_key(|(o, _)| *o);
    let terminal = out
        .iter()
        .filter(|(_, a)| TERMINAL.contains(&str_of(a, "Type").unwrap_or_default()))
        .count();
    let last_terminal = out
        .last()
        .is_some_and(|(_, a)| TERMINAL.contains(&str_of(a, "Type").unwrap_or_default()));
    if terminal != 1 || !last_terminal {
        return Err(invalid_action("Exactly one of 'forward', 'redirect' or 'fixed-response' must be specified, as the last action".into()));
    }
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

/// The stored listener `arn`, or `ListenerNotFound`.
pub(super) fn get(tx: &Tx<'_>, region: &str, arn: &str) -> Result<Value, ApiError> {
    tx.get(region, LISTENERS, arn)?
        .ok_or_else(|| err("ListenerNotFound", format!("Listener '{arn}' not found")))
}

/// Protocol, port, certificates and SSL policy of a new or modified listener, checked for the
/// load balancer's type, over `l`.
fn settings(cx: &Cx<'_>, lb: &Value, mut l: Value) -> Result<Value, ApiError> {
    let lb_type = str_of(lb, "Type").unwrap_or("application");
    if lb_type == "gateway" {
        if cx.str("Protocol").is_some() || cx.int("Port")?.is_some() {
            return Err(validation(
                "Protocol and port cannot be specified for listeners of Gateway Load Balancers"
                    .into(),
            ));
        }
        return Ok(l);
    }
    if let Some(p) = cx.str("Protocol") {
        if !listener_protocols(lb_type).contains(&p) {
            return Err(err(
                "UnsupportedProtocol",
                format!(
                    "Listener protocol '{p}' must be one of '{}'",
                    listener_protocols(lb_type).join(", ")
                ),
            ));
        }
        l["Protocol"] = json!(p);
    }
    if let Some(p) = cx.range("Port", 1, 65535)? {
        l["Port"] = json!(p);
    }
    if l.get("Protocol").is_none() || l.get("Port").is_none() {
        return Err(validation("A protocol and a port must be specified".into()));
    }
    let certs: Vec<Value> = list_of(cx.input, "Certificates")
        .iter()
        .filter_map(|c| str_of(c, "CertificateArn"))
        .map(|a| json!({"CertificateArn": a}))
        .collect();
    if !certs.is_empty() {
        l["Certificates"] = Value::Array(certs);
    }
    let secure = matches!(str_of(&l, "Protocol"), Some("HTTPS" | "TLS"));
    if secure {
        if list_of(&l, "Certificates").is_empty() {
            return Err(err(
                "CertificateNotFound",
                format!(
                    "A certificate must be specified for {} listeners",
                    str_of(&l, "Protocol").unwrap_or_default()
                ),
            ));
        }
        l["SslPolicy"] = json!(cx
            .str("SslPolicy")
            .or(str_of(&l, "SslPolicy"))
            .unwrap_or("ELBSecurityPolicy-2016-08"));
    } else if let Some(m) = l.as_object_mut() {
        m.remove("Certificates");
        m.remove("SslPolicy");
    }
    Ok(l)
}

/// The listener's default rule (one per listener, never deleted, actions = the default actions).
fn default_rule(listener_arn: &str, actions: &[Value]) -> (String, Value) {
    let arn = listener_arn.replacen(":listener/", ":listener-rule/", 1) + "/" + &hex_id();
    let rule = json!({"RuleArn": arn, "Priority": "default", "Conditions": [], "Actions": actions, "IsDefault": true, "ListenerArn": listener_arn});
    (arn, rule)
}

pub(super) fn create(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let lb_arn = cx.require("LoadBalancerArn")?.to_string();
    let tail = lb_arn
        .split_once(":loadbalancer/")
        .map(|(_, t)| t)
        .unwrap_or_default();
    let arn = cx.arn(&format!("listener/{tail}/{}", hex_id()));
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let tags = request_tags(cx.input)?;
    let doc = store.write(|tx| {
        let lb = super::load_balancers::get(tx, cx.region(), &lb_arn)?;
        let mut l = settings(
            cx,
            &lb,
            json!({"ListenerArn": arn, "LoadBalancerArn": lb_arn}),
        )?;
        let protocol = str_of(&l, "Protocol").unwrap_or("GENEVE").to_string();
        let actions = check_actions(tx, cx, &lb, &protocol, list_of(cx.input, "DefaultActions"))?;
        l["DefaultActions"] = json!(actions);
        let siblings: Vec<Value> = tx
            .list(cx.region(), LISTENERS)?
            .into_iter()
            .filter(|x| str_of(x, "LoadBalancerArn") == Some(lb_arn.as_str()))
            .collect();
        if let Some(same) = siblings.iter().find(|x| x.get("Port") == l.get("Port")) {
            // CreateListener is idempotent for the same settings.
            if same.get("Protocol") == l.get("Protocol")
                && same.get("DefaultActions") == l.get("DefaultActions")
            {
                return Ok(same.clone());
            }
            return Err(err(
                "DuplicateListener",
                format!("A listener already exists on this port for this load balancer '{lb_arn}'"),
            ));
        }
        if siblings.len() >= 50 {
            return Err(err(
                "TooManyListeners",
                format!(
                    "The load balancer '{lb_arn}' has reached the limit on the number of listeners"
                ),
            ));
        }
        l["Tags"] = Value::Array(tags.clone());
        tx.put(cx.region(), LISTENERS, &arn, &l)?;
        let (rule_arn, rule) = default_rule(&arn, &actions);
        tx.put(cx.region(), RULES, &rule_arn, &rule)?;
        Ok(l)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"Listeners": [without_tags(&doc)]})))
}

pub(super) fn describe(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    cx.call.authorize(&["*".to_string()], &[])?;
    let arns = cx.strings("ListenerArns");
    let lb = cx.str("LoadBalancerArn").map(str::to_string);
    if arns.is_empty() && lb.is_none() {
        return Err(validation(
            "You must specify either listener ARNs or a load balancer ARN".into(),
        ));
    }
    let chosen = store.read(|tx| {
        if let Some(lb) = &lb {
            super::load_balancers::get(tx, cx.region(), lb)?;
            return Ok(tx
                .list(cx.region(), LISTENERS)?
                .into_iter()
                .filter(|l| str_of(l, "LoadBalancerArn") == Some(lb.as_str()))
                .collect());
        }
        arns.iter()
            .map(|a| get(tx, cx.region(), a))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let (items, next) = page(cx, chosen)?;
    let mut out = json!({"Listeners": items.iter().map(without_tags).collect::<Vec<_>>()});
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(Some(out))
}

pub(super) fn modify(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("ListenerArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let doc = store.write(|tx| {
        let old = get(tx, cx.region(), &arn)?;
        let lb_arn = str_of(&old, "LoadBalancerArn")
            .unwrap_or_default()
            .to_string();
        let lb = super::load_balancers::get(tx, cx.region(), &lb_arn)?;
        let mut l = settings(cx, &lb, old.clone())?;
        let protocol = str_of(&l, "Protocol").unwrap_or("GENEVE").to_string();
        let given = list_of(cx.input, "DefaultActions");
        let current = list_of(&old, "DefaultActions").to_vec();
        let actions = check_actions(
            tx,
            cx,
            &lb,
            &protocol,
            if given.is_empty() { &current } else { given },
        )?;
        l["DefaultActions"] = json!(actions);
        let clash = tx.list(cx.region(), LISTENERS)?.into_iter().any(|x| {
            str_of(&x, "LoadBalancerArn") == Some(lb_arn.as_str())
                && str_of(&x, "ListenerArn") != Some(arn.as_str())
                && x.get("Port") == l.get("Port")
        });
        if clash {
            return Err(err(
                "DuplicateListener",
                format!("A listener already exists on this port for this load balancer '{lb_arn}'"),
            ));
        }
        tx.put(cx.region(), LISTENERS, &arn, &l)?;
        for mut r in tx.list(cx.region(), RULES)? {
            if str_of(&r, "ListenerArn") == Some(arn.as_str()) && r["IsDefault"] == json!(true) {
                r["Actions"] = json!(actions);
                let rule_arn = str_of(&r, "RuleArn").unwrap_or_default().to_string();
                tx.put(cx.region(), RULES, &rule_arn, &r)?;
            }
        }
        Ok(l)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"Listeners": [without_tags(&doc)]})))
}

pub(super) fn delete(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("ListenerArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    store.write(|tx| {
        get(tx, cx.region(), &arn)?;
        for r in tx.list(cx.region(), RULES)? {
            if str_of(&r, "ListenerArn") == Some(arn.as_str()) {
                tx.delete(
                    cx.region(),
                    RULES,
                    str_of(&r, "RuleArn").unwrap_or_default(),
                )?;
            }
        }
        tx.delete(cx.region(), LISTENERS, &arn)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}
