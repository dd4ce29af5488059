//! Instances from `describe-instances` and network interfaces from
//! `describe-network-interfaces` (or nested in the instances), with their addresses.

use super::{int, list, s, Item, Reader, Ref};
use crate::model::*;
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The tag AWS puts on every instance an Auto Scaling group launches; `export` writes it.
pub const AUTO_SCALING_GROUP_TAG: &str = "aws:autoscaling:groupName";

impl Reader {
    /// Check an address is in the subnet and not held by another interface of the VPC.
    pub(super) fn check_v4(&mut self, it: &Item, owner: &str, subnet: usize, a: Ipv4Addr) -> bool {
        let sn = &self.model.subnets[subnet];
        if !sn.cidr_v4.is_some_and(|c| c.contains(&a)) {
            self.error(
                it.file,
                owner,
                "InvalidParameterValue",
                format!(
                    "{a} is not in subnet {} ({})",
                    sn.origin.id,
                    sn.cidr_v4
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "no IPv4 CIDR".into())
                ),
            );
            return false;
        }
        let vpc = sn.vpc;
        let holder = self.used_v4.get(&(vpc, a)).filter(|h| *h != owner).cloned();
        self.used_v4
            .entry((vpc, a))
            .or_insert_with(|| owner.to_string());
        if let Some(h) = holder {
            self.error(
                it.file,
                owner,
                "InvalidIPAddress.InUse",
                format!("{a} is already held by {h}"),
            );
            return false;
        }
        true
    }

    fn add_instance(&mut self, it: &Item) {
        if it.v.get("State").and_then(|st| s(st, "Name")) == Some("terminated") {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::Instance", "InstanceId") else {
            return;
        };
        let id = origin.id.clone();
        let i = self.model.instances.len();
        // An instance an Auto Scaling group launched is a plain instance here: the group
        // itself is not in describe-instances, only its name in the instance's tag.
        let auto_scaling = super::tag(&it.v, AUTO_SCALING_GROUP_TAG)
            .filter(|g| !g.is_empty())
            .map(|g| AutoScalingMember {
                group: None,
                group_name: g.to_string(),
                index: self
                    .model
                    .instances
                    .iter()
                    .filter(|x| x.auto_scaling.as_ref().is_some_and(|a| a.group_name == g))
                    .count() as u32,
            });
        self.model.instances.push(Instance {
            origin,
            enis: vec![],
            auto_scaling,
        });
        self.by_id.insert(id, Ref::Instance(i));
    }

    fn add_eni(&mut self, it: &Item, instance: Option<usize>) {
        self.add_eni_of(it, instance, None);
    }

    /// The interface of an endpoint or load balancer node, created with its owner.
    pub(super) fn add_eni_owned(&mut self, it: &Item, owner: EniOwner) -> Option<usize> {
        self.add_eni_of(it, None, Some(owner))
    }

    /// An interface; `forced`: the owner it is created for (endpoint, load balancer).
    fn add_eni_of(
        &mut self,
        it: &Item,
        instance: Option<usize>,
        forced: Option<EniOwner>,
    ) -> Option<usize> {
        let v = &it.v;
        let id = s(v, "NetworkInterfaceId").unwrap_or_default();
        if self.nat_enis.contains(id) {
            return None;
        }
        let itype = s(v, "InterfaceType").unwrap_or("interface");
        if itype == "transit_gateway" {
            // The attachment's interface in its subnet: the attachment itself is simulated.
            return None;
        }
        if forced.is_none() && self.set_aside(it, id, itype) {
            return None;
        }
        let origin = self.origin(
            it,
            Some(id),
            "AWS::EC2::NetworkInterface",
            "NetworkInterfaceId",
        )?;
        let id = origin.id.clone();
        let subnet = self.subnet_of(it, &id)?;
        let owner = self.eni_owner(it, &id, instance, forced);
        let mut addrs: Vec<(Ipv4Addr, bool, Option<&Value>)> = Vec::new();
        for p in list(v, "PrivateIpAddresses") {
            if let Some(a) = s(p, "PrivateIpAddress").and_then(|a| a.parse().ok()) {
                addrs.push((
                    a,
                    p.get("Primary").and_then(Value::as_bool) == Some(true),
                    p.get("Association"),
                ));
            }
        }
        if addrs.is_empty() {
            if let Some(a) = s(v, "PrivateIpAddress").and_then(|a| a.parse().ok()) {
                addrs.push((a, true, v.get("Association")));
            }
        }
        addrs.sort_by_key(|(_, primary, _)| !primary);
        let mut private_v4 = Vec::new();
        for (a, _, _) in &addrs {
            if !self.check_v4(it, &id, subnet, *a) {
                return None;
            }
            private_v4.push(*a);
        }
        let ipv6: Vec<Ipv6Addr> = list(v, "Ipv6Addresses")
            .iter()
            .filter_map(|a| s(a, "Ipv6Address")?.parse().ok())
            .collect();
        if private_v4.is_empty() && ipv6.is_empty() {
            self.error(
                it.file,
                &id,
                "InvalidParameterValue",
                "the interface has no IPv4 or IPv6 address".into(),
            );
            return None;
        }
        let mut security_groups = Vec::new();
        for g in list(v, "Groups") {
            let Some(gid) = s(g, "GroupId") else { continue };
            // An absent group's rules are unknown: it allows nothing, like a group with no rules.
            if let Some(Ref::Sg(g)) = self.resolve(it, &id, "Groups.GroupId", gid) {
                security_groups.push(g);
            }
        }
        let mut auto_public_ip = None;
        let mut eips = Vec::new();
        for (a, primary, assoc) in &addrs {
            let Some(assoc) = assoc else { continue };
            let Some(public) = s(assoc, "PublicIp").and_then(|p| p.parse::<Ipv4Addr>().ok()) else {
                continue;
            };
            match s(assoc, "AllocationId") {
                Some(alloc) => eips.push((alloc.to_string(), public, *a)),
                None if *primary && s(assoc, "IpOwnerId").is_none_or(|o| o == "amazon") => {
                    auto_public_ip = Some(public)
                }
                None => {}
            }
        }
        let source_dest_check = v
            .get("SourceDestCheck")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let e = self.model.enis.len();
        self.model.enis.push(NetworkInterface {
            origin,
            owner: owner.clone(),
            subnet,
            private_v4,
            ipv6,
            security_groups,
            source_dest_check,
            auto_public_ip,
        });
        self.by_id.insert(id, Ref::Eni(e));
        if let EniOwner::Instance(i, _) = owner {
            self.model.instances[i].enis.push(e);
        }
        for (alloc, public, private) in eips {
            self.add_eip(it.file, &alloc, public, Some((e, private)), None);
        }
        Some(e)
    }

    /// Interfaces that are not built on their own: load balancer nodes and endpoint interfaces
    /// wait for their owner; those of services vpcsim does not simulate are kept as
    /// unsupported. True when `it` is one of them.
    fn set_aside(&mut self, it: &Item, id: &str, itype: &str) -> bool {
        let v = &it.v;
        // An ALB's nodes are plain interfaces that AWS describes as `ELB app/NAME/ID`.
        let alb_node = s(v, "Description").is_some_and(|d| d.starts_with("ELB app/"));
        if (itype == "network_load_balancer" || alb_node) && !id.is_empty() {
            self.lb_enis.insert(
                id.to_string(),
                Item {
                    file: it.file,
                    v: v.clone(),
                },
            );
            return true;
        }
        if itype == "vpc_endpoint" && !id.is_empty() {
            self.endpoint_enis.insert(
                id.to_string(),
                Item {
                    file: it.file,
                    v: v.clone(),
                },
            );
            return true;
        }
        if itype == "gateway_load_balancer_endpoint" && !id.is_empty() {
            self.firewall_enis.insert(
                id.to_string(),
                Item {
                    file: it.file,
                    v: v.clone(),
                },
            );
            return true;
        }
        if !matches!(itype, "interface" | "trunk" | "efa") {
            let kind = match itype {
                "nat_gateway" => "AWS::EC2::NatGateway",
                "vpc_endpoint" | "gateway_load_balancer_endpoint" => "AWS::EC2::VPCEndpoint",
                "network_load_balancer" | "gateway_load_balancer" => {
                    "AWS::ElasticLoadBalancingV2::LoadBalancer"
                }
                "transit_gateway" => "AWS::EC2::TransitGatewayAttachment",
                _ => "AWS::EC2::NetworkInterface",
            };
            if !self.by_id.contains_key(id) && !id.is_empty() {
                self.by_id.insert(id.to_string(), Ref::Unsupported);
                self.model.unsupported.push(Unsupported {
                    origin: Origin {
                        template: it.file,
                        logical_id: id.to_string(),
                        id: id.to_string(),
                        name: s(v, "Description")
                            .filter(|d| !d.is_empty())
                            .map(str::to_string),
                        kind: kind.into(),
                    },
                });
            }
            return true;
        }
        false
    }

    /// Who an interface belongs to: the owner it is created for, the instance it is nested in,
    /// or the instance its attachment names.
    fn eni_owner(
        &mut self,
        it: &Item,
        id: &str,
        instance: Option<usize>,
        forced: Option<EniOwner>,
    ) -> EniOwner {
        match (forced, instance, it.v.get("Attachment")) {
            (Some(owner), _, _) => owner,
            (None, Some(i), att) => EniOwner::Instance(
                i,
                att.and_then(|a| int(a, "DeviceIndex")).unwrap_or(0) as u32,
            ),
            (None, None, Some(att)) => {
                match s(att, "InstanceId").map(|i| self.by_id.get(i).copied()) {
                    Some(Some(Ref::Instance(i))) => {
                        EniOwner::Instance(i, int(att, "DeviceIndex").unwrap_or(0) as u32)
                    }
                    // An instance left out for an error of its own: a follow-on.
                    Some(_) if s(att, "InstanceId").is_some_and(|i| self.skipped.contains(i)) => {
                        EniOwner::Standalone
                    }
                    Some(_) => {
                        self.warn(it.file, id, "UnresolvedReference", format!("attached to {}, which is not in the snapshot (or terminated): loaded as a standalone interface", s(att, "InstanceId").unwrap_or_default()));
                        EniOwner::Standalone
                    }
                    None => EniOwner::Standalone,
                }
            }
            (None, None, None) => EniOwner::Standalone,
        }
    }

    /// An instance described without `NetworkInterfaces` (older output): its primary interface
    /// from the instance's own fields.
    fn add_legacy_instance_eni(&mut self, it: &Item, inst: usize) {
        let v = &it.v;
        let mut e = serde_json::json!({
            "NetworkInterfaceId": format!("{}.eth0", self.model.instances[inst].origin.id),
            "SubnetId": s(v, "SubnetId"),
            "PrivateIpAddress": s(v, "PrivateIpAddress"),
            "Groups": v.get("SecurityGroups").cloned().unwrap_or(Value::Null),
            "SourceDestCheck": v.get("SourceDestCheck").cloned().unwrap_or(Value::Bool(true)),
        });
        if let Some(p) = s(v, "PublicIpAddress") {
            e["Association"] = serde_json::json!({"PublicIp": p, "IpOwnerId": "amazon"});
        }
        let eni = Item {
            file: it.file,
            v: e,
        };
        self.add_eni(&eni, Some(inst));
    }

    /// Instances, then interfaces: those of describe-network-interfaces, then those only
    /// described inside describe-instances output; each instance's interfaces end up in
    /// device order.
    pub(super) fn add_instances(&mut self, instances: &[Item], enis: &[Item]) {
        for it in instances {
            self.add_instance(it);
        }
        for it in enis {
            self.add_eni(it, None);
        }
        // Interfaces only described inside describe-instances output.
        for it in instances {
            let Some(Ref::Instance(inst)) =
                s(&it.v, "InstanceId").and_then(|i| self.by_id.get(i).copied())
            else {
                continue;
            };
            let nested = list(&it.v, "NetworkInterfaces");
            for e in nested {
                let id = s(e, "NetworkInterfaceId").unwrap_or_default();
                let eni = Item {
                    file: it.file,
                    v: e.clone(),
                };
                if self.skipped.contains(id) {
                    continue;
                }
                if self.by_id.contains_key(id) {
                    // Loaded from describe-network-interfaces; this copy's references must
                    // hold as well, or the two calls describe different states.
                    self.check_copy(&eni, id);
                } else {
                    self.add_eni(&eni, Some(inst));
                }
            }
            if nested.is_empty() && s(&it.v, "SubnetId").is_some() {
                self.add_legacy_instance_eni(it, inst);
            }
        }
        for i in 0..self.model.instances.len() {
            let mut enis = self.model.instances[i].enis.clone();
            enis.sort_by_key(|e| match self.model.enis[*e].owner {
                EniOwner::Instance(_, d) => d,
                _ => u32::MAX,
            });
            self.model.instances[i].enis = enis;
        }
    }

    /// The references of the copy of interface `id` nested in describe-instances output: each
    /// absent one is listed, as it would be in the describe-network-interfaces copy.
    fn check_copy(&mut self, it: &Item, id: &str) {
        if let Some(sub) = s(&it.v, "SubnetId") {
            self.resolve(it, id, "SubnetId", sub);
        }
        for g in list(&it.v, "Groups") {
            if let Some(gid) = s(g, "GroupId") {
                self.resolve(it, id, "Groups.GroupId", gid);
            }
        }
    }
}
