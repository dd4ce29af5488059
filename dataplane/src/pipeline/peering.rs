//! VPC peering (SPEC §8): a route sends the packet over a peering connection into the peer VPC;
//! only addresses inside the peer VPC are reachable (no transit, no edge-to-edge routing).

use super::driver::{within, Driver, Field};
use super::route_table::deliver_in_vpc;
use crate::topology::maps::VpcRanges;
use crate::topology::{PeeringIdx, VpcIdx};
use crate::trace::{Action, Stage};
use crate::verdict::DropReason;

/// `Peering`: a route of `from_vpc` sends the packet over peering connection `x`.
pub(super) fn peering<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, x: PeeringIdx, from_vpc: VpcIdx) {
    let topo = d.topo();
    let pcx = &topo.peerings[x];
    let Some(peer) = pcx.peer_of(from_vpc) else {
        d.drop(
            p,
            DropReason::BlackholeRoute,
            pcx.res,
            Stage::Peering,
            None,
            |_| "the peering connection does not involve this VPC".into(),
        );
        return;
    };
    let pv = &topo.vpcs[peer];
    let (inside, outside) = within(d, p, Field::Dst, &VpcRanges(pv));
    if let Some(p) = outside {
        let name = topo.name(pv.res);
        d.drop(
            p,
            DropReason::PeeringNotTransitive,
            pcx.res,
            Stage::Peering,
            None,
            |h| {
                format!(
                    "{} is not inside {name}: peering carries no transit or edge-to-edge traffic",
                    h.dst
                )
            },
        );
    }
    let Some(p) = inside else { return };
    d.hop(&p, pcx.res, Stage::Peering, Action::Forward, None, |_| {
        format!("to {}", topo.name(pv.res))
    });
    deliver_in_vpc(
        d,
        p,
        peer,
        None,
        pcx.res,
        Stage::Peering,
        "no network interface in the peer VPC has address",
    );
}
