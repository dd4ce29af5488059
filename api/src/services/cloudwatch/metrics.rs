//! Metric data: `PutMetricData`, `ListMetrics`, `GetMetricStatistics`, `GetMetricData`, and
//! [`publish`] for the data plane's own metrics. Retention and resolution follow SPEC.md §24.4.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{invalid, offset, token};
use crate::call::Call;
use crate::error::ApiError;
use crate::services::query_form::{float_of, int_of, list_of, str_of, time_of};
use crate::store::{Store, Tx};

/// Store kinds.
const METRICS: &str = "Metrics";
const METRIC_DATA: &str = "MetricData";

pub(super) const DAY_MS: i64 = 86_400_000;
pub(super) const HOUR_MS: i64 = 3_600_000;
/// Metrics expire 15 months (455 days) after their data points.
pub(super) const RETENTION_MS: i64 = 455 * DAY_MS;
/// `ListMetrics` pages.
const LIST_PAGE: usize = 500;

/// CloudWatch's units.
pub(super) const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

pub(super) const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// A metric dimension as published: `(name, value)`.
pub type Dimension<'a> = (&'a str, &'a str);

/// One stored sample: a value, a statistic set, or a values/counts distribution, at a
/// resolution-truncated time.
#[derive(Debug, Clone)]
pub(super) struct Sample {
    pub t_ms: i64,
    pub count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub unit: String,
    /// Raw values (with repetition) for percentiles; empty for statistic sets.
    pub values: Vec<f64>,
}

impl Sample {
    fn to_json(&self) -> Value {
        json!([
            self.t_ms,
            self.count,
            self.sum,
            self.min,
            self.max,
            self.unit,
            self.values
        ])
    }

    fn from_json(v: &Value) -> Option<Sample> {
        let a = v.as_array()?;
        Some(Sample {
            t_ms: a.first()?.as_i64()?,
            count: a.get(1)?.as_f64()?,
            sum: a.get(2)?.as_f64()?,
            min: a.get(3)?.as_f64()?,
            max: a.get(4)?.as_f64()?,
            unit: a.get(5)?.as_str()?.to_string(),
            values: a
                .get(6)?
                .as_array()?
                .iter()
                .filter_map(Value::as_f64)
                .collect(),
        })
    }
}

pub(super) fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(super) fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

/// The identity of a metric: namespace, name and its dimensions sorted by name.
pub(super) fn metric_key(namespace: &str, name: &str, dims: &[(String, String)]) -> String {
    let mut d: Vec<&(String, String)> = dims.iter().collect();
    d.sort();
    let mut k = format!("{namespace}\u{1f}{name}");
    for (n, v) in d {
        k.push('\u{1f}');
        k.push_str(n);
        k.push('=');
        k.push_str(v);
    }
    k
}

/// The `Dimensions` of a request member, checked (at most 30, names and values non-empty).
pub(super) fn dimensions(v: &Value) -> Result<Vec<(String, String)>, ApiError> {
    let d: Vec<(String, String)> = list_of(v, "Dimensions")
        .iter()
        .map(|d| {
            let n = str_of(d, "Name").unwrap_or_default();
            let x = str_of(d, "Value").unwrap_or_default();
            if n.is_empty() || x.is_empty() {
                return Err(invalid("Dimension names and values must not be empty."));
            }
            Ok((n.to_string(), x.to_string()))
        })
        .collect::<Result<_, _>>()?;
    if d.len() > 30 {
        return Err(invalid("A metric can have at most 30 dimensions."));
    }
    Ok(d)
}

fn dims_json(dims: &[(String, String)]) -> Value {
    let mut d = dims.to_vec();
    d.sort();
    Value::Array(
        d.iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect(),
    )
}

/// Stores samples of one metric; `high_resolution` keeps seconds, otherwise minutes.
fn store_samples(
    tx: &Tx<'_>,
    region: &str,
    namespace: &str,
    name: &str,
    dims: &[(String, String)],
    samples: Vec<Sample>,
) -> Result<(), ApiError> {
    let key = metric_key(namespace, name, dims);
    let mut metric = tx.get(region, METRICS, &key)?.unwrap_or_else(
        || json!({"Namespace": namespace, "MetricName": name, "Dimensions": dims_json(dims)}),
    );
    let last = samples.iter().map(|s| s.t_ms).max().unwrap_or(0);
    if int_of(&metric, "LastPutMs")?.unwrap_or(0) < last {
        metric["LastPutMs"] = json!(last);
    }
    tx.put(region, METRICS, &key, &metric)?;
    let mut by_day: BTreeMap<i64, Vec<Sample>> = BTreeMap::new();
    for s in samples {
        by_day.entry(s.t_ms.div_euclid(DAY_MS)).or_default().push(s);
    }
    for (day, list) in by_day {
        let id = format!("{key}\u{1e}{day}");
        let mut doc = tx
            .get(region, METRIC_DATA, &id)?
            .unwrap_or_else(|| json!({"p": []}));
        if let Some(points) = doc["p"].as_array_mut() {
            points.extend(list.iter().map(Sample::to_json));
        }
        tx.put(region, METRIC_DATA, &id, &doc)?;
    }
    Ok(())
}

/// The samples of metric `key` with `from_ms <= t < to_ms`.
pub(super) fn samples(
    tx: &Tx<'_>,
    region: &str,
    key: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Sample>, ApiError> {
    let mut out = Vec::new();
    if to_ms <= from_ms {
        return Ok(out);
    }
    for day in from_ms.div_euclid(DAY_MS)..=(to_ms - 1).div_euclid(DAY_MS) {
        let Some(doc) = tx.get(region, METRIC_DATA, &format!("{key}\u{1e}{day}"))? else {
            continue;
        };
        out.extend(
            list_of(&doc, "p")
                .iter()
                .filter_map(Sample::from_json)
                .filter(|s| s.t_ms >= from_ms && s.t_ms < to_ms),
        );
    }
    Ok(out)
}

/// Publishes one data point of the data plane's own metrics (`AWS/NATGateway`,
/// `AWS/NetworkELB`, `AWS/ApplicationELB`, SPEC.md §24.3) at one-minute resolution.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    store: &Store,
    region: &str,
    namespace: &str,
    name: &str,
    dimensions: &[Dimension<'_>],
    value: f64,
    unit: &str,
    time: SystemTime,
) -> Result<(), ApiError> {
    if !value.is_finite() {
        return Err(invalid(format!(
            "The value {value} for metric {name} is not a finite number."
        )));
    }
    let dims: Vec<(String, String)> = dimensions
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let t = ms(time) - ms(time).rem_euclid(60_000);
    let sample = Sample {
        t_ms: t,
        count: 1.0,
        sum: value,
        min: value,
        max: value,
        unit: unit.to_string(),
        values: vec![value],
    };
    store.write(|tx| store_samples(tx, region, namespace, name, &dims, vec![sample]))
}

fn finite(v: f64, what: &str) -> Result<f64, ApiError> {
    // AWS rejects values too small or too large as well as NaN and infinities.
    if !v.is_finite() || v.abs() > 2f64.powi(360) {
        return Err(invalid(format!(
            "The value {v} for parameter {what} is invalid."
        )));
    }
    Ok(v)
}

/// One `MetricData` member as samples, checked.
fn datum_samples(d: &Value, i: usize, now: SystemTime) -> Result<Vec<Sample>, ApiError> {
    let at = |m: &str| format!("MetricData.member.{i}.{m}");
    let unit = str_of(d, "Unit").unwrap_or("None").to_string();
    if !UNITS.contains(&unit.as_str()) {
        return Err(invalid(format!(
            "The value {unit} for parameter {} is invalid.",
            at("Unit")
        )));
    }
    let t = time_of(d, "Timestamp")?.unwrap_or(now);
    if t + Duration::from_secs(14 * 86_400) < now {
        return Err(invalid(format!(
            "The parameter {} must specify a time no more than two weeks in the past.",
            at("Timestamp")
        )));
    }
    if t > now + Duration::from_secs(2 * 3600) {
        return Err(invalid(format!(
            "The parameter {} must specify a time no more than two hours in the future.",
            at("Timestamp")
        )));
    }
    let resolution = int_of(d, "StorageResolution")?.unwrap_or(60);
    let step = match resolution {
        1 => 1000,
        60 => 60_000,
        r => {
            return Err(invalid(format!(
                "The value {r} for parameter {} is invalid.",
                at("StorageResolution")
            )))
        }
    };
    let t_ms = ms(t) - ms(t).rem_euclid(step);
    let value = float_of(d, "Value")?;
    let set = d.get("StatisticValues").filter(|v| !v.is_null());
    let values = list_of(d, "Values");
    let given = [value.is_some(), set.is_some(), !values.is_empty()]
        .iter()
        .filter(|x| **x)
        .count();
    if given != 1 {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            format!("The parameters {0}.Value, {0}.StatisticValues and {0}.Values are mutually exclusive and you must specify one of them.", format!("MetricData.member.{i}")),
        ));
    }
    if let Some(v) = value {
        let v = finite(v, &at("Value"))?;
        return Ok(vec![Sample {
            t_ms,
            count: 1.0,
            sum: v,
            min: v,
            max: v,
            unit,
            values: vec![v],
        }]);
    }
    if let Some(s) = set {
        let get = |k: &str| -> Result<f64, ApiError> {
            let v = float_of(s, k)?
                .ok_or_else(|| ApiError::missing_parameter(&at(&format!("StatisticValues.{k}"))))?;
            finite(v, &at(&format!("StatisticValues.{k}")))
        };
        let (count, sum, min, max) = (
            get("SampleCount")?,
            get("Sum")?,
            get("Minimum")?,
            get("Maximum")?,
        );
        if count <= 0.0 || min > max {
            return Err(invalid(format!("The parameter {} is invalid: SampleCount must be positive and Minimum at most Maximum.", at("StatisticValues"))));
        }
        return Ok(vec![Sample {
            t_ms,
            count,
            sum,
            min,
            max,
            unit,
            values: vec![],
        }]);
    }
    let counts = list_of(d, "Counts");
    if !counts.is_empty() && counts.len() != values.len() {
        return Err(invalid(format!(
            "The parameters {} and {} must be of the same size.",
            at("Values"),
            at("Counts")
        )));
    }
    let mut s = Sample {
        t_ms,
        count: 0.0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        unit,
        values: vec![],
    };
    for (j, v) in values.iter().enumerate() {
        let v = finite(
            float_of(&json!({"v": v}), "v")?.unwrap_or(f64::NAN),
            &at("Values"),
        )?;
        let c = match counts.get(j) {
            Some(c) => float_of(&json!({"c": c}), "c")?.unwrap_or(1.0),
            None => 1.0,
        };
        s.count += c;
        s.sum += v * c;
        s.min = s.min.min(v);
        s.max = s.max.max(v);
        // Repetition kept for percentiles, bounded so a huge count cannot exhaust memory.
        s.values
            .extend(std::iter::repeat_n(v, (c.max(0.0) as usize).min(10_000)));
    }
    Ok(vec![s])
}

pub(super) fn put_metric_data(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let namespace = str_of(input, "Namespace")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Namespace"))?;
    if namespace.starts_with("AWS/") {
        return Err(invalid(format!("The value {namespace} for parameter Namespace is invalid: namespaces beginning with AWS/ are reserved for AWS services.")));
    }
    let data = list_of(input, "MetricData");
    if data.is_empty() {
        return Err(ApiError::missing_parameter("MetricData"));
    }
    if data.len() > 1000 {
        return Err(invalid(
            "The collection MetricData must not have a size greater than 1000.",
        ));
    }
    let mut prepared = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let name = str_of(d, "MetricName")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::missing_parameter(&format!("MetricData.member.{}.MetricName", i + 1))
            })?;
        prepared.push((
            name.to_string(),
            dimensions(d)?,
            datum_samples(d, i + 1, call.now)?,
        ));
    }
    store.write(|tx| {
        for (name, dims, samples) in prepared {
            store_samples(tx, &call.region, namespace, &name, &dims, samples)?;
        }
        Ok(())
    })?;
    Ok(None)
}

pub(super) fn list_metrics(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let namespace = str_of(input, "Namespace");
    let name = str_of(input, "MetricName");
    let filters: Vec<(String, Option<String>)> = list_of(input, "Dimensions")
        .iter()
        .map(|f| {
            (
                str_of(f, "Name").unwrap_or_default().to_string(),
                str_of(f, "Value").map(str::to_string),
            )
        })
        .collect();
    let recent = match str_of(input, "RecentlyActive") {
        None => None,
        Some("PT3H") => Some(ms(call.now) - 3 * HOUR_MS),
        Some(x) => {
            return Err(invalid(format!(
                "The value {x} for parameter RecentlyActive is invalid."
            )))
        }
    };
    let expired = ms(call.now) - RETENTION_MS;
    let all = store.read(|tx| tx.list(&call.region, METRICS))?;
    let mut matching: Vec<Value> = all
        .into_iter()
        .filter(|m| namespace.is_none_or(|n| str_of(m, "Namespace") == Some(n)))
        .filter(|m| name.is_none_or(|n| str_of(m, "MetricName") == Some(n)))
        .filter(|m| {
            filters.iter().all(|(fname, fvalue)| {
                list_of(m, "Dimensions").iter().any(|d| {
                    str_of(d, "Name") == Some(fname.as_str()) && fvalue.as_deref().is_none_or(|v| str_of(d, "Value") == Some(v))
                })
            })
        })
        .filter(|m| {
            let last = int_of(m, "LastPutMs").ok().flatten().unwrap_or(0);
            last >= expired && recent.is_none_or(|r| last >= r)
        })
        .map(|m| json!({"Namespace": m["Namespace"], "MetricName": m["MetricName"], "Dimensions": m["Dimensions"]}))
        .collect();
    let start = offset(input)?;
    let total = matching.len();
    let page: Vec<Value> = matching.drain(..).skip(start).take(LIST_PAGE).collect();
    let mut out = json!({"Metrics": page});
    if start + LIST_PAGE < total {
        out["NextToken"] = json!(token(start + LIST_PAGE));
    }
    Ok(Some(out))
}
