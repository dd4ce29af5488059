//! Amazon CloudWatch metrics and alarms (SPEC.md §22.1, §24.2–24.5).
//!
//! CloudWatch is spoken two ways (SPEC.md §22.1): Query (`Action=PutMetricData&Version=2010-08-01`,
//! older botocore) and AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, current
//! boto3 and the aws CLI). The server learns which from the request ([`request_protocol`],
//! [`action_from_target`]) and puts a JSON body in `Call::json`; the handler reads either through
//! one JSON view (CloudWatch names its Query members as its JSON members) and answers in the
//! request's protocol. JSON errors carry the legacy Query code in `x-amzn-query-error`
//! ([`json_error`]), as `awsQueryCompatible` services do. Smithy RPC v2 CBOR is not spoken.
//!
//! Data points live in the region's partition (`Metrics`, one document per metric;
//! `MetricData`, one document per metric and UTC day); alarms in `MetricAlarms` and their history
//! in `AlarmHistory`. The data plane publishes through [`publish`]; the server evaluates alarms
//! every minute with [`evaluate_alarms`].

mod alarms;
mod dataplane;
mod metrics;
mod queries;

use serde_json::{json, Value};

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::service::{Protocol, Service};
use crate::services::query_form::{self, epoch_seconds, parse_time};
use crate::store::Store;
use crate::xml::{query_response, XmlWriter};

pub use alarms::{
    evaluate, evaluate_alarms, regions_with_alarms, AlarmState, Comparison, StateChange,
    TreatMissingData,
};
pub use dataplane::{publish_dataplane_metrics, publish_replay_minutes, DataplaneMinute};
pub use metrics::{publish, Dimension};

/// The `X-Amz-Target` prefix of CloudWatch's JSON protocol.
pub const TARGET_PREFIX: &str = "GraniteServiceVersion20100801";

/// The protocol a CloudWatch request was sent in, from its headers: JSON 1.0 when it names an
/// `X-Amz-Target` (or a JSON content type), Query otherwise. `None` for Smithy RPC v2 CBOR,
/// which vpcsim does not speak.
pub fn request_protocol(headers: &[(String, String)]) -> Option<Protocol> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if header("smithy-protocol").is_some()
        || header("content-type").is_some_and(|c| c.starts_with("application/cbor"))
    {
        return None;
    }
    if header("x-amz-target").is_some()
        || header("content-type").is_some_and(|c| c.starts_with("application/x-amz-json"))
    {
        return Some(Protocol::Json10);
    }
    Some(Protocol::Query)
}

/// The operation named by a JSON request's `X-Amz-Target` (`GraniteServiceVersion20100801.PutMetricData`).
pub fn action_from_target(target: &str) -> Option<&str> {
    target
        .strip_prefix(TARGET_PREFIX)?
        .strip_prefix('.')
        .filter(|op| !op.is_empty())
}

/// The shape name botocore's JSON parser expects in `__type` for a Query error code.
fn json_type(code: &str) -> &str {
    match code {
        "InvalidParameterValue" => "InvalidParameterValueException",
        "InvalidParameterCombination" => "InvalidParameterCombinationException",
        "MissingParameter" => "MissingRequiredParameterException",
        "InternalServiceError" => "InternalServiceFault",
        "InvalidFormat" => "InvalidFormatFault",
        "LimitExceeded" => "LimitExceededFault",
        "ValidationError" => "ValidationException",
        other => other,
    }
}

/// A JSON-protocol error answer: the body and the headers that go with it
/// (`x-amzn-query-error: <QueryCode>;Sender|Receiver`, so SDKs surface the Query code).
pub fn json_error(err: &ApiError) -> (String, Vec<(String, String)>) {
    let fault = if err.server_fault {
        "Receiver"
    } else {
        "Sender"
    };
    let body = json!({"__type": json_type(&err.code), "message": err.message}).to_string();
    let headers = vec![
        (
            "x-amzn-query-error".to_string(),
            format!("{};{fault}", err.code),
        ),
        (
            "x-amzn-ErrorType".to_string(),
            json_type(&err.code).to_string(),
        ),
        (
            "Content-Type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        ),
    ];
    (body, headers)
}

/// Members holding timestamps in answers: ISO 8601 in Query, epoch seconds in JSON.
const TIMESTAMPS: &[&str] = &[
    "Timestamp",
    "Timestamps",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
    "AlarmConfigurationUpdatedTimestamp",
];

fn to_epoch(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if TIMESTAMPS.contains(&k.as_str()) {
                    match x {
                        Value::String(s) => {
                            if let Some(t) = parse_time(s) {
                                *x = json!(epoch_seconds(t));
                            }
                        }
                        Value::Array(items) => {
                            for i in items.iter_mut() {
                                if let Some(t) = i.as_str().and_then(parse_time) {
                                    *i = json!(epoch_seconds(t));
                                }
                            }
                        }
                        _ => {}
                    }
                } else {
                    to_epoch(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_epoch),
        _ => {}
    }
}

/// Query maps are marked for the XML writer; JSON writes them as objects.
fn unmark_maps(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(inner) = m.remove(query_form::MAP) {
                *v = inner;
                return;
            }
            m.values_mut().for_each(unmark_maps);
        }
        Value::Array(items) => items.iter_mut().for_each(unmark_maps),
        _ => {}
    }
}

/// Answers one CloudWatch call, in the protocol it came in (JSON when `call.json` is set).
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let input = match &call.json {
        Some(j) => j.clone(),
        None => query_form::to_json(&call.params),
    };
    let out = match call.action.as_str() {
        "PutMetricData" => metrics::put_metric_data(store, call, &input)?,
        "ListMetrics" => metrics::list_metrics(store, call, &input)?,
        "GetMetricStatistics" => queries::get_metric_statistics(store, call, &input)?,
        "GetMetricData" => queries::get_metric_data(store, call, &input)?,
        "PutMetricAlarm" => alarms::put_metric_alarm(store, call, &input)?,
        "DescribeAlarms" => alarms::describe_alarms(store, call, &input)?,
        "DeleteAlarms" => alarms::delete_alarms(store, call, &input)?,
        "SetAlarmState" => alarms::set_alarm_state(store, call, &input)?,
        "DescribeAlarmHistory" => alarms::describe_alarm_history(store, call, &input)?,
        other => return Err(ApiError::invalid_action(other)),
    };
    if call.json.is_some() {
        let mut v = out.unwrap_or_else(|| json!({}));
        to_epoch(&mut v);
        unmark_maps(&mut v);
        return Ok(Reply::Json(v));
    }
    let body = out.map(|v| {
        let mut w = XmlWriter::new();
        query_form::write_xml(&mut w, &v);
        w.finish()
    });
    Ok(Reply::Xml(query_response(
        &call.action,
        Service::CloudWatch.xmlns(),
        &call.request_id,
        body.as_deref(),
    )))
}

/// `InvalidParameterValue` in CloudWatch's words.
pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidParameterValue", message)
}

/// An opaque paging token for an offset.
pub(crate) fn token(offset: usize) -> String {
    format!("cw{:x}", offset ^ 0x3c3c)
}

/// The offset of a paging token, or `InvalidNextToken`.
pub(crate) fn offset(input: &Value) -> Result<usize, ApiError> {
    match query_form::str_of(input, "NextToken") {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("cw")
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .map(|x| x ^ 0x3c3c)
            .ok_or_else(|| {
                ApiError::client(
                    "InvalidNextToken",
                    "The service couldn't process the NextToken",
                )
            }),
    }
}

#[cfg(test)]
mod tests;
