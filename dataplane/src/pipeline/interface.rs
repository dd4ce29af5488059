//! Network interfaces: a packet leaves one (an instance sends it, or an appliance forwards it),
//! enters its subnet, and arrives at another (SPEC §0.2 steps 1–3, §1.7, §4).

use super::driver::{within, Driver, Field};
use super::security_group::{self, Direction};
use super::{network_acl, nlb, Node};
use crate::aws::Zone;
use crate::pipeline::driver::{gather, Conn};
use crate::state::conntrack::Tracked;
use crate::topology::maps::{OwnAddresses, Reserved, Services, VpcInterfaces};
use crate::topology::{EniIdx, EniKind, ResId, SubnetIdx, VpcEndpointIdx};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};

/// `Leave`: a packet leaves interface `eni`: source/destination check, the link-local services
/// (answered on the host, unfiltered), interface endpoints' answer-only rule, the security
/// groups' outbound rules; a target's reply to a load-balanced flow goes back through the load
/// balancer.
pub(super) fn leave<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, eni: EniIdx, origin: bool) {
    let topo = d.topo();
    let e = &topo.enis[eni];
    if origin && D::TRACING {
        let subnet = topo.subnet_of(eni);
        d.hop(&p, e.owner, Stage::Origin, Action::Forward, None, |_| {
            format!(
                "leaves {} in subnet {}",
                topo.name(e.res),
                topo.name(subnet.res)
            )
        });
    }
    let p = if e.source_dest_check {
        let (owned, foreign) = d.sent_by(p, eni);
        if let Some(p) = foreign {
            source_dest_check_drop(d, p, e.owner, Field::Src);
        }
        let Some(p) = owned else { return };
        p
    } else {
        p
    };
    let mut rest = None;
    for (service, p) in d.split(p, Field::Dst, &Services { topo, vpc: e.vpc }) {
        match service {
            // The Amazon DNS resolver, instance metadata and time service answer on the host:
            // neither security groups nor NACLs see these packets, and flow logs skip them.
            Some(svc) => {
                d.hop(&p, svc, Stage::Service, Action::Deliver, None, |_| {
                    "link-local service: not filtered by security groups or network ACLs".into()
                });
                d.deliver(p, svc, None);
            }
            None => gather(d, &mut rest, p),
        }
    }
    let Some(p) = rest else { return };
    let (link_local, p) = within(d, p, Field::Dst, &Reserved::LinkLocal);
    if let Some(ll) = link_local {
        let rt = topo.route_tables[topo.subnets[e.subnet].route_table].res;
        d.drop(ll, DropReason::NoRoute, rt, Stage::Route, None, |_| {
            "link-local destinations are never forwarded".into()
        });
    }
    let Some(mut p) = p else { return };
    if let EniKind::VpcEndpoint(x) = e.kind {
        p = match endpoint_replies(d, p, eni, x) {
            Some(p) => p,
            None => return,
        };
    }
    // The packet may belong to a load-balanced flow (a target's reply, a client's packet to a
    // node): the security-group lookup below overlaps the flow table's.
    d.nlb_prefetch(&p);
    let p = match e.kind {
        EniKind::NetworkLoadBalancer(_) => nlb::node_egress(d, p, eni),
        // A Gateway Load Balancer has no security groups: what its node sends (a health
        // check) is tracked so the reply is recognised.
        EniKind::GatewayLoadBalancer(_) => {
            security_group::track_always(d, p, Zone::Interface(eni), e.owner, Stage::SgEgress)
        }
        EniKind::NatGateway(_) => Some(p),
        // An ALB node's own connections (to targets, health checks) pass its security groups.
        EniKind::Host | EniKind::VpcEndpoint(_) | EniKind::ApplicationLoadBalancer(_) => {
            security_group::check(d, p, eni, Direction::Egress)
        }
    };
    let Some(p) = p else { return };
    // A target's reply to a load-balanced client goes back through the load balancer node.
    let p = if topo.nlb.is_target(eni) {
        nlb::reply_from_target(d, p, eni)
    } else {
        Some(p)
    };
    if let Some(p) = p {
        d.next(p, Node::IntoSubnet { eni });
    }
}

/// PrivateLink carries connections from consumers to the service only: an interface
/// endpoint's interface sends nothing but replies (SPEC §10.2, `VPCE_INTRA_VPC_TRAFFIC`).
fn endpoint_replies<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    eni: EniIdx,
    endpoint: VpcEndpointIdx,
) -> Option<D::Packet> {
    let res = d.topo().vpc_endpoints[endpoint].res;
    let mut replies = None;
    for (conn, p) in d.conntrack(p, crate::aws::Zone::Interface(eni), false) {
        match conn {
            Some(Conn::Tracked(Tracked::Reply)) => gather(d, &mut replies, p),
            Some(Conn::Unknown(proof) | Conn::TrackedEitherSide(proof)) => d.undecided(
                p,
                proof,
                "depends on connection-tracking state (whether the packet answers a connection made to the endpoint)",
            ),
            _ => d.drop(p, DropReason::VpceNotInitiator, res, Stage::Origin, None, |_| {
                "an interface endpoint only answers connections made to it; it never opens one"
                    .into()
            }),
        }
    }
    replies
}

/// `IntoSubnet`: a packet that passed `eni`'s outbound checks enters its subnet: delivered at
/// layer 2 when the destination is in the same subnet, without route table or NACL (SPEC §0.2
/// step 3); routed by the subnet's route table otherwise.
pub(super) fn into_subnet<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, eni: EniIdx) {
    let topo = d.topo();
    let s = topo.enis[eni].subnet;
    let (inside, outside) = within(d, p, Field::Dst, &topo.subnets[s]);
    if let Some(p) = outside {
        d.next(
            p,
            Node::Route {
                subnet: s,
                from: Some(eni),
            },
        );
    }
    if let Some(p) = inside {
        d.observe(&p, eni, FlowDirection::Egress, FlowAction::Accept);
        in_subnet(d, p, s, true);
    }
}

/// Deliver to the interface of subnet `s` that owns the destination (which is in `s`); without
/// one the packet is dropped at the subnet. `hop`: say so in the trace (from an interface).
pub(super) fn in_subnet<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, s: SubnetIdx, hop: bool) {
    let topo = d.topo();
    let subnet = &topo.subnets[s];
    let vpc = &topo.vpcs[subnet.vpc];
    for (dst, p) in d.split(p, Field::Dst, &VpcInterfaces(vpc)) {
        match dst {
            Some(eni) if topo.enis[eni].subnet == s => {
                if hop {
                    d.hop(&p, subnet.res, Stage::Route, Action::Forward, None, |_| {
                        "destination is in the same subnet: delivered directly (no route table, no NACL)".into()
                    });
                }
                d.next(
                    p,
                    Node::Enter {
                        eni,
                        from_subnet: Some(s),
                    },
                );
            }
            _ => d.drop(
                p,
                DropReason::NoDestination,
                subnet.res,
                Stage::Route,
                None,
                |h| format!("no network interface in this subnet has address {}", h.dst),
            ),
        }
    }
}

/// `Enter`: a packet arrives at interface `eni` from `from_subnet` (`None`: from outside the
/// VPC): the destination subnet's NACL when it crosses a subnet boundary, then what owns the
/// interface decides (a NAT gateway, a load balancer node), else its security groups'
/// inbound rules and the source/destination check.
pub(super) fn enter<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    eni: EniIdx,
    from_subnet: Option<SubnetIdx>,
) {
    let topo = d.topo();
    let e = &topo.enis[eni];
    let p = if from_subnet != Some(e.subnet) {
        match network_acl::ingress(d, p, e.subnet, Some(eni)) {
            Some(p) => p,
            None => return,
        }
    } else {
        p
    };
    // Tested in order of how common they are: a chain of branches the predictor learns, where
    // a match on the kind would be an indirect jump.
    if e.kind != EniKind::Host {
        if let EniKind::NatGateway(nat) = e.kind {
            return d.next(p, Node::NatIn { nat });
        }
        if let EniKind::NetworkLoadBalancer(lb) = e.kind {
            return d.next(p, Node::Nlb { lb, node: eni });
        }
        if let EniKind::GatewayLoadBalancer(_) = e.kind {
            return gwlb_node(d, p, eni);
        }
        if let EniKind::ApplicationLoadBalancer(lb) = e.kind {
            return d.next(p, Node::Alb { lb, node: eni });
        }
    }
    let Some(p) = security_group::check(d, p, eni, Direction::Ingress) else {
        return;
    };
    if let EniKind::VpcEndpoint(x) = e.kind {
        // The endpoint's interface hands the packet to the endpoint service (SPEC §10.2).
        let service = &topo.vpc_endpoints[x].service_name;
        d.hop(&p, e.res, Stage::Deliver, Action::Forward, None, |_| {
            format!("interface endpoint: handed to {service}")
        });
    }
    let p = if e.source_dest_check {
        let (owned, foreign) = within(d, p, Field::Dst, &OwnAddresses(e));
        if let Some(p) = foreign {
            d.observe(&p, eni, FlowDirection::Ingress, FlowAction::Accept);
            source_dest_check_drop(d, p, e.owner, Field::Dst);
        }
        let Some(p) = owned else { return };
        p
    } else {
        p
    };
    d.observe(&p, eni, FlowDirection::Ingress, FlowAction::Accept);
    deliver(d, p, eni);
}

/// A packet reaches a Gateway Load Balancer node's own address: only the replies to its health
/// checks are for it (GENEVE from its appliances is the GWLB stage's).
fn gwlb_node<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, eni: EniIdx) {
    let owner = d.topo().enis[eni].owner;
    for (conn, p) in d.conntrack(p, crate::aws::Zone::Interface(eni), true) {
        match conn {
            Some(Conn::Tracked(Tracked::Reply)) => {
                d.observe(&p, eni, FlowDirection::Ingress, FlowAction::Accept);
                deliver(d, p, eni);
            }
            Some(Conn::Unknown(proof) | Conn::TrackedEitherSide(proof)) => d.undecided(
                p,
                proof,
                "depends on connection-tracking state (whether the packet answers the node's health check)",
            ),
            _ => d.drop(p, DropReason::NoDestination, owner, Stage::Deliver, None, |_| {
                "a Gateway Load Balancer node takes only GENEVE from its appliances and the replies to its health checks".into()
            }),
        }
    }
}

/// The packet arrived at interface `eni`.
pub(super) fn deliver<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, eni: EniIdx) {
    let owner = d.topo().enis[eni].owner;
    d.hop(&p, owner, Stage::Deliver, Action::Deliver, None, |_| {
        "delivered".into()
    });
    d.deliver(p, owner, Some(eni));
}

/// The interface refuses a packet whose source (leaving) or destination (arriving) is not one of
/// its addresses while source/destination check is on (SPEC §0.2 steps 1 and 10).
fn source_dest_check_drop<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, owner: ResId, field: Field) {
    d.drop(
        p,
        DropReason::SourceDestCheck,
        owner,
        Stage::SourceDestCheck,
        None,
        |h| {
            let addr = match field {
                Field::Src => h.src,
                Field::Dst => h.dst,
            };
            format!("source/destination check is on and {addr} is not an address of this interface")
        },
    );
}
