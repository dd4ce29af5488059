//! AWS Security Token Service (Query): `GetCallerIdentity`, `AssumeRole`, `GetSessionToken`
//! (SPEC.md §22.4, §23.3).

use std::time::Duration;

use serde_json::json;

use crate::auth::authorizer::{decide, denied};
use crate::auth::conditions::Context;
use crate::auth::entities::{self, ROLES, SESSIONS};
use crate::auth::policy::{action_matches, Decision, Effect, Policy, PolicyKind};
use crate::auth::{authorizer, dates};
use crate::call::{Call, CallerKind, Reply};
use crate::error::ApiError;
use crate::ids;
use crate::service::Service;
use crate::store::{Store, GLOBAL};
use crate::xml::{query_response, XmlWriter};

/// Answers one STS call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    match call.action.as_str() {
        "GetCallerIdentity" => get_caller_identity(call),
        "AssumeRole" => assume_role(store, call),
        "GetSessionToken" => get_session_token(store, call),
        other => Err(ApiError::invalid_action(other)),
    }
}

fn reply(call: &Call, body: &str) -> Reply {
    Reply::Xml(query_response(
        &call.action,
        Service::Sts.xmlns(),
        &call.request_id,
        Some(body),
    ))
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::client("ValidationError", message)
}

fn get_caller_identity(call: &Call) -> Result<Reply, ApiError> {
    // Needs no permission: it answers even under an explicit deny.
    call.authorize_none();
    let mut w = XmlWriter::new();
    w.leaf("UserId", &call.caller.principal_id)
        .leaf("Account", &call.account)
        .leaf("Arn", &call.caller.arn);
    Ok(reply(call, &w.finish()))
}

fn duration(call: &Call, default: u64, min: u64, max: u64) -> Result<u64, ApiError> {
    let Some(d) = call.params.int("DurationSeconds")? else {
        return Ok(default);
    };
    if d < min as i64 {
        return Err(validation(format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to {min}"
        )));
    }
    if d > max as i64 {
        return Err(validation(format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to {max}"
        )));
    }
    Ok(d as u64)
}

fn credentials_xml(w: &mut XmlWriter, key: &str, secret: &str, token: &str, expires: &str) {
    w.element("Credentials", |w| {
        w.leaf("AccessKeyId", key)
            .leaf("SecretAccessKey", secret)
            .leaf("SessionToken", token)
            .leaf("Expiration", expires);
    });
}

fn session_token() -> String {
    // Long and opaque, as AWS's are; only its equality is ever checked.
    format!(
        "FwoGZXIvYXdzE{}{}",
        ids::secret_key().replace(['+', '/'], "A"),
        ids::secret_key().replace(['+', '/'], "B")
    )
}

/// Whether the role's trust policy lets the caller assume it, and whether it names the caller
/// itself (then no identity policy is needed) or only its account.
fn trust_allows(trust: &Policy, call: &Call, ctx: &Context) -> (bool, bool) {
    let mut arns = vec![call.caller.arn.clone()];
    if let CallerKind::AssumedRole { role_arn, .. } = &call.caller.kind {
        arns.push(role_arn.clone());
    }
    let (mut allowed, mut direct) = (false, false);
    for st in &trust.statements {
        let acts = st
            .action
            .values
            .iter()
            .any(|a| action_matches(a, "sts:AssumeRole"))
            != st.action.negated;
        if !acts || !st.names_principal(&call.account, &arns) {
            continue;
        }
        if !st.conditions.iter().all(|c| c.holds(ctx, trust.variables)) {
            continue;
        }
        match st.effect {
            Effect::Deny => return (false, false),
            Effect::Allow => {
                allowed = true;
                let (_, list) = st.principal.as_ref().expect("names_principal needs one");
                direct |= list.iter().any(|(_, v)| arns.contains(v));
            }
        }
    }
    (allowed, direct)
}

fn assume_role(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let role_arn = call.params.require("RoleArn")?.to_string();
    let session = call.params.require("RoleSessionName")?.to_string();
    if session.len() < 2
        || session.len() > 64
        || !session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let action = "sts:AssumeRole";
    let role_name = role_arn.rsplit('/').next().unwrap_or_default().to_string();
    let role = store
        .read(|tx| entities::get(tx, ROLES, &role_name))?
        .filter(|r| r["Arn"] == role_arn.as_str());
    let ctx = authorizer::request_context(call, &[]);
    let identity = decide(store, call, action, &role_arn, &[])?;
    let Some(role) = role else {
        return Err(denied(call, action, &role_arn, Decision::ImplicitDeny));
    };
    let trust = Policy::parse(
        role["AssumeRolePolicyDocument"].as_str().unwrap_or(""),
        PolicyKind::Trust,
    )
    .map_err(|e| ApiError::internal(format!("stored trust policy: {e}")))?;
    let (trusted, direct) = trust_allows(&trust, call, &ctx);
    let allowed = trusted
        && match identity {
            Decision::Allow => true,
            Decision::ExplicitDeny => false,
            Decision::ImplicitDeny => direct || matches!(call.caller.kind, CallerKind::Root),
        };
    if !allowed {
        let d = if identity == Decision::ExplicitDeny {
            identity
        } else {
            Decision::ImplicitDeny
        };
        return Err(denied(call, action, &role_arn, d));
    }
    call.authorize_none();
    let max = role["MaxSessionDuration"].as_u64().unwrap_or(3600);
    let chained = matches!(call.caller.kind, CallerKind::AssumedRole { .. });
    let secs = duration(call, 3600, 900, 43200)?;
    if chained && secs > 3600 {
        return Err(validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."));
    }
    if secs > max {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let expires = call.now + Duration::from_secs(secs);
    let (key, secret, token) = (ids::unique_id("ASIA"), ids::secret_key(), session_token());
    let role_id = role["RoleId"].as_str().unwrap_or_default().to_string();
    let real_name = role["RoleName"].as_str().unwrap_or(&role_name).to_string();
    store.write(|tx| {
        tx.put(
            GLOBAL,
            SESSIONS,
            &key,
            &json!({
                "AccessKeyId": key, "SecretAccessKey": secret, "SessionToken": token,
                "Expiration": dates::iso8601(expires),
                "ExpirationEpoch": dates::epoch_seconds(expires),
                "IssuedEpoch": dates::epoch_seconds(call.now),
                "RoleName": real_name, "RoleArn": role_arn, "RoleSessionName": session,
            }),
        )
    })?;
    let mut w = XmlWriter::new();
    credentials_xml(&mut w, &key, &secret, &token, &dates::iso8601(expires));
    w.element("AssumedRoleUser", |w| {
        w.leaf("AssumedRoleId", format!("{role_id}:{session}"))
            .leaf(
                "Arn",
                format!(
                    "arn:aws:sts::{}:assumed-role/{real_name}/{session}",
                    call.account
                ),
            );
    });
    Ok(reply(call, &w.finish()))
}

fn get_session_token(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    // No permission is needed; session credentials cannot mint more.
    call.authorize_none();
    if call.caller.access_key_id.starts_with("ASIA") {
        return Err(ApiError::with_status(
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
            403,
        ));
    }
    let user = match &call.caller.kind {
        CallerKind::IamUser { name } => Some(name.clone()),
        _ => None,
    };
    let max = if user.is_some() { 129_600 } else { 3600 };
    let secs = duration(call, 43_200.min(max), 900, max)?;
    let expires = call.now + Duration::from_secs(secs);
    let (key, secret, token) = (ids::unique_id("ASIA"), ids::secret_key(), session_token());
    store.write(|tx| {
        tx.put(
            GLOBAL,
            SESSIONS,
            &key,
            &json!({
                "AccessKeyId": key, "SecretAccessKey": secret, "SessionToken": token,
                "Expiration": dates::iso8601(expires),
                "ExpirationEpoch": dates::epoch_seconds(expires),
                "IssuedEpoch": dates::epoch_seconds(call.now),
                "UserName": user,
            }),
        )
    })?;
    let mut w = XmlWriter::new();
    credentials_xml(&mut w, &key, &secret, &token, &dates::iso8601(expires));
    Ok(reply(call, &w.finish()))
}

#[cfg(test)]
#[path = "sts_tests.rs"]
mod tests;
