//! IAM users, their access keys, and groups.

use serde_json::{json, Value};

use super::*;
use crate::auth::entities::{self, key, ACCESS_KEYS, GROUPS, USERS};
use crate::call::CallerKind;
use crate::ids;
use crate::store::GLOBAL;

const USER_FIELDS: &[&str] = &["Path", "UserName", "UserId", "Arn", "CreateDate", "Tags"];
const GROUP_FIELDS: &[&str] = &["Path", "GroupName", "GroupId", "Arn", "CreateDate"];
const KEY_FIELDS: &[&str] = &["UserName", "AccessKeyId", "Status", "CreateDate"];

pub(super) fn handle(store: &Store, call: &Call, action: &str) -> Option<Result<Reply, ApiError>> {
    Some(match action {
        "CreateUser" => create_user(store, call),
        "GetUser" => get_user(store, call),
        "ListUsers" => list_users(store, call),
        "DeleteUser" => delete_user(store, call),
        "TagUser" => tag_user(store, call),
        "CreateAccessKey" => create_access_key(store, call),
        "ListAccessKeys" => list_access_keys(store, call),
        "DeleteAccessKey" => delete_access_key(store, call),
        "UpdateAccessKey" => update_access_key(store, call),
        "CreateGroup" => create_group(store, call),
        "AddUserToGroup" => add_user_to_group(store, call),
        "ListGroupsForUser" => list_groups_for_user(store, call),
        "RemoveUserFromGroup" => remove_user_from_group(store, call),
        "DeleteGroup" => delete_group(store, call),
        _ => return None,
    })
}

pub(super) fn no_such_user(name: &str) -> ApiError {
    no_such(format!("The user with name {name} cannot be found."))
}

pub(super) fn user_arn(store: &Store, call: &Call, name: &str) -> String {
    entity_arn(store, call, USERS, "user/", name)
}

/// The stored user, or `NoSuchEntity`.
pub(super) fn load_user(tx: &crate::store::Tx<'_>, name: &str) -> Result<Value, ApiError> {
    entities::get(tx, USERS, name)?.ok_or_else(|| no_such_user(name))
}

fn create_user(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = name_param(call, "UserName", 64)?.to_string();
    let path = path_param(call)?;
    let arn = iam_arn(call, "user", &path, &name);
    call.authorize(std::slice::from_ref(&arn), &[])?;
    let user = json!({
        "Path": path, "UserName": name, "UserId": ids::unique_id("AIDA"), "Arn": arn,
        "CreateDate": now(call), "Tags": tags_param(call),
        "UserPolicyList": [], "AttachedManagedPolicies": [], "GroupList": [],
    });
    store.write(|tx| {
        if entities::get(tx, USERS, &name)?.is_some() {
            return Err(already_exists(format!(
                "User with name {name} already exists."
            )));
        }
        tx.put(GLOBAL, USERS, &key(&name), &user)
    })?;
    let mut w = XmlWriter::new();
    w.element("User", |w| entity_xml(w, &user, USER_FIELDS));
    reply(call, Some(w.finish()))
}

fn get_user(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = match (call.params.get("UserName"), &call.caller.kind) {
        (Some(n), _) => n.to_string(),
        (None, CallerKind::IamUser { name }) => name.clone(),
        (None, _) => {
            // The root user describes itself.
            call.authorize(std::slice::from_ref(&call.caller.arn), &[])?;
            let mut w = XmlWriter::new();
            w.element("User", |w| {
                w.leaf("UserId", &call.account)
                    .leaf("Arn", &call.caller.arn)
                    .leaf("CreateDate", dates::iso8601(std::time::UNIX_EPOCH));
            });
            return reply(call, Some(w.finish()));
        }
    };
    call.authorize(&[user_arn(store, call, &name)], &[])?;
    let user = store.read(|tx| load_user(tx, &name))?;
    let mut w = XmlWriter::new();
    w.element("User", |w| entity_xml(w, &user, USER_FIELDS));
    reply(call, Some(w.finish()))
}

fn list_users(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    call.authorize(&[iam_arn(call, "user/", "", "")], &[])?;
    let prefix = call.params.get("PathPrefix").unwrap_or("/");
    let users: Vec<Value> = store
        .read(|tx| tx.list(GLOBAL, USERS))?
        .into_iter()
        .filter(|u| u["Path"].as_str().unwrap_or("/").starts_with(prefix))
        .collect();
    let body = paged(call, users, "Users", |w, u| {
        entity_xml(w, u, &USER_FIELDS[..5])
    })?;
    reply(call, Some(body))
}

fn delete_user(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = call.params.require("UserName")?.to_string();
    call.authorize(&[user_arn(store, call, &name)], &[])?;
    store.write(|tx| {
        let user = load_user(tx, &name)?;
        let keys = tx.list(GLOBAL, ACCESS_KEYS)?;
        let lower = key(&name);
        if keys
            .iter()
            .any(|k| k["UserName"].as_str().map(key) == Some(lower.clone()))
        {
            return Err(delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        still_holds(
            &user,
            "UserPolicyList",
            "Cannot delete entity, must delete policies first.",
        )?;
        still_holds(
            &user,
            "AttachedManagedPolicies",
            "Cannot delete entity, must detach all policies first.",
        )?;
        still_holds(
            &user,
            "GroupList",
            "Cannot delete entity, must remove users from group first.",
        )?;
        tx.delete(GLOBAL, USERS, &lower)
    })?;
    reply(call, None)
}

/// Adds or replaces tags on a user or role (`TagUser`, `TagRole`).
pub(super) fn tag_entity(
    store: &Store,
    call: &Call,
    kind: &str,
    param: &str,
    arn: String,
) -> Result<Reply, ApiError> {
    let name = call.params.require(param)?.to_string();
    call.authorize(&[arn], &[])?;
    let new = tags_param(call);
    store.write(|tx| {
        let mut e = entities::get(tx, kind, &name)?.ok_or_else(|| {
            no_such(format!(
                "The {} with name {name} cannot be found.",
                if kind == USERS { "user" } else { "role" }
            ))
        })?;
        let mut tags: Vec<Value> = e["Tags"].as_array().cloned().unwrap_or_default();
        for t in new {
            tags.retain(|o| o["Key"] != t["Key"]);
            tags.push(t);
        }
        if tags.len() > 50 {
            return Err(limit_exceeded(
                "The number of tags has reached the maximum limit.".into(),
            ));
        }
        e["Tags"] = Value::Array(tags);
        tx.put(GLOBAL, kind, &key(&name), &e)
    })?;
    reply(call, None)
}

fn tag_user(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = call.params.require("UserName")?;
    tag_entity(store, call, USERS, "UserName", user_arn(store, call, name))
}

/// The user an access-key call is about: `UserName`, else the calling user.
fn key_owner(call: &Call) -> Result<String, ApiError> {
    match (call.params.get("UserName"), &call.caller.kind) {
        (Some(n), _) => Ok(n.to_string()),
        (None, CallerKind::IamUser { name }) => Ok(name.clone()),
        _ => Err(ApiError::missing_parameter("UserName")),
    }
}

fn create_access_key(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = key_owner(call)?;
    call.authorize(&[user_arn(store, call, &name)], &[])?;
    let doc = store.write(|tx| {
        let user = load_user(tx, &name)?;
        let real = user["UserName"].as_str().unwrap_or(&name).to_string();
        let owned = tx
            .list(GLOBAL, ACCESS_KEYS)?
            .iter()
            .filter(|k| k["UserName"] == real.as_str())
            .count();
        if owned >= 2 {
            return Err(limit_exceeded(
                "Cannot exceed quota for AccessKeysPerUser: 2".into(),
            ));
        }
        let id = ids::unique_id("AKIA");
        let doc = json!({
            "UserName": real, "AccessKeyId": id, "Status": "Active",
            "SecretAccessKey": ids::secret_key(), "CreateDate": now(call),
        });
        tx.put(GLOBAL, ACCESS_KEYS, &id, &doc)?;
        Ok(doc)
    })?;
    let mut w = XmlWriter::new();
    w.element("AccessKey", |w| {
        entity_xml(
            w,
            &doc,
            &[
                "UserName",
                "AccessKeyId",
                "Status",
                "SecretAccessKey",
                "CreateDate",
            ],
        )
    });
    reply(call, Some(w.finish()))
}

fn list_access_keys(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = key_owner(call)?;
    call.authorize(&[user_arn(store, call, &name)], &[])?;
    let keys: Vec<Value> = store.read(|tx| {
        let user = load_user(tx, &name)?;
        Ok(tx
            .list(GLOBAL, ACCESS_KEYS)?
            .into_iter()
            .filter(|k| k["UserName"] == user["UserName"])
            .collect())
    })?;
    let body = paged(call, keys, "AccessKeyMetadata", |w, k| {
        entity_xml(w, k, KEY_FIELDS)
    })?;
    reply(call, Some(body))
}

/// The stored access key of `user`, or `NoSuchEntity`.
fn owned_key(tx: &crate::store::Tx<'_>, user: &str, id: &str) -> Result<Value, ApiError> {
    let user = load_user(tx, user)?;
    tx.get(GLOBAL, ACCESS_KEYS, id)?
        .filter(|k| k["UserName"] == user["UserName"])
        .ok_or_else(|| no_such(format!("The Access Key with id {id} cannot be found.")))
}

fn delete_access_key(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = key_owner(call)?;
    let id = call.params.require("AccessKeyId")?.to_string();
    call.authorize(&[user_arn(store, call, &name)], &[])?;
    store.write(|tx| {
        owned_key(tx, &name, &id)?;
        tx.delete(GLOBAL, ACCESS_KEYS, &id)
    })?;
    reply(call, None)
}

fn update_access_key(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = key_owner(call)?;
    let id = call.params.require("AccessKeyId")?.to_string();
    let status = call.params.require("Status")?.to_string();
    if status != "Active" && status != "Inactive" {
        return Err(validation(format!(
            "1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
        )));
    }
    call.authorize(&[user_arn(store, call, &name)], &[])?;
    store.write(|tx| {
        let mut k = owned_key(tx, &name, &id)?;
        k["Status"] = Value::String(status.clone());
        tx.put(GLOBAL, ACCESS_KEYS, &id, &k)
    })?;
    reply(call, None)
}

fn create_group(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = name_param(call, "GroupName", 128)?.to_string();
    let path = path_param(call)?;
    let arn = iam_arn(call, "group", &path, &name);
    call.authorize(std::slice::from_ref(&arn), &[])?;
    let group = json!({
        "Path": path, "GroupName": name, "GroupId": ids::unique_id("AGPA"), "Arn": arn,
        "CreateDate": now(call), "GroupPolicyList": [], "AttachedManagedPolicies": [],
    });
    store.write(|tx| {
        if entities::get(tx, GROUPS, &name)?.is_some() {
            return Err(already_exists(format!(
                "Group with name {name} already exists."
            )));
        }
        tx.put(GLOBAL, GROUPS, &key(&name), &group)
    })?;
    let mut w = XmlWriter::new();
    w.element("Group", |w| entity_xml(w, &group, GROUP_FIELDS));
    reply(call, Some(w.finish()))
}

fn add_user_to_group(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let group = call.params.require("GroupName")?.to_string();
    let user = call.params.require("UserName")?.to_string();
    call.authorize(&[entity_arn(store, call, GROUPS, "group/", &group)], &[])?;
    store.write(|tx| {
        let g = entities::get(tx, GROUPS, &group)?
            .ok_or_else(|| no_such(format!("The group with name {group} cannot be found.")))?;
        let mut u = load_user(tx, &user)?;
        let real = g["GroupName"].clone();
        let list = u["GroupList"].as_array_mut();
        match list {
            Some(l) if !l.contains(&real) => l.push(real),
            Some(_) => {}
            None => u["GroupList"] = json!([real]),
        }
        tx.put(GLOBAL, USERS, &key(&user), &u)
    })?;
    reply(call, None)
}

fn list_groups_for_user(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = call.params.require("UserName")?.to_string();
    call.authorize(&[user_arn(store, call, &name)], &[])?;
    let groups: Vec<Value> = store.read(|tx| {
        let u = load_user(tx, &name)?;
        let mut out = Vec::new();
        for g in u["GroupList"].as_array().into_iter().flatten() {
            if let Some(group) = entities::get(tx, GROUPS, g.as_str().unwrap_or(""))? {
                out.push(group);
            }
        }
        Ok(out)
    })?;
    let body = paged(call, groups, "Groups", |w, g| {
        entity_xml(w, g, GROUP_FIELDS)
    })?;
    reply(call, Some(body))
}

fn remove_user_from_group(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let group = call.params.require("GroupName")?.to_string();
    let user = call.params.require("UserName")?.to_string();
    call.authorize(&[entity_arn(store, call, GROUPS, "group/", &group)], &[])?;
    store.write(|tx| {
        let g = entities::get(tx, GROUPS, &group)?
            .ok_or_else(|| no_such(format!("The group with name {group} cannot be found.")))?;
        let mut u = load_user(tx, &user)?;
        let list = u["GroupList"].as_array_mut();
        match list {
            Some(l) if l.contains(&g["GroupName"]) => l.retain(|n| *n != g["GroupName"]),
            _ => {
                return Err(no_such(format!(
                    "The user with name {user} cannot be found in group {group}."
                )))
            }
        }
        tx.put(GLOBAL, USERS, &key(&user), &u)
    })?;
    reply(call, None)
}

fn delete_group(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let group = call.params.require("GroupName")?.to_string();
    call.authorize(&[entity_arn(store, call, GROUPS, "group/", &group)], &[])?;
    store.write(|tx| {
        let g = entities::get(tx, GROUPS, &group)?
            .ok_or_else(|| no_such(format!("The group with name {group} cannot be found.")))?;
        let members = tx.list(GLOBAL, USERS)?;
        if members.iter().any(|u| {
            u["GroupList"]
                .as_array()
                .is_some_and(|l| l.contains(&g["GroupName"]))
        }) {
            return Err(delete_conflict(
                "Cannot delete entity, must remove users from group first.",
            ));
        }
        still_holds(
            &g,
            "GroupPolicyList",
            "Cannot delete entity, must delete policies first.",
        )?;
        still_holds(
            &g,
            "AttachedManagedPolicies",
            "Cannot delete entity, must detach all policies first.",
        )?;
        tx.delete(GLOBAL, GROUPS, &key(&group))
    })?;
    reply(call, None)
}
