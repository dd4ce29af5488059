//! The request context and the `Condition` block (SPEC.md §23.2, §23.5): every operator AWS
//! documents for identity policies, the `IfExists` suffix, `ForAllValues:`/`ForAnyValue:` for
//! multivalued keys, and the rules for keys missing from the context.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use crate::auth::dates;
use crate::auth::policy::{arn_like, glob, substitute};

/// The condition keys of one request. Key names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, Vec<String>>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a key to one value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.keys
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Sets a key to several values (a multivalued key such as `aws:TagKeys`).
    pub fn set_all(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(key.to_ascii_lowercase(), values);
    }

    /// A key's values, if the key is present.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }

    /// A key's value when it has exactly one (what a policy variable needs).
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some([v]) => Some(v.as_str()),
            _ => None,
        }
    }
}

/// How a base operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    ArnLike,
    Null,
}

/// Which values must match, for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Plain,
    ForAllValues,
    ForAnyValue,
}

/// One `"Operator": {"key": values}` pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    op: Op,
    negated: bool,
    if_exists: bool,
    set: SetOp,
    key: String,
    values: Vec<String>,
}

fn parse_op(name: &str) -> Option<(Op, bool)> {
    use Op::*;
    Some(match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "NumericEquals" => (NumericEquals, false),
        "NumericNotEquals" => (NumericEquals, true),
        "NumericLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "DateEquals" => (DateEquals, false),
        "DateNotEquals" => (DateEquals, true),
        "DateLessThan" => (DateLessThan, false),
        "DateLessThanEquals" => (DateLessThanEquals, false),
        "DateGreaterThan" => (DateGreaterThan, false),
        "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (BinaryEquals, false),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("Condition values must be strings, numbers or booleans".into()),
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn ip_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

impl Condition {
    /// Parses a statement's `Condition` block.
    pub fn parse_block(block: &Value) -> Result<Vec<Condition>, String> {
        let ops = block.as_object().ok_or("Condition must be an object")?;
        let mut out = Vec::new();
        for (name, keys) in ops {
            let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
                (SetOp::ForAllValues, r)
            } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
                (SetOp::ForAnyValue, r)
            } else {
                (SetOp::Plain, name.as_str())
            };
            let (base, if_exists) = match rest.strip_suffix("IfExists") {
                Some(b) => (b, true),
                None => (rest, false),
            };
            let (op, negated) =
                parse_op(base).ok_or_else(|| format!("Invalid Condition type : {name}"))?;
            if op == Op::Null && if_exists {
                return Err(format!("Invalid Condition type : {name}"));
            }
            let keys = keys
                .as_object()
                .ok_or_else(|| format!("Condition {name} must map keys to values"))?;
            for (key, vals) in keys {
                let values = match vals {
                    Value::Array(a) => a.iter().map(scalar).collect::<Result<Vec<_>, _>>()?,
                    v => vec![scalar(v)?],
                };
                out.push(Condition {
                    op,
                    negated,
                    if_exists,
                    set,
                    key: key.clone(),
                    values,
                });
            }
        }
        Ok(out)
    }

    /// Whether one context value matches one policy value under the (non-negated) operator.
    fn matches(&self, policy: &str, actual: &str) -> bool {
        use Op::*;
        match self.op {
            StringEquals => policy == actual,
            StringEqualsIgnoreCase => policy.to_lowercase() == actual.to_lowercase(),
            StringLike => glob(policy, actual, false),
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => match (number(actual), number(policy)) {
                (Some(a), Some(p)) => compare(self.op, a, p),
                _ => false,
            },
            DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => match (dates::parse_any(actual), dates::parse_any(policy)) {
                (Some(a), Some(p)) => compare(
                    self.op,
                    dates::epoch_seconds(a) as f64,
                    dates::epoch_seconds(p) as f64,
                ),
                _ => false,
            },
            Bool => policy.eq_ignore_ascii_case(actual),
            BinaryEquals => policy == actual,
            IpAddress => match (ip_net(policy), actual.parse::<IpAddr>()) {
                (Some(net), Ok(ip)) => net.contains(&ip),
                _ => false,
            },
            ArnLike => arn_like(policy, actual),
            Null => false,
        }
    }

    /// Whether the condition holds in `ctx`; `vars` enables `${…}` in policy values.
    pub fn holds(&self, ctx: &Context, vars: bool) -> bool {
        let actual = ctx.get(&self.key);
        if self.op == Op::Null {
            let absent = actual.is_none_or(<[String]>::is_empty);
            return self
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("true") == absent);
        }
        let values: Vec<String> = if vars && self.op != Op::BinaryEquals {
            self.values
                .iter()
                .filter_map(|v| substitute(v, ctx))
                .collect()
        } else {
            self.values.clone()
        };
        let one = |a: &str| values.iter().any(|p| self.matches(p, a)) != self.negated;
        match (actual, self.set) {
            (None, _) if self.if_exists => true,
            (None, SetOp::ForAllValues) => true,
            (None, SetOp::ForAnyValue) => false,
            (None, SetOp::Plain) => self.negated,
            (Some(list), SetOp::ForAllValues) => list.iter().all(|a| one(a)),
            (Some(list), _) => list.iter().any(|a| one(a)),
        }
    }
}

fn compare(op: Op, a: f64, p: f64) -> bool {
    match op {
        Op::NumericEquals | Op::DateEquals => a == p,
        Op::NumericLessThan | Op::DateLessThan => a < p,
        Op::NumericLessThanEquals | Op::DateLessThanEquals => a <= p,
        Op::NumericGreaterThan | Op::DateGreaterThan => a > p,
        _ => a >= p,
    }
}
