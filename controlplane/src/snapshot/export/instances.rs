//! `describe-instances` and `describe-network-interfaces`.

use super::nlb::lb_path;
use super::{derived, Exporter};
use crate::model::*;
use crate::snapshot::read::{AUTO_SCALING_GROUP_TAG, LOGICAL_ID_TAG};
use serde_json::{json, Value};
use std::net::Ipv4Addr;

impl Exporter<'_> {
    pub(super) fn association(&self, eni: usize, a: Ipv4Addr, primary: bool) -> Option<Value> {
        let e = &self.m.enis[eni];
        if let Some(eip) = self.m.eips.iter().find(|x| x.association == Some((eni, a))) {
            return Some(json!({
                "AllocationId": eip.allocation_id,
                "AssociationId": derived("eipassoc", &eip.allocation_id),
                "IpOwnerId": self.account(&eip.origin),
                "PublicIp": eip.public_ip.to_string(),
            }));
        }
        let auto = e.auto_public_ip.filter(|_| primary)?;
        Some(json!({"IpOwnerId": "amazon", "PublicIp": auto.to_string()}))
    }

    pub(super) fn eni(&self, i: usize, nested: bool) -> Value {
        let m = self.m;
        let e = &m.enis[i];
        let subnet = &m.subnets[e.subnet];
        let private: Vec<Value> = e
            .private_v4
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let mut p = json!({"PrivateIpAddress": a.to_string(), "Primary": n == 0});
                if let Some(assoc) = self.association(i, *a, n == 0) {
                    p["Association"] = assoc;
                }
                p
            })
            .collect();
        let itype = match e.owner {
            EniOwner::NatGateway(_) => "nat_gateway",
            EniOwner::VpcEndpoint(_) => "vpc_endpoint",
            EniOwner::LoadBalancer(_) => "network_load_balancer",
            _ => "interface",
        };
        let mut out = json!({
            "NetworkInterfaceId": e.origin.id,
            "SubnetId": subnet.origin.id,
            "VpcId": m.vpcs[subnet.vpc].origin.id,
            "AvailabilityZone": subnet.availability_zone,
            "OwnerId": self.account(&e.origin),
            "InterfaceType": itype,
            "PrivateIpAddresses": private,
            "Ipv6Addresses": e.ipv6.iter().map(|a| json!({"Ipv6Address": a.to_string()})).collect::<Vec<_>>(),
            "Groups": e.security_groups.iter().map(|g| json!({
                "GroupId": m.security_groups[*g].origin.id,
                "GroupName": m.security_groups[*g].group_name,
            })).collect::<Vec<_>>(),
            "SourceDestCheck": e.source_dest_check,
            "Status": "in-use",
        });
        if let Some(a) = e.private_v4.first() {
            out["PrivateIpAddress"] = json!(a.to_string());
            if let Some(assoc) = self.association(i, *a, true) {
                out["Association"] = assoc;
            }
        }
        match e.owner {
            EniOwner::Instance(inst, d) => {
                out["Attachment"] = json!({
                    "AttachmentId": derived("eni-attach", &e.origin.id),
                    "DeviceIndex": d,
                    "InstanceId": m.instances[inst].origin.id,
                    "Status": "attached",
                });
            }
            EniOwner::NatGateway(n) => {
                out["Description"] = json!(format!(
                    "Interface for NAT Gateway {}",
                    m.nat_gateways[n].origin.id
                ));
                out["RequesterManaged"] = json!(true);
            }
            EniOwner::LoadBalancer(lb) => {
                out["Description"] = json!(format!("ELB {}", lb_path(&m.load_balancers[lb])));
                out["RequesterManaged"] = json!(true);
            }
            EniOwner::AppLoadBalancer(lb) => {
                let path = super::alb::alb_path(&m.alb.load_balancers[lb]);
                out["Description"] = json!(format!("ELB {path}"));
                out["RequesterManaged"] = json!(true);
            }
            EniOwner::Standalone => out["Status"] = json!("available"),
            _ => {}
        }
        if !nested {
            // A NAT gateway's interface carries the gateway's tags in AWS, not a logical id.
            if !matches!(e.owner, EniOwner::NatGateway(_)) {
                self.tags(&mut out, &e.origin, "TagSet");
            }
        }
        out
    }

    pub(super) fn reservation(&self, inst: &Instance) -> Value {
        let m = self.m;
        let primary = inst.enis.first().map(|e| &m.enis[*e]);
        let mut i = json!({
            "InstanceId": inst.origin.id,
            "State": {"Code": 16, "Name": "running"},
            "NetworkInterfaces": inst.enis.iter().map(|e| self.eni(*e, true)).collect::<Vec<_>>(),
        });
        if let Some(p) = primary {
            let subnet = &m.subnets[p.subnet];
            i["SubnetId"] = json!(subnet.origin.id);
            i["VpcId"] = json!(m.vpcs[subnet.vpc].origin.id);
            i["SourceDestCheck"] = json!(p.source_dest_check);
            i["SecurityGroups"] = json!(p
                .security_groups
                .iter()
                .map(|g| json!({"GroupId": m.security_groups[*g].origin.id, "GroupName": m.security_groups[*g].group_name}))
                .collect::<Vec<_>>());
            if let Some(a) = p.private_v4.first() {
                i["PrivateIpAddress"] = json!(a.to_string());
                if let Some(public) = m.public_ip_of(inst.enis[0], *a) {
                    i["PublicIpAddress"] = json!(public.to_string());
                }
            }
        }
        self.tags(&mut i, &inst.origin, "Tags");
        if let Some(a) = &inst.auto_scaling {
            self.auto_scaling_tags(&mut i, a);
        }
        json!({
            "ReservationId": derived("r", &inst.origin.id),
            "OwnerId": self.account(&inst.origin),
            "Instances": [i],
        })
    }

    /// The tags AWS puts on an instance an Auto Scaling group launched: the group's name, and
    /// the group's logical id (stack tags propagate to the instances), so a reload keeps the
    /// instance as one of the group's.
    fn auto_scaling_tags(&self, i: &mut Value, a: &AutoScalingMember) {
        let group_logical_id = a
            .group
            .map(|g| self.m.auto_scaling_groups[g].origin.logical_id.clone());
        let Some(tags) = i["Tags"].as_array_mut() else {
            return;
        };
        tags.retain(|t| t["Key"] != LOGICAL_ID_TAG);
        tags.push(json!({"Key": AUTO_SCALING_GROUP_TAG, "Value": a.group_name}));
        if let Some(lid) = group_logical_id {
            tags.push(json!({"Key": LOGICAL_ID_TAG, "Value": lid}));
        }
    }
}
