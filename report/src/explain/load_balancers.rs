//! Network Load Balancers: the listener or the cross-zone setting that serves the packet.

use super::{Drop, Finding};
use vpcsim_controlplane::fix::Change;

/// A Network Load Balancer without a listener for the packet: one like an existing listener.
pub(super) fn nlb_no_listener(d: &Drop) -> Finding {
    let Drop { topo, v, h, .. } = *d;
    let mut fix = None;
    let mut no_fix = None;
    let message = {
        let lb = topo.nlb.load_balancers.position(|l| l.res == v.at);
        // A listener like an existing one whose target group takes this protocol.
        let like = lb.and_then(|i| {
            topo.nlb.load_balancers[i].listeners.iter().find_map(|l| {
                let g = &topo.nlb.target_groups[l.target_group];
                g.protocol
                    .accepts(h.proto)
                    .then_some((i, g.protocol, l.target_group))
            })
        });
        match like {
                Some((load_balancer, protocol, target_group)) => {
                    fix = Some(Change::AddListener {
                        load_balancer: load_balancer.index(),
                        protocol,
                        port: h.dst_port,
                        target_group: target_group.index(),
                    })
                }
                None => no_fix = Some("no target group of this load balancer takes this protocol: create one with targets, then a listener"),
            }
        format!(
            "{} has no {} listener on port {}",
            topo.name(v.at),
            h.proto,
            h.dst_port
        )
    };
    Finding {
        message,
        fix,
        no_fix,
    }
}

/// A target group with no target the node may use: cross-zone load balancing, when it has targets.
pub(super) fn nlb_no_target(d: &Drop) -> Finding {
    let Drop { topo, v, h, .. } = *d;
    let mut fix = None;
    let mut no_fix = None;
    let message = {
        let tg = topo.nlb.target_groups.position(|g| g.res == v.at);
        let lb = tg.and_then(|g| {
            topo.nlb.load_balancers.position(|l| {
                l.listeners
                    .iter()
                    .any(|x| x.target_group == g && x.port == h.dst_port)
            })
        });
        match (lb, tg) {
            (Some(load_balancer), Some(target_group))
                if !topo.nlb.target_groups[target_group].targets.is_empty() =>
            {
                fix = Some(Change::EnableCrossZone {
                    load_balancer: load_balancer.index(),
                    target_group: target_group.index(),
                });
                format!(
                    "{} has no usable target in the node's Availability Zone and cross-zone load balancing is off",
                    topo.name(v.at)
                )
            }
            _ => {
                no_fix = Some("register targets with the target group (TargetGroup Targets)");
                format!("{} has no registered target", topo.name(v.at))
            }
        }
    };
    Finding {
        message,
        fix,
        no_fix,
    }
}

/// An Application Load Balancer without a listener on the port: one like its first listener.
pub(super) fn alb_no_listener(d: &Drop) -> Finding {
    let Drop { topo, m, v, h, .. } = *d;
    let message = format!(
        "{} has no listener on TCP port {}",
        topo.name(v.at),
        h.dst_port
    );
    let lb = m
        .alb
        .load_balancers
        .iter()
        .position(|lb| topo.find_resource(&lb.origin.id) == Some(v.at));
    match lb.and_then(|i| m.alb.listeners.iter().position(|l| l.load_balancer == i)) {
        Some(like) => Finding {
            message,
            fix: Some(Change::AddAlbListener {
                like,
                port: h.dst_port,
            }),
            no_fix: None,
        },
        None => Finding::no_fix(
            message,
            "the load balancer has no listener to copy: add one (HTTP or HTTPS) with a default action",
        ),
    }
}
