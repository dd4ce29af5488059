//! Route tables, source/destination checks and public addresses: the route, setting or address
//! that lets the packet on.

use super::{Drop, Finding};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::IpAddr;
use vpcsim_controlplane::fix::Change;
use vpcsim_controlplane::model::{Model, RouteTarget};
use vpcsim_dataplane::topology::tgw::TgwRouteTarget;
use vpcsim_dataplane::topology::vpn::VpnEdge;
use vpcsim_dataplane::topology::RouteTarget as TopoTarget;
use vpcsim_dataplane::topology::{VgwIdx, VpcIdx};
use vpcsim_dataplane::trace::Stage;
use vpcsim_dataplane::{DropReason, Topology};

/// No route, or a route to a target that does not exist: a route towards whatever leads to the
/// destination.
pub(super) fn route_table(d: &Drop) -> Finding {
    let Drop {
        topo,
        m,
        v,
        h,
        reason,
        ..
    } = *d;
    let mut fix = None;
    let mut no_fix = None;
    let message = {
        let name = topo.name(v.at).to_string();
        let table = topo.route_tables.iter().position(|r| r.res == v.at);
        let link_local = matches!(h.dst, IpAddr::V4(a) if a.is_link_local());
        match table {
            Some(t) if !link_local => {
                let vpc = m.route_tables[t].vpc;
                match target_towards(topo, m, vpc, h.dst, h.src) {
                    Some((dest, target)) => {
                        // Fix the route that matched when it is a blackhole; else add one.
                        let dest = if reason == DropReason::BlackholeRoute {
                            m.route_tables[t]
                                .routes
                                .iter()
                                .filter(|r| r.destination.contains(&h.dst))
                                .max_by_key(|r| r.destination.prefix_len())
                                .map_or(dest, |r| r.destination)
                        } else {
                            dest
                        };
                        fix = Some(Change::SetRoute { table: t, destination: dest, target });
                    }
                    None => no_fix = Some("nothing in the topology leads to this destination (no peering, gateway or NAT gateway fits)"),
                }
            }
            _ => no_fix = Some("link-local destinations are never forwarded"),
        }
        if reason == DropReason::NoRoute {
            format!("route table {name} has no route for {}", h.dst)
        } else {
            format!(
                "the best route of {name} for {} points at a target that does not exist",
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

/// Source/destination check: turned off on the interface that forwards.
pub(super) fn source_dest_check(d: &Drop) -> Finding {
    let Drop { topo, v, .. } = *d;
    let mut fix = None;
    let message = {
        if let Some(e) = topo.eni_by_resource(v.at) {
            fix = Some(Change::DisableSourceDestCheck { eni: e.index() });
        }
        format!(
            "{} checks that it owns the source of what it sends and the destination of what it receives; this packet is neither",
            topo.name(v.at)
        )
    };
    Finding {
        message,
        fix,
        no_fix: None,
    }
}

/// An internet gateway cannot translate a source without a public IPv4 address: an Elastic IP for
/// it.
pub(super) fn no_public_ip(d: &Drop) -> Finding {
    let Drop { topo, h, .. } = *d;
    let mut fix = None;
    let message = {
        if let IpAddr::V4(src) = h.src {
            if let Some(e) = topo.owner_of(h.src) {
                fix = Some(Change::AssociateElasticIp {
                    eni: e.index(),
                    private: src,
                });
            }
        }
        format!(
            "{} has no public IPv4 address, so the internet gateway cannot translate it",
            h.src
        )
    };
    Finding {
        message,
        fix,
        no_fix: None,
    }
}

/// Ingress routing steers inbound traffic through an appliance the outbound traffic skips: the
/// subnet's route through the same appliance.
pub(super) fn appliance_bypassed(d: &Drop) -> Finding {
    let Drop {
        topo, v, hops, h, ..
    } = *d;
    let mut fix = None;
    let mut no_fix = None;
    let message = {
        let appliance = topo
            .internet_gateways
            .iter()
            .find(|g| g.res == v.at)
            .and_then(|g| g.route_table)
            .and_then(|rt| topo.route_tables[rt].lookup(h.src))
            .and_then(|r| match r.target {
                TopoTarget::NetworkInterface(a) => Some(a),
                _ => None,
            });
        let table = hops
            .iter()
            .rev()
            .find(|x| x.stage == Stage::Route)
            .and_then(|x| topo.route_tables.position(|t| t.res == x.resource));
        if let (Some(a), Some(t)) = (appliance, table) {
            if let Some(r) = topo.route_tables[t].lookup(h.dst) {
                fix = Some(Change::SetRoute {
                    table: t.index(),
                    destination: r.destination,
                    target: RouteTarget::NetworkInterface(a.index()),
                });
            }
        }
        if appliance.is_none() {
            // Steered through a Gateway Load Balancer endpoint: fixes name model route
            // targets, which have no form for endpoints (their routes are kept apart).
            no_fix = Some("route the subnet's outbound traffic (0.0.0.0/0) to the same Gateway Load Balancer endpoint as the gateway route table: VpcEndpointId in its AWS::EC2::Route");
        }
        format!(
            "the gateway route table of {} steers inbound traffic for {} through an appliance, but this subnet sends its traffic to the internet gateway directly, bypassing it",
            topo.name(v.at),
            h.src
        )
    };
    Finding {
        message,
        fix,
        no_fix,
    }
}

/// An appliance behind a gateway route table without a public address: an Elastic IP for it.
pub(super) fn ingress_appliance_no_public_ip(d: &Drop) -> Finding {
    let Drop { topo, v, .. } = *d;
    let mut fix = None;
    let message = {
        if let Some(e) = topo.eni_by_resource(v.at) {
            if let Some(private) = topo.enis[e].primary_v4() {
                fix = Some(Change::AssociateElasticIp {
                    eni: e.index(),
                    private,
                });
            }
        }
        format!(
            "{} receives internet traffic through a gateway route table but has no public IPv4 address",
            topo.name(v.at)
        )
    };
    Finding {
        message,
        fix,
        no_fix: None,
    }
}

/// A route target that leads towards `dst` from the VPC, for NO_ROUTE and BLACKHOLE_ROUTE fixes.
fn target_towards(
    topo: &Topology,
    m: &Model,
    vpc: usize,
    dst: IpAddr,
    src: IpAddr,
) -> Option<(IpNet, RouteTarget)> {
    let v = m.vpcs.get(vpc)?;
    // Another VPC joined by a peering connection.
    for (p, pcx) in m.peerings.iter().enumerate() {
        let other = if pcx.requester == vpc {
            pcx.accepter
        } else if pcx.accepter == Some(vpc) {
            Some(pcx.requester)
        } else {
            None
        };
        let Some(other) = other else { continue };
        let ov = &m.vpcs[other];
        let cidr = match dst {
            IpAddr::V4(d) => ov
                .cidrs_v4
                .iter()
                .find(|c| c.contains(&d))
                .map(|c| IpNet::V4(*c)),
            IpAddr::V6(d) => ov
                .cidrs_v6
                .iter()
                .find(|c| c.contains(&d))
                .map(|c| IpNet::V6(*c)),
        };
        if let Some(c) = cidr {
            return Some((c, RouteTarget::Peering(p)));
        }
    }
    // On-premises prefixes of the VPC's virtual private gateway.
    if let Some(g) = m.vpn_gateways.iter().position(|g| g.vpc == Some(vpc)) {
        let prefix = topo
            .vpn_connections
            .iter()
            .filter(|c| c.edge == VpnEdge::VpnGateway(VgwIdx::from(g)))
            .flat_map(|c| c.prefixes.iter().copied())
            .filter(|p| p.contains(&dst))
            .max_by_key(|p| p.prefix_len());
        if let Some(p) = prefix {
            return Some((p, RouteTarget::VpnGateway(g)));
        }
    }
    // A transit gateway attached to the VPC whose route table knows the destination.
    for &a in topo
        .vpcs
        .get(VpcIdx::from(vpc))
        .map_or(&[][..], |v| &v.tgw_attachments[..])
    {
        let att = &topo.tgw_attachments[a];
        let route = att
            .route_table
            .and_then(|t| topo.tgw_route_tables[t].lookup(dst));
        if let Some(r) = route.filter(|r| matches!(r.target, TgwRouteTarget::Attachment(_))) {
            return Some((r.destination, RouteTarget::TransitGateway(att.tgw.index())));
        }
    }
    let public = match dst {
        IpAddr::V4(a) => {
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => (a.segments()[0] & 0xe000) == 0x2000,
    };
    if !public {
        return None;
    }
    let default = any_net(dst);
    if dst.is_ipv6() {
        if let Some(g) = v.egress_only_igw {
            return Some((default, RouteTarget::EgressOnlyInternetGateway(g)));
        }
        return v
            .internet_gateway
            .map(|g| (default, RouteTarget::InternetGateway(g)));
    }
    let src_has_public = topo
        .owner_of(src)
        .is_some_and(|e| matches!(src, IpAddr::V4(s) if topo.enis[e].public_for(s).is_some()));
    if src_has_public {
        if let Some(g) = v.internet_gateway {
            return Some((default, RouteTarget::InternetGateway(g)));
        }
    }
    // A public NAT gateway of the VPC, preferably in the source's Availability Zone.
    let src_az = topo
        .owner_of(src)
        .map(|e| topo.subnet_of(e).availability_zone.clone());
    let mut nats: Vec<usize> = (0..m.nat_gateways.len())
        .filter(|&n| m.nat_gateways[n].public && m.subnets[m.nat_gateways[n].subnet].vpc == vpc)
        .collect();
    nats.sort_by_key(|&n| {
        Some(&m.subnets[m.nat_gateways[n].subnet].availability_zone) != src_az.as_ref()
    });
    if let Some(&n) = nats.first() {
        return Some((default, RouteTarget::NatGateway(n)));
    }
    v.internet_gateway
        .map(|g| (default, RouteTarget::InternetGateway(g)))
}

fn any_net(a: IpAddr) -> IpNet {
    match a {
        IpAddr::V4(_) => IpNet::V4(Ipv4Net::default()),
        IpAddr::V6(_) => IpNet::V6(Ipv6Net::default()),
    }
}
