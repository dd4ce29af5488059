//! VPC peering connections; both accounts of a cross-account peering describe it.

use super::{s, Item, Reader, Ref};
use crate::model::*;

impl Reader {
    pub(super) fn add_peering(&mut self, it: &Item) {
        let status =
            it.v.get("Status")
                .and_then(|st| s(st, "Code"))
                .unwrap_or("active");
        if status != "active" {
            // Routes to a peering that is not active are blackholes; leaving it out does that.
            return;
        }
        let Some(origin) = self.origin_of(
            it,
            "AWS::EC2::VPCPeeringConnection",
            "VpcPeeringConnectionId",
        ) else {
            return;
        };
        let id = origin.id.clone();
        let side = |k: &str| it.v.get(k).and_then(|i| s(i, "VpcId")).map(str::to_string);
        let (Some(req), Some(acc)) = (side("RequesterVpcInfo"), side("AccepterVpcInfo")) else {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "RequesterVpcInfo.VpcId and AccepterVpcInfo.VpcId are required".into(),
            );
            return;
        };
        let (requester, accepter) =
            match (self.by_id.get(&req).copied(), self.by_id.get(&acc).copied()) {
                (Some(Ref::Vpc(r)), Some(Ref::Vpc(a))) => (r, Some(a)),
                (Some(Ref::Vpc(r)), _) => (r, None),
                (_, Some(Ref::Vpc(a))) => (a, None),
                _ => {
                    self.warn(
                        it.file,
                        &id,
                        "UnresolvedReference",
                        format!(
                            "neither {req} nor {acc} is in the snapshot: the peering is skipped"
                        ),
                    );
                    return;
                }
            };
        let peer_vpc_id = if accepter.is_none() && self.model.vpcs[requester].origin.id == acc {
            req
        } else {
            acc
        };
        let p = self.model.peerings.len();
        self.model.peerings.push(Peering {
            origin,
            requester,
            accepter,
            peer_vpc_id,
        });
        self.by_id.insert(id, Ref::Peering(p));
    }
}
