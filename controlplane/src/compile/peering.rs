//! VPC peering connections.

use super::res;
use crate::model::Model;
use vpcsim_dataplane::topology::{PeeringConnection, Topology};

/// Every peering connection.
pub(super) fn peering_connections(model: &Model, topo: &mut Topology) {
    for p in &model.peerings {
        let r = res(topo, &p.origin);
        topo.peerings.push(PeeringConnection {
            res: r,
            requester: p.requester.into(),
            // An unknown peer: routes to this peering compile to blackholes (route_tables).
            accepter: p.accepter.unwrap_or(p.requester).into(),
        });
    }
}
