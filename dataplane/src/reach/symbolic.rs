//! The symbolic driver: the stage graph's nodes run over sets of headers. A split cuts the set
//! wherever a table or rule treats headers differently; every part carries its [`Ctx`]; the
//! walk is a worklist of `(part, node)` pairs; ends become [`Part`]s with their [`Fate`].

use super::expr::{swapped, Choice, Ctx, Expr, NatSession, NlbSession, IDENT};
use super::{Class, Fate, Part, Prepared};
use crate::aws::Zone;
use crate::pipeline::driver::{
    AddressMap, Conn, Decided, Driver, Field, FlowRoute, GeneveTo, Opened, Refused, Rules, Seen,
};
use crate::pipeline::{dispatch, Node};
use crate::space::{domain, HBox, HeaderSet, DPORT, DST, PROTO, SPORT, SRC};
use crate::state::conntrack::{TableFull, Tracked};
use crate::state::firewall_flows::FirewallFlow;
use crate::state::nat::NatError;
use crate::topology::gwlb::Stickiness;
use crate::topology::network_firewall::{AppProtocol, Content, FirewallEndpointIdx, FirewallIdx};
use crate::topology::nlb::{self, NoTarget};
use crate::topology::{
    EniIdx, GwlbIdx, GwlbTargetGroupIdx, NatIdx, NlbIdx, ResId, SubnetIdx, TgwAttachmentIdx,
    Topology, VpnConnIdx,
};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};
use crate::wire::geneve::{self, Encapsulation};
use crate::wire::{Family, Header, IpProtocol};
use std::net::IpAddr;

/// Zone of a class of interfaces walked together ([`Prepared::classes`]): an entry made there
/// stands for the entry of whichever member sent the packet, since its key holds that
/// member's address.
pub(super) const ZONE_CLASS: u32 = 0x4000_0000;

/// Why a part depends on a NAT gateway's (or load balancer's) port choice.
pub(super) const PICKED_PORT: &str = "depends on the port the NAT gateway picks";

/// Proof that a part's fate depends on state the analysis does not know.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unsure;

/// A set of original headers walking the graph with its context.
#[derive(Clone, Debug)]
pub(crate) struct Sym {
    pub(crate) set: HeaderSet,
    pub(crate) c: Ctx,
}

/// One walk over a set: a worklist of parts and the node each goes to next.
pub(crate) struct Symbolic<'a, 't> {
    pub(super) p: &'a Prepared<'t>,
    pub(super) fam: Family,
    pub(super) dom: HBox,
    work: Vec<(Sym, Node)>,
    pub(crate) out: Vec<Part>,
    /// Resources a part is marked for passing when a hop names one ([`Prepared::walk_via`]).
    pub(super) waypoints: &'a [ResId],
}

fn dim(field: Field) -> usize {
    match field {
        Field::Src => SRC,
        Field::Dst => DST,
    }
}

impl<'a, 't> Symbolic<'a, 't> {
    pub(crate) fn new(p: &'a Prepared<'t>, fam: Family) -> Symbolic<'a, 't> {
        Symbolic {
            p,
            fam,
            dom: domain(fam),
            work: Vec::new(),
            out: Vec::new(),
            waypoints: &[],
        }
    }

    /// Walk `set` from `start` until every part has ended.
    pub(crate) fn run(&mut self, start: Node, set: HeaderSet, c: Ctx) {
        if set.is_empty() {
            return;
        }
        self.work.push((Sym { set, c }, start));
        while let Some((p, node)) = self.work.pop() {
            dispatch(self, p, node);
        }
    }

    pub(super) fn emit(&mut self, p: Sym, fate: Fate) {
        if !p.set.is_empty() {
            self.out.push(Part {
                set: p.set,
                fate,
                ctx: p.c,
            });
        }
    }

    /// Report `set` as not analysed, for `why`; nothing when it is empty (the common case,
    /// so neither the context nor the text is copied then).
    pub(super) fn not_analysed(&mut self, set: HeaderSet, c: &Ctx, why: &str) {
        if !set.is_empty() {
            self.emit(Self::part(set, c), Fate::NotAnalysed(why.into()));
        }
    }

    pub(super) fn part(set: HeaderSet, c: &Ctx) -> Sym {
        Sym { set, c: c.clone() }
    }

    // ----- pre-images ---------------------------------------------------------------------

    // ----- field equality (connection tracking, sessions) ---------------------------------
}

impl<'t> Driver<'t> for Symbolic<'_, 't> {
    type Packet = Sym;
    type Split<K> = std::vec::IntoIter<(K, Sym)>;
    type Undecided = Unsure;
    type NlbFlow = NlbHandle;
    const TRACING: bool = false;

    fn topo(&self) -> &'t Topology {
        self.p.topo
    }

    fn family(&self, _: &Sym) -> Family {
        self.fam
    }

    fn header_now(&self, _: &Sym) -> Option<Header> {
        None
    }

    fn next(&mut self, mut p: Sym, node: Node) {
        if p.set.is_empty() {
            return;
        }
        p.c.origin_class = None;
        self.work.push((p, node));
    }

    fn deliver(&mut self, mut p: Sym, to: ResId, eni: Option<EniIdx>) {
        p.c.origin_class = None;
        self.emit(p, Fate::Delivered { to, eni });
    }

    fn exit(&mut self, mut p: Sym, via: ResId, vpn: Option<VpnConnIdx>) {
        p.c.origin_class = None;
        self.emit(p, Fate::Exited { via, vpn });
    }

    fn drop(
        &mut self,
        mut p: Sym,
        reason: DropReason,
        at: ResId,
        _: Stage,
        _: Option<String>,
        _: impl FnOnce(&Header) -> String,
    ) {
        p.c.origin_class = None;
        self.emit(p, Fate::Dropped { reason, at });
    }

    fn undecided(&mut self, mut p: Sym, _: Unsure, why: &'static str) {
        p.c.origin_class = None;
        self.emit(p, Fate::NotAnalysed(why.into()));
    }

    fn merge(&mut self, mut a: Sym, b: Sym) -> Sym {
        a.set.extend_disjoint(b.set);
        a.c.absorb(&b.c);
        a
    }

    fn hop(
        &mut self,
        p: &Sym,
        at: ResId,
        _: Stage,
        _: Action,
        _: Option<String>,
        _: impl FnOnce(&Header) -> String,
    ) {
        if self.waypoints.contains(&at) {
            p.c.passed.set();
        }
    }

    fn observe(&mut self, _: &Sym, _: EniIdx, _: FlowDirection, _: FlowAction) {}

    fn via_appliance(&self, p: &Sym) -> bool {
        p.c.via_appliance
    }

    fn set_via_appliance(&mut self, p: &mut Sym) {
        p.c.via_appliance = true;
    }

    fn spend_forward(&mut self, p: &mut Sym) -> bool {
        if p.c.forwards_left == 0 {
            return false;
        }
        p.c.forwards_left -= 1;
        true
    }

    fn ttl_expired(&self, p: &Sym) -> bool {
        p.c.ttl <= 1
    }

    fn decrement_ttl(&mut self, p: &mut Sym) {
        p.c.ttl -= 1;
    }

    fn fragmented(&self, _: &Sym) -> bool {
        // The analysis is of a flow's first packet, unfragmented.
        false
    }

    fn longer_than(&self, _: &Sym, _: u32) -> bool {
        // First packets (SYN, a datagram, an echo request) are taken to be small.
        false
    }

    fn split<M: AddressMap>(
        &mut self,
        p: Sym,
        field: Field,
        map: &M,
    ) -> std::vec::IntoIter<(Option<M::Key>, Sym)> {
        let (segs, keys) = map.segments(self.fam);
        let (parts, rest) = self.partition(&p.set, p.c.t[dim(field)], &segs, keys);
        let mut out = Vec::new();
        for (n, set) in parts.into_iter().enumerate() {
            if !set.is_empty() {
                out.push((Some(map.key(n)), Self::part(set, &p.c)));
            }
        }
        if !rest.is_empty() {
            out.push((None, Sym { set: rest, c: p.c }));
        }
        out.into_iter()
    }

    fn split_rules<R: Rules>(
        &mut self,
        p: Sym,
        rules: &R,
    ) -> std::vec::IntoIter<(Option<R::Key>, Sym)> {
        let mut out: Vec<(Option<R::Key>, Sym)> = Vec::new();
        let rest = self.first_match(&p, rules, |k, set| {
            out.push((Some(k), Self::part(set, &p.c)))
        });
        if !rest.is_empty() {
            out.push((None, Sym { set: rest, c: p.c }));
        }
        out.into_iter()
    }

    fn decide<R: Rules>(&mut self, p: Sym, rules: &R) -> Decided<Sym, R::Key> {
        let mut pass = HeaderSet::new();
        let mut fail = HeaderSet::new();
        let rest = self.first_match(&p, rules, |k, set| {
            if R::passes(Some(k)) {
                pass.extend_disjoint(set);
            } else {
                fail.extend_disjoint(set);
            }
        });
        if R::passes(None) {
            pass.extend_disjoint(rest);
        } else {
            fail.extend_disjoint(rest);
        }
        pass.coalesce();
        // The context is copied only when both sides have packets.
        let fail = (!fail.is_empty()).then(|| (Self::part(fail, &p.c), None));
        let pass = (!pass.is_empty()).then_some((Sym { set: pass, c: p.c }, None));
        Decided { pass, fail }
    }

    fn sent_by(&mut self, p: Sym, eni: EniIdx) -> (Option<Sym>, Option<Sym>) {
        let (owned, rest) = self.owned(&p.set, &p.c, SRC, eni);
        let rest = (!rest.is_empty()).then(|| Self::part(rest, &p.c));
        let owned = (!owned.is_empty()).then_some(Sym { set: owned, c: p.c });
        (owned, rest)
    }

    fn senders(&mut self, p: Sym, eni: EniIdx) -> std::vec::IntoIter<(EniIdx, Sym)> {
        let Some(k) = self.class_of_walk(&p.c, eni) else {
            return vec![(eni, p)].into_iter();
        };
        let mut out = Vec::new();
        let mut rest = p.set.clone();
        for &m in &self.p.classes[k as usize] {
            let (mine, r) = self.split_own(&rest, p.c.t[SRC], m);
            if !mine.is_empty() {
                out.push((m, Self::part(mine, &p.c)));
            }
            rest = r;
        }
        if !rest.is_empty() {
            out.push((eni, Sym { set: rest, c: p.c }));
        }
        out.into_iter()
    }

    fn write_addr(&mut self, p: &mut Sym, field: Field, a: IpAddr) {
        p.c.t[dim(field)] = Expr::Const(Family::bits(a));
    }

    fn conntrack(
        &mut self,
        p: Sym,
        zone: Zone,
        _: bool,
    ) -> std::vec::IntoIter<(Option<Conn<Unsure>>, Sym)> {
        let zone = self.zone_id(&p.c, zone);
        let l = self.lookup(&p.set, &p.c, zone);
        let mut rest = p.set;
        let mut out = Vec::new();
        for (k, set) in [
            (Conn::Tracked(Tracked::Initiator), l.initiator),
            (Conn::Tracked(Tracked::Reply), l.reply),
            (Conn::TrackedEitherSide(Unsure), l.either),
            (Conn::Unknown(Unsure), l.unknown),
        ] {
            // Most parts meet no tracked connection: then nothing is subtracted or copied.
            if !set.is_empty() {
                rest = rest.subtract(&set);
                out.push((Some(k), Self::part(set, &p.c)));
            }
        }
        if !rest.is_empty() {
            out.push((None, Sym { set: rest, c: p.c }));
        }
        out.into_iter()
    }

    fn track(&mut self, p: &mut Sym, zone: Zone) -> Result<(), TableFull> {
        // A fresh table always has room.
        let zone = self.zone_id(&p.c, zone);
        let entry = (zone, p.c.t);
        if !p.c.tracked.contains(&entry) {
            p.c.tracked.push(entry);
        }
        Ok(())
    }

    fn nat_outbound(&mut self, p: &mut Sym, n: NatIdx) -> Result<bool, NatError> {
        // A fresh table always has room: the primary address, a port of the gateway's choice.
        let nat = &self.p.topo.nat_gateways[n];
        let addr = nat.addresses.first().ok_or(NatError::PortsExhausted)?;
        let inside = p.c.t;
        p.c.t[SRC] = Expr::Const(addr.to_bits() as u128);
        let port = p.c.pick();
        match p.c.class {
            Class::Ports => p.c.t[SPORT] = port,
            _ => p.c.t[IDENT] = port,
        }
        p.c.nat.push(NatSession {
            inside,
            outside: p.c.t,
        });
        Ok(true)
    }

    fn nat_inbound(&mut self, p: Sym, _: NatIdx) -> std::vec::IntoIter<(bool, Sym)> {
        let c = &p.c;
        let mut out = Vec::new();
        let mut rest = p.set.clone();
        for sess in &c.nat {
            if rest.is_empty() {
                break;
            }
            let o = &sess.outside;
            let mut pairs = vec![(c.t[DST], o[SRC]), (c.t[SRC], o[DST])];
            match c.class {
                Class::Ports => {
                    pairs.push((c.t[DPORT], o[SPORT]));
                    pairs.push((c.t[SPORT], o[DPORT]));
                }
                _ => pairs.push((c.t[IDENT], o[IDENT])),
            }
            let (m, u) = self.all_same(&rest, &pairs);
            rest = rest.subtract(&m).subtract(&u);
            self.not_analysed(u, c, "depends on the NAT gateway's translation table");
            if m.is_empty() {
                continue;
            }
            let mut c2 = c.clone();
            c2.t[DST] = sess.inside[SRC];
            match c.class {
                Class::Ports => c2.t[DPORT] = sess.inside[SPORT],
                _ => c2.t[IDENT] = sess.inside[IDENT],
            }
            out.push((true, Sym { set: m, c: c2 }));
        }
        if !rest.is_empty() {
            out.push((false, Sym { set: rest, c: p.c }));
        }
        out.into_iter()
    }

    fn nlb_prefetch(&self, _: &Sym) {}

    fn nlb_find(
        &mut self,
        p: Sym,
        _: EniIdx,
    ) -> std::vec::IntoIter<(Option<Seen<NlbHandle>>, Sym)> {
        let mut out = Vec::new();
        let mut rest = p.set.clone();
        for (i, f) in p.c.nlb.iter().enumerate() {
            if rest.is_empty() {
                break;
            }
            let handle = NlbHandle {
                session: i as u32,
                route: f.route,
            };
            // The legs are exact (not direction-free): the client's packet goes as it went,
            // the target's reply the other way from the packet the target received.
            for (leg, back, seen) in [
                (&f.client, false, Seen::Client(handle)),
                (&f.backend, true, Seen::Reply(handle)),
            ] {
                let (m, u) = self.key_match(&rest, &p.c.t, leg, p.c.class, &[back]);
                rest = rest.subtract(&m).subtract(&u);
                self.not_analysed(u, &p.c, PICKED_PORT);
                if !m.is_empty() {
                    out.push((Some(seen), Self::part(m, &p.c)));
                }
            }
        }
        if !rest.is_empty() {
            out.push((None, Sym { set: rest, c: p.c }));
        }
        out.into_iter()
    }

    fn nlb_open(
        &mut self,
        p: Sym,
        lb: NlbIdx,
        listener: u32,
        node: EniIdx,
    ) -> std::vec::IntoIter<(Result<Opened<NlbHandle>, Refused>, Sym)> {
        let topo = self.p.topo;
        let l = &topo.nlb.load_balancers[lb].listeners[listener as usize];
        let tg = l.target_group;
        let g = &topo.nlb.target_groups[tg];
        let az = topo.subnet_of(node).az;
        let choices = match topo.nlb.every_choice(tg, az, topo.nlb.cross_zone(lb, tg)) {
            Ok(c) if self.fam == Family::V4 => c,
            Ok(_) => {
                return vec![(Err(Refused::NoTarget(NoTarget::NoneRegistered)), p)].into_iter()
            }
            Err(why) => return vec![(Err(Refused::NoTarget(why)), p)].into_iter(),
        };
        let node_addr = topo.enis[node].primary_v4();
        let branch = choices.len() > 1;
        let mut out = Vec::new();
        for choice in choices {
            let t = &g.targets[choice.target as usize];
            let (IpAddr::V4(addr), Some(node_addr)) = (t.addr, node_addr) else {
                out.push((Err(Refused::NoTarget(NoTarget::NoneRegistered)), p.clone()));
                continue;
            };
            let mut c = p.c.clone();
            c.branched |= branch;
            let route = FlowRoute {
                lb,
                node,
                listener,
                target_group: tg,
                target: choice.target,
                preserves_client_ip: g.preserve_client_ip,
            };
            let mut backend = c.t;
            backend[DST] = Expr::Const(addr.to_bits() as u128);
            backend[DPORT] = Expr::Const(t.port as u128);
            if !g.preserve_client_ip {
                backend[SRC] = Expr::Const(node_addr.to_bits() as u128);
                backend[SPORT] = c.pick();
            }
            c.nlb.push(NlbSession {
                route,
                client: c.t,
                backend,
            });
            let flow = NlbHandle {
                session: c.nlb.len() as u32 - 1,
                route,
            };
            out.push((
                Ok(Opened { flow, choice }),
                Sym {
                    set: p.set.clone(),
                    c,
                },
            ));
        }
        out.into_iter()
    }

    fn nlb_reply_of(&mut self, p: Sym, _: EniIdx) -> std::vec::IntoIter<(Option<NlbHandle>, Sym)> {
        let mut out = Vec::new();
        let mut rest = p.set.clone();
        for (i, f) in p.c.nlb.iter().enumerate() {
            if rest.is_empty() || !f.route.preserves_client_ip {
                continue;
            }
            let (m, u) = self.key_match(&rest, &p.c.t, &f.backend, p.c.class, &[true]);
            rest = rest.subtract(&m).subtract(&u);
            self.not_analysed(u, &p.c, PICKED_PORT);
            if !m.is_empty() {
                let handle = NlbHandle {
                    session: i as u32,
                    route: f.route,
                };
                out.push((Some(handle), Self::part(m, &p.c)));
            }
        }
        if !rest.is_empty() {
            out.push((None, Sym { set: rest, c: p.c }));
        }
        out.into_iter()
    }

    fn nlb_route(&self, f: &NlbHandle) -> FlowRoute {
        f.route
    }

    fn nlb_to_target(&mut self, p: &mut Sym, f: &NlbHandle) {
        let b = p.c.nlb[f.session as usize].backend;
        for d in [SRC, DST, SPORT, DPORT] {
            p.c.t[d] = b[d];
        }
    }

    fn nlb_to_client(&mut self, p: &mut Sym, f: &NlbHandle) {
        let back = swapped(&p.c.nlb[f.session as usize].client, Class::Ports);
        for d in [SRC, DST, SPORT, DPORT] {
            p.c.t[d] = back[d];
        }
    }

    fn tgw_egress_subnet(
        &mut self,
        p: Sym,
        b: TgwAttachmentIdx,
        entry_az: Option<u32>,
    ) -> std::vec::IntoIter<(SubnetIdx, Sym)> {
        let topo = self.p.topo;
        let to = &topo.tgw_attachments[b];
        if !to.appliance_mode {
            if let Some(sub) = entry_az.and_then(|az| to.subnet_in(topo, az)) {
                return vec![(sub, p)].into_iter();
            }
        }
        match to.subnets.as_slice() {
            [] => {
                self.undecided(p, Unsure, "transit gateway attachment without subnets");
                return Vec::new().into_iter();
            }
            [only] => return vec![(*only, p)].into_iter(),
            _ => {}
        }
        let mut out = Vec::new();
        let mut rest = p.set.clone();
        // The flow already made this choice (the request of a reply): the hash is
        // direction-free, so the same zone.
        for choice in &p.c.choices {
            let Choice::TgwZone(att, xf, sub) = choice else {
                continue;
            };
            if *att != b || rest.is_empty() {
                continue;
            }
            let (same, _) = self.key_match(&rest, &p.c.t, xf, p.c.class, &[false, true]);
            if !same.is_empty() {
                rest = rest.subtract(&same);
                out.push((*sub, Self::part(same, &p.c)));
            }
        }
        if !rest.is_empty() {
            for &sub in &to.subnets {
                let mut c = p.c.clone();
                c.branched = true;
                c.choices.push(Choice::TgwZone(b, p.c.t, sub));
                out.push((
                    sub,
                    Sym {
                        set: rest.clone(),
                        c,
                    },
                ));
            }
        }
        out.into_iter()
    }

    fn gwlb_choose(
        &mut self,
        p: Sym,
        lb: GwlbIdx,
        az: u32,
        _: Stickiness,
    ) -> std::vec::IntoIter<(Result<(GwlbTargetGroupIdx, nlb::Choice), NoTarget>, Sym)> {
        let (tg, choices) = match self.p.topo.gwlb.every_choice(lb, az) {
            Ok(c) => c,
            Err(why) => return vec![(Err(why), p)].into_iter(),
        };
        let mut out = Vec::new();
        let mut rest = p.set.clone();
        // The hash is symmetric: a reply goes to the appliance its request went to.
        for choice in &p.c.choices {
            let Choice::Appliance(l, xf, target) = choice else {
                continue;
            };
            if *l != lb || rest.is_empty() {
                continue;
            }
            let (same, _) = self.key_match(&rest, &p.c.t, xf, p.c.class, &[false, true]);
            if let Some(c) = choices.iter().find(|c| c.target == *target) {
                if !same.is_empty() {
                    rest = rest.subtract(&same);
                    out.push((Ok((tg, *c)), Self::part(same, &p.c)));
                }
            }
        }
        if !rest.is_empty() {
            let branch = choices.len() > 1;
            for choice in choices {
                let mut c = p.c.clone();
                c.branched |= branch;
                c.choices.push(Choice::Appliance(lb, p.c.t, choice.target));
                out.push((
                    Ok((tg, choice)),
                    Sym {
                        set: rest.clone(),
                        c,
                    },
                ));
            }
        }
        out.into_iter()
    }

    fn encapsulate(&mut self, p: &mut Sym, to: GeneveTo) -> Option<Encapsulation> {
        let c = &mut p.c;
        c.inner = Some(Box::new((c.t, c.class)));
        let sport = c.pick();
        c.t[SRC] = Expr::Const(to.node.to_bits() as u128);
        c.t[DST] = Expr::Const(to.target.to_bits() as u128);
        c.t[PROTO] = Expr::Const(IpProtocol::UDP.0 as u128);
        c.t[SPORT] = sport;
        c.t[DPORT] = Expr::Const(geneve::PORT as u128);
        c.class = Class::Ports;
        None
    }

    fn turn_around(&mut self, p: &mut Sym) {
        p.c.t = swapped(&p.c.t, p.c.class);
    }

    fn decapsulate(&mut self, p: &mut Sym) {
        if let Some(inner) = p.c.inner.take() {
            let (t, class) = *inner;
            p.c.t = t;
            p.c.class = class;
        }
    }

    fn tcp_flags(&self, _: &Sym) -> Result<u8, Unsure> {
        Err(Unsure)
    }

    fn firewall_app(&self, _: &Sym) -> Result<Option<AppProtocol>, Unsure> {
        Err(Unsure)
    }

    fn firewall_content(&self, _: &Sym, _: &Content) -> Result<bool, Unsure> {
        Err(Unsure)
    }

    fn firewall_flow(
        &mut self,
        p: Sym,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
    ) -> std::vec::IntoIter<(Result<FirewallFlow, Unsure>, Sym)> {
        self.firewall_parts(p, fw, ep).into_iter()
    }

    fn firewall_custom_action(&mut self, _: &Sym, _: FirewallEndpointIdx, _: Option<u32>) {}

    fn firewall_alert(&mut self, _: &Sym, _: FirewallEndpointIdx, _: Option<u32>, _: bool) {}

    fn firewall_track(
        &mut self,
        p: &mut Sym,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
        passed_by: Option<u32>,
    ) {
        super::firewall_flow::track(&mut p.c, fw, ep, passed_by);
    }
}

/// The symbolic driver's handle of a load-balanced flow: its session in the walk's context.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NlbHandle {
    session: u32,
    route: FlowRoute,
}
