//! VPCs and their subnets.

use super::{res, resources};
use crate::model::Model;
use std::net::Ipv4Addr;
use vpcsim_dataplane::topology::{EigwIdx, IgwIdx, Subnet, Topology, Vpc};

/// Every VPC, with the Amazon DNS server at the VPC's base address + 2 when DNS support is on.
pub(super) fn vpcs(model: &Model, topo: &mut Topology) {
    let vpc_res = resources(topo, model.vpcs.iter().map(|v| &v.origin));
    for (i, v) in model.vpcs.iter().enumerate() {
        let resolver_v4 = v
            .cidrs_v4
            .first()
            .filter(|_| v.enable_dns_support)
            .map(|c| Ipv4Addr::from_bits(c.network().to_bits() + 2));
        topo.vpcs.push(Vpc {
            res: vpc_res[i],
            cidrs_v4: v.cidrs_v4.clone(),
            cidrs_v6: v.cidrs_v6.clone(),
            internet_gateway: v.internet_gateway.map(IgwIdx::from),
            egress_only_igw: v.egress_only_igw.map(EigwIdx::from),
            resolver_v4,
            ..Default::default()
        });
    }
}

/// Every subnet; one without an explicit association uses its VPC's main route table and
/// default network ACL.
pub(super) fn subnets(model: &Model, topo: &mut Topology) {
    for s in &model.subnets {
        let r = res(topo, &s.origin);
        let v = &model.vpcs[s.vpc];
        topo.subnets.push(Subnet {
            res: r,
            vpc: s.vpc.into(),
            availability_zone: s.availability_zone.clone(),
            // Numbered by Topology::finish.
            az: 0,
            cidr_v4: s.cidr_v4,
            cidr_v6: s.cidr_v6,
            route_table: s.route_table.unwrap_or(v.main_route_table).into(),
            network_acl: s.network_acl.unwrap_or(v.default_network_acl).into(),
        });
    }
}
