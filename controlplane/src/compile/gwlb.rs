//! Gateway Load Balancers: GENEVE target groups, load balancers with their nodes, endpoint
//! services, Gateway Load Balancer endpoints and the routes that send traffic to them. Target
//! health is computed by [`super::compile`] once everything is built.

use super::{fnv1a, res, resources};
use crate::model::Model;
use std::net::Ipv4Addr;
use vpcsim_dataplane::topology::gwlb as dp;
use vpcsim_dataplane::topology::nlb::TargetHealth;
use vpcsim_dataplane::topology::{
    EniIdx, EniKind, GwlbTargetGroupIdx, NetworkInterface, Route, RouteTarget, SubnetIdx, Topology,
};

/// Everything GWLB; runs after [`Topology::finish`], since targets and nodes need zone numbers.
pub(super) fn gateway_load_balancers(model: &Model, topo: &mut Topology) {
    for g in &model.gwlb_target_groups {
        let res = res(topo, &g.origin);
        let targets = g
            .targets
            .iter()
            .filter_map(|(id, inst)| {
                let eni = *model.instances[*inst].enis.first()?;
                let addr = *model.enis[eni].private_v4.first()?;
                let eni = EniIdx::from(eni);
                let e = &topo.enis[eni];
                Some(dp::GwlbTarget {
                    id: id.clone(),
                    res: e.owner,
                    eni,
                    addr,
                    az: topo.subnets[e.subnet].az,
                    health: TargetHealth::default(),
                })
            })
            .collect();
        topo.gwlb.target_groups.push(dp::GwlbTargetGroup {
            res,
            stickiness: g.stickiness,
            health_check_port: g.health_check.port.unwrap_or(80),
            health_check_protocol: g.health_check.protocol.clone(),
            targets,
        });
    }
    for (li, lb) in model.gateway_load_balancers.iter().enumerate() {
        let res = res(topo, &lb.origin);
        let nodes = lb
            .subnets
            .iter()
            .zip(&lb.nodes)
            .map(|(&s, &addr)| dp::GwlbNode {
                eni: node_interface(model, topo, li, s, addr),
                subnet: s.into(),
                az: topo.subnets[SubnetIdx::from(s)].az,
                addr,
            })
            .collect();
        topo.gwlb.load_balancers.push(dp::GatewayLoadBalancer {
            res,
            vpc: lb.vpc.into(),
            nodes,
            cross_zone: lb.cross_zone,
            target_group: lb.target_group.map(GwlbTargetGroupIdx::from),
        });
    }
    let service_res = resources(topo, model.endpoint_services.iter().map(|s| &s.origin));
    for ep in &model.gwlb_endpoints {
        let res = res(topo, &ep.origin);
        let svc = &model.endpoint_services[ep.service];
        topo.gwlb.endpoints.push(dp::GwlbEndpoint {
            res,
            vpc: ep.vpc.into(),
            subnet: ep.subnet.into(),
            load_balancer: svc.load_balancers.first().copied().unwrap_or(0).into(),
            service: service_res[ep.service],
            endpoint_id: id_bits(&ep.origin.id),
            attachment_id: fnv1a(&ep.origin.id) ^ fnv1a(&svc.origin.id).rotate_left(17),
        });
    }
}

/// The interface of a Gateway Load Balancer node: AWS gives each node one in its subnet
/// (`InterfaceType: gateway_load_balancer`), named `<Gwlb>.<Subnet>` like a Network Load
/// Balancer's. It is added after the model's interfaces, so their indices stay the model's.
fn node_interface(
    model: &Model,
    topo: &mut Topology,
    lb: usize,
    subnet: usize,
    addr: Ipv4Addr,
) -> EniIdx {
    let balancer = &model.gateway_load_balancers[lb];
    let s = &model.subnets[subnet];
    let id = format!(
        "eni-{:017x}",
        fnv1a(&format!("{}/{}", balancer.origin.id, s.origin.id)) >> 4
    );
    let res = topo.add_resource(
        &format!("{}.{}", balancer.origin.logical_id, s.origin.logical_id),
        &id,
        "AWS::EC2::NetworkInterface",
        None,
    );
    topo.enis.push(NetworkInterface {
        res,
        owner: res,
        kind: EniKind::GatewayLoadBalancer(lb.into()),
        subnet: subnet.into(),
        vpc: s.vpc.into(),
        private_v4: vec![addr],
        ipv6: vec![],
        public_v4: vec![],
        security_groups: vec![],
        source_dest_check: true,
        mac: super::interfaces::mac_for(&id),
        sg_ingress: vec![],
        sg_egress: vec![],
    })
}

/// The routes of route table `table` whose target is a Gateway Load Balancer endpoint.
pub(super) fn endpoint_routes(
    model: &Model,
    topo: &mut Topology,
    table: usize,
    routes: &mut Vec<Route>,
) {
    for r in model.gwlb_routes.iter().filter(|r| r.route_table == table) {
        let res = res(topo, &r.origin);
        routes.push(Route {
            res: Some(res),
            destination: r.destination,
            target: RouteTarget::GatewayLoadBalancerEndpoint(r.endpoint.into()),
            target_name: model.gwlb_endpoints[r.endpoint].origin.logical_id.clone(),
            propagated: false,
            prefix_list: None,
        });
    }
}

/// The 16 hex digits of an AWS id (`vpce-0a1b…`) as the 64-bit value GENEVE carries.
fn id_bits(id: &str) -> u64 {
    let hex = id.rsplit('-').next().unwrap_or("");
    let tail = hex.get(hex.len().saturating_sub(16)..).unwrap_or("");
    u64::from_str_radix(tail, 16).unwrap_or(0)
}
