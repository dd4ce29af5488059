//! The service handlers: one module per AWS service, each with
//! `pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError>`.

pub mod cloudwatch;
pub mod elbv2;
pub mod logs;
pub mod query_form;
pub mod route53;

#[cfg(test)]
pub(crate) mod test_support;
