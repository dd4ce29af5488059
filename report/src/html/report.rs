//! The index page of `vpcsim report`: the map, the flow pages, the reachability summary and a
//! table of every resource.

use super::assets::LEGEND;
use super::map::Map;
use super::{both_families, esc, head};
use std::collections::BTreeSet;
use std::fmt::Write;
use vpcsim_dataplane::topology::EniKind;
use vpcsim_dataplane::{ResId, Topology};

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
        let cidrs = both_families(&v.cidrs_v4, &v.cidrs_v6);
        return Some(format!("CIDRs <code>{}</code>", esc(&cidrs.join(", "))));
    }
    if let Some(s) = topo.subnets.iter().find(|s| s.res == r) {
        let cidrs = both_families(s.cidr_v4, s.cidr_v6);
        return Some(format!(
            "<code>{}</code> in {} ({}); route table {}, network ACL {}",
            esc(&cidrs.join(", ")),
            name(topo.vpcs[s.vpc].res),
            esc(&s.availability_zone),
            topo.route_tables
                .get(s.route_table)
                .map_or("?".into(), |t| name(t.res)),
            topo.network_acls
                .get(s.network_acl)
                .map_or("?".into(), |a| name(a.res)),
        ));
    }
    if let Some(e) = topo
        .enis
        .iter()
        .find(|e| e.owner == r && !matches!(e.kind, EniKind::NatGateway(_)))
    {
        let subnet = topo.subnets.get(e.subnet).map(|s| s.res);
        let mut addrs = both_families(&e.private_v4, &e.ipv6);
        addrs.extend(e.public_v4.iter().map(|(_, p)| format!("{p} (public)")));
        let groups: Vec<String> = e
            .security_groups
            .iter()
            .filter_map(|g| topo.security_groups.get(*g))
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
        if let Some(e) = topo.enis.get(g.eni) {
            addrs.extend(e.public_v4.iter().map(|(_, p)| format!("{p} (Elastic IP)")));
        }
        return Some(format!(
            "{} NAT gateway in {}: <code>{}</code>",
            if g.public { "public" } else { "private" },
            name(topo.subnets[g.subnet].res),
            esc(&addrs.join(", "))
        ));
    }
    if let Some(g) = topo.internet_gateways.iter().find(|g| g.res == r) {
        return Some(match g.vpc {
            Some(v) => format!("attached to {}", name(topo.vpcs[v].res)),
            None => "not attached".into(),
        });
    }
    if let Some(g) = topo.egress_only_igws.iter().find(|g| g.res == r) {
        return Some(format!("attached to {}", name(topo.vpcs[g.vpc].res)));
    }
    if let Some(p) = topo.peerings.iter().find(|p| p.res == r) {
        return Some(format!(
            "{} ↔ {}",
            name(topo.vpcs[p.requester].res),
            name(topo.vpcs[p.accepter].res)
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
        let rules = |v: &[vpcsim_dataplane::tables::nacl::NaclEntry]| -> Vec<String> {
            v.iter().map(|e| e.describe()).collect()
        };
        return Some(format!(
            "inbound {}outbound {}",
            list(&rules(&a.ingress)),
            list(&rules(&a.egress))
        ));
    }
    if let Some(g) = topo.security_groups.iter().find(|g| g.res == r) {
        let texts = |v: &[vpcsim_dataplane::tables::sg::SgRule]| -> Vec<String> {
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
    let mut rows: Vec<(u8, ResId)> = topo
        .resources
        .iter_enumerated()
        .skip(4) // the internet and the built-in link-local services
        .filter(|&(r, res)| {
            // Routes and ACL entries are listed inside their table; an instance's primary
            // interface and a NAT gateway's interface inside their owner.
            !res.kind.ends_with("::Route")
                && !res.kind.ends_with("NetworkAclEntry")
                && !topo.enis.iter().any(|e| e.res == r && e.owner != r)
        })
        .map(|(r, res)| (kind_rank(&res.kind), r))
        .collect();
    rows.sort();
    let mut s = String::from(
        r#"<table class="resources"><thead><tr><th>resource</th><th>type</th><th>AWS id</th><th>Name</th><th>details</th></tr></thead><tbody>"#,
    );
    for (_, r) in rows {
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
