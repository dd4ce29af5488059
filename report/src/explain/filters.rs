//! Security groups and network ACLs: the rule that would admit the packet.

use super::{Drop, Finding};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::IpAddr;
use vpcsim_controlplane::fix::Change;
use vpcsim_controlplane::model::{self, SgPeer, SgRule};
use vpcsim_dataplane::tables::nacl::NaclEntry;
use vpcsim_dataplane::topology::tgw::AttachmentKind;
use vpcsim_dataplane::topology::{EniIdx, TgwAttachmentIdx};
use vpcsim_dataplane::trace::{Hop, Stage};
use vpcsim_dataplane::wire::{Header, IpProtocol};
use vpcsim_dataplane::{DropReason, ResId, Topology, Verdict};

/// A security group denied the packet: a rule for it on the group that decided (or appliance mode,
/// for a reply that crossed another zone's appliance).
pub(super) fn security_group(d: &Drop) -> Finding {
    let Drop {
        topo,
        v,
        hops,
        h,
        reply,
        via_appliance,
        reason,
        ..
    } = *d;
    let mut fix = None;
    let message = {
        let ingress = reason == DropReason::SgIngressDenied;
        let own = if ingress { h.dst } else { h.src };
        let other = if ingress { h.src } else { h.dst };
        // A load balancer's group decides at a node whose address need not be in the
        // packet (client IP preservation): the node is the interface to fix.
        let has_group = |e: EniIdx| {
            topo.enis[e]
                .security_groups
                .iter()
                .any(|&g| topo.security_groups[g].res == v.at)
        };
        let lb_node = || {
            topo.enis.indices().find(|&e| {
                matches!(
                    topo.enis[e].kind,
                    vpcsim_dataplane::topology::EniKind::NetworkLoadBalancer(_)
                ) && has_group(e)
            })
        };
        let at_eni = eni_at(topo, own, v.at)
            .filter(|&e| has_group(e))
            .or_else(lb_node)
            .or_else(|| eni_at(topo, own, v.at));
        if let Some(e) = at_eni {
            let eni = &topo.enis[e];
            let group = eni
                .security_groups
                .iter()
                .copied()
                .find(|&g| topo.security_groups[g].res == v.at)
                .or_else(|| eni.security_groups.first().copied());
            if let Some(g) = group {
                fix = Some(Change::AddSecurityGroupRule {
                    group: g.index(),
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
                attachment: a.index(),
            });
            format!(
                "the transit gateway kept the reply in the Availability Zone it entered, so it reached an appliance that never saw the request; appliance mode is off on {}",
                topo.name(topo.tgw_attachments[a].res)
            )
        } else if ingress {
            "no inbound rule of the destination's security groups admits this packet, and it is not the reply of a tracked connection".to_string()
        } else {
            "no outbound rule of the source's security groups admits this packet".to_string()
        }
    };
    Finding {
        message,
        fix,
        no_fix: None,
    }
}

/// A network ACL denied the packet: an allow rule numbered before the one that denied.
pub(super) fn network_acl(d: &Drop) -> Finding {
    let Drop {
        topo,
        m,
        v,
        h,
        reply,
        decided_by,
        reason,
        ..
    } = *d;
    let mut fix = None;
    let message = {
        let egress = reason == DropReason::NaclEgressDenied;
        if let Some(acl) = topo.network_acls.iter().position(|a| a.res == v.at) {
            let entries = &m.network_acls[acl].entries;
            let before = decided_by
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse::<u16>().ok());
            let peer = if egress { h.dst } else { h.src };
            let reply = reply || looks_like_reply(&h);
            if let Some(number) = free_rule_number(entries, egress, peer.is_ipv6(), before) {
                let (ports, icmp_type, icmp_code) = match h.proto {
                    IpProtocol::TCP | IpProtocol::UDP if reply => ((1024, 65535), None, None),
                    IpProtocol::TCP | IpProtocol::UDP => ((h.dst_port, h.dst_port), None, None),
                    IpProtocol::ICMP | IpProtocol::ICMPV6 => {
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
    };
    Finding {
        message,
        fix,
        no_fix: None,
    }
}

fn host_net(a: IpAddr) -> IpNet {
    match a {
        IpAddr::V4(a) => IpNet::V4(Ipv4Net::from(a)),
        IpAddr::V6(a) => IpNet::V6(Ipv6Net::from(a)),
    }
}

/// A packet that looks like the reply of a connection: from a well-known port to an ephemeral one.
fn looks_like_reply(h: &Header) -> bool {
    h.has_ports() && h.src_port < 1024 && h.dst_port >= 1024
}

/// The interface in `topo` that owns `addr`, preferring the one named by `at` (an instance or
/// interface) or carrying the group `at`.
fn eni_at(topo: &Topology, addr: IpAddr, at: ResId) -> Option<EniIdx> {
    let owns: Vec<EniIdx> = topo
        .enis
        .iter_enumerated()
        .filter(|(_, e)| e.owns(addr))
        .map(|(e, _)| e)
        .collect();
    owns.iter()
        .copied()
        .find(|&e| {
            let eni = &topo.enis[e];
            eni.owner == at
                || eni.res == at
                || eni
                    .security_groups
                    .iter()
                    .any(|&g| topo.security_groups[g].res == at)
        })
        .or_else(|| owns.first().copied())
}

/// A rule admitting `h`: the packet's protocol and destination port (or ICMP type), from or to
/// `peer`.
fn sg_rule_for(h: &Header, peer: SgPeer) -> SgRule {
    let (from_port, to_port) = match h.proto {
        IpProtocol::TCP | IpProtocol::UDP => (h.dst_port as i32, h.dst_port as i32),
        IpProtocol::ICMP | IpProtocol::ICMPV6 => (h.icmp_type as i32, -1),
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
fn sg_peer(topo: &Topology, own: EniIdx, addr: IpAddr, via_appliance: bool) -> SgPeer {
    if !via_appliance {
        if let Some(e) = topo.owner_of(addr) {
            let other = &topo.enis[e];
            if other.vpc == topo.enis[own].vpc {
                if let Some(&g) = other.security_groups.first() {
                    return SgPeer::Group(g.index());
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

/// A reply denied by the security group of an appliance in a VPC that the transit gateway
/// entered through an attachment without appliance mode: the request crossed another zone's
/// appliance (SPEC §9.3). Returns that attachment.
fn asymmetric_tgw_attachment(
    topo: &Topology,
    v: &Verdict,
    hops: &[Hop],
) -> Option<TgwAttachmentIdx> {
    let h = v.header;
    let entered = hops.iter().rev().find_map(|x| {
        (x.stage == Stage::TgwAttachment)
            .then(|| topo.tgw_attachment_by_resource(x.resource))
            .flatten()
    })?;
    let att = &topo.tgw_attachments[entered];
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
                    .any(|&g| topo.security_groups[g].res == v.at))
    });
    appliance.then_some(entered)
}
