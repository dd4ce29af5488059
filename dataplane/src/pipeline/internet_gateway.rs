//! Internet gateways and egress-only internet gateways (SPEC §5): 1:1 static NAT between an
//! interface's private address and its public IP or Elastic IP, IPv6 untranslated, replies of
//! outbound IPv6 flows through an egress-only gateway; and the internet itself, which sends
//! packets addressed to the topology's own public addresses back in.

use super::driver::{gather, rewritten, within, Conn, Driver, Field};
use super::route_table::deliver_in_vpc;
use super::security_group::track_always;
use super::{endpoint, Node};
use crate::aws::{Zone, MAX_FORWARDS};
use crate::topology::maps::{
    Ipv6Vpcs, OwnedOnInternet, PublicAddresses, Reserved, VpcInterfaces, VpcPublicAddresses,
};
use crate::topology::{
    EigwIdx, EniKind, IgwIdx, ResId, RouteTableIdx, RouteTarget, SubnetIdx, VpcIdx,
};
use crate::trace::{Action, Stage};
use crate::verdict::DropReason;
use crate::wire::Family;

/// `IgwOut`: a route of `vpc` (from `from_subnet`) sends the packet to internet gateway `g`.
pub(super) fn egress<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    g: IgwIdx,
    vpc: VpcIdx,
    from_subnet: SubnetIdx,
) {
    let topo = d.topo();
    let igw = &topo.internet_gateways[g];
    if igw.vpc != Some(vpc) {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            igw.res,
            Stage::InternetGateway,
            None,
            |_| "the internet gateway is not attached to this VPC".into(),
        );
        return;
    }
    let p = match igw.route_table {
        Some(rt) => match not_bypassing(d, p, rt, igw.res, from_subnet) {
            Some(p) => p,
            None => return,
        },
        None => p,
    };
    match d.family(&p) {
        Family::V4 => {
            let (private, p) = within(d, p, Field::Dst, &Reserved::NotRoutedByIgw);
            if let Some(p) = private {
                d.drop(
                    p,
                    DropReason::IgwPrivateAddress,
                    igw.res,
                    Stage::InternetGateway,
                    None,
                    |h| {
                        format!(
                            "{} is a private (RFC 1918/6598) address: internet gateways drop it",
                            h.dst
                        )
                    },
                );
            }
            let Some(p) = p else { return };
            let public = VpcPublicAddresses { topo, vpc };
            for (public, mut p) in d.split(p, Field::Src, &public) {
                let Some(public) = public else {
                    d.drop(
                        p,
                        DropReason::NoPublicIp,
                        igw.res,
                        Stage::InternetGateway,
                        None,
                        |h| format!("{} has no public IPv4 address or Elastic IP", h.src),
                    );
                    continue;
                };
                let before = d.header_now(&p);
                d.write_addr(&mut p, Field::Src, public.into());
                let detail = rewritten(before, |b, _| {
                    format!("source {} → {public} (1:1 static NAT)", b.src)
                });
                d.hop(
                    &p,
                    igw.res,
                    Stage::InternetGateway,
                    Action::Translate,
                    None,
                    detail,
                );
                d.next(
                    p,
                    Node::ToInternet {
                        gateway: igw.res,
                        stage: Stage::InternetGateway,
                    },
                );
            }
        }
        Family::V6 => {
            let v = &topo.vpcs[vpc];
            let (ours, foreign) = within(d, p, Field::Src, &VpcInterfaces(v));
            if let Some(p) = foreign {
                d.drop(
                    p,
                    DropReason::NoPublicIp,
                    igw.res,
                    Stage::InternetGateway,
                    None,
                    |h| {
                        format!(
                            "{} is not an IPv6 address of an interface in the VPC",
                            h.src
                        )
                    },
                );
            }
            let Some(p) = ours else { return };
            d.hop(
                &p,
                igw.res,
                Stage::InternetGateway,
                Action::Forward,
                None,
                |_| "IPv6: no translation".into(),
            );
            d.next(
                p,
                Node::ToInternet {
                    gateway: igw.res,
                    stage: Stage::InternetGateway,
                },
            );
        }
    }
}

/// When the gateway route table sends a subnet's inbound traffic to an appliance, the subnet's
/// outbound traffic must come back through that appliance, not straight from the subnet (SPEC
/// §2.5, `INGRESS_RTB_TRAFFIC_REDIRECTION`): the route is looked up by source address.
fn not_bypassing<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    rt: RouteTableIdx,
    igw: ResId,
    from_subnet: SubnetIdx,
) -> Option<D::Packet> {
    let topo = d.topo();
    let table = &topo.route_tables[rt];
    let mut ok = None;
    for (ri, p) in d.split(p, Field::Src, table) {
        let route = ri.map(|ri| &table.routes[ri as usize]);
        let through = route.and_then(|r| match r.target {
            RouteTarget::GatewayLoadBalancerEndpoint(x) => {
                let ep = &topo.gwlb.endpoints[x];
                (ep.subnet != from_subnet).then_some(ep.res)
            }
            RouteTarget::NetworkInterface(a) => {
                let e = &topo.enis[a];
                (e.subnet != from_subnet).then_some(e.owner)
            }
            RouteTarget::NetworkFirewallEndpoint(x) => {
                // Leaving through any endpoint of the same firewall is through the firewall
                // (which endpoint matters to its flow table, not to the gateway).
                let nf = &topo.network_firewalls;
                let fw = nf.endpoints[x].firewall;
                let through = nf
                    .endpoints
                    .iter()
                    .any(|e| e.firewall == fw && e.subnet == from_subnet);
                (!through).then_some(nf.endpoints[x].res)
            }
            _ => None,
        });
        match (through, route) {
            (Some(appliance), Some(route)) => {
                let text = D::TRACING.then(|| super::describe_route(topo, route));
                d.drop(p, DropReason::ApplianceBypassed, igw, Stage::InternetGateway, text, |_| {
                    format!(
                        "gateway route table {} sends this subnet's inbound traffic through {}, but this packet leaves without it",
                        topo.name(table.res),
                        topo.name(appliance)
                    )
                });
            }
            _ => gather(d, &mut ok, p),
        }
    }
    ok
}

/// `EigwOut`: a route sends the packet to egress-only internet gateway `g`: IPv6 only, and
/// the flow is tracked so its replies may come back.
pub(super) fn egress_only<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, g: EigwIdx) {
    let res = d.topo().egress_only_igws[g].res;
    let stage = Stage::EgressOnlyInternetGateway;
    if d.family(&p) == Family::V4 {
        d.drop(p, DropReason::NoRoute, res, stage, None, |_| {
            "egress-only internet gateways carry IPv6 only".into()
        });
        return;
    }
    let Some(p) = track_always(d, p, Zone::EgressOnlyGateway(g), res, stage) else {
        return;
    };
    d.hop(&p, res, stage, Action::Forward, None, |_| {
        "outbound IPv6 flow tracked: replies may come back".into()
    });
    d.next(
        p,
        Node::ToInternet {
            gateway: res,
            stage,
        },
    );
}

/// `ToInternet`: the packet leaves the model through `gateway`, or comes back in when the
/// destination is an address the topology itself owns (another instance's public IP: a hairpin
/// through the internet).
pub(super) fn to_internet<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    gateway: ResId,
    stage: Stage,
) {
    let topo = d.topo();
    let (owned, out) = within(d, p, Field::Dst, &OwnedOnInternet(topo));
    if let Some(p) = out {
        d.hop(&p, gateway, Stage::Exit, Action::Exit, None, |_| {
            "to the internet".into()
        });
        d.exit(p, gateway, None);
    }
    let Some(mut p) = owned else { return };
    if !d.spend_forward(&mut p) {
        d.drop(p, DropReason::TtlExceeded, gateway, stage, None, |_| {
            format!("more than {MAX_FORWARDS} forwarding steps: routing loop")
        });
        return;
    }
    d.hop(&p, gateway, stage, Action::Forward, None, |_| {
        "destination is an address of this topology: the packet comes back in from the internet"
            .into()
    });
    d.next(p, Node::FromInternet);
}

/// `FromInternet`: a packet from the internet. A service's reply through a gateway endpoint
/// comes back that way; otherwise the internet gateway (or egress-only gateway) of the VPC that
/// owns the destination takes it in.
pub(super) fn from_internet<'t, D: Driver<'t>>(d: &mut D, p: D::Packet) {
    let topo = d.topo();
    let p = if topo.vpc_endpoints.is_empty() {
        Some(p)
    } else {
        endpoint::replies(d, p)
    };
    let Some(p) = p else { return };
    d.hop(
        &p,
        ResId::INTERNET,
        Stage::Origin,
        Action::Forward,
        None,
        |_| "arrives from the internet".into(),
    );
    match d.family(&p) {
        Family::V4 => from_internet_v4(d, p),
        Family::V6 => from_internet_v6(d, p),
    }
}

fn from_internet_v4<'t, D: Driver<'t>>(d: &mut D, p: D::Packet) {
    let topo = d.topo();
    for (m, p) in d.split(p, Field::Dst, &PublicAddresses(topo)) {
        let Some(m) = m else {
            d.drop(
                p,
                DropReason::NotMapped,
                ResId::INTERNET,
                Stage::Origin,
                None,
                |h| {
                    format!(
                        "{} is not a public IP or Elastic IP of any interface in the topology",
                        h.dst
                    )
                },
            );
            continue;
        };
        let eni = &topo.enis[m.eni];
        let Some(g) = topo.vpcs[eni.vpc].internet_gateway else {
            d.drop(
                p,
                DropReason::NotMapped,
                ResId::INTERNET,
                Stage::Origin,
                None,
                |h| format!("{} belongs to a VPC without an internet gateway", h.dst),
            );
            continue;
        };
        let igw = &topo.internet_gateways[g];
        let (private, p) = within(d, p, Field::Src, &Reserved::NotRoutedByIgw);
        if let Some(p) = private {
            d.drop(
                p,
                DropReason::IgwPrivateAddress,
                igw.res,
                Stage::InternetGateway,
                None,
                |h| {
                    format!(
                        "source {} is a private (RFC 1918/6598) address: internet gateways drop it",
                        h.src
                    )
                },
            );
        }
        let Some(mut p) = p else { continue };
        let before = d.header_now(&p);
        d.write_addr(&mut p, Field::Dst, m.private.into());
        if let EniKind::NetworkLoadBalancer(_) = eni.kind {
            // Routing and the node's NACL overlap the flow-table lookup.
            d.nlb_prefetch(&p);
        }
        let detail = rewritten(before, |b, _| {
            format!("destination {} → {} (1:1 static NAT)", b.dst, m.private)
        });
        d.hop(
            &p,
            igw.res,
            Stage::InternetGateway,
            Action::Translate,
            None,
            detail,
        );
        match igw.route_table {
            Some(rt) => d.next(
                p,
                Node::EdgeRoute {
                    rt,
                    vpc: eni.vpc,
                    gateway: igw.res,
                    from_internet: true,
                },
            ),
            None => d.next(
                p,
                Node::Enter {
                    eni: m.eni,
                    from_subnet: None,
                },
            ),
        }
    }
}

fn from_internet_v6<'t, D: Driver<'t>>(d: &mut D, p: D::Packet) {
    let topo = d.topo();
    for (vpc, p) in d.split(p, Field::Dst, &Ipv6Vpcs(topo)) {
        let Some(vpc) = vpc else {
            d.drop(
                p,
                DropReason::NotMapped,
                ResId::INTERNET,
                Stage::Origin,
                None,
                |h| {
                    format!(
                        "{} is not in the IPv6 range of any VPC in the topology",
                        h.dst
                    )
                },
            );
            continue;
        };
        let v = &topo.vpcs[vpc];
        // Replies of flows the VPC's egress-only gateway let out come back through it.
        let (mut via_eigw, mut rest) = (None, None);
        match v.egress_only_igw {
            Some(g) => {
                for (conn, p) in d.conntrack(p, Zone::EgressOnlyGateway(g), true) {
                    match conn {
                        Some(Conn::Tracked(_) | Conn::TrackedEitherSide(_)) => {
                            gather(d, &mut via_eigw, p)
                        }
                        Some(Conn::Unknown(proof)) => d.undecided(
                            p,
                            proof,
                            "depends on the egress-only gateway's connection tracking",
                        ),
                        None => gather(d, &mut rest, p),
                    }
                }
            }
            None => rest = Some(p),
        }
        if let (Some(p), Some(g)) = (via_eigw, v.egress_only_igw) {
            let res = topo.egress_only_igws[g].res;
            d.hop(
                &p,
                res,
                Stage::EgressOnlyInternetGateway,
                Action::Forward,
                None,
                |_| "reply of an outbound IPv6 flow".into(),
            );
            deliver_in_vpc(
                d,
                p,
                vpc,
                None,
                res,
                Stage::Route,
                "no network interface has address",
            );
        }
        let Some(p) = rest else { continue };
        if let Some(g) = v.internet_gateway {
            let igw = &topo.internet_gateways[g];
            d.hop(
                &p,
                igw.res,
                Stage::InternetGateway,
                Action::Forward,
                None,
                |_| "IPv6: no translation".into(),
            );
            match igw.route_table {
                Some(rt) => d.next(
                    p,
                    Node::EdgeRoute {
                        rt,
                        vpc,
                        gateway: igw.res,
                        from_internet: true,
                    },
                ),
                None => deliver_in_vpc(
                    d,
                    p,
                    vpc,
                    None,
                    igw.res,
                    Stage::Route,
                    "no network interface has address",
                ),
            }
        } else if let Some(g) = v.egress_only_igw {
            let res = topo.egress_only_igws[g].res;
            d.drop(
                p,
                DropReason::EgressOnly,
                res,
                Stage::EgressOnlyInternetGateway,
                None,
                |_| "egress-only internet gateway: inbound connections are not allowed".into(),
            );
        } else {
            d.drop(
                p,
                DropReason::NotMapped,
                ResId::INTERNET,
                Stage::Origin,
                None,
                |_| "the VPC that owns this address has no internet gateway".into(),
            );
        }
    }
}
