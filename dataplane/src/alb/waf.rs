//! AWS WAF on an Application Load Balancer (SPEC §11.2.7, §19): the web ACL associated with the
//! load balancer inspects each request after the listener took it and before the listener's
//! rules run. A block is answered by the web ACL (403 or the rule's custom response) and the
//! request never reaches the rules.

use super::http::HttpRequest;
use crate::topology::{ResId, Topology};
use crate::trace::{Action, Hop, Stage};
use crate::waf::{CountryMap, RuleAction, WafDecision, WafRequest, WafState, WebAcl};
use crate::wire::{Header, Timestamp};
use std::fmt::Write;

/// The WAF side of a run: rate counters per web ACL (rate-based rules count every request of
/// the run) and the reused decision, so evaluation does not allocate in the steady state.
#[derive(Debug, Default)]
pub struct WafRun {
    states: Vec<Option<WafState>>,
    decision: WafDecision,
}

impl WafRun {
    /// The web ACL's decision on the last request [`inspect`] evaluated (for its WAF log record).
    pub fn last_decision(&self) -> &WafDecision {
        &self.decision
    }
}

/// The web ACL's verdict on one request.
#[derive(Debug)]
pub struct Inspected {
    /// The `waf` hop.
    pub hop: Hop,
    /// When blocked: the web ACL's resource and the status the client receives.
    pub blocked: Option<(ResId, u16)>,
}

/// Inspect `req` with the web ACL associated with load balancer `lb_res`, if any, at `now`.
pub fn inspect(
    topo: &Topology,
    lb_res: ResId,
    req: &HttpRequest,
    client: Header,
    countries: Option<&CountryMap>,
    run: &mut WafRun,
    now: Timestamp,
) -> Option<Inspected> {
    let i = topo.waf.web_acl_index_of(&topo.resource(lb_res).aws_id)?;
    let acl = &topo.waf.web_acls[i];
    let at = topo.waf.resources[i];
    if run.states.len() <= i {
        run.states.resize_with(i + 1, || None);
    }
    let state = run.states[i].get_or_insert_with(|| WafState::new(acl));
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = WafRequest {
        client_ip: client.src,
        method: &req.method,
        uri_path: &req.path,
        query_string: &req.query,
        http_version: "HTTP/1.1",
        headers: &headers,
        body: &[],
        countries,
    };
    let d = &mut run.decision;
    acl.evaluate(&request, now, state, d);
    let status = acl.block_response(d).map(|b| b.status);
    let rule = match d.terminating {
        Some(r) => acl.rule_name(r),
        None => "Default_Action".to_string(),
    };
    let hop = Hop {
        resource: at,
        stage: Stage::Waf,
        action: if status.is_some() {
            Action::Drop
        } else {
            Action::Allow
        },
        rule: Some(format!(
            "web ACL {}, rule {rule}, action {}",
            acl.name,
            d.action.as_aws()
        )),
        detail: detail(acl, d, status),
        header: client,
    };
    Some(Inspected {
        hop,
        blocked: status.map(|s| (at, s)),
    })
}

/// What the hop explains besides the deciding rule: the answer when blocked, the rules that
/// counted, the limited rate rules and every rule that could not be evaluated (so an allow is
/// never silently conclusive).
fn detail(acl: &WebAcl, d: &WafDecision, status: Option<u16>) -> String {
    let mut s = match (status, d.terminating) {
        (Some(code), _) => format!("blocked: the web ACL answers {code}"),
        (None, Some(_)) => "allowed by the rule: on to the listener rules".to_string(),
        (None, None) => format!(
            "no rule matched: default action {}; on to the listener rules",
            default_action(&acl.default_action)
        ),
    };
    if !d.counted.is_empty() {
        let names: Vec<String> = d.counted.iter().map(|&r| acl.rule_name(r)).collect();
        let _ = write!(s, "; counted (not terminating): {}", names.join(", "));
    }
    for (r, key) in &d.rate_limited {
        let who = key.map_or("every client".to_string(), |k| k.to_string());
        let _ = write!(s, "; rate limit of {} exceeded by {who}", acl.rule_name(*r));
    }
    if !d.not_evaluated.is_empty() {
        let why: Vec<String> = d
            .not_evaluated
            .iter()
            .map(|(r, n)| format!("{} ({n})", acl.rule_name(*r)))
            .collect();
        let _ = write!(
            s,
            "; not evaluated, treated as not matching (AWS may decide otherwise): {}",
            why.join(", ")
        );
    }
    s
}

fn default_action(a: &RuleAction) -> &'static str {
    match a {
        RuleAction::Block(_) => "Block",
        _ => "Allow",
    }
}
