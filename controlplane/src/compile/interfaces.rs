//! Elastic network interfaces: those of instances, NAT gateways, load balancer nodes, interface
//! endpoints and standalone ones.

use super::{fnv1a, res};
use crate::model::{EniOwner, Model};
use vpcsim_dataplane::topology::{
    EniKind, NatIdx, NetworkInterface, ResId, SgIdx, Topology, VpcEndpointIdx,
};

/// The resources interfaces belong to, created before the interfaces (index = model index).
pub(super) struct Owners {
    pub instances: Vec<ResId>,
    pub nat_gateways: Vec<ResId>,
    pub load_balancers: Vec<ResId>,
    pub app_load_balancers: Vec<ResId>,
    pub vpc_endpoints: Vec<ResId>,
}

/// Every interface, with its public addresses (Elastic IPs first, then an auto-assigned one).
pub(super) fn network_interfaces(model: &Model, topo: &mut Topology, owners: &Owners) {
    for (i, e) in model.enis.iter().enumerate() {
        let (eni_res, owner, kind) = match e.owner {
            EniOwner::Instance(inst, 0) => {
                let r = topo.add_resource(
                    &format!("{}.eth0", model.instances[inst].origin.logical_id),
                    &e.origin.id,
                    "AWS::EC2::NetworkInterface",
                    None,
                );
                (r, owners.instances[inst], EniKind::Host)
            }
            EniOwner::NatGateway(n) => {
                let r = topo.add_resource(
                    &format!("{}.eni", model.nat_gateways[n].origin.logical_id),
                    &e.origin.id,
                    "AWS::EC2::NetworkInterface",
                    None,
                );
                (
                    r,
                    owners.nat_gateways[n],
                    EniKind::NatGateway(NatIdx::from(n)),
                )
            }
            // A load balancer node names itself (`<Nlb>.<Subnet>`): one flow log and capture per
            // node, as AWS keeps one interface per node; load balancer drops name the balancer.
            EniOwner::LoadBalancer(lb) => {
                let r = res(topo, &e.origin);
                (r, r, EniKind::NetworkLoadBalancer(lb.into()))
            }
            // An Application Load Balancer's node is named `<Alb>.<Subnet>`, but what reaches it
            // is delivered to the load balancer, which ends the client's connection.
            EniOwner::AppLoadBalancer(lb) => {
                let r = res(topo, &e.origin);
                (
                    r,
                    owners.app_load_balancers[lb],
                    EniKind::ApplicationLoadBalancer(lb.into()),
                )
            }
            EniOwner::VpcEndpoint(x) => {
                let r = res(topo, &e.origin);
                (
                    r,
                    owners.vpc_endpoints[x],
                    EniKind::VpcEndpoint(VpcEndpointIdx::from(x)),
                )
            }
            _ => {
                let r = res(topo, &e.origin);
                (r, r, EniKind::Host)
            }
        };
        let public_v4 = e
            .private_v4
            .iter()
            .filter_map(|&p| model.public_ip_of(i, p).map(|public| (p, public)))
            .collect();
        topo.enis.push(NetworkInterface {
            res: eni_res,
            owner,
            kind,
            subnet: e.subnet.into(),
            vpc: model.subnets[e.subnet].vpc.into(),
            private_v4: e.private_v4.clone(),
            ipv6: e.ipv6.clone(),
            public_v4,
            security_groups: e.security_groups.iter().map(|&g| SgIdx::from(g)).collect(),
            source_dest_check: e.source_dest_check,
            mac: mac_for(&e.origin.id),
            sg_ingress: vec![],
            sg_egress: vec![],
        });
    }
}

/// A locally administered MAC derived from the interface id, stable across runs.
pub(super) fn mac_for(id: &str) -> [u8; 6] {
    let b = fnv1a(id).to_be_bytes();
    [0x02, b[1], b[2], b[3], b[4], b[5]]
}
