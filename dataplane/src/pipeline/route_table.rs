//! Route tables (SPEC §2): a subnet's table picks the route by longest prefix match and hands
//! the packet to the route's target; a gateway route table (edge association) does the same for
//! traffic entering the VPC through an internet or virtual private gateway (SPEC §2.5).

use super::driver::{Driver, Field};
use super::{network_acl, Node};
use crate::topology::maps::{VpcInterfaces, VpcSubnetRanges};
use crate::topology::{
    EniIdx, ResId, Route, RouteTableIdx, RouteTarget, SubnetIdx, Topology, VpcIdx,
};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};
use crate::wire::Family;

/// `Route`: the route table of `subnet` (the packet sent by `from`, for flow logs), then the
/// subnet's outbound NACL, then the route's target.
pub(super) fn route<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    subnet: SubnetIdx,
    from: Option<EniIdx>,
) {
    let topo = d.topo();
    let s = &topo.subnets[subnet];
    let rt = &topo.route_tables[s.route_table];
    for (ri, p) in d.split(p, Field::Dst, rt) {
        let Some(ri) = ri else {
            if let Some(e) = from {
                d.observe(&p, e, FlowDirection::Egress, FlowAction::Accept);
            }
            d.drop(p, DropReason::NoRoute, rt.res, Stage::Route, None, |h| {
                format!("no route matches {}", h.dst)
            });
            continue;
        };
        let route = &rt.routes[ri as usize];
        let text = D::TRACING.then(|| describe_route(topo, route));
        if let RouteTarget::Blackhole { target } = &route.target {
            if let Some(e) = from {
                d.observe(&p, e, FlowDirection::Egress, FlowAction::Accept);
            }
            d.drop(
                p,
                DropReason::BlackholeRoute,
                rt.res,
                Stage::Route,
                text,
                |_| format!("the route's target {target} does not exist (blackhole)"),
            );
            continue;
        }
        d.hop(&p, rt.res, Stage::Route, Action::Forward, text, |_| {
            "longest prefix match".into()
        });
        let Some(p) = network_acl::egress(d, p, subnet, from) else {
            continue;
        };
        if let Some(e) = from {
            d.observe(&p, e, FlowDirection::Egress, FlowAction::Accept);
        }
        let vpc = s.vpc;
        // Each arm hands over to a literal node, so the hand-over compiles to a direct call
        // (one jump on the route's target, not a second one on the node).
        match route.target {
            RouteTarget::Local => d.next(
                p,
                Node::Local {
                    vpc,
                    from_subnet: subnet,
                    rt: rt.res,
                },
            ),
            RouteTarget::InternetGateway(igw) => d.next(
                p,
                Node::IgwOut {
                    igw,
                    vpc,
                    from_subnet: subnet,
                },
            ),
            RouteTarget::EgressOnlyInternetGateway(eigw) => d.next(p, Node::EigwOut { eigw }),
            RouteTarget::NatGateway(nat) => d.next(
                p,
                Node::NatOut {
                    nat,
                    from_subnet: subnet,
                },
            ),
            RouteTarget::NetworkInterface(eni) => d.next(
                p,
                Node::Appliance {
                    eni,
                    vpc,
                    from_subnet: Some(subnet),
                },
            ),
            RouteTarget::Peering(pcx) => d.next(p, Node::Peering { pcx, from_vpc: vpc }),
            RouteTarget::TransitGateway(tgw) => d.next(
                p,
                Node::TgwFromVpc {
                    tgw,
                    from_subnet: subnet,
                },
            ),
            RouteTarget::VpnGateway(vgw) => d.next(p, Node::VgwOut { vgw, vpc }),
            RouteTarget::GatewayEndpoint(endpoint) => d.next(p, Node::GatewayEndpoint { endpoint }),
            RouteTarget::GatewayLoadBalancerEndpoint(endpoint) => d.next(
                p,
                Node::GwlbEndpoint {
                    endpoint,
                    vpc,
                    from_subnet: Some(subnet),
                },
            ),
            RouteTarget::NetworkFirewallEndpoint(endpoint) => d.next(
                p,
                Node::NetworkFirewall {
                    endpoint,
                    vpc,
                    from_subnet: Some(subnet),
                },
            ),
            // Dropped above, before the NACL.
            RouteTarget::Blackhole { .. } => {}
        }
    }
}

/// `Local`: the local route delivers to the interface that owns the destination in the VPC.
pub(super) fn local<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    vpc: VpcIdx,
    from_subnet: SubnetIdx,
    rt: ResId,
) {
    deliver_in_vpc(
        d,
        p,
        vpc,
        Some(from_subnet),
        rt,
        Stage::Route,
        "local route, but no network interface in the VPC has address",
    );
}

/// `EdgeRoute`: traffic entering `vpc` through `gateway` is routed by the gateway's route table
/// (edge association) instead of the local route (SPEC §2.5): the local route delivers, a route
/// to an appliance's interface or (from the internet) a Gateway Load Balancer endpoint steers
/// the packet through it.
pub(super) fn edge_route<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    rt_idx: RouteTableIdx,
    vpc: VpcIdx,
    gateway: ResId,
    from_internet: bool,
) {
    let topo = d.topo();
    let rt = &topo.route_tables[rt_idx];
    for (ri, p) in d.split(p, Field::Dst, rt) {
        let Some(ri) = ri else {
            d.drop(p, DropReason::NoRoute, rt.res, Stage::Route, None, |h| {
                format!("the gateway route table has no route for {}", h.dst)
            });
            continue;
        };
        let route = &rt.routes[ri as usize];
        let text = D::TRACING.then(|| describe_route(topo, route));
        match route.target {
            RouteTarget::Local => {
                d.hop(&p, rt.res, Stage::Route, Action::Forward, text, |_| {
                    format!("gateway route table of {}", topo.name(gateway))
                });
                deliver_in_vpc(
                    d,
                    p,
                    vpc,
                    None,
                    rt.res,
                    Stage::Route,
                    "no network interface in the VPC has address",
                );
            }
            RouteTarget::NetworkInterface(a) => {
                d.hop(&p, rt.res, Stage::Route, Action::Forward, text, |_| {
                    format!(
                        "gateway route table of {}: steered to an appliance",
                        topo.name(gateway)
                    )
                });
                let e = &topo.enis[a];
                if from_internet && d.family(&p) == Family::V4 && e.public_v4.is_empty() {
                    d.drop(p, DropReason::IngressApplianceNoPublicIp, e.owner, Stage::Appliance, None, |_| {
                        "an appliance that receives internet traffic through a gateway route table needs a public IPv4 address".into()
                    });
                } else {
                    d.next(
                        p,
                        Node::Appliance {
                            eni: a,
                            vpc,
                            from_subnet: None,
                        },
                    );
                }
            }
            RouteTarget::GatewayLoadBalancerEndpoint(endpoint) if from_internet => {
                d.hop(&p, rt.res, Stage::Route, Action::Forward, text, |_| {
                    format!(
                        "gateway route table of {}: steered to a Gateway Load Balancer endpoint",
                        topo.name(gateway)
                    )
                });
                d.next(
                    p,
                    Node::GwlbEndpoint {
                        endpoint,
                        vpc,
                        from_subnet: None,
                    },
                );
            }
            RouteTarget::NetworkFirewallEndpoint(endpoint) => {
                d.hop(&p, rt.res, Stage::Route, Action::Forward, text, |_| {
                    format!(
                        "gateway route table of {}: steered to a Network Firewall endpoint",
                        topo.name(gateway)
                    )
                });
                d.next(
                    p,
                    Node::NetworkFirewall {
                        endpoint,
                        vpc,
                        from_subnet: None,
                    },
                );
            }
            RouteTarget::GatewayLoadBalancerEndpoint(_) => {
                // SPEC §2.5: only internet gateway tables may send traffic to a GWLB endpoint.
                d.drop(p, DropReason::BlackholeRoute, rt.res, Stage::Route, text, |_| {
                    "a virtual private gateway's route table cannot send traffic to a Gateway Load Balancer endpoint: AWS drops it".into()
                });
            }
            RouteTarget::Blackhole { ref target } => {
                d.drop(
                    p,
                    DropReason::BlackholeRoute,
                    rt.res,
                    Stage::Route,
                    text,
                    |_| format!("the route's target {target} does not exist (blackhole)"),
                );
            }
            RouteTarget::InternetGateway(_)
            | RouteTarget::EgressOnlyInternetGateway(_)
            | RouteTarget::NatGateway(_)
            | RouteTarget::Peering(_)
            | RouteTarget::TransitGateway(_)
            | RouteTarget::VpnGateway(_)
            | RouteTarget::GatewayEndpoint(_) => {
                d.drop(
                    p,
                    DropReason::BlackholeRoute,
                    rt.res,
                    Stage::Route,
                    text,
                    |_| "gateway route tables only route to local or to a network interface".into(),
                );
            }
        }
    }
}

/// `0.0.0.0/0 → NatGatewayA (AWS::EC2::Route DefaultRoute)`
pub fn describe_route(topo: &Topology, r: &Route) -> String {
    let target = match &r.target {
        RouteTarget::Local => "local".to_string(),
        RouteTarget::Blackhole { target } => format!("{target} (blackhole)"),
        _ => r.target_name.clone(),
    };
    if let Some(list) = r.prefix_list {
        // One entry of a prefix-list route: name the list, then the entry that matched.
        let list = topo.resource(list);
        let via = r
            .res
            .map_or(String::new(), |res| format!(" ({})", topo.name(res)));
        return format!(
            "{} [{}, entry {}] → {target}{via}",
            list.logical_id, list.aws_id, r.destination
        );
    }
    match r.res {
        _ if r.propagated => format!("{} → {target} (propagated)", r.destination),
        Some(res) => format!("{} → {target} ({})", r.destination, topo.name(res)),
        None => format!("{} → {target}", r.destination),
    }
}

/// Deliver in `vpc` (from `from_subnet`, or from outside the VPC): to the interface that
/// owns the destination, else dropped at `at` with `NO_DESTINATION` and `why` followed by the
/// address.
pub(super) fn deliver_in_vpc<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    vpc: VpcIdx,
    from_subnet: Option<SubnetIdx>,
    at: ResId,
    stage: Stage,
    why: &'static str,
) {
    let topo = d.topo();
    let v = &topo.vpcs[vpc];
    for (eni, p) in d.split(p, Field::Dst, &VpcInterfaces(v)) {
        let Some(eni) = eni else {
            for (in_subnet, p) in d.split(p, Field::Dst, &VpcSubnetRanges { topo, vpc }) {
                match in_subnet {
                    Some(()) => d.drop(p, DropReason::NoDestination, at, stage, None, |h| {
                        format!("{why} {}", h.dst)
                    }),
                    // No subnet holds the address: the VPC itself has nowhere to take it.
                    None => d.drop(p, DropReason::NoDestination, v.res, stage, None, |h| {
                        format!("no subnet of {} holds {}", topo.name(v.res), h.dst)
                    }),
                }
            }
            continue;
        };
        d.next(p, Node::Enter { eni, from_subnet });
    }
}
