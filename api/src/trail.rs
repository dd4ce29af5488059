//! CloudTrail (SPEC.md §24.1): the [`Recorder`] that turns every call, allowed or denied, into
//! an event record with AWS's fields, and [`deliver`], which writes the records to a directory
//! as a trail writes them to S3 — gzipped `{"Records":[…]}` files per region and 5-minute
//! window under `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{json, Map, Value};

use crate::auth::dates;
use crate::call::{Call, CallerKind, Recorder, Reply};
use crate::error::ApiError;
use crate::ids;
use crate::service::{Protocol, Service};
use crate::store::Store;

/// The record format version emitted (the one whose field set SPEC.md §24.1 lists).
pub const EVENT_VERSION: &str = "1.08";

/// A trail's delivery window.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;

/// How long after a window closes its records are written (see [`deliver`]).
pub const SETTLE_MS: i64 = 60 * 1000;

const REGIONS_META: &str = "cloudtrail_regions";

fn delivered_meta(region: &str) -> String {
    format!("cloudtrail_delivered_ms/{region}")
}

/// Records calls in the store's event history.
#[derive(Debug, Default, Clone, Copy)]
pub struct CloudTrailRecorder;

/// Whether an action only reads (`readOnly`): Describe*, Get*, List*, Lookup*, ...
pub fn is_read_only(action: &str) -> bool {
    [
        "Describe", "Get", "List", "Lookup", "Search", "Filter", "Test",
    ]
    .iter()
    .any(|p| action.starts_with(p))
}

/// The region an event of `call` is logged in: `us-east-1` for global services.
pub fn event_region(call: &Call) -> &str {
    if call.service.is_global() {
        "us-east-1"
    } else {
        &call.region
    }
}

fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Removes credentials and secrets anywhere in a value: they are never recorded.
fn scrub(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| {
                let k = k.to_ascii_lowercase();
                !(k.contains("secretaccesskey")
                    || k.contains("sessiontoken")
                    || k.contains("password")
                    || k.contains("privatekey")
                    || k.starts_with("x-amz-")
                    || k == "securitytoken"
                    || k == "signature")
            });
            m.values_mut().for_each(scrub);
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

fn request_parameters(call: &Call) -> Value {
    let mut v = if let Some(j) = &call.json {
        j.clone()
    } else if call.params.is_empty() {
        return Value::Null;
    } else {
        match call.params.to_json() {
            Value::Object(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (lower_camel(&k), v)).collect())
            }
            other => other,
        }
    };
    scrub(&mut v);
    v
}

/// An XML answer as CloudTrail's `responseElements`: elements become lowerCamel members,
/// `member`/`item` lists become arrays, the envelope and request id are dropped.
pub fn xml_to_json(xml: &str) -> Option<Value> {
    struct Node {
        name: String,
        members: Map<String, Value>,
        items: Vec<Value>,
        text: String,
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    let new = |n: &[u8]| Node {
        name: String::from_utf8_lossy(n).into_owned(),
        members: Map::new(),
        items: Vec::new(),
        text: String::new(),
    };
    loop {
        let (node, done) = match reader.read_event().ok()? {
            Event::Start(e) => {
                stack.push(new(e.local_name().as_ref()));
                continue;
            }
            Event::Empty(e) => (new(e.local_name().as_ref()), true),
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.unescape().ok()?);
                }
                continue;
            }
            Event::End(_) => (stack.pop()?, true),
            Event::Eof => break,
            _ => continue,
        };
        debug_assert!(done);
        let value = if !node.items.is_empty() {
            Value::Array(node.items)
        } else if !node.members.is_empty() {
            Value::Object(node.members)
        } else {
            Value::String(node.text)
        };
        match stack.last_mut() {
            Some(parent) if node.name == "member" || node.name == "item" => {
                parent.items.push(value)
            }
            Some(parent) => {
                parent.members.insert(lower_camel(&node.name), value);
            }
            None => root = Some((node.name, value)),
        }
    }
    let (_, mut v) = root?;
    if let Value::Object(m) = &mut v {
        m.remove("requestId");
        m.remove("responseMetadata");
        if let Some(key) = m.keys().find(|k| k.ends_with("Result")).cloned() {
            v = m.remove(&key).unwrap_or(Value::Null);
        }
    }
    match &v {
        Value::Object(m) if m.is_empty() => None,
        Value::String(s) if s.is_empty() => None,
        _ => Some(v),
    }
}

fn response_elements(outcome: &Result<Reply, ApiError>, read_only: bool) -> Value {
    let Ok(reply) = outcome else {
        return Value::Null;
    };
    if read_only {
        return Value::Null;
    }
    let mut v = match reply {
        Reply::Json(j) => j.clone(),
        Reply::Xml(x) | Reply::XmlStatus(_, x) => xml_to_json(x).unwrap_or(Value::Null),
    };
    scrub(&mut v);
    v
}

fn user_identity(call: &Call) -> Value {
    let c = &call.caller;
    let acct = &call.account;
    let session_attrs = |issued: SystemTime| json!({"creationDate": dates::iso8601(issued), "mfaAuthenticated": "false"});
    match &c.kind {
        CallerKind::Root => json!({
            "type": "Root", "principalId": c.principal_id, "arn": c.arn,
            "accountId": acct, "accessKeyId": c.access_key_id,
        }),
        CallerKind::IamUser { name } => {
            let mut v = json!({
                "type": "IAMUser", "principalId": c.principal_id, "arn": c.arn,
                "accountId": acct, "accessKeyId": c.access_key_id, "userName": name,
            });
            if c.access_key_id.starts_with("ASIA") {
                v["sessionContext"] = json!({"attributes": session_attrs(call.now)});
            }
            v
        }
        CallerKind::AssumedRole {
            role,
            role_arn,
            role_id,
            issued,
            ..
        } => json!({
            "type": "AssumedRole", "principalId": c.principal_id, "arn": c.arn,
            "accountId": acct, "accessKeyId": c.access_key_id,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": role_arn,
                                  "accountId": acct, "userName": role},
                "attributes": session_attrs(*issued),
            },
        }),
        CallerKind::Anonymous => {
            json!({"type": "Unknown", "principalId": "", "accountId": acct, "userName": "vpcsim --no-auth"})
        }
    }
}

/// The CloudTrail record of one call and its outcome.
pub fn record_for(call: &Call, outcome: &Result<Reply, ApiError>) -> Value {
    let read_only = is_read_only(&call.action);
    let mut r = json!({
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(call),
        "eventTime": dates::iso8601(call.now),
        "eventSource": call.service.event_source(),
        "eventName": call.action,
        "awsRegion": event_region(call),
        "sourceIPAddress": call.source_ip.to_string(),
        "userAgent": call.user_agent,
    });
    let m = r.as_object_mut().expect("a record is an object");
    if let Err(e) = outcome {
        let code = if call.service.protocol() == Protocol::Ec2 {
            // EC2's errors appear with the fault side in front (`Client.UnauthorizedOperation`).
            format!(
                "{}.{}",
                if e.server_fault { "Server" } else { "Client" },
                e.code
            )
        } else {
            e.code.clone()
        };
        m.insert("errorCode".into(), Value::String(code));
        m.insert("errorMessage".into(), Value::String(e.message.clone()));
    }
    m.insert("requestParameters".into(), request_parameters(call));
    m.insert(
        "responseElements".into(),
        response_elements(outcome, read_only),
    );
    m.insert("requestID".into(), Value::String(call.request_id.clone()));
    m.insert("eventID".into(), Value::String(ids::uuid()));
    m.insert("readOnly".into(), Value::Bool(read_only));
    m.insert("eventType".into(), "AwsApiCall".into());
    m.insert("managementEvent".into(), Value::Bool(true));
    m.insert(
        "recipientAccountId".into(),
        Value::String(call.account.clone()),
    );
    m.insert("eventCategory".into(), "Management".into());
    if call.service == Service::Ec2 {
        m.insert("apiVersion".into(), Service::Ec2.api_version().into());
    }
    r
}

fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Stores `record` in its region's history and remembers the region for delivery.
pub fn store_record(store: &Store, record: &Value, time: SystemTime) -> Result<(), ApiError> {
    let region = record["awsRegion"]
        .as_str()
        .unwrap_or("us-east-1")
        .to_string();
    let name = record["eventName"].as_str().unwrap_or_default().to_string();
    store.write(|tx| {
        tx.push_event(&region, epoch_ms(time), &name, record)?;
        let mut regions: Vec<String> = tx
            .meta(REGIONS_META)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        if !regions.contains(&region) {
            regions.push(region.clone());
            tx.put_meta(REGIONS_META, &Value::from(regions).to_string())?;
        }
        Ok(())
    })
}

impl Recorder for CloudTrailRecorder {
    fn record(&self, store: &Store, call: &Call, outcome: &Result<Reply, ApiError>) {
        let record = record_for(call, outcome);
        // Recording must never fail the call it records; a store failure here has already
        // failed the call itself or will fail the next one loudly.
        if let Err(e) = store_record(store, &record, call.now) {
            eprintln!(
                "vpcsim serve: CloudTrail record of {} not stored: {e}",
                call.request_id
            );
        }
    }
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("CloudTrail delivery: {e}"))
}

fn unique_string() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let id = ids::secret_key();
    id.bytes()
        .take(16)
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}

fn write_file(
    dir: &Path,
    account: &str,
    region: &str,
    window_ms: i64,
    records: Vec<Value>,
) -> Result<PathBuf, ApiError> {
    let (y, mo, d, h, mi) =
        dates::parts(UNIX_EPOCH + std::time::Duration::from_millis(window_ms as u64));
    let folder = dir.join(format!(
        "AWSLogs/{account}/CloudTrail/{region}/{y:04}/{mo:02}/{d:02}"
    ));
    std::fs::create_dir_all(&folder).map_err(io)?;
    let name = format!(
        "{account}_CloudTrail_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{}.json.gz",
        unique_string()
    );
    let path = folder.join(&name);
    let tmp = folder.join(format!(".{name}.tmp"));
    let body = json!({ "Records": records }).to_string();
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    gz.write_all(body.as_bytes()).map_err(io)?;
    gz.finish().map_err(io)?.sync_all().map_err(io)?;
    // A reader never sees a half-written file.
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(path)
}

/// Writes the records not yet delivered: every 5-minute window closed a minute ago or more, and with `flush`
/// (at shutdown) the current one too. Returns the files written. The server calls this
/// periodically and when it stops (`serve --cloudtrail-dir DIR`).
pub fn deliver(
    store: &Store,
    dir: &Path,
    account: &str,
    now: SystemTime,
    flush: bool,
) -> Result<Vec<PathBuf>, ApiError> {
    let now_ms = epoch_ms(now);
    // A call is recorded when it ends but stamped when it arrived: a window is written only a
    // minute after it closed, so a call still running at its end is not left out.
    let settled = now_ms - SETTLE_MS;
    let to = if flush {
        now_ms + 1
    } else {
        settled - settled.rem_euclid(WINDOW_MS)
    };
    let regions: Vec<String> = store
        .read(|tx| tx.meta(REGIONS_META))?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let mut written = Vec::new();
    for region in regions {
        let from: i64 = store
            .read(|tx| tx.meta(&delivered_meta(&region)))?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if from >= to {
            continue;
        }
        let mut events = store.read(|tx| tx.events(&region, from, to, 0, usize::MAX >> 1))?;
        events.reverse();
        let mut windows: Vec<(i64, Vec<Value>)> = Vec::new();
        for e in events {
            let t = e["eventTime"]
                .as_str()
                .and_then(dates::parse_any)
                .map(epoch_ms)
                .unwrap_or(from);
            let w = t - t.rem_euclid(WINDOW_MS);
            match windows.last_mut() {
                Some((lw, recs)) if *lw == w => recs.push(e),
                _ => windows.push((w, vec![e])),
            }
        }
        for (w, recs) in windows {
            written.push(write_file(dir, account, &region, w, recs)?);
        }
        store.write(|tx| tx.put_meta(&delivered_meta(&region), &to.to_string()))?;
    }
    Ok(written)
}

#[cfg(test)]
#[path = "trail_tests.rs"]
mod tests;
