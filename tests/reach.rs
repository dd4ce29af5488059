//! `vpcsim reach`: the symbolic walk against the packet pipeline, and the command line.
//!
//! The property test is the contract of `reach`: for random packets on every topology the
//! repository holds, the set the walk puts a header in must carry exactly the verdict the
//! pipeline gives that header (disposition, drop reason, resource), and the same for its reply
//! pushed through the state the request left.

mod common;

use common::{example, vpcsim};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use vpcsim_controlplane::{compile, load_files, LoadOptions};
use vpcsim_dataplane::pipeline::exchange::exchange;
use vpcsim_dataplane::pipeline::NodeKind;
use vpcsim_dataplane::reach::{
    self, point_of, universe, Analysis, Family, Fate, HBox, HeaderSet, Prepared, Replies, Start,
    DIMS, DPORT, DST, PROTO, SPORT, SRC,
};
use vpcsim_dataplane::topology::{EniIdx, EniKind};
use vpcsim_dataplane::wire::{tcp_flags, Header, IpProtocol};
use vpcsim_dataplane::{Disposition, NoTrace, State, Timestamp, Topology, Verdict};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Every topology in the repository: the examples and every fixture.
fn topologies() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&common::root().join("examples"), &mut out);
    walk(&common::root().join("tests/fixtures"), &mut out);
    out.sort();
    out
}

fn fate_of(v: &Verdict) -> Fate {
    match v.disposition {
        Disposition::Delivered => Fate::Delivered {
            to: v.at,
            eni: v.delivered_eni,
        },
        Disposition::Exited => Fate::Exited {
            via: v.at,
            vpn: v.egress_vpn,
        },
        Disposition::Dropped => Fate::Dropped {
            reason: v.reason.expect("a drop has a reason"),
            at: v.at,
        },
    }
}

fn show(topo: &Topology, f: &Fate) -> String {
    match f {
        Fate::Delivered { to, .. } => format!("DELIVERED to {}", topo.name(*to)),
        Fate::Exited { via, .. } => format!("EXITED via {}", topo.name(*via)),
        Fate::Dropped { reason, at } => format!("DROPPED at {}: {}", topo.name(*at), reason),
        Fate::NotAnalysed(w) => format!("not analysed: {w}"),
        Fate::OneOf(v) => v
            .iter()
            .map(|f| show(topo, f))
            .collect::<Vec<_>>()
            .join(" | "),
    }
}

/// Addresses packets are sent to (and, sometimes, from).
fn pool(topo: &Topology, fam: Family) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = Vec::new();
    for e in &topo.enis {
        match fam {
            Family::V4 => {
                v.extend(e.private_v4.iter().map(|a| IpAddr::V4(*a)));
                v.extend(e.public_v4.iter().map(|a| IpAddr::V4(a.1)));
            }
            Family::V6 => v.extend(e.ipv6.iter().map(|a| IpAddr::V6(*a))),
        }
    }
    match fam {
        Family::V4 => {
            for s in [
                "8.8.8.8",
                "198.51.100.7",
                "203.0.113.9",
                "1.1.1.1",
                "10.99.1.1",
                "172.16.5.5",
                "192.168.1.1",
                "100.64.1.1",
                "169.254.1.1",
                "169.254.169.253",
                "169.254.169.254",
                "169.254.169.123",
            ] {
                v.push(s.parse().unwrap());
            }
            for vpc in &topo.vpcs {
                v.extend(vpc.resolver_v4.map(IpAddr::V4));
                for c in &vpc.cidrs_v4 {
                    let b = c.network().to_bits();
                    v.push(IpAddr::V4(Ipv4Addr::from_bits(b + 77)));
                    v.push(IpAddr::V4(Ipv4Addr::from_bits(b | 0x1ff)));
                }
            }
            for s in &topo.subnets {
                if let Some(c) = s.cidr_v4 {
                    v.push(IpAddr::V4(Ipv4Addr::from_bits(c.network().to_bits() + 9)));
                }
            }
        }
        Family::V6 => {
            for s in [
                "2001:db8::1",
                "2600:1f18::5",
                "fd00:ec2::253",
                "fd00:ec2::254",
                "fd00:ec2::123",
                "fe80::1",
                "fd00::1",
            ] {
                v.push(s.parse().unwrap());
            }
            for vpc in &topo.vpcs {
                for c in &vpc.cidrs_v6 {
                    let b = c.network().to_bits();
                    v.push(IpAddr::V6(Ipv6Addr::from_bits(b + 0x77)));
                }
            }
        }
    }
    v
}

const PORTS: [u16; 16] = [
    0, 22, 53, 80, 123, 443, 1023, 1024, 3306, 5000, 8080, 8443, 32768, 40000, 61000, 65535,
];

fn random_header(r: &mut Rng, src: IpAddr, dst: IpAddr) -> Header {
    let v6 = src.is_ipv6();
    let port = |r: &mut Rng| {
        if r.chance(70) {
            r.pick(&PORTS)
        } else {
            r.next() as u16
        }
    };
    let proto = match r.below(20) {
        0..=7 => IpProtocol::TCP,
        8..=11 => IpProtocol::UDP,
        12..=15 if v6 => IpProtocol::ICMPV6,
        12..=15 => IpProtocol::ICMP,
        16 if v6 => IpProtocol::ICMP,
        16 => IpProtocol::ICMPV6,
        _ => IpProtocol(r.pick(&[0u8, 4, 47, 50, 132, 255])),
    };
    let mut h = Header {
        src,
        dst,
        proto,
        src_port: 0,
        dst_port: 0,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: 0,
        ttl: 64,
        len: 60,
    };
    match proto {
        IpProtocol::TCP | IpProtocol::UDP => {
            h.src_port = port(r);
            h.dst_port = port(r);
            if proto == IpProtocol::TCP {
                h.tcp_flags = tcp_flags::SYN;
            }
        }
        IpProtocol::ICMP | IpProtocol::ICMPV6 => {
            h.icmp_type = if proto == IpProtocol::ICMP {
                r.pick(&[0u8, 8, 8, 3, 11, 5, 13, 128])
            } else {
                r.pick(&[128u8, 128, 129, 1, 2, 3, 135, 8])
            };
            h.icmp_code = r.pick(&[0u8, 0, 1, 4]);
            if h.is_icmp_echo() {
                let id = 1 + r.below(1000) as u16;
                h.src_port = id;
                h.dst_port = id;
            }
        }
        _ => {}
    }
    h
}

/// A header at a random point of a box, edges favoured.
fn header_at(r: &mut Rng, fam: Family, b: &HBox) -> Header {
    let mut v = [0u128; DIMS];
    for (d, x) in v.iter_mut().enumerate() {
        let (lo, hi) = b.range(d);
        *x = match r.below(4) {
            0 => lo,
            1 => hi,
            _ => {
                let wide = ((r.next() as u128) << 64) | r.next() as u128;
                lo + wide % (hi - lo).saturating_add(1).max(1)
            }
        };
        if hi - lo == u128::MAX {
            *x = ((r.next() as u128) << 64) | r.next() as u128;
        }
    }
    let proto = IpProtocol(v[PROTO] as u8);
    let mut h = Header {
        src: fam.addr(v[SRC]),
        dst: fam.addr(v[DST]),
        proto,
        src_port: 0,
        dst_port: 0,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: if proto == IpProtocol::TCP {
            tcp_flags::SYN
        } else {
            0
        },
        ttl: 64,
        len: 60,
    };
    match proto {
        IpProtocol::TCP | IpProtocol::UDP => {
            h.src_port = v[SPORT] as u16;
            h.dst_port = v[DPORT] as u16;
        }
        IpProtocol::ICMP | IpProtocol::ICMPV6 => {
            h.icmp_type = (v[DPORT] >> 8) as u8;
            h.icmp_code = v[DPORT] as u8;
            if h.is_icmp_echo() {
                let id = 1 + r.below(60000) as u16;
                h.src_port = id;
                h.dst_port = id;
            }
        }
        _ => {}
    }
    h
}

#[derive(Default)]
struct Stats {
    topologies: usize,
    packets: usize,
    replies: usize,
    skipped: usize,
    /// Headers whose answer depends on a flow-hash choice (the pipeline's must be one of them).
    choices: usize,
    /// Compared packets whose request or reply passed a Network / Gateway Load Balancer.
    through_nlb: usize,
    through_gwlb: usize,
    /// Why headers were skipped, and how often.
    not_analysed: std::collections::BTreeMap<String, usize>,
    failures: Vec<String>,
}

/// A walk to compare: from one origin, or from every member of an interface class at once.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Query {
    One(Start),
    Class(u32),
}

fn check_topology(path: &Path, topo: &Topology, rounds: usize, stats: &mut Stats) {
    let prep = Prepared::new(topo);
    let mut cache: HashMap<(Query, Family), Analysis> = HashMap::new();
    let mut covered: std::collections::HashSet<(Query, Family)> = Default::default();
    let mut r = Rng(0x5eed ^ path.to_string_lossy().len() as u64);
    let hosts: Vec<EniIdx> = topo
        .enis
        .indices()
        .filter(|&e| topo.enis[e].kind == EniKind::Host)
        .collect();
    // Other origins: on-premises networks behind each VPN connection, and each transit gateway
    // attachment.
    let edges: Vec<Start> = topo
        .vpn_connections
        .indices()
        .map(Start::OnPrem)
        .chain(topo.tgw_attachments.indices().map(Start::TgwAttachment))
        .collect();
    let families: Vec<Family> = if topo.enis.iter().any(|e| !e.ipv6.is_empty()) {
        vec![Family::V4, Family::V6]
    } else {
        vec![Family::V4]
    };
    let pools: Vec<Vec<IpAddr>> = families.iter().map(|&f| pool(topo, f)).collect();
    let now = Timestamp::from_secs(1_700_000_000);
    stats.topologies += 1;
    for _ in 0..rounds {
        let fi = r.below(families.len());
        let fam = families[fi];
        let pool = &pools[fi];
        let mut start = if !edges.is_empty() && r.chance(15) {
            r.pick(&edges)
        } else if hosts.is_empty() || r.chance(20) {
            Start::Internet
        } else {
            Start::Eni(r.pick(&hosts))
        };
        // A quarter of the interface walks go through the walk of the interface's class.
        let query = match start {
            Start::Eni(e) if r.chance(25) => Query::Class(prep.eni_class[e]),
            s => Query::One(s),
        };
        let a = cache.entry((query, fam)).or_insert_with(|| match query {
            Query::One(start) => prep.analyse(start, fam, &universe(fam)),
            Query::Class(k) => prep.analyse_class(k, fam, &universe(fam)),
        });
        if a.requests.is_empty() {
            continue;
        }
        if covered.insert((query, fam)) {
            // Nothing is lost: the parts cover what was asked, and each arrived part's replies
            // cover it.
            let mut asked = universe(fam);
            if let Query::Class(k) = query {
                asked = HeaderSet::new();
                for &m in &prep.classes[k as usize] {
                    let src = reach::sources(topo, Start::Eni(m), fam);
                    asked.extend_disjoint(reach::with_addresses(
                        &universe(fam),
                        &src,
                        &[(0, fam.addr_max())],
                    ));
                }
            }
            let mut missing = asked;
            for p in &a.requests {
                missing = missing.subtract(&p.set);
            }
            if !missing.is_empty() {
                stats.failures.push(format!(
                    "{}: {:?} walk lost {} boxes, e.g. {:?}",
                    path.display(),
                    fam,
                    missing.len(),
                    missing.boxes()[0]
                ));
            }
            for (req, rep) in a.requests.iter().zip(&a.replies) {
                if let Replies::Parts(parts) = rep {
                    let mut missing = req.set.clone();
                    for p in parts {
                        missing = missing.subtract(&p.set);
                    }
                    if !missing.is_empty() {
                        stats.failures.push(format!(
                            "{}: {:?} reply walk lost {} boxes, e.g. {:?}",
                            path.display(),
                            fam,
                            missing.len(),
                            missing.boxes()[0]
                        ));
                    }
                }
            }
        }
        // Half the packets are drawn from the parts the walk found (every part, however small,
        // gets its share, and box edges are favoured), half from address pools.
        let h = if r.chance(50) {
            let part = &a.requests[r.below(a.requests.len())];
            let b = part.set.boxes()[r.below(part.set.len())];
            header_at(&mut r, fam, &b)
        } else {
            let src = match start {
                Start::Eni(e) => {
                    let members = match query {
                        Query::Class(k) => prep.classes[k as usize].clone(),
                        Query::One(_) => vec![e],
                    };
                    let own: Vec<IpAddr> = members
                        .iter()
                        .flat_map(|&m| {
                            let e = &topo.enis[m];
                            match fam {
                                Family::V4 => e.private_v4.iter().map(|a| IpAddr::V4(*a)).collect(),
                                Family::V6 => {
                                    e.ipv6.iter().map(|a| IpAddr::V6(*a)).collect::<Vec<_>>()
                                }
                            }
                        })
                        .collect();
                    if own.is_empty() || (query == Query::One(start) && r.chance(8)) {
                        r.pick(pool)
                    } else {
                        r.pick(&own)
                    }
                }
                _ => r.pick(pool),
            };
            let dst = r.pick(pool);
            random_header(&mut r, src, dst)
        };
        if let Query::Class(k) = query {
            // The class walk answers for each member from its own addresses.
            match topo.owner_of(h.src) {
                Some(m) if prep.eni_class[m] == k => start = Start::Eni(m),
                _ => continue,
            }
        }
        let origin = start.origin();
        let a = &cache[&(query, fam)];
        let p = point_of(&h);
        let from = match start {
            Start::Eni(e) => topo.name(topo.enis[e].res).to_string(),
            Start::Internet => "internet".into(),
            Start::OnPrem(c) => topo.name(topo.vpn_connections[c].res).to_string(),
            Start::TgwAttachment(x) => topo.name(topo.tgw_attachments[x].res).to_string(),
        };
        let repro = format!(
            "vpcsim trace -t {} '{h}' --from {from} --return{}",
            path.display(),
            if matches!(query, Query::Class(_)) {
                "   (walk of the interface's class)"
            } else {
                ""
            }
        );
        let alternatives = a.alternatives_at(&p);
        if alternatives.is_empty() {
            stats.failures.push(format!(
                "{repro}\n    no part of the walk holds this header"
            ));
            continue;
        }
        // Where the walk followed every answer of a flow-hash choice (a transit gateway zone,
        // a load balancer target or appliance), the pipeline's answer must be one of them.
        if alternatives.len() > 1 {
            stats.choices += 1;
        }
        if let Some(why) = alternatives.iter().find_map(|(f, _)| match f {
            Fate::NotAnalysed(why) => Some(why.clone()),
            _ => None,
        }) {
            stats.skipped += 1;
            *stats.not_analysed.entry(why).or_default() += 1;
            continue;
        }
        let mut state = State::default();
        let ex = exchange::<NoTrace>(topo, &mut state, h, origin, now);
        let v = ex.request;
        stats.packets += 1;
        let got = fate_of(&v);
        let matching: Vec<&Option<Fate>> = alternatives
            .iter()
            .filter(|(f, _)| *f == got)
            .map(|(_, r)| r)
            .collect();
        if matching.is_empty() {
            let want: Vec<String> = alternatives.iter().map(|(f, _)| show(topo, f)).collect();
            stats.failures.push(format!(
                "{repro}\n    pipeline: {}\n    reach:    {}",
                show(topo, &got),
                want.join(" | ")
            ));
            continue;
        }
        let passed = |k: NodeKind| {
            state
                .nodes
                .nodes()
                .iter()
                .any(|(n, s)| *n == k && s.packets > 0)
        };
        stats.through_nlb += passed(NodeKind::Nlb) as usize;
        stats.through_gwlb += passed(NodeKind::GwlbEndpoint) as usize;
        let Some((rv, _)) = ex.reply else { continue };
        let replies: Vec<&Fate> = matching.iter().filter_map(|r| r.as_ref()).collect();
        if replies.is_empty() {
            stats.failures.push(format!(
                "{repro}\n    request: {}\n    no part of the reply walk holds this header",
                show(topo, &got)
            ));
            continue;
        }
        if let Some(why) = replies.iter().find_map(|f| match f {
            Fate::NotAnalysed(why) => Some(why.clone()),
            _ => None,
        }) {
            stats.skipped += 1;
            *stats
                .not_analysed
                .entry(format!("reply: {why}"))
                .or_default() += 1;
            continue;
        }
        stats.replies += 1;
        let got = fate_of(&rv);
        if !replies.contains(&&got) {
            let want: Vec<String> = replies.iter().map(|f| show(topo, f)).collect();
            stats.failures.push(format!(
                "{repro}\n    reply, pipeline: {}\n    reply, reach:    {}",
                show(topo, &got),
                want.join(" | ")
            ));
        }
    }
}

/// Thousands of random packets per topology: the walk and the pipeline agree on every one.
#[test]
fn reach_agrees_with_the_pipeline_on_random_packets() {
    let mut stats = Stats::default();
    for path in topologies() {
        let loaded = load_files(std::slice::from_ref(&path), &LoadOptions::default());
        if loaded.has_errors() {
            continue;
        }
        let topo = compile(&loaded.model);
        check_topology(&path, &topo, 3000, &mut stats);
    }
    eprintln!(
        "reach vs pipeline: {} topologies, {} requests and {} replies compared ({} through a Network Load Balancer, {} through a Gateway Load Balancer; {} with a flow-hash choice), {} skipped (not analysed), {} disagreements",
        stats.topologies,
        stats.packets,
        stats.replies,
        stats.through_nlb,
        stats.through_gwlb,
        stats.choices,
        stats.skipped,
        stats.failures.len()
    );
    for (why, n) in &stats.not_analysed {
        eprintln!("  not analysed ({n}): {why}");
    }
    for f in stats.failures.iter().take(30) {
        eprintln!("{f}");
    }
    assert!(
        stats.failures.is_empty(),
        "{} disagreements",
        stats.failures.len()
    );
    assert!(stats.topologies >= 20, "{} topologies", stats.topologies);
    assert!(stats.packets >= 50_000, "{} packets", stats.packets);
    assert!(
        stats.through_nlb >= 200,
        "{} through an NLB",
        stats.through_nlb
    );
    assert!(
        stats.through_gwlb >= 200,
        "{} through a GWLB",
        stats.through_gwlb
    );
    assert!(
        stats.choices >= 100,
        "{} with a flow-hash choice",
        stats.choices
    );
}

/// A reply that hairpins through the internet gateway (the request came from the instance's own
/// public address) passes the firewall endpoint a second time as another 5-tuple, after the
/// gateway's 1:1 NAT: the pipeline drops the TCP reply there as a midstream packet of a flow the
/// endpoint never saw start. Whether that 5-tuple is the request's own (source port equal to
/// destination port) is no box of headers, so reach must say it does not know rather than take
/// it for the reply of the recorded flow (it used to answer DELIVERED). A UDP reply opens a flow
/// there whether or not the key is the request's, so reach answers it exactly; from any other
/// address the reply leaves through the gateway once, and reach and the pipeline agree exactly.
#[test]
fn reach_does_not_take_a_firewall_hairpin_after_nat_for_the_recorded_reply() {
    let path = common::root().join("tests/fixtures/network_firewall/lua.yaml");
    let loaded = load_files(std::slice::from_ref(&path), &LoadOptions::default());
    assert!(!loaded.has_errors());
    let topo = compile(&loaded.model);
    let prep = Prepared::new(&topo);
    let analysis = prep.analyse(Start::Internet, Family::V4, &universe(Family::V4));
    let public: IpAddr = "198.18.0.1".parse().unwrap();
    for (src, proto, flags) in [
        ("198.18.0.1", IpProtocol::TCP, tcp_flags::SYN),
        ("198.18.0.1", IpProtocol::UDP, 0),
        ("203.0.113.9", IpProtocol::TCP, tcp_flags::SYN),
        ("203.0.113.9", IpProtocol::UDP, 0),
    ] {
        let h = Header {
            src: src.parse().unwrap(),
            dst: public,
            proto,
            src_port: 80,
            dst_port: 123,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: flags,
            ttl: 64,
            len: 60,
        };
        let mut state = State::default();
        let ex = exchange::<NoTrace>(
            &topo,
            &mut state,
            h,
            Start::Internet.origin(),
            Timestamp::from_secs(1_700_000_000),
        );
        let (reply, _) = ex.reply.expect("the request arrives, so there is a reply");
        let pipeline = fate_of(&reply);
        let alternatives = analysis.alternatives_at(&point_of(&h));
        assert_eq!(alternatives.len(), 1, "{h}: {alternatives:?}");
        let (request, walked) = &alternatives[0];
        assert_eq!(*request, fate_of(&ex.request), "{h}: request");
        let walked = walked.clone().expect("a reply walk");
        if h.src == public && proto == IpProtocol::TCP {
            assert_eq!(
                reply.reason,
                Some(vpcsim_dataplane::DropReason::NetworkFirewallDropped),
                "{h}: the pipeline drops the hairpinned reply midstream"
            );
            match &walked {
                Fate::NotAnalysed(why) => {
                    assert!(why.contains("Network Firewall flow state"), "{h}: {why}")
                }
                other => panic!("{h}: reply, reach: {other:?}, pipeline: {pipeline:?}"),
            }
        } else {
            // A UDP reply opens a flow there either way: the firewall judges it alike.
            assert_eq!(walked, pipeline, "{h}: reply, reach vs pipeline");
        }
    }
}

fn run_json(args: &[&str]) -> Value {
    let out = vpcsim(args);
    assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("JSON output")
}

fn root_path(rel: &str) -> String {
    common::root().join(rel).display().to_string()
}

/// The group of a `reach --json` section with this result, e.g. ("delivered_to", "App").
fn group<'a>(v: &'a Value, section: &str, key: &str, value: &str) -> Option<&'a Value> {
    v[section]
        .as_array()?
        .iter()
        .find(|g| g[key].as_str() == Some(value))
}

fn has_flow(g: &Value, protocol: &str, field: &str, value: &str) -> bool {
    g["flows"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["protocol"].as_str() == Some(protocol) && f[field].as_str() == Some(value))
}

#[test]
fn reach_between_two_instances_lists_what_passes_and_why_the_rest_does_not() {
    let t = example().display().to_string();
    let v = run_json(&[
        "reach",
        "-t",
        &t,
        "--from",
        "WebInstance",
        "--to",
        "AppInstanceA",
        "--json",
    ]);
    assert_eq!(v["family"], "IPv4");
    let ok = group(&v, "reachable", "delivered_to", "AppInstanceA").expect("reachable group");
    assert!(has_flow(ok, "tcp", "dst_ports", "8080"), "{ok}");
    assert!(has_flow(ok, "icmp", "icmp", "type 8"), "{ok}");
    let sg = group(&v, "blocked", "reason", "SG_INGRESS_DENIED").expect("SG drops");
    assert!(has_flow(sg, "tcp", "dst_ports", "8081-65535"), "{sg}");
    let nacl = group(&v, "blocked", "reason", "NACL_INGRESS_DENIED").expect("NACL drops");
    assert_eq!(nacl["at"], "PrivateNacl");
    // The same answer as tracing one packet of each part.
    let tr = common::trace(
        &example(),
        "tcp 10.0.1.20:40000 -> 10.0.2.30:8080",
        &["--return"],
    );
    common::assert_verdict(&tr, "DELIVERED", None, "AppInstanceA");
    let tr = common::trace(&example(), "tcp 10.0.1.20:40000 -> 10.0.2.30:9000", &[]);
    common::assert_verdict(&tr, "DROPPED", Some("SG_INGRESS_DENIED"), "AppInstanceA");
}

#[test]
fn reach_from_the_internet_names_the_sources_a_rule_admits() {
    let t = example().display().to_string();
    let out = vpcsim([
        "reach",
        "-t",
        &t,
        "--from",
        "internet",
        "--to",
        "WebInstance",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("REACHABLE"), "{}", out.stdout);
    let line = |needle: &str| {
        out.stdout.lines().any(|l| {
            needle
                .split_whitespace()
                .all(|w| l.split_whitespace().any(|x| x == w))
        })
    };
    assert!(
        line("tcp internet any 443 DELIVERED to WebInstance"),
        "{}",
        out.stdout
    );
    assert!(
        line("tcp 203.0.113.0/24 any 22 DELIVERED to WebInstance"),
        "{}",
        out.stdout
    );
}

#[test]
fn reach_sees_replies_that_a_gateway_route_table_drops() {
    let t = root_path("examples/ingress-inspection.yaml");
    let v = run_json(&[
        "reach",
        "-t",
        &t,
        "--param",
        "WebReturn=direct",
        "--from",
        "internet",
        "--to",
        "Web",
        "--protocol",
        "tcp",
        "--json",
    ]);
    assert_eq!(v["reachable"], serde_json::json!([]));
    let g = group(&v, "reply_blocked", "reason", "APPLIANCE_BYPASSED").expect("bypass");
    assert!(has_flow(g, "tcp", "dst_ports", "443"), "{g}");
    let v = run_json(&[
        "reach",
        "-t",
        &t,
        "--from",
        "internet",
        "--to",
        "Web",
        "--protocol",
        "tcp",
        "--json",
    ]);
    let g = group(&v, "reachable", "delivered_to", "Web").expect("through the firewall");
    assert!(has_flow(g, "tcp", "dst_ports", "443"), "{g}");
}

#[test]
fn matrix_covers_transit_gateways_and_vpn_edges() {
    let hub = root_path("examples/hub-and-spoke.yaml");
    let m = run_json(&["reach", "-t", &hub, "--matrix", "--json"]);
    let pair = |m: &Value, f: &str, t: &str| -> String {
        m["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["from"] == f && p["to"] == t)
            .map(|p| p["services"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(pair(&m, "App", "Web"), "icmp type 8; tcp 443");
    // Without appliance mode the reply crosses the other zone's firewall, which never saw the
    // request: only what that firewall admits as a new connection still works.
    let m = run_json(&[
        "reach",
        "-t",
        &hub,
        "--matrix",
        "--json",
        "--param",
        "ApplianceMode=disable",
    ]);
    assert_eq!(pair(&m, "App", "Web"), "tcp 443 from port 443");
    let vpn = root_path("examples/vpn.yaml");
    let m = run_json(&["reach", "-t", &vpn, "--matrix", "--json"]);
    assert_eq!(pair(&m, "on-prem:DataCenterVpn", "App"), "tcp 443");
    assert_eq!(pair(&m, "on-prem:OfficeVpn", "App"), "tcp 22");
    let t = example().display().to_string();
    let m = run_json(&["reach", "-t", &t, "--matrix", "--json"]);
    assert_eq!(
        pair(&m, "internet", "WebInstance"),
        "icmp type 8; tcp 80,443; tcp 22 (from 203.0.113.0/24 only)"
    );
    assert_eq!(
        pair(&m, "WebInstance", "WebInstance"),
        "",
        "self pairs are left out"
    );
}

#[test]
fn diff_lists_opened_and_closed_flows_and_fails_on_change_for_ci() {
    let hub = root_path("examples/hub-and-spoke.yaml");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["diff", "--before", &hub, "--after", &hub]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let out = vpcsim(args(&[
        "--after-param",
        "ApplianceMode=disable",
        "--fail-on-change",
    ]));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("App → Web"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("- closed: icmp type 8; tcp 443 from port 0-442,444-65535"),
        "{}",
        out.stdout
    );
    let out = vpcsim(args(&["--after-param", "ApplianceMode=disable"]));
    assert_eq!(
        out.code, 0,
        "without --fail-on-change a change is not an error"
    );
    let out = vpcsim(args(&["--fail-on-change"]));
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.starts_with("no change"), "{}", out.stdout);
    let t = example().display().to_string();
    let v = run_json(&[
        "diff",
        "--before",
        &t,
        "--after",
        &t,
        "--after-param",
        "AdminCidr=198.51.100.0/24",
        "--json",
    ]);
    assert_eq!(v["changed"], true);
    let c = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["from"] == "internet" && c["to"] == "WebInstance")
        .expect("internet → WebInstance changes");
    assert_eq!(c["opened"]["services"], "tcp 22 (from 198.51.100.0/24)");
    assert_eq!(c["closed"]["services"], "tcp 22 (from 203.0.113.0/24)");
}

#[test]
fn reach_rejects_bad_input_with_exit_2() {
    let t = example().display().to_string();
    for (args, msg) in [
        (vec!["--from", "Nope"], "no instance or interface named"),
        (
            vec!["--from", "WebInstance", "--to", "2001:db8::/32"],
            "needs --ipv6",
        ),
        (
            vec!["--from", "WebInstance", "--protocol", "sctp"],
            "--protocol",
        ),
        (
            vec!["--from", "WebInstance", "--to", "PublicNacl"],
            "is not an instance",
        ),
    ] {
        let mut a = vec!["reach", "-t", &t];
        a.extend(args);
        let out = vpcsim(&a);
        assert_eq!(out.code, 2, "{a:?}");
        assert!(out.stderr.contains(msg), "{a:?}: {}", out.stderr);
    }
    let out = vpcsim(["reach", "-t", &t]);
    assert_eq!(out.code, 2, "--from or --matrix is required");
    let out = vpcsim(["diff", "--before", &t, "--after", "/nonexistent.yaml"]);
    assert_eq!(out.code, 2);
}
