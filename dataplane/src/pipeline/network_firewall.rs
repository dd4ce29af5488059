//! AWS Network Firewall (SPEC §20): a route sends the packet to a firewall endpoint; the endpoint
//! subnet's inbound network ACL applies, then the stateless engine (rules by priority, first
//! match: `aws:pass`, `aws:drop` or `aws:forward_to_sfe`, else the default actions), then, for
//! what it forwards, the stateful engine (Suricata-compatible rules in default action order or
//! strict order, the flow table of the endpoint, the default actions). What passes continues
//! unchanged with the firewall subnet's route table. `crate::topology::network_firewall` holds
//! the tables.
//!
//! A rule whose match depends on what a header cannot tell (TCP flags, the application layer)
//! asks the driver: the concrete driver knows, the symbolic one reports the part as depending
//! on the payload. A rule with a keyword vpcsim does not evaluate stops the packet with
//! `NETWORK_FIREWALL_NOT_EVALUABLE` when it could decide its fate; an `alert` rule never
//! decides, so it only leaves a note.

use super::driver::{gather, Driver};
use super::{network_acl, Node};
use crate::aws::MAX_FORWARDS;
use crate::state::firewall_flows::FirewallFlow;
use crate::topology::network_firewall::{
    FirewallEndpointIdx, NetworkFirewall, RuleOrder, RuleProtocol, StatefulAction, StatefulHeader,
    StatefulRule, StatelessAction, StatelessRules, StreamExceptionPolicy, FRAGMENT_DEFAULT,
};
use crate::topology::{SubnetIdx, Topology, VpcIdx};
use crate::trace::{Action, Stage};
use crate::verdict::DropReason;
use crate::wire::IpProtocol;

const STAGE: Stage = Stage::NetworkFirewall;

/// `NetworkFirewall`: a route of `vpc` (from `from_subnet`, or from a gateway route table when
/// `None`) sends the packet to firewall endpoint `x`.
pub(super) fn endpoint<'t, D: Driver<'t>>(
    d: &mut D,
    mut p: D::Packet,
    x: FirewallEndpointIdx,
    vpc: VpcIdx,
    from_subnet: Option<SubnetIdx>,
) {
    let topo = d.topo();
    let ep = &topo.network_firewalls.endpoints[x];
    let fw = &topo.network_firewalls.firewalls[ep.firewall];
    if fw.vpc != vpc {
        d.drop(p, DropReason::BlackholeRoute, ep.res, STAGE, None, |_| {
            "the firewall endpoint is in another VPC".into()
        });
        return;
    }
    if !d.spend_forward(&mut p) {
        d.drop(p, DropReason::TtlExceeded, ep.res, STAGE, None, |_| {
            format!("more than {MAX_FORWARDS} forwarding steps: routing loop")
        });
        return;
    }
    let p = if from_subnet != Some(ep.subnet) {
        match network_acl::ingress(d, p, ep.subnet, None) {
            Some(p) => p,
            None => return,
        }
    } else {
        p
    };
    if d.fragmented(&p) {
        let udp = d.header_now(&p).is_none_or(|h| h.proto == IpProtocol::UDP);
        if !udp {
            d.drop(p, DropReason::NetworkFirewallDropped, fw.res, STAGE, Some("stateless fragment handling".into()), |_| {
                "Network Firewall manages only UDP fragments: fragments of other protocols are dropped".into()
            });
            return;
        }
        let a = &fw.fragment_default;
        let rule = D::TRACING.then(|| format!("stateless fragment default: {}", a.action.as_str()));
        stateless_action(d, p, x, (Some(FRAGMENT_DEFAULT), a.action, &a.custom), rule);
        return;
    }
    for (k, part) in d.split_rules(p, &StatelessRules(&fw.stateless)) {
        let (a, rule) = match k {
            Some(i) => {
                let r = &fw.stateless[i as usize];
                if !r.tcp_flags.is_empty() {
                    if let Err(u) = d.tcp_flags(&part) {
                        d.undecided(part, u, "depends on TCP flags (a stateless Network Firewall rule matches on them)");
                        continue;
                    }
                }
                let text = D::TRACING.then(|| {
                    format!(
                        "stateless {} priority {}: {}",
                        topo.name(r.group),
                        r.priority,
                        r.actions.action.as_str()
                    )
                });
                (&r.actions, text)
            }
            None => {
                let a = &fw.stateless_default;
                (
                    a,
                    D::TRACING.then(|| format!("stateless default: {}", a.action.as_str())),
                )
            }
        };
        stateless_action(d, part, x, (k, a.action, &a.custom), rule);
    }
}

/// Apply a stateless action: `(the rule, or None for a default; its standard action; its
/// custom actions)`.
fn stateless_action<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    x: FirewallEndpointIdx,
    (index, action, custom): (Option<u32>, StatelessAction, &[String]),
    rule: Option<String>,
) {
    if !custom.is_empty() {
        d.firewall_custom_action(&p, x, index);
    }
    let topo = d.topo();
    let ep = &topo.network_firewalls.endpoints[x];
    let fw = &topo.network_firewalls.firewalls[ep.firewall];
    let metrics = |s: &str| -> String {
        if custom.is_empty() {
            s.to_string()
        } else {
            format!(
                "{s}; custom actions publish metrics {}",
                custom
                    .iter()
                    .map(|c| format!("CustomAction={c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    match action {
        StatelessAction::Pass => {
            d.hop(&p, fw.res, STAGE, Action::Forward, rule, |_| {
                metrics(&format!(
                    "endpoint {}: stateless engine passes it, no stateful inspection",
                    topo.resource(ep.res).aws_id
                ))
            });
            leave(d, p, x);
        }
        StatelessAction::Drop => {
            d.drop(
                p,
                DropReason::NetworkFirewallDropped,
                fw.res,
                STAGE,
                rule,
                |_| {
                    metrics(
                        "stateless engine: aws:drop discards it silently (no RST, no firewall log)",
                    )
                },
            );
        }
        StatelessAction::ForwardToSfe => {
            d.hop(&p, fw.res, STAGE, Action::Forward, rule, |_| {
                metrics(&format!(
                    "endpoint {}: stateless engine forwards it to the stateful engine",
                    topo.resource(ep.res).aws_id
                ))
            });
            stateful(d, p, x);
        }
    }
}

/// The firewall let the packet through: it continues with the firewall subnet's route table.
fn leave<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, x: FirewallEndpointIdx) {
    let subnet = d.topo().network_firewalls.endpoints[x].subnet;
    d.next(p, Node::Route { subnet, from: None });
}

/// What a stateful rule's conditions beyond the header say of a packet.
enum Cond {
    Yes,
    No,
    NotEvaluable,
}

fn conditions<'t, D: Driver<'t>>(
    d: &D,
    p: &D::Packet,
    r: &StatefulRule,
    flow: &FirewallFlow,
) -> Cond {
    if r.unsupported.is_some() {
        return Cond::NotEvaluable;
    }
    // The application layer first: a walk that cannot see it must not decide by flow state
    // alone that an application rule does not apply to the connection.
    if let RuleProtocol::App(a) = r.protocol {
        match d.firewall_app(p) {
            // A walk without a payload is the flow's first packet (or its reply): no
            // application protocol is identified yet. Later packets are looked at when the
            // flow passes (`later_payload`).
            Err(_) => return Cond::No,
            Ok(seen) if seen != Some(a) => return Cond::No,
            Ok(_) => {}
        }
    }
    for c in &r.contents {
        match d.firewall_content(p, c) {
            Err(_) => return Cond::No,
            Ok(false) => return Cond::No,
            Ok(true) => {}
        }
    }
    if r.flow.established.is_some_and(|e| e != flow.established)
        || r.flow.to_server.is_some_and(|t| t != flow.to_server)
        || (flow.midstream && !r.flow.stateless && r.needs_payload())
    {
        return Cond::No;
    }
    Cond::Yes
}

fn rule_text(topo: &Topology, r: &StatefulRule) -> String {
    format!(
        "stateful {} sid {}: {}",
        topo.name(r.group),
        r.sid,
        r.action.as_str()
    )
}

fn stateful<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, x: FirewallEndpointIdx) {
    let firewall = d.topo().network_firewalls.endpoints[x].firewall;
    for (flow, part) in d.firewall_flow(p, firewall, x) {
        match flow {
            Ok(flow) => stateful_flow(d, part, x, flow),
            Err(u) => d.undecided(
                part,
                u,
                "depends on Network Firewall flow state (whether the packet, rewritten since it passed the firewall, still belongs to the flow it opened there)",
            ),
        }
    }
}

fn stateful_flow<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    x: FirewallEndpointIdx,
    flow: FirewallFlow,
) {
    let topo = d.topo();
    let ep = &topo.network_firewalls.endpoints[x];
    let fw = &topo.network_firewalls.firewalls[ep.firewall];
    if let Some(i) = flow.passed_by {
        let mut p = p;
        let r = &fw.stateful[i as usize];
        d.hop(
            &p,
            fw.res,
            STAGE,
            Action::Forward,
            D::TRACING.then(|| rule_text(topo, r)),
            |_| {
                "stateful engine: the flow was passed by this rule; it is not inspected again"
                    .into()
            },
        );
        d.firewall_track(&mut p, ep.firewall, x, None);
        leave(d, p, x);
        return;
    }
    if flow.midstream && fw.stream_exception != StreamExceptionPolicy::Continue {
        let reject = fw.stream_exception == StreamExceptionPolicy::Reject;
        let reason = if reject {
            DropReason::NetworkFirewallRejected
        } else {
            DropReason::NetworkFirewallDropped
        };
        let here = &topo.resource(ep.res).aws_id;
        let rule = D::TRACING.then(|| {
            format!(
                "StreamExceptionPolicy {}",
                if reject { "REJECT" } else { "DROP" }
            )
        });
        d.drop(p, reason, fw.res, STAGE, rule, |_| {
            let what = if reject {
                "dropped, and the sender gets a TCP RST"
            } else {
                "dropped"
            };
            match flow.seen_at {
                Some(o) => format!(
                    "asymmetric routing: the flow started at endpoint {} but this packet reached endpoint {here}, which never saw it start: midstream packet {what}",
                    topo.resource(topo.network_firewalls.endpoints[o].res).aws_id
                ),
                None => format!(
                    "endpoint {here} never saw this TCP flow start: midstream packet {what}"
                ),
            }
        });
        return;
    }
    let mut rest = Some(p);
    for (i, r) in fw.stateful.iter().enumerate() {
        let Some(cur) = rest.take() else { break };
        let mut hit = None;
        for (k, part) in d.split_rules(cur, &StatefulHeader(r)) {
            match k {
                Some(()) => gather(d, &mut hit, part),
                None => gather(d, &mut rest, part),
            }
        }
        let Some(hit) = hit else { continue };
        let alert = r.action == StatefulAction::Alert;
        match conditions(d, &hit, r, &flow) {
            Cond::No => gather(d, &mut rest, hit),
            Cond::NotEvaluable if alert => {
                d.hop(&hit, fw.res, STAGE, Action::Forward, D::TRACING.then(|| rule_text(topo, r)), |_| {
                    format!(
                        "alert rule not evaluable ({}): whether it would log an alert is unknown; it never changes the packet's fate",
                        r.unsupported.as_deref().unwrap_or("")
                    )
                });
                gather(d, &mut rest, hit);
            }
            Cond::NotEvaluable => {
                d.drop(hit, DropReason::NetworkFirewallNotEvaluable, fw.res, STAGE, D::TRACING.then(|| rule_text(topo, r)), |_| {
                    format!(
                        "this {} rule may decide the packet but uses {}, which vpcsim does not evaluate: the packet's fate is unknown",
                        r.action.as_str(),
                        r.unsupported.as_deref().unwrap_or("")
                    )
                });
            }
            Cond::Yes => decided(d, hit, x, i, &mut rest),
        }
    }
    if let Some(p) = rest {
        defaults(d, p, x, fw, &flow);
    }
}

/// A stateful rule matched: its action applies (an alert continues with the later rules).
fn decided<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    x: FirewallEndpointIdx,
    i: usize,
    rest: &mut Option<D::Packet>,
) {
    let topo = d.topo();
    let ep = &topo.network_firewalls.endpoints[x];
    let fw = &topo.network_firewalls.firewalls[ep.firewall];
    let r = &fw.stateful[i];
    let rule = D::TRACING.then(|| rule_text(topo, r));
    let msg = |s: &str| {
        if r.msg.is_empty() {
            s.to_string()
        } else {
            format!("{s} (msg \"{}\")", r.msg)
        }
    };
    match r.action {
        StatefulAction::Alert => {
            d.firewall_alert(&p, x, Some(i as u32), false);
            d.hop(&p, fw.res, STAGE, Action::Forward, rule, |_| {
                msg("stateful engine: alert logged, the packet continues")
            });
            gather(d, rest, p);
        }
        StatefulAction::Pass => {
            let mut p = p;
            d.hop(&p, fw.res, STAGE, Action::Forward, rule, |_| {
                msg("stateful engine: pass; the flow is not inspected further")
            });
            d.firewall_track(&mut p, ep.firewall, x, Some(i as u32));
            leave(d, p, x);
        }
        StatefulAction::Drop => {
            d.firewall_alert(&p, x, Some(i as u32), true);
            d.drop(
                p,
                DropReason::NetworkFirewallDropped,
                fw.res,
                STAGE,
                rule,
                |_| msg("stateful engine: drop, alert logged (blocked)"),
            );
        }
        StatefulAction::Reject => {
            d.firewall_alert(&p, x, Some(i as u32), true);
            let tcp = d.header_now(&p).is_none_or(|h| h.proto == IpProtocol::TCP);
            if tcp {
                d.drop(p, DropReason::NetworkFirewallRejected, fw.res, STAGE, rule, |_| {
                    msg("stateful engine: reject: dropped, the sender gets a TCP RST, alert logged (blocked)")
                });
            } else {
                d.drop(p, DropReason::NetworkFirewallDropped, fw.res, STAGE, rule, |_| {
                    msg("stateful engine: reject of a packet that is not TCP: dropped, alert logged (blocked)")
                });
            }
        }
    }
}

/// No stateful rule decided: default action order passes; strict order applies the policy's
/// default actions.
fn defaults<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    x: FirewallEndpointIdx,
    fw: &NetworkFirewall,
    flow: &FirewallFlow,
) {
    let ep = &d.topo().network_firewalls.endpoints[x];
    let Some(p) = later_payload(d, p, fw) else {
        return;
    };
    let strict = fw.order == RuleOrder::StrictOrder;
    let df = fw.defaults;
    if strict && df.drop_established && !df.drop_strict && flow.to_server {
        // The opening packet passes, but every later packet that no rule passes is dropped.
        if let Err(u) = d.firewall_app(&p) {
            d.undecided(p, u, "depends on the flow's later packets (aws:drop_established drops established packets no rule passes)");
            return;
        }
    }
    let drop = strict && (df.drop_strict || (df.drop_established && flow.established));
    let alert = strict && (df.alert_strict || (df.alert_established && flow.established));
    if drop || alert {
        d.firewall_alert(&p, x, None, drop);
    }
    if drop {
        let name = if df.drop_strict {
            "aws:drop_strict"
        } else {
            "aws:drop_established"
        };
        d.drop(
            p,
            DropReason::NetworkFirewallDropped,
            fw.res,
            STAGE,
            D::TRACING.then(|| format!("stateful default: {name}")),
            |_| {
                format!(
                    "no stateful rule matched: the default action {name} drops it (alert logged)"
                )
            },
        );
        return;
    }
    let rule = D::TRACING.then(|| {
        if alert {
            "stateful default: alert".to_string()
        } else {
            "stateful default: pass".to_string()
        }
    });
    d.hop(&p, fw.res, STAGE, Action::Forward, rule, |_| {
        let mut s = match fw.order {
            RuleOrder::DefaultActionOrder => {
                "no stateful rule decided: default action order passes it".to_string()
            }
            RuleOrder::StrictOrder => {
                "no stateful rule decided and no default drop applies: passes".to_string()
            }
        };
        if alert {
            s.push_str(if df.alert_strict {
                "; aws:alert_strict logs an alert"
            } else {
                "; aws:alert_established logs an alert"
            });
        }
        s
    });
    let mut p = p;
    d.firewall_track(&mut p, ep.firewall, x, None);
    leave(d, p, x);
}

/// A flow no `pass` rule passed is inspected again with every later packet: where a rule that
/// reads the payload could decide those (symbolic walks, which carry none), the part depends
/// on the payload. The concrete driver's packet was evaluated as it is.
fn later_payload<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    fw: &NetworkFirewall,
) -> Option<D::Packet> {
    if d.firewall_app(&p).is_ok() {
        return Some(p);
    }
    let mut rest = Some(p);
    for r in fw
        .stateful
        .iter()
        .filter(|r| r.needs_payload() && r.action != StatefulAction::Alert)
    {
        let Some(cur) = rest.take() else { break };
        for (k, part) in d.split_rules(cur, &StatefulHeader(r)) {
            match (k, d.firewall_app(&part)) {
                (Some(()), Err(u)) => d.undecided(part, u, "depends on payload (a Network Firewall rule reads the application layer of the flow's later packets)"),
                _ => gather(d, &mut rest, part),
            }
        }
    }
    rest
}
