//! Compile the [`Model`] into the data plane's [`Topology`].

use crate::model::{self, EniOwner, Model, Origin, SgPeer};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::Ipv4Addr;
use vpcsim_dataplane::nacl::NetworkAcl;
use vpcsim_dataplane::sg::{SecurityGroup, SgRule};
use vpcsim_dataplane::topology::{
    EgressOnlyInternetGateway, EniKind, InternetGateway, NatGateway, NetworkInterface,
    PeeringConnection, ResId, Route, RouteTable, RouteTarget, Subnet, Topology, Vpc,
};

fn res(topo: &mut Topology, o: &Origin) -> ResId {
    topo.add_resource(&o.logical_id, &o.id, o.kind, o.name.clone())
}

/// A locally administered MAC derived from the interface id, stable across runs.
fn mac_for(id: &str) -> [u8; 6] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    [0x02, b[1], b[2], b[3], b[4], b[5]]
}

/// The model's security group rules in the data plane's form, with readable text for traces.
fn sg_rules(model: &Model, rules: &[model::SgRule], ingress: bool) -> Vec<SgRule> {
    rules
        .iter()
        .map(|r| {
            let proto = match r.protocol {
                None => "all".to_string(),
                Some(p) => vpcsim_dataplane::flow::ProtocolName(p).to_string(),
            };
            let ports = match r.protocol {
                Some(6) | Some(17) if (r.from_port, r.to_port) == (0, 65535) => String::new(),
                Some(6) | Some(17) if r.from_port == r.to_port => format!(" {}", r.from_port),
                Some(6) | Some(17) => format!(" {}-{}", r.from_port, r.to_port),
                Some(1) | Some(58) => {
                    let f = |v: i32| {
                        if v < 0 {
                            "any".to_string()
                        } else {
                            v.to_string()
                        }
                    };
                    format!(" type {} code {}", f(r.from_port), f(r.to_port))
                }
                _ => String::new(),
            };
            let peer = match &r.peer {
                SgPeer::Cidr(c) => c.to_string(),
                SgPeer::Group(g) => model.security_groups[*g].origin.logical_id.clone(),
            };
            let dir = if ingress { "from" } else { "to" };
            SgRule {
                protocol: r.protocol,
                from_port: r.from_port,
                to_port: r.to_port,
                peer: match &r.peer {
                    SgPeer::Cidr(c) => vpcsim_dataplane::sg::SgPeer::Cidr(*c),
                    SgPeer::Group(g) => vpcsim_dataplane::sg::SgPeer::Group(*g as u32),
                },
                text: format!("{proto}{ports} {dir} {peer}"),
            }
        })
        .collect()
}

/// Build the data-plane tables. The model must have loaded without errors for the result to
/// mean anything; it never panics on a partial model.
pub fn compile(model: &Model) -> Topology {
    let mut topo = Topology::new();
    let vpc_res: Vec<ResId> = model
        .vpcs
        .iter()
        .map(|v| res(&mut topo, &v.origin))
        .collect();
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
            internet_gateway: v.internet_gateway.map(|g| g as u32),
            egress_only_igw: v.egress_only_igw.map(|g| g as u32),
            resolver_v4,
            ..Default::default()
        });
    }
    for acl in &model.network_acls {
        let r = res(&mut topo, &acl.origin);
        let mut compiled = NetworkAcl {
            res: r,
            ingress: vec![],
            egress: vec![],
        };
        for e in &acl.entries {
            let mut entry = e.entry.clone();
            entry.res = e.origin.as_ref().map(|o| res(&mut topo, o));
            if e.egress {
                compiled.egress.push(entry);
            } else {
                compiled.ingress.push(entry);
            }
        }
        topo.network_acls.push(compiled);
    }
    for g in &model.security_groups {
        let r = res(&mut topo, &g.origin);
        topo.security_groups.push(SecurityGroup {
            res: r,
            vpc: g.vpc.unwrap_or(usize::MAX) as u32,
            ingress: sg_rules(model, &g.ingress, true),
            egress: sg_rules(model, &g.egress, false),
        });
    }
    for g in &model.internet_gateways {
        let r = res(&mut topo, &g.origin);
        topo.internet_gateways.push(InternetGateway {
            res: r,
            vpc: g.vpc.map(|v| v as u32),
        });
    }
    for g in &model.egress_only_igws {
        let r = res(&mut topo, &g.origin);
        topo.egress_only_igws.push(EgressOnlyInternetGateway {
            res: r,
            vpc: g.vpc as u32,
        });
    }
    for p in &model.peerings {
        let r = res(&mut topo, &p.origin);
        topo.peerings.push(PeeringConnection {
            res: r,
            requester: p.requester as u32,
            // An unknown peer: routes to this peering are treated as blackholes below.
            accepter: p.accepter.unwrap_or(p.requester) as u32,
        });
    }
    for s in &model.subnets {
        let r = res(&mut topo, &s.origin);
        let v = &model.vpcs[s.vpc];
        topo.subnets.push(Subnet {
            res: r,
            vpc: s.vpc as u32,
            availability_zone: s.availability_zone.clone(),
            cidr_v4: s.cidr_v4,
            cidr_v6: s.cidr_v6,
            route_table: s.route_table.unwrap_or(v.main_route_table) as u32,
            network_acl: s.network_acl.unwrap_or(v.default_network_acl) as u32,
        });
    }
    // Instances name their primary interface; secondary and standalone interfaces name themselves.
    let instance_res: Vec<ResId> = model
        .instances
        .iter()
        .map(|i| res(&mut topo, &i.origin))
        .collect();
    let nat_res: Vec<ResId> = model
        .nat_gateways
        .iter()
        .map(|n| res(&mut topo, &n.origin))
        .collect();
    for (i, e) in model.enis.iter().enumerate() {
        let (eni_res, owner, kind) = match e.owner {
            EniOwner::Instance(inst, 0) => {
                let r = topo.add_resource(
                    &format!("{}.eth0", model.instances[inst].origin.logical_id),
                    &e.origin.id,
                    "AWS::EC2::NetworkInterface",
                    None,
                );
                (r, instance_res[inst], EniKind::Host)
            }
            EniOwner::NatGateway(n) => {
                let r = topo.add_resource(
                    &format!("{}.eni", model.nat_gateways[n].origin.logical_id),
                    &e.origin.id,
                    "AWS::EC2::NetworkInterface",
                    None,
                );
                (r, nat_res[n], EniKind::NatGateway(n as u32))
            }
            _ => {
                let r = res(&mut topo, &e.origin);
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
            subnet: e.subnet as u32,
            vpc: model.subnets[e.subnet].vpc as u32,
            private_v4: e.private_v4.clone(),
            ipv6: e.ipv6.clone(),
            public_v4,
            security_groups: e.security_groups.iter().map(|&g| g as u32).collect(),
            source_dest_check: e.source_dest_check,
            mac: mac_for(&e.origin.id),
            sg_ingress: vec![],
            sg_egress: vec![],
        });
    }
    for (n, nat) in model.nat_gateways.iter().enumerate() {
        topo.nat_gateways.push(NatGateway {
            res: nat_res[n],
            subnet: nat.subnet as u32,
            eni: nat.eni as u32,
            public: nat.public,
            addresses: model.enis[nat.eni].private_v4.clone(),
        });
    }
    for rt in &model.route_tables {
        let r = res(&mut topo, &rt.origin);
        let v = &model.vpcs[rt.vpc];
        let mut routes = Vec::new();
        // Static routes come first so that one with the same destination as a local route
        // replaces the local target (as `replace-route` does on AWS).
        for route in &rt.routes {
            let route_res = res(&mut topo, &route.origin);
            let (target, target_name) = match &route.target {
                model::RouteTarget::InternetGateway(g) => (
                    RouteTarget::InternetGateway(*g as u32),
                    model.internet_gateways[*g].origin.logical_id.clone(),
                ),
                model::RouteTarget::EgressOnlyInternetGateway(g) => (
                    RouteTarget::EgressOnlyInternetGateway(*g as u32),
                    model.egress_only_igws[*g].origin.logical_id.clone(),
                ),
                model::RouteTarget::NatGateway(n) => (
                    RouteTarget::NatGateway(*n as u32),
                    model.nat_gateways[*n].origin.logical_id.clone(),
                ),
                model::RouteTarget::NetworkInterface(e) => {
                    let name = match model.enis[*e].owner {
                        EniOwner::Instance(inst, 0) => {
                            model.instances[inst].origin.logical_id.clone()
                        }
                        _ => model.enis[*e].origin.logical_id.clone(),
                    };
                    (RouteTarget::NetworkInterface(*e as u32), name)
                }
                model::RouteTarget::Peering(p) if model.peerings[*p].accepter.is_some() => (
                    RouteTarget::Peering(*p as u32),
                    model.peerings[*p].origin.logical_id.clone(),
                ),
                model::RouteTarget::Peering(p) => {
                    let name = model.peerings[*p].origin.logical_id.clone();
                    (
                        RouteTarget::Blackhole {
                            target: name.clone(),
                        },
                        name,
                    )
                }
                model::RouteTarget::Missing(id) => {
                    (RouteTarget::Blackhole { target: id.clone() }, id.clone())
                }
            };
            routes.push(Route {
                res: Some(route_res),
                destination: route.destination,
                target,
                target_name,
            });
        }
        let locals = v
            .cidrs_v4
            .iter()
            .map(|c| IpNet::V4(*c))
            .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)));
        for c in locals {
            routes.push(Route {
                res: None,
                destination: c,
                target: RouteTarget::Local,
                target_name: "local".into(),
            });
        }
        topo.route_tables
            .push(RouteTable::new(r, rt.vpc as u32, routes));
    }
    topo.finish();
    topo
}

/// A subnet in the CIDR summary: logical id, IPv4 and IPv6 blocks, Availability Zone.
pub type SubnetSummary = (String, Option<Ipv4Net>, Option<Ipv6Net>, String);
/// A VPC in the CIDR summary: logical id, IPv4 and IPv6 blocks, its subnets.
pub type VpcSummary = (String, Vec<Ipv4Net>, Vec<Ipv6Net>, Vec<SubnetSummary>);

/// Every VPC and subnet CIDR, for `validate` output and tests.
pub fn cidr_summary(model: &Model) -> Vec<VpcSummary> {
    model
        .vpcs
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let subnets = model
                .subnets
                .iter()
                .filter(|s| s.vpc == i)
                .map(|s| {
                    (
                        s.origin.logical_id.clone(),
                        s.cidr_v4,
                        s.cidr_v6,
                        s.availability_zone.clone(),
                    )
                })
                .collect();
            (
                v.origin.logical_id.clone(),
                v.cidrs_v4.clone(),
                v.cidrs_v6.clone(),
                subnets,
            )
        })
        .collect()
}
