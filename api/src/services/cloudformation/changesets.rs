//! Change sets: `CreateChangeSet` (`CREATE` for a new stack, which waits in
//! `REVIEW_IN_PROGRESS`, or `UPDATE`), `DescribeChangeSet`, `ExecuteChangeSet`,
//! `DeleteChangeSet` and `ListChangeSets`. A change set records the template and parameters it
//! was made from; executing it runs the same create or update as `CreateStack`/`UpdateStack`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::deploy::{self, Request};
use super::diff::{Action, ResourceChange};
use super::events::Events;
use super::stacks::{self, new_stack, plan_update, run_create, run_update, same_outputs};
use super::{find_stack, members, text, validation, xml_fields, Stack, STACKS};
use crate::call::Call;
use crate::error::ApiError;
use crate::services::ec2::common_iso8601;
use crate::store::Tx;
use crate::xml::escape;

const CHANGE_SETS: &str = "ChangeSets";

/// AWS's reason for a change set that changes nothing (the aws CLI's `deploy` looks for it).
pub const NO_CHANGES: &str =
    "The submitted information didn't contain changes. Submit different information to create a change set.";

fn not_found(name: &str) -> ApiError {
    ApiError::with_status(
        "ChangeSetNotFound",
        format!("ChangeSet [{name}] does not exist"),
        404,
    )
}

fn change_json(c: &ResourceChange, stack: Option<&Stack>) -> Value {
    let physical = match (c.action, stack) {
        (Action::Add, _) | (_, None) => Value::Null,
        (_, Some(s)) => s["Resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["LogicalResourceId"] == c.logical_id.as_str())
            .map(|r| r["PhysicalResourceId"].clone())
            .unwrap_or(Value::Null),
    };
    let details: Vec<Value> = c
        .details
        .iter()
        .map(|d| {
            json!({
                "Target": {"Attribute": d.attribute, "Name": d.name, "RequiresRecreation": d.requires_recreation},
                "Evaluation": d.evaluation,
                "ChangeSource": d.change_source,
                "CausingEntity": d.causing_entity,
            })
        })
        .collect();
    json!({
        "Type": "Resource",
        "ResourceChange": {
            "Action": c.action.as_str(),
            "LogicalResourceId": c.logical_id,
            "PhysicalResourceId": physical,
            "ResourceType": c.resource_type,
            "Replacement": c.replacement,
            "Scope": c.scope(),
            "Details": details,
        }
    })
}

/// The change set a call names (an ARN, or a name with `StackName`).
fn find(tx: &Tx<'_>, call: &Call) -> Result<Value, ApiError> {
    let name = call.params.require("ChangeSetName")?;
    let stack = call.params.get("StackName");
    if !name.starts_with("arn:") && stack.is_none() {
        return Err(validation(
            "StackName must be specified if ChangeSetName is not specified as an ARN.",
        ));
    }
    tx.list(&call.region, CHANGE_SETS)?
        .into_iter()
        .find(|c| {
            c["ChangeSetId"] == name
                || (c["ChangeSetName"] == name
                    && stack.is_some_and(|s| c["StackName"] == s || c["StackId"] == s))
        })
        .ok_or_else(|| not_found(name))
}

fn check_change_set_name(name: &str) -> Result<(), ApiError> {
    let valid = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        return Ok(());
    }
    Err(validation(format!(
        "1 validation error detected: Value '{name}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
    )))
}

/// The stack a `CREATE` change set deploys: a new one in `REVIEW_IN_PROGRESS`, or the one
/// an earlier `CREATE` change set left there.
fn review_stack(tx: &Tx<'_>, call: &Call, name: &str, cs: &str) -> Result<Stack, ApiError> {
    match find_stack(tx, call, name)? {
        Some(s) if s["StackStatus"] == "REVIEW_IN_PROGRESS" => Ok(s),
        Some(_) => Err(validation(format!(
            "Stack [{name}] already exists and cannot be created again with the changeSet [{cs}]."
        ))),
        None => {
            let mut stack = new_stack(call, name)?;
            stack["StackStatus"] = json!("REVIEW_IN_PROGRESS");
            let mut events = Events::new(call, &stack);
            events.stack("REVIEW_IN_PROGRESS", Some("User Initiated"));
            events.save(tx)?;
            Ok(stack)
        }
    }
}

/// `CreateChangeSet`.
pub fn create(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let p = &call.params;
    let stack_name = p.require("StackName")?;
    let name = p.require("ChangeSetName")?;
    call.authorize(&[super::stack_resource_arn(call, stack_name)], &[])?;
    check_change_set_name(name)?;
    let kind = p.get("ChangeSetType").unwrap_or("UPDATE");
    let (stack, req, changes) = match kind {
        "CREATE" => {
            let stack = review_stack(tx, call, stack_name, name)?;
            let body = deploy::template_body(call, None)?;
            let template = deploy::parse(&body)?;
            deploy::check_capabilities(call, &template)?;
            let parameters = deploy::parameters(call, &template, None)?;
            let changes: Vec<Value> = template
                .resources
                .iter()
                .map(|r| {
                    let c = ResourceChange {
                        action: Action::Add,
                        logical_id: r.logical_id.clone(),
                        resource_type: r.type_.clone(),
                        replacement: None,
                        details: Vec::new(),
                    };
                    change_json(&c, None)
                })
                .collect();
            let req = Request {
                body,
                template,
                parameters,
            };
            (stack, req, changes)
        }
        "UPDATE" => {
            let stack = find_stack(tx, call, stack_name)?
                .filter(super::is_live)
                .ok_or_else(|| validation(format!("Stack [{stack_name}] does not exist")))?;
            let req = stacks::update_request(call, &stack)?;
            let planned = plan_update(&stack, &req)?;
            let changes = planned.iter().map(|c| change_json(c, Some(&stack))).collect();
            (stack, req, changes)
        }
        other => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [IMPORT, UPDATE, CREATE]"
            )))
        }
    };
    let stack_id = text(&stack, "StackId");
    let taken = tx
        .list(&call.region, CHANGE_SETS)?
        .iter()
        .any(|c| c["StackId"] == stack_id.as_str() && c["ChangeSetName"] == name);
    if taken {
        return Err(ApiError::client(
            "AlreadyExistsException",
            format!("ChangeSet [{name}] already exists"),
        ));
    }
    let empty = kind == "UPDATE" && changes.is_empty() && same_outputs(&stack, &req);
    let id = format!(
        "arn:aws:cloudformation:{}:{}:changeSet/{name}/{}",
        call.region,
        call.account,
        crate::ids::uuid()
    );
    let doc = json!({
        "ChangeSetId": id,
        "ChangeSetName": name,
        "StackId": stack_id,
        "StackName": stack["StackName"],
        "Description": p.get("Description"),
        "Parameters": req.parameters.iter().map(|(k, v)| json!({"ParameterKey": k, "ParameterValue": v})).collect::<Vec<_>>(),
        "CreationTime": common_iso8601(call.now),
        "ExecutionStatus": if empty { "UNAVAILABLE" } else { "AVAILABLE" },
        "Status": if empty { "FAILED" } else { "CREATE_COMPLETE" },
        "StatusReason": if empty { Some(NO_CHANGES) } else { None },
        "Capabilities": p.query_list("Capabilities"),
        "Tags": p.query_structs("Tags").iter().map(|t| json!({"Key": t.get("Key"), "Value": t.get("Value")})).collect::<Vec<_>>(),
        "Changes": changes,
        "VpcsimType": kind,
        "VpcsimTemplate": req.body,
    });
    tx.put(&call.region, CHANGE_SETS, &id, &doc)?;
    if stack["StackStatus"] == "REVIEW_IN_PROGRESS" {
        tx.put(&call.region, STACKS, &stack_id, &stack)?;
    }
    Ok(Some(format!(
        "<Id>{}</Id><StackId>{}</StackId>",
        escape(&id),
        escape(&stack_id)
    )))
}

/// `DescribeChangeSet`.
pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let cs = find(tx, call)?;
    let mut out = String::new();
    for f in [
        "ChangeSetName",
        "ChangeSetId",
        "StackId",
        "StackName",
        "Description",
        "CreationTime",
        "ExecutionStatus",
        "Status",
        "StatusReason",
    ] {
        super::leaf(&mut out, f, &cs[f]);
    }
    let list = |key: &str| cs[key].as_array().cloned().unwrap_or_default();
    out += &format!(
        "<Parameters>{}</Parameters>",
        members(&list("Parameters"), &["ParameterKey", "ParameterValue"])
    );
    out += &format!(
        "<Capabilities>{}</Capabilities>",
        super::string_members(&list("Capabilities"))
    );
    out += &format!("<Tags>{}</Tags>", members(&list("Tags"), &["Key", "Value"]));
    let changes: String = list("Changes")
        .iter()
        .map(|c| format!("<member>{}</member>", xml_fields(c)))
        .collect();
    out += &format!("<Changes>{changes}</Changes><NotificationARNs/><IncludeNestedStacks>false</IncludeNestedStacks>");
    Ok(Some(out))
}

/// `ExecuteChangeSet`: runs the create or update, then drops the stack's other change sets,
/// which no longer apply to it.
pub fn execute(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let mut cs = find(tx, call)?;
    let id = text(&cs, "ChangeSetId");
    if cs["Status"] != "CREATE_COMPLETE" || cs["ExecutionStatus"] != "AVAILABLE" {
        return Err(ApiError::client(
            "InvalidChangeSetStatus",
            format!(
                "ChangeSet [{id}] cannot be executed in its current status of [{}]",
                text(&cs, "Status")
            ),
        ));
    }
    let stack = find_stack(tx, call, &text(&cs, "StackId"))?
        .ok_or_else(|| validation(format!("Stack [{}] does not exist", text(&cs, "StackName"))))?;
    let body = text(&cs, "VpcsimTemplate");
    let template = deploy::parse(&body)?;
    let parameters: BTreeMap<String, String> = cs["Parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (text(p, "ParameterKey"), text(p, "ParameterValue")))
        .collect();
    let req = Request {
        body,
        template,
        parameters,
    };
    let mut stack = if cs["VpcsimType"] == "CREATE" {
        let mut stack = stack;
        stack["Capabilities"] = cs["Capabilities"].clone();
        stack["Tags"] = cs["Tags"].clone();
        let rollback = call.params.bool("DisableRollback")? != Some(true);
        run_create(tx, call, stack, &req, rollback)?
    } else {
        let changes = plan_update(&stack, &req)?;
        run_update(tx, call, stack, &req, &changes)?
    };
    stack["ChangeSetId"] = json!(id);
    tx.put(&call.region, STACKS, &text(&stack, "StackId"), &stack)?;
    for other in tx.list(&call.region, CHANGE_SETS)? {
        if other["StackId"] == cs["StackId"] && other["ChangeSetId"] != id.as_str() {
            tx.delete(&call.region, CHANGE_SETS, &text(&other, "ChangeSetId"))?;
        }
    }
    cs["ExecutionStatus"] = json!("EXECUTE_COMPLETE");
    tx.put(&call.region, CHANGE_SETS, &id, &cs)?;
    // An empty `ExecuteChangeSetResult`, which botocore's parser requires.
    Ok(Some(String::new()))
}

/// `DeleteChangeSet`.
pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let cs = find(tx, call)?;
    tx.delete(&call.region, CHANGE_SETS, &text(&cs, "ChangeSetId"))?;
    Ok(Some(String::new()))
}

/// `ListChangeSets`.
pub fn list(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    call.authorize(&[super::stack_resource_arn(call, name)], &[])?;
    let stack = super::require_stack(tx, call, name)?;
    let items: Vec<Value> = tx
        .list(&call.region, CHANGE_SETS)?
        .into_iter()
        .filter(|c| c["StackId"] == stack["StackId"])
        .collect();
    let fields = [
        "StackId",
        "StackName",
        "ChangeSetId",
        "ChangeSetName",
        "ExecutionStatus",
        "Status",
        "StatusReason",
        "CreationTime",
        "Description",
    ];
    Ok(Some(format!(
        "<Summaries>{}</Summaries>",
        members(&items, &fields)
    )))
}

/// The template a change set was made from (`GetTemplate` with `ChangeSetName`).
pub fn template_of(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    Ok(text(&find(tx, call)?, "VpcsimTemplate"))
}
