//! Reading metrics back: statistics over periods (`GetMetricStatistics`, `GetMetricData`,
//! alarm evaluation), with the rounding and retention rules of SPEC.md §24.4.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{json, Value};

use super::metrics::{
    dimensions, metric_key, ms, samples, time, Sample, DAY_MS, HOUR_MS, RETENTION_MS, STATISTICS,
    UNITS,
};
use super::{invalid, offset, token};
use crate::call::Call;
use crate::error::ApiError;
use crate::services::query_form::{int_of, iso8601, list_of, str_of, strings_of, time_of, MAP};
use crate::store::{Store, Tx};

/// At most this many data points per `GetMetricStatistics` call.
const MAX_POINTS: i64 = 1440;

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

/// A metric's namespace, name and dimensions.
type MetricId = (String, String, Vec<(String, String)>);

/// The metric identity a `Metric`-like member names.
fn metric_of(v: &Value) -> Result<MetricId, ApiError> {
    let ns = str_of(v, "Namespace")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Namespace"))?;
    let name = str_of(v, "MetricName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("MetricName"))?;
    Ok((ns.to_string(), name.to_string(), dimensions(v)?))
}

/// Buckets of `period_s` seconds from `first` up to `end` (epoch milliseconds).
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub first: i64,
    pub end: i64,
    pub period_s: i64,
}

/// Per-bucket samples of one metric over a window, only buckets with data, oldest first;
/// `unit` keeps only samples of that unit.
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
