//! The service handlers, and the dispatch from a call's service to its handler.
//!
//! A handler is `handle(store, call) -> Result<Reply, ApiError>`, dispatching on
//! `call.action`; it authorises the call before reading or changing anything and makes all of a
//! call's changes in one `store.write`.

pub mod cloudformation;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod ec2;
pub mod elbv2;
pub mod iam;
pub mod logs;
pub mod query_form;
pub mod route53;
pub mod sts;

#[cfg(test)]
pub(crate) mod test_support;

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::service::{Protocol, Service};
use crate::store::Store;

/// Runs the handler of the call's service; `health` answers ELBv2's `DescribeTargetHealth`.
pub fn dispatch(
    store: &Store,
    call: &Call,
    health: &dyn elbv2::TargetHealthSource,
) -> Result<Reply, ApiError> {
    match call.service {
        Service::Ec2 => ec2::handle(store, call),
        Service::Elbv2 => elbv2::handle_with(store, call, health),
        Service::Route53 => route53::handle(store, call),
        Service::CloudWatch => cloudwatch::handle(store, call),
        Service::Logs => logs::handle(store, call),
        Service::CloudFormation => cloudformation::handle(store, call),
        Service::Iam => iam::handle(store, call),
        Service::Sts => sts::handle(store, call),
        Service::CloudTrail => cloudtrail::handle(store, call),
    }
}

/// AWS's answer to an operation the service does not have: `InvalidAction` for the Query and
/// EC2 protocols, `UnknownOperationException` for JSON, `InvalidAction` for REST.
pub fn unknown_operation(service: Service, action: &str) -> ApiError {
    match service.protocol() {
        Protocol::Json10 | Protocol::Json11 => ApiError::client(
            "UnknownOperationException",
            format!("The operation {action} is not supported by this service."),
        ),
        _ => ApiError::invalid_action(action),
    }
}
