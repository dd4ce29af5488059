//! `describe-internet-gateways`, `describe-egress-only-internet-gateways` and
//! `describe-nat-gateways`.

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    pub(super) fn internet_gateway(&self, g: &InternetGateway) -> Value {
        let mut v = json!({
            "InternetGatewayId": g.origin.id,
            "OwnerId": self.account(&g.origin),
            "Attachments": g.vpc.map(|v| vec![json!({"State": "available", "VpcId": self.m.vpcs[v].origin.id})]).unwrap_or_default(),
        });
        self.tags(&mut v, &g.origin, "Tags");
        v
    }

    pub(super) fn egress_only_internet_gateway(&self, g: &EgressOnlyInternetGateway) -> Value {
        let mut v = json!({
            "EgressOnlyInternetGatewayId": g.origin.id,
            "Attachments": [{"State": "attached", "VpcId": self.m.vpcs[g.vpc].origin.id}],
        });
        self.tags(&mut v, &g.origin, "Tags");
        v
    }

    pub(super) fn nat(&self, n: &NatGateway) -> Value {
        let m = self.m;
        let e = &m.enis[n.eni];
        let subnet = &m.subnets[n.subnet];
        let addresses: Vec<Value> = e
            .private_v4
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let mut v = json!({"PrivateIp": a.to_string(), "NetworkInterfaceId": e.origin.id, "IsPrimary": k == 0});
                if let Some(eip) = m.eips.iter().find(|x| x.association == Some((n.eni, *a))) {
                    v["AllocationId"] = json!(eip.allocation_id);
                    v["PublicIp"] = json!(eip.public_ip.to_string());
                }
                v
            })
            .collect();
        let mut out = json!({
            "NatGatewayId": n.origin.id,
            "SubnetId": subnet.origin.id,
            "VpcId": m.vpcs[subnet.vpc].origin.id,
            "State": "available",
            "ConnectivityType": if n.public { "public" } else { "private" },
            "NatGatewayAddresses": addresses,
        });
        self.tags(&mut out, &n.origin, "Tags");
        out
    }
}
