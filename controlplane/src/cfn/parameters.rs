//! Parameter constraints as CloudFormation checks them before it creates a stack:
//! `AllowedValues`, `AllowedPattern`, `MinLength`/`MaxLength`, `MinValue`/`MaxValue`, numbers,
//! and the AWS-specific parameter types (`AWS::EC2::VPC::Id`, `List<AWS::EC2::Subnet::Id>`,
//! ...), whose values must name resources that exist.
//!
//! The messages are CloudFormation's (`Parameter 'X' must match pattern ...`); with a
//! `ConstraintDescription`, CloudFormation shows it instead of the rule
//! (`Parameter 'X' failed to satisfy constraint: ...`).

use super::Parameter;

/// The constraints a parameter declares besides `AllowedValues`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParameterConstraints {
    /// `AllowedPattern`: a Java regular expression the whole value (each item of a
    /// `CommaDelimitedList`) must match.
    pub allowed_pattern: Option<String>,
    /// `MinLength` of a `String`.
    pub min_length: Option<u64>,
    /// `MaxLength` of a `String`.
    pub max_length: Option<u64>,
    /// `MinValue` of a `Number` (each item of a `List<Number>`).
    pub min_value: Option<f64>,
    /// `MaxValue` of a `Number` (each item of a `List<Number>`).
    pub max_value: Option<f64>,
    /// `ConstraintDescription`: shown instead of the broken rule.
    pub constraint_description: Option<String>,
}

impl ParameterConstraints {
    /// Record one declaration key; `Ok(false)` when `key` is not a constraint.
    pub(super) fn set(&mut self, key: &str, value: String) -> Result<bool, String> {
        let number = |v: &str| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| format!("{key} must be a number, got {v:?}"))
        };
        let length = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{key} must be a non-negative integer, got {v:?}"))
        };
        match key {
            "AllowedPattern" => self.allowed_pattern = Some(value),
            "MinLength" => self.min_length = Some(length(&value)?),
            "MaxLength" => self.max_length = Some(length(&value)?),
            "MinValue" => self.min_value = Some(number(&value)?),
            "MaxValue" => self.max_value = Some(number(&value)?),
            "ConstraintDescription" => self.constraint_description = Some(value),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Check one value (one item of a list type) against the parameter's declaration; the error
/// is CloudFormation's message.
pub(super) fn check_item(
    p: &Parameter,
    item: &str,
    numeric: bool,
    list: bool,
) -> Result<(), String> {
    let name = &p.name;
    let c = &p.constraints;
    let broken = |rule: String| match &c.constraint_description {
        Some(d) => format!("Parameter '{name}' failed to satisfy constraint: {d}"),
        None => format!("Parameter '{name}' {rule}"),
    };
    if !p.allowed_values.is_empty()
        && !p
            .allowed_values
            .iter()
            .any(|a| super::eval::allowed_matches(a, item, numeric))
    {
        return Err(broken(format!(
            "must be one of AllowedValues ({})",
            p.allowed_values.join(", ")
        )));
    }
    if numeric {
        let Ok(n) = item.trim().parse::<f64>() else {
            return Err(format!("Parameter '{name}' must be a number"));
        };
        if let Some(min) = c.min_value.filter(|m| n < *m) {
            return Err(broken(format!("must be a number not less than {min}")));
        }
        if let Some(max) = c.max_value.filter(|m| n > *m) {
            return Err(broken(format!("must be a number not greater than {max}")));
        }
        return Ok(());
    }
    // Lengths constrain a String; a CommaDelimitedList only takes the pattern, per item.
    let chars = item.chars().count() as u64;
    if !list {
        if let Some(min) = c.min_length.filter(|m| chars < *m) {
            return Err(broken(format!("must contain at least {min} characters")));
        }
        if let Some(max) = c.max_length.filter(|m| chars > *m) {
            return Err(broken(format!("must contain at most {max} characters")));
        }
    }
    if let Some(pattern) = &c.allowed_pattern {
        if whole_match(pattern, item) == Some(false) {
            return Err(broken(format!("must match pattern {pattern}")));
        }
    }
    Ok(())
}

/// Java's `Pattern.matches`: the whole value must match. `None` when the pattern uses what
/// only Java has (lookaround, backreferences, possessive quantifiers): not checked.
fn whole_match(pattern: &str, value: &str) -> Option<bool> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .ok()
        .map(|re| re.is_match(value))
}

/// What the values of an AWS-specific parameter type must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsParameterKind {
    /// `AWS::EC2::VPC::Id`.
    Vpc,
    /// `AWS::EC2::Subnet::Id`.
    Subnet,
    /// `AWS::EC2::SecurityGroup::Id`.
    SecurityGroupId,
    /// `AWS::EC2::SecurityGroup::GroupName`.
    SecurityGroupName,
    /// `AWS::EC2::Instance::Id`.
    Instance,
    /// `AWS::EC2::AvailabilityZone::Name`: a zone of the stack's Region.
    AvailabilityZone,
}

/// The kind an AWS-specific parameter type names and whether it is a `List<...>`; `None` for
/// the other types, and for the AWS types whose resources vpcsim does not model (key pairs,
/// images, volumes, hosted zones), which are taken as given.
pub fn aws_parameter_kind(type_: &str) -> Option<(AwsParameterKind, bool)> {
    let t = type_.trim();
    let (inner, list) = match t.strip_prefix("List<").and_then(|s| s.strip_suffix('>')) {
        Some(inner) => (inner, true),
        None => (t, false),
    };
    let kind = match inner {
        "AWS::EC2::VPC::Id" => AwsParameterKind::Vpc,
        "AWS::EC2::Subnet::Id" => AwsParameterKind::Subnet,
        "AWS::EC2::SecurityGroup::Id" => AwsParameterKind::SecurityGroupId,
        "AWS::EC2::SecurityGroup::GroupName" => AwsParameterKind::SecurityGroupName,
        "AWS::EC2::Instance::Id" => AwsParameterKind::Instance,
        "AWS::EC2::AvailabilityZone::Name" => AwsParameterKind::AvailabilityZone,
        _ => return None,
    };
    Some((kind, list))
}

/// CloudFormation's message for a value of an AWS-specific type that names nothing.
pub fn does_not_exist(parameter: &str, value: &str) -> String {
    format!(
        "Parameter validation failed: parameter value {value} for parameter name {parameter} does not exist"
    )
}
