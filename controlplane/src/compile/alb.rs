//! Application Load Balancers: their listeners (rules sorted by priority) and target groups. The
//! nodes are already interfaces (of kind `ApplicationLoadBalancer`, owned by the load balancer);
//! target health needs the simulated hosts, so [`vpcsim_dataplane::alb::health`] computes it
//! once they are known.

use super::{res, resources};
use crate::model::{AlbTargetGroup, Model, TargetRef};
use std::net::{IpAddr, Ipv4Addr};
use vpcsim_dataplane::topology::alb as dp;
use vpcsim_dataplane::topology::nlb::{Target, TargetHealth};
use vpcsim_dataplane::topology::{EniIdx, ResId, Topology};

/// Target groups, then load balancers with their listeners and rules; `lb_res` are the
/// resources compile created for the load balancers (the nodes' owner).
pub(super) fn application_load_balancers(model: &Model, topo: &mut Topology, lb_res: &[ResId]) {
    let alb = &model.alb;
    let tg_res = resources(topo, alb.target_groups.iter().map(|g| &g.origin));
    for (g, &res) in alb.target_groups.iter().zip(&tg_res) {
        let targets = targets(model, topo, g, res);
        topo.alb.target_groups.push(dp::AlbTargetGroup {
            res,
            target_type: g.target_type,
            protocol: g.protocol,
            port: g.port,
            health_check: dp::AlbHealthCheck {
                protocol: dp::AlbProtocol::parse(&g.health_check.protocol)
                    .unwrap_or(dp::AlbProtocol::Http),
                port: g.health_check.port,
                path: g.health_check.path.clone().unwrap_or_else(|| "/".into()),
                matcher: g.matcher.clone(),
            },
            algorithm: g.algorithm,
            targets,
        });
    }
    for (i, lb) in alb.load_balancers.iter().enumerate() {
        let mut listeners = Vec::new();
        for (li, l) in alb.listeners.iter().enumerate() {
            if l.load_balancer != i {
                continue;
            }
            let lres = res(topo, &l.origin);
            let mut rules: Vec<dp::AlbRule> = alb
                .rules
                .iter()
                .filter(|r| r.listener == li)
                .map(|r| dp::AlbRule {
                    res: res(topo, &r.origin),
                    priority: r.priority,
                    conditions: r.conditions.clone(),
                    action: r.action.clone(),
                    authenticate: r.authenticate.clone(),
                })
                .collect();
            rules.sort_by_key(|r| r.priority);
            listeners.push(dp::AlbListener {
                res: lres,
                protocol: l.protocol,
                port: l.port,
                certificates: l.certificates.clone(),
                rules,
                default_action: l.default_action.clone(),
            });
        }
        topo.alb.load_balancers.push(dp::AppLoadBalancer {
            res: lb_res[i],
            nodes: lb.nodes.iter().map(|&e| EniIdx::from(e)).collect(),
            internet_facing: lb.internet_facing,
            dns_name: lb.dns_name.clone(),
            listeners,
        });
    }
}

/// The registered targets of group `g`: an instance target is its primary interface; an ip
/// target is the interface holding the address, if any.
fn targets(model: &Model, topo: &Topology, g: &AlbTargetGroup, group_res: ResId) -> Vec<Target> {
    g.targets
        .iter()
        .map(|target| {
            let (addr, eni) = match target.target {
                TargetRef::Instance(inst) => {
                    let eni = model.instances[inst].enis.first().copied();
                    let addr = eni
                        .and_then(|e| model.enis[e].private_v4.first().copied())
                        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V4);
                    (addr, eni.map(EniIdx::from))
                }
                TargetRef::Ip(a) => (a, topo.owner_of(a)),
            };
            Target {
                id: target.id.clone(),
                res: eni.map_or(group_res, |e| topo.enis[e].owner),
                addr,
                eni,
                port: target.port.unwrap_or(g.port),
                az: eni.map(|e| topo.subnet_of(e).az),
                health: TargetHealth::default(),
            }
        })
        .collect()
}
