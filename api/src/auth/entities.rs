//! Where IAM keeps its entities in the store (the global partition), and the reads the
//! authenticator, the authorizer and the IAM and STS handlers share.
//!
//! Users, roles, groups and managed policies are stored in the shapes of IAM's
//! `GetAccountAuthorizationDetails` (`UserDetailList` items with `UserPolicyList`,
//! `AttachedManagedPolicies`, `GroupList`; `RoleDetailList` items; `GroupDetailList` items;
//! `Policies` items with `PolicyVersionList`), keyed by the lower-cased name (IAM names are
//! unique regardless of case) or, for policies, the ARN.

use serde_json::Value;

use crate::auth::managed;
use crate::error::ApiError;
use crate::store::{Tx, GLOBAL};

/// IAM users.
pub const USERS: &str = "IamUsers";
/// IAM roles.
pub const ROLES: &str = "IamRoles";
/// IAM groups.
pub const GROUPS: &str = "IamGroups";
/// Customer managed policies, keyed by ARN.
pub const POLICIES: &str = "IamPolicies";
/// Users' access keys, keyed by access key id; they hold the secret.
pub const ACCESS_KEYS: &str = "IamAccessKeys";
/// STS session credentials, keyed by access key id.
pub const SESSIONS: &str = "StsSessions";
/// `meta` key of the root access key id.
pub const ROOT_ACCESS_KEY: &str = "root_access_key_id";
/// `meta` key of the root secret access key.
pub const ROOT_SECRET_KEY: &str = "root_secret_access_key";

/// The store id of a named IAM entity.
pub fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// A user, role or group by name.
pub fn get(tx: &Tx<'_>, kind: &str, name: &str) -> Result<Option<Value>, ApiError> {
    tx.get(GLOBAL, kind, &key(name))
}

/// The default version's document of a managed policy (AWS managed or the account's own).
pub fn managed_document(tx: &Tx<'_>, policy_arn: &str) -> Result<Option<String>, ApiError> {
    if let Some(doc) = managed::document(policy_arn) {
        return Ok(Some(doc.to_string()));
    }
    let Some(p) = tx.get(GLOBAL, POLICIES, policy_arn)? else {
        return Ok(None);
    };
    let default = p["DefaultVersionId"].as_str().unwrap_or("v1");
    Ok(p["PolicyVersionList"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["VersionId"] == default)
        .and_then(|v| v["Document"].as_str())
        .map(str::to_string))
}

/// The documents attached to an entity: its inline policies (`list_key`, e.g.
/// `UserPolicyList`) and its attached managed policies.
pub fn entity_documents(
    tx: &Tx<'_>,
    entity: &Value,
    list_key: &str,
) -> Result<Vec<String>, ApiError> {
    let mut docs: Vec<String> = entity[list_key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["PolicyDocument"].as_str().map(str::to_string))
        .collect();
    for att in entity["AttachedManagedPolicies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(doc) = managed_document(tx, att["PolicyArn"].as_str().unwrap_or(""))? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Every identity-policy document of a user: inline, attached, and those of its groups.
pub fn user_documents(tx: &Tx<'_>, user: &str) -> Result<Vec<String>, ApiError> {
    let Some(u) = get(tx, USERS, user)? else {
        return Ok(Vec::new());
    };
    let mut docs = entity_documents(tx, &u, "UserPolicyList")?;
    for g in u["GroupList"].as_array().into_iter().flatten() {
        if let Some(group) = get(tx, GROUPS, g.as_str().unwrap_or(""))? {
            docs.extend(entity_documents(tx, &group, "GroupPolicyList")?);
        }
    }
    Ok(docs)
}

/// Every identity-policy document of a role.
pub fn role_documents(tx: &Tx<'_>, role: &str) -> Result<Vec<String>, ApiError> {
    match get(tx, ROLES, role)? {
        Some(r) => entity_documents(tx, &r, "RolePolicyList"),
        None => Ok(Vec::new()),
    }
}

/// An entity's `Tags` as pairs.
pub fn tags(entity: &Value) -> Vec<(String, String)> {
    entity["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["Key"].as_str().unwrap_or_default().to_string(),
                t["Value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
