//! AWS WAF (v2) web ACLs (SPEC §19): rules, statements, actions, labels, rate-based rules and
//! WAF log records, evaluated over one HTTP request at a time.
//!
//! # Entry point (how the Application Load Balancer calls it)
//!
//! The topology holds every web ACL in [`Wafs`] (`topology.waf`), with the resources each one is
//! associated with (`AWS::WAFv2::WebACLAssociation`'s `ResourceArn`, as the associated
//! resource's id). For a request that a listener accepted, the load balancer:
//!
//! 1. finds its web ACL with [`Wafs::web_acl_of`] (by the load balancer's id);
//! 2. describes the request as a [`WafRequest`] borrowing its bytes (client address, method,
//!    path, query string, headers, body; and the user's CIDR→country map, if any);
//! 3. calls [`WebAcl::evaluate`] with the packet time, the [`WafState`] it keeps for that web
//!    ACL (rate counters, scratch buffers) and a [`WafDecision`] it reuses;
//! 4. on [`WafAction::Block`] answers with [`WebAcl::block_response`] (403 or the custom
//!    response) instead of running its listener rules; a trace hop names the web ACL,
//!    [`WebAcl::rule_name`] of [`WafDecision::terminating`] (or `Default_Action`) and the
//!    action, and lists [`WafDecision::not_evaluated`];
//! 5. writes [`log::record`] of the request and decision as one line of `DIR/waf/<WebAcl>.log`.
//!
//! # What is not evaluated
//!
//! Some statements cannot be evaluated offline: managed rule groups (their rules are AWS's or
//! a vendor's), `SqliMatchStatement` and `XssMatchStatement` (AWS does not publish the
//! detection), `AsnMatchStatement`, rate-based rules with `CUSTOM_KEYS`, geo matches without a
//! country map, and a few fields and transformations (see [`field::FieldToMatch::NotSimulated`]
//! and [`transform::TextTransformation::NotSimulated`]). `CAPTCHA` and `Challenge` actions are
//! not simulated either (no client can hold a token offline). Such a statement is *not
//! evaluated*: with three-valued logic (`And` with an unmatched part does not match, `Or` with
//! a matched part matches) it only matters when the outcome depends on it; then the rule is
//! treated as not matching, evaluation goes on, and the rule and the reason are recorded in
//! [`WafDecision::not_evaluated`]. A decision is therefore never silently an allow or a block:
//! [`WafDecision::is_conclusive`] says whether AWS would certainly decide the same.
//!
//! Evaluation does no I/O, never reads the clock and, with a reused [`WafState`] and
//! [`WafDecision`], allocates only when a rate-based rule meets a new client or a buffer grows.

mod acl;
pub mod field;
pub mod log;
mod rate;
mod statement;
pub mod transform;

#[cfg(test)]
mod tests;

pub use acl::{
    BlockResponse, CustomResponse, LabelRef, Rule, RuleAction, RuleGroup, RuleGroupUse, RuleKind,
    RuleRef, WafAction, WafDecision, WebAcl,
};
pub use rate::{Aggregate, RateBased, WafState, CHECK_INTERVAL_SECS};
pub use statement::{
    country_code, Comparison, Fallback, ForwardedIpConfig, ForwardedPosition, IpSet, LabelScope,
    Outcome, Positional, RegexPatternSet, Statement, Test,
};

use crate::tables::lpm::Lpm;
use std::fmt;
use std::net::IpAddr;

/// One HTTP request as WAF inspects it, borrowed from the caller's buffers.
#[derive(Clone, Copy, Debug)]
pub struct WafRequest<'a> {
    /// The address the load balancer received the request from.
    pub client_ip: IpAddr,
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path, without the query string.
    pub uri_path: &'a str,
    /// The text after `?` (empty when there is none).
    pub query_string: &'a str,
    /// `HTTP/1.1`, `HTTP/2.0` (for logs).
    pub http_version: &'a str,
    /// The headers in order, names as sent.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body as received.
    pub body: &'a [u8],
    /// The user's CIDR→country map; without it geo matches are not evaluated.
    pub countries: Option<&'a CountryMap>,
}

impl<'a> WafRequest<'a> {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Why a rule's outcome is unknown (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotEvaluated {
    /// `SqliMatchStatement`: AWS does not publish its detection.
    SqliMatch,
    /// `XssMatchStatement`: likewise.
    XssMatch,
    /// `AsnMatchStatement`: no ASN data offline.
    AsnMatch,
    /// `GeoMatchStatement` without a CIDR→country map.
    GeoWithoutCountryFile,
    /// `ManagedRuleGroupStatement`: the group's rules are not available offline.
    ManagedRuleGroup,
    /// A rate-based rule aggregating on `CUSTOM_KEYS`.
    CustomKeys,
    /// The `CAPTCHA` action matched: no token exists offline (evaluation went on as with a
    /// valid token).
    Captcha,
    /// The `Challenge` action matched, as `Captcha`.
    Challenge,
    /// A `FieldToMatch` vpcsim does not inspect.
    Field(&'static str),
    /// A `TextTransformation` vpcsim does not reproduce.
    Transformation(&'static str),
}

impl fmt::Display for NotEvaluated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotEvaluated::SqliMatch => f.write_str("SqliMatchStatement is not evaluated"),
            NotEvaluated::XssMatch => f.write_str("XssMatchStatement is not evaluated"),
            NotEvaluated::AsnMatch => f.write_str("AsnMatchStatement is not evaluated"),
            NotEvaluated::GeoWithoutCountryFile => {
                f.write_str("GeoMatchStatement needs a CIDR-to-country file")
            }
            NotEvaluated::ManagedRuleGroup => f.write_str("managed rule groups are not evaluated"),
            NotEvaluated::CustomKeys => f.write_str("rate-based CUSTOM_KEYS are not evaluated"),
            NotEvaluated::Captcha => f.write_str("CAPTCHA action is not simulated"),
            NotEvaluated::Challenge => f.write_str("Challenge action is not simulated"),
            NotEvaluated::Field(name) => write!(f, "FieldToMatch {name} is not inspected"),
            NotEvaluated::Transformation(name) => {
                write!(f, "TextTransformation {name} is not reproduced")
            }
        }
    }
}

/// A user-supplied map of address blocks to ISO 3166 alpha-2 countries (for `GeoMatchStatement`),
/// parsed by [`CountryMap::parse`]; the most specific block wins.
#[derive(Clone)]
pub struct CountryMap {
    v4: Lpm<u32>,
    v6: Lpm<u128>,
    codes: Vec<[u8; 2]>,
}

impl fmt::Debug for CountryMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CountryMap({} blocks, {} countries)",
            self.v4.len() + self.v6.len(),
            self.codes.len()
        )
    }
}

/// Every web ACL of the topology and what each is associated with.
#[derive(Clone, Debug, Default)]
pub struct Wafs {
    /// The web ACLs.
    pub web_acls: Vec<WebAcl>,
    /// Each web ACL's resource (what a trace hop names as `at`), parallel to `web_acls`.
    pub resources: Vec<crate::topology::ResId>,
    /// (associated resource's id — for a load balancer its ARN —, index into `web_acls`).
    pub associations: Vec<(String, usize)>,
}

impl Wafs {
    /// The web ACL associated with the resource whose id (for a load balancer, its ARN) is
    /// `resource_id`.
    pub fn web_acl_of(&self, resource_id: &str) -> Option<&WebAcl> {
        self.web_acl_index_of(resource_id)
            .and_then(|i| self.web_acls.get(i))
    }

    /// The index into `web_acls` (and `resources`) of the web ACL associated with `resource_id`.
    pub fn web_acl_index_of(&self, resource_id: &str) -> Option<usize> {
        self.associations
            .iter()
            .find(|(r, _)| r == resource_id)
            .map(|(_, i)| *i)
    }
}
