//! Drawing a laid-out map as SVG: the boxes, then each path as curved arrows between numbered
//! badges, every hop placed on the box where it happened.

use super::{Map, Node, PathSpec, Place, Spot, BADGE_R, BADGE_STEP, GW_H, PAD};
use crate::html::esc;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;
use vpcsim_dataplane::topology::{EniKind, ResId, SubnetIdx, Topology};
use vpcsim_dataplane::trace::{Action, Hop, Stage};

impl Map {
    fn node(&self, p: Place) -> Option<&Node> {
        self.places.get(&p).map(|&i| &self.nodes[i])
    }

    /// The DOM id of the box a place is drawn in.
    fn dom_of(&self, p: Place) -> &str {
        self.node(p)
            .and_then(|n| n.dom_id.as_deref())
            .unwrap_or("res-internet")
    }

    /// Where the first badge at a place sits, and which way further badges stack.
    fn anchor(&self, p: Place, hint_x: Option<i32>) -> (i32, i32, i32) {
        let Some(r) = self.node(p).map(|n| n.rect) else {
            return (self.internet.cx(), self.internet.bottom(), BADGE_STEP);
        };
        match p {
            Place::Internet => (hint_x.unwrap_or(r.cx()), r.bottom(), BADGE_STEP),
            Place::Vpc(_) => (r.x + 2 * PAD, r.bottom(), BADGE_STEP),
            // Inside the box, clear of its text: on the subnet's title row, right to left; on the
            // bottom row of instances and other boxes; beside gateways (they are short).
            Place::Subnet(_) => (r.right() - PAD - BADGE_R, r.y + 16, -BADGE_STEP),
            Place::Igw(_) | Place::Eigw(_) | Place::Peering(_) => {
                (r.right() + BADGE_R + 4, r.cy(), BADGE_STEP)
            }
            Place::Eni(_) | Place::Nat(_) | Place::Other(_) => {
                (r.x + PAD + BADGE_R, r.bottom() - BADGE_R - 2, BADGE_STEP)
            }
        }
    }

    fn subnet_of(&self, topo: &Topology, p: Place) -> Option<SubnetIdx> {
        match p {
            Place::Eni(e) => topo.enis.get(e).map(|e| e.subnet),
            Place::Nat(n) => topo.nat_gateways.get(n).map(|g| g.subnet),
            Place::Subnet(s) => Some(s),
            _ => None,
        }
    }

    /// The place of every hop. Resources with a box are drawn there; rules are drawn where they
    /// apply: security groups at the interface, route tables and outbound ACLs at the subnet the
    /// packet is leaving, inbound ACLs at the subnet it enters.
    pub(super) fn resolve(&self, topo: &Topology, hops: &[Hop]) -> Vec<Place> {
        let direct: Vec<Option<Place>> = hops
            .iter()
            .map(|h| self.by_res.get(&h.resource).copied())
            .collect();
        let hostlike = |p: &Place| matches!(p, Place::Eni(_) | Place::Nat(_));
        let owner_place = |a: IpAddr| {
            topo.owner_of(a).map(|e| match topo.enis[e].kind {
                EniKind::NatGateway(n) => Place::Nat(n),
                _ => Place::Eni(e),
            })
        };
        // Subnets that use the hop's ACL or route table, when the resource is one.
        let users = |r: ResId| -> Vec<SubnetIdx> {
            let acl = topo.network_acls.position(|a| a.res == r);
            let rt = topo.route_tables.position(|t| t.res == r);
            topo.subnets
                .iter_enumerated()
                .filter(|(_, s)| Some(s.network_acl) == acl || Some(s.route_table) == rt)
                .map(|(i, _)| i)
                .collect()
        };
        let mut out: Vec<Place> = Vec::with_capacity(hops.len());
        for (i, h) in hops.iter().enumerate() {
            if let Some(p) = direct[i] {
                out.push(p);
                continue;
            }
            let prev_any = out.last().copied();
            let prev_host = out.iter().rev().copied().find(hostlike);
            let next_direct = direct[i + 1..].iter().flatten().next().copied();
            let subnet_among = |cand: Option<SubnetIdx>, users: &[SubnetIdx]| {
                cand.filter(|s| users.is_empty() || users.contains(s))
                    .or_else(|| users.first().copied())
                    .map(Place::Subnet)
            };
            let p = match h.stage {
                Stage::SgEgress => prev_host.or_else(|| owner_place(h.header.src)),
                Stage::SgIngress => next_direct
                    .filter(hostlike)
                    .or_else(|| owner_place(h.header.dst)),
                Stage::NaclEgress | Stage::Route => {
                    let u = users(h.resource);
                    subnet_among(prev_host.and_then(|p| self.subnet_of(topo, p)), &u)
                }
                Stage::NaclIngress => {
                    let u = users(h.resource);
                    let by_next = next_direct
                        .filter(hostlike)
                        .and_then(|p| self.subnet_of(topo, p));
                    let by_dst = u
                        .iter()
                        .copied()
                        .find(|&s| topo.subnets[s].contains(h.header.dst));
                    subnet_among(by_next.or(by_dst), &u)
                }
                _ => None,
            };
            out.push(p.or(prev_any).or(next_direct).unwrap_or(Place::Internet));
        }
        out
    }

    /// The SVG: boxes, then paths (lines, then numbered badges on top).
    pub(crate) fn svg(&self, topo: &Topology, paths: &[PathSpec]) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" id="map" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="topology map">"#,
            w = self.width,
            h = self.height
        );
        s.push_str(concat!(
            "<defs>",
            r#"<marker id="arrow-forward" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="arrowhead forward"/></marker>"#,
            r#"<marker id="arrow-return" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="arrowhead return"/></marker>"#,
            "</defs>"
        ));
        for &(x1, y1, x2, y2) in &self.links {
            let _ = write!(
                s,
                r#"<line class="link" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>"#
            );
        }
        for n in &self.nodes {
            self.node_svg(&mut s, n);
        }
        let placed: Vec<(&PathSpec, Vec<Spot>)> = {
            let mut slots: BTreeMap<(Place, i32), i32> = BTreeMap::new();
            paths
                .iter()
                .map(|p| {
                    let places = self.resolve(topo, p.hops);
                    let spots = places
                        .iter()
                        .enumerate()
                        .map(|(i, &pl)| {
                            // The internet is wide: draw its badge above the gateway next to it.
                            let hint = (pl == Place::Internet).then(|| {
                                let near = places
                                    .get(i + 1)
                                    .or(i.checked_sub(1).and_then(|j| places.get(j)))
                                    .filter(|q| **q != Place::Internet);
                                near.and_then(|&q| self.node(q)).map(|n| n.rect.cx())
                            });
                            let hint = hint.flatten();
                            let (ax, ay, dx) = self.anchor(pl, hint);
                            let slot = slots.entry((pl, hint.unwrap_or(0))).or_insert(0);
                            let x = ax + *slot * dx;
                            *slot += 1;
                            (pl, x, ay)
                        })
                        .collect();
                    (p, spots)
                })
                .collect()
        };
        for (p, spots) in &placed {
            for i in 1..spots.len() {
                let (_, x1, y1) = spots[i - 1];
                let (_, x2, y2) = spots[i];
                if let Some(d) = curve(x1, y1, x2, y2) {
                    let _ = write!(
                        s,
                        r#"<path class="hop hop-seg {k}" data-path="{k}" data-hop-index="{i}" d="{d}" marker-end="url(#arrow-{k})"/>"#,
                        k = p.key
                    );
                }
            }
            if let (true, Some(&(_, x, y))) = (p.exited, spots.last()) {
                let (ix, iy) = (x, self.internet.bottom());
                if let Some(d) = curve(x, y, ix, iy) {
                    let _ = write!(
                        s,
                        r#"<path class="exit-seg {k}" data-path="{k}" d="{d}" marker-end="url(#arrow-{k})"/>"#,
                        k = p.key
                    );
                }
            }
        }
        for (p, spots) in &placed {
            for (i, (&(pl, x, y), h)) in spots.iter().zip(p.hops).enumerate() {
                let bad = matches!(h.action, Action::Deny | Action::Drop);
                let last = i + 1 == spots.len();
                let _ = write!(
                    s,
                    r#"<g class="hop hop-badge {k}{bad}{last}" data-path="{k}" data-hop-index="{i}" data-node="{node}" tabindex="0"><title>{title}</title><circle cx="{x}" cy="{y}" r="{BADGE_R}"/><text x="{x}" y="{ty}">{n}</text></g>"#,
                    k = p.key,
                    bad = if bad { " bad" } else { "" },
                    last = if last { " last" } else { "" },
                    node = esc(self.dom_of(pl)),
                    title = esc(&format!(
                        "{} {} · {} · {} · {}",
                        if p.key == "return" { "return" } else { "hop" },
                        i + 1,
                        h.stage.as_str(),
                        topo.name(h.resource),
                        h.action.as_str()
                    )),
                    ty = y + 4,
                    n = i + 1,
                );
            }
        }
        s.push_str("</svg>");
        s
    }

    fn node_svg(&self, s: &mut String, n: &Node) {
        let r = n.rect;
        let id = n
            .dom_id
            .as_ref()
            .map(|i| format!(r#" id="{}""#, esc(i)))
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<g class="{}"{id}><title>{}</title><rect x="{}" y="{}" width="{}" height="{}" rx="6"/>"#,
            n.class,
            esc(&n.tooltip),
            r.x,
            r.y,
            r.w,
            r.h
        );
        match n.class {
            "res internet" => {
                let _ = write!(
                    s,
                    r#"<text class="t-title" x="{}" y="{}" text-anchor="middle">internet</text>"#,
                    r.cx(),
                    r.cy() + 5
                );
            }
            "az" => {
                let _ = write!(
                    s,
                    r#"<text class="t-az" x="{}" y="{}">{}</text>"#,
                    r.x + PAD,
                    r.y + 16,
                    esc(&n.title)
                );
            }
            // The VPC's title sits below the gateways on its top edge.
            "res vpc" => title_and_lines(s, n, r.y + GW_H / 2 + 18, 17),
            c if c.contains("subnet") => title_and_lines(s, n, r.y + 21, 16),
            _ => title_and_lines(s, n, r.y + 19, 16),
        }
        s.push_str("</g>");
    }
}

/// A box's bold title at `top`, then its smaller lines `step` pixels apart.
fn title_and_lines(s: &mut String, n: &Node, top: i32, step: i32) {
    let x = n.rect.x + PAD;
    let _ = write!(
        s,
        r#"<text class="t-title" x="{x}" y="{top}">{}</text>"#,
        esc(&n.title)
    );
    for (k, l) in n.lines.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text class="t-line" x="{x}" y="{}">{}</text>"#,
            top + step * (k as i32 + 1),
            esc(l)
        );
    }
}

/// A gently curved path between two badge centres, trimmed so the arrowhead touches the target
/// badge; `None` when the badges are too close for a visible line. The bend is to the left of the
/// direction of travel, so a path and its reverse between the same places do not overlap.
fn curve(x1: i32, y1: i32, x2: i32, y2: i32) -> Option<String> {
    let (dx, dy) = ((x2 - x1) as f64, (y2 - y1) as f64);
    let len = (dx * dx + dy * dy).sqrt();
    let trim = (BADGE_R + 3) as f64;
    if len < 2.0 * trim + 10.0 {
        return None;
    }
    let (ux, uy) = (dx / len, dy / len);
    let (sx, sy) = (x1 as f64 + ux * trim, y1 as f64 + uy * trim);
    let (ex, ey) = (x2 as f64 - ux * trim, y2 as f64 - uy * trim);
    let bend = (len * 0.1).min(22.0);
    let (cx, cy) = ((sx + ex) / 2.0 + uy * bend, (sy + ey) / 2.0 - ux * bend);
    Some(format!(
        "M{:.1},{:.1}Q{:.1},{:.1} {:.1},{:.1}",
        sx, sy, cx, cy, ex, ey
    ))
}
