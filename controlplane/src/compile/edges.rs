//! The edges of the VPCs: transit gateways with their attachments and route tables, virtual
//! private gateways, customer gateways and Site-to-Site VPN connections.

use super::route_tables::gateway_route_table;
use super::{res, resources};
use crate::model::{self, EdgeGateway, Model, TgwAttachmentKind};
use ipnet::IpNet;
use vpcsim_dataplane::topology::tgw::{
    AttachmentKind, PrefixMap, TgwAttachment, TgwRoute, TgwRouteOrigin, TgwRouteTable,
    TgwRouteTarget, TransitGateway,
};
use vpcsim_dataplane::topology::vpn::{VpnConnection, VpnEdge, VpnGateway};
use vpcsim_dataplane::topology::{
    SubnetIdx, TgwAttachmentIdx, TgwRouteTableIdx, Topology, VpcIdx, VpnConnIdx,
};

/// Transit gateways, their attachments and their route tables.
pub(super) fn transit_gateways(model: &Model, topo: &mut Topology) {
    for g in &model.transit_gateways {
        let r = res(topo, &g.origin);
        topo.transit_gateways.push(TransitGateway { res: r });
    }
    // A peering attachment is one resource seen by two transit gateways: the requester's side
    // keeps the model's index, the accepter's side follows all the model's attachments.
    let accepter_sides = accepter_sides(model);
    let mut accepters = Vec::new();
    for (i, a) in model.tgw_attachments.iter().enumerate() {
        let r = res(topo, &a.origin);
        let (kind, subnets) = match &a.kind {
            TgwAttachmentKind::Vpc { vpc, subnets } => (
                AttachmentKind::Vpc(VpcIdx::from(*vpc)),
                subnets.iter().map(|&s| SubnetIdx::from(s)).collect(),
            ),
            TgwAttachmentKind::Vpn(c) => (AttachmentKind::Vpn(VpnConnIdx::from(*c)), vec![]),
            TgwAttachmentKind::Peering {
                peer_tgw,
                peer_region,
                peer_association,
            } => {
                let cross_region = *peer_region != model.templates[a.origin.template].region;
                accepters.push(TgwAttachment {
                    res: r,
                    tgw: (*peer_tgw).into(),
                    kind: AttachmentKind::Peering {
                        peer: i.into(),
                        cross_region,
                    },
                    subnets: vec![],
                    appliance_mode: false,
                    route_table: peer_association.map(TgwRouteTableIdx::from),
                });
                let peer = accepter_sides[i].unwrap_or_default();
                (AttachmentKind::Peering { peer, cross_region }, vec![])
            }
        };
        topo.tgw_attachments.push(TgwAttachment {
            res: r,
            tgw: a.tgw.into(),
            kind,
            subnets,
            appliance_mode: a.appliance_mode,
            route_table: a.association.map(TgwRouteTableIdx::from),
        });
    }
    for a in accepters {
        topo.tgw_attachments.push(a);
    }
    for (t, table) in model.tgw_route_tables.iter().enumerate() {
        let r = res(topo, &table.origin);
        let mut routes = Vec::new();
        for route in &table.routes {
            let rr = res(topo, &route.origin);
            routes.push(TgwRoute {
                res: Some(rr),
                destination: route.destination,
                target: route.attachment.map_or(TgwRouteTarget::Blackhole, |a| {
                    TgwRouteTarget::Attachment(side_on(model, &accepter_sides, a, table.tgw))
                }),
                origin: TgwRouteOrigin::Static,
            });
        }
        routes.extend(tgw_propagated_routes(model, t));
        topo.tgw_route_tables
            .push(TgwRouteTable::new(r, table.tgw.into(), routes));
    }
}

/// For each model attachment that is a peering, the topology index of its accepter's side.
fn accepter_sides(model: &Model) -> Vec<Option<TgwAttachmentIdx>> {
    let mut next = model.tgw_attachments.len();
    model
        .tgw_attachments
        .iter()
        .map(|a| {
            matches!(a.kind, TgwAttachmentKind::Peering { .. }).then(|| {
                next += 1;
                TgwAttachmentIdx::from(next - 1)
            })
        })
        .collect()
}

/// The side of attachment `a` that transit gateway `tgw` sees.
fn side_on(
    model: &Model,
    accepter_sides: &[Option<TgwAttachmentIdx>],
    a: usize,
    tgw: usize,
) -> TgwAttachmentIdx {
    match (&model.tgw_attachments[a].kind, accepter_sides[a]) {
        (TgwAttachmentKind::Peering { peer_tgw, .. }, Some(side)) if *peer_tgw == tgw => side,
        _ => a.into(),
    }
}

/// The routes attachments propagate into transit gateway route table `table`: a VPC
/// attachment installs its VPC's CIDRs, a VPN attachment the prefixes its customer gateway
/// advertises over BGP (SPEC §9.2).
fn tgw_propagated_routes(model: &Model, table: usize) -> Vec<TgwRoute> {
    let mut routes = Vec::new();
    for (a, att) in model.tgw_attachments.iter().enumerate() {
        if !att.propagations.contains(&table) {
            continue;
        }
        let target = TgwRouteTarget::Attachment(a.into());
        match &att.kind {
            TgwAttachmentKind::Vpc { vpc, .. } => {
                let v = &model.vpcs[*vpc];
                let cidrs = v
                    .cidrs_v4
                    .iter()
                    .map(|c| IpNet::V4(*c))
                    .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)));
                routes.extend(cidrs.map(|destination| TgwRoute {
                    res: None,
                    destination,
                    target,
                    origin: TgwRouteOrigin::VpcPropagated,
                }));
            }
            TgwAttachmentKind::Vpn(c) => {
                let conn = &model.vpn_connections[*c];
                if conn.static_routes_only {
                    continue;
                }
                routes.extend(
                    conn.prefixes(model)
                        .into_iter()
                        .map(|destination| TgwRoute {
                            res: None,
                            destination,
                            target,
                            origin: TgwRouteOrigin::VpnPropagated,
                        }),
                );
            }
            // Peering attachments propagate nothing (SPEC §9.2); the loader refuses to record
            // a propagation for one, so this is never reached with one.
            TgwAttachmentKind::Peering { .. } => {}
        }
    }
    routes
}

/// Virtual private gateways, customer gateways and VPN connections.
pub(super) fn vpn(model: &Model, topo: &mut Topology) {
    for (g, vgw) in model.vpn_gateways.iter().enumerate() {
        let r = res(topo, &vgw.origin);
        if let Some(v) = vgw.vpc.and_then(|v| topo.vpcs.get_mut(v.into())) {
            v.vpn_gateway = Some(g.into());
        }
        let routes = PrefixMap::new(
            vgw_prefixes(model, g)
                .into_iter()
                .map(|(p, c)| (p, VpnConnIdx::from(c))),
        );
        topo.vpn_gateways.push(VpnGateway {
            res: r,
            vpc: vgw.vpc.map(VpcIdx::from),
            route_table: gateway_route_table(model, EdgeGateway::VpnGateway(g)),
            routes,
        });
    }
    let cgw_res = resources(topo, model.customer_gateways.iter().map(|c| &c.origin));
    for c in &model.vpn_connections {
        let r = res(topo, &c.origin);
        let mut prefixes = c.prefixes(model);
        let edge = match c.edge {
            model::VpnEdge::VpnGateway(g) => VpnEdge::VpnGateway(g.into()),
            model::VpnEdge::TransitGateway { attachment, .. } => {
                // Static routes of a VPN on a transit gateway live in its route tables.
                for table in &model.tgw_route_tables {
                    for route in &table.routes {
                        if route.attachment == Some(attachment)
                            && !prefixes.contains(&route.destination)
                        {
                            prefixes.push(route.destination);
                        }
                    }
                }
                VpnEdge::TransitGateway {
                    attachment: attachment.into(),
                }
            }
        };
        topo.vpn_connections.push(VpnConnection {
            res: r,
            customer_gateway: cgw_res[c.customer_gateway],
            edge,
            prefixes,
        });
    }
}

/// Every on-premises prefix behind a virtual private gateway, with the connection that reaches
/// it: static VPN routes before BGP-learned ones, since a VGW prefers them for the same prefix
/// (SPEC §14.6).
pub(super) fn vgw_prefixes(model: &Model, g: usize) -> Vec<(IpNet, usize)> {
    let mut out = Vec::new();
    for static_first in [true, false] {
        for (i, c) in model.vpn_connections.iter().enumerate() {
            if c.edge == model::VpnEdge::VpnGateway(g) && c.static_routes_only == static_first {
                out.extend(c.prefixes(model).into_iter().map(|p| (p, i)));
            }
        }
    }
    out
}
