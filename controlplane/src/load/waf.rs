//! Loading AWS WAF (v2) resources (SPEC §19): `AWS::WAFv2::IPSet`, `RegexPatternSet`,
//! `RuleGroup`, `WebACL` and `WebACLAssociation`. Sets and groups are compiled as they load, and
//! a web ACL copies what its statements reference, so each one is self-contained. Rules and
//! statements are read by `super::waf_rules`.
//!
//! Errors use the WAFv2 API's codes: `WAFInvalidParameterException` for values AWS refuses,
//! `WAFNonexistentItemException` for references to sets, groups or web ACLs that do not exist.
//! What loads but is not evaluated warns with `WAFManagedRuleGroupNotEvaluated` (managed rule
//! groups) or `WAFNotSimulated` (CAPTCHA/Challenge, SQLi/XSS and the like).

use super::waf_rules::RuleContext;
use super::*;
use std::sync::Arc;
use vpcsim_dataplane::waf::{IpSet, RegexPatternSet, RuleAction, RuleGroup, WebAcl};

pub(super) const IP_SET: &str = "AWS::WAFv2::IPSet";
pub(super) const REGEX_PATTERN_SET: &str = "AWS::WAFv2::RegexPatternSet";
pub(super) const RULE_GROUP: &str = "AWS::WAFv2::RuleGroup";
pub(super) const WEB_ACL: &str = "AWS::WAFv2::WebACL";
pub(super) const WEB_ACL_ASSOCIATION: &str = "AWS::WAFv2::WebACLAssociation";

/// The WAFv2 API's code for a value it refuses.
pub(super) const INVALID: &str = "WAFInvalidParameterException";
/// The WAFv2 API's code for a reference to something that does not exist.
pub(super) const NONEXISTENT: &str = "WAFNonexistentItemException";

pub(super) fn bad(message: impl Into<String>) -> Problem {
    Problem::new(INVALID, message)
}

/// A WAF resource's name, id (a UUID derived from its identity) and ARN.
struct Named {
    name: String,
    id: String,
    arn: String,
}

impl Builder {
    /// The resource's `Name` (1–128 of `A-Z a-z 0-9 - _`, as AWS allows) or one generated from
    /// the stack and logical id, and its ARN `arn:aws:wafv2:<region>:<account>:regional/<kind>/...`.
    fn waf_named(&self, t: usize, lid: &str, path: &str, p: &Value) -> R<Named> {
        let tmpl = &self.model.templates[t];
        let name = match opt_str(p, "Name")? {
            Some(n) => {
                let ok = (1..=128).contains(&n.len())
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    return Err(bad(format!(
                        "Name {n:?} must be 1-128 characters of A-Z, a-z, 0-9, - and _"
                    )));
                }
                n
            }
            None => format!("{}-{lid}", tmpl.stack_name)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .take(128)
                .collect(),
        };
        match req_str(p, "Scope")?.as_str() {
            "REGIONAL" | "CLOUDFRONT" => {}
            other => {
                return Err(bad(format!(
                    "Scope {other:?} is neither REGIONAL nor CLOUDFRONT"
                )))
            }
        }
        let h = aws_id("waf", &tmpl.account_id, &tmpl.region, &tmpl.stack_name, lid);
        let hex: String = h
            .trim_start_matches("waf-")
            .chars()
            .cycle()
            .take(32)
            .collect();
        let id = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        let arn = format!(
            "arn:aws:wafv2:{}:{}:regional/{path}/{name}/{id}",
            tmpl.region, tmpl.account_id
        );
        Ok(Named { name, id, arn })
    }

    /// The origin of a WAF resource: its id is its ARN, as for load balancers.
    fn waf_origin(&self, t: usize, lid: &str, kind: &'static str, p: &Value, arn: &str) -> Origin {
        let mut o = self.origin(t, lid, kind, props::name_tag(p));
        o.id = arn.to_string();
        o
    }

    pub(super) fn add_waf_ip_set(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let named = self.waf_named(t, lid, "ipset", p)?;
        let v6 = match req_str(p, "IPAddressVersion")?.as_str() {
            "IPV4" => false,
            "IPV6" => true,
            other => {
                return Err(bad(format!(
                    "IPAddressVersion {other:?} is neither IPV4 nor IPV6"
                )))
            }
        };
        if get(p, "Addresses").is_none() {
            return Err(missing("Addresses"));
        }
        let mut nets = Vec::new();
        for a in str_list(p, "Addresses")? {
            let net: IpNet = a.parse().map_err(|_| {
                bad(format!(
                    "Addresses: {a:?} is not a CIDR block (use 192.0.2.44/32 for one address)"
                ))
            })?;
            if net.prefix_len() == 0 {
                return Err(bad(format!("Addresses: {a} — WAF does not accept /0")));
            }
            if matches!(net, IpNet::V6(_)) != v6 {
                return Err(bad(format!(
                    "Addresses: {a} is not an {} address, as IPAddressVersion says",
                    if v6 { "IPv6" } else { "IPv4" }
                )));
            }
            nets.push(net);
        }
        let origin = self.waf_origin(t, lid, IP_SET, p, &named.arn);
        let set = Arc::new(IpSet::new(named.name, named.arn.clone(), &nets));
        self.model.waf.ip_sets.push(WafIpSet {
            origin,
            set,
            addresses: nets,
        });
        let i = self.model.waf.ip_sets.len() - 1;
        self.register(t, lid, &named.arn, Ref::WafIpSet(i));
        self.by_id.insert(named.id, Ref::WafIpSet(i));
        Ok(())
    }

    pub(super) fn add_waf_regex_set(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let named = self.waf_named(t, lid, "regexpatternset", p)?;
        if get(p, "RegularExpressionList").is_none() {
            return Err(missing("RegularExpressionList"));
        }
        let patterns = str_list(p, "RegularExpressionList")?;
        for re in &patterns {
            check_regex(re)?;
        }
        let compiled = regex::bytes::RegexSet::new(&patterns)
            .map_err(|e| bad(format!("RegularExpressionList: {e}")))?;
        let origin = self.waf_origin(t, lid, REGEX_PATTERN_SET, p, &named.arn);
        let set = Arc::new(RegexPatternSet {
            name: named.name,
            arn: named.arn.clone(),
            patterns: compiled,
        });
        self.model
            .waf
            .regex_sets
            .push(WafRegexPatternSet { origin, set });
        let i = self.model.waf.regex_sets.len() - 1;
        self.register(t, lid, &named.arn, Ref::WafRegexSet(i));
        self.by_id.insert(named.id, Ref::WafRegexSet(i));
        Ok(())
    }

    pub(super) fn add_waf_rule_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let named = self.waf_named(t, lid, "rulegroup", p)?;
        let capacity = opt_int(p, "Capacity")?.ok_or_else(|| missing("Capacity"))?;
        if !(1..=1500).contains(&capacity) {
            return Err(bad(format!(
                "Capacity {capacity} is out of range (1-1500 WCUs)"
            )));
        }
        let account = self.model.templates[t].account_id.clone();
        let mut cx = RuleContext::new(
            format!("awswaf:{account}:rulegroup:{}:", named.name),
            p,
            true,
        )?;
        let rules = self.waf_rules(p, &mut cx)?;
        self.waf_warnings(t, lid, cx.warnings);
        let origin = self.waf_origin(t, lid, RULE_GROUP, p, &named.arn);
        let group = RuleGroup {
            name: named.name,
            arn: named.arn.clone(),
            rules,
        };
        self.model
            .waf
            .rule_groups
            .push(WafRuleGroup { origin, group });
        let i = self.model.waf.rule_groups.len() - 1;
        self.register(t, lid, &named.arn, Ref::WafRuleGroup(i));
        self.by_id.insert(named.id, Ref::WafRuleGroup(i));
        Ok(())
    }

    pub(super) fn add_waf_web_acl(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let named = self.waf_named(t, lid, "webacl", p)?;
        let account = self.model.templates[t].account_id.clone();
        let mut cx =
            RuleContext::new(format!("awswaf:{account}:webacl:{}:", named.name), p, false)?;
        let default = get(p, "DefaultAction").ok_or_else(|| missing("DefaultAction"))?;
        let default_action = match cx.action(default, "DefaultAction")? {
            a @ (RuleAction::Allow | RuleAction::Block(_)) => a,
            _ => return Err(bad("DefaultAction must be Allow or Block")),
        };
        let rules = self.waf_rules(p, &mut cx)?;
        self.waf_warnings(t, lid, cx.warnings);
        let origin = self.waf_origin(t, lid, WEB_ACL, p, &named.arn);
        let mut source = p.clone();
        source["Name"] = json!(named.name);
        source["Id"] = json!(named.id);
        source["ARN"] = json!(named.arn);
        let acl = WebAcl::new(named.name, named.arn.clone(), default_action, rules);
        self.model.waf.web_acls.push(WafWebAcl {
            origin,
            acl,
            source,
        });
        let i = self.model.waf.web_acls.len() - 1;
        self.register(t, lid, &named.arn, Ref::WafWebAcl(i));
        self.by_id.insert(named.id, Ref::WafWebAcl(i));
        Ok(())
    }

    pub(super) fn add_waf_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let resource_id = req_str(p, "ResourceArn")?;
        let acl_arn = req_str(p, "WebACLArn")?;
        let web_acl = self.find(
            "WebACLArn",
            &acl_arn,
            |r| match r {
                Ref::WafWebAcl(i) => Some(i),
                _ => None,
            },
            NONEXISTENT,
        )?;
        if let Some(other) = self
            .model
            .waf
            .associations
            .iter()
            .find(|a| a.resource_id == resource_id && a.web_acl != web_acl)
        {
            return Err(bad(format!(
                "{resource_id} is already associated with a web ACL ({}); a resource has one",
                other.origin.logical_id
            )));
        }
        // Whatever type the associated resource is (an application load balancer is kept as
        // unsupported until it is simulated), its logical id names it in listings.
        let resource_logical_id = self.lookup(&resource_id).and_then(|r| {
            self.by_logical
                .iter()
                .find(|((tt, _), found)| *tt == t && **found == r)
                .map(|((_, l), _)| l.clone())
        });
        let origin = self.origin(t, lid, WEB_ACL_ASSOCIATION, None);
        let id = origin.id.clone();
        self.model.waf.associations.push(WafAssociation {
            origin: origin.clone(),
            resource_id,
            resource_logical_id,
            web_acl,
        });
        self.model.links.push(origin);
        let l = self.model.links.len() - 1;
        self.register(t, lid, &id, Ref::Link(l));
        Ok(())
    }

    /// Resolve the ARN of a set or group a statement references.
    pub(super) fn waf_reference<T>(
        &self,
        key: &str,
        arn: &str,
        pick: impl Fn(&Builder, Ref) -> Option<T>,
    ) -> R<T> {
        self.find(key, arn, |r| pick(self, r), NONEXISTENT)
    }

    fn waf_warnings(&mut self, t: usize, lid: &str, warnings: Vec<(&'static str, String)>) {
        for (code, message) in warnings {
            self.diag(Severity::Warning, t, lid, code, message);
        }
    }

    /// `Ref` of a WAF resource: `name|id|scope`, as CloudFormation returns it.
    pub(super) fn waf_ref(&self, r: Ref) -> Option<String> {
        let arn = self.waf_arn(r)?;
        let mut parts = arn.rsplit('/');
        let (id, name) = (parts.next()?, parts.next()?);
        Some(format!("{name}|{id}|REGIONAL"))
    }

    fn waf_arn(&self, r: Ref) -> Option<&str> {
        let w = &self.model.waf;
        Some(match r {
            Ref::WafIpSet(i) => &w.ip_sets[i].origin.id,
            Ref::WafRegexSet(i) => &w.regex_sets[i].origin.id,
            Ref::WafRuleGroup(i) => &w.rule_groups[i].origin.id,
            Ref::WafWebAcl(i) => &w.web_acls[i].origin.id,
            _ => return None,
        })
    }

    /// `Fn::GetAtt` of a WAF resource: `Arn`, `Id`, and `LabelNamespace` of groups and ACLs.
    pub(super) fn waf_attribute(&self, r: Ref, attr: &str) -> Option<Value> {
        let arn = self.waf_arn(r)?;
        match attr {
            "Arn" => Some(json!(arn)),
            "Id" => arn.rsplit('/').next().map(|id| json!(id)),
            "LabelNamespace" => {
                let mut parts = arn.rsplit('/');
                let (_, name) = (parts.next()?, parts.next()?);
                let account = arn.split(':').nth(4)?;
                let kind = match r {
                    Ref::WafRuleGroup(_) => "rulegroup",
                    Ref::WafWebAcl(_) => "webacl",
                    _ => return None,
                };
                Some(json!(format!("awswaf:{account}:{kind}:{name}:")))
            }
            _ => None,
        }
    }
}

/// AWS's regex limits: at most 200 characters, and none of the PCRE features WAF refuses
/// (backreferences are refused by the `regex` crate itself).
pub(super) fn check_regex(re: &str) -> R<()> {
    if re.is_empty() || re.len() > 200 {
        return Err(bad(format!("regex {re:?} must be 1-200 characters long")));
    }
    Ok(())
}
