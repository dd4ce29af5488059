//! Why a packet was dropped and the smallest change that lets it through.
//!
//! The explanation is derived from the verdict, its hops and the topology after the fact, so it
//! needs nothing from the pipeline beyond what a trace already reports. A fix is a
//! [`Change`] to the model: `vpcsim trace --fixes` applies it, compiles and traces again, which
//! is also how the tests check that every suggested fix really delivers the packet.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_json::{json, Value};
use std::net::IpAddr;
use vpcsim_controlplane::fix::Change;
use vpcsim_controlplane::model::{self, Model, RouteTarget, SgPeer, SgRule};
use vpcsim_dataplane::flow::{Header, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use vpcsim_dataplane::nacl::NaclEntry;
use vpcsim_dataplane::tgw::{AttachmentKind, TgwRouteTarget};
use vpcsim_dataplane::topology::RouteTarget as TopoTarget;
use vpcsim_dataplane::trace::{Hop, Stage};
use vpcsim_dataplane::{DropReason, Idx, ResId, Topology, Verdict};

/// What went wrong, which rule decided, and what to change.
pub struct Explanation {
    /// The drop reason the pipeline gave.
    pub reason: DropReason,
    /// The AWS Reachability Analyzer explanation code.
    pub code: &'static str,
    /// The rule or route that decided, as the trace printed it.
    pub decided_by: Option<String>,
    /// Why the packet was dropped, in a sentence naming the resources involved.
    pub message: String,
    /// The smallest change to the model that lets the packet through, when there is one.
    pub fix: Option<Change>,
    /// Why no change is suggested, when none is.
    pub no_fix: Option<&'static str>,
}

impl Explanation {
    /// The `explanation` object of `vpcsim trace --json` (fixes described against `m`).
    pub fn to_json(&self, m: &Model) -> Value {
        json!({
            "code": self.code,
            "reason": self.reason.as_str(),
            "decided_by": self.decided_by,
            "message": self.message,
            "fix": self.fix.as_ref().map(|c| c.describe(m)),
            "no_fix": self.no_fix,
        })
    }
}

fn host_net(a: IpAddr) -> IpNet {
    match a {
        IpAddr::V4(a) => IpNet::V4(Ipv4Net::from(a)),
        IpAddr::V6(a) => IpNet::V6(Ipv6Net::from(a)),
    }
}

fn any_net(a: IpAddr) -> IpNet {
    match a {
        IpAddr::V4(_) => IpNet::V4(Ipv4Net::default()),
        IpAddr::V6(_) => IpNet::V6(Ipv6Net::default()),
    }
}

/// A packet that looks like the reply of a connection: from a well-known port to an ephemeral one.
fn looks_like_reply(h: &Header) -> bool {
    h.has_ports() && h.src_port < 1024 && h.dst_port >= 1024
}

/// The interface in `topo` that owns `addr`, preferring the one named by `at` (an instance or
/// interface) or carrying the group `at`.
fn eni_at(topo: &Topology, addr: IpAddr, at: ResId) -> Option<Idx> {
    let owns: Vec<Idx> = (0..topo.enis.len() as Idx)
        .filter(|&e| topo.enis[e as usize].owns(addr))
        .collect();
    owns.iter()
        .copied()
        .find(|&e| {
            let eni = &topo.enis[e as usize];
            eni.owner == at
                || eni.res == at
                || eni
                    .security_groups
                    .iter()
                    .any(|&g| topo.security_groups[g as usize].res == at)
        })
        .or_else(|| owns.first().copied())
}

/// A rule admitting `h`: the packet's protocol and destination port (or ICMP type), from or to
/// `peer`.
fn sg_rule_for(h: &Header, peer: SgPeer) -> SgRule {
    let (from_port, to_port) = match h.proto {
        PROTO_TCP | PROTO_UDP => (h.dst_port as i32, h.dst_port as i32),
        PROTO_ICMP | PROTO_ICMPV6 => (h.icmp_type as i32, -1),
        _ => (-1, -1),
    };
    SgRule {
        protocol: Some(h.proto),
        from_port,
        to_port,
        peer,
        description: Some("suggested by vpcsim".into()),
    }
}

/// The peer for a security-group rule: the other side's group when it is an interface of this or
/// a peered VPC reached directly (references never match public addresses or traffic forwarded
/// by an appliance), its address otherwise.
fn sg_peer(topo: &Topology, own: Idx, addr: IpAddr, via_appliance: bool) -> SgPeer {
    if !via_appliance {
        if let Some(e) = topo.owner_of(addr) {
            let other = &topo.enis[e as usize];
            if other.vpc == topo.enis[own as usize].vpc {
                if let Some(&g) = other.security_groups.first() {
                    return SgPeer::Group(g as usize);
                }
            }
        }
    }
    SgPeer::Cidr(host_net(addr))
}

/// A free rule number for a new NACL entry that must be evaluated before `before` (the entry that
/// denied the packet), or anywhere when the `*` rule denied it.
fn free_rule_number(
    entries: &[model::NaclEntry],
    egress: bool,
    v6: bool,
    before: Option<u16>,
) -> Option<u16> {
    let taken = |n: u16| {
        entries.iter().any(|e| {
            e.egress == egress && e.entry.number == n && e.entry.cidr.addr().is_ipv6() == v6
        })
    };
    match before {
        Some(b) => (1..b).rev().find(|&n| !taken(n)),
        None => {
            let max = entries
                .iter()
                .filter(|e| e.egress == egress)
                .map(|e| e.entry.number)
                .max()
                .unwrap_or(0);
            let next = (max / 10 + 1) * 10;
            (next..=32766).chain(1..next).find(|&n| !taken(n))
        }
    }
}

/// A route target that leads towards `dst` from the VPC, for NO_ROUTE and BLACKHOLE_ROUTE fixes.
fn target_towards(
    topo: &Topology,
    m: &Model,
    vpc: usize,
    dst: IpAddr,
    src: IpAddr,
) -> Option<(IpNet, RouteTarget)> {
    let v = m.vpcs.get(vpc)?;
    // Another VPC joined by a peering connection.
    for (p, pcx) in m.peerings.iter().enumerate() {
        let other = if pcx.requester == vpc {
            pcx.accepter
        } else if pcx.accepter == Some(vpc) {
            Some(pcx.requester)
        } else {
            None
        };
        let Some(other) = other else { continue };
        let ov = &m.vpcs[other];
        let cidr = match dst {
            IpAddr::V4(d) => ov
                .cidrs_v4
                .iter()
                .find(|c| c.contains(&d))
                .map(|c| IpNet::V4(*c)),
            IpAddr::V6(d) => ov
                .cidrs_v6
                .iter()
                .find(|c| c.contains(&d))
                .map(|c| IpNet::V6(*c)),
        };
        if let Some(c) = cidr {
            return Some((c, RouteTarget::Peering(p)));
        }
    }
    // On-premises prefixes of the VPC's virtual private gateway.
    if let Some(g) = m.vpn_gateways.iter().position(|g| g.vpc == Some(vpc)) {
        let prefix = topo
            .vpn_connections
            .iter()
            .filter(|c| c.edge == vpcsim_dataplane::vpn::VpnEdge::VpnGateway(g as Idx))
            .flat_map(|c| c.prefixes.iter().copied())
            .filter(|p| p.contains(&dst))
            .max_by_key(|p| p.prefix_len());
        if let Some(p) = prefix {
            return Some((p, RouteTarget::VpnGateway(g)));
        }
    }
    // A transit gateway attached to the VPC whose route table knows the destination.
    for &a in topo
        .vpcs
        .get(vpc)
        .map_or(&[][..], |v| &v.tgw_attachments[..])
    {
        let att = &topo.tgw_attachments[a as usize];
        let route = att
            .route_table
            .and_then(|t| topo.tgw_route_tables[t as usize].lookup(dst));
        if let Some(r) = route.filter(|r| matches!(r.target, TgwRouteTarget::Attachment(_))) {
            return Some((r.destination, RouteTarget::TransitGateway(att.tgw as usize)));
        }
    }
    let public = match dst {
        IpAddr::V4(a) => {
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => (a.segments()[0] & 0xe000) == 0x2000,
    };
    if !public {
        return None;
    }
    let default = any_net(dst);
    if dst.is_ipv6() {
        if let Some(g) = v.egress_only_igw {
            return Some((default, RouteTarget::EgressOnlyInternetGateway(g)));
        }
        return v
            .internet_gateway
            .map(|g| (default, RouteTarget::InternetGateway(g)));
    }
    let src_has_public = topo.owner_of(src).is_some_and(
        |e| matches!(src, IpAddr::V4(s) if topo.enis[e as usize].public_for(s).is_some()),
    );
    if src_has_public {
        if let Some(g) = v.internet_gateway {
            return Some((default, RouteTarget::InternetGateway(g)));
        }
    }
    // A public NAT gateway of the VPC, preferably in the source's Availability Zone.
    let src_az = topo
        .owner_of(src)
        .map(|e| topo.subnet_of(e).availability_zone.clone());
    let mut nats: Vec<usize> = (0..m.nat_gateways.len())
        .filter(|&n| m.nat_gateways[n].public && m.subnets[m.nat_gateways[n].subnet].vpc == vpc)
        .collect();
    nats.sort_by_key(|&n| {
        Some(&m.subnets[m.nat_gateways[n].subnet].availability_zone) != src_az.as_ref()
    });
    if let Some(&n) = nats.first() {
        return Some((default, RouteTarget::NatGateway(n)));
    }
    v.internet_gateway
        .map(|g| (default, RouteTarget::InternetGateway(g)))
}

/// The attachment of transit gateway `tgw` that leads to `dst` (the VPC whose CIDRs hold it, or
/// the VPN connection whose on-premises prefixes do), with that covering prefix.
fn attachment_towards(topo: &Topology, tgw: Idx, dst: IpAddr) -> Option<(Idx, IpNet)> {
    let mut best: Option<(Idx, IpNet)> = None;
    for (i, a) in topo.tgw_attachments.iter().enumerate() {
        if a.tgw != tgw {
            continue;
        }
        let prefixes: Vec<IpNet> = match a.kind {
            AttachmentKind::Vpc(v) => {
                let v = &topo.vpcs[v as usize];
                v.cidrs_v4
                    .iter()
                    .map(|c| IpNet::V4(*c))
                    .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)))
                    .collect()
            }
            AttachmentKind::Vpn(c) => topo.vpn_connections[c as usize].prefixes.clone(),
        };
        for p in prefixes.into_iter().filter(|p| p.contains(&dst)) {
            if best.is_none_or(|(_, b)| p.prefix_len() > b.prefix_len()) {
                best = Some((i as Idx, p));
            }
        }
    }
    best
}

/// The subnet the packet was last sent from: the interface (instance or appliance) or NAT
/// gateway of the latest hop that forwarded it.
fn sending_subnet(topo: &Topology, hops: &[Hop], src: IpAddr) -> Option<Idx> {
    for h in hops.iter().rev() {
        match h.stage {
            Stage::Origin | Stage::Appliance => {
                if let Some(e) = topo.eni_by_resource(h.resource) {
                    return Some(topo.enis[e as usize].subnet);
                }
            }
            Stage::NatGateway => {
                if let Some(n) = topo.nat_gateways.iter().find(|n| n.res == h.resource) {
                    return Some(n.subnet);
                }
            }
            _ => {}
        }
    }
    topo.owner_of(src).map(|e| topo.enis[e as usize].subnet)
}

/// A reply denied by the security group of an appliance in a VPC that the transit gateway
/// entered through an attachment without appliance mode: the request crossed another zone's
/// appliance (SPEC §9.3). Returns that attachment.
fn asymmetric_tgw_attachment(topo: &Topology, v: &Verdict, hops: &[Hop]) -> Option<Idx> {
    let h = v.header;
    let entered = hops.iter().rev().find_map(|x| {
        (x.stage == Stage::TgwAttachment)
            .then(|| topo.tgw_attachment_by_resource(x.resource))
            .flatten()
    })?;
    let att = &topo.tgw_attachments[entered as usize];
    let AttachmentKind::Vpc(vpc) = att.kind else {
        return None;
    };
    if att.appliance_mode || att.subnets.len() < 2 {
        return None;
    }
    let appliance = topo.enis.iter().any(|e| {
        e.vpc == vpc
            && !e.source_dest_check
            && !e.owns(h.dst)
            && (e.owner == v.at
                || e.security_groups
                    .iter()
                    .any(|&g| topo.security_groups[g as usize].res == v.at))
    });
    appliance.then_some(entered)
}

/// Explain the drop in `v`; `None` when the packet was not dropped.
/// `reply` says the packet is the reply of a connection (the return leg of `trace --return`);
/// otherwise a packet from a well-known port to an ephemeral one is taken for a reply.
pub fn explain(
    topo: &Topology,
    m: &Model,
    v: &Verdict,
    hops: &[Hop],
    reply: bool,
) -> Option<Explanation> {
    let reason = v.reason?;
    let last = hops.last();
    let decided_by = last.and_then(|h| h.rule.clone());
    let h = v.header;
    let via_appliance = hops.iter().any(|x| x.stage == Stage::Appliance);
    let mut fix = None;
    let mut no_fix = None;
    let message = match reason {
        DropReason::SgIngressDenied | DropReason::SgEgressDenied => {
            let ingress = reason == DropReason::SgIngressDenied;
            let own = if ingress { h.dst } else { h.src };
            let other = if ingress { h.src } else { h.dst };
            // A load balancer's group decides at a node whose address need not be in the
            // packet (client IP preservation): the node is the interface to fix.
            let has_group = |e: Idx| {
                topo.enis[e as usize]
                    .security_groups
                    .iter()
                    .any(|&g| topo.security_groups[g as usize].res == v.at)
            };
            let lb_node = || {
                (0..topo.enis.len() as Idx).find(|&e| {
                    matches!(
                        topo.enis[e as usize].kind,
                        vpcsim_dataplane::topology::EniKind::LoadBalancer(_)
                    ) && has_group(e)
                })
            };
            let at_eni = eni_at(topo, own, v.at)
                .filter(|&e| has_group(e))
                .or_else(lb_node)
                .or_else(|| eni_at(topo, own, v.at));
            if let Some(e) = at_eni {
                let eni = &topo.enis[e as usize];
                let group = eni
                    .security_groups
                    .iter()
                    .copied()
                    .find(|&g| topo.security_groups[g as usize].res == v.at)
                    .or_else(|| eni.security_groups.first().copied());
                if let Some(g) = group {
                    fix = Some(Change::AddSecurityGroupRule {
                        group: g as usize,
                        ingress,
                        rule: sg_rule_for(&h, sg_peer(topo, e, other, via_appliance)),
                    });
                }
            }
            let asymmetric = (ingress && reply)
                .then(|| asymmetric_tgw_attachment(topo, v, hops))
                .flatten();
            if let Some(a) = asymmetric {
                fix = Some(Change::EnableApplianceMode {
                    attachment: a as usize,
                });
                format!(
                    "the transit gateway kept the reply in the Availability Zone it entered, so it reached an appliance that never saw the request; appliance mode is off on {}",
                    topo.name(topo.tgw_attachments[a as usize].res)
                )
            } else if ingress {
                "no inbound rule of the destination's security groups admits this packet, and it is not the reply of a tracked connection".to_string()
            } else {
                "no outbound rule of the source's security groups admits this packet".to_string()
            }
        }
        DropReason::NaclIngressDenied | DropReason::NaclEgressDenied => {
            let egress = reason == DropReason::NaclEgressDenied;
            if let Some(acl) = topo.network_acls.iter().position(|a| a.res == v.at) {
                let entries = &m.network_acls[acl].entries;
                let before = decided_by
                    .as_deref()
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|n| n.parse::<u16>().ok());
                let peer = if egress { h.dst } else { h.src };
                let reply = reply || looks_like_reply(&h);
                if let Some(number) = free_rule_number(entries, egress, peer.is_ipv6(), before) {
                    let (ports, icmp_type, icmp_code) = match h.proto {
                        PROTO_TCP | PROTO_UDP if reply => ((1024, 65535), None, None),
                        PROTO_TCP | PROTO_UDP => ((h.dst_port, h.dst_port), None, None),
                        PROTO_ICMP | PROTO_ICMPV6 => {
                            ((0, 65535), Some(h.icmp_type), Some(h.icmp_code))
                        }
                        _ => ((0, 65535), None, None),
                    };
                    fix = Some(Change::AddNetworkAclEntry {
                        acl,
                        egress,
                        entry: NaclEntry {
                            number,
                            res: None,
                            protocol: Some(h.proto),
                            ports,
                            icmp_type,
                            icmp_code,
                            cidr: host_net(peer),
                            allow: true,
                        },
                    });
                }
                let dir = if egress { "outbound" } else { "inbound" };
                let name = &m.network_acls[acl].origin.logical_id;
                match (reply, before) {
                    (true, _) => format!(
                        "{name} {dir} has no rule allowing ports 1024-65535: the replies of this connection are denied (network ACLs are stateless)"
                    ),
                    (false, Some(n)) => format!("{name} {dir} rule {n} denies this packet before any rule allows it"),
                    (false, None) => format!("no {dir} rule of {name} allows this packet: the * rule denies it"),
                }
            } else {
                "a network ACL denies this packet".into()
            }
        }
        DropReason::NoRoute | DropReason::BlackholeRoute => {
            let name = topo.name(v.at).to_string();
            let table = topo.route_tables.iter().position(|r| r.res == v.at);
            let link_local = matches!(h.dst, IpAddr::V4(a) if a.is_link_local());
            match table {
                Some(t) if !link_local => {
                    let vpc = m.route_tables[t].vpc;
                    match target_towards(topo, m, vpc, h.dst, h.src) {
                        Some((dest, target)) => {
                            // Fix the route that matched when it is a blackhole; else add one.
                            let dest = if reason == DropReason::BlackholeRoute {
                                m.route_tables[t]
                                    .routes
                                    .iter()
                                    .filter(|r| r.destination.contains(&h.dst))
                                    .max_by_key(|r| r.destination.prefix_len())
                                    .map_or(dest, |r| r.destination)
                            } else {
                                dest
                            };
                            fix = Some(Change::SetRoute { table: t, destination: dest, target });
                        }
                        None => no_fix = Some("nothing in the topology leads to this destination (no peering, gateway or NAT gateway fits)"),
                    }
                }
                _ => no_fix = Some("link-local destinations are never forwarded"),
            }
            if reason == DropReason::NoRoute {
                format!("route table {name} has no route for {}", h.dst)
            } else {
                format!(
                    "the best route of {name} for {} points at a target that does not exist",
                    h.dst
                )
            }
        }
        DropReason::SourceDestCheck => {
            if let Some(e) = topo.eni_by_resource(v.at) {
                fix = Some(Change::DisableSourceDestCheck { eni: e as usize });
            }
            format!(
                "{} checks that it owns the source of what it sends and the destination of what it receives; this packet is neither",
                topo.name(v.at)
            )
        }
        DropReason::NoPublicIp => {
            if let IpAddr::V4(src) = h.src {
                if let Some(e) = topo.owner_of(h.src) {
                    fix = Some(Change::AssociateElasticIp {
                        eni: e as usize,
                        private: src,
                    });
                }
            }
            format!(
                "{} has no public IPv4 address, so the internet gateway cannot translate it",
                h.src
            )
        }
        DropReason::NotMapped => {
            no_fix = Some("the destination is not an address of anything in the topology");
            format!(
                "{} is not a public IP, Elastic IP or IPv6 address of any interface",
                h.dst
            )
        }
        DropReason::NatNoSession => {
            no_fix = Some("a NAT gateway only admits replies to connections opened from inside; use a public IP and an internet gateway for inbound connections");
            "the NAT gateway has no translation for this packet".into()
        }
        DropReason::NatPortsExhausted => {
            no_fix = Some("add secondary Elastic IPs to the NAT gateway (SecondaryAllocationIds) or spread connections over more destinations");
            "every address of the NAT gateway has 55,000 connections to this destination".into()
        }
        DropReason::NatUnsupported => {
            no_fix = Some("NAT gateways translate only TCP, UDP and ICMP echo over IPv4 (fragments: UDP only)");
            "the NAT gateway cannot translate this packet".into()
        }
        DropReason::EgressOnly => {
            no_fix = Some("an egress-only internet gateway never admits inbound connections; attach an internet gateway for inbound IPv6");
            "unsolicited inbound IPv6 through an egress-only internet gateway".into()
        }
        DropReason::TgwNoAttachmentInAz => {
            let a = topo.tgw_attachment_by_resource(v.at);
            let from = sending_subnet(topo, hops, h.src);
            if let (Some(a), Some(s)) = (a, from) {
                fix = Some(Change::AddTgwAttachmentSubnet {
                    attachment: a as usize,
                    subnet: s as usize,
                });
            }
            let zone = from.map_or("?", |s| topo.subnets[s as usize].availability_zone.as_str());
            format!(
                "transit gateway attachment {} has no subnet in {zone}: subnets of that zone cannot send to the transit gateway",
                topo.name(v.at)
            )
        }
        DropReason::TgwNoAssociation => {
            if let Some(a) = topo.tgw_attachment_by_resource(v.at) {
                let tgw = topo.tgw_attachments[a as usize].tgw;
                let tables: Vec<usize> = (0..topo.tgw_route_tables.len())
                    .filter(|&t| topo.tgw_route_tables[t].tgw == tgw)
                    .collect();
                // Prefer a table that already routes the destination somewhere.
                let routes = |t: &usize| {
                    topo.tgw_route_tables[*t]
                        .lookup(h.dst)
                        .is_some_and(|r| matches!(r.target, TgwRouteTarget::Attachment(_)))
                };
                match tables.iter().find(|t| routes(t)).or(tables.first()) {
                    Some(&table) => {
                        fix = Some(Change::AssociateTgwRouteTable {
                            attachment: a as usize,
                            table,
                        })
                    }
                    None => no_fix = Some("the transit gateway has no route table: add an AWS::EC2::TransitGatewayRouteTable and associate the attachment with it"),
                }
            }
            format!(
                "transit gateway attachment {} is associated with no route table, so the transit gateway cannot route what arrives from it",
                topo.name(v.at)
            )
        }
        DropReason::TgwNoRoute | DropReason::TgwBlackholeRoute => {
            let table = topo.tgw_route_tables.iter().position(|t| t.res == v.at);
            let towards =
                table.and_then(|t| attachment_towards(topo, topo.tgw_route_tables[t].tgw, h.dst));
            match (table, towards) {
                (Some(t), Some((b, prefix))) => {
                    let vpc_attachment = matches!(
                        topo.tgw_attachments[b as usize].kind,
                        AttachmentKind::Vpc(_)
                    );
                    fix = Some(if reason == DropReason::TgwNoRoute && vpc_attachment {
                        Change::AddTgwPropagation {
                            attachment: b as usize,
                            table: t,
                        }
                    } else {
                        // A static route for the destination's network, more specific than
                        // (or replacing) the blackhole, which keeps dropping the rest.
                        Change::SetTgwRoute {
                            table: t,
                            destination: prefix,
                            attachment: b as usize,
                        }
                    });
                }
                _ => {
                    no_fix = Some("no attachment of the transit gateway leads to this destination")
                }
            }
            if reason == DropReason::TgwNoRoute {
                format!(
                    "transit gateway route table {} has no route for {}",
                    topo.name(v.at),
                    h.dst
                )
            } else {
                format!(
                    "the best route of transit gateway route table {} for {} is a blackhole route",
                    topo.name(v.at),
                    h.dst
                )
            }
        }
        DropReason::VgwNoRoute => {
            no_fix = Some("only the on-premises side knows where this address is: add a VPNConnectionRoute to the connection that reaches it, or advertise it over BGP");
            format!(
                "virtual private gateway {} knows no on-premises prefix holding {} and forwards only to those and into its own VPC",
                topo.name(v.at),
                h.dst
            )
        }
        DropReason::VgwSourceNotInVpc => {
            no_fix = Some("a virtual private gateway carries no transit traffic: attach the VPN connection to the transit gateway instead");
            format!(
                "{} is not an address of the VPC of virtual private gateway {}: it forwards only its own VPC's traffic",
                h.src,
                topo.name(v.at)
            )
        }
        DropReason::ApplianceBypassed => {
            let appliance = topo
                .internet_gateways
                .iter()
                .find(|g| g.res == v.at)
                .and_then(|g| g.route_table)
                .and_then(|rt| topo.route_tables[rt as usize].lookup(h.src))
                .and_then(|r| match r.target {
                    TopoTarget::NetworkInterface(a) => Some(a),
                    _ => None,
                });
            let table = hops
                .iter()
                .rev()
                .find(|x| x.stage == Stage::Route)
                .and_then(|x| topo.route_tables.iter().position(|t| t.res == x.resource));
            if let (Some(a), Some(t)) = (appliance, table) {
                if let Some(r) = topo.route_tables[t].lookup(h.dst) {
                    fix = Some(Change::SetRoute {
                        table: t,
                        destination: r.destination,
                        target: RouteTarget::NetworkInterface(a as usize),
                    });
                }
            }
            if appliance.is_none() {
                // Steered through a Gateway Load Balancer endpoint: fixes name model route
                // targets, which have no form for endpoints (their routes are kept apart).
                no_fix = Some("route the subnet's outbound traffic (0.0.0.0/0) to the same Gateway Load Balancer endpoint as the gateway route table: VpcEndpointId in its AWS::EC2::Route");
            }
            format!(
                "the gateway route table of {} steers inbound traffic for {} through an appliance, but this subnet sends its traffic to the internet gateway directly, bypassing it",
                topo.name(v.at),
                h.src
            )
        }
        DropReason::IngressApplianceNoPublicIp => {
            if let Some(e) = topo.eni_by_resource(v.at) {
                if let Some(private) = topo.enis[e as usize].primary_v4() {
                    fix = Some(Change::AssociateElasticIp {
                        eni: e as usize,
                        private,
                    });
                }
            }
            format!(
                "{} receives internet traffic through a gateway route table but has no public IPv4 address",
                topo.name(v.at)
            )
        }
        DropReason::PeeringNotTransitive => {
            no_fix = Some("VPC peering carries only traffic for the peer's own CIDRs: peer the VPCs directly or use a transit gateway");
            "the destination is not inside the peer VPC".into()
        }
        DropReason::VpceNotInitiator => {
            no_fix = Some("PrivateLink is one-way: consumers connect to the endpoint, the service behind it never connects back");
            "an interface endpoint never opens connections; it only answers them".into()
        }
        DropReason::VpceGatewayProtocol => {
            no_fix = Some("S3 and DynamoDB answer only TCP (and ping): nothing else reaches the service, through a gateway endpoint or otherwise");
            format!(
                "{} is neither TCP nor an ICMP echo: a gateway endpoint does not carry it",
                vpcsim_dataplane::flow::ProtocolName(h.proto)
            )
        }
        DropReason::NlbNoListener => {
            let lb = topo.elb.load_balancers.iter().position(|l| l.res == v.at);
            // A listener like an existing one whose target group takes this protocol.
            let like = lb.and_then(|i| {
                topo.elb.load_balancers[i].listeners.iter().find_map(|l| {
                    let g = &topo.elb.target_groups[l.target_group as usize];
                    g.protocol
                        .accepts(h.proto)
                        .then_some((i, g.protocol, l.target_group as usize))
                })
            });
            match like {
                Some((load_balancer, protocol, target_group)) => {
                    fix = Some(Change::AddListener {
                        load_balancer,
                        protocol,
                        port: h.dst_port,
                        target_group,
                    })
                }
                None => no_fix = Some("no target group of this load balancer takes this protocol: create one with targets, then a listener"),
            }
            format!(
                "{} has no {} listener on port {}",
                topo.name(v.at),
                vpcsim_dataplane::flow::ProtocolName(h.proto),
                h.dst_port
            )
        }
        DropReason::NlbNoTarget => {
            let tg = topo.elb.target_groups.iter().position(|g| g.res == v.at);
            let lb = tg.and_then(|g| {
                topo.elb.load_balancers.iter().position(|l| {
                    l.listeners
                        .iter()
                        .any(|x| x.target_group as usize == g && x.port == h.dst_port)
                })
            });
            match (lb, tg) {
                (Some(load_balancer), Some(target_group))
                    if !topo.elb.target_groups[target_group].targets.is_empty() =>
                {
                    fix = Some(Change::EnableCrossZone {
                        load_balancer,
                        target_group,
                    });
                    format!(
                        "{} has no usable target in the node's Availability Zone and cross-zone load balancing is off",
                        topo.name(v.at)
                    )
                }
                _ => {
                    no_fix = Some("register targets with the target group (TargetGroup Targets)");
                    format!("{} has no registered target", topo.name(v.at))
                }
            }
        }
        DropReason::GwlbNoTarget => {
            no_fix = Some("register appliance instances (TargetGroup Targets) in the Availability Zones the Gateway Load Balancer is enabled in, or turn on load_balancing.cross_zone.enabled");
            format!(
                "{} has no appliance the load balancer node serving this endpoint may use",
                topo.name(v.at)
            )
        }
        other => {
            no_fix = Some(other.hint());
            other.hint().to_string()
        }
    };
    Some(Explanation {
        reason,
        code: reason.ra_code(),
        decided_by,
        message,
        fix,
        no_fix,
    })
}

/// Gateways and appliances a path goes through, in order.
fn middleboxes(topo: &Topology, hops: &[Hop]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in hops {
        if matches!(
            h.stage,
            Stage::InternetGateway
                | Stage::EgressOnlyInternetGateway
                | Stage::NatGateway
                | Stage::Appliance
                | Stage::Peering
        ) {
            let name = topo.name(h.resource).to_string();
            if out.last() != Some(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Compare a request's path with its reply's: a reply that leaves through other gateways or
/// appliances than the request came in by, or comes back from another address, is asymmetric.
pub fn asymmetry(
    topo: &Topology,
    request: &Header,
    fwd: &[Hop],
    reply: &Verdict,
    back: &[Hop],
) -> Option<Value> {
    let f = middleboxes(topo, fwd);
    let mut b = middleboxes(topo, back);
    b.reverse();
    let mut notes = Vec::new();
    if f != b {
        notes.push(format!(
            "the request went through [{}] but the reply goes through [{}]",
            f.join(", "),
            b.iter().rev().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if reply.disposition != vpcsim_dataplane::Disposition::Dropped {
        let r = reply.header;
        if r.src != request.dst || (request.has_ports() && r.src_port != request.dst_port) {
            notes.push(format!(
                "the reply reaches the client from {}:{} but the client sent to {}:{}: it will not match the connection and is dropped there",
                r.src, r.src_port, request.dst, request.dst_port
            ));
        }
    }
    if let Some(reason) = reply.reason {
        if !f.is_empty()
            && f != b
            && matches!(
                reason,
                DropReason::SgIngressDenied | DropReason::NatNoSession
            )
        {
            notes.push(format!(
                "{} on the return path is a stateful drop caused by the asymmetry: that hop never saw the request",
                reason.as_str()
            ));
        }
    }
    (!notes.is_empty()).then(|| json!({"forward": f, "return": b.iter().rev().cloned().collect::<Vec<_>>(), "notes": notes}))
}
