//! Target health checks of Network and Gateway Load Balancers alike: a TCP handshake from a load
//! balancer node's interface to the target's health-check port, pushed through the pipeline
//! with the request+reply driver ([`crate::pipeline::exchange`]), so routes, network ACLs and security
//! groups decide as for any packet. Run once, when the topology is built: no clock, no probes
//! between packets.

use crate::pipeline::exchange::exchange;
use crate::pipeline::Origin;
use crate::state::{State, StateConfig};
use crate::topology::gwlb::GwlbNode;
use crate::topology::nlb::{HealthReason, HealthState, TargetHealth};
use crate::topology::target_health::ASSUMED_HTTP_STATUS;
use crate::topology::{EniIdx, Topology};
use crate::trace::NoTrace;
use crate::verdict::{Disposition, Verdict};
use crate::wire::{tcp_flags, Header, IpProtocol, Timestamp};
use std::net::IpAddr;

/// Compute the health of every Network and Gateway Load Balancer target: the topology must be
/// complete, since a check is a packet through it. Targets whose health was set by hand
/// (`--target-health`) keep it.
pub fn check(topo: &mut Topology) {
    nlb_targets(topo);
    gwlb_targets(topo);
}

/// Compute every target's health with the pipeline: a target is healthy when a TCP handshake
/// from at least one node of a load balancer that forwards to its group reaches the target's
/// health-check port and the reply comes back (security groups, network ACLs and routes of the
/// model decide). Overrides set earlier are kept.
fn nlb_targets(topo: &mut Topology) {
    let mut results = Vec::new();
    for (gi, g) in topo.nlb.target_groups.iter_enumerated() {
        let nodes: Vec<EniIdx> = topo
            .nlb
            .load_balancers
            .iter()
            .filter(|lb| lb.listeners.iter().any(|l| l.target_group == gi))
            .flat_map(|lb| lb.nodes.iter().copied())
            .collect();
        for (ti, t) in g.targets.iter().enumerate() {
            if t.health.overridden {
                continue;
            }
            let port = g.health_check_port.unwrap_or(t.port);
            let mut health = TargetHealth::from_checks(
                &nodes,
                |&n| handshake(topo, n, t.addr, t.eni, port),
                || {
                    if g.health_check_protocol == "TCP" {
                        format!("TCP health check on port {port} passes")
                    } else {
                        format!(
                            "{} health check on port {port}: the TCP handshake passes and the application answers {ASSUMED_HTTP_STATUS} (assumed)",
                            g.health_check_protocol
                        )
                    }
                },
            );
            // The check reaches the application, whose answer the matcher refuses.
            if let Some(codes) = g
                .health_check_matcher
                .as_ref()
                .filter(|c| health.state == HealthState::Healthy && !c.accepts(ASSUMED_HTTP_STATUS))
            {
                health = TargetHealth {
                    state: HealthState::Unhealthy,
                    reason: Some(HealthReason::TargetResponseCodeMismatch),
                    description: format!(
                        "Health checks failed with these codes: [{ASSUMED_HTTP_STATUS}] (the matcher accepts {codes})"
                    ),
                    overridden: false,
                };
            }
            results.push((gi, ti, health));
        }
    }
    for (gi, ti, h) in results {
        topo.nlb.target_groups[gi].targets[ti].health = h;
    }
}

/// Compute every appliance's health with the pipeline ([`crate::pipeline::health`]): a TCP handshake
/// from a node of the load balancer to the health-check port and back, through the node and
/// appliance subnets' route tables and network ACLs and the appliance's security groups.
/// Targets overridden earlier keep their state.
fn gwlb_targets(topo: &mut Topology) {
    let mut results = Vec::new();
    for (gi, g) in topo.gwlb.target_groups.iter_enumerated() {
        let nodes: Vec<GwlbNode> = topo
            .gwlb
            .load_balancers
            .iter()
            .filter(|l| l.target_group == Some(gi))
            .flat_map(|l| l.nodes.iter().copied())
            .collect();
        for (ti, t) in g.targets.iter().enumerate() {
            if t.health.overridden {
                continue;
            }
            let health = TargetHealth::from_checks(
                &nodes,
                |n| {
                    handshake(
                        topo,
                        n.eni,
                        IpAddr::V4(t.addr),
                        Some(t.eni),
                        g.health_check_port,
                    )
                },
                || {
                    format!(
                        "{} health check on port {} passes",
                        g.health_check_protocol, g.health_check_port
                    )
                },
            );
            results.push((gi, ti, health));
        }
    }
    for (gi, ti, h) in results {
        topo.gwlb.target_groups[gi].targets[ti].health = h;
    }
}

/// Source port of the health checks a node sends (any ephemeral port: checks are separate
/// connections; this one makes the simulated handshake reproducible).
const SOURCE_PORT: u16 = 43_210;

/// One health check from node interface `node` to `target:port` (`target_eni`: the interface
/// that owns the target address, when the topology has one): the SYN must be delivered there
/// and the SYN-ACK back at the node. The error says where the check failed.
pub fn handshake(
    topo: &Topology,
    node: EniIdx,
    target: IpAddr,
    target_eni: Option<EniIdx>,
    port: u16,
) -> Result<(), String> {
    let Some(src) = topo.enis[node].primary_v4().map(IpAddr::V4) else {
        return Err("the node has no IPv4 address".into());
    };
    let mut state = State::new(StateConfig {
        conntrack_capacity: 64,
        ..StateConfig::default()
    });
    let syn = Header {
        src,
        dst: target,
        proto: IpProtocol::TCP,
        src_port: SOURCE_PORT,
        dst_port: port,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: tcp_flags::SYN,
        ttl: 64,
        len: 60,
    };
    let describe = |v: &Verdict| {
        let what = match (v.disposition, v.reason) {
            (Disposition::Dropped, Some(r)) => format!("DROPPED at {}: {r}", topo.name(v.at)),
            (d, _) => format!("{d} at {}", topo.name(v.at)),
        };
        format!("health check from {src} -> {target}:{port}: {what}")
    };
    let ex = exchange::<NoTrace>(topo, &mut state, syn, Origin::Eni(node), Timestamp(0));
    let reached = ex.request.disposition == Disposition::Delivered
        && target_eni.is_some()
        && ex.request.delivered_eni == target_eni;
    let Some((back, _)) = ex.reply.filter(|_| reached) else {
        return Err(describe(&ex.request));
    };
    if back.disposition == Disposition::Delivered && back.delivered_eni == Some(node) {
        Ok(())
    } else {
        Err(format!("reply of the {}", describe(&back)))
    }
}
