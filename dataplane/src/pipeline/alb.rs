//! Application Load Balancer nodes (SPEC §11.2.1): the load balancer is a proxy, so a client's
//! connection ends at the node. Its security groups admit the client's packet, then a listener
//! on the destination port takes it (`ALB_NO_LISTENER` without one). What happens to an HTTP
//! request on that connection, and the node's own connection to a target, is
//! [`crate::alb`]'s: the backend connection is a separate walk that starts at the node.

use super::driver::{Conn, Driver};
use super::interface;
use super::security_group::{self, Direction};
use crate::aws::Zone;
use crate::state::conntrack::Tracked;
use crate::topology::alb::AlbListenerRules;
use crate::topology::{AlbIdx, EniIdx};
use crate::trace::{Action, Stage};
use crate::verdict::DropReason;

/// `Alb`: the packet reached node `node` of load balancer `lb` (its subnet's NACL already
/// passed).
pub(super) fn arrive<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, lb: AlbIdx, node: EniIdx) {
    let mut client = None;
    for (conn, p) in d.conntrack(p, Zone::Interface(node), false) {
        match conn {
            // The reply of a connection the node opened (to a target, a health check).
            Some(Conn::Tracked(Tracked::Reply)) => {
                if let Some(p) = security_group::check(d, p, node, Direction::Ingress) {
                    interface::deliver(d, p, node);
                }
            }
            Some(Conn::Unknown(proof) | Conn::TrackedEitherSide(proof)) => d.undecided(
                p,
                proof,
                "depends on connection-tracking state (whether the packet answers the node's own connection)",
            ),
            _ => super::driver::gather(d, &mut client, p),
        }
    }
    let Some(p) = client else { return };
    let Some(p) = security_group::check(d, p, node, Direction::Ingress) else {
        return;
    };
    let topo = d.topo();
    let balancer = topo.alb.get(lb);
    for (li, p) in d.split_rules(p, &AlbListenerRules(&balancer.listeners)) {
        let Some(li) = li else {
            d.drop(
                p,
                DropReason::AlbNoListener,
                balancer.res,
                Stage::AlbListener,
                None,
                |h| {
                    format!(
                        "no listener of the load balancer takes {} port {}",
                        h.proto, h.dst_port
                    )
                },
            );
            continue;
        };
        let listener = &balancer.listeners[li as usize];
        if D::TRACING {
            // Certificates are kept, not used: TLS is not terminated.
            let rule = match listener.certificates.len() {
                0 => format!("{}:{}", listener.protocol.as_str(), listener.port),
                n => format!(
                    "{}:{} ({n} certificate{})",
                    listener.protocol.as_str(),
                    listener.port,
                    if n == 1 { "" } else { "s" }
                ),
            };
            d.hop(
                &p,
                listener.res,
                Stage::AlbListener,
                Action::Allow,
                Some(rule),
                |_| {
                    format!(
                        "listener of {}: the load balancer ends the client's connection",
                        topo.name(balancer.res)
                    )
                },
            );
        }
        interface::deliver(d, p, node);
    }
}
