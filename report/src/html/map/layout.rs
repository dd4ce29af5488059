//! Where every box goes: VPCs in rows, Availability Zone columns inside them, subnets down each
//! column, instances, interfaces and NAT gateways in a grid inside each subnet, gateways on the
//! VPC's top edge, then bands below for peering connections and everything else.

use super::{
    super::both_families, Map, Node, Place, Rect, AZ_HEAD, BAND_GAP, CHAR_W, CHAR_W_BOLD, GW_H,
    GW_W, HOST_H, HOST_W, INTERNET_H, MARGIN, MAX_ROW_W, PAD, SUBNET_HEAD, VPC_GAP, VPC_HEAD,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use vpcsim_dataplane::topology::{
    EniIdx, EniKind, NatIdx, ResId, RouteTarget, SubnetIdx, Table, Topology, VpcIdx,
};

/// What a subnet holds, drawn as a grid of equal boxes.
#[derive(Clone, Copy)]
enum Item {
    Host(EniIdx),
    Nat(NatIdx),
}

/// A VPC measured before it is placed: its zones (in name order, subnets in topology order
/// within each), its gateways, and the size of its box.
struct VpcPlan<'t> {
    vpc: VpcIdx,
    azs: BTreeMap<&'t str, Vec<SubnetIdx>>,
    gateways: Vec<Place>,
    /// Boxes per row inside a subnet.
    cols: i32,
    w: i32,
    h: i32,
}

impl VpcPlan<'_> {
    fn subnet_w(&self) -> i32 {
        self.cols * HOST_W + (self.cols + 1) * PAD
    }

    fn subnet_h(&self, items: usize) -> i32 {
        let rows = (items as i32 + self.cols - 1) / self.cols;
        SUBNET_HEAD + rows * (HOST_H + PAD) + if rows == 0 { 4 } else { 0 }
    }

    fn az_w(&self) -> i32 {
        self.subnet_w() + 2 * PAD
    }
}

/// A map being laid out: the boxes so far, the DOM ids taken, what each subnet holds.
struct Builder<'t> {
    topo: &'t Topology,
    m: Map,
    used: BTreeSet<String>,
    items: Table<SubnetIdx, Vec<Item>>,
}

impl Map {
    /// Lay out the whole topology. `referenced` lists resources that hops pass through, so the
    /// built-in services (DNS resolver, metadata) get a box only when a path reaches them.
    pub(crate) fn new(topo: &Topology, referenced: &BTreeSet<ResId>) -> Map {
        let mut b = Builder::start(topo);
        let (vpc_rects, row_bottom) = b.vpcs();
        let band_y = b.peerings(&vpc_rects, row_bottom + BAND_GAP);
        let bottom = b.others(referenced, band_y);
        b.finish(bottom)
    }
}

impl<'t> Builder<'t> {
    /// The internet as node 0 (its width is set once everything else is placed), and the
    /// contents of every subnet.
    fn start(topo: &'t Topology) -> Builder<'t> {
        let mut b = Builder {
            topo,
            m: Map {
                width: 0,
                height: 0,
                nodes: vec![],
                places: BTreeMap::new(),
                by_res: BTreeMap::new(),
                links: vec![],
                internet: Rect::default(),
            },
            used: BTreeSet::new(),
            items: Table::from(vec![vec![]; topo.subnets.len()]),
        };
        let internet_id = b.dom_id("internet");
        b.m.push(
            Some(Place::Internet),
            Node {
                dom_id: Some(internet_id),
                class: "res internet",
                rect: Rect::default(),
                title: "internet".into(),
                lines: vec![],
                tooltip: "the internet: outside every VPC".into(),
            },
        );
        b.m.by_res.insert(ResId::INTERNET, Place::Internet);
        for (i, e) in topo.enis.iter_enumerated() {
            if matches!(e.kind, EniKind::NatGateway(_)) {
                continue;
            }
            if let Some(v) = b.items.get_mut(e.subnet) {
                v.push(Item::Host(i));
            }
        }
        for (n, g) in topo.nat_gateways.iter_enumerated() {
            if let Some(v) = b.items.get_mut(g.subnet) {
                v.push(Item::Nat(n));
            }
        }
        b
    }

    fn dom_id(&mut self, logical_id: &str) -> String {
        dom_id(&mut self.used, logical_id)
    }

    /// Every VPC, left to right in rows no wider than [`MAX_ROW_W`]: their boxes, and the
    /// bottom of the last row.
    fn vpcs(&mut self) -> (Table<VpcIdx, Rect>, i32) {
        let topo = self.topo;
        let (mut x, mut y) = (MARGIN, MARGIN + INTERNET_H + GW_H / 2 + 44);
        let mut row_bottom = y;
        let mut rects = Table::from(vec![Rect::default(); topo.vpcs.len()]);
        for vi in topo.vpcs.indices() {
            let plan = self.plan(vi);
            if x > MARGIN && x + plan.w > MAX_ROW_W {
                x = MARGIN;
                y = row_bottom + VPC_GAP;
            }
            let r = Rect {
                x,
                y,
                w: plan.w,
                h: plan.h,
            };
            rects[vi] = r;
            row_bottom = row_bottom.max(r.bottom());
            x += plan.w + VPC_GAP;
            self.vpc(&plan, r);
        }
        (rects, row_bottom)
    }

    /// Measure a VPC: three boxes per subnet row when some subnet holds more than four, else two.
    fn plan(&self, vi: VpcIdx) -> VpcPlan<'t> {
        let topo = self.topo;
        let mut azs: BTreeMap<&str, Vec<SubnetIdx>> = BTreeMap::new();
        for (si, s) in topo.subnets.iter_enumerated() {
            if s.vpc == vi {
                azs.entry(s.availability_zone.as_str())
                    .or_default()
                    .push(si);
            }
        }
        let most = azs
            .values()
            .flatten()
            .map(|&s| self.items[s].len())
            .max()
            .unwrap_or(0);
        let gateways: Vec<Place> = topo
            .internet_gateways
            .iter_enumerated()
            .filter(|(_, g)| g.vpc == Some(vi))
            .map(|(i, _)| Place::Igw(i))
            .chain(
                topo.egress_only_igws
                    .iter_enumerated()
                    .filter(|(_, g)| g.vpc == vi)
                    .map(|(i, _)| Place::Eigw(i)),
            )
            .collect();
        let mut plan = VpcPlan {
            vpc: vi,
            azs,
            gateways,
            cols: if most > 4 { 3 } else { 2 },
            w: 0,
            h: 0,
        };
        let n_az = plan.azs.len() as i32;
        let content_w = n_az * plan.az_w() + (n_az + 1) * PAD;
        let gw_w = plan.gateways.len() as i32 * (GW_W + PAD) + 3 * PAD;
        plan.w = content_w.max(gw_w).max(2 * HOST_W + 3 * PAD);
        plan.h = VPC_HEAD
            + plan
                .azs
                .values()
                .map(|s| self.az_h(&plan, s))
                .max()
                .unwrap_or(40)
            + PAD;
        plan
    }

    fn az_h(&self, plan: &VpcPlan, subnets: &[SubnetIdx]) -> i32 {
        AZ_HEAD
            + subnets
                .iter()
                .map(|&s| plan.subnet_h(self.items[s].len()) + PAD)
                .sum::<i32>()
    }

    /// A VPC's box at `r`, its zones and subnets inside, its gateways on its top edge.
    fn vpc(&mut self, plan: &VpcPlan, r: Rect) {
        let topo = self.topo;
        let vpc = &topo.vpcs[plan.vpc];
        let cidrs = both_families(&vpc.cidrs_v4, &vpc.cidrs_v6);
        let id = self.dom_id(&topo.resource(vpc.res).logical_id);
        let cidr_line = cidrs.join(" · ");
        self.m.push(
            Some(Place::Vpc(plan.vpc)),
            Node {
                dom_id: Some(id),
                class: "res vpc",
                rect: r,
                title: fit(
                    &format!("VPC {}", with_name(topo, vpc.res)),
                    r.w - 2 * PAD,
                    CHAR_W_BOLD,
                ),
                lines: vec![fit(&cidr_line, r.w - 2 * PAD, CHAR_W)],
                tooltip: tooltip(topo, vpc.res, &[format!("CIDRs: {cidr_line}")]),
            },
        );
        self.m.by_res.insert(vpc.res, Place::Vpc(plan.vpc));
        let mut ax = r.x + PAD;
        for (az, subnets) in &plan.azs {
            let ar = Rect {
                x: ax,
                y: r.y + VPC_HEAD,
                w: plan.az_w(),
                h: self.az_h(plan, subnets),
            };
            ax += plan.az_w() + PAD;
            self.az(plan, az, subnets, ar);
        }
        self.gateways(&plan.gateways, r);
    }

    /// An Availability Zone column and its subnets, top to bottom.
    fn az(&mut self, plan: &VpcPlan, az: &str, subnets: &[SubnetIdx], ar: Rect) {
        let label = if az.is_empty() { "(no AZ)" } else { az };
        self.m.push(
            None,
            Node {
                dom_id: None,
                class: "az",
                rect: ar,
                title: label.to_string(),
                lines: vec![],
                tooltip: format!("Availability Zone {label}"),
            },
        );
        let mut sy = ar.y + AZ_HEAD;
        for &si in subnets {
            let sr = Rect {
                x: ar.x + PAD,
                y: sy,
                w: plan.subnet_w(),
                h: plan.subnet_h(self.items[si].len()),
            };
            sy += sr.h + PAD;
            self.subnet(si, label, sr);
            for k in 0..self.items[si].len() {
                let (col, row) = (k as i32 % plan.cols, k as i32 / plan.cols);
                let ir = Rect {
                    x: sr.x + PAD + col * (HOST_W + PAD),
                    y: sr.y + SUBNET_HEAD + row * (HOST_H + PAD),
                    w: HOST_W,
                    h: HOST_H,
                };
                match self.items[si][k] {
                    Item::Host(e) => self.host(e, ir),
                    Item::Nat(n) => self.nat(n, ir),
                }
            }
        }
    }

    /// A subnet's box: public (its default route goes to an internet gateway) or private, with
    /// its CIDRs, route table and network ACL.
    fn subnet(&mut self, si: SubnetIdx, az_label: &str, sr: Rect) {
        let topo = self.topo;
        let s = &topo.subnets[si];
        let cidrs = both_families(s.cidr_v4, s.cidr_v6);
        let rt = topo
            .route_tables
            .get(s.route_table)
            .map_or("?", |t| topo.name(t.res));
        let acl = topo
            .network_acls
            .get(s.network_acl)
            .map_or("?", |a| topo.name(a.res));
        let public = is_public(topo, si);
        let cidr_line = cidrs.join(" · ");
        let id = self.dom_id(&topo.resource(s.res).logical_id);
        self.m.push(
            Some(Place::Subnet(si)),
            Node {
                dom_id: Some(id),
                class: if public {
                    "res subnet public"
                } else {
                    "res subnet private"
                },
                rect: sr,
                // Leave room on the right for the badges of route and ACL hops.
                title: fit(&with_name(topo, s.res), sr.w - 2 * PAD - 70, CHAR_W_BOLD),
                lines: vec![
                    fit(&cidr_line, sr.w - 2 * PAD, CHAR_W),
                    fit(
                        &format!("route table {rt} · ACL {acl}"),
                        sr.w - 2 * PAD,
                        CHAR_W,
                    ),
                ],
                tooltip: tooltip(
                    topo,
                    s.res,
                    &[
                        format!(
                            "{} subnet in {az_label}",
                            if public { "public" } else { "private" }
                        ),
                        format!("CIDRs: {cidr_line}"),
                        format!("route table: {rt}"),
                        format!("network ACL: {acl}"),
                    ],
                ),
            },
        );
        self.m.by_res.insert(s.res, Place::Subnet(si));
    }

    /// Gateways straddle the VPC's top edge, centred, towards the internet above.
    fn gateways(&mut self, gateways: &[Place], r: Rect) {
        let topo = self.topo;
        let total = gateways.len() as i32 * (GW_W + PAD) - PAD;
        let mut gx = r.cx() - total / 2;
        for &g in gateways {
            let gr = Rect {
                x: gx,
                y: r.y - GW_H / 2,
                w: GW_W,
                h: GW_H,
            };
            gx += GW_W + PAD;
            let (res, what) = match g {
                Place::Igw(i) => (topo.internet_gateways[i].res, "internet gateway"),
                Place::Eigw(i) => (topo.egress_only_igws[i].res, "egress-only internet gateway"),
                _ => continue,
            };
            let id = self.dom_id(&topo.resource(res).logical_id);
            self.m.push(
                Some(g),
                Node {
                    dom_id: Some(id),
                    class: "res gateway",
                    rect: gr,
                    title: fit(&with_name(topo, res), GW_W - 2 * PAD, CHAR_W_BOLD),
                    lines: vec![what.to_string()],
                    tooltip: tooltip(topo, res, &[]),
                },
            );
            self.m.by_res.insert(res, g);
            // Up to the internet, whose bottom edge is known once the map is finished.
            self.m.links.push((gr.cx(), 0, gr.cx(), gr.y));
        }
    }

    /// Peering connections in a band at `band_y`, each near the middle of its two VPCs; returns
    /// where the next band starts.
    fn peerings(&mut self, vpc_rects: &Table<VpcIdx, Rect>, band_y: i32) -> i32 {
        let topo = self.topo;
        let mut px_min = MARGIN;
        let mut any_peering = false;
        for (pi, p) in topo.peerings.iter_enumerated() {
            let (Some(a), Some(b)) = (vpc_rects.get(p.requester), vpc_rects.get(p.accepter)) else {
                continue;
            };
            any_peering = true;
            let pr = Rect {
                x: ((a.cx() + b.cx()) / 2 - GW_W / 2).max(px_min),
                y: band_y,
                w: GW_W,
                h: GW_H,
            };
            px_min = pr.right() + PAD;
            let names = format!(
                "{} ↔ {}",
                topo.name(topo.vpcs[p.requester].res),
                topo.name(topo.vpcs[p.accepter].res)
            );
            let id = self.dom_id(&topo.resource(p.res).logical_id);
            self.m.push(
                Some(Place::Peering(pi)),
                Node {
                    dom_id: Some(id),
                    class: "res peering",
                    rect: pr,
                    title: fit(&with_name(topo, p.res), GW_W - 2 * PAD, CHAR_W_BOLD),
                    lines: vec![fit(&names, GW_W - 2 * PAD, CHAR_W)],
                    tooltip: tooltip(topo, p.res, &[format!("peering {names}")]),
                },
            );
            self.m.by_res.insert(p.res, Place::Peering(pi));
            for v in [a, b] {
                let vx = pr.cx().clamp(v.x + 2 * PAD, v.right() - 2 * PAD);
                self.m.links.push((pr.cx(), pr.y, vx, v.bottom()));
            }
        }
        if any_peering {
            band_y + GW_H + BAND_GAP
        } else {
            band_y
        }
    }

    /// Everything else, in a band at `band_y`: kinds this map has no place for, and the built-in
    /// services a path reaches. Returns the bottom of what was drawn.
    fn others(&mut self, referenced: &BTreeSet<ResId>, band_y: i32) -> i32 {
        let topo = self.topo;
        let (mut gx, mut gy) = (MARGIN, band_y);
        let mut any_other = false;
        let wrap = self
            .m
            .nodes
            .iter()
            .map(|n| n.rect.right())
            .max()
            .unwrap_or(0)
            .max(MAX_ROW_W / 2);
        for (r, res) in topo.resources.iter_enumerated() {
            let builtin = r.index() < 4;
            if self.m.by_res.contains_key(&r)
                || (builtin && !referenced.contains(&r))
                || rule_like(&res.kind)
            {
                continue;
            }
            // Interfaces and NAT gateways are inside their subnets; only strays come here.
            if res.kind == "AWS::EC2::NetworkInterface" && topo.enis.iter().any(|e| e.res == r) {
                continue;
            }
            if gx > MARGIN && gx + HOST_W > wrap {
                gx = MARGIN;
                gy += HOST_H + PAD;
            }
            let gr = Rect {
                x: gx,
                y: gy,
                w: HOST_W,
                h: HOST_H,
            };
            gx += HOST_W + PAD;
            any_other = true;
            let id = self.dom_id(&res.logical_id);
            self.m.push(
                Some(Place::Other(r)),
                Node {
                    dom_id: Some(id),
                    class: "res other",
                    rect: gr,
                    title: fit(&with_name(topo, r), HOST_W - 2 * PAD, CHAR_W_BOLD),
                    lines: vec![fit(short_kind(&res.kind), HOST_W - 2 * PAD, CHAR_W)],
                    tooltip: tooltip(topo, r, &[]),
                },
            );
            self.m.by_res.insert(r, Place::Other(r));
        }
        if any_other {
            gy + HOST_H
        } else {
            band_y - BAND_GAP
        }
    }

    /// The map's size, the internet across its top, and the links up to it.
    fn finish(self, bottom: i32) -> Map {
        let mut m = self.m;
        let right = m.nodes.iter().map(|n| n.rect.right()).max().unwrap_or(0);
        m.width = right.max(400) + MARGIN;
        m.height = bottom.max(m.nodes.iter().map(|n| n.rect.bottom()).max().unwrap_or(0))
            + MARGIN
            + super::BADGE_R;
        m.internet = Rect {
            x: MARGIN,
            y: MARGIN,
            w: m.width - 2 * MARGIN,
            h: INTERNET_H,
        };
        m.nodes[0].rect = m.internet;
        let top = m.internet.bottom();
        for l in &mut m.links {
            if l.1 == 0 {
                l.1 = top;
            }
        }
        m
    }

    /// An instance or interface: its addresses, public ones after them.
    fn host(&mut self, e: EniIdx, r: Rect) {
        let topo = self.topo;
        let eni = &topo.enis[e];
        let mut addrs = both_families(&eni.private_v4, &eni.ipv6);
        let publics: Vec<String> = eni.public_v4.iter().map(|(_, p)| p.to_string()).collect();
        let first = addrs.first().cloned().unwrap_or_default();
        let line = match publics.first() {
            Some(p) => format!("{first} · {p}"),
            None => first,
        };
        let groups: Vec<&str> = eni
            .security_groups
            .iter()
            .filter_map(|g| topo.security_groups.get(*g))
            .map(|g| topo.name(g.res))
            .collect();
        addrs.extend(publics.iter().map(|p| format!("{p} (public)")));
        let mut extra = vec![
            format!("interface {}", topo.resource(eni.res).logical_id),
            format!("addresses: {}", addrs.join(", ")),
            format!("security groups: {}", groups.join(", ")),
        ];
        if !eni.source_dest_check {
            extra.push("source/destination check off".into());
        }
        let id = self.dom_id(&topo.resource(eni.owner).logical_id);
        self.m.push(
            Some(Place::Eni(e)),
            Node {
                dom_id: Some(id),
                class: "res host",
                rect: r,
                title: fit(&with_name(topo, eni.owner), r.w - 2 * PAD, CHAR_W_BOLD),
                lines: vec![fit(&line, r.w - 2 * PAD, CHAR_W)],
                tooltip: tooltip(topo, eni.owner, &extra),
            },
        );
        self.m.by_res.entry(eni.owner).or_insert(Place::Eni(e));
        self.m.by_res.insert(eni.res, Place::Eni(e));
    }

    /// A NAT gateway: its private address and its Elastic IP.
    fn nat(&mut self, n: NatIdx, r: Rect) {
        let topo = self.topo;
        let g = &topo.nat_gateways[n];
        let eni = topo.enis.get(g.eni);
        let first = g
            .addresses
            .first()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let public = eni
            .and_then(|e| e.public_v4.first())
            .map(|(_, p)| p.to_string());
        let line = match &public {
            Some(p) => format!("{first} · {p}"),
            None => format!("{first} (private NAT)"),
        };
        let addrs: Vec<String> = g.addresses.iter().map(|a| a.to_string()).collect();
        let id = self.dom_id(&topo.resource(g.res).logical_id);
        self.m.push(
            Some(Place::Nat(n)),
            Node {
                dom_id: Some(id),
                class: "res nat",
                rect: r,
                title: fit(&with_name(topo, g.res), r.w - 2 * PAD, CHAR_W_BOLD),
                lines: vec![fit(&line, r.w - 2 * PAD, CHAR_W)],
                tooltip: tooltip(
                    topo,
                    g.res,
                    &[
                        format!(
                            "{} NAT gateway",
                            if g.public { "public" } else { "private" }
                        ),
                        format!("addresses: {}", addrs.join(", ")),
                    ],
                ),
            },
        );
        self.m.by_res.insert(g.res, Place::Nat(n));
        if let Some(e) = eni {
            self.m.by_res.insert(e.res, Place::Nat(n));
        }
    }
}

impl Map {
    fn push(&mut self, place: Option<Place>, node: Node) {
        if let Some(p) = place {
            self.places.insert(p, self.nodes.len());
        }
        self.nodes.push(node);
    }
}

/// Kinds that are rules or bindings rather than things a packet passes through: never boxes.
fn rule_like(kind: &str) -> bool {
    const SUFFIXES: [&str; 9] = [
        "::Route",
        "RouteTable",
        "::NetworkAcl",
        "NetworkAclEntry",
        "::SecurityGroup",
        "SecurityGroupIngress",
        "SecurityGroupEgress",
        "Association",
        "Propagation",
    ];
    SUFFIXES.iter().any(|s| kind.ends_with(s))
}

/// `AWS::EC2::TransitGateway` → `TransitGateway`.
fn short_kind(kind: &str) -> &str {
    kind.rsplit("::").next().unwrap_or(kind)
}

/// Cut `s` to about `px` pixels of text, ending with `…` when cut.
fn fit(s: &str, px: i32, char_w: f64) -> String {
    let max = ((px as f64) / char_w).floor().max(2.0) as usize;
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A DOM id from a logical id: only characters that need no escaping anywhere, unique per page.
fn dom_id(used: &mut BTreeSet<String>, logical_id: &str) -> String {
    let base: String = logical_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut id = format!("res-{base}");
    let mut n = 2;
    while used.contains(&id) {
        id = format!("res-{base}-{n}");
        n += 1;
    }
    used.insert(id.clone());
    id
}

fn with_name(topo: &Topology, r: ResId) -> String {
    let res = topo.resource(r);
    match &res.name {
        Some(n) if n != &res.logical_id => format!("{} · {n}", res.logical_id),
        _ => res.logical_id.clone(),
    }
}

/// Tooltip text of a resource: logical id, type, AWS id, Name tag, then `extra` lines.
fn tooltip(topo: &Topology, r: ResId, extra: &[String]) -> String {
    let res = topo.resource(r);
    let mut t = format!("{} ({})", res.logical_id, res.kind);
    if res.aws_id != res.logical_id {
        let _ = write!(t, "\n{}", res.aws_id);
    }
    if let Some(n) = &res.name {
        let _ = write!(t, "\nName: {n}");
    }
    for e in extra {
        let _ = write!(t, "\n{e}");
    }
    t
}

/// Whether the subnet's route table sends the default route to an internet gateway.
fn is_public(topo: &Topology, subnet: SubnetIdx) -> bool {
    let s = &topo.subnets[subnet];
    topo.route_tables.get(s.route_table).is_some_and(|rt| {
        rt.routes.iter().any(|r| {
            r.destination.prefix_len() == 0 && matches!(r.target, RouteTarget::InternetGateway(_))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_ids_are_safe_and_unique() {
        let mut used = BTreeSet::new();
        assert_eq!(dom_id(&mut used, "Web\"Sg<x>"), "res-Web_Sg_x_");
        assert_eq!(dom_id(&mut used, "Web\"Sg<x>"), "res-Web_Sg_x_-2");
    }

    #[test]
    fn fit_cuts_with_ellipsis() {
        assert_eq!(fit("abcdef", 100, 10.0), "abcdef");
        assert_eq!(fit("abcdefghijkl", 50, 10.0), "abcd…");
    }
}
