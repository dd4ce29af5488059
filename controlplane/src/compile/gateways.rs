//! Internet gateways, egress-only internet gateways and NAT gateways.

use super::res;
use super::route_tables::gateway_route_table;
use crate::model::{EdgeGateway, Model};
use vpcsim_dataplane::topology::{
    EgressOnlyInternetGateway, InternetGateway, NatGateway, ResId, Topology, VpcIdx,
};

/// Every internet gateway, with its gateway route table (ingress routing) when it has one.
pub(super) fn internet_gateways(model: &Model, topo: &mut Topology) {
    for (i, g) in model.internet_gateways.iter().enumerate() {
        let r = res(topo, &g.origin);
        topo.internet_gateways.push(InternetGateway {
            res: r,
            vpc: g.vpc.map(VpcIdx::from),
            route_table: gateway_route_table(model, EdgeGateway::InternetGateway(i)),
        });
    }
}

/// Every egress-only internet gateway.
pub(super) fn egress_only_internet_gateways(model: &Model, topo: &mut Topology) {
    for g in &model.egress_only_igws {
        let r = res(topo, &g.origin);
        topo.egress_only_igws.push(EgressOnlyInternetGateway {
            res: r,
            vpc: g.vpc.into(),
        });
    }
}

/// Every NAT gateway, its address pool being its interface's private addresses; `nat_res` are
/// the gateways' resources, created before the interfaces that name them.
pub(super) fn nat_gateways(model: &Model, topo: &mut Topology, nat_res: &[ResId]) {
    for (n, nat) in model.nat_gateways.iter().enumerate() {
        topo.nat_gateways.push(NatGateway {
            res: nat_res[n],
            subnet: nat.subnet.into(),
            eni: nat.eni.into(),
            public: nat.public,
            addresses: model.enis[nat.eni].private_v4.clone(),
        });
    }
}
