//! Compile the [`Model`] into the data plane's [`Topology`].

use crate::model::{self, EdgeGateway, EniOwner, Model, Origin, SgPeer, TgwAttachmentKind};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::Ipv4Addr;
use vpcsim_dataplane::endpoint::{EndpointKind, VpcEndpoint};
use vpcsim_dataplane::nacl::NetworkAcl;
use vpcsim_dataplane::sg::{SecurityGroup, SgRule};
use vpcsim_dataplane::tgw::{
    AttachmentKind, PrefixMap, TgwAttachment, TgwRoute, TgwRouteOrigin, TgwRouteTable,
    TgwRouteTarget, TransitGateway,
};
use vpcsim_dataplane::topology::{
    EgressOnlyInternetGateway, EniKind, InternetGateway, NatGateway, NetworkInterface,
    PeeringConnection, ResId, Route, RouteTable, RouteTarget, Subnet, Topology, Vpc,
};
use vpcsim_dataplane::vpn::{VpnConnection, VpnEdge, VpnGateway};

fn res(topo: &mut Topology, o: &Origin) -> ResId {
    topo.add_resource(&o.logical_id, &o.id, &o.kind, o.name.clone())
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
fn sg_rules(
    model: &Model,
    pl_res: &[ResId],
    rules: &[model::SgRule],
    ingress: bool,
) -> Vec<SgRule> {
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
                SgPeer::PrefixList(l) => {
                    let o = &model.prefix_lists[*l].origin;
                    format!("{} [{}]", o.logical_id, o.id)
                }
            };
            let dir = if ingress { "from" } else { "to" };
            SgRule {
                protocol: r.protocol,
                from_port: r.from_port,
                to_port: r.to_port,
                peer: match &r.peer {
                    SgPeer::Cidr(c) => vpcsim_dataplane::sg::SgPeer::Cidr(*c),
                    SgPeer::Group(g) => vpcsim_dataplane::sg::SgPeer::Group(*g as u32),
                    SgPeer::PrefixList(l) => vpcsim_dataplane::sg::SgPeer::PrefixList {
                        list: pl_res[*l],
                        entries: model.prefix_lists[*l].entries.clone(),
                    },
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
    let pl_res: Vec<ResId> = model
        .prefix_lists
        .iter()
        .map(|l| res(&mut topo, &l.origin))
        .collect();
    for g in &model.security_groups {
        let r = res(&mut topo, &g.origin);
        topo.security_groups.push(SecurityGroup {
            res: r,
            vpc: g.vpc.unwrap_or(usize::MAX) as u32,
            ingress: sg_rules(model, &pl_res, &g.ingress, true),
            egress: sg_rules(model, &pl_res, &g.egress, false),
        });
    }
    let edge_table = |gateway: EdgeGateway| {
        model
            .gateway_route_tables
            .iter()
            .find(|g| g.gateway == gateway)
            .map(|g| g.route_table as u32)
    };
    for (i, g) in model.internet_gateways.iter().enumerate() {
        let r = res(&mut topo, &g.origin);
        topo.internet_gateways.push(InternetGateway {
            res: r,
            vpc: g.vpc.map(|v| v as u32),
            route_table: edge_table(EdgeGateway::InternetGateway(i)),
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
            // Numbered by Topology::finish.
            az: 0,
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
    let lb_res: Vec<ResId> = model
        .load_balancers
        .iter()
        .map(|lb| res(&mut topo, &lb.origin))
        .collect();
    let endpoint_res = compile_endpoints(model, &mut topo, &pl_res);
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
            // A load balancer node names itself (`<Nlb>.<Subnet>`): one flow log and capture per
            // node, as AWS keeps one interface per node; load balancer drops name the balancer.
            EniOwner::LoadBalancer(lb) => {
                let r = res(&mut topo, &e.origin);
                (r, r, EniKind::LoadBalancer(lb as u32))
            }
            EniOwner::VpcEndpoint(x) => {
                let r = res(&mut topo, &e.origin);
                (r, endpoint_res[x], EniKind::VpcEndpoint(x as u32))
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
    for (rt_index, rt) in model.route_tables.iter().enumerate() {
        let r = res(&mut topo, &rt.origin);
        let v = &model.vpcs[rt.vpc];
        let mut routes = Vec::new();
        // Static routes come first so that one with the same destination as a local route
        // replaces the local target (as `replace-route` does on AWS).
        for route in &rt.routes {
            let route_res = res(&mut topo, &route.origin);
            let (target, target_name) = route_target(model, &route.target);
            routes.push(Route {
                res: Some(route_res),
                destination: route.destination,
                target,
                target_name,
                propagated: false,
                prefix_list: None,
            });
        }
        crate::load::gwlb_routes(model, &mut topo, rt_index, &mut routes);
        prefix_list_routes(model, &mut topo, rt_index, &pl_res, &mut routes);
        propagated_routes(model, &mut topo, rt_index, &mut routes);
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
                propagated: false,
                prefix_list: None,
            });
        }
        topo.route_tables
            .push(RouteTable::new(r, rt.vpc as u32, routes));
    }
    compile_edges(model, &mut topo);
    topo.finish();
    crate::load::compile_load_balancers(model, &mut topo, &lb_res);
    crate::load::compile_gateway_load_balancers(model, &mut topo);
    topo
}

/// A route target in the data plane's form, with the name traces print.
fn route_target(model: &Model, target: &model::RouteTarget) -> (RouteTarget, String) {
    match target {
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
                EniOwner::Instance(inst, 0) => model.instances[inst].origin.logical_id.clone(),
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
        model::RouteTarget::TransitGateway(g) => (
            RouteTarget::TransitGateway(*g as u32),
            model.transit_gateways[*g].origin.logical_id.clone(),
        ),
        model::RouteTarget::VpnGateway(g) => (
            RouteTarget::VpnGateway(*g as u32),
            model.vpn_gateways[*g].origin.logical_id.clone(),
        ),
        model::RouteTarget::Missing(id) => {
            (RouteTarget::Blackhole { target: id.clone() }, id.clone())
        }
    }
}

/// Every on-premises prefix behind a virtual private gateway, with the connection that reaches
/// it: static VPN routes before BGP-learned ones, since a VGW prefers them for the same prefix
/// (SPEC §14.6).
fn vgw_prefixes(model: &Model, g: usize) -> Vec<(IpNet, usize)> {
    let mut out = Vec::new();
    for static_first in [true, false] {
        for (i, c) in model.vpn_connections.iter().enumerate() {
            if c.edge == model::VpnEdge::VpnGateway(g) && c.static_routes_only == static_first {
                out.extend(c.prefixes(model).into_iter().map(|p| (p, i)));
            }
        }
    }
    out
}

/// Routes a virtual private gateway propagates into route table `table` (SPEC §2.8): one per
/// on-premises prefix, after the table's static routes (a static route wins for the same
/// prefix, §2.4) and never inside a VPC CIDR (the local route always wins over them, §2.3).
fn propagated_routes(model: &Model, topo: &mut Topology, table: usize, routes: &mut Vec<Route>) {
    let rt = &model.route_tables[table];
    let v = &model.vpcs[rt.vpc];
    for (g, vgw) in model.vpn_gateways.iter().enumerate() {
        let Some((_, origin)) = vgw.propagations.iter().find(|(t, _)| *t == table) else {
            continue;
        };
        if vgw.vpc != Some(rt.vpc) {
            continue;
        }
        let prop = res(topo, origin);
        for (p, _) in vgw_prefixes(model, g) {
            let inside_vpc = match p {
                IpNet::V4(p) => v.cidrs_v4.iter().any(|c| c.contains(&p)),
                IpNet::V6(p) => v.cidrs_v6.iter().any(|c| c.contains(&p)),
            };
            if inside_vpc || routes.iter().any(|r| r.destination == p) {
                continue;
            }
            routes.push(Route {
                res: Some(prop),
                destination: p,
                target: RouteTarget::VpnGateway(g as u32),
                target_name: vgw.origin.logical_id.clone(),
                propagated: true,
                prefix_list: None,
            });
        }
    }
}

/// Transit gateways, their attachments and route tables, virtual private gateways and VPN
/// connections.
fn compile_edges(model: &Model, topo: &mut Topology) {
    for g in &model.transit_gateways {
        let r = res(topo, &g.origin);
        topo.transit_gateways.push(TransitGateway { res: r });
    }
    for a in &model.tgw_attachments {
        let r = res(topo, &a.origin);
        let (kind, subnets) = match &a.kind {
            TgwAttachmentKind::Vpc { vpc, subnets } => (
                AttachmentKind::Vpc(*vpc as u32),
                subnets.iter().map(|&s| s as u32).collect(),
            ),
            TgwAttachmentKind::Vpn(c) => (AttachmentKind::Vpn(*c as u32), vec![]),
        };
        topo.tgw_attachments.push(TgwAttachment {
            res: r,
            tgw: a.tgw as u32,
            kind,
            subnets,
            appliance_mode: a.appliance_mode,
            route_table: a.association.map(|t| t as u32),
        });
    }
    for (t, table) in model.tgw_route_tables.iter().enumerate() {
        let r = res(topo, &table.origin);
        let mut routes = Vec::new();
        for route in &table.routes {
            let rr = res(topo, &route.origin);
            routes.push(TgwRoute {
                res: Some(rr),
                destination: route.destination,
                target: route.attachment.map_or(TgwRouteTarget::Blackhole, |a| {
                    TgwRouteTarget::Attachment(a as u32)
                }),
                origin: TgwRouteOrigin::Static,
            });
        }
        // Propagation: a VPC attachment installs its VPC's CIDRs, a VPN attachment the
        // prefixes its customer gateway advertises over BGP (SPEC §9.2).
        for (a, att) in model.tgw_attachments.iter().enumerate() {
            if !att.propagations.contains(&t) {
                continue;
            }
            let target = TgwRouteTarget::Attachment(a as u32);
            match &att.kind {
                TgwAttachmentKind::Vpc { vpc, .. } => {
                    let v = &model.vpcs[*vpc];
                    let cidrs = v
                        .cidrs_v4
                        .iter()
                        .map(|c| IpNet::V4(*c))
                        .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)));
                    routes.extend(cidrs.map(|destination| TgwRoute {
                        res: None,
                        destination,
                        target,
                        origin: TgwRouteOrigin::VpcPropagated,
                    }));
                }
                TgwAttachmentKind::Vpn(c) => {
                    let conn = &model.vpn_connections[*c];
                    if conn.static_routes_only {
                        continue;
                    }
                    routes.extend(
                        conn.prefixes(model)
                            .into_iter()
                            .map(|destination| TgwRoute {
                                res: None,
                                destination,
                                target,
                                origin: TgwRouteOrigin::VpnPropagated,
                            }),
                    );
                }
            }
        }
        topo.tgw_route_tables
            .push(TgwRouteTable::new(r, table.tgw as u32, routes));
    }
    for (g, vgw) in model.vpn_gateways.iter().enumerate() {
        let r = res(topo, &vgw.origin);
        if let Some(v) = vgw.vpc.and_then(|v| topo.vpcs.get_mut(v)) {
            v.vpn_gateway = Some(g as u32);
        }
        let routes = PrefixMap::new(
            vgw_prefixes(model, g)
                .into_iter()
                .map(|(p, c)| (p, c as u32)),
        );
        topo.vpn_gateways.push(VpnGateway {
            res: r,
            vpc: vgw.vpc.map(|v| v as u32),
            route_table: model
                .gateway_route_tables
                .iter()
                .find(|e| e.gateway == EdgeGateway::VpnGateway(g))
                .map(|e| e.route_table as u32),
            routes,
        });
    }
    let cgw_res: Vec<ResId> = model
        .customer_gateways
        .iter()
        .map(|c| res(topo, &c.origin))
        .collect();
    for c in &model.vpn_connections {
        let r = res(topo, &c.origin);
        let mut prefixes = c.prefixes(model);
        let edge = match c.edge {
            model::VpnEdge::VpnGateway(g) => VpnEdge::VpnGateway(g as u32),
            model::VpnEdge::TransitGateway { attachment, .. } => {
                // Static routes of a VPN on a transit gateway live in its route tables.
                for table in &model.tgw_route_tables {
                    for route in &table.routes {
                        if route.attachment == Some(attachment)
                            && !prefixes.contains(&route.destination)
                        {
                            prefixes.push(route.destination);
                        }
                    }
                }
                VpnEdge::TransitGateway {
                    attachment: attachment as u32,
                }
            }
        };
        topo.vpn_connections.push(VpnConnection {
            res: r,
            customer_gateway: cgw_res[c.customer_gateway],
            edge,
            prefixes,
        });
    }
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

/// Routes whose destination is a prefix list, one per entry (SPEC §2.4 step 1): the user's
/// (`DestinationPrefixListId`) and those gateway endpoints install in the tables they name
/// (§10.1). They come after the static CIDR routes, which win at equal prefix (§2.4 4b), and
/// before propagated ones, which they beat (4c).
fn prefix_list_routes(
    model: &Model,
    topo: &mut Topology,
    table: usize,
    pl_res: &[ResId],
    routes: &mut Vec<Route>,
) {
    for r in model
        .prefix_list_routes
        .iter()
        .filter(|r| r.route_table == table)
    {
        let route_res = res(topo, &r.origin);
        let (target, target_name) = route_target(model, &r.target);
        for entry in &model.prefix_lists[r.prefix_list].entries {
            routes.push(Route {
                res: Some(route_res),
                destination: *entry,
                target: target.clone(),
                target_name: target_name.clone(),
                propagated: false,
                prefix_list: Some(pl_res[r.prefix_list]),
            });
        }
    }
    for (x, ep) in model.vpc_endpoints.iter().enumerate() {
        let model::VpcEndpointKind::Gateway {
            route_tables,
            prefix_list,
        } = &ep.kind
        else {
            continue;
        };
        if !route_tables.contains(&table) {
            continue;
        }
        for entry in &model.prefix_lists[*prefix_list].entries {
            routes.push(Route {
                res: None,
                destination: *entry,
                target: RouteTarget::GatewayEndpoint(x as u32),
                target_name: ep.origin.logical_id.clone(),
                propagated: false,
                prefix_list: Some(pl_res[*prefix_list]),
            });
        }
    }
}

/// VPC endpoints, in model order (so route targets and interfaces index them alike); returns
/// each endpoint's resource, the owner of its interfaces.
fn compile_endpoints(model: &Model, topo: &mut Topology, pl_res: &[ResId]) -> Vec<ResId> {
    let mut out = Vec::with_capacity(model.vpc_endpoints.len());
    for ep in &model.vpc_endpoints {
        let r = res(topo, &ep.origin);
        let (kind, prefix_list) = match &ep.kind {
            model::VpcEndpointKind::Gateway { prefix_list, .. } => {
                (EndpointKind::Gateway, Some(pl_res[*prefix_list]))
            }
            model::VpcEndpointKind::Interface { .. } => (EndpointKind::Interface, None),
        };
        topo.vpc_endpoints.push(VpcEndpoint {
            res: r,
            vpc: ep.vpc as u32,
            kind,
            service_name: ep.service_name.clone(),
            prefix_list,
        });
        out.push(r);
    }
    out
}
