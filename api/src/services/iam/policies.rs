//! Managed policies (the account's own and AWS's), their versions and attachments, and inline
//! policies of users, roles and groups.

use serde_json::{json, Value};

use super::*;
use crate::auth::entities::{self, key, GROUPS, POLICIES, ROLES, USERS};
use crate::auth::managed::{self, AWS_MANAGED};
use crate::ids;
use crate::store::{Tx, GLOBAL};

const POLICY_FIELDS: &[&str] = &[
    "PolicyName",
    "PolicyId",
    "Arn",
    "Path",
    "DefaultVersionId",
    "AttachmentCount",
    "PermissionsBoundaryUsageCount",
    "IsAttachable",
    "Description",
    "CreateDate",
    "UpdateDate",
    "Tags",
];

/// Which entity an attach or inline-policy call is about.
struct Target {
    kind: &'static str,
    param: &'static str,
    noun: &'static str,
    arn_type: &'static str,
    inline_list: &'static str,
    /// IAM's size quota of an inline policy of this kind of entity.
    inline_quota: (&'static str, usize),
}

const USER: Target = Target {
    kind: USERS,
    param: "UserName",
    noun: "user",
    arn_type: "user/",
    inline_list: "UserPolicyList",
    inline_quota: ("UserPolicySize", 2048),
};
const ROLE: Target = Target {
    kind: ROLES,
    param: "RoleName",
    noun: "role",
    arn_type: "role/",
    inline_list: "RolePolicyList",
    inline_quota: ("RolePolicySize", 10240),
};
const GROUP: Target = Target {
    kind: GROUPS,
    param: "GroupName",
    noun: "group",
    arn_type: "group/",
    inline_list: "GroupPolicyList",
    inline_quota: ("GroupPolicySize", 5120),
};

pub(super) fn handle(store: &Store, call: &Call, action: &str) -> Option<Result<Reply, ApiError>> {
    Some(match action {
        "CreatePolicy" => create_policy(store, call),
        "GetPolicy" => get_policy(store, call),
        "GetPolicyVersion" => get_policy_version(store, call),
        "ListPolicies" => list_policies(store, call),
        "DeletePolicy" => delete_policy(store, call),
        "CreatePolicyVersion" => create_policy_version(store, call),
        "DeletePolicyVersion" => delete_policy_version(store, call),
        "AttachUserPolicy" => attach(store, call, &USER, true),
        "DetachUserPolicy" => attach(store, call, &USER, false),
        "AttachRolePolicy" => attach(store, call, &ROLE, true),
        "DetachRolePolicy" => attach(store, call, &ROLE, false),
        "AttachGroupPolicy" => attach(store, call, &GROUP, true),
        "DetachGroupPolicy" => attach(store, call, &GROUP, false),
        "ListAttachedUserPolicies" => list_attached(store, call, &USER),
        "ListAttachedRolePolicies" => list_attached(store, call, &ROLE),
        "ListAttachedGroupPolicies" => list_attached(store, call, &GROUP),
        "PutUserPolicy" => put_inline(store, call, &USER),
        "PutRolePolicy" => put_inline(store, call, &ROLE),
        "PutGroupPolicy" => put_inline(store, call, &GROUP),
        "GetUserPolicy" => get_inline(store, call, &USER),
        "GetRolePolicy" => get_inline(store, call, &ROLE),
        "GetGroupPolicy" => get_inline(store, call, &GROUP),
        "DeleteUserPolicy" => delete_inline(store, call, &USER),
        "DeleteRolePolicy" => delete_inline(store, call, &ROLE),
        "DeleteGroupPolicy" => delete_inline(store, call, &GROUP),
        "ListUserPolicies" => list_inline(store, call, &USER),
        "ListRolePolicies" => list_inline(store, call, &ROLE),
        "ListGroupPolicies" => list_inline(store, call, &GROUP),
        _ => return None,
    })
}

fn no_such_policy(arn: &str) -> ApiError {
    no_such(format!("Policy {arn} does not exist or is not attachable."))
}

/// An AWS managed policy as IAM describes it.
fn aws_policy(name: &str, desc: &str) -> Value {
    json!({
        "PolicyName": name, "PolicyId": format!("ANPA{}", &sigv4_id(name)), "Arn": managed::arn(name),
        "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 0,
        "PermissionsBoundaryUsageCount": 0, "IsAttachable": true, "Description": desc,
        "CreateDate": "2015-02-06T18:39:46Z", "UpdateDate": "2015-02-06T18:39:46Z",
    })
}

/// A stable 16-character id for a built-in policy name.
fn sigv4_id(name: &str) -> String {
    crate::auth::sigv4::sha256_hex(name.as_bytes())[..16].to_ascii_uppercase()
}

/// The policy with this ARN (AWS managed or the account's), or `NoSuchEntity`.
fn load_policy(tx: &Tx<'_>, arn: &str) -> Result<Value, ApiError> {
    if let Some((name, desc, doc)) = AWS_MANAGED.iter().find(|(n, _, _)| managed::arn(n) == arn) {
        let mut p = aws_policy(name, desc);
        p["PolicyVersionList"] = json!([{"Document": doc, "VersionId": "v1", "IsDefaultVersion": true, "CreateDate": "2015-02-06T18:39:46Z"}]);
        return Ok(p);
    }
    tx.get(GLOBAL, POLICIES, arn)?
        .ok_or_else(|| no_such_policy(arn))
}

fn create_policy(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let name = name_param(call, "PolicyName", 128)?.to_string();
    let path = path_param(call)?;
    let doc = document_param(
        call,
        "PolicyDocument",
        PolicyKind::Identity,
        ("PolicySize", 6144),
    )?
    .to_string();
    let arn = iam_arn(call, "policy", &path, &name);
    call.authorize(std::slice::from_ref(&arn), &[])?;
    let t = now(call);
    let policy = json!({
        "PolicyName": name, "PolicyId": ids::unique_id("ANPA"), "Arn": arn, "Path": path,
        "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": true, "Description": call.params.get("Description"),
        "CreateDate": t, "UpdateDate": t, "Tags": tags_param(call),
        "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": true, "CreateDate": t}],
    });
    store.write(|tx| {
        if tx.get(GLOBAL, POLICIES, &arn)?.is_some() {
            return Err(already_exists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )));
        }
        tx.put(GLOBAL, POLICIES, &arn, &policy)
    })?;
    let mut w = XmlWriter::new();
    w.element("Policy", |w| entity_xml(w, &policy, POLICY_FIELDS));
    reply(call, Some(w.finish()))
}

fn get_policy(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let arn = call.params.require("PolicyArn")?.to_string();
    call.authorize(std::slice::from_ref(&arn), &[])?;
    let p = store.read(|tx| load_policy(tx, &arn))?;
    let mut w = XmlWriter::new();
    w.element("Policy", |w| entity_xml(w, &p, POLICY_FIELDS));
    reply(call, Some(w.finish()))
}

fn get_policy_version(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let arn = call.params.require("PolicyArn")?.to_string();
    let version = call.params.require("VersionId")?.to_string();
    call.authorize(std::slice::from_ref(&arn), &[])?;
    let p = store.read(|tx| load_policy(tx, &arn))?;
    let v = p["PolicyVersionList"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["VersionId"] == version.as_str())
        .cloned()
        .ok_or_else(|| {
            no_such(format!(
                "Policy {arn} version {version} does not exist or is not attachable."
            ))
        })?;
    let mut w = XmlWriter::new();
    w.element("PolicyVersion", |w| {
        entity_xml(
            w,
            &v,
            &["Document", "VersionId", "IsDefaultVersion", "CreateDate"],
        )
    });
    reply(call, Some(w.finish()))
}

fn list_policies(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    call.authorize(&[iam_arn(call, "policy/", "", "")], &[])?;
    let scope = call.params.get("Scope").unwrap_or("All");
    let only_attached = call.params.bool("OnlyAttached")?.unwrap_or(false);
    let prefix = call.params.get("PathPrefix").unwrap_or("/");
    let mut all: Vec<Value> = Vec::new();
    if scope != "Local" {
        all.extend(AWS_MANAGED.iter().map(|(n, d, _)| aws_policy(n, d)));
    }
    if scope != "AWS" {
        all.extend(store.read(|tx| tx.list(GLOBAL, POLICIES))?);
    }
    all.retain(|p| {
        p["Path"].as_str().unwrap_or("/").starts_with(prefix)
            && (!only_attached || p["AttachmentCount"].as_u64().unwrap_or(0) > 0)
    });
    let body = paged(call, all, "Policies", |w, p| {
        entity_xml(w, p, POLICY_FIELDS)
    })?;
    reply(call, Some(body))
}

fn delete_policy(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let arn = call.params.require("PolicyArn")?.to_string();
    call.authorize(std::slice::from_ref(&arn), &[])?;
    store.write(|tx| {
        let p = tx.get(GLOBAL, POLICIES, &arn)?.ok_or_else(|| no_such_policy(&arn))?;
        if p["AttachmentCount"].as_u64().unwrap_or(0) > 0 {
            return Err(delete_conflict("Cannot delete a policy attached to entities."));
        }
        if p["PolicyVersionList"].as_array().is_some_and(|v| v.len() > 1) {
            return Err(delete_conflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy."));
        }
        tx.delete(GLOBAL, POLICIES, &arn)
    })?;
    reply(call, None)
}

fn create_policy_version(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let arn = call.params.require("PolicyArn")?.to_string();
    let doc = document_param(
        call,
        "PolicyDocument",
        PolicyKind::Identity,
        ("PolicySize", 6144),
    )?
    .to_string();
    let default = call.params.bool("SetAsDefault")?.unwrap_or(false);
    call.authorize(std::slice::from_ref(&arn), &[])?;
    let t = now(call);
    let version = store.write(|tx| {
        let mut p = tx.get(GLOBAL, POLICIES, &arn)?.ok_or_else(|| no_such_policy(&arn))?;
        let list = p["PolicyVersionList"].as_array_mut().ok_or_else(|| ApiError::internal("policy without versions"))?;
        if list.len() >= 5 {
            return Err(limit_exceeded(format!("A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version. Policy: {arn}")));
        }
        let next = list
            .iter()
            .filter_map(|v| v["VersionId"].as_str()?.strip_prefix('v')?.parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let id = format!("v{next}");
        if default {
            for v in list.iter_mut() {
                v["IsDefaultVersion"] = Value::Bool(false);
            }
        }
        let version = json!({"Document": doc, "VersionId": id, "IsDefaultVersion": default, "CreateDate": t});
        list.push(version.clone());
        if default {
            p["DefaultVersionId"] = Value::String(id);
        }
        p["UpdateDate"] = Value::String(t.clone());
        tx.put(GLOBAL, POLICIES, &arn, &p)?;
        Ok(version)
    })?;
    let mut w = XmlWriter::new();
    w.element("PolicyVersion", |w| {
        entity_xml(
            w,
            &version,
            &["VersionId", "IsDefaultVersion", "CreateDate"],
        )
    });
    reply(call, Some(w.finish()))
}

fn delete_policy_version(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let arn = call.params.require("PolicyArn")?.to_string();
    let version = call.params.require("VersionId")?.to_string();
    call.authorize(std::slice::from_ref(&arn), &[])?;
    store.write(|tx| {
        let mut p = tx
            .get(GLOBAL, POLICIES, &arn)?
            .ok_or_else(|| no_such_policy(&arn))?;
        if p["DefaultVersionId"] == version.as_str() {
            return Err(delete_conflict(
                "Cannot delete the default version of a policy.",
            ));
        }
        let list = p["PolicyVersionList"]
            .as_array_mut()
            .ok_or_else(|| ApiError::internal("policy without versions"))?;
        let before = list.len();
        list.retain(|v| v["VersionId"] != version.as_str());
        if list.len() == before {
            return Err(no_such(format!(
                "Policy {arn} version {version} does not exist or is not attachable."
            )));
        }
        tx.put(GLOBAL, POLICIES, &arn, &p)
    })?;
    reply(call, None)
}

fn load_target(tx: &Tx<'_>, t: &Target, name: &str) -> Result<Value, ApiError> {
    entities::get(tx, t.kind, name)?
        .ok_or_else(|| no_such(format!("The {} with name {name} cannot be found.", t.noun)))
}

fn attach(store: &Store, call: &Call, t: &Target, on: bool) -> Result<Reply, ApiError> {
    let name = call.params.require(t.param)?.to_string();
    let arn = call.params.require("PolicyArn")?.to_string();
    call.authorize(
        &[entity_arn(store, call, t.kind, t.arn_type, &name)],
        &[("iam:PolicyARN".into(), vec![arn.clone()])],
    )?;
    store.write(|tx| {
        let mut e = load_target(tx, t, &name)?;
        let mut policy = load_policy(tx, &arn)?;
        let list = match e["AttachedManagedPolicies"].as_array_mut() {
            Some(l) => l,
            None => {
                e["AttachedManagedPolicies"] = json!([]);
                e["AttachedManagedPolicies"]
                    .as_array_mut()
                    .expect("just set")
            }
        };
        let had = list.iter().any(|a| a["PolicyArn"] == arn.as_str());
        let delta: i64 = match (on, had) {
            (true, false) => {
                list.push(json!({"PolicyName": policy["PolicyName"], "PolicyArn": arn}));
                1
            }
            (false, true) => {
                list.retain(|a| a["PolicyArn"] != arn.as_str());
                -1
            }
            (false, false) => {
                return Err(no_such(format!("Policy {arn} was not found.")));
            }
            (true, true) => 0,
        };
        tx.put(GLOBAL, t.kind, &key(&name), &e)?;
        if delta != 0 && tx.get(GLOBAL, POLICIES, &arn)?.is_some() {
            let n = policy["AttachmentCount"].as_i64().unwrap_or(0) + delta;
            policy["AttachmentCount"] = json!(n.max(0));
            tx.put(GLOBAL, POLICIES, &arn, &policy)?;
        }
        Ok(())
    })?;
    reply(call, None)
}

fn list_attached(store: &Store, call: &Call, t: &Target) -> Result<Reply, ApiError> {
    let name = call.params.require(t.param)?.to_string();
    call.authorize(&[entity_arn(store, call, t.kind, t.arn_type, &name)], &[])?;
    let e = store.read(|tx| load_target(tx, t, &name))?;
    let list: Vec<Value> = e["AttachedManagedPolicies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let body = paged(call, list, "AttachedPolicies", |w, a| {
        entity_xml(w, a, &["PolicyName", "PolicyArn"])
    })?;
    reply(call, Some(body))
}

fn put_inline(store: &Store, call: &Call, t: &Target) -> Result<Reply, ApiError> {
    let name = call.params.require(t.param)?.to_string();
    let policy = name_param(call, "PolicyName", 128)?.to_string();
    let doc =
        document_param(call, "PolicyDocument", PolicyKind::Identity, t.inline_quota)?.to_string();
    call.authorize(&[entity_arn(store, call, t.kind, t.arn_type, &name)], &[])?;
    store.write(|tx| {
        let mut e = load_target(tx, t, &name)?;
        let mut list: Vec<Value> = e[t.inline_list].as_array().cloned().unwrap_or_default();
        list.retain(|p| p["PolicyName"] != policy.as_str());
        list.push(json!({"PolicyName": policy, "PolicyDocument": doc}));
        e[t.inline_list] = Value::Array(list);
        tx.put(GLOBAL, t.kind, &key(&name), &e)
    })?;
    reply(call, None)
}

fn find_inline(e: &Value, t: &Target, policy: &str) -> Result<Value, ApiError> {
    e[t.inline_list]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["PolicyName"] == policy)
        .cloned()
        .ok_or_else(|| {
            no_such(format!(
                "The {} policy with name {policy} cannot be found.",
                t.noun
            ))
        })
}

fn get_inline(store: &Store, call: &Call, t: &Target) -> Result<Reply, ApiError> {
    let name = call.params.require(t.param)?.to_string();
    let policy = call.params.require("PolicyName")?.to_string();
    call.authorize(&[entity_arn(store, call, t.kind, t.arn_type, &name)], &[])?;
    let e = store.read(|tx| load_target(tx, t, &name))?;
    let p = find_inline(&e, t, &policy)?;
    let mut w = XmlWriter::new();
    w.leaf(t.param, e[t.param].as_str().unwrap_or(&name))
        .leaf("PolicyName", &policy)
        .leaf(
            "PolicyDocument",
            encode_document(p["PolicyDocument"].as_str().unwrap_or("")),
        );
    reply(call, Some(w.finish()))
}

fn delete_inline(store: &Store, call: &Call, t: &Target) -> Result<Reply, ApiError> {
    let name = call.params.require(t.param)?.to_string();
    let policy = call.params.require("PolicyName")?.to_string();
    call.authorize(&[entity_arn(store, call, t.kind, t.arn_type, &name)], &[])?;
    store.write(|tx| {
        let mut e = load_target(tx, t, &name)?;
        find_inline(&e, t, &policy)?;
        if let Some(list) = e[t.inline_list].as_array_mut() {
            list.retain(|p| p["PolicyName"] != policy.as_str());
        }
        tx.put(GLOBAL, t.kind, &key(&name), &e)
    })?;
    reply(call, None)
}

fn list_inline(store: &Store, call: &Call, t: &Target) -> Result<Reply, ApiError> {
    let name = call.params.require(t.param)?.to_string();
    call.authorize(&[entity_arn(store, call, t.kind, t.arn_type, &name)], &[])?;
    let e = store.read(|tx| load_target(tx, t, &name))?;
    let names: Vec<String> = e[t.inline_list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["PolicyName"].as_str().map(str::to_string))
        .collect();
    let body = paged(call, names, "PolicyNames", |w, n| {
        w.raw(&crate::xml::escape(n));
    })?;
    reply(call, Some(body))
}
