//! Site-to-Site VPN edges (SPEC §2.7, §2.8, §14.6): virtual private gateways forward only
//! between their VPC and the on-premises prefixes of their VPN connections (no transit);
//! connections on a transit gateway are attachments of it.

use super::driver::{within, Driver, Field};
use super::route_table::deliver_in_vpc;
use super::Node;
use crate::topology::maps::{VpcInterfaces, VpcRanges};
use crate::topology::vpn::VpnEdge;
use crate::topology::{ResId, VgwIdx, VpcIdx, VpnConnIdx};
use crate::trace::{Action, Stage};
use crate::verdict::DropReason;

/// `VgwOut`: a route of `vpc` sends the packet to virtual private gateway `g`: only traffic from
/// its own VPC, only to prefixes its VPN connections reach.
pub(super) fn vgw_egress<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, g: VgwIdx, vpc: VpcIdx) {
    let topo = d.topo();
    let vgw = &topo.vpn_gateways[g];
    if vgw.vpc != Some(vpc) {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            vgw.res,
            Stage::VpnGateway,
            None,
            |_| "the virtual private gateway is not attached to this VPC".into(),
        );
        return;
    }
    let v = &topo.vpcs[vpc];
    let (ours, foreign) = within(d, p, Field::Src, &VpcInterfaces(v));
    if let Some(p) = foreign {
        d.drop(
            p,
            DropReason::VgwSourceNotInVpc,
            vgw.res,
            Stage::VpnGateway,
            None,
            |h| {
                format!(
                    "{} is not an address of an interface in the gateway's VPC",
                    h.src
                )
            },
        );
    }
    let Some(p) = ours else { return };
    for (c, p) in d.split(p, Field::Dst, &vgw.routes) {
        let Some(c) = c else {
            d.drop(
                p,
                DropReason::VgwNoRoute,
                vgw.res,
                Stage::VpnGateway,
                None,
                |h| {
                    let why = if h.is_v6() {
                        "Site-to-Site VPN carries no IPv6"
                    } else {
                        "not an on-premises prefix of its VPN connections"
                    };
                    format!(
                        "the virtual private gateway has no route for {}: {why}",
                        h.dst
                    )
                },
            );
            continue;
        };
        d.hop(
            &p,
            vgw.res,
            Stage::VpnGateway,
            Action::Forward,
            None,
            |_| format!("to {}", topo.name(topo.vpn_connections[c].res)),
        );
        exit(d, p, c, vgw.res);
    }
}

/// The packet leaves through VPN connection `c` to the on-premises network (`egress` is what
/// the verdict names: the virtual private gateway, or the connection on a transit gateway).
pub(super) fn exit<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, c: VpnConnIdx, egress: ResId) {
    let topo = d.topo();
    let conn = &topo.vpn_connections[c];
    d.hop(&p, conn.res, Stage::Exit, Action::Exit, None, |_| {
        format!(
            "to on-premises through customer gateway {}",
            topo.name(conn.customer_gateway)
        )
    });
    d.exit(p, egress, Some(c));
}

/// `FromOnPrem`: a packet from the on-premises network behind VPN connection `c`.
pub(super) fn from_onprem<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, c: VpnConnIdx) {
    let topo = d.topo();
    let conn = &topo.vpn_connections[c];
    d.hop(
        &p,
        conn.customer_gateway,
        Stage::Origin,
        Action::Forward,
        None,
        |_| format!("arrives from on-premises through {}", topo.name(conn.res)),
    );
    match conn.edge {
        VpnEdge::VpnGateway(vgw) => d.next(p, Node::VgwIn { vgw }),
        VpnEdge::TransitGateway { attachment } => {
            let att = &topo.tgw_attachments[attachment];
            d.hop(
                &p,
                att.res,
                Stage::TgwAttachment,
                Action::Forward,
                None,
                |_| format!("enters {}", topo.name(topo.transit_gateways[att.tgw].res)),
            );
            d.next(
                p,
                Node::TgwRoute {
                    attachment,
                    entry_az: None,
                },
            );
        }
    }
}

/// `VgwIn`: a packet from a VPN connection reaches virtual private gateway `g`: it forwards only
/// into its VPC, through the gateway route table when there is one.
pub(super) fn vgw_ingress<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, g: VgwIdx) {
    let topo = d.topo();
    let vgw = &topo.vpn_gateways[g];
    let refuse = |d: &mut D, p: D::Packet| {
        d.drop(
            p,
            DropReason::VgwNoRoute,
            vgw.res,
            Stage::VpnGateway,
            None,
            |h| {
                format!(
                    "{} is not inside the virtual private gateway's VPC: it forwards nowhere else",
                    h.dst
                )
            },
        )
    };
    let Some(vpc) = vgw.vpc else {
        refuse(d, p);
        return;
    };
    let v = &topo.vpcs[vpc];
    let (inside, outside) = within(d, p, Field::Dst, &VpcRanges(v));
    if let Some(p) = outside {
        refuse(d, p);
    }
    let Some(p) = inside else { return };
    d.hop(
        &p,
        vgw.res,
        Stage::VpnGateway,
        Action::Forward,
        None,
        |_| format!("into {}", topo.name(v.res)),
    );
    match vgw.route_table {
        Some(rt) => d.next(
            p,
            Node::EdgeRoute {
                rt,
                vpc,
                gateway: vgw.res,
                from_internet: false,
            },
        ),
        None => deliver_in_vpc(
            d,
            p,
            vpc,
            None,
            vgw.res,
            Stage::VpnGateway,
            "no network interface in the VPC has address",
        ),
    }
}
