//! The topology map: positions computed here (VPC boxes holding Availability Zone columns holding
//! subnets holding instances, interfaces and NAT gateways; gateways on the VPC's top edge; the
//! internet above; peering connections and every other kind of resource in bands below), drawn as
//! inline SVG, with packet paths as numbered, clickable hops.
//!
//! Resource kinds this module does not know (transit gateways, VPN gateways, whatever the loader
//! learns next) are drawn as generic boxes in the bottom band, so they appear on the map and can
//! carry hops without a change here. Rule-like kinds (route tables, ACLs, security groups,
//! associations) are not boxes: a hop at one of them is drawn where it applies (the subnet or the
//! interface the packet is at).

use super::esc;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;
use vpcsim_dataplane::topology::{EniKind, Idx, ResId, RouteTarget, Topology};
use vpcsim_dataplane::trace::{Action, Hop, Stage};

const MARGIN: i32 = 20;
const PAD: i32 = 12;
const HOST_W: i32 = 168;
const HOST_H: i32 = 64;
const SUBNET_HEAD: i32 = 62;
const AZ_HEAD: i32 = 24;
const GW_W: i32 = 168;
const GW_H: i32 = 40;
const VPC_HEAD: i32 = GW_H / 2 + 46;
const INTERNET_H: i32 = 48;
const VPC_GAP: i32 = 90;
const BAND_GAP: i32 = 56;
/// VPCs wrap to a new row past this width, so a topology with many VPCs stays on screen.
const MAX_ROW_W: i32 = 2200;
/// Badge radius and the spacing of badges that share a place.
const BADGE_R: i32 = 10;
const BADGE_STEP: i32 = 22;

/// Average glyph widths (px) of the page's sans-serif font at the sizes used, for truncation.
const CHAR_W_BOLD: f64 = 7.4;
const CHAR_W: f64 = 6.4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    fn right(&self) -> i32 {
        self.x + self.w
    }
    fn bottom(&self) -> i32 {
        self.y + self.h
    }
    fn cx(&self) -> i32 {
        self.x + self.w / 2
    }
    fn cy(&self) -> i32 {
        self.y + self.h / 2
    }
}

/// Where on the map a hop is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Internet,
    Vpc(Idx),
    Subnet(Idx),
    Eni(Idx),
    Nat(Idx),
    Igw(Idx),
    Eigw(Idx),
    Peering(Idx),
    Other(ResId),
}

struct Node {
    /// DOM id (`res-<logical id>`); `None` for decorations such as AZ columns.
    dom_id: Option<String>,
    class: &'static str,
    rect: Rect,
    /// Bold first line, then smaller lines.
    title: String,
    lines: Vec<String>,
    tooltip: String,
}

/// A laid-out topology, ready to draw with or without paths.
pub(crate) struct Map {
    pub(crate) width: i32,
    pub(crate) height: i32,
    nodes: Vec<Node>,
    /// Node index of each place that has a box.
    places: BTreeMap<Place, usize>,
    /// Resources that are drawn as (or inside) a box.
    by_res: BTreeMap<ResId, Place>,
    /// Thin lines: internet ↔ gateways, peering ↔ VPCs.
    links: Vec<(i32, i32, i32, i32)>,
    internet: Rect,
}

/// Where one hop's badge goes: the box it is drawn on and the badge's centre.
type Spot = (Place, i32, i32);

/// One packet path to draw: `key` is `forward` or `return` (DOM attribute and CSS class).
pub(crate) struct PathSpec<'a> {
    pub(crate) key: &'static str,
    pub(crate) hops: &'a [Hop],
    /// The packet left the model: draw a last arrow from the final hop to the internet.
    pub(crate) exited: bool,
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
fn is_public(topo: &Topology, subnet: Idx) -> bool {
    let s = &topo.subnets[subnet as usize];
    topo.route_tables
        .get(s.route_table as usize)
        .is_some_and(|rt| {
            rt.routes.iter().any(|r| {
                r.destination.prefix_len() == 0
                    && matches!(r.target, RouteTarget::InternetGateway(_))
            })
        })
}

#[derive(Clone, Copy)]
enum Item {
    Host(Idx),
    Nat(Idx),
}

impl Map {
    /// Lay out the whole topology. `referenced` lists resources that hops pass through, so the
    /// built-in services (DNS resolver, metadata) get a box only when a path reaches them.
    pub fn new(topo: &Topology, referenced: &BTreeSet<ResId>) -> Map {
        let mut m = Map {
            width: 0,
            height: 0,
            nodes: vec![],
            places: BTreeMap::new(),
            by_res: BTreeMap::new(),
            links: vec![],
            internet: Rect::default(),
        };
        let mut used = BTreeSet::new();
        // The internet is node 0; its width is set once everything else is placed.
        let internet_id = dom_id(&mut used, "internet");
        m.push(
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
        m.by_res.insert(ResId::INTERNET, Place::Internet);

        // Subnet contents, in topology order.
        let mut items: Vec<Vec<Item>> = vec![vec![]; topo.subnets.len()];
        for (i, e) in topo.enis.iter().enumerate() {
            if matches!(e.kind, EniKind::NatGateway(_)) {
                continue;
            }
            if let Some(v) = items.get_mut(e.subnet as usize) {
                v.push(Item::Host(i as Idx));
            }
        }
        for (n, g) in topo.nat_gateways.iter().enumerate() {
            if let Some(v) = items.get_mut(g.subnet as usize) {
                v.push(Item::Nat(n as Idx));
            }
        }

        let (mut x, mut y) = (MARGIN, MARGIN + INTERNET_H + GW_H / 2 + 44);
        let mut row_bottom = y;
        let mut vpc_rects = vec![Rect::default(); topo.vpcs.len()];
        for (vi, vpc) in topo.vpcs.iter().enumerate() {
            let vi = vi as Idx;
            // Availability Zones in name order, subnets in topology order within each.
            let mut azs: BTreeMap<&str, Vec<Idx>> = BTreeMap::new();
            for (si, s) in topo.subnets.iter().enumerate() {
                if s.vpc == vi {
                    azs.entry(s.availability_zone.as_str())
                        .or_default()
                        .push(si as Idx);
                }
            }
            let most = azs
                .values()
                .flatten()
                .map(|&s| items[s as usize].len())
                .max()
                .unwrap_or(0);
            let cols = if most > 4 { 3 } else { 2 };
            let subnet_w = cols * HOST_W + (cols + 1) * PAD;
            let subnet_h = |n: usize| {
                let rows = (n as i32 + cols - 1) / cols;
                SUBNET_HEAD + rows * (HOST_H + PAD) + if rows == 0 { 4 } else { 0 }
            };
            let az_w = subnet_w + 2 * PAD;
            let az_h = |subnets: &[Idx]| {
                AZ_HEAD
                    + subnets
                        .iter()
                        .map(|&s| subnet_h(items[s as usize].len()) + PAD)
                        .sum::<i32>()
            };
            let gateways: Vec<Place> = topo
                .internet_gateways
                .iter()
                .enumerate()
                .filter(|(_, g)| g.vpc == Some(vi))
                .map(|(i, _)| Place::Igw(i as Idx))
                .chain(
                    topo.egress_only_igws
                        .iter()
                        .enumerate()
                        .filter(|(_, g)| g.vpc == vi)
                        .map(|(i, _)| Place::Eigw(i as Idx)),
                )
                .collect();
            let n_az = azs.len() as i32;
            let content_w = n_az * az_w + (n_az + 1) * PAD;
            let gw_w = gateways.len() as i32 * (GW_W + PAD) + 3 * PAD;
            let w = content_w.max(gw_w).max(2 * HOST_W + 3 * PAD);
            let h = VPC_HEAD + azs.values().map(|s| az_h(s)).max().unwrap_or(40) + PAD;
            if x > MARGIN && x + w > MAX_ROW_W {
                x = MARGIN;
                y = row_bottom + VPC_GAP;
            }
            let r = Rect { x, y, w, h };
            vpc_rects[vi as usize] = r;
            row_bottom = row_bottom.max(r.bottom());
            x += w + VPC_GAP;

            let cidrs: Vec<String> = vpc
                .cidrs_v4
                .iter()
                .map(|c| c.to_string())
                .chain(vpc.cidrs_v6.iter().map(|c| c.to_string()))
                .collect();
            let id = dom_id(&mut used, &topo.resource(vpc.res).logical_id);
            let cidr_line = cidrs.join(" · ");
            m.push(
                Some(Place::Vpc(vi)),
                Node {
                    dom_id: Some(id),
                    class: "res vpc",
                    rect: r,
                    title: fit(
                        &format!("VPC {}", with_name(topo, vpc.res)),
                        w - 2 * PAD,
                        CHAR_W_BOLD,
                    ),
                    lines: vec![fit(&cidr_line, w - 2 * PAD, CHAR_W)],
                    tooltip: tooltip(topo, vpc.res, &[format!("CIDRs: {cidr_line}")]),
                },
            );
            m.by_res.insert(vpc.res, Place::Vpc(vi));

            let mut ax = r.x + PAD;
            for (az, subnets) in &azs {
                let ar = Rect {
                    x: ax,
                    y: r.y + VPC_HEAD,
                    w: az_w,
                    h: az_h(subnets),
                };
                ax += az_w + PAD;
                let label = if az.is_empty() { "(no AZ)" } else { az };
                m.push(
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
                    let s = &topo.subnets[si as usize];
                    let sr = Rect {
                        x: ar.x + PAD,
                        y: sy,
                        w: subnet_w,
                        h: subnet_h(items[si as usize].len()),
                    };
                    sy += sr.h + PAD;
                    let cidrs: Vec<String> = s
                        .cidr_v4
                        .iter()
                        .map(|c| c.to_string())
                        .chain(s.cidr_v6.iter().map(|c| c.to_string()))
                        .collect();
                    let rt = topo
                        .route_tables
                        .get(s.route_table as usize)
                        .map_or("?", |t| topo.name(t.res));
                    let acl = topo
                        .network_acls
                        .get(s.network_acl as usize)
                        .map_or("?", |a| topo.name(a.res));
                    let public = is_public(topo, si);
                    let cidr_line = cidrs.join(" · ");
                    let id = dom_id(&mut used, &topo.resource(s.res).logical_id);
                    m.push(
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
                                        "{} subnet in {label}",
                                        if public { "public" } else { "private" }
                                    ),
                                    format!("CIDRs: {cidr_line}"),
                                    format!("route table: {rt}"),
                                    format!("network ACL: {acl}"),
                                ],
                            ),
                        },
                    );
                    m.by_res.insert(s.res, Place::Subnet(si));
                    for (k, item) in items[si as usize].iter().enumerate() {
                        let (col, row) = (k as i32 % cols, k as i32 / cols);
                        let ir = Rect {
                            x: sr.x + PAD + col * (HOST_W + PAD),
                            y: sr.y + SUBNET_HEAD + row * (HOST_H + PAD),
                            w: HOST_W,
                            h: HOST_H,
                        };
                        match *item {
                            Item::Host(e) => m.push_host(topo, &mut used, e, ir),
                            Item::Nat(n) => m.push_nat(topo, &mut used, n, ir),
                        }
                    }
                }
            }

            // Gateways straddle the VPC's top edge, centred, towards the internet above.
            let total = gateways.len() as i32 * (GW_W + PAD) - PAD;
            let mut gx = r.cx() - total / 2;
            for g in gateways {
                let gr = Rect {
                    x: gx,
                    y: r.y - GW_H / 2,
                    w: GW_W,
                    h: GW_H,
                };
                gx += GW_W + PAD;
                let (res, what) = match g {
                    Place::Igw(i) => (topo.internet_gateways[i as usize].res, "internet gateway"),
                    Place::Eigw(i) => (
                        topo.egress_only_igws[i as usize].res,
                        "egress-only internet gateway",
                    ),
                    _ => continue,
                };
                let id = dom_id(&mut used, &topo.resource(res).logical_id);
                m.push(
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
                m.by_res.insert(res, g);
                m.links.push((gr.cx(), 0, gr.cx(), gr.y));
            }
        }

        let mut band_y = row_bottom + BAND_GAP;
        // Peering connections in a band below the VPCs, each near the middle of its two VPCs.
        let mut px_min = MARGIN;
        let mut any_peering = false;
        for (pi, p) in topo.peerings.iter().enumerate() {
            let (Some(a), Some(b)) = (
                vpc_rects.get(p.requester as usize),
                vpc_rects.get(p.accepter as usize),
            ) else {
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
                topo.name(topo.vpcs[p.requester as usize].res),
                topo.name(topo.vpcs[p.accepter as usize].res)
            );
            let id = dom_id(&mut used, &topo.resource(p.res).logical_id);
            m.push(
                Some(Place::Peering(pi as Idx)),
                Node {
                    dom_id: Some(id),
                    class: "res peering",
                    rect: pr,
                    title: fit(&with_name(topo, p.res), GW_W - 2 * PAD, CHAR_W_BOLD),
                    lines: vec![fit(&names, GW_W - 2 * PAD, CHAR_W)],
                    tooltip: tooltip(topo, p.res, &[format!("peering {names}")]),
                },
            );
            m.by_res.insert(p.res, Place::Peering(pi as Idx));
            for v in [a, b] {
                let vx = pr.cx().clamp(v.x + 2 * PAD, v.right() - 2 * PAD);
                m.links.push((pr.cx(), pr.y, vx, v.bottom()));
            }
        }
        if any_peering {
            band_y += GW_H + BAND_GAP;
        }

        // Everything else: kinds this map has no place for, and services a path reaches.
        let (mut gx, mut gy) = (MARGIN, band_y);
        let mut any_other = false;
        let wrap = m
            .nodes
            .iter()
            .map(|n| n.rect.right())
            .max()
            .unwrap_or(0)
            .max(MAX_ROW_W / 2);
        for (i, res) in topo.resources.iter().enumerate() {
            let r = ResId(i as u32);
            let builtin = i < 4;
            if m.by_res.contains_key(&r)
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
            let id = dom_id(&mut used, &res.logical_id);
            m.push(
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
            m.by_res.insert(r, Place::Other(r));
        }
        let bottom = if any_other {
            gy + HOST_H
        } else {
            band_y - BAND_GAP
        };

        let right = m.nodes.iter().map(|n| n.rect.right()).max().unwrap_or(0);
        m.width = right.max(400) + MARGIN;
        m.height = bottom.max(m.nodes.iter().map(|n| n.rect.bottom()).max().unwrap_or(0))
            + MARGIN
            + BADGE_R;
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

    fn push(&mut self, place: Option<Place>, node: Node) {
        if let Some(p) = place {
            self.places.insert(p, self.nodes.len());
        }
        self.nodes.push(node);
    }

    fn push_host(&mut self, topo: &Topology, used: &mut BTreeSet<String>, e: Idx, r: Rect) {
        let eni = &topo.enis[e as usize];
        let mut addrs: Vec<String> = eni
            .private_v4
            .iter()
            .map(|a| a.to_string())
            .chain(eni.ipv6.iter().map(|a| a.to_string()))
            .collect();
        let publics: Vec<String> = eni.public_v4.iter().map(|(_, p)| p.to_string()).collect();
        let first = addrs.first().cloned().unwrap_or_default();
        let line = match publics.first() {
            Some(p) => format!("{first} · {p}"),
            None => first,
        };
        let groups: Vec<&str> = eni
            .security_groups
            .iter()
            .filter_map(|g| topo.security_groups.get(*g as usize))
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
        let id = dom_id(used, &topo.resource(eni.owner).logical_id);
        self.push(
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
        self.by_res.entry(eni.owner).or_insert(Place::Eni(e));
        self.by_res.insert(eni.res, Place::Eni(e));
    }

    fn push_nat(&mut self, topo: &Topology, used: &mut BTreeSet<String>, n: Idx, r: Rect) {
        let g = &topo.nat_gateways[n as usize];
        let eni = topo.enis.get(g.eni as usize);
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
        let id = dom_id(used, &topo.resource(g.res).logical_id);
        self.push(
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
        self.by_res.insert(g.res, Place::Nat(n));
        if let Some(e) = eni {
            self.by_res.insert(e.res, Place::Nat(n));
        }
    }

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

    fn subnet_of(&self, topo: &Topology, p: Place) -> Option<Idx> {
        match p {
            Place::Eni(e) => topo.enis.get(e as usize).map(|e| e.subnet),
            Place::Nat(n) => topo.nat_gateways.get(n as usize).map(|g| g.subnet),
            Place::Subnet(s) => Some(s),
            _ => None,
        }
    }

    /// The place of every hop. Resources with a box are drawn there; rules are drawn where they
    /// apply: security groups at the interface, route tables and outbound ACLs at the subnet the
    /// packet is leaving, inbound ACLs at the subnet it enters.
    fn resolve(&self, topo: &Topology, hops: &[Hop]) -> Vec<Place> {
        let direct: Vec<Option<Place>> = hops
            .iter()
            .map(|h| self.by_res.get(&h.resource).copied())
            .collect();
        let hostlike = |p: &Place| matches!(p, Place::Eni(_) | Place::Nat(_));
        let owner_place = |a: IpAddr| {
            topo.owner_of(a).map(|e| match topo.enis[e as usize].kind {
                EniKind::NatGateway(n) => Place::Nat(n),
                _ => Place::Eni(e),
            })
        };
        // Subnets that use the hop's ACL or route table, when the resource is one.
        let users = |r: ResId| -> Vec<Idx> {
            let acl = topo.network_acls.iter().position(|a| a.res == r);
            let rt = topo.route_tables.iter().position(|t| t.res == r);
            topo.subnets
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    Some(s.network_acl as usize) == acl || Some(s.route_table as usize) == rt
                })
                .map(|(i, _)| i as Idx)
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
            let subnet_among = |cand: Option<Idx>, users: &[Idx]| {
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
                        .find(|&s| topo.subnets[s as usize].contains(h.header.dst));
                    subnet_among(by_next.or(by_dst), &u)
                }
                _ => None,
            };
            out.push(p.or(prev_any).or(next_direct).unwrap_or(Place::Internet));
        }
        out
    }

    /// The SVG: boxes, then paths (lines, then numbered badges on top).
    pub fn svg(&self, topo: &Topology, paths: &[PathSpec]) -> String {
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
            "res vpc" => {
                let top = r.y + GW_H / 2 + 18;
                let _ = write!(
                    s,
                    r#"<text class="t-title" x="{}" y="{top}">{}</text>"#,
                    r.x + PAD,
                    esc(&n.title)
                );
                for (k, l) in n.lines.iter().enumerate() {
                    let _ = write!(
                        s,
                        r#"<text class="t-line" x="{}" y="{}">{}</text>"#,
                        r.x + PAD,
                        top + 17 * (k as i32 + 1),
                        esc(l)
                    );
                }
            }
            _ => {
                let top = r.y + if n.class.contains("subnet") { 21 } else { 19 };
                let _ = write!(
                    s,
                    r#"<text class="t-title" x="{}" y="{top}">{}</text>"#,
                    r.x + PAD,
                    esc(&n.title)
                );
                for (k, l) in n.lines.iter().enumerate() {
                    let _ = write!(
                        s,
                        r#"<text class="t-line" x="{}" y="{}">{}</text>"#,
                        r.x + PAD,
                        top + 16 * (k as i32 + 1),
                        esc(l)
                    );
                }
            }
        }
        s.push_str("</g>");
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

#[cfg(test)]
mod tests {
    use super::*;
    use vpcsim_dataplane::flow::Header;
    use vpcsim_dataplane::topology::Subnet;

    fn header() -> Header {
        Header {
            src: "10.0.0.5".parse().unwrap(),
            dst: "10.1.0.5".parse().unwrap(),
            proto: 6,
            src_port: 40000,
            dst_port: 443,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 2,
            ttl: 64,
            len: 40,
        }
    }

    /// A kind this module has never heard of gets a generic box with a stable id, and a hop at it
    /// is drawn there; a rule-like unknown kind gets no box and its hop stays where the packet is.
    #[test]
    fn unknown_kinds_are_drawn_generically() {
        let mut topo = Topology::new();
        let tgw = topo.add_resource("CoreTgw", "tgw-1", "AWS::EC2::TransitGateway", None);
        let tgw_rt = topo.add_resource(
            "CoreTgwRt",
            "tgw-rtb-1",
            "AWS::EC2::TransitGatewayRouteTable",
            None,
        );
        let vpc = topo.add_resource("Vpc", "vpc-1", "AWS::EC2::VPC", None);
        topo.vpcs.push(vpcsim_dataplane::topology::Vpc {
            res: vpc,
            cidrs_v4: vec!["10.0.0.0/16".parse().unwrap()],
            ..Default::default()
        });
        let sn = topo.add_resource("Sn", "subnet-1", "AWS::EC2::Subnet", None);
        topo.subnets.push(Subnet {
            res: sn,
            vpc: 0,
            availability_zone: "us-east-1a".into(),
            cidr_v4: Some("10.0.0.0/24".parse().unwrap()),
            ..Default::default()
        });
        topo.finish();
        let hop = |resource| Hop {
            resource,
            stage: Stage::Route,
            action: Action::Forward,
            rule: None,
            detail: String::new(),
            header: header(),
        };
        let hops = vec![hop(sn), hop(tgw), hop(tgw_rt)];
        let referenced = hops.iter().map(|h| h.resource).collect();
        let map = Map::new(&topo, &referenced);
        let places = map.resolve(&topo, &hops);
        assert_eq!(
            places,
            vec![Place::Subnet(0), Place::Other(tgw), Place::Other(tgw)]
        );
        let svg = map.svg(
            &topo,
            &[PathSpec {
                key: "forward",
                hops: &hops,
                exited: false,
            }],
        );
        assert!(svg.contains(r#"id="res-CoreTgw""#), "{svg}");
        assert!(svg.contains("TransitGateway<"), "{svg}");
        assert!(!svg.contains(r#"id="res-CoreTgwRt""#), "{svg}");
        assert!(
            svg.contains(r#"data-hop-index="2" data-node="res-CoreTgw""#),
            "{svg}"
        );
        // Same input, same bytes.
        assert_eq!(
            svg,
            Map::new(&topo, &referenced).svg(
                &topo,
                &[PathSpec {
                    key: "forward",
                    hops: &hops,
                    exited: false
                }]
            )
        );
    }

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
