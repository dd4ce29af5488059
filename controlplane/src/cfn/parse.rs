//! Template text → [`Template`]. Both JSON and YAML go through `serde_yaml_ng::Value` (JSON via
//! serde_json's deserializer) so that key order, duplicate-key detection and nesting limits
//! behave the same for both formats.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml_ng::Value as Yaml;

use super::codes::{INVALID_FUNCTION, INVALID_TEMPLATE, UNSUPPORTED_FUNCTION};
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
        Yaml::deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| {
                err(format!(
                    "invalid JSON: {}",
                    with_location(e.to_string(), Some((e.line(), e.column())))
                ))
            })?
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

/// libyaml scans the whole document before serde_yaml_ng applies its depth limit, and its
/// scanner does work proportional to the flow-collection depth for every token: a few hundred
/// kilobytes of `[[[[…` take minutes. Count brackets first and return the offending line.
/// Quoting is ignored, so brackets inside strings count too; the margin over [`MAX_DEPTH`]
/// (beyond which parsing fails anyway) keeps real templates far from the threshold.
fn deep_flow_nesting(text: &str) -> Option<usize> {
    const LIMIT: usize = 2 * MAX_DEPTH;
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
                constraints: Default::default(),
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
                    key @ ("AllowedPattern"
                    | "MinLength"
                    | "MaxLength"
                    | "MinValue"
                    | "MaxValue"
                    | "ConstraintDescription") => {
                        let value = self.scalar_string(v, key)?;
                        p.constraints
                            .set(key, value)
                            .map_err(|m| self.error(INVALID_TEMPLATE, m))?;
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
            if logical_id.starts_with("Fn::") {
                // Fn::ForEach from the AWS::LanguageExtensions transform.
                return Err(self.error(
                    UNSUPPORTED_FUNCTION,
                    "template macros (AWS::LanguageExtensions loops) are not supported",
                ));
            }
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

    // `node` and the function builders recurse once per nesting level. They are split into
    // small functions that return their results directly so each frame on the recursive path
    // stays small in unoptimised builds too (see `eval.rs`).

    /// Convert a value. `in_condition` is true where a one-key `{Condition: name}` map means
    /// the condition function (condition expressions) rather than a property named Condition.
    fn node(&self, v: Yaml, depth: usize, in_condition: bool) -> Result<Node, CfnError> {
        if depth > MAX_DEPTH {
            return Err(self.error(INVALID_TEMPLATE, "nesting too deep"));
        }
        match v {
            Yaml::Null => Ok(Node::Null),
            Yaml::Bool(b) => Ok(Node::Bool(b)),
            Yaml::Number(n) => Ok(number(&n)),
            Yaml::String(s) => Ok(Node::String(s)),
            Yaml::Sequence(items) => self.list(items, depth + 1, false),
            Yaml::Mapping(m) => self.map(m, depth + 1, in_condition),
            Yaml::Tagged(tagged) => self.tagged(*tagged, depth + 1),
        }
    }

    fn list(&self, items: Vec<Yaml>, depth: usize, in_condition: bool) -> Result<Node, CfnError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.node(item, depth, in_condition)?);
        }
        Ok(Node::List(out))
    }

    fn map(
        &self,
        m: serde_yaml_ng::Mapping,
        depth: usize,
        in_condition: bool,
    ) -> Result<Node, CfnError> {
        if m.len() == 1 {
            let name = match m.iter().next() {
                Some((Yaml::String(k), _))
                    if k == "Ref"
                        || k.starts_with("Fn::")
                        || (in_condition && k == "Condition") =>
                {
                    Some(k.clone())
                }
                _ => None,
            };
            if let Some(name) = name {
                let arg = m.into_iter().next().map_or(Yaml::Null, |(_, v)| v);
                return self.function(&name, arg, depth);
            }
        }
        let mut entries = Vec::with_capacity(m.len());
        for (k, v) in m {
            entries.push((self.key(k)?, self.node(v, depth, false)?));
        }
        Ok(Node::Map(entries))
    }

    fn tagged(
        &self,
        tagged: serde_yaml_ng::value::TaggedValue,
        depth: usize,
    ) -> Result<Node, CfnError> {
        let tag = tagged.tag.to_string();
        let short = tag.trim_start_matches('!');
        match FUNCTION_TAGS.iter().find(|(t, _)| *t == short) {
            Some((_, long)) => self.function(long, tagged.value, depth),
            None => {
                let arg = self.node(tagged.value, depth, false)?;
                Ok(Node::Fn(Box::new(Intrinsic::Unsupported(tag, arg))))
            }
        }
    }

    fn function(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        match name {
            "Ref" | "Condition" => self.fn_name(name, arg),
            "Fn::GetAtt" => self.fn_get_att(name, arg),
            "Fn::Sub" => self.fn_sub(name, arg, d),
            "Fn::Join" | "Fn::Select" | "Fn::Split" | "Fn::Equals" => self.fn_pair(name, arg, d),
            "Fn::Cidr" => self.fn_cidr(name, arg, d),
            "Fn::FindInMap" => self.fn_find_in_map(name, arg, d),
            "Fn::If" => self.fn_if(name, arg, d),
            "Fn::And" | "Fn::Or" => self.fn_and_or(name, arg, d),
            "Fn::Not" => self.fn_not(name, arg, d),
            _ => self.fn_unary(name, arg, d),
        }
    }

    fn bad(&self, name: &str, msg: &str) -> CfnError {
        self.error(INVALID_FUNCTION, format!("{name}: {msg}"))
    }

    fn fn_name(&self, name: &str, arg: Yaml) -> Result<Node, CfnError> {
        let Some(target) = self.name_arg(arg) else {
            return Err(self.bad(name, "expects a name"));
        };
        Ok(fun(if name == "Ref" {
            Intrinsic::Ref(target)
        } else {
            Intrinsic::Condition(target)
        }))
    }

    fn fn_get_att(&self, name: &str, arg: Yaml) -> Result<Node, CfnError> {
        match arg {
            Yaml::String(s) => match s.split_once('.') {
                Some((res, attr)) if !res.is_empty() && !attr.is_empty() => {
                    Ok(fun(Intrinsic::GetAtt(res.to_owned(), attr.to_owned())))
                }
                _ => Err(self.bad(name, "expects \"LogicalId.Attribute\"")),
            },
            Yaml::Sequence(items) if items.len() == 2 => {
                let mut it = items.into_iter();
                let res = it.next().and_then(|v| self.name_arg(v));
                let attr = it.next().and_then(|v| self.name_arg(v));
                match (res, attr) {
                    (Some(r), Some(a)) => Ok(fun(Intrinsic::GetAtt(r, a))),
                    _ => Err(self.bad(name, "expects [LogicalId, Attribute] with literal strings")),
                }
            }
            _ => Err(self.bad(
                name,
                "expects \"LogicalId.Attribute\" or [LogicalId, Attribute]",
            )),
        }
    }

    fn fn_sub(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let (s, vars) = match arg {
            Yaml::String(s) => (s, None),
            Yaml::Sequence(items) if (1..=2).contains(&items.len()) => {
                let mut it = items.into_iter();
                let Some(Yaml::String(s)) = it.next() else {
                    return Err(self.bad(name, "first argument must be a literal string"));
                };
                (s, it.next())
            }
            _ => return Err(self.bad(name, "expects a string or [string, {variables}]")),
        };
        let vars = match vars {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Mapping(m)) => {
                let mut vars = Vec::with_capacity(m.len());
                for (k, v) in m {
                    vars.push((self.key(k)?, self.node(v, d, false)?));
                }
                vars
            }
            Some(_) => return Err(self.bad(name, "second argument must be a map of variables")),
        };
        Ok(fun(Intrinsic::Sub(s, vars)))
    }

    fn fn_pair(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let [a, b] = self.args::<2>(arg, d, name)?;
        Ok(fun(match name {
            "Fn::Join" => Intrinsic::Join(a, b),
            "Fn::Select" => Intrinsic::Select(a, b),
            "Fn::Split" => Intrinsic::Split(a, b),
            _ => Intrinsic::Equals(a, b),
        }))
    }

    fn fn_cidr(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let [a, b, c] = self.args::<3>(arg, d, name)?;
        Ok(fun(Intrinsic::Cidr(a, b, c)))
    }

    fn fn_find_in_map(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let mut items = match arg {
            Yaml::Sequence(items) if items.len() == 3 || items.len() == 4 => items,
            _ => return Err(self.bad(name, "expects [MapName, TopLevelKey, SecondLevelKey]")),
        };
        let default = match (items.len() == 4).then(|| items.pop()).flatten() {
            None => None,
            Some(v) => match self.node(v, d, false)? {
                Node::Map(mut entries) if entries.len() == 1 && entries[0].0 == "DefaultValue" => {
                    entries.pop().map(|(_, v)| v)
                }
                _ => return Err(self.bad(name, "fourth argument must be {DefaultValue: value}")),
            },
        };
        let [a, b, c] = self.args::<3>(Yaml::Sequence(items), d, name)?;
        Ok(fun(match default {
            None => Intrinsic::FindInMap(a, b, c),
            Some(default) => Intrinsic::FindInMapWithDefault(a, b, c, default),
        }))
    }

    fn fn_if(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let mut items = match arg {
            Yaml::Sequence(items) if items.len() == 3 => items.into_iter(),
            _ => return Err(self.bad(name, "expects [ConditionName, ValueIfTrue, ValueIfFalse]")),
        };
        let Some(cond) = items.next().and_then(|v| self.name_arg(v)) else {
            return Err(self.bad(name, "first argument must be a condition name"));
        };
        let a = self.node(items.next().unwrap_or(Yaml::Null), d, false)?;
        let b = self.node(items.next().unwrap_or(Yaml::Null), d, false)?;
        Ok(fun(Intrinsic::If(cond, a, b)))
    }

    fn fn_and_or(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let items = match arg {
            Yaml::Sequence(items) if (2..=10).contains(&items.len()) => items,
            _ => return Err(self.bad(name, "expects a list of 2 to 10 conditions")),
        };
        let Node::List(conds) = self.list(items, d, true)? else {
            return Err(self.bad(name, "expects a list of 2 to 10 conditions"));
        };
        Ok(fun(if name == "Fn::And" {
            Intrinsic::And(conds)
        } else {
            Intrinsic::Or(conds)
        }))
    }

    fn fn_not(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let item = match arg {
            Yaml::Sequence(items) if items.len() == 1 => {
                items.into_iter().next().unwrap_or(Yaml::Null)
            }
            _ => return Err(self.bad(name, "expects a list of one condition")),
        };
        Ok(fun(Intrinsic::Not(self.node(item, d, true)?)))
    }

    /// Functions taking one arbitrary argument, and unknown `Fn::*` names.
    fn fn_unary(&self, name: &str, arg: Yaml, d: usize) -> Result<Node, CfnError> {
        let a = self.node(arg, d, false)?;
        Ok(fun(match name {
            "Fn::GetAZs" => Intrinsic::GetAZs(a),
            "Fn::Base64" => Intrinsic::Base64(a),
            "Fn::ImportValue" => Intrinsic::ImportValue(a),
            "Fn::Length" => Intrinsic::Length(a),
            "Fn::ToJsonString" => Intrinsic::ToJsonString(a),
            other => Intrinsic::Unsupported(other.to_owned(), a),
        }))
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

fn fun(f: Intrinsic) -> Node {
    Node::Fn(Box::new(f))
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
