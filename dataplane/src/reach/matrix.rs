//! The reachability matrix: every endpoint pair at once.

use super::{
    public_ranges, ranges_minus, universe, with_addresses, Family, Fate, HeaderSet, Prepared,
    Start, SRC,
};
use crate::topology::{EniIdx, Topology, VpnConnIdx};
use std::collections::{BTreeMap, HashMap};

/// A row or column of the reachability matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// An instance's interface or a standalone interface (never a NAT gateway's), or an
    /// Application Load Balancer node (a destination only).
    Eni(EniIdx),
    /// Public addresses outside the topology, through internet gateways.
    Internet,
    /// The on-premises network behind a VPN connection.
    OnPrem(VpnConnIdx),
}

/// Every endpoint pair at once: for each pair, the requests from the first that arrive at the
/// second and whose replies get back.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// The address family of every cell.
    pub family: Family,
    /// The rows and columns: host interfaces in topology order, then the internet, then each VPN
    /// connection's on-premises network.
    pub endpoints: Vec<Endpoint>,
    /// (from, to, requests) with indices into `endpoints`; pairs with nothing are left out.
    pub cells: Vec<(usize, usize, HeaderSet)>,
    /// Requests from each endpoint that the analysis cannot decide (state or flow hash).
    pub not_analysed: Vec<HeaderSet>,
}

/// The source addresses a walk from `start` ranges over: an interface's own addresses (what
/// its instance can send without tripping its source/destination check), the public internet,
/// the on-premises prefixes behind a VPN connection; anything from a transit gateway attachment.
pub fn sources(topo: &Topology, start: Start, fam: Family) -> Vec<(u128, u128)> {
    match start {
        Start::Eni(e) => {
            let e = &topo.enis[e];
            let mut v: Vec<(u128, u128)> = match fam {
                Family::V4 => e
                    .private_v4
                    .iter()
                    .map(|a| (a.to_bits() as u128, a.to_bits() as u128))
                    .collect(),
                Family::V6 => e.ipv6.iter().map(|a| (a.to_bits(), a.to_bits())).collect(),
            };
            v.sort_unstable();
            v.dedup();
            v
        }
        // Addresses the topology owns would start inside it, not on the internet.
        Start::Internet => {
            let mut owned: Vec<(u128, u128)> = match fam {
                Family::V4 => topo
                    .public_v4
                    .keys()
                    .map(|&a| (a as u128, a as u128))
                    .collect(),
                Family::V6 => topo
                    .vpcs
                    .iter()
                    .flat_map(|v| v.cidrs_v6.iter())
                    .map(|n| Family::prefix_range(&ipnet::IpNet::V6(*n)))
                    .collect(),
            };
            owned.sort_unstable();
            ranges_minus(&public_ranges(fam), &owned)
        }
        Start::OnPrem(c) => {
            let mut v: Vec<(u128, u128)> = topo.vpn_connections[c]
                .prefixes
                .iter()
                .filter(|n| {
                    matches!(
                        (n, fam),
                        (ipnet::IpNet::V4(_), Family::V4) | (ipnet::IpNet::V6(_), Family::V6)
                    )
                })
                .map(Family::prefix_range)
                .collect();
            v.sort_unstable();
            v
        }
        Start::TgwAttachment(_) => vec![(0, fam.addr_max())],
    }
}

/// One walk of the matrix: a class of alike host interfaces, or one other endpoint.
enum Job {
    Class(u32),
    Single(Start),
}

/// What one job found: cells (from, to, requests) and, per endpoint it answers for, the
/// requests the analysis cannot decide.
type Row = (Vec<(usize, usize, HeaderSet)>, Vec<(usize, HeaderSet)>);

/// The reachability matrix of every host interface, the internet and the on-premises network
/// behind each VPN connection, in one family (an endpoint's traffic to itself is left out).
/// Each source is analysed over every destination at once (its walk splits by destination
/// wherever a route, rule or address tells destinations apart), and interfaces that no stage
/// tells apart but by address ([`Prepared::classes`]) share one walk. The walks are spread over
/// `threads`.
pub fn matrix(prep: &Prepared<'_>, fam: Family, threads: usize) -> Matrix {
    let topo = prep.topo;
    let host = |e: EniIdx| topo.enis[e].kind == crate::topology::EniKind::Host;
    // Application Load Balancer nodes are destinations too: a client's connection ends there
    // (its listener ports at L4); what the node then opens to targets is a connection of its own.
    let alb_node = |e: EniIdx| {
        matches!(
            topo.enis[e].kind,
            crate::topology::EniKind::ApplicationLoadBalancer(_)
        )
    };
    let mut endpoints: Vec<Endpoint> = topo
        .enis
        .indices()
        .filter(|&e| host(e) || alb_node(e))
        .map(Endpoint::Eni)
        .collect();
    endpoints.push(Endpoint::Internet);
    endpoints.extend(topo.vpn_connections.indices().map(Endpoint::OnPrem));
    let index: HashMap<Endpoint, usize> =
        endpoints.iter().enumerate().map(|(i, e)| (*e, i)).collect();
    let mut jobs: Vec<Job> = (0..prep.classes.len() as u32)
        .filter(|&k| prep.classes[k as usize].first().is_some_and(|&m| host(m)))
        .map(Job::Class)
        .collect();
    jobs.push(Job::Single(Start::Internet));
    jobs.extend(
        topo.vpn_connections
            .indices()
            .map(|c| Job::Single(Start::OnPrem(c))),
    );
    let rows = spread(&jobs, threads, |job| row(prep, fam, &index, job));
    let mut cells = Vec::new();
    let mut not_analysed = vec![HeaderSet::new(); endpoints.len()];
    for (c, u) in rows {
        cells.extend(c);
        for (i, s) in u {
            not_analysed[i] = s;
        }
    }
    cells.sort_by_key(|c| (c.0, c.1));
    Matrix {
        family: fam,
        endpoints,
        cells,
        not_analysed,
    }
}

/// Run `run` on every job over `threads` scoped threads; a worker panics only on a bug, and
/// then its rows stay out rather than taking the process down a second time.
fn spread<J: Sync, R: Send>(jobs: &[J], threads: usize, run: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let n = jobs.len();
    let threads = threads.clamp(1, n.max(1));
    let mut out = Vec::with_capacity(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let run = &run;
                scope.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|i| run(&jobs[i]))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                out.extend(done);
            }
        }
    });
    out
}

/// One job's walk, summarised into cells of the matrix.
fn row(prep: &Prepared<'_>, fam: Family, index: &HashMap<Endpoint, usize>, job: &Job) -> Row {
    let topo = prep.topo;
    // (endpoint, its source ranges) the job answers for, and its summary.
    let (sources_of, summary) = match job {
        Job::Class(k) => {
            let members: Vec<(usize, Vec<(u128, u128)>)> = prep.classes[*k as usize]
                .iter()
                .map(|&m| (index[&Endpoint::Eni(m)], sources(topo, Start::Eni(m), fam)))
                .filter(|(_, r)| !r.is_empty())
                .collect();
            let mut all: Vec<(u128, u128)> = members
                .iter()
                .flat_map(|(_, r)| r.iter().copied())
                .collect();
            all.sort_unstable();
            if all.is_empty() {
                return (Vec::new(), Vec::new());
            }
            let set = with_addresses(&universe(fam), &all, &[(0, fam.addr_max())]);
            (members, prep.analyse_class(*k, fam, &set).summary())
        }
        Job::Single(start) => {
            let src = sources(topo, *start, fam);
            if src.is_empty() {
                return (Vec::new(), Vec::new());
            }
            let from = match start {
                Start::OnPrem(c) => index[&Endpoint::OnPrem(*c)],
                _ => index[&Endpoint::Internet],
            };
            let set = with_addresses(&universe(fam), &src, &[(0, fam.addr_max())]);
            (
                vec![(from, vec![(0, fam.addr_max())])],
                prep.analyse(*start, fam, &set).summary(),
            )
        }
    };
    let d = crate::space::domain(fam);
    let only = |s: &HeaderSet, ranges: &[(u128, u128)]| -> HeaderSet {
        let mut out = HeaderSet::new();
        for &(lo, hi) in ranges {
            if let Some(b) = d.with(SRC, lo, hi) {
                out.extend_disjoint(s.intersect_box(&b));
            }
        }
        out
    };
    let mut cells: BTreeMap<(usize, usize), HeaderSet> = BTreeMap::new();
    // A flow whose flow-hash choice decides where it goes (or whether it gets through) counts
    // in the cell of every endpoint some answer reaches.
    let reached = summary
        .complete
        .iter()
        .chain(&summary.depends)
        .flat_map(|(fate, s)| fate.alternatives().iter().map(move |f| (f, s)));
    for (fate, s) in reached {
        let to = match fate {
            Fate::Delivered { eni: Some(d), .. } => index.get(&Endpoint::Eni(*d)),
            Fate::Exited { vpn: None, .. } => index.get(&Endpoint::Internet),
            Fate::Exited { vpn: Some(c), .. } => index.get(&Endpoint::OnPrem(*c)),
            _ => None,
        };
        let Some(&to) = to else { continue };
        for (from, ranges) in &sources_of {
            if *from == to {
                continue;
            }
            let mine = only(s, ranges);
            if !mine.is_empty() {
                cells.entry((*from, to)).or_default().extend_disjoint(mine);
            }
        }
    }
    let mut unknown: Vec<(usize, HeaderSet)> = Vec::new();
    for (from, ranges) in &sources_of {
        let mut u = HeaderSet::new();
        for m in [&summary.blocked, &summary.reply_blocked] {
            for (fate, s) in m {
                if matches!(fate, Fate::NotAnalysed(_)) {
                    u.extend_disjoint(only(s, ranges));
                }
            }
        }
        u.coalesce();
        unknown.push((*from, u));
    }
    let cells = cells
        .into_iter()
        .map(|((f, t), mut s)| {
            s.coalesce();
            (f, t, s)
        })
        .collect();
    (cells, unknown)
}
