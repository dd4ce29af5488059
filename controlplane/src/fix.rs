//! Changes to a [`Model`] that `vpcsim trace` suggests as fixes, in a form that can be applied
//! and traced again (the suggestion is only as good as the packet it then lets through).
//!
//! Indices are the model's; [`crate::compile`] keeps them equal to the data plane's table indices
//! (`Topology::enis[i]` is `Model::enis[i]`, and likewise for groups, ACLs, route tables), which is
//! how a drop seen in the data plane names the model object to change.

use crate::model::{Eip, Model, NaclEntry, Origin, Route, RouteTarget, SgPeer, SgRule};
use ipnet::IpNet;
use std::fmt;
use std::net::Ipv4Addr;

/// One change to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Add a rule to a security group.
    AddSecurityGroupRule {
        group: usize,
        ingress: bool,
        rule: SgRule,
    },
    /// Add an entry to a network ACL.
    AddNetworkAclEntry {
        acl: usize,
        egress: bool,
        entry: vpcsim_dataplane::nacl::NaclEntry,
    },
    /// Add a route, or replace the target of the route with the same destination.
    SetRoute {
        table: usize,
        destination: IpNet,
        target: RouteTarget,
    },
    /// Turn off source/destination checking on an interface (appliances).
    DisableSourceDestCheck { eni: usize },
    /// Allocate an Elastic IP and associate it with an interface's private address.
    AssociateElasticIp { eni: usize, private: Ipv4Addr },
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
            } => {
                let Some(rt) = m.route_tables.get(*table) else {
                    return;
                };
                let origin = Origin {
                    logical_id: format!("{}.Fix", rt.origin.logical_id),
                    id: format!("{}-fix", rt.origin.id),
                    kind: "AWS::EC2::Route",
                    name: None,
                    template: rt.origin.template,
                };
                let rt = &mut m.route_tables[*table];
                match rt.routes.iter_mut().find(|r| r.destination == *destination) {
                    Some(r) => r.target = target.clone(),
                    None => rt.routes.push(Route {
                        origin,
                        destination: *destination,
                        target: target.clone(),
                    }),
                }
            }
            Change::DisableSourceDestCheck { eni } => {
                if let Some(e) = m.enis.get_mut(*eni) {
                    e.source_dest_check = false;
                }
            }
            Change::AssociateElasticIp { eni, private } => {
                if *eni >= m.enis.len() {
                    return;
                }
                let public = free_public_ip(m);
                let template = m.enis[*eni].origin.template;
                let n = m.eips.len();
                m.eips.push(Eip {
                    origin: Origin {
                        template,
                        logical_id: format!("FixEip{n}"),
                        id: format!("eipalloc-fix{n:013}"),
                        name: None,
                        kind: "AWS::EC2::EIP",
                    },
                    public_ip: public,
                    allocation_id: format!("eipalloc-fix{n:013}"),
                    association: Some((*eni, *private)),
                });
                if m.enis[*eni].private_v4.first() == Some(private) {
                    m.enis[*eni].auto_public_ip = None;
                }
            }
        }
    }

    /// The change in words, naming resources by logical id.
    pub fn describe(&self, m: &Model) -> String {
        Described(self, m).to_string()
    }
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

pub fn describe_sg_rule(m: &Model, r: &SgRule, ingress: bool) -> String {
    let proto = match r.protocol {
        None => "all traffic".to_string(),
        Some(p) => vpcsim_dataplane::flow::ProtocolName(p).to_string(),
    };
    let ports = match r.protocol {
        Some(6) | Some(17) if r.from_port == r.to_port => format!(" {}", r.from_port),
        Some(6) | Some(17) => format!(" {}-{}", r.from_port, r.to_port),
        Some(1) | Some(58) if r.from_port >= 0 => format!(" type {}", r.from_port),
        _ => String::new(),
    };
    let peer = match &r.peer {
        SgPeer::Cidr(c) => c.to_string(),
        SgPeer::Group(g) => group_name(m, *g).to_string(),
    };
    format!(
        "{proto}{ports} {} {peer}",
        if ingress { "from" } else { "to" }
    )
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
        }
    }
}
