//! Metric alarms: `PutMetricAlarm`, `DescribeAlarms`, `DeleteAlarms`, `SetAlarmState`,
//! `DescribeAlarmHistory`, and their evaluation (SPEC.md §24.5): [`evaluate`] is the pure rule,
//! [`evaluate_alarms`] applies it to every alarm of a region at a given time.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{json, Value};

use super::metrics::{dimensions, metric_key, ms, time};
use super::queries::{bucketed, check_stat, percentile, statistic, Window};
use super::{invalid, offset, token};
use crate::call::Call;
use crate::error::ApiError;
use crate::services::query_form::{
    float_of, int_of, iso8601, list_of, str_of, strings_of, time_of,
};
use crate::store::{Store, Tx};

const ALARMS: &str = "MetricAlarms";
const HISTORY: &str = "AlarmHistory";

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// `OK`.
    Ok,
    /// `ALARM`.
    Alarm,
    /// `INSUFFICIENT_DATA` (where new alarms start).
    InsufficientData,
}

impl AlarmState {
    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// The state an API name names.
    pub fn parse(s: &str) -> Option<AlarmState> {
        match s {
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreatMissingData {
    /// `missing` (the default): missing points do not count either way.
    Missing,
    /// `notBreaching`: missing points are good.
    NotBreaching,
    /// `breaching`: missing points breach.
    Breaching,
    /// `ignore`: the current state is kept when the data cannot decide.
    Ignore,
}

impl TreatMissingData {
    /// The treatment an API name names.
    pub fn parse(s: &str) -> Option<TreatMissingData> {
        match s {
            "missing" => Some(TreatMissingData::Missing),
            "notBreaching" => Some(TreatMissingData::NotBreaching),
            "breaching" => Some(TreatMissingData::Breaching),
            "ignore" => Some(TreatMissingData::Ignore),
            _ => None,
        }
    }
}

/// `ComparisonOperator` (the static-threshold ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`.
    GreaterOrEqual,
    /// `GreaterThanThreshold`.
    Greater,
    /// `LessThanThreshold`.
    Less,
    /// `LessThanOrEqualToThreshold`.
    LessOrEqual,
}

impl Comparison {
    /// The operator an API name names.
    pub fn parse(s: &str) -> Option<Comparison> {
        match s {
            "GreaterThanOrEqualToThreshold" => Some(Comparison::GreaterOrEqual),
            "GreaterThanThreshold" => Some(Comparison::Greater),
            "LessThanThreshold" => Some(Comparison::Less),
            "LessThanOrEqualToThreshold" => Some(Comparison::LessOrEqual),
            _ => None,
        }
    }

    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Greater => value > threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Comparison::GreaterOrEqual => "greater than or equal to",
            Comparison::Greater => "greater than",
            Comparison::Less => "less than",
            Comparison::LessOrEqual => "less than or equal to",
        }
    }
}

/// The state an alarm evaluates to (SPEC.md §24.5). `points` covers the evaluation range,
/// oldest first: `Some(true)` a breaching data point, `Some(false)` a good one, `None` a
/// missing one; the alarm needs `m` breaching out of the last `n`.
///
/// With at least `n` real points the most recent `n` decide and missing data is not looked
/// at. Otherwise the missing ones are filled as the treatment says, as few as needed to make
/// `n`: `breaching`/`notBreaching` fills count as such; `missing` and `ignore` fills are
/// unknowns, so the state is `OK` when no filling could reach `m` breaches and `ALARM` when the
/// real breaches reach `m`; in between `missing` goes to `ALARM` and `ignore` keeps `current`.
/// With no real point at all: `missing` → `INSUFFICIENT_DATA`, `ignore` → `current`,
/// `breaching` → `ALARM`, `notBreaching` → `OK`. This reproduces every row of AWS's table.
pub fn evaluate(
    points: &[Option<bool>],
    n: usize,
    m: usize,
    treat: TreatMissingData,
    current: AlarmState,
) -> AlarmState {
    let n = n.max(1);
    let m = m.clamp(1, n);
    let real: Vec<bool> = points.iter().filter_map(|p| *p).collect();
    let verdict = |breaching: usize| {
        if breaching >= m {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    };
    if real.len() >= n {
        return verdict(real[real.len() - n..].iter().filter(|b| **b).count());
    }
    let fills = n - real.len();
    let bad = real.iter().filter(|b| **b).count();
    let good = real.len() - bad;
    match treat {
        TreatMissingData::Breaching => verdict(bad + fills),
        TreatMissingData::NotBreaching => verdict(bad),
        TreatMissingData::Missing | TreatMissingData::Ignore if real.is_empty() => {
            if treat == TreatMissingData::Missing {
                AlarmState::InsufficientData
            } else {
                current
            }
        }
        _ if good > n - m => AlarmState::Ok,
        _ if bad >= m => AlarmState::Alarm,
        TreatMissingData::Missing => AlarmState::Alarm,
        TreatMissingData::Ignore => current,
    }
}

/// An alarm that changed state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    /// The alarm's name.
    pub alarm_name: String,
    /// Its state before.
    pub old: AlarmState,
    /// Its state now.
    pub new: AlarmState,
    /// `StateReason`.
    pub reason: String,
}

fn alarm_arn(call_region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{call_region}:{account}:alarm:{name}")
}

fn push_history(
    tx: &Tx<'_>,
    region: &str,
    name: &str,
    at: SystemTime,
    kind: &str,
    summary: &str,
    data: Value,
) -> Result<(), ApiError> {
    let id = format!("{:015}-{:08x}", ms(at), rand::random::<u32>());
    let item = json!({"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": iso8601(at),
        "HistoryItemType": kind, "HistorySummary": summary, "HistoryData": data.to_string()});
    tx.put(region, HISTORY, &id, &item)
}

/// Moves a stored alarm to `new`, with its reason and a history item.
fn set_state(
    tx: &Tx<'_>,
    region: &str,
    alarm: &mut Value,
    new: AlarmState,
    reason: &str,
    reason_data: Option<&str>,
    at: SystemTime,
) -> Result<(), ApiError> {
    let name = str_of(alarm, "AlarmName").unwrap_or_default().to_string();
    let old = str_of(alarm, "StateValue")
        .unwrap_or("INSUFFICIENT_DATA")
        .to_string();
    alarm["StateValue"] = json!(new.as_str());
    alarm["StateReason"] = json!(reason);
    match reason_data {
        Some(d) => alarm["StateReasonData"] = json!(d),
        None => {
            if let Some(m) = alarm.as_object_mut() {
                m.remove("StateReasonData");
            }
        }
    }
    alarm["StateUpdatedTimestamp"] = json!(iso8601(at));
    if old != new.as_str() {
        alarm["StateTransitionedTimestamp"] = json!(iso8601(at));
    }
    tx.put(region, ALARMS, &name, alarm)?;
    let data = json!({"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new.as_str(), "stateReason": reason}});
    push_history(
        tx,
        region,
        &name,
        at,
        "StateUpdate",
        &format!("Alarm updated from {old} to {}", new.as_str()),
        data,
    )
}

/// Evaluates every alarm of `region` at `now` (the server calls this every minute) and
/// applies the state changes; returns them.
pub fn evaluate_alarms(
    store: &Store,
    region: &str,
    now: SystemTime,
) -> Result<Vec<StateChange>, ApiError> {
    store.write(|tx| {
        let mut changes = Vec::new();
        for mut alarm in tx.list(region, ALARMS)? {
            if let Some(change) = evaluate_one(tx, region, &mut alarm, now)? {
                changes.push(change);
            }
        }
        Ok(changes)
    })
}

/// The regions holding at least one alarm: the ones the server's evaluation loop visits.
pub fn regions_with_alarms(store: &Store) -> Result<Vec<String>, ApiError> {
    store.read(|tx| {
        let mut out = Vec::new();
        for p in tx.partitions()? {
            if !tx.list(&p, ALARMS)?.is_empty() {
                out.push(p);
            }
        }
        Ok(out)
    })
}

fn evaluate_one(
    tx: &Tx<'_>,
    region: &str,
    alarm: &mut Value,
    now: SystemTime,
) -> Result<Option<StateChange>, ApiError> {
    let period = int_of(alarm, "Period")?.unwrap_or(60).max(1);
    let n = int_of(alarm, "EvaluationPeriods")?.unwrap_or(1).max(1) as usize;
    let m = int_of(alarm, "DatapointsToAlarm")?.map_or(n, |x| x.max(1) as usize);
    let stat = str_of(alarm, "Statistic")
        .or(str_of(alarm, "ExtendedStatistic"))
        .unwrap_or("Average")
        .to_string();
    let threshold = float_of(alarm, "Threshold")?.unwrap_or(0.0);
    let op = str_of(alarm, "ComparisonOperator")
        .and_then(Comparison::parse)
        .unwrap_or(Comparison::GreaterOrEqual);
    let treat = str_of(alarm, "TreatMissingData")
        .and_then(TreatMissingData::parse)
        .unwrap_or(TreatMissingData::Missing);
    let current = str_of(alarm, "StateValue")
        .and_then(AlarmState::parse)
        .unwrap_or(AlarmState::InsufficientData);
    let key = metric_key(
        str_of(alarm, "Namespace").unwrap_or_default(),
        str_of(alarm, "MetricName").unwrap_or_default(),
        &dimensions(alarm)?,
    );
    // The evaluation range: the last N + 2 whole periods (model, SPEC.md §24.5).
    let step = period * 1000;
    let end = ms(now) - ms(now).rem_euclid(step);
    let range = n as i64 + 2;
    let first = end - range * step;
    let data: BTreeMap<i64, f64> = bucketed(
        tx,
        region,
        &key,
        Window {
            first,
            end,
            period_s: period,
        },
        str_of(alarm, "Unit"),
        now,
    )?
    .into_iter()
    .filter_map(|(t, s)| Some((t, statistic(&s.iter().collect::<Vec<_>>(), &stat)?)))
    .collect();
    let points: Vec<Option<bool>> = (0..range)
        .map(|i| {
            data.get(&(first + i * step))
                .map(|v| op.breaches(*v, threshold))
        })
        .collect();
    let new = evaluate(&points, n, m, treat, current);
    if new == current {
        return Ok(None);
    }
    let recent: Vec<String> = data
        .iter()
        .rev()
        .take(n)
        .map(|(t, v)| format!("{v} ({})", iso8601(time(*t))))
        .collect();
    let breaching = data
        .values()
        .rev()
        .take(n)
        .filter(|v| op.breaches(**v, threshold))
        .count();
    let reason = if new == AlarmState::InsufficientData {
        format!("Insufficient Data: {n} datapoints were unknown.")
    } else {
        format!(
            "Threshold Crossed: {breaching} out of the last {} datapoints [{}] {} {} the threshold ({threshold}) (minimum {m} datapoint{} for {} -> {} transition).",
            recent.len(),
            recent.join(", "),
            if breaching == 1 { "was" } else { "were" },
            op.words(),
            if m == 1 { "" } else { "s" },
            current.as_str(),
            new.as_str()
        )
    };
    let reason_data = json!({"version": "1.0", "queryDate": iso8601(now), "statistic": stat, "period": period,
        "recentDatapoints": data.values().rev().take(n).collect::<Vec<_>>(), "threshold": threshold});
    set_state(
        tx,
        region,
        alarm,
        new,
        &reason,
        Some(&reason_data.to_string()),
        now,
    )?;
    Ok(Some(StateChange {
        alarm_name: str_of(alarm, "AlarmName").unwrap_or_default().to_string(),
        old: current,
        new,
        reason,
    }))
}

/// The alarm parameters of a `PutMetricAlarm`, checked, as the stored alarm's members.
fn alarm_settings(input: &Value) -> Result<Value, ApiError> {
    if !list_of(input, "Metrics").is_empty() {
        return Err(invalid("Alarms on metric math expressions are not supported by this endpoint; give MetricName, Namespace and Statistic."));
    }
    let name = str_of(input, "MetricName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("MetricName"))?;
    let ns = str_of(input, "Namespace")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Namespace"))?;
    let stat = str_of(input, "Statistic");
    let ext = str_of(input, "ExtendedStatistic");
    match (stat, ext) {
        (Some(s), None) if percentile(s).is_none() => check_stat(s)?,
        (None, Some(e)) if percentile(e).is_some() => {}
        _ => {
            return Err(ApiError::client(
                "InvalidParameterCombination",
                "Exactly one of Statistic and ExtendedStatistic must be specified.",
            ))
        }
    }
    let period = int_of(input, "Period")?.ok_or_else(|| ApiError::missing_parameter("Period"))?;
    if !([10, 20, 30].contains(&period) || (period >= 60 && period % 60 == 0)) {
        return Err(invalid(
            "The parameter Period must be 10, 20, 30, or a multiple of 60.",
        ));
    }
    let n = int_of(input, "EvaluationPeriods")?
        .ok_or_else(|| ApiError::missing_parameter("EvaluationPeriods"))?;
    if n < 1 {
        return Err(invalid(
            "The parameter EvaluationPeriods must be at least 1.",
        ));
    }
    if period * n > 86_400 * 7 {
        return Err(invalid(
            "The product of Period and EvaluationPeriods must not exceed 7 days.",
        ));
    }
    let m = int_of(input, "DatapointsToAlarm")?;
    if m.is_some_and(|m| m < 1 || m > n) {
        return Err(invalid(
            "The parameter DatapointsToAlarm must be between 1 and EvaluationPeriods.",
        ));
    }
    let threshold =
        float_of(input, "Threshold")?.ok_or_else(|| ApiError::missing_parameter("Threshold"))?;
    let op = str_of(input, "ComparisonOperator")
        .ok_or_else(|| ApiError::missing_parameter("ComparisonOperator"))?;
    if Comparison::parse(op).is_none() {
        return Err(invalid(format!(
            "The value {op} for parameter ComparisonOperator is invalid."
        )));
    }
    let treat = str_of(input, "TreatMissingData").unwrap_or("missing");
    if TreatMissingData::parse(treat).is_none() {
        return Err(invalid(format!(
            "The value {treat} for parameter TreatMissingData is invalid."
        )));
    }
    let dims = dimensions(input)?;
    let mut v = json!({
        "MetricName": name, "Namespace": ns,
        "Dimensions": dims.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
        "Period": period, "EvaluationPeriods": n, "Threshold": threshold, "ComparisonOperator": op, "TreatMissingData": treat,
        "ActionsEnabled": crate::services::query_form::bool_of(input, "ActionsEnabled")?.unwrap_or(true),
        "OKActions": strings_of(input, "OKActions"), "AlarmActions": strings_of(input, "AlarmActions"),
        "InsufficientDataActions": strings_of(input, "InsufficientDataActions"),
    });
    if let Some(s) = stat {
        v["Statistic"] = json!(s);
    }
    if let Some(e) = ext {
        v["ExtendedStatistic"] = json!(e);
    }
    if let Some(m) = m {
        v["DatapointsToAlarm"] = json!(m);
    }
    if let Some(u) = str_of(input, "Unit") {
        v["Unit"] = json!(u);
    }
    if let Some(d) = str_of(input, "AlarmDescription") {
        v["AlarmDescription"] = json!(d);
    }
    Ok(v)
}

pub(super) fn put_metric_alarm(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    let name = str_of(input, "AlarmName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("AlarmName"))?
        .to_string();
    let arn = alarm_arn(&call.region, &call.account, &name);
    call.authorize(std::slice::from_ref(&arn), &[])?;
    if name.len() > 255 {
        return Err(invalid(
            "The parameter AlarmName must be at most 255 characters.",
        ));
    }
    let settings = alarm_settings(input)?;
    let now = iso8601(call.now);
    store.write(|tx| {
        let existing = tx.get(&call.region, ALARMS, &name)?;
        let mut alarm =
            json!({"AlarmName": name, "AlarmArn": arn, "AlarmConfigurationUpdatedTimestamp": now});
        for (k, v) in settings.as_object().into_iter().flatten() {
            alarm[k] = v.clone();
        }
        // An update keeps the state; a new alarm starts in INSUFFICIENT_DATA.
        let state_keys = [
            "StateValue",
            "StateReason",
            "StateReasonData",
            "StateUpdatedTimestamp",
            "StateTransitionedTimestamp",
        ];
        match &existing {
            Some(old) => {
                for k in state_keys {
                    if let Some(v) = old.get(k) {
                        alarm[k] = v.clone();
                    }
                }
            }
            None => {
                alarm["StateValue"] = json!("INSUFFICIENT_DATA");
                alarm["StateReason"] = json!("Unchecked: Initial alarm creation");
                alarm["StateUpdatedTimestamp"] = json!(now);
                alarm["StateTransitionedTimestamp"] = json!(now);
            }
        }
        tx.put(&call.region, ALARMS, &name, &alarm)?;
        let verb = if existing.is_some() {
            "updated"
        } else {
            "created"
        };
        push_history(
            tx,
            &call.region,
            &name,
            call.now,
            "ConfigurationUpdate",
            &format!("Alarm \"{name}\" {verb}"),
            json!({"version": "1.0", "type": if existing.is_some() { "Update" } else { "Create" }}),
        )
    })?;
    Ok(None)
}

pub(super) fn describe_alarms(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let names = strings_of(input, "AlarmNames");
    let prefix = str_of(input, "AlarmNamePrefix");
    if !names.is_empty() && prefix.is_some() {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            "AlarmNames and AlarmNamePrefix cannot be specified together.",
        ));
    }
    let state = str_of(input, "StateValue");
    if state.is_some_and(|s| AlarmState::parse(s).is_none()) {
        return Err(invalid(format!(
            "The value {} for parameter StateValue is invalid.",
            state.unwrap_or_default()
        )));
    }
    let action = str_of(input, "ActionPrefix");
    let max = int_of(input, "MaxRecords")?.unwrap_or(50);
    if !(1..=100).contains(&max) {
        return Err(invalid(
            "The parameter MaxRecords must be between 1 and 100.",
        ));
    }
    let wants_metric = {
        let types = strings_of(input, "AlarmTypes");
        types.is_empty() || types.iter().any(|t| t == "MetricAlarm")
    };
    let mut alarms: Vec<Value> = store
        .read(|tx| tx.list(&call.region, ALARMS))?
        .into_iter()
        .filter(|_| wants_metric)
        .filter(|a| {
            names.is_empty()
                || names
                    .iter()
                    .any(|n| str_of(a, "AlarmName") == Some(n.as_str()))
        })
        .filter(|a| prefix.is_none_or(|p| str_of(a, "AlarmName").is_some_and(|n| n.starts_with(p))))
        .filter(|a| state.is_none_or(|s| str_of(a, "StateValue") == Some(s)))
        .filter(|a| {
            action.is_none_or(|p| {
                ["OKActions", "AlarmActions", "InsufficientDataActions"]
                    .iter()
                    .any(|k| strings_of(a, k).iter().any(|x| x.starts_with(p)))
            })
        })
        .collect();
    alarms.sort_by(|a, b| str_of(a, "AlarmName").cmp(&str_of(b, "AlarmName")));
    let start = offset(input)?;
    let total = alarms.len();
    let page: Vec<Value> = alarms.into_iter().skip(start).take(max as usize).collect();
    let mut out = json!({"MetricAlarms": page, "CompositeAlarms": []});
    if start + (max as usize) < total {
        out["NextToken"] = json!(token(start + max as usize));
    }
    Ok(Some(out))
}

pub(super) fn delete_alarms(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    let names = strings_of(input, "AlarmNames");
    let arns: Vec<String> = names
        .iter()
        .map(|n| alarm_arn(&call.region, &call.account, n))
        .collect();
    call.authorize(&arns, &[])?;
    if names.is_empty() {
        return Err(ApiError::missing_parameter("AlarmNames"));
    }
    store.write(|tx| {
        for n in &names {
            if !tx.delete(&call.region, ALARMS, n)? {
                return Err(ApiError::with_status(
                    "ResourceNotFound",
                    format!("1 validation error detected: alarm {n} does not exist"),
                    404,
                ));
            }
        }
        Ok(())
    })?;
    Ok(None)
}

pub(super) fn set_alarm_state(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    let name = str_of(input, "AlarmName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("AlarmName"))?
        .to_string();
    call.authorize(&[alarm_arn(&call.region, &call.account, &name)], &[])?;
    let state =
        str_of(input, "StateValue").ok_or_else(|| ApiError::missing_parameter("StateValue"))?;
    let state = AlarmState::parse(state).ok_or_else(|| {
        invalid(format!(
            "The value {state} for parameter StateValue is invalid."
        ))
    })?;
    let reason =
        str_of(input, "StateReason").ok_or_else(|| ApiError::missing_parameter("StateReason"))?;
    let data = str_of(input, "StateReasonData");
    if let Some(d) = data {
        if serde_json::from_str::<Value>(d).is_err() {
            return Err(ApiError::client(
                "InvalidFormat",
                "StateReasonData is not valid JSON.",
            ));
        }
    }
    store.write(|tx| {
        let mut alarm = tx.get(&call.region, ALARMS, &name)?.ok_or_else(|| {
            ApiError::with_status("ResourceNotFound", format!("Alarm {name} not found"), 404)
        })?;
        set_state(tx, &call.region, &mut alarm, state, reason, data, call.now)
    })?;
    Ok(None)
}

pub(super) fn describe_alarm_history(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let name = str_of(input, "AlarmName");
    let kind = str_of(input, "HistoryItemType");
    if kind.is_some_and(|k| {
        ![
            "ConfigurationUpdate",
            "StateUpdate",
            "Action",
            "AlarmContributorStateUpdate",
            "AlarmContributorAction",
        ]
        .contains(&k)
    }) {
        return Err(invalid(format!(
            "The value {} for parameter HistoryItemType is invalid.",
            kind.unwrap_or_default()
        )));
    }
    let from = time_of(input, "StartDate")?.map(ms);
    let to = time_of(input, "EndDate")?.map(ms);
    let max = int_of(input, "MaxRecords")?.unwrap_or(100);
    if !(1..=100).contains(&max) {
        return Err(invalid(
            "The parameter MaxRecords must be between 1 and 100.",
        ));
    }
    let ascending = str_of(input, "ScanBy") == Some("TimestampAscending");
    let mut items: Vec<Value> = store
        .read(|tx| tx.list(&call.region, HISTORY))?
        .into_iter()
        .filter(|h| name.is_none_or(|n| str_of(h, "AlarmName") == Some(n)))
        .filter(|h| kind.is_none_or(|k| str_of(h, "HistoryItemType") == Some(k)))
        .filter(|h| {
            let t = str_of(h, "Timestamp")
                .and_then(crate::services::query_form::parse_time)
                .map_or(0, ms);
            from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e)
        })
        .collect();
    if !ascending {
        items.reverse();
    }
    let start = offset(input)?;
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max as usize).collect();
    let mut out = json!({"AlarmHistoryItems": page});
    if start + (max as usize) < total {
        out["NextToken"] = json!(token(start + max as usize));
    }
    Ok(Some(out))
}
