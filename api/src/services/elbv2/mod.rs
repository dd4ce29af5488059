//! Elastic Load Balancing v2 (Query protocol, SPEC.md §22.4 and §11): load balancers, target
//! groups and their targets, listeners, rules, attributes and tags.
//!
//! Everything is stored in the region's partition in the shapes `aws elbv2 describe-*` prints and
//! the snapshot loader reads — `LoadBalancers`, `TargetGroups`, `Listeners` (one document per
//! listener), `LoadBalancerAttributes` and `TargetGroupAttributes` (wrapped with their ARN),
//! `LoadBalancerTargetHealth` (the registered targets, wrapped with the group's ARN) — plus the
//! node interfaces of each load balancer in `NetworkInterfaces`, so the region's data plane
//! compiled from the partition has them at once. Rules (`Rules`) are kept for the API alone.
//! Tags live in each resource's document (`Tags`), where the loader reads names from; the
//! describe answers leave them out, as AWS's do.
//!
//! Target health is the data plane's to compute: [`handle_with`] takes a [`TargetHealthSource`].

mod listeners;
mod load_balancers;
mod nodes;
mod rules;
mod target_groups;

use std::time::SystemTime;

use serde_json::{json, Value};

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::service::Service;
use crate::services::query_form::{self, int_of, list_of, str_of, strings_of};
use crate::store::{Store, Tx};
use crate::xml::{query_response, XmlWriter};

pub use target_groups::{TargetHealth, TargetHealthSource};

/// Store kinds (the describe outputs' top-level keys, as the snapshot loader reads them).
pub(crate) const LOAD_BALANCERS: &str = "LoadBalancers";
pub(crate) const TARGET_GROUPS: &str = "TargetGroups";
pub(crate) const LISTENERS: &str = "Listeners";
pub(crate) const RULES: &str = "Rules";
pub(crate) const LB_ATTRIBUTES: &str = "LoadBalancerAttributes";
pub(crate) const TG_ATTRIBUTES: &str = "TargetGroupAttributes";
pub(crate) const TARGETS: &str = "LoadBalancerTargetHealth";

/// At most this many tags on one resource (ELB quota).
const MAX_TAGS: usize = 50;

/// Health answers when no data plane is attached: `DescribeTargetHealth` fails with AWS's
/// `HealthUnavailable` rather than inventing a state.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDataPlane;

impl TargetHealthSource for NoDataPlane {
    fn target_health(
        &self,
        _region: &str,
        _target_group: &Value,
        _targets: &[Value],
    ) -> Result<Vec<TargetHealth>, ApiError> {
        Err(ApiError::with_status(
            "HealthUnavailable",
            "The health of the specified targets could not be retrieved due to an internal error.",
            500,
        ))
    }
}

/// Answers one ELBv2 call, without a data plane for target health.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    handle_with(store, call, &NoDataPlane)
}

/// Answers one ELBv2 call; `health` answers `DescribeTargetHealth`.
pub fn handle_with(
    store: &Store,
    call: &Call,
    health: &dyn TargetHealthSource,
) -> Result<Reply, ApiError> {
    let input = query_form::to_json(&call.params);
    let cx = Cx {
        call,
        input: &input,
    };
    let out = match call.action.as_str() {
        "CreateLoadBalancer" => load_balancers::create(store, &cx)?,
        "DescribeLoadBalancers" => load_balancers::describe(store, &cx)?,
        "DeleteLoadBalancer" => load_balancers::delete(store, &cx)?,
        "DescribeLoadBalancerAttributes" => load_balancers::describe_attributes(store, &cx)?,
        "ModifyLoadBalancerAttributes" => load_balancers::modify_attributes(store, &cx)?,
        "SetSecurityGroups" => load_balancers::set_security_groups(store, &cx)?,
        "CreateTargetGroup" => target_groups::create(store, &cx)?,
        "DescribeTargetGroups" => target_groups::describe(store, &cx)?,
        "ModifyTargetGroup" => target_groups::modify(store, &cx)?,
        "DeleteTargetGroup" => target_groups::delete(store, &cx)?,
        "DescribeTargetGroupAttributes" => target_groups::describe_attributes(store, &cx)?,
        "ModifyTargetGroupAttributes" => target_groups::modify_attributes(store, &cx)?,
        "RegisterTargets" => target_groups::register(store, &cx)?,
        "DeregisterTargets" => target_groups::deregister(store, &cx)?,
        "DescribeTargetHealth" => target_groups::describe_health(store, &cx, health)?,
        "CreateListener" => listeners::create(store, &cx)?,
        "DescribeListeners" => listeners::describe(store, &cx)?,
        "ModifyListener" => listeners::modify(store, &cx)?,
        "DeleteListener" => listeners::delete(store, &cx)?,
        "CreateRule" => rules::create(store, &cx)?,
        "DescribeRules" => rules::describe(store, &cx)?,
        "ModifyRule" => rules::modify(store, &cx)?,
        "DeleteRule" => rules::delete(store, &cx)?,
        "SetRulePriorities" => rules::set_priorities(store, &cx)?,
        "AddTags" => add_tags(store, &cx)?,
        "RemoveTags" => remove_tags(store, &cx)?,
        "DescribeTags" => describe_tags(store, &cx)?,
        other => return Err(ApiError::invalid_action(other)),
    };
    let body = out.map(|v| {
        let mut w = XmlWriter::new();
        query_form::write_xml(&mut w, &v);
        w.finish()
    });
    Ok(Reply::Xml(query_response(
        &call.action,
        Service::Elbv2.xmlns(),
        &call.request_id,
        body.as_deref(),
    )))
}

/// One call's context: the call and its parameters as JSON.
pub(crate) struct Cx<'a> {
    pub call: &'a Call,
    pub input: &'a Value,
}

impl Cx<'_> {
    pub fn region(&self) -> &str {
        &self.call.region
    }

    pub fn now(&self) -> SystemTime {
        self.call.now
    }

    /// An ELB ARN in this call's region and account.
    pub fn arn(&self, resource: &str) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{}:{}:{resource}",
            self.call.region, self.call.account
        )
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        str_of(self.input, key)
    }

    pub fn require(&self, key: &str) -> Result<&str, ApiError> {
        self.str(key)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::missing_parameter(key))
    }

    pub fn strings(&self, key: &str) -> Vec<String> {
        strings_of(self.input, key)
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        int_of(self.input, key)
    }

    /// `ValidationError` for a value outside its range.
    pub fn range(&self, key: &str, lo: i64, hi: i64) -> Result<Option<i64>, ApiError> {
        match self.int(key)? {
            Some(x) if x < lo || x > hi => Err(validation(format!(
                "1 validation error detected: Value '{x}' at '{}' failed to satisfy constraint: Member must have value between {lo} and {hi}",
                lower_first(key)
            ))),
            x => Ok(x),
        }
    }
}

/// `PageSize` members, at most 400.
const MAX_PAGE: i64 = 400;

/// One page of `items` after `Marker` (an opaque offset), and the next marker.
pub(crate) fn page(
    cx: &Cx<'_>,
    items: Vec<Value>,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let size = cx.range("PageSize", 1, MAX_PAGE)?.unwrap_or(MAX_PAGE) as usize;
    let start = match cx.str("Marker") {
        None | Some("") => 0,
        Some(m) => decode_marker(m).ok_or_else(|| validation("Invalid Marker".into()))?,
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    let next = (start + page.len() < total).then(|| encode_marker(start + page.len()));
    Ok((page, next))
}

fn encode_marker(offset: usize) -> String {
    format!("m{:x}", offset ^ 0x5a5a)
}

fn decode_marker(m: &str) -> Option<usize> {
    usize::from_str_radix(m.strip_prefix('m')?, 16)
        .ok()
        .map(|x| x ^ 0x5a5a)
}

/// A client error with its code.
pub(crate) fn err(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::client(code, message)
}

/// The common `ValidationError`.
pub(crate) fn validation(message: String) -> ApiError {
    err("ValidationError", message)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// 16 lowercase hex digits, the id part of ELB ARNs.
pub(crate) fn hex_id() -> String {
    let n: u64 = rand::random();
    format!("{n:016x}")
}

/// A load balancer or target group name: 1–32 letters, digits and hyphens, not starting or
/// ending with a hyphen.
pub(crate) fn check_name(name: &str, what: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        return Err(validation(format!(
            "{what} name '{name}' can have a maximum of 32 characters, can contain only alphanumeric characters and hyphens, and cannot begin or end with a hyphen"
        )));
    }
    Ok(())
}

/// The `Tags` of a create or `AddTags` call, checked as ELB checks them.
pub(crate) fn request_tags(input: &Value) -> Result<Vec<Value>, ApiError> {
    let mut tags: Vec<Value> = Vec::new();
    for t in list_of(input, "Tags") {
        let key = str_of(t, "Key").unwrap_or_default();
        if key.is_empty() || key.len() > 128 {
            return Err(validation(format!(
                "Tag key '{key}' must be between 1 and 128 characters"
            )));
        }
        if key.starts_with("aws:") {
            return Err(validation(format!(
                "Tag key '{key}' cannot start with the reserved prefix 'aws:'"
            )));
        }
        if tags.iter().any(|x| str_of(x, "Key") == Some(key)) {
            return Err(err(
                "DuplicateTagKeys",
                format!("Tag key '{key}' is duplicated"),
            ));
        }
        let value = str_of(t, "Value").unwrap_or_default();
        tags.push(json!({"Key": key, "Value": value}));
    }
    if tags.len() > MAX_TAGS {
        return Err(err("TooManyTags", "The quota for the number of tags that can be assigned to a load balancer has been reached"));
    }
    Ok(tags)
}

/// A stored document as describe prints it: without the tags kept inside it.
pub(crate) fn without_tags(doc: &Value) -> Value {
    let mut v = doc.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("Tags");
    }
    v
}

/// The kind an ELB ARN names, and the error AWS gives when it does not exist.
fn kind_of_arn(arn: &str) -> Option<(&'static str, ApiError)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let (kind, code, what) = if resource.starts_with("loadbalancer/") {
        (LOAD_BALANCERS, "LoadBalancerNotFound", "Load balancer")
    } else if resource.starts_with("targetgroup/") {
        (TARGET_GROUPS, "TargetGroupNotFound", "Target group")
    } else if resource.starts_with("listener/") {
        (LISTENERS, "ListenerNotFound", "Listener")
    } else if resource.starts_with("listener-rule/") {
        (RULES, "RuleNotFound", "Rule")
    } else {
        return None;
    };
    Some((kind, err(code, format!("{what} '{arn}' not found"))))
}

/// The stored document of any taggable ELB resource.
fn tagged_resource(
    tx: &Tx<'_>,
    region: &str,
    arn: &str,
) -> Result<(&'static str, Value), ApiError> {
    let Some((kind, missing)) = kind_of_arn(arn) else {
        return Err(validation(format!("'{arn}' is not a valid resource ARN")));
    };
    let doc = tx.get(region, kind, arn)?.ok_or(missing)?;
    Ok((kind, doc))
}

fn add_tags(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arns = cx.strings("ResourceArns");
    cx.call.authorize(&arns, &[])?;
    if arns.is_empty() {
        return Err(ApiError::missing_parameter("ResourceArns"));
    }
    let tags = request_tags(cx.input)?;
    store.write(|tx| {
        for arn in &arns {
            let (kind, mut doc) = tagged_resource(tx, cx.region(), arn)?;
            let mut have: Vec<Value> = list_of(&doc, "Tags").to_vec();
            for t in &tags {
                match have.iter_mut().find(|x| x["Key"] == t["Key"]) {
                    Some(x) => *x = t.clone(),
                    None => have.push(t.clone()),
                }
            }
            if have.len() > MAX_TAGS {
                return Err(err("TooManyTags", format!("The quota for the number of tags that can be assigned to '{arn}' has been reached")));
            }
            doc["Tags"] = Value::Array(have);
            tx.put(cx.region(), kind, arn, &doc)?;
        }
        Ok(())
    })?;
    // Names come from tags: the data plane reads them.
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}

fn remove_tags(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arns = cx.strings("ResourceArns");
    cx.call.authorize(&arns, &[])?;
    let keys = cx.strings("TagKeys");
    store.write(|tx| {
        for arn in &arns {
            let (kind, mut doc) = tagged_resource(tx, cx.region(), arn)?;
            let have: Vec<Value> = list_of(&doc, "Tags")
                .iter()
                .filter(|t| !str_of(t, "Key").is_some_and(|k| keys.iter().any(|x| x == k)))
                .cloned()
                .collect();
            doc["Tags"] = Value::Array(have);
            tx.put(cx.region(), kind, arn, &doc)?;
        }
        Ok(())
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}

fn describe_tags(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arns = cx.strings("ResourceArns");
    cx.call.authorize(&arns, &[])?;
    if arns.is_empty() {
        return Err(ApiError::missing_parameter("ResourceArns"));
    }
    let descriptions = store.read(|tx| {
        arns.iter()
            .map(|arn| {
                let (_, doc) = tagged_resource(tx, cx.region(), arn)?;
                Ok(json!({"ResourceArn": arn, "Tags": list_of(&doc, "Tags")}))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })?;
    Ok(Some(json!({ "TagDescriptions": descriptions })))
}

#[cfg(test)]
pub(crate) mod tests;
