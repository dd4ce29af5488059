//! Gateway endpoints (SPEC §10.1): a route whose destination is the service's prefix list sends
//! packets to S3 or DynamoDB through the endpoint instead of an internet or NAT gateway, and
//! the service's replies come back through it. Only TCP and ICMP echo are carried.

use super::driver::{gather, Driver, Field};
use super::Node;
use crate::topology::endpoint::GatewayTraffic;
use crate::topology::maps::Owners;
use crate::topology::{RouteTarget, VpcEndpointIdx};
use crate::trace::{Action, Stage};
use crate::verdict::DropReason;

/// `GatewayEndpoint`: out of the VPC to the AWS service through gateway endpoint `x`.
pub(super) fn gateway_endpoint<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, x: VpcEndpointIdx) {
    let ep = &d.topo().vpc_endpoints[x];
    let decided = d.decide(
        p,
        &GatewayTraffic {
            towards_service: true,
        },
    );
    if let Some((p, _)) = decided.fail {
        d.drop(
            p,
            DropReason::VpceGatewayProtocol,
            ep.res,
            Stage::Exit,
            None,
            |_| {
                "a gateway endpoint carries only TCP and ICMP echo requests towards the service"
                    .into()
            },
        );
    }
    let Some((p, _)) = decided.pass else { return };
    let service = &ep.service_name;
    d.hop(&p, ep.res, Stage::Exit, Action::Exit, None, |_| {
        format!("leaves through the gateway endpoint to {service}")
    });
    d.exit(p, ep.res, None);
}

/// A packet from an AWS service's address to a private address of an interface whose subnet
/// routes the service through a gateway endpoint: the service's reply, coming back through the
/// endpoint (the internet cannot reach private addresses). Returns the rest, which arrives from
/// the internet.
pub(super) fn replies<'t, D: Driver<'t>>(d: &mut D, p: D::Packet) -> Option<D::Packet> {
    let topo = d.topo();
    let mut rest = None;
    for (owner, p) in d.split(p, Field::Dst, &Owners(topo)) {
        let Some(eni) = owner else {
            gather(d, &mut rest, p);
            continue;
        };
        let rt = &topo.route_tables[topo.subnet_of(eni).route_table];
        for (ri, p) in d.split(p, Field::Src, rt) {
            let Some(RouteTarget::GatewayEndpoint(x)) = ri.map(|ri| &rt.routes[ri as usize].target)
            else {
                gather(d, &mut rest, p);
                continue;
            };
            let ep = &topo.vpc_endpoints[*x];
            let service = &ep.service_name;
            d.hop(&p, ep.res, Stage::Origin, Action::Forward, None, |_| {
                format!("arrives from {service} through the gateway endpoint")
            });
            let decided = d.decide(
                p,
                &GatewayTraffic {
                    towards_service: false,
                },
            );
            if let Some((p, _)) = decided.fail {
                d.drop(
                    p,
                    DropReason::VpceGatewayProtocol,
                    ep.res,
                    Stage::Origin,
                    None,
                    |_| {
                        "a gateway endpoint carries only TCP and ICMP echo replies from the service"
                            .into()
                    },
                );
            }
            if let Some((p, _)) = decided.pass {
                d.next(
                    p,
                    Node::Enter {
                        eni,
                        from_subnet: None,
                    },
                );
            }
        }
    }
    rest
}
