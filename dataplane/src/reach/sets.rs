//! Set algebra on the packet as it is now: the pre-image of a filter over the walk's
//! expressions ([`Xf`]), splits of a set by an address table or an ordered rule list.

use super::expr::{Ctx, Expr, Xf};
use super::match_key::NAT_PORTS;
use super::symbolic::{Sym, Symbolic, PICKED_PORT};
use crate::pipeline::driver::{AddressMap, Rules};
use crate::space::{HBox, HeaderSet};
use crate::topology::maps::OwnAddresses;
use crate::topology::EniIdx;

/// The pre-image of a filter box.
pub(super) enum Pre {
    Empty,
    /// Exactly these original headers match.
    Sure(HBox),
    /// These might match, depending on a port picked from state.
    Unsure(HBox),
}

impl Symbolic<'_, '_> {
    /// The original headers whose current packet lies in `f`.
    pub(super) fn pre(&self, t: &Xf, f: &HBox) -> Pre {
        let mut b = self.dom;
        let mut unsure = false;
        for (d, expr) in t.iter().enumerate().take(crate::space::DIMS) {
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
                Expr::Picked(_) => {
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

    /// Split `s` by the current value of an address (expression `e`) over sorted, disjoint
    /// segments with `keys` dense keys.
    pub(super) fn partition(
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
                // Only ICMP types carry an offset, and addresses are never partitioned by
                // type; shift the segments into original coordinates all the same.
                let shifted: Vec<(u128, u128, usize)> = segs
                    .iter()
                    .filter_map(|&(lo, hi, key)| {
                        let f = self.dom.with(k as usize, lo, hi)?;
                        let mut t = super::expr::identity();
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
            // A picked port is never an address: nothing to split.
            Expr::Picked(_) => (vec![HeaderSet::new(); keys], s.clone()),
        }
    }

    /// The part of `s` whose current `d` is one of `eni`'s addresses (of any member of `eni`'s
    /// class when the walk leaves the class), and the rest.
    pub(super) fn owned(
        &self,
        s: &HeaderSet,
        c: &Ctx,
        d: usize,
        eni: EniIdx,
    ) -> (HeaderSet, HeaderSet) {
        let members: Vec<EniIdx> = match self.class_of_walk(c, eni) {
            Some(k) => self.p.classes[k as usize].clone(),
            None => vec![eni],
        };
        let mut owned = HeaderSet::new();
        let mut rest = s.clone();
        for m in members {
            let (mine, r) = self.split_own(&rest, c.t[d], m);
            owned.extend_disjoint(mine);
            rest = r;
        }
        (owned, rest)
    }

    /// The part of `s` whose field (expression `e`) is one of `eni`'s addresses, and the rest.
    pub(super) fn split_own(&self, s: &HeaderSet, e: Expr, eni: EniIdx) -> (HeaderSet, HeaderSet) {
        let map = OwnAddresses(&self.p.topo.enis[eni]);
        let (segs, keys) = map.segments(self.fam);
        let (mut parts, rest) = self.partition(s, e, &segs, keys);
        (parts.pop().unwrap_or_default(), rest)
    }

    /// An ordered first-match partition of `p`'s set by rule boxes: hands each part a rule
    /// decided to `decided` (in rule order, with the rule) and returns the part no rule
    /// matched; parts that depend on a picked port are reported as not analysed.
    pub(super) fn first_match<R: Rules>(
        &mut self,
        p: &Sym,
        rules: &R,
        mut decided: impl FnMut(R::Key, HeaderSet),
    ) -> HeaderSet {
        let mut remaining = p.set.clone();
        let mut unsure_boxes: Vec<HBox> = Vec::new();
        let mut unsure = HeaderSet::new();
        let mut hull = remaining.hull();
        let this = &*self;
        rules.for_each_box(this.fam, &mut |fb, key| {
            let Some(h) = hull else { return };
            match this.pre(&p.c.t, &fb) {
                Pre::Empty => {}
                Pre::Sure(b) => {
                    if !h.intersects(&b) {
                        return;
                    }
                    let m = remaining.intersect_box(&b);
                    if m.is_empty() {
                        return;
                    }
                    remaining = remaining.subtract_box(&b);
                    hull = remaining.hull();
                    decided(key, m);
                }
                // With every rule deciding alike, a rule that might match matters only for
                // what no rule surely matches; in order, it stops the rules after it.
                Pre::Unsure(b) if R::ANY_MATCH => unsure_boxes.push(b),
                Pre::Unsure(b) => {
                    let m = remaining.intersect_box(&b);
                    if !m.is_empty() {
                        remaining = remaining.subtract_box(&b);
                        hull = remaining.hull();
                        unsure.extend_disjoint(m);
                    }
                }
            }
        });
        for b in unsure_boxes {
            let m = remaining.intersect_box(&b);
            if !m.is_empty() {
                remaining = remaining.subtract_box(&b);
                unsure.extend_disjoint(m);
            }
        }
        self.not_analysed(unsure, &p.c, PICKED_PORT);
        remaining
    }
}
