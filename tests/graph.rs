//! The stage graph as data agrees with the pipeline as it runs: every step a packet takes from
//! one node to the next, and every end, is an edge the graph declares (what `vpcsim graph`
//! draws), on every example and fixture topology.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use vpcsim_controlplane::{compile, load_files, LoadOptions};
use vpcsim_dataplane::pipeline::exchange::exchange;
use vpcsim_dataplane::pipeline::graph::{Edge, End};
use vpcsim_dataplane::pipeline::NodeKind;
use vpcsim_dataplane::wire::{tcp_flags, Header, IpProtocol};
use vpcsim_dataplane::{Disposition, Origin, State, Timestamp, Topology, Trace, Verdict};

fn topologies() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["examples", "tests/fixtures"] {
        let mut stack = vec![common::root().join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// Destinations worth sending to: every interface and public address, and a few outside.
fn destinations(topo: &Topology) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = [
        "198.51.100.7",
        "10.99.0.1",
        "169.254.169.254",
        "2001:db8::7",
    ]
    .iter()
    .filter_map(|a| a.parse().ok())
    .collect();
    for e in &topo.enis {
        v.extend(e.private_v4.iter().map(|a| IpAddr::V4(*a)));
        v.extend(e.public_v4.iter().map(|a| IpAddr::V4(a.1)));
        v.extend(e.ipv6.iter().map(|a| IpAddr::V6(*a)));
    }
    // An address inside every route's destination (service prefix lists, on-premises and
    // peer ranges, transit gateway routes).
    let nets = topo
        .route_tables
        .iter()
        .flat_map(|rt| rt.routes.iter().map(|r| r.destination))
        .chain(
            topo.tgw_route_tables
                .iter()
                .flat_map(|rt| rt.routes.iter().map(|r| r.destination)),
        )
        .chain(
            topo.vpn_connections
                .iter()
                .flat_map(|c| c.prefixes.iter().copied()),
        );
    for n in nets {
        let a = match n.network() {
            IpAddr::V4(a) => IpAddr::V4(std::net::Ipv4Addr::from_bits(a.to_bits() | 5)),
            IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from_bits(a.to_bits() | 5)),
        };
        if !v.contains(&a) {
            v.push(a);
        }
    }
    v
}

fn header(src: IpAddr, dst: IpAddr, proto: IpProtocol, port: u16) -> Header {
    let v6 = dst.is_ipv6();
    let proto = match (proto, v6) {
        (IpProtocol::ICMP, true) => IpProtocol::ICMPV6,
        (p, _) => p,
    };
    let echo = if v6 { 128 } else { 8 };
    Header {
        src,
        dst,
        proto,
        src_port: if proto == IpProtocol::ICMP || proto == IpProtocol::ICMPV6 {
            7
        } else {
            40_000
        },
        dst_port: if proto == IpProtocol::ICMP || proto == IpProtocol::ICMPV6 {
            7
        } else {
            port
        },
        icmp_type: if proto == IpProtocol::ICMP || proto == IpProtocol::ICMPV6 {
            echo
        } else {
            0
        },
        icmp_code: 0,
        tcp_flags: if proto == IpProtocol::TCP {
            tcp_flags::SYN
        } else {
            0
        },
        ttl: 64,
        len: 60,
    }
}

fn end(v: &Verdict) -> End {
    match v.disposition {
        Disposition::Delivered => End::Deliver,
        Disposition::Exited => End::Exit,
        Disposition::Dropped => End::Drop,
    }
}

/// Check one walk's steps; returns the edges it took.
fn steps(
    path: &Path,
    what: &str,
    t: &Trace,
    v: &Verdict,
    bad: &mut Vec<String>,
) -> Vec<(NodeKind, Edge)> {
    let mut taken = Vec::new();
    for w in t.nodes.windows(2) {
        taken.push((w[0], Edge::Node(w[1])));
    }
    if let Some(&last) = t.nodes.last() {
        taken.push((last, Edge::End(end(v))));
    }
    for &(from, to) in &taken {
        if !from.edges().contains(&to) {
            bad.push(format!(
                "{}: {what}: {} → {:?} is not an edge of the graph",
                path.display(),
                from.name(),
                to
            ));
        }
    }
    taken
}

#[test]
fn every_step_the_pipeline_takes_is_an_edge_of_the_graph() {
    let mut bad = Vec::new();
    let mut seen: BTreeSet<(NodeKind, Edge)> = BTreeSet::new();
    let mut walks = 0;
    for path in topologies() {
        let loaded = load_files(std::slice::from_ref(&path), &LoadOptions::default());
        if loaded.has_errors() {
            continue;
        }
        let topo = compile(&loaded.model);
        let dsts = destinations(&topo);
        let mut origins: Vec<(Origin, Option<IpAddr>)> = vec![(Origin::Internet, None)];
        for (i, e) in topo.enis.iter_enumerated() {
            origins.extend(
                e.private_v4
                    .first()
                    .map(|a| (Origin::Eni(i), Some(IpAddr::V4(*a)))),
            );
            origins.extend(
                e.ipv6
                    .first()
                    .map(|a| (Origin::Eni(i), Some(IpAddr::V6(*a)))),
            );
        }
        origins.extend(
            topo.vpn_connections
                .indices()
                .map(|c| (Origin::OnPrem(c), None)),
        );
        origins.extend(
            topo.tgw_attachments
                .indices()
                .map(|a| (Origin::TransitGatewayAttachment(a), None)),
        );
        for &(origin, own) in &origins {
            for &dst in &dsts {
                let src = match (own, dst) {
                    (Some(a), d) if a.is_ipv6() == d.is_ipv6() => a,
                    (Some(_), _) => continue,
                    (None, IpAddr::V4(_)) => "203.0.113.9".parse().unwrap_or(dst),
                    (None, IpAddr::V6(_)) => "2001:db8:99::9".parse().unwrap_or(dst),
                };
                for (proto, port) in [
                    (IpProtocol::TCP, 443),
                    (IpProtocol::TCP, 80),
                    (IpProtocol::UDP, 53),
                    (IpProtocol::ICMP, 0),
                ] {
                    let h = header(src, dst, proto, port);
                    let mut state = State::default();
                    let ex = exchange::<Trace>(
                        &topo,
                        &mut state,
                        h,
                        origin,
                        Timestamp::from_secs(1_700_000_000),
                    );
                    walks += 1;
                    seen.extend(steps(
                        &path,
                        &format!("{h} from {origin:?}"),
                        &ex.request_trace,
                        &ex.request,
                        &mut bad,
                    ));
                    if let Some((rv, rt)) = &ex.reply {
                        seen.extend(steps(&path, &format!("reply to {h}"), rt, rv, &mut bad));
                    }
                }
            }
        }
    }
    let declared: usize = NodeKind::ALL.iter().map(|k| k.edges().len()).sum();
    eprintln!(
        "{walks} walks took {} of the graph's {declared} edges",
        seen.len()
    );
    for k in NodeKind::ALL {
        for e in k.edges() {
            if !seen.contains(&(*k, *e)) {
                eprintln!("  not taken: {} → {e:?}", k.name());
            }
        }
    }
    for b in bad.iter().take(20) {
        eprintln!("{b}");
    }
    assert!(bad.is_empty(), "{} steps outside the graph", bad.len());
    assert!(
        seen.len() * 10 >= declared * 7,
        "only {} of {declared} edges exercised",
        seen.len()
    );
}

/// The README's drawing is what `vpcsim graph --format mermaid` prints, and its "Adding a stage"
/// example is the peering node as it is in the code.
#[test]
fn the_readme_shows_the_graph_and_the_peering_node_as_they_are() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    // The first block opened by `fence` after `heading`, without its fences.
    let block = |heading: &str, fence: &str| -> String {
        let h = readme.find(heading).expect("README section");
        let start = readme[h..].find(fence).expect("code block") + h + fence.len();
        let end = readme[start..].find("```").expect("closed block") + start;
        readme[start..end].to_string()
    };
    let out = common::vpcsim(["graph", "--format", "mermaid"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        block("### The stage graph", "```mermaid\n"),
        out.stdout,
        "the README's drawing is stale: paste `vpcsim graph --format mermaid`"
    );
    let peering = std::fs::read_to_string(common::root().join("dataplane/src/pipeline/peering.rs"))
        .expect("peering node");
    assert_eq!(
        block("### Adding a stage", "```rust\n"),
        peering,
        "the README's peering node is stale"
    );
}
