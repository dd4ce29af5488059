//! Route tables: static routes, routes to Gateway Load Balancer endpoints, prefix-list routes,
//! routes propagated by virtual private gateways, then the local routes.

use super::edges::vgw_prefixes;
use super::res;
use crate::model::{self, EdgeGateway, EniOwner, Model, VpcEndpointKind};
use ipnet::IpNet;
use vpcsim_dataplane::topology::{
    EigwIdx, EniIdx, IgwIdx, NatIdx, PeeringIdx, ResId, Route, RouteTable, RouteTableIdx,
    RouteTarget, TgwIdx, Topology, VgwIdx, VpcEndpointIdx,
};

/// Every route table; `pl_res` are the resources of the model's prefix lists.
pub(super) fn route_tables(model: &Model, topo: &mut Topology, pl_res: &[ResId]) {
    for (rt_index, rt) in model.route_tables.iter().enumerate() {
        let r = res(topo, &rt.origin);
        let v = &model.vpcs[rt.vpc];
        let mut routes = Vec::new();
        // Static routes come first so that one with the same destination as a local route
        // replaces the local target (as `replace-route` does on AWS).
        for route in &rt.routes {
            let route_res = res(topo, &route.origin);
            let (target, target_name) = route_target(model, &route.target);
            routes.push(Route {
                res: Some(route_res),
                destination: route.destination,
                target,
                target_name,
                propagated: false,
                prefix_list: None,
            });
        }
        super::gwlb::endpoint_routes(model, topo, rt_index, &mut routes);
        super::network_firewall::endpoint_routes(model, topo, rt_index, &mut routes);
        prefix_list_routes(model, topo, rt_index, pl_res, &mut routes);
        propagated_routes(model, topo, rt_index, &mut routes);
        let locals = v
            .cidrs_v4
            .iter()
            .map(|c| IpNet::V4(*c))
            .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)));
        for c in locals {
            routes.push(Route {
                res: None,
                destination: c,
                target: RouteTarget::Local,
                target_name: "local".into(),
                propagated: false,
                prefix_list: None,
            });
        }
        topo.route_tables
            .push(RouteTable::new(r, rt.vpc.into(), routes));
    }
}

/// The route table associated with an internet gateway or virtual private gateway (ingress
/// routing), if any.
pub(super) fn gateway_route_table(model: &Model, gateway: EdgeGateway) -> Option<RouteTableIdx> {
    model
        .gateway_route_tables
        .iter()
        .find(|g| g.gateway == gateway)
        .map(|g| g.route_table.into())
}

/// A route target in the data plane's form, with the name traces print.
fn route_target(model: &Model, target: &model::RouteTarget) -> (RouteTarget, String) {
    match target {
        model::RouteTarget::InternetGateway(g) => (
            RouteTarget::InternetGateway(IgwIdx::from(*g)),
            model.internet_gateways[*g].origin.logical_id.clone(),
        ),
        model::RouteTarget::EgressOnlyInternetGateway(g) => (
            RouteTarget::EgressOnlyInternetGateway(EigwIdx::from(*g)),
            model.egress_only_igws[*g].origin.logical_id.clone(),
        ),
        model::RouteTarget::NatGateway(n) => (
            RouteTarget::NatGateway(NatIdx::from(*n)),
            model.nat_gateways[*n].origin.logical_id.clone(),
        ),
        model::RouteTarget::NetworkInterface(e) => {
            let name = match model.enis[*e].owner {
                EniOwner::Instance(inst, 0) => model.instances[inst].origin.logical_id.clone(),
                _ => model.enis[*e].origin.logical_id.clone(),
            };
            (RouteTarget::NetworkInterface(EniIdx::from(*e)), name)
        }
        model::RouteTarget::Peering(p) if model.peerings[*p].accepter.is_some() => (
            RouteTarget::Peering(PeeringIdx::from(*p)),
            model.peerings[*p].origin.logical_id.clone(),
        ),
        model::RouteTarget::Peering(p) => {
            let name = model.peerings[*p].origin.logical_id.clone();
            (
                RouteTarget::Blackhole {
                    target: name.clone(),
                },
                name,
            )
        }
        model::RouteTarget::TransitGateway(g) => (
            RouteTarget::TransitGateway(TgwIdx::from(*g)),
            model.transit_gateways[*g].origin.logical_id.clone(),
        ),
        model::RouteTarget::VpnGateway(g) => (
            RouteTarget::VpnGateway(VgwIdx::from(*g)),
            model.vpn_gateways[*g].origin.logical_id.clone(),
        ),
        model::RouteTarget::Missing(id) => {
            (RouteTarget::Blackhole { target: id.clone() }, id.clone())
        }
    }
}

/// Routes a virtual private gateway propagates into route table `table` (SPEC §2.8): one per
/// on-premises prefix, after the table's static routes (a static route wins for the same
/// prefix, §2.4) and never inside a VPC CIDR (the local route always wins over them, §2.3).
fn propagated_routes(model: &Model, topo: &mut Topology, table: usize, routes: &mut Vec<Route>) {
    let rt = &model.route_tables[table];
    let v = &model.vpcs[rt.vpc];
    for (g, vgw) in model.vpn_gateways.iter().enumerate() {
        let Some((_, origin)) = vgw.propagations.iter().find(|(t, _)| *t == table) else {
            continue;
        };
        if vgw.vpc != Some(rt.vpc) {
            continue;
        }
        let prop = res(topo, origin);
        for (p, _) in vgw_prefixes(model, g) {
            let inside_vpc = match p {
                IpNet::V4(p) => v.cidrs_v4.iter().any(|c| c.contains(&p)),
                IpNet::V6(p) => v.cidrs_v6.iter().any(|c| c.contains(&p)),
            };
            if inside_vpc || routes.iter().any(|r| r.destination == p) {
                continue;
            }
            routes.push(Route {
                res: Some(prop),
                destination: p,
                target: RouteTarget::VpnGateway(g.into()),
                target_name: vgw.origin.logical_id.clone(),
                propagated: true,
                prefix_list: None,
            });
        }
    }
}

/// Routes whose destination is a prefix list, one per entry (SPEC §2.4 step 1): the user's
/// (`DestinationPrefixListId`) and those gateway endpoints install in the tables they name
/// (§10.1). They come after the static CIDR routes, which win at equal prefix (§2.4 4b), and
/// before propagated ones, which they beat (4c).
fn prefix_list_routes(
    model: &Model,
    topo: &mut Topology,
    table: usize,
    pl_res: &[ResId],
    routes: &mut Vec<Route>,
) {
    for r in model
        .prefix_list_routes
        .iter()
        .filter(|r| r.route_table == table)
    {
        let route_res = res(topo, &r.origin);
        let (target, target_name) = route_target(model, &r.target);
        for entry in &model.prefix_lists[r.prefix_list].entries {
            routes.push(Route {
                res: Some(route_res),
                destination: *entry,
                target: target.clone(),
                target_name: target_name.clone(),
                propagated: false,
                prefix_list: Some(pl_res[r.prefix_list]),
            });
        }
    }
    for (x, ep) in model.vpc_endpoints.iter().enumerate() {
        let VpcEndpointKind::Gateway {
            route_tables,
            prefix_list,
        } = &ep.kind
        else {
            continue;
        };
        if !route_tables.contains(&table) {
            continue;
        }
        for entry in &model.prefix_lists[*prefix_list].entries {
            routes.push(Route {
                res: None,
                destination: *entry,
                target: RouteTarget::GatewayEndpoint(VpcEndpointIdx::from(x)),
                target_name: ep.origin.logical_id.clone(),
                propagated: false,
                prefix_list: Some(pl_res[*prefix_list]),
            });
        }
    }
}
