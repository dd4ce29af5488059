//! VPCs from `describe-vpcs` (with the defaults AWS creates when the snapshot lacks them) and
//! subnets from `describe-subnets`.

use super::{list, s, Item, Reader, Ref};
use crate::model::*;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_json::Value;

impl Reader {
    pub(super) fn add_vpc(&mut self, it: &Item) {
        let Some(origin) = self.origin(it, s(&it.v, "VpcId"), "AWS::EC2::VPC", "VpcId") else {
            return;
        };
        let id = origin.id.clone();
        let mut cidrs_v4: Vec<Ipv4Net> = Vec::new();
        let assoc = list(&it.v, "CidrBlockAssociationSet");
        let blocks = s(&it.v, "CidrBlock").into_iter().chain(
            assoc
                .iter()
                .filter(|a| {
                    a.get("CidrBlockState")
                        .and_then(|st| s(st, "State"))
                        .is_none_or(|st| st == "associated")
                })
                .filter_map(|a| s(a, "CidrBlock")),
        );
        for c in blocks {
            match c.parse::<Ipv4Net>() {
                Ok(n) if !cidrs_v4.contains(&n.trunc()) => cidrs_v4.push(n.trunc()),
                Ok(_) => {}
                Err(e) => {
                    self.error(
                        it.file,
                        &id,
                        "InvalidParameterValue",
                        format!("CidrBlock {c:?}: {e}"),
                    );
                    return;
                }
            }
        }
        let cidrs_v6: Vec<Ipv6Net> = list(&it.v, "Ipv6CidrBlockAssociationSet")
            .iter()
            .filter(|a| {
                a.get("Ipv6CidrBlockState")
                    .and_then(|st| s(st, "State"))
                    .is_none_or(|st| st == "associated")
            })
            .filter_map(|a| s(a, "Ipv6CidrBlock")?.parse::<Ipv6Net>().ok())
            .collect();
        if cidrs_v4.is_empty() {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "the VPC has no CidrBlock".into(),
            );
            return;
        }
        let v = self.model.vpcs.len();
        self.model.vpcs.push(Vpc {
            origin,
            cidrs_v4,
            cidrs_v6,
            enable_dns_support: true,
            enable_dns_hostnames: false,
            main_route_table: usize::MAX,
            default_network_acl: usize::MAX,
            default_security_group: usize::MAX,
            internet_gateway: None,
            egress_only_igw: None,
            is_default: it.v.get("IsDefault").and_then(Value::as_bool) == Some(true),
        });
        self.by_id.insert(id, Ref::Vpc(v));
    }

    /// A VPC whose main route table, default ACL or default group the snapshot lacks gets the
    /// one AWS creates with every VPC (empty table, allow-all ACL, default group), with a warning.
    pub(super) fn fill_vpc_defaults(&mut self) {
        let any_v4: IpNet = IpNet::V4(Ipv4Net::default());
        for v in 0..self.model.vpcs.len() {
            let file = self.model.vpcs[v].origin.template;
            let id = self.model.vpcs[v].origin.id.clone();
            let mut missing = Vec::new();
            if self.model.vpcs[v].main_route_table == usize::MAX {
                missing.push("main route table");
                let origin = self.implicit_origin(v, "MainRouteTable", "AWS::EC2::RouteTable");
                self.model.route_tables.push(RouteTable {
                    origin,
                    vpc: v,
                    main: true,
                    routes: vec![],
                });
                self.model.vpcs[v].main_route_table = self.model.route_tables.len() - 1;
            }
            if self.model.vpcs[v].default_network_acl == usize::MAX {
                missing.push("default network ACL");
                let origin = self.implicit_origin(v, "DefaultNetworkAcl", "AWS::EC2::NetworkAcl");
                let allow_all = |egress: bool| NaclEntry {
                    origin: None,
                    egress,
                    entry: vpcsim_dataplane::tables::nacl::NaclEntry {
                        number: 100,
                        res: None,
                        protocol: None,
                        ports: (0, 65535),
                        icmp_type: None,
                        icmp_code: None,
                        cidr: any_v4,
                        allow: true,
                    },
                };
                self.model.network_acls.push(NetworkAcl {
                    origin,
                    vpc: v,
                    default: true,
                    entries: vec![allow_all(false), allow_all(true)],
                });
                self.model.vpcs[v].default_network_acl = self.model.network_acls.len() - 1;
            }
            if self.model.vpcs[v].default_security_group == usize::MAX {
                missing.push("default security group");
                let origin =
                    self.implicit_origin(v, "DefaultSecurityGroup", "AWS::EC2::SecurityGroup");
                let sg = self.model.security_groups.len();
                self.model.security_groups.push(SecurityGroup {
                    origin,
                    vpc: Some(v),
                    group_name: "default".into(),
                    description: "default VPC security group".into(),
                    ingress: vec![SgRule {
                        protocol: None,
                        from_port: -1,
                        to_port: -1,
                        peer: SgPeer::Group(sg),
                        description: None,
                    }],
                    egress: vec![SgRule {
                        protocol: None,
                        from_port: -1,
                        to_port: -1,
                        peer: SgPeer::Cidr(any_v4),
                        description: None,
                    }],
                });
                self.model.vpcs[v].default_security_group = sg;
            }
            if !missing.is_empty() {
                self.warn(
                    file,
                    &id,
                    "InvalidSnapshot.MissingDefault",
                    format!(
                        "the snapshot has no {} of the VPC: assuming the defaults AWS creates",
                        missing.join(", ")
                    ),
                );
            }
        }
    }

    pub(super) fn add_subnet(&mut self, it: &Item) {
        let Some(origin) = self.origin(it, s(&it.v, "SubnetId"), "AWS::EC2::Subnet", "SubnetId")
        else {
            return;
        };
        let id = origin.id.clone();
        let Some(vpc) = self.vpc_of(it, &id) else {
            return;
        };
        let cidr_v4 = match s(&it.v, "CidrBlock").map(str::parse::<Ipv4Net>) {
            Some(Ok(n)) => Some(n.trunc()),
            Some(Err(e)) => {
                self.error(
                    it.file,
                    &id,
                    "InvalidParameterValue",
                    format!("CidrBlock: {e}"),
                );
                self.skip(&id);
                return;
            }
            None => None,
        };
        let cidr_v6 = list(&it.v, "Ipv6CidrBlockAssociationSet")
            .iter()
            .filter_map(|a| s(a, "Ipv6CidrBlock")?.parse::<Ipv6Net>().ok())
            .next();
        if cidr_v4.is_none() && cidr_v6.is_none() {
            // Without a range nothing can be placed in the subnet; what is in it is a follow-on.
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "no CidrBlock (nor an IPv6 block in Ipv6CidrBlockAssociationSet)".into(),
            );
            self.skip(&id);
            return;
        }
        if let Some(c) = cidr_v4 {
            if !self.model.vpcs[vpc].cidrs_v4.iter().any(|v| v.contains(&c)) {
                // AWS cannot hold such a subnet: the VPC's description is older than the
                // subnet's (a CIDR association the export missed). Nothing can be placed in it.
                self.warn(
                    it.file,
                    &id,
                    "InvalidSubnet.Range",
                    format!(
                        "{c} is outside the CIDR blocks of {}: the subnet is skipped",
                        self.model.vpcs[vpc].origin.id
                    ),
                );
                self.skip(&id);
                return;
            }
        }
        self.model.subnets.push(Subnet {
            origin,
            vpc,
            availability_zone: s(&it.v, "AvailabilityZone").unwrap_or_default().to_string(),
            cidr_v4,
            cidr_v6,
            map_public_ip_on_launch: it.v.get("MapPublicIpOnLaunch").and_then(Value::as_bool)
                == Some(true),
            route_table: None,
            network_acl: None,
        });
        let i = self.model.subnets.len() - 1;
        self.by_id.insert(id, Ref::Subnet(i));
    }
}
