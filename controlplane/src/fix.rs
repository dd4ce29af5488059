//! Changes to a [`Model`] that `vpcsim trace` suggests as fixes, in a form that can be applied
//! and traced again (the suggestion is only as good as the packet it then lets through).
//!
//! Indices are the model's; [`crate::compile()`] keeps them equal to the data plane's table indices
//! (`Topology::enis[i]` is `Model::enis[i]`, and likewise for groups, ACLs, route tables), which is
//! how a drop seen in the data plane names the model object to change.

use crate::model::{
    Eip, Model, NaclEntry, Origin, Route, RouteTarget, SgPeer, SgRule, TgwAttachmentKind, TgwRoute,
};
use ipnet::IpNet;
use std::fmt;
use std::net::Ipv4Addr;
use vpcsim_dataplane::wire::IpProtocol;

/// One change to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Add a rule to a security group.
    AddSecurityGroupRule {
        /// Index into [`Model::security_groups`].
        group: usize,
        /// An inbound rule; otherwise outbound.
        ingress: bool,
        /// The rule to add.
        rule: SgRule,
    },
    /// Add an entry to a network ACL.
    AddNetworkAclEntry {
        /// Index into [`Model::network_acls`].
        acl: usize,
        /// An outbound entry; otherwise inbound.
        egress: bool,
        /// The entry to add.
        entry: vpcsim_dataplane::tables::nacl::NaclEntry,
    },
    /// Add a route, or replace the target of the route with the same destination.
    SetRoute {
        /// Index into [`Model::route_tables`].
        table: usize,
        /// The route's destination CIDR.
        destination: IpNet,
        /// Where the route sends matching packets.
        target: RouteTarget,
    },
    /// Turn off source/destination checking on an interface (appliances).
    DisableSourceDestCheck {
        /// Index into [`Model::enis`].
        eni: usize,
    },
    /// Allocate an Elastic IP and associate it with an interface's private address.
    AssociateElasticIp {
        /// Index into [`Model::enis`].
        eni: usize,
        /// One of the interface's private IPv4 addresses.
        private: Ipv4Addr,
    },
    /// Enable a subnet (of an Availability Zone the VPC attachment lacks) on a transit gateway
    /// VPC attachment.
    AddTgwAttachmentSubnet {
        /// Index into [`Model::tgw_attachments`].
        attachment: usize,
        /// Index into [`Model::subnets`].
        subnet: usize,
    },
    /// Associate a transit gateway attachment with a transit gateway route table (replacing
    /// its association, if any).
    AssociateTgwRouteTable {
        /// Index into [`Model::tgw_attachments`].
        attachment: usize,
        /// Index into [`Model::tgw_route_tables`].
        table: usize,
    },
    /// Propagate an attachment's routes into a transit gateway route table.
    AddTgwPropagation {
        /// Index into [`Model::tgw_attachments`].
        attachment: usize,
        /// Index into [`Model::tgw_route_tables`].
        table: usize,
    },
    /// Add a static transit gateway route to an attachment, or point the static route with the
    /// same destination (a blackhole one) at it.
    SetTgwRoute {
        /// Index into [`Model::tgw_route_tables`].
        table: usize,
        /// The route's destination CIDR.
        destination: IpNet,
        /// Index into [`Model::tgw_attachments`].
        attachment: usize,
    },
    /// Turn on appliance mode on a transit gateway VPC attachment.
    EnableApplianceMode {
        /// Index into [`Model::tgw_attachments`].
        attachment: usize,
    },
    /// Add a Network Load Balancer listener forwarding to an existing target group.
    AddListener {
        /// Index into [`Model::load_balancers`].
        load_balancer: usize,
        /// The listener's protocol.
        protocol: vpcsim_dataplane::topology::nlb::LbProtocol,
        /// The listener's port.
        port: u16,
        /// Index into [`Model::target_groups`].
        target_group: usize,
    },
    /// Add an Application Load Balancer listener on a port, with the protocol and default action
    /// of one of its listeners.
    AddAlbListener {
        /// Index into [`crate::model::Albs::listeners`]: the listener to copy.
        like: usize,
        /// The new listener's port.
        port: u16,
    },
    /// Turn on cross-zone load balancing for a load balancer's target group (the load balancer
    /// attribute, and the group's own attribute back to the load balancer's setting).
    EnableCrossZone {
        /// Index into [`Model::load_balancers`].
        load_balancer: usize,
        /// Index into [`Model::target_groups`].
        target_group: usize,
    },
}

impl Change {
    /// Apply the change. Indices out of range are ignored (the change came from another model).
    pub fn apply(&self, m: &mut Model) {
        match self {
            Change::AddSecurityGroupRule {
                group,
                ingress,
                rule,
            } => {
                if let Some(g) = m.security_groups.get_mut(*group) {
                    if *ingress {
                        g.ingress.push(rule.clone());
                    } else {
                        g.egress.push(rule.clone());
                    }
                }
            }
            Change::AddNetworkAclEntry { acl, egress, entry } => {
                if let Some(a) = m.network_acls.get_mut(*acl) {
                    a.entries.push(NaclEntry {
                        origin: None,
                        egress: *egress,
                        entry: entry.clone(),
                    });
                }
            }
            Change::SetRoute {
                table,
                destination,
                target,
            } => set_route(m, *table, *destination, target),
            Change::DisableSourceDestCheck { eni } => {
                if let Some(e) = m.enis.get_mut(*eni) {
                    e.source_dest_check = false;
                }
            }
            Change::AssociateElasticIp { eni, private } => associate_elastic_ip(m, *eni, *private),
            Change::AddTgwAttachmentSubnet { attachment, subnet } => {
                add_tgw_attachment_subnet(m, *attachment, *subnet)
            }
            Change::AssociateTgwRouteTable { attachment, table } => {
                if *table >= m.tgw_route_tables.len() {
                    return;
                }
                if let Some(a) = m.tgw_attachments.get_mut(*attachment) {
                    a.association = Some(*table);
                }
            }
            Change::AddTgwPropagation { attachment, table } => {
                if *table >= m.tgw_route_tables.len() {
                    return;
                }
                if let Some(a) = m.tgw_attachments.get_mut(*attachment) {
                    if !a.propagations.contains(table) {
                        a.propagations.push(*table);
                    }
                }
            }
            Change::SetTgwRoute {
                table,
                destination,
                attachment,
            } => set_tgw_route(m, *table, *destination, *attachment),
            Change::EnableApplianceMode { attachment } => {
                if let Some(a) = m.tgw_attachments.get_mut(*attachment) {
                    a.appliance_mode = true;
                }
            }
            Change::AddListener {
                load_balancer,
                protocol,
                port,
                target_group,
            } => add_listener(m, *load_balancer, *protocol, *port, *target_group),
            Change::AddAlbListener { like, port } => {
                if let Some(l) = m.alb.listeners.get(*like) {
                    let mut l = l.clone();
                    l.origin.logical_id = format!("{}.FixListener{port}", l.origin.logical_id);
                    l.origin.id = format!("{}/fix-listener-{port}", l.origin.id);
                    l.port = *port;
                    m.alb.listeners.push(l);
                }
            }
            Change::EnableCrossZone {
                load_balancer,
                target_group,
            } => {
                if let Some(lb) = m.load_balancers.get_mut(*load_balancer) {
                    lb.cross_zone = true;
                }
                if let Some(g) = m.target_groups.get_mut(*target_group) {
                    if g.cross_zone == Some(false) {
                        g.cross_zone = None;
                    }
                }
            }
        }
    }

    /// The change in words, naming resources by logical id.
    pub fn describe(&self, m: &Model) -> String {
        Described(self, m).to_string()
    }
}

/// Add a route, or retarget the route with the same destination (as `replace-route` does).
fn set_route(m: &mut Model, table: usize, destination: IpNet, target: &RouteTarget) {
    let Some(rt) = m.route_tables.get(table) else {
        return;
    };
    let origin = Origin {
        logical_id: format!("{}.Fix", rt.origin.logical_id),
        id: format!("{}-fix", rt.origin.id),
        kind: "AWS::EC2::Route".into(),
        name: None,
        template: rt.origin.template,
    };
    let rt = &mut m.route_tables[table];
    match rt.routes.iter_mut().find(|r| r.destination == destination) {
        Some(r) => r.target = target.clone(),
        None => rt.routes.push(Route {
            origin,
            destination,
            target: target.clone(),
        }),
    }
}

/// Allocate an Elastic IP from the addresses no one holds and associate it; on the primary
/// address it replaces the auto-assigned public IP, as on AWS.
fn associate_elastic_ip(m: &mut Model, eni: usize, private: Ipv4Addr) {
    if eni >= m.enis.len() {
        return;
    }
    let public = free_public_ip(m);
    let template = m.enis[eni].origin.template;
    let n = m.eips.len();
    m.eips.push(Eip {
        origin: Origin {
            template,
            logical_id: format!("FixEip{n}"),
            id: format!("eipalloc-fix{n:013}"),
            name: None,
            kind: "AWS::EC2::EIP".into(),
        },
        public_ip: public,
        allocation_id: format!("eipalloc-fix{n:013}"),
        association: Some((eni, private)),
    });
    if m.enis[eni].private_v4.first() == Some(&private) {
        m.enis[eni].auto_public_ip = None;
    }
}

fn add_tgw_attachment_subnet(m: &mut Model, attachment: usize, subnet: usize) {
    if subnet >= m.subnets.len() {
        return;
    }
    let subnets = &m.subnets;
    if let Some(TgwAttachmentKind::Vpc { subnets: list, .. }) =
        m.tgw_attachments.get_mut(attachment).map(|a| &mut a.kind)
    {
        if !list.contains(&subnet) {
            list.push(subnet);
            // The data plane expects one subnet per zone, in zone order.
            list.sort_by(|a, b| {
                subnets[*a]
                    .availability_zone
                    .cmp(&subnets[*b].availability_zone)
            });
        }
    }
}

/// Point the static route for `destination` at `attachment`, adding it if there is none.
fn set_tgw_route(m: &mut Model, table: usize, destination: IpNet, attachment: usize) {
    if attachment >= m.tgw_attachments.len() {
        return;
    }
    let Some(rt) = m.tgw_route_tables.get_mut(table) else {
        return;
    };
    match rt.routes.iter_mut().find(|r| r.destination == destination) {
        Some(r) => r.attachment = Some(attachment),
        None => {
            let origin = Origin {
                logical_id: format!("{}.Fix", rt.origin.logical_id),
                id: format!("{}-fix", rt.origin.id),
                kind: "AWS::EC2::TransitGatewayRoute".into(),
                name: None,
                template: rt.origin.template,
            };
            rt.routes.push(TgwRoute {
                origin,
                destination,
                attachment: Some(attachment),
            });
        }
    }
}

fn add_listener(
    m: &mut Model,
    load_balancer: usize,
    protocol: vpcsim_dataplane::topology::nlb::LbProtocol,
    port: u16,
    target_group: usize,
) {
    let Some(lb) = m.load_balancers.get(load_balancer) else {
        return;
    };
    if target_group >= m.target_groups.len() {
        return;
    }
    let origin = Origin {
        logical_id: format!("{}.FixListener{port}", lb.origin.logical_id),
        id: format!("{}/fix-listener-{port}", lb.origin.id),
        kind: "AWS::ElasticLoadBalancingV2::Listener".into(),
        name: None,
        template: lb.origin.template,
    };
    m.listeners.push(crate::model::Listener {
        origin,
        load_balancer,
        protocol,
        port,
        target_group,
    });
}

/// An address from the simulator's public pool that nothing uses yet.
fn free_public_ip(m: &Model) -> Ipv4Addr {
    let used: std::collections::HashSet<Ipv4Addr> = m
        .eips
        .iter()
        .map(|e| e.public_ip)
        .chain(m.enis.iter().filter_map(|e| e.auto_public_ip))
        .collect();
    // The top of 198.18.0.0/15, far from where the loader allocates upward.
    (0..65_536u32)
        .map(|i| Ipv4Addr::from_bits(0xc613_fffe - i))
        .find(|a| !used.contains(a))
        .unwrap_or(Ipv4Addr::new(198, 19, 255, 254))
}

struct Described<'a>(&'a Change, &'a Model);

fn group_name(m: &Model, g: usize) -> &str {
    m.security_groups
        .get(g)
        .map_or("?", |g| &g.origin.logical_id)
}

fn eni_name(m: &Model, e: usize) -> String {
    let Some(eni) = m.enis.get(e) else {
        return "?".into();
    };
    match eni.owner {
        crate::model::EniOwner::Instance(i, 0) => m.instances[i].origin.logical_id.clone(),
        _ => eni.origin.logical_id.clone(),
    }
}

/// A security group rule in words (`tcp 443 from 10.0.0.0/16`), naming groups and prefix
/// lists by logical id.
pub fn describe_sg_rule(m: &Model, r: &SgRule, ingress: bool) -> String {
    let proto = match r.protocol {
        None => "all traffic".to_string(),
        Some(p) => p.to_string(),
    };
    let ports = match r.protocol {
        Some(IpProtocol::TCP | IpProtocol::UDP) if r.from_port == r.to_port => {
            format!(" {}", r.from_port)
        }
        Some(IpProtocol::TCP | IpProtocol::UDP) => format!(" {}-{}", r.from_port, r.to_port),
        Some(IpProtocol::ICMP | IpProtocol::ICMPV6) if r.from_port >= 0 => {
            format!(" type {}", r.from_port)
        }
        _ => String::new(),
    };
    let peer = match &r.peer {
        SgPeer::Cidr(c) => c.to_string(),
        SgPeer::Group(g) => group_name(m, *g).to_string(),
        SgPeer::PrefixList(l) => m.prefix_lists[*l].origin.logical_id.clone(),
    };
    format!(
        "{proto}{ports} {} {peer}",
        if ingress { "from" } else { "to" }
    )
}

fn attachment_name(m: &Model, a: usize) -> &str {
    m.tgw_attachments
        .get(a)
        .map_or("?", |a| &a.origin.logical_id)
}

fn tgw_table_name(m: &Model, t: usize) -> &str {
    m.tgw_route_tables
        .get(t)
        .map_or("?", |t| &t.origin.logical_id)
}

fn target_name(m: &Model, t: &RouteTarget) -> String {
    match t {
        RouteTarget::InternetGateway(g) => m.internet_gateways[*g].origin.logical_id.clone(),
        RouteTarget::EgressOnlyInternetGateway(g) => {
            m.egress_only_igws[*g].origin.logical_id.clone()
        }
        RouteTarget::NatGateway(n) => m.nat_gateways[*n].origin.logical_id.clone(),
        RouteTarget::NetworkInterface(e) => eni_name(m, *e),
        RouteTarget::Peering(p) => m.peerings[*p].origin.logical_id.clone(),
        RouteTarget::TransitGateway(g) => m.transit_gateways[*g].origin.logical_id.clone(),
        RouteTarget::VpnGateway(g) => m.vpn_gateways[*g].origin.logical_id.clone(),
        RouteTarget::Missing(id) => id.clone(),
    }
}

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.1;
        match self.0 {
            Change::AddSecurityGroupRule {
                group,
                ingress,
                rule,
            } => write!(
                f,
                "add an {} rule to {}: {}",
                if *ingress { "inbound" } else { "outbound" },
                group_name(m, *group),
                describe_sg_rule(m, rule, *ingress)
            ),
            Change::AddNetworkAclEntry { acl, egress, entry } => write!(
                f,
                "add {} rule {} to {}",
                if *egress { "outbound" } else { "inbound" },
                entry.describe(),
                m.network_acls
                    .get(*acl)
                    .map_or("?", |a| &a.origin.logical_id)
            ),
            Change::SetRoute {
                table,
                destination,
                target,
            } => {
                let rt = m.route_tables.get(*table);
                let replacing =
                    rt.is_some_and(|rt| rt.routes.iter().any(|r| r.destination == *destination));
                write!(
                    f,
                    "{} {destination} → {} in route table {}",
                    if replacing {
                        "point the route"
                    } else {
                        "add the route"
                    },
                    target_name(m, target),
                    rt.map_or("?", |r| &r.origin.logical_id)
                )
            }
            Change::DisableSourceDestCheck { eni } => {
                write!(f, "set SourceDestCheck to false on {}", eni_name(m, *eni))
            }
            Change::AssociateElasticIp { eni, private } => {
                write!(
                    f,
                    "associate an Elastic IP with {} ({private})",
                    eni_name(m, *eni)
                )
            }
            Change::AddTgwAttachmentSubnet { attachment, subnet } => {
                let s = m.subnets.get(*subnet);
                write!(
                    f,
                    "add subnet {} ({}) to transit gateway attachment {}",
                    s.map_or("?", |s| &s.origin.logical_id),
                    s.map_or("?", |s| &s.availability_zone),
                    attachment_name(m, *attachment)
                )
            }
            Change::AssociateTgwRouteTable { attachment, table } => write!(
                f,
                "associate transit gateway attachment {} with route table {}",
                attachment_name(m, *attachment),
                tgw_table_name(m, *table)
            ),
            Change::AddTgwPropagation { attachment, table } => write!(
                f,
                "propagate transit gateway attachment {} into route table {}",
                attachment_name(m, *attachment),
                tgw_table_name(m, *table)
            ),
            Change::SetTgwRoute {
                table,
                destination,
                attachment,
            } => {
                let replacing = m
                    .tgw_route_tables
                    .get(*table)
                    .is_some_and(|t| t.routes.iter().any(|r| r.destination == *destination));
                write!(
                    f,
                    "{} {destination} → {} in transit gateway route table {}",
                    if replacing {
                        "point the route"
                    } else {
                        "add the route"
                    },
                    attachment_name(m, *attachment),
                    tgw_table_name(m, *table)
                )
            }
            Change::EnableApplianceMode { attachment } => write!(
                f,
                "enable appliance mode (Options.ApplianceModeSupport) on transit gateway attachment {}",
                attachment_name(m, *attachment)
            ),
            Change::AddListener {
                load_balancer,
                protocol,
                port,
                target_group,
            } => write!(
                f,
                "add a {} listener on port {port} to {} forwarding to {}",
                protocol.as_str(),
                m.load_balancers
                    .get(*load_balancer)
                    .map_or("?", |l| &l.origin.logical_id),
                m.target_groups
                    .get(*target_group)
                    .map_or("?", |g| &g.origin.logical_id)
            ),
            Change::AddAlbListener { like, port } => {
                let l = m.alb.listeners.get(*like);
                write!(
                    f,
                    "add an {} listener on port {port} to {} with the default action of {}",
                    l.map_or("?", |l| l.protocol.as_str()),
                    l.and_then(|l| m.alb.load_balancers.get(l.load_balancer))
                        .map_or("?", |lb| &lb.origin.logical_id),
                    l.map_or("?", |l| &l.origin.logical_id)
                )
            }
            Change::EnableCrossZone {
                load_balancer,
                target_group,
            } => write!(
                f,
                "set load_balancing.cross_zone.enabled to true on {} (target group {})",
                m.load_balancers
                    .get(*load_balancer)
                    .map_or("?", |l| &l.origin.logical_id),
                m.target_groups
                    .get(*target_group)
                    .map_or("?", |g| &g.origin.logical_id)
            ),
        }
    }
}
