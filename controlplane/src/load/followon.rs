//! Errors that name their real cause: a value that came from a resource vpcsim cannot build
//! is named as that resource's attribute (never as the opaque token standing for it), and an
//! id given as a parameter that names nothing is reported once, at the parameter, not again
//! in every resource that uses it.

use super::stacks::is_custom_resource;
use super::*;

/// A value a resource received from a resource of a type vpcsim does not model: an opaque
/// token (`res-….Attr`) that must never reach the user as if it were an AWS id.
#[derive(Clone, Debug)]
pub(super) struct Placeholder {
    /// The token as it appears in values (`res-…` or `res-….Attr`).
    pub(super) token: String,
    pub(super) logical_id: String,
    pub(super) kind: String,
    pub(super) stack: String,
    /// `None` for `Ref`.
    pub(super) attribute: Option<String>,
}

impl Builder {
    /// The `--custom-attr` value of an attribute of a resource vpcsim does not model; a value
    /// `Stack.LogicalId` is that resource's Ref.
    pub(super) fn custom_attribute(&self, unsupported: usize, attr: &str) -> Option<String> {
        if self.custom_attributes.is_empty() {
            return None;
        }
        let o = &self.model.unsupported[unsupported].origin;
        let stack = &self.model.templates[o.template].stack_name;
        let v =
            self.custom_attributes
                .get(&(stack.clone(), o.logical_id.clone(), attr.to_string()))?;
        Some(self.stack_reference_value(v).unwrap_or_else(|| v.clone()))
    }

    /// A message naming a placeholder, with the placeholder replaced by where it came from and
    /// why vpcsim has no value for it; the code to report it under when it stops a resource.
    fn name_placeholder(&self, message: &str) -> Option<(&'static str, String)> {
        let ph = self
            .placeholders
            .iter()
            .find(|p| message.contains(&p.token))?;
        let source = match &ph.attribute {
            Some(a) => format!("Fn::GetAtt {}.{a}", ph.logical_id),
            None => format!("Ref {}", ph.logical_id),
        };
        let message = message
            .split(' ')
            .map(|w| {
                if w.contains(&ph.token) {
                    format!("({source})")
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        Some(if is_custom_resource(&ph.kind) {
            let hint = match &ph.attribute {
                Some(a) => format!(
                    "give its value with --custom-attr {}.{}.{a}=VALUE",
                    ph.stack, ph.logical_id
                ),
                None => "its Ref (physical id) cannot be given; use one of its attributes".into(),
            };
            (
                "MissingCustomAttribute",
                format!(
                    "{message} ({} is a custom resource, {}, that vpcsim cannot run; {hint})",
                    ph.logical_id, ph.kind
                ),
            )
        } else {
            (
                "UnsupportedResourceReference",
                format!(
                    "{message} ({} is an {}, which vpcsim does not simulate)",
                    ph.logical_id, ph.kind
                ),
            )
        })
    }

    /// A value kept in the model (a blackhole route's target), with a placeholder replaced by
    /// where it came from (`Fn::GetAtt Lookup.GatewayId`).
    pub(super) fn named_value(&self, value: &str) -> String {
        match self.placeholders.iter().find(|p| value.contains(&p.token)) {
            Some(Placeholder {
                logical_id,
                attribute: Some(a),
                ..
            }) => format!("Fn::GetAtt {logical_id}.{a}"),
            Some(p) => format!("Ref {}", p.logical_id),
            None => value.to_string(),
        }
    }

    /// A finding about a resource, with any placeholder in it named.
    pub(super) fn finding_message(&self, message: String) -> String {
        self.name_placeholder(&message)
            .map(|(_, m)| m)
            .unwrap_or(message)
    }

    /// An error of the resource being built, reworded to name its cause; `None` when it only
    /// repeats an error already reported.
    pub(super) fn explain(
        &mut self,
        template: usize,
        code: &str,
        message: &str,
    ) -> Option<(String, String)> {
        if let Some((code, named)) = self.name_placeholder(message) {
            // Every resource built from the same missing value would fail the same way.
            let token = self
                .placeholders
                .iter()
                .find(|p| message.contains(&p.token))
                .map(|p| p.token.clone())
                .unwrap_or_default();
            if !self.reported_placeholders.insert(token) {
                return None;
            }
            return Some((code.to_string(), named));
        }
        if code.ends_with(".NotFound") {
            let words: Vec<&str> = message
                .split(|c: char| c.is_whitespace() || c == ',')
                .collect();
            let param = self
                .stack_parameters
                .iter()
                .find(|(_, v)| {
                    v.split(',')
                        .map(str::trim)
                        .any(|item| !item.is_empty() && words.contains(&item))
                })
                .map(|(name, _)| name.clone());
            if let Some(name) = param {
                if !self.reported_parameters.insert((template, name.clone())) {
                    return None;
                }
                return Some((
                    code.to_string(),
                    format!("{message} (the value of parameter {name}; its other uses are not reported again)"),
                ));
            }
        }
        Some((code.to_string(), message.to_string()))
    }
}
