//! AWS CloudTrail (JSON 1.1): `LookupEvents` over the region's event history (SPEC.md §22.7).

use serde_json::{json, Value};

use crate::auth::dates;
use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::store::Store;

/// The attribute keys `LookupAttributes` accepts.
const ATTRIBUTE_KEYS: &[&str] = &[
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

/// Answers one CloudTrail call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    match call.action.as_str() {
        "LookupEvents" => lookup_events(store, call),
        other => Err(ApiError::invalid_action(other)),
    }
}

fn invalid(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::client(code, message)
}

/// `Username` as CloudTrail shows it: the user's name, the role session's name, or `root`.
fn username(record: &Value) -> Option<String> {
    let id = &record["userIdentity"];
    match id["type"].as_str()? {
        "Root" => Some("root".into()),
        "AssumedRole" => id["arn"].as_str()?.rsplit('/').next().map(str::to_string),
        _ => id["userName"].as_str().map(str::to_string),
    }
}

fn mentions(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s == needle,
        Value::Array(a) => a.iter().any(|x| mentions(x, needle)),
        Value::Object(m) => m.values().any(|x| mentions(x, needle)),
        _ => false,
    }
}

fn matches(record: &Value, key: &str, value: &str) -> bool {
    match key {
        "EventId" => record["eventID"] == value,
        "EventName" => record["eventName"] == value,
        "EventSource" => record["eventSource"] == value,
        "ReadOnly" => {
            record["readOnly"]
                .as_bool()
                .map(|b| b.to_string())
                .as_deref()
                == Some(value)
        }
        "Username" => username(record).as_deref() == Some(value),
        "AccessKeyId" => record["userIdentity"]["accessKeyId"] == value,
        // Without per-event resource lists, a resource is named by any parameter or answer
        // value equal to it (an id, a name or an ARN).
        "ResourceName" => {
            mentions(&record["requestParameters"], value)
                || mentions(&record["responseElements"], value)
        }
        "ResourceType" => record["resources"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r["type"] == value)),
        _ => false,
    }
}

fn time_param(body: &Value, name: &str) -> Result<Option<i64>, ApiError> {
    match &body[name] {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64().map(|f| (f * 1000.0) as i64)),
        Value::String(s) => dates::parse_any(s)
            .map(|t| Some(dates::epoch_seconds(t) * 1000))
            .ok_or_else(|| invalid("InvalidTimeRangeException", format!("Invalid {name}: {s}"))),
        _ => Err(invalid(
            "InvalidTimeRangeException",
            format!("Invalid {name}"),
        )),
    }
}

fn lookup_events(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    call.authorize(&[], &[])?;
    let empty = json!({});
    let body = call.json.as_ref().unwrap_or(&empty);
    let attrs = body["LookupAttributes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if attrs.len() > 1 {
        return Err(invalid(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        ));
    }
    let filter = match attrs.first() {
        None => None,
        Some(a) => {
            let key = a["AttributeKey"].as_str().unwrap_or_default().to_string();
            if !ATTRIBUTE_KEYS.contains(&key.as_str()) {
                return Err(invalid(
                    "InvalidLookupAttributesException",
                    format!("The attribute key {key} is not valid."),
                ));
            }
            Some((
                key,
                a["AttributeValue"].as_str().unwrap_or_default().to_string(),
            ))
        }
    };
    let start = time_param(body, "StartTime")?.unwrap_or(0);
    // EndTime is inclusive.
    let end = time_param(body, "EndTime")?
        .map(|e| e + 1)
        .unwrap_or(i64::MAX);
    if start >= end {
        return Err(invalid(
            "InvalidTimeRangeException",
            "Start time must be earlier than end time.",
        ));
    }
    let max = match &body["MaxResults"] {
        Value::Null => 50,
        v => v.as_u64().filter(|n| (1..=50).contains(n)).ok_or_else(|| {
            invalid(
                "InvalidMaxResultsException",
                "MaxResults must be between 1 and 50.",
            )
        })? as usize,
    };
    let skip = match body["NextToken"].as_str() {
        None => 0,
        Some(t) => t
            .strip_prefix("vpcsim-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| invalid("InvalidNextTokenException", "Invalid NextToken."))?,
    };
    let region = call.region.clone();
    let all = store.read(|tx| tx.events(&region, start, end, 0, usize::MAX >> 1))?;
    let hits: Vec<Value> = all
        .into_iter()
        .filter(|r| filter.as_ref().is_none_or(|(k, v)| matches(r, k, v)))
        .collect();
    let page: Vec<Value> = hits.iter().skip(skip).take(max).map(event).collect();
    let mut out = json!({ "Events": page });
    if skip + max < hits.len() {
        out["NextToken"] = Value::String(format!("vpcsim-{}", skip + max));
    }
    Ok(Reply::Json(out))
}

/// One `Event` of a lookup: the summary fields and the whole record as a JSON string.
fn event(r: &Value) -> Value {
    let time = r["eventTime"]
        .as_str()
        .and_then(dates::parse_any)
        .map(dates::epoch_seconds)
        .unwrap_or(0);
    let mut e = json!({
        "EventId": r["eventID"],
        "EventName": r["eventName"],
        "ReadOnly": r["readOnly"].as_bool().unwrap_or(false).to_string(),
        "AccessKeyId": r["userIdentity"]["accessKeyId"],
        "EventTime": time,
        "EventSource": r["eventSource"],
        "Resources": r["resources"].as_array().map(|rs| rs.iter().map(|x| json!({"ResourceType": x["type"], "ResourceName": x["ARN"]})).collect::<Vec<_>>()).unwrap_or_default(),
        "CloudTrailEvent": r.to_string(),
    });
    if let Some(u) = username(r) {
        e["Username"] = Value::String(u);
    }
    e
}
