//! Application Load Balancer target health (SPEC §11.2.8): from every node of a load balancer
//! whose listeners use the group, a TCP handshake to the target's health-check port through the
//! pipeline ([`crate::pipeline::health::handshake`]), then the simulated host's answer to
//! `GET <path>` judged by the group's matcher. Stored in the same [`TargetHealth`] as NLB
//! targets, so every command lists them alike.

use super::hosts::{Answer, Hosts};
use crate::pipeline::health::handshake;
use crate::topology::nlb::{HealthState, TargetHealth};
use crate::topology::target_health::HealthReason;
use crate::topology::{EniIdx, EniKind, Topology};

/// Compute the health of every Application Load Balancer target with `hosts` answering.
pub fn check(topo: &mut Topology, hosts: &Hosts) {
    let mut results = Vec::new();
    for (gi, g) in topo.alb.target_groups.iter().enumerate() {
        let nodes: Vec<EniIdx> = topo
            .alb
            .load_balancers
            .iter()
            .filter(|lb| {
                lb.listeners.iter().any(|l| {
                    l.default_action.forwards_to(gi)
                        || l.rules.iter().any(|r| r.action.forwards_to(gi))
                })
            })
            .flat_map(|lb| lb.nodes.iter().copied())
            .collect();
        let hc = &g.health_check;
        for (ti, t) in g.targets.iter().enumerate() {
            if t.health.overridden {
                continue;
            }
            let port = hc.port.unwrap_or(t.port);
            let mut health = TargetHealth::from_checks(
                &nodes,
                |&n| handshake(topo, n, t.addr, t.eni, port),
                String::new,
            );
            if health.state == HealthState::Unhealthy {
                // The SYN or SYN-ACK was dropped: no answer within the timeout.
                health.reason = Some(HealthReason::TargetTimeout);
                health.description = format!("Request timed out: {}", health.description);
            } else if health.state == HealthState::Healthy {
                let answer = match t.eni {
                    Some(e) if topo.enis[e].kind == EniKind::Host => {
                        hosts.tcp(e, port, Some(&hc.path))
                    }
                    _ => Answer::Http(200, None),
                };
                health = judge(answer, hc, port);
            }
            results.push((gi, ti, health));
        }
    }
    for (gi, ti, h) in results {
        topo.alb.target_groups[gi].targets[ti].health = h;
    }
}

fn judge(answer: Answer<'_>, hc: &crate::topology::alb::AlbHealthCheck, port: u16) -> TargetHealth {
    let unhealthy = |reason, description: String| TargetHealth {
        state: HealthState::Unhealthy,
        reason: Some(reason),
        description,
        overridden: false,
    };
    let check = format!("{} GET {} on port {port}", hc.protocol.as_str(), hc.path);
    match answer {
        Answer::Http(s, _) if hc.matches(s) => TargetHealth {
            state: HealthState::Healthy,
            reason: None,
            description: format!("{check} answers {s}"),
            overridden: false,
        },
        Answer::Http(s, _) => unhealthy(
            HealthReason::TargetResponseCodeMismatch,
            format!(
                "Health checks failed with these codes: [{s}] ({check}; matcher {})",
                hc.matcher
            ),
        ),
        Answer::Refused => unhealthy(
            HealthReason::TargetFailedHealthChecks,
            format!("{check}: connection refused (nothing listens on the port, --hosts)"),
        ),
        Answer::Plain => unhealthy(
            HealthReason::TargetTimeout,
            format!("Request timed out: {check}: the port does not speak HTTP (--hosts)"),
        ),
    }
}
