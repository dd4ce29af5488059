//! `FieldToMatch` (SPEC §19.4): which part of a request a statement inspects, with AWS's
//! inspection limits for regional resources and their `OversizeHandling`.

use super::WafRequest;

/// What regional web ACLs (ALB) inspect of a body: the first 8 KB.
pub const BODY_LIMIT: usize = 8 * 1024;
/// What WAF inspects of headers and of cookies: the first 8 KB ...
pub const HEADERS_LIMIT: usize = 8 * 1024;
/// ... and the first 200 of them.
pub const HEADERS_COUNT_LIMIT: usize = 200;

/// `OversizeHandling` of `Body`, `Headers` and `Cookies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Oversize {
    /// `CONTINUE`: inspect what is within the limits (AWS's default outside the console).
    #[default]
    Continue,
    /// `MATCH`: an oversize component matches without being inspected.
    Match,
    /// `NO_MATCH`: an oversize component does not match.
    NoMatch,
}

/// `MatchPattern` of `Headers` and `Cookies`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchPattern {
    /// `All`.
    All,
    /// `IncludedHeaders` / `IncludedCookies`.
    Included(Vec<String>),
    /// `ExcludedHeaders` / `ExcludedCookies`.
    Excluded(Vec<String>),
}

/// `MatchScope` of `Headers` and `Cookies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchScope {
    /// `ALL`: keys and values, each on its own.
    All,
    /// `KEY`.
    Key,
    /// `VALUE`.
    Value,
}

/// The `FieldToMatch` of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldToMatch {
    /// `UriPath`, not normalised (only a transformation does that).
    UriPath,
    /// `QueryString`: the text after `?`.
    QueryString,
    /// `Method`.
    Method,
    /// `Body`, the first [`BODY_LIMIT`] bytes.
    Body(Oversize),
    /// `SingleHeader`, its name lowercased (header names are case-insensitive).
    SingleHeader(String),
    /// `SingleQueryArgument`, its name lowercased; repeated arguments are each inspected.
    SingleQueryArgument(String),
    /// `AllQueryArguments`: every argument's value.
    AllQueryArguments,
    /// `Headers`; included/excluded names lowercased.
    Headers(MatchPattern, MatchScope, Oversize),
    /// `Cookies`; cookie names are matched case-sensitively.
    Cookies(MatchPattern, MatchScope, Oversize),
    /// A field AWS defines that vpcsim does not inspect (`JsonBody`, `HeaderOrder`,
    /// `JA3Fingerprint`, `JA4Fingerprint`, `UriFragment`): reported as not evaluated.
    NotSimulated(&'static str),
}

/// How inspecting a field ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inspected {
    /// Some inspected value satisfied the test (or oversize handling said "match").
    Match,
    /// None did, or the component is missing.
    NoMatch,
    /// The field is not simulated.
    NotSimulated(&'static str),
}

impl From<bool> for Inspected {
    fn from(b: bool) -> Self {
        if b {
            Inspected::Match
        } else {
            Inspected::NoMatch
        }
    }
}

/// `name=value` pairs of a query string (a pair without `=` has an empty value).
pub(crate) fn query_args(q: &str) -> impl Iterator<Item = (&str, &str)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

fn cookies<'r>(req: &WafRequest<'r>) -> impl Iterator<Item = (&'r str, &'r str)> + 'r {
    let headers = req.headers;
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.split_once('=').unwrap_or((c, "")))
}

fn pattern_admits(pattern: &MatchPattern, key: &str, case_sensitive: bool) -> bool {
    let eq = |p: &String| {
        if case_sensitive {
            p == key
        } else {
            p.eq_ignore_ascii_case(key)
        }
    };
    match pattern {
        MatchPattern::All => true,
        MatchPattern::Included(names) => names.iter().any(eq),
        MatchPattern::Excluded(names) => !names.iter().any(eq),
    }
}

/// Test keys and values of `pairs` within the limits; `None` when the caller must fall back to
/// oversize handling.
fn inspect_pairs<'p>(
    pairs: impl Iterator<Item = (&'p str, &'p str)>,
    pattern: &MatchPattern,
    scope: MatchScope,
    oversize: Oversize,
    case_sensitive: bool,
    test: &mut dyn FnMut(&[u8]) -> bool,
) -> Inspected {
    let (mut count, mut bytes, mut over) = (0usize, 0usize, false);
    let mut matched = false;
    for (k, v) in pairs {
        count += 1;
        bytes += k.len() + v.len() + 4;
        if count > HEADERS_COUNT_LIMIT || bytes > HEADERS_LIMIT {
            over = true;
            break;
        }
        if matched || !pattern_admits(pattern, k, case_sensitive) {
            continue;
        }
        matched = match scope {
            MatchScope::Key => test(k.as_bytes()),
            MatchScope::Value => test(v.as_bytes()),
            MatchScope::All => test(k.as_bytes()) || test(v.as_bytes()),
        };
    }
    match (over, oversize) {
        (true, Oversize::Match) => Inspected::Match,
        (true, Oversize::NoMatch) => Inspected::NoMatch,
        _ => matched.into(),
    }
}

impl FieldToMatch {
    /// Run `test` over each value this field takes in `req`: matches if any value passes.
    pub(crate) fn inspect(
        &self,
        req: &WafRequest<'_>,
        test: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Inspected {
        match self {
            FieldToMatch::UriPath => test(req.uri_path.as_bytes()).into(),
            FieldToMatch::QueryString => test(req.query_string.as_bytes()).into(),
            FieldToMatch::Method => test(req.method.as_bytes()).into(),
            FieldToMatch::Body(oversize) => {
                if req.body.len() > BODY_LIMIT {
                    match oversize {
                        Oversize::Match => return Inspected::Match,
                        Oversize::NoMatch => return Inspected::NoMatch,
                        Oversize::Continue => {}
                    }
                }
                test(&req.body[..req.body.len().min(BODY_LIMIT)]).into()
            }
            FieldToMatch::SingleHeader(name) => req
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .any(|(_, v)| test(v.as_bytes()))
                .into(),
            FieldToMatch::SingleQueryArgument(name) => query_args(req.query_string)
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .any(|(_, v)| test(v.as_bytes()))
                .into(),
            FieldToMatch::AllQueryArguments => query_args(req.query_string)
                .any(|(_, v)| test(v.as_bytes()))
                .into(),
            FieldToMatch::Headers(pattern, scope, oversize) => inspect_pairs(
                req.headers.iter().copied(),
                pattern,
                *scope,
                *oversize,
                false,
                test,
            ),
            FieldToMatch::Cookies(pattern, scope, oversize) => {
                inspect_pairs(cookies(req), pattern, *scope, *oversize, true, test)
            }
            FieldToMatch::NotSimulated(name) => Inspected::NotSimulated(name),
        }
    }
}
