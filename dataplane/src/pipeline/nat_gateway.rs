//! NAT gateways (SPEC §7): port address translation of clients' packets to the gateway's
//! address, replies translated back, unsolicited inbound packets dropped. The NAT subnet's
//! network ACL applies on both legs.

use super::driver::{rewritten, Driver};
use super::{network_acl, Node};
use crate::state::nat::{NatError, Translatable};
use crate::topology::{NatGateway, NatIdx, SubnetIdx};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};

/// `NatOut`: a client's packet reaches NAT gateway `n` through a route of `from_subnet`.
pub(super) fn outbound<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    n: NatIdx,
    from_subnet: SubnetIdx,
) {
    let topo = d.topo();
    let nat = &topo.nat_gateways[n];
    if topo.subnets[nat.subnet].vpc != topo.subnets[from_subnet].vpc {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            nat.res,
            Stage::NatGateway,
            None,
            |_| "the NAT gateway is in another VPC".into(),
        );
        return;
    }
    let p = if from_subnet != nat.subnet {
        match network_acl::ingress(d, p, nat.subnet, Some(nat.eni)) {
            Some(p) => p,
            None => return,
        }
    } else {
        p
    };
    d.observe(&p, nat.eni, FlowDirection::Ingress, FlowAction::Accept);
    let fragmented = d.fragmented(&p);
    let decided = d.decide(p, &Translatable { fragmented });
    if let Some((p, _)) = decided.fail {
        d.drop(
            p,
            DropReason::NatUnsupported,
            nat.res,
            Stage::NatGateway,
            None,
            |h| {
                if h.is_v6() {
                    "IPv6 is not translated (NAT64 is not modelled)".into()
                } else if fragmented {
                    "fragmented TCP and ICMP packets are dropped (only UDP fragments pass)".into()
                } else {
                    "only TCP, UDP and ICMP echo are translated".into()
                }
            },
        );
    }
    let Some((mut p, _)) = decided.pass else {
        return;
    };
    let before = d.header_now(&p);
    match d.nat_outbound(&mut p, n) {
        Ok(new) => {
            let detail = rewritten(before, |b, a| {
                format!(
                    "{} source {}:{} → {}:{}",
                    if new {
                        "new translation:"
                    } else {
                        "translation:"
                    },
                    b.src,
                    b.src_port,
                    a.src,
                    a.src_port
                )
            });
            continue_translated(d, p, nat, detail);
        }
        Err(NatError::NoSession) => {
            d.drop(p, DropReason::NatNoSession, nat.res, Stage::NatGateway, None, |_| {
                "TCP segment without SYN and no translation (idle > 350 s?): the NAT gateway answers with RST".into()
            });
        }
        Err(NatError::TableFull) => {
            d.drop(p, DropReason::NatTableFull, nat.res, Stage::NatGateway, None, |_| {
                "the simulator's NAT session table is full (--nat-capacity): new connection refused".into()
            });
        }
        Err(NatError::PortsExhausted) => {
            d.drop(
                p,
                DropReason::NatPortsExhausted,
                nat.res,
                Stage::NatGateway,
                None,
                |h| {
                    format!(
                    "every address already has 55,000 connections to {}:{} (ErrorPortAllocation)",
                    h.dst, h.dst_port
                )
                },
            );
        }
    }
}

/// `NatIn`: a packet reaches NAT gateway `n`'s interface from the outside: translated back
/// when it answers a session, dropped otherwise.
pub(super) fn inbound<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, n: NatIdx) {
    let topo = d.topo();
    let nat = &topo.nat_gateways[n];
    d.observe(&p, nat.eni, FlowDirection::Ingress, FlowAction::Accept);
    let fragmented = d.fragmented(&p);
    let decided = d.decide(p, &Translatable { fragmented });
    if let Some((p, _)) = decided.fail {
        d.drop(
            p,
            DropReason::NatUnsupported,
            nat.res,
            Stage::NatGateway,
            None,
            |_| "only TCP, UDP and ICMP echo are translated".into(),
        );
    }
    let Some((p, _)) = decided.pass else {
        return;
    };
    let before = d.header_now(&p);
    for (translated, p) in d.nat_inbound(p, n) {
        if !translated {
            d.drop(
                p,
                DropReason::NatNoSession,
                nat.res,
                Stage::NatGateway,
                None,
                |_| "no translation matches: NAT gateways drop unsolicited inbound packets".into(),
            );
            continue;
        }
        let detail = rewritten(before, |b, a| {
            format!(
                "destination {}:{} → {}:{}",
                b.dst, b.dst_port, a.dst, a.dst_port
            )
        });
        continue_translated(d, p, nat, detail);
    }
}

/// A translated packet continues from the NAT gateway's subnet, its route table deciding (the
/// translation is the hop).
fn continue_translated<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    nat: &NatGateway,
    detail: impl FnOnce(&crate::wire::Header) -> String,
) {
    d.hop(
        &p,
        nat.res,
        Stage::NatGateway,
        Action::Translate,
        None,
        detail,
    );
    d.next(
        p,
        Node::Route {
            subnet: nat.subnet,
            from: Some(nat.eni),
        },
    );
}
