//! Request bodies of Route 53 (REST-XML) as JSON: the root element's children, nested
//! elements as objects, the list wrappers Route 53 uses (`Changes`, `ResourceRecords`) as
//! arrays of their children, text as strings.

use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Elements whose children are list members.
const LISTS: &[&str] = &["Changes", "ResourceRecords"];

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::client("InvalidInput", format!("Invalid XML: {e}"))
}

/// An element being read: its name, children so far and text so far.
type Open = (String, Vec<(String, Value)>, String);

fn finish(name: &str, children: Vec<(String, Value)>, text: String) -> Value {
    if children.is_empty() {
        return Value::String(text.trim().to_string());
    }
    if LISTS.contains(&name) {
        return Value::Array(children.into_iter().map(|(_, v)| v).collect());
    }
    let mut m = Map::new();
    for (k, v) in children {
        m.insert(k, v);
    }
    Value::Object(m)
}

/// The body's root element as JSON (`{}` for an empty body).
pub(super) fn parse(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body).map_err(malformed)?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Open> = vec![(String::new(), Vec::new(), String::new())];
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push((name, Vec::new(), String::new()));
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let v = finish(&name, Vec::new(), String::new());
                stack
                    .last_mut()
                    .ok_or_else(|| malformed("unbalanced"))?
                    .1
                    .push((name, v));
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(malformed)?;
                stack
                    .last_mut()
                    .ok_or_else(|| malformed("unbalanced"))?
                    .2
                    .push_str(&s);
            }
            Event::End(_) => {
                let (name, children, text) = stack.pop().ok_or_else(|| malformed("unbalanced"))?;
                let v = finish(&name, children, text);
                stack
                    .last_mut()
                    .ok_or_else(|| malformed("unbalanced"))?
                    .1
                    .push((name, v));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(malformed("unclosed element"));
    }
    let (_, mut roots, _) = stack.pop().ok_or_else(|| malformed("empty"))?;
    Ok(roots
        .pop()
        .map_or_else(|| Value::Object(Map::new()), |(_, v)| v))
}
