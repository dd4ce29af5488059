//! HTTP requests as the load balancer sees them, and AWS's rule wildcards.

use std::fmt;

/// An HTTP request line and headers (the body plays no part in routing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ... (case-sensitive, as rules compare it).
    pub method: String,
    /// The path without the query string, as received (no decoding).
    pub path: String,
    /// The query string without `?` (empty when none).
    pub query: String,
    /// `(name, value)` in order, names as sent; `Host` among them.
    pub headers: Vec<(String, String)>,
}

/// Why a request line or header could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRequest(pub String);

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl HttpRequest {
    /// `METHOD /path[?query]` (an HTTP version after it is ignored).
    pub fn parse(line: &str) -> Result<HttpRequest, BadRequest> {
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return Err(BadRequest(format!(
                "{line:?}: expected METHOD /path, e.g. 'GET /api/users'"
            )));
        };
        if let Some(v) = parts.next() {
            if !v.starts_with("HTTP/") || parts.next().is_some() {
                return Err(BadRequest(format!(
                    "{line:?}: expected METHOD /path [HTTP/1.1]"
                )));
            }
        }
        if !method
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_')
        {
            return Err(BadRequest(format!(
                "method {method:?}: letters, - and _ only"
            )));
        }
        if !target.starts_with('/') {
            return Err(BadRequest(format!("{target:?}: the path starts with /")));
        }
        if target.bytes().any(|b| b < 0x21 || b == 0x7f) {
            return Err(BadRequest(format!(
                "{target:?}: control characters in the path"
            )));
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Ok(HttpRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
        })
    }

    /// Add a `Name: value` header.
    pub fn add_header(&mut self, h: &str) -> Result<(), BadRequest> {
        let Some((name, value)) = h.split_once(':') else {
            return Err(BadRequest(format!("header {h:?}: expected 'Name: value'")));
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(BadRequest(format!("header {h:?}: the name is a token")));
        }
        self.headers
            .push((name.to_string(), value.trim().to_string()));
        Ok(())
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The host part of the first `Host` header (any `:port` removed), if there is one.
    pub fn host(&self) -> Option<&str> {
        self.header("host").next().map(strip_port)
    }

    /// The query's `(key, value)` pairs, percent-decoded (SPEC §11.2.2 model choice); a part
    /// without `=` is a value without key.
    pub fn query_pairs(&self) -> Vec<(Option<String>, String)> {
        self.query
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|part| match part.split_once('=') {
                Some((k, v)) => (Some(percent_decode(k)), percent_decode(v)),
                None => (None, percent_decode(part)),
            })
            .collect()
    }

    /// The value of cookie `name`, if the request carries it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie")
            .flat_map(|c| c.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// `host[:port]` → `host` (IPv6 literals in brackets keep their colons).
fn strip_port(h: &str) -> &str {
    if h.starts_with('[') {
        return h.split_once(']').map_or(h, |(a, _)| &h[..a.len() + 1]);
    }
    h.split_once(':').map_or(h, |(a, _)| a)
}

/// `%XX` decoded, `+` as space; invalid escapes kept as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16);
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// AWS's rule wildcard match: `*` any run of characters (also `/`), `?` exactly one;
/// `case_sensitive` false compares ASCII case-insensitively; `\*` and `\?` are literal when
/// `escapes` (query-string values).
pub fn wildcard(pattern: &str, text: &str, case_sensitive: bool, escapes: bool) -> bool {
    // Tokens: Some(c) a literal, None a `*`; '?' marked separately.
    #[derive(Clone, Copy)]
    enum T {
        Lit(char),
        One,
        Any,
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' if escapes => toks.push(T::Lit(it.next().unwrap_or('\\'))),
            '*' => toks.push(T::Any),
            '?' => toks.push(T::One),
            c => toks.push(T::Lit(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if case_sensitive {
            a == b
        } else {
            a.eq_ignore_ascii_case(&b)
        }
    };
    // Iterative glob match with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(T::Lit(c)) if eq(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            Some(T::One) => {
                p += 1;
                t += 1;
            }
            Some(T::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| matches!(t, T::Any))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_aws() {
        assert!(wildcard("*.example.com", "test.example.com", false, false));
        assert!(!wildcard("*.example.com", "example.com", false, false));
        assert!(wildcard("/img/*", "/img/a/b.jpg", true, false));
        assert!(!wildcard("/IMG/*", "/img/a.jpg", true, false));
        assert!(wildcard("/v?/x", "/v1/x", true, false));
        assert!(!wildcard("/v?/x", "/v/x", true, false));
        assert!(wildcard("a\\*b", "a*b", false, true));
        assert!(!wildcard("a\\*b", "axb", false, true));
    }

    #[test]
    fn requests_parse() {
        let mut r = HttpRequest::parse("GET /a/b?x=1&y=%41+b HTTP/1.1").unwrap();
        r.add_header("Host: Shop.Example.com:8080").unwrap();
        assert_eq!(r.path, "/a/b");
        assert_eq!(r.host(), Some("Shop.Example.com"));
        assert_eq!(
            r.query_pairs(),
            vec![
                (Some("x".into()), "1".into()),
                (Some("y".into()), "A b".into())
            ]
        );
        assert!(HttpRequest::parse("GET").is_err());
        assert!(HttpRequest::parse("GET api").is_err());
    }
}
