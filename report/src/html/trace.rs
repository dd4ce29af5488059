//! The page of one trace (`vpcsim trace --html`, and each flow page of `vpcsim report`): the map
//! with the path and its reply, the verdicts, and every hop in a table and a side panel.

use super::assets::{JS, LEGEND};
use super::map::{Map, PathSpec};
use super::{esc, head, verdict_parts};
use crate::text::answered_on_host;
use std::collections::BTreeSet;
use std::fmt::Write;
use vpcsim_dataplane::trace::{Action, Hop};
use vpcsim_dataplane::wire::tcp_flags;
use vpcsim_dataplane::{Disposition, Header, ResId, Topology, Verdict};

/// One traced packet: its verdict and hops.
pub struct PathView<'a> {
    /// How the packet ended.
    pub verdict: &'a Verdict,
    /// Every hop it took, as the pipeline's tracer recorded them.
    pub hops: &'a [Hop],
    /// Lines shown under the verdict: why it was dropped and the fix (see [`explanation_notes`](super::explanation_notes)).
    pub notes: Vec<String>,
}

/// What `trace --html` (and each flow page of `report`) shows.
pub struct TracePage<'a> {
    /// The flow spec as the user wrote it.
    pub flow: &'a str,
    /// The topology files, as given on the command line.
    pub sources: &'a [String],
    /// The packet as asked.
    pub forward: PathView<'a>,
    /// The reply, when it was traced.
    pub ret: Option<PathView<'a>>,
    /// `--return` was asked for (so a missing reply means the request was dropped, or answered
    /// on the host).
    pub return_asked: bool,
    /// Link back to the report's index, on report flow pages.
    pub index_href: Option<&'a str>,
}

/// `vpcsim trace --html`: the map with the path(s), the verdicts, a clickable hop list.
pub fn trace_page(topo: &Topology, p: &TracePage) -> String {
    let mut referenced: BTreeSet<ResId> = p.forward.hops.iter().map(|h| h.resource).collect();
    if let Some(r) = &p.ret {
        referenced.extend(r.hops.iter().map(|h| h.resource));
    }
    let map = Map::new(topo, &referenced);
    let mut specs = vec![PathSpec {
        key: "forward",
        hops: p.forward.hops,
        exited: p.forward.verdict.disposition == Disposition::Exited,
    }];
    if let Some(r) = &p.ret {
        specs.push(PathSpec {
            key: "return",
            hops: r.hops,
            exited: r.verdict.disposition == Disposition::Exited,
        });
    }
    let no_reply = answered_on_host(topo, p.forward.verdict)
        .unwrap_or_else(|| "none: the request was dropped".into());
    let mut s = head(&format!("vpcsim trace: {}", p.flow));
    s.push_str("<header>");
    if let Some(href) = p.index_href {
        let _ = write!(
            s,
            r#"<a class="back" href="{}">← report index</a>"#,
            esc(href)
        );
    }
    let _ = write!(
        s,
        r#"<h1>vpcsim trace <code class="flow">{}</code></h1><div class="sub">topology {}</div><div class="verdicts">"#,
        esc(p.flow),
        esc(&p.sources.join(", "))
    );
    s.push_str(&verdict_html(topo, "forward", "forward", &p.forward));
    match &p.ret {
        Some(r) => s.push_str(&verdict_html(topo, "return", "return", r)),
        None if p.return_asked => {
            let _ = write!(
                s,
                r#"<div class="verdict none" id="verdict-return"><span class="which">return</span><span class="main">{}</span></div>"#,
                esc(&no_reply)
            );
        }
        None => {}
    }
    s.push_str("</div></header>\n<main><section class=\"map\">");
    s.push_str(&map.svg(topo, &specs));
    s.push_str(LEGEND);
    s.push_str(r#"<span><i class="ln forward"></i>forward path</span>"#);
    if p.ret.is_some() {
        s.push_str(r#"<span><i class="ln return"></i>return path</span>"#);
    }
    s.push_str(r#"<span class="muted">click a numbered hop (or a row below); ← → step through</span></div></section>"#);
    // Without JavaScript the panel still shows the hop that decided.
    let initial = match p.forward.hops.len() {
        0 => r#"<p class="muted">No hops.</p>"#.to_string(),
        n => hop_detail(topo, "forward", &p.forward, n - 1),
    };
    let _ = write!(
        s,
        "<aside id=\"panel\"><div id=\"panel-body\">{initial}</div></aside></main>\n<section class=\"tables\"><h2>Forward path</h2>{}",
        hop_table(topo, "forward", &p.forward)
    );
    match &p.ret {
        Some(r) => {
            let _ = write!(s, "<h2>Return path</h2>{}", hop_table(topo, "return", r));
        }
        None if p.return_asked => {
            let _ = write!(
                s,
                r#"<h2>Return path</h2><p class="muted">{}</p>"#,
                esc(&no_reply)
            );
        }
        None => {}
    }
    s.push_str("</section>\n");
    let mut paths = vec![("forward", &p.forward)];
    if let Some(r) = &p.ret {
        paths.push(("return", r));
    }
    for (key, path) in paths {
        for i in 0..path.hops.len() {
            let _ = writeln!(
                s,
                r#"<template id="detail-{key}-{i}">{}</template>"#,
                hop_detail(topo, key, path, i)
            );
        }
    }
    let _ = write!(s, "<script>{JS}</script>\n</body></html>\n");
    s
}

fn verdict_html(topo: &Topology, key: &str, label: &str, path: &PathView) -> String {
    let (class, main, hint) = verdict_parts(topo, path.verdict);
    let hint = hint
        .map(|h| format!(r#"<span class="hint"> — {}</span>"#, esc(h)))
        .unwrap_or_default();
    let mut notes = String::new();
    for n in &path.notes {
        let _ = write!(notes, r#"<div class="note">{}</div>"#, esc(n));
    }
    format!(
        r#"<div class="verdict {class}" id="verdict-{key}"><span class="which">{label}</span><span class="main">{}</span>{hint}{notes}</div>"#,
        esc(&main)
    )
}

fn flags(f: u8) -> String {
    let names: Vec<&str> = [
        (tcp_flags::SYN, "SYN"),
        (tcp_flags::ACK, "ACK"),
        (tcp_flags::FIN, "FIN"),
        (tcp_flags::RST, "RST"),
    ]
    .iter()
    .filter(|(b, _)| f & b != 0)
    .map(|&(_, n)| n)
    .collect();
    names.join("+")
}

/// The header on one line, then TTL, TCP flags and length.
fn packet_html(h: &Header) -> String {
    let mut extra = format!("TTL {}", h.ttl);
    if h.proto == vpcsim_dataplane::wire::IpProtocol::TCP && h.tcp_flags != 0 {
        let _ = write!(extra, " · {}", flags(h.tcp_flags));
    }
    if h.len != 0 {
        let _ = write!(extra, " · {} bytes", h.len);
    }
    format!(
        r#"<code>{}</code><br><span class="muted">{}</span>"#,
        esc(&h.to_string()),
        esc(&extra)
    )
}

fn resource_html(topo: &Topology, r: ResId) -> String {
    let res = topo.resource(r);
    let mut s = format!(
        r#"<b>{}</b> <span class="muted">{}"#,
        esc(&res.logical_id),
        esc(&res.kind)
    );
    if res.aws_id != res.logical_id {
        let _ = write!(s, " · {}", esc(&res.aws_id));
    }
    s.push_str("</span>");
    if let Some(n) = &res.name {
        let _ = write!(s, r#"<br><span class="muted">Name:</span> {}"#, esc(n));
    }
    s
}

fn action_class(a: Action) -> &'static str {
    match a {
        Action::Deny | Action::Drop => "bad",
        Action::Deliver | Action::Exit => "good",
        _ => "",
    }
}

/// The detail shown in the side panel for one hop (kept in a `<template>` until clicked).
fn hop_detail(topo: &Topology, key: &str, path: &PathView, i: usize) -> String {
    let h = &path.hops[i];
    let n = path.hops.len();
    let which = if key == "return" { "return" } else { "forward" };
    let mut s = format!(
        r#"<h3><span class="dot {key} {}">{}</span> {which} hop {} of {n}</h3><dl>"#,
        action_class(h.action),
        i + 1,
        i + 1
    );
    let _ = write!(
        s,
        r#"<dt>Stage</dt><dd>{}</dd><dt>Action</dt><dd class="{}">{}</dd><dt>Resource</dt><dd>{}</dd>"#,
        esc(h.stage.as_str()),
        action_class(h.action),
        esc(h.action.as_str()),
        resource_html(topo, h.resource)
    );
    let rule = h.rule.as_ref().map_or_else(
        || r#"<span class="muted">—</span>"#.to_string(),
        |r| format!("<code>{}</code>", esc(r)),
    );
    let _ = write!(
        s,
        r#"<dt>Rule</dt><dd>{rule}</dd><dt>Detail</dt><dd>{}</dd><dt>Packet after this hop</dt><dd>{}</dd>"#,
        esc(&h.detail),
        packet_html(&h.header)
    );
    if i + 1 == n {
        let (class, main, hint) = verdict_parts(topo, path.verdict);
        let _ = write!(
            s,
            r#"<dt>Verdict</dt><dd class="v-{class}"><b>{}</b>{}</dd>"#,
            esc(&main),
            hint.map(|h| format!("<br>{}", esc(h))).unwrap_or_default()
        );
        for n in &path.notes {
            let _ = write!(s, "<dt></dt><dd>{}</dd>", esc(n));
        }
    }
    s.push_str("</dl>");
    s
}

fn hop_table(topo: &Topology, key: &str, path: &PathView) -> String {
    let mut s = String::from(
        r#"<table class="hops"><thead><tr><th>#</th><th>stage</th><th>resource</th><th>action</th><th>rule</th><th>detail</th><th>packet after the hop</th></tr></thead><tbody>"#,
    );
    let mut prev: Option<Header> = None;
    for (i, h) in path.hops.iter().enumerate() {
        // A header that differs from the previous hop's was rewritten here (NAT).
        let fields = |x: &Header| (x.src, x.src_port, x.dst, x.dst_port, x.ttl);
        let changed = prev.is_some_and(|p| fields(&p) != fields(&h.header));
        prev = Some(h.header);
        let _ = write!(
            s,
            r#"<tr class="hop-row {}" data-path="{key}" data-hop-index="{i}"><td><span class="dot {key}">{}</span></td><td>{}</td><td>{}</td><td class="{}">{}</td><td>{}</td><td>{}</td><td class="{}"><code>{}</code></td></tr>"#,
            action_class(h.action),
            i + 1,
            esc(h.stage.as_str()),
            esc(topo.name(h.resource)),
            action_class(h.action),
            esc(h.action.as_str()),
            h.rule.as_deref().map(esc).unwrap_or_default(),
            esc(&h.detail),
            if changed { "changed" } else { "" },
            esc(&h.header.to_string()),
        );
    }
    s.push_str("</tbody></table>");
    s
}
