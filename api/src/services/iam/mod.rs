//! AWS Identity and Access Management (Query, global partition): users and access keys
//! ([`users`]), groups and roles ([`roles`]), managed and inline policies ([`policies`]).
//! Answers carry IAM's member names; policy documents travel URL-encoded, as IAM sends them.

mod policies;
mod roles;
mod users;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::auth::dates;
use crate::auth::policy::{Policy, PolicyKind};
use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::service::Service;
use crate::store::Store;
use crate::xml::{query_response, XmlWriter};

/// Answers one IAM call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let a = call.action.as_str();
    if let Some(r) = users::handle(store, call, a) {
        return r;
    }
    if let Some(r) = roles::handle(store, call, a) {
        return r;
    }
    if let Some(r) = policies::handle(store, call, a) {
        return r;
    }
    Err(ApiError::invalid_action(a))
}

fn reply(call: &Call, body: Option<String>) -> Result<Reply, ApiError> {
    Ok(Reply::Xml(query_response(
        &call.action,
        Service::Iam.xmlns(),
        &call.request_id,
        body.as_deref(),
    )))
}

fn no_such(message: String) -> ApiError {
    ApiError::with_status("NoSuchEntity", message, 404)
}

fn already_exists(message: String) -> ApiError {
    ApiError::with_status("EntityAlreadyExists", message, 409)
}

fn delete_conflict(message: &str) -> ApiError {
    ApiError::with_status("DeleteConflict", message, 409)
}

/// `DeleteConflict` with `message` while the entity's `field` (its keys, policies, groups) still
/// lists something: IAM deletes only entities nothing hangs on.
fn still_holds(entity: &serde_json::Value, field: &str, message: &str) -> Result<(), ApiError> {
    if entity[field].as_array().is_some_and(|a| !a.is_empty()) {
        return Err(delete_conflict(message));
    }
    Ok(())
}

fn limit_exceeded(message: String) -> ApiError {
    ApiError::with_status("LimitExceeded", message, 409)
}

fn validation(message: String) -> ApiError {
    ApiError::client("ValidationError", message)
}

/// Checks a name parameter against IAM's pattern `[\w+=,.@-]+` and length.
fn name_param<'a>(call: &'a Call, param: &str, max: usize) -> Result<&'a str, ApiError> {
    let v = call.params.require(param)?;
    let ok = !v.is_empty()
        && v.chars().count() <= max
        && v.chars()
            .all(|c| c.is_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        let mut field = param.to_string();
        field[..1].make_ascii_lowercase();
        return Err(validation(format!(
            "1 validation error detected: Value '{v}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length less than or equal to {max}"
        )));
    }
    Ok(v)
}

/// The `Path` parameter (default `/`), which must begin and end with `/`.
fn path_param(call: &Call) -> Result<String, ApiError> {
    let p = call.params.get("Path").unwrap_or("/");
    if !p.starts_with('/') || !p.ends_with('/') || p.len() > 512 {
        return Err(validation(format!(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters. Value: {p}"
        )));
    }
    Ok(p.to_string())
}

/// A policy document parameter, parsed to refuse what IAM refuses, and within its size quota
/// (`(quota name, characters)`; IAM does not count white space).
fn document_param<'a>(
    call: &'a Call,
    param: &str,
    kind: PolicyKind,
    (quota, max): (&str, usize),
) -> Result<&'a str, ApiError> {
    let doc = call.params.require(param)?;
    Policy::parse(doc, kind).map_err(|m| ApiError::client("MalformedPolicyDocument", m))?;
    if doc.chars().filter(|c| !c.is_whitespace()).count() > max {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for {quota}: {max}"
        )));
    }
    Ok(doc)
}

fn iam_arn(call: &Call, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{}:{kind}{path}{name}", call.account)
}

/// The ARN of a stored user, role or group (its path included), or the path-less ARN of one
/// that does not exist, which is what a denial then names.
fn entity_arn(store: &Store, call: &Call, kind: &str, arn_type: &str, name: &str) -> String {
    store
        .read(|tx| crate::auth::entities::get(tx, kind, name))
        .ok()
        .flatten()
        .and_then(|e| e["Arn"].as_str().map(str::to_string))
        .unwrap_or_else(|| iam_arn(call, arn_type, "", name))
}

fn now(call: &Call) -> String {
    dates::iso8601(call.now)
}

/// `Tags.member.N.Key/Value` of a create or tag call.
fn tags_param(call: &Call) -> Vec<Value> {
    call.params
        .query_structs("Tags")
        .iter()
        .map(|t| {
            serde_json::json!({
                "Key": t.get("Key").unwrap_or_default(),
                "Value": t.get("Value").unwrap_or_default(),
            })
        })
        .collect()
}

/// Policy documents travel URL-encoded in IAM's answers (botocore decodes them).
const DOC: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode_document(doc: &str) -> String {
    utf8_percent_encode(doc, DOC).to_string()
}

/// Writes the scalar members of `doc` named in `fields`, in that order; `Tags` as a member
/// list; `*Document` members URL-encoded.
fn entity_xml(w: &mut XmlWriter, doc: &Value, fields: &[&str]) {
    for f in fields {
        match (&doc[*f], *f) {
            (Value::Null, _) => {}
            (Value::Array(tags), "Tags") => {
                if !tags.is_empty() {
                    w.element("Tags", |w| {
                        for t in tags {
                            w.element("member", |w| {
                                w.leaf("Key", t["Key"].as_str().unwrap_or_default())
                                    .leaf("Value", t["Value"].as_str().unwrap_or_default());
                            });
                        }
                    });
                }
            }
            (Value::String(s), name) if name.ends_with("Document") => {
                w.leaf(name, encode_document(s));
            }
            (Value::String(s), name) => {
                w.leaf(name, s);
            }
            (Value::Array(_) | Value::Object(_), _) => {}
            (v, name) => {
                w.leaf(name, v);
            }
        }
    }
}

/// One page of `items` after the `Marker`, at most `MaxItems` (1–1000, default 100), with
/// `IsTruncated` and the next `Marker` written after `wrapper`.
fn paged<T>(
    call: &Call,
    items: Vec<T>,
    wrapper: &str,
    mut item: impl FnMut(&mut XmlWriter, &T),
) -> Result<String, ApiError> {
    let max = call.params.int("MaxItems")?.unwrap_or(100);
    if !(1..=1000).contains(&max) {
        return Err(validation(format!(
            "1 validation error detected: Value '{max}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
        )));
    }
    let start = match call.params.get("Marker") {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| validation(format!("Invalid Marker: {m}")))?,
    };
    let end = (start + max as usize).min(items.len());
    let mut w = XmlWriter::new();
    w.element(wrapper, |w| {
        for i in &items[start..end] {
            w.open("member");
            item(w, i);
            w.close("member");
        }
    });
    w.leaf("IsTruncated", end < items.len());
    if end < items.len() {
        w.leaf("Marker", end);
    }
    Ok(w.finish())
}

#[cfg(test)]
pub(crate) mod tests;
