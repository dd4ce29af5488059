//! CloudFormation template reading and intrinsic-function evaluation.
//!
//! This module deliberately knows nothing about VPC resources: it turns a template (JSON or
//! YAML, short or long intrinsic forms) into one normalised [`Node`] tree, resolves parameters
//! and conditions the way CloudFormation does at stack creation, orders resources by their
//! references, and evaluates property trees to plain JSON. References to resources are
//! answered by a caller-supplied [`Resolver`], so the typed model layer decides what physical
//! ids and attributes look like.

mod deps;
mod eval;
mod funcs;
mod intrinsics;
mod parameters;
mod parse;

use std::fmt;
use std::path::PathBuf;

pub use eval::{Evaluator, Resolver, StackContext};
pub use funcs::availability_zones;
pub use parameters::{aws_parameter_kind, does_not_exist, AwsParameterKind, ParameterConstraints};
pub use parse::parse_template;

/// Deepest nesting accepted in templates and evaluation; deeper input is rejected rather than
/// risking a stack overflow on hostile or generated templates.
pub const MAX_DEPTH: usize = 128;

/// A template value with both intrinsic-function syntaxes (`!Ref x` and `{"Ref": "x"}`)
/// folded into [`Node::Fn`].
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// YAML `~` or JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number as written.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Node>),
    /// Keys in file order; CloudFormation maps are unordered but keeping the order makes
    /// output and error reporting stable.
    Map(Vec<(String, Node)>),
    /// An intrinsic function call.
    Fn(Box<Intrinsic>),
}

/// An intrinsic function call with its argument shape already checked at parse time, so
/// evaluation only has to deal with argument *values*.
#[derive(Debug, Clone, PartialEq)]
pub enum Intrinsic {
    /// `Ref`: a parameter, pseudo parameter or resource.
    Ref(String),
    /// Logical id and attribute name (`A.B.C` splits into `A` and `B.C`).
    GetAtt(String, String),
    /// Template string and the explicit variable map of the two-argument form.
    Sub(String, Vec<(String, Node)>),
    /// `Fn::Join`: delimiter and list.
    Join(Node, Node),
    /// `Fn::Select`: index and list.
    Select(Node, Node),
    /// `Fn::Split`: delimiter and string.
    Split(Node, Node),
    /// `Fn::GetAZs`: Region (empty for the stack's).
    GetAZs(Node),
    /// `Fn::Cidr`: IP block, count and bits per subnet.
    Cidr(Node, Node, Node),
    /// Condition name, value when true, value when false.
    If(String, Node, Node),
    /// `Fn::Equals`.
    Equals(Node, Node),
    /// `Fn::And`.
    And(Vec<Node>),
    /// `Fn::Or`.
    Or(Vec<Node>),
    /// `Fn::Not`.
    Not(Node),
    /// `Fn::FindInMap`: map, top-level key, second-level key.
    FindInMap(Node, Node, Node),
    /// The four-argument form whose last argument is `{DefaultValue: …}`; kept separate so
    /// the common three-argument shape stays as the model layer expects.
    FindInMapWithDefault(Node, Node, Node, Node),
    /// `Fn::Base64`.
    Base64(Node),
    /// `Fn::ImportValue`: the name of another stack's export.
    ImportValue(Node),
    /// `Condition`: a named condition used as a value (inside `Fn::And`, ...).
    Condition(String),
    /// `Fn::Length` (AWS::LanguageExtensions).
    Length(Node),
    /// `Fn::ToJsonString` (AWS::LanguageExtensions).
    ToJsonString(Node),
    /// A function we cannot evaluate (`Fn::Transform`, unknown `Fn::*` keys, unknown `!Tags`).
    /// Kept in the tree so it only fails if something actually evaluates it.
    Unsupported(String, Node),
}

impl Node {
    /// This node and every node below it, function arguments included, in pre-order.
    /// Iterative, so it is safe on any tree the parser accepts; useful for finding e.g. all
    /// `Fn::ImportValue` names a template needs before evaluating it.
    pub fn descendants(&self) -> Descendants<'_> {
        Descendants { stack: vec![self] }
    }

    /// The intrinsic function, if this node is one.
    pub fn as_intrinsic(&self) -> Option<&Intrinsic> {
        match self {
            Node::Fn(f) => Some(f),
            _ => None,
        }
    }
}

/// Every node of a tree, depth first (see [`Node::descendants`]).
pub struct Descendants<'n> {
    stack: Vec<&'n Node>,
}

impl<'n> Iterator for Descendants<'n> {
    type Item = &'n Node;

    fn next(&mut self) -> Option<&'n Node> {
        let node = self.stack.pop()?;
        match node {
            Node::List(items) => self.stack.extend(items.iter().rev()),
            Node::Map(entries) => self.stack.extend(entries.iter().rev().map(|(_, v)| v)),
            Node::Fn(f) => self.stack.extend(f.args().into_iter().rev()),
            _ => {}
        }
        Some(node)
    }
}

impl Intrinsic {
    /// The CloudFormation name of the function (long form).
    pub fn name(&self) -> &str {
        match self {
            Intrinsic::Ref(_) => "Ref",
            Intrinsic::GetAtt(..) => "Fn::GetAtt",
            Intrinsic::Sub(..) => "Fn::Sub",
            Intrinsic::Join(..) => "Fn::Join",
            Intrinsic::Select(..) => "Fn::Select",
            Intrinsic::Split(..) => "Fn::Split",
            Intrinsic::GetAZs(_) => "Fn::GetAZs",
            Intrinsic::Cidr(..) => "Fn::Cidr",
            Intrinsic::If(..) => "Fn::If",
            Intrinsic::Equals(..) => "Fn::Equals",
            Intrinsic::And(_) => "Fn::And",
            Intrinsic::Or(_) => "Fn::Or",
            Intrinsic::Not(_) => "Fn::Not",
            Intrinsic::FindInMap(..) | Intrinsic::FindInMapWithDefault(..) => "Fn::FindInMap",
            Intrinsic::Base64(_) => "Fn::Base64",
            Intrinsic::ImportValue(_) => "Fn::ImportValue",
            Intrinsic::Condition(_) => "Condition",
            Intrinsic::Length(_) => "Fn::Length",
            Intrinsic::ToJsonString(_) => "Fn::ToJsonString",
            Intrinsic::Unsupported(name, _) => name,
        }
    }

    /// The argument nodes, in order (names such as Ref targets are not nodes).
    pub fn args(&self) -> Vec<&Node> {
        match self {
            Intrinsic::Ref(_) | Intrinsic::GetAtt(_, _) | Intrinsic::Condition(_) => Vec::new(),
            Intrinsic::Sub(_, vars) => vars.iter().map(|(_, v)| v).collect(),
            Intrinsic::Join(a, b)
            | Intrinsic::Select(a, b)
            | Intrinsic::Split(a, b)
            | Intrinsic::Equals(a, b)
            | Intrinsic::If(_, a, b) => vec![a, b],
            Intrinsic::Cidr(a, b, c) | Intrinsic::FindInMap(a, b, c) => vec![a, b, c],
            Intrinsic::FindInMapWithDefault(a, b, c, e) => vec![a, b, c, e],
            Intrinsic::And(items) | Intrinsic::Or(items) => items.iter().collect(),
            Intrinsic::GetAZs(a)
            | Intrinsic::Not(a)
            | Intrinsic::Base64(a)
            | Intrinsic::ImportValue(a)
            | Intrinsic::Length(a)
            | Intrinsic::ToJsonString(a)
            | Intrinsic::Unsupported(_, a) => vec![a],
        }
    }
}

/// A parsed template: its sections, not yet evaluated.
#[derive(Debug, Clone)]
pub struct Template {
    /// The file it was read from.
    pub path: PathBuf,
    /// `Description`.
    pub description: Option<String>,
    /// `Parameters`, in file order.
    pub parameters: Vec<Parameter>,
    /// The `Mappings` section (`Node::Map`, or `Node::Null` when absent).
    pub mappings: Node,
    /// `Conditions`: name and condition, in file order.
    pub conditions: Vec<(String, Node)>,
    /// `Resources`, in file order.
    pub resources: Vec<Resource>,
    /// Output name and its `Value` node.
    pub outputs: Vec<(String, Node)>,
    /// The full output declarations (condition, export name), in the same order as `outputs`.
    pub output_details: Vec<Output>,
}

/// A declared template parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The parameter's name.
    pub name: String,
    /// `Type` (`String`, `Number`, `List<AWS::EC2::Subnet::Id>`, ...).
    pub type_: String,
    /// `Default`.
    pub default: Option<Node>,
    /// `AllowedValues`, as text.
    pub allowed_values: Vec<String>,
    /// `NoEcho`.
    pub no_echo: bool,
    /// `AllowedPattern`, `MinLength`, `MaxValue` and the other constraints.
    pub constraints: ParameterConstraints,
}

/// A declared resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The resource's logical id.
    pub logical_id: String,
    /// `Type` (`AWS::EC2::VPC`, ...).
    pub type_: String,
    /// `Node::Map(vec![])` when the resource has no `Properties`, so callers can always
    /// deserialize it into a struct with defaults.
    pub properties: Node,
    /// `Condition`: the resource exists only when it holds.
    pub condition: Option<String>,
    /// `DependsOn`.
    pub depends_on: Vec<String>,
}

/// A declared output.
#[derive(Debug, Clone)]
pub struct Output {
    /// The output's name.
    pub name: String,
    /// `Value`.
    pub value: Node,
    /// `Description`.
    pub description: Option<String>,
    /// `Condition`: the output exists only when it holds.
    pub condition: Option<String>,
    /// `Export.Name`, which is usually computed (`!Sub '${AWS::StackName}-VpcId'`).
    pub export_name: Option<Node>,
}

/// One problem found in a template, located by file and (when known) logical id.
#[derive(Debug, Clone)]
pub struct CfnError {
    /// The template file.
    pub file: PathBuf,
    /// The resource, parameter, condition or output the problem is in, when known.
    pub logical_id: Option<String>,
    /// An error code of [`codes`].
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl CfnError {
    /// A problem in `file`, at `logical_id` when known.
    pub fn new(
        file: impl Into<PathBuf>,
        logical_id: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        CfnError {
            file: file.into(),
            logical_id: logical_id.map(str::to_owned),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CfnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if let Some(id) = &self.logical_id {
            write!(f, "{id}: ")?;
        }
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for CfnError {}

/// Error codes, shared so callers can match on them without typos.
pub mod codes {
    /// The template is not valid YAML or JSON, or a section has the wrong shape.
    pub const INVALID_TEMPLATE: &str = "InvalidTemplate";
    /// A `Ref`, `Fn::GetAtt`, `Fn::Sub` or condition names nothing.
    pub const UNRESOLVED_REFERENCE: &str = "UnresolvedReference";
    /// Resources or conditions refer to each other in a cycle.
    pub const CIRCULAR_DEPENDENCY: &str = "CircularDependency";
    /// A parameter value is given for a parameter the template does not declare.
    pub const UNKNOWN_PARAMETER: &str = "UnknownParameter";
    /// A parameter has neither a value nor a `Default`.
    pub const MISSING_PARAMETER: &str = "MissingParameter";
    /// A parameter value breaks the parameter's type or `AllowedValues`.
    pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
    /// `Fn::ImportValue` names an export no stack provides.
    pub const UNRESOLVED_IMPORT: &str = "UnresolvedImport";
    /// An intrinsic function has arguments of the wrong shape or type.
    pub const INVALID_FUNCTION: &str = "InvalidFunction";
    /// An intrinsic function CloudFormation has but vpcsim does not evaluate.
    pub const UNSUPPORTED_FUNCTION: &str = "UnsupportedFunction";
    /// `Fn::GetAtt` names an attribute the resource does not have.
    pub const UNRESOLVED_ATTRIBUTE: &str = "UnresolvedAttribute";
}
