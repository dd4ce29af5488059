//! The concrete driver: one packet through the stage graph, its state in [`State`], its hops
//! reported to a [`Tracer`]. Every split has exactly one part; the packet itself lives in the
//! walk, so a node's packet value is only a token that the walk holds one.

use super::driver::{
    AddressMap, Conn, Decided, Driver, Field, FlowRoute, GeneveTo, Opened, Refused, Rules,
};
use super::graph::{Node, NodeKind};
use super::{dispatch, Origin};
use crate::aws::{Zone, MAX_FORWARDS};
use crate::state::conntrack::TableFull;
use crate::state::firewall_flows::{AlertEvent, FirewallFlow};
use crate::state::fragments::LaterFragment;
use crate::state::nat::NatError;
use crate::state::State;
use crate::topology::gwlb::{self, Stickiness};
use crate::topology::network_firewall::{AppProtocol, Content, FirewallEndpointIdx, FirewallIdx};
use crate::topology::nlb::{self, NlbFlow};
use crate::topology::{
    EniIdx, GwlbIdx, GwlbTargetGroupIdx, NatIdx, NlbIdx, ResId, SubnetIdx, TgwAttachmentIdx,
    Topology, VpnConnIdx,
};
use crate::trace::{Action, Hop, Stage, Tracer};
use crate::verdict::{Disposition, DropReason, FlowAction, FlowDirection, Observation, Verdict};
use crate::wire::geneve::Encapsulation;
use crate::wire::{Family, Header, Timestamp};
use crate::wire::{Frag, FragSpan, Meta};
use std::convert::Infallible;
use std::iter::{once, Once};
use std::net::IpAddr;

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
    process_fragment(
        topo,
        state,
        meta.header,
        meta.frag,
        meta.frag_span,
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
    process_fragment(
        topo,
        state,
        header,
        frag,
        FragSpan::default(),
        origin,
        now,
        tracer,
    )
}

/// [`process_header`] for a fragment whose bytes in the datagram are `span`.
#[allow(clippy::too_many_arguments)]
fn process_fragment<T: Tracer>(
    topo: &Topology,
    state: &mut State,
    header: Header,
    frag: Frag,
    span: FragSpan,
    origin: Origin,
    now: Timestamp,
    tracer: &mut T,
) -> Verdict {
    state.maintain(now);
    let origin = match origin {
        Origin::Auto => match topo.owner_of(header.src) {
            Some(e) => Origin::Eni(e),
            None => topo
                .onprem_of(header.src)
                .map_or(Origin::Internet, Origin::OnPrem),
        },
        o => o,
    };
    let start = origin.start();
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
        node: start.kind(),
    };
    w.state.nodes.enter(w.node);
    if T::ENABLED {
        w.tracer.node(w.node);
    }
    let unknown_first = match frag {
        Frag::None => None,
        Frag::First { id } => match w.state.fragments.remember(&w.h, id, span, now) {
            Ok(()) => None,
            Err(TableFull) => Some(DropReason::FragmentTableFull),
        },
        Frag::Later { id } => match w.state.fragments.later(&w.h, id, span, now) {
            LaterFragment::Follows(first) => {
                w.h.src_port = first.src_port;
                w.h.dst_port = first.dst_port;
                w.h.icmp_type = first.icmp_type;
                w.h.icmp_code = first.icmp_code;
                None
            }
            LaterFragment::Orphan => Some(DropReason::FragmentOrphan),
            LaterFragment::TableFull => Some(DropReason::FragmentTableFull),
        },
    };
    if let Some(reason) = unknown_first {
        let at = match origin {
            Origin::Eni(e) => topo.enis[e].owner,
            Origin::OnPrem(c) => topo.vpn_connections[c].customer_gateway,
            Origin::TransitGatewayAttachment(a) => topo.tgw_attachments[a].res,
            Origin::Auto | Origin::Internet => ResId::INTERNET,
        };
        w.drop(Here, reason, at, Stage::Origin, None, |_| match reason {
            DropReason::FragmentOrphan => {
                "non-first fragment whose first fragment was not seen: its ports are unknown".into()
            }
            _ => "the fragment table is full (--fragment-capacity): this datagram's fragments are not followed".into(),
        });
        return w.v;
    }
    // A literal node per origin, so the start is a direct call; a chain of tests, as an
    // interface and the internet alternate packet by packet.
    if let Origin::Eni(eni) = origin {
        dispatch(&mut w, Here, Node::Leave { eni, origin: true });
    } else if let Origin::OnPrem(conn) = origin {
        dispatch(&mut w, Here, Node::FromOnPrem { conn });
    } else if let Origin::TransitGatewayAttachment(attachment) = origin {
        dispatch(&mut w, Here, Node::TgwArrive { attachment });
    } else {
        dispatch(&mut w, Here, Node::FromInternet);
    }
    w.v.header = w.h;
    w.v
}

/// The walk holds the packet: a node's packet value only says that it does.
#[derive(Debug)]
pub struct Here;

/// One packet's walk through the graph.
pub(crate) struct Walk<'a, 't, T: Tracer> {
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
    /// The node running, for its counters.
    node: NodeKind,
}

impl<T: Tracer> Walk<'_, '_, T> {
    #[inline(always)]
    fn field(&self, field: Field) -> IpAddr {
        match field {
            Field::Src => self.h.src,
            Field::Dst => self.h.dst,
        }
    }
}

impl<'t, T: Tracer> Driver<'t> for Walk<'_, 't, T> {
    type Packet = Here;
    type Split<K> = Once<(K, Here)>;
    type Undecided = Infallible;
    type NlbFlow = NlbFlow;
    const TRACING: bool = T::ENABLED;

    #[inline(always)]
    fn topo(&self) -> &'t Topology {
        self.topo
    }

    #[inline(always)]
    fn family(&self, _: &Here) -> Family {
        if self.h.is_v6() {
            Family::V6
        } else {
            Family::V4
        }
    }

    #[inline(always)]
    fn header_now(&self, _: &Here) -> Option<Header> {
        Some(self.h)
    }

    #[inline(always)]
    fn next(&mut self, p: Here, node: Node) {
        self.node = node.kind();
        self.state.nodes.enter(self.node);
        if T::ENABLED {
            self.tracer.node(self.node);
        }
        dispatch(self, p, node);
    }

    #[inline]
    fn deliver(&mut self, _: Here, to: ResId, eni: Option<EniIdx>) {
        self.v.disposition = Disposition::Delivered;
        self.v.at = to;
        self.v.delivered_to = Some(to);
        self.v.delivered_eni = eni;
    }

    #[inline]
    fn exit(&mut self, _: Here, via: ResId, vpn: Option<VpnConnIdx>) {
        self.v.disposition = Disposition::Exited;
        self.v.at = via;
        self.v.egress = Some(via);
        self.v.egress_vpn = vpn;
    }

    #[inline]
    fn drop(
        &mut self,
        p: Here,
        reason: DropReason,
        at: ResId,
        stage: Stage,
        rule: Option<String>,
        detail: impl FnOnce(&Header) -> String,
    ) {
        let action = match stage {
            Stage::SgEgress | Stage::SgIngress | Stage::NaclEgress | Stage::NaclIngress => {
                Action::Deny
            }
            _ => Action::Drop,
        };
        self.hop(&p, at, stage, action, rule, detail);
        self.v.disposition = Disposition::Dropped;
        self.v.reason = Some(reason);
        self.v.at = at;
        self.state.nodes.drop(self.node, reason);
    }

    fn undecided(&mut self, _: Here, proof: Infallible, _: &'static str) {
        match proof {}
    }

    #[inline(always)]
    fn merge(&mut self, a: Here, _: Here) -> Here {
        a
    }

    #[inline(always)]
    fn hop(
        &mut self,
        _: &Here,
        resource: ResId,
        stage: Stage,
        action: Action,
        rule: Option<String>,
        detail: impl FnOnce(&Header) -> String,
    ) {
        if T::ENABLED {
            let header = self.h;
            self.tracer.hop(Hop {
                resource,
                stage,
                action,
                rule,
                detail: detail(&header),
                header,
            });
        }
    }

    #[inline]
    fn observe(&mut self, _: &Here, eni: EniIdx, direction: FlowDirection, action: FlowAction) {
        self.v.observe(Observation {
            eni,
            direction,
            action,
            header: self.h,
        });
    }

    #[inline(always)]
    fn via_appliance(&self, _: &Here) -> bool {
        self.via_appliance
    }

    #[inline(always)]
    fn set_via_appliance(&mut self, _: &mut Here) {
        self.via_appliance = true;
    }

    #[inline]
    fn spend_forward(&mut self, _: &mut Here) -> bool {
        if self.forwards_left == 0 {
            return false;
        }
        self.forwards_left -= 1;
        true
    }

    #[inline(always)]
    fn ttl_expired(&self, _: &Here) -> bool {
        self.h.ttl <= 1
    }

    #[inline(always)]
    fn decrement_ttl(&mut self, _: &mut Here) {
        self.h.ttl -= 1;
    }

    #[inline(always)]
    fn fragmented(&self, _: &Here) -> bool {
        self.fragmented
    }

    #[inline(always)]
    fn longer_than(&self, _: &Here, bytes: u32) -> bool {
        u32::from(self.h.len) > bytes
    }

    #[inline(always)]
    fn split<M: AddressMap>(
        &mut self,
        p: Here,
        field: Field,
        map: &M,
    ) -> Once<(Option<M::Key>, Here)> {
        once((map.lookup(self.field(field)), p))
    }

    #[inline(always)]
    fn split_rules<R: Rules>(&mut self, p: Here, rules: &R) -> Once<(Option<R::Key>, Here)> {
        once((rules.first_match(&self.h), p))
    }

    #[inline(always)]
    fn decide<R: Rules>(&mut self, p: Here, rules: &R) -> Decided<Here, R::Key> {
        let k = rules.first_match(&self.h);
        if R::passes(k) {
            Decided {
                pass: Some((p, k)),
                fail: None,
            }
        } else {
            Decided {
                pass: None,
                fail: Some((p, k)),
            }
        }
    }

    #[inline(always)]
    fn sent_by(&mut self, p: Here, eni: EniIdx) -> (Option<Here>, Option<Here>) {
        if self.topo.enis[eni].owns(self.h.src) {
            (Some(p), None)
        } else {
            (None, Some(p))
        }
    }

    #[inline(always)]
    fn senders(&mut self, p: Here, eni: EniIdx) -> Once<(EniIdx, Here)> {
        once((eni, p))
    }

    #[inline(always)]
    fn write_addr(&mut self, _: &mut Here, field: Field, a: IpAddr) {
        match field {
            Field::Src => self.h.src = a,
            Field::Dst => self.h.dst = a,
        }
    }

    #[inline(always)]
    fn conntrack(
        &mut self,
        p: Here,
        zone: Zone,
        refresh: bool,
    ) -> Once<(Option<Conn<Infallible>>, Here)> {
        let tracked = if refresh {
            self.state.conntrack.touch(zone.id(), &self.h, self.now)
        } else {
            self.state.conntrack.peek(zone.id(), &self.h, self.now)
        };
        once((tracked.map(Conn::Tracked), p))
    }

    #[inline]
    fn track(&mut self, _: &mut Here, zone: Zone) -> Result<(), TableFull> {
        self.state.conntrack.insert(zone.id(), &self.h, self.now)
    }

    #[inline]
    fn nat_outbound(&mut self, _: &mut Here, n: NatIdx) -> Result<bool, NatError> {
        let nat = &self.topo.nat_gateways[n];
        let translated = self
            .state
            .nat
            .outbound(n, &nat.addresses, &self.h, self.now);
        count_nat_outbound(self.state.resources.nat_mut(n), &translated, self.h.len);
        let t = translated?;
        self.h.src = IpAddr::V4(t.addr);
        self.h.src_port = t.port;
        if self.h.is_icmp_echo() {
            self.h.dst_port = t.port;
        }
        Ok(t.new)
    }

    #[inline]
    fn nat_inbound(&mut self, p: Here, n: NatIdx) -> Once<(bool, Here)> {
        let bytes = u64::from(self.h.len);
        let c = self.state.resources.nat_mut(n);
        c.packets_in_from_destination += 1;
        c.bytes_in_from_destination += bytes;
        let Ok(t) = self.state.nat.inbound(&self.h, self.now) else {
            self.state.resources.nat_mut(n).packets_drop_count += 1;
            return once((false, p));
        };
        let c = self.state.resources.nat_mut(n);
        c.packets_out_to_source += 1;
        c.bytes_out_to_source += bytes;
        self.h.dst = IpAddr::V4(t.addr);
        self.h.dst_port = t.port;
        if self.h.is_icmp_echo() {
            self.h.src_port = t.port;
        }
        once((true, p))
    }

    #[inline(always)]
    fn nlb_prefetch(&self, _: &Here) {
        self.state.nlb.prefetch(&self.h);
    }

    #[inline]
    fn nlb_find(
        &mut self,
        p: Here,
        _: EniIdx,
    ) -> Once<(Option<crate::state::nlb_flows::Seen>, Here)> {
        once((self.state.nlb.find(&self.h, self.now), p))
    }

    fn nlb_open(
        &mut self,
        p: Here,
        lb: NlbIdx,
        listener: u32,
        node: EniIdx,
    ) -> Once<(Result<Opened<NlbFlow>, Refused>, Here)> {
        let opened = match nlb::new_flow(self.topo, &self.state.nlb, lb, listener, node, &self.h) {
            Err(why) => Err(Refused::NoTarget(why)),
            Ok(n) => match self.state.nlb.insert(&self.h, n.flow, self.now) {
                Err(_) => Err(Refused::TableFull),
                Ok(()) => {
                    self.state.resources.nlb_mut(lb).new_flow_count += 1;
                    Ok(Opened {
                        flow: n.flow,
                        choice: n.choice,
                    })
                }
            },
        };
        once((opened, p))
    }

    #[inline]
    fn nlb_reply_of(&mut self, p: Here, _: EniIdx) -> Once<(Option<NlbFlow>, Here)> {
        let flow = self
            .state
            .nlb
            .lookup_reply(&self.h, self.now)
            .filter(|f| f.preserves_client_ip());
        once((flow, p))
    }

    #[inline]
    fn nlb_route(&self, f: &NlbFlow) -> FlowRoute {
        FlowRoute {
            lb: f.lb,
            node: f.node,
            listener: f.listener,
            target_group: f.target_group,
            target: f.target,
            preserves_client_ip: f.preserves_client_ip(),
        }
    }

    #[inline]
    fn nlb_to_target(&mut self, _: &mut Here, f: &NlbFlow) {
        self.state.resources.nlb_mut(f.lb).processed_bytes += u64::from(self.h.len);
        self.h.dst = IpAddr::V4(f.backend_dst.0);
        self.h.dst_port = f.backend_dst.1;
        self.h.src = IpAddr::V4(f.backend_src.0);
        self.h.src_port = f.backend_src.1;
    }

    #[inline]
    fn nlb_to_client(&mut self, _: &mut Here, f: &NlbFlow) {
        self.state.resources.nlb_mut(f.lb).processed_bytes += u64::from(self.h.len);
        self.h.src = IpAddr::V4(f.frontend.0);
        self.h.src_port = f.frontend.1;
        self.h.dst = IpAddr::V4(f.client.0);
        self.h.dst_port = f.client.1;
    }

    #[inline]
    fn tgw_egress_subnet(
        &mut self,
        p: Here,
        attachment: TgwAttachmentIdx,
        entry_az: Option<u32>,
    ) -> Once<(SubnetIdx, Here)> {
        let s = self.topo.tgw_attachments[attachment].egress_subnet(self.topo, entry_az, &self.h);
        once((s, p))
    }

    #[inline]
    fn gwlb_choose(
        &mut self,
        p: Here,
        lb: GwlbIdx,
        az: u32,
        stickiness: Stickiness,
    ) -> Once<(
        Result<(GwlbTargetGroupIdx, nlb::Choice), nlb::NoTarget>,
        Here,
    )> {
        let hash = gwlb::flow_hash(&self.h, stickiness);
        once((self.topo.gwlb.choose(lb, az, hash), p))
    }

    fn encapsulate(&mut self, _: &mut Here, to: GeneveTo) -> Option<Encapsulation> {
        let hash = gwlb::flow_hash(&self.h, to.stickiness);
        let enc = Encapsulation {
            appliance: to.appliance,
            outer_src: to.node,
            outer_dst: to.target,
            src_port: 1024 + ((hash >> 40) % 64_512) as u16,
            endpoint_id: to.endpoint_id,
            attachment_id: to.attachment_id,
            flow_cookie: hash as u32,
            inner: self.h,
        };
        self.v.geneve = Some(enc);
        self.h = enc.outer_header();
        Some(enc)
    }

    fn turn_around(&mut self, _: &mut Here) {
        self.h = self.h.reply();
    }

    fn decapsulate(&mut self, _: &mut Here) {
        if let Some(enc) = self.v.geneve {
            self.h = enc.inner;
        }
    }

    fn tcp_flags(&self, _: &Here) -> Result<u8, Infallible> {
        Ok(self.h.tcp_flags)
    }

    fn firewall_app(&self, _: &Here) -> Result<Option<AppProtocol>, Infallible> {
        Ok(self.state.firewall.app.protocol())
    }

    fn firewall_content(&self, _: &Here, c: &Content) -> Result<bool, Infallible> {
        Ok(self.state.firewall.app.matches(c))
    }

    fn firewall_flow(
        &mut self,
        p: Here,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
    ) -> Once<(Result<FirewallFlow, Infallible>, Here)> {
        let idle = self.topo.network_firewalls.firewalls[fw].tcp_idle_timeout_s;
        once((
            Ok(self.state.firewall.view(fw, ep, &self.h, self.now, idle)),
            p,
        ))
    }

    fn firewall_custom_action(&mut self, _: &Here, ep: FirewallEndpointIdx, rule: Option<u32>) {
        let firewall = self.topo.network_firewalls.endpoints[ep].firewall;
        self.state.firewall.count_custom(firewall, rule);
    }

    fn firewall_alert(
        &mut self,
        _: &Here,
        ep: FirewallEndpointIdx,
        rule: Option<u32>,
        blocked: bool,
    ) {
        let firewall = self.topo.network_firewalls.endpoints[ep].firewall;
        self.state.firewall.alert(AlertEvent {
            firewall,
            endpoint: ep,
            rule,
            blocked,
            header: self.h,
            at: self.now,
        });
    }

    fn firewall_track(
        &mut self,
        _: &mut Here,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
        passed_by: Option<u32>,
    ) {
        self.state
            .firewall
            .track(fw, ep, &self.h, self.now, passed_by);
    }
}

/// A packet from a client at NAT gateway: its CloudWatch counters, by what the gateway did.
#[inline]
fn count_nat_outbound(
    c: &mut crate::state::resource_metrics::NatGatewayCounters,
    translated: &Result<crate::state::nat::Translation, NatError>,
    len: u16,
) {
    c.packets_in_from_source += 1;
    c.bytes_in_from_source += u64::from(len);
    match translated {
        Ok(t) => {
            if t.new {
                c.connection_attempt_count += 1;
                c.connection_established_count += 1;
            }
            c.packets_out_to_destination += 1;
            c.bytes_out_to_destination += u64::from(len);
        }
        Err(e) => {
            if *e != NatError::NoSession {
                c.connection_attempt_count += 1;
            }
            if *e == NatError::PortsExhausted {
                c.error_port_allocation += 1;
            }
            c.packets_drop_count += 1;
        }
    }
}
