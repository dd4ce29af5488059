//! Target groups, their attributes, registered targets and target health.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{json, Value};

use super::load_balancers::attribute;
use super::{
    check_name, err, hex_id, page, request_tags, validation, without_tags, Cx, LISTENERS, RULES,
    TARGETS, TARGET_GROUPS, TG_ATTRIBUTES,
};
use crate::error::ApiError;
use crate::services::query_form::{bool_of, int_of, list_of, str_of};
use crate::store::{Store, Tx};

/// One target's health, as `DescribeTargetHealth` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    /// `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`.
    pub state: String,
    /// `Elb.InitialHealthChecking`, `Target.Timeout`, ... (none when healthy).
    pub reason: Option<String>,
    /// AWS's sentence for the reason.
    pub description: Option<String>,
}

/// The data plane's health checks: the health of registered targets of one target group.
pub trait TargetHealthSource {
    /// The health of each of `targets` (`{Id, Port}` objects, all registered and the group in
    /// use by a load balancer) of the stored `target_group` in `region`, in the same order.
    fn target_health(
        &self,
        region: &str,
        target_group: &Value,
        targets: &[Value],
    ) -> Result<Vec<TargetHealth>, ApiError>;
}

const PROTOCOLS: &[&str] = &["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE"];

/// The stored target group `arn`, or `TargetGroupNotFound`.
pub(super) fn get(tx: &Tx<'_>, region: &str, arn: &str) -> Result<Value, ApiError> {
    tx.get(region, TARGET_GROUPS, arn)?.ok_or_else(|| {
        err(
            "TargetGroupNotFound",
            format!("Target group '{arn}' not found"),
        )
    })
}

/// The target groups an action forwards to.
pub(super) fn forwarded_groups(action: &Value) -> Vec<String> {
    let mut out: Vec<String> = str_of(action, "TargetGroupArn")
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Some(f) = action.get("ForwardConfig") {
        for g in list_of(f, "TargetGroups") {
            if let Some(a) = str_of(g, "TargetGroupArn") {
                if !out.iter().any(|x| x == a) {
                    out.push(a.to_string());
                }
            }
        }
    }
    out
}

/// The load balancers whose listeners or rules forward to target group `arn`.
pub(super) fn load_balancers_of(
    tx: &Tx<'_>,
    region: &str,
    arn: &str,
) -> Result<Vec<String>, ApiError> {
    let listeners = tx.list(region, LISTENERS)?;
    let mut out: Vec<String> = Vec::new();
    let mut add = |lb: Option<&str>| {
        if let Some(lb) = lb {
            if !out.iter().any(|x| x == lb) {
                out.push(lb.to_string());
            }
        }
    };
    for l in &listeners {
        if list_of(l, "DefaultActions")
            .iter()
            .any(|a| forwarded_groups(a).iter().any(|g| g == arn))
        {
            add(str_of(l, "LoadBalancerArn"));
        }
    }
    for r in tx.list(region, RULES)? {
        if list_of(&r, "Actions")
            .iter()
            .any(|a| forwarded_groups(a).iter().any(|g| g == arn))
        {
            let l = listeners
                .iter()
                .find(|l| str_of(l, "ListenerArn") == str_of(&r, "ListenerArn"));
            add(l.and_then(|l| str_of(l, "LoadBalancerArn")));
        }
    }
    Ok(out)
}

fn render(tx: &Tx<'_>, region: &str, doc: &Value) -> Result<Value, ApiError> {
    let mut v = without_tags(doc);
    let arn = str_of(doc, "TargetGroupArn").unwrap_or_default();
    v["LoadBalancerArns"] = json!(load_balancers_of(tx, region, arn)?);
    Ok(v)
}

/// Health-check settings from the request over `base` (the defaults, or the stored group).
fn health_check(cx: &Cx<'_>, mut g: Value) -> Result<Value, ApiError> {
    let input = cx.input;
    if let Some(p) = str_of(input, "HealthCheckProtocol") {
        if !["HTTP", "HTTPS", "TCP"].contains(&p) {
            return Err(validation(format!(
                "Health check protocol '{p}' is not supported"
            )));
        }
        g["HealthCheckProtocol"] = json!(p);
    }
    if let Some(p) = str_of(input, "HealthCheckPort") {
        if p != "traffic-port" && !p.parse::<u16>().is_ok_and(|x| x > 0) {
            return Err(validation(format!(
                "Health check port '{p}' must be 'traffic-port' or a port between 1 and 65535"
            )));
        }
        g["HealthCheckPort"] = json!(p);
    }
    if let Some(b) = bool_of(input, "HealthCheckEnabled")? {
        g["HealthCheckEnabled"] = json!(b);
    }
    if let Some(p) = str_of(input, "HealthCheckPath") {
        if !p.starts_with('/') || p.len() > 1024 {
            return Err(validation(format!(
                "Health check path '{p}' must begin with '/' and be at most 1024 characters"
            )));
        }
        g["HealthCheckPath"] = json!(p);
    }
    for (key, lo, hi) in [
        ("HealthCheckIntervalSeconds", 5, 300),
        ("HealthCheckTimeoutSeconds", 2, 120),
        ("HealthyThresholdCount", 2, 10),
        ("UnhealthyThresholdCount", 2, 10),
    ] {
        if let Some(x) = cx.range(key, lo, hi)? {
            g[key] = json!(x);
        }
    }
    if let Some(m) = input.get("Matcher") {
        if let Some(c) = str_of(m, "HttpCode") {
            g["Matcher"] = json!({"HttpCode": c});
        }
    }
    let interval = int_of(&g, "HealthCheckIntervalSeconds")?.unwrap_or(30);
    let timeout = int_of(&g, "HealthCheckTimeoutSeconds")?.unwrap_or(5);
    if timeout >= interval {
        return Err(err(
            "InvalidConfigurationRequest",
            "Health check interval must be greater than the timeout.",
        ));
    }
    let hc = str_of(&g, "HealthCheckProtocol")
        .unwrap_or("TCP")
        .to_string();
    if hc == "TCP" {
        if let Some(m) = g.as_object_mut() {
            m.remove("HealthCheckPath");
            m.remove("Matcher");
        }
    } else if g.get("HealthCheckPath").is_none() {
        g["HealthCheckPath"] = json!("/");
    }
    if hc != "TCP" && g.get("Matcher").is_none() {
        g["Matcher"] = json!({"HttpCode": if g["Protocol"] == "HTTP" || g["Protocol"] == "HTTPS" { "200" } else { "200-399" }});
    }
    Ok(g)
}

fn default_attributes(g: &Value) -> Vec<Value> {
    let protocol = str_of(g, "Protocol").unwrap_or_default();
    let layer7 = protocol == "HTTP" || protocol == "HTTPS";
    let mut a: Vec<(&str, String)> = vec![("deregistration_delay.timeout_seconds", "300".into())];
    if layer7 {
        a.extend([
            ("stickiness.enabled", "false".into()),
            ("stickiness.type", "lb_cookie".into()),
            ("stickiness.lb_cookie.duration_seconds", "86400".into()),
            ("slow_start.duration_seconds", "0".into()),
            ("load_balancing.algorithm.type", "round_robin".into()),
            (
                "load_balancing.cross_zone.enabled",
                "use_load_balancer_configuration".into(),
            ),
        ]);
    } else if protocol != "GENEVE" {
        let instance = str_of(g, "TargetType") == Some("instance");
        a.extend([
            ("stickiness.enabled", "false".into()),
            ("stickiness.type", "source_ip".into()),
            ("proxy_protocol_v2.enabled", "false".into()),
            ("preserve_client_ip.enabled", instance.to_string()),
            (
                "deregistration_delay.connection_termination.enabled",
                "false".into(),
            ),
            (
                "load_balancing.cross_zone.enabled",
                "use_load_balancer_configuration".into(),
            ),
        ]);
    }
    a.into_iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect()
}

pub(super) fn create(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let name = cx.require("Name")?.to_string();
    let arn = cx.arn(&format!("targetgroup/{name}/{}", hex_id()));
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    check_name(&name, "Target group")?;
    let target_type = cx.str("TargetType").unwrap_or("instance").to_string();
    if !["instance", "ip", "lambda", "alb"].contains(&target_type.as_str()) {
        return Err(validation(format!(
            "Target type '{target_type}' is not valid"
        )));
    }
    let lambda = target_type == "lambda";
    let protocol = cx.str("Protocol").map(str::to_string);
    let port = cx.range("Port", 1, 65535)?;
    let vpc = cx.str("VpcId").map(str::to_string);
    if !lambda && (protocol.is_none() || port.is_none() || vpc.is_none()) {
        return Err(validation("A protocol, a port and a VPC ID must be specified for target groups whose target type is not 'lambda'".into()));
    }
    if let Some(p) = &protocol {
        if !PROTOCOLS.contains(&p.as_str()) {
            return Err(validation(format!("Protocol '{p}' is not valid")));
        }
    }
    let tags = request_tags(cx.input)?;
    let doc = store.write(|tx| {
        if let Some(v) = &vpc {
            if tx.get(cx.region(), "Vpcs", v)?.is_none() {
                return Err(validation(format!("The VPC ID '{v}' is not found")));
            }
        }
        let p = protocol.as_deref().unwrap_or_default();
        let layer7 = p == "HTTP" || p == "HTTPS";
        let mut g = json!({
            "TargetGroupArn": arn,
            "TargetGroupName": name,
        });
        if let Some(p) = &protocol {
            g["Protocol"] = json!(p);
            if layer7 {
                g["ProtocolVersion"] = json!(cx.str("ProtocolVersion").unwrap_or("HTTP1"));
            }
        }
        if let Some(x) = port {
            g["Port"] = json!(x);
        }
        if let Some(v) = &vpc {
            g["VpcId"] = json!(v);
        }
        let (hc_protocol, interval, timeout, hc_port) = match p {
            "HTTP" | "HTTPS" => (p, 30, 5, "traffic-port"),
            "GENEVE" => ("TCP", 10, 5, "80"),
            "" => ("HTTP", 35, 30, "traffic-port"),
            _ => ("TCP", 30, 10, "traffic-port"),
        };
        g["HealthCheckProtocol"] = json!(hc_protocol);
        g["HealthCheckPort"] = json!(hc_port);
        g["HealthCheckEnabled"] = json!(!lambda);
        g["HealthCheckIntervalSeconds"] = json!(interval);
        g["HealthCheckTimeoutSeconds"] = json!(timeout);
        g["HealthyThresholdCount"] = json!(5);
        g["UnhealthyThresholdCount"] = json!(2);
        g["TargetType"] = json!(target_type);
        if !lambda {
            g["IpAddressType"] = json!(cx.str("IpAddressType").unwrap_or("ipv4"));
        }
        let g = health_check(cx, g)?;
        if let Some(same) = tx
            .list(cx.region(), TARGET_GROUPS)?
            .into_iter()
            .find(|x| str_of(x, "TargetGroupName") == Some(name.as_str()))
        {
            // CreateTargetGroup is idempotent for the same settings.
            let settings = ["Protocol", "Port", "VpcId", "TargetType"];
            if settings.iter().all(|k| same.get(*k) == g.get(*k)) {
                return Ok(same);
            }
            return Err(err(
                "DuplicateTargetGroupName",
                "A target group with the same name exists, but with different settings",
            ));
        }
        let mut g = g;
        g["Tags"] = Value::Array(tags.clone());
        tx.put(cx.region(), TARGET_GROUPS, &arn, &g)?;
        tx.put(
            cx.region(),
            TG_ATTRIBUTES,
            &arn,
            &json!({"TargetGroupArn": arn, "Attributes": default_attributes(&g)}),
        )?;
        tx.put(
            cx.region(),
            TARGETS,
            &arn,
            &json!({"TargetGroupArn": arn, "TargetHealthDescriptions": []}),
        )?;
        Ok(g)
    })?;
    cx.call.changed(cx.region());
    let out = store.read(|tx| render(tx, cx.region(), &doc))?;
    Ok(Some(json!({"TargetGroups": [out]})))
}

pub(super) fn describe(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    cx.call.authorize(&["*".to_string()], &[])?;
    let arns = cx.strings("TargetGroupArns");
    let names = cx.strings("Names");
    let lb = cx.str("LoadBalancerArn").map(str::to_string);
    let chosen = store.read(|tx| {
        let all = tx.list(cx.region(), TARGET_GROUPS)?;
        let mut out = Vec::new();
        let not_found = || err("TargetGroupNotFound", "One or more target groups not found");
        if !arns.is_empty() {
            for a in &arns {
                out.push(
                    all.iter()
                        .find(|g| str_of(g, "TargetGroupArn") == Some(a.as_str()))
                        .cloned()
                        .ok_or_else(not_found)?,
                );
            }
        } else if !names.is_empty() {
            for n in &names {
                out.push(
                    all.iter()
                        .find(|g| str_of(g, "TargetGroupName") == Some(n.as_str()))
                        .cloned()
                        .ok_or_else(not_found)?,
                );
            }
        } else {
            out = all;
        }
        let mut rendered = Vec::new();
        for g in &out {
            let r = render(tx, cx.region(), g)?;
            if let Some(lb) = &lb {
                if !list_of(&r, "LoadBalancerArns")
                    .iter()
                    .any(|x| x.as_str() == Some(lb.as_str()))
                {
                    continue;
                }
            }
            rendered.push(r);
        }
        if let Some(lb) = &lb {
            super::load_balancers::get(tx, cx.region(), lb)?;
        }
        Ok(rendered)
    })?;
    let (items, next) = page(cx, chosen)?;
    let mut out = json!({"TargetGroups": items});
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(Some(out))
}

pub(super) fn modify(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("TargetGroupArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let g = store.write(|tx| {
        let g = health_check(cx, get(tx, cx.region(), &arn)?)?;
        tx.put(cx.region(), TARGET_GROUPS, &arn, &g)?;
        render(tx, cx.region(), &g)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"TargetGroups": [g]})))
}

pub(super) fn delete(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("TargetGroupArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    store.write(|tx| {
        if tx.get(cx.region(), TARGET_GROUPS, &arn)?.is_none() {
            return Ok(());
        }
        if !load_balancers_of(tx, cx.region(), &arn)?.is_empty() {
            return Err(err(
                "ResourceInUse",
                format!("Target group '{arn}' is currently in use by a listener or a rule"),
            ));
        }
        for kind in [TARGET_GROUPS, TG_ATTRIBUTES, TARGETS] {
            tx.delete(cx.region(), kind, &arn)?;
        }
        Ok(())
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}

pub(super) fn describe_attributes(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("TargetGroupArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let doc = store.read(|tx| {
        get(tx, cx.region(), &arn)?;
        Ok(tx
            .get(cx.region(), TG_ATTRIBUTES, &arn)?
            .unwrap_or_else(|| json!({"Attributes": []})))
    })?;
    Ok(Some(json!({"Attributes": list_of(&doc, "Attributes")})))
}

fn check_tg_attribute(g: &Value, attrs: &[Value], key: &str, value: &str) -> Result<(), ApiError> {
    let known = default_attributes(g)
        .iter()
        .any(|a| str_of(a, "Key") == Some(key))
        || attrs.iter().any(|a| str_of(a, "Key") == Some(key));
    if !known {
        return Err(err(
            "InvalidConfigurationRequest",
            format!("Target group attribute key '{key}' is not recognized"),
        ));
    }
    let bad = |why: &str| {
        Err(err(
            "InvalidConfigurationRequest",
            format!("Target group attribute value '{value}' for key '{key}' {why}"),
        ))
    };
    match key {
        "deregistration_delay.timeout_seconds"
            if !value.parse::<u32>().is_ok_and(|x| x <= 3600) =>
        {
            bad("must be between 0 and 3600")
        }
        "load_balancing.cross_zone.enabled"
            if !["true", "false", "use_load_balancer_configuration"].contains(&value) =>
        {
            bad("must be 'true', 'false' or 'use_load_balancer_configuration'")
        }
        k if k.ends_with(".enabled")
            && k != "load_balancing.cross_zone.enabled"
            && value != "true"
            && value != "false" =>
        {
            bad("must be 'true' or 'false'")
        }
        _ => Ok(()),
    }
}

pub(super) fn modify_attributes(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("TargetGroupArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let changes = list_of(cx.input, "Attributes");
    if changes.is_empty() {
        return Err(ApiError::missing_parameter("Attributes"));
    }
    let doc = store.write(|tx| {
        let g = get(tx, cx.region(), &arn)?;
        let mut doc = tx
            .get(cx.region(), TG_ATTRIBUTES, &arn)?
            .unwrap_or_else(|| json!({"TargetGroupArn": arn, "Attributes": []}));
        let mut attrs = list_of(&doc, "Attributes").to_vec();
        for c in changes {
            let key = str_of(c, "Key").unwrap_or_default();
            let value = str_of(c, "Value").unwrap_or_default();
            check_tg_attribute(&g, &attrs, key, value)?;
            match attrs.iter_mut().find(|a| str_of(a, "Key") == Some(key)) {
                Some(a) => a["Value"] = json!(value),
                None => attrs.push(json!({"Key": key, "Value": value})),
            }
        }
        let probe = json!({"Attributes": attrs});
        // AWS refuses sticky sessions on a group whose cross-zone balancing is off.
        if attribute(&probe, "stickiness.enabled") == Some("true")
            && attribute(&probe, "load_balancing.cross_zone.enabled") == Some("false")
            && matches!(str_of(&g, "Protocol"), Some("HTTP" | "HTTPS"))
        {
            return Err(err("InvalidConfigurationRequest", "Sticky sessions cannot be enabled on a target group with cross-zone load balancing turned off"));
        }
        doc["Attributes"] = Value::Array(attrs);
        tx.put(cx.region(), TG_ATTRIBUTES, &arn, &doc)?;
        Ok(doc)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"Attributes": list_of(&doc, "Attributes")})))
}

/// The private ranges an `ip` target may use besides its VPC's own CIDRs (SPEC.md §11.2.1).
const PRIVATE_RANGES: &[&str] = &[
    "10.0.0.0/8",
    "100.64.0.0/10",
    "172.16.0.0/12",
    "192.168.0.0/16",
];

/// The instance `id` as stored in `Reservations`.
fn instance(tx: &Tx<'_>, region: &str, id: &str) -> Result<Option<Value>, ApiError> {
    for r in tx.list(region, "Reservations")? {
        if let Some(i) = list_of(&r, "Instances")
            .iter()
            .find(|i| str_of(i, "InstanceId") == Some(id))
        {
            let mut i = i.clone();
            // EC2 stores an instance without its network placement, which its interfaces hold
            // (DescribeInstances adds it the same way).
            if str_of(&i, "VpcId").is_none() {
                if let Some(e) = tx
                    .list(region, "NetworkInterfaces")?
                    .into_iter()
                    .find(|e| e["Attachment"]["InstanceId"] == id)
                {
                    i["VpcId"] = e["VpcId"].clone();
                }
            }
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Checks one target for the group and returns it as stored: `{Id, Port}`.
fn check_target(tx: &Tx<'_>, region: &str, g: &Value, t: &Value) -> Result<Value, ApiError> {
    let id = str_of(t, "Id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Targets.member.N.Id"))?;
    let port = match int_of(t, "Port")? {
        Some(p) if !(1..=65535).contains(&p) => {
            return Err(validation(format!(
                "Port '{p}' must be between 1 and 65535"
            )))
        }
        Some(p) => Some(p),
        None => int_of(g, "Port")?,
    };
    let vpc = str_of(g, "VpcId").unwrap_or_default();
    match str_of(g, "TargetType") {
        Some("instance") => {
            let Some(i) = instance(tx, region, id)? else {
                return Err(err(
                    "InvalidTarget",
                    format!("The following targets are not valid instances: '{id}'"),
                ));
            };
            if str_of(&i, "VpcId") != Some(vpc) {
                return Err(err(
                    "InvalidTarget",
                    format!(
                        "The following targets are not in the target group VPC '{vpc}': '{id}'"
                    ),
                ));
            }
            let state = i
                .get("State")
                .and_then(|s| str_of(s, "Name"))
                .unwrap_or("running");
            if state != "running" && state != "pending" && state != "stopped" {
                return Err(err("InvalidTarget", format!("The following targets are not in a running state and cannot be registered: '{id}'")));
            }
        }
        Some("ip") => {
            let Ok(ip) = id.parse::<IpAddr>() else {
                return Err(validation(format!(
                    "The IP address '{id}' is not a valid IPv4 address"
                )));
            };
            let vpc_doc = tx.get(region, "Vpcs", vpc)?.unwrap_or(Value::Null);
            let mut ranges: Vec<IpNet> = PRIVATE_RANGES
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect();
            ranges.extend(str_of(&vpc_doc, "CidrBlock").and_then(|c| c.parse::<IpNet>().ok()));
            ranges.extend(
                list_of(&vpc_doc, "CidrBlockAssociationSet")
                    .iter()
                    .filter_map(|a| str_of(a, "CidrBlock")?.parse::<IpNet>().ok()),
            );
            if !ranges.iter().any(|r| r.contains(&ip)) {
                return Err(err("InvalidTarget", format!("The IP address '{id}' is not within the VPC's CIDR blocks or a private address range")));
            }
        }
        _ => {}
    }
    let mut out = json!({"Id": id});
    if let Some(p) = port {
        out["Port"] = json!(p);
    }
    if let Some(az) = str_of(t, "AvailabilityZone") {
        out["AvailabilityZone"] = json!(az);
    }
    Ok(out)
}

pub(super) fn register(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("TargetGroupArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let targets = list_of(cx.input, "Targets");
    if targets.is_empty() {
        return Err(ApiError::missing_parameter("Targets"));
    }
    store.write(|tx| {
        let g = get(tx, cx.region(), &arn)?;
        let mut doc = tx
            .get(cx.region(), TARGETS, &arn)?
            .unwrap_or_else(|| json!({"TargetGroupArn": arn, "TargetHealthDescriptions": []}));
        let mut have = list_of(&doc, "TargetHealthDescriptions").to_vec();
        for t in targets {
            let t = check_target(tx, cx.region(), &g, t)?;
            // Registering a registered target again changes nothing.
            if !have
                .iter()
                .any(|d| d["Target"]["Id"] == t["Id"] && d["Target"]["Port"] == t["Port"])
            {
                have.push(json!({"Target": t}));
            }
        }
        if have.len() > 1000 {
            return Err(err(
                "TooManyTargets",
                "You've reached the limit on the number of targets per target group",
            ));
        }
        doc["TargetHealthDescriptions"] = Value::Array(have);
        tx.put(cx.region(), TARGETS, &arn, &doc)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}

pub(super) fn deregister(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("TargetGroupArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let targets = list_of(cx.input, "Targets").to_vec();
    if targets.is_empty() {
        return Err(ApiError::missing_parameter("Targets"));
    }
    store.write(|tx| {
        let g = get(tx, cx.region(), &arn)?;
        let mut doc = tx
            .get(cx.region(), TARGETS, &arn)?
            .unwrap_or_else(|| json!({"TargetGroupArn": arn, "TargetHealthDescriptions": []}));
        let mut have = list_of(&doc, "TargetHealthDescriptions").to_vec();
        for t in &targets {
            let id = str_of(t, "Id").unwrap_or_default();
            let port = int_of(t, "Port")?.or(int_of(&g, "Port")?);
            let before = have.len();
            have.retain(|d| {
                !(str_of(&d["Target"], "Id") == Some(id)
                    && int_of(&d["Target"], "Port").ok().flatten() == port)
            });
            if have.len() == before {
                return Err(err(
                    "InvalidTarget",
                    format!(
                        "The following targets are not registered in target group '{arn}': '{id}'"
                    ),
                ));
            }
        }
        doc["TargetHealthDescriptions"] = Value::Array(have);
        tx.put(cx.region(), TARGETS, &arn, &doc)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}

pub(super) fn describe_health(
    store: &Store,
    cx: &Cx<'_>,
    source: &dyn TargetHealthSource,
) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("TargetGroupArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let (g, registered, in_use) = store.read(|tx| {
        let g = get(tx, cx.region(), &arn)?;
        let doc = tx.get(cx.region(), TARGETS, &arn)?.unwrap_or(Value::Null);
        let registered: Vec<Value> = list_of(&doc, "TargetHealthDescriptions")
            .iter()
            .map(|d| d["Target"].clone())
            .collect();
        let in_use = !load_balancers_of(tx, cx.region(), &arn)?.is_empty();
        Ok((g, registered, in_use))
    })?;
    let asked: Vec<Value> = match list_of(cx.input, "Targets") {
        [] => registered.clone(),
        some => some
            .iter()
            .map(|t| {
                let mut x = json!({"Id": str_of(t, "Id").unwrap_or_default()});
                if let Some(p) = int_of(t, "Port")?.or(int_of(&g, "Port")?) {
                    x["Port"] = json!(p);
                }
                Ok(x)
            })
            .collect::<Result<_, ApiError>>()?,
    };
    let checked: Vec<Value> = asked
        .iter()
        .filter(|t| registered.contains(t) && in_use)
        .cloned()
        .collect();
    let mut health = if checked.is_empty() {
        Vec::new()
    } else {
        source.target_health(cx.region(), &g, &checked)?
    }
    .into_iter();
    let hc_port = str_of(&g, "HealthCheckPort").unwrap_or("traffic-port");
    let mut out = Vec::new();
    for t in &asked {
        // Not-registered and not-in-use are the API's own answers; the rest is the data plane's.
        let h = if !registered.contains(t) {
            TargetHealth {
                state: "unused".into(),
                reason: Some("Target.NotRegistered".into()),
                description: Some("Target is not registered to the target group".into()),
            }
        } else if !in_use {
            TargetHealth {
                state: "unused".into(),
                reason: Some("Target.NotInUse".into()),
                description: Some(
                    "Target group is not configured to receive traffic from the load balancer"
                        .into(),
                ),
            }
        } else {
            health.next().ok_or_else(|| ApiError::with_status("HealthUnavailable", "The health of the specified targets could not be retrieved due to an internal error.", 500))?
        };
        let port = if hc_port == "traffic-port" {
            t.get("Port").map(|p| p.to_string()).unwrap_or_default()
        } else {
            hc_port.to_string()
        };
        let mut th = json!({"State": h.state});
        if let Some(r) = h.reason {
            th["Reason"] = json!(r);
        }
        if let Some(d) = h.description {
            th["Description"] = json!(d);
        }
        out.push(json!({"Target": t, "HealthCheckPort": port, "TargetHealth": th}));
    }
    Ok(Some(json!({"TargetHealthDescriptions": out})))
}
