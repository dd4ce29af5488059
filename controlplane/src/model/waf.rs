//! AWS WAF (v2) resources (SPEC §19): IP sets, regex pattern sets, rule groups and web ACLs,
//! each already compiled into the data plane's [`vpcsim_dataplane::waf`] types when loaded
//! (statements refer to the sets and groups they use), and web ACL associations.

use super::Origin;
use std::sync::Arc;
use vpcsim_dataplane::waf::{IpSet, RegexPatternSet, RuleGroup, WebAcl};

/// An `AWS::WAFv2::IPSet`; its origin's id is its ARN.
#[derive(Clone, Debug)]
pub struct WafIpSet {
    /// Where it was loaded from.
    pub origin: Origin,
    /// The addresses.
    pub set: Arc<IpSet>,
    /// The addresses as written (`Addresses`), which `export` writes back.
    pub addresses: Vec<ipnet::IpNet>,
}

/// An `AWS::WAFv2::RegexPatternSet`; its origin's id is its ARN.
#[derive(Clone, Debug)]
pub struct WafRegexPatternSet {
    /// Where it was loaded from.
    pub origin: Origin,
    /// The compiled patterns.
    pub set: Arc<RegexPatternSet>,
}

/// An `AWS::WAFv2::RuleGroup`; its origin's id is its ARN.
#[derive(Clone, Debug)]
pub struct WafRuleGroup {
    /// Where it was loaded from.
    pub origin: Origin,
    /// The rules, labels qualified with the group's namespace.
    pub group: RuleGroup,
}

/// An `AWS::WAFv2::WebACL`; its origin's id is its ARN.
#[derive(Clone, Debug)]
pub struct WafWebAcl {
    /// Where it was loaded from.
    pub origin: Origin,
    /// The compiled web ACL.
    pub acl: WebAcl,
    /// The web ACL as `aws wafv2 get-web-acl` prints it (`Name`, `Id`, `ARN`, `DefaultAction`,
    /// `Rules` with references resolved to ARNs, ...), which `export` writes back.
    pub source: serde_json::Value,
}

/// An `AWS::WAFv2::WebACLAssociation`.
#[derive(Clone, Debug)]
pub struct WafAssociation {
    /// Where it was loaded from.
    pub origin: Origin,
    /// `ResourceArn` as it resolved: the associated resource's id (a load balancer's ARN).
    pub resource_id: String,
    /// The logical id of the associated resource, when it is in the loaded templates.
    pub resource_logical_id: Option<String>,
    /// Index into [`Waf::web_acls`].
    pub web_acl: usize,
}

/// Every WAF resource loaded.
#[derive(Clone, Debug, Default)]
pub struct Waf {
    /// IP sets.
    pub ip_sets: Vec<WafIpSet>,
    /// Regex pattern sets.
    pub regex_sets: Vec<WafRegexPatternSet>,
    /// Rule groups.
    pub rule_groups: Vec<WafRuleGroup>,
    /// Web ACLs.
    pub web_acls: Vec<WafWebAcl>,
    /// Web ACL associations.
    pub associations: Vec<WafAssociation>,
}

impl Waf {
    /// The origins of the WAF resources other than associations (which are counted with the
    /// other linking resources, in [`super::Model::links`]).
    pub fn origins(&self) -> impl Iterator<Item = &Origin> {
        self.ip_sets
            .iter()
            .map(|r| &r.origin)
            .chain(self.regex_sets.iter().map(|r| &r.origin))
            .chain(self.rule_groups.iter().map(|r| &r.origin))
            .chain(self.web_acls.iter().map(|r| &r.origin))
    }
}
