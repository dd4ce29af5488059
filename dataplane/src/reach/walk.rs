//! The symbolic walk: the pipeline's stages applied to sets of headers instead of one header.
//!
//! Every function here mirrors the function of the same name in [`crate::pipeline`], in the same
//! order, with the same drop reasons and the same blamed resources; where the pipeline tests one
//! header, the walk splits a set into the part that passes and the parts that are dropped.
//!
//! Sets are kept in the coordinates of the packet as it was sent (the *original* header). Address
//! and port translations do not move the set; instead each walk carries a [`Xf`], which says for
//! every field of the packet as it is *now* where its value comes from: an original field, a
//! constant written by a translation, or the port a NAT gateway picks. A filter on the current
//! packet is turned into a constraint on the original one (its pre-image), which stays a box.
//! This is also what makes replies exact: the reply of each original header is known field by
//! field, so connection tracking and NAT sessions can be matched per flow, not per set.

use super::space::{HBox, HeaderSet, DIMS, DPORT, DST, PROTO, SPORT, SRC};
use super::{Class, Family, Fate};
use crate::flow::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use crate::nacl::NaclEntry;
use crate::nat::{PORT_MAX, PORT_MIN};
use crate::sg::CompiledSgRule;
use crate::tgw::{AttachmentKind, TgwRouteTarget};
use crate::topology::{EniKind, Idx, PublicMapping, ResId, RouteTarget, Topology};
use crate::verdict::DropReason;
use crate::vpn::VpnEdge;
use ipnet::IpNet;

/// The echo identifier of ICMP echo packets: no dimension of the space (no filter reads it), but
/// connection tracking and NAT sessions key on it, and NAT gateways rewrite it.
pub(crate) const IDENT: usize = DIMS;

/// Connection-tracking zone of an egress-only gateway (the pipeline's `ZONE_EIGW`).
const ZONE_EIGW: u32 = 0x8000_0000;
/// Connection-tracking zone of a class of interfaces walked together (see
/// [`Prepared::classes`]): an entry made there stands for the entry of whichever member sent
/// the packet, since its key holds that member's address.
const ZONE_CLASS: u32 = 0x4000_0000;
/// The pipeline's forwarding budget (appliances, hairpins) and the TTL requests start with.
pub(crate) const MAX_FORWARDS: u8 = 16;
pub(crate) const START_TTL: u8 = 64;

/// Where the current value of one header field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Expr {
    /// Original field `dim`, plus a constant (ICMP echo request → reply shifts the type).
    Orig(u8, i64),
    /// Written by a translation (an Elastic IP, a NAT gateway's address).
    Const(u128),
    /// The port (or echo identifier) a NAT gateway picked for session `n` of this flow
    /// (an index into [`Ctx::nat`]): 1024–65535, chosen from state, so filters that look at
    /// part of that range cannot be decided statically, and two sessions' ports may or may not
    /// be equal.
    NatPort(u32),
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

/// A NAT gateway session a flow opened: the packet before and after translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NatSession {
    inside: Xf,
    outside: Xf,
}

/// What a walk carries besides its set: the pipeline's per-packet variables and the state the
/// flow created so far (connection-tracking entries, NAT sessions).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Ctx {
    pub(crate) t: Xf,
    pub(crate) class: Class,
    ttl: u8,
    forwards_left: u8,
    via_appliance: bool,
    /// (zone, packet as it was when the entry was made).
    tracked: Vec<(u32, Xf)>,
    nat: Vec<NatSession>,
    /// Zones a transit gateway picked by flow hash for this flow: (attachment, packet as it was,
    /// subnet). The hash is direction-free, so a later packet with the same flow key (the reply)
    /// is sent to the same subnet.
    choices: Vec<(Idx, Xf, Idx)>,
    /// This walk tried every zone of a flow-hash choice: its parts overlap, one per zone, and
    /// only where they agree is the answer known.
    pub(crate) branched: bool,
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
            choices: Vec::new(),
            branched: false,
        }
    }

    /// The context of the reply to a flow that ended with this context: fields swapped (and
    /// echo requests answered by echo replies, `shift` on the type), fresh TTL and forwarding
    /// budget, and the state the request left behind.
    pub(crate) fn reply(&self, type_shift: i64) -> Ctx {
        let t = self.t;
        let mut r = t;
        r[SRC] = t[DST];
        r[DST] = t[SRC];
        match self.class {
            Class::Ports => {
                r[SPORT] = t[DPORT];
                r[DPORT] = t[SPORT];
            }
            Class::Icmp => {
                if let Expr::Orig(k, add) = t[DPORT] {
                    r[DPORT] = Expr::Orig(k, add + type_shift);
                }
            }
            Class::Other => {}
        }
        Ctx {
            t: r,
            class: self.class,
            ttl: START_TTL,
            forwards_left: MAX_FORWARDS,
            via_appliance: false,
            tracked: self.tracked.clone(),
            nat: self.nat.clone(),
            choices: self.choices.clone(),
            branched: false,
        }
    }
}

/// One outcome of a walk: a set of original headers and what happened to them.
#[derive(Clone, Debug)]
pub struct Part {
    pub set: HeaderSet,
    pub fate: Fate,
    pub(crate) ctx: Ctx,
}

/// The pre-image of a filter box.
enum Pre {
    Empty,
    /// Exactly these original headers match.
    Sure(HBox),
    /// These might match, depending on a NAT gateway's port choice.
    Unsure(HBox),
}

/// Whether two current fields are equal, as a condition on the original header.
enum Same {
    Always,
    Never,
    /// When original dimension `.0` equals `.1`.
    When(usize, u128),
    /// Not decidable statically (two different original fields, or a NAT port).
    Unknown,
}

const NAT_PORTS: (u128, u128) = (PORT_MIN as u128, PORT_MAX as u128);

/// Why a walk stops at a Gateway Load Balancer endpoint.
const GWLB: &str = "through a Gateway Load Balancer endpoint: the appliance is picked per flow (flow hash, health), which reach does not model";

/// Why a walk stops at a Network Load Balancer node.
const NLB: &str = "through a Network Load Balancer: the target is picked per flow (flow hash, target health), which reach does not model";

/// RFC 1918 and RFC 6598 ranges, which internet gateways drop (the pipeline's `is_private_v4`).
pub(crate) const PRIVATE_V4: [(u32, u8); 4] = [
    (0x0a00_0000, 8),
    (0xac10_0000, 12),
    (0xc0a8_0000, 16),
    (0x6440_0000, 10),
];

pub(crate) fn prefix_range(bits: u128, len: u8, width: u32) -> (u128, u128) {
    let host = width - len as u32;
    let mask = if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    };
    (bits & !mask, bits | mask)
}

pub(crate) fn net_range(n: &IpNet) -> (u128, u128) {
    match n {
        IpNet::V4(n) => prefix_range(n.network().to_bits() as u128, n.prefix_len(), 32),
        IpNet::V6(n) => prefix_range(n.network().to_bits(), n.prefix_len(), 128),
    }
}

fn net_family(n: &IpNet) -> Family {
    match n {
        IpNet::V4(_) => Family::V4,
        IpNet::V6(_) => Family::V6,
    }
}

/// Sorted point segments `(a, a, key)` from (address, key) pairs.
fn point_segs(points: impl IntoIterator<Item = (u128, usize)>) -> Vec<(u128, u128, usize)> {
    let mut v: Vec<(u128, u128, usize)> = points.into_iter().map(|(a, k)| (a, a, k)).collect();
    v.sort_unstable();
    v.dedup_by_key(|s| s.0);
    v
}

/// Per family, the address segments of a route table (a VPC's or a transit gateway's) with
/// the index of the route that wins on each: the table's own lookup decides, so the walker's
/// segments are the pipeline's longest-prefix match by construction.
fn table_segs<'r, R>(
    routes: &'r [R],
    destination: impl Fn(&R) -> &IpNet,
    lookup: impl Fn(std::net::IpAddr) -> Option<&'r R>,
) -> [Vec<(u128, u128, usize)>; 2] {
    let seg = |fam: Family| {
        let ranges: Vec<(u128, u128)> = routes
            .iter()
            .filter(|r| net_family(destination(r)) == fam)
            .map(|r| net_range(destination(r)))
            .collect();
        if ranges.is_empty() {
            return Vec::new();
        }
        first_match_segs(&ranges, |a| {
            let r = lookup(fam.addr(a))?;
            routes.iter().position(|x| std::ptr::eq(x, r))
        })
    };
    [seg(Family::V4), seg(Family::V6)]
}

/// Segments from possibly overlapping ranges where the first range (in the given order) that
/// contains a value decides: cut at every boundary, ask `first` for each elementary interval.
fn first_match_segs(
    ranges: &[(u128, u128)],
    first: impl Fn(u128) -> Option<usize>,
) -> Vec<(u128, u128, usize)> {
    let mut cuts: Vec<u128> = vec![0];
    for &(lo, hi) in ranges {
        cuts.push(lo);
        if let Some(n) = hi.checked_add(1) {
            cuts.push(n);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut segs: Vec<(u128, u128, usize)> = Vec::new();
    for (i, &lo) in cuts.iter().enumerate() {
        let hi = cuts.get(i + 1).map_or(u128::MAX, |n| n - 1);
        let Some(k) = first(lo) else { continue };
        match segs.last_mut() {
            Some(last) if last.2 == k && last.1.checked_add(1) == Some(lo) => last.1 = hi,
            _ => segs.push((lo, hi, k)),
        }
    }
    segs
}

/// Boxes (in current coordinates) an ICMP type/code condition covers.
fn icmp_boxes(base: HBox, ty: Option<u8>, code: Option<u8>) -> Vec<HBox> {
    let ranges: Vec<(u128, u128)> = match (ty, code) {
        (None, None) => vec![(0, 0xffff)],
        (Some(t), None) => vec![((t as u128) << 8, ((t as u128) << 8) | 0xff)],
        (Some(t), Some(c)) => vec![(
            ((t as u128) << 8) | c as u128,
            ((t as u128) << 8) | c as u128,
        )],
        (None, Some(c)) => (0..256u128)
            .map(|t| ((t << 8) | c as u128, (t << 8) | c as u128))
            .collect(),
    };
    ranges
        .into_iter()
        .filter_map(|(lo, hi)| base.with(DPORT, lo, hi))
        .collect()
}

/// What a security group rule matches (`CompiledSgRule::matches`), in current coordinates.
fn sg_boxes(fam: Family, r: &CompiledSgRule, peer_dim: usize) -> Vec<HBox> {
    if net_family(&r.peer) != fam {
        return Vec::new();
    }
    let (lo, hi) = net_range(&r.peer);
    let Some(base) = fam.domain().with(peer_dim, lo, hi) else {
        return Vec::new();
    };
    let Some(p) = r.protocol else {
        return vec![base];
    };
    let Some(base) = base.with(PROTO, p as u128, p as u128) else {
        return Vec::new();
    };
    match p {
        PROTO_TCP | PROTO_UDP => {
            let lo = r.from_port.max(0) as u128;
            let hi = r.to_port.min(0xffff);
            if hi < 0 {
                return Vec::new();
            }
            base.with(DPORT, lo, hi as u128).into_iter().collect()
        }
        PROTO_ICMP | PROTO_ICMPV6 => {
            let field = |v: i32| match v {
                -1 => Some(None),
                0..=255 => Some(Some(v as u8)),
                _ => None,
            };
            match (field(r.from_port), field(r.to_port)) {
                (Some(t), Some(c)) => icmp_boxes(base, t, c),
                _ => Vec::new(),
            }
        }
        _ => vec![base],
    }
}

/// A direction's security-group rules as boxes, each with whether it is a group reference.
type SgBoxes = Vec<(HBox, bool)>;

/// Lookup tables built once per topology: sorted address maps and the route tables cut into
/// intervals of one longest-prefix-match answer each.
pub struct Prepared<'t> {
    pub topo: &'t Topology,
    /// Per VPC and family: (address, interface), the VPC's own map (first loaded wins).
    vpc_enis: Vec<[Vec<(u128, u128, usize)>; 2]>,
    /// Per VPC: (private, public) IPv4 of the addresses with a public IP or Elastic IP.
    vpc_public: Vec<Vec<(u128, u128)>>,
    /// Public IPv4 → interface address, sorted; `public_segs` indexes it.
    public_v4: Vec<(u128, PublicMapping)>,
    public_segs: Vec<(u128, u128, usize)>,
    /// Per route table and family: (lo, hi, route index).
    route_segs: Vec<[Vec<(u128, u128, usize)>; 2]>,
    /// IPv6 addresses → the first VPC whose CIDRs contain them.
    v6_vpcs: Vec<(u128, u128, usize)>,
    /// Per transit gateway route table and family: (lo, hi, route index).
    tgw_segs: Vec<[Vec<(u128, u128, usize)>; 2]>,
    /// Per virtual private gateway and family: (lo, hi, VPN connection).
    vgw_segs: Vec<[Vec<(u128, u128, usize)>; 2]>,
    /// Per family: address → the interface that owns it across the topology (first loaded
    /// wins, as [`Topology::owner_of`]).
    owner_segs: [Vec<(u128, u128, usize)>; 2],
    /// Interfaces no stage tells apart except by address: same subnet, same security groups,
    /// source/destination check on, owned by an instance (or standalone). Every other
    /// interface is a class of its own.
    pub classes: Vec<Vec<Idx>>,
    /// Each interface's class.
    pub eni_class: Vec<u32>,
    /// Security-group rules as boxes, per distinct set of groups: [family][inbound], each
    /// with whether it came from a group reference.
    sg_sets: Vec<[[SgBoxes; 2]; 2]>,
    /// Each interface's entry in `sg_sets`.
    eni_sg_set: Vec<u32>,
    /// Per interface and family: its own addresses as point segments.
    own_segs: Vec<[Vec<(u128, u128, usize)>; 2]>,
}

impl<'t> Prepared<'t> {
    pub fn new(topo: &'t Topology) -> Prepared<'t> {
        let vpc_enis = topo
            .vpcs
            .iter()
            .map(|v| {
                [
                    point_segs(v.enis_v4.iter().map(|(&a, &e)| (a as u128, e as usize))),
                    point_segs(v.enis_v6.iter().map(|(&a, &e)| (a, e as usize))),
                ]
            })
            .collect();
        let vpc_public = topo
            .vpcs
            .iter()
            .map(|v| {
                let mut m: Vec<(u128, u128)> = v
                    .enis_v4
                    .iter()
                    .filter_map(|(&a, &e)| {
                        let p =
                            topo.enis[e as usize].public_for(std::net::Ipv4Addr::from_bits(a))?;
                        Some((a as u128, p.to_bits() as u128))
                    })
                    .collect();
                m.sort_unstable();
                m
            })
            .collect();
        let mut public_v4: Vec<(u128, PublicMapping)> = topo
            .public_v4
            .iter()
            .map(|(&p, &m)| (p as u128, m))
            .collect();
        public_v4.sort_unstable_by_key(|x| x.0);
        let public_segs = public_v4
            .iter()
            .enumerate()
            .map(|(i, x)| (x.0, x.0, i))
            .collect();
        let route_segs = topo
            .route_tables
            .iter()
            .map(|rt| table_segs(&rt.routes, |r| &r.destination, |a| rt.lookup(a)))
            .collect();
        let v6_ranges: Vec<(u128, u128)> = topo
            .vpcs
            .iter()
            .flat_map(|v| {
                v.cidrs_v6
                    .iter()
                    .map(|c| prefix_range(c.network().to_bits(), c.prefix_len(), 128))
            })
            .collect();
        let v6_vpcs = if v6_ranges.is_empty() {
            Vec::new()
        } else {
            first_match_segs(&v6_ranges, |a| {
                let a = std::net::Ipv6Addr::from_bits(a);
                topo.vpcs
                    .iter()
                    .position(|v| v.cidrs_v6.iter().any(|c| c.contains(&a)))
            })
        };
        let tgw_segs = topo
            .tgw_route_tables
            .iter()
            .map(|rt| table_segs(&rt.routes, |r| &r.destination, |a| rt.lookup(a)))
            .collect();
        // A gateway's prefixes come from its connections; every connection's prefixes are cut
        // points (a superset is harmless: the gateway's own lookup decides each interval).
        let vgw_segs = topo
            .vpn_gateways
            .iter()
            .map(|g| {
                let seg = |fam: Family| {
                    let ranges: Vec<(u128, u128)> = topo
                        .vpn_connections
                        .iter()
                        .flat_map(|c| c.prefixes.iter())
                        .filter(|n| net_family(n) == fam)
                        .map(net_range)
                        .collect();
                    if ranges.is_empty() {
                        return Vec::new();
                    }
                    first_match_segs(&ranges, |a| {
                        g.routes.lookup(fam.addr(a)).map(|c| c as usize)
                    })
                };
                [seg(Family::V4), seg(Family::V6)]
            })
            .collect();
        let mut classes: Vec<Vec<Idx>> = Vec::new();
        let mut eni_class = vec![0u32; topo.enis.len()];
        let mut by_key: std::collections::HashMap<(Idx, Vec<Idx>), u32> =
            std::collections::HashMap::new();
        for (i, e) in topo.enis.iter().enumerate() {
            let k = if e.kind == EniKind::Host && e.source_dest_check {
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
            classes[k as usize].push(i as Idx);
            eni_class[i] = k;
        }
        let owner_segs = [Family::V4, Family::V6].map(|fam| {
            let mut pts: Vec<(u128, usize)> = Vec::new();
            for e in &topo.enis {
                let addrs: Vec<std::net::IpAddr> = match fam {
                    Family::V4 => e.private_v4.iter().map(|a| (*a).into()).collect(),
                    Family::V6 => e.ipv6.iter().map(|a| (*a).into()).collect(),
                };
                for a in addrs {
                    if let Some(o) = topo.owner_of(a) {
                        pts.push((super::Family::bits(a), o as usize));
                    }
                }
            }
            point_segs(pts)
        });
        let mut sg_sets = Vec::new();
        let mut eni_sg_set = Vec::with_capacity(topo.enis.len());
        let mut by_groups: std::collections::HashMap<Vec<Idx>, u32> =
            std::collections::HashMap::new();
        for e in &topo.enis {
            let k = *by_groups
                .entry(e.security_groups.clone())
                .or_insert_with(|| {
                    let boxes = |fam: Family, rules: &[CompiledSgRule], peer_dim: usize| {
                        rules
                            .iter()
                            .flat_map(|r| {
                                sg_boxes(fam, r, peer_dim)
                                    .into_iter()
                                    .map(move |b| (b, r.by_reference))
                            })
                            .collect::<Vec<_>>()
                    };
                    sg_sets.push([Family::V4, Family::V6].map(|fam| {
                        [
                            boxes(fam, &e.sg_egress, DST),
                            boxes(fam, &e.sg_ingress, SRC),
                        ]
                    }));
                    sg_sets.len() as u32 - 1
                });
            eni_sg_set.push(k);
        }
        let own_segs = topo
            .enis
            .iter()
            .map(|e| {
                [
                    point_segs(e.private_v4.iter().map(|a| (a.to_bits() as u128, 0))),
                    point_segs(e.ipv6.iter().map(|a| (a.to_bits(), 0))),
                ]
            })
            .collect();
        Prepared {
            sg_sets,
            eni_sg_set,
            own_segs,
            owner_segs,
            classes,
            eni_class,
            topo,
            vpc_enis,
            vpc_public,
            public_v4,
            public_segs,
            route_segs,
            v6_vpcs,
            tgw_segs,
            vgw_segs,
        }
    }
}

/// One walk over a set: the stages push their outcomes into `out`.
pub(crate) struct Walker<'a, 't> {
    p: &'a Prepared<'t>,
    fam: Family,
    dom: HBox,
    pub(crate) out: Vec<Part>,
}

impl<'a, 't> Walker<'a, 't> {
    pub(crate) fn new(p: &'a Prepared<'t>, fam: Family) -> Walker<'a, 't> {
        Walker {
            p,
            fam,
            dom: fam.domain(),
            out: Vec::new(),
        }
    }

    /// Start a walk where the pipeline's `process_header` starts it for this origin.
    pub(crate) fn start(&mut self, start: super::Start, s: HeaderSet, c: Ctx) {
        use super::Start;
        match start {
            Start::Eni(e) => self.leave_eni(s, c, e),
            Start::Internet => self.arrive_from_internet(s, c),
            Start::OnPrem(conn) => self.arrive_from_onprem(s, c, conn),
            Start::TgwAttachment(a) => self.arrive_at_tgw(s, c, a),
        }
    }

    fn topo(&self) -> &'t Topology {
        self.p.topo
    }

    fn fi(&self) -> usize {
        self.fam as usize
    }

    fn emit(&mut self, set: HeaderSet, fate: Fate, c: &Ctx) {
        if !set.is_empty() {
            self.out.push(Part {
                set,
                fate,
                ctx: c.clone(),
            });
        }
    }

    fn drop(&mut self, set: HeaderSet, reason: DropReason, at: ResId, c: &Ctx) {
        self.emit(set, Fate::Dropped { reason, at }, c);
    }

    fn unknown(&mut self, set: HeaderSet, why: &str, c: &Ctx) {
        self.emit(set, Fate::NotAnalysed(why.to_string()), c);
    }

    // ----- pre-images -------------------------------------------------------------------

    /// The original headers whose current packet lies in `f`.
    fn pre(&self, t: &Xf, f: &HBox) -> Pre {
        let mut b = self.dom;
        let mut unsure = false;
        for (d, expr) in t.iter().enumerate().take(DIMS) {
            let (lo, hi) = f.range(d);
            if (lo, hi) == self.dom.range(d) {
                // Unconstrained: every value passes, whatever it comes from (an offset field
                // may leave the domain, but only for values no header has).
                continue;
            }
            match *expr {
                Expr::Orig(k, add) => {
                    let k = k as usize;
                    let (olo, ohi) = if add >= 0 {
                        let a = add as u128;
                        match hi.checked_sub(a) {
                            Some(h) => (lo.saturating_sub(a), h),
                            None => return Pre::Empty,
                        }
                    } else {
                        let a = add.unsigned_abs() as u128;
                        (lo.saturating_add(a), hi.saturating_add(a))
                    };
                    match b.with(k, olo, ohi) {
                        Some(x) => b = x,
                        None => return Pre::Empty,
                    }
                }
                Expr::Const(v) => {
                    if v < lo || v > hi {
                        return Pre::Empty;
                    }
                }
                Expr::NatPort(_) => {
                    if NAT_PORTS.1 < lo || NAT_PORTS.0 > hi {
                        return Pre::Empty;
                    }
                    if !(lo <= NAT_PORTS.0 && NAT_PORTS.1 <= hi) {
                        unsure = true;
                    }
                }
            }
        }
        if unsure {
            Pre::Unsure(b)
        } else {
            Pre::Sure(b)
        }
    }

    /// The part of `s` whose current field `d` lies in `[lo, hi]`, and the rest.
    fn split_field(
        &self,
        s: &HeaderSet,
        t: &Xf,
        d: usize,
        lo: u128,
        hi: u128,
    ) -> (HeaderSet, HeaderSet) {
        let f = self.dom.with(d, lo, hi);
        match f.map(|f| self.pre(t, &f)) {
            Some(Pre::Sure(b)) | Some(Pre::Unsure(b)) => (s.intersect_box(&b), s.subtract_box(&b)),
            _ => (HeaderSet::new(), s.clone()),
        }
    }

    /// Split `s` by the current value of field `d` (an address) over sorted, disjoint segments.
    fn partition(
        &self,
        s: &HeaderSet,
        e: Expr,
        segs: &[(u128, u128, usize)],
        keys: usize,
    ) -> (Vec<HeaderSet>, HeaderSet) {
        match e {
            Expr::Const(v) => {
                let mut parts = vec![HeaderSet::new(); keys];
                let i = segs.partition_point(|x| x.1 < v);
                match segs.get(i) {
                    Some(&(lo, _, k)) if lo <= v => {
                        parts[k] = s.clone();
                        (parts, HeaderSet::new())
                    }
                    _ => (parts, s.clone()),
                }
            }
            Expr::Orig(k, 0) => s.partition(k as usize, segs, keys),
            Expr::Orig(k, add) => {
                // Only ICMP types carry an offset, and addresses are never partitioned by type;
                // shift the segments into original coordinates all the same.
                let shifted: Vec<(u128, u128, usize)> = segs
                    .iter()
                    .filter_map(|&(lo, hi, key)| {
                        let f = self.dom.with(k as usize, lo, hi)?;
                        let mut t = identity();
                        t[k as usize] = Expr::Orig(k, add);
                        match self.pre(&t, &f) {
                            Pre::Sure(b) | Pre::Unsure(b) => {
                                Some((b.lo[k as usize], b.hi[k as usize], key))
                            }
                            Pre::Empty => None,
                        }
                    })
                    .collect();
                s.partition(k as usize, &shifted, keys)
            }
            // A NAT port is only ever a source port, never an address: nothing to split.
            Expr::NatPort(_) => (vec![HeaderSet::new(); keys], s.clone()),
        }
    }

    /// The part of `s` whose current field `d` is one of the interface's own addresses.
    fn split_owned(&self, s: &HeaderSet, t: &Xf, d: usize, eni: Idx) -> (HeaderSet, HeaderSet) {
        let segs = &self.p.own_segs[eni as usize][self.fi()];
        let (mut parts, rest) = self.partition(s, t[d], segs, 1);
        (parts.pop().unwrap_or_default(), rest)
    }

    /// Split by ranges (CIDRs): inside any of them, and the rest.
    fn split_ranges(
        &self,
        s: &HeaderSet,
        t: &Xf,
        d: usize,
        ranges: &[(u128, u128)],
    ) -> (HeaderSet, HeaderSet) {
        if ranges.is_empty() {
            return (HeaderSet::new(), s.clone());
        }
        let segs = first_match_segs(ranges, |a| {
            ranges.iter().any(|r| r.0 <= a && a <= r.1).then_some(0)
        });
        let (mut parts, rest) = self.partition(s, t[d], &segs, 1);
        (parts.pop().unwrap_or_default(), rest)
    }

    // ----- filters ----------------------------------------------------------------------

    /// What a NACL entry matches (SPEC §3.3, `NaclEntry::matches`), in current coordinates.
    fn nacl_boxes(&self, e: &NaclEntry, peer_dim: usize) -> Vec<HBox> {
        if net_family(&e.cidr) != self.fam {
            return Vec::new();
        }
        let (lo, hi) = net_range(&e.cidr);
        let Some(base) = self.dom.with(peer_dim, lo, hi) else {
            return Vec::new();
        };
        let Some(p) = e.protocol else {
            return vec![base];
        };
        let Some(base) = base.with(PROTO, p as u128, p as u128) else {
            return Vec::new();
        };
        match p {
            PROTO_TCP | PROTO_UDP => base
                .with(DPORT, e.ports.0 as u128, e.ports.1 as u128)
                .into_iter()
                .collect(),
            PROTO_ICMP => icmp_boxes(base, e.icmp_type, e.icmp_code),
            PROTO_ICMPV6 if matches!(e.cidr, IpNet::V6(_)) => {
                icmp_boxes(base, e.icmp_type, e.icmp_code)
            }
            _ => vec![base],
        }
    }

    /// A network ACL direction over `s`: ordered first match, `*` deny for the rest. Returns
    /// the allowed part; denied and undecidable parts are emitted.
    fn nacl(&mut self, s: HeaderSet, c: &Ctx, subnet: Idx, egress: bool) -> HeaderSet {
        let topo = self.topo();
        let acl = &topo.network_acls[topo.subnets[subnet as usize].network_acl as usize];
        let (entries, peer_dim, reason) = if egress {
            (&acl.egress, DST, DropReason::NaclEgressDenied)
        } else {
            (&acl.ingress, SRC, DropReason::NaclIngressDenied)
        };
        let mut remaining = s;
        let mut allowed = HeaderSet::new();
        let mut denied = HeaderSet::new();
        let mut unsure = HeaderSet::new();
        for e in entries {
            if remaining.is_empty() {
                break;
            }
            for fb in self.nacl_boxes(e, peer_dim) {
                let (b, sure) = match self.pre(&c.t, &fb) {
                    Pre::Empty => continue,
                    Pre::Sure(b) => (b, true),
                    Pre::Unsure(b) => (b, false),
                };
                let m = remaining.intersect_box(&b);
                if m.is_empty() {
                    continue;
                }
                remaining = remaining.subtract_box(&b);
                if !sure {
                    unsure.extend_disjoint(m);
                } else if e.allow {
                    allowed.extend_disjoint(m);
                } else {
                    denied.extend_disjoint(m);
                }
            }
        }
        // What no rule matched meets the `*` deny rule.
        denied.extend_disjoint(remaining);
        let res = acl.res;
        self.drop(denied, reason, res, c);
        self.unknown(unsure, "depends on the port the NAT gateway picks", c);
        allowed.coalesce();
        allowed
    }

    /// Whether two current fields are equal, as a condition on the original header.
    fn same(&self, a: Expr, b: Expr) -> Same {
        use Expr::*;
        match (a, b) {
            (Orig(k, x), Orig(j, y)) if k == j => {
                if x == y {
                    Same::Always
                } else {
                    Same::Never
                }
            }
            (Orig(..), Orig(..)) => Same::Unknown,
            (Orig(k, x), Const(v)) | (Const(v), Orig(k, x)) => {
                let o = v as i128 - x as i128;
                let k = k as usize;
                if k == IDENT {
                    return Same::Unknown;
                }
                if o < 0 || o as u128 > self.dom.hi[k] {
                    Same::Never
                } else {
                    Same::When(k, o as u128)
                }
            }
            (Const(v), Const(w)) => {
                if v == w {
                    Same::Always
                } else {
                    Same::Never
                }
            }
            (NatPort(n), NatPort(m)) if n == m => Same::Always,
            (NatPort(_), Const(v)) | (Const(v), NatPort(_)) => {
                if (NAT_PORTS.0..=NAT_PORTS.1).contains(&v) {
                    Same::Unknown
                } else {
                    Same::Never
                }
            }
            _ => Same::Unknown,
        }
    }

    /// The part of `s` where all the field pairs are equal: (sure, undecidable).
    fn all_same(&self, s: &HeaderSet, pairs: &[(Expr, Expr)]) -> (HeaderSet, HeaderSet) {
        let mut b = self.dom;
        let mut unknown = false;
        for &(x, y) in pairs {
            match self.same(x, y) {
                Same::Always => {}
                Same::Never => return (HeaderSet::new(), HeaderSet::new()),
                Same::When(k, v) => match b.with(k, v, v) {
                    Some(n) => b = n,
                    None => return (HeaderSet::new(), HeaderSet::new()),
                },
                Same::Unknown => unknown = true,
            }
        }
        let m = s.intersect_box(&b);
        if unknown {
            (HeaderSet::new(), m)
        } else {
            (m, HeaderSet::new())
        }
    }

    /// ICMP echo messages (types 0 and 8, ICMPv6 128 and 129), in original coordinates: the
    /// only ICMP packets whose identifier connection tracking and NAT look at.
    fn echo(&self, s: &HeaderSet) -> (HeaderSet, HeaderSet) {
        let mut echo = HeaderSet::new();
        for (p, t) in [
            (PROTO_ICMP, 0u128),
            (PROTO_ICMP, 8),
            (PROTO_ICMPV6, 128),
            (PROTO_ICMPV6, 129),
        ] {
            if let Some(b) = self
                .dom
                .with(PROTO, p as u128, p as u128)
                .and_then(|b| b.with(DPORT, t << 8, (t << 8) | 0xff))
            {
                echo.extend_disjoint(s.intersect_box(&b));
            }
        }
        let rest = s.subtract(&echo);
        (echo, rest)
    }

    /// The part of `s` whose connection-tracking key (`FlowKey`) equals that of entry `e`,
    /// in either direction: (sure, undecidable).
    fn key_match(&self, s: &HeaderSet, t: &Xf, e: &Xf, class: Class) -> (HeaderSet, HeaderSet) {
        self.key_match_in(s, t, e, class, &[false, true])
    }

    /// `key_match` for the given orientations (`true`: the packet goes the other way from the
    /// entry's packet).
    fn key_match_in(
        &self,
        s: &HeaderSet,
        t: &Xf,
        e: &Xf,
        class: Class,
        orientations: &[bool],
    ) -> (HeaderSet, HeaderSet) {
        let mut sure = HeaderSet::new();
        let mut unsure = HeaderSet::new();
        let groups: Vec<(HeaderSet, bool)> = match class {
            Class::Ports => vec![(s.clone(), true)],
            Class::Icmp => {
                let (echo, rest) = self.echo(s);
                vec![(echo, true), (rest, false)]
            }
            Class::Other => vec![(s.clone(), false)],
        };
        for (g, with_ports) in groups {
            if g.is_empty() {
                continue;
            }
            for &swapped in orientations {
                let (a, b) = if swapped { (DST, SRC) } else { (SRC, DST) };
                let mut pairs = vec![(t[SRC], e[a]), (t[DST], e[b])];
                if with_ports {
                    match class {
                        Class::Ports => {
                            let (pa, pb) = if swapped {
                                (DPORT, SPORT)
                            } else {
                                (SPORT, DPORT)
                            };
                            pairs.push((t[SPORT], e[pa]));
                            pairs.push((t[DPORT], e[pb]));
                        }
                        // An echo identifier is the same on both sides of a flow.
                        _ => pairs.push((t[IDENT], e[IDENT])),
                    }
                }
                let (m, u) = self.all_same(&g, &pairs);
                sure = sure.union(&m);
                unsure = unsure.union(&u);
            }
        }
        let unsure = unsure.subtract(&sure);
        (sure, unsure)
    }

    /// Packets of a connection the flow already opened in `zone`: (sure, undecidable).
    fn tracked(&self, s: &HeaderSet, c: &Ctx, zone: u32) -> (HeaderSet, HeaderSet) {
        let mut sure = HeaderSet::new();
        let mut unsure = HeaderSet::new();
        let class_zone = (zone < ZONE_CLASS)
            .then(|| self.p.eni_class.get(zone as usize).map(|k| ZONE_CLASS | k))
            .flatten();
        for (z, e) in &c.tracked {
            let (m, u) = if *z == zone {
                self.key_match(s, &c.t, e, c.class)
            } else if Some(*z) == class_zone {
                // A class entry is the entry of the member that sent its packet: it counts in
                // this interface's zone only where that packet's source was this interface's.
                let (mine, _) = self.split_owned(s, e, SRC, zone);
                self.key_match(&mine, &c.t, e, c.class)
            } else {
                continue;
            };
            sure = sure.union(&m);
            unsure = unsure.union(&u);
        }
        let unsure = unsure.subtract(&sure);
        (sure, unsure)
    }

    /// Packets that are the *reply* direction of a connection tracked in `zone` (the pipeline's
    /// `conntrack.peek(..) == Some(Tracked::Reply)`): (sure, undecidable).
    fn tracked_reply(&self, s: &HeaderSet, c: &Ctx, zone: u32) -> (HeaderSet, HeaderSet) {
        let mut sure = HeaderSet::new();
        let mut unsure = HeaderSet::new();
        for (z, e) in &c.tracked {
            if *z != zone {
                continue;
            }
            let (rs, ru) = self.key_match_in(s, &c.t, e, c.class, &[true]);
            let (is, iu) = self.key_match_in(s, &c.t, e, c.class, &[false]);
            // The same key both ways (source and destination equal) counts as the initiator.
            sure = sure.union(&rs.subtract(&is).subtract(&iu));
            unsure = unsure.union(&ru.union(&rs.intersect(&iu)).subtract(&is));
        }
        let unsure = unsure.subtract(&sure);
        (sure, unsure)
    }

    /// The security-group check of `sg_check`: tracked connections pass, otherwise the union
    /// of the interface's rules decides (group references only until an appliance forwarded).
    fn sg_check(&mut self, s: HeaderSet, c: &mut Ctx, eni: Idx, ingress: bool) -> HeaderSet {
        self.sg_check_in(s, c, eni, eni, ingress)
    }

    /// `sg_check` with connection tracking in `zone` (an interface, or a class of them).
    fn sg_check_in(
        &mut self,
        s: HeaderSet,
        c: &mut Ctx,
        eni: Idx,
        zone: u32,
        ingress: bool,
    ) -> HeaderSet {
        if s.is_empty() {
            return s;
        }
        let topo = self.topo();
        let e = &topo.enis[eni as usize];
        let (by_state, state_unknown) = self.tracked(&s, c, zone);
        let rest = s.subtract(&by_state);
        let rules =
            &self.p.sg_sets[self.p.eni_sg_set[eni as usize] as usize][self.fi()][ingress as usize];
        let mut remaining = rest;
        let mut hull = remaining.hull();
        let mut allowed = HeaderSet::new();
        let mut unsure = Vec::new();
        for (fb, by_reference) in rules {
            let Some(h) = hull else { break };
            if c.via_appliance && *by_reference {
                continue;
            }
            match self.pre(&c.t, fb) {
                Pre::Empty => {}
                Pre::Sure(b) => {
                    if !h.intersects(&b) {
                        continue;
                    }
                    let m = remaining.intersect_box(&b);
                    if !m.is_empty() {
                        remaining = remaining.subtract_box(&b);
                        hull = remaining.hull();
                        allowed.extend_disjoint(m);
                    }
                }
                Pre::Unsure(b) => unsure.push(b),
            }
        }
        // Rules that might match (a NAT port) only matter for what no rule surely admits.
        let mut rule_unknown = HeaderSet::new();
        for b in unsure {
            let m = remaining.intersect_box(&b);
            if !m.is_empty() {
                remaining = remaining.subtract_box(&b);
                rule_unknown.extend_disjoint(m);
            }
        }
        // Denied by the rules but perhaps part of a tracked connection: undecidable.
        let tracked_maybe = remaining.intersect(&state_unknown);
        let denied = remaining.subtract(&state_unknown);
        let culprit = match e.security_groups.as_slice() {
            [g] => topo.security_groups[*g as usize].res,
            _ => e.owner,
        };
        let reason = if ingress {
            DropReason::SgIngressDenied
        } else {
            DropReason::SgEgressDenied
        };
        let mut denied = denied;
        if (ZONE_CLASS..ZONE_EIGW).contains(&zone) && e.security_groups.len() != 1 {
            // The union of several groups denied: the pipeline blames the sending interface,
            // which in a class walk is the member that owns the source address.
            let members = &self.p.classes[(zone & !ZONE_CLASS) as usize];
            for &m in members {
                let (mine, rest) = self.split_owned(&denied, &c.t, SRC, m);
                self.drop(mine, reason, topo.enis[m as usize].owner, c);
                denied = rest;
            }
        }
        self.drop(denied, reason, culprit, c);
        self.unknown(rule_unknown, "depends on the port the NAT gateway picks", c);
        self.unknown(
            tracked_maybe,
            "depends on connection-tracking state (the packet may match a connection it opened itself)",
            c,
        );
        // The pipeline tracks every connection a rule admits.
        if !allowed.is_empty() {
            c.tracked.push((zone, c.t));
        }
        let mut pass = by_state;
        pass.extend_disjoint(allowed);
        pass.coalesce();
        pass
    }

    // ----- stages -----------------------------------------------------------------------

    /// `leave_eni`: a packet leaves an interface.
    pub(crate) fn leave_eni(&mut self, s: HeaderSet, c: Ctx, eni: Idx) {
        self.leave(s, c, eni, &[eni], eni);
    }

    /// Packets leave every interface of a class (`Prepared::classes`) at once, each from its
    /// own addresses: the members share subnet, security groups and checks, so only the source
    /// address tells them apart, and the sets keep it.
    /// Only headers whose source is a member's address are walked (the caller's contract:
    /// which member sent anything else is undefined).
    pub(crate) fn leave_class(&mut self, s: HeaderSet, c: Ctx, class: u32) {
        let members = &self.p.classes[class as usize];
        let mut own = HeaderSet::new();
        for &m in members {
            own.extend_disjoint(self.split_owned(&s, &c.t, SRC, m).0);
        }
        self.leave(own, c, members[0], members, ZONE_CLASS | class);
    }

    fn leave(&mut self, s: HeaderSet, mut c: Ctx, eni: Idx, members: &[Idx], zone: u32) {
        let topo = self.topo();
        let e = &topo.enis[eni as usize];
        let s = if e.source_dest_check {
            let mut owned = HeaderSet::new();
            let mut rest = s;
            for &m in members {
                let (o, r) = self.split_owned(&rest, &c.t, SRC, m);
                owned.extend_disjoint(o);
                rest = r;
            }
            self.drop(rest, DropReason::SourceDestCheck, e.owner, &c);
            owned
        } else {
            s
        };
        if s.is_empty() {
            return;
        }
        // Link-local services answer on the host, before any filter.
        let s = self.services(s, &c, e.vpc);
        let subnet_idx = e.subnet;
        let subnet = &topo.subnets[subnet_idx as usize];
        let ll: &[(u128, u128)] = match self.fam {
            Family::V4 => &[(0xa9fe_0000, 0xa9fe_ffff)],
            Family::V6 => &[
                (0xfe80 << 112, (0xfe80 << 112) | ((1u128 << 118) - 1)),
                (0xfd00_0ec2 << 96, (0xfd00_0ec2 << 96) | ((1u128 << 96) - 1)),
            ],
        };
        let (link_local, s) = self.split_ranges(&s, &c.t, DST, ll);
        let rt = topo.route_tables[subnet.route_table as usize].res;
        self.drop(link_local, DropReason::NoRoute, rt, &c);
        let s = if let EniKind::VpcEndpoint(x) = e.kind {
            // An interface endpoint's interface sends nothing but replies.
            let (reply, unknown) = self.tracked_reply(&s, &c, zone);
            self.unknown(
                unknown.clone(),
                "depends on connection-tracking state (whether the packet answers a connection made to the endpoint)",
                &c,
            );
            let res = topo.vpc_endpoints[x as usize].res;
            self.drop(
                s.subtract(&reply).subtract(&unknown),
                DropReason::VpceNotInitiator,
                res,
                &c,
            );
            reply
        } else {
            s
        };
        // A target's replies to load-balanced clients go back through the load balancer: that
        // needs load-balancer state, which only a walk through the load balancer creates, and
        // those walks stop at it (below), so no set here carries such state.
        let s = match e.kind {
            EniKind::LoadBalancer(_) => {
                self.unknown(s, NLB, &c);
                return;
            }
            EniKind::NatGateway(_) => s,
            _ => self.sg_check_in(s, &mut c, eni, zone, false),
        };
        if s.is_empty() {
            return;
        }
        let cidr = match self.fam {
            Family::V4 => subnet
                .cidr_v4
                .map(|n| prefix_range(n.network().to_bits() as u128, n.prefix_len(), 32)),
            Family::V6 => subnet
                .cidr_v6
                .map(|n| prefix_range(n.network().to_bits(), n.prefix_len(), 128)),
        };
        let (inside, outside) = match cidr {
            Some(r) => self.split_ranges(&s, &c.t, DST, &[r]),
            None => (HeaderSet::new(), s),
        };
        if !inside.is_empty() {
            // Same subnet: delivered at layer 2, no route table, no NACL.
            let segs = &self.p.vpc_enis[subnet.vpc as usize][self.fi()];
            let (parts, rest) = self.partition(&inside, c.t[DST], segs, topo.enis.len());
            let mut nowhere = rest;
            for (d, part) in parts.into_iter().enumerate() {
                if part.is_empty() {
                    continue;
                }
                if topo.enis[d].subnet == subnet_idx {
                    self.enter_eni(part, c.clone(), d as Idx, Some(subnet_idx));
                } else {
                    nowhere.extend_disjoint(part);
                }
            }
            self.drop(nowhere, DropReason::NoDestination, subnet.res, &c);
        }
        self.route(outside, c, subnet_idx);
    }

    /// The Amazon DNS resolver, instance metadata and time sync: delivered without filtering.
    fn services(&mut self, s: HeaderSet, c: &Ctx, vpc: Idx) -> HeaderSet {
        let topo = self.topo();
        let mut points: Vec<(u128, usize)> = match self.fam {
            Family::V4 => vec![
                (0xa9fe_a9fd, Topology::AMAZON_DNS.0 as usize),
                (0xa9fe_a9fe, Topology::IMDS.0 as usize),
                (0xa9fe_a97b, Topology::TIME_SYNC.0 as usize),
            ],
            Family::V6 => {
                let base: u128 = 0xfd00_0ec2 << 96;
                vec![
                    (base | 0x253, Topology::AMAZON_DNS.0 as usize),
                    (base | 0x254, Topology::IMDS.0 as usize),
                    (base | 0x123, Topology::TIME_SYNC.0 as usize),
                ]
            }
        };
        if self.fam == Family::V4 {
            if let Some(r) = topo.vpcs[vpc as usize].resolver_v4 {
                points.push((r.to_bits() as u128, Topology::AMAZON_DNS.0 as usize));
            }
        }
        let segs = point_segs(points);
        let (parts, rest) = self.partition(&s, c.t[DST], &segs, 4);
        for (svc, part) in parts.into_iter().enumerate() {
            self.emit(
                part,
                Fate::Delivered {
                    to: ResId(svc as u32),
                    eni: None,
                },
                c,
            );
        }
        rest
    }

    /// `route`: the subnet's route table, then its outbound NACL, then the target.
    fn route(&mut self, s: HeaderSet, c: Ctx, subnet_idx: Idx) {
        if s.is_empty() {
            return;
        }
        let topo = self.topo();
        let subnet = &topo.subnets[subnet_idx as usize];
        let rt_idx = subnet.route_table as usize;
        let rt = &topo.route_tables[rt_idx];
        let segs = &self.p.route_segs[rt_idx][self.fi()];
        let (parts, none) = self.partition(&s, c.t[DST], segs, rt.routes.len());
        self.drop(none, DropReason::NoRoute, rt.res, &c);
        for (ri, part) in parts.into_iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            let route = &rt.routes[ri];
            if let RouteTarget::Blackhole { .. } = route.target {
                self.drop(part, DropReason::BlackholeRoute, rt.res, &c);
                continue;
            }
            let part = self.nacl(part, &c, subnet_idx, true);
            if part.is_empty() {
                continue;
            }
            let c = c.clone();
            let vpc = subnet.vpc;
            // Targets added to the pipeline after this walker was written are reported, not
            // guessed: the wildcard arm is unreachable until such a variant exists.
            #[allow(unreachable_patterns)]
            match &route.target {
                RouteTarget::Local => self.local(part, c, vpc, subnet_idx, rt.res),
                RouteTarget::InternetGateway(g) => self.igw_egress(part, c, *g, vpc, subnet_idx),
                RouteTarget::EgressOnlyInternetGateway(g) => self.eigw_egress(part, c, *g),
                RouteTarget::NatGateway(n) => self.nat_outbound(part, c, *n, subnet_idx),
                RouteTarget::NetworkInterface(a) => {
                    self.appliance(part, c, *a, vpc, Some(subnet_idx))
                }
                RouteTarget::Peering(p) => self.peering(part, c, *p, vpc),
                RouteTarget::TransitGateway(t) => self.tgw_from_vpc(part, c, *t, subnet_idx),
                RouteTarget::VpnGateway(g) => self.vgw_egress(part, c, *g, vpc),
                RouteTarget::GatewayEndpoint(x) => self.gateway_endpoint(part, c, *x),
                RouteTarget::GatewayLoadBalancerEndpoint(_) => self.unknown(part, GWLB, &c),
                RouteTarget::Blackhole { .. } => {}
                other => {
                    let kind = format!("{other:?}");
                    let kind = kind.split(['(', ' ', '{']).next().unwrap_or("").to_string();
                    self.unknown(part, &format!("route target {kind}"), &c);
                }
            }
        }
    }

    /// `local`: deliver to the interface that owns the destination in this VPC.
    fn local(&mut self, s: HeaderSet, c: Ctx, vpc: Idx, from_subnet: Idx, rt: ResId) {
        let segs = &self.p.vpc_enis[vpc as usize][self.fi()];
        let (parts, rest) = self.partition(&s, c.t[DST], segs, self.topo().enis.len());
        self.drop(rest, DropReason::NoDestination, rt, &c);
        for (d, part) in parts.into_iter().enumerate() {
            if !part.is_empty() {
                self.enter_eni(part, c.clone(), d as Idx, Some(from_subnet));
            }
        }
    }

    /// `enter_eni`: a packet arrives at interface `d`.
    fn enter_eni(&mut self, s: HeaderSet, mut c: Ctx, d: Idx, from_subnet: Option<Idx>) {
        let topo = self.topo();
        let e = &topo.enis[d as usize];
        let s = if from_subnet != Some(e.subnet) {
            self.nacl(s, &c, e.subnet, false)
        } else {
            s
        };
        if s.is_empty() {
            return;
        }
        if let EniKind::NatGateway(n) = e.kind {
            self.nat_inbound(s, c, n);
            return;
        }
        if let EniKind::LoadBalancer(_) = e.kind {
            self.unknown(s, NLB, &c);
            return;
        }
        let s = self.sg_check(s, &mut c, d, true);
        let s = if e.source_dest_check {
            let (owned, rest) = self.split_owned(&s, &c.t, DST, d);
            self.drop(rest, DropReason::SourceDestCheck, e.owner, &c);
            owned
        } else {
            s
        };
        self.emit(
            s,
            Fate::Delivered {
                to: e.owner,
                eni: Some(d),
            },
            &c,
        );
    }

    /// `exit_to_internet`: out, or back in when the topology owns the destination.
    fn exit_to_internet(&mut self, s: HeaderSet, mut c: Ctx, gateway: ResId) {
        let (owned, out) = match self.fam {
            Family::V4 => {
                let (parts, rest) =
                    self.partition(&s, c.t[DST], &self.p.public_segs, self.p.public_v4.len());
                let mut owned = HeaderSet::new();
                for p in parts {
                    owned.extend_disjoint(p);
                }
                (owned, rest)
            }
            Family::V6 => {
                let (parts, rest) =
                    self.partition(&s, c.t[DST], &self.p.v6_vpcs, self.topo().vpcs.len());
                let mut owned = HeaderSet::new();
                for p in parts {
                    owned.extend_disjoint(p);
                }
                (owned, rest)
            }
        };
        self.emit(
            out,
            Fate::Exited {
                via: gateway,
                vpn: None,
            },
            &c,
        );
        if owned.is_empty() {
            return;
        }
        if c.forwards_left == 0 {
            self.drop(owned, DropReason::TtlExceeded, gateway, &c);
            return;
        }
        c.forwards_left -= 1;
        self.arrive_from_internet(owned, c);
    }

    fn igw_egress(&mut self, s: HeaderSet, c: Ctx, g: Idx, vpc: Idx, from_subnet: Idx) {
        let topo = self.topo();
        let igw = &topo.internet_gateways[g as usize];
        if igw.vpc != Some(vpc) {
            self.drop(s, DropReason::BlackholeRoute, igw.res, &c);
            return;
        }
        let s = match igw.route_table {
            // Sources the gateway route table steers through an appliance must leave through
            // it (INGRESS_RTB_TRAFFIC_REDIRECTION): the route is looked up by source address.
            Some(rt) => {
                let table = &topo.route_tables[rt as usize];
                let segs = &self.p.route_segs[rt as usize][self.fi()];
                let (parts, mut ok) = self.partition(&s, c.t[SRC], segs, table.routes.len());
                for (ri, part) in parts.into_iter().enumerate() {
                    match table.routes[ri].target {
                        RouteTarget::NetworkInterface(a)
                            if topo.enis[a as usize].subnet != from_subnet =>
                        {
                            self.drop(part, DropReason::ApplianceBypassed, igw.res, &c)
                        }
                        RouteTarget::GatewayLoadBalancerEndpoint(x)
                            if topo.gwlb.endpoints[x as usize].subnet != from_subnet =>
                        {
                            self.drop(part, DropReason::ApplianceBypassed, igw.res, &c)
                        }
                        _ => ok.extend_disjoint(part),
                    }
                }
                ok
            }
            None => s,
        };
        if s.is_empty() {
            return;
        }
        match self.fam {
            Family::V4 => {
                let private: Vec<(u128, u128)> = PRIVATE_V4
                    .iter()
                    .map(|&(n, l)| prefix_range(n as u128, l, 32))
                    .collect();
                let (private, s) = self.split_ranges(&s, &c.t, DST, &private);
                self.drop(private, DropReason::IgwPrivateAddress, igw.res, &c);
                let mapped = &self.p.vpc_public[vpc as usize];
                let segs = point_segs(mapped.iter().enumerate().map(|(i, m)| (m.0, i)));
                let (parts, rest) = self.partition(&s, c.t[SRC], &segs, mapped.len());
                self.drop(rest, DropReason::NoPublicIp, igw.res, &c);
                for (i, part) in parts.into_iter().enumerate() {
                    if part.is_empty() {
                        continue;
                    }
                    let mut c = c.clone();
                    c.t[SRC] = Expr::Const(mapped[i].1);
                    self.exit_to_internet(part, c, igw.res);
                }
            }
            Family::V6 => {
                let segs = &self.p.vpc_enis[vpc as usize][1];
                let (parts, rest) = self.partition(&s, c.t[SRC], segs, topo.enis.len());
                self.drop(rest, DropReason::NoPublicIp, igw.res, &c);
                let mut ok = HeaderSet::new();
                for p in parts {
                    ok.extend_disjoint(p);
                }
                self.exit_to_internet(ok, c, igw.res);
            }
        }
    }

    fn eigw_egress(&mut self, s: HeaderSet, mut c: Ctx, g: Idx) {
        let res = self.topo().egress_only_igws[g as usize].res;
        if self.fam == Family::V4 {
            self.drop(s, DropReason::NoRoute, res, &c);
            return;
        }
        // The gateway tracks the flow (or already did): replies may come back.
        c.tracked.push((ZONE_EIGW | g, c.t));
        self.exit_to_internet(s, c, res);
    }

    /// TCP and ICMP echo (`icmp_type` 8 towards the service, 0 back): what a gateway endpoint
    /// carries (`endpoint::gateway_admits`); and the rest.
    fn gateway_protocols(&self, s: &HeaderSet, c: &Ctx, icmp_type: u128) -> (HeaderSet, HeaderSet) {
        let p = |v: u8| v as u128;
        let (tcp, _) = self.split_field(s, &c.t, PROTO, p(PROTO_TCP), p(PROTO_TCP));
        let (icmp, _) = self.split_field(s, &c.t, PROTO, p(PROTO_ICMP), p(PROTO_ICMP));
        let (echo, _) =
            self.split_field(&icmp, &c.t, DPORT, icmp_type << 8, (icmp_type << 8) | 0xff);
        let mut ok = tcp;
        ok.extend_disjoint(echo);
        let rest = s.subtract(&ok);
        (ok, rest)
    }

    /// `gateway_endpoint`: out of the VPC to the AWS service through a gateway endpoint.
    fn gateway_endpoint(&mut self, s: HeaderSet, c: Ctx, x: Idx) {
        let res = self.topo().vpc_endpoints[x as usize].res;
        let (ok, no) = self.gateway_protocols(&s, &c, 8);
        self.drop(no, DropReason::VpceGatewayProtocol, res, &c);
        self.emit(
            ok,
            Fate::Exited {
                via: res,
                vpn: None,
            },
            &c,
        );
    }

    /// `arrive_from_gateway_endpoint`: a service's packet to an interface whose subnet routes
    /// the service's address through a gateway endpoint comes back through it. Returns the
    /// rest, which arrives from the internet.
    fn gateway_endpoint_replies(&mut self, s: HeaderSet, c: &Ctx) -> HeaderSet {
        let topo = self.topo();
        let segs = &self.p.owner_segs[self.fi()];
        let (parts, mut rest) = self.partition(&s, c.t[DST], segs, topo.enis.len());
        for (d, part) in parts.into_iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            let rt = topo.subnets[topo.enis[d].subnet as usize].route_table as usize;
            let table = &topo.route_tables[rt];
            let (routes, other) = self.partition(
                &part,
                c.t[SRC],
                &self.p.route_segs[rt][self.fi()],
                table.routes.len(),
            );
            rest.extend_disjoint(other);
            for (ri, r) in routes.into_iter().enumerate() {
                if r.is_empty() {
                    continue;
                }
                let RouteTarget::GatewayEndpoint(x) = table.routes[ri].target else {
                    rest.extend_disjoint(r);
                    continue;
                };
                let res = topo.vpc_endpoints[x as usize].res;
                let (ok, no) = self.gateway_protocols(&r, c, 0);
                self.drop(no, DropReason::VpceGatewayProtocol, res, c);
                if !ok.is_empty() {
                    self.enter_eni(ok, c.clone(), d as Idx, None);
                }
            }
        }
        rest
    }

    /// `arrive_from_internet`: the gateway of the VPC that owns the destination takes it in.
    pub(crate) fn arrive_from_internet(&mut self, s: HeaderSet, c: Ctx) {
        if s.is_empty() {
            return;
        }
        let topo = self.topo();
        let s = if topo.vpc_endpoints.is_empty() {
            s
        } else {
            self.gateway_endpoint_replies(s, &c)
        };
        if s.is_empty() {
            return;
        }
        match self.fam {
            Family::V4 => {
                let (parts, rest) =
                    self.partition(&s, c.t[DST], &self.p.public_segs, self.p.public_v4.len());
                self.drop(rest, DropReason::NotMapped, ResId::INTERNET, &c);
                for (i, part) in parts.into_iter().enumerate() {
                    if part.is_empty() {
                        continue;
                    }
                    let m = self.p.public_v4[i].1;
                    let eni = &topo.enis[m.eni as usize];
                    let Some(g) = topo.vpcs[eni.vpc as usize].internet_gateway else {
                        self.drop(part, DropReason::NotMapped, ResId::INTERNET, &c);
                        continue;
                    };
                    let igw = topo.internet_gateways[g as usize].res;
                    let private: Vec<(u128, u128)> = PRIVATE_V4
                        .iter()
                        .map(|&(n, l)| prefix_range(n as u128, l, 32))
                        .collect();
                    let (bad, part) = self.split_ranges(&part, &c.t, SRC, &private);
                    self.drop(bad, DropReason::IgwPrivateAddress, igw, &c);
                    if part.is_empty() {
                        continue;
                    }
                    let mut c = c.clone();
                    c.t[DST] = Expr::Const(m.private.to_bits() as u128);
                    match topo.internet_gateways[g as usize].route_table {
                        Some(rt) => self.edge_route(part, c, rt, eni.vpc, true),
                        None => self.enter_eni(part, c, m.eni, None),
                    }
                }
            }
            Family::V6 => {
                let (parts, rest) = self.partition(&s, c.t[DST], &self.p.v6_vpcs, topo.vpcs.len());
                self.drop(rest, DropReason::NotMapped, ResId::INTERNET, &c);
                for (vpc, part) in parts.into_iter().enumerate() {
                    if part.is_empty() {
                        continue;
                    }
                    let v = &topo.vpcs[vpc];
                    let (via_eigw, unknown) = match v.egress_only_igw {
                        Some(g) => self.tracked(&part, &c, ZONE_EIGW | g),
                        None => (HeaderSet::new(), HeaderSet::new()),
                    };
                    self.unknown(
                        unknown.clone(),
                        "depends on the egress-only gateway's connection tracking",
                        &c,
                    );
                    let rest = part.subtract(&via_eigw).subtract(&unknown);
                    let mut arrivals = Vec::new();
                    if let Some(g) = v.egress_only_igw {
                        arrivals.push((via_eigw, topo.egress_only_igws[g as usize].res, None));
                    }
                    if let Some(g) = v.internet_gateway {
                        let igw = &topo.internet_gateways[g as usize];
                        arrivals.push((rest, igw.res, igw.route_table));
                    } else if let Some(g) = v.egress_only_igw {
                        self.drop(
                            rest,
                            DropReason::EgressOnly,
                            topo.egress_only_igws[g as usize].res,
                            &c,
                        );
                    } else {
                        self.drop(rest, DropReason::NotMapped, ResId::INTERNET, &c);
                    }
                    for (set, gateway, edge) in arrivals {
                        if set.is_empty() {
                            continue;
                        }
                        if let Some(rt) = edge {
                            self.edge_route(set, c.clone(), rt, vpc as Idx, true);
                            continue;
                        }
                        let segs = &self.p.vpc_enis[vpc][1];
                        let (parts, nowhere) =
                            self.partition(&set, c.t[DST], segs, topo.enis.len());
                        self.drop(nowhere, DropReason::NoDestination, gateway, &c);
                        for (d, p) in parts.into_iter().enumerate() {
                            if !p.is_empty() {
                                self.enter_eni(p, c.clone(), d as Idx, None);
                            }
                        }
                    }
                }
            }
        }
    }

    /// What a NAT gateway translates (`nat::supported`): IPv4 TCP, UDP and ICMP echo.
    fn nat_supported(&self, s: &HeaderSet, c: &Ctx) -> (HeaderSet, HeaderSet) {
        if self.fam == Family::V6 {
            return (HeaderSet::new(), s.clone());
        }
        match c.class {
            Class::Ports => (s.clone(), HeaderSet::new()),
            Class::Other => (HeaderSet::new(), s.clone()),
            Class::Icmp => {
                let (icmp, _) =
                    self.split_field(s, &c.t, PROTO, PROTO_ICMP as u128, PROTO_ICMP as u128);
                let (reply, _) = self.split_field(&icmp, &c.t, DPORT, 0, 0xff);
                let (request, _) = self.split_field(&icmp, &c.t, DPORT, 8 << 8, (8 << 8) | 0xff);
                let ok = reply.union(&request);
                let no = s.subtract(&ok);
                (ok, no)
            }
        }
    }

    /// `nat_outbound`: a client's packet reaches a NAT gateway through a route.
    fn nat_outbound(&mut self, s: HeaderSet, mut c: Ctx, n: Idx, from_subnet: Idx) {
        let topo = self.topo();
        let nat = &topo.nat_gateways[n as usize];
        if topo.subnets[nat.subnet as usize].vpc != topo.subnets[from_subnet as usize].vpc {
            self.drop(s, DropReason::BlackholeRoute, nat.res, &c);
            return;
        }
        let s = if from_subnet != nat.subnet {
            self.nacl(s, &c, nat.subnet, false)
        } else {
            s
        };
        let (ok, unsupported) = self.nat_supported(&s, &c);
        self.drop(unsupported, DropReason::NatUnsupported, nat.res, &c);
        if ok.is_empty() {
            return;
        }
        // A fresh table always has room: the primary address, a port of the gateway's choosing.
        let Some(addr) = nat.addresses.first() else {
            self.drop(ok, DropReason::NatPortsExhausted, nat.res, &c);
            return;
        };
        let inside = c.t;
        let session = c.nat.len() as u32;
        c.t[SRC] = Expr::Const(addr.to_bits() as u128);
        match c.class {
            Class::Ports => c.t[SPORT] = Expr::NatPort(session),
            _ => c.t[IDENT] = Expr::NatPort(session),
        }
        c.nat.push(NatSession {
            inside,
            outside: c.t,
        });
        self.route(ok, c, nat.subnet);
    }

    /// `nat_inbound`: translate back what matches a session of this flow.
    fn nat_inbound(&mut self, s: HeaderSet, c: Ctx, n: Idx) {
        let topo = self.topo();
        let nat = &topo.nat_gateways[n as usize];
        let (ok, unsupported) = self.nat_supported(&s, &c);
        self.drop(unsupported, DropReason::NatUnsupported, nat.res, &c);
        let mut remaining = ok;
        for sess in &c.nat {
            if remaining.is_empty() {
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
            let (m, u) = self.all_same(&remaining, &pairs);
            remaining = remaining.subtract(&m).subtract(&u);
            self.unknown(u, "depends on the NAT gateway's translation table", &c);
            if m.is_empty() {
                continue;
            }
            let mut c2 = c.clone();
            c2.t[DST] = sess.inside[SRC];
            match c.class {
                Class::Ports => c2.t[DPORT] = sess.inside[SPORT],
                _ => c2.t[IDENT] = sess.inside[IDENT],
            }
            self.route(m, c2, nat.subnet);
        }
        self.drop(remaining, DropReason::NatNoSession, nat.res, &c);
    }

    /// `appliance`: a route sends the packet to a firewall or router instance.
    fn appliance(&mut self, s: HeaderSet, mut c: Ctx, a: Idx, vpc: Idx, from_subnet: Option<Idx>) {
        let topo = self.topo();
        let e = &topo.enis[a as usize];
        if e.vpc != vpc || matches!(e.kind, EniKind::NatGateway(_)) {
            self.drop(s, DropReason::BlackholeRoute, e.owner, &c);
            return;
        }
        let s = if from_subnet != Some(e.subnet) {
            self.nacl(s, &c, e.subnet, false)
        } else {
            s
        };
        let s = self.sg_check(s, &mut c, a, true);
        let (mine, s) = self.split_owned(&s, &c.t, DST, a);
        self.emit(
            mine,
            Fate::Delivered {
                to: e.owner,
                eni: Some(a),
            },
            &c,
        );
        if s.is_empty() {
            return;
        }
        if e.source_dest_check {
            self.drop(s, DropReason::SourceDestCheck, e.owner, &c);
            return;
        }
        if c.ttl <= 1 || c.forwards_left == 0 {
            self.drop(s, DropReason::TtlExceeded, e.owner, &c);
            return;
        }
        c.forwards_left -= 1;
        c.ttl -= 1;
        c.via_appliance = true;
        self.leave_eni(s, c, a);
    }

    fn peering(&mut self, s: HeaderSet, c: Ctx, p: Idx, from_vpc: Idx) {
        let topo = self.topo();
        let pcx = &topo.peerings[p as usize];
        let Some(peer) = pcx.peer_of(from_vpc) else {
            self.drop(s, DropReason::BlackholeRoute, pcx.res, &c);
            return;
        };
        let pv = &topo.vpcs[peer as usize];
        let cidrs: Vec<(u128, u128)> = match self.fam {
            Family::V4 => pv
                .cidrs_v4
                .iter()
                .map(|n| prefix_range(n.network().to_bits() as u128, n.prefix_len(), 32))
                .collect(),
            Family::V6 => pv
                .cidrs_v6
                .iter()
                .map(|n| prefix_range(n.network().to_bits(), n.prefix_len(), 128))
                .collect(),
        };
        let (inside, outside) = self.split_ranges(&s, &c.t, DST, &cidrs);
        self.drop(outside, DropReason::PeeringNotTransitive, pcx.res, &c);
        let segs = &self.p.vpc_enis[peer as usize][self.fi()];
        let (parts, rest) = self.partition(&inside, c.t[DST], segs, topo.enis.len());
        self.drop(rest, DropReason::NoDestination, pcx.res, &c);
        for (d, part) in parts.into_iter().enumerate() {
            if !part.is_empty() {
                self.enter_eni(part, c.clone(), d as Idx, None);
            }
        }
    }

    /// The addresses of `vpc` in the walk's family, as ranges.
    fn vpc_cidrs(&self, vpc: Idx) -> Vec<(u128, u128)> {
        let v = &self.topo().vpcs[vpc as usize];
        match self.fam {
            Family::V4 => v
                .cidrs_v4
                .iter()
                .map(|n| prefix_range(n.network().to_bits() as u128, n.prefix_len(), 32))
                .collect(),
            Family::V6 => v
                .cidrs_v6
                .iter()
                .map(|n| prefix_range(n.network().to_bits(), n.prefix_len(), 128))
                .collect(),
        }
    }

    /// Deliver to the interface of `vpc` that owns the destination, from outside the VPC; the
    /// rest is dropped with `NO_DESTINATION` at `at`.
    fn deliver_in_vpc(&mut self, s: HeaderSet, c: &Ctx, vpc: Idx, at: ResId) {
        let segs = &self.p.vpc_enis[vpc as usize][self.fi()];
        let (parts, rest) = self.partition(&s, c.t[DST], segs, self.topo().enis.len());
        self.drop(rest, DropReason::NoDestination, at, c);
        for (d, part) in parts.into_iter().enumerate() {
            if !part.is_empty() {
                self.enter_eni(part, c.clone(), d as Idx, None);
            }
        }
    }

    /// `edge_route`: a gateway route table decides for traffic entering `vpc` through `gateway`.
    fn edge_route(&mut self, s: HeaderSet, c: Ctx, rt_idx: Idx, vpc: Idx, from_internet: bool) {
        if s.is_empty() {
            return;
        }
        let topo = self.topo();
        let rt = &topo.route_tables[rt_idx as usize];
        let segs = &self.p.route_segs[rt_idx as usize][self.fi()];
        let (parts, none) = self.partition(&s, c.t[DST], segs, rt.routes.len());
        self.drop(none, DropReason::NoRoute, rt.res, &c);
        for (ri, part) in parts.into_iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            match rt.routes[ri].target {
                RouteTarget::Local => self.deliver_in_vpc(part, &c, vpc, rt.res),
                RouteTarget::NetworkInterface(a) => {
                    let e = &topo.enis[a as usize];
                    if from_internet && self.fam == Family::V4 && e.public_v4.is_empty() {
                        self.drop(part, DropReason::IngressApplianceNoPublicIp, e.owner, &c);
                    } else {
                        self.appliance(part, c.clone(), a, vpc, None);
                    }
                }
                RouteTarget::GatewayLoadBalancerEndpoint(_) if from_internet => {
                    self.unknown(part, GWLB, &c)
                }
                // Blackholes, and targets a gateway route table cannot have.
                _ => self.drop(part, DropReason::BlackholeRoute, rt.res, &c),
            }
        }
    }

    /// `tgw_from_vpc`: a subnet's route sends the packet to transit gateway `t`.
    fn tgw_from_vpc(&mut self, s: HeaderSet, c: Ctx, t: Idx, from_subnet: Idx) {
        let topo = self.topo();
        let subnet = &topo.subnets[from_subnet as usize];
        let tgw = topo.transit_gateways[t as usize].res;
        let attachment = topo.vpcs[subnet.vpc as usize]
            .tgw_attachments
            .iter()
            .copied()
            .find(|&a| topo.tgw_attachments[a as usize].tgw == t);
        let Some(a) = attachment else {
            self.drop(s, DropReason::BlackholeRoute, tgw, &c);
            return;
        };
        let att = &topo.tgw_attachments[a as usize];
        let Some(att_subnet) = att.subnet_in(topo, subnet.az) else {
            self.drop(s, DropReason::TgwNoAttachmentInAz, att.res, &c);
            return;
        };
        let s = self.nacl(s, &c, att_subnet, false);
        if s.is_empty() {
            return;
        }
        self.tgw_route(s, c, a, Some(subnet.az));
    }

    /// `arrive_at_tgw`: the walk starts at a transit gateway attachment.
    pub(crate) fn arrive_at_tgw(&mut self, s: HeaderSet, c: Ctx, a: Idx) {
        let topo = self.topo();
        let att = &topo.tgw_attachments[a as usize];
        if let AttachmentKind::Vpn(conn) = att.kind {
            self.arrive_from_onprem(s, c, conn);
            return;
        }
        let az = att.subnets.first().map(|&s| topo.subnets[s as usize].az);
        self.tgw_route(s, c, a, az);
    }

    /// `tgw_route`: the transit gateway route table associated with attachment `a` decides.
    fn tgw_route(&mut self, s: HeaderSet, mut c: Ctx, a: Idx, entry_az: Option<u32>) {
        if s.is_empty() {
            return;
        }
        let topo = self.topo();
        let att = &topo.tgw_attachments[a as usize];
        let tgw = topo.transit_gateways[att.tgw as usize].res;
        if c.forwards_left == 0 {
            self.drop(s, DropReason::TtlExceeded, tgw, &c);
            return;
        }
        c.forwards_left -= 1;
        let Some(rt_idx) = att.route_table else {
            self.drop(s, DropReason::TgwNoAssociation, att.res, &c);
            return;
        };
        let rt = &topo.tgw_route_tables[rt_idx as usize];
        let segs = &self.p.tgw_segs[rt_idx as usize][self.fi()];
        let (parts, none) = self.partition(&s, c.t[DST], segs, rt.routes.len());
        self.drop(none, DropReason::TgwNoRoute, rt.res, &c);
        // Security-group references do not match across a transit gateway.
        c.via_appliance = true;
        for (ri, part) in parts.into_iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            let b = match rt.routes[ri].target {
                TgwRouteTarget::Blackhole => {
                    self.drop(part, DropReason::TgwBlackholeRoute, rt.res, &c);
                    continue;
                }
                TgwRouteTarget::Attachment(b) => b,
            };
            match topo.tgw_attachments[b as usize].kind {
                AttachmentKind::Vpc(_) => self.tgw_egress(part, c.clone(), b, entry_az),
                AttachmentKind::Vpn(conn) => {
                    let res = topo.vpn_connections[conn as usize].res;
                    self.exit_vpn(part, &c, conn, res);
                }
            }
        }
    }

    /// The subnet a packet leaves the transit gateway through (`TgwAttachment::egress_subnet`).
    /// Where the gateway picks a zone by flow hash, the walk follows every zone (a branch) unless
    /// the flow already made that choice (the request of a reply): the hash is direction-free.
    fn tgw_egress(&mut self, s: HeaderSet, c: Ctx, b: Idx, entry_az: Option<u32>) {
        let topo = self.topo();
        let to = &topo.tgw_attachments[b as usize];
        if !to.appliance_mode {
            if let Some(sub) = entry_az.and_then(|az| to.subnet_in(topo, az)) {
                self.arrive_from_tgw(s, c, sub);
                return;
            }
        }
        let candidates: Vec<Idx> = if to.subnets.is_empty() {
            vec![0]
        } else {
            to.subnets.clone()
        };
        if candidates.len() == 1 || topo.subnets.is_empty() {
            if topo.subnets.is_empty() {
                self.unknown(s, "transit gateway attachment without subnets", &c);
            } else {
                self.arrive_from_tgw(s, c, candidates[0]);
            }
            return;
        }
        let mut rest = s;
        for (att, xf, sub) in c.choices.clone() {
            if att != b || rest.is_empty() {
                continue;
            }
            let (same, _) = self.key_match(&rest, &c.t, &xf, c.class);
            if !same.is_empty() {
                rest = rest.subtract(&same);
                self.arrive_from_tgw(same, c.clone(), sub);
            }
        }
        if rest.is_empty() {
            return;
        }
        for sub in candidates {
            let mut c2 = c.clone();
            c2.branched = true;
            c2.choices.push((b, c.t, sub));
            self.arrive_from_tgw(rest.clone(), c2, sub);
        }
    }

    /// `arrive_from_tgw`: into a VPC through the attachment's subnet `sub`.
    fn arrive_from_tgw(&mut self, s: HeaderSet, c: Ctx, sub: Idx) {
        if s.is_empty() {
            return;
        }
        let topo = self.topo();
        let subnet = &topo.subnets[sub as usize];
        let cidr = match self.fam {
            Family::V4 => subnet.cidr_v4.map(|n| net_range(&IpNet::V4(n))),
            Family::V6 => subnet.cidr_v6.map(|n| net_range(&IpNet::V6(n))),
        };
        let (inside, outside) = match cidr {
            Some(r) => self.split_ranges(&s, &c.t, DST, &[r]),
            None => (HeaderSet::new(), s),
        };
        if !inside.is_empty() {
            let segs = &self.p.vpc_enis[subnet.vpc as usize][self.fi()];
            let (parts, mut nowhere) = self.partition(&inside, c.t[DST], segs, topo.enis.len());
            for (d, part) in parts.into_iter().enumerate() {
                if part.is_empty() {
                    continue;
                }
                if topo.enis[d].subnet == sub {
                    self.enter_eni(part, c.clone(), d as Idx, Some(sub));
                } else {
                    nowhere.extend_disjoint(part);
                }
            }
            self.drop(nowhere, DropReason::NoDestination, subnet.res, &c);
        }
        self.route(outside, c, sub);
    }

    /// `vgw_egress`: a route sends the packet to a virtual private gateway.
    fn vgw_egress(&mut self, s: HeaderSet, c: Ctx, g: Idx, vpc: Idx) {
        let topo = self.topo();
        let vgw = &topo.vpn_gateways[g as usize];
        if vgw.vpc != Some(vpc) {
            self.drop(s, DropReason::BlackholeRoute, vgw.res, &c);
            return;
        }
        let segs = &self.p.vpc_enis[vpc as usize][self.fi()];
        let (parts, foreign) = self.partition(&s, c.t[SRC], segs, topo.enis.len());
        self.drop(foreign, DropReason::VgwSourceNotInVpc, vgw.res, &c);
        let mut ok = HeaderSet::new();
        for p in parts {
            ok.extend_disjoint(p);
        }
        let segs = &self.p.vgw_segs[g as usize][self.fi()];
        let (parts, none) = self.partition(&ok, c.t[DST], segs, topo.vpn_connections.len());
        self.drop(none, DropReason::VgwNoRoute, vgw.res, &c);
        for (conn, part) in parts.into_iter().enumerate() {
            self.exit_vpn(part, &c, conn as Idx, vgw.res);
        }
    }

    /// `exit_vpn`: out to the on-premises network behind connection `conn`.
    fn exit_vpn(&mut self, s: HeaderSet, c: &Ctx, conn: Idx, egress: ResId) {
        self.emit(
            s,
            Fate::Exited {
                via: egress,
                vpn: Some(conn),
            },
            c,
        );
    }

    /// `arrive_from_onprem`: a packet from the network behind VPN connection `conn`.
    pub(crate) fn arrive_from_onprem(&mut self, s: HeaderSet, c: Ctx, conn: Idx) {
        let topo = self.topo();
        match topo.vpn_connections[conn as usize].edge {
            VpnEdge::VpnGateway(g) => self.vgw_ingress(s, c, g),
            VpnEdge::TransitGateway { attachment } => self.tgw_route(s, c, attachment, None),
        }
    }

    /// `vgw_ingress`: a virtual private gateway forwards only into its VPC.
    fn vgw_ingress(&mut self, s: HeaderSet, c: Ctx, g: Idx) {
        if s.is_empty() {
            return;
        }
        let topo = self.topo();
        let vgw = &topo.vpn_gateways[g as usize];
        let Some(vpc) = vgw.vpc else {
            self.drop(s, DropReason::VgwNoRoute, vgw.res, &c);
            return;
        };
        let cidrs = self.vpc_cidrs(vpc);
        let (inside, outside) = self.split_ranges(&s, &c.t, DST, &cidrs);
        self.drop(outside, DropReason::VgwNoRoute, vgw.res, &c);
        if inside.is_empty() {
            return;
        }
        match vgw.route_table {
            Some(rt) => self.edge_route(inside, c, rt, vpc, false),
            None => self.deliver_in_vpc(inside, &c, vpc, vgw.res),
        }
    }
}
