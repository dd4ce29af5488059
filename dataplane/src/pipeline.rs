//! One packet through the VPC data plane (DESIGN.md "The pipeline as a graph of stages",
//! SPEC §0.2).
//!
//! A packet starts at an origin (an interface, the internet, an on-premises network behind a VPN,
//! or a transit gateway attachment) and is walked stage by stage: source/destination check,
//! security group egress, the intra-subnet shortcut, the subnet's route table, its NACL, then the
//! route target (local delivery, internet gateway, egress-only gateway, NAT gateway, appliance,
//! peering, transit gateway, virtual private gateway). Traffic entering a VPC through an internet
//! or virtual private gateway is routed by the gateway's route table when it has one (edge
//! association). Every stage either passes the packet on, rewrites its header, or drops it with a
//! [`DropReason`] naming the resource that decided.
//!
//! The walk is generic over a [`Tracer`]; with [`crate::trace::NoTrace`] every `hop` call and the
//! strings it would format compile away, so `trace` and `replay` run the same code.

use crate::flow::{Header, Timestamp, PROTO_UDP};
use crate::nat::{self, NatError};
use crate::packet::{Frag, Meta};
use crate::sg;
use crate::state::State;
use crate::tgw::{describe_tgw_route, AttachmentKind, TgwRouteTarget};
use crate::topology::{EniKind, Idx, ResId, Route, RouteTarget, Topology};
use crate::trace::{Action, Hop, Stage, Tracer};
use crate::verdict::{Disposition, DropReason, FlowAction, FlowDirection, Observation, Verdict};
use crate::vpn::VpnEdge;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The Gateway Load Balancer stage (`crate::gwlb` holds its tables).
mod gwlb;
/// The Network Load Balancer stage (`crate::elb` holds its tables and flow state).
mod nlb;

/// Where a packet enters the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The interface that owns the source address; else the VPN connection whose on-premises
    /// prefixes hold it; else the internet.
    Auto,
    /// Leaves this interface.
    Eni(Idx),
    /// Arrives from the internet at the gateway that owns the destination.
    Internet,
    /// Arrives from the on-premises network behind this VPN connection.
    OnPrem(Idx),
    /// Arrives at a transit gateway from this attachment.
    TransitGatewayAttachment(Idx),
}

/// Connection-tracking zones: interfaces use their index; egress-only gateways this base + index.
const ZONE_EIGW: u32 = 0x8000_0000;

/// Forwarding steps (appliances, hairpins through an internet gateway) before a packet is
/// declared looping.
const MAX_FORWARDS: u8 = 16;

/// Push a parsed frame through the pipeline.
#[inline]
pub fn process<T: Tracer>(
    topo: &Topology,
    state: &mut State,
    meta: &Meta,
    origin: Origin,
    now: Timestamp,
    tracer: &mut T,
) -> Verdict {
    process_header(
        topo,
        state,
        Header::from_meta(meta),
        meta.frag,
        origin,
        now,
        tracer,
    )
}

/// Push a header (no frame needed: `trace` builds one from a flow spec).
pub fn process_header<T: Tracer>(
    topo: &Topology,
    state: &mut State,
    header: Header,
    frag: Frag,
    origin: Origin,
    now: Timestamp,
    tracer: &mut T,
) -> Verdict {
    state.maintain(now);
    let mut w = Walk {
        topo,
        state,
        now,
        tracer,
        h: header,
        v: Verdict::new(header),
        fragmented: frag != Frag::None,
        forwards_left: MAX_FORWARDS,
        via_appliance: false,
    };
    let origin = match origin {
        Origin::Auto => match topo.owner_of(header.src) {
            Some(e) => Origin::Eni(e),
            None => topo
                .onprem_of(header.src)
                .map_or(Origin::Internet, Origin::OnPrem),
        },
        o => o,
    };
    match frag {
        Frag::None => {}
        Frag::First { id } => w.state.fragments.remember(&w.h, id, now),
        Frag::Later { id } => match w.state.fragments.ports(&w.h, id, now) {
            Some(first) => {
                w.h.src_port = first.src_port;
                w.h.dst_port = first.dst_port;
                w.h.icmp_type = first.icmp_type;
                w.h.icmp_code = first.icmp_code;
            }
            None => {
                let at = match origin {
                    Origin::Eni(e) => topo.enis[e as usize].owner,
                    Origin::OnPrem(c) => topo.vpn_connections[c as usize].customer_gateway,
                    Origin::TransitGatewayAttachment(a) => topo.tgw_attachments[a as usize].res,
                    _ => ResId::INTERNET,
                };
                w.drop(DropReason::FragmentOrphan, at, Stage::Origin, None, || {
                    "non-first fragment whose first fragment was not seen: its ports are unknown"
                        .into()
                });
                return w.v;
            }
        },
    }
    match origin {
        Origin::Eni(e) => {
            if T::ENABLED {
                let eni = &topo.enis[e as usize];
                let subnet = topo.subnet_of(e);
                w.hop(eni.owner, Stage::Origin, Action::Forward, None, || {
                    format!(
                        "leaves {} in subnet {}",
                        topo.name(eni.res),
                        topo.name(subnet.res)
                    )
                });
            }
            w.leave_eni(e);
        }
        Origin::OnPrem(c) => w.arrive_from_onprem(c),
        Origin::TransitGatewayAttachment(a) => w.arrive_at_tgw(a),
        _ => w.arrive_from_internet(),
    }
    w.v.header = w.h;
    w.v
}

/// Outcome of a filtering stage: continue, or the walk has ended (the verdict is set).
type Step = Result<(), ()>;

struct Walk<'a, 't, T: Tracer> {
    topo: &'t Topology,
    state: &'a mut State,
    now: Timestamp,
    tracer: &'a mut T,
    h: Header,
    v: Verdict,
    fragmented: bool,
    forwards_left: u8,
    /// An appliance or a transit gateway forwarded the packet: security-group references no
    /// longer match it.
    via_appliance: bool,
}

/// The link-local services every instance reaches without its packets being filtered (SPEC §1.7).
fn service_at(topo: &Topology, vpc: Idx, dst: IpAddr) -> Option<ResId> {
    const DNS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x253);
    const IMDS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    const TIME_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x123);
    match dst {
        IpAddr::V4(a) if a == Ipv4Addr::new(169, 254, 169, 253) => Some(Topology::AMAZON_DNS),
        IpAddr::V4(a) if Some(a) == topo.vpcs[vpc as usize].resolver_v4 => {
            Some(Topology::AMAZON_DNS)
        }
        IpAddr::V4(a) if a == Ipv4Addr::new(169, 254, 169, 254) => Some(Topology::IMDS),
        IpAddr::V4(a) if a == Ipv4Addr::new(169, 254, 169, 123) => Some(Topology::TIME_SYNC),
        IpAddr::V6(a) if a == DNS_V6 => Some(Topology::AMAZON_DNS),
        IpAddr::V6(a) if a == IMDS_V6 => Some(Topology::IMDS),
        IpAddr::V6(a) if a == TIME_V6 => Some(Topology::TIME_SYNC),
        _ => None,
    }
}

fn is_link_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => {
            (a.segments()[0] & 0xffc0) == 0xfe80 || a.segments()[0..2] == [0xfd00, 0x0ec2]
        }
    }
}

/// RFC 1918 private and RFC 6598 shared address space: never carried by an internet gateway.
fn is_private_v4(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(_) => false,
    }
}

impl<T: Tracer> Walk<'_, '_, T> {
    #[inline(always)]
    fn hop(
        &mut self,
        resource: ResId,
        stage: Stage,
        action: Action,
        rule: Option<String>,
        detail: impl FnOnce() -> String,
    ) {
        if T::ENABLED {
            let header = self.h;
            self.tracer.hop(Hop {
                resource,
                stage,
                action,
                rule,
                detail: detail(),
                header,
            });
        }
    }

    fn drop(
        &mut self,
        reason: DropReason,
        at: ResId,
        stage: Stage,
        rule: Option<String>,
        detail: impl FnOnce() -> String,
    ) {
        let action = match stage {
            Stage::SgEgress | Stage::SgIngress | Stage::NaclEgress | Stage::NaclIngress => {
                Action::Deny
            }
            _ => Action::Drop,
        };
        self.hop(at, stage, action, rule, detail);
        self.v.disposition = Disposition::Dropped;
        self.v.reason = Some(reason);
        self.v.at = at;
    }

    fn observe(&mut self, eni: Idx, direction: FlowDirection, action: FlowAction) {
        self.v.observe(Observation {
            eni,
            direction,
            action,
            header: self.h,
        });
    }

    fn deliver(&mut self, eni: Idx) {
        let owner = self.topo.enis[eni as usize].owner;
        self.hop(owner, Stage::Deliver, Action::Deliver, None, || {
            "delivered".into()
        });
        self.v.disposition = Disposition::Delivered;
        self.v.at = owner;
        self.v.delivered_to = Some(owner);
        self.v.delivered_eni = Some(eni);
    }

    fn spend_forward(&mut self, at: ResId, stage: Stage) -> Step {
        if self.forwards_left == 0 {
            self.drop(DropReason::TtlExceeded, at, stage, None, || {
                format!("more than {MAX_FORWARDS} forwarding steps: routing loop")
            });
            return Err(());
        }
        self.forwards_left -= 1;
        Ok(())
    }

    /// The resource blamed for a security-group denial: the group when the interface has one,
    /// the interface when the union of several groups denied.
    fn sg_culprit(&self, eni: Idx) -> ResId {
        let e = &self.topo.enis[eni as usize];
        match e.security_groups.as_slice() {
            [g] => self.topo.security_groups[*g as usize].res,
            _ => e.owner,
        }
    }

    fn sg_names(&self, eni: Idx) -> String {
        let e = &self.topo.enis[eni as usize];
        let names: Vec<&str> = e
            .security_groups
            .iter()
            .map(|g| self.topo.name(self.topo.security_groups[*g as usize].res))
            .collect();
        if names.is_empty() {
            "no security groups".into()
        } else {
            names.join(", ")
        }
    }

    /// Security group check for a packet leaving (`ingress` false) or arriving at `eni`:
    /// stateful, so a packet of a tracked connection passes whatever the rules say.
    fn sg_check(&mut self, eni: Idx, ingress: bool) -> Step {
        let e = &self.topo.enis[eni as usize];
        let (stage, direction) = if ingress {
            (Stage::SgIngress, FlowDirection::Ingress)
        } else {
            (Stage::SgEgress, FlowDirection::Egress)
        };
        if let Some(tracked) = self.state.conntrack.touch(eni, &self.h, self.now) {
            let culprit = self.sg_culprit(eni);
            self.hop(culprit, stage, Action::Allow, None, || match tracked {
                crate::conntrack::Tracked::Reply => {
                    "reply of a tracked connection: allowed whatever the rules".into()
                }
                crate::conntrack::Tracked::Initiator => "part of a tracked connection".into(),
            });
            return Ok(());
        }
        // Inbound rules name the source, outbound rules the destination.
        let (rules, peer) = if ingress {
            (&e.sg_ingress, self.h.src)
        } else {
            (&e.sg_egress, self.h.dst)
        };
        match sg::evaluate(rules, &self.h, peer, !self.via_appliance) {
            Some(rule) => {
                if self.state.conntrack.insert(eni, &self.h, self.now).is_err() {
                    let owner = e.owner;
                    self.observe(eni, direction, FlowAction::Reject);
                    self.drop(DropReason::ConntrackFull, owner, stage, None, || {
                        "connection-tracking table full: new connection refused".into()
                    });
                    return Err(());
                }
                let rule = *rule;
                let culprit = self.topo.security_groups[rule.group as usize].res;
                let text = T::ENABLED.then(|| self.topo.sg_rule_text(&rule, ingress));
                self.hop(culprit, stage, Action::Allow, text, || {
                    "new connection tracked".into()
                });
                Ok(())
            }
            None => {
                let culprit = self.sg_culprit(eni);
                let groups = if T::ENABLED {
                    self.sg_names(eni)
                } else {
                    String::new()
                };
                self.observe(eni, direction, FlowAction::Reject);
                let (reason, detail) = if ingress {
                    (DropReason::SgIngressDenied, "inbound rule of")
                } else {
                    (DropReason::SgEgressDenied, "outbound rule of")
                };
                let reply = if ingress {
                    " and it is not a reply"
                } else {
                    ""
                };
                let refs = if self.via_appliance {
                    " (it crossed an appliance or a transit gateway: security-group references no longer match it)"
                } else {
                    ""
                };
                self.drop(reason, culprit, stage, None, || {
                    format!("no {detail} {groups} allows this packet{reply}{refs}")
                });
                Err(())
            }
        }
    }

    /// Outbound NACL of `subnet`; a denial is logged as REJECT on `eni` (the source side).
    fn nacl_egress(&mut self, subnet: Idx, eni: Option<Idx>) -> Step {
        let acl = &self.topo.network_acls[self.topo.subnets[subnet as usize].network_acl as usize];
        let decision = acl.evaluate_egress(&self.h);
        let text = T::ENABLED.then(|| decision.describe(self.h.is_v6()));
        if decision.allowed() {
            self.hop(acl.res, Stage::NaclEgress, Action::Allow, text, || {
                "outbound rule allows".into()
            });
            return Ok(());
        }
        if let Some(e) = eni {
            self.observe(e, FlowDirection::Egress, FlowAction::Reject);
        }
        let res = acl.res;
        self.drop(
            DropReason::NaclEgressDenied,
            res,
            Stage::NaclEgress,
            text,
            || {
                "outbound rules deny the packet (matched against destination address and port)"
                    .into()
            },
        );
        Err(())
    }

    /// Inbound NACL of `subnet`; a denial is logged as REJECT on `eni` (the destination side).
    fn nacl_ingress(&mut self, subnet: Idx, eni: Option<Idx>) -> Step {
        let acl = &self.topo.network_acls[self.topo.subnets[subnet as usize].network_acl as usize];
        let decision = acl.evaluate_ingress(&self.h);
        let text = T::ENABLED.then(|| decision.describe(self.h.is_v6()));
        if decision.allowed() {
            self.hop(acl.res, Stage::NaclIngress, Action::Allow, text, || {
                "inbound rule allows".into()
            });
            return Ok(());
        }
        if let Some(e) = eni {
            self.observe(e, FlowDirection::Ingress, FlowAction::Reject);
        }
        let res = acl.res;
        self.drop(DropReason::NaclIngressDenied, res, Stage::NaclIngress, text, || {
            "inbound rules deny the packet (matched against source address and destination port)".into()
        });
        Err(())
    }

    /// A packet leaves an interface (an instance sends it, or an appliance forwards it).
    fn leave_eni(&mut self, eni: Idx) {
        let topo = self.topo;
        let e = &topo.enis[eni as usize];
        if e.source_dest_check && !e.owns(self.h.src) {
            let src = self.h.src;
            self.drop(DropReason::SourceDestCheck, e.owner, Stage::SourceDestCheck, None, || {
                format!("source/destination check is on and {src} is not an address of this interface")
            });
            return;
        }
        if let Some(svc) = service_at(topo, e.vpc, self.h.dst) {
            // The Amazon DNS resolver, instance metadata and time service answer on the host:
            // neither security groups nor NACLs see these packets, and flow logs skip them.
            self.hop(svc, Stage::Service, Action::Deliver, None, || {
                "link-local service: not filtered by security groups or network ACLs".into()
            });
            self.v.disposition = Disposition::Delivered;
            self.v.at = svc;
            self.v.delivered_to = Some(svc);
            return;
        }
        let subnet_idx = e.subnet;
        if is_link_local(self.h.dst) {
            let rt = topo.route_tables[topo.subnets[subnet_idx as usize].route_table as usize].res;
            self.drop(DropReason::NoRoute, rt, Stage::Route, None, || {
                "link-local destinations are never forwarded".into()
            });
            return;
        }
        if let EniKind::VpcEndpoint(x) = e.kind {
            // PrivateLink carries connections from consumers to the service only: an endpoint's
            // interface sends nothing but replies (SPEC §10.2, `VPCE_INTRA_VPC_TRAFFIC`).
            let reply = self.state.conntrack.peek(eni, &self.h, self.now)
                == Some(crate::conntrack::Tracked::Reply);
            if !reply {
                let res = topo.vpc_endpoints[x as usize].res;
                self.drop(DropReason::VpceNotInitiator, res, Stage::Origin, None, || {
                    "an interface endpoint only answers connections made to it; it never opens one"
                        .into()
                });
                return;
            }
        }
        // The packet may belong to a load-balanced flow (a target's reply, a client's packet to
        // a node): the security-group lookup below overlaps the flow table's.
        self.state.nlb.prefetch(&self.h);
        if let EniKind::LoadBalancer(_) = e.kind {
            if self.nlb_node_egress(eni).is_err() {
                return;
            }
        } else if !matches!(e.kind, EniKind::NatGateway(_)) && self.sg_check(eni, false).is_err() {
            return;
        }
        // A target's reply to a load-balanced client goes back through the load balancer node.
        if topo.elb.is_target(eni) && self.nlb_reply_from_target(eni) {
            return;
        }
        self.leave_into_subnet(eni);
    }

    /// A packet that passed `eni`'s outbound checks enters its subnet: delivered at layer 2
    /// when the destination is in the same subnet, without route table or NACL (SPEC §0.2
    /// step 3); routed by the subnet's route table otherwise.
    fn leave_into_subnet(&mut self, eni: Idx) {
        let topo = self.topo;
        let subnet_idx = topo.enis[eni as usize].subnet;
        let subnet = &topo.subnets[subnet_idx as usize];
        if !subnet.contains(self.h.dst) {
            self.route(subnet_idx, Some(eni));
            return;
        }
        self.observe(eni, FlowDirection::Egress, FlowAction::Accept);
        if let Some(d) = self.eni_in_subnet(subnet_idx) {
            self.hop(subnet.res, Stage::Route, Action::Forward, None, || {
                "destination is in the same subnet: delivered directly (no route table, no NACL)"
                    .into()
            });
            self.enter_eni(d, Some(subnet_idx));
        }
    }

    /// The interface of subnet `s` that owns the destination (which is in `s`); without one
    /// the packet is dropped here.
    fn eni_in_subnet(&mut self, s: Idx) -> Option<Idx> {
        let topo = self.topo;
        let subnet = &topo.subnets[s as usize];
        match topo.vpcs[subnet.vpc as usize].eni_for(self.h.dst) {
            Some(d) if topo.enis[d as usize].subnet == s => Some(d),
            _ => {
                let dst = self.h.dst;
                self.drop(
                    DropReason::NoDestination,
                    subnet.res,
                    Stage::Route,
                    None,
                    || format!("no network interface in this subnet has address {dst}"),
                );
                None
            }
        }
    }

    /// Route a packet leaving `subnet` (from `eni`, for flow logs) and hand it to the target.
    fn route(&mut self, subnet_idx: Idx, eni: Option<Idx>) {
        let topo = self.topo;
        let subnet = &topo.subnets[subnet_idx as usize];
        let rt = &topo.route_tables[subnet.route_table as usize];
        let Some(route) = rt.lookup(self.h.dst) else {
            if let Some(e) = eni {
                self.observe(e, FlowDirection::Egress, FlowAction::Accept);
            }
            let dst = self.h.dst;
            self.drop(DropReason::NoRoute, rt.res, Stage::Route, None, || {
                format!("no route matches {dst}")
            });
            return;
        };
        let text = T::ENABLED.then(|| describe_route(topo, route));
        if let RouteTarget::Blackhole { target } = &route.target {
            if let Some(e) = eni {
                self.observe(e, FlowDirection::Egress, FlowAction::Accept);
            }
            self.drop(
                DropReason::BlackholeRoute,
                rt.res,
                Stage::Route,
                text,
                || format!("the route's target {target} does not exist (blackhole)"),
            );
            return;
        }
        self.hop(rt.res, Stage::Route, Action::Forward, text, || {
            "longest prefix match".into()
        });
        if self.nacl_egress(subnet_idx, eni).is_err() {
            return;
        }
        if let Some(e) = eni {
            self.observe(e, FlowDirection::Egress, FlowAction::Accept);
        }
        let vpc = subnet.vpc;
        match route.target {
            RouteTarget::Local => self.local(vpc, subnet_idx, rt.res),
            RouteTarget::InternetGateway(g) => self.igw_egress(g, vpc, subnet_idx),
            RouteTarget::EgressOnlyInternetGateway(g) => self.eigw_egress(g),
            RouteTarget::NatGateway(n) => self.nat_outbound(n, subnet_idx),
            RouteTarget::NetworkInterface(a) => self.appliance(a, vpc, Some(subnet_idx)),
            RouteTarget::Peering(p) => self.peering(p, vpc),
            RouteTarget::TransitGateway(t) => self.tgw_from_vpc(t, subnet_idx),
            RouteTarget::VpnGateway(g) => self.vgw_egress(g, vpc),
            RouteTarget::GatewayEndpoint(x) => self.gateway_endpoint(x),
            RouteTarget::GatewayLoadBalancerEndpoint(x) => {
                self.gwlb_endpoint(x, vpc, Some(subnet_idx))
            }
            RouteTarget::Blackhole { .. } => {}
        }
    }

    /// A packet from an AWS service's address to a private address of an interface whose subnet
    /// routes the service through a gateway endpoint: the service's reply, coming back through
    /// the endpoint (the internet cannot reach private addresses). Returns false when it is not.
    fn arrive_from_gateway_endpoint(&mut self) -> bool {
        let topo = self.topo;
        let Some(d) = topo.owner_of(self.h.dst) else {
            return false;
        };
        let rt = &topo.route_tables[topo.subnet_of(d).route_table as usize];
        let Some(RouteTarget::GatewayEndpoint(x)) = rt.lookup(self.h.src).map(|r| &r.target) else {
            return false;
        };
        let ep = &topo.vpc_endpoints[*x as usize];
        let (res, service) = (ep.res, &ep.service_name);
        self.hop(res, Stage::Origin, Action::Forward, None, || {
            format!("arrives from {service} through the gateway endpoint")
        });
        const ECHO_REPLY: u8 = 0;
        let admitted = match self.h.proto {
            crate::flow::PROTO_TCP => true,
            crate::flow::PROTO_ICMP => self.h.icmp_type == ECHO_REPLY,
            _ => false,
        };
        if !admitted {
            self.drop(
                DropReason::VpceGatewayProtocol,
                res,
                Stage::Origin,
                None,
                || {
                    "a gateway endpoint carries only TCP and ICMP echo replies from the service"
                        .into()
                },
            );
            return true;
        }
        self.enter_eni(d, None);
        true
    }

    /// A gateway endpoint (SPEC §10.1): the packet leaves the VPC for the AWS service there,
    /// instead of through an internet or NAT gateway.
    fn gateway_endpoint(&mut self, x: Idx) {
        let ep = &self.topo.vpc_endpoints[x as usize];
        let res = ep.res;
        if !crate::endpoint::gateway_admits(&self.h) {
            self.drop(
                DropReason::VpceGatewayProtocol,
                res,
                Stage::Exit,
                None,
                || {
                    "a gateway endpoint carries only TCP and ICMP echo requests towards the service"
                        .into()
                },
            );
            return;
        }
        let service = &ep.service_name;
        self.hop(res, Stage::Exit, Action::Exit, None, || {
            format!("leaves through the gateway endpoint to {service}")
        });
        self.v.disposition = Disposition::Exited;
        self.v.at = res;
        self.v.egress = Some(res);
    }

    /// The local route: deliver to the interface that owns the destination in this VPC.
    fn local(&mut self, vpc: Idx, from_subnet: Idx, rt: ResId) {
        match self.topo.vpcs[vpc as usize].eni_for(self.h.dst) {
            Some(d) => self.enter_eni(d, Some(from_subnet)),
            None => {
                let dst = self.h.dst;
                self.drop(DropReason::NoDestination, rt, Stage::Route, None, || {
                    format!("local route, but no network interface in the VPC has address {dst}")
                });
            }
        }
    }

    /// A packet arrives at interface `d` from `from_subnet` (`None`: from outside the VPC):
    /// the destination subnet's NACL applies when it crosses a subnet boundary.
    fn enter_eni(&mut self, d: Idx, from_subnet: Option<Idx>) {
        let e = &self.topo.enis[d as usize];
        if from_subnet != Some(e.subnet) && self.nacl_ingress(e.subnet, Some(d)).is_err() {
            return;
        }
        if let EniKind::NatGateway(n) = e.kind {
            self.nat_inbound(n);
            return;
        }
        if let EniKind::LoadBalancer(lb) = e.kind {
            self.nlb_arrive(lb, d);
            return;
        }
        if self.sg_check(d, true).is_err() {
            return;
        }
        if let EniKind::VpcEndpoint(x) = e.kind {
            // The endpoint's interface hands the packet to the endpoint service (SPEC §10.2).
            let service = &self.topo.vpc_endpoints[x as usize].service_name;
            self.hop(e.res, Stage::Deliver, Action::Forward, None, || {
                format!("interface endpoint: handed to {service}")
            });
        }
        if e.source_dest_check && !e.owns(self.h.dst) {
            self.observe(d, FlowDirection::Ingress, FlowAction::Accept);
            let dst = self.h.dst;
            let owner = e.owner;
            self.drop(DropReason::SourceDestCheck, owner, Stage::SourceDestCheck, None, || {
                format!("source/destination check is on and {dst} is not an address of this interface")
            });
            return;
        }
        self.observe(d, FlowDirection::Ingress, FlowAction::Accept);
        self.deliver(d);
    }

    /// The packet leaves the model, or re-enters it when the destination is an address the
    /// topology itself owns (another instance's public IP: hairpin through the gateway).
    fn exit_to_internet(&mut self, gateway: ResId, stage: Stage) {
        let owned = match self.h.dst {
            IpAddr::V4(a) => self.topo.public_v4.contains_key(&a.to_bits()),
            IpAddr::V6(a) => self
                .topo
                .vpcs
                .iter()
                .any(|v| v.cidrs_v6.iter().any(|c| c.contains(&a))),
        };
        if owned {
            if self.spend_forward(gateway, stage).is_err() {
                return;
            }
            self.hop(gateway, stage, Action::Forward, None, || {
                "destination is an address of this topology: the packet comes back in from the internet".into()
            });
            self.arrive_from_internet();
            return;
        }
        self.hop(gateway, Stage::Exit, Action::Exit, None, || {
            "to the internet".into()
        });
        self.v.disposition = Disposition::Exited;
        self.v.at = gateway;
        self.v.egress = Some(gateway);
    }

    /// A packet routed to an internet gateway from `from_subnet`.
    fn igw_egress(&mut self, g: Idx, vpc: Idx, from_subnet: Idx) {
        let topo = self.topo;
        let igw = &topo.internet_gateways[g as usize];
        if igw.vpc != Some(vpc) {
            self.drop(
                DropReason::BlackholeRoute,
                igw.res,
                Stage::InternetGateway,
                None,
                || "the internet gateway is not attached to this VPC".into(),
            );
            return;
        }
        if let Some(rt) = igw.route_table {
            // The gateway route table sends this subnet's inbound traffic to an appliance: its
            // outbound traffic must come back through that appliance, not straight from the
            // subnet (SPEC §2.5, INGRESS_RTB_TRAFFIC_REDIRECTION).
            let table = &topo.route_tables[rt as usize];
            if let Some(route) = table.lookup(self.h.src) {
                if let RouteTarget::GatewayLoadBalancerEndpoint(x) = route.target {
                    let ep = &topo.gwlb.endpoints[x as usize];
                    if ep.subnet != from_subnet {
                        let text = T::ENABLED.then(|| describe_route(topo, route));
                        let endpoint = topo.name(ep.res);
                        let table = topo.name(table.res);
                        self.drop(DropReason::ApplianceBypassed, igw.res, Stage::InternetGateway, text, || {
                            format!("gateway route table {table} sends this subnet's inbound traffic through {endpoint}, but this packet leaves without it")
                        });
                        return;
                    }
                }
                if let RouteTarget::NetworkInterface(a) = route.target {
                    if topo.enis[a as usize].subnet != from_subnet {
                        let text = T::ENABLED.then(|| describe_route(topo, route));
                        let appliance = topo.name(topo.enis[a as usize].owner);
                        let table = topo.name(table.res);
                        self.drop(DropReason::ApplianceBypassed, igw.res, Stage::InternetGateway, text, || {
                            format!("gateway route table {table} sends this subnet's inbound traffic through {appliance}, but this packet leaves without it")
                        });
                        return;
                    }
                }
            }
        }
        let v = &topo.vpcs[vpc as usize];
        match self.h.src {
            IpAddr::V4(src) => {
                if is_private_v4(self.h.dst) {
                    let dst = self.h.dst;
                    self.drop(DropReason::IgwPrivateAddress, igw.res, Stage::InternetGateway, None, || {
                        format!("{dst} is a private (RFC 1918/6598) address: internet gateways drop it")
                    });
                    return;
                }
                let public = v
                    .eni_for(self.h.src)
                    .and_then(|e| topo.enis[e as usize].public_for(src));
                let Some(public) = public else {
                    self.drop(
                        DropReason::NoPublicIp,
                        igw.res,
                        Stage::InternetGateway,
                        None,
                        || format!("{src} has no public IPv4 address or Elastic IP"),
                    );
                    return;
                };
                self.h.src = IpAddr::V4(public);
                self.hop(
                    igw.res,
                    Stage::InternetGateway,
                    Action::Translate,
                    None,
                    || format!("source {src} → {public} (1:1 static NAT)"),
                );
            }
            IpAddr::V6(src) => {
                if v.eni_for(self.h.src).is_none() {
                    self.drop(
                        DropReason::NoPublicIp,
                        igw.res,
                        Stage::InternetGateway,
                        None,
                        || format!("{src} is not an IPv6 address of an interface in the VPC"),
                    );
                    return;
                }
                self.hop(
                    igw.res,
                    Stage::InternetGateway,
                    Action::Forward,
                    None,
                    || "IPv6: no translation".into(),
                );
            }
        }
        self.exit_to_internet(igw.res, Stage::InternetGateway);
    }

    fn eigw_egress(&mut self, g: Idx) {
        let eigw = &self.topo.egress_only_igws[g as usize];
        if !self.h.is_v6() {
            self.drop(
                DropReason::NoRoute,
                eigw.res,
                Stage::EgressOnlyInternetGateway,
                None,
                || "egress-only internet gateways carry IPv6 only".into(),
            );
            return;
        }
        let zone = ZONE_EIGW | g;
        if self
            .state
            .conntrack
            .touch(zone, &self.h, self.now)
            .is_none()
            && self
                .state
                .conntrack
                .insert(zone, &self.h, self.now)
                .is_err()
        {
            self.drop(
                DropReason::ConntrackFull,
                eigw.res,
                Stage::EgressOnlyInternetGateway,
                None,
                || "connection-tracking table full".into(),
            );
            return;
        }
        self.hop(
            eigw.res,
            Stage::EgressOnlyInternetGateway,
            Action::Forward,
            None,
            || "outbound IPv6 flow tracked: replies may come back".into(),
        );
        self.exit_to_internet(eigw.res, Stage::EgressOnlyInternetGateway);
    }

    /// A packet from the internet: the internet gateway (or egress-only gateway) of the VPC that
    /// owns the destination takes it in.
    fn arrive_from_internet(&mut self) {
        let topo = self.topo;
        if !topo.vpc_endpoints.is_empty() && self.arrive_from_gateway_endpoint() {
            return;
        }
        self.hop(
            ResId::INTERNET,
            Stage::Origin,
            Action::Forward,
            None,
            || "arrives from the internet".into(),
        );
        match self.h.dst {
            IpAddr::V4(dst) => {
                let Some(m) = topo.public_v4.get(&dst.to_bits()).copied() else {
                    self.drop(DropReason::NotMapped, ResId::INTERNET, Stage::Origin, None, || {
                        format!("{dst} is not a public IP or Elastic IP of any interface in the topology")
                    });
                    return;
                };
                let eni = &topo.enis[m.eni as usize];
                let Some(g) = topo.vpcs[eni.vpc as usize].internet_gateway else {
                    self.drop(
                        DropReason::NotMapped,
                        ResId::INTERNET,
                        Stage::Origin,
                        None,
                        || format!("{dst} belongs to a VPC without an internet gateway"),
                    );
                    return;
                };
                let igw = topo.internet_gateways[g as usize].res;
                if is_private_v4(self.h.src) {
                    let src = self.h.src;
                    self.drop(DropReason::IgwPrivateAddress, igw, Stage::InternetGateway, None, || {
                        format!("source {src} is a private (RFC 1918/6598) address: internet gateways drop it")
                    });
                    return;
                }
                self.h.dst = IpAddr::V4(m.private);
                if let EniKind::LoadBalancer(_) = eni.kind {
                    // Routing and the node's NACL overlap the flow-table lookup.
                    self.state.nlb.prefetch(&self.h);
                }
                self.hop(igw, Stage::InternetGateway, Action::Translate, None, || {
                    format!("destination {dst} → {} (1:1 static NAT)", m.private)
                });
                match topo.internet_gateways[g as usize].route_table {
                    Some(rt) => self.edge_route(rt, eni.vpc, igw, true),
                    None => self.enter_eni(m.eni, None),
                }
            }
            IpAddr::V6(dst) => {
                let Some(vpc) = topo
                    .vpcs
                    .iter()
                    .position(|v| v.cidrs_v6.iter().any(|c| c.contains(&dst)))
                else {
                    self.drop(
                        DropReason::NotMapped,
                        ResId::INTERNET,
                        Stage::Origin,
                        None,
                        || format!("{dst} is not in the IPv6 range of any VPC in the topology"),
                    );
                    return;
                };
                let v = &topo.vpcs[vpc];
                let via_eigw = v.egress_only_igw.filter(|&g| {
                    self.state
                        .conntrack
                        .touch(ZONE_EIGW | g, &self.h, self.now)
                        .is_some()
                });
                let mut edge = None;
                let gateway = if let Some(g) = via_eigw {
                    let res = topo.egress_only_igws[g as usize].res;
                    self.hop(
                        res,
                        Stage::EgressOnlyInternetGateway,
                        Action::Forward,
                        None,
                        || "reply of an outbound IPv6 flow".into(),
                    );
                    res
                } else if let Some(g) = v.internet_gateway {
                    let res = topo.internet_gateways[g as usize].res;
                    self.hop(res, Stage::InternetGateway, Action::Forward, None, || {
                        "IPv6: no translation".into()
                    });
                    edge = topo.internet_gateways[g as usize].route_table;
                    res
                } else if let Some(g) = v.egress_only_igw {
                    let res = topo.egress_only_igws[g as usize].res;
                    self.drop(
                        DropReason::EgressOnly,
                        res,
                        Stage::EgressOnlyInternetGateway,
                        None,
                        || {
                            "egress-only internet gateway: inbound connections are not allowed"
                                .into()
                        },
                    );
                    return;
                } else {
                    self.drop(
                        DropReason::NotMapped,
                        ResId::INTERNET,
                        Stage::Origin,
                        None,
                        || "the VPC that owns this address has no internet gateway".into(),
                    );
                    return;
                };
                if let Some(rt) = edge {
                    self.edge_route(rt, vpc as Idx, gateway, true);
                    return;
                }
                match v.eni_for(self.h.dst) {
                    Some(d) => self.enter_eni(d, None),
                    None => {
                        self.drop(
                            DropReason::NoDestination,
                            gateway,
                            Stage::Route,
                            None,
                            || format!("no network interface has address {dst}"),
                        );
                    }
                }
            }
        }
    }

    /// A client's packet reaches a NAT gateway through a route.
    fn nat_outbound(&mut self, n: Idx, from_subnet: Idx) {
        let topo = self.topo;
        let nat = &topo.nat_gateways[n as usize];
        if topo.subnets[nat.subnet as usize].vpc != topo.subnets[from_subnet as usize].vpc {
            self.drop(
                DropReason::BlackholeRoute,
                nat.res,
                Stage::NatGateway,
                None,
                || "the NAT gateway is in another VPC".into(),
            );
            return;
        }
        if from_subnet != nat.subnet && self.nacl_ingress(nat.subnet, Some(nat.eni)).is_err() {
            return;
        }
        self.observe(nat.eni, FlowDirection::Ingress, FlowAction::Accept);
        if !nat::supported(&self.h) || (self.fragmented && self.h.proto != PROTO_UDP) {
            let why = if self.h.is_v6() {
                "IPv6 is not translated (NAT64 is not modelled)"
            } else if self.fragmented {
                "fragmented TCP and ICMP packets are dropped (only UDP fragments pass)"
            } else {
                "only TCP, UDP and ICMP echo are translated"
            };
            self.drop(
                DropReason::NatUnsupported,
                nat.res,
                Stage::NatGateway,
                None,
                || why.into(),
            );
            return;
        }
        let before = self.h;
        match self
            .state
            .nat
            .outbound(n, &nat.addresses, &self.h, self.now)
        {
            Ok(t) => {
                self.h.src = IpAddr::V4(t.addr);
                self.h.src_port = t.port;
                if self.h.is_icmp_echo() {
                    self.h.dst_port = t.port;
                }
                self.hop(nat.res, Stage::NatGateway, Action::Translate, None, || {
                    format!(
                        "{} source {}:{} → {}:{}",
                        if t.new {
                            "new translation:"
                        } else {
                            "translation:"
                        },
                        before.src,
                        before.src_port,
                        t.addr,
                        t.port
                    )
                });
            }
            Err(NatError::NoSession) => {
                self.drop(DropReason::NatNoSession, nat.res, Stage::NatGateway, None, || {
                    "TCP segment without SYN and no translation (idle > 350 s?): the NAT gateway answers with RST".into()
                });
                return;
            }
            Err(NatError::PortsExhausted) => {
                let dst = self.h.dst;
                let port = self.h.dst_port;
                self.drop(DropReason::NatPortsExhausted, nat.res, Stage::NatGateway, None, || {
                    format!("every address already has 55,000 connections to {dst}:{port} (ErrorPortAllocation)")
                });
                return;
            }
        }
        self.route(nat.subnet, Some(nat.eni));
    }

    /// A packet reaches a NAT gateway's interface from the outside side: translate it back.
    fn nat_inbound(&mut self, n: Idx) {
        let topo = self.topo;
        let nat = &topo.nat_gateways[n as usize];
        self.observe(nat.eni, FlowDirection::Ingress, FlowAction::Accept);
        if !nat::supported(&self.h) || (self.fragmented && self.h.proto != PROTO_UDP) {
            self.drop(
                DropReason::NatUnsupported,
                nat.res,
                Stage::NatGateway,
                None,
                || "only TCP, UDP and ICMP echo are translated".into(),
            );
            return;
        }
        let before = self.h;
        match self.state.nat.inbound(&self.h, self.now) {
            Ok(t) => {
                self.h.dst = IpAddr::V4(t.addr);
                self.h.dst_port = t.port;
                if self.h.is_icmp_echo() {
                    self.h.src_port = t.port;
                }
                self.hop(nat.res, Stage::NatGateway, Action::Translate, None, || {
                    format!(
                        "destination {}:{} → {}:{}",
                        before.dst, before.dst_port, t.addr, t.port
                    )
                });
            }
            Err(_) => {
                self.drop(
                    DropReason::NatNoSession,
                    nat.res,
                    Stage::NatGateway,
                    None,
                    || {
                        "no translation matches: NAT gateways drop unsolicited inbound packets"
                            .into()
                    },
                );
                return;
            }
        }
        self.route(nat.subnet, Some(nat.eni));
    }

    /// A route sends the packet to an appliance's interface (a firewall or router instance),
    /// from a subnet of `vpc` or (`from_subnet` `None`) from a gateway's route table.
    fn appliance(&mut self, a: Idx, vpc: Idx, from_subnet: Option<Idx>) {
        let topo = self.topo;
        let e = &topo.enis[a as usize];
        if e.vpc != vpc {
            self.drop(
                DropReason::BlackholeRoute,
                e.owner,
                Stage::Appliance,
                None,
                || "the network interface is in another VPC".into(),
            );
            return;
        }
        if matches!(e.kind, EniKind::NatGateway(_)) {
            self.drop(
                DropReason::BlackholeRoute,
                e.owner,
                Stage::Appliance,
                None,
                || "route to a NAT gateway's interface: target the NAT gateway instead".into(),
            );
            return;
        }
        if from_subnet != Some(e.subnet) && self.nacl_ingress(e.subnet, Some(a)).is_err() {
            return;
        }
        if self.sg_check(a, true).is_err() {
            return;
        }
        if e.owns(self.h.dst) {
            self.observe(a, FlowDirection::Ingress, FlowAction::Accept);
            self.deliver(a);
            return;
        }
        if e.source_dest_check {
            self.observe(a, FlowDirection::Ingress, FlowAction::Accept);
            let dst = self.h.dst;
            let owner = e.owner;
            self.drop(DropReason::SourceDestCheck, owner, Stage::SourceDestCheck, None, || {
                format!("routed here for {dst}, but source/destination check is on: disable it on appliances")
            });
            return;
        }
        self.observe(a, FlowDirection::Ingress, FlowAction::Accept);
        let owner = e.owner;
        if self.h.ttl <= 1 {
            self.drop(
                DropReason::TtlExceeded,
                owner,
                Stage::Appliance,
                None,
                || "TTL expired at the appliance".into(),
            );
            return;
        }
        if self.spend_forward(owner, Stage::Appliance).is_err() {
            return;
        }
        self.h.ttl -= 1;
        self.via_appliance = true;
        self.hop(owner, Stage::Appliance, Action::Forward, None, || {
            "appliance forwards the packet (TTL − 1)".into()
        });
        self.leave_eni(a);
    }

    fn peering(&mut self, p: Idx, from_vpc: Idx) {
        let topo = self.topo;
        let pcx = &topo.peerings[p as usize];
        let Some(peer) = pcx.peer_of(from_vpc) else {
            self.drop(
                DropReason::BlackholeRoute,
                pcx.res,
                Stage::Peering,
                None,
                || "the peering connection does not involve this VPC".into(),
            );
            return;
        };
        let pv = &topo.vpcs[peer as usize];
        if !pv.contains(self.h.dst) {
            let dst = self.h.dst;
            let name = topo.name(pv.res).to_string();
            self.drop(DropReason::PeeringNotTransitive, pcx.res, Stage::Peering, None, || {
                format!("{dst} is not inside {name}: peering carries no transit or edge-to-edge traffic")
            });
            return;
        }
        self.hop(pcx.res, Stage::Peering, Action::Forward, None, || {
            format!("to {}", topo.name(pv.res))
        });
        match pv.eni_for(self.h.dst) {
            Some(d) => self.enter_eni(d, None),
            None => {
                let dst = self.h.dst;
                self.drop(
                    DropReason::NoDestination,
                    pcx.res,
                    Stage::Peering,
                    None,
                    || format!("no network interface in the peer VPC has address {dst}"),
                );
            }
        }
    }

    /// Traffic entering `vpc` through a gateway whose route table (edge association) decides
    /// instead of the local route (SPEC §2.5): the local route delivers, a route to an
    /// appliance's interface steers the packet through it.
    fn edge_route(&mut self, rt_idx: Idx, vpc: Idx, gateway: ResId, from_internet: bool) {
        let topo = self.topo;
        let rt = &topo.route_tables[rt_idx as usize];
        let Some(route) = rt.lookup(self.h.dst) else {
            let dst = self.h.dst;
            self.drop(DropReason::NoRoute, rt.res, Stage::Route, None, || {
                format!("the gateway route table has no route for {dst}")
            });
            return;
        };
        let text = T::ENABLED.then(|| describe_route(topo, route));
        match route.target {
            RouteTarget::Local => {
                self.hop(rt.res, Stage::Route, Action::Forward, text, || {
                    format!("gateway route table of {}", topo.name(gateway))
                });
                match topo.vpcs[vpc as usize].eni_for(self.h.dst) {
                    Some(d) => self.enter_eni(d, None),
                    None => {
                        let dst = self.h.dst;
                        self.drop(
                            DropReason::NoDestination,
                            rt.res,
                            Stage::Route,
                            None,
                            || format!("no network interface in the VPC has address {dst}"),
                        );
                    }
                }
            }
            RouteTarget::NetworkInterface(a) => {
                self.hop(rt.res, Stage::Route, Action::Forward, text, || {
                    format!(
                        "gateway route table of {}: steered to an appliance",
                        topo.name(gateway)
                    )
                });
                let e = &topo.enis[a as usize];
                if from_internet && !self.h.is_v6() && e.public_v4.is_empty() {
                    let owner = e.owner;
                    self.drop(
                        DropReason::IngressApplianceNoPublicIp,
                        owner,
                        Stage::Appliance,
                        None,
                        || {
                            "an appliance that receives internet traffic through a gateway route table needs a public IPv4 address".into()
                        },
                    );
                    return;
                }
                self.appliance(a, vpc, None);
            }
            RouteTarget::GatewayLoadBalancerEndpoint(x) if from_internet => {
                self.hop(rt.res, Stage::Route, Action::Forward, text, || {
                    format!(
                        "gateway route table of {}: steered to a Gateway Load Balancer endpoint",
                        topo.name(gateway)
                    )
                });
                self.gwlb_endpoint(x, vpc, None);
            }
            RouteTarget::GatewayLoadBalancerEndpoint(_) => {
                // SPEC §2.5: only internet gateway tables may send traffic to a GWLB endpoint.
                self.drop(DropReason::BlackholeRoute, rt.res, Stage::Route, text, || {
                    "a virtual private gateway's route table cannot send traffic to a Gateway Load Balancer endpoint: AWS drops it".into()
                });
            }
            RouteTarget::Blackhole { ref target } => {
                self.drop(
                    DropReason::BlackholeRoute,
                    rt.res,
                    Stage::Route,
                    text,
                    || format!("the route's target {target} does not exist (blackhole)"),
                );
            }
            _ => {
                self.drop(
                    DropReason::BlackholeRoute,
                    rt.res,
                    Stage::Route,
                    text,
                    || "gateway route tables only route to local or to a network interface".into(),
                );
            }
        }
    }

    /// A subnet's route sends the packet to transit gateway `t`: it enters through the VPC
    /// attachment's subnet in the sender's Availability Zone (SPEC §9.1).
    fn tgw_from_vpc(&mut self, t: Idx, from_subnet: Idx) {
        let topo = self.topo;
        let subnet = &topo.subnets[from_subnet as usize];
        let tgw = topo.transit_gateways[t as usize].res;
        let attachment = topo.vpcs[subnet.vpc as usize]
            .tgw_attachments
            .iter()
            .copied()
            .find(|&a| topo.tgw_attachments[a as usize].tgw == t);
        let Some(a) = attachment else {
            self.drop(
                DropReason::BlackholeRoute,
                tgw,
                Stage::TgwAttachment,
                None,
                || "the transit gateway has no attachment in this VPC".into(),
            );
            return;
        };
        let att = &topo.tgw_attachments[a as usize];
        let Some(att_subnet) = att.subnet_in(topo, subnet.az) else {
            let az = &subnet.availability_zone;
            self.drop(
                DropReason::TgwNoAttachmentInAz,
                att.res,
                Stage::TgwAttachment,
                None,
                || format!("the attachment has no subnet in {az}, the sending subnet's Availability Zone"),
            );
            return;
        };
        // The attachment subnet's inbound rules apply to instance → transit gateway traffic,
        // whether or not the instance shares the subnet (SPEC §3.2).
        if self.nacl_ingress(att_subnet, None).is_err() {
            return;
        }
        self.hop(att.res, Stage::TgwAttachment, Action::Forward, None, || {
            let s = &topo.subnets[att_subnet as usize];
            format!(
                "enters {} through subnet {} ({})",
                topo.name(tgw),
                topo.name(s.res),
                s.availability_zone
            )
        });
        self.tgw_route(a, Some(subnet.az));
    }

    /// `--from` a transit gateway attachment: the packet arrives at the gateway from it.
    fn arrive_at_tgw(&mut self, a: Idx) {
        let topo = self.topo;
        let att = &topo.tgw_attachments[a as usize];
        if let AttachmentKind::Vpn(c) = att.kind {
            self.arrive_from_onprem(c);
            return;
        }
        let az = att.subnets.first().map(|&s| topo.subnets[s as usize].az);
        self.hop(att.res, Stage::Origin, Action::Forward, None, || {
            format!(
                "arrives at {} from the attachment",
                topo.name(topo.transit_gateways[att.tgw as usize].res)
            )
        });
        self.tgw_route(a, az);
    }

    /// The transit gateway route table associated with attachment `a` decides (SPEC §9.2).
    /// `entry_az` is the Availability Zone the packet entered in (none from a VPN).
    fn tgw_route(&mut self, a: Idx, entry_az: Option<u32>) {
        let topo = self.topo;
        let att = &topo.tgw_attachments[a as usize];
        let tgw = topo.transit_gateways[att.tgw as usize].res;
        if self.spend_forward(tgw, Stage::TgwRoute).is_err() {
            return;
        }
        let Some(rt_idx) = att.route_table else {
            self.drop(
                DropReason::TgwNoAssociation,
                att.res,
                Stage::TgwRoute,
                None,
                || "the attachment is associated with no transit gateway route table".into(),
            );
            return;
        };
        let rt = &topo.tgw_route_tables[rt_idx as usize];
        let Some(route) = rt.lookup(self.h.dst) else {
            let dst = self.h.dst;
            self.drop(
                DropReason::TgwNoRoute,
                rt.res,
                Stage::TgwRoute,
                None,
                || format!("no transit gateway route matches {dst}"),
            );
            return;
        };
        let text = T::ENABLED.then(|| describe_tgw_route(topo, route));
        let b = match route.target {
            TgwRouteTarget::Blackhole => {
                self.drop(
                    DropReason::TgwBlackholeRoute,
                    rt.res,
                    Stage::TgwRoute,
                    text,
                    || "blackhole route: the transit gateway drops matching packets".into(),
                );
                return;
            }
            TgwRouteTarget::Attachment(b) => b,
        };
        self.hop(rt.res, Stage::TgwRoute, Action::Forward, text, || {
            "longest prefix match".into()
        });
        // Security-group information does not cross a transit gateway (SG referencing support
        // is off by default, SPEC §4.3): references no longer match, as after an appliance.
        self.via_appliance = true;
        let to = &topo.tgw_attachments[b as usize];
        match to.kind {
            AttachmentKind::Vpc(_) => {
                let s = to.egress_subnet(topo, entry_az, &self.h);
                self.hop(to.res, Stage::TgwAttachment, Action::Forward, None, || {
                    let sub = &topo.subnets[s as usize];
                    let how = if to.appliance_mode {
                        "appliance mode: zone chosen by flow hash"
                    } else if entry_az == Some(sub.az) {
                        "same Availability Zone as it entered"
                    } else {
                        "the attachment has no subnet in the zone it entered: zone chosen by flow hash"
                    };
                    format!(
                        "leaves {} through subnet {} ({}; {how})",
                        topo.name(tgw),
                        topo.name(sub.res),
                        sub.availability_zone
                    )
                });
                self.arrive_from_tgw(s);
            }
            AttachmentKind::Vpn(c) => {
                self.hop(to.res, Stage::TgwAttachment, Action::Forward, None, || {
                    format!("leaves {} into the VPN connection", topo.name(tgw))
                });
                self.exit_vpn(c, topo.vpn_connections[c as usize].res);
            }
        }
    }

    /// A packet leaves a transit gateway into a VPC through the attachment's subnet `s`. The
    /// subnet's route table routes it (its local route delivers into the VPC; other routes send
    /// it on, as inspection VPCs do); a destination inside the attachment subnet itself is
    /// reached without any NACL (SPEC §3.2).
    fn arrive_from_tgw(&mut self, s: Idx) {
        let topo = self.topo;
        let subnet = &topo.subnets[s as usize];
        if subnet.contains(self.h.dst) {
            if let Some(d) = self.eni_in_subnet(s) {
                self.enter_eni(d, Some(s));
            }
            return;
        }
        self.route(s, None);
    }

    /// A route sends the packet to a virtual private gateway: it forwards only to prefixes its
    /// VPN connections reach (SPEC §2.7), and only traffic from its own VPC.
    fn vgw_egress(&mut self, g: Idx, vpc: Idx) {
        let topo = self.topo;
        let vgw = &topo.vpn_gateways[g as usize];
        if vgw.vpc != Some(vpc) {
            self.drop(
                DropReason::BlackholeRoute,
                vgw.res,
                Stage::VpnGateway,
                None,
                || "the virtual private gateway is not attached to this VPC".into(),
            );
            return;
        }
        if topo.vpcs[vpc as usize].eni_for(self.h.src).is_none() {
            let src = self.h.src;
            self.drop(
                DropReason::VgwSourceNotInVpc,
                vgw.res,
                Stage::VpnGateway,
                None,
                || format!("{src} is not an address of an interface in the gateway's VPC"),
            );
            return;
        }
        let Some(c) = vgw.routes.lookup(self.h.dst) else {
            let dst = self.h.dst;
            let why = if self.h.is_v6() {
                "Site-to-Site VPN carries no IPv6"
            } else {
                "not an on-premises prefix of its VPN connections"
            };
            self.drop(
                DropReason::VgwNoRoute,
                vgw.res,
                Stage::VpnGateway,
                None,
                || format!("the virtual private gateway has no route for {dst}: {why}"),
            );
            return;
        };
        self.hop(vgw.res, Stage::VpnGateway, Action::Forward, None, || {
            format!("to {}", topo.name(topo.vpn_connections[c as usize].res))
        });
        self.exit_vpn(c, vgw.res);
    }

    /// The packet leaves through VPN connection `c` to the on-premises network (`egress` is
    /// what the verdict names: the virtual private gateway, or the connection on a transit
    /// gateway).
    fn exit_vpn(&mut self, c: Idx, egress: ResId) {
        let topo = self.topo;
        let conn = &topo.vpn_connections[c as usize];
        self.hop(conn.res, Stage::Exit, Action::Exit, None, || {
            format!(
                "to on-premises through customer gateway {}",
                topo.name(conn.customer_gateway)
            )
        });
        self.v.disposition = Disposition::Exited;
        self.v.at = egress;
        self.v.egress = Some(egress);
        self.v.egress_vpn = Some(c);
    }

    /// A packet from the on-premises network behind VPN connection `c`.
    fn arrive_from_onprem(&mut self, c: Idx) {
        let topo = self.topo;
        let conn = &topo.vpn_connections[c as usize];
        self.hop(
            conn.customer_gateway,
            Stage::Origin,
            Action::Forward,
            None,
            || format!("arrives from on-premises through {}", topo.name(conn.res)),
        );
        match conn.edge {
            VpnEdge::VpnGateway(g) => self.vgw_ingress(g),
            VpnEdge::TransitGateway { attachment } => {
                let att = &topo.tgw_attachments[attachment as usize];
                self.hop(att.res, Stage::TgwAttachment, Action::Forward, None, || {
                    format!(
                        "enters {}",
                        topo.name(topo.transit_gateways[att.tgw as usize].res)
                    )
                });
                self.tgw_route(attachment, None);
            }
        }
    }

    /// A packet from a VPN connection reaches its virtual private gateway: it forwards only
    /// into its VPC, through the gateway route table when there is one.
    fn vgw_ingress(&mut self, g: Idx) {
        let topo = self.topo;
        let vgw = &topo.vpn_gateways[g as usize];
        let Some(vpc) = vgw
            .vpc
            .filter(|&v| topo.vpcs[v as usize].contains(self.h.dst))
        else {
            let dst = self.h.dst;
            self.drop(DropReason::VgwNoRoute, vgw.res, Stage::VpnGateway, None, || {
                format!("{dst} is not inside the virtual private gateway's VPC: it forwards nowhere else")
            });
            return;
        };
        self.hop(vgw.res, Stage::VpnGateway, Action::Forward, None, || {
            format!("into {}", topo.name(topo.vpcs[vpc as usize].res))
        });
        if let Some(rt) = vgw.route_table {
            self.edge_route(rt, vpc, vgw.res, false);
            return;
        }
        match topo.vpcs[vpc as usize].eni_for(self.h.dst) {
            Some(d) => self.enter_eni(d, None),
            None => {
                let dst = self.h.dst;
                self.drop(
                    DropReason::NoDestination,
                    vgw.res,
                    Stage::VpnGateway,
                    None,
                    || format!("no network interface in the VPC has address {dst}"),
                );
            }
        }
    }
}

/// `0.0.0.0/0 → NatGatewayA (AWS::EC2::Route DefaultRoute)`
pub fn describe_route(topo: &Topology, r: &Route) -> String {
    let target = match &r.target {
        RouteTarget::Local => "local".to_string(),
        RouteTarget::Blackhole { target } => format!("{target} (blackhole)"),
        _ => r.target_name.clone(),
    };
    if let Some(list) = r.prefix_list {
        // One entry of a prefix-list route: name the list, then the entry that matched.
        let list = topo.resource(list);
        let via = r
            .res
            .map_or(String::new(), |res| format!(" ({})", topo.name(res)));
        return format!(
            "{} [{}, entry {}] → {target}{via}",
            list.logical_id, list.aws_id, r.destination
        );
    }
    match r.res {
        _ if r.propagated => format!("{} → {target} (propagated)", r.destination),
        Some(res) => format!("{} → {target} ({})", r.destination, topo.name(res)),
        None => format!("{} → {target}", r.destination),
    }
}
