//! Reachability as text and JSON: the header sets `vpcsim_dataplane::reach` returns, as the
//! tables of `vpcsim reach` and `vpcsim diff`, with the ranges merged and named the way people
//! write them (`tcp 443`, `10.0.0.0/16`, `the internet except …`).

mod matrix;

pub use matrix::{endpoint_name, matrix_json, matrix_text, services_text};

use serde_json::{json, Value};
use vpcsim_dataplane::reach::{
    self, Family, Fate, HBox, HeaderSet, Summary, DIMS, DPORT, DST, PROTO, SPORT, SRC,
};
use vpcsim_dataplane::wire::IpProtocol;
use vpcsim_dataplane::Topology;

/// `IPv4` or `IPv6`.
pub fn family_name(fam: Family) -> &'static str {
    match fam {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

/// The protocol a value of the protocol dimension (0-255) stands for.
fn protocol(p: u128) -> IpProtocol {
    IpProtocol(p as u8)
}

fn is_icmp(p: u128) -> bool {
    p == IpProtocol::ICMP.0 as u128 || p == IpProtocol::ICMPV6.0 as u128
}

fn has_ports(p: u128) -> bool {
    p == IpProtocol::TCP.0 as u128 || p == IpProtocol::UDP.0 as u128
}

/// `tcp`, `udp`, `47`, `0-5`.
fn protocols(b: &HBox) -> String {
    let (lo, hi) = b.range(PROTO);
    if lo == hi {
        protocol(lo).to_string()
    } else if lo == 0 && hi == 255 {
        "any".into()
    } else {
        format!("{lo}-{hi}")
    }
}

fn port_range(lo: u128, hi: u128) -> String {
    if lo == 0 && hi == 0xffff {
        "any".into()
    } else if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

/// ICMP type and code (`type * 256 + code` in the destination-port dimension).
fn icmp_range(lo: u128, hi: u128) -> String {
    let (tlo, clo, thi, chi) = (lo >> 8, lo & 0xff, hi >> 8, hi & 0xff);
    if lo == 0 && hi == 0xffff {
        "any type".into()
    } else if clo == 0 && chi == 0xff {
        if tlo == thi {
            format!("type {tlo}")
        } else {
            format!("type {tlo}-{thi}")
        }
    } else if tlo == thi {
        if clo == chi {
            format!("type {tlo} code {clo}")
        } else {
            format!("type {tlo} code {clo}-{chi}")
        }
    } else {
        format!("type {tlo} code {clo} to type {thi} code {chi}")
    }
}

/// An address range as CIDRs when it splits into few (`10.0.0.0/16,10.1.0.0/24`), else
/// `first-last`; `any` for the whole family.
pub fn addresses(fam: Family, lo: u128, hi: u128) -> String {
    if lo == 0 && hi == fam.addr_max() {
        return "any".into();
    }
    let width = match fam {
        Family::V4 => 32u32,
        Family::V6 => 128,
    };
    let mut cidrs = Vec::new();
    let mut cur = lo;
    loop {
        // The largest aligned block starting at `cur` that stays inside the range.
        let mut len = if cur == 0 {
            width
        } else {
            cur.trailing_zeros().min(width)
        };
        while len > 0 {
            let span = if len >= 128 {
                u128::MAX
            } else {
                (1u128 << len) - 1
            };
            let last = cur.checked_add(span);
            if last.is_some_and(|l| l <= hi) {
                break;
            }
            len -= 1;
        }
        let prefix = width - len;
        let a = fam.addr(cur);
        cidrs.push(if prefix == width {
            a.to_string()
        } else {
            format!("{a}/{prefix}")
        });
        let next = if len >= 128 {
            None
        } else {
            cur.checked_add(1u128 << len)
        };
        match next {
            Some(n) if n <= hi && cidrs.len() <= 3 => cur = n,
            Some(n) if n <= hi => {
                return format!("{}-{}", fam.addr(lo), fam.addr(hi));
            }
            _ => break,
        }
    }
    cidrs.join(",")
}

/// The service part of a box: `tcp 443`, `tcp 443 from port 1024-65535`, `icmp type 8`, `47`.
fn service(b: &HBox) -> String {
    let p = protocols(b);
    let (plo, phi) = b.range(PROTO);
    if plo != phi {
        return if p == "any" {
            "all traffic".into()
        } else {
            format!("protocols {p}")
        };
    }
    let (dlo, dhi) = b.range(DPORT);
    let (slo, shi) = b.range(SPORT);
    if has_ports(plo) {
        let mut s = format!("{p} {}", port_range(dlo, dhi));
        if (slo, shi) != (0, 0xffff) {
            s.push_str(&format!(" from port {}", port_range(slo, shi)));
        }
        s
    } else if is_icmp(plo) {
        format!("{p} {}", icmp_range(dlo, dhi))
    } else {
        p
    }
}

/// One box as a row: protocol, source, source port, destination, destination port/ICMP.
fn row(fam: Family, b: &HBox) -> [String; 5] {
    let (plo, phi) = b.range(PROTO);
    let single = plo == phi;
    let (slo, shi) = b.range(SPORT);
    if (plo, phi) == (0, 255) {
        let (alo, ahi) = b.range(SRC);
        let (blo, bhi) = b.range(DST);
        return [
            "any".into(),
            addresses(fam, alo, ahi),
            "any".into(),
            addresses(fam, blo, bhi),
            "any".into(),
        ];
    }
    let (dlo, dhi) = b.range(DPORT);
    let (sport, dport) = if single && has_ports(plo) {
        (port_range(slo, shi), port_range(dlo, dhi))
    } else if single && is_icmp(plo) {
        ("-".into(), icmp_range(dlo, dhi))
    } else {
        ("-".into(), "-".into())
    };
    let (alo, ahi) = b.range(SRC);
    let (blo, bhi) = b.range(DST);
    [
        protocols(b),
        addresses(fam, alo, ahi),
        sport,
        addresses(fam, blo, bhi),
        dport,
    ]
}

/// One box of a header set as a JSON flow: protocol, source and destination addresses, then
/// ports (TCP, UDP) or ICMP types and codes.
pub fn box_json(fam: Family, b: &HBox) -> Value {
    let [protocol, src, src_ports, dst, dst_ports] = row(fam, b);
    let (plo, phi) = b.range(PROTO);
    let mut v = json!({"protocol": protocol, "src": src, "dst": dst});
    if plo == phi && has_ports(plo) {
        v["src_ports"] = json!(src_ports);
        v["dst_ports"] = json!(dst_ports);
    } else if plo == phi && is_icmp(plo) {
        v["icmp"] = json!(dst_ports);
    }
    v
}

/// Sorted boxes, for stable output.
pub fn sorted_boxes(s: &HeaderSet) -> Vec<HBox> {
    let mut boxes = s.boxes().to_vec();
    boxes.sort_by_key(|b| {
        let mut k = [0u128; 2 * DIMS];
        for (i, d) in [PROTO, DPORT, SRC, DST, SPORT].into_iter().enumerate() {
            k[2 * i] = b.lo[d];
            k[2 * i + 1] = b.hi[d];
        }
        k
    });
    boxes
}

fn fate_text(topo: &Topology, f: &Fate) -> String {
    match f {
        Fate::Delivered { to, .. } => format!("DELIVERED to {}", topo.name(*to)),
        Fate::Exited { via, vpn: Some(c) } => format!(
            "EXITED via {} to {}",
            topo.name(*via),
            topo.name(topo.vpn_connections[*c].res)
        ),
        Fate::Exited { via, vpn: None } => format!("EXITED via {}", topo.name(*via)),
        Fate::Dropped { reason, at } => format!("{} at {}", reason.as_str(), topo.name(*at)),
        Fate::NotAnalysed(why) => format!("NOT ANALYSED: {why}"),
        Fate::OneOf(fates) => {
            let delivered: Option<Vec<&str>> = fates
                .iter()
                .map(|f| match f {
                    Fate::Delivered { to, .. } => Some(topo.name(*to)),
                    _ => None,
                })
                .collect();
            let each = match delivered {
                Some(to) => format!("DELIVERED to {}", to.join(" or ")),
                None => fates
                    .iter()
                    .map(|f| fate_text(topo, f))
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("{each} ({})", reach::HASH_DEPENDENT)
        }
    }
}

fn fate_json(topo: &Topology, f: &Fate) -> Value {
    match f {
        Fate::Delivered { to, .. } => {
            json!({"disposition": "DELIVERED", "delivered_to": topo.name(*to)})
        }
        Fate::Exited { via, vpn } => {
            let mut v = json!({"disposition": "EXITED", "egress": topo.name(*via)});
            if let Some(c) = vpn {
                v["vpn_connection"] = json!(topo.name(topo.vpn_connections[*c].res));
            }
            v
        }
        Fate::Dropped { reason, at } => {
            json!({"disposition": "DROPPED", "reason": reason.as_str(), "at": topo.name(*at)})
        }
        Fate::NotAnalysed(why) => json!({"disposition": "NOT_ANALYSED", "why": why}),
        Fate::OneOf(fates) => json!({
            "disposition": "ONE_OF",
            "why": reach::HASH_DEPENDENT,
            "one_of": fates.iter().map(|f| fate_json(topo, f)).collect::<Vec<_>>(),
        }),
    }
}

/// What `vpcsim reach --from X --to Y --json` prints: the same three groups, every flow listed.
pub fn reach_json(topo: &Topology, fam: Family, from: &str, to: &str, s: &Summary) -> Value {
    json!({
        "from": from,
        "to": to,
        "family": family_name(fam),
        "reachable": groups_json(topo, fam, &s.complete),
        "reply_blocked": groups_json(topo, fam, &s.reply_blocked),
        "blocked": groups_json(topo, fam, &s.blocked),
        "depends_on_flow_hash": groups_json(topo, fam, &s.depends),
    })
}

fn groups_json(
    topo: &Topology,
    fam: Family,
    groups: &std::collections::BTreeMap<Fate, HeaderSet>,
) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|(f, s)| {
                let mut v = fate_json(topo, f);
                v["flows"] =
                    Value::Array(sorted_boxes(s).iter().map(|b| box_json(fam, b)).collect());
                v
            })
            .collect(),
    )
}

/// Rows printed per result before the rest is summarised (the JSON holds every box).
const MAX_ROWS: usize = 40;

fn table(out: &mut String, rows: &[[String; 6]]) {
    let mut w = [0usize; 6];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    for r in rows {
        let mut line = String::from(" ");
        for (i, c) in r.iter().enumerate() {
            line.push(' ');
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(w[i] - c.chars().count() + 1));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// Sorted, touching ranges merged.
fn merge_ranges(mut v: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    v.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if last.1.checked_add(1).is_some_and(|n| n >= lo) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// What a question ranges over, for naming a whole side instead of listing its ranges.
pub struct Sides {
    /// The source ranges asked about, and their name (`(WebInstance)`, `internet`).
    pub src: (Vec<(u128, u128)>, String),
    /// The destination ranges asked about, and their name.
    pub dst: (Vec<(u128, u128)>, String),
}

fn address_list(
    fam: Family,
    ranges: Vec<(u128, u128)>,
    whole: &(Vec<(u128, u128)>, String),
) -> String {
    let ranges = merge_ranges(ranges);
    if ranges.len() > 1 && ranges == merge_ranges(whole.0.clone()) {
        return whole.1.clone();
    }
    let whole_ranges = merge_ranges(whole.0.clone());
    let missing = reach::ranges_minus(&whole_ranges, &ranges);
    if whole.1 == "internet"
        && !missing.is_empty()
        && missing.len() <= 3
        && reach::ranges_minus(&ranges, &whole_ranges).is_empty()
    {
        let except: Vec<String> = missing
            .iter()
            .map(|&(lo, hi)| addresses(fam, lo, hi))
            .collect();
        return format!("{} except {}", whole.1, except.join(","));
    }
    first_ranges(fam, &ranges)
}

/// The first three ranges, and how many more there are.
fn first_ranges(fam: Family, ranges: &[(u128, u128)]) -> String {
    let mut text: Vec<String> = ranges
        .iter()
        .take(3)
        .map(|&(lo, hi)| addresses(fam, lo, hi))
        .collect();
    if ranges.len() > 3 {
        text.push(format!("+{} more ranges", ranges.len() - 3));
    }
    text.join(",")
}

/// Rows of a set: boxes that differ only in their source (then destination) addresses share
/// a row, so a side split by many ranges (the internet) prints once.
fn merged_rows(fam: Family, s: &HeaderSet, sides: &Sides) -> Vec<[String; 5]> {
    // Every protocol and port between some addresses: one row per address pair, `any`.
    let d = fam.domain();
    let mut pairs = s.clone();
    for k in [PROTO, SPORT, DPORT] {
        pairs = pairs.project_out(k, d.lo[k], d.hi[k]);
    }
    let everything = reach::with_addresses(
        &reach::universe(fam),
        &[(d.lo[SRC], d.hi[SRC])],
        &[(d.lo[DST], d.hi[DST])],
    );
    let mut full = HeaderSet::new();
    for b in pairs.boxes() {
        full.extend_disjoint(everything.intersect_box(b));
    }
    let s = if full.subtract(s).is_empty() {
        &pairs
    } else {
        s
    };
    type R = (u128, u128);
    type Key = [R; 3];
    let key = |b: &HBox| -> Key { [b.range(PROTO), b.range(DPORT), b.range(SPORT)] };
    let mut by_dst: std::collections::BTreeMap<(Key, R), Vec<R>> =
        std::collections::BTreeMap::new();
    for b in s.boxes() {
        by_dst
            .entry((key(b), b.range(DST)))
            .or_default()
            .push(b.range(SRC));
    }
    let mut by_src: std::collections::BTreeMap<(Key, Vec<R>), Vec<R>> =
        std::collections::BTreeMap::new();
    for ((k, dst), srcs) in by_dst {
        by_src.entry((k, merge_ranges(srcs))).or_default().push(dst);
    }
    by_src
        .into_iter()
        .map(|((k, srcs), dsts)| {
            let (slo, shi) = srcs[0];
            let (dlo, dhi) = dsts[0];
            let b = HBox {
                lo: [slo, dlo, k[0].0, k[2].0, k[1].0],
                hi: [shi, dhi, k[0].1, k[2].1, k[1].1],
            };
            let mut r = row(fam, &b);
            r[1] = address_list(fam, srcs, &sides.src);
            r[3] = address_list(fam, dsts, &sides.dst);
            r
        })
        .collect()
}

fn section(
    out: &mut String,
    topo: &Topology,
    fam: Family,
    title: &str,
    groups: &std::collections::BTreeMap<Fate, HeaderSet>,
    sides: &Sides,
) {
    if groups.is_empty() {
        return;
    }
    out.push_str(&format!("\n{title}\n"));
    let mut rows = vec![[
        "PROTO".to_string(),
        "SOURCE".into(),
        "SPORT".into(),
        "DESTINATION".into(),
        "DPORT/TYPE".into(),
        "RESULT".into(),
    ]];
    let mut hidden = 0;
    for (f, s) in groups {
        let merged = merged_rows(fam, s, sides);
        let text = fate_text(topo, f);
        for (i, r) in merged.iter().enumerate() {
            if i >= MAX_ROWS {
                hidden += merged.len() - MAX_ROWS;
                break;
            }
            let [a, b, c, d, e] = r.clone();
            rows.push([a, b, c, d, e, text.clone()]);
        }
    }
    table(out, &rows);
    if hidden > 0 {
        out.push_str(&format!("  ({hidden} more rows: see --json)\n"));
    }
}

/// What `vpcsim reach --from X --to Y` prints: flows that get there and back, flows whose
/// reply is dropped, and blocked flows, each with the drop reason and the resource.
pub fn reach_text(
    topo: &Topology,
    fam: Family,
    from: &str,
    to: &str,
    s: &Summary,
    sides: &Sides,
) -> String {
    let mut out = format!(
        "reach from {from} to {to} ({}): every packet, first packet of each flow and its reply\n",
        family_name(fam)
    );
    if s.complete.is_empty() {
        out.push_str("\nnothing gets there and back\n");
    }
    section(
        &mut out,
        topo,
        fam,
        "REACHABLE (request arrives, reply returns):",
        &s.complete,
        sides,
    );
    section(
        &mut out,
        topo,
        fam,
        "REPLY BLOCKED (request arrives, its reply is dropped):",
        &s.reply_blocked,
        sides,
    );
    section(
        &mut out,
        topo,
        fam,
        "BLOCKED (request dropped):",
        &s.blocked,
        sides,
    );
    section(
        &mut out,
        topo,
        fam,
        "DEPENDS ON THE FLOW HASH (gets through for some flows, not for others):",
        &s.depends,
        sides,
    );
    out
}
