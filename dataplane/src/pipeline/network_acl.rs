//! Network ACLs at the subnet boundary (SPEC §3): stateless, ordered, first match wins, the `*`
//! rule denies the rest. A filter the nodes apply when a packet leaves or enters a subnet.

use super::driver::Driver;
use crate::tables::nacl::NaclDecision;
use crate::topology::{EniIdx, SubnetIdx};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};
use crate::wire::Family;

/// Which list of a network ACL applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Outbound,
    Inbound,
}

/// The outbound rules of `subnet`'s network ACL; a denial is logged as REJECT on `eni` (the
/// sender). Returns what passes.
pub(super) fn egress<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    subnet: SubnetIdx,
    eni: Option<EniIdx>,
) -> Option<D::Packet> {
    filter(d, p, subnet, eni, Direction::Outbound)
}

/// The inbound rules of `subnet`'s network ACL; a denial is logged as REJECT on `eni` (the
/// receiver). Returns what passes.
pub(super) fn ingress<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    subnet: SubnetIdx,
    eni: Option<EniIdx>,
) -> Option<D::Packet> {
    filter(d, p, subnet, eni, Direction::Inbound)
}

#[inline(always)]
fn filter<'t, D: Driver<'t>>(
    d: &mut D,
    p: D::Packet,
    subnet: SubnetIdx,
    eni: Option<EniIdx>,
    dir: Direction,
) -> Option<D::Packet> {
    let topo = d.topo();
    let acl = &topo.network_acls[topo.subnets[subnet].network_acl];
    let v6 = D::TRACING && d.family(&p) == Family::V6;
    let (rules, stage, flow_dir) = match dir {
        Direction::Outbound => (acl.egress_rules(), Stage::NaclEgress, FlowDirection::Egress),
        Direction::Inbound => (
            acl.ingress_rules(),
            Stage::NaclIngress,
            FlowDirection::Ingress,
        ),
    };
    let decided = d.decide(p, &rules);
    let text = |key| D::TRACING.then(|| NaclDecision::from(key).describe(v6));
    if let Some((p, key)) = decided.fail {
        if let Some(e) = eni {
            d.observe(&p, e, flow_dir, FlowAction::Reject);
        }
        let (reason, detail) = match dir {
            Direction::Outbound => (
                DropReason::NaclEgressDenied,
                "outbound rules deny the packet (matched against destination address and port)",
            ),
            Direction::Inbound => (
                DropReason::NaclIngressDenied,
                "inbound rules deny the packet (matched against source address and destination port)",
            ),
        };
        d.drop(p, reason, acl.res, stage, text(key), |_| detail.into());
    }
    let (p, key) = decided.pass?;
    let detail = match dir {
        Direction::Outbound => "outbound rule allows",
        Direction::Inbound => "inbound rule allows",
    };
    d.hop(&p, acl.res, stage, Action::Allow, text(key), |_| {
        detail.into()
    });
    Some(p)
}
