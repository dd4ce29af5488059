//! Security groups from `describe-security-groups`: the groups, then their rules (once every
//! group and prefix list they reference is known).

use super::{int, list, s, Item, Reader, Ref};
use crate::load::parse_protocol;
use crate::model::*;
use ipnet::IpNet;
use vpcsim_dataplane::wire::IpProtocol;

impl Reader {
    pub(super) fn add_sg(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, "AWS::EC2::SecurityGroup", "GroupId") else {
            return;
        };
        let id = origin.id.clone();
        let vpc = match s(&it.v, "VpcId") {
            Some(_) => match self.vpc_of(it, &id) {
                Some(v) => Some(v),
                None => return,
            },
            None => None,
        };
        let group_name = s(&it.v, "GroupName").unwrap_or_default().to_string();
        let i = self.model.security_groups.len();
        if let Some(v) = vpc {
            if group_name == "default" && self.model.vpcs[v].default_security_group == usize::MAX {
                self.model.vpcs[v].default_security_group = i;
            }
        }
        let description = s(&it.v, "Description").unwrap_or(&group_name).to_string();
        self.model.security_groups.push(SecurityGroup {
            origin,
            vpc,
            group_name,
            description,
            ingress: vec![],
            egress: vec![],
        });
        self.by_id.insert(id, Ref::Sg(i));
    }

    pub(super) fn add_sg_rules(&mut self, it: &Item) {
        let Some(gid) = s(&it.v, "GroupId") else {
            return;
        };
        let Some(&Ref::Sg(g)) = self.by_id.get(gid) else {
            return;
        };
        if self.model.security_groups[g].origin.template != it.file {
            return;
        }
        let gid = gid.to_string();
        for (key, ingress) in [("IpPermissions", true), ("IpPermissionsEgress", false)] {
            let mut rules = Vec::new();
            for perm in list(&it.v, key) {
                let proto = s(perm, "IpProtocol")
                    .map(str::to_string)
                    .or_else(|| int(perm, "IpProtocol").map(|n| n.to_string()))
                    .unwrap_or_default();
                let protocol = match parse_protocol(&proto) {
                    Ok(p) => p,
                    Err(e) => {
                        self.error(
                            it.file,
                            &gid,
                            "InvalidParameterValue",
                            format!("{key}: IpProtocol: {e}"),
                        );
                        continue;
                    }
                };
                let (from, to) = (int(perm, "FromPort"), int(perm, "ToPort"));
                let (from_port, to_port) = match protocol {
                    None => (-1, -1),
                    Some(IpProtocol::TCP | IpProtocol::UDP) => match (from, to) {
                        (Some(f), Some(t)) if f == -1 || t == -1 => (0, 65535),
                        (Some(f), Some(t))
                            if (0..=65535).contains(&f) && (0..=65535).contains(&t) && f <= t =>
                        {
                            (f as i32, t as i32)
                        }
                        (None, None) => (0, 65535),
                        _ => {
                            self.error(
                                it.file,
                                &gid,
                                "InvalidParameterValue",
                                format!(
                                    "{key}: FromPort {} and ToPort {} are not a port range (0-65535, or -1 for all)",
                                    shown(from),
                                    shown(to)
                                ),
                            );
                            continue;
                        }
                    },
                    Some(IpProtocol::ICMP | IpProtocol::ICMPV6) => {
                        (from.unwrap_or(-1) as i32, to.unwrap_or(-1) as i32)
                    }
                    Some(_) => (-1, -1),
                };
                let rule = |peer: SgPeer, d: Option<&str>| SgRule {
                    protocol,
                    from_port,
                    to_port,
                    peer,
                    description: d.map(str::to_string),
                };
                // Both families: the list, its CIDR field, and whether that field is IPv6.
                for (field, cidr, v6) in [
                    ("IpRanges", "CidrIp", false),
                    ("Ipv6Ranges", "CidrIpv6", true),
                ] {
                    for r in list(perm, field) {
                        match s(r, cidr).map(str::parse::<IpNet>) {
                            Some(Ok(c)) if matches!(c, IpNet::V6(_)) == v6 => {
                                rules.push(rule(SgPeer::Cidr(c.trunc()), s(r, "Description")))
                            }
                            _ => self.error(
                                it.file,
                                &gid,
                                "InvalidParameterValue",
                                format!("{key}: bad {cidr} {:?}", s(r, cidr)),
                            ),
                        }
                    }
                }
                for r in list(perm, "UserIdGroupPairs") {
                    let Some(other) = s(r, "GroupId") else {
                        continue;
                    };
                    match self.by_id.get(other).copied() {
                        Some(Ref::Sg(o)) if self.stale(g, o) => self.warn(it.file, &gid, "StaleSecurityGroupRule", format!("{key}: security group {other} is in a VPC neither this one nor peered with it (a peering the snapshot lacks, or deleted): the rule matches nothing")),
                        Some(Ref::Sg(o)) => rules.push(rule(SgPeer::Group(o), s(r, "Description"))),
                        // A group of another account, or one the export missed: its members are
                        // unknown, so the rule matches nothing (left out) and is listed.
                        _ => self.warn(it.file, &gid, "UnresolvedReference.Group", format!("{key}: security group {other} is not in the snapshot: the rule matches nothing")),
                    }
                }
                for r in list(perm, "PrefixListIds") {
                    let Some(pl) = s(r, "PrefixListId") else {
                        continue;
                    };
                    match self.by_id.get(pl).copied() {
                        Some(Ref::PrefixList(p)) => rules.push(rule(SgPeer::PrefixList(p), s(r, "Description"))),
                        _ => self.warn(it.file, &gid, "UnresolvedReference", format!("{key}: prefix list {pl} is not in the snapshot (add `aws ec2 describe-prefix-lists` output); the rule is left out")),
                    }
                }
            }
            let sg = &mut self.model.security_groups[g];
            if ingress {
                sg.ingress = rules;
            } else {
                sg.egress = rules;
            }
        }
    }

    /// AWS keeps a rule whose group is in a VPC that is no longer peered with the rule's own
    /// (describe-stale-security-groups lists it); such a rule matches nothing.
    fn stale(&self, g: usize, other: usize) -> bool {
        let m = &self.model;
        let (Some(x), Some(y)) = (m.security_groups[g].vpc, m.security_groups[other].vpc) else {
            return false;
        };
        x != y
            && !m.peerings.iter().any(|p| {
                (p.requester == x && p.accepter == Some(y))
                    || (p.requester == y && p.accepter == Some(x))
            })
    }
}

/// A port as the snapshot gave it, for messages.
fn shown(port: Option<i64>) -> String {
    port.map_or_else(|| "absent".to_string(), |p| p.to_string())
}
