//! `vpcsim reach`: every packet at once, between two endpoints or between all of them.
//!
//! The answer comes from the symbolic walk of `vpcsim_dataplane::reach` (header space, not
//! sampled packets); this module picks the header set a question ranges over and prints the
//! parts the walk returns.

use super::args::TopologyArgs;
use clap::Args;
use serde_json::{json, Value};
use vpcsim_dataplane::flow::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use vpcsim_dataplane::reach::{
    self, Endpoint, Family, Fate, HBox, HeaderSet, Matrix, Prepared, Start, Summary, DIMS, DPORT,
    DST, PROTO, SPORT, SRC,
};
use vpcsim_dataplane::Topology;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim reach -t examples/two-tier.yaml --from WebInstance --to AppInstanceA
  vpcsim reach -t examples/two-tier.yaml --from internet --to WebInstance --json
  vpcsim reach -t examples/two-tier.yaml --from AppInstanceA --to internet --protocol udp
  vpcsim reach -t examples/hub-and-spoke.yaml --from App --to Web
  vpcsim reach -t examples/vpn.yaml --from OfficeRouter --to App
  vpcsim reach -t examples/two-tier.yaml --matrix
  vpcsim reach -t examples/two-tier.yaml --matrix --ipv6 --json

What it answers: for every header at once (protocol, source and destination address, source and
destination port, ICMP type and code), whether a packet from --from gets to --to and whether its
reply gets back, and for every part that does not, the drop reason and the resource that decided.
The analysis is exact for the first packet of each flow and its reply on a fresh state (what
`vpcsim trace --return` shows one packet at a time); what depends on state a template does not
fix (the port a NAT gateway picks, the zone a transit gateway picks by flow hash when the zones
disagree) is listed as NOT ANALYSED, never guessed.

Exit codes: 0 ok, 2 bad input.")]
pub struct ReachArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Where packets start: an instance or network interface (its own addresses are the
    /// sources), `internet` (every public address), a VPN connection or customer gateway (its
    /// on-premises prefixes) or a transit gateway attachment (any source).
    #[arg(long, value_name = "RESOURCE", required_unless_present = "matrix")]
    pub from: Option<String>,
    /// Where packets go: an instance or network interface (its private, IPv6 and public
    /// addresses), `internet` (public addresses the topology does not own), a VPN connection or
    /// customer gateway (its on-premises prefixes), or an address or CIDR. Default: anywhere.
    #[arg(long, value_name = "RESOURCE|CIDR")]
    pub to: Option<String>,
    /// Only this protocol: tcp, udp, icmp, icmpv6 or a number 0-255.
    #[arg(long, value_name = "PROTO")]
    pub protocol: Option<String>,
    /// IPv6 instead of IPv4 (the two families never mix).
    #[arg(long)]
    pub ipv6: bool,
    /// Every instance/interface pair and the internet in and out, instead of --from/--to.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub matrix: bool,
    /// Worker threads for --matrix (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ReachArgs) -> i32 {
    let Ok((_, topo)) = args.topology.topology() else {
        return 2;
    };
    let fam = if args.ipv6 { Family::V6 } else { Family::V4 };
    let prep = Prepared::new(&topo);
    if args.matrix {
        let m = reach::matrix(&prep, fam, threads(args.threads));
        if args.json {
            out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&matrix_json(&topo, &m)).unwrap_or_default()
            ));
        } else {
            out(&matrix_text(&topo, &m));
        }
        return 0;
    }
    let from = args.from.as_deref().unwrap_or_default();
    let start = match resolve_start(&topo, from) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let dst = match args.to.as_deref() {
        None => vec![(0, fam.addr_max())],
        Some(to) => match destinations(&topo, to, fam) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
    };
    let proto = match args.protocol.as_deref().map(parse_protocol).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let src = reach::sources(&topo, start, fam);
    let set = reach::with_addresses(&reach::protocol(fam, proto), &src, &dst);
    let summary = prep.analyse(start, fam, &set).summary();
    let to = args.to.clone().unwrap_or_else(|| "anywhere".into());
    if args.json {
        let json = json!({
            "from": from,
            "to": to,
            "family": family_name(fam),
            "reachable": groups_json(&topo, fam, &summary.complete),
            "reply_blocked": groups_json(&topo, fam, &summary.reply_blocked),
            "blocked": groups_json(&topo, fam, &summary.blocked),
        });
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ));
    } else {
        let label = |name: &str| match name {
            "internet" => "internet".to_string(),
            n => format!("({n})"),
        };
        let sides = Sides {
            src: (src.clone(), label(from)),
            dst: (dst.clone(), label(&to)),
        };
        out(&reach_text(&topo, fam, from, &to, &summary, &sides));
    }
    0
}

/// Write to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub fn out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

pub fn family_name(fam: Family) -> &'static str {
    match fam {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

fn parse_protocol(s: &str) -> Result<u8, String> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Ok(PROTO_TCP),
        "udp" => Ok(PROTO_UDP),
        "icmp" => Ok(PROTO_ICMP),
        "icmpv6" => Ok(PROTO_ICMPV6),
        n => n.parse::<u8>().map_err(|_| {
            format!("--protocol {s}: expected tcp, udp, icmp, icmpv6 or a number 0-255")
        }),
    }
}

/// `--from`: the same resources `trace --from` accepts.
fn resolve_start(topo: &Topology, from: &str) -> Result<Start, String> {
    if from.eq_ignore_ascii_case("internet") {
        return Ok(Start::Internet);
    }
    let r = topo
        .find_resource(from)
        .ok_or_else(|| format!("--from {from}: no resource with that logical id or AWS id"))?;
    if let Some(e) = topo.eni_by_resource(r) {
        return Ok(Start::Eni(e));
    }
    if let Some(a) = topo.tgw_attachment_by_resource(r) {
        return Ok(Start::TgwAttachment(a));
    }
    if let Some(c) = topo.vpn_connection_by_resource(r) {
        return Ok(Start::OnPrem(c));
    }
    Err(format!(
        "--from {from}: {} is not an instance, network interface, customer gateway, VPN connection, virtual private gateway or transit gateway attachment",
        topo.resource(r).kind
    ))
}

/// `--to`: the destination addresses a question ranges over, sorted and disjoint.
fn destinations(topo: &Topology, to: &str, fam: Family) -> Result<Vec<(u128, u128)>, String> {
    let mut v: Vec<(u128, u128)> = Vec::new();
    if to.eq_ignore_ascii_case("internet") {
        let owned: Vec<(u128, u128)> = match fam {
            Family::V4 => topo
                .public_v4
                .keys()
                .map(|&a| (a as u128, a as u128))
                .collect(),
            Family::V6 => topo
                .vpcs
                .iter()
                .flat_map(|v| v.cidrs_v6.iter())
                .map(|n| {
                    let lo = n.network().to_bits();
                    (lo, n.broadcast().to_bits())
                })
                .collect(),
        };
        let mut owned = owned;
        owned.sort_unstable();
        return Ok(reach::ranges_minus(&reach::public_ranges(fam), &owned));
    }
    if let Ok(net) = to.parse::<ipnet::IpNet>() {
        return range_of(net, fam, to).map(|r| vec![r]);
    }
    if let Ok(a) = to.parse::<std::net::IpAddr>() {
        return range_of(ipnet::IpNet::from(a), fam, to).map(|r| vec![r]);
    }
    let r = topo.find_resource(to).ok_or_else(|| {
        format!(
            "--to {to}: not `internet`, an address, a CIDR, or a resource's logical id or AWS id"
        )
    })?;
    if let Some(e) = topo.eni_by_resource(r) {
        let e = &topo.enis[e as usize];
        match fam {
            Family::V4 => {
                for a in &e.private_v4 {
                    v.push((a.to_bits() as u128, a.to_bits() as u128));
                }
                for (_, p) in &e.public_v4 {
                    v.push((p.to_bits() as u128, p.to_bits() as u128));
                }
            }
            Family::V6 => v.extend(e.ipv6.iter().map(|a| (a.to_bits(), a.to_bits()))),
        }
    } else if let Some(c) = topo.vpn_connection_by_resource(r) {
        v = reach::sources(topo, Start::OnPrem(c), fam);
    } else {
        return Err(format!(
            "--to {to}: {} is not an instance, network interface, customer gateway or VPN connection",
            topo.resource(r).kind
        ));
    }
    if v.is_empty() {
        return Err(format!("--to {to}: it has no {} address", family_name(fam)));
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

fn range_of(net: ipnet::IpNet, fam: Family, text: &str) -> Result<(u128, u128), String> {
    match (net, fam) {
        (ipnet::IpNet::V4(n), Family::V4) => Ok((
            n.network().to_bits() as u128,
            n.broadcast().to_bits() as u128,
        )),
        (ipnet::IpNet::V6(n), Family::V6) => Ok((n.network().to_bits(), n.broadcast().to_bits())),
        (ipnet::IpNet::V4(_), Family::V6) => Err(format!("--to {text}: an IPv4 range with --ipv6")),
        (ipnet::IpNet::V6(_), Family::V4) => {
            Err(format!("--to {text}: an IPv6 range needs --ipv6"))
        }
    }
}

// ----- rendering header sets ----------------------------------------------------------------

fn proto_name(p: u128) -> String {
    match p as u8 {
        PROTO_TCP => "tcp".into(),
        PROTO_UDP => "udp".into(),
        PROTO_ICMP => "icmp".into(),
        PROTO_ICMPV6 => "icmpv6".into(),
        n => n.to_string(),
    }
}

fn is_icmp(p: u128) -> bool {
    p == PROTO_ICMP as u128 || p == PROTO_ICMPV6 as u128
}

fn has_ports(p: u128) -> bool {
    p == PROTO_TCP as u128 || p == PROTO_UDP as u128
}

/// `tcp`, `udp`, `47`, `0-5`.
fn protocols(b: &HBox) -> String {
    let (lo, hi) = b.range(PROTO);
    if lo == hi {
        proto_name(lo)
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

/// An address range as CIDRs when it splits into few, else `first-last`.
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

pub fn fate_text(topo: &Topology, f: &Fate) -> String {
    match f {
        Fate::Delivered { to, .. } => format!("DELIVERED to {}", topo.name(*to)),
        Fate::Exited { via, vpn: Some(c) } => format!(
            "EXITED via {} to {}",
            topo.name(*via),
            topo.name(topo.vpn_connections[*c as usize].res)
        ),
        Fate::Exited { via, vpn: None } => format!("EXITED via {}", topo.name(*via)),
        Fate::Dropped { reason, at } => format!("{} at {}", reason.as_str(), topo.name(*at)),
        Fate::NotAnalysed(why) => format!("NOT ANALYSED: {why}"),
    }
}

pub fn fate_json(topo: &Topology, f: &Fate) -> Value {
    match f {
        Fate::Delivered { to, .. } => {
            json!({"disposition": "DELIVERED", "delivered_to": topo.name(*to)})
        }
        Fate::Exited { via, vpn } => {
            let mut v = json!({"disposition": "EXITED", "egress": topo.name(*via)});
            if let Some(c) = vpn {
                v["vpn_connection"] = json!(topo.name(topo.vpn_connections[*c as usize].res));
            }
            v
        }
        Fate::Dropped { reason, at } => {
            json!({"disposition": "DROPPED", "reason": reason.as_str(), "at": topo.name(*at)})
        }
        Fate::NotAnalysed(why) => json!({"disposition": "NOT_ANALYSED", "why": why}),
    }
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
    pub src: (Vec<(u128, u128)>, String),
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

fn reach_text(
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
    out
}

// ----- the matrix ---------------------------------------------------------------------------

pub fn endpoint_name(topo: &Topology, e: Endpoint) -> String {
    match e {
        Endpoint::Eni(i) => topo.name(topo.enis[i as usize].owner).to_string(),
        Endpoint::Internet => "internet".into(),
        Endpoint::OnPrem(c) => format!(
            "on-prem:{}",
            topo.name(topo.vpn_connections[c as usize].res)
        ),
    }
}

/// What gets through a pair, whoever the addresses: source and destination projected out.
pub fn services(fam: Family, s: &HeaderSet) -> HeaderSet {
    let d = fam.domain();
    s.project_out(SRC, d.lo[SRC], d.hi[SRC])
        .project_out(DST, d.lo[DST], d.hi[DST])
}

/// `tcp 22,443; icmp type 8`, `tcp 443 from port 0-442,444-65535`, or `all traffic`.
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
        let mut t = format!("{} {}", proto_name(p), list(&dports));
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
pub fn qualified_services(
    fam: Family,
    s: &HeaderSet,
    dim: usize,
    whole: &[(u128, u128)],
) -> String {
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
        let mut text: Vec<String> = ranges
            .iter()
            .take(3)
            .map(|&(lo, hi)| addresses(fam, lo, hi))
            .collect();
        if ranges.len() > 3 {
            text.push(format!("+{} more ranges", ranges.len() - 3));
        }
        out.push(format!(
            "{} ({word} {} only)",
            services_text(fam, &set),
            text.join(",")
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

fn matrix_text(topo: &Topology, m: &Matrix) -> String {
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

fn matrix_json(topo: &Topology, m: &Matrix) -> Value {
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
