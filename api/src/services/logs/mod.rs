//! Amazon CloudWatch Logs (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`, SPEC.md §22.7):
//! log groups, log streams, `PutLogEvents`, `GetLogEvents` and `FilterLogEvents`. VPC flow logs
//! are delivered here through [`deliver`] (one stream per network interface).
//!
//! Groups (`LogGroups`) and streams (`LogStreams`) are documents of the region's partition in
//! the shapes `aws logs describe-*` prints; a stream's events are kept in chunks
//! (`LogEvents`, at most [`CHUNK`] events each) so an append rewrites one small document.

mod filter;

use std::time::SystemTime;

use serde_json::{json, Value};

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::services::query_form::{bool_of, int_of, list_of, str_of, strings_of};
use crate::store::{Store, Tx};

const GROUPS: &str = "LogGroups";
const STREAMS: &str = "LogStreams";
const EVENTS: &str = "LogEvents";
/// Events per stored chunk.
pub const CHUNK: usize = 1000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// AWS's batch limits for `PutLogEvents`.
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
/// `GetLogEvents` and `FilterLogEvents` return at most this many events.
const MAX_EVENTS: usize = 10_000;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidParameterException", message)
}

fn group_not_found() -> ApiError {
    ApiError::client(
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
}

fn stream_not_found() -> ApiError {
    ApiError::client(
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
}

fn ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn stream_id(group: &str, stream: &str) -> String {
    format!("{group}\u{1f}{stream}")
}

fn group_arn(call: &Call, group: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{group}",
        call.region, call.account
    )
}

fn check_group_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c));
    if !ok {
        return Err(invalid(format!("1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")));
    }
    Ok(())
}

fn check_stream_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 512 || name.contains(':') || name.contains('*') {
        return Err(invalid(format!("1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")));
    }
    Ok(())
}

fn required<'a>(input: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    str_of(input, key)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(format!("1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null")))
}

/// An opaque paging token for an offset.
fn token(offset: usize) -> String {
    format!("lg{:x}", offset ^ 0x2d2d)
}

fn offset(input: &Value) -> Result<usize, ApiError> {
    match str_of(input, "nextToken") {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("lg")
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .map(|x| x ^ 0x2d2d)
            .ok_or_else(|| invalid("The specified nextToken is not valid.")),
    }
}

fn limit(input: &Value, max: i64, default: i64) -> Result<usize, ApiError> {
    let l = int_of(input, "limit")?.unwrap_or(default);
    if !(1..=max).contains(&l) {
        return Err(invalid(format!("1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {max}")));
    }
    Ok(l as usize)
}

/// Answers one CloudWatch Logs call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let empty = json!({});
    let input = call.json.as_ref().unwrap_or(&empty);
    let out = match call.action.as_str() {
        "CreateLogGroup" => create_log_group(store, call, input)?,
        "DescribeLogGroups" => describe_log_groups(store, call, input)?,
        "DeleteLogGroup" => delete_log_group(store, call, input)?,
        "CreateLogStream" => create_log_stream(store, call, input)?,
        "DescribeLogStreams" => describe_log_streams(store, call, input)?,
        "PutLogEvents" => put_log_events(store, call, input)?,
        "GetLogEvents" => get_log_events(store, call, input)?,
        "FilterLogEvents" => filter_log_events(store, call, input)?,
        other => {
            return Err(ApiError::client(
                "UnknownOperationException",
                format!("Unknown operation {other}"),
            ))
        }
    };
    Ok(Reply::Json(out))
}

fn new_group(region: &str, account: &str, name: &str, now: SystemTime) -> Value {
    let arn = format!("arn:aws:logs:{region}:{account}:log-group:{name}");
    json!({"logGroupName": name, "creationTime": ms(now), "metricFilterCount": 0,
        "arn": format!("{arn}:*"), "logGroupArn": arn, "storedBytes": 0, "logGroupClass": "STANDARD"})
}

fn new_stream(region: &str, account: &str, group: &str, name: &str, now: SystemTime) -> Value {
    json!({"logStreamName": name, "creationTime": ms(now), "storedBytes": 0,
        "arn": format!("arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{name}"), "chunks": 0})
}

fn create_log_group(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    let name = required(input, "logGroupName")?;
    call.authorize(&[group_arn(call, name)], &[])?;
    check_group_name(name)?;
    store.write(|tx| {
        if tx.get(&call.region, GROUPS, name)?.is_some() {
            return Err(ApiError::client(
                "ResourceAlreadyExistsException",
                "The specified log group already exists",
            ));
        }
        let mut g = new_group(&call.region, &call.account, name, call.now);
        if let Some(class) = str_of(input, "logGroupClass") {
            if !["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"].contains(&class) {
                return Err(invalid(format!("Log group class '{class}' is not valid")));
            }
            g["logGroupClass"] = json!(class);
        }
        tx.put(&call.region, GROUPS, name, &g)
    })?;
    Ok(json!({}))
}

fn describe_log_groups(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let prefix = str_of(input, "logGroupNamePrefix");
    let pattern = str_of(input, "logGroupNamePattern");
    if prefix.is_some() && pattern.is_some() {
        return Err(invalid(
            "logGroupNamePrefix and logGroupNamePattern are mutually exclusive",
        ));
    }
    let max = limit(input, 50, 50)?;
    let mut groups: Vec<Value> = store
        .read(|tx| tx.list(&call.region, GROUPS))?
        .into_iter()
        .filter(|g| {
            let n = str_of(g, "logGroupName").unwrap_or_default();
            prefix.is_none_or(|p| n.starts_with(p))
                && pattern.is_none_or(|p| n.to_lowercase().contains(&p.to_lowercase()))
        })
        .collect();
    groups.sort_by(|a, b| str_of(a, "logGroupName").cmp(&str_of(b, "logGroupName")));
    let start = offset(input)?;
    let total = groups.len();
    let page: Vec<Value> = groups.into_iter().skip(start).take(max).collect();
    let mut out = json!({"logGroups": page});
    if start + max < total {
        out["nextToken"] = json!(token(start + max));
    }
    Ok(out)
}

fn delete_log_group(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    let name = required(input, "logGroupName")?;
    call.authorize(&[group_arn(call, name)], &[])?;
    store.write(|tx| {
        if !tx.delete(&call.region, GROUPS, name)? {
            return Err(group_not_found());
        }
        for s in streams_of(tx, &call.region, name)? {
            let sname = str_of(&s, "logStreamName").unwrap_or_default();
            delete_stream_events(tx, &call.region, name, sname, &s)?;
            tx.delete(&call.region, STREAMS, &stream_id(name, sname))?;
        }
        Ok(())
    })?;
    Ok(json!({}))
}

fn streams_of(tx: &Tx<'_>, region: &str, group: &str) -> Result<Vec<Value>, ApiError> {
    Ok(tx
        .list(region, STREAMS)?
        .into_iter()
        .filter(|s| str_of(s, "logGroupName") == Some(group))
        .collect())
}

fn delete_stream_events(
    tx: &Tx<'_>,
    region: &str,
    group: &str,
    stream: &str,
    doc: &Value,
) -> Result<(), ApiError> {
    let chunks = int_of(doc, "chunks")?.unwrap_or(0);
    for c in 0..chunks {
        tx.delete(
            region,
            EVENTS,
            &format!("{}\u{1e}{c}", stream_id(group, stream)),
        )?;
    }
    Ok(())
}

fn create_log_stream(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    let group = required(input, "logGroupName")?;
    let name = required(input, "logStreamName")?;
    call.authorize(&[group_arn(call, group)], &[])?;
    check_stream_name(name)?;
    store.write(|tx| {
        if tx.get(&call.region, GROUPS, group)?.is_none() {
            return Err(group_not_found());
        }
        let id = stream_id(group, name);
        if tx.get(&call.region, STREAMS, &id)?.is_some() {
            return Err(ApiError::client(
                "ResourceAlreadyExistsException",
                "The specified log stream already exists",
            ));
        }
        let mut s = new_stream(&call.region, &call.account, group, name, call.now);
        s["logGroupName"] = json!(group);
        tx.put(&call.region, STREAMS, &id, &s)
    })?;
    Ok(json!({}))
}

/// A stream as `describe-log-streams` prints it (without the bookkeeping members).
fn render_stream(s: &Value) -> Value {
    let mut v = s.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("chunks");
        m.remove("logGroupName");
    }
    v
}

fn describe_log_streams(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    let group = required(input, "logGroupName")?;
    call.authorize(&[group_arn(call, group)], &[])?;
    let prefix = str_of(input, "logStreamNamePrefix");
    let by_time = match str_of(input, "orderBy").unwrap_or("LogStreamName") {
        "LogStreamName" => false,
        "LastEventTime" if prefix.is_some() => {
            return Err(invalid(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ))
        }
        "LastEventTime" => true,
        other => return Err(invalid(format!("orderBy '{other}' is not valid"))),
    };
    let descending = bool_of(input, "descending")?.unwrap_or(false);
    let max = limit(input, 50, 50)?;
    let mut streams = store.read(|tx| {
        if tx.get(&call.region, GROUPS, group)?.is_none() {
            return Err(group_not_found());
        }
        streams_of(tx, &call.region, group)
    })?;
    streams.retain(|s| {
        prefix.is_none_or(|p| str_of(s, "logStreamName").is_some_and(|n| n.starts_with(p)))
    });
    if by_time {
        streams.sort_by_key(|s| int_of(s, "lastEventTimestamp").ok().flatten().unwrap_or(0));
    } else {
        streams.sort_by(|a, b| str_of(a, "logStreamName").cmp(&str_of(b, "logStreamName")));
    }
    if descending {
        streams.reverse();
    }
    let start = offset(input)?;
    let total = streams.len();
    let page: Vec<Value> = streams
        .iter()
        .skip(start)
        .take(max)
        .map(render_stream)
        .collect();
    let mut out = json!({"logStreams": page});
    if start + max < total {
        out["nextToken"] = json!(token(start + max));
    }
    Ok(out)
}

/// Appends events (`(timestamp ms, message)`, already accepted) to a stream, updating it.
fn append(
    tx: &Tx<'_>,
    region: &str,
    group: &str,
    stream: &mut Value,
    events: &[(i64, String)],
    now: SystemTime,
) -> Result<(), ApiError> {
    let name = str_of(stream, "logStreamName")
        .unwrap_or_default()
        .to_string();
    let id = stream_id(group, &name);
    let mut chunks = int_of(stream, "chunks")?.unwrap_or(0);
    let ingested = ms(now);
    let mut current = if chunks > 0 {
        tx.get(region, EVENTS, &format!("{id}\u{1e}{}", chunks - 1))?
            .unwrap_or_else(|| json!({"e": []}))
    } else {
        chunks = 1;
        json!({"e": []})
    };
    let mut bytes = 0i64;
    for (t, m) in events {
        if list_of(&current, "e").len() >= CHUNK {
            tx.put(
                region,
                EVENTS,
                &format!("{id}\u{1e}{}", chunks - 1),
                &current,
            )?;
            chunks += 1;
            current = json!({"e": []});
        }
        if let Some(e) = current["e"].as_array_mut() {
            e.push(json!([t, m, ingested]));
        }
        bytes += m.len() as i64;
    }
    tx.put(
        region,
        EVENTS,
        &format!("{id}\u{1e}{}", chunks - 1),
        &current,
    )?;
    let first = events.iter().map(|(t, _)| *t).min();
    let last = events.iter().map(|(t, _)| *t).max();
    if let Some(f) = first {
        let old = int_of(stream, "firstEventTimestamp")?.unwrap_or(i64::MAX);
        stream["firstEventTimestamp"] = json!(old.min(f));
    }
    if let Some(l) = last {
        let old = int_of(stream, "lastEventTimestamp")?.unwrap_or(i64::MIN);
        stream["lastEventTimestamp"] = json!(old.max(l));
    }
    stream["lastIngestionTime"] = json!(ingested);
    stream["storedBytes"] = json!(int_of(stream, "storedBytes")?.unwrap_or(0) + bytes);
    stream["uploadSequenceToken"] = json!(format!("{:056}", ingested));
    stream["chunks"] = json!(chunks);
    tx.put(region, STREAMS, &id, stream)?;
    if let Some(mut g) = tx.get(region, GROUPS, group)? {
        g["storedBytes"] = json!(int_of(&g, "storedBytes")?.unwrap_or(0) + bytes);
        tx.put(region, GROUPS, group, &g)?;
    }
    Ok(())
}

fn put_log_events(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    let group = required(input, "logGroupName")?;
    let name = required(input, "logStreamName")?;
    call.authorize(&[group_arn(call, group)], &[])?;
    let events = list_of(input, "logEvents");
    if events.is_empty() {
        return Err(invalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(invalid(format!(
            "The batch of log events exceeds the maximum of {MAX_BATCH_EVENTS} events."
        )));
    }
    let mut parsed: Vec<(i64, String)> = Vec::with_capacity(events.len());
    let mut bytes = 0usize;
    for e in events {
        let t =
            int_of(e, "timestamp")?.ok_or_else(|| invalid("Every log event needs a timestamp."))?;
        let m = str_of(e, "message").unwrap_or_default().to_string();
        if m.is_empty() {
            return Err(invalid("Log event messages must not be empty."));
        }
        bytes += m.len() + 26;
        parsed.push((t, m));
    }
    if bytes > MAX_BATCH_BYTES {
        return Err(invalid(
            "The batch of log events exceeds the maximum size of 1,048,576 bytes.",
        ));
    }
    if parsed.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    if parsed.last().map(|l| l.0) > parsed.first().map(|f| f.0 + DAY_MS) {
        return Err(invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours."));
    }
    // Events more than 2 hours ahead or 14 days behind are rejected, the rest accepted.
    let now = ms(call.now);
    let too_new = parsed.iter().position(|(t, _)| *t > now + 2 * HOUR_MS);
    let too_old = parsed.iter().rposition(|(t, _)| *t < now - 14 * DAY_MS);
    let from = too_old.map_or(0, |i| i + 1);
    let to = too_new.unwrap_or(parsed.len()).max(from);
    let token = store.write(|tx| {
        if tx.get(&call.region, GROUPS, group)?.is_none() {
            return Err(group_not_found());
        }
        let mut stream = tx
            .get(&call.region, STREAMS, &stream_id(group, name))?
            .ok_or_else(stream_not_found)?;
        append(
            tx,
            &call.region,
            group,
            &mut stream,
            &parsed[from..to],
            call.now,
        )?;
        Ok(stream["uploadSequenceToken"].clone())
    })?;
    let mut out = json!({"nextSequenceToken": token});
    if too_new.is_some() || too_old.is_some() {
        let mut info = json!({});
        if let Some(i) = too_new {
            info["tooNewLogEventStartIndex"] = json!(i);
        }
        if let Some(i) = too_old {
            info["tooOldLogEventEndIndex"] = json!(i);
        }
        out["rejectedLogEventsInfo"] = info;
    }
    Ok(out)
}

/// One stored event: `(timestamp, message, ingestion time, event id)`.
type Event = (i64, String, i64, String);

/// A stream's events in time order (stable for equal timestamps).
fn stream_events(
    tx: &Tx<'_>,
    region: &str,
    group: &str,
    stream: &Value,
) -> Result<Vec<Event>, ApiError> {
    let name = str_of(stream, "logStreamName").unwrap_or_default();
    let id = stream_id(group, name);
    let mut out = Vec::new();
    for c in 0..int_of(stream, "chunks")?.unwrap_or(0) {
        let Some(doc) = tx.get(region, EVENTS, &format!("{id}\u{1e}{c}"))? else {
            continue;
        };
        for (i, e) in list_of(&doc, "e").iter().enumerate() {
            let (Some(t), Some(m), Some(ing)) = (e[0].as_i64(), e[1].as_str(), e[2].as_i64())
            else {
                continue;
            };
            out.push((
                t,
                m.to_string(),
                ing,
                format!("{:020}{:010}{:06}", t.max(0), c, i),
            ));
        }
    }
    out.sort_by_key(|e| e.0);
    Ok(out)
}

fn get_log_events(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    let group = required(input, "logGroupName")?;
    let name = required(input, "logStreamName")?;
    call.authorize(&[group_arn(call, group)], &[])?;
    let max = limit(input, MAX_EVENTS as i64, MAX_EVENTS as i64)?;
    let from = int_of(input, "startTime")?;
    let to = int_of(input, "endTime")?;
    let events = store.read(|tx| {
        if tx.get(&call.region, GROUPS, group)?.is_none() {
            return Err(group_not_found());
        }
        let stream = tx
            .get(&call.region, STREAMS, &stream_id(group, name))?
            .ok_or_else(stream_not_found)?;
        stream_events(tx, &call.region, group, &stream)
    })?;
    let events: Vec<Event> = events
        .into_iter()
        .filter(|e| from.is_none_or(|f| e.0 >= f) && to.is_none_or(|t| e.0 < t))
        .collect();
    let n = events.len();
    // Tokens are positions: `f/<i>` reads forward from i, `b/<i>` backward from before i.
    let (start, end) = match str_of(input, "nextToken") {
        Some(t) => {
            let pos = |p: &str| {
                p.parse::<usize>()
                    .ok()
                    .filter(|x| *x <= n)
                    .ok_or_else(|| invalid("The specified nextToken is not valid."))
            };
            if let Some(p) = t.strip_prefix("f/") {
                let s = pos(p)?;
                (s, (s + max).min(n))
            } else if let Some(p) = t.strip_prefix("b/") {
                let e = pos(p)?;
                (e.saturating_sub(max), e)
            } else {
                return Err(invalid("The specified nextToken is not valid."));
            }
        }
        None if bool_of(input, "startFromHead")?.unwrap_or(false) => (0, max.min(n)),
        None => (n.saturating_sub(max), n),
    };
    let page: Vec<Value> = events[start..end]
        .iter()
        .map(|(t, m, ing, _)| json!({"timestamp": t, "message": m, "ingestionTime": ing}))
        .collect();
    Ok(
        json!({"events": page, "nextForwardToken": format!("f/{end:056}"), "nextBackwardToken": format!("b/{start:056}")}),
    )
}

fn filter_log_events(store: &Store, call: &Call, input: &Value) -> Result<Value, ApiError> {
    let group = required(input, "logGroupName")?;
    call.authorize(&[group_arn(call, group)], &[])?;
    let names = strings_of(input, "logStreamNames");
    let prefix = str_of(input, "logStreamNamePrefix");
    if !names.is_empty() && prefix.is_some() {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive",
        ));
    }
    let pattern = filter::parse(str_of(input, "filterPattern").unwrap_or_default())?;
    let max = limit(input, MAX_EVENTS as i64, MAX_EVENTS as i64)?;
    let from = int_of(input, "startTime")?;
    let to = int_of(input, "endTime")?;
    let (mut matched, searched) = store.read(|tx| {
        if tx.get(&call.region, GROUPS, group)?.is_none() {
            return Err(group_not_found());
        }
        let mut streams = streams_of(tx, &call.region, group)?;
        streams.retain(|s| {
            let n = str_of(s, "logStreamName").unwrap_or_default();
            (names.is_empty() || names.iter().any(|x| x == n)) && prefix.is_none_or(|p| n.starts_with(p))
        });
        let mut matched = Vec::new();
        let mut searched = Vec::new();
        for s in &streams {
            let sname = str_of(s, "logStreamName").unwrap_or_default().to_string();
            for (t, m, ing, id) in stream_events(tx, &call.region, group, s)? {
                if from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e) && filter::matches(&pattern, &m) {
                    matched.push(json!({"logStreamName": sname, "timestamp": t, "message": m, "ingestionTime": ing, "eventId": id}));
                }
            }
            searched.push(json!({"logStreamName": sname, "searchedCompletely": true}));
        }
        Ok((matched, searched))
    })?;
    matched.sort_by_key(|e| int_of(e, "timestamp").ok().flatten().unwrap_or(0));
    let start = offset(input)?;
    let total = matched.len();
    let page: Vec<Value> = matched.into_iter().skip(start).take(max).collect();
    let mut out = json!({"events": page, "searchedLogStreams": searched});
    if start + max < total {
        out["nextToken"] = json!(token(start + max));
    }
    Ok(out)
}

/// Delivers events to a stream, creating the group and the stream when missing, as VPC flow
/// logs delivery does (one stream per network interface). `events` are `(timestamp ms,
/// message)`; they are stored in time order.
pub fn deliver(
    store: &Store,
    region: &str,
    account: &str,
    group: &str,
    stream: &str,
    events: &[(i64, String)],
    now: SystemTime,
) -> Result<(), ApiError> {
    check_group_name(group)?;
    check_stream_name(stream)?;
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| e.0);
    store.write(|tx| {
        if tx.get(region, GROUPS, group)?.is_none() {
            tx.put(
                region,
                GROUPS,
                group,
                &new_group(region, account, group, now),
            )?;
        }
        let id = stream_id(group, stream);
        let mut s = match tx.get(region, STREAMS, &id)? {
            Some(s) => s,
            None => {
                let mut s = new_stream(region, account, group, stream, now);
                s["logGroupName"] = json!(group);
                s
            }
        };
        append(tx, region, group, &mut s, &sorted, now)
    })
}

#[cfg(test)]
mod tests;
