//! Parts of AWS API output that have the shape of the CloudFormation properties of the same
//! resource (`aws elbv2 describe-rules`' `Conditions` and `Actions`, a listener's
//! `DefaultActions`, `aws wafv2 get-web-acl`'s `WebACL`, `get-ip-set`'s `IPSet`), read with the
//! template loader's own rules, so a snapshot and a template of one ALB or web ACL mean the same
//! thing. The ids they name are resolved through a scratch [`Builder`] that knows only them.

use super::waf_rules::RuleContext;
use super::*;
use vpcsim_dataplane::topology::alb::{AlbAction, Condition};
use vpcsim_dataplane::waf::{IpSet, RuleAction, WebAcl};

fn resolving(refs: impl IntoIterator<Item = (String, Ref)>) -> Builder {
    let mut b = Builder::default();
    b.by_id.extend(refs);
    b
}

/// An ALB listener's or rule's action list: the deciding action and the `authenticate-*` types
/// before it. `groups`: the ALB target groups by ARN (index into `Albs::target_groups`).
pub(crate) fn alb_actions(
    groups: &[(String, usize)],
    actions: &[Value],
    key: &str,
) -> Result<(AlbAction, Vec<String>), Problem> {
    let b = resolving(
        groups
            .iter()
            .map(|(arn, g)| (arn.clone(), Ref::AlbTargetGroup(*g))),
    );
    b.alb_actions(actions, key)
}

/// A rule's `Conditions`, checked as `CreateRule` checks them.
pub(crate) fn alb_conditions(conditions: &[Value]) -> Result<Vec<Condition>, Problem> {
    let mut out = Vec::new();
    for c in conditions {
        out.push(super::alb_rules::condition(c).map_err(|e| prefix(e, "Conditions"))?);
    }
    if out.is_empty() {
        return Err(missing("Conditions"));
    }
    super::alb_rules::check_composition(&out)?;
    Ok(out)
}

/// An `IPSet` of `aws wafv2 get-ip-set`: `Name`, `ARN`, `IPAddressVersion`, `Addresses`.
pub(crate) fn waf_ip_set(v: &Value) -> Result<IpSet, Problem> {
    let name = req_str(v, "Name")?;
    let arn = req_str(v, "ARN")?;
    let v6 = req_str(v, "IPAddressVersion")? == "IPV6";
    let mut nets = Vec::new();
    for a in str_list(v, "Addresses")? {
        let net: IpNet = a
            .parse()
            .map_err(|_| super::waf::bad(format!("Addresses: {a:?} is not a CIDR block")))?;
        if matches!(net, IpNet::V6(_)) != v6 {
            return Err(super::waf::bad(format!(
                "Addresses: {a} does not match IPAddressVersion"
            )));
        }
        nets.push(net);
    }
    Ok(IpSet::new(name, arn, &nets))
}

/// Warnings with their codes.
pub(crate) type Warnings = Vec<(&'static str, String)>;

/// A `WebACL` of `aws wafv2 get-web-acl`, its statements referring to the sets and rule groups
/// of `waf` by ARN; with the warnings the template loader would give (managed rule groups and
/// the like, with their codes).
pub(crate) fn waf_web_acl(
    waf: &Waf,
    account: &str,
    v: &Value,
) -> Result<(WebAcl, Warnings), Problem> {
    let refs = waf
        .ip_sets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.origin.id.clone(), Ref::WafIpSet(i)))
        .chain(
            waf.regex_sets
                .iter()
                .enumerate()
                .map(|(i, s)| (s.origin.id.clone(), Ref::WafRegexSet(i))),
        )
        .chain(
            waf.rule_groups
                .iter()
                .enumerate()
                .map(|(i, g)| (g.origin.id.clone(), Ref::WafRuleGroup(i))),
        );
    let mut b = resolving(refs.collect::<Vec<_>>());
    b.model.waf = waf.clone();
    let name = req_str(v, "Name")?;
    let arn = req_str(v, "ARN")?;
    let mut cx = RuleContext::new(format!("awswaf:{account}:webacl:{name}:"), v, false)?;
    let default = get(v, "DefaultAction").ok_or_else(|| missing("DefaultAction"))?;
    let default_action = match cx.action(default, "DefaultAction")? {
        a @ (RuleAction::Allow | RuleAction::Block(_)) => a,
        _ => return Err(super::waf::bad("DefaultAction must be Allow or Block")),
    };
    let rules = b.waf_rules(v, &mut cx)?;
    let acl = WebAcl::new(name, arn, default_action, rules);
    Ok((acl, cx.warnings))
}
