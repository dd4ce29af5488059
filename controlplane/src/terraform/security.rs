//! Security groups and their rule resources, network ACLs, their rules and associations.

use super::refs::{Attr, Failed};
use super::*;

/// One peer of a security group rule: the Terraform attribute path and the CloudFormation
/// property (without its `Source`/`Destination` prefix where it has one) with its value.
struct Peer {
    path: String,
    prop: &'static str,
    value: Value,
}

impl Tx {
    pub(super) fn security_group(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        if let Some(vpc) = self.reference(r, &r.attr("vpc_id"))? {
            p.insert("VpcId".into(), vpc);
        }
        copy(&mut p, r, "name", "GroupName");
        copy(&mut p, r, "description", "GroupDescription");
        let mut rules = Vec::new();
        for (block, ingress) in [("ingress", true), ("egress", false)] {
            let mut inline = Vec::new();
            let list = r.get(block).and_then(Value::as_array).cloned();
            for (i, rule) in list.iter().flatten().enumerate() {
                let base = rule_base(rule, "protocol");
                for peer in self.inline_peers(r, block, i, rule)? {
                    if peer.prop == "SecurityGroupId" {
                        rules.push((ingress, base.clone(), peer));
                    } else {
                        let mut x = base.clone();
                        x.insert(peer_prop(peer.prop, ingress), peer.value);
                        inline.push(Value::Object(x));
                    }
                }
            }
            let key = if ingress {
                "SecurityGroupIngress"
            } else {
                "SecurityGroupEgress"
            };
            // Terraform deletes the default allow-all egress rule of a group it creates: an
            // empty `egress` means no outbound rule, which an explicit empty list says.
            p.insert(key.into(), Value::Array(inline));
        }
        self.emit(
            &r.address,
            "AWS::EC2::SecurityGroup",
            Some(Value::Object(p)),
        );
        // Rules naming groups are resources of their own, so that groups referring to each
        // other (or to themselves) do not form a dependency cycle.
        for (ingress, base, peer) in rules {
            let lid = format!("{}.{}", r.address, peer.path);
            self.emit_rule(&lid, ingress, json!({"Ref": r.address}), base, peer);
        }
        Ok(())
    }

    /// The peers of an inline rule: CIDR blocks, prefix lists, groups and `self`.
    fn inline_peers(
        &mut self,
        r: &Res,
        block: &str,
        i: usize,
        rule: &Value,
    ) -> Result<Vec<Peer>, Failed> {
        let mut peers = Vec::new();
        let at = path(block, i);
        strings(rule, "cidr_blocks", &at, "CidrIp", &mut peers);
        strings(rule, "ipv6_cidr_blocks", &at, "CidrIpv6", &mut peers);
        let pls =
            self.reference_list_or_literal(r, &r.nested(block, i, rule, "prefix_list_ids"))?;
        for (k, v) in pls.into_iter().enumerate() {
            let path = format!("{at}.prefix_list_ids[{k}]");
            peers.push(Peer {
                path,
                prop: "PrefixListId",
                value: v,
            });
        }
        let groups = self.reference_list(r, &r.nested(block, i, rule, "security_groups"))?;
        for (k, v) in groups.into_iter().enumerate() {
            let path = format!("{at}.security_groups[{k}]");
            peers.push(Peer {
                path,
                prop: "SecurityGroupId",
                value: v,
            });
        }
        if rule.get("self") == Some(&json!(true)) {
            let path = format!("{at}.self");
            let value = json!({"Ref": r.address});
            peers.push(Peer {
                path,
                prop: "SecurityGroupId",
                value,
            });
        }
        Ok(peers)
    }

    /// Ids that may be resources of the file or AWS-managed (prefix lists of AWS services).
    fn reference_list_or_literal(&mut self, r: &Res, a: &Attr) -> Result<Vec<Value>, Failed> {
        let known: Vec<&str> = a
            .value
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !known.is_empty() && known.iter().all(|id| !self.by_id.contains_key(*id)) {
            return Ok(known.into_iter().map(|id| json!(id)).collect());
        }
        self.reference_list(r, a)
    }

    fn emit_rule(
        &mut self,
        lid: &str,
        ingress: bool,
        group: Value,
        mut base: Map<String, Value>,
        peer: Peer,
    ) {
        base.insert("GroupId".into(), group);
        base.insert(peer_prop(peer.prop, ingress), peer.value);
        let kind = if ingress {
            "AWS::EC2::SecurityGroupIngress"
        } else {
            "AWS::EC2::SecurityGroupEgress"
        };
        self.emit(lid, kind, Some(Value::Object(base)));
    }

    pub(super) fn security_group_rule(&mut self, r: &Res) -> Result<(), Failed> {
        let ingress = match r.str("type") {
            Some("ingress") => true,
            Some("egress") => false,
            other => {
                return Err(self.error(
                    r,
                    "InvalidTerraform.InvalidAttribute",
                    format!("type {other:?} is neither ingress nor egress"),
                ))
            }
        };
        let group = self.required_reference(r, "security_group_id")?;
        let base = rule_base(&r.values, "protocol");
        let mut peers = Vec::new();
        strings(&r.values, "cidr_blocks", "", "CidrIp", &mut peers);
        strings(&r.values, "ipv6_cidr_blocks", "", "CidrIpv6", &mut peers);
        for (k, v) in self
            .reference_list_or_literal(r, &r.attr("prefix_list_ids"))?
            .into_iter()
            .enumerate()
        {
            let path = format!("prefix_list_ids[{k}]");
            peers.push(Peer {
                path,
                prop: "PrefixListId",
                value: v,
            });
        }
        if let Some(v) = self.reference(r, &r.attr("source_security_group_id"))? {
            let path = "source_security_group_id".into();
            peers.push(Peer {
                path,
                prop: "SecurityGroupId",
                value: v,
            });
        }
        if r.get("self") == Some(&json!(true)) {
            peers.push(Peer {
                path: "self".into(),
                prop: "SecurityGroupId",
                value: group.clone(),
            });
        }
        self.emit_rule_resources(r, ingress, group, base, peers)
    }

    pub(super) fn vpc_security_group_rule(&mut self, r: &Res, ingress: bool) -> Result<(), Failed> {
        let group = self.required_reference(r, "security_group_id")?;
        let base = rule_base(&r.values, "ip_protocol");
        let mut peers = Vec::new();
        strings(&r.values, "cidr_ipv4", "", "CidrIp", &mut peers);
        strings(&r.values, "cidr_ipv6", "", "CidrIpv6", &mut peers);
        if let Some(v) = self.reference_or_literal(r, "prefix_list_id")? {
            let path = "prefix_list_id".into();
            peers.push(Peer {
                path,
                prop: "PrefixListId",
                value: v,
            });
        }
        if let Some(v) = self.reference(r, &r.attr("referenced_security_group_id"))? {
            let path = "referenced_security_group_id".into();
            peers.push(Peer {
                path,
                prop: "SecurityGroupId",
                value: v,
            });
        }
        self.emit_rule_resources(r, ingress, group, base, peers)
    }

    /// One CloudFormation rule per peer; a single one keeps the Terraform address.
    fn emit_rule_resources(
        &mut self,
        r: &Res,
        ingress: bool,
        group: Value,
        base: Map<String, Value>,
        peers: Vec<Peer>,
    ) -> Result<(), Failed> {
        if peers.is_empty() {
            return Err(self.error(
                r,
                "InvalidTerraform.MissingAttribute",
                "the rule names no peer (cidr_blocks, ipv6_cidr_blocks, prefix_list_ids, a security group or self)",
            ));
        }
        let single = peers.len() == 1;
        for peer in peers {
            let lid = if single {
                r.address.clone()
            } else {
                format!("{}.{}", r.address, peer.path)
            };
            self.emit_rule(&lid, ingress, group.clone(), base.clone(), peer);
        }
        Ok(())
    }

    pub(super) fn network_acl(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        p.insert("VpcId".into(), self.required_reference(r, "vpc_id")?);
        self.emit(&r.address, "AWS::EC2::NetworkAcl", Some(Value::Object(p)));
        let acl = json!({"Ref": r.address});
        for (block, egress) in [("ingress", false), ("egress", true)] {
            let list = r.get(block).and_then(Value::as_array).cloned();
            for (i, rule) in list.iter().flatten().enumerate() {
                let number = rule.get("rule_no").and_then(Value::as_i64);
                // After a refresh, the lists also hold the rules of `aws_network_acl_rule`
                // resources; those are loaded from their own resource.
                if number.is_some_and(|n| self.declared_by_rule_resource(r, egress, n)) {
                    continue;
                }
                let mut e = nacl_entry(rule, "rule_no", "action");
                e.insert("NetworkAclId".into(), acl.clone());
                e.insert("Egress".into(), json!(egress));
                let lid = format!("{}.{}", r.address, path(block, i));
                self.emit(&lid, "AWS::EC2::NetworkAclEntry", Some(Value::Object(e)));
            }
        }
        let subnets = self.reference_list(r, &r.attr("subnet_ids"))?;
        for (k, subnet) in subnets.into_iter().enumerate() {
            if self.associated_by_resource(&subnet) {
                continue;
            }
            let p = json!({"SubnetId": subnet, "NetworkAclId": acl});
            let lid = format!("{}.{}", r.address, path("subnet_ids", k));
            self.emit(&lid, "AWS::EC2::SubnetNetworkAclAssociation", Some(p));
        }
        Ok(())
    }

    fn declared_by_rule_resource(&self, acl: &Res, egress: bool, number: i64) -> bool {
        let Some(id) = acl.str("id") else {
            return false;
        };
        self.resources.iter().any(|x| {
            x.type_ == "aws_network_acl_rule"
                && x.str("network_acl_id") == Some(id)
                && x.get("egress").and_then(Value::as_bool).unwrap_or(false) == egress
                && x.get("rule_number").and_then(Value::as_i64) == Some(number)
        })
    }

    /// Whether an `aws_network_acl_association` of the file associates this subnet.
    fn associated_by_resource(&self, subnet: &Value) -> bool {
        let Some(address) = subnet.get("Ref").and_then(Value::as_str) else {
            return false;
        };
        let Some(id) = self
            .by_address
            .get(address)
            .and_then(|&i| self.resources[i].str("id"))
        else {
            return false;
        };
        self.resources
            .iter()
            .any(|x| x.type_ == "aws_network_acl_association" && x.str("subnet_id") == Some(id))
    }

    pub(super) fn network_acl_rule(&mut self, r: &Res) -> Result<(), Failed> {
        let acl = self.required_reference(r, "network_acl_id")?;
        let mut e = nacl_entry(&r.values, "rule_number", "rule_action");
        e.insert("NetworkAclId".into(), acl);
        let egress = r.get("egress").and_then(Value::as_bool).unwrap_or(false);
        e.insert("Egress".into(), json!(egress));
        self.emit(
            &r.address,
            "AWS::EC2::NetworkAclEntry",
            Some(Value::Object(e)),
        );
        Ok(())
    }

    pub(super) fn network_acl_association(&mut self, r: &Res) -> Result<(), Failed> {
        let acl = self.required_reference(r, "network_acl_id")?;
        let subnet = self.required_reference(r, "subnet_id")?;
        let p = json!({"SubnetId": subnet, "NetworkAclId": acl});
        self.emit(&r.address, "AWS::EC2::SubnetNetworkAclAssociation", Some(p));
        Ok(())
    }
}

/// Protocol, ports and description of a security group rule.
fn rule_base(rule: &Value, protocol_key: &str) -> Map<String, Value> {
    let mut p = Map::new();
    let protocol = match rule.get(protocol_key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "-1".into(),
    };
    let all = protocol == "-1" || protocol.eq_ignore_ascii_case("all");
    p.insert("IpProtocol".into(), json!(protocol));
    if !all {
        for (key, prop) in [("from_port", "FromPort"), ("to_port", "ToPort")] {
            if let Some(v) = rule.get(key).filter(|v| v.is_number()) {
                p.insert(prop.into(), v.clone());
            }
        }
    }
    if let Some(d) = rule
        .get("description")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        p.insert("Description".into(), json!(d));
    }
    p
}

/// The CloudFormation property of a peer: `SourceSecurityGroupId` on ingress,
/// `DestinationSecurityGroupId` on egress; CIDR properties have no prefix.
fn peer_prop(prop: &str, ingress: bool) -> String {
    match prop {
        "SecurityGroupId" | "PrefixListId" if ingress => format!("Source{prop}"),
        "SecurityGroupId" | "PrefixListId" => format!("Destination{prop}"),
        other => other.to_string(),
    }
}

/// String peers (`cidr_blocks`, or a single `cidr_ipv4`) of a rule.
fn strings(rule: &Value, key: &str, at: &str, prop: &'static str, out: &mut Vec<Peer>) {
    let dot = if at.is_empty() { "" } else { "." };
    match rule.get(key) {
        Some(Value::Array(items)) => {
            for (k, v) in items.iter().enumerate() {
                if let Some(s) = v.as_str() {
                    let path = format!("{at}{dot}{key}[{k}]");
                    out.push(Peer {
                        path,
                        prop,
                        value: json!(s),
                    });
                }
            }
        }
        Some(Value::String(s)) if !s.is_empty() => {
            let path = format!("{at}{dot}{key}");
            out.push(Peer {
                path,
                prop,
                value: json!(s),
            });
        }
        _ => {}
    }
}

/// A network ACL rule (inline or `aws_network_acl_rule`) as `AWS::EC2::NetworkAclEntry`.
fn nacl_entry(rule: &Value, number_key: &str, action_key: &str) -> Map<String, Value> {
    let mut e = Map::new();
    if let Some(n) = rule.get(number_key) {
        e.insert("RuleNumber".into(), n.clone());
    }
    if let Some(a) = rule.get(action_key) {
        e.insert("RuleAction".into(), a.clone());
    }
    let protocol = match rule.get("protocol") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "-1".into(),
    };
    for (key, prop) in [
        ("cidr_block", "CidrBlock"),
        ("ipv6_cidr_block", "Ipv6CidrBlock"),
    ] {
        if let Some(c) = rule
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            e.insert(prop.into(), json!(c));
        }
    }
    let port = |k: &str| rule.get(k).and_then(Value::as_i64).unwrap_or(0);
    match protocol.to_ascii_lowercase().as_str() {
        "tcp" | "udp" | "6" | "17" => {
            e.insert(
                "PortRange".into(),
                json!({"From": port("from_port"), "To": port("to_port")}),
            );
        }
        "icmp" | "icmpv6" | "1" | "58" => {
            let f = |k: &str| rule.get(k).and_then(Value::as_i64).unwrap_or(-1);
            e.insert(
                "Icmp".into(),
                json!({"Type": f("icmp_type"), "Code": f("icmp_code")}),
            );
        }
        _ => {}
    }
    e.insert("Protocol".into(), json!(protocol));
    e
}
