//! Equality of two fields of the current packet, as a condition on the original header: what
//! connection tracking, NAT sessions and flow-hash choices need to know whether a later packet
//! belongs to a flow the walk created.

use super::expr::{Ctx, Expr, Xf, IDENT};
use super::symbolic::{Symbolic, ZONE_CLASS};
use super::Class;
use crate::aws::Zone;
use crate::aws::NAT_PORTS as PORTS;
use crate::space::{HBox, HeaderSet, DPORT, DST, PROTO, SPORT, SRC};
use crate::topology::EniIdx;

/// Ports picked from state, as numbers.
pub(crate) const NAT_PORTS: (u128, u128) = (PORTS.0 as u128, PORTS.1 as u128);

/// Whether two current fields are equal, as a condition on the original header.
pub(crate) enum Same {
    Always,
    Never,
    /// When original dimension `.0` equals `.1`.
    When(usize, u128),
    /// Not decidable statically (two different original fields, or a picked port).
    Unknown,
}

/// Whether fields `a` and `b` are equal, for original headers in `dom`.
pub(crate) fn same(dom: &HBox, a: Expr, b: Expr) -> Same {
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
            if o < 0 || o as u128 > dom.hi[k] {
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
        (Picked(n), Picked(m)) if n == m => Same::Always,
        (Picked(_), Const(v)) | (Const(v), Picked(_)) => {
            if (NAT_PORTS.0..=NAT_PORTS.1).contains(&v) {
                Same::Unknown
            } else {
                Same::Never
            }
        }
        _ => Same::Unknown,
    }
}

/// What connection tracking knows of a set.
pub(super) struct Lookup {
    pub(super) initiator: HeaderSet,
    pub(super) reply: HeaderSet,
    pub(super) either: HeaderSet,
    pub(super) unknown: HeaderSet,
}

fn union(a: HeaderSet, b: HeaderSet) -> HeaderSet {
    if a.is_empty() {
        b
    } else if b.is_empty() {
        a
    } else {
        a.union(&b)
    }
}

impl Symbolic<'_, '_> {
    /// The class a walk leaves as, when `eni` stands for it.
    pub(super) fn class_of_walk(&self, c: &Ctx, eni: EniIdx) -> Option<u32> {
        c.origin_class
            .filter(|&k| self.p.eni_class.get(eni) == Some(&k))
    }

    /// The zone connection tracking uses for `zone` in this walk.
    pub(super) fn zone_id(&self, c: &Ctx, zone: Zone) -> u32 {
        match zone {
            Zone::Interface(e) => match self.class_of_walk(c, e) {
                Some(k) => ZONE_CLASS | k,
                None => zone.id(),
            },
            Zone::EgressOnlyGateway(_) => zone.id(),
        }
    }

    /// Whether two current fields are equal, as a condition on the original header.
    pub(super) fn same(&self, a: Expr, b: Expr) -> Same {
        super::match_key::same(&self.dom, a, b)
    }

    /// The part of `s` where all the field pairs are equal: (sure, undecidable).
    pub(super) fn all_same(&self, s: &HeaderSet, pairs: &[(Expr, Expr)]) -> (HeaderSet, HeaderSet) {
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
    pub(super) fn echo(&self, s: &HeaderSet) -> (HeaderSet, HeaderSet) {
        let mut echo = HeaderSet::new();
        for (p, t) in [
            (crate::wire::IpProtocol::ICMP, 0u128),
            (crate::wire::IpProtocol::ICMP, 8),
            (crate::wire::IpProtocol::ICMPV6, 128),
            (crate::wire::IpProtocol::ICMPV6, 129),
        ] {
            if let Some(b) = self
                .dom
                .with(PROTO, p.0 as u128, p.0 as u128)
                .and_then(|b| b.with(DPORT, t << 8, (t << 8) | 0xff))
            {
                echo.extend_disjoint(s.intersect_box(&b));
            }
        }
        let rest = s.subtract(&echo);
        (echo, rest)
    }

    /// The part of `s` whose flow key equals that of entry `e` (the current packet `t`),
    /// in the given orientations (`true`: the packet goes the other way from the entry's):
    /// (sure, undecidable). `exact`: ports and identifiers as the direction-free connection
    /// key sees them (none for protocols without ports).
    pub(super) fn key_match(
        &self,
        s: &HeaderSet,
        t: &Xf,
        e: &Xf,
        class: Class,
        orientations: &[bool],
    ) -> (HeaderSet, HeaderSet) {
        let mut sure = HeaderSet::new();
        let mut unsure = HeaderSet::new();
        // This runs for every tracked entry at every filter of a walk: no copies of `s`.
        let mut add = |g: &HeaderSet, with_ports: bool| {
            if g.is_empty() {
                return;
            }
            for &back in orientations {
                let (a, b) = if back { (DST, SRC) } else { (SRC, DST) };
                let addresses = [(t[SRC], e[a]), (t[DST], e[b])];
                let (m, u) = match (with_ports, class) {
                    (false, _) => self.all_same(g, &addresses),
                    (true, Class::Ports) => {
                        let (pa, pb) = if back { (DPORT, SPORT) } else { (SPORT, DPORT) };
                        self.all_same(
                            g,
                            &[
                                addresses[0],
                                addresses[1],
                                (t[SPORT], e[pa]),
                                (t[DPORT], e[pb]),
                            ],
                        )
                    }
                    // An echo identifier is the same on both sides of a flow.
                    (true, _) => {
                        self.all_same(g, &[addresses[0], addresses[1], (t[IDENT], e[IDENT])])
                    }
                };
                sure = union(std::mem::take(&mut sure), m);
                unsure = union(std::mem::take(&mut unsure), u);
            }
        };
        match class {
            Class::Ports => add(s, true),
            Class::Icmp => {
                let (echo, rest) = self.echo(s);
                add(&echo, true);
                add(&rest, false);
            }
            Class::Other => add(s, false),
        }
        let unsure = unsure.subtract(&sure);
        (sure, unsure)
    }

    /// Split `s` by connection tracking in `zone`.
    pub(super) fn lookup(&self, s: &HeaderSet, c: &Ctx, zone: u32) -> Lookup {
        let (mut is, mut iu, mut rs, mut ru) = Default::default();
        // A class entry is the entry of the member that sent its packet: it counts in an
        // interface's zone only where that packet's source was this interface's.
        let class_zone = (zone < ZONE_CLASS)
            .then(|| Zone::interface_of(zone))
            .flatten()
            .and_then(|own| Some((own, ZONE_CLASS | self.p.eni_class.get(own)?)));
        for (z, e) in &c.tracked {
            let mine;
            let s: &HeaderSet = if *z == zone {
                s
            } else if let Some((own, _)) = class_zone.filter(|&(_, k)| k == *z) {
                mine = self.split_own(s, e[SRC], own).0;
                &mine
            } else {
                continue;
            };
            let (a, b) = self.key_match(s, &c.t, e, c.class, &[false]);
            let (x, y) = self.key_match(s, &c.t, e, c.class, &[true]);
            is = union(is, a);
            iu = union(iu, b);
            rs = union(rs, x);
            ru = union(ru, y);
        }
        // The same key both ways (source and destination equal) counts as the initiator.
        let reply = rs.subtract(&is).subtract(&iu);
        let either = rs.intersect(&iu).subtract(&is);
        let unknown = iu.union(&ru).subtract(&is).subtract(&rs);
        Lookup {
            initiator: is,
            reply,
            either,
            unknown,
        }
    }
}
