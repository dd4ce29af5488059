//! Intrinsic functions: `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join` and the rest, evaluated
//! over a [`Node`] tree for an [`Evaluator`].

use serde_json::Value;

use super::codes::*;
use super::eval::{Evaluator, Resolver};
use super::funcs::{self, SubPart};
use super::{CfnError, Intrinsic, Node, MAX_DEPTH};

/// Result of evaluating a node: `None` is `AWS::NoValue`.
pub(super) type Ev = Result<Option<Value>, CfnError>;

/// Per-call evaluation context.
pub(super) struct Cx<'a> {
    pub(super) resolver: &'a dyn Resolver,
    pub(super) logical_id: Option<&'a str>,
    /// Evaluating the Conditions section: resource references are errors, not lookups.
    pub(super) in_conditions: bool,
}

impl Evaluator<'_> {
    fn err(&self, cx: &Cx, code: &'static str, msg: impl Into<String>) -> CfnError {
        self.error(cx.logical_id, code, msg)
    }

    // The evaluation functions below recurse once per nesting level. Each arm delegates to a
    // helper and returns its result directly so that every frame on the recursive path stays
    // small even in unoptimised builds, where a 2 MiB test thread must still cope with the
    // deepest template the parser accepts.

    pub(super) fn ev(&self, node: &Node, cx: &Cx, depth: usize) -> Ev {
        if depth > MAX_DEPTH {
            return Err(self.err(cx, INVALID_TEMPLATE, "nesting too deep"));
        }
        match node {
            Node::Null => Ok(Some(Value::Null)),
            Node::Bool(b) => Ok(Some(Value::Bool(*b))),
            Node::Number(n) => Ok(Some(Value::Number(n.clone()))),
            Node::String(s) => Ok(Some(Value::String(s.clone()))),
            Node::List(items) => self.ev_list(items, cx, depth + 1),
            Node::Map(entries) => self.ev_map(entries, cx, depth + 1),
            Node::Fn(f) => self.ev_fn(f, cx, depth + 1),
        }
    }

    fn ev_list(&self, items: &[Node], cx: &Cx, depth: usize) -> Ev {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(v) = self.ev(item, cx, depth)? {
                out.push(v);
            }
        }
        Ok(Some(Value::Array(out)))
    }

    fn ev_map(&self, entries: &[(String, Node)], cx: &Cx, depth: usize) -> Ev {
        let mut out = serde_json::Map::new();
        for (k, v) in entries {
            if let Some(v) = self.ev(v, cx, depth)? {
                out.insert(k.clone(), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }

    /// Evaluate an argument that must produce a value (NoValue is an error there).
    fn arg(&self, node: &Node, cx: &Cx, depth: usize, func: &str) -> Result<Value, CfnError> {
        self.ev(node, cx, depth)?.ok_or_else(|| {
            self.err(
                cx,
                INVALID_FUNCTION,
                format!("{func}: AWS::NoValue is not a valid argument"),
            )
        })
    }

    fn string_arg(
        &self,
        node: &Node,
        cx: &Cx,
        depth: usize,
        func: &str,
    ) -> Result<String, CfnError> {
        let v = self.arg(node, cx, depth, func)?;
        scalar_string(&v).ok_or_else(|| {
            self.err(
                cx,
                INVALID_FUNCTION,
                format!("{func}: expected a string, got {}", brief(&v)),
            )
        })
    }

    fn list_arg(
        &self,
        node: &Node,
        cx: &Cx,
        depth: usize,
        func: &str,
    ) -> Result<Vec<Value>, CfnError> {
        match self.arg(node, cx, depth, func)? {
            Value::Array(items) => Ok(items),
            v => Err(self.err(
                cx,
                INVALID_FUNCTION,
                format!("{func}: expected a list, got {}", brief(&v)),
            )),
        }
    }

    fn int_arg(&self, node: &Node, cx: &Cx, depth: usize, func: &str) -> Result<u64, CfnError> {
        let v = self.arg(node, cx, depth, func)?;
        let n = match &v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e18)
                    .map(|f| f as u64)
            }),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        n.ok_or_else(|| {
            self.err(
                cx,
                INVALID_FUNCTION,
                format!("{func}: expected a non-negative integer, got {}", brief(&v)),
            )
        })
    }

    fn bool_arg(&self, node: &Node, cx: &Cx, depth: usize, func: &str) -> Result<bool, CfnError> {
        match self.arg(node, cx, depth, func)? {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            v => Err(self.err(
                cx,
                INVALID_FUNCTION,
                format!("{func}: expected a condition, got {}", brief(&v)),
            )),
        }
    }

    fn lookup_condition(&self, name: &str, cx: &Cx) -> Result<bool, CfnError> {
        self.conditions.get(name).copied().ok_or_else(|| {
            self.err(
                cx,
                UNRESOLVED_REFERENCE,
                format!("no condition named {name} (or it has not been evaluated)"),
            )
        })
    }

    fn pseudo(&self, name: &str) -> Option<Option<Value>> {
        let c = self.ctx;
        Some(Some(match name {
            "AWS::Region" => Value::String(c.region.clone()),
            "AWS::AccountId" => Value::String(c.account_id.clone()),
            "AWS::StackName" => Value::String(c.stack_name.clone()),
            "AWS::StackId" => Value::String(c.stack_id.clone()),
            "AWS::Partition" => Value::String(funcs::partition(&c.region).to_owned()),
            "AWS::URLSuffix" => Value::String(funcs::url_suffix(&c.region).to_owned()),
            "AWS::NotificationARNs" => Value::Array(Vec::new()),
            "AWS::NoValue" => return Some(None),
            _ => return None,
        }))
    }

    fn reference(&self, name: &str, cx: &Cx) -> Result<Option<Value>, CfnError> {
        if let Some(v) = self.pseudo(name) {
            return Ok(v);
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        if self.is_resource(name) {
            if cx.in_conditions {
                return Err(self.err(
                    cx,
                    UNRESOLVED_REFERENCE,
                    format!("conditions cannot reference resource {name}"),
                ));
            }
            return cx.resolver.resource_ref(name).map(Some).ok_or_else(|| {
                self.err(
                    cx,
                    UNRESOLVED_REFERENCE,
                    format!("resource {name} has no physical id (it is not created, or not resolved yet)"),
                )
            });
        }
        Err(self.err(
            cx,
            UNRESOLVED_REFERENCE,
            format!("{name} is not a parameter, pseudo parameter or resource"),
        ))
    }

    fn get_att(&self, res: &str, attr: &str, cx: &Cx) -> Result<Value, CfnError> {
        if !self.is_resource(res) {
            return Err(self.err(
                cx,
                UNRESOLVED_REFERENCE,
                format!("Fn::GetAtt: {res} is not a resource"),
            ));
        }
        if cx.in_conditions {
            return Err(self.err(
                cx,
                UNRESOLVED_REFERENCE,
                format!("conditions cannot reference resource {res}"),
            ));
        }
        cx.resolver
            .get_att(res, attr)
            .map_err(|m| self.err(cx, UNRESOLVED_ATTRIBUTE, format!("{res}.{attr}: {m}")))
    }

    fn ev_fn(&self, f: &Intrinsic, cx: &Cx, d: usize) -> Ev {
        match f {
            Intrinsic::Ref(name) => self.reference(name, cx),
            Intrinsic::GetAtt(res, attr) => self.get_att(res, attr, cx).map(Some),
            Intrinsic::Sub(s, vars) => self.sub(s, vars, cx, d),
            Intrinsic::Join(delim, list) => self.join(delim, list, cx, d),
            Intrinsic::Select(index, list) => self.select(index, list, cx, d),
            Intrinsic::Split(delim, s) => self.split(delim, s, cx, d),
            Intrinsic::GetAZs(region) => self.get_azs(region, cx, d),
            Intrinsic::Cidr(block, count, bits) => self.cidr(block, count, bits, cx, d),
            Intrinsic::If(cond, a, b) => self.if_(cond, a, b, cx, d),
            Intrinsic::Equals(a, b) => self.equals(a, b, cx, d),
            Intrinsic::And(items) => self.and_or(items, true, cx, d),
            Intrinsic::Or(items) => self.and_or(items, false, cx, d),
            Intrinsic::Not(item) => self.not(item, cx, d),
            Intrinsic::Condition(name) => self
                .lookup_condition(name, cx)
                .map(|b| Some(Value::Bool(b))),
            Intrinsic::FindInMap(m, k1, k2) => self.find_in_map(m, k1, k2, None, cx, d),
            Intrinsic::FindInMapWithDefault(m, k1, k2, default) => {
                self.find_in_map(m, k1, k2, Some(default), cx, d)
            }
            Intrinsic::Base64(s) => self.base64(s, cx, d),
            Intrinsic::ImportValue(name) => self.import_value(name, cx, d),
            Intrinsic::Length(list) => self.length(list, cx, d),
            Intrinsic::ToJsonString(v) => self.to_json_string(v, cx, d),
            Intrinsic::Unsupported(name, _) => {
                Err(self.err(cx, UNSUPPORTED_FUNCTION, format!("{name} is not supported")))
            }
        }
    }

    fn join(&self, delim: &Node, list: &Node, cx: &Cx, d: usize) -> Ev {
        let delim = self.string_arg(delim, cx, d, "Fn::Join")?;
        let items = self.list_arg(list, cx, d, "Fn::Join")?;
        let mut parts = Vec::with_capacity(items.len());
        for item in &items {
            parts.push(scalar_string(item).ok_or_else(|| {
                self.err(
                    cx,
                    INVALID_FUNCTION,
                    format!(
                        "Fn::Join: list elements must be strings, got {}",
                        brief(item)
                    ),
                )
            })?);
        }
        Ok(Some(Value::String(parts.join(&delim))))
    }

    fn select(&self, index: &Node, list: &Node, cx: &Cx, d: usize) -> Ev {
        let i = self.int_arg(index, cx, d, "Fn::Select")?;
        let mut items = self.list_arg(list, cx, d, "Fn::Select")?;
        let len = items.len();
        match usize::try_from(i).ok().filter(|&i| i < len) {
            Some(i) => Ok(Some(items.swap_remove(i))),
            None => Err(self.err(
                cx,
                INVALID_FUNCTION,
                format!("Fn::Select: index {i} is out of range for a list of {len}"),
            )),
        }
    }

    fn split(&self, delim: &Node, s: &Node, cx: &Cx, d: usize) -> Ev {
        let delim = self.string_arg(delim, cx, d, "Fn::Split")?;
        let s = self.string_arg(s, cx, d, "Fn::Split")?;
        if delim.is_empty() {
            return Err(self.err(cx, INVALID_FUNCTION, "Fn::Split: the delimiter is empty"));
        }
        Ok(Some(Value::Array(
            s.split(delim.as_str())
                .map(|p| Value::String(p.to_owned()))
                .collect(),
        )))
    }

    fn get_azs(&self, region: &Node, cx: &Cx, d: usize) -> Ev {
        let region = match self.ev(region, cx, d)? {
            None | Some(Value::Null) => String::new(),
            Some(v) => scalar_string(&v).ok_or_else(|| {
                self.err(
                    cx,
                    INVALID_FUNCTION,
                    format!("Fn::GetAZs: expected a region name, got {}", brief(&v)),
                )
            })?,
        };
        let region = if region.is_empty() {
            self.ctx.region.as_str()
        } else {
            region.as_str()
        };
        let zones = match self.ctx.zones.get(region) {
            Some(z) => z.clone(),
            None => funcs::availability_zones(region),
        };
        Ok(Some(Value::Array(
            zones.into_iter().map(Value::String).collect(),
        )))
    }

    fn cidr(&self, block: &Node, count: &Node, bits: &Node, cx: &Cx, d: usize) -> Ev {
        let block = self.string_arg(block, cx, d, "Fn::Cidr")?;
        let count = self.int_arg(count, cx, d, "Fn::Cidr")?;
        let bits = self.int_arg(bits, cx, d, "Fn::Cidr")?;
        let blocks = funcs::cidr(&block, count, bits)
            .map_err(|m| self.err(cx, INVALID_FUNCTION, format!("Fn::Cidr: {m}")))?;
        Ok(Some(Value::Array(
            blocks.into_iter().map(Value::String).collect(),
        )))
    }

    fn if_(&self, cond: &str, a: &Node, b: &Node, cx: &Cx, d: usize) -> Ev {
        let branch = if self.lookup_condition(cond, cx)? {
            a
        } else {
            b
        };
        self.ev(branch, cx, d)
    }

    fn equals(&self, a: &Node, b: &Node, cx: &Cx, d: usize) -> Ev {
        let a = self.ev(a, cx, d)?.unwrap_or(Value::Null);
        let b = self.ev(b, cx, d)?.unwrap_or(Value::Null);
        Ok(Some(Value::Bool(normalise(a) == normalise(b))))
    }

    /// `Fn::And` (`all` = true) or `Fn::Or`. Every operand is evaluated, so an invalid one is
    /// reported even when the result is already decided.
    fn and_or(&self, items: &[Node], all: bool, cx: &Cx, d: usize) -> Ev {
        let func = if all { "Fn::And" } else { "Fn::Or" };
        let mut result = all;
        for item in items {
            let b = self.bool_arg(item, cx, d, func)?;
            result = if all { result && b } else { result || b };
        }
        Ok(Some(Value::Bool(result)))
    }

    fn not(&self, item: &Node, cx: &Cx, d: usize) -> Ev {
        Ok(Some(Value::Bool(!self.bool_arg(item, cx, d, "Fn::Not")?)))
    }

    fn base64(&self, s: &Node, cx: &Cx, d: usize) -> Ev {
        let s = self.string_arg(s, cx, d, "Fn::Base64")?;
        Ok(Some(Value::String(funcs::base64(s.as_bytes()))))
    }

    fn import_value(&self, name: &Node, cx: &Cx, d: usize) -> Ev {
        let name = self.string_arg(name, cx, d, "Fn::ImportValue")?;
        match self.ctx.imports.get(&name) {
            Some(v) => Ok(Some(Value::String(v.clone()))),
            None => Err(self.err(
                cx,
                UNRESOLVED_IMPORT,
                format!("no value for the exported name {name:?}: pass `--import {name}=Value`"),
            )),
        }
    }

    fn length(&self, list: &Node, cx: &Cx, d: usize) -> Ev {
        Ok(Some(Value::from(
            self.list_arg(list, cx, d, "Fn::Length")?.len(),
        )))
    }

    fn to_json_string(&self, v: &Node, cx: &Cx, d: usize) -> Ev {
        let v = self.arg(v, cx, d, "Fn::ToJsonString")?;
        Ok(Some(Value::String(v.to_string())))
    }

    fn find_in_map(
        &self,
        map: &Node,
        k1: &Node,
        k2: &Node,
        default: Option<&Node>,
        cx: &Cx,
        d: usize,
    ) -> Ev {
        let names = [
            self.string_arg(map, cx, d, "Fn::FindInMap")?,
            self.string_arg(k1, cx, d, "Fn::FindInMap")?,
            self.string_arg(k2, cx, d, "Fn::FindInMap")?,
        ];
        let mut node = &self.template.mappings;
        for (level, key) in names.iter().enumerate() {
            let found = match node {
                Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            };
            match found {
                Some(n) => node = n,
                None => {
                    if let Some(default) = default {
                        return self.arg(default, cx, d, "Fn::FindInMap").map(Some);
                    }
                    let what = match level {
                        0 => format!("no mapping named {}", names[0]),
                        1 => format!("mapping {} has no key {}", names[0], names[1]),
                        _ => format!("mapping {}.{} has no key {}", names[0], names[1], names[2]),
                    };
                    return Err(self.err(
                        cx,
                        UNRESOLVED_REFERENCE,
                        format!("Fn::FindInMap: {what}"),
                    ));
                }
            }
        }
        self.arg(node, cx, d, "Fn::FindInMap").map(Some)
    }

    fn sub(&self, s: &str, vars: &[(String, Node)], cx: &Cx, d: usize) -> Ev {
        let mut values: Vec<(&str, Value)> = Vec::with_capacity(vars.len());
        for (name, node) in vars {
            values.push((name, self.arg(node, cx, d, "Fn::Sub")?));
        }
        let mut out = String::with_capacity(s.len());
        for part in funcs::sub_parts(s) {
            match part {
                SubPart::Literal(l) => out.push_str(l),
                SubPart::Escaped(l) => {
                    out.push_str("${");
                    out.push_str(l);
                    out.push('}');
                }
                SubPart::Var(name) => {
                    let v = match values.iter().find(|(n, _)| *n == name) {
                        Some((_, v)) => v.clone(),
                        None => match self.sub_reference(name, cx)? {
                            Some(v) => v,
                            None => {
                                return Err(self.err(
                                    cx,
                                    INVALID_FUNCTION,
                                    format!("Fn::Sub: ${{{name}}} is AWS::NoValue"),
                                ))
                            }
                        },
                    };
                    let text = scalar_string(&v).ok_or_else(|| {
                        self.err(
                            cx,
                            INVALID_FUNCTION,
                            format!("Fn::Sub: ${{{name}}} is {}, not a string", brief(&v)),
                        )
                    })?;
                    out.push_str(&text);
                }
            }
        }
        Ok(Some(Value::String(out)))
    }

    /// `${Name}` is a Ref unless it names nothing and contains a dot, in which case it is
    /// `${Resource.Attribute}`.
    fn sub_reference(&self, name: &str, cx: &Cx) -> Result<Option<Value>, CfnError> {
        if self.pseudo(name).is_some() || self.params.contains_key(name) || self.is_resource(name) {
            return self.reference(name, cx);
        }
        match name.split_once('.') {
            Some((res, attr)) => self.get_att(res, attr, cx).map(Some),
            None => self.reference(name, cx),
        }
    }
}

/// Text form of a scalar, as Join/Sub/Split use it.
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// CloudFormation compares values as strings, so `3` equals `"3"` and `true` equals `"true"`.
fn normalise(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        other => other,
    }
}

/// Short description of a value for error messages.
fn brief(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.len() <= 40 => format!("string {s:?}"),
        Value::String(_) => "a string".into(),
        Value::Array(a) => format!("a list of {}", a.len()),
        Value::Object(_) => "a map".into(),
    }
}
