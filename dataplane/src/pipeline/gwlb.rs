//! Gateway Load Balancers (SPEC §10.3, §11.4): a route sends the packet to a GWLB endpoint; the
//! endpoint service's load balancer node in the endpoint's zone picks an appliance by symmetric
//! flow hash and sends it the packet GENEVE-encapsulated (UDP 6081 from the node's address: the
//! appliance subnet's NACLs and the appliance's security groups see that outer packet); the
//! appliance returns it unchanged, the node decapsulates it, and it continues from the endpoint
//! with the endpoint subnet's route table. `crate::topology::gwlb` holds the tables.

use super::driver::{Driver, GeneveTo};
use super::security_group::{self, Direction};
use super::{network_acl, Node};
use crate::aws::MAX_FORWARDS;
use crate::topology::gwlb::{GwlbEndpoint, GwlbNode, NoTarget, Stickiness};
use crate::topology::nlb::Choice;
use crate::topology::{GwlbEndpointIdx, GwlbTargetGroupIdx, SubnetIdx, VpcIdx};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};
use crate::wire::geneve;

/// `GwlbEndpoint`: a route of `vpc` (from `from_subnet`, or from a gateway route table when
/// `None`) sends the packet to GWLB endpoint `x`.
pub(super) fn endpoint<'t, D: Driver<'t>>(
    d: &mut D,
    mut p: D::Packet,
    x: GwlbEndpointIdx,
    vpc: VpcIdx,
    from_subnet: Option<SubnetIdx>,
) {
    let topo = d.topo();
    let ep = &topo.gwlb.endpoints[x];
    if ep.vpc != vpc {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            ep.res,
            Stage::GwlbEndpoint,
            None,
            |_| "the Gateway Load Balancer endpoint is in another VPC".into(),
        );
        return;
    }
    if !d.spend_forward(&mut p) {
        d.drop(
            p,
            DropReason::TtlExceeded,
            ep.res,
            Stage::GwlbEndpoint,
            None,
            |_| format!("more than {MAX_FORWARDS} forwarding steps: routing loop"),
        );
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
    let lb = &topo.gwlb.load_balancers[ep.load_balancer];
    d.hop(
        &p,
        ep.res,
        Stage::GwlbEndpoint,
        Action::Forward,
        None,
        |_| {
            format!(
                "to endpoint service {} of {}",
                topo.name(ep.service),
                topo.name(lb.res)
            )
        },
    );
    if d.longer_than(&p, geneve::GWLB_MTU) {
        d.drop(p, DropReason::GwlbMtuExceeded, lb.res, Stage::Gwlb, None, |h| {
            format!(
                "{} bytes is more than the load balancer's {}-byte MTU: dropped, not fragmented, no ICMP sent back",
                h.len,
                geneve::GWLB_MTU
            )
        });
        return;
    }
    let Some(node) = topo.gwlb.node_for(topo, x) else {
        d.drop(
            p,
            DropReason::GwlbNoTarget,
            lb.res,
            Stage::Gwlb,
            None,
            |_| "the Gateway Load Balancer has no node".into(),
        );
        return;
    };
    let stickiness = lb.target_group.map_or(Stickiness::FiveTuple, |g| {
        topo.gwlb.target_groups[g].stickiness
    });
    for (chosen, p) in d.gwlb_choose(p, ep.load_balancer, node.az, stickiness) {
        match chosen {
            Ok((tg, choice)) => through_appliance(d, p, ep, node, tg, choice, stickiness),
            Err(why) => {
                let at = lb
                    .target_group
                    .map_or(lb.res, |g| topo.gwlb.target_groups[g].res);
                let zone = &topo.subnets[node.subnet].availability_zone;
                let listener = lb.target_group.is_some();
                d.drop(p, DropReason::GwlbNoTarget, at, Stage::Gwlb, None, |_| match why {
                    NoTarget::NoneRegistered if !listener => {
                        "the Gateway Load Balancer has no listener".into()
                    }
                    NoTarget::NoneRegistered => {
                        "the target group has no registered appliance".into()
                    }
                    NoTarget::NoneInZone => format!(
                        "no appliance in {zone}, the node's Availability Zone, and cross-zone load balancing is off"
                    ),
                    NoTarget::NoneHealthyInZone => format!(
                        "every appliance in {zone} is unhealthy while others elsewhere are healthy, and cross-zone load balancing is off"
                    ),
                });
            }
        }
    }
}

/// Node → appliance inside the appliance VPC (local route): both subnets' NACLs, then the
/// appliance's security groups, which must admit UDP 6081 from the node; the appliance returns
/// the datagram, which passes the same the other way, and the node decapsulates it.
fn through_appliance<'t, D: Driver<'t>>(
    d: &mut D,
    mut p: D::Packet,
    ep: &GwlbEndpoint,
    node: GwlbNode,
    tg: GwlbTargetGroupIdx,
    choice: Choice,
    stickiness: Stickiness,
) {
    let topo = d.topo();
    let lb = &topo.gwlb.load_balancers[ep.load_balancer];
    let g = &topo.gwlb.target_groups[tg];
    let t = &g.targets[choice.target as usize];
    d.hop(&p, lb.res, Stage::Gwlb, Action::Forward, None, |_| {
        let how = if choice.fail_open {
            format!("all {} appliances unhealthy: fail open", choice.among)
        } else {
            format!("one of {} healthy", choice.among)
        };
        format!(
            "node {} ({}): target group {}, appliance {} {} ({} flow hash, {how})",
            node.addr,
            topo.subnets[node.subnet].availability_zone,
            topo.name(g.res),
            topo.name(t.res),
            t.addr,
            stickiness.as_str()
        )
    });
    let enc = d.encapsulate(
        &mut p,
        GeneveTo {
            appliance: t.eni,
            node: node.addr,
            target: t.addr,
            stickiness,
            endpoint_id: ep.endpoint_id,
            attachment_id: ep.attachment_id,
        },
    );
    d.hop(&p, lb.res, Stage::GeneveEncap, Action::Translate, None, |_| {
        enc.map_or_else(String::new, |enc| {
            format!(
                "GENEVE: outer {}:{} → {}:{} UDP, option class 0x{:04x}: endpoint id {:016x}, attachment id {:016x}, flow cookie {:08x} (+{} bytes)",
                enc.outer_src,
                enc.src_port,
                enc.outer_dst,
                geneve::PORT,
                geneve::AWS_OPTION_CLASS,
                enc.endpoint_id,
                enc.attachment_id,
                enc.flow_cookie,
                geneve::OVERHEAD
            )
        })
    });
    let e = &topo.enis[t.eni];
    let crosses = node.subnet != e.subnet;
    let p = if crosses {
        network_acl::egress(d, p, node.subnet, None)
            .and_then(|p| network_acl::ingress(d, p, e.subnet, Some(t.eni)))
    } else {
        Some(p)
    };
    let Some(p) = p.and_then(|p| security_group::check(d, p, t.eni, Direction::Ingress)) else {
        return;
    };
    d.observe(&p, t.eni, FlowDirection::Ingress, FlowAction::Accept);
    d.hop(&p, t.res, Stage::Appliance, Action::Forward, None, |_| {
        "appliance inspects the packet and returns it unchanged (bump in the wire)".into()
    });
    // The appliance sends the datagram back to the node: a reply of the GENEVE flow.
    let mut p = p;
    d.turn_around(&mut p);
    let Some(p) = security_group::check(d, p, t.eni, Direction::Egress) else {
        return;
    };
    d.observe(&p, t.eni, FlowDirection::Egress, FlowAction::Accept);
    let p = if crosses {
        network_acl::egress(d, p, e.subnet, Some(t.eni))
            .and_then(|p| network_acl::ingress(d, p, node.subnet, None))
    } else {
        Some(p)
    };
    let Some(mut p) = p else { return };
    d.decapsulate(&mut p);
    d.set_via_appliance(&mut p);
    d.hop(
        &p,
        ep.res,
        Stage::GeneveDecap,
        Action::Forward,
        None,
        |_| {
            format!(
                "decapsulated and back at the endpoint: continues with the route table of {}",
                topo.name(topo.subnets[ep.subnet].res)
            )
        },
    );
    d.next(
        p,
        Node::Route {
            subnet: ep.subnet,
            from: None,
        },
    );
}
