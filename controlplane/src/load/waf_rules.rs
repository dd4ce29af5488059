//! WAF rules and statements as CloudFormation writes them (`Rules`, `Statement`, `Action`,
//! `FieldToMatch`, `TextTransformations`), read into the data plane's WAF types.

use super::waf::{bad, check_regex, INVALID};
use super::*;
use std::sync::Arc;
use vpcsim_dataplane::waf::field::{FieldToMatch, MatchPattern, MatchScope, Oversize};
use vpcsim_dataplane::waf::transform::TextTransformation;
use vpcsim_dataplane::waf::{
    country_code, Aggregate, Comparison, CustomResponse, Fallback, ForwardedIpConfig,
    ForwardedPosition, LabelScope, NotEvaluated, Positional, RateBased, Rule, RuleAction, RuleKind,
    Statement, Test,
};

/// Warning: a managed rule group loads but is never evaluated.
pub(super) const MANAGED_NOT_EVALUATED: &str = "WAFManagedRuleGroupNotEvaluated";
/// Warning: something loads but is not simulated (CAPTCHA, SQLi/XSS matching, ...).
pub(super) const NOT_SIMULATED: &str = "WAFNotSimulated";

/// Where rules are being read: a web ACL or a rule group.
pub(super) struct RuleContext {
    /// `awswaf:<account>:webacl:<name>:` or `awswaf:<account>:rulegroup:<name>:`.
    label_prefix: String,
    /// `CustomResponseBodies`: key → (content type, content).
    bodies: BTreeMap<String, (&'static str, String)>,
    in_group: bool,
    /// Warnings found, with their codes.
    pub(super) warnings: Vec<(&'static str, String)>,
    /// The rule being read, for warnings.
    rule: String,
}

impl RuleContext {
    pub(super) fn new(label_prefix: String, p: &Value, in_group: bool) -> R<RuleContext> {
        let mut bodies = BTreeMap::new();
        if let Some(map) = get(p, "CustomResponseBodies") {
            let map = map
                .as_object()
                .ok_or_else(|| bad("CustomResponseBodies must be a map of keys to bodies"))?;
            for (key, b) in map {
                let content_type = match req_str(b, "ContentType")?.as_str() {
                    "TEXT_PLAIN" => "text/plain",
                    "TEXT_HTML" => "text/html",
                    "APPLICATION_JSON" => "application/json",
                    other => {
                        return Err(bad(format!(
                            "CustomResponseBodies.{key}.ContentType {other:?} is not TEXT_PLAIN, TEXT_HTML or APPLICATION_JSON"
                        )))
                    }
                };
                let content = req_str(b, "Content")?;
                if content.is_empty() || content.len() > 4096 {
                    return Err(bad(format!(
                        "CustomResponseBodies.{key}.Content must be 1-4096 bytes"
                    )));
                }
                bodies.insert(key.clone(), (content_type, content));
            }
        }
        Ok(RuleContext {
            label_prefix,
            bodies,
            in_group,
            warnings: Vec::new(),
            rule: String::new(),
        })
    }

    fn warn(&mut self, code: &'static str, what: impl std::fmt::Display) {
        let message = format!("rule {}: {what}", self.rule);
        if !self.warnings.iter().any(|(_, m)| *m == message) {
            self.warnings.push((code, message));
        }
    }

    /// A label as written (`name` or `ns:name`) qualified with the context's prefix; a label
    /// that starts with `awswaf:` is already qualified.
    fn qualify(&self, label: &str) -> String {
        if label.starts_with("awswaf:") {
            label.to_string()
        } else {
            format!("{}{label}", self.label_prefix)
        }
    }

    /// An `Action` (or `DefaultAction`): exactly one of `Allow`, `Block`, `Count`, `Captcha`,
    /// `Challenge`.
    pub(super) fn action(&mut self, a: &Value, at: &str) -> R<RuleAction> {
        let (kind, body) = one_key(a, at)?;
        if get(body, "CustomRequestHandling").is_some() {
            self.warn(
                NOT_SIMULATED,
                format!("{at}.{kind}.CustomRequestHandling (inserted headers) is not simulated"),
            );
        }
        Ok(match kind {
            "Allow" => RuleAction::Allow,
            "Count" => RuleAction::Count,
            "Block" => RuleAction::Block(match get(body, "CustomResponse") {
                Some(c) => Some(Arc::new(self.custom_response(c, at)?)),
                None => None,
            }),
            "Captcha" | "Challenge" => {
                self.warn(
                    NOT_SIMULATED,
                    format!("{kind} action is not simulated (no client token exists offline); every request it matches is reported as not evaluated"),
                );
                if kind == "Captcha" {
                    RuleAction::Captcha
                } else {
                    RuleAction::Challenge
                }
            }
            other => return Err(bad(format!("{at}: {other:?} is not an action"))),
        })
    }

    fn custom_response(&self, c: &Value, at: &str) -> R<CustomResponse> {
        let status = opt_int(c, "ResponseCode")?.ok_or_else(|| missing("ResponseCode"))?;
        if !(200..=599).contains(&status) {
            return Err(bad(format!(
                "{at}.Block.CustomResponse.ResponseCode {status} is out of range (200-599)"
            )));
        }
        let body = match opt_str(c, "CustomResponseBodyKey")? {
            None => None,
            Some(key) => Some(self.bodies.get(&key).cloned().ok_or_else(|| {
                bad(format!(
                    "{at}.Block.CustomResponse.CustomResponseBodyKey {key:?} is not in CustomResponseBodies"
                ))
            })?),
        };
        let mut headers = Vec::new();
        for h in opt_list(c, "ResponseHeaders")? {
            headers.push((req_str(h, "Name")?, req_str(h, "Value")?));
        }
        Ok(CustomResponse {
            status: status as u16,
            headers,
            body,
        })
    }
}

/// The one key of a union-like property (`{"Allow": {}}`) and its value.
fn one_key<'a>(v: &'a Value, at: &str) -> R<(&'a str, &'a Value)> {
    let map = v
        .as_object()
        .ok_or_else(|| bad(format!("{at} must be an object")))?;
    let mut keys = map.iter().filter(|(_, v)| !v.is_null());
    match (keys.next(), keys.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        (None, _) => Err(bad(format!("{at} is empty; it needs exactly one choice"))),
        (Some((a, _)), Some((b, _))) => Err(bad(format!(
            "{at} has both {a} and {b}; it takes exactly one"
        ))),
    }
}

impl Builder {
    /// The `Rules` of a web ACL or rule group.
    pub(super) fn waf_rules(&self, p: &Value, cx: &mut RuleContext) -> R<Vec<Rule>> {
        let mut rules: Vec<Rule> = Vec::new();
        for r in opt_list(p, "Rules")? {
            let name = req_str(r, "Name")?;
            let priority = opt_int(r, "Priority")?.ok_or_else(|| missing("Priority"))?;
            if let Some(other) = rules.iter().find(|o| o.priority == priority) {
                return Err(bad(format!(
                    "rules {} and {name} have the same Priority {priority}",
                    other.name
                )));
            }
            if rules.iter().any(|o| o.name == name) {
                return Err(bad(format!("two rules are named {name}")));
            }
            cx.rule = name.clone();
            let rule = self
                .waf_rule(r, name, priority, cx)
                .map_err(|e| prefix(e, &format!("rule {}", cx.rule)))?;
            rules.push(rule);
        }
        Ok(rules)
    }

    fn waf_rule(&self, r: &Value, name: String, priority: i64, cx: &mut RuleContext) -> R<Rule> {
        let s = get(r, "Statement").ok_or_else(|| missing("Statement"))?;
        let (kind, body) = one_key(s, "Statement")?;
        let mut labels = Vec::new();
        for l in opt_list(r, "RuleLabels")? {
            labels.push(cx.qualify(&req_str(l, "Name")?));
        }
        let action = |cx: &mut RuleContext| -> R<RuleAction> {
            let a = get(r, "Action").ok_or_else(|| missing("Action"))?;
            cx.action(a, "Action")
        };
        let kind = match kind {
            "RuleGroupReferenceStatement" | "ManagedRuleGroupStatement" => {
                if cx.in_group {
                    return Err(bad(format!("{kind} cannot be used inside a rule group")));
                }
                if !labels.is_empty() {
                    return Err(bad(format!("a rule with a {kind} cannot have RuleLabels")));
                }
                let override_to_count = match get(r, "OverrideAction") {
                    None => false,
                    Some(o) => match one_key(o, "OverrideAction")?.0 {
                        "None" => false,
                        "Count" => true,
                        other => {
                            return Err(bad(format!(
                                "OverrideAction {other:?} is neither None nor Count"
                            )))
                        }
                    },
                };
                if kind == "ManagedRuleGroupStatement" {
                    let vendor = req_str(body, "VendorName")?;
                    let group = req_str(body, "Name")?;
                    cx.warn(
                        MANAGED_NOT_EVALUATED,
                        format!("managed rule group {vendor}:{group} cannot be evaluated offline; every request that reaches it is reported as not evaluated (never silently allowed)"),
                    );
                    RuleKind::Managed(vendor, group)
                } else {
                    RuleKind::Group(self.rule_group_use(body, override_to_count, cx)?)
                }
            }
            "RateBasedStatement" => {
                let rb = self.rate_based(body, cx)?;
                let a = action(cx)?;
                if a == RuleAction::Allow {
                    return Err(bad("a rate-based rule's action cannot be Allow"));
                }
                match rb {
                    Some(rb) => RuleKind::RateBased(rb, a),
                    None => RuleKind::Match(Statement::NotEvaluated(NotEvaluated::CustomKeys), a),
                }
            }
            _ => RuleKind::Match(self.statement(s, cx)?, action(cx)?),
        };
        Ok(Rule {
            name,
            priority,
            labels,
            kind,
        })
    }

    fn rule_group_use(
        &self,
        body: &Value,
        override_to_count: bool,
        cx: &mut RuleContext,
    ) -> R<vpcsim_dataplane::waf::RuleGroupUse> {
        let arn = req_str(body, "Arn")?;
        let group =
            self.waf_reference("RuleGroupReferenceStatement.Arn", &arn, |b, r| match r {
                Ref::WafRuleGroup(i) => Some(b.model.waf.rule_groups[i].group.clone()),
                _ => None,
            })?;
        let mut excluded = Vec::new();
        for e in opt_list(body, "ExcludedRules")? {
            excluded.push(req_str(e, "Name")?);
        }
        let mut overrides = Vec::new();
        for o in opt_list(body, "RuleActionOverrides")? {
            let name = req_str(o, "Name")?;
            let to_use = get(o, "ActionToUse").ok_or_else(|| missing("ActionToUse"))?;
            overrides.push((name, cx.action(to_use, "RuleActionOverrides.ActionToUse")?));
        }
        for name in excluded.iter().chain(overrides.iter().map(|(n, _)| n)) {
            if !group.rules.iter().any(|r| r.name == *name) {
                return Err(bad(format!("rule group {} has no rule {name}", group.name)));
            }
        }
        Ok(group.use_in(&excluded, &overrides, override_to_count))
    }

    /// A `RateBasedStatement`; `None` for `CUSTOM_KEYS`, which is loaded but not evaluated.
    fn rate_based(&self, s: &Value, cx: &mut RuleContext) -> R<Option<RateBased>> {
        let limit = opt_int(s, "Limit")?.ok_or_else(|| missing("Limit"))?;
        if !(10..=2_000_000_000).contains(&limit) {
            return Err(bad(format!(
                "Limit {limit} is out of range (10-2000000000)"
            )));
        }
        let window = opt_int(s, "EvaluationWindowSec")?.unwrap_or(300);
        if ![60, 120, 300, 600].contains(&window) {
            return Err(bad(format!(
                "EvaluationWindowSec {window} is not 60, 120, 300 or 600"
            )));
        }
        let scope_down = match get(s, "ScopeDownStatement") {
            Some(sd) => Some(self.statement(sd, cx)?),
            None => None,
        };
        let aggregate = match opt_str(s, "AggregateKeyType")?.as_deref().unwrap_or("IP") {
            "IP" => Aggregate::Ip,
            "FORWARDED_IP" => {
                Aggregate::ForwardedIp(forwarded(s, "ForwardedIPConfig", false)?.ok_or_else(
                    || bad("AggregateKeyType FORWARDED_IP needs a ForwardedIPConfig"),
                )?)
            }
            "CONSTANT" if scope_down.is_none() => {
                return Err(bad("AggregateKeyType CONSTANT needs a ScopeDownStatement"))
            }
            "CONSTANT" => Aggregate::Constant,
            "CUSTOM_KEYS" => {
                cx.warn(
                    NOT_SIMULATED,
                    "rate-based CUSTOM_KEYS aggregation is not evaluated",
                );
                return Ok(None);
            }
            other => {
                return Err(bad(format!(
                    "AggregateKeyType {other:?} is not IP, FORWARDED_IP, CONSTANT or CUSTOM_KEYS"
                )))
            }
        };
        Ok(Some(RateBased::new(
            limit as u64,
            window as u64,
            aggregate,
            scope_down,
        )))
    }

    /// A nestable statement.
    fn statement(&self, s: &Value, cx: &mut RuleContext) -> R<Statement> {
        let (kind, b) = one_key(s, "Statement")?;
        let at = |e: Problem| prefix(e, kind);
        Ok(match kind {
            "ByteMatchStatement" => self.byte_match(b, cx).map_err(at)?,
            "RegexMatchStatement" => {
                let re = req_str(b, "RegexString")?;
                check_regex(&re)?;
                let re = regex::bytes::Regex::new(&re)
                    .map_err(|e| bad(format!("RegexMatchStatement.RegexString: {e}")))?;
                self.field_statement(b, cx, Test::Regex(re)).map_err(at)?
            }
            "RegexPatternSetReferenceStatement" => {
                let arn = req_str(b, "Arn")?;
                let set = self.waf_reference(&format!("{kind}.Arn"), &arn, |bd, r| match r {
                    Ref::WafRegexSet(i) => Some(Arc::clone(&bd.model.waf.regex_sets[i].set)),
                    _ => None,
                })?;
                self.field_statement(b, cx, Test::RegexSet(set))
                    .map_err(at)?
            }
            "SizeConstraintStatement" => {
                let op = match req_str(b, "ComparisonOperator")?.as_str() {
                    "EQ" => Comparison::Eq,
                    "NE" => Comparison::Ne,
                    "LE" => Comparison::Le,
                    "LT" => Comparison::Lt,
                    "GE" => Comparison::Ge,
                    "GT" => Comparison::Gt,
                    other => {
                        return Err(bad(format!(
                            "ComparisonOperator {other:?} is not EQ, NE, LE, LT, GE or GT"
                        )))
                    }
                };
                let size = opt_int(b, "Size")?.ok_or_else(|| missing("Size"))?;
                if !(0..=21_474_836_480).contains(&size) {
                    return Err(bad(format!("Size {size} is out of range")));
                }
                self.field_statement(b, cx, Test::Size(op, size as u64))
                    .map_err(at)?
            }
            "SqliMatchStatement" | "XssMatchStatement" => {
                self.field_statement(b, cx, Test::Size(Comparison::Ge, 0))
                    .map_err(at)?;
                cx.warn(
                    NOT_SIMULATED,
                    format!("{kind} is not evaluated (AWS does not publish its detection)"),
                );
                Statement::NotEvaluated(if kind == "SqliMatchStatement" {
                    NotEvaluated::SqliMatch
                } else {
                    NotEvaluated::XssMatch
                })
            }
            "AsnMatchStatement" => {
                cx.warn(
                    NOT_SIMULATED,
                    "AsnMatchStatement is not evaluated (no ASN data offline)",
                );
                Statement::NotEvaluated(NotEvaluated::AsnMatch)
            }
            "GeoMatchStatement" => {
                let mut codes = Vec::new();
                for c in str_list(b, "CountryCodes")? {
                    codes.push(country_code(&c).ok_or_else(|| {
                        bad(format!(
                            "GeoMatchStatement.CountryCodes: {c:?} is not an ISO 3166 alpha-2 code"
                        ))
                    })?);
                }
                if codes.is_empty() {
                    return Err(bad("GeoMatchStatement needs CountryCodes"));
                }
                Statement::Geo(codes, forwarded(b, "ForwardedIPConfig", false)?)
            }
            "IPSetReferenceStatement" => {
                let arn = req_str(b, "Arn")?;
                let set = self.waf_reference(&format!("{kind}.Arn"), &arn, |bd, r| match r {
                    Ref::WafIpSet(i) => Some(Arc::clone(&bd.model.waf.ip_sets[i].set)),
                    _ => None,
                })?;
                Statement::IpSet(set, forwarded(b, "IPSetForwardedIPConfig", true)?)
            }
            "LabelMatchStatement" => {
                let scope = match req_str(b, "Scope")?.as_str() {
                    "LABEL" => LabelScope::Label,
                    "NAMESPACE" => LabelScope::Namespace,
                    other => {
                        return Err(bad(format!(
                            "LabelMatchStatement.Scope {other:?} is neither LABEL nor NAMESPACE"
                        )))
                    }
                };
                let mut key = cx.qualify(&req_str(b, "Key")?);
                if scope == LabelScope::Namespace && !key.ends_with(':') {
                    key.push(':');
                }
                Statement::Label(scope, key)
            }
            "AndStatement" | "OrStatement" => {
                let mut parts = Vec::new();
                for p in opt_list(b, "Statements")? {
                    parts.push(self.statement(p, cx)?);
                }
                if parts.len() < 2 {
                    return Err(bad(format!("{kind} needs at least two Statements")));
                }
                if kind == "AndStatement" {
                    Statement::And(parts)
                } else {
                    Statement::Or(parts)
                }
            }
            "NotStatement" => {
                let inner = get(b, "Statement").ok_or_else(|| missing("NotStatement.Statement"))?;
                Statement::Not(Box::new(self.statement(inner, cx)?))
            }
            "RateBasedStatement" | "RuleGroupReferenceStatement" | "ManagedRuleGroupStatement" => {
                return Err(bad(format!("{kind} cannot be nested in another statement")))
            }
            other => {
                return Err(Problem::new(
                    INVALID,
                    format!("{other} is not a WAF statement"),
                ))
            }
        })
    }

    /// A `ByteMatchStatement`.
    fn byte_match(&self, b: &Value, cx: &mut RuleContext) -> R<Statement> {
        let search =
            match (
                opt_str(b, "SearchString")?,
                opt_str(b, "SearchStringBase64")?,
            ) {
                (Some(s), None) => s.into_bytes(),
                (None, Some(b64)) => {
                    let mut out = Vec::new();
                    TextTransformation::Base64Decode.apply(b64.as_bytes(), &mut out);
                    out
                }
                _ => return Err(bad(
                    "ByteMatchStatement needs exactly one of SearchString and SearchStringBase64",
                )),
            };
        if search.is_empty() || search.len() > 200 {
            return Err(bad("ByteMatchStatement.SearchString must be 1-200 bytes"));
        }
        let pos = match req_str(b, "PositionalConstraint")?.as_str() {
            "EXACTLY" => Positional::Exactly,
            "STARTS_WITH" => Positional::StartsWith,
            "ENDS_WITH" => Positional::EndsWith,
            "CONTAINS" => Positional::Contains,
            "CONTAINS_WORD" => Positional::ContainsWord,
            other => return Err(bad(format!("PositionalConstraint {other:?} is not EXACTLY, STARTS_WITH, ENDS_WITH, CONTAINS or CONTAINS_WORD"))),
        };
        self.field_statement(b, cx, Test::Bytes(search, pos))
    }

    fn field_statement(&self, b: &Value, cx: &mut RuleContext, test: Test) -> R<Statement> {
        let f = get(b, "FieldToMatch").ok_or_else(|| missing("FieldToMatch"))?;
        let field = field_to_match(f, cx)?;
        let mut list: Vec<(i64, TextTransformation)> = Vec::new();
        for t in opt_list(b, "TextTransformations")? {
            let priority =
                opt_int(t, "Priority")?.ok_or_else(|| missing("TextTransformations.Priority"))?;
            let name = req_str(t, "Type")?;
            let tt = TextTransformation::from_aws(&name).ok_or_else(|| {
                bad(format!(
                    "TextTransformations: {name:?} is not a transformation type"
                ))
            })?;
            if let TextTransformation::NotSimulated(n) = tt {
                cx.warn(NOT_SIMULATED, format!("TextTransformation {n} is not reproduced; statements using it are not evaluated"));
            }
            if list.iter().any(|(p, _)| *p == priority) {
                return Err(bad(format!(
                    "two TextTransformations have Priority {priority}"
                )));
            }
            list.push((priority, tt));
        }
        if list.is_empty() {
            return Err(missing("TextTransformations"));
        }
        if list.len() > 10 {
            return Err(bad("at most 10 TextTransformations per statement"));
        }
        list.sort_by_key(|(p, _)| *p);
        Ok(Statement::Field {
            field,
            transformations: list.into_iter().map(|(_, t)| t).collect(),
            test,
        })
    }
}

fn oversize(b: &Value) -> R<Oversize> {
    Ok(match opt_str(b, "OversizeHandling")?.as_deref() {
        None | Some("CONTINUE") => Oversize::Continue,
        Some("MATCH") => Oversize::Match,
        Some("NO_MATCH") => Oversize::NoMatch,
        Some(other) => {
            return Err(bad(format!(
                "OversizeHandling {other:?} is not CONTINUE, MATCH or NO_MATCH"
            )))
        }
    })
}

fn pattern_and_scope(
    b: &Value,
    included: &str,
    excluded: &str,
    lower: bool,
) -> R<(MatchPattern, MatchScope)> {
    let mp = get(b, "MatchPattern").ok_or_else(|| missing("MatchPattern"))?;
    let names = |key: &str| -> R<Vec<String>> {
        Ok(str_list(mp, key)?
            .into_iter()
            .map(|n| if lower { n.to_ascii_lowercase() } else { n })
            .collect())
    };
    let pattern = if get(mp, "All").is_some() {
        MatchPattern::All
    } else if get(mp, included).is_some() {
        MatchPattern::Included(names(included)?)
    } else if get(mp, excluded).is_some() {
        MatchPattern::Excluded(names(excluded)?)
    } else {
        return Err(bad(format!(
            "MatchPattern needs All, {included} or {excluded}"
        )));
    };
    let scope = match req_str(b, "MatchScope")?.as_str() {
        "ALL" => MatchScope::All,
        "KEY" => MatchScope::Key,
        "VALUE" => MatchScope::Value,
        other => {
            return Err(bad(format!(
                "MatchScope {other:?} is not ALL, KEY or VALUE"
            )))
        }
    };
    Ok((pattern, scope))
}

fn field_to_match(f: &Value, cx: &mut RuleContext) -> R<FieldToMatch> {
    let (kind, b) = one_key(f, "FieldToMatch")?;
    let name = |key: &str| -> R<String> { Ok(req_str(b, key)?.to_ascii_lowercase()) };
    Ok(match kind {
        "UriPath" => FieldToMatch::UriPath,
        "QueryString" => FieldToMatch::QueryString,
        "Method" => FieldToMatch::Method,
        "AllQueryArguments" => FieldToMatch::AllQueryArguments,
        "Body" => FieldToMatch::Body(oversize(b)?),
        "SingleHeader" => FieldToMatch::SingleHeader(name("Name")?),
        "SingleQueryArgument" => FieldToMatch::SingleQueryArgument(name("Name")?),
        "Headers" => {
            let (p, s) = pattern_and_scope(b, "IncludedHeaders", "ExcludedHeaders", true)?;
            FieldToMatch::Headers(p, s, oversize(b)?)
        }
        "Cookies" => {
            let (p, s) = pattern_and_scope(b, "IncludedCookies", "ExcludedCookies", false)?;
            FieldToMatch::Cookies(p, s, oversize(b)?)
        }
        other => {
            const NOT_SIMULATED_FIELDS: &[&str] = &[
                "JsonBody",
                "HeaderOrder",
                "JA3Fingerprint",
                "JA4Fingerprint",
                "UriFragment",
            ];
            let Some(known) = NOT_SIMULATED_FIELDS.iter().find(|n| **n == other) else {
                return Err(bad(format!(
                    "FieldToMatch {other:?} is not a field WAF inspects"
                )));
            };
            cx.warn(
                NOT_SIMULATED,
                format!(
                    "FieldToMatch {known} is not inspected; statements using it are not evaluated"
                ),
            );
            FieldToMatch::NotSimulated(known)
        }
    })
}

/// `ForwardedIPConfig` (geo, rate-based) or `IPSetForwardedIPConfig` (with `Position`).
fn forwarded(b: &Value, key: &str, with_position: bool) -> R<Option<ForwardedIpConfig>> {
    let Some(c) = get(b, key) else {
        return Ok(None);
    };
    let fallback = match req_str(c, "FallbackBehavior")?.as_str() {
        "MATCH" => Fallback::Match,
        "NO_MATCH" => Fallback::NoMatch,
        other => {
            return Err(bad(format!(
                "{key}.FallbackBehavior {other:?} is neither MATCH nor NO_MATCH"
            )))
        }
    };
    let position = if with_position {
        match req_str(c, "Position")?.as_str() {
            "FIRST" => ForwardedPosition::First,
            "LAST" => ForwardedPosition::Last,
            "ANY" => ForwardedPosition::Any,
            other => {
                return Err(bad(format!(
                    "{key}.Position {other:?} is not FIRST, LAST or ANY"
                )))
            }
        }
    } else {
        ForwardedPosition::First
    };
    Ok(Some(ForwardedIpConfig {
        header: req_str(c, "HeaderName")?,
        fallback,
        position,
    }))
}
