//! CloudWatch Logs through `handle`, with JSON bodies as the SDKs send them.

use serde_json::{json, Value};

use super::*;
use crate::service::Service;
use crate::services::test_support::{botocore_parse_as, query_call, t0};

fn call(store: &Store, action: &str, body: Value) -> Result<Value, ApiError> {
    let mut c = query_call(Service::Logs, action, &[], t0());
    c.json = Some(body);
    let out = match handle(store, &c)? {
        Reply::Json(v) => v,
        other => panic!("not JSON: {other:?}"),
    };
    assert!(c.was_authorized());
    Ok(out)
}

fn code(r: Result<Value, ApiError>) -> String {
    r.expect_err("an error").code
}

fn now_ms() -> i64 {
    ms(t0())
}

fn seeded() -> Store {
    let s = Store::open(None).unwrap();
    call(&s, "CreateLogGroup", json!({"logGroupName": "/vpc/flow"})).unwrap();
    call(
        &s,
        "CreateLogStream",
        json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all"}),
    )
    .unwrap();
    s
}

#[test]
fn groups_and_streams() {
    let s = seeded();
    assert_eq!(
        code(call(
            &s,
            "CreateLogGroup",
            json!({"logGroupName": "/vpc/flow"})
        )),
        "ResourceAlreadyExistsException"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLogGroup",
            json!({"logGroupName": "bad name!"})
        )),
        "InvalidParameterException"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLogStream",
            json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all"})
        )),
        "ResourceAlreadyExistsException"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLogStream",
            json!({"logGroupName": "/nope", "logStreamName": "x"})
        )),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLogStream",
            json!({"logGroupName": "/vpc/flow", "logStreamName": "a:b"})
        )),
        "InvalidParameterException"
    );
    for g in ["/app/a", "/app/b", "/app/c"] {
        call(&s, "CreateLogGroup", json!({"logGroupName": g})).unwrap();
    }
    let p1 = call(
        &s,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "/app/", "limit": 2}),
    )
    .unwrap();
    assert_eq!(p1["logGroups"].as_array().unwrap().len(), 2);
    assert_eq!(
        p1["logGroups"][0]["arn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:/app/a:*"
    );
    let p2 = call(
        &s,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "/app/", "limit": 2, "nextToken": p1["nextToken"]}),
    )
    .unwrap();
    assert_eq!(p2["logGroups"][0]["logGroupName"], "/app/c");
    assert!(p2.get("nextToken").is_none());
    let st = call(
        &s,
        "DescribeLogStreams",
        json!({"logGroupName": "/vpc/flow"}),
    )
    .unwrap();
    assert_eq!(st["logStreams"][0]["logStreamName"], "eni-1-all");
    assert!(st["logStreams"][0].get("chunks").is_none());
    call(&s, "DeleteLogGroup", json!({"logGroupName": "/vpc/flow"})).unwrap();
    assert_eq!(
        code(call(
            &s,
            "DeleteLogGroup",
            json!({"logGroupName": "/vpc/flow"})
        )),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(call(
            &s,
            "DescribeLogStreams",
            json!({"logGroupName": "/vpc/flow"})
        )),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(call(&s, "Frobnicate", json!({}))),
        "UnknownOperationException"
    );
}

#[test]
fn put_and_get_events_with_tokens() {
    let s = seeded();
    let t = now_ms();
    let events: Vec<Value> = (0..5)
        .map(|i| json!({"timestamp": t + i, "message": format!("line {i}")}))
        .collect();
    let r = call(
        &s,
        "PutLogEvents",
        json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "logEvents": events}),
    )
    .unwrap();
    assert!(r["nextSequenceToken"].is_string());
    assert!(r.get("rejectedLogEventsInfo").is_none());
    // Newest first by default: the last `limit` events, in time order.
    let g = call(
        &s,
        "GetLogEvents",
        json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "limit": 2}),
    )
    .unwrap();
    assert_eq!(g["events"][0]["message"], "line 3");
    let back = call(&s, "GetLogEvents", json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "limit": 2, "nextToken": g["nextBackwardToken"]})).unwrap();
    assert_eq!(back["events"][0]["message"], "line 1");
    let head = call(&s, "GetLogEvents", json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "limit": 4, "startFromHead": true})).unwrap();
    assert_eq!(head["events"].as_array().unwrap().len(), 4);
    let rest = call(&s, "GetLogEvents", json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "limit": 4, "nextToken": head["nextForwardToken"]})).unwrap();
    assert_eq!(rest["events"][0]["message"], "line 4");
    // At the end of the stream the same token comes back.
    let end = call(&s, "GetLogEvents", json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "nextToken": rest["nextForwardToken"]})).unwrap();
    assert_eq!(end["events"], json!([]));
    assert_eq!(end["nextForwardToken"], rest["nextForwardToken"]);
    // Too old and too new events are rejected by index; the rest are kept.
    let r = call(&s, "PutLogEvents", json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "logEvents": [
        {"timestamp": t - 15 * DAY_MS, "message": "old"}, {"timestamp": t - 14 * DAY_MS + 10 * HOUR_MS, "message": "kept"}, {"timestamp": t + 3 * HOUR_MS, "message": "new"}]})).unwrap_err();
    assert_eq!(
        r.code, "InvalidParameterException",
        "a batch over 24 hours is refused"
    );
    let r = call(&s, "PutLogEvents", json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "logEvents": [
        {"timestamp": t - 14 * DAY_MS - 1000, "message": "old"}, {"timestamp": t - 14 * DAY_MS + 5 * HOUR_MS, "message": "kept"}]})).unwrap();
    assert_eq!(r["rejectedLogEventsInfo"]["tooOldLogEventEndIndex"], 0);
    let r = call(
        &s,
        "PutLogEvents",
        json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "logEvents": [
        {"timestamp": t, "message": "ok"}, {"timestamp": t + 3 * HOUR_MS, "message": "new"}]}),
    )
    .unwrap();
    assert_eq!(r["rejectedLogEventsInfo"]["tooNewLogEventStartIndex"], 1);
    assert_eq!(
        code(call(
            &s,
            "PutLogEvents",
            json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "logEvents": [
        {"timestamp": t + 5, "message": "b"}, {"timestamp": t, "message": "a"}]})
        )),
        "InvalidParameterException"
    );
    assert_eq!(
        code(call(
            &s,
            "PutLogEvents",
            json!({"logGroupName": "/vpc/flow", "logStreamName": "nope", "logEvents": [{"timestamp": t, "message": "a"}]})
        )),
        "ResourceNotFoundException"
    );
    let st = call(
        &s,
        "DescribeLogStreams",
        json!({"logGroupName": "/vpc/flow"}),
    )
    .unwrap();
    assert_eq!(st["logStreams"][0]["lastEventTimestamp"], t + 4);
}

#[test]
fn flow_logs_delivered_and_filtered() {
    let s = Store::open(None).unwrap();
    let t = now_ms();
    let line = |eni: &str, port: u16, action: &str| {
        format!("2 123456789012 {eni} 10.0.1.5 203.0.113.9 49152 {port} 6 10 840 1796673600 1796673660 {action} OK")
    };
    let many: Vec<(i64, String)> = (0..(CHUNK as i64 + 5))
        .map(|i| (t + i, line("eni-1", 443, "ACCEPT")))
        .collect();
    deliver(
        &s,
        "us-east-1",
        "123456789012",
        "/vpc/flow",
        "eni-1-all",
        &many,
        t0(),
    )
    .unwrap();
    deliver(
        &s,
        "us-east-1",
        "123456789012",
        "/vpc/flow",
        "eni-2-all",
        &[
            (t + 1, line("eni-2", 22, "REJECT")),
            (t, line("eni-2", 80, "ACCEPT")),
        ],
        t0(),
    )
    .unwrap();
    let f = call(&s, "FilterLogEvents", json!({"logGroupName": "/vpc/flow",
        "filterPattern": "[version, account, eni, source, destination, srcport, destport=\"22\", protocol, packets, bytes, start, end, action=\"REJECT\", status]"})).unwrap();
    assert_eq!(f["events"].as_array().unwrap().len(), 1);
    assert_eq!(f["events"][0]["logStreamName"], "eni-2-all");
    assert_eq!(f["searchedLogStreams"].as_array().unwrap().len(), 2);
    let f = call(&s, "FilterLogEvents", json!({"logGroupName": "/vpc/flow", "filterPattern": "ACCEPT", "logStreamNames": ["eni-2-all"]})).unwrap();
    assert_eq!(f["events"].as_array().unwrap().len(), 1);
    let f = call(
        &s,
        "FilterLogEvents",
        json!({"logGroupName": "/vpc/flow", "limit": 1000}),
    )
    .unwrap();
    assert_eq!(
        f["events"].as_array().unwrap().len(),
        1000,
        "one page over two chunks"
    );
    let f2 = call(
        &s,
        "FilterLogEvents",
        json!({"logGroupName": "/vpc/flow", "limit": 1000, "nextToken": f["nextToken"]}),
    )
    .unwrap();
    assert_eq!(f2["events"].as_array().unwrap().len(), CHUNK + 5 + 2 - 1000);
    assert_eq!(
        code(call(
            &s,
            "FilterLogEvents",
            json!({"logGroupName": "/vpc/flow", "filterPattern": "{ $.a = 1 }"})
        )),
        "InvalidParameterException"
    );
    let g = call(
        &s,
        "GetLogEvents",
        json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-2-all", "startFromHead": true}),
    )
    .unwrap();
    assert!(
        g["events"][0]["message"].as_str().unwrap().contains(" 80 "),
        "delivered events are kept in time order"
    );
}

#[test]
fn answers_parse_with_botocore() {
    let s = seeded();
    call(&s, "PutLogEvents", json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all", "logEvents": [{"timestamp": now_ms(), "message": "hello"}]})).unwrap();
    for (op, body) in [
        ("DescribeLogGroups", json!({})),
        ("DescribeLogStreams", json!({"logGroupName": "/vpc/flow"})),
        (
            "GetLogEvents",
            json!({"logGroupName": "/vpc/flow", "logStreamName": "eni-1-all"}),
        ),
        (
            "FilterLogEvents",
            json!({"logGroupName": "/vpc/flow", "filterPattern": "hello"}),
        ),
    ] {
        let out = call(&s, op, body).unwrap().to_string();
        let Some(p) = botocore_parse_as("json", "logs", op, 200, &out) else {
            return;
        };
        match op {
            "DescribeLogGroups" => assert_eq!(p["logGroups"][0]["logGroupName"], "/vpc/flow"),
            "DescribeLogStreams" => assert_eq!(p["logStreams"][0]["storedBytes"], 5),
            "GetLogEvents" => assert_eq!(p["events"][0]["message"], "hello"),
            _ => assert_eq!(p["events"][0]["logStreamName"], "eni-1-all"),
        }
    }
}
