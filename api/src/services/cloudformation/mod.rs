//! AWS CloudFormation (Query): stacks deployed with vpcsim's template loader.
//!
//! A stack's template is loaded on top of the region's current network (so parameters may
//! name existing resources and `Fn::ImportValue` sees the other stacks' exports), and the
//! resources it adds are stored as describe-* documents tagged with the stack's
//! `aws:cloudformation:*` tags: the stack's network is then what `Describe*` answers and what
//! the data plane runs. Updates and change sets compare templates by logical id
//! ([`diff`]); every operation ends in one transaction, so stacks never stay `*_IN_PROGRESS`
//! and clients' waiters succeed at their first poll.

mod changesets;
mod deploy;
pub mod diff;
mod events;
mod resources;
mod stacks;
mod templates;
#[cfg(test)]
mod tests;

use serde_json::{json, Value};

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::service::Service;
use crate::store::{Store, Tx};
use crate::xml::{escape, query_response};

const STACKS: &str = "Stacks";

/// A stack as stored: `DescribeStacks`'s fields, plus the `Vpcsim*` bookkeeping (template,
/// documents, imports, renamed ids).
type Stack = Value;

/// Answers one CloudFormation call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let body = store.write(|tx| match call.action.as_str() {
        "CreateStack" => stacks::create(tx, call),
        "UpdateStack" => stacks::update(tx, call),
        "DeleteStack" => stacks::delete(tx, call),
        "DescribeStacks" => describe(tx, call),
        "ListStacks" => list(tx, call),
        "DescribeStackResources" => resources::describe_all(tx, call),
        "DescribeStackResource" => resources::describe_one(tx, call),
        "ListStackResources" => resources::list(tx, call),
        "DescribeStackEvents" => events::describe(tx, call),
        "CreateChangeSet" => changesets::create(tx, call),
        "DescribeChangeSet" => changesets::describe(tx, call),
        "ExecuteChangeSet" => changesets::execute(tx, call),
        "DeleteChangeSet" => changesets::delete(tx, call),
        "ListChangeSets" => changesets::list(tx, call),
        "GetTemplate" => templates::get(tx, call),
        "ValidateTemplate" => templates::validate(call),
        "GetTemplateSummary" => templates::summary(tx, call),
        "ListExports" => exports(tx, call),
        "ListImports" => imports(tx, call),
        other => Err(ApiError::invalid_action(other)),
    })?;
    let xmlns = Service::CloudFormation.xmlns();
    Ok(Reply::Xml(query_response(
        &call.action,
        xmlns,
        &call.request_id,
        body.as_deref(),
    )))
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::client("ValidationError", message)
}

fn stack_arn(call: &Call, name: &str, uuid: &str) -> String {
    format!(
        "arn:aws:cloudformation:{}:{}:stack/{name}/{uuid}",
        call.region, call.account
    )
}

/// The ARN IAM checks for a call on the stack `name` (a name or a stack id).
fn stack_resource_arn(call: &Call, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_string();
    }
    format!(
        "arn:aws:cloudformation:{}:{}:stack/{name}/*",
        call.region, call.account
    )
}

/// Whether a stack exists for its name: not deleted, and past review (a stack that only has a
/// change set of type `CREATE` is in `REVIEW_IN_PROGRESS`).
fn is_live(stack: &Stack) -> bool {
    !matches!(
        stack["StackStatus"].as_str(),
        Some("DELETE_COMPLETE" | "REVIEW_IN_PROGRESS")
    )
}

/// The stack a `StackName` (a name or a stack id) names; deleted stacks only by id.
fn find_stack(tx: &Tx<'_>, call: &Call, name: &str) -> Result<Option<Stack>, ApiError> {
    Ok(tx.list(&call.region, STACKS)?.into_iter().find(|s| {
        s["StackId"] == name || (s["StackName"] == name && s["StackStatus"] != "DELETE_COMPLETE")
    }))
}

fn require_stack(tx: &Tx<'_>, call: &Call, name: &str) -> Result<Stack, ApiError> {
    find_stack(tx, call, name)?
        .ok_or_else(|| validation(format!("Stack with id {name} does not exist")))
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn leaf(out: &mut String, field: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push_str(&format!("<{field}>{}</{field}>", escape(s))),
        v => out.push_str(&format!("<{field}>{v}</{field}>")),
    }
}

fn members(items: &[Value], fields: &[&str]) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str("<member>");
        for f in fields {
            leaf(&mut out, f, &item[*f]);
        }
        out.push_str("</member>");
    }
    out
}

fn string_members(items: &[Value]) -> String {
    items
        .iter()
        .filter_map(Value::as_str)
        .map(|s| format!("<member>{}</member>", escape(s)))
        .collect()
}

fn stack_xml(s: &Stack) -> String {
    let mut out = String::from("<member>");
    for f in [
        "StackId",
        "StackName",
        "ChangeSetId",
        "Description",
        "CreationTime",
        "LastUpdatedTime",
        "DeletionTime",
        "StackStatus",
        "StackStatusReason",
        "DisableRollback",
    ] {
        leaf(&mut out, f, &s[f]);
    }
    let list = |key: &str| s[key].as_array().cloned().unwrap_or_default();
    out += &format!(
        "<Parameters>{}</Parameters>",
        members(&list("Parameters"), &["ParameterKey", "ParameterValue"])
    );
    out += &format!(
        "<Capabilities>{}</Capabilities>",
        string_members(&list("Capabilities"))
    );
    out += &format!(
        "<Outputs>{}</Outputs>",
        members(
            &list("Outputs"),
            &["OutputKey", "OutputValue", "Description", "ExportName"]
        )
    );
    out += &format!("<Tags>{}</Tags>", members(&list("Tags"), &["Key", "Value"]));
    out += "<EnableTerminationProtection>false</EnableTerminationProtection><DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation></member>";
    out
}

fn describe(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let stacks = match call.params.get("StackName") {
        Some(n) => {
            call.authorize(&[stack_resource_arn(call, n)], &[])?;
            vec![require_stack(tx, call, n)?]
        }
        None => {
            call.authorize(&["*".to_string()], &[])?;
            tx.list(&call.region, STACKS)?
                .into_iter()
                .filter(|s| s["StackStatus"] != "DELETE_COMPLETE")
                .collect()
        }
    };
    let body: String = stacks.iter().map(stack_xml).collect();
    Ok(Some(format!("<Stacks>{body}</Stacks>")))
}

/// `ListStacks`: every stack of the region, deleted ones included (AWS keeps them 90 days),
/// filtered by `StackStatusFilter`.
fn list(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let wanted = call.params.query_list("StackStatusFilter");
    let stacks: Vec<Value> = tx
        .list(&call.region, STACKS)?
        .into_iter()
        .filter(|s| wanted.is_empty() || wanted.iter().any(|w| s["StackStatus"] == *w))
        .map(|mut s| {
            s["TemplateDescription"] = s["Description"].clone();
            s
        })
        .collect();
    let fields = [
        "StackId",
        "StackName",
        "TemplateDescription",
        "CreationTime",
        "LastUpdatedTime",
        "DeletionTime",
        "StackStatus",
        "StackStatusReason",
    ];
    Ok(Some(format!(
        "<StackSummaries>{}</StackSummaries>",
        members(&stacks, &fields)
    )))
}

fn exports(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let items: Vec<Value> = deploy::all_exports(tx, call)?
        .into_iter()
        .map(|[stack, _, name, value]| {
            json!({"ExportingStackId": stack, "Name": name, "Value": value})
        })
        .collect();
    Ok(Some(format!(
        "<Exports>{}</Exports>",
        members(&items, &["ExportingStackId", "Name", "Value"])
    )))
}

/// Live stacks, other than `except`, that import `export`.
fn importers(
    tx: &Tx<'_>,
    call: &Call,
    export: &str,
    except: &str,
) -> Result<Vec<String>, ApiError> {
    Ok(tx
        .list(&call.region, STACKS)?
        .into_iter()
        .filter(|s| is_live(s) && s["StackId"] != except)
        .filter(|s| {
            s["VpcsimImports"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| i == export)
        })
        .map(|s| text(&s, "StackName"))
        .collect())
}

/// `ListImports`: the stacks that import an export.
fn imports(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("ExportName")?;
    call.authorize(&["*".to_string()], &[])?;
    if !deploy::all_exports(tx, call)?.iter().any(|e| e[2] == name) {
        return Err(validation(format!("Export '{name}' does not exist.")));
    }
    let list: Vec<Value> = importers(tx, call, name, "")?
        .into_iter()
        .map(Value::String)
        .collect();
    if list.is_empty() {
        return Err(validation(format!(
            "Export '{name}' is not imported by any stack."
        )));
    }
    Ok(Some(format!(
        "<Imports>{}</Imports>",
        string_members(&list)
    )))
}

/// A JSON object as Query XML: members in elements of their names, lists as `<member>`s,
/// nulls left out.
fn xml_fields(v: &Value) -> String {
    let mut out = String::new();
    let Some(map) = v.as_object() else {
        return out;
    };
    for (k, v) in map {
        match v {
            Value::Null => {}
            Value::Array(items) => {
                out.push_str(&format!("<{k}>"));
                for i in items {
                    match i {
                        Value::Object(_) => {
                            out.push_str(&format!("<member>{}</member>", xml_fields(i)))
                        }
                        Value::String(s) => {
                            out.push_str(&format!("<member>{}</member>", escape(s)))
                        }
                        other => out.push_str(&format!("<member>{other}</member>")),
                    }
                }
                out.push_str(&format!("</{k}>"));
            }
            Value::Object(_) => out.push_str(&format!("<{k}>{}</{k}>", xml_fields(v))),
            other => leaf(&mut out, k, other),
        }
    }
    out
}
