//! Templates: `GetTemplate`, `ValidateTemplate` and `GetTemplateSummary`.

use serde_json::{json, Value};
use vpcsim_controlplane::cfn::Template;

use super::deploy::{self, required_capability};
use super::{members, require_stack, string_members, text};
use crate::call::Call;
use crate::error::ApiError;
use crate::store::Tx;
use crate::xml::escape;

/// `GetTemplate`: a stack's template, or a change set's.
pub fn get(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let body = if call.params.get("ChangeSetName").is_some() {
        super::changesets::template_of(tx, call)?
    } else {
        let name = call
            .params
            .get("StackName")
            .ok_or_else(|| ApiError::missing_parameter("StackName"))?;
        text(&require_stack(tx, call, name)?, "VpcsimTemplate")
    };
    Ok(Some(format!(
        "<TemplateBody>{}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>",
        escape(&body)
    )))
}

fn capabilities_xml(template: &Template) -> String {
    let Some(needed) = required_capability(template) else {
        return "<Capabilities/>".to_string();
    };
    let types: Vec<&str> = template
        .resources
        .iter()
        .filter(|r| r.type_.starts_with("AWS::IAM::"))
        .map(|r| r.type_.as_str())
        .collect();
    format!(
        "<Capabilities><member>{needed}</member></Capabilities><CapabilitiesReason>{}</CapabilitiesReason>",
        escape(&format!(
            "The following resource(s) require capabilities: [{}]",
            types.join(", ")
        ))
    )
}

fn parameter_items(template: &Template) -> Vec<Value> {
    template
        .parameters
        .iter()
        .map(|p| {
            json!({
                "ParameterKey": p.name,
                "DefaultValue": p.default.as_ref().and_then(|d| match d {
                    vpcsim_controlplane::cfn::Node::String(s) => Some(s.clone()),
                    vpcsim_controlplane::cfn::Node::Number(n) => Some(n.to_string()),
                    _ => None,
                }),
                "ParameterType": p.type_,
                "NoEcho": p.no_echo,
            })
        })
        .collect()
}

fn description_xml(template: &Template) -> String {
    template
        .description
        .as_ref()
        .map(|d| format!("<Description>{}</Description>", escape(d)))
        .unwrap_or_default()
}

/// `ValidateTemplate`: the template's parameters (with defaults), description and the
/// capabilities its IAM resources need; `ValidationError` for a template that does not parse.
pub fn validate(call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let template = deploy::parse(&deploy::template_body(call, None)?)?;
    let params = members(
        &parameter_items(&template),
        &["ParameterKey", "DefaultValue", "NoEcho"],
    );
    Ok(Some(format!(
        "<Parameters>{params}</Parameters>{}{}",
        description_xml(&template),
        capabilities_xml(&template)
    )))
}

/// `GetTemplateSummary`: of a template or of a stack's.
pub fn summary(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let body = match call.params.get("StackName") {
        Some(n) => text(&require_stack(tx, call, n)?, "VpcsimTemplate"),
        None => deploy::template_body(call, None)?,
    };
    let template = deploy::parse(&body)?;
    let params = members(
        &parameter_items(&template),
        &["ParameterKey", "DefaultValue", "ParameterType", "NoEcho"],
    );
    let mut types: Vec<Value> = template.resources.iter().map(|r| json!(r.type_)).collect();
    types.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    types.dedup();
    Ok(Some(format!(
        "<Parameters>{params}</Parameters>{}{}<ResourceTypes>{}</ResourceTypes><Version>2010-09-09</Version>",
        description_xml(&template),
        capabilities_xml(&template),
        string_members(&types)
    )))
}
