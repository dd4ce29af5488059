//! Transit gateways: the attachment subnet, association, propagation or route that carries the
//! packet on.

use super::{Drop, Finding};
use ipnet::IpNet;
use std::net::IpAddr;
use vpcsim_controlplane::fix::Change;
use vpcsim_dataplane::topology::tgw::{AttachmentKind, TgwRouteTarget};
use vpcsim_dataplane::topology::{SubnetIdx, TgwAttachmentIdx, TgwIdx, TgwRouteTableIdx};
use vpcsim_dataplane::trace::{Hop, Stage};
use vpcsim_dataplane::{DropReason, Topology};

/// A transit gateway attachment without a subnet in the sender's zone: that subnet added.
pub(super) fn tgw_no_attachment_in_az(d: &Drop) -> Finding {
    let Drop {
        topo, v, hops, h, ..
    } = *d;
    let mut fix = None;
    let message = {
        let a = topo.tgw_attachment_by_resource(v.at);
        let from = sending_subnet(topo, hops, h.src);
        if let (Some(a), Some(s)) = (a, from) {
            fix = Some(Change::AddTgwAttachmentSubnet {
                attachment: a.index(),
                subnet: s.index(),
            });
        }
        let zone = from.map_or("?", |s| topo.subnets[s].availability_zone.as_str());
        format!(
            "transit gateway attachment {} has no subnet in {zone}: subnets of that zone cannot send to the transit gateway",
            topo.name(v.at)
        )
    };
    Finding {
        message,
        fix,
        no_fix: None,
    }
}

/// A transit gateway attachment associated with no route table: an association.
pub(super) fn tgw_no_association(d: &Drop) -> Finding {
    let Drop { topo, v, h, .. } = *d;
    let mut fix = None;
    let mut no_fix = None;
    let message = {
        let peering = |a: TgwAttachmentIdx| {
            matches!(topo.tgw_attachments[a].kind, AttachmentKind::Peering { .. })
        };
        // A peering attachment has a side on each transit gateway: the drop does not say
        // which side's association is missing, so no automatic fix.
        if let Some(a) = topo
            .tgw_attachment_by_resource(v.at)
            .filter(|&a| !peering(a))
        {
            let tgw = topo.tgw_attachments[a].tgw;
            let tables: Vec<TgwRouteTableIdx> = topo
                .tgw_route_tables
                .iter_enumerated()
                .filter(|(_, t)| t.tgw == tgw)
                .map(|(t, _)| t)
                .collect();
            // Prefer a table that already routes the destination somewhere.
            let routes = |t: &TgwRouteTableIdx| {
                topo.tgw_route_tables[*t]
                    .lookup(h.dst)
                    .is_some_and(|r| matches!(r.target, TgwRouteTarget::Attachment(_)))
            };
            match tables.iter().find(|t| routes(t)).or(tables.first()) {
                    Some(&table) => {
                        fix = Some(Change::AssociateTgwRouteTable {
                            attachment: a.index(),
                            table: table.index(),
                        })
                    }
                    None => no_fix = Some("the transit gateway has no route table: add an AWS::EC2::TransitGatewayRouteTable and associate the attachment with it"),
                }
        }
        format!(
            "transit gateway attachment {} is associated with no route table, so the transit gateway cannot route what arrives from it",
            topo.name(v.at)
        )
    };
    Finding {
        message,
        fix,
        no_fix,
    }
}

/// A transit gateway route table with no route, or a blackhole: a propagation or a static route to
/// the attachment that leads there.
pub(super) fn tgw_route(d: &Drop) -> Finding {
    let Drop {
        topo, v, h, reason, ..
    } = *d;
    let mut fix = None;
    let mut no_fix = None;
    let message = {
        let table = topo.tgw_route_tables.position(|t| t.res == v.at);
        let towards =
            table.and_then(|t| attachment_towards(topo, topo.tgw_route_tables[t].tgw, h.dst));
        match (table, towards) {
            (Some(t), Some((b, prefix))) => {
                let vpc_attachment = matches!(topo.tgw_attachments[b].kind, AttachmentKind::Vpc(_));
                fix = Some(if reason == DropReason::TgwNoRoute && vpc_attachment {
                    Change::AddTgwPropagation {
                        attachment: b.index(),
                        table: t.index(),
                    }
                } else {
                    // A static route for the destination's network, more specific than
                    // (or replacing) the blackhole, which keeps dropping the rest.
                    Change::SetTgwRoute {
                        table: t.index(),
                        destination: prefix,
                        attachment: b.index(),
                    }
                });
            }
            _ => no_fix = Some("no attachment of the transit gateway leads to this destination"),
        }
        if reason == DropReason::TgwNoRoute {
            format!(
                "transit gateway route table {} has no route for {}",
                topo.name(v.at),
                h.dst
            )
        } else {
            format!(
                "the best route of transit gateway route table {} for {} is a blackhole route",
                topo.name(v.at),
                h.dst
            )
        }
    };
    Finding {
        message,
        fix,
        no_fix,
    }
}

/// The attachment of transit gateway `tgw` that leads to `dst` (the VPC whose CIDRs hold it, the
/// VPN connection whose on-premises prefixes do, or a peering to a transit gateway with such an
/// attachment), with that covering prefix. A peering is named by its requester's side, the
/// index the model's attachment has.
fn attachment_towards(
    topo: &Topology,
    tgw: TgwIdx,
    dst: IpAddr,
) -> Option<(TgwAttachmentIdx, IpNet)> {
    let mut best: Option<(TgwAttachmentIdx, IpNet)> = None;
    for (i, a) in topo.tgw_attachments.iter_enumerated() {
        if a.tgw != tgw {
            continue;
        }
        let (named, prefixes) = match a.kind {
            AttachmentKind::Peering { peer, .. } => {
                let far = topo.tgw_attachments[peer].tgw;
                let behind = topo
                    .tgw_attachments
                    .iter()
                    .filter(|b| b.tgw == far)
                    .flat_map(|b| attached_prefixes(topo, b.kind))
                    .collect();
                (i.min(peer), behind)
            }
            kind => (i, attached_prefixes(topo, kind)),
        };
        for p in prefixes.into_iter().filter(|p| p.contains(&dst)) {
            if best.is_none_or(|(_, b)| p.prefix_len() > b.prefix_len()) {
                best = Some((named, p));
            }
        }
    }
    best
}

/// The prefixes a VPC or VPN attachment leads to; none for a peering (no transit routing
/// through a third transit gateway is suggested).
fn attached_prefixes(topo: &Topology, kind: AttachmentKind) -> Vec<IpNet> {
    match kind {
        AttachmentKind::Vpc(v) => {
            let v = &topo.vpcs[v];
            v.cidrs_v4
                .iter()
                .map(|c| IpNet::V4(*c))
                .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)))
                .collect()
        }
        AttachmentKind::Vpn(c) => topo.vpn_connections[c].prefixes.clone(),
        AttachmentKind::Peering { .. } => vec![],
    }
}

/// The subnet the packet was last sent from: the interface (instance or appliance) or NAT
/// gateway of the latest hop that forwarded it.
fn sending_subnet(topo: &Topology, hops: &[Hop], src: IpAddr) -> Option<SubnetIdx> {
    for h in hops.iter().rev() {
        match h.stage {
            Stage::Origin | Stage::Appliance => {
                if let Some(e) = topo.eni_by_resource(h.resource) {
                    return Some(topo.enis[e].subnet);
                }
            }
            Stage::NatGateway => {
                if let Some(n) = topo.nat_gateways.iter().find(|n| n.res == h.resource) {
                    return Some(n.subnet);
                }
            }
            _ => {}
        }
    }
    topo.owner_of(src).map(|e| topo.enis[e].subnet)
}
