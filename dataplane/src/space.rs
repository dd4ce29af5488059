//! Header space: sets of packet headers as unions of disjoint boxes.
//!
//! A box is a product of five inclusive ranges: source address, destination address, protocol,
//! source port, destination port (for ICMP the destination-port dimension holds
//! `type * 256 + code`; protocols without ports use port 0 only). Addresses are `u128` for both
//! families; a query only ever mixes boxes of one family, so IPv4 addresses simply stay below
//! 2^32. A [`HeaderSet`] keeps its boxes pairwise disjoint, which makes intersection and
//! subtraction box by box exact and lets membership be answered by the one box that holds a point.

use std::cmp::Ordering;

/// Dimension of the source address (IPv4 addresses stay below 2^32).
pub const SRC: usize = 0;
/// Dimension of the destination address.
pub const DST: usize = 1;
/// Dimension of the IP protocol number, 0–255.
pub const PROTO: usize = 2;
/// Dimension of the source port (only 0 for ICMP and for protocols without ports).
pub const SPORT: usize = 3;
/// Dimension of the destination port; for ICMP and ICMPv6, `type * 256 + code`.
pub const DPORT: usize = 4;
/// Number of dimensions.
pub const DIMS: usize = 5;

/// A point of header space: one header as the five dimensions see it.
pub type Point = [u128; DIMS];

/// A product of inclusive ranges, never empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HBox {
    /// Each dimension's lowest value, inclusive.
    pub lo: [u128; DIMS],
    /// Each dimension's highest value, inclusive (never below `lo`).
    pub hi: [u128; DIMS],
}

impl HBox {
    /// The box of these ranges, or `None` when one of them is empty.
    pub fn new(ranges: [(u128, u128); DIMS]) -> Option<HBox> {
        let mut b = HBox {
            lo: [0; DIMS],
            hi: [0; DIMS],
        };
        for (d, (lo, hi)) in ranges.into_iter().enumerate() {
            if lo > hi {
                return None;
            }
            b.lo[d] = lo;
            b.hi[d] = hi;
        }
        Some(b)
    }

    /// The same box with dimension `d` narrowed to `[lo, hi]`, or `None` when nothing is left.
    pub fn with(&self, d: usize, lo: u128, hi: u128) -> Option<HBox> {
        let lo = lo.max(self.lo[d]);
        let hi = hi.min(self.hi[d]);
        (lo <= hi).then(|| {
            let mut b = *self;
            b.lo[d] = lo;
            b.hi[d] = hi;
            b
        })
    }

    /// Dimension `d`'s inclusive range.
    pub fn range(&self, d: usize) -> (u128, u128) {
        (self.lo[d], self.hi[d])
    }

    /// The points in both boxes, or `None` when they do not meet.
    pub fn intersect(&self, o: &HBox) -> Option<HBox> {
        let mut b = *self;
        for d in 0..DIMS {
            b.lo[d] = self.lo[d].max(o.lo[d]);
            b.hi[d] = self.hi[d].min(o.hi[d]);
            if b.lo[d] > b.hi[d] {
                return None;
            }
        }
        Some(b)
    }

    /// Whether the boxes share a point.
    pub fn intersects(&self, o: &HBox) -> bool {
        (0..DIMS).all(|d| self.lo[d] <= o.hi[d] && o.lo[d] <= self.hi[d])
    }

    /// Whether `o` lies entirely inside this box.
    pub fn covers(&self, o: &HBox) -> bool {
        (0..DIMS).all(|d| self.lo[d] <= o.lo[d] && o.hi[d] <= self.hi[d])
    }

    /// Whether `p` lies inside the box.
    pub fn contains(&self, p: &Point) -> bool {
        (0..DIMS).all(|d| self.lo[d] <= p[d] && p[d] <= self.hi[d])
    }

    /// Push the pieces of `self − o` (at most two per dimension, so at most ten, pairwise
    /// disjoint): peel off what lies below and above `o` one dimension at a time.
    pub fn subtract_into(&self, o: &HBox, out: &mut Vec<HBox>) {
        if !self.intersects(o) {
            out.push(*self);
            return;
        }
        let mut rest = *self;
        for d in 0..DIMS {
            if rest.lo[d] < o.lo[d] {
                let mut piece = rest;
                piece.hi[d] = o.lo[d] - 1;
                out.push(piece);
                rest.lo[d] = o.lo[d];
            }
            if rest.hi[d] > o.hi[d] {
                let mut piece = rest;
                piece.lo[d] = o.hi[d] + 1;
                out.push(piece);
                rest.hi[d] = o.hi[d];
            }
        }
    }

    /// Number of points as a float: IPv6 boxes overflow any integer, so above 2^53 it is
    /// approximate.
    pub fn volume(&self) -> f64 {
        (0..DIMS)
            .map(|d| (self.hi[d] - self.lo[d]) as f64 + 1.0)
            .product()
    }
}

/// A set of headers: pairwise disjoint boxes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderSet {
    boxes: Vec<HBox>,
}

impl HeaderSet {
    /// The empty set.
    pub fn new() -> HeaderSet {
        HeaderSet { boxes: Vec::new() }
    }

    /// The set of one box's points.
    pub fn from_box(b: HBox) -> HeaderSet {
        HeaderSet { boxes: vec![b] }
    }

    /// A set from boxes that may overlap.
    pub fn from_boxes(boxes: impl IntoIterator<Item = HBox>) -> HeaderSet {
        let mut s = HeaderSet::new();
        for b in boxes {
            s.add_box(b);
        }
        s
    }

    /// The boxes, pairwise disjoint.
    pub fn boxes(&self) -> &[HBox] {
        &self.boxes
    }

    /// The boxes, pairwise disjoint, without copying them.
    pub fn into_boxes(self) -> Vec<HBox> {
        self.boxes
    }

    /// Whether the set holds no header (boxes are never empty, so: whether it has no box).
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Number of boxes, not of headers (that is [`HeaderSet::volume`]).
    pub fn len(&self) -> usize {
        self.boxes.len()
    }

    /// Whether the set holds the header `p`.
    pub fn contains(&self, p: &Point) -> bool {
        self.boxes.iter().any(|b| b.contains(p))
    }

    /// Number of headers: the sum of the disjoint boxes' volumes, as a float.
    pub fn volume(&self) -> f64 {
        self.boxes.iter().map(HBox::volume).sum()
    }

    /// The smallest box holding every box of the set.
    pub fn hull(&self) -> Option<HBox> {
        let mut it = self.boxes.iter();
        let mut h = *it.next()?;
        for b in it {
            for d in 0..DIMS {
                h.lo[d] = h.lo[d].min(b.lo[d]);
                h.hi[d] = h.hi[d].max(b.hi[d]);
            }
        }
        Some(h)
    }

    /// The set's headers that lie in `b`.
    pub fn intersect_box(&self, b: &HBox) -> HeaderSet {
        HeaderSet {
            boxes: self.boxes.iter().filter_map(|x| x.intersect(b)).collect(),
        }
    }

    /// The headers in both sets.
    pub fn intersect(&self, o: &HeaderSet) -> HeaderSet {
        let mut boxes = Vec::new();
        for a in &self.boxes {
            for b in &o.boxes {
                if let Some(x) = a.intersect(b) {
                    boxes.push(x);
                }
            }
        }
        HeaderSet { boxes }
    }

    /// The set's headers outside `b`.
    pub fn subtract_box(&self, b: &HBox) -> HeaderSet {
        let mut boxes = Vec::with_capacity(self.boxes.len());
        for a in &self.boxes {
            a.subtract_into(b, &mut boxes);
        }
        HeaderSet { boxes }
    }

    /// The set's headers that are not in `o`.
    pub fn subtract(&self, o: &HeaderSet) -> HeaderSet {
        let mut s = self.clone();
        let Some(hull) = self.hull() else {
            return s;
        };
        for b in &o.boxes {
            if b.intersects(&hull) {
                s = s.subtract_box(b);
                if s.is_empty() {
                    break;
                }
            }
        }
        s
    }

    /// Add a box that may overlap the set: only its part outside the set is added.
    pub fn add_box(&mut self, b: HBox) {
        let mut pieces = vec![b];
        for a in &self.boxes {
            if pieces.is_empty() {
                return;
            }
            let mut next = Vec::with_capacity(pieces.len());
            for p in &pieces {
                p.subtract_into(a, &mut next);
            }
            pieces = next;
        }
        self.boxes.extend(pieces);
    }

    /// The headers in either set.
    pub fn union(&self, o: &HeaderSet) -> HeaderSet {
        let mut s = self.clone();
        s.boxes.extend(o.subtract(self).boxes);
        s
    }

    /// Append a set known to be disjoint from this one (the parts a filter splits a set into).
    pub fn extend_disjoint(&mut self, o: HeaderSet) {
        self.boxes.extend(o.boxes);
    }

    /// Merge boxes that agree on four dimensions and touch on the fifth, until none do, so
    /// that sets split by many filters stay small. The result holds the same points.
    pub fn coalesce(&mut self) {
        if self.boxes.len() < 2 {
            return;
        }
        loop {
            let before = self.boxes.len();
            for d in 0..DIMS {
                self.merge_along(d);
            }
            if self.boxes.len() == before {
                break;
            }
        }
    }

    fn merge_along(&mut self, d: usize) {
        let others = |a: &HBox, b: &HBox| -> Ordering {
            for k in 0..DIMS {
                if k == d {
                    continue;
                }
                let o = (a.lo[k], a.hi[k]).cmp(&(b.lo[k], b.hi[k]));
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        };
        self.boxes
            .sort_unstable_by(|a, b| others(a, b).then(a.lo[d].cmp(&b.lo[d])));
        let mut out: Vec<HBox> = Vec::with_capacity(self.boxes.len());
        for b in self.boxes.drain(..) {
            if let Some(last) = out.last_mut() {
                if others(last, &b) == Ordering::Equal && last.hi[d].checked_add(1) == Some(b.lo[d])
                {
                    last.hi[d] = b.hi[d];
                    continue;
                }
            }
            out.push(b);
        }
        self.boxes = out;
    }

    /// Replace dimension `d` of every box by `[lo, hi]` (forget what the set said about it).
    /// The boxes may overlap afterwards, so they are added one by one.
    pub fn project_out(&self, d: usize, lo: u128, hi: u128) -> HeaderSet {
        let mut s = HeaderSet::new();
        for b in &self.boxes {
            let mut x = *b;
            x.lo[d] = lo;
            x.hi[d] = hi;
            s.add_box(x);
        }
        s.coalesce();
        s
    }

    /// Split along dimension `d` by sorted, disjoint segments `(lo, hi, key)`: the part of the
    /// set inside each key's segments, and the part no segment covers.
    pub fn partition(
        &self,
        d: usize,
        segs: &[(u128, u128, usize)],
        keys: usize,
    ) -> (Vec<HeaderSet>, HeaderSet) {
        let mut parts = vec![HeaderSet::new(); keys];
        let mut rest = HeaderSet::new();
        for b in &self.boxes {
            let (lo, hi) = b.range(d);
            // First segment that ends at or after the box's start.
            let mut i = segs.partition_point(|s| s.1 < lo);
            // The lowest value of the box not yet handed out; `None` once past its end.
            let mut cursor = Some(lo);
            while let Some(c) = cursor {
                if i >= segs.len() || segs[i].0 > hi {
                    rest.boxes.push(with_range(b, d, c, hi));
                    break;
                }
                let (slo, shi, key) = segs[i];
                if slo > c {
                    rest.boxes.push(with_range(b, d, c, slo - 1));
                }
                let plo = slo.max(c);
                let phi = shi.min(hi);
                parts[key].boxes.push(with_range(b, d, plo, phi));
                cursor = (phi < hi).then(|| phi + 1);
                i += 1;
            }
        }
        (parts, rest)
    }
}

/// An address range `(lo, hi)` with a dense key number.
pub type Segment = (u128, u128, usize);

/// A table as segments: sorted, disjoint [`Segment`]s and how many keys they number.
pub type Segments<'a> = (std::borrow::Cow<'a, [Segment]>, usize);

/// Sorted point segments `(a, a, key)` from (address, key) pairs; for an address given twice
/// the first key is kept.
pub fn point_segs(points: impl IntoIterator<Item = (u128, usize)>) -> Vec<(u128, u128, usize)> {
    let mut v: Vec<(usize, (u128, usize))> = points.into_iter().enumerate().collect();
    v.sort_by_key(|&(order, (a, _))| (a, order));
    let mut out: Vec<(u128, u128, usize)> = Vec::with_capacity(v.len());
    for (_, (a, k)) in v {
        if out.last().is_none_or(|l| l.0 != a) {
            out.push((a, a, k));
        }
    }
    out
}

/// Segments from possibly overlapping ranges where `first` says which key each value has:
/// cut at every boundary, ask `first` for each elementary interval, merge neighbours with the
/// same key. `first` is the table's own lookup, so the segments agree with it by construction.
pub fn first_match_segs(
    ranges: &[(u128, u128)],
    first: impl Fn(u128) -> Option<usize>,
) -> Vec<(u128, u128, usize)> {
    if ranges.is_empty() {
        return Vec::new();
    }
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

/// Segments of one key covering the union of `ranges` (sorted and merged: O(n log n)).
pub fn union_segs(ranges: &[(u128, u128)]) -> Vec<(u128, u128, usize)> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(u128, u128, usize)> = Vec::with_capacity(sorted.len());
    for (lo, hi) in sorted {
        match out.last_mut() {
            Some(last) if last.1.checked_add(1).is_none_or(|next| lo <= next) => {
                last.1 = last.1.max(hi)
            }
            _ => out.push((lo, hi, 0)),
        }
    }
    out
}

impl crate::wire::Family {
    /// Every header of the family: the box over all addresses, protocols and ports.
    pub fn domain(self) -> HBox {
        domain(self)
    }
}

/// Every header of a family: the box over all addresses, protocols and ports.
pub fn domain(fam: crate::wire::Family) -> HBox {
    let a = fam.addr_max();
    HBox {
        lo: [0; DIMS],
        hi: [a, a, 255, 0xffff, 0xffff],
    }
}

/// The boxes an ICMP type/code condition covers within `base` (`None`: any). ICMP types and
/// codes live in the destination-port dimension as `type * 256 + code`.
pub fn icmp_boxes(base: HBox, ty: Option<u8>, code: Option<u8>) -> Vec<HBox> {
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

/// The boxes a rule over one peer prefix matches in family `fam`: the prefix on `peer_dim`
/// (the source for inbound rules, the destination for outbound), the protocol (every protocol
/// when `None`), then what `within_protocol` keeps of that protocol's box (ports, ICMP types).
pub fn rule_boxes(
    fam: crate::wire::Family,
    peer: &ipnet::IpNet,
    peer_dim: usize,
    protocol: Option<crate::wire::IpProtocol>,
    within_protocol: impl FnOnce(crate::wire::IpProtocol, HBox) -> Vec<HBox>,
) -> Vec<HBox> {
    if crate::wire::Family::of_net(peer) != fam {
        return Vec::new();
    }
    let (lo, hi) = crate::wire::Family::prefix_range(peer);
    let Some(base) = domain(fam).with(peer_dim, lo, hi) else {
        return Vec::new();
    };
    let Some(p) = protocol else {
        return vec![base];
    };
    match base.with(PROTO, p.0 as u128, p.0 as u128) {
        Some(base) => within_protocol(p, base),
        None => Vec::new(),
    }
}

/// The box of one protocol (and, for ICMP, one type) in a family, every address and port.
pub fn protocol_box(
    fam: crate::wire::Family,
    proto: crate::wire::IpProtocol,
    icmp_type: Option<u8>,
) -> Option<HBox> {
    let b = domain(fam).with(PROTO, proto.0 as u128, proto.0 as u128)?;
    match icmp_type {
        Some(t) => b.with(DPORT, (t as u128) << 8, ((t as u128) << 8) | 0xff),
        None => Some(b),
    }
}

fn with_range(b: &HBox, d: usize, lo: u128, hi: u128) -> HBox {
    let mut x = *b;
    x.lo[d] = lo;
    x.hi[d] = hi;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), enough to draw boxes and points.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u128) -> u128 {
            (self.next() as u128) % n
        }
    }

    /// Small domain: every dimension 0..=4, so the whole space has 5^5 = 3125 points and sets
    /// can be checked point by point.
    const N: u128 = 5;

    fn random_box(r: &mut Rng) -> HBox {
        let mut ranges = [(0, 0); DIMS];
        for x in ranges.iter_mut() {
            let a = r.below(N);
            let b = r.below(N);
            *x = (a.min(b), a.max(b));
        }
        HBox::new(ranges).unwrap()
    }

    fn random_set(r: &mut Rng) -> HeaderSet {
        let n = r.below(5);
        HeaderSet::from_boxes((0..n).map(|_| random_box(r)))
    }

    fn points() -> impl Iterator<Item = Point> {
        (0..N.pow(DIMS as u32)).map(|mut i| {
            let mut p = [0; DIMS];
            for x in p.iter_mut() {
                *x = i % N;
                i /= N;
            }
            p
        })
    }

    fn disjoint(s: &HeaderSet) -> bool {
        let b = s.boxes();
        (0..b.len()).all(|i| (i + 1..b.len()).all(|j| !b[i].intersects(&b[j])))
    }

    fn count(s: &HeaderSet) -> usize {
        points().filter(|p| s.contains(p)).count()
    }

    #[test]
    fn operations_agree_with_brute_force() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..400 {
            let a = random_set(&mut r);
            let b = random_set(&mut r);
            let c = random_box(&mut r);
            let inter = a.intersect(&b);
            let diff = a.subtract(&b);
            let uni = a.union(&b);
            let ibox = a.intersect_box(&c);
            let dbox = a.subtract_box(&c);
            let mut coal = uni.clone();
            coal.coalesce();
            for s in [&a, &b, &inter, &diff, &uni, &ibox, &dbox, &coal] {
                assert!(disjoint(s), "{s:?}");
            }
            for p in points() {
                let (ia, ib) = (a.contains(&p), b.contains(&p));
                assert_eq!(inter.contains(&p), ia && ib);
                assert_eq!(diff.contains(&p), ia && !ib);
                assert_eq!(uni.contains(&p), ia || ib);
                assert_eq!(coal.contains(&p), ia || ib);
                assert_eq!(ibox.contains(&p), ia && c.contains(&p));
                assert_eq!(dbox.contains(&p), ia && !c.contains(&p));
            }
            assert_eq!(a.volume() as usize, count(&a));
            assert!(coal.len() <= uni.len());
        }
    }

    #[test]
    fn box_minus_box_has_at_most_ten_pieces() {
        let outer = HBox::new([(0, 4); DIMS]).unwrap();
        let inner = HBox::new([(2, 2); DIMS]).unwrap();
        let mut out = Vec::new();
        outer.subtract_into(&inner, &mut out);
        assert_eq!(out.len(), 10);
        assert_eq!(
            HeaderSet { boxes: out }.volume() as u128,
            N.pow(5) - 1,
            "all but the centre"
        );
    }

    #[test]
    fn coalesce_merges_a_split_box_back() {
        let whole = HBox::new([(0, 4); DIMS]).unwrap();
        let mut s = HeaderSet::from_box(whole);
        for d in 0..DIMS {
            let mut next = HeaderSet::new();
            for b in s.boxes() {
                next.boxes.push(b.with(d, 0, 1).unwrap());
                next.boxes.push(b.with(d, 2, 4).unwrap());
            }
            s = next;
        }
        assert_eq!(s.len(), 32);
        s.coalesce();
        assert_eq!(s.boxes(), &[whole]);
    }

    #[test]
    fn partition_by_segments() {
        let mut r = Rng(7);
        for _ in 0..300 {
            let a = random_set(&mut r);
            let d = r.below(DIMS as u128) as usize;
            // Random disjoint segments over 0..=4 with keys 0..3.
            let mut segs = Vec::new();
            let mut x = 0u128;
            while x < N {
                let len = r.below(2) + 1;
                let hi = (x + len - 1).min(N - 1);
                if r.below(3) != 0 {
                    segs.push((x, hi, r.below(3) as usize));
                }
                x = hi + 1;
            }
            let (parts, rest) = a.partition(d, &segs, 3);
            for p in points() {
                let seg = segs.iter().find(|s| s.0 <= p[d] && p[d] <= s.1);
                for (k, part) in parts.iter().enumerate() {
                    assert_eq!(
                        part.contains(&p),
                        a.contains(&p) && seg.is_some_and(|s| s.2 == k)
                    );
                }
                assert_eq!(rest.contains(&p), a.contains(&p) && seg.is_none());
            }
        }
    }

    #[test]
    fn full_width_ranges_do_not_overflow() {
        let all = HBox::new([(0, u128::MAX); DIMS]).unwrap();
        let top = all.with(SRC, u128::MAX, u128::MAX).unwrap();
        let s = HeaderSet::from_box(all).subtract_box(&top);
        assert!(!s.contains(&[u128::MAX, 0, 0, 0, 0]));
        assert!(s.contains(&[u128::MAX - 1, 0, 0, 0, 0]));
        let mut u = s.union(&HeaderSet::from_box(top));
        u.coalesce();
        assert_eq!(u.boxes(), &[all]);
    }

    #[test]
    fn union_segs_merges_overlapping_and_adjacent_ranges() {
        let segs = union_segs(&[
            (10, 20),
            (0, 3),
            (21, 25),
            (5, 6),
            (4, 4),
            (30, 40),
            (35, 36),
        ]);
        assert_eq!(segs, vec![(0, 6, 0), (10, 25, 0), (30, 40, 0)]);
        assert_eq!(
            union_segs(&[(u128::MAX - 1, u128::MAX), (0, u128::MAX)]),
            vec![(0, u128::MAX, 0)]
        );
        assert!(union_segs(&[]).is_empty());
    }
}
