//! Why AWS Network Firewall dropped a packet. A fix never routes around the firewall: what lets
//! the traffic through is a change to the policy's rule groups, which vpcsim names but does not
//! apply (`trace --fixes` suggests no model change for these drops).

use super::{Drop, Finding};
use vpcsim_dataplane::DropReason;

/// `NETWORK_FIREWALL_DROPPED`, `NETWORK_FIREWALL_REJECTED`, `NETWORK_FIREWALL_NOT_EVALUABLE`.
pub(super) fn network_firewall(d: &Drop<'_>) -> Finding {
    let at = d.topo.name(d.v.at);
    let rule = d.decided_by.unwrap_or("its rules");
    let detail = d.hops.last().map(|h| h.detail.as_str()).unwrap_or_default();
    match d.reason {
        DropReason::NetworkFirewallNotEvaluable => Finding::no_fix(
            format!("{at}: {rule} may decide this packet but uses a keyword vpcsim does not evaluate, so its fate is unknown"),
            "rewrite the rule with keywords vpcsim evaluates (README: AWS Network Firewall), or check this flow against the real firewall",
        ),
        _ if detail.starts_with("asymmetric routing") || detail.contains("never saw this TCP flow start") => Finding::no_fix(
            format!("{at}: {detail}"),
            "send both directions of the flow through the same firewall endpoint: turn on appliance mode on the transit gateway attachment of the inspection VPC, or make the gateway route table use the endpoint of the same Availability Zone",
        ),
        _ => Finding::no_fix(
            format!("{at} decided with {rule}: {detail}"),
            "change the firewall policy's rule groups (a pass rule before this one, or this rule's match) rather than routing around the firewall; vpcsim does not apply rule-group changes as fixes",
        ),
    }
}
