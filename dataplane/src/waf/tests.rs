//! Unit tests of the WAF engine: every statement, field, transformation, action and rate window.

use super::field::{FieldToMatch, MatchPattern, MatchScope, Oversize};
use super::log::{record, LogSource};
use super::transform::TextTransformation as T;
use super::*;
use crate::wire::Timestamp;
use std::sync::Arc;

const HEADERS: &[(&str, &str)] = &[
    ("Host", "shop.example.com"),
    ("User-Agent", "curl/8.0"),
    ("X-Forwarded-For", "203.0.113.9, 10.0.0.1"),
    ("Cookie", "session=abc; Theme=dark"),
];

fn req() -> WafRequest<'static> {
    WafRequest {
        client_ip: "198.51.100.7".parse().unwrap(),
        method: "GET",
        uri_path: "/api/users",
        query_string: "id=1&Name=Bob&id=2",
        http_version: "HTTP/1.1",
        headers: HEADERS,
        body: b"",
        countries: None,
    }
}

fn field(field: FieldToMatch, transformations: Vec<T>, test: Test) -> Statement {
    Statement::Field {
        field,
        transformations,
        test,
    }
}

fn bytes(f: FieldToMatch, s: &str, pos: Positional) -> Statement {
    field(f, vec![], Test::Bytes(s.as_bytes().to_vec(), pos))
}

fn rule(name: &str, priority: i64, s: Statement, action: RuleAction) -> Rule {
    Rule {
        name: name.into(),
        priority,
        labels: vec![],
        kind: RuleKind::Match(s, action),
    }
}

fn acl(rules: Vec<Rule>, default: RuleAction) -> WebAcl {
    WebAcl::new("Acl".into(), "arn:acl".into(), default, rules)
}

/// The outcome of `s` as the only rule (Block) of an allow-by-default ACL over `r`.
fn outcome(s: Statement, r: &WafRequest<'_>) -> (WafAction, Vec<NotEvaluated>) {
    let a = acl(
        vec![rule("R", 1, s, RuleAction::Block(None))],
        RuleAction::Allow,
    );
    let mut st = WafState::new(&a);
    let mut d = WafDecision::default();
    a.evaluate(r, Timestamp::from_secs(0), &mut st, &mut d);
    (d.action, d.not_evaluated.iter().map(|(_, n)| *n).collect())
}

fn matches(s: Statement) -> bool {
    outcome(s, &req()).0 == WafAction::Block
}

fn tf(t: T, input: &str) -> Vec<u8> {
    let mut out = Vec::new();
    t.apply(input.as_bytes(), &mut out);
    out
}

#[test]
fn byte_match_positional_constraints() {
    use Positional::*;
    assert!(matches(bytes(FieldToMatch::UriPath, "/api/users", Exactly)));
    assert!(!matches(bytes(FieldToMatch::UriPath, "/api", Exactly)));
    assert!(matches(bytes(FieldToMatch::UriPath, "/api", StartsWith)));
    assert!(matches(bytes(FieldToMatch::UriPath, "users", EndsWith)));
    assert!(matches(bytes(FieldToMatch::UriPath, "pi/us", Contains)));
    assert!(matches(bytes(FieldToMatch::UriPath, "api", ContainsWord)));
    assert!(!matches(bytes(FieldToMatch::UriPath, "use", ContainsWord)));
    assert!(ContainsWord.matches(b"api", b"api"));
    assert!(ContainsWord.matches(b"a api", b"api"));
    assert!(!ContainsWord.matches(b"apis", b"api"));
    assert!(ContainsWord.matches(b"xapi api", b"api"));
    // Byte-exact: case only through transformations.
    assert!(!matches(bytes(FieldToMatch::UriPath, "/API", StartsWith)));
    assert!(matches(field(
        FieldToMatch::UriPath,
        vec![T::Uppercase],
        Test::Bytes(b"/API".to_vec(), StartsWith)
    )));
}

#[test]
fn fields_to_match() {
    use Positional::*;
    assert!(matches(bytes(FieldToMatch::Method, "GET", Exactly)));
    assert!(matches(bytes(
        FieldToMatch::QueryString,
        "Name=Bob",
        Contains
    )));
    let single = |n: &str| FieldToMatch::SingleHeader(n.into());
    assert!(matches(bytes(single("user-agent"), "curl", StartsWith)));
    assert!(!matches(bytes(single("x-missing"), "", StartsWith)));
    let arg = |n: &str| FieldToMatch::SingleQueryArgument(n.into());
    assert!(matches(bytes(arg("name"), "Bob", Exactly)));
    // Repeated arguments are each inspected.
    assert!(matches(bytes(arg("id"), "2", Exactly)));
    assert!(matches(bytes(
        FieldToMatch::AllQueryArguments,
        "Bob",
        Exactly
    )));
    assert!(!matches(bytes(
        FieldToMatch::AllQueryArguments,
        "Name",
        Exactly
    )));
    let headers = |p, s| FieldToMatch::Headers(p, s, Oversize::Continue);
    assert!(matches(bytes(
        headers(MatchPattern::All, MatchScope::Key),
        "Host",
        Exactly
    )));
    assert!(!matches(bytes(
        headers(
            MatchPattern::Excluded(vec!["host".into()]),
            MatchScope::Value
        ),
        "shop.example.com",
        Exactly
    )));
    let cookies = |p| FieldToMatch::Cookies(p, MatchScope::Value, Oversize::Continue);
    assert!(matches(bytes(
        cookies(MatchPattern::Included(vec!["Theme".into()])),
        "dark",
        Exactly
    )));
    // Cookie names are case-sensitive.
    assert!(!matches(bytes(
        cookies(MatchPattern::Included(vec!["theme".into()])),
        "dark",
        Exactly
    )));
    let (_, why) = outcome(
        bytes(FieldToMatch::NotSimulated("JsonBody"), "x", Contains),
        &req(),
    );
    assert_eq!(why, vec![NotEvaluated::Field("JsonBody")]);
}

#[test]
fn body_oversize_handling() {
    let big = vec![b'a'; field::BODY_LIMIT + 10];
    let mut r = req();
    r.body = &big;
    let size = |o| {
        field(
            FieldToMatch::Body(o),
            vec![],
            Test::Size(Comparison::Gt, 8192),
        )
    };
    // CONTINUE inspects the first 8 KB only.
    assert_eq!(outcome(size(Oversize::Continue), &r).0, WafAction::Allow);
    assert_eq!(outcome(size(Oversize::Match), &r).0, WafAction::Block);
    let tail = |o| {
        field(
            FieldToMatch::Body(o),
            vec![],
            Test::Bytes(b"a".to_vec(), Positional::Contains),
        )
    };
    assert_eq!(outcome(tail(Oversize::NoMatch), &r).0, WafAction::Allow);
    assert_eq!(outcome(tail(Oversize::Continue), &r).0, WafAction::Block);
}

#[test]
fn headers_oversize_handling() {
    let many: Vec<(String, String)> = (0..201).map(|i| (format!("x-h{i}"), "v".into())).collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut r = req();
    r.headers = &refs;
    let last = |o| {
        field(
            FieldToMatch::Headers(MatchPattern::All, MatchScope::Key, o),
            vec![],
            Test::Bytes(b"x-h200".to_vec(), Positional::Exactly),
        )
    };
    assert_eq!(outcome(last(Oversize::Continue), &r).0, WafAction::Allow);
    assert_eq!(outcome(last(Oversize::Match), &r).0, WafAction::Block);
}

#[test]
fn size_constraint_counts_after_transformations() {
    let size = |op, n, t: Vec<T>| field(FieldToMatch::UriPath, t, Test::Size(op, n));
    assert!(matches(size(Comparison::Eq, 10, vec![])));
    assert!(matches(size(Comparison::Ne, 9, vec![])));
    assert!(matches(size(Comparison::Le, 10, vec![])));
    assert!(matches(size(Comparison::Lt, 11, vec![])));
    assert!(matches(size(Comparison::Ge, 10, vec![])));
    assert!(matches(size(Comparison::Gt, 9, vec![])));
    assert!(matches(size(Comparison::Eq, 16, vec![T::Md5])));
    assert!(matches(size(Comparison::Eq, 32, vec![T::Sha256])));
}

#[test]
fn regex_and_regex_set() {
    let re = regex::bytes::Regex::new("^/api/[a-z]+$").unwrap();
    assert!(matches(field(
        FieldToMatch::UriPath,
        vec![],
        Test::Regex(re)
    )));
    let set = Arc::new(RegexPatternSet {
        name: "S".into(),
        arn: "arn:set".into(),
        patterns: regex::bytes::RegexSet::new(["^/admin", "users$"]).unwrap(),
    });
    assert!(matches(field(
        FieldToMatch::UriPath,
        vec![],
        Test::RegexSet(Arc::clone(&set))
    )));
    assert!(!matches(field(
        FieldToMatch::Method,
        vec![],
        Test::RegexSet(set)
    )));
}

fn ip_set(cidrs: &[&str]) -> Arc<IpSet> {
    let nets: Vec<ipnet::IpNet> = cidrs.iter().map(|c| c.parse().unwrap()).collect();
    Arc::new(IpSet::new("Ips".into(), "arn:ips".into(), &nets))
}

fn fwd(position: ForwardedPosition, fallback: Fallback) -> Option<ForwardedIpConfig> {
    Some(ForwardedIpConfig {
        header: "X-Forwarded-For".into(),
        fallback,
        position,
    })
}

#[test]
fn ip_set_with_and_without_forwarded_ip() {
    use ForwardedPosition::*;
    assert!(matches(Statement::IpSet(
        ip_set(&["198.51.100.0/24"]),
        None
    )));
    assert!(!matches(Statement::IpSet(ip_set(&["2001:db8::/32"]), None)));
    let set = ip_set(&["203.0.113.0/24"]);
    let nm = Fallback::NoMatch;
    assert!(matches(Statement::IpSet(Arc::clone(&set), fwd(First, nm))));
    assert!(!matches(Statement::IpSet(Arc::clone(&set), fwd(Last, nm))));
    assert!(matches(Statement::IpSet(
        ip_set(&["10.0.0.0/8"]),
        fwd(Any, nm)
    )));
    // Malformed header: the fallback decides; absent header: no match.
    let bad: &[(&str, &str)] = &[("X-Forwarded-For", "not-an-ip")];
    let mut r = req();
    r.headers = bad;
    let s = |f| Statement::IpSet(Arc::clone(&set), fwd(First, f));
    assert_eq!(outcome(s(Fallback::Match), &r).0, WafAction::Block);
    assert_eq!(outcome(s(Fallback::NoMatch), &r).0, WafAction::Allow);
    r.headers = &[];
    assert_eq!(outcome(s(Fallback::Match), &r).0, WafAction::Allow);
}

#[test]
fn geo_match_needs_a_country_map_and_adds_labels() {
    let s = || Statement::Geo(vec![*b"NL"], None);
    let (action, why) = outcome(s(), &req());
    assert_eq!(action, WafAction::Allow);
    assert_eq!(why, vec![NotEvaluated::GeoWithoutCountryFile]);
    let map =
        CountryMap::parse("# test\n198.51.100.0/24,NL\n198.51.100.7/32 US\n2001:db8::/32,DE\n")
            .unwrap();
    let mut r = req();
    r.countries = Some(&map);
    // The most specific block wins.
    assert_eq!(outcome(s(), &r), (WafAction::Allow, vec![]));
    assert_eq!(map.country("198.51.100.8".parse().unwrap()), *b"NL");
    assert_eq!(map.country("192.0.2.1".parse().unwrap()), *b"XX");
    let us = Statement::Geo(vec![*b"US"], None);
    assert_eq!(outcome(us, &r).0, WafAction::Block);
    assert!(CountryMap::parse("10.0.0.0/8,USA").is_err());
    assert_eq!(CountryMap::parse("nonsense").unwrap_err().0, 1);
    // The geo label is visible to later rules, even on no match.
    let a = acl(
        vec![
            rule("Geo", 1, s(), RuleAction::Count),
            rule(
                "ByLabel",
                2,
                Statement::Label(LabelScope::Label, "awswaf:clientip:geo:country:US".into()),
                RuleAction::Block(None),
            ),
        ],
        RuleAction::Allow,
    );
    let mut d = WafDecision::default();
    a.evaluate(&r, Timestamp(0), &mut WafState::new(&a), &mut d);
    assert_eq!(d.action, WafAction::Block);
    assert_eq!(d.geo_labels, vec![(false, *b"US")]);
}

#[test]
fn logical_statements_use_three_valued_logic() {
    let yes = || bytes(FieldToMatch::Method, "GET", Positional::Exactly);
    let no = || bytes(FieldToMatch::Method, "POST", Positional::Exactly);
    let unknown = || Statement::NotEvaluated(NotEvaluated::SqliMatch);
    assert!(matches(Statement::And(vec![yes(), yes()])));
    assert!(!matches(Statement::And(vec![yes(), no()])));
    assert!(matches(Statement::Or(vec![no(), yes()])));
    assert!(matches(Statement::Not(Box::new(no()))));
    // An unknown part that cannot change the outcome is not reported.
    assert_eq!(
        outcome(Statement::And(vec![no(), unknown()]), &req()),
        (WafAction::Allow, vec![])
    );
    assert_eq!(
        outcome(Statement::Or(vec![unknown(), yes()]), &req()),
        (WafAction::Block, vec![])
    );
    // One that can is reported, and the rule does not match.
    for s in [
        Statement::And(vec![yes(), unknown()]),
        Statement::Not(Box::new(unknown())),
        Statement::NotEvaluated(NotEvaluated::XssMatch),
    ] {
        let (action, why) = outcome(s, &req());
        assert_eq!(action, WafAction::Allow);
        assert_eq!(why.len(), 1);
    }
}

#[test]
fn actions_priority_count_labels_and_default() {
    let get = || bytes(FieldToMatch::Method, "GET", Positional::Exactly);
    let mut counted = rule("Counted", 5, get(), RuleAction::Count);
    counted.labels = vec!["awswaf:111122223333:webacl:Acl:seen".into()];
    let by_label = rule(
        "ByLabel",
        10,
        Statement::Label(
            LabelScope::Namespace,
            "awswaf:111122223333:webacl:Acl:".into(),
        ),
        RuleAction::Block(None),
    );
    // Listed out of order: priority decides.
    let a = acl(
        vec![
            by_label,
            counted,
            rule("Allow", 20, get(), RuleAction::Allow),
        ],
        RuleAction::Block(None),
    );
    let mut d = WafDecision::default();
    a.evaluate(&req(), Timestamp(0), &mut WafState::new(&a), &mut d);
    assert_eq!(d.action, WafAction::Block);
    assert_eq!(a.rule_name(d.terminating.unwrap()), "ByLabel");
    assert_eq!(d.counted.len(), 1);
    assert_eq!(a.label(d.labels[0]), "awswaf:111122223333:webacl:Acl:seen");
    assert_eq!(a.block_response(&d).unwrap().status, 403);
    // Nothing terminates: the default action.
    let a = acl(vec![], RuleAction::Block(None));
    a.evaluate(&req(), Timestamp(0), &mut WafState::new(&a), &mut d);
    assert_eq!((d.action, d.terminating), (WafAction::Block, None));
    let a = acl(vec![], RuleAction::Allow);
    a.evaluate(&req(), Timestamp(0), &mut WafState::new(&a), &mut d);
    assert_eq!(d.action, WafAction::Allow);
    assert!(a.block_response(&d).is_none());
}

#[test]
fn block_custom_response_and_captcha_not_simulated() {
    let get = || bytes(FieldToMatch::Method, "GET", Positional::Exactly);
    let custom = Arc::new(CustomResponse {
        status: 429,
        headers: vec![("Retry-After".into(), "60".into())],
        body: Some(("text/plain", "slow down".into())),
    });
    let a = acl(
        vec![
            rule("Captcha", 1, get(), RuleAction::Captcha),
            rule("Challenge", 2, get(), RuleAction::Challenge),
            rule("Block", 3, get(), RuleAction::Block(Some(custom))),
        ],
        RuleAction::Allow,
    );
    let mut d = WafDecision::default();
    a.evaluate(&req(), Timestamp(0), &mut WafState::new(&a), &mut d);
    let resp = a.block_response(&d).unwrap();
    assert_eq!(resp.status, 429);
    assert_eq!(resp.custom.unwrap().body.as_ref().unwrap().1, "slow down");
    let why: Vec<_> = d.not_evaluated.iter().map(|(_, n)| *n).collect();
    assert_eq!(why, vec![NotEvaluated::Captcha, NotEvaluated::Challenge]);
    assert!(!d.is_conclusive());
}

#[test]
fn rule_groups_overrides_exclusions_and_managed_groups() {
    let get = || bytes(FieldToMatch::Method, "GET", Positional::Exactly);
    let group = RuleGroup {
        name: "G".into(),
        arn: "arn:g".into(),
        rules: vec![
            rule("G2", 2, get(), RuleAction::Block(None)),
            rule("G1", 1, get(), RuleAction::Block(None)),
        ],
    };
    let with = |g: RuleGroupUse| {
        acl(
            vec![
                Rule {
                    name: "Managed".into(),
                    priority: 0,
                    labels: vec![],
                    kind: RuleKind::Managed("AWS".into(), "AWSManagedRulesCommonRuleSet".into()),
                },
                Rule {
                    name: "UseG".into(),
                    priority: 1,
                    labels: vec![],
                    kind: RuleKind::Group(g),
                },
            ],
            RuleAction::Allow,
        )
    };
    let run = |a: &WebAcl| {
        let mut d = WafDecision::default();
        a.evaluate(&req(), Timestamp(0), &mut WafState::new(a), &mut d);
        d
    };
    let a = with(group.use_in(&[], &[], false));
    let d = run(&a);
    assert_eq!(d.action, WafAction::Block);
    assert_eq!(a.rule_name(d.terminating.unwrap()), "UseG/G1");
    assert_eq!(d.not_evaluated[0].1, NotEvaluated::ManagedRuleGroup);
    let a = with(group.use_in(&["G1".into()], &[], false));
    assert_eq!(a.rule_name(run(&a).terminating.unwrap()), "UseG/G2");
    let a = with(group.use_in(&[], &[("G1".into(), RuleAction::Allow)], false));
    assert_eq!(run(&a).action, WafAction::Allow);
    let a = with(group.use_in(&[], &[], true));
    let d = run(&a);
    assert_eq!(
        (d.action, d.terminating, d.counted.len()),
        (WafAction::Allow, None, 2)
    );
}

fn rate_acl(limit: u64, window: u64, aggregate: Aggregate) -> WebAcl {
    acl(
        vec![Rule {
            name: "Rate".into(),
            priority: 1,
            labels: vec![],
            kind: RuleKind::RateBased(
                RateBased {
                    limit,
                    window_secs: window,
                    aggregate,
                    scope_down: Some(bytes(FieldToMatch::UriPath, "/api", Positional::StartsWith)),
                    slot: 0,
                },
                RuleAction::Block(None),
            ),
        }],
        RuleAction::Allow,
    )
}

#[test]
fn rate_based_limits_at_ten_second_ticks_over_the_window() {
    let a = rate_acl(10, 60, Aggregate::Ip);
    let mut st = WafState::new(&a);
    let mut d = WafDecision::default();
    let mut at = |secs: u64, st: &mut WafState| {
        a.evaluate(&req(), Timestamp::from_secs(secs), st, &mut d);
        d.action
    };
    // 15 requests within the first tick: all pass (the rate is checked every 10 s).
    for _ in 0..15 {
        assert_eq!(at(1000, &mut st), WafAction::Allow);
    }
    // Next tick: 15 > 10 in the window, limited.
    assert_eq!(at(1010, &mut st), WafAction::Block);
    assert_eq!(at(1019, &mut st), WafAction::Block);
    // 16 requests still in the 60 s window at 1060; at 1070 the first 15 have left it.
    assert_eq!(at(1060, &mut st), WafAction::Block);
    assert_eq!(at(1070, &mut st), WafAction::Allow);
    assert_eq!(st.limited_keys(0).count(), 0);
    // Another client is counted on its own; requests outside the scope-down are not counted.
    let mut other = req();
    other.client_ip = "192.0.2.1".parse().unwrap();
    a.evaluate(&other, Timestamp::from_secs(1071), &mut st, &mut d);
    assert_eq!(d.action, WafAction::Allow);
    let mut off_scope = req();
    off_scope.uri_path = "/static";
    let mut st = WafState::new(&a);
    for s in 0..30 {
        a.evaluate(&off_scope, Timestamp::from_secs(2000 + s), &mut st, &mut d);
        assert_eq!(d.action, WafAction::Allow);
    }
}

#[test]
fn rate_based_windows_and_aggregation_keys() {
    // A 600 s window still sees requests 590 s back.
    let a = rate_acl(10, 600, Aggregate::Constant);
    let mut st = WafState::new(&a);
    let mut d = WafDecision::default();
    for _ in 0..11 {
        a.evaluate(&req(), Timestamp::from_secs(0), &mut st, &mut d);
    }
    a.evaluate(&req(), Timestamp::from_secs(590), &mut st, &mut d);
    assert_eq!(d.action, WafAction::Block);
    assert_eq!(d.rate_limited[0].1, None);
    a.evaluate(&req(), Timestamp::from_secs(610), &mut st, &mut d);
    assert_eq!(d.action, WafAction::Allow);
    // FORWARDED_IP: keyed by the header's first address; no header, not counted.
    let cfg = fwd(ForwardedPosition::First, Fallback::NoMatch).unwrap();
    let a = rate_acl(10, 60, Aggregate::ForwardedIp(cfg));
    let mut st = WafState::new(&a);
    for _ in 0..11 {
        a.evaluate(&req(), Timestamp::from_secs(0), &mut st, &mut d);
    }
    a.evaluate(&req(), Timestamp::from_secs(10), &mut st, &mut d);
    assert_eq!(d.rate_limited[0].1, Some("203.0.113.9".parse().unwrap()));
    let mut bare = req();
    bare.headers = &[];
    a.evaluate(&bare, Timestamp::from_secs(10), &mut st, &mut d);
    assert_eq!(d.action, WafAction::Allow);
}

#[test]
fn transformations_as_aws_defines_them() {
    assert_eq!(tf(T::None, "A b"), b"A b");
    assert_eq!(tf(T::Lowercase, "AbC"), b"abc");
    assert_eq!(tf(T::Uppercase, "AbC"), b"ABC");
    assert_eq!(tf(T::CompressWhiteSpace, "a \t\r\n  b"), b"a b");
    assert_eq!(
        tf(T::HtmlEntityDecode, "&lt;a&gt; &quot;&#x41;&#66;"),
        b"<a> \"AB"
    );
    assert_eq!(tf(T::HtmlEntityDecode, "&nbsp;")[0], 0xa0);
    assert_eq!(tf(T::UrlDecode, "%3Cscript%3E+x%zz"), b"<script> x%zz");
    assert_eq!(tf(T::UrlDecodeUni, "%u0041%41"), b"AA");
    assert_eq!(
        tf(T::CmdLine, "C:\\Win\"dows ^/c, DIR;x  y"),
        b"c:windows/c dir x y"
    );
    assert_eq!(tf(T::Base64Decode, "aGVsbG8="), b"hello");
    assert_eq!(tf(T::Base64Decode, "aGVs!bG8="), b"hel");
    assert_eq!(tf(T::Base64DecodeExt, "aGVs!bG8="), b"hello");
    assert_eq!(tf(T::HexDecode, "414243"), b"ABC");
    assert_eq!(tf(T::HexDecode, "41x"), b"41x");
    assert_eq!(tf(T::Md5, "").len(), 16);
    assert_eq!(
        tf(T::Sha256, "abc")[..4],
        [0xba, 0x78, 0x16, 0xbf],
        "SHA-256 of abc"
    );
    assert_eq!(tf(T::ReplaceComments, "a/*x*/b/*open"), b"a b ");
    assert_eq!(tf(T::RemoveCommentsChar, "a/*b*/c--d#e"), b"abcde");
    assert_eq!(tf(T::EscapeSeqDecode, "a\\nb\\x41\\101\\\\"), b"a\nbAA\\");
    assert_eq!(tf(T::SqlHexDecode, "x=0x414243;"), b"x=ABC;");
    assert_eq!(tf(T::NormalizePath, "/a//b/./c/../d/"), b"/a/b/d/");
    assert_eq!(tf(T::NormalizePath, "../a/./b"), b"../a/b");
    assert_eq!(tf(T::NormalizePathWin, "\\a\\..\\b"), b"/b");
    assert_eq!(tf(T::RemoveNulls, "a\0b"), b"ab");
    assert_eq!(tf(T::ReplaceNulls, "a\0b"), b"a b");
    assert_eq!(tf(T::RemoveWhitespace, " a b\tc "), b"abc");
    assert_eq!(tf(T::Trim, "  a b  "), b"a b");
    assert_eq!(tf(T::TrimLeft, "  a "), b"a ");
    assert_eq!(tf(T::TrimRight, "  a "), b"  a");
    assert_eq!(T::from_aws("JS_DECODE"), Some(T::NotSimulated("JS_DECODE")));
    assert_eq!(T::from_aws("NOT_A_TRANSFORMATION"), None);
}

#[test]
fn transformations_chain_in_priority_order() {
    // URL_DECODE then LOWERCASE: "%3CSCRIPT" → "<script".
    let s = field(
        FieldToMatch::QueryString,
        vec![T::UrlDecode, T::Lowercase],
        Test::Bytes(b"<script".to_vec(), Positional::Contains),
    );
    let mut r = req();
    r.query_string = "q=%3CSCRIPT%3E";
    assert_eq!(outcome(s, &r).0, WafAction::Block);
    let unsupported = field(
        FieldToMatch::QueryString,
        vec![T::NotSimulated("CSS_DECODE")],
        Test::Bytes(b"x".to_vec(), Positional::Contains),
    );
    assert_eq!(
        outcome(unsupported, &r).1,
        vec![NotEvaluated::Transformation("CSS_DECODE")]
    );
}

#[test]
fn log_record_has_aws_fields() {
    let get = || bytes(FieldToMatch::Method, "GET", Positional::Exactly);
    let mut counted = rule("Counted", 1, get(), RuleAction::Count);
    counted.labels = vec!["awswaf:1:webacl:Acl:seen".into()];
    let a = acl(
        vec![
            counted,
            rule(
                "Sqli",
                2,
                Statement::NotEvaluated(NotEvaluated::SqliMatch),
                RuleAction::Block(None),
            ),
            rule("Block", 3, get(), RuleAction::Block(None)),
        ],
        RuleAction::Allow,
    );
    let mut d = WafDecision::default();
    a.evaluate(
        &req(),
        Timestamp::from_secs(1_700_000_000),
        &mut WafState::new(&a),
        &mut d,
    );
    let line = record(
        &a,
        &req(),
        &d,
        &LogSource {
            timestamp: Timestamp::from_secs(1_700_000_000),
            http_source_name: "ALB",
            http_source_id: "app/web/abc",
            request_id: "1-abc",
        },
    );
    for want in [
        "\"timestamp\":1700000000000",
        "\"formatVersion\":1",
        "\"webaclId\":\"arn:acl\"",
        "\"terminatingRuleId\":\"Block\"",
        "\"terminatingRuleType\":\"REGULAR\"",
        "\"action\":\"BLOCK\"",
        "\"httpSourceName\":\"ALB\"",
        "\"nonTerminatingMatchingRules\":[{\"ruleId\":\"Counted\",\"action\":\"COUNT\"}]",
        "\"clientIp\":\"198.51.100.7\"",
        "\"country\":\"XX\"",
        "{\"name\":\"User-Agent\",\"value\":\"curl/8.0\"}",
        "\"uri\":\"/api/users\"",
        "\"args\":\"id=1&Name=Bob&id=2\"",
        "\"httpMethod\":\"GET\"",
        "\"requestId\":\"1-abc\"",
        "\"labels\":[{\"name\":\"awswaf:1:webacl:Acl:seen\"}]",
        "\"vpcsimNotEvaluated\":[{\"ruleId\":\"Sqli\"",
    ] {
        assert!(line.contains(want), "{want} missing from {line}");
    }
}

#[test]
fn steady_state_evaluation_reuses_buffers() {
    let s = field(
        FieldToMatch::UriPath,
        vec![T::Lowercase, T::UrlDecode],
        Test::Bytes(b"/admin".to_vec(), Positional::StartsWith),
    );
    let a = acl(vec![rule("R", 1, s, RuleAction::Count)], RuleAction::Allow);
    let mut st = WafState::new(&a);
    let mut d = WafDecision::default();
    a.evaluate(&req(), Timestamp(0), &mut st, &mut d);
    let (ca, cb, cd) = (st.a.capacity(), st.b.capacity(), d.counted.capacity());
    for _ in 0..100 {
        a.evaluate(&req(), Timestamp(0), &mut st, &mut d);
    }
    assert_eq!(
        (st.a.capacity(), st.b.capacity(), d.counted.capacity()),
        (ca, cb, cd)
    );
}
