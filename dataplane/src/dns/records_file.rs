//! `--dns-records FILE`: names of the internet (and of on-premises resolvers) that no zone of
//! the model holds, in a zone-file-like list, one record a line:
//!
//! ```text
//! ; comments start with ; or #
//! $TTL 300                                  ; default TTL of the lines below (initially 300)
//! api.example.com.      60 IN A     203.0.113.10
//! www.example.com          CNAME    api.example.com.
//! example.com              MX       10 mail.example.com.
//! example.com              TXT      "v=spf1 -all"
//! _sip._udp.example.com    SRV      10 5 5060 sip.example.com.
//! ```
//!
//! Names are absolute (the trailing dot is optional); TTL and class `IN` are optional.

use super::{normalize, RData, RecordSet, RecordType, RecordValue, Routing};
use crate::topology::ResId;

/// TTL of lines before any `$TTL`.
const DEFAULT_TTL: u32 = 300;

/// A line of a records file that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordsFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RecordsFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parse a records file into record sets (one per line; `res` names them in answers). Every bad
/// line is reported; the good ones are kept.
pub fn parse_records_file(text: &str, res: ResId) -> (Vec<RecordSet>, Vec<RecordsFileError>) {
    let mut sets = Vec::new();
    let mut errors = Vec::new();
    let mut default_ttl = DEFAULT_TTL;
    for (i, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| RecordsFileError {
            line: i + 1,
            message,
        };
        if let Some(ttl) = line.strip_prefix("$TTL") {
            match ttl.trim().parse() {
                Ok(t) => default_ttl = t,
                Err(_) => errors.push(err(format!("{:?} is not a TTL", ttl.trim()))),
            }
            continue;
        }
        match parse_line(line, default_ttl, res) {
            Ok(s) => sets.push(s),
            Err(m) => errors.push(err(m)),
        }
    }
    (sets, errors)
}

fn strip_comment(line: &str) -> &str {
    // A `;` or `#` inside a quoted TXT string is text.
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' | '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The text after the first `n` words (the value keeps its own spacing, as TXT needs).
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.trim_start();
        rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
    }
    rest.trim()
}

fn parse_line(line: &str, default_ttl: u32, res: ResId) -> Result<RecordSet, String> {
    let mut words = line.split_whitespace();
    let name = words.next().ok_or("missing name")?;
    let mut used = 2;
    let mut ttl = default_ttl;
    let mut next = words.next().ok_or("missing record type")?;
    if let Ok(t) = next.parse::<u32>() {
        ttl = t;
        used += 1;
        next = words.next().ok_or("missing record type")?;
    }
    if next.eq_ignore_ascii_case("IN") {
        used += 1;
        next = words.next().ok_or("missing record type")?;
    }
    let rtype = RecordType::parse(next).ok_or_else(|| {
        format!("unknown record type {next:?} (A, AAAA, CNAME, MX, TXT, SRV, PTR, NS)")
    })?;
    if rtype == RecordType::Soa {
        return Err("SOA records are not read from a records file".into());
    }
    let data = RData::parse(rtype, after_words(line, used))?;
    Ok(RecordSet {
        res,
        name: normalize(name),
        rtype,
        set_identifier: None,
        routing: Routing::Simple,
        ttl,
        value: RecordValue::Records(vec![data]),
        health_check: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_type_and_reports_bad_lines() {
        let text = "; internet\n$TTL 120\napi.example.com. 60 IN A 203.0.113.10\n\
                    www.example.com CNAME api.example.com.\nexample.com MX 10 mail.example.com\n\
                    example.com TXT \"v=spf1 -all ; not a comment\"\n\
                    _sip._udp.example.com SRV 10 5 5060 sip.example.com.\n\
                    bad.example.com A 999.1.1.1\nnope.example.com WKS x\n";
        let (sets, errors) = parse_records_file(text, ResId(0));
        assert_eq!(sets.len(), 5);
        assert_eq!(sets[0].ttl, 60);
        assert_eq!(sets[1].ttl, 120);
        assert_eq!(
            sets[3].value,
            RecordValue::Records(vec![RData::Txt("v=spf1 -all ; not a comment".into())])
        );
        assert_eq!(
            sets[4].value,
            RecordValue::Records(vec![RData::Srv(10, 5, 5060, "sip.example.com".into())])
        );
        assert_eq!(
            errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![8, 9]
        );
    }
}
