//! Network Load Balancers: their listeners and target groups. The nodes are already interfaces
//! (of kind `NetworkLoadBalancer`); target health is computed by [`super::compile`] once everything is
//! built.

use super::{res, resources};
use crate::model::{Model, TargetGroup, TargetRef};
use std::net::{IpAddr, Ipv4Addr};
use vpcsim_dataplane::topology::nlb::{self as dp, TargetHealth};
use vpcsim_dataplane::topology::{EniIdx, ResId, Topology};

/// Target groups, then load balancers with their listeners; `lb_res` are the resources compile
/// created for the load balancers (the nodes' owner).
pub(super) fn network_load_balancers(model: &Model, topo: &mut Topology, lb_res: &[ResId]) {
    let tg_res = resources(topo, model.target_groups.iter().map(|g| &g.origin));
    for (g, &res) in model.target_groups.iter().zip(&tg_res) {
        let targets = targets(model, topo, g, res);
        topo.nlb.target_groups.push(dp::TargetGroup {
            res,
            target_type: g.target_type,
            protocol: g.protocol,
            port: g.port,
            health_check_port: g.health_check.port,
            health_check_protocol: g.health_check.protocol.clone(),
            health_check_matcher: g.health_check.matcher.clone(),
            preserve_client_ip: g.preserves_client_ip(),
            cross_zone: g.cross_zone,
            targets,
        });
    }
    for (i, lb) in model.load_balancers.iter().enumerate() {
        let listeners = model
            .listeners
            .iter()
            .filter(|l| l.load_balancer == i)
            .map(|l| dp::Listener {
                res: res(topo, &l.origin),
                protocol: l.protocol,
                port: l.port,
                target_group: l.target_group.into(),
            })
            .collect();
        topo.nlb.load_balancers.push(dp::NetworkLoadBalancer {
            res: lb_res[i],
            nodes: lb.nodes.iter().map(|&e| EniIdx::from(e)).collect(),
            internet_facing: lb.internet_facing,
            cross_zone: lb.cross_zone,
            listeners,
        });
    }
    topo.nlb.finish(topo.enis.len());
}

/// The registered targets of group `g` (resource `group_res`): an instance target is its
/// primary interface; an ip target is the interface holding the address, if any (a target
/// outside the topology is named by its group).
fn targets(model: &Model, topo: &Topology, g: &TargetGroup, group_res: ResId) -> Vec<dp::Target> {
    g.targets
        .iter()
        .map(|target| {
            let (addr, eni, res) = match target.target {
                TargetRef::Instance(inst) => {
                    let eni = model.instances[inst].enis.first().copied();
                    let addr = eni
                        .and_then(|e| model.enis[e].private_v4.first().copied())
                        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V4);
                    let eni = eni.map(EniIdx::from);
                    let res = eni.map_or(group_res, |e| topo.enis[e].owner);
                    (addr, eni, res)
                }
                TargetRef::Ip(a) => {
                    let eni = topo.owner_of(a);
                    let res = eni.map_or(group_res, |e| topo.enis[e].owner);
                    (a, eni, res)
                }
            };
            dp::Target {
                id: target.id.clone(),
                res,
                addr,
                eni,
                port: target.port.unwrap_or(g.port),
                az: eni.map(|e| topo.subnet_of(e).az),
                health: TargetHealth::default(),
            }
        })
        .collect()
}
