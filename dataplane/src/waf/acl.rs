//! Web ACLs, their rules and actions (SPEC §19.1, §19.2, §19.6), and the evaluation of one
//! request into a [`WafDecision`].

use super::rate::{Aggregate, RateBased, WafState};
use super::statement::{ClientAddress, Eval, Fallback, LabelScope, Outcome, Statement};
use super::{NotEvaluated, WafRequest};
use crate::wire::Timestamp;
use std::net::IpAddr;
use std::sync::Arc;

/// A custom response of a `Block` action (`CustomResponse`), its body resolved from the web
/// ACL's or rule group's `CustomResponseBodies`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomResponse {
    /// `ResponseCode`.
    pub status: u16,
    /// `ResponseHeaders`, names as written.
    pub headers: Vec<(String, String)>,
    /// The body: its content type (`text/plain`, `text/html`, `application/json`) and text.
    pub body: Option<(&'static str, String)>,
}

/// A rule's action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleAction {
    /// `Allow`: terminating.
    Allow,
    /// `Block`, with its custom response if any: terminating.
    Block(Option<Arc<CustomResponse>>),
    /// `Count`: non-terminating.
    Count,
    /// `Captcha`: not simulated (no token can exist offline); reported in every decision it
    /// matches, and evaluation goes on as if the client held a valid token.
    Captcha,
    /// `Challenge`: not simulated, as `Captcha`.
    Challenge,
}

/// A rule-group reference as used by one web ACL rule: the group's rules with the reference's
/// `ExcludedRules` and `RuleActionOverrides` applied.
#[derive(Clone, Debug)]
pub struct RuleGroupUse {
    /// The group's name.
    pub name: String,
    /// The group's ARN.
    pub arn: String,
    /// The group's rules, in priority order.
    pub rules: Vec<Rule>,
    /// `OverrideAction: Count`: every terminating action in the group acts as `Count`.
    pub override_to_count: bool,
}

/// What a rule does.
#[derive(Clone, Debug)]
pub enum RuleKind {
    /// A rule with a (possibly nested) statement and an action.
    Match(Statement, RuleAction),
    /// A rate-based rule (its action is never `Allow`).
    RateBased(RateBased, RuleAction),
    /// `RuleGroupReferenceStatement`: the group evaluated in place.
    Group(RuleGroupUse),
    /// `ManagedRuleGroupStatement` (vendor, name): cannot be evaluated offline; recorded as not
    /// evaluated in every decision that reaches it.
    Managed(String, String),
}

/// One rule of a web ACL or rule group.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `Name`.
    pub name: String,
    /// `Priority`.
    pub priority: i64,
    /// `RuleLabels`, fully qualified (`awswaf:<account>:webacl:<acl>:<name>`).
    pub labels: Vec<String>,
    /// The statement and action.
    pub kind: RuleKind,
}

/// An `AWS::WAFv2::RuleGroup` as loaded: referenced by web ACL rules, which copy its rules.
#[derive(Clone, Debug)]
pub struct RuleGroup {
    /// `Name`.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The rules, labels qualified with the group's prefix.
    pub rules: Vec<Rule>,
}

impl RuleGroup {
    /// The group's rules as one reference uses them: `excluded` rules act as `Count`,
    /// `overrides` replace actions by rule name.
    pub fn use_in(
        &self,
        excluded: &[String],
        overrides: &[(String, RuleAction)],
        override_to_count: bool,
    ) -> RuleGroupUse {
        let mut rules = self.rules.clone();
        for r in &mut rules {
            let replace = overrides
                .iter()
                .find(|(n, _)| *n == r.name)
                .map(|(_, a)| a.clone())
                .or_else(|| excluded.contains(&r.name).then_some(RuleAction::Count));
            if let (Some(new), RuleKind::Match(_, a) | RuleKind::RateBased(_, a)) =
                (replace, &mut r.kind)
            {
                *a = new;
            }
        }
        RuleGroupUse {
            name: self.name.clone(),
            arn: self.arn.clone(),
            rules,
            override_to_count,
        }
    }
}

/// An `AWS::WAFv2::WebACL`, compiled: rules sorted by priority.
#[derive(Clone, Debug)]
pub struct WebAcl {
    /// `Name`.
    pub name: String,
    /// The ARN (`webaclId` in logs).
    pub arn: String,
    /// `DefaultAction`: `Allow` or `Block`.
    pub default_action: RuleAction,
    /// The rules, in ascending priority.
    pub rules: Vec<Rule>,
    /// How many rate-based rule uses the web ACL has (the counters of [`WafState`]).
    pub(crate) rate_slots: usize,
}

impl WebAcl {
    /// A web ACL of `rules` (any order) with `default_action` (`Allow` or `Block`).
    pub fn new(
        name: String,
        arn: String,
        default_action: RuleAction,
        mut rules: Vec<Rule>,
    ) -> Self {
        rules.sort_by_key(|r| r.priority);
        let mut slots = 0;
        let mut number = |r: &mut Rule| {
            if let RuleKind::RateBased(rb, _) = &mut r.kind {
                rb.slot = slots;
                slots += 1;
            }
        };
        for r in &mut rules {
            if let RuleKind::Group(g) = &mut r.kind {
                g.rules.sort_by_key(|r| r.priority);
                g.rules.iter_mut().for_each(&mut number);
            }
            number(r);
        }
        WebAcl {
            name,
            arn,
            default_action,
            rules,
            rate_slots: slots,
        }
    }

    /// The rule `r` names.
    pub fn rule(&self, r: RuleRef) -> Option<&Rule> {
        let top = self.rules.get(usize::from(r.rule))?;
        match (r.inner, &top.kind) {
            (None, _) => Some(top),
            (Some(i), RuleKind::Group(g)) => g.rules.get(usize::from(i)),
            (Some(_), _) => None,
        }
    }

    /// A rule's name as a trace shows it: `Rule`, or `GroupRule/InnerRule` inside a group.
    pub fn rule_name(&self, r: RuleRef) -> String {
        let top = self.rules.get(usize::from(r.rule)).map_or("?", |t| &t.name);
        match (r.inner, self.rule(r)) {
            (Some(_), Some(inner)) => format!("{top}/{}", inner.name),
            _ => top.to_string(),
        }
    }

    /// The label `l` names.
    pub fn label(&self, l: LabelRef) -> &str {
        self.rule(l.rule)
            .and_then(|r| r.labels.get(usize::from(l.index)))
            .map_or("", String::as_str)
    }

    /// What the client receives when `d` blocks: 403 or the custom response; `None` when
    /// the request is allowed.
    pub fn block_response<'a>(&'a self, d: &WafDecision) -> Option<BlockResponse<'a>> {
        if d.action != WafAction::Block {
            return None;
        }
        let action = match d.terminating {
            None => &self.default_action,
            Some(r) => match self.rule(r).map(|r| &r.kind) {
                Some(RuleKind::Match(_, a) | RuleKind::RateBased(_, a)) => a,
                _ => return Some(BlockResponse::default()),
            },
        };
        Some(match action {
            RuleAction::Block(Some(c)) => BlockResponse {
                status: c.status,
                custom: Some(c),
            },
            _ => BlockResponse::default(),
        })
    }

    /// Evaluate `req` at packet time `now` into `d` (cleared first; its buffers are reused, so
    /// evaluating with a long-lived decision does not allocate in the steady state).
    pub fn evaluate(
        &self,
        req: &WafRequest<'_>,
        now: Timestamp,
        state: &mut WafState,
        d: &mut WafDecision,
    ) {
        d.clear();
        for (i, rule) in self.rules.iter().enumerate() {
            let top = RuleRef {
                rule: i as u16,
                inner: None,
            };
            let terminated = match &rule.kind {
                RuleKind::Managed(..) => {
                    d.not_evaluated.push((top, NotEvaluated::ManagedRuleGroup));
                    None
                }
                RuleKind::Group(g) => g.rules.iter().enumerate().find_map(|(j, inner)| {
                    let r = RuleRef {
                        rule: i as u16,
                        inner: Some(j as u16),
                    };
                    let t = self.eval_rule(inner, r, req, now, state, d)?;
                    if g.override_to_count {
                        d.counted.push(r);
                        return None;
                    }
                    Some((r, t))
                }),
                _ => self
                    .eval_rule(rule, top, req, now, state, d)
                    .map(|t| (top, t)),
            };
            if let Some((r, action)) = terminated {
                d.terminating = Some(r);
                d.action = action;
                return;
            }
        }
        d.action = match self.default_action {
            RuleAction::Block(_) => WafAction::Block,
            _ => WafAction::Allow,
        };
    }

    /// One rule (not a group reference): its labels and non-terminating effects go into `d`;
    /// returns the action when it terminates evaluation.
    fn eval_rule(
        &self,
        rule: &Rule,
        r: RuleRef,
        req: &WafRequest<'_>,
        now: Timestamp,
        state: &mut WafState,
        d: &mut WafDecision,
    ) -> Option<WafAction> {
        let (matched, action) = match &rule.kind {
            RuleKind::Match(s, action) => (self.statement(s, req, state, d), action),
            RuleKind::RateBased(rb, action) => (self.rate_based(rb, r, req, now, state, d), action),
            RuleKind::Group(_) | RuleKind::Managed(..) => return None,
        };
        match matched {
            Outcome::Match => {}
            Outcome::NoMatch => return None,
            Outcome::NotEvaluated(n) => {
                d.not_evaluated.push((r, n));
                return None;
            }
        }
        for index in 0..rule.labels.len().min(usize::from(u8::MAX)) {
            d.labels.push(LabelRef {
                rule: r,
                index: index as u8,
            });
        }
        match action {
            RuleAction::Allow => Some(WafAction::Allow),
            RuleAction::Block(_) => Some(WafAction::Block),
            RuleAction::Count => {
                d.counted.push(r);
                None
            }
            RuleAction::Captcha => {
                d.not_evaluated.push((r, NotEvaluated::Captcha));
                None
            }
            RuleAction::Challenge => {
                d.not_evaluated.push((r, NotEvaluated::Challenge));
                None
            }
        }
    }

    fn statement(
        &self,
        s: &Statement,
        req: &WafRequest<'_>,
        state: &mut WafState,
        d: &mut WafDecision,
    ) -> Outcome {
        let labels = &d.labels;
        let has_label = |scope: LabelScope, key: &str| {
            labels.iter().any(|l| {
                let label = self.label(*l);
                match scope {
                    LabelScope::Label => label == key,
                    LabelScope::Namespace => label.starts_with(key),
                }
            })
        };
        let mut ev = Eval {
            req,
            a: &mut state.a,
            b: &mut state.b,
            has_label: &has_label,
            geo: &mut d.geo_labels,
        };
        s.eval(&mut ev)
    }

    fn rate_based(
        &self,
        rb: &RateBased,
        r: RuleRef,
        req: &WafRequest<'_>,
        now: Timestamp,
        state: &mut WafState,
        d: &mut WafDecision,
    ) -> Outcome {
        if let Some(scope_down) = &rb.scope_down {
            match self.statement(scope_down, req, state, d) {
                Outcome::Match => {}
                other => return other,
            }
        }
        let key = match &rb.aggregate {
            Aggregate::Ip => Some(req.client_ip),
            Aggregate::Constant => None,
            Aggregate::ForwardedIp(cfg) => match cfg.address(req) {
                ClientAddress::Found(ip, _) => Some(ip),
                // Malformed header: the fallback decides, and nothing is counted.
                ClientAddress::Invalid(f) => return (f == Fallback::Match).into(),
                ClientAddress::HeaderAbsent | ClientAddress::Any(_) => return Outcome::NoMatch,
            },
        };
        let limited = state.count(rb, key, now);
        if limited {
            d.rate_limited.push((r, key));
        }
        limited.into()
    }
}

/// The action a web ACL took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WafAction {
    /// Forwarded to the protected resource.
    #[default]
    Allow,
    /// Answered with 403 or the custom response.
    Block,
}

impl WafAction {
    /// As AWS writes it (`ALLOW`, `BLOCK`).
    pub fn as_aws(self) -> &'static str {
        match self {
            WafAction::Allow => "ALLOW",
            WafAction::Block => "BLOCK",
        }
    }
}

/// A rule of a web ACL: a top-level rule, or a rule inside a rule group it references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// Index into [`WebAcl::rules`].
    pub rule: u16,
    /// Index into the referenced group's rules.
    pub inner: Option<u16>,
}

/// A label a rule added: the rule and the index into its [`Rule::labels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelRef {
    /// The rule that added it.
    pub rule: RuleRef,
    /// Index into the rule's labels.
    pub index: u8,
}

/// What a blocked client receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockResponse<'a> {
    /// HTTP status: 403 unless customised.
    pub status: u16,
    /// The custom response (headers and body), if the action has one.
    pub custom: Option<&'a CustomResponse>,
}

impl Default for BlockResponse<'_> {
    fn default() -> Self {
        BlockResponse {
            status: 403,
            custom: None,
        }
    }
}

/// The outcome of a web ACL for one request: the action, the rule that terminated evaluation
/// (or the default action), the rules that counted, the labels added, and every rule whose
/// outcome vpcsim could not evaluate. A non-empty [`WafDecision::not_evaluated`] means AWS might
/// have decided otherwise; callers must show it, never hide it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WafDecision {
    /// Allow or Block.
    pub action: WafAction,
    /// The terminating rule; `None` for the default action.
    pub terminating: Option<RuleRef>,
    /// Rules that matched with `Count` (or acted as Count through an override).
    pub counted: Vec<RuleRef>,
    /// Labels rules added, in order.
    pub labels: Vec<LabelRef>,
    /// Geo labels: (from a forwarded-IP header, country).
    pub geo_labels: Vec<(bool, [u8; 2])>,
    /// Rules whose outcome is unknown, and why; they were treated as not matching.
    pub not_evaluated: Vec<(RuleRef, NotEvaluated)>,
    /// Rate-based rules whose instance was being limited: the rule and the key (`None` for a
    /// `CONSTANT` aggregation).
    pub rate_limited: Vec<(RuleRef, Option<IpAddr>)>,
}

impl WafDecision {
    /// Forget the previous request, keeping the buffers.
    pub fn clear(&mut self) {
        self.action = WafAction::Allow;
        self.terminating = None;
        self.counted.clear();
        self.labels.clear();
        self.geo_labels.clear();
        self.not_evaluated.clear();
        self.rate_limited.clear();
    }

    /// Whether every rule reached was evaluated, so AWS would decide the same.
    pub fn is_conclusive(&self) -> bool {
        self.not_evaluated.is_empty()
    }
}
