//! Metric data: `PutMetricData`, `ListMetrics`, `GetMetricStatistics`, `GetMetricData`, and
//! [`publish`] for the data plane's own metrics. Retention and resolution follow SPEC.md §24.4.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{invalid, offset, token};
use crate::call::Call;
use crate::error::ApiError;
use crate::services::query_form::{
    float_of, int_of, iso8601, list_of, str_of, strings_of, time_of, MAP,
};
use crate::store::{Store, Tx};

/// Store kinds.
const METRICS: &str = "Metrics";
const METRIC_DATA: &str = "MetricData";

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// Metrics expire 15 months (455 days) after their data points.
const RETENTION_MS: i64 = 455 * DAY_MS;
/// At most this many data points per `GetMetricStatistics` call.
const MAX_POINTS: i64 = 1440;
/// `ListMetrics` pages.
const LIST_PAGE: usize = 500;

/// CloudWatch's units.
const UNITS: &[&str] = &[
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

const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

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

/// A statistic over samples: `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum` or a
/// percentile `pNN(.NN)` (nearest rank; absent when only statistic sets were published).
pub(super) fn statistic(samples: &[&Sample], stat: &str) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let count: f64 = samples.iter().map(|s| s.count).sum();
    let sum: f64 = samples.iter().map(|s| s.sum).sum();
    match stat {
        "SampleCount" => Some(count),
        "Sum" => Some(sum),
        "Average" => (count > 0.0).then(|| sum / count),
        "Minimum" => samples.iter().map(|s| s.min).reduce(f64::min),
        "Maximum" => samples.iter().map(|s| s.max).reduce(f64::max),
        p => {
            let q: f64 = percentile(p)?;
            let mut v: Vec<f64> = samples
                .iter()
                .flat_map(|s| s.values.iter().copied())
                .collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            let rank = ((q / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
            Some(v[rank.min(v.len()) - 1])
        }
    }
}

/// The percentile a `pNN(.NN)` statistic names.
pub(super) fn percentile(stat: &str) -> Option<f64> {
    stat.strip_prefix('p')?
        .parse::<f64>()
        .ok()
        .filter(|q| (0.0..=100.0).contains(q))
}

/// A statistic name a caller may ask for.
pub(super) fn check_stat(stat: &str) -> Result<(), ApiError> {
    if STATISTICS.contains(&stat) || percentile(stat).is_some() {
        return Ok(());
    }
    Err(invalid(format!(
        "The value {stat} for parameter Statistic is invalid."
    )))
}

/// A period AWS accepts: 1, 5, 10, 20, 30 or a multiple of 60 seconds.
pub(super) fn check_period(period: i64, what: &str) -> Result<(), ApiError> {
    if [1, 5, 10, 20, 30].contains(&period) || (period >= 60 && period % 60 == 0) {
        return Ok(());
    }
    Err(invalid(format!(
        "The parameter {what} must be 1, 5, 10, 20, 30, or a multiple of 60."
    )))
}

/// The buckets `[start, start + period)` over a time range: the start rounded down as AWS
/// rounds it by age, and `None` when the period is finer than the data kept at that age.
fn buckets(
    start: SystemTime,
    end: SystemTime,
    period_s: i64,
    now: SystemTime,
) -> Option<(i64, i64)> {
    let (start, end) = (ms(start), ms(end));
    let age = ms(now) - start;
    let (round, coarsest) = if age > 63 * DAY_MS {
        (HOUR_MS, 3600)
    } else if age > 15 * DAY_MS {
        (300_000, 300)
    } else if age > 3 * HOUR_MS {
        (60_000, 60)
    } else {
        (if period_s >= 60 { 60_000 } else { 1000 }, 1)
    };
    if period_s % coarsest != 0 {
        return None;
    }
    Some((start - start.rem_euclid(round), end))
}

/// The metric identity a `Metric`-like member names.
/// A metric's namespace, name and dimensions.
type MetricId = (String, String, Vec<(String, String)>);

fn metric_of(v: &Value) -> Result<MetricId, ApiError> {
    let ns = str_of(v, "Namespace")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Namespace"))?;
    let name = str_of(v, "MetricName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("MetricName"))?;
    Ok((ns.to_string(), name.to_string(), dimensions(v)?))
}

/// Per-bucket samples of one metric over `[first, end)` in steps of `period_s`, only buckets
/// with data, oldest first; `unit` keeps only samples of that unit.
/// Buckets of `period_s` seconds from `first` up to `end` (epoch milliseconds).
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub first: i64,
    pub end: i64,
    pub period_s: i64,
}

pub(super) fn bucketed(
    tx: &Tx<'_>,
    region: &str,
    key: &str,
    w: Window,
    unit: Option<&str>,
    now: SystemTime,
) -> Result<Vec<(i64, Vec<Sample>)>, ApiError> {
    let Window {
        first,
        end,
        period_s,
    } = w;
    let from = first.max(ms(now) - RETENTION_MS);
    let step = period_s * 1000;
    let mut by_bucket: BTreeMap<i64, Vec<Sample>> = BTreeMap::new();
    for s in samples(tx, region, key, from, end)? {
        if unit.is_some_and(|u| u != s.unit) {
            continue;
        }
        let b = first + (s.t_ms - first).div_euclid(step) * step;
        by_bucket.entry(b).or_default().push(s);
    }
    Ok(by_bucket.into_iter().collect())
}

pub(super) fn get_metric_statistics(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let (ns, name, dims) = metric_of(input)?;
    let start =
        time_of(input, "StartTime")?.ok_or_else(|| ApiError::missing_parameter("StartTime"))?;
    let end = time_of(input, "EndTime")?.ok_or_else(|| ApiError::missing_parameter("EndTime"))?;
    let period = int_of(input, "Period")?.ok_or_else(|| ApiError::missing_parameter("Period"))?;
    check_period(period, "Period")?;
    let stats = strings_of(input, "Statistics");
    let extended = strings_of(input, "ExtendedStatistics");
    if stats.is_empty() == extended.is_empty() {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            "Must specify either Statistics or ExtendedStatistics, but not both.",
        ));
    }
    for s in &stats {
        if !STATISTICS.contains(&s.as_str()) {
            return Err(invalid(format!(
                "The value {s} for parameter Statistics is invalid."
            )));
        }
    }
    for s in &extended {
        if percentile(s).is_none() {
            return Err(invalid(format!(
                "The value {s} for parameter ExtendedStatistics is invalid."
            )));
        }
    }
    let unit = str_of(input, "Unit");
    if unit.is_some_and(|u| !UNITS.contains(&u)) {
        return Err(invalid(format!(
            "The value {} for parameter Unit is invalid.",
            unit.unwrap_or_default()
        )));
    }
    if start >= end {
        return Err(invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let requested = (ms(end) - ms(start) + period * 1000 - 1) / (period * 1000);
    if requested > MAX_POINTS {
        return Err(ApiError::client("InvalidParameterCombination", format!(
            "You have requested up to {requested} datapoints, which exceeds the limit of {MAX_POINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let key = metric_key(&ns, &name, &dims);
    let points = match buckets(start, end, period, call.now) {
        None => Vec::new(),
        Some((first, end)) => store.read(|tx| {
            bucketed(
                tx,
                &call.region,
                &key,
                Window {
                    first,
                    end,
                    period_s: period,
                },
                unit,
                call.now,
            )
        })?,
    };
    let datapoints: Vec<Value> = points
        .iter()
        .map(|(t, samples)| {
            let refs: Vec<&Sample> = samples.iter().collect();
            let mut d = json!({"Timestamp": iso8601(time(*t))});
            for s in &stats {
                if let Some(v) = statistic(&refs, s) {
                    d[s.as_str()] = json!(v);
                }
            }
            if !extended.is_empty() {
                let mut m = serde_json::Map::new();
                for s in &extended {
                    if let Some(v) = statistic(&refs, s) {
                        m.insert(s.clone(), json!(v));
                    }
                }
                d["ExtendedStatistics"] = json!({ MAP: m });
            }
            d["Unit"] = json!(unit.unwrap_or(samples[0].unit.as_str()));
            d
        })
        .collect();
    Ok(Some(json!({"Label": name, "Datapoints": datapoints})))
}

pub(super) fn get_metric_data(
    store: &Store,
    call: &Call,
    input: &Value,
) -> Result<Option<Value>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let queries = list_of(input, "MetricDataQueries");
    if queries.is_empty() {
        return Err(ApiError::missing_parameter("MetricDataQueries"));
    }
    if queries.len() > 500 {
        return Err(invalid(
            "The collection MetricDataQueries must not have a size greater than 500.",
        ));
    }
    let start =
        time_of(input, "StartTime")?.ok_or_else(|| ApiError::missing_parameter("StartTime"))?;
    let end = time_of(input, "EndTime")?.ok_or_else(|| ApiError::missing_parameter("EndTime"))?;
    if start >= end {
        return Err(invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let descending = match str_of(input, "ScanBy").unwrap_or("TimestampDescending") {
        "TimestampDescending" => true,
        "TimestampAscending" => false,
        x => {
            return Err(invalid(format!(
                "The value {x} for parameter ScanBy is invalid."
            )))
        }
    };
    let max = int_of(input, "MaxDatapoints")?.unwrap_or(100_800).max(1) as usize;
    // Every returned point of every query, in answer order; a page is a slice of it.
    let mut results: Vec<(Value, Vec<(i64, f64)>)> = Vec::new();
    for q in queries {
        let id = str_of(q, "Id").unwrap_or_default();
        if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid(format!("The value {id} for parameter MetricDataQueries.member.Id is invalid: it must start with a lowercase letter.")));
        }
        if q.get("Expression").is_some_and(|e| !e.is_null()) {
            return Err(invalid("Metric math expressions are not supported by this endpoint; use MetricStat queries."));
        }
        let stat_q = q
            .get("MetricStat")
            .filter(|v| !v.is_null())
            .ok_or_else(|| ApiError::missing_parameter("MetricDataQueries.member.MetricStat"))?;
        let (ns, name, dims) = metric_of(stat_q.get("Metric").unwrap_or(&Value::Null))?;
        let period = int_of(stat_q, "Period")?
            .ok_or_else(|| ApiError::missing_parameter("MetricStat.Period"))?;
        check_period(period, "MetricStat.Period")?;
        let stat =
            str_of(stat_q, "Stat").ok_or_else(|| ApiError::missing_parameter("MetricStat.Stat"))?;
        check_stat(stat)?;
        let unit = str_of(stat_q, "Unit");
        let key = metric_key(&ns, &name, &dims);
        let mut points: Vec<(i64, f64)> = match buckets(start, end, period, call.now) {
            None => Vec::new(),
            Some((first, end)) => store
                .read(|tx| {
                    bucketed(
                        tx,
                        &call.region,
                        &key,
                        Window {
                            first,
                            end,
                            period_s: period,
                        },
                        unit,
                        call.now,
                    )
                })?
                .into_iter()
                .filter_map(|(t, s)| Some((t, statistic(&s.iter().collect::<Vec<_>>(), stat)?)))
                .collect(),
        };
        if descending {
            points.reverse();
        }
        let returned = q
            .get("ReturnData")
            .and_then(|r| r.as_bool().or_else(|| r.as_str().map(|s| s == "true")))
            .unwrap_or(true);
        if returned {
            let label = str_of(q, "Label").unwrap_or(&name).to_string();
            results.push((json!({"Id": id, "Label": label}), points));
        }
    }
    let skip = offset(input)?;
    let total: usize = results.iter().map(|(_, p)| p.len()).sum();
    let mut seen = 0usize;
    let mut out = Vec::new();
    for (mut head, points) in results {
        let from = skip.saturating_sub(seen).min(points.len());
        let room = (skip + max).saturating_sub(seen.max(skip));
        let to = (from + room).min(points.len());
        let slice = &points[from..to];
        head["Timestamps"] = json!(slice
            .iter()
            .map(|(t, _)| iso8601(time(*t)))
            .collect::<Vec<_>>());
        head["Values"] = json!(slice.iter().map(|(_, v)| *v).collect::<Vec<_>>());
        head["StatusCode"] = json!(if to < points.len() {
            "PartialData"
        } else {
            "Complete"
        });
        seen += points.len();
        out.push(head);
    }
    let mut answer = json!({"MetricDataResults": out, "Messages": []});
    if skip + max < total {
        answer["NextToken"] = json!(token(skip + max));
    }
    Ok(Some(answer))
}
