//! Internet gateways, egress-only internet gateways and NAT gateways.

use super::{list, s, Item, Reader, Ref};
use crate::model::*;
use std::net::Ipv4Addr;

impl Reader {
    pub(super) fn add_igw(&mut self, it: &Item, egress_only: bool) {
        let (field, kind) = if egress_only {
            (
                "EgressOnlyInternetGatewayId",
                "AWS::EC2::EgressOnlyInternetGateway",
            )
        } else {
            ("InternetGatewayId", "AWS::EC2::InternetGateway")
        };
        let Some(origin) = self.origin(it, s(&it.v, field), kind, field) else {
            return;
        };
        let id = origin.id.clone();
        let mut vpc = None;
        for a in list(&it.v, "Attachments") {
            let state = s(a, "State").unwrap_or("available");
            if !matches!(state, "available" | "attached") {
                continue;
            }
            if let Some(v) = s(a, "VpcId") {
                if let Some(Ref::Vpc(v)) = self.resolve(it, &id, "Attachments.VpcId", v) {
                    vpc = Some(v);
                }
            }
        }
        if egress_only {
            let Some(v) = vpc else {
                self.warn(
                    it.file,
                    &id,
                    "Gateway.NotAttached",
                    "the egress-only internet gateway is not attached to a VPC: skipped".into(),
                );
                return;
            };
            let g = self.model.egress_only_igws.len();
            self.model
                .egress_only_igws
                .push(EgressOnlyInternetGateway { origin, vpc: v });
            self.model.vpcs[v].egress_only_igw = Some(g);
            self.by_id.insert(id, Ref::Eigw(g));
        } else {
            let g = self.model.internet_gateways.len();
            self.model
                .internet_gateways
                .push(InternetGateway { origin, vpc });
            if let Some(v) = vpc {
                self.model.vpcs[v].internet_gateway = Some(g);
            }
            self.by_id.insert(id, Ref::Igw(g));
        }
    }

    pub(super) fn add_nat(&mut self, it: &Item) {
        let state = s(&it.v, "State").unwrap_or("available");
        if !matches!(state, "available" | "pending") {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::NatGateway", "NatGatewayId") else {
            return;
        };
        let id = origin.id.clone();
        let Some(subnet) = self.subnet_of(it, &id) else {
            return;
        };
        let public = s(&it.v, "ConnectivityType").unwrap_or("public") == "public";
        let addrs = list(&it.v, "NatGatewayAddresses");
        let mut private_v4 = Vec::new();
        let mut eips = Vec::new();
        for a in addrs {
            let Some(p) = s(a, "PrivateIp").and_then(|p| p.parse::<Ipv4Addr>().ok()) else {
                continue;
            };
            if !self.check_v4(it, &id, subnet, p) {
                return;
            }
            private_v4.push(p);
            if let (Some(alloc), Some(pubip)) = (
                s(a, "AllocationId"),
                s(a, "PublicIp").and_then(|p| p.parse::<Ipv4Addr>().ok()),
            ) {
                eips.push((alloc.to_string(), pubip, p));
            }
        }
        if private_v4.is_empty() {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "NatGatewayAddresses has no PrivateIp".into(),
            );
            return;
        }
        let eni_id = addrs
            .iter()
            .find_map(|a| s(a, "NetworkInterfaceId"))
            .map(str::to_string)
            .unwrap_or_else(|| id.replace("nat-", "eni-"));
        let nat = self.model.nat_gateways.len();
        self.model.enis.push(NetworkInterface {
            origin: Origin {
                id: eni_id.clone(),
                kind: "AWS::EC2::NetworkInterface".into(),
                ..origin.clone()
            },
            owner: EniOwner::NatGateway(nat),
            subnet,
            private_v4,
            ipv6: vec![],
            security_groups: vec![],
            source_dest_check: false,
            auto_public_ip: None,
        });
        let eni = self.model.enis.len() - 1;
        self.nat_enis.insert(eni_id.clone());
        self.by_id.insert(eni_id, Ref::Eni(eni));
        self.model.nat_gateways.push(NatGateway {
            origin,
            subnet,
            public,
            eni,
        });
        self.by_id.insert(id.clone(), Ref::Nat(nat));
        for (alloc, public_ip, private) in eips {
            self.add_eip(it.file, &alloc, public_ip, Some((eni, private)), None);
        }
    }
}
