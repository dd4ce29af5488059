//! Reading evaluated CloudFormation properties: lenient where CloudFormation is (numbers as
//! strings, booleans as "true"), precise errors where it is not.

use serde_json::Value;

/// A problem with one resource's properties: an AWS-like error code and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// An AWS-like error code (`InvalidParameterValue`, ...).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Caused by another resource that already failed: not reported again.
    pub quiet: bool,
}

impl Problem {
    /// A problem to report.
    pub fn new(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
            quiet: false,
        }
    }

    /// A problem already reported for the resource that caused it.
    pub fn quiet() -> Problem {
        Problem {
            code: "",
            message: String::new(),
            quiet: true,
        }
    }
}

/// The result of reading properties.
pub type R<T> = Result<T, Problem>;

/// `MissingParameter`: a required property is absent.
pub fn missing(key: &str) -> Problem {
    Problem::new("MissingParameter", format!("property {key} is required"))
}

/// `InvalidParameterValue`: a property has a value AWS would refuse.
pub fn invalid(key: &str, why: impl std::fmt::Display) -> Problem {
    Problem::new("InvalidParameterValue", format!("property {key}: {why}"))
}

/// The property, treating `null` as absent.
pub fn get<'a>(p: &'a Value, key: &str) -> Option<&'a Value> {
    p.get(key).filter(|v| !v.is_null())
}

/// Text form of a scalar (CloudFormation passes numbers and booleans as strings).
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An optional scalar property as text.
pub fn opt_str(p: &Value, key: &str) -> R<Option<String>> {
    match get(p, key) {
        None => Ok(None),
        Some(v) => scalar_string(v)
            .map(Some)
            .ok_or_else(|| invalid(key, format!("expected a string, got {v}"))),
    }
}

/// A required scalar property as text.
pub fn req_str(p: &Value, key: &str) -> R<String> {
    opt_str(p, key)?.ok_or_else(|| missing(key))
}

/// An optional boolean property (`true`, `"true"`, ...).
pub fn opt_bool(p: &Value, key: &str) -> R<Option<bool>> {
    match get(p, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(invalid(key, format!("expected true or false, got {v}"))),
    }
}

/// An optional integer property (`3`, `3.0` or `"3"`).
pub fn opt_int(p: &Value, key: &str) -> R<Option<i64>> {
    match get(p, key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid(key, format!("expected an integer, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| invalid(key, format!("expected an integer, got {s:?}"))),
        Some(v) => Err(invalid(key, format!("expected an integer, got {v}"))),
    }
}

/// An optional list property; absent is empty.
pub fn opt_list<'a>(p: &'a Value, key: &str) -> R<&'a [Value]> {
    match get(p, key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a.as_slice()),
        Some(v) => Err(invalid(key, format!("expected a list, got {v}"))),
    }
}

/// A list of strings (ids). A single string is accepted as a list of one, as CloudFormation
/// does for comma-delimited parameters that resolved to one value.
pub fn str_list(p: &Value, key: &str) -> R<Vec<String>> {
    match get(p, key) {
        None => Ok(vec![]),
        Some(Value::String(s)) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                scalar_string(v).ok_or_else(|| invalid(key, format!("expected strings, got {v}")))
            })
            .collect(),
        Some(v) => Err(invalid(key, format!("expected a list of strings, got {v}"))),
    }
}

/// The `Name` tag from a `Tags` list.
pub fn name_tag(p: &Value) -> Option<String> {
    get(p, "Tags")?
        .as_array()?
        .iter()
        .find(|t| t.get("Key").and_then(Value::as_str) == Some("Name"))
        .and_then(|t| t.get("Value"))
        .and_then(scalar_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_scalars() {
        let p = json!({"A": "443", "B": 443, "C": "true", "D": null, "E": "x"});
        assert_eq!(opt_int(&p, "A").unwrap(), Some(443));
        assert_eq!(opt_int(&p, "B").unwrap(), Some(443));
        assert_eq!(opt_bool(&p, "C").unwrap(), Some(true));
        assert_eq!(opt_str(&p, "D").unwrap(), None);
        assert_eq!(opt_int(&p, "E").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(req_str(&p, "Z").unwrap_err().code, "MissingParameter");
    }

    #[test]
    fn names_and_lists() {
        let p = json!({"Tags": [{"Key": "Env", "Value": "x"}, {"Key": "Name", "Value": "web"}], "L": "a, b"});
        assert_eq!(name_tag(&p).as_deref(), Some("web"));
        assert_eq!(str_list(&p, "L").unwrap(), vec!["a", "b"]);
    }
}
