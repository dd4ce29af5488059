//! What a symbolic walk carries besides its set of headers: the packet as a function of the
//! original header ([`Xf`]), and the state its flow created (connection-tracking entries, NAT
//! sessions, load-balanced flows, flow-hash choices).
//!
//! Sets are kept in the coordinates of the packet as it was sent (the *original* header).
//! Address and port translations do not move the set; instead each walk carries an [`Xf`],
//! which says for every field of the packet as it is *now* where its value comes from: an
//! original field, a constant written by a translation, or a port picked from state. A filter on
//! the current packet is turned into a constraint on the original one (its pre-image), which
//! stays a box. This is also what makes replies exact: the reply of each original header is
//! known field by field, so connection tracking and NAT sessions can be matched per flow, not
//! per set.

use super::Class;
use crate::aws::{MAX_FORWARDS, START_TTL};
use crate::pipeline::driver::FlowRoute;
use crate::space::{DIMS, DPORT, DST, SPORT, SRC};
use crate::topology::{GwlbIdx, SubnetIdx, TgwAttachmentIdx};

/// The echo identifier of ICMP echo packets: no dimension of the space (no filter reads it),
/// but connection tracking and NAT sessions key on it, and NAT gateways rewrite it.
pub(crate) const IDENT: usize = DIMS;

/// Where the current value of one header field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Expr {
    /// Original field `dim`, plus a constant (ICMP echo request → reply shifts the type).
    Orig(u8, i64),
    /// Written by a translation (an Elastic IP, a NAT gateway's address).
    Const(u128),
    /// A port (or echo identifier) picked from state for this flow (a NAT gateway's port, a
    /// load balancer's backend port, a GENEVE source port): 1024–65535, so filters that look at
    /// part of that range cannot be decided statically. Two picks are equal only when they are
    /// the same pick.
    Picked(u32),
}

/// The current packet as a function of the original one: one [`Expr`] per dimension plus the
/// echo identifier.
pub(crate) type Xf = [Expr; DIMS + 1];

pub(crate) fn identity() -> Xf {
    [
        Expr::Orig(0, 0),
        Expr::Orig(1, 0),
        Expr::Orig(2, 0),
        Expr::Orig(3, 0),
        Expr::Orig(4, 0),
        Expr::Orig(IDENT as u8, 0),
    ]
}

/// The packet of the other direction of a flow: addresses and ports swapped.
pub(crate) fn swapped(t: &Xf, class: Class) -> Xf {
    let mut r = *t;
    r[SRC] = t[DST];
    r[DST] = t[SRC];
    if class == Class::Ports {
        r[SPORT] = t[DPORT];
        r[DPORT] = t[SPORT];
    }
    r
}

/// A NAT gateway session a flow opened: the packet before and after translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NatSession {
    pub(crate) inside: Xf,
    pub(crate) outside: Xf,
}

/// A flow a Network Load Balancer opened: the client's packet as it reached the node, and the
/// packet it sent the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NlbSession {
    pub(crate) route: FlowRoute,
    pub(crate) client: Xf,
    pub(crate) backend: Xf,
}

/// A flow-hash choice a flow made: who chose, the packet as it was, and what was chosen. The
/// hashes are direction-free, so a later packet with the same flow key (the reply) gets the
/// same answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Choice {
    /// A transit gateway picked the subnet of attachment `.0`.
    TgwZone(TgwAttachmentIdx, Xf, SubnetIdx),
    /// A Gateway Load Balancer picked appliance `.2` of its target group.
    Appliance(GwlbIdx, Xf, u32),
}

/// A walk's packet variables and the state the flow created so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Ctx {
    pub(crate) t: Xf,
    pub(crate) class: Class,
    pub(crate) ttl: u8,
    pub(crate) forwards_left: u8,
    pub(crate) via_appliance: bool,
    /// (zone, packet as it was when the entry was made).
    pub(crate) tracked: Vec<(u32, Xf)>,
    pub(crate) nat: Vec<NatSession>,
    pub(crate) nlb: Vec<NlbSession>,
    pub(crate) choices: Vec<Choice>,
    /// Ports picked from state so far (the next [`Expr::Picked`] number).
    pub(crate) picks: u32,
    /// The packet inside a GENEVE encapsulation, and its class. Boxed: only walks through a
    /// Gateway Load Balancer have one, and every part of every walk moves a context around.
    pub(crate) inner: Option<Box<(Xf, Class)>>,
    /// The walk starts at a class of alike interfaces ([`super::Prepared::classes`]): while it
    /// leaves the first interface, that interface stands for every member.
    pub(crate) origin_class: Option<u32>,
    /// This walk followed every answer of a flow-hash choice: its parts overlap, one per
    /// answer, and only where they agree is the answer known.
    pub(crate) branched: bool,
    /// The walk went through one of the waypoints it was asked about
    /// ([`super::Prepared::walk_via`]).
    pub(crate) passed: Passed,
    /// Network Firewall flows the walk opened, so the reply meets the flow table the request
    /// left, and a packet rewritten since it passed (a hairpin through an internet gateway's
    /// NAT) is a packet of another flow.
    pub(crate) firewall: Vec<FirewallEntry>,
    /// The walk is the reply to a flow (its first packet is no TCP SYN).
    pub(crate) reply: bool,
}

/// A Network Firewall flow a walk opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FirewallEntry {
    pub(crate) firewall: u32,
    /// The endpoint that saw the flow start.
    pub(crate) endpoint: u32,
    /// The packet that opened the flow (client to server), as the endpoint saw it.
    pub(crate) client: Xf,
    /// The `pass` rule that passed the flow.
    pub(crate) passed_by: Option<u32>,
}

/// Whether a walk passed a waypoint. A cell because the driver learns of a hop through a shared
/// reference to the packet (the concrete driver only records it), and the mark must stay with
/// the packet it was made on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Passed(std::cell::Cell<bool>);

impl Passed {
    pub(crate) fn get(&self) -> bool {
        self.0.get()
    }

    pub(crate) fn set(&self) {
        self.0.set(true);
    }
}

impl PartialEq for Passed {
    fn eq(&self, o: &Passed) -> bool {
        self.get() == o.get()
    }
}

impl Eq for Passed {}

impl std::hash::Hash for Passed {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.get().hash(h);
    }
}

impl Ctx {
    pub(crate) fn new(class: Class) -> Ctx {
        Ctx {
            t: identity(),
            class,
            ttl: START_TTL,
            forwards_left: MAX_FORWARDS,
            via_appliance: false,
            tracked: Vec::new(),
            nat: Vec::new(),
            nlb: Vec::new(),
            choices: Vec::new(),
            picks: 0,
            inner: None,
            origin_class: None,
            branched: false,
            passed: Passed::default(),
            firewall: Vec::new(),
            reply: false,
        }
    }

    /// A fresh pick of a port from state.
    pub(crate) fn pick(&mut self) -> Expr {
        self.picks += 1;
        Expr::Picked(self.picks - 1)
    }

    /// The context of the reply to a flow that ended with this context: fields swapped (and
    /// echo requests answered by echo replies, `type_shift` on the type), fresh TTL and
    /// forwarding budget, and the state the request left behind.
    pub(crate) fn reply(&self, type_shift: i64) -> Ctx {
        let mut r = swapped(&self.t, self.class);
        if self.class == Class::Icmp {
            if let Expr::Orig(k, add) = self.t[DPORT] {
                r[DPORT] = Expr::Orig(k, add + type_shift);
            }
        }
        Ctx {
            t: r,
            class: self.class,
            ttl: START_TTL,
            forwards_left: MAX_FORWARDS,
            via_appliance: false,
            tracked: self.tracked.clone(),
            nat: self.nat.clone(),
            nlb: self.nlb.clone(),
            choices: self.choices.clone(),
            picks: self.picks,
            inner: None,
            origin_class: None,
            branched: false,
            passed: Passed::default(),
            firewall: self.firewall.clone(),
            reply: true,
        }
    }

    /// Add what `other` (a context of the same packet) tracked, translated or chose that this
    /// one has not.
    pub(crate) fn absorb(&mut self, other: &Ctx) {
        for f in &other.firewall {
            if !self.firewall.contains(f) {
                self.firewall.push(*f);
            }
        }
        for e in &other.tracked {
            if !self.tracked.contains(e) {
                self.tracked.push(*e);
            }
        }
        for s in &other.nat {
            if !self.nat.contains(s) {
                self.nat.push(*s);
            }
        }
        for s in &other.nlb {
            if !self.nlb.contains(s) {
                self.nlb.push(*s);
            }
        }
        for c in &other.choices {
            if !self.choices.contains(c) {
                self.choices.push(*c);
            }
        }
        self.picks = self.picks.max(other.picks);
        self.branched |= other.branched;
        // Merged parts continue as one: only what both passed is known to be passed by every
        // header of the merge, so a waypoint check stays on the safe side.
        if !other.passed.get() {
            self.passed = Passed::default();
        }
    }
}
