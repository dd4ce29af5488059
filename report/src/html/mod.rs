//! Self-contained HTML pages: `vpcsim trace --html FILE` and `vpcsim report`.
//!
//! Everything is inline (CSS, SVG, a few lines of JS) so a page fetches nothing: it opens from a
//! file, a CI artifact or an offline laptop. Every string that comes from the topology (logical
//! ids, Name tags, rule texts) goes through [`esc`], so a template cannot inject markup. The
//! output depends only on the input: the same topology and flow give the same bytes.

mod map;

use map::{Map, PathSpec};

use std::collections::BTreeSet;
use std::fmt::Write;
use vpcsim_controlplane::Model;
use vpcsim_dataplane::flow::{TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use vpcsim_dataplane::topology::EniKind;
use vpcsim_dataplane::trace::{Action, Hop};
use vpcsim_dataplane::{Disposition, Header, ResId, Topology, Verdict};

/// Escape text for HTML content and quoted attribute values (also inside inline SVG).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// One traced packet: its verdict and hops.
pub struct PathView<'a> {
    /// How the packet ended.
    pub verdict: &'a Verdict,
    /// Every hop it took, as the pipeline's tracer recorded them.
    pub hops: &'a [Hop],
    /// Lines shown under the verdict: why it was dropped and the fix (see [`explanation_notes`]).
    pub notes: Vec<String>,
}

/// The topology files as given on the command line, for page headers.
pub fn sources(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

/// `why: …` and `fix: …` lines of a drop's explanation, as `vpcsim trace` prints them.
pub fn explanation_notes(e: Option<&crate::explain::Explanation>, model: &Model) -> Vec<String> {
    let Some(e) = e else { return vec![] };
    let mut out = vec![format!("why: {} ({})", e.message, e.code)];
    match (&e.fix, e.no_fix) {
        (Some(f), _) => out.push(format!("fix: {}", f.describe(model))),
        (None, Some(why)) => out.push(format!("fix: none — {why}")),
        (None, None) => {}
    }
    out
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
    /// `--return` was asked for (so a missing reply means the request was dropped).
    pub return_asked: bool,
    /// Link back to the report's index, on report flow pages.
    pub index_href: Option<&'a str>,
}

/// The verdict as a class, the main line and the hint (drops only); main + " — " + hint is the
/// final line of the text output.
fn verdict_parts(topo: &Topology, v: &Verdict) -> (&'static str, String, Option<&'static str>) {
    match v.disposition {
        Disposition::Delivered => (
            "delivered",
            format!("DELIVERED to {}", topo.name(v.delivered_to.unwrap_or(v.at))),
            None,
        ),
        Disposition::Exited => (
            "exited",
            format!("EXITED via {}", topo.name(v.egress.unwrap_or(v.at))),
            None,
        ),
        Disposition::Dropped => (
            "dropped",
            format!(
                "DROPPED at {}: {}",
                topo.name(v.at),
                v.reason.map_or("DROPPED", |r| r.as_str())
            ),
            v.reason.map(|r| r.hint()),
        ),
    }
}

/// `DELIVERED to X`, `EXITED via X` or `DROPPED at X: REASON` (no hint): for summaries.
pub fn verdict_short(topo: &Topology, v: &Verdict) -> String {
    verdict_parts(topo, v).1
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
        (TCP_SYN, "SYN"),
        (TCP_ACK, "ACK"),
        (TCP_FIN, "FIN"),
        (TCP_RST, "RST"),
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
    if h.proto == vpcsim_dataplane::flow::PROTO_TCP && h.tcp_flags != 0 {
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

fn head(title: &str) -> String {
    format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<meta name=\"generator\" content=\"vpcsim\">",
            "<title>{}</title><style>{}</style></head>\n<body>\n"
        ),
        esc(title),
        CSS
    )
}

const LEGEND: &str = concat!(
    r#"<div class="legend"><span><i class="sw public"></i>public subnet</span>"#,
    r#"<span><i class="sw private"></i>private subnet</span>"#,
    r#"<span><i class="sw host"></i>instance / interface</span>"#,
    r#"<span><i class="sw nat"></i>NAT gateway</span>"#,
    r#"<span><i class="sw gateway"></i>gateway / peering</span>"#,
    r#"<span><i class="sw other"></i>other</span>"#,
);

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
        None if p.return_asked => s.push_str(
            r#"<div class="verdict none" id="verdict-return"><span class="which">return</span><span class="main">none: the request was dropped</span></div>"#,
        ),
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
            s.push_str(r#"<h2>Return path</h2><p class="muted">none: the request was dropped</p>"#)
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

/// One representative flow of the report's reachability summary.
pub struct Probe {
    /// `tcp 8080`, `icmp echo`.
    pub label: String,
    /// The flow spec, for `vpcsim trace`.
    pub spec: String,
    /// The request and its reply both got through.
    pub ok: bool,
    /// `DELIVERED to X`, `DROPPED at X: REASON`, `reply DROPPED at …`.
    pub outcome: String,
}

/// A source/destination pair of the reachability summary.
pub struct ReachRow {
    /// The source instance or interface, or `internet`.
    pub from: String,
    /// The destination instance or interface, or `internet`.
    pub to: String,
    /// The flows traced between them.
    pub probes: Vec<Probe>,
}

/// A `--flow` of `vpcsim report`, rendered as its own page.
pub struct FlowLink {
    /// The flow page, relative to the index.
    pub href: String,
    /// The flow spec as the user wrote it.
    pub flow: String,
    /// `(css class, text)` of the request's and the reply's verdicts.
    pub verdicts: Vec<(&'static str, String)>,
}

/// What `vpcsim report` puts on its index page besides the topology itself.
pub struct ReportPage<'a> {
    /// The topology files, as given on the command line.
    pub sources: &'a [String],
    /// The `--flow` pages.
    pub flows: &'a [FlowLink],
    /// The reachability summary, one row per pair.
    pub reach: &'a [ReachRow],
    /// Sentences shown under the reachability table (limits applied, what a probe is).
    pub notes: &'a [String],
}

/// The class of a verdict (`delivered`, `exited`, `dropped`) for report links.
pub fn verdict_class(v: &Verdict) -> &'static str {
    match v.disposition {
        Disposition::Delivered => "delivered",
        Disposition::Exited => "exited",
        Disposition::Dropped => "dropped",
    }
}

/// Rank of a resource kind in the resource table: VPCs first, rules last, unknown kinds after.
fn kind_rank(kind: &str) -> u8 {
    match kind {
        "AWS::EC2::VPC" => 0,
        "AWS::EC2::Subnet" => 1,
        "AWS::EC2::Instance" => 2,
        "AWS::EC2::NetworkInterface" => 3,
        "AWS::EC2::NatGateway" => 4,
        "AWS::EC2::InternetGateway" => 5,
        "AWS::EC2::EgressOnlyInternetGateway" => 6,
        "AWS::EC2::VPCPeeringConnection" => 7,
        "AWS::EC2::RouteTable" => 8,
        "AWS::EC2::NetworkAcl" => 9,
        "AWS::EC2::SecurityGroup" => 10,
        _ => 11,
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return r#"<span class="muted">none</span>"#.into();
    }
    let mut s = String::from("<ul>");
    for i in items {
        let _ = write!(s, "<li><code>{}</code></li>", esc(i));
    }
    s.push_str("</ul>");
    s
}

/// The details column of the resource table: CIDRs, addresses, routes, rules.
fn resource_details(topo: &Topology, r: ResId) -> Option<String> {
    let name = |r: ResId| esc(topo.name(r));
    if let Some(v) = topo.vpcs.iter().find(|v| v.res == r) {
        let cidrs: Vec<String> = v
            .cidrs_v4
            .iter()
            .map(|c| c.to_string())
            .chain(v.cidrs_v6.iter().map(|c| c.to_string()))
            .collect();
        return Some(format!("CIDRs <code>{}</code>", esc(&cidrs.join(", "))));
    }
    if let Some(s) = topo.subnets.iter().find(|s| s.res == r) {
        let cidrs: Vec<String> = s
            .cidr_v4
            .iter()
            .map(|c| c.to_string())
            .chain(s.cidr_v6.iter().map(|c| c.to_string()))
            .collect();
        return Some(format!(
            "<code>{}</code> in {} ({}); route table {}, network ACL {}",
            esc(&cidrs.join(", ")),
            name(topo.vpcs[s.vpc as usize].res),
            esc(&s.availability_zone),
            topo.route_tables
                .get(s.route_table as usize)
                .map_or("?".into(), |t| name(t.res)),
            topo.network_acls
                .get(s.network_acl as usize)
                .map_or("?".into(), |a| name(a.res)),
        ));
    }
    if let Some(e) = topo
        .enis
        .iter()
        .find(|e| e.owner == r && !matches!(e.kind, EniKind::NatGateway(_)))
    {
        let subnet = topo.subnets.get(e.subnet as usize).map(|s| s.res);
        let mut addrs: Vec<String> = e
            .private_v4
            .iter()
            .map(|a| a.to_string())
            .chain(e.ipv6.iter().map(|a| a.to_string()))
            .collect();
        addrs.extend(e.public_v4.iter().map(|(_, p)| format!("{p} (public)")));
        let groups: Vec<String> = e
            .security_groups
            .iter()
            .filter_map(|g| topo.security_groups.get(*g as usize))
            .map(|g| name(g.res))
            .collect();
        return Some(format!(
            "<code>{}</code> in {}; security groups {}{}",
            esc(&addrs.join(", ")),
            subnet.map(name).unwrap_or_default(),
            groups.join(", "),
            if e.source_dest_check {
                ""
            } else {
                "; source/destination check off"
            }
        ));
    }
    if let Some(g) = topo.nat_gateways.iter().find(|g| g.res == r) {
        let mut addrs: Vec<String> = g.addresses.iter().map(|a| a.to_string()).collect();
        if let Some(e) = topo.enis.get(g.eni as usize) {
            addrs.extend(e.public_v4.iter().map(|(_, p)| format!("{p} (Elastic IP)")));
        }
        return Some(format!(
            "{} NAT gateway in {}: <code>{}</code>",
            if g.public { "public" } else { "private" },
            name(topo.subnets[g.subnet as usize].res),
            esc(&addrs.join(", "))
        ));
    }
    if let Some(g) = topo.internet_gateways.iter().find(|g| g.res == r) {
        return Some(match g.vpc {
            Some(v) => format!("attached to {}", name(topo.vpcs[v as usize].res)),
            None => "not attached".into(),
        });
    }
    if let Some(g) = topo.egress_only_igws.iter().find(|g| g.res == r) {
        return Some(format!(
            "attached to {}",
            name(topo.vpcs[g.vpc as usize].res)
        ));
    }
    if let Some(p) = topo.peerings.iter().find(|p| p.res == r) {
        return Some(format!(
            "{} ↔ {}",
            name(topo.vpcs[p.requester as usize].res),
            name(topo.vpcs[p.accepter as usize].res)
        ));
    }
    if let Some(t) = topo.route_tables.iter().find(|t| t.res == r) {
        let routes: Vec<String> = t
            .routes
            .iter()
            .map(|rt| vpcsim_dataplane::pipeline::describe_route(topo, rt))
            .collect();
        return Some(list(&routes));
    }
    if let Some(a) = topo.network_acls.iter().find(|a| a.res == r) {
        let rules = |v: &[vpcsim_dataplane::nacl::NaclEntry]| -> Vec<String> {
            v.iter().map(|e| e.describe()).collect()
        };
        return Some(format!(
            "inbound {}outbound {}",
            list(&rules(&a.ingress)),
            list(&rules(&a.egress))
        ));
    }
    if let Some(g) = topo.security_groups.iter().find(|g| g.res == r) {
        let texts = |v: &[vpcsim_dataplane::sg::SgRule]| -> Vec<String> {
            v.iter().map(|r| r.text.clone()).collect()
        };
        return Some(format!(
            "inbound {}outbound {}",
            list(&texts(&g.ingress)),
            list(&texts(&g.egress))
        ));
    }
    None
}

fn resource_table(topo: &Topology) -> String {
    let mut rows: Vec<(u8, usize)> = topo
        .resources
        .iter()
        .enumerate()
        .skip(4) // the internet and the built-in link-local services
        .filter(|(i, res)| {
            let r = ResId(*i as u32);
            // Routes and ACL entries are listed inside their table; an instance's primary
            // interface and a NAT gateway's interface inside their owner.
            !res.kind.ends_with("::Route")
                && !res.kind.ends_with("NetworkAclEntry")
                && !topo.enis.iter().any(|e| e.res == r && e.owner != r)
        })
        .map(|(i, res)| (kind_rank(&res.kind), i))
        .collect();
    rows.sort();
    let mut s = String::from(
        r#"<table class="resources"><thead><tr><th>resource</th><th>type</th><th>AWS id</th><th>Name</th><th>details</th></tr></thead><tbody>"#,
    );
    for (_, i) in rows {
        let r = ResId(i as u32);
        let res = topo.resource(r);
        let _ = write!(
            s,
            "<tr><td><b>{}</b></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&res.logical_id),
            esc(&res.kind),
            esc(&res.aws_id),
            res.name.as_deref().map(esc).unwrap_or_default(),
            resource_details(topo, r).unwrap_or_default()
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// `vpcsim report`'s index: the map, the resources, the reachability summary, the flow pages.
pub fn report_index(topo: &Topology, p: &ReportPage) -> String {
    let map = Map::new(topo, &BTreeSet::new());
    let mut s = head("vpcsim report");
    let hosts = topo
        .enis
        .iter()
        .filter(|e| !matches!(e.kind, EniKind::NatGateway(_)))
        .count();
    let _ = write!(
        s,
        r#"<header><h1>vpcsim report</h1><div class="sub">topology {} · {} VPCs · {} subnets · {} interfaces · {} NAT gateways</div></header>"#,
        esc(&p.sources.join(", ")),
        topo.vpcs.len(),
        topo.subnets.len(),
        hosts,
        topo.nat_gateways.len()
    );
    s.push_str("\n<main class=\"report\"><section class=\"map\">");
    s.push_str(&map.svg(topo, &[]));
    s.push_str(LEGEND);
    s.push_str(r#"<span class="muted">hover a box for its details</span></div></section></main>"#);
    s.push_str("\n<section class=\"tables\">");
    if !p.flows.is_empty() {
        s.push_str(r#"<h2>Flows</h2><ul class="flows">"#);
        for f in p.flows {
            let _ = write!(
                s,
                r#"<li><a href="{}"><code>{}</code></a>"#,
                esc(&f.href),
                esc(&f.flow)
            );
            for (class, text) in &f.verdicts {
                let _ = write!(s, r#" <span class="pill {class}">{}</span>"#, esc(text));
            }
            s.push_str("</li>");
        }
        s.push_str("</ul>");
    }
    s.push_str(r#"<h2>Reachability</h2><table class="reach"><thead><tr><th>from</th><th>to</th><th>representative flows (request and reply)</th></tr></thead><tbody>"#);
    for row in p.reach {
        let _ = write!(
            s,
            "<tr><td><b>{}</b></td><td><b>{}</b></td><td>",
            esc(&row.from),
            esc(&row.to)
        );
        for pr in &row.probes {
            let _ = write!(
                s,
                r#"<span class="probe {}" title="{}">{} {}</span> "#,
                if pr.ok { "ok" } else { "bad" },
                esc(&format!(
                    "vpcsim trace '{}' --return: {}",
                    pr.spec, pr.outcome
                )),
                esc(&pr.label),
                if pr.ok {
                    "✓".to_string()
                } else {
                    format!("✗ <small>{}</small>", esc(&pr.outcome))
                }
            );
        }
        s.push_str("</td></tr>");
    }
    s.push_str("</tbody></table>");
    for n in p.notes {
        let _ = write!(s, r#"<p class="muted">{}</p>"#, esc(n));
    }
    s.push_str("<h2>Resources</h2>");
    s.push_str(&resource_table(topo));
    s.push_str("</section>\n</body></html>\n");
    s
}

const CSS: &str = r#"
:root{--fwd:#1f6feb;--ret:#d9480f;--bad:#c92a2a;--ok:#2b8a3e;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;background:#f6f8fa}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
header{padding:12px 20px 12px;background:#fff;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0 0 2px}
h1 code.flow{font-size:16px;background:#eef1f4;padding:2px 8px;border-radius:4px;margin-left:6px}
h2{font-size:16px;margin:22px 0 8px}
.sub,.muted{color:var(--muted)}
.sub{font-size:13px}
a.back{font-size:13px;display:inline-block;margin-bottom:4px}
.verdicts{display:flex;flex-wrap:wrap;gap:8px 16px;margin-top:8px}
.verdict{font-size:19px;font-weight:700;padding:6px 14px;border-radius:6px;border-left:6px solid}
.verdict .which{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.06em;margin-right:10px;opacity:.8}
.verdict .hint{font-weight:400;font-size:14px}
.verdict.delivered{background:#e6f4ea;border-color:var(--ok);color:#14532d}
.verdict.exited{background:#e7f0fd;border-color:var(--fwd);color:#0b3d91}
.verdict.dropped{background:#fdecec;border-color:var(--bad);color:#7f1d1d}
.verdict .note{font-size:13px;font-weight:400;margin-top:2px}
.verdict.none{background:#f1f3f5;border-color:#adb5bd;color:#495057;font-size:15px}
main{display:flex;gap:16px;padding:14px 20px 0;align-items:flex-start}
.map{flex:1;min-width:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px}
.map svg{display:block;max-width:100%;height:auto}
aside{width:380px;flex:none;position:sticky;top:10px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:4px 14px 12px;overflow-wrap:anywhere}
aside h3{font-size:15px;margin:10px 0 8px;display:flex;align-items:center;gap:8px}
dl{margin:0;display:grid;grid-template-columns:88px 1fr;gap:6px 10px;font-size:13px}
dt{color:var(--muted)}
dd{margin:0}
dd.bad,td.bad{color:var(--bad);font-weight:600}
dd.good,td.good{color:var(--ok);font-weight:600}
dd.v-dropped{color:var(--bad)}
dd.v-delivered,dd.v-exited{color:var(--ok)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:#424a53;padding:6px 4px 2px}
.legend i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px;border:1px solid #8c959f}
.legend i.ln{height:0;border:0;border-top:3px solid var(--fwd);width:22px;vertical-align:3px}
.legend i.ln.return{border-top:3px dashed var(--ret)}
.sw.public{background:#e3f4e1}.sw.private{background:#e4eefb}.sw.host{background:#fff}
.sw.nat{background:#fff1dc}.sw.gateway{background:#f3e8fd}.sw.other{background:#f1f3f5}
.tables{padding:0 20px 28px}
table{border-collapse:collapse;background:#fff;border:1px solid var(--line);font-size:13px;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td ul{margin:0;padding-left:16px}
tr.hop-row{cursor:pointer}
tr.hop-row:hover{background:#f6f8fa}
tr.hop-row.selected{background:#fff8c5}
td.changed code{background:#fff1dc}
.dot{display:inline-flex;align-items:center;justify-content:center;min-width:20px;height:20px;border-radius:10px;color:#fff;font-size:11px;font-weight:700;background:var(--fwd)}
.dot.return{background:var(--ret)}
tr.bad .dot,.dot.bad{background:var(--bad)}
.probe{display:inline-block;margin:1px 6px 1px 0;padding:1px 8px;border-radius:10px;font-size:12px;white-space:nowrap}
.probe.ok{background:#e6f4ea;color:#14532d}
.probe.bad{background:#fdecec;color:#7f1d1d}
.pill{font-size:12px;padding:1px 8px;border-radius:10px}
.pill.delivered,.pill.exited{background:#e6f4ea;color:#14532d}.pill.dropped{background:#fdecec;color:#7f1d1d}
ul.flows li{margin:4px 0}
#map text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;pointer-events:none}
#map .t-title{font-size:12.5px;font-weight:700;fill:#1f2328}
#map .t-line{font-size:11px;fill:#424a53}
#map .t-az{font-size:11px;font-weight:600;fill:#57606a;letter-spacing:.04em}
#map .internet rect{fill:#eef1f4;stroke:#8c959f;stroke-dasharray:5 4}
#map .vpc>rect{fill:#fbfcfe;stroke:#5b7db1;stroke-width:1.6}
#map .az>rect{fill:none;stroke:#b6c2d1;stroke-dasharray:4 4}
#map .subnet.public>rect{fill:#e3f4e1;stroke:#6aa864}
#map .subnet.private>rect{fill:#e4eefb;stroke:#6b8fc7}
#map .host>rect{fill:#fff;stroke:#8c959f}
#map .nat>rect{fill:#fff1dc;stroke:#d08c2c}
#map .gateway>rect,#map .peering>rect{fill:#f3e8fd;stroke:#8a5cc7}
#map .other>rect{fill:#f1f3f5;stroke:#8c959f;stroke-dasharray:3 3}
#map .res.selected>rect{stroke:#f0b400;stroke-width:3}
#map .link{stroke:#8c959f;stroke-width:1.4;stroke-dasharray:3 3}
#map .hop-seg{fill:none;stroke-width:2.6;opacity:.9;cursor:pointer}
#map .hop-seg.forward,#map .exit-seg.forward{stroke:var(--fwd)}
#map .hop-seg.return,#map .exit-seg.return{stroke:var(--ret);stroke-dasharray:7 4}
#map .exit-seg{fill:none;stroke-width:2;opacity:.7}
#map .hop-seg.selected{stroke-width:5;opacity:1}
#map .arrowhead.forward{fill:var(--fwd)}
#map .arrowhead.return{fill:var(--ret)}
#map .hop-badge{cursor:pointer}
#map .hop-badge circle{stroke:#fff;stroke-width:1.5}
#map .hop-badge.forward circle{fill:var(--fwd)}
#map .hop-badge.return circle{fill:var(--ret)}
#map .hop-badge.bad circle{fill:var(--bad)}
#map .hop-badge text{font-size:11px;font-weight:700;fill:#fff;text-anchor:middle}
#map .hop-badge.selected circle{stroke:#1f2328;stroke-width:3}
#map .hop-badge:focus{outline:none}
#map .hop-badge:focus circle{stroke:#1f2328;stroke-width:2}
@media (max-width:1000px){main{flex-direction:column}aside{width:100%;position:static}}
"#;

/// Clicking a hop (badge, line or table row) shows its detail from the matching `<template>`;
/// `#forward-3` in the URL opens that hop; arrow keys step along the selected path.
const JS: &str = r#"
(function () {
  var body = document.getElementById('panel-body');
  var cur = null;
  function count(path) {
    return document.querySelectorAll('template[id^="detail-' + path + '-"]').length;
  }
  function select(path, idx) {
    var t = document.getElementById('detail-' + path + '-' + idx);
    if (!t) return;
    document.querySelectorAll('.selected').forEach(function (e) { e.classList.remove('selected'); });
    document.querySelectorAll('[data-path="' + path + '"][data-hop-index="' + idx + '"]').forEach(function (e) {
      e.classList.add('selected');
      var n = e.getAttribute('data-node');
      var box = n && document.getElementById(n);
      if (box) box.classList.add('selected');
    });
    body.replaceChildren(t.content.cloneNode(true));
    cur = { path: path, idx: Number(idx) };
  }
  document.querySelectorAll('[data-hop-index]').forEach(function (e) {
    e.addEventListener('click', function () {
      select(e.getAttribute('data-path'), e.getAttribute('data-hop-index'));
    });
    e.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') {
        select(e.getAttribute('data-path'), e.getAttribute('data-hop-index'));
        ev.preventDefault();
      }
    });
  });
  document.addEventListener('keydown', function (ev) {
    if (!cur) return;
    var step = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
    var next = cur.idx + step;
    if (step && next >= 0 && next < count(cur.path)) {
      select(cur.path, next);
      ev.preventDefault();
    }
  });
  var m = /^#(forward|return)-(\d+)$/.exec(location.hash);
  if (m) select(m[1], m[2]);
  else if (count('forward')) select('forward', count('forward') - 1);
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }
}
