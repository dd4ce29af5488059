//! Stack events: every state a stack and its resources pass through, kept per stack in the
//! order they happened and answered newest first, as `DescribeStackEvents` does.

use serde_json::{json, Value};

use super::{members, require_stack, Stack};
use crate::call::Call;
use crate::error::ApiError;
use crate::services::ec2::common_iso8601;
use crate::store::Tx;

const EVENTS: &str = "StackEvents";

/// The events of one operation on a stack, written together when it ends.
pub struct Events<'a> {
    call: &'a Call,
    stack_id: String,
    stack_name: String,
    list: Vec<Value>,
}

impl<'a> Events<'a> {
    /// Events of `stack` caused by `call`.
    pub fn new(call: &'a Call, stack: &Stack) -> Self {
        Events {
            call,
            stack_id: stack["StackId"].as_str().unwrap_or_default().to_string(),
            stack_name: stack["StackName"].as_str().unwrap_or_default().to_string(),
            list: Vec::new(),
        }
    }

    /// A state of the stack itself (an `AWS::CloudFormation::Stack` resource).
    pub fn stack(&mut self, status: &str, reason: Option<&str>) {
        let (id, name) = (self.stack_id.clone(), self.stack_name.clone());
        self.resource(&name, &id, "AWS::CloudFormation::Stack", status, reason);
    }

    /// A state of one resource.
    pub fn resource(
        &mut self,
        logical: &str,
        physical: &str,
        resource_type: &str,
        status: &str,
        reason: Option<&str>,
    ) {
        self.list.push(json!({
            "EventId": crate::ids::uuid(),
            "StackId": self.stack_id,
            "StackName": self.stack_name,
            "LogicalResourceId": logical,
            "PhysicalResourceId": physical,
            "ResourceType": resource_type,
            "Timestamp": common_iso8601(self.call.now),
            "ResourceStatus": status,
            "ResourceStatusReason": reason,
        }));
    }

    /// Appends the events to the stack's history.
    pub fn save(self, tx: &Tx<'_>) -> Result<(), ApiError> {
        let region = &self.call.region;
        let mut doc = tx
            .get(region, EVENTS, &self.stack_id)?
            .unwrap_or_else(|| json!({"Events": []}));
        if let Some(list) = doc["Events"].as_array_mut() {
            list.extend(self.list);
        }
        tx.put(region, EVENTS, &self.stack_id, &doc)
    }
}

/// `DescribeStackEvents`.
pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    call.authorize(&[super::stack_resource_arn(call, name)], &[])?;
    let stack = require_stack(tx, call, name)?;
    let id = stack["StackId"].as_str().unwrap_or_default();
    let mut list = tx
        .get(&call.region, EVENTS, id)?
        .and_then(|d| d["Events"].as_array().cloned())
        .unwrap_or_default();
    list.reverse();
    let fields = [
        "StackId",
        "EventId",
        "StackName",
        "LogicalResourceId",
        "PhysicalResourceId",
        "ResourceType",
        "Timestamp",
        "ResourceStatus",
        "ResourceStatusReason",
    ];
    Ok(Some(format!(
        "<StackEvents>{}</StackEvents>",
        members(&list, &fields)
    )))
}
