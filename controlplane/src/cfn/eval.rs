//! Parameter resolution, condition evaluation and intrinsic-function evaluation.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::codes::*;
use super::funcs::{self, PSEUDO_PARAMETERS};
use super::intrinsics::Cx;
use super::{CfnError, Intrinsic, Node, Parameter, Resource, Template};

/// What CloudFormation would know about the stack being created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackContext {
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account_id: String,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// `AWS::StackId`, an ARN built from the Region, account and stack name.
    pub stack_id: String,
    /// Parameter values given on the command line; they win over `Default`.
    pub parameter_overrides: BTreeMap<String, String>,
    /// Values for `Fn::ImportValue`, keyed by export name (we have no other stacks to ask).
    pub imports: BTreeMap<String, String>,
    /// Availability Zones per Region for `Fn::GetAZs`, replacing the built-in lists of
    /// [`super::availability_zones`] (`--zones`).
    pub zones: BTreeMap<String, Vec<String>>,
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
            zones: BTreeMap::new(),
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

    /// The template being evaluated.
    pub fn template(&self) -> &'t Template {
        self.template
    }

    /// The stack the template is evaluated for.
    pub fn context(&self) -> &'t StackContext {
        self.ctx
    }

    /// The resolved value of a parameter (after overrides and type conversion).
    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    /// The value of a condition of the template's `Conditions` section.
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
            super::parameters::check_item(p, item, numeric, is_list)
                .map_err(|m| self.error(id, INVALID_PARAMETER_VALUE, m))?;
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
        // Declared, not evaluated: a condition that failed to evaluate (a cycle) exists.
        let declared: std::collections::HashSet<&str> = self
            .template
            .conditions
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        let mut check = |owner: &str, name: &str| {
            if !declared.contains(name) {
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

pub(super) fn allowed_matches(allowed: &str, value: &str, numeric: bool) -> bool {
    allowed == value
        || (numeric
            && matches!((allowed.trim().parse::<f64>(), value.trim().parse::<f64>()), (Ok(a), Ok(b)) if a == b))
}
