//! Appliances (SPEC §2.6): a route (or a gateway route table) points at a network interface of
//! a firewall or router instance. It receives the packet through its subnet's NACL and its
//! security groups and, with source/destination check off, forwards it: TTL − 1, and
//! security-group references no longer match the forwarded packet.

use super::driver::{within, Driver, Field};
use super::security_group::{self, Direction};
use super::{interface, network_acl, Node};
use crate::aws::MAX_FORWARDS;
use crate::topology::maps::OwnAddresses;
use crate::topology::{EniIdx, EniKind, SubnetIdx, VpcIdx};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};

/// `Appliance`: a route of `vpc` (from `from_subnet`, or from a gateway route table when
/// `None`) sends the packet to interface `a`.
pub(super) fn appliance<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    a: EniIdx,
    vpc: VpcIdx,
    from_subnet: Option<SubnetIdx>,
) {
    let topo = d.topo();
    let e = &topo.enis[a];
    if e.vpc != vpc {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            e.owner,
            Stage::Appliance,
            None,
            |_| "the network interface is in another VPC".into(),
        );
        return;
    }
    if matches!(e.kind, EniKind::NatGateway(_)) {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            e.owner,
            Stage::Appliance,
            None,
            |_| "route to a NAT gateway's interface: target the NAT gateway instead".into(),
        );
        return;
    }
    let p = if from_subnet != Some(e.subnet) {
        match network_acl::ingress(d, p, e.subnet, Some(a)) {
            Some(p) => p,
            None => return,
        }
    } else {
        p
    };
    let Some(p) = security_group::check(d, p, a, Direction::Ingress) else {
        return;
    };
    let (mine, p) = within(d, p, Field::Dst, &OwnAddresses(e));
    if let Some(p) = mine {
        d.observe(&p, a, FlowDirection::Ingress, FlowAction::Accept);
        interface::deliver(d, p, a);
    }
    let Some(mut p) = p else { return };
    d.observe(&p, a, FlowDirection::Ingress, FlowAction::Accept);
    if e.source_dest_check {
        d.drop(p, DropReason::SourceDestCheck, e.owner, Stage::SourceDestCheck, None, |h| {
            format!("routed here for {}, but source/destination check is on: disable it on appliances", h.dst)
        });
        return;
    }
    if d.ttl_expired(&p) {
        d.drop(
            p,
            DropReason::TtlExceeded,
            e.owner,
            Stage::Appliance,
            None,
            |_| "TTL expired at the appliance".into(),
        );
        return;
    }
    if !d.spend_forward(&mut p) {
        d.drop(
            p,
            DropReason::TtlExceeded,
            e.owner,
            Stage::Appliance,
            None,
            |_| format!("more than {MAX_FORWARDS} forwarding steps: routing loop"),
        );
        return;
    }
    d.decrement_ttl(&mut p);
    d.set_via_appliance(&mut p);
    d.hop(&p, e.owner, Stage::Appliance, Action::Forward, None, |_| {
        "appliance forwards the packet (TTL − 1)".into()
    });
    d.next(
        p,
        Node::Leave {
            eni: a,
            origin: false,
        },
    );
}
