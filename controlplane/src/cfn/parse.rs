//! Template text → [`Template`]. Both JSON and YAML go through `serde_yaml_ng::Value` (JSON via
//! serde_json's deserializer) so that key order, duplicate-key detection and nesting limits
//! behave the same for both formats.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml_ng::Value as Yaml;

use super::codes::{INVALID_FUNCTION, INVALID_TEMPLATE};
use super::{CfnError, Intrinsic, Node, Output, Parameter, Resource, Template, MAX_DEPTH};

/// Short-form tags and the long-form names they stand for.
const FUNCTION_TAGS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("Sub", "Fn::Sub"),
    ("GetAtt", "Fn::GetAtt"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("GetAZs", "Fn::GetAZs"),
    ("Cidr", "Fn::Cidr"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Not", "Fn::Not"),
    ("FindInMap", "Fn::FindInMap"),
    ("Base64", "Fn::Base64"),
    ("ImportValue", "Fn::ImportValue"),
    ("Transform", "Fn::Transform"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
];

/// Parse a CloudFormation template. `path` is only used to label errors.
pub fn parse_template(path: &Path, text: &str) -> Result<Template, CfnError> {
    let err = |msg: String| CfnError::new(path, None, INVALID_TEMPLATE, msg);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = if text.trim_start().starts_with('{') {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = Yaml::deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| {
                err(format!(
                    "invalid JSON: {}",
                    with_location(e.to_string(), Some((e.line(), e.column())))
                ))
            })?;
        value
    } else {
        if let Some(line) = deep_flow_nesting(text) {
            return Err(err(format!("nesting too deep at line {line}")));
        }
        let mut value: Yaml = serde_yaml_ng::from_str(text).map_err(|e| {
            let loc = e.location().map(|l| (l.line(), l.column()));
            err(format!(
                "invalid YAML: {}",
                with_location(e.to_string(), loc)
            ))
        })?;
        value
            .apply_merge()
            .map_err(|e| err(format!("invalid YAML merge key (<<): {e}")))?;
        value
    };

    let mut conv = Converter {
        file: path.to_path_buf(),
        logical_id: None,
    };
    let top = match root {
        Yaml::Mapping(m) => m,
        Yaml::Null => return Err(err("template is empty".into())),
        _ => return Err(err("template must be a mapping at the top level".into())),
    };

    let mut template = Template {
        path: path.to_path_buf(),
        description: None,
        parameters: Vec::new(),
        mappings: Node::Null,
        conditions: Vec::new(),
        resources: Vec::new(),
        outputs: Vec::new(),
        output_details: Vec::new(),
    };
    let mut saw_resources = false;
    for (key, value) in top {
        let key = conv.key(key)?;
        match key.as_str() {
            "Description" => {
                template.description = match value {
                    Yaml::String(s) => Some(s),
                    Yaml::Null => None,
                    _ => return Err(err("Description must be a string".into())),
                }
            }
            "Parameters" => template.parameters = conv.parameters(value)?,
            "Mappings" => template.mappings = conv.node(value, 0, false)?,
            "Conditions" => {
                for (name, v) in conv.section(value, "Conditions")? {
                    conv.logical_id = Some(name.clone());
                    let node = conv.node(v, 0, true)?;
                    template.conditions.push((name, node));
                }
                conv.logical_id = None;
            }
            "Resources" => {
                saw_resources = true;
                template.resources = conv.resources(value)?;
            }
            "Outputs" => {
                for output in conv.outputs(value)? {
                    template
                        .outputs
                        .push((output.name.clone(), output.value.clone()));
                    template.output_details.push(output);
                }
            }
            // AWSTemplateFormatVersion, Metadata, Rules, Transform, Globals and anything
            // newer: irrelevant to the data plane, and rejecting them would only make us
            // stricter than we need to be.
            _ => {}
        }
    }
    if !saw_resources {
        return Err(err("template has no Resources section".into()));
    }
    let params: HashSet<&str> = template
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for r in &template.resources {
        if params.contains(r.logical_id.as_str()) {
            return Err(CfnError::new(
                path,
                Some(&r.logical_id),
                INVALID_TEMPLATE,
                "this logical id is used by both a parameter and a resource",
            ));
        }
    }
    Ok(template)
}

/// libyaml's scanner does work proportional to the flow-collection depth for every token, so
/// a few hundred kilobytes of `[[[[…` take minutes before its own depth limit triggers. Count
/// brackets first (ignoring quoting: real templates never come near the threshold, and the
/// parser would reject anything deeper than [`MAX_DEPTH`] anyway) and return the offending
/// line.
fn deep_flow_nesting(text: &str) -> Option<usize> {
    const LIMIT: usize = 8 * MAX_DEPTH;
    let mut depth = 0usize;
    let mut line = 1;
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > LIMIT {
                    return Some(line);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => line += 1,
            _ => {}
        }
    }
    None
}

/// Parser messages usually carry "line L column C" already; make sure they always do.
fn with_location(msg: String, loc: Option<(usize, usize)>) -> String {
    match loc {
        Some((line, column)) if !msg.contains("line ") => {
            format!("{msg} at line {line} column {column}")
        }
        _ => msg,
    }
}

struct Converter {
    file: PathBuf,
    /// Resource, condition or output being converted, for error messages.
    logical_id: Option<String>,
}

impl Converter {
    fn error(&self, code: &'static str, msg: impl Into<String>) -> CfnError {
        CfnError::new(&self.file, self.logical_id.as_deref(), code, msg)
    }

    fn key(&self, key: Yaml) -> Result<String, CfnError> {
        match key {
            Yaml::String(s) => Ok(s),
            Yaml::Number(n) => Ok(n.to_string()),
            Yaml::Bool(b) => Ok(b.to_string()),
            Yaml::Null => Ok(String::new()),
            _ => Err(self.error(INVALID_TEMPLATE, "mapping keys must be scalars")),
        }
    }

    /// A top-level section that must be a mapping of names to declarations.
    fn section(&self, value: Yaml, name: &str) -> Result<Vec<(String, Yaml)>, CfnError> {
        match value {
            Yaml::Mapping(m) => m.into_iter().map(|(k, v)| Ok((self.key(k)?, v))).collect(),
            // `Outputs:` with nothing under it is common in hand-edited templates.
            Yaml::Null => Ok(Vec::new()),
            _ => Err(self.error(INVALID_TEMPLATE, format!("{name} must be a mapping"))),
        }
    }

    fn parameters(&mut self, value: Yaml) -> Result<Vec<Parameter>, CfnError> {
        let mut out = Vec::new();
        for (name, decl) in self.section(value, "Parameters")? {
            self.logical_id = Some(name.clone());
            let Yaml::Mapping(decl) = decl else {
                return Err(self.error(INVALID_TEMPLATE, "parameter declaration must be a mapping"));
            };
            let mut p = Parameter {
                name,
                type_: String::new(),
                default: None,
                allowed_values: Vec::new(),
                no_echo: false,
            };
            let mut has_type = false;
            for (k, v) in decl {
                match self.key(k)?.as_str() {
                    "Type" => {
                        has_type = true;
                        p.type_ = self.scalar_string(v, "Type")?;
                    }
                    "Default" => p.default = Some(self.node(v, 0, false)?),
                    "AllowedValues" => {
                        let Yaml::Sequence(items) = v else {
                            return Err(
                                self.error(INVALID_TEMPLATE, "AllowedValues must be a list")
                            );
                        };
                        for item in items {
                            p.allowed_values
                                .push(self.scalar_string(item, "AllowedValues")?);
                        }
                    }
                    "NoEcho" => {
                        p.no_echo = match v {
                            Yaml::Bool(b) => b,
                            Yaml::String(s) => s.eq_ignore_ascii_case("true"),
                            _ => false,
                        }
                    }
                    _ => {}
                }
            }
            if !has_type {
                return Err(self.error(INVALID_TEMPLATE, "parameter has no Type"));
            }
            out.push(p);
        }
        self.logical_id = None;
        Ok(out)
    }

    fn resources(&mut self, value: Yaml) -> Result<Vec<Resource>, CfnError> {
        let mut out = Vec::new();
        for (logical_id, decl) in self.section(value, "Resources")? {
            self.logical_id = Some(logical_id.clone());
            let Yaml::Mapping(decl) = decl else {
                return Err(self.error(INVALID_TEMPLATE, "resource declaration must be a mapping"));
            };
            let mut r = Resource {
                logical_id,
                type_: String::new(),
                properties: Node::Map(Vec::new()),
                condition: None,
                depends_on: Vec::new(),
            };
            let mut has_type = false;
            for (k, v) in decl {
                match self.key(k)?.as_str() {
                    "Type" => {
                        has_type = true;
                        r.type_ = self.scalar_string(v, "Type")?;
                    }
                    "Properties" => {
                        r.properties = match v {
                            Yaml::Null => Node::Map(Vec::new()),
                            v => self.node(v, 0, false)?,
                        }
                    }
                    "Condition" => r.condition = Some(self.scalar_string(v, "Condition")?),
                    "DependsOn" => {
                        r.depends_on = match v {
                            Yaml::Sequence(items) => items
                                .into_iter()
                                .map(|i| self.scalar_string(i, "DependsOn"))
                                .collect::<Result<_, _>>()?,
                            v => vec![self.scalar_string(v, "DependsOn")?],
                        }
                    }
                    _ => {}
                }
            }
            if !has_type {
                return Err(self.error(INVALID_TEMPLATE, "resource has no Type"));
            }
            out.push(r);
        }
        self.logical_id = None;
        Ok(out)
    }

    fn outputs(&mut self, value: Yaml) -> Result<Vec<Output>, CfnError> {
        let mut out = Vec::new();
        for (name, decl) in self.section(value, "Outputs")? {
            self.logical_id = Some(name.clone());
            let Yaml::Mapping(decl) = decl else {
                return Err(self.error(INVALID_TEMPLATE, "output declaration must be a mapping"));
            };
            let mut o = Output {
                name,
                value: Node::Null,
                description: None,
                condition: None,
                export_name: None,
            };
            let mut has_value = false;
            for (k, v) in decl {
                match self.key(k)?.as_str() {
                    "Value" => {
                        has_value = true;
                        o.value = self.node(v, 0, false)?;
                    }
                    "Description" => {
                        if let Yaml::String(s) = v {
                            o.description = Some(s);
                        }
                    }
                    "Condition" => o.condition = Some(self.scalar_string(v, "Condition")?),
                    "Export" => {
                        if let Node::Map(entries) = self.node(v, 0, false)? {
                            o.export_name = entries
                                .into_iter()
                                .find(|(k, _)| k == "Name")
                                .map(|(_, v)| v);
                        }
                    }
                    _ => {}
                }
            }
            if !has_value {
                return Err(self.error(INVALID_TEMPLATE, "output has no Value"));
            }
            out.push(o);
        }
        self.logical_id = None;
        Ok(out)
    }

    fn scalar_string(&self, v: Yaml, what: &str) -> Result<String, CfnError> {
        match v {
            Yaml::String(s) => Ok(s),
            Yaml::Number(n) => Ok(n.to_string()),
            Yaml::Bool(b) => Ok(b.to_string()),
            _ => Err(self.error(INVALID_TEMPLATE, format!("{what} must be a string"))),
        }
    }

    /// Convert a value. `in_condition` is true where a one-key `{Condition: name}` map means
    /// the condition function (condition expressions) rather than a property named Condition.
    fn node(&self, v: Yaml, depth: usize, in_condition: bool) -> Result<Node, CfnError> {
        if depth > MAX_DEPTH {
            return Err(self.error(INVALID_TEMPLATE, "nesting too deep"));
        }
        Ok(match v {
            Yaml::Null => Node::Null,
            Yaml::Bool(b) => Node::Bool(b),
            Yaml::Number(n) => number(&n),
            Yaml::String(s) => Node::String(s),
            Yaml::Sequence(items) => Node::List(
                items
                    .into_iter()
                    .map(|i| self.node(i, depth + 1, false))
                    .collect::<Result<_, _>>()?,
            ),
            Yaml::Mapping(m) => {
                if m.len() == 1 {
                    if let Some((Yaml::String(k), _)) = m.iter().next() {
                        if k == "Ref" || k.starts_with("Fn::") || (in_condition && k == "Condition")
                        {
                            let name = k.clone();
                            let arg = m.into_iter().next().map(|(_, v)| v).unwrap_or(Yaml::Null);
                            return self.function(&name, arg, depth);
                        }
                    }
                }
                let mut entries = Vec::with_capacity(m.len());
                for (k, v) in m {
                    entries.push((self.key(k)?, self.node(v, depth + 1, false)?));
                }
                Node::Map(entries)
            }
            Yaml::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let short = tag.trim_start_matches('!');
                match FUNCTION_TAGS.iter().find(|(t, _)| *t == short) {
                    Some((_, long)) => self.function(long, tagged.value, depth)?,
                    None => {
                        let arg = self.node(tagged.value, depth + 1, false)?;
                        Node::Fn(Box::new(Intrinsic::Unsupported(tag, arg)))
                    }
                }
            }
        })
    }

    fn function(&self, name: &str, arg: Yaml, depth: usize) -> Result<Node, CfnError> {
        let bad = |msg: &str| self.error(INVALID_FUNCTION, format!("{name}: {msg}"));
        let d = depth + 1;
        let f = match name {
            "Ref" => Intrinsic::Ref(self.name_arg(arg).ok_or_else(|| bad("expects a name"))?),
            "Condition" => Intrinsic::Condition(
                self.name_arg(arg)
                    .ok_or_else(|| bad("expects a condition name"))?,
            ),
            "Fn::GetAtt" => match arg {
                Yaml::String(s) => match s.split_once('.') {
                    Some((res, attr)) if !res.is_empty() && !attr.is_empty() => {
                        Intrinsic::GetAtt(res.to_owned(), attr.to_owned())
                    }
                    _ => return Err(bad("expects \"LogicalId.Attribute\"")),
                },
                Yaml::Sequence(items) if items.len() == 2 => {
                    let mut it = items.into_iter();
                    let res = it.next().and_then(|v| self.name_arg(v));
                    let attr = it.next().and_then(|v| self.name_arg(v));
                    match (res, attr) {
                        (Some(r), Some(a)) => Intrinsic::GetAtt(r, a),
                        _ => {
                            return Err(bad("expects [LogicalId, Attribute] with literal strings"))
                        }
                    }
                }
                _ => {
                    return Err(bad(
                        "expects \"LogicalId.Attribute\" or [LogicalId, Attribute]",
                    ))
                }
            },
            "Fn::Sub" => match arg {
                Yaml::String(s) => Intrinsic::Sub(s, Vec::new()),
                Yaml::Sequence(items) if (1..=2).contains(&items.len()) => {
                    let mut it = items.into_iter();
                    let Some(Yaml::String(s)) = it.next() else {
                        return Err(bad("first argument must be a literal string"));
                    };
                    let vars = match it.next() {
                        None | Some(Yaml::Null) => Vec::new(),
                        Some(Yaml::Mapping(m)) => {
                            let mut vars = Vec::with_capacity(m.len());
                            for (k, v) in m {
                                vars.push((self.key(k)?, self.node(v, d, false)?));
                            }
                            vars
                        }
                        Some(_) => return Err(bad("second argument must be a map of variables")),
                    };
                    Intrinsic::Sub(s, vars)
                }
                _ => return Err(bad("expects a string or [string, {variables}]")),
            },
            "Fn::Join" => {
                let [a, b] = self.args::<2>(arg, d, name)?;
                Intrinsic::Join(a, b)
            }
            "Fn::Select" => {
                let [a, b] = self.args::<2>(arg, d, name)?;
                Intrinsic::Select(a, b)
            }
            "Fn::Split" => {
                let [a, b] = self.args::<2>(arg, d, name)?;
                Intrinsic::Split(a, b)
            }
            "Fn::Equals" => {
                let [a, b] = self.args::<2>(arg, d, name)?;
                Intrinsic::Equals(a, b)
            }
            "Fn::Cidr" => {
                let [a, b, c] = self.args::<3>(arg, d, name)?;
                Intrinsic::Cidr(a, b, c)
            }
            "Fn::FindInMap" => match arg {
                Yaml::Sequence(items) if items.len() == 3 || items.len() == 4 => {
                    let mut nodes: Vec<Node> = items
                        .into_iter()
                        .map(|i| self.node(i, d, false))
                        .collect::<Result<_, _>>()?;
                    if nodes.len() == 3 {
                        let c = nodes.pop().unwrap_or(Node::Null);
                        let b = nodes.pop().unwrap_or(Node::Null);
                        let a = nodes.pop().unwrap_or(Node::Null);
                        Intrinsic::FindInMap(a, b, c)
                    } else {
                        let default = match nodes.pop() {
                            Some(Node::Map(entries))
                                if entries.len() == 1 && entries[0].0 == "DefaultValue" =>
                            {
                                entries
                                    .into_iter()
                                    .next()
                                    .map(|(_, v)| v)
                                    .unwrap_or(Node::Null)
                            }
                            _ => return Err(bad("fourth argument must be {DefaultValue: value}")),
                        };
                        let c = nodes.pop().unwrap_or(Node::Null);
                        let b = nodes.pop().unwrap_or(Node::Null);
                        let a = nodes.pop().unwrap_or(Node::Null);
                        Intrinsic::FindInMapWithDefault(a, b, c, default)
                    }
                }
                _ => return Err(bad("expects [MapName, TopLevelKey, SecondLevelKey]")),
            },
            "Fn::If" => match arg {
                Yaml::Sequence(items) if items.len() == 3 => {
                    let mut it = items.into_iter();
                    let cond = it
                        .next()
                        .and_then(|v| self.name_arg(v))
                        .ok_or_else(|| bad("first argument must be a condition name"))?;
                    let a = self.node(it.next().unwrap_or(Yaml::Null), d, false)?;
                    let b = self.node(it.next().unwrap_or(Yaml::Null), d, false)?;
                    Intrinsic::If(cond, a, b)
                }
                _ => return Err(bad("expects [ConditionName, ValueIfTrue, ValueIfFalse]")),
            },
            "Fn::And" | "Fn::Or" => match arg {
                Yaml::Sequence(items) if (2..=10).contains(&items.len()) => {
                    let conds = items
                        .into_iter()
                        .map(|i| self.node(i, d, true))
                        .collect::<Result<_, _>>()?;
                    if name == "Fn::And" {
                        Intrinsic::And(conds)
                    } else {
                        Intrinsic::Or(conds)
                    }
                }
                _ => return Err(bad("expects a list of 2 to 10 conditions")),
            },
            "Fn::Not" => match arg {
                Yaml::Sequence(items) if items.len() == 1 => {
                    let c = items.into_iter().next().unwrap_or(Yaml::Null);
                    Intrinsic::Not(self.node(c, d, true)?)
                }
                _ => return Err(bad("expects a list of one condition")),
            },
            "Fn::GetAZs" => Intrinsic::GetAZs(self.node(arg, d, false)?),
            "Fn::Base64" => Intrinsic::Base64(self.node(arg, d, false)?),
            "Fn::ImportValue" => Intrinsic::ImportValue(self.node(arg, d, false)?),
            "Fn::Length" => Intrinsic::Length(self.node(arg, d, false)?),
            "Fn::ToJsonString" => Intrinsic::ToJsonString(self.node(arg, d, false)?),
            other => Intrinsic::Unsupported(other.to_owned(), self.node(arg, d, false)?),
        };
        Ok(Node::Fn(Box::new(f)))
    }

    /// A literal name argument (Ref, Condition, GetAtt parts).
    fn name_arg(&self, v: Yaml) -> Option<String> {
        match v {
            Yaml::String(s) if !s.is_empty() => Some(s),
            Yaml::Number(n) => Some(n.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn args<const N: usize>(
        &self,
        arg: Yaml,
        depth: usize,
        name: &str,
    ) -> Result<[Node; N], CfnError> {
        let bad = || {
            self.error(
                INVALID_FUNCTION,
                format!("{name}: expects a list of {N} arguments"),
            )
        };
        let Yaml::Sequence(items) = arg else {
            return Err(bad());
        };
        if items.len() != N {
            return Err(bad());
        }
        let nodes: Vec<Node> = items
            .into_iter()
            .map(|i| self.node(i, depth, false))
            .collect::<Result<_, _>>()?;
        nodes.try_into().map_err(|_| bad())
    }
}

fn number(n: &serde_yaml_ng::Number) -> Node {
    if let Some(u) = n.as_u64() {
        Node::Number(u.into())
    } else if let Some(i) = n.as_i64() {
        Node::Number(i.into())
    } else {
        match n.as_f64().and_then(serde_json::Number::from_f64) {
            Some(f) => Node::Number(f),
            // .nan / .inf have no JSON form; CloudFormation would treat them as strings.
            None => Node::String(n.to_string()),
        }
    }
}
