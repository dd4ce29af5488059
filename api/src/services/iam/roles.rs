//! IAM roles and their trust policies.

use serde_json::{json, Value};

use super::*;
use crate::auth::entities::{self, key, ROLES};
use crate::ids;
use crate::store::GLOBAL;

const ROLE_FIELDS: &[&str] = &[
    "Path",
    "RoleName",
    "RoleId",
    "Arn",
    "CreateDate",
    "AssumeRolePolicyDocument",
    "Description",
    "MaxSessionDuration",
    "Tags",
];

pub(super) fn handle(store: &Store, call: &Call, action: &str) -> Option<Result<Reply, ApiError>> {
    Some(match action {
        "CreateRole" => create_role(store, call),
        "GetRole" => get_role(store, call),
        "ListRoles" => list_roles(store, call),
        "DeleteRole" => delete_role(store, call),
        "TagRole" => {
            let name = call.params.get("RoleName").unwrap_or_default();
            users::tag_entity(store, call, ROLES, "RoleName", role_arn(store, call, name))
        }
        _ => return None,
    })
}

pub(super) fn role_arn(store: &Store, call: &Call, name: &str) -> String {
    entity_arn(store, call, ROLES, "role/", name)
}

pub(super) fn no_such_role(name: &str) -> ApiError {
    no_such(format!("The role with name {name} cannot be found."))
}

fn create_role(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = name_param(call, "RoleName", 64)?.to_string();
    let path = path_param(call)?;
    let trust = document_param(
        call,
        "AssumeRolePolicyDocument",
        PolicyKind::Trust,
        ("ACLSizePerRole", 2048),
    )?
    .to_string();
    let max = call.params.int("MaxSessionDuration")?.unwrap_or(3600);
    if !(3600..=43200).contains(&max) {
        return Err(validation(format!(
            "1 validation error detected: Value '{max}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200"
        )));
    }
    let arn = iam_arn(call, "role", &path, &name);
    call.authorize(std::slice::from_ref(&arn), &[])?;
    let role = json!({
        "Path": path, "RoleName": name, "RoleId": ids::unique_id("AROA"), "Arn": arn,
        "CreateDate": now(call), "AssumeRolePolicyDocument": trust,
        "Description": call.params.get("Description"), "MaxSessionDuration": max,
        "Tags": tags_param(call), "RolePolicyList": [], "AttachedManagedPolicies": [],
    });
    store.write(|tx| {
        if entities::get(tx, ROLES, &name)?.is_some() {
            return Err(already_exists(format!(
                "Role with name {name} already exists."
            )));
        }
        tx.put(GLOBAL, ROLES, &key(&name), &role)
    })?;
    let mut w = XmlWriter::new();
    w.element("Role", |w| entity_xml(w, &role, ROLE_FIELDS));
    reply(call, Some(w.finish()))
}

fn get_role(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = call.params.require("RoleName")?.to_string();
    call.authorize(&[role_arn(store, call, &name)], &[])?;
    let role = store
        .read(|tx| entities::get(tx, ROLES, &name))?
        .ok_or_else(|| no_such_role(&name))?;
    let mut w = XmlWriter::new();
    w.element("Role", |w| entity_xml(w, &role, ROLE_FIELDS));
    reply(call, Some(w.finish()))
}

fn list_roles(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    call.authorize(&[iam_arn(call, "role/", "", "")], &[])?;
    let prefix = call.params.get("PathPrefix").unwrap_or("/");
    let roles: Vec<Value> = store
        .read(|tx| tx.list(GLOBAL, ROLES))?
        .into_iter()
        .filter(|r| r["Path"].as_str().unwrap_or("/").starts_with(prefix))
        .collect();
    let body = paged(call, roles, "Roles", |w, r| entity_xml(w, r, ROLE_FIELDS))?;
    reply(call, Some(body))
}

fn delete_role(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = call.params.require("RoleName")?.to_string();
    call.authorize(&[role_arn(store, call, &name)], &[])?;
    store.write(|tx| {
        let role = entities::get(tx, ROLES, &name)?.ok_or_else(|| no_such_role(&name))?;
        still_holds(
            &role,
            "RolePolicyList",
            "Cannot delete entity, must delete policies first.",
        )?;
        still_holds(
            &role,
            "AttachedManagedPolicies",
            "Cannot delete entity, must detach all policies first.",
        )?;
        tx.delete(GLOBAL, ROLES, &key(&name))
    })?;
    reply(call, None)
}
