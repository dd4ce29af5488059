//! `Describe*` filters as EC2 applies them: values of one filter OR-ed, filters AND-ed, values
//! case-sensitive, `*` for any run of characters, `?` for zero or one character, `\` escaping
//! either; `tag:<key>`, `tag-key` and `tag-value` on every resource with tags.

use serde_json::Value;

use crate::call::Call;
use crate::error::ApiError;

/// Where a filter looks in a document: a dotted path of member names, through lists.
pub type Field = &'static str;

/// One filter of a request, ready to match documents.
#[derive(Debug)]
pub struct Wanted {
    what: What,
    values: Vec<String>,
}

#[derive(Debug)]
enum What {
    Path(Field),
    Tag(String),
    TagKey,
    TagValue,
}

/// The request's filters, checked against the names the action accepts.
pub fn parse(call: &Call, accepted: &[(&str, Field)]) -> Result<Vec<Wanted>, ApiError> {
    call.params
        .filters()?
        .into_iter()
        .map(|f| {
            let what = if let Some(key) = f.name.strip_prefix("tag:") {
                What::Tag(key.to_string())
            } else if f.name == "tag-key" {
                What::TagKey
            } else if f.name == "tag-value" {
                What::TagValue
            } else if let Some((_, path)) = accepted.iter().find(|(n, _)| *n == f.name) {
                What::Path(path)
            } else {
                return Err(ApiError::client(
                    "InvalidParameterValue",
                    format!("The filter '{}' is invalid", f.name),
                ));
            };
            Ok(Wanted {
                what,
                values: f.values,
            })
        })
        .collect()
}

impl Wanted {
    /// Whether the document has a value matching one of the filter's values.
    pub fn matches(&self, doc: &Value) -> bool {
        let found: Vec<String> = match &self.what {
            What::Path(p) => {
                let mut out = Vec::new();
                collect(doc, &p.split('.').collect::<Vec<_>>(), &mut out);
                out
            }
            What::Tag(k) => tags(doc)
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v)
                .collect(),
            What::TagKey => tags(doc).map(|(k, _)| k).collect(),
            What::TagValue => tags(doc).map(|(_, v)| v).collect(),
        };
        found
            .iter()
            .any(|f| self.values.iter().any(|pattern| wildcard(pattern, f)))
    }
}

fn tags(doc: &Value) -> impl Iterator<Item = (String, String)> + '_ {
    // Network interfaces call their tags `TagSet`.
    let list = if doc["TagSet"].is_array() {
        &doc["TagSet"]
    } else {
        &doc["Tags"]
    };
    list.as_array().into_iter().flatten().map(|t| {
        (
            t["Key"].as_str().unwrap_or_default().to_string(),
            t["Value"].as_str().unwrap_or_default().to_string(),
        )
    })
}

fn collect(v: &Value, path: &[&str], out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect(i, path, out)),
        _ if path.is_empty() => match v {
            Value::String(s) => out.push(s.clone()),
            Value::Null => {}
            other => out.push(other.to_string()),
        },
        Value::Object(m) => {
            if let Some(next) = m.get(path[0]) {
                collect(next, &path[1..], out);
            }
        }
        _ => {}
    }
}

/// EC2's wildcard match: `*` any run, `?` zero or one character, `\` escapes.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy)]
    enum Tok {
        Lit(char),
        Star,
        Opt,
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            '*' => Tok::Star,
            '?' => Tok::Opt,
            c => Tok::Lit(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // reach[j]: the pattern read so far can end having consumed j characters of the text.
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for t in toks {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            if !reach[j] {
                continue;
            }
            match t {
                Tok::Lit(c) => {
                    if text.get(j) == Some(&c) {
                        next[j + 1] = true;
                    }
                }
                Tok::Opt => {
                    next[j] = true;
                    if j < text.len() {
                        next[j + 1] = true;
                    }
                }
                Tok::Star => next[j..].iter_mut().for_each(|n| *n = true),
            }
        }
        reach = next;
    }
    reach[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;
    use serde_json::json;

    #[test]
    fn wildcards() {
        assert!(wildcard("web-*", "web-1"));
        assert!(wildcard("*", ""));
        assert!(wildcard("a?c", "ac"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(!wildcard("Web", "web"));
        assert!(wildcard("a\\*", "a*"));
        assert!(!wildcard("a\\*", "ab"));
    }

    #[test]
    fn or_within_and_across() {
        let call = crate::services::ec2::tests::call_with(
            "DescribeVpcs",
            Params::from_pairs([
                ("Filter.1.Name", "cidr-block-association.cidr-block"),
                ("Filter.1.Value.1", "10.1.0.0/16"),
                ("Filter.1.Value.2", "10.0.*"),
                ("Filter.2.Name", "tag:Name"),
                ("Filter.2.Value.1", "prod"),
            ]),
        );
        let w = parse(
            &call,
            &[(
                "cidr-block-association.cidr-block",
                "CidrBlockAssociationSet.CidrBlock",
            )],
        )
        .unwrap();
        let doc = json!({"CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}], "Tags": [{"Key": "Name", "Value": "prod"}]});
        assert!(w.iter().all(|f| f.matches(&doc)));
        let other = json!({"CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}], "Tags": [{"Key": "Name", "Value": "dev"}]});
        assert!(!w.iter().all(|f| f.matches(&other)));
        let bad = crate::services::ec2::tests::call_with(
            "DescribeVpcs",
            Params::from_pairs([("Filter.1.Name", "colour"), ("Filter.1.Value.1", "x")]),
        );
        assert_eq!(parse(&bad, &[]).unwrap_err().code, "InvalidParameterValue");
    }
}
