//! Rendering verdicts and traces: the DESIGN.md JSON shape and the text table.

use serde_json::{json, Value};
use std::fmt::Write;
use std::net::IpAddr;
use vpcsim_dataplane::flow::Header;
use vpcsim_dataplane::trace::Hop;
use vpcsim_dataplane::{Disposition, ResId, Topology, Verdict};

pub fn packet_json(h: &Header) -> Value {
    let mut p = json!({
        "protocol": h.protocol_name().to_string(),
        "src": h.src.to_string(),
        "dst": h.dst.to_string(),
    });
    if h.has_ports() {
        p["src_port"] = json!(h.src_port);
        p["dst_port"] = json!(h.dst_port);
    }
    if h.is_icmp() {
        p["icmp_type"] = json!(h.icmp_type);
        p["icmp_code"] = json!(h.icmp_code);
        if h.is_icmp_echo() {
            p["icmp_id"] = json!(h.src_port);
        }
    }
    p
}

fn name(topo: &Topology, r: ResId) -> &str {
    topo.name(r)
}

pub fn hop_json(topo: &Topology, h: &Hop) -> Value {
    let r = topo.resource(h.resource);
    json!({
        "resource": r.logical_id,
        "id": r.aws_id,
        "type": r.kind,
        "stage": h.stage.as_str(),
        "action": h.action.as_str(),
        "rule": h.rule,
        "detail": h.detail,
        "packet": packet_json(&h.header),
    })
}

/// The trace JSON of DESIGN.md.
pub fn trace_json(topo: &Topology, v: &Verdict, hops: &[Hop]) -> Value {
    let mut out = json!({
        "disposition": v.disposition.as_str(),
        "reason": v.reason.map(|r| r.as_str()),
        "at": name(topo, v.at),
        "packet": packet_json(&v.header),
        "hops": hops.iter().map(|h| hop_json(topo, h)).collect::<Vec<_>>(),
    });
    if let Some(r) = v.reason {
        out["explanation_code"] = json!(r.ra_code());
        out["hint"] = json!(r.hint());
    }
    if let Some(d) = v.delivered_to {
        out["delivered_to"] = json!(name(topo, d));
    }
    if let Some(e) = v.egress {
        out["egress"] = json!(name(topo, e));
    }
    if let Some(n) = topo.resource(v.at).name.as_ref() {
        out["at_name"] = json!(n);
    }
    out
}

fn endpoint(a: IpAddr, port: u16, ports: bool) -> String {
    match (a, ports) {
        (IpAddr::V6(a), true) => format!("[{a}]:{port}"),
        (a, true) => format!("{a}:{port}"),
        (a, false) => a.to_string(),
    }
}

/// The final line: `DELIVERED to X` / `EXITED via X` / `DROPPED at X: REASON — hint`.
pub fn final_line(topo: &Topology, v: &Verdict) -> String {
    match v.disposition {
        Disposition::Delivered => format!(
            "DELIVERED to {}",
            name(topo, v.delivered_to.unwrap_or(v.at))
        ),
        Disposition::Exited => format!("EXITED via {}", name(topo, v.egress.unwrap_or(v.at))),
        Disposition::Dropped => {
            let reason = v.reason.map_or("DROPPED", |r| r.as_str());
            let hint = v.reason.map_or("", |r| r.hint());
            format!("DROPPED at {}: {reason} — {hint}", name(topo, v.at))
        }
    }
}

/// A readable table, one line per hop.
pub fn trace_text(topo: &Topology, v: &Verdict, hops: &[Hop]) -> String {
    let mut out = String::new();
    let rows: Vec<[String; 5]> = hops
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h2 = &h.header;
            let pkt = format!(
                "{} → {}",
                endpoint(h2.src, h2.src_port, h2.has_ports()),
                endpoint(h2.dst, h2.dst_port, h2.has_ports())
            );
            let mut detail = h.detail.clone();
            if let Some(rule) = &h.rule {
                detail = format!("[{rule}] {detail}");
            }
            [
                format!("{}", i + 1),
                h.stage.as_str().to_string(),
                name(topo, h.resource).to_string(),
                h.action.as_str().to_string(),
                format!("{detail}  ({pkt})"),
            ]
        })
        .collect();
    let headers = ["#", "STAGE", "RESOURCE", "ACTION", "DETAIL"];
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()).take(4) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5], out: &mut String| {
        let _ = writeln!(
            out,
            "{:>w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
    };
    line(headers, &mut out);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]], &mut out);
    }
    out.push_str(&final_line(topo, v));
    out.push('\n');
    out
}
