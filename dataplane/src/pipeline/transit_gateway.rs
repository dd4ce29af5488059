//! Transit gateways (SPEC §9): a VPC attachment takes traffic in through its subnet in the
//! sender's Availability Zone, the route table associated with the attachment picks the next
//! attachment, and the packet leaves into that attachment's VPC (zone affinity, or a flow hash
//! with appliance mode) or VPN connection.

use super::driver::{within, Driver, Field};
use super::{interface, network_acl, vpn, Node};
use crate::aws::{MAX_FORWARDS, TGW_MTU};
use crate::topology::tgw::{describe_tgw_route, AttachmentKind, TgwRouteTarget};
use crate::topology::{SubnetIdx, TgwAttachmentIdx, TgwIdx};
use crate::trace::{Action, Stage};
use crate::verdict::DropReason;

/// `TgwFromVpc`: a route of `from_subnet` sends the packet to transit gateway `t`: it enters
/// through the VPC attachment's subnet in the sender's Availability Zone (SPEC §9.1), whose
/// inbound NACL applies whether or not the sender shares the subnet (SPEC §3.2).
pub(super) fn from_vpc<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    t: TgwIdx,
    from_subnet: SubnetIdx,
) {
    let topo = d.topo();
    let subnet = &topo.subnets[from_subnet];
    let tgw = topo.transit_gateways[t].res;
    let attachment = topo.vpcs[subnet.vpc]
        .tgw_attachments
        .iter()
        .copied()
        .find(|&a| topo.tgw_attachments[a].tgw == t);
    let Some(a) = attachment else {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            tgw,
            Stage::TgwAttachment,
            None,
            |_| "the transit gateway has no attachment in this VPC".into(),
        );
        return;
    };
    let att = &topo.tgw_attachments[a];
    let Some(att_subnet) = att.subnet_in(topo, subnet.az) else {
        let az = &subnet.availability_zone;
        d.drop(
            p,
            DropReason::TgwNoAttachmentInAz,
            att.res,
            Stage::TgwAttachment,
            None,
            |_| {
                format!(
                    "the attachment has no subnet in {az}, the sending subnet's Availability Zone"
                )
            },
        );
        return;
    };
    let Some(p) = network_acl::ingress(d, p, att_subnet, None) else {
        return;
    };
    d.hop(
        &p,
        att.res,
        Stage::TgwAttachment,
        Action::Forward,
        None,
        |_| {
            let s = &topo.subnets[att_subnet];
            format!(
                "enters {} through subnet {} ({})",
                topo.name(tgw),
                topo.name(s.res),
                s.availability_zone
            )
        },
    );
    d.next(
        p,
        Node::TgwRoute {
            attachment: a,
            entry_az: Some(subnet.az),
        },
    );
}

/// `TgwArrive`: a walk that starts at attachment `a` (`--from` an attachment).
pub(super) fn arrive<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, a: TgwAttachmentIdx) {
    let topo = d.topo();
    let att = &topo.tgw_attachments[a];
    if let AttachmentKind::Vpn(conn) = att.kind {
        d.next(p, Node::FromOnPrem { conn });
        return;
    }
    let az = att.subnets.first().map(|&s| topo.subnets[s].az);
    d.hop(&p, att.res, Stage::Origin, Action::Forward, None, |_| {
        format!(
            "arrives at {} from the attachment",
            topo.name(topo.transit_gateways[att.tgw].res)
        )
    });
    d.next(
        p,
        Node::TgwRoute {
            attachment: a,
            entry_az: az,
        },
    );
}

/// `TgwRoute`: the transit gateway route table associated with attachment `a` decides (SPEC
/// §9.2); `entry_az` is the Availability Zone the packet entered in (none from a VPN).
pub(super) fn route<'t, D: Driver<'t>>(
    d: &mut D,
    mut p: D::Packet,
    a: TgwAttachmentIdx,
    entry_az: Option<u32>,
) {
    let topo = d.topo();
    let att = &topo.tgw_attachments[a];
    let tgw = topo.transit_gateways[att.tgw].res;
    if d.longer_than(&p, TGW_MTU) {
        d.drop(
            p,
            DropReason::TgwMtuExceeded,
            att.res,
            Stage::TgwAttachment,
            None,
            |h| {
                format!(
                    "{} bytes is more than the transit gateway's {TGW_MTU}-byte MTU: dropped, not fragmented, no ICMP sent back",
                    h.len
                )
            },
        );
        return;
    }
    if !d.spend_forward(&mut p) {
        d.drop(
            p,
            DropReason::TtlExceeded,
            tgw,
            Stage::TgwRoute,
            None,
            |_| format!("more than {MAX_FORWARDS} forwarding steps: routing loop"),
        );
        return;
    }
    let Some(rt_idx) = att.route_table else {
        d.drop(
            p,
            DropReason::TgwNoAssociation,
            att.res,
            Stage::TgwRoute,
            None,
            |_| "the attachment is associated with no transit gateway route table".into(),
        );
        return;
    };
    let rt = &topo.tgw_route_tables[rt_idx];
    for (ri, mut p) in d.split(p, Field::Dst, rt) {
        let Some(ri) = ri else {
            d.drop(
                p,
                DropReason::TgwNoRoute,
                rt.res,
                Stage::TgwRoute,
                None,
                |h| format!("no transit gateway route matches {}", h.dst),
            );
            continue;
        };
        let route = &rt.routes[ri as usize];
        let text = D::TRACING.then(|| describe_tgw_route(topo, route));
        let b = match route.target {
            TgwRouteTarget::Blackhole => {
                d.drop(
                    p,
                    DropReason::TgwBlackholeRoute,
                    rt.res,
                    Stage::TgwRoute,
                    text,
                    |_| "blackhole route: the transit gateway drops matching packets".into(),
                );
                continue;
            }
            TgwRouteTarget::Attachment(b) => b,
        };
        d.hop(&p, rt.res, Stage::TgwRoute, Action::Forward, text, |_| {
            "longest prefix match".into()
        });
        // Security-group information does not cross a transit gateway (SG referencing support
        // is off by default, SPEC §4.3): references no longer match, as after an appliance.
        d.set_via_appliance(&mut p);
        let to = &topo.tgw_attachments[b];
        match to.kind {
            AttachmentKind::Vpc(_) => {
                for (s, p) in d.tgw_egress_subnet(p, b, entry_az) {
                    d.hop(&p, to.res, Stage::TgwAttachment, Action::Forward, None, |_| {
                        let sub = &topo.subnets[s];
                        let how = if to.appliance_mode {
                            "appliance mode: zone chosen by flow hash"
                        } else if entry_az == Some(sub.az) {
                            "same Availability Zone as it entered"
                        } else {
                            "the attachment has no subnet in the zone it entered: zone chosen by flow hash"
                        };
                        format!(
                            "leaves {} through subnet {} ({}; {how})",
                            topo.name(tgw),
                            topo.name(sub.res),
                            sub.availability_zone
                        )
                    });
                    d.next(p, Node::FromTgw { subnet: s });
                }
            }
            AttachmentKind::Vpn(c) => {
                d.hop(
                    &p,
                    to.res,
                    Stage::TgwAttachment,
                    Action::Forward,
                    None,
                    |_| format!("leaves {} into the VPN connection", topo.name(tgw)),
                );
                vpn::exit(d, p, c, topo.vpn_connections[c].res);
            }
            AttachmentKind::Peering { peer, cross_region } => {
                to_peer(d, p, b, peer, (!cross_region).then_some(entry_az).flatten());
            }
        }
    }
}

/// A route sends the packet out through peering attachment side `b`: it arrives at the peer
/// transit gateway from side `peer`, whose associated route table decides there (SPEC §9.2).
/// Within a Region the flow keeps the zone it entered in; across Regions zones do not carry
/// over.
fn to_peer<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    b: TgwAttachmentIdx,
    peer: TgwAttachmentIdx,
    entry_az: Option<u32>,
) {
    let topo = d.topo();
    let (from, to) = (&topo.tgw_attachments[b], &topo.tgw_attachments[peer]);
    d.hop(
        &p,
        from.res,
        Stage::TgwAttachment,
        Action::Forward,
        None,
        |_| {
            format!(
                "leaves {} through the peering attachment and arrives at {}",
                topo.name(topo.transit_gateways[from.tgw].res),
                topo.name(topo.transit_gateways[to.tgw].res)
            )
        },
    );
    d.next(
        p,
        Node::TgwRoute {
            attachment: peer,
            entry_az,
        },
    );
}

/// `FromTgw`: a packet leaves a transit gateway into a VPC through attachment subnet `s`. The
/// subnet's route table routes it (its local route delivers into the VPC; other routes send it
/// on, as inspection VPCs do); a destination inside the attachment subnet itself is reached
/// without any NACL (SPEC §3.2).
pub(super) fn into_vpc<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, s: SubnetIdx) {
    let subnet = &d.topo().subnets[s];
    let (inside, outside) = within(d, p, Field::Dst, subnet);
    if let Some(p) = inside {
        interface::in_subnet(d, p, s, false);
    }
    if let Some(p) = outside {
        d.next(
            p,
            Node::Route {
                subnet: s,
                from: None,
            },
        );
    }
}
