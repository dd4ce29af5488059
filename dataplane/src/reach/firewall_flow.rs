//! What a Network Firewall endpoint's flow table holds for a symbolic walk (SPEC §20.1): the
//! entries the walk (or the request it answers) made, matched by flow key like the concrete
//! table does. A packet rewritten since it passed a firewall (an internet gateway's 1:1 NAT
//! on a hairpin) has another flow key there: it is a packet of a flow the endpoint never saw
//! start, not the reply of the recorded one.

use super::expr::{swapped, Ctx, Expr, FirewallEntry};
use super::symbolic::{Sym, Symbolic, Unsure};
use crate::space::{HeaderSet, PROTO};
use crate::state::firewall_flows::FirewallFlow;
use crate::topology::network_firewall::{FirewallEndpointIdx, FirewallIdx, RuleOrder};
use crate::wire::IpProtocol;

type Parts = Vec<(Result<FirewallFlow, Unsure>, Sym)>;

impl Symbolic<'_, '_> {
    /// The walk's set split by what endpoint `ep` of firewall `fw` knows of each part's flow.
    pub(super) fn firewall_parts(&self, p: Sym, fw: FirewallIdx, ep: FirewallEndpointIdx) -> Parts {
        let Sym { set, c } = p;
        let mut rest = set;
        let mut out = Vec::new();
        for e in c.firewall.iter().filter(|e| e.firewall == fw.0) {
            // The client's orientation first: a flow key equal both ways is the client's.
            for back in [false, true] {
                if rest.is_empty() {
                    break;
                }
                let (proto, proto_unsure) = self.all_same(&rest, &[(c.t[PROTO], e.client[PROTO])]);
                let (m, u) = self.key_match(&proto, &c.t, &e.client, c.class, &[back]);
                let m_parts = self.entry_flow(m, &c, e, back, ep);
                let unsure = if proto_unsure.is_empty() {
                    u
                } else {
                    proto_unsure.union(&u)
                };
                if !unsure.is_empty() {
                    rest = rest.subtract(&unsure);
                    // Whether the key is the entry's may not be a box of headers (a source port
                    // equal to the destination port); where both answers make the firewall
                    // judge alike, it does not matter. Not so for a reply meeting its own flow
                    // again: it finds it established (UDP), which the entries do not record.
                    let only = c.firewall.iter().filter(|o| o.firewall == fw.0).count() == 1
                        && !(c.reply && self.reads_established(fw))
                        && (back || {
                            let (m, u) = self.key_match(&unsure, &c.t, &e.client, c.class, &[true]);
                            m.is_empty() && u.is_empty()
                        });
                    let matched = self.entry_flow(unsure.clone(), &c, e, back, ep);
                    let mut fresh = Vec::new();
                    self.new_flow(&mut fresh, unsure, &c, None);
                    for (n, part) in fresh {
                        let same = only
                            && matched.iter().all(|(f, q)| {
                                q.set.intersect(&part.set).is_empty()
                                    || matches!((f, &n), (Ok(a), Ok(b)) if self.alike(fw, a, b))
                            });
                        out.push((if same { n } else { Err(Unsure) }, part));
                    }
                }
                for (flow, part) in m_parts {
                    rest = rest.subtract(&part.set);
                    out.push((flow, part));
                }
            }
        }
        if !rest.is_empty() {
            self.new_flow(&mut out, rest, &c, None);
        }
        out
    }

    /// What endpoint `ep` knows of a part whose flow key is entry `e`'s (`back`: the packet goes
    /// from the entry's server to its client).
    fn entry_flow(
        &self,
        m: HeaderSet,
        c: &Ctx,
        e: &FirewallEntry,
        back: bool,
        ep: FirewallEndpointIdx,
    ) -> Parts {
        let mut out = Vec::new();
        if m.is_empty() {
            return out;
        }
        if e.endpoint == ep.0 {
            let flow = FirewallFlow {
                to_server: !back,
                passed_by: e.passed_by,
                ..FirewallFlow::OPENING
            };
            out.push((Ok(flow), Self::part(m, c)));
        } else {
            // Asymmetric routing: another endpoint saw the flow start.
            self.new_flow(&mut out, m, c, Some(FirewallEndpointIdx(e.endpoint)));
        }
        out
    }

    /// Whether firewall `fw` judges a packet alike under both views of its flow: the same
    /// midstream and pass state, and direction and establishment alike wherever a rule or a
    /// default action reads them.
    fn alike(&self, fw: FirewallIdx, a: &FirewallFlow, b: &FirewallFlow) -> bool {
        let f = &self.p.topo.network_firewalls.firewalls[fw];
        let strict = f.order == RuleOrder::StrictOrder;
        let d = f.defaults;
        let reads_direction = (strict && d.drop_established && !d.drop_strict)
            || f.stateful.iter().any(|r| r.flow.to_server.is_some());
        a.midstream == b.midstream
            && a.passed_by == b.passed_by
            && (a.to_server == b.to_server || !reads_direction)
            && (a.established == b.established || !self.reads_established(fw))
    }

    /// Whether a rule or a default action of firewall `fw` reads whether the flow is
    /// established.
    fn reads_established(&self, fw: FirewallIdx) -> bool {
        let f = &self.p.topo.network_firewalls.firewalls[fw];
        let d = f.defaults;
        (f.order == RuleOrder::StrictOrder && (d.drop_established || d.alert_established))
            || f.stateful.iter().any(|r| r.flow.established.is_some())
    }

    /// A part of a flow the endpoint never saw start. A request walk's first packet opens it
    /// (a TCP SYN, or any other protocol's packet); a reply's first TCP packet (the SYN-ACK) is
    /// a midstream packet there, other protocols' open a new flow.
    fn new_flow(
        &self,
        out: &mut Parts,
        set: HeaderSet,
        c: &Ctx,
        seen_at: Option<FirewallEndpointIdx>,
    ) {
        let opening = FirewallFlow {
            seen_at,
            ..FirewallFlow::OPENING
        };
        if !c.reply {
            out.push((Ok(opening), Self::part(set, c)));
            return;
        }
        let tcp = Expr::Const(IpProtocol::TCP.0 as u128);
        let (sure, unsure) = self.all_same(&set, &[(c.t[PROTO], tcp)]);
        let other = set.subtract(&sure).subtract(&unsure);
        let midstream = FirewallFlow {
            midstream: true,
            ..opening
        };
        for (flow, part) in [
            (Ok(midstream), sure),
            (Err(Unsure), unsure),
            (Ok(opening), other),
        ] {
            if !part.is_empty() {
                out.push((flow, Self::part(part, c)));
            }
        }
    }
}

/// Remember that endpoint `ep` of firewall `fw` let the walk's packet `c.t` through, as the
/// concrete table does: an entry of the same flow key at the same endpoint is updated, one at
/// another endpoint is replaced, and otherwise the packet opens a new one.
pub(super) fn track(c: &mut Ctx, fw: FirewallIdx, ep: FirewallEndpointIdx, passed_by: Option<u32>) {
    let back = swapped(&c.t, c.class);
    let entry = FirewallEntry {
        firewall: fw.0,
        endpoint: ep.0,
        client: c.t,
        passed_by,
    };
    let same_key =
        |e: &&mut FirewallEntry| e.firewall == fw.0 && (e.client == c.t || e.client == back);
    match c.firewall.iter_mut().find(same_key) {
        Some(e) if e.endpoint == ep.0 => e.passed_by = e.passed_by.or(passed_by),
        Some(e) => *e = entry,
        None => c.firewall.push(entry),
    }
}
