//! The [`Authorizer`]: evaluates the caller's identity policies for one action on the resources a
//! handler names, in the request context AWS builds (SPEC.md §23.3, §23.5), and answers a
//! denial the way each protocol does (§23.6).

use std::sync::Arc;

use serde_json::json;

use crate::auth::conditions::Context;
use crate::auth::dates;
use crate::auth::entities;
use crate::auth::policy::{evaluate, Decision, Policy, PolicyKind};
use crate::call::{Authorizer, Call, CallerKind};
use crate::error::ApiError;
use crate::service::{Protocol, Service};
use crate::store::Store;

/// Applies IAM policies from the store. It reads the store, so a handler calls
/// [`Call::authorize`] before opening its own transaction (the store's lock is not
/// re-entrant).
#[derive(Debug)]
pub struct PolicyAuthorizer {
    store: Arc<Store>,
}

impl PolicyAuthorizer {
    /// An authorizer reading policies from `store`.
    pub fn new(store: Arc<Store>) -> Self {
        PolicyAuthorizer { store }
    }
}

/// The global condition keys of a call (`aws:SourceIp`, `aws:RequestedRegion`, the
/// principal's keys, ...) plus the handler's resource-specific `extra` keys.
pub fn request_context(call: &Call, extra: &[(String, Vec<String>)]) -> Context {
    let mut ctx = Context::new();
    let c = &call.caller;
    ctx.set("aws:SourceIp", call.source_ip.to_string());
    let region = if call.service.is_global() {
        "us-east-1"
    } else {
        call.region.as_str()
    };
    ctx.set("aws:RequestedRegion", region);
    if call.service == Service::Ec2 {
        ctx.set("ec2:Region", region);
    }
    ctx.set("aws:CurrentTime", dates::iso8601(call.now));
    ctx.set("aws:EpochTime", dates::epoch_seconds(call.now).to_string());
    ctx.set("aws:SecureTransport", "false");
    ctx.set("aws:PrincipalAccount", call.account.clone());
    ctx.set("aws:userid", c.principal_id.clone());
    for (k, v) in &c.tags {
        ctx.set(&format!("aws:PrincipalTag/{k}"), v.clone());
    }
    match &c.kind {
        CallerKind::Root | CallerKind::Anonymous => {
            ctx.set("aws:PrincipalArn", c.arn.clone());
            ctx.set("aws:PrincipalType", "Account");
        }
        CallerKind::IamUser { name } => {
            ctx.set("aws:PrincipalArn", c.arn.clone());
            ctx.set("aws:PrincipalType", "User");
            ctx.set("aws:username", name.clone());
        }
        CallerKind::AssumedRole {
            role_arn, issued, ..
        } => {
            // For a role session aws:PrincipalArn is the role's ARN, not the session's.
            ctx.set("aws:PrincipalArn", role_arn.clone());
            ctx.set("aws:PrincipalType", "AssumedRole");
            ctx.set("aws:TokenIssueTime", dates::iso8601(*issued));
            // Present only with temporary credentials (SPEC.md §23.5).
            ctx.set("aws:MultiFactorAuthPresent", "false");
        }
    }
    if c.access_key_id.starts_with("ASIA") && !matches!(c.kind, CallerKind::AssumedRole { .. }) {
        ctx.set("aws:MultiFactorAuthPresent", "false");
    }
    for (k, v) in extra {
        ctx.set_all(k, v.clone());
    }
    ctx
}

/// The caller's parsed identity policies (an unparseable stored document is skipped: IAM
/// refused it on the way in, so it can only be damage, and skipping it can only deny).
pub fn caller_policies(store: &Store, call: &Call) -> Result<Vec<Policy>, ApiError> {
    let docs = store.read(|tx| match &call.caller.kind {
        CallerKind::IamUser { name } => entities::user_documents(tx, name),
        CallerKind::AssumedRole { role, .. } => entities::role_documents(tx, role),
        CallerKind::Root | CallerKind::Anonymous => Ok(Vec::new()),
    })?;
    Ok(docs
        .iter()
        .filter_map(|d| Policy::parse(d, PolicyKind::Identity).ok())
        .collect())
}

/// The decision for `action` on `resource` from the caller's identity policies. Root and
/// `--no-auth` callers are always allowed.
pub fn decide(
    store: &Store,
    call: &Call,
    action: &str,
    resource: &str,
    extra: &[(String, Vec<String>)],
) -> Result<Decision, ApiError> {
    if matches!(call.caller.kind, CallerKind::Root | CallerKind::Anonymous) {
        return Ok(Decision::Allow);
    }
    let policies = caller_policies(store, call)?;
    Ok(evaluate(
        &policies,
        action,
        resource,
        &request_context(call, extra),
    ))
}

/// The denial AWS answers with: `UnauthorizedOperation` (EC2, with the encoded message),
/// `AccessDenied` (Query services) or `AccessDeniedException` (JSON services).
pub fn denied(call: &Call, action: &str, resource: &str, decision: Decision) -> ApiError {
    let on = if resource == "*" {
        String::new()
    } else {
        format!(" on resource: {resource}")
    };
    let why = match decision {
        Decision::ExplicitDeny => "with an explicit deny in an identity-based policy".to_string(),
        _ => format!("because no identity-based policy allows the {action} action"),
    };
    let sentence = format!(
        "User: {} is not authorized to perform: {action}{on} {why}",
        call.caller.arn
    );
    match call.service.protocol() {
        Protocol::Ec2 => {
            // Opaque to the client, as AWS's is; it carries what sts:DecodeAuthorizationMessage
            // would show.
            let encoded = hex::encode(
                json!({
                    "allowed": false,
                    "explicitDeny": decision == Decision::ExplicitDeny,
                    "context": {"principal": {"arn": call.caller.arn, "id": call.caller.principal_id},
                                "action": action, "resource": resource},
                })
                .to_string(),
            );
            ApiError::with_status(
                "UnauthorizedOperation",
                format!("You are not authorized to perform this operation. {sentence}. Encoded authorization failure message: {encoded}"),
                403,
            )
        }
        Protocol::Json10 | Protocol::Json11 => {
            ApiError::with_status("AccessDeniedException", sentence, 400)
        }
        Protocol::Query | Protocol::RestXml => ApiError::with_status("AccessDenied", sentence, 403),
    }
}

impl Authorizer for PolicyAuthorizer {
    fn authorize(
        &self,
        call: &Call,
        action: &str,
        resources: &[String],
        context: &[(String, Vec<String>)],
    ) -> Result<(), ApiError> {
        if matches!(call.caller.kind, CallerKind::Root | CallerKind::Anonymous) {
            return Ok(());
        }
        let policies = caller_policies(&self.store, call)?;
        let ctx = request_context(call, context);
        let star = ["*".to_string()];
        let resources = if resources.is_empty() {
            &star[..]
        } else {
            resources
        };
        for r in resources {
            let d = evaluate(&policies, action, r, &ctx);
            if d != Decision::Allow {
                return Err(denied(call, action, r, d));
            }
        }
        Ok(())
    }
}

/// An authorizer that allows everything (`serve --no-auth`).
#[derive(Debug, Default)]
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn authorize(
        &self,
        _call: &Call,
        _action: &str,
        _resources: &[String],
        _context: &[(String, Vec<String>)],
    ) -> Result<(), ApiError> {
        Ok(())
    }
}
