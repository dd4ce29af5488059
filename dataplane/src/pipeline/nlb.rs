//! Network Load Balancers (SPEC §11.3): a packet that reaches a node's address is matched to a
//! listener, its flow is hashed to a target of the listener's target group (and stays there),
//! its destination (and, without client IP preservation, its source) is rewritten, and it
//! leaves the node for the target through the ordinary path: the node subnet's route table and
//! NACL, the target subnet's NACL, the target's security groups. Replies come back through the
//! same node and are translated back. `crate::topology::nlb` holds the tables and the flow state.

use super::driver::{gather, rewritten, Conn, Driver, Opened, Refused, Seen};
use super::security_group::{self, Direction};
use super::{interface, network_acl, Node};
use crate::aws::Zone;
use crate::state::conntrack::Tracked;
use crate::topology::nlb::{Choice, ListenerRules, NoTarget};
use crate::topology::{EniIdx, NlbIdx};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};

/// Security groups on a node apply only when the load balancer has some (SPEC §11.3).
fn has_sgs<'t, D: Driver<'t>>(d: &D, node: EniIdx) -> bool {
    !d.topo().enis[node].security_groups.is_empty()
}

/// A packet the node itself sends (a health check): its groups' outbound rules when it has
/// groups; without groups the connection is still tracked so its reply is recognised.
pub(super) fn node_egress<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    node: EniIdx,
) -> Option<D::Packet> {
    if has_sgs(d, node) {
        return security_group::check(d, p, node, Direction::Egress);
    }
    let owner = d.topo().enis[node].owner;
    security_group::track_always(d, p, Zone::Interface(node), owner, Stage::SgEgress)
}

/// The rules of the load balancer's security groups for the first packet of a flow, inbound
/// (client → node) or outbound (node → target). Not entered in connection tracking: the load
/// balancer's flow table tracks the flow from then on.
fn node_rules<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    node: EniIdx,
    dir: Direction,
) -> Option<D::Packet> {
    let topo = d.topo();
    let via = d.via_appliance(&p);
    let decided = d.decide(p, &security_group::rules(topo, node, dir, via));
    let (stage, flow, reason, which) = match dir {
        Direction::Ingress => (
            Stage::SgIngress,
            FlowDirection::Ingress,
            DropReason::SgIngressDenied,
            "inbound",
        ),
        Direction::Egress => (
            Stage::SgEgress,
            FlowDirection::Egress,
            DropReason::SgEgressDenied,
            "outbound",
        ),
    };
    if let Some((p, _)) = decided.fail {
        let groups = if D::TRACING {
            security_group::names(topo, node)
        } else {
            String::new()
        };
        d.observe(&p, node, flow, FlowAction::Reject);
        d.drop(
            p,
            reason,
            security_group::culprit(topo, node),
            stage,
            None,
            |_| format!("no {which} rule of the load balancer's {groups} allows this packet"),
        );
    }
    let (p, rule) = decided.pass?;
    if D::TRACING {
        let at = rule.map_or_else(
            || security_group::culprit(topo, node),
            |r| topo.security_groups[r.group].res,
        );
        let text = rule.map(|r| security_group::rule_text(topo, r, dir));
        d.hop(&p, at, stage, Action::Allow, text, |_| {
            "new load-balanced flow, tracked by the load balancer".into()
        });
    }
    Some(p)
}

/// `Nlb`: the packet reached node `node` of load balancer `lb` (its subnet's NACL already
/// passed).
pub(super) fn arrive<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, lb: NlbIdx, node: EniIdx) {
    for (seen, p) in d.nlb_find(p, node) {
        // A packet of a flow the load balancer already tracks: its security groups admitted
        // the flow when it began (the flow table is the node's connection tracking).
        match seen {
            Some(Seen::Reply(flow)) => {
                d.observe(&p, node, FlowDirection::Ingress, FlowAction::Accept);
                to_client(d, p, flow);
            }
            Some(Seen::Client(flow)) => {
                d.observe(&p, node, FlowDirection::Ingress, FlowAction::Accept);
                forward(d, p, flow, None);
            }
            None => untracked(d, p, lb, node),
        }
    }
}

/// A packet of no load-balanced flow: the reply of a connection the node opened itself (a
/// health check), or a client's first packet.
fn untracked<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, lb: NlbIdx, node: EniIdx) {
    for (conn, p) in d.conntrack(p, Zone::Interface(node), false) {
        match conn {
            Some(Conn::Tracked(Tracked::Reply)) => {
                // Admitted by connection tracking whatever the rules.
                let p = if has_sgs(d, node) {
                    security_group::check(d, p, node, Direction::Ingress)
                } else {
                    Some(p)
                };
                if let Some(p) = p {
                    d.observe(&p, node, FlowDirection::Ingress, FlowAction::Accept);
                    interface::deliver(d, p, node);
                }
            }
            Some(Conn::Unknown(proof) | Conn::TrackedEitherSide(proof)) => d.undecided(
                p,
                proof,
                "depends on connection-tracking state (whether the packet answers the node's own connection)",
            ),
            _ => open(d, p, lb, node),
        }
    }
}

/// A client's first packet: the listener, then a target for the new flow.
fn open<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, lb: NlbIdx, node: EniIdx) {
    let topo = d.topo();
    let p = if has_sgs(d, node) {
        node_rules(d, p, node, Direction::Ingress)
    } else {
        Some(p)
    };
    let Some(p) = p else { return };
    d.observe(&p, node, FlowDirection::Ingress, FlowAction::Accept);
    let balancer = &topo.nlb.load_balancers[lb];
    for (li, p) in d.split_rules(p, &ListenerRules(&balancer.listeners)) {
        let Some(li) = li else {
            d.drop(
                p,
                DropReason::NlbNoListener,
                balancer.res,
                Stage::NlbListener,
                None,
                |h| {
                    format!(
                        "no listener of the load balancer accepts {} port {}",
                        h.proto, h.dst_port
                    )
                },
            );
            continue;
        };
        for (opened, p) in d.nlb_open(p, lb, li, node) {
            match opened {
                Ok(Opened { flow, choice }) => forward(d, p, flow, Some(choice)),
                Err(Refused::NoTarget(why)) => no_target(d, p, lb, li, node, why),
                Err(Refused::TableFull) => {
                    d.drop(
                        p,
                        DropReason::NlbFlowTableFull,
                        balancer.res,
                        Stage::NlbTargetGroup,
                        None,
                        |_| "the load balancer's flow table is full: new flow refused".into(),
                    );
                }
            }
        }
    }
}

fn no_target<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    lb: NlbIdx,
    li: u32,
    node: EniIdx,
    why: NoTarget,
) {
    let topo = d.topo();
    listener_hop(d, &p, lb, li);
    let listener = &topo.nlb.load_balancers[lb].listeners[li as usize];
    let group = &topo.nlb.target_groups[listener.target_group];
    let az = &topo.subnet_of(node).availability_zone;
    d.drop(p, DropReason::NlbNoTarget, group.res, Stage::NlbTargetGroup, None, |_| {
        match why {
            NoTarget::NoneRegistered => "the target group has no registered target".into(),
            NoTarget::NoneInZone => format!("no target in {az}, the node's Availability Zone, and cross-zone load balancing is off"),
            NoTarget::NoneHealthyInZone => format!("every target in {az} is unhealthy while targets in other zones are healthy; cross-zone load balancing is off"),
        }
    });
}

fn listener_hop<'t, D: Driver<'t>>(d: &mut D, p: &D::Packet, lb: NlbIdx, li: u32) {
    if !D::TRACING {
        return;
    }
    let topo = d.topo();
    let balancer = &topo.nlb.load_balancers[lb];
    let listener = &balancer.listeners[li as usize];
    let rule = format!(
        "{}:{} → forward to {}",
        listener.protocol.as_str(),
        listener.port,
        topo.name(topo.nlb.target_groups[listener.target_group].res)
    );
    d.hop(
        p,
        listener.res,
        Stage::NlbListener,
        Action::Forward,
        Some(rule),
        |_| format!("listener of {}", topo.name(balancer.res)),
    );
}

/// A client's packet of `flow` (new when `how` says how its target was chosen): to the target,
/// rewritten.
fn forward<'t, D: Driver<'t>>(d: &mut D, mut p: D::Packet, flow: D::NlbFlow, how: Option<Choice>) {
    let topo = d.topo();
    let r = d.nlb_route(&flow);
    let group = &topo.nlb.target_groups[r.target_group];
    let target = &group.targets[r.target as usize];
    if D::TRACING {
        listener_hop(d, &p, r.lb, r.listener);
        let detail = match how {
            None => "existing flow: stays on its target".to_string(),
            Some(c) if c.fail_open => format!(
                "new flow hashed to target {} of {} (every target is unhealthy: fail open)",
                c.target + 1,
                c.among
            ),
            Some(c) => format!(
                "new flow hashed to 1 of {} healthy target(s){}",
                c.among,
                if topo.nlb.cross_zone(r.lb, r.target_group) {
                    " (cross-zone)"
                } else {
                    " in the node's zone"
                }
            ),
        };
        let rule = format!(
            "{} {}:{} ({}, {})",
            group.target_type.as_str(),
            target.id,
            target.port,
            target.health.state.as_str(),
            target
                .az
                .and_then(|z| topo.subnets.iter().find(|s| s.az == z))
                .map_or("outside the topology", |s| s.availability_zone.as_str())
        );
        d.hop(
            &p,
            group.res,
            Stage::NlbTargetGroup,
            Action::Forward,
            Some(rule),
            |_| detail,
        );
    }
    let before = d.header_now(&p);
    d.nlb_to_target(&mut p, &flow);
    let preserves = r.preserves_client_ip;
    let detail = rewritten(before, |b, a| {
        let src = if preserves {
            "source kept (client IP preservation)".to_string()
        } else {
            format!(
                "source {}:{} → {}:{} (client IP preservation off)",
                b.src, b.src_port, a.src, a.src_port
            )
        };
        format!(
            "destination {}:{} → {}:{}; {src}",
            b.dst, b.dst_port, a.dst, a.dst_port
        )
    });
    d.hop(
        &p,
        target.res,
        Stage::NlbTarget,
        Action::Translate,
        None,
        detail,
    );
    // The node's outbound rules are checked when the flow begins.
    let p = if how.is_some() && has_sgs(d, r.node) {
        node_rules(d, p, r.node, Direction::Egress)
    } else {
        Some(p)
    };
    if let Some(p) = p {
        d.next(p, Node::IntoSubnet { eni: r.node });
    }
}

/// A target's reply at the node: back to the client, from the address it connected to.
fn to_client<'t, D: Driver<'t>>(d: &mut D, mut p: D::Packet, flow: D::NlbFlow) {
    let topo = d.topo();
    let r = d.nlb_route(&flow);
    let before = d.header_now(&p);
    d.nlb_to_client(&mut p, &flow);
    let lb = topo.nlb.load_balancers[r.lb].res;
    let detail = rewritten(before, |b, a| {
        format!(
            "reply of a tracked load-balanced flow: source {}:{} → {}:{}, destination {}:{}",
            b.src, b.src_port, a.src, a.src_port, a.dst, a.dst_port
        )
    });
    d.hop(&p, lb, Stage::NlbTarget, Action::Translate, None, detail);
    d.next(p, Node::IntoSubnet { eni: r.node });
}

/// A packet leaving target interface `eni`, past its security groups: when it is the reply of
/// a load-balanced flow that kept the client's address, the load balancer takes it back (the
/// target never answers the client directly). Returns the rest.
pub(super) fn reply_from_target<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    eni: EniIdx,
) -> Option<D::Packet> {
    let topo = d.topo();
    let mut rest = None;
    for (flow, p) in d.nlb_reply_of(p, eni) {
        let Some(flow) = flow else {
            gather(d, &mut rest, p);
            continue;
        };
        let r = d.nlb_route(&flow);
        let from = topo.enis[eni].subnet;
        let node = r.node;
        let to = topo.enis[node].subnet;
        let p = if from != to {
            let Some(p) = network_acl::egress(d, p, from, Some(eni)) else {
                continue;
            };
            d.observe(&p, eni, FlowDirection::Egress, FlowAction::Accept);
            let Some(p) = network_acl::ingress(d, p, to, Some(node)) else {
                continue;
            };
            p
        } else {
            d.observe(&p, eni, FlowDirection::Egress, FlowAction::Accept);
            p
        };
        let lb = topo.nlb.load_balancers[r.lb].res;
        let node_addr = topo.enis[node].primary_v4();
        d.hop(&p, lb, Stage::NlbTarget, Action::Forward, None, |_| {
            format!(
                "reply of a load-balanced flow: back through the load balancer node {}",
                node_addr.map_or_else(String::new, |a| a.to_string())
            )
        });
        d.observe(&p, node, FlowDirection::Ingress, FlowAction::Accept);
        to_client(d, p, flow);
    }
    rest
}
