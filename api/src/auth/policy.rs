//! IAM policy documents and their evaluation (SPEC.md §23.2–23.3): parse a document once into
//! statements, then decide one request (action, resource, context) as AWS does — an explicit
//! deny wins, else an allow, else the implicit deny.

use serde_json::Value;

use crate::auth::conditions::{Condition, Context};

/// The effect of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
}

/// A list of patterns that may be negated (`NotAction`, `NotResource`, `NotPrincipal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    /// `true` for the `Not…` form: matches what none of the patterns match.
    pub negated: bool,
    /// The patterns, as written.
    pub values: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// Allow or deny.
    pub effect: Effect,
    /// `Action` / `NotAction`.
    pub action: Patterns,
    /// `Resource` / `NotResource`; absent in trust policies.
    pub resource: Option<Patterns>,
    /// `Principal` / `NotPrincipal` of a trust policy: `(type, value)` pairs (`("AWS", arn)`,
    /// `("Service", "ec2.amazonaws.com")`, `("*", "*")`).
    pub principal: Option<(bool, Vec<(String, String)>)>,
    /// Every condition; all must hold.
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `2012-10-17` enables policy variables; `2008-10-17` (or none) does not.
    pub variables: bool,
    /// The statements.
    pub statements: Vec<Statement>,
}

/// Which kind of document is being parsed: identity policies need `Resource`, trust policies
/// need `Principal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A user's, group's or role's permissions policy.
    Identity,
    /// A role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
}

/// The outcome of evaluating policies for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Some statement allowed it and none denied it.
    Allow,
    /// A statement denied it.
    ExplicitDeny,
    /// Nothing allowed it.
    ImplicitDeny,
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what} must be a string or a list of strings"))
            })
            .collect(),
        _ => Err(format!(
            "{what} must be a string or a non-empty list of strings"
        )),
    }
}

fn patterns(st: &serde_json::Map<String, Value>, name: &str) -> Result<Option<Patterns>, String> {
    let not = format!("Not{name}");
    match (st.get(name), st.get(&not)) {
        (Some(_), Some(_)) => Err(format!("Statement cannot have both {name} and {not}")),
        (Some(v), None) => Ok(Some(Patterns {
            negated: false,
            values: strings(v, name)?,
        })),
        (None, Some(v)) => Ok(Some(Patterns {
            negated: true,
            values: strings(v, &not)?,
        })),
        (None, None) => Ok(None),
    }
}

fn principal(v: &Value) -> Result<Vec<(String, String)>, String> {
    match v {
        Value::String(s) if s == "*" => Ok(vec![("*".into(), "*".into())]),
        Value::Object(m) => {
            let mut out = Vec::new();
            for (kind, vals) in m {
                if !["AWS", "Service", "Federated", "CanonicalUser"].contains(&kind.as_str()) {
                    return Err(format!("Invalid principal type: {kind}"));
                }
                for val in strings(vals, "Principal")? {
                    out.push((kind.clone(), val));
                }
            }
            Ok(out)
        }
        _ => Err("Principal must be \"*\" or an object".into()),
    }
}

fn statement(v: &Value, kind: PolicyKind) -> Result<Statement, String> {
    let st = v.as_object().ok_or("Statement must be an object")?;
    for key in st.keys() {
        if ![
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
            "NotPrincipal",
            "Condition",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("Unknown field {key}"));
        }
    }
    let effect = match st.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err("Missing required field Effect".into()),
    };
    let action = patterns(st, "Action")?.ok_or("Missing required field Action")?;
    let resource = patterns(st, "Resource")?;
    let principal = match (st.get("Principal"), st.get("NotPrincipal")) {
        (Some(p), None) => Some((false, principal(p)?)),
        (None, Some(p)) => Some((true, principal(p)?)),
        (None, None) => None,
        _ => return Err("Statement cannot have both Principal and NotPrincipal".into()),
    };
    match kind {
        PolicyKind::Identity if resource.is_none() => {
            return Err("Missing required field Resource".into())
        }
        PolicyKind::Identity if principal.is_some() => {
            return Err("Policy document should not specify a principal.".into())
        }
        PolicyKind::Trust if principal.is_none() => {
            return Err("Missing required field Principal".into())
        }
        _ => {}
    }
    let conditions = match st.get("Condition") {
        None => Vec::new(),
        Some(c) => Condition::parse_block(c)?,
    };
    Ok(Statement {
        sid: st.get("Sid").and_then(Value::as_str).map(str::to_string),
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

impl Policy {
    /// Parses a document; the error is the `MalformedPolicyDocument` message.
    pub fn parse(doc: &str, kind: PolicyKind) -> Result<Policy, String> {
        let v: Value =
            serde_json::from_str(doc).map_err(|_| "Syntax errors in policy.".to_string())?;
        let obj = v.as_object().ok_or("Syntax errors in policy.")?;
        let variables = match obj.get("Version").map(|v| v.as_str()) {
            None => false,
            Some(Some("2012-10-17")) => true,
            Some(Some("2008-10-17")) => false,
            Some(_) => return Err("The policy must contain a valid version string".into()),
        };
        let statements = match obj.get("Statement") {
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|s| statement(s, kind))
                .collect::<Result<_, _>>()?,
            Some(s @ Value::Object(_)) => vec![statement(s, kind)?],
            _ => return Err("Missing required field Statement".into()),
        };
        Ok(Policy {
            variables,
            statements,
        })
    }
}

/// `*` matches any run of characters and `?` exactly one; `ci` compares case-insensitively.
pub fn glob(pattern: &str, text: &str, ci: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ci {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// ARN matching as `Resource` and `ArnLike` do it: segment by segment (the sixth, the
/// resource, may hold `:` and `/`), wildcards within each, case-sensitive.
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let ps: Vec<&str> = pattern.splitn(6, ':').collect();
    let as_: Vec<&str> = arn.splitn(6, ':').collect();
    if ps.len() != 6 || as_.len() != 6 {
        return glob(pattern, arn, false);
    }
    ps.iter().zip(&as_).all(|(p, a)| glob(p, a, false))
}

/// Replaces `${key}` policy variables from the context (and `${*}`, `${?}`, `${$}`); `None`
/// when a variable has no single value, which makes the pattern match nothing.
pub fn substitute(text: &str, ctx: &Context) -> Option<String> {
    if !text.contains("${") {
        return Some(text.to_string());
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let inner = &after[..end];
        // `${key, 'default'}` supplies a value for a missing key.
        let (key, default) = match inner.split_once(',') {
            Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
            None => (inner.trim(), None),
        };
        match key {
            "*" | "?" | "$" => out.push_str(key),
            k => match ctx.single(k).or(default) {
                Some(v) => out.push_str(v),
                None => return None,
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn any_matches(p: &Patterns, vars: bool, ctx: &Context, m: impl Fn(&str) -> bool) -> bool {
    let hit = p.values.iter().any(|pat| {
        if vars {
            substitute(pat, ctx).is_some_and(|s| m(&s))
        } else {
            m(pat)
        }
    });
    hit != p.negated
}

/// Whether an action pattern (`ec2:Describe*`, `*`) covers `action`, case-insensitively.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    pattern == "*" || glob(pattern, action, true)
}

impl Statement {
    /// Whether this statement applies to `action` on `resource` in `ctx` (principal aside).
    pub fn applies(&self, vars: bool, action: &str, resource: &str, ctx: &Context) -> bool {
        if !any_matches(&self.action, false, ctx, |p| action_matches(p, action)) {
            return false;
        }
        if let Some(r) = &self.resource {
            if !any_matches(r, vars, ctx, |p| arn_like(p, resource)) {
                return false;
            }
        }
        self.conditions.iter().all(|c| c.holds(ctx, vars))
    }

    /// Whether the trust statement's principal names the caller: `*`, the caller's ARN (or,
    /// for a role session, its role's ARN), the account id, or the account's root ARN.
    pub fn names_principal(&self, account: &str, principal_arns: &[String]) -> bool {
        let Some((negated, list)) = &self.principal else {
            return false;
        };
        let root = format!("arn:aws:iam::{account}:root");
        let hit = list.iter().any(|(kind, v)| {
            kind == "*"
                || (kind == "AWS"
                    && (v == "*"
                        || v == account
                        || *v == root
                        || principal_arns.iter().any(|a| a == v)))
        });
        hit != *negated
    }
}

/// Evaluates identity policies for one action on one resource: explicit deny, else allow,
/// else implicit deny.
pub fn evaluate(policies: &[Policy], action: &str, resource: &str, ctx: &Context) -> Decision {
    let mut allowed = false;
    for policy in policies {
        for st in &policy.statements {
            if st.applies(policy.variables, action, resource, ctx) {
                match st.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
