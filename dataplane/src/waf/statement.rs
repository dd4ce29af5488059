//! Match statements (SPEC §19.3) and their evaluation over one request.
//!
//! A statement evaluates to matched, not matched, or not evaluated (Kleene's three-valued
//! logic): `And` with one unmatched part is unmatched whatever the others are, `Or` with one
//! matched part is matched, and only when the outcome truly depends on a statement vpcsim cannot
//! evaluate does the rule end up "not evaluated".

use super::field::{FieldToMatch, Inspected};
use super::transform::{apply_chain, TextTransformation};
use super::{CountryMap, NotEvaluated, WafRequest};
use crate::tables::lpm::Lpm;
use std::net::IpAddr;
use std::sync::Arc;

/// The outcome of one statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The statement matched.
    Match,
    /// It did not.
    NoMatch,
    /// It depends on something vpcsim does not evaluate.
    NotEvaluated(NotEvaluated),
}

impl From<bool> for Outcome {
    fn from(b: bool) -> Self {
        if b {
            Outcome::Match
        } else {
            Outcome::NoMatch
        }
    }
}

/// An `AWS::WAFv2::IPSet`, compiled for lookups.
#[derive(Clone)]
pub struct IpSet {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    v4: Lpm<u32>,
    v6: Lpm<u128>,
}

impl std::fmt::Debug for IpSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IpSet({}, {} v4, {} v6)",
            self.name,
            self.v4.len(),
            self.v6.len()
        )
    }
}

impl IpSet {
    /// An IP set of `addresses` (AWS forbids `/0`; the loader checks that).
    pub fn new(name: String, arn: String, addresses: &[ipnet::IpNet]) -> IpSet {
        let mut v4 = crate::tables::lpm::LpmBuilder::<u32>::new();
        let mut v6 = crate::tables::lpm::LpmBuilder::<u128>::new();
        for net in addresses {
            match net.trunc() {
                ipnet::IpNet::V4(n) => v4.insert(u32::from(n.network()), n.prefix_len(), 1),
                ipnet::IpNet::V6(n) => v6.insert(u128::from(n.network()), n.prefix_len(), 1),
            }
        }
        IpSet {
            name,
            arn,
            v4: v4.build(),
            v6: v6.build(),
        }
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)).is_some(),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)).is_some(),
        }
    }
}

/// An `AWS::WAFv2::RegexPatternSet`, compiled.
#[derive(Clone, Debug)]
pub struct RegexPatternSet {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The patterns; the set matches when any of them does.
    pub patterns: regex::bytes::RegexSet,
}

/// `FallbackBehavior` of a forwarded-IP configuration: the outcome when the header holds no
/// valid address where the statement looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// `MATCH`.
    Match,
    /// `NO_MATCH`.
    NoMatch,
}

/// `Position` of `IPSetForwardedIPConfig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardedPosition {
    /// `FIRST`.
    First,
    /// `LAST`.
    Last,
    /// `ANY`: up to the last 10 addresses.
    Any,
}

/// `ForwardedIPConfig` / `IPSetForwardedIPConfig`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardedIpConfig {
    /// `HeaderName` (matched case-insensitively).
    pub header: String,
    /// `FallbackBehavior`.
    pub fallback: Fallback,
    /// `Position` (`FIRST` for geo and rate-based statements, which have none).
    pub position: ForwardedPosition,
}

/// Where a statement takes the client address from.
pub(crate) enum ClientAddress<'r> {
    /// The address, and whether it came from a forwarded-IP header.
    Found(IpAddr, bool),
    /// The configured header is absent: the statement does not match.
    HeaderAbsent,
    /// The header holds no valid address where the statement looks.
    Invalid(Fallback),
    /// `ANY`: every address of the header's last 10.
    Any(&'r str),
}

impl ForwardedIpConfig {
    pub(crate) fn address<'r>(&self, req: &WafRequest<'r>) -> ClientAddress<'r> {
        let Some(value) = req.header(&self.header) else {
            return ClientAddress::HeaderAbsent;
        };
        let pick = match self.position {
            ForwardedPosition::First => value.split(',').next(),
            ForwardedPosition::Last => value.rsplit(',').next(),
            ForwardedPosition::Any => return ClientAddress::Any(value),
        };
        match pick.and_then(|a| a.trim().parse().ok()) {
            Some(ip) => ClientAddress::Found(ip, true),
            None => ClientAddress::Invalid(self.fallback),
        }
    }
}

/// The client address of `req` for a statement with an optional forwarded-IP configuration.
pub(crate) fn client_address<'r>(
    forwarded: Option<&ForwardedIpConfig>,
    req: &WafRequest<'r>,
) -> ClientAddress<'r> {
    match forwarded {
        None => ClientAddress::Found(req.client_ip, false),
        Some(f) => f.address(req),
    }
}

/// `PositionalConstraint` of a `ByteMatchStatement`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positional {
    /// `EXACTLY`.
    Exactly,
    /// `STARTS_WITH`.
    StartsWith,
    /// `ENDS_WITH`.
    EndsWith,
    /// `CONTAINS`.
    Contains,
    /// `CONTAINS_WORD`: bounded by non-word characters (or the ends).
    ContainsWord,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Positional {
    /// Whether `hay` satisfies the constraint with `needle`.
    pub fn matches(self, hay: &[u8], needle: &[u8]) -> bool {
        match self {
            Positional::Exactly => hay == needle,
            Positional::StartsWith => hay.starts_with(needle),
            Positional::EndsWith => hay.ends_with(needle),
            Positional::Contains => find(hay, needle, 0).is_some(),
            Positional::ContainsWord => {
                let mut from = 0;
                while let Some(at) = find(hay, needle, from) {
                    let before = at.checked_sub(1).map(|i| hay[i]);
                    let after = hay.get(at + needle.len()).copied();
                    if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
                        return true;
                    }
                    from = at + 1;
                }
                false
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// `ComparisonOperator` of a `SizeConstraintStatement`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `EQ`.
    Eq,
    /// `NE`.
    Ne,
    /// `LE`.
    Le,
    /// `LT`.
    Lt,
    /// `GE`.
    Ge,
    /// `GT`.
    Gt,
}

impl Comparison {
    fn holds(self, size: u64, limit: u64) -> bool {
        match self {
            Comparison::Eq => size == limit,
            Comparison::Ne => size != limit,
            Comparison::Le => size <= limit,
            Comparison::Lt => size < limit,
            Comparison::Ge => size >= limit,
            Comparison::Gt => size > limit,
        }
    }
}

/// What a field-inspecting statement tests on each transformed value.
#[derive(Clone, Debug)]
pub enum Test {
    /// `ByteMatchStatement`.
    Bytes(Vec<u8>, Positional),
    /// `RegexMatchStatement`.
    Regex(regex::bytes::Regex),
    /// `RegexPatternSetReferenceStatement`.
    RegexSet(Arc<RegexPatternSet>),
    /// `SizeConstraintStatement`: the size after transformations.
    Size(Comparison, u64),
}

impl Test {
    fn passes(&self, value: &[u8]) -> bool {
        match self {
            Test::Bytes(needle, pos) => pos.matches(value, needle),
            Test::Regex(re) => re.is_match(value),
            Test::RegexSet(set) => set.patterns.is_match(value),
            Test::Size(op, limit) => op.holds(value.len() as u64, *limit),
        }
    }
}

/// `Scope` of a `LabelMatchStatement`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelScope {
    /// `LABEL`: the key is a whole label.
    Label,
    /// `NAMESPACE`: the key is a namespace (ends with `:`) that labels start with.
    Namespace,
}

/// A statement that can be nested (everything but rate-based and rule-group statements).
#[derive(Clone, Debug)]
pub enum Statement {
    /// A statement over a field: byte, regex, regex set or size match.
    Field {
        /// `FieldToMatch`.
        field: FieldToMatch,
        /// `TextTransformations`, in priority order.
        transformations: Vec<TextTransformation>,
        /// The test on each transformed value.
        test: Test,
    },
    /// `IPSetReferenceStatement`.
    IpSet(Arc<IpSet>, Option<ForwardedIpConfig>),
    /// `GeoMatchStatement`: ISO 3166 alpha-2 codes.
    Geo(Vec<[u8; 2]>, Option<ForwardedIpConfig>),
    /// `LabelMatchStatement`, its key fully qualified at load.
    Label(LabelScope, String),
    /// `AndStatement`.
    And(Vec<Statement>),
    /// `OrStatement`.
    Or(Vec<Statement>),
    /// `NotStatement`.
    Not(Box<Statement>),
    /// A statement loaded but never evaluated (`SqliMatchStatement`, `XssMatchStatement`,
    /// `AsnMatchStatement`): its outcome is always [`Outcome::NotEvaluated`].
    NotEvaluated(NotEvaluated),
}

/// Mutable inputs of an evaluation: scratch buffers and what earlier rules added.
pub(crate) struct Eval<'e, 'r> {
    pub(crate) req: &'e WafRequest<'r>,
    pub(crate) a: &'e mut Vec<u8>,
    pub(crate) b: &'e mut Vec<u8>,
    /// Whether a label (full name) was added by an earlier rule.
    pub(crate) has_label: &'e dyn Fn(LabelScope, &str) -> bool,
    /// Geo labels to add: (forwarded, country).
    pub(crate) geo: &'e mut Vec<(bool, [u8; 2])>,
}

impl Statement {
    /// Evaluate the statement over the request in `ev`.
    pub(crate) fn eval(&self, ev: &mut Eval<'_, '_>) -> Outcome {
        match self {
            Statement::Field {
                field,
                transformations,
                test,
            } => {
                if let Some(TextTransformation::NotSimulated(name)) = transformations
                    .iter()
                    .find(|t| matches!(t, TextTransformation::NotSimulated(_)))
                {
                    return Outcome::NotEvaluated(NotEvaluated::Transformation(name));
                }
                let (a, b) = (&mut *ev.a, &mut *ev.b);
                let mut run = |value: &[u8]| {
                    let out = apply_chain(transformations, value, a, b);
                    test.passes(out)
                };
                match field.inspect(ev.req, &mut run) {
                    Inspected::Match => Outcome::Match,
                    Inspected::NoMatch => Outcome::NoMatch,
                    Inspected::NotSimulated(name) => {
                        Outcome::NotEvaluated(NotEvaluated::Field(name))
                    }
                }
            }
            Statement::IpSet(set, forwarded) => match client_address(forwarded.as_ref(), ev.req) {
                ClientAddress::Found(ip, _) => set.contains(ip).into(),
                ClientAddress::HeaderAbsent => Outcome::NoMatch,
                ClientAddress::Invalid(fallback) => (fallback == Fallback::Match).into(),
                ClientAddress::Any(value) => any_forwarded(value, set, forwarded.as_ref()),
            },
            Statement::Geo(countries, forwarded) => self.eval_geo(countries, forwarded, ev),
            Statement::Label(scope, key) => {
                ((ev.has_label)(*scope, key) || geo_label_matches(ev.geo, *scope, key)).into()
            }
            Statement::And(parts) => {
                let mut unknown = None;
                for s in parts {
                    match s.eval(ev) {
                        Outcome::NoMatch => return Outcome::NoMatch,
                        Outcome::NotEvaluated(n) => unknown = unknown.or(Some(n)),
                        Outcome::Match => {}
                    }
                }
                unknown.map_or(Outcome::Match, Outcome::NotEvaluated)
            }
            Statement::Or(parts) => {
                let mut unknown = None;
                for s in parts {
                    match s.eval(ev) {
                        Outcome::Match => return Outcome::Match,
                        Outcome::NotEvaluated(n) => unknown = unknown.or(Some(n)),
                        Outcome::NoMatch => {}
                    }
                }
                unknown.map_or(Outcome::NoMatch, Outcome::NotEvaluated)
            }
            Statement::Not(inner) => match inner.eval(ev) {
                Outcome::Match => Outcome::NoMatch,
                Outcome::NoMatch => Outcome::Match,
                n => n,
            },
            Statement::NotEvaluated(n) => Outcome::NotEvaluated(*n),
        }
    }

    fn eval_geo(
        &self,
        countries: &[[u8; 2]],
        forwarded: &Option<ForwardedIpConfig>,
        ev: &mut Eval<'_, '_>,
    ) -> Outcome {
        let Some(map) = ev.req.countries else {
            return Outcome::NotEvaluated(NotEvaluated::GeoWithoutCountryFile);
        };
        let (ip, from_header) = match client_address(forwarded.as_ref(), ev.req) {
            ClientAddress::Found(ip, f) => (ip, f),
            ClientAddress::HeaderAbsent => return Outcome::NoMatch,
            ClientAddress::Invalid(fallback) => return (fallback == Fallback::Match).into(),
            ClientAddress::Any(_) => return Outcome::NoMatch,
        };
        let country = map.country(ip);
        if !ev.geo.contains(&(from_header, country)) {
            ev.geo.push((from_header, country));
        }
        countries.contains(&country).into()
    }
}

/// Whether a geo label added so far (`awswaf:clientip:geo:country:US`) matches a label key.
fn geo_label_matches(geo: &[(bool, [u8; 2])], scope: LabelScope, key: &str) -> bool {
    geo.iter().any(|(forwarded, cc)| {
        let prefix = if *forwarded {
            "awswaf:forwardedip:geo:country:"
        } else {
            "awswaf:clientip:geo:country:"
        };
        match scope {
            LabelScope::Label => key
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.as_bytes() == cc),
            LabelScope::Namespace => prefix.starts_with(key),
        }
    })
}

/// `Position: ANY`: the last 10 addresses of the header; the fallback applies when none is valid.
fn any_forwarded(value: &str, set: &IpSet, forwarded: Option<&ForwardedIpConfig>) -> Outcome {
    let total = value.split(',').count();
    let mut valid = false;
    for a in value.split(',').skip(total.saturating_sub(10)) {
        if let Ok(ip) = a.trim().parse::<IpAddr>() {
            valid = true;
            if set.contains(ip) {
                return Outcome::Match;
            }
        }
    }
    if valid {
        Outcome::NoMatch
    } else {
        forwarded.map_or(Outcome::NoMatch, |f| (f.fallback == Fallback::Match).into())
    }
}

impl CountryMap {
    /// Parse a CIDR→country file: one `CIDR,CC` per line (`#` starts a comment; spaces or a
    /// tab may stand for the comma). Returns the map or the first bad line (1-based) and why.
    pub fn parse(text: &str) -> Result<CountryMap, (usize, String)> {
        let mut v4 = crate::tables::lpm::LpmBuilder::<u32>::new();
        let mut v6 = crate::tables::lpm::LpmBuilder::<u128>::new();
        let mut codes: Vec<[u8; 2]> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty());
            let (Some(cidr), Some(cc), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err((n + 1, format!("expected `CIDR,CC`, got {line:?}")));
            };
            let net: ipnet::IpNet = cidr
                .parse()
                .map_err(|e| (n + 1, format!("{cidr:?} is not a CIDR block: {e}")))?;
            let code = country_code(cc)
                .ok_or_else(|| (n + 1, format!("{cc:?} is not an ISO 3166 alpha-2 code")))?;
            let index = match codes.iter().position(|c| *c == code) {
                Some(i) => i,
                None => {
                    codes.push(code);
                    codes.len() - 1
                }
            } as u32;
            match net.trunc() {
                ipnet::IpNet::V4(n) => v4.insert(u32::from(n.network()), n.prefix_len(), index),
                ipnet::IpNet::V6(n) => v6.insert(u128::from(n.network()), n.prefix_len(), index),
            }
        }
        Ok(CountryMap {
            v4: v4.build(),
            v6: v6.build(),
            codes,
        })
    }

    /// The country of `ip`: the most specific block's, or `XX` (as AWS says for unknown).
    pub fn country(&self, ip: IpAddr) -> [u8; 2] {
        let index = match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        };
        index
            .and_then(|i| self.codes.get(i as usize).copied())
            .unwrap_or(*b"XX")
    }
}

/// An ISO 3166 alpha-2 code (two ASCII letters), uppercased.
pub fn country_code(s: &str) -> Option<[u8; 2]> {
    match s.as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}
