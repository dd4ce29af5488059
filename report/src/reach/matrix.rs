//! The reachability matrix: for every pair of endpoints, what gets through, as services.

use super::{
    box_json, family_name, first_ranges, has_ports, merge_ranges, port_range, protocol, service,
    sorted_boxes,
};
use serde_json::{json, Value};
use vpcsim_dataplane::reach::{
    self, Endpoint, Family, HBox, HeaderSet, Matrix, Start, DPORT, DST, PROTO, SPORT, SRC,
};
use vpcsim_dataplane::Topology;

/// An endpoint of the matrix: its instance or interface, `internet`, or `on-prem:<VPN
/// connection>`.
pub fn endpoint_name(topo: &Topology, e: Endpoint) -> String {
    match e {
        // A load balancer owns several nodes: each is named for itself (`Alb.PublicSubnetA`).
        Endpoint::Eni(i) => match topo.enis[i].kind {
            vpcsim_dataplane::topology::EniKind::ApplicationLoadBalancer(_) => {
                topo.name(topo.enis[i].res).to_string()
            }
            _ => topo.name(topo.enis[i].owner).to_string(),
        },
        Endpoint::Internet => "internet".into(),
        Endpoint::OnPrem(c) => format!("on-prem:{}", topo.name(topo.vpn_connections[c].res)),
    }
}

/// What gets through a pair, whoever the addresses: source and destination projected out.
fn services(fam: Family, s: &HeaderSet) -> HeaderSet {
    let d = fam.domain();
    s.project_out(SRC, d.lo[SRC], d.hi[SRC])
        .project_out(DST, d.lo[DST], d.hi[DST])
}

/// What gets through, whoever the addresses: `tcp 22,443; icmp type 8`,
/// `tcp 443 from port 0-442,444-65535`, or `all traffic`.
pub fn services_text(fam: Family, s: &HeaderSet) -> String {
    let s = services(fam, s);
    let u = reach::universe(fam);
    if s.subtract(&u).is_empty() && u.subtract(&s).is_empty() {
        return "all traffic".into();
    }
    type R = (u128, u128);
    // Ports of TCP and UDP: destination ports that share their source ports print together.
    let mut by_dport: std::collections::BTreeMap<(u128, R), Vec<R>> = Default::default();
    let mut rest: Vec<HBox> = Vec::new();
    for b in s.boxes() {
        let (plo, phi) = b.range(PROTO);
        if plo == phi && has_ports(plo) {
            by_dport
                .entry((plo, b.range(DPORT)))
                .or_default()
                .push(b.range(SPORT));
        } else {
            rest.push(*b);
        }
    }
    let mut by_sports: std::collections::BTreeMap<(u128, Vec<R>), Vec<R>> = Default::default();
    for ((p, dport), sports) in by_dport {
        by_sports
            .entry((p, merge_ranges(sports)))
            .or_default()
            .push(dport);
    }
    let list = |v: &[R]| -> String {
        merge_ranges(v.to_vec())
            .iter()
            .map(|&(lo, hi)| port_range(lo, hi))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut parts: Vec<(u128, String)> = Vec::new();
    for ((p, sports), dports) in by_sports {
        let mut t = format!("{} {}", protocol(p), list(&dports));
        if sports != [(0, 0xffff)] {
            t.push_str(&format!(" from port {}", list(&sports)));
        }
        parts.push((p, t));
    }
    rest.sort_by_key(|b| (b.lo[PROTO], b.lo[DPORT]));
    for b in rest {
        parts.push((b.lo[PROTO], service(&b)));
    }
    parts.sort_by_key(|a| a.0);
    parts.dedup_by(|a, b| a.1 == b.1);
    parts
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `services_text` for a pair with the internet (or an on-premises network) on one side:
/// services that not every address of that side (`whole`, along `dim`) gets are qualified with
/// the addresses that do.
fn qualified_services(fam: Family, s: &HeaderSet, dim: usize, whole: &[(u128, u128)]) -> String {
    let d = fam.domain();
    let other = if dim == SRC { DST } else { SRC };
    let s = s.project_out(other, d.lo[other], d.hi[other]);
    type R = (u128, u128);
    let mut by_service: std::collections::BTreeMap<[R; 3], Vec<R>> = Default::default();
    for b in s.boxes() {
        by_service
            .entry([b.range(PROTO), b.range(SPORT), b.range(DPORT)])
            .or_default()
            .push(b.range(dim));
    }
    let mut full = HeaderSet::new();
    let mut partial: std::collections::BTreeMap<Vec<R>, HeaderSet> = Default::default();
    for (k, ranges) in by_service {
        let ranges = merge_ranges(ranges);
        let mut b = d;
        b.lo[PROTO] = k[0].0;
        b.hi[PROTO] = k[0].1;
        b.lo[SPORT] = k[1].0;
        b.hi[SPORT] = k[1].1;
        b.lo[DPORT] = k[2].0;
        b.hi[DPORT] = k[2].1;
        if reach::ranges_minus(whole, &ranges).is_empty() {
            full.add_box(b);
        } else {
            let inside = reach::ranges_minus(
                &ranges,
                &reach::ranges_minus(&[(0, fam.addr_max())], &merge_ranges(whole.to_vec())),
            );
            partial.entry(inside).or_default().add_box(b);
        }
    }
    let mut out: Vec<String> = Vec::new();
    if !full.is_empty() {
        out.push(services_text(fam, &full));
    }
    let word = if dim == SRC { "from" } else { "to" };
    for (ranges, set) in partial {
        out.push(format!(
            "{} ({word} {} only)",
            services_text(fam, &set),
            first_ranges(fam, &ranges)
        ));
    }
    out.join("; ")
}

/// What gets through one cell of the matrix, as text.
fn cell_text(topo: &Topology, m: &Matrix, from: usize, to: usize, s: &HeaderSet) -> String {
    let side = |e: Endpoint| match e {
        Endpoint::Internet => Some(reach::sources(topo, Start::Internet, m.family)),
        Endpoint::OnPrem(c) => Some(reach::sources(topo, Start::OnPrem(c), m.family)),
        Endpoint::Eni(_) => None,
    };
    if let Some(whole) = side(m.endpoints[from]) {
        return qualified_services(m.family, s, SRC, &whole);
    }
    if let Some(whole) = side(m.endpoints[to]) {
        return qualified_services(m.family, s, DST, &whole);
    }
    services_text(m.family, s)
}

/// What `vpcsim reach --matrix` prints: every pair where requests arrive and replies return,
/// and the services that do.
pub fn matrix_text(topo: &Topology, m: &Matrix) -> String {
    let mut out = format!(
        "reachability matrix ({}): {} endpoints, {} pairs where requests arrive and replies return\n\n",
        family_name(m.family),
        m.endpoints.len(),
        m.cells.len()
    );
    let mut rows: Vec<[String; 3]> = vec![["FROM".into(), "TO".into(), "WHAT GETS THROUGH".into()]];
    let mut cells: Vec<&(usize, usize, HeaderSet)> = m.cells.iter().collect();
    let name = |i: usize| endpoint_name(topo, m.endpoints[i]);
    cells.sort_by_cached_key(|c| (name(c.0), name(c.1)));
    for (from, to, s) in cells {
        rows.push([name(*from), name(*to), cell_text(topo, m, *from, *to, s)]);
    }
    let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
    for r in &rows {
        out.push_str(&format!(
            "  {:w0$}  {:w1$}  {}\n",
            r[0],
            r[1],
            r[2],
            w0 = w0,
            w1 = w1
        ));
    }
    let unknown: Vec<String> = m
        .not_analysed
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, _)| name(i))
        .collect();
    if !unknown.is_empty() {
        out.push_str(&format!(
            "\nsome flows not analysed (they depend on NAT or connection-tracking state, or on a transit gateway's flow hash) from: {}\n  `vpcsim reach --from X` lists them\n",
            unknown.join(", ")
        ));
    }
    out
}

/// What `vpcsim reach --matrix --json` prints: every pair with its services and flows, and the
/// flows not analysed.
pub fn matrix_json(topo: &Topology, m: &Matrix) -> Value {
    let name = |i: usize| endpoint_name(topo, m.endpoints[i]);
    let mut cells: Vec<&(usize, usize, HeaderSet)> = m.cells.iter().collect();
    cells.sort_by_cached_key(|c| (name(c.0), name(c.1)));
    json!({
        "family": family_name(m.family),
        "endpoints": m.endpoints.iter().map(|e| endpoint_name(topo, *e)).collect::<Vec<_>>(),
        "pairs": cells.iter().map(|(f, t, s)| json!({
            "from": name(*f),
            "to": name(*t),
            "services": cell_text(topo, m, *f, *t, s),
            "flows": sorted_boxes(s).iter().map(|b| box_json(m.family, b)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "not_analysed": m.not_analysed.iter().enumerate().filter(|(_, s)| !s.is_empty()).map(|(i, s)| json!({
            "from": name(i),
            "flows": sorted_boxes(s).iter().map(|b| box_json(m.family, b)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
