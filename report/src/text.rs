//! Traces as text: one table row per hop and the final line, as `vpcsim trace` prints them.

use std::fmt::Write;
use std::net::IpAddr;
use vpcsim_dataplane::trace::Hop;
use vpcsim_dataplane::{Disposition, Topology, Verdict};

fn endpoint(a: IpAddr, port: u16, ports: bool) -> String {
    match (a, ports) {
        (IpAddr::V6(a), true) => format!("[{a}]:{port}"),
        (a, true) => format!("{a}:{port}"),
        (a, false) => a.to_string(),
    }
}

/// The final line: `DELIVERED to X` / `EXITED via X` / `DROPPED at X: REASON — hint`.
pub fn final_line(topo: &Topology, v: &Verdict) -> String {
    let line = verdict_short(topo, v);
    match v.disposition {
        Disposition::Dropped => format!("{line} — {}", v.reason.map_or("", |r| r.hint())),
        _ => line,
    }
}

/// `DELIVERED to X`, `EXITED via X` or `DROPPED at X: REASON`: the final line without the hint,
/// for summaries.
pub fn verdict_short(topo: &Topology, v: &Verdict) -> String {
    match v.disposition {
        Disposition::Delivered => {
            format!("DELIVERED to {}", topo.name(v.delivered_to.unwrap_or(v.at)))
        }
        Disposition::Exited => format!("EXITED via {}", topo.name(v.egress.unwrap_or(v.at))),
        Disposition::Dropped => format!(
            "DROPPED at {}: {}",
            topo.name(v.at),
            v.reason.map_or("DROPPED", |r| r.as_str())
        ),
    }
}

/// What happened to the reply of a request that was answered where it arrived: a link-local
/// service (the Amazon DNS resolver, instance metadata, time sync) answers on the host, and nothing
/// filters that reply. `None` for any other request, which has a reply to trace unless it was
/// dropped.
pub fn answered_on_host(topo: &Topology, request: &Verdict) -> Option<String> {
    (request.disposition != Disposition::Dropped && request.reply_origin().is_none()).then(|| {
        format!(
            "answered on the host by {}; not filtered",
            topo.name(request.delivered_to.unwrap_or(request.at))
        )
    })
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
                topo.name(h.resource).to_string(),
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
