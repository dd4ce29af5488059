//! WAF log records in AWS's JSON format (SPEC §19.7): one line per request, as the load
//! balancer's replay writes them to `DIR/waf/<WebAcl>.log`.
//!
//! The record carries AWS's fields only, plus `vpcsimNotEvaluated` (rule and reason) when some
//! rule's outcome was not evaluated, so a log never hides that the decision is uncertain.

use super::acl::{RuleKind, RuleRef, WafDecision, WebAcl};
use super::rate::Aggregate;
use super::WafRequest;
use crate::wire::Timestamp;
use std::fmt::Write as _;

/// AWS's limit of labels in a log record.
const MAX_LABELS: usize = 100;

/// What the record says about where the request came from, besides the request itself.
#[derive(Clone, Copy, Debug)]
pub struct LogSource<'a> {
    /// Packet time of the request.
    pub timestamp: Timestamp,
    /// `httpSourceName`: `ALB` for load balancers.
    pub http_source_name: &'a str,
    /// `httpSourceId`: the load balancer's id part of its ARN.
    pub http_source_id: &'a str,
    /// `httpRequest.requestId`.
    pub request_id: &'a str,
}

/// Append `s` as a JSON string.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `{"ruleId":..,"action":..}` entries for `rules`.
fn rule_list(out: &mut String, acl: &WebAcl, rules: impl Iterator<Item = RuleRef>, action: &str) {
    out.push('[');
    for (n, r) in rules.enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"ruleId\":");
        string(out, acl.rule(r).map_or("", |r| r.name.as_str()));
        out.push_str(",\"action\":");
        string(out, action);
        out.push('}');
    }
    out.push(']');
}

fn terminating_type(acl: &WebAcl, d: &WafDecision) -> &'static str {
    let Some(r) = d.terminating else {
        return "REGULAR";
    };
    if r.inner.is_some() {
        return "GROUP";
    }
    match acl.rule(r).map(|r| &r.kind) {
        Some(RuleKind::RateBased(..)) => "RATE_BASED",
        Some(RuleKind::Managed(..)) => "MANAGED_RULE_GROUP",
        _ => "REGULAR",
    }
}

/// The WAF log record of `req` decided as `d` by `acl`, as one JSON line (no newline).
pub fn record(acl: &WebAcl, req: &WafRequest<'_>, d: &WafDecision, src: &LogSource<'_>) -> String {
    let mut out = String::with_capacity(1024);
    let _ = write!(
        out,
        "{{\"timestamp\":{},\"formatVersion\":1,\"webaclId\":",
        src.timestamp.0 / 1_000_000
    );
    string(&mut out, &acl.arn);
    out.push_str(",\"terminatingRuleId\":");
    let top = d.terminating.map(|r| RuleRef { inner: None, ..r });
    match top.and_then(|r| acl.rule(r)) {
        Some(rule) => string(&mut out, &rule.name),
        None => string(&mut out, "Default_Action"),
    }
    let _ = write!(
        out,
        ",\"terminatingRuleType\":\"{}\",\"action\":\"{}\",\"terminatingRuleMatchDetails\":[]",
        terminating_type(acl, d),
        d.action.as_aws()
    );
    out.push_str(",\"httpSourceName\":");
    string(&mut out, src.http_source_name);
    out.push_str(",\"httpSourceId\":");
    string(&mut out, src.http_source_id);
    rule_groups(&mut out, acl, d);
    rate_based(&mut out, acl, d);
    out.push_str(",\"nonTerminatingMatchingRules\":");
    rule_list(
        &mut out,
        acl,
        d.counted.iter().copied().filter(|r| r.inner.is_none()),
        "COUNT",
    );
    out.push_str(",\"requestHeadersInserted\":null,\"responseCodeSent\":");
    match acl
        .block_response(d)
        .and_then(|b| b.custom.map(|c| c.status))
    {
        Some(status) => {
            let _ = write!(out, "{status}");
        }
        None => out.push_str("null"),
    }
    http_request(&mut out, req, d, src);
    labels(&mut out, acl, d);
    if !d.not_evaluated.is_empty() {
        out.push_str(",\"vpcsimNotEvaluated\":[");
        for (n, (r, why)) in d.not_evaluated.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str("{\"ruleId\":");
            string(&mut out, &acl.rule_name(*r));
            out.push_str(",\"reason\":");
            string(&mut out, &why.to_string());
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// `ruleGroupList`: each referenced group that terminated or counted.
fn rule_groups(out: &mut String, acl: &WebAcl, d: &WafDecision) {
    out.push_str(",\"ruleGroupList\":[");
    let mut first = true;
    for (i, rule) in acl.rules.iter().enumerate() {
        let RuleKind::Group(g) = &rule.kind else {
            continue;
        };
        let inside = |r: &RuleRef| usize::from(r.rule) == i && r.inner.is_some();
        let terminating = d.terminating.filter(inside);
        let counted: Vec<RuleRef> = d.counted.iter().copied().filter(inside).collect();
        if terminating.is_none() && counted.is_empty() {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str("{\"ruleGroupId\":");
        string(out, &g.arn);
        out.push_str(",\"terminatingRule\":");
        match terminating.and_then(|r| acl.rule(r)) {
            Some(r) => {
                out.push_str("{\"ruleId\":");
                string(out, &r.name);
                let _ = write!(out, ",\"action\":\"{}\"}}", d.action.as_aws());
            }
            None => out.push_str("null"),
        }
        out.push_str(",\"nonTerminatingMatchingRules\":");
        rule_list(out, acl, counted.into_iter(), "COUNT");
        out.push_str(",\"excludedRules\":null}");
    }
    out.push(']');
}

/// `rateBasedRuleList`: the rate-based rules whose instance was being limited.
fn rate_based(out: &mut String, acl: &WebAcl, d: &WafDecision) {
    out.push_str(",\"rateBasedRuleList\":[");
    let limited = d.rate_limited.iter().filter_map(|(r, key)| {
        let rule = acl.rule(*r)?;
        match &rule.kind {
            RuleKind::RateBased(rb, _) => Some((r, key, rule, rb)),
            _ => None,
        }
    });
    for (n, (r, key, rule, rb)) in limited.enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"rateBasedRuleId\":");
        string(out, &acl.rule_name(*r));
        out.push_str(",\"rateBasedRuleName\":");
        string(out, &rule.name);
        let limit_key = match rb.aggregate {
            Aggregate::Ip => "IP",
            Aggregate::ForwardedIp(_) => "FORWARDED_IP",
            Aggregate::Constant => "CONSTANT",
        };
        let _ = write!(
            out,
            ",\"limitKey\":\"{limit_key}\",\"maxRateAllowed\":{},\"evaluationWindowSec\":\"{}\"",
            rb.limit, rb.window_secs
        );
        out.push_str(",\"limitValue\":");
        match key {
            Some(ip) => string(out, &ip.to_string()),
            None => out.push_str("null"),
        }
        out.push('}');
    }
    out.push(']');
}

fn http_request(out: &mut String, req: &WafRequest<'_>, d: &WafDecision, src: &LogSource<'_>) {
    out.push_str(",\"httpRequest\":{\"clientIp\":");
    string(out, &req.client_ip.to_string());
    let country = d
        .geo_labels
        .iter()
        .find(|(forwarded, _)| !forwarded)
        .map(|(_, cc)| *cc)
        .or_else(|| req.countries.map(|m| m.country(req.client_ip)))
        .unwrap_or(*b"XX");
    out.push_str(",\"country\":");
    string(out, std::str::from_utf8(&country).unwrap_or("XX"));
    out.push_str(",\"headers\":[");
    for (n, (name, value)) in req.headers.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        string(out, name);
        out.push_str(",\"value\":");
        string(out, value);
        out.push('}');
    }
    out.push_str("],\"uri\":");
    string(out, req.uri_path);
    out.push_str(",\"args\":");
    string(out, req.query_string);
    out.push_str(",\"httpVersion\":");
    string(out, req.http_version);
    out.push_str(",\"httpMethod\":");
    string(out, req.method);
    out.push_str(",\"requestId\":");
    string(out, src.request_id);
    out.push('}');
}

fn labels(out: &mut String, acl: &WebAcl, d: &WafDecision) {
    out.push_str(",\"labels\":[");
    let geo = d.geo_labels.iter().map(|(forwarded, cc)| {
        let source = if *forwarded {
            "forwardedip"
        } else {
            "clientip"
        };
        format!(
            "awswaf:{source}:geo:country:{}",
            std::str::from_utf8(cc).unwrap_or("XX")
        )
    });
    let names = d
        .labels
        .iter()
        .map(|l| acl.label(*l).to_string())
        .chain(geo)
        .take(MAX_LABELS);
    for (n, name) in names.enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        string(out, &name);
        out.push('}');
    }
    out.push(']');
}
