//! `describe-vpc-endpoints`.

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    pub(super) fn endpoint(&self, ep: &VpcEndpoint) -> Value {
        let m = self.m;
        let mut v = json!({
            "VpcEndpointId": ep.origin.id,
            "VpcId": m.vpcs[ep.vpc].origin.id,
            "ServiceName": ep.service_name,
            "State": "available",
            "OwnerId": self.account(&ep.origin),
            "PolicyDocument": ep.policy.clone().unwrap_or_else(|| {
                r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#.into()
            }),
            "RouteTableIds": [], "SubnetIds": [], "NetworkInterfaceIds": [], "Groups": [],
            "PrivateDnsEnabled": false,
        });
        match &ep.kind {
            VpcEndpointKind::Gateway { route_tables, .. } => {
                v["VpcEndpointType"] = json!("Gateway");
                v["RouteTableIds"] = json!(route_tables
                    .iter()
                    .map(|r| m.route_tables[*r].origin.id.clone())
                    .collect::<Vec<_>>());
            }
            VpcEndpointKind::Interface {
                subnets,
                enis,
                private_dns_enabled,
                ..
            } => {
                v["VpcEndpointType"] = json!("Interface");
                v["PrivateDnsEnabled"] = json!(private_dns_enabled);
                v["SubnetIds"] = json!(subnets
                    .iter()
                    .map(|s| m.subnets[*s].origin.id.clone())
                    .collect::<Vec<_>>());
                v["NetworkInterfaceIds"] = json!(enis
                    .iter()
                    .map(|e| m.enis[*e].origin.id.clone())
                    .collect::<Vec<_>>());
                let groups = enis
                    .first()
                    .map_or(&[][..], |e| &m.enis[*e].security_groups[..]);
                v["Groups"] = json!(groups
                    .iter()
                    .map(|g| json!({"GroupId": m.security_groups[*g].origin.id, "GroupName": m.security_groups[*g].group_name}))
                    .collect::<Vec<_>>());
            }
        }
        self.tags(&mut v, &ep.origin, "Tags");
        v
    }
}
