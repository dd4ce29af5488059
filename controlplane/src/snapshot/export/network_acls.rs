//! `describe-network-acls`.

use super::{derived, Exporter};
use ipnet::IpNet;
use serde_json::{json, Value};
use vpcsim_dataplane::wire::IpProtocol;

impl Exporter<'_> {
    pub(super) fn nacl(&self, i: usize) -> Value {
        let m = self.m;
        let acl = &m.network_acls[i];
        let vpc = &m.vpcs[acl.vpc];
        let mut entries: Vec<Value> = acl
            .entries
            .iter()
            .map(|e| {
                let n = &e.entry;
                let mut v = json!({
                    "RuleNumber": n.number,
                    "Protocol": n.protocol.map(|p| p.0.to_string()).unwrap_or_else(|| "-1".into()),
                    "RuleAction": if n.allow { "allow" } else { "deny" },
                    "Egress": e.egress,
                });
                match n.cidr {
                    IpNet::V4(c) => v["CidrBlock"] = json!(c.to_string()),
                    IpNet::V6(c) => v["Ipv6CidrBlock"] = json!(c.to_string()),
                }
                if matches!(n.protocol, Some(IpProtocol::TCP | IpProtocol::UDP)) {
                    v["PortRange"] = json!({"From": n.ports.0, "To": n.ports.1});
                }
                if matches!(n.protocol, Some(IpProtocol::ICMP | IpProtocol::ICMPV6)) {
                    let f = |x: Option<u8>| x.map(i64::from).unwrap_or(-1);
                    v["IcmpTypeCode"] = json!({"Type": f(n.icmp_type), "Code": f(n.icmp_code)});
                }
                v
            })
            .collect();
        // The `*` rules describe-network-acls lists last.
        for egress in [false, true] {
            entries.push(
                json!({"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny",
                "Egress": egress, "CidrBlock": "0.0.0.0/0"}),
            );
            if !vpc.cidrs_v6.is_empty() {
                entries.push(
                    json!({"RuleNumber": 32768, "Protocol": "-1", "RuleAction": "deny",
                    "Egress": egress, "Ipv6CidrBlock": "::/0"}),
                );
            }
        }
        let associations: Vec<Value> = m
            .subnets
            .iter()
            .filter(|s| {
                s.network_acl == Some(i)
                    || (s.network_acl.is_none() && s.vpc == acl.vpc && vpc.default_network_acl == i)
            })
            .map(|s| {
                json!({"NetworkAclId": acl.origin.id, "SubnetId": s.origin.id,
                "NetworkAclAssociationId": derived("aclassoc", &s.origin.id)})
            })
            .collect();
        let mut out = json!({
            "NetworkAclId": acl.origin.id,
            "VpcId": vpc.origin.id,
            "OwnerId": self.account(&acl.origin),
            "IsDefault": acl.default,
            "Entries": entries,
            "Associations": associations,
        });
        self.tags(&mut out, &acl.origin, "Tags");
        out
    }
}
