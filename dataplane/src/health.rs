//! Target health checks of Network and Gateway Load Balancers alike: a TCP handshake from a load
//! balancer node's interface to the target's health-check port, pushed through the pipeline
//! with the request+reply driver ([`crate::exchange`]), so routes, network ACLs and security
//! groups decide as for any packet. Run once, when the topology is built: no clock, no probes
//! between packets.

use crate::exchange::exchange;
use crate::flow::{Header, Timestamp, PROTO_TCP, TCP_SYN};
use crate::pipeline::Origin;
use crate::state::{State, StateConfig};
use crate::topology::{Idx, Topology};
use crate::trace::NoTrace;
use crate::verdict::{Disposition, Verdict};
use std::net::IpAddr;

/// Source port of the health checks a node sends (any ephemeral port: checks are separate
/// connections; this one makes the simulated handshake reproducible).
const SOURCE_PORT: u16 = 43_210;

/// One health check from node interface `node` to `target:port` (`target_eni`: the interface
/// that owns the target address, when the topology has one): the SYN must be delivered there
/// and the SYN-ACK back at the node. The error says where the check failed.
pub fn handshake(
    topo: &Topology,
    node: Idx,
    target: IpAddr,
    target_eni: Option<Idx>,
    port: u16,
) -> Result<(), String> {
    let Some(src) = topo.enis[node as usize].primary_v4().map(IpAddr::V4) else {
        return Err("the node has no IPv4 address".into());
    };
    let mut state = State::new(StateConfig {
        conntrack_capacity: 64,
        ..StateConfig::default()
    });
    let syn = Header {
        src,
        dst: target,
        proto: PROTO_TCP,
        src_port: SOURCE_PORT,
        dst_port: port,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: TCP_SYN,
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
