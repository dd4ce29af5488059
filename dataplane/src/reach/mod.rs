//! All-flows reachability: what the pipeline does to *every* header at once.
//!
//! [`Prepared::analyse`] runs the nodes of the stage graph ([`crate::pipeline`]) with the
//! symbolic driver over a set of headers (a [`HeaderSet`], header-space analysis: unions of
//! boxes over source/destination address, protocol and ports), splitting it wherever a route,
//! rule or translation treats headers differently, and returns every part with its [`Fate`]:
//! delivered, exited, or dropped with the pipeline's reason and resource. For the parts that
//! arrive it then walks their replies (the same headers, swapped, through the state the request
//! left: connection tracking, NAT sessions, load-balanced flows) so stateless NACLs that deny
//! replies show up. Nothing is sampled: the answer is exact for the first packet of every flow
//! (a TCP SYN, a UDP datagram, an ICMP message, unfragmented, TTL 64) and its reply, on a fresh
//! state. Where the pipeline picks by flow hash (a transit gateway's zone with appliance mode, a
//! load balancer's target or appliance) the walk follows every answer: a header whose answers
//! agree has that fate; one whose answers differ has the [`Fate`] of each answer
//! ([`Fate::OneOf`]). What depends on state the static topology does not determine (the
//! port a NAT gateway picks, when a filter looks at part of its range; packets that might match
//! a connection they opened themselves) is reported as [`Fate::NotAnalysed`], never guessed.
//!
//! [`matrix`] computes every pair of interfaces of a topology at once, by grouping interfaces
//! that no route, rule or address range tells apart.

mod analysis;
mod expr;
mod firewall_flow;
mod match_key;
mod matrix;
mod sets;
mod symbolic;

pub use crate::space::{HBox, HeaderSet, Point, DIMS, DPORT, DST, PROTO, SPORT, SRC};
pub use crate::wire::Family;
pub use analysis::{one_of, Analysis, Outcome, Replies, Summary, HASH_DEPENDENT};
pub use matrix::{matrix, sources, Endpoint, Matrix};

use crate::aws;
use crate::pipeline::{Node, Origin};
use crate::topology::{
    EniIdx, EniKind, ResId, SgIdx, SubnetIdx, Table, TgwAttachmentIdx, Topology, VpnConnIdx,
};
use crate::verdict::DropReason;
use crate::wire::{Header, IpProtocol};
use expr::Ctx;
use std::collections::HashMap;
use symbolic::Symbolic;

/// Protocols the stages treat alike: ports (TCP, UDP), ICMP (ICMP, ICMPv6: type and code), and
/// the rest (no ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// TCP and UDP: both port dimensions are ports.
    Ports,
    /// ICMP and ICMPv6: the destination-port dimension holds `type * 256 + code`, the source port
    /// is 0.
    Icmp,
    /// Every other protocol: both port dimensions are 0.
    Other,
}

impl Class {
    /// Every class.
    pub const ALL: [Class; 3] = [Class::Ports, Class::Icmp, Class::Other];

    /// The class of a protocol.
    pub fn of(proto: IpProtocol) -> Class {
        match proto {
            IpProtocol::TCP | IpProtocol::UDP => Class::Ports,
            IpProtocol::ICMP | IpProtocol::ICMPV6 => Class::Icmp,
            _ => Class::Other,
        }
    }

    /// The class's headers in the family, all addresses: TCP and UDP with every port, ICMP
    /// with every type and code (in the destination-port dimension), others with ports 0.
    pub fn universe(self, fam: Family) -> HeaderSet {
        let d = crate::space::domain(fam);
        let protos: &[(u128, u128)] = match self {
            Class::Ports => &[(6, 6), (17, 17)],
            Class::Icmp => &[(1, 1), (58, 58)],
            Class::Other => &[(0, 0), (2, 5), (7, 16), (18, 57), (59, 255)],
        };
        let (sport, dport) = match self {
            Class::Ports => ((0, 0xffff), (0, 0xffff)),
            Class::Icmp => ((0, 0), (0, 0xffff)),
            Class::Other => ((0, 0), (0, 0)),
        };
        HeaderSet::from_boxes(protos.iter().filter_map(|&(lo, hi)| {
            HBox::new([d.range(SRC), d.range(DST), (lo, hi), sport, dport])
        }))
    }
}

/// Every header of a family.
pub fn universe(fam: Family) -> HeaderSet {
    let mut s = HeaderSet::new();
    for c in Class::ALL {
        s.extend_disjoint(c.universe(fam));
    }
    s
}

/// The headers of one protocol (`None`: all), every address and port.
pub fn protocol(fam: Family, proto: Option<IpProtocol>) -> HeaderSet {
    let u = universe(fam);
    match proto {
        None => u,
        Some(p) => {
            let mut b = crate::space::domain(fam);
            b.lo[PROTO] = p.0 as u128;
            b.hi[PROTO] = p.0 as u128;
            u.intersect_box(&b)
        }
    }
}

/// Restrict a set's source and destination addresses to unions of ranges.
pub fn with_addresses(s: &HeaderSet, src: &[(u128, u128)], dst: &[(u128, u128)]) -> HeaderSet {
    let mut out = HeaderSet::new();
    for &(slo, shi) in src {
        for &(dlo, dhi) in dst {
            for b in s.boxes() {
                if let Some(x) = b.with(SRC, slo, shi).and_then(|x| x.with(DST, dlo, dhi)) {
                    out.extend_disjoint(HeaderSet::from_box(x));
                }
            }
        }
    }
    out
}

/// Public addresses: what `--to internet` and `--from internet` range over. IPv4 without
/// 0/8, RFC 1918, RFC 6598, loopback, link-local, multicast and reserved (240/4); IPv6 global
/// unicast (2000::/3).
pub fn public_ranges(fam: Family) -> Vec<(u128, u128)> {
    match fam {
        Family::V4 => {
            let mut out = Vec::new();
            let mut next = 0u128;
            let mut excluded = aws::ranges_v4(&aws::NOT_PUBLIC_V4);
            excluded.sort_unstable();
            for (lo, hi) in excluded {
                if lo > next {
                    out.push((next, lo - 1));
                }
                next = next.max(hi + 1);
            }
            if next <= u32::MAX as u128 {
                out.push((next, u32::MAX as u128));
            }
            out
        }
        Family::V6 => aws::ranges_v6(&[aws::PUBLIC_V6]),
    }
}

/// Remove points and ranges from sorted disjoint ranges.
pub fn ranges_minus(ranges: &[(u128, u128)], minus: &[(u128, u128)]) -> Vec<(u128, u128)> {
    let mut out = ranges.to_vec();
    for &(mlo, mhi) in minus {
        let mut next = Vec::with_capacity(out.len() + 1);
        for (lo, hi) in out {
            if mhi < lo || mlo > hi {
                next.push((lo, hi));
                continue;
            }
            if lo < mlo {
                next.push((lo, mlo - 1));
            }
            if hi > mhi {
                next.push((mhi + 1, hi));
            }
        }
        out = next;
    }
    out
}

/// What happened to a part of header space.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fate {
    /// Arrived at an interface (`eni`), or at a link-local service (`eni` is `None`).
    Delivered {
        /// The instance or interface (or service) that received it.
        to: ResId,
        /// The interface, unless a link-local service answered.
        eni: Option<EniIdx>,
    },
    /// Left through a gateway; `vpn` is the VPN connection when it left to on-premises.
    Exited {
        /// The gateway (or endpoint) it left through.
        via: ResId,
        /// The VPN connection, when it left to on-premises.
        vpn: Option<VpnConnIdx>,
    },
    /// Dropped by `at` for `reason`.
    Dropped {
        /// Why.
        reason: DropReason,
        /// The resource that dropped it.
        at: ResId,
    },
    /// One of these, depending on the flow's hash: a transit gateway's zone in appliance mode,
    /// a load balancer's target or appliance (sorted, none itself `OneOf`).
    OneOf(Vec<Fate>),
    /// Outside what a static analysis can decide.
    NotAnalysed(String),
}

impl Fate {
    /// Delivered or exited (every alternative, for [`Fate::OneOf`]).
    pub fn arrives(&self) -> bool {
        match self {
            Fate::Delivered { .. } | Fate::Exited { .. } => true,
            Fate::OneOf(v) => v.iter().all(Fate::arrives),
            Fate::Dropped { .. } | Fate::NotAnalysed(_) => false,
        }
    }

    /// The alternatives: the fates of a [`Fate::OneOf`], else this one.
    pub fn alternatives(&self) -> &[Fate] {
        match self {
            Fate::OneOf(v) => v,
            f => std::slice::from_ref(f),
        }
    }
}

/// Where a walk starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Start {
    /// Leaves this interface.
    Eni(EniIdx),
    /// Arrives from the internet.
    Internet,
    /// Arrives from the on-premises network behind this VPN connection.
    OnPrem(VpnConnIdx),
    /// Arrives at a transit gateway from this attachment.
    TgwAttachment(TgwAttachmentIdx),
}

impl Start {
    /// The pipeline origin that starts the same walk.
    pub fn origin(self) -> Origin {
        match self {
            Start::Eni(e) => Origin::Eni(e),
            Start::Internet => Origin::Internet,
            Start::OnPrem(c) => Origin::OnPrem(c),
            Start::TgwAttachment(a) => Origin::TransitGatewayAttachment(a),
        }
    }
}

/// One outcome of a walk: a set of original headers and what happened to them.
#[derive(Clone, Debug)]
pub struct Part {
    /// The headers (in the coordinates of the packets as they were sent).
    pub set: HeaderSet,
    /// What happened to them.
    pub fate: Fate,
    pub(crate) ctx: Ctx,
}

impl Part {
    /// The walk of this part went through one of the waypoints of [`Prepared::walk_via`]
    /// (always false for other walks).
    pub fn passed(&self) -> bool {
        self.ctx.passed.get()
    }

    /// The walk followed every answer of a flow-hash choice for this part: other parts of the
    /// same walk may hold the same headers with another fate.
    pub fn branched(&self) -> bool {
        self.ctx.branched
    }
}

/// A topology ready for symbolic walks: interfaces grouped into classes that no node tells
/// apart but by address.
pub struct Prepared<'t> {
    /// The topology.
    pub topo: &'t Topology,
    /// Interfaces no stage tells apart except by address: same subnet, same security groups,
    /// source/destination check on, owned by an instance (or standalone). Every other interface
    /// is a class of its own.
    pub classes: Vec<Vec<EniIdx>>,
    /// Each interface's class.
    pub eni_class: Table<EniIdx, u32>,
}

impl<'t> Prepared<'t> {
    /// Group the topology's interfaces into classes.
    pub fn new(topo: &'t Topology) -> Prepared<'t> {
        let mut classes: Vec<Vec<EniIdx>> = Vec::new();
        let mut eni_class = Table::from(vec![0u32; topo.enis.len()]);
        let mut by_key: HashMap<(SubnetIdx, Vec<SgIdx>), u32> = HashMap::new();
        for (i, e) in topo.enis.iter_enumerated() {
            let alike = e.kind == EniKind::Host && e.source_dest_check && !topo.nlb.is_target(i);
            let k = if alike {
                *by_key
                    .entry((e.subnet, e.security_groups.clone()))
                    .or_insert_with(|| {
                        classes.push(Vec::new());
                        classes.len() as u32 - 1
                    })
            } else {
                classes.push(Vec::new());
                classes.len() as u32 - 1
            };
            classes[k as usize].push(i);
            eni_class[i] = k;
        }
        Prepared {
            topo,
            classes,
            eni_class,
        }
    }
}

/// A header as a point of header space (ICMP type and code in the destination-port dimension,
/// ports of protocols without ports ignored).
pub fn point_of(h: &Header) -> Point {
    let (sp, dp) = match Class::of(h.proto) {
        Class::Ports => (h.src_port as u128, h.dst_port as u128),
        Class::Icmp => (0, ((h.icmp_type as u128) << 8) | h.icmp_code as u128),
        Class::Other => (0, 0),
    };
    [
        Family::bits(h.src),
        Family::bits(h.dst),
        h.proto.0 as u128,
        sp,
        dp,
    ]
}

/// Merge parts that ended the same way with the same state: fewer, larger sets.
// The waypoint mark in a context is a cell, but only hops set it, and a part that has ended
// meets no more hops: keys do not change while in the map.
#[allow(clippy::mutable_key_type)]
fn merge_parts(parts: Vec<Part>) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    let mut index: rustc_hash::FxHashMap<(Fate, Ctx), usize> = rustc_hash::FxHashMap::default();
    for p in parts {
        match index.entry((p.fate.clone(), p.ctx.clone())) {
            std::collections::hash_map::Entry::Occupied(i) => {
                out[*i.get()].set.extend_disjoint(p.set)
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(out.len());
                out.push(p);
            }
        }
    }
    for p in &mut out {
        p.set.coalesce();
    }
    out
}

impl Prepared<'_> {
    /// The requests' walk: every part of `set` with its fate.
    pub fn walk(&self, start: Start, fam: Family, set: &HeaderSet) -> Vec<Part> {
        let mut w = Symbolic::new(self, fam);
        for class in Class::ALL {
            let s = set.intersect(&class.universe(fam));
            if s.is_empty() {
                continue;
            }
            w.run(start.origin().start(), s, Ctx::new(class));
        }
        merge_parts(w.out)
    }

    /// [`Prepared::walk`], marking each part that went through one of `waypoints` (a hop the
    /// trace would show names it: an appliance, a load balancer, a NAT gateway, a gateway, a
    /// rule's group or table): "every path from A to B passes C" holds when every part that
    /// arrives is [`Part::passed`]. Where two parts merge, only a mark both had is kept.
    pub fn walk_via(
        &self,
        start: Start,
        fam: Family,
        set: &HeaderSet,
        waypoints: &[ResId],
    ) -> Vec<Part> {
        let mut w = Symbolic::new(self, fam);
        w.waypoints = waypoints;
        for class in Class::ALL {
            let s = set.intersect(&class.universe(fam));
            if !s.is_empty() {
                w.run(start.origin().start(), s, Ctx::new(class));
            }
        }
        merge_parts(w.out)
    }

    /// The replies to a part of the requests: from where it arrived, back to the sender,
    /// through the state the request created.
    pub fn replies(&self, fam: Family, part: &Part) -> Replies {
        let start = match part.fate {
            Fate::Delivered { eni: Some(d), .. } => Start::Eni(d),
            Fate::Delivered { eni: None, .. } => return Replies::Unfiltered,
            Fate::Exited { vpn: Some(c), .. } => Start::OnPrem(c),
            Fate::Exited { vpn: None, .. } => Start::Internet,
            _ => return Replies::None,
        };
        let mut w = Symbolic::new(self, fam);
        // An echo request is answered by an echo reply: the type changes, the rest is swapped.
        let mut pieces: Vec<(HeaderSet, i64)> = Vec::new();
        if part.ctx.class == Class::Icmp {
            let d = crate::space::domain(fam);
            let mut rest = part.set.clone();
            for (proto, ty, shift) in [
                (IpProtocol::ICMP, 8u128, -(8i64 << 8)),
                (IpProtocol::ICMPV6, 128, 1 << 8),
            ] {
                if let Some(b) = d
                    .with(PROTO, proto.0 as u128, proto.0 as u128)
                    .and_then(|b| b.with(DPORT, ty << 8, (ty << 8) | 0xff))
                {
                    pieces.push((rest.intersect_box(&b), shift));
                    rest = rest.subtract_box(&b);
                }
            }
            pieces.push((rest, 0));
        } else {
            pieces.push((part.set.clone(), 0));
        }
        for (s, shift) in pieces {
            if s.is_empty() {
                continue;
            }
            w.run(start.origin().start(), s, part.ctx.reply(shift));
        }
        Replies::Parts(merge_parts(w.out))
    }

    /// Requests and their replies.
    pub fn analyse(&self, start: Start, fam: Family, set: &HeaderSet) -> Analysis {
        let requests = self.walk(start, fam, set);
        self.with_replies(fam, requests)
    }

    /// [`Prepared::analyse`] for every interface of class `class` (see [`Prepared::classes`])
    /// at once: the same answer as analysing each member from its own addresses, in one walk.
    /// Headers whose source is no member's address are left out.
    pub fn analyse_class(&self, class: u32, fam: Family, set: &HeaderSet) -> Analysis {
        let mut w = Symbolic::new(self, fam);
        let members = &self.classes[class as usize];
        let mut own = HeaderSet::new();
        for &m in members {
            for src in sources(self.topo, Start::Eni(m), fam) {
                own.extend_disjoint(with_addresses(set, &[src], &[(0, fam.addr_max())]));
            }
        }
        for c in Class::ALL {
            let s = own.intersect(&c.universe(fam));
            if !s.is_empty() {
                let mut ctx = Ctx::new(c);
                ctx.origin_class = Some(class);
                w.run(
                    Node::Leave {
                        eni: members[0],
                        origin: true,
                    },
                    s,
                    ctx,
                );
            }
        }
        let requests = merge_parts(w.out);
        self.with_replies(fam, requests)
    }

    fn with_replies(&self, fam: Family, requests: Vec<Part>) -> Analysis {
        let replies = requests.iter().map(|p| self.replies(fam, p)).collect();
        Analysis {
            family: fam,
            requests,
            replies,
        }
    }
}
