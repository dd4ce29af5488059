//! Parameter resolution, condition evaluation and intrinsic-function evaluation.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::codes::*;
use super::funcs::{self, SubPart, PSEUDO_PARAMETERS};
use super::{CfnError, Intrinsic, Node, Parameter, Resource, Template, MAX_DEPTH};

/// What CloudFormation would know about the stack being created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackContext {
    pub region: String,
    pub account_id: String,
    pub stack_name: String,
    pub stack_id: String,
    /// Parameter values given on the command line; they win over `Default`.
    pub parameter_overrides: BTreeMap<String, String>,
    /// Values for `Fn::ImportValue`, keyed by export name (we have no other stacks to ask).
    pub imports: BTreeMap<String, String>,
}

impl StackContext {
    /// A context with a stack id in CloudFormation's ARN format, so templates that parse the
    /// stack id (`!Select [2, !Split ['/', !Ref AWS::StackId]]`) get realistic pieces.
    pub fn new(region: &str, account_id: &str, stack_name: &str) -> Self {
        StackContext {
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            stack_name: stack_name.to_owned(),
            stack_id: format!(
                "arn:{}:cloudformation:{region}:{account_id}:stack/{stack_name}/00000000-0000-4000-8000-000000000000",
                funcs::partition(region)
            ),
            parameter_overrides: BTreeMap::new(),
            imports: BTreeMap::new(),
        }
    }
}

/// Resolves references to resources. Implemented by the model builder.
pub trait Resolver {
    /// `Ref` of a resource: its physical id (e.g. "vpc-0a1b…") or None when the resource isn't
    /// known (yet).
    fn resource_ref(&self, logical_id: &str) -> Option<Value>;
    /// `Fn::GetAtt`: Ok(value), or Err(message) when the attribute is not supported for that
    /// resource.
    fn get_att(&self, logical_id: &str, attribute: &str) -> Result<Value, String>;
}

/// Conditions may not reference resources; this makes any attempt fail with a clear message.
struct NoResources;

impl Resolver for NoResources {
    fn resource_ref(&self, _: &str) -> Option<Value> {
        None
    }
    fn get_att(&self, logical_id: &str, _: &str) -> Result<Value, String> {
        Err(format!("conditions cannot reference resource {logical_id}"))
    }
}

/// A template bound to a stack context, with parameters resolved and conditions evaluated.
#[derive(Debug)]
pub struct Evaluator<'t> {
    pub(super) template: &'t Template,
    pub(super) ctx: &'t StackContext,
    pub(super) params: BTreeMap<String, Value>,
    pub(super) conditions: BTreeMap<String, bool>,
    pub(super) resource_index: HashMap<&'t str, usize>,
}

/// Result of evaluating a node: `None` is `AWS::NoValue`.
type Ev = Result<Option<Value>, CfnError>;

/// Per-call evaluation context.
struct Cx<'a> {
    resolver: &'a dyn Resolver,
    logical_id: Option<&'a str>,
    /// Evaluating the Conditions section: resource references are errors, not lookups.
    in_conditions: bool,
}

impl<'t> Evaluator<'t> {
    /// Resolve parameters (override > Default), check AllowedValues, and evaluate all
    /// Conditions. Returns every problem found rather than the first.
    pub fn new(template: &'t Template, ctx: &'t StackContext) -> Result<Self, Vec<CfnError>> {
        let mut ev = Evaluator {
            template,
            ctx,
            params: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resource_index: template
                .resources
                .iter()
                .enumerate()
                .map(|(i, r)| (r.logical_id.as_str(), i))
                .collect(),
        };
        let mut errors = Vec::new();
        for name in ctx.parameter_overrides.keys() {
            if !template.parameters.iter().any(|p| &p.name == name) {
                errors.push(ev.error(
                    Some(name),
                    UNKNOWN_PARAMETER,
                    format!("the template declares no parameter named {name}"),
                ));
            }
        }
        for p in &template.parameters {
            match ev.resolve_parameter(p) {
                Ok(v) => {
                    ev.params.insert(p.name.clone(), v);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            ev.evaluate_conditions(&mut errors);
            ev.check_condition_names(&mut errors);
        }
        if errors.is_empty() {
            Ok(ev)
        } else {
            Err(errors)
        }
    }

    pub fn template(&self) -> &'t Template {
        self.template
    }

    pub fn context(&self) -> &'t StackContext {
        self.ctx
    }

    /// The resolved value of a parameter (after overrides and type conversion).
    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    pub fn condition(&self, name: &str) -> Result<bool, CfnError> {
        self.conditions.get(name).copied().ok_or_else(|| {
            self.error(
                None,
                UNRESOLVED_REFERENCE,
                format!("no condition named {name}"),
            )
        })
    }

    /// Is this resource created (its Condition is true or absent)?
    pub fn resource_enabled(&self, r: &Resource) -> Result<bool, CfnError> {
        match &r.condition {
            None => Ok(true),
            Some(c) => self.condition(c).map_err(|mut e| {
                e.logical_id = Some(r.logical_id.clone());
                e
            }),
        }
    }

    /// Evaluate a node to plain JSON. `AWS::NoValue` removes the enclosing map key or list
    /// element; a top-level NoValue evaluates to `null`.
    pub fn eval(
        &self,
        node: &Node,
        resolver: &dyn Resolver,
        logical_id: Option<&str>,
    ) -> Result<Value, CfnError> {
        let cx = Cx {
            resolver,
            logical_id,
            in_conditions: false,
        };
        Ok(self.ev(node, &cx, 0)?.unwrap_or(Value::Null))
    }

    /// Evaluate every output whose Condition holds, in template order.
    pub fn outputs(&self, resolver: &dyn Resolver) -> Vec<(String, Result<Value, CfnError>)> {
        let mut out = Vec::new();
        for (i, (name, node)) in self.template.outputs.iter().enumerate() {
            let cond = self
                .template
                .output_details
                .get(i)
                .and_then(|o| o.condition.as_deref());
            let enabled = match cond {
                None => Ok(true),
                Some(c) => self.condition(c),
            };
            match enabled {
                Ok(false) => {}
                Ok(true) => out.push((name.clone(), self.eval(node, resolver, Some(name)))),
                Err(mut e) => {
                    e.logical_id = Some(name.clone());
                    out.push((name.clone(), Err(e)));
                }
            }
        }
        out
    }

    /// Evaluate the `Export.Name` of the named output, if it has one and is enabled.
    pub fn export_name(
        &self,
        output: &str,
        resolver: &dyn Resolver,
    ) -> Option<Result<Value, CfnError>> {
        let o = self
            .template
            .output_details
            .iter()
            .find(|o| o.name == output)?;
        if let Some(c) = &o.condition {
            if !self.condition(c).unwrap_or(false) {
                return None;
            }
        }
        o.export_name
            .as_ref()
            .map(|n| self.eval(n, resolver, Some(output)))
    }

    pub(super) fn error(
        &self,
        logical_id: Option<&str>,
        code: &'static str,
        msg: impl Into<String>,
    ) -> CfnError {
        CfnError::new(&self.template.path, logical_id, code, msg)
    }

    pub(super) fn is_resource(&self, name: &str) -> bool {
        self.resource_index.contains_key(name)
    }

    fn resolve_parameter(&self, p: &Parameter) -> Result<Value, CfnError> {
        let id = Some(p.name.as_str());
        let raw = match self.ctx.parameter_overrides.get(&p.name) {
            Some(v) => v.clone(),
            None => match &p.default {
                None => {
                    return Err(self.error(
                        id,
                        MISSING_PARAMETER,
                        format!("parameter {} has no Default and no value was given", p.name),
                    ))
                }
                Some(d) => default_string(d).ok_or_else(|| {
                    self.error(
                        id,
                        INVALID_PARAMETER_VALUE,
                        "Default must be a string, number or list of them",
                    )
                })?,
            },
        };
        let ty = p.type_.trim();
        let is_list = ty == "CommaDelimitedList"
            || ty.starts_with("List<")
            || ty.starts_with("AWS::SSM::Parameter::Value<List<")
            || ty == "AWS::SSM::Parameter::Value<CommaDelimitedList>";
        let numeric = ty == "Number" || ty == "List<Number>";
        let items: Vec<&str> = if is_list {
            raw.split(',').map(str::trim).collect()
        } else {
            vec![raw.as_str()]
        };
        let mut values = Vec::with_capacity(items.len());
        for item in &items {
            if !p.allowed_values.is_empty()
                && !p
                    .allowed_values
                    .iter()
                    .any(|a| allowed_matches(a, item, numeric))
            {
                return Err(self.error(
                    id,
                    INVALID_PARAMETER_VALUE,
                    format!(
                        "value {item:?} is not one of the AllowedValues [{}]",
                        p.allowed_values.join(", ")
                    ),
                ));
            }
            if numeric {
                values.push(Value::Number(parse_number(item).ok_or_else(|| {
                    self.error(
                        id,
                        INVALID_PARAMETER_VALUE,
                        format!("{item:?} is not a number"),
                    )
                })?));
            } else {
                values.push(Value::String((*item).to_owned()));
            }
        }
        Ok(if is_list {
            Value::Array(values)
        } else {
            values.pop().unwrap_or(Value::Null)
        })
    }

    /// Conditions may use other conditions, so evaluate them in dependency order (iteratively:
    /// a generated chain of conditions must not blow the stack).
    fn evaluate_conditions(&mut self, errors: &mut Vec<CfnError>) {
        let conds = &self.template.conditions;
        let index: HashMap<&str, usize> = conds
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        let mut deps: Vec<Vec<usize>> = Vec::with_capacity(conds.len());
        for (name, node) in conds {
            let mut names = Vec::new();
            condition_refs(node, &mut names);
            let mut d = Vec::new();
            for n in names {
                match index.get(n) {
                    Some(&j) => d.push(j),
                    None => errors.push(self.error(
                        Some(name),
                        UNRESOLVED_REFERENCE,
                        format!("no condition named {n}"),
                    )),
                }
            }
            deps.push(d);
        }
        if !errors.is_empty() {
            return;
        }
        let (order, cycles) = super::deps::topo_sort(&deps);
        for cycle in cycles {
            let names: Vec<&str> = cycle.iter().map(|&i| conds[i].0.as_str()).collect();
            errors.push(self.error(
                Some(names[0]),
                CIRCULAR_DEPENDENCY,
                format!("conditions form a cycle: {}", names.join(" -> ")),
            ));
        }
        if !errors.is_empty() {
            return;
        }
        for i in order {
            let (name, node) = &conds[i];
            let cx = Cx {
                resolver: &NoResources,
                logical_id: Some(name),
                in_conditions: true,
            };
            match self.ev(node, &cx, 0) {
                Ok(Some(Value::Bool(b))) => {
                    self.conditions.insert(name.clone(), b);
                }
                Ok(Some(Value::String(s))) if s == "true" || s == "false" => {
                    self.conditions.insert(name.clone(), s == "true");
                }
                Ok(_) => errors.push(self.error(
                    Some(name),
                    INVALID_FUNCTION,
                    "a condition must evaluate to true or false (use Fn::Equals, Fn::And, …)",
                )),
                Err(e) => errors.push(e),
            }
        }
    }

    /// Every condition a resource, output or `Fn::If` names must exist; catching this up
    /// front reports typos once instead of on every evaluation.
    fn check_condition_names(&self, errors: &mut Vec<CfnError>) {
        let mut check = |owner: &str, name: &str| {
            if !self.conditions.contains_key(name) {
                errors.push(self.error(
                    Some(owner),
                    UNRESOLVED_REFERENCE,
                    format!("no condition named {name}"),
                ));
            }
        };
        for r in &self.template.resources {
            let mut names = Vec::new();
            if let Some(c) = &r.condition {
                names.push(c.as_str());
            }
            condition_refs(&r.properties, &mut names);
            names.sort_unstable();
            names.dedup();
            for n in names {
                check(&r.logical_id, n);
            }
        }
        for o in &self.template.output_details {
            let mut names = Vec::new();
            if let Some(c) = &o.condition {
                names.push(c.as_str());
            }
            condition_refs(&o.value, &mut names);
            names.sort_unstable();
            names.dedup();
            for n in names {
                check(&o.name, n);
            }
        }
    }

    fn err(&self, cx: &Cx, code: &'static str, msg: impl Into<String>) -> CfnError {
        self.error(cx.logical_id, code, msg)
    }

    // The evaluation functions below recurse once per nesting level. Each arm delegates to a
    // helper and returns its result directly so that every frame on the recursive path stays
    // small even in unoptimised builds, where a 2 MiB test thread must still cope with the
    // deepest template the parser accepts.

    fn ev(&self, node: &Node, cx: &Cx, depth: usize) -> Ev {
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
        Ok(Some(Value::Array(
            funcs::availability_zones(region)
                .into_iter()
                .map(Value::String)
                .collect(),
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

/// Collect the condition names used by `Fn::If` and `Condition` inside a node.
pub(super) fn condition_refs<'n>(node: &'n Node, out: &mut Vec<&'n str>) {
    for n in node.descendants() {
        if let Some(Intrinsic::If(c, _, _) | Intrinsic::Condition(c)) = n.as_intrinsic() {
            out.push(c);
        }
    }
}

pub(super) fn is_pseudo(name: &str) -> bool {
    PSEUDO_PARAMETERS.contains(&name)
}

/// A parameter Default as CloudFormation sees it: always text (lists comma-joined).
fn default_string(n: &Node) -> Option<String> {
    match n {
        Node::String(s) => Some(s.clone()),
        Node::Number(n) => Some(n.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        Node::List(items) => items
            .iter()
            .map(|i| match i {
                Node::List(_) => None,
                other => default_string(other),
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

fn parse_number(s: &str) -> Option<serde_json::Number> {
    let s = s.trim();
    if let Ok(u) = s.parse::<u64>() {
        return Some(u.into());
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(i.into());
    }
    s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
}

fn allowed_matches(allowed: &str, value: &str, numeric: bool) -> bool {
    allowed == value
        || (numeric
            && matches!((allowed.trim().parse::<f64>(), value.trim().parse::<f64>()), (Ok(a), Ok(b)) if a == b))
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
