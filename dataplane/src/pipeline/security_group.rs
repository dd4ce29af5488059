//! Security groups on an interface (SPEC §4): stateful, allow-only, the union of every group's
//! rules. A packet of a tracked connection passes whatever the rules say; a packet a rule
//! admits opens a tracked connection. A filter the nodes apply when a packet leaves or reaches
//! an interface.

use super::driver::{gather, Conn, Driver};
use crate::aws::Zone;
use crate::state::conntrack::Tracked;
use crate::tables::sg::{CompiledSgRule, SgRules};
use crate::topology::{EniIdx, ResId, Topology};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};

/// Whether a packet leaves the interface or arrives at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    /// Leaving: outbound rules, matched against the destination.
    Egress,
    /// Arriving: inbound rules, matched against the source.
    Ingress,
}

impl Direction {
    fn stage(self) -> Stage {
        match self {
            Direction::Egress => Stage::SgEgress,
            Direction::Ingress => Stage::SgIngress,
        }
    }

    fn flow(self) -> FlowDirection {
        match self {
            Direction::Egress => FlowDirection::Egress,
            Direction::Ingress => FlowDirection::Ingress,
        }
    }

    fn reason(self) -> DropReason {
        match self {
            Direction::Egress => DropReason::SgEgressDenied,
            Direction::Ingress => DropReason::SgIngressDenied,
        }
    }
}

/// The rules of one direction of an interface's groups, references matching only while no
/// appliance or transit gateway has forwarded the packet.
pub(super) fn rules<'a>(
    topo: &'a Topology,
    eni: EniIdx,
    dir: Direction,
    via_appliance: bool,
) -> SgRules<'a> {
    topo.sg_rules(eni, dir == Direction::Ingress, !via_appliance)
}

/// The resource blamed for a denial: the group when the interface has one, the interface's
/// owner when the union of several groups denied.
pub(super) fn culprit(topo: &Topology, eni: EniIdx) -> ResId {
    let e = &topo.enis[eni];
    match e.security_groups.as_slice() {
        [g] => topo.security_groups[*g].res,
        _ => e.owner,
    }
}

/// The names of an interface's groups, for messages.
pub(super) fn names(topo: &Topology, eni: EniIdx) -> String {
    let e = &topo.enis[eni];
    let names: Vec<&str> = e
        .security_groups
        .iter()
        .map(|g| topo.name(topo.security_groups[*g].res))
        .collect();
    if names.is_empty() {
        "no security groups".into()
    } else {
        names.join(", ")
    }
}

/// The group a rule came from, and the rule as text.
pub(super) fn rule_text(topo: &Topology, rule: &CompiledSgRule, dir: Direction) -> String {
    topo.sg_rule_text(rule, dir == Direction::Ingress)
}

/// Security groups of `eni` for a packet leaving or arriving: tracked connections pass, the
/// rest must match a rule (and is then tracked). Returns what passes.
pub(super) fn check<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    eni: EniIdx,
    dir: Direction,
) -> Option<D::Packet> {
    let topo = d.topo();
    let zone = Zone::Interface(eni);
    let stage = dir.stage();
    let mut passed = None;
    for (conn, p) in d.conntrack(p, zone, true) {
        match conn {
            Some(Conn::Tracked(side)) => {
                // Gated: naming the culprit reads tables the verdict does not need.
                if D::TRACING {
                    d.hop(
                        &p,
                        culprit(topo, eni),
                        stage,
                        Action::Allow,
                        None,
                        |_| match side {
                            Tracked::Reply => {
                                "reply of a tracked connection: allowed whatever the rules".into()
                            }
                            Tracked::Initiator => "part of a tracked connection".into(),
                        },
                    );
                }
                gather(d, &mut passed, p);
            }
            Some(Conn::TrackedEitherSide(_)) => gather(d, &mut passed, p),
            Some(Conn::Unknown(proof)) => {
                // Whatever a rule admits passes either way; the rest depends on the state.
                let via = d.via_appliance(&p);
                let decided = d.decide(p, &rules(topo, eni, dir, via));
                if let Some((p, _)) = decided.fail {
                    d.undecided(
                        p,
                        proof,
                        "depends on connection-tracking state (the packet may match a connection it opened itself)",
                    );
                }
                if let Some((mut p, _)) = decided.pass {
                    if d.track(&mut p, zone).is_ok() {
                        gather(d, &mut passed, p);
                    }
                }
            }
            None => {
                if let Some(p) = by_rules(d, p, eni, dir) {
                    gather(d, &mut passed, p);
                }
            }
        }
    }
    passed
}

/// The untracked part: a rule must admit it, and it opens a tracked connection.
fn by_rules<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    eni: EniIdx,
    dir: Direction,
) -> Option<D::Packet> {
    let topo = d.topo();
    let stage = dir.stage();
    let via = d.via_appliance(&p);
    let decided = d.decide(p, &rules(topo, eni, dir, via));
    if let Some((p, _)) = decided.fail {
        denied(d, p, eni, dir);
    }
    let (mut p, rule) = decided.pass?;
    if d.track(&mut p, Zone::Interface(eni)).is_err() {
        d.observe(&p, eni, dir.flow(), FlowAction::Reject);
        let owner = topo.enis[eni].owner;
        d.drop(p, DropReason::ConntrackFull, owner, stage, None, |_| {
            "connection-tracking table full: new connection refused".into()
        });
        return None;
    }
    if D::TRACING {
        let at = rule.map_or_else(|| culprit(topo, eni), |r| topo.security_groups[r.group].res);
        let text = rule.map(|r| rule_text(topo, r, dir));
        d.hop(&p, at, stage, Action::Allow, text, |_| {
            "new connection tracked".into()
        });
    }
    Some(p)
}

/// No rule admits the packet: dropped, blamed on the group (or, with several groups, on the
/// interface that sent or was to receive it).
fn denied<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, eni: EniIdx, dir: Direction) {
    let topo = d.topo();
    let groups = if D::TRACING {
        names(topo, eni)
    } else {
        String::new()
    };
    let (which, reply) = match dir {
        Direction::Egress => ("outbound rule of", ""),
        Direction::Ingress => ("inbound rule of", " and it is not a reply"),
    };
    let refs = if d.via_appliance(&p) {
        " (it crossed an appliance or a transit gateway: security-group references no longer match it)"
    } else {
        ""
    };
    let one_group = topo.enis[eni].security_groups.len() == 1;
    for (sender, p) in d.senders(p, eni) {
        let at = if one_group {
            culprit(topo, eni)
        } else {
            topo.enis[sender].owner
        };
        d.observe(&p, sender, dir.flow(), FlowAction::Reject);
        let groups = groups.clone();
        d.drop(p, dir.reason(), at, dir.stage(), None, move |_| {
            format!("no {which} {groups} allows this packet{reply}{refs}")
        });
    }
}

/// Track the packet's connection in `zone` whatever rules say (egress-only gateways, load
/// balancer nodes without security groups): a connection the packet opens is remembered so its
/// replies are recognised. Returns what passes.
pub(super) fn track_always<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    zone: Zone,
    at: ResId,
    stage: Stage,
) -> Option<D::Packet> {
    let mut passed = None;
    for (conn, mut p) in d.conntrack(p, zone, true) {
        let tracked = matches!(conn, Some(Conn::Tracked(_) | Conn::TrackedEitherSide(_)));
        if !tracked && d.track(&mut p, zone).is_err() {
            d.drop(p, DropReason::ConntrackFull, at, stage, None, |_| {
                "connection-tracking table full".into()
            });
            continue;
        }
        gather(d, &mut passed, p);
    }
    passed
}
