//! `describe-security-groups`.

use super::Exporter;
use crate::model::*;
use ipnet::IpNet;
use serde_json::{json, Value};
use vpcsim_dataplane::wire::IpProtocol;

impl Exporter<'_> {
    fn permissions(&self, rules: &[SgRule]) -> Vec<Value> {
        rules
            .iter()
            .map(|r| {
                let mut p = json!({
                    "IpProtocol": protocol(r.protocol),
                    "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": [], "PrefixListIds": [],
                });
                if r.protocol.is_some() {
                    p["FromPort"] = json!(r.from_port);
                    p["ToPort"] = json!(r.to_port);
                }
                let mut peer = match &r.peer {
                    SgPeer::Cidr(IpNet::V4(c)) => ("IpRanges", json!({"CidrIp": c.to_string()})),
                    SgPeer::Cidr(IpNet::V6(c)) => {
                        ("Ipv6Ranges", json!({"CidrIpv6": c.to_string()}))
                    }
                    SgPeer::Group(g) => {
                        let g = &self.m.security_groups[*g];
                        (
                            "UserIdGroupPairs",
                            json!({"GroupId": g.origin.id, "UserId": self.account(&g.origin)}),
                        )
                    }
                    SgPeer::PrefixList(pl) => (
                        "PrefixListIds",
                        json!({"PrefixListId": self.m.prefix_lists[*pl].origin.id}),
                    ),
                };
                if let Some(d) = &r.description {
                    peer.1["Description"] = json!(d);
                }
                p[peer.0] = json!([peer.1]);
                p
            })
            .collect()
    }

    pub(super) fn sg(&self, g: &SecurityGroup) -> Value {
        let mut out = json!({
            "GroupId": g.origin.id,
            "GroupName": g.group_name,
            "Description": g.description,
            "OwnerId": self.account(&g.origin),
            "IpPermissions": self.permissions(&g.ingress),
            "IpPermissionsEgress": self.permissions(&g.egress),
        });
        if let Some(v) = g.vpc {
            out["VpcId"] = json!(self.m.vpcs[v].origin.id);
        }
        self.tags(&mut out, &g.origin, "Tags");
        out
    }
}

/// The protocol as describe-security-groups prints it: names for the common four, numbers
/// otherwise, `-1` for all.
fn protocol(p: Option<IpProtocol>) -> String {
    p.map_or_else(|| "-1".into(), |p| p.to_string())
}
