//! All-flows reachability: what the pipeline does to *every* header at once.
//!
//! [`Prepared::analyse`] walks a set of headers (a [`HeaderSet`], header-space analysis: unions
//! of boxes over source/destination address, protocol and ports) through the same stages as
//! [`crate::pipeline`], splitting it wherever a route, rule or translation treats headers
//! differently, and returns every part with its [`Fate`]: delivered, exited, or dropped with the
//! pipeline's reason and resource. For the parts that arrive it then walks their replies (the
//! same headers, swapped, through the state the request left: connection tracking, NAT sessions)
//! so stateless NACLs that deny replies show up. Nothing is sampled: the answer is exact for the
//! first packet of every flow (a TCP SYN, a UDP datagram, an ICMP message, unfragmented, TTL 64)
//! and its reply, on a fresh state. What depends on state the static topology does not determine
//! (the port a NAT gateway picks, when a filter looks at part of its range; packets that might
//! match a connection they opened themselves) is reported as [`Fate::NotAnalysed`], never
//! guessed; so are route targets this walker does not know.
//!
//! [`matrix`] computes every pair of interfaces of a topology at once, by grouping interfaces
//! that no route, rule or address range tells apart.

pub mod space;
mod walk;

pub use space::{HBox, HeaderSet, Point, DIMS, DPORT, DST, PROTO, SPORT, SRC};
pub use walk::{Part, Prepared};

use crate::flow::{Header, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use crate::topology::{Idx, ResId};
use crate::verdict::DropReason;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use walk::{Ctx, Walker};

/// One address family per query: IPv4 and IPv6 never mix (SPEC §0.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4 = 0,
    V6 = 1,
}

impl Family {
    pub fn of(a: IpAddr) -> Family {
        match a {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    pub fn bits(a: IpAddr) -> u128 {
        match a {
            IpAddr::V4(a) => a.to_bits() as u128,
            IpAddr::V6(a) => a.to_bits(),
        }
    }

    pub fn addr_max(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    pub fn addr(self, a: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from_bits(a as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from_bits(a)),
        }
    }

    /// Every value every dimension can take.
    pub fn domain(self) -> HBox {
        let a = self.addr_max();
        HBox {
            lo: [0; DIMS],
            hi: [a, a, 255, 0xffff, 0xffff],
        }
    }
}

/// Protocols the stages treat alike: ports (TCP, UDP), ICMP (ICMP, ICMPv6: type and code), and
/// the rest (no ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Ports,
    Icmp,
    Other,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Ports, Class::Icmp, Class::Other];

    pub fn of(proto: u8) -> Class {
        match proto {
            PROTO_TCP | PROTO_UDP => Class::Ports,
            PROTO_ICMP | PROTO_ICMPV6 => Class::Icmp,
            _ => Class::Other,
        }
    }

    /// The class's headers in the family, all addresses: TCP and UDP with every port, ICMP
    /// with every type and code (in the destination-port dimension), others with ports 0.
    pub fn universe(self, fam: Family) -> HeaderSet {
        let d = fam.domain();
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
pub fn protocol(fam: Family, proto: Option<u8>) -> HeaderSet {
    let u = universe(fam);
    match proto {
        None => u,
        Some(p) => {
            let mut b = fam.domain();
            b.lo[PROTO] = p as u128;
            b.hi[PROTO] = p as u128;
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
            let not: [(u32, u8); 9] = [
                (0x0000_0000, 8),
                (0x0a00_0000, 8),
                (0x6440_0000, 10),
                (0x7f00_0000, 8),
                (0xa9fe_0000, 16),
                (0xac10_0000, 12),
                (0xc0a8_0000, 16),
                (0xe000_0000, 4),
                (0xf000_0000, 4),
            ];
            let mut out = Vec::new();
            let mut next = 0u128;
            let mut excluded: Vec<(u128, u128)> = not
                .iter()
                .map(|&(n, l)| walk::prefix_range(n as u128, l, 32))
                .collect();
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
        Family::V6 => vec![walk::prefix_range(0x2000 << 112, 3, 128)],
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
        to: ResId,
        eni: Option<Idx>,
    },
    /// Left through a gateway; `vpn` is the VPN connection when it left to on-premises.
    Exited {
        via: ResId,
        vpn: Option<Idx>,
    },
    Dropped {
        reason: DropReason,
        at: ResId,
    },
    /// Outside what a static analysis can decide, or a stage this walker does not know.
    NotAnalysed(String),
}

impl Fate {
    /// Delivered or exited.
    pub fn arrives(&self) -> bool {
        matches!(self, Fate::Delivered { .. } | Fate::Exited { .. })
    }
}

/// Where a walk starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Start {
    /// Leaves this interface.
    Eni(Idx),
    /// Arrives from the internet.
    Internet,
    /// Arrives from the on-premises network behind this VPN connection.
    OnPrem(Idx),
    /// Arrives at a transit gateway from this attachment.
    TgwAttachment(Idx),
}

impl Start {
    /// The pipeline origin that starts the same walk.
    pub fn origin(self) -> crate::pipeline::Origin {
        use crate::pipeline::Origin;
        match self {
            Start::Eni(e) => Origin::Eni(e),
            Start::Internet => Origin::Internet,
            Start::OnPrem(c) => Origin::OnPrem(c),
            Start::TgwAttachment(a) => Origin::TransitGatewayAttachment(a),
        }
    }
}

/// Why a part is not analysed when a transit gateway's flow-hash choice of zone matters.
pub const HASH_DEPENDENT: &str =
    "the transit gateway picks the Availability Zone by flow hash and the zones disagree";

/// What happened to the replies of one part of the requests.
#[derive(Clone, Debug)]
pub enum Replies {
    /// The request did not arrive.
    None,
    /// Answered by a link-local service: not filtered.
    Unfiltered,
    /// The replies' walk, in the coordinates of the requests they answer.
    Parts(Vec<Part>),
}

/// Requests and, for each part that arrived, its replies.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub family: Family,
    pub requests: Vec<Part>,
    pub replies: Vec<Replies>,
}

/// An analysis grouped for output; every set is in the coordinates of the requests.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Requests that arrive and whose replies get back, by where the requests arrive.
    pub complete: BTreeMap<Fate, HeaderSet>,
    /// Requests that arrive but whose replies do not, by what happens to the replies.
    pub reply_blocked: BTreeMap<Fate, HeaderSet>,
    /// Requests that do not arrive (dropped, or not analysed).
    pub blocked: BTreeMap<Fate, HeaderSet>,
}

impl Summary {
    /// Every request that arrives and gets its reply back.
    pub fn complete_set(&self) -> HeaderSet {
        let mut s = HeaderSet::new();
        for v in self.complete.values() {
            s.extend_disjoint(v.clone());
        }
        s.coalesce();
        s
    }

    /// Every request that arrives but whose reply does not get back.
    pub fn reply_blocked_set(&self) -> HeaderSet {
        let mut s = HeaderSet::new();
        for v in self.reply_blocked.values() {
            s.extend_disjoint(v.clone());
        }
        s.coalesce();
        s
    }
}

fn add_to(map: &mut BTreeMap<Fate, HeaderSet>, fate: &Fate, set: &HeaderSet) {
    map.entry(fate.clone())
        .or_default()
        .extend_disjoint(set.clone());
}

/// What the walk says about one header: its request and, when the request arrived at an
/// interface or left the topology, its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub request: Fate,
    /// `None` when no reply is walked (the request did not arrive, or a link-local service
    /// answered it) or, with `reply_walked`, when no part of the reply walk holds the header.
    pub reply: Option<Fate>,
    pub reply_walked: bool,
}

/// Sets tagged with a key, where sets from a branched walk may overlap: a point of several
/// such sets is known only when they all carry the same key. Returns the known sets per key
/// and the undecided rest.
fn resolve<K: Ord + Clone>(leaves: Vec<(HeaderSet, K, bool)>) -> (Vec<(K, HeaderSet)>, HeaderSet) {
    let mut out = Vec::new();
    let mut branched: BTreeMap<K, HeaderSet> = BTreeMap::new();
    for (set, key, b) in leaves {
        if set.is_empty() {
            continue;
        }
        if b {
            let e = branched.entry(key).or_default();
            *e = e.union(&set);
        } else {
            out.push((key, set));
        }
    }
    let mut undecided = HeaderSet::new();
    let keys: Vec<K> = branched.keys().cloned().collect();
    for k in &keys {
        let mine = &branched[k];
        let mut known = mine.clone();
        for o in keys.iter().filter(|o| *o != k) {
            known = known.subtract(&branched[o]);
        }
        undecided = undecided.union(&mine.subtract(&known));
        out.push((k.clone(), known));
    }
    (out, undecided)
}

impl Analysis {
    /// The outcome of one header (`None`: no part of the walk holds it).
    pub fn outcome_at(&self, p: &Point) -> Option<Outcome> {
        let hits: Vec<usize> = (0..self.requests.len())
            .filter(|&i| self.requests[i].set.contains(p))
            .collect();
        let first = &self.requests[*hits.first()?].fate;
        if hits.iter().any(|&i| &self.requests[i].fate != first) {
            return Some(Outcome {
                request: Fate::NotAnalysed(HASH_DEPENDENT.into()),
                reply: None,
                reply_walked: false,
            });
        }
        let mut reply: Option<Fate> = None;
        let mut walked = false;
        for &i in &hits {
            let Replies::Parts(parts) = &self.replies[i] else {
                continue;
            };
            walked = true;
            for r in parts.iter().filter(|r| r.set.contains(p)) {
                match &reply {
                    None => reply = Some(r.fate.clone()),
                    Some(f) if *f == r.fate => {}
                    Some(_) => reply = Some(Fate::NotAnalysed(HASH_DEPENDENT.into())),
                }
            }
        }
        Some(Outcome {
            request: first.clone(),
            reply,
            reply_walked: walked,
        })
    }

    pub fn summary(&self) -> Summary {
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
        enum Cat {
            Complete(Fate),
            ReplyBlocked(Fate),
            Blocked(Fate),
        }
        let mut leaves = Vec::new();
        let mut requests = Vec::new();
        for (req, rep) in self.requests.iter().zip(&self.replies) {
            let b = req.ctx.branched;
            requests.push((req.set.clone(), req.fate.clone(), b));
            match rep {
                Replies::None => leaves.push((req.set.clone(), Cat::Blocked(req.fate.clone()), b)),
                Replies::Unfiltered => {
                    leaves.push((req.set.clone(), Cat::Complete(req.fate.clone()), b))
                }
                Replies::Parts(parts) => {
                    for r in parts {
                        let cat = if r.fate.arrives() {
                            Cat::Complete(req.fate.clone())
                        } else {
                            Cat::ReplyBlocked(r.fate.clone())
                        };
                        leaves.push((r.set.clone(), cat, b || r.ctx.branched));
                    }
                }
            }
        }
        let (known, undecided) = resolve(leaves);
        let (_, request_undecided) = resolve(requests);
        let mut s = Summary::default();
        for (cat, set) in known {
            match cat {
                Cat::Complete(f) => add_to(&mut s.complete, &f, &set),
                Cat::ReplyBlocked(f) => add_to(&mut s.reply_blocked, &f, &set),
                Cat::Blocked(f) => add_to(&mut s.blocked, &f, &set),
            }
        }
        let why = Fate::NotAnalysed(HASH_DEPENDENT.into());
        let blocked = undecided.intersect(&request_undecided);
        add_to(&mut s.blocked, &why, &blocked);
        add_to(&mut s.reply_blocked, &why, &undecided.subtract(&blocked));
        for m in [&mut s.complete, &mut s.reply_blocked, &mut s.blocked] {
            m.retain(|_, v| !v.is_empty());
            for v in m.values_mut() {
                v.coalesce();
            }
        }
        s
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
        h.proto as u128,
        sp,
        dp,
    ]
}

/// Merge parts that ended the same way with the same state: fewer, larger sets.
fn merge_parts(parts: Vec<Part>) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    let mut index: rustc_hash::FxHashMap<(Fate, walk::Ctx), usize> =
        rustc_hash::FxHashMap::default();
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
        let mut w = Walker::new(self, fam);
        for class in Class::ALL {
            let s = set.intersect(&class.universe(fam));
            if s.is_empty() {
                continue;
            }
            w.start(start, s, Ctx::new(class));
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
        let mut w = Walker::new(self, fam);
        // An echo request is answered by an echo reply: the type changes, the rest is swapped.
        let mut pieces: Vec<(HeaderSet, i64)> = Vec::new();
        if part.ctx.class == Class::Icmp {
            let d = fam.domain();
            let mut rest = part.set.clone();
            for (proto, ty, shift) in [
                (PROTO_ICMP, 8u128, -(8i64 << 8)),
                (PROTO_ICMPV6, 128, 1 << 8),
            ] {
                if let Some(b) = d
                    .with(PROTO, proto as u128, proto as u128)
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
            w.start(start, s, part.ctx.reply(shift));
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
        let mut w = Walker::new(self, fam);
        for c in Class::ALL {
            let s = set.intersect(&c.universe(fam));
            if !s.is_empty() {
                w.leave_class(s, Ctx::new(c), class);
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

/// A row or column of the reachability matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// An instance's interface or a standalone interface (never a NAT gateway's).
    Eni(Idx),
    /// Public addresses outside the topology, through internet gateways.
    Internet,
    /// The on-premises network behind a VPN connection.
    OnPrem(Idx),
}

/// Every endpoint pair at once: for each pair, the requests from the first that arrive at the
/// second and whose replies get back.
#[derive(Clone, Debug)]
pub struct Matrix {
    pub family: Family,
    pub endpoints: Vec<Endpoint>,
    /// (from, to, requests) with indices into `endpoints`; pairs with nothing are left out.
    pub cells: Vec<(usize, usize, HeaderSet)>,
    /// Requests from each endpoint that the analysis cannot decide (state or flow hash).
    pub not_analysed: Vec<HeaderSet>,
}

/// The source addresses a walk from `start` ranges over: an interface's own addresses (what
/// its instance can send without tripping its source/destination check), the public internet,
/// the on-premises prefixes behind a VPN connection; anything from a transit gateway attachment.
pub fn sources(topo: &crate::topology::Topology, start: Start, fam: Family) -> Vec<(u128, u128)> {
    match start {
        Start::Eni(e) => {
            let e = &topo.enis[e as usize];
            let mut v: Vec<(u128, u128)> = match fam {
                Family::V4 => e
                    .private_v4
                    .iter()
                    .map(|a| (a.to_bits() as u128, a.to_bits() as u128))
                    .collect(),
                Family::V6 => e.ipv6.iter().map(|a| (a.to_bits(), a.to_bits())).collect(),
            };
            v.sort_unstable();
            v.dedup();
            v
        }
        // Addresses the topology owns would start inside it, not on the internet.
        Start::Internet => {
            let mut owned: Vec<(u128, u128)> = match fam {
                Family::V4 => topo
                    .public_v4
                    .keys()
                    .map(|&a| (a as u128, a as u128))
                    .collect(),
                Family::V6 => topo
                    .vpcs
                    .iter()
                    .flat_map(|v| v.cidrs_v6.iter())
                    .map(|n| walk::net_range(&ipnet::IpNet::V6(*n)))
                    .collect(),
            };
            owned.sort_unstable();
            ranges_minus(&public_ranges(fam), &owned)
        }
        Start::OnPrem(c) => {
            let mut v: Vec<(u128, u128)> = topo.vpn_connections[c as usize]
                .prefixes
                .iter()
                .filter(|n| {
                    matches!(
                        (n, fam),
                        (ipnet::IpNet::V4(_), Family::V4) | (ipnet::IpNet::V6(_), Family::V6)
                    )
                })
                .map(walk::net_range)
                .collect();
            v.sort_unstable();
            v
        }
        Start::TgwAttachment(_) => vec![(0, fam.addr_max())],
    }
}

/// The reachability matrix of every host interface, the internet and the on-premises network
/// behind each VPN connection, in one family (an endpoint's traffic to itself is left out).
/// Each source is analysed over every destination at once (its walk splits by destination
/// wherever a route, rule or address tells destinations apart), and interfaces that no stage
/// tells apart but by address ([`Prepared::classes`]) share one walk. The walks are spread over
/// `threads`.
pub fn matrix(prep: &Prepared<'_>, fam: Family, threads: usize) -> Matrix {
    let topo = prep.topo;
    let mut endpoints: Vec<Endpoint> = (0..topo.enis.len() as Idx)
        .filter(|&e| topo.enis[e as usize].kind == crate::topology::EniKind::Host)
        .map(Endpoint::Eni)
        .collect();
    endpoints.push(Endpoint::Internet);
    endpoints.extend((0..topo.vpn_connections.len() as Idx).map(Endpoint::OnPrem));
    let index: std::collections::HashMap<Endpoint, usize> =
        endpoints.iter().enumerate().map(|(i, e)| (*e, i)).collect();
    // One job per class of host interfaces, and one per other endpoint.
    enum Job {
        Class(u32),
        Single(Start),
    }
    let mut jobs: Vec<Job> = (0..prep.classes.len() as u32)
        .filter(|&k| {
            let m = &prep.classes[k as usize];
            !m.is_empty() && topo.enis[m[0] as usize].kind == crate::topology::EniKind::Host
        })
        .map(Job::Class)
        .collect();
    jobs.push(Job::Single(Start::Internet));
    jobs.extend((0..topo.vpn_connections.len() as Idx).map(|c| Job::Single(Start::OnPrem(c))));
    type Row = (Vec<(usize, usize, HeaderSet)>, Vec<(usize, HeaderSet)>);
    let run = |job: &Job| -> Row {
        // (endpoint, its source ranges) the job answers for.
        let (sources_of, summary) = match job {
            Job::Class(k) => {
                let members: Vec<(usize, Vec<(u128, u128)>)> = prep.classes[*k as usize]
                    .iter()
                    .map(|&m| (index[&Endpoint::Eni(m)], sources(topo, Start::Eni(m), fam)))
                    .filter(|(_, r)| !r.is_empty())
                    .collect();
                let mut all: Vec<(u128, u128)> = members
                    .iter()
                    .flat_map(|(_, r)| r.iter().copied())
                    .collect();
                all.sort_unstable();
                if all.is_empty() {
                    return (Vec::new(), Vec::new());
                }
                let set = with_addresses(&universe(fam), &all, &[(0, fam.addr_max())]);
                (members, prep.analyse_class(*k, fam, &set).summary())
            }
            Job::Single(start) => {
                let src = sources(topo, *start, fam);
                if src.is_empty() {
                    return (Vec::new(), Vec::new());
                }
                let from = match start {
                    Start::OnPrem(c) => index[&Endpoint::OnPrem(*c)],
                    _ => index[&Endpoint::Internet],
                };
                let set = with_addresses(&universe(fam), &src, &[(0, fam.addr_max())]);
                (
                    vec![(from, vec![(0, fam.addr_max())])],
                    prep.analyse(*start, fam, &set).summary(),
                )
            }
        };
        let d = fam.domain();
        let only = |s: &HeaderSet, ranges: &[(u128, u128)]| -> HeaderSet {
            let mut out = HeaderSet::new();
            for &(lo, hi) in ranges {
                if let Some(b) = d.with(SRC, lo, hi) {
                    out.extend_disjoint(s.intersect_box(&b));
                }
            }
            out
        };
        let mut cells: BTreeMap<(usize, usize), HeaderSet> = BTreeMap::new();
        for (fate, s) in &summary.complete {
            let to = match fate {
                Fate::Delivered { eni: Some(d), .. } => index.get(&Endpoint::Eni(*d)),
                Fate::Exited { vpn: None, .. } => index.get(&Endpoint::Internet),
                Fate::Exited { vpn: Some(c), .. } => index.get(&Endpoint::OnPrem(*c)),
                _ => None,
            };
            let Some(&to) = to else { continue };
            for (from, ranges) in &sources_of {
                if *from == to {
                    continue;
                }
                let mine = only(s, ranges);
                if !mine.is_empty() {
                    cells.entry((*from, to)).or_default().extend_disjoint(mine);
                }
            }
        }
        let mut unknown: Vec<(usize, HeaderSet)> = Vec::new();
        for (from, ranges) in &sources_of {
            let mut u = HeaderSet::new();
            for m in [&summary.blocked, &summary.reply_blocked] {
                for (fate, s) in m {
                    if matches!(fate, Fate::NotAnalysed(_)) {
                        u.extend_disjoint(only(s, ranges));
                    }
                }
            }
            u.coalesce();
            unknown.push((*from, u));
        }
        let cells = cells
            .into_iter()
            .map(|((f, t), mut s)| {
                s.coalesce();
                (f, t, s)
            })
            .collect();
        (cells, unknown)
    };
    let n = jobs.len();
    let threads = threads.clamp(1, n.max(1));
    let mut rows: Vec<Row> = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (run, jobs) = (&run, &jobs);
                scope.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|i| run(&jobs[i]))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A worker panics only on a bug; its rows stay out rather than taking the process
            // down a second time.
            if let Ok(done) = h.join() {
                rows.extend(done);
            }
        }
    });
    let mut cells = Vec::new();
    let mut not_analysed = vec![HeaderSet::new(); endpoints.len()];
    for (c, u) in rows {
        cells.extend(c);
        for (i, s) in u {
            not_analysed[i] = s;
        }
    }
    cells.sort_by_key(|c| (c.0, c.1));
    Matrix {
        family: fam,
        endpoints,
        cells,
        not_analysed,
    }
}
