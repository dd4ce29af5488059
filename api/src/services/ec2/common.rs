//! What every EC2 action shares: authorisation with tag-on-create and `DryRun`, `ClientToken`
//! idempotency, lookups with AWS's not-found errors, tags from `TagSpecification`, `Describe*`
//! with ids, filters and pagination, and the asynchronous state changes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::filters::{self, Field};
use super::render;
use crate::call::Call;
use crate::error::ApiError;
use crate::store::Tx;

/// Checks the caller may perform the call on `arns` (and `ec2:CreateTags` when the call tags
/// what it creates), then stops a `DryRun` there.
pub fn authorize(call: &Call, arns: &[String]) -> Result<(), ApiError> {
    call.authorize(arns, &[("ec2:Region".into(), vec![call.region.clone()])])?;
    if !tag_specifications(call).is_empty() {
        call.authorize_as(
            "ec2:CreateTags",
            arns,
            &[("ec2:CreateAction".into(), vec![call.action.clone()])],
        )?;
    }
    call.check_dry_run()
}

/// Authorises a `Describe*` call: EC2 has no resource-level permissions for them.
pub fn authorize_describe(call: &Call) -> Result<(), ApiError> {
    authorize(call, &["*".to_string()])
}

/// Runs `run`, honouring `ClientToken`: the same token with the same parameters answers what
/// the first call answered and creates nothing; with other parameters it is refused.
pub fn idempotent(
    tx: &Tx<'_>,
    call: &Call,
    run: fn(&Tx<'_>, &Call) -> Result<String, ApiError>,
) -> Result<String, ApiError> {
    let Some(token) = call.params.get("ClientToken") else {
        return run(tx, call);
    };
    if token.len() > 64 || !token.is_ascii() {
        return Err(ApiError::invalid_value(
            "ClientToken",
            token,
            "A client token is at most 64 ASCII characters.",
        ));
    }
    let hash: String = call
        .params
        .iter()
        .filter(|(k, _)| !matches!(*k, "ClientToken" | "DryRun" | "Version"))
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    if let Some((first_hash, answer)) = tx.token(&call.region, &call.action, token)? {
        authorize(call, &["*".to_string()])?;
        if first_hash != hash {
            return Err(ApiError::client(
                "IdempotentParameterMismatch",
                format!("Client token '{token}' was already used with different parameters."),
            ));
        }
        return Ok(answer);
    }
    let answer = run(tx, call)?;
    tx.put_token(&call.region, &call.action, token, &hash, &answer)?;
    Ok(answer)
}

/// AWS's not-found error: `The vpc ID 'vpc-1' does not exist`.
pub fn not_found(code: &str, noun: &str, id: &str) -> ApiError {
    ApiError::client(code, format!("The {noun} ID '{id}' does not exist"))
}

/// A stored resource, or the not-found error.
pub fn require(
    tx: &Tx<'_>,
    call: &Call,
    kind: &str,
    id: &str,
    code: &str,
    noun: &str,
) -> Result<Value, ApiError> {
    tx.get(&call.region, kind, id)?
        .ok_or_else(|| not_found(code, noun, id))
}

/// A required id parameter that must also have the resource's prefix (`InvalidVpcID.Malformed`
/// otherwise).
pub fn id_param<'a>(
    call: &'a Call,
    name: &str,
    prefix: &str,
    malformed: &str,
) -> Result<&'a str, ApiError> {
    let id = call.params.require(name)?;
    check_prefix(id, prefix, malformed)?;
    Ok(id)
}

/// `InvalidXxxID.Malformed` unless `id` starts with `prefix-`.
pub fn check_prefix(id: &str, prefix: &str, malformed: &str) -> Result<(), ApiError> {
    if id
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::client(
            malformed,
            format!("Invalid id: \"{id}\" (expecting \"{prefix}-...\")"),
        ));
    }
    Ok(())
}

/// The tags `TagSpecification` puts on a new resource of `resource_type`, validated as AWS does.
pub fn tags_for(call: &Call, resource_type: &str) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for spec in tag_specifications(call) {
        if spec.require("ResourceType")? != resource_type {
            continue;
        }
        for (k, v) in spec.ec2_tags("Tag")? {
            check_tag(&k, &v)?;
            out.push(json!({"Key": k, "Value": v}));
        }
    }
    if out.len() > 50 {
        return Err(ApiError::client(
            "TagLimitExceeded",
            "The maximum number of tags for a resource is 50.",
        ));
    }
    Ok(out)
}

/// The `TagSpecification.N` structures of a create call; a few actions
/// (`CreateTransitGatewayVpcAttachment`) name them `TagSpecifications.N` on the wire.
fn tag_specifications(call: &Call) -> Vec<crate::params::Params> {
    let mut specs = call.params.ec2_structs("TagSpecification");
    specs.extend(call.params.ec2_structs("TagSpecifications"));
    specs
}

/// A tag's key and value within AWS's limits, the key not in the reserved `aws:` space.
pub fn check_tag(key: &str, value: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(ApiError::invalid_value(
            "Tag.Key",
            key,
            "Tag keys are 1 to 128 characters.",
        ));
    }
    if value.chars().count() > 256 {
        return Err(ApiError::invalid_value(
            "Tag.Value",
            value,
            "Tag values are at most 256 characters.",
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(ApiError::invalid_value(
            "Tag.Key",
            key,
            "Tag keys starting with 'aws:' are reserved for internal use.",
        ));
    }
    Ok(())
}

/// What a `Describe*` call lists.
pub struct Listing<'a> {
    /// The stored kind (`Vpcs`).
    pub kind: &'a str,
    /// The parameter naming ids (`VpcId`), and the id field of the documents.
    pub ids: (&'a str, &'a str),
    /// Not-found code and noun for an unknown id.
    pub not_found: (&'a str, &'a str),
    /// The filters the action accepts.
    pub filters: &'a [(&'a str, Field)],
}

/// A `Describe*` answer: the documents named by ids (all when none), filtered, one page.
pub fn describe(tx: &Tx<'_>, call: &Call, l: &Listing<'_>) -> Result<String, ApiError> {
    authorize_describe(call)?;
    let docs = tx.list(&call.region, l.kind)?;
    let (items, next) = select(call, docs, l)?;
    Ok(render::list(l.kind, &items) + &next_token(next))
}

/// The documents a `Describe*` call selects, and the next page's token.
pub fn select(
    call: &Call,
    docs: Vec<Value>,
    l: &Listing<'_>,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let ids = call.params.ec2_list(l.ids.0);
    for id in &ids {
        if !docs.iter().any(|d| d[l.ids.1].as_str() == Some(id)) {
            return Err(not_found(l.not_found.0, l.not_found.1, id));
        }
    }
    let wanted = filters::parse(call, l.filters)?;
    let selected: Vec<Value> = docs
        .into_iter()
        .filter(|d| ids.is_empty() || ids.iter().any(|id| d[l.ids.1].as_str() == Some(id)))
        .filter(|d| wanted.iter().all(|f| f.matches(d)))
        .collect();
    page(call, selected, !ids.is_empty())
}

/// `MaxResults`/`NextToken` over `items`: the token is opaque and bound to the request's other
/// parameters, as AWS's are.
pub fn page(
    call: &Call,
    items: Vec<Value>,
    explicit_ids: bool,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let max = call.params.int("MaxResults")?;
    let token = call.params.get("NextToken");
    if max.is_some() && explicit_ids {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            "The parameter MaxResults cannot be used with the parameter ids",
        ));
    }
    if let Some(m) = max {
        if !(5..=1000).contains(&m) {
            return Err(ApiError::invalid_value(
                "MaxResults",
                &m.to_string(),
                "Expecting a value greater than 5 and less than 1000.",
            ));
        }
    }
    let binding = request_digest(call);
    let start = match token {
        None => 0,
        Some(t) => decode_token(t, &binding).ok_or_else(|| {
            ApiError::client(
                "InvalidPaginationToken",
                format!("Invalid pagination token: {t}"),
            )
        })?,
    };
    let Some(max) = max else {
        return Ok((items.into_iter().skip(start).collect(), None));
    };
    let end = start.saturating_add(max as usize);
    let next = (end < items.len()).then(|| encode_token(end, &binding));
    Ok((
        items.into_iter().skip(start).take(max as usize).collect(),
        next,
    ))
}

fn request_digest(call: &Call) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(call.action.as_bytes());
    for (k, v) in call.params.iter() {
        if !matches!(k, "NextToken" | "MaxResults" | "DryRun" | "Version") {
            h.update(format!("{k}={v}\n").as_bytes());
        }
    }
    hex::encode(&h.finalize()[..8])
}

fn encode_token(offset: usize, binding: &str) -> String {
    hex::encode(format!("{offset}:{binding}"))
}

fn decode_token(token: &str, binding: &str) -> Option<usize> {
    let raw = String::from_utf8(hex::decode(token).ok()?).ok()?;
    let (offset, b) = raw.split_once(':')?;
    (b == binding).then_some(())?;
    offset.parse().ok()
}

/// `<nextToken>` when there is a next page.
pub fn next_token(next: Option<String>) -> String {
    next.map(|t| format!("<nextToken>{t}</nextToken>"))
        .unwrap_or_default()
}

/// `<return>true</return>`, the answer of actions that only succeed.
pub fn ok_return() -> String {
    "<return>true</return>".into()
}

/// An ISO 8601 UTC timestamp with milliseconds, as EC2 prints them (the form every XML
/// answer uses).
pub use crate::services::query_form::iso8601;

/// Milliseconds since the epoch, kept next to timestamps so the delays are exact.
pub fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

fn async_delay(tx: &Tx<'_>) -> Result<Duration, ApiError> {
    let ms = tx
        .meta(super::ASYNC_DELAY_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    Ok(Duration::from_millis(ms))
}

/// The hidden field holding when a resource entered its transient state.
pub const SINCE: &str = "VpcsimSinceMs";

/// Moves NAT gateways `pending` → `available` (`deleting` → `deleted`) and instances `pending`
/// → `running` (`stopping` → `stopped`, `shutting-down` → `terminated`) once the delay is
/// over, and forgets terminated instances after an hour; `true` when anything changed.
pub fn settle(tx: &Tx<'_>, call: &Call) -> Result<bool, ApiError> {
    let now = epoch_ms(call.now);
    let delay = async_delay(tx)?.as_millis() as i64;
    let due = |d: &Value| d[SINCE].as_i64().is_some_and(|t| now - t >= delay);
    let mut changed = false;
    for mut nat in tx.list(&call.region, "NatGateways")? {
        let next = match nat["State"].as_str() {
            Some("pending") if due(&nat) => "available",
            Some("deleting") if due(&nat) => "deleted",
            _ => continue,
        };
        nat["State"] = json!(next);
        nat[SINCE] = json!(now);
        let id = nat["NatGatewayId"].as_str().unwrap_or_default().to_string();
        tx.put(&call.region, "NatGateways", &id, &nat)?;
        changed = true;
    }
    changed |= super::instances::settle(tx, call, now, delay)?;
    changed |= super::transit_gateways::settle(tx, call, now, delay)?;
    changed |= super::endpoints::settle(tx, call, now, delay)?;
    Ok(changed)
}

/// Stores a model's describe-* documents in a region (seeded templates, CloudFormation stacks,
/// the default VPC), with the security-group rule records `DescribeSecurityGroupRules` lists.
pub fn store_documents(
    tx: &Tx<'_>,
    region: &str,
    account: &str,
    docs: &[(String, String, Value)],
) -> Result<(), ApiError> {
    for (kind, id, doc) in docs {
        tx.put(region, kind, id, doc)?;
        if kind == "SecurityGroups" {
            super::security_groups::import_rules(tx, region, account, doc)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_millis(1_796_601_600_123)),
            "2026-12-07T00:00:00.123Z"
        );
    }

    #[test]
    fn prefixes() {
        assert!(check_prefix("vpc-1", "vpc", "InvalidVpcID.Malformed").is_ok());
        assert_eq!(
            check_prefix("subnet-1", "vpc", "InvalidVpcID.Malformed")
                .unwrap_err()
                .code,
            "InvalidVpcID.Malformed"
        );
        assert!(check_prefix("vpc-", "vpc", "X").is_err());
    }
}
