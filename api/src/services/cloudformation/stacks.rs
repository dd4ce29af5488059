//! `CreateStack`, `UpdateStack` and `DeleteStack`, and the create and update that executing a
//! change set runs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::deploy::{self, Deployment, Outcome, Request};
use super::diff::{self, Action, ResourceChange, Side};
use super::events::Events;
use super::{find_stack, importers, require_stack, stack_arn, text, validation, Stack, STACKS};
use crate::call::Call;
use crate::error::ApiError;
use crate::services::ec2::common_iso8601;
use crate::store::Tx;
use crate::xml::escape;

/// The states in which a stack can be updated.
const UPDATABLE: &[&str] = &[
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
];

fn check_name(name: &str) -> Result<(), ApiError> {
    let valid = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        return Ok(());
    }
    Err(validation(format!(
        "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
    )))
}

/// A new stack document (no resources yet).
pub fn new_stack(call: &Call, name: &str) -> Result<Stack, ApiError> {
    check_name(name)?;
    let id = stack_arn(call, name, &crate::ids::uuid());
    let p = &call.params;
    Ok(json!({
        "StackId": id,
        "StackName": name,
        "CreationTime": common_iso8601(call.now),
        "DisableRollback": p.bool("DisableRollback")?.unwrap_or(false),
        "Tags": p.query_structs("Tags").iter().map(|t| json!({"Key": t.get("Key"), "Value": t.get("Value")})).collect::<Vec<_>>(),
        "Capabilities": p.query_list("Capabilities"),
        "Parameters": [],
        "Resources": [],
        "Outputs": [],
    }))
}

fn parameter_list(parameters: &BTreeMap<String, String>) -> Value {
    json!(parameters
        .iter()
        .map(|(k, v)| json!({"ParameterKey": k, "ParameterValue": v}))
        .collect::<Vec<_>>())
}

fn stack_id_xml(stack: &Stack) -> Option<String> {
    Some(format!(
        "<StackId>{}</StackId>",
        escape(&text(stack, "StackId"))
    ))
}

/// `CreateStack`.
pub fn create(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    let stack = new_stack(call, name)?;
    call.authorize(&[text(&stack, "StackId")], &[])?;
    if find_stack(tx, call, name)?.is_some() {
        return Err(ApiError::client(
            "AlreadyExistsException",
            format!("Stack [{name}] already exists"),
        ));
    }
    let body = deploy::template_body(call, None)?;
    let template = deploy::parse(&body)?;
    deploy::check_capabilities(call, &template)?;
    let parameters = deploy::parameters(call, &template, None)?;
    let req = Request {
        body,
        template,
        parameters,
    };
    let rollback = call.params.bool("DisableRollback")? != Some(true)
        && call.params.get("OnFailure") != Some("DO_NOTHING");
    let stack = run_create(tx, call, stack, &req, rollback)?;
    Ok(stack_id_xml(&stack))
}

/// Creates `stack`'s resources from `req`; a failure rolls the stack back (nothing stored)
/// unless `rollback` is off (`CREATE_FAILED`).
pub fn run_create(
    tx: &Tx<'_>,
    call: &Call,
    mut stack: Stack,
    req: &Request,
    rollback: bool,
) -> Result<Stack, ApiError> {
    let mut events = Events::new(call, &stack);
    events.stack("CREATE_IN_PROGRESS", Some("User Initiated"));
    stack["Description"] = json!(req.template.description);
    stack["Parameters"] = parameter_list(&req.parameters);
    stack["VpcsimTemplate"] = json!(req.body);
    match deploy::build(tx, call, &stack, req, &BTreeSet::new())? {
        Outcome::Failed(reason) => {
            let reason = format!("The following resource(s) failed to create: {reason}");
            events.stack("CREATE_FAILED", Some(&reason));
            let status = if rollback {
                events.stack("ROLLBACK_IN_PROGRESS", Some(&reason));
                events.stack("ROLLBACK_COMPLETE", None);
                "ROLLBACK_COMPLETE"
            } else {
                "CREATE_FAILED"
            };
            stack["StackStatus"] = json!(status);
            stack["StackStatusReason"] = json!(reason);
        }
        Outcome::Deployed(d) => {
            let now = common_iso8601(call.now);
            for (logical, physical, rtype) in &d.resources {
                events.resource(logical, "", rtype, "CREATE_IN_PROGRESS", None);
                events.resource(
                    logical,
                    physical,
                    rtype,
                    "CREATE_IN_PROGRESS",
                    Some("Resource creation Initiated"),
                );
                events.resource(logical, physical, rtype, "CREATE_COMPLETE", None);
            }
            stack["Resources"] = json!(d
                .resources
                .iter()
                .map(|(l, p, t)| resource_entry(l, p, t, "CREATE_COMPLETE", &now))
                .collect::<Vec<_>>());
            apply(tx, call, &mut stack, &d)?;
            events.stack("CREATE_COMPLETE", None);
            stack["StackStatus"] = json!("CREATE_COMPLETE");
        }
    }
    tx.put(&call.region, STACKS, &text(&stack, "StackId"), &stack)?;
    events.save(tx)?;
    Ok(stack)
}

fn resource_entry(logical: &str, physical: &str, rtype: &str, status: &str, now: &str) -> Value {
    json!({"LogicalResourceId": logical, "PhysicalResourceId": physical,
        "ResourceType": rtype, "ResourceStatus": status, "Timestamp": now})
}

/// Stores a deployment's documents and what the stack remembers of it.
fn apply(tx: &Tx<'_>, call: &Call, stack: &mut Stack, d: &Deployment) -> Result<(), ApiError> {
    stack["VpcsimDocuments"] = deploy::store(tx, call, stack, &d.docs)?;
    stack["VpcsimRenames"] = json!(d.renames);
    stack["VpcsimImports"] = json!(d.imports);
    stack["Outputs"] = json!(d.outputs);
    call.changed(&call.region);
    Ok(())
}

/// `UpdateStack`.
pub fn update(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    call.authorize(&[super::stack_resource_arn(call, name)], &[])?;
    let stack = require_stack(tx, call, name)?;
    let req = update_request(call, &stack)?;
    let changes = plan_update(&stack, &req)?;
    if changes.is_empty() && same_outputs(&stack, &req) {
        return Err(validation("No updates are to be performed."));
    }
    let stack = run_update(tx, call, stack, &req, &changes)?;
    Ok(stack_id_xml(&stack))
}

/// The template and parameters of an update or change set of `stack`, checked.
pub fn update_request(call: &Call, stack: &Stack) -> Result<Request, ApiError> {
    let status = text(stack, "StackStatus");
    if !UPDATABLE.contains(&status.as_str()) {
        return Err(validation(format!(
            "Stack:{} is in {status} state and can not be updated.",
            text(stack, "StackId")
        )));
    }
    let body = deploy::template_body(call, Some(stack))?;
    let template = deploy::parse(&body)?;
    deploy::check_capabilities(call, &template)?;
    let parameters = deploy::parameters(call, &template, Some(stack))?;
    Ok(Request {
        body,
        template,
        parameters,
    })
}

fn stored_parameters(stack: &Stack) -> BTreeMap<String, String> {
    stack["Parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["ParameterKey"].as_str()?.to_string(),
                p["ParameterValue"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The resource changes that turn `stack` into `req`.
pub fn plan_update(stack: &Stack, req: &Request) -> Result<Vec<ResourceChange>, ApiError> {
    let old_body = stack["VpcsimTemplate"].as_str().unwrap_or("Resources: {}");
    let old = deploy::parse(old_body)?;
    let old_parameters = stored_parameters(stack);
    diff::diff(
        &Side {
            template: &old,
            parameters: &old_parameters,
        },
        &Side {
            template: &req.template,
            parameters: &req.parameters,
        },
    )
    .map_err(validation)
}

/// Whether the template's outputs and description stay as they are (an update that changes
/// only them is still an update).
pub fn same_outputs(stack: &Stack, req: &Request) -> bool {
    let Ok(old) = deploy::parse(stack["VpcsimTemplate"].as_str().unwrap_or("")) else {
        return false;
    };
    old.outputs == req.template.outputs
        && old.description == req.template.description
        && stored_parameters(stack) == req.parameters
}

/// The physical id a stack gave a logical resource.
fn physical_of(stack: &Stack, logical: &str) -> String {
    stack["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["LogicalResourceId"] == logical)
        .map(|r| text(r, "PhysicalResourceId"))
        .unwrap_or_default()
}

/// Exports of `stack` that other stacks import and that `d` would change or drop, with why.
fn exports_in_use(
    tx: &Tx<'_>,
    call: &Call,
    stack: &Stack,
    d: &Deployment,
) -> Result<Option<String>, ApiError> {
    let id = text(stack, "StackId");
    for o in stack["Outputs"].as_array().into_iter().flatten() {
        let Some(export) = o["ExportName"].as_str() else {
            continue;
        };
        let after = d.outputs.iter().find(|n| n["ExportName"] == export);
        let verb = match after {
            None => "deleted",
            Some(n) if n["OutputValue"] != o["OutputValue"] => "updated",
            Some(_) => continue,
        };
        let users = importers(tx, call, export, &id)?;
        if !users.is_empty() {
            return Ok(Some(format!(
                "Export {export} cannot be {verb} as it is in use by {}",
                users.join(", ")
            )));
        }
    }
    Ok(None)
}

/// Updates `stack` to `req`; a template that fails to load rolls the update back and keeps the
/// old resources (`UPDATE_ROLLBACK_COMPLETE`).
pub fn run_update(
    tx: &Tx<'_>,
    call: &Call,
    mut stack: Stack,
    req: &Request,
    changes: &[ResourceChange],
) -> Result<Stack, ApiError> {
    let mut events = Events::new(call, &stack);
    events.stack("UPDATE_IN_PROGRESS", Some("User Initiated"));
    let now = common_iso8601(call.now);
    stack["LastUpdatedTime"] = json!(now);
    let replaced: BTreeSet<String> = changes
        .iter()
        .filter(|c| c.replaces())
        .map(|c| c.logical_id.clone())
        .collect();
    let failure = match deploy::build(tx, call, &stack, req, &replaced)? {
        Outcome::Failed(reason) => Some(format!(
            "The following resource(s) failed to update: {reason}"
        )),
        Outcome::Deployed(d) => match exports_in_use(tx, call, &stack, &d)? {
            Some(reason) => Some(reason),
            None => {
                record_changes(&mut events, &stack, &d, changes);
                let old: BTreeMap<String, Value> = stack["Resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| (text(r, "LogicalResourceId"), r.clone()))
                    .collect();
                let resources: Vec<Value> = d
                    .resources
                    .iter()
                    .map(
                        |(l, p, t)| match changes.iter().find(|c| c.logical_id == *l) {
                            Some(c) if c.action == Action::Add => {
                                resource_entry(l, p, t, "CREATE_COMPLETE", &now)
                            }
                            Some(_) => resource_entry(l, p, t, "UPDATE_COMPLETE", &now),
                            None => old.get(l).cloned().unwrap_or_else(|| {
                                resource_entry(l, p, t, "CREATE_COMPLETE", &now)
                            }),
                        },
                    )
                    .collect();
                stack["Resources"] = json!(resources);
                apply(tx, call, &mut stack, &d)?;
                stack["Description"] = json!(req.template.description);
                stack["Parameters"] = parameter_list(&req.parameters);
                stack["VpcsimTemplate"] = json!(req.body);
                stack["StackStatus"] = json!("UPDATE_COMPLETE");
                stack["StackStatusReason"] = Value::Null;
                events.stack("UPDATE_COMPLETE", None);
                None
            }
        },
    };
    if let Some(reason) = failure {
        events.stack("UPDATE_ROLLBACK_IN_PROGRESS", Some(&reason));
        events.stack("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None);
        events.stack("UPDATE_ROLLBACK_COMPLETE", None);
        stack["StackStatus"] = json!("UPDATE_ROLLBACK_COMPLETE");
        stack["StackStatusReason"] = json!(reason);
    }
    tx.put(&call.region, STACKS, &text(&stack, "StackId"), &stack)?;
    events.save(tx)?;
    Ok(stack)
}

/// The events of an update that succeeds: creations and updates, then the clean-up that
/// deletes removed resources and the old copies of replaced ones.
fn record_changes(
    events: &mut Events<'_>,
    stack: &Stack,
    d: &Deployment,
    changes: &[ResourceChange],
) {
    let physical_after = |l: &str| {
        d.resources
            .iter()
            .find(|r| r.0 == l)
            .map(|r| r.1.clone())
            .unwrap_or_default()
    };
    let mut cleanup = Vec::new();
    for c in changes {
        let (l, t) = (c.logical_id.as_str(), c.resource_type.as_str());
        match c.action {
            Action::Add => {
                let p = physical_after(l);
                events.resource(l, "", t, "CREATE_IN_PROGRESS", None);
                events.resource(
                    l,
                    &p,
                    t,
                    "CREATE_IN_PROGRESS",
                    Some("Resource creation Initiated"),
                );
                events.resource(l, &p, t, "CREATE_COMPLETE", None);
            }
            Action::Modify => {
                let (before, after) = (physical_of(stack, l), physical_after(l));
                if c.replaces() {
                    events.resource(l, &before, t, "UPDATE_IN_PROGRESS", Some("Requested update requires the creation of a new physical resource; hence creating one."));
                    events.resource(
                        l,
                        &after,
                        t,
                        "UPDATE_IN_PROGRESS",
                        Some("Resource creation Initiated"),
                    );
                    cleanup.push((l, before, t));
                } else {
                    events.resource(l, &after, t, "UPDATE_IN_PROGRESS", None);
                }
                events.resource(l, &after, t, "UPDATE_COMPLETE", None);
            }
            Action::Remove => cleanup.push((l, physical_of(stack, l), t)),
        }
    }
    events.stack("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None);
    for (l, p, t) in cleanup {
        events.resource(l, &p, t, "DELETE_IN_PROGRESS", None);
        events.resource(l, &p, t, "DELETE_COMPLETE", None);
    }
}

/// `DeleteStack`. Deleting a stack that does not exist succeeds and does nothing, as in AWS; a
/// stack whose export another stack imports stays as it is, with an event saying why.
pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    call.authorize(&[super::stack_resource_arn(call, name)], &[])?;
    let Some(mut stack) = find_stack(tx, call, name)? else {
        return Ok(None);
    };
    if stack["StackStatus"] == "DELETE_COMPLETE" {
        return Ok(None);
    }
    let id = text(&stack, "StackId");
    let mut events = Events::new(call, &stack);
    for o in stack["Outputs"].as_array().into_iter().flatten() {
        let Some(export) = o["ExportName"].as_str() else {
            continue;
        };
        let users = importers(tx, call, export, &id)?;
        if !users.is_empty() {
            let status = text(&stack, "StackStatus");
            let reason = format!(
                "Export {export} cannot be deleted as it is in use by {}",
                users.join(" and ")
            );
            // AWS leaves the status as it was and says why in both the event and the stack.
            events.stack(&status, Some(&reason));
            stack["StackStatusReason"] = json!(reason);
            tx.put(&call.region, STACKS, &id, &stack)?;
            events.save(tx)?;
            return Ok(None);
        }
    }
    events.stack("DELETE_IN_PROGRESS", Some("User Initiated"));
    let (_, before) = crate::plane::load_region(tx, &call.account, &call.region)?;
    let errors_before = before
        .iter()
        .filter(|d| d.severity == vpcsim_controlplane::Severity::Error)
        .count();
    let mut removed = Vec::new();
    for (kind, rid) in deploy::stack_documents(&stack) {
        if let Some(doc) = tx.get(&call.region, &kind, &rid)? {
            tx.delete(&call.region, &kind, &rid)?;
            if kind == "SecurityGroups" {
                crate::services::ec2::delete_group_rules(tx, &call.region, &rid)?;
            }
            removed.push((kind, rid, doc));
        }
    }
    let (_, after) = crate::plane::load_region(tx, &call.account, &call.region)?;
    let broken: Vec<String> = after
        .iter()
        .filter(|d| d.severity == vpcsim_controlplane::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    if broken.len() > errors_before {
        // Resources created outside the stack still use what it would delete.
        crate::services::ec2::store_documents(tx, &call.region, &call.account, &removed)?;
        let reason = format!("The following resource(s) failed to delete: resources outside the stack depend on them ({})", broken.join("; "));
        events.stack("DELETE_FAILED", Some(&reason));
        stack["StackStatus"] = json!("DELETE_FAILED");
        stack["StackStatusReason"] = json!(reason);
    } else {
        let resources = stack["Resources"].as_array().cloned().unwrap_or_default();
        for r in resources.iter().rev() {
            let (l, p, t) = (
                text(r, "LogicalResourceId"),
                text(r, "PhysicalResourceId"),
                text(r, "ResourceType"),
            );
            events.resource(&l, &p, &t, "DELETE_IN_PROGRESS", None);
            events.resource(&l, &p, &t, "DELETE_COMPLETE", None);
        }
        events.stack("DELETE_COMPLETE", None);
        stack["StackStatus"] = json!("DELETE_COMPLETE");
        stack["DeletionTime"] = json!(common_iso8601(call.now));
        call.changed(&call.region);
    }
    tx.put(&call.region, STACKS, &id, &stack)?;
    events.save(tx)?;
    Ok(None)
}
