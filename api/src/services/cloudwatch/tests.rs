//! CloudWatch through `handle`, in both protocols, and the alarm rule against AWS's table.

use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::services::test_support::{botocore_parse, query_call, t0, xml_of, xml_to_json};

const R: &str = "us-east-1";

fn query(
    store: &Store,
    action: &str,
    pairs: &[(&str, &str)],
    now: std::time::SystemTime,
) -> Result<Value, ApiError> {
    let c = query_call(Service::CloudWatch, action, pairs, now);
    let reply = handle(store, &c)?;
    assert!(c.was_authorized());
    let v = xml_to_json(xml_of(&reply));
    Ok(v[format!("{action}Response")][format!("{action}Result")].clone())
}

fn json_call(
    store: &Store,
    action: &str,
    body: Value,
    now: std::time::SystemTime,
) -> Result<Value, ApiError> {
    let mut c = query_call(Service::CloudWatch, action, &[], now);
    c.json = Some(body);
    match handle(store, &c)? {
        Reply::Json(v) => Ok(v),
        other => panic!("not JSON: {other:?}"),
    }
}

fn at(mins: i64) -> std::time::SystemTime {
    if mins >= 0 {
        t0() + Duration::from_secs(mins as u64 * 60)
    } else {
        t0() - Duration::from_secs((-mins) as u64 * 60)
    }
}

#[test]
fn alarm_rule_reproduces_aws_missing_data_table() {
    use AlarmState::*;
    use TreatMissingData::*;
    let row = |s: &str| -> Vec<Option<bool>> {
        s.split(' ')
            .map(|c| match c {
                "0" => Some(false),
                "X" => Some(true),
                _ => None,
            })
            .collect()
    };
    // M = N = 3, range 5, newest on the right (SPEC.md §24.5).
    let table: [(&str, [AlarmState; 4]); 5] = [
        ("0 - X - X", [Ok, Ok, Ok, Ok]),
        ("0 - - - -", [Ok, Ok, Ok, Ok]),
        (
            "- - - - -",
            [InsufficientData, Alarm /* retained */, Alarm, Ok],
        ),
        ("0 X X - X", [Alarm, Alarm, Alarm, Alarm]),
        ("- - X - -", [Alarm, Alarm /* retained */, Alarm, Ok]),
    ];
    for (points, [missing, ignore, breaching, not_breaching]) in table {
        let p = row(points);
        assert_eq!(evaluate(&p, 3, 3, Missing, Ok), missing, "{points} missing");
        assert_eq!(evaluate(&p, 3, 3, Ignore, Alarm), ignore, "{points} ignore");
        assert_eq!(
            evaluate(&p, 3, 3, Breaching, Ok),
            breaching,
            "{points} breaching"
        );
        assert_eq!(
            evaluate(&p, 3, 3, NotBreaching, Alarm),
            not_breaching,
            "{points} notBreaching"
        );
    }
    // Ignore keeps whatever state the alarm had.
    assert_eq!(evaluate(&row("- - X - -"), 3, 3, Ignore, Ok), Ok);
    // M of N, not necessarily consecutive.
    assert_eq!(evaluate(&row("X 0 X 0 X"), 5, 3, Missing, Ok), Alarm);
    assert_eq!(evaluate(&row("X 0 X 0 0"), 5, 3, Missing, Ok), Ok);
}

#[test]
fn put_and_get_statistics_over_query() {
    let s = Store::open(None).unwrap();
    let now = at(10);
    query(
        &s,
        "PutMetricData",
        &[
            ("Namespace", "App"),
            ("MetricData.member.1.MetricName", "Latency"),
            ("MetricData.member.1.Value", "10"),
            ("MetricData.member.1.Unit", "Milliseconds"),
            ("MetricData.member.1.Timestamp", "2026-12-07T20:01:10Z"),
            ("MetricData.member.1.Dimensions.member.1.Name", "Host"),
            ("MetricData.member.1.Dimensions.member.1.Value", "a"),
            ("MetricData.member.2.MetricName", "Latency"),
            ("MetricData.member.2.Values.member.1", "20"),
            ("MetricData.member.2.Values.member.2", "40"),
            ("MetricData.member.2.Counts.member.1", "1"),
            ("MetricData.member.2.Counts.member.2", "2"),
            ("MetricData.member.2.Unit", "Milliseconds"),
            ("MetricData.member.2.Timestamp", "2026-12-07T20:01:50Z"),
            ("MetricData.member.2.Dimensions.member.1.Name", "Host"),
            ("MetricData.member.2.Dimensions.member.1.Value", "a"),
            ("MetricData.member.3.MetricName", "Latency"),
            ("MetricData.member.3.Unit", "Milliseconds"),
            ("MetricData.member.3.StatisticValues.SampleCount", "2"),
            ("MetricData.member.3.StatisticValues.Sum", "6"),
            ("MetricData.member.3.StatisticValues.Minimum", "1"),
            ("MetricData.member.3.StatisticValues.Maximum", "5"),
            ("MetricData.member.3.Timestamp", "2026-12-07T20:03:00Z"),
            ("MetricData.member.3.Dimensions.member.1.Name", "Host"),
            ("MetricData.member.3.Dimensions.member.1.Value", "a"),
        ],
        now,
    )
    .unwrap();
    let get = |period: &str, extra: &[(&str, &str)]| {
        let mut p = vec![
            ("Namespace", "App"),
            ("MetricName", "Latency"),
            ("Dimensions.member.1.Name", "Host"),
            ("Dimensions.member.1.Value", "a"),
            ("StartTime", "2026-12-07T20:00:00Z"),
            ("EndTime", "2026-12-07T20:10:00Z"),
            ("Period", period),
        ];
        p.extend_from_slice(extra);
        query(&s, "GetMetricStatistics", &p, now)
    };
    let v = get(
        "60",
        &[
            ("Statistics.member.1", "Sum"),
            ("Statistics.member.2", "SampleCount"),
            ("Statistics.member.3", "Maximum"),
        ],
    )
    .unwrap();
    let d = v["Datapoints"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{v}");
    assert_eq!(d[0]["Timestamp"], "2026-12-07T20:01:00.000Z");
    assert_eq!(d[0]["Sum"], "110.0");
    assert_eq!(d[0]["SampleCount"], "4.0");
    assert_eq!(d[0]["Unit"], "Milliseconds");
    assert_eq!(d[1]["Maximum"], "5.0");
    let v = get("600", &[("ExtendedStatistics.member.1", "p50")]).unwrap();
    // Nearest rank over 10, 20, 40, 40 (the statistic set has no distribution).
    assert_eq!(
        v["Datapoints"][0]["ExtendedStatistics"]["entry"]["value"],
        "20.0"
    );
    // Another dimension set is another metric.
    let other = query(
        &s,
        "GetMetricStatistics",
        &[
            ("Namespace", "App"),
            ("MetricName", "Latency"),
            ("StartTime", "2026-12-07T20:00:00Z"),
            ("EndTime", "2026-12-07T20:10:00Z"),
            ("Period", "60"),
            ("Statistics.member.1", "Sum"),
        ],
        now,
    )
    .unwrap();
    assert_eq!(other["Datapoints"], json!({}), "no data points");
    let e = get(
        "60",
        &[
            ("Statistics.member.1", "Sum"),
            ("ExtendedStatistics.member.1", "p50"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidParameterCombination");
    assert_eq!(
        get("45", &[("Statistics.member.1", "Sum")])
            .unwrap_err()
            .code,
        "InvalidParameterValue"
    );
    let e = query(
        &s,
        "GetMetricStatistics",
        &[
            ("Namespace", "App"),
            ("MetricName", "Latency"),
            ("StartTime", "2026-12-01T00:00:00Z"),
            ("EndTime", "2026-12-07T00:00:00Z"),
            ("Period", "60"),
            ("Statistics.member.1", "Sum"),
        ],
        now,
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidParameterCombination");
    assert!(
        e.message.contains("exceeds the limit of 1440"),
        "{}",
        e.message
    );
}

#[test]
fn put_metric_data_checks() {
    let s = Store::open(None).unwrap();
    let now = at(10);
    let put = |pairs: &[(&str, &str)]| query(&s, "PutMetricData", pairs, now).unwrap_err().code;
    assert_eq!(
        put(&[
            ("Namespace", "AWS/EC2"),
            ("MetricData.member.1.MetricName", "x"),
            ("MetricData.member.1.Value", "1")
        ]),
        "InvalidParameterValue"
    );
    assert_eq!(
        put(&[
            ("Namespace", "App"),
            ("MetricData.member.1.MetricName", "x")
        ]),
        "InvalidParameterCombination"
    );
    assert_eq!(
        put(&[
            ("Namespace", "App"),
            ("MetricData.member.1.MetricName", "x"),
            ("MetricData.member.1.Value", "1"),
            ("MetricData.member.1.Timestamp", "2026-11-01T00:00:00Z")
        ]),
        "InvalidParameterValue"
    );
    assert_eq!(
        put(&[
            ("Namespace", "App"),
            ("MetricData.member.1.MetricName", "x"),
            ("MetricData.member.1.Value", "1"),
            ("MetricData.member.1.Unit", "Parsecs")
        ]),
        "InvalidParameterValue"
    );
    assert_eq!(
        put(&[("MetricData.member.1.MetricName", "x")]),
        "MissingParameter"
    );
}

#[test]
fn retention_needs_coarser_periods_for_older_data() {
    let s = Store::open(None).unwrap();
    let old = t0() - Duration::from_secs(20 * 86_400);
    publish(
        &s,
        R,
        "AWS/NATGateway",
        "BytesOutToDestination",
        &[("NatGatewayId", "nat-1")],
        100.0,
        "Bytes",
        old,
    )
    .unwrap();
    let ask = |period: &str| {
        query(
            &s,
            "GetMetricStatistics",
            &[
                ("Namespace", "AWS/NATGateway"),
                ("MetricName", "BytesOutToDestination"),
                ("Dimensions.member.1.Name", "NatGatewayId"),
                ("Dimensions.member.1.Value", "nat-1"),
                (
                    "StartTime",
                    &crate::services::query_form::iso8601(old - Duration::from_secs(3600)),
                ),
                (
                    "EndTime",
                    &crate::services::query_form::iso8601(old + Duration::from_secs(3600)),
                ),
                ("Period", period),
                ("Statistics.member.1", "Sum"),
            ],
            t0(),
        )
        .unwrap()
    };
    // 20 days back: only multiples of 300 s return data.
    assert_eq!(ask("60")["Datapoints"], json!({}));
    assert_eq!(ask("300")["Datapoints"][0]["Sum"], "100.0");
}

#[test]
fn json_protocol_list_metrics_and_errors() {
    let s = Store::open(None).unwrap();
    let now = at(5);
    json_call(&s, "PutMetricData", json!({"Namespace": "App", "MetricData": [
        {"MetricName": "Requests", "Value": 3, "Dimensions": [{"Name": "Api", "Value": "get"}], "Timestamp": crate::services::query_form::epoch_seconds(at(1))},
        {"MetricName": "Requests", "Value": 5, "Dimensions": [{"Name": "Api", "Value": "put"}]},
        {"MetricName": "Errors", "Value": 1}]}), now).unwrap();
    let v = json_call(
        &s,
        "ListMetrics",
        json!({"Namespace": "App", "Dimensions": [{"Name": "Api"}]}),
        now,
    )
    .unwrap();
    assert_eq!(v["Metrics"].as_array().unwrap().len(), 2);
    let v = json_call(
        &s,
        "ListMetrics",
        json!({"Dimensions": [{"Name": "Api", "Value": "put"}]}),
        now,
    )
    .unwrap();
    assert_eq!(
        v["Metrics"][0]["Dimensions"],
        json!([{"Name": "Api", "Value": "put"}])
    );
    let v = json_call(&s, "GetMetricStatistics", json!({"Namespace": "App", "MetricName": "Requests", "Dimensions": [{"Name": "Api", "Value": "get"}],
        "StartTime": crate::services::query_form::epoch_seconds(t0()), "EndTime": crate::services::query_form::epoch_seconds(at(10)), "Period": 60, "Statistics": ["Average"]}), now).unwrap();
    // JSON answers carry epoch seconds and numbers.
    assert_eq!(
        v["Datapoints"][0]["Timestamp"],
        json!(crate::services::query_form::epoch_seconds(at(1)))
    );
    assert_eq!(v["Datapoints"][0]["Average"], json!(3.0));
    let v = json_call(&s, "GetMetricData", json!({"StartTime": crate::services::query_form::epoch_seconds(t0()), "EndTime": crate::services::query_form::epoch_seconds(at(10)),
        "MetricDataQueries": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Requests", "Dimensions": [{"Name": "Api", "Value": "put"}]}, "Period": 60, "Stat": "Sum"}}]}), now).unwrap();
    assert_eq!(v["MetricDataResults"][0]["Values"], json!([5.0]));
    assert_eq!(v["MetricDataResults"][0]["StatusCode"], "Complete");
    let e = json_call(&s, "GetMetricData", json!({"StartTime": 1, "EndTime": 2, "MetricDataQueries": [{"Id": "e1", "Expression": "SUM(METRICS())"}]}), now).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    let (body, headers) = json_error(&e);
    assert!(headers.contains(&(
        "x-amzn-query-error".to_string(),
        "InvalidParameterValue;Sender".to_string()
    )));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["__type"],
        "InvalidParameterValueException"
    );
    let e = json_call(&s, "ListMetrics", json!({"NextToken": "garbage"}), now).unwrap_err();
    assert_eq!(e.code, "InvalidNextToken");
    assert_eq!(
        request_protocol(&[(
            "X-Amz-Target".into(),
            "GraniteServiceVersion20100801.ListMetrics".into()
        )]),
        Some(crate::service::Protocol::Json10)
    );
    assert_eq!(
        request_protocol(&[(
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into()
        )]),
        Some(crate::service::Protocol::Query)
    );
    assert_eq!(
        request_protocol(&[("smithy-protocol".into(), "rpc-v2-cbor".into())]),
        None
    );
    assert_eq!(
        action_from_target("GraniteServiceVersion20100801.PutMetricData"),
        Some("PutMetricData")
    );
    assert_eq!(action_from_target("Logs_20140328.PutLogEvents"), None);
}

#[test]
fn alarms_evaluate_every_minute_and_keep_history() {
    let s = Store::open(None).unwrap();
    let dims: &[(&str, &str)] = &[("LoadBalancer", "net/nlb/0123456789abcdef")];
    json_call(&s, "PutMetricAlarm", json!({"AlarmName": "unhealthy", "Namespace": "AWS/NetworkELB", "MetricName": "UnHealthyHostCount",
        "Dimensions": [{"Name": "LoadBalancer", "Value": "net/nlb/0123456789abcdef"}], "Statistic": "Maximum", "Period": 60,
        "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}), t0()).unwrap();
    let d = query(
        &s,
        "DescribeAlarms",
        &[("AlarmNames.member.1", "unhealthy")],
        t0(),
    )
    .unwrap();
    assert_eq!(d["MetricAlarms"][0]["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(
        d["MetricAlarms"][0]["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:unhealthy"
    );
    for (minute, v) in [(0, 0.0), (1, 0.0), (2, 0.0)] {
        publish(
            &s,
            R,
            "AWS/NetworkELB",
            "UnHealthyHostCount",
            dims,
            v,
            "Count",
            at(minute),
        )
        .unwrap();
    }
    // At 20:03 the last three whole periods are good: OK.
    let c = evaluate_alarms(&s, R, at(3)).unwrap();
    assert_eq!(c[0].new, AlarmState::Ok);
    for (minute, v) in [(3, 2.0), (4, 3.0)] {
        publish(
            &s,
            R,
            "AWS/NetworkELB",
            "UnHealthyHostCount",
            dims,
            v,
            "Count",
            at(minute),
        )
        .unwrap();
    }
    // At 20:05: 20:02, 20:03, 20:04 = 0, 2, 3 — two of three breach: ALARM.
    let c = evaluate_alarms(&s, R, at(5)).unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].old, c[0].new), (AlarmState::Ok, AlarmState::Alarm));
    assert!(
        c[0].reason
            .starts_with("Threshold Crossed: 2 out of the last 3 datapoints"),
        "{}",
        c[0].reason
    );
    assert!(
        evaluate_alarms(&s, R, at(5)).unwrap().is_empty(),
        "no change, no transition"
    );
    let h = query(
        &s,
        "DescribeAlarmHistory",
        &[
            ("AlarmName", "unhealthy"),
            ("HistoryItemType", "StateUpdate"),
        ],
        at(5),
    )
    .unwrap();
    assert_eq!(
        h["AlarmHistoryItems"][0]["HistorySummary"],
        "Alarm updated from OK to ALARM"
    );
    query(
        &s,
        "SetAlarmState",
        &[
            ("AlarmName", "unhealthy"),
            ("StateValue", "OK"),
            ("StateReason", "testing"),
        ],
        at(5),
    )
    .unwrap();
    let d = query(&s, "DescribeAlarms", &[("StateValue", "OK")], at(5)).unwrap();
    assert_eq!(d["MetricAlarms"][0]["StateReason"], "testing");
    assert_eq!(
        query(
            &s,
            "SetAlarmState",
            &[
                ("AlarmName", "nope"),
                ("StateValue", "OK"),
                ("StateReason", "x")
            ],
            at(5)
        )
        .unwrap_err()
        .code,
        "ResourceNotFound"
    );
    assert_eq!(
        query(
            &s,
            "SetAlarmState",
            &[
                ("AlarmName", "unhealthy"),
                ("StateValue", "OK"),
                ("StateReason", "x"),
                ("StateReasonData", "{nope")
            ],
            at(5)
        )
        .unwrap_err()
        .code,
        "InvalidFormat"
    );
}

#[test]
fn put_metric_alarm_checks_and_delete_alarms() {
    let s = Store::open(None).unwrap();
    query(
        &s,
        "PutMetricAlarm",
        &[
            ("AlarmName", "unhealthy"),
            ("Namespace", "AWS/NetworkELB"),
            ("MetricName", "UnHealthyHostCount"),
            ("Statistic", "Maximum"),
            ("Period", "60"),
            ("EvaluationPeriods", "3"),
            ("Threshold", "1"),
            ("ComparisonOperator", "GreaterThanOrEqualToThreshold"),
        ],
        t0(),
    )
    .unwrap();
    let bad = |extra: (&str, &str)| {
        let mut p = vec![
            ("AlarmName", "b"),
            ("Namespace", "App"),
            ("MetricName", "m"),
            ("Statistic", "Sum"),
            ("Period", "60"),
            ("EvaluationPeriods", "2"),
            ("Threshold", "1"),
            ("ComparisonOperator", "GreaterThanThreshold"),
        ];
        p.retain(|(k, _)| *k != extra.0);
        p.push(extra);
        query(&s, "PutMetricAlarm", &p, t0()).unwrap_err().code
    };
    assert_eq!(bad(("Period", "45")), "InvalidParameterValue");
    assert_eq!(bad(("DatapointsToAlarm", "3")), "InvalidParameterValue");
    assert_eq!(
        bad(("TreatMissingData", "sometimes")),
        "InvalidParameterValue"
    );
    assert_eq!(
        bad(("ComparisonOperator", "Equal")),
        "InvalidParameterValue"
    );
    assert_eq!(
        query(
            &s,
            "DeleteAlarms",
            &[
                ("AlarmNames.member.1", "unhealthy"),
                ("AlarmNames.member.2", "ghost")
            ],
            at(6)
        )
        .unwrap_err()
        .code,
        "ResourceNotFound"
    );
    query(
        &s,
        "DeleteAlarms",
        &[("AlarmNames.member.1", "unhealthy")],
        at(6),
    )
    .unwrap();
    assert_eq!(
        query(&s, "DescribeAlarms", &[], at(6)).unwrap()["MetricAlarms"],
        json!({})
    );
}

#[test]
fn query_answers_parse_with_botocore() {
    let s = Store::open(None).unwrap();
    publish(
        &s,
        R,
        "AWS/NATGateway",
        "ActiveConnectionCount",
        &[("NatGatewayId", "nat-1")],
        7.0,
        "Count",
        at(1),
    )
    .unwrap();
    query(
        &s,
        "PutMetricAlarm",
        &[
            ("AlarmName", "a"),
            ("Namespace", "AWS/NATGateway"),
            ("MetricName", "ActiveConnectionCount"),
            ("Statistic", "Maximum"),
            ("Period", "60"),
            ("EvaluationPeriods", "1"),
            ("Threshold", "5"),
            ("ComparisonOperator", "GreaterThanThreshold"),
            ("Dimensions.member.1.Name", "NatGatewayId"),
            ("Dimensions.member.1.Value", "nat-1"),
        ],
        t0(),
    )
    .unwrap();
    evaluate_alarms(&s, R, at(3)).unwrap();
    let base = [
        ("Namespace", "AWS/NATGateway"),
        ("MetricName", "ActiveConnectionCount"),
        ("Dimensions.member.1.Name", "NatGatewayId"),
        ("Dimensions.member.1.Value", "nat-1"),
        ("StartTime", "2026-12-07T20:00:00Z"),
        ("EndTime", "2026-12-07T20:05:00Z"),
        ("Period", "60"),
    ];
    let mut stats = base.to_vec();
    stats.push(("ExtendedStatistics.member.1", "p90"));
    let mut data = vec![
        ("StartTime", "2026-12-07T20:00:00Z"),
        ("EndTime", "2026-12-07T20:05:00Z"),
        ("MetricDataQueries.member.1.Id", "q"),
        (
            "MetricDataQueries.member.1.MetricStat.Metric.Namespace",
            "AWS/NATGateway",
        ),
        (
            "MetricDataQueries.member.1.MetricStat.Metric.MetricName",
            "ActiveConnectionCount",
        ),
        (
            "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name",
            "NatGatewayId",
        ),
        (
            "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value",
            "nat-1",
        ),
        ("MetricDataQueries.member.1.MetricStat.Period", "60"),
        ("MetricDataQueries.member.1.MetricStat.Stat", "Maximum"),
    ];
    data.push(("ScanBy", "TimestampAscending"));
    for (op, pairs) in [
        ("GetMetricStatistics", stats),
        ("GetMetricData", data),
        ("DescribeAlarms", vec![]),
        ("ListMetrics", vec![]),
        ("DescribeAlarmHistory", vec![]),
    ] {
        let c = query_call(Service::CloudWatch, op, &pairs, at(3));
        let body = xml_of(&handle(&s, &c).unwrap()).to_string();
        let Some(p) = botocore_parse("cloudwatch", op, 200, &body) else {
            return;
        };
        match op {
            "GetMetricStatistics" => {
                assert_eq!(p["Datapoints"][0]["ExtendedStatistics"]["p90"], 7.0)
            }
            "GetMetricData" => assert_eq!(p["MetricDataResults"][0]["Values"], json!([7.0])),
            "DescribeAlarms" => {
                assert_eq!(p["MetricAlarms"][0]["StateValue"], "ALARM");
                assert_eq!(
                    p["MetricAlarms"][0]["Dimensions"][0]["Name"],
                    "NatGatewayId"
                );
            }
            "ListMetrics" => assert_eq!(p["Metrics"][0]["Namespace"], "AWS/NATGateway"),
            _ => assert_eq!(p["AlarmHistoryItems"].as_array().unwrap().len(), 2),
        }
    }
}

#[test]
fn json_answers_parse_with_botocore() {
    let s = Store::open(None).unwrap();
    publish(
        &s,
        R,
        "AWS/NATGateway",
        "PacketsDropCount",
        &[("NatGatewayId", "nat-1")],
        4.0,
        "Count",
        at(1),
    )
    .unwrap();
    let v = json_call(
        &s,
        "GetMetricStatistics",
        json!({"Namespace": "AWS/NATGateway", "MetricName": "PacketsDropCount",
        "Dimensions": [{"Name": "NatGatewayId", "Value": "nat-1"}], "StartTime": crate::services::query_form::epoch_seconds(t0()),
        "EndTime": crate::services::query_form::epoch_seconds(at(5)), "Period": 60, "Statistics": ["Sum"], "ExtendedStatistics": []}),
        at(5),
    );
    // An empty ExtendedStatistics list is an absent one.
    let v = v.unwrap();
    let Some(p) = crate::services::test_support::botocore_parse_as(
        "json",
        "cloudwatch",
        "GetMetricStatistics",
        200,
        &v.to_string(),
    ) else {
        return;
    };
    assert_eq!(p["Datapoints"][0]["Sum"], 4.0);
    assert!(p["Datapoints"][0]["Timestamp"]
        .as_str()
        .unwrap()
        .starts_with("2026-12-07 20:01:00"));
}
