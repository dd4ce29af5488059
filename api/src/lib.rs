//! vpcsim's AWS-compatible control plane, the engine behind `vpcsim serve`.
//!
//! A request arrives over HTTP exactly as an AWS SDK or the aws CLI sends it. The server
//! ([`server`]) reads the SigV4 credential scope to learn the service and region, verifies the
//! signature and evaluates the caller's IAM policies ([`auth`]), decodes the operation from the
//! service's wire protocol ([`service`], [`params`]), and hands a [`call::Call`] to the service's
//! handler ([`services`]). Handlers read and change the state in one SQLite transaction
//! ([`store`]); every change to a region's network is then recompiled and swapped into that
//! region's data plane, so the next trace or packet sees it. Every call, allowed or denied, is
//! recorded as a CloudTrail event.
//!
//! EC2 resources are stored as the JSON objects `aws ec2 describe-*` prints (the snapshot format
//! `vpcsim` already loads), so one store serves `Describe*` answers and the data plane alike.

pub mod auth;
pub mod call;
pub mod error;
pub mod ids;
pub mod params;
pub mod plane;
pub mod plane_dns;
pub mod server;
pub mod service;
pub mod services;
pub mod store;
pub mod trail;
pub mod xml;
