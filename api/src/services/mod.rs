//! Service handlers: `pub fn handle(store, call) -> Result<Reply, ApiError>` per service.

pub mod cloudtrail;
pub mod iam;
pub mod sts;
