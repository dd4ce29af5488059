//! Loading Application Load Balancer rules and actions (SPEC §11.2.2–11.2.3):
//! `AWS::ElasticLoadBalancingV2::ListenerRule` with its conditions, and the actions of rules and
//! listener defaults (`forward`, `redirect`, `fixed-response`; `authenticate-*` kept as not
//! simulated).

use super::alb::LISTENER_RULE;
use super::*;
use vpcsim_dataplane::topology::alb::{AlbAction, Condition, Redirect};

/// Values of one condition: at most 3 (source-ip 5), as the user guide says (SPEC §11.2.2).
fn limit(field: &str, values: &[impl Sized]) -> R<()> {
    let max = if field == "source-ip" { 5 } else { 3 };
    if values.is_empty() || values.len() > max {
        return Err(Problem::new(
            "ValidationError",
            format!("{field}: 1 to {max} values per condition"),
        ));
    }
    Ok(())
}

/// `Values` of a `…Config` object, else the legacy top-level `Values`.
fn values(c: &Value, config: &str) -> R<Vec<String>> {
    match get(c, config) {
        Some(cfg) => str_list(cfg, "Values"),
        None => str_list(c, "Values"),
    }
}

pub(super) fn condition(c: &Value) -> R<Condition> {
    let field = req_str(c, "Field")?;
    let cond = match field.as_str() {
        "host-header" => {
            let v = values(c, "HostHeaderConfig")?;
            limit(&field, &v)?;
            Condition::HostHeader(v)
        }
        "path-pattern" => {
            let v = values(c, "PathPatternConfig")?;
            limit(&field, &v)?;
            Condition::PathPattern(v)
        }
        "http-request-method" => {
            let v = values(c, "HttpRequestMethodConfig")?;
            limit(&field, &v)?;
            if let Some(bad) = v
                .iter()
                .find(|m| !m.chars().all(|ch| ch.is_ascii_uppercase() || ch == '-' || ch == '_'))
            {
                return Err(invalid("HttpRequestMethodConfig.Values", format!("{bad:?}: A-Z, - and _ only")));
            }
            Condition::HttpRequestMethod(v)
        }
        "http-header" => {
            let cfg = get(c, "HttpHeaderConfig").ok_or_else(|| missing("HttpHeaderConfig"))?;
            let name = req_str(cfg, "HttpHeaderName")?;
            if name.eq_ignore_ascii_case("host") {
                return Err(Problem::new(
                    "ValidationError",
                    "http-header cannot match Host: use a host-header condition",
                ));
            }
            let v = str_list(cfg, "Values")?;
            limit(&field, &v)?;
            Condition::HttpHeader { name, values: v }
        }
        "query-string" => {
            let cfg = get(c, "QueryStringConfig").ok_or_else(|| missing("QueryStringConfig"))?;
            let mut pairs = Vec::new();
            for kv in opt_list(cfg, "Values")? {
                let value = req_str(kv, "Value").map_err(|e| prefix(e, "QueryStringConfig.Values"))?;
                pairs.push((opt_str(kv, "Key")?, value));
            }
            limit(&field, &pairs)?;
            Condition::QueryString(pairs)
        }
        "source-ip" => {
            let v = values(c, "SourceIpConfig")?;
            limit(&field, &v)?;
            let mut nets = Vec::new();
            for s in &v {
                let net: IpNet = s
                    .parse()
                    .map_err(|_| invalid("SourceIpConfig.Values", format!("{s:?} is not a CIDR")))?;
                if s == "255.255.255.255/32" {
                    return Err(invalid("SourceIpConfig.Values", "255.255.255.255/32 is not allowed"));
                }
                nets.push(net);
            }
            Condition::SourceIp(nets)
        }
        other => {
            return Err(Problem::new(
                "ValidationError",
                format!("condition Field {other:?}: host-header, path-pattern, http-header, http-request-method, query-string or source-ip"),
            ))
        }
    };
    Ok(cond)
}

/// At most one each of host-header, http-request-method, path-pattern and source-ip per rule.
pub(super) fn check_composition(conds: &[Condition]) -> R<()> {
    for field in [
        "host-header",
        "http-request-method",
        "path-pattern",
        "source-ip",
    ] {
        if conds.iter().filter(|c| c.field() == field).count() > 1 {
            return Err(Problem::new(
                "ValidationError",
                format!("a rule has at most one {field} condition"),
            ));
        }
    }
    Ok(())
}

fn redirect(cfg: &Value) -> R<AlbAction> {
    let status = match req_str(cfg, "StatusCode")?.as_str() {
        "HTTP_301" => 301,
        "HTTP_302" => 302,
        other => {
            return Err(invalid(
                "RedirectConfig.StatusCode",
                format!("{other:?}: HTTP_301 or HTTP_302"),
            ))
        }
    };
    let protocol = opt_str(cfg, "Protocol")?.unwrap_or_else(|| "#{protocol}".into());
    if !matches!(protocol.as_str(), "HTTP" | "HTTPS" | "#{protocol}") {
        return Err(invalid(
            "RedirectConfig.Protocol",
            format!("{protocol:?}: HTTP, HTTPS or #{{protocol}}"),
        ));
    }
    let path = opt_str(cfg, "Path")?.unwrap_or_else(|| "/#{path}".into());
    if !path.starts_with('/') {
        return Err(invalid("RedirectConfig.Path", "must start with /"));
    }
    Ok(AlbAction::Redirect(Redirect {
        protocol,
        host: opt_str(cfg, "Host")?.unwrap_or_else(|| "#{host}".into()),
        port: opt_str(cfg, "Port")?.unwrap_or_else(|| "#{port}".into()),
        path,
        query: opt_str(cfg, "Query")?.unwrap_or_else(|| "#{query}".into()),
        status,
    }))
}

fn fixed_response(cfg: &Value) -> R<AlbAction> {
    let code = req_str(cfg, "StatusCode")?;
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|s| matches!(s / 100, 2 | 4 | 5))
        .ok_or_else(|| {
            invalid(
                "FixedResponseConfig.StatusCode",
                format!("{code:?}: a 2XX, 4XX or 5XX code"),
            )
        })?;
    Ok(AlbAction::FixedResponse {
        status,
        content_type: opt_str(cfg, "ContentType")?,
        body: opt_str(cfg, "MessageBody")?,
    })
}

impl Builder {
    fn alb_group(&self, id: &str) -> R<usize> {
        match self.lookup(id) {
            Some(Ref::AlbTargetGroup(g)) => Ok(g),
            Some(Ref::Failed) => Err(Problem::quiet()),
            Some(Ref::TargetGroup(_)) => Err(Problem::new(
                "IncompatibleProtocols",
                format!("target group {id} is not an HTTP/HTTPS target group"),
            )),
            _ => Err(Problem::new(
                "TargetGroupNotFound",
                format!("TargetGroupArn {id} is not a target group of the loaded topology"),
            )),
        }
    }

    fn forward(&self, a: &Value) -> R<AlbAction> {
        let mut groups = Vec::new();
        let mut stickiness_s = None;
        if let Some(id) = opt_str(a, "TargetGroupArn")? {
            groups.push((self.alb_group(&id)?, 1));
        }
        if let Some(fc) = get(a, "ForwardConfig") {
            for g in opt_list(fc, "TargetGroups")? {
                let id = req_str(g, "TargetGroupArn")
                    .map_err(|e| prefix(e, "ForwardConfig.TargetGroups"))?;
                let weight = opt_int(g, "Weight")?.unwrap_or(1);
                if !(0..=999).contains(&weight) {
                    return Err(invalid(
                        "ForwardConfig.TargetGroups.Weight",
                        format!("{weight}: 0-999"),
                    ));
                }
                let gi = self.alb_group(&id)?;
                if !groups.iter().any(|(x, _)| *x == gi) {
                    groups.push((gi, weight as u32));
                }
            }
            if let Some(st) = get(fc, "TargetGroupStickinessConfig") {
                if opt_bool(st, "Enabled")? == Some(true) {
                    let d = opt_int(st, "DurationSeconds")?
                        .ok_or_else(|| missing("TargetGroupStickinessConfig.DurationSeconds"))?;
                    if !(1..=604_800).contains(&d) {
                        return Err(invalid(
                            "TargetGroupStickinessConfig.DurationSeconds",
                            format!("{d}: 1-604800"),
                        ));
                    }
                    stickiness_s = Some(d as u32);
                }
            }
        }
        if groups.is_empty() || groups.len() > 5 {
            return Err(Problem::new(
                "ValidationError",
                "a forward action names 1 to 5 target groups",
            ));
        }
        Ok(AlbAction::Forward {
            groups,
            stickiness_s,
        })
    }

    /// An action list: the deciding action (the last by `Order`) and the `authenticate-*` ones
    /// before it.
    pub(super) fn alb_actions(&self, actions: &[Value], key: &str) -> R<(AlbAction, Vec<String>)> {
        let mut sorted: Vec<(i64, &Value)> = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            sorted.push((opt_int(a, "Order")?.unwrap_or(i as i64 + 1), a));
        }
        sorted.sort_by_key(|(o, _)| *o);
        let mut authenticate = Vec::new();
        let mut decided = None;
        for (_, a) in sorted {
            if decided.is_some() {
                return Err(Problem::new(
                    "ValidationError",
                    format!("{key}: forward, redirect or fixed-response must be the last action"),
                ));
            }
            let kind = req_str(a, "Type").map_err(|e| prefix(e, key))?;
            decided = match kind.as_str() {
                "forward" => Some(self.forward(a)?),
                "redirect" => Some(redirect(get(a, "RedirectConfig").ok_or_else(|| missing("RedirectConfig"))?)?),
                "fixed-response" => Some(fixed_response(
                    get(a, "FixedResponseConfig").ok_or_else(|| missing("FixedResponseConfig"))?,
                )?),
                "authenticate-oidc" | "authenticate-cognito" => {
                    authenticate.push(kind);
                    None
                }
                other => {
                    return Err(Problem::new(
                        "ValidationError",
                        format!("{key} Type {other:?}: forward, redirect, fixed-response, authenticate-oidc or authenticate-cognito"),
                    ))
                }
            };
        }
        let action = decided.ok_or_else(|| {
            Problem::new(
                "ValidationError",
                format!("{key}: a forward, redirect or fixed-response action is required"),
            )
        })?;
        Ok((action, authenticate))
    }

    /// `AWS::ElasticLoadBalancingV2::ListenerRule`.
    pub(super) fn add_listener_rule(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let listener_id = req_str(p, "ListenerArn")?;
        let listener = match self.lookup(&listener_id) {
            Some(Ref::AlbListener(l)) => l,
            Some(Ref::Failed) => return Err(Problem::quiet()),
            // A rule of a listener vpcsim does not model (kept as unsupported itself).
            Some(Ref::Unsupported(_)) => {
                self.keep_unsupported(self.origin(t, lid, LISTENER_RULE, props::name_tag(p)));
                return Ok(());
            }
            _ => {
                return Err(Problem::new(
                    "ListenerNotFound",
                    format!("ListenerArn {listener_id} is not an Application Load Balancer listener of the loaded topology"),
                ))
            }
        };
        let priority = opt_int(p, "Priority")?.ok_or_else(|| missing("Priority"))?;
        if !(1..=50_000).contains(&priority) {
            return Err(invalid("Priority", format!("{priority}: 1-50000")));
        }
        let priority = priority as u32;
        if let Some(other) = self
            .model
            .alb
            .rules
            .iter()
            .find(|r| r.listener == listener && r.priority == priority)
        {
            return Err(Problem::new(
                "PriorityInUse",
                format!(
                    "rule {} already has priority {priority} on this listener",
                    other.origin.logical_id
                ),
            ));
        }
        let mut conditions = Vec::new();
        for c in opt_list(p, "Conditions")? {
            conditions.push(condition(c).map_err(|e| prefix(e, "Conditions"))?);
        }
        if conditions.is_empty() {
            return Err(missing("Conditions"));
        }
        check_composition(&conditions)?;
        let (action, authenticate) = self.alb_actions(opt_list(p, "Actions")?, "Actions")?;
        let mut origin = self.origin(t, lid, LISTENER_RULE, props::name_tag(p));
        let listener_arn = &self.model.alb.listeners[listener].origin.id;
        origin.id = super::elbv2::child_arn(
            &self.model,
            &origin,
            listener_arn,
            "listener",
            "listener-rule",
        );
        self.warn_authenticate(&origin, &authenticate);
        let id = origin.id.clone();
        self.model.alb.rules.push(AlbRule {
            origin,
            listener,
            priority,
            conditions,
            action,
            authenticate,
        });
        let r = self.model.alb.rules.len() - 1;
        self.register(t, lid, &id, Ref::AlbRule(r));
        Ok(())
    }
}

impl Builder {
    /// `authenticate-*` actions of a listener or rule load, but are not simulated: say so once.
    pub(super) fn warn_authenticate(&mut self, origin: &Origin, authenticate: &[String]) {
        if !authenticate.is_empty() {
            self.warn_at(
                origin,
                "NotSimulated",
                format!(
                    "{} actions are loaded but not simulated: requests pass as if authenticated",
                    authenticate.join(", ")
                ),
            );
        }
    }
}
