//! A request and its reply: the one driver `trace --return`, `report`, health checks and the
//! tests share, so they all start the reply where AWS would.

use crate::pipeline::{process_header, Origin};
use crate::state::State;
use crate::topology::Topology;
use crate::trace::Tracer;
use crate::verdict::{Disposition, Verdict};
use crate::wire::Frag;
use crate::wire::{Header, Timestamp};

/// How long after the request its reply is sent: long enough to be a different instant, far
/// below every idle timeout.
pub const REPLY_DELAY_NS: u64 = 1_000_000;

/// A request and, unless it was dropped, its reply through the state the request created.
#[derive(Clone, Debug)]
pub struct Exchange<T> {
    /// The request's verdict.
    pub request: Verdict,
    /// What the tracer recorded for the request.
    pub request_trace: T,
    /// The reply's verdict and trace: `None` when the request was dropped, or when a link-local
    /// service answered it (that reply is not filtered).
    pub reply: Option<(Verdict, T)>,
}

impl Verdict {
    /// Where the reply to this packet starts: at the interface it was delivered to, on-premises
    /// behind the VPN connection it left through, or on the internet it exited to. `None` for a
    /// dropped packet and for one a link-local service answered on the host.
    pub fn reply_origin(&self) -> Option<Origin> {
        match self.disposition {
            Disposition::Dropped => None,
            Disposition::Delivered => self.delivered_eni.map(Origin::Eni),
            Disposition::Exited => Some(self.egress_vpn.map_or(Origin::Internet, Origin::OnPrem)),
        }
    }
}

/// Push `header` from `origin` at `now`, then its reply (addresses and ports swapped, echo
/// request answered by echo reply) from where the request ended, [`REPLY_DELAY_NS`] later.
pub fn exchange<T: Tracer + Default>(
    topo: &Topology,
    state: &mut State,
    header: Header,
    origin: Origin,
    now: Timestamp,
) -> Exchange<T> {
    let mut request_trace = T::default();
    let request = process_header(
        topo,
        state,
        header,
        Frag::None,
        origin,
        now,
        &mut request_trace,
    );
    let reply = request.reply_origin().map(|back| {
        let mut t = T::default();
        let v = process_header(
            topo,
            state,
            request.header.reply(),
            Frag::None,
            back,
            Timestamp(now.0 + REPLY_DELAY_NS),
            &mut t,
        );
        (v, t)
    });
    Exchange {
        request,
        request_trace,
        reply,
    }
}
