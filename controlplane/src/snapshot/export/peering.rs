//! `describe-vpc-peering-connections`.

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    pub(super) fn peering(&self, p: &Peering) -> Value {
        let m = self.m;
        let info = |v: &Vpc| {
            let t = m.templates.get(v.origin.template);
            json!({
                "VpcId": v.origin.id,
                "CidrBlock": v.cidrs_v4.first().map(|c| c.to_string()),
                "CidrBlockSet": v.cidrs_v4.iter().map(|c| json!({"CidrBlock": c.to_string()})).collect::<Vec<_>>(),
                "OwnerId": t.map(|t| t.account_id.clone()),
                "Region": t.map(|t| t.region.clone()),
            })
        };
        let accepter = match p.accepter {
            Some(a) => info(&m.vpcs[a]),
            None => json!({"VpcId": p.peer_vpc_id}),
        };
        let mut out = json!({
            "VpcPeeringConnectionId": p.origin.id,
            "RequesterVpcInfo": info(&m.vpcs[p.requester]),
            "AccepterVpcInfo": accepter,
            "Status": {"Code": "active", "Message": "Active"},
        });
        self.tags(&mut out, &p.origin, "Tags");
        out
    }
}
