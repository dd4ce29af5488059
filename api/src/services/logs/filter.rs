//! CloudWatch Logs filter patterns (the subset vpcsim matches): plain terms, quoted phrases,
//! `?term` alternatives and `-term` exclusions; and space-delimited patterns
//! `[name, name=value, name!=value, name>n, ..., ...]` such as the ones users write for VPC flow
//! logs (`[version, account, eni, source, destination, srcport, destport="22", ..., action="REJECT", status]`).
//! JSON patterns (`{ $.x = ... }`) are refused with `InvalidParameterException`.

use crate::error::ApiError;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Pattern {
    /// Every event.
    All,
    /// Terms: all `required` present, none of `excluded`, and one of `any` when given.
    Terms {
        required: Vec<String>,
        any: Vec<String>,
        excluded: Vec<String>,
    },
    /// Space-delimited fields.
    Fields(Vec<Field>),
}

/// One field of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Field {
    /// `...`: any number of fields.
    Ellipsis,
    /// A named field with an optional condition.
    Named(Option<(Op, String)>),
}

/// A field condition's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidParameterException", message)
}

/// Whitespace-separated tokens with `"..."` kept whole (quotes removed).
fn tokens(s: &str) -> Result<Vec<(String, bool)>, ApiError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut tok = String::new();
        let mut quoted = false;
        let mut had_quote = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() && !quoted {
                break;
            }
            chars.next();
            if c == '"' {
                quoted = !quoted;
                had_quote = true;
                continue;
            }
            tok.push(c);
        }
        if quoted {
            return Err(invalid("Invalid character(s) in term: unterminated quote"));
        }
        out.push((tok, had_quote));
    }
    Ok(out)
}

/// Parses a filter pattern.
pub(super) fn parse(pattern: &str) -> Result<Pattern, ApiError> {
    let p = pattern.trim();
    if p.is_empty() {
        return Ok(Pattern::All);
    }
    if p.starts_with('{') {
        return Err(invalid(
            "JSON filter patterns are not supported by this endpoint",
        ));
    }
    if let Some(inner) = p.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| invalid("Invalid filter pattern: missing ']'"))?;
        return inner
            .split(',')
            .map(field)
            .collect::<Result<_, _>>()
            .map(Pattern::Fields);
    }
    let (mut required, mut any, mut excluded) = (Vec::new(), Vec::new(), Vec::new());
    for (t, quoted) in tokens(p)? {
        let (list, term) = if let Some(x) = t.strip_prefix('?') {
            (&mut any, x.to_string())
        } else if let Some(x) = t.strip_prefix('-') {
            (&mut excluded, x.to_string())
        } else {
            (&mut required, t)
        };
        if term.is_empty() {
            continue;
        }
        let plain = term.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !plain && !quoted {
            return Err(invalid(format!("Invalid character(s) in term '{term}': terms with non-alphanumeric characters must be quoted")));
        }
        list.push(term);
    }
    Ok(Pattern::Terms {
        required,
        any,
        excluded,
    })
}

fn field(spec: &str) -> Result<Field, ApiError> {
    let s = spec.trim();
    if s == "..." {
        return Ok(Field::Ellipsis);
    }
    let ops = [
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    for (text, op) in ops {
        if let Some((name, value)) = s.split_once(text) {
            if name.trim().is_empty() {
                return Err(invalid(format!("Invalid filter pattern field '{s}'")));
            }
            let v = value.trim().trim_matches('"').to_string();
            if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && v.parse::<f64>().is_err() {
                return Err(invalid(format!(
                    "Invalid filter pattern field '{s}': a numeric comparison needs a number"
                )));
            }
            return Ok(Field::Named(Some((op, v))));
        }
    }
    if s.is_empty() || s.contains(char::is_whitespace) {
        return Err(invalid(format!("Invalid filter pattern field '{s}'")));
    }
    Ok(Field::Named(None))
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| wildcard(rest, &tail[i..]))
        }
    }
}

fn holds(cond: &Option<(Op, String)>, value: &str) -> bool {
    let Some((op, want)) = cond else {
        return true;
    };
    let nums = (value.parse::<f64>(), want.parse::<f64>());
    match op {
        Op::Eq | Op::Ne => {
            let eq = match nums {
                (Ok(a), Ok(b)) => a == b,
                _ => wildcard(want, value),
            };
            eq == (*op == Op::Eq)
        }
        _ => {
            let (Ok(a), Ok(b)) = nums else {
                return false;
            };
            match op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                _ => a >= b,
            }
        }
    }
}

fn fields_match(fields: &[Field], values: &[&str]) -> bool {
    match fields.split_first() {
        None => values.is_empty(),
        Some((Field::Ellipsis, rest)) => {
            (0..=values.len()).any(|skip| fields_match(rest, &values[skip..]))
        }
        Some((Field::Named(cond), rest)) => values
            .split_first()
            .is_some_and(|(v, more)| holds(cond, v) && fields_match(rest, more)),
    }
}

/// Whether `message` matches.
pub(super) fn matches(p: &Pattern, message: &str) -> bool {
    match p {
        Pattern::All => true,
        Pattern::Terms {
            required,
            any,
            excluded,
        } => {
            required.iter().all(|t| message.contains(t.as_str()))
                && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                && !excluded.iter().any(|t| message.contains(t.as_str()))
        }
        Pattern::Fields(fields) => {
            let values: Vec<&str> = message
                .split_whitespace()
                .map(|v| v.trim_matches('"'))
                .collect();
            fields_match(fields, &values)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW: &str = "2 123456789012 eni-0a1b 10.0.1.5 203.0.113.9 49152 22 6 10 840 1796673600 1796673660 REJECT OK";

    #[test]
    fn terms_phrases_alternatives_and_exclusions() {
        let m = |p: &str, s: &str| matches(&parse(p).unwrap(), s);
        assert!(m("", "anything"));
        assert!(m("ERROR", "an ERROR here"));
        assert!(!m("ERROR", "an error here"), "terms are case-sensitive");
        assert!(m("ERROR ARGUMENTS", "ERROR: bad ARGUMENTS"));
        assert!(!m("ERROR ARGUMENTS", "ERROR only"));
        assert!(m("?ERROR ?WARN", "a WARN"));
        assert!(!m("?ERROR ?WARN", "INFO"));
        assert!(m("ERROR -Exiting", "ERROR x"));
        assert!(!m("ERROR -Exiting", "ERROR Exiting now"));
        assert!(m("\"Connection refused\"", "x Connection refused y"));
        assert!(!m("\"Connection refused\"", "refused Connection"));
        assert_eq!(
            parse("10.0.1.5").unwrap_err().code,
            "InvalidParameterException"
        );
        assert_eq!(
            parse("{ $.x = 1 }").unwrap_err().code,
            "InvalidParameterException"
        );
    }

    #[test]
    fn space_delimited_flow_log_patterns() {
        let m = |p: &str| matches(&parse(p).unwrap(), FLOW);
        assert!(m("[version, account, eni, source, destination, srcport, destport=\"22\", protocol=6, packets, bytes, start, end, action=\"REJECT\", status]"));
        assert!(!m("[version, account, eni, source, destination, srcport, destport=80, protocol, packets, bytes, start, end, action, status]"));
        assert!(m("[..., action=REJECT, status]"));
        assert!(m("[v, a, e, source=10.0.1.*, ...]"));
        assert!(m(
            "[v, a, e, s, d, sp, dp, p, packets>=10, bytes<1000, ...]"
        ));
        assert!(!m("[v, a, e, s, d, sp, dp, p, packets>10, ...]"));
        assert!(!m("[v, a, e]"), "too few fields without an ellipsis");
        assert!(m("[..., action!=ACCEPT, status]"));
        assert_eq!(
            parse("[a, b>x]").unwrap_err().code,
            "InvalidParameterException"
        );
    }
}
