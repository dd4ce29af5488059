//! What a Network Firewall endpoint's flow table holds for a symbolic walk (SPEC §20.1): the
//! entries the walk (or the request it answers) made, matched by flow key like the concrete
//! table does. A packet rewritten since it passed a firewall (an internet gateway's 1:1 NAT
//! on a hairpin) has another flow key there: it is a packet of a flow the endpoint never saw
//! start, not the reply of the recorded one.

use super::expr::{swapped, Ctx, Expr, FirewallEntry};
use super::symbolic::{Sym, Symbolic, Unsure};
use crate::space::{HeaderSet, PROTO};
use crate::state::firewall_flows::FirewallFlow;
use crate::topology::network_firewall::{FirewallEndpointIdx, FirewallIdx};
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
                for unsure in [proto_unsure, u] {
                    if !unsure.is_empty() {
                        rest = rest.subtract(&unsure);
                        out.push((Err(Unsure), Self::part(unsure, &c)));
                    }
                }
                if m.is_empty() {
                    continue;
                }
                rest = rest.subtract(&m);
                if e.endpoint == ep.0 {
                    let flow = FirewallFlow {
                        to_server: !back,
                        passed_by: e.passed_by,
                        ..FirewallFlow::OPENING
                    };
                    out.push((Ok(flow), Self::part(m, &c)));
                } else {
                    // Asymmetric routing: another endpoint saw the flow start.
                    self.new_flow(&mut out, m, &c, Some(FirewallEndpointIdx(e.endpoint)));
                }
            }
        }
        if !rest.is_empty() {
            self.new_flow(&mut out, rest, &c, None);
        }
        out
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
