//! The generic Query protocol as JSON: a request's flat `A.member.1.B=x` parameters rebuilt into
//! the structure they flatten (`{"A": [{"B": "x"}]}`), and a JSON answer written back as the
//! Query XML botocore parses (`<A><member><B>x</B></member></A>`).
//!
//! ELBv2 and CloudWatch name their XML members exactly as their JSON members (their models set no
//! `locationName`), so a handler can work on JSON alone and leave the wire to this module. Scalars
//! arrive as strings: the readers below accept a number either as a JSON number or as its text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::params::Params;
use crate::xml::XmlWriter;

/// The request's parameters (without `Action` and `Version`) as JSON: `.member.N` lists become
/// arrays in index order, `.entry.N.key`/`.value` maps become objects, other dotted names nest.
/// A name that is both a value and a structure (`A=1&A.B=2`) keeps the value.
pub fn to_json(params: &Params) -> Value {
    let mut root = Map::new();
    for (k, v) in params.iter() {
        if k == "Action" || k == "Version" {
            continue;
        }
        insert(&mut root, &k.split('.').collect::<Vec<_>>(), v);
    }
    shape(Value::Object(root))
}

fn insert(obj: &mut Map<String, Value>, path: &[&str], value: &str) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        obj.entry(first.to_string())
            .or_insert_with(|| Value::String(value.to_string()));
        return;
    }
    let child = obj
        .entry(first.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = child {
        insert(m, rest, value);
    }
}

fn numbered(m: &Map<String, Value>) -> Option<Vec<(u32, Value)>> {
    let mut items: Vec<(u32, Value)> = m
        .iter()
        .map(|(k, v)| Some((k.parse().ok()?, v.clone())))
        .collect::<Option<_>>()?;
    items.sort_by_key(|(i, _)| *i);
    Some(items)
}

fn shape(v: Value) -> Value {
    let Value::Object(m) = v else {
        return v;
    };
    if m.len() == 1 {
        if let Some(Value::Object(members)) = m.get("member") {
            if let Some(items) = numbered(members) {
                return Value::Array(items.into_iter().map(|(_, v)| shape(v)).collect());
            }
        }
        if let Some(Value::Object(entries)) = m.get("entry") {
            if let Some(items) = numbered(entries) {
                let mut out = Map::new();
                for (_, e) in items {
                    if let (Some(k), Some(v)) =
                        (e.get("key").and_then(Value::as_str), e.get("value"))
                    {
                        out.insert(k.to_string(), shape(v.clone()));
                    }
                }
                return Value::Object(out);
            }
        }
    }
    Value::Object(m.into_iter().map(|(k, v)| (k, shape(v))).collect())
}

/// Writes the members of a JSON object as Query XML: arrays as `<member>` lists, objects
/// nested, `null` left out.
pub fn write_xml(w: &mut XmlWriter, v: &Value) {
    let Value::Object(m) = v else {
        return;
    };
    for (k, v) in m {
        write_member(w, k, v);
    }
}

/// The key of a JSON object that stands for a Query map (`{MAP: {"k": v}}`): written as
/// `<entry><key>k</key><value>v</value></entry>` elements, as botocore reads maps.
pub const MAP: &str = "\u{0}map";

fn write_member(w: &mut XmlWriter, tag: &str, v: &Value) {
    if let Some(Value::Object(entries)) = v.get(MAP) {
        w.element(tag, |w| {
            for (k, x) in entries {
                w.element("entry", |w| {
                    w.leaf("key", k);
                    write_member(w, "value", x);
                });
            }
        });
        return;
    }
    match v {
        Value::Null => {}
        Value::Array(items) => {
            w.element(tag, |w| {
                for item in items {
                    write_member(w, "member", item);
                }
            });
        }
        Value::Object(_) => {
            w.element(tag, |w| write_xml(w, v));
        }
        Value::String(s) => {
            w.leaf(tag, s);
        }
        other => {
            w.leaf(tag, other);
        }
    }
}

/// A string member.
pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A list member; absent, empty (`Names=`) or not a list reads as empty.
pub fn list_of<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The strings of a list member.
pub fn strings_of(v: &Value, key: &str) -> Vec<String> {
    list_of(v, key)
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// An integer member, sent as a JSON number or as text; anything else is
/// `ValidationError`.
pub fn int_of(v: &Value, key: &str) -> Result<Option<i64>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| validation(key, &n.to_string(), "an integer")),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| validation(key, s, "an integer")),
        Some(other) => Err(validation(key, &other.to_string(), "an integer")),
    }
}

/// A floating-point member, sent as a JSON number or as text.
pub fn float_of(v: &Value, key: &str) -> Result<Option<f64>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| validation(key, s, "a number")),
        Some(other) => Err(validation(key, &other.to_string(), "a number")),
    }
}

/// A boolean member, sent as a JSON boolean or as `true`/`false`.
pub fn bool_of(v: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(validation(key, &other.to_string(), "true or false")),
    }
}

/// A timestamp member: epoch seconds (JSON protocols) or ISO 8601 text (Query).
pub fn time_of(v: &Value, key: &str) -> Result<Option<SystemTime>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .and_then(from_epoch)
            .map(Some)
            .ok_or_else(|| validation(key, &n.to_string(), "a timestamp")),
        Some(Value::String(s)) => parse_time(s)
            .map(Some)
            .ok_or_else(|| validation(key, s, "a timestamp")),
        Some(other) => Err(validation(key, &other.to_string(), "a timestamp")),
    }
}

fn from_epoch(secs: f64) -> Option<SystemTime> {
    (0.0..1e12)
        .contains(&secs)
        .then(|| UNIX_EPOCH + Duration::from_secs_f64(secs))
}

/// ISO 8601 / RFC 3339 text (`2026-12-07T20:00:00Z`, with or without fractions or an offset)
/// or epoch seconds as text.
pub fn parse_time(s: &str) -> Option<SystemTime> {
    if let Ok(secs) = s.parse::<f64>() {
        return from_epoch(secs);
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| {
            // botocore's Query serializer writes `2026-12-07T20:00:00Z`; some clients leave out
            // the zone, which AWS reads as UTC.
            time::PrimitiveDateTime::parse(
                s,
                &time::format_description::well_known::Iso8601::DEFAULT,
            )
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
        })?;
    Some(SystemTime::from(t))
}

/// `t` as ISO 8601 UTC with milliseconds (`2026-12-07T20:00:00.000Z`), as AWS writes
/// timestamps in XML answers.
pub fn iso8601(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Seconds since the epoch (JSON protocols' timestamps).
pub fn epoch_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64 / 1000.0)
}

/// The Query services' `ValidationError` for a value of the wrong type.
pub fn validation(key: &str, value: &str, expected: &str) -> ApiError {
    ApiError::client(
        "ValidationError",
        format!(
            "Value '{value}' at '{key}' failed to satisfy constraint: Member must be {expected}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_entries_and_nesting() {
        let p = Params::from_form(
            b"Action=X&Names.member.2=b&Names.member.1=a&Names.member.10=j\
              &Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=3\
              &Attr.entry.1.key=k&Attr.entry.1.value=v&Empty=",
        );
        let v = to_json(&p);
        assert_eq!(v["Names"], json!(["a", "b", "j"]));
        assert_eq!(
            v["Actions"][0]["ForwardConfig"]["TargetGroups"][0]["Weight"],
            "3"
        );
        assert_eq!(v["Attr"], json!({"k": "v"}));
        assert_eq!(list_of(&v, "Empty").len(), 0);
        assert!(v.get("Action").is_none());
    }

    #[test]
    fn xml_lists_use_member() {
        let mut w = XmlWriter::new();
        write_xml(
            &mut w,
            &json!({"A": [{"B": 1, "C": null}], "D": {"E": true}, "M": {MAP: {"p90": 2.5}}}),
        );
        assert_eq!(
            w.finish(),
            "<A><member><B>1</B></member></A><D><E>true</E></D><M><entry><key>p90</key><value>2.5</value></entry></M>"
        );
    }

    #[test]
    fn times_round_trip() {
        let t = parse_time("2026-12-07T20:00:00Z").unwrap();
        assert_eq!(iso8601(t), "2026-12-07T20:00:00.000Z");
        assert_eq!(
            parse_time("2026-12-07T20:00:00.5+00:00")
                .map(iso8601)
                .unwrap(),
            "2026-12-07T20:00:00.500Z"
        );
        assert_eq!(
            time_of(&json!({"T": epoch_seconds(t)}), "T").unwrap(),
            Some(t)
        );
        assert!(time_of(&json!({"T": "yesterday"}), "T").is_err());
        assert_eq!(int_of(&json!({"N": "7"}), "N").unwrap(), Some(7));
        assert!(int_of(&json!({"N": "x"}), "N").is_err());
    }
}
