//! A stack's resources: `DescribeStackResources`, `DescribeStackResource` and
//! `ListStackResources`.

use serde_json::Value;

use super::{members, require_stack, stack_resource_arn, validation, Stack, STACKS};
use crate::call::Call;
use crate::error::ApiError;
use crate::store::Tx;

fn stack_resources(stack: &Stack) -> Vec<Value> {
    let mut list = stack["Resources"].as_array().cloned().unwrap_or_default();
    for r in &mut list {
        r["StackName"] = stack["StackName"].clone();
        r["StackId"] = stack["StackId"].clone();
        r["LastUpdatedTimestamp"] = r["Timestamp"].clone();
    }
    list
}

/// `DescribeStackResources`: by stack, or by the physical id of one of its resources.
pub fn describe_all(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let stack = match (
        call.params.get("StackName"),
        call.params.get("PhysicalResourceId"),
    ) {
        (Some(n), _) => require_stack(tx, call, n)?,
        (None, Some(pid)) => tx
            .list(&call.region, STACKS)?
            .into_iter()
            .find(|s| {
                s["StackStatus"] != "DELETE_COMPLETE"
                    && s["Resources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|r| r["PhysicalResourceId"] == pid)
            })
            .ok_or_else(|| validation(format!("Stack for {pid} does not exist")))?,
        (None, None) => {
            return Err(validation(
                "Either StackName or PhysicalResourceId must be specified.",
            ))
        }
    };
    let mut list = stack_resources(&stack);
    if let Some(l) = call.params.get("LogicalResourceId") {
        list.retain(|r| r["LogicalResourceId"] == l);
    }
    let fields = [
        "StackName",
        "StackId",
        "LogicalResourceId",
        "PhysicalResourceId",
        "ResourceType",
        "Timestamp",
        "ResourceStatus",
    ];
    Ok(Some(format!(
        "<StackResources>{}</StackResources>",
        members(&list, &fields)
    )))
}

/// `DescribeStackResource`.
pub fn describe_one(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    let logical = call.params.require("LogicalResourceId")?;
    call.authorize(&[stack_resource_arn(call, name)], &[])?;
    let stack = require_stack(tx, call, name)?;
    let r = stack_resources(&stack)
        .into_iter()
        .find(|r| r["LogicalResourceId"] == logical)
        .ok_or_else(|| {
            validation(format!(
                "Resource {logical} does not exist for stack {name}"
            ))
        })?;
    let fields = [
        "StackName",
        "StackId",
        "LogicalResourceId",
        "PhysicalResourceId",
        "ResourceType",
        "LastUpdatedTimestamp",
        "ResourceStatus",
    ];
    let body = members(&[r], &fields);
    let inner = body
        .strip_prefix("<member>")
        .and_then(|b| b.strip_suffix("</member>"))
        .unwrap_or_default();
    Ok(Some(format!(
        "<StackResourceDetail>{inner}<Metadata>{{}}</Metadata></StackResourceDetail>"
    )))
}

/// `ListStackResources`.
pub fn list(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    call.authorize(&[stack_resource_arn(call, name)], &[])?;
    let stack = require_stack(tx, call, name)?;
    let fields = [
        "LogicalResourceId",
        "PhysicalResourceId",
        "ResourceType",
        "LastUpdatedTimestamp",
        "ResourceStatus",
    ];
    let list = stack_resources(&stack);
    let body = members(&list, &fields).replace(
        "</member>",
        "<DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation></member>",
    );
    Ok(Some(format!(
        "<StackResourceSummaries>{body}</StackResourceSummaries>"
    )))
}
